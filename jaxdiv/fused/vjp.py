"""The differentiation rules (``jax.custom_vjp`` with symbolic zeros).

An input that is not differentiated (``perturbed`` False) costs no matmul.
The teacher's inputs (``hs[1:]``, ``ws[1:]``) always get a zero (``None``)
cotangent, like the labels and the option values.

* :func:`reduced`, the ``"in_forward"`` plan of a mean or a sum: the output
  is a scalar whose cotangent only scales the gradients, so the forward
  pass forms them together with the loss and keeps them as residuals.
* :func:`per_token`, every other case: the forward pass keeps the inputs
  and the per-token statistics (``O(N)``); the backward pass, given the
  per-token cotangents, runs :func:`~jaxdiv.fused.sweep.token_sweep` (plan
  ``"in_forward"``) or :func:`~jaxdiv.fused.sweep.vocab_sweep` (plan
  ``"vocab_outer"``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .sharding import sum_to, vary, vma
from .sweep import Grads, Want, token_sweep, vocab_sweep

_Primal = jax.custom_derivatives.CustomVJPPrimal


def _is_zero(t) -> bool:
    return t is None or isinstance(t, jax.custom_derivatives.SymbolicZero)


def _unwrap(args):
    """Values and the gradients wanted from ``CustomVJPPrimal`` arguments."""
    hs, ws, bias = args[:3]
    want = Want(hs[0].perturbed, ws[0].perturbed, bias is not None and bias.perturbed)
    values = jax.tree.map(
        lambda a: a.value, args, is_leaf=lambda a: isinstance(a, _Primal)
    )
    return values, want


def _cotangents(hs, ws, bias, grads: Grads, scale, n_rest):
    """Cotangents in the input dtypes; ``None`` where none is wanted."""

    def one(g, like):
        if g is None or like is None:
            return None
        if scale is not None:
            g = g * scale
        return sum_to(g, like).astype(like.dtype)

    rest = (None,) * (len(hs) - 1)
    return (
        (one(grads.hidden, hs[0]),) + rest,
        (one(grads.weight, ws[0]),) + rest,
        None if bias is None else one(grads.bias, bias),
    ) + (None,) * n_rest


def _total(value, weight):
    return jnp.sum(jnp.where(weight != 0, value * weight, 0.0))


def _like(tree):
    """Zero-size stand-ins carrying the dtypes (and mesh variance) of ``tree``."""
    return jax.tree.map(lambda a: vary(jnp.zeros((0,), a.dtype), vma(a)), tree)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def reduced(head, plan, hs, ws, bias, labels, params, weight):
    """``sum_n weight_n * value_n`` (``weight`` holds the mean's ``1 / count``)."""
    fin, _ = token_sweep(head, plan, hs, ws, bias, labels, params)
    return _total(head.outputs(fin)[0], weight)


def _reduced_fwd(head, plan, *args):
    (hs, ws, bias, labels, params, weight), want = _unwrap(args)
    cts = (weight,) if want.any() else None
    fin, grads = token_sweep(
        head, plan, hs, ws, bias, labels, params, cts=cts, want=want
    )
    return _total(head.outputs(fin)[0], weight), (grads, _like((hs, ws, bias)))


def _reduced_bwd(head, plan, res, ct):
    grads, (hs, ws, bias) = res
    if _is_zero(ct):
        grads = Grads()
    return _cotangents(hs, ws, bias, grads, ct, 3)


reduced.defvjp(_reduced_fwd, _reduced_bwd, symbolic_zeros=True)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def per_token(head, plan, hs, ws, bias, labels, params, kept):
    """The head's per-token outputs, 0 where not ``kept``."""
    fin, _ = token_sweep(head, plan, hs, ws, bias, labels, params)
    return tuple(jnp.where(kept, o, 0.0) for o in head.outputs(fin))


def _per_token_fwd(head, plan, *args):
    (hs, ws, bias, labels, params, kept), want = _unwrap(args)
    fin, _ = token_sweep(head, plan, hs, ws, bias, labels, params)
    out = tuple(jnp.where(kept, o, 0.0) for o in head.outputs(fin))
    marks = tuple(jnp.zeros((0,)) if w else None for w in want)  # static in the treedef
    return out, (hs, ws, bias, labels, params, kept, fin, marks)


def _per_token_bwd(head, plan, res, cts):
    hs, ws, bias, labels, params, kept, fin, marks = res
    want = Want(*(m is not None for m in marks))
    live = [not _is_zero(c) for c in cts]
    if not any(live) or not want.any():
        return _cotangents(hs, ws, bias, Grads(), None, 3)
    ref = next(c for c, ok in zip(cts, live, strict=True) if ok)
    cts = tuple(
        jnp.where(kept, c, 0.0).astype(ref.dtype) if ok else jnp.zeros_like(ref)
        for c, ok in zip(cts, live, strict=True)
    )
    args = (head, plan, hs, ws, bias, labels, params)
    if plan.method == "vocab_outer":
        grads = vocab_sweep(*args, fin, cts, want)
    else:
        _, grads = token_sweep(*args, cts=cts, fin=fin, want=want)
    return _cotangents(hs, ws, bias, grads, None, 3)


per_token.defvjp(_per_token_fwd, _per_token_bwd, symbolic_zeros=True)
