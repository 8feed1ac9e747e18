"""Distillation and RLHF KL losses (jaxdiv-only), built on the measures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, kernels, value_checks
from .._core.kl_estimators import ESTIMATORS, kl_estimate
from .._core.types import AxisName, OptionalAxis
from .._measures.categorical import js_divergence_from_logits
from ._common import event_axes, jitted, python_number, static_axis

DIVERGENCES = ("forward_kl", "reverse_kl", "jsd")


def distillation_loss(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: ArrayLike = 1.0,
    divergence: str = "forward_kl",
    beta: ArrayLike = 0.5,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Knowledge-distillation loss between tempered softmaxes, scaled by T².

    With :math:`s = \mathrm{softmax}(\ell_s / T)` (student) and
    :math:`t = \mathrm{softmax}(\ell_t / T)` (teacher):

    .. math::
       \texttt{forward\formulas.kl}: T^2 D_{KL}(t \| s), \qquad
       \texttt{reverse\formulas.kl}: T^2 D_{KL}(s \| t), \\
       \texttt{jsd}: T^2 \big[\beta D_{KL}(t \| m) + (1 - \beta) D_{KL}(s \| m)\big],
       \quad m = \beta t + (1 - \beta) s

    ``forward_kl`` is Hinton et al.'s loss (mean-seeking: the student covers
    every mode of the teacher); ``reverse_kl`` is mode-seeking, as in MiniLLM;
    ``jsd`` is the generalised Jensen-Shannon divergence of GKD with the
    teacher's mixture weight ``beta`` (symmetric at 0.5, bounded by
    :math:`T^2 \log 2`; it tends to 0, not to a KL, as ``beta`` tends to 0
    or 1). The :math:`T^2` factor keeps the gradient's scale independent of
    the temperature. Gradients flow into both arguments; wrap the teacher in
    ``jax.lax.stop_gradient`` if it is not to be trained. ``-inf`` logits and
    ``where`` behave as in ``jaxdiv.kl_divergence_from_logits``.

    Args:
      student_logits: shape ``[..., n]``.
      teacher_logits: same shape (or exactly the event shape).
      temperature: ``T > 0``.
      divergence: ``"forward_kl"``, ``"reverse_kl"`` or ``"jsd"``.
      beta: teacher weight of the ``jsd`` mixture, in ``[0, 1]``. Named as
        in GKD (Agarwal et al.) rather than ``weight`` on purpose:
        ``jaxdiv.js_divergence(p, q, weight=w)`` weighs its *first* argument,
        and this loss's first argument is the student, so ``beta`` (the
        teacher's share, ``weight`` of ``js_divergence(teacher, student)``)
        is not the same number as a ``weight`` here would be.
      axis: class axis (int or tuple).
      where: boolean mask broadcastable to the logits; ``False`` entries
        leave both softmaxes.
      axis_name: mesh axis across which the class axis is split inside
        ``shard_map``, or ``None``.

    Returns:
      Per-example losses, shape ``[...]``.

    Raises:
      TypeError: integer logits.
      ValueError: an unknown ``divergence``, ``temperature <= 0``, ``beta``
        outside ``[0, 1]``, or mismatched shapes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> student = jnp.array([[1.0, 0.0, -1.0]])
      >>> teacher = jnp.array([[2.0, 0.5, -3.0]])
      >>> f = jaxdiv.losses.distillation_loss
      >>> f(student, teacher, temperature=2.0).round(4).tolist()
      [0.3359]
      >>> f(student, teacher, divergence="jsd").round(4).tolist()
      [0.0287]

    References:
      Hinton, Vinyals and Dean, `Distilling the Knowledge in a Neural Network
      <https://arxiv.org/abs/1503.02531>`_, 2015; Gu et al., `MiniLLM:
      Knowledge Distillation of Large Language Models
      <https://arxiv.org/abs/2306.08543>`_, 2024; Agarwal et al.,
      `On-Policy Distillation of Language Models: Learning from
      Self-Generated Mistakes <https://arxiv.org/abs/2306.13649>`_, 2024.
    """
    name = "losses.distillation_loss"
    if divergence not in DIVERGENCES:
        raise ValueError(
            f"jaxdiv.{name}: divergence must be one of {DIVERGENCES}, got "
            f"{divergence!r}."
        )
    if python_number(temperature) and not temperature > 0:
        raise ValueError(f"jaxdiv.{name}: temperature must be > 0, got {temperature}.")
    if python_number(beta) and not 0 <= beta <= 1:
        raise ValueError(f"jaxdiv.{name}: beta must lie in [0, 1], got {beta}.")
    return _distill(
        student_logits,
        teacher_logits,
        temperature,
        beta,
        where,
        divergence,
        static_axis(axis),
        axis_name,
    )


