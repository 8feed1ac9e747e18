"""Properties shared by every generalised measure (Renyi, Tsallis, alpha,
f-divergence, Hellinger, TV, chi-squared), driven by one registry against
float64 NumPy references.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from generalised_helpers import (
    AXIS_IDS,
    CASES,
    CHECK_IDS,
    EDGE_IDS,
    EDGE_TWO,
    EDGE_WHERE,
    EXTREME,
    GENERATORS,
    SECOND_ORDER,
    SHARDED,
    TWO,
    VALUE_IDS,
    ZERO_PROB_IDS,
    S,
    _edge_inputs,
    _edge_reference,
    _kl,
    args_for,
    as_logits,
    assert_finite,
    dirichlet,
    fn,
    grad_and_jvp,
    log,
    ref,
    ref_chi2,
    ref_renyi_divergence,
    ref_tv,
    softmax64,
    transformed,
)
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.test_util import check_grads

import jaxdiv

# --------------------------------------------------------------------------
# values against the references: eager / jit / vmap in float32, float64


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("key", VALUE_IDS)
def test_matches_reference(key, form):
    rng = np.random.default_rng(0)
    # p with zeros; q with full support, so every value is finite
    p = dirichlet(rng, (4, 6), True, np.float64)
    q = dirichlet(rng, (4, 6), False, np.float64)
    args = args_for(key, p, q)
    if form:
        args = tuple(as_logits(rng, a) for a in args)
        probs = [softmax64(a) for a in args]
        expected = ref(key, probs[0], probs[-1])
    else:
        expected = ref(key, p, q)
    f = fn(key, form)
    args32 = [jnp.asarray(a, jnp.float32) for a in args]
    for how in ["eager", "jit", "vmap"]:
        out = transformed(f, how)(*args32)
        assert out.dtype == jnp.float32 and out.shape == (4,)
        np.testing.assert_allclose(out, expected, rtol=2e-5, atol=2e-6, err_msg=how)
    with jax.enable_x64(True):
        out = f(*map(jnp.asarray, args))
        assert out.dtype == jnp.float64
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("key", TWO)
def test_supports_that_differ(key):
    """p_i > 0 = q_i (+inf where the definition says so, never nan), p_i = 0 <
    q_i, and disjoint supports."""
    p = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0, 0.5, 0.5]])
    q = np.array([[0.6, 0.4, 0.0], [0.2, 0.8, 0.0], [0.0, 0.5, 0.5], [0.2, 0.4, 0.4]])
    expected = ref(key, p, q)
    out = fn(key, 0)(jnp.asarray(p, jnp.float32), jnp.asarray(q, jnp.float32))
    np.testing.assert_allclose(out, expected, rtol=2e-5)
    out_l = fn(key, 1)(log(p).astype(np.float32), log(q).astype(np.float32))
    np.testing.assert_allclose(out_l, expected, rtol=2e-5)


def test_log_space_forms_survive_underflow():
    """Ratios far outside float32's probability range, from logits."""
    lp = np.array([0.0, 0.0, -1.0], np.float32)
    lq = np.array([0.0, -120.0, 0.0], np.float32)  # q_1 underflows, p_1/q_1 too
    p, q = softmax64(lp), softmax64(lq)
    tv = jaxdiv.f_divergence_from_logits(
        lp, lq, f=GENERATORS["tv"][0], slope_at_infinity=0.5
    )
    np.testing.assert_allclose(tv, ref_tv(p, q), rtol=1e-6)
    lq = np.array([0.0, -60.0, 0.0], np.float32)  # q_1 ~ 1e-27: p / q in range
    p, q = softmax64(lp), softmax64(lq)
    kl = jaxdiv.f_divergence_from_logits(lp, lq, f=GENERATORS["kl"][0])
    np.testing.assert_allclose(kl, _kl(p, q), rtol=1e-5)
    chi2 = jaxdiv.chi_squared_divergence_from_logits(lp, lq)
    np.testing.assert_allclose(chi2, ref_chi2(p, q), rtol=1e-5)
    np.testing.assert_allclose(
        jaxdiv.renyi_divergence_from_logits(lp, lq, alpha=3.0),
        ref_renyi_divergence(p, q, 3.0),
        rtol=1e-5,
    )


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("key", EDGE_IDS)
def test_edges(key, form):
    """Padding rows, masked garbage, zeros on either side, nan: as API.md."""
    clean, dirty = _edge_inputs(form)
    n = CASES[key][2]
    f = functools.partial(fn(key, form), where=EDGE_WHERE)
    jf, gj = jax.jit(f), grad_and_jvp(f)
    out = np.asarray(jf(*clean[:n]))
    # padding rows are exactly 0; the others match the reference
    assert out[0] == 0.0 and out[2] == 0.0
    np.testing.assert_allclose(
        out[[1, 3, 4, 5, 6]], _edge_reference(key, form), rtol=2e-5, atol=1e-6
    )
    assert np.isfinite(out[6]) and not np.any(np.isnan(out))
    # masked garbage changes neither the value nor the gradient
    np.testing.assert_array_equal(jf(*dirty[:n]), out)
    g_clean, t_clean = gj(*clean[:n])
    g_dirty, t_dirty = gj(*dirty[:n])
    for a, b in zip(g_clean, g_dirty, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(t_clean, t_dirty)
    # zero gradient on padding rows and masked entries; finite wherever the
    # value is finite
    finite = np.isfinite(out)
    for g in g_clean:
        g = np.asarray(g)
        np.testing.assert_array_equal(g[[0, 2]], 0.0)
        np.testing.assert_array_equal(g[:, 1], 0.0)
        assert np.all(np.isfinite(g[finite]))
    t = np.asarray(t_clean)
    assert t[0] == 0.0 and t[2] == 0.0 and np.all(np.isfinite(t[finite]))
    # nan in a kept entry gives nan in its row only
    for i in range(n):
        bad = [a.copy() for a in clean[:n]]
        bad[i][1, 2] = np.nan
        out_bad = np.asarray(jf(*bad))
        assert np.isnan(out_bad[1])
        np.testing.assert_array_equal(np.delete(out_bad, 1), np.delete(out, 1))


@pytest.mark.parametrize("key", ZERO_PROB_IDS)
def test_gradients_through_a_softmax_with_zeros(key):
    """p = softmax(logits) with p_i = 0 exactly (underflow or -inf): no nan."""
    logits = jnp.asarray(EXTREME, jnp.float32)
    other = jnp.broadcast_to(jnp.array([0.0, 0.3, 0.3, 0.4]), EXTREME.shape)
    prob, from_logits = fn(key, 0), fn(key, 1)
    if CASES[key][2] == 1:
        fns = [lambda x: prob(jax.nn.softmax(x)), from_logits]
    else:
        fns = [
            lambda x: prob(jax.nn.softmax(x), other),
            lambda x: prob(other, jax.nn.softmax(x)),
            lambda x: from_logits(x, jnp.log(other)),
            lambda x: from_logits(jnp.log(other), x),
        ]

    def every(x):  # one compilation for all: a sum of finite terms is finite
        return jnp.stack([f(x) for f in fns])

    @jax.jit
    def value_grad_jvp(x):
        tangent = jnp.broadcast_to(jnp.array([1.0, -2.0, 0.5, 0.3]), x.shape)
        g = jax.grad(lambda y: jnp.sum(every(y)))(x)
        return every(x), g, jax.jvp(every, (x,), (tangent,))[1]

    assert_finite(value_grad_jvp(logits))


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("key", EDGE_TWO)
def test_divergence_of_a_distribution_with_itself_and_sign(key, form):
    rng = np.random.default_rng(12)
    p = dirichlet(rng, S, True)
    a = as_logits(rng, p) if form else p
    f = jax.jit(fn(key, form))
    np.testing.assert_allclose(f(a, a), 0.0, atol=1e-6)
    for _ in range(3):  # rounding-level differences never give negatives
        b = a + rng.normal(scale=1e-7, size=S).astype(np.float32)
        b = b if form else np.clip(b, 0, None)
        assert np.all(np.asarray(f(a, b)) >= 0) and np.all(np.asarray(f(b, a)) >= 0)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("key", AXIS_IDS)
def test_axis_permutation_and_half_precision(key, form):
    rng = np.random.default_rng(18)
    p, q = dirichlet(rng, S, True), dirichlet(rng, S)
    if form:
        p, q = as_logits(rng, p), as_logits(rng, q)
    args = args_for(key, p, q)
    f = fn(key, form)
    jf = jax.jit(f)
    base = jf(*args)
    moved = jax.jit(functools.partial(f, axis=0))(*(a.T for a in args))
    np.testing.assert_allclose(moved, base, rtol=1e-6, atol=1e-7)
    perm = rng.permutation(S[-1])
    permuted = jf(*(a[..., perm] for a in args))
    np.testing.assert_allclose(permuted, base, rtol=1e-6, atol=1e-7)
    # a tuple axis: the (3, 4) table as one distribution of 12
    table = [a if form else a / S[0] for a in args]
    whole = jax.jit(functools.partial(f, axis=(0, 1)))(*table)
    flat = jax.jit(f)(*(a.reshape(1, -1) for a in table))
    np.testing.assert_allclose(whole, flat[0], rtol=1e-6, atol=1e-7)
    # 16-bit input is computed and returned in float32
    half = [jnp.asarray(a, jnp.bfloat16) for a in args]
    out = jf(*half)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, jf(*(h.astype(jnp.float32) for h in half)))
    if len(args) == 2:
        assert jf(half[0], jnp.asarray(args[1], jnp.float16)).dtype == jnp.float32


