r"""The log-moment behind the order families (Rényi, Tsallis, Amari alpha).

The public measures (:mod:`jaxdiv._measures.orders`) build their inputs with
:mod:`jaxdiv._core.inputs`, so masks, ``-inf`` logits, shapes and dtypes
behave exactly as for the core measures, and finish here.

The four order families share one quantity, the log-moment

.. math:: K(\alpha) = \log \sum_{i:\, p_i > 0} p_i^{\alpha} q_i^{1 - \alpha}
   = \log \sum_i p_i e^{(\alpha - 1) r_i}, \qquad r_i = \log p_i - \log q_i

(``q = 1``, ``r = log p`` for the entropies), and differ only in how they
finish it: Rényi is :math:`K / (\alpha - 1)`, Tsallis and Amari are
:math:`\operatorname{expm1}(K)` over a polynomial in :math:`\alpha`. Near
:math:`\alpha = 1` both numerator and denominator vanish; :math:`K` is then
computed as :math:`\operatorname{log1p}\sum_i p_i \operatorname{expm1}
((\alpha - 1) r_i)`, which keeps full relative precision however close
:math:`\alpha` is to 1, and :math:`\alpha = 1` itself is the Shannon / KL
formula of :mod:`jaxdiv._core.formulas`. A Python ``alpha`` picks its
formula at trace time; a traced ``alpha`` evaluates every branch on safe
inputs and selects (double ``where``), so values and gradients (``alpha``
included) have no nan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import formulas
from .numerics import (
    clamp_nonnegative,
    event_any,
    event_max,
    event_sum,
    expm1mx,
    linear_weighted,
    log_normalizer,
    shifted_log_sum,
    weighted,
)
from .types import AxisName

# A Python order with |alpha - 1| < _NEAR refines K with expm1/log1p wherever
# |K| <= _SMALL_K (there the log-sum-exp would lose digits to cancellation).
_NEAR = 1.0
_SMALL_K = 0.5
# exp() argument cap on a branch that is only selected when |K| <= _SMALL_K.
_EXP_CAP = 80.0

# --------------------------------------------------------------------------
# the order families: one core on (p, log p, log q)


class Terms(NamedTuple):
    p: jax.Array
    lp: jax.Array
    lq: jax.Array | None  # None: the counting measure (q = 1), for entropies
    support: jax.Array  # p > 0
    term: jax.Array  # p > 0 and q > 0: the terms of K
    lost: jax.Array  # p > 0 = q (p as a float: an underflow is no mass)
    lp_s: jax.Array  # log p on `term`, 0 elsewhere
    lq_s: jax.Array  # log q on `term`, 0 elsewhere
    r: jax.Array  # log p - log q on `term`, 0 elsewhere
    ax: tuple[int, ...]
    axis_name: AxisName
    # for pairs, from near_terms_of_probs / near_terms_of_logits: KL(p || q)
    # over the entries p > 0 < q, without cancellation, and sum(p on term) - 1
    kl: jax.Array | None = None
    gap: jax.Array | None = None


def terms(p, lp, lq, ax, axis_name=None) -> Terms:
    support = lp != -jnp.inf  # nan stays inside, and propagates
    if lq is None:
        term, lost, lq_s = support, jnp.zeros_like(support), jnp.zeros_like(lp)
    else:
        term = support & (lq != -jnp.inf)
        # mass that q lacks; a p that underflows to 0 has none (as in KL)
        lost = (p != 0) & (lq == -jnp.inf)
        lq_s = jnp.where(term, lq, 0.0)
    lp_s = jnp.where(term, lp, 0.0)
    return Terms(p, lp, lq, support, term, lost, lp_s, lq_s, lp_s - lq_s, ax, axis_name)


def near_terms_of_probs(p, lp, q, lq, ax, axis_name=None) -> Terms:
    """:func:`terms` of two probability vectors, with ``r = log(p / q)``
    accurate to rounding (from the exact difference where ``p`` and ``q``
    are close) and the KL of :func:`formulas.kl_of_probs`,
    which the refinement of K near 0 (:func:`_k_near`) centres on."""
    t = terms(p, lp, lq, ax, axis_name)
    # log(p / q) = log1p((p - q) / q) where they are close normal floats (the
    # subtraction is exact); the difference of the logs elsewhere (a
    # quotient's derivative would square masses of 1e-30)
    tiny = jnp.finfo(p.dtype).tiny
    both = t.term & (p >= tiny) & (q >= tiny)
    close = both & (jnp.abs(p - q) <= 0.5 * q)
    ps, qs = jnp.where(close, p, 1.0), jnp.where(close, q, 1.0)
    r = jnp.where(close, jnp.log1p((ps - qs) / qs), t.r)
    kept = jnp.where(t.lost, jnp.zeros_like(p), p)
    kl = formulas.kl_of_probs(kept, lp, q, lq, ax, axis_name)
    mass = event_sum(jnp.where(t.term, p, 0.0), ax, axis_name)
    return t._replace(r=r, kl=kl, gap=mass - 1.0)


def near_terms_of_logits(pair, axis_name=None, reverse=False) -> Terms:
    """:func:`terms` of two softmaxes (an ``inputs.LogitPair``; ``reverse``
    swaps them) with ``r = -log(q / p)`` from the pair's accurate near
    log-ratio and the KL in Bregman form: ``sum p r`` over the near entries
    is ``sum p expm1mx(-r) - sum (q - p)`` there, and since both softmaxes
    sum to 1, ``sum (q - p)`` over the near entries is minus that over the
    others, which are not small. No cancellation is left, and the mass
    ``sum p - 1`` over the terms is the (exact) minus the mass ``q`` lacks."""
    p, lp, q, lq = pair.p, pair.logp, pair.q, pair.logq
    diff = pair.diff  # log(q / p) on pair.close
    if reverse:
        p, lp, q, lq, diff = q, lq, p, lp, -diff
    ax, close = pair.ax, pair.close
    t = terms(p, lp, lq, ax, axis_name)
    r = jnp.where(close, -diff, t.r)
    bregman = jnp.where(close, p * expm1mx(jnp.where(close, diff, 0.0)), 0.0)
    far = t.term & ~close
    direct = weighted(jnp.where(far, p, 0.0), jnp.where(far, t.r, 0.0))
    linear = jnp.where(close | ((p == 0) & (q == 0)), 0.0, q - p)
    # (negative where q lacks mass that p has: that KL is over the terms only)
    kl = event_sum(bregman + direct + linear, ax, axis_name)
    lost = event_sum(jnp.where(t.lost, p, 0.0), ax, axis_name)
    return t._replace(r=r, kl=kl, gap=0.0 - lost)


def _exponent(t: Terms, a):
    """``a log p + (1 - a) log q`` on the terms (0 elsewhere)."""
    return a * t.lp_s if t.lq is None else a * t.lp_s + (1.0 - a) * t.lq_s


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _log_moment(x, ax, axis_name):
    """:func:`log_normalizer` of ``x`` (``-inf`` outside the terms) whose
    tangent is the mean of ``dx`` under ``softmax(x)``, the weights
    normalised before the sum: JAX's rule sums ``exp(x - max) dx`` first,
    which overflows where ``dx`` is a log-probability of ``-3e38`` (the
    derivative in the order of logits that large) although the mean is
    finite."""
    return log_normalizer(x, ax, None, False, axis_name)


@_log_moment.defjvp
def _log_moment_jvp(ax, axis_name, primals, tangents):
    (x,), (dx,) = primals, tangents
    support, xs, _, m, log_s = shifted_log_sum(x, ax, None, axis_name)
    # (x - max) - log s, the shift first: x - logsumexp loses the log s of
    # terms of -5e29, and the weights then sum to their count, not to 1
    w = jnp.where(support, jnp.exp((xs - m) - log_s), 0.0)
    lse = log_normalizer(x, ax, None, False, axis_name)
    return lse, event_sum(weighted(w, dx), ax, axis_name)


def _k_log(t: Terms, a) -> jax.Array:
    """K by a masked log-sum-exp: exact at any order, lossy only near K = 0."""
    x = jnp.where(t.term, _exponent(t, a), -jnp.inf)
    lse = _log_moment(x, t.ax, t.axis_name)
    k = jnp.where(event_any(t.term, t.ax, t.axis_name), lse, -jnp.inf)
    # p > 0 = q: p^a q^(1-a) is +inf above order 1 and 0 below it
    lost = event_sum(jnp.where(t.lost, t.p, 0.0), t.ax, t.axis_name)
    blown = (lost != 0) & (a > 1)
    return jnp.where(blown & ~jnp.isnan(k), _inf_or_nan(lost), k)


def _k_near(t: Terms, a, k_log: jax.Array) -> jax.Array:
    """K refined as log1p(sum p expm1((a - 1) r)) wherever |K| is small.

    Each term is ``p (e^u - 1)`` with ``u = (a - 1) r``: ``p expm1(u)`` for
    ``u < 1``, else ``exp(a log p + (1 - a) log q) - p`` (no overflow of
    ``e^u`` where ``p`` is tiny). Entries with ``p > 0 = q`` contribute ``-p``
    (their ``p^a q^(1-a)`` is 0 below order 1; above it ``k_log`` is +inf and
    is kept).
    """
    u = (a - 1.0) * t.r
    small = u < 1.0
    near = t.p * jnp.expm1(jnp.where(small, u, 0.0))
    far = jnp.exp(jnp.minimum(jnp.where(small, 0.0, _exponent(t, a)), _EXP_CAP))
    e = jnp.where(small, near, far - t.p)
    e = jnp.where(t.term, e, jnp.where(t.lost, -t.p, 0.0))
    use = jnp.abs(k_log) <= _SMALL_K  # False for nan: k_log keeps the nan
    s = event_sum(e, t.ax, t.axis_name)
    k_near = jnp.where(use, jnp.log1p(jnp.where(use, s, 0.0)), k_log)
    if t.kl is None:
        return k_near
    return _k_centred(t, a, k_near)


def _k_centred(t: Terms, a, k_near: jax.Array) -> jax.Array:
    r"""K of a near pair free of the cancellation of ``sum p expm1(u)``.

    The terms ``p (a - 1) r`` of that sum are of the first order in the
    difference of the distributions and cancel to a second-order result.
    Centred on ``mu = KL / P`` (``P = sum p`` over the terms, the KL
    computed without cancellation), ``u = r - mu`` has ``sum p u = 0``
    exactly, so with ``c = a - 1``

    .. math:: K = c \mu + \operatorname{log1p}\big((P - 1) +
       \textstyle\sum p \operatorname{expm1mx}(c u)\big),

    a sum of non-negative terms. Used where :func:`_k_near` is (``|K|``
    small) on near rows (every ``|u| <= 1`` and ``|c u| <= 30``); elsewhere
    ``k_near`` is kept.
    """
    c = a - 1.0
    e = functools.partial(jnp.expand_dims, axis=t.ax)
    mass = t.gap + 1.0
    finite = jnp.isfinite(t.kl) & (mass > 0)
    mu = jnp.where(finite, t.kl, 0.0) / jnp.where(finite, mass, 1.0)
    u = jnp.where(t.term, t.r - e(mu), 0.0)
    cu = c * u
    # near rows only: |u| <= 1 keeps e^{cu} and the products of the tangents
    # (p e^{cu} du, with du = dp / p huge at tiny p) in range
    spread = jnp.maximum(jnp.abs(u), jnp.abs(cu) / 30.0)
    ok = event_max(jnp.where(t.term, spread, 0.0), t.ax, t.axis_name) <= 1.0
    ok = ok & finite & (jnp.abs(k_near) <= _SMALL_K)
    cu = jnp.where(e(ok), cu, 0.0)
    beta = event_sum(weighted(t.p, expm1mx(cu)), t.ax, t.axis_name)
    k = c * mu + jnp.log1p(jnp.where(ok, t.gap + beta, 0.0))
    return jnp.where(ok, k, k_near)


def _mu(t: Terms) -> jax.Array:
    """The order-1 limit of K / (a - 1): -H(p), or KL(p || q)."""
    if t.lq is None:
        return 0.0 - formulas.entropy(t.p, t.lp, t.ax, t.axis_name)
    if t.kl is not None:
        lost = event_sum(jnp.where(t.lost, t.p, 0.0), t.ax, t.axis_name)
        return jnp.where(lost != 0, _inf_or_nan(lost), t.kl)
    return formulas.kl(t.p, t.lp, t.lq, t.ax, t.axis_name)


def _max_ratio(t: Terms) -> jax.Array:
    """The order-inf limit of K / (a - 1): max log p / q over p's support."""
    r = jnp.where(t.term, t.r, jnp.where(t.lost, _inf_or_nan(t.p), -jnp.inf))
    return event_max(r, t.ax, t.axis_name)


