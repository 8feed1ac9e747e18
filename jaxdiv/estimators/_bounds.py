"""Variational lower bounds on mutual information from a critic's scores.

``scores[i, j] = T(x_i, y_j)`` for a batch of ``n`` pairs ``(x_i, y_i)``
drawn from the joint: the ``n`` diagonal entries are the positives
(samples of :math:`P_{XY}`), the ``n (n - 1)`` off-diagonal entries the
negatives (samples of :math:`P_X \\otimes P_Y`), as in Poole et al. (2019).

With ``axis_name``, the rows are split across the devices of a
``shard_map`` mesh axis: each device holds ``scores[rows, :]`` for its
contiguous block of rows (device ``r`` holds rows ``r * n_local`` to
``(r + 1) * n_local - 1``) and every column, so its positives are at
columns ``r * n_local + i``. Sums over rows are ``psum``-ed and the
log-sum-exp over all negatives is reduced across devices (log-sum-exp of
the per-device log-sum-exps), so every device returns the bound of the
whole ``[n, n]`` matrix.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks
from .._core.types import AxisName


def _scores(name: str, scores: ArrayLike, axis_name: AxisName, min_n: int):
    """Checked scores, the positive mask and the global batch size ``n``."""
    s = checks.floating(name, "scores", scores)
    size = 1 if axis_name is None else jax.lax.axis_size(axis_name)
    if s.ndim != 2 or s.shape[1] != s.shape[0] * size:
        split = "" if axis_name is None else f" (rows split over {size} devices)"
        raise ValueError(
            f"jaxdiv.{name}: scores must be a square [n, n] matrix of critic values"
            f"{split}, got shape {s.shape}; each device holds [n / {size}, n]."
        )
    n = s.shape[1]
    if n < min_n:
        raise ValueError(
            f"jaxdiv.{name}: scores of shape {s.shape} hold {n} pairs; the bound "
            f"needs at least {min_n} (negatives are the off-diagonal entries)."
        )
    first = 0 if axis_name is None else jax.lax.axis_index(axis_name) * s.shape[0]
    rows = first + jnp.arange(s.shape[0])[:, None]
    positive = rows == jnp.arange(n)[None, :]
    return s, positive, n


def _sum(x: jax.Array, axis_name: AxisName) -> jax.Array:
    total = jnp.sum(x)
    return total if axis_name is None else jax.lax.psum(total, axis_name)


def _mean_positive(s, positive, n, axis_name):
    return _sum(jnp.where(positive, s, 0.0), axis_name) / n


def _log_mean_exp_negatives(s, positive, n, axis_name):
    """log of the mean of ``exp(s)`` over the ``n (n - 1)`` negatives."""
    # all negatives at -inf: log-mean-exp -inf, with zero gradient (the
    # log-sum-exp's own gradient is 0/0 there)
    some = jnp.any(~positive & (s > -jnp.inf))
    lse = jax.nn.logsumexp(jnp.where(some, s, 0.0), where=~positive)
    lse = jnp.where(some, lse, -jnp.inf)
    if axis_name is not None:  # log-sum-exp of the per-device log-sum-exps
        shift = jax.lax.pmax(jax.lax.stop_gradient(lse), axis_name)
        shift = jnp.where(jnp.isfinite(shift), shift, 0.0)
        lse = shift + jnp.log(jax.lax.psum(jnp.exp(lse - shift), axis_name))
    return lse - math.log(n * (n - 1))


def infonce_bound(scores: ArrayLike, *, axis_name: AxisName = None) -> jax.Array:
    r"""InfoNCE (contrastive predictive coding) lower bound on :math:`I(X; Y)`.

    .. math::
       I_{NCE} = \log n + \frac{1}{n} \sum_{i=1}^{n}
       \Big[ s_{ii} - \log \sum_{j=1}^{n} e^{s_{ij}} \Big]
       \;\le\; \log n

    Each bracket is at most 0 (clamped there against rounding), so the
    bound never exceeds :math:`\log n` however good the critic: it
    underestimates any :math:`I > \log n`. Its optimal critic is
    :math:`s_{ij} = \log p(y_j | x_i) / p(y_j) + c(x_i)`. ``-infonce_bound``
    is the usual contrastive (cross-entropy) loss plus :math:`\log n`.

    Args:
      scores: critic values ``[n, n]`` (``scores[i, j] = T(x_i, y_j)``,
        positives on the diagonal); with ``axis_name``, this device's rows
        ``[n / devices, n]``.
      axis_name: ``None``, or the ``shard_map`` mesh axis the rows are
        split over (see the module documentation).

    Returns:
      A scalar, in nats (float32 for bfloat16/float16 scores).

    Raises:
      TypeError: non-floating scores.
      ValueError: scores not square (``[n / devices, n]`` under
        ``axis_name``).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> perfect = jnp.where(jnp.eye(4, dtype=bool), 30.0, 0.0)
      >>> print(round(float(jaxdiv.estimators.infonce_bound(perfect)), 4))
      1.3863

    References:
      van den Oord, Li and Vinyals, `Representation learning with
      contrastive predictive coding <https://arxiv.org/abs/1807.03748>`_,
      2018; Poole et al., `On variational bounds of mutual information
      <https://arxiv.org/abs/1905.06922>`_, 2019.
    """
    name = "estimators.infonce_bound"
    s, positive, n = _scores(name, scores, axis_name, 1)
    rows = jnp.sum(jnp.where(positive, s, 0.0), axis=1) - jax.nn.logsumexp(s, axis=1)
    rows = jnp.minimum(rows, 0.0)
    return math.log(n) + _sum(rows, axis_name) / n


def nwj_bound(scores: ArrayLike, *, axis_name: AxisName = None) -> jax.Array:
    r"""Nguyen-Wainwright-Jordan ("MINE-f") lower bound on :math:`I(X; Y)`.

    .. math::
       I_{NWJ} = \frac{1}{n} \sum_i s_{ii}
       - \frac{1}{e\, n (n - 1)} \sum_{i \ne j} e^{s_{ij}}

    the Fenchel dual of KL: a lower bound for every critic, tight at
    :math:`s = 1 + \log \frac{p(x, y)}{p(x) p(y)}`. Unbiased in the
    critic's scores, but its variance grows like :math:`e^{I}`. The
    negative term is computed as ``exp(logsumexp - 1)``: finite as long as
    the mean itself is.

    Args:
      scores: critic values ``[n, n]``, positives on the diagonal, ``n >= 2``;
        with ``axis_name``, this device's rows.
      axis_name: ``None``, or the mesh axis the rows are split over.

    Returns:
      A scalar, in nats.

    Raises:
      TypeError: non-floating scores.
      ValueError: scores not square, ``n < 2``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> print(float(jaxdiv.estimators.nwj_bound(jnp.ones((3, 3)))))  # T = 1
      0.0

    References:
      Nguyen, Wainwright and Jordan, `Estimating divergence functionals and
      the likelihood ratio by convex risk minimization
      <https://arxiv.org/abs/0809.0853>`_, 2010; Poole et al., `On
      variational bounds of mutual information
      <https://arxiv.org/abs/1905.06922>`_, 2019.
    """
    name = "estimators.nwj_bound"
    s, positive, n = _scores(name, scores, axis_name, 2)
    log_mean = _log_mean_exp_negatives(s, positive, n, axis_name)
    return _mean_positive(s, positive, n, axis_name) - jnp.exp(log_mean - 1.0)


def dv_bound(scores: ArrayLike, *, axis_name: AxisName = None) -> jax.Array:
    r"""Donsker-Varadhan (MINE) lower bound on :math:`I(X; Y)`.

    .. math::
       I_{DV} = \frac{1}{n} \sum_i s_{ii}
       - \log \frac{1}{n (n - 1)} \sum_{i \ne j} e^{s_{ij}}

    tight at :math:`s = \log \frac{p(x, y)}{p(x) p(y)} + c` for any
    constant :math:`c`. A lower bound in expectation over the critic's
    population terms; the batch log-mean-exp is biased (MINE corrects the
    gradient with a moving average, which is the caller's choice). The
    log-sum-exp over negatives is stable for any finite scores.

    Args:
      scores: critic values ``[n, n]``, positives on the diagonal, ``n >= 2``;
        with ``axis_name``, this device's rows.
      axis_name: ``None``, or the mesh axis the rows are split over.

    Returns:
      A scalar, in nats.

    Raises:
      TypeError: non-floating scores.
      ValueError: scores not square, ``n < 2``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> s = jnp.array([[2.0, 0.0], [0.0, 2.0]])
      >>> print(float(jaxdiv.estimators.dv_bound(s)))  # 2 - log(e^0)
      2.0

    References:
      Donsker and Varadhan, Asymptotic evaluation of certain Markov process
      expectations for large time IV, 1983; Belghazi et al., `Mutual
      information neural estimation <https://arxiv.org/abs/1801.04062>`_,
      2018.
    """
    name = "estimators.dv_bound"
    s, positive, n = _scores(name, scores, axis_name, 2)
    log_mean = _log_mean_exp_negatives(s, positive, n, axis_name)
    return _mean_positive(s, positive, n, axis_name) - log_mean


def js_bound(scores: ArrayLike, *, axis_name: AxisName = None) -> jax.Array:
    r"""Jensen-Shannon lower bound on :math:`JSD(P_{XY} \| P_X \otimes P_Y)`.

    .. math::
       I_{JS} = \log 2 + \frac{1}{2} \Big[
       -\frac{1}{n} \sum_i \operatorname{softplus}(-s_{ii})
       - \frac{1}{n (n - 1)} \sum_{i \ne j} \operatorname{softplus}(s_{ij})
       \Big] \;\le\; JSD \;\le\; \log 2

    the f-GAN (Nowozin et al.) dual of the Jensen-Shannon divergence
    :math:`JSD = \tfrac12 KL(P \| M) + \tfrac12 KL(Q \| M)` between the
    joint and the product of marginals (the divergence of
    ``jaxdiv.js_divergence``), tight at the log density ratio
    :math:`s = \log \frac{p(x, y)}{p(x) p(y)}`. The bracket is Deep
    InfoMax's JSD objective; JSD is a monotone proxy for, not a bound on,
    :math:`I(X; Y)`. Trained with it, a critic estimates the density
    ratio, which the other bounds can then evaluate (Poole et al.).
    Softplus forms: finite for any finite score.

    Args:
      scores: critic values ``[n, n]``, positives on the diagonal, ``n >= 2``;
        with ``axis_name``, this device's rows.
      axis_name: ``None``, or the mesh axis the rows are split over.

    Returns:
      A scalar, in nats.

    Raises:
      TypeError: non-floating scores.
      ValueError: scores not square, ``n < 2``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> print(float(jaxdiv.estimators.js_bound(jnp.zeros((3, 3)))))  # T = 0
      0.0

    References:
      Nowozin, Cseke and Tomioka, `f-GAN: training generative neural
      samplers using variational divergence minimization
      <https://arxiv.org/abs/1606.00709>`_, 2016; Hjelm et al., `Learning
      deep representations by mutual information estimation and
      maximization <https://arxiv.org/abs/1808.06670>`_, 2019.
    """
    name = "estimators.js_bound"
    s, positive, n = _scores(name, scores, axis_name, 2)
    pos = _sum(jnp.where(positive, jax.nn.softplus(-s), 0.0), axis_name) / n
    neg = _sum(jnp.where(positive, 0.0, jax.nn.softplus(s)), axis_name)
    return math.log(2.0) - 0.5 * (pos + neg / (n * (n - 1)))
