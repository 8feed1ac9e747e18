"""Categorical measures against scipy / NumPy float64, and every edge of API.md.

References are independent of jaxdiv: ``scipy.stats.entropy`` (with and
without ``qk``, with ``base``), ``scipy.special.entr`` / ``rel_entr`` /
``xlogy``, ``scipy.spatial.distance.jensenshannon`` and ``scipy.special.softmax``
evaluated in float64 on the very inputs given to jaxdiv.
"""

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.spatial.distance
import scipy.special
import scipy.stats
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.test_util import check_grads

import jaxdiv

LOG2 = np.log(2.0)

# name -> (probability form, logits form, number of distribution arguments)
MEASURES = {
    "entropy": (jaxdiv.entropy, jaxdiv.entropy_from_logits, 1),
    "cross_entropy": (jaxdiv.cross_entropy, jaxdiv.cross_entropy_from_logits, 2),
    "kl_divergence": (jaxdiv.kl_divergence, jaxdiv.kl_divergence_from_logits, 2),
    "js_divergence": (jaxdiv.js_divergence, jaxdiv.js_divergence_from_logits, 2),
    "js_distance": (jaxdiv.js_distance, jaxdiv.js_distance_from_logits, 2),
}
NAMES = list(MEASURES)
TWO = [n for n in NAMES if MEASURES[n][2] == 2]
DIVERGENCES = ["kl_divergence", "js_divergence", "js_distance"]
TRANSFORMS = ["eager", "jit", "vmap"]
# float64 (the 1e-12 comparison) eagerly; the transforms in float32
DTYPE_TRANSFORMS = [(np.float32, how) for how in TRANSFORMS] + [(np.float64, "eager")]
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
# One batch shape almost everywhere: eager JAX compiles each primitive once per
# shape and dtype, so reusing shapes keeps the suite fast.
SHAPE = (4, 6)
# Absolute floor for values that are small through cancellation (a JSD of
# nearby distributions): a few float32 ulps of the terms being summed.
ATOL = {np.float32: 1e-7, np.float64: 1e-15}


# --------------------------------------------------------------------------
# references (float64 NumPy / scipy, event axis last)


def ref_normalised(name, p, q=None, base=None):
    """scipy on normalised distributions (scipy renormalises its inputs)."""
    if name == "entropy":
        return scipy.stats.entropy(p, axis=-1, base=base)
    if name == "cross_entropy":
        return scipy.stats.entropy(p, axis=-1, base=base) + scipy.stats.entropy(
            p, q, axis=-1, base=base
        )
    if name == "kl_divergence":
        return scipy.stats.entropy(p, q, axis=-1, base=base)
    d = scipy.spatial.distance.jensenshannon(p, q, axis=-1, base=base)
    return d**2 if name == "js_divergence" else d


def ref_raw(name, p, q=None, weight=0.5, base=None):
    """NumPy formulas that do not renormalise (for masked probabilities)."""
    scale = 1.0 if base is None else np.log(base)
    if name == "entropy":
        out = scipy.special.entr(p).sum(-1)
    elif name == "cross_entropy":
        out = -scipy.special.xlogy(p, q).sum(-1)
    elif name == "kl_divergence":
        out = scipy.special.rel_entr(p, q).sum(-1)
    else:
        w = 0.5 if name == "js_distance" else weight
        m = w * p + (1 - w) * q
        out = 0.0  # a term with weight 0 is 0, even where its KL is +inf
        if w > 0:
            out = out + w * scipy.special.rel_entr(p, m).sum(-1)
        if w < 1:
            out = out + (1 - w) * scipy.special.rel_entr(q, m).sum(-1)
        out = np.sqrt(out) if name == "js_distance" else out
    return out / scale if name != "js_distance" else out / np.sqrt(scale)


def softmax64(logits, where=None):
    x = np.asarray(logits, np.float64)
    if where is not None:
        x = np.where(where, x, -np.inf)
    return scipy.special.softmax(x, axis=-1)


def dirichlet(rng, shape, dtype=np.float32, zeros=False):
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if zeros:
        p = np.where(rng.random(shape) < 0.3, 0.0, p)
        p[..., 0] = np.maximum(p[..., 0], 0.1)
        p = p / p.sum(-1, keepdims=True)
    return p.astype(dtype)


def as_logits(rng, p):
    """``log p`` plus a random constant per row (valid logits of ``p``)."""
    c = rng.normal(scale=3.0, size=p.shape[:-1] + (1,))
    with np.errstate(divide="ignore"):
        return (np.log(p.astype(np.float64)) + c).astype(p.dtype)


def x64(dtype):
    return jax.enable_x64(True) if dtype == np.float64 else contextlib.nullcontext()


def transformed(f, how):
    if how == "jit":
        return jax.jit(f)
    if how == "vmap":
        return jax.vmap(f)
    return f


def args_for(name, *arrays):
    return arrays[: MEASURES[name][2]]


# --------------------------------------------------------------------------
# values


