"""The order families on categorical distributions: Rényi, Tsallis, Amari alpha.

Each is a finish of one log-moment ``K(alpha)``, computed once in
:mod:`jaxdiv._core.orders`; this module validates the order, builds the
inputs and picks the family.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, inputs, orders, value_checks
from .._core.numerics import (
    in_base,
)
from .._core.types import Axis, AxisName

# --------------------------------------------------------------------------
# the order argument


def _check_traced_order(name, alpha, lower, allow_inf):
    if isinstance(alpha, float):
        return
    ok = alpha >= lower
    if not allow_inf:
        ok = ok & (alpha < jnp.inf)
    span = "finite" if lower == -math.inf else f">= {lower:g}"
    value_checks.check(name, ok, f"alpha must be {span}.")


def _order_arg(name, alpha, lower=0.0, allow_inf=True):
    alpha = checks.order(name, alpha, lower=lower, allow_inf=allow_inf)
    _check_traced_order(name, alpha, lower, allow_inf)
    return alpha


# --------------------------------------------------------------------------
# public: Rényi entropy


def renyi_entropy(
    p: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Rényi entropy of order ``alpha`` of categorical distributions.

    .. math::
       H_\alpha(p) = \frac{1}{1 - \alpha} \log \sum_{i:\,p_i > 0} p_i^\alpha,
       \qquad \alpha \in [0, 1) \cup (1, \infty)

    with its limits: :math:`H_0 = \log |\{i : p_i > 0\}|` (Hartley),
    :math:`H_1 = H` (Shannon, ``jaxdiv.entropy``) and
    :math:`H_\infty = -\log \max_i p_i` (min-entropy). :math:`H_\alpha` is
    non-increasing in :math:`\alpha` and continuous at 1: near it the sum is
    computed as :math:`\log(1 + \sum_i p_i\,\mathrm{expm1}((\alpha-1)\log
    p_i))`, so order :math:`1 \pm 10^{-7}` matches Shannon to float
    precision, and at :math:`\alpha = 1` exactly the Shannon formula is used.
    Entries with :math:`p_i = 0` are outside the support (:math:`0^\alpha =
    0`, also at order 0); their gradient is 0. A row with no support (all
    masked, or all ``-inf`` logits) is empty: 0 with zero gradient.

    Args:
      p: probabilities, shape ``[..., n]``; the event axis sums to 1.
      alpha: the order, in ``[0, inf]``: a Python number (the formula is
        chosen at trace time) or a scalar array, traced or not (every branch
        is evaluated safely; differentiable in ``alpha``, nan below 0).
      axis: event axis (int or tuple of ints) that is reduced.
      where: boolean mask broadcastable to ``p``; ``False`` entries are
        outside the support and change neither value nor gradient.
      base: logarithm base; ``None`` gives nats, ``2`` bits.

    Returns:
      ``p``'s shape without the event axes; float32 for 16-bit input.

    Raises:
      TypeError: ``p`` is not floating point.
      ValueError: a Python ``alpha`` that is negative or nan, a non-scalar
        ``alpha``, ``axis`` out of range or ``where`` not broadcastable.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p = jnp.array([0.5, 0.25, 0.25])
      >>> jaxdiv.renyi_entropy(p, alpha=2.0, base=2).round(4)  # -log2 sum p^2
      Array(1.415, dtype=float32)
      >>> jaxdiv.renyi_entropy(p, alpha=0.0, base=2).round(4)  # log2 of 3
      Array(1.585, dtype=float32)
      >>> float(jaxdiv.renyi_entropy(p, alpha=1.0, base=2))  # Shannon
      1.5

    References:
      Rényi, `On Measures of Entropy and Information
      <https://projecteuclid.org/euclid.bsmsp/1200512181>`_, 1961.
    """
    name = "renyi_entropy"
    alpha = _order_arg(name, alpha)
    p, lp, ax = inputs.one_prob(name, p, axis, where)
    return in_base(
        orders.order(
            orders.RENYI_ENTROPY, name, orders.terms(p, lp, None, ax), alpha, 0.0
        ),
        base,
    )


