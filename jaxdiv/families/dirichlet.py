r"""Dirichlet distribution :math:`\mathrm{Dir}(\alpha)`: closed forms.

Parameter as in TFP / distrax: ``concentration`` :math:`\alpha` with shape
``[..., k]``, every entry > 0; the event axis (the ``k`` categories) is last
and the batch axes before it broadcast with NumPy's rules. A row with a
non-positive, infinite or nan entry gives nan (an error under
:func:`jaxdiv.value_checks` with ``chex.chexify``). 16-bit inputs are
computed in float32. :mod:`jaxdiv.beta` is the case ``k = 2`` and reuses
these formulas.

Accuracy: the textbook formulas combine :math:`\log\Gamma` and
:math:`\psi` terms of size :math:`\alpha_0\log\alpha_0`
(:math:`\alpha_0 = \sum_j \alpha_j`) into much smaller results; here they
are rewritten in terms of :math:`\log\Gamma(x) - (x - 1)\psi(x) + x` and
of the Bregman divergence of :math:`\log\Gamma`, evaluated with Stirling's
series where the large terms cancel analytically (``jaxdiv._core.special``), so
float32 stays accurate for concentrations of any size.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln
from jax.typing import ArrayLike

from .._core import checks
from .._core.numerics import clamp_nonnegative, expm1mx
from .._core.primitives import div, log_ratio
from .._core.special import (
    entropy_core,
    entropy_core_without_pole,
    lgamma_bregman_rest,
)
from .._core.types import Shape
from . import _common, gamma

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_prob", "sample"]

# --------------------------------------------------------------------------
# the formulas on valid concentrations [..., k]; beta.py reuses them


def _sum(a, keepdims=False):
    return jnp.sum(a, axis=-1, keepdims=keepdims)


def _lbeta(a):
    return _sum(gammaln(a)) - gammaln(_sum(a))


@jax.custom_jvp
def _pole_excess(a):
    """``sum_j 1/a_j - k/a0 >= 0``: the poles at 0 of the entropy's terms.

    Its derivative ``-1/a_j^2 + k/a0^2`` is a difference of two terms that
    overflow float32 together (below ~1e-19): the rule computes it factored,
    ``-m (1/(m a_j)) (1/a_j - k a_j/a0^2)`` with ``m = max_j 1/a_j``, so an
    overflow gives the true derivative's signed inf, never ``inf - inf``, in
    forward and reverse mode.
    """
    a0 = _sum(a, keepdims=True)
    return _sum(((a0 - a) / a) / a0)  # sum_j (1/a_j - 1/a0): no cancellation


@_pole_excess.defjvp
def _pole_excess_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    k = a.shape[-1]
    a0 = _sum(a, keepdims=True)
    inv = 1.0 / a
    m = jnp.max(inv, axis=-1, keepdims=True)
    w = (inv / m) * (inv - k * ((a / a0) / a0))  # finite: inv / m <= 1
    return _pole_excess(a), -m[..., 0] * _sum(w * da)


def _entropy(a):
    # log B(a) + (a0 - k) psi(a0) - sum_j (a_j - 1) psi(a_j)
    #   = sum_j G(a_j) - G(a0) - (k - 1) psi(a0),  G(x) = lgamma(x) - (x-1) psi(x) + x
    # For a0 < 1 (so every a_j < 1), G and psi are split into parts without
    # poles and the poles -1/x, which add up to -_pole_excess(a): their
    # derivatives, 1/a_j^2 and -k/a0^2, would otherwise meet as inf - inf
    # (a nan gradient) where both overflow. The other rows see a = 1 there
    # (the "double where").
    k = a.shape[-1]
    small = _sum(a) < 1.0
    a_large = jnp.where(small[..., None], 1.0, a)
    a0 = _sum(a_large)
    large = _sum(entropy_core(a_large)) - entropy_core(a0) - (k - 1) * digamma(a0)
    g, psi1p = entropy_core_without_pole(jnp.concatenate([a, _sum(a, True)], -1))
    without_pole = _sum(g[..., :k]) - g[..., k] - (k - 1) * psi1p[..., k]
    return jnp.where(small, without_pole - _pole_excess(a), large)


def _kl(a, b):
    # The textbook form log B(b) - log B(a) + sum_j (a_j - b_j)(psi(a_j) - psi(a0))
    # cancels terms of size a0 log a0. With lgamma and psi split into
    # Stirling's leading terms and remainders r, s (see _special), the large
    # terms cancel analytically into b0 KL(b / b0 || a / a0), a categorical KL
    # between the means, computed as a sum of non-negative terms
    # pi_b (e^-d - 1 + d), d = log(pi_b / pi_a); what is left is small:
    #   (sum_j expm1mx(t_j) - expm1mx(t0)) / 2 + sum_j (r(b_j) - r(a_j))
    #   - (r(b0) - r(a0)) + sum_j s(a_j)(b_j - a_j) - s(a0)(b0 - a0)
    # with t_j = log(b_j / a_j), t0 = log(b0 / a0): per pair (a_j, b_j) and for
    # (a0, b0), lgamma_bregman_rest, which also keeps the poles of r and s at 0
    # out of the sum (tiny concentrations).
    # Each special function is called once, on the concatenation of its
    # arguments: XLA inlines (and duplicates into fusions) every call site,
    # so this keeps compile times down, gradients most of all.
    # Near pairs: b0 - a0 from the rounded sums is off by eps a0, which is
    # all of it when the pairs differ by 1e-6; the sum of the (exact, by
    # Sterbenz) differences h0 = sum_j (b_j - a_j) is not, and gives t0.
    k = a.shape[-1]
    a0, b0 = _sum(a, keepdims=True), _sum(b, keepdims=True)
    h = b - a
    h0 = _sum(h, keepdims=True)
    a_all, b_all = jnp.concatenate([a, a0], -1), jnp.concatenate([b, b0], -1)
    h_all = jnp.concatenate([h, h0], -1)
    t_all = log_ratio(b_all, a_all)  # [t, t0]
    close0 = jnp.abs(h0) <= 0.5 * jnp.minimum(a0, b0)
    t0 = jnp.where(
        close0, jnp.log1p(div(jnp.where(close0, h0, 0.0), a0)), t_all[..., k:]
    )
    t_all = jnp.concatenate([t_all[..., :k], t0], -1)
    t = t_all[..., :k]
    e = expm1mx(jnp.concatenate([t0 - t, t_all], axis=-1))  # [e^-d.., e^t.., e^t0]
    rest = lgamma_bregman_rest(a_all, b_all, e[..., k:], h_all)
    return (
        _sum(b * e[..., :k])  # = b0 KL(pi_b || pi_a), d = t - t0
        + (_sum(rest[..., :k]) - rest[..., k])
    )


def _ce(a, b):
    return _entropy(a) + _kl(a, b)


def _params(name, **arrays):
    first = next(iter(arrays))
    x0 = checks.floating(name, first, arrays[first])
    if x0.ndim < 1:
        raise ValueError(
            f"jaxdiv.{name}: {first} must have an event axis [..., k], got a scalar."
        )
    k = x0.shape[-1]
    for argname, v in arrays.items():
        checks.event_shape(
            name, argname, jnp.asarray(v), (k,), f"{first}'s event size {k}"
        )
    xs = _common.params(name, dict.fromkeys(arrays, 1), **arrays)
    ok = jnp.all(_common.positive(name, **dict(zip(arrays, xs, strict=True))), -1)
    return ok, _common.guard(ok, *xs)


# --------------------------------------------------------------------------
# public


def entropy(concentration: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathrm{Dir}(\alpha)` on the simplex.

    .. math:: h = \log B(\alpha) + (\alpha_0 - k)\,\psi(\alpha_0)
       - \sum_j (\alpha_j - 1)\,\psi(\alpha_j), \qquad
       B(\alpha) = \frac{\prod_j \Gamma(\alpha_j)}{\Gamma(\alpha_0)}

    (with respect to the Lebesgue measure on the first ``k - 1``
    coordinates, as TFP). 0 for the uniform :math:`\mathrm{Dir}(1, 1)`.

    Args:
      concentration: :math:`\alpha`, ``[..., k]``, entries > 0.

    Returns:
      The batch shape ``[...]``.

    Raises:
      TypeError: ``concentration`` is not floating point.
      ValueError: ``concentration`` is a scalar.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import dirichlet
      >>> dirichlet.entropy(jnp.array([[2.0, 3.0], [0.5, 0.5]])).tolist()
      [-0.2349, -0.2416]

    References:
      Kotz, Balakrishnan and Johnson, `Continuous Multivariate Distributions,
      Vol. 1 <https://doi.org/10.1002/0471722065>`_, 2000 (Ch. 49).
    """
    ok, (a,) = _params("dirichlet.entropy", concentration=concentration)
    return _common.nan_unless(ok, _entropy(a))


