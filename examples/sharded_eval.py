r"""A sharded, vmapped evaluation of per-token KL and cross-entropy.

A batch of padded token sequences, as an LM evaluation sees them: for every
position a reference distribution (say, a teacher or the previous checkpoint)
and a model's predictive distribution over the vocabulary, both as logits.
Sequences have different lengths; the padding positions hold garbage (here
``nan``) and are kept out by a mask, through the measures' ``where=``.

* ``jax.vmap`` maps a per-sequence function over the batch; inside it,
  ``jaxdiv.kl_divergence_from_logits`` and ``jaxdiv.cross_entropy_from_logits``
  give one value per token, ``KL(reference || model)`` and
  ``H(reference, model)``, and exactly 0 at padding.
* The batch is sharded over 8 host CPU devices with ``jax.shard_map``. The
  mean over real tokens must sum values and counts across devices before
  dividing: ``jaxdiv.losses.masked_mean(values, mask, axis_name="data")``.
  The mean of per-device means is wrong whenever devices hold different
  numbers of tokens, as they do here (the batch is sorted by length, as
  length-bucketed batches are).

The script prints the exact sharded mean next to the mean of per-device
means, a single-device run and a NumPy float64 reference, and a per-device
breakdown. Synthetic data (seeded); nothing is downloaded.

Run ``python examples/sharded_eval.py --help`` for the options.
"""

from __future__ import annotations

import os

# 8 host CPU devices; must be set before jax is imported
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jaxdiv  # noqa: E402
import jaxdiv.losses  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def make_batch(seed: int, batch: int, length: int, vocab: int):
    """Reference and model logits ``[B, L, V]``, token mask ``[B, L]`` (NumPy).

    Lengths are sorted (length-bucketed batches) and the model is worse at
    later positions, so devices holding long sequences have a higher mean.
    """
    rng = np.random.default_rng(seed)
    lengths = np.sort(rng.integers(4, length + 1, size=batch))
    mask = np.arange(length)[None, :] < lengths[:, None]  # [B, L]
    ref = 3.0 * rng.standard_normal((batch, length, vocab))
    error_scale = 0.2 + np.arange(length) / length  # grows along the sequence
    model = ref + error_scale[None, :, None] * rng.standard_normal(ref.shape)
    # garbage at padding: masked entries never reach the value or the gradient
    ref = np.where(mask[..., None], ref, np.nan).astype(np.float32)
    model = np.where(mask[..., None], model, np.nan).astype(np.float32)
    return ref, model, mask


def per_sequence(ref_logits, model_logits, mask):
    """Per-token KL(ref || model) and H(ref, model) of one sequence: ``[L]``."""
    where = mask[:, None]  # broadcast over the vocabulary
    kl = jaxdiv.kl_divergence_from_logits(ref_logits, model_logits, where=where)
    ce = jaxdiv.cross_entropy_from_logits(ref_logits, model_logits, where=where)
    return kl, ce


per_token = jax.vmap(per_sequence)  # over the batch: [B, L] each


