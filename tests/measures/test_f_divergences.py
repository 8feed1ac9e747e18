"""The f-divergence family (``_measures/f_divergences.py``) with Hellinger, total
variation and chi-squared.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from generalised_helpers import (
    GENERATORS,
    _kl,
    dirichlet,
    log,
    ref_chi2,
    ref_hellinger,
    ref_tv,
)

import jaxdiv

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


@pytest.mark.parametrize("p0,q0", [(1e-20, 1e-30), (1e-30, 1e-20), (1e-12, 1e-36)])
def test_kl_and_tv_generators_differentiate_exactly_at_tiny_masses(p0, q0):
    """grad and jvp of sum q f(p / q) where p / q is 1e10 or 1e-10: for KL
    d/dp = log(p / q) + 1 and d/dq = -p / q; for TV d/dp = +-1/2. The
    ratio's tangent (1e30) used to overflow in forward mode (nan) and to give
    a wrong reverse-mode gradient (twice log(p / q) for KL, 1 for TV). (TV's
    d/dq above p / q = 1e8 is f'(t) - f(t) / t, which a generic f cannot
    form without cancellation; it is not checked.)"""
    p = np.array([p0, 0.3, 0.7 - p0])
    q = np.array([q0, 0.4, 0.6 - q0])
    p32, q32 = jnp.asarray(p, jnp.float32), jnp.asarray(q, jnp.float32)
    p64, q64 = (np.asarray(x, np.float64) for x in (p32, q32))
    tangent = jnp.asarray([1.0, -0.5, 0.25], jnp.float32)

    def kl(a, b):
        return jaxdiv.f_divergence(a, b, f=lambda t: jax.scipy.special.xlogy(t, t))

    def tv(a, b):
        f = lambda t: 0.5 * jnp.abs(t - 1.0)  # noqa: E731
        return jaxdiv.f_divergence(a, b, f=f, slope_at_infinity=0.5)

    dp, dq = np.log(p64 / q64) + 1, -p64 / q64
    gp, gq = jax.grad(kl, (0, 1))(p32, q32)
    np.testing.assert_allclose(gp, dp, rtol=1e-5)
    np.testing.assert_allclose(gq, dq, rtol=1e-5)
    _, t = jax.jvp(kl, (p32, q32), (tangent, tangent))
    np.testing.assert_allclose(t, (dp + dq) @ np.asarray(tangent), rtol=1e-4)
    dp = 0.5 * np.sign(p64 - q64)
    np.testing.assert_allclose(jax.grad(tv)(p32, q32), dp, rtol=1e-5)
    _, t = jax.jvp(tv, (p32, q32), (tangent, jnp.zeros(3, jnp.float32)))
    np.testing.assert_allclose(t, dp @ np.asarray(tangent), rtol=1e-5)
