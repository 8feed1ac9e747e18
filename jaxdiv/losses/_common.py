"""Argument handling shared by the losses (optax's conventions on top of _checks)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, value_checks
from .._core.types import OptionalAxis


def event_axes(name: str, axis: OptionalAxis, ndim: int) -> checks.Axes:
    """``axis`` as sorted non-negative ints; ``None`` means every axis (optax)."""
    if ndim == 0:
        raise ValueError(
            f"jaxdiv.{name}: expected at least one event axis, got a scalar."
        )
    if axis is None:
        return tuple(range(ndim))
    return checks.axes(name, axis, ndim)


def ordered_axes(name: str, axis: OptionalAxis, ndim: int) -> tuple[int, ...]:
    """``axis`` as non-negative ints in the order given (labels index a flattened
    slice in that order, as in optax)."""
    if axis is None:
        return tuple(range(ndim))
    seq = (axis,) if not isinstance(axis, Sequence) else tuple(axis)
    checks.axes(name, seq, ndim)  # range and repeats
    return tuple(operator.index(a) % ndim for a in seq)


def reject_integer(name: str, argname: str, x: ArrayLike, hint: str) -> None:
    """Probability targets must be floating; integer class indices are a bug."""
    dtype = jnp.result_type(x)
    if jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_:
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be a floating array of probabilities, "
            f"got dtype {dtype} with shape {jnp.shape(x)}. {hint}"
        )


def example_or_event_mask(
    name: str, where: ArrayLike | None, shape: tuple[int, ...], ax: checks.Axes
) -> jax.Array | None:
    """optax's ``where`` for the softmax losses: of the inputs' rank it masks
    entries; of a lower rank it masks whole examples (expanded at ``ax``)."""
    if where is None:
        return None
    where = jnp.asarray(where)
    if where.ndim != len(shape):
        where = jnp.expand_dims(where, ax)
    return checks.mask(name, where, shape)


def python_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def static_axis(axis: OptionalAxis) -> OptionalAxis:
    """``axis`` in a hashable form (a list becomes a tuple) for ``jax.jit``."""
    if axis is None or not isinstance(axis, Sequence):
        return axis
    return tuple(axis)


def jitted(*static_argnames: str):
    """``jax.jit`` with static ``static_argnames``, bypassed inside
    ``jaxdiv.value_checks()``.

    The losses are called eagerly as often as under ``jit`` (optax's own
    tests do); compiling the whole body once per shape instead of
    dispatching each primitive makes eager calls and their derivatives
    several times cheaper. Inside ``value_checks()`` the plain function runs,
    so an eager call raises at once on a bad value and a call traced under
    ``chex.chexify`` has its checks functionalised, as for the measures.
    """

    def decorate(fun):
        compiled = jax.jit(fun, static_argnames=static_argnames)

        @functools.wraps(fun)
        def call(*args, **kwargs):
            if value_checks.value_checks_enabled():
                return fun(*args, **kwargs)
            return compiled(*args, **kwargs)

        return call

    return decorate
