"""Monte-Carlo KL (``monte_carlo_kl``) against closed forms and quadrature.

Every estimate is seeded. The closed forms it is compared with are tested
against TFP / NumPy in ``tests/families/test_family_properties.py`` and
``tests/families/test_poisson.py``; the
pairs without a closed form are compared with ``scipy.integrate.quad`` of
:math:`\\int p \\log(p / q)` in float64. Agreement is asked within 5
standard errors of the estimate (the estimator's own error bar).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from jaxdiv import (
    bernoulli,
    beta,
    categorical,
    dirichlet,
    exponential,
    gamma,
    laplace,
    mvn,
    normal,
    poisson,
)
from jaxdiv._measures.montecarlo import monte_carlo_kl

N = 20_000


def _mc(key, family_p, params_p, family_q, params_q, n=N, estimator="k3"):
    """MC KL between two family modules, jitted (one compilation)."""

    @functools.partial(jax.jit, static_argnums=())
    def run(key):
        return monte_carlo_kl(
            key,
            lambda k, shape: family_p.sample(k, *params_p, shape=shape),
            lambda x: family_p.log_prob(x, *params_p),
            lambda x: family_q.log_prob(x, *params_q),
            n,
            estimator=estimator,
            return_stderr=True,
        )

    return run(key)


f32 = functools.partial(np.asarray, dtype=np.float32)
TRIL = f32([[[1.0, 0.0], [0.5, 0.3]], [[2.0, 0.0], [-1.0, 1.5]]])

# family, params p, params q (batches of two or three pairs)
CLOSED = {
    "normal": (
        normal,
        (f32([0.0, 1.0, -3.0]), f32([1.0, 0.5, 2.0])),
        (f32([0.5, 1.0, 0.0]), f32([1.5, 0.6, 2.0])),
    ),
    "laplace": (
        laplace,
        (f32([0.0, 1.0, -3.0]), f32([1.0, 0.5, 2.0])),
        (f32([0.5, 1.0, 0.0]), f32([1.5, 0.6, 2.0])),
    ),
    "gamma": (
        gamma,
        (f32([0.5, 2.0, 30.0]), f32([1.0, 3.0, 2.0])),
        (f32([1.0, 1.5, 25.0]), f32([2.0, 3.0, 1.8])),
    ),
    "exponential": (exponential, (f32([0.5, 2.0, 30.0]),), (f32([1.0, 1.5, 25.0]),)),
    "beta": (
        beta,
        (f32([0.5, 2.0, 30.0]), f32([1.0, 3.0, 2.0])),
        (f32([1.0, 1.5, 25.0]), f32([2.0, 3.0, 1.8])),
    ),
    "dirichlet": (
        dirichlet,
        (f32([[0.5, 2.0, 3.0], [5.0, 5.0, 1.0]]),),
        (f32([[1.0, 1.0, 1.0], [4.0, 6.0, 2.0]]),),
    ),
    "mvn": (
        mvn,
        (f32([[0.0, 1.0], [1.0, -1.0]]), TRIL),
        (f32([[0.5, 0.5], [0.0, 0.0]]), TRIL[::-1]),
    ),
    "poisson": (poisson, (f32([0.5, 4.0, 300.0]),), (f32([1.0, 3.0, 280.0]),)),
    "bernoulli": (bernoulli, (f32([0.1, 0.5, 0.9]),), (f32([0.2, 0.4, 0.5]),)),
    "categorical": (
        categorical,
        (f32([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]),),
        (f32([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]]),),
    ),
}


@pytest.mark.parametrize("name", list(CLOSED))
def test_monte_carlo_matches_closed_form(name):
    # k1: unbiased with a finite variance for every pair here; k3's variance
    # is infinite wherever q has heavier tails than p allows (E_p[(q/p)^2] = inf,
    # e.g. the normal pair with scales 1 -> 1.5), making its error bar meaningless
    family, p, q = CLOSED[name]
    want = family.kl_divergence(*p, *q)
    est, se = _mc(jax.random.key(0), family, p, family, q, estimator="k1")
    assert est.shape == want.shape
    assert np.all(se > 0)
    np.testing.assert_array_less(np.abs(est - want), 5 * se + 1e-6)


def _quad_kl(dp, dq, lo, hi):
    def f(x):
        lp = dp.logpdf(x)
        return 0.0 if lp == -np.inf else np.exp(lp) * (lp - dq.logpdf(x))

    m, s = dp.mean(), dp.std()
    a, b = max(lo, m - 50 * s), min(hi, m + 50 * s)
    return scipy.integrate.quad(f, a, b, points=[m] if a < m < b else None, limit=400)[
        0
    ]


# pairs of different families: no closed form in jaxdiv
NO_CLOSED = {
    "laplace||normal": (
        laplace,
        (0.5, 1.0),
        normal,
        (0.0, 1.5),
        "k3",
        scipy.stats.laplace(0.5, 1.0),
        scipy.stats.norm(0.0, 1.5),
        -np.inf,
    ),
    # q/p unbounded in the tails: k3 would have an infinite variance
    "normal||laplace": (
        normal,
        (0.0, 2.0),
        laplace,
        (1.0, 1.0),
        "k1",
        scipy.stats.norm(0.0, 2.0),
        scipy.stats.laplace(1.0, 1.0),
        -np.inf,
    ),
    # q has mass outside p's support: k3 would be biased low, k1 is not
    "gamma||normal": (
        gamma,
        (3.0, 2.0),
        normal,
        (1.0, 1.0),
        "k1",
        scipy.stats.gamma(3.0, scale=0.5),
        scipy.stats.norm(1.0, 1.0),
        0.0,
    ),
    "exponential||gamma": (
        exponential,
        (1.5,),
        gamma,
        (2.0, 2.0),
        "k3",
        scipy.stats.expon(scale=1 / 1.5),
        scipy.stats.gamma(2.0, scale=0.5),
        0.0,
    ),
}


@pytest.mark.parametrize("name", list(NO_CLOSED))
def test_monte_carlo_matches_quadrature(name):
    fp, pp, fq, pq, estimator, dp, dq, lo = NO_CLOSED[name]
    want = _quad_kl(dp, dq, lo, np.inf)
    est, se = _mc(jax.random.key(1), fp, f32(pp), fq, f32(pq), estimator=estimator)
    assert abs(est - want) < 5 * se, (est, se, want)


def test_k3_is_biased_when_q_leaks_outside_the_support():
    # KL(Gamma || Normal): E_p[q/p] = Q(x > 0) < 1, so k3 underestimates by Q(x <= 0)
    fp, pp, fq, pq, _, dp, dq, _ = NO_CLOSED["gamma||normal"]
    want = _quad_kl(dp, dq, 0.0, np.inf)
    est, se = _mc(jax.random.key(1), fp, f32(pp), fq, f32(pq), n=50_000)
    np.testing.assert_allclose(est, want - dq.cdf(0.0), atol=5 * se)


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_estimators(estimator):
    p, q = (f32(0.0), f32(1.0)), (f32(0.3), f32(1.2))
    want = normal.kl_divergence(*p, *q)
    est, se = _mc(jax.random.key(2), normal, p, normal, q, estimator=estimator)
    if estimator == "k2":  # biased (a second-order approximation), never negative
        assert 0 <= est < 2 * want
    else:
        assert abs(est - want) < 5 * se


def test_keys_jit_and_plain_call():
    p, q = (f32(0.0), f32(1.0)), (f32(0.3), f32(1.2))

    def plain(key):
        return monte_carlo_kl(
            key,
            lambda k, s: normal.sample(k, *p, shape=s),
            lambda x: normal.log_prob(x, *p),
            lambda x: normal.log_prob(x, *q),
            1000,
        )

    typed, raw = plain(jax.random.key(5)), plain(jax.random.PRNGKey(5))
    np.testing.assert_allclose(typed, raw, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(plain)(jax.random.key(5)), typed, rtol=1e-5)
    assert typed.dtype == jnp.float32 and typed.shape == ()
    assert plain(jax.random.key(6)) != typed


def test_pathwise_gradient_is_unbiased():
    """d/d(loc_p, scale_p) of the MC estimate agrees with the closed form's."""
    q = (f32(0.3), f32(1.2))

    def estimate(params, key):
        return monte_carlo_kl(
            key,
            lambda k, s: normal.sample(k, *params, shape=s),
            lambda x: normal.log_prob(x, *params),
            lambda x: normal.log_prob(x, *q),
            2000,
        )

    params = (f32(0.0), f32(1.0))
    keys = jax.random.split(jax.random.key(7), 20)
    grads = jax.jit(jax.vmap(jax.grad(estimate), in_axes=(None, 0)))(params, keys)
    want = jax.grad(lambda a: normal.kl_divergence(*a, *q))(params)
    for g, w in zip(grads, want, strict=True):
        se = np.std(g, ddof=1) / np.sqrt(len(g))
        assert abs(np.mean(g) - w) < 5 * se + 1e-6, (np.mean(g), se, w)


