"""jaxdiv.losses against optax, NumPy float64 references and every edge of API.md.

References are independent of jaxdiv: ``optax.losses`` on inputs where its
values are finite and correct, and NumPy float64 formulas written out here
(log-softmax, cross-entropy, KL, JSD, the KL estimators) elsewhere.
"""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.test_util import check_grads

import jaxdiv
import jaxdiv.losses as L
from jaxdiv import _categorical
from jaxdiv._numerics import log_softmax

INT_CE = L.softmax_cross_entropy_with_integer_labels
NEG_INF = -np.inf


# --------------------------------------------------------------------------
# NumPy float64 references


def np_log_softmax(x, axis=-1, mask=None):
    """float64 log-softmax over ``axis`` (int or tuple); ``-inf`` and masked
    entries are outside the support; an empty row is all ``-inf``."""
    x = np.asarray(x, np.float64)
    if mask is not None:
        x = np.where(mask, x, NEG_INF)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    total = np.sum(np.exp(x - m), axis=axis, keepdims=True)
    return x - (m + np.log(np.where(total > 0, total, 1.0)))


def np_xlogy(p, logq):
    """``p * logq`` with ``0 * anything = 0``."""
    p = np.asarray(p, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(p == 0, 0.0, p * logq)


def np_ce(logits, labels, axis=-1, mask=None):
    logq = np_log_softmax(logits, axis, mask)
    labels = np.asarray(labels, np.float64)
    if mask is not None:
        labels = np.where(mask, labels, 0.0)
    return -np.sum(np_xlogy(labels, logq), axis=axis)


@np.errstate(divide="ignore", invalid="ignore")
def np_kl_log(log_q, log_p, axis=-1):
    """KL(p || q) from float64 log-probabilities."""
    log_p = np.asarray(log_p, np.float64)
    log_q = np.asarray(log_q, np.float64)
    p = np.exp(log_p)
    with np.errstate(invalid="ignore"):
        d = np.where(p == 0, 0.0, log_p - log_q)
    return np.maximum(np.sum(np_xlogy(p, d), axis=axis), 0.0)


def np_sigmoid_bce(x, y, pos_weight=1.0):
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    log_p = -np.logaddexp(0.0, -x)
    log_not_p = -np.logaddexp(0.0, x)
    return -np_xlogy(pos_weight * y, log_p) - np_xlogy(1.0 - y, log_not_p)


def assert_close(actual, desired, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), np.asarray(desired, np.float64), rtol, atol
    )


def assert_finite(*trees):
    for leaf in jax.tree_util.tree_leaves(trees):
        assert np.all(np.isfinite(np.asarray(leaf))), leaf


def grad_and_jvp(f, *args):
    """``jax.grad`` of the summed loss in every argument, and a ``jax.jvp``."""
    return _grad_and_jvp(f)(*args)


@functools.lru_cache
def _grad_and_jvp(f):
    # One compilation for both (and for every call with the same shapes).
    @jax.jit
    def run(*args):
        argnums = tuple(range(len(args)))
        grads = jax.grad(lambda *a: jnp.sum(f(*a)), argnums=argnums)(*args)
        tangents = tuple(jnp.ones_like(a) for a in args)
        _, t = jax.jvp(f, args, tangents)
        return grads, t

    return run


def jgrad(f, argnums=0):
    """``jax.grad`` compiled as one program (cheaper than eager tracing)."""
    return jax.jit(jax.grad(f, argnums))


def logits_like(rng, shape, scale=2.0):
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def probs_like(rng, shape, axis=-1):
    x = rng.gamma(1.0, size=shape)
    return (x / x.sum(axis=axis, keepdims=True)).astype(np.float32)


# --------------------------------------------------------------------------
# the public surface


def test_all_is_the_documented_set():
    assert set(L.__all__) == {
        "softmax_cross_entropy",
        "softmax_cross_entropy_with_integer_labels",
        "safe_softmax_cross_entropy",
        "sigmoid_binary_cross_entropy",
        "sigmoid_focal_loss",
        "poly_loss_cross_entropy",
        "kl_divergence",
        "kl_divergence_with_log_targets",
        "generalized_kl_divergence",
        "convex_kl_divergence",
        "smooth_labels",
        "distillation_loss",
        "kl_penalty",
        "masked_mean",
        "dpo_loss",
        "f_gan_loss",
        "group_advantages",
        "orpo_loss",
        "policy_gradient_loss",
        "sequence_log_probs",
        "simpo_loss",
    }
    for name in L.__all__:
        assert getattr(L, name).__doc__


# --------------------------------------------------------------------------
# against optax on random inputs (where optax is finite and correct)

SHAPES_AXES = [((7,), -1), ((4, 6), 0), ((2, 3, 5), 1), ((2, 3, 5), (0, 2))]


def _masks(rng, shape, axis):
    """None, an entry mask, and (single axis) an example mask."""
    entry = rng.random(shape) < 0.7
    out = [None, entry]
    if isinstance(axis, int):
        out.append(rng.random(np.delete(np.array(shape), axis)) < 0.7)
    return out


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_softmax_cross_entropy_matches_optax(shape, axis):
    rng = np.random.default_rng(0)
    x = logits_like(rng, shape)
    y = probs_like(rng, shape, axis)
    for where in _masks(rng, shape, axis):
        ours = L.softmax_cross_entropy(x, y, axis, where)
        ref = optax.losses.softmax_cross_entropy(x, y, axis, where)
        assert ours.shape == ref.shape
        assert_close(ours, ref)
        if where is None:
            gx, gy = jgrad(
                lambda a, b: L.softmax_cross_entropy(a, b, axis).sum(), (0, 1)
            )(x, y)
            rx, ry = jgrad(
                lambda a, b: optax.losses.softmax_cross_entropy(a, b, axis).sum(),
                (0, 1),
            )(x, y)
            assert_close(gx, rx)
            assert_close(gy, ry)  # labels' gradient -log q, also where labels are 0


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_integer_labels_match_optax(shape, axis):
    rng = np.random.default_rng(1)
    x = logits_like(rng, shape)
    axes = (axis,) if isinstance(axis, int) else axis
    n = int(np.prod([shape[a] for a in axes]))
    batch = tuple(
        s for i, s in enumerate(shape) if i not in [a % len(shape) for a in axes]
    )
    labels = rng.integers(0, n, batch).astype(np.int32)
    for where in _masks(rng, shape, axis)[:1] + _masks(rng, shape, axis)[2:]:
        ours = INT_CE(x, labels, axis, where)
        ref = optax.losses.softmax_cross_entropy_with_integer_labels(
            x, labels, axis, where
        )
        assert ours.shape == ref.shape == batch
        assert_close(ours, ref)
    g = jgrad(lambda a: INT_CE(a, labels, axis).sum())(x)
    r = jgrad(
        lambda a: optax.losses.softmax_cross_entropy_with_integer_labels(
            a, labels, axis
        ).sum()
    )(x)
    assert_close(g, r)


def test_integer_labels_class_mask_matches_optax_where_the_label_is_kept():
    rng = np.random.default_rng(2)
    x = logits_like(rng, (6, 5))
    labels = rng.integers(0, 5, 6)
    where = rng.random((6, 5)) < 0.6
    where[np.arange(6), labels] = True
    assert_close(
        INT_CE(x, labels, where=where),
        optax.losses.softmax_cross_entropy_with_integer_labels(x, labels, where=where),
    )
    # a label on a masked class: the target puts mass outside the support
    where[0, labels[0]] = False
    assert INT_CE(x, labels, where=where)[0] == np.inf


def test_safe_softmax_cross_entropy_matches_optax():
    rng = np.random.default_rng(3)
    x = logits_like(rng, (5, 4))
    x[1, 2] = NEG_INF
    y = probs_like(rng, (5, 4))
    y[1, 2] = 0.0
    y[1] /= y[1].sum()
    assert_close(
        L.safe_softmax_cross_entropy(x, y),
        optax.losses.safe_softmax_cross_entropy(x, y),
    )
    assert_close(L.safe_softmax_cross_entropy(x, y), np_ce(x, y))


@pytest.mark.parametrize("shape", [(9,), (3, 4)])
@pytest.mark.parametrize("int_labels", [False, True])
def test_sigmoid_binary_cross_entropy_matches_optax(shape, int_labels):
    rng = np.random.default_rng(4)
    x = logits_like(rng, shape, 4.0)
    y = (
        rng.integers(0, 2, shape)
        if int_labels
        else rng.random(shape).astype(np.float32)
    )
    ours = L.sigmoid_binary_cross_entropy(x, y)
    assert_close(ours, optax.losses.sigmoid_binary_cross_entropy(x, y))
    assert_close(ours, np_sigmoid_bce(x, y))
    g = jgrad(lambda a: L.sigmoid_binary_cross_entropy(a, y).sum())(x)
    r = jgrad(lambda a: optax.losses.sigmoid_binary_cross_entropy(a, y).sum())(x)
    assert_close(g, r)


