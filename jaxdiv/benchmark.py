"""Speed and memory of jaxdiv against optax and unfused baselines.

Run ``python -m jaxdiv.benchmark`` (``--help`` for the options). For each case
and vocabulary size it prints one row: the jaxdiv time and the baseline time
(medians over ``--repeats`` runs after a warm-up, the two measured alternately,
A B A B, so that drift on a shared machine hits both alike), their ratio, and
the temporary memory XLA allocates for each compiled computation
(``jax.jit(f).lower(...).compile().memory_analysis().temp_size_in_bytes``).
On a GPU or TPU the matmul cases also report their roofline fraction: the
achieved FLOP/s of the useful matmuls (those of the unfused computation) over
the device's peak, looked up by device kind in :data:`PEAK_TFLOPS` or given by
``--peak-tflops``.

Every case times a forward and backward pass (``jax.value_and_grad`` of the
mean loss):

``ce``            integer-label cross-entropy on logits ``[N, V]``:
                  ``jaxdiv.losses`` vs ``optax.losses``.
``ce_naive``      the same against the textbook ``-log_softmax(x)[y]``.
``kl``            KL divergence from logits, ``jaxdiv.kl_divergence_from_logits``
                  vs ``optax.losses.kl_divergence_with_log_targets`` on
                  log-softmaxes.
``linear_ce``     ``jaxdiv.fused.linear_cross_entropy`` vs ``hidden @ weight``
                  followed by optax's loss; gradients for hidden and weight.
``linear_distill`` ``jaxdiv.fused.linear_distillation_loss`` (forward KL) vs
                  both matmuls followed by the dense loss; gradients for the
                  student's hidden states and weight.
``linear_distill_jsd`` the same with the generalised JSD.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxdiv
import jaxdiv.losses
from jaxdiv import fused

__all__ = ["PEAK_TFLOPS", "main"]

# Dense peak matmul throughput in TFLOP/s by device kind (a substring of
# ``jax.devices()[0].device_kind``) and operand dtype. float32 is the TF32
# tensor-core rate (XLA's default precision for float32 matmuls on these
# GPUs); pass --peak-tflops where that does not hold.
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H200": {"bfloat16": 989.0, "float32": 494.0},
    "H100 PCIe": {"bfloat16": 756.0, "float32": 378.0},
    "H100": {"bfloat16": 989.0, "float32": 494.0},
    "A100": {"bfloat16": 312.0, "float32": 156.0},
    "L4": {"bfloat16": 121.0, "float32": 60.0},
    "TPU v4": {"bfloat16": 275.0, "float32": 275.0},
    "TPU v5 lite": {"bfloat16": 197.0, "float32": 197.0},
    "TPU v5p": {"bfloat16": 459.0, "float32": 459.0},
}

CASES = ("ce", "ce_naive", "kl", "linear_ce", "linear_distill", "linear_distill_jsd")


@dataclass
class Row:
    case: str
    n: int
    d: int
    v: int
    dtype: str
    jaxdiv_ms: float
    baseline_ms: float
    ratio: float
    jaxdiv_temp_mib: float
    baseline_temp_mib: float
    memory_ratio: float
    jaxdiv_roofline: float | None = None
    baseline_roofline: float | None = None


def peak_tflops(device, dtype: str, override: float | None) -> float | None:
    """The peak of ``device`` for ``dtype`` matmuls, or ``None`` (CPU, unknown)."""
    if override is not None:
        return override
    if device.platform == "cpu":
        return None
    kind = device.device_kind
    for key in sorted(PEAK_TFLOPS, key=len, reverse=True):
        if key in kind:
            return PEAK_TFLOPS[key].get(dtype)
    return None


def temp_bytes(fn: Callable, *args) -> int:
    """Temporary memory of the compiled ``fn`` (XLA's buffer assignment)."""
    analysis = jax.jit(fn).lower(*args).compile().memory_analysis()
    return int(getattr(analysis, "temp_size_in_bytes", -1))


def alternate(fa: Callable, fb: Callable, args, repeats: int) -> tuple[float, float]:
    """Median seconds of ``fa(*args)`` and ``fb(*args)``, timed A B A B."""
    fa, fb = jax.jit(fa), jax.jit(fb)
    for f in (fa, fb):  # compile and warm up
        jax.block_until_ready(f(*args))
        jax.block_until_ready(f(*args))
    ta, tb = [], []
    for _ in range(repeats):
        for f, ts in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            jax.block_until_ready(f(*args))
            ts.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


# --------------------------------------------------------------------------
# the cases: (jaxdiv function, baseline function, arguments, useful FLOPs)


def _logits_case(name: str, n: int, v: int, dtype, rng):
    logits = jnp.asarray(rng.normal(size=(n, v)) * 2.0, dtype)
    labels = jnp.asarray(rng.integers(0, v, n), jnp.int32)
    if name == "kl":
        other = jnp.asarray(rng.normal(size=(n, v)) * 2.0, dtype)

        def ours(p, q):
            return jnp.mean(jaxdiv.kl_divergence_from_logits(p, q))

        def base(p, q):
            lp, lq = jax.nn.log_softmax(p), jax.nn.log_softmax(q)
            return jnp.mean(optax.losses.kl_divergence_with_log_targets(lq, lp))

        grad = (0, 1)
        args = (logits, other)
    else:

        def ours(x, y):
            loss = jaxdiv.losses.softmax_cross_entropy_with_integer_labels(x, y)
            return jnp.mean(loss)

        if name == "ce":

            def base(x, y):
                loss = optax.losses.softmax_cross_entropy_with_integer_labels(x, y)
                return jnp.mean(loss)

        else:

            def base(x, y):
                logp = jax.nn.log_softmax(x.astype(jnp.float32))
                return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))

        grad = 0
        args = (logits, labels)
    return (
        jax.value_and_grad(ours, grad),
        jax.value_and_grad(base, grad),
        args,
        None,
    )


