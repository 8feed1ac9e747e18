r"""Large-vocabulary losses fused with their output projection.

The logits of a language-model head, ``hidden @ weight`` with ``hidden [N, D]``
and ``weight [D, V]``, are the largest tensor of a training step when ``V`` is
a vocabulary of 32k to 256k tokens: ``N * V`` floats, twice over once the
gradient is taken. The functions here compute the loss, and under
``jax.grad`` its gradients, from ``hidden`` and ``weight`` directly, one
``[rows, cols]`` tile of logits at a time, so that the full ``[N, V]`` logits
never exist.

Design
------
**Tiles.** Tokens are cut into blocks of ``rows`` (``token_chunk_size``) and
the vocabulary into chunks of ``cols`` (``chunk_size``); an outer
``lax.scan`` runs over token blocks and, when ``cols < V``, inner
``lax.scan`` s over vocabulary chunks. A last block (chunk) that does not fit
is shifted back to end at ``N`` (``V``) and the entries it shares with the
one before are masked out, so every tile has one static shape, nothing is
padded and nothing is copied. Memory is therefore
``O(rows * cols + N * D + D * V)`` (see below), against ``O(N * V)`` unfused.

**Passes.** With the statistics of a row known (its log-normaliser and the
few sums a loss needs), the gradient of the logits tile is local, and it is
contracted at once: ``d hidden += g @ W_c^T`` and ``d W_c += h^T @ g``.
Finding those statistics needs the whole row first, so:

* ``cols >= V`` (one chunk, the default whenever ``V`` fits the tile
  budget): each logits tile is computed once and serves every pass; the
  loss with its gradient costs the three matmuls of the unfused computation
  (logits, ``d hidden``, ``d weight``).
* ``cols < V``: a first pass over the chunks accumulates the statistics with
  an online (running maximum) logsumexp, a second pass recomputes each
  logits tile and forms its gradient: four matmuls, one recomputation.

**Gradient in the forward pass.** For ``reduction="mean"`` or ``"sum"`` the
output is a scalar whose cotangent only scales the gradient, so a
``jax.custom_vjp`` forms the gradients while it computes the loss and keeps
them as residuals; its backward only multiplies them by the cotangent.
Plain evaluation, without differentiation, runs the statistics passes only,
and an input that is not differentiated (``jax.grad(..., argnums=0)``, say)
costs no matmul (symbolic zeros). For ``reduction="none"`` the per-token
cotangent is known only in the backward pass: the forward keeps the
per-token statistics (``O(N)``) and the backward recomputes the logits tiles
(one extra matmul). These functions support reverse-mode differentiation
(``jax.grad``, ``jax.vjp``), not ``jax.jvp``.

Matmul counts, each ``2 N D V`` FLOPs ("S" student / cross-entropy, "T"
teacher); the unfused computation does S 3 and T 1 with the gradient, S 1
and T 1 without:

=================  ===========  =============  ==============  ============
loss               mean/sum,    mean/sum,      none, with      value only
                   one chunk    chunked        gradient
=================  ===========  =============  ==============  ============
cross-entropy      S 3          S 4            S 4             S 1
forward / reverse  S 3 + T 1    S 4 + T 2      S 4 + T 2       S 1 + T 1
KL
JSD                S 3 + T 1    S 5 + T 3      S 4 + T 2 (one  S 1 + T 1
                                               chunk), S 5 +   (one chunk),
                                               T 3 (chunked)   S 2 + T 2
=================  ===========  =============  ==============  ============

Forward and reverse KL take their values from the first pass (the
expectation under the teacher, resp. student, is accumulated with the same
running-maximum rescaling as the normaliser); the generalised JSD needs
both normalisers before its mixture can be formed, hence its extra pass
when the vocabulary is chunked.

**Memory.** Temporaries: a few ``[rows, cols]`` float32 tiles. Under
differentiation of a reduced loss, also the float32 gradients kept from the
forward pass (``[N, D]``, ``[D, V]`` and ``[V]``: the sizes of the inputs)
and, when ``d weight`` is formed, a transposed copy of ``hidden`` (``[D, N]``,
so that ``h^T @ g`` is a plain matmul); for ``reduction="none"``, ``O(N)``
statistics. At ``N = 4096, D = 512, V = 32768`` the compiled temporary memory
of the loss with both gradients is about 105 MiB against 1024 MiB for
``hidden @ weight`` followed by optax.

**Precision.** Matmuls run in the input dtype with float32 accumulation
(``preferred_element_type``); every statistic, tile and gradient accumulator
is float32 (float64 for float64 input), and the loss is float32 for 16-bit
input. Gradients are returned in the input dtypes.

**Vocabulary parallelism.** With ``axis_name``, inside ``shard_map`` each
device holds a slice ``weight[:, V_local]`` (and ``bias[V_local]``) of a
vocabulary split evenly along that mesh axis, in device order; ``hidden``,
``labels`` and ``where`` are the same on every device of the axis. The
running statistics are combined with ``pmax``/``psum`` once per token
block, a label is scored by the device owning its vocabulary range, and
``d hidden`` is summed over the axis; every device returns the full loss.

**Data parallelism.** Under plain ``jax.jit``, token-sharded inputs work
as they are: with Auto mesh axes XLA partitions the computation; with
Explicit mesh axes (``jax.make_mesh``'s default) each device runs the
fused loss on its own tokens inside ``shard_map`` and the reductions (the
sum and the count of kept tokens of ``"mean"``) are taken across devices.
Inside a user's ``shard_map``, ``token_axis_name`` does the same. The
gradient of a weight replicated across such an axis is summed across it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import PartitionSpec as P
from jax.typing import ArrayLike

from . import _checks
from ._numerics import clamp_nonnegative, log_mix

__all__ = ["linear_cross_entropy", "linear_distillation_loss"]

AxisName = str | tuple[str, ...] | None

# Default tiling. Token blocks hold _ROW_TILE logits (1 MiB of float32, so
# that the elementwise passes over a tile run in cache) but at least
# _MIN_ROWS tokens (so that the matmuls stay efficient and the [D, V]
# d_weight accumulator is not re-read too often). Vocabulary chunks hold up
# to _TILE logits per tile (32 MiB): a vocabulary of up to _TILE // _MIN_ROWS
# = 32768 entries is kept in one chunk (three matmuls); larger ones are
# chunked (four). Measured on a 2-core CPU at N = 4096, D = 512: at V = 1024,
# 256-token blocks instead of one 4096-token block take the fused
# distillation from 1.03x to 0.84x of the unfused time.
_TILE = 1 << 23
_ROW_TILE = 1 << 18
_MIN_ROWS = 256

_REDUCTIONS = ("mean", "sum", "none")
_DIVERGENCES = ("forward_kl", "reverse_kl", "jsd")


# --------------------------------------------------------------------------
# tiling plan


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Static tiling: ``n`` tokens in blocks of ``rows``, ``v`` (local)
    vocabulary entries in chunks of ``cols``."""

    n: int
    v: int
    rows: int
    cols: int
    axis_name: Any = None

    @property
    def nb(self) -> int:
        return -(-self.n // self.rows)

    @property
    def nv(self) -> int:
        return -(-self.v // self.cols)

    def starts(self, total: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Start of each block, and the first index no earlier block covered."""
        count = -(-total // size)
        first = np.arange(count, dtype=np.int32) * size
        return np.minimum(first, total - size).astype(np.int32), first


def _plan(name, n, v, chunk_size, token_chunk_size, axis_name) -> _Plan:
    cols = _checks.size_or_none(name, "chunk_size", chunk_size)
    rows = _checks.size_or_none(name, "token_chunk_size", token_chunk_size)
    if cols is None and rows is None:
        rows = max(_MIN_ROWS, _ROW_TILE // v)
        cols = max(1, _TILE // min(rows, n))
    elif cols is None:
        cols = v
    elif rows is None:
        rows = n
    return _Plan(n, v, max(1, min(rows, n)), max(1, min(cols, v)), axis_name)


def _unblock(y: jax.Array, plan: _Plan) -> jax.Array:
    """``[nb, rows, ...]`` per-block outputs to ``[n, ...]`` (drops overlaps)."""
    nb, rows, n = plan.nb, plan.rows, plan.n
    flat = y.reshape((nb * rows,) + y.shape[2:])
    if nb * rows == n:
        return flat
    return jnp.concatenate([flat[: (nb - 1) * rows], y[-1, nb * rows - n :]])


# --------------------------------------------------------------------------
# shard_map helpers (varying manual axes)


def _vma(*xs) -> frozenset:
    """Mesh axes along which any of ``xs`` varies (inside ``shard_map``)."""
    out: set = set()
    for x in jax.tree.leaves(xs):
        try:
            aval = jax.typeof(x)
        except (AttributeError, TypeError):  # pragma: no cover - old JAX
            return frozenset()
        mat = getattr(aval, "manual_axis_type", None)
        out |= set(getattr(mat, "varying", None) or getattr(aval, "vma", ()) or ())
    return frozenset(out)


def _vary(x: jax.Array, vma: frozenset) -> jax.Array:
    """Marks a fresh constant (a scan carry's start) as varying along ``vma``."""
    missing = tuple(sorted(vma - _vma(x)))
    if not missing:
        return x
    if hasattr(lax, "pcast"):
        return lax.pcast(x, missing, to="varying")
    return lax.pvary(x, missing)  # pragma: no cover - older JAX


def _axis_size(axis_name) -> int:
    if axis_name is None:
        return 1
    names = axis_name if isinstance(axis_name, tuple) else (axis_name,)
    size = getattr(lax, "axis_size", None) or (lambda a: lax.psum(1, a))
    return int(np.prod([size(a) for a in names]))


# --------------------------------------------------------------------------
# running statistics: groups (max, sums rescaled with it) and plain sums


@dataclasses.dataclass(frozen=True)
class _Stats:
    groups: tuple  # ((m [B], (r [B], ...)), ...)
    plain: tuple  # (a [B], ...)


jax.tree_util.register_dataclass(
    _Stats, data_fields=["groups", "plain"], meta_fields=[]
)


def _exp_terms(x: jax.Array, ok: jax.Array | None):
    """Row maximum and ``exp(x - max)`` over the columns ``ok`` keeps."""
    if ok is not None:
        x = jnp.where(ok, x, -jnp.inf)
    m = lax.stop_gradient(jnp.max(x, axis=-1))
    return m, jnp.exp(x - m[:, None])


def _label_logit(s: jax.Array, ok, cols: jax.Array, y: jax.Array) -> jax.Array:
    """``s[n, y_n]`` where label ``y_n`` is one of the (kept) columns, else 0.

    A gather of one entry per row, not a pass over the tile.
    """
    local = y - cols[0, 0]  # cols: [1, C], consecutive
    inside = (local >= 0) & (local < s.shape[1])
    local = jnp.clip(local, 0, s.shape[1] - 1)
    if ok is not None:
        inside = inside & ok[0, local]
    val = jnp.take_along_axis(s, local[:, None], axis=1)[:, 0]
    return jnp.where(inside, val, 0.0)


def _factor(m_old: jax.Array, m_new: jax.Array) -> jax.Array:
    return jnp.where(m_old == -jnp.inf, 0.0, jnp.exp(m_old - m_new))


def _merge(a: _Stats, b: _Stats) -> _Stats:
    groups = []
    for (ma, ra), (mb, rb) in zip(a.groups, b.groups, strict=True):
        m = jnp.maximum(ma, mb)
        fa, fb = _factor(ma, m), _factor(mb, m)
        groups.append((m, tuple(x * fa + y * fb for x, y in zip(ra, rb, strict=True))))
    plain = tuple(x + y for x, y in zip(a.plain, b.plain, strict=True))
    return _Stats(tuple(groups), plain)


def _allmerge(st: _Stats, axis_name) -> _Stats:
    """Combines the statistics of the vocabulary slices held across devices."""
    groups = []
    for m, rs in st.groups:
        mg = lax.pmax(m, axis_name)
        f = _factor(m, mg)
        groups.append((mg, tuple(lax.psum(r * f, axis_name) for r in rs)))
    return _Stats(tuple(groups), tuple(lax.psum(a, axis_name) for a in st.plain))


# --------------------------------------------------------------------------
# matmul pieces


def _row(size: int) -> jax.Array:
    """``arange(size)`` as a ``[1, size]`` row (column indices of a tile)."""
    return jnp.arange(size, dtype=jnp.int32)[None, :]


def _cols(w: jax.Array, c0, size: int) -> jax.Array:
    if size == w.shape[-1]:
        return w
    return lax.dynamic_slice_in_dim(w, c0, size, axis=w.ndim - 1)


def _acc_dtype(*xs) -> jnp.dtype:
    return jnp.promote_types(jnp.result_type(*xs), jnp.float32)


def _dot(a: jax.Array, b: jax.Array, acc) -> jax.Array:
    """``a [B, D] @ b [D, C]`` in the input dtype, accumulated in ``acc``."""
    return lax.dot_general(a, b, (((1,), (0,)), ((), ())), preferred_element_type=acc)


def _dot_t(g: jax.Array, w: jax.Array, acc) -> jax.Array:
    """``g [B, C] @ w[D, C]^T``."""
    return lax.dot_general(g, w, (((1,), (1,)), ((), ())), preferred_element_type=acc)


def _t_dot(ht: jax.Array, g: jax.Array, acc) -> jax.Array:
    """``h[B, D]^T @ g [B, C]`` from ``ht = h^T [D, B]``.

    ``h`` is transposed once, before the sweep, and each block's ``[D, B]``
    slice taken from that: a plain ``[D, B] @ [B, C]`` matmul runs markedly
    faster on XLA's CPU backend than one contracting the leading dimension of
    both operands (which is what XLA makes of ``h_b.T @ g`` inside the loop).
    """
    return _dot(ht, g, acc)


# --------------------------------------------------------------------------
# the losses, per tile ("heads")


@dataclasses.dataclass(frozen=True)
class _CrossEntropy:
    """Softmax cross-entropy with integer labels, smoothing, z-loss, softcap.

    The static fields say which terms are present; their values (possibly
    traced) are in ``hp``, bound by :func:`_sweep`.
    """

    smooth: bool
    zloss: bool
    softcap: bool
    hp: Any = dataclasses.field(default=None, compare=False)
    npasses = 1

    def tiles(self, hs, ws, bias, c0, size, acc):
        z = _dot(hs[0], _cols(ws[0], c0, size), acc)
        if bias is not None:
            z = z + _cols(bias, c0, size).astype(acc)[None, :]
        if self.softcap:
            c = self.hp["cap"]
            z = c * jnp.tanh(z / c)
        return (z,)

    def stats(self, k, tiles, ok, cols, y, fin):
        (s,) = tiles
        m, e = _exp_terms(s, ok)
        plain = (_label_logit(s, ok, cols, y),)
        if self.smooth:
            kept = s if ok is None else jnp.where(ok, s, 0.0)
            plain = plain + (jnp.sum(kept, axis=-1),)
        return _Stats(((m, (jnp.sum(e, axis=-1),)),), plain)

    def finish(self, k, st, fin, v_total):
        ((m, (se,)),) = st.groups
        # lse - (1 - a) s_y - a mean(s), written relative to the maximum m
        if self.smooth:
            a = self.hp["a"]
            value = jnp.log(se) - (1.0 - a) * (st.plain[0] - m)
            value = value - a * (st.plain[1] / v_total - m)
        else:
            value = jnp.log(se) - (st.plain[0] - m)
        lse = m + jnp.log(se)
        if self.zloss:
            value = value + self.hp["z"] * lse**2
        return {"lse": lse, "value": value}

    def grad(self, tiles, cols, y, fin, v_total):
        (s,) = tiles
        lse = fin["lse"][:, None]
        p = jnp.exp(s - lse)
        if self.zloss:
            p = p * (1.0 + 2.0 * self.hp["z"] * lse)
        if self.smooth:
            a = self.hp["a"]
            g = p - jnp.where(cols == y[:, None], 1.0 - a, 0.0) - a / v_total
        else:
            g = p - jnp.where(cols == y[:, None], 1.0, 0.0)
        if self.softcap:
            g = g * (1.0 - jnp.square(s / self.hp["cap"]))
        return g


@dataclasses.dataclass(frozen=True)
class _Distillation:
    """T^2-scaled divergence between tempered teacher and student softmaxes.

    ``hp`` holds the temperature ``"t"`` and the JSD mixture weight ``"beta"``.
    """

    divergence: str
    hp: Any = dataclasses.field(default=None, compare=False)

    @property
    def npasses(self) -> int:
        return 2 if self.divergence == "jsd" else 1

    def tiles(self, hs, ws, bias, c0, size, acc):
        inv_t = 1.0 / self.hp["t"]
        zs = _dot(hs[0], _cols(ws[0], c0, size), acc) * inv_t
        zt = _dot(hs[1], _cols(ws[1], c0, size), acc) * inv_t
        return zs, zt

    def _mixture(self, lps, lpt):
        # JS_beta(teacher, student) = beta KL(t || m) + (1 - beta) KL(s || m),
        # m = beta t + (1 - beta) s: jaxdiv.losses.distillation_loss's
        # js_divergence_from_logits(teacher, student, weight=beta)
        return log_mix(lpt, lps, self.hp["beta"])

    def stats(self, k, tiles, ok, cols, y, fin):
        zs, zt = tiles
        if k == 0:
            ms, es = _exp_terms(zs, ok)
            mt, et = _exp_terms(zt, ok)
            ss, st = jnp.sum(es, axis=-1), jnp.sum(et, axis=-1)
            if self.divergence == "forward_kl":
                a = jnp.sum(et * (zt - zs), axis=-1)
                return _Stats(((ms, (ss,)), (mt, (st, a))), ())
            if self.divergence == "reverse_kl":
                a = jnp.sum(es * (zs - zt), axis=-1)
                return _Stats(((ms, (ss, a)), (mt, (st,))), ())
            return _Stats(((ms, (ss,)), (mt, (st,))), ())
        beta = self.hp["beta"]
        lps = zs - fin["lse_s"][:, None]
        lpt = zt - fin["lse_t"][:, None]
        lm = self._mixture(lps, lpt)
        ps, pt = jnp.exp(lps), jnp.exp(lpt)
        ks = ps * (lps - lm)
        js = beta * pt * (lpt - lm) + (1.0 - beta) * ks
        if ok is not None:
            js, ks = jnp.where(ok, js, 0.0), jnp.where(ok, ks, 0.0)
        return _Stats((), (jnp.sum(js, axis=-1), jnp.sum(ks, axis=-1)))

    def finish(self, k, st, fin, v_total):
        t2 = jnp.square(self.hp["t"])
        if k == 1:
            js, ks = st.plain
            return {**fin, "value": t2 * clamp_nonnegative(js), "kl": ks}
        (ms, rs), (mt, rt) = st.groups
        lse_s, lse_t = ms + jnp.log(rs[0]), mt + jnp.log(rt[0])
        fin = {"lse_s": lse_s, "lse_t": lse_t, "m_s": ms, "m_t": mt}
        fin.update({"inv_s": 1.0 / rs[0], "inv_t": 1.0 / rt[0]})
        if self.divergence == "forward_kl":
            kl = rt[1] / rt[0] - (lse_t - lse_s)
        elif self.divergence == "reverse_kl":
            kl = rs[1] / rs[0] - (lse_s - lse_t)
        else:
            return fin
        return {**fin, "kl": kl, "value": t2 * clamp_nonnegative(kl)}

    def grad(self, tiles, cols, y, fin, v_total):
        zs, zt = tiles
        lps = zs - fin["lse_s"][:, None]
        lpt = zt - fin["lse_t"][:, None]
        if self.divergence == "jsd":
            # d JS / d log p_s = (1 - beta) p_s (log(p_s / m) - KL(p_s || m));
            # exp(lps) as in the second statistics pass (XLA computes it once)
            lm = self._mixture(lps, lpt)
            ps = jnp.exp(lps)
            g = (1.0 - self.hp["beta"]) * ps * (lps - lm - fin["kl"][:, None])
        else:
            # softmax as exp(z - max) / sum: in a single vocabulary chunk the
            # very exponentials of the statistics pass (XLA computes them
            # once), elsewhere the same numbers from the merged statistics
            ps = jnp.exp(zs - fin["m_s"][:, None]) * fin["inv_s"][:, None]
            if self.divergence == "forward_kl":
                pt = jnp.exp(zt - fin["m_t"][:, None]) * fin["inv_t"][:, None]
                g = ps - pt
            else:
                g = ps * (lps - lpt - fin["kl"][:, None])
        # d/d(raw logits) of T^2 D(softmax(z / T)) = T^2 * (1 / T) * (...)
        return self.hp["t"] * g


# --------------------------------------------------------------------------
# the sweep over tiles


def _sweep(head, plan: _Plan, hs, ws, bias, aux, *, scale=None, fin=None, want=()):
    """Runs the tiles over all tokens.

    Args:
      hs, ws: tuples of hidden ``[N, D_i]`` and weights ``[D_i, V]``; the
        gradient is taken with respect to ``hs[0]``, ``ws[0]`` and ``bias``.
      aux: ``(labels [N] or None, hp)``, ``hp`` the head's option values.
      scale: ``[N]`` weight of each token's gradient; ``None``: no gradient.
      fin: per-token statistics of an earlier sweep (then only the gradient
        pass runs), or ``None``.
      want: subset of ``{"h", "w", "b"}``, the gradients to form.

    Returns:
      ``(fin, grads)``: per-token statistics ``[N]`` (with ``"value"``) and a
      dict with ``"h" [N, D_0]``, ``"w" [D_0, V]``, ``"b" [V]`` as wanted.
    """
    acc = _acc_dtype(*hs, *ws)
    cdt = hs[0].dtype
    rows, cols, nv, v = plan.rows, plan.cols, plan.nv, plan.v
    axis_name = plan.axis_name
    labels, hp = aux
    head = dataclasses.replace(head, hp=hp)
    vma = _vma(hs, ws, bias, labels)
    if axis_name is None:
        off = 0
    else:
        off = lax.axis_index(axis_name) * v
    v_total = v * _axis_size(axis_name)
    c_starts, c_fresh = (jnp.asarray(a) for a in plan.starts(v, cols))
    grad = scale is not None

    def tiles_at(hs_b, c0, size):
        return head.tiles(hs_b, ws, bias, c0, size, acc)

    def stats_passes(hs_b, yb):
        fin_b: dict = {}
        tiles = tiles_at(hs_b, 0, v) if nv == 1 else None
        for k in range(head.npasses):
            if nv == 1:
                st = head.stats(k, tiles, None, off + _row(v), yb, fin_b)
            else:

                def body(st, x, k=k, fin_b=fin_b):
                    c0, first = x
                    j = c0 + _row(cols)
                    t = tiles_at(hs_b, c0, cols)
                    return _merge(
                        st, head.stats(k, t, j >= first, off + j, yb, fin_b)
                    ), None

                st0 = head.stats(
                    k, tiles_at(hs_b, 0, cols), None, off + _row(cols), yb, fin_b
                )
                st, _ = lax.scan(
                    body, _vary_stats(st0, vma), (c_starts[1:], c_fresh[1:])
                )
            if axis_name is not None:
                st = _allmerge(st, axis_name)
            fin_b = head.finish(k, st, fin_b, v_total)
        return fin_b, tiles

    def grad_block(hs_b, ht_b, yb, fin_b, sc, tiles, dw, db):
        w0 = ws[0]
        dh = None
        if nv == 1:
            if tiles is None:
                tiles = tiles_at(hs_b, 0, v)
            g = head.grad(tiles, off + _row(v), yb, fin_b, v_total)
            g = g * sc[:, None]
            gc = g.astype(cdt)
            if "h" in want:
                dh = _dot_t(gc, w0, acc)
            if "w" in want:
                dw = dw + _t_dot(ht_b, gc, acc)
            if "b" in want:
                db = db + jnp.sum(g, axis=0)
            return dh, dw, db

        def body(carry, x):
            dh, dw, db = carry
            c0, first = x
            j = c0 + _row(cols)
            g = head.grad(tiles_at(hs_b, c0, cols), off + j, yb, fin_b, v_total)
            g = jnp.where(j >= first, g * sc[:, None], 0.0)
            gc = g.astype(cdt)
            if "h" in want:
                dh = dh + _dot_t(gc, _cols(w0, c0, cols), acc)
            if "w" in want:
                upd = lax.dynamic_slice_in_dim(dw, c0, cols, axis=1) + _t_dot(
                    ht_b, gc, acc
                )
                dw = lax.dynamic_update_slice_in_dim(dw, upd, c0, axis=1)
            if "b" in want:
                upd = lax.dynamic_slice_in_dim(db, c0, cols) + jnp.sum(g, axis=0)
                db = lax.dynamic_update_slice_in_dim(db, upd, c0, axis=0)
            return (dh, dw, db), None

        dh0 = (
            _vary(jnp.zeros((rows, hs_b[0].shape[1]), acc), vma)
            if "h" in want
            else None
        )
        (dh, dw, db), _ = lax.scan(body, (dh0, dw, db), (c_starts, c_fresh))
        return dh, dw, db

    def block(carry, x):
        dw, db = carry
        s, first = x
        hs_b = tuple(lax.dynamic_slice_in_dim(h, s, rows) for h in hs)
        yb = None if labels is None else lax.dynamic_slice_in_dim(labels, s, rows)
        out = {}
        if fin is None:
            fin_b, tiles = stats_passes(hs_b, yb)
            out["fin"] = fin_b
        else:
            fin_b = {k: lax.dynamic_slice_in_dim(a, s, rows) for k, a in fin.items()}
            tiles = None
        if grad:
            fresh = s + jnp.arange(rows) >= first
            sc = jnp.where(fresh, lax.dynamic_slice_in_dim(scale, s, rows), 0.0)
            ht_b = None
            if "w" in want:
                ht_b = lax.dynamic_slice_in_dim(ht, s, rows, axis=1)
            dh, dw, db = grad_block(hs_b, ht_b, yb, fin_b, sc, tiles, dw, db)
            if dh is not None:
                out["dh"] = dh
        return (dw, db), out

    dw0 = db0 = ht = None
    if grad and "w" in want:
        dw0 = _vary(jnp.zeros(ws[0].shape, acc), vma)
        ht = hs[0].T  # [D, N]: see _t_dot
    if grad and "b" in want:
        db0 = _vary(jnp.zeros(bias.shape, acc), vma)
    r_starts, r_fresh = (jnp.asarray(a) for a in plan.starts(plan.n, rows))
    (dw, db), ys = lax.scan(block, (dw0, db0), (r_starts, r_fresh))
    fin_out = fin
    if "fin" in ys:
        fin_out = {k: _unblock(a, plan) for k, a in ys["fin"].items()}
    grads = {}
    if "dh" in ys:
        dh = _unblock(ys["dh"], plan)
        grads["h"] = dh if axis_name is None else lax.psum(dh, axis_name)
    if dw is not None:
        grads["w"] = dw
    if db is not None:
        grads["b"] = db
    return fin_out, grads


def _vary_stats(st: _Stats, vma: frozenset) -> _Stats:
    return jax.tree.map(lambda x: _vary(x, vma), st)


# --------------------------------------------------------------------------
# differentiation rules
#
# Both rules are custom_vjp's with symbolic zeros, so that an input that is
# not differentiated (``perturbed`` False) costs no matmul. The teacher's
# inputs (hs[1:], ws[1:]) always get a zero (None) cotangent: stop_gradient.


def _total(value: jax.Array, weight: jax.Array) -> jax.Array:
    return jnp.sum(jnp.where(weight != 0, value * weight, 0.0))


def _is_zero(t) -> bool:
    return t is None or isinstance(t, jax.custom_derivatives.SymbolicZero)


def _unwrap(args):
    """Values and the gradients wanted from ``CustomVJPPrimal`` arguments."""
    hs, ws, bias, aux, extra = args
    want = set()
    if hs[0].perturbed:
        want.add("h")
    if ws[0].perturbed:
        want.add("w")
    if bias is not None and bias.perturbed:
        want.add("b")
    values = jax.tree.map(
        lambda a: a.value,
        (hs, ws, bias, aux, extra),
        is_leaf=lambda a: isinstance(a, jax.custom_derivatives.CustomVJPPrimal),
    )
    return values, want


def _cotangents(hs, ws, bias, grads, ct):
    """Cotangents in the input dtypes; None where none is wanted.

    A gradient that varies along a mesh axis its input does not (a weight
    replicated across a data-parallel axis, say) is summed along that axis:
    the transpose of the implicit broadcast.
    """

    def one(key, like):
        if key not in grads or _is_zero(ct):
            return None
        g = grads[key] * ct
        extra = tuple(sorted(_vma(g) - _vma(like)))
        if extra:
            g = lax.psum(g, extra)
        return g.astype(like.dtype)

    rest = (None,) * (len(hs) - 1)
    return (
        (one("h", hs[0]),) + rest,
        (one("w", ws[0]),) + rest,
        None if bias is None else one("b", bias),
        None,
        None,
    )


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _reduced(head, plan, hs, ws, bias, aux, weight):
    fin, _ = _sweep(head, plan, hs, ws, bias, aux)
    return _total(fin["value"], weight)


def _reduced_fwd(head, plan, *args):
    # The output is a scalar: its cotangent only scales the gradients, which
    # are therefore formed here, together with the loss.
    (hs, ws, bias, aux, weight), want = _unwrap(args)
    scale = weight if want else None
    fin, grads = _sweep(head, plan, hs, ws, bias, aux, scale=scale, want=want)
    shapes = (hs, ws, bias)
    return _total(fin["value"], weight), (grads, _dtypes(shapes))


def _reduced_bwd(head, plan, res, ct):
    grads, like = res
    return _cotangents(*like, grads, ct)


_reduced.defvjp(_reduced_fwd, _reduced_bwd, symbolic_zeros=True)


def _dtypes(tree):
    """Zero-size stand-ins carrying the dtypes (and mesh variance) of ``tree``."""
    return jax.tree.map(lambda a: _vary(jnp.zeros((0,), a.dtype), _vma(a)), tree)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _per_token(head, plan, hs, ws, bias, aux, kept):
    fin, _ = _sweep(head, plan, hs, ws, bias, aux)
    return jnp.where(kept, fin["value"], 0.0)


def _per_token_fwd(head, plan, *args):
    # The per-token cotangent is known only in the backward pass: keep the
    # per-token statistics and recompute the logits tiles there.
    (hs, ws, bias, aux, kept), want = _unwrap(args)
    fin, _ = _sweep(head, plan, hs, ws, bias, aux)
    marks = {k: jnp.zeros((0,)) for k in want}  # the wanted set, in the treedef
    res = (hs, ws, bias, aux, kept, fin, marks)
    return jnp.where(kept, fin["value"], 0.0), res


def _per_token_bwd(head, plan, res, ct):
    hs, ws, bias, aux, kept, fin, marks = res
    if _is_zero(ct) or not marks:
        return _cotangents(hs, ws, bias, {}, ct)
    scale = jnp.where(kept, ct, 0.0)
    _, grads = _sweep(
        head, plan, hs, ws, bias, aux, scale=scale, fin=fin, want=set(marks)
    )
    return _cotangents(hs, ws, bias, grads, 1.0)


_per_token.defvjp(_per_token_fwd, _per_token_bwd, symbolic_zeros=True)


def _nonzero(x) -> bool:
    """False only for a concrete 0 (a traced option is assumed non-zero)."""
    return not (isinstance(x, float) and x == 0.0)


def _values(dtype, **options):
    """The option values as scalars; options are not differentiated."""
    return {k: lax.stop_gradient(jnp.asarray(v, dtype)) for k, v in options.items()}


class _Options(NamedTuple):
    reduction: str
    chunk_size: int | None
    token_chunk_size: int | None
    axis_name: Any
    token_axis_name: Any


def _options(name, reduction, chunk_size, token_chunk_size, axis_name, token_axis):
    _checks.choice(name, "reduction", reduction, _REDUCTIONS)
    _checks.size_or_none(name, "chunk_size", chunk_size)
    _checks.size_or_none(name, "token_chunk_size", token_chunk_size)
    axis_name = tuple(axis_name) if isinstance(axis_name, list) else axis_name
    token_axis = tuple(token_axis) if isinstance(token_axis, list) else token_axis
    return _Options(reduction, chunk_size, token_chunk_size, axis_name, token_axis)


def _run(name, head, hs, ws, bias, labels, hp, where, batch, opts: _Options):
    """Runs the loss, per device when the tokens are explicitly sharded."""
    mesh, axes = _explicit_token_axes((*hs, labels, where), len(batch))
    if not axes or opts.token_axis_name is not None:
        return _run_local(name, head, hs, ws, bias, labels, hp, where, batch, opts)
    # Tokens sharded along Explicit mesh axes under jit: each device runs the
    # fused loss on its own tokens (data parallelism) and the reduction is
    # taken across devices, exactly; the weights are replicated.
    manual = frozenset(axes)
    bspec = tuple(_restrict(e, manual) for e in _spec(hs[0], len(batch)))
    tok, full = P(*bspec), P(*bspec, None)

    def put(x, spec):
        return jax.sharding.reshard(x, jax.sharding.NamedSharding(mesh, spec))

    hs = tuple(put(h, full) for h in hs)
    ws = tuple(put(w, P()) for w in ws)
    bias = None if bias is None else put(bias, P())
    labels = None if labels is None else put(labels, tok)
    where = None if where is None else put(where, tok)
    opts = opts._replace(token_axis_name=tuple(axes))

    def local(hs, ws, bias, labels, hp, where):
        lb = hs[0].shape[:-1]
        return _run_local(name, head, hs, ws, bias, labels, hp, where, lb, opts)

    spec = lambda x, s: None if x is None else s  # noqa: E731
    in_specs = (
        tuple(full for _ in hs),
        tuple(P() for _ in ws),
        spec(bias, P()),
        spec(labels, tok),
        jax.tree.map(lambda _: P(), hp),
        spec(where, tok),
    )
    out_specs = tok if opts.reduction == "none" else P()
    fn = jax.shard_map(
        local, mesh=mesh, in_specs=in_specs, out_specs=out_specs, axis_names=manual
    )
    return fn(hs, ws, bias, labels, hp, where)


def _spec(x, ndim) -> tuple:
    sharding = getattr(jax.typeof(x), "sharding", None)
    spec = tuple(getattr(sharding, "spec", None) or ())
    return (spec + (None,) * ndim)[:ndim]


def _restrict(entry, axes):
    names = entry if isinstance(entry, tuple) else (entry,)
    kept = tuple(a for a in names if a is not None and a in axes)
    return None if not kept else kept[0] if len(kept) == 1 else kept


def _explicit_token_axes(xs, ndim):
    """The Explicit mesh axes that shard the token (leading) axes of ``xs``."""
    explicit = getattr(getattr(jax.sharding, "AxisType", None), "Explicit", None)
    mesh, axes = None, []
    for x in xs:
        if x is None or explicit is None:
            continue
        sharding = getattr(jax.typeof(x), "sharding", None)
        m = getattr(sharding, "mesh", None)
        if m is None or not getattr(m, "axis_names", ()):
            continue
        types = dict(zip(m.axis_names, m.axis_types, strict=True))
        for entry in _spec(x, ndim):
            for a in entry if isinstance(entry, tuple) else (entry,):
                if a is not None and types.get(a) == explicit and a not in axes:
                    mesh = m
                    axes.append(a)
    return mesh, tuple(axes)


def _run_local(name, head, hs, ws, bias, labels, hp, where, batch, opts: _Options):
    """Flattens the tokens, plans the tiles and applies the reduction."""
    n = math.prod(batch)
    v = ws[0].shape[1]
    acc = _acc_dtype(*hs, *ws)
    hs = tuple(h.reshape(n, h.shape[-1]) for h in hs)
    labels = None if labels is None else labels.reshape(n)
    kept = None if where is None else where.reshape(n)
    token_axis = opts.token_axis_name
    if n == 0 or v == 0:
        return jnp.zeros(batch if opts.reduction == "none" else (), acc)
    plan = _plan(name, n, v, opts.chunk_size, opts.token_chunk_size, opts.axis_name)
    if kept is None:
        kept = jnp.ones((n,), bool)
    else:
        # rows outside the support may hold anything (nan included)
        hs = tuple(jnp.where(kept[:, None], h, jnp.zeros((), h.dtype)) for h in hs)
    if opts.reduction == "none":
        out = _per_token(head, plan, hs, ws, bias, (labels, hp), kept)
        return out.reshape(batch)
    weight = kept.astype(acc)
    if opts.reduction == "mean":
        count = jnp.sum(weight)
        if token_axis is not None:
            count = lax.psum(count, token_axis)
        weight = weight / jnp.maximum(count, 1.0)
    out = _reduced(head, plan, hs, ws, bias, (labels, hp), weight)
    return out if token_axis is None else lax.psum(out, token_axis)


# --------------------------------------------------------------------------
# public API


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
    name = "linear_cross_entropy"
    hidden, weight = _checks.projection(name, hidden, weight)
    labels = _checks.integer(name, "labels", labels)
    batch = hidden.shape[:-1]
    if labels.shape != batch:
        raise ValueError(
            f"jaxdiv.{name}: labels have shape {labels.shape} but hidden has shape "
            f"{hidden.shape}; labels must have shape {batch}."
        )
    bias = _checks.vector(name, "bias", bias, weight.shape[1])
    smoothing = _checks.number(name, "label_smoothing", label_smoothing, low=0, high=1)
    zeta = _checks.number(name, "z_loss", z_loss, low=0)
    cap = logit_softcap
    if cap is not None:
        cap = _checks.number(name, "logit_softcap", cap, low=0, open_low=True)
    options = _options(
        name, reduction, chunk_size, token_chunk_size, axis_name, token_axis_name
    )
    where = _checks.mask(name, where, batch)
    if ignore_index is not None:
        ignore_index = operator.index(ignore_index)
        keep = labels != ignore_index
        where = keep if where is None else where & keep
    if _checks.value_checks_enabled():
        v_total = weight.shape[1] * _axis_size(options.axis_name)
        ok = labels if where is None else jnp.where(where, labels, 0)
        _checks.label_range(name, ok, v_total)
    acc = _acc_dtype(hidden, weight)
    head = _CrossEntropy(_nonzero(smoothing), _nonzero(zeta), cap is not None)
    hp = _values(acc, a=smoothing, z=zeta, cap=1.0 if cap is None else cap)
    args = (bias, labels, hp, where, batch, options)
    return _run(name, head, (hidden,), (weight,), *args)


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
    name = "linear_distillation_loss"
    hs, ws = _checks.projection(
        name, student_hidden, student_weight, ("student_hidden", "student_weight")
    )
    ht, wt = _checks.projection(
        name, teacher_hidden, teacher_weight, ("teacher_hidden", "teacher_weight")
    )
    batch = hs.shape[:-1]
    if ht.shape[:-1] != batch or wt.shape[1] != ws.shape[1]:
        raise ValueError(
            f"jaxdiv.{name}: student_hidden {hs.shape} and teacher_hidden "
            f"{ht.shape} must have the same leading shape, and student_weight "
            f"{ws.shape} and teacher_weight {wt.shape} the same vocabulary size."
        )
    t = _checks.number(name, "temperature", temperature, low=0, open_low=True)
    b = _checks.number(name, "beta", beta, low=0, high=1)
    _checks.choice(name, "divergence", divergence, _DIVERGENCES)
    options = _options(
        name, reduction, chunk_size, token_chunk_size, axis_name, token_axis_name
    )
    where = _checks.mask(name, where, batch)
    ht, wt = lax.stop_gradient(ht), lax.stop_gradient(wt)
    head = _Distillation(divergence)
    hp = _values(_acc_dtype(hs, ws, ht, wt), t=t, beta=b)
    return _run(name, head, (hs, ht), (ws, wt), None, None, hp, where, batch, options)
