r"""Softmax cross-entropy losses with optax's names, argument order and shapes.

Probability targets (``softmax_cross_entropy``, ``safe_softmax_cross_entropy``,
``poly_loss_cross_entropy``) build the ``(p, log q)`` pair and evaluate
:func:`jaxdiv._core.formulas.cross_entropy_of_targets`; integer labels
(``softmax_cross_entropy_with_integer_labels``) run the fused kernel of
:mod:`jaxdiv._core.kernels`, which computes the same numbers without the
log-softmax. Class weights follow PyTorch's ``CrossEntropyLoss(weight=)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks, formulas, kernels, value_checks
from .._core.numerics import (
    event_sum,
    log_normalizer,
    log_softmax,
    shard_any,
    support_of,
    weighted,
)
from .._core.types import AxisName, OptionalAxis
from ._common import (
    event_axes,
    example_or_event_mask,
    jitted,
    ordered_axes,
    python_number,
    reject_integer,
    static_axis,
)

_USE_INTEGER = (
    "For integer class indices use softmax_cross_entropy_with_integer_labels."
)


# --------------------------------------------------------------------------
# softmax cross-entropy with probability targets


def _softmax_parts(name, logits, labels, axis, where, axis_name):
    """``(labels, log_softmax(logits), axes)`` with masked and padding entries
    of ``labels`` set to 0, so they change neither value nor gradient."""
    reject_integer(name, "labels", labels, _USE_INTEGER)
    logits, labels = checks.floatings(name, logits=logits, labels=labels)
    ndim = max(logits.ndim, labels.ndim)
    ax = event_axes(name, axis, ndim)
    logits, labels, ax = checks.pair(name, logits, labels, ax, ("logits", "labels"))
    where = example_or_event_mask(name, where, logits.shape, ax)
    value_checks.no_nan_or_posinf(name, "logits", logits, where)
    value_checks.probabilities(name, "labels", labels, ax, where)
    logq = log_softmax(logits, ax, where, axis_name)
    keep = shard_any(support_of(logits, where), ax, axis_name)  # not padding
    if where is not None:
        keep = keep & where
    return jnp.where(keep, labels, 0.0), logq, ax


def softmax_cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
    *,
    class_weights: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Softmax cross-entropy between logits and target probabilities.

    .. math:: \ell(x, y) = -\sum_i y_i \log \mathrm{softmax}(x)_i
       = H(y, \mathrm{softmax}(x))

    A drop-in for ``optax.losses.softmax_cross_entropy`` that is exact at the
    edges: ``y_i = 0`` terms are 0 even where ``x_i = -inf`` (optax: nan), a
    target on a ``-inf`` logit gives ``+inf``, and a row whose logits are all
    ``-inf`` or fully masked is padding (0, gradient 0).

    Args:
      logits: unnormalised log-probabilities, shape ``[..., num_classes]``.
      labels: target probabilities, same shape (or exactly the event shape).
      axis: class axis (int, tuple, or ``None`` for all axes).
      where: boolean mask of the logits' shape (``False`` entries leave the
        softmax), or of the batch shape (``False`` examples give 0).
      class_weights: optional ``[num_classes]`` weights ``w`` (one int
        ``axis``): the loss is :math:`-\sum_i w_i y_i \log
        \mathrm{softmax}(x)_i`, PyTorch's ``CrossEntropyLoss(weight=w)``
        with probability targets (whose mean divides by the number of
        examples, not by the weights). Not differentiated.
      axis_name: inside ``shard_map``, the mesh axis across which the class
        axis is split (vocabulary parallelism); every device gets the value
        of the whole distribution (``class_weights`` then holds the local
        classes' weights).

    Returns:
      Per-example losses, shape ``[...]`` (the inputs without ``axis``).

    Raises:
      TypeError: integer ``labels`` (use
        :func:`softmax_cross_entropy_with_integer_labels`) or integer logits.
      ValueError: ``labels`` whose shape is neither ``logits``' nor exactly
        its event shape, e.g. ``(B, 1)`` against ``(B, C)``.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
      >>> jaxdiv.losses.softmax_cross_entropy(logits, labels).round(4).tolist()
      [0.2761, 2.9518]
      >>> jaxdiv.losses.softmax_cross_entropy(
      ...     jnp.array([0.0, -jnp.inf]), jnp.array([1.0, 0.0]))
      Array(0., dtype=float32)

    References:
      Cover and Thomas, `Elements of Information Theory
      <https://doi.org/10.1002/047174882X>`_, 2006.
    """
    name = "losses.softmax_cross_entropy"
    axis = static_axis(axis)
    if class_weights is not None:
        labels = _weighted_targets(name, logits, labels, class_weights, axis)
    return _softmax_family(logits, labels, where, None, name, axis, axis_name)


