"""The order families (``_measures/orders.py``): Renyi, Tsallis and Amari alpha."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from generalised_helpers import (
    INF,
    ORDER_NAMES,
    S,
    _five_point,
    _kl,
    _order_ref,
    _renyi_curves,
    dirichlet,
    log,
    ref_renyi_divergence,
    ref_renyi_entropy,
    softmax64,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxdiv


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
