r"""Bernoulli entropy, cross-entropy and KL, elementwise.

A Bernoulli variable is a categorical one with two outcomes ``(1 - p, p)``;
the measures here are written on that pair, once, in the private
``_entropy`` / ``_cross_entropy`` / ``_kl`` functions below, which
``jaxdiv.bernoulli`` reuses. Two things need more care than the categorical
formula on a stacked pair gives:

* the complement. ``1 - p`` rounded to working precision loses every digit
  of ``log(1 - p) ~ -p`` for small ``p``: the logs of the complements are
  ``log1p(-p)``, and the ratio of two complements is
  ``log1p((q - p) / (1 - q))`` (``q - p`` exact by Sterbenz's lemma) when
  they are within a factor 2 of each other. From logits the pair is
  ``(log_sigmoid(-l), log_sigmoid(l))``, exact for ``l = ±inf``, and the
  log-ratio ``log sigmoid(a) - log sigmoid(b)`` is
  ``log1p(sigmoid(-a) expm1(a - b))`` for nearby logits.
* near pairs. ``D = p log(p/q) + (1-p) log((1-p)/(1-q))`` is the sum of two
  terms of size ``|p - q|`` that cancel to a result of size ``(p - q)^2``.
  Adding ``q - p`` to the first and ``p - q`` to the second (they sum to
  zero analytically) gives two non-negative Bregman terms
  ``w expm1mx(-t) = w_q - w + w t`` with ``t = log(w / w_q)``, each accurate
  to a few ulp: no cancellation is left.

There is no event axis: the measures are elementwise. ``axis`` (default
``None``) optionally sums the elementwise values over axes, which is the
measure of a vector of independent Bernoulli variables. Probabilities
outside ``[0, 1]`` (and nan) give nan.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, primitives, value_checks
from .._core.numerics import clamp_nonnegative, expm1mx, in_base, safe_log, weighted
from .._core.types import OptionalAxis
from ..families import _common

# --------------------------------------------------------------------------
# the formulas, once, elementwise; jaxdiv.bernoulli reuses them


def valid(*ps):
    """Every probability lies in [0, 1] (nan is not)."""
    ok = jnp.ones(jnp.broadcast_shapes(*(jnp.shape(p) for p in ps)), bool)
    for p in ps:
        ok = ok & (p >= 0) & (p <= 1)
    return ok


def log1m_probs(p):
    """``log(1 - p)`` as ``log1p(-p)``: ``-inf`` at 1 with a zero gradient."""
    one = p == 1
    return jnp.where(one, -jnp.inf, jnp.log1p(-jnp.where(one, 0.0, p)))


def _bregman(w, w_q, t):
    r"""``w log(w / w_q) - w + w_q`` (>= 0) given ``t = log(w / w_q)``.

    ``w expm1mx(-t)`` near ``t = 0``, where the three terms cancel; the
    terms themselves beyond (where ``w expm1mx(-t)`` could overflow for a
    tiny ``w``). ``w_q`` at ``w = 0``, with gradient ``-1`` through ``w``
    (the zero-probability convention: the ``w log w`` part is dropped).
    ``+inf`` where ``w > 0 = w_q``.
    """
    zero = w == 0
    near = jnp.abs(t) < 0.5
    ts = jnp.where(near & ~zero, t, 0.0)
    tf = jnp.where(near | zero, 1.0, t)
    far = w_q - w + w * tf
    value = jnp.where(near, w * expm1mx(-ts), far)
    return jnp.where(zero, w_q - w, value)


def _log_ratio_probs(p, q):
    """``log(p / q)`` for ``p, q`` in [0, 1], to rounding as ``p / q -> 1``."""
    return primitives.log_ratio(p, q)


def _log_ratio_complements(p, q):
    """``log((1 - p) / (1 - q))`` without rounding ``1 - p``, ``1 - q`` first."""
    cp, cq = 1.0 - p, 1.0 - q
    near = (cp > 0.5 * cq) & (cp < 2.0 * cq)
    cq_n = jnp.where(near, cq, 1.0)
    close = jnp.log1p(jnp.where(near, q - p, 0.0) / cq_n)
    bad = cq == 0
    # both complements exact (p, q >= 1/2): the log of their quotient;
    # otherwise one complement is > 1/2 and the logs' difference is exact
    exact = (p >= 0.5) & (q >= 0.5) & ~bad & ~near
    quotient = primitives.log_ratio(
        jnp.where(exact, cp, 1.0), jnp.where(exact, cq, 1.0)
    )
    far = log1m_probs(jnp.where(bad, 0.5, p)) - log1m_probs(jnp.where(bad, 0.5, q))
    far = jnp.where(exact, quotient, far)
    far = jnp.where(bad, jnp.inf, far)
    return jnp.where(near, close, far)


def entropy_terms(p):
    h = 0.0 - weighted(p, safe_log(p)) - weighted(1.0 - p, log1m_probs(p))
    return jnp.where(valid(p), h, jnp.nan)


def cross_entropy_terms(p, q):
    ce = 0.0 - weighted(p, safe_log(q)) - weighted(1.0 - p, log1m_probs(q))
    return jnp.where(valid(p, q), ce, jnp.nan)


def kl_terms(p, q):
    ok = valid(p, q)
    p, q = jnp.where(ok, p, 0.5), jnp.where(ok, q, 0.5)
    # each Bregman term is fed safe values where its weight is 0 (its ratio
    # is then 0/0 or finite/0, and unused)
    p1 = jnp.where(p == 0, 0.5, p)
    q1 = jnp.where(p == 0, 0.5, q)
    t1 = _log_ratio_probs(p1, q1)
    p0 = jnp.where(p == 1, 0.5, p)
    q0 = jnp.where(p == 1, 0.5, q)
    t0 = _log_ratio_complements(p0, q0)
    kl = _bregman(p, q, t1) + _bregman(1.0 - p, 1.0 - q, t0)
    return jnp.where(ok, clamp_nonnegative(kl), jnp.nan)


def _log_sigmoids(logits):
    """``(log sigmoid(-l), log sigmoid(l))``, exact for ``l = ±inf``."""
    return jax.nn.log_sigmoid(-logits), jax.nn.log_sigmoid(logits)


def _log_ratio_sigmoids(a, b):
    """``log sigmoid(a) - log sigmoid(b)``, to rounding for nearby logits.

    ``sigmoid(a) / sigmoid(b) = 1 + sigmoid(-a) expm1(a - b)``.
    """
    d = a - b
    same = a == b  # equal infinities included
    near = (jnp.abs(d) <= 1.0) & ~same
    ds = jnp.where(near, d, 0.0)
    an = jnp.where(near, a, 0.0)
    close = jnp.log1p(jax.nn.sigmoid(-an) * jnp.expm1(ds))
    ls_a = jax.nn.log_sigmoid(jnp.where(same, 0.0, a))
    ls_b = jax.nn.log_sigmoid(jnp.where(same, 0.0, b))
    return jnp.where(same, 0.0, jnp.where(near, close, ls_a - ls_b))


def entropy_terms_from_logits(logits):
    lo, hi = _log_sigmoids(logits)
    return 0.0 - weighted(jnp.exp(lo), lo) - weighted(jnp.exp(hi), hi)


def cross_entropy_terms_from_logits(a, b):
    la0, la1 = _log_sigmoids(a)
    lb0, lb1 = _log_sigmoids(b)
    return 0.0 - weighted(jnp.exp(la0), lb0) - weighted(jnp.exp(la1), lb1)


def kl_terms_from_logits(a, b):
    nan = jnp.isnan(a) | jnp.isnan(b)
    a, b = jnp.where(nan, 0.0, a), jnp.where(nan, 0.0, b)
    la0, la1 = _log_sigmoids(a)
    lb0, lb1 = _log_sigmoids(b)
    # t = log(w / w_q) per outcome; safe logits where that outcome's weight
    # is 0 (the ratio is unused there)
    a1, b1 = jnp.where(a == -jnp.inf, 0.0, a), jnp.where(a == -jnp.inf, 0.0, b)
    a0, b0 = jnp.where(a == jnp.inf, 0.0, a), jnp.where(a == jnp.inf, 0.0, b)
    t1 = _log_ratio_sigmoids(a1, b1)
    t0 = _log_ratio_sigmoids(-a0, -b0)
    kl = _bregman(jnp.exp(la1), jnp.exp(lb1), t1)
    kl = kl + _bregman(jnp.exp(la0), jnp.exp(lb0), t0)
    return jnp.where(nan, jnp.nan, clamp_nonnegative(kl))


# --------------------------------------------------------------------------
# the public measures


def _inputs(name, arrays, where, fill):
    xs = checks.floatings(name, **_common.python_scalars_as_floats(arrays))
    checks.same_shape(name, **dict(zip(arrays, xs, strict=True)))
    where = checks.mask(name, where, xs[0].shape)
    for k, x in zip(arrays, xs, strict=True):
        if fill == 0.5:
            value_checks.unit_interval(name, k, x, where)
        else:
            value_checks.no_nan_or_posinf(name, k, x, where, posinf_ok=True)
    if where is not None:  # masked garbage reaches neither value nor gradient
        xs = [jnp.where(where, x, fill) for x in xs]
    return xs, where


def _reduce(name, values, axis, where, base):
    if where is not None:
        values = jnp.where(where, values, 0.0)
    if axis is not None:
        values = jnp.sum(values, axis=checks.axes(name, axis, values.ndim))
    return in_base(values, base)


def binary_entropy(
    p: ArrayLike,
    *,
    axis: OptionalAxis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Entropy of Bernoulli(``p``), elementwise.

    .. math:: h(p) = -p \log p - (1 - p) \log (1 - p)

    0 at ``p`` in {0, 1}, with a finite gradient there (``+1`` at 0, ``-1``
    at 1: the zero-probability convention drops the vanishing outcome's
    term); :math:`\log 2` at ``p = 0.5``.

    Args:
      p: success probabilities in ``[0, 1]``, any shape.
      axis: ``None`` (elementwise) or axes to sum over (independent
        variables).
      where: boolean mask broadcastable to ``p``; ``False`` entries give 0.
      base: logarithm base; ``None`` gives nats.

    Returns:
      ``p``'s shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_entropy(jnp.array([0.0, 0.5, 1.0]), base=2)
      Array([0., 1., 0.], dtype=float32)
    """
    name = "binary_entropy"
    (p,), where = _inputs(name, {"p": p}, where, 0.5)
    return _reduce(name, entropy_terms(p), axis, where, base)


