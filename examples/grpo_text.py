r"""GRPO fine-tuning of a tiny character-level transformer, without the logits.

The text is real and ships with Python: the Zen of Python (the ``this``
module) and the docstrings of a few standard-library modules. A small
decoder-only transformer in plain JAX is first fitted to it as a language
model with ``jaxdiv.fused.linear_cross_entropy``. It is then fine-tuned with
GRPO (Shao et al., 2024) against a programmatic reward, the fraction of
vowels in its completion of a prompt taken from the text (a completion ends
at its first newline):

* per step, ``--group`` completions are sampled for each of ``--prompts``
  prompts by the current policy, which is then the old policy;
* the per-token log-probabilities of the sampled tokens, and the entropies,
  come from ``jaxdiv.fused.linear_log_probs(hidden, weight, labels,
  where=..., return_entropy=True)`` for the policy (with gradient), the old
  policy and the frozen reference (the pretrained model), never the
  ``[N, V]`` logits;
* the rewards become advantages with ``jaxdiv.losses.group_advantages``, and
  ``jaxdiv.losses.policy_gradient_loss`` (GRPO's sequence-mean aggregation,
  DAPO's clip-higher) adds the k3 KL to the reference (through
  ``jaxdiv.losses.kl_penalty``) with weight ``--kl-coef``.

It prints the reward, the KL to the reference and the entropy at each step
and saves a PNG of them. The reward rises while the KL stays bounded by its
penalty. Everything is seeded. Run ``python examples/grpo_text.py --help``
for the options; the defaults take well under a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
from tqdm import tqdm

import jaxdiv.fused
import jaxdiv.losses

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

VOWELS = "aeiouAEIOU"
DOC_MODULES = ("functools", "itertools", "json", "string", "textwrap", "random")


def corpus() -> str:
    """The Zen of Python and a few stdlib docstrings, as one string."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this  # prints the Zen on first import
    zen = "".join(this.d.get(c, c) for c in this.s)
    docs = [__import__(name).__doc__ or "" for name in DOC_MODULES]
    return "\n\n".join([zen, *docs])


# --------------------------------------------------------------------------
# a small decoder-only transformer in plain JAX


def init_params(key, vocab: int, dim: int, layers: int, context: int):
    keys = iter(jax.random.split(key, 4 + 4 * layers))

    def dense(shape):
        return jax.random.normal(next(keys), shape) / np.sqrt(shape[0])

    blocks = [
        {
            "ln1": jnp.ones(dim),
            "qkv": dense((dim, 3 * dim)),
            "out": dense((dim, dim)) / np.sqrt(2 * layers),
            "ln2": jnp.ones(dim),
            "up": dense((dim, 4 * dim)),
            "down": dense((4 * dim, dim)) / np.sqrt(2 * layers),
        }
        for _ in range(layers)
    ]
    return {
        "embed": 0.5 * jax.random.normal(next(keys), (vocab, dim)),
        "pos": 0.1 * jax.random.normal(next(keys), (context, dim)),
        "blocks": blocks,
        "ln_f": jnp.ones(dim),
        "head": dense((dim, vocab)),
    }


def rms_norm(x, scale):
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-6) * scale


def hidden_states(params, tokens, heads: int):
    """Final hidden states ``[B, S, D]`` of a causal transformer."""
    b, s = tokens.shape
    x = params["embed"][tokens] + params["pos"][:s]
    causal = jnp.tril(jnp.ones((s, s), bool))
    for blk in params["blocks"]:
        q, k, v = jnp.split(rms_norm(x, blk["ln1"]) @ blk["qkv"], 3, axis=-1)
        q, k, v = (t.reshape(b, s, heads, -1) for t in (q, k, v))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
        attn = jax.nn.softmax(jnp.where(causal, scores, -jnp.inf), axis=-1)
        x = x + jnp.einsum("bhqk,bkhd->bqhd", attn, v).reshape(b, s, -1) @ blk["out"]
        x = x + jax.nn.gelu(rms_norm(x, blk["ln2"]) @ blk["up"]) @ blk["down"]
    return rms_norm(x, params["ln_f"])


# --------------------------------------------------------------------------
# language-model pretraining with the fused cross-entropy


@functools.partial(jax.jit, static_argnames=("heads", "optimizer"))
def lm_step(params, opt_state, batch, *, heads, optimizer):
    def loss_fn(p):
        h = hidden_states(p, batch[:, :-1], heads)
        return jaxdiv.fused.linear_cross_entropy(
            h.reshape(-1, h.shape[-1]), p["head"], batch[:, 1:].reshape(-1)
        )

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def windows(key, data, batch: int, length: int):
    starts = jax.random.randint(key, (batch,), 0, data.shape[0] - length)
    return jax.vmap(lambda s: jax.lax.dynamic_slice(data, (s,), (length,)))(starts)