def _inf_or_nan(x):
    """``+inf``, or nan where ``x`` is nan; no gradient path (none is wanted)."""
    return jnp.where(jnp.isnan(x), jnp.nan, jnp.inf)


class Family(NamedTuple):
    general: Callable  # (K, a) -> value, for a not in {1, inf}
    one: Callable  # mu -> value at a = 1
    slope: Callable  # (mu, m2) -> d value / d a at a = 1, m2 = sum p r^2
    at_inf: Callable | None  # max ratio M -> value at a = inf


RENYI_ENTROPY = Family(
    general=lambda k, a: k / (1.0 - a),
    one=lambda mu: -mu,
    slope=lambda mu, m2: -0.5 * (m2 - mu * mu),
    at_inf=lambda m: -m,
)
RENYI_DIVERGENCE = Family(
    general=lambda k, a: k / (a - 1.0),
    one=lambda mu: mu,
    slope=lambda mu, m2: 0.5 * (m2 - mu * mu),
    at_inf=lambda m: m,
)
TSALLIS = Family(
    general=lambda k, a: -jnp.expm1(k) / (a - 1.0),
    one=lambda mu: -mu,
    slope=lambda mu, m2: -0.5 * m2,
    at_inf=lambda m: jnp.zeros_like(m),
)
AMARI = Family(
    general=lambda k, a: jnp.expm1(k) / (a * (a - 1.0)),
    one=lambda mu: mu,
    slope=lambda mu, m2: 0.5 * m2 - mu,
    at_inf=None,
)


