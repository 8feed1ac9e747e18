"""Closed forms of the parametric families against TFP, quadrature and NumPy.

References, all independent of jaxdiv:

* TensorFlow Probability's JAX substrate (``tfp-nightly``, no TensorFlow
  needed): entropy, KL (its registered closed forms), cross-entropy (its
  entropy + KL), log-densities and their ``jax.grad``; in float64.
* ``scipy.integrate.quad`` of :math:`-\\int p \\log q` in float64, for the
  cross-entropies (TFP only adds its entropy and KL).
* Poisson (no TFP closed form): see ``tests/families/test_poisson.py``.

TFP tests skip when TFP is missing; the rest of the file runs without it.
"""

import dataclasses
import functools
import warnings
from collections.abc import Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

import jaxdiv
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
)

# TFP's JAX substrate touches deprecated jax.core names.
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:tensorflow_probability"
)


@pytest.fixture(scope="module")
def tfd():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tfp = pytest.importorskip("tensorflow_probability.substrates.jax")
    return tfp.distributions


def tfp_call(f, *args):
    """Runs TFP in float64, where it may broadcast ranks implicitly."""
    with jax.enable_x64(True), jax.numpy_rank_promotion("allow"):
        return np.asarray(jax.jit(f)(*[jnp.asarray(a, jnp.float64) for a in args]))


# --------------------------------------------------------------------------
# random parameters over several orders of magnitude

N = 48


def _pos(rng, n=N):
    return 10.0 ** rng.uniform(-2, 3, n)


def _loc(rng, n=N):
    return rng.normal(size=n) * 10.0 ** rng.uniform(-1, 2, n)


def _unit(rng, n=N):
    return rng.uniform(0.001, 0.999, n)


def _logit(rng, n=N):
    return rng.normal(size=n) * 10.0 ** rng.uniform(-1, 1.3, n)


def _simplex_conc(rng, n=N, k=3):
    return 10.0 ** rng.uniform(-2, 3, (n, k))


def _vec(rng, n=N, d=3):
    return rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-1, 1, (n, 1))


def _diag(rng, n=N, d=3):
    return 10.0 ** rng.uniform(-1.5, 1.5, (n, d))


def _tril(rng, n=N, d=3):
    lower = np.tril(rng.normal(size=(n, d, d)), -1)
    i = np.arange(d)
    lower[:, i, i] = 10.0 ** rng.uniform(-1, 1, (n, d)) * rng.choice([-1, 1], (n, d))
    return lower


@dataclasses.dataclass(frozen=True)
class Case:
    module: object
    gens: tuple[Callable, ...]
    make: Callable  # (tfd, *params) -> distribution
    h: str = "entropy"
    kl: str = "kl_divergence"
    ce: str = "cross_entropy"

    def fn(self, measure):
        return getattr(self.module, getattr(self, measure))

    def params(self, rng):
        return tuple(g(rng) for g in self.gens)


CASES = {
    "normal": Case(normal, (_loc, _pos), lambda d, m, s: d.Normal(m, s)),
    "laplace": Case(laplace, (_loc, _pos), lambda d, m, s: d.Laplace(m, s)),
    "gamma": Case(gamma, (_pos, _pos), lambda d, a, b: d.Gamma(a, b)),
    "exponential": Case(exponential, (_pos,), lambda d, r: d.Exponential(r)),
    "beta": Case(beta, (_pos, _pos), lambda d, a, b: d.Beta(a, b)),
    "dirichlet": Case(dirichlet, (_simplex_conc,), lambda d, a: d.Dirichlet(a)),
    "bernoulli": Case(bernoulli, (_unit,), lambda d, p: d.Bernoulli(probs=p)),
    "bernoulli_logits": Case(
        bernoulli,
        (_logit,),
        lambda d, logit: d.Bernoulli(logits=logit),
        "entropy_from_logits",
        "kl_divergence_from_logits",
        "cross_entropy_from_logits",
    ),
    "mvn": Case(
        mvn, (_vec, _tril), lambda d, m, tril: d.MultivariateNormalTriL(m, tril)
    ),
    "mvn_diag": Case(
        mvn,
        (_vec, _diag),
        lambda d, m, s: d.MultivariateNormalDiag(m, s),
        "entropy_diag",
        "kl_divergence_diag",
        "cross_entropy_diag",
    ),
}
MEASURES = ["h", "kl", "ce"]


