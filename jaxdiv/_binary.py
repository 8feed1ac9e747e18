r"""Bernoulli entropy, cross-entropy and KL, elementwise.

A Bernoulli variable is a categorical one with two categories
``(1 - p, p)``: each measure here stacks that two-category axis and calls the
categorical formula (``_categorical._h`` / ``_ce`` / ``_kl``), so the
zero-safety and gradient conventions are shared, not re-derived. From logits
the pair is ``(log_sigmoid(-l), log_sigmoid(l))``, exact for ``l = ±inf``.

There is no event axis: the measures are elementwise. ``axis`` (default
``None``) optionally sums the elementwise values over axes, which is the
measure of a vector of independent Bernoulli variables.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import _checks
from ._categorical import _ce, _h, _kl
from ._numerics import in_base, safe_log

_PAIR = (-1,)


def _from_probs(name, argname, p, where):
    _checks.unit_interval(name, argname, p, where)
    two = jnp.stack([1.0 - p, p], axis=-1)
    if where is not None:
        two = jnp.where(where[..., None], two, 0.0)
    return two, safe_log(two)


def _from_logits(name, argname, logits, where):
    _checks.no_nan_or_posinf(name, argname, logits, where, posinf_ok=True)
    if where is not None:  # masked nan would reach the gradient of log_sigmoid
        logits = jnp.where(where, logits, 0.0)
    logs = jnp.stack([jax.nn.log_sigmoid(-logits), jax.nn.log_sigmoid(logits)], -1)
    if where is not None:
        logs = jnp.where(where[..., None], logs, -jnp.inf)
    return jnp.exp(logs), logs


def _inputs(name, arrays, where):
    xs = _checks.floatings(name, **arrays)
    _checks.same_shape(name, **dict(zip(arrays, xs, strict=True)))
    return xs, _checks.mask(name, where, xs[0].shape)


def _reduce(name, values, axis, base):
    if axis is not None:
        values = jnp.sum(values, axis=_checks.axes(name, axis, values.ndim))
    return in_base(values, base)


Axis = int | Sequence[int] | None


def binary_entropy(
    p: ArrayLike,
    *,
    axis: Axis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Entropy of Bernoulli(``p``), elementwise.

    .. math:: h(p) = -p \log p - (1 - p) \log (1 - p)

    0 at ``p`` in {0, 1}, with a finite gradient there (``+1`` at 0, ``-1``
    at 1: the zero-probability convention drops the vanishing outcome's
    term); :math:`\log 2` at ``p = 0.5``.

    Args:
      p: success probabilities in ``[0, 1]``, any shape.
      axis: ``None`` (elementwise) or axes to sum over (independent
        variables).
      where: boolean mask broadcastable to ``p``; ``False`` entries give 0.
      base: logarithm base; ``None`` gives nats.

    Returns:
      ``p``'s shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_entropy(jnp.array([0.0, 0.5, 1.0]), base=2)
      Array([0., 1., 0.], dtype=float32)
    """
    name = "binary_entropy"
    (p,), where = _inputs(name, {"p": p}, where)
    two, logs = _from_probs(name, "p", p, where)
    return _reduce(name, _h(two, logs, _PAIR), axis, base)