# --------------------------------------------------------------------------
# GRPO


def sample(key, params, prompts, *, completion: int, heads: int):
    """Completions ``[B, C]`` sampled token by token at temperature 1."""
    b, p = prompts.shape
    tokens = jnp.concatenate(
        [prompts, jnp.zeros((b, completion), prompts.dtype)], axis=1
    )

    def body(t, carry):
        tokens, key = carry
        key, sub = jax.random.split(key)
        h = hidden_states(params, tokens, heads)[:, p + t - 1]  # [B, D]
        nxt = jax.random.categorical(sub, h @ params["head"])
        return tokens.at[:, p + t].set(nxt.astype(tokens.dtype)), key

    tokens, _ = jax.lax.fori_loop(0, completion, body, (tokens, key))
    return tokens


def token_log_probs(params, tokens, mask, *, prompt: int, heads: int):
    """``log pi(y_t)`` and entropies ``[B, C]`` of the completion tokens."""
    b, s = tokens.shape
    h = hidden_states(params, tokens[:, :-1], heads)[:, prompt - 1 :]  # [B, C, D]
    lp, ent = jaxdiv.fused.linear_log_probs(
        h.reshape(-1, h.shape[-1]),
        params["head"],
        tokens[:, prompt:].reshape(-1),
        where=mask.reshape(-1),
        return_entropy=True,
    )
    return lp.reshape(b, -1), ent.reshape(b, -1)


def completion_mask_and_reward(completions, newline: int, vowel: jax.Array):
    """Tokens up to and including the first newline; reward = vowels / C."""
    is_newline = completions == newline
    after = jnp.cumsum(is_newline, axis=1) - is_newline  # newlines strictly before
    mask = after == 0
    reward = jnp.sum(vowel[completions] & mask, axis=1) / completions.shape[1]
    return mask, reward.astype(jnp.float32)


@functools.partial(
    jax.jit,
    static_argnames=(
        "prompt_len",
        "group",
        "completion",
        "heads",
        "inner",
        "optimizer",
        "n_prompts",
    ),
)
def grpo_step(
    key, params, opt_state, ref_params, data, newline, vowel, *,
    prompt_len, group, completion, heads, inner, optimizer, kl_coef, n_prompts,
):  # fmt: skip
    key_prompt, key_sample = jax.random.split(key)
    prompts = windows(key_prompt, data, n_prompts, prompt_len)
    prompts = jnp.repeat(prompts, group, axis=0)  # [P * G, prompt]
    tokens = sample(key_sample, params, prompts, completion=completion, heads=heads)
    mask, rewards = completion_mask_and_reward(tokens[:, prompt_len:], newline, vowel)
    advantages = jaxdiv.losses.group_advantages(rewards, group)
    lp_fn = functools.partial(token_log_probs, prompt=prompt_len, heads=heads)
    old_lp, _ = lp_fn(params, tokens, mask)  # the sampling policy, values only
    ref_lp, _ = lp_fn(ref_params, tokens, mask)  # the frozen reference

    def loss_fn(p):
        lp, ent = lp_fn(p, tokens, mask)
        return jaxdiv.losses.policy_gradient_loss(
            lp,
            old_lp,
            advantages,
            where=mask,
            ref_log_probs=ref_lp,
            kl_coef=kl_coef,
            kl_estimator="k3",
            clip_epsilon=0.2,
            clip_epsilon_high=0.28,
            aggregation="sequence_mean_token_mean",
            entropy=ent,
        )

    def update(carry, _):
        params, opt_state = carry
        (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), metrics

    (params, opt_state), metrics = jax.lax.scan(
        update, (params, opt_state), None, length=inner
    )
    first = jax.tree.map(lambda m: m[0], metrics)  # before any update this step
    first["reward"] = jnp.mean(rewards)
    first["length"] = jnp.mean(jnp.sum(mask, axis=1))
    first["clip_fraction"] = jnp.mean(metrics["clip_fraction"])
    return params, opt_state, first, tokens