def order(
    fam: Family, name: str, t: Terms, alpha, lower: float, empty=None
) -> jax.Array:
    """One order family at a Python or traced scalar ``alpha``."""
    dtype = t.p.dtype
    if empty is None:
        empty = ~event_any(t.support, t.ax, t.axis_name)
    if isinstance(alpha, float):
        if alpha == 1.0:
            v = fam.one(_mu(t))
        elif alpha == math.inf:
            v = fam.at_inf(_max_ratio(t))
        else:
            a = jnp.asarray(alpha, dtype)
            k = _k_log(t, a)
            if abs(alpha - 1.0) < _NEAR or (t.kl is not None and alpha > 1.0):
                k = _k_near(t, a, k)
            v = fam.general(k, a)
    else:
        alpha = jnp.asarray(alpha).astype(dtype)
        one, inf = alpha == 1, alpha == jnp.inf
        general = ~one & ~inf
        # the unselected general branch runs at order 1/2, where K = log sum
        # sqrt(p q) <= 0 stays finite (at order 2 it can overflow, and its
        # infinite derivative would meet a zero cotangent: nan gradients)
        a = jnp.where(general, alpha, 0.5)
        k = _k_near(t, a, _k_log(t, a))
        # a padding row's K is -inf: keep it out of the gradient in alpha
        # (d/da of -inf / (a - 1) is nan, even when the value is masked)
        k = jnp.where(empty | ~general, jnp.zeros_like(k), k)
        v = fam.general(k, a)
        # mu is +inf where p > 0 = q; computed without those entries so that
        # its infinite derivative never meets the zero cotangent of an
        # unselected a = 1 branch (nan gradients in p at alpha != 1)
        lost_mass = event_sum(jnp.where(t.lost, t.p, 0.0), t.ax, t.axis_name)
        t_kept = t._replace(p=jnp.where(t.lost, jnp.zeros_like(t.p), t.p))
        mu = jnp.where(lost_mass != 0, _inf_or_nan(lost_mass), _mu(t_kept))
        r2 = t.r * t.r
        r2_over = jnp.isinf(r2) & (t.p != 0)  # (a gradient of 0 * inf is nan)
        m2 = event_sum(weighted(t.p, jnp.where(r2_over, 0.0, r2)), t.ax, t.axis_name)
        m2 = jnp.where(event_any(r2_over, t.ax, t.axis_name), jnp.inf, m2)
        finite = jnp.isfinite(mu)
        mu_s = jnp.where(finite, mu, 0.0)
        # exact at a = 1, and first-order exact around it: the gradient in a
        b0 = jnp.where(one, alpha - 1.0, 0.0)
        # (b0 is 0: the slope only carries the derivative in a. Where sum p
        # r^2 overflows (logits of 1e30), so does the slope; its sign is the
        # family's, and that term then contributes nothing: 0 * inf is nan)
        slope = fam.slope(mu_s, jnp.where(jnp.isinf(m2), 0.0, m2))
        slope_sign = jnp.sign(fam.slope(0.0, 1.0))
        slope = jnp.where(jnp.isinf(m2), slope_sign * m2, slope)
        v_one = fam.one(mu) + linear_weighted(b0, jnp.where(finite, slope, 0.0))
        v = jnp.where(one, v_one, v)
        bad = (alpha < lower) | jnp.isnan(alpha)
        if fam.at_inf is None:
            bad = bad | inf
        else:
            v = jnp.where(inf, fam.at_inf(_max_ratio(t)), v)
        v = jnp.where(bad, jnp.nan, v)
    v = jnp.where(empty, 0.0, v)
    return clamp_nonnegative(v)


def amari(name, fwd: Terms, bwd: Terms, alpha):
    """Amari's alpha-divergence; below 1/2 by D_a(p||q) = D_(1-a)(q||p),
    from the terms of (p, q) and of (q, p)."""
    ax, axis_name = fwd.ax, fwd.axis_name
    empty = ~event_any(fwd.support, ax, axis_name)  # p has no support
    lower = -math.inf
    if isinstance(alpha, float):
        if alpha >= 0.5:
            return order(AMARI, name, fwd, alpha, lower, empty)
        return order(AMARI, name, bwd, 1.0 - alpha, lower, empty)
    hi = alpha >= 0.5
    v_fwd = order(AMARI, name, fwd, jnp.where(hi, alpha, 1.0), lower, empty)
    v_bwd = order(AMARI, name, bwd, jnp.where(hi, 1.0, 1.0 - alpha), lower, empty)
    v = jnp.where(hi, v_fwd, v_bwd)
    return jnp.where(jnp.isnan(alpha) | jnp.isinf(alpha), jnp.nan, v)
