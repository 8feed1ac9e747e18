"""Sharding helpers: varying manual axes, axis sizes, Explicit token axes.

With ``axis_name`` (vocabulary parallelism, inside ``shard_map``) each
device holds ``weight[:, V_local]`` of a vocabulary split evenly in device
order; the running statistics are combined with ``pmax``/``psum`` once per
token block and ``d hidden`` is summed over the axis. With
``token_axis_name`` (or tokens sharded along Explicit mesh axes under plain
``jax.jit``, see :func:`run_sharded`) each device runs on its own tokens and
the reductions are taken across devices.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
from jax import lax
from jax.sharding import PartitionSpec as P

from .._core.types import AxisName


def vma(*xs) -> frozenset:
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


def vary(x: jax.Array, axes: frozenset) -> jax.Array:
    """Marks a fresh constant (a scan carry's start) as varying along ``axes``."""
    missing = tuple(sorted(axes - vma(x)))
    if not missing:
        return x
    if hasattr(lax, "pcast"):
        return lax.pcast(x, missing, to="varying")
    return lax.pvary(x, missing)  # pragma: no cover - older JAX


def vary_tree(tree, axes: frozenset):
    return jax.tree.map(lambda x: vary(x, axes), tree)


def axis_size(axis_name: AxisName) -> int:
    if axis_name is None:
        return 1
    names = axis_name if isinstance(axis_name, tuple) else (axis_name,)
    size = getattr(lax, "axis_size", None) or (lambda a: lax.psum(1, a))
    return int(np.prod([size(a) for a in names]))


def sum_to(g: jax.Array, like: jax.Array) -> jax.Array:
    """Sums ``g`` along the mesh axes it varies along and ``like`` does not
    (the transpose of an implicit broadcast: a replicated weight's gradient)."""
    extra = tuple(sorted(vma(g) - vma(like)))
    return lax.psum(g, extra) if extra else g


def _spec(x, ndim) -> tuple:
    sharding = getattr(jax.typeof(x), "sharding", None)
    spec = tuple(getattr(sharding, "spec", None) or ())
    return (spec + (None,) * ndim)[:ndim]


def _restrict(entry, axes):
    names = entry if isinstance(entry, tuple) else (entry,)
    kept = tuple(a for a in names if a is not None and a in axes)
    return None if not kept else kept[0] if len(kept) == 1 else kept


def explicit_token_axes(xs, ndim):
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


def run_sharded(
    local: Callable, hs, ws, bias, labels, params, where, ndim, *, per_token
):
    """Runs ``local`` per device when the tokens are explicitly sharded.

    Under plain ``jax.jit`` with tokens sharded along Explicit mesh axes,
    each device runs the fused loss on its own tokens (data parallelism)
    inside ``shard_map``, with the weights replicated;
    ``local(..., token_axes)`` takes the reductions across those axes.
    Returns ``None`` when the tokens are not explicitly sharded.
    """
    mesh, axes = explicit_token_axes((*hs, labels, where), ndim)
    if not axes:
        return None
    manual = frozenset(axes)
    bspec = tuple(_restrict(e, manual) for e in _spec(hs[0], ndim))
    tok, full = P(*bspec), P(*bspec, None)

    def put(x, spec):
        if x is None:
            return None
        return jax.sharding.reshard(x, jax.sharding.NamedSharding(mesh, spec))

    args = (
        tuple(put(h, full) for h in hs),
        tuple(put(w, P()) for w in ws),
        put(bias, P()),
        put(labels, tok),
        params,
        put(where, tok),
    )

    def spec(x, s):
        return None if x is None else s

    in_specs = (
        tuple(full for _ in hs),
        tuple(P() for _ in ws),
        spec(bias, P()),
        spec(labels, tok),
        jax.tree.map(lambda _: P(), params),
        spec(where, tok),
    )
    out_specs = tok if per_token else P()
    fn = jax.shard_map(
        lambda *a: local(*a, tuple(axes)),
        mesh=mesh,
        in_specs=in_specs,
        out_specs=out_specs,
        axis_names=manual,
    )
    return fn(*args)
