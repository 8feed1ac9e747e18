"""Static (trace-time) checks shared by every public function.

Every shape, rank and dtype check of the package lives here so that the
messages are uniform: they name the public function (by its public path),
the shapes and the axis. They look only at shapes and dtypes, so they cost
nothing under ``jax.jit``. The opt-in checks of values are in
:mod:`jaxdiv._core.value_checks`.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

from .types import Axes

# --------------------------------------------------------------------------
# dtypes


def floating(name: str, argname: str, x: chex.ArrayLike) -> jax.Array:
    """Returns ``x`` as a floating array, bfloat16/float16 promoted to float32.

    Raises:
      TypeError: if ``x`` is not floating point.
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        hint = "cast it with .astype(jnp.float32)"
        if jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_:
            hint = (
                "if these are class indices, use "
                "jaxdiv.losses.softmax_cross_entropy_with_integer_labels (or "
                "jax.nn.one_hot for a distribution); if they are counts or "
                "values, cast them with .astype(jnp.float32)"
            )
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be a floating array, got dtype "
            f"{x.dtype} with shape {x.shape}; {hint}."
        )
    if jnp.finfo(x.dtype).bits < 32:
        x = x.astype(jnp.float32)
    return x


def floatings(name: str, **arrays: chex.ArrayLike) -> list[jax.Array]:
    """:func:`floating` on several arrays, then promoted to one common dtype."""
    xs = [floating(name, k, v) for k, v in arrays.items()]
    dtype = jnp.result_type(*xs)
    return [x.astype(dtype) for x in xs]


def integer(name: str, argname: str, x: chex.ArrayLike) -> jax.Array:
    """Returns ``x`` as an integer array, raising ``TypeError`` otherwise."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.integer):
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be integer class indices, got dtype "
            f"{x.dtype} with shape {x.shape}."
        )
    return x


# --------------------------------------------------------------------------
# axes and shapes


def axes(name: str, axis: int | Sequence[int], ndim: int) -> Axes:
    """Normalises ``axis`` (int or tuple) to sorted non-negative ints."""
    seq = (axis,) if isinstance(axis, int) or not isinstance(axis, Sequence) else axis
    out = []
    for a in seq:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise ValueError(
                f"jaxdiv.{name}: axis {axis} is out of bounds for an input of "
                f"rank {ndim}."
            )
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"jaxdiv.{name}: axis {axis} repeats an axis.")
    return tuple(sorted(out))


def pair(
    name: str,
    p: jax.Array,
    q: jax.Array,
    axis: int | Sequence[int],
    names: tuple[str, str] = ("p", "q"),
) -> tuple[jax.Array, jax.Array, Axes]:
    """Checks two distributions against each other and broadcasts them.

    They must have the same shape, or one of them must be exactly the event
    shape of the other (one reference distribution against a batch). Anything
    else (``(B, 1)`` against ``(B, C)`` included) is a ``ValueError``.
    """
    if p.shape == q.shape:
        return p, q, axes(name, axis, p.ndim)
    big, small = (p, q) if p.ndim >= q.ndim else (q, p)
    ax = axes(name, axis, big.ndim) if big.ndim else ()
    event = tuple(big.shape[a] for a in ax)
    if small.ndim == len(ax) and small.shape == event and small.ndim < big.ndim:
        shape = tuple(big.shape[i] if i in ax else 1 for i in range(big.ndim))
        small = jnp.broadcast_to(small.reshape(shape), big.shape)
        return (big, small, ax) if big is p else (small, big, ax)
    raise ValueError(
        f"jaxdiv.{name}: {names[0]} has shape {p.shape} and {names[1]} has shape "
        f"{q.shape} along axis {axis}; they must have the same shape, or one of "
        "them must be exactly the event shape of the other. jaxdiv never "
        "broadcasts size-1 axes silently: reshape explicitly if you mean it."
    )


def event_axes(name: str, x: jax.Array, axis: int | Sequence[int]) -> Axes:
    """Axes of a single distribution, rejecting scalars."""
    if x.ndim == 0:
        raise ValueError(
            f"jaxdiv.{name}: expected at least one event axis, got a scalar."
        )
    return axes(name, axis, x.ndim)


def mask(name: str, where: chex.ArrayLike | None, shape: tuple[int, ...]):
    """Broadcasts a boolean ``where`` to ``shape`` (``None`` stays ``None``)."""
    if where is None:
        return None
    where = jnp.asarray(where)
    if where.dtype != jnp.bool_:
        raise TypeError(
            f"jaxdiv.{name}: where must be a boolean mask, got dtype {where.dtype}."
        )
    try:
        chex.assert_is_broadcastable(where.shape, shape)
    except AssertionError:
        raise ValueError(
            f"jaxdiv.{name}: where has shape {where.shape}, which does not "
            f"broadcast to the input shape {shape}."
        ) from None
    return jnp.broadcast_to(where, shape)


def same_shape(name: str, **arrays: jax.Array) -> None:
    """Elementwise functions: every array has the same shape."""
    shapes = {k: jnp.shape(v) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        desc = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(f"jaxdiv.{name}: shapes must match exactly, got {desc}.")


def broadcast_batch(
    name: str, arrays: dict[str, jax.Array], event_ndims: dict[str, int] | None = None
) -> list[jax.Array]:
    """Parametric families: broadcasts the batch axes of several parameters.

    The batch shape of an array is its shape without its last
    ``event_ndims[argname]`` axes (0 when not given); batch shapes broadcast
    with NumPy's rules and every array is broadcast to the common batch shape
    followed by its own event shape.

    Raises:
      ValueError: an array has fewer axes than its event rank, or the batch
        shapes do not broadcast.
    """
    event_ndims = event_ndims or {}
    batches = []
    for argname, x in arrays.items():
        nd = event_ndims.get(argname, 0)
        if x.ndim < nd:
            raise ValueError(
                f"jaxdiv.{name}: {argname} must have at least {nd} axes (its "
                f"event axes come last), got shape {x.shape}."
            )
        batches.append(x.shape[: x.ndim - nd])
    try:
        batch = jnp.broadcast_shapes(*batches)
    except ValueError:
        desc = ", ".join(
            f"{k} {x.shape} (batch {b})"
            for (k, x), b in zip(arrays.items(), batches, strict=True)
        )
        raise ValueError(
            f"jaxdiv.{name}: the batch shapes of the parameters do not "
            f"broadcast: {desc}."
        ) from None
    return [
        jnp.broadcast_to(x, batch + x.shape[len(b) :])
        for x, b in zip(arrays.values(), batches, strict=True)
    ]


def event_shape(
    name: str, argname: str, x: jax.Array, shape: tuple[int, ...], like: str
) -> None:
    """``x``'s last axes must be ``shape`` (the event shape set by ``like``)."""
    n = len(shape)
    if x.ndim < n or x.shape[x.ndim - n :] != tuple(shape):
        raise ValueError(
            f"jaxdiv.{name}: {argname} has shape {x.shape}, but its last axes "
            f"must be {tuple(shape)} to match {like}."
        )


