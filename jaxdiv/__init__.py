"""jaxdiv: entropies and divergences for JAX, exact at the edges.

Measures (``jaxdiv.*``) are in math order and reduce the event axis; losses
(``jaxdiv.losses``) are drop-ins for ``optax.losses``. See ``docs/api.md``.
"""

import sys as _sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import estimators as estimators
from . import families as families
from . import fused as fused
from . import losses as losses
from ._core.value_checks import value_checks as value_checks
from ._measures.bernoulli import binary_cross_entropy as binary_cross_entropy
from ._measures.bernoulli import (
    binary_cross_entropy_from_logits as binary_cross_entropy_from_logits,
)
from ._measures.bernoulli import binary_entropy as binary_entropy
from ._measures.bernoulli import (
    binary_entropy_from_logits as binary_entropy_from_logits,
)
from ._measures.bernoulli import binary_kl_divergence as binary_kl_divergence
from ._measures.bernoulli import (
    binary_kl_divergence_from_logits as binary_kl_divergence_from_logits,
)
from ._measures.categorical import cross_entropy as cross_entropy
from ._measures.categorical import (
    cross_entropy_from_logits as cross_entropy_from_logits,
)
from ._measures.categorical import entropy as entropy
from ._measures.categorical import entropy_from_logits as entropy_from_logits
from ._measures.categorical import js_distance as js_distance
from ._measures.categorical import js_distance_from_logits as js_distance_from_logits
from ._measures.categorical import js_divergence as js_divergence
from ._measures.categorical import (
    js_divergence_from_logits as js_divergence_from_logits,
)
from ._measures.categorical import kl_divergence as kl_divergence
from ._measures.categorical import (
    kl_divergence_from_logits as kl_divergence_from_logits,
)
from ._measures.f_divergences import chi_squared_divergence as chi_squared_divergence
from ._measures.f_divergences import (
    chi_squared_divergence_from_logits as chi_squared_divergence_from_logits,
)
from ._measures.f_divergences import f_divergence as f_divergence
from ._measures.f_divergences import (
    f_divergence_from_logits as f_divergence_from_logits,
)
from ._measures.f_divergences import hellinger_distance as hellinger_distance
from ._measures.f_divergences import (
    hellinger_distance_from_logits as hellinger_distance_from_logits,
)
from ._measures.f_divergences import (
    total_variation_distance as total_variation_distance,
)
from ._measures.f_divergences import (
    total_variation_distance_from_logits as total_variation_distance_from_logits,
)
from ._measures.information import conditional_entropy as conditional_entropy
from ._measures.information import (
    conditional_entropy_from_logits as conditional_entropy_from_logits,
)
from ._measures.information import mutual_information as mutual_information
from ._measures.information import (
    mutual_information_from_logits as mutual_information_from_logits,
)
from ._measures.information import perplexity as perplexity
from ._measures.information import perplexity_from_logits as perplexity_from_logits
from ._measures.information import (
    perplexity_with_integer_labels as perplexity_with_integer_labels,
)
from ._measures.montecarlo import monte_carlo_kl as monte_carlo_kl
from ._measures.orders import alpha_divergence as alpha_divergence
from ._measures.orders import (
    alpha_divergence_from_logits as alpha_divergence_from_logits,
)
from ._measures.orders import renyi_divergence as renyi_divergence
from ._measures.orders import (
    renyi_divergence_from_logits as renyi_divergence_from_logits,
)
from ._measures.orders import renyi_entropy as renyi_entropy
from ._measures.orders import renyi_entropy_from_logits as renyi_entropy_from_logits
from ._measures.orders import tsallis_entropy as tsallis_entropy
from ._measures.orders import tsallis_entropy_from_logits as tsallis_entropy_from_logits
from .families import bernoulli as bernoulli
from .families import beta as beta
from .families import categorical as categorical
from .families import dirichlet as dirichlet
from .families import exponential as exponential
from .families import gamma as gamma
from .families import laplace as laplace
from .families import mvn as mvn
from .families import normal as normal
from .families import poisson as poisson

# The families live in jaxdiv/families/; their public paths are the short ones
# (``import jaxdiv.normal``, ``from jaxdiv.normal import kl_divergence``), so
# each is registered under ``jaxdiv.<name>`` too: the same module object.
for _name in families.__all__:
    _sys.modules[f"{__name__}.{_name}"] = getattr(families, _name)
del _name

try:
    __version__ = _version("jaxdiv")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "alpha_divergence",
    "alpha_divergence_from_logits",
    "bernoulli",
    "beta",
    "binary_cross_entropy",
    "binary_cross_entropy_from_logits",
    "binary_entropy",
    "binary_entropy_from_logits",
    "binary_kl_divergence",
    "binary_kl_divergence_from_logits",
    "categorical",
    "chi_squared_divergence",
    "chi_squared_divergence_from_logits",
    "conditional_entropy",
    "conditional_entropy_from_logits",
    "cross_entropy",
    "cross_entropy_from_logits",
    "dirichlet",
    "entropy",
    "entropy_from_logits",
    "estimators",
    "exponential",
    "f_divergence",
    "f_divergence_from_logits",
    "fused",
    "gamma",
    "hellinger_distance",
    "hellinger_distance_from_logits",
    "js_distance",
    "js_distance_from_logits",
    "js_divergence",
    "js_divergence_from_logits",
    "kl_divergence",
    "kl_divergence_from_logits",
    "laplace",
    "losses",
    "monte_carlo_kl",
    "mutual_information",
    "mutual_information_from_logits",
    "mvn",
    "normal",
    "perplexity",
    "perplexity_from_logits",
    "perplexity_with_integer_labels",
    "poisson",
    "renyi_divergence",
    "renyi_divergence_from_logits",
    "renyi_entropy",
    "renyi_entropy_from_logits",
    "total_variation_distance",
    "total_variation_distance_from_logits",
    "tsallis_entropy",
    "tsallis_entropy_from_logits",
    "value_checks",
]
