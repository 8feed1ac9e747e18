r"""Beta distribution :math:`\mathrm{Beta}(\alpha, \beta)`: closed forms.

Parameters as in TFP / distrax: ``concentration1`` :math:`\alpha > 0` (the
exponent of :math:`x`) and ``concentration0`` :math:`\beta > 0` (the
exponent of :math:`1 - x`). The Beta distribution is the two-category
Dirichlet :math:`\mathrm{Dir}(\alpha, \beta)`, so every measure here stacks
the pair and calls the formula of :mod:`jaxdiv.dirichlet` (not re-derived).
Elementwise over broadcastable parameters; non-positive, infinite or nan
parameters give nan (an error under :func:`jaxdiv.value_checks` with
``chex.chexify``). 16-bit inputs are computed in float32. The accuracy note
of :mod:`jaxdiv.dirichlet` applies to very large concentrations.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.numerics import clamp_nonnegative
from .._core.types import Shape
from . import _common, dirichlet, gamma

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_prob", "sample"]


def _stacked(name, **arrays):
    """Checks the parameters; returns (ok, [..., 2] stacks of each (c1, c0) pair)."""
    xs = _common.params(name, **arrays)
    ok = _common.positive(name, **dict(zip(arrays, xs, strict=True)))
    xs = _common.guard(ok, *xs)
    return ok, [jnp.stack(xs[i : i + 2], axis=-1) for i in range(0, len(xs), 2)]


def entropy(concentration1: ArrayLike, concentration0: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathrm{Beta}(\alpha, \beta)`, in nats.

    .. math:: h = \log B(\alpha, \beta) - (\alpha - 1)\psi(\alpha)
       - (\beta - 1)\psi(\beta) + (\alpha + \beta - 2)\psi(\alpha + \beta)

    Args:
      concentration1: :math:`\alpha > 0`.
      concentration0: :math:`\beta > 0`, broadcastable with ``concentration1``.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import beta
      >>> beta.entropy(2.0, 3.0).round(4)
      Array(-0.2349, dtype=float32)

    References:
      Lazo and Rathie, `On the entropy of continuous probability
      distributions <https://doi.org/10.1109/TIT.1978.1055832>`_, 1978.
    """
    ok, (a,) = _stacked(
        "beta.entropy", concentration1=concentration1, concentration0=concentration0
    )
    return _common.nan_unless(ok, dirichlet._entropy(a))


def kl_divergence(
    concentration1_p: ArrayLike,
    concentration0_p: ArrayLike,
    concentration1_q: ArrayLike,
    concentration0_q: ArrayLike,
) -> jax.Array:
    r"""KL divergence between two beta distributions, in math order.

    .. math:: D = \log\frac{B(\alpha_q, \beta_q)}{B(\alpha_p, \beta_p)}
       + (\alpha_p - \alpha_q)\psi(\alpha_p) + (\beta_p - \beta_q)\psi(\beta_p)
       + (\alpha_q - \alpha_p + \beta_q - \beta_p)\psi(\alpha_p + \beta_p)

    Args:
      concentration1_p: :math:`\alpha_p > 0`.
      concentration0_p: :math:`\beta_p > 0`.
      concentration1_q: :math:`\alpha_q > 0`.
      concentration0_q: :math:`\beta_q > 0`.

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import beta
      >>> beta.kl_divergence(2.0, 3.0, 1.0, 1.0).round(4)  # = -entropy
      Array(0.2349, dtype=float32)

    References:
      Penny, `KL-Divergences of Normal, Gamma, Dirichlet and Wishart
      densities <https://www.fil.ion.ucl.ac.uk/~wpenny/publications/densities.ps>`_,
      2001.
    """
    ok, (a, b) = _stacked(
        "beta.kl_divergence",
        concentration1_p=concentration1_p,
        concentration0_p=concentration0_p,
        concentration1_q=concentration1_q,
        concentration0_q=concentration0_q,
    )
    return _common.nan_unless(ok, clamp_nonnegative(dirichlet._kl(a, b)))


