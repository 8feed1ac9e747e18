"""Bernoulli measures against NumPy/scipy float64 formulas, and their edges.

References: ``scipy.special.entr`` / ``xlogy`` / ``rel_entr`` on ``(p, 1 - p)``
for the probability forms; for the logits forms the same formulas written in
log space with ``np.logaddexp`` in float64 (``log sigmoid(a) = -logaddexp(0,
-a)``), which stays exact at large ``|a|`` where ``1 - sigmoid(a)`` does not.
"""

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from jax.test_util import check_grads

import jaxdiv

PROB = {
    "entropy": (jaxdiv.binary_entropy, 1),
    "cross_entropy": (jaxdiv.binary_cross_entropy, 2),
    "kl_divergence": (jaxdiv.binary_kl_divergence, 2),
}
LOGITS = {
    "entropy": (jaxdiv.binary_entropy_from_logits, 1),
    "cross_entropy": (jaxdiv.binary_cross_entropy_from_logits, 2),
    "kl_divergence": (jaxdiv.binary_kl_divergence_from_logits, 2),
}
FORMS = [PROB, LOGITS]
NAMES = list(PROB)
# float64 (the 1e-12 comparison) eagerly; the transforms in float32
DTYPE_TRANSFORMS = [(np.float32, h) for h in ("eager", "jit", "vmap")] + [
    (np.float64, "eager")
]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
# Absolute floor: a KL of nearby Bernoullis is small through cancellation of
# two O(|p - q|) terms, so float32 leaves it a few 1e-8 of absolute error.
ATOL = {np.float32: 2e-7, np.float64: 1e-15}
# One shape (and length-6 vectors) almost everywhere: eager JAX compiles each
# primitive once per shape and dtype, so reusing shapes keeps the suite fast.
SHAPE = (4, 6)


def ref_probs(name, p, q=None):
    if name == "entropy":
        return scipy.special.entr(p) + scipy.special.entr(1 - p)
    if name == "cross_entropy":
        return -scipy.special.xlogy(p, q) - scipy.special.xlogy(1 - p, 1 - q)
    return scipy.special.rel_entr(p, q) + scipy.special.rel_entr(1 - p, 1 - q)


def _xlogs(p, logs):  # p * logs with 0 * anything = 0
    return np.where(p == 0, 0.0, p * np.where(p == 0, 0.0, logs))


def ref_logits(name, a, b=None):
    def split(x):  # (log(1 - s), log s, 1 - s, s) for s = sigmoid(x), float64
        x = np.asarray(x, np.float64)
        lo, hi = -np.logaddexp(0.0, x), -np.logaddexp(0.0, -x)
        return lo, hi, np.exp(lo), np.exp(hi)

    la0, la1, pa0, pa1 = split(a)
    if name == "entropy":
        return -_xlogs(pa0, la0) - _xlogs(pa1, la1)
    lb0, lb1, _, _ = split(b)
    if name == "cross_entropy":
        return -_xlogs(pa0, lb0) - _xlogs(pa1, lb1)
    with np.errstate(invalid="ignore"):
        return _xlogs(pa0, la0 - lb0) + _xlogs(pa1, la1 - lb1)


def x64(dtype):
    return jax.enable_x64(True) if dtype == np.float64 else contextlib.nullcontext()


def transformed(f, how):
    return {"eager": f, "jit": jax.jit(f), "vmap": jax.vmap(f)}[how]


def assert_finite(*xs):
    for x in jax.tree.leaves(xs):
        assert np.isfinite(np.asarray(x)).all(), x


def grad_and_jvp(f, *args):
    g = jax.grad(lambda *a: jnp.sum(f(*a)), argnums=tuple(range(len(args))))(*args)
    rng = np.random.default_rng(99)
    ts = tuple(jnp.asarray(rng.normal(size=np.shape(a)), jnp.float32) for a in args)
    _, t = jax.jvp(f, args, ts)
    return g, t


# --------------------------------------------------------------------------
# values


