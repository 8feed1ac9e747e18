"""jaxdiv.fused against dense float64 references, optax and jaxdiv.losses.

The references never tile: they form the full logits ``hidden @ weight`` in
float64 (``jax.enable_x64``), apply optax's losses (or NumPy formulas written
out here), and take gradients of that dense computation with ``jax.grad``.
Sizes are small (N ~ 64, D ~ 16, V ~ 96) with chunks that do not divide
them, so every code path (one tile, token blocks, vocabulary chunks, shifted
last block and chunk) runs.
"""

import functools

import chex
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxdiv
import jaxdiv.losses as L
from jaxdiv import fused

N, D, V = 64, 16, 96
# (chunk_size, token_chunk_size): one tile, vocabulary chunks (32 divides V,
# 40 does not), token blocks (10 does not divide N), both
CHUNKINGS = [(None, None), (32, None), (40, 24), (None, 10), (7, 64)]


def data(seed=0, n=N, d=D, v=V, dtype=np.float32):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(n, d)).astype(dtype)
    w = (rng.normal(size=(d, v)) * 0.6).astype(dtype)
    b = rng.normal(size=(v,)).astype(dtype)
    y = rng.integers(0, v, n).astype(np.int32)
    return h, w, b, y


def lce(*args, **kwargs):
    """fused.linear_cross_entropy under jit (one test runs it eagerly)."""
    return jax.jit(functools.partial(fused.linear_cross_entropy, **kwargs))(*args)


def lds(*args, **kwargs):
    """fused.linear_distillation_loss under jit."""
    return jax.jit(functools.partial(fused.linear_distillation_loss, **kwargs))(*args)


def jit_value_and_grad(f, argnums=0):
    return jax.jit(jax.value_and_grad(f, argnums))


def jit_grad(f, argnums=0):
    return jax.jit(jax.grad(f, argnums))


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)


def assert_rel(a, b, tol=1e-5):
    """Elementwise, relative to the largest entry of the reference."""
    assert np.shape(a) == np.shape(b)
    assert rel_err(a, b) <= tol, rel_err(a, b)


# --------------------------------------------------------------------------
# dense float64 references


def np_ce(h, w, b, y, kept, a=0.0, z=0.0, cap=None):
    """Per-token loss in NumPy float64, 0 where not kept."""
    s = np.asarray(h, np.float64) @ np.asarray(w, np.float64)
    if b is not None:
        s = s + np.asarray(b, np.float64)
    if cap is not None:
        s = cap * np.tanh(s / cap)
    m = s.max(-1, keepdims=True)
    lse = (m + np.log(np.exp(s - m).sum(-1, keepdims=True)))[:, 0]
    sy = s[np.arange(len(y)), np.clip(y, 0, s.shape[1] - 1)]
    loss = lse - (1 - a) * sy - a * s.mean(-1) + z * lse**2
    return np.where(kept, loss, 0.0)


def dense_ce(h, w, b, y, kept, weights, a=0.0, z=0.0, cap=None):
    """sum(weights * loss) through optax on the full logits (x64 inside)."""
    s = h @ w
    if b is not None:
        s = s + b[None, :]
    if cap is not None:
        s = cap * jnp.tanh(s / cap)
    safe = jnp.where(kept, y, 0)
    if a:
        t = optax.smooth_labels(jax.nn.one_hot(safe, s.shape[-1], dtype=s.dtype), a)
        loss = optax.losses.softmax_cross_entropy(s, t)
    else:
        loss = optax.losses.softmax_cross_entropy_with_integer_labels(s, safe)
    loss = loss + z * jax.nn.logsumexp(s, axis=-1) ** 2
    return jnp.sum(jnp.where(kept, loss * weights, 0.0))


def reference(fn, args, argnums, *extra):
    """Value and gradients of ``fn`` in float64."""
    with jax.enable_x64(True):
        args64 = [
            None
            if x is None
            else jnp.asarray(x, jnp.float64)
            if np.issubdtype(np.asarray(x).dtype, np.floating)
            else jnp.asarray(x)
            for x in args
        ]
        extra64 = [jnp.asarray(e) for e in extra]
        v, g = jax.value_and_grad(fn, argnums)(*args64, *extra64)
        return np.asarray(v), [np.asarray(x) for x in g]


