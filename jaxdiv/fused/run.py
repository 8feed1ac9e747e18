"""From validated public arguments to the sweeps: flatten, mask, plan, reduce."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax.numpy as jnp
from jax import lax

from .._core import checks, value_checks
from .matmul import acc_dtype
from .plan import make_plan
from .sharding import run_sharded
from .vjp import per_token, reduced

REDUCTIONS = ("mean", "sum", "none")


class Options(NamedTuple):
    reduction: str
    chunk_size: int | None
    token_chunk_size: int | None
    axis_name: Any
    token_axis_name: Any
    memory_budget: int | None


def options(
    name, reduction, chunk_size, token_chunk_size, axis_name, token_axis, budget
):
    """Validated static options (``name``: the public path after ``jaxdiv.``)."""
    checks.choice(name, "reduction", reduction, REDUCTIONS)
    checks.size_or_none(name, "chunk_size", chunk_size)
    checks.size_or_none(name, "token_chunk_size", token_chunk_size)
    checks.size_or_none(name, "memory_budget", budget)
    axis_name = tuple(axis_name) if isinstance(axis_name, list) else axis_name
    token_axis = tuple(token_axis) if isinstance(token_axis, list) else token_axis
    return Options(
        reduction, chunk_size, token_chunk_size, axis_name, token_axis, budget
    )


def values(dtype, cls, **kwargs):
    """Option values as scalars of ``dtype`` in the head's NamedTuple ``cls``
    (options are not differentiated)."""
    return cls(
        **{k: lax.stop_gradient(jnp.asarray(v, dtype)) for k, v in kwargs.items()}
    )


def nonzero(x) -> bool:
    """False only for a concrete 0 (a traced option is assumed non-zero)."""
    return not (isinstance(x, float) and x == 0.0)


def plan_of(hs, ws, n, opts: Options):
    acc = acc_dtype(*hs, *ws)
    return make_plan(
        n=n,
        d=sum(w.shape[0] for w in ws),
        v=ws[0].shape[1],
        weight_itemsize=min(jnp.dtype(w.dtype).itemsize for w in ws),
        acc_itemsize=jnp.dtype(acc).itemsize,
        chunk_size=opts.chunk_size,
        token_chunk_size=opts.token_chunk_size,
        memory_budget=opts.memory_budget,
        axis_name=opts.axis_name,
    )


def run(head, hs, ws, bias, labels, params, where, batch, opts: Options):
    """Runs the head; per device when the tokens are explicitly sharded.

    Returns the reduced loss, or the tuple of per-token outputs (``batch``
    shaped) for ``reduction="none"``.
    """
    if opts.token_axis_name is None:

        def local(hs, ws, bias, labels, params, where, axes):
            lb = hs[0].shape[:-1]
            o = opts._replace(token_axis_name=axes)
            return _run_local(head, hs, ws, bias, labels, params, where, lb, o)

        per = opts.reduction == "none"
        out = run_sharded(
            local, hs, ws, bias, labels, params, where, len(batch), per_token=per
        )
        if out is not None:
            return out
    return _run_local(head, hs, ws, bias, labels, params, where, batch, opts)


def _run_local(head, hs, ws, bias, labels, params, where, batch, opts: Options):
    n = math.prod(batch)
    v = ws[0].shape[1]
    acc = acc_dtype(*hs, *ws)
    hs = tuple(h.reshape(n, h.shape[-1]) for h in hs)
    labels = None if labels is None else labels.reshape(n)
    kept = None if where is None else where.reshape(n)
    token_axis = opts.token_axis_name
    if n == 0 or v == 0:
        if opts.reduction == "none":
            return tuple(jnp.zeros(batch, acc) for _ in range(_n_outputs(head)))
        return jnp.zeros((), acc)
    plan = plan_of(hs, ws, n, opts)
    if kept is None:
        kept = jnp.ones((n,), bool)
    else:
        # rows outside the support may hold anything (nan included)
        hs = tuple(jnp.where(kept[:, None], h, jnp.zeros((), h.dtype)) for h in hs)
    args = (hs, ws, bias, labels, params)
    if opts.reduction == "none":
        return tuple(o.reshape(batch) for o in per_token(head, plan, *args, kept))
    weight = kept.astype(acc)
    if opts.reduction == "mean":
        count = jnp.sum(weight)
        if token_axis is not None:
            count = lax.psum(count, token_axis)
        weight = weight / jnp.maximum(count, 1.0)
    if plan.method == "in_forward":
        out = reduced(head, plan, *args, weight)
    else:
        value = per_token(head, plan, *args, kept)[0]
        out = jnp.sum(value * lax.stop_gradient(weight))
    return out if token_axis is None else lax.psum(out, token_axis)


def _n_outputs(head) -> int:
    return 2 if getattr(head, "entropy", False) else 1


def check_labels(name, labels, where, v_total):
    """Out-of-range labels of kept tokens, inside ``jaxdiv.value_checks()``."""
    if value_checks.value_checks_enabled():
        ok = labels if where is None else jnp.where(where, labels, 0)
        value_checks.label_range(name, ok, v_total)


def check_labels_shape(name, labels, batch, hidden_shape):
    if labels.shape != batch:
        raise ValueError(
            f"jaxdiv.{name}: labels have shape {labels.shape} but hidden has shape "
            f"{hidden_shape}; labels must have shape {batch}."
        )
