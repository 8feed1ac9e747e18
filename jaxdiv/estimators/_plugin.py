"""Plug-in (maximum-likelihood) entropy and mutual information from counts,
with the Miller-Madow bias correction. Built on the measures
``jaxdiv.entropy`` and ``jaxdiv.mutual_information``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks
from .._core.numerics import in_base
from .._core.primitives import div
from .._measures.categorical import entropy as _entropy
from .._measures.information import mutual_information as _mutual_information

CORRECTIONS = (None, "miller_madow")


def _counts(name: str, counts: ArrayLike, min_ndim: int) -> jax.Array:
    c = jnp.asarray(counts)
    if not (
        jnp.issubdtype(c.dtype, jnp.integer) or jnp.issubdtype(c.dtype, jnp.floating)
    ):
        raise TypeError(
            f"jaxdiv.{name}: counts must be integer or floating, got dtype {c.dtype} "
            f"with shape {c.shape}."
        )
    if c.ndim < min_ndim:
        raise ValueError(
            f"jaxdiv.{name}: counts must have at least {min_ndim} axes, got shape "
            f"{c.shape}."
        )
    if jnp.issubdtype(c.dtype, jnp.integer) or jnp.finfo(c.dtype).bits < 32:
        return c.astype(jnp.result_type(float))  # float32, or float64 under x64
    return c


def _occupied(c: jax.Array, axis) -> jax.Array:
    return jnp.sum((c > 0).astype(c.dtype), axis=axis)


def _normalise(c: jax.Array, axis) -> tuple[jax.Array, jax.Array]:
    total = jnp.sum(c, axis=axis, keepdims=True)
    safe = jnp.where(total > 0, total, 1.0)
    # div: the quotient's derivative without 1 / total**2 (which underflows
    # at counts of 1e-30 and turns the gradient into -inf)
    return div(c, safe), jnp.squeeze(total, axis)


def _miller_madow(bins: jax.Array, total: jax.Array) -> jax.Array:
    """``(m - 1) / (2 N)``, 0 for an empty table."""
    safe = jnp.where(total > 0, total, 1.0)
    return jnp.where(total > 0, div(bins - 1.0, 2.0 * safe), 0.0)


def plugin_entropy(
    counts: ArrayLike,
    *,
    correction: str | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Plug-in entropy of a discrete sample from its histogram of counts.

    .. math::
       \hat H = -\sum_i \frac{c_i}{N} \log \frac{c_i}{N}, \qquad
       \hat H_{MM} = \hat H + \frac{m - 1}{2N}

    with :math:`N = \sum_i c_i` and :math:`m` the number of non-empty bins
    (``correction="miller_madow"``, which removes the :math:`O(1/N)` bias
    of the plug-in estimate). Empty bins contribute 0; an all-zero row
    (no samples) has entropy 0.

    Args:
      counts: non-negative counts, integer or floating, shape ``[..., K]``;
        the last axis holds the bins, the others are batch axes.
      correction: ``None`` or ``"miller_madow"``.
      base: logarithm base; ``None`` gives nats, ``2`` bits.

    Returns:
      The batch shape ``[...]``.

    Raises:
      TypeError: non-numeric counts.
      ValueError: scalar counts, an unknown ``correction``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> counts = jnp.array([5, 3, 0, 2])
      >>> print(round(float(jaxdiv.estimators.plugin_entropy(counts)), 4))
      1.0297
      >>> mm = jaxdiv.estimators.plugin_entropy(counts, correction="miller_madow")
      >>> print(round(float(mm), 4))  # + (3 - 1) / (2 * 10)
      1.1297

    References:
      Miller, Note on the bias of information estimates, in *Information
      Theory in Psychology*, 1955; Paninski, `Estimation of entropy and
      mutual information <https://doi.org/10.1162/089976603321780272>`_, 2003.
    """
    name = "estimators.plugin_entropy"
    correction = checks.choice(name, "correction", correction, CORRECTIONS)
    c = _counts(name, counts, 1)
    p, total = _normalise(c, -1)
    h = _entropy(p, axis=-1)
    if correction == "miller_madow":
        h = h + _miller_madow(_occupied(c, -1), total)
    return in_base(h, base)


def plugin_mutual_information(
    joint_counts: ArrayLike,
    *,
    correction: str | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Plug-in mutual information of paired discrete samples from their counts.

    .. math::
       \hat I = \sum_{x, y} \hat p(x, y) \log
       \frac{\hat p(x, y)}{\hat p(x)\, \hat p(y)}, \qquad
       \hat I_{MM} = \hat I + \frac{(m_x - 1) + (m_y - 1) - (m_{xy} - 1)}{2N}

    with :math:`\hat p = c / N` and :math:`m_x, m_y, m_{xy}` the numbers of
    non-empty rows, columns and cells: the Miller-Madow correction of
    :math:`\hat H(X) + \hat H(Y) - \hat H(X, Y)`. The uncorrected estimate
    is never negative (computed as a KL, ``jaxdiv.mutual_information``);
    the corrected one can be.

    Args:
      joint_counts: non-negative counts :math:`c(x, y)`, shape
        ``[..., n_x, n_y]``; leading axes are batch axes.
      correction: ``None`` or ``"miller_madow"``.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The batch shape ``[...]``.

    Raises:
      TypeError: non-numeric counts.
      ValueError: fewer than two axes, an unknown ``correction``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> same = jnp.array([[50, 0], [0, 50]])  # Y = X, a fair bit
      >>> float(jaxdiv.estimators.plugin_mutual_information(same, base=2))
      1.0

    References:
      Miller, Note on the bias of information estimates, 1955; Paninski,
      `Estimation of entropy and mutual information
      <https://doi.org/10.1162/089976603321780272>`_, 2003.
    """
    name = "estimators.plugin_mutual_information"
    correction = checks.choice(name, "correction", correction, CORRECTIONS)
    c = _counts(name, joint_counts, 2)
    p, total = _normalise(c, (-2, -1))
    mi = _mutual_information(p, axis=(-2, -1))
    if correction == "miller_madow":
        m_x = _occupied(jnp.sum(c, axis=-1), -1)
        m_y = _occupied(jnp.sum(c, axis=-2), -1)
        m_xy = _occupied(c, (-2, -1))
        mi = mi + _miller_madow(m_x + m_y - m_xy, total)
    return in_base(mi, base)