@pytest.mark.parametrize("dtype,how", DTYPE_TRANSFORMS)
@pytest.mark.parametrize("name", NAMES)
def test_probabilities(name, dtype, how):
    rng = np.random.default_rng(0)
    with x64(dtype):
        p, q = (rng.uniform(0.01, 0.99, size=SHAPE).astype(dtype) for _ in "pq")
        p[0, :3] = [0.0, 1.0, 0.5]  # the ends of [0, 1] where q can take them
        q[0, :3] = [0.3, 0.6, 0.5]
        f, n = PROB[name]
        args = (p, q)[:n]
        out = transformed(f, how)(*args)
        assert out.dtype == dtype and out.shape == p.shape
        expected = ref_probs(name, *(a.astype(np.float64) for a in args))
        np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=ATOL[dtype])


def test_entropy_matches_scipy_stats():
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0, 0.3], np.float32)
    expected = scipy.stats.entropy(np.stack([p, 1 - p]), base=2)
    np.testing.assert_allclose(jaxdiv.binary_entropy(p, base=2), expected, 1e-6)
    expected = scipy.stats.entropy(np.stack([p, 1 - p]), np.full((2, 6), 0.5))
    got = jaxdiv.binary_kl_divergence(p, np.full(6, 0.5, np.float32))
    np.testing.assert_allclose(got, expected, 1e-5)


@pytest.mark.parametrize("dtype,how", DTYPE_TRANSFORMS)
@pytest.mark.parametrize("name", NAMES)
def test_logits(name, dtype, how):
    """Includes large |logits|, where 1 - sigmoid(a) would lose every digit."""
    rng = np.random.default_rng(1)
    with x64(dtype):
        a = rng.normal(scale=4.0, size=SHAPE).astype(dtype)
        b = rng.normal(scale=4.0, size=SHAPE).astype(dtype)
        a[0] = [30.0, -30.0, 60.0, -60.0, 0.0, 15.0]
        b[0] = [31.0, -29.0, 58.0, -61.0, 0.0, -15.0]
        f, n = LOGITS[name]
        args = (a, b)[:n]
        out = transformed(f, how)(*args)
        assert out.dtype == dtype and out.shape == a.shape
        expected = ref_logits(name, *args)
        np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=1e-30)


@pytest.mark.parametrize("base", [2, 10])
@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_base_axis_where(name, form, base):
    rng = np.random.default_rng(2)
    shape = SHAPE
    if form:
        args = tuple(rng.normal(size=shape).astype(np.float32) for _ in "ab")
        ref = ref_logits
    else:
        args = tuple(rng.uniform(size=shape).astype(np.float32) for _ in "pq")
        ref = ref_probs
    f, n = FORMS[form][name]
    args = args[:n]
    elementwise = ref(name, *(a.astype(np.float64) for a in args))
    where = rng.random(shape) < 0.6
    out = f(*args, base=base)
    np.testing.assert_allclose(out, elementwise / np.log(base), rtol=1e-5, atol=1e-6)
    out = f(*args, axis=(1, 0), where=where)
    expected = np.where(where, elementwise, 0.0).sum()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    out = jax.jit(functools.partial(f, axis=-1, where=where[0], base=base))(*args)
    expected = np.where(where[0], elementwise, 0.0).sum(-1) / np.log(base)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# edges


def test_entropy_at_the_ends():
    p = jnp.array([0.0, 0.5, 1.0, 0.1, 0.7, 0.999])
    out = jaxdiv.binary_entropy(p)
    np.testing.assert_array_equal(out[:3], [0.0, np.float32(np.log(2.0)), 0.0])
    (g,), t = grad_and_jvp(jaxdiv.binary_entropy, p)
    assert_finite(g, t)
    # h'(p) = log((1 - p) / p): 0 at 1/2; at the ends the zero-probability
    # convention drops the vanishing outcome's term, leaving -(log 1 + 1) = -1
    # through the certain outcome: +1 at p = 0 and -1 at p = 1
    np.testing.assert_array_equal(g[:3], [1.0, 0.0, -1.0])
    p64 = np.asarray(p[3:], np.float64)
    np.testing.assert_allclose(g[3:], np.log((1 - p64) / p64), rtol=1e-4)
    logits = jnp.array([-jnp.inf, -200.0, 0.0, 200.0, jnp.inf, 1.5])
    out = jaxdiv.binary_entropy_from_logits(logits)
    np.testing.assert_array_equal(np.asarray(out)[[0, 1, 3, 4]], 0.0)
    (g,), t = grad_and_jvp(jaxdiv.binary_entropy_from_logits, logits)
    assert_finite(t)
    # d h(sigmoid(l)) / dl = -l sigmoid(l) sigmoid(-l): 0 at 0 and at +-inf
    np.testing.assert_array_equal(g[:5], 0.0)
    s = scipy.special.expit(1.5)
    np.testing.assert_allclose(g[5], -1.5 * s * (1 - s), rtol=1e-5)