@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_sigmoid_focal_loss_matches_optax(alpha, gamma):
    rng = np.random.default_rng(5)
    x = logits_like(rng, (4, 5), 3.0)
    y = rng.random((4, 5)).astype(np.float32)
    y[0] = np.round(y[0])
    ours = L.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma)
    ref = optax.losses.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma)
    assert_close(ours, ref, rtol=2e-5)
    # and the definition, in float64
    p = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    one_minus_pt = (1 - y) * p + y * (1 - p)
    a_t = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    assert_close(ours, a_t * one_minus_pt**gamma * np_sigmoid_bce(x, y), rtol=2e-5)


@pytest.mark.parametrize("shape,axis", SHAPES_AXES[:3])
def test_poly_loss_matches_optax(shape, axis):
    rng = np.random.default_rng(6)
    x = logits_like(rng, shape)
    y = probs_like(rng, shape, axis)
    for where in _masks(rng, shape, axis)[:2]:
        for eps in (2.0, -1.0):
            ours = L.poly_loss_cross_entropy(x, y, epsilon=eps, axis=axis, where=where)
            ref = optax.losses.poly_loss_cross_entropy(
                x, y, epsilon=eps, axis=axis, where=where
            )
            assert_close(ours, ref)


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_kl_losses_match_optax(shape, axis):
    rng = np.random.default_rng(7)
    log_q = np.log(probs_like(rng, shape, axis))
    p = probs_like(rng, shape, axis)
    where = [None, rng.random(shape) < 0.8]
    for w in where:
        # A mask leaves sub-normalised rows whose partial sums can be clearly
        # negative: only rounding-level negatives are clamped (issue 9), so
        # the masked value is optax's, the value on the kept entries alone.
        ref = optax.losses.kl_divergence(log_q, p, axis, w)
        assert_close(L.kl_divergence(log_q, p, axis, w), ref)
        ref = optax.losses.kl_divergence_with_log_targets(log_q, np.log(p), axis, w)
        assert_close(L.kl_divergence_with_log_targets(log_q, np.log(p), axis, w), ref)
        # unnormalised: the generalised KL
        log_q2, p2 = log_q + 0.3, 1.7 * p
        assert_close(
            L.generalized_kl_divergence(log_q2, p2, axis, w),
            optax.losses.generalized_kl_divergence(log_q2, p2, axis, w),
        )
    f = L.kl_divergence_with_log_targets
    g = jgrad(lambda a, b: f(a, b, axis).sum(), (0, 1))(log_q, np.log(p))
    r = jgrad(
        lambda a, b: optax.losses.kl_divergence_with_log_targets(a, b, axis).sum(),
        (0, 1),
    )(log_q, np.log(p))
    assert_close(g[0], r[0])
    assert_close(g[1], r[1])
    assert_close(L.kl_divergence(log_q, p, axis), np_kl_log(log_q, np.log(p), axis))


def test_smooth_labels_matches_optax():
    rng = np.random.default_rng(8)
    y = jax.nn.one_hot(rng.integers(0, 5, (3, 4)), 5)
    for alpha in (0.0, 0.1, 1.0):
        assert_close(L.smooth_labels(y, alpha), optax.losses.smooth_labels(y, alpha))
        assert_close(
            L.smooth_labels(y, alpha, axis=(1, 2)),
            optax.losses.smooth_labels(y, alpha, axis=(1, 2)),
        )
    where = rng.random((3, 4, 5)) < 0.7
    ours = L.smooth_labels(y, 0.2, where=where)
    ref = optax.losses.smooth_labels(y, 0.2, where=where)
    assert_close(np.where(where, ref, 0.0), ours)  # optax leaves mass outside


def test_convex_kl_divergence_is_a_deprecated_alias():
    rng = np.random.default_rng(9)
    lq, p = np.log(probs_like(rng, (6,))), probs_like(rng, (6,))
    with pytest.warns(DeprecationWarning, match="generalized_kl_divergence"):
        out = L.convex_kl_divergence(lq, p)
    assert_close(out, L.generalized_kl_divergence(lq, p))


# --------------------------------------------------------------------------
# edges of API.md, in value and in jax.grad / jax.jvp


def test_zero_labels_on_neg_inf_logits_are_finite():
    """optax gives nan: 0 * -inf."""
    x = np.array([[0.5, NEG_INF, 1.0], [2.0, 1.0, NEG_INF]], np.float32)
    y = np.array([[0.3, 0.0, 0.7], [0.0, 1.0, 0.0]], np.float32)
    for f in (
        L.softmax_cross_entropy,
        L.safe_softmax_cross_entropy,
        functools.partial(L.poly_loss_cross_entropy, epsilon=0.0),
    ):
        out = f(x, y)
        assert_close(out, np_ce(x, y))
        grads, t = grad_and_jvp(f, jnp.asarray(x), jnp.asarray(y))
        assert_finite(grads, t)
        assert np.all(np.asarray(grads[0])[np.isinf(x)] == 0)


def test_labels_on_neg_inf_logits_give_inf():
    x = np.array([0.5, NEG_INF, 1.0], np.float32)
    assert L.softmax_cross_entropy(x, np.array([0.5, 0.5, 0.0], np.float32)) == np.inf
    assert INT_CE(x, np.array(1)) == np.inf


@pytest.mark.parametrize("kind", ["neg_inf", "masked"])
def test_padding_rows_are_zero_with_zero_gradient(kind):
    rng = np.random.default_rng(10)
    x = logits_like(rng, (3, 4))
    y = probs_like(rng, (3, 4))
    labels = np.array([1, 2, 3])
    where = None
    if kind == "neg_inf":
        x[1] = NEG_INF
    else:
        where = np.ones((3, 4), bool)
        where[1] = False
        x[1] = np.nan  # masked entries may hold anything
    fs = {
        "ce": lambda a, b: L.softmax_cross_entropy(a, b, where=where),
        "poly": lambda a, b: L.poly_loss_cross_entropy(a, b, where=where),
        "int": lambda a, b: INT_CE(a, labels, where=where) + 0.0 * b.sum(-1),
        "int_smooth_z": lambda a, b: (
            INT_CE(a, labels, where=where, label_smoothing=0.1, z_loss=1e-3)
            + 0.0 * b.sum(-1)
        ),
    }
    for name, f in fs.items():
        out = f(x, y)
        assert out[1] == 0.0, name
        assert np.isfinite(out).all(), name
        (gx, gy), t = grad_and_jvp(f, jnp.asarray(x), jnp.asarray(y))
        assert np.all(np.asarray(gx)[1] == 0), name
        assert np.all(np.asarray(gy)[1] == 0), name
        assert np.isfinite(gx).all() and np.isfinite(t).all(), name


def test_integer_labels_edges():
    x = np.array(
        [
            [1.0, 2.0, NEG_INF, 0.5],
            [NEG_INF] * 4,
            [0.3, np.nan, 1.0, 2.0],
            [1.0, 2.0, 3.0, 4.0],
        ],
        np.float32,
    )
    labels = np.array([1, 2, 0, 3])
    out = INT_CE(x, labels)
    assert_close(out[0], -np_log_softmax(x[0])[1])
    assert out[1] == 0.0  # padding row
    assert np.isnan(out[2])  # nan propagates
    g = jgrad(lambda a: INT_CE(a, labels).sum())(jnp.asarray(x))
    assert g[0, 2] == 0 and np.all(np.asarray(g[1]) == 0)
    assert_close(g[0], np.exp(np_log_softmax(x[0])) - np.eye(4)[1])
    _, t = jax.jvp(lambda a: INT_CE(a, labels), (jnp.asarray(x),), (jnp.ones((4, 4)),))
    assert np.isfinite(np.asarray(t)[[0, 1, 3]]).all()


def np_ce_rows(x, labels, smoothing=0.0, z=0.0):
    """float64 integer-label cross-entropy per row, with its gradient."""
    logq = np_log_softmax(x)
    k = np.isfinite(logq).sum(-1, keepdims=True)
    uniform = np.where(np.isfinite(logq), smoothing / k, 0.0)
    t = (1 - smoothing) * np.eye(x.shape[-1])[labels] + uniform
    lse = np.logaddexp.reduce(np.asarray(x, np.float64), axis=-1)
    loss = -np.sum(np_xlogy(t, logq), -1) + z * lse**2
    grad = np.exp(logq) * (1 + 2 * z * lse[:, None]) - t
    return loss, grad


EXTREME_OPTIONS = [{}, {"label_smoothing": 0.1}, {"z_loss": 1e-4}]


@pytest.mark.parametrize("kw", EXTREME_OPTIONS)
def test_integer_labels_losses_beyond_the_label_shift_take_the_exact_path(kw):
    """The kernel shifts its log-sum-exp by the label logit and falls back to
    the max shift when a row's loss exceeds 83 nats; both give the reference
    values, and a batch's ordinary rows do not change when it falls back."""
    rng = np.random.default_rng(31)
    x = logits_like(rng, (6, 40))
    labels = rng.integers(0, 40, 6)
    smoothing, z = kw.get("label_smoothing", 0.0), kw.get("z_loss", 0.0)
    f = jax.jit(jax.value_and_grad(lambda a, y: INT_CE(a, y, **kw).sum()))
    loss = jax.jit(functools.partial(INT_CE, **kw))
    ordinary = np.asarray(loss(x, labels))
    _, g_ordinary = f(x, labels)

    extreme = x.copy()
    extreme[5, (labels[5] + 1) % 40] = 150.0  # loss ~150 nats: e^150 overflows
    ref, ref_grad = np_ce_rows(extreme, labels, smoothing, z)
    out = np.asarray(loss(extreme, labels))
    _, g = f(extreme, labels)
    assert ref[5] > 140 and np.isfinite(out).all() and np.isfinite(g).all()
    assert_close(out, ref)
    assert_close(g, ref_grad, atol=1e-5 * max(1.0, 2 * z * ref[5] ** 0.5))
    assert_close(out[:5], ordinary[:5], rtol=2e-6)
    assert_close(np.asarray(g)[:5], np.asarray(g_ordinary)[:5], rtol=2e-6)


