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
import numpy as np

from .primitives import div, recip

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

# r(x) = sum_k B_2k / (2k (2k - 1) x^(2k - 1)), in powers of 1/x^2 after 1/x
_R = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)
# s(x) = log x - 1/(2x) - psi(x) = sum_k B_2k / (2k x^(2k)), after 1/x^2
_S = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760)
# lgamma(2 + x) = sum_k c_k x^k: c_1 = 1 - euler_gamma, c_k = (-1)^k (zeta(k) - 1) / k
_LGAMMA2P = (
    0.42278433509846713,
    0.3224670334241132,
    -0.0673523010531981,
    0.020580808427784546,
    -0.007385551028673986,
    0.0028905103307415234,
    -0.001192753911703261,
    0.0005096695247430425,
    -0.00022315475845357939,
    9.945751278180853e-05,
    -4.492623673813314e-05,
    2.050721277567069e-05,
    -9.439488275268397e-06,
    4.374866789907488e-06,
    -2.039215753801366e-06,
    9.55141213040742e-07,
    -4.492469198764566e-07,
    2.1207184805554665e-07,
    -1.0043224823968099e-07,
    4.7698101693639804e-08,
    -2.2711094608943164e-08,
    1.0838659214896955e-08,
    -5.183475041970047e-09,
    2.4836745438024785e-09,
    -1.1921401405860912e-09,
    5.731367241678862e-10,
    -2.7595228851242334e-10,
    1.330476437424449e-10,
)


# psi'(x) - 1/x - 1/(2x^2) = sum_k B_2k / x^(2k + 1), in powers of 1/x^2 after 1/x^3
_TRIGAMMA = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
# Gauss-Legendre on [0, 1] for integral_0^1 (1 - t) f(t) dt: nodes and weights
# w (1 - t); six nodes integrate f(a + t h) to float64 rounding for
# |h| <= min(a, b) / 4 (the pole of psi' at 0 lies 2 a / |h| + 1 >= 9
# half-widths from the centre: error ~ 17.9^-12 ~ 1e-15)
_GL_NODES, _GL_W = np.polynomial.legendre.leggauss(6)
_GL_NODES = (_GL_NODES + 1.0) / 2.0
_GL_W = _GL_W / 2.0 * (1.0 - _GL_NODES)


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
    r, s, *_ = _parts(x)
    return r, s


def _lgamma1p_series(x, dtype):
    """``lgamma(1 + x)`` for ``0 <= x <= 1/2``, to relative rounding.

    ``lgamma(2 + x) - log1p(x)``, the first by its Taylor series at 0 (radius
    2: the terms fall as ``4^-k`` at ``x = 1/2``), so the result, of size
    ``x``, has no rounding of the ``log 6`` that the recurrence subtracts.
    """
    coeffs = _LGAMMA2P[: 28 if jnp.finfo(dtype).bits > 32 else 14]
    return x * _poly(coeffs, x) - jnp.log1p(x)


