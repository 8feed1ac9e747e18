"""Mutual information, conditional entropy and perplexity against scipy / NumPy.

References are float64 and independent of jaxdiv: ``scipy.stats.entropy`` of
the joint table and of its marginals (I = H(X) + H(Y) - H(X, Y),
H(Y | X) = H(X, Y) - H(X)), ``exp`` of those for perplexity, and
``scipy.special.log_softmax`` for the token-level negative log-likelihoods.
"""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.test_util import check_grads

import jaxdiv

SHAPE = (3, 4, 5)  # a batch of 3 joint tables p(x, y), x in 4 values, y in 5


def H(p, axis):
    """Shannon entropy in nats over ``axis`` (tuple), float64, no renormalising."""
    return scipy.special.entr(np.asarray(p, np.float64)).sum(axis)


def ref_mi(joint):
    return H(joint.sum(-1), -1) + H(joint.sum(-2), -1) - H(joint, (-2, -1))


def ref_conditional(joint):  # H(Y | X), X on axis -2
    return H(joint, (-2, -1)) - H(joint.sum(-1), -1)


def joint_tables(rng, shape=SHAPE, zeros=True, dtype=np.float32):
    j = rng.dirichlet(np.ones(shape[-2] * shape[-1]), size=shape[:-2])
    j = j.reshape(shape)
    if zeros:
        j = np.where(rng.random(shape) < 0.3, 0.0, j)
        j[..., 0, 0] += 0.1
        j = j / j.sum((-2, -1), keepdims=True)
    return j.astype(dtype)


def log(x):
    with np.errstate(divide="ignore"):
        return np.log(x)


def assert_finite(*trees):
    for leaf in jax.tree_util.tree_leaves(trees):
        assert np.all(np.isfinite(np.asarray(leaf))), leaf


JOINT = {
    "mutual_information": (
        jaxdiv.mutual_information,
        jaxdiv.mutual_information_from_logits,
        ref_mi,
    ),
    "conditional_entropy": (
        jaxdiv.conditional_entropy,
        jaxdiv.conditional_entropy_from_logits,
        ref_conditional,
    ),
}


# --------------------------------------------------------------------------
# joint-table measures


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", list(JOINT))
def test_joint_measures_match_reference(name, form):
    rng = np.random.default_rng(0)
    joint = joint_tables(rng, dtype=np.float64)
    expected = JOINT[name][2](joint)
    x = log(joint) + rng.normal(size=(3, 1, 1)) if form else joint
    f = JOINT[name][form]
    x32 = jnp.asarray(x, jnp.float32)
    for g in (f, jax.jit(f), jax.vmap(f)):
        out = g(x32)
        assert out.dtype == jnp.float32 and out.shape == (3,)
        np.testing.assert_allclose(out, expected, rtol=2e-5, atol=2e-6)
    with jax.enable_x64(True):
        np.testing.assert_allclose(f(jnp.asarray(x)), expected, rtol=1e-10)
    np.testing.assert_allclose(f(x32, base=2), expected / np.log(2), rtol=2e-5)


@pytest.mark.parametrize("form", [0, 1])
def test_mutual_information_properties(form):
    rng = np.random.default_rng(1)
    joint = joint_tables(rng, (50, 3, 4), zeros=True)
    x = log(joint) if form else joint
    f = JOINT["mutual_information"][form]
    mi = np.asarray(jax.jit(f)(x))
    assert np.all(mi >= 0)
    swapped = jax.jit(functools.partial(f, axis=(-1, -2)))(x)
    np.testing.assert_allclose(swapped, mi, rtol=1e-6, atol=1e-7)  # symmetric
    # zero for product tables, exactly up to rounding
    a, b = rng.dirichlet(np.ones(3), 20), rng.dirichlet(np.ones(4), 20)
    product = (a[:, :, None] * b[:, None, :]).astype(np.float32)
    product = log(product) if form else product
    np.testing.assert_allclose(jax.jit(f)(product), 0, atol=1e-6)
    # I(X; X) = H(X) for a diagonal table
    px = rng.dirichlet(np.ones(4), 5)
    diag = (px[:, :, None] * np.eye(4)).astype(np.float32)
    diag = log(diag) if form else diag
    np.testing.assert_allclose(jax.jit(f)(diag), H(px, -1), rtol=2e-5)