@pytest.mark.parametrize("name", ["cross_entropy", "kl_divergence"])
def test_no_mass_in_q_is_plus_inf(name):
    p = jnp.array([0.5, 1.0, 0.0, 0.0, 1.0, 0.3])
    q = jnp.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.3])
    f = PROB[name][0]
    out = f(p, q)
    np.testing.assert_array_equal(out[:3], np.inf)
    np.testing.assert_array_equal(out[3:5], 0.0)  # p == q at the ends: 0, not nan
    assert np.isfinite(out[5])
    a = jnp.array([0.0, jnp.inf, -jnp.inf, -jnp.inf, jnp.inf, 0.0])
    b = jnp.array([-jnp.inf, -jnp.inf, jnp.inf, -jnp.inf, jnp.inf, 0.0])
    out = LOGITS[name][0](a, b)
    np.testing.assert_array_equal(out[:3], np.inf)
    np.testing.assert_array_equal(out[3:5], 0.0)
    assert np.isfinite(out[5])
    # gradients: finite wherever the value is finite
    for h, x, y in ((LOGITS[name][0], a, b), (f, p, q)):
        keep = np.isfinite(h(x, y))
        g, _ = grad_and_jvp(
            lambda x, y, h=h, keep=keep: jnp.where(keep, h(x, y), 0.0), x, y
        )
        for gr in g:
            assert np.isfinite(np.asarray(gr)[keep]).all()


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_nan_in_nan_out(name, form):
    x = jnp.array([0.3, jnp.nan, 0.7, 0.1, 0.2, 0.9])
    y = jnp.array([0.2, 0.5, 0.6, 0.4, 0.2, 0.1])
    f, n = FORMS[form][name]
    for args in [(x, y)[:n], (y, x)[:n]]:
        out = np.asarray(jax.jit(f)(*args))
        assert np.isnan(out[1]) == (np.isnan(args[0][1]) or np.isnan(args[-1][1]))
        assert np.isfinite(np.delete(out, 1)).all()


@pytest.mark.parametrize("form", [0, 1])
def test_kl_of_a_distribution_with_itself(form):
    rng = np.random.default_rng(3)
    x = rng.uniform(size=SHAPE).astype(np.float32)
    if form:
        x = rng.normal(scale=10.0, size=SHAPE).astype(np.float32)
        x[0, :4] = [np.inf, -np.inf, 80.0, -80.0]
    x = jnp.asarray(x)
    f = FORMS[form]["kl_divergence"][0]
    out = np.asarray(f(x, x))
    assert (out >= 0).all() and (out <= 1e-6).all()
    # nearly equal: rounding-level negatives are clamped
    y = x * (1 + 1e-7) if not form else x + 1e-6
    out = np.asarray(f(x, jnp.clip(y, 0, 1) if not form else y))
    assert (out >= 0).all() and (out <= 1e-6).all()


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_masked_garbage_changes_nothing(name, form):
    rng = np.random.default_rng(4)
    f, n = FORMS[form][name]
    draw = rng.normal if form else rng.uniform
    clean = [jnp.asarray(draw(size=SHAPE), jnp.float32) for _ in range(n)]
    where = rng.random(SHAPE) < 0.6
    garbage = rng.choice([np.nan, np.inf, -np.inf, 1e30], size=(~where).sum())
    dirty = [c.at[~where].set(garbage) for c in clean]
    g = functools.partial(f, where=where)
    for h in (g, jax.jit(g)):
        np.testing.assert_array_equal(h(*dirty), h(*clean))
        np.testing.assert_array_equal(np.asarray(h(*clean))[~where], 0.0)
    gc, tc = grad_and_jvp(g, *clean)
    gd, td = grad_and_jvp(g, *dirty)
    for a, b in zip(gc, gd, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.asarray(a)[~where], 0.0)
    np.testing.assert_array_equal(tc, td)


