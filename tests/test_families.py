"""Rényi, Tsallis, alpha, f, Hellinger, TV and chi^2 against NumPy float64.

The references below are written from the textbook definitions (the
conventions of the ``dit`` package: sums over the support of ``p``,
``0^alpha = 0``, limits at orders 0, 1 and inf taken from their closed forms),
in float64 NumPy / scipy, independently of jaxdiv. Every edge of API.md is
checked as for the core measures.
"""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.scipy.special import xlogy
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.test_util import check_grads

import jaxdiv

INF = math.inf

# --------------------------------------------------------------------------
# references (float64, event axis last)


def _shannon(p):
    return scipy.special.entr(p).sum(-1)


def _kl(p, q):
    return scipy.special.rel_entr(p, q).sum(-1)


def ref_renyi_entropy(p, a):
    s = p > 0
    if a == 0:
        return np.log(s.sum(-1))
    if a == 1:
        return _shannon(p)
    if a == INF:
        return -np.log(p.max(-1))
    return np.log((np.where(s, p, 1.0) ** a * s).sum(-1)) / (1 - a)


def ref_renyi_divergence(p, q, a):
    s = p > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if a == 0:
            return -np.log(np.where(s, q, 0.0).sum(-1))
        if a == 1:
            return _kl(p, q)
        if a == INF:
            return np.log(np.where(s, p / q, 0.0).max(-1))
        terms = np.where(s, np.where(s, p, 1.0) ** a * q ** (1 - a), 0.0)
        return np.log(terms.sum(-1)) / (a - 1)


def ref_tsallis(p, a):
    s = p > 0
    if a == 1:
        return _shannon(p)
    if a == INF:
        return np.zeros(p.shape[:-1])
    return (1 - (np.where(s, p, 1.0) ** a * s).sum(-1)) / (a - 1)


def ref_alpha_divergence(p, q, a):
    if a == 1:
        return _kl(p, q)
    if a == 0:
        return _kl(q, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = p**a * q ** (1 - a)
    terms = np.where((p == 0) & (q == 0), 0.0, terms)
    return (1 - terms.sum(-1)) / (a * (1 - a))


def ref_f_divergence(p, q, f, slope):
    slope = INF if slope is None else slope
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(q > 0, p / np.where(q > 0, q, 1.0), 0.0)
        terms = np.where(q > 0, q * f(t), np.where(p > 0, p * slope, 0.0))
    return terms.sum(-1)


def ref_hellinger(p, q):
    return np.sqrt(np.maximum(1.0 - np.sqrt(p * q).sum(-1), 0.0))


def ref_tv(p, q):
    return 0.5 * np.abs(p - q).sum(-1)


def ref_chi2(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, (p - q) ** 2 / np.where(q > 0, q, 1.0), 0.0)
        terms = np.where((q == 0) & (p > 0), INF, terms)
    return terms.sum(-1)


# f-divergence generators: (jax f, NumPy f, slope at infinity)
GENERATORS = {
    "kl": (lambda t: xlogy(t, t), lambda t: scipy.special.xlogy(t, t), None),
    "reverse_kl": (lambda t: -jnp.log(t), lambda t: -np.log(t), 0.0),
    "tv": (lambda t: jnp.abs(t - 1) / 2, lambda t: np.abs(t - 1) / 2, 0.5),
    "chi2": (lambda t: (t - 1) ** 2, lambda t: (t - 1) ** 2, None),
    "hellinger2": (
        lambda t: (jnp.sqrt(t) - 1) ** 2,
        lambda t: (np.sqrt(t) - 1) ** 2,
        1.0,
    ),
}


# --------------------------------------------------------------------------
# the measures under test: id -> (prob form, logits form, n args, kwargs, ref)


def _cases():
    out = {}
    for a in [0.0, 0.5, 1.0, 2.0, INF]:
        out[f"renyi_entropy-{a}"] = (
            jaxdiv.renyi_entropy,
            jaxdiv.renyi_entropy_from_logits,
            1,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_renyi_entropy(p, a), a=a),
        )
        out[f"tsallis_entropy-{a}"] = (
            jaxdiv.tsallis_entropy,
            jaxdiv.tsallis_entropy_from_logits,
            1,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_tsallis(p, a), a=a),
        )
        out[f"renyi_divergence-{a}"] = (
            jaxdiv.renyi_divergence,
            jaxdiv.renyi_divergence_from_logits,
            2,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_renyi_divergence(p, q, a), a=a),
        )
    for a in [-1.0, 0.0, 0.3, 0.5, 1.0, 2.0]:
        out[f"alpha_divergence-{a}"] = (
            jaxdiv.alpha_divergence,
            jaxdiv.alpha_divergence_from_logits,
            2,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_alpha_divergence(p, q, a), a=a),
        )
    for g, (fj, fn, slope) in GENERATORS.items():
        out[f"f_divergence-{g}"] = (
            jaxdiv.f_divergence,
            jaxdiv.f_divergence_from_logits,
            2,
            {"f": fj, "slope_at_infinity": slope},
            functools.partial(
                lambda p, q, fn, s: ref_f_divergence(p, q, fn, s), fn=fn, s=slope
            ),
        )
    out["hellinger_distance"] = (
        jaxdiv.hellinger_distance,
        jaxdiv.hellinger_distance_from_logits,
        2,
        {},
        lambda p, q: ref_hellinger(p, q),
    )
    out["total_variation_distance"] = (
        jaxdiv.total_variation_distance,
        jaxdiv.total_variation_distance_from_logits,
        2,
        {},
        lambda p, q: ref_tv(p, q),
    )
    out["chi_squared_divergence"] = (
        jaxdiv.chi_squared_divergence,
        jaxdiv.chi_squared_divergence_from_logits,
        2,
        {},
        lambda p, q: ref_chi2(p, q),
    )
    return out


