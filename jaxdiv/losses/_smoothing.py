"""Label smoothing, optax's ``smooth_labels`` with a support-aware ``where``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, value_checks
from .._core.types import OptionalAxis
from ._common import event_axes, jitted, python_number, reject_integer, static_axis


def smooth_labels(
    labels: ArrayLike,
    alpha: ArrayLike,
    *,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Mixes target distributions with the uniform one over their support.

    .. math:: \tilde y_i = (1 - \alpha)\, y_i + \frac{\alpha}{K}, \qquad i \in S

    with :math:`S` the entries kept by ``where`` (all by default) and
    :math:`K = |S|`. Entries outside the support are 0 (optax leaves
    :math:`\alpha / K` there, mass outside the support), and a row with an
    empty support is 0 (optax: ``inf``). For integer labels, pass
    ``label_smoothing=`` to
    :func:`softmax_cross_entropy_with_integer_labels` instead: it gives the
    same loss without materialising the one-hot.

    Args:
      labels: target probabilities (e.g. one-hot), shape ``[..., n]``.
      alpha: smoothing weight in ``[0, 1]``.
      axis: event axis (int, tuple, or ``None``).
      where: boolean mask broadcastable to ``labels``.

    Returns:
      The smoothed labels, ``labels``' shape.

    Raises:
      TypeError: integer ``labels``.
      ValueError: ``alpha`` outside ``[0, 1]``, or a bad ``axis``/``where``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> y = jnp.array([0.0, 1.0, 0.0, 0.0])
      >>> jaxdiv.losses.smooth_labels(y, 0.2).round(4).tolist()
      [0.05, 0.85, 0.05, 0.05]
      >>> keep = jnp.array([True, True, False, False])
      >>> jaxdiv.losses.smooth_labels(y, 0.2, where=keep).round(4).tolist()
      [0.1, 0.9, 0., 0.]

    References:
      Müller, Kornblith and Hinton, `When does label smoothing help?
      <https://arxiv.org/abs/1906.02629>`_, 2019.
    """
    if python_number(alpha) and not 0 <= alpha <= 1:
        raise ValueError(
            f"jaxdiv.losses.smooth_labels: alpha must lie in [0, 1], got {alpha}."
        )
    return _smooth(labels, alpha, where, static_axis(axis))


@jitted("axis")
def _smooth(labels, alpha, where, axis):
    name = "losses.smooth_labels"
    reject_integer(name, "labels", labels, "Convert them with jax.nn.one_hot.")
    labels = checks.floating(name, "labels", labels)
    ax = event_axes(name, axis, labels.ndim)
    alpha = jnp.asarray(alpha, labels.dtype)
    where = checks.mask(name, where, labels.shape)
    value_checks.probabilities(name, "labels", labels, ax, where)
    if where is None:
        k = math.prod(labels.shape[a] for a in ax)
        return (1.0 - alpha) * labels + alpha / k
    k = jnp.sum(where, axis=ax, keepdims=True).astype(labels.dtype)
    # masked entries hold anything (nan included): out of the gradient too
    labels = jnp.where(where, labels, 0.0)
    smoothed = (1.0 - alpha) * labels + alpha / jnp.where(k > 0, k, 1.0)
    return jnp.where(where, smoothed, 0.0)
