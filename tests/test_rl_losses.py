"""RL fine-tuning losses: policy gradient (PPO, GRPO, DAPO, Dr. GRPO, GSPO),
group advantages, sequence log-probabilities and the preference losses (DPO
and its variants, SimPO, ORPO).

Every value and gradient is checked against a float64 NumPy implementation
written here from each paper's formula (gradients by central differences of
that implementation), not from the code under test.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

import jaxdiv.losses as L

B, T = 6, 7


# --------------------------------------------------------------------------
# float64 NumPy references, from the papers


def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def np_kl(lp, ref, estimator):
    """Schulman (2020): x ~ pi, log r = log pi_ref(x) - log pi(x)."""
    x = ref - lp
    return {"k1": -x, "k2": 0.5 * x**2, "k3": np.expm1(x) - x}[estimator]


def np_policy_gradient(
    lp,
    old,
    adv,
    mask,
    *,
    ref=None,
    kl_coef=0.0,
    estimator="k3",
    eps_lo=0.2,
    eps_hi=None,
    dual=None,
    level="token",
    aggregation="token_mean",
    max_tokens=None,
    entropy=None,
    entropy_coef=0.0,
    sequence_point=None,
):
    """Loss (to minimise) of the clipped surrogate.

    PPO (Schulman et al., 2017): E[min(r A, clip(r, 1 - e, 1 + e) A)];
    DAPO (Yu et al., 2025): clip(r, 1 - e_low, 1 + e_high), token-level mean;
    dual clip (Ye et al., 2020): max(that, c A) for A < 0;
    GRPO (Shao et al., 2024): 1/G sum_i 1/|o_i| sum_t [surrogate - beta KL];
    Dr. GRPO (Liu et al., 2025): 1/G sum_i sum_t (/ MAX_TOKENS as coded);
    GSPO (Zheng et al., 2025): s_i = (pi/pi_old)(y_i)^(1/|y_i|); GSPO-token
    s_it = sg[s_i] pi(y_it) / sg[pi(y_it)] (``sequence_point`` is the sg
    point; None means the value's own point, i.e. plain GSPO).
    """
    lp, old = np.float64(lp), np.float64(old)
    adv = np.float64(adv)
    if adv.ndim == lp.ndim - 1:
        adv = np.repeat(adv[:, None], lp.shape[-1], axis=1)
    m = np.asarray(mask, np.float64)
    n = m.sum(-1)
    eps_hi = eps_lo if eps_hi is None else eps_hi
    if level == "token":
        r = np.exp(lp - old)
    else:
        point = lp if sequence_point is None else np.float64(sequence_point)
        s = np.exp((m * (point - old)).sum(-1) / np.maximum(n, 1))
        r = s[:, None] * np.exp(lp - point)
    objective = np.minimum(r * adv, np.clip(r, 1 - eps_lo, 1 + eps_hi) * adv)
    if dual is not None:
        objective = np.where(adv < 0, np.maximum(objective, dual * adv), objective)
    per_token = -objective
    if ref is not None:
        per_token = per_token + kl_coef * np_kl(lp, np.float64(ref), estimator)
    if entropy is not None:
        per_token = per_token - entropy_coef * np.float64(entropy)
    per_token = per_token * m
    keep = n > 0
    if aggregation == "token_mean":
        return per_token.sum() / m.sum()
    sums = per_token.sum(-1)
    if aggregation == "sequence_mean_token_mean":
        seq = sums / np.maximum(n, 1)
    elif aggregation == "sequence_mean_token_sum":
        seq = sums
    else:
        seq = sums / (lp.shape[-1] if max_tokens is None else max_tokens)
    return seq[keep].mean()


def numeric_grad(f, x, h=1e-6):
    x = np.array(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


def rl_batch(seed=0, spread=0.4, b=B, t=T):
    """log-probs, old, ref, per-sequence and per-token advantages, entropy,
    and a mask with unequal lengths and one fully masked (padding) row."""
    rng = np.random.default_rng(seed)
    lp = np.log(rng.uniform(0.05, 0.95, (b, t)))
    old = lp - spread * rng.standard_normal((b, t))
    ref = lp - 0.5 * rng.standard_normal((b, t))
    adv_seq = rng.standard_normal(b)
    adv_tok = rng.standard_normal((b, t))
    entropy = rng.uniform(0.1, 2.0, (b, t))
    lengths = rng.integers(1, t + 1, b)
    lengths[1] = 0
    mask = np.arange(t)[None, :] < lengths[:, None]
    return dict(
        lp=lp,
        old=old,
        ref=ref,
        adv_seq=adv_seq,
        adv_tok=adv_tok,
        entropy=entropy,
        mask=mask,
    )


def f32(*xs):
    return [jnp.asarray(x, jnp.float32) for x in xs]


# name: (per-token advantages?, jaxdiv options, reference options)
CONFIGS = {
    "ppo": (True, {}, {}),
    "grpo_k3": (
        False,
        dict(kl_coef=0.04, aggregation="sequence_mean_token_mean"),
        dict(kl_coef=0.04, aggregation="sequence_mean_token_mean"),
    ),
    "dapo": (
        False,
        dict(clip_epsilon_high=0.28, clip_epsilon=0.2),
        dict(eps_hi=0.28, eps_lo=0.2),
    ),
    "dr_grpo_sum": (
        False,
        dict(aggregation="sequence_mean_token_sum", kl_coef=0.1, kl_estimator="k1"),
        dict(aggregation="sequence_mean_token_sum", kl_coef=0.1, estimator="k1"),
    ),
    "dr_grpo_norm": (
        False,
        dict(aggregation="sequence_mean_token_sum_norm", max_tokens=16),
        dict(aggregation="sequence_mean_token_sum_norm", max_tokens=16),
    ),
    "dr_grpo_norm_T": (
        True,
        dict(aggregation="sequence_mean_token_sum_norm"),
        dict(aggregation="sequence_mean_token_sum_norm"),
    ),
    "gspo": (
        False,
        dict(
            importance_level="sequence",
            aggregation="sequence_mean_token_mean",
            clip_epsilon=0.03,
        ),
        dict(level="sequence", aggregation="sequence_mean_token_mean", eps_lo=0.03),
    ),
    "gspo_token_mean": (
        False,
        dict(
            importance_level="sequence",
            clip_epsilon=0.03,
            kl_coef=0.2,
            kl_estimator="k2",
        ),
        dict(level="sequence", eps_lo=0.03, kl_coef=0.2, estimator="k2"),
    ),
    "dual_clip_entropy": (
        True,
        dict(dual_clip=3.0, entropy_coef=0.01, clip_epsilon_high=0.3),
        dict(dual=3.0, entropy_coef=0.01, eps_hi=0.3),
    ),
}


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


def _bad(**kw):
    d = dict(
        log_probs=jnp.zeros((2, 3)),
        old_log_probs=jnp.zeros((2, 3)),
        advantages=jnp.zeros(2),
        where=jnp.ones((2, 3), bool),
    )
    d.update(kw)
    lp, old, adv = d.pop("log_probs"), d.pop("old_log_probs"), d.pop("advantages")
    return lambda: L.policy_gradient_loss(lp, old, adv, **d)


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


# --------------------------------------------------------------------------
# preference losses


def np_dpo(c, r, rc, rr, beta, loss_type, eps):
    """DPO (Rafailov et al., 2023, eq. 7); cDPO (Mitchell, 2023): labels
    flipped with probability eps; IPO (Azar et al., 2023, eq. 17):
    (h - 1/(2 tau))^2; SLiC hinge (Zhao et al., 2023): max(0, delta - h) with
    delta = 1 on beta * h; robust DPO (Chowdhury et al., 2024, eq. 8)."""
    delta = (c - rc) - (r - rr)
    h = beta * delta
    dpo = -np_log_sigmoid(h)
    flipped = -np_log_sigmoid(-h)
    if loss_type == "sigmoid":
        return (1 - eps) * dpo + eps * flipped
    if loss_type == "robust":
        return ((1 - eps) * dpo - eps * flipped) / (1 - 2 * eps)
    if loss_type == "ipo":
        return (delta - 1 / (2 * beta)) ** 2
    return np.maximum(0.0, 1 - h)


def np_simpo(c, r, beta, gamma):
    """Meng et al. (2024), eq. 6, on length-averaged log-probabilities."""
    return -np_log_sigmoid(beta * c - beta * r - gamma)


def np_orpo(c, r, lam, include_nll=True):
    """Hong et al. (2024), eqs. 4-7: odds(y) = P / (1 - P), P the
    length-normalised likelihood; L = L_SFT + lam * L_OR."""
    p_c, p_r = np.exp(c), np.exp(r)
    odds_ratio = np.log((p_c / (1 - p_c)) / (p_r / (1 - p_r)))
    l_or = -np_log_sigmoid(odds_ratio)
    return (-c if include_nll else 0.0) + lam * l_or


def preference_batch(seed=29, n=8, scale=3.0):
    rng = np.random.default_rng(seed)
    return [
        np.float64(np.float32(-rng.uniform(1, 20, n) + scale * rng.standard_normal(n)))
        for _ in range(4)
    ]


DPO_CASES = {  # (loss_type, label_smoothing): beta
    ("sigmoid", 0.0): 0.1,
    ("sigmoid", 0.1): 0.1,
    ("ipo", 0.0): 0.1,
    ("hinge", 0.0): 0.5,
    ("robust", 0.2): 0.1,
}


def _summed(f, argnums):
    """The loss and the gradient of its sum, with the metrics."""

    def total(*args):
        loss, metrics = f(*args)
        return jnp.sum(loss), (loss, metrics)

    def run(*args):
        (_, (loss, metrics)), grads = jax.value_and_grad(
            total, argnums=argnums, has_aux=True
        )(*args)
        return loss, metrics, grads

    return run


def _check_grads(grads, f_np, args, argnums, rtol=1e-4):
    """Gradients of the summed loss against central differences of f_np."""
    for k, g in zip(argnums, grads, strict=True):

        def partial(x, k=k):
            a = list(args)
            a[k] = x
            return np.sum(f_np(*a))

        np.testing.assert_allclose(
            g, numeric_grad(partial, args[k]), rtol=rtol, atol=1e-6, err_msg=str(k)
        )


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