def kl_divergence(concentration_p: ArrayLike, concentration_q: ArrayLike) -> jax.Array:
    r""":math:`D_{KL}(\mathrm{Dir}(\alpha) \| \mathrm{Dir}(\beta))`.

    .. math:: D = \log\frac{B(\beta)}{B(\alpha)}
       + \sum_j (\alpha_j - \beta_j)\big(\psi(\alpha_j) - \psi(\alpha_0)\big)

    Args:
      concentration_p: :math:`\alpha`, ``[..., k]``, entries > 0.
      concentration_q: :math:`\beta`, ``[..., k]``, entries > 0; batch axes
        broadcastable with ``concentration_p``'s.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes differ, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import dirichlet
      >>> a, b = jnp.array([1.0, 2.0, 3.0]), jnp.array([2.0, 2.0, 2.0])
      >>> round(float(dirichlet.kl_divergence(a, b)), 4)
      0.8069

    References:
      Penny, `KL-Divergences of Normal, Gamma, Dirichlet and Wishart
      densities <https://www.fil.ion.ucl.ac.uk/~wpenny/publications/densities.ps>`_,
      2001.
    """
    ok, (a, b) = _params(
        "dirichlet.kl_divergence",
        concentration_p=concentration_p,
        concentration_q=concentration_q,
    )
    return _common.nan_unless(ok, clamp_nonnegative(_kl(a, b)))


