"""NumPy float64 references of the policy and preference losses.

The papers' formulas are written afresh here, independently of jaxdiv.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

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
