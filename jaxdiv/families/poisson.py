r"""Poisson distribution :math:`\mathrm{Pois}(\lambda)`: entropy, KL, cross-entropy.

Parameter as in TFP / distrax: ``rate`` :math:`\lambda > 0`. Every function
is elementwise over broadcastable parameters; ``rate <= 0`` (or infinite, or
nan) gives nan, an error under :func:`jaxdiv.value_checks` and
``chex.chexify``. 16-bit inputs are computed in float32.

The entropy has no closed form:

.. math:: H(\lambda) = \lambda (1 - \log\lambda) + \mathbb{E}[\log k!]
   = -\sum_{k \ge 0} p_k \log p_k

It is computed two ways, each where it is exact to the working precision:

* ``rate < T``: the sum over a fixed window of ``2 W`` consecutive ``k``
  around the mean (from ``max(0, floor(rate) - W)``), wide enough that the
  mass left out is far below rounding (``T = 16, W = 40`` in float32,
  ``T = 80, W = 100`` in float64);
* ``rate >= T``: the asymptotic series

  .. math:: H(\lambda) = \tfrac12 \log(2\pi e \lambda) - \frac{1}{12\lambda}
     - \frac{1}{24\lambda^2} - \frac{19}{360\lambda^3} - \frac{9}{80\lambda^4}
     - \frac{863}{2520\lambda^5} - \frac{1375}{1008\lambda^6}
     - \frac{33953}{5040\lambda^7} + O(\lambda^{-8}),

  whose truncation error at ``T`` is below float rounding, and which has no
  cancellation between the large terms :math:`\lambda\log\lambda` and
  :math:`\mathbb{E}[\log k!]` that the sum suffers.

The cross-entropy is :math:`H(a) + D_{KL}(a \| b)`: it involves the same
:math:`\mathbb{E}_a[\log k!]`, which the entropy already computes.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln
from jax.typing import ArrayLike

from .._core.numerics import clamp_nonnegative, expm1mx
from .._core.primitives import log_ratio
from .._core.special import stirling_parts
from .._core.types import Shape
from . import _common

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_prob", "sample"]

# Coefficients of 1/rate**n, n = 1..7, in the asymptotic entropy series
# (Evans et al. 1988 give the first terms; these were checked against a
# 60-digit summation).
_SERIES = (
    -1.0 / 12.0,
    -1.0 / 24.0,
    -19.0 / 360.0,
    -9.0 / 80.0,
    -863.0 / 2520.0,
    -1375.0 / 1008.0,
    -33953.0 / 5040.0,
)
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2PI_E = _LOG_2PI + 1.0


def _window(dtype) -> tuple[float, int]:
    """(threshold T, half-width W) of the summation branch for a dtype."""
    return (80.0, 100) if jnp.finfo(dtype).bits > 32 else (16.0, 40)


def _entropy(rate):
    threshold, half = _window(rate.dtype)
    small = rate < threshold
    # summation over k in [start, start + 2W), on rates below the threshold
    r = jnp.where(small, rate, 0.5 * threshold)[..., None]
    start = jnp.maximum(jnp.floor(jax.lax.stop_gradient(r)) - half, 0.0)
    window = jnp.arange(2 * half, dtype=rate.dtype)
    k = start + window.reshape((1,) * rate.ndim + window.shape)
    logp = _log_pmf_near_mean(k, r)
    h_sum = -jnp.sum(jnp.exp(logp) * logp, axis=-1)
    # asymptotic series, on rates above it
    big = jnp.where(small, threshold, rate)
    inv = 1.0 / big
    series = jnp.zeros_like(inv)
    for c in reversed(_SERIES):
        series = (series + c) * inv
    h_big = 0.5 * (_LOG_2PI_E + jnp.log(big)) + series
    return jnp.where(small, h_sum, h_big)


def _log_pmf_near_mean(k, r):
    r"""``log p_k = k log r - r - log k!`` without its large terms.

    ``k log r`` and ``log k!`` are each of size ``k log k`` (about 50 at
    ``k = 16``), so the textbook sum loses ``50 eps`` absolutely, which
    summed into the entropy is ``1e-6`` relative in float32. With Stirling's
    series :math:`\log k! = (k + \tfrac12)\log k - k + \tfrac12\log 2\pi
    + \rho(k)` it is

    .. math:: \log p_k = -k\,(e^{u} - 1 - u) - \tfrac12 \log(2\pi k)
       - \rho(k), \qquad u = \log(r / k),

    every term small (``expm1mx``); :math:`\rho` is ``_special``'s remainder
    ``r(k)``. ``log p_0 = -r`` exactly.
    """
    k1 = jnp.maximum(k, 1.0)
    rho, _ = stirling_parts(k1)
    bregman = k1 * expm1mx(log_ratio(r, k1))
    logp = -bregman - 0.5 * (_LOG_2PI + jnp.log(k1)) - rho
    return jnp.where(k == 0, -r, logp)


def _kl(rate_p, rate_q):
    # a log(a/b) - a + b = a (e^t - 1 - t), t = log b - log a
    return rate_p * expm1mx(log_ratio(rate_q, rate_p))


def entropy(rate: ArrayLike) -> jax.Array:
    r"""Entropy of :math:`\mathrm{Pois}(\lambda)`, in nats.

    .. math:: H(\lambda) = -\sum_{k \ge 0} p_k \log p_k, \qquad
       p_k = e^{-\lambda} \lambda^k / k!

    No closed form exists: a windowed sum below a threshold rate, the
    asymptotic series above (see the module docstring); both accurate to
    float rounding, with finite gradients, for every ``rate > 0``.
    :math:`H \approx \lambda (1 - \log\lambda)` as :math:`\lambda \to 0` and
    :math:`\tfrac12 \log(2\pi e\lambda)` as :math:`\lambda \to \infty`.

    Args:
      rate: rates :math:`\lambda > 0`, any shape.

    Returns:
      ``rate``'s shape.

    Raises:
      TypeError: ``rate`` is not floating point.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import poisson
      >>> poisson.entropy(jnp.array([0.1, 1.0, 1e6])).tolist()
      [0.3337, 1.3048, 8.3267]

    References:
      Evans, Boersma, Blachman and Jagers, `The Entropy of a Poisson
      Distribution <https://doi.org/10.1137/1030059>`_, SIAM Review, 1988.
    """
    ok, (rate,) = _common.positive_params("poisson.entropy", rate=rate)
    return _common.nan_unless(ok, _entropy(rate))


def kl_divergence(rate_p: ArrayLike, rate_q: ArrayLike) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Pois}(a) \| \mathrm{Pois}(b))`.

    .. math:: D = a \log\frac{a}{b} - a + b = a \left(e^t - 1 - t\right),
       \qquad t = \log b - \log a

    The second form (``expm1mx``) is non-negative and accurate to full
    relative precision when ``a`` and ``b`` are close.

    Args:
      rate_p: rates ``a`` of ``p`` (> 0).
      rate_q: rates ``b`` of ``q`` (> 0), broadcastable with ``rate_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a rate is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import poisson
      >>> poisson.kl_divergence(2.0, 3.0).round(4)
      Array(0.1891, dtype=float32)

    References:
      Kullback, `Information Theory and Statistics
      <https://store.doverpublications.com/0486696847.html>`_, 1959.
    """
    ok, (a, b) = _common.positive_params(
        "poisson.kl_divergence", rate_p=rate_p, rate_q=rate_q
    )
    return _common.nan_unless(ok, clamp_nonnegative(_kl(a, b)))


