"""The measures, each written once, on ``(p, log p)`` pairs.

The builders of :mod:`jaxdiv._core.inputs` turn probabilities (with
:func:`~jaxdiv._core.numerics.safe_log`), logits (with the masked
log-softmax) or Bernoulli parameters (with a two-category axis) into these
pairs, so one formula serves every parameterisation.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from .numerics import (
    clamp_nonnegative,
    clamp_to_bound,
    event_sum,
    exp_bregman_x,
    expm1mx,
    linear_weighted,
    safe_log,
    safe_sqrt,
    square_over,
    weighted,
)

# --------------------------------------------------------------------------
# the formulas, once, on (p, log p) pairs


def entropy(p, logp, ax, axis_name=None):
    return 0.0 - event_sum(weighted(p, logp), ax, axis_name)


def cross_entropy(p, logq, ax, axis_name=None):
    return 0.0 - event_sum(weighted(p, logq), ax, axis_name)


def cross_entropy_of_targets(p, logq, ax, axis_name=None):
    """:func:`cross_entropy` with the derivative in ``p`` kept where finite.

    The value is the same (``-sum p log q``, ``0 log 0 = 0``); the derivative
    in ``p`` is ``-log q_i`` also at ``p_i = 0``, where :func:`cross_entropy`
    zeroes it. The losses' targets use it: optax's tests check the label
    gradient, which must be the true one.
    """
    return 0.0 - event_sum(linear_weighted(p, logq), ax, axis_name)


def kl_sum(p, logp, logq, ax, axis_name=None):
    return event_sum(weighted(p, logp - logq), ax, axis_name)


def kl(p, logp, logq, ax, axis_name=None):
    """The KL sum, never negative for distributions.

    Only rounding-level negatives are clamped (32 eps of the terms'
    magnitude): a clearly negative sum means ``q`` (or ``p``) is not
    normalised, logits passed for log-probabilities say, and stays visible
    rather than a silent 0 with zero gradient. A ``where`` mask changes
    nothing here: the masked value equals the value on the kept entries
    alone (boolean indexing), as in optax.
    """
    kl = kl_sum(p, logp, logq, ax, axis_name)
    scale = event_sum(
        weighted(p, jnp.abs(logp)) + weighted(p, jnp.abs(logq)), ax, axis_name
    )
    return clamp_nonnegative(kl, scale)


def kl_of_probs(p, logp, q, logq, ax, axis_name=None):
    r"""The KL sum from probabilities, free of cancellation for near pairs.

    ``sum p log(p / q)`` loses ``eps * |log p|`` on every term, which is the
    whole of a divergence of ``1e-7`` in float32. Entries where ``p`` and ``q``
    are normal floats within 25 % of each other are written as
    :math:`p \log(p/q) = p\,\phi(w) - (q - p)`, with ``w = (q - p) / p``
    (the subtraction is exact) and :math:`\phi(w) = w - \log(1 + w) \ge 0`
    (``expm1mx(-r)``, ``r = -log1p(w)``): the non-negative Bregman terms are
    summed apart from the exact differences ``q - p``, so nearby
    distributions keep full relative precision and ``D(p || p)`` is exactly
    0. The other entries are :func:`kl`'s. The identity needs no
    normalisation, so the value is that of the given numbers.
    """
    tiny = jnp.finfo(p.dtype).tiny
    both = (p >= tiny) & (q >= tiny)
    ps, qs = jnp.where(both, p, 1.0), jnp.where(both, q, 1.0)
    close = both & (jnp.abs(qs - ps) <= 0.25 * ps)
    diff = jnp.where(close, qs - ps, 0.0)
    r = -jnp.log1p(diff / jnp.where(close, ps, 1.0))  # log(p / q)
    bregman = jnp.where(close, ps, 0.0) * expm1mx(-r)
    direct = weighted(jnp.where(close, 0.0, p), logp - jnp.where(close, logp, logq))
    kl = event_sum(bregman + direct, ax, axis_name) - event_sum(diff, ax, axis_name)
    scale = event_sum(
        weighted(p, jnp.abs(logp)) + weighted(p, jnp.abs(logq)), ax, axis_name
    )
    return clamp_nonnegative(kl, scale)


def js(p, logp, q, logq, logm, weight, ax, axis_name=None, near=None):
    """``w KL(p || m) + (1 - w) KL(q || m)`` on the pairs, entry by entry.

    ``near``, when given, is ``(mask, y_p, y_q)`` with ``y = log(p / m)`` and
    ``log(q / m)`` accurate to rounding where ``mask``: there the entry is
    summed as ``m (w k(y_p) + (1 - w) k(y_q))``, ``k(y) = e^y (y - 1) + 1``,
    which equals ``w p log(p/m) + (1 - w) q log(q/m)`` (the linear terms
    ``m - w p - (1 - w) q`` vanish entry by entry) without cancellation, so
    nearby distributions keep full relative precision and ``JS(p, p)`` is
    exactly 0 with zero gradient.
    """
    w = jnp.asarray(weight, p.dtype)
    # At w = 0 (or 1) the unused KL may be +inf: zero its probabilities, not
    # just its weight, so neither the value nor the gradient sees 0 * inf.
    p = jnp.where(w == 0, 0.0, p)
    q = jnp.where(w == 1, 0.0, q)
    terms = w * weighted(p, logp - logm) + (1.0 - w) * weighted(q, logq - logm)
    if near is not None:
        mask, y_p, y_q = near
        y_p = jnp.where(mask, y_p, 0.0)
        y_q = jnp.where(mask, y_q, 0.0)
        m = jnp.exp(jnp.where(mask, logm, 0.0))
        close = m * (w * exp_bregman_x(y_p) + (1.0 - w) * exp_bregman_x(y_q))
        terms = jnp.where(mask, close, terms)
    # Only the total is clamped: with a `where` mask on probabilities the rows
    # are sub-normalised and one KL term alone may be negative. The bound is
    # the binary entropy of w (log 2 at w = 1/2, so 1 bit exactly in base 2).
    bound = 0.0 - weighted(w, safe_log(w)) - weighted(1.0 - w, safe_log(1.0 - w))
    return jnp.minimum(clamp_nonnegative(event_sum(terms, ax, axis_name)), bound)


# --------------------------------------------------------------------------
# the sum-form divergences on (p, log p, q, log q)


def _f_over_exp(f, d):
    """``f(t) / t`` at ``t = e^d``, differentiated as ``(f'(t) - f(t) / t) dd``.

    JAX's rule goes through ``dt = t dd``: at ``p = 1e-20``, ``q = 1e-30`` the
    tangent ``dd = dp / p`` is 1e20, ``dt`` 1e30, and the quotient rule's
    ``f(t) dt`` overflows float32 although the derivative itself is 1e20.
    Values that ``f`` closes over (traced ones included) are passed on
    explicitly, with their own derivative ``(df / dc) / t``.
    """
    conv, consts = jax.closure_convert(f, d)
    return _f_over_exp_of(conv, d, *consts)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _f_over_exp_of(f, d, *consts):
    t = jnp.exp(d)
    return f(t, *consts) / t


@_f_over_exp_of.defjvp
def _f_over_exp_jvp(f, primals, tangents):
    d, *consts = primals
    dd, *dconsts = tangents
    t = jnp.exp(d)
    ft, dft = jax.jvp(lambda x: f(x, *consts), (t,), (jnp.ones_like(t),))
    g = ft / t
    out = (dft - g) * dd
    if consts:
        _, dfc = jax.jvp(lambda *c: f(t, *c), tuple(consts), tuple(dconsts))
        out = out + dfc / t
    return g, out


def f_divergence(f, slope, p, lp, q, lq, ax, axis_name=None):
    r"""``sum q f(p / q)`` with the perspective's limits (see f_divergence)."""
    slope = jnp.asarray(jnp.inf if slope is None else slope, p.dtype)
    # f(0) from a constant: f's derivative at 0 (often infinite) never meets
    # the zero tangent of an entry with p = 0
    f0 = f(jnp.zeros((), p.dtype))
    sp, sq = lp != -jnp.inf, lq != -jnp.inf
    both = sp & sq
    d = jnp.where(both, lp - lq, 0.0)  # log(p / q), computed in log space
    # exp(d) only where it stays finite: an overflowing exp meeting a zero
    # cotangent would make the gradient nan (a logit gap of 100, say)
    in_range = d < math.log(jnp.finfo(p.dtype).max)
    t = jnp.exp(jnp.where(in_range, d, 0.0))
    # nan stays nan (a nan log-ratio is not "beyond the float range")
    t = jnp.where(in_range, t, jnp.where(jnp.isnan(d), d, jnp.inf))
    hi = both & (d > 0)  # p > q: p f(t) / t, which needs no q
    zero = (sq & ~sp) | (both & (t == 0))  # p = 0 (or p / q underflows): q f(0)
    lo = both & ~hi & ~zero  # 0 < p <= q (and nan): q f(t)
    v_lo = weighted(q, f(jnp.where(lo, t, 1.0)))
    v_zero = weighted(q, jnp.where(zero, f0, 0.0))
    finite = hi & in_range
    d_hi = jnp.where(finite, d, 0.0)
    # beyond the float range of p / q, and where q = 0 < p: the slope of f
    # at infinity (selected inside weighted: an unselected inf slope must
    # not meet a zero cotangent)
    beyond = (hi & ~finite) | (sp & ~sq)
    ratio = jnp.where(finite, _f_over_exp(f, d_hi), jnp.where(beyond, slope, 0.0))
    v = jnp.where(hi | beyond, weighted(p, ratio), 0.0)
    v = jnp.where(lo, v_lo, jnp.where(zero, v_zero, v))
    return clamp_nonnegative(event_sum(v, ax, axis_name))


def hellinger(root_diff, ax, axis_name=None):
    """``sqrt(sum (sqrt p - sqrt q)^2 / 2)`` from the roots' differences.

    The callers form ``sqrt p - sqrt q`` without cancellation where ``p`` and
    ``q`` are close: ``(p - q) / (sqrt p + sqrt q)`` from probabilities (the
    subtraction is exact), ``-sqrt p expm1(log(q / p) / 2)`` from logits;
    the difference of two rounded roots loses ``eps / |p - q|`` of it.
    Clamped to its bound 1, which the inputs' rounding can pass.
    """
    h2 = 0.5 * event_sum(jnp.square(root_diff), ax, axis_name)
    return clamp_to_bound(safe_sqrt(clamp_nonnegative(h2)))


def total_variation(d, ax, axis_name=None):
    """Half the sum of ``|d|``, ``d = p - q`` formed by the caller, clamped
    to its bound 1, which the inputs' rounding can pass."""
    # |d| as d sign(d): its gradient at d = 0 is 0 (jnp.abs' is 1 there)
    return clamp_to_bound(0.5 * event_sum(d * jnp.sign(d), ax, axis_name))


def chi_squared(p, lp, q, lq, ax, axis_name=None, near=None):
    r"""Pearson's :math:`\chi^2(p \| q) = \sum_i (p_i - q_i)^2 / q_i` on the pairs.

    Wherever ``q`` is a normal float the term is ``(p - q) ((p - q) / q)``:
    the subtraction is exact, ``(p - q)^2`` is never formed (it underflows at
    masses of 1e-20), and the derivative has no ``1 / q^2``
    (``square_over``). Where ``q`` underflowed but ``log q`` is finite (a
    logits input), the term is formed in log space,
    :math:`e^{2 \log p - \log q} \mathrm{expm1}(\log q - \log p)^2` above
    ``p > e q`` and :math:`q\, \mathrm{expm1}(\log p - \log q)^2` below.
    ``p_i = 0 < q_i`` gives ``q_i``; ``q_i = 0 < p_i`` gives ``+inf``; nan
    stays nan. ``near``, when given, is ``(mask, y)`` with ``y = log(q / p)``
    accurate to rounding where ``mask`` (from logits, where ``p - q`` of two
    rounded softmaxes is not): there the term is ``p expm1(y)^2 e^{-y}``.
    """
    sp, sq = lp != -jnp.inf, lq != -jnp.inf
    both = sp & sq
    normal = q >= jnp.finfo(q.dtype).tiny
    q_s = jnp.where(normal, q, 1.0)
    direct = square_over(p - q, q_s)
    d = jnp.where(both & ~normal, lp - lq, 0.0)
    big = d > 1.0
    below = weighted(q, jnp.square(jnp.expm1(jnp.where(big, 0.0, d))))
    x = jnp.where(big, 2.0 * lp - lq, 0.0)
    above = jnp.exp(x) * jnp.square(jnp.expm1(-jnp.where(big, d, 1.0)))
    v = jnp.where(normal, direct, jnp.where(big, above, below))
    if near is not None:
        mask, y = near
        y = jnp.where(mask, y, 0.0)
        v = jnp.where(mask, p * jnp.square(jnp.expm1(y)) * jnp.exp(-y), v)
    v = jnp.where(sq & ~sp, q, v)  # (0 - q)^2 / q
    lost = sp & ~sq
    v = jnp.where(lost, weighted(p, jnp.where(lost, jnp.inf, 0.0).astype(p.dtype)), v)
    v = jnp.where(both | (sp ^ sq), v, 0.0)
    return clamp_nonnegative(event_sum(v, ax, axis_name))
