"""Closed forms of the parametric families, one module per distribution.

Each module (``normal``, ``mvn``, ``laplace``, ``exponential``, ``gamma``,
``beta``, ``dirichlet``, ``poisson``, ``bernoulli``, ``categorical``) has the
same shape: ``kl_divergence``, ``cross_entropy``, ``entropy``, ``log_prob``
and ``sample`` in the family's own parameters, built with the shared
plumbing of ``_common`` (dtype and broadcasting rules, the double ``where``
outside the domain). The modules are public under their short names,
``jaxdiv.normal`` and so on, which are the same module objects.
"""

from . import bernoulli as bernoulli
from . import beta as beta
from . import categorical as categorical
from . import dirichlet as dirichlet
from . import exponential as exponential
from . import gamma as gamma
from . import laplace as laplace
from . import mvn as mvn
from . import normal as normal
from . import poisson as poisson

__all__ = [
    "bernoulli",
    "beta",
    "categorical",
    "dirichlet",
    "exponential",
    "gamma",
    "laplace",
    "mvn",
    "normal",
    "poisson",
]
