"""The plug-in estimators (``_plugin.py``) against NumPy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxdiv
from jaxdiv import estimators as E

# --------------------------------------------------------------------------
# plug-in estimators


def test_plugin_estimators_match_numpy():
    rng = np.random.default_rng(8)
    joint = rng.integers(0, 6, size=(2, 3, 4))
    joint[0, 1, :] = 0  # an empty row
    p = joint / joint.sum(axis=(-2, -1), keepdims=True)
    px, py = p.sum(-1), p.sum(-2)

    def h(q):
        q = q.reshape(q.shape[0], -1)
        return -np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0), -1)

    n = joint.sum(axis=(-2, -1))
    occupied = lambda c: np.sum(c.reshape(c.shape[0], -1) > 0, -1)  # noqa: E731
    mi = h(px) + h(py) - h(p)
    mm = mi + (occupied(px) - 1 + occupied(py) - 1 - occupied(p) + 1) / (2 * n)
    f = jax.jit(E.plugin_mutual_information, static_argnames=("correction", "base"))
    np.testing.assert_allclose(f(joint), mi, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f(joint, correction="miller_madow"), mm, rtol=1e-5)
    np.testing.assert_allclose(f(joint, base=2), mi / np.log(2), rtol=1e-5, atol=1e-6)
    counts = joint.reshape(2, -1)
    hm = h(p) + (occupied(p) - 1) / (2 * n)
    np.testing.assert_allclose(E.plugin_entropy(counts), h(p), rtol=1e-6)
    np.testing.assert_allclose(
        E.plugin_entropy(counts.astype(np.float32), correction="miller_madow"),
        hm,
        rtol=1e-6,
    )
    assert (
        float(E.plugin_entropy(jnp.zeros(4, jnp.int32), correction="miller_madow")) == 0
    )
    g = jax.grad(lambda c: E.plugin_entropy(c))(jnp.array([2.0, 0.0, 1.0]))
    assert bool(jnp.all(jnp.isfinite(g)))


def test_estimators_is_a_public_submodule():
    assert jaxdiv.estimators is E
    assert "estimators" in jaxdiv.__all__