def axis_pair(name: str, axis: Sequence[int], ndim: int) -> tuple[int, int]:
    """An ordered pair of distinct axes ``(x_axis, y_axis)`` of a joint table."""
    if isinstance(axis, int) or not isinstance(axis, Sequence) or len(axis) != 2:
        raise ValueError(
            f"jaxdiv.{name}: axis must be a pair (x_axis, y_axis) of the joint "
            f"table, got {axis!r}."
        )
    if ndim < 2:
        raise ValueError(
            f"jaxdiv.{name}: a joint table needs at least two axes, got rank {ndim}."
        )
    (a,), (b,) = axes(name, axis[0], ndim), axes(name, axis[1], ndim)
    if a == b:
        raise ValueError(f"jaxdiv.{name}: axis {tuple(axis)} repeats an axis.")
    return a, b


def order(
    name: str,
    alpha,
    *,
    lower: float = 0.0,
    allow_inf: bool = True,
    argname: str = "alpha",
) -> float | jax.Array:
    """An order parameter: a Python number is checked now, an array is a scalar.

    Returns a Python float for a Python (or NumPy) number, which lets the
    caller pick its formula at trace time, else the scalar array (traced
    values are checked only under :func:`value_checks`, by the caller).

    Raises:
      ValueError: a number below ``lower``, nan, ``+inf`` where not allowed,
        or an array that is not a scalar.
      TypeError: an array that is neither floating nor integer.
    """
    span = f"in [{lower:g}, inf]" if allow_inf else f"in [{lower:g}, inf)"
    if lower == -float("inf"):
        span = "finite"
    if isinstance(alpha, numbers.Real) and not isinstance(alpha, bool):
        a = float(alpha)
        if not (a >= lower and (allow_inf or a < float("inf")) and a > -float("inf")):
            raise ValueError(f"jaxdiv.{name}: {argname} must be {span}, got {alpha}.")
        return a
    x = jnp.asarray(alpha)
    if x.ndim != 0:
        raise ValueError(
            f"jaxdiv.{name}: {argname} must be a scalar, got shape {x.shape}; "
            "use jax.vmap for several orders."
        )
    real = jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)
    if not real:
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be a real number, got dtype {x.dtype}."
        )
    return x


