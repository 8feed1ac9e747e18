"""Test configuration: 8 host CPU devices, strict rank promotion, x64 off,
XLA's CPU code generation at its cheapest (see below)."""

import os
import shutil
import subprocess
import sys
import tempfile

# 8 simulated CPU devices for the sharding tests.
#
# The suite is bound by XLA compilation (thousands of small programs on 2
# cores), so the CPU backend's code generation runs at its cheapest: LLVM at
# -O0, and the elemental emitters in place of the MLIR fusion emitters (about
# 40 % of each compile; the suite runs in 0.63x the time). The HLO passes, which
# decide fusion, simplification and so the numbers, are the ones users get; only
# how each fusion becomes machine code differs. Subprocesses (the examples, the
# two-process test) inherit it. An explicit flag in XLA_FLAGS wins, and a flag
# this jaxlib does not know (XLA aborts on one) is left out after a probe.
_CODEGEN = {
    "xla_backend_optimization_level": "0",
    "xla_cpu_use_fusion_emitters": "false",
}


def _known(flags: str) -> bool:
    """Whether a fresh interpreter starts XLA's CPU backend with ``flags``."""
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    probe = "import jax.numpy as jnp; (jnp.ones(2) + 1).block_until_ready()"
    try:
        run = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        return False
    return run.returncode == 0


_OWN_CACHE = None  # the compilation cache this process made, if any
_flags = os.environ.get("XLA_FLAGS", "")
if not os.environ.get("JAXDIV_TEST_FLAGS"):  # once: pytest-xdist workers inherit
    _wanted = [f"--{k}={v}" for k, v in _CODEGEN.items() if k not in _flags]
    if _wanted and not _known(" ".join([_flags, *_wanted])):
        _wanted = [w for w in _wanted if _known(f"{_flags} {w}")]
    _flags = " ".join([_flags, *_wanted])
    if "xla_force_host_platform_device_count" not in _flags:
        _flags += " --xla_force_host_platform_device_count=8"
    os.environ["XLA_FLAGS"] = _flags.strip()
    os.environ["JAXDIV_TEST_FLAGS"] = "1"
    # One compilation cache for this run, shared by the pytest-xdist workers
    # (which compile many of the same programs), started empty and removed at
    # the end: 8 % of the suite without the adversarial harness, 2 % with it
    # (234 s against 263 s; 353 s against 360 s). A cache dir set by the
    # caller wins.
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        _OWN_CACHE = tempfile.mkdtemp(prefix="jaxdiv-tests-xla-")
        os.environ["JAX_COMPILATION_CACHE_DIR"] = _OWN_CACHE
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_unconfigure(config):
    if _OWN_CACHE is not None:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)