def _class_weights(name, class_weights, logits, axis):
    """``class_weights`` as a validated ``[C]`` float array (not differentiated)."""
    if not isinstance(axis, int):
        raise ValueError(
            f"jaxdiv.{name}: class_weights needs a single int class axis, got "
            f"axis={axis}."
        )
    logits = jnp.asarray(logits)
    w = checks.floating(name, "class_weights", class_weights)
    c = logits.shape[axis] if logits.ndim else None
    if w.shape != (c,):
        raise ValueError(
            f"jaxdiv.{name}: class_weights must have shape ({c},), one weight per "
            f"class of logits {logits.shape} along axis {axis}; got {w.shape}."
        )
    return jax.lax.stop_gradient(w)


def _weighted_targets(name, logits, labels, class_weights, axis):
    """``w * labels`` with ``w`` broadcast along the class ``axis``."""
    w = _class_weights(name, class_weights, logits, axis)
    labels = jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.floating):
        return labels  # the dtype error is raised with the usual message
    ndim = jnp.ndim(logits)
    shape = [1] * ndim
    shape[axis % ndim] = w.shape[0]
    return labels * w.reshape(shape).astype(labels.dtype)


@jitted("name", "axis", "axis_name")
def _softmax_family(logits, labels, where, epsilon, name, axis, axis_name):
    """Cross-entropy, plus ``epsilon`` times the expected error (poly-1) when
    ``epsilon`` is not None."""
    y, logq, ax = _softmax_parts(name, logits, labels, axis, where, axis_name)
    ce = formulas.cross_entropy_of_targets(y, logq, ax, axis_name)
    if epsilon is None:
        return ce
    one_minus_pt = event_sum(y * (1.0 - jnp.exp(logq)), ax, axis_name)
    return ce + jnp.asarray(epsilon, y.dtype) * one_minus_pt


def safe_softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> jax.Array:
    r"""Softmax cross-entropy with ``0 log 0 = 0``; same as
    :func:`softmax_cross_entropy` with its defaults.

    .. math:: \ell(x, y) = -\sum_i y_i \log \mathrm{softmax}(x)_i,
       \qquad 0 \cdot \log 0 = 0

    optax needs a separate function for the ``logits = -inf``, ``labels = 0``
    convention; in jaxdiv every cross-entropy keeps it, so this is a
    signature-compatible name for ``optax.losses.safe_softmax_cross_entropy``.

    Args:
      logits: unnormalised log-probabilities, shape ``[..., num_classes]``.
      labels: target probabilities, same shape.

    Returns:
      Per-example losses, shape ``[...]``.

    Raises:
      TypeError: integer ``labels`` or logits.
      ValueError: mismatched shapes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> logits = jnp.array([[-jnp.inf, 0.0, 0.0], [-jnp.inf, 0.0, 0.0]])
      >>> labels = jnp.array([[0.0, 0.5, 0.5], [0.4, 0.3, 0.3]])
      >>> jaxdiv.losses.safe_softmax_cross_entropy(logits, labels).round(4).tolist()
      [0.6931, inf]
    """
    name = "losses.safe_softmax_cross_entropy"
    return _softmax_family(logits, labels, None, None, name, -1, None)


