r"""RLHF-style KL penalties on sampled tokens: k1, k2, k3 against the exact KL.

In RLHF the policy :math:`\pi` is kept near a reference model :math:`\rho` by a
penalty :math:`KL(\pi \| \rho)`, estimated from the tokens the policy
sampled, one number per token, with only the two log-probabilities of that
token (``jaxdiv.losses.kl_penalty``). With :math:`r = \rho(x) / \pi(x)`:

* ``k1 = -log r``: unbiased, high variance, negative on many tokens;
* ``k2 = (log r)^2 / 2``: low variance, biased (its bias grows with the KL);
* ``k3 = (r - 1) - log r``: unbiased and never negative; its variance is low
  while the policy stays near the reference, but its right tail (``r`` large)
  grows with the distance, and far from the reference it can be noisier than
  ``k1``: the table shows where.

For policies at increasing distance from a reference over one vocabulary,
the script samples many tokens from each policy and reports, per estimator,
the Monte-Carlo mean, its exact expectation (a sum over the vocabulary),
bias, per-token standard deviation and fraction of negative estimates, next
to the exact KL from ``jaxdiv.kl_divergence_from_logits``. It saves a PNG of
the per-token estimates' distributions.

Run ``python examples/rlhf_kl_penalty.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

import jaxdiv
import jaxdiv.losses

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ESTIMATORS = ("k1", "k2", "k3")


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "-" * len(line(headers))
    text = "\n".join([title, rule, line(headers), rule, *map(line, rows), rule])
    print(text)
    return text


@functools.partial(jax.jit, static_argnames=("vocab", "samples"))
def simulate(key: jax.Array, scales: jax.Array, *, vocab: int, samples: int):
    """Exact KL, per-token estimates and their exact expectations.

    Returns ``exact_kl [P]``, ``{estimator: [P, samples]}`` and
    ``{estimator: [P]}`` for ``P = len(scales)`` policies.
    """
    key_ref, key_shift, key_sample = jax.random.split(key, 3)
    # a peaked reference over the vocabulary, and P policies fine-tuned away from it
    ref_logits = 2.0 * jax.random.normal(key_ref, (vocab,))
    shift = jax.random.normal(key_shift, (scales.shape[0], vocab))
    policy_logits = ref_logits[None, :] + scales[:, None] * shift  # [P, V]
    ref_logits = jnp.broadcast_to(ref_logits, policy_logits.shape)

    exact_kl = jaxdiv.kl_divergence_from_logits(policy_logits, ref_logits)  # [P]
    log_pi = jax.nn.log_softmax(policy_logits, axis=-1)
    log_rho = jax.nn.log_softmax(ref_logits, axis=-1)

    # tokens sampled from each policy by inverse-CDF sampling: [P, N]
    # (jax.random.categorical would draw a Gumbel for every (sample, token) pair)
    cdf = jnp.cumsum(jnp.exp(log_pi), axis=-1)
    u = jax.random.uniform(key_sample, (scales.shape[0], samples))
    tokens = jnp.minimum(jax.vmap(jnp.searchsorted)(cdf, u * cdf[:, -1:]), vocab - 1)
    sampled_log_pi = jnp.take_along_axis(log_pi, tokens, axis=-1)
    sampled_log_rho = jnp.take_along_axis(log_rho, tokens, axis=-1)

    per_token, expectation = {}, {}
    for e in ESTIMATORS:
        # what an RLHF trainer computes: one estimate per sampled token
        per_token[e] = jaxdiv.losses.kl_penalty(
            sampled_log_pi, sampled_log_rho, estimator=e
        )
        # its exact expectation under pi: sum_x pi(x) k(x) over the vocabulary
        every_token = jaxdiv.losses.kl_penalty(log_pi, log_rho, estimator=e)
        expectation[e] = jnp.sum(jnp.exp(log_pi) * every_token, axis=-1)
    return exact_kl, per_token, expectation


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(
        description="Bias and spread of the k1/k2/k3 KL-penalty estimators "
        "(jaxdiv.losses.kl_penalty) against the exact KL.",
    )
    parser.add_argument("--vocab", type=int, default=32_000, help="vocabulary size")
    parser.add_argument(
        "--samples", type=int, default=200_000, help="sampled tokens per policy"
    )
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[0.1, 0.3, 1.0, 2.0],
        help="size of the policy's logit shift from the reference, one per policy",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--out", type=Path, default=Path("examples/out"), help="output folder"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)

    exact_kl, per_token, expectations = simulate(
        jax.random.key(args.seed),
        jnp.asarray(args.scales),
        vocab=args.vocab,
        samples=args.samples,
    )

    results, rows, samples = {}, [], {}
    for i, scale in enumerate(args.scales):
        kl = float(exact_kl[i])
        for estimator in ESTIMATORS:
            values = np.asarray(per_token[estimator][i], dtype=np.float64)
            expectation = float(expectations[estimator][i])
            mean, std = values.mean(), values.std()
            r = {
                "exact_kl": kl,
                "mc_mean": mean,
                "expectation": expectation,
                "bias": expectation - kl,
                "mc_error": mean - kl,
                "std": std,
                "std_error": std / np.sqrt(values.size),
                "negative": float(np.mean(values < 0.0)),
            }
            results[f"{scale:g}/{estimator}"] = r
            samples[(scale, estimator)] = values
            rows.append(
                [
                    f"{scale:g}",
                    f"{kl:.5f}" if estimator == "k1" else "",
                    estimator,
                    f"{mean:.5f}",
                    f"{r['std_error']:.5f}",
                    f"{expectation:.5f}",
                    f"{r['bias']:+.1e}",
                    f"{r['bias'] / kl:+.1%}",
                    f"{std:.4f}",
                    f"{std / kl:.2f}",
                    f"{r['negative']:.1%}",
                ]
            )
    table = print_table(
        f"KL(pi || ref) penalty estimators, vocabulary {args.vocab}, "
        f"{args.samples} tokens sampled from each policy pi = softmax(ref + s * z)",
        [
            "s",
            "exact KL",
            "est.",
            "MC mean",
            "+-s.e.",
            "E[k] exact",
            "bias",
            "bias/KL",
            "std/token",
            "std/KL",
            "k < 0",
        ],
        rows,
    )
    print(
        "bias = E[k] - KL, E[k] summed exactly over the vocabulary; "
        "+-s.e. = std / sqrt(samples) of the MC mean"
    )
    (args.out / "rlhf_kl_penalty.txt").write_text(table + "\n")

    fig, axes = plt.subplots(1, len(args.scales), figsize=(4 * len(args.scales), 3.4))
    axes = np.atleast_1d(axes)
    for ax, scale, kl in zip(axes, args.scales, np.asarray(exact_kl), strict=True):
        values = [samples[(scale, e)] for e in ESTIMATORS]
        low, high = np.percentile(np.concatenate(values), [0.5, 99.5])
        bins = np.linspace(low, high, 80)
        for e, v in zip(ESTIMATORS, values, strict=True):
            ax.hist(v, bins=bins, histtype="step", density=True, label=e, lw=1.5)
        ax.axvline(kl, color="k", ls="--", lw=1, label="exact KL")
        ax.set_yscale("log")
        ax.set_title(f"s = {scale:g}, KL = {kl:.3f}")
        ax.set_xlabel("per-token estimate")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path = args.out / "rlhf_kl_penalty.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path} and {args.out / 'rlhf_kl_penalty.txt'}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return results


if __name__ == "__main__":
    main()
