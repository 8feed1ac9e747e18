r"""Large-vocabulary losses fused with their output projection.

The logits of a language-model head, ``hidden @ weight`` with ``hidden [N, D]``
and ``weight [D, V]``, are the largest tensor of a training step when ``V`` is
a vocabulary of 32k to 256k tokens: ``N * V`` floats, twice over once the
gradient is taken. The functions here compute the loss (or per-token
log-probabilities), and under ``jax.grad`` their gradients, from ``hidden``
and ``weight`` directly, one ``[rows, cols]`` tile of logits at a time.

Design (one module per piece)
-----------------------------
* :mod:`~jaxdiv.fused.cross_entropy`, :mod:`~jaxdiv.fused.distillation`,
  :mod:`~jaxdiv.fused.log_probs`: the public functions and their
  validation; :mod:`~jaxdiv.fused.run` flattens, masks, plans and reduces.
* :mod:`~jaxdiv.fused.plan`: the tiling plan, a validated dataclass, and
  the rule choosing the loop order and tile sizes from the static shapes,
  dtypes and a memory budget the caller may override (``memory_budget=``).
* :mod:`~jaxdiv.fused.stats`: running statistics (a running maximum per
  distribution, sums relative to it), so that log-probabilities are
  ``(s - max) - log sum``, never ``s - (max + log sum)``.
* :mod:`~jaxdiv.fused.heads`, :mod:`~jaxdiv.fused.distillation_head`: the
  losses per tile behind one protocol (cross-entropy, distillation,
  log-probabilities).
* :mod:`~jaxdiv.fused.sweep`: the loops over tiles; :mod:`~jaxdiv.fused.vjp`:
  the custom VJPs; :mod:`~jaxdiv.fused.sharding`: vocabulary- and
  token-parallel helpers; :mod:`~jaxdiv.fused.reference`: dense references.

**Plans.** ``"in_forward"`` (token blocks outer): each tile's gradient is
contracted as soon as its row statistics are known; a reduced loss forms its
gradients in the forward pass (three matmuls when the vocabulary is one
chunk, as many as unfused) with a float32 ``[D, V]`` accumulator.
``"vocab_outer"`` (Cut Cross-Entropy's order): the forward pass computes
``O(N)`` statistics; the backward pass runs over vocabulary chunks,
recomputes each logits tile, writes each chunk's ``d weight`` once in the
weight's dtype and accumulates a float32 ``d hidden`` ``[N, D]``: one matmul
more, no ``[D, V]`` temporary. The planner takes ``"in_forward"`` when its
accumulators fit the budget (256 MiB by default), else ``"vocab_outer"``.

Matmul counts (each ``2 N D V`` FLOPs; S student / cross-entropy, T teacher;
unfused: S 3 + T 1 with the gradient, S 1 + T 1 without):

====================  ================  =================  ===========
loss                  in_forward, mean  vocab_outer, or    value only
                      or sum, 1 chunk   reduction "none"
====================  ================  =================  ===========
cross-entropy         S 3               S 4                S 1
forward / reverse KL  S 3 + T 1         S 4 + T 2          S 1 + T 1
JSD                   S 3 + T 1         S 5 + T 3          S 2 + T 2
log-probs             --                S 4                S 1
====================  ================  =================  ===========

(with the vocabulary in several chunks, ``in_forward`` costs ``S 4``: a
statistics pass, then the gradient pass recomputing each tile.)

**Memory.** Value only: a few tiles and ``O(N)`` statistics (float32
input). With the gradient: ``"in_forward"`` adds the float32 ``[D, V]`` and
``[N, D]`` accumulators; ``"vocab_outer"`` adds the float32 ``d hidden`` and
one ``[D, cols]`` float32 tile besides the gradients themselves. On XLA's
CPU backend 16-bit inputs also cost one 16-bit copy of ``hidden`` and
``weight``: the integer views through which their tiles are sliced, since
slicing the floats makes XLA hoist a float32 widening of the whole operand
out of the loop (see :func:`jaxdiv.fused.sweep._slice`).

**Precision.** Matmuls run in the input dtype with float32 accumulation
(on CPU, 16-bit tiles are widened first: its runtime lacks some
16-bit x 16-bit -> float32 dots); every statistic, tile and accumulator is
float32 (float64 for float64 input) and the outputs are float32 for 16-bit
input. Gradients are returned in the input dtypes. Reverse mode only
(``jax.grad``, ``jax.vjp``), not ``jax.jvp``.

**Vocabulary parallelism.** With ``axis_name``, inside ``shard_map`` each
device holds ``weight[:, V_local]`` (and ``bias[V_local]``) of a vocabulary
split evenly along that axis in device order; ``hidden``, ``labels`` and
``where`` are the same on every device of the axis. Statistics are combined
with ``pmax``/``psum`` once per token block and ``d hidden`` is summed.

**Data parallelism.** Under plain ``jax.jit``, tokens sharded along Explicit
mesh axes make each device run on its own tokens inside ``shard_map``, with
the reductions (the sum and the count of kept tokens) taken across devices;
inside a user's ``shard_map``, ``token_axis_name`` does the same.
"""

from .cross_entropy import linear_cross_entropy as linear_cross_entropy
from .distillation import linear_distillation_loss as linear_distillation_loss
from .log_probs import linear_log_probs as linear_log_probs

__all__ = ["linear_cross_entropy", "linear_distillation_loss", "linear_log_probs"]