def cross_entropy(
    concentration1_p: ArrayLike,
    concentration0_p: ArrayLike,
    concentration1_q: ArrayLike,
    concentration0_q: ArrayLike,
) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two betas.

    .. math:: H(p, q) = \log B(\alpha_q, \beta_q)
       - (\alpha_q - 1)\big(\psi(\alpha_p) - \psi(\alpha_p + \beta_p)\big)
       - (\beta_q - 1)\big(\psi(\beta_p) - \psi(\alpha_p + \beta_p)\big)

    Args:
      concentration1_p: :math:`\alpha_p > 0`.
      concentration0_p: :math:`\beta_p > 0`.
      concentration1_q: :math:`\alpha_q > 0`.
      concentration0_q: :math:`\beta_q > 0`.

    Returns:
      The broadcast shape of the four parameters.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import beta
      >>> beta.cross_entropy(2.0, 3.0, 2.0, 3.0).round(4)  # = entropy
      Array(-0.2349, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (a, b) = _stacked(
        "beta.cross_entropy",
        concentration1_p=concentration1_p,
        concentration0_p=concentration0_p,
        concentration1_q=concentration1_q,
        concentration0_q=concentration0_q,
    )
    return _common.nan_unless(ok, dirichlet._ce(a, b))


def log_prob(
    x: ArrayLike, concentration1: ArrayLike, concentration0: ArrayLike
) -> jax.Array:
    r"""Log-density of :math:`\mathrm{Beta}(\alpha, \beta)` at ``x``.

    .. math:: \log p(x) = (\alpha - 1)\log x + (\beta - 1)\log(1 - x)
       - \log B(\alpha, \beta)

    ``-inf`` outside ``[0, 1]``.

    Args:
      x: points, broadcastable with the parameters (sample axes first).
      concentration1: :math:`\alpha > 0`.
      concentration0: :math:`\beta > 0`.

    Returns:
      The broadcast shape.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> from jaxdiv import beta
      >>> beta.log_prob(0.5, 2.0, 2.0).round(4)
      Array(0.4055, dtype=float32)
    """
    name = "beta.log_prob"
    c1, c0 = _common.params(
        name, concentration1=concentration1, concentration0=concentration0
    )
    x = _common.values(name, "x", x, c1.dtype)
    x, c1, c0 = _common.params(name, x=x, concentration1=c1, concentration0=c0)
    ok = _common.positive(name, concentration1=c1, concentration0=c0)
    c1, c0 = _common.guard(ok, c1, c0)
    inside = (x >= 0) & (x <= 1)
    xs = jnp.where(inside, x, 0.5)
    lp = gamma._xlogx_power(c1 - 1.0, xs) + gamma._xlog1mx_power(c0 - 1.0, xs)
    lp = lp - dirichlet._lbeta(jnp.stack([c1, c0], axis=-1))
    lp = jnp.where(inside, lp, -jnp.inf)
    return _common.nan_unless(ok & ~jnp.isnan(x), lp)


def sample(
    key: ArrayLike,
    concentration1: ArrayLike,
    concentration0: ArrayLike,
    *,
    shape: int | Shape = (),
) -> jax.Array:
    r"""Draws from :math:`\mathrm{Beta}(\alpha, \beta)`.

    Reparameterised (implicit reparameterisation of ``jax.random.beta``).

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      concentration1: :math:`\alpha > 0`.
      concentration0: :math:`\beta > 0`.
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch]`` samples in ``[0, 1]``; nan where a parameter is
      invalid.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: the shapes do not broadcast.

    Examples:
      >>> import jax
      >>> from jaxdiv import beta
      >>> beta.sample(jax.random.key(0), 2.0, 3.0, shape=(4,)).shape
      (4,)
    """
    name = "beta.sample"
    c1, c0 = _common.params(
        name, concentration1=concentration1, concentration0=concentration0
    )
    ok = _common.positive(name, concentration1=c1, concentration0=c0)
    c1, c0 = _common.guard(ok, c1, c0)
    shape = _common.sample_shape(name, shape) + c1.shape
    c1, c0, ok = (jnp.broadcast_to(v, shape) for v in (c1, c0, ok))
    x = jax.random.beta(key, c1, c0, shape, c1.dtype)
    return jnp.where(ok, x, jnp.nan)