def _ours(case, measure, p, q):
    f = case.fn(measure)
    return f(*p) if measure == "h" else f(*p, *q)


def _three(case):
    """``(entropy(p), kl_divergence(p, q), cross_entropy(p, q))`` as one function."""
    k = len(case.gens)

    def three(*a):
        p, q = a[:k], a[k:]
        return case.fn("h")(*p), case.fn("kl")(*p, *q), case.fn("ce")(*p, *q)

    return three


@functools.cache
def _three_jit(name):
    """Jitted once per family: one compilation per dtype and shape, shared by tests."""
    return jax.jit(_three(CASES[name]))


def _reference(tfd, case, p, q):
    """TFP's entropy, KL and cross-entropy (its entropy + KL), in float64."""
    k = len(p)

    def ref(*a):
        dp, dq = case.make(tfd, *a[:k]), case.make(tfd, *a[k:])
        return dp.entropy(), tfd.kl_divergence(dp, dq), dp.cross_entropy(dq)

    return tfp_call(ref, *p, *q)


def _f32_params(case, seed):
    """Random float32 parameters, and the same values in float64."""
    rng = np.random.default_rng(seed)
    p = [x.astype(np.float32) for x in case.params(rng)]
    q = [x.astype(np.float32) for x in case.params(rng)]
    return p, q


# --------------------------------------------------------------------------
# values and gradients against TFP


@pytest.mark.parametrize("name", list(CASES))
def test_matches_tfp(tfd, name):
    """Entropy, KL and cross-entropy against TFP in float64.

    On float32-representable parameters. float64: 1e-8 relative. float32:
    1e-5 relative, with an absolute floor of 1e-6 for results that are small
    only through cancellation (an entropy crossing 0, the KL of nearby
    distributions), whose error is a few float32 ulps of the O(1) terms.
    """
    case = CASES[name]
    p, q = _f32_params(case, 1)
    want = _reference(tfd, case, p, q)
    got32 = _three_jit(name)(*p, *q)
    with jax.enable_x64(True):
        got64 = _three_jit(name)(*[x.astype(np.float64) for x in (*p, *q)])
    for measure, w, g32, g64 in zip(MEASURES, want, got32, got64, strict=True):
        assert g32.dtype == jnp.float32 and g64.dtype == jnp.float64
        np.testing.assert_allclose(g32, w, rtol=1e-5, atol=1e-6, err_msg=measure)
        np.testing.assert_allclose(g64, w, rtol=1e-8, atol=1e-12, err_msg=measure)


@pytest.mark.parametrize("name", list(CASES))
def test_grad_matches_tfp(tfd, name):
    """``jax.grad`` for every parameter against TFP's ``jax.grad`` (float64).

    Of a random combination ``sum_m w_m sum(measure_m)`` of the entropy, KL
    and cross-entropy: one backward pass checks the three (an error in one
    cannot cancel for random weights).
    """
    case = CASES[name]
    rng = np.random.default_rng(2)
    p = [x[:12] for x in case.params(rng)]
    q = [x[:12] for x in case.params(rng)]
    w = rng.uniform(0.5, 1.5, (3, 12))
    k = len(p)

    def ours(*a):
        return sum(jnp.sum(wm * v) for wm, v in zip(w, _three(case)(*a), strict=True))

    def ref(*a):
        dp, dq = case.make(tfd, *a[:k]), case.make(tfd, *a[k:])
        values = dp.entropy(), tfd.kl_divergence(dp, dq), dp.cross_entropy(dq)
        return sum(jnp.sum(wm * v) for wm, v in zip(w, values, strict=True))

    argnums = tuple(range(2 * k))
    with jax.enable_x64(True):
        args = [jnp.asarray(a, jnp.float64) for a in (*p, *q)]
        got = jax.jit(jax.grad(ours, argnums))(*args)
        with jax.numpy_rank_promotion("allow"):
            want = jax.jit(jax.grad(ref, argnums))(*args)
    for g, wnt in zip(got, want, strict=True):
        np.testing.assert_allclose(g, wnt, rtol=1e-7, atol=1e-10)