def binary_cross_entropy(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Cross-entropy between Bernoulli(``p``) and Bernoulli(``q``).

    .. math:: H(p, q) = -p \log q - (1 - p) \log (1 - q)

    ``+inf`` where ``p > 0 = q`` or ``p < 1 = q``; terms with a zero weight
    are 0 whatever the log.

    Args:
      p: target probabilities in ``[0, 1]``.
      q: predicted probabilities in ``[0, 1]``, same shape as ``p``.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_cross_entropy(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.0]))
      Array([0.6931472, 0.       ], dtype=float32)
    """
    name = "binary_cross_entropy"
    (p, q), where = _inputs(name, {"p": p, "q": q}, where)
    two_p, _ = _from_probs(name, "p", p, where)
    _, logs_q = _from_probs(name, "q", q, where)
    return _reduce(name, _ce(two_p, logs_q, _PAIR), axis, base)


def binary_kl_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Bern}(p) \| \mathrm{Bern}(q))`, elementwise.

    .. math:: D = p \log \frac{p}{q} + (1 - p) \log \frac{1 - p}{1 - q}

    Never negative; 0 where ``p == q``; ``+inf`` where ``q`` puts no mass on
    an outcome ``p`` can take.

    Args:
      p: probabilities in ``[0, 1]``.
      q: probabilities in ``[0, 1]``, same shape as ``p``.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_kl_divergence(jnp.array(0.5), jnp.array(0.9)).round(4)
      Array(0.5108, dtype=float32)
    """
    name = "binary_kl_divergence"
    (p, q), where = _inputs(name, {"p": p, "q": q}, where)
    two_p, logs_p = _from_probs(name, "p", p, where)
    _, logs_q = _from_probs(name, "q", q, where)
    return _reduce(name, _kl(two_p, logs_p, logs_q, _PAIR), axis, base)


def binary_entropy_from_logits(
    logits: ArrayLike,
    *,
    axis: Axis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Entropy of Bernoulli(``sigmoid(logits)``), elementwise.

    .. math:: h = -\sigma(l) \log \sigma(l) - \sigma(-l) \log \sigma(-l)

    Computed with ``log_sigmoid``: exact, finite and with finite gradients for
    ``l = ±inf`` and for large ``|l|``.

    Args:
      logits: log-odds, any shape.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to ``logits``.
      base: logarithm base; ``None`` gives nats.

    Returns:
      ``logits``' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_entropy_from_logits(jnp.array([0.0, jnp.inf]), base=2)
      Array([1., 0.], dtype=float32)
    """
    name = "binary_entropy_from_logits"
    (logits,), where = _inputs(name, {"logits": logits}, where)
    two, logs = _from_logits(name, "logits", logits, where)
    return _reduce(name, _h(two, logs, _PAIR), axis, base)


def binary_cross_entropy_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Bernoulli cross-entropy with both probabilities given as log-odds.

    .. math:: H = -\sigma(a) \log \sigma(b) - \sigma(-a) \log \sigma(-b)

    For a hard target pass ``p_logits = ±inf``; to pass target
    probabilities use :func:`binary_cross_entropy` or
    ``jaxdiv.losses.sigmoid_binary_cross_entropy``.

    Args:
      p_logits: log-odds of the target ``p``.
      q_logits: log-odds of the prediction ``q``, same shape.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_cross_entropy_from_logits(jnp.inf, jnp.array(0.0)).round(4)
      Array(0.6931, dtype=float32)
    """
    name = "binary_cross_entropy_from_logits"
    (a, b), where = _inputs(name, {"p_logits": p_logits, "q_logits": q_logits}, where)
    two_p, _ = _from_logits(name, "p_logits", a, where)
    _, logs_q = _from_logits(name, "q_logits", b, where)
    return _reduce(name, _ce(two_p, logs_q, _PAIR), axis, base)


def binary_kl_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = None,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Bernoulli KL with both probabilities given as log-odds.

    .. math:: D = \sigma(a) (\log\sigma(a) - \log\sigma(b))
       + \sigma(-a) (\log\sigma(-a) - \log\sigma(-b))

    Args:
      p_logits: log-odds of ``p``.
      q_logits: log-odds of ``q``, same shape.
      axis: ``None`` (elementwise) or axes to sum over.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The inputs' shape (without ``axis`` when given).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.binary_kl_divergence_from_logits(jnp.array(1.0), jnp.array(1.0))
      Array(0., dtype=float32)
    """
    name = "binary_kl_divergence_from_logits"
    (a, b), where = _inputs(name, {"p_logits": p_logits, "q_logits": q_logits}, where)
    two_p, logs_p = _from_logits(name, "p_logits", a, where)
    _, logs_q = _from_logits(name, "q_logits", b, where)
    return _reduce(name, _kl(two_p, logs_p, logs_q, _PAIR), axis, base)
