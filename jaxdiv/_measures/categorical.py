r"""Entropy, cross-entropy, KL and Jensen-Shannon on categorical distributions.

Every measure is written once, on a pair ``(p, log p)``, in
:mod:`jaxdiv._core.formulas`; the builders of :mod:`jaxdiv._core.inputs` make
that pair from probabilities (with ``safe_log``) or logits (with the masked
log-softmax), and the Bernoulli measures (``jaxdiv/_measures/bernoulli.py``)
with a two-category axis. So one formula serves every parameterisation. The
KL from two sets of logits is the fused kernel of :mod:`jaxdiv._core.kernels`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import formulas, inputs, kernels
from .._core.numerics import (
    in_base,
    log_mix,
    safe_log,
    safe_sqrt,
)
from .._core.types import Axis

_kl_from_logits_kernel = jax.jit(kernels.kl_from_logits, static_argnums=(0, 1))
# one compiled program, so that an eager call gives the bits of a jitted one
# (op-by-op dispatch would round the Bregman series' multiply-adds apart)
_kl_of_probs = jax.jit(formulas.kl_of_probs, static_argnums=(4,))

# --------------------------------------------------------------------------
# Jensen-Shannon: the mixture and its near-entry refinement


def _check_weight(name, weight):
    if isinstance(weight, int | float) and not 0.0 <= weight <= 1.0:
        raise ValueError(f"jaxdiv.{name}: weight must lie in [0, 1], got {weight}.")


def _js_probs(name, p, q, weight, axis, where):
    _check_weight(name, weight)
    p, logp, q, logq, ax = inputs.two_probs(name, p, q, axis, where)
    w = jnp.asarray(weight, p.dtype)
    m = w * p + (1.0 - w) * q  # exact at p == q, so JS(p, p) is exactly 0
    # where w * p underflows (flushed subnormals) take log m in log space
    logm = jnp.where(m > 0, safe_log(m), log_mix(logp, logq, w))
    # near entries: log(p / m) = -log1p((1 - w)(q - p) / p), q - p exact
    both = (p > 0) & (q > 0)
    # (the mask before the quotients: an unselected (p - q) / q at q = 1e-37
    # has an infinite derivative, and nan gradients)
    close = both & (jnp.abs(q - p) <= 0.25 * jnp.minimum(p, q))
    ps, qs = jnp.where(close, p, 1.0), jnp.where(close, q, 1.0)
    y_p = -jnp.log1p((1.0 - w) * (qs - ps) / ps)
    y_q = -jnp.log1p(w * (ps - qs) / qs)
    return formulas.js(p, logp, q, logq, logm, w, ax, near=(close, y_p, y_q))


def _js_logits(name, p_logits, q_logits, weight, axis, where, axis_name):
    _check_weight(name, weight)
    t = inputs.near_logit_pair(name, p_logits, q_logits, axis, where, axis_name)
    w = jnp.asarray(weight, t.p.dtype)
    logm = log_mix(t.logp, t.logq, w)
    y_p = -jnp.log1p((1.0 - w) * jnp.expm1(t.diff))
    y_q = -jnp.log1p(w * jnp.expm1(-t.diff))
    near = (t.close, y_p, y_q)
    return formulas.js(t.p, t.logp, t.q, t.logq, logm, w, t.ax, axis_name, near=near)


# --------------------------------------------------------------------------
# public measures, probability form


def entropy(
    p: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Shannon entropy of categorical distributions.

    .. math:: H(p) = -\sum_i p_i \log p_i

    with :math:`0 \log 0 = 0`, so a one-hot has entropy exactly 0. The
    gradient through an entry with :math:`p_i = 0` is 0.

    Args:
      p: probabilities, shape ``[..., n]``; the event axis sums to 1.
      axis: event axis (int or tuple of ints) that is reduced.
      where: boolean mask broadcastable to ``p``; ``False`` entries are
        outside the support and change neither value nor gradient.
      base: logarithm base; ``None`` gives nats, ``2`` bits.

    Returns:
      ``p``'s shape without the event axes; float32 for 16-bit input.

    Raises:
      TypeError: ``p`` is not floating point.
      ValueError: ``axis`` out of range or ``where`` not broadcastable.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.entropy(jnp.array([0.5, 0.5]), base=2)
      Array(1., dtype=float32)
      >>> jaxdiv.entropy(jnp.array([[1.0, 0.0], [0.25, 0.75]])).round(4)
      Array([0.    , 0.5623], dtype=float32)

    References:
      Shannon, `A Mathematical Theory of Communication
      <https://doi.org/10.1002/j.1538-7305.1948.tb01338.x>`_, 1948.
    """
    p, logp, ax = inputs.one_prob("entropy", p, axis, where)
    return in_base(formulas.entropy(p, logp, ax), base)


def cross_entropy(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Cross-entropy of ``q`` relative to ``p``.

    .. math:: H(p, q) = -\sum_i p_i \log q_i = H(p) + D_{KL}(p \| q)

    Terms with :math:`p_i = 0` are 0 whatever :math:`q_i` is; :math:`p_i > 0`
    where :math:`q_i = 0` gives ``+inf`` (never nan).

    Args:
      p: probabilities, shape ``[..., n]`` (the "true" distribution).
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs; ``False`` entries are
        ignored, whatever they hold.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The batch shape (inputs without the event axes).

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.cross_entropy(p, q).round(4)
      Array(1.2040, dtype=float32)
      >>> jaxdiv.cross_entropy(jnp.array([0.5, 0.5]), jnp.array([1.0, 0.0]))
      Array(inf, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    p, _, q, logq, ax = inputs.two_probs("cross_entropy", p, q, axis, where)
    return in_base(formulas.cross_entropy(p, logq, ax), base)


def kl_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Kullback-Leibler divergence :math:`D_{KL}(p \| q)`, in math order.

    .. math:: D_{KL}(p \| q) = \sum_i p_i \log \frac{p_i}{q_i}

    :math:`0 \log(0/q) = 0` for every ``q`` (0 included); ``+inf`` where
    :math:`p_i > 0 = q_i`. Never negative: rounding-level negatives are
    clamped to 0, so :math:`D(p \| p) = 0`. At :math:`p_i = 0` the gradient
    through :math:`p_i` is 0 (as ``jax.scipy.special.rel_entr``).

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.kl_divergence(p, q).round(4)
      Array(0.5108, dtype=float32)
      >>> jaxdiv.kl_divergence(q, p).round(4)  # not symmetric
      Array(0.3681, dtype=float32)

    References:
      Kullback and Leibler, `On Information and Sufficiency
      <https://doi.org/10.1214/aoms/1177729694>`_, 1951.
    """
    p, logp, q, logq, ax = inputs.two_probs("kl_divergence", p, q, axis, where)
    return in_base(_kl_of_probs(p, logp, q, logq, ax), base)


def js_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    weight: float = 0.5,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Jensen-Shannon divergence with mixture weight ``weight``.

    .. math::
       m = w p + (1 - w) q, \qquad
       JS_w(p, q) = w D_{KL}(p \| m) + (1 - w) D_{KL}(q \| m)

    Symmetric at ``w = 0.5`` (then bounded by :math:`\log 2`); in general
    bounded by the binary entropy of ``w``. Always finite.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      weight: mixture weight ``w`` of ``p``, in ``[0, 1]``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats, ``2`` gives values in [0, 1].

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes, or a Python ``weight`` outside ``[0, 1]``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.js_divergence(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), base=2)
      Array(1., dtype=float32)

    References:
      Lin, `Divergence measures based on the Shannon entropy
      <https://doi.org/10.1109/18.61115>`_, 1991.
    """
    return in_base(_js_probs("js_divergence", p, q, weight, axis, where), base)


def js_distance(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Jensen-Shannon distance, the square root of :func:`js_divergence`.

    .. math:: d_{JS}(p, q) = \sqrt{JS_{1/2}(p, q)}

    A metric, as ``scipy.spatial.distance.jensenshannon`` (which, unlike this
    function, also renormalises its inputs). Its gradient at ``p = q`` is
    taken as 0 (the square root has no derivative there).

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base of the divergence under the root.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.js_distance(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.5])).round(4)
      Array(0.4645, dtype=float32)

    References:
      Endres and Schindelin, `A new metric for probability distributions
      <https://doi.org/10.1109/TIT.2003.813506>`_, 2003.
    """
    return safe_sqrt(in_base(_js_probs("js_distance", p, q, 0.5, axis, where), base))


# --------------------------------------------------------------------------
# public measures, logits form


def entropy_from_logits(
    logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    r"""Entropy of ``softmax(logits)``, computed in log space.

    .. math:: H = -\sum_i p_i \log p_i, \qquad \log p = \mathrm{log\_softmax}(\ell)

    ``-inf`` logits mark impossible categories (0 contribution, gradient 0);
    a row of only ``-inf`` (or fully masked) is padding: 0 with gradient 0.

    Args:
      logits: unnormalised log-probabilities, shape ``[..., n]``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries are left out of the softmax too.
      base: logarithm base; ``None`` gives nats.
      axis_name: inside ``shard_map``, the mesh axis across which the event
        axis is split (vocabulary parallelism); every device gets the value
        of the whole distribution.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.entropy_from_logits(jnp.array([0.0, 0.0, -jnp.inf]), base=2)
      Array(1., dtype=float32)
    """
    p, logp, ax = inputs.one_logits(
        "entropy_from_logits", logits, axis, where, axis_name
    )
    return in_base(formulas.entropy(p, logp, ax, axis_name), base)


def cross_entropy_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q)` with both distributions given as logits.

    .. math:: H(p, q) = -\sum_i p_i \log q_i, \qquad
       p = \mathrm{softmax}(\ell_p),\ q = \mathrm{softmax}(\ell_q)

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: logarithm base; ``None`` gives nats.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.cross_entropy_from_logits(jnp.zeros(4), jnp.zeros(4)).round(4)
      Array(1.3863, dtype=float32)
    """
    p, _, _, logq, ax = inputs.two_logits(
        "cross_entropy_from_logits", p_logits, q_logits, axis, where, axis_name
    )
    return in_base(formulas.cross_entropy(p, logq, ax, axis_name), base)


def kl_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    r""":math:`D_{KL}(p \| q)` with both distributions given as logits.

    .. math:: D_{KL}(p \| q) = \sum_i p_i (\log p_i - \log q_i)

    Computed from log-softmaxes, never from probabilities, so it stays
    accurate for peaked distributions. ``-inf`` in ``q_logits`` where ``p``
    has mass gives ``+inf``.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: logarithm base; ``None`` gives nats.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p_logits = jnp.log(jnp.array([0.5, 0.5]))
      >>> q_logits = jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.kl_divergence_from_logits(p_logits, q_logits).round(4)
      Array(0.5108, dtype=float32)
    """
    name = "kl_divergence_from_logits"
    a, b, ax, where = inputs.logit_pair(name, p_logits, q_logits, axis, where)
    if where is not None:  # outside the support of both softmaxes
        a = jnp.where(where, a, -jnp.inf)
        b = jnp.where(where, b, -jnp.inf)
    # formulas.kl on the two log-softmaxes, fused (same numbers and edges, tested
    # against it): no log-softmax is materialised, see jaxdiv.kernels.
    # compiled as one unit eagerly too, so eager, jit and vmap agree bit for bit
    return in_base(_kl_from_logits_kernel(ax, axis_name, a, b), base)


def js_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    weight: float = 0.5,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    r"""Jensen-Shannon divergence with both distributions given as logits.

    .. math:: \log m = \mathrm{logaddexp}(\log w + \log p, \log(1 - w) + \log q),
       \quad JS_w = w D_{KL}(p \| m) + (1 - w) D_{KL}(q \| m)

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      weight: mixture weight ``w`` of ``p``, in ``[0, 1]``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: logarithm base; ``None`` gives nats.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.array([0.0, -jnp.inf]), jnp.array([-jnp.inf, 0.0])
      >>> jaxdiv.js_divergence_from_logits(a, b, base=2)
      Array(1., dtype=float32)
    """
    js = _js_logits(
        "js_divergence_from_logits", p_logits, q_logits, weight, axis, where, axis_name
    )
    return in_base(js, base)


def js_distance_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    r"""Jensen-Shannon distance :math:`\sqrt{JS_{1/2}}` from logits.

    .. math:: d_{JS}(p, q) = \sqrt{JS_{1/2}(\mathrm{softmax}(\ell_p),
       \mathrm{softmax}(\ell_q))}

    The gradient at ``p = q`` is taken as 0.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: logarithm base of the divergence under the root.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.js_distance_from_logits(jnp.zeros(3), jnp.zeros(3))
      Array(0., dtype=float32)
    """
    js = _js_logits(
        "js_distance_from_logits", p_logits, q_logits, 0.5, axis, where, axis_name
    )
    return safe_sqrt(in_base(js, base))