def test_integer_labels_extreme_rows_that_are_ignored_keep_the_fast_path():
    rng = np.random.default_rng(32)
    x = logits_like(rng, (4, 16))
    labels = np.array([3, 1, -100, 7])
    x[2, 0] = 1e4  # an ignored row may hold anything
    out = INT_CE(x, labels, ignore_index=-100)
    keep = labels != -100
    ref, ref_grad = np_ce_rows(x[keep], labels[keep])
    assert_close(np.asarray(out)[keep], ref)
    assert out[2] == 0
    g = jgrad(lambda a: INT_CE(a, labels, ignore_index=-100).sum())(jnp.asarray(x))
    assert_close(np.asarray(g)[keep], ref_grad)
    assert np.all(np.asarray(g)[2] == 0)


@pytest.mark.parametrize(
    "row, label",
    [
        ([1.0, 2.0, NEG_INF, 0.5], 1),  # a -inf class beside the label
        ([1.0, 2.0, NEG_INF, 0.5], 2),  # the label on a -inf class: +inf
        ([-300.0, -310.0, -290.0, -305.0], 0),  # exp(x) underflows, x - x_y not
        ([80.0, 0.0, 60.0, 10.0], 2),  # within 83 nats: the fast path
    ],
)
def test_integer_labels_single_rows_on_the_fast_path(row, label):
    x = np.array([row], np.float32)
    y = np.array([label])
    ref, ref_grad = np_ce_rows(x, y)
    out = INT_CE(x, y)
    if np.isinf(ref[0]):
        assert out[0] == np.inf
        return
    assert_close(out, ref)
    g = jgrad(lambda a: INT_CE(a, y).sum())(jnp.asarray(x))
    assert_close(g, ref_grad)


def test_integer_labels_vmap_keeps_one_branch_and_the_values():
    """Under vmap the fallback's predicate covers the whole batch, so the
    compiled program holds a ``cond`` rather than both branches under a
    select, and every element equals its own un-vmapped result."""
    rng = np.random.default_rng(33)
    x = logits_like(rng, (3, 4, 12))
    labels = rng.integers(0, 12, (3, 4))
    x[1, 2, (labels[1, 2] + 1) % 12] = 200.0  # one element falls back
    f = lambda a, y: INT_CE(a, y).sum()  # noqa: E731
    vg = jax.jit(jax.vmap(jax.value_and_grad(f)))
    jaxpr = str(jax.make_jaxpr(jax.vmap(jax.value_and_grad(f)))(x, labels))
    assert "cond[" in jaxpr
    values, grads = vg(x, labels)
    for i in range(3):
        ref, ref_grad = np_ce_rows(x[i], labels[i])
        assert_close(values[i], ref.sum())
        assert_close(grads[i], ref_grad)


def test_integer_labels_hessian_is_diag_p_minus_p_p():
    rng = np.random.default_rng(34)
    x = logits_like(rng, (5,))
    h = jax.hessian(lambda a: INT_CE(a, jnp.array(2)))(jnp.asarray(x))
    p = np.exp(np_log_softmax(x))
    assert_close(h, np.diag(p) - np.outer(p, p))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64])
def test_narrow_integer_labels(dtype):
    rng = np.random.default_rng(28)
    x = logits_like(rng, (3, 300))
    labels = np.array([0, 255, 7]).astype(dtype)
    assert_close(
        INT_CE(x, labels), -np_log_softmax(x)[np.arange(3), labels.astype(int)]
    )
    g = jgrad(lambda a: INT_CE(a, labels).sum())(jnp.asarray(x))
    assert_close(g, np.exp(np_log_softmax(x)) - np.eye(300)[labels.astype(int)])


def test_out_of_range_labels_give_nan_not_a_wrapped_class():
    x = np.array([[1.0, 2.0, 3.0]] * 3, np.float32)
    out = INT_CE(x, np.array([-1, 3, 0]))
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])


def test_ignore_index_rows_are_exactly_zero_with_zero_gradient():
    rng = np.random.default_rng(11)
    x = logits_like(rng, (6, 5))
    labels = rng.integers(0, 5, 6)
    labels[[1, 4]] = -100
    x[4] = np.nan  # an ignored row may hold anything
    for kw in ({}, {"label_smoothing": 0.2, "z_loss": 1e-2}):
        f = functools.partial(INT_CE, labels=labels, ignore_index=-100, **kw)
        out = f(x)
        assert out[1] == 0.0 and out[4] == 0.0
        (g,), t = grad_and_jvp(f, jnp.asarray(x))
        assert np.all(np.asarray(g)[[1, 4]] == 0) and np.isfinite(g).all()
        assert np.asarray(t)[1] == 0 and np.asarray(t)[4] == 0
        keep = labels != -100
        dense = np_ce(x[keep], np.eye(5)[labels[keep]]) if not kw else None
        if dense is not None:
            assert_close(out[keep], dense)
        # excluded from the mean: the mean over the kept examples only
        mean = L.masked_mean(out, keep)
        assert_close(mean, np.mean(np.asarray(out, np.float64)[keep]))


def test_example_mask_rows_are_zero_with_zero_gradient():
    rng = np.random.default_rng(12)
    x = logits_like(rng, (4, 3))
    x[2] = np.nan
    labels = np.array([0, 1, 2, 0])
    keep = np.array([True, True, False, True])
    f = functools.partial(INT_CE, labels=labels, where=keep)
    out = f(x)
    assert out[2] == 0 and np.isfinite(out).all()
    (g,), t = grad_and_jvp(f, jnp.asarray(x))
    assert (
        np.all(np.asarray(g)[2] == 0) and np.isfinite(g).all() and np.isfinite(t).all()
    )


def test_masked_entries_change_neither_value_nor_gradient():
    rng = np.random.default_rng(13)
    x = logits_like(rng, (3, 5))
    y = probs_like(rng, (3, 5))
    labels = np.array([0, 1, 2])
    where = np.ones((3, 5), bool)
    where[:, 4] = False
    dirty = x.copy()
    dirty[:, 4] = np.nan
    fs = [
        lambda a: L.softmax_cross_entropy(a, y, where=where),
        lambda a: L.poly_loss_cross_entropy(a, y, where=where),
        lambda a: INT_CE(a, labels, where=where),
        lambda a: L.kl_divergence_with_log_targets(a, np.log(y), where=where),
        lambda a: L.kl_divergence(a, y, where=where),
        lambda a: L.generalized_kl_divergence(a, y, where=where),
        lambda a: L.distillation_loss(a, x, where=where),
        lambda a: L.distillation_loss(a, x, divergence="jsd", where=where),
    ]
    for f in fs:
        assert_close(f(dirty), f(x))
        (g_clean,), _ = grad_and_jvp(f, jnp.asarray(x))
        (g_dirty,), _ = grad_and_jvp(f, jnp.asarray(dirty))
        assert_finite(g_dirty)
        assert_close(g_dirty, g_clean)
        assert np.all(np.asarray(g_dirty)[:, 4] == 0)


@np.errstate(divide="ignore")
def test_nan_in_kept_entries_propagates():
    x = np.array([[0.0, np.nan, 1.0]], np.float32)
    y = np.array([[0.5, 0.0, 0.5]], np.float32)
    assert np.isnan(L.softmax_cross_entropy(x, y)).all()
    assert np.isnan(INT_CE(x, np.array([0]))).all()
    assert np.isnan(L.kl_divergence_with_log_targets(x, np.log(y))).all()
    assert np.isnan(L.masked_mean(np.array([1.0, np.nan], np.float32))).all()


@np.errstate(divide="ignore")
def test_kl_divergence_zero_targets_against_neg_inf_log_predictions():
    """optax gives nan for both."""
    log_q = np.log(np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], np.float32))
    p = np.array([[0.25, 0.75, 0.0], [1.0, 0.0, 0.0]], np.float32)
    for f, t in (
        (L.kl_divergence, p),
        (L.kl_divergence_with_log_targets, np.log(p)),
        (L.generalized_kl_divergence, p),
    ):
        out = f(log_q, t)
        assert_close(out, np_kl_log(log_q, np.log(p)))
        grads, tan = grad_and_jvp(f, jnp.asarray(log_q), jnp.asarray(t))
        assert_finite(grads, tan)
        assert np.all(np.asarray(grads[0])[p == 0] == 0)


@np.errstate(divide="ignore")
def test_kl_target_mass_where_prediction_is_zero_is_inf():
    log_q = np.log(np.array([1.0, 0.0], np.float32))
    p = np.array([0.5, 0.5], np.float32)
    assert L.kl_divergence(log_q, p) == np.inf
    assert L.kl_divergence_with_log_targets(log_q, np.log(p)) == np.inf
    assert L.generalized_kl_divergence(log_q, p) == np.inf
    # a target that underflows to zero mass is zero mass, as in the measures
    lt = np.array([0.0, -200.0], np.float32)
    assert L.kl_divergence_with_log_targets(log_q, lt) == 0.0


