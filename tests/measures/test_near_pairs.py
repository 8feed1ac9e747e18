"""Divergences of nearby distributions against 40-digit mpmath (issue 9, item 6).

Near pairs are the normal case in RL fine-tuning and late distillation. The
pairs here are exactly normalised (integers over 2**24 for float32, over
2**52 for float64) and differ by a few units in the last place to a
percent, so the reference is the exact divergence of the very numbers the
function receives. The goal: relative error at most 1e-4 in float32 and
1e-10 in float64, and exactly 0 with zero gradient at p = q.
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import jaxdiv

mpmath.mp.dps = 40


def _mp_kl(p, q):
    return sum(pi * mpmath.log(pi / qi) for pi, qi in zip(p, q, strict=True))


def _mp_hellinger(p, q):
    h2 = sum(
        (mpmath.sqrt(pi) - mpmath.sqrt(qi)) ** 2 for pi, qi in zip(p, q, strict=True)
    )
    return mpmath.sqrt(h2 / 2)


def _mp_renyi(p, q, a):
    s = sum(pi**a * qi ** (1 - a) for pi, qi in zip(p, q, strict=True))
    return mpmath.log(s) / (a - 1)


def _mp_amari(p, q, a):
    s = sum(pi**a * qi ** (1 - a) for pi, qi in zip(p, q, strict=True))
    return (1 - s) / (a * (1 - a))


def _mp_tv(p, q):
    return sum(abs(pi - qi) for pi, qi in zip(p, q, strict=True)) / 2


def _mp_chi2(p, q):
    return sum((pi - qi) ** 2 / qi for pi, qi in zip(p, q, strict=True))


def _mp_js(p, q):
    m = [(pi + qi) / 2 for pi, qi in zip(p, q, strict=True)]
    return (_mp_kl(p, m) + _mp_kl(q, m)) / 2


def _order(fn, mp_fn, a):
    return (
        lambda p, q: fn(p, q, alpha=a),
        lambda p, q: mp_fn(p, q, mpmath.mpf(a)),
    )


MEASURES = {
    "kl_divergence": (jaxdiv.kl_divergence, _mp_kl),
    "hellinger_distance": (jaxdiv.hellinger_distance, _mp_hellinger),
    "js_divergence": (jaxdiv.js_divergence, _mp_js),
    **{
        f"renyi_divergence@{a}": _order(jaxdiv.renyi_divergence, _mp_renyi, a)
        for a in (0.5, 1.0001, 2.0)
    },
    **{
        f"alpha_divergence@{a}": _order(jaxdiv.alpha_divergence, _mp_amari, a)
        for a in (-1.0, 0.5, 2.0)
    },
}
LOGIT_MEASURES = {
    "kl_divergence_from_logits": (jaxdiv.kl_divergence_from_logits, _mp_kl),
    "hellinger_distance_from_logits": (
        jaxdiv.hellinger_distance_from_logits,
        _mp_hellinger,
    ),
    "total_variation_distance_from_logits": (
        jaxdiv.total_variation_distance_from_logits,
        _mp_tv,
    ),
    "chi_squared_divergence_from_logits": (
        jaxdiv.chi_squared_divergence_from_logits,
        _mp_chi2,
    ),
    "js_divergence_from_logits": (jaxdiv.js_divergence_from_logits, _mp_js),
    **{
        f"renyi_divergence_from_logits@{a}": _order(
            jaxdiv.renyi_divergence_from_logits, _mp_renyi, a
        )
        for a in (0.5, 1.0001, 2.0)
    },
    **{
        f"alpha_divergence_from_logits@{a}": _order(
            jaxdiv.alpha_divergence_from_logits, _mp_amari, a
        )
        for a in (-1.0, 0.5, 2.0)
    },
}


def _near_rows(rng, dtype, k=6):
    """Rows of exactly normalised (p, q): q - p in units of the grid."""
    bits = 24 if dtype == jnp.float32 else 52
    total = 2**bits
    rows_p, rows_q = [], []
    for rel in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
        n = rng.dirichlet(np.ones(k)) * total
        n = np.floor(n).astype(object)
        n[0] += total - sum(n)
        step = [max(1, int(float(x) * rel)) for x in n]
        delta = [int(s * rng.integers(-3, 4)) for s in step]
        delta[0] -= sum(delta)
        m = [a + b for a, b in zip(n, delta, strict=True)]
        if min(m) <= 0:
            continue
        rows_p.append([mpmath.mpf(int(x)) / total for x in n])
        rows_q.append([mpmath.mpf(int(x)) / total for x in m])
    return rows_p, rows_q


def _as(rows, dtype):
    return jnp.asarray(np.array([[float(x) for x in r] for r in rows]), dtype)


@pytest.mark.parametrize("name", sorted(MEASURES))
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_probability_form_near_pairs_against_mpmath(name, dtype):
    fn, ref = MEASURES[name]
    with jax.enable_x64(dtype == jnp.float64):
        rows_p, rows_q = _near_rows(np.random.default_rng(3), dtype)
        p, q = _as(rows_p, dtype), _as(rows_q, dtype)
        # the grid is exact in the dtype: the inputs are the reference's rows
        np.testing.assert_array_equal(np.asarray(p, np.float64).sum(-1), 1.0)
        got = np.asarray(jax.jit(fn)(p, q), np.float64)
        want = np.array([float(ref(a, b)) for a, b in zip(rows_p, rows_q, strict=True)])
        rtol = 1e-4 if dtype == jnp.float32 else 1e-10
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
        # p = q: exactly 0 with zero gradient
        g = jax.grad(lambda x: fn(x, p).sum())(p)
        np.testing.assert_array_equal(np.asarray(fn(p, p)), 0.0)
        assert np.all(np.isfinite(np.asarray(g)))


def _mp_softmax(row):
    m = max(row)
    e = [mpmath.exp(x - m) for x in row]
    s = sum(e)
    return [x / s for x in e]


@pytest.mark.parametrize("name", sorted(LOGIT_MEASURES))
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_logits_form_near_pairs_against_mpmath(name, dtype):
    """Logits a and a + delta z, delta from 1e-2 to 1e-6, offset by 30 so that
    log-softmaxes computed apart would lose the difference."""
    fn, ref = LOGIT_MEASURES[name]
    with jax.enable_x64(dtype == jnp.float64):
        rng = np.random.default_rng(5)
        a = 2.0 * rng.standard_normal((5, 6)) + 30.0
        delta = np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6])[:, None]
        b = a + delta * rng.standard_normal((5, 6))
        a, b = jnp.asarray(a, dtype), jnp.asarray(b, dtype)
        got = np.asarray(jax.jit(fn)(a, b), np.float64)
        rows = zip(np.asarray(a, np.float64), np.asarray(b, np.float64), strict=True)
        want = np.array(
            [
                float(
                    ref(
                        _mp_softmax([mpmath.mpf(x) for x in ra]),
                        _mp_softmax([mpmath.mpf(x) for x in rb]),
                    )
                )
                for ra, rb in rows
            ]
        )
        rtol = 1e-4 if dtype == jnp.float32 else 1e-10
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
        np.testing.assert_array_equal(np.asarray(fn(a, a)), 0.0)