@pytest.mark.parametrize("dtype,how", DTYPE_TRANSFORMS)
@pytest.mark.parametrize("name", NAMES)
def test_probabilities_match_scipy(name, dtype, how):
    rng = np.random.default_rng(0)
    with x64(dtype):  # zeros in p: 0 log 0 = 0 as in scipy
        p, q = dirichlet(rng, SHAPE, dtype, True), dirichlet(rng, SHAPE, dtype)
        args = args_for(name, p, q)
        f = transformed(MEASURES[name][0], how)
        out = f(*map(jnp.asarray, args))
        assert out.dtype == dtype and out.shape == SHAPE[:1]
        expected = ref_normalised(name, *[a.astype(np.float64) for a in args])
        np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=ATOL[dtype])


@pytest.mark.parametrize("dtype,how", DTYPE_TRANSFORMS)
@pytest.mark.parametrize("name", NAMES)
def test_logits_match_scipy(name, dtype, how):
    rng = np.random.default_rng(1)
    with x64(dtype):
        p, q = dirichlet(rng, SHAPE, dtype, True), dirichlet(rng, SHAPE, dtype)
        a, b = as_logits(rng, p), as_logits(rng, q)
        assert np.isneginf(a).any()  # impossible categories are -inf logits
        args = args_for(name, a, b)
        f = transformed(MEASURES[name][1], how)
        out = f(*map(jnp.asarray, args))
        assert out.dtype == dtype and out.shape == SHAPE[:1]
        expected = ref_normalised(name, *map(softmax64, args))
        np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=ATOL[dtype])


def test_kl_matches_rel_entr_and_entropy_matches_entr():
    rng = np.random.default_rng(2)
    with jax.enable_x64(True):
        p, q = dirichlet(rng, SHAPE, np.float64, True), dirichlet(rng, SHAPE)
        q = q.astype(np.float64)
        np.testing.assert_allclose(
            jaxdiv.kl_divergence(p, q), scipy.special.rel_entr(p, q).sum(-1), 1e-12
        )
        np.testing.assert_allclose(
            jaxdiv.entropy(p), scipy.special.entr(p).sum(-1), 1e-12
        )


@pytest.mark.parametrize("base", [2, 10])
@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_base(name, form, base):
    rng = np.random.default_rng(3)
    p, q = dirichlet(rng, SHAPE), dirichlet(rng, SHAPE)
    args = args_for(name, p, q)
    if form:
        args = tuple(as_logits(rng, a) for a in args)
    out = MEASURES[name][form](*args, base=base)
    probs = [softmax64(a) if form else a.astype(np.float64) for a in args]
    expected = ref_normalised(name, *probs, base=base)
    np.testing.assert_allclose(out, expected, rtol=1e-5)


@pytest.mark.parametrize("weight", [0.0, 0.2, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_js_weight(weight, dtype):
    rng = np.random.default_rng(4)
    with x64(dtype):
        # disjoint supports somewhere: KL(p || q) is +inf, JS_w must stay finite
        p, q = dirichlet(rng, SHAPE, dtype, True), dirichlet(rng, SHAPE, dtype, True)
        p[0], q[0] = np.eye(6, dtype=dtype)[[0, 1]]
        expected = ref_raw(
            "js_divergence", *(x.astype(np.float64) for x in (p, q)), weight
        )
        bound = scipy.special.entr([weight, 1 - weight]).sum()
        for out in (
            jaxdiv.js_divergence(p, q, weight=weight),
            jax.jit(functools.partial(jaxdiv.js_divergence, weight=weight))(p, q),
            jaxdiv.js_divergence_from_logits(
                as_logits(rng, p), as_logits(rng, q), weight=weight
            ),
        ):
            assert np.isfinite(out).all()
            np.testing.assert_allclose(
                out, expected, rtol=RTOL[dtype], atol=ATOL[dtype]
            )
            # bounded by the binary entropy of the weight
            assert (np.asarray(out) <= bound + 1e-6).all()


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_js_weight_gradients_finite(weight):
    p, q = jnp.array([0.5, 0.5, 0.0]), jnp.array([0.0, 0.5, 0.5])
    a, b = jnp.array([0.0, 0.0, -jnp.inf]), jnp.array([-jnp.inf, 0.0, 0.0])
    for f, args in (
        (functools.partial(jaxdiv.js_divergence, weight=weight), (p, q)),
        (functools.partial(jaxdiv.js_divergence_from_logits, weight=weight), (a, b)),
    ):
        assert np.isfinite(f(*args))
        grads, t = grad_and_jvp(f, *args)
        assert_finite(grads, t)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "axis,perm",
    [(0, (1, 2, 0)), (1, (0, 2, 1)), ((0, 2), (1, 0, 2)), ((-1, -3), (1, 0, 2))],
)
def test_axis(name, form, axis, perm):
    """``axis`` int and tuple against the reference on a moved/reshaped copy."""
    rng = np.random.default_rng(5)
    shape = (3, 4, 5)
    event = [a % 3 for a in ((axis,) if isinstance(axis, int) else axis)]
    n = int(np.prod([shape[a] for a in event]))
    # distributions over the (joint) event axes: normalise along them
    xs = []
    for _ in range(2):
        x = rng.gamma(1.0, size=shape)
        x = x / x.sum(axis=tuple(event), keepdims=True)
        xs.append(x.astype(np.float32))
    args = args_for(name, *xs)
    if form:
        args = tuple((np.log(a) + 1.7).astype(np.float32) for a in args)
    out = MEASURES[name][form](*args, axis=axis)

    def flat(a):  # event axes last, merged
        return np.transpose(a.astype(np.float64), perm).reshape(-1, n)

    probs = [flat(a) for a in args]
    if form:
        probs = [softmax64(a) for a in probs]
    expected = ref_normalised(name, *probs)
    assert out.shape == tuple(s for i, s in enumerate(shape) if i not in event)
    np.testing.assert_allclose(
        np.ravel(out), np.ravel(expected), rtol=1e-5, atol=ATOL[np.float32]
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_where(name, form, dtype):
    rng = np.random.default_rng(6)
    with x64(dtype):
        mask = rng.random(SHAPE) < 0.7
        mask[:, 0] = True
        p, q = dirichlet(rng, SHAPE, dtype), dirichlet(rng, SHAPE, dtype)
        if form:
            a, b = as_logits(rng, p), as_logits(rng, q)
            args = args_for(name, a, b)
            # the logits form renormalises over the kept entries
            expected = ref_normalised(name, *(softmax64(x, mask) for x in args))
        else:
            args = args_for(name, p, q)
            kept = [np.where(mask, x.astype(np.float64), 0.0) for x in args]
            expected = ref_raw(name, *kept)
        out = MEASURES[name][form](*args, where=mask)
        np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=ATOL[dtype])
        # a mask broadcast along the batch axis
        out = jax.jit(functools.partial(MEASURES[name][form], where=mask[0]))(*args)
        if form:
            expected = ref_normalised(name, *(softmax64(x, mask[0]) for x in args))
        else:
            kept = [np.where(mask[0], x.astype(np.float64), 0.0) for x in args]
            expected = ref_raw(name, *kept)
        np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=ATOL[dtype])


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", TWO)
def test_one_reference_against_a_batch(name, form):
    rng = np.random.default_rng(7)
    p, q = dirichlet(rng, SHAPE), dirichlet(rng, SHAPE[1:])
    if form:
        p, q = as_logits(rng, p), as_logits(rng, q)
    f = MEASURES[name][form]
    for args in ((p, q), (q, p)):
        out = f(*args)
        big = [np.broadcast_to(a, SHAPE).astype(np.float64) for a in args]
        probs = [softmax64(a) for a in big] if form else big
        assert out.shape == SHAPE[:1]
        np.testing.assert_allclose(out, ref_normalised(name, *probs), rtol=1e-5)