def test_kl_with_log_targets_agrees_with_the_measure():
    rng = np.random.default_rng(14)
    lp = np.log(probs_like(rng, (5, 6)))
    lt = np.log(probs_like(rng, (5, 6)))
    lt[:, 0] = NEG_INF
    lp[1:3, 0] = NEG_INF
    lt[3, 1:] = NEG_INF  # a one-hot target
    lt[3, 0] = 0.0
    lp[4] = lt[4]  # KL(p, p) = 0
    ours = L.kl_divergence_with_log_targets(lp, lt)
    assert_close(ours, jaxdiv.kl_divergence(np.exp(lt), np.exp(lp)), rtol=2e-5)
    assert_close(ours, np_kl_log(lp, lt), rtol=2e-5)
    assert ours[4] == 0.0
    grads, t = grad_and_jvp(
        L.kl_divergence_with_log_targets, jnp.asarray(lp), jnp.asarray(lt)
    )
    assert_finite(grads, t)
    p = np.exp(lt.astype(np.float64))
    assert_close(grads[0], -p)  # d/dlog_q KL(p || q) = -p
    with np.errstate(invalid="ignore"):
        ref = np.where(p == 0, 0.0, p * (lt - lp + 1.0))
    assert_close(grads[1][:4], ref[:4])


