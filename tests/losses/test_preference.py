"""jaxdiv.losses preference losses (``_preference.py``): dpo_loss, simpo_loss,
orpo_loss, against the papers formulas in NumPy float64.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from rl_helpers import (
    DPO_CASES,
    _check_grads,
    _summed,
    f32,
    np_dpo,
    np_log_sigmoid,
    np_orpo,
    np_simpo,
    preference_batch,
)

import jaxdiv.losses as L


def test_dpo_matches_the_papers():
    args = preference_batch()

    @jax.jit
    def run(c, r, rc, rr):
        return {
            case: _summed(
                functools.partial(
                    L.dpo_loss, beta=beta, loss_type=case[0], label_smoothing=case[1]
                ),
                (0, 1, 2),
            )(c, r, rc, rr)
            for case, beta in DPO_CASES.items()
        }

    out = run(*f32(*args))
    c, r, rc, rr = args
    for (loss_type, eps), beta in DPO_CASES.items():
        loss, metrics, grads = out[loss_type, eps]
        expected = np_dpo(*args, beta, loss_type, eps)
        np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
        if loss_type == "hinge":
            assert 0 < np.mean(expected > 0) < 1
        _check_grads(
            grads[:2],
            lambda *a, b=beta, t=loss_type, e=eps: np_dpo(*a, b, t, e),
            args,
            (0, 1),
        )
        assert not np.any(grads[2])  # the reference is a constant
        np.testing.assert_allclose(
            metrics["chosen_rewards"], beta * (c - rc), rtol=1e-5
        )
        np.testing.assert_allclose(
            metrics["rejected_rewards"], beta * (r - rr), rtol=1e-5
        )
        np.testing.assert_allclose(
            metrics["margins"], beta * ((c - rc) - (r - rr)), rtol=1e-4, atol=1e-6
        )
        np.testing.assert_array_equal(metrics["accuracies"], (c - rc) > (r - rr))


def test_dpo_limits_beta_to_zero_and_label_smoothing():
    c, r, rc, rr = f32(*preference_batch(seed=31))
    delta = np.float64((c - rc) - (r - rr))
    h_star = np.log(0.9 / 0.1)  # the cDPO optimum at eps = 0.1, beta = 0.5
    zero = jnp.zeros(1)

    @jax.jit
    def run(c, r, rc, rr):
        def dpo(c, **kw):
            return jnp.sum(L.dpo_loss(c, r, rc, rr, **kw)[0])

        def robust(c, r, rc, rr):
            return L.dpo_loss(c, r, rc, rr, loss_type="robust", label_smoothing=0.2)[0]

        return dict(
            tiny=L.dpo_loss(c, r, rc, rr, beta=1e-6)[0],
            tiny_grad=jax.grad(functools.partial(dpo, beta=1e-6))(c),
            cdpo_grad=jax.grad(
                lambda x: L.dpo_loss(
                    x, zero, zero, zero, beta=0.5, label_smoothing=0.1
                )[0][0]
            )(jnp.full(1, h_star / 0.5, jnp.float32)),
            half=L.dpo_loss(zero, zero, zero, zero, label_smoothing=0.5)[0],
            half_grad=jax.grad(
                lambda x: L.dpo_loss(x, zero, zero, zero, label_smoothing=0.5)[0][0]
            )(zero),
            robust_mixture=0.8 * robust(c, r, rc, rr) + 0.2 * robust(r, c, rr, rc),
            robust_zero=L.dpo_loss(c, r, rc, rr, loss_type="robust")[0],
            dpo=L.dpo_loss(c, r, rc, rr)[0],
        )

    out = run(c, r, rc, rr)
    # beta -> 0: loss -> log 2, gradient -> -(beta / 2) d delta (Rafailov et al.)
    np.testing.assert_allclose(out["tiny"], np.log(2.0) - 1e-6 * delta / 2, rtol=1e-6)
    np.testing.assert_allclose(out["tiny_grad"] / 1e-6, -0.5, rtol=1e-4)
    # cDPO is minimised at the finite margin log((1 - eps) / eps) (Mitchell)
    np.testing.assert_allclose(out["cdpo_grad"], 0.0, atol=1e-6)
    # eps = 1/2: the labels carry no information, log 2 and zero gradient at h = 0
    np.testing.assert_allclose(out["half"], np.log(2.0), rtol=1e-6)
    assert not np.any(out["half_grad"])
    # robust DPO is unbiased: its expectation over flips of rate eps is the
    # clean DPO loss (Chowdhury et al., Lemma 3.1)
    np.testing.assert_allclose(
        out["robust_mixture"], -np_log_sigmoid(0.1 * delta), rtol=1e-4
    )
    np.testing.assert_allclose(out["robust_zero"], out["dpo"], rtol=1e-6)


def test_preference_losses_at_extreme_margins():
    big = jnp.asarray([1e4, -1e4, 1e5, -1e5], jnp.float32)
    zero = jnp.zeros(4)
    c = jnp.asarray([-1e4, -1e-6, 0.0, -30.0], jnp.float32)
    r = jnp.asarray([-1e-7, -1e4, -1e4, -1e-30], jnp.float32)

    @jax.jit
    def run(big, c, r):
        out = {}
        for loss_type, eps in DPO_CASES:

            def f(x, loss_type=loss_type, eps=eps):
                return L.dpo_loss(
                    x,
                    zero,
                    zero,
                    zero,
                    beta=1.0,
                    loss_type=loss_type,
                    label_smoothing=eps,
                )

            out[f"{loss_type}/{eps}"] = _summed(f, (0,))(big)
        out["simpo"] = _summed(
            functools.partial(L.simpo_loss, beta=1.0, gamma=0.0), (0,)
        )(big, zero)
        out["orpo"] = _summed(L.orpo_loss, (0, 1))(c, r)
        return out

    out = run(big, c, r)
    for case, (loss, _, grads) in out.items():
        assert np.all(np.isfinite(loss)), case
        assert all(np.all(np.isfinite(g)) for g in grads), case
    np.testing.assert_allclose(out["sigmoid/0.0"][0], [0.0, 1e4, 0.0, 1e5], rtol=1e-6)
    np.testing.assert_allclose(out["simpo"][0], [0.0, 1e4, 0.0, 1e5], rtol=1e-6)
    # ORPO: log-probabilities from -1e4 up to 0 (P = 1), log-odds accurate
    lor = out["orpo"][1]["log_odds_ratio"]
    c64, r64 = np.float64(c), np.float64(r)
    odds = lambda x: x - np.log(-np.expm1(x))  # noqa: E731
    np.testing.assert_allclose(lor[1], odds(c64[1]) - (-1e4), rtol=1e-6)
    np.testing.assert_allclose(lor[0], -1e4 - odds(r64[0]), rtol=1e-6)
    assert 80 < lor[2] - 1e4 < 90  # P = 1 is capped at log p = -tiny


def test_simpo_and_orpo_match_the_papers():
    rng = np.random.default_rng(37)
    c = np.float64(np.float32(-rng.uniform(0.05, 3.0, 8)))
    r = np.float64(np.float32(-rng.uniform(0.05, 3.0, 8)))

    @jax.jit
    def run(c, r):
        return (
            _summed(functools.partial(L.simpo_loss, beta=2.5, gamma=1.4), (0, 1))(c, r),
            _summed(functools.partial(L.orpo_loss, lam=0.25), (0, 1))(c, r),
            _summed(
                functools.partial(L.orpo_loss, lam=0.25, include_nll=False), (0, 1)
            )(c, r),
        )

    simpo, orpo, orpo_no_nll = run(*f32(c, r))
    np.testing.assert_allclose(simpo[0], np_simpo(c, r, 2.5, 1.4), rtol=1e-5)
    np.testing.assert_allclose(simpo[1]["margins"], 2.5 * (c - r), rtol=1e-5, atol=1e-6)
    _check_grads(simpo[2], lambda c, r: np_simpo(c, r, 2.5, 1.4), (c, r), (0, 1))
    for out, include_nll in ((orpo, True), (orpo_no_nll, False)):
        np.testing.assert_allclose(out[0], np_orpo(c, r, 0.25, include_nll), rtol=1e-5)
        _check_grads(
            out[2], lambda c, r, i=include_nll: np_orpo(c, r, 0.25, i), (c, r), (0, 1)
        )
    np.testing.assert_allclose(orpo[1]["nll"], -c, rtol=1e-6)
    np.testing.assert_allclose(
        orpo[1]["odds_ratio_loss"], np_orpo(c, r, 1.0, False), rtol=1e-5
    )


def test_preference_losses_under_transforms_and_dtypes():
    c, r, rc, rr = preference_batch(seed=41)
    args = f32(c, r, rc, rr, (c - rc) / 10, (r - rr) / 10, c / 30, r / 30)

    def f(c, r, rc, rr, sc, sr, oc, orr):
        return jnp.stack(
            [
                L.dpo_loss(c, r, rc, rr, loss_type="ipo")[0],
                L.simpo_loss(sc, sr)[0],
                L.orpo_loss(oc, orr)[0],
            ]
        )

    eager = f(*args)
    stacked = [jnp.stack([x, x[::-1]]) for x in args]
    batched = jax.jit(jax.vmap(f))(*stacked)
    np.testing.assert_allclose(batched[0], eager, rtol=1e-6)
    np.testing.assert_allclose(batched[1], eager[:, ::-1], rtol=1e-6)
    tangents = [
        jnp.asarray(np.random.default_rng(i).standard_normal(8), jnp.float32)
        for i in range(len(args))
    ]

    @jax.jit
    def derivatives(args, tangents):
        grads = jax.grad(lambda *a: jnp.sum(f(*a)), argnums=tuple(range(8)))(*args)
        return grads, jax.jvp(f, args, tangents)[1]

    grads, dot = derivatives(tuple(args), tuple(tangents))
    np.testing.assert_allclose(
        jnp.sum(dot),
        sum(jnp.sum(g * t) for g, t in zip(grads, tangents, strict=True)),
        rtol=1e-5,
    )
    half = [x.astype(jnp.bfloat16) for x in args]
    out = jax.jit(f)(*half)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(
        out, f(*(x.astype(jnp.float32) for x in half)), rtol=1e-6
    )


def test_preference_losses_bad_input():
    a, b = jnp.zeros(3), jnp.zeros(4)
    with pytest.raises(
        ValueError, match=r"jaxdiv.losses.dpo_loss: .*chosen \(3,\), rejected \(4,\)"
    ):
        L.dpo_loss(a, b, a, a)
    with pytest.raises(
        ValueError, match=r"jaxdiv.losses.dpo_loss: loss_type must be one of"
    ):
        L.dpo_loss(a, a, a, a, loss_type="kto")
    with pytest.raises(ValueError, match=r"jaxdiv.losses.dpo_loss: label_smoothing"):
        L.dpo_loss(a, a, a, a, loss_type="ipo", label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"jaxdiv.losses.dpo_loss: label_smoothing"):
        L.dpo_loss(a, a, a, a, loss_type="robust", label_smoothing=0.5)
    with pytest.raises(ValueError, match=r"jaxdiv.losses.dpo_loss: beta"):
        L.dpo_loss(a, a, a, a, beta=0.0)
    with pytest.raises(ValueError, match=r"jaxdiv.losses.simpo_loss: .*\(3,\).*\(4,\)"):
        L.simpo_loss(a, b)
    with pytest.raises(ValueError, match=r"jaxdiv.losses.orpo_loss: .*\(3,\).*\(4,\)"):
        L.orpo_loss(a, b)
    with pytest.raises(ValueError, match=r"jaxdiv.losses.orpo_loss: lam"):
        L.orpo_loss(a, a, lam=-1.0)
    with pytest.raises(TypeError, match=r"jaxdiv.losses.simpo_loss"):
        L.simpo_loss(jnp.zeros(3, int), a)