def generator(name: str, f, dtype) -> None:
    """An f-divergence generator: callable, with ``f(1) == 0`` when concrete.

    ``f(1)`` is evaluated at trace time; when ``f`` closes over traced values
    it cannot be, and the check is skipped.
    """
    if not callable(f):
        raise TypeError(f"jaxdiv.{name}: f must be a callable, got {type(f)}.")
    with jax.ensure_compile_time_eval():
        one = jnp.ones((2,), dtype)
        v = f(one)
    if isinstance(v, jax.core.Tracer):
        return
    v = np.asarray(v)
    if v.shape != one.shape:
        raise ValueError(
            f"jaxdiv.{name}: f must act elementwise; f(ones((2,))) has shape {v.shape}."
        )
    if not np.all(np.abs(v) <= 1e-6):
        raise ValueError(
            f"jaxdiv.{name}: f(1) must be 0 (the divergence of p from itself), "
            f"got {float(v[0])}; subtract f(1) from your f."
        )


def leading_axis(name: str, argname: str, x: jax.Array, size: int) -> None:
    """``x``'s first axis has ``size`` entries (a sample axis, say)."""
    if x.ndim < 1 or x.shape[0] != size:
        raise ValueError(
            f"jaxdiv.{name}: {argname} has shape {x.shape}; its first axis must "
            f"have size {size}."
        )


def labels_for(
    name: str, logits: jax.Array, labels: jax.Array, axis: int
) -> tuple[jax.Array, int]:
    """Integer labels must have the logits' shape without the class axis."""
    labels = integer(name, "labels", labels)
    (ax,) = axes(name, axis, logits.ndim)
    expected = logits.shape[:ax] + logits.shape[ax + 1 :]
    if labels.shape != expected:
        raise ValueError(
            f"jaxdiv.{name}: integer labels have shape {labels.shape} but logits "
            f"have shape {logits.shape} with class axis {axis}; labels must have "
            f"shape {expected} (the logits' shape without the class axis)."
        )
    return labels, ax


# --------------------------------------------------------------------------
# scalar and string options


def number(
    name: str,
    argname: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
):
    """A real scalar option, range-checked in ``[low, high]`` (``(low, high]``).

    A concrete value is returned as a Python float; a traced scalar is
    returned unchanged and unchecked (its value is unknown at trace time).

    Raises:
      TypeError: neither a real number nor a scalar array.
      ValueError: a concrete value out of range (or nan).
    """
    try:
        out = float(value)
    except TypeError:
        if isinstance(value, jax.Array) and value.ndim == 0:
            return value
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be a real scalar, got "
            f"{type(value).__name__}."
        ) from None
    bad = out != out or (low is not None and (out < low or (open_low and out == low)))
    if bad or (high is not None and out > high):
        lo = "(" if open_low else "["
        raise ValueError(
            f"jaxdiv.{name}: {argname} must lie in {lo}{low}, {high}], got {value}."
        )
    return out


def size_or_none(name: str, argname: str, value) -> int | None:
    """``None`` or a positive Python int (a chunk size)."""
    if value is None:
        return None
    try:
        out = operator.index(value)
    except TypeError:
        raise TypeError(
            f"jaxdiv.{name}: {argname} must be None or a positive int, got "
            f"{type(value).__name__}."
        ) from None
    if out < 1:
        raise ValueError(f"jaxdiv.{name}: {argname} must be positive, got {value}.")
    return out


def choice(name: str, argname: str, value, options: Sequence[str]) -> str:
    """One of a few string options."""
    if value not in options:
        raise ValueError(
            f"jaxdiv.{name}: {argname} must be one of {tuple(options)}, got {value!r}."
        )
    return value