def cross_entropy(concentration_p: ArrayLike, concentration_q: ArrayLike) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two Dirichlets.

    .. math:: H(\mathrm{Dir}(\alpha), \mathrm{Dir}(\beta)) = \log B(\beta)
       - \sum_j (\beta_j - 1)\big(\psi(\alpha_j) - \psi(\alpha_0)\big)

    Args:
      concentration_p: :math:`\alpha`, ``[..., k]``, entries > 0.
      concentration_q: :math:`\beta`, ``[..., k]``, entries > 0.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes differ, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import dirichlet
      >>> dirichlet.cross_entropy(jnp.array([2.0, 3.0]), jnp.ones(2))
      Array(0., dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (a, b) = _params(
        "dirichlet.cross_entropy",
        concentration_p=concentration_p,
        concentration_q=concentration_q,
    )
    return _common.nan_unless(ok, _ce(a, b))


def log_prob(x: ArrayLike, concentration: ArrayLike) -> jax.Array:
    r"""Log-density of :math:`\mathrm{Dir}(\alpha)` at the point ``x`` of the simplex.

    .. math:: \log p(x) = \sum_j (\alpha_j - 1) \log x_j - \log B(\alpha)

    ``-inf`` if an entry of ``x`` is negative; that ``x`` sums to 1 is not
    checked.

    Args:
      x: points, ``[..., k]``, batch axes broadcastable with the parameter's
        (sample axes first).
      concentration: :math:`\alpha`, ``[..., k]``, entries > 0.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes differ, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import dirichlet
      >>> dirichlet.log_prob(jnp.array([0.5, 0.5]), jnp.array([2.0, 2.0])).round(4)
      Array(0.4055, dtype=float32)
    """
    name = "dirichlet.log_prob"
    ok, (a,) = _params(name, concentration=concentration)
    x = _common.values(name, "x", x, a.dtype)
    checks.event_shape(name, "x", x, a.shape[-1:], "concentration's event size")
    x, a = _common.params(name, {"x": 1, "concentration": 1}, x=x, concentration=a)
    ok = jnp.broadcast_to(ok, a.shape[:-1])
    inside = jnp.all(x >= 0, axis=-1)
    lp = _sum(gamma._xlogx_power(a - 1.0, jnp.where(x >= 0, x, 1.0))) - _lbeta(a)
    lp = jnp.where(inside, lp, -jnp.inf)
    return _common.nan_unless(ok & ~jnp.any(jnp.isnan(x), -1), lp)


def sample(
    key: ArrayLike, concentration: ArrayLike, *, shape: int | Shape = ()
) -> jax.Array:
    r"""Draws points of the simplex from :math:`\mathrm{Dir}(\alpha)`.

    Reparameterised (implicit reparameterisation of ``jax.random.dirichlet``).

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      concentration: :math:`\alpha`, ``[..., k]``, entries > 0.
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch, k]`` samples; nan in rows with an invalid parameter.

    Raises:
      TypeError: ``concentration`` is not floating point.
      ValueError: ``concentration`` is a scalar.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jaxdiv import dirichlet
      >>> dirichlet.sample(jax.random.key(0), jnp.ones(3), shape=2).shape
      (2, 3)
    """
    name = "dirichlet.sample"
    ok, (a,) = _params(name, concentration=concentration)
    shape = _common.sample_shape(name, shape) + a.shape[:-1]
    x = jax.random.dirichlet(key, a, shape, a.dtype)
    return jnp.where(jnp.broadcast_to(ok, shape)[..., None], x, jnp.nan)
