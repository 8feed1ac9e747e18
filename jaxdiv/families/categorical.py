r"""Categorical distributions: the measures of :mod:`jaxdiv`, and sampling.

For symmetry with the other parametric-family modules, this module
re-exports the categorical measures (``jaxdiv.categorical.entropy is
jaxdiv.entropy``...): probability forms taking ``probs`` ``[..., k]`` and
``*_from_logits`` forms taking ``logits``, each with the keyword options
``axis``, ``where`` and ``base`` documented there. It adds :func:`log_prob`
and :func:`sample`, for the Monte-Carlo estimators of
:func:`jaxdiv.monte_carlo_kl`.
"""

from __future__ import annotations as annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike as ArrayLike

from .._core import checks as checks
from .._core import primitives as primitives
from .._core import value_checks as value_checks
from .._core.numerics import safe_log as safe_log
from .._core.types import Shape as Shape
from .._measures.categorical import cross_entropy as cross_entropy
from .._measures.categorical import (
    cross_entropy_from_logits as cross_entropy_from_logits,
)
from .._measures.categorical import entropy as entropy
from .._measures.categorical import entropy_from_logits as entropy_from_logits
from .._measures.categorical import js_distance as js_distance
from .._measures.categorical import js_distance_from_logits as js_distance_from_logits
from .._measures.categorical import js_divergence as js_divergence
from .._measures.categorical import (
    js_divergence_from_logits as js_divergence_from_logits,
)
from .._measures.categorical import kl_divergence as kl_divergence
from .._measures.categorical import (
    kl_divergence_from_logits as kl_divergence_from_logits,
)
from . import _common as _common

__all__ = [
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
    "log_prob",
    "sample",
]


def _probs(name, probs):
    probs = checks.floating(name, "probs", probs)
    ax = checks.event_axes(name, probs, -1)
    value_checks.probabilities(name, "probs", probs, ax, None)
    return probs


def log_prob(x: ArrayLike, probs: ArrayLike) -> jax.Array:
    r"""Log-probability of the category ``x`` under :math:`\mathrm{Cat}(p)`.

    .. math:: \log p(x) = \log p_x

    ``-inf`` for a category of probability 0 and for labels outside
    ``[0, k)``.

    Args:
      x: integer labels, batch axes broadcastable with ``probs``' (sample
        axes first).
      probs: probabilities, ``[..., k]`` (event axis last).

    Returns:
      The broadcast batch shape, in ``probs``' dtype.

    Raises:
      TypeError: ``x`` is not integer or ``probs`` not floating point.
      ValueError: the batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import categorical
      >>> categorical.log_prob(jnp.array([0, 1]), jnp.array([0.25, 0.75])).round(4)
      Array([-1.3863, -0.2877], dtype=float32)
    """
    name = "categorical.log_prob"
    probs = _probs(name, probs)
    x = checks.integer(name, "x", x)
    x, probs = checks.broadcast_batch(name, {"x": x, "probs": probs}, {"probs": 1})
    k = probs.shape[-1]
    inside = (x >= 0) & (x < k)
    idx = jnp.where(inside, x, 0)[..., None]
    p = jnp.take_along_axis(probs, idx, axis=-1)[..., 0]
    return jnp.where(inside, safe_log(p), -jnp.inf)


def sample(key: ArrayLike, probs: ArrayLike, *, shape: int | Shape = ()) -> jax.Array:
    r"""Draws category labels from :math:`\mathrm{Cat}(p)`.

    Not reparameterisable: no gradient flows to ``probs``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      probs: probabilities, ``[..., k]`` (event axis last).
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` int32 labels in ``[0, k)``.

    Raises:
      TypeError: ``probs`` is not floating point.
      ValueError: ``probs`` is a scalar.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jaxdiv import categorical
      >>> categorical.sample(jax.random.key(0), jnp.array([0.0, 1.0]), shape=3)
      Array([1, 1, 1], dtype=int32)
    """
    name = "categorical.sample"
    probs = _probs(name, probs)
    shape = _common.sample_shape(name, shape) + probs.shape[:-1]
    logits = safe_log(jax.lax.stop_gradient(probs))
    return jax.random.categorical(key, logits, axis=-1, shape=shape)
