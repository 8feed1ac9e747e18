"""jaxdiv.losses KL losses (``_kl.py``) against optax and NumPy float64."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from losses_helpers import (
    NEG_INF,
    SHAPES_AXES,
    assert_close,
    assert_finite,
    grad_and_jvp,
    jgrad,
    np_kl_log,
    np_xlogy,
    probs_like,
)

import jaxdiv
import jaxdiv.losses as L


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_kl_losses_match_optax(shape, axis):
    rng = np.random.default_rng(7)
    log_q = np.log(probs_like(rng, shape, axis))
    p = probs_like(rng, shape, axis)
    where = [None, rng.random(shape) < 0.8]
    for w in where:
        # A mask leaves sub-normalised rows whose partial sums can be clearly
        # negative: only rounding-level negatives are clamped (issue 9), so
        # the masked value is optax's, the value on the kept entries alone.
        ref = optax.losses.kl_divergence(log_q, p, axis, w)
        assert_close(L.kl_divergence(log_q, p, axis, w), ref)
        ref = optax.losses.kl_divergence_with_log_targets(log_q, np.log(p), axis, w)
        assert_close(L.kl_divergence_with_log_targets(log_q, np.log(p), axis, w), ref)
        # unnormalised: the generalised KL
        log_q2, p2 = log_q + 0.3, 1.7 * p
        assert_close(
            L.generalized_kl_divergence(log_q2, p2, axis, w),
            optax.losses.generalized_kl_divergence(log_q2, p2, axis, w),
        )
    f = L.kl_divergence_with_log_targets
    g = jgrad(lambda a, b: f(a, b, axis).sum(), (0, 1))(log_q, np.log(p))
    r = jgrad(
        lambda a, b: optax.losses.kl_divergence_with_log_targets(a, b, axis).sum(),
        (0, 1),
    )(log_q, np.log(p))
    assert_close(g[0], r[0])
    assert_close(g[1], r[1])
    assert_close(L.kl_divergence(log_q, p, axis), np_kl_log(log_q, np.log(p), axis))


def test_convex_kl_divergence_is_a_deprecated_alias():
    rng = np.random.default_rng(9)
    lq, p = np.log(probs_like(rng, (6,))), probs_like(rng, (6,))
    with pytest.warns(DeprecationWarning, match="generalized_kl_divergence"):
        out = L.convex_kl_divergence(lq, p)
    assert_close(out, L.generalized_kl_divergence(lq, p))


@np.errstate(divide="ignore")
def test_kl_divergence_zero_targets_against_neg_inf_log_predictions():
    """optax gives nan for both."""
    log_q = np.log(np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], np.float32))
    p = np.array([[0.25, 0.75, 0.0], [1.0, 0.0, 0.0]], np.float32)
    for f, t in (
        (L.kl_divergence, p),
        (L.kl_divergence_with_log_targets, np.log(p)),
        (L.generalized_kl_divergence, p),
    ):
        out = f(log_q, t)
        assert_close(out, np_kl_log(log_q, np.log(p)))
        grads, tan = grad_and_jvp(f, jnp.asarray(log_q), jnp.asarray(t))
        assert_finite(grads, tan)
        assert np.all(np.asarray(grads[0])[p == 0] == 0)


@np.errstate(divide="ignore")
def test_kl_target_mass_where_prediction_is_zero_is_inf():
    log_q = np.log(np.array([1.0, 0.0], np.float32))
    p = np.array([0.5, 0.5], np.float32)
    assert L.kl_divergence(log_q, p) == np.inf
    assert L.kl_divergence_with_log_targets(log_q, np.log(p)) == np.inf
    assert L.generalized_kl_divergence(log_q, p) == np.inf
    # a target that underflows to zero mass is zero mass, as in the measures
    lt = np.array([0.0, -200.0], np.float32)
    assert L.kl_divergence_with_log_targets(log_q, lt) == 0.0


def test_kl_with_log_targets_agrees_with_the_measure():
    rng = np.random.default_rng(14)
    lp = np.log(probs_like(rng, (5, 6)))
    lt = np.log(probs_like(rng, (5, 6)))
    lt[:, 0] = NEG_INF
    lp[1:3, 0] = NEG_INF
    lt[3, 1:] = NEG_INF  # a one-hot target
    lt[3, 0] = 0.0
    lp[4] = lt[4]  # KL(p, p) = 0
    ours = L.kl_divergence_with_log_targets(lp, lt)
    assert_close(ours, jaxdiv.kl_divergence(np.exp(lt), np.exp(lp)), rtol=2e-5)
    assert_close(ours, np_kl_log(lp, lt), rtol=2e-5)
    assert ours[4] == 0.0
    grads, t = grad_and_jvp(
        L.kl_divergence_with_log_targets, jnp.asarray(lp), jnp.asarray(lt)
    )
    assert_finite(grads, t)
    p = np.exp(lt.astype(np.float64))
    assert_close(grads[0], -p)  # d/dlog_q KL(p || q) = -p
    with np.errstate(invalid="ignore"):
        ref = np.where(p == 0, 0.0, p * (lt - lp + 1.0))
    assert_close(grads[1][:4], ref[:4])


@np.errstate(divide="ignore", invalid="ignore")
def test_generalized_kl_of_unnormalised_measures():
    q = np.array([[2.0, 0.5, 0.0], [1.0, 1.0, 1.0]])
    p = np.array([[1.0, 1.0, 0.0], [3.0, 0.0, 0.2]])
    with np.errstate(divide="ignore"):
        ref = np.sum(np_xlogy(p, np.log(p) - np.log(q)) - p + q, axis=-1)
    assert_close(L.generalized_kl_divergence(np.log(q).astype(np.float32), p), ref)


def test_kl_loss_of_unnormalised_log_predictions_stays_visible():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(4, 5)).astype(np.float32) * 2 + 1.0  # not log-probs
    p = probs_like(rng, (4, 5))
    ref = optax.losses.kl_divergence(logits, p)
    assert np.any(np.asarray(ref) < -1e-3)
    assert_close(L.kl_divergence(logits, p), ref)
    g = jax.jit(jax.grad(lambda lq: jnp.sum(L.kl_divergence(lq, p))))(logits)
    assert_close(g, -p)  # d/d log q of -sum p log q: training goes on
    # normalised inputs: rounding-level negatives only, clamped to 0
    lq = np.asarray(jax.nn.log_softmax(jnp.asarray(p + 1e-7)))
    out = np.asarray(L.kl_divergence(np.log(p), p))
    assert np.all((out >= 0) & (out < 1e-6))
    assert np.all(np.asarray(L.kl_divergence(lq, p)) >= 0)
    # value checks flag log-predictions that do not normalise
    for f in (L.kl_divergence, L.kl_divergence_with_log_targets):
        checked = chex.chexify(jax.jit(f), async_check=False)
        target = p if f is L.kl_divergence else np.log(p)
        with jaxdiv.value_checks():
            with pytest.raises(Exception, match="log_predictions"):
                checked(logits, target)
