"""Plumbing shared by the parametric-family modules (``normal.py``, ``gamma.py``...).

Each family module follows the same three steps, so that every family has
the same dtype rules, broadcasting rules and out-of-domain behaviour:

1. :func:`params`: floating dtype check (16-bit promoted to float32, one
   common dtype), then the batch axes of all parameters broadcast together
   (NumPy rules; event axes, where a family has them, come last).
2. :func:`positive` / :func:`guard`: the value checks of
   :func:`jaxdiv.value_checks` (positive and finite parameters), then the
   "double where": parameters outside the domain are replaced by 1 before the
   formula runs, so neither value nor gradient can pick up a nan from them.
3. :func:`nan_unless`: the result is nan wherever a parameter was outside
   the domain (a negative scale, a non-positive concentration or rate, nan).

Python scalars are accepted wherever a float is expected (``0`` is
``0.0``, weakly typed as in ``jnp``); integer *arrays* raise ``TypeError``.
Subnormal scales, rates and concentrations are outside the domain: XLA
flushes them to 0 on CPU and GPU, so no formula could use them.

The differentiable primitives :func:`log_ratio`, :func:`div` and
:func:`recip` carry their own derivative rules, written so that no
intermediate overflows where the derivative itself is finite (``1 / y**2``
underflows ``y**2`` to 0 for ``y < 1e-19`` in float32; ``(1 / y) / y`` does
not): the families' gradients stay finite from 1e-30 to 1e30.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, value_checks
from .._core.types import Shape


def python_scalars_as_floats(arrays: dict) -> dict:
    """Python ``int``/``bool`` scalars become Python floats (weakly typed).

    ``jnp`` treats ``normal.kl_divergence(0, 1, 1, 2)``'s arguments as
    numbers, not as integer arrays; so do the families. Integer arrays are
    left alone (and rejected by the floating check).
    """
    return {k: float(v) if isinstance(v, int | bool) else v for k, v in arrays.items()}


def params(
    name: str, event_ndims: dict[str, int] | None = None, **arrays: ArrayLike
) -> list[jax.Array]:
    """Floating parameters of one dtype, batch axes broadcast together."""
    xs = checks.floatings(name, **python_scalars_as_floats(arrays))
    return checks.broadcast_batch(name, dict(zip(arrays, xs, strict=True)), event_ndims)


def positive(name: str, **arrays: jax.Array) -> jax.Array:
    """Value checks (opt-in) and the mask where every parameter is in ``(0, inf)``.

    The mask has the arrays' common (already broadcast) shape.
    """
    value_checks.positive(name, **arrays)
    ok = jnp.ones(jnp.shape(next(iter(arrays.values()))), bool)
    for x in arrays.values():
        ok = ok & (x >= jnp.finfo(x.dtype).tiny) & jnp.isfinite(x)
    return ok


def positive_params(name: str, **arrays: ArrayLike) -> tuple[jax.Array, list]:
    """:func:`params`, then the in-domain mask, then :func:`guard`.

    Returns ``(ok, [guarded parameters])`` for families whose every parameter
    must lie in ``(0, inf)`` (rates, concentrations).
    """
    xs = params(name, **arrays)
    ok = positive(name, **dict(zip(arrays, xs, strict=True)))
    return ok, guard(ok, *xs)


def location_scale_pair(name: str, loc_p, scale_p, loc_q, scale_q):
    """Two location-scale parameter pairs: ``(ok, loc_p, scale_p, loc_q, scale_q)``.

    Locations are checked finite (opt-in); scales positive and guarded.
    """
    lp, sp, lq, sq = params(
        name, loc_p=loc_p, scale_p=scale_p, loc_q=loc_q, scale_q=scale_q
    )
    finite(name, loc_p=lp, loc_q=lq)
    ok = positive(name, scale_p=sp, scale_q=sq)
    sp, sq = guard(ok, sp, sq)
    return ok, lp, sp, lq, sq


def finite(name: str, **arrays: jax.Array) -> None:
    """Value checks (opt-in): location parameters are finite."""
    for argname, x in arrays.items():
        value_checks.check(name, jnp.isfinite(x), f"{argname} must be finite.")


def guard(ok: jax.Array, *xs: jax.Array) -> list[jax.Array]:
    """Replaces the entries where ``ok`` is False by 1 (safe for any formula)."""
    return [jnp.where(_expand(ok, x), x, jnp.ones_like(x)) for x in xs]


def nan_unless(ok: jax.Array, value: jax.Array) -> jax.Array:
    """``value`` where ``ok``, nan elsewhere."""
    return jnp.where(ok, value, jnp.full_like(value, jnp.nan))


def _expand(ok: jax.Array, x: jax.Array) -> jax.Array:
    return ok.reshape(ok.shape + (1,) * (x.ndim - ok.ndim))


def sample_shape(name: str, shape: int | Shape) -> tuple[int, ...]:
    """Normalises a sample shape (an int or a sequence of ints)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(not isinstance(s, int) or s < 0 for s in shape):
        raise ValueError(
            f"jaxdiv.{name}: shape must be a tuple of non-negative ints, got {shape}."
        )
    return shape


def values(name: str, argname: str, x: ArrayLike, dtype) -> jax.Array:
    """Points at which a log-density is evaluated, in the parameters' dtype.

    Integer points are accepted (counts, labels, 0/1 outcomes) and cast.
    """
    x = jnp.asarray(x)
    if not (
        jnp.issubdtype(x.dtype, jnp.floating)
        or jnp.issubdtype(x.dtype, jnp.integer)
        or x.dtype == jnp.bool_
    ):
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be a real array, got dtype {x.dtype}."
        )
    return x.astype(dtype)
