"""Reductions of per-example losses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _checks
from ._common import AxisName, jitted


def masked_mean(
    values: ArrayLike,
    where: ArrayLike | None = None,
    *,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Exact mean of the values that ``where`` keeps, across devices too.

    .. math:: \bar v = \frac{\sum_i w_i v_i}{\sum_i w_i}

    over every axis of ``values``. With ``axis_name`` (inside ``shard_map``)
    the numerator and the count are each summed across the devices of that
    mesh axis before the division, so the result is the mean over all kept
    tokens of all devices, never a mean of per-device means (which weights a
    device with few kept tokens as much as one with many). Values where
    ``where`` is ``False`` change neither value nor gradient, whatever they
    hold (nan included). If nothing is kept (anywhere), the mean is defined
    as 0, with zero gradient.

    Args:
      values: per-example (or per-token) losses, any shape.
      where: boolean mask broadcastable to ``values``; ``None`` keeps all.
      axis_name: mesh axis name (or tuple of names) across which to reduce,
        inside ``shard_map``; ``None`` reduces only locally.

    Returns:
      A scalar; float32 for 16-bit input.

    Raises:
      TypeError: non-floating ``values`` or non-boolean ``where``.
      ValueError: ``where`` not broadcastable to ``values``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> v = jnp.array([1.0, 2.0, jnp.nan, 4.0])
      >>> jaxdiv.losses.masked_mean(v, jnp.array([True, True, False, True]))
      Array(2.3333333, dtype=float32)
      >>> jaxdiv.losses.masked_mean(v, jnp.zeros(4, bool))
      Array(0., dtype=float32)
    """
    return _masked_mean(values, where, axis_name)


@jitted("axis_name")
def _masked_mean(values, where, axis_name):
    name = "losses.masked_mean"
    values = _checks.floating(name, "values", values)
    where = _checks.mask(name, where, values.shape)
    if where is None:
        total = jnp.sum(values)
        count = jnp.asarray(values.size, jnp.int32)
    else:
        total = jnp.sum(jnp.where(where, values, 0.0))
        count = jnp.sum(where, dtype=jnp.int32)
    if axis_name is not None:
        total = jax.lax.psum(total, axis_name)
        count = jax.lax.psum(count, axis_name)
    nonempty = count > 0
    count = jnp.where(nonempty, count, 1).astype(values.dtype)
    return jnp.where(nonempty, total / count, jnp.zeros_like(total))
