"""Test configuration: 8 host CPU devices, strict rank promotion, x64 off,
LLVM at -O0 (see below)."""

import os

# 8 simulated CPU devices for the sharding tests. The suite is bound by XLA
# compilation (thousands of small programs on 2 cores), so the LLVM backend
# runs at -O0: the HLO passes, which decide fusion, simplification and so the
# numbers, are the ones users get; only machine-code optimisation is skipped
# (about a quarter of each compile). Subprocesses (the examples, the two-process
# test) inherit it. An explicit --xla_backend_optimization_level wins.
_flags = os.environ.get("XLA_FLAGS", "")
if "xla_backend_optimization_level" not in _flags:
    _flags += " --xla_backend_optimization_level=0"
os.environ["XLA_FLAGS"] = (_flags + " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_numpy_rank_promotion", "raise")
