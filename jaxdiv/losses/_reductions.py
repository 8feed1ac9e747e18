"""Reductions of per-example losses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks
from .._core.types import AxisName
from ._common import jitted


def masked_mean(
    values: ArrayLike,
    where: ArrayLike | None = None,
    *,
    axis: int | tuple[int, ...] | None = None,
    weights: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Exact (weighted) mean of the values that ``where`` keeps, across devices too.

    .. math:: \bar v = \frac{\sum_i m_i w_i v_i}{\sum_i m_i w_i}

    with :math:`m` the mask and :math:`w` the weights (1 when not given),
    over ``axis`` (every axis by default). With ``axis_name`` (inside
    ``shard_map``) the numerator and the denominator are each summed across
    the devices of that mesh axis before the division, so the result is the
    mean over all kept tokens of all devices, never a mean of per-device
    means (which weights a device with few kept tokens as much as one with
    many). Values (and weights) where ``where`` is ``False`` change neither
    value nor gradient, whatever they hold (nan included). Where nothing is
    kept, or the kept weights sum to 0, the mean is defined as 0, with zero
    gradient.

    PyTorch's ``CrossEntropyLoss(weight=w)`` mean (without label smoothing)
    is ``masked_mean(loss, where, weights=w[labels])`` on the unweighted
    per-example ``loss`` of :func:`softmax_cross_entropy_with_integer_labels`:
    the weighted losses divided by the sum of the kept examples' weights
    (with ``class_weights=w``, which weights inside the loss, divide its sum
    by the kept weights' sum instead).

    Args:
      values: per-example (or per-token) losses, any shape.
      where: boolean mask broadcastable to ``values``; ``None`` keeps all.
      axis: axis or axes reduced (``None``: all of them).
      weights: non-negative floating weights broadcastable to ``values``
        (not differentiated through the denominator only: both sums are
        differentiated); ``None`` gives every kept value weight 1.
      axis_name: mesh axis name (or tuple of names) across which to reduce,
        inside ``shard_map``; ``None`` reduces only locally.

    Returns:
      ``values`` without ``axis`` (a scalar by default); float32 for 16-bit
      input.

    Raises:
      TypeError: non-floating ``values`` or ``weights``, non-boolean ``where``.
      ValueError: ``where`` or ``weights`` not broadcastable to ``values``,
        an axis out of range.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> v = jnp.array([1.0, 2.0, jnp.nan, 4.0])
      >>> jaxdiv.losses.masked_mean(v, jnp.array([True, True, False, True]))
      Array(2.3333333, dtype=float32)
      >>> jaxdiv.losses.masked_mean(v, jnp.zeros(4, bool))
      Array(0., dtype=float32)
      >>> w = jnp.array([1.0, 3.0, 1.0, 0.0])
      >>> jaxdiv.losses.masked_mean(v, jnp.isfinite(v), weights=w)
      Array(1.75, dtype=float32)
      >>> jaxdiv.losses.masked_mean(jnp.array([[1.0, 3.0], [5.0, 7.0]]), axis=1)
      Array([2., 6.], dtype=float32)
    """
    return _masked_mean(values, where, weights, _axis_arg(axis), axis_name)


def _axis_arg(axis):
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(axis)


@jitted("axis", "axis_name")
def _masked_mean(values, where, weights, axis, axis_name):
    name = "losses.masked_mean"
    values = checks.floating(name, "values", values)
    if values.dtype.itemsize < 4:
        values = values.astype(jnp.float32)
    where = checks.mask(name, where, values.shape)
    axes = _reduced_axes(name, axis, values.ndim)
    if weights is None:
        w = jnp.ones((), values.dtype)
    else:
        w = checks.floating(name, "weights", weights).astype(values.dtype)
        try:
            w = jnp.broadcast_to(w, values.shape)
        except ValueError:
            raise ValueError(
                f"jaxdiv.{name}: weights have shape {jnp.shape(weights)}, which "
                f"does not broadcast to the values' shape {values.shape}."
            ) from None
    if where is None:
        total = jnp.sum(w * values, axis=axes)
        count = jnp.sum(jnp.broadcast_to(w, values.shape), axis=axes)
    else:
        w = jnp.where(where, w, 0.0)
        total = jnp.sum(
            jnp.where(where, w * jnp.where(where, values, 0.0), 0.0), axis=axes
        )
        count = jnp.sum(w, axis=axes)
    if axis_name is not None:
        total = jax.lax.psum(total, axis_name)
        count = jax.lax.psum(count, axis_name)
    nonempty = count != 0
    count = jnp.where(nonempty, count, 1.0)
    return jnp.where(nonempty, total / count, jnp.zeros_like(total))


def _reduced_axes(name, axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else axis
    out = []
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"jaxdiv.{name}: axis {axis} is out of range for values of rank {ndim}."
            )
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"jaxdiv.{name}: repeated axis in {axis}.")
    return tuple(out)