def test_sigmoid_losses_at_infinite_logits():
    x = np.array([np.inf, -np.inf, np.inf, -np.inf, 0.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    bce = L.sigmoid_binary_cross_entropy(x, y)
    assert_close(bce, [0.0, 0.0, np.inf, np.inf, np.log(2.0)])
    for f in (
        L.sigmoid_binary_cross_entropy,
        functools.partial(L.sigmoid_focal_loss, gamma=0.5),
        functools.partial(L.sigmoid_focal_loss, gamma=0.0),
        functools.partial(L.sigmoid_binary_cross_entropy, pos_weight=3.0),
    ):
        keep = np.array([0, 1, 4])  # the entries whose value is finite
        g = jgrad(lambda a, f=f: f(a, y).sum())(jnp.asarray(x))
        assert_finite(np.asarray(g)[keep])
        _, t = jax.jvp(lambda a, f=f: f(a, y), (jnp.asarray(x),), (jnp.ones(5),))
        assert_finite(np.asarray(t)[keep])
    focal = L.sigmoid_focal_loss(x, y)
    assert focal[0] == 0.0 and focal[1] == 0.0


def test_sigmoid_label_gradient_is_the_true_one():
    """d/dy BCE(x, y) = -x, also at y in {0, 1}."""
    x = np.array([1.5, -0.5, 2.0], np.float32)
    y = np.array([0.0, 1.0, 0.3], np.float32)
    g = jgrad(lambda b: L.sigmoid_binary_cross_entropy(x, b).sum())(jnp.asarray(y))
    assert_close(g, -x)


def test_pos_weight():
    rng = np.random.default_rng(15)
    x = logits_like(rng, (4, 3))
    y = rng.random((4, 3)).astype(np.float32)
    w = np.array([1.0, 2.5, 0.5], np.float32)
    assert_close(
        L.sigmoid_binary_cross_entropy(x, y, pos_weight=w), np_sigmoid_bce(x, y, w)
    )
    assert_close(
        L.sigmoid_binary_cross_entropy(x, y, pos_weight=1.0),
        L.sigmoid_binary_cross_entropy(x, y),
    )


@np.errstate(divide="ignore", invalid="ignore")
def test_generalized_kl_of_unnormalised_measures():
    q = np.array([[2.0, 0.5, 0.0], [1.0, 1.0, 1.0]])
    p = np.array([[1.0, 1.0, 0.0], [3.0, 0.0, 0.2]])
    with np.errstate(divide="ignore"):
        ref = np.sum(np_xlogy(p, np.log(p) - np.log(q)) - p + q, axis=-1)
    assert_close(L.generalized_kl_divergence(np.log(q).astype(np.float32), p), ref)


# --------------------------------------------------------------------------
# label smoothing and z-loss on integer labels


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_label_smoothing_equals_the_dense_smoothed_target(alpha):
    rng = np.random.default_rng(16)
    x = logits_like(rng, (5, 7))
    x[0, 3] = NEG_INF  # K counts only the classes in the support
    x[2, :2] = NEG_INF
    labels = rng.integers(0, 7, 5)
    labels[0], labels[2] = 1, 4  # inside the support
    where = rng.random((5, 7)) < 0.8
    where[np.arange(5), labels] = True
    for w in (None, where):
        support = np.isfinite(x) if w is None else np.isfinite(x) & w
        target = (1 - alpha) * np.eye(7)[labels] + alpha * support / support.sum(
            -1, keepdims=True
        )
        ours = INT_CE(x, labels, where=w, label_smoothing=alpha)
        assert_close(ours, np_ce(x, target, mask=w), rtol=2e-5)
        dense = L.softmax_cross_entropy(x, target.astype(np.float32), where=w)
        g = jgrad(
            lambda a, w=w: INT_CE(a, labels, where=w, label_smoothing=alpha).sum()
        )(jnp.asarray(x))
        t32 = target.astype(np.float32)
        r = jgrad(lambda a, w=w, t=t32: L.softmax_cross_entropy(a, t, where=w).sum())(
            jnp.asarray(x)
        )
        assert_close(ours, dense, rtol=2e-5)
        assert_close(g, r)
    # the same with smooth_labels on one-hot targets (no -inf logits)
    x2 = logits_like(rng, (5, 7))
    smoothed = L.smooth_labels(jax.nn.one_hot(labels, 7), alpha)
    assert_close(
        INT_CE(x2, labels, label_smoothing=alpha), L.softmax_cross_entropy(x2, smoothed)
    )


def test_label_smoothing_is_differentiable_in_alpha():
    rng = np.random.default_rng(17)
    x = logits_like(rng, (4, 6))
    labels = rng.integers(0, 6, 4)

    def dense(a):
        t = (1 - a) * jax.nn.one_hot(labels, 6) + a / 6
        return L.softmax_cross_entropy(x, t).sum()

    g = jgrad(lambda a: INT_CE(x, labels, label_smoothing=a).sum())(0.3)
    assert_close(g, jgrad(dense)(0.3), rtol=1e-4)


def test_z_loss():
    rng = np.random.default_rng(18)
    x = logits_like(rng, (4, 6))
    x[1, 0] = NEG_INF
    labels = rng.integers(1, 6, 4)
    z = 1e-2
    lse = np.log(np.sum(np.exp(x.astype(np.float64)), -1))
    ref = np_ce(x, np.eye(6)[labels]) + z * lse**2
    assert_close(INT_CE(x, labels, z_loss=z), ref)

    def dense(a):
        ce = L.softmax_cross_entropy(a, jax.nn.one_hot(labels, 6))
        return (ce + z * jax.nn.logsumexp(a, -1) ** 2).sum()

    g = jgrad(lambda a: INT_CE(a, labels, z_loss=z).sum())(jnp.asarray(x))
    assert_close(g, jgrad(dense)(jnp.asarray(x)))
    gz = jgrad(lambda zz: INT_CE(x, labels, z_loss=zz).sum())(0.5)
    assert_close(gz, np.sum(lse**2), rtol=1e-5)


# --------------------------------------------------------------------------
# distillation and the KL penalty, against NumPy float64


def _np_softmax(x):
    return np.exp(np_log_softmax(x))


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_distillation_loss(temperature):
    rng = np.random.default_rng(19)
    s = logits_like(rng, (4, 6))
    t = logits_like(rng, (4, 6))
    ps = _np_softmax(s.astype(np.float64) / temperature)
    pt = _np_softmax(t.astype(np.float64) / temperature)
    kl = lambda a, b: np.sum(a * np.log(a / b), -1)  # noqa: E731
    t2 = temperature**2
    f = functools.partial(L.distillation_loss, temperature=temperature)
    assert_close(f(s, t), t2 * kl(pt, ps), rtol=2e-5)
    assert_close(f(s, t, divergence="reverse_kl"), t2 * kl(ps, pt), rtol=2e-5)
    m = 0.5 * (ps + pt)
    jsd = 0.5 * kl(pt, m) + 0.5 * kl(ps, m)
    assert_close(f(s, t, divergence="jsd"), t2 * jsd, rtol=2e-5)
    assert_close(f(s, t, divergence="jsd"), f(t, s, divergence="jsd"), rtol=2e-5)
    beta = 0.2
    m = beta * pt + (1 - beta) * ps
    gjsd = beta * kl(pt, m) + (1 - beta) * kl(ps, m)
    assert_close(f(s, t, divergence="jsd", beta=beta), t2 * gjsd, rtol=2e-5)
    # the gradient's scale does not depend on T: T^2 * (1/T) * (softmax diff)
    g = jgrad(lambda a: f(a, t).sum())(jnp.asarray(s))
    assert_close(g, temperature * (ps - pt), rtol=1e-4, atol=1e-6)


def test_distillation_loss_edges():
    s = np.array([[0.0, 1.0, NEG_INF], [NEG_INF] * 3], np.float32)
    t = np.array([[0.5, NEG_INF, NEG_INF], [NEG_INF] * 3], np.float32)
    for div in ("forward_kl", "jsd"):
        f = functools.partial(L.distillation_loss, divergence=div, temperature=2.0)
        out = f(s, t)
        assert np.isfinite(out).all() and out[1] == 0
        grads, tan = grad_and_jvp(f, jnp.asarray(s), jnp.asarray(t))
        assert_finite(grads, tan)
        assert np.all(np.asarray(grads[0])[1] == 0)
    assert L.distillation_loss(s, t, divergence="reverse_kl")[0] == np.inf


def _unfused_kl_from_logits(a, b, where):
    """KL(softmax(a) || softmax(b)) the unfused way: the masked log-softmax of
    jaxdiv._numerics and the KL formula of jaxdiv._categorical, differentiated
    by JAX (what the fused kernel replaces)."""
    logp = log_softmax(a, (1,), where)
    logq = log_softmax(b, (1,), where)
    return _categorical._kl(jnp.exp(logp), logp, logq, (1,))


@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl"])
def test_fused_kl_from_logits_at_every_edge(divergence):
    """distillation_loss and jaxdiv.kl_divergence_from_logits (both fused)
    against NumPy float64 and against the unfused formula's gradients."""
    rng = np.random.default_rng(27)
    s = logits_like(rng, (6, 5))
    t = logits_like(rng, (6, 5))
    s[0, 1] = t[0, 1] = NEG_INF  # both impossible
    t[1, 2] = NEG_INF  # impossible for the teacher only
    s[2] = NEG_INF  # an empty (padding) student row
    t[3] = NEG_INF  # an empty teacher row
    t[4] = s[4]  # equal: KL = 0
    where = np.ones((6, 5), bool)
    where[5, :2] = False
    s[5, 0] = np.nan  # masked
    p, q = (t, s) if divergence == "forward_kl" else (s, t)
    ours = L.distillation_loss(s, t, divergence=divergence, where=where)
    assert_close(jaxdiv.kl_divergence_from_logits(p, q, where=where), ours)
    expected = np_kl_log(np_log_softmax(q, mask=where), np_log_softmax(p, mask=where))
    assert_close(ours, expected, rtol=2e-5)
    assert ours[4] == 0
    finite = np.isfinite(expected)
    assert finite.sum() >= 4

    def fin(f):  # the summed loss over the rows where it is finite
        return lambda a, b: jnp.sum(jnp.where(finite, f(a, b), 0.0))

    def order(f):
        return (lambda a, b: f(b, a)) if divergence == "forward_kl" else f

    fused = fin(order(lambda a, b: jaxdiv.kl_divergence_from_logits(a, b, where=where)))
    unfused = fin(order(lambda a, b: _unfused_kl_from_logits(a, b, where)))
    s0 = np.where(where, s, 0.0)  # the unfused gradient sees masked nan
    g = jgrad(fused, (0, 1))(jnp.asarray(s), jnp.asarray(t))
    r = jgrad(unfused, (0, 1))(jnp.asarray(s0), jnp.asarray(t))
    for gi, ri in zip(g, r, strict=True):
        assert_close(np.asarray(gi)[finite], np.asarray(ri)[finite], atol=1e-6)
        assert np.isfinite(np.asarray(gi)[finite]).all()
    # on the rows where the loss is finite, every derivative is finite
    kept = where[finite]
    grads, tangent = grad_and_jvp(
        lambda a, b: L.distillation_loss(a, b, divergence=divergence, where=kept),
        jnp.asarray(s[finite]),
        jnp.asarray(t[finite]),
    )
    assert_finite(grads, tangent)


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_kl_penalty(estimator):
    rng = np.random.default_rng(20)
    lp = np.log(rng.random(8) * 0.9 + 0.05).astype(np.float32)
    ref = np.log(rng.random(8) * 0.9 + 0.05).astype(np.float32)
    lr = ref.astype(np.float64) - lp.astype(np.float64)
    expected = {"k1": -lr, "k2": 0.5 * lr**2, "k3": np.exp(lr) - 1 - lr}[estimator]
    out = L.kl_penalty(lp, ref, estimator=estimator)
    assert out.shape == lp.shape
    assert_close(out, expected)
    g = jgrad(lambda a: L.kl_penalty(a, ref, estimator=estimator).sum())(
        jnp.asarray(lp)
    )
    dexp = {"k1": np.ones_like(lr), "k2": -lr, "k3": 1 - np.exp(lr)}[estimator]
    assert_close(g, dexp, rtol=1e-4)


def test_kl_penalty_k3_is_never_negative_and_accurate_near_one():
    lp = np.zeros(5, np.float32)
    ref = np.array([1e-4, -1e-4, 1e-7, 0.0, -30.0], np.float32)
    out = L.kl_penalty(lp, ref, estimator="k3")
    assert np.all(np.asarray(out) >= 0)
    r = ref.astype(np.float64)
    assert_close(out, np.expm1(r) - r, rtol=1e-3, atol=0)


def test_kl_penalty_unbiased_on_average():
    """E_pi[k1] = E_pi[k3] = KL(pi || ref) on a categorical."""
    rng = np.random.default_rng(21)
    pi, rho = probs_like(rng, (5,)), probs_like(rng, (5,))
    x = rng.choice(5, size=200_000, p=pi.astype(np.float64) / pi.sum())
    lp, lr = np.log(pi)[x], np.log(rho)[x]
    exact = np.sum(pi * np.log(pi / rho))
    for est in ("k1", "k3"):
        assert_close(
            np.mean(L.kl_penalty(lp, lr, estimator=est)), exact, rtol=0.03, atol=3e-3
        )


# --------------------------------------------------------------------------
# masked_mean, on one device and under shard_map


def test_masked_mean():
    rng = np.random.default_rng(22)
    v = rng.standard_normal((4, 5)).astype(np.float32)
    w = rng.random((4, 5)) < 0.4
    v[~w] = np.nan
    assert_close(L.masked_mean(v, w), np.mean(v[w].astype(np.float64)))
    g = jgrad(lambda a: L.masked_mean(a, w))(jnp.asarray(v))
    assert_close(g, w / w.sum())
    assert L.masked_mean(v, np.zeros_like(w)) == 0.0
    g0 = jgrad(lambda a: L.masked_mean(a, np.zeros_like(w)))(jnp.asarray(v))
    assert np.all(np.asarray(g0) == 0)
    assert_close(L.masked_mean(v[w]), np.mean(v[w].astype(np.float64)))
    row = rng.random(4) < 0.5  # broadcast a row mask? no: (4,) vs (4, 5) is not valid
    with pytest.raises(ValueError, match="masked_mean"):
        L.masked_mean(v, row)


@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_masked_mean_under_shard_map_is_the_global_token_mean(n):
    rng = np.random.default_rng(23)
    v = rng.standard_normal((16, 3)).astype(np.float32)
    w = np.zeros((16, 3), bool)
    w[: 16 // n * 1] = True  # device 0 keeps everything, the others little
    w |= rng.random((16, 3)) < 0.2
    w[-1] = False
    mesh = Mesh(np.array(jax.devices()[:n]), ("d",))
    split = jax.jit(
        jax.shard_map(
            lambda a, b: L.masked_mean(a, b, axis_name="d"),
            mesh=mesh,
            in_specs=(P("d"), P("d")),
            out_specs=P(),
        )
    )
    out = split(v, w)
    np.testing.assert_allclose(out, np.mean(v[w].astype(np.float64)), atol=1e-6, rtol=0)
    assert_close(out, L.masked_mean(v, w), atol=1e-6)
    g = jgrad(lambda a: split(a, w))(jnp.asarray(v))
    assert_close(g, w / w.sum())
    if n > 1:  # the mean of per-device means is a different (wrong) number
        chunks = zip(np.split(v, n), np.split(w, n), strict=True)
        means = [np.mean(c[m]) for c, m in chunks if m.any()]
        assert abs(np.mean(means) - float(out)) > 1e-3


def test_masked_mean_under_shard_map_all_false():
    mesh = Mesh(np.array(jax.devices()[:4]), ("d",))
    split = jax.jit(
        jax.shard_map(
            lambda a, b: L.masked_mean(a, b, axis_name="d"),
            mesh=mesh,
            in_specs=(P("d"), P("d")),
            out_specs=P(),
        )
    )
    v = jnp.ones(8)
    w = jnp.zeros(8, bool)
    assert split(v, w) == 0.0
    assert np.all(np.asarray(jgrad(lambda a: split(a, w))(v)) == 0)


# --------------------------------------------------------------------------
# vocabulary parallelism: the class axis split across devices


@pytest.mark.parametrize("n", [4])
def test_vocabulary_parallel_losses_equal_the_unsplit_ones(n):
    rng = np.random.default_rng(24)
    x = logits_like(rng, (5, 16))
    x[0, 3] = NEG_INF
    x[1] = NEG_INF  # padding row
    labels = rng.integers(0, 16, 5)
    labels[2] = -100
    labels[0] = 5
    y = probs_like(rng, (5, 16))
    y[0, 3] = 0.0
    lt = np.log(probs_like(rng, (5, 16)))
    lt[0, 3] = NEG_INF
    mesh = Mesh(np.array(jax.devices()[:n]), ("v",))

    lq = np.array(jax.nn.log_softmax(jnp.where(np.isfinite(x), x, 0.0)))
    lq[0, 3] = NEG_INF
    cases = [  # (loss(logits_or_log_probs, other, **kw), first, other)
        (lambda a, b, **kw: INT_CE(a, labels, ignore_index=-100, **kw), x, x),
        (
            lambda a, b, **kw: INT_CE(
                a, labels, ignore_index=-100, label_smoothing=0.1, z_loss=1e-3, **kw
            ),
            x,
            x,
        ),
        (L.softmax_cross_entropy, x, y),
        (L.kl_divergence_with_log_targets, lq, lt),
        (functools.partial(L.distillation_loss, divergence="jsd"), lq, lt),
        (functools.partial(L.distillation_loss, temperature=2.0), x, lt),
    ]
    spec = P(None, "v")
    for f, a, b in cases:
        whole = jax.jit(jax.value_and_grad(lambda a, b, f=f: f(a, b).sum()))
        parts = jax.jit(
            jax.value_and_grad(
                lambda a, b, f=f: jax.shard_map(
                    functools.partial(f, axis_name="v"),
                    mesh=mesh,
                    in_specs=(spec, spec),
                    out_specs=P(),
                )(a, b).sum()
            )
        )
        (v_whole, g_whole), (v_parts, g_parts) = whole(a, b), parts(a, b)
        assert_close(v_parts, v_whole)
        assert_close(g_parts, g_whole)


# --------------------------------------------------------------------------
# eager = jit = vmap, for each loss

_RNG = np.random.default_rng(25)
_X = logits_like(_RNG, (3, 5))
_Y = probs_like(_RNG, (3, 5))
_LAB = np.array([0, 4, 2])
_B = _RNG.random((3, 5)).astype(np.float32)
_M = _RNG.random((3, 5)) < 0.6
# name -> (loss written for one example, batched arguments, logits first)
LOSSES = {
    "softmax_cross_entropy": (L.softmax_cross_entropy, (_X, _Y)),
    "safe_softmax_cross_entropy": (L.safe_softmax_cross_entropy, (_X, _Y)),
    "integer_labels": (
        functools.partial(INT_CE, label_smoothing=0.1, z_loss=1e-3),
        (_X, _LAB),
    ),
    "sigmoid_binary_cross_entropy": (
        functools.partial(L.sigmoid_binary_cross_entropy, pos_weight=2.0),
        (_X, _B),
    ),
    "sigmoid_focal_loss": (
        functools.partial(L.sigmoid_focal_loss, alpha=0.25, gamma=0.5),
        (_X, _B),
    ),
    "poly_loss_cross_entropy": (L.poly_loss_cross_entropy, (_X, _Y)),
    "kl_divergence": (
        lambda x, y: L.kl_divergence(jax.nn.log_softmax(x), y),
        (_X, _Y),
    ),
    "kl_divergence_with_log_targets": (
        lambda x, y: L.kl_divergence_with_log_targets(
            jax.nn.log_softmax(x), jnp.log(y)
        ),
        (_X, _Y),
    ),
    "generalized_kl_divergence": (L.generalized_kl_divergence, (_X, _Y)),
    "distillation_forward": (
        functools.partial(L.distillation_loss, temperature=2.0),
        (_X, 2 * _X),
    ),
    "distillation_jsd": (
        functools.partial(L.distillation_loss, divergence="jsd", beta=0.3),
        (_X, 2 * _X),
    ),
    "kl_penalty": (
        lambda x, r: L.kl_penalty(jax.nn.log_softmax(x)[..., 0], r, estimator="k3"),
        (_X, _X[:, 0]),
    ),
    "smooth_labels": (
        lambda x, y: L.softmax_cross_entropy(x, L.smooth_labels(y, 0.1)),
        (_X, _Y),
    ),
    "masked_mean": (L.masked_mean, (_X, _M)),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_eager_jit_vmap_agree(name):
    f, args = LOSSES[name]
    eager = f(*args)
    assert_close(jax.jit(f)(*args), eager)
    if name == "masked_mean":  # vmap gives per-row means
        rows = [np.mean(r[m]) if m.any() else 0.0 for r, m in zip(*args, strict=True)]
        assert_close(jax.vmap(f)(*args), rows)
    else:
        assert_close(jax.vmap(f)(*args), eager)


# --------------------------------------------------------------------------
# numerical gradients away from the edges


@pytest.mark.parametrize(
    "name", ["integer_labels", "kl_divergence_with_log_targets", "sigmoid_focal_loss"]
)
def test_check_grads(name):
    f, (x, *rest) = LOSSES[name]
    check_grads(lambda a: f(a, *rest), (jnp.asarray(x),), order=1, modes=("fwd", "rev"))


# --------------------------------------------------------------------------
# one optax.adam step through each loss


def _linear(params, x):
    return x @ params["w"] + params["b"][None, :]


def _objectives():
    rng = np.random.default_rng(26)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    labels = rng.integers(0, 5, 16)
    onehot = np.eye(5, dtype=np.float32)[labels]
    y = (0.8 * onehot + 0.04).astype(np.float32)
    teacher = 3.0 * onehot
    binary = (rng.random((16, 5)) < 0.3).astype(np.float32)
    ref = np.log(probs_like(rng, (16, 5)))
    mask = rng.random(16) < 0.7
    mean = jnp.mean
    return x, {
        "softmax_cross_entropy": lambda z: mean(L.softmax_cross_entropy(z, y)),
        "safe_softmax_cross_entropy": lambda z: mean(
            L.safe_softmax_cross_entropy(z, y)
        ),
        "integer_labels": lambda z: mean(
            INT_CE(z, labels, label_smoothing=0.1, z_loss=1e-4)
        ),
        "sigmoid_binary_cross_entropy": lambda z: mean(
            L.sigmoid_binary_cross_entropy(z, binary)
        ),
        "sigmoid_focal_loss": lambda z: mean(L.sigmoid_focal_loss(z, binary)),
        "poly_loss_cross_entropy": lambda z: mean(L.poly_loss_cross_entropy(z, y)),
        "kl_divergence": lambda z: mean(L.kl_divergence(jax.nn.log_softmax(z), y)),
        "kl_divergence_with_log_targets": lambda z: mean(
            L.kl_divergence_with_log_targets(jax.nn.log_softmax(z), np.log(y))
        ),
        "generalized_kl_divergence": lambda z: mean(L.generalized_kl_divergence(z, y)),
        "distillation_forward": lambda z: mean(
            L.distillation_loss(z, teacher, temperature=2.0)
        ),
        "distillation_reverse": lambda z: mean(
            L.distillation_loss(z, teacher, divergence="reverse_kl")
        ),
        "distillation_jsd": lambda z: mean(
            L.distillation_loss(z, teacher, divergence="jsd")
        ),
        "kl_penalty_k3": lambda z: mean(
            L.kl_penalty(
                jax.nn.log_softmax(z)[np.arange(16), labels],
                ref[np.arange(16), labels],
                estimator="k3",
            )
        ),
        "smooth_labels": lambda z: mean(
            L.softmax_cross_entropy(z, L.smooth_labels(onehot, 0.1))
        ),
        "masked_mean": lambda z: L.masked_mean(INT_CE(z, labels), mask),
    }


@pytest.mark.parametrize("name", list(_objectives()[1]))
def test_one_adam_step_changes_params_and_the_loss_falls(name):
    x, objectives = _objectives()
    objective = objectives[name]
    params = {"w": jnp.zeros((4, 5)), "b": jnp.zeros(5)}
    opt = optax.adam(0.1)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(lambda p: objective(_linear(p, x)))(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    new, state, first = step(params, state)
    assert np.isfinite(first)
    assert not np.allclose(new["w"], params["w"])
    params = new
    for _ in range(4):
        params, state, loss = step(params, state)
    assert loss < first


# --------------------------------------------------------------------------
# static checks and opt-in value checks


@pytest.mark.parametrize(
    "f",
    [
        L.softmax_cross_entropy,
        L.safe_softmax_cross_entropy,
        L.poly_loss_cross_entropy,
        lambda x, y: L.kl_divergence(x, y),
        lambda x, y: L.kl_divergence_with_log_targets(x, y),
        lambda x, y: L.generalized_kl_divergence(x, y),
    ],
)
def test_integer_labels_to_probability_losses_raise_type_error(f):
    with pytest.raises(TypeError, match="floating"):
        f(jnp.zeros((2, 3)), jnp.array([[0, 1, 0], [1, 0, 0]]))
    with pytest.raises(TypeError):
        L.smooth_labels(jnp.array([[0, 1, 0]]), 0.1)


def test_float_labels_to_integer_loss_raise_type_error():
    with pytest.raises(TypeError, match="integer class indices"):
        INT_CE(jnp.zeros((2, 3)), jnp.array([0.0, 1.0]))


def test_column_labels_raise_value_error_naming_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 1\)"):
        L.softmax_cross_entropy(jnp.zeros((4, 3)), jnp.ones((4, 1)) / 3)
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4, 3\)"):
        INT_CE(jnp.zeros((4, 3)), jnp.zeros((4, 1), jnp.int32))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 1\)"):
        L.kl_divergence(jnp.zeros((4, 3)), jnp.ones((4, 1)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 1\)"):
        L.sigmoid_binary_cross_entropy(jnp.zeros((4, 3)), jnp.ones((4, 1)))
    with pytest.raises(ValueError, match="student_logits"):
        L.distillation_loss(jnp.zeros((4, 3)), jnp.zeros((4, 1)))


def test_labels_of_wrong_rank_raise():
    with pytest.raises(ValueError, match="softmax_cross_entropy_with_integer_labels"):
        INT_CE(jnp.zeros((4, 3)), jnp.zeros((), jnp.int32))
    with pytest.raises(ValueError):
        INT_CE(jnp.zeros((2, 4, 3)), jnp.zeros((4,), jnp.int32))


@pytest.mark.parametrize(
    "call",
    [
        lambda: INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), label_smoothing=1.5),
        lambda: INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), z_loss=-1.0),
        lambda: INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), axis=5),
        lambda: L.distillation_loss(jnp.zeros(3), jnp.zeros(3), temperature=0.0),
        lambda: L.distillation_loss(jnp.zeros(3), jnp.zeros(3), divergence="tvd"),
        lambda: L.distillation_loss(jnp.zeros(3), jnp.zeros(3), beta=1.5),
        lambda: L.kl_penalty(jnp.zeros(3), jnp.zeros(3), estimator="k4"),
        lambda: L.kl_penalty(jnp.zeros(3), jnp.zeros(2)),
        lambda: L.smooth_labels(jnp.ones(3) / 3, 2.0),
    ],
)
def test_bad_options_raise_value_error(call):
    with pytest.raises(ValueError, match="jaxdiv"):
        call()