def numpy_reference(ref, model, mask):
    """Float64 NumPy means over the real tokens, independent of jaxdiv."""
    m = np.asarray(mask)
    r = np.asarray(ref, np.float64)[m]  # [tokens, V]
    q = np.asarray(model, np.float64)[m]

    def log_softmax(x):
        x = x - x.max(-1, keepdims=True)
        return x - np.log(np.exp(x).sum(-1, keepdims=True))

    log_p, log_q = log_softmax(r), log_softmax(q)
    p = np.exp(log_p)
    return float(np.mean((p * (log_p - log_q)).sum(-1))), float(
        np.mean(-(p * log_q).sum(-1))
    )


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


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(
        description="Per-token KL / cross-entropy under jax.vmap, sharded over "
        "host CPU devices, with the exact masked mean across devices.",
    )
    parser.add_argument("--batch", type=int, default=64, help="sequences")
    parser.add_argument("--length", type=int, default=128, help="max tokens each")
    parser.add_argument("--vocab", type=int, default=512, help="vocabulary size")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--out", type=Path, default=Path("examples/out"), help="output folder"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)

    n_dev = jax.device_count()
    if args.batch % n_dev:
        parser.error(f"--batch {args.batch} must be a multiple of {n_dev} devices")
    mesh = jax.make_mesh((n_dev,), ("data",))
    print(f"{n_dev} devices: {[str(d) for d in jax.devices()]}")

    ref, model, mask = make_batch(args.seed, args.batch, args.length, args.vocab)
    # shard the batch axis over the mesh
    sharded = [
        jax.device_put(a, NamedSharding(mesh, P("data"))) for a in (ref, model, mask)
    ]

    def shard(fn):
        return jax.jit(
            jax.shard_map(fn, mesh=mesh, in_specs=(P("data"),) * 3, out_specs=P())
        )

    @shard
    def exact_mean(ref, model, mask):
        kl, ce = per_token(ref, model, mask)
        return (
            jaxdiv.losses.masked_mean(kl, mask, axis_name="data"),
            jaxdiv.losses.masked_mean(ce, mask, axis_name="data"),
        )

    @shard
    def mean_of_means(ref, model, mask):  # the common mistake
        kl, ce = per_token(ref, model, mask)
        return (
            jax.lax.pmean(jaxdiv.losses.masked_mean(kl, mask), "data"),
            jax.lax.pmean(jaxdiv.losses.masked_mean(ce, mask), "data"),
        )

    @jax.jit
    def per_device(ref, model, mask):  # for the breakdown table
        kl, _ = per_token(ref, model, mask)
        kl = kl.reshape(n_dev, -1)
        m = mask.reshape(n_dev, -1)
        return jax.vmap(jaxdiv.losses.masked_mean)(kl, m), m.sum(-1)

    @jax.jit
    def single_device(ref, model, mask):
        kl, ce = per_token(ref, model, mask)
        return jaxdiv.losses.masked_mean(kl, mask), jaxdiv.losses.masked_mean(ce, mask)

    one = jax.devices()[0]
    results = {
        "exact: masked_mean(..., axis_name='data') under shard_map": exact_mean(
            *sharded
        ),
        "pmean of per-device masked_mean (wrong)": mean_of_means(*sharded),
        "single device, no sharding": single_device(
            *(jax.device_put(a, one) for a in (ref, model, mask))
        ),
    }
    results = {k: (float(kl), float(ce)) for k, (kl, ce) in results.items()}
    np_kl, np_ce = numpy_reference(ref, model, mask)
    results["NumPy float64 reference"] = (np_kl, np_ce)

    n_tokens = int(mask.sum())
    rows = [
        [
            name,
            f"{kl:.6f}",
            f"{ce:.6f}",
            f"{abs(kl - np_kl):.1e}",
            f"{abs(ce - np_ce):.1e}",
        ]
        for name, (kl, ce) in results.items()
    ]
    table = print_table(
        f"mean over {n_tokens} real tokens of {args.batch} padded sequences "
        f"(max {args.length}, vocab {args.vocab}), batch sharded over {n_dev} devices",
        ["method", "KL(ref||model)", "H(ref,model)", "|KL err|", "|CE err|"],
        rows,
    )
    dev_means, dev_tokens = per_device(ref, model, mask)
    rows = [
        [
            f"device {i}",
            f"{args.batch // n_dev}",
            f"{int(t)}",
            f"{float(m):.6f}",
        ]
        for i, (t, m) in enumerate(zip(dev_tokens, dev_means, strict=True))
    ]
    breakdown = print_table(
        "per device (sequences sorted by length)",
        ["shard", "sequences", "tokens", "mean KL"],
        rows,
    )
    (args.out / "sharded_eval.txt").write_text(table + "\n" + breakdown + "\n")

    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(np.arange(n_dev), np.asarray(dev_means), color="C0", label="device mean")
    for name, style in [
        ("exact: masked_mean(..., axis_name='data') under shard_map", "-"),
        ("pmean of per-device masked_mean (wrong)", "--"),
    ]:
        ax.axhline(results[name][0], ls=style, color="k", label=name)
    ax.set_xlabel("device")
    ax.set_ylabel("mean per-token KL(ref || model)")
    for i, t in enumerate(np.asarray(dev_tokens)):
        ax.text(i, float(dev_means[i]), f"{t} tok", ha="center", va="bottom", size=7)
    ax.set_ylim(0.0, 1.4 * float(np.max(dev_means)))
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = args.out / "sharded_eval.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path} and {args.out / 'sharded_eval.txt'}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return results


if __name__ == "__main__":
    main()