def _parts(x):
    """``(r, s, rho, s_reg, digamma(1 + x))`` with ``rho = r + log(2 pi x) / 2``
    and ``s_reg = s - 1 / (2x)``, the last three free of singularities at 0.

    ``rho = lgamma(1 + x) - x log x + x`` and ``s_reg = log x - digamma(1 + x)``
    tend to 0 and to ``log x + euler_gamma`` as ``x -> 0``. Below the
    threshold the ``log x`` of the recurrence (its ``i = 0`` term) and the
    ``-(x - 1/2) log x`` of Stirling's lead are combined analytically, as are
    ``1/x`` and ``-1/(2x)``; below 1/2, ``lgamma(1 + x)`` is a series (of
    relative accuracy, without the recurrence's constants). The singular
    parts are then added back to give ``r`` and ``s``.
    """
    threshold = _threshold(x.dtype)
    n = jnp.maximum(jnp.ceil(threshold - x), 0.0)
    shifted = n > 0
    y = x + n
    prod = jnp.ones_like(x)  # prod_{0 < i < n} (x + i): one log, not n
    sum_inv = jnp.zeros_like(x)
    for i in range(1, math.ceil(threshold)):  # static: at most ceil(T) shifts
        use = i < n
        xi = jnp.where(use, x + i, 1.0)
        prod = prod * xi
        sum_inv = sum_inv + jnp.where(use, 1.0 / xi, 0.0)
    log_x, sum_log = jnp.log(x), jnp.log(prod)
    r_y, s_y = _r(y), _s(y)
    half_log_x, half_recip_x = 0.5 * log_x, 0.5 * recip(x)
    # shifted: lead(y) - lead(x) - log x = lead(y) - x log x + x - log(x) / 2
    series = x <= 0.5
    lgamma1p = jnp.where(
        series,
        _lgamma1p_series(jnp.where(series, x, 0.0), x.dtype),
        _stirling_lead(y) + _HALF_LOG_2PI + r_y - sum_log,
    )
    rho = jnp.where(shifted, lgamma1p - x * log_x + x, r_y + half_log_x + _HALF_LOG_2PI)
    s_reg = (log_x - jnp.log(y)) + 0.5 / y + s_y + sum_inv
    s_reg = jnp.where(shifted, s_reg, s_y - half_recip_x)
    # for a tiny x the derivative -1/(2x^2) of s is the only large one, so an
    # overflow gives -inf, never nan
    r = jnp.where(shifted, (rho - _HALF_LOG_2PI) - half_log_x, r_y)
    s = jnp.where(shifted, s_reg + half_recip_x, s_y)
    # digamma(1 + x) = digamma(y) - sum_{0 < i < n} 1 / (x + i)
    psi1p = jnp.where(
        shifted, jnp.log(y) - 0.5 / y - s_y - sum_inv, log_x + half_recip_x - s_y
    )
    return r, s, rho, s_reg, psi1p


def _scaled_trigamma_excess(x):
    """``x^2 (psi'(x) - 1/x)`` for ``x > 0``: bounded (1 at 0, 1/2 at inf),
    with no overflow at tiny ``x`` and no cancellation at large ``x``.

    At and above the threshold by the asymptotic series,
    ``1/2 + sum_k B_2k / x^(2k - 1)``; below it by the recurrence
    ``psi'(x) = 1/x^2 + sum_{0 < i < n} 1/(x + i)^2 + psi'(x + n)``, whose
    ``x^2 / x^2`` is the exact 1 (the rest loses at most a factor ``2T`` to
    the subtraction of ``x``).
    """
    threshold = _threshold(x.dtype)
    n = jnp.maximum(jnp.ceil(threshold - x), 0.0)
    shifted = n > 0
    y = x + n
    inv = recip(y)
    inv2 = inv * inv
    series = inv * _poly(_TRIGAMMA, inv2)  # y^2 (psi'(y) - 1/y - 1/(2 y^2))
    xs = jnp.where(shifted, x, 0.0)  # (x^2 of a large x overflows, unused)
    sum_sq = jnp.zeros_like(x)
    for i in range(1, math.ceil(threshold)):  # static: at most ceil(T) shifts
        use = i < n
        xi = jnp.where(use, xs + i, 1.0)
        sum_sq = sum_sq + jnp.where(use, 1.0 / (xi * xi), 0.0)
    psi1_y = inv + 0.5 * inv2 + series * inv2
    shifted_form = 1.0 - xs + (xs * xs) * (sum_sq + psi1_y)
    return jnp.where(shifted, shifted_form, 0.5 + series)


def _lgamma_bregman_rest_near(a, h, use):
    r""":math:`P(a, b)` for :math:`|b - a| \le \min(a, b) / 4`, by quadrature.

    :math:`P` is the Bregman divergence of a function whose second
    derivative is :math:`\psi'(x) - 1/x > 0`, so
    :math:`P = h^2 \int_0^1 (1 - t)\,(\psi'(a + th) - 1/(a + th))\,dt`
    with :math:`h = b - a` (exact there, by Sterbenz): a sum of positive
    terms, of relative precision when the Stirling form's terms of size
    :math:`h / a^2` cancel down to :math:`h^2 / a^2`.
    """
    h = jnp.where(use, h, 0.0)
    base = jnp.where(use, a, 1.0)
    shape = (-1,) + (1,) * a.ndim
    nodes = jnp.asarray(_GL_NODES, a.dtype).reshape(shape)
    weights = jnp.asarray(_GL_W, a.dtype).reshape(shape)
    h, base = h[None], base[None]
    x = base + nodes * h
    ratio = div(h, x)  # (h / x^2 underflows x^2 at tiny x)
    return jnp.sum(weights * (ratio * ratio) * _scaled_trigamma_excess(x), axis=0)


