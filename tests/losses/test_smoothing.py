"""jaxdiv.losses.smooth_labels (``_smoothing.py``) against optax."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from losses_helpers import assert_close

import jaxdiv.losses as L


def test_smooth_labels_matches_optax():
    rng = np.random.default_rng(8)
    y = jax.nn.one_hot(rng.integers(0, 5, (3, 4)), 5)
    for alpha in (0.0, 0.1, 1.0):
        assert_close(L.smooth_labels(y, alpha), optax.losses.smooth_labels(y, alpha))
        assert_close(
            L.smooth_labels(y, alpha, axis=(1, 2)),
            optax.losses.smooth_labels(y, alpha, axis=(1, 2)),
        )
    where = rng.random((3, 4, 5)) < 0.7
    ours = L.smooth_labels(y, 0.2, where=where)
    ref = optax.losses.smooth_labels(y, 0.2, where=where)
    assert_close(np.where(where, ref, 0.0), ours)  # optax leaves mass outside


def test_smooth_labels_alpha_gradient_ignores_masked_nan():
    lab = jnp.array([[0.0, 1.0, jnp.nan], [0.5, 0.5, jnp.inf]])
    keep = jnp.array([True, True, False])
    g = jax.jit(jax.grad(lambda a: jnp.sum(L.smooth_labels(lab, a, where=keep)[:, 0])))(
        jnp.float32(0.1)
    )
    # d/da of (1 - a) y_0 + a / 2 on the kept entries: sum of (1/2 - y_0)
    np.testing.assert_allclose(float(g), 0.5 + 0.0, rtol=1e-6)
