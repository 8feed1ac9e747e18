"""jaxdiv._core.special: the Stirling remainders, against 40-digit mpmath.

``stirling_parts(x) = (r(x), s(x))`` with
``r = lgamma(x) - (x - 1/2) log x + x - log(2 pi) / 2`` and
``s = log x - 1/(2x) - digamma(x)``, and
``entropy_core(x) = lgamma(x) - (x - 1) digamma(x) + x``, each checked across
the threshold of the series and from 1e-6 to 1e8.
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from jaxdiv._core import special

mpmath.mp.dps = 40
X = np.concatenate([np.logspace(-6, 8, 57), [3.99, 4.0, 4.01, 9.99, 10.0, 10.01]])


def r_exact(x):
    x = mpmath.mpf(x)
    return (
        mpmath.loggamma(x)
        - (x - 0.5) * mpmath.log(x)
        + x
        - mpmath.log(2 * mpmath.pi) / 2
    )


def s_exact(x):
    x = mpmath.mpf(x)
    return mpmath.log(x) - 1 / (2 * x) - mpmath.digamma(x)


def g_exact(x):
    x = mpmath.mpf(x)
    return mpmath.loggamma(x) - (x - 1) * mpmath.digamma(x) + x


@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
def test_against_mpmath(x64):
    with jax.enable_x64(x64):
        dtype = np.float64 if x64 else np.float32
        x = X.astype(dtype)
        r, s = special.stirling_parts(jnp.asarray(x))
        g = special.entropy_core(jnp.asarray(x))
        eps = np.finfo(dtype).eps
        for out, f in [(r, r_exact), (s, s_exact), (g, g_exact)]:
            ref = np.array([float(f(float(v))) for v in x])
            # absolute error in units of the result's own size (or of 1 where
            # the result is tiny): what the cancellation-free forms promise
            err = np.abs(np.asarray(out, np.float64) - ref) / np.maximum(
                np.abs(ref), 1.0
            )
            assert err.max() <= 64 * eps, (f.__name__, x[err.argmax()], err.max())


def test_gradients_are_finite_down_to_1e_30():
    x = jnp.array([1e-30, 1e-20, 1e-10, 1.0, 1e10, 1e30], jnp.float32)
    g = jax.vmap(jax.grad(special.entropy_core))(x)
    assert np.all(~np.isnan(np.asarray(g)))
    # d/dx G = 1 - (x - 1) psi'(x): at x = 1e-10, psi'(x) ~ 1/x^2 = 1e20
    np.testing.assert_allclose(
        g[2], float(1 - (mpmath.mpf(1e-10) - 1) * mpmath.psi(1, 1e-10)), rtol=1e-5
    )