def poly_loss_cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    epsilon: ArrayLike = 2.0,
    axis: OptionalAxis = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    r"""Poly-1 loss: cross-entropy plus ``epsilon`` times the expected error.

    .. math:: \ell(x, y) = H(y, \mathrm{softmax}(x))
       + \epsilon \sum_i y_i \left(1 - \mathrm{softmax}(x)_i\right)

    (for one-hot ``y`` the second term is :math:`\epsilon (1 - p_t)`). Same
    edge semantics as :func:`softmax_cross_entropy`.

    Args:
      logits: unnormalised log-probabilities, shape ``[..., num_classes]``.
      labels: target probabilities, same shape.
      epsilon: coefficient of the first polynomial term (2.0 for ImageNet,
        -1.0 for detection, per the paper).
      axis: class axis (int, tuple, or ``None``).
      where: boolean mask of the logits' or of the batch shape.

    Returns:
      Per-example losses, shape ``[...]``.

    Raises:
      TypeError: integer ``labels`` or logits.
      ValueError: mismatched shapes.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> logits = jnp.array([[4.0, 2.0, 1.0], [0.0, 5.0, 1.0]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.8, 0.2]])
      >>> jaxdiv.losses.poly_loss_cross_entropy(logits, labels).round(4).tolist()
      [0.4823, 1.2567]

    References:
      Leng et al., `PolyLoss: A Polynomial Expansion Perspective of
      Classification Loss Functions <https://arxiv.org/abs/2204.12511>`_, 2022.
    """
    name = "losses.poly_loss_cross_entropy"
    axis = static_axis(axis)
    return _softmax_family(logits, labels, where, epsilon, name, axis, None)


# --------------------------------------------------------------------------
# softmax cross-entropy with integer labels


def _flatten_class_axes(logits, where, axes):
    """Moves the class axes to the end, in the order given, and flattens them."""
    batch = tuple(a for a in range(logits.ndim) if a not in axes)
    perm = batch + axes
    logits = jnp.transpose(logits, perm).reshape(
        tuple(logits.shape[a] for a in batch) + (-1,)
    )
    if where is not None:
        where = jnp.transpose(where, perm).reshape(logits.shape)
    return logits, where, len(batch)


