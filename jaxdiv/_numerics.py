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

import jax
import jax.numpy as jnp

from . import _checks


def weighted(p: jax.Array, v: jax.Array) -> jax.Array:
    """``p * v`` with ``0 * v = 0`` for any ``v`` (inf and nan included).

    The gradient through ``p`` and ``v`` is 0 wherever ``p == 0``.
    """
    zero = p == 0
    return jnp.where(zero, 0.0, p * jnp.where(zero, 0.0, v))


def safe_log(p: jax.Array) -> jax.Array:
    """``log p`` with ``log 0 = -inf`` and a zero gradient at ``p == 0``."""
    zero = p == 0
    return jnp.where(zero, -jnp.inf, jnp.log(jnp.where(zero, 1.0, p)))


def safe_sqrt(x: jax.Array) -> jax.Array:
    """``sqrt x`` whose gradient at ``x == 0`` is 0 rather than inf/nan."""
    zero = x == 0
    return jnp.where(zero, 0.0, jnp.sqrt(jnp.where(zero, 1.0, x)))


def clamp_nonnegative(d: jax.Array) -> jax.Array:
    """Rounding-level negatives to 0; nan stays nan; gradient passes where d >= 0."""
    return jnp.where(d < 0, jnp.zeros_like(d), d)


def support_of(logits: jax.Array, where: jax.Array | None) -> jax.Array:
    """Entries inside the support: not ``-inf`` (nan is kept) and not masked."""
    support = logits != -jnp.inf
    return support if where is None else support & where


def _shard_any(x: jax.Array, axes, axis_name) -> jax.Array:
    out = jnp.any(x, axis=axes, keepdims=True)
    if axis_name is not None:
        out = jax.lax.psum(out.astype(jnp.int32), axis_name) > 0
    return out


def log_normalizer(
    logits: jax.Array,
    axes: _checks.Axes,
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
    nonempty = _shard_any(support, axes, axis_name)
    if axis_name is None:
        lse = jax.nn.logsumexp(x, axis=axes, where=support | ~nonempty, keepdims=True)
    else:
        m = jnp.max(jnp.where(support, x, -jnp.inf), axis=axes, keepdims=True)
        m = jax.lax.pmax(jax.lax.stop_gradient(m), axis_name)
        m = jnp.where(jnp.isneginf(m), 0.0, m)
        s = jnp.sum(jnp.where(support, jnp.exp(x - m), 0.0), axis=axes, keepdims=True)
        s = jax.lax.psum(s, axis_name)
        lse = m + jnp.log(jnp.where(nonempty, s, 1.0))
    lse = jnp.where(nonempty, lse, 0.0)
    return lse if keepdims else jnp.squeeze(lse, axes)


def log_softmax(
    logits: jax.Array,
    axes: _checks.Axes,
    where: jax.Array | None = None,
    axis_name: str | tuple[str, ...] | None = None,
) -> jax.Array:
    """Masked, padding-safe log-softmax.

    Entries outside the support (``-inf`` logits or ``where == False``) get
    ``-inf`` whatever they held, and are left out of the normalisation. A row
    with no support at all gives ``-inf`` everywhere with a zero gradient
    (``jax.nn.log_softmax`` gives nan there). ``axis_name``: see
    :func:`log_normalizer`.
    """
    support = support_of(logits, where)
    x = jnp.where(support, logits, 0.0)
    if axis_name is None:
        nonempty = jnp.any(support, axis=axes, keepdims=True)
        out = jax.nn.log_softmax(x, axis=axes, where=support | ~nonempty)
    else:
        out = x - log_normalizer(logits, axes, where, True, axis_name)
    return jnp.where(support, out, -jnp.inf)


def event_sum(
    x: jax.Array, axes: _checks.Axes, axis_name: str | tuple[str, ...] | None = None
) -> jax.Array:
    """Sum over the event axes, and across devices when they are split."""
    s = jnp.sum(x, axis=axes)
    return s if axis_name is None else jax.lax.psum(s, axis_name)


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