def test_all_masked_sum_is_zero_with_zero_gradient():
    p = jnp.asarray(np.random.default_rng(7).normal(size=SHAPE), jnp.float32)
    where = jnp.ones(SHAPE, bool).at[0].set(False)
    f = functools.partial(jaxdiv.binary_kl_divergence_from_logits, axis=-1, where=where)
    out = f(p, p + 1.0)
    assert out[0] == 0.0 and (out[1:] > 0).all()
    (ga, gb), t = grad_and_jvp(f, p, p + 1.0)
    np.testing.assert_array_equal(ga[0], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)
    assert t[0] == 0.0 and np.isfinite(t).all()


@pytest.mark.parametrize("name", NAMES)
def test_large_logit_gradients_are_finite_and_right(name):
    a = jnp.array([-100.0, -30.0, 0.5, 30.0, 100.0, 3.0])
    b = jnp.array([-90.0, -31.0, -0.5, 29.0, 90.0, -3.0])
    f, n = LOGITS[name]
    args = (a, b)[:n]
    g, t = grad_and_jvp(f, *args)
    assert_finite(g, t)
    # the closed form of d/da: sigmoid'(a) * (log-odds(a) - log-odds(b)) for KL
    # and CE, times -1 and with b = a for the entropy (float64)
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ds = scipy.special.expit(a64) * scipy.special.expit(-a64)
    expected = {
        "entropy": -ds * a64,
        "cross_entropy": -ds * b64,
        "kl_divergence": ds * (a64 - b64),
    }[name]
    np.testing.assert_allclose(g[0], expected, rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_half_precision(name, form, dtype):
    rng = np.random.default_rng(5)
    f, n = FORMS[form][name]
    args = [
        jnp.asarray(rng.normal(size=SHAPE) if form else rng.uniform(size=SHAPE), dtype)
        for _ in range(n)
    ]
    out = f(*args)
    assert out.dtype == jnp.float32
    expected = f(*[a.astype(jnp.float32) for a in args])
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "f,order",
    [
        (jaxdiv.binary_entropy, 2),
        (jaxdiv.binary_kl_divergence_from_logits, 2),
        (jaxdiv.binary_cross_entropy, 1),
    ],
)
def test_check_grads(f, order):
    rng = np.random.default_rng(6)
    with jax.enable_x64(True):
        if "logits" in f.__name__:
            args = [jnp.asarray(rng.normal(size=3)) for _ in "ab"]
        else:
            args = [jnp.asarray(rng.uniform(0.1, 0.9, size=3)) for _ in "pq"]
        args = args[: 1 if f.__name__.startswith("binary_entropy") else 2]
        check_grads(jax.jit(f), args, order=order, modes=("fwd", "rev"))


def test_shapes_must_match_exactly():
    p = jnp.full((3, 1), 0.5)
    q = jnp.full((3, 4), 0.5)
    for f in (jaxdiv.binary_kl_divergence, jaxdiv.binary_cross_entropy_from_logits):
        with pytest.raises(ValueError, match=r"jaxdiv\.binary_.*\(3, 1\).*\(3, 4\)"):
            f(p, q)
        with pytest.raises(ValueError, match=r"\(3, 1\).*\(3, 4\)"):
            jax.jit(f)(p, q)
    with pytest.raises(TypeError, match=r"jaxdiv\.binary_entropy: p must be a float"):
        jaxdiv.binary_entropy(jnp.array([0, 1]))


# --------------------------------------------------------------------------
# accuracy against 60-digit mpmath: tiny probabilities, near pairs, the
# complements, and the probability and logits forms alike (issue 9, item 5)

mpmath = pytest.importorskip("mpmath")
M = mpmath.mpf


def _sweep(dtype):
    """(p, q): tiny p, p near 1, random; q at relative distances 1e-1..1e-6."""
    rng = np.random.default_rng(10)
    lo = 30 if dtype == np.float32 else 250
    p = np.concatenate([10.0 ** -rng.uniform(0, lo, 16), rng.uniform(0, 1, 8)])
    p = np.concatenate([p, 1 - p[16:] * 1e-3, [0.0, 1.0, 0.5]]).astype(dtype)
    qs = [
        np.clip(p * (1 + d * rng.choice([-1, 1], p.size)), 0, 1)
        for d in (1e-1, 1e-3, 1e-6)
    ]
    qs.append(rng.uniform(0, 1, p.size))
    qs.append(np.clip(1 - (1 - p.astype(np.float64)) * (1 + 1e-3), 0, 1))
    return np.tile(p, len(qs)), np.concatenate(qs).astype(dtype)


