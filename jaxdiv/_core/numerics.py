"""The few zero-safe primitives every measure is built from.

Each primitive uses the "double ``where``" pattern: the unsafe branch is fed
safe values wherever it will be discarded, so neither the value nor the
gradient (reverse or forward mode) can pick up a nan from a branch that is not
taken. nan in a kept input still propagates: it is never silently replaced.

Conventions shared by all of jaxdiv:

* ``0 * log 0 = 0`` and ``0 * log(0 / 0) = 0``; the gradient of such a term
  through ``p`` is 0 (the convention of ``jax.scipy.special.rel_entr``).
* ``-inf`` logits and masked entries are outside the support; a row with no
  support at all is an empty (padding) row.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from . import checks


def weighted(p: jax.Array, v: jax.Array) -> jax.Array:
    """``p * v`` with ``0 * v = 0`` for any ``v`` (inf and nan included).

    The gradient through ``p`` and ``v`` is 0 wherever ``p == 0``.
    """
    zero = p == 0
    return jnp.where(zero, 0.0, p * jnp.where(zero, 0.0, v))


def linear_weighted(p: jax.Array, v: jax.Array) -> jax.Array:
    """``p * v`` with ``0 * (+-inf) = 0``, differentiated as the linear map it is.

    Where ``v`` is finite the gradient through ``p`` is ``v``, at ``p == 0``
    too (:func:`weighted` gives 0 there); where ``v`` is infinite the term
    is :func:`weighted`'s. For cross-entropy terms ``p * log q``, whose
    derivative in ``p`` is ``log q``, finite wherever ``q > 0``. nan in
    ``v`` propagates.
    """
    inf = jnp.isinf(v)
    return jnp.where(inf, weighted(p, v), p * jnp.where(inf, 0.0, v))


def propagate_nan(p: jax.Array, q: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Makes a nan in either of two paired inputs a nan in both.

    The zero-safe terms drop an entry whose weight is 0 whatever its partner
    holds, so ``kl([1, 0], [1, nan])`` would silently be 0: nan in an
    unmasked input must give nan out (mask it with ``where`` to drop it).
    """
    nan = jnp.isnan(p) | jnp.isnan(q)
    return jnp.where(nan, jnp.nan, p), jnp.where(nan, jnp.nan, q)


def safe_log(p: jax.Array) -> jax.Array:
    """``log p`` with ``log 0 = -inf`` and a zero gradient at ``p == 0``."""
    zero = p == 0
    return jnp.where(zero, -jnp.inf, jnp.log(jnp.where(zero, 1.0, p)))


@jax.custom_jvp
def square_over(d: jax.Array, q: jax.Array) -> jax.Array:
    """``d^2 / q`` as ``d (d / q)``, differentiated as ``2 z dd - z^2 dq``
    with ``z = d / q``: finite wherever ``z^2`` is (the quotient rule's own
    tangent ``(dd - z dq) / q`` overflows at ``q = 1e-30`` although the
    term's does not)."""
    return d * (d / q)


@square_over.defjvp
def _square_over_jvp(primals, tangents):
    (d, q), (dd, dq) = primals, tangents
    z = d / q
    return d * z, 2.0 * z * dd - (z * z) * dq


def safe_sqrt(x: jax.Array) -> jax.Array:
    """``sqrt x`` whose gradient at ``x == 0`` is 0 rather than inf/nan."""
    zero = x == 0
    return jnp.where(zero, 0.0, jnp.sqrt(jnp.where(zero, 1.0, x)))


def clamp_nonnegative(d: jax.Array, scale: jax.Array | None = None) -> jax.Array:
    """Rounding-level negatives to 0; nan stays nan; gradient passes where kept.

    Without ``scale`` every negative is taken for rounding (for sums that are
    non-negative by construction, such as a KL between two softmaxes). With
    ``scale``, the magnitude of the terms summed into ``d`` (for instance
    ``sum |p log p| + |p log q|``), only negatives within ``32 * eps * scale``
    of 0 are clamped: larger ones are left visible, since they mean the
    inputs were not distributions (say, logits passed as log-probabilities)
    and hiding them would silently stop training.
    """
    if scale is None:
        return jnp.where(d < 0, jnp.zeros_like(d), d)
    eps = jnp.finfo(d.dtype).eps
    tol = 32.0 * eps * jax.lax.stop_gradient(jnp.abs(scale))
    rounding = (d < 0) & (d >= -tol)
    return jnp.where(rounding, jnp.zeros_like(d), d)


