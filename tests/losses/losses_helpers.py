"""NumPy float64 references, tolerances and inputs shared by the tests of jaxdiv.losses.

References are independent of jaxdiv: ``optax.losses`` on inputs where its
values are finite and correct, and NumPy float64 formulas written out here
(log-softmax, cross-entropy, KL, the KL estimators).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

import jaxdiv.losses as L
from jaxdiv._core import formulas
from jaxdiv._core.numerics import log_softmax

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
# against optax on random inputs (where optax is finite and correct)

SHAPES_AXES = [((7,), -1), ((4, 6), 0), ((2, 3, 5), 1), ((2, 3, 5), (0, 2))]


def _masks(rng, shape, axis):
    """None, an entry mask, and (single axis) an example mask."""
    entry = rng.random(shape) < 0.7
    out = [None, entry]
    if isinstance(axis, int):
        out.append(rng.random(np.delete(np.array(shape), axis)) < 0.7)
    return out


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


# --------------------------------------------------------------------------
# distillation and the KL penalty, against NumPy float64


def _np_softmax(x):
    return np.exp(np_log_softmax(x))


def _unfused_kl_from_logits(a, b, where):
    """KL(softmax(a) || softmax(b)) the unfused way: the masked log-softmax of
    jaxdiv._core.numerics and the KL formula of jaxdiv._core.formulas, differentiated
    by JAX (what the fused kernel replaces)."""
    logp = log_softmax(a, (1,), where)
    logq = log_softmax(b, (1,), where)
    return formulas.kl(jnp.exp(logp), logp, logq, (1,))


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


def scipy_softmax(x):
    e = np.exp(x - np.max(x, -1, keepdims=True))
    return e / np.sum(e, -1, keepdims=True)


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
