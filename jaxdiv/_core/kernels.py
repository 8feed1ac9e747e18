r"""Fused value-and-derivative kernels for the losses that run at LLM scale.

The measures in ``jaxdiv._measures.categorical`` are written for clarity: a masked
log-softmax, then the formula on ``(p, log p)`` pairs, differentiated by JAX.
For the hot paths of training (integer-label cross-entropy, the KL between
log-probabilities, the distillation KL between two sets of logits) that
costs one or more ``[N, V]`` temporaries (log-softmaxes, the one-hot's
scatter, saved ``exp``) on top of the gradient itself. The kernels here
compute the same numbers with

* forward passes that are reductions over the inputs, written only with
  operations XLA fuses into its (YNNPACK) reductions (``exp``, ``max``,
  ``sign``, ``log``, arithmetic; no ``select``, which would be materialised);
* a ``jax.custom_jvp`` whose tangent is the closed-form derivative
  (``softmax - target``, ``-p``, ``q - p``...). Under ``jax.grad`` XLA then
  writes the exponentials once, into the gradient's own buffer, and finishes
  the gradient in place: besides the gradient no ``[N, V]`` array is
  allocated for the integer-label cross-entropy and the KL with log-targets
  (``compiled.memory_analysis()`` reports no temporary), and one for the KL
  from two sets of logits (optax's composition needs three). Where reusing
  an ``exp`` would cost a temporary, the tangent recomputes it from the
  inputs behind an ``optimization_barrier`` instead. A custom *JVP* (not
  VJP) keeps ``jax.jvp``, ``jax.hessian`` and ``jax.vmap`` working;
* for the integer-label cross-entropy, a log-sum-exp shifted by the label's
  logit instead of the row maximum, which saves the max pass, with an exact
  fallback for the batches where that shift is unsafe
  (:func:`_label_shifted_normalizer`), and the one-hot term of the gradient
  as a scatter-add into it rather than a comparison per entry.

Edge semantics are exactly those of the measures: ``-inf`` logits and
zero-probability entries contribute 0 with zero gradient, empty rows give 0,
``p > 0 = q`` gives ``+inf``, nan propagates. The selects that these need are
replaced by arithmetic that is exact for every float, documented inline. The
test suite checks the kernels against the measures and against NumPy.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from .numerics import clamp_nonnegative, expm1mx, weighted
from .numerics import pmax_over as _pmax
from .numerics import psum_over as _psum
from .numerics import softmax_of as _softmax_of


def _lowest(dtype) -> float:
    return -float(jnp.finfo(dtype).max)


def support_indicator(x: jax.Array, scale: float = 0.5) -> jax.Array:
    """1.0 where ``x > -inf``, 0.0 where ``x == -inf`` (nan stays nan).

    With ``c = -(1 + scale) / 2 * max``: ``max(scale * x, c) - c`` is 0
    exactly for ``x = -inf`` and at least ``(1 - scale) / 2 * max`` for every
    finite ``x`` (``-max`` included), so its sign is the indicator; written
    without a comparison so that XLA fuses it into a reduction. (Two
    reductions that share a constant make XLA materialise its broadcast, so
    callers pass a different ``scale`` to each.)
    """
    c = 0.5 * (1.0 + scale) * _lowest(x.dtype)
    return jnp.sign(jnp.maximum(scale * x, c) - c)


def _is_zero(t) -> bool:
    return isinstance(t, SymbolicZero)


def _shifted_exp_sum(x, ax, shift, axis_name):
    """``(c, e, s)``: ``e = exp(x - c)`` and its sum over ``ax``, with ``c``
    the row ``shift`` or 0 where that is not finite (``-inf`` on an empty
    row, ``+inf``/nan on bad input)."""
    c = jax.lax.stop_gradient(
        jnp.where(jnp.isfinite(shift), shift, jnp.zeros_like(shift))
    )
    e = jnp.exp(x - jnp.expand_dims(c, ax))
    return c, e, _psum(jnp.sum(e, axis=ax), axis_name)


@jax.custom_jvp
def _reciprocal(s):
    """``1 / s`` whose derivative ``-ds / s^2`` is formed as ``-(ds / s) / s``.

    ``s`` is a sum of exponentials of up to ``2^120``; its square overflows
    float32 from ``2^64`` on (a loss of 44 nats), which made second
    derivatives (``jax.hessian``) of the softmax ``e / s`` wrong.
    """
    return 1.0 / s


@_reciprocal.defjvp
def _reciprocal_jvp(primals, tangents):
    (s,), (ds,) = primals, tangents
    r = 1.0 / s
    return r, -(ds * r) * r


class _Normalizer(NamedTuple):
    """Row statistics of a log-sum-exp shifted by ``shift``.

    ``logsumexp = shift + log_sum``; log-probabilities are formed as
    ``(x - shift) - log_sum`` (never ``x - logsumexp``, which loses every
    digit of the answer once ``|x|`` dwarfs it). ``exps = exp(x - shift)``
    and ``inv_sum = 1 / sum(exps)`` give the softmax ``exps * inv_sum``.
    """

    shift: jax.Array
    log_sum: jax.Array
    nonempty: jax.Array
    exps: jax.Array
    inv_sum: jax.Array

    @property
    def lse(self) -> jax.Array:
        return self.shift + self.log_sum

    def probs(self, x: jax.Array, ax: int, axis_name=None) -> jax.Array:
        """``softmax(x)`` (``inv_sum`` reduced over the single axis ``ax``)."""
        inv_sum = jnp.expand_dims(self.inv_sum, ax)
        return _softmax_of(x, self.exps, inv_sum, (ax,), axis_name)


def _normalizer_from(c, e, s):
    """:class:`_Normalizer` from :func:`_shifted_exp_sum`."""
    nonempty = s != 0  # nan counts as non-empty, so it propagates
    s = jnp.where(nonempty, s, jnp.ones_like(s))
    return _Normalizer(c, jnp.log(s), nonempty, e, _reciprocal(s))


def _log_normalizer(x, ax, axis_name):
    """:class:`_Normalizer` of ``x`` over ``ax`` shifted by the row maximum:
    ``logsumexp = max + log_sum`` (reduced, 0 on empty rows), the rows'
    non-emptiness, ``e = exp(x - max)`` and the reciprocal of its sum, so
    that ``softmax(x) = e / s`` (0 on empty rows).

    Two fused reductions (max, then sum of ``e``). A tangent that reuses
    ``e`` makes XLA write it once, into the gradient's own buffer, and
    update it in place: the softmax costs one ``exp`` per entry and no
    temporary (recomputing it instead costs a second ``exp`` pass, which
    is slower on CPU). The row statistics are returned reduced, not with
    kept dimensions: a per-row loss of shape ``[N, 1]`` that XLA fuses into
    the caller's mean makes its CPU reduction several percent slower.
    """
    m = jax.lax.stop_gradient(jnp.max(x, axis=ax))
    if axis_name is not None:
        m = jax.lax.pmax(m, axis_name)
    return _normalizer_from(*_shifted_exp_sum(x, ax, m, axis_name))


@jax.custom_batching.custom_vmap
def _any_in_batch(p: jax.Array) -> jax.Array:
    """``jnp.any(p)``, and under ``jax.vmap`` the any over the whole batch.

    A ``lax.cond`` whose predicate is batched becomes a ``select`` of both
    branches, computing both; reducing the predicate over the vmapped axis
    too keeps it a real branch. Only for branches that compute the same
    numbers (a fast path and its exact fallback).
    """
    return jnp.any(p)


@_any_in_batch.def_vmap
def _any_in_batch_vmap(axis_size, in_batched, p):
    del axis_size
    (batched,) = in_batched
    return _any_in_batch(jnp.any(p, axis=0) if batched else p), False


# Bounds on s = sum(exp(x - x_y)) that keep the label-shifted normaliser exact
# in float32 and float64: below the upper one no term overflowed and 1 / s is
# a normal float; above the lower one the terms that underflowed weigh less
# than an ulp of s. A row with a finite label logit has s >= 1 (its own term
# is exp(0) = 1); s > 2^120 means a loss above 83 nats.
_FAST_SUM_MIN = 2.0**-100
_FAST_SUM_MAX = 2.0**120


def _label_shifted_normalizer(x, ax, xy, checked):
    """:func:`_log_normalizer` without its max pass, for rows with a label.

    Shifted by the label logit instead of the row maximum, the label's own
    term is exactly 1 and no term overflows unless the row's loss exceeds 83
    nats, so the sum needs no max: one pass fewer over the logits (the
    integer-label cross-entropy goes from optax's time to 0.8x of it at
    ``V = 1024`` on CPU, and 0.9x at ``V = 32768``, where it is
    memory-bound). The values are those of the max shift up to rounding
    (``logsumexp`` is shift-invariant). Where a ``checked`` row's sum leaves
    ``[2^-100, 2^120]`` (a loss over 83 nats, a label logit of ``-inf`` or
    nan, an empty row), the whole batch takes the exact max-shifted
    normaliser instead, behind a ``lax.cond`` whose predicate stays
    unbatched under ``jax.vmap``; that batch costs one pass more than the
    max shift alone.
    """
    c, e, s = _shifted_exp_sum(x, ax, xy, None)
    in_range = (s >= _FAST_SUM_MIN) & (s <= _FAST_SUM_MAX)
    fallback = _any_in_batch(checked & ~in_range)
    # (rows left unchecked are masked out by the caller)
    return jax.lax.cond(
        fallback,
        lambda x: _log_normalizer(x, ax, None),
        lambda x: _normalizer_from(c, e, s),
        x,
    )


# --------------------------------------------------------------------------
# integer-label cross-entropy


def _ce_forward(ax, axis_name, ignore_index, smooth, zloss, x, labels, keep, a, z):
    """Loss per row plus the row statistics the tangent needs."""
    n_local = x.shape[ax]
    local = labels
    if axis_name is not None:
        local = labels - jax.lax.axis_index(axis_name) * n_local
    owned = (local >= 0) & (local < n_local)
    idx = jnp.expand_dims(jnp.clip(local, 0, n_local - 1), ax)
    xy = jnp.squeeze(jnp.take_along_axis(x, idx, axis=ax), ax)
    if axis_name is None:
        in_range = owned
    else:
        xy = jax.lax.psum(jnp.where(owned, xy, jnp.zeros_like(xy)), axis_name)
        in_range = jax.lax.psum(owned.astype(jnp.int32), axis_name) > 0
    # A label outside [0, num_classes) that is not ignored gives nan.
    xy = jnp.where(in_range, xy, jnp.full_like(xy, jnp.nan))

    kept = keep
    if ignore_index is not None:
        kept = kept & (labels != ignore_index)
    if axis_name is None:
        norm = _label_shifted_normalizer(x, ax, xy, kept)
    else:  # (collectives inside a cond would need every device to agree)
        norm = _log_normalizer(x, ax, axis_name)
    valid = norm.nonempty & kept
    c = norm.shift

    # -log softmax(x)_y = (c - x_y) + log_sum: the shift's difference first,
    # so that huge logits (1e30) keep the answer (log 2, not 0).
    if smooth:
        ind = support_indicator(x, 0.5)
        k = _psum(jnp.sum(ind, axis=ax), axis_name)
        # mean of (x - c) over the support, shifted by c for the same reason
        x_in_support = support_indicator(x, 0.25) * jnp.maximum(
            x - jnp.expand_dims(c, ax), _lowest(x.dtype)
        )
        sx = _psum(jnp.sum(x_in_support, axis=ax), axis_name)
        k = jnp.where(k > 0, k, jnp.ones_like(k))
        a_over_k = a / k
        mean_shifted = sx / k
        loss = norm.log_sum + weighted(1.0 - a, c - xy) - a * mean_shifted
    else:
        a_over_k = mean_shifted = None
        loss = norm.log_sum + (c - xy)
    if zloss:
        loss = loss + z * jnp.square(norm.lse)
    loss = jnp.where(valid, loss, jnp.zeros_like(loss))
    return loss, (norm, idx, owned, valid, a_over_k, mean_shifted, xy)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2, 3, 4))
def ce_integer_labels(
    ax, axis_name, ignore_index, smooth, zloss, x, labels, keep, a, z
):
    """Per-row ``-sum_i t_i log softmax(x)_i (+ z lse^2)``, ``t`` the
    (smoothed) one-hot of ``labels``; see the module docstring.

    Args:
      ax: the class axis (static int).
      axis_name: mesh axis across which the class axis is split, or None.
      ignore_index: label value whose rows give 0, or None (static).
      smooth: whether label smoothing is on (static; ``a`` may be 0 anyway).
      zloss: whether the z-loss is on (static).
      x: logits, ``-inf`` outside the support.
      labels: integer labels, ``x``'s shape without ``ax``.
      keep: boolean row mask (False rows give 0).
      a: label-smoothing weight (scalar array).
      z: z-loss weight (scalar array).
    """
    loss, _ = _ce_forward(
        ax, axis_name, ignore_index, smooth, zloss, x, labels, keep, a, z
    )
    return loss


def _ce_jvp(ax, axis_name, ignore_index, smooth, zloss, primals, tangents):
    x, labels, keep, a, z = primals
    dx, _, _, da, dz = tangents
    loss, (norm, idx, owned, valid, a_over_k, mean_shifted, xy) = _ce_forward(
        ax, axis_name, ignore_index, smooth, zloss, x, labels, keep, a, z
    )
    out = jnp.zeros_like(loss)
    if not _is_zero(dx):
        # softmax(x) from the forward pass's exp (see _log_normalizer); under
        # grad the whole coefficient is one in-place pass over the gradient.
        coef = norm.probs(x, ax, axis_name)
        if zloss:
            coef = coef * jnp.expand_dims(1.0 + 2.0 * z * norm.lse, ax)
        if smooth:
            # (a comparison, not support_indicator: not shared with the forward
            # reductions, so fused here instead of materialised)
            support = (x != -jnp.inf).astype(x.dtype)
            coef = coef - jnp.expand_dims(a_over_k, ax) * support
        coef = jnp.where(jnp.expand_dims(valid, ax), coef, jnp.zeros_like(coef))
        t = jnp.sum(coef * dx, axis=ax)
        # the one-hot term as a gather of the tangent: its transpose under
        # grad is a scatter-add into the gradient, in place
        dxy = jnp.squeeze(jnp.take_along_axis(dx, idx, axis=ax), ax)
        w = (1.0 - a) if smooth else 1.0
        t = t - jnp.where(valid & owned, w * dxy, jnp.zeros_like(dxy))
        out = out + _psum(t, axis_name)
    if smooth and not _is_zero(da):
        # d loss / d a = x_y - mean_S(x), from the shifted quantities
        slope = (xy - norm.shift) - mean_shifted
        out = out + jnp.where(valid, da * slope, jnp.zeros_like(out))
    if zloss and not _is_zero(dz):
        lse2 = jnp.square(norm.lse)
        out = out + jnp.where(valid, dz * lse2, jnp.zeros_like(out))
    return loss, out


ce_integer_labels.defjvp(_ce_jvp, symbolic_zeros=True)


# --------------------------------------------------------------------------
# KL divergence between log-probabilities


def _kl_forward(ax, axis_name, lp, lt):
    """Row sums of ``exp(lt) * (lt - lp)``, exact at every edge, select-free.

    With ``p = exp(lt)``: ``log(1 - sign(p))`` is ``-inf`` where ``p > 0`` and
    0 where ``p == 0``, so ``max(lp, .)`` is ``lp`` wherever ``p > 0`` (keeping
    ``p > 0 = q`` at ``+inf``) and finite wherever ``p == 0``; ``max(lt,
    lowest)`` is ``lt`` wherever ``p > 0`` and finite elsewhere. Every
    ``p == 0`` term is therefore ``0 * finite = 0`` and every other term is
    ``p * (lt - lp)`` exactly.
    """
    p = jnp.exp(lt)
    lpc = jnp.maximum(lp, jnp.log(1.0 - jnp.sign(p)))
    ltc = jnp.maximum(lt, _lowest(lt.dtype))
    return _psum(jnp.sum(p * (ltc - lpc), axis=ax), axis_name)


def _kl_clamped(ax, axis_name, lp, lt):
    """The row sums with only rounding-level negatives clamped, and the mask
    of the clamped rows. The magnitude of the terms, ``sum p (|lt| + |lp|)``,
    bounds the rounding; a larger negative (log-predictions that do not
    normalise, raw logits say) stays visible."""
    s = _kl_forward(ax, axis_name, lp, lt)
    p = jnp.exp(lt)
    finite = jnp.isfinite(lp) & jnp.isfinite(lt)
    mag = jnp.where(
        finite,
        jnp.abs(jnp.where(finite, lt, 0.0)) + jnp.abs(jnp.where(finite, lp, 0.0)),
        0.0,
    )
    scale = _psum(jnp.sum(p * mag, axis=ax), axis_name)
    out = clamp_nonnegative(s, scale)
    return out, (s < 0) & (out == 0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def kl_log_targets(ax, axis_name, lp, lt):
    r"""Per-row :math:`\sum_i e^{lt_i} (lt_i - lp_i)`; rounding-level
    negatives (32 eps of the terms' magnitude) are clamped to 0.

    Args:
      ax: tuple of event axes (static).
      axis_name: mesh axis across which the event axes are split, or None.
      lp: log-predictions (``-inf`` allowed).
      lt: log-targets (``-inf`` allowed: zero target mass).
    """
    return _kl_clamped(ax, axis_name, lp, lt)[0]


def _kl_jvp(ax, axis_name, primals, tangents):
    lp, lt = primals
    dlp, dlt = tangents
    out, clamped = _kl_clamped(ax, axis_name, lp, lt)
    if _is_zero(dlp) and _is_zero(dlt):
        return out, jnp.zeros_like(out)
    lpb, ltb = jax.lax.optimization_barrier((lp, lt))
    p = jnp.exp(ltb)
    zero = p == 0
    terms = jnp.zeros_like(p)
    if not _is_zero(dlp):
        terms = terms - p * dlp
    if not _is_zero(dlt):
        d = jnp.where(zero, 0.0, ltb - jnp.where(zero, 0.0, lpb))
        terms = terms + jnp.where(zero, 0.0, p * (d + 1.0)) * dlt
    t = _psum(jnp.sum(terms, axis=ax), axis_name)
    return out, jnp.where(clamped, jnp.zeros_like(t), t)


kl_log_targets.defjvp(_kl_jvp, symbolic_zeros=True)


# --------------------------------------------------------------------------
# KL divergence between two softmaxes, from logits


def difference(a, b, c):
    """``(a - b) - c`` with ``a - b`` not rounded (Knuth's two-sum): a pair of
    close distributions given by logits offset by a large constant keeps
    every digit of the small difference. ``a = -inf`` gives 0 (outside the
    support of ``p``); ``b = -inf`` under a finite ``a`` gives ``+inf``."""
    hi = a - b
    bv = hi - a
    lo = (a - (hi - bv)) - (b + bv)
    lo = jnp.where(jnp.isfinite(hi), lo, jnp.zeros_like(lo))
    return jnp.where(a == -jnp.inf, jnp.zeros_like(hi), (hi - c) + lo)


def two_difference(x, y):
    """``(d, err)`` with ``d = fl(x - y)`` and ``d + err = x - y`` exactly
    (two-sum; ``err = 0`` where ``d`` is not finite)."""
    d = x - y
    bv = d - x
    err = (x - (d - bv)) - (y + bv)
    return d, jnp.where(jnp.isfinite(d), err, jnp.zeros_like(err))


class _KLStats(NamedTuple):
    value: jax.Array  # the divergence per row, unclamped
    na: _Normalizer  # of a (keepdims)
    nb: _Normalizer  # of b (keepdims)
    offset: jax.Array  # log p - log q = u0 - offset (keepdims)


def _kl_logits_forward(ax, axis_name, a, b):
    """The divergence of two softmaxes, accurate for near and far pairs.

    With ``u0 = (a - b) - (c_a - c_b)`` (``c`` the row maxima) and ``mu`` its
    mean under ``p``, ``log p - log q = u - L`` for ``u = u0 - mu`` and
    ``L = -log(sum_i p_i e^{-u_i})``. Far rows (``u0`` spanning more than 1
    over ``p``'s support) take the direct form ``mu - log s_a + log s_b``;
    near rows (where ``alpha`` is at most 1) the Bregman form
    ``KL = G - (alpha - log1p(alpha))`` with
    ``G = sum p (e^{-u} - 1 + u)`` (non-negative terms) and ``alpha = sum p
    (e^{-u} - 1)``, an identity for any centre that is free of the
    cancellation of ``sum p (log p - log q)``: relative rounding at every
    scale of the difference, and exactly 0 with zero gradient at ``a = b``.
    """
    e = functools.partial(jnp.expand_dims, axis=ax)
    na = _log_normalizer(a, ax, axis_name)
    nb = _log_normalizer(b, ax, axis_name)
    na, nb = (
        _Normalizer(e(n.shift), e(n.log_sum), e(n.nonempty), n.exps, e(n.inv_sum))
        for n in (na, nb)
    )
    ea = na.exps
    c, c_lo = two_difference(na.shift, nb.shift)
    u0 = difference(a, b, c)
    held = ea > 0
    # the mean of u0 under p, weighted by p itself rather than by ea then
    # divided: sum(ea u0) overflows at logits of 3e38 although the mean fits
    p = _softmax_of(a, ea, na.inv_sum, ax, axis_name)
    mu = _psum(jnp.sum(weighted(p, u0), axis=ax, keepdims=True), axis_name)
    hi = _pmax(
        jnp.max(jnp.where(held, u0, -jnp.inf), axis=ax, keepdims=True), axis_name
    )
    lo = -_pmax(
        jnp.max(jnp.where(held, -u0, -jnp.inf), axis=ax, keepdims=True), axis_name
    )
    near = (hi - lo) <= 1.0  # False for nan, inf and empty rows
    far_value = mu - c_lo - (na.log_sum - nb.log_sum)

    # the Bregman form on near rows (their u lie in [-1, 1] where p > 0)
    u = jnp.where(near, u0 - mu, jnp.zeros_like(u0))
    # where p == 0 (a = -inf, or underflowed): p e^{-u}, which is q's mass
    # there over sum(p e^{-u}), is exp((b - c_b) - log s_a + mu - c_lo)
    log_r0 = (b - nb.shift) - na.log_sum + (mu - c_lo)
    r0 = jnp.exp(jnp.where(near & ~held, log_r0, -jnp.inf))
    u_held = jnp.where(held, u, jnp.zeros_like(u))
    g = jnp.where(held, p * expm1mx(-u_held), r0)
    d = jnp.where(held, p * jnp.expm1(-u_held), r0)
    big_g = _psum(jnp.sum(g, axis=ax, keepdims=True), axis_name)
    alpha = _psum(jnp.sum(d, axis=ax, keepdims=True), axis_name)
    # q's mass where p has none can still be large (a single-category p, or
    # logits of 1e4): then alpha is big or inf, there is no cancellation to
    # avoid, and the direct form is the accurate one
    near = near & (alpha <= 1.0)
    alpha_ok = jnp.where(near, alpha, jnp.zeros_like(alpha))
    log1p_alpha = jnp.log1p(alpha_ok)
    near_value = big_g - (alpha_ok - log1p_alpha)

    value = jnp.where(near, near_value, far_value)
    value = jnp.where(na.nonempty, value, jnp.zeros_like(value))
    offset = jnp.where(near, mu - log1p_alpha, c_lo + (na.log_sum - nb.log_sum))
    return _KLStats(jnp.squeeze(value, ax), na, nb, offset), u0, p


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def kl_from_logits(ax, axis_name, a, b):
    r"""Per-row :math:`D_{KL}(\mathrm{softmax}(a) \| \mathrm{softmax}(b))`.

    Same numbers as ``jaxdiv.kl_divergence_from_logits`` (``-inf`` logits
    outside the support, an empty ``a`` row gives 0, an empty ``b`` row under a
    non-empty ``a`` gives ``+inf``, clamped at 0), accurate to rounding
    relative to the divergence for near pairs too (see
    :func:`_kl_logits_forward`). Under ``jax.grad``:
    :math:`\partial_b = q - p` and :math:`\partial_a = p (\log p - \log q - D)`.

    Args:
      ax: tuple of event axes (static).
      axis_name: mesh axis across which the event axes are split, or None.
      a: logits of ``p``, ``-inf`` outside its support.
      b: logits of ``q``, same shape.
    """
    return clamp_nonnegative(_kl_logits_forward(ax, axis_name, a, b)[0].value)


def _kl_logits_jvp(ax, axis_name, primals, tangents):
    a, b = primals
    da, db = tangents
    stats, u0, p = _kl_logits_forward(ax, axis_name, a, b)
    s = stats.value
    out = clamp_nonnegative(s)
    if _is_zero(da) and _is_zero(db):
        return out, jnp.zeros_like(out)
    delta = u0 - stats.offset  # log p - log q where p > 0
    terms = jnp.zeros_like(p)
    if not _is_zero(db):
        q = _softmax_of(b, stats.nb.exps, stats.nb.inv_sum, ax, axis_name)
        small = (p > 0) & (jnp.abs(delta) <= 1.0)
        # second derivatives: those of q - p, which _softmax_of forms
        # stably (the near form's own would cancel in d log q at q_r ~ 1)
        direct = q - p
        stable = direct - jax.lax.stop_gradient(direct)  # 0, tangent d(q - p)
        near = jax.lax.stop_gradient(p * jnp.expm1(-jnp.where(small, delta, 0.0)))
        q_minus_p = jnp.where(small, near + stable, direct)
        terms = terms + jnp.where(stats.na.nonempty, q_minus_p, 0.0) * db
    if not _is_zero(da):
        d = delta - jnp.expand_dims(s, ax)
        terms = terms + weighted(p, d) * da
    t = _psum(jnp.sum(terms, axis=ax), axis_name)
    return out, jnp.where(s < 0, jnp.zeros_like(t), t)


kl_from_logits.defjvp(_kl_logits_jvp, symbolic_zeros=True)
