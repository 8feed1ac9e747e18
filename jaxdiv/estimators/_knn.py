"""Nearest-neighbour distances in tiles, shared by the kNN estimators.

Brute force, exact, and O(n * tile) in memory: the queries are cut into
blocks of ``chunk_size`` rows and ``jax.lax.map`` runs one block at a time
against every key, so the largest live array is ``[chunk_size, n_keys]``
(never ``[n, n]``). Within a block:

* distances are accumulated one feature at a time on the transposed keys
  (unrolled into one fusion up to 32 features, a loop beyond)
  (``|a_f - b_f|`` maxed for the max-norm, ``(a_f - b_f)^2`` summed for the
  Euclidean norm, whose square root is taken only at the end, on ``[chunk]``
  values): no ``|a|^2 + |b|^2 - 2 a.b`` expansion, so near neighbours keep
  full relative precision, and no ``[chunk, n, d]`` intermediate;
* the k-th smallest distance of each row is found by ``k`` passes of a
  masked minimum with a running count of the values already passed, so
  ties (duplicate points, zero distances) count with their multiplicity,
  exactly as a sort would, without sorting (``lax.top_k`` lowers to a full
  sort of the row on CPU when its input is reused).

Everything is static-shaped: ``n`` and ``k`` are Python ints, so the
estimators jit, vmap and differentiate (the gradient flows through the
selected distances).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import jax
import jax.numpy as jnp

from .._core import checks

NORMS = ("euclidean", "max")
# 64 rows x 10,000 keys x 4 bytes = 2.5 MB per distance array: the block's
# passes run in cache (256-row blocks were 10x slower at n = 10,000 on CPU).
DEFAULT_CHUNK = 64
# Up to this many features the feature loop is unrolled into one fusion.
_UNROLLED_FEATURES = 32


def samples(name: str, argname: str, x) -> jax.Array:
    """``x`` as a floating ``[n, d]`` array (``[n]`` is one feature)."""
    x = checks.floating(name, argname, x)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(
            f"jaxdiv.{name}: {argname} must be samples of shape [n, d] (or [n]), "
            f"got shape {x.shape}; vmap over batch axes."
        )
    return x


def neighbour_count(name: str, k) -> int:
    """``k`` as a positive Python int."""
    try:
        k = operator.index(k)
    except TypeError:
        raise TypeError(
            f"jaxdiv.{name}: k must be a positive int, got {type(k).__name__}."
        ) from None
    if k < 1:
        raise ValueError(f"jaxdiv.{name}: k must be >= 1, got {k}.")
    return k


def enough_samples(name: str, argname: str, x: jax.Array, needed: int, k: int):
    if x.shape[0] < needed:
        raise ValueError(
            f"jaxdiv.{name}: {argname} has shape {x.shape}: {x.shape[0]} samples, "
            f"but k={k} needs at least {needed}."
        )


def chunk(name: str, chunk_size, n: int) -> int:
    size = checks.size_or_none(name, "chunk_size", chunk_size)
    return min(n, DEFAULT_CHUNK if size is None else size)


def distances(queries: jax.Array, keys_t: jax.Array, norm: str) -> jax.Array:
    """``[b, m]`` distances: max-norm, or squared Euclidean for ``"euclidean"``.

    Args:
      queries: ``[b, d]``.
      keys_t: the keys transposed, ``[d, m]``.
      norm: ``"max"`` or ``"euclidean"`` (squared distances are returned).
    """

    combine = jnp.maximum if norm == "max" else jnp.add

    def term(a, b):
        diff = a - b
        return jnp.abs(diff) if norm == "max" else diff * diff

    d = queries.shape[1]
    if d <= _UNROLLED_FEATURES:  # one elementwise fusion, no intermediate
        acc = term(queries[:, :1], keys_t[:1])
        for f in range(1, d):
            acc = combine(acc, term(queries[:, f : f + 1], keys_t[f : f + 1]))
        return acc

    def body(f, acc):
        a = jax.lax.dynamic_index_in_dim(queries, f, axis=1, keepdims=True)
        b = jax.lax.dynamic_index_in_dim(keys_t, f, axis=0, keepdims=True)
        return combine(acc, term(a, b))

    return jax.lax.fori_loop(1, d, body, term(queries[:, :1], keys_t[:1]), unroll=8)


def kth_smallest(dist: jax.Array, kth: int) -> jax.Array:
    """The ``kth`` smallest entry (1-based, ties with multiplicity) of each row.

    Args:
      dist: ``[b, m]`` with ``m >= kth``, no nan.
      kth: Python int >= 1.

    Returns:
      ``[b]``.
    """
    rows = dist.shape[0]
    value = jnp.full((rows,), -jnp.inf, dist.dtype)
    passed = jnp.zeros((rows,), jnp.int32)
    for _ in range(kth):  # kth is a small static option, not data
        done = passed >= kth
        above = dist > value[:, None]
        nxt = jnp.min(jnp.where(above, dist, jnp.inf), axis=1)
        ties = jnp.sum(dist == nxt[:, None], axis=1, dtype=jnp.int32)
        value = jnp.where(done, value, nxt)
        passed = jnp.where(done, passed, passed + ties)
    return value


def map_blocks(
    fn: Callable[..., tuple[jax.Array, ...]],
    queries: tuple[jax.Array, ...],
    chunk_size: int,
) -> tuple[jax.Array, ...]:
    """``fn`` on ``chunk_size`` rows of every array in ``queries`` at a time.

    ``fn`` maps blocks ``[chunk_size, ...]`` to a tuple of ``[chunk_size]``
    arrays; the results are concatenated back to ``[n]``. The last block is
    padded with copies of the first row (valid points) and cut off.
    """
    n = queries[0].shape[0]
    blocks = -(-n // chunk_size)
    pad = blocks * chunk_size - n

    def tile(q):
        if pad:
            q = jnp.concatenate([q, jnp.broadcast_to(q[:1], (pad, *q.shape[1:]))])
        return q.reshape(blocks, chunk_size, *q.shape[1:])

    out = jax.lax.map(lambda qs: fn(*qs), tuple(tile(q) for q in queries))
    return tuple(o.reshape(blocks * chunk_size)[:n] for o in out)
