"""The logits forms at logits of 1e4 and 1e30 and at gaps of 100 nats: values
and gradients against float64 NumPy in log space (issue 9, item 2).

The order families are checked at Python and at traced orders (a traced
order evaluates every branch, so an unselected one that overflows must not
reach the gradient), the KL kernel in both directions (the distillation
loss's forward KL is ``kl_from_logits(teacher, student)``).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdiv
import jaxdiv.losses as L

# (p_logits, q_logits) rows: huge logits, a gap of 100 nats either way, -inf
A = np.array(
    [
        [1e30, 1e30, 0, 0, 0],
        [0, 1, 2, 3, 4],
        [1e4, 1e4, -1e4, 0, 1],
        [-1e4, 3, 0, 1, 2],
        [0, -100, -100, -100, -100],
        [-100, 0, 0, 0, 0],
        [3e38, 3e38, 0, 1, 2],
        [0, 1e30, -np.inf, 2, 0],
    ],
    np.float32,
)
B = np.array(
    [
        [0, 1, 2, 3, 4],
        [1e30, 1e30, 0, 0, 1],
        [-1e4, 3, 0, 1, 2],
        [1e4, 1e4, -1e4, 0, 1],
        [-100, 0, 0, 0, 0],
        [0, -100, -100, -100, -100],
        [0, 1, 2, 3, 4],
        [1e30, 0, 0, -np.inf, 1e30],
    ],
    np.float32,
)


def log_softmax64(x):
    """float64 log-softmax, the shift subtracted first (exact for these rows)."""
    x = np.asarray(x, np.float64)
    m = np.max(x, -1, keepdims=True)
    with np.errstate(invalid="ignore"):
        z = np.where(np.isneginf(x), -np.inf, x - m)
    return z - np.log(np.sum(np.exp(z), -1, keepdims=True))


def lse(x):
    """``(logsumexp, softmax)``, the softmax formed as ``(x - m) - log s``
    (``x - logsumexp`` loses ``log s`` next to terms of 5e29)."""
    m = np.max(x, -1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    log_s = np.log(np.sum(np.exp(x - m), -1, keepdims=True))
    return np.squeeze(m + log_s, -1), np.exp((x - m) - log_s)


def kl64(lp, lq):
    """KL(p || q) and its gradients in the logits of p and of q."""
    p, q = np.exp(lp), np.exp(lq)
    with np.errstate(invalid="ignore"):
        r = np.where(p > 0, lp - lq, 0.0)
    d = np.sum(p * r, -1)
    return d, p * (r - d[:, None]), q - p


def order64(name, lp, lq, a):
    """Value and gradients (in the logits of p and of q) of one order family.

    With ``K = log sum p^a q^(1 - a)`` and the escort ``w = softmax(a log p +
    (1 - a) log q)``: ``dK = a (w - p)`` in p's logits, ``(1 - a) (w - q)``
    in q's. Orders 1 (and 0 for Amari) are the KL limits.
    """
    unary = lq is None
    if a == 1.0 or (name == "alpha" and a == 0.0):
        if unary:
            p = np.exp(lp)
            h = -np.sum(np.where(p > 0, p * lp, 0.0), -1)
            return h, -p * (np.where(p > 0, lp, 0.0) + h[:, None]), None
        if a == 1.0:
            return kl64(lp, lq)
        d, gq, gp = kl64(lq, lp)
        return d, gp, gq
    both = np.isfinite(lp) & (unary or np.isfinite(lq))
    x = a * lp if unary else a * lp + (1 - a) * lq
    x = np.where(both, x, -np.inf)
    k, w = lse(x)
    dkp = a * (w - np.exp(lp))
    dkq = None if unary else (1 - a) * (w - np.exp(lq))
    if name == "renyi":
        return k / (a - 1), dkp / (a - 1), dkq / (a - 1)
    if name == "renyi_entropy":
        return k / (1 - a), dkp / (1 - a), None
    if name == "tsallis":
        e = np.exp(k)[:, None]
        return -np.expm1(k) / (a - 1), -e * dkp / (a - 1), None
    e = np.exp(k)[:, None]  # Amari
    c = a * (1 - a)
    return -np.expm1(k) / c, -e * dkp / c, -e * dkq / c


FNS = {
    "renyi": jaxdiv.renyi_divergence_from_logits,
    "alpha": jaxdiv.alpha_divergence_from_logits,
    "renyi_entropy": jaxdiv.renyi_entropy_from_logits,
    "tsallis": jaxdiv.tsallis_entropy_from_logits,
}
ORDERS = {
    "renyi": (0.5, 1.0, 1.0001, 2.0),
    "alpha": (-1.0, 0.0, 0.5, 1.0, 1.0001, 2.0),
    "renyi_entropy": (0.0, 0.5, 1.0, 2.0),
    "tsallis": (0.5, 1.0, 2.0),
}
CASES = [(n, a) for n, orders in ORDERS.items() for a in orders]


def assert_grad_close(got, want, finite_rows):
    got, want = np.asarray(got, np.float64)[finite_rows], want[finite_rows]
    assert np.all(np.isfinite(got)), got
    scale = np.max(np.abs(want), -1, keepdims=True) + 1e-6
    np.testing.assert_array_less(
        np.abs(got - want), np.broadcast_to(2e-4 * scale, got.shape)
    )


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("name,alpha", CASES)
def test_order_families_at_large_logits(name, alpha, traced):
    unary = name in ("renyi_entropy", "tsallis")
    rows = slice(None) if not unary else slice(0, 7)  # (one -inf column in 7)
    a, b = A[rows], B[rows]
    lp, lq = log_softmax64(a), None if unary else log_softmax64(b)
    # (the float32 order: 1.0001 rounds by 1.7e-8, which moves D by 2e-5)
    with np.errstate(over="ignore", invalid="ignore"):  # (inf values)
        want, gp_want, gq_want = order64(name, lp, lq, float(np.float32(alpha)))
    big = np.abs(want) > np.finfo(np.float32).max  # rounds to inf in float32
    want = np.where(big, np.inf, want)
    fn = FNS[name]

    def f(a, b, alpha):
        return fn(a, alpha=alpha) if unary else fn(a, b, alpha=alpha)

    order = jnp.float32(alpha) if traced else alpha
    f = jax.jit(f) if traced else f
    got = np.asarray(f(a, b, order), np.float64)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    fin = np.isfinite(want)

    def total(a, b, order):
        return jnp.sum(jnp.where(fin, f(a, b, order), 0.0))

    # (a traced order is differentiated too, all under one jit: as in training)
    args = (0, 1, 2) if traced else (0, 1)
    grads = jax.jit(jax.grad(total, args))(a, b, order) if traced else None
    gp, gq, *g_order = grads or jax.grad(total, args)(a, b, order)
    if g_order and np.all(fin):
        assert np.isfinite(g_order[0])
    assert_grad_close(gp, gp_want, fin)
    if not unary:
        assert_grad_close(gq, gq_want, fin)


@pytest.mark.parametrize("direction", ["forward_kl", "reverse_kl"])
def test_distillation_kl_at_large_logits(direction):
    """``kl_from_logits`` weighs by p before summing: sum(e^(a - max) u) of
    the terms overflowed at logits of 3e38 although the mean, the KL, fits."""
    s, t = A, B
    p, q = (t, s) if direction == "forward_kl" else (s, t)
    want, gp, gq = kl64(log_softmax64(p), log_softmax64(q))
    got = L.distillation_loss(s, t, divergence=direction)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=2e-5)
    fin = np.isfinite(want)
    gs, gt = jax.grad(
        lambda s, t: jnp.sum(
            jnp.where(fin, L.distillation_loss(s, t, divergence=direction), 0.0)
        ),
        (0, 1),
    )(s, t)
    g_p, g_q = (gt, gs) if direction == "forward_kl" else (gs, gt)
    assert_grad_close(g_p, gp, fin)
    assert_grad_close(g_q, gq, fin)
