"""Preference-optimisation losses on sequence log-probabilities (DPO and kin).

Each takes one number per response (a sum or a length-average of per-token
log-probabilities, see :func:`jaxdiv.losses.sequence_log_probs`) and returns
the per-pair loss ``[B]`` and a dict of per-pair diagnostics ``[B]`` (the
implicit rewards and margins users log); average both as the batch is
averaged. Everything is in log space: ``log_sigmoid`` for the logistic
losses and ``log(1 - p)`` from ``log1p(-exp)`` / ``log(-expm1)`` for the odds,
so margins of ±1e4 give finite values and gradients.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks
from ._common import jitted, python_number

DPO_LOSS_TYPES = ("sigmoid", "ipo", "hinge", "robust")
_DPO = "losses.dpo_loss"
_SIMPO = "losses.simpo_loss"
_ORPO = "losses.orpo_loss"


def _pair(name: str, **arrays: ArrayLike) -> list[jax.Array]:
    xs = checks.floatings(name, **arrays)
    checks.same_shape(name, **dict(zip(arrays, xs, strict=True)))
    return xs


def dpo_loss(
    chosen: ArrayLike,
    rejected: ArrayLike,
    ref_chosen: ArrayLike,
    ref_rejected: ArrayLike,
    *,
    beta: ArrayLike = 0.1,
    loss_type: str = "sigmoid",
    label_smoothing: ArrayLike = 0.0,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    r"""Direct preference optimisation loss and its variants, per pair.

    With the log-ratio margin :math:`\Delta = (\log\pi(y_w) - \log\pi_{ref}(y_w))
    - (\log\pi(y_l) - \log\pi_{ref}(y_l))` of the chosen response
    :math:`y_w` over the rejected :math:`y_l`, and :math:`h = \beta\Delta`:

    .. math::
       \texttt{sigmoid}: -(1 - \varepsilon)\log\sigma(h)
         - \varepsilon \log\sigma(-h), \qquad
       \texttt{ipo}: \Big(\Delta - \frac{1}{2\beta}\Big)^2, \\
       \texttt{hinge}: \max(0, 1 - h), \qquad
       \texttt{robust}: \frac{-(1 - \varepsilon)\log\sigma(h)
         + \varepsilon\log\sigma(-h)}{1 - 2\varepsilon}.

    ``"sigmoid"`` is DPO (Rafailov et al., 2023); with label smoothing
    :math:`\varepsilon` (the probability that a preference label is flipped)
    it is conservative DPO (cDPO, Mitchell, 2023), whose optimum is the
    finite margin :math:`h = \log\frac{1 - \varepsilon}{\varepsilon}`
    (:math:`h = 0`, loss :math:`\log 2`, at :math:`\varepsilon = 1/2`, where
    the labels carry no information). ``"ipo"`` is IPO (Azar et al., 2023; the
    :math:`\Delta` of length-averaged log-probabilities in common practice),
    ``"hinge"`` the SLiC calibration loss (Zhao et al., 2023) with margin
    :math:`1/\beta`, and ``"robust"`` the provably robust DPO of Chowdhury
    et al. (2024): its expectation over label flips of rate
    :math:`\varepsilon` is the clean DPO loss. As :math:`\beta \to 0` the
    DPO loss tends to :math:`\log 2` and its gradient to
    :math:`-\frac{\beta}{2}\nabla\Delta`. ``label_smoothing`` applies to
    ``"sigmoid"`` and ``"robust"`` only.

    The reference log-probabilities are constants (``stop_gradient``).
    The implicit rewards are :math:`\beta(\log\pi - \log\pi_{ref})`.

    Args:
      chosen: :math:`\log\pi(y_w)`, sequence log-probabilities, shape ``[B]``
        (any shape; elementwise).
      rejected: :math:`\log\pi(y_l)`, same shape.
      ref_chosen: :math:`\log\pi_{ref}(y_w)`, same shape.
      ref_rejected: :math:`\log\pi_{ref}(y_l)`, same shape.
      beta: :math:`\beta > 0`, the strength of the KL regularisation
        (IPO's :math:`\tau`).
      loss_type: ``"sigmoid"``, ``"ipo"``, ``"hinge"`` or ``"robust"``.
      label_smoothing: :math:`\varepsilon \in [0, 1/2]` (``[0, 1/2)`` for
        ``"robust"``).

    Returns:
      ``(loss, metrics)``: per-pair losses ``[B]`` and a dict of ``[B]``
      arrays: ``"chosen_rewards"``, ``"rejected_rewards"``, ``"margins"``
      (their difference, :math:`h`) and ``"accuracies"`` (1.0 where the
      chosen reward is higher). float32 for 16-bit input.

    Raises:
      TypeError: non-floating inputs.
      ValueError: an unknown ``loss_type``, shapes that differ, ``beta <= 0``
        or ``label_smoothing`` out of range (or nonzero for ``"ipo"`` and
        ``"hinge"``).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> chosen, rejected = jnp.array([-10.0, -12.0]), jnp.array([-11.0, -11.0])
      >>> ref_chosen = jnp.array([-10.5, -12.0])
      >>> ref_rejected = jnp.array([-10.5, -11.5])
      >>> loss, m = jaxdiv.losses.dpo_loss(chosen, rejected, ref_chosen, ref_rejected)
      >>> [round(x, 4) for x in loss.tolist()]
      [0.6444, 0.7185]
      >>> [round(x, 4) for x in m["margins"].tolist()]
      [0.1, -0.05]

    References:
      Rafailov et al., `Direct Preference Optimization: Your Language Model is
      Secretly a Reward Model <https://arxiv.org/abs/2305.18290>`_, 2023;
      Mitchell, `A Note on DPO with Noisy Preferences and Relationship to IPO
      <https://ericmitchell.ai/cdpo.pdf>`_, 2023; Azar et al., `A General
      Theoretical Paradigm to Understand Learning from Human Preferences
      <https://arxiv.org/abs/2310.12036>`_, 2023; Zhao et al., `SLiC-HF:
      Sequence Likelihood Calibration with Human Feedback
      <https://arxiv.org/abs/2305.10425>`_, 2023; Chowdhury et al., `Provably
      Robust DPO: Aligning Language Models with Noisy Feedback
      <https://arxiv.org/abs/2403.00409>`_, 2024.
    """
    checks.choice(_DPO, "loss_type", loss_type, DPO_LOSS_TYPES)
    if python_number(beta) and not beta > 0:
        raise ValueError(f"jaxdiv.{_DPO}: beta must be > 0, got {beta}.")
    if python_number(label_smoothing):
        eps = label_smoothing
        ok = {"sigmoid": 0 <= eps <= 0.5, "robust": 0 <= eps < 0.5}
        if not ok.get(loss_type, eps == 0):
            allowed = {"sigmoid": "[0, 0.5]", "robust": "[0, 0.5)"}.get(
                loss_type, "0 (it applies to 'sigmoid' and 'robust' only)"
            )
            raise ValueError(
                f"jaxdiv.{_DPO}: label_smoothing must be in {allowed} for "
                f"loss_type={loss_type!r}, got {label_smoothing}."
            )
    return _dpo(
        chosen, rejected, ref_chosen, ref_rejected, beta, label_smoothing, loss_type
    )


@jitted("loss_type")
def _dpo(chosen, rejected, ref_chosen, ref_rejected, beta, label_smoothing, loss_type):
    c, r, rc, rr = _pair(
        _DPO,
        chosen=chosen,
        rejected=rejected,
        ref_chosen=ref_chosen,
        ref_rejected=ref_rejected,
    )
    rc, rr = jax.lax.stop_gradient(rc), jax.lax.stop_gradient(rr)
    beta = jnp.asarray(beta, c.dtype)
    eps = jnp.asarray(label_smoothing, c.dtype)
    chosen_ratio, rejected_ratio = c - rc, r - rr
    delta = chosen_ratio - rejected_ratio
    h = beta * delta
    if loss_type == "sigmoid":
        loss = -(1 - eps) * jax.nn.log_sigmoid(h) - eps * jax.nn.log_sigmoid(-h)
    elif loss_type == "robust":
        loss = (-(1 - eps) * jax.nn.log_sigmoid(h) + eps * jax.nn.log_sigmoid(-h)) / (
            1 - 2 * eps
        )
    elif loss_type == "ipo":
        loss = jnp.square(delta - 1 / (2 * beta))
    else:  # hinge
        loss = jax.nn.relu(1 - h)
    chosen_rewards = jax.lax.stop_gradient(beta * chosen_ratio)
    rejected_rewards = jax.lax.stop_gradient(beta * rejected_ratio)
    metrics = {
        "chosen_rewards": chosen_rewards,
        "rejected_rewards": rejected_rewards,
        "margins": jax.lax.stop_gradient(h),
        "accuracies": (chosen_rewards > rejected_rewards).astype(c.dtype),
    }
    return loss, metrics


def simpo_loss(
    chosen: ArrayLike,
    rejected: ArrayLike,
    *,
    beta: ArrayLike = 2.0,
    gamma: ArrayLike = 0.5,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    r"""SimPO: reference-free preference loss on length-averaged log-probabilities.

    .. math::
       \ell = -\log\sigma\big(\beta\,\overline{\log\pi}(y_w)
         - \beta\,\overline{\log\pi}(y_l) - \gamma\big),

    with :math:`\overline{\log\pi}(y) = \frac{1}{|y|}\sum_t \log\pi(y_t)`
    (``sequence_log_probs(..., average=True)``) and the target reward
    margin :math:`\gamma` (absolute, as in the paper's loss and in TRL's and
    Liger's ``gamma``; the paper tunes :math:`\gamma/\beta`, about 0.5).

    Args:
      chosen: :math:`\overline{\log\pi}(y_w)`, shape ``[B]`` (any shape).
      rejected: :math:`\overline{\log\pi}(y_l)`, same shape.
      beta: :math:`\beta > 0`, the reward scale.
      gamma: :math:`\gamma`, the target margin.

    Returns:
      ``(loss, metrics)``: per-pair losses ``[B]`` and a dict of ``[B]``
      arrays: ``"chosen_rewards"`` (:math:`\beta\overline{\log\pi}(y_w)`),
      ``"rejected_rewards"``, ``"margins"`` (their difference) and
      ``"accuracies"``. float32 for 16-bit input.

    Raises:
      TypeError: non-floating inputs.
      ValueError: shapes that differ or ``beta <= 0``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> loss, m = jaxdiv.losses.simpo_loss(jnp.array([-0.8]), jnp.array([-1.2]))
      >>> print(loss.round(4), m["margins"].round(4))
      [0.5544] [0.8]

    References:
      Meng, Xia and Chen, `SimPO: Simple Preference Optimization with a
      Reference-Free Reward <https://arxiv.org/abs/2405.14734>`_, 2024.
    """
    if python_number(beta) and not beta > 0:
        raise ValueError(f"jaxdiv.{_SIMPO}: beta must be > 0, got {beta}.")
    return _simpo(chosen, rejected, beta, gamma)


@jitted()
def _simpo(chosen, rejected, beta, gamma):
    c, r = _pair(_SIMPO, chosen=chosen, rejected=rejected)
    beta = jnp.asarray(beta, c.dtype)
    h = beta * (c - r) - jnp.asarray(gamma, c.dtype)
    loss = -jax.nn.log_sigmoid(h)
    chosen_rewards = jax.lax.stop_gradient(beta * c)
    rejected_rewards = jax.lax.stop_gradient(beta * r)
    metrics = {
        "chosen_rewards": chosen_rewards,
        "rejected_rewards": rejected_rewards,
        "margins": chosen_rewards - rejected_rewards,
        "accuracies": (chosen_rewards > rejected_rewards).astype(c.dtype),
    }
    return loss, metrics


def _log_odds(log_p: jax.Array) -> jax.Array:
    """``log(p / (1 - p))`` from ``log p``, with ``log(1 - p)`` as ``log(-expm1)``
    near ``p = 1`` and ``log1p(-exp)`` below ``1/2`` (both accurate there).

    ``log p`` is first capped at minus the smallest normal number, so ``p = 1``
    (or a rounding-level positive log-probability) gives a large finite
    log-odds, about 87 in float32, with a finite gradient (0 above the cap).
    """
    x = jnp.minimum(log_p, -jnp.finfo(log_p.dtype).tiny)
    near_one = x > -jnp.log(2.0).astype(x.dtype)
    x_near = jnp.where(near_one, x, -1.0)
    x_far = jnp.where(near_one, -1.0, x)
    log1m = jnp.where(near_one, jnp.log(-jnp.expm1(x_near)), jnp.log1p(-jnp.exp(x_far)))
    return x - log1m


def orpo_loss(
    chosen: ArrayLike,
    rejected: ArrayLike,
    *,
    lam: ArrayLike = 0.1,
    include_nll: bool = True,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    r"""ORPO: odds-ratio preference loss on length-averaged log-probabilities.

    With :math:`P(y) = \exp\overline{\log\pi}(y)` (the length-averaged
    log-probability, ``sequence_log_probs(..., average=True)``) and
    :math:`\mathrm{odds}(y) = P / (1 - P)`:

    .. math::
       \ell = \underbrace{-\overline{\log\pi}(y_w)}_{\mathcal L_{SFT}}
         - \lambda \log\sigma\Big(\log\frac{\mathrm{odds}(y_w)}
           {\mathrm{odds}(y_l)}\Big),
       \quad \log\mathrm{odds}(y) = \overline{\log\pi}(y)
         - \log\big(1 - e^{\overline{\log\pi}(y)}\big).

    The supervised term of Hong et al. (2024, eq. 6) is the token-averaged
    negative log-likelihood of the chosen response, computed here from
    ``chosen`` itself (so ``mean(loss)`` averages it per sequence);
    ``include_nll=False`` leaves it out, for a caller who adds its own NLL
    (e.g. ``jaxdiv.fused.linear_cross_entropy`` over the chosen tokens, a
    mean over all tokens as in the reference implementation). :math:`\log(1
    - P)` is formed as ``log(-expm1(x))`` near :math:`P = 1` and
    ``log1p(-exp(x))`` elsewhere; a log-probability of 0 is capped just
    below it, so :math:`P = 1` gives a large finite log-odds, not inf.

    Args:
      chosen: :math:`\overline{\log\pi}(y_w) \leq 0`, shape ``[B]`` (any shape).
      rejected: :math:`\overline{\log\pi}(y_l) \leq 0`, same shape.
      lam: :math:`\lambda \geq 0`, the weight of the odds-ratio term.
      include_nll: add the supervised term :math:`-\overline{\log\pi}(y_w)`.

    Returns:
      ``(loss, metrics)``: per-pair losses ``[B]`` and a dict of ``[B]``
      arrays: ``"nll"``, ``"log_odds_ratio"``, ``"odds_ratio_loss"``
      (:math:`-\log\sigma` of it, before :math:`\lambda`),
      ``"chosen_rewards"`` / ``"rejected_rewards"`` (:math:`\lambda
      \overline{\log\pi}`, as TRL logs them), ``"margins"`` and
      ``"accuracies"``. float32 for 16-bit input.

    Raises:
      TypeError: non-floating inputs.
      ValueError: shapes that differ or ``lam < 0``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> loss, m = jaxdiv.losses.orpo_loss(jnp.array([-0.5]), jnp.array([-1.5]))
      >>> print(loss.round(4), m["log_odds_ratio"].round(4))
      [0.5171] [1.6803]

    References:
      Hong, Lee and Thorne, `ORPO: Monolithic Preference Optimization without
      Reference Model <https://arxiv.org/abs/2403.07691>`_, 2024.
    """
    if python_number(lam) and not lam >= 0:
        raise ValueError(f"jaxdiv.{_ORPO}: lam must be >= 0, got {lam}.")
    return _orpo(chosen, rejected, lam, bool(include_nll))


@jitted("include_nll")
def _orpo(chosen, rejected, lam, include_nll):
    c, r = _pair(_ORPO, chosen=chosen, rejected=rejected)
    lam = jnp.asarray(lam, c.dtype)
    log_odds_ratio = _log_odds(c) - _log_odds(r)
    odds_ratio_loss = -jax.nn.log_sigmoid(log_odds_ratio)
    nll = -c
    loss = lam * odds_ratio_loss
    if include_nll:
        loss = nll + loss
    chosen_rewards = jax.lax.stop_gradient(lam * c)
    rejected_rewards = jax.lax.stop_gradient(lam * r)
    metrics = {
        "nll": jax.lax.stop_gradient(nll),
        "log_odds_ratio": jax.lax.stop_gradient(log_odds_ratio),
        "odds_ratio_loss": jax.lax.stop_gradient(odds_ratio_loss),
        "chosen_rewards": chosen_rewards,
        "rejected_rewards": rejected_rewards,
        "margins": chosen_rewards - rejected_rewards,
        "accuracies": (chosen_rewards > rejected_rewards).astype(c.dtype),
    }
    return loss, metrics
