"""Dense references: the fused losses written on the full logits.

Plain ``jax.numpy`` on ``hidden @ weight``, in the inputs' dtype (the tests
call them on float64 inputs under ``jax.enable_x64``); nothing tiled, no
custom rule, gradients by ordinary autodiff. Every fused path is compared
against these.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _logits(h, w, b=None, cap=None):
    s = h @ w
    if b is not None:
        s = s + b[None, :]
    return s if cap is None else cap * jnp.tanh(s / cap)


def _reduce(loss, kept, reduction):
    loss = jnp.where(kept, loss, 0.0)
    if reduction == "none":
        return loss
    total = jnp.sum(loss)
    return total / jnp.maximum(jnp.sum(kept), 1) if reduction == "mean" else total


def cross_entropy(
    h,
    w,
    y,
    *,
    bias=None,
    where=None,
    ignore_index=None,
    label_smoothing=0.0,
    z_loss=0.0,
    logit_softcap=None,
    reduction="mean",
):
    """Dense :func:`jaxdiv.fused.linear_cross_entropy`."""
    kept = jnp.ones(y.shape, bool) if where is None else where
    if ignore_index is not None:
        kept = kept & (y != ignore_index)
    h = jnp.where(kept[..., None], h, 0.0)
    s = _logits(h, w, bias, logit_softcap)
    logp = jax.nn.log_softmax(s, axis=-1)
    safe = jnp.where(kept, y, 0)
    nll = -jnp.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    a = label_smoothing
    loss = (1.0 - a) * nll - a * jnp.mean(logp, axis=-1)
    loss = loss + z_loss * jnp.square(jax.nn.logsumexp(s, axis=-1))
    return _reduce(loss, kept, reduction)


def distillation(
    hs,
    ws,
    ht,
    wt,
    *,
    temperature=1.0,
    divergence="forward_kl",
    beta=0.5,
    where=None,
    reduction="mean",
):
    """Dense :func:`jaxdiv.fused.linear_distillation_loss`."""
    kept = jnp.ones(hs.shape[:-1], bool) if where is None else where
    hs = jnp.where(kept[..., None], hs, 0.0)
    ht = jnp.where(kept[..., None], ht, 0.0)
    lps = jax.nn.log_softmax(hs @ ws / temperature, axis=-1)
    lpt = jax.nn.log_softmax(jax.lax.stop_gradient(ht @ wt) / temperature, axis=-1)

    def kl(lp, lq):
        return jnp.sum(jnp.where(lp > -jnp.inf, jnp.exp(lp) * (lp - lq), 0.0), -1)

    if divergence == "forward_kl":
        d = kl(lpt, lps)
    elif divergence == "reverse_kl":
        d = kl(lps, lpt)
    else:
        lm = jnp.logaddexp(lpt + jnp.log(beta), lps + jnp.log1p(-beta))
        d = beta * kl(lpt, lm) + (1.0 - beta) * kl(lps, lm)
    return _reduce(temperature**2 * d, kept, reduction)


def log_probs(
    h,
    w,
    y,
    *,
    bias=None,
    temperature=1.0,
    logit_softcap=None,
    where=None,
    return_entropy=False,
):
    """Dense :func:`jaxdiv.fused.linear_log_probs`."""
    kept = jnp.ones(y.shape, bool) if where is None else where
    h = jnp.where(kept[..., None], h, 0.0)
    logp = jax.nn.log_softmax(_logits(h, w, bias, logit_softcap) / temperature, -1)
    lp = jnp.take_along_axis(logp, jnp.where(kept, y, 0)[..., None], -1)[..., 0]
    lp = jnp.where(kept, lp, 0.0)
    if not return_entropy:
        return lp
    ent = -jnp.sum(jnp.where(logp > -jnp.inf, jnp.exp(logp) * logp, 0.0), -1)
    return lp, jnp.where(kept, ent, 0.0)
