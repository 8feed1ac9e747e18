# ruff: noqa: E501, E741, B008  (tables of adversarial cases are long)
"""Two jax processes on localhost give the single-process numbers.

Starts `_two_process_worker.py` twice (process ids 0 and 1) with
`jax.distributed.initialize("127.0.0.1:<free port>", num_processes=2)` and
CPU collectives over gloo (`jax_cpu_collectives_implementation="gloo"`),
two CPU devices each. Each process holds half of the batch and half of the
vocabulary (and, on the second mesh, the other way round) and checks the
exact token mean (`jaxdiv.losses.masked_mean` with `axis_name`), the
vocabulary-parallel `_from_logits` measures and cross-entropy losses, and the
fused losses (`axis_name` and `token_axis_name`, value and gradient) against
the single-process results on the full arrays. Known failures are the
`("two_process", check)` entries of `_adversarial_registry.KNOWN_FAILURES`.
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys

import _adversarial_registry as reg

WORKER = pathlib.Path(__file__).with_name("_two_process_worker.py")
TIMEOUT_S = (
    500  # generous: a shared, loaded 2-core machine (about 25 s CPU per process)
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_workers():
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_ENABLE_X64")
    }
    env["JAX_PLATFORMS"] = "cpu"
    # the workers import this checkout's jaxdiv, whatever is installed
    root = str(WORKER.parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(i), str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=str(WORKER.parent),
        )
        for i in range(2)
    ]
    outs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=TIMEOUT_S)
            outs.append(out)
    finally:
        for p in procs:  # clean teardown: never leave a worker behind
            if p.poll() is None:
                p.kill()
                p.communicate()
    return procs, outs


def test_two_processes_match_single_process():
    procs, outs = _run_workers()
    known = {
        name: why
        for (where, name), why in reg.KNOWN_FAILURES.items()
        if where == "two_process"
    }
    problems, failed_any, seen = [], set(), set()
    for i, out in enumerate(outs):
        lines = out.splitlines()
        if "DONE" not in " ".join(lines):
            problems.append(
                f"process {i} did not finish (rc {procs[i].returncode}):\n{out[-3000:]}"
            )
            continue
        ok = {line[3:] for line in lines if line.startswith("OK ")}
        failed = {
            line[5:].split(":")[0]: line for line in lines if line.startswith("FAIL ")
        }
        assert len(ok) + len(failed) >= 40, out[-2000:]
        seen |= ok | set(failed)
        failed_any |= set(failed)
        problems += [
            f"process {i}: {line}" for name, line in failed.items() if name not in known
        ]
    # strict: a known failure that fails in neither process is fixed
    problems += [
        f"{name} passes: delete its KNOWN_FAILURES entry"
        for name in known
        if name in seen and name not in failed_any
    ]
    assert not problems, "\n".join(problems)