def clamp_to_bound(d: jax.Array, bound: float = 1.0) -> jax.Array:
    """``d`` with values past ``bound`` set to ``bound``; nan stays nan.

    For measures bounded by construction (total variation, Hellinger) whose
    inputs' rounding (a softmax's, a bfloat16 cast's) can carry the sum a few
    ulp past the bound. The gradient passes unchanged, also at and past the
    bound (``jnp.minimum`` would halve it where the value is exactly
    ``bound``, the common case of disjoint supports).
    """
    over = d > bound
    return jnp.where(over, d - jax.lax.stop_gradient(d - bound), d)


# 1/n! for n = 2..17: the Taylor coefficients of exp(t) - 1 - t.
_EXPM1MX_COEFFS = tuple(1.0 / math.factorial(n) for n in range(2, 18))


def expm1mx(t: jax.Array) -> jax.Array:
    """``exp(t) - 1 - t``, accurate to full relative precision near ``t = 0``.

    Never negative. ``expm1(t) - t`` loses all digits as ``t -> 0`` (the
    result is ``t**2 / 2``); for ``|t| < 1/2`` the Taylor series is summed
    instead (Horner, 16 terms: exact to float64 rounding). It is the
    Bregman divergence of ``exp`` and appears in every KL between members
    of a scale family (``r - 1 - log r`` with ``t = log r``). Gradient
    ``expm1(t)``, nan-free on both branches.
    """
    small = jnp.abs(t) < 0.5
    ts = jnp.where(small, t, 0.0)
    series = jnp.zeros_like(ts)
    for c in reversed(_EXPM1MX_COEFFS):
        series = series * ts + c
    tl = jnp.where(small, 1.0, t)
    return jnp.where(small, ts * ts * series, jnp.expm1(tl) - tl)


# (n - 1)/n! for n = 2..17: the Taylor coefficients of e^y (y - 1) + 1.
_XEXPX_COEFFS = tuple((n - 1) / math.factorial(n) for n in range(2, 18))


def exp_bregman_x(y: jax.Array) -> jax.Array:
    """``e^y (y - 1) + 1``, accurate to full relative precision near ``y = 0``.

    Never negative (``~ y**2 / 2``). With ``y = log(p / m)`` it is
    ``phi(p / m - 1)`` for ``phi(x) = (1 + x) log(1 + x) - x``, so that
    ``m * phi`` is one Jensen-Shannon term ``p log(p / m) - p + m`` without
    the cancellation of its parts. Series (16 terms) for ``|y| < 1/2``.
    """
    small = jnp.abs(y) < 0.5
    ys = jnp.where(small, y, 0.0)
    series = jnp.zeros_like(ys)
    for c in reversed(_XEXPX_COEFFS):
        series = series * ys + c
    yl = jnp.where(small, 1.0, y)
    return jnp.where(small, ys * ys * series, jnp.exp(yl) * (yl - 1.0) + 1.0)


def log_ratio(x: jax.Array, y: jax.Array) -> jax.Array:
    """``log(x / y)`` for positive ``x``, ``y``: accurate to rounding as ``x / y -> 1``.

    ``log(x) - log(y)`` loses ``eps * |log x|`` there, and even the rounded
    quotient ``x / y`` is off by ``eps``, the whole of a result of that size.
    Within a factor 2, ``log1p((x - y) / y)`` is used (the subtraction is
    exact); beyond, the log of the quotient, or the difference of the logs
    where the quotient would overflow or underflow. nan in, nan out.
    """
    r = x / y
    near = (r > 0.5) & (r < 2.0)
    normal = (r >= jnp.finfo(r.dtype).tiny) & (r < jnp.inf)
    y_near = jnp.where(near, y, 1.0)
    close = jnp.log1p((jnp.where(near, x, 1.0) - y_near) / y_near)
    far = jnp.where(normal, jnp.log(jnp.where(normal, r, 1.0)), jnp.log(x) - jnp.log(y))
    return jnp.where(near, close, far)


def support_of(logits: jax.Array, where: jax.Array | None) -> jax.Array:
    """Entries inside the support: not ``-inf`` (nan is kept) and not masked."""
    support = logits != -jnp.inf
    return support if where is None else support & where


def shard_any(x: jax.Array, axes, axis_name) -> jax.Array:
    """``any`` over ``axes`` (kept), across the devices of ``axis_name`` too."""
    out = jnp.any(x, axis=axes, keepdims=True)
    if axis_name is not None:
        out = jax.lax.psum(out.astype(jnp.int32), axis_name) > 0
    return out