def softmax_cross_entropy_with_integer_labels(
    logits: ArrayLike,
    labels: ArrayLike,
    axis: int | tuple[int, ...] = -1,
    where: ArrayLike | None = None,
    *,
    label_smoothing: ArrayLike = 0.0,
    ignore_index: int | None = None,
    z_loss: ArrayLike = 0.0,
    class_weights: ArrayLike | None = None,
    axis_name: AxisName = None,
) -> jax.Array:
    r"""Softmax cross-entropy against integer class labels, fused.

    .. math:: \ell(x, y) = \log \sum_{i \in S} e^{x_i} - (1 - a)\, x_y
       - \frac{a}{K} \sum_{i \in S} x_i + z \Big(\log \sum_{i \in S} e^{x_i}\Big)^2

    that is :math:`H(t, \mathrm{softmax}(x)) + z\,\mathrm{lse}^2` with target
    :math:`t = (1 - a)\,\mathrm{onehot}(y) + a / K` on the support :math:`S`
    (entries not ``-inf`` and not masked, :math:`K = |S|`). No one-hot and no
    log-softmax is materialised: the forward pass is a reduction and the
    gradient ``softmax - t`` is recomputed from the logits (a custom JVP), so
    under ``jax.grad`` the gradient is the only ``[N, C]`` array written.

    A drop-in for ``optax.losses.softmax_cross_entropy_with_integer_labels``
    (same values where optax's are finite; a row of only ``-inf`` logits gives
    0 with gradient 0 where optax gives nan). Examples with
    ``labels == ignore_index`` or a ``False`` example mask give exactly 0 with
    zero gradient; exclude them from the mean with :func:`masked_mean`. A
    label on a ``-inf`` or masked class gives ``+inf``; a label outside
    ``[0, num_classes)`` that is not ignored gives nan (and raises under
    :func:`jaxdiv.value_checks`).

    Args:
      logits: unnormalised log-probabilities, shape ``[..., num_classes]``.
      labels: integer class indices, the logits' shape without ``axis``.
      axis: class axis; a tuple of axes is flattened in the order given and
        labels index that flattened slice (as in optax).
      where: boolean mask of the logits' shape (``False`` classes leave the
        softmax) or of the labels' shape (``False`` examples give 0).
      label_smoothing: ``a`` in ``[0, 1]``; the target mixes the one-hot with
        the uniform distribution over the support.
      ignore_index: label value whose examples give 0 (e.g. ``-100``).
      z_loss: coefficient ``z >= 0`` of the squared log-normaliser
        (PaLM's auxiliary loss, keeps the logits from drifting).
      class_weights: optional ``[num_classes]`` weights ``w`` (one int
        ``axis``, no ``axis_name``), PyTorch's ``CrossEntropyLoss(weight=w)``:
        the cross-entropy becomes :math:`-\sum_i w_i t_i \log
        \mathrm{softmax}(x)_i`, i.e. :math:`w_y` times the unsmoothed loss,
        and with smoothing :math:`(1 - a) w_y (\mathrm{lse} - x_y) + \frac{a}{K}
        \sum_{i \in S} w_i (\mathrm{lse} - x_i)`; the z-loss term is not
        weighted. PyTorch's mean divides the sum of these losses by the sum
        of the kept examples' ``w_y``. Not differentiated.
      axis_name: inside ``shard_map``, the mesh axis across which the class
        axis is split; device ``k`` holds classes ``[k V, (k + 1) V)`` where
        ``V`` is its local size. Every device gets the full value.

    Returns:
      Per-example losses, shape ``labels.shape``; float32 for 16-bit logits.

    Raises:
      TypeError: floating ``labels`` (use :func:`softmax_cross_entropy`) or
        integer logits.
      ValueError: ``labels`` not of the logits' shape without ``axis``
        (e.g. ``(B, 1)`` against ``(B, C)``), or a bad option.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv.losses
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> labels = jnp.array([0, 1])
      >>> f = jaxdiv.losses.softmax_cross_entropy_with_integer_labels
      >>> f(logits, labels).round(4).tolist()
      [0.2761, 2.9518]
      >>> f(logits, jnp.array([0, -100]), ignore_index=-100).round(4).tolist()
      [0.2761, 0.]
      >>> f(logits, labels, label_smoothing=0.1).round(4).tolist()
      [0.3995, 2.8051]

    References:
      Szegedy et al., `Rethinking the Inception Architecture for Computer
      Vision <https://arxiv.org/abs/1512.00567>`_, 2016 (label smoothing);
      Chowdhery et al., `PaLM: Scaling Language Modeling with Pathways
      <https://arxiv.org/abs/2204.02311>`_, 2022 (z-loss).
    """
    name = "losses.softmax_cross_entropy_with_integer_labels"
    if ignore_index is not None and not isinstance(ignore_index, int):
        raise TypeError(
            f"jaxdiv.{name}: ignore_index must be a Python int or None, got "
            f"{ignore_index!r}."
        )
    if python_number(label_smoothing) and not 0 <= label_smoothing <= 1:
        raise ValueError(
            f"jaxdiv.{name}: label_smoothing must lie in [0, 1], got {label_smoothing}."
        )
    if python_number(z_loss) and not z_loss >= 0:
        raise ValueError(f"jaxdiv.{name}: z_loss must be >= 0, got {z_loss}.")
    smooth = not (python_number(label_smoothing) and label_smoothing == 0)
    zloss = not (python_number(z_loss) and z_loss == 0)
    if class_weights is not None:
        if axis_name is not None:
            raise ValueError(
                f"jaxdiv.{name}: class_weights with axis_name is not supported; "
                "weight the per-example losses instead (class_weights[labels])."
            )
        w = _class_weights(name, class_weights, logits, static_axis(axis))
        return _weighted_integer_labels(
            logits,
            labels,
            where,
            label_smoothing,
            z_loss,
            w,
            static_axis(axis),
            ignore_index,
            smooth,
            zloss,
        )
    return _integer_labels(
        logits,
        labels,
        where,
        label_smoothing,
        z_loss,
        static_axis(axis),
        ignore_index,
        smooth,
        zloss,
        axis_name,
    )


