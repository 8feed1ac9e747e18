"""Static (trace-time) and opt-in value checks shared by every public function.

Every shape, rank and dtype check of the package lives here so that the
messages are uniform: they name the public function, the shapes and the axis.
Static checks look only at shapes and dtypes, so they cost nothing under
``jax.jit``. Value checks (normalisation, ranges, finiteness) are emitted only
inside :func:`value_checks`, as ``checkify`` checks that
``chex.chexify(jax.jit(f), async_check=False)`` turns into synchronous errors.
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import operator
from collections.abc import Iterator, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

Axes = tuple[int, ...]

# The switch must be part of JAX's trace-cache key: a function jitted inside
# ``value_checks()`` and again outside must be traced twice. JAX keys its caches
# on its own config states, so the switch is one of them (a thread-local
# float, negative when off). Should that private hook ever disappear, a
# ContextVar keeps the feature working, minus the cache keying.
try:
    from jax._src import config as _jax_config

    _ON = _jax_config.bool_state(
        "jaxdiv_value_checks",
        False,
        "jaxdiv: emit value checks in the functions traced.",
        include_in_jit_key=True,
        include_in_trace_context=True,
    )
    _ATOL = _jax_config.optional_string_state(
        "jaxdiv_value_checks_atol",
        None,
        "jaxdiv: tolerance of the value checks.",
        include_in_trace_context=True,
    )

    def _get_atol() -> float | None:
        return float(_ATOL.value) if _ON.value and _ATOL.value else None

    @contextlib.contextmanager
    def _set_atol(atol: float):
        with _ON(True), _ATOL(repr(atol)):
            yield

except (ImportError, AttributeError, TypeError):  # pragma: no cover
    _VAR: contextvars.ContextVar[float | None] = contextvars.ContextVar(
        "jaxdiv_value_checks", default=None
    )

    def _get_atol() -> float | None:
        return _VAR.get()

    @contextlib.contextmanager
    def _set_atol(atol: float):
        token = _VAR.set(atol)
        try:
            yield
        finally:
            _VAR.reset(token)


@contextlib.contextmanager
def value_checks(atol: float = 1e-4) -> Iterator[None]:
    """Turns on runtime value checks for the functions traced inside the block.

    Shape and dtype checks are always on and run at trace time. Value checks
    (probabilities non-negative and summing to one within ``atol`` times the
    number of categories, integer labels inside ``[0, num_classes)``, inputs
    free of nan and of ``+inf``, positive scale and concentration parameters)
    are off by default and then add no operation to the compiled code.

    Inside the block, every jaxdiv function that is *traced* emits
    ``jax.experimental.checkify`` checks, the mechanism behind chex's value
    assertions. Run the function through
    ``chex.chexify(jax.jit(f), async_check=False)`` (or ``checkify.checkify``)
    to have a failing check raise at once. The switch is part of JAX's
    compilation-cache key, so the same jitted function is traced once with
    checks (inside the block) and once without (outside), and each call runs
    the right one.

    Args:
      atol: absolute tolerance, per category, on the normalisation of
        probability vectors.

    Returns:
      A context manager; the checks are on for the functions traced inside.

    Examples:
      >>> import chex, jax, jax.numpy as jnp, jaxdiv
      >>> f = chex.chexify(jax.jit(jaxdiv.entropy), async_check=False)
      >>> try:
      ...     with jaxdiv.value_checks():
      ...         f(jnp.array([0.7, 0.7]))
      ... except Exception as e:
      ...     print(str(e)[:42])
      jaxdiv.entropy: p must sum to 1 along axis
      >>> float(jax.jit(jaxdiv.entropy)(jnp.array([0.7, 0.7])))  # checks off
      0.4993...
    """
    if not atol >= 0:
        raise ValueError(f"jaxdiv.value_checks: atol must be >= 0, got {atol}.")
    with _set_atol(float(atol)):
        yield


def value_checks_enabled() -> bool:
    """True inside a :func:`value_checks` block."""
    return _get_atol() is not None


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
# matmul operands and static options (the fused large-vocabulary losses)


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


# --------------------------------------------------------------------------
# opt-in value checks


def probabilities(
    name: str, argname: str, p: jax.Array, ax: Axes, where: jax.Array | None
) -> None:
    """Under :func:`value_checks`: ``p`` finite, non-negative, normalised."""
    atol = _get_atol()
    if atol is None:
        return
    keep = jnp.ones(p.shape, bool) if where is None else where
    vals = jnp.where(keep, p, 0.0)
    checkify.check(
        jnp.all(jnp.isfinite(vals)),
        f"jaxdiv.{name}: {argname} has non-finite entries.",
    )
    checkify.check(
        jnp.all(vals >= 0),
        f"jaxdiv.{name}: {argname} has negative entries (min {{m}}).",
        m=jnp.min(vals),
    )
    total = jnp.sum(vals, axis=ax)
    n = max(1, int(jnp.size(p) // max(1, jnp.size(total))))
    empty = ~jnp.any(keep, axis=ax)
    err = jnp.max(jnp.where(empty, 0.0, jnp.abs(total - 1.0)), initial=0.0)
    checkify.check(
        err <= atol * n,
        f"jaxdiv.{name}: {argname} must sum to 1 along axis {ax}; the worst row "
        "is off by {e}.",
        e=err,
    )


def unit_interval(name: str, argname: str, p: jax.Array, where=None) -> None:
    """Under :func:`value_checks`: every kept entry of ``p`` lies in ``[0, 1]``."""
    if not value_checks_enabled():
        return
    ok = (p >= 0) & (p <= 1)
    checkify.check(
        jnp.all(ok if where is None else ok | ~where),
        f"jaxdiv.{name}: {argname} must lie in [0, 1].",
    )


def no_nan_or_posinf(
    name: str, argname: str, x: jax.Array, where=None, posinf_ok: bool = False
) -> None:
    """Under :func:`value_checks`: no nan and no ``+inf`` (``-inf`` is allowed)."""
    if not value_checks_enabled():
        return
    bad = jnp.isnan(x) if posinf_ok else jnp.isnan(x) | (x == jnp.inf)
    if where is not None:
        bad = bad & where
    what = "nan" if posinf_ok else "nan or +inf"
    checkify.check(~jnp.any(bad), f"jaxdiv.{name}: {argname} has {what} entries.")


def label_range(
    name: str, labels: jax.Array, num_classes: int, ignore_index: int | None = None
) -> None:
    """Under :func:`value_checks`: labels in ``[0, num_classes)`` or ignored."""
    if not value_checks_enabled():
        return
    ok = (labels >= 0) & (labels < num_classes)
    if ignore_index is not None:
        ok = ok | (labels == ignore_index)
    checkify.check(
        jnp.all(ok),
        f"jaxdiv.{name}: integer labels must lie in [0, {num_classes}); they "
        "range over [{lo}, {hi}].",
        lo=jnp.min(labels, initial=0),
        hi=jnp.max(labels, initial=0),
    )


def positive(name: str, **params: jax.Array) -> None:
    """Under :func:`value_checks`: each parameter is finite and > 0."""
    if not value_checks_enabled():
        return
    for argname, x in params.items():
        checkify.check(
            jnp.all(x > 0) & jnp.all(jnp.isfinite(x)),
            f"jaxdiv.{name}: {argname} must be positive and finite.",
        )


def check(name: str, predicate: jax.Array, message: str) -> None:
    """Under :func:`value_checks`: a custom predicate, with jaxdiv's prefix."""
    if value_checks_enabled():
        checkify.check(jnp.all(predicate), f"jaxdiv.{name}: {message}")
