"""KSG mutual information: speed, memory and accuracy against the peers.

``python -m jaxdiv.estimators.benchmark [--bmi-python /tmp/bmi/bin/python]``

* speed: ``ksg_mutual_information`` jitted (compilation excluded, best of
  ``--repeats``) at ``n = 10,000`` pairs, ``d = 5`` per side, against
  ennemi (its KSG kernel ``_estimate_single_mi``, the joint-vector estimator
  behind ``estimate_mi``, which itself only takes one-dimensional
  variables), infomeasure (``mutual_information(approach="ksg",
  noise_level=0)``) and BMI (``benchmark-mi``'s
  ``KSGEnsembleFirstEstimator``, run in its own interpreter because it pins
  an old jax; timed on its second call, so its compilation is excluded too),
  all in one run on the same samples. Peers that are not installed are
  skipped.
* memory: ``memory_analysis().temp_size_in_bytes`` of the compiled
  estimator at two values of ``n``: it grows like ``n * chunk_size``.
* accuracy: correlated Gaussians (``rho = 0.6`` per coordinate) of
  dimension 1, 5 and 20, ``n = 10,000``: each estimate's error against
  :math:`-\\tfrac{d}{2} \\log(1 - \\rho^2)`.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from . import ksg_mutual_information

RHO = 0.6
_BMI_SCRIPT = r"""
import json, sys, time
import numpy as np
import bmi
data = np.load(sys.argv[1]); k = int(sys.argv[2]); out = {}
for name in sorted({f.rsplit("_", 1)[0] for f in data.files}):
    x, y = data[name + "_x"], data[name + "_y"]
    est = bmi.estimators.KSGEnsembleFirstEstimator(
        neighborhoods=(k,), standardize=False
    )
    times = []
    for _ in range(2 if name == sys.argv[3] else 1):  # the first call compiles
        t = time.perf_counter(); value = est.estimate(x, y)
        times.append(time.perf_counter() - t)
    out[name] = {"mi": float(value), "seconds": times[-1]}
print(json.dumps(out))
"""


def gaussians(n: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = RHO * x + math.sqrt(1 - RHO**2) * rng.normal(size=(n, d))
    return x, y


def _best(fn, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return float(value), min(times)


def ours(x, y, k: int, repeats: int):
    f = jax.jit(lambda a, b: ksg_mutual_information(a, b, k=k))
    a, b = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    f(a, b).block_until_ready()
    return _best(lambda: f(a, b).block_until_ready(), repeats)


def peers(k: int):
    """``name -> fn(x, y) -> mi`` for the installed peers."""
    out = {}
    try:
        from ennemi._entropy_estimators import _estimate_single_mi

        out["ennemi"] = lambda x, y: _estimate_single_mi(x, y, k)
    except ImportError:
        pass
    try:
        import infomeasure

        out["infomeasure"] = lambda x, y: infomeasure.mutual_information(
            x, y, approach="ksg", k=k, noise_level=0
        )
    except ImportError:
        pass
    return out


def bmi(sets: dict, k: int, python: str | None, timed: str) -> dict:
    if not python or not Path(python).exists():
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        arrays = {}
        for name, (x, y) in sets.items():
            arrays[f"{name}_x"], arrays[f"{name}_y"] = x, y
        np.savez(path, **arrays)
        run = subprocess.run(
            [python, "-c", _BMI_SCRIPT, str(path), str(k), timed],
            capture_output=True,
            text=True,
            check=False,
        )
    if run.returncode:
        print(f"BMI failed: {run.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return {}
    return json.loads(run.stdout.strip().splitlines()[-1])


def temp_bytes(n: int, d: int, k: int) -> int:
    s = jax.ShapeDtypeStruct((n, d), jnp.float32)
    f = jax.jit(lambda a, b: ksg_mutual_information(a, b, k=k))
    return f.lower(s, s).compile().memory_analysis().temp_size_in_bytes


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="pairs")
    parser.add_argument("--d", type=int, default=5, help="dimension of X and of Y")
    parser.add_argument("--k", type=int, default=3, help="neighbours")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (best)")
    parser.add_argument(
        "--dims", type=int, nargs="*", default=[1, 5, 20], help="accuracy table dims"
    )
    parser.add_argument(
        "--bmi-python", default=None, help="interpreter with benchmark-mi installed"
    )
    args = parser.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}")
    others = peers(args.k)
    sets = {f"d{d}": gaussians(args.n, d) for d in sorted({args.d, *args.dims})}
    bmi_results = bmi(sets, args.k, args.bmi_python, f"d{args.d}")

    x, y = sets[f"d{args.d}"]
    truth = -0.5 * args.d * math.log(1 - RHO**2)
    print(f"\nspeed: KSG, n = {args.n}, d = {args.d} + {args.d}, k = {args.k}")
    rows = {"jaxdiv (jit)": ours(x, y, args.k, args.repeats)}
    for name, fn in others.items():
        rows[name] = _best(lambda fn=fn: fn(x, y), 1)
    if f"d{args.d}" in bmi_results:
        r = bmi_results[f"d{args.d}"]
        rows["BMI"] = (r["mi"], r["seconds"])
    base = rows["jaxdiv (jit)"][1]
    peer_times = [t for name, (_, t) in rows.items() if name != "jaxdiv (jit)"]
    fastest_peer = min(peer_times, default=None)
    print(f"{'':16} {'seconds':>9} {'MI':>9} {'speed-up':>9}   (truth {truth:.4f})")
    for name, (value, seconds) in rows.items():
        speedup = seconds / base
        print(f"{name:16} {seconds:9.3f} {value:9.4f} {speedup:8.1f}x")
    if fastest_peer:
        print(f"jaxdiv vs the fastest peer: {fastest_peer / base:.1f}x")

    print("\nmemory: temp bytes of the compiled estimator (chunk_size 64)")
    memory = {n: temp_bytes(n, args.d, args.k) for n in (args.n, 2 * args.n)}
    for n, b in memory.items():
        dense = 4 * n * n / 2**20
        print(
            f"n = {n:>7}: {b / 2**20:8.1f} MiB  (one [n, n] float32: {dense:.0f} MiB)"
        )

    print(f"\naccuracy: error (estimate - truth), n = {args.n}, rho = {RHO}")
    names = ["jaxdiv", *others, *(["BMI"] if bmi_results else [])]
    print(f"{'d':>3} {'truth':>8} " + " ".join(f"{n:>12}" for n in names))
    accuracy = {}
    for d in args.dims:
        xd, yd = sets[f"d{d}"]
        t = -0.5 * d * math.log(1 - RHO**2)
        est = {"jaxdiv": ours(xd, yd, args.k, 1)[0]}
        est.update({n: float(fn(xd, yd)) for n, fn in others.items()})
        if bmi_results:
            est["BMI"] = bmi_results[f"d{d}"]["mi"]
        accuracy[d] = {"truth": t, **{n: v - t for n, v in est.items()}}
        print(f"{d:>3} {t:8.4f} " + " ".join(f"{v - t:+12.4f}" for v in est.values()))
    return {"speed": rows, "memory": memory, "accuracy": accuracy}


if __name__ == "__main__":
    main()
