r"""Generalised families on categorical distributions.

Rényi and Tsallis entropies, Rényi and Amari alpha-divergences (the order
families), f-divergences, and the Hellinger, total-variation and chi-squared
distances, each in a probability and a logits form. Inputs are built by
``_categorical``'s private builders, so masks, ``-inf`` logits, shapes and
dtypes behave exactly as for the core measures.

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
formula of ``_categorical``. A Python ``alpha`` picks its formula at trace
time; a traced ``alpha`` evaluates every branch on safe inputs and selects
(double ``where``), so values and gradients (``alpha`` included) have no nan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import _checks
from ._categorical import _h, _kl, _one_logits, _one_prob, _two_logits, _two_probs
from ._numerics import (
    clamp_nonnegative,
    event_any,
    event_max,
    event_sum,
    in_base,
    log_normalizer,
    safe_div,
    safe_sqrt,
    weighted,
)

Axis = int | Sequence[int]
AxisName = str | tuple[str, ...] | None

# A Python order with |alpha - 1| < _NEAR refines K with expm1/log1p wherever
# |K| <= _SMALL_K (there the log-sum-exp would lose digits to cancellation).
_NEAR = 1.0
_SMALL_K = 0.5
# exp() argument cap on a branch that is only selected when |K| <= _SMALL_K.
_EXP_CAP = 80.0

# --------------------------------------------------------------------------
# the order families: one core on (p, log p, log q)


class _Terms(NamedTuple):
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


def _terms(p, lp, lq, ax, axis_name=None) -> _Terms:
    support = lp != -jnp.inf  # nan stays inside, and propagates
    if lq is None:
        term, lost, lq_s = support, jnp.zeros_like(support), jnp.zeros_like(lp)
    else:
        term = support & (lq != -jnp.inf)
        # mass that q lacks; a p that underflows to 0 has none (as in KL)
        lost = (p != 0) & (lq == -jnp.inf)
        lq_s = jnp.where(term, lq, 0.0)
    lp_s = jnp.where(term, lp, 0.0)
    return _Terms(
        p, lp, lq, support, term, lost, lp_s, lq_s, lp_s - lq_s, ax, axis_name
    )


def _exponent(t: _Terms, a):
    """``a log p + (1 - a) log q`` on the terms (0 elsewhere)."""
    return a * t.lp_s if t.lq is None else a * t.lp_s + (1.0 - a) * t.lq_s


def _k_log(t: _Terms, a) -> jax.Array:
    """K by a masked log-sum-exp: exact at any order, lossy only near K = 0."""
    x = jnp.where(t.term, _exponent(t, a), -jnp.inf)
    lse = log_normalizer(x, t.ax, None, False, t.axis_name)
    k = jnp.where(event_any(t.term, t.ax, t.axis_name), lse, -jnp.inf)
    # p > 0 = q: p^a q^(1-a) is +inf above order 1 and 0 below it
    lost = event_sum(jnp.where(t.lost, t.p, 0.0), t.ax, t.axis_name)
    blown = (lost != 0) & (a > 1)
    return jnp.where(blown & ~jnp.isnan(k), _inf_or_nan(lost), k)


def _k_near(t: _Terms, a, k_log: jax.Array) -> jax.Array:
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
    return jnp.where(use, jnp.log1p(jnp.where(use, s, 0.0)), k_log)


def _mu(t: _Terms) -> jax.Array:
    """The order-1 limit of K / (a - 1): -H(p), or KL(p || q)."""
    if t.lq is None:
        return 0.0 - _h(t.p, t.lp, t.ax, t.axis_name)
    return _kl(t.p, t.lp, t.lq, t.ax, t.axis_name)


def _max_ratio(t: _Terms) -> jax.Array:
    """The order-inf limit of K / (a - 1): max log p / q over p's support."""
    r = jnp.where(t.term, t.r, jnp.where(t.lost, _inf_or_nan(t.p), -jnp.inf))
    return event_max(r, t.ax, t.axis_name)


def _inf_or_nan(x):
    """``+inf``, or nan where ``x`` is nan; no gradient path (none is wanted)."""
    return jnp.where(jnp.isnan(x), jnp.nan, jnp.inf)


class _Family(NamedTuple):
    general: Callable  # (K, a) -> value, for a not in {1, inf}
    one: Callable  # mu -> value at a = 1
    slope: Callable  # (mu, m2) -> d value / d a at a = 1, m2 = sum p r^2
    at_inf: Callable | None  # max ratio M -> value at a = inf


_RENYI_ENTROPY = _Family(
    general=lambda k, a: k / (1.0 - a),
    one=lambda mu: -mu,
    slope=lambda mu, m2: -0.5 * (m2 - mu * mu),
    at_inf=lambda m: -m,
)
_RENYI_DIVERGENCE = _Family(
    general=lambda k, a: k / (a - 1.0),
    one=lambda mu: mu,
    slope=lambda mu, m2: 0.5 * (m2 - mu * mu),
    at_inf=lambda m: m,
)
_TSALLIS = _Family(
    general=lambda k, a: -jnp.expm1(k) / (a - 1.0),
    one=lambda mu: -mu,
    slope=lambda mu, m2: -0.5 * m2,
    at_inf=lambda m: jnp.zeros_like(m),
)
_AMARI = _Family(
    general=lambda k, a: jnp.expm1(k) / (a * (a - 1.0)),
    one=lambda mu: mu,
    slope=lambda mu, m2: 0.5 * m2 - mu,
    at_inf=None,
)


