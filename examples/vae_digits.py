r"""A variational autoencoder on scikit-learn's 8x8 handwritten digits.

The encoder maps an image :math:`x` (64 pixel intensities scaled to
``[0, 1]``) to a diagonal Gaussian :math:`q(z|x) = N(m, \mathrm{diag}\,
e^{v})`; the decoder maps a latent :math:`z` to 64 Bernoulli logits. The
loss is the negative ELBO, per image

.. math::

   -\mathrm{ELBO} = \underbrace{\sum_{j} \mathrm{BCE}(\mathrm{logits}_j, x_j)}
   _{\text{reconstruction}}
   + \underbrace{\sum_{k} KL\big(N(m_k, e^{v_k}) \,\|\, N(0, 1)\big)}_{\text{KL}}

with ``jaxdiv.losses.sigmoid_binary_cross_entropy`` (a drop-in for optax's,
on soft targets) and ``jaxdiv.normal.kl_to_standard_normal(mean, log_var)``
summed over the latent axis, one reparameterised sample per image. Because the
targets are intensities in ``[0, 1]``, not bits, even a perfect
reconstruction costs their binary entropy, ``jaxdiv.binary_entropy(x)``
summed over the pixels; the script prints that floor.

Trained with optax's Adam; prints the ELBO as it trains and saves a PNG of
held-out digits, their reconstructions and samples from the prior. Nothing is
downloaded; the same ``--seed`` gives the same numbers. Run
``python examples/vae_digits.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import jaxdiv.normal
import matplotlib
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import jaxdiv
import jaxdiv.losses

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

Params = dict[str, list[tuple[jax.Array, jax.Array]]]


def load_data(seed: int):
    """Digits scaled to [0, 1], split 75/25 with a fixed seed (stratified)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_tr, x_te, _, y_te = train_test_split(
        x, digits.target, test_size=0.25, random_state=seed, stratify=digits.target
    )
    return jnp.asarray(x_tr), jnp.asarray(x_te), y_te


