r"""Bernoulli distribution :math:`\mathrm{Bern}(p)`: closed forms.

Parameter as in TFP / distrax: ``probs`` :math:`p \in [0, 1]` (the
probability of the outcome 1); the ``*_from_logits`` functions take the
log-odds ``logits`` :math:`\ell` instead, :math:`p = \sigma(\ell)`, exact
for :math:`\ell = \pm\infty`. Every measure delegates to the Bernoulli
formulas of ``jaxdiv._measures.bernoulli`` (so :func:`entropy` equals
:func:`jaxdiv.binary_entropy`, with the same zero-probability conventions:
:math:`0 \log 0 = 0`, ``+inf`` where ``q`` excludes an outcome ``p`` can
take), but unlike those, the parameters here broadcast against each other
with NumPy's rules, as in every parametric family module. ``probs`` outside
``[0, 1]`` gives nan (an error under :func:`jaxdiv.value_checks` with
``chex.chexify``). 16-bit inputs are computed in float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import value_checks
from .._core.numerics import safe_log
from .._core.types import Shape
from .._measures import bernoulli as bernoulli_measures
from . import _common

__all__ = [
    "cross_entropy",
    "cross_entropy_from_logits",
    "entropy",
    "entropy_from_logits",
    "kl_divergence",
    "kl_divergence_from_logits",
    "log_prob",
    "sample",
]


def _probs(name, **arrays):
    xs = _common.params(name, **arrays)
    for k, x in zip(arrays, xs, strict=True):
        value_checks.unit_interval(name, k, x)
    return xs


def _logits(name, **arrays):
    xs = _common.params(name, **arrays)
    for k, x in zip(arrays, xs, strict=True):
        value_checks.no_nan_or_posinf(name, k, x, posinf_ok=True)
    return xs


def entropy(probs: ArrayLike) -> jax.Array:
    r"""Entropy of :math:`\mathrm{Bern}(p)`, in nats.

    .. math:: H(p) = -p\log p - (1 - p)\log(1 - p)

    Args:
      probs: :math:`p \in [0, 1]`, any shape.

    Returns:
      ``probs``' shape.

    Raises:
      TypeError: ``probs`` is not floating point.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import bernoulli
      >>> bernoulli.entropy(jnp.array([0.0, 0.5])).round(4)
      Array([0.    , 0.6931], dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (Sec. 2.1).
    """
    (p,) = _probs("bernoulli.entropy", probs=probs)
    return bernoulli_measures.entropy_terms(p)


def kl_divergence(probs_p: ArrayLike, probs_q: ArrayLike) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Bern}(p) \| \mathrm{Bern}(q))`.

    .. math:: D = p \log\frac{p}{q} + (1 - p)\log\frac{1 - p}{1 - q}

    Args:
      probs_p: :math:`p \in [0, 1]`.
      probs_q: :math:`q \in [0, 1]`, broadcastable with ``probs_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import bernoulli
      >>> bernoulli.kl_divergence(0.5, 0.9).round(4)
      Array(0.5108, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (Sec. 2.3).
    """
    p, q = _probs("bernoulli.kl_divergence", probs_p=probs_p, probs_q=probs_q)
    return bernoulli_measures.kl_terms(p, q)


def cross_entropy(probs_p: ArrayLike, probs_q: ArrayLike) -> jax.Array:
    r"""Cross-entropy of :math:`\mathrm{Bern}(q)` relative to :math:`\mathrm{Bern}(p)`.

    .. math:: H(p, q) = -p\log q - (1 - p)\log(1 - q)

    Args:
      probs_p: :math:`p \in [0, 1]`.
      probs_q: :math:`q \in [0, 1]`, broadcastable with ``probs_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import bernoulli
      >>> bernoulli.cross_entropy(1.0, 0.5).round(4)
      Array(0.6931, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    p, q = _probs("bernoulli.cross_entropy", probs_p=probs_p, probs_q=probs_q)
    return bernoulli_measures.cross_entropy_terms(p, q)


def entropy_from_logits(logits: ArrayLike) -> jax.Array:
    r"""Entropy of :math:`\mathrm{Bern}(\sigma(\ell))`, from log-odds.

    .. math:: H = -\sigma(\ell)\log\sigma(\ell) - \sigma(-\ell)\log\sigma(-\ell)

    Computed with ``log_sigmoid``: exact and with finite gradients for large
    :math:`|\ell|` and :math:`\ell = \pm\infty`.

    Args:
      logits: log-odds :math:`\ell`, any shape.

    Returns:
      ``logits``' shape.

    Raises:
      TypeError: ``logits`` is not floating point.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import bernoulli
      >>> bernoulli.entropy_from_logits(jnp.array([0.0, jnp.inf])).round(4)
      Array([0.6931, 0.    ], dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    (logits,) = _logits("bernoulli.entropy_from_logits", logits=logits)
    return bernoulli_measures.entropy_terms_from_logits(logits)


def kl_divergence_from_logits(logits_p: ArrayLike, logits_q: ArrayLike) -> jax.Array:
    r"""Bernoulli KL :math:`D_{KL}(\sigma(a) \| \sigma(b))`, from log-odds.

    .. math:: D = \sigma(a)\big(\log\sigma(a) - \log\sigma(b)\big)
       + \sigma(-a)\big(\log\sigma(-a) - \log\sigma(-b)\big)

    Args:
      logits_p: log-odds ``a`` of ``p``.
      logits_q: log-odds ``b`` of ``q``, broadcastable with ``logits_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import bernoulli
      >>> bernoulli.kl_divergence_from_logits(0.0, 2.0).round(4)
      Array(0.4338, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    a, b = _logits(
        "bernoulli.kl_divergence_from_logits", logits_p=logits_p, logits_q=logits_q
    )
    return bernoulli_measures.kl_terms_from_logits(a, b)


def cross_entropy_from_logits(logits_p: ArrayLike, logits_q: ArrayLike) -> jax.Array:
    r"""Bernoulli cross-entropy :math:`H(\sigma(a), \sigma(b))`, from log-odds.

    .. math:: H = -\sigma(a)\log\sigma(b) - \sigma(-a)\log\sigma(-b)

    Args:
      logits_p: log-odds ``a`` of ``p``.
      logits_q: log-odds ``b`` of ``q``, broadcastable with ``logits_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import bernoulli
      >>> bernoulli.cross_entropy_from_logits(jnp.inf, 0.0).round(4)
      Array(0.6931, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    a, b = _logits(
        "bernoulli.cross_entropy_from_logits", logits_p=logits_p, logits_q=logits_q
    )
    return bernoulli_measures.cross_entropy_terms_from_logits(a, b)


def log_prob(x: ArrayLike, probs: ArrayLike) -> jax.Array:
    r"""Log-probability of the outcome ``x`` under :math:`\mathrm{Bern}(p)`.

    .. math:: \log p(x) = x \log p + (1 - x)\log(1 - p), \quad x \in \{0, 1\}

    ``-inf`` for any other ``x``, and for an outcome of probability 0.

    Args:
      x: outcomes (bool, integer or floating), broadcastable with ``probs``.
      probs: :math:`p \in [0, 1]`.

    Returns:
      The broadcast shape, in ``probs``' dtype.

    Raises:
      TypeError: ``probs`` is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import bernoulli
      >>> bernoulli.log_prob(jnp.array([0, 1]), 0.25).round(4)
      Array([-0.2877, -1.3863], dtype=float32)
    """
    name = "bernoulli.log_prob"
    (probs,) = _common.params(name, probs=probs)
    x = _common.values(name, "x", x, probs.dtype)
    x, probs = _common.params(name, x=x, probs=probs)
    value_checks.unit_interval(name, "probs", probs)
    ok = bernoulli_measures.valid(probs)
    probs = jnp.where(ok, probs, 0.5)
    lp = jnp.where(
        x == 1,
        safe_log(probs),
        jnp.where(x == 0, bernoulli_measures.log1m_probs(probs), -jnp.inf),
    )
    return jnp.where(ok & ~jnp.isnan(x), lp, jnp.nan)


def sample(key: ArrayLike, probs: ArrayLike, *, shape: int | Shape = ()) -> jax.Array:
    r"""Draws outcomes in :math:`\{0, 1\}` from :math:`\mathrm{Bern}(p)`.

    Not reparameterisable: no gradient flows to ``probs``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      probs: :math:`p \in [0, 1]`.
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` outcomes as 0./1. in ``probs``' dtype; nan where
      ``probs`` lies outside ``[0, 1]``.

    Raises:
      TypeError: ``probs`` is not floating point.

    Examples:
      >>> import jax
      >>> from jaxdiv import bernoulli
      >>> bernoulli.sample(jax.random.key(0), 1.0, shape=3)
      Array([1., 1., 1.], dtype=float32)
    """
    name = "bernoulli.sample"
    (probs,) = _common.params(name, probs=probs)
    value_checks.unit_interval(name, "probs", probs)
    shape = _common.sample_shape(name, shape) + probs.shape
    probs = jnp.broadcast_to(jax.lax.stop_gradient(probs), shape)
    x = jax.random.bernoulli(key, probs, shape).astype(probs.dtype)
    return jnp.where((probs >= 0) & (probs <= 1), x, jnp.nan)
