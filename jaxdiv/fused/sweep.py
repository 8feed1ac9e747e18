"""The sweeps over tiles.

:func:`token_sweep` runs token blocks outer and vocabulary chunks inner: the
statistics passes of a head and, for the ``"in_forward"`` plan, the gradient
of each tile as soon as its row statistics are known (a float32 ``[D, V]``
accumulator across blocks). :func:`vocab_sweep` is the ``"vocab_outer"``
backward pass: vocabulary chunks outer, token blocks inner; each chunk's
``d weight`` is accumulated over all tokens in a float32 ``[D, cols]`` tile
and written once, in the weight's dtype.

A last block (chunk) that does not fit is shifted back to end at ``N``
(``V``) and the entries it shares with the one before are masked out, so
every tile has one static shape and nothing is padded or copied.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from .matmul import acc_dtype, dot_t, t_dot
from .plan import Plan, starts
from .sharding import axis_size, vary, vary_tree, vma
from .stats import all_merge, merge


class Grads(NamedTuple):
    """Gradients of ``hs[0]`` ``[N, D]``, ``ws[0]`` ``[D, V]``, ``bias``
    ``[V]``; ``None`` where not wanted."""

    hidden: Any = None
    weight: Any = None
    bias: Any = None


class Want(NamedTuple):
    """Which gradients to form (static)."""

    hidden: bool = False
    weight: bool = False
    bias: bool = False

    def any(self) -> bool:
        return self.hidden or self.weight or self.bias


def _row(size: int) -> jax.Array:
    return jnp.arange(size, dtype=jnp.int32)[None, :]


def _cols(x: jax.Array, c0, size: int) -> jax.Array:
    if size == x.shape[-1]:
        return x
    return lax.dynamic_slice_in_dim(x, c0, size, axis=x.ndim - 1)


def _rows(x, r0, size: int):
    if x is None:
        return None
    if size == x.shape[0]:
        return x
    return lax.dynamic_slice_in_dim(x, r0, size)


def _unblock(y: jax.Array, n: int, rows: int) -> jax.Array:
    """``[nb, rows, ...]`` per-block outputs to ``[n, ...]`` (drops overlaps)."""
    nb = y.shape[0]
    flat = y.reshape((nb * rows,) + y.shape[2:])
    if nb * rows == n:
        return flat
    return jnp.concatenate([flat[: (nb - 1) * rows], y[-1, nb * rows - n :]])


def _context(head, plan, hs, ws, bias, labels, params):
    head = dataclasses.replace(head, params=params)
    axes = vma(hs, ws, bias, labels)
    off = 0 if plan.axis_name is None else lax.axis_index(plan.axis_name) * plan.v
    return head, axes, off, plan.v * axis_size(plan.axis_name)


def token_sweep(
    head, plan: Plan, hs, ws, bias, labels, params, *, cts=None, fin=None, want=None
):
    """Statistics (unless ``fin`` is given) and, with ``cts``, gradients.

    Args:
      hs, ws: tuples of hidden ``[N, D_i]`` and weights ``[D_i, V]``; the
        gradient is taken with respect to ``hs[0]``, ``ws[0]`` and ``bias``.
      labels: ``[N]`` integer labels or ``None``; params: the head's options.
      cts: per-token cotangents of the head's outputs (``[N]`` each), or
        ``None`` for no gradient.
      fin: per-token statistics of an earlier sweep, or ``None``.

    Returns:
      ``(fin, Grads)``: the head's per-token statistics ``[N]`` and the
      gradients (float32), ``None`` where not wanted.
    """
    want = Want() if want is None else want
    head, axes, off, v_total = _context(head, plan, hs, ws, bias, labels, params)
    acc = acc_dtype(*hs, *ws)
    cdt = hs[0].dtype
    rows, cols, v = plan.rows, plan.cols, plan.v
    one_chunk = cols == v
    c_starts, c_fresh = (jnp.asarray(a) for a in starts(v, cols))
    grad = cts is not None and want.any()

    def tiles_at(hs_b, c0, size):
        wc = tuple(_slice(_cols, w, c0, size) for w in ws)
        return head.logits(
            hs_b, wc, None if bias is None else _slice(_cols, bias, c0, size), acc
        )

    def stats_passes(hs_b, yb):
        fin_b = None
        tiles = tiles_at(hs_b, 0, v) if one_chunk else None
        for k in range(head.passes):
            if one_chunk:
                st = head.stats(k, tiles, None, off + _row(v), yb, fin_b)
            else:

                def body(st, x, k=k, fin_b=fin_b):
                    c0, first = x
                    j = c0 + _row(cols)
                    t = tiles_at(hs_b, c0, cols)
                    new = head.stats(k, t, j >= first, off + j, yb, fin_b)
                    return merge(head, st, new), None

                t0 = tiles_at(hs_b, 0, cols)
                st0 = head.stats(k, t0, None, off + _row(cols), yb, fin_b)
                st, _ = lax.scan(
                    body, vary_tree(st0, axes), (c_starts[1:], c_fresh[1:])
                )
            if plan.axis_name is not None:
                st = all_merge(head, st, plan.axis_name)
            fin_b = head.finish(k, st, fin_b, v_total)
        return fin_b, tiles

    def grad_block(hs_b, ht_b, yb, fin_b, cts_b, tiles, dw, db):
        dh = None
        if one_chunk:
            if tiles is None:
                tiles = tiles_at(hs_b, 0, v)
            g = head.grad(tiles, off + _row(v), yb, fin_b, v_total, cts_b)
            gc = g.astype(cdt)
            if want.hidden:
                dh = dot_t(gc, ws[0], acc)
            if want.weight:
                dw = dw + t_dot(hs_b[0], gc, acc)
            if want.bias:
                db = db + jnp.sum(g, axis=0)
            return dh, dw, db

        def body(carry, x):
            dh, dw, db = carry
            c0, first = x
            j = c0 + _row(cols)
            g = head.grad(tiles_at(hs_b, c0, cols), off + j, yb, fin_b, v_total, cts_b)
            g = jnp.where(j >= first, g, 0.0)
            gc = g.astype(cdt)
            if want.hidden:
                dh = dh + dot_t(gc, _slice(_cols, ws[0], c0, cols), acc)
            if want.weight:
                upd = _cols(dw, c0, cols) + t_dot(hs_b[0], gc, acc)
                dw = lax.dynamic_update_slice_in_dim(dw, upd, c0, axis=1)
            if want.bias:
                upd = _cols(db, c0, cols) + jnp.sum(g, axis=0)
                db = lax.dynamic_update_slice_in_dim(db, upd, c0, axis=0)
            return (dh, dw, db), None

        dh0 = None
        if want.hidden:
            dh0 = vary(jnp.zeros((rows, hs_b[0].shape[1]), acc), axes)
        (dh, dw, db), _ = lax.scan(body, (dh0, dw, db), (c_starts, c_fresh))
        return dh, dw, db

    def block(carry, x):
        dw, db = carry
        r0, first = x
        hs_b = tuple(_slice(_rows, h, r0, rows) for h in hs)
        yb = _rows(labels, r0, rows)
        out = {}
        if fin is None:
            fin_b, tiles = stats_passes(hs_b, yb)
            out["fin"] = fin_b
        else:
            fin_b, tiles = jax.tree.map(lambda a: _rows(a, r0, rows), fin), None
        if grad:
            fresh = r0 + jnp.arange(rows) >= first
            cts_b = tuple(jnp.where(fresh, _rows(c, r0, rows), 0.0) for c in cts)
            ht_b = None if ht is None else _cols(ht, r0, rows)
            dh, dw, db = grad_block(hs_b, ht_b, yb, fin_b, cts_b, tiles, dw, db)
            if dh is not None:
                out["dh"] = dh
        return (dw, db), out

    dw0 = db0 = ht = None
    if grad and want.weight:
        dw0 = vary(jnp.zeros(ws[0].shape, acc), axes)

    if grad and want.bias:
        db0 = vary(jnp.zeros(bias.shape, acc), axes)
    r_starts, r_fresh = (jnp.asarray(a) for a in starts(plan.n, rows))
    (dw, db), ys = lax.scan(block, (dw0, db0), (r_starts, r_fresh))
    fin_out = fin
    if "fin" in ys:
        fin_out = jax.tree.map(lambda a: _unblock(a, plan.n, rows), ys["fin"])
    dh = None
    if "dh" in ys:
        dh = _unblock(ys["dh"], plan.n, rows)
        dh = dh if plan.axis_name is None else lax.psum(dh, plan.axis_name)
    return fin_out, Grads(dh, dw, db)


def vocab_sweep(head, plan: Plan, hs, ws, bias, labels, params, fin, cts, want: Want):
    """The ``"vocab_outer"`` backward pass (statistics ``fin`` known).

    Returns :class:`Grads`: ``d hidden`` in float32, ``d weight`` and
    ``d bias`` in their inputs' dtypes, each chunk written once.
    """
    head, axes, off, v_total = _context(head, plan, hs, ws, bias, labels, params)
    acc = acc_dtype(*hs, *ws)
    cdt = hs[0].dtype
    rows, cols, n, v = plan.grad_rows, plan.grad_cols, plan.n, plan.v
    c_starts, c_fresh = (jnp.asarray(a) for a in starts(v, cols))
    r_starts, r_fresh = (jnp.asarray(a) for a in starts(n, rows))

    def chunk(carry, x):
        dh, dw, db = carry
        c0, first = x
        j = c0 + _row(cols)
        fresh_c = j >= first
        wc = tuple(_slice(_cols, w, c0, cols) for w in ws)
        bc = None if bias is None else _slice(_cols, bias, c0, cols)

        def block(inner, y):
            dh, dwc, dbc = inner
            r0, rfirst = y
            fresh_r = r0 + jnp.arange(rows) >= rfirst
            hs_b = tuple(_slice(_rows, h, r0, rows) for h in hs)
            yb = _rows(labels, r0, rows)
            fin_b = jax.tree.map(lambda a: _rows(a, r0, rows), fin)
            cts_b = tuple(jnp.where(fresh_r, _rows(c, r0, rows), 0.0) for c in cts)
            tiles = head.logits(hs_b, wc, bc, acc)
            g = head.grad(tiles, off + j, yb, fin_b, v_total, cts_b)
            g = jnp.where(fresh_c, g, 0.0)
            gc = g.astype(cdt)
            if want.hidden:
                upd = _rows(dh, r0, rows) + dot_t(gc, wc[0], acc)
                dh = lax.dynamic_update_slice_in_dim(dh, upd, r0, axis=0)
            if want.weight:
                dwc = dwc + t_dot(hs_b[0], gc, acc)
            if want.bias:
                dbc = dbc + jnp.sum(g, axis=0)
            return (dh, dwc, dbc), None

        dwc0 = (
            vary(jnp.zeros((ws[0].shape[0], cols), acc), axes) if want.weight else None
        )
        dbc0 = vary(jnp.zeros((cols,), acc), axes) if want.bias else None
        (dh, dwc, dbc), _ = lax.scan(block, (dh, dwc0, dbc0), (r_starts, r_fresh))
        if want.weight:
            old = _from_bits(_cols(dw, c0, cols), ws[0].dtype).astype(acc)
            dwc = _to_bits(jnp.where(fresh_c, dwc, old).astype(ws[0].dtype))
            dw = lax.dynamic_update_slice_in_dim(dw, dwc, c0, axis=1)
        if want.bias:
            old = _from_bits(_cols(db, c0, cols), bias.dtype).astype(acc)
            dbc = _to_bits(jnp.where(fresh_c[0], dbc, old).astype(bias.dtype))
            db = lax.dynamic_update_slice_in_dim(db, dbc, c0, axis=0)
        return (dh, dw, db), None

    dh0 = vary(jnp.zeros(hs[0].shape, acc), axes) if want.hidden else None
    dw0 = vary(_to_bits(jnp.zeros_like(ws[0])), axes) if want.weight else None
    db0 = vary(_to_bits(jnp.zeros_like(bias)), axes) if want.bias else None
    (dh, dw, db), _ = lax.scan(chunk, (dh0, dw0, db0), (c_starts, c_fresh))
    dw = None if dw is None else _from_bits(dw, ws[0].dtype)
    db = None if db is None else _from_bits(db, bias.dtype)
    if dh is not None and plan.axis_name is not None:
        dh = lax.psum(dh, plan.axis_name)
    return Grads(dh, dw, db)


def _to_bits(x: jax.Array) -> jax.Array:
    """bfloat16 as unsigned ints, on CPU only.

    XLA's CPU backend has no bfloat16 ``dynamic-update-slice``: it
    widens the whole carried array to float32, updates it and narrows it
    back, every chunk (ten times slower at ``[2048, 65536]``). The bits
    update natively; converting them back at the end costs one 16-bit
    ``[D, V]`` buffer besides the gradient, the one copy the
    ``"vocab_outer"`` gradient still holds on CPU (float16 updates in
    place natively; other backends update every dtype in place).
    """
    if x.dtype != jnp.bfloat16 or jax.default_backend() != "cpu":
        return x
    return lax.bitcast_convert_type(x, jnp.uint16)


def _from_bits(x: jax.Array, dtype) -> jax.Array:
    if x.dtype == dtype:
        return x
    return lax.bitcast_convert_type(x, dtype)


def _slice(take, x: jax.Array, start, size: int) -> jax.Array:
    """``take(x, start, size)`` inside a loop, without a copy of ``x``.

    XLA's CPU backend widens the dynamic slicing of a 16-bit float array to
    float32 (``convert(x)`` then slice) and loop-invariant code motion then
    hoists the widening of the whole operand out of the loop: a float32 copy
    of ``hidden`` and ``weight`` in every program, value-only included.
    Tying ``x`` to the slice's start through an optimisation barrier (an
    identity on buffers) makes the widening loop-variant, so it stays fused
    with the slice and only the tile is ever converted.
    """
    whole = size == (x.shape[-1] if take is _cols else x.shape[0])
    if whole:
        return x
    if jnp.dtype(x.dtype).itemsize == 2:
        x, _ = lax.optimization_barrier((x, start))
    return take(x, start, size)
