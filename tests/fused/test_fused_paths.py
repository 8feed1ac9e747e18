"""jaxdiv.fused: every plan and dtype executed, large logits, memory, log-probs.

References are dense and float64: ``jaxdiv.fused.reference`` (plain
``log_softmax`` on the full logits, ordinary autodiff) under
``jax.enable_x64``, and NumPy float64 written out here for the large-logit
cases. Plans are forced with ``memory_budget``: 1 byte gives
``"vocab_outer"``, the default gives ``"in_forward"`` at these sizes.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiv import fused
from jaxdiv.fused import plan as plan_mod
from jaxdiv.fused import reference

N, D, V = 29, 8, 53  # nothing divides anything
PLANS = {"in_forward": None, "vocab_outer": 1}


def data(seed=0, n=N, d=D, v=V):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(n, d)).astype(np.float32)
    w = (rng.normal(size=(d, v)) * 0.7).astype(np.float32)
    b = rng.normal(size=(v,)).astype(np.float32)
    y = rng.integers(0, v, n).astype(np.int32)
    where = rng.random(n) < 0.8
    cot = rng.normal(size=(n,)).astype(np.float32)
    return h, w, b, y, where, cot


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)


def ref_vg(fn, args, argnums):
    """Dense float64 value and gradients."""
    with jax.enable_x64(True):
        a64 = [
            jnp.asarray(x, jnp.float64) if np.asarray(x).dtype.kind == "f" else x
            for x in args
        ]
        v, g = jax.value_and_grad(fn, argnums)(*a64)
        return np.asarray(v), [np.asarray(x) for x in g]


def test_planner_rule_and_validation():
    p = plan_mod.make_plan(n=4096, d=512, v=32768, weight_itemsize=4)
    assert p.method == "in_forward" and p.cols == 32768
    big = plan_mod.make_plan(n=8192, d=2048, v=131072, weight_itemsize=2)
    assert big.method == "vocab_outer"
    assert 4 * big.d * big.cols <= 2**22 * 4 and 4 * big.d * big.grad_cols <= 2**24
    forced = plan_mod.make_plan(n=64, d=8, v=96, weight_itemsize=4, memory_budget=1)
    assert forced.method == "vocab_outer"
    with pytest.raises(ValueError, match="method"):
        plan_mod.Plan(n=4, d=2, v=3, rows=4, cols=3, method="nope")
    with pytest.raises(ValueError, match="exceed"):
        plan_mod.Plan(n=4, d=2, v=3, rows=5, cols=3)
    with pytest.raises(ValueError, match="memory_budget"):
        fused.linear_cross_entropy(jnp.ones((2, 3)), jnp.ones((3, 4)), jnp.zeros(2, int),  # noqa: E501
                                   memory_budget=0)  # fmt: skip


CE_ALL = {
    "ignore_index": 3,
    "label_smoothing": 0.2,
    "z_loss": 1e-2,
    "logit_softcap": 4.0,
}


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("cs,tcs", [(None, None), (11, 7)])
def test_cross_entropy_every_plan_matches_dense(plan, reduction, cs, tcs):
    h, w, b, y, where, cot = data(1)
    kw = dict(where=where, reduction=reduction, **CE_ALL)

    def fz(h, w, b):
        out = fused.linear_cross_entropy(
            h, w, y, bias=b, chunk_size=cs, token_chunk_size=tcs,
            memory_budget=PLANS[plan], **kw,
        )  # fmt: skip
        return out if reduction == "mean" else jnp.sum(out * cot)

    def fr(h, w, b):
        out = reference.cross_entropy(h, w, y, bias=b, **kw)
        return out if reduction == "mean" else jnp.sum(out * cot)

    v, g = jax.jit(jax.value_and_grad(fz, (0, 1, 2)))(h, w, b)
    rv, rg = ref_vg(fr, (h, w, b), (0, 1, 2))
    assert rel(v, rv) < 1e-5
    for a, r in zip(g, rg, strict=True):
        assert rel(a, r) < 1e-5


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl", "jsd"])
def test_distillation_every_plan_matches_dense(plan, divergence):
    h, w, _, _, where, cot = data(2)
    rng = np.random.default_rng(2)
    ht = rng.normal(size=(N, 5)).astype(np.float32)
    wt = rng.normal(size=(5, V)).astype(np.float32)
    kw = dict(temperature=1.7, divergence=divergence, beta=0.3, where=where)

    def fz(h, w, ht, wt):
        return fused.linear_distillation_loss(
            h, w, ht, wt, chunk_size=11, token_chunk_size=7,
            memory_budget=PLANS[plan], **kw,
        )  # fmt: skip

    v, g = jax.jit(jax.value_and_grad(fz, (0, 1, 2, 3)))(h, w, ht, wt)
    rv, rg = ref_vg(lambda *a: reference.distillation(*a, **kw), (h, w, ht, wt), (0, 1))
    assert rel(v, rv) < 1e-5
    assert rel(g[0], rg[0]) < 1e-5 and rel(g[1], rg[1]) < 1e-5
    assert not np.any(g[2]) and not np.any(g[3])  # the teacher is fixed


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("cs,tcs", [(None, None), (11, 7)])
def test_log_probs_values_and_random_cotangents(plan, cs, tcs):
    h, w, b, y, where, cot = data(3)
    cot2 = np.random.default_rng(4).normal(size=N).astype(np.float32)
    kw = dict(bias=None, temperature=0.7, logit_softcap=3.0, where=where)
    h = np.where(where[:, None], h, np.nan).astype(np.float32)  # masked: anything

    def fz(h, w, b):
        lp, ent = fused.linear_log_probs(
            h, w, y, return_entropy=True, chunk_size=cs, token_chunk_size=tcs,
            memory_budget=PLANS[plan], **{**kw, "bias": b},
        )  # fmt: skip
        return jnp.sum(lp * cot) + jnp.sum(ent * cot2), (lp, ent)

    def fr(h, w, b):
        lp, ent = reference.log_probs(h, w, y, return_entropy=True, **{**kw, "bias": b})
        return jnp.sum(lp * cot) + jnp.sum(ent * cot2)

    (v, (lp, ent)), g = jax.jit(jax.value_and_grad(fz, (0, 1, 2), has_aux=True))(
        h, w, b
    )
    rv, rg = ref_vg(fr, (np.nan_to_num(h), w, b), (0, 1, 2))
    assert rel(v, rv) < 1e-5
    for a, r in zip(g, rg, strict=True):
        assert rel(a, r) < 1e-5
    assert np.all(np.asarray(lp)[~where] == 0) and np.all(np.asarray(ent)[~where] == 0)
    assert np.all(np.asarray(g[0])[~where] == 0)
    with jax.enable_x64(True):
        rlp, rent = reference.log_probs(
            np.nan_to_num(h).astype(np.float64), w.astype(np.float64), y,
            return_entropy=True, **{**kw, "bias": b.astype(np.float64)},
        )  # fmt: skip
    assert rel(lp, rlp) < 1e-5 and rel(ent, rent) < 1e-5


def test_tiny_shapes_n1_v2():
    h, w, _, y = (
        np.ones((1, 3), np.float32),
        np.eye(3, 2, dtype=np.float32),
        None,
        np.array([1]),
    )
    for budget in PLANS.values():
        f = functools.partial(fused.linear_cross_entropy, memory_budget=budget)
        v, (gh, gw) = jax.jit(jax.value_and_grad(f, (0, 1)))(h, w, y)
        rv, (rh, rw) = ref_vg(
            lambda h, w: reference.cross_entropy(h, w, y), (h, w), (0, 1)
        )
        assert rel(v, rv) < 1e-6 and rel(gh, rh) < 1e-6 and rel(gw, rw) < 1e-6


# --------------------------------------------------------------------------
# every public function, executed under jit(value_and_grad), in each dtype

DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16]


def _cases(y):
    return {
        "ce_mean": lambda h, w, **k: fused.linear_cross_entropy(h, w, y, **k),
        "ce_none": lambda h, w, **k: jnp.sum(
            fused.linear_cross_entropy(h, w, y, reduction="none", label_smoothing=0.1,
                                       z_loss=1e-3, logit_softcap=5.0, **k)),
        "distill_rkl": lambda h, w, **k: fused.linear_distillation_loss(
            h, w, h, 0.5 * w, divergence="reverse_kl", **k),
        "distill_jsd": lambda h, w, **k: fused.linear_distillation_loss(
            h, w, h, 0.5 * w, divergence="jsd", reduction="sum", **k),
        "log_probs": lambda h, w, **k: jnp.sum(
            jnp.stack(fused.linear_log_probs(h, w, y, return_entropy=True, **k))),
    }  # fmt: skip


@pytest.mark.parametrize("plan", PLANS)
def test_jitted_value_and_grad_runs_in_every_dtype(plan):
    """Executed, not only compiled; 16-bit within its tolerance of float32
    on the same rounded inputs."""
    h, w, _, y, _, _ = data(5)
    for name, f in _cases(y).items():
        g = jax.jit(
            jax.value_and_grad(functools.partial(f, memory_budget=PLANS[plan]), (0, 1))
        )
        outs = {}
        for dt in DTYPES:
            hd, wd = jnp.asarray(h, dt), jnp.asarray(w, dt)
            v, (gh, gw) = g(hd, wd)  # fmt: skip
            assert gh.dtype == dt and gw.dtype == dt and v.dtype == jnp.float32
            outs[dt] = (v, gh, gw)
            if dt != jnp.float32:
                v32, (gh32, gw32) = g(hd.astype(jnp.float32), wd.astype(jnp.float32))
                tol = 2e-2 if dt == jnp.bfloat16 else 4e-3
                assert rel(v, v32) < tol, name
                assert rel(gh, gh32) < 4 * tol and rel(gw, gw32) < 4 * tol, name


# --------------------------------------------------------------------------
# large logits against float64 NumPy


def np_log_softmax(s):
    s = np.asarray(s, np.float64)
    m = s.max(-1, keepdims=True)
    return (s - m) - np.log(np.exp(s - m).sum(-1, keepdims=True))


@pytest.mark.parametrize("scale", [1e4, 1e30])
@pytest.mark.parametrize("plan", PLANS)
def test_large_logits_cross_entropy_and_log_probs(scale, plan):
    # hidden [2, 1], weight [1, 3]: logits rows [s, s, -s] and [-s, s, 3]
    h = np.array([[1.0], [-1.0]], np.float32)
    w = np.array([[scale, scale, -scale]], np.float32)
    b = np.array([0.0, 0.0, 3.0], np.float32)
    y = np.array([0, 2])
    s = np.asarray(h, np.float64) @ w + b
    lp = np_log_softmax(s)
    p = np.exp(lp)
    g = p - np.eye(3)[y]  # d sum CE / d logits
    budget = PLANS[plan]
    f = functools.partial(
        fused.linear_cross_entropy, reduction="sum", memory_budget=budget, chunk_size=2
    )
    v, (gw, gb) = jax.jit(jax.value_and_grad(lambda w, b: f(h, w, y, bias=b), (0, 1)))(
        w, b
    )
    np.testing.assert_allclose(v, -lp[[0, 1], y].sum(), rtol=1e-6)
    np.testing.assert_allclose(gb, g.sum(0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gw, (np.asarray(h, np.float64).T @ g), rtol=1e-6,
                               atol=1e-6 * scale)  # fmt: skip
    lpz, ent = fused.linear_log_probs(h, w, y, bias=b, return_entropy=True,
                                      chunk_size=2, memory_budget=budget)  # fmt: skip
    np.testing.assert_allclose(lpz, lp[[0, 1], y], rtol=1e-6)
    np.testing.assert_allclose(ent, -(np.where(p > 0, p * lp, 0)).sum(-1), rtol=1e-6,
                               atol=1e-7)  # fmt: skip


@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_large_logits_distillation(scale):
    # student logits [s, s, 0] (hidden 1, weight row), teacher [0, 1, 2]
    hs = np.ones((1, 1), np.float32)
    ws = np.array([[scale, scale, 0.0]], np.float32)
    wt = np.array([[0.0, 1.0, 2.0]], np.float32)
    lps, lpt = np_log_softmax(ws), np_log_softmax(wt)
    ps, pt = np.exp(lps), np.exp(lpt)
    rkl = np.sum(np.where(ps > 0, ps * (lps - lpt), 0))
    fkl = np.sum(pt * (lpt - lps))
    for div, want in (("reverse_kl", rkl), ("forward_kl", fkl)):
        for cs in (None, 2):
            got = fused.linear_distillation_loss(
                hs, ws, hs, wt, divergence=div, chunk_size=cs
            )
            np.testing.assert_allclose(got, want, rtol=1e-5)


# --------------------------------------------------------------------------
# memory, from memory_analysis (deterministic)


def temp_bytes(f, *args):
    return jax.jit(f).lower(*args).compile().memory_analysis().temp_size_in_bytes


def test_value_only_temporaries_do_not_grow_with_n():
    d, v = 64, 512
    f = functools.partial(fused.linear_log_probs, chunk_size=128, token_chunk_size=64)
    for dt, per_token in ((jnp.float32, 0), (jnp.bfloat16, 2 * d)):
        w = jnp.zeros((d, v), dt)
        sizes = []
        for n in (256, 2048):
            h, y = jnp.zeros((n, d), dt), jnp.zeros((n,), jnp.int32)
            sizes.append(temp_bytes(lambda h, w, y: f(h, w, y), h, w, y))
        # float32: nothing grows with N (the O(N) statistics are outputs or
        # reuse a block's buffers); 16-bit on CPU: the integer view of
        # hidden through which its tiles are sliced (jaxdiv.fused.sweep),
        # never a float32 copy of hidden or weight, never [N, V]
        assert sizes[1] - sizes[0] <= per_token * (2048 - 256), (dt, sizes)


def test_gradient_temporaries_do_not_grow_with_v_beyond_the_gradient():
    n, d = 128, 16
    sizes = []
    y = jnp.zeros((n,), jnp.int32)
    for v in (1024, 8192):
        h, w = jnp.zeros((n, d)), jnp.zeros((d, v))
        f = functools.partial(
            fused.linear_cross_entropy, chunk_size=256, token_chunk_size=64,
            memory_budget=1,
        )  # fmt: skip
        g = jax.grad(lambda h, w, f=f: f(h, w, y), (0, 1))
        sizes.append(temp_bytes(g, h, w))
    # at most the growth of d_weight itself ([D, V]); measured: none in float32,
    # exactly the bfloat16 d_weight in bfloat16
    assert sizes[1] - sizes[0] <= 4 * d * (8192 - 1024), sizes