def _order(
    fam: _Family, name: str, t: _Terms, alpha, lower: float, empty=None
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
            if abs(alpha - 1.0) < _NEAR:
                k = _k_near(t, a, k)
            v = fam.general(k, a)
    else:
        alpha = jnp.asarray(alpha).astype(dtype)
        one, inf = alpha == 1, alpha == jnp.inf
        general = ~one & ~inf
        a = jnp.where(general, alpha, 2.0)
        k = _k_near(t, a, _k_log(t, a))
        # a padding row's K is -inf: keep it out of the gradient in alpha
        # (d/da of -inf / (a - 1) is nan, even when the value is masked)
        k = jnp.where(empty, jnp.zeros_like(k), k)
        v = fam.general(k, a)
        # mu is +inf where p > 0 = q; computed without those entries so that
        # its infinite derivative never meets the zero cotangent of an
        # unselected a = 1 branch (nan gradients in p at alpha != 1)
        lost_mass = event_sum(jnp.where(t.lost, t.p, 0.0), t.ax, t.axis_name)
        t_kept = t._replace(p=jnp.where(t.lost, jnp.zeros_like(t.p), t.p))
        mu = jnp.where(lost_mass != 0, _inf_or_nan(lost_mass), _mu(t_kept))
        m2 = event_sum(weighted(t.p, t.r * t.r), t.ax, t.axis_name)
        finite = jnp.isfinite(mu)
        mu_s = jnp.where(finite, mu, 0.0)
        # exact at a = 1, and first-order exact around it: the gradient in a
        b0 = jnp.where(one, alpha - 1.0, 0.0)
        v_one = fam.one(mu) + b0 * jnp.where(finite, fam.slope(mu_s, m2), 0.0)
        v = jnp.where(one, v_one, v)
        bad = (alpha < lower) | jnp.isnan(alpha)
        if fam.at_inf is None:
            bad = bad | inf
        else:
            v = jnp.where(inf, fam.at_inf(_max_ratio(t)), v)
        v = jnp.where(bad, jnp.nan, v)
    v = jnp.where(empty, 0.0, v)
    return clamp_nonnegative(v)


def _check_traced_order(name, alpha, lower, allow_inf):
    if isinstance(alpha, float):
        return
    ok = alpha >= lower
    if not allow_inf:
        ok = ok & (alpha < jnp.inf)
    span = "finite" if lower == -math.inf else f">= {lower:g}"
    _checks.check(name, ok, f"alpha must be {span}.")


def _order_arg(name, alpha, lower=0.0, allow_inf=True):
    alpha = _checks.order(name, alpha, lower=lower, allow_inf=allow_inf)
    _check_traced_order(name, alpha, lower, allow_inf)
    return alpha


def _amari(name, p, lp, q, lq, ax, axis_name, alpha):
    """Amari's alpha-divergence; below 1/2 by D_a(p||q) = D_(1-a)(q||p)."""
    fwd = _terms(p, lp, lq, ax, axis_name)
    bwd = _terms(q, lq, lp, ax, axis_name)
    empty = ~event_any(fwd.support, ax, axis_name)  # p has no support
    lower = -math.inf
    if isinstance(alpha, float):
        if alpha >= 0.5:
            return _order(_AMARI, name, fwd, alpha, lower, empty)
        return _order(_AMARI, name, bwd, 1.0 - alpha, lower, empty)
    hi = alpha >= 0.5
    v_fwd = _order(_AMARI, name, fwd, jnp.where(hi, alpha, 1.0), lower, empty)
    v_bwd = _order(_AMARI, name, bwd, jnp.where(hi, 1.0, 1.0 - alpha), lower, empty)
    v = jnp.where(hi, v_fwd, v_bwd)
    return jnp.where(jnp.isnan(alpha) | jnp.isinf(alpha), jnp.nan, v)


# --------------------------------------------------------------------------
# the sum-form divergences on (p, log p, q, log q)


def _f_div(f, slope, p, lp, q, lq, ax, axis_name=None):
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
    t_hi = jnp.where(finite, t, 1.0)
    # beyond the float range of p / q, and where q = 0 < p: the slope of f
    # at infinity (selected inside weighted: an unselected inf slope must
    # not meet a zero cotangent)
    beyond = (hi & ~finite) | (sp & ~sq)
    ratio = jnp.where(finite, f(t_hi) / t_hi, jnp.where(beyond, slope, 0.0))
    v = jnp.where(hi | beyond, weighted(p, ratio), 0.0)
    v = jnp.where(lo, v_lo, jnp.where(zero, v_zero, v))
    return clamp_nonnegative(event_sum(v, ax, axis_name))


def _hellinger(root_p, root_q, ax, axis_name=None):
    h2 = 0.5 * event_sum(jnp.square(root_p - root_q), ax, axis_name)
    return safe_sqrt(clamp_nonnegative(h2))


def _total_variation(p, q, ax, axis_name=None):
    d = p - q
    # |d| as d sign(d): its gradient at d = 0 is 0 (jnp.abs' is 1 there)
    return 0.5 * event_sum(d * jnp.sign(d), ax, axis_name)


# --------------------------------------------------------------------------
# public: Rényi entropy


def renyi_entropy(
    p: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Rényi entropy of order ``alpha`` of categorical distributions.

    .. math::
       H_\alpha(p) = \frac{1}{1 - \alpha} \log \sum_{i:\,p_i > 0} p_i^\alpha,
       \qquad \alpha \in [0, 1) \cup (1, \infty)

    with its limits: :math:`H_0 = \log |\{i : p_i > 0\}|` (Hartley),
    :math:`H_1 = H` (Shannon, ``jaxdiv.entropy``) and
    :math:`H_\infty = -\log \max_i p_i` (min-entropy). :math:`H_\alpha` is
    non-increasing in :math:`\alpha` and continuous at 1: near it the sum is
    computed as :math:`\log(1 + \sum_i p_i\,\mathrm{expm1}((\alpha-1)\log
    p_i))`, so order :math:`1 \pm 10^{-7}` matches Shannon to float
    precision, and at :math:`\alpha = 1` exactly the Shannon formula is used.
    Entries with :math:`p_i = 0` are outside the support (:math:`0^\alpha =
    0`, also at order 0); their gradient is 0. A row with no support (all
    masked, or all ``-inf`` logits) is empty: 0 with zero gradient.

    Args:
      p: probabilities, shape ``[..., n]``; the event axis sums to 1.
      alpha: the order, in ``[0, inf]``: a Python number (the formula is
        chosen at trace time) or a scalar array, traced or not (every branch
        is evaluated safely; differentiable in ``alpha``, nan below 0).
      axis: event axis (int or tuple of ints) that is reduced.
      where: boolean mask broadcastable to ``p``; ``False`` entries are
        outside the support and change neither value nor gradient.
      base: logarithm base; ``None`` gives nats, ``2`` bits.

    Returns:
      ``p``'s shape without the event axes; float32 for 16-bit input.

    Raises:
      TypeError: ``p`` is not floating point.
      ValueError: a Python ``alpha`` that is negative or nan, a non-scalar
        ``alpha``, ``axis`` out of range or ``where`` not broadcastable.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p = jnp.array([0.5, 0.25, 0.25])
      >>> jaxdiv.renyi_entropy(p, alpha=2.0, base=2).round(4)  # -log2 sum p^2
      Array(1.415, dtype=float32)
      >>> jaxdiv.renyi_entropy(p, alpha=0.0, base=2).round(4)  # log2 of 3
      Array(1.585, dtype=float32)
      >>> float(jaxdiv.renyi_entropy(p, alpha=1.0, base=2))  # Shannon
      1.5

    References:
      Rényi, `On Measures of Entropy and Information
      <https://projecteuclid.org/euclid.bsmsp/1200512181>`_, 1961.
    """
    name = "renyi_entropy"
    alpha = _order_arg(name, alpha)
    p, lp, ax = _one_prob(name, p, axis, where)
    return in_base(
        _order(_RENYI_ENTROPY, name, _terms(p, lp, None, ax), alpha, 0.0), base
    )


def renyi_entropy_from_logits(
    logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Rényi entropy of order ``alpha`` of ``softmax(logits)``, in log space.

    .. math:: H_\alpha = \frac{1}{1 - \alpha}\,
       \mathrm{logsumexp}_i(\alpha \log p_i), \qquad
       \log p = \mathrm{log\_softmax}(\ell)

    with the limits and conventions of :func:`renyi_entropy` (order 0 counts
    the categories with a finite logit, even where the softmax underflows).

    Args:
      logits: unnormalised log-probabilities, shape ``[..., n]``; ``-inf``
        marks an impossible category.
      alpha: the order, in ``[0, inf]`` (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries are left out of the softmax too.
      base: logarithm base; ``None`` gives nats.
      axis_name: inside ``shard_map``, the mesh axis across which the event
        axis is split; every device gets the value of the whole distribution.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating ``logits``.
      ValueError: a bad ``alpha`` (see :func:`renyi_entropy`), bad ``axis``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> logits = jnp.array([0.0, 0.0, 0.0, -jnp.inf])
      >>> jaxdiv.renyi_entropy_from_logits(logits, alpha=jnp.inf).round(4)
      Array(1.0986, dtype=float32)

    References:
      Rényi, `On Measures of Entropy and Information
      <https://projecteuclid.org/euclid.bsmsp/1200512181>`_, 1961.
    """
    name = "renyi_entropy_from_logits"
    alpha = _order_arg(name, alpha)
    p, lp, ax = _one_logits(name, logits, axis, where, axis_name)
    t = _terms(p, lp, None, ax, axis_name)
    return in_base(_order(_RENYI_ENTROPY, name, t, alpha, 0.0), base)


# --------------------------------------------------------------------------
# public: Rényi divergence


def renyi_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Rényi divergence of order ``alpha``, :math:`D_\alpha(p \| q)`.

    .. math::
       D_\alpha(p \| q) = \frac{1}{\alpha - 1}
       \log \sum_{i:\,p_i > 0} p_i^\alpha q_i^{1 - \alpha},
       \qquad \alpha \in [0, 1) \cup (1, \infty)

    with its limits: :math:`D_0 = -\log \sum_{i:\,p_i > 0} q_i` (minus the
    log of q's mass on p's support), :math:`D_1 = D_{KL}(p \| q)` and
    :math:`D_\infty = \log \max_{i:\,p_i>0} p_i / q_i`. Non-decreasing in
    :math:`\alpha`; continuous at 1 (see :func:`renyi_entropy`), so order
    :math:`1 \pm 10^{-7}` matches ``kl_divergence`` to float precision.

    Where :math:`p_i > 0 = q_i` the term is :math:`+\infty` above order 1
    (the divergence is ``+inf``, as KL) and 0 below it (finite divergence);
    disjoint supports give ``+inf`` at every order. Never negative (rounding
    is clamped to 0). A row where ``p`` has no support is empty: 0 with zero
    gradient.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      alpha: the order, in ``[0, inf]``: a Python number or a scalar array
        (traced: differentiable in ``alpha``, nan below 0).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes, a negative or nan Python ``alpha``, a non-scalar
        ``alpha``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.renyi_divergence(p, q, alpha=2.0).round(4)  # log sum p^2 / q
      Array(1.0217, dtype=float32)
      >>> jaxdiv.renyi_divergence(p, q, alpha=1.0).round(4)  # KL
      Array(0.5108, dtype=float32)
      >>> jaxdiv.renyi_divergence(p, q, alpha=jnp.inf).round(4)  # log 5
      Array(1.6094, dtype=float32)

    References:
      van Erven and Harremoës, `Rényi Divergence and Kullback-Leibler
      Divergence <https://doi.org/10.1109/TIT.2014.2320500>`_, 2014.
    """
    name = "renyi_divergence"
    alpha = _order_arg(name, alpha)
    p, lp, q, lq, ax = _two_probs(name, p, q, axis, where)
    t = _terms(p, lp, lq, ax)
    return in_base(_order(_RENYI_DIVERGENCE, name, t, alpha, 0.0), base)


def renyi_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r""":math:`D_\alpha(p \| q)` with both distributions given as logits.

    .. math:: D_\alpha = \frac{1}{\alpha - 1}\,\mathrm{logsumexp}_i\big(
       \alpha \log p_i + (1 - \alpha) \log q_i\big)

    computed from log-softmaxes, never from probabilities, with the limits
    and conventions of :func:`renyi_divergence`; ``-inf`` in ``q_logits``
    where ``p`` has mass is :math:`q_i = 0 < p_i`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      alpha: the order, in ``[0, inf]`` (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: logarithm base; ``None`` gives nats.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes or a bad ``alpha`` (see :func:`renyi_divergence`).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.renyi_divergence_from_logits(a, b, alpha=0.5).round(4)
      Array(0.2231, dtype=float32)

    References:
      van Erven and Harremoës, `Rényi Divergence and Kullback-Leibler
      Divergence <https://doi.org/10.1109/TIT.2014.2320500>`_, 2014.
    """
    name = "renyi_divergence_from_logits"
    alpha = _order_arg(name, alpha)
    p, lp, q, lq, ax = _two_logits(name, p_logits, q_logits, axis, where, axis_name)
    t = _terms(p, lp, lq, ax, axis_name)
    return in_base(_order(_RENYI_DIVERGENCE, name, t, alpha, 0.0), base)


# --------------------------------------------------------------------------
# public: Tsallis entropy


def tsallis_entropy(
    p: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Tsallis entropy of order ``alpha`` (Havrda-Charvát structural entropy).

    .. math::
       S_\alpha(p) = \frac{1 - \sum_{i:\,p_i>0} p_i^\alpha}{\alpha - 1}
       = \frac{1 - e^{(1 - \alpha) H_\alpha(p)}}{\alpha - 1},
       \qquad \alpha \in [0, 1) \cup (1, \infty)

    (:math:`H_\alpha` the Rényi entropy), with the limits
    :math:`S_0 = |\{i : p_i > 0\}| - 1`, :math:`S_1 = H(p)` (Shannon, in
    nats) and :math:`S_\infty = 0`; :math:`S_2 = 1 - \sum p_i^2` is the Gini
    impurity. Continuous at 1 (``expm1`` of the log-moment, see
    :func:`renyi_entropy`). Tsallis entropy has no logarithm outside the
    limit: ``base`` divides by :math:`\log(\text{base})`, which makes the
    order-1 limit the Shannon entropy in that base. Conventions for zeros,
    masks and empty rows as :func:`renyi_entropy`.

    Args:
      p: probabilities, shape ``[..., n]``.
      alpha: the order (Tsallis' ``q``), in ``[0, inf]``: a Python number or
        a scalar array (traced: differentiable in ``alpha``, nan below 0).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to ``p``.
      base: ``None`` (natural units), or a base whose log divides the value.

    Returns:
      The batch shape.

    Raises:
      TypeError: ``p`` is not floating point.
      ValueError: a negative or nan Python ``alpha``, a non-scalar ``alpha``,
        bad ``axis`` or ``where``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p = jnp.array([0.5, 0.25, 0.25])
      >>> float(jaxdiv.tsallis_entropy(p, alpha=2.0))  # Gini impurity
      0.625
      >>> float(jaxdiv.tsallis_entropy(p, alpha=0.0))  # support size - 1
      2.0

    References:
      Tsallis, `Possible generalization of Boltzmann-Gibbs statistics
      <https://doi.org/10.1007/BF01016429>`_, 1988.
    """
    name = "tsallis_entropy"
    alpha = _order_arg(name, alpha)
    p, lp, ax = _one_prob(name, p, axis, where)
    return in_base(_order(_TSALLIS, name, _terms(p, lp, None, ax), alpha, 0.0), base)


def tsallis_entropy_from_logits(
    logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Tsallis entropy of order ``alpha`` of ``softmax(logits)``.

    .. math:: S_\alpha = \frac{1 - \exp \mathrm{logsumexp}_i(\alpha \log p_i)}
       {\alpha - 1}, \qquad \log p = \mathrm{log\_softmax}(\ell)

    with the limits and conventions of :func:`tsallis_entropy`.

    Args:
      logits: unnormalised log-probabilities, shape ``[..., n]``.
      alpha: the order, in ``[0, inf]`` (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries are left out of the softmax too.
      base: ``None``, or a base whose log divides the value.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating ``logits``.
      ValueError: a bad ``alpha`` (see :func:`tsallis_entropy`), bad ``axis``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> float(jaxdiv.tsallis_entropy_from_logits(jnp.zeros(4), alpha=2.0))
      0.75

    References:
      Tsallis, `Possible generalization of Boltzmann-Gibbs statistics
      <https://doi.org/10.1007/BF01016429>`_, 1988.
    """
    name = "tsallis_entropy_from_logits"
    alpha = _order_arg(name, alpha)
    p, lp, ax = _one_logits(name, logits, axis, where, axis_name)
    t = _terms(p, lp, None, ax, axis_name)
    return in_base(_order(_TSALLIS, name, t, alpha, 0.0), base)


# --------------------------------------------------------------------------
# public: Amari's alpha-divergence


def alpha_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Amari's alpha-divergence, parameterised so that order 1 is KL(p‖q).

    .. math::
       D_\alpha(p \| q) = \frac{1 - \sum_i p_i^\alpha q_i^{1 - \alpha}}
       {\alpha (1 - \alpha)}, \qquad \alpha \in \mathbb{R} \setminus \{0, 1\}

    with the limits :math:`D_1 = D_{KL}(p \| q)` and
    :math:`D_0 = D_{KL}(q \| p)`; :math:`D_\alpha(p \| q) =
    D_{1-\alpha}(q \| p)`, :math:`D_{1/2} = 4 H^2(p, q)` (squared
    :func:`hellinger_distance`), :math:`D_2 = \chi^2(p \| q) / 2` and
    :math:`D_{-1} = \chi^2(q \| p) / 2`. It is the f-divergence of
    :math:`f(t) = (t^\alpha - \alpha t + \alpha - 1) / (\alpha(\alpha - 1))`
    and relates to :func:`renyi_divergence` by :math:`D_\alpha = (1 -
    e^{-(1-\alpha) D^{R}_\alpha}) / (\alpha (1 - \alpha))`.

    Conventions: this is the form of Cichocki and Amari (2010) on normalised
    distributions (Zhu and Rohwer's :math:`\delta`-divergence); Amari's
    original :math:`\alpha'` is :math:`1 - 2\alpha` here. Terms with
    :math:`p_i = q_i = 0` are 0; :math:`p_i > 0 = q_i` makes the divergence
    ``+inf`` for :math:`\alpha \ge 1` (finite below), and :math:`q_i > 0 =
    p_i` for :math:`\alpha \le 0`. Continuous at 0 and 1 (computed with
    ``expm1``/``log1p`` near them; at 0 and 1 exactly, the KL formula).
    Never negative. A row where ``p`` has no support is empty: 0. ``base``
    divides by :math:`\log(\text{base})`, so the limits are KL in that base.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      alpha: the order, any finite real: a Python number or a scalar array
        (traced: differentiable in ``alpha``).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: ``None`` (nats at the KL limits), or a base whose log divides.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes, a nan or infinite Python ``alpha``, a
        non-scalar ``alpha``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.alpha_divergence(p, q, alpha=1.0).round(4)  # KL(p || q)
      Array(0.5108, dtype=float32)
      >>> jaxdiv.alpha_divergence(p, q, alpha=0.0).round(4)  # KL(q || p)
      Array(0.3681, dtype=float32)
      >>> jaxdiv.alpha_divergence(p, q, alpha=2.0).round(4)  # chi^2 / 2
      Array(0.8889, dtype=float32)

    References:
      Amari, `Alpha-divergence is unique, belonging to both f-divergence and
      Bregman divergence classes <https://doi.org/10.1109/TIT.2009.2030485>`_,
      2009.

      Cichocki and Amari, `Families of Alpha- Beta- and Gamma- Divergences
      <https://doi.org/10.3390/e12061532>`_, 2010.
    """
    name = "alpha_divergence"
    alpha = _order_arg(name, alpha, lower=-math.inf, allow_inf=False)
    p, lp, q, lq, ax = _two_probs(name, p, q, axis, where)
    return in_base(_amari(name, p, lp, q, lq, ax, None, alpha), base)


def alpha_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Amari's alpha-divergence with both distributions given as logits.

    .. math:: D_\alpha = \frac{1 - \exp \mathrm{logsumexp}_i(\alpha \log p_i
       + (1 - \alpha) \log q_i)}{\alpha (1 - \alpha)}

    from log-softmaxes, with the conventions of :func:`alpha_divergence`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      alpha: the order, any finite real (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: ``None``, or a base whose log divides the value.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes or a bad ``alpha``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.alpha_divergence_from_logits(a, b, alpha=0.5).round(4)
      Array(0.4223, dtype=float32)

    References:
      Cichocki and Amari, `Families of Alpha- Beta- and Gamma- Divergences
      <https://doi.org/10.3390/e12061532>`_, 2010.
    """
    name = "alpha_divergence_from_logits"
    alpha = _order_arg(name, alpha, lower=-math.inf, allow_inf=False)
    p, lp, q, lq, ax = _two_logits(name, p_logits, q_logits, axis, where, axis_name)
    return in_base(_amari(name, p, lp, q, lq, ax, axis_name, alpha), base)


# --------------------------------------------------------------------------
# public: f-divergences


def f_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    f: Callable[[jax.Array], jax.Array],
    slope_at_infinity: float | ArrayLike | None = None,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Csiszár f-divergence :math:`D_f(p \| q)` for a convex generator ``f``.

    .. math::
       D_f(p \| q) = \sum_i q_i\, f\!\left(\frac{p_i}{q_i}\right), \qquad
       f \text{ convex on } [0, \infty),\ f(1) = 0

    Every term is the perspective :math:`q f(p / q)` continued to the
    boundary (Liese and Vajda): :math:`0 \cdot f(0/0) = 0`; where
    :math:`q_i = 0 < p_i` the term is :math:`p_i f'(\infty)` with
    :math:`f'(\infty) = \lim_{t\to\infty} f(t)/t`, the ``slope_at_infinity``
    (``None``: ``+inf``, right for every ``f`` that grows faster than
    linearly, such as KL and chi^2; bounded divergences must pass it); where
    :math:`p_i = 0 < q_i` it is :math:`q_i f(0)`, with ``f`` evaluated at 0
    (write ``f`` so that ``f(0)`` is its right limit, e.g.
    ``jax.scipy.special.xlogy(t, t)`` rather than ``t * log(t)``). Where
    :math:`p_i > q_i` the term is computed as :math:`p_i f(t)/t`, ``t =
    exp(log p - log q)``; a ratio beyond the float range is replaced by its
    limit, ``slope_at_infinity`` (exact for bounded divergences such as TV
    and Hellinger, ``+inf`` for the others).

    Common generators, with their ``slope_at_infinity``:

    - KL(p ‖ q): ``xlogy(t, t)``, ``inf`` (the default);
    - KL(q ‖ p): ``-log(t)``, 0;
    - total variation: ``abs(t - 1) / 2``, 0.5;
    - Pearson chi^2: ``(t - 1)**2``, ``inf``;
    - twice the squared Hellinger distance: ``(sqrt(t) - 1)**2``, 1.

    The gradient through an entry with :math:`p_i = 0` is 0 (as for KL).
    Never negative (rounding is clamped; a non-convex ``f`` is not detected).
    ``base`` divides by :math:`\log(\text{base})` (``f = t log t`` then gives
    KL in that base).

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      f: the generator, a Python callable applied elementwise to arrays of
        ratios :math:`t \in [0, \infty)`; ``f(1)`` must be 0.
      slope_at_infinity: :math:`\lim_{t \to \infty} f(t) / t`, used where
        :math:`q_i = 0 < p_i` (and where ``p / q`` overflows); ``None`` is
        ``+inf``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: ``None``, or a base whose log divides the value.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input, or ``f`` not callable.
      ValueError: bad shapes; ``f(1) != 0`` or ``f`` not elementwise (checked
        at trace time when ``f`` does not close over traced values).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> from jax.scipy.special import xlogy
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.f_divergence(p, q, f=lambda t: xlogy(t, t)).round(4)  # KL
      Array(0.5108, dtype=float32)
      >>> tv = lambda t: jnp.abs(t - 1) / 2
      >>> p, q = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
      >>> float(jaxdiv.f_divergence(p, q, f=tv, slope_at_infinity=0.5))
      1.0

    References:
      Csiszár, Information-type measures of difference of probability
      distributions and indirect observations, Studia Sci. Math. Hungarica
      2, 1967.

      Ali and Silvey, `A General Class of Coefficients of Divergence of One
      Distribution from Another
      <https://doi.org/10.1111/j.2517-6161.1966.tb00626.x>`_, 1966.

      Liese and Vajda, `On Divergences and Informations in Statistics and
      Information Theory <https://doi.org/10.1109/TIT.2006.881731>`_, 2006.
    """
    name = "f_divergence"
    p, lp, q, lq, ax = _two_probs(name, p, q, axis, where)
    _checks.generator(name, f, p.dtype)
    return in_base(_f_div(f, slope_at_infinity, p, lp, q, lq, ax), base)


def f_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    f: Callable[[jax.Array], jax.Array],
    slope_at_infinity: float | ArrayLike | None = None,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""f-divergence :math:`D_f(p \| q)` with both distributions as logits.

    .. math:: D_f = \sum_i q_i f(t_i), \qquad
       t_i = \exp(\log p_i - \log q_i),\ \log p = \mathrm{log\_softmax}(\ell_p)

    The ratio is computed in log space, never as a quotient of probabilities
    that may have underflowed; a ratio beyond the float range (a ``q`` logit
    some 88 nats below ``p``'s in float32), and ``-inf`` in ``q_logits``
    where ``p`` has mass, use ``slope_at_infinity``: for KL between very
    different logits prefer ``kl_divergence_from_logits``, which needs no
    ratio. Conventions as :func:`f_divergence`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      f: the generator (elementwise callable, ``f(1) = 0``).
      slope_at_infinity: :math:`\lim_{t\to\infty} f(t)/t`; ``None`` is
        ``+inf``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: ``None``, or a base whose log divides the value.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input, or ``f`` not callable.
      ValueError: bad shapes or ``f(1) != 0``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> chi2 = lambda t: (t - 1.0) ** 2
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.f_divergence_from_logits(a, b, f=chi2).round(4)
      Array(1.7778, dtype=float32)

    References:
      Liese and Vajda, `On Divergences and Informations in Statistics and
      Information Theory <https://doi.org/10.1109/TIT.2006.881731>`_, 2006.
    """
    name = "f_divergence_from_logits"
    p, lp, q, lq, ax = _two_logits(name, p_logits, q_logits, axis, where, axis_name)
    _checks.generator(name, f, p.dtype)
    return in_base(_f_div(f, slope_at_infinity, p, lp, q, lq, ax, axis_name), base)


# --------------------------------------------------------------------------
# public: Hellinger, total variation, chi-squared


def hellinger_distance(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Hellinger distance, normalised to lie in :math:`[0, 1]`.

    .. math::
       H(p, q) = \sqrt{\tfrac12 \sum_i \big(\sqrt{p_i} - \sqrt{q_i}\big)^2}
       = \sqrt{1 - \mathrm{BC}(p, q)}, \qquad
       \mathrm{BC}(p, q) = \sum_i \sqrt{p_i q_i}

    (the second form for normalised inputs; BC is the Bhattacharyya
    coefficient). The first form is the one computed: no cancellation, so
    :math:`H(p, p) = 0` exactly. A metric; :math:`H^2` is the f-divergence
    of :math:`(\sqrt t - 1)^2 / 2` and a quarter of the order-1/2
    :func:`alpha_divergence`. Not a logarithmic quantity: no ``base``.
    Gradient conventions: 0 at :math:`p = q` (the square root's
    subgradient at 0, as ``js_distance``) and 0 through entries where
    :math:`p_i = 0` or :math:`q_i = 0`.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.hellinger_distance(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))
      Array(1., dtype=float32)
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.hellinger_distance(p, q).round(4)
      Array(0.3249, dtype=float32)

    References:
      Hellinger, `Neue Begründung der Theorie quadratischer Formen von
      unendlichvielen Veränderlichen
      <https://doi.org/10.1515/crll.1909.136.210>`_, 1909.
    """
    p, _, q, _, ax = _two_probs("hellinger_distance", p, q, axis, where)
    return _hellinger(safe_sqrt(p), safe_sqrt(q), ax)


def hellinger_distance_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Hellinger distance with both distributions given as logits.

    .. math:: H = \sqrt{\tfrac12 \sum_i \big(e^{\log p_i / 2} -
       e^{\log q_i / 2}\big)^2}, \qquad \log p = \mathrm{log\_softmax}(\ell_p)

    Conventions as :func:`hellinger_distance`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.hellinger_distance_from_logits(jnp.zeros(3), jnp.zeros(3))
      Array(0., dtype=float32)
    """
    _, lp, _, lq, ax = _two_logits(
        "hellinger_distance_from_logits", p_logits, q_logits, axis, where, axis_name
    )
    h = _hellinger(jnp.exp(0.5 * lp), jnp.exp(0.5 * lq), ax, axis_name)
    return jnp.minimum(h, 1.0)  # rounding of the softmaxes: never past 1


def total_variation_distance(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Total variation distance between categorical distributions.

    .. math:: \delta(p, q) = \tfrac12 \sum_i |p_i - q_i|
       = \max_A |P(A) - Q(A)| \in [0, 1]

    The f-divergence of :math:`|t - 1| / 2`; Pinsker's inequality bounds it
    by :math:`\sqrt{D_{KL}(p \| q) / 2}` and it lies between :math:`H^2` and
    :math:`\sqrt 2 H` (Hellinger). Not a logarithmic quantity: no ``base``.
    The gradient through an entry with :math:`p_i = q_i` is 0 (the
    subgradient of :math:`|x|` at 0 closest to the origin; empty rows get 0).

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.total_variation_distance(p, q).round(4)
      Array(0.4, dtype=float32)

    References:
      Tsybakov, `Introduction to Nonparametric Estimation
      <https://doi.org/10.1007/b13794>`_, 2009 (section 2.4).
    """
    p, _, q, _, ax = _two_probs("total_variation_distance", p, q, axis, where)
    return _total_variation(p, q, ax)


def total_variation_distance_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Total variation distance with both distributions given as logits.

    .. math:: \delta = \tfrac12 \sum_i |\mathrm{softmax}(\ell_p)_i -
       \mathrm{softmax}(\ell_q)_i|

    Conventions as :func:`total_variation_distance`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.array([0.0, -jnp.inf]), jnp.array([-jnp.inf, 0.0])
      >>> jaxdiv.total_variation_distance_from_logits(a, b)
      Array(1., dtype=float32)
    """
    p, _, q, _, ax = _two_logits(
        "total_variation_distance_from_logits",
        p_logits,
        q_logits,
        axis,
        where,
        axis_name,
    )
    # the softmaxes' rounding can carry the sum an ulp past its bound
    return jnp.minimum(_total_variation(p, q, ax, axis_name), 1.0)


def chi_squared_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Pearson's chi-squared divergence :math:`\chi^2(p \| q)`.

    .. math:: \chi^2(p \| q) = \sum_i \frac{(p_i - q_i)^2}{q_i}
       = \sum_i \frac{p_i^2}{q_i} - 1

    computed term by term in the first form (no cancellation, so
    :math:`\chi^2(p \| p) = 0` exactly). Terms with :math:`p_i = q_i = 0`
    are 0; :math:`q_i = 0 < p_i` gives ``+inf`` (never nan). The
    f-divergence of :math:`(t - 1)^2`; twice the order-2
    :func:`alpha_divergence`; :math:`\log(1 + \chi^2)` is the order-2
    :func:`renyi_divergence`. Not a logarithmic quantity: no ``base``.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.chi_squared_divergence(p, q).round(4)
      Array(1.7778, dtype=float32)
      >>> jaxdiv.chi_squared_divergence(q, jnp.array([1.0, 0.0]))
      Array(inf, dtype=float32)

    References:
      Pearson, `On the criterion that a given system of deviations ...
      <https://doi.org/10.1080/14786440009463897>`_, 1900.
    """
    p, _, q, _, ax = _two_probs("chi_squared_divergence", p, q, axis, where)
    zq = q == 0
    # (p - q) * ((p - q) / q): (p - q)^2 underflows at masses of 1e-20, and
    # the quotient's derivative is formed without squaring q (safe_div)
    v = (p - q) * safe_div(p - q, jnp.where(zq, 1.0, q))
    v = jnp.where(zq, weighted(p, jnp.where(zq, jnp.inf, 0.0).astype(p.dtype)), v)
    return clamp_nonnegative(event_sum(v, ax))


def chi_squared_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Pearson's :math:`\chi^2(p \| q)` with both distributions as logits.

    .. math:: \chi^2 = \sum_i q_i\, \mathrm{expm1}(\log p_i - \log q_i)^2

    computed in log space (:math:`e^{2 \log p_i - \log q_i}` where
    :math:`p_i \gg q_i`), so a ``q`` that underflows in float still gives its
    finite term. Conventions as :func:`chi_squared_divergence`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.chi_squared_divergence_from_logits(a, b).round(4)
      Array(1.7778, dtype=float32)
    """
    p, lp, q, lq, ax = _two_logits(
        "chi_squared_divergence_from_logits",
        p_logits,
        q_logits,
        axis,
        where,
        axis_name,
    )
    sp, sq = lp != -jnp.inf, lq != -jnp.inf
    both = sp & sq
    d = jnp.where(both, lp - lq, 0.0)
    big = d > 1.0
    near = weighted(q, jnp.square(jnp.expm1(jnp.where(big, 0.0, d))))
    x = jnp.where(big, 2.0 * lp - lq, 0.0)
    far = jnp.exp(x) * jnp.square(jnp.expm1(-jnp.where(big, d, 1.0)))
    v = jnp.where(big, far, near)  # p = 0 < q: d = -inf is excluded, see below
    v = jnp.where(sq & ~sp, q, v)  # (0 - q)^2 / q
    lost = sp & ~sq
    v = jnp.where(lost, weighted(p, jnp.where(lost, jnp.inf, 0.0).astype(p.dtype)), v)
    v = jnp.where(both | (sp ^ sq), v, 0.0)
    return clamp_nonnegative(event_sum(v, ax, axis_name))
