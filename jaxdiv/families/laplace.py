r"""Laplace distribution :math:`\mathrm{Laplace}(\mu, b)`: closed forms.

Parameters as in TFP / distrax: ``loc`` :math:`\mu` and ``scale``
:math:`b > 0` (density :math:`e^{-|x - \mu| / b} / (2b)`). Elementwise over
broadcastable parameters; a non-positive, infinite or nan scale gives nan
(an error under :func:`jaxdiv.value_checks` with ``chex.chexify``). 16-bit
inputs are computed in float32.
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

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_prob", "sample"]

_LOG_2 = math.log(2.0)


def _far(delta, scale_p):
    r"""Splits off the pairs whose locations are > 50 scales apart.

    There :math:`e^{-\delta / b_p}` is 0 to working precision, and its
    derivative through :math:`b_p` (:math:`\delta / b_p^2`, which can
    overflow) must not meet a zero cotangent: the near branch gets the safe
    values ``delta = 0, scale_p = 1`` instead (the "double where").
    """
    far = delta > 50.0 * scale_p
    return far, jnp.where(far, 0.0, delta), jnp.where(far, 1.0, scale_p)


def entropy(loc: ArrayLike, scale: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathrm{Laplace}(\mu, b)`, in nats.

    .. math:: h = 1 + \log(2b)

    It does not depend on ``loc``, which only takes part in the broadcasting
    (and a nan ``loc`` gives nan).

    Args:
      loc: locations :math:`\mu`.
      scale: scales :math:`b > 0`, broadcastable with ``loc``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import laplace
      >>> laplace.entropy(0.0, 1.0).round(4)
      Array(1.6931, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (Table 17.1).
    """
    name = "laplace.entropy"
    loc, scale = _common.params(name, loc=loc, scale=scale)
    _common.finite(name, loc=loc)
    ok = _common.positive(name, scale=scale) & ~jnp.isnan(loc)
    (scale,) = _common.guard(ok, scale)
    return _common.nan_unless(ok, 1.0 + _LOG_2 + jnp.log(scale))


def kl_divergence(
    loc_p: ArrayLike, scale_p: ArrayLike, loc_q: ArrayLike, scale_q: ArrayLike
) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Laplace}(\mu_p, b_p) \| \mathrm{Laplace}(\mu_q, b_q))`.

    With :math:`\delta = |\mu_p - \mu_q|` and :math:`r = b_p / b_q`:

    .. math::
       D = \log\frac{b_q}{b_p} + \frac{\delta}{b_q} + r e^{-\delta / b_p} - 1
         = (r - 1 - \log r) + r \left(e^{-\delta/b_p} - 1 + \delta/b_p\right)

    The second form, two non-negative ``expm1mx`` terms, is what is
    computed: accurate when ``p`` and ``q`` are close, exactly 0 at ``p == q``
    and smooth in :math:`\mu` at :math:`\delta = 0`.

    Args:
      loc_p: locations of ``p``.
      scale_p: scales of ``p`` (> 0).
      loc_q: locations of ``q``.
      scale_q: scales of ``q`` (> 0).

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import laplace
      >>> laplace.kl_divergence(0.0, 1.0, 1.0, 2.0).round(4)
      Array(0.3771, dtype=float32)

    References:
      Gil, Alajaji and Linder, `Rényi divergence measures for commonly used
      univariate continuous distributions
      <https://doi.org/10.1016/j.ins.2013.06.018>`_, 2013.
    """
    ok, lp, sp, lq, sq = _common.location_scale_pair(
        "laplace.kl_divergence", loc_p, scale_p, loc_q, scale_q
    )
    log_r = log_ratio(sp, sq)
    delta = jnp.abs(lp - lq)
    far, delta_n, sp_n = _far(delta, sp)
    # r (e^-u - 1 + u) with u = delta / b_p; far apart: (delta - b_p) / b_q
    near = jnp.exp(log_r) * expm1mx(-div(delta_n, sp_n))
    kl = expm1mx(log_r) + jnp.where(far, div(delta - sp, sq), near)
    return _common.nan_unless(ok, clamp_nonnegative(kl))


def cross_entropy(
    loc_p: ArrayLike, scale_p: ArrayLike, loc_q: ArrayLike, scale_q: ArrayLike
) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two Laplaces.

    .. math:: H(p, q) = \log(2 b_q) + \frac{\delta + b_p e^{-\delta / b_p}}{b_q},
       \qquad \delta = |\mu_p - \mu_q|

    (:math:`\mathbb{E}_p|x - \mu_q| = \delta + b_p e^{-\delta/b_p}`).

    Args:
      loc_p: locations of ``p``.
      scale_p: scales of ``p`` (> 0).
      loc_q: locations of ``q``.
      scale_q: scales of ``q`` (> 0).

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import laplace
      >>> laplace.cross_entropy(0.0, 1.0, 0.0, 1.0).round(4)  # = entropy
      Array(1.6931, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, lp, sp, lq, sq = _common.location_scale_pair(
        "laplace.cross_entropy", loc_p, scale_p, loc_q, scale_q
    )
    delta = jnp.abs(lp - lq)
    far, delta_n, sp_n = _far(delta, sp)
    mean_abs = jnp.where(far, delta, delta_n + sp_n * jnp.exp(-div(delta_n, sp_n)))
    ce = _LOG_2 + jnp.log(sq) + div(mean_abs, sq)
    return _common.nan_unless(ok, ce)


def log_prob(x: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> jax.Array:
    r"""Log-density of :math:`\mathrm{Laplace}(\mu, b)` at ``x``.

    .. math:: \log p(x) = -\frac{|x - \mu|}{b} - \log(2b)

    Args:
      x: points, broadcastable with the parameters (sample axes first).
      loc: locations.
      scale: scales (> 0).

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import laplace
      >>> laplace.log_prob(1.0, 0.0, 1.0).round(4)
      Array(-1.6931, dtype=float32)
    """
    name = "laplace.log_prob"
    loc, scale = _common.params(name, loc=loc, scale=scale)
    x = _common.values(name, "x", x, loc.dtype)
    x, loc, scale = _common.params(name, x=x, loc=loc, scale=scale)
    ok = _common.positive(name, scale=scale)
    (scale,) = _common.guard(ok, scale)
    lp = -div(jnp.abs(x - loc), scale) - _LOG_2 - jnp.log(scale)
    return _common.nan_unless(ok, lp)


def sample(
    key: ArrayLike, loc: ArrayLike, scale: ArrayLike, *, shape: int | Shape = ()
) -> jax.Array:
    r"""Draws :math:`x = \mu + b \varepsilon` with standard Laplace noise.

    Reparameterised: gradients flow to ``loc`` and ``scale``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      loc: locations.
      scale: scales (> 0).
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` samples; nan where the scale is invalid.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax
      >>> from jaxdiv import laplace
      >>> laplace.sample(jax.random.key(0), 0.0, 1.0, shape=(2,)).shape
      (2,)
    """
    name = "laplace.sample"
    loc, scale = _common.params(name, loc=loc, scale=scale)
    shape = _common.sample_shape(name, shape) + loc.shape
    ok = _common.positive(name, scale=scale)
    loc, scale, ok = (jnp.broadcast_to(a, shape) for a in (loc, scale, ok))
    eps = jax.random.laplace(key, shape, loc.dtype)
    return jnp.where(ok, loc + scale * eps, jnp.nan)
