"""jaxdiv.losses sigmoid losses (``_sigmoid.py``) against optax and NumPy float64."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from losses_helpers import (
    assert_close,
    assert_finite,
    jgrad,
    logits_like,
    np_sigmoid_bce,
)

import jaxdiv.losses as L


@pytest.mark.parametrize("shape", [(9,), (3, 4)])
@pytest.mark.parametrize("int_labels", [False, True])
def test_sigmoid_binary_cross_entropy_matches_optax(shape, int_labels):
    rng = np.random.default_rng(4)
    x = logits_like(rng, shape, 4.0)
    y = (
        rng.integers(0, 2, shape)
        if int_labels
        else rng.random(shape).astype(np.float32)
    )
    ours = L.sigmoid_binary_cross_entropy(x, y)
    assert_close(ours, optax.losses.sigmoid_binary_cross_entropy(x, y))
    assert_close(ours, np_sigmoid_bce(x, y))
    g = jgrad(lambda a: L.sigmoid_binary_cross_entropy(a, y).sum())(x)
    r = jgrad(lambda a: optax.losses.sigmoid_binary_cross_entropy(a, y).sum())(x)
    assert_close(g, r)


@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_sigmoid_focal_loss_matches_optax(alpha, gamma):
    rng = np.random.default_rng(5)
    x = logits_like(rng, (4, 5), 3.0)
    y = rng.random((4, 5)).astype(np.float32)
    y[0] = np.round(y[0])
    ours = L.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma)
    ref = optax.losses.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma)
    assert_close(ours, ref, rtol=2e-5)
    # and the definition, in float64
    p = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    one_minus_pt = (1 - y) * p + y * (1 - p)
    a_t = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    assert_close(ours, a_t * one_minus_pt**gamma * np_sigmoid_bce(x, y), rtol=2e-5)


def test_sigmoid_losses_at_infinite_logits():
    x = np.array([np.inf, -np.inf, np.inf, -np.inf, 0.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    bce = L.sigmoid_binary_cross_entropy(x, y)
    assert_close(bce, [0.0, 0.0, np.inf, np.inf, np.log(2.0)])
    for f in (
        L.sigmoid_binary_cross_entropy,
        functools.partial(L.sigmoid_focal_loss, gamma=0.5),
        functools.partial(L.sigmoid_focal_loss, gamma=0.0),
        functools.partial(L.sigmoid_binary_cross_entropy, pos_weight=3.0),
    ):
        keep = np.array([0, 1, 4])  # the entries whose value is finite
        g = jgrad(lambda a, f=f: f(a, y).sum())(jnp.asarray(x))
        assert_finite(np.asarray(g)[keep])
        _, t = jax.jvp(lambda a, f=f: f(a, y), (jnp.asarray(x),), (jnp.ones(5),))
        assert_finite(np.asarray(t)[keep])
    focal = L.sigmoid_focal_loss(x, y)
    assert focal[0] == 0.0 and focal[1] == 0.0


def test_sigmoid_label_gradient_is_the_true_one():
    """d/dy BCE(x, y) = -x, also at y in {0, 1}."""
    x = np.array([1.5, -0.5, 2.0], np.float32)
    y = np.array([0.0, 1.0, 0.3], np.float32)
    g = jgrad(lambda b: L.sigmoid_binary_cross_entropy(x, b).sum())(jnp.asarray(y))
    assert_close(g, -x)


def test_pos_weight():
    rng = np.random.default_rng(15)
    x = logits_like(rng, (4, 3))
    y = rng.random((4, 3)).astype(np.float32)
    w = np.array([1.0, 2.5, 0.5], np.float32)
    assert_close(
        L.sigmoid_binary_cross_entropy(x, y, pos_weight=w), np_sigmoid_bce(x, y, w)
    )
    assert_close(
        L.sigmoid_binary_cross_entropy(x, y, pos_weight=1.0),
        L.sigmoid_binary_cross_entropy(x, y),
    )


@pytest.mark.parametrize("gamma", [2.0, 1.0, 0.5])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_focal_label_gradient_is_the_true_one(alpha, gamma):
    """1 - p_t = (1 - y) sigmoid(x) + y sigmoid(-x) is linear in y (Lin et al.
    2017), so d/dy at y in {0, 1} has the term of the zero weight too (optax
    0.2.8 and the zero-safe log dropped it): against the float64 derivative
    ``dce m^g + ce g m^(g - 1) (q - p)``, ``m = 1 - p_t``, in log space."""
    x = np.array([-1.37, 1.3, 0.5, -3.0, 9.0, -9.0, 0.2, 30.0, -30.0], np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.4, 1.0, 0.0], np.float32)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    lp, lq = -np.logaddexp(0, -x64), -np.logaddexp(0, x64)  # log p, log(1 - p)
    ce = -(y64 * lp + (1 - y64) * lq)
    with np.errstate(divide="ignore"):  # (log 0 = -inf at binary labels)
        log_m = np.logaddexp(np.log1p(-y64) + lp, np.log(y64) + lq)
    p, q = np.exp(lp), np.exp(lq)
    want = (lq - lp) * np.exp(gamma * log_m) + ce * gamma * (q - p) * np.exp(
        (gamma - 1) * log_m
    )
    if alpha is not None:
        a_t = alpha * y64 + (1 - alpha) * (1 - y64)
        want = a_t * want + (2 * alpha - 1) * ce * np.exp(gamma * log_m)

    def total(b):
        return L.sigmoid_focal_loss(x, b, alpha=alpha, gamma=gamma).sum()

    g = jax.grad(total)(jnp.asarray(y))
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7)
