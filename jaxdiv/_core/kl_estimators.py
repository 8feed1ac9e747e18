r"""Sample-based estimators of :math:`D_{KL}(\pi \| \rho)` from log-densities.

Shared by ``jaxdiv.losses.kl_penalty`` (RLHF KL terms on sampled tokens) and
the Monte-Carlo KL between parametric families. With :math:`x \sim \pi` and
:math:`r = \rho(x) / \pi(x)`, i.e. ``log_ratio = log rho(x) - log pi(x)``:

* ``k1 = -log r``: unbiased, high variance, can be negative;
* ``k2 = (log r)^2 / 2``: biased, low variance, never negative;
* ``k3 = (r - 1) - log r``: unbiased, low variance, never negative; computed
  as ``expm1mx(log r)`` (``exp(t) - 1 - t`` by its Taylor series near 0), so it
  keeps full relative precision as ``r -> 1``, where ``expm1(t) - t`` cancels.

Reference: Schulman, `Approximating KL Divergence
<http://joschu.net/blog/kl-approx.html>`_, 2020.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .numerics import expm1mx

ESTIMATORS = ("k1", "k2", "k3")


def kl_estimate(log_p: jax.Array, log_q: jax.Array, estimator: str) -> jax.Array:
    """Per-sample estimate of ``KL(p || q)`` from ``log p(x)``, ``log q(x)``, x ~ p."""
    log_ratio = log_q - log_p
    if estimator == "k1":
        return -log_ratio
    if estimator == "k2":
        return 0.5 * jnp.square(log_ratio)
    if estimator == "k3":
        return expm1mx(log_ratio)
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}.")
