r"""Mutual information, conditional entropy and perplexity.

Mutual information and conditional entropy act on a joint table
:math:`p(x, y)` whose two event axes are named by an *ordered* pair
``axis=(x_axis, y_axis)``; every other axis is a batch axis. Both are written
with ``jaxdiv._measures.categorical``'s formulas on ``(p, log p)`` pairs, the marginals
coming from sums (probabilities) or masked log-sum-exps (logits), so zeros,
masks, ``-inf`` logits and empty tables behave as for the core measures.
Perplexity is the exponential of an entropy or a cross-entropy.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, formulas, inputs, value_checks
from .._core.numerics import (
    clamp_nonnegative,
    in_base,
    log_normalizer,
    log_softmax,
    safe_log,
    support_of,
)
from .._core.types import AxisName

AxisPair = Sequence[int]


def _joint_prob(name, joint, axis, where):
    xa, ya = checks.axis_pair(name, axis, jnp.ndim(joint))
    p, lp, ax = inputs.one_prob(name, joint, (xa, ya), where)
    return p, lp, ax, xa, ya


def _joint_logits(name, logits, axis, where):
    xa, ya = checks.axis_pair(name, axis, jnp.ndim(logits))
    p, lp, ax = inputs.one_logits(name, logits, (xa, ya), where)
    return p, lp, ax, xa, ya


def _log_marginal(lp, over):
    """``log sum`` of a joint's probabilities over axis ``over`` (kept, size 1).

    An all-zero slice gives 0 rather than ``-inf``; every joint entry it
    divides is 0 itself, so the value and the gradient are untouched.
    """
    return log_normalizer(lp, (over,), None, True)


# --------------------------------------------------------------------------
# mutual information


def mutual_information(
    joint: ArrayLike,
    *,
    axis: AxisPair = (-2, -1),
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Mutual information :math:`I(X; Y)` of a joint probability table.

    .. math::
       I(X; Y) = \sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)\, p(y)}
       = D_{KL}\big(p_{XY} \,\|\, p_X \otimes p_Y\big)
       = H(X) + H(Y) - H(X, Y)

    with :math:`p(x) = \sum_y p(x, y)` and :math:`p(y) = \sum_x p(x, y)`.
    Computed as the KL form (no cancellation between entropies), so it is
    never negative and is 0 up to rounding for a product table. Symmetric in
    X and Y. Entries with :math:`p(x, y) = 0` contribute 0 with zero
    gradient; ``False`` entries of ``where`` are removed from the table
    (the marginals are those of the kept entries).

    Args:
      joint: probabilities :math:`p(x, y)`, shape ``[..., n_x, n_y]`` by
        default; the two event axes sum to 1.
      axis: the ordered pair ``(x_axis, y_axis)`` of event axes; the
        others are batch axes.
      where: boolean mask broadcastable to ``joint``.
      base: logarithm base; ``None`` gives nats, ``2`` bits.

    Returns:
      ``joint``'s shape without the two event axes.

    Raises:
      TypeError: non-floating ``joint``.
      ValueError: ``axis`` not a pair of distinct axes, ``where`` not
        broadcastable.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> same = jnp.array([[0.5, 0.0], [0.0, 0.5]])  # Y = X, a fair bit
      >>> jaxdiv.mutual_information(same, base=2)
      Array(1., dtype=float32)
      >>> product = jnp.outer(jnp.array([0.3, 0.7]), jnp.array([0.6, 0.4]))
      >>> jaxdiv.mutual_information(product).round(6)
      Array(0., dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (chapter 2).
    """
    p, lp, ax, xa, ya = _joint_prob("mutual_information", joint, axis, where)
    px = jnp.sum(p, axis=ya, keepdims=True)
    py = jnp.sum(p, axis=xa, keepdims=True)
    return in_base(formulas.kl(p, lp, safe_log(px) + safe_log(py), ax), base)