def _linear_case(name: str, n: int, d: int, v: int, dtype, rng, chunks):
    scale = 1.0 / np.sqrt(d)
    h = jnp.asarray(rng.normal(size=(n, d)), dtype)
    w = jnp.asarray(rng.normal(size=(d, v)) * scale, dtype)
    if name == "linear_ce":
        y = jnp.asarray(rng.integers(0, v, n), jnp.int32)

        def ours(h, w, y):
            return fused.linear_cross_entropy(h, w, y, **chunks)

        def base(h, w, y):
            logits = jnp.dot(h, w, preferred_element_type=jnp.float32)
            return jnp.mean(
                optax.losses.softmax_cross_entropy_with_integer_labels(logits, y)
            )

        return (
            jax.value_and_grad(ours, (0, 1)),
            jax.value_and_grad(base, (0, 1)),
            (h, w, y),
            3 * 2.0 * n * d * v,
        )
    ht = jnp.asarray(rng.normal(size=(n, d)), dtype)
    wt = jnp.asarray(rng.normal(size=(d, v)) * scale, dtype)
    divergence = "jsd" if name.endswith("jsd") else "forward_kl"

    def ours(h, w, ht, wt):
        return fused.linear_distillation_loss(
            h, w, ht, wt, temperature=2.0, divergence=divergence, **chunks
        )

    def base(h, w, ht, wt):
        s = jnp.dot(h, w, preferred_element_type=jnp.float32) / 2.0
        t = jnp.dot(ht, wt, preferred_element_type=jnp.float32) / 2.0
        ls = jax.nn.log_softmax(s)
        lt = jax.lax.stop_gradient(jax.nn.log_softmax(t))
        if divergence == "jsd":
            lm = jnp.logaddexp(lt + np.log(0.5), ls + np.log(0.5))
            pt, ps = jnp.exp(lt), jnp.exp(ls)
            d = 0.5 * jnp.sum(pt * (lt - lm), -1) + 0.5 * jnp.sum(ps * (ls - lm), -1)
        else:
            d = optax.losses.kl_divergence_with_log_targets(ls, lt)
        return 4.0 * jnp.mean(d)

    return (
        jax.value_and_grad(ours, (0, 1)),
        jax.value_and_grad(base, (0, 1)),
        (h, w, ht, wt),
        4 * 2.0 * n * d * v,
    )


