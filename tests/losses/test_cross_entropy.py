"""jaxdiv.losses softmax cross-entropy losses (``_cross_entropy.py``) against optax,
PyTorch semantics, NumPy float64 and every edge of API.md.
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
from losses_helpers import (
    _CE,
    EXTREME_OPTIONS,
    INT_CE,
    NEG_INF,
    SHAPES_AXES,
    _masks,
    _np_ce_shifted,
    assert_close,
    assert_finite,
    grad_and_jvp,
    jgrad,
    logits_like,
    np_ce,
    np_ce_rows,
    np_log_softmax,
    np_torch_weighted_ce,
    probs_like,
    scipy_softmax,
)

import jaxdiv
import jaxdiv.losses as L


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


def _mp_softmax_hessian(row, mass=1.0):
    """``mass * (diag(p) - p p^T)`` of ``softmax(row)`` in 40-digit mpmath,
    the diagonal as ``p_i * sum_{k != i} p_k`` (no cancellation)."""
    import mpmath as mp

    mp.mp.dps = 40
    v = [mp.mpf(float(t)) for t in row]
    z = sum(mp.exp(t) for t in v)
    p = [mp.exp(t) / z for t in v]
    n = len(v)
    return np.array(
        [
            [
                float(
                    mass
                    * (
                        p[i] * sum(p[k] for k in range(n) if k != i)
                        if i == j
                        else -p[i] * p[j]
                    )
                )
                for j in range(n)
            ]
            for i in range(n)
        ]
    )


_SOFTMAX_HESSIANS = {
    # name: (f(logits), total target mass), each with Hessian mass * (diag p - pp^T)
    "softmax_cross_entropy": (
        lambda x: L.softmax_cross_entropy(x, jnp.array([0.25, 0.5, 0.25])),
        1.0,
    ),
    "softmax_cross_entropy_unnormalised_targets": (
        lambda x: L.softmax_cross_entropy(x, jnp.array([0.0, 2.0, 1.0])),
        3.0,
    ),
    "softmax_cross_entropy_with_integer_labels": (
        lambda x: L.softmax_cross_entropy_with_integer_labels(x, jnp.array(1)),
        1.0,
    ),
    "kl_divergence_from_logits(q)": (
        lambda x: jaxdiv.kl_divergence_from_logits(jnp.array([0.0, 1.0, -2.0]), x),
        1.0,
    ),
    "cross_entropy_from_logits(q)": (
        lambda x: jaxdiv.cross_entropy_from_logits(jnp.array([0.0, 1.0, -2.0]), x),
        1.0,
    ),
}


@pytest.mark.parametrize("name", sorted(_SOFTMAX_HESSIANS))
def test_softmax_hessians_where_the_top_probability_rounds_to_one(name):
    # issue 9 item 3's class: where 1 - p_max is below the float epsilon
    # (gaps of 20-80 nats) the Hessian's top diagonal entry p_r (1 - p_r)
    # must not cancel to 0, and no s^2 may overflow (past 44 nats)
    f, mass = _SOFTMAX_HESSIANS[name]
    for row in ([25.0, 0.0, -1.0], [60.0, 59.0, 0.0], [0.0, 50.0, 3.0], [80.0, 0, 0]):
        x = jnp.asarray(row, jnp.float32)
        h = np.asarray(jax.jit(jax.hessian(f))(x), np.float64)
        want = _mp_softmax_hessian(row, mass)
        np.testing.assert_allclose(h, want, rtol=1e-4, atol=1e-37, err_msg=str(row))


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
