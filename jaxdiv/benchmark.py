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
``linear_log_probs`` ``jaxdiv.fused.linear_log_probs`` with ``return_entropy``
                  (a random per-token cotangent for each output) vs
                  ``log_softmax(h @ w)`` + gather + entropy.
``linear_log_probs_fwd`` the same, forward only (old policy, reference model).

For the fused cases each row also gives the plan the planner chose
(:mod:`jaxdiv.fused.plan`) and the temporary memory of the value-only
program. ``--shape`` picks a preset (N, D, V, dtype) of the issue's table;
``--memory-only`` compiles without running (cheap at any size);
``--plan`` forces a plan through ``memory_budget``.
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

CASES = (
    "ce",
    "ce_naive",
    "kl",
    "linear_ce",
    "linear_distill",
    "linear_distill_jsd",
    "linear_log_probs",
    "linear_log_probs_fwd",
)

# name: (N, D, V, dtype)
SHAPES: dict[str, tuple[int, int, int, str]] = {
    "default": (4096, 512, 32768, "float32"),
    "n8192-d2048-v131072": (8192, 2048, 131072, "bfloat16"),
    "gemma2-2b": (8192, 2304, 256000, "bfloat16"),
    "n32768-d4096-v131072": (32768, 4096, 131072, "bfloat16"),
    "n2048-d128-v32768": (2048, 128, 32768, "float32"),
    "n2048-d2048-v131072": (2048, 2048, 131072, "bfloat16"),
}
PLAN_BUDGETS = {"auto": None, "in_forward": 2**62, "vocab_outer": 1}


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
    plan: str = ""
    value_only_temp_mib: float | None = None


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
            ours,
        )
    if name.startswith("linear_log_probs"):
        y = jnp.asarray(rng.integers(0, v, n), jnp.int32)
        c1 = jnp.asarray(rng.normal(size=n), jnp.float32)
        c2 = jnp.asarray(rng.normal(size=n), jnp.float32)

        def ours(h, w, y):
            lp, ent = fused.linear_log_probs(h, w, y, return_entropy=True, **chunks)
            return jnp.sum(lp * c1) + jnp.sum(ent * c2)

        def base(h, w, y):
            logits = jnp.dot(h, w, preferred_element_type=jnp.float32)
            logp = jax.nn.log_softmax(logits)
            lp = jnp.take_along_axis(logp, y[:, None], axis=-1)[:, 0]
            ent = -jnp.sum(jnp.exp(logp) * logp, axis=-1)
            return jnp.sum(lp * c1) + jnp.sum(ent * c2)

        if name.endswith("_fwd"):
            return ours, base, (h, w, y), 2.0 * n * d * v, None
        return (
            jax.value_and_grad(ours, (0, 1)),
            jax.value_and_grad(base, (0, 1)),
            (h, w, y),
            3 * 2.0 * n * d * v,
            ours,
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
        ours,
    )


def _plan_of(name, n, d, v, dtype, chunks) -> str:
    from jaxdiv.fused import plan

    p = plan.make_plan(
        n=n,
        d=2 * d if name.startswith("linear_distill") else d,
        v=v,
        weight_itemsize=jnp.dtype(dtype).itemsize,
        chunk_size=chunks.get("chunk_size"),
        token_chunk_size=chunks.get("token_chunk_size"),
        memory_budget=chunks.get("memory_budget"),
    )
    return p.describe()


def run_case(
    name, n, d, v, dtype, repeats, peak, chunks, seed=0, memory_only=False
) -> Row:
    rng = np.random.default_rng(seed)
    plan = value_mib = None
    if name.startswith("linear"):
        case = _linear_case(name, n, d, v, dtype, rng, chunks)
        ours, base, args, flops, value_fn = case
        plan = _plan_of(name, n, d, v, dtype, chunks)
        if value_fn is not None:
            value_mib = temp_bytes(value_fn, *args) / 2**20
    else:
        ours, base, args, flops = _logits_case(name, n, v, dtype, rng)
    mem_a, mem_b = temp_bytes(ours, *args), temp_bytes(base, *args)
    if memory_only:
        ta = tb = float("nan")
    else:
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
        plan=plan or "",
        value_only_temp_mib=value_mib,
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
        + (
            ""
            if row.value_only_temp_mib is None
            else f"  value-only {row.value_only_temp_mib:.1f} MiB"
        )
        + (f"  plan {row.plan}" if row.plan else "")
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
    parser.add_argument(
        "--shape",
        choices=sorted(SHAPES),
        default=None,
        help="preset N, D, V, dtype (explicit --n/--d/--v/--dtype override it)",
    )
    parser.add_argument("--n", type=int, default=None, help="tokens (rows)")
    parser.add_argument("--d", type=int, default=None, help="hidden size")
    parser.add_argument("--v", type=int, nargs="+", default=None, help="vocabularies")
    parser.add_argument(
        "--plan",
        choices=sorted(PLAN_BUDGETS),
        default="auto",
        help="force the fused losses' plan (through memory_budget)",
    )
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="compile and report memory only, no timing",
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
        default=None,
        choices=("float32", "bfloat16", "float16"),
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
    if args.shape is not None:
        n0, d0, v0, dt0 = SHAPES[args.shape]
        args.n = n0 if args.n is None else args.n
        args.d = d0 if args.d is None else args.d
        args.v = [v0] if args.v is None else args.v
        args.dtype = dt0 if args.dtype is None else args.dtype
    args.n = 4096 if args.n is None else args.n
    args.d = 512 if args.d is None else args.d
    args.v = [1024, 32768] if args.v is None else args.v
    args.dtype = "float32" if args.dtype is None else args.dtype

    device = jax.devices()[0]
    dtype = jnp.dtype(args.dtype)
    peak = peak_tflops(device, args.dtype, args.peak_tflops)
    chunks = {
        "chunk_size": args.chunk_size,
        "token_chunk_size": args.token_chunk_size,
        "memory_budget": PLAN_BUDGETS[args.plan],
    }
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
            row = run_case(
                case, args.n, args.d, v, dtype, args.repeats, peak, chunks,
                memory_only=args.memory_only,
            )  # fmt: skip
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
