# ruff: noqa: E501, E741, B008  (tables of adversarial cases are long)
"""Every public function lowers for TPU and CUDA, and float32 stays float32.

`jax.export.export(jax.jit(f), platforms=["tpu", "cuda"])` of the value and
gradient of each registered function (`_adversarial_registry.SPECS`, first
case, float32 inputs), exported with x64 enabled so that any float64
promotion would show: the StableHLO text must hold no float64 array (weak
scalar constants excepted) and no custom call outside the targets both accelerators provide. Nothing is
compiled or run (lowering only), so this is cheap and needs no accelerator.
"""

from __future__ import annotations

import functools
import re

import _adversarial_registry as reg
import jax
import jax.numpy as jnp
import numpy as np
import pytest

PLATFORMS = ("tpu", "cuda")
# Custom calls that jax.export accepts on every platform (sharding markers).
PORTABLE_TARGETS = {
    "Sharding",
    "SPMDFullToShardShape",
    "SPMDShardToFullShape",
    "annotate_device_placement",
}


def _params():
    out = []
    for path, spec in reg.SPECS.items():
        if spec.custom is not None and not spec.cases(np.random.default_rng(0)):
            fn = _SPECIAL.get(path)
            if fn is None:
                continue
        out.append(pytest.param(path, id=path, marks=_xfail(path)))
    return out


def _xfail(path):
    return reg.marks(path, "portability")


def _sampler_call(path):
    mod = reg.FAMILY_MODULES[path.split(".")[1]]
    params = dict((m, p) for m, p, _ in reg._sampler_table())[path.split(".")[1]]
    return (lambda key, *p: mod.sample(key, *p, shape=(4,))), (
        jax.random.key(0),
        *params,
    )


_SPECIAL = {f"jaxdiv.{m}.sample": m for m in reg.FAMILY_MODULES}


def _call_for(path):
    """(function of arrays, example arrays, differentiable positions)."""
    spec = reg.SPECS[path]
    if spec.sampler:
        f, args = _sampler_call(path)
        return f, args, ()
    cases = spec.cases(np.random.default_rng(0))
    case = cases[0]
    args = tuple(
        np.asarray(a, np.float32)
        if np.issubdtype(np.asarray(a).dtype, np.floating)
        else np.asarray(a)
        for a in case.args
    )
    kw = {
        k: (
            np.asarray(v, np.float32)
            if np.issubdtype(np.asarray(v).dtype, np.floating)
            else np.asarray(v)
        )
        for k, v in case.kw.items()
    }
    static = case.static
    names = sorted(kw)

    def f(*xs):
        a, k = xs[: len(args)], dict(zip(names, xs[len(args) :], strict=True))
        return spec.fn(*a, **k, **static)

    return (
        f,
        args + tuple(kw[n] for n in names),
        tuple(i for i in spec.diff if i < len(args)),
    )


@functools.cache
def _exported_text(path):
    f, args, diff = _call_for(path)

    def value_and_grad(*xs):
        if not diff:
            return f(*xs)

        def total(d):
            ys = list(xs)
            for i, x in zip(diff, d, strict=True):
                ys[i] = x
            out = f(*ys)
            return jnp.sum(out.astype(jnp.float32)), out

        (_, out), g = jax.value_and_grad(total, has_aux=True)(
            tuple(xs[i] for i in diff)
        )
        return out, g

    with jax.enable_x64(True):
        shapes = [
            x
            if isinstance(x, jax.Array)
            and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)
            else jax.ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype)
            for x in args
        ]
        exp = jax.export.export(jax.jit(value_and_grad), platforms=list(PLATFORMS))(
            *shapes
        )
        return exp.mlir_module(), [str(a.dtype) for a in exp.out_avals]


@pytest.mark.parametrize("path", _params())
def test_lowers_for_tpu_and_cuda_without_float64(path):
    text, out_dtypes = _exported_text(path)
    targets = set(re.findall(r"custom_call\s*@([\w.$-]+)", text))
    targets |= set(re.findall(r'call_target_name\s*=\s*"([^"]+)"', text))
    bad = sorted(t for t in targets if t not in PORTABLE_TARGETS)
    assert not bad, f"{path}: non-portable custom calls {bad}"
    # Python scalars are weak-typed: under x64 they lower as f64 scalars that
    # are converted at once; a float64 *array* means float32 data was promoted.
    f64_arrays = sorted(set(re.findall(r"tensor<(?:\d+x)+f64>", text)))
    assert not f64_arrays, (
        f"{path}: float64 arrays {f64_arrays[:5]} in the StableHLO of a float32 call"
    )
    assert not [d for d in out_dtypes if d == "float64"], (
        f"{path}: float64 outputs {out_dtypes}"
    )


def test_every_public_function_is_exported():
    exported = {p.values[0] for p in _params()}
    missing = sorted(
        set(reg.public_paths()) - exported - {"jaxdiv.value_checks"} - reg.PENDING
    )
    assert not missing, f"not exported: {missing}"