def lgamma_bregman_rest(
    a: jax.Array, b: jax.Array, e: jax.Array, h: jax.Array | None = None
) -> jax.Array:
    r"""Log-gamma's Bregman divergence less its leading term, for ``a, b > 0``.

    .. math::
       P(a, b) = \log\Gamma(b) - \log\Gamma(a) - \psi(a)(b - a)
         - b\,(e^{-t} - 1 + t), \qquad t = \log(b / a),

    given ``e`` :math:`= e^t - 1 - t` (``expm1mx(t)``) and optionally ``h``
    :math:`= b - a` (when ``b`` is a rounded sum, as the Dirichlet's total
    concentration, the sum of the exact differences is the more accurate
    one). The gamma and
    Dirichlet KLs are sums of these and of the scale terms
    :math:`b(e^{-t} - 1 + t)`. In Stirling's terms
    :math:`P = e / 2 + r(b) - r(a) + s(a)(b - a)`, whose terms are small for
    large arguments; when both ``a`` and ``b`` are below 1, the singular
    parts :math:`-\tfrac12\log x` of ``r`` and :math:`\tfrac{1}{2x}` of
    ``s`` (of size ``log x`` and ``1 / (2a)``, cancelling down to
    :math:`e/2`) are combined analytically instead:
    :math:`P = e + \rho(b) - \rho(a) + \tilde s(a)(b - a)` with
    :math:`\rho = r + \tfrac12\log(2\pi x) = \log\Gamma(1 + x) - x\log x + x`
    and :math:`\tilde s = s - \tfrac{1}{2x} = \log x - \psi(1 + x)`, both
    free of singularities at 0 (and :math:`\rho` computed to relative
    precision there). So the value keeps float32's relative precision down to
    ``a, b = 1e-38``, and no intermediate derivative (``1 / (2a)``'s is
    ``1 / a^2``) overflows where ``P``'s does not, in forward mode too.
    """
    a, b = jnp.broadcast_arrays(a, b)
    h = b - a if h is None else jnp.broadcast_to(h, a.shape)
    r, s, rho, s_reg, _ = _parts(jnp.stack([a, b]))
    small = (a < 1.0) & (b < 1.0)
    large_form = 0.5 * e + (r[1] - r[0]) + s[0] * (b - a)
    small_form = e + (rho[1] - rho[0]) + s_reg[0] * (b - a)
    # near pairs: r(b) - r(a) + s(a)(b - a) cancels terms of size h / a^2
    # down to h^2 / a^2 (1e-2 relative error at h / a = 1e-5 in float32)
    near = (jnp.abs(h) <= 0.25 * jnp.minimum(a, b)) & (h != 0)
    near_form = _lgamma_bregman_rest_near(a, h, near)
    # P and its gradient vanish at h = 0 (P is of second order in h):
    # exactly, not to the rounding of r(b) - r(a) (which XLA may compute in
    # two fusions, with different vectorised logs, under vmap)
    far = jnp.where(small, small_form, large_form)
    return jnp.where(h == 0, 0.0, jnp.where(near, near_form, far))


def entropy_core(x: jax.Array) -> jax.Array:
    r""":math:`\log\Gamma(x) - (x - 1)\psi(x) + x`, accurate for every ``x > 0``."""
    r, s = stirling_parts(x)
    return _HALF_LOG_2PI + 0.5 * jnp.log(x) + 0.5 - 0.5 * recip(x) + r + (x - 1.0) * s


def entropy_core_without_pole(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    r""":math:`(G(x) + 1/x,\ \psi(1 + x))`: :func:`entropy_core` and
    :math:`\psi` less their poles :math:`-1/x` at 0.

    Both have derivatives of at most :math:`1/x` where :math:`G`'s and
    :math:`\psi`'s are :math:`\pm 1/x^2`: a sum of such terms whose poles
    cancel in part (the Dirichlet entropy's :math:`\sum_j 1/\alpha_j -
    k/\alpha_0`) can take the poles' derivatives from one factored
    expression, and never meets ``inf - inf``. With
    :math:`\rho = \log\Gamma(1 + x) - x\log x + x` and
    :math:`\tilde s = \log x - \psi(1 + x)`,
    :math:`G(x) + 1/x = \rho + (x - 1)\tilde s + 1`.
    """
    _, _, rho, s_reg, psi1p = _parts(x)
    return rho + (x - 1.0) * s_reg + 1.0, psi1p
