r"""KL-divergence losses in optax's ``(log_predictions, targets)`` order.

``kl_divergence`` and ``kl_divergence_with_log_targets`` evaluate the KL
formula of :mod:`jaxdiv._core.formulas` (and its kernel from log-targets in
:mod:`jaxdiv._core.kernels`); ``generalized_kl_divergence`` is the Bregman
form for unnormalised measures; ``convex_kl_divergence`` is its deprecated
alias, as in optax.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, formulas, kernels, value_checks
from .._core.numerics import (
    clamp_nonnegative,
    event_sum,
    propagate_nan,
    safe_log,
    weighted,
)
from .._core.types import AxisName, OptionalAxis
from ._common import (
    event_axes,
    jitted,
    reject_integer,
    static_axis,
)

# --------------------------------------------------------------------------
# KL divergences in optax's (log_predictions, targets) order


def _kl_inputs(name, log_predictions, targets, axis, where, target_name):
    reject_integer(name, target_name, targets, "")
    lp, t = checks.floatings(name, log_predictions=log_predictions, targets=targets)
    ax = event_axes(name, axis, max(lp.ndim, t.ndim))
    lp, t, ax = checks.pair(name, lp, t, ax, ("log_predictions", target_name))
    where = checks.mask(name, where, lp.shape)
    value_checks.no_nan_or_posinf(name, "log_predictions", lp, where)
    return lp, t, ax, where


def kl_divergence(
    log_predictions: ArrayLike,
    targets: ArrayLike,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
    *,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""KL divergence of the predictions from the targets, optax's order.

    .. math:: \ell(\log q, p) = D_{KL}(p \| q) = \sum_i p_i (\log p_i - \log q_i)

    with ``p = targets`` and ``log q = log_predictions``: the measure
    ``jaxdiv.kl_divergence(targets, exp(log_predictions))`` computed without
    leaving log space. ``p_i = 0`` terms are 0 even where
    ``log q_i = -inf`` (optax: nan); ``p_i > 0 = q_i`` gives ``+inf``; nan
    in an unmasked entry of either input gives nan. Only rounding-level
    negatives (within ``32 eps`` of the terms' magnitude) are clamped to 0:
    log-predictions that do not normalise (raw logits, a common mistake)
    give the formula's value, negative if it is, as optax does, rather
    than a silent 0 with zero gradient; :func:`jaxdiv.value_checks` flags
    them. For unnormalised measures use :func:`generalized_kl_divergence`.

    Args:
      log_predictions: log-probabilities ``log q``, shape ``[..., n]``.
      targets: probabilities ``p``, same shape (or exactly the event shape).
      axis: event axis (int, tuple, or ``None``).
      where: boolean mask broadcastable to the inputs.
      axis_name: mesh axis across which the event axis is split inside
        ``shard_map``, or ``None``.

    Returns:
      Per-example divergences, shape ``[...]``.

    Raises:
      TypeError: integer targets or log-predictions.
      ValueError: mismatched shapes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> log_q = jnp.log(jnp.array([0.9, 0.1, 0.0]))
      >>> p = jnp.array([0.5, 0.5, 0.0])
      >>> jaxdiv.losses.kl_divergence(log_q, p).round(4)
      Array(0.5108, dtype=float32)

    References:
      Kullback and Leibler, `On Information and Sufficiency
      <https://doi.org/10.1214/aoms/1177729694>`_, 1951.
    """
    return _kl_div(log_predictions, targets, where, static_axis(axis), axis_name)


@jitted("axis", "axis_name")
def _kl_div(log_predictions, targets, where, axis, axis_name):
    name = "losses.kl_divergence"
    lp, p, ax, where = _kl_inputs(
        name, log_predictions, targets, axis, where, "targets"
    )
    value_checks.probabilities(name, "targets", p, ax, where)
    if value_checks.value_checks_enabled():
        value_checks.probabilities(name, "exp(log_predictions)", jnp.exp(lp), ax, where)
    if where is not None:
        p = jnp.where(where, p, 0.0)
        lp = jnp.where(where, lp, 0.0)
    p, lp = propagate_nan(p, lp)
    # rounding-level negatives only are clamped: logits passed for
    # log-probabilities give a visibly negative value, as in optax
    return formulas.kl(p, safe_log(p), lp, ax, axis_name)


