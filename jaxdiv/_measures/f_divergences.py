"""The f-divergence family, with Hellinger, total variation and chi-squared.

Each divergence is one formula of :mod:`jaxdiv._core.formulas` on the
``(p, log p, q, log q)`` pairs of :mod:`jaxdiv._core.inputs`, in a
probability and a logits form.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, formulas, inputs
from .._core.numerics import (
    in_base,
    safe_sqrt,
)
from .._core.types import Axis, AxisName

# --------------------------------------------------------------------------
# public: f-divergences


def f_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    f: Callable[[jax.Array], jax.Array],
    slope_at_infinity: float | ArrayLike | None = None,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
) -> jax.Array:
    r"""Csiszár f-divergence :math:`D_f(p \| q)` for a convex generator ``f``.

    .. math::
       D_f(p \| q) = \sum_i q_i\, f\!\left(\frac{p_i}{q_i}\right), \qquad
       f \text{ convex on } [0, \infty),\ f(1) = 0

    Every term is the perspective :math:`q f(p / q)` continued to the
    boundary (Liese and Vajda): :math:`0 \cdot f(0/0) = 0`; where
    :math:`q_i = 0 < p_i` the term is :math:`p_i f'(\infty)` with
    :math:`f'(\infty) = \lim_{t\to\infty} f(t)/t`, the ``slope_at_infinity``
    (``None``: ``+inf``, right for every ``f`` that grows faster than
    linearly, such as KL and chi^2; bounded divergences must pass it); where
    :math:`p_i = 0 < q_i` it is :math:`q_i f(0)`, with ``f`` evaluated at 0
    (write ``f`` so that ``f(0)`` is its right limit, e.g.
    ``jax.scipy.special.xlogy(t, t)`` rather than ``t * log(t)``). Where
    :math:`p_i > q_i` the term is computed as :math:`p_i f(t)/t`, ``t =
    exp(log p - log q)``; a ratio beyond the float range is replaced by its
    limit, ``slope_at_infinity`` (exact for bounded divergences such as TV
    and Hellinger, ``+inf`` for the others).

    Common generators, with their ``slope_at_infinity``:

    - KL(p ‖ q): ``xlogy(t, t)``, ``inf`` (the default);
    - KL(q ‖ p): ``-log(t)``, 0;
    - total variation: ``abs(t - 1) / 2``, 0.5;
    - Pearson chi^2: ``(t - 1)**2``, ``inf``;
    - twice the squared Hellinger distance: ``(sqrt(t) - 1)**2``, 1.

    The gradient through an entry with :math:`p_i = 0` is 0 (as for KL).
    Never negative (rounding is clamped; a non-convex ``f`` is not detected).
    ``base`` divides by :math:`\log(\text{base})` (``f = t log t`` then gives
    KL in that base).

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      f: the generator, a Python callable applied elementwise to arrays of
        ratios :math:`t \in [0, \infty)`; ``f(1)`` must be 0.
      slope_at_infinity: :math:`\lim_{t \to \infty} f(t) / t`, used where
        :math:`q_i = 0 < p_i` (and where ``p / q`` overflows); ``None`` is
        ``+inf``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.
      base: ``None``, or a base whose log divides the value.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input, or ``f`` not callable.
      ValueError: bad shapes; ``f(1) != 0`` or ``f`` not elementwise (checked
        at trace time when ``f`` does not close over traced values).

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> from jax.scipy.special import xlogy
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.f_divergence(p, q, f=lambda t: xlogy(t, t)).round(4)  # KL
      Array(0.5108, dtype=float32)
      >>> tv = lambda t: jnp.abs(t - 1) / 2
      >>> p, q = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
      >>> float(jaxdiv.f_divergence(p, q, f=tv, slope_at_infinity=0.5))
      1.0

    References:
      Csiszár, Information-type measures of difference of probability
      distributions and indirect observations, Studia Sci. Math. Hungarica
      2, 1967.

      Ali and Silvey, `A General Class of Coefficients of Divergence of One
      Distribution from Another
      <https://doi.org/10.1111/j.2517-6161.1966.tb00626.x>`_, 1966.

      Liese and Vajda, `On Divergences and Informations in Statistics and
      Information Theory <https://doi.org/10.1109/TIT.2006.881731>`_, 2006.
    """
    name = "f_divergence"
    p, lp, q, lq, ax = inputs.two_probs(name, p, q, axis, where)
    checks.generator(name, f, p.dtype)
    return in_base(formulas.f_divergence(f, slope_at_infinity, p, lp, q, lq, ax), base)


def f_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    f: Callable[[jax.Array], jax.Array],
    slope_at_infinity: float | ArrayLike | None = None,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    base: float | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""f-divergence :math:`D_f(p \| q)` with both distributions as logits.

    .. math:: D_f = \sum_i q_i f(t_i), \qquad
       t_i = \exp(\log p_i - \log q_i),\ \log p = \mathrm{log\_softmax}(\ell_p)

    The ratio is computed in log space, never as a quotient of probabilities
    that may have underflowed; a ratio beyond the float range (a ``q`` logit
    some 88 nats below ``p``'s in float32), and ``-inf`` in ``q_logits``
    where ``p`` has mass, use ``slope_at_infinity``: for KL between very
    different logits prefer ``kl_divergence_from_logits``, which needs no
    ratio. Conventions as :func:`f_divergence`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      f: the generator (elementwise callable, ``f(1) = 0``).
      slope_at_infinity: :math:`\lim_{t\to\infty} f(t)/t`; ``None`` is
        ``+inf``.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      base: ``None``, or a base whose log divides the value.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input, or ``f`` not callable.
      ValueError: bad shapes or ``f(1) != 0``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> chi2 = lambda t: (t - 1.0) ** 2
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.f_divergence_from_logits(a, b, f=chi2).round(4)
      Array(1.7778, dtype=float32)

    References:
      Liese and Vajda, `On Divergences and Informations in Statistics and
      Information Theory <https://doi.org/10.1109/TIT.2006.881731>`_, 2006.
    """
    name = "f_divergence_from_logits"
    p, lp, q, lq, ax = inputs.two_logits(
        name, p_logits, q_logits, axis, where, axis_name
    )
    checks.generator(name, f, p.dtype)
    return in_base(
        formulas.f_divergence(f, slope_at_infinity, p, lp, q, lq, ax, axis_name), base
    )