def kept_of(y, where, ignore_index):
    kept = np.ones(len(y), bool) if where is None else np.asarray(where)
    if ignore_index is not None:
        kept = kept & (y != ignore_index)
    return kept


def token_weights(kept, reduction, cot):
    if reduction == "mean":
        return kept / max(kept.sum(), 1)
    if reduction == "sum":
        return kept.astype(np.float64)
    return cot  # "none": the cotangent of the per-token losses


# --------------------------------------------------------------------------
# linear_cross_entropy: every option, every reduction, every tiling

OPTIONS = [  # each option alone in a pair, and all of them together
    {},
    {"bias": True, "where": True},
    {"ignore_index": -100, "label_smoothing": 0.1},
    {"z_loss": 1e-3, "logit_softcap": 2.5},
    {
        "bias": True,
        "where": True,
        "ignore_index": -100,
        "label_smoothing": 0.2,
        "z_loss": 1e-2,
        "logit_softcap": 4.0,
    },
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("k", range(len(OPTIONS)))
def test_linear_cross_entropy_matches_dense_optax(k, reduction):
    opts = OPTIONS[k]
    rng = np.random.default_rng(k)
    h, w, b, y = data(k)
    where = rng.random(N) < 0.7 if opts.get("where") else None
    ignore = opts.get("ignore_index")
    if ignore is not None:
        y[rng.random(N) < 0.2] = ignore
    bias = b if opts.get("bias") else None
    a = opts.get("label_smoothing", 0.0)
    z = opts.get("z_loss", 0.0)
    cap = opts.get("logit_softcap")
    kept = kept_of(y, where, ignore)
    cot = rng.normal(size=N)
    weights = token_weights(kept, reduction, cot)

    args = (h, w) if bias is None else (h, w, bias)
    argnums = tuple(range(len(args)))

    def dense(*xs):
        hh, ww, *bb = xs[: len(args)]
        return dense_ce(hh, ww, bb[0] if bb else None, y, kept, weights, a, z, cap)

    v_ref, g_ref = reference(dense, args, argnums)
    per_token = np_ce(h, w, bias, y, kept, a, z, cap)
    np.testing.assert_allclose(
        v_ref, np.sum(per_token * weights), rtol=1e-12
    )  # the two references agree

    # rotate through the tilings so that each option meets several
    r = ["mean", "sum", "none"].index(reduction)
    for cs, tcs in (CHUNKINGS[(k + r) % 5],):

        def f(*xs, cs=cs, tcs=tcs):
            hh, ww, *bb = xs
            out = fused.linear_cross_entropy(
                hh,
                ww,
                y,
                bias=bb[0] if bb else None,
                where=where,
                ignore_index=ignore,
                label_smoothing=a,
                z_loss=z,
                logit_softcap=cap,
                chunk_size=cs,
                token_chunk_size=tcs,
                reduction=reduction,
            )
            if reduction == "none":
                np.testing.assert_equal(out.shape, (N,))
                return jnp.sum(out * cot.astype(np.float32))
            return out

        value, grads = jax.jit(jax.value_and_grad(f, argnums))(*args)
        assert value.dtype == jnp.float32
        assert_rel(value, v_ref)
        for g, gr, x in zip(grads, g_ref, args, strict=True):
            assert g.dtype == x.dtype
            assert_rel(g, gr)


@pytest.mark.parametrize("cs,tcs", CHUNKINGS)
def test_linear_cross_entropy_per_token_values(cs, tcs):
    h, w, b, y = data(3)
    where = np.random.default_rng(3).random(N) < 0.8
    out = lce(
        h,
        w,
        y,
        bias=b,
        where=where,
        label_smoothing=0.1,
        z_loss=1e-3,
        logit_softcap=3.0,
        chunk_size=cs,
        token_chunk_size=tcs,
        reduction="none",
    )
    expected = np_ce(h, w, b, y, where, 0.1, 1e-3, 3.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(out)[~where] == 0.0)


@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.1, "z_loss": 1e-3}])
def test_linear_cross_entropy_matches_jaxdiv_losses(opts):
    h, w, b, y = data(4)
    y[:5] = -100
    where = np.random.default_rng(4).random(N) < 0.8
    logits = jnp.asarray(h) @ jnp.asarray(w) + b[None, :]
    expected = L.softmax_cross_entropy_with_integer_labels(
        logits, y, where=where, ignore_index=-100, **opts
    )
    out = lce(
        h,
        w,
        y,
        bias=b,
        where=where,
        ignore_index=-100,
        reduction="none",
        chunk_size=40,
        token_chunk_size=24,
        **opts,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    kept = where & (y != -100)
    mean = lce(h, w, y, bias=b, where=where, ignore_index=-100, **opts)
    np.testing.assert_allclose(mean, L.masked_mean(expected, kept), rtol=1e-6)


def test_eager_jit_vmap_and_leading_axes():
    h, w, b, y = data(5)
    f = functools.partial(fused.linear_cross_entropy, chunk_size=40)
    eager = f(h, w, y, bias=b)
    np.testing.assert_allclose(jax.jit(f)(h, w, y, bias=b), eager, rtol=1e-6)
    # leading axes [2, 32, D] are tokens too
    per = jax.jit(functools.partial(f, reduction="none"))(
        h.reshape(2, 32, D), w, y.reshape(2, 32), bias=b
    )
    assert per.shape == (2, 32)
    np.testing.assert_allclose(per.mean(), eager, rtol=1e-6)
    # vmap over two problems equals two calls
    hs, ys = np.stack([h, h[::-1]]), np.stack([y, y[::-1]])
    grad = jax.jit(jax.value_and_grad(lambda a, c: f(a, w, c, bias=b)))
    batched = jax.vmap(grad)(hs, ys)
    for i in range(2):
        v, g = grad(hs[i], ys[i])
        np.testing.assert_allclose(batched[0][i], v, rtol=1e-6)
        np.testing.assert_allclose(batched[1][i], g, rtol=1e-5, atol=1e-8)


def test_gradient_check_in_float64():
    h, w, b, y = data(6, n=12, d=5, v=11)
    with jax.enable_x64(True):
        args = tuple(jnp.asarray(x, jnp.float64) for x in (h, w, b))

        @jax.jit
        def f(h, w, b):
            return fused.linear_cross_entropy(
                h,
                w,
                y,
                bias=b,
                label_smoothing=0.1,
                z_loss=0.01,
                logit_softcap=3.0,
                chunk_size=4,
                token_chunk_size=5,
            )

        assert f(*args).dtype == jnp.float64
        jax.test_util.check_grads(f, args, order=1, modes=("rev",))


def test_masked_tokens_hold_anything():
    h, w, b, y = data(7)
    where = np.ones(N, bool)
    where[::3] = False
    dirty = h.copy()
    dirty[::3] = np.nan  # the masked rows
    dirty[3, 0] = np.inf

    def f(h, w):
        return fused.linear_cross_entropy(h, w, y, where=where, chunk_size=40)

    grad = jax.jit(jax.value_and_grad(f, (0, 1)))
    (clean_v, clean_g), (v, g) = grad(h, w), grad(dirty, w)
    np.testing.assert_array_equal(v, clean_v)
    assert np.all(np.asarray(g[0])[~where] == 0.0)
    np.testing.assert_array_equal(g[0], clean_g[0])
    np.testing.assert_array_equal(g[1], clean_g[1])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_all_tokens_dropped(reduction):
    h, w, b, y = data(8)
    y[:] = -1

    def f(h, w):
        out = fused.linear_cross_entropy(
            h, w, y, ignore_index=-1, reduction=reduction, chunk_size=32
        )
        return jnp.sum(out)

    v, (gh, gw) = jit_value_and_grad(f, (0, 1))(h, w)
    assert v == 0.0
    assert not np.any(gh) and not np.any(gw)


def test_no_tokens():
    h, w, b, y = data(13)
    assert fused.linear_cross_entropy(h[:0], w, y[:0]) == 0.0
    assert fused.linear_cross_entropy(h[:0], w, y[:0], reduction="none").shape == (0,)
    g = jax.grad(fused.linear_cross_entropy)(h[:0], w, y[:0])
    assert g.shape == (0, D)


def test_bfloat16_accumulates_in_float32():
    h, w, b, y = data(9)
    hb, wb = jnp.asarray(h, jnp.bfloat16), jnp.asarray(w, jnp.bfloat16)

    def f(h, w):
        return fused.linear_cross_entropy(h, w, y, chunk_size=40, token_chunk_size=24)

    v, (gh, gw) = jit_value_and_grad(f, (0, 1))(hb, wb)
    assert v.dtype == jnp.float32
    assert gh.dtype == jnp.bfloat16 and gw.dtype == jnp.bfloat16
    # against float64 on the same (bf16-rounded) inputs
    kept = np.ones(N, bool)
    args = (np.asarray(hb, np.float32), np.asarray(wb, np.float32))
    v_ref, (gh_ref, gw_ref) = reference(
        lambda h, w: dense_ce(h, w, None, y, kept, kept / N), args, (0, 1)
    )
    assert rel_err(v, v_ref) < 1e-3
    assert rel_err(gh, gh_ref) < 2e-2 and rel_err(gw, gw_ref) < 2e-2


def test_traced_options_equal_static():
    h, w, b, y = data(10)
    static = lce(
        h, w, y, label_smoothing=0.1, z_loss=1e-3, logit_softcap=3.0, chunk_size=40
    )
    traced = jax.jit(
        lambda a, z, c: fused.linear_cross_entropy(
            h, w, y, label_smoothing=a, z_loss=z, logit_softcap=c, chunk_size=40
        )
    )(0.1, 1e-3, 3.0)
    np.testing.assert_allclose(traced, static, rtol=1e-6)


def _count_dots(jaxpr) -> int:
    n = 0
    for eqn in jaxpr.eqns:
        n += eqn.primitive.name == "dot_general"
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            n += _count_dots(sub)
    return n


@pytest.mark.parametrize(
    "argnums,expected", [(None, 1), ((0,), 2), ((1,), 2), ((0, 1), 3)]
)
def test_matmul_count_one_chunk(argnums, expected):
    """The documented cost: with the vocabulary in one chunk the loss and both
    gradients take the three matmuls of the unfused computation; a gradient
    that is not asked for costs none."""
    h, w, b, y = data(11)

    def f(h, w):
        return fused.linear_cross_entropy(h, w, y, token_chunk_size=16)

    fn = f if argnums is None else jax.value_and_grad(f, argnums)
    assert _count_dots(jax.make_jaxpr(fn)(h, w).jaxpr) == expected


def test_memory_grows_with_the_tile_not_the_logits():
    n, d, v = 1024, 32, 16384
    h = jax.ShapeDtypeStruct((n, d), jnp.float32)
    w = jax.ShapeDtypeStruct((d, v), jnp.float32)
    y = jax.ShapeDtypeStruct((n,), jnp.int32)

    def temp(f):
        grad = jax.value_and_grad(f, (0, 1))
        return (
            jax.jit(grad).lower(h, w, y).compile().memory_analysis().temp_size_in_bytes
        )

    def unfused(h, w, y):
        return optax.losses.softmax_cross_entropy_with_integer_labels(h @ w, y).mean()

    logits_bytes = n * v * 4
    assert temp(unfused) >= logits_bytes
    for cs, tcs in [(2048, None), (None, 64), (4096, 128)]:
        f = functools.partial(
            fused.linear_cross_entropy, chunk_size=cs, token_chunk_size=tcs
        )
        tile = (cs or v) * (tcs or n) * 4
        # a few tiles plus the float32 gradient accumulators, not N x V
        assert temp(f) <= 4 * tile + 2 * (d * v + n * d) * 4 < logits_bytes


def test_value_checks_catch_out_of_range_labels():
    h, w, b, y = data(12)
    y[3] = V
    f = chex.chexify(
        jax.jit(lambda h, w, y: fused.linear_cross_entropy(h, w, y)),
        async_check=False,
    )
    msg = "jaxdiv.fused.linear_cross_entropy: integer labels"
    with pytest.raises(Exception, match=msg):
        with jaxdiv.value_checks():
            f(h, w, y)
    y[3] = -100  # ignored labels are fine
    with jaxdiv.value_checks():
        f2 = chex.chexify(
            jax.jit(
                lambda h, w, y: fused.linear_cross_entropy(h, w, y, ignore_index=-100)
            ),
            async_check=False,
        )
        assert np.isfinite(f2(h, w, y))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"hidden": np.ones((4, 3), np.int32)}, TypeError, "hidden must be a floating"),
        ({"weight": np.ones((2, 5), np.float32)}, ValueError, "same D"),
        ({"labels": np.zeros((4, 1), np.int32)}, ValueError, "labels have shape"),
        ({"labels": np.zeros(4, np.float32)}, TypeError, "integer class indices"),
        ({"bias": np.ones(4, np.float32)}, ValueError, "bias has shape"),
        ({"reduction": "avg"}, ValueError, "reduction must be one of"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be positive"),
        ({"token_chunk_size": 2.5}, TypeError, "token_chunk_size must be"),
        ({"label_smoothing": 1.5}, ValueError, "label_smoothing must lie"),
        ({"z_loss": -1.0}, ValueError, "z_loss must lie"),
        ({"logit_softcap": 0.0}, ValueError, "logit_softcap must lie"),
        ({"where": np.ones(4, np.int32)}, TypeError, "boolean mask"),
    ],
)
def test_linear_cross_entropy_errors(kwargs, error, match):
    args = {
        "hidden": np.ones((4, 3), np.float32),
        "weight": np.ones((3, 5), np.float32),
        "labels": np.zeros(4, np.int32),
    }
    for k in list(args):
        if k in kwargs:
            args[k] = kwargs.pop(k)
    with pytest.raises(error, match="^jaxdiv.fused.linear_cross_entropy: .*" + match):
        fused.linear_cross_entropy(
            args["hidden"], args["weight"], args["labels"], **kwargs
        )