@jitted("axis", "ignore_index", "smooth", "zloss")
def _weighted_integer_labels(
    logits, labels, where, label_smoothing, z_loss, w, axis, ignore_index, smooth, zloss
):
    """``class_weights``: the unsmoothed loss times ``w_y``, the smoothing term
    as the ``w``-weighted mean over the support, the z-loss unweighted."""
    nll = _integer_labels(
        logits, labels, where, 0.0, 0.0, axis, ignore_index, False, False, None
    )
    labels = jnp.asarray(labels)
    ok = (labels >= 0) & (labels < w.shape[0])
    if ignore_index is not None:
        ok = ok & (labels != ignore_index)
    w = w.astype(nll.dtype)
    wy = jnp.where(ok, w[jnp.where(ok, labels, 0)], 0.0)
    out = jnp.where(wy == 0, 0.0, wy * nll)  # weight 0 excludes, even at +inf
    if not (smooth or zloss):
        return out
    # over the support S (finite logits, kept classes), with the shared
    # padding-safe log-softmax and log-normaliser (0 on empty rows)
    x = jnp.moveaxis(jnp.asarray(logits).astype(nll.dtype), axis, -1)
    keep_ex = ok if ignore_index is not None else jnp.ones(labels.shape, bool)
    cls = None
    if where is not None:
        where = jnp.asarray(where)
        if where.ndim == jnp.ndim(logits):
            cls = jnp.moveaxis(where, axis, -1)
        else:
            keep_ex = keep_ex & jnp.broadcast_to(where, labels.shape)
    support = support_of(x, cls)
    keep_ex = keep_ex & jnp.any(support, axis=-1)
    if smooth:
        a = jnp.asarray(label_smoothing, nll.dtype)
        logq = log_softmax(x, (-1,), cls)
        k = jnp.maximum(jnp.sum(support, axis=-1), 1).astype(nll.dtype)
        terms = -event_sum(weighted(jnp.where(support, w, 0.0), logq), (-1,)) / k
        out = (1.0 - a) * out + jnp.where(keep_ex, a * terms, 0.0)
    if zloss:
        lse = log_normalizer(x, (-1,), cls)
        z = jnp.asarray(z_loss, nll.dtype)
        out = out + jnp.where(keep_ex, z * jnp.square(lse), 0.0)
    return out


@jitted("axis", "ignore_index", "smooth", "zloss", "axis_name")
def _integer_labels(
    logits,
    labels,
    where,
    label_smoothing,
    z_loss,
    axis,
    ignore_index,
    smooth,
    zloss,
    axis_name,
):
    name = "losses.softmax_cross_entropy_with_integer_labels"
    logits = checks.floating(name, "logits", logits)
    labels = checks.integer(name, "labels", labels)
    if logits.ndim == 0:
        raise ValueError(f"jaxdiv.{name}: logits must have a class axis, got a scalar.")
    axes = ordered_axes(name, axis, logits.ndim)
    if axis_name is not None and len(axes) != 1:
        raise ValueError(
            f"jaxdiv.{name}: axis_name needs a single class axis, got axis={axis}."
        )
    keep = None  # example mask
    if where is not None:
        where = jnp.asarray(where)
        if where.dtype != jnp.bool_:
            raise TypeError(
                f"jaxdiv.{name}: where must be a boolean mask, got dtype {where.dtype}."
            )
        if where.ndim != logits.ndim:
            keep, where = where, None
        else:
            where = checks.mask(name, where, logits.shape)
    if len(axes) > 1:
        logits, where, ax = _flatten_class_axes(logits, where, axes)
    else:
        (ax,) = axes
    labels, ax = checks.labels_for(name, logits, labels, ax)
    if labels.dtype not in (jnp.int32, jnp.int64):  # uint8 / int16 ... overflow
        labels = labels.astype(jnp.int32)
    if keep is not None:
        keep = checks.mask(name, keep, labels.shape)
    else:
        keep = jnp.ones(labels.shape, jnp.bool_)

    if value_checks.value_checks_enabled():
        n = logits.shape[ax]
        if axis_name is not None:
            n *= jax.lax.axis_size(axis_name)
        value_checks.label_range(name, labels, n, ignore_index)
        value_checks.no_nan_or_posinf(name, "logits", logits, where)
    if where is not None:
        logits = jnp.where(where, logits, -jnp.inf)
    return kernels.ce_integer_labels(
        ax,
        axis_name,
        ignore_index,
        smooth,
        zloss,
        logits,
        labels,
        keep,
        jnp.asarray(label_smoothing, logits.dtype),
        jnp.asarray(z_loss, logits.dtype),
    )