# --------------------------------------------------------------------------
# public: Hellinger, total variation, chi-squared


def hellinger_distance(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Hellinger distance, normalised to lie in :math:`[0, 1]`.

    .. math::
       H(p, q) = \sqrt{\tfrac12 \sum_i \big(\sqrt{p_i} - \sqrt{q_i}\big)^2}
       = \sqrt{1 - \mathrm{BC}(p, q)}, \qquad
       \mathrm{BC}(p, q) = \sum_i \sqrt{p_i q_i}

    (the second form for normalised inputs; BC is the Bhattacharyya
    coefficient). The first form is the one computed: no cancellation, so
    :math:`H(p, p) = 0` exactly. A metric; :math:`H^2` is the f-divergence
    of :math:`(\sqrt t - 1)^2 / 2` and a quarter of the order-1/2
    :func:`alpha_divergence`. Not a logarithmic quantity: no ``base``.
    Gradient conventions: 0 at :math:`p = q` (the square root's
    subgradient at 0, as ``js_distance``) and 0 through entries where
    :math:`p_i = 0` or :math:`q_i = 0`.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.hellinger_distance(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))
      Array(1., dtype=float32)
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.hellinger_distance(p, q).round(4)
      Array(0.3249, dtype=float32)

    References:
      Hellinger, `Neue Begründung der Theorie quadratischer Formen von
      unendlichvielen Veränderlichen
      <https://doi.org/10.1515/crll.1909.136.210>`_, 1909.
    """
    p, _, q, _, ax = inputs.two_probs("hellinger_distance", p, q, axis, where)
    # sqrt p - sqrt q = (p - q) / (sqrt p + sqrt q): the subtraction is exact
    tiny = jnp.finfo(p.dtype).tiny
    both = (p >= tiny) & (q >= tiny)
    ps, qs = jnp.where(both, p, 1.0), jnp.where(both, q, 1.0)
    close = (ps - qs) / (jnp.sqrt(ps) + jnp.sqrt(qs))
    root_diff = jnp.where(both, close, safe_sqrt(p) - safe_sqrt(q))
    return formulas.hellinger(root_diff, ax)


def hellinger_distance_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Hellinger distance with both distributions given as logits.

    .. math:: H = \sqrt{\tfrac12 \sum_i \big(e^{\log p_i / 2} -
       e^{\log q_i / 2}\big)^2}, \qquad \log p = \mathrm{log\_softmax}(\ell_p)

    Conventions as :func:`hellinger_distance`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> jaxdiv.hellinger_distance_from_logits(jnp.zeros(3), jnp.zeros(3))
      Array(0., dtype=float32)
    """
    t = inputs.near_logit_pair(
        "hellinger_distance_from_logits", p_logits, q_logits, axis, where, axis_name
    )
    root_p = jnp.exp(0.5 * t.logp)
    root_diff = jnp.where(
        t.close,
        -root_p * jnp.expm1(0.5 * t.diff),
        root_p - jnp.exp(0.5 * t.logq),
    )
    return formulas.hellinger(root_diff, t.ax, axis_name)


