"""k-nearest-neighbour estimators: Kozachenko-Leonenko entropy,
Wang-Kulkarni-Verdu KL divergence, Kraskov-Stoegbauer-Grassberger MI."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma
from jax.typing import ArrayLike

from .._core import checks
from .._core.numerics import in_base
from . import _knn


def _radii(sq_or_max: jax.Array, norm: str) -> jax.Array:
    """Log of the k-th neighbour distance from :func:`_knn.distances` output."""
    log_r = jnp.log(sq_or_max)
    return 0.5 * log_r if norm == "euclidean" else log_r


def _mean_over_positive(log_r: jax.Array, keep: jax.Array) -> jax.Array:
    """Mean of ``log_r`` over ``keep`` (nan when nothing is kept)."""
    kept = jnp.sum(keep.astype(log_r.dtype))
    return jnp.sum(jnp.where(keep, log_r, 0.0)) / kept


def _nan_unless_finite(value: jax.Array, *samples: jax.Array) -> jax.Array:
    """nan if any sample is nan or infinite (distances would be meaningless)."""
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(s)) for s in samples]))
    return jnp.where(finite, value, jnp.nan)


def _log_unit_ball(d: int, norm: str) -> float:
    if norm == "max":
        return d * math.log(2.0)
    return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)


def knn_entropy(
    x: ArrayLike,
    *,
    k: int = 3,
    norm: str = "euclidean",
    base: float | None = None,
    chunk_size: int | None = None,
) -> jax.Array:
    r"""Kozachenko-Leonenko k-nearest-neighbour estimate of differential entropy.

    .. math::
       \hat H(X) = \psi(n) - \psi(k) + \log V_d
       + \frac{d}{n} \sum_{i=1}^{n} \log \varepsilon_i

    where :math:`\varepsilon_i` is the distance from :math:`x_i` to its
    k-th nearest neighbour among the other :math:`n - 1` samples and
    :math:`V_d` the volume of the unit ball of the norm:
    :math:`\pi^{d/2} / \Gamma(d/2 + 1)` for ``norm="euclidean"`` (the
    default, as in Kozachenko and Leonenko; the estimate is then invariant
    under rotations) and :math:`2^d` for ``norm="max"`` (the convention of
    NPEET, ennemi and infomeasure, whose values it then equals with their
    noise turned off). Consistent for any fixed ``k``; biased for small
    ``n`` and large ``d``.

    Duplicates (which rounding makes common: a few thousand float32
    normals often hold a repeated value) are not perturbed. A point with
    at least ``k`` exact copies has :math:`\varepsilon_i = 0`; it is left
    out of the average (the sum over the points with
    :math:`\varepsilon_i > 0`, divided by their number), so the estimate
    stays finite, and is :math:`-\infty` only when every point has
    :math:`\varepsilon_i = 0` (an atomic sample). infomeasure also drops
    these points but keeps :math:`n` as the divisor; ennemi returns
    :math:`-\infty`; NPEET adds noise. Without duplicates all agree.

    Distances are computed exactly (no Gram-matrix expansion) in tiles of
    ``chunk_size`` query rows: memory :math:`O(n \cdot \text{chunk})`.
    bfloat16 and float16 samples are computed in float32. A nan or
    infinite sample makes the estimate nan (also for the KL and KSG
    estimators).

    Args:
      x: samples, shape ``[n, d]`` (``[n]`` is ``d = 1``); vmap for batches.
      k: the neighbour order, a Python int >= 1, with ``n >= k + 1``.
      norm: ``"euclidean"`` or ``"max"``.
      base: logarithm base; ``None`` gives nats, ``2`` bits.
      chunk_size: query rows per tile (default 64).

    Returns:
      A scalar.

    Raises:
      TypeError: non-floating ``x``, non-integer ``k``.
      ValueError: ``x`` not ``[n, d]``, fewer than ``k + 1`` samples, an
        unknown ``norm``.

    Examples:
      >>> import jax, jaxdiv, math
      >>> x = jax.random.normal(jax.random.key(0), (1000, 2))
      >>> h = jaxdiv.estimators.knn_entropy(x)
      >>> truth = 1 + math.log(2 * math.pi)  # standard normal in 2-d: 2.8379
      >>> print(f"{float(h):.2f}", abs(float(h) - truth) < 0.1)
      2.86 True

    References:
      Kozachenko and Leonenko, `Sample estimate of the entropy of a random
      vector <https://www.mathnet.ru/eng/ppi797>`_, 1987; Kraskov,
      Stoegbauer and Grassberger, `Estimating mutual information
      <https://arxiv.org/abs/cond-mat/0305641>`_, 2004, eq. (20).
    """
    name = "estimators.knn_entropy"
    x = _knn.samples(name, "x", x)
    k = _knn.neighbour_count(name, k)
    norm = checks.choice(name, "norm", norm, _knn.NORMS)
    _knn.enough_samples(name, "x", x, k + 1, k)
    n, d = x.shape
    size = _knn.chunk(name, chunk_size, n)
    keys_t = x.T

    def block(q):
        # k + 1: the query itself is among the keys, at distance 0
        return (_knn.kth_smallest(_knn.distances(q, keys_t, norm), k + 1),)

    (kth,) = _knn.map_blocks(block, (x,), size)
    keep = kth > 0
    mean_log = jnp.where(
        jnp.any(keep), _mean_over_positive(_radii(kth, norm), keep), -jnp.inf
    )
    h = digamma(jnp.asarray(n, x.dtype)) - digamma(jnp.asarray(k, x.dtype))
    h = h + _log_unit_ball(d, norm) + d * mean_log
    return in_base(_nan_unless_finite(h, x), base)


def knn_kl_divergence(
    x: ArrayLike,
    y: ArrayLike,
    *,
    k: int = 1,
    norm: str = "euclidean",
    base: float | None = None,
    chunk_size: int | None = None,
) -> jax.Array:
    r"""Wang-Kulkarni-Verdu k-nearest-neighbour estimate of :math:`D_{KL}(P \| Q)`.

    .. math::
       \hat D(P \| Q) = \frac{d}{n} \sum_{i=1}^{n}
       \log \frac{\nu_k(i)}{\rho_k(i)} + \log \frac{m}{n - 1}

    from samples :math:`x_1..x_n \sim P` and :math:`y_1..y_m \sim Q`, where
    :math:`\rho_k(i)` is the distance from :math:`x_i` to its k-th nearest
    neighbour among the other :math:`x_j` and :math:`\nu_k(i)` the distance
    to its k-th nearest neighbour among the :math:`y_j`. The ball volumes
    cancel, so any norm gives a consistent estimate; ``norm`` picks
    Euclidean (the paper's, default) or max. Not clamped: the estimate can
    be negative for nearby distributions.

    Duplicates are not perturbed: a point with :math:`\rho_k(i) = 0` (k
    exact copies of :math:`x_i` among the other x) or :math:`\nu_k(i) = 0`
    (k copies among the y), whose term is infinite, is left out of the
    average (sum over the other points divided by their number), as
    infomeasure drops zero distances; nan when no point is left. Without
    duplicates this is the formula above.

    Args:
      x: samples of P, shape ``[n, d]`` (``[n]`` is ``d = 1``), ``n >= k + 1``.
      y: samples of Q, shape ``[m, d]``, ``m >= k``.
      k: the neighbour order, a Python int >= 1.
      norm: ``"euclidean"`` or ``"max"``.
      base: logarithm base; ``None`` gives nats.
      chunk_size: query rows per tile (default 64): memory
        :math:`O((n + m) \cdot \text{chunk})`.

    Returns:
      A scalar.

    Raises:
      TypeError: non-floating samples, non-integer ``k``.
      ValueError: samples not ``[n, d]``, different ``d``, too few samples,
        an unknown ``norm``.

    Examples:
      >>> import jax, jaxdiv
      >>> kx, ky = jax.random.split(jax.random.key(0))
      >>> x = jax.random.normal(kx, (1000, 1))
      >>> y = 1.0 + jax.random.normal(ky, (1000, 1))  # KL = 1/2
      >>> print(round(float(jaxdiv.estimators.knn_kl_divergence(x, y)), 1))
      0.5

    References:
      Wang, Kulkarni and Verdu, `Divergence estimation for multidimensional
      densities via k-nearest-neighbor distances
      <https://doi.org/10.1109/TIT.2009.2016060>`_, 2009, eq. (5).
    """
    name = "estimators.knn_kl_divergence"
    x = _knn.samples(name, "x", x)
    y = _knn.samples(name, "y", y)
    x, y = checks.floatings(name, x=x, y=y)
    k = _knn.neighbour_count(name, k)
    norm = checks.choice(name, "norm", norm, _knn.NORMS)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"jaxdiv.{name}: x and y must have the same number of features, got "
            f"shapes {x.shape} and {y.shape}."
        )
    _knn.enough_samples(name, "x", x, k + 1, k)
    _knn.enough_samples(name, "y", y, k, k)
    (n, d), m = x.shape, y.shape[0]
    size = _knn.chunk(name, chunk_size, n)
    x_t, y_t = x.T, y.T

    def block(q):
        rho = _knn.kth_smallest(_knn.distances(q, x_t, norm), k + 1)
        nu = _knn.kth_smallest(_knn.distances(q, y_t, norm), k)
        return rho, nu

    rho, nu = _knn.map_blocks(block, (x,), size)
    keep = (rho > 0) & (nu > 0)
    mean_log_ratio = _mean_over_positive(_radii(nu, norm) - _radii(rho, norm), keep)
    dkl = d * mean_log_ratio + math.log(m / (n - 1))
    return in_base(_nan_unless_finite(dkl, x, y), base)


def ksg_mutual_information(
    x: ArrayLike,
    y: ArrayLike,
    *,
    k: int = 3,
    base: float | None = None,
    chunk_size: int | None = None,
) -> jax.Array:
    r"""Kraskov-Stoegbauer-Grassberger estimate of :math:`I(X; Y)` (estimator 1).

    .. math::
       \hat I(X; Y) = \psi(k) + \psi(n)
       - \frac{1}{n} \sum_{i=1}^{n} \big[\psi(n_x(i) + 1) + \psi(n_y(i) + 1)\big]

    from paired samples :math:`(x_i, y_i)`. :math:`\varepsilon_i` is the
    distance from :math:`z_i = (x_i, y_i)` to its k-th nearest neighbour in
    the joint space under the max-norm :math:`\max(\|x - x'\|_\infty,
    \|y - y'\|_\infty)`, and :math:`n_x(i) = \#\{j \ne i : \|x_i -
    x_j\|_\infty < \varepsilon_i\}` (strictly less), :math:`n_y(i)`
    likewise. Not clamped (can be slightly negative for independent
    variables). Equal to ennemi's ``estimate_mi`` (``preprocess=False``)
    and to infomeasure's ``ksg`` (``noise_level=0``) on the same samples.

    Duplicates are counted, not perturbed: copies of :math:`z_i` are
    neighbours at distance 0; if :math:`\varepsilon_i = 0` (k copies),
    the strict counts are 0 and the point contributes
    :math:`\psi(k) + \psi(n) - 2\psi(1)` (as infomeasure with
    ``noise_level=0``; ennemi returns :math:`-\infty` there).

    Args:
      x: samples, shape ``[n, d_x]`` (``[n]`` is ``d_x = 1``).
      y: samples, shape ``[n, d_y]``, the same ``n``; ``n >= k + 1``.
      k: the neighbour order, a Python int >= 1.
      base: logarithm base; ``None`` gives nats.
      chunk_size: query rows per tile (default 64): memory
        :math:`O(n \cdot \text{chunk})`.

    Returns:
      A scalar.

    Raises:
      TypeError: non-floating samples, non-integer ``k``.
      ValueError: samples not ``[n, d]``, different sample counts, fewer
        than ``k + 1`` samples.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxdiv, math
      >>> kx, kn = jax.random.split(jax.random.key(0))
      >>> x = jax.random.normal(kx, (1000, 1))
      >>> y = 0.8 * x + 0.6 * jax.random.normal(kn, (1000, 1))  # rho = 0.8
      >>> i = jaxdiv.estimators.ksg_mutual_information(x, y)
      >>> truth = -0.5 * math.log(1 - 0.8**2)  # 0.5108
      >>> print(f"{float(i):.2f}", abs(float(i) - truth) < 0.1)
      0.45 True

    References:
      Kraskov, Stoegbauer and Grassberger, `Estimating mutual information
      <https://arxiv.org/abs/cond-mat/0305641>`_, 2004, eq. (8).
    """
    name = "estimators.ksg_mutual_information"
    x = _knn.samples(name, "x", x)
    y = _knn.samples(name, "y", y)
    x, y = checks.floatings(name, x=x, y=y)
    k = _knn.neighbour_count(name, k)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"jaxdiv.{name}: x and y must hold the same number of paired samples, "
            f"got shapes {x.shape} and {y.shape}."
        )
    _knn.enough_samples(name, "x", x, k + 1, k)
    n = x.shape[0]
    size = _knn.chunk(name, chunk_size, n)
    x_t, y_t = x.T, y.T

    def block(qx, qy):
        dx = _knn.distances(qx, x_t, "max")
        dy = _knn.distances(qy, y_t, "max")
        eps = _knn.kth_smallest(jnp.maximum(dx, dy), k + 1)[:, None]
        self_inside = (eps[:, 0] > 0).astype(jnp.int32)  # the query, at 0
        nx = jnp.sum(dx < eps, axis=1, dtype=jnp.int32) - self_inside
        ny = jnp.sum(dy < eps, axis=1, dtype=jnp.int32) - self_inside
        return nx, ny

    nx, ny = _knn.map_blocks(block, (x, y), size)
    dtype = x.dtype
    counts = digamma(nx.astype(dtype) + 1) + digamma(ny.astype(dtype) + 1)
    mi = digamma(jnp.asarray(k, dtype)) + digamma(jnp.asarray(n, dtype))
    return in_base(_nan_unless_finite(mi - jnp.mean(counts), x, y), base)
