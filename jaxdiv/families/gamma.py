r"""Gamma distribution :math:`\mathrm{Gamma}(\alpha, \beta)`: closed forms.

Parameters as in TFP / distrax: ``concentration`` :math:`\alpha > 0` and
``rate`` :math:`\beta > 0` (density
:math:`\beta^\alpha x^{\alpha - 1} e^{-\beta x} / \Gamma(\alpha)` on
:math:`x > 0`). Elementwise over broadcastable parameters; non-positive,
infinite or nan parameters give nan (an error under
:func:`jaxdiv.value_checks` with ``chex.chexify``). 16-bit inputs are
computed in float32.

Accuracy: the textbook formulas combine :math:`\log\Gamma(\alpha)` and
:math:`\psi(\alpha)` terms of size :math:`\alpha\log\alpha` into much
smaller results; here those combinations are evaluated with Stirling's
series where the large terms cancel analytically (``jaxdiv._core.special``), and
the rate terms with ``expm1mx``, so float32 stays accurate for
concentrations of any size.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln
from jax.typing import ArrayLike

from .._core.numerics import clamp_nonnegative, expm1mx
from .._core.primitives import div, log_ratio
from .._core.special import entropy_core, lgamma_bregman_rest
from .._core.types import Shape
from . import _common

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_prob", "sample"]


def _at_zero(c):
    """``lim c log x`` as ``x -> 0``: 0 at ``c = 0``, ``-inf`` above, ``+inf`` below."""
    inf = jnp.asarray(jnp.inf, c.dtype)  # c's dtype, also under x64
    return jnp.where(c == 0, jnp.zeros((), c.dtype), jnp.where(c > 0, -inf, inf))


def _xlogx_power(c, x):
    """``c log x`` for ``x >= 0``, with ``0 log 0 = 0`` and no nan gradient.

    ``xlogy``'s derivative through ``x`` is ``c / x``: ``0 / 0`` at the
    point ``x = 0`` of a density with exponent ``c = 0`` (concentration 1).
    At ``x = 0`` the value is the limit and the gradient 0.
    """
    zero = x == 0
    return jnp.where(zero, _at_zero(c), c * jnp.log(jnp.where(zero, 1.0, x)))


def _xlog1mx_power(c, x):
    """``c log(1 - x)`` for ``x <= 1`` (``log1p``), as :func:`_xlogx_power`."""
    one = x == 1
    return jnp.where(one, _at_zero(c), c * jnp.log1p(-jnp.where(one, 0.0, x)))


def _entropy(a, rate):
    # a - log(rate) + lgamma(a) + (1 - a) digamma(a), without cancellation
    return entropy_core(a) - jnp.log(rate)


def _kl(ap, bp, aq, bq):
    # The textbook form (ap - aq) psi(ap) - lgamma(ap) + lgamma(aq)
    # + aq log(bp / bq) + ap (bq - bp) / bp cancels terms of size a log a. With
    # lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + r(x) and
    # psi(x) = log x - 1/(2x) - s(x), they cancel analytically, leaving
    #   aq (e^u - 1 - u) + (e^w - 1 - w) / 2 + r(aq) - r(ap) - (ap - aq) s(ap)
    # with u = log(mean_p / mean_q) = log(ap / aq) + log(bq / bp), w = log(aq / ap);
    # all but the first term are lgamma_bregman_rest(ap, aq), which also keeps
    # the poles of r and s at 0 out of the sum (tiny concentrations).
    w = log_ratio(aq, ap)
    u = log_ratio(bq, bp) - w
    return aq * expm1mx(u) + lgamma_bregman_rest(ap, aq, expm1mx(w))


def entropy(concentration: ArrayLike, rate: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathrm{Gamma}(\alpha, \beta)`, in nats.

    .. math:: h = \alpha - \log\beta + \log\Gamma(\alpha)
       + (1 - \alpha)\,\psi(\alpha)

    Args:
      concentration: shape parameters :math:`\alpha > 0`.
      rate: rate parameters :math:`\beta > 0` (inverse scale).

    Returns:
      The broadcast shape of the parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import gamma
      >>> gamma.entropy(1.0, 2.0).round(4)  # Exponential(2)
      Array(0.3069, dtype=float32)

    References:
      Lazo and Rathie, `On the entropy of continuous probability
      distributions <https://doi.org/10.1109/TIT.1978.1055832>`_, 1978.
    """
    ok, (a, rate) = _common.positive_params(
        "gamma.entropy", concentration=concentration, rate=rate
    )
    return _common.nan_unless(ok, _entropy(a, rate))