CASES = _cases()
IDS = list(CASES)
TWO = [k for k in IDS if CASES[k][2] == 2]
# the order-1 (and Amari order-0) limits have tests of their own below
VALUE_IDS = [k for k in IDS if not k.endswith("-1.0") and k != "alpha_divergence-0.0"]
# Traced orders: ``fn`` passes them as arrays, so every branch is evaluated
# and then selected (the path of an alpha traced under jit, vmap or grad).
CASES["renyi_divergence-traced1.5"] = (
    jaxdiv.renyi_divergence,
    jaxdiv.renyi_divergence_from_logits,
    2,
    {"alpha": np.float32(1.5)},
    lambda p, q: ref_renyi_divergence(p, q, 1.5),
)
CASES["tsallis_entropy-traced1.0"] = (
    jaxdiv.tsallis_entropy,
    jaxdiv.tsallis_entropy_from_logits,
    1,
    {"alpha": np.float32(1.0)},
    lambda p, q: ref_tsallis(p, 1.0),
)
# a representative subset for the edge tests (each compiles its own code)
EDGE_IDS = [
    "renyi_entropy-0.5",
    "renyi_entropy-inf",
    "tsallis_entropy-traced1.0",
    "renyi_divergence-0.5",
    "renyi_divergence-inf",
    "renyi_divergence-traced1.5",
    "alpha_divergence--1.0",
    "alpha_divergence-2.0",
    "f_divergence-kl",
    "f_divergence-hellinger2",
    "hellinger_distance",
    "total_variation_distance",
    "chi_squared_divergence",
]
EDGE_TWO = [k for k in EDGE_IDS if CASES[k][2] == 2]


def fn(key, form):
    prob, logits, _, kwargs, _ = CASES[key]
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("alpha"), np.float32):  # the traced path
        kwargs["alpha"] = jnp.asarray(kwargs["alpha"])
    return functools.partial(logits if form else prob, **kwargs)


def args_for(key, p, q):
    return (p, q)[: CASES[key][2]]


def ref(key, p, q):
    return CASES[key][4](np.asarray(p, np.float64), np.asarray(q, np.float64))


def dirichlet(rng, shape, zeros=False, dtype=np.float32):
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if zeros:
        p = np.where(rng.random(shape) < 0.3, 0.0, p)
        p[..., 0] = np.maximum(p[..., 0], 0.1)
        p = p / p.sum(-1, keepdims=True)
    return p.astype(dtype)


def as_logits(rng, p):
    c = rng.normal(scale=3.0, size=p.shape[:-1] + (1,))
    with np.errstate(divide="ignore"):
        return (np.log(p.astype(np.float64)) + c).astype(p.dtype)