@pytest.mark.parametrize("key", EDGE_TWO)
def test_one_reference_against_a_batch_and_bad_shapes(key):
    rng = np.random.default_rng(19)
    p, q = dirichlet(rng, S, True), dirichlet(rng, S[-1:])
    f = fn(key, 0)
    batch = np.broadcast_to(q, S)
    np.testing.assert_allclose(f(p, q), f(p, batch), rtol=1e-6)
    np.testing.assert_allclose(f(q, p), f(batch, p), rtol=1e-6)
    with pytest.raises(ValueError, match=r"^jaxdiv\.\w+: p has shape \(3, 4\)"):
        f(p, p[:, :1])
    with pytest.raises(TypeError, match="floating"):
        f(np.ones(S, np.int32), np.ones(S, np.int32))


@pytest.mark.parametrize(
    "key",
    [
        "renyi_entropy-0.5",
        "renyi_divergence-2.0",
        "alpha_divergence-0.3",
        "f_divergence-kl",
    ],
)
def test_base(key):
    rng = np.random.default_rng(20)
    p, q = dirichlet(rng, S), dirichlet(rng, S)
    args = args_for(key, p, q)
    expected = np.asarray(ref(key, p, q)) / np.log(2)
    np.testing.assert_allclose(fn(key, 0)(*args, base=2), expected, rtol=2e-5)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("key", CHECK_IDS)