# --------------------------------------------------------------------------
# linear_distillation_loss


def distill_data(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    hs = rng.normal(size=(N, D)).astype(dtype)
    ws = (rng.normal(size=(D, V)) * 0.6).astype(dtype)
    ht = rng.normal(size=(N, 12)).astype(dtype)
    wt = (rng.normal(size=(12, V)) * 0.8).astype(dtype)
    return hs, ws, ht, wt


def np_log_softmax(x):
    x = np.asarray(x, np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def np_divergence(hs, ws, ht, wt, divergence, t, beta):
    """Per-token T^2 D in NumPy float64."""
    ls = np_log_softmax(np.asarray(hs, np.float64) @ ws / t)
    lt = np_log_softmax(np.asarray(ht, np.float64) @ wt / t)
    ps, pt = np.exp(ls), np.exp(lt)
    if divergence == "forward_kl":
        d = np.sum(pt * (lt - ls), -1)
    elif divergence == "reverse_kl":
        d = np.sum(ps * (ls - lt), -1)
    else:
        m = beta * pt + (1 - beta) * ps
        with np.errstate(divide="ignore", invalid="ignore"):
            kt = np.sum(np.where(pt > 0, pt * (lt - np.log(m)), 0.0), -1)
            ks = np.sum(np.where(ps > 0, ps * (ls - np.log(m)), 0.0), -1)
        d = beta * kt + (1 - beta) * ks
    return t * t * d


def dense_distill(hs, ws, ht, wt, weights, divergence, t, beta):
    """sum(weights * T^2 D) on the full logits, teacher held fixed."""
    ls = jax.nn.log_softmax(hs @ ws / t)
    lt = jax.lax.stop_gradient(jax.nn.log_softmax(ht @ wt / t))
    if divergence == "forward_kl":
        d = optax.losses.kl_divergence_with_log_targets(ls, lt)
    elif divergence == "reverse_kl":
        d = optax.losses.kl_divergence_with_log_targets(lt, ls)
    else:
        lm = jnp.logaddexp(lt + jnp.log(beta), ls + jnp.log1p(-beta))
        d = beta * optax.losses.kl_divergence_with_log_targets(lm, lt)
        d = d + (1 - beta) * optax.losses.kl_divergence_with_log_targets(lm, ls)
    return jnp.sum(weights * t * t * d)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl", "jsd"])
def test_linear_distillation_matches_dense(divergence, reduction):
    k = ["forward_kl", "reverse_kl", "jsd"].index(divergence) * 3 + [
        "mean",
        "sum",
        "none",
    ].index(reduction)
    rng = np.random.default_rng(k)
    hs, ws, ht, wt = distill_data(k)
    where = rng.random(N) < 0.75
    t, beta = 2.0, 0.3
    cot = rng.normal(size=N)
    weights = token_weights(where, reduction, cot) * where
    args = (hs, ws, ht, wt)
    v_ref, g_ref = reference(
        lambda *a: dense_distill(*a, weights, divergence, t, beta), args, (0, 1)
    )
    per = np_divergence(hs, ws, ht, wt, divergence, t, beta)
    np.testing.assert_allclose(v_ref, np.sum(weights * per), rtol=1e-10)
    for cs, tcs in (CHUNKINGS[k % 5],):

        def f(*a, cs=cs, tcs=tcs):
            out = fused.linear_distillation_loss(
                *a,
                temperature=t,
                divergence=divergence,
                beta=beta,
                where=where,
                chunk_size=cs,
                token_chunk_size=tcs,
                reduction=reduction,
            )
            return jnp.sum(out * cot.astype(np.float32)) if reduction == "none" else out

        value, grads = jax.jit(jax.value_and_grad(f, (0, 1, 2, 3)))(*args)
        assert_rel(value, v_ref)
        assert_rel(grads[0], g_ref[0])
        assert_rel(grads[1], g_ref[1])
        # the teacher is a fixed target
        assert not np.any(grads[2]) and not np.any(grads[3])


@pytest.mark.parametrize(
    "divergence,beta",
    [
        ("forward_kl", 0.5),
        ("reverse_kl", 0.5),
        ("jsd", 0.5),
        ("jsd", 0.1),
    ],
)
def test_linear_distillation_matches_jaxdiv_losses(divergence, beta):
    hs, ws, ht, wt = distill_data(20)
    s, t = jnp.asarray(hs) @ ws, jnp.asarray(ht) @ wt
    expected = L.distillation_loss(
        s, t, temperature=1.5, divergence=divergence, beta=beta
    )
    out = lds(
        hs,
        ws,
        ht,
        wt,
        temperature=1.5,
        divergence=divergence,
        beta=beta,
        reduction="none",
        chunk_size=40,
        token_chunk_size=24,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_linear_distillation_jsd_edges(beta):
    """At beta = 0 or 1 the mixture is one of the two: JSD = 0, gradient 0."""
    hs, ws, ht, wt = distill_data(21)
    v, g = jit_value_and_grad(
        lambda a: fused.linear_distillation_loss(
            a, ws, ht, wt, divergence="jsd", beta=beta, chunk_size=32
        )
    )(hs)
    assert v == 0.0
    np.testing.assert_allclose(g, 0.0, atol=1e-7)


def test_linear_distillation_identical_models_is_zero():
    hs, ws, _, _ = distill_data(22)
    for divergence in ["forward_kl", "reverse_kl", "jsd"]:
        v = lds(hs, ws, hs, ws, divergence=divergence, reduction="none", chunk_size=40)
        np.testing.assert_allclose(v, 0.0, atol=1e-6)
    g = jit_grad(
        lambda a: fused.linear_distillation_loss(a, ws, hs, ws, divergence="jsd")
    )(hs)
    np.testing.assert_allclose(g, 0.0, atol=1e-6)


def test_linear_distillation_bfloat16_and_traced_temperature():
    hs, ws, ht, wt = distill_data(22)
    bf = [jnp.asarray(x, jnp.bfloat16) for x in (hs, ws, ht, wt)]
    v, g = jit_value_and_grad(
        lambda a, b: fused.linear_distillation_loss(a, b, bf[2], bf[3], chunk_size=40),
        (0, 1),
    )(bf[0], bf[1])
    assert v.dtype == jnp.float32 and g[0].dtype == jnp.bfloat16
    ref = np_divergence(
        *(np.asarray(x, np.float32) for x in bf), "forward_kl", 1.0, 0.5
    )
    assert rel_err(v, ref.mean()) < 1e-3
    traced = jax.jit(
        lambda t: fused.linear_distillation_loss(hs, ws, ht, wt, temperature=t)
    )(3.0)
    static = lds(hs, ws, ht, wt, temperature=3.0)
    np.testing.assert_allclose(traced, static, rtol=1e-6)


def test_linear_distillation_count_one_chunk():
    """Student 3 matmuls (logits, d hidden, d weight), teacher 1."""
    hs, ws, ht, wt = distill_data(23)

    def f(a, b):
        return fused.linear_distillation_loss(a, b, ht, wt, token_chunk_size=16)

    assert _count_dots(jax.make_jaxpr(jax.value_and_grad(f, (0, 1)))(hs, ws).jaxpr) == 4
    assert _count_dots(jax.make_jaxpr(f)(hs, ws).jaxpr) == 2


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"divergence": "kl"}, ValueError, "divergence must be one of"),
        ({"temperature": 0.0}, ValueError, "temperature must lie"),
        ({"beta": -0.1}, ValueError, "beta must lie"),
        ({"teacher_hidden": np.ones((5, 2), np.float32)}, ValueError, "leading shape"),
        ({"teacher_weight": np.ones((2, 6), np.float32)}, ValueError, "vocabulary"),
    ],
)
def test_linear_distillation_errors(kwargs, error, match):
    args = {
        "student_hidden": np.ones((4, 3), np.float32),
        "student_weight": np.ones((3, 5), np.float32),
        "teacher_hidden": np.ones((4, 2), np.float32),
        "teacher_weight": np.ones((2, 5), np.float32),
    }
    for k in list(args):
        if k in kwargs:
            args[k] = kwargs.pop(k)
    prefix = "^jaxdiv.fused.linear_distillation_loss: .*"
    with pytest.raises(error, match=prefix + match):
        fused.linear_distillation_loss(*args.values(), **kwargs)


def test_benchmark_runs_and_reports(capsys):
    from jaxdiv import benchmark

    argv = "--n 32 --d 8 --v 40 --repeats 1 --cases linear_ce --json".split()
    (row,) = benchmark.main(argv)
    out = capsys.readouterr().out
    assert '"case": "linear_ce"' in out and '"jaxdiv_temp_mib"' in out
    assert row.jaxdiv_ms > 0 and row.baseline_ms > 0 and row.ratio > 0
    assert row.jaxdiv_roofline is None  # CPU: no peak known
    assert "linear_ce" in benchmark._format(row)
    assert benchmark.peak_tflops(jax.devices()[0], "float32", 7.0) == 7.0


def test_benchmark_log_probs_rows_memory_only_and_plan():
    from jaxdiv import benchmark

    argv = (
        "--n 16 --d 8 --v 24 --cases linear_log_probs --memory-only --plan vocab_outer"
    )
    (row,) = benchmark.main(argv.split())
    assert row.plan.startswith("vocab_outer") and row.jaxdiv_temp_mib > 0
    assert row.value_only_temp_mib is not None and np.isnan(row.jaxdiv_ms)
    assert set(benchmark.SHAPES) >= {"default", "gemma2-2b", "n8192-d2048-v131072"}