def shifted_log_sum(logits, axes, where, axis_name):
    """``(support, x, nonempty, m, log_s)`` with ``logsumexp = m + log_s``.

    ``x`` is the logits with entries outside the support set to 0.

    ``m`` is the (global) row maximum of the support, 0 on empty rows, and
    ``log_s`` the log of the sum of ``exp(x - m)``, 0 on empty rows.
    """
    support = support_of(logits, where)
    x = jnp.where(support, logits, 0.0)
    nonempty = shard_any(support, axes, axis_name)
    m = jnp.max(jnp.where(support, x, -jnp.inf), axis=axes, keepdims=True)
    m = jax.lax.stop_gradient(m)
    if axis_name is not None:
        m = jax.lax.pmax(m, axis_name)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    s = jnp.sum(jnp.where(support, jnp.exp(x - m), 0.0), axis=axes, keepdims=True)
    if axis_name is not None:
        s = jax.lax.psum(s, axis_name)
    log_s = jnp.where(nonempty, jnp.log(jnp.where(nonempty, s, 1.0)), 0.0)
    return support, x, nonempty, m, log_s


def log_normalizer(
    logits: jax.Array,
    axes: checks.Axes,
    where: jax.Array | None = None,
    keepdims: bool = False,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    """Masked ``logsumexp``; 0 (not ``-inf``) with zero gradient on empty rows.

    With ``axis_name`` the event axis is split across the devices of that
    (``shard_map``) mesh axis: the maximum is reduced with ``pmax`` and the
    sum of exponentials with ``psum``, so every device gets the global value.
    """
    support = support_of(logits, where)
    x = jnp.where(support, logits, 0.0)
    nonempty = shard_any(support, axes, axis_name)
    if axis_name is None:
        lse = jax.nn.logsumexp(x, axis=axes, where=support | ~nonempty, keepdims=True)
    else:
        _, _, nonempty, m, log_s = shifted_log_sum(logits, axes, where, axis_name)
        lse = m + log_s
    lse = jnp.where(nonempty, lse, 0.0)
    return lse if keepdims else jnp.squeeze(lse, axes)


def log_softmax(
    logits: jax.Array,
    axes: checks.Axes,
    where: jax.Array | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    """Masked, padding-safe log-softmax, formed as ``(x - max) - log sum``.

    Entries outside the support (``-inf`` logits or ``where == False``) get
    ``-inf`` whatever they held, and are left out of the normalisation. A row
    with no support at all gives ``-inf`` everywhere with a zero gradient
    (``jax.nn.log_softmax`` gives nan there). ``axis_name``: see
    :func:`log_normalizer`. The shift is subtracted first (never
    ``x - logsumexp``), so logits of ``1e30`` keep every digit.

    Differentiated by :func:`_log_softmax_jvp`, whose derivatives of every
    order are exact where the most probable entry's ``1 - p`` is below the
    float epsilon.
    """
    support = support_of(logits, where)
    logits = jnp.broadcast_to(logits, support.shape)
    axes = checks.axes("log_softmax", axes, logits.ndim)
    return _log_softmax(logits, support, axes, axis_name)


def psum_over(x, axis_name):
    """``x`` summed across the devices of ``axis_name`` (``None``: as is)."""
    return x if axis_name is None else jax.lax.psum(x, axis_name)


def pmax_over(x, axis_name):
    """``x``'s maximum across the devices of ``axis_name`` (``None``: as is);
    ``lax.pmax`` has no derivative, so its input is a constant."""
    if axis_name is None:
        return x
    return jax.lax.pmax(jax.lax.stop_gradient(x), axis_name)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3, 4))
def softmax_of(x, e, inv_s, ax, axis_name=None):
    """``softmax(x) = e * inv_s`` from a normaliser's ``exp`` and ``1 / sum``
    (``inv_s`` with the reduced axes ``ax``, a tuple, kept), differentiated
    stably; ``axis_name``: the mesh axis the event axes are split across.

    Its derivative ``p (dx - <p, dx>)`` is formed as ``p ((dx - dx_r) -
    <p, dx - dx_r>)`` with ``dx_r`` the tangent at the row's most probable
    entry (the mean over tied ones): there the bracket is a sum over the
    other, small probabilities, so the second derivatives of the losses
    (``jax.hessian``) are exact, ``diag(p) - p p^T``, even where ``1 - p_r``
    is below the float epsilon (``p_r(1 - p_r)`` computed as ``p_r - p_r^2``
    is then 0 or an ulp of noise). Only second-order derivatives evaluate
    this rule.
    """
    return e * inv_s