def test_ignore_index_must_be_a_python_int():
    with pytest.raises(TypeError, match="ignore_index"):
        INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), ignore_index=jnp.array(1))


def test_value_checks_cover_label_ranges():
    f = chex.chexify(
        jax.jit(lambda x, y: INT_CE(x, y, ignore_index=-100)), async_check=False
    )
    x = jnp.zeros((3, 4))
    with jaxdiv.value_checks():
        f(x, jnp.array([0, 3, -100]))  # in range, or ignored
        for bad in ([0, 4, 1], [0, -1, 1]):
            with pytest.raises(Exception, match=r"must lie in \[0, 4\)"):
                f(x, jnp.array(bad))
    # outside the block the same function compiles without the checks
    out = jax.jit(lambda x, y: INT_CE(x, y))(x, jnp.array([0, 4, 1]))
    assert np.isnan(out[1])


def test_value_checks_cover_probability_targets():
    f = chex.chexify(jax.jit(L.softmax_cross_entropy), async_check=False)
    with jaxdiv.value_checks():
        f(jnp.zeros(3), jnp.ones(3) / 3)
        with pytest.raises(Exception, match="labels must sum to 1"):
            f(jnp.zeros(3), jnp.ones(3))


def test_sixteen_bit_inputs_give_float32():
    x = jnp.zeros((2, 3), jnp.bfloat16)
    assert INT_CE(x, jnp.array([0, 1])).dtype == jnp.float32
    assert (
        L.softmax_cross_entropy(x, jnp.ones((2, 3), jnp.bfloat16) / 3).dtype
        == jnp.float32
    )
    assert L.masked_mean(x).dtype == jnp.float32
    assert_close(INT_CE(x, jnp.array([0, 1])), np.log([3.0, 3.0]))