def run_case(name, n, d, v, dtype, repeats, peak, chunks, seed=0) -> Row:
    rng = np.random.default_rng(seed)
    if name.startswith("linear"):
        ours, base, args, flops = _linear_case(name, n, d, v, dtype, rng, chunks)
    else:
        ours, base, args, flops = _logits_case(name, n, v, dtype, rng)
    mem_a, mem_b = temp_bytes(ours, *args), temp_bytes(base, *args)
    ta, tb = alternate(ours, base, args, repeats)
    roof_a = roof_b = None
    if flops is not None and peak:
        roof_a, roof_b = flops / ta / (peak * 1e12), flops / tb / (peak * 1e12)
    mib = 2.0**20
    return Row(
        case=name,
        n=n,
        d=d,
        v=v,
        dtype=jnp.dtype(dtype).name,
        jaxdiv_ms=ta * 1e3,
        baseline_ms=tb * 1e3,
        ratio=ta / tb,
        jaxdiv_temp_mib=mem_a / mib,
        baseline_temp_mib=mem_b / mib,
        memory_ratio=mem_b / mem_a if mem_a > 0 else float("inf"),
        jaxdiv_roofline=roof_a,
        baseline_roofline=roof_b,
    )


def _format(row: Row) -> str:
    roof = ""
    if row.jaxdiv_roofline is not None:
        roof = f"  roofline {row.jaxdiv_roofline:6.1%} vs {row.baseline_roofline:6.1%}"
    return (
        f"{row.case:<19} N={row.n:<6} D={row.d:<5} V={row.v:<7} "
        f"jaxdiv {row.jaxdiv_ms:9.1f} ms  baseline {row.baseline_ms:9.1f} ms  "
        f"ratio {row.ratio:5.2f}  temp {row.jaxdiv_temp_mib:8.1f} MiB vs "
        f"{row.baseline_temp_mib:8.1f} MiB ({row.memory_ratio:5.1f}x less){roof}"
    )


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Runs the benchmark from command-line arguments (``--help`` lists them).

    Args:
      argv: the arguments, ``sys.argv[1:]`` when ``None``.

    Returns:
      One :class:`Row` per case and vocabulary size, also printed (as a
      table, or as JSON with ``--json``).
    """
    parser = argparse.ArgumentParser(
        prog="python -m jaxdiv.benchmark", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--n", type=int, default=4096, help="tokens (rows)")
    parser.add_argument("--d", type=int, default=512, help="hidden size")
    parser.add_argument(
        "--v", type=int, nargs="+", default=[1024, 32768], help="vocabulary sizes"
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=list(CASES),
        choices=CASES,
        metavar="CASE",
        help=f"cases to run, among {', '.join(CASES)}",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side")
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=("float32", "bfloat16"),
        help="dtype of logits / hidden states and weights",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="vocabulary entries per tile of the fused losses (default: auto)",
    )
    parser.add_argument(
        "--token-chunk-size",
        type=int,
        default=None,
        help="tokens per tile of the fused losses (default: auto)",
    )
    parser.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="device peak for the roofline fraction (default: looked up by kind)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead")
    args = parser.parse_args(argv)

    device = jax.devices()[0]
    dtype = jnp.dtype(args.dtype)
    peak = peak_tflops(device, args.dtype, args.peak_tflops)
    chunks = {"chunk_size": args.chunk_size, "token_chunk_size": args.token_chunk_size}
    header = (
        f"device: {device.platform} {device.device_kind} (x{jax.device_count()}), "
        f"jax {jax.__version__}, optax {optax.__version__}, jaxdiv "
        f"{jaxdiv.__version__}, peak {peak} TFLOP/s ({args.dtype})"
    )
    if not args.json:
        print(header, flush=True)
    rows = []
    for v in args.v:
        for case in args.cases:
            row = run_case(case, args.n, args.d, v, dtype, args.repeats, peak, chunks)
            rows.append(row)
            if not args.json:
                print(_format(row), flush=True)
    if args.json:
        out = {
            "device": {"platform": device.platform, "kind": device.device_kind},
            "jax": jax.__version__,
            "peak_tflops": peak,
            "repeats": args.repeats,
            "rows": [asdict(r) for r in rows],
        }
        print(json.dumps(out, indent=2))
    return rows


if __name__ == "__main__":
    main()