def test_kl_to_standard_normal_matches_tfp(tfd):
    rng = np.random.default_rng(3)
    mean, log_var = _loc(rng), rng.uniform(-20, 8, N)
    want = tfp_call(
        lambda m, v: tfd.kl_divergence(
            tfd.Normal(m, jnp.exp(0.5 * v)), tfd.Normal(0.0, 1.0)
        ),
        mean,
        log_var,
    )
    with jax.enable_x64(True):
        got = normal.kl_to_standard_normal(mean, log_var)
        grad = jax.grad(lambda v: normal.kl_to_standard_normal(mean, v).sum())(log_var)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(grad, 0.5 * np.expm1(log_var), rtol=1e-10)
    got32 = normal.kl_to_standard_normal(mean.astype(np.float32), log_var)
    assert got32.dtype == jnp.float32  # python floats / numpy f64 -> f32, x64 off


@pytest.mark.parametrize("name", ["normal", "laplace", "gamma", "exponential", "beta"])
def test_log_prob_matches_tfp(tfd, name):
    case = CASES[name]
    rng = np.random.default_rng(4)
    p = [x[:8] for x in case.params(rng)]
    x = {
        "normal": lambda: p[0] + p[1] * rng.normal(size=(5, 8)),
        "laplace": lambda: p[0] + p[1] * rng.laplace(size=(5, 8)),
        "gamma": lambda: rng.gamma(p[0], 1.0 / p[1], (5, 8)),
        "exponential": lambda: rng.exponential(1.0 / p[0], (5, 8)),
        "beta": lambda: np.clip(rng.beta(p[0], p[1], (5, 8)), 1e-300, 1 - 1e-16),
    }[name]()
    with jax.enable_x64(True):
        got = case.module.log_prob(x, *p)
    want = tfp_call(lambda x, *a: case.make(tfd, *a).log_prob(x), x, *p)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_log_prob_vector_and_discrete_match_tfp(tfd):
    rng = np.random.default_rng(5)
    loc, tril = _vec(rng, 4), _tril(rng, 4)
    x = rng.normal(size=(6, 4, 3))
    want = tfp_call(
        lambda x, m, t: tfd.MultivariateNormalTriL(m, t).log_prob(x), x, loc, tril
    )
    with jax.enable_x64(True):
        np.testing.assert_allclose(mvn.log_prob(x, loc, tril), want, rtol=1e-10)
        conc = _simplex_conc(rng, 4)
        xs = rng.dirichlet(np.ones(3), (6, 4))
        want = tfp_call(lambda x, a: tfd.Dirichlet(a).log_prob(x), xs, conc)
        np.testing.assert_allclose(dirichlet.log_prob(xs, conc), want, rtol=1e-10)
        probs = _unit(rng, 4)
        xb = rng.integers(0, 2, (6, 4))
        want = tfp_call(lambda x, p: tfd.Bernoulli(probs=p).log_prob(x), xb, probs)
        np.testing.assert_allclose(bernoulli.log_prob(xb, probs), want, rtol=1e-10)
        pc = rng.dirichlet(np.ones(5), 4)
        xc = rng.integers(0, 5, (6, 4))
        want = tfp_call(
            lambda x, p: tfd.Categorical(probs=p).log_prob(x.astype(jnp.int32)), xc, pc
        )
        np.testing.assert_allclose(categorical.log_prob(xc, pc), want, rtol=1e-10)


