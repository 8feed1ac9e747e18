"""Builders turning user input into the ``(p, log p)`` pairs of the formulas.

Each validates its arguments (static checks, and the value checks when on),
applies the ``where`` mask, and returns the probabilities, their logs and
the normalised event axes: from probabilities with
:func:`~jaxdiv._core.numerics.safe_log`, from logits with the masked,
padding-safe log-softmax.
"""

from __future__ import annotations

import jax.numpy as jnp

from . import checks, value_checks
from .numerics import log_softmax, propagate_nan, safe_log

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
