"""Poisson entropy, KL and cross-entropy against float64 NumPy summation.

Neither TFP nor torch has a Poisson entropy (nor a TFP Poisson KL), and
``scipy.stats.poisson.entropy`` loses digits for large rates, so the
reference here is a float64 NumPy sum over the whole support, written to be
exact to ~1e-14 for every rate: the log-probabilities are built from the
mode outward by cumulative sums of ``log(rate / k)`` (no large cancelling
terms), then normalised with ``logsumexp``. KL and cross-entropy references
sum ``scipy.stats.poisson.logpmf`` over the support.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats

import jaxdiv
from jaxdiv import poisson

RATES = np.concatenate(
    [
        np.geomspace(1e-6, 1e6, 49),
        [15.999, 16.0, 16.001, 79.99, 80.0, 80.01],  # the branch thresholds
    ]
)


def _log_pmf_rel(rate):
    """Unnormalised log-pmf over the support window, from the mode outward."""
    m = np.floor(rate)
    n = int(40 * np.sqrt(rate) + 60)
    up = np.cumsum(np.log(rate / (m + np.arange(1, n + 1))))
    down_k = np.arange(m, max(m - n, 0.0), -1.0)  # log p(k-1) - log p(k) = log(k/rate)
    down = np.cumsum(np.log(down_k / rate))
    return np.concatenate([down[::-1], [0.0], up])


def ref_entropy(rates):
    out = []
    for rate in np.atleast_1d(rates):
        lr = _log_pmf_rel(rate)
        lz = scipy.special.logsumexp(lr)
        out.append(lz - np.sum(np.exp(lr - lz) * lr))
    return np.array(out)


def ref_cross_entropy(a, b):
    k = np.arange(0, int(a + 40 * np.sqrt(a) + 60))
    p = scipy.stats.poisson.pmf(k, a)
    return -np.sum(p * scipy.stats.poisson.logpmf(k, b))


def ref_kl(a, b):
    k = np.arange(0, int(a + 40 * np.sqrt(a) + 60))
    lp, lq = scipy.stats.poisson.logpmf(k, a), scipy.stats.poisson.logpmf(k, b)
    return np.sum(np.exp(lp) * (lp - lq))


def test_reference_is_exact():
    # the reference itself, against the exact sums at a few small rates
    for rate in [0.5, 3.0]:
        k = np.arange(200)
        lp = scipy.stats.poisson.logpmf(k, rate)
        np.testing.assert_allclose(
            ref_entropy(rate), -np.sum(np.exp(lp) * lp), rtol=1e-13
        )


def test_entropy_matches_reference():
    want = ref_entropy(RATES)
    got32 = jax.jit(poisson.entropy)(RATES.astype(np.float32))
    np.testing.assert_allclose(got32, ref_entropy(RATES.astype(np.float32)), rtol=1e-5)
    with jax.enable_x64(True):
        got64 = jax.jit(poisson.entropy)(RATES)
    assert got64.dtype == jnp.float64
    np.testing.assert_allclose(got64, want, rtol=1e-12)


def test_entropy_gradient_matches_finite_differences():
    h = 1e-4 * RATES
    want = (ref_entropy(RATES + h) - ref_entropy(RATES - h)) / (2 * h)
    grad = jax.jit(jax.vmap(jax.grad(poisson.entropy)))
    with jax.enable_x64(True):
        np.testing.assert_allclose(grad(RATES), want, rtol=1e-6)
    np.testing.assert_allclose(grad(RATES.astype(np.float32)), want, rtol=5e-5)


def test_entropy_limits():
    # H ~ rate (1 - log rate) as rate -> 0; ~ log(2 pi e rate) / 2 as rate -> inf
    tiny, huge = np.float32(1e-30), np.float32(1e30)
    np.testing.assert_allclose(
        poisson.entropy(tiny), tiny * (1 - np.log(tiny)), rtol=1e-5
    )
    np.testing.assert_allclose(
        poisson.entropy(huge), 0.5 * np.log(2 * np.pi * np.e * 1e30), rtol=1e-6
    )
    for rate in [tiny, huge]:
        assert np.isfinite(jax.grad(poisson.entropy)(rate))


PAIRS = [
    (0.01, 3.0),
    (2.0, 3.0),
    (3.0, 2.0),
    (40.0, 20.0),
    (200.0, 250.0),
    (1e4, 1.1e4),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kl_and_cross_entropy_match_reference(dtype):
    a, b = np.array(PAIRS, dtype).T
    kl_want = [ref_kl(x, y) for x, y in zip(a, b, strict=True)]
    ce_want = [ref_cross_entropy(x, y) for x, y in zip(a, b, strict=True)]
    # float64: the reference sums scipy's logpmf, whose terms of size
    # rate * log(rate) cancel to ~1e-11 at rate 1e4
    rtol = 1e-5 if dtype == np.float32 else 1e-9
    with jax.enable_x64(dtype == np.float64):
        kl = jax.jit(poisson.kl_divergence)(a, b)
        ce = jax.jit(poisson.cross_entropy)(a, b)
        ga, gb = jax.jit(
            jax.grad(lambda x, y: poisson.kl_divergence(x, y).sum(), (0, 1))
        )(a, b)
    assert kl.dtype == ce.dtype == dtype
    np.testing.assert_allclose(kl, kl_want, rtol=rtol)
    np.testing.assert_allclose(ce, ce_want, rtol=rtol)
    # d/da [a log(a/b) - a + b] = log(a/b), d/db = 1 - a/b
    np.testing.assert_allclose(ga, np.log(a / b), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(gb, 1 - a / b, rtol=rtol, atol=rtol)


def test_kl_of_nearby_rates_is_accurate_and_zero_at_equality():
    a = np.float32(1234.5)
    b = np.nextafter(a, np.float32(np.inf))
    a64, b64 = np.float64(a), np.float64(b)
    # a log(a/b) - a + b in float64, the log from the exact difference b - a:
    # the naive float64 form is off by 2% here (terms 1e-4 cancel to 6e-12)
    want = a64 * np.log1p((a64 - b64) / b64) + (b64 - a64)
    got = poisson.kl_divergence(a, b)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert poisson.kl_divergence(a, a) == 0.0
    assert jax.grad(poisson.kl_divergence)(a, a) == 0.0


def test_log_prob_matches_scipy():
    rates = np.array([0.3, 5.0, 250.0])
    k = np.arange(0, 12)[:, None]
    with jax.enable_x64(True):
        got = poisson.log_prob(k, rates)
        np.testing.assert_allclose(
            got, scipy.stats.poisson.logpmf(k, rates), rtol=1e-12
        )
        out = np.asarray(poisson.log_prob(np.array([-1.0, 2.5, 0.0]), 2.0))
    assert out[0] == -np.inf and out[1] == -np.inf and np.isfinite(out[2])


def test_invalid_rates_value_checks_and_transforms():
    rates = jnp.array([1.0, 0.0, -1.0, jnp.inf, jnp.nan])
    for f in [poisson.entropy, lambda r: poisson.kl_divergence(r, 1.0)]:
        out = jax.jit(f)(rates)
        assert np.isfinite(out[0]) and np.all(np.isnan(out[1:]))
    checked = chex.chexify(jax.jit(poisson.cross_entropy), async_check=False)
    with pytest.raises(Exception, match="jaxdiv.poisson.cross_entropy: rate_q"):
        with jaxdiv.value_checks():
            checked(1.0, -2.0)
    x = jnp.asarray(RATES[::6], jnp.float32)
    eager = poisson.cross_entropy(x, x[::-1])
    np.testing.assert_allclose(
        jax.jit(poisson.cross_entropy)(x, x[::-1]), eager, rtol=1e-6
    )
    np.testing.assert_allclose(
        jax.vmap(poisson.cross_entropy)(x, x[::-1]), eager, rtol=1e-6
    )
    assert poisson.entropy(x.astype(jnp.bfloat16)).dtype == jnp.float32
    with pytest.raises(TypeError, match="jaxdiv.poisson.entropy: rate"):
        poisson.entropy(jnp.array([1, 2]))
    with pytest.raises(ValueError, match="jaxdiv.poisson.kl_divergence"):
        poisson.kl_divergence(jnp.ones(2), jnp.ones(3))
