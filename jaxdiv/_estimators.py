r"""Sample-based estimators of :math:`D_{KL}(\pi \| \rho)` from log-densities.

Shared by ``jaxdiv.losses.kl_penalty`` (RLHF KL terms on sampled tokens) and
the Monte-Carlo KL between parametric families. With :math:`x \sim \pi` and
:math:`r = \rho(x) / \pi(x)`, i.e. ``log_ratio = log rho(x) - log pi(x)``:

* ``k1 = -log r``: unbiased, high variance, can be negative;
* ``k2 = (log r)^2 / 2``: biased, low variance, never negative;
* ``k3 = (r - 1) - log r``: unbiased, low variance, never negative; computed
  as ``expm1(log r) - log r`` so it stays accurate as ``r -> 1``.

Reference: Schulman, `Approximating KL Divergence
<http://joschu.net/blog/kl-approx.html>`_, 2020.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._numerics import clamp_nonnegative

ESTIMATORS = ("k1", "k2", "k3")


def kl_estimate(log_p: jax.Array, log_q: jax.Array, estimator: str) -> jax.Array:
    """Per-sample estimate of ``KL(p || q)`` from ``log p(x)``, ``log q(x)``, x ~ p."""
    log_ratio = log_q - log_p
    if estimator == "k1":
        return -log_ratio
    if estimator == "k2":
        return 0.5 * jnp.square(log_ratio)
    if estimator == "k3":
        return clamp_nonnegative(jnp.expm1(log_ratio) - log_ratio)
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}.")