def log(x):
    """``np.log`` with ``log 0 = -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(x)


def softmax64(logits):
    return scipy.special.softmax(np.asarray(logits, np.float64), axis=-1)


def transformed(f, how):
    return {"eager": f, "jit": jax.jit(f), "vmap": jax.vmap(f)}[how]


def assert_finite(*trees):
    for leaf in jax.tree_util.tree_leaves(trees):
        assert np.all(np.isfinite(np.asarray(leaf))), leaf


def grad_and_jvp(f):
    """A jitted ``args -> (grads of sum f, jvp of f along ones)``."""

    @jax.jit
    def both(*args):
        argnums = tuple(range(len(args)))
        grads = jax.grad(lambda *a: jnp.sum(f(*a)), argnums=argnums)(*args)
        _, t = jax.jvp(f, args, tuple(jnp.ones_like(a) for a in args))
        return grads, t

    return both


RTOL = {np.float32: 2e-5, np.float64: 1e-10}
ATOL = {np.float32: 2e-6, np.float64: 1e-12}


S = (3, 4)  # one shape for the edge tests: eager primitives compile once per shape


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


# --------------------------------------------------------------------------
# limits and continuity in the order

ORDER_NAMES = [
    "renyi_entropy",
    "tsallis_entropy",
    "renyi_divergence",
    "alpha_divergence",
]


def _order_ref(name, p, q, a):
    """float64 reference on *normalised* inputs.

    The literal formulas amplify a float32 normalisation error of p by
    1 / |alpha - 1| near order 1; jaxdiv treats p as normalised there.
    """
    p = p.astype(np.float64) / p.astype(np.float64).sum(-1, keepdims=True)
    q = q.astype(np.float64) / q.astype(np.float64).sum(-1, keepdims=True)
    return {
        "renyi_entropy": lambda: ref_renyi_entropy(p, a),
        "tsallis_entropy": lambda: ref_tsallis(p, a),
        "renyi_divergence": lambda: ref_renyi_divergence(p, q, a),
        "alpha_divergence": lambda: ref_alpha_divergence(p, q, a),
    }[name]()


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", ORDER_NAMES)
def test_order_one_is_shannon_and_kl(name, form):
    """Order 1 +- 1e-7 in float32 equals Shannon / KL within 1e-5 (no 0/0)."""
    rng = np.random.default_rng(1)
    p, q = dirichlet(rng, (5, 7), True), dirichlet(rng, (5, 7))
    two = "divergence" in name
    limit = _order_ref(name, p, q, 1.0)
    core = jaxdiv.kl_divergence(p, q) if two else jaxdiv.entropy(p)
    np.testing.assert_allclose(core, limit, rtol=0, atol=1e-6)  # the reference
    f = getattr(jaxdiv, name + ("_from_logits" if form else ""))
    args = (p, q) if two else (p,)
    if form:
        args = tuple(log(a) for a in args)
    traced = jax.jit(lambda a: f(*args, alpha=a))
    for alpha in [1.0 - 1e-7, 1.0, 1.0 + 1e-7]:
        for out in (f(*args, alpha=alpha), traced(jnp.float32(alpha))):
            assert out.dtype == jnp.float32
            np.testing.assert_allclose(out, limit, rtol=0, atol=1e-5)
            np.testing.assert_allclose(out, core, rtol=0, atol=1e-5)


def test_alpha_divergence_order_zero_is_reverse_kl():
    rng = np.random.default_rng(2)
    p, q = dirichlet(rng, (5, 7)), dirichlet(rng, (5, 7))
    limit = _kl(q.astype(np.float64), p.astype(np.float64))
    traced = jax.jit(lambda a: jaxdiv.alpha_divergence(p, q, alpha=a))
    for alpha in [-1e-7, 0.0, 1e-7]:
        for out in (jaxdiv.alpha_divergence(p, q, alpha=alpha), traced(alpha)):
            np.testing.assert_allclose(out, limit, rtol=0, atol=1e-5)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", ORDER_NAMES)
def test_accuracy_across_the_order_one_transition(name, form):
    """Against float64 at orders approaching 1 from both sides."""
    rng = np.random.default_rng(3)
    p, q = dirichlet(rng, (3, 9)), dirichlet(rng, (3, 9))
    f = getattr(jaxdiv, name + ("_from_logits" if form else ""))
    args = (p, q) if "divergence" in name else (p,)
    if form:
        args = tuple(log(a) for a in args)
    jitted = jax.jit(lambda a: f(*args, alpha=a))
    for d in [1e-6, 1e-4, 1e-2, 0.3, 0.99]:
        for a in [1 - d, 1 + d]:
            a32 = float(np.float32(a))
            expected = _order_ref(name, p, q, a32)
            np.testing.assert_allclose(f(*args, alpha=a32), expected, rtol=3e-5)
            np.testing.assert_allclose(jitted(jnp.float32(a32)), expected, rtol=3e-5)


def test_renyi_orders_zero_and_infinity():
    p = np.array([[0.5, 0.3, 0.2, 0.0], [1.0, 0.0, 0.0, 0.0]], np.float32)
    q = np.array([[0.1, 0.1, 0.3, 0.5], [0.25, 0.25, 0.25, 0.25]], np.float32)
    h0, hinf = np.log([3.0, 1.0]), -np.log([0.5, 1.0])
    d0, dinf = -np.log([0.5, 0.25]), np.log([5.0, 4.0])  # -log Q(supp P), log max p/q
    np.testing.assert_allclose(jaxdiv.renyi_entropy(p, alpha=0.0), h0, atol=1e-7)
    np.testing.assert_allclose(jaxdiv.renyi_entropy(p, alpha=INF), hinf, atol=1e-7)
    np.testing.assert_allclose(jaxdiv.renyi_divergence(p, q, alpha=0), d0, rtol=1e-6)
    np.testing.assert_allclose(
        jaxdiv.renyi_divergence(p, q, alpha=INF), dinf, rtol=1e-6
    )
    np.testing.assert_allclose(jaxdiv.tsallis_entropy(p, alpha=0.0), [2.0, 0.0])
    np.testing.assert_allclose(jaxdiv.tsallis_entropy(p, alpha=INF), [0.0, 0.0])
    jit = jax.jit(lambda a: jaxdiv.renyi_divergence(p, q, alpha=a))
    np.testing.assert_allclose(jit(jnp.float32(INF)), dinf, rtol=1e-6)
    np.testing.assert_allclose(jit(jnp.float32(0)), d0, rtol=1e-6)
    # large finite orders approach the order-inf values
    np.testing.assert_allclose(jaxdiv.renyi_entropy(p, alpha=1e4), hinf, atol=1e-3)
    np.testing.assert_allclose(jit(jnp.float32(1e4)), dinf, atol=1e-3)


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
    st.lists(st.floats(0.05, 1.0), min_size=6, max_size=6),
)
def test_monotone_in_the_order(p_raw, q_raw):
    """H_alpha non-increasing and D_alpha non-decreasing in alpha."""
    p = np.asarray(p_raw) + 1e-3
    p, q = p / p.sum(), np.asarray(q_raw) / np.sum(q_raw)
    alphas = jnp.array([0.0, 0.25, 0.5, 0.999, 1.0, 1.001, 2.0, 5.0, INF])
    with jax.enable_x64(True):
        h, d = _renyi_curves(jnp.asarray(p), jnp.asarray(q), alphas)
    assert np.all(np.diff(np.asarray(h)) <= 1e-12)
    assert np.all(np.diff(np.asarray(d)) >= -1e-12)


@jax.jit
def _renyi_curves(p, q, alphas):
    h = jax.vmap(lambda a: jaxdiv.renyi_entropy(p, alpha=a))(alphas)
    d = jax.vmap(lambda a: jaxdiv.renyi_divergence(p, q, alpha=a))(alphas)
    return h, d


# --------------------------------------------------------------------------
# relations between the families


def test_hellinger_squared_is_one_minus_bhattacharyya():
    rng = np.random.default_rng(4)
    p, q = dirichlet(rng, (50, 8), True), dirichlet(rng, (50, 8), True)
    bc = np.sqrt(p.astype(np.float64) * q).sum(-1)
    h = np.asarray(jaxdiv.hellinger_distance(p, q), np.float64)
    np.testing.assert_allclose(h**2, 1 - bc, atol=1e-6)
    assert np.all((h >= 0) & (h <= 1))
    # a quarter of the order-1/2 alpha-divergence
    a_half = jaxdiv.alpha_divergence(p, q, alpha=0.5)
    np.testing.assert_allclose(4 * h**2, a_half, rtol=1e-5, atol=1e-6)


def test_pinsker_and_tv_hellinger_bounds():
    rng = np.random.default_rng(5)
    p = dirichlet(rng, (200, 5), dtype=np.float64)
    q = dirichlet(rng, (200, 5), dtype=np.float64)
    with jax.enable_x64(True):
        tv = np.asarray(jaxdiv.total_variation_distance(p, q))
        kl = np.asarray(jaxdiv.kl_divergence(p, q))
        h = np.asarray(jaxdiv.hellinger_distance(p, q))
    np.testing.assert_allclose(tv, ref_tv(p, q), rtol=1e-12)
    assert np.all(tv <= np.sqrt(kl / 2) + 1e-12)  # Pinsker
    assert np.all(h**2 <= tv + 1e-12) and np.all(tv <= np.sqrt(2) * h + 1e-12)


@pytest.mark.parametrize("form", [0, 1])
def test_f_divergence_generators_give_the_named_divergences(form):
    rng = np.random.default_rng(6)
    p, q = dirichlet(rng, (6, 5), True), dirichlet(rng, (6, 5), True)
    q[:, 0] = 0.0  # some p_i > 0 = q_i
    q[:3] = dirichlet(rng, (3, 5))  # and rows where q has full support
    q = q / q.sum(-1, keepdims=True)
    pn, qn = p.astype(np.float64), q.astype(np.float64)
    a, b = (log(p), log(q)) if form else (p, q)
    fd = jaxdiv.f_divergence_from_logits if form else jaxdiv.f_divergence
    sfx = "_from_logits" if form else ""

    def check(g, named, reference):
        fj, _, slope = GENERATORS[g]
        out = fd(a, b, f=fj, slope_at_infinity=slope)
        np.testing.assert_allclose(out, named, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(out, reference, rtol=2e-5, atol=1e-6)

    tv = getattr(jaxdiv, "total_variation_distance" + sfx)(a, b)
    chi2 = getattr(jaxdiv, "chi_squared_divergence" + sfx)(a, b)
    h = np.asarray(getattr(jaxdiv, "hellinger_distance" + sfx)(a, b), np.float64)
    check("kl", getattr(jaxdiv, "kl_divergence" + sfx)(a, b), _kl(pn, qn))
    check("tv", tv, ref_tv(pn, qn))
    check("chi2", chi2, ref_chi2(pn, qn))
    check("hellinger2", 2 * h**2, 2 * ref_hellinger(pn, qn) ** 2)
    check("reverse_kl", getattr(jaxdiv, "kl_divergence" + sfx)(b, a), _kl(qn, pn))


@pytest.mark.parametrize("a", [-1.0, 0.3, 2.0, 3.0])
def test_alpha_divergence_relations(a):
    """f-divergence form, Renyi form, and D_a(p || q) = D_(1-a)(q || p)."""
    rng = np.random.default_rng(7)
    p, q = dirichlet(rng, (6, 5)), dirichlet(rng, (6, 5))
    d = jaxdiv.alpha_divergence(p, q, alpha=a)
    gen = lambda t: (t**a - a * t + a - 1) / (a * (a - 1))  # noqa: E731
    np.testing.assert_allclose(d, jaxdiv.f_divergence(p, q, f=gen), rtol=2e-5)
    np.testing.assert_allclose(d, jaxdiv.alpha_divergence(q, p, alpha=1 - a), rtol=2e-5)
    if a > 0:
        r = np.asarray(jaxdiv.renyi_divergence(p, q, alpha=a), np.float64)
        np.testing.assert_allclose(
            d, -np.expm1(-(1 - a) * r) / (a * (1 - a)), rtol=2e-5
        )
    if a == 2.0:
        chi2 = np.asarray(jaxdiv.chi_squared_divergence(p, q))
        np.testing.assert_allclose(d, chi2 / 2, rtol=2e-5)
        np.testing.assert_allclose(
            jaxdiv.renyi_divergence(p, q, alpha=2.0), np.log1p(chi2), rtol=2e-5
        )


def test_tsallis_relates_to_renyi():
    rng = np.random.default_rng(8)
    p = dirichlet(rng, (6, 5), True)
    for a in [0.0, 0.5, 2.0, 3.0]:
        h = np.asarray(jaxdiv.renyi_entropy(p, alpha=a), np.float64)
        s = jaxdiv.tsallis_entropy(p, alpha=a)
        np.testing.assert_allclose(s, -np.expm1((1 - a) * h) / (a - 1), rtol=2e-5)


# --------------------------------------------------------------------------
# the order parameter


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_traced_order_equals_python_order_and_vmaps(name):
    rng = np.random.default_rng(9)
    p, q = dirichlet(rng, (3, 6), True), dirichlet(rng, (3, 6))
    args = (p, q) if "divergence" in name else (p,)
    f = getattr(jaxdiv, name)
    alphas = [-2.0, 0.0, 0.25, 0.5, 1.0, 1.5, 3.0]
    if name != "alpha_divergence":
        alphas = [*alphas[1:], INF]
    static = np.stack([f(*args, alpha=a) for a in alphas])
    traced = jax.jit(jax.vmap(lambda a: f(*args, alpha=a)))(jnp.array(alphas))
    np.testing.assert_allclose(traced, static, rtol=2e-6, atol=1e-7)
    # NumPy scalars are static, concrete arrays take the traced path
    at = static[alphas.index(1.5)]
    np.testing.assert_allclose(f(*args, alpha=np.float32(1.5)), at, rtol=2e-6)
    np.testing.assert_allclose(f(*args, alpha=jnp.asarray(1.5)), at, rtol=2e-6)


def _five_point(g, a, h=1e-3):
    return (-g(a + 2 * h) + 8 * g(a + h) - 8 * g(a - h) + g(a - 2 * h)) / (12 * h)


@pytest.mark.parametrize("name", ORDER_NAMES)
def test_gradient_in_the_order(name):
    """d/d alpha (grad and jvp) against differences of the float64 reference."""
    rng = np.random.default_rng(11)
    p, q = dirichlet(rng, S, dtype=np.float64), dirichlet(rng, S, dtype=np.float64)
    f = getattr(jaxdiv, name)
    args = (p, q) if "divergence" in name else (p,)
    with jax.enable_x64(True):
        grad = jax.jit(jax.grad(lambda b: jnp.sum(f(*args, alpha=b))))
        jvp = jax.jit(lambda b: jax.jvp(lambda c: f(*args, alpha=c), (b,), (1.0,))[1])
        for a in [0.3, 1.0, 2.5] + ([0.0, -0.5] if name == "alpha_divergence" else []):
            expected = _five_point(lambda b: _order_ref(name, p, q, b), a)
            np.testing.assert_allclose(grad(a), expected.sum(), rtol=1e-7, atol=1e-9)
            np.testing.assert_allclose(jvp(a), expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "call",
    [
        lambda p: jaxdiv.renyi_entropy(p, alpha=-0.5),
        lambda p: jaxdiv.renyi_entropy(p, alpha=math.nan),
        lambda p: jaxdiv.tsallis_entropy_from_logits(p, alpha=-1),
        lambda p: jaxdiv.renyi_divergence(p, p, alpha=-1e-3),
        lambda p: jaxdiv.alpha_divergence(p, p, alpha=INF),
        lambda p: jaxdiv.alpha_divergence_from_logits(p, p, alpha=-INF),
        lambda p: jaxdiv.renyi_entropy(p, alpha=jnp.array([1.0, 2.0])),
    ],
)
def test_bad_orders_raise_value_error(call):
    with pytest.raises(ValueError, match=r"^jaxdiv\.\w+: alpha"):
        call(jnp.array([0.5, 0.5]))


def test_order_is_required_and_keyword_only():
    with pytest.raises(TypeError):
        jaxdiv.renyi_entropy(jnp.array([0.5, 0.5]))
    with pytest.raises(TypeError):
        jaxdiv.renyi_entropy(jnp.array([0.5, 0.5]), 2.0)
    with pytest.raises(TypeError, match="real number"):
        jaxdiv.renyi_entropy(jnp.array([0.5, 0.5]), alpha=jnp.array(True))


def test_traced_negative_order_is_nan_and_caught_by_value_checks():
    p = jnp.array([0.5, 0.5])
    f = jax.jit(lambda a: jaxdiv.renyi_entropy(p, alpha=a))
    assert np.isnan(f(jnp.float32(-1.0)))
    checked = chex.chexify(
        jax.jit(lambda a: jaxdiv.renyi_entropy(p, alpha=a)), async_check=False
    )
    with jaxdiv.value_checks():
        with pytest.raises(Exception, match="alpha must be"):
            checked(jnp.float32(-1.0))
        checked(jnp.float32(2.0))  # fine


# --------------------------------------------------------------------------
# f_divergence's generator and the log-space forms


def test_generator_errors():
    p = jnp.array([0.5, 0.5])
    with pytest.raises(ValueError, match=r"^jaxdiv\.f_divergence: f\(1\) must be 0"):
        jaxdiv.f_divergence(p, p, f=lambda t: t * 0 + 1.0)
    with pytest.raises(TypeError, match=r"^jaxdiv\.f_divergence: f must be a call"):
        jaxdiv.f_divergence(p, p, f="kl")
    with pytest.raises(ValueError, match="elementwise"):
        jaxdiv.f_divergence_from_logits(p, p, f=lambda t: jnp.sum((t - 1) ** 2))
    with pytest.raises(ValueError, match=r"f\(1\) must be 0"):  # checked under jit too
        jax.jit(lambda x: jaxdiv.f_divergence(x, x, f=lambda t: t))(p)


def test_generator_closing_over_traced_values():
    p, q = jnp.array([0.2, 0.8]), jnp.array([0.6, 0.4])
    chi2 = ref_chi2(np.asarray(p, np.float64), np.asarray(q, np.float64))

    def scaled_chi2(c):
        return jaxdiv.f_divergence(p, q, f=lambda t: c * (t - 1) ** 2)

    np.testing.assert_allclose(jax.jit(scaled_chi2)(2.0), 2 * chi2, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(scaled_chi2)(2.0), chi2, rtol=1e-6)


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


def test_renyi_from_logits_with_extreme_logits():
    """Low orders see categories whose softmax underflows in float32."""
    logits = np.array([0.0, -150.0, -300.0], np.float32)
    p = softmax64(logits)  # float64 keeps them
    for a in [0.01, 0.5, 2.0]:
        np.testing.assert_allclose(
            jaxdiv.renyi_entropy_from_logits(logits, alpha=a),
            ref_renyi_entropy(p, a),
            rtol=2e-5,
            atol=1e-7,
        )
    np.testing.assert_allclose(
        jaxdiv.renyi_entropy_from_logits(logits, alpha=0.0), np.log(3.0), rtol=1e-7
    )
    zero = np.zeros(3, np.float32)
    np.testing.assert_allclose(
        jaxdiv.renyi_divergence_from_logits(zero, logits, alpha=0.5),
        ref_renyi_divergence(softmax64(zero), p, 0.5),
        rtol=2e-5,
    )


# --------------------------------------------------------------------------
# edges shared with the core measures: one batch holds every edge, so each
# measure compiles once for its values and once for its gradients

X = 0.25  # column 1 is masked everywhere: its value never matters
EDGE_P = np.array(
    [
        [X, X, X, X],  # 0: masked out entirely -> padding
        [0.2, X, 0.3, 0.5],  # 1: ordinary
        [0.0, X, 0.0, 0.0],  # 2: empty (all -inf logits) -> padding
        [0.0, X, 0.4, 0.6],  # 3: p_0 = q_0 = 0
        [0.0, X, 0.4, 0.6],  # 4: p_0 = 0 < q_0
        [0.2, X, 0.5, 0.3],  # 5: q_0 = 0 < p_0
        [0.0, X, 0.5, 0.5],  # 6: logits: p_0 underflows, q_0 = 0
    ]
)
EDGE_Q = np.array(
    [
        [X, X, X, X],
        [0.5, X, 0.25, 0.25],
        [0.0, X, 0.0, 0.0],
        [0.0, X, 0.7, 0.3],
        [0.2, X, 0.5, 0.3],
        [0.0, X, 0.4, 0.6],
        [0.0, X, 0.4, 0.6],
    ]
)
EDGE_WHERE = np.ones(EDGE_P.shape, bool)
EDGE_WHERE[0] = False
EDGE_WHERE[:, 1] = False
GARBAGE = np.array([np.nan, np.inf, -np.inf, 1e30, -1.0, np.nan, 7.0])


def _edge_inputs(form):
    p, q = EDGE_P.copy(), EDGE_Q.copy()
    if form:
        p, q = log(p) + 1.5, log(q) - 0.5  # valid logits, up to a constant
        p[6, 0] = -200.0  # a finite logit whose softmax underflows in float32
        p[:, 1] = q[:, 1] = 0.0
    clean = [p.astype(np.float32), q.astype(np.float32)]
    dirty = [a.copy() for a in clean]
    for a in dirty:
        a[0] = GARBAGE[:4]
        a[:, 1] = GARBAGE
    return clean, dirty


def _edge_reference(key, form):
    """float64 values of the rows that are not padding (rows 1, 3, 4, 5, 6)."""
    kept = [0, 2, 3]
    p, q = EDGE_P[:, kept], EDGE_Q[:, kept]
    p = p.copy()
    p[6, 0] = 0.0  # the float32 underflow: no mass, as in KL
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(ref(key, p, q))[[1, 3, 4, 5, 6]]


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


ZERO_PROB_IDS = [
    "renyi_entropy-0.5",
    "renyi_divergence-traced1.5",
    "alpha_divergence--1.0",
    "f_divergence-hellinger2",
    "chi_squared_divergence",
]
EXTREME = np.array([[-np.inf, 0.0, 1.0, 0.5], [-1e9, 0.0, 1.0, 0.5], [-200, 0, 1, 0.5]])


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


AXIS_IDS = [
    "tsallis_entropy-traced1.0",
    "renyi_divergence-inf",
    "alpha_divergence--1.0",
    "chi_squared_divergence",
]


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


# --------------------------------------------------------------------------
# numerical gradients away from the edges


SECOND_ORDER = ["renyi_entropy-0.5"]  # the others: first order (cost)
CHECK_IDS = [
    "renyi_entropy-0.5",
    "renyi_divergence-traced1.5",
    "alpha_divergence--1.0",
    "f_divergence-hellinger2",
    "hellinger_distance",
    "chi_squared_divergence",
]


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


# --------------------------------------------------------------------------
# vocabulary-parallel logits forms (axis_name under shard_map)


SHARDED = [
    "renyi_entropy-0.0",
    "tsallis_entropy-traced1.0",
    "renyi_divergence-inf",
    "alpha_divergence-2.0",
    "f_divergence-tv",
]


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


# --------------------------------------------------------------------------
# issue 9: traced orders and extreme masses give finite gradients wherever the
# value is finite


def test_traced_order_gradients_are_finite_at_the_edges():
    import jaxdiv

    p = jnp.array([[0.3, 0.7, 0.0], [0.5, 0.5, 0.0]])
    q = jnp.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])  # row 1: p > 0 = q
    pad = jnp.array([[True, True, True], [False, False, False]])

    @jax.jit
    def grads(alpha):
        # the alpha-gradient with a padding row, and the gradient in p, q
        # where p > 0 = q below order 1 (the value is finite there)
        f = jaxdiv.renyi_divergence
        g_pad = jax.grad(lambda a: jnp.sum(f(p, q, alpha=a, where=pad)))(alpha)
        g_h = jax.grad(lambda a: jnp.sum(jaxdiv.renyi_entropy(p, alpha=a, where=pad)))(
            alpha
        )
        g_lost = jax.grad(lambda p, q: f(p, q, alpha=0.5 * alpha), (0, 1))(p[1], q[1])
        return g_pad, g_h, g_lost

    for alpha in (1.0, 2.0):  # orders 1 and 2; the lost row at 0.5 and 1
        for leaf in jax.tree_util.tree_leaves(grads(jnp.float32(alpha))):
            assert np.all(np.isfinite(np.asarray(leaf))), (alpha, leaf)


def test_f_divergence_total_variation_at_a_large_logit_gap():
    import jaxdiv

    tv = lambda t: 0.5 * jnp.abs(t - 1.0)  # noqa: E731
    x, y = jnp.array([100.0, 0.0]), jnp.array([0.0, 100.0])
    f = jax.jit(
        jax.value_and_grad(
            lambda u, v: jaxdiv.f_divergence_from_logits(
                u, v, f=tv, slope_at_infinity=0.5
            ),
            (0, 1),
        )
    )
    value, grads = f(x, y)
    want = 1.0 - np.exp(-100.0)  # the TV of the two softmaxes, in float64
    np.testing.assert_allclose(float(value), want, rtol=1e-6)
    for g in grads:
        assert np.all(np.isfinite(np.asarray(g)))


def test_chi_squared_at_tiny_masses():
    import jaxdiv

    p = jnp.array([1e-20, 1.0, 3e-20])
    q = jnp.array([2e-20, 1.0, 1e-20])
    v, (gp, gq) = jax.value_and_grad(jaxdiv.chi_squared_divergence, (0, 1))(p, q)
    p64, q64 = np.asarray(p, np.float64), np.asarray(q, np.float64)
    np.testing.assert_allclose(float(v), np.sum((p64 - q64) ** 2 / q64), rtol=1e-5)
    np.testing.assert_allclose(gp, 2 * (p64 - q64) / q64, rtol=1e-5)
    np.testing.assert_allclose(gq, 1 - (p64 / q64) ** 2, rtol=1e-5)


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
