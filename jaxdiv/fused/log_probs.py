"""``jaxdiv.fused.linear_log_probs``: public function and validation."""

from __future__ import annotations

import jax
from jax.typing import ArrayLike

from .._core import checks
from .._core.types import AxisName
from . import validation
from .heads import LogProbParams, LogProbs
from .matmul import acc_dtype
from .run import check_labels, check_labels_shape, options, run, values
from .sharding import axis_size


def linear_log_probs(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    temperature: float = 1.0,
    logit_softcap: float | None = None,
    where: ArrayLike | None = None,
    return_entropy: bool = False,
    chunk_size: int | None = None,
    token_chunk_size: int | None = None,
    axis_name: AxisName = None,
    token_axis_name: AxisName = None,
    memory_budget: int | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    r"""Per-token log-probabilities of ``labels`` under ``softmax(hidden @ weight)``.

    The logits :math:`s = c \tanh((h W + b) / c) / T` (the soft cap only
    when ``logit_softcap`` is given, then the temperature :math:`T`) are
    formed one tile at a time, never as a whole ``[N, V]`` array, through the
    same tiles, planner and sweeps as :func:`linear_cross_entropy`. Each kept
    token :math:`n` gets

    .. math::
       \log p_n(y_n) = (s_{n y_n} - m_n) - \log\sum_j e^{s_{nj} - m_n},
       \qquad
       H_n = -\sum_j p_n(j) \log p_n(j),

    with :math:`m_n = \max_j s_{nj}` (the log-probability is formed relative
    to the maximum, exact at logits of ``1e30``). This is what the policy,
    the old policy and the reference model contribute to an RL fine-tuning
    step (PPO, GRPO, DPO, ...): the policy differentiated, the others
    value-only (tiles and ``O(N)`` statistics, no copy of the weight).

    Differentiable in ``hidden``, ``weight`` and ``bias`` in reverse mode for
    any per-token cotangents of the outputs (a loss on top decides them):
    the backward pass recomputes the logits tiles (one matmul more than the
    forward pass, two with both gradients; see :mod:`jaxdiv.fused`). Tokens
    that ``where`` drops give 0 and a zero gradient, whatever their hidden
    state holds (nan included). ``temperature`` and ``logit_softcap`` may be
    traced; they are not differentiated.

    Args:
      hidden: hidden states ``[..., D]`` (``[N, D]``), any floating dtype.
      weight: output projection ``[D, V]`` (``[D, V_local]`` under
        ``axis_name``).
      labels: integer token ids, ``hidden``'s shape without its last axis;
        labels of kept tokens must lie in ``[0, V)``.
      bias: optional logit bias ``[V]`` (``[V_local]``); ``-inf`` entries
        remove tokens from the vocabulary.
      temperature: :math:`T > 0`, dividing the (capped) logits.
      logit_softcap: :math:`c > 0`, or ``None`` for no soft cap.
      where: boolean mask broadcastable to ``labels``.
      return_entropy: also return each token's entropy :math:`H_n` (nats).
      chunk_size: vocabulary entries per tile.
      token_chunk_size: tokens per tile.
      axis_name: inside ``shard_map``, the mesh axis (or axes) splitting the
        vocabulary (see :func:`linear_cross_entropy`).
      token_axis_name: the mesh axis splitting the tokens; per-token outputs
        need no cross-device reduction, so it only marks the inputs' layout.
      memory_budget: see :func:`linear_cross_entropy`.

    Returns:
      ``log_probs`` with ``labels``' shape, float32 for 16-bit input
      (float64 for float64), or ``(log_probs, entropy)`` with
      ``return_entropy=True``.

    Raises:
      TypeError: non-floating ``hidden``/``weight``/``bias`` or non-integer
        ``labels``.
      ValueError: mismatched shapes or an option out of range.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxdiv.fused
      >>> h = jnp.sin(jnp.arange(24.0)).reshape(6, 4)
      >>> w = jnp.cos(jnp.arange(40.0)).reshape(4, 10)
      >>> y = jnp.array([1, 2, 3, 4, 5, 6])
      >>> lp, ent = jaxdiv.fused.linear_log_probs(h, w, y, return_entropy=True)
      >>> dense = jax.nn.log_softmax(h @ w)
      >>> bool(jnp.allclose(lp, dense[jnp.arange(6), y], atol=1e-6))
      True
      >>> bool(jnp.allclose(ent, -jnp.sum(jnp.exp(dense) * dense, -1), atol=1e-6))
      True

    References:
      Schulman et al., `Proximal Policy Optimization Algorithms
      <https://arxiv.org/abs/1707.06347>`_, 2017.
      Wijmans et al., `Cut Your Losses in Large-Vocabulary Language Models
      <https://arxiv.org/abs/2411.09009>`_, 2024.
    """
    name = "fused.linear_log_probs"
    hidden, weight = validation.projection(name, hidden, weight)
    labels = checks.integer(name, "labels", labels)
    batch = hidden.shape[:-1]
    check_labels_shape(name, labels, batch, hidden.shape)
    bias = validation.vector(name, "bias", bias, weight.shape[1])
    t = checks.number(name, "temperature", temperature, low=0, open_low=True)
    cap = logit_softcap
    if cap is not None:
        cap = checks.number(name, "logit_softcap", cap, low=0, open_low=True)
    if not isinstance(return_entropy, bool):
        raise TypeError(f"jaxdiv.{name}: return_entropy must be a bool.")
    opts = options(
        name,
        "none",
        chunk_size,
        token_chunk_size,
        axis_name,
        token_axis_name,
        memory_budget,
    )
    where = checks.mask(name, where, batch)
    check_labels(name, labels, where, weight.shape[1] * axis_size(opts.axis_name))
    head = LogProbs(return_entropy, cap is not None)
    params = values(
        acc_dtype(hidden, weight),
        LogProbParams,
        inv_temperature=1.0 / t,
        cap=1.0 if cap is None else cap,
    )
    out = run(head, (hidden,), (weight,), bias, labels, params, where, batch, opts)
    return out if return_entropy else out[0]