def total_variation_distance(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Total variation distance between categorical distributions.

    .. math:: \delta(p, q) = \tfrac12 \sum_i |p_i - q_i|
       = \max_A |P(A) - Q(A)| \in [0, 1]

    The f-divergence of :math:`|t - 1| / 2`; Pinsker's inequality bounds it
    by :math:`\sqrt{D_{KL}(p \| q) / 2}` and it lies between :math:`H^2` and
    :math:`\sqrt 2 H` (Hellinger). Not a logarithmic quantity: no ``base``.
    The gradient through an entry with :math:`p_i = q_i` is 0 (the
    subgradient of :math:`|x|` at 0 closest to the origin; empty rows get 0).

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.total_variation_distance(p, q).round(4)
      Array(0.4, dtype=float32)

    References:
      Tsybakov, `Introduction to Nonparametric Estimation
      <https://doi.org/10.1007/b13794>`_, 2009 (section 2.4).
    """
    p, _, q, _, ax = inputs.two_probs("total_variation_distance", p, q, axis, where)
    return formulas.total_variation(p - q, ax)


def total_variation_distance_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Total variation distance with both distributions given as logits.

    .. math:: \delta = \tfrac12 \sum_i |\mathrm{softmax}(\ell_p)_i -
       \mathrm{softmax}(\ell_q)_i|

    Conventions as :func:`total_variation_distance`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.array([0.0, -jnp.inf]), jnp.array([-jnp.inf, 0.0])
      >>> jaxdiv.total_variation_distance_from_logits(a, b)
      Array(1., dtype=float32)
    """
    t = inputs.near_logit_pair(
        "total_variation_distance_from_logits",
        p_logits,
        q_logits,
        axis,
        where,
        axis_name,
    )
    # near entries: p - q = -p expm1(log(q / p)), not two rounded softmaxes
    d = jnp.where(t.close, -t.p * jnp.expm1(t.diff), t.p - t.q)
    return formulas.total_variation(d, t.ax, axis_name)


def chi_squared_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Pearson's chi-squared divergence :math:`\chi^2(p \| q)`.

    .. math:: \chi^2(p \| q) = \sum_i \frac{(p_i - q_i)^2}{q_i}
       = \sum_i \frac{p_i^2}{q_i} - 1

    computed term by term in the first form (no cancellation, so
    :math:`\chi^2(p \| p) = 0` exactly). Terms with :math:`p_i = q_i = 0`
    are 0; :math:`q_i = 0 < p_i` gives ``+inf`` (never nan). The
    f-divergence of :math:`(t - 1)^2`; twice the order-2
    :func:`alpha_divergence`; :math:`\log(1 + \chi^2)` is the order-2
    :func:`renyi_divergence`. Not a logarithmic quantity: no ``base``.

    Args:
      p: probabilities, shape ``[..., n]``.
      q: probabilities, same shape as ``p``, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask broadcastable to the inputs.

    Returns:
      The batch shape.

    Raises:
      TypeError: non-floating input.
      ValueError: shapes that are neither equal nor batch-against-event.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> p, q = jnp.array([0.5, 0.5]), jnp.array([0.9, 0.1])
      >>> jaxdiv.chi_squared_divergence(p, q).round(4)
      Array(1.7778, dtype=float32)
      >>> jaxdiv.chi_squared_divergence(q, jnp.array([1.0, 0.0]))
      Array(inf, dtype=float32)

    References:
      Pearson, `On the criterion that a given system of deviations ...
      <https://doi.org/10.1080/14786440009463897>`_, 1900.
    """
    p, lp, q, lq, ax = inputs.two_probs("chi_squared_divergence", p, q, axis, where)
    return formulas.chi_squared(p, lp, q, lq, ax)


def chi_squared_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: Axis = -1,
    where: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Pearson's :math:`\chi^2(p \| q)` with both distributions as logits.

    .. math:: \chi^2 = \sum_i q_i\, \mathrm{expm1}(\log p_i - \log q_i)^2

    on the two softmaxes, by the one formula of :func:`chi_squared_divergence`;
    where a mass of ``q`` underflows, its term is formed in log space
    (:math:`e^{2 \log p_i - \log q_i}` where :math:`p_i \gg q_i`), so it
    still gives its finite value. Conventions as
    :func:`chi_squared_divergence`.

    Args:
      p_logits: logits of ``p``, shape ``[..., n]``.
      q_logits: logits of ``q``, same shape, or exactly the event shape.
      axis: event axis (int or tuple) that is reduced.
      where: boolean mask; ``False`` entries leave both softmaxes.
      axis_name: mesh axis across which the event axis is split (inside
        ``shard_map``), or ``None``.

    Returns:
      The batch shape.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> a, b = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.9, 0.1]))
      >>> jaxdiv.chi_squared_divergence_from_logits(a, b).round(4)
      Array(1.7778, dtype=float32)
    """
    t = inputs.near_logit_pair(
        "chi_squared_divergence_from_logits",
        p_logits,
        q_logits,
        axis,
        where,
        axis_name,
    )
    return formulas.chi_squared(
        t.p, t.logp, t.q, t.logq, t.ax, axis_name, near=(t.close, t.diff)
    )
