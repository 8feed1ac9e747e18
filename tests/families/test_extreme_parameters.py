"""Gamma, beta, Dirichlet and normal closed forms at extreme parameters.

References: the textbook formulas in 60-digit mpmath (``loggamma``,
``digamma``), their derivatives by ``mpmath.diff`` in the logarithm of each
parameter; nothing from jaxdiv. Parameters are random multiples of 1e-30 ...
1e30, the same scale for every parameter of a case (so the divergences stay
of order 1), in float32 and float64.

* The KLs (and so the cross-entropies) of tiny concentrations are sums of
  terms like ``(a_p - a_q) psi(a_p)`` and ``lgamma(a_q) - lgamma(a_p)``, each
  of size ``log a`` or ``1``: accurate to rounding only if the poles of
  ``lgamma`` and ``psi`` at 0 cancel analytically, and with a finite jvp only
  if no intermediate derivative (``1/a^2``) is formed.
* The entropies of tiny concentrations have derivatives ``~ 1/a^2``: finite
  and accurate wherever representable, the true derivative's signed inf
  beyond float32's range, never nan (the Dirichlet entropy's
  ``1/a_j^2 - k/a0^2`` used to meet as ``inf - inf``).
* The entropies of huge concentrations (1e30: ``lgamma ~ 7e31`` for a result
  of ~-33) against 60 digits.
* The normal KL whose value ``(dmu / sigma_q)^2 / 2`` is finite just below
  float32's max, although ``(dmu / sigma_q)^2`` is not.
* Near pairs (issue 9 item 6): the KLs of concentrations that differ by
  relative 1e-2 ... 1e-6, at scales 1e-20 ... 1e20, to 1e-4 relative in
  float32 and 1e-10 in float64 (the Stirling form cancels terms of size
  ``h / a^2`` down to ``h^2 / a^2``: 4e-2 relative error before).
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from jaxdiv import beta, dirichlet, gamma, normal

F32_MAX = float(np.finfo(np.float32).max)
M = mpmath


def _gamma_entropy(a, b):
    return a - M.log(b) + M.loggamma(a) + (1 - a) * M.digamma(a)


def _gamma_kl(a1, b1, a2, b2):
    return (
        (a1 - a2) * M.digamma(a1)
        - M.loggamma(a1)
        + M.loggamma(a2)
        + a2 * (M.log(b1) - M.log(b2))
        + a1 * (b2 - b1) / b1
    )


def _dirichlet_entropy(*a):
    a0, k = M.fsum(a), len(a)
    return (
        M.fsum(M.loggamma(x) for x in a)
        - M.loggamma(a0)
        + (a0 - k) * M.digamma(a0)
        - M.fsum((x - 1) * M.digamma(x) for x in a)
    )


def _dirichlet_kl(*ab):
    k = len(ab) // 2
    a, b = ab[:k], ab[k:]
    a0, b0 = M.fsum(a), M.fsum(b)
    return (
        M.loggamma(a0)
        - M.fsum(M.loggamma(x) for x in a)
        - M.loggamma(b0)
        + M.fsum(M.loggamma(y) for y in b)
        + M.fsum(
            (x - y) * (M.digamma(x) - M.digamma(a0)) for x, y in zip(a, b, strict=False)
        )
    )


def _beta_kl(a1, b1, a2, b2):
    return _dirichlet_kl(a1, b1, a2, b2)


def _normal_kl(m1, s1, m2, s2):
    return M.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - M.mpf(1) / 2


def _cross_entropy(kl, entropy, n_p):
    return lambda *x: kl(*x) + entropy(*x[:n_p])


def _reference(f, x):
    """Value and gradient of ``f`` at the float64 point ``x``, 60 digits."""
    with M.workdps(60):
        x = [M.mpf(float(v)) for v in x]
        value = f(*x)
        grad = []
        for i, xi in enumerate(x):

            def along(u, i=i, xi=xi):
                return f(*(x[:i] + [xi * M.exp(u)] + x[i + 1 :]))

            grad.append(M.diff(along, 0) / xi)  # d/dlog x, then / x
        return float(value), np.array([float(g) for g in grad])


# (name, function on flat float arrays, mpmath formula, parameter count)
def _dirichlet_fn(f, k):
    def g(*x):
        xs = jnp.stack(x, -1)
        return f(*[xs[..., i * k : (i + 1) * k] for i in range(xs.shape[-1] // k)])

    return g


KLS = {
    "gamma": (gamma.kl_divergence, _gamma_kl, 4),
    "beta": (beta.kl_divergence, _beta_kl, 4),
    "dirichlet": (_dirichlet_fn(dirichlet.kl_divergence, 3), _dirichlet_kl, 6),
}
ENTROPIES = {
    "gamma": (gamma.entropy, _gamma_entropy, 2),
    "beta": (beta.entropy, _dirichlet_entropy, 2),
    "dirichlet": (_dirichlet_fn(dirichlet.entropy, 3), _dirichlet_entropy, 3),
    "gamma_ce": (
        gamma.cross_entropy,
        _cross_entropy(_gamma_kl, _gamma_entropy, 2),
        4,
    ),
    "beta_ce": (
        beta.cross_entropy,
        _cross_entropy(_beta_kl, _dirichlet_entropy, 2),
        4,
    ),
    "dirichlet_ce": (
        _dirichlet_fn(dirichlet.cross_entropy, 3),
        _cross_entropy(_dirichlet_kl, _dirichlet_entropy, 3),
        6,
    ),
}


def _points(n_params, scales, dtype, seed=0):
    """Two random points per scale (8 rows: one compilation per function)."""
    rng = np.random.default_rng(seed)
    scales = np.repeat(np.asarray(scales, np.float64), 8 // len(scales))
    x = rng.uniform(0.3, 3.0, (8, n_params)) * scales[:, None]
    return x.astype(dtype)


def _value_and_grads(fn, x):
    """Value, gradient of every argument and jvp along ones, in one jit."""

    def probe(*args):
        argnums = tuple(range(len(args)))
        grads = jax.grad(lambda *a: jnp.sum(fn(*a)), argnums=argnums)(*args)
        _, jvp = jax.jvp(fn, args, tuple(jnp.ones_like(a) for a in args))
        return fn(*args), grads, jvp

    value, grads, jvp = jax.jit(probe)(*[jnp.asarray(v) for v in x.T])
    return (
        np.asarray(value, np.float64),
        np.stack([np.asarray(g, np.float64) for g in grads], -1),
        np.asarray(jvp, np.float64),
    )


@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(KLS))
def test_kl_at_tiny_concentrations(name, x64):
    """Values and every gradient to rounding, finite jvp: the poles cancel."""
    fn, formula, n_params = KLS[name]
    dtype = np.float64 if x64 else np.float32
    with jax.enable_x64(x64):
        x = _points(n_params, [1e-30, 1e-19, 1e-10, 1e-4], dtype)
        value, grads, jvp = _value_and_grads(fn, x)
    rtol = 1e-11 if x64 else 3e-5
    for row, point in enumerate(x.astype(np.float64)):
        ref, ref_grad = _reference(formula, point)
        np.testing.assert_allclose(value[row], ref, rtol=rtol, err_msg=str(point))
        # a gradient entry to rounding of the row's largest (they cancel in part)
        err = np.abs(grads[row] - ref_grad) / np.max(np.abs(ref_grad))
        assert err.max() < 100 * rtol, (point, grads[row], ref_grad)
        np.testing.assert_allclose(
            jvp[row], ref_grad.sum(), rtol=0, atol=100 * rtol * np.abs(ref_grad).sum()
        )


def _near_points(n_params, dtype, seed=0):
    """8 rows: p's parameters at scales 1e-20 ... 1e20, q's at relative
    offsets 1e-2 ... 1e-6 of mixed signs (rounded to ``dtype`` first, so the
    reference sees the inputs the function does)."""
    rng = np.random.default_rng(seed)
    half = n_params // 2
    scales = np.array([1e-20, 1e-4, 0.3, 1.0, 2.0, 30.0, 1e4, 1e20])[:, None]
    p = rng.uniform(0.3, 3.0, (8, half)) * scales
    steps = np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 3e-6, 1e-5, 1e-3])[:, None]
    q = p * (
        1.0
        + steps * rng.choice([-1.0, 1.0], (8, half)) * rng.uniform(0.5, 1, (8, half))
    )
    return np.concatenate([p, q], 1).astype(dtype)  # (p..., q...)


@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(KLS))
def test_kl_of_near_pairs_to_relative_precision(name, x64):
    """Values to 1e-4 (float32) / 1e-10 (float64) relative, gradients to
    rounding of the row's largest, at pairs whose concentrations differ by
    relative 1e-2 ... 1e-6."""
    fn, formula, n_params = KLS[name]
    dtype = np.float64 if x64 else np.float32
    with jax.enable_x64(x64):
        x = _near_points(n_params, dtype)
        value, grads, _ = _value_and_grads(fn, x)
    rtol = 1e-10 if x64 else 1e-4
    for row, point in enumerate(x.astype(np.float64)):
        ref, ref_grad = _reference(formula, point)
        assert ref > 0
        np.testing.assert_allclose(value[row], ref, rtol=rtol, err_msg=str(point))
        err = np.abs(grads[row] - ref_grad) / np.max(np.abs(ref_grad))
        assert err.max() < (1e-8 if x64 else 1e-3), (point, grads[row], ref_grad)


@pytest.mark.parametrize("name", sorted(ENTROPIES))
def test_entropy_gradient_at_tiny_concentrations_is_never_nan(name):
    """float32: the true derivative where representable, its signed inf beyond."""
    fn, formula, n_params = ENTROPIES[name]
    x = _points(n_params, [1e-30, 1e-20, 1e-19, 1e-12], np.float32, seed=1)
    value, grads, _ = _value_and_grads(fn, x)
    assert np.all(np.isfinite(value))
    assert not np.any(np.isnan(grads))
    for row, point in enumerate(x.astype(np.float64)):
        ref, ref_grad = _reference(formula, point)
        np.testing.assert_allclose(value[row], ref, rtol=1e-5)
        for g, t in zip(grads[row], ref_grad, strict=True):
            if abs(t) > 1.01 * F32_MAX:
                assert g == np.sign(t) * np.inf, (point, g, t)
            elif abs(t) < 0.5 * F32_MAX:
                assert abs(g - t) <= 1e-4 * np.max(np.abs(ref_grad)), (point, g, t)


@pytest.mark.parametrize("name", ["gamma", "beta", "dirichlet"])
def test_entropy_gradient_at_1e_30_float64(name):
    """float64 represents 1/a^2 = 1e60: finite and accurate."""
    fn, formula, n_params = ENTROPIES[name]
    with jax.enable_x64(True):
        x = _points(n_params, [1e-30], np.float64, seed=2)
        value, grads, _ = _value_and_grads(fn, x)
    for row, point in enumerate(x):
        ref, ref_grad = _reference(formula, point)
        np.testing.assert_allclose(value[row], ref, rtol=1e-12)
        np.testing.assert_allclose(
            grads[row], ref_grad, rtol=0, atol=1e-9 * np.max(np.abs(ref_grad))
        )


@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["gamma", "beta", "dirichlet"])
def test_entropy_at_huge_concentrations(name, x64):
    """lgamma and (a - 1) digamma ~ 7e31 cancel to ~-33: against 60 digits."""
    fn, formula, n_params = ENTROPIES[name]
    dtype = np.float64 if x64 else np.float32
    with jax.enable_x64(x64):
        x = _points(n_params, [1e10, 1e20, 1e30, 1e30], dtype, seed=3)
        args = [jnp.asarray(x[:, i]) for i in range(n_params)]
        value = np.asarray(fn(*args), np.float64)
    with M.workdps(60):
        ref = [float(formula(*[M.mpf(float(v)) for v in p])) for p in x]
    np.testing.assert_allclose(value, ref, rtol=1e-13 if x64 else 1e-6)


@pytest.mark.parametrize("measure", ["kl_divergence", "cross_entropy"])
def test_normal_value_just_below_float32_max(measure):
    """(dmu / sigma_q)^2 overflows float32 but its half does not."""
    fn = getattr(normal, measure)
    dmu = np.array([2.45, 1.5, 2.0, 1.0], np.float32)  # (dmu / s_q)^2 / 2 ~ 1e38..3e38
    s_q = np.array([1.1e-19, 7.0e-20, 1.0e-19, 6.0e-20], np.float32)
    s_p = np.float32(0.7) * s_q
    m_p = np.zeros(4, np.float32)
    value = np.asarray(fn(m_p, s_p, -dmu, s_q), np.float64)
    grad_loc = np.asarray(
        jax.grad(lambda m: jnp.sum(fn(m, s_p, -dmu, s_q)))(jnp.asarray(m_p)),
        np.float64,
    )
    with M.workdps(60):
        args = [[M.mpf(float(v)) for v in a] for a in (m_p, s_p, -dmu, s_q)]
        kl = [_normal_kl(*p) for p in zip(*args, strict=False)]
        if measure == "cross_entropy":
            kl = [
                d + M.log(2 * M.pi * M.e * p[1] ** 2) / 2
                for d, p in zip(kl, zip(*args, strict=False), strict=False)
            ]
        ref = np.array([float(v) for v in kl])
        ref_grad = np.array(
            [float(d / s**2) for d, s in zip(args[2], args[3], strict=False)]
        )
        ref_grad = -ref_grad  # d/dm_p of (m_p - m_q)^2 / (2 s_q^2), m_q = -dmu
    assert np.all(ref < F32_MAX)
    np.testing.assert_allclose(value, ref, rtol=1e-6)
    np.testing.assert_allclose(grad_loc, ref_grad, rtol=1e-6)
