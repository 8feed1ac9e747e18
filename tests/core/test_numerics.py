"""jaxdiv._core.numerics: the zero-safe primitives, against 40-digit mpmath.

Each primitive is checked directly, in value and in derivative, at the edges
it exists for (zeros, infinities, nan, arguments near the cancellation
point), in float32 and float64.
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from jaxdiv._core import numerics

mpmath.mp.dps = 40


def _mp(f, xs):
    return np.array([float(f(mpmath.mpf(float(x)))) for x in np.ravel(xs)])


def _rel(actual, exact):
    actual, exact = np.asarray(actual, np.float64), np.asarray(exact, np.float64)
    return np.abs(actual - exact) / np.maximum(np.abs(exact), np.finfo(float).tiny)


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    if request.param == "float64":
        with jax.enable_x64(True):
            yield np.float64
    else:
        yield np.float32


def test_weighted_zero_times_anything_is_zero_with_zero_gradient():
    p = jnp.array([0.0, 0.0, 0.0, 0.5])
    v = jnp.array([jnp.inf, -jnp.inf, jnp.nan, 3.0])
    np.testing.assert_array_equal(numerics.weighted(p, v), [0, 0, 0, 1.5])
    gp, gv = jax.grad(lambda a, b: numerics.weighted(a, b).sum(), (0, 1))(p, v)
    np.testing.assert_array_equal(gp, [0, 0, 0, 3.0])
    np.testing.assert_array_equal(gv, [0, 0, 0, 0.5])
    # nan in p (the weight) stays nan
    assert np.isnan(numerics.weighted(jnp.array(jnp.nan), jnp.array(1.0)))


def test_linear_weighted_keeps_the_derivative_at_p_zero():
    p = jnp.array([0.0, 0.0, 0.25])
    v = jnp.array([-2.0, -jnp.inf, 4.0])
    np.testing.assert_array_equal(numerics.linear_weighted(p, v), [0, 0, 1.0])
    g = jax.grad(lambda a: numerics.linear_weighted(a, v).sum())(p)
    np.testing.assert_array_equal(g, [-2.0, 0.0, 4.0])
    assert np.isnan(numerics.linear_weighted(jnp.array(0.0), jnp.array(jnp.nan)))


def test_propagate_nan_marks_both_partners():
    p, q = numerics.propagate_nan(jnp.array([1.0, 0.0]), jnp.array([1.0, jnp.nan]))
    np.testing.assert_array_equal(np.isnan(p), [False, True])
    np.testing.assert_array_equal(np.isnan(q), [False, True])


def test_safe_log_sqrt_and_div_at_zero():
    x = jnp.array([0.0, 4.0])
    np.testing.assert_allclose(numerics.safe_log(x), [-np.inf, np.log(4.0)], rtol=1e-7)
    np.testing.assert_array_equal(
        jax.grad(lambda a: numerics.safe_log(a)[0])(x), [0.0, 0.0]
    )
    np.testing.assert_array_equal(
        jax.grad(lambda a: numerics.safe_sqrt(a).sum())(x), [0.0, 0.25]
    )


@pytest.mark.parametrize("d,q", [(1e-20, 1e-30), (-1e-20, 1e-30), (1e-20, 1e-20)])
def test_square_over_derivatives_stay_finite(d, q):
    # d^2 / q: d/dd = 2 d / q and d/dq = -(d / q)^2 (1e20 at d = 1e-20, q =
    # 1e-30); the quotient rule's tangent (dd - z dq) / q is 1e40 there, and
    # the plain one forms q^2 = 1e-60, which flushes to 0 in float32
    d32, q32 = jnp.float32(d), jnp.float32(q)
    z = float(d32) / float(q32)
    gd, gq = jax.grad(numerics.square_over, (0, 1))(d32, q32)
    np.testing.assert_allclose([gd, gq], [2 * z, -z * z], rtol=1e-6)
    for t in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
        tangent = tuple(map(jnp.float32, t))
        _, out = jax.jvp(numerics.square_over, (d32, q32), tangent)
        np.testing.assert_allclose(out, 2 * z * t[0] - z * z * t[1], rtol=1e-6)


def test_clamp_nonnegative_only_hides_rounding():
    d = jnp.array([-1e-9, -0.5, 0.25, jnp.nan])
    np.testing.assert_array_equal(numerics.clamp_nonnegative(d)[:3], [0, 0, 0.25])
    scaled = numerics.clamp_nonnegative(d, jnp.ones(4))
    np.testing.assert_array_equal(scaled[:3], [0.0, -0.5, 0.25])  # -0.5 stays visible
    assert np.isnan(scaled[3]) and np.isnan(numerics.clamp_nonnegative(d)[3])


T = np.concatenate([-np.logspace(-12, 1.5, 40), [0.0], np.logspace(-12, 1.5, 40)])


@pytest.mark.parametrize(
    "name, exact, deriv",
    [
        ("expm1mx", lambda t: mpmath.expm1(t) - t, lambda t: mpmath.expm1(t)),
        (
            "exp_bregman_x",
            lambda y: mpmath.exp(y) * (y - 1) + 1,
            lambda y: y * mpmath.exp(y),
        ),
    ],
)
def test_series_functions_keep_full_relative_precision(name, exact, deriv, dtype):
    f = getattr(numerics, name)
    t = T.astype(dtype)
    ref = _mp(exact, t)
    out = np.asarray(f(jnp.asarray(t)))
    tol = 8 * np.finfo(dtype).eps
    nz = ref != 0
    assert np.all(_rel(out[nz], ref[nz]) <= tol)
    assert np.all(out[~nz] == 0) and np.all(out >= 0)
    g = np.asarray(jax.vmap(jax.grad(f))(jnp.asarray(t)))
    dref = _mp(deriv, t)
    assert np.all(
        np.abs(g - dref) <= 16 * np.finfo(dtype).eps * np.maximum(np.abs(dref), 1e-300)
    )


def test_log_ratio_is_accurate_near_one_and_at_the_extremes(dtype):
    eps = np.finfo(dtype).eps
    y = np.array([1.0, 1.0, 3.0, 1e-30, 1e30, 7.0, 1e-30], dtype)
    x = np.array(
        [1 + 4 * eps, 1 - 4 * eps, 3.0 + 3 * 4 * eps, 1e30, 1e-30, 7.0, 1e-30], dtype
    )
    ref = np.array(
        [
            float(mpmath.log(mpmath.mpf(float(a)) / mpmath.mpf(float(b))))
            for a, b in zip(x, y, strict=True)
        ]
    )
    out = np.asarray(numerics.log_ratio(jnp.asarray(x), jnp.asarray(y)))
    exact_zero = ref == 0
    assert np.all(out[exact_zero] == 0)
    assert np.all(_rel(out[~exact_zero], ref[~exact_zero]) <= 4 * eps)
    assert np.isnan(
        numerics.log_ratio(jnp.asarray(np.nan, dtype), jnp.asarray(1.0, dtype))
    )


def test_log_softmax_and_log_normalizer_edges():
    x = jnp.array(
        [[1e30, 1e30, 0.0], [-jnp.inf, -jnp.inf, -jnp.inf], [0.0, jnp.nan, 1.0]],
        jnp.float32,
    )
    where = jnp.array([[True, True, True], [True, True, True], [True, False, True]])
    lsm = numerics.log_softmax(x, (1,), where)
    # the shift is subtracted first: log 2 survives logits of 1e30
    np.testing.assert_allclose(lsm[0, :2], -np.log(2.0), rtol=1e-7)
    np.testing.assert_allclose(lsm[0, 2], -1e30, rtol=1e-7)  # finite: -1e30 - log 2
    assert np.all(lsm[1] == -np.inf)  # padding row
    np.testing.assert_allclose(
        lsm[2, [0, 2]], [-np.log1p(np.e), 1 - np.log1p(np.e)], rtol=1e-6
    )
    assert lsm[2, 1] == -np.inf  # masked nan is dropped
    lse = numerics.log_normalizer(x, (1,), where)
    assert lse[1] == 0.0  # empty row: 0, not -inf
    g = jax.grad(
        lambda a: numerics.log_softmax(a, (1,), where).sum(where=jnp.isfinite(lsm))
    )(x)
    assert np.all(np.isfinite(g)) and np.all(g[1] == 0)


def test_log_mix_and_in_base():
    lp = jnp.log(jnp.array([0.2, 0.0, 0.5]))
    lq = jnp.log(jnp.array([0.6, 0.0, 0.5]))
    out = numerics.log_mix(lp, lq, 0.25)
    with np.errstate(divide="ignore"):
        ref = np.log([0.25 * 0.2 + 0.75 * 0.6, 0.0, 0.5])
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    g = jax.grad(lambda a: numerics.log_mix(a, lq, 0.25)[0])(lp)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(
        numerics.in_base(jnp.float32(np.log(8.0)), 2.0), 3.0, rtol=1e-6
    )
