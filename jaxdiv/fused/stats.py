"""Running statistics of a row of logits seen one vocabulary chunk at a time.

A head's statistics are a :class:`Running`: one running maximum per
distribution (student, teacher) and a NamedTuple of sums. Sums of
``exp(x - max)`` and *centred* sums such as ``sum exp(x - max) (x - max)``
are kept relative to the running maximum, so that every log-probability is
formed as ``(x - max) - log sum``, never as ``x - (max + log sum)``, which
loses all digits once the logits reach ``1e4`` in float32 (or ``1e30`` in
any dtype). When the maximum moves from ``m`` to ``M`` a head rescales its
sums with :func:`factor` ``exp(m - M)`` and :func:`shift` ``m - M``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax


class Running(NamedTuple):
    """Statistics of a block of rows: ``maxima`` (one ``[B]`` per
    distribution, possibly empty) and the head's ``sums`` (``[B]`` each)."""

    maxima: tuple
    sums: Any


def max_and_exp(x: jax.Array, ok: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    """Row maximum over the kept columns and ``exp(x - max)`` (0 elsewhere)."""
    if ok is not None:
        x = jnp.where(ok, x, -jnp.inf)
    m = lax.stop_gradient(jnp.max(x, axis=-1))
    safe = jnp.where(m == -jnp.inf, 0.0, m)
    return m, jnp.exp(x - safe[:, None])


def centred(x: jax.Array, m: jax.Array) -> jax.Array:
    """``x - max`` of a tile, ``-inf`` where ``x`` is (never nan)."""
    safe = jnp.where(m == -jnp.inf, 0.0, m)
    return x - safe[:, None]


def factor(m_old: jax.Array, m_new: jax.Array) -> jax.Array:
    """``exp(m_old - m_new)``, 0 for an empty (``-inf``) old maximum."""
    return jnp.where(m_old == -jnp.inf, 0.0, jnp.exp(m_old - m_new))


def shift(m_old: jax.Array, m_new: jax.Array) -> jax.Array:
    """``m_old - m_new``, 0 for an empty old maximum (its sums are 0)."""
    return jnp.where(m_old == -jnp.inf, 0.0, m_old - m_new)


def merge(head, a: Running, b: Running) -> Running:
    """Statistics of the union of two blocks of columns."""
    m = tuple(jnp.maximum(x, y) for x, y in zip(a.maxima, b.maxima, strict=True))
    ra, rb = head.rescale(a, m), head.rescale(b, m)
    return Running(m, jax.tree.map(jnp.add, ra, rb))


def all_merge(head, st: Running, axis_name) -> Running:
    """Statistics of the vocabulary slices held by the devices of an axis."""
    m = tuple(lax.pmax(x, axis_name) for x in st.maxima)
    sums = jax.tree.map(lambda x: lax.psum(x, axis_name), head.rescale(st, m))
    return Running(m, sums)


def label_logit(s: jax.Array, ok, cols: jax.Array, y: jax.Array) -> jax.Array:
    """``s[n, y_n]`` where label ``y_n`` is one of the (kept) columns, else 0.

    A gather of one entry per row, not a pass over the tile; ``cols`` is the
    ``[1, C]`` row of the tile's (consecutive) global column indices.
    """
    local = y - cols[0, 0]
    inside = (local >= 0) & (local < s.shape[1])
    local = jnp.clip(local, 0, s.shape[1] - 1)
    if ok is not None:
        inside = inside & ok[0, local]
    val = jnp.take_along_axis(s, local[:, None], axis=1)[:, 0]
    return jnp.where(inside, val, 0.0)
