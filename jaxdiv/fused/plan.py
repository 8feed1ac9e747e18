"""The tiling plan: which loop order, which tile sizes (the rule in one place).

Two ways to take the gradient of a fused loss (see the package
documentation for the matmul counts):

``"in_forward"``
  Token blocks outer, vocabulary chunks inner; each logits tile's gradient
  is contracted as soon as its row statistics are known, ``d weight`` is
  accumulated in float32 across all token blocks. Three matmuls when the
  vocabulary is one chunk; its temporaries hold a ``[D, V]`` float32
  accumulator.
``"vocab_outer"``
  Cut Cross-Entropy's order: a first sweep computes each token's
  log-normaliser (``O(N)`` statistics); the backward pass then runs over
  vocabulary chunks, recomputes the logits tile of each token block,
  accumulates that chunk's ``d weight`` over all tokens in a float32
  ``[D, cols]`` tile, writes it once in the weight's dtype, and adds into a
  float32 ``d hidden`` ``[N, D]``. One matmul more; no ``[D, V]`` temporary.

**The rule.** ``"in_forward"`` when its float32 accumulators
(``(D * V + N * D) * 4`` bytes) fit in ``memory_budget`` (default
:data:`DEFAULT_MEMORY_BUDGET`, 256 MiB), else ``"vocab_outer"``. Tiles: a
token block holds ``max(256, 2**18 // V)`` rows; a vocabulary chunk at
most ``2**23 // rows`` columns, and, for 16-bit weights (whose chunk is
widened to float32 on CPU), at most ``2**22 // D`` columns so that no
widened copy of the weight exists, and a token block at most
``max(256, 2**22 // D)`` rows (a widened hidden block of 16 MiB). The
backward tiles of ``"vocab_outer"``
hold at most ``2**22 // D`` columns (a float32 ``[D, cols]`` accumulator of
16 MiB) and ``2**22 // cols`` rows. Explicit ``chunk_size`` and
``token_chunk_size`` override every tile size.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

DEFAULT_MEMORY_BUDGET = 256 * 2**20
METHODS = ("in_forward", "vocab_outer")

_TILE = 1 << 23  # logits per statistics tile
_ROW_TILE = 1 << 18  # logits per token block at small V (runs in cache)
_MIN_ROWS = 256
_WEIGHT_TILE = 1 << 22  # entries of a [D, cols] float32 weight tile


@dataclasses.dataclass(frozen=True)
class Plan:
    """Static tiling of ``n`` tokens and ``v`` (local) vocabulary entries.

    Attributes:
      n, d, v: tokens, hidden size, vocabulary entries (per device).
      rows, cols: token block and vocabulary chunk of the statistics sweep
        (and of the ``"in_forward"`` gradient).
      method: ``"in_forward"`` or ``"vocab_outer"`` (module documentation).
      grad_rows, grad_cols: tiles of the ``"vocab_outer"`` backward pass.
      axis_name: the mesh axis splitting the vocabulary, or ``None``.
    """

    n: int
    d: int
    v: int
    rows: int
    cols: int
    method: str = "in_forward"
    grad_rows: int = 1
    grad_cols: int = 1
    axis_name: Any = None

    def __post_init__(self):
        for f in ("n", "d", "v", "rows", "cols", "grad_rows", "grad_cols"):
            x = getattr(self, f)
            if not isinstance(x, int) or x < 1:
                raise ValueError(f"Plan.{f} must be a positive int, got {x!r}.")
        if self.rows > self.n or self.grad_rows > self.n:
            raise ValueError(f"Plan: token blocks exceed n={self.n}: {self}.")
        if self.cols > self.v or self.grad_cols > self.v:
            raise ValueError(f"Plan: vocabulary chunks exceed v={self.v}: {self}.")
        if self.method not in METHODS:
            raise ValueError(f"Plan.method must be one of {METHODS}: {self.method!r}.")

    def describe(self) -> str:
        s = f"{self.method}: stats tiles {self.rows}x{self.cols}"
        if self.method == "vocab_outer":
            s += f", backward tiles {self.grad_rows}x{self.grad_cols}"
        return s


def starts(total: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Start of each block of ``size`` in ``[0, total)``, the last one shifted
    back to end at ``total``, and the first index no earlier block covered."""
    count = -(-total // size)
    first = np.arange(count, dtype=np.int32) * size
    return np.minimum(first, total - size).astype(np.int32), first


def make_plan(
    *,
    n: int,
    d: int,
    v: int,
    weight_itemsize: int,
    acc_itemsize: int = 4,
    chunk_size: int | None = None,
    token_chunk_size: int | None = None,
    memory_budget: int | None = None,
    axis_name: Any = None,
) -> Plan:
    """The plan for ``n`` tokens, hidden size ``d`` and ``v`` local entries."""
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    method = "in_forward" if (d * v + n * d) * acc_itemsize <= budget else "vocab_outer"
    cols, rows = chunk_size, token_chunk_size
    if cols is None and rows is None:
        rows = max(_MIN_ROWS, _ROW_TILE // v)
        cols = max(1, _TILE // min(rows, n))
        if weight_itemsize < 4:
            cols = min(cols, max(128, _WEIGHT_TILE // d))
            rows = max(rows, _ROW_TILE * 8 // max(cols, 1))
            # and no widened [rows, D] block of hidden above 16 MiB
            rows = min(rows, max(_MIN_ROWS, _WEIGHT_TILE // d))
        grad_cols = max(128, _WEIGHT_TILE // d)
        grad_rows = max(_MIN_ROWS, _WEIGHT_TILE // min(grad_cols, v))
    else:
        cols = v if cols is None else cols
        rows = n if rows is None else rows
        grad_cols, grad_rows = cols, rows
    return Plan(
        n=n,
        d=d,
        v=v,
        rows=min(rows, n),
        cols=min(cols, v),
        method=method,
        grad_rows=min(grad_rows, n),
        grad_cols=min(grad_cols, v),
        axis_name=axis_name,
    )