def test_errors():
    def call(**kw):
        args = dict(
            key=jax.random.key(0),
            sample_p=lambda k, s: normal.sample(k, 0.0, 1.0, shape=s),
            log_prob_p=lambda x: normal.log_prob(x, 0.0, 1.0),
            log_prob_q=lambda x: normal.log_prob(x, 1.0, 1.0),
            num_samples=10,
        )
        args.update(kw)
        return monte_carlo_kl(**args)

    with pytest.raises(ValueError, match="jaxdiv.monte_carlo_kl: estimator must be"):
        call(estimator="k4")
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        call(num_samples=0)
    with pytest.raises(ValueError, match="num_samples must be >= 2"):
        call(num_samples=1, return_stderr=True)
    with pytest.raises(TypeError, match="num_samples must be a Python int"):
        call(num_samples=10.0)
    with pytest.raises(ValueError, match="jaxdiv.monte_carlo_kl: shapes must match"):
        call(log_prob_q=lambda x: normal.log_prob(x[:, None], jnp.zeros(2), 1.0))
    with pytest.raises(ValueError, match="first axis must have size 10"):
        call(log_prob_p=lambda x: x.sum(), log_prob_q=lambda x: x.sum())
    with pytest.raises(TypeError, match="log_prob_p must be a floating array"):
        call(log_prob_p=lambda x: jnp.zeros(10, jnp.int32))
