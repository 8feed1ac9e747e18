"""``jaxdiv.fused.linear_cross_entropy``: public function and validation."""

from __future__ import annotations

import operator

import jax
from jax.typing import ArrayLike

from .._core import checks
from .._core.types import AxisName
from . import validation
from .heads import CrossEntropy, CrossEntropyParams
from .matmul import acc_dtype
from .run import check_labels, check_labels_shape, nonzero, options, run, values
from .sharding import axis_size


def linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    where: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    logit_softcap: float | None = None,
    chunk_size: int | None = None,
    token_chunk_size: int | None = None,
    reduction: str = "mean",
    axis_name: AxisName = None,
    token_axis_name: AxisName = None,
    memory_budget: int | None = None,
) -> jax.Array:
    r"""Softmax cross-entropy of ``hidden @ weight`` without the logits.

    The logits :math:`s = c \tanh((h W + b) / c)` (the soft cap only when
    ``logit_softcap`` is given) are formed one tile at a time and never held
    whole (see the module documentation). Each kept token :math:`n` with
    label :math:`y_n` scores

    .. math::
       \ell_n = \log\sum_j e^{s_{nj}} - (1 - \alpha) s_{n y_n}
         - \frac{\alpha}{V} \sum_j s_{nj}
         + \zeta \Big(\log\sum_j e^{s_{nj}}\Big)^2,

    the cross-entropy against the smoothed target
    :math:`(1 - \alpha)\,\mathrm{onehot}(y) + \alpha / V` plus the z-loss
    :math:`\zeta\,\mathrm{lse}^2` of PaLM. The same values as
    ``jaxdiv.losses.softmax_cross_entropy_with_integer_labels`` (and optax's)
    on the logits, at a memory cost of ``O(rows * cols)`` instead of
    ``O(N * V)``.

    Tokens that ``where`` drops or whose label is ``ignore_index`` score 0,
    get an exactly zero gradient (whatever their hidden state holds, nan
    included) and are left out of the ``"mean"``, which is the exact mean
    over the kept tokens (0 when none is kept). Labels of kept tokens must
    lie in ``[0, V)``; out-of-range labels are checked only inside
    :func:`jaxdiv.value_checks` and otherwise score as if their logit were 0.

    Differentiable in ``hidden``, ``weight`` and ``bias`` in reverse mode
    (``jax.grad``, ``jax.vjp``; not ``jax.jvp``). For ``"mean"`` and
    ``"sum"`` the gradients are formed together with the loss: three matmuls
    in all when the vocabulary is one chunk, as many as unfused. The options
    (smoothing, z-loss, soft cap) may be traced but are not differentiated.

    Args:
      hidden: final hidden states, shape ``[..., D]`` (``[N, D]``), any
        floating dtype; bfloat16 matmuls accumulate in float32.
      weight: output projection, shape ``[D, V]`` (``[D, V_local]`` under
        ``axis_name``).
      labels: integer class indices, shape ``[...]``: ``hidden``'s shape
        without its last axis.
      bias: optional logit bias, shape ``[V]`` (``[V_local]``).
      where: boolean mask broadcastable to ``labels``; ``False`` drops a token.
      ignore_index: label value that drops a token (e.g. ``-100``).
      label_smoothing: :math:`\alpha \in [0, 1]`.
      z_loss: :math:`\zeta \geq 0`, the weight of the squared log-normaliser.
      logit_softcap: :math:`c > 0`, or ``None`` for no soft cap.
      chunk_size: vocabulary entries per tile (``cols``); memory then grows
        as ``N * chunk_size`` unless ``token_chunk_size`` also bounds it.
      token_chunk_size: tokens per tile (``rows``). With neither size given,
        blocks of ``max(256, 2**18 // V)`` tokens (about 1 MiB of float32
        logits, or 256 rows) and tiles of at most ``2**23`` logits: whole
        rows (``cols = V``) when ``V <= 32768``.
      reduction: ``"mean"`` over the kept tokens, ``"sum"``, or ``"none"``.
      axis_name: inside ``shard_map``, the mesh axis (or axes) across which
        the vocabulary is split evenly, in device order: ``weight`` and
        ``bias`` are the local slices; ``hidden``, ``labels`` and ``where``
        are replicated along it. Every device gets the whole loss.
      token_axis_name: inside ``shard_map``, the mesh axis (or axes) across
        which the tokens are split (data parallelism): ``"mean"`` and
        ``"sum"`` are then taken over the tokens of all its devices (the
        exact mean over every kept token, never a mean of means) and every
        device gets that value. Under plain ``jax.jit``, tokens sharded
        along Explicit mesh axes are handled this way automatically; with
        Auto axes the partitioner handles them.
      memory_budget: bytes of temporaries the planner may spend on the
        float32 gradient accumulators of the ``"in_forward"`` plan (default
        256 MiB); above it, the ``"vocab_outer"`` plan (see
        :mod:`jaxdiv.fused.plan`).

    Returns:
      A scalar for ``"mean"`` and ``"sum"``, ``labels``' shape for
      ``"none"``; float32 for 16-bit input.

    Raises:
      TypeError: non-floating ``hidden``/``weight``/``bias``, non-integer
        ``labels``, or a traced option.
      ValueError: mismatched shapes or an option out of range.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxdiv.fused
      >>> h = jnp.sin(jnp.arange(24.0)).reshape(6, 4)  # hidden states [N, D]
      >>> w = jnp.cos(jnp.arange(40.0)).reshape(4, 10)  # weight [D, V]
      >>> y = jnp.array([1, 2, 3, 4, 5, 6])
      >>> loss = jaxdiv.fused.linear_cross_entropy(h, w, y)
      >>> dense = jnp.mean(jax.nn.logsumexp(h @ w, axis=-1) - (h @ w)[jnp.arange(6), y])
      >>> bool(jnp.allclose(loss, dense))
      True

      With the vocabulary in chunks of 4 (as for a large vocabulary), and
      both gradients:

      >>> import functools
      >>> f = functools.partial(jaxdiv.fused.linear_cross_entropy, chunk_size=4)
      >>> loss4, (gh, gw) = jax.jit(jax.value_and_grad(f, (0, 1)))(h, w, y)
      >>> bool(jnp.allclose(loss4, dense)), gh.shape, gw.shape
      (True, (6, 4), (4, 10))

    References:
      Wijmans et al., `Cut Your Losses in Large-Vocabulary Language Models
      <https://arxiv.org/abs/2411.09009>`_, 2024.
      Hsu et al., `Liger Kernel: Efficient Triton Kernels for LLM Training
      <https://arxiv.org/abs/2410.10989>`_, 2024.
      Chowdhery et al., `PaLM: Scaling Language Modeling with Pathways
      <https://arxiv.org/abs/2204.02311>`_, 2022 (z-loss).
    """
    name = "fused.linear_cross_entropy"
    hidden, weight = validation.projection(name, hidden, weight)
    labels = checks.integer(name, "labels", labels)
    batch = hidden.shape[:-1]
    check_labels_shape(name, labels, batch, hidden.shape)
    bias = validation.vector(name, "bias", bias, weight.shape[1])
    smoothing = checks.number(name, "label_smoothing", label_smoothing, low=0, high=1)
    zeta = checks.number(name, "z_loss", z_loss, low=0)
    cap = logit_softcap
    if cap is not None:
        cap = checks.number(name, "logit_softcap", cap, low=0, open_low=True)
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
    if ignore_index is not None:
        ignore_index = operator.index(ignore_index)
        keep = labels != ignore_index
        where = keep if where is None else where & keep
    check_labels(name, labels, where, weight.shape[1] * axis_size(opts.axis_name))
    head = CrossEntropy(nonzero(smoothing), nonzero(zeta), cap is not None)
    params = values(
        acc_dtype(hidden, weight),
        CrossEntropyParams,
        smoothing=smoothing,
        z_loss=zeta,
        cap=1.0 if cap is None else cap,
    )
    out = run(head, (hidden,), (weight,), bias, labels, params, where, batch, opts)
    return out[0] if opts.reduction == "none" else out