def _xl(w, log):  # w * log with 0 * anything = 0
    return M(0) if w == 0 else w * log


def _ref_probs(name, p, q):
    """h, CE, KL at 60 digits; the complements through log1p of exact inputs."""
    with mpmath.workdps(60):
        p, q = M(float(p)), M(float(q))
        lq = mpmath.log(q) if q > 0 else -mpmath.inf
        lcq = mpmath.log1p(-q) if q < 1 else -mpmath.inf
        if name == "entropy":
            lp = mpmath.log(p) if p > 0 else 0
            return float(-_xl(p, lp) - _xl(1 - p, mpmath.log1p(-p) if p < 1 else 0))
        if name == "cross_entropy":
            return float(-_xl(p, lq) - _xl(1 - p, lcq))
        if (q == 0 < p) or (p < 1 == q):
            return np.inf
        t1 = mpmath.log(p / q) if p > 0 else 0
        t0 = mpmath.log1p((q - p) / (1 - q)) if p < 1 else 0
        return float(_xl(p, t1) + _xl(1 - p, t0))


def _ref_logits(name, a, b):
    with mpmath.workdps(400):  # sigmoid(-60) next to 1 needs the digits

        def log_sigmoid(x):
            x = M(float(x))
            return (
                -mpmath.log1p(mpmath.exp(-x))
                if mpmath.isfinite(x)
                else (M(0) if x > 0 else -mpmath.inf)
            )

        la1, la0, lb1, lb0 = (log_sigmoid(x) for x in (a, -a, b, -b))
        pa1, pa0 = mpmath.exp(la1), mpmath.exp(la0)
        if name == "entropy":
            return float(-_xl(pa1, la1) - _xl(pa0, la0))
        if name == "cross_entropy":
            return float(-_xl(pa1, lb1) - _xl(pa0, lb0))
        return float(_xl(pa1, la1 - lb1) + _xl(pa0, la0 - lb0))


def _assert_relative(out, expected, dtype, rtol):
    out, expected = np.asarray(out, np.float64), np.asarray(expected, np.float64)
    inf = ~np.isfinite(expected)
    np.testing.assert_array_equal(out[inf], expected[inf])
    # results near the bottom of the normal range underflow: a floor there
    floor = np.finfo(dtype).tiny / np.finfo(dtype).eps
    err = np.abs(out[~inf] - expected[~inf]) / np.maximum(np.abs(expected[~inf]), floor)
    assert err.max() <= rtol, (err.max(), np.argmax(err))


