"""The k-nearest-neighbour estimators (``_knn_estimators.py``): knn_entropy,
knn_kl_divergence and ksg_mutual_information against their formulas in
float64 NumPy and the peers that run here.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from estimators_helpers import gaussians, ref_entropy, ref_kl, ref_ksg

from jaxdiv import estimators as E

# --------------------------------------------------------------------------
# kNN estimators vs references (float64, conventions aligned)


@pytest.mark.parametrize("norm", ["euclidean", "max"])
def test_knn_entropy_matches_formula(norm):
    x = np.random.default_rng(1).normal(size=(300, 3))
    with jax.enable_x64(True):
        ours = float(E.knn_entropy(x, k=3, norm=norm, chunk_size=64))
    np.testing.assert_allclose(ours, ref_entropy(x, 3, norm), rtol=1e-6)


def test_knn_entropy_matches_ennemi_and_infomeasure():
    x = np.random.default_rng(2).normal(size=(300, 2))
    with jax.enable_x64(True):
        ours = float(E.knn_entropy(x, k=4, norm="max"))
    ennemi = pytest.importorskip("ennemi")
    theirs = ennemi.estimate_entropy(x, k=4, multidim=True)
    np.testing.assert_allclose(ours, float(theirs), rtol=1e-6)
    im = pytest.importorskip("infomeasure")
    theirs = im.entropy(x, approach="metric", k=4, noise_level=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("norm", ["euclidean", "max"])
def test_knn_kl_matches_formula_and_infomeasure(norm):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(250, 2)), 0.5 + rng.normal(size=(200, 2))
    with jax.enable_x64(True):
        ours = float(E.knn_kl_divergence(x, y, k=2, norm=norm, chunk_size=64))
    np.testing.assert_allclose(ours, ref_kl(x, y, 2, norm), rtol=1e-6)
    if norm == "max":  # infomeasure divides the cross term by m: take m = n
        im = pytest.importorskip("infomeasure")
        y = y[:200]
        x = x[:200]
        with jax.enable_x64(True):
            ours = float(E.knn_kl_divergence(x, y, k=2, norm=norm))
        theirs = im.kld(x, y, approach="metric", k=2, noise_level=0)
        # infomeasure's constant is psi(m) - psi(n) = 0 where ours is log(m/(n-1))
        np.testing.assert_allclose(ours - math.log(200 / 199), theirs, rtol=1e-6)


def test_ksg_matches_formula_ennemi_infomeasure():
    x, y = gaussians(300, 2, 0.6, seed=4)
    with jax.enable_x64(True):
        ours = float(E.ksg_mutual_information(x, y, k=3, chunk_size=64))
        ours_1d = float(E.ksg_mutual_information(x[:, 0], y[:, 0], k=3))
    np.testing.assert_allclose(ours, ref_ksg(x, y, 3), rtol=1e-6)
    ennemi = pytest.importorskip("ennemi")
    theirs = ennemi.estimate_mi(y[:, 0], x[:, 0], k=3, preprocess=False)
    np.testing.assert_allclose(ours_1d, ref_ksg(x[:, :1], y[:, :1], 3), rtol=1e-6)
    # ennemi's digamma is an asymptotic expansion good to ~1e-6 relative
    np.testing.assert_allclose(ours_1d, float(np.squeeze(theirs)), rtol=5e-6)
    im = pytest.importorskip("infomeasure")
    theirs = im.mutual_information(x, y, approach="ksg", k=3, noise_level=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_duplicates_follow_the_documented_rule():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=(200, 1)), 1)  # many exact ties
    y = np.round(x + rng.normal(size=(200, 1)), 1)
    with jax.enable_x64(True):
        mi = float(E.ksg_mutual_information(x, y, k=3))
        h = float(E.knn_entropy(x, k=1))
        kl = float(E.knn_kl_divergence(x, y, k=1))
        atoms = float(E.knn_entropy(np.zeros((10, 2)), k=2))
    np.testing.assert_allclose(mi, ref_ksg(x, y, 3), rtol=1e-6)
    im = pytest.importorskip("infomeasure")
    theirs = im.mutual_information(x, y, approach="ksg", k=3, noise_level=0)
    np.testing.assert_allclose(mi, theirs, rtol=1e-6)
    np.testing.assert_allclose(h, ref_entropy(x, 1, "euclidean"), rtol=1e-6)
    np.testing.assert_allclose(kl, ref_kl(x, y, 1, "euclidean"), rtol=1e-6)
    assert atoms == -np.inf


def test_float32_and_bfloat16_close_to_float64():
    x, y = gaussians(256, 2, 0.8, seed=6)
    truth = ref_ksg(x, y, 3)
    f = jax.jit(E.ksg_mutual_information)
    r32 = f(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
    assert r32.dtype == jnp.float32
    np.testing.assert_allclose(float(r32), truth, rtol=1e-4)
    r16 = f(jnp.asarray(x, jnp.bfloat16), jnp.asarray(y, jnp.bfloat16))
    assert r16.dtype == jnp.float32 and abs(float(r16) - truth) < 0.1
    h = E.knn_entropy(jnp.asarray(x, jnp.bfloat16))
    assert h.dtype == jnp.float32 and np.isfinite(float(h))


def test_vmap_jit_grad_executed():
    x, y = gaussians(128, 2, 0.5, seed=7)
    xs = jnp.asarray(np.stack([x, y]), jnp.float32)
    ys = jnp.asarray(np.stack([y, x[::-1]]), jnp.float32)
    xs64, ys64 = np.asarray(xs, np.float64), np.asarray(ys, np.float64)

    @jax.jit
    def run(a, b):
        mi = jax.vmap(E.ksg_mutual_information)(a, b)
        h = jax.vmap(E.knn_entropy)(a)
        g = jax.grad(lambda t: E.knn_entropy(t) + E.knn_kl_divergence(t, a[1]))(a[0])
        # d/d(scale) of H(scale * x) is d / scale: here scale 1 and d = 2
        dh = jax.grad(lambda c: E.knn_entropy(c * a[0]))(1.0)
        return mi, h, g, dh

    mi, h, g, dh = run(xs, ys)
    for i in range(2):
        np.testing.assert_allclose(mi[i], ref_ksg(xs64[i], ys64[i], 3), rtol=1e-4)
        np.testing.assert_allclose(
            h[i], ref_entropy(xs64[i], 3, "euclidean"), rtol=1e-4
        )
    assert g.shape == xs[0].shape and bool(jnp.all(jnp.isfinite(g)))
    np.testing.assert_allclose(dh, 2.0, rtol=1e-5)


def test_memory_is_linear_in_n():
    def temp(n):
        x = jax.ShapeDtypeStruct((n, 5), jnp.float32)
        f = jax.jit(lambda a, b: E.ksg_mutual_information(a, b, chunk_size=64))
        return f.lower(x, x).compile().memory_analysis().temp_size_in_bytes

    small, large = temp(4096), temp(8192)
    assert large < 2.5 * small  # O(n * chunk): doubling n doubles it at most
    assert large < 8192 * 8192 * 4 / 4  # far below one [n, n] float32 matrix


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: E.knn_entropy(jnp.zeros((3, 2)), k=3), r"knn_entropy.*\(3, 2\)"),
        (lambda: E.knn_entropy(jnp.zeros((4, 2, 2))), r"knn_entropy.*\(4, 2, 2\)"),
        (lambda: E.knn_entropy(jnp.zeros((9, 2)), norm="l1"), "knn_entropy.*norm"),
        (lambda: E.knn_entropy(jnp.zeros((9, 2)), k=0), "knn_entropy.*k must"),
        (
            lambda: E.ksg_mutual_information(jnp.zeros((9, 1)), jnp.zeros((8, 1))),
            r"ksg_mutual_information.*\(9, 1\) and \(8, 1\)",
        ),
        (
            lambda: E.knn_kl_divergence(jnp.zeros((9, 1)), jnp.zeros((9, 2))),
            r"knn_kl_divergence.*\(9, 1\) and \(9, 2\)",
        ),
        (
            lambda: E.knn_kl_divergence(jnp.zeros((9, 1)), jnp.zeros((2, 1)), k=3),
            r"knn_kl_divergence.*\(2, 1\)",
        ),
        (lambda: E.infonce_bound(jnp.zeros((3, 4))), r"infonce_bound.*\(3, 4\)"),
        (lambda: E.dv_bound(jnp.zeros((1, 1))), r"dv_bound.*\(1, 1\)"),
        (
            lambda: E.plugin_entropy(jnp.ones(3), correction="grassberger"),
            "plugin_entropy.*correction",
        ),
        (
            lambda: E.plugin_mutual_information(jnp.ones(3)),
            r"plugin_mutual_information.*\(3,\)",
        ),
    ],
)
def test_bad_input_raises_at_trace_time(call, match):
    with pytest.raises(ValueError, match="jaxdiv.estimators." + match):
        jax.jit(call)()  # raised while tracing


def test_non_finite_samples_give_nan():
    x = np.random.default_rng(15).normal(size=(20, 2)).astype(np.float32)

    @jax.jit
    def run(a):
        return (
            E.knn_entropy(a),
            E.knn_kl_divergence(a, jnp.asarray(x) + 0.25),
            E.ksg_mutual_information(jnp.asarray(x), a),
        )

    for bad in (np.nan, np.inf, -np.inf):
        a = x.copy()
        a[3, 1] = bad
        assert all(bool(jnp.isnan(v)) for v in run(jnp.asarray(a))), bad
    assert all(bool(jnp.isfinite(v)) for v in run(jnp.asarray(x)))


def test_integer_samples_raise_type_error():
    with pytest.raises(TypeError, match="jaxdiv.estimators.knn_entropy"):
        E.knn_entropy(jnp.zeros((9, 2), jnp.int32))