def binary_cross_entropy(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: OptionalAxis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Cross-entropy between Bernoulli(``p``) and Bernoulli(``q``).

    .. math:: H(p, q) = -p \log q - (1 - p) \log (1 - q)

    ``+inf`` where ``p > 0 = q`` or ``p < 1 = q``; terms with a zero weight
    are 0 whatever the log.

    Args:
      p: target probabilities in ``[0, 1]``.
      q: predicted probabilities in ``[0, 1]``, same shape as ``p``.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_cross_entropy(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.0]))
      Array([0.6931472, 0.       ], dtype=float32)
    """
    name = "binary_cross_entropy"
    (p, q), where = _inputs(name, {"p": p, "q": q}, where, 0.5)
    return _reduce(name, cross_entropy_terms(p, q), axis, where, base)


def binary_kl_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: OptionalAxis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Bern}(p) \| \mathrm{Bern}(q))`, elementwise.

    .. math:: D = p \log \frac{p}{q} + (1 - p) \log \frac{1 - p}{1 - q}

    Never negative; 0 where ``p == q``; ``+inf`` where ``q`` puts no mass on
    an outcome ``p`` can take.

    Args:
      p: probabilities in ``[0, 1]``.
      q: probabilities in ``[0, 1]``, same shape as ``p``.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_kl_divergence(jnp.array(0.5), jnp.array(0.9)).round(4)
      Array(0.5108, dtype=float32)
    """
    name = "binary_kl_divergence"
    (p, q), where = _inputs(name, {"p": p, "q": q}, where, 0.5)
    return _reduce(name, kl_terms(p, q), axis, where, base)