_BERNOULLI = {
    "entropy": jaxdiv.bernoulli.entropy,
    "cross_entropy": jaxdiv.bernoulli.cross_entropy,
    "kl_divergence": jaxdiv.bernoulli.kl_divergence,
}
_BERNOULLI_LOGITS = {
    "entropy": jaxdiv.bernoulli.entropy_from_logits,
    "cross_entropy": jaxdiv.bernoulli.cross_entropy_from_logits,
    "kl_divergence": jaxdiv.bernoulli.kl_divergence_from_logits,
}
_MP_RTOL = {np.float32: 1e-6, np.float64: 2e-14}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probability_forms_match_mpmath_at_tiny_and_near(dtype):
    """``log(1 - p)`` never from a rounded ``1 - p``; near pairs do not cancel."""
    with x64(dtype):
        p, q = _sweep(dtype)
        for name in NAMES:
            f, n = PROB[name]
            args = (p, q)[:n]
            expected = [_ref_probs(name, a, b) for a, b in zip(p, q, strict=True)]
            jitted = jax.jit(f)(*args)  # eager = jit: test_probabilities
            assert jitted.dtype == dtype
            _assert_relative(jitted, expected, dtype, _MP_RTOL[dtype])
            g = _BERNOULLI[name]
            _assert_relative(jax.jit(g)(*args), expected, dtype, _MP_RTOL[dtype])
    # the reproducers of the issue, float64
    with jax.enable_x64(True):
        out = jaxdiv.binary_kl_divergence(
            1.7833924223587587e-11, 1.7851758147811174e-11
        )
        np.testing.assert_allclose(out, 8.911021925461784e-18, rtol=1e-13)
        x = 2.0466760523418106e-12
        np.testing.assert_allclose(
            jaxdiv.binary_entropy(x), _ref_probs("entropy", x, x), rtol=1e-14
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_forms_match_mpmath_for_near_pairs(dtype):
    """Near logits: KL's leading terms cancel analytically (log1p(s expm1(d)))."""
    with x64(dtype):
        rng = np.random.default_rng(11)
        a = np.concatenate([rng.normal(scale=8, size=12), [30, -30, 60, -60, 0, 1e30]])
        b = np.concatenate(
            [a[:12] + 1e-2, a[:6] - 1e-4, [30.01, -29.99, 60.1, -60.1, 0.0, 1e30]]
        )
        a = np.concatenate([a[:12], a[:6], a[12:]]).astype(dtype)
        b = b.astype(dtype)
        a[6:12], b[6:12] = rng.normal(scale=3, size=6), rng.normal(scale=3, size=6)
        for name in NAMES:
            f, n = LOGITS[name]
            args = (a, b)[:n]
            expected = [_ref_logits(name, x, y) for x, y in zip(a, b, strict=True)]
            rtol = {np.float32: 1e-5, np.float64: 1e-13}[dtype]
            _assert_relative(jax.jit(f)(*args), expected, dtype, rtol)
            _assert_relative(_BERNOULLI_LOGITS[name](*args), expected, dtype, rtol)


def test_kl_gradients_match_mpmath_at_tiny_and_near():
    """dD/dp = log(p/q) - log((1-p)/(1-q)), dD/dq = (q - p) / (q (1 - q))."""
    for dtype in (np.float32, np.float64):
        with x64(dtype):
            p, q = _sweep(dtype)
            keep = (p > 0) & (p < 1) & (q > 0) & (q < 1)
            p, q = p[keep], q[keep]
            loss = lambda p, q: jnp.sum(jaxdiv.binary_kl_divergence(p, q))  # noqa: E731
            gp, gq = jax.jit(jax.grad(loss, (0, 1)))(p, q)
            with mpmath.workdps(60):
                rp, rq = [], []
                for x, y in zip(p, q, strict=True):
                    x, y = M(float(x)), M(float(y))
                    rp.append(
                        float(mpmath.log(x / y) - mpmath.log1p((y - x) / (1 - y)))
                    )
                    rq.append(float((y - x) / (y * (1 - y))))
            rtol = {np.float32: 1e-5, np.float64: 1e-13}[dtype]
            _assert_relative(gp, rp, dtype, rtol)
            _assert_relative(gq, rq, dtype, rtol)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float32])
def test_out_of_domain_probabilities_give_nan(dtype):
    p = jnp.asarray([-0.25, 1.25, jnp.nan, 0.3, 0.3, 0.3], dtype)
    q = jnp.asarray([0.5, 0.5, 0.5, -0.1, 1.1, 0.4], dtype)
    for name in NAMES:
        f, n = PROB[name]
        for h in (f, jax.jit(f), _BERNOULLI[name]):
            out = np.asarray(h(*(p, q)[:n]))
            bad = [0, 1, 2, 3, 4] if n == 2 else [0, 1, 2]
            assert np.isnan(out[bad]).all(), (name, out)
            assert np.isfinite(np.delete(out, bad)).all()
    assert np.isnan(jaxdiv.bernoulli.cross_entropy(-0.25, 0.5))
    assert np.isnan(jaxdiv.bernoulli.log_prob(1, 1.5))
    assert np.isnan(jaxdiv.bernoulli.log_prob(jnp.nan, 0.5))


def test_python_scalars_are_floats():
    np.testing.assert_allclose(
        jaxdiv.binary_kl_divergence(0, 0.5), np.log(2), rtol=1e-6
    )
    np.testing.assert_allclose(jaxdiv.bernoulli.entropy(1), 0.0)
    np.testing.assert_allclose(jaxdiv.bernoulli.kl_divergence_from_logits(0, 0), 0.0)
    with pytest.raises(TypeError, match=r"jaxdiv\.bernoulli\.entropy: probs"):
        jaxdiv.bernoulli.entropy(jnp.array([0, 1]))
