r"""Univariate normal distribution :math:`\mathcal{N}(\mu, \sigma^2)`: closed forms.

Parameters as in TFP / distrax: ``loc`` :math:`\mu` and ``scale``
:math:`\sigma > 0` (the standard deviation). Every function is elementwise:
the parameters broadcast against each other with NumPy's rules, and the
result has the broadcast shape. Parameters outside the domain (``scale <= 0``,
infinite or nan) give nan, with finite gradients elsewhere; inside
:func:`jaxdiv.value_checks`, ``chex.chexify`` turns them into errors.
16-bit inputs are computed in float32; integer inputs raise ``TypeError``.

Differential entropies can be negative; the KL divergence never is.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.numerics import clamp_nonnegative, expm1mx
from .._core.primitives import div, log_ratio
from .._core.types import Shape
from . import _common

__all__ = [
    "cross_entropy",
    "entropy",
    "kl_divergence",
    "kl_to_standard_normal",
    "log_prob",
    "sample",
]

_LOG_2PI = math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)

# --------------------------------------------------------------------------
# the formulas, on valid (guarded) parameters; mvn.*_diag reuses them


def _entropy(scale):
    return 0.5 * (1.0 + _LOG_2PI) + jnp.log(scale)


def _kl(loc_p, scale_p, loc_q, scale_q):
    # 1/2 (r^2 - 1 - log r^2) + 1/2 ((mu_p - mu_q) / sigma_q)^2, r = sigma_p / sigma_q
    t = 2.0 * log_ratio(scale_p, scale_q)
    return 0.5 * expm1mx(t) + _half_square(div(loc_p - loc_q, scale_q))


def _half_square(z):
    # z^2 / 2 as (z / sqrt 2)^2: finite up to z^2 = 2 * float max (z^2 is not);
    # the gradient's chain, z then z / scale, holds no larger intermediate
    return jnp.square(z * _SQRT_HALF)


def _ce(loc_p, scale_p, loc_q, scale_q):
    return (
        0.5 * _LOG_2PI
        + jnp.log(scale_q)
        + _half_square(div(scale_p, scale_q))
        + _half_square(div(loc_p - loc_q, scale_q))
    )


# --------------------------------------------------------------------------
# public


def entropy(loc: ArrayLike, scale: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathcal{N}(\mu, \sigma^2)`, in nats.

    .. math:: h = \tfrac12 \log(2 \pi e \sigma^2)

    It does not depend on ``loc``, which only takes part in the broadcasting
    (and a nan ``loc`` gives nan).

    Args:
      loc: means :math:`\mu`, any shape.
      scale: standard deviations :math:`\sigma > 0`, broadcastable with ``loc``.

    Returns:
      The broadcast shape of the parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import normal
      >>> normal.entropy(0.0, jnp.array([1.0, 2.0])).round(4)
      Array([1.4189, 2.1121], dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (Sec. 8.1).
    """
    name = "normal.entropy"
    loc, scale = _common.params(name, loc=loc, scale=scale)
    _common.finite(name, loc=loc)
    ok = _common.positive(name, scale=scale) & ~jnp.isnan(loc)
    (scale,) = _common.guard(ok, scale)
    return _common.nan_unless(ok, _entropy(scale))


def kl_divergence(
    loc_p: ArrayLike, scale_p: ArrayLike, loc_q: ArrayLike, scale_q: ArrayLike
) -> jax.Array:
    r"""KL divergence between two normal distributions, in math order.

    :math:`D_{KL}(\mathcal{N}(\mu_p, \sigma_p^2) \| \mathcal{N}(\mu_q, \sigma_q^2))`:

    .. math::
       D = \tfrac12 \left(r^2 - 1 - \log r^2\right)
         + \frac{(\mu_p - \mu_q)^2}{2 \sigma_q^2}, \qquad r = \sigma_p / \sigma_q

    The scale term is computed as ``expm1mx(2 log r)`` (:math:`e^t - 1 - t`),
    so both terms are non-negative and accurate to full relative precision
    when ``p`` and ``q`` are close; :math:`D(p \| p) = 0` exactly.

    Args:
      loc_p: means of ``p``.
      scale_p: standard deviations of ``p`` (> 0).
      loc_q: means of ``q``.
      scale_q: standard deviations of ``q`` (> 0).

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import normal
      >>> normal.kl_divergence(0.0, 1.0, 1.0, 2.0).round(4)
      Array(0.4431, dtype=float32)

    References:
      Kullback, `Information Theory and Statistics
      <https://store.doverpublications.com/0486696847.html>`_, 1959;
      Gil, Alajaji and Linder, `Rényi divergence measures for commonly used
      univariate continuous distributions
      <https://doi.org/10.1016/j.ins.2013.06.018>`_, 2013.
    """
    ok, lp, sp, lq, sq = _common.location_scale_pair(
        "normal.kl_divergence", loc_p, scale_p, loc_q, scale_q
    )
    return _common.nan_unless(ok, clamp_nonnegative(_kl(lp, sp, lq, sq)))