@pytest.mark.parametrize("form", [0, 1])
def test_conditional_entropy_direction_and_chain_rule(form):
    rng = np.random.default_rng(2)
    joint = joint_tables(rng, dtype=np.float64)
    x = log(joint) if form else joint
    ce = jax.jit(JOINT["conditional_entropy"][form])
    mi = jax.jit(JOINT["mutual_information"][form])
    y_given_x = np.asarray(ce(x))
    x_given_y = np.asarray(
        jax.jit(functools.partial(JOINT["conditional_entropy"][form], axis=(-1, -2)))(x)
    )
    np.testing.assert_allclose(
        y_given_x, H(joint, (-2, -1)) - H(joint.sum(-1), -1), rtol=2e-5
    )
    np.testing.assert_allclose(
        x_given_y, H(joint, (-2, -1)) - H(joint.sum(-2), -1), rtol=2e-5
    )
    # chain rule: H(Y) = H(Y | X) + I(X; Y)
    np.testing.assert_allclose(
        y_given_x + np.asarray(mi(x)), H(joint.sum(-2), -1), rtol=2e-5
    )
    # Y a function of X: H(Y | X) is exactly 0
    functional = np.zeros((2, 4, 5), np.float32)
    functional[:, np.arange(4), [0, 3, 3, 1]] = 0.25
    out = ce(log(functional) if form else functional)
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", list(JOINT))
def test_joint_axes_anywhere(name, form):
    rng = np.random.default_rng(3)
    joint = joint_tables(rng)
    x = log(joint) if form else joint
    f = JOINT[name][form]
    base = jax.jit(f)(x)
    moved = np.moveaxis(x, (-2, -1), (0, 2))  # shape (4, 3, 5): x, batch, y
    out = jax.jit(functools.partial(f, axis=(0, 2)))(moved)
    np.testing.assert_allclose(out, base, rtol=1e-6, atol=1e-7)
    out = jax.jit(functools.partial(f, axis=(-3, -1)))(moved)
    np.testing.assert_allclose(out, base, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", list(JOINT))
def test_joint_edges(name, form):
    """Masks, padding tables, zeros, nan and 16-bit input, as the core measures."""
    rng = np.random.default_rng(4)
    joint = joint_tables(rng)
    x = log(joint) if form else joint.copy()
    f = JOINT[name][form]
    jf = jax.jit(f)
    grad_of = jax.jit(jax.grad(lambda a, w: jnp.sum(f(a, where=w))))
    # a fully masked (or all -inf) table is padding: 0 with zero gradient
    where = np.ones(SHAPE, bool)
    where[0] = False
    dirty = x.copy()
    dirty[0] = np.nan
    out = jax.jit(functools.partial(f, where=where))(dirty)
    assert out[0] == 0.0 and np.all(np.isfinite(out))
    grad = grad_of(dirty, where)
    np.testing.assert_array_equal(grad[0], 0.0)
    assert_finite(grad[1:])
    everywhere = np.ones(SHAPE, bool)
    if form:
        pad = x.copy()
        pad[0] = -np.inf
        assert jf(pad)[0] == 0.0
        grad = grad_of(pad, everywhere)
        np.testing.assert_array_equal(grad[0], 0.0)
        assert_finite(grad[1:])
    # masked entries are removed from the table (a row of x masked out)
    where = np.ones(SHAPE, bool)
    where[:, 1, :] = False
    kept = np.delete(x, 1, axis=-2)
    if not form:
        kept = kept / kept.sum((-2, -1), keepdims=True)
        x_masked = x / np.where(where, x, 0).sum((-2, -1), keepdims=True)
    else:
        x_masked = x
    masked = jax.jit(functools.partial(f, where=where))(x_masked)
    np.testing.assert_allclose(masked, jf(kept), rtol=1e-5, atol=1e-6)
    # zeros (in the table and in its marginals): finite jvp and grad
    zeros = joint.copy()
    zeros[:, 2, :] = 0.0  # a value of X that never occurs
    zeros = zeros / zeros.sum((-2, -1), keepdims=True)
    z = jnp.asarray(log(zeros) if form else zeros)
    _, t = jax.jit(lambda a: jax.jvp(f, (a,), (jnp.ones(SHAPE),)))(z)
    grad = grad_of(z, everywhere)
    assert_finite(t, grad)
    if not form and name == "conditional_entropy":  # MI's marginals depend on it
        np.testing.assert_array_equal(grad[:, 2, :], 0.0)
    # nan in, nan out
    bad = x.copy()
    bad[1, 0, 0] = np.nan
    out = np.asarray(jf(bad))
    assert np.isnan(out[1]) and np.all(np.isfinite(out[[0, 2]]))
    # 16-bit input is computed in float32
    assert jf(jnp.asarray(x, jnp.bfloat16)).dtype == jnp.float32


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("name", list(JOINT))
def test_joint_check_grads(name, form):
    rng = np.random.default_rng(5)
    with jax.enable_x64(True):
        joint = 0.5 * joint_tables(rng, (2, 3, 3), zeros=False, dtype=np.float64)
        joint = joint + 0.5 / 9
        x = jnp.asarray(np.log(joint) if form else joint)
        check_grads(jax.jit(JOINT[name][form]), (x,), order=1, modes=("fwd", "rev"))


@pytest.mark.parametrize(
    "axis,err", [(-1, ValueError), ((1, 1), ValueError), ((0, 1, 2), ValueError)]
)
def test_joint_bad_axes(axis, err):
    with pytest.raises(err, match=r"^jaxdiv\.mutual_information: axis"):
        jaxdiv.mutual_information(np.full((2, 2, 2), 0.25, np.float32), axis=axis)
    with pytest.raises(ValueError, match="at least two axes"):
        jaxdiv.conditional_entropy(np.full(4, 0.25, np.float32))
    with pytest.raises(TypeError, match="floating"):
        jaxdiv.conditional_entropy_from_logits(np.zeros((2, 2), np.int32))


# --------------------------------------------------------------------------
# perplexity


def test_perplexity_matches_reference():
    rng = np.random.default_rng(6)
    p = rng.dirichlet(np.ones(6), 4)
    p[0, :3] = 0.0
    p = p / p.sum(-1, keepdims=True)
    q = rng.dirichlet(np.ones(6), 4)
    expected = np.exp(scipy.stats.entropy(p, axis=-1))
    cross = np.exp(-scipy.special.xlogy(p, q).sum(-1))
    p32, q32 = p.astype(np.float32), q.astype(np.float32)
    lp, lq = log(p32) + 1.0, log(q32) - 2.0  # logits up to a constant
    for f in (lambda *a: jaxdiv.perplexity(*a), jax.jit(jaxdiv.perplexity)):
        np.testing.assert_allclose(f(p32), expected, rtol=2e-5)
        np.testing.assert_allclose(f(p32, q32), cross, rtol=2e-5)
    np.testing.assert_allclose(jax.vmap(jaxdiv.perplexity)(p32, q32), cross, rtol=2e-5)
    np.testing.assert_allclose(jaxdiv.perplexity_from_logits(lp), expected, rtol=2e-5)
    np.testing.assert_allclose(jaxdiv.perplexity_from_logits(lp, lq), cross, rtol=2e-5)
    # uniform over n is n; one-hot is 1; mass where q has none is +inf
    np.testing.assert_allclose(jaxdiv.perplexity(np.full(7, 1 / 7)), 7.0, rtol=1e-6)
    assert jaxdiv.perplexity(np.array([0.0, 1.0, 0.0])) == 1.0
    assert jaxdiv.perplexity(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == np.inf


def test_perplexity_edges():
    p = jnp.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    where = jnp.array([[False] * 3, [True] * 3])
    out = jaxdiv.perplexity(p, where=where)
    assert out[0] == 1.0  # an empty row
    g = jax.grad(lambda a: jnp.sum(jaxdiv.perplexity(a, where=where)))(p)
    np.testing.assert_array_equal(g[0], 0.0)
    g = jax.grad(lambda a: jnp.sum(jaxdiv.perplexity(jax.nn.softmax(a))))(
        jnp.array([[-jnp.inf, 0.0, 1.0], [-1e9, 0.0, 1.0]])
    )
    assert_finite(g)
    logits = jnp.array([[-jnp.inf] * 3, [0.0, 1.0, -jnp.inf]])
    assert jaxdiv.perplexity_from_logits(logits)[0] == 1.0
    assert jaxdiv.perplexity(p.astype(jnp.bfloat16)).dtype == jnp.float32


def ref_token_perplexity(logits, labels, keep, token_axis):
    logp = scipy.special.log_softmax(np.asarray(logits, np.float64), axis=-1)
    nll = -np.take_along_axis(logp, labels[..., None], -1)[..., 0]
    nll = np.where(keep, nll, 0.0)
    count = keep.sum(token_axis)
    return np.exp(nll.sum(token_axis) / np.maximum(count, 1))


def test_perplexity_with_integer_labels_matches_reference():
    rng = np.random.default_rng(7)
    logits = rng.normal(scale=2.0, size=(3, 6, 10)).astype(np.float32)
    labels = rng.integers(0, 10, size=(3, 6))
    keep = rng.random((3, 6)) < 0.7
    keep[2] = False  # a sequence of padding only
    f = jaxdiv.perplexity_with_integer_labels
    expected = ref_token_perplexity(logits, labels, keep, -1)
    assert expected[2] == 1.0
    for g in (f, jax.jit(f)):
        np.testing.assert_allclose(g(logits, labels, where=keep), expected, rtol=2e-5)
    vm = jax.vmap(lambda a, b, c: f(a, b, where=c))(logits, labels, keep)
    np.testing.assert_allclose(vm, expected, rtol=2e-5)
    corpus = f(logits, labels, where=keep, token_axis=None)
    ref = ref_token_perplexity(logits, labels, keep, (0, 1))
    np.testing.assert_allclose(corpus, ref, rtol=2e-5)
    # the same as a logits-shaped mask and as -inf padding rows
    wide = np.broadcast_to(keep[..., None], logits.shape)
    np.testing.assert_allclose(f(logits, labels, where=wide), expected, rtol=2e-5)
    padded = np.where(keep[..., None], logits, -np.inf)
    np.testing.assert_allclose(f(padded, labels), expected, rtol=2e-5)
    # all tokens kept: exp of the mean softmax cross-entropy (as optax's)
    import optax

    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    np.testing.assert_allclose(f(logits, labels), np.exp(ce.mean(-1)), rtol=2e-5)


def test_perplexity_with_integer_labels_edges():
    f = jaxdiv.perplexity_with_integer_labels
    logits = jnp.array([[[0.0, 1.0, -jnp.inf], [0.5, 0.0, 2.0], [9.0, 9.0, 9.0]]])
    labels = jnp.array([[1, 2, 0]])
    keep = jnp.array([[True, True, False]])
    dirty = logits.at[0, 2].set(jnp.nan)  # garbage in a padding token
    np.testing.assert_array_equal(
        f(dirty, labels, where=keep), f(logits, labels, where=keep)
    )
    g = jax.grad(lambda a: jnp.sum(f(a, labels, where=keep)))(dirty)
    np.testing.assert_array_equal(g[0, 2], 0.0)
    assert_finite(g)
    # a label on an impossible category is +inf
    assert f(logits, jnp.array([[2, 2, 0]]), where=keep)[0] == jnp.inf
    # shapes and dtypes
    with pytest.raises(ValueError, match=r"^jaxdiv\.perplexity_with_integer_labels"):
        f(logits, labels[:, :2])
    with pytest.raises(TypeError, match="integer"):
        f(logits, labels.astype(jnp.float32))
    assert f(logits.astype(jnp.bfloat16), labels).dtype == jnp.float32
    # out-of-range labels are caught by the opt-in value checks
    checked = chex.chexify(jax.jit(f), async_check=False)
    with jaxdiv.value_checks():
        with pytest.raises(Exception, match="labels must lie in"):
            checked(logits, jnp.array([[1, 3, 0]]))


# --------------------------------------------------------------------------
# vocabulary-parallel perplexity


def test_perplexity_from_logits_under_shard_map():
    mesh = Mesh(np.array(jax.devices()), ("v",))
    rng = np.random.default_rng(8)
    a = rng.normal(size=(3, 16)).astype(np.float32)
    b = rng.normal(size=(3, 16)).astype(np.float32)
    a[1] = -np.inf
    for args in [(a,), (a, b)]:
        split = jax.jit(
            jax.shard_map(
                lambda *x: jaxdiv.perplexity_from_logits(*x, axis_name="v"),
                mesh=mesh,
                in_specs=(P(None, "v"),) * len(args),
                out_specs=P(),
            )
        )
        expected = jaxdiv.perplexity_from_logits(*args)
        np.testing.assert_allclose(split(*args), expected, rtol=1e-5)
        assert split(*args)[1] == 1.0
