"""Differentiable primitives whose derivatives never overflow needlessly.

:func:`log_ratio`, :func:`div` and :func:`recip` carry their own derivative
rules, written so that no intermediate overflows where the derivative itself
is finite (``1 / y**2`` underflows ``y**2`` to 0 for ``y < 1e-19`` in
float32; ``(1 / y) / y`` does not): the families' gradients stay finite
from 1e-30 to 1e30, and the Bernoulli measures and the losses use them too.
"""

from __future__ import annotations

import jax

from . import numerics


@jax.custom_jvp
def log_ratio(x: jax.Array, y: jax.Array) -> jax.Array:
    """``log(x / y)`` for positive ``x``, ``y``, to rounding as ``x / y -> 1``.

    The value is :func:`jaxdiv._core.numerics.log_ratio`'s; the derivative is
    ``dx / x - dy / y``, finite for every positive normal ``x`` and ``y``
    (the quotient rule through ``x / y`` overflows ``1 / y**2``).
    """
    return numerics.log_ratio(x, y)


@log_ratio.defjvp
def _log_ratio_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    return log_ratio(x, y), dx / x - dy / y


@jax.custom_jvp
def div(x: jax.Array, y: jax.Array) -> jax.Array:
    """``x / y`` with the derivative ``(dx - (x / y) dy) / y``: no ``1 / y**2``."""
    return x / y


@div.defjvp
def _div_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    out = x / y
    return out, (dx - out * dy) / y


@jax.custom_jvp
def recip(x: jax.Array) -> jax.Array:
    """``1 / x`` with the derivative ``-(dx / x) / x``: no ``1 / x**2``."""
    return 1.0 / x


@recip.defjvp
def _recip_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return 1.0 / x, -(dx / x) / x
