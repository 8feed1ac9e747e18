"""``jaxdiv.fused.linear_distillation_loss``: public function and validation."""

from __future__ import annotations

import jax
from jax import lax
from jax.typing import ArrayLike

from .._core import checks
from .._core.types import AxisName
from . import validation
from .distillation_head import Distillation, DistillationParams
from .matmul import acc_dtype
from .run import options, run, values

DIVERGENCES = ("forward_kl", "reverse_kl", "jsd")


def linear_distillation_loss(
    student_hidden: ArrayLike,
    student_weight: ArrayLike,
    teacher_hidden: ArrayLike,
    teacher_weight: ArrayLike,
    *,
    temperature: float = 1.0,
    divergence: str = "forward_kl",
    beta: float = 0.5,
    where: ArrayLike | None = None,
    chunk_size: int | None = None,
    token_chunk_size: int | None = None,
    reduction: str = "mean",
    axis_name: AxisName = None,
    token_axis_name: AxisName = None,
    memory_budget: int | None = None,
) -> jax.Array:
    r"""Knowledge-distillation loss of two output projections, without logits.

    With tempered distributions
    :math:`p_t = \mathrm{softmax}(h_t W_t / T)` (teacher) and
    :math:`p_s = \mathrm{softmax}(h_s W_s / T)` (student), each kept token
    scores :math:`T^2 D` (Hinton's scaling, which keeps gradient magnitudes
    independent of :math:`T`), where :math:`D` is

    * ``"forward_kl"``: :math:`D_{KL}(p_t \| p_s)`, the usual distillation
      loss (mean-seeking);
    * ``"reverse_kl"``: :math:`D_{KL}(p_s \| p_t)` (mode-seeking);
    * ``"jsd"``: the generalised Jensen-Shannon divergence
      :math:`\beta D_{KL}(p_t \| m) + (1 - \beta) D_{KL}(p_s \| m)` with
      :math:`m = \beta p_t + (1 - \beta) p_s`.

    The conventions are those of ``jaxdiv.losses.distillation_loss`` on the
    logits; the logits are formed one tile at a time (see the module
    documentation for passes and matmul counts) and never held whole.

    The teacher is a fixed target: ``teacher_hidden`` and ``teacher_weight``
    are wrapped in ``lax.stop_gradient`` and get zero gradient. The student
    gets the gradients of both its hidden states and its weight, in reverse
    mode (``jax.grad``; not ``jax.jvp``). ``temperature`` and ``beta`` may be
    traced; they are not differentiated. Forward and reverse KL are read off
    running sums of the first pass, so their absolute rounding error is a
    few float32 epsilons times the logits' magnitude.

    Args:
      student_hidden: shape ``[..., D_s]``.
      student_weight: shape ``[D_s, V]`` (``[D_s, V_local]`` under
        ``axis_name``).
      teacher_hidden: shape ``[..., D_t]``, the same leading shape.
      teacher_weight: shape ``[D_t, V]`` (``[D_t, V_local]``).
      temperature: :math:`T > 0`.
      divergence: ``"forward_kl"``, ``"reverse_kl"`` or ``"jsd"``.
      beta: mixture weight :math:`\beta \in [0, 1]` of ``"jsd"``.
      where: boolean mask broadcastable to the leading shape; ``False``
        drops a token (0, zero gradient, left out of the mean).
      chunk_size: vocabulary entries per tile.
      token_chunk_size: tokens per tile.
      reduction: ``"mean"`` over the kept tokens, ``"sum"`` or ``"none"``.
      axis_name: mesh axis across which both weights' vocabulary is split
        (inside ``shard_map``); see :func:`linear_cross_entropy`.
      token_axis_name: mesh axis across which the tokens are split (inside
        ``shard_map``); see :func:`linear_cross_entropy`.

    Returns:
      A scalar, or the leading shape for ``"none"``; float32 for 16-bit input.

    Raises:
      TypeError: non-floating inputs or a traced option.
      ValueError: mismatched shapes or an option out of range.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxdiv.fused
      >>> hs = jnp.sin(jnp.arange(15.0)).reshape(5, 3)
      >>> ws = jnp.cos(jnp.arange(21.0)).reshape(3, 7)
      >>> ht = jnp.sin(1.0 + jnp.arange(20.0)).reshape(5, 4)
      >>> wt = 2.0 * jnp.cos(jnp.arange(28.0)).reshape(4, 7)
      >>> loss = jaxdiv.fused.linear_distillation_loss(hs, ws, ht, wt, temperature=2.0)
      >>> pt = jax.nn.softmax(ht @ wt / 2.0)
      >>> dense = 4.0 * jnp.mean(jnp.sum(
      ...     pt * (jnp.log(pt) - jax.nn.log_softmax(hs @ ws / 2.0)), axis=-1))
      >>> bool(jnp.allclose(loss, dense, rtol=1e-5))
      True

    References:
      Hinton, Vinyals and Dean, `Distilling the Knowledge in a Neural
      Network <https://arxiv.org/abs/1503.02531>`_, 2015.
      Agarwal et al., `On-Policy Distillation of Language Models: Learning
      from Self-Generated Mistakes <https://arxiv.org/abs/2306.13649>`_, 2024.
    """
    name = "fused.linear_distillation_loss"
    hs, ws = validation.projection(
        name, student_hidden, student_weight, ("student_hidden", "student_weight")
    )
    ht, wt = validation.projection(
        name, teacher_hidden, teacher_weight, ("teacher_hidden", "teacher_weight")
    )
    batch = hs.shape[:-1]
    if ht.shape[:-1] != batch or wt.shape[1] != ws.shape[1]:
        raise ValueError(
            f"jaxdiv.{name}: student_hidden {hs.shape} and teacher_hidden "
            f"{ht.shape} must have the same leading shape, and student_weight "
            f"{ws.shape} and teacher_weight {wt.shape} the same vocabulary size."
        )
    t = checks.number(name, "temperature", temperature, low=0, open_low=True)
    b = checks.number(name, "beta", beta, low=0, high=1)
    checks.choice(name, "divergence", divergence, DIVERGENCES)
    opts = options(
        name,
        reduction,
        chunk_size,
        token_chunk_size,
        axis_name,
        token_axis_name,
        memory_budget,
    )
    where = checks.mask(name, where, batch)
    ht, wt = lax.stop_gradient(ht), lax.stop_gradient(wt)
    params = values(
        acc_dtype(hs, ws, ht, wt), DistillationParams, temperature=t, beta=b
    )
    head = Distillation(divergence)
    out = run(head, (hs, ht), (ws, wt), None, None, params, where, batch, opts)
    return out[0] if opts.reduction == "none" else out