# --------------------------------------------------------------------------
# cross-entropy against quadrature (TFP's is its entropy + KL)


def _quad_ce(logpdf_p, logpdf_q, lo, hi, points=None):
    def f(x):
        lp = logpdf_p(x)
        return 0.0 if lp == -np.inf else -np.exp(lp) * logpdf_q(x)

    val, err = scipy.integrate.quad(f, lo, hi, points=points, limit=400)
    return val


QUAD = {
    "normal": (
        lambda a, b: scipy.stats.norm(a, b),
        [(0.3, 2.0, -1.0, 0.5), (-4.0, 0.1, 2.0, 30.0)],
        (-np.inf, np.inf),
    ),
    "laplace": (
        lambda a, b: scipy.stats.laplace(a, b),
        [(0.3, 2.0, -1.0, 0.5), (-4.0, 0.1, 2.0, 30.0)],
        (-np.inf, np.inf),
    ),
    "gamma": (
        lambda a, b: scipy.stats.gamma(a, scale=1.0 / b),
        [(2.5, 1.5, 0.7, 3.0), (40.0, 4.0, 3.0, 0.2)],
        (0.0, np.inf),
    ),
    "exponential": (
        lambda r: scipy.stats.expon(scale=1.0 / r),
        [(0.5, 3.0), (20.0, 0.01)],
        (0.0, np.inf),
    ),
    "beta": (
        lambda a, b: scipy.stats.beta(a, b),
        [(2.5, 1.5, 0.7, 3.0), (40.0, 4.0, 3.0, 20.0)],
        (0.0, 1.0),
    ),
}


@pytest.mark.parametrize("name", list(QUAD))
def test_cross_entropy_matches_quadrature(name):
    dist, cases, (lo, hi) = QUAD[name]
    module = CASES[name].module
    for params in cases:
        k = len(params) // 2
        dp, dq = dist(*params[:k]), dist(*params[k:])
        m, sd = dp.mean(), dp.std()  # finite range holding all but ~e^-50 of p
        a, b = max(lo, m - 50 * sd), min(hi, m + 50 * sd)
        want = _quad_ce(dp.logpdf, dq.logpdf, a, b, points=[m] if a < m < b else None)
        with jax.enable_x64(True):
            got = module.cross_entropy(*params)
            h = module.entropy(*params[:k])
            kl = module.kl_divergence(*params)
        np.testing.assert_allclose(got, want, rtol=1e-7)
        np.testing.assert_allclose(h + kl, got, rtol=1e-10)


# --------------------------------------------------------------------------
# edges: invalid parameters, value checks, gradients, transforms

# module, measure, valid parameters of p, index of a positive parameter
VALID = {
    "normal": (normal, (0.5, 2.0), 1),
    "laplace": (laplace, (0.5, 2.0), 1),
    "gamma": (gamma, (2.0, 3.0), 0),
    "exponential": (exponential, (2.0,), 0),
    "beta": (beta, (2.0, 3.0), 1),
}


@pytest.mark.parametrize("measure", ["entropy", "kl_divergence", "cross_entropy"])
@pytest.mark.parametrize("name", list(VALID))
def test_invalid_parameters_give_nan(name, measure):
    module, p, i = VALID[name]
    f = jax.jit(getattr(module, measure))
    bad = [0.0, -1.0, np.inf, np.nan]
    p_bad = tuple(
        jnp.array([v, *(bad if j == i else [v] * len(bad))]) for j, v in enumerate(p)
    )
    args = p_bad if measure == "entropy" else (*p_bad, *p)
    out = f(*args)
    assert np.isfinite(out[0]) and np.all(np.isnan(out[1:]))


