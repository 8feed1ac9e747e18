"""jaxdiv.losses.f_gan_loss: tight at the closed-form optimal critic
T* = f'(p / q) (checked against jaxdiv.f_divergence), safe at the edges."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import xlogy

import jaxdiv
from jaxdiv.losses import f_gan_loss

# generator f (Table 1 of Nowozin et al.), its slope at infinity, and the raw
# critic output v* with g_f(v*) = f'(u), u = p / q, all written afresh here
CASES = {
    "kl": (lambda t: xlogy(t, t), None, lambda u: 1.0 + np.log(u)),
    "reverse_kl": (lambda t: -jnp.log(t), 0.0, lambda u: np.log(u)),
    "pearson": (lambda t: (t - 1.0) ** 2, None, lambda u: 2.0 * (u - 1.0)),
    "squared_hellinger": (
        lambda t: (jnp.sqrt(t) - 1.0) ** 2,
        1.0,
        lambda u: 0.5 * np.log(u),
    ),
    "js": (
        lambda t: xlogy(t, t) - xlogy(t + 1.0, (t + 1.0) / 2.0),
        math.log(2.0),
        lambda u: np.log(u),
    ),
    "gan": (  # f(1) = -log 4: shifted to 0 here, the bound is D_f - log 4
        lambda t: xlogy(t, t) - xlogy(t + 1.0, t + 1.0) + math.log(4.0),
        0.0,
        lambda u: np.log(u),
    ),
    "total_variation": (
        lambda t: 0.5 * jnp.abs(t - 1.0),
        0.5,
        lambda u: 30.0 * np.sign(u - 1.0),  # tanh(30) = 1 in float32
    ),
}
# two distributions on 5 points with rational masses, realised exactly as
# samples: real holds category i p_i * 20 times, fake q_i * 20 times
DTYPES = (jnp.float32, jnp.bfloat16, jnp.float16)
COUNTS_P = np.array([1, 2, 3, 6, 8])
COUNTS_Q = np.array([5, 5, 4, 4, 2])


@pytest.mark.parametrize("divergence", sorted(CASES))
def test_optimal_critic_recovers_the_divergence(divergence):
    f, slope, v_star = CASES[divergence]
    p, q = COUNTS_P / 20.0, COUNTS_Q / 20.0
    v = v_star(p / q)
    real = jnp.asarray(np.repeat(v, COUNTS_P), jnp.float32)
    fake = jnp.asarray(np.repeat(v, COUNTS_Q), jnp.float32)
    d_loss, g_loss = f_gan_loss(real, fake, divergence=divergence, generator="minimax")
    with jax.enable_x64(True):
        truth = float(jaxdiv.f_divergence(p, q, f=f, slope_at_infinity=slope))
    if divergence == "gan":
        truth -= math.log(4.0)
    np.testing.assert_allclose(-float(d_loss), truth, atol=1e-4)
    np.testing.assert_allclose(float(g_loss), truth, atol=1e-4)
    # any other critic gives a smaller bound
    worse, _ = f_gan_loss(0.9 * real, 0.9 * fake, divergence=divergence)
    assert -float(worse) <= truth + 1e-6


def test_js_and_gan_relate_to_js_divergence():
    p, q = COUNTS_P / 20.0, COUNTS_Q / 20.0
    jsd = float(jaxdiv.js_divergence(jnp.asarray(p), jnp.asarray(q)))
    v = jnp.asarray(np.log(p / q), jnp.float32)
    real, fake = jnp.repeat(v, COUNTS_P), jnp.repeat(v, COUNTS_Q)
    d_js, _ = f_gan_loss(real, fake, divergence="js")
    d_gan, _ = f_gan_loss(real, fake, divergence="gan")
    np.testing.assert_allclose(-float(d_js), 2 * jsd, atol=1e-5)
    np.testing.assert_allclose(-float(d_gan), 2 * jsd - math.log(4), atol=1e-5)


def test_gan_is_the_classic_gan():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=7) * 3, rng.normal(size=5) * 3
    d, g = f_gan_loss(real, fake, divergence="gan")
    sp = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    np.testing.assert_allclose(d, np.mean(sp(-real)) + np.mean(sp(fake)), rtol=1e-6)
    np.testing.assert_allclose(g, np.mean(sp(-fake)), rtol=1e-6)  # -log D(G(z))
    _, minimax = f_gan_loss(real, fake, divergence="gan", generator="minimax")
    np.testing.assert_allclose(minimax, -d, rtol=1e-6)


def test_finite_at_large_scores_jit_vmap_grad():
    edges = [jnp.asarray([1e4, -1e4, 0.0, 3.0], t) for t in DTYPES]

    @jax.jit
    def run(edges):
        out = {}
        for name in CASES:
            for edge in edges:

                def losses(r, f, name=name):
                    return f_gan_loss(r, f, divergence=name)

                real, fake = edge, edge[::-1]
                values = losses(real, fake)
                grads = jax.grad(lambda r, f: sum(losses(r, f)), argnums=(0, 1))(
                    real, fake
                )
                both = jnp.stack([real, fake]), jnp.stack([fake, real])
                out[name, edge.dtype.name] = (values, grads, jax.vmap(losses)(*both))
        return out

    for key, (values, grads, batched) in run(edges).items():
        for a in (*values, *batched):
            assert a.dtype == jnp.float32, key
            assert bool(jnp.all(jnp.isfinite(a))), key
        for a in grads:  # gradients come in the scores' dtype
            assert a.dtype.name == key[1] and bool(jnp.all(jnp.isfinite(a))), key
        np.testing.assert_allclose(batched[0][0], values[0], rtol=1e-6)


def test_unchanged_below_the_knee():
    v = jnp.asarray([-3.0, 0.5, 40.0])
    d, g = f_gan_loss(v, v, divergence="kl", generator="minimax")
    expected = np.mean(v) - np.mean(np.exp(np.asarray(v, np.float64) - 1.0))
    np.testing.assert_allclose(-float(d), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"divergence": "wasserstein"}, "divergence"),
        ({"divergence": "kl", "generator": "least_squares"}, "generator"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match="jaxdiv.losses.f_gan_loss: " + match):
        f_gan_loss(jnp.zeros(3), jnp.zeros(3), **kwargs)


def test_bad_scores():
    with pytest.raises(ValueError, match=r"f_gan_loss.*\(0,\)"):
        jax.jit(lambda r: f_gan_loss(r, jnp.zeros(2), divergence="kl"))(jnp.zeros(0))
    with pytest.raises(TypeError, match="jaxdiv.losses.f_gan_loss"):
        f_gan_loss(jnp.zeros(3, jnp.int32), jnp.zeros(3), divergence="kl")