def cross_entropy(
    loc_p: ArrayLike, scale_p: ArrayLike, loc_q: ArrayLike, scale_q: ArrayLike
) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two normals.

    .. math::
       H(p, q) = \tfrac12 \log(2 \pi \sigma_q^2)
         + \frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{2 \sigma_q^2}
         = h(p) + D_{KL}(p \| q)

    Args:
      loc_p: means of ``p``.
      scale_p: standard deviations of ``p`` (> 0).
      loc_q: means of ``q``.
      scale_q: standard deviations of ``q`` (> 0).

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import normal
      >>> normal.cross_entropy(0.0, 1.0, 0.0, 1.0).round(4)  # = entropy
      Array(1.4189, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, lp, sp, lq, sq = _common.location_scale_pair(
        "normal.cross_entropy", loc_p, scale_p, loc_q, scale_q
    )
    return _common.nan_unless(ok, _ce(lp, sp, lq, sq))


def kl_to_standard_normal(mean: ArrayLike, log_var: ArrayLike) -> jax.Array:
    r"""The VAE term :math:`D_{KL}(\mathcal{N}(m, e^{v}) \| \mathcal{N}(0, 1))`.

    .. math:: D = \tfrac12 \left(e^{v} - 1 - v + m^2\right)

    Elementwise: nothing is summed, so for a diagonal Gaussian posterior
    sum the result over the latent axis yourself. ``e^v - 1 - v`` is
    computed with ``expm1mx``: accurate as :math:`v \to 0`, never negative,
    and finite (``+inf``) for ``v = ±inf``.

    Args:
      mean: posterior means :math:`m`, any shape.
      log_var: posterior log-variances :math:`v = \log \sigma^2`,
        broadcastable with ``mean``.

    Returns:
      The broadcast shape (per latent dimension).

    Raises:
      TypeError: an input is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import normal
      >>> mean, log_var = jnp.array([[0.0, 1.0]]), jnp.array([[0.0, -1.0]])
      >>> normal.kl_to_standard_normal(mean, log_var).sum(-1).round(4)
      Array([0.684], dtype=float32)

    References:
      Kingma and Welling, `Auto-Encoding Variational Bayes
      <https://arxiv.org/abs/1312.6114>`_, 2014 (Appendix B).
    """
    name = "normal.kl_to_standard_normal"
    mean, log_var = _common.params(name, mean=mean, log_var=log_var)
    _common.finite(name, mean=mean, log_var=log_var)
    return 0.5 * (expm1mx(log_var) + jnp.square(mean))


def log_prob(x: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> jax.Array:
    r"""Log-density of :math:`\mathcal{N}(\mu, \sigma^2)` at ``x``.

    .. math:: \log p(x) = -\frac{(x - \mu)^2}{2 \sigma^2} - \log \sigma
       - \tfrac12 \log 2\pi

    Args:
      x: points, broadcastable with the parameters (sample axes first).
      loc: means.
      scale: standard deviations (> 0).

    Returns:
      The broadcast shape of ``x`` and the parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import normal
      >>> normal.log_prob(0.0, 0.0, 1.0).round(4)
      Array(-0.9189, dtype=float32)
    """
    name = "normal.log_prob"
    loc, scale = _common.params(name, loc=loc, scale=scale)
    x = _common.values(name, "x", x, loc.dtype)
    x, loc, scale = _common.params(name, x=x, loc=loc, scale=scale)
    ok = _common.positive(name, scale=scale)
    (scale,) = _common.guard(ok, scale)
    z = div(x - loc, scale)
    return _common.nan_unless(ok, -0.5 * (jnp.square(z) + _LOG_2PI) - jnp.log(scale))


def sample(
    key: ArrayLike, loc: ArrayLike, scale: ArrayLike, *, shape: int | Shape = ()
) -> jax.Array:
    r"""Draws :math:`x = \mu + \sigma \varepsilon` with standard normal noise.

    Reparameterised: gradients flow to ``loc`` and ``scale``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      loc: means.
      scale: standard deviations (> 0); nan samples where not.
      shape: sample shape, prepended to the parameters' batch shape.

    Returns:
      ``[*shape, *batch]`` samples in the parameters' dtype.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax
      >>> from jaxdiv import normal
      >>> normal.sample(jax.random.key(0), 0.0, 1.0, shape=(2, 3)).shape
      (2, 3)
    """
    name = "normal.sample"
    loc, scale = _common.params(name, loc=loc, scale=scale)
    shape = _common.sample_shape(name, shape) + loc.shape
    ok = _common.positive(name, scale=scale)
    loc, scale, ok = (jnp.broadcast_to(a, shape) for a in (loc, scale, ok))
    eps = jax.random.normal(key, shape, loc.dtype)
    return jnp.where(ok, loc + scale * eps, jnp.nan)
