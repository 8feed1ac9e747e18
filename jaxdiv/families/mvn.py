r"""Multivariate normal :math:`\mathcal{N}(\mu, L L^\top)`: closed forms.

Parameters as in TFP's ``MultivariateNormalTriL`` / distrax:
``loc`` :math:`\mu` with shape ``[..., d]`` and ``scale_tril`` :math:`L`
with shape ``[..., d, d]``, a lower-triangular Cholesky factor of the
covariance (its strictly upper triangle is ignored; its diagonal must be
non-zero, its sign does not matter). The event axis is last; the batch axes
(everything before it) broadcast with NumPy's rules. The ``*_diag``
functions take ``loc, scale_diag`` (both ``[..., d]``, ``scale_diag > 0``),
the parameters of ``MultivariateNormalDiag``: a product of independent
normals.

No matrix is ever inverted: log-determinants come from the diagonal of
:math:`L`, and :math:`L_q^{-1}` is only applied through triangular solves.
A singular ``scale_tril`` (a zero or non-finite diagonal entry) gives nan;
inside :func:`jaxdiv.value_checks`, ``chex.chexify`` turns it into an error.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular
from jax.typing import ArrayLike

from .._core import checks, value_checks
from .._core.numerics import clamp_nonnegative, expm1mx
from .._core.primitives import log_ratio
from .._core.types import Shape
from . import _common, normal

__all__ = [
    "cross_entropy",
    "cross_entropy_diag",
    "entropy",
    "entropy_diag",
    "kl_divergence",
    "kl_divergence_diag",
    "log_prob",
    "sample",
]

_LOG_2PI = math.log(2.0 * math.pi)

# --------------------------------------------------------------------------
# parameters


def _tril_params(name, x=None, **pairs):
    """Checks ``loc_*`` ``[..., d]`` / ``scale_tril_*`` ``[..., d, d]`` pairs.

    ``pairs`` alternates ``loc_*=..., scale_tril_*=...``; ``x`` (points of a
    log-density) joins the broadcasting as a ``[..., d]`` array.
    Returns (ok, arrays) with the scale factors lower-triangular and guarded.
    """
    arrays = dict(pairs)
    first = next(iter(arrays))
    dtype = checks.floatings(name, **arrays)[0].dtype
    loc0 = checks.floating(name, first, arrays[first])
    if loc0.ndim < 1:
        raise ValueError(
            f"jaxdiv.{name}: {first} must have an event axis [..., d], got a scalar."
        )
    d = loc0.shape[-1]
    ndims = {}
    for k, v in arrays.items():
        tril = k.startswith("scale_tril")
        checks.event_shape(
            name,
            k,
            jnp.asarray(v),
            (d, d) if tril else (d,),
            f"{first}'s event size {d}",
        )
        ndims[k] = 2 if tril else 1
    if x is not None:
        arrays = {"x": _common.values(name, "x", x, dtype), **arrays}
        checks.event_shape(name, "x", arrays["x"], (d,), f"{first}'s event size {d}")
        ndims["x"] = 1
    xs = dict(zip(arrays, _common.params(name, ndims, **arrays), strict=True))
    ok = None
    for k, v in xs.items():
        if k.startswith("scale_tril"):
            diag = jnp.diagonal(v, axis1=-2, axis2=-1)
            good = (diag != 0) & jnp.isfinite(diag)
            value_checks.check(
                name, good, f"{k} must have a finite, non-zero diagonal."
            )
            good = jnp.all(good, axis=-1)
            ok = good if ok is None else ok & good
        else:
            _common.finite(name, **{k: v})
    for k, v in xs.items():
        if k.startswith("scale_tril"):
            (v,) = _common.guard(ok, v)
            xs[k] = jnp.tril(v)
    return ok, xs


def _diag_params(name, **arrays):
    first = next(iter(arrays))
    loc0 = checks.floating(name, first, arrays[first])
    if loc0.ndim < 1:
        raise ValueError(
            f"jaxdiv.{name}: {first} must have an event axis [..., d], got a scalar."
        )
    d = loc0.shape[-1]
    for k, v in arrays.items():
        checks.event_shape(name, k, jnp.asarray(v), (d,), f"{first}'s event size {d}")
    xs = _common.params(name, dict.fromkeys(arrays, 1), **arrays)
    xs = dict(zip(arrays, xs, strict=True))
    scales = {k: v for k, v in xs.items() if k.startswith("scale")}
    _common.finite(name, **{k: v for k, v in xs.items() if k not in scales})
    ok = _common.positive(name, **scales)
    guarded = _common.guard(ok, *scales.values())
    xs.update(zip(scales, guarded, strict=True))
    return ok, list(xs.values())


def _abs_diag(tril):
    return jnp.abs(jnp.diagonal(tril, axis1=-2, axis2=-1))


def _log_abs_diag(tril):
    return jnp.log(_abs_diag(tril))


def _mahalanobis_parts(lp, tril_p, lq, tril_q):
    """``M = L_q^{-1} L_p`` and ``z = L_q^{-1} (mu_p - mu_q)`` by triangular solves."""
    m = solve_triangular(tril_q, tril_p, lower=True)
    z = solve_triangular(tril_q, (lp - lq)[..., None], lower=True)[..., 0]
    return m, z


# --------------------------------------------------------------------------
# full covariance


def entropy(loc: ArrayLike, scale_tril: ArrayLike) -> jax.Array:
    r"""Differential entropy of :math:`\mathcal{N}(\mu, L L^\top)`, in nats.

    .. math:: h = \tfrac{d}{2} (1 + \log 2\pi) + \sum_i \log |L_{ii}|

    Args:
      loc: means, ``[..., d]`` (only its batch shape matters).
      scale_tril: lower-triangular scale factors, ``[..., d, d]``.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> mvn.entropy(jnp.zeros(2), jnp.array([[1.0, 0.0], [0.5, 2.0]])).round(4)
      Array(3.5310, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (Theorem 8.4.1).
    """
    ok, xs = _tril_params("mvn.entropy", loc=loc, scale_tril=scale_tril)
    loc, tril = xs["loc"], xs["scale_tril"]
    d = loc.shape[-1]
    h = 0.5 * d * (1.0 + _LOG_2PI) + jnp.sum(_log_abs_diag(tril), axis=-1)
    ok = ok & ~jnp.any(jnp.isnan(loc), axis=-1)
    return _common.nan_unless(ok, h)


def kl_divergence(
    loc_p: ArrayLike,
    scale_tril_p: ArrayLike,
    loc_q: ArrayLike,
    scale_tril_q: ArrayLike,
) -> jax.Array:
    r""":math:`D_{KL}(\mathcal{N}(\mu_p, \Sigma_p) \| \mathcal{N}(\mu_q, \Sigma_q))`.

    With :math:`\Sigma = L L^\top`, :math:`M = L_q^{-1} L_p` (lower
    triangular, diagonal :math:`L_{p,ii} / L_{q,ii}`) and
    :math:`z = L_q^{-1} (\mu_p - \mu_q)`:

    .. math::
       D = \tfrac12 \Big[\operatorname{tr}(\Sigma_q^{-1} \Sigma_p) - d
           + \log\frac{\det \Sigma_q}{\det \Sigma_p} + \|z\|^2\Big]
         = \tfrac12 \Big[\sum_i \big(M_{ii}^2 - 1 - \log M_{ii}^2\big)
           + \sum_{i > j} M_{ij}^2 + \|z\|^2\Big]

    The second form is what is computed: a sum of non-negative terms, the
    diagonal ones as ``expm1mx(2 (log|L_p,ii| - log|L_q,ii|))``, so the
    divergence stays accurate (and exactly 0 at ``p == q``) where
    ``trace - d - logdet`` would cancel.

    Args:
      loc_p: means of ``p``, ``[..., d]``.
      scale_tril_p: scale factor of ``p``, ``[..., d, d]``.
      loc_q: means of ``q``, ``[..., d]``.
      scale_tril_q: scale factor of ``q``, ``[..., d, d]``.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> tril = jnp.array([[1.0, 0.0], [0.5, 2.0]])
      >>> mvn.kl_divergence(jnp.zeros(2), tril, jnp.ones(2), jnp.eye(2)).round(4)
      Array(1.9319, dtype=float32)

    References:
      Penny, `KL-Divergences of Normal, Gamma, Dirichlet and Wishart
      densities <https://www.fil.ion.ucl.ac.uk/~wpenny/publications/densities.ps>`_,
      2001.
    """
    ok, xs = _tril_params(
        "mvn.kl_divergence",
        loc_p=loc_p,
        scale_tril_p=scale_tril_p,
        loc_q=loc_q,
        scale_tril_q=scale_tril_q,
    )
    lp, tp, lq, tq = xs.values()
    m, z = _mahalanobis_parts(lp, tp, lq, tq)
    t = 2.0 * log_ratio(_abs_diag(tp), _abs_diag(tq))
    off = jnp.sum(jnp.square(jnp.tril(m, -1)), axis=(-2, -1))
    kl = 0.5 * (jnp.sum(expm1mx(t), axis=-1) + off + jnp.sum(jnp.square(z), axis=-1))
    return _common.nan_unless(ok, clamp_nonnegative(kl))


def cross_entropy(
    loc_p: ArrayLike,
    scale_tril_p: ArrayLike,
    loc_q: ArrayLike,
    scale_tril_q: ArrayLike,
) -> jax.Array:
    r"""Cross-entropy :math:`H(p, q) = -\mathbb{E}_p[\log q]` of two Gaussians.

    .. math::
       H(p, q) = \tfrac{d}{2} \log 2\pi + \sum_i \log |L_{q,ii}|
         + \tfrac12 \|L_q^{-1} L_p\|_F^2 + \tfrac12 \|L_q^{-1}(\mu_p - \mu_q)\|^2

    Args:
      loc_p: means of ``p``, ``[..., d]``.
      scale_tril_p: scale factor of ``p``, ``[..., d, d]``.
      loc_q: means of ``q``, ``[..., d]``.
      scale_tril_q: scale factor of ``q``, ``[..., d, d]``.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> mvn.cross_entropy(jnp.zeros(2), jnp.eye(2), jnp.zeros(2), jnp.eye(2))
      Array(2.837877, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, xs = _tril_params(
        "mvn.cross_entropy",
        loc_p=loc_p,
        scale_tril_p=scale_tril_p,
        loc_q=loc_q,
        scale_tril_q=scale_tril_q,
    )
    lp, tp, lq, tq = xs.values()
    d = lp.shape[-1]
    m, z = _mahalanobis_parts(lp, tp, lq, tq)
    ce = (
        0.5 * d * _LOG_2PI
        + jnp.sum(_log_abs_diag(tq), axis=-1)
        + 0.5 * jnp.sum(jnp.square(m), axis=(-2, -1))
        + 0.5 * jnp.sum(jnp.square(z), axis=-1)
    )
    return _common.nan_unless(ok, ce)


def log_prob(x: ArrayLike, loc: ArrayLike, scale_tril: ArrayLike) -> jax.Array:
    r"""Log-density of :math:`\mathcal{N}(\mu, L L^\top)` at ``x``.

    .. math:: \log p(x) = -\tfrac12 \|L^{-1}(x - \mu)\|^2 - \sum_i \log|L_{ii}|
       - \tfrac{d}{2} \log 2\pi

    Args:
      x: points, ``[..., d]``, batch axes broadcastable with the parameters'
        (sample axes first).
      loc: means, ``[..., d]``.
      scale_tril: scale factors, ``[..., d, d]``.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> mvn.log_prob(jnp.zeros(2), jnp.zeros(2), jnp.eye(2)).round(4)
      Array(-1.8379, dtype=float32)
    """
    ok, xs = _tril_params("mvn.log_prob", x=x, loc=loc, scale_tril=scale_tril)
    x, loc, tril = xs.values()
    d = loc.shape[-1]
    z = solve_triangular(tril, (x - loc)[..., None], lower=True)[..., 0]
    lp = -0.5 * (jnp.sum(jnp.square(z), axis=-1) + d * _LOG_2PI)
    lp = lp - jnp.sum(_log_abs_diag(tril), axis=-1)
    return _common.nan_unless(ok, lp)


def sample(
    key: ArrayLike, loc: ArrayLike, scale_tril: ArrayLike, *, shape: int | Shape = ()
) -> jax.Array:
    r"""Draws :math:`x = \mu + L \varepsilon` with standard normal noise.

    Reparameterised: gradients flow to ``loc`` and ``scale_tril``.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``).
      loc: means, ``[..., d]``.
      scale_tril: scale factors, ``[..., d, d]``.
      shape: sample shape, prepended to the batch shape.

    Returns:
      ``[*shape, *batch, d]`` samples; nan where ``scale_tril`` is singular.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> mvn.sample(jax.random.key(0), jnp.zeros(3), jnp.eye(3), shape=5).shape
      (5, 3)
    """
    name = "mvn.sample"
    ok, xs = _tril_params(name, loc=loc, scale_tril=scale_tril)
    loc, tril = xs.values()
    shape = _common.sample_shape(name, shape) + loc.shape
    eps = jax.random.normal(key, shape, loc.dtype)
    x = jnp.einsum("...ij,...j->...i", tril, eps) + jnp.broadcast_to(loc, shape)
    return jnp.where(jnp.broadcast_to(ok[..., None], shape), x, jnp.nan)


# --------------------------------------------------------------------------
# diagonal covariance


def entropy_diag(loc: ArrayLike, scale_diag: ArrayLike) -> jax.Array:
    r"""Entropy of :math:`\mathcal{N}(\mu, \operatorname{diag}(s)^2)`.

    .. math:: h = \tfrac{d}{2} (1 + \log 2\pi) + \sum_i \log s_i

    The sum over the event axis of :func:`jaxdiv.normal.entropy`.

    Args:
      loc: means, ``[..., d]``.
      scale_diag: standard deviations, ``[..., d]``, positive.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> mvn.entropy_diag(jnp.zeros(2), jnp.array([1.0, 2.0])).round(4)
      Array(3.5310, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (loc, scale) = _diag_params("mvn.entropy_diag", loc=loc, scale_diag=scale_diag)
    ok = ok & ~jnp.isnan(loc)
    return jnp.sum(_common.nan_unless(ok, normal._entropy(scale)), axis=-1)


def kl_divergence_diag(
    loc_p: ArrayLike,
    scale_diag_p: ArrayLike,
    loc_q: ArrayLike,
    scale_diag_q: ArrayLike,
) -> jax.Array:
    r""":math:`D_{KL}` between two Gaussians with diagonal covariances.

    .. math:: D = \sum_i D_{KL}(\mathcal{N}(\mu_{p,i}, s_{p,i}^2) \|
       \mathcal{N}(\mu_{q,i}, s_{q,i}^2))

    The sum over the event axis of :func:`jaxdiv.normal.kl_divergence`.

    Args:
      loc_p: means of ``p``, ``[..., d]``.
      scale_diag_p: standard deviations of ``p``, ``[..., d]``.
      loc_q: means of ``q``, ``[..., d]``.
      scale_diag_q: standard deviations of ``q``, ``[..., d]``.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> ones = jnp.ones(2)
      >>> mvn.kl_divergence_diag(0 * ones, ones, ones, 2 * ones).round(4)
      Array(0.8863, dtype=float32)

    References:
      Kingma and Welling, `Auto-Encoding Variational Bayes
      <https://arxiv.org/abs/1312.6114>`_, 2014.
    """
    ok, (lp, sp, lq, sq) = _diag_params(
        "mvn.kl_divergence_diag",
        loc_p=loc_p,
        scale_diag_p=scale_diag_p,
        loc_q=loc_q,
        scale_diag_q=scale_diag_q,
    )
    kl = jnp.sum(_common.nan_unless(ok, normal._kl(lp, sp, lq, sq)), axis=-1)
    return clamp_nonnegative(kl)


def cross_entropy_diag(
    loc_p: ArrayLike,
    scale_diag_p: ArrayLike,
    loc_q: ArrayLike,
    scale_diag_q: ArrayLike,
) -> jax.Array:
    r"""Cross-entropy between two Gaussians with diagonal covariances.

    .. math:: H(p, q) = \sum_i H(\mathcal{N}(\mu_{p,i}, s_{p,i}^2),
       \mathcal{N}(\mu_{q,i}, s_{q,i}^2))

    The sum over the event axis of :func:`jaxdiv.normal.cross_entropy`.

    Args:
      loc_p: means of ``p``, ``[..., d]``.
      scale_diag_p: standard deviations of ``p``, ``[..., d]``.
      loc_q: means of ``q``, ``[..., d]``.
      scale_diag_q: standard deviations of ``q``, ``[..., d]``.

    Returns:
      The broadcast batch shape ``[...]``.

    Raises:
      TypeError: a parameter is not floating point.
      ValueError: event sizes disagree, or batch shapes do not broadcast.

    Examples:
      >>> import jax.numpy as jnp
      >>> from jaxdiv import mvn
      >>> ones = jnp.ones(2)
      >>> mvn.cross_entropy_diag(0 * ones, ones, 0 * ones, ones).round(4)
      Array(2.8379, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    ok, (lp, sp, lq, sq) = _diag_params(
        "mvn.cross_entropy_diag",
        loc_p=loc_p,
        scale_diag_p=scale_diag_p,
        loc_q=loc_q,
        scale_diag_q=scale_diag_q,
    )
    return jnp.sum(_common.nan_unless(ok, normal._ce(lp, sp, lq, sq)), axis=-1)
