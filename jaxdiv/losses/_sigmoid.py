r"""Sigmoid (Bernoulli) losses with optax's names: binary cross-entropy, focal.

Each is the Bernoulli cross-entropy of :mod:`jaxdiv._measures.bernoulli` on
logits, elementwise, in optax's ``(logits, labels)`` order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, formulas
from .._core.numerics import (
    log_mix,
    weighted,
)
from .._measures import bernoulli as bernoulli_measures
from ._common import (
    jitted,
)

_PAIR = (-1,)


# --------------------------------------------------------------------------
# sigmoid (Bernoulli) losses


def _binary_parts(name, logits, labels, pos_weight=None):
    """``(target pair, log-prediction pair)`` on a trailing two-category axis."""
    logits = checks.floating(name, "logits", logits)
    labels = jnp.asarray(labels)
    if jnp.issubdtype(labels.dtype, jnp.integer) or labels.dtype == jnp.bool_:
        labels = labels.astype(logits.dtype)  # {0, 1} labels, as optax allows
    logits, labels = checks.floatings(name, logits=logits, labels=labels)
    checks.same_shape(name, logits=logits, labels=labels)
    two_p, _ = bernoulli_measures.pair_from_probs(name, "labels", labels, None)
    _, logs_q = bernoulli_measures.pair_from_logits(name, "logits", logits, None)
    if pos_weight is not None:
        pw = jnp.asarray(pos_weight, two_p.dtype)
        try:
            pw = jnp.broadcast_to(pw, logits.shape)
        except ValueError:
            raise ValueError(
                f"jaxdiv.{name}: pos_weight has shape {pw.shape}, which does not "
                f"broadcast to the logits' shape {logits.shape}."
            ) from None
        two_p = two_p * jnp.stack([jnp.ones_like(pw), pw], axis=-1)
    return labels, logits, two_p, logs_q


def sigmoid_binary_cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    pos_weight: ArrayLike | None = None,
) -> jax.Array:
    r"""Elementwise sigmoid (logistic) cross-entropy.

    .. math:: \ell(x, y) = -w\, y \log \sigma(x) - (1 - y) \log \sigma(-x)

    with :math:`w` = ``pos_weight`` (1 by default): the Bernoulli
    cross-entropy ``jaxdiv.binary_cross_entropy(y, sigmoid(x))`` in log
    space. Exact for infinite logits: ``x = +inf`` with ``y = 1`` gives 0
    and a finite gradient (optax: nan); ``x = -inf`` with ``y > 0`` gives
    ``+inf``.

    Args:
      logits: log-odds of the positive class, any shape.
      labels: target probabilities in ``[0, 1]``, same shape; integer or
        boolean ``{0, 1}`` labels are accepted and cast, as in optax.
      pos_weight: weight of the positive term, broadcastable to ``logits``
        (e.g. one per class, ``num_negatives / num_positives``), as
        PyTorch's ``BCEWithLogitsLoss``.

    Returns:
      Elementwise losses, the logits' shape.

    Raises:
      TypeError: integer logits.
      ValueError: shapes that differ (no implicit broadcasting).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> logits = jnp.array([0.0, 2.0, jnp.inf])
      >>> labels = jnp.array([1.0, 0.0, 1.0])
      >>> jaxdiv.losses.sigmoid_binary_cross_entropy(logits, labels).round(4).tolist()
      [0.6931, 2.1269, 0.]

    References:
      Goodfellow et al., `Deep Learning
      <http://www.deeplearningbook.org/contents/prob.html>`_, 2016.
    """
    return _sigmoid_bce(logits, labels, pos_weight)


@jitted()
def _sigmoid_bce(logits, labels, pos_weight):
    name = "losses.sigmoid_binary_cross_entropy"
    _, _, two_p, logs_q = _binary_parts(name, logits, labels, pos_weight)
    return formulas.cross_entropy_of_targets(two_p, logs_q, _PAIR)


def sigmoid_focal_loss(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    alpha: ArrayLike | None = None,
    gamma: ArrayLike = 2.0,
) -> jax.Array:
    r"""Sigmoid focal loss: the sigmoid cross-entropy scaled by
    :math:`\alpha_t (1 - p_t)^\gamma`.

    .. math:: \ell(x, y) = \alpha_t\, (1 - p_t)^\gamma\,
       \mathrm{BCE}(x, y), \qquad
       1 - p_t = (1 - y)\,\sigma(x) + y\,\sigma(-x), \quad
       \alpha_t = \alpha y + (1 - \alpha)(1 - y)

    :math:`\log(1 - p_t)` is computed as a log-space mixture, so the loss and
    its first and second derivatives are finite for every logit (``±inf``
    included) and every ``gamma >= 0``.

    Args:
      logits: log-odds, any shape.
      labels: targets in ``[0, 1]`` (soft labels allowed), same shape.
      alpha: weight of the positive class in ``(0, 1)``, or ``None``.
      gamma: focusing exponent ``>= 0``; ``0`` gives the cross-entropy.

    Returns:
      Elementwise losses, the logits' shape.

    Raises:
      TypeError: integer logits.
      ValueError: shapes that differ.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> logits = jnp.array([2.0, -2.0, jnp.inf])
      >>> labels = jnp.array([1.0, 1.0, 1.0])
      >>> jaxdiv.losses.sigmoid_focal_loss(logits, labels).round(4).tolist()
      [0.0018, 1.6501, 0.]

    References:
      Lin et al., `Focal Loss for Dense Object Detection
      <https://arxiv.org/abs/1708.02002>`_, 2017.
    """
    return _focal(logits, labels, alpha, gamma)


def _binary_label_slope(labels, ce, log_p, log_not_p, gamma):
    r"""0, whose derivative in ``labels`` is the part of the focal loss's
    that :func:`log_mix` drops at binary labels.

    ``1 - p_t = (1 - y) p + y (1 - p)`` is linear in ``y``, so at ``y = 1``
    the derivative of :math:`\log(1 - p_t)` has a term :math:`-p / (1 - p)`
    from the weight ``1 - y = 0`` (and at ``y = 0`` a term :math:`(1 - p) /
    p` from ``y``), which the zero-safe log of that weight gives as 0. The
    loss's part is :math:`\mp\gamma\, \mathrm{ce}\, e^{\log p_\pm +
    (\gamma - 1) \log(1 - p_t)}`, formed in log space (finite for every
    logit and ``gamma``) and added as ``(y - stop_gradient(y)) * slope``,
    which is exactly 0. (optax 0.2.8 drops the same term.)
    """
    one, zero = labels == 1, labels == 0
    # at y = 1: 1 - p_t = 1 - p, the dropped term is -p / (1 - p); at y = 0
    # it is +(1 - p) / p with 1 - p_t = p
    log_m = jnp.where(one, log_not_p, log_p)
    log_other = jnp.where(one, log_p, log_not_p)
    e = jnp.log(ce) + log_other + (gamma - 1.0) * log_m
    e = jnp.where(jnp.isnan(e), -jnp.inf, e)  # (x = +-inf, gamma < 1: ce = 0)
    slope = jnp.where(one, -gamma, gamma) * jnp.exp(e)
    slope = jnp.where((one | zero) & jnp.isfinite(slope), slope, 0.0)
    slope = jax.lax.stop_gradient(slope)
    return (labels - jax.lax.stop_gradient(labels)) * slope


@jitted()
def _focal(logits, labels, alpha, gamma):
    name = "losses.sigmoid_focal_loss"
    labels, logits, two_p, logs_q = _binary_parts(name, logits, labels)
    ce = formulas.cross_entropy_of_targets(two_p, logs_q, _PAIR)
    log_p, log_not_p = logs_q[..., 1], logs_q[..., 0]
    log_one_minus_pt = log_mix(log_p, log_not_p, 1.0 - labels)
    gamma = jnp.asarray(gamma, ce.dtype)
    loss = ce * jnp.exp(weighted(gamma, log_one_minus_pt))
    loss = loss + _binary_label_slope(labels, ce, log_p, log_not_p, gamma)
    if alpha is None:
        return loss
    alpha = jnp.asarray(alpha, ce.dtype)
    return (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss
