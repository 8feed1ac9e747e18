"""jaxdiv.losses.distillation_loss and kl_penalty (``_distillation.py``) against
NumPy float64.
"""

import functools

import jax.numpy as jnp
import numpy as np
import pytest
from losses_helpers import (
    NEG_INF,
    _np_softmax,
    _unfused_kl_from_logits,
    assert_close,
    assert_finite,
    grad_and_jvp,
    jgrad,
    logits_like,
    np_kl_log,
    np_log_softmax,
    probs_like,
)

import jaxdiv
import jaxdiv.losses as L


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_distillation_loss(temperature):
    rng = np.random.default_rng(19)
    s = logits_like(rng, (4, 6))
    t = logits_like(rng, (4, 6))
    ps = _np_softmax(s.astype(np.float64) / temperature)
    pt = _np_softmax(t.astype(np.float64) / temperature)
    kl = lambda a, b: np.sum(a * np.log(a / b), -1)  # noqa: E731
    t2 = temperature**2
    f = functools.partial(L.distillation_loss, temperature=temperature)
    assert_close(f(s, t), t2 * kl(pt, ps), rtol=2e-5)
    assert_close(f(s, t, divergence="reverse_kl"), t2 * kl(ps, pt), rtol=2e-5)
    m = 0.5 * (ps + pt)
    jsd = 0.5 * kl(pt, m) + 0.5 * kl(ps, m)
    assert_close(f(s, t, divergence="jsd"), t2 * jsd, rtol=2e-5)
    assert_close(f(s, t, divergence="jsd"), f(t, s, divergence="jsd"), rtol=2e-5)
    beta = 0.2
    m = beta * pt + (1 - beta) * ps
    gjsd = beta * kl(pt, m) + (1 - beta) * kl(ps, m)
    assert_close(f(s, t, divergence="jsd", beta=beta), t2 * gjsd, rtol=2e-5)
    # the gradient's scale does not depend on T: T^2 * (1/T) * (softmax diff)
    g = jgrad(lambda a: f(a, t).sum())(jnp.asarray(s))
    assert_close(g, temperature * (ps - pt), rtol=1e-4, atol=1e-6)


def test_distillation_loss_edges():
    s = np.array([[0.0, 1.0, NEG_INF], [NEG_INF] * 3], np.float32)
    t = np.array([[0.5, NEG_INF, NEG_INF], [NEG_INF] * 3], np.float32)
    for div in ("forward_kl", "jsd"):
        f = functools.partial(L.distillation_loss, divergence=div, temperature=2.0)
        out = f(s, t)
        assert np.isfinite(out).all() and out[1] == 0
        grads, tan = grad_and_jvp(f, jnp.asarray(s), jnp.asarray(t))
        assert_finite(grads, tan)
        assert np.all(np.asarray(grads[0])[1] == 0)
    assert L.distillation_loss(s, t, divergence="reverse_kl")[0] == np.inf


@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl"])
def test_fused_kl_from_logits_at_every_edge(divergence):
    """distillation_loss and jaxdiv.kl_divergence_from_logits (both fused)
    against NumPy float64 and against the unfused formula's gradients."""
    rng = np.random.default_rng(27)
    s = logits_like(rng, (6, 5))
    t = logits_like(rng, (6, 5))
    s[0, 1] = t[0, 1] = NEG_INF  # both impossible
    t[1, 2] = NEG_INF  # impossible for the teacher only
    s[2] = NEG_INF  # an empty (padding) student row
    t[3] = NEG_INF  # an empty teacher row
    t[4] = s[4]  # equal: KL = 0
    where = np.ones((6, 5), bool)
    where[5, :2] = False
    s[5, 0] = np.nan  # masked
    p, q = (t, s) if divergence == "forward_kl" else (s, t)
    ours = L.distillation_loss(s, t, divergence=divergence, where=where)
    assert_close(jaxdiv.kl_divergence_from_logits(p, q, where=where), ours)
    expected = np_kl_log(np_log_softmax(q, mask=where), np_log_softmax(p, mask=where))
    assert_close(ours, expected, rtol=2e-5)
    assert ours[4] == 0
    finite = np.isfinite(expected)
    assert finite.sum() >= 4

    def fin(f):  # the summed loss over the rows where it is finite
        return lambda a, b: jnp.sum(jnp.where(finite, f(a, b), 0.0))

    def order(f):
        return (lambda a, b: f(b, a)) if divergence == "forward_kl" else f

    fused = fin(order(lambda a, b: jaxdiv.kl_divergence_from_logits(a, b, where=where)))
    unfused = fin(order(lambda a, b: _unfused_kl_from_logits(a, b, where)))
    s0 = np.where(where, s, 0.0)  # the unfused gradient sees masked nan
    g = jgrad(fused, (0, 1))(jnp.asarray(s), jnp.asarray(t))
    r = jgrad(unfused, (0, 1))(jnp.asarray(s0), jnp.asarray(t))
    for gi, ri in zip(g, r, strict=True):
        assert_close(np.asarray(gi)[finite], np.asarray(ri)[finite], atol=1e-6)
        assert np.isfinite(np.asarray(gi)[finite]).all()
    # on the rows where the loss is finite, every derivative is finite
    kept = where[finite]
    grads, tangent = grad_and_jvp(
        lambda a, b: L.distillation_loss(a, b, divergence=divergence, where=kept),
        jnp.asarray(s[finite]),
        jnp.asarray(t[finite]),
    )
    assert_finite(grads, tangent)


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_kl_penalty(estimator):
    rng = np.random.default_rng(20)
    lp = np.log(rng.random(8) * 0.9 + 0.05).astype(np.float32)
    ref = np.log(rng.random(8) * 0.9 + 0.05).astype(np.float32)
    lr = ref.astype(np.float64) - lp.astype(np.float64)
    expected = {"k1": -lr, "k2": 0.5 * lr**2, "k3": np.exp(lr) - 1 - lr}[estimator]
    out = L.kl_penalty(lp, ref, estimator=estimator)
    assert out.shape == lp.shape
    assert_close(out, expected)
    g = jgrad(lambda a: L.kl_penalty(a, ref, estimator=estimator).sum())(
        jnp.asarray(lp)
    )
    dexp = {"k1": np.ones_like(lr), "k2": -lr, "k3": 1 - np.exp(lr)}[estimator]
    assert_close(g, dexp, rtol=1e-4)


def test_kl_penalty_k3_is_never_negative_and_accurate_near_one():
    lp = np.zeros(5, np.float32)
    ref = np.array([1e-4, -1e-4, 1e-7, 0.0, -30.0], np.float32)
    out = L.kl_penalty(lp, ref, estimator="k3")
    assert np.all(np.asarray(out) >= 0)
    r = ref.astype(np.float64)
    assert_close(out, np.expm1(r) - r, rtol=1e-3, atol=0)


def test_kl_penalty_unbiased_on_average():
    """E_pi[k1] = E_pi[k3] = KL(pi || ref) on a categorical."""
    rng = np.random.default_rng(21)
    pi, rho = probs_like(rng, (5,)), probs_like(rng, (5,))
    x = rng.choice(5, size=200_000, p=pi.astype(np.float64) / pi.sum())
    lp, lr = np.log(pi)[x], np.log(rho)[x]
    exact = np.sum(pi * np.log(pi / rho))
    for est in ("k1", "k3"):
        assert_close(
            np.mean(L.kl_penalty(lp, lr, estimator=est)), exact, rtol=0.03, atol=3e-3
        )
