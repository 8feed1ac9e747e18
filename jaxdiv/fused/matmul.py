"""Matmuls of tiles: input dtype in, float32 (the accumulator dtype) out."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def acc_dtype(*xs) -> jnp.dtype:
    """float32 for 16-bit and float32 inputs, float64 for float64."""
    return jnp.promote_types(jnp.result_type(*xs), jnp.float32)


def _mm(a: jax.Array, b: jax.Array, dims, acc) -> jax.Array:
    """A matmul in the input dtype accumulated in ``acc``.

    XLA's CPU runtime has no 16-bit x 16-bit -> float32 dot for every layout
    (``Unsupported element type for DotThunk::Execute: BF16 x BF16 = F32``
    once a transpose is folded into the dot), so on CPU 16-bit operands are
    widened first, behind an optimisation barrier that keeps XLA from
    folding the casts back into the dot: one tile at a time, never a whole
    weight (the planner keeps 16-bit weight chunks small). Elsewhere the
    matmul runs in the input dtype with ``preferred_element_type``.
    """
    spec = (dims, ((), ()))
    if a.dtype == acc and b.dtype == acc:
        return lax.dot_general(a, b, spec, preferred_element_type=acc)

    def cpu(a, b):
        a, b = lax.optimization_barrier((a, b))  # no hoisted cast of a weight
        a, b = lax.optimization_barrier((a.astype(acc), b.astype(acc)))
        return lax.dot_general(a, b, spec)

    def other(a, b):
        return lax.dot_general(a, b, spec, preferred_element_type=acc)

    return lax.platform_dependent(a, b, cpu=cpu, default=other)


def dot(a: jax.Array, b: jax.Array, acc) -> jax.Array:
    """``a [B, D] @ b [D, C]``."""
    return _mm(a, b, ((1,), (0,)), acc)


def dot_t(g: jax.Array, w: jax.Array, acc) -> jax.Array:
    """``g [B, C] @ w [D, C]^T`` (a tile's ``d hidden``)."""
    return _mm(g, w, ((1,), (1,)), acc)


def t_dot(h: jax.Array, g: jax.Array, acc) -> jax.Array:
    """``h [B, D]^T @ g [B, C]`` (a tile's ``d weight``)."""
    return _mm(h, g, ((0,), (0,)), acc)
