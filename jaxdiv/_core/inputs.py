"""Builders turning user input into the ``(p, log p)`` pairs of the formulas.

Each validates its arguments (static checks, and the value checks when on),
applies the ``where`` mask, and returns the probabilities, their logs and
the normalised event axes: from probabilities with
:func:`~jaxdiv._core.numerics.safe_log`, from logits with the masked,
padding-safe log-softmax.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import checks, value_checks
from .kernels import difference, two_difference
from .numerics import (
    event_sum,
    log_softmax,
    propagate_nan,
    safe_log,
    shifted_log_sum,
)

# --------------------------------------------------------------------------
# building the (p, log p) pairs from user input


def one_prob(name, p, axis, where):
    p = checks.floating(name, "p", p)
    ax = checks.event_axes(name, p, axis)
    where = checks.mask(name, where, p.shape)
    value_checks.probabilities(name, "p", p, ax, where)
    if where is not None:
        p = jnp.where(where, p, 0.0)
    return p, safe_log(p), ax


def two_probs(name, p, q, axis, where):
    p, q = checks.floatings(name, p=p, q=q)
    p, q, ax = checks.pair(name, p, q, axis)
    if not ax:
        raise ValueError(f"jaxdiv.{name}: expected an event axis, got scalars.")
    where = checks.mask(name, where, p.shape)
    value_checks.probabilities(name, "p", p, ax, where)
    value_checks.probabilities(name, "q", q, ax, where)
    if where is not None:
        p = jnp.where(where, p, 0.0)
        q = jnp.where(where, q, 0.0)
    p, q = propagate_nan(p, q)
    return p, safe_log(p), q, safe_log(q), ax


def one_logits(name, logits, axis, where, axis_name=None, argname="logits"):
    logits = checks.floating(name, argname, logits)
    ax = checks.event_axes(name, logits, axis)
    where = checks.mask(name, where, logits.shape)
    value_checks.no_nan_or_posinf(name, argname, logits, where)
    logp = log_softmax(logits, ax, where, axis_name)
    return jnp.exp(logp), logp, ax


def logit_pair(name, p_logits, q_logits, axis, where):
    """The validated pair of logits, their event axes and broadcast mask."""
    a, b = checks.floatings(name, p_logits=p_logits, q_logits=q_logits)
    a, b, ax = checks.pair(name, a, b, axis, names=("p_logits", "q_logits"))
    if not ax:
        raise ValueError(f"jaxdiv.{name}: expected an event axis, got scalars.")
    where = checks.mask(name, where, a.shape)
    value_checks.no_nan_or_posinf(name, "p_logits", a, where)
    value_checks.no_nan_or_posinf(name, "q_logits", b, where)
    return a, b, ax, where


def two_logits(name, p_logits, q_logits, axis, where, axis_name=None):
    a, b, ax, where = logit_pair(name, p_logits, q_logits, axis, where)
    logp = log_softmax(a, ax, where, axis_name)
    logq = log_softmax(b, ax, where, axis_name)
    return jnp.exp(logp), logp, jnp.exp(logq), logq, ax


class LogitPair(NamedTuple):
    """Two softmaxes and, on their near entries, an accurate ``log(q / p)``."""

    p: jax.Array
    logp: jax.Array
    q: jax.Array
    logq: jax.Array
    close: jax.Array  # both > 0 and |log(q / p)| <= 1/2
    diff: jax.Array  # log(q / p) where close, 0 elsewhere
    ax: tuple[int, ...]


def near_logit_pair(name, p_logits, q_logits, axis, where, axis_name=None):
    """:func:`two_logits` plus ``log(q / p)`` accurate to rounding relative to
    itself on the near entries.

    ``log q - log p`` from the two log-softmaxes loses ``eps * |log p|``, the
    whole of the difference of nearby distributions. Here it is the logits'
    difference (not rounded, :func:`difference`) minus the difference of the
    shifts and of the log-sums; those two log-sums are each rounded, which
    leaves a constant error in ``diff`` as large as the differences
    themselves: ``q' = p e^diff`` then misses a mass ``nu = sum(q' - p) = sum
    p expm1(diff)`` (summed without cancellation), and ``diff - log1p(nu)``
    is normalised to rounding.
    """
    a, b, ax, where = logit_pair(name, p_logits, q_logits, axis, where)
    sa, xa, _, ma, log_sa = shifted_log_sum(a, ax, where, axis_name)
    sb, xb, _, mb, log_sb = shifted_log_sum(b, ax, where, axis_name)
    logp = jnp.where(sa, (xa - ma) - log_sa, -jnp.inf)
    logq = jnp.where(sb, (xb - mb) - log_sb, -jnp.inf)
    p, q = jnp.exp(logp), jnp.exp(logq)
    both = (p > 0) & (q > 0)
    xa_s, xb_s = jnp.where(both, xa, 0.0), jnp.where(both, xb, 0.0)
    c, c_lo = two_difference(mb, ma)
    diff = (difference(xb_s, xa_s, c) - c_lo) - (log_sb - log_sa)
    close = both & (jnp.abs(diff) <= 0.5)
    diff = jnp.where(close, diff, 0.0)
    excess = jnp.where(close, p * jnp.expm1(diff), q - p)
    nu = event_sum(excess, ax, axis_name)
    nu = jnp.expand_dims(jnp.where(jnp.isfinite(nu), nu, 0.0), ax)
    diff = jnp.where(close, diff - jnp.log1p(nu), 0.0)
    return LogitPair(p, logp, q, logq, close, diff, ax)