# --------------------------------------------------------------------------
# properties


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(1, 4),
    c=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    smoothing=st.sampled_from([0.0, 0.3]),
)
def test_integer_labels_equal_one_hot_cross_entropy(n, c, seed, smoothing):
    rng = np.random.default_rng(seed)
    x = logits_like(rng, (n, c), 5.0)
    labels = rng.integers(0, c, n)
    target = (1 - smoothing) * np.eye(c)[labels] + smoothing / c
    assert_close(
        INT_CE(x, labels, label_smoothing=smoothing), np_ce(x, target), rtol=2e-5
    )
    out = L.kl_divergence_with_log_targets(
        np_log_softmax(x).astype(np.float32), np_log_softmax(x[::-1]).astype(np.float32)
    )
    assert np.all(np.asarray(out) >= 0)


# --------------------------------------------------------------------------
# issue 9: large logits, the CE Hessian, unnormalised log-predictions, names

_CE = L.softmax_cross_entropy_with_integer_labels


def _np_ce_shifted(x, y, a=0.0):
    """float64 ``-sum t log softmax(x)``, formed as (max - x_y) + log sum."""
    x = np.asarray(x, np.float64)
    m = np.max(x, -1, keepdims=True)
    log_s = np.log(np.sum(np.exp(x - m), -1))
    xy = np.take_along_axis(x, y[..., None], -1)[..., 0]
    mean = np.mean(x - m, -1)
    return log_s + (1 - a) * (m[..., 0] - xy) - a * mean


@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_integer_label_ce_keeps_the_answer_at_large_logits(scale):
    rng = np.random.default_rng(0)
    base = np.array([[1.0, 1.0, 0.0, 0.5], [1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.9, 0.8]])
    x = (base * scale + rng.normal(size=base.shape)).astype(np.float32)
    y = np.array([0, 3, 1])
    f = jax.jit(functools.partial(_CE, label_smoothing=0.1))
    for a, fn in ((0.0, _CE), (0.1, f)):
        got = np.asarray(fn(x, y))
        np.testing.assert_allclose(got, _np_ce_shifted(x, y, a), rtol=1e-5, atol=1e-6)
    # the gradient is softmax - onehot, from the shifted softmax
    g = np.asarray(jax.grad(lambda x: jnp.sum(_CE(x, y)))(x))
    xs = x.astype(np.float64)
    p = scipy_softmax(xs)
    np.testing.assert_allclose(g, p - np.eye(4)[y], atol=1e-6)
    # the examples
    assert np.isclose(float(_CE(jnp.array([1e30, 1e30]), jnp.array(0))), np.log(2))
    assert np.isclose(float(_CE(jnp.array([1e4, 1e4]), jnp.array(0))), np.log(2))


def scipy_softmax(x):
    e = np.exp(x - np.max(x, -1, keepdims=True))
    return e / np.sum(e, -1, keepdims=True)


def test_integer_label_ce_hessian_is_diag_p_minus_ppT():
    # losses from a few nats to past 83 (the fast path's fallback), where
    # 1 - p_max is below the float epsilon
    import mpmath as mp

    gaps = [3.0, 20.0, 44.0, 50.0, 60.0, 80.0]
    x = np.array([[g, 0.0, -1.0] for g in gaps], np.float32)
    y = np.array([1, 1, 2, 1, 1, 1])
    hess = jax.jit(jax.vmap(jax.hessian(lambda x, y: _CE(x, y))))(x, y)
    for row, h in zip(x, np.asarray(hess), strict=True):
        v = [mp.mpf(float(t)) for t in row]
        z = sum(mp.exp(t) for t in v)
        p = [mp.exp(t) / z for t in v]
        want = np.array(
            [
                [
                    float(
                        p[i] * (sum(p[k] for k in range(3) if k != i))
                        if i == j
                        else -p[i] * p[j]
                    )
                    for j in range(3)
                ]
                for i in range(3)
            ]
        )
        np.testing.assert_allclose(h, want, rtol=1e-4, atol=1e-37)


def test_kl_loss_of_unnormalised_log_predictions_stays_visible():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(4, 5)).astype(np.float32) * 2 + 1.0  # not log-probs
    p = probs_like(rng, (4, 5))
    ref = optax.losses.kl_divergence(logits, p)
    assert np.any(np.asarray(ref) < -1e-3)
    assert_close(L.kl_divergence(logits, p), ref)
    g = jax.jit(jax.grad(lambda lq: jnp.sum(L.kl_divergence(lq, p))))(logits)
    assert_close(g, -p)  # d/d log q of -sum p log q: training goes on
    # normalised inputs: rounding-level negatives only, clamped to 0
    lq = np.asarray(jax.nn.log_softmax(jnp.asarray(p + 1e-7)))
    out = np.asarray(L.kl_divergence(np.log(p), p))
    assert np.all((out >= 0) & (out < 1e-6))
    assert np.all(np.asarray(L.kl_divergence(lq, p)) >= 0)
    # value checks flag log-predictions that do not normalise
    for f in (L.kl_divergence, L.kl_divergence_with_log_targets):
        checked = chex.chexify(jax.jit(f), async_check=False)
        target = p if f is L.kl_divergence else np.log(p)
        with jaxdiv.value_checks():
            with pytest.raises(Exception, match="log_predictions"):
                checked(logits, target)


def test_loss_errors_name_the_public_path():
    with pytest.raises(ValueError, match=r"jaxdiv\.losses\.kl_divergence:"):
        L.kl_divergence(jnp.zeros((2, 3)), jnp.zeros((2, 1)))
    with pytest.raises(TypeError, match=r"jaxdiv\.losses\.masked_mean:"):
        L.masked_mean(jnp.arange(3))
    with pytest.raises(
        TypeError, match=r"jaxdiv\.losses\.softmax_cross_entropy_with_integer_labels:"
    ):
        _CE(jnp.zeros((2, 3)), jnp.zeros((2,)))
    with pytest.raises(ValueError, match=r"jaxdiv\.losses\.distillation_loss:"):
        L.distillation_loss(jnp.zeros(3), jnp.zeros(3), divergence="kl")


