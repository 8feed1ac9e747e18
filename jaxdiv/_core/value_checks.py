"""Opt-in value checks: :func:`value_checks` and the checks it switches on.

Value checks (normalisation, ranges, finiteness, positive parameters) are
emitted only inside :func:`value_checks`, as ``checkify`` checks that
``chex.chexify(jax.jit(f), async_check=False)`` turns into synchronous
errors. Outside the block they add no operation to the compiled code.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import jax
import jax.numpy as jnp
from jax.experimental import checkify

from .types import Axes

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
# the checks


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