def init_mlp(rng: np.random.Generator, sizes: list[int]):
    """He-initialised weights and zero biases for a ReLU MLP (NumPy, seeded)."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        w = rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        params.append((jnp.asarray(w.astype(np.float32)), jnp.zeros((fan_out,))))
    return params


def mlp(params, x: jax.Array) -> jax.Array:
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def encode(params: Params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    mean, log_var = jnp.split(mlp(params["encoder"], x), 2, axis=-1)
    return mean, log_var


def decode(params: Params, z: jax.Array) -> jax.Array:
    return mlp(params["decoder"], z)  # Bernoulli logits per pixel


def negative_elbo(params: Params, x: jax.Array, key: jax.Array):
    """Per-image reconstruction and KL terms (nats), one sample of z each."""
    mean, log_var = encode(params, x)
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape)
    logits = decode(params, z)
    reconstruction = jaxdiv.losses.sigmoid_binary_cross_entropy(logits, x).sum(-1)
    kl = jaxdiv.normal.kl_to_standard_normal(mean, log_var).sum(-1)
    return reconstruction, kl


def loss_fn(params: Params, x: jax.Array, key: jax.Array) -> jax.Array:
    reconstruction, kl = negative_elbo(params, x, key)
    return jnp.mean(reconstruction + kl)


@jax.jit
def reconstruction_floor(x: jax.Array) -> jax.Array:
    """Mean of sum_j H(x_j): what a perfect decoder pays on soft targets."""
    return jnp.mean(jaxdiv.binary_entropy(x, axis=-1))


@functools.partial(jax.jit, static_argnames="latent")
def pictures(params: Params, x: jax.Array, key: jax.Array, latent: int):
    """Pixel probabilities: ``x`` decoded from its posterior mean; prior samples."""
    mean, _ = encode(params, x)
    z = jax.random.normal(key, (x.shape[0], latent))
    return jax.nn.sigmoid(decode(params, mean)), jax.nn.sigmoid(decode(params, z))


def plot(params: Params, x_te, y_te, latent: int, key: jax.Array, path: Path) -> None:
    """Held-out originals, their reconstructions (decoded means), prior samples."""
    first = np.array([np.flatnonzero(y_te == d)[0] for d in range(10)])
    originals = np.asarray(x_te[first])
    recon, samples = map(np.asarray, pictures(params, x_te[first], key, latent))
    rows = [
        ("held-out", originals),
        ("reconstructed", recon),
        ("sampled from prior", samples),
    ]
    fig, axes = plt.subplots(3, 10, figsize=(10, 3.4))
    for r, (title, images) in enumerate(rows):
        for c in range(10):
            ax = axes[r, c]
            ax.imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("VAE on 8x8 digits: reconstructions use the posterior mean")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(
        description="Train a VAE on scikit-learn's digits: Bernoulli "
        "reconstruction + jaxdiv.normal.kl_to_standard_normal.",
    )
    parser.add_argument("--epochs", type=int, default=100, help="training epochs")
    parser.add_argument("--latent", type=int, default=8, help="latent dimensions")
    parser.add_argument("--hidden", type=int, default=256, help="hidden width")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument(
        "--log-every", type=int, default=10, help="print a table row every N epochs"
    )
    parser.add_argument("--seed", type=int, default=0, help="split, init, noise seed")
    parser.add_argument(
        "--out", type=Path, default=Path("examples/out"), help="output folder"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)

    x_tr, x_te, y_te = load_data(args.seed)
    rng = np.random.default_rng(args.seed)  # initial weights
    key_train, key_eval, key_plot = jax.random.split(jax.random.key(args.seed), 3)
    params = {
        "encoder": init_mlp(rng, [64, args.hidden, 2 * args.latent]),
        "decoder": init_mlp(rng, [args.latent, args.hidden, 64]),
    }
    optimizer = optax.adam(args.lr)
    n_batches = x_tr.shape[0] // args.batch_size

    def step(carry, inputs):
        params, state = carry
        x, key = inputs
        loss, grads = jax.value_and_grad(loss_fn)(params, x, key)
        updates, state = optimizer.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    @jax.jit
    def epoch(params, state, key, x_tr):
        key_perm, key_noise = jax.random.split(key)
        order = jax.random.permutation(key_perm, x_tr.shape[0])
        batches = x_tr[order[: n_batches * args.batch_size]].reshape(
            n_batches, args.batch_size, -1
        )
        keys = jax.random.split(key_noise, n_batches)
        (params, state), losses = jax.lax.scan(step, (params, state), (batches, keys))
        return params, state, jnp.mean(losses)

    @jax.jit
    def evaluate(params, x_te):
        reconstruction, kl = negative_elbo(params, x_te, key_eval)
        return jnp.mean(reconstruction), jnp.mean(kl)

    floor = float(reconstruction_floor(x_te))
    print(
        f"digits: {x_tr.shape[0]} train / {x_te.shape[0]} test images; latent "
        f"{args.latent}; seed {args.seed}. A perfect reconstruction of the held-out "
        f"intensities still costs sum_j H(x_j) = {floor:.2f} nats."
    )
    header = (
        f"{'epoch':>5}  {'train ELBO':>11}  {'test recon':>10}  {'test KL':>8}  "
        f"{'test ELBO':>9}"
    )
    print(header + "\n" + "-" * len(header))
    state = optimizer.init(params)
    history = {"train_elbo": [], "test_elbo": [], "test_recon": [], "test_kl": []}
    bar = tqdm(range(1, args.epochs + 1), desc="VAE", unit="epoch")
    for i, epoch_key in zip(bar, jax.random.split(key_train, args.epochs), strict=True):
        params, state, train_loss = epoch(params, state, epoch_key, x_tr)
        recon, kl = (float(v) for v in evaluate(params, x_te))
        history["train_elbo"].append(-float(train_loss))
        history["test_elbo"].append(-(recon + kl))
        history["test_recon"].append(recon)
        history["test_kl"].append(kl)
        bar.set_postfix(
            train_elbo=f"{-float(train_loss):.2f}", test_elbo=f"{-(recon + kl):.2f}"
        )
        if i % args.log_every == 0 or i == args.epochs or i == 1:
            bar.write(
                f"{i:>5}  {-float(train_loss):>11.3f}  {recon:>10.3f}  {kl:>8.3f}  "
                f"{-(recon + kl):>9.3f}"
            )
    bar.close()
    print("-" * len(header))
    print(
        "nats per image; ELBO = -(recon + KL); the test terms use one fixed sample "
        "of z per image"
    )

    path = args.out / "vae_digits.png"
    plot(params, x_te, y_te, args.latent, key_plot, path)
    print(f"wrote {path}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return history


if __name__ == "__main__":
    main()