def plot(history, pretrain_loss, path: Path) -> None:
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
    axes[0].plot(pretrain_loss)
    axes[0].set(title="pretraining (fused cross-entropy)", xlabel="step",
                ylabel="nats / char")  # fmt: skip
    for ax, key, title in zip(
        axes[1:],
        ("reward", "ref_kl", "entropy"),
        ("reward (vowel fraction)", "KL to reference (k3, nats/token)",
         "policy entropy (nats/token)"),
        strict=True,
    ):  # fmt: skip
        ax.plot(history[key])
        ax.set(title=title, xlabel="GRPO step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description="GRPO on a tiny character transformer with "
        "jaxdiv.fused.linear_log_probs and jaxdiv.losses.policy_gradient_loss.",
    )
    parser.add_argument("--dim", type=int, default=64, help="model width")
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks")
    parser.add_argument("--heads", type=int, default=4, help="attention heads")
    parser.add_argument("--pretrain-steps", type=int, default=200, help="LM steps")
    parser.add_argument("--steps", type=int, default=40, help="GRPO steps")
    parser.add_argument("--prompts", type=int, default=8, help="prompts per step")
    parser.add_argument("--group", type=int, default=8, help="completions per prompt")
    parser.add_argument("--prompt-len", type=int, default=8, help="prompt chars")
    parser.add_argument("--completion", type=int, default=16, help="completion chars")
    parser.add_argument("--inner", type=int, default=2, help="updates per batch")
    parser.add_argument("--kl-coef", type=float, default=0.2, help="KL weight")
    parser.add_argument("--lr", type=float, default=1e-3, help="GRPO Adam rate")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--out", type=Path, default=Path("examples/out"), help="output folder"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)

    text = corpus()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = jnp.asarray([index[c] for c in text], jnp.int32)
    vocab = len(chars)
    newline = index["\n"]
    vowel = jnp.asarray([c in VOWELS for c in chars])
    context = args.prompt_len + args.completion
    print(f"corpus: {len(text)} characters, vocabulary {vocab}")

    key_init, key_lm, key_rl = jax.random.split(jax.random.key(args.seed), 3)
    params = init_params(key_init, vocab, args.dim, args.layers, context)
    lm_opt = optax.adam(3e-3)
    opt_state = lm_opt.init(params)
    pretrain_loss = []
    bar = tqdm(jax.random.split(key_lm, args.pretrain_steps), desc="pretrain",
               unit="step")  # fmt: skip
    for k in bar:
        batch = windows(k, data, 32, context + 1)
        params, opt_state, loss = lm_step(
            params, opt_state, batch, heads=args.heads, optimizer=lm_opt
        )
        pretrain_loss.append(float(loss))
        bar.set_postfix(loss=f"{pretrain_loss[-1]:.3f}")
    ref_params = params  # the frozen reference
    pretrain_seconds = time.perf_counter() - start

    rl_opt = optax.adam(args.lr)
    opt_state = rl_opt.init(params)
    history = {k: [] for k in ("reward", "ref_kl", "entropy", "clip_fraction",
                               "approx_kl", "length")}  # fmt: skip
    step = functools.partial(
        grpo_step,
        prompt_len=args.prompt_len,
        group=args.group,
        completion=args.completion,
        heads=args.heads,
        inner=args.inner,
        optimizer=rl_opt,
        kl_coef=args.kl_coef,
        n_prompts=args.prompts,
    )
    bar = tqdm(jax.random.split(key_rl, args.steps), desc="GRPO", unit="step")
    for i, k in enumerate(bar):
        params, opt_state, metrics, tokens = step(
            k, params, opt_state, ref_params, data, newline, vowel
        )
        for name in history:
            history[name].append(float(metrics[name]))
        bar.write(
            f"step {i:3d}  reward {history['reward'][-1]:.3f}  "
            f"KL(ref) {history['ref_kl'][-1]:.4f}  "
            f"entropy {history['entropy'][-1]:.3f}  "
            f"clip {history['clip_fraction'][-1]:.3f}"
        )
    sample_text = "".join(chars[t] for t in np.asarray(tokens[0]))
    elapsed = time.perf_counter() - start
    k = max(1, min(5, args.steps // 4))
    summary = {
        "reward_start": float(np.mean(history["reward"][:k])),
        "reward_end": float(np.mean(history["reward"][-k:])),
        "ref_kl_max": float(np.max(history["ref_kl"])),
        "ref_kl_end": float(np.mean(history["ref_kl"][-k:])),
        "entropy_start": float(np.mean(history["entropy"][:k])),
        "entropy_end": float(np.mean(history["entropy"][-k:])),
        "pretrain_seconds": pretrain_seconds,
        "seconds": elapsed,
    }
    print(f"last sample: {sample_text!r}")
    print(
        f"reward {summary['reward_start']:.3f} -> {summary['reward_end']:.3f} "
        f"(mean of first / last {k} steps), KL to reference at most "
        f"{summary['ref_kl_max']:.4f}, entropy {summary['entropy_start']:.3f} -> "
        f"{summary['entropy_end']:.3f}; {elapsed:.1f} s in all, "
        f"{pretrain_seconds:.1f} s pretraining"
    )
    path = args.out / "grpo_text.png"
    plot(history, pretrain_loss, path)
    print(f"saved {path}")
    return {
        "history": history,
        "pretrain_loss": pretrain_loss,
        "summary": summary,
        "vocab": vocab,
        "chars": chars,
        "tokens": np.asarray(tokens),
        "prompt_len": args.prompt_len,
    }


if __name__ == "__main__":
    main()