def mutual_information_from_logits(
    logits: ArrayLike,
    *,
    axis: AxisPair = (-2, -1),
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Mutual information of the joint table ``softmax(logits)``.

    .. math:: I(X; Y) = \sum_{x,y} p(x, y) \big(\log p(x, y) - \log p(x) -
       \log p(y)\big), \qquad \log p = \mathrm{log\_softmax}_{(x, y)}(\ell)

    where the softmax runs over both event axes together and the log
    marginals are masked log-sum-exps of :math:`\log p`. ``-inf`` logits and
    ``False`` entries of ``where`` are impossible pairs. Conventions as
    :func:`mutual_information`; an empty table gives 0.

    Args:
      logits: unnormalised joint log-probabilities, shape
        ``[..., n_x, n_y]`` by default.
      axis: the ordered pair ``(x_axis, y_axis)`` of event axes.
      where: boolean mask; ``False`` entries leave the softmax.
      base: logarithm base; ``None`` gives nats.

    Returns:
      ``logits``' shape without the two event axes.

    Raises:
      TypeError: non-floating ``logits``.
      ValueError: ``axis`` not a pair of distinct axes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> logits = jnp.array([[0.0, -jnp.inf], [-jnp.inf, 0.0]])
      >>> jaxdiv.mutual_information_from_logits(logits, base=2)
      Array(1., dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (chapter 2).
    """
    p, lp, ax, xa, ya = _joint_logits(
        "mutual_information_from_logits", logits, axis, where
    )
    lm = _log_marginal(lp, ya) + _log_marginal(lp, xa)
    return in_base(formulas.kl(p, lp, lm, ax), base)


# --------------------------------------------------------------------------
# conditional entropy


def conditional_entropy(
    joint: ArrayLike,
    *,
    axis: AxisPair = (-2, -1),
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Conditional entropy :math:`H(Y \mid X)` of a joint probability table.

    .. math::
       H(Y \mid X) = -\sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)}
       = H(X, Y) - H(X), \qquad p(x) = \sum_y p(x, y)

    ``axis = (x_axis, y_axis)`` is ordered: the variable of the **first**
    axis is the one conditioned on. With the default ``(-2, -1)`` and a
    table ``joint[x, y]``, this is the entropy of the column given the row;
    ``axis=(-1, -2)`` gives :math:`H(X \mid Y)`. Computed term by term
    (:math:`-\log p(y \mid x) \ge 0`, no cancellation), so it is never
    negative and is exactly 0 when Y is a function of X. Zeros, masks and
    gradients as :func:`mutual_information`.

    Args:
      joint: probabilities :math:`p(x, y)`, shape ``[..., n_x, n_y]`` by
        default; the two event axes sum to 1.
      axis: the ordered pair ``(x_axis, y_axis)``: the entropy of the
        ``y_axis`` variable given the ``x_axis`` variable.
      where: boolean mask broadcastable to ``joint``.
      base: logarithm base; ``None`` gives nats, ``2`` bits.

    Returns:
      ``joint``'s shape without the two event axes.

    Raises:
      TypeError: non-floating ``joint``.
      ValueError: ``axis`` not a pair of distinct axes, ``where`` not
        broadcastable.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> joint = jnp.array([[0.25, 0.25], [0.5, 0.0]])  # Y fair if X=0, else 0
      >>> float(jaxdiv.conditional_entropy(joint, base=2))  # H(Y | X)
      0.5
      >>> jaxdiv.conditional_entropy(joint, axis=(-1, -2), base=2).round(4)
      Array(0.6887, dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (chapter 2).
    """
    p, lp, ax, _, ya = _joint_prob("conditional_entropy", joint, axis, where)
    px = jnp.sum(p, axis=ya, keepdims=True)
    return in_base(
        clamp_nonnegative(formulas.cross_entropy(p, lp - safe_log(px), ax)), base
    )


def conditional_entropy_from_logits(
    logits: ArrayLike,
    *,
    axis: AxisPair = (-2, -1),
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Conditional entropy :math:`H(Y \mid X)` of ``softmax(logits)``.

    .. math:: H(Y \mid X) = -\sum_{x, y} p(x, y) \log p(y \mid x), \qquad
       \log p(y \mid x) = \log p(x, y) - \mathrm{logsumexp}_y \log p(x, y)

    with :math:`\log p` the log-softmax over both event axes. The first axis
    of ``axis`` is conditioned on (see :func:`conditional_entropy`).

    Args:
      logits: unnormalised joint log-probabilities, shape
        ``[..., n_x, n_y]`` by default.
      axis: the ordered pair ``(x_axis, y_axis)``.
      where: boolean mask; ``False`` entries leave the softmax.
      base: logarithm base; ``None`` gives nats.

    Returns:
      ``logits``' shape without the two event axes.

    Raises:
      TypeError: non-floating ``logits``.
      ValueError: ``axis`` not a pair of distinct axes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> logits = jnp.log(jnp.array([[0.25, 0.25], [0.5, 0.0]]))
      >>> float(jaxdiv.conditional_entropy_from_logits(logits, base=2))
      0.5

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006 (chapter 2).
    """
    p, lp, ax, _, ya = _joint_logits(
        "conditional_entropy_from_logits", logits, axis, where
    )
    h = formulas.cross_entropy(p, lp - _log_marginal(lp, ya), ax)
    return in_base(clamp_nonnegative(h), base)


# --------------------------------------------------------------------------
# perplexity


def perplexity(
    p: ArrayLike,
    q: ArrayLike | None = None,
    *,
    axis: int | Sequence[int] = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Perplexity: the exponential of the entropy, or of the cross-entropy.

    .. math:: \mathrm{PP}(p) = e^{H(p)}, \qquad \mathrm{PP}(p, q) = e^{H(p, q)}
       = e^{-\sum_i p_i \log q_i}

    :math:`\mathrm{PP}(p)` is the effective number of categories (``n``
    for a uniform ``p``, 1 for a one-hot); :math:`\mathrm{PP}(p, q)`, with
    ``q`` given, is the perplexity of a model ``q`` on data distributed as
    ``p`` (``+inf`` where ``p`` has mass that ``q`` has not). The same for
    every logarithm base (:math:`b^{H_b} = e^{H}`), so there is no ``base``.
    An empty row (all masked) has perplexity 1, with zero gradient.

    Args:
      p: probabilities, shape ``[..., n]`` (the data distribution).
      q: optional model probabilities, same shape as ``p`` or exactly the
        event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes, ``axis`` or ``where``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.perplexity(jnp.full(8, 1 / 8)).round(4)
      Array(8., dtype=float32)
      >>> jaxdiv.perplexity(jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])).round(4)
      Array(3.3333, dtype=float32)

    References:
      Jelinek, Mercer, Bahl and Baker, `Perplexity - a measure of the
      difficulty of speech recognition tasks
      <https://doi.org/10.1121/1.2016299>`_, 1977.
    """
    if q is None:
        p, lp, ax = inputs.one_prob("perplexity", p, axis, where)
        return jnp.exp(formulas.entropy(p, lp, ax))
    p, _, q, lq, ax = inputs.two_probs("perplexity", p, q, axis, where)
    return jnp.exp(formulas.cross_entropy(p, lq, ax))


def perplexity_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike | None = None,
    *,
    axis: int | Sequence[int] = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Perplexity of ``softmax(p_logits)``, or of a model's logits on it.

    .. math:: \mathrm{PP} = e^{H(p)} \quad\text{or}\quad e^{H(p, q)}, \qquad
       p = \mathrm{softmax}(\ell_p),\ q = \mathrm{softmax}(\ell_q)

    Conventions as :func:`perplexity`; for integer targets see
    :func:`perplexity_with_integer_labels`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: optional logits of the model ``q``, same shape or exactly the
        event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave the softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.perplexity_from_logits(jnp.array([0.0, 0.0, -jnp.inf])).round(4)
      Array(2., dtype=float32)
    """
    name = "perplexity_from_logits"
    if q_logits is None:
        p, lp, ax = inputs.one_logits(name, p_logits, axis, where, axis_name)
        return jnp.exp(formulas.entropy(p, lp, ax, axis_name))
    p, _, _, lq, ax = inputs.two_logits(
        name, p_logits, q_logits, axis, where, axis_name
    )
    return jnp.exp(formulas.cross_entropy(p, lq, ax, axis_name))


def perplexity_with_integer_labels(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    where: ArrayLike | None = None,
    token_axis: int | Sequence[int] | None = -1,
) -> jax.Array:
    r"""Token-level perplexity of a model on integer targets (language models).

    .. math:: \mathrm{PP} = \exp\Big(\frac{1}{|T|} \sum_{t \in T}
       -\log \mathrm{softmax}(\ell_t)_{y_t}\Big)

    the exponential of the mean negative log-likelihood over the kept tokens
    :math:`T` along ``token_axis`` (the sequence, by default). A token is
    kept unless its row of logits has no support: ``where`` given with the
    labels' shape is a token mask (``False`` for padding, as
    ``where=labels != -100``); given with the logits' shape it masks
    categories too, as in the other measures, and a token whose row is all
    ``False`` or all ``-inf`` is padding. Padding tokens change neither value
    nor gradient; a sequence with no kept token has perplexity 1. A label on
    an impossible category (``-inf`` logit) gives ``+inf``.

    Args:
      logits: unnormalised log-probabilities, shape ``[..., T, V]`` (or any
        shape with the class axis ``axis``).
      labels: integer targets in ``[0, V)``, the logits' shape without the
        class axis, e.g. ``[..., T]``.
      axis: the class axis of ``logits`` (one int).
      where: boolean token mask of the labels' shape, or a mask
        broadcastable to ``logits``.
      token_axis: axis or axes of ``labels`` averaged over (default the last
        one, per-sequence perplexities); ``None`` averages every token
        (corpus perplexity, a scalar).

    Returns:
      ``labels``' shape without ``token_axis``.

    Raises:
      TypeError: non-floating ``logits`` or non-integer ``labels``.
      ValueError: ``labels`` not of the logits' shape without the class axis,
        or a bad ``token_axis`` / ``where``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> logits = jnp.log(jnp.array([[[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]]))
      >>> labels = jnp.array([[0, 1, 1]])
      >>> keep = jnp.array([[True, True, False]])  # the last token is padding
      >>> jaxdiv.perplexity_with_integer_labels(logits, labels, where=keep).round(4)
      Array([1.633], dtype=float32)

    References:
      Jelinek, Mercer, Bahl and Baker, `Perplexity - a measure of the
      difficulty of speech recognition tasks
      <https://doi.org/10.1121/1.2016299>`_, 1977.
    """
    name = "perplexity_with_integer_labels"
    logits = checks.floating(name, "logits", logits)
    labels, ax = checks.labels_for(name, logits, labels, axis)
    if where is not None:
        where = jnp.asarray(where)
        if where.ndim == labels.ndim and logits.ndim == labels.ndim + 1:
            where = jnp.expand_dims(where, ax)
    where = checks.mask(name, where, logits.shape)
    value_checks.no_nan_or_posinf(name, "logits", logits, where)
    value_checks.label_range(name, labels, logits.shape[ax])
    if token_axis is None:
        tokens = tuple(range(labels.ndim))
    else:
        tokens = checks.axes(name, token_axis, labels.ndim)
    logp = log_softmax(logits, (ax,), where)
    kept = jnp.any(support_of(logits, where), axis=ax)
    safe = jnp.expand_dims(jnp.where(kept, labels, 0), ax)
    nll = -jnp.squeeze(jnp.take_along_axis(logp, safe, axis=ax), ax)
    nll = jnp.where(kept, nll, 0.0)
    count = jnp.sum(kept, axis=tokens).astype(nll.dtype)
    mean = jnp.sum(nll, axis=tokens) / jnp.maximum(count, 1.0)
    return jnp.exp(mean)