def binary_entropy_from_logits(
    logits: ArrayLike,
    *,
    axis: OptionalAxis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Entropy of Bernoulli(``sigmoid(logits)``), elementwise.

    .. math:: h = -\sigma(l) \log \sigma(l) - \sigma(-l) \log \sigma(-l)

    Computed with ``log_sigmoid``: exact, finite and with finite gradients for
    ``l = ±inf`` and for large ``|l|``.

    Args:
      logits: log-odds, any shape.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to ``logits``.
      base: logarithm base; ``None`` gives nats.

    Returns:
      ``logits``' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_entropy_from_logits(jnp.array([0.0, jnp.inf]), base=2)
      Array([1., 0.], dtype=float32)
    """
    name = "binary_entropy_from_logits"
    (logits,), where = _inputs(name, {"logits": logits}, where, 0.0)
    return _reduce(name, entropy_terms_from_logits(logits), axis, where, base)


def binary_cross_entropy_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: OptionalAxis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Bernoulli cross-entropy with both probabilities given as log-odds.

    .. math:: H = -\sigma(a) \log \sigma(b) - \sigma(-a) \log \sigma(-b)

    For a hard target pass ``p_logits = ±inf``; to pass target
    probabilities use :func:`binary_cross_entropy` or
    ``jaxdiv.losses.sigmoid_binary_cross_entropy``.

    Args:
      p_logits: log-odds of the target ``p``.
      q_logits: log-odds of the prediction ``q``, same shape.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_cross_entropy_from_logits(jnp.inf, jnp.array(0.0)).round(4)
      Array(0.6931, dtype=float32)
    """
    name = "binary_cross_entropy_from_logits"
    args = {"p_logits": p_logits, "q_logits": q_logits}
    (a, b), where = _inputs(name, args, where, 0.0)
    return _reduce(name, cross_entropy_terms_from_logits(a, b), axis, where, base)


def binary_kl_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: OptionalAxis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Bernoulli KL with both probabilities given as log-odds.

    .. math:: D = \sigma(a) (\log\sigma(a) - \log\sigma(b))
       + \sigma(-a) (\log\sigma(-a) - \log\sigma(-b))

    Args:
      p_logits: log-odds of ``p``.
      q_logits: log-odds of ``q``, same shape.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_kl_divergence_from_logits(jnp.array(1.0), jnp.array(1.0))
      Array(0., dtype=float32)
    """
    name = "binary_kl_divergence_from_logits"
    args = {"p_logits": p_logits, "q_logits": q_logits}
    (a, b), where = _inputs(name, args, where, 0.0)
    return _reduce(name, kl_terms_from_logits(a, b), axis, where, base)


# --------------------------------------------------------------------------
# Two-category pairs for the sigmoid losses (jaxdiv.losses), which compute
# the Bernoulli cross-entropy as a two-class one on a trailing axis.


def pair_from_probs(name, argname, p, where):
    """``(stack([1 - p, p]), log of it)``, checked to lie in ``[0, 1]``."""
    value_checks.unit_interval(name, argname, p, where)
    two = jnp.stack([1.0 - p, p], axis=-1)
    if where is not None:
        two = jnp.where(where[..., None], two, 0.0)
    return two, safe_log(two)


def pair_from_logits(name, argname, logits, where):
    """``(probabilities, log-probabilities)`` of ``sigmoid(-x), sigmoid(x)``."""
    value_checks.no_nan_or_posinf(name, argname, logits, where, posinf_ok=True)
    if where is not None:  # masked nan would reach the gradient of log_sigmoid
        logits = jnp.where(where, logits, 0.0)
    logs = jnp.stack([jax.nn.log_sigmoid(-logits), jax.nn.log_sigmoid(logits)], -1)
    if where is not None:
        logs = jnp.where(where[..., None], logs, -jnp.inf)
    return jnp.exp(logs), logs