def kl_divergence_with_log_targets(
    log_predictions: ArrayLike,
    log_targets: ArrayLike,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
    *,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""KL divergence with both distributions as log-probabilities, fused.

    .. math:: \ell(\log q, \log p) = D_{KL}(p \| q)
       = \sum_i e^{\log p_i} (\log p_i - \log q_i)

    Exact at every edge: ``log p_i = -inf`` terms are 0 whatever
    ``log q_i`` is (``-inf`` included; optax: nan), ``log q_i = -inf`` under
    ``p_i > 0`` gives ``+inf``. Only rounding-level negatives (within
    ``32 eps`` of the terms' magnitude) are clamped to 0: inputs that do not
    normalise give the formula's value, negative if it is, as optax does;
    :func:`jaxdiv.value_checks` flags them. The forward pass is a single
    fused reduction and the gradient is recomputed from the inputs (a custom
    JVP), so no ``[..., n]`` temporary is written besides the gradients.

    Args:
      log_predictions: log-probabilities ``log q``, shape ``[..., n]``.
      log_targets: log-probabilities ``log p``, same shape.
      axis: event axis (int, tuple, or ``None``).
      where: boolean mask broadcastable to the inputs.
      axis_name: mesh axis across which the event axis is split inside
        ``shard_map``, or ``None``.

    Returns:
      Per-example divergences, shape ``[...]``.

    Raises:
      TypeError: integer inputs.
      ValueError: mismatched shapes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> log_q = jnp.log(jnp.array([0.9, 0.1, 0.0]))
      >>> log_p = jnp.log(jnp.array([0.5, 0.5, 0.0]))
      >>> jaxdiv.losses.kl_divergence_with_log_targets(log_q, log_p).round(4)
      Array(0.5108, dtype=float32)
    """
    return _kl_log(log_predictions, log_targets, where, static_axis(axis), axis_name)


@jitted("axis", "axis_name")
def _kl_log(log_predictions, log_targets, where, axis, axis_name):
    name = "losses.kl_divergence_with_log_targets"
    lp, lt, ax, where = _kl_inputs(
        name, log_predictions, log_targets, axis, where, "log_targets"
    )
    if value_checks.value_checks_enabled():
        value_checks.no_nan_or_posinf(name, "log_targets", lt, where)
        value_checks.probabilities(name, "exp(log_targets)", jnp.exp(lt), ax, where)
        value_checks.probabilities(name, "exp(log_predictions)", jnp.exp(lp), ax, where)
    if where is not None:
        lt = jnp.where(where, lt, -jnp.inf)
        lp = jnp.where(where, lp, 0.0)
    return kernels.kl_log_targets(ax, axis_name, lp, lt)


def generalized_kl_divergence(
    log_predictions: ArrayLike,
    targets: ArrayLike,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
    *,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Generalised KL divergence between unnormalised non-negative measures.

    .. math:: \ell(\log q, p) = \sum_i \Big(p_i \log \frac{p_i}{q_i} - p_i + q_i\Big)

    the Bregman divergence of :math:`x \log x - x`; it equals
    :func:`kl_divergence` when both sum to one. ``p_i = 0`` terms are
    :math:`q_i` (0 where ``log q_i = -inf``, with zero gradient); never
    negative.

    Args:
      log_predictions: ``log q``, shape ``[..., n]``; need not be normalised.
      targets: non-negative ``p``, same shape; need not be normalised.
      axis: event axis (int, tuple, or ``None``).
      where: boolean mask broadcastable to the inputs.
      axis_name: mesh axis across which the event axis is split inside
        ``shard_map``, or ``None``.

    Returns:
      Per-example divergences, shape ``[...]``.

    Raises:
      TypeError: integer inputs.
      ValueError: mismatched shapes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> log_q = jnp.log(jnp.array([1.0, 2.0]))
      >>> p = jnp.array([1.0, 1.0])
      >>> jaxdiv.losses.generalized_kl_divergence(log_q, p).round(4)
      Array(0.3069, dtype=float32)

    References:
      Bregman, `The relaxation method of finding the common point of convex
      sets <https://doi.org/10.1016/0041-5553(67)90040-7>`_, 1967.
    """
    return _gen_kl(log_predictions, targets, where, static_axis(axis), axis_name)


@jitted("axis", "axis_name")
def _gen_kl(log_predictions, targets, where, axis, axis_name):
    name = "losses.generalized_kl_divergence"
    lp, p, ax, where = _kl_inputs(
        name, log_predictions, targets, axis, where, "targets"
    )
    keep = p >= 0 if where is None else (p >= 0) | ~where
    value_checks.check(name, keep, "targets must be non-negative.")
    if where is not None:
        p = jnp.where(where, p, 0.0)
        lp = jnp.where(where, lp, -jnp.inf)
    terms = weighted(p, safe_log(p) - lp) + jnp.exp(lp) - p
    return clamp_nonnegative(event_sum(terms, ax, axis_name))


def convex_kl_divergence(
    log_predictions: ArrayLike,
    targets: ArrayLike,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Deprecated alias of :func:`generalized_kl_divergence` (as in optax).

    .. math:: \ell(\log q, p) = \sum_i \Big(p_i \log \frac{p_i}{q_i} - p_i + q_i\Big)

    Emits a ``DeprecationWarning``, like ``optax.losses.convex_kl_divergence``.

    Args:
      log_predictions: ``log q``, shape ``[..., n]``.
      targets: non-negative ``p``, same shape.
      axis: event axis.
      where: boolean mask broadcastable to the inputs.

    Returns:
      Per-example divergences, shape ``[...]``.

    Examples:
      >>> import warnings, jax.numpy as jnp, jaxdiv.losses
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore", DeprecationWarning)
      ...     jaxdiv.losses.convex_kl_divergence(jnp.zeros(2), jnp.ones(2))
      Array(0., dtype=float32)
    """
    warnings.warn(
        "jaxdiv.losses.convex_kl_divergence is deprecated, use "
        "generalized_kl_divergence instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return generalized_kl_divergence(log_predictions, targets, axis=axis, where=where)
