"""Validation of the fused losses' matmul operands.

The output projection ``hidden [..., D] @ weight [D, V]`` keeps 16-bit
dtypes (the matmuls run in the input dtype and accumulate in float32),
unlike the measures, which promote 16-bit inputs to float32.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def projection(
    name: str,
    hidden: chex.ArrayLike,
    weight: chex.ArrayLike,
    names: tuple[str, str] = ("hidden", "weight"),
) -> tuple[jax.Array, jax.Array]:
    """``hidden [..., D]`` and ``weight [D, V]`` of an output projection.

    Both must be floating; unlike :func:`floating`, 16-bit dtypes are kept
    (the matmuls run in the input dtype and accumulate in float32). The two
    are promoted to one common dtype.

    Raises:
      TypeError: a non-floating operand.
      ValueError: ``weight`` not of rank 2, ``hidden`` a scalar, or the
        contracted dimensions differ.
    """
    arrays = {names[0]: jnp.asarray(hidden), names[1]: jnp.asarray(weight)}
    for argname, x in arrays.items():
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(
                f"jaxdiv.{name}: {argname} must be a floating array, got dtype "
                f"{x.dtype} with shape {x.shape}."
            )
    h, w = arrays.values()
    if w.ndim != 2 or h.ndim < 1 or h.shape[-1] != w.shape[0]:
        raise ValueError(
            f"jaxdiv.{name}: {names[0]} has shape {h.shape} and {names[1]} has "
            f"shape {w.shape}; expected {names[0]} [..., D] and {names[1]} "
            "[D, V] with the same D."
        )
    dtype = jnp.result_type(h, w)
    return h.astype(dtype), w.astype(dtype)


def vector(
    name: str, argname: str, x: chex.ArrayLike | None, size: int
) -> jax.Array | None:
    """An optional floating vector of shape ``[size]`` (e.g. a bias)."""
    if x is None:
        return None
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be a floating array, got dtype {x.dtype}."
        )
    if x.shape != (size,):
        raise ValueError(
            f"jaxdiv.{name}: {argname} has shape {x.shape}, expected ({size},)."
        )
    return x
