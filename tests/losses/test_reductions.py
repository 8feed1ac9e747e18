"""jaxdiv.losses.masked_mean (``_reductions.py``), on one device and under shard_map."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from losses_helpers import assert_close, jgrad

import jaxdiv.losses as L

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