def renyi_entropy_from_logits(
    logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Rényi entropy of order ``alpha`` of ``softmax(logits)``, in log space.

    .. math:: H_\alpha = \frac{1}{1 - \alpha}\,
       \mathrm{logsumexp}_i(\alpha \log p_i), \qquad
       \log p = \mathrm{log\_softmax}(\ell)

    with the limits and conventions of :func:`renyi_entropy` (order 0 counts
    the categories with a finite logit, even where the softmax underflows).

    Args:
      logits: unnormalised log-probabilities, shape ``[..., n]``; ``-inf``
        marks an impossible category.
      alpha: the order, in ``[0, inf]`` (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries are left out of the softmax too.
      base: logarithm base; ``None`` gives nats.
      axis_name: inside ``shard_map``, the mesh axis across which the event
        axis is split; every device gets the value of the whole distribution.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating ``logits``.
      ValueError: a bad ``alpha`` (see :func:`renyi_entropy`), bad ``axis``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> logits = jnp.array([0.0, 0.0, 0.0, -jnp.inf])
      >>> jaxdiv.renyi_entropy_from_logits(logits, alpha=jnp.inf).round(4)
      Array(1.0986, dtype=float32)

    References:
      Rényi, `On Measures of Entropy and Information
      <https://projecteuclid.org/euclid.bsmsp/1200512181>`_, 1961.
    """
    name = "renyi_entropy_from_logits"
    alpha = _order_arg(name, alpha)
    p, lp, ax = inputs.one_logits(name, logits, axis, where, axis_name)
    t = orders.terms(p, lp, None, ax, axis_name)
    return in_base(orders.order(orders.RENYI_ENTROPY, name, t, alpha, 0.0), base)


# --------------------------------------------------------------------------
# public: Rényi divergence


def renyi_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Rényi divergence of order ``alpha``, :math:`D_\alpha(p \| q)`.

    .. math::
       D_\alpha(p \| q) = \frac{1}{\alpha - 1}
       \log \sum_{i:\,p_i > 0} p_i^\alpha q_i^{1 - \alpha},
       \qquad \alpha \in [0, 1) \cup (1, \infty)

    with its limits: :math:`D_0 = -\log \sum_{i:\,p_i > 0} q_i` (minus the
    log of q's mass on p's support), :math:`D_1 = D_{KL}(p \| q)` and
    :math:`D_\infty = \log \max_{i:\,p_i>0} p_i / q_i`. Non-decreasing in
    :math:`\alpha`; continuous at 1 (see :func:`renyi_entropy`), so order
    :math:`1 \pm 10^{-7}` matches ``kl_divergence`` to float precision.

    Where :math:`p_i > 0 = q_i` the term is :math:`+\infty` above order 1
    (the divergence is ``+inf``, as KL) and 0 below it (finite divergence);
    disjoint supports give ``+inf`` at every order. Never negative (rounding
    is clamped to 0). A row where ``p`` has no support is empty: 0 with zero
    gradient.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      alpha: the order, in ``[0, inf]``: a Python number or a scalar array
        (traced: differentiable in ``alpha``, nan below 0).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: logarithm base; ``None`` gives nats.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes, a negative or nan Python ``alpha``, a non-scalar
        ``alpha``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.renyi_divergence(p, q, alpha=2.0).round(4)  # log sum p^2 / q
      Array(1.0217, dtype=float32)
      >>> jaxdiv.renyi_divergence(p, q, alpha=1.0).round(4)  # KL
      Array(0.5108, dtype=float32)
      >>> jaxdiv.renyi_divergence(p, q, alpha=jnp.inf).round(4)  # log 5
      Array(1.6094, dtype=float32)

    References:
      van Erven and Harremoës, `Rényi Divergence and Kullback-Leibler
      Divergence <https://doi.org/10.1109/TIT.2014.2320500>`_, 2014.
    """
    name = "renyi_divergence"
    alpha = _order_arg(name, alpha)
    p, lp, q, lq, ax = inputs.two_probs(name, p, q, axis, where)
    t = orders.near_terms_of_probs(p, lp, q, lq, ax)
    return in_base(orders.order(orders.RENYI_DIVERGENCE, name, t, alpha, 0.0), base)


def renyi_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r""":math:`D_\alpha(p \| q)` with both distributions given as logits.

    .. math:: D_\alpha = \frac{1}{\alpha - 1}\,\mathrm{logsumexp}_i\big(
       \alpha \log p_i + (1 - \alpha) \log q_i\big)

    computed from log-softmaxes, never from probabilities, with the limits
    and conventions of :func:`renyi_divergence`; ``-inf`` in ``q_logits``
    where ``p`` has mass is :math:`q_i = 0 < p_i`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      alpha: the order, in ``[0, inf]`` (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: logarithm base; ``None`` gives nats.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes or a bad ``alpha`` (see :func:`renyi_divergence`).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.renyi_divergence_from_logits(a, b, alpha=0.5).round(4)
      Array(0.2231, dtype=float32)

    References:
      van Erven and Harremoës, `Rényi Divergence and Kullback-Leibler
      Divergence <https://doi.org/10.1109/TIT.2014.2320500>`_, 2014.
    """
    name = "renyi_divergence_from_logits"
    alpha = _order_arg(name, alpha)
    pair = inputs.near_logit_pair(name, p_logits, q_logits, axis, where, axis_name)
    t = orders.near_terms_of_logits(pair, axis_name)
    return in_base(orders.order(orders.RENYI_DIVERGENCE, name, t, alpha, 0.0), base)


# --------------------------------------------------------------------------
# public: Tsallis entropy


def tsallis_entropy(
    p: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Tsallis entropy of order ``alpha`` (Havrda-Charvát structural entropy).

    .. math::
       S_\alpha(p) = \frac{1 - \sum_{i:\,p_i>0} p_i^\alpha}{\alpha - 1}
       = \frac{1 - e^{(1 - \alpha) H_\alpha(p)}}{\alpha - 1},
       \qquad \alpha \in [0, 1) \cup (1, \infty)

    (:math:`H_\alpha` the Rényi entropy), with the limits
    :math:`S_0 = |\{i : p_i > 0\}| - 1`, :math:`S_1 = H(p)` (Shannon, in
    nats) and :math:`S_\infty = 0`; :math:`S_2 = 1 - \sum p_i^2` is the Gini
    impurity. Continuous at 1 (``expm1`` of the log-moment, see
    :func:`renyi_entropy`). Tsallis entropy has no logarithm outside the
    limit: ``base`` divides by :math:`\log(\text{base})`, which makes the
    order-1 limit the Shannon entropy in that base. Conventions for zeros,
    masks and empty rows as :func:`renyi_entropy`.

    Args:
      p: probabilities, shape ``[..., n]``.
      alpha: the order (Tsallis' ``q``), in ``[0, inf]``: a Python number or
        a scalar array (traced: differentiable in ``alpha``, nan below 0).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to ``p``.
      base: ``None`` (natural units), or a base whose log divides the value.

    Returns:
      The batch shape.

    Raises:
      TypeError: ``p`` is not floating point.
      ValueError: a negative or nan Python ``alpha``, a non-scalar ``alpha``,
        bad ``axis`` or ``where``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p = jnp.array([0.5, 0.25, 0.25])
      >>> float(jaxdiv.tsallis_entropy(p, alpha=2.0))  # Gini impurity
      0.625
      >>> float(jaxdiv.tsallis_entropy(p, alpha=0.0))  # support size - 1
      2.0

    References:
      Tsallis, `Possible generalization of Boltzmann-Gibbs statistics
      <https://doi.org/10.1007/BF01016429>`_, 1988.
    """
    name = "tsallis_entropy"
    alpha = _order_arg(name, alpha)
    p, lp, ax = inputs.one_prob(name, p, axis, where)
    return in_base(
        orders.order(orders.TSALLIS, name, orders.terms(p, lp, None, ax), alpha, 0.0),
        base,
    )


def tsallis_entropy_from_logits(
    logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Tsallis entropy of order ``alpha`` of ``softmax(logits)``.

    .. math:: S_\alpha = \frac{1 - \exp \mathrm{logsumexp}_i(\alpha \log p_i)}
       {\alpha - 1}, \qquad \log p = \mathrm{log\_softmax}(\ell)

    with the limits and conventions of :func:`tsallis_entropy`.

    Args:
      logits: unnormalised log-probabilities, shape ``[..., n]``.
      alpha: the order, in ``[0, inf]`` (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries are left out of the softmax too.
      base: ``None``, or a base whose log divides the value.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating ``logits``.
      ValueError: a bad ``alpha`` (see :func:`tsallis_entropy`), bad ``axis``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> float(jaxdiv.tsallis_entropy_from_logits(jnp.zeros(4), alpha=2.0))
      0.75

    References:
      Tsallis, `Possible generalization of Boltzmann-Gibbs statistics
      <https://doi.org/10.1007/BF01016429>`_, 1988.
    """
    name = "tsallis_entropy_from_logits"
    alpha = _order_arg(name, alpha)
    p, lp, ax = inputs.one_logits(name, logits, axis, where, axis_name)
    t = orders.terms(p, lp, None, ax, axis_name)
    return in_base(orders.order(orders.TSALLIS, name, t, alpha, 0.0), base)


# --------------------------------------------------------------------------
# public: Amari's alpha-divergence


def alpha_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Amari's alpha-divergence, parameterised so that order 1 is KL(p‖q).

    .. math::
       D_\alpha(p \| q) = \frac{1 - \sum_i p_i^\alpha q_i^{1 - \alpha}}
       {\alpha (1 - \alpha)}, \qquad \alpha \in \mathbb{R} \setminus \{0, 1\}

    with the limits :math:`D_1 = D_{KL}(p \| q)` and
    :math:`D_0 = D_{KL}(q \| p)`; :math:`D_\alpha(p \| q) =
    D_{1-\alpha}(q \| p)`, :math:`D_{1/2} = 4 H^2(p, q)` (squared
    :func:`hellinger_distance`), :math:`D_2 = \chi^2(p \| q) / 2` and
    :math:`D_{-1} = \chi^2(q \| p) / 2`. It is the f-divergence of
    :math:`f(t) = (t^\alpha - \alpha t + \alpha - 1) / (\alpha(\alpha - 1))`
    and relates to :func:`renyi_divergence` by :math:`D_\alpha = (1 -
    e^{-(1-\alpha) D^{R}_\alpha}) / (\alpha (1 - \alpha))`.

    Conventions: this is the form of Cichocki and Amari (2010) on normalised
    distributions (Zhu and Rohwer's :math:`\delta`-divergence); Amari's
    original :math:`\alpha'` is :math:`1 - 2\alpha` here. Terms with
    :math:`p_i = q_i = 0` are 0; :math:`p_i > 0 = q_i` makes the divergence
    ``+inf`` for :math:`\alpha \ge 1` (finite below), and :math:`q_i > 0 =
    p_i` for :math:`\alpha \le 0`. Continuous at 0 and 1 (computed with
    ``expm1``/``log1p`` near them; at 0 and 1 exactly, the KL formula).
    Never negative. A row where ``p`` has no support is empty: 0. ``base``
    divides by :math:`\log(\text{base})`, so the limits are KL in that base.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      alpha: the order, any finite real: a Python number or a scalar array
        (traced: differentiable in ``alpha``).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: ``None`` (nats at the KL limits), or a base whose log divides.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes, a nan or infinite Python ``alpha``, a
        non-scalar ``alpha``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.alpha_divergence(p, q, alpha=1.0).round(4)  # KL(p || q)
      Array(0.5108, dtype=float32)
      >>> jaxdiv.alpha_divergence(p, q, alpha=0.0).round(4)  # KL(q || p)
      Array(0.3681, dtype=float32)
      >>> jaxdiv.alpha_divergence(p, q, alpha=2.0).round(4)  # chi^2 / 2
      Array(0.8889, dtype=float32)

    References:
      Amari, `Alpha-divergence is unique, belonging to both f-divergence and
      Bregman divergence classes <https://doi.org/10.1109/TIT.2009.2030485>`_,
      2009.

      Cichocki and Amari, `Families of Alpha- Beta- and Gamma- Divergences
      <https://doi.org/10.3390/e12061532>`_, 2010.
    """
    name = "alpha_divergence"
    alpha = _order_arg(name, alpha, lower=-math.inf, allow_inf=False)
    p, lp, q, lq, ax = inputs.two_probs(name, p, q, axis, where)
    fwd = orders.near_terms_of_probs(p, lp, q, lq, ax)
    bwd = orders.near_terms_of_probs(q, lq, p, lp, ax)
    return in_base(orders.amari(name, fwd, bwd, alpha), base)


def alpha_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    alpha: float | ArrayLike,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Amari's alpha-divergence with both distributions given as logits.

    .. math:: D_\alpha = \frac{1 - \exp \mathrm{logsumexp}_i(\alpha \log p_i
       + (1 - \alpha) \log q_i)}{\alpha (1 - \alpha)}

    from log-softmaxes, with the conventions of :func:`alpha_divergence`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      alpha: the order, any finite real (Python number or scalar array).
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: ``None``, or a base whose log divides the value.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: bad shapes or a bad ``alpha``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.alpha_divergence_from_logits(a, b, alpha=0.5).round(4)
      Array(0.4223, dtype=float32)

    References:
      Cichocki and Amari, `Families of Alpha- Beta- and Gamma- Divergences
      <https://doi.org/10.3390/e12061532>`_, 2010.
    """
    name = "alpha_divergence_from_logits"
    alpha = _order_arg(name, alpha, lower=-math.inf, allow_inf=False)
    pair = inputs.near_logit_pair(name, p_logits, q_logits, axis, where, axis_name)
    fwd = orders.near_terms_of_logits(pair, axis_name)
    bwd = orders.near_terms_of_logits(pair, axis_name, reverse=True)
    return in_base(orders.amari(name, fwd, bwd, alpha), base)
