r"""Monte-Carlo KL divergence between any two distributions one can sample and score.

The closed forms of the family modules (``jaxdiv.normal`` ...) cover pairs of
the same family. For any other pair with a finite divergence, e.g.
:math:`D_{KL}(\mathrm{Laplace} \| \mathcal{N})`, :func:`monte_carlo_kl`
averages a per-sample estimator over draws of ``p``. It shares the k1/k2/k3
estimators of ``jaxdiv._core.kl_estimators`` with ``jaxdiv.losses.kl_penalty``, and
works with any sampler and log-densities: every family module exposes
``sample(key, *params, shape=...)`` and ``log_prob(x, *params)`` for that.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks
from .._core.kl_estimators import ESTIMATORS, kl_estimate

_NAME = "monte_carlo_kl"


def monte_carlo_kl(
    key: ArrayLike,
    sample_p: Callable[[jax.Array, tuple[int, ...]], jax.Array],
    log_prob_p: Callable[[jax.Array], jax.Array],
    log_prob_q: Callable[[jax.Array], jax.Array],
    num_samples: int,
    *,
    estimator: str = "k3",
    return_stderr: bool = False,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    r"""Monte-Carlo estimate of :math:`D_{KL}(p \| q)` from samples of ``p``.

    With :math:`x_i \sim p` and :math:`\log r_i = \log q(x_i) - \log p(x_i)`:

    .. math:: \hat D = \frac1n \sum_{i=1}^n k(x_i), \quad
       k_1 = -\log r, \quad k_2 = \tfrac12 (\log r)^2, \quad
       k_3 = (r - 1) - \log r

    * ``"k3"`` (default): unbiased, each term >= 0, and low-variance when
      ``p`` and ``q`` are close, but only when ``q`` puts no mass outside
      the support of ``p`` (:math:`\mathbb{E}_p[r] = 1`): use it for pairs
      with equal supports (Laplace and normal on the real line, gamma and
      exponential on the half-line...); otherwise it is biased low by
      :math:`q(\text{outside})`. Its variance is finite only if
      :math:`\mathbb{E}_p[r^2] = \int q^2 / p < \infty`, i.e. ``q`` has no
      heavier tails than ``p`` allows (it is infinite for
      :math:`D(\mathcal{N}(0, 1) \| \mathcal{N}(0, 1.5^2))` and for
      :math:`D(\mathcal{N} \| \mathrm{Laplace})`): there the standard
      error means nothing; use ``"k1"``.
    * ``"k1"``: unbiased whenever the divergence is finite, higher variance,
      single terms can be negative.
    * ``"k2"``: biased (a second-order approximation), low variance.

    ``+inf`` terms (a sample of ``p`` where ``q`` has no mass) make the
    estimate ``+inf``, as is the divergence. Gradients are pathwise: for a
    reparameterised sampler (normal, mvn, laplace, exponential, gamma, beta,
    dirichlet) ``jax.grad`` through ``k1`` or ``k3`` is an unbiased
    gradient of the divergence; for discrete ``p`` (bernoulli, categorical,
    poisson) the score-function term is missing, so do not differentiate
    through ``p``'s parameters.

    Args:
      key: a ``jax.random.key`` (or legacy ``jax.random.PRNGKey``), passed
        to ``sample_p`` unchanged.
      sample_p: ``sample_p(key, (num_samples,))`` returns draws of ``p``
        with the sample axis first: ``[num_samples, *batch, *event]``.
      log_prob_p: ``log p(x)``, mapping those draws to
        ``[num_samples, *batch]``.
      log_prob_q: ``log q(x)``, same shapes as ``log_prob_p``.
      num_samples: number of draws ``n`` (a static Python int).
      estimator: ``"k1"``, ``"k2"`` or ``"k3"``.
      return_stderr: also return the standard error of the estimate,
        ``std(k) / sqrt(n)`` (``ddof=1``; needs ``n >= 2``).

    Returns:
      The estimate, ``[*batch]`` (float32 for 16-bit log-densities); with
      ``return_stderr``, the pair ``(estimate, stderr)``.

    Raises:
      TypeError: the log-densities are not floating point.
      ValueError: an unknown estimator, ``num_samples < 1`` (``< 2`` with
        ``return_stderr``), or log-densities whose shapes differ from each
        other or do not start with ``num_samples``.

    Examples:
      KL(Laplace(0, 1) || N(0, 1)), a pair of families without a closed
      form in jaxdiv (numerical quadrature gives 0.2258):

      >>> import jax, jaxdiv
      >>> from jaxdiv import laplace, normal
      >>> kl, se = jaxdiv.monte_carlo_kl(
      ...     jax.random.key(0),
      ...     lambda key, shape: laplace.sample(key, 0.0, 1.0, shape=shape),
      ...     lambda x: laplace.log_prob(x, 0.0, 1.0),
      ...     lambda x: normal.log_prob(x, 0.0, 1.0),
      ...     num_samples=100_000,
      ...     return_stderr=True,
      ... )
      >>> bool(abs(kl - 0.2258) < 4 * se)
      True

    References:
      Schulman, `Approximating KL Divergence
      <http://joschu.net/blog/kl-approx.html>`_, 2020.
    """
    try:
        n = operator.index(num_samples)
    except TypeError:
        raise TypeError(
            f"jaxdiv.{_NAME}: num_samples must be a Python int, got "
            f"{type(num_samples).__name__}."
        ) from None
    if n < (2 if return_stderr else 1):
        raise ValueError(
            f"jaxdiv.{_NAME}: num_samples must be >= "
            f"{2 if return_stderr else 1}, got {n}."
        )
    if estimator not in ESTIMATORS:
        raise ValueError(
            f"jaxdiv.{_NAME}: estimator must be one of {ESTIMATORS}, got {estimator!r}."
        )
    x = sample_p(key, (n,))
    log_p, log_q = checks.floatings(
        _NAME, log_prob_p=log_prob_p(x), log_prob_q=log_prob_q(x)
    )
    checks.same_shape(_NAME, log_prob_p=log_p, log_prob_q=log_q)
    checks.leading_axis(_NAME, "log_prob_p(x)", log_p, n)
    terms = kl_estimate(log_p, log_q, estimator)
    estimate = jnp.mean(terms, axis=0)
    if not return_stderr:
        return estimate
    stderr = jnp.std(terms, axis=0, ddof=1) / jnp.sqrt(jnp.asarray(n, terms.dtype))
    return estimate, stderr
