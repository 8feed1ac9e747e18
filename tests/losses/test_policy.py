"""jaxdiv.losses policy losses (``_policy.py``): policy_gradient_loss, group_advantages,
sequence_log_probs, against the papers formulas in NumPy float64.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from rl_helpers import (
    CONFIGS,
    B,
    T,
    _bad,
    f32,
    np_kl,
    np_policy_gradient,
    numeric_grad,
    rl_batch,
)

import jaxdiv.losses as L


@pytest.mark.parametrize("config", list(CONFIGS))
def test_policy_gradient_matches_the_papers(config):
    per_token, opts, ref_opts = CONFIGS[config]
    d = rl_batch(seed=len(config), spread=1.2 if "dual" in config else 0.4)
    if "gspo" in config:  # sequence ratios near 1, some inside the clip range
        d["old"] = d["lp"] - 0.1 * np.random.default_rng(1).standard_normal((B, T))
    adv = d["adv_tok"] if per_token else d["adv_seq"]
    uses_ref = "kl_coef" in opts
    uses_entropy = "entropy_coef" in opts
    lp, old, a, ref, ent = f32(d["lp"], d["old"], adv, d["ref"], d["entropy"])
    mask = jnp.asarray(d["mask"])

    def loss(lp, ent):
        return L.policy_gradient_loss(
            lp,
            old,
            a,
            where=mask,
            ref_log_probs=ref if uses_ref else None,
            entropy=ent if uses_entropy else None,
            **opts,
        )

    grad_fn = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))
    (value, metrics), grads = grad_fn(lp, ent)
    # the float32-rounded inputs, in float64
    lp64, old64, a64, ref64, ent64 = (np.float64(x) for x in (lp, old, a, ref, ent))

    def ref_loss(x, e=ent64):
        return np_policy_gradient(
            x,
            old64,
            a64,
            d["mask"],
            ref=ref64 if uses_ref else None,
            entropy=e if uses_entropy else None,
            **ref_opts,
        )

    np.testing.assert_allclose(value, ref_loss(lp64), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(
        grads[0], numeric_grad(ref_loss, lp64), rtol=1e-4, atol=1e-6
    )
    if uses_entropy:
        g_ent = numeric_grad(lambda e: ref_loss(lp64, e), ent64)
        np.testing.assert_allclose(grads[1], g_ent, rtol=1e-4, atol=1e-6)
    else:
        assert not np.any(grads[1])

    # diagnostics: token means over the kept tokens
    kept = d["mask"]
    eps_lo = ref_opts.get("eps_lo", 0.2)
    eps_hi = ref_opts.get("eps_hi", eps_lo)
    a_tok = a64 if per_token else np.repeat(a64[:, None], T, axis=1)
    if "gspo" in config:
        n = kept.sum(-1)
        s = np.exp((kept * (lp64 - old64)).sum(-1) / np.maximum(n, 1))
        r = np.repeat(s[:, None], T, axis=1)
    else:
        r = np.exp(lp64 - old64)
    high = (r > 1 + eps_hi) & (a_tok > 0)
    low = (r < 1 - eps_lo) & (a_tok < 0)
    assert 0 < np.mean((high | low)[kept]) < 1  # the test exercises both branches
    np.testing.assert_allclose(metrics["clip_fraction"], np.mean((high | low)[kept]))
    np.testing.assert_allclose(metrics["clip_fraction_high"], np.mean(high[kept]))
    np.testing.assert_allclose(metrics["clip_fraction_low"], np.mean(low[kept]))
    np.testing.assert_allclose(metrics["ratio_mean"], np.mean(r[kept]), rtol=1e-5)
    t = lp64 - old64  # KL(pi_old || pi) from samples of pi_old, k3
    approx_kl = np.mean((np.expm1(t) - t)[kept])
    np.testing.assert_allclose(metrics["approx_kl"], approx_kl, rtol=1e-4)
    if uses_ref:
        kl = np_kl(lp64, ref64, ref_opts.get("estimator", "k3"))
        np.testing.assert_allclose(metrics["ref_kl"], np.mean(kl[kept]), rtol=1e-5)
    else:
        assert "ref_kl" not in metrics
    if uses_entropy:
        np.testing.assert_allclose(metrics["entropy"], np.mean(ent64[kept]), rtol=1e-6)
    if "dual_clip" in opts:
        dual = (r > 3.0) & (a_tok < 0)
        assert np.any(dual[kept])
        np.testing.assert_allclose(metrics["dual_clip_fraction"], np.mean(dual[kept]))
    policy_only = np_policy_gradient(
        lp64,
        old64,
        a64,
        kept,
        **{k: v for k, v in ref_opts.items() if k not in ("kl_coef", "entropy_coef")},
    )
    np.testing.assert_allclose(
        metrics["policy_loss"], policy_only, rtol=2e-5, atol=1e-6
    )


def test_gspo_token_with_per_token_advantages():
    """GSPO-token (Zheng et al., 2025, eq. 13): the value of GSPO on every
    token, the gradient s_i * grad log pi(y_it) * A_it."""
    d = rl_batch(seed=3)
    old = d["lp"] - 0.03 * np.random.default_rng(2).standard_normal((B, T))
    lp, old, a = f32(d["lp"], old, d["adv_tok"])
    mask = jnp.asarray(d["mask"])

    def loss(x):
        return L.policy_gradient_loss(
            x,
            old,
            a,
            where=mask,
            importance_level="sequence",
            clip_epsilon=0.04,
            aggregation="sequence_mean_token_mean",
        )[0]

    value, grad = jax.jit(jax.value_and_grad(loss))(lp)
    lp64, old64, a64 = np.float64(lp), np.float64(old), np.float64(a)
    opts = dict(level="sequence", eps_lo=0.04, aggregation="sequence_mean_token_mean")
    np.testing.assert_allclose(
        value, np_policy_gradient(lp64, old64, a64, d["mask"], **opts), rtol=2e-5
    )

    def at(x):  # the stop-gradient point fixed at lp
        return np_policy_gradient(x, old64, a64, d["mask"], sequence_point=lp64, **opts)

    np.testing.assert_allclose(grad, numeric_grad(at, lp64), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("aggregation", L._policy.AGGREGATIONS)
def test_limits_zero_advantages_and_ratio_one(aggregation):
    d = rl_batch(seed=5)
    lp, old = f32(d["lp"], d["old"])
    kept = d["mask"]

    @jax.jit
    def run(lp, adv, mask):
        def loss(x, old, adv):
            return L.policy_gradient_loss(
                x, old, adv, where=mask, aggregation=aggregation
            )[0]

        zero = jax.value_and_grad(loss)(lp, old, jnp.zeros_like(adv))
        # ratio 1: the on-policy step, old = log_probs itself
        on_policy = jax.value_and_grad(lambda x: loss(x, x, adv))(lp)
        return zero, on_policy

    rewards = np.random.default_rng(0).standard_normal(B)
    rewards[1] = 0.0  # the padding row
    adv = L.group_advantages(jnp.asarray(rewards, jnp.float32), 3)
    (value, grad), (on_value, on_grad) = run(lp, adv, jnp.asarray(kept))
    # zero advantages: zero loss and zero gradient, whatever the ratio
    assert value == 0.0 and not np.any(grad)
    # ratio 1: the REINFORCE gradient -A d(log pi), weighted by the aggregation
    n = kept.sum(-1)
    a = np.repeat(np.float64(adv)[:, None], T, axis=1)
    weight = {
        "token_mean": np.full(B, 1 / kept.sum()),
        "sequence_mean_token_mean": 1 / (np.maximum(n, 1) * np.sum(n > 0)),
        "sequence_mean_token_sum": np.full(B, 1 / np.sum(n > 0)),
        "sequence_mean_token_sum_norm": np.full(B, 1 / (T * np.sum(n > 0))),
    }[aggregation]
    np.testing.assert_allclose(
        on_grad, -a * weight[:, None] * kept, rtol=1e-5, atol=1e-8
    )
    expected = np_policy_gradient(
        d["lp"], d["lp"], np.float64(adv), kept, aggregation=aggregation
    )
    np.testing.assert_allclose(on_value, expected, atol=1e-6)
    # group-normalised advantages sum to 0 over each group: with every token
    # kept, a sequence mean of the on-policy surrogate is 0 (DeepSeekMath)
    if aggregation in ("sequence_mean_token_mean", "sequence_mean_token_sum"):
        _, (on_value, _) = run(lp, adv, jnp.ones((B, T), bool))
        assert abs(float(on_value)) < 1e-6


def test_k3_never_negative_and_kl_only_loss():
    rng = np.random.default_rng(7)
    lp = np.log(rng.uniform(1e-6, 1.0, (B, T)))
    # log-ratios from 1e-8 to 30 nats, both signs
    scale = np.exp(rng.uniform(np.log(1e-8), np.log(30.0), (B, T)))
    ref = lp + scale * rng.choice([-1.0, 1.0], (B, T))
    lp32, ref32 = f32(lp, ref)
    mask = jnp.ones((B, T), bool)
    value, metrics = L.policy_gradient_loss(
        lp32, lp32, jnp.zeros(B), where=mask, ref_log_probs=ref32, kl_coef=1.0
    )
    assert np.isfinite(value) and value >= 0.0 and metrics["ref_kl"] >= 0.0
    k3 = L.kl_penalty(lp32, ref32, estimator="k3")
    assert np.all(np.asarray(k3) >= 0.0)
    np.testing.assert_allclose(
        value, np.mean(np_kl(np.float64(lp32), np.float64(ref32), "k3")), rtol=1e-5
    )


def test_padding_and_masked_garbage_change_nothing():
    d = rl_batch(seed=11)
    kept = d["mask"]
    args = f32(d["lp"], d["old"], d["adv_seq"], d["ref"], d["entropy"])
    cases = [  # every aggregation, each ratio twice
        ("token", "token_mean"),
        ("sequence", "sequence_mean_token_mean"),
        ("token", "sequence_mean_token_sum"),
        ("sequence", "sequence_mean_token_sum_norm"),
    ]

    @jax.jit
    def run(lp, old, adv, ref, ent, mask):
        out = {}
        for level, aggregation in cases:

            def loss(x, level=level, aggregation=aggregation):
                return L.policy_gradient_loss(
                    x,
                    old,
                    adv,
                    where=mask,
                    ref_log_probs=ref,
                    entropy=ent,
                    kl_coef=0.1,
                    dual_clip=3.0,
                    importance_level=level,
                    aggregation=aggregation,
                )

            out[level, aggregation] = jax.value_and_grad(loss, has_aux=True)(lp)
        return out

    # the same batch with nan and inf in every masked slot, and two padding rows
    garbage = [
        np.array(x) for x in (d["lp"], d["old"], d["adv_seq"], d["ref"], d["entropy"])
    ]
    for x in garbage[:2] + garbage[3:]:
        x[~kept] = np.nan
        x[~kept & (np.arange(T)[None, :] % 2 == 0)] = np.inf
    garbage[2][1] = np.nan  # the padding row's advantage
    pad = [np.full((2,) + x.shape[1:], np.nan) for x in garbage]
    big = f32(*(np.concatenate([x, p]) for x, p in zip(garbage, pad, strict=True)))
    big_mask = np.concatenate([kept, np.zeros((2, T), bool)])
    clean = run(*args, jnp.asarray(kept))
    dirty = run(*big, jnp.asarray(big_mask))
    empty = run(*big, jnp.zeros_like(big_mask))
    for case in cases:
        (v, m), g = clean[case]
        (vb, mb), gb = dirty[case]
        np.testing.assert_allclose(vb, v, rtol=1e-6, err_msg=str(case))
        for k in m:
            np.testing.assert_allclose(mb[k], m[k], rtol=1e-6, err_msg=k)
        assert np.all(np.isfinite(gb))
        assert not np.any(gb[~big_mask])
        np.testing.assert_allclose(gb[:B][kept], g[kept], rtol=1e-6)
        # nothing kept at all: 0, zero gradient
        (v0, m0), g0 = empty[case]
        assert v0 == 0.0 and not np.any(g0)
        assert all(float(x) == 0.0 for x in m0.values())


def test_overflowing_ratios_are_clipped_with_zero_gradient():
    lp = jnp.array([[0.0, -1.0, -2.0]])
    old = jnp.array([[-200.0, -1.0, -150.0]])  # ratios e^200 (inf), 1, e^148
    mask = jnp.ones((1, 3), bool)

    @functools.partial(jax.jit, static_argnums=1)
    def run(adv, dual):
        return jax.value_and_grad(
            lambda x: L.policy_gradient_loss(
                x, old, adv, where=mask, dual_clip=dual, clip_epsilon_high=0.28
            )[0]
        )(lp)

    value, grad = run(jnp.array([2.0]), None)  # A > 0: the upper clip
    np.testing.assert_allclose(value, (-2 * 1.28 - 2 * 1 - 2 * 1.28) / 3, rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.0, -2 / 3, 0.0]], rtol=1e-6)
    value, grad = run(jnp.array([-2.0]), 3.0)  # A < 0: the dual clip bounds it
    np.testing.assert_allclose(value, (2 * 3 + 2 * 1 + 2 * 3) / 3, rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.0, 2 / 3, 0.0]], rtol=1e-6)
    value, grad = run(jnp.array([-2.0]), None)  # unbounded without it: +inf
    assert value == np.inf


def test_sharded_mean_equals_single_device():
    devices = jax.devices()
    assert len(devices) == 8
    mesh = Mesh(np.array(devices), ("d",))
    b, t = 16, 9
    d = rl_batch(seed=13, b=b, t=t)
    lengths = np.repeat(np.arange(8) + 1, 2)  # very unequal per device
    lengths[3] = 0
    mask = jnp.asarray(np.arange(t)[None, :] < lengths[:, None])
    lp, old, adv, ref = f32(d["lp"], d["old"], d["adv_seq"], d["ref"])
    aggregations = ("token_mean", "sequence_mean_token_mean")

    def losses(lp, old, adv, ref, mask, axis_name):
        return {
            a: L.policy_gradient_loss(
                lp,
                old,
                adv,
                where=mask,
                ref_log_probs=ref,
                aggregation=a,
                kl_coef=0.05,
                dual_clip=3.0,
                axis_name=axis_name,
            )
            for a in aggregations
        }

    def total(out):
        return sum(out[a][0] for a in aggregations)

    spec = (P("d"),) * 5

    @jax.jit
    def sharded(lp, old, adv, ref, mask):
        split = jax.shard_map(
            functools.partial(losses, axis_name="d"),
            mesh=mesh,
            in_specs=spec,
            out_specs=P(),
        )
        means_of_means = jax.shard_map(
            lambda *a: jax.lax.pmean(
                jnp.stack([losses(*a, None)[k][0] for k in aggregations]), "d"
            ),
            mesh=mesh,
            in_specs=spec,
            out_specs=P(),
        )
        out, grad = jax.value_and_grad(
            lambda x: (
                total(split(x, old, adv, ref, mask)),
                split(x, old, adv, ref, mask),
            ),
            has_aux=True,
        )(lp)
        return out[1], grad, means_of_means(lp, old, adv, ref, mask)

    @jax.jit
    def single(lp, old, adv, ref, mask):
        out = losses(lp, old, adv, ref, mask, None)
        return out, jax.grad(lambda x: total(losses(x, old, adv, ref, mask, None)))(lp)

    got, g_split, wrong = sharded(lp, old, adv, ref, mask)
    want, g_single = single(lp, old, adv, ref, mask)
    for i, a in enumerate(aggregations):
        np.testing.assert_allclose(got[a][0], want[a][0], rtol=1e-6, err_msg=a)
        for k in want[a][1]:
            np.testing.assert_allclose(
                got[a][1][k], want[a][1][k], rtol=1e-6, err_msg=k
            )
        # a mean of per-device means is measurably different
        assert abs(float(wrong[i]) - float(want[a][0])) > 1e-3
    np.testing.assert_allclose(g_split, g_single, rtol=1e-5, atol=1e-8)


def test_policy_gradient_under_transforms_and_dtypes():
    d = rl_batch(seed=17)
    lp, old, adv, ref = f32(d["lp"], d["old"], d["adv_tok"], d["ref"])
    mask = jnp.asarray(d["mask"])

    def f(lp, old, adv, ref, mask):
        return L.policy_gradient_loss(
            lp,
            old,
            adv,
            where=mask,
            ref_log_probs=ref,
            kl_coef=0.1,
            aggregation="sequence_mean_token_mean",
        )[0]

    eager = f(lp, old, adv, ref, mask)  # (the jitted transforms below check jit)
    # vmap over a stack of two batches
    stack = [jnp.stack([x, x[::-1]]) for x in (lp, old, adv, ref, mask)]
    batched = jax.jit(jax.vmap(f))(*stack)
    np.testing.assert_allclose(batched[0], eager, rtol=1e-6)
    np.testing.assert_allclose(batched[1], f(*(x[1] for x in stack)), rtol=1e-6)

    # jvp equals the gradient along the tangent
    @jax.jit
    def derivatives(lp, tangent):
        g = jax.grad(f)(lp, old, adv, ref, mask)
        _, dot = jax.jvp(lambda x: f(x, old, adv, ref, mask), (lp,), (tangent,))
        return g, dot

    tangent = jnp.asarray(np.random.default_rng(0).standard_normal((B, T)), jnp.float32)
    g, dot = derivatives(lp, tangent)
    np.testing.assert_allclose(dot, jnp.sum(g * tangent), rtol=1e-5)
    # bfloat16 in, float32 out, the float32 value of the rounded inputs
    half = [x.astype(jnp.bfloat16) for x in (lp, old, adv, ref)]
    value, gh = jax.jit(jax.value_and_grad(f))(*half, mask)
    assert value.dtype == jnp.float32
    np.testing.assert_allclose(
        value, f(*(x.astype(jnp.float32) for x in half), mask), rtol=1e-6
    )
    assert gh.dtype == jnp.bfloat16 and np.all(np.isfinite(np.float32(gh)))
    np.testing.assert_allclose(np.float32(gh), g, rtol=0.05, atol=1e-3)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            _bad(old_log_probs=jnp.zeros((2, 4))),
            r"log_probs \(2, 3\).*old_log_probs \(2, 4\)",
        ),
        (
            _bad(advantages=jnp.zeros(3)),
            r"advantages has shape \(3,\).*\(2,\).*\(2, 3\)",
        ),
        (_bad(advantages=jnp.zeros((3, 2))), r"advantages has shape \(3, 2\)"),
        (_bad(where=jnp.ones(2, bool)), r"where has shape \(2,\).*\(2, 3\)"),
        (_bad(where=jnp.ones((2, 1), bool)), r"where has shape \(2, 1\)"),
        (_bad(ref_log_probs=jnp.zeros((3, 2))), r"ref_log_probs \(3, 2\)"),
        (_bad(entropy=jnp.zeros(3)), r"entropy \(3,\)"),
        (
            _bad(
                log_probs=jnp.zeros(()),
                old_log_probs=jnp.zeros(()),
                advantages=jnp.zeros(()),
                where=None,
            ),
            "token axis",
        ),
        (_bad(aggregation="sequence_mean"), r"aggregation must be one of"),
        (_bad(importance_level="tokens"), r"importance_level must be one of"),
        (_bad(kl_estimator="k4"), r"kl_estimator must be one of"),
        (_bad(dual_clip=1.0), r"dual_clip must be > 1"),
        (_bad(clip_epsilon=-0.1), r"clip_epsilon must be >= 0"),
    ],
)
def test_policy_gradient_bad_input(call, match):
    with pytest.raises(
        ValueError, match="jaxdiv.losses.policy_gradient_loss: " + ".*" + match
    ):
        call()


def test_policy_gradient_bad_types():
    with pytest.raises(TypeError, match="jaxdiv.losses.policy_gradient_loss"):
        _bad(where=jnp.ones((2, 3)))()
    with pytest.raises(TypeError, match="jaxdiv.losses.policy_gradient_loss"):
        _bad(log_probs=jnp.zeros((2, 3), int))()


# --------------------------------------------------------------------------
# group advantages and sequence log-probabilities


def test_group_advantages_match_numpy():
    rng = np.random.default_rng(19)
    rewards = rng.standard_normal(12).astype(np.float32)
    rewards[8:] = 0.5  # a group with equal rewards
    got = L.group_advantages(jnp.asarray(rewards), 4)
    groups = np.float64(rewards).reshape(3, 4)
    centred = groups - groups.mean(1, keepdims=True)
    expected = centred / (groups.std(1, ddof=1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(got, expected.ravel(), rtol=1e-5, atol=1e-6)
    assert not np.any(got[8:])
    got = L.group_advantages(jnp.asarray(rewards), 4, normalize_std=False)
    np.testing.assert_allclose(got, centred.ravel(), rtol=1e-5, atol=1e-6)
    assert not np.any(L.group_advantages(jnp.asarray(rewards), 1))  # G = 1
    # jit, vmap, bfloat16
    f = jax.jit(functools.partial(L.group_advantages, group_size=4))
    np.testing.assert_allclose(
        jax.vmap(f)(jnp.stack([rewards, rewards]))[1],
        f(jnp.asarray(rewards)),
        rtol=1e-6,
    )
    assert (
        L.group_advantages(jnp.asarray(rewards, jnp.bfloat16), 4).dtype == jnp.float32
    )


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e30, 1e-30])
def test_group_advantages_jacobian_at_large_rewards(scale):
    """The Jacobian against its float64 closed form: with c = r - mean and
    sigma = sqrt(sum c^2 / (G - 1)), dA_i / dr_j = (d_ij - 1/G) / (sigma + eps)
    - c_i c_j / ((G - 1) sigma (sigma + eps)^2). The normaliser max |c| is a
    constant for the derivative: the max's own rule divided by the count of
    entries equal to it, 0 (an inf Jacobian) where XLA rounded |c| apart."""
    base = np.array([-2.32503, -0.218792, -1.24591, -0.732267, -0.544259, -0.3163])
    r = np.float32(base * scale)
    eps = 0.0 if scale < 1e-6 else 1e-6
    jac = jax.jit(jax.jacobian(lambda r: L.group_advantages(r, 3, eps=eps)))(r)
    g = np.float64(r).reshape(2, 3)
    c = g - g.mean(1, keepdims=True)
    sigma = np.sqrt(np.sum(c * c, 1, keepdims=True) / 2)
    want = np.zeros((6, 6))
    for k in range(2):
        s, ck = sigma[k, 0], c[k]
        block = (np.eye(3) - 1 / 3) / (s + eps)
        block -= np.outer(ck, ck) / (2 * s * (s + eps) ** 2)
        want[3 * k : 3 * k + 3, 3 * k : 3 * k + 3] = block
    assert np.all(np.isfinite(jac))
    top = np.max(np.abs(want))
    np.testing.assert_allclose(jac, want, rtol=1e-4, atol=1e-5 * top)


def test_group_advantages_bad_input():
    r = jnp.zeros(6)
    with pytest.raises(
        ValueError, match=r"jaxdiv.losses.group_advantages: group_size 4.*\(6,\)"
    ):
        L.group_advantages(r, 4)
    with pytest.raises(ValueError, match=r"jaxdiv.losses.group_advantages: .*\(2, 3\)"):
        L.group_advantages(jnp.zeros((2, 3)), 3)
    with pytest.raises(TypeError, match="jaxdiv.losses.group_advantages"):
        L.group_advantages(r, 2.0)
    with pytest.raises(TypeError, match="jaxdiv.losses.group_advantages"):
        L.group_advantages(jnp.zeros(6, int), 3)


def test_sequence_log_probs():
    d = rl_batch(seed=23)
    kept = d["mask"]
    lp = np.array(d["lp"])
    lp[~kept] = np.nan
    n = kept.sum(-1)
    sums = np.where(kept, d["lp"], 0.0).sum(-1)
    x = jnp.asarray(lp, jnp.float32)
    mask = jnp.asarray(kept)
    np.testing.assert_allclose(L.sequence_log_probs(x, mask), sums, rtol=1e-6)
    avg = L.sequence_log_probs(x, mask, average=True)
    np.testing.assert_allclose(avg, sums / np.maximum(n, 1), rtol=1e-6)
    assert avg[1] == 0.0  # the padding row
    g = jax.grad(lambda x: jnp.sum(L.sequence_log_probs(x, mask, average=True)))(x)
    np.testing.assert_allclose(g, kept / np.maximum(n, 1)[:, None], rtol=1e-6)
    full = L.sequence_log_probs(jnp.asarray(d["lp"], jnp.bfloat16), None)
    assert full.dtype == jnp.float32 and full.shape == (B,)
    with pytest.raises(
        ValueError, match=r"jaxdiv.losses.sequence_log_probs: where has shape \(6,\)"
    ):
        L.sequence_log_probs(x, mask[:, 0])
