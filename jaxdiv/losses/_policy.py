"""Policy-gradient losses on per-token log-probabilities (PPO, GRPO and kin).

One clipped surrogate covers the published variants; they differ in where
the importance ratio lives (token or sequence), how it is clipped, and how
the per-token losses are normalised (``aggregation``). The KL to a
reference policy goes through :func:`jaxdiv.losses.kl_penalty`, the one home
of the k1/k2/k3 estimators, and every mean over tokens or sequences goes
through :func:`jaxdiv.losses.masked_mean`, so with ``axis_name`` it is exact
across devices.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks
from .._core.kl_estimators import ESTIMATORS
from .._core.primitives import div
from .._core.types import AxisName
from ._common import jitted, python_number
from ._distillation import kl_penalty
from ._reductions import masked_mean

IMPORTANCE_LEVELS = ("token", "sequence")
AGGREGATIONS = (
    "token_mean",
    "sequence_mean_token_mean",
    "sequence_mean_token_sum",
    "sequence_mean_token_sum_norm",
)
_PG = "losses.policy_gradient_loss"
_GA = "losses.group_advantages"
_SL = "losses.sequence_log_probs"


def policy_gradient_loss(
    log_probs: ArrayLike,
    old_log_probs: ArrayLike,
    advantages: ArrayLike,
    *,
    where: ArrayLike | None,
    ref_log_probs: ArrayLike | None = None,
    kl_coef: ArrayLike = 0.0,
    kl_estimator: str = "k3",
    clip_epsilon: ArrayLike = 0.2,
    clip_epsilon_high: ArrayLike | None = None,
    dual_clip: ArrayLike | None = None,
    importance_level: str = "token",
    aggregation: str = "token_mean",
    max_tokens: ArrayLike | None = None,
    entropy: ArrayLike | None = None,
    entropy_coef: ArrayLike = 0.0,
    axis_name: AxisName = None,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    r"""Clipped policy-gradient surrogate (PPO, GRPO, DAPO, Dr. GRPO, GSPO).

    For sequence :math:`i` and kept token :math:`t`, with the importance
    ratio :math:`r_{it}` and advantage :math:`A_{it}`, the per-token loss is

    .. math::
       \ell_{it} = -\min\big(r_{it} A_{it},\;
         \mathrm{clip}(r_{it}, 1 - \epsilon_{lo}, 1 + \epsilon_{hi}) A_{it}\big)
         + \beta\, k(\pi_\theta, \pi_{ref})_{it} - c_H H_{it},

    and with ``dual_clip`` :math:`c > 1`, for :math:`A_{it} < 0` the
    surrogate is also bounded, :math:`\ell^{clip}_{it} \to
    \min(\ell^{clip}_{it}, -c A_{it})` (Ye et al., 2020). The ratio is

    - ``importance_level="token"`` (PPO, GRPO, DAPO):
      :math:`r_{it} = \exp(\log\pi_\theta - \log\pi_{old})_{it}`;
    - ``importance_level="sequence"`` (GSPO): the length-normalised sequence
      ratio :math:`s_i = \exp\big(\frac{1}{|y_i|} \sum_t (\log\pi_\theta -
      \log\pi_{old})_{it}\big)`, in GSPO-token form
      :math:`r_{it} = \mathrm{sg}[s_i]\, \pi_\theta(y_{it}) /
      \mathrm{sg}[\pi_\theta(y_{it})]`: the value of :math:`s_i` on every
      token, the gradient :math:`s_i \nabla \log\pi_\theta(y_{it})`. With
      per-sequence advantages this is exactly GSPO's objective, value and
      gradient, for every ``aggregation``; per-token advantages give
      GSPO-token.

    :math:`k` is ``kl_penalty(log_probs, ref_log_probs,
    estimator=kl_estimator)``, per token (GRPO's k3 by default), and
    :math:`H` the optional per-token ``entropy`` (a bonus when
    ``entropy_coef > 0``). The per-token losses :math:`\ell_{it}` of the
    :math:`n_i` kept tokens of each sequence are combined by ``aggregation``:

    .. math::
       \texttt{token\_mean}: \frac{\sum_{i,t} \ell_{it}}{\sum_i n_i}, \quad
       \texttt{sequence\_mean\_token\_mean}: \frac{1}{B}\sum_i
         \frac{1}{n_i}\sum_t \ell_{it}, \\
       \texttt{sequence\_mean\_token\_sum}: \frac{1}{B}\sum_i \sum_t
         \ell_{it}, \quad
       \texttt{sequence\_mean\_token\_sum\_norm}: \frac{1}{B}\sum_i
         \frac{1}{L}\sum_t \ell_{it}.

    - ``"token_mean"``: DAPO (Yu et al., 2025; every token weighs the same,
      long responses are not down-weighted); also PPO as usually run on
      language models.
    - ``"sequence_mean_token_mean"``: GRPO as written in DeepSeekMath (Shao et
      al., 2024) and GSPO (Zheng et al., 2025).
    - ``"sequence_mean_token_sum"``: Dr. GRPO's objective as written (Liu
      et al., 2025, no :math:`1/|o_i|`).
    - ``"sequence_mean_token_sum_norm"``: Dr. GRPO as implemented: the token
      sum divided by a constant :math:`L`, ``max_tokens`` (the generation
      budget), by default ``T``, the padded length of ``log_probs``; pass
      the budget so the normaliser stays constant through training.

    :math:`B` counts the sequences with at least one kept token: a sequence
    whose mask is all ``False`` is padding, contributes 0 with zero
    gradient and is left out of every count. With ``axis_name`` (inside
    ``shard_map``, sequences split across the devices of that mesh axis)
    every sum and count is reduced across devices before the division
    (:func:`masked_mean`), so the loss is the single-device loss of the
    whole batch, never a mean of per-device means. A sequence must not be
    split across devices for the sequence aggregations or the sequence ratio.

    Conventions: gradients flow into ``log_probs`` (and ``entropy``) only;
    ``old_log_probs``, ``ref_log_probs`` and ``advantages`` are constants of
    the objective (``stop_gradient``), so ``old_log_probs=log_probs`` is the
    on-policy step (ratio 1, the gradient of the REINFORCE loss). Where the
    clip (or dual clip) is active the loss is the constant bound and the
    gradient is exactly 0 (also when the ratio overflows). Masked tokens
    change neither value nor gradient, whatever they hold (nan included).

    Args:
      log_probs: :math:`\log\pi_\theta` of the sampled tokens, shape
        ``[..., T]`` (``[B, T]``), e.g. from
        ``jaxdiv.fused.linear_log_probs``.
      old_log_probs: :math:`\log\pi_{old}` of the same tokens (the policy
        that sampled them), shape ``[..., T]``.
      advantages: per sequence ``[...]`` (GRPO, from
        :func:`group_advantages`) or per token ``[..., T]`` (PPO with GAE).
      where: boolean mask ``[..., T]`` of the response tokens; ``None``
        keeps every token.
      ref_log_probs: :math:`\log\pi_{ref}` of the same tokens, ``[..., T]``,
        or ``None`` for no KL term.
      kl_coef: :math:`\beta \geq 0`, the weight of the KL term.
      kl_estimator: ``"k1"``, ``"k2"`` or ``"k3"`` (see ``kl_penalty``).
      clip_epsilon: :math:`\epsilon_{lo} \geq 0`, and :math:`\epsilon_{hi}`
        too unless ``clip_epsilon_high`` is given (PPO: 0.2; GSPO uses
        about 3e-4).
      clip_epsilon_high: :math:`\epsilon_{hi} \geq 0`, DAPO's decoupled upper
        clip ("clip-higher", 0.28 in the paper); ``None`` means
        ``clip_epsilon``.
      dual_clip: :math:`c > 1` (3 in Ye et al.), or ``None`` for no dual clip.
      importance_level: ``"token"`` or ``"sequence"``.
      aggregation: one of the four above.
      max_tokens: :math:`L > 0` of ``"sequence_mean_token_sum_norm"``;
        ``None`` means ``T``. Ignored by the other aggregations.
      entropy: optional per-token entropies of :math:`\pi_\theta`,
        ``[..., T]`` (``linear_log_probs(..., return_entropy=True)``); logged
        as ``metrics["entropy"]`` and, with ``entropy_coef``, a bonus.
      entropy_coef: :math:`c_H`, the weight of the entropy bonus.
      axis_name: mesh axis (or axes) across which the sequences are split
        inside ``shard_map``, or ``None``.

    Returns:
      ``(loss, metrics)``: the scalar loss (to minimise) and a dict of
      scalars, token means over the kept tokens (exact across devices too):
      ``"policy_loss"`` (the surrogate alone, aggregated as the loss),
      ``"clip_fraction"`` (tokens whose gradient the clip removed:
      :math:`r > 1 + \epsilon_{hi}` with :math:`A > 0`, or :math:`r < 1 -
      \epsilon_{lo}` with :math:`A < 0`), ``"clip_fraction_low"``,
      ``"clip_fraction_high"``, ``"approx_kl"`` (k3 estimate of
      :math:`D_{KL}(\pi_{old} \| \pi_\theta)` from the token ratios, never
      negative), ``"ratio_mean"`` (of :math:`r_{it}`), plus
      ``"dual_clip_fraction"`` with ``dual_clip``, ``"ref_kl"`` (the mean
      estimate :math:`k`) with ``ref_log_probs`` and ``"entropy"`` with
      ``entropy``. float32 for 16-bit input.

    Raises:
      TypeError: non-floating inputs or a non-boolean ``where``.
      ValueError: shapes that differ (advantages neither ``[...]`` nor
        ``[..., T]``), an unknown ``kl_estimator``, ``importance_level`` or
        ``aggregation``, or an option out of range.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> lp = jnp.log(jnp.array([[0.5, 0.4, 0.9], [0.2, 0.3, 0.6]]))
      >>> old = jnp.log(jnp.array([[0.4, 0.4, 0.9], [0.3, 0.3, 0.5]]))
      >>> adv = jnp.array([1.0, -1.0])  # one per sequence (GRPO)
      >>> mask = jnp.array([[True, True, True], [True, True, False]])
      >>> loss, metrics = jaxdiv.losses.policy_gradient_loss(
      ...     lp, old, adv, where=mask)
      >>> round(float(loss), 4), round(float(metrics["clip_fraction"]), 4)
      (-0.28, 0.4)
      >>> loss, _ = jaxdiv.losses.policy_gradient_loss(
      ...     lp, old, adv, where=mask, aggregation="sequence_mean_token_mean")
      >>> round(float(loss), 4)
      -0.0833

    References:
      Schulman et al., `Proximal Policy Optimization Algorithms
      <https://arxiv.org/abs/1707.06347>`_, 2017; Ye et al., `Mastering
      Complex Control in MOBA Games with Deep Reinforcement Learning
      <https://arxiv.org/abs/1912.09729>`_, 2020; Shao et al.,
      `DeepSeekMath <https://arxiv.org/abs/2402.03300>`_, 2024; Yu et al.,
      `DAPO <https://arxiv.org/abs/2503.14476>`_, 2025; Liu et al.,
      `Understanding R1-Zero-Like Training: A Critical Perspective
      <https://arxiv.org/abs/2503.20783>`_, 2025; Zheng et al., `Group
      Sequence Policy Optimization <https://arxiv.org/abs/2507.18071>`_, 2025.
    """
    checks.choice(_PG, "kl_estimator", kl_estimator, ESTIMATORS)
    checks.choice(_PG, "importance_level", importance_level, IMPORTANCE_LEVELS)
    checks.choice(_PG, "aggregation", aggregation, AGGREGATIONS)
    if clip_epsilon_high is None:
        clip_epsilon_high = clip_epsilon
    for argname, value, ok, rule in (
        ("clip_epsilon", clip_epsilon, lambda x: x >= 0, ">= 0"),
        ("clip_epsilon_high", clip_epsilon_high, lambda x: x >= 0, ">= 0"),
        ("dual_clip", dual_clip, lambda x: x > 1, "> 1"),
        ("kl_coef", kl_coef, lambda x: x >= 0, ">= 0"),
        ("max_tokens", max_tokens, lambda x: x > 0, "> 0"),
    ):
        if python_number(value) and not ok(value):
            raise ValueError(f"jaxdiv.{_PG}: {argname} must be {rule}, got {value}.")
    return _policy_gradient(
        log_probs,
        old_log_probs,
        advantages,
        where,
        ref_log_probs,
        entropy,
        kl_coef,
        clip_epsilon,
        clip_epsilon_high,
        dual_clip,
        max_tokens,
        entropy_coef,
        kl_estimator,
        importance_level,
        aggregation,
        axis_name,
    )


def _token_arrays(log_probs, old_log_probs, advantages, ref_log_probs, entropy):
    """Static checks of the per-token inputs; advantages broadcast to tokens."""
    arrays = {"log_probs": log_probs, "old_log_probs": old_log_probs}
    if ref_log_probs is not None:
        arrays["ref_log_probs"] = ref_log_probs
    if entropy is not None:
        arrays["entropy"] = entropy
    arrays["advantages"] = advantages
    xs = dict(zip(arrays, checks.floatings(_PG, **arrays), strict=True))
    lp = xs["log_probs"]
    if lp.ndim == 0:
        raise ValueError(
            f"jaxdiv.{_PG}: log_probs must have a token axis, shape [..., T]; "
            "got a scalar."
        )
    shapes = {k: v.shape for k, v in xs.items() if k != "advantages"}
    if len(set(shapes.values())) > 1:
        desc = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(
            f"jaxdiv.{_PG}: the per-token inputs must have the same shape "
            f"[..., T], got {desc}."
        )
    adv = xs["advantages"]
    if adv.shape == lp.shape[:-1]:
        xs["advantages"] = jnp.broadcast_to(adv[..., None], lp.shape)
    elif adv.shape != lp.shape:
        raise ValueError(
            f"jaxdiv.{_PG}: advantages has shape {adv.shape}; with log_probs of "
            f"shape {lp.shape} it must be per sequence {lp.shape[:-1]} or per "
            f"token {lp.shape}."
        )
    return xs


@jitted("kl_estimator", "importance_level", "aggregation", "axis_name")
def _policy_gradient(
    log_probs,
    old_log_probs,
    advantages,
    where,
    ref_log_probs,
    entropy,
    kl_coef,
    clip_epsilon,
    clip_epsilon_high,
    dual_clip,
    max_tokens,
    entropy_coef,
    kl_estimator,
    importance_level,
    aggregation,
    axis_name,
):
    xs = _token_arrays(log_probs, old_log_probs, advantages, ref_log_probs, entropy)
    lp = xs["log_probs"]
    dtype, shape = lp.dtype, lp.shape
    where = _sequence_mask(_PG, where, shape)
    kept = jnp.ones(shape, bool) if where is None else where

    def clean(x):  # masked entries: 0, whatever they held, with zero gradient
        return jnp.where(kept, x, jnp.zeros((), dtype))

    lp = clean(lp)
    old = jax.lax.stop_gradient(clean(xs["old_log_probs"]))
    adv = jax.lax.stop_gradient(clean(xs["advantages"]))
    eps_lo = jnp.asarray(clip_epsilon, dtype)
    eps_hi = jnp.asarray(clip_epsilon_high, dtype)
    count = jnp.sum(kept, axis=-1)  # n_i, kept tokens per sequence

    token_log_ratio = lp - old
    if importance_level == "token":
        log_ratio = token_log_ratio
    else:  # GSPO-token: value s_i on every token, gradient s_i * d log pi_t
        seq = jnp.sum(token_log_ratio, axis=-1) / jnp.maximum(count, 1).astype(dtype)
        seq = jax.lax.stop_gradient(seq)[..., None]
        log_ratio = seq + (lp - jax.lax.stop_gradient(lp))
    ratio_value = jnp.exp(jax.lax.stop_gradient(log_ratio))

    positive, negative = adv > 0, adv < 0
    clip_high = kept & positive & (ratio_value > 1 + eps_hi)
    clip_low = kept & negative & (ratio_value < 1 - eps_lo)
    bound = jnp.where(positive, 1 + eps_hi, 1 - eps_lo)
    constant = clip_high | clip_low
    if dual_clip is not None:
        c = jnp.asarray(dual_clip, dtype)
        dual = kept & negative & (ratio_value > c)
        bound = jnp.where(dual, c, bound)
        constant = constant | dual
    # double where: the ratio is formed only where it is the loss, so an
    # overflowing ratio in a clipped token gives no inf * 0 in the gradient
    ratio = jnp.exp(jnp.where(constant, jnp.zeros((), dtype), log_ratio))
    surrogate = -adv * jnp.where(constant, bound, ratio)

    loss_tokens = surrogate
    metrics = {}
    if ref_log_probs is not None:
        ref = jax.lax.stop_gradient(clean(xs["ref_log_probs"]))
        kl = clean(kl_penalty(lp, ref, estimator=kl_estimator))
        loss_tokens = loss_tokens + jnp.asarray(kl_coef, dtype) * kl
    if entropy is not None:
        ent = clean(xs["entropy"])
        loss_tokens = loss_tokens - jnp.asarray(entropy_coef, dtype) * ent

    def aggregate(values):
        if aggregation == "token_mean":
            return masked_mean(values, where, axis_name=axis_name)
        per_sequence = jnp.sum(values, axis=-1)
        if aggregation == "sequence_mean_token_mean":
            per_sequence = per_sequence / jnp.maximum(count, 1).astype(dtype)
        elif aggregation == "sequence_mean_token_sum_norm":
            norm = shape[-1] if max_tokens is None else max_tokens
            per_sequence = per_sequence / jnp.asarray(norm, dtype)
        return masked_mean(per_sequence, count > 0, axis_name=axis_name)

    def token_mean(values):
        return masked_mean(values.astype(dtype), where, axis_name=axis_name)

    loss = aggregate(clean(loss_tokens))
    metrics["policy_loss"] = aggregate(clean(surrogate))
    metrics["clip_fraction"] = token_mean(clip_low | clip_high)
    metrics["clip_fraction_low"] = token_mean(clip_low)
    metrics["clip_fraction_high"] = token_mean(clip_high)
    if dual_clip is not None:
        metrics["dual_clip_fraction"] = token_mean(dual)
    # samples come from pi_old: k3 of KL(pi_old || pi_theta), log r = lp - old
    approx = kl_penalty(old, jax.lax.stop_gradient(lp), estimator="k3")
    metrics["approx_kl"] = token_mean(clean(approx))
    metrics["ratio_mean"] = token_mean(clean(ratio_value))
    if ref_log_probs is not None:
        metrics["ref_kl"] = token_mean(jax.lax.stop_gradient(kl))
    if entropy is not None:
        metrics["entropy"] = token_mean(jax.lax.stop_gradient(ent))
    return loss, metrics


def _sequence_mask(name: str, where, shape: tuple[int, ...]) -> jax.Array | None:
    """``where`` must have exactly the per-token shape (no silent broadcast:
    a ``[B]`` mask against ``[B, T]`` would broadcast over the wrong axis)."""
    if where is None:
        return None
    where = jnp.asarray(where)
    if where.dtype != jnp.bool_:
        raise TypeError(
            f"jaxdiv.{name}: where must be a boolean mask, got dtype {where.dtype} "
            f"with shape {where.shape}."
        )
    if where.shape != shape:
        raise ValueError(
            f"jaxdiv.{name}: where has shape {where.shape}; it must have the "
            f"per-token shape {shape} of the log-probabilities."
        )
    return where


def group_advantages(
    rewards: ArrayLike,
    group_size: int,
    *,
    normalize_std: bool = True,
    eps: ArrayLike = 1e-6,
) -> jax.Array:
    r"""Group-relative advantages of GRPO from one reward per response.

    The batch holds :math:`G` = ``group_size`` consecutive responses per
    prompt (``rewards[g * G:(g + 1) * G]`` answer prompt ``g``, the layout of
    ``jnp.repeat(prompts, G, axis=0)``). Each response's advantage is its
    reward relative to its group:

    .. math::
       A_i = \frac{r_i - \bar r_g}{\sigma_g + \varepsilon}, \qquad
       \sigma_g = \sqrt{\tfrac{1}{G - 1} \textstyle\sum_{j \in g}
         (r_j - \bar r_g)^2},

    the sample standard deviation (Bessel's :math:`G - 1`, as TRL, verl and
    OpenRLHF compute it; 0 for ``G = 1``). ``normalize_std=False`` gives
    :math:`A_i = r_i - \bar r_g`, Dr. GRPO's unbiased form (the division by
    :math:`\sigma_g` favours questions that are too easy or too hard). A
    group whose rewards are all equal gets advantages 0.

    Args:
      rewards: shape ``[B]``, ``B`` a multiple of ``group_size``.
      group_size: :math:`G \geq 1`, responses per prompt (a Python int).
      normalize_std: divide by the group's standard deviation.
      eps: :math:`\varepsilon \geq 0` added to :math:`\sigma_g`.

    Returns:
      Advantages, shape ``[B]``; float32 for 16-bit input.

    Raises:
      TypeError: non-floating ``rewards`` or a non-integer ``group_size``.
      ValueError: ``rewards`` not 1-D, or ``group_size`` not dividing its
        length.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> r = jnp.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])  # 2 prompts x 3
      >>> jaxdiv.losses.group_advantages(r, 3).round(4).tolist()
      [1.1547, -0.5774, -0.5774, 0.0, 0.0, 0.0]
      >>> jaxdiv.losses.group_advantages(r, 3, normalize_std=False).round(4).tolist()
      [0.6667, -0.3333, -0.3333, 0.0, 0.0, 0.0]

    References:
      Shao et al., `DeepSeekMath <https://arxiv.org/abs/2402.03300>`_, 2024;
      Liu et al., `Understanding R1-Zero-Like Training: A Critical
      Perspective <https://arxiv.org/abs/2503.20783>`_, 2025.
    """
    if isinstance(group_size, bool) or not isinstance(group_size, int):
        raise TypeError(
            f"jaxdiv.{_GA}: group_size must be a Python int, got "
            f"{type(group_size).__name__}."
        )
    if python_number(eps) and not eps >= 0:
        raise ValueError(f"jaxdiv.{_GA}: eps must be >= 0, got {eps}.")
    return _group_advantages(rewards, eps, group_size, bool(normalize_std))


@jitted("group_size", "normalize_std")
def _group_advantages(rewards, eps, group_size, normalize_std):
    r = checks.floating(_GA, "rewards", rewards)
    if r.ndim != 1:
        raise ValueError(
            f"jaxdiv.{_GA}: rewards must be one reward per response, shape [B]; "
            f"got shape {r.shape}."
        )
    if group_size < 1 or r.shape[0] % group_size:
        raise ValueError(
            f"jaxdiv.{_GA}: group_size {group_size} must be >= 1 and divide the "
            f"batch; rewards has shape {r.shape}."
        )
    groups = r.reshape(-1, group_size)
    # a true division (XLA's mean multiplies by a rounded 1 / G), and exact
    # zeros for a group of equal rewards (G = 1 included)
    mean = jnp.sum(groups, axis=-1, keepdims=True) / group_size
    equal = jnp.max(groups, axis=-1, keepdims=True) == jnp.min(
        groups, axis=-1, keepdims=True
    )
    centred = jnp.where(equal, 0.0, groups - mean)
    if normalize_std:
        dof = max(group_size - 1, 1)
        # sigma = s * sqrt(sum (c / s)^2 / dof), s = max |c|: no overflow of
        # the squares at rewards of 1e30, no underflow at 1e-30; the square
        # root and the divisions see 1 where the spread is 0 (no nan gradient).
        # sigma does not depend on s (homogeneous of degree 0 in it), so s is
        # a constant for the derivative: the max's own rule divides by the
        # count of entries equal to the max, which is 0 (an inf gradient)
        # where XLA recomputes |c| inside the fusion with other rounding
        fixed = jax.lax.stop_gradient(centred)
        scale = jnp.max(jnp.abs(fixed), axis=-1, keepdims=True)
        spread = scale > 0
        keep = spread | jnp.isnan(scale)  # nan rewards give nan
        scale = jnp.where(spread, scale, 1.0)
        u = div(centred, scale)  # no 1 / scale**2 in the derivative
        ss = jnp.sum(jnp.square(u), axis=-1, keepdims=True) / dof
        std = scale * jnp.sqrt(jnp.where(spread, ss, 1.0))
        adv = div(centred, std + jnp.asarray(eps, r.dtype))
        centred = jnp.where(keep, adv, 0.0)
    return centred.reshape(r.shape)


def sequence_log_probs(
    log_probs: ArrayLike, where: ArrayLike | None, *, average: bool = False
) -> jax.Array:
    r"""Log-probability of each sequence: the sum (or mean) of its kept tokens.

    .. math::
       \log\pi(y) = \sum_t m_t \log\pi(y_t), \qquad
       \texttt{average}: \frac{1}{|y|}\sum_t m_t \log\pi(y_t),
       \quad |y| = \sum_t m_t.

    The sums are what DPO compares; the length-averaged form is what SimPO
    and ORPO (and IPO as commonly run) take. Masked tokens change neither
    value nor gradient, whatever they hold (nan included); a sequence with no
    kept token gives 0 with zero gradient.

    Args:
      log_probs: per-token log-probabilities, shape ``[..., T]``.
      where: boolean mask of the response tokens, shape ``[..., T]``;
        ``None`` keeps every token.
      average: divide by the number of kept tokens.

    Returns:
      Shape ``[...]``; float32 for 16-bit input (accumulated in float32).

    Raises:
      TypeError: non-floating ``log_probs`` or non-boolean ``where``.
      ValueError: a scalar, or ``where`` of another shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> lp = jnp.array([[-1.0, -2.0, jnp.nan], [-0.5, -0.5, -0.5]])
      >>> mask = jnp.array([[True, True, False], [True, True, True]])
      >>> jaxdiv.losses.sequence_log_probs(lp, mask).tolist()
      [-3.0, -1.5]
      >>> jaxdiv.losses.sequence_log_probs(lp, mask, average=True).tolist()
      [-1.5, -0.5]
    """
    return _sequence_log_probs(log_probs, where, bool(average))


@jitted("average")
def _sequence_log_probs(log_probs, where, average):
    lp = checks.floating(_SL, "log_probs", log_probs)
    if lp.ndim == 0:
        raise ValueError(
            f"jaxdiv.{_SL}: log_probs must have a token axis, shape [..., T]; "
            "got a scalar."
        )
    where = _sequence_mask(_SL, where, lp.shape)
    if where is None:
        total = jnp.sum(lp, axis=-1)
        count = jnp.full(total.shape, lp.shape[-1], lp.dtype)
    else:
        total = jnp.sum(jnp.where(where, lp, jnp.zeros((), lp.dtype)), axis=-1)
        count = jnp.sum(where, axis=-1).astype(lp.dtype)
    if average:
        total = total / jnp.maximum(count, 1)
    return total
