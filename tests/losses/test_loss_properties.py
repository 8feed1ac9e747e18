"""Properties every loss of jaxdiv.losses shares, driven by one registry: the
documented surface, eager = jit = vmap, numerical gradients, one optax step,
vocabulary parallelism, 16-bit inputs and error messages.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P
from jax.test_util import check_grads
from losses_helpers import (
    _CE,
    INT_CE,
    LOSSES,
    NEG_INF,
    _linear,
    _objectives,
    assert_close,
    logits_like,
    probs_like,
)

import jaxdiv.losses as L

# --------------------------------------------------------------------------
# the public surface


def test_all_is_the_documented_set():
    assert set(L.__all__) == {
        "softmax_cross_entropy",
        "softmax_cross_entropy_with_integer_labels",
        "safe_softmax_cross_entropy",
        "sigmoid_binary_cross_entropy",
        "sigmoid_focal_loss",
        "poly_loss_cross_entropy",
        "kl_divergence",
        "kl_divergence_with_log_targets",
        "generalized_kl_divergence",
        "convex_kl_divergence",
        "smooth_labels",
        "distillation_loss",
        "kl_penalty",
        "masked_mean",
        "dpo_loss",
        "f_gan_loss",
        "group_advantages",
        "orpo_loss",
        "policy_gradient_loss",
        "sequence_log_probs",
        "simpo_loss",
    }
    for name in L.__all__:
        assert getattr(L, name).__doc__


# --------------------------------------------------------------------------
# vocabulary parallelism: the class axis split across devices


@pytest.mark.parametrize("n", [4])
def test_vocabulary_parallel_losses_equal_the_unsplit_ones(n):
    rng = np.random.default_rng(24)
    x = logits_like(rng, (5, 16))
    x[0, 3] = NEG_INF
    x[1] = NEG_INF  # padding row
    labels = rng.integers(0, 16, 5)
    labels[2] = -100
    labels[0] = 5
    y = probs_like(rng, (5, 16))
    y[0, 3] = 0.0
    lt = np.log(probs_like(rng, (5, 16)))
    lt[0, 3] = NEG_INF
    mesh = Mesh(np.array(jax.devices()[:n]), ("v",))

    lq = np.array(jax.nn.log_softmax(jnp.where(np.isfinite(x), x, 0.0)))
    lq[0, 3] = NEG_INF
    cases = [  # (loss(logits_or_log_probs, other, **kw), first, other)
        (lambda a, b, **kw: INT_CE(a, labels, ignore_index=-100, **kw), x, x),
        (
            lambda a, b, **kw: INT_CE(
                a, labels, ignore_index=-100, label_smoothing=0.1, z_loss=1e-3, **kw
            ),
            x,
            x,
        ),
        (L.softmax_cross_entropy, x, y),
        (L.kl_divergence_with_log_targets, lq, lt),
        (functools.partial(L.distillation_loss, divergence="jsd"), lq, lt),
        (functools.partial(L.distillation_loss, temperature=2.0), x, lt),
    ]
    spec = P(None, "v")
    for f, a, b in cases:
        whole = jax.jit(jax.value_and_grad(lambda a, b, f=f: f(a, b).sum()))
        parts = jax.jit(
            jax.value_and_grad(
                lambda a, b, f=f: jax.shard_map(
                    functools.partial(f, axis_name="v"),
                    mesh=mesh,
                    in_specs=(spec, spec),
                    out_specs=P(),
                )(a, b).sum()
            )
        )
        (v_whole, g_whole), (v_parts, g_parts) = whole(a, b), parts(a, b)
        assert_close(v_parts, v_whole)
        assert_close(g_parts, g_whole)


@pytest.mark.parametrize("name", list(LOSSES))
def test_eager_jit_vmap_agree(name):
    f, args = LOSSES[name]
    eager = f(*args)
    assert_close(jax.jit(f)(*args), eager)
    if name == "masked_mean":  # vmap gives per-row means
        rows = [np.mean(r[m]) if m.any() else 0.0 for r, m in zip(*args, strict=True)]
        assert_close(jax.vmap(f)(*args), rows)
    else:
        assert_close(jax.vmap(f)(*args), eager)


# --------------------------------------------------------------------------
# numerical gradients away from the edges


@pytest.mark.parametrize(
    "name", ["integer_labels", "kl_divergence_with_log_targets", "sigmoid_focal_loss"]
)
def test_check_grads(name):
    f, (x, *rest) = LOSSES[name]
    check_grads(lambda a: f(a, *rest), (jnp.asarray(x),), order=1, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", list(_objectives()[1]))
def test_one_adam_step_changes_params_and_the_loss_falls(name):
    x, objectives = _objectives()
    objective = objectives[name]
    params = {"w": jnp.zeros((4, 5)), "b": jnp.zeros(5)}
    opt = optax.adam(0.1)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(lambda p: objective(_linear(p, x)))(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    new, state, first = step(params, state)
    assert np.isfinite(first)
    assert not np.allclose(new["w"], params["w"])
    params = new
    for _ in range(4):
        params, state, loss = step(params, state)
    assert loss < first


@pytest.mark.parametrize(
    "call",
    [
        lambda: INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), label_smoothing=1.5),
        lambda: INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), z_loss=-1.0),
        lambda: INT_CE(jnp.zeros((2, 3)), jnp.array([0, 1]), axis=5),
        lambda: L.distillation_loss(jnp.zeros(3), jnp.zeros(3), temperature=0.0),
        lambda: L.distillation_loss(jnp.zeros(3), jnp.zeros(3), divergence="tvd"),
        lambda: L.distillation_loss(jnp.zeros(3), jnp.zeros(3), beta=1.5),
        lambda: L.kl_penalty(jnp.zeros(3), jnp.zeros(3), estimator="k4"),
        lambda: L.kl_penalty(jnp.zeros(3), jnp.zeros(2)),
        lambda: L.smooth_labels(jnp.ones(3) / 3, 2.0),
    ],
)
def test_bad_options_raise_value_error(call):
    with pytest.raises(ValueError, match="jaxdiv"):
        call()


def test_sixteen_bit_inputs_give_float32():
    x = jnp.zeros((2, 3), jnp.bfloat16)
    assert INT_CE(x, jnp.array([0, 1])).dtype == jnp.float32
    assert (
        L.softmax_cross_entropy(x, jnp.ones((2, 3), jnp.bfloat16) / 3).dtype
        == jnp.float32
    )
    assert L.masked_mean(x).dtype == jnp.float32
    assert_close(INT_CE(x, jnp.array([0, 1])), np.log([3.0, 3.0]))


def test_loss_errors_name_the_public_path():
    with pytest.raises(ValueError, match=r"jaxdiv\.losses\.kl_divergence:"):
        L.kl_divergence(jnp.zeros((2, 3)), jnp.zeros((2, 1)))
    with pytest.raises(TypeError, match=r"jaxdiv\.losses\.masked_mean:"):
        L.masked_mean(jnp.arange(3))
    with pytest.raises(
        TypeError, match=r"jaxdiv\.losses\.softmax_cross_entropy_with_integer_labels:"
    ):
        _CE(jnp.zeros((2, 3)), jnp.zeros((2,)))
    with pytest.raises(ValueError, match=r"jaxdiv\.losses\.distillation_loss:"):
        L.distillation_loss(jnp.zeros(3), jnp.zeros(3), divergence="kl")
