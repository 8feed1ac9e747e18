"""jaxdiv._core.primitives: derivative rules that never overflow needlessly.

``log_ratio``, ``div`` and ``recip`` against their analytic derivatives in
float64 NumPy, at scales from 1e-30 to 1e30 where the default rules (through
``1 / y**2``) overflow or flush to zero in float32.
"""

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiv._core import primitives

S = jnp.array([1e-30, 1e-20, 1e-10, 1.0, 1e10, 1e20, 1e30], jnp.float32)


def test_log_ratio_derivatives():
    x, y = S, S[::-1]
    gx, gy = jax.vmap(jax.grad(primitives.log_ratio, (0, 1)))(x, y)
    np.testing.assert_allclose(gx, 1 / np.float64(x), rtol=1e-6)
    np.testing.assert_allclose(gy, -1 / np.float64(y), rtol=1e-6)
    np.testing.assert_allclose(
        primitives.log_ratio(x, y),
        np.log(np.float64(x)) - np.log(np.float64(y)),
        rtol=1e-6,
    )
    assert primitives.log_ratio(jnp.float32(3.0), jnp.float32(3.0)) == 0.0


def test_div_and_recip_derivatives():
    x = jnp.full_like(S, 1e-20)
    gx, gy = jax.vmap(jax.grad(primitives.div, (0, 1)))(x, S)
    x64, s64 = np.float64(x), np.float64(S)
    f32 = np.finfo(np.float32)
    ok = (np.abs(x64 / s64**2) < f32.max) & (np.abs(x64 / s64**2) >= f32.tiny)
    np.testing.assert_allclose(gx, 1 / s64, rtol=1e-6)
    np.testing.assert_allclose(gy[ok], -(x64 / s64**2)[ok], rtol=1e-6)
    g = jax.vmap(jax.grad(primitives.recip))(S)
    fin = (1 / s64**2 < f32.max) & (1 / s64**2 >= f32.tiny)
    np.testing.assert_allclose(g[fin], -(1 / s64**2)[fin], rtol=1e-6)
    big = 1 / s64**2 >= f32.max
    assert np.all(np.isinf(g[big]) & (g[big] < 0))  # overflows to -inf, never nan
    _, t = jax.jvp(primitives.recip, (jnp.float32(1e-20),), (jnp.float32(1.0),))
    assert np.isinf(t) and t < 0
