"""jaxdiv.estimators against ennemi, infomeasure and the papers' formulas
written afresh here in float64 NumPy with scipy's cKDTree."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, PartitionSpec
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln, logsumexp, softplus

import jaxdiv
from jaxdiv import estimators as E

P = {"euclidean": 2, "max": np.inf}


# --------------------------------------------------------------------------
# float64 references: the papers' formulas, with the documented conventions


def ref_entropy(x, k, norm):
    n, d = x.shape
    r = cKDTree(x).query(x, k=k + 1, p=P[norm])[0][:, -1]
    log_v = (
        d * math.log(2)
        if norm == "max"
        else (0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1))
    )
    keep = r > 0
    return digamma(n) - digamma(k) + log_v + d * np.mean(np.log(r[keep]))


def ref_kl(x, y, k, norm):
    (n, d), m = x.shape, y.shape[0]
    rho = cKDTree(x).query(x, k=k + 1, p=P[norm])[0][:, -1]
    nu = cKDTree(y).query(x, k=[k], p=P[norm])[0][:, -1]
    keep = (rho > 0) & (nu > 0)
    return d * np.mean(np.log(nu[keep] / rho[keep])) + math.log(m / (n - 1))


def ref_ksg(x, y, k):
    n = x.shape[0]
    z = np.concatenate([x, y], axis=1)
    eps = cKDTree(z).query(z, k=k + 1, p=np.inf)[0][:, -1]
    dx = np.max(np.abs(x[:, None] - x[None]), axis=-1)  # brute force: strict <
    dy = np.max(np.abs(y[:, None] - y[None]), axis=-1)
    nx = np.sum(dx < eps[:, None], axis=1) - (eps > 0)
    ny = np.sum(dy < eps[:, None], axis=1) - (eps > 0)
    return digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))


def gaussians(n, d, rho, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    return x, y


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


# --------------------------------------------------------------------------
# plug-in estimators


def test_plugin_estimators_match_numpy():
    rng = np.random.default_rng(8)
    joint = rng.integers(0, 6, size=(2, 3, 4))
    joint[0, 1, :] = 0  # an empty row
    p = joint / joint.sum(axis=(-2, -1), keepdims=True)
    px, py = p.sum(-1), p.sum(-2)

    def h(q):
        q = q.reshape(q.shape[0], -1)
        return -np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0), -1)

    n = joint.sum(axis=(-2, -1))
    occupied = lambda c: np.sum(c.reshape(c.shape[0], -1) > 0, -1)  # noqa: E731
    mi = h(px) + h(py) - h(p)
    mm = mi + (occupied(px) - 1 + occupied(py) - 1 - occupied(p) + 1) / (2 * n)
    f = jax.jit(E.plugin_mutual_information, static_argnames=("correction", "base"))
    np.testing.assert_allclose(f(joint), mi, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f(joint, correction="miller_madow"), mm, rtol=1e-5)
    np.testing.assert_allclose(f(joint, base=2), mi / np.log(2), rtol=1e-5, atol=1e-6)
    counts = joint.reshape(2, -1)
    hm = h(p) + (occupied(p) - 1) / (2 * n)
    np.testing.assert_allclose(E.plugin_entropy(counts), h(p), rtol=1e-6)
    np.testing.assert_allclose(
        E.plugin_entropy(counts.astype(np.float32), correction="miller_madow"),
        hm,
        rtol=1e-6,
    )
    assert (
        float(E.plugin_entropy(jnp.zeros(4, jnp.int32), correction="miller_madow")) == 0
    )
    g = jax.grad(lambda c: E.plugin_entropy(c))(jnp.array([2.0, 0.0, 1.0]))
    assert bool(jnp.all(jnp.isfinite(g)))


# --------------------------------------------------------------------------
# variational bounds


def np_bounds(s):
    n = s.shape[0]
    diag = np.diag(s)
    off = s[~np.eye(n, dtype=bool)]
    return {
        "infonce": math.log(n) + np.mean(diag - logsumexp(s, axis=1)),
        "nwj": np.mean(diag) - np.exp(-1) * np.mean(np.exp(off)),
        "dv": np.mean(diag) - (logsumexp(off) - math.log(off.size)),
        "js": math.log(2) + 0.5 * (-np.mean(softplus(-diag)) - np.mean(softplus(off))),
    }


BOUNDS = {
    "infonce": E.infonce_bound,
    "nwj": E.nwj_bound,
    "dv": E.dv_bound,
    "js": E.js_bound,
}


def test_bounds_equal_their_formulas():
    s = np.random.default_rng(9).normal(size=(16, 16)) * 2
    ref = np_bounds(s)
    f = jax.jit(lambda t: {k: b(t) for k, b in BOUNDS.items()})
    ours = f(jnp.asarray(s, jnp.float32))
    for k in BOUNDS:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)
    low = f(jnp.asarray(s, jnp.bfloat16))
    for k in BOUNDS:
        assert low[k].dtype == jnp.float32
        np.testing.assert_allclose(low[k], ref[k], rtol=0.05, atol=0.05, err_msg=k)


def test_infonce_never_exceeds_log_n():
    rng = np.random.default_rng(10)
    f = jax.jit(E.infonce_bound)
    for s in (
        np.where(np.eye(8), 1e4, -1e4),
        np.where(np.eye(8), 30.0, 0.0) + rng.normal(size=(8, 8)) * 1e-3,
        np.full((8, 8), 1e30),
        np.eye(8) * 88.0,
    ):
        value = f(jnp.asarray(s, jnp.float32))
        assert float(value) <= float(np.float32(math.log(8))), s
    assert float(f(jnp.zeros((1, 1)))) == 0.0


def log_ratio(x, y, rho):
    """log p(x, y) / (p(x) p(y)) for unit-variance correlated Gaussians."""
    c = 1 - rho**2
    q = (rho**2 * x**2 - 2 * rho * x * y + rho**2 * y**2) / (2 * c)
    return -0.5 * np.log(c) - q


def test_bounds_with_the_optimal_critic_are_within_their_gaps():
    rho, n = 0.5, 512
    x, y = gaussians(n, 1, rho, seed=11)
    truth = -0.5 * math.log(1 - rho**2)
    s = log_ratio(x[:, 0][:, None], y[:, 0][None, :], rho)  # optimal critic
    f = jax.jit(lambda t: {k: b(t) for k, b in BOUNDS.items()})
    ours = f(jnp.asarray(s, jnp.float32))
    nwj = E.nwj_bound(jnp.asarray(s + 1.0, jnp.float32))  # its optimum: 1 + log r
    mc = 0.05  # Monte-Carlo error of n = 512 pairs at I = 0.14
    assert abs(float(ours["dv"]) - truth) < mc
    assert abs(float(nwj) - truth) < mc
    # InfoNCE: I - log(1 + chi^2 / n) <= E[I_NCE] <= I, 1 + chi^2 = 1 / (1 - rho^2)
    gap = math.log((1 / (1 - rho**2) + n - 1) / n)
    assert truth - gap - mc < float(ours["infonce"]) < truth + mc
    # JS: tight at the log density ratio; the JSD itself by Monte Carlo
    big_x, big_y = gaussians(200_000, 1, rho, seed=12)
    r_joint = np.exp(log_ratio(big_x[:, 0], big_y[:, 0], rho))
    r_prod = np.exp(log_ratio(big_x[:, 0], np.roll(big_y[:, 0], 1), rho))
    jsd = 0.5 * np.mean(np.log(2 * r_joint / (1 + r_joint)))
    jsd += 0.5 * np.mean(np.log(2 / (1 + r_prod)))
    assert abs(float(ours["js"]) - jsd) < 0.01


def test_bounds_sharded_rows_equal_single_device():
    devices = np.array(jax.devices()[:8])
    if devices.size < 8:
        pytest.skip("needs 8 devices")
    mesh = Mesh(devices, ("rows",))
    s = jnp.asarray(np.random.default_rng(13).normal(size=(16, 16)) * 3, jnp.float32)

    def local(t):
        return {k: b(t, axis_name="rows") for k, b in BOUNDS.items()}

    sharded = jax.jit(
        jax.shard_map(
            local, mesh=mesh, in_specs=PartitionSpec("rows"), out_specs=PartitionSpec()
        )
    )
    single = {k: b(s) for k, b in BOUNDS.items()}
    values = sharded(s)
    for k in BOUNDS:
        np.testing.assert_allclose(values[k], single[k], rtol=1e-6, atol=1e-6)

    def loss(t):
        return -sum(
            jax.shard_map(
                local,
                mesh=mesh,
                in_specs=PartitionSpec("rows"),
                out_specs=PartitionSpec(),
            )(t).values()
        )

    g_sharded = jax.jit(jax.grad(loss))(s)
    g_single = jax.grad(lambda t: -sum(b(t) for b in BOUNDS.values()))(s)
    np.testing.assert_allclose(g_sharded, g_single, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"jaxdiv.estimators.dv_bound.*\(2, 10\)"):
        jax.shard_map(
            lambda t: E.dv_bound(t, axis_name="rows"),
            mesh=mesh,
            in_specs=PartitionSpec("rows"),
            out_specs=PartitionSpec(),
        )(jnp.zeros((16, 10)))


def test_bounds_gradients_and_edges():
    s = jnp.asarray(np.random.default_rng(14).normal(size=(6, 6)), jnp.float32)
    edge = jnp.where(jnp.eye(6, dtype=bool), 1e4, -1e4)

    @jax.jit
    def run(t, e):
        out = {}
        for k, b in BOUNDS.items():
            out[k] = (jax.grad(b)(t), b(e), jax.grad(b)(e))
        vm = jax.vmap(E.dv_bound)(jnp.stack([t, 2 * t]))
        tangent = jax.jvp(E.js_bound, (t,), (jnp.ones_like(t),))[1]
        return out, vm, (E.dv_bound(t), E.dv_bound(2 * t)), tangent

    out, vm, pair, tangent = run(s, edge)
    for k, (g, v, ge) in out.items():
        assert bool(jnp.all(jnp.isfinite(g))), k
        assert bool(jnp.isfinite(v)) and bool(jnp.all(jnp.isfinite(ge))), k
    # InfoNCE gradient: (identity - row softmax) / n (independent formula)
    sm = np.exp(np.asarray(s) - logsumexp(np.asarray(s), axis=1, keepdims=True))
    np.testing.assert_allclose(out["infonce"][0], (np.eye(6) - sm) / 6, atol=1e-6)
    np.testing.assert_allclose(vm, pair, rtol=1e-6)
    assert bool(jnp.isfinite(tangent))


def test_estimators_is_a_public_submodule():
    assert jaxdiv.estimators is E
    assert "estimators" in jaxdiv.__all__