def test_invalid_vector_parameters_give_nan():
    conc = jnp.array([[1.0, 2.0], [1.0, 0.0]])
    assert np.isnan(dirichlet.entropy(conc)).tolist() == [False, True]
    assert np.isnan(dirichlet.kl_divergence(conc, jnp.ones(2))).tolist() == [
        False,
        True,
    ]
    tril = jnp.array([[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.0], [0.5, 0.0]]])
    assert np.isnan(mvn.entropy(jnp.zeros(2), tril)).tolist() == [False, True]
    assert np.isnan(
        mvn.kl_divergence(jnp.zeros(2), tril, jnp.ones(2), jnp.eye(2))
    ).tolist() == [False, True]
    scale = jnp.array([[1.0, 2.0], [-1.0, 2.0]])
    assert np.isnan(
        mvn.kl_divergence_diag(jnp.zeros(2), scale, jnp.ones(2), jnp.ones(2))
    ).tolist() == [False, True]
    assert np.isnan(bernoulli.entropy(jnp.array([0.5, 1.5]))).tolist() == [False, True]


CHECKED = [
    (gamma.kl_divergence, (1.0, -1.0, 1.0, 1.0), "gamma.kl_divergence: rate_p"),
    (normal.entropy, (0.0, 0.0), "normal.entropy: scale"),
    (normal.kl_divergence, (jnp.nan, 1.0, 0.0, 1.0), "normal.kl_divergence: loc_p"),
    (laplace.cross_entropy, (0.0, 1.0, 0.0, -2.0), "laplace.cross_entropy: scale_q"),
    (exponential.entropy, (-1.0,), "exponential.entropy: rate"),
    (beta.entropy, (0.0, 1.0), "beta.entropy: concentration1"),
    (dirichlet.entropy, (jnp.array([1.0, -1.0]),), "dirichlet.entropy: concentration"),
    (bernoulli.entropy, (1.5,), "bernoulli.entropy: probs"),
    (
        mvn.entropy,
        (jnp.zeros(2), jnp.array([[1.0, 0.0], [0.0, 0.0]])),
        "mvn.entropy: scale_tril",
    ),
    (
        mvn.kl_divergence_diag,
        (jnp.zeros(2), jnp.ones(2), jnp.zeros(2), -jnp.ones(2)),
        "mvn.kl_divergence_diag: scale_diag_q",
    ),
]


@pytest.mark.parametrize(("f", "args", "message"), CHECKED)
def test_value_checks_raise_under_chexify(f, args, message):
    checked = chex.chexify(jax.jit(f), async_check=False)
    with pytest.raises(Exception, match=f"jaxdiv.{message}"):
        with jaxdiv.value_checks():
            checked(*args)
    out = jax.jit(f)(*args)  # checks off: nan, no error
    assert np.isnan(out)


