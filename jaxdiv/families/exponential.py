r"""Exponential distribution :math:`\mathrm{Exp}(\lambda)`: closed forms.

Parameter as in TFP / distrax: ``rate`` :math:`\lambda > 0` (density
:math:`\lambda e^{-\lambda x}` on :math:`x \ge 0`); the special case
:math:`\mathrm{Gamma}(1, \lambda)` of :mod:`jaxdiv.gamma`, with simpler
formulas. Elementwise over broadcastable parameters; non-positive, infinite
or nan rates give nan (an error under :func:`jaxdiv.value_checks` with
``chex.chexify``). 16-bit inputs are computed in float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.numerics import clamp_nonnegative, expm1mx
from .._core.primitives import div, log_ratio
from .._core.types import Shape
from . import _common

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_prob", "sample"]


def entropy(rate: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathrm{Exp}(\lambda)`, in nats.

    .. math:: h = 1 - \log\lambda

    Args:
      rate: rates :math:`\lambda > 0`, any shape.

    Returns:
      ``rate``'s shape.

    Raises:
      TypeError: ``rate`` is not floating point.

    Examples:
      >>> from jaxdiv import exponential
      >>> exponential.entropy(1.0)
      Array(1., dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (Sec. 8.1).
    """
    ok, (rate,) = _common.positive_params("exponential.entropy", rate=rate)
    return _common.nan_unless(ok, 1.0 - jnp.log(rate))


def kl_divergence(rate_p: ArrayLike, rate_q: ArrayLike) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Exp}(a) \| \mathrm{Exp}(b))`.

    .. math:: D = \log\frac{a}{b} + \frac{b}{a} - 1 = e^t - 1 - t,
       \qquad t = \log b - \log a

    computed as the right-hand side (``expm1mx``): non-negative and accurate
    to full relative precision when ``a`` and ``b`` are close.

    Args:
      rate_p: rates ``a`` of ``p`` (> 0).
      rate_q: rates ``b`` of ``q`` (> 0), broadcastable with ``rate_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a rate is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import exponential
      >>> exponential.kl_divergence(1.0, 2.0).round(4)
      Array(0.3069, dtype=float32)

    References:
      Gil, Alajaji and Linder, `Rényi divergence measures for commonly used
      univariate continuous distributions
      <https://doi.org/10.1016/j.ins.2013.06.018>`_, 2013.
    """
    ok, (a, b) = _common.positive_params(
        "exponential.kl_divergence", rate_p=rate_p, rate_q=rate_q
    )
    kl = expm1mx(log_ratio(b, a))
    return _common.nan_unless(ok, clamp_nonnegative(kl))


def cross_entropy(rate_p: ArrayLike, rate_q: ArrayLike) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two exponentials.

    .. math:: H(\mathrm{Exp}(a), \mathrm{Exp}(b)) = \frac{b}{a} - \log b

    Args:
      rate_p: rates ``a`` of ``p`` (> 0).
      rate_q: rates ``b`` of ``q`` (> 0), broadcastable with ``rate_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a rate is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import exponential
      >>> exponential.cross_entropy(1.0, 2.0).round(4)
      Array(1.3069, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (a, b) = _common.positive_params(
        "exponential.cross_entropy", rate_p=rate_p, rate_q=rate_q
    )
    return _common.nan_unless(ok, div(b, a) - jnp.log(b))


def log_prob(x: ArrayLike, rate: ArrayLike) -> jax.Array:
    r"""Log-density of :math:`\mathrm{Exp}(\lambda)` at ``x``.

    .. math:: \log p(x) = \log\lambda - \lambda x, \quad x \ge 0

    ``-inf`` for ``x < 0``.

    Args:
      x: points, broadcastable with ``rate`` (sample axes first).
      rate: rates (> 0).

    Returns:
      The broadcast shape.

    Raises:
      TypeError: ``rate`` is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import exponential
      >>> exponential.log_prob(1.0, 2.0).round(4)
      Array(-1.3069, dtype=float32)
    """
    name = "exponential.log_prob"
    (rate,) = _common.params(name, rate=rate)
    x = _common.values(name, "x", x, rate.dtype)
    x, rate = _common.params(name, x=x, rate=rate)
    ok = _common.positive(name, rate=rate)
    (rate,) = _common.guard(ok, rate)
    inside = x >= 0
    lp = jnp.where(inside, jnp.log(rate) - rate * jnp.where(inside, x, 0.0), -jnp.inf)
    return _common.nan_unless(ok & ~jnp.isnan(x), lp)


def sample(key: ArrayLike, rate: ArrayLike, *, shape: int | Shape = ()) -> jax.Array:
    r"""Draws :math:`x = \varepsilon / \lambda` with standard exponential noise.

    Reparameterised: gradients flow to ``rate``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      rate: rates (> 0).
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` samples; nan where the rate is invalid.

    Raises:
      TypeError: ``rate`` is not floating point.

    Examples:
      >>> import jax
      >>> from jaxdiv import exponential
      >>> exponential.sample(jax.random.key(0), 2.0, shape=3).shape
      (3,)
    """
    name = "exponential.sample"
    ok, (rate,) = _common.positive_params(name, rate=rate)
    shape = _common.sample_shape(name, shape) + rate.shape
    rate, ok = jnp.broadcast_to(rate, shape), jnp.broadcast_to(ok, shape)
    x = div(jax.random.exponential(key, shape, rate.dtype), rate)
    return jnp.where(ok, x, jnp.nan)