def cross_entropy(rate_p: ArrayLike, rate_q: ArrayLike) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two Poissons.

    .. math:: H(\mathrm{Pois}(a), \mathrm{Pois}(b))
       = b - a \log b + \mathbb{E}_a[\log k!] = H(a) + D_{KL}(a \| b)

    computed as the right-hand side, with :func:`entropy` carrying the
    :math:`\mathbb{E}_a[\log k!]` term that has no closed form.

    Args:
      rate_p: rates ``a`` of ``p`` (> 0).
      rate_q: rates ``b`` of ``q`` (> 0), broadcastable with ``rate_p``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a rate is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import poisson
      >>> poisson.cross_entropy(2.0, 3.0).round(4)
      Array(1.894, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (a, b) = _common.positive_params(
        "poisson.cross_entropy", rate_p=rate_p, rate_q=rate_q
    )
    return _common.nan_unless(ok, _entropy(a) + _kl(a, b))


def log_prob(x: ArrayLike, rate: ArrayLike) -> jax.Array:
    r"""Log-probability of the count ``x`` under :math:`\mathrm{Pois}(\lambda)`.

    .. math:: \log p(k) = k \log\lambda - \lambda - \log k!

    ``-inf`` where ``x`` is not a non-negative integer, nan where it is nan.

    Args:
      x: counts (integer or floating), broadcastable with ``rate``.
      rate: rates (> 0).

    Returns:
      The broadcast shape, in the rate's dtype.

    Raises:
      TypeError: ``rate`` is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import poisson
      >>> poisson.log_prob(jnp.array([0, 2]), 2.0).round(4)
      Array([-2.    , -1.3069], dtype=float32)
    """
    name = "poisson.log_prob"
    ok, (rate,) = _common.positive_params(name, rate=rate)
    x = _common.values(name, "x", x, rate.dtype)
    x, rate, ok = _common.params(name, x=x, rate=rate, ok=ok.astype(rate.dtype))
    inside = (x >= 0) & (x == jnp.floor(x))
    k = jnp.where(inside, x, 0.0)
    log_fact = jnp.where(k < 2.0, 0.0, gammaln(jnp.maximum(k, 2.0) + 1.0))
    lp = jnp.where(inside, k * jnp.log(rate) - rate - log_fact, -jnp.inf)
    return _common.nan_unless((ok > 0) & ~jnp.isnan(x), lp)


def sample(key: ArrayLike, rate: ArrayLike, *, shape: int | Shape = ()) -> jax.Array:
    r"""Draws counts from :math:`\mathrm{Pois}(\lambda)`.

    Not reparameterisable: no gradient flows to ``rate``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      rate: rates (> 0).
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` counts, as floats of the rate's dtype (as TFP);
      nan where the rate is invalid.

    Raises:
      TypeError: ``rate`` is not floating point.

    Examples:
      >>> import jax
      >>> from jaxdiv import poisson
      >>> poisson.sample(jax.random.key(0), 3.0, shape=4).shape
      (4,)
    """
    name = "poisson.sample"
    ok, (rate,) = _common.positive_params(name, rate=rate)
    shape = _common.sample_shape(name, shape) + rate.shape
    rate = jax.lax.stop_gradient(rate)
    counts = jax.random.poisson(key, jnp.broadcast_to(rate, shape), shape)
    return jnp.where(jnp.broadcast_to(ok, shape), counts.astype(rate.dtype), jnp.nan)
