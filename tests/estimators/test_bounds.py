"""The variational bounds (``_bounds.py``): dv, nwj, infonce, js."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from estimators_helpers import BOUNDS, gaussians, log_ratio, np_bounds
from jax.sharding import Mesh, PartitionSpec
from scipy.special import logsumexp

from jaxdiv import estimators as E


def test_bounds_equal_their_formulas():
    s = np.random.default_rng(9).normal(size=(16, 16)) * 2
    ref = np_bounds(s)
    f = jax.jit(lambda t: {k: b(t) for k, b in BOUNDS.items()})
    ours = f(jnp.asarray(s, jnp.float32))
    for k in BOUNDS:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)
    low = f(jnp.asarray(s, jnp.bfloat16))
    for k in BOUNDS:
        assert low[k].dtype == jnp.float32
        np.testing.assert_allclose(low[k], ref[k], rtol=0.05, atol=0.05, err_msg=k)


def test_infonce_never_exceeds_log_n():
    rng = np.random.default_rng(10)
    f = jax.jit(E.infonce_bound)
    for s in (
        np.where(np.eye(8), 1e4, -1e4),
        np.where(np.eye(8), 30.0, 0.0) + rng.normal(size=(8, 8)) * 1e-3,
        np.full((8, 8), 1e30),
        np.eye(8) * 88.0,
    ):
        value = f(jnp.asarray(s, jnp.float32))
        assert float(value) <= float(np.float32(math.log(8))), s
    assert float(f(jnp.zeros((1, 1)))) == 0.0


def test_bounds_with_the_optimal_critic_are_within_their_gaps():
    rho, n = 0.5, 512
    x, y = gaussians(n, 1, rho, seed=11)
    truth = -0.5 * math.log(1 - rho**2)
    s = log_ratio(x[:, 0][:, None], y[:, 0][None, :], rho)  # optimal critic
    f = jax.jit(lambda t: {k: b(t) for k, b in BOUNDS.items()})
    ours = f(jnp.asarray(s, jnp.float32))
    nwj = E.nwj_bound(jnp.asarray(s + 1.0, jnp.float32))  # its optimum: 1 + log r
    mc = 0.05  # Monte-Carlo error of n = 512 pairs at I = 0.14
    assert abs(float(ours["dv"]) - truth) < mc
    assert abs(float(nwj) - truth) < mc
    # InfoNCE: I - log(1 + chi^2 / n) <= E[I_NCE] <= I, 1 + chi^2 = 1 / (1 - rho^2)
    gap = math.log((1 / (1 - rho**2) + n - 1) / n)
    assert truth - gap - mc < float(ours["infonce"]) < truth + mc
    # JS: tight at the log density ratio; the JSD itself by Monte Carlo
    big_x, big_y = gaussians(200_000, 1, rho, seed=12)
    r_joint = np.exp(log_ratio(big_x[:, 0], big_y[:, 0], rho))
    r_prod = np.exp(log_ratio(big_x[:, 0], np.roll(big_y[:, 0], 1), rho))
    jsd = 0.5 * np.mean(np.log(2 * r_joint / (1 + r_joint)))
    jsd += 0.5 * np.mean(np.log(2 / (1 + r_prod)))
    assert abs(float(ours["js"]) - jsd) < 0.01


def test_bounds_sharded_rows_equal_single_device():
    devices = np.array(jax.devices()[:8])
    if devices.size < 8:
        pytest.skip("needs 8 devices")
    mesh = Mesh(devices, ("rows",))
    s = jnp.asarray(np.random.default_rng(13).normal(size=(16, 16)) * 3, jnp.float32)

    def local(t):
        return {k: b(t, axis_name="rows") for k, b in BOUNDS.items()}

    sharded = jax.jit(
        jax.shard_map(
            local, mesh=mesh, in_specs=PartitionSpec("rows"), out_specs=PartitionSpec()
        )
    )
    single = {k: b(s) for k, b in BOUNDS.items()}
    values = sharded(s)
    for k in BOUNDS:
        np.testing.assert_allclose(values[k], single[k], rtol=1e-6, atol=1e-6)

    def loss(t):
        return -sum(
            jax.shard_map(
                local,
                mesh=mesh,
                in_specs=PartitionSpec("rows"),
                out_specs=PartitionSpec(),
            )(t).values()
        )

    g_sharded = jax.jit(jax.grad(loss))(s)
    g_single = jax.grad(lambda t: -sum(b(t) for b in BOUNDS.values()))(s)
    np.testing.assert_allclose(g_sharded, g_single, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"jaxdiv.estimators.dv_bound.*\(2, 10\)"):
        jax.shard_map(
            lambda t: E.dv_bound(t, axis_name="rows"),
            mesh=mesh,
            in_specs=PartitionSpec("rows"),
            out_specs=PartitionSpec(),
        )(jnp.zeros((16, 10)))


def test_bounds_gradients_and_edges():
    s = jnp.asarray(np.random.default_rng(14).normal(size=(6, 6)), jnp.float32)
    edge = jnp.where(jnp.eye(6, dtype=bool), 1e4, -1e4)

    @jax.jit
    def run(t, e):
        out = {}
        for k, b in BOUNDS.items():
            out[k] = (jax.grad(b)(t), b(e), jax.grad(b)(e))
        vm = jax.vmap(E.dv_bound)(jnp.stack([t, 2 * t]))
        tangent = jax.jvp(E.js_bound, (t,), (jnp.ones_like(t),))[1]
        return out, vm, (E.dv_bound(t), E.dv_bound(2 * t)), tangent

    out, vm, pair, tangent = run(s, edge)
    for k, (g, v, ge) in out.items():
        assert bool(jnp.all(jnp.isfinite(g))), k
        assert bool(jnp.isfinite(v)) and bool(jnp.all(jnp.isfinite(ge))), k
    # InfoNCE gradient: (identity - row softmax) / n (independent formula)
    sm = np.exp(np.asarray(s) - logsumexp(np.asarray(s), axis=1, keepdims=True))
    np.testing.assert_allclose(out["infonce"][0], (np.eye(6) - sm) / 6, atol=1e-6)
    np.testing.assert_allclose(vm, pair, rtol=1e-6)
    assert bool(jnp.isfinite(tangent))