def test_smooth_labels_alpha_gradient_ignores_masked_nan():
    lab = jnp.array([[0.0, 1.0, jnp.nan], [0.5, 0.5, jnp.inf]])
    keep = jnp.array([True, True, False])
    g = jax.jit(jax.grad(lambda a: jnp.sum(L.smooth_labels(lab, a, where=keep)[:, 0])))(
        jnp.float32(0.1)
    )
    # d/da of (1 - a) y_0 + a / 2 on the kept entries: sum of (1/2 - y_0)
    np.testing.assert_allclose(float(g), 0.5 + 0.0, rtol=1e-6)


# --------------------------------------------------------------------------
# class weights (PyTorch's CrossEntropyLoss(weight=...)) and weighted means


def np_torch_weighted_ce(logits, labels, w, smoothing=0.0, ignore_index=None):
    """PyTorch's documented weighted cross-entropy (class indices), float64:
    ``l_n = -(1 - e) w_y log q_y - e / C sum_c w_c log q_c``, 0 if ignored;
    its mean is ``sum_n l_n / sum_n w_{y_n}`` over the kept examples."""
    logq = np_log_softmax(logits)
    w = np.asarray(w, np.float64)
    n = labels.shape[0]
    keep = np.ones(n, bool) if ignore_index is None else labels != ignore_index
    y = np.where(keep, labels, 0)
    nll = -logq[np.arange(n), y] * w[y]
    smooth = -(logq * w).sum(-1) / logits.shape[-1]
    loss = np.where(keep, (1 - smoothing) * nll + smoothing * smooth, 0.0)
    mean = loss.sum() / np.where(keep, w[y], 0.0).sum()
    return loss, mean, np.where(keep, w[y], 0.0)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("ignore_index", [None, -100])
def test_class_weights_match_pytorch_semantics(smoothing, ignore_index):
    rng = np.random.default_rng(3)
    x = logits_like(rng, (6, 5))
    y = rng.integers(0, 5, 6).astype(np.int32)
    if ignore_index is not None:
        y[[1, 4]] = ignore_index
    w = rng.uniform(0.1, 3.0, 5).astype(np.float32)
    f = L.softmax_cross_entropy_with_integer_labels
    loss = f(
        x, y, class_weights=w, label_smoothing=smoothing, ignore_index=ignore_index
    )
    ref, ref_mean, wy = np_torch_weighted_ce(x, y, w, smoothing, ignore_index)
    assert_close(loss, ref)
    keep = y != (ignore_index if ignore_index is not None else -1)
    wy32 = wy.astype(np.float32)
    assert_close(jnp.sum(loss) / jnp.sum(wy32), ref_mean)
    if smoothing == 0:  # the unweighted losses' weighted mean is the same
        plain = f(x, y, ignore_index=ignore_index)
        assert_close(L.masked_mean(plain, keep, weights=wy32), ref_mean)
    kw = dict(class_weights=w, label_smoothing=smoothing, ignore_index=ignore_index)

    # the gradient of PyTorch's weighted mean against central differences
    def mean(a):
        return jnp.sum(f(a, y, **kw)) / jnp.sum(wy32)

    mean = jax.jit(mean)
    g = np.asarray(jax.grad(mean)(jnp.asarray(x)), np.float64)
    eps = 1e-2
    for i, j in [(0, 0), (2, 3), (5, 4), (1, 2)]:
        d = np.zeros_like(x)
        d[i, j] = eps
        up = np_torch_weighted_ce(x + d, y, w, smoothing, ignore_index)[1]
        dn = np_torch_weighted_ce(x - d, y, w, smoothing, ignore_index)[1]
        np.testing.assert_allclose(g[i, j], (up - dn) / (2 * eps), rtol=2e-3, atol=1e-5)
    if ignore_index is not None:
        np.testing.assert_array_equal(g[[1, 4]], 0.0)


def test_class_weights_unit_weights_change_nothing_and_zero_weight_excludes():
    rng = np.random.default_rng(4)
    x = logits_like(rng, (4, 3))
    x[0, 1] = -np.inf
    y = np.array([1, 0, 2, 1], np.int32)  # example 0's label has no mass
    f = L.softmax_cross_entropy_with_integer_labels
    ones = np.ones(3, np.float32)
    for kw in ({}, {"label_smoothing": 0.2}, {"z_loss": 1e-2}):
        assert_close(f(x, y, class_weights=ones, **kw), f(x, y, **kw))
    w = np.array([1.0, 0.0, 2.0], np.float32)  # class 1 excluded
    out = np.asarray(f(x, y, class_weights=w))
    assert out[0] == 0.0 and out[3] == 0.0  # 0 weight: 0, even at +inf
    g = jax.grad(lambda a: f(a, y, class_weights=w).sum())(jnp.asarray(x))
    assert np.all(np.isfinite(np.asarray(g)))
    np.testing.assert_array_equal(np.asarray(g)[[0, 3]], 0.0)


def test_class_weights_with_probability_targets():
    rng = np.random.default_rng(5)
    x = logits_like(rng, (4, 3, 5))
    t = probs_like(rng, (4, 3, 5), axis=1)
    w = rng.uniform(0.5, 2.0, 3).astype(np.float32)
    out = L.softmax_cross_entropy(x, t, axis=1, class_weights=w)
    logq = np_log_softmax(x, axis=1)
    ref = -(t * w[None, :, None] * logq).sum(1)
    assert_close(out, ref)


def test_class_weights_errors_name_the_function():
    x = np.zeros((2, 3), np.float32)
    y = np.array([0, 1], np.int32)
    f = L.softmax_cross_entropy_with_integer_labels
    with pytest.raises(
        ValueError, match=r"softmax_cross_entropy_with_integer_labels.*\(3,\)"
    ):
        f(x, y, class_weights=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="single int class axis"):
        L.softmax_cross_entropy(x, x, axis=(0, 1), class_weights=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="axis_name"):
        f(x, y, class_weights=np.ones(3, np.float32), axis_name="v")
    with pytest.raises(TypeError, match="class_weights"):
        f(x, y, class_weights=np.ones(3, np.int32))


def test_masked_mean_axis_and_weights():
    rng = np.random.default_rng(6)
    v = rng.standard_normal((3, 4, 5)).astype(np.float32)
    keep = rng.random((3, 4, 5)) < 0.7
    w = rng.uniform(0, 2, (4, 5)).astype(np.float32)
    v_bad = np.where(keep, v, np.nan).astype(np.float32)
    w_full = np.broadcast_to(w, v.shape)
    for axis in (None, 0, (1, 2), -1):
        ax = axis
        num = np.sum(np.where(keep, w_full * v.astype(np.float64), 0.0), axis=ax)
        den = np.sum(np.where(keep, w_full, 0.0), axis=ax)
        ref = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        out = L.masked_mean(v_bad, keep, axis=axis, weights=w)
        assert_close(out, ref)
    # nothing kept along a slice: 0 with zero gradient; nan weights when masked
    keep2 = keep.copy()
    keep2[0] = False
    w_nan = np.where(keep2.any(0), np.broadcast_to(w, v.shape)[0], np.nan)
    f = jax.jit(lambda a: L.masked_mean(a, keep2, axis=(1, 2), weights=w_nan).sum())
    g = np.asarray(jax.grad(f)(jnp.asarray(v)))
    assert L.masked_mean(v, keep2, axis=(1, 2))[0] == 0.0
    np.testing.assert_array_equal(g[0], 0.0)
    assert np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="masked_mean.*weights"):
        L.masked_mean(v, weights=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="masked_mean.*axis"):
        L.masked_mean(v, axis=3)


def test_class_weights_with_a_class_mask_smoothing_and_z_loss():
    rng = np.random.default_rng(8)
    x = logits_like(rng, (5, 6))
    y = np.array([0, 2, 3, 5, 1], np.int32)
    m = rng.random((5, 6)) < 0.7
    m[np.arange(5), y] = True
    garbage = np.where(m, x, np.nan).astype(np.float32)  # masked nan: no effect
    w = rng.uniform(0.5, 2.0, 6).astype(np.float32)
    a, z = 0.1, 0.01

    def f(t):
        return L.softmax_cross_entropy_with_integer_labels(
            t, y, where=m, class_weights=w, label_smoothing=a, z_loss=z
        )

    xd = np.where(m, x.astype(np.float64), -np.inf)
    lse = np.log(np.exp(xd).sum(-1))
    logq = np.where(m, xd - lse[:, None], 0.0)
    k = m.sum(-1)
    ref = (1 - a) * w[y] * -logq[np.arange(5), y]
    ref = ref + a / k * np.sum(np.where(m, -w * logq, 0.0), -1) + z * lse**2
    assert_close(f(garbage), ref)
    g = np.asarray(jax.grad(lambda t: f(t).sum())(jnp.asarray(garbage)))
    assert np.all(np.isfinite(g)) and np.all(g[~m] == 0)
