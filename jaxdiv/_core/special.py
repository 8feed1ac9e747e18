r"""Log-gamma combinations without cancellation, for the gamma-type families.

The entropies and divergences of the gamma, beta and Dirichlet families
combine :math:`\log\Gamma(x)` and :math:`(x - 1)\psi(x)`, each of size
:math:`x \log x`, into results of size :math:`\log x` or smaller. Evaluated
term by term, a float32 result loses :math:`\epsilon\, x \log x` in absolute
terms: 1e-2 relative error at :math:`x \approx 10^3`. Here the two
combinations they need are written with Stirling's series, where the large
terms cancel analytically:

* :func:`entropy_core` :math:`G(x) = \log\Gamma(x) - (x - 1)\psi(x) + x`
  (the gamma entropy is :math:`G(\alpha) - \log\beta`);
* :func:`stirling_parts` :math:`(r(x), s(x))`, the remainders of
  Stirling's series for :math:`\log\Gamma` and :math:`\psi`, in terms of
  which the gamma and Dirichlet KLs are rewritten (in their modules) so that
  the :math:`x\log x` terms cancel analytically.

With :math:`\log\Gamma(x) = (x - \tfrac12)\log x - x + \tfrac12\log 2\pi
+ r(x)` and :math:`\psi(x) = \log x - \tfrac{1}{2x} - s(x)`, where
:math:`r` and :math:`s` are the (convergent to rounding for
:math:`x \ge 10` in float64, 4 in float32) asymptotic series below,

.. math::
   G(x) = \tfrac12 \log(2\pi x) + \tfrac12 - \tfrac{1}{2x} + r(x) + (x - 1) s(x),

where every term is small. Below the
threshold the direct formula is used (it has no large terms there).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .primitives import recip

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

# r(x) = sum_k B_2k / (2k (2k - 1) x^(2k - 1)), in powers of 1/x^2 after 1/x
_R = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)
# s(x) = log x - 1/(2x) - psi(x) = sum_k B_2k / (2k x^(2k)), after 1/x^2
_S = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760)


def _threshold(dtype) -> float:
    # the first omitted terms (~x^-13) are below rounding from x = 10 (float64)
    # and x = 4 (float32); below it the direct forms have only small terms
    return 10.0 if jnp.finfo(dtype).bits > 32 else 4.0


def _poly(coeffs, z):
    out = jnp.zeros_like(z)
    for c in reversed(coeffs):
        out = out * z + c
    return out


def _r(x):
    """Stirling remainder of log-gamma, for x above the threshold."""
    inv = 1.0 / x
    return inv * _poly(_R, inv * inv)


def _s(x):
    """``log x - 1/(2x) - digamma(x)``, for x above the threshold."""
    inv2 = 1.0 / (x * x)
    return inv2 * _poly(_S, inv2)


def _stirling_lead(x):
    """``(x - 1/2) log x - x``, the leading terms of log-gamma (constant apart)."""
    return (x - 0.5) * jnp.log(x) - x


def stirling_parts(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""``(r(x), s(x))``: the remainders of Stirling's series, for every ``x > 0``.

    :math:`r(x) = \log\Gamma(x) - (x - \tfrac12)\log x + x - \tfrac12\log 2\pi`
    and :math:`s(x) = \log x - \tfrac{1}{2x} - \psi(x)`: by the series at
    and above the threshold ``T``; below it, by the series at
    ``y = x + n >= T`` and the recurrences
    :math:`\log\Gamma(x) = \log\Gamma(y) - \sum_{i < n} \log(x + i)`,
    :math:`\psi(x) = \psi(y) - \sum_{i < n} 1 / (x + i)`. Only logs,
    reciprocals and polynomials: no ``lgamma``/``digamma``, whose XLA
    expansions (and their derivatives') make compilation slow, and whose
    large terms the recurrences avoid.
    """
    threshold = _threshold(x.dtype)
    n = jnp.maximum(jnp.ceil(threshold - x), 0.0)
    shifted = n > 0
    y = x + n
    prod = jnp.ones_like(x)  # prod_{i < n} (x + i): one log, not n
    sum_inv = jnp.zeros_like(x)
    for i in range(math.ceil(threshold)):  # static: at most ceil(T) shifts
        use = i < n
        xi = jnp.where(use, x + i, 1.0)
        prod = prod * xi
        if i > 0:  # the i = 0 term 1/x joins -1/(2x) below
            sum_inv = sum_inv + jnp.where(use, 1.0 / xi, 0.0)
    sum_log = jnp.log(prod)
    r_y, s_y = _r(y), _s(y)
    r = _stirling_lead(y) - _stirling_lead(x) + r_y - sum_log
    # -(1/x - 1/y)/2 + 1/x as one term +1/(2x): for a tiny x its derivative
    # -1/(2x^2) is the only large one, so an overflow gives -inf, never nan
    s = (jnp.log(x) - jnp.log(y)) + 0.5 * (recip(x) + 1.0 / y) + s_y + sum_inv
    return jnp.where(shifted, r, r_y), jnp.where(shifted, s, s_y)


def entropy_core(x: jax.Array) -> jax.Array:
    r""":math:`\log\Gamma(x) - (x - 1)\psi(x) + x`, accurate for every ``x > 0``."""
    r, s = stirling_parts(x)
    return _HALF_LOG_2PI + 0.5 * jnp.log(x) + 0.5 - 0.5 * recip(x) + r + (x - 1.0) * s