def kl_divergence(
    concentration_p: ArrayLike,
    rate_p: ArrayLike,
    concentration_q: ArrayLike,
    rate_q: ArrayLike,
) -> jax.Array:
    r"""KL divergence between two gamma distributions, in math order.

    .. math::
       D = (\alpha_p - \alpha_q)\psi(\alpha_p) - \log\Gamma(\alpha_p)
         + \log\Gamma(\alpha_q) + \alpha_q \log\frac{\beta_p}{\beta_q}
         + \alpha_p \frac{\beta_q - \beta_p}{\beta_p}

    The rate terms are computed as
    :math:`(\alpha_p - \alpha_q) v + \alpha_p (e^v - 1 - v)` with
    :math:`v = \log(\beta_q / \beta_p)`, accurate when the rates are close;
    :math:`D(p \| p) = 0` exactly.

    Args:
      concentration_p: :math:`\alpha_p > 0`.
      rate_p: :math:`\beta_p > 0`.
      concentration_q: :math:`\alpha_q > 0`.
      rate_q: :math:`\beta_q > 0`.

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import gamma
      >>> gamma.kl_divergence(2.0, 1.0, 3.0, 2.0).round(4)
      Array(0.1909, dtype=float32)

    References:
      Penny, `KL-Divergences of Normal, Gamma, Dirichlet and Wishart
      densities <https://www.fil.ion.ucl.ac.uk/~wpenny/publications/densities.ps>`_,
      2001.
    """
    ok, (ap, bp, aq, bq) = _common.positive_params(
        "gamma.kl_divergence",
        concentration_p=concentration_p,
        rate_p=rate_p,
        concentration_q=concentration_q,
        rate_q=rate_q,
    )
    return _common.nan_unless(ok, clamp_nonnegative(_kl(ap, bp, aq, bq)))


def cross_entropy(
    concentration_p: ArrayLike,
    rate_p: ArrayLike,
    concentration_q: ArrayLike,
    rate_q: ArrayLike,
) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two gammas.

    .. math::
       H(p, q) = \log\Gamma(\alpha_q) - \alpha_q \log\beta_q
         - (\alpha_q - 1)\big(\psi(\alpha_p) - \log\beta_p\big)
         + \beta_q \frac{\alpha_p}{\beta_p}

    Args:
      concentration_p: :math:`\alpha_p > 0`.
      rate_p: :math:`\beta_p > 0`.
      concentration_q: :math:`\alpha_q > 0`.
      rate_q: :math:`\beta_q > 0`.

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import gamma
      >>> gamma.cross_entropy(1.0, 1.0, 1.0, 1.0)  # = entropy of Exponential(1)
      Array(1., dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (ap, bp, aq, bq) = _common.positive_params(
        "gamma.cross_entropy",
        concentration_p=concentration_p,
        rate_p=rate_p,
        concentration_q=concentration_q,
        rate_q=rate_q,
    )
    return _common.nan_unless(ok, _entropy(ap, bp) + _kl(ap, bp, aq, bq))


def log_prob(x: ArrayLike, concentration: ArrayLike, rate: ArrayLike) -> jax.Array:
    r"""Log-density of :math:`\mathrm{Gamma}(\alpha, \beta)` at ``x``.

    .. math:: \log p(x) = \alpha\log\beta + (\alpha - 1)\log x - \beta x
       - \log\Gamma(\alpha)

    ``-inf`` for ``x < 0``; at ``x = 0`` the limit (``+inf`` for
    :math:`\alpha < 1`, :math:`\log\beta` for :math:`\alpha = 1`, ``-inf``
    above).

    Args:
      x: points, broadcastable with the parameters (sample axes first).
      concentration: :math:`\alpha > 0`.
      rate: :math:`\beta > 0`.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import gamma
      >>> gamma.log_prob(1.0, 1.0, 2.0).round(4)
      Array(-1.3069, dtype=float32)
    """
    name = "gamma.log_prob"
    a, rate = _common.params(name, concentration=concentration, rate=rate)
    x = _common.values(name, "x", x, a.dtype)
    x, a, rate = _common.params(name, x=x, concentration=a, rate=rate)
    ok = _common.positive(name, concentration=a, rate=rate)
    a, rate = _common.guard(ok, a, rate)
    inside = x >= 0
    xs = jnp.where(inside, x, 1.0)
    lp = _xlogx_power(a - 1.0, xs) - rate * xs
    lp = jnp.where(inside, lp + a * jnp.log(rate) - gammaln(a), -jnp.inf)
    return _common.nan_unless(ok & ~jnp.isnan(x), lp)


def sample(
    key: ArrayLike,
    concentration: ArrayLike,
    rate: ArrayLike,
    *,
    shape: int | Shape = (),
) -> jax.Array:
    r"""Draws from :math:`\mathrm{Gamma}(\alpha, \beta)`.

    Reparameterised (implicit reparameterisation of ``jax.random.gamma``):
    gradients flow to both parameters.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      concentration: :math:`\alpha > 0`.
      rate: :math:`\beta > 0`.
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` samples; nan where a parameter is invalid.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax
      >>> from jaxdiv import gamma
      >>> gamma.sample(jax.random.key(0), 2.0, 1.0, shape=(3,)).shape
      (3,)
    """
    name = "gamma.sample"
    ok, (a, rate) = _common.positive_params(
        name, concentration=concentration, rate=rate
    )
    shape = _common.sample_shape(name, shape) + a.shape
    a, rate, ok = (jnp.broadcast_to(v, shape) for v in (a, rate, ok))
    x = div(jax.random.gamma(key, a, shape, a.dtype), rate)
    return jnp.where(ok, x, jnp.nan)
