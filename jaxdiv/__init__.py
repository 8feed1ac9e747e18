"""jaxdiv: entropies and divergences for JAX, exact at the edges.

Measures (``jaxdiv.*``) are in math order and reduce the event axis; losses
(``jaxdiv.losses``) are drop-ins for ``optax.losses``. See ``docs/api.md``.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._binary import binary_cross_entropy as binary_cross_entropy
from ._binary import (
    binary_cross_entropy_from_logits as binary_cross_entropy_from_logits,
)
from ._binary import binary_entropy as binary_entropy
from ._binary import binary_entropy_from_logits as binary_entropy_from_logits
from ._binary import binary_kl_divergence as binary_kl_divergence
from ._binary import (
    binary_kl_divergence_from_logits as binary_kl_divergence_from_logits,
)
from ._categorical import cross_entropy as cross_entropy
from ._categorical import cross_entropy_from_logits as cross_entropy_from_logits
from ._categorical import entropy as entropy
from ._categorical import entropy_from_logits as entropy_from_logits
from ._categorical import js_distance as js_distance
from ._categorical import js_distance_from_logits as js_distance_from_logits
from ._categorical import js_divergence as js_divergence
from ._categorical import js_divergence_from_logits as js_divergence_from_logits
from ._categorical import kl_divergence as kl_divergence
from ._categorical import kl_divergence_from_logits as kl_divergence_from_logits
from ._checks import value_checks as value_checks

try:
    __version__ = _version("jaxdiv")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_from_logits",
    "binary_entropy",
    "binary_entropy_from_logits",
    "binary_kl_divergence",
    "binary_kl_divergence_from_logits",
    "cross_entropy",
    "cross_entropy_from_logits",
    "entropy",
    "entropy_from_logits",
    "js_distance",
    "js_distance_from_logits",
    "js_divergence",
    "js_divergence_from_logits",
    "kl_divergence",
    "kl_divergence_from_logits",
    "value_checks",
]