@softmax_of.defjvp
def _softmax_of_jvp(ax, axis_name, primals, tangents):
    x, e, inv_s = primals
    dx = tangents[0]
    p = e * inv_s
    held = p > 0
    top = held & (p == pmax_over(jnp.max(p, axis=ax, keepdims=True), axis_name))
    count = psum_over(jnp.sum(top.astype(p.dtype), axis=ax, keepdims=True), axis_name)
    dx_top = psum_over(
        jnp.sum(jnp.where(top, dx, 0.0), axis=ax, keepdims=True), axis_name
    )
    w = jnp.where(held, dx - dx_top / jnp.maximum(count, 1.0), jnp.zeros_like(dx))
    mean = psum_over(jnp.sum(p * w, axis=ax, keepdims=True), axis_name)
    return p, p * (w - mean)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _log_softmax(logits, support, axes, axis_name):
    x = jnp.where(support, logits, 0.0)
    if axis_name is None:
        nonempty = jnp.any(support, axis=axes, keepdims=True)
        out = jax.nn.log_softmax(x, axis=axes, where=support | ~nonempty)
    else:
        _, x, _, m, log_s = shifted_log_sum(x, axes, support, axis_name)
        out = (x - m) - log_s
    return jnp.where(support, out, -jnp.inf)


@_log_softmax.defjvp
def _log_softmax_jvp(axes, axis_name, primals, tangents):
    """``d log p = dx - <p, dx>`` with ``p`` from :func:`softmax_of`, whose
    own derivative is formed stably: the second derivatives of a loss
    (``jax.hessian``) are then ``diag(p) - p p^T`` even in the top entry,
    where ``1 - p_r`` rounds to 0 (JAX's own rule gives 0 there); the first
    derivative costs what JAX's does.
    """
    logits, support = primals
    out = _log_softmax(logits, support, axes, axis_name)
    dx = jnp.where(support, tangents[0], 0.0)
    p = softmax_of(logits, jnp.exp(out), jnp.ones((), out.dtype), axes, axis_name)
    mean = jnp.expand_dims(event_sum(p * dx, axes, axis_name), axes)
    return out, jnp.where(support, dx - mean, 0.0)


def event_sum(
    x: jax.Array, axes: checks.Axes, axis_name: str | tuple[str, ...] | None = None
) -> jax.Array:
    """Sum over the event axes, and across devices when they are split."""
    s = jnp.sum(x, axis=axes)
    return s if axis_name is None else jax.lax.psum(s, axis_name)


def event_any(
    x: jax.Array, axes: checks.Axes, axis_name: str | tuple[str, ...] | None = None
) -> jax.Array:
    """``any`` over the event axes, and across devices when they are split."""
    return jnp.squeeze(shard_any(x, axes, axis_name), axes)


def event_max(
    x: jax.Array, axes: checks.Axes, axis_name: str | tuple[str, ...] | None = None
) -> jax.Array:
    """``max`` over the event axes (and devices), differentiable when split.

    ``lax.pmax`` has no derivative: across devices the value is the global
    maximum and the gradient goes to the local maxima equal to it, shared
    equally among the devices that hold it. nan propagates.
    """
    m = jnp.max(x, axis=axes)
    if axis_name is None:
        return m
    top = jax.lax.pmax(jax.lax.stop_gradient(m), axis_name)
    hit = m == top
    finite = jnp.isfinite(m)
    ms = jnp.where(finite, m, 0.0)
    delta = jnp.where(hit & finite, ms - jax.lax.stop_gradient(ms), 0.0)
    count = jax.lax.psum(hit.astype(m.dtype), axis_name)
    return top + jax.lax.psum(delta, axis_name) / count


def log_mix(logp: jax.Array, logq: jax.Array, weight) -> jax.Array:
    """``log(w * p + (1 - w) * q)`` from log-probabilities, nan-free gradient."""
    w = jnp.asarray(weight, logp.dtype)
    a = logp + safe_log(w)
    b = logq + safe_log(1.0 - w)
    both = (a == -jnp.inf) & (b == -jnp.inf)
    mixed = jnp.logaddexp(jnp.where(both, 0.0, a), jnp.where(both, 0.0, b))
    return jnp.where(both, -jnp.inf, mixed)


def in_base(x: jax.Array, base: float | None) -> jax.Array:
    """Converts nats to the logarithm ``base`` (``None`` keeps nats)."""
    if base is None:
        return x
    return x / jnp.log(jnp.asarray(base, x.dtype))