def test_check_grads(key, form):
    rng = np.random.default_rng(21)
    with jax.enable_x64(True):
        p = 0.5 * dirichlet(rng, S, dtype=np.float64) + 0.05
        q = 0.5 * dirichlet(rng, S, dtype=np.float64) + 0.05
        p, q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
        args = args_for(key, *((log(p), log(q)) if form else (p, q)))
        args = tuple(map(jnp.asarray, args))
        where = jnp.array([True, True, False, True])
        f = jax.jit(functools.partial(fn(key, form), where=where))
        # second order for a few (it costs six times the first)
        order = 2 if key in SECOND_ORDER and not form else 1
        check_grads(f, args, order=order, modes=("fwd", "rev"))


@pytest.mark.parametrize("key", SHARDED)
def test_axis_name_under_shard_map(key):
    devices = jax.devices()
    assert len(devices) == 8
    mesh = Mesh(np.array(devices), ("v",))
    rng = np.random.default_rng(22)
    a = rng.normal(scale=2.0, size=(4, 16)).astype(np.float32)
    b = rng.normal(scale=2.0, size=(4, 16)).astype(np.float32)
    a[0, :2] = -np.inf  # one device holds only impossible categories
    a[1, ::3] = -np.inf
    b[1, ::3] = -np.inf
    a[2] = -np.inf  # padding row
    b[2] = -np.inf
    f = fn(key, 1)
    args = args_for(key, a, b)
    split = jax.jit(
        jax.shard_map(
            lambda *xs: f(*xs, axis_name="v"),
            mesh=mesh,
            in_specs=(P(None, "v"),) * len(args),
            out_specs=P(),
        )
    )
    expected = jax.jit(f)(*args)
    out = split(*args)
    assert np.isfinite(np.asarray(expected)).all()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert out[2] == 0.0
    g = jax.jit(jax.grad(lambda *x: jnp.sum(split(*x))))(*args)
    g_ref = jax.jit(jax.grad(lambda *x: jnp.sum(f(*x))))(*args)
    np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-6)


def test_bounded_measures_stay_in_range():
    import jaxdiv

    rng = np.random.default_rng(0)
    a = (rng.normal(size=(64, 4)) * 30).astype(np.float32)
    b = -a
    jsd = jax.jit(lambda a, b: jaxdiv.js_divergence_from_logits(a, b, base=2))(a, b)
    assert np.all(np.asarray(jsd) <= 1.0)
    for f in (
        jaxdiv.total_variation_distance_from_logits,
        jaxdiv.hellinger_distance_from_logits,
    ):
        assert np.all(np.asarray(f(a, b)) <= 1.0)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_bounded_probability_forms_stay_in_range_of_rounded_inputs(dtype):
    # disjoint supports normalised by division: the rounded masses sum past 1
    # (by up to 0.25% in bfloat16), which carried TV and Hellinger past 1
    import jaxdiv

    rng = np.random.default_rng(1)
    x = rng.random((512, 6))
    y = rng.random((512, 6))
    x[:, :3], y[:, 3:] = 0.0, 0.0
    p = jnp.asarray((x / x.sum(-1, keepdims=True)).astype(np.float32), dtype)
    q = jnp.asarray((y / y.sum(-1, keepdims=True)).astype(np.float32), dtype)
    for name in ("total_variation_distance", "hellinger_distance", "js_distance"):
        f = getattr(jaxdiv, name)
        if name == "js_distance":
            f = functools.partial(f, base=2)
        v = np.asarray(jax.jit(f)(p, q), np.float64)
        assert np.all(v <= 1.0) and np.all(v >= 0.99), name
        # the exact value 1 keeps the gradient of the sum unclamped (not halved)
        g = jax.grad(lambda p, f=f: jnp.sum(f(p, q).astype(jnp.float32)))(p)
        assert np.all(np.isfinite(np.asarray(g, np.float32))), name
    v = jaxdiv.js_divergence(p, q, base=2)
    assert np.all(np.asarray(v, np.float64) <= 1.0)
    p0, q0 = p[0].astype(jnp.float32), q[0].astype(jnp.float32)
    g = jax.grad(lambda p: jaxdiv.total_variation_distance(p, q0))(p0)
    np.testing.assert_array_equal(np.asarray(g), np.sign(np.asarray(p0 - q0)) * 0.5)