EXTREME = {
    "normal": [
        (0.0, 1e-30, 1e3, 1e30),
        (1e6, 1e-3, -1e6, 1e-3),
        (1.0, 1.0, 1.0, 1.0),
        (0.0, -1.0, 0.0, 0.0),  # invalid: nan, and no nan in the other rows' grads
    ],
    "laplace": [(0.0, 1e-30, 1e3, 1e30), (0.0, 1.0, 0.0, 1.0), (1e6, 1e-3, -1e6, 1e-3)],
    "gamma": [
        (-1.0, 0.0, np.nan, np.inf),
        (1e-6, 1e-6, 1e8, 1e8),
        (1e8, 1.0, 1e-6, 1.0),
        (4.0, 1.0, 4.0, 1.0),
        (3.999, 2.0, 10.0, 2.0),
        (7.0, 1.0, 7.0, 1.0),
    ],
    "exponential": [(1e-30, 1e30), (1.0, 1.0)],
    "beta": [(1e-6, 1e6, 1e6, 1e-6), (1.0, 1.0, 1.0, 1.0), (4.0, 4.0, 3.99, 10.01)],
    "bernoulli": [(0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (0.5, 1e-30)],
    "bernoulli_logits": [(np.inf, -np.inf), (-np.inf, -np.inf), (80.0, -80.0)],
}


def _value_and_grads(f, args):
    """Elementwise values and gradients, in one compilation."""

    def total(*a):
        v = f(*a)
        return v.sum(), v

    (_, value), grads = jax.jit(
        jax.value_and_grad(total, range(len(args)), has_aux=True)
    )(*args)
    return value, grads


@pytest.mark.parametrize("name", list(EXTREME))
def test_finite_gradient_wherever_value_is_finite(name):
    case = CASES[name]
    params = np.array(EXTREME[name], np.float32).T  # one row per parameter
    k = len(params) // 2
    args = list(params)
    three = _three(case)

    def values_and_grads(*a):
        # one jax.grad per measure: a shared jacobian would multiply the zero
        # cotangent of one measure by the infinite slope of another (nan)
        return [
            jax.value_and_grad(lambda *b, m=m: three(*b)[m].sum(), range(2 * k))(*a)
            for m in range(3)
        ], three(*a)

    grads, values = jax.jit(values_and_grads)(*args)
    for (_, grad), measure, value in zip(grads, MEASURES, values, strict=True):
        finite = np.isfinite(value)
        for g in grad:
            assert np.all(np.isfinite(g[finite])), (measure, EXTREME[name], value)
        if measure == "kl":
            assert np.all(value[~np.isnan(value)] >= 0)


@pytest.mark.parametrize("name", list(CASES))
def test_self_divergence_is_zero_and_ce_is_h_plus_kl(name):
    case = CASES[name]
    p, q = _f32_params(case, 6)
    kl_pp = _three_jit(name)(*p, *p)[1]
    if name == "mvn":  # exact up to the rounding of the triangular solve
        np.testing.assert_allclose(kl_pp, 0.0, atol=1e-6)
    else:
        np.testing.assert_array_equal(kl_pp, 0.0)
    with jax.enable_x64(True):  # the gradient at q = p is 0 (a minimum)
        p64 = [x.astype(np.float64) for x in p]
        kl = case.fn("kl")
        grads = jax.jit(jax.grad(lambda *a: kl(*a, *p64).sum(), range(len(p))))(*p64)
    for g in grads:
        np.testing.assert_allclose(g, 0.0, atol=1e-8)
    h, kl, ce = _three_jit(name)(*p, *q)
    np.testing.assert_allclose(ce, h + kl, rtol=1e-5, atol=1e-5 * np.abs(h).max())


# eager = jit = vmap: every case of every family function in
# tests/integration/test_adversarial.py (its per-case check)


# --------------------------------------------------------------------------
# shapes and dtypes


def shape_of(f, *args):
    return jax.eval_shape(f, *args).shape  # traces only: no compilation


def test_broadcasting():
    loc, scale = np.zeros((4, 1), np.float32), np.ones(3, np.float32)
    one, two = np.float32(1.0), np.float32(2.0)
    assert shape_of(normal.kl_divergence, loc, scale, one, two) == (4, 3)
    assert shape_of(gamma.entropy, np.ones((2, 1, 5)), np.ones(5)) == (2, 1, 5)
    eye = np.eye(3)
    assert shape_of(mvn.kl_divergence, np.zeros((4, 1, 3)), eye, np.zeros(3), eye) == (
        4,
        1,
    )
    assert shape_of(mvn.log_prob, np.zeros((7, 1, 1, 3)), np.zeros((4, 1, 3)), eye) == (
        7,
        4,
        1,
    )
    assert shape_of(dirichlet.kl_divergence, np.ones((5, 3)), np.ones(3)) == (5,)
    assert shape_of(beta.cross_entropy, np.ones((5, 1)), 1.0, np.ones(2), 1.0) == (5, 2)
    np.testing.assert_allclose(
        normal.kl_divergence(loc, scale, one, two),
        normal.kl_divergence(
            np.zeros((4, 3)), np.ones((4, 3)), np.ones((4, 3)), np.full((4, 3), 2.0)
        ),
    )


@pytest.mark.parametrize(
    ("f", "args", "match"),
    [
        (
            normal.kl_divergence,
            (jnp.zeros(3), jnp.ones(4), 0.0, 1.0),
            r"jaxdiv\.normal\.kl_divergence: the batch shapes",
        ),
        (
            mvn.kl_divergence,
            (jnp.zeros(3), jnp.eye(3), jnp.zeros(2), jnp.eye(2)),
            r"jaxdiv\.mvn\.kl_divergence: loc_q has shape \(2,\)",
        ),
        (
            mvn.entropy,
            (jnp.zeros(3), jnp.eye(2)),
            r"jaxdiv\.mvn\.entropy: scale_tril has shape \(2, 2\)",
        ),
        (mvn.entropy, (jnp.float32(0.0), jnp.eye(2)), r"jaxdiv\.mvn\.entropy: loc"),
        (
            dirichlet.kl_divergence,
            (jnp.ones(3), jnp.ones(2)),
            r"jaxdiv\.dirichlet\.kl_divergence: concentration_q",
        ),
        (
            mvn.kl_divergence_diag,
            (jnp.zeros((2, 3)), jnp.ones((3, 3)), 0.0, 1.0),
            r"jaxdiv\.mvn\.kl_divergence_diag",
        ),
    ],
)
def test_shape_errors(f, args, match):
    with pytest.raises(ValueError, match=match):
        f(*args)


@pytest.mark.parametrize("name", ["normal", "gamma", "dirichlet", "mvn", "bernoulli"])
def test_dtypes(name):
    case = CASES[name]
    p, q = _f32_params(case, 8)
    p16 = [x.astype(jnp.bfloat16) for x in p]
    assert case.fn("kl")(*p16, *q).dtype == jnp.float32
    assert case.fn("h")(*p16).dtype == jnp.float32
    with jax.enable_x64(True):
        assert (
            case.fn("ce")(*[x.astype(np.float64) for x in p], *q).dtype == jnp.float64
        )
    with pytest.raises(TypeError, match="must be a floating array"):
        case.fn("h")(*[np.ones(x.shape, np.int32) for x in p])


def test_categorical_reexports_and_sampling():
    for name in [
        "entropy",
        "cross_entropy",
        "kl_divergence",
        "js_divergence",
        "js_distance",
        "entropy_from_logits",
        "kl_divergence_from_logits",
    ]:
        assert getattr(categorical, name) is getattr(jaxdiv, name)
    probs = jnp.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    x = categorical.sample(jax.random.key(0), probs, shape=2000)
    assert x.shape == (2000, 2) and x.dtype == jnp.int32
    np.testing.assert_allclose(np.mean(x[:, 0] == 1), 0.8, atol=0.04)
    assert np.all(x[:, 1] == 0)
    lp = categorical.log_prob(jnp.array([[2, 0], [1, 5]]), probs)
    np.testing.assert_allclose(lp, [[-np.inf, 0.0], [np.log(0.8), -np.inf]], rtol=1e-6)


def test_samplers_shapes_and_keys():
    for key in [jax.random.key(3), jax.random.PRNGKey(3)]:
        np.testing.assert_array_equal(
            normal.sample(key, 0.0, 1.0, shape=4), normal.sample(key, 0.0, 1.0, shape=4)
        )
        assert normal.sample(key, jnp.zeros(3), 1.0, shape=(2,)).shape == (2, 3)
    key = jax.random.key(3)
    assert mvn.sample(key, jnp.zeros((4, 2)), jnp.eye(2), shape=5).shape == (5, 4, 2)
    # gamma-based samplers: shapes only (their values are tested by Monte Carlo)
    assert shape_of(lambda k: dirichlet.sample(k, jnp.ones((4, 3))), key) == (4, 3)
    assert shape_of(lambda k: beta.sample(k, 2.0, jnp.ones(3), shape=2), key) == (2, 3)
    assert shape_of(lambda k: gamma.sample(k, 2.0, 1.0, shape=(2, 2)), key) == (2, 2)
    b = bernoulli.sample(key, jnp.array([0.0, 1.0]), shape=7)
    np.testing.assert_array_equal(b, np.tile([0.0, 1.0], (7, 1)))
    assert np.isnan(normal.sample(key, 0.0, -1.0))


# --------------------------------------------------------------------------
# issue 9: nan in log_prob, gradients at extreme scales, Python scalars


def test_log_prob_of_nan_is_nan_and_x0_gradients_are_finite():
    from jaxdiv import beta, dirichlet, exponential, gamma

    assert np.isnan(gamma.log_prob(jnp.nan, 2.0, 1.0))
    assert np.isnan(beta.log_prob(jnp.nan, 2.0, 2.0))
    assert np.isnan(exponential.log_prob(jnp.nan, 1.0))
    assert np.isnan(
        dirichlet.log_prob(jnp.array([jnp.nan, 0.5]), jnp.array([2.0, 2.0]))
    )
    # concentration 1 at x = 0: the density is finite there, so is the gradient
    for g in (
        jax.grad(gamma.log_prob, (0, 1, 2))(0.0, 1.0, 2.0),
        jax.grad(beta.log_prob, (0, 1, 2))(0.0, 1.0, 2.0),
        jax.grad(beta.log_prob, (0, 1, 2))(1.0, 2.0, 1.0),
        jax.grad(dirichlet.log_prob, (0, 1))(jnp.array([0.0, 1.0]), jnp.ones(2)),
    ):
        assert all(np.isfinite(np.asarray(x)).all() for x in g)
    np.testing.assert_allclose(gamma.log_prob(0.0, 1.0, 2.0), np.log(2.0), rtol=1e-6)


@pytest.mark.parametrize("scale", [1e-19, 1e-30, 1e30])
def test_location_scale_gradients_at_extreme_scales(scale):
    """KL is scale invariant: its gradient in the scales is g(1) / scale."""
    from jaxdiv import exponential, laplace, normal

    cases = [
        (normal.kl_divergence, (0.0, 1.0, 0.0, 1.0), (1, 3)),
        (normal.kl_divergence, (0.0, 1.0, 0.5, 2.0), (1, 3)),
        (laplace.kl_divergence, (0.0, 1.0, 0.5, 2.0), (1, 3)),
        (exponential.kl_divergence, (1.0, 2.0), (0, 1)),
    ]
    for f, args, scales in cases:
        rate = f is exponential.kl_divergence  # rates scale as 1 / scale
        factor = scale if rate else 1.0 / scale
        g1 = jax.grad(f, scales)(*args)
        scaled = [a / scale if rate else a * scale for a in args]
        gs = jax.jit(jax.grad(f, scales))(*scaled)
        for a, b in zip(g1, gs, strict=True):
            assert np.isfinite(b)
            np.testing.assert_allclose(b, a * factor, rtol=1e-4, atol=1e-6 * factor)


def test_python_scalars_are_floats_and_errors_name_the_path():
    from jaxdiv import normal

    np.testing.assert_allclose(normal.kl_divergence(0, 1, 1, 2), 0.4431472, rtol=1e-6)
    with pytest.raises(TypeError, match=r"jaxdiv\.normal\.kl_divergence: loc_p"):
        normal.kl_divergence(jnp.array([0]), 1.0, 1.0, 2.0)


def test_poisson_entropy_matches_mpmath():
    mpmath = pytest.importorskip("mpmath")
    rates = np.array([0.01, 1.0, 3.7, 10.0, 15.9, 16.0, 50.0, 1e4], np.float32)

    def h(lam):
        lam = mpmath.mpf(float(lam))
        total = mpmath.mpf(0)
        for k in range(int(lam + 40 * mpmath.sqrt(lam) + 60)):
            lp = k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1)
            total -= mpmath.exp(lp) * lp
        return float(total)

    with mpmath.workdps(30):
        expected = [h(r) for r in rates]
    out = jax.jit(jaxdiv.poisson.entropy)(rates)
    np.testing.assert_allclose(out, expected, rtol=4 * np.finfo(np.float32).eps)