@jitted("divergence", "axis", "axis_name")
def _distill(student, teacher, temperature, beta, where, divergence, axis, axis_name):
    name = "losses.distillation_loss"
    s, t = checks.floatings(name, student_logits=student, teacher_logits=teacher)
    ax = event_axes(name, axis, max(s.ndim, t.ndim))
    s, t, ax = checks.pair(name, s, t, ax, ("student_logits", "teacher_logits"))
    temp = jnp.asarray(temperature, s.dtype)
    if divergence == "jsd":
        s, t = s / temp, t / temp
        d = js_divergence_from_logits(
            t, s, weight=beta, axis=ax, where=where, axis_name=axis_name
        )
        return jnp.square(temp) * d
    # forward / reverse KL: the fused kernel, same numbers as
    # jaxdiv.kl_divergence_from_logits (which the tests check).
    where = checks.mask(name, where, s.shape)
    value_checks.no_nan_or_posinf(name, "student_logits", s, where)
    value_checks.no_nan_or_posinf(name, "teacher_logits", t, where)
    if where is not None:
        s = jnp.where(where, s, -jnp.inf)
        t = jnp.where(where, t, -jnp.inf)
    inv = 1.0 / temp
    s, t = s * inv, t * inv
    p, q = (t, s) if divergence == "forward_kl" else (s, t)
    return jnp.square(temp) * kernels.kl_from_logits(ax, axis_name, p, q)


def kl_penalty(
    log_probs: ArrayLike,
    ref_log_probs: ArrayLike,
    *,
    estimator: str = "k1",
) -> jax.Array:
    r"""Per-sample estimate of :math:`D_{KL}(\pi \| \pi_{ref})` from samples of
    :math:`\pi` (the RLHF KL penalty).

    With :math:`x \sim \pi` and :math:`\log r = \log \pi_{ref}(x) - \log \pi(x)`:

    .. math::
       k_1 = -\log r, \qquad k_2 = \tfrac12 (\log r)^2, \qquad
       k_3 = (r - 1) - \log r

    ``k1`` is unbiased with high variance (and can be negative), ``k2`` is
    biased with low variance, ``k3`` is unbiased, low-variance and never
    negative; it is computed from the Taylor series of :math:`e^t - 1 - t`
    near 0, so it keeps full relative precision as :math:`r \to 1` (where
    ``expm1(log r) - log r`` cancels). Average the result over valid tokens with
    :func:`masked_mean`.

    Args:
      log_probs: :math:`\log \pi(x)` of the sampled tokens, any shape.
      ref_log_probs: :math:`\log \pi_{ref}(x)` of the same tokens, same shape.
      estimator: ``"k1"``, ``"k2"`` or ``"k3"``.

    Returns:
      Per-sample estimates, the inputs' shape.

    Raises:
      TypeError: integer inputs.
      ValueError: an unknown ``estimator`` or shapes that differ.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> lp, ref = jnp.log(jnp.array([0.5, 0.2])), jnp.log(jnp.array([0.25, 0.4]))
      >>> jaxdiv.losses.kl_penalty(lp, ref, estimator="k1").round(4).tolist()
      [0.6931, -0.6931]
      >>> jaxdiv.losses.kl_penalty(lp, ref, estimator="k3").round(4).tolist()
      [0.1931, 0.3069]

    References:
      Schulman, `Approximating KL Divergence
      <http://joschu.net/blog/kl-approx.html>`_, 2020.
    """
    name = "losses.kl_penalty"
    if estimator not in ESTIMATORS:
        raise ValueError(
            f"jaxdiv.{name}: estimator must be one of {ESTIMATORS}, got {estimator!r}."
        )
    return _penalty(log_probs, ref_log_probs, estimator)


@jitted("estimator")
def _penalty(log_probs, ref_log_probs, estimator):
    name = "losses.kl_penalty"
    lp, ref = checks.floatings(name, log_probs=log_probs, ref_log_probs=ref_log_probs)
    checks.same_shape(name, log_probs=lp, ref_log_probs=ref)
    value_checks.no_nan_or_posinf(name, "log_probs", lp)
    value_checks.no_nan_or_posinf(name, "ref_log_probs", ref)
    return kl_estimate(lp, ref, estimator)
