"""Sharded use of jaxdiv on the 8 host CPU devices of conftest.py.

* vocabulary parallelism: ``axis_name`` under ``shard_map``, each device
  holding a slice of the vocabulary (the fused losses and the ``_from_logits``
  measures), against the same function on one device;
* data parallelism: token-sharded inputs under plain ``jax.jit`` (Auto and
  Explicit mesh axes) and ``token_axis_name`` under ``shard_map``, where the
  mean over kept tokens must be the exact global mean, not a mean of means;
* both at once on a 2 x 4 mesh.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxdiv
from jaxdiv import fused

N, D, V = 64, 16, 96  # 12 vocabulary entries and 8 tokens per device
TOL = {"rtol": 1e-6, "atol": 1e-6}


def assert_tree_close(a, b, **tol):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(x, y, **(tol or TOL))


def ce_data(seed=0):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(N, D)).astype(np.float32)
    w = (rng.normal(size=(D, V)) * 0.6).astype(np.float32)
    b = rng.normal(size=(V,)).astype(np.float32)
    y = rng.integers(0, V, N).astype(np.int32)
    y[rng.random(N) < 0.1] = -100
    where = rng.random(N) < 0.8
    where[8:16] = False  # one data shard keeps no token at all
    return h, w, b, y, where


def vocab_mesh():
    assert jax.device_count() == 8
    return Mesh(np.array(jax.devices()), ("v",))


# --------------------------------------------------------------------------
# vocabulary parallelism


CE_OPTS = {
    "ignore_index": -100,
    "label_smoothing": 0.1,
    "z_loss": 1e-3,
    "logit_softcap": 3.0,
}


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("cs,tcs", [(None, None), (5, 24)])
def test_vocab_parallel_linear_cross_entropy(reduction, cs, tcs):
    h, w, b, y, where = ce_data(1)
    cot = np.random.default_rng(1).normal(size=N).astype(np.float32)

    def loss(h, w, b, axis_name=None):
        out = fused.linear_cross_entropy(
            h, w, y, bias=b, where=where, chunk_size=cs, token_chunk_size=tcs,
            reduction=reduction, axis_name=axis_name, **CE_OPTS,
        )  # fmt: skip
        return out if reduction == "mean" else jnp.sum(out * cot)

    whole = jax.jit(jax.value_and_grad(loss, (0, 1, 2)))(h, w, b)
    split = jax.shard_map(
        functools.partial(loss, axis_name="v"),
        mesh=vocab_mesh(),
        in_specs=(P(), P(None, "v"), P("v")),
        out_specs=P(),
    )
    parts = jax.jit(jax.value_and_grad(split, (0, 1, 2)))(h, w, b)
    assert_tree_close(parts, whole)


@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl", "jsd"])
def test_vocab_parallel_linear_distillation(divergence):
    h, w, _, _, where = ce_data(2)
    rng = np.random.default_rng(2)
    ht = rng.normal(size=(N, 8)).astype(np.float32)
    wt = rng.normal(size=(8, V)).astype(np.float32)

    def loss(h, w, wt, axis_name=None):
        return fused.linear_distillation_loss(
            h, w, ht, wt, temperature=2.0, divergence=divergence, beta=0.3,
            where=where, chunk_size=5, axis_name=axis_name,
        )  # fmt: skip

    whole = jax.jit(jax.value_and_grad(loss, (0, 1)))(h, w, wt)
    split = jax.shard_map(
        functools.partial(loss, axis_name="v"),
        mesh=vocab_mesh(),
        in_specs=(P(), P(None, "v"), P(None, "v")),
        out_specs=P(),
    )
    parts = jax.jit(jax.value_and_grad(split, (0, 1)))(h, w, wt)
    assert_tree_close(parts, whole)


@pytest.mark.parametrize(
    "measure",
    [
        jaxdiv.kl_divergence_from_logits,
        functools.partial(jaxdiv.js_divergence_from_logits, weight=0.3),
    ],
)
def test_from_logits_measures_under_shard_map(measure):
    """Values and gradients of the vocabulary-parallel measures."""
    rng = np.random.default_rng(3)
    a = rng.normal(scale=2.0, size=(4, V)).astype(np.float32)
    c = rng.normal(scale=2.0, size=(4, V)).astype(np.float32)
    a[1, ::5] = -np.inf
    where = rng.random((4, V)) < 0.9

    def total(a, c, where, axis_name=None):
        return jnp.sum(measure(a, c, where=where, axis_name=axis_name))

    whole = jax.value_and_grad(total, (0, 1))(a, c, where)
    spec = P(None, "v")
    split = jax.shard_map(
        functools.partial(total, axis_name="v"),
        mesh=vocab_mesh(),
        in_specs=(spec, spec, spec),
        out_specs=P(),
    )
    parts = jax.jit(jax.value_and_grad(split, (0, 1)))(a, c, where)
    assert np.all(np.isfinite(parts[1][0]))
    assert_tree_close(parts, whole)


# --------------------------------------------------------------------------
# data parallelism


@pytest.mark.parametrize(
    "axis_type,reduction",
    [
        (AxisType.Auto, "mean"),
        (AxisType.Explicit, "mean"),
        (AxisType.Explicit, "none"),
    ],
)
def test_batch_sharded_jit_equals_unsharded(axis_type, reduction):
    """Token-sharded inputs under plain jit; the mean is over all kept tokens."""
    h, w, b, y, where = ce_data(4)
    mesh = jax.make_mesh((8,), ("d",), axis_types=(axis_type,))
    cot = np.random.default_rng(4).normal(size=N).astype(np.float32)

    def loss(h, w, b, y, where, cot):
        out = fused.linear_cross_entropy(
            h, w, y, bias=b, where=where, chunk_size=40, token_chunk_size=3,
            reduction=reduction, **CE_OPTS,
        )  # fmt: skip
        return out if reduction == "mean" else jnp.sum(out * cot)

    grad = jax.jit(jax.value_and_grad(loss, (0, 1, 2)))
    whole = grad(h, w, b, y, where, cot)
    kept = where & (y != -100)
    if reduction == "mean":  # not a mean of per-shard means
        per = fused.linear_cross_entropy(
            h, w, y, bias=b, where=where, reduction="none", **CE_OPTS
        )
        np.testing.assert_allclose(whole[0], per.sum() / kept.sum(), rtol=1e-6)

    def put(x, *spec):
        return jax.device_put(x, NamedSharding(mesh, P(*spec)))

    args = (
        put(h, "d", None), put(w, None, None), put(b, None), put(y, "d"),
        put(where, "d"), put(cot, "d"),
    )  # fmt: skip
    parts = grad(*args)
    assert_tree_close(parts, whole)
    assert parts[1][0].sharding.spec[0] == "d"  # d hidden stays sharded


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_token_axis_name_under_shard_map_is_the_global_reduction(reduction):
    h, w, b, y, where = ce_data(5)

    def loss(h, w, b, y, where, token_axis_name=None):
        return fused.linear_cross_entropy(
            h, w, y, bias=b, where=where, reduction=reduction, chunk_size=40,
            token_axis_name=token_axis_name, **CE_OPTS,
        )  # fmt: skip

    whole = jax.jit(jax.value_and_grad(loss, (0, 1, 2)))(h, w, b, y, where)
    mesh = Mesh(np.array(jax.devices()), ("d",))
    split = jax.shard_map(
        functools.partial(loss, token_axis_name="d"),
        mesh=mesh,
        in_specs=(P("d"), P(), P(), P("d"), P("d")),
        out_specs=P(),
    )
    parts = jax.jit(jax.value_and_grad(split, (0, 1, 2)))(h, w, b, y, where)
    assert_tree_close(parts, whole)


def test_data_and_vocab_parallel_on_a_2d_mesh():
    h, w, b, y, where = ce_data(6)
    mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("d", "v"))

    def loss(h, w, b, y, where, **axes):
        return fused.linear_cross_entropy(
            h, w, y, bias=b, where=where, chunk_size=7, token_chunk_size=10,
            **axes, **CE_OPTS,
        )  # fmt: skip

    whole = jax.jit(jax.value_and_grad(loss, (0, 1, 2)))(h, w, b, y, where)
    split = jax.shard_map(
        functools.partial(loss, axis_name="v", token_axis_name="d"),
        mesh=mesh,
        in_specs=(P("d"), P(None, "v"), P("v"), P("d"), P("d")),
        out_specs=P(),
    )
    parts = jax.jit(jax.value_and_grad(split, (0, 1, 2)))(h, w, b, y, where)
    assert_tree_close(parts, whole)


@pytest.mark.parametrize("budget", [None, 1])  # "in_forward", "vocab_outer"
def test_linear_log_probs_vocab_and_token_parallel(budget):
    """Per-token log-probabilities and entropies on a 2 x 4 (tokens x
    vocabulary) mesh, values and gradients for random cotangents."""
    h, w, b, y, where = ce_data(5)
    y = np.where(y < 0, 0, y)
    rng = np.random.default_rng(5)
    c1, c2 = rng.normal(size=(2, N)).astype(np.float32)

    def loss(h, w, b, c1, c2, y, where, axis_name=None, token_axis_name=None):
        lp, ent = fused.linear_log_probs(
            h, w, y, bias=b, where=where, temperature=0.8, logit_softcap=4.0,
            return_entropy=True, chunk_size=5, token_chunk_size=3,
            memory_budget=budget, axis_name=axis_name,
            token_axis_name=token_axis_name,
        )  # fmt: skip
        total = jnp.sum(lp * c1) + jnp.sum(ent * c2)
        if token_axis_name is not None:
            total = jax.lax.psum(total, token_axis_name)
        return total

    whole = jax.jit(jax.value_and_grad(loss, (0, 1, 2)))(h, w, b, c1, c2, y, where)
    mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("d", "v"))
    tok = P("d")
    split = jax.shard_map(
        functools.partial(loss, axis_name="v", token_axis_name="d"),
        mesh=mesh,
        in_specs=(P("d", None), P(None, "v"), P("v"), tok, tok, tok, tok),
        out_specs=P(),
    )
    parts = jax.jit(jax.value_and_grad(split, (0, 1, 2)))(h, w, b, c1, c2, y, where)
    assert_tree_close(parts, whole)