# --------------------------------------------------------------------------
# edges of API.md "Semantics", in value, jax.grad and jax.jvp


def grad_and_jvp(f, *args):
    """Gradient of sum(f) for every argument, and a jvp with random tangents."""
    g = jax.grad(lambda *a: jnp.sum(f(*a)), argnums=tuple(range(len(args))))(*args)
    rng = np.random.default_rng(8)
    tangents = tuple(
        jnp.asarray(rng.normal(size=np.shape(a)), jnp.result_type(a)) for a in args
    )
    _, t = jax.jvp(f, args, tangents)
    return g, t


def assert_finite(*xs):
    for x in jax.tree.leaves(xs):
        assert np.isfinite(np.asarray(x)).all(), x


@pytest.mark.parametrize("how", ["eager", "jit"])
def test_one_hot_entropy_is_exactly_zero(how):
    p = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    f = transformed(jaxdiv.entropy, how)
    assert np.array_equal(f(p), [0.0, 0.0])
    (g,), t = grad_and_jvp(f, p)
    # d(-p log p)/dp = -(log p + 1): -1 at p = 1, 0 at p = 0 (the convention)
    np.testing.assert_array_equal(g, [[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])
    assert_finite(t)
    for logits in (
        [-jnp.inf, 0.0, -jnp.inf],
        [0.0, 300.0, 0.0],
        [5.0, -jnp.inf, -1e30],
    ):
        logits = jnp.array(logits)
        f = transformed(jaxdiv.entropy_from_logits, how)
        assert f(logits) == 0.0
        (g,), t = grad_and_jvp(f, logits)
        np.testing.assert_array_equal(g, np.zeros(3))
        np.testing.assert_array_equal(t, 0.0)
    assert jaxdiv.entropy(jnp.array([0.0, 1.0]), base=2) == 0.0


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", ["cross_entropy", "kl_divergence"])
def test_no_mass_in_q_is_plus_inf(name, form):
    p = jnp.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = jnp.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    if form:
        p, q = jnp.log(p), jnp.log(q)
    for f in (MEASURES[name][form], jax.jit(MEASURES[name][form])):
        out = f(p, q)
        assert out[0] == np.inf and np.isfinite(out[1])
    # the +inf row leaves the finite row's gradient and tangent finite
    grads, t = grad_and_jvp(MEASURES[name][form], p, q)
    assert_finite([g[1] for g in grads], t[1])
    # the JSD stays finite, with finite gradients (and the distance too)
    for js in (MEASURES["js_divergence"][form], MEASURES["js_distance"][form]):
        assert_finite(js(p, q), grad_and_jvp(js, p, q))


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_nan_in_nan_out(name, form):
    """nan in a kept input is never silently replaced, and stays in its row."""
    base = jnp.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    if form:
        base = jnp.log(base)
    nan = base.at[0, 1].set(jnp.nan)
    f = MEASURES[name][form]
    inputs = [(nan,)] if MEASURES[name][2] == 1 else [(nan, base), (base, nan)]
    for args in inputs:
        for g in (f, jax.jit(f)):
            out = np.asarray(g(*args))
            assert np.isnan(out[0]) and np.isfinite(out[1])
        # nan under a where that keeps it is still nan
        out = f(*args, where=jnp.array([True, True, False]))
        assert np.isnan(out[0])
        # and it does not leak into the other row's gradient or tangent
        grads, t = grad_and_jvp(f, *args)
        assert_finite([g[1] for g in grads], t[1])


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_divergence_of_a_distribution_with_itself(name, form):
    rng = np.random.default_rng(9)
    out = []
    for _ in range(8):
        p = dirichlet(rng, SHAPE, zeros=True)
        args = (as_logits(rng, p), as_logits(rng, p)) if form else (p, p.copy())
        out.append(MEASURES[name][form](*args))
    out = np.asarray(out)
    assert (out >= 0).all()
    # D(p, p) == 0 within 1e-6; the distance is its square root
    tol = 1e-3 if name == "js_distance" else 1e-6
    assert (out <= tol).all(), out.max()
    if not form:  # identical inputs give exactly 0 in the probability form
        np.testing.assert_array_equal(out, 0.0)
    # at p == q the gradient is finite, and in the probability form it is
    # the closed form: d KL / dp = log(p / q) + 1 = 1, d KL / dq = -p / q = -1
    # (0 where p = 0); d JS / dp = w log(p / m) = 0; the root's taken as 0
    grads, t = grad_and_jvp(MEASURES[name][form], *args)
    assert_finite(grads, t)
    if not form:
        support = (p > 0).astype(np.float32)
        expected = (support, -support) if name == "kl_divergence" else (0, 0)
        for g, e in zip(grads, expected, strict=True):
            np.testing.assert_allclose(g, np.broadcast_to(e, p.shape), atol=1e-6)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_divergences_are_never_negative(name, form):
    rng = np.random.default_rng(10)
    # nearly equal distributions: the raw sum can round below zero
    out = []
    for _ in range(16):
        p = dirichlet(rng, SHAPE)
        q = (p * (1 + 1e-7 * rng.normal(size=p.shape))).astype(np.float32)
        if form:
            p, q = as_logits(rng, p), as_logits(rng, q)
        out.append(MEASURES[name][form](p, q))
    out = np.asarray(out)
    assert (out >= 0).all()
    assert (out <= (1e-3 if name == "js_distance" else 1e-6)).all()


@pytest.mark.parametrize("form", [0, 1])
def test_jsd_disjoint_supports_is_log2(form):
    p = jnp.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    q = jnp.array([[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    if form:
        p, q = jnp.log(p), jnp.log(q)
    js, jsd = MEASURES["js_divergence"][form], MEASURES["js_distance"][form]
    np.testing.assert_allclose(js(p, q), [LOG2, LOG2], rtol=1e-6)
    np.testing.assert_allclose(js(p, q, base=2), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(jsd(p, q, base=2), [1.0, 1.0], rtol=1e-6)
    assert (np.asarray(js(p, q)) <= np.float32(LOG2)).all()
    (gp, gq), t = grad_and_jvp(js, p, q)
    assert_finite(gp, gq, t)


def _padding_inputs(name, form, kind):
    """Row 0 is padding (all -inf logits or all-False where); others normal."""
    rng = np.random.default_rng(11)
    p, q = dirichlet(rng, SHAPE), dirichlet(rng, SHAPE)
    where = None
    if form and kind == "neginf":
        p, q = as_logits(rng, p), as_logits(rng, q)
        p[0] = -np.inf
        q[0] = -np.inf
    else:
        if form:
            p, q = as_logits(rng, p), as_logits(rng, q)
        where = np.ones(SHAPE, bool)
        where[0] = False
        p[0] = [np.nan, np.inf, -np.inf, 1e30, 0.5, -1.0]  # whatever they hold
        q[0] = [1e30, np.nan, 0.5, -1.0, np.inf, -np.inf]
    return tuple(map(jnp.asarray, args_for(name, p, q))), where


# -inf padding is a logits-form notion; where-padding applies to both forms
@pytest.mark.parametrize("form,kind", [(0, "where"), (1, "where"), (1, "neginf")])
@pytest.mark.parametrize("name", NAMES)
def test_padding_rows_are_zero_with_zero_gradient(name, form, kind):
    args, where = _padding_inputs(name, form, kind)
    f = functools.partial(MEASURES[name][form], where=where)
    for g in (f, jax.jit(f)):
        out = np.asarray(g(*args))
        assert out[0] == 0.0 and np.isfinite(out[1:]).all()
    grads, t = grad_and_jvp(f, *args)
    for gr in grads:
        np.testing.assert_array_equal(gr[0], 0.0)  # exactly 0 on the padding row
        assert_finite(gr[1:])
    assert t[0] == 0.0 and np.isfinite(t[1:]).all()


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", TWO)
def test_padding_p_row_against_a_real_q(name, form):
    """An empty p (all -inf logits) gives 0 for KL/CE; JS compares to q."""
    q = jnp.array([0.2, 0.3, 0.5])
    p = jnp.zeros(3)
    if form:
        p, q = jnp.full(3, -jnp.inf), jnp.log(q)
    f = MEASURES[name][form]
    out = f(p, q)
    assert np.isfinite(out)
    if name in ("cross_entropy", "kl_divergence"):
        assert out == 0.0
    grads, t = grad_and_jvp(f, p, q)
    assert_finite(grads, t)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_masked_garbage_changes_nothing(name, form):
    rng = np.random.default_rng(12)
    p, q = dirichlet(rng, SHAPE), dirichlet(rng, SHAPE)
    if form:
        p, q = as_logits(rng, p), as_logits(rng, q)
    where = np.array([True, False, True, False, True, True])
    clean = tuple(map(jnp.asarray, args_for(name, p, q)))
    dirty = []
    for a in clean:
        a = np.array(a)
        a[:, 1] = [np.nan, np.inf, 1e30, -1.0]
        a[:, 3] = [-np.inf, 1e30, np.nan, 2.0]
        dirty.append(jnp.asarray(a))
    f = functools.partial(MEASURES[name][form], where=where)
    for g in (f, jax.jit(f)):
        np.testing.assert_array_equal(g(*dirty), g(*clean))
    g_clean, t_clean = grad_and_jvp(f, *clean)
    g_dirty, t_dirty = grad_and_jvp(f, *dirty)
    for a, b in zip(g_clean, g_dirty, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[:, [1, 3]], 0.0)
    np.testing.assert_array_equal(t_clean, t_dirty)


EXTREME = [[-np.inf, 0.0, 1.0], [-1e9, 0.0, 1.0], [-200.0, 0.0, 1.0]]


@pytest.mark.parametrize("logits", EXTREME)
def test_entropy_of_softmax_has_no_nan_gradient(logits):
    logits = jnp.array(logits)
    f = lambda x: jaxdiv.entropy(jax.nn.softmax(x))  # noqa: E731
    g = jax.grad(f)(logits)
    _, t = jax.jvp(f, (logits,), (jnp.ones(3),))
    assert_finite(g, t)
    assert g[0] == 0.0


@pytest.mark.parametrize("logits", EXTREME)
@pytest.mark.parametrize("name", TWO)
def test_zero_probability_gradient_convention(name, logits):
    """p_i = 0 exactly (a softmax underflow or a -inf logit): no nan anywhere."""
    logits = jnp.array(logits)
    other = jnp.array([0.0, 0.4, 0.6])  # no mass where softmax(logits) has none
    other_logits = jnp.array([-jnp.inf, 0.3, -0.2])
    prob, from_logits, _ = MEASURES[name]
    fns = [
        lambda x: prob(jax.nn.softmax(x), other),
        lambda x: prob(other, jax.nn.softmax(x)),
        lambda x: from_logits(x, other_logits),
        lambda x: from_logits(other_logits, x),
        lambda x: from_logits(x, x + 1.0),
    ]
    for f in fns:
        assert np.isfinite(f(logits))
        g = jax.grad(f)(logits)
        _, t = jax.jvp(f, (logits,), (jnp.array([1.0, -2.0, 0.5]),))
        assert_finite(g, t)


@pytest.mark.parametrize("name", ["entropy", "cross_entropy", "kl_divergence"])
def test_gradient_through_zero_probability_is_zero(name):
    p = jnp.array([0.0, 0.25, 0.75])
    q = jnp.array([0.0, 0.5, 0.5])
    f = MEASURES[name][0]
    args = args_for(name, p, q)
    grads = jax.grad(f, argnums=tuple(range(len(args))))(*args)
    for g in grads:
        assert g[0] == 0.0  # the convention of jax.scipy.special.rel_entr
        assert_finite(g)
    # and the independent reference for the other entries (d/dp, float64)
    if name == "kl_divergence":
        pn, qn = np.asarray(p, np.float64)[1:], np.asarray(q, np.float64)[1:]
        np.testing.assert_allclose(grads[0][1:], np.log(pn / qn) + 1, rtol=1e-6)
        np.testing.assert_allclose(grads[1][1:], -(pn / qn), rtol=1e-6)


# --------------------------------------------------------------------------
# 16-bit inputs


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_half_precision_accumulates_in_float32(name, form, dtype):
    rng = np.random.default_rng(13)
    shape = (3, 32768)
    logits = [jnp.asarray(rng.normal(scale=3.0, size=shape), jnp.float32) for _ in "ab"]
    args = [a if form else jax.nn.softmax(a) for a in logits]
    half = [a.astype(dtype) for a in args_for(name, *args)]
    f = MEASURES[name][form]
    out = f(*half)
    assert out.dtype == jnp.float32
    expected = f(*[h.astype(jnp.float32) for h in half])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    # and against float64 on the same rounded inputs
    probs = [np.asarray(h.astype(jnp.float32), np.float64) for h in half]
    probs = [softmax64(a) if form else a for a in probs]
    np.testing.assert_allclose(out, ref_raw(name, *probs), rtol=2e-4)
    if MEASURES[name][2] == 2:  # a 16-bit p against a float32 q
        mixed = f(half[0], half[1].astype(jnp.float32))
        assert mixed.dtype == jnp.float32


# --------------------------------------------------------------------------
# numerical gradients away from the edges


@pytest.mark.parametrize(
    "name,form,order,masked",
    [
        ("entropy", 0, 2, False),
        ("kl_divergence", 1, 1, False),
        ("cross_entropy", 0, 1, True),
        ("js_divergence", 0, 1, True),
        ("js_distance", 1, 1, False),
    ],
)
def test_check_grads(name, form, order, masked):
    rng = np.random.default_rng(14)
    with jax.enable_x64(True):
        p, q = dirichlet(rng, (2, 4), np.float64), dirichlet(rng, (2, 4), np.float64)
        p, q = 0.5 * p + 0.05, 0.5 * q + 0.05  # away from 0 and from p == q
        args = args_for(name, *(np.log(x) for x in (p, q)) if form else (p, q))
        f = MEASURES[name][form]
        if masked:
            f = functools.partial(f, where=jnp.array([True, True, False, True]), base=2)
        args = tuple(map(jnp.asarray, args))
        check_grads(jax.jit(f), args, order=order, modes=("fwd", "rev"))


# --------------------------------------------------------------------------
# vocabulary-parallel logits forms (axis_name under shard_map)


@pytest.mark.parametrize(
    "name,masked",
    [(n, True) for n in NAMES] + [("entropy", False), ("kl_divergence", False)],
)
def test_axis_name_under_shard_map(name, masked):
    devices = jax.devices()
    assert len(devices) == 8
    mesh = Mesh(np.array(devices), ("v",))
    rng = np.random.default_rng(15)
    shape = (4, 64)  # 8 vocabulary entries per device
    a = rng.normal(scale=2.0, size=shape).astype(np.float32)
    b = rng.normal(scale=2.0, size=shape).astype(np.float32)
    a[0, :8] = -np.inf  # one device holds only impossible categories
    a[1, ::3] = -np.inf
    b[1, ::3] = -np.inf
    a[2] = -np.inf  # padding row
    b[2] = -np.inf
    where = rng.random(shape) < 0.8 if masked else None
    if masked:
        where[3, 8:16] = False
        a[3, 8:16] = np.nan  # masked garbage, on one device
    f = MEASURES[name][1]
    args = args_for(name, a, b)
    kwargs = {} if where is None else {"where": where}
    expected = f(*args, **kwargs)

    inputs = tuple(args) + ((where,) if masked else ())

    def body(*xs):
        if masked:
            *xs, w = xs
            return f(*xs, where=w, axis_name="v")
        return f(*xs, axis_name="v")

    split = jax.shard_map(
        body, mesh=mesh, in_specs=(P(None, "v"),) * len(inputs), out_specs=P()
    )
    out = jax.jit(split)(*inputs)
    assert np.isfinite(np.asarray(expected)).all()
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    assert out[2] == 0.0


# --------------------------------------------------------------------------
# issue 9: large logits, nearby distributions, nan propagation (vs mpmath)


def _mp_log_softmax(row):
    import mpmath as mp

    mp.mp.dps = 80  # logits of 1e30 need 30 digits before the answer's
    xs = [mp.mpf(float(v)) if np.isfinite(v) else None for v in row]
    lse = mp.log(sum(mp.exp(v) for v in xs if v is not None))
    return [None if v is None else v - lse for v in xs]


def _mp_kl_logits(a, b):
    import mpmath as mp

    la, lb = _mp_log_softmax(a), _mp_log_softmax(b)
    return float(
        sum(mp.exp(x) * (x - y) for x, y in zip(la, lb, strict=True) if x is not None)
    )


def _mp_js_logits(a, b, w=0.5):
    import mpmath as mp

    la, lb = _mp_log_softmax(a), _mp_log_softmax(b)
    total = mp.mpf(0)
    for x, y in zip(la, lb, strict=True):
        p = mp.exp(x) if x is not None else mp.mpf(0)
        q = mp.exp(y) if y is not None else mp.mpf(0)
        m = w * p + (1 - w) * q
        if p > 0:
            total += w * p * mp.log(p / m)
        if q > 0:
            total += (1 - w) * q * mp.log(q / m)
    return float(total)


def _x64(dtype):
    return jax.enable_x64(True) if dtype == np.float64 else contextlib.nullcontext()


_KL_JIT = jax.jit(jaxdiv.kl_divergence_from_logits)
_JS_JIT = jax.jit(jaxdiv.js_divergence_from_logits)


@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_large_logits_keep_the_answer(scale):
    # logits far larger than the answer: log-probabilities must be formed as
    # (x - max) - log sum, never x - (max + log sum)
    rng = np.random.default_rng(0)
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, -1.0], [1.0, 0.5, -jnp.inf]], np.float32)
    a = (a * scale).astype(np.float32)
    b = rng.normal(size=a.shape).astype(np.float32) * 3
    b[1] = a[1][::-1] - 1.0
    for f in (jaxdiv.kl_divergence_from_logits, _KL_JIT):
        got = np.asarray(f(a, b))
        want = [_mp_kl_logits(x, y) for x, y in zip(a, b, strict=True)]
        np.testing.assert_allclose(got, want, rtol=2e-6)
    for f in (jaxdiv.js_divergence_from_logits, _JS_JIT):
        got = np.asarray(f(a, b))
        want = [_mp_js_logits(x, y) for x, y in zip(a, b, strict=True)]
        np.testing.assert_allclose(got, want, rtol=2e-6)
    ce = jaxdiv.cross_entropy_from_logits(b, a)  # H(softmax(b), softmax(a))
    la = np.array(
        [
            [float(v) if v is not None else -np.inf for v in _mp_log_softmax(r)]
            for r in a
        ]
    )
    pb = scipy.special.softmax(b.astype(np.float64), axis=-1)
    want = -np.sum(np.where(pb > 0, pb * la, 0.0), axis=-1)
    np.testing.assert_allclose(np.asarray(ce), want, rtol=2e-6)


def test_far_pairs_with_q_mass_outside_the_support_of_p():
    # p's support is narrow (one category, or two at a spread of 1) and q puts
    # most of its mass elsewhere, by e^100 or e^1e4: the divergence is large
    # and finite, and so is its gradient (it was nan)
    a = np.array(
        [[0, -100, -100, -100], [1e4, 1e4, -1e4, 0], [0, -1, -300, -300]], np.float32
    )
    b = np.array([[-100, 0, 0, 0], [0, 1, 2, 1e4], [0, 0, 150, 0]], np.float32)
    want = [_mp_kl_logits(x, y) for x, y in zip(a, b, strict=True)]
    for f in (jaxdiv.kl_divergence_from_logits, _KL_JIT):
        np.testing.assert_allclose(np.asarray(f(a, b)), want, rtol=2e-6)
    total = lambda x, y: jaxdiv.kl_divergence_from_logits(x, y).sum()  # noqa: E731
    ga, gb = jax.grad(total, (0, 1))(a, b)
    # d/db = q - p and d/da = p (log p - log q - KL), in float64
    pa = scipy.special.softmax(a.astype(np.float64), axis=-1)
    qb = scipy.special.softmax(b.astype(np.float64), axis=-1)
    np.testing.assert_allclose(gb, qb - pa, atol=1e-6)
    la = scipy.special.log_softmax(a.astype(np.float64), axis=-1)
    lb = scipy.special.log_softmax(b.astype(np.float64), axis=-1)
    want_ga = pa * (la - lb - np.asarray(want)[:, None])
    np.testing.assert_allclose(ga, np.where(pa > 0, want_ga, 0.0), atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_near_pairs_are_accurate_relative_to_the_divergence(dtype):
    # log-probabilities differing by 1e-2 .. 1e-6, logits at an offset too
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    rng = np.random.default_rng(1)
    rows_a, rows_b = [], []
    for delta in [1e-2, 1e-3, 1e-4, 1e-5, 1e-6]:
        for offset in [0.0, 40.0]:
            a = rng.normal(size=7) * 2
            rows_a.append(a)
            rows_b.append(a + delta * rng.normal(size=7) + offset)
    a = np.array(rows_a, dtype)
    b = np.array(rows_b, dtype)
    with _x64(dtype):
        kl = np.asarray(jaxdiv.kl_divergence_from_logits(a, b))
        kl_jit = np.asarray(_KL_JIT(a, b))
        js = np.asarray(jaxdiv.js_divergence_from_logits(a, b))
        jd = np.asarray(jaxdiv.js_distance_from_logits(a, b))
    want_kl = np.array([_mp_kl_logits(x, y) for x, y in zip(a, b, strict=True)])
    want_js = np.array([_mp_js_logits(x, y) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(kl, want_kl, rtol=rtol)
    np.testing.assert_allclose(kl_jit, want_kl, rtol=rtol)
    np.testing.assert_allclose(js, want_js, rtol=rtol)
    np.testing.assert_allclose(jd, np.sqrt(want_js), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_near_pairs_probability_form_js(dtype):
    import mpmath as mp

    rtol = 1e-4 if dtype == np.float32 else 1e-10
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(6), size=5)
    q = p * np.exp(
        np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6])[:, None] * rng.normal(size=p.shape)
    )
    q = q / q.sum(-1, keepdims=True)
    p, q = p.astype(dtype), q.astype(dtype)

    def ref(pr, qr):  # the formula on the very values given
        total = mp.mpf(0)
        for x, y in zip(pr, qr, strict=True):
            x, y = mp.mpf(float(x)), mp.mpf(float(y))
            m = (x + y) / 2
            total += (x * mp.log(x / m) + y * mp.log(y / m)) / 2
        return float(total)

    want = np.array([ref(x, y) for x, y in zip(p, q, strict=True)])
    with _x64(dtype):
        got = np.asarray(jaxdiv.js_divergence(p, q))
        dist = np.asarray(jax.jit(jaxdiv.js_distance)(p, q))
    np.testing.assert_allclose(got, want, rtol=rtol)
    np.testing.assert_allclose(dist, np.sqrt(want), rtol=rtol)
    # the example
    d = jaxdiv.js_distance(jnp.array([0.5, 0.5]), jnp.array([0.5001, 0.4999]))
    x = np.float64(np.float32(0.5001)), np.float64(np.float32(0.4999))
    np.testing.assert_allclose(float(d), np.sqrt(ref([0.5, 0.5], x)), rtol=1e-4)


def test_identical_pairs_give_exact_zero_and_zero_gradient():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 5)).astype(np.float32) * 3
    a[1, 2] = -np.inf
    p = np.asarray(jax.nn.softmax(a))
    fns = [
        (jaxdiv.js_distance, p),
        (jaxdiv.js_divergence, p),
        (jaxdiv.js_distance_from_logits, a),
        (jaxdiv.js_divergence_from_logits, a),
        (jaxdiv.kl_divergence_from_logits, a),
    ]

    @jax.jit
    def values_and_grads(p, a):
        out = []
        for f, x in fns:
            x = p if x is fns[0][1] else a
            out.append(f(x, x))
            out.extend(jax.grad(lambda u, v, f=f: jnp.sum(f(u, v)), (0, 1))(x, x))
        return out

    for leaf in values_and_grads(p, a):  # jit
        assert np.all(np.asarray(leaf) == 0)
    for f, x in (fns[0], fns[4]):  # eager values
        assert np.all(np.asarray(f(x, x)) == 0), f.__name__


def test_kl_from_logits_gradient_near_and_far():
    # the closed form of the kernel's tangent against autodiff of float64 NumPy
    rng = np.random.default_rng(4)
    a = rng.normal(size=(2, 6))
    b = np.stack([a[0] + 1e-3 * rng.normal(size=6), rng.normal(size=6) * 4])
    la = a - scipy.special.logsumexp(a, -1, keepdims=True)
    lb = b - scipy.special.logsumexp(b, -1, keepdims=True)
    p, q = np.exp(la), np.exp(lb)
    kl = np.sum(p * (la - lb), -1, keepdims=True)
    want_a = p * (la - lb - kl)
    want_b = q - p
    ga, gb = jax.grad(
        lambda u, v: jnp.sum(jaxdiv.kl_divergence_from_logits(u, v)), (0, 1)
    )(a.astype(np.float32), b.astype(np.float32))
    np.testing.assert_allclose(ga, want_a, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gb, want_b, rtol=1e-4, atol=1e-7)


def test_nan_in_an_unmasked_input_gives_nan():
    p = jnp.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    q = jnp.array([[1.0, jnp.nan, 0.0], [0.5, 0.5, 0.0]])
    keep = jnp.array([True, False, True])
    fns = [
        jaxdiv.kl_divergence,
        jaxdiv.cross_entropy,
        jaxdiv.js_divergence,
        functools.partial(jaxdiv.renyi_divergence, alpha=2.0),
        functools.partial(jaxdiv.alpha_divergence, alpha=0.5),
        jaxdiv.perplexity,
        lambda x, y, where=None: jaxdiv.losses.kl_divergence(
            jnp.log(y), x, where=where
        ),
    ]

    @jax.jit
    def run(p, q):
        return [
            (f(x, y), f(x, y, where=keep)) for f in fns for x, y in ((p, q), (q, p))
        ]

    for out, masked in run(p, q):
        out = np.asarray(out)
        assert np.isnan(out[0]) and np.isfinite(out[1]), out
        assert np.all(np.isfinite(np.asarray(masked))), masked
    # eagerly too (the measures' own code path, not one compiled unit)
    assert np.isnan(jaxdiv.kl_divergence(p, q)[0])
    assert np.isnan(jaxdiv.losses.kl_divergence(jnp.log(q), p)[0])


def test_integer_input_to_a_measure_suggests_the_integer_label_loss():
    with pytest.raises(TypeError, match="softmax_cross_entropy_with_integer_labels"):
        jaxdiv.entropy(jnp.array([0, 1, 2]))


@pytest.mark.parametrize("tiny", [1e-37, 1e-30, 1e-20])
def test_js_gradient_at_tiny_masses_is_finite_and_exact(tiny):
    """d JS / d q_i = log(q_i / m_i) / 2 (the mixture's terms cancel), finite
    at masses of 1e-37; the near-entry refinement's unselected quotient
    (p - q) / q used to make it nan there."""
    p = np.array([0.2, 0.3, 0.3, 0.2])
    q = np.array([0.2, tiny, 0.4, 0.4 - tiny])
    g = jax.grad(jaxdiv.js_divergence, 1)(
        jnp.asarray(p, jnp.float32), jnp.asarray(q, jnp.float32)
    )
    q32 = np.asarray(jnp.asarray(q, jnp.float32), np.float64)
    m = (p + q32) / 2
    np.testing.assert_allclose(
        np.asarray(g), 0.5 * np.log(q32 / m), rtol=1e-5, atol=1e-6
    )
