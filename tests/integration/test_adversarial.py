# ruff: noqa: E501, E741, B008  (tables of adversarial cases are long)
"""Adversarial harness: every public function against the promises of API.md.

Each case of `_adversarial_registry.SPECS` is checked for: the value against
an independent long-double / scipy reference (nan, +-inf and finite values
alike), the documented bounds, eager = jit = vmap, `where` = boolean
indexing, finite `grad` of every differentiable argument wherever the value
is finite (exactly 0 on padding rows), `jvp` finite and consistent with
`grad`, gradients against central differences of the reference, and the
same value in float64. Per function: jitted value and gradient executed in
bfloat16 and float16, and trace-time errors. Known failures (issue 9) are
xfails listed in `_adversarial_registry.KNOWN_FAILURES` (with their reasons)
and `_adversarial_triage.KNOWN` (the cases a full run found failing, each with
its class; strict but for those at rounding level).
"""

from __future__ import annotations

import functools

import _adversarial_registry as reg
import _adversarial_triage as triage
import jax
import jax.numpy as jnp
import numpy as np
import pytest

EPS32 = float(np.finfo(np.float32).eps)

# The deprecated alias warns on every call by design (tests/losses checks it);
# here it is checked like any other name.
pytestmark = pytest.mark.filterwarnings(
    "ignore:jaxdiv.losses.convex_kl_divergence is deprecated:DeprecationWarning"
)


def _cases(spec):
    return spec.cases(np.random.default_rng(0))


# The per-case checks compare against a reference: specs without one (random
# estimates) are checked by their `custom` function only.
CASES = [
    (path, c)
    for path, spec in reg.SPECS.items()
    if spec.ref is not None
    for c in _cases(spec)
]
CASE_PARAMS = []
for _path, _c in CASES:
    spec = reg.SPECS[_path]
    modes = ["float32"]
    if _c.float64:
        modes.append("float64")
    for _m in modes:
        cid = _c.id if _m == "float32" else f"{_c.id}@float64"
        CASE_PARAMS.append(
            pytest.param(
                _path, _c, _m, id=f"{_path}::{cid}", marks=reg.marks(_path, cid)
            )
        )


# Every check runs in the suite: the cases of one function that one call can
# hold share one jitted probe, and conftest.py shares compilations between the
# workers (about 90 s of the suite on 2 cores).
ADVERSARIAL = pytest.mark.adversarial
_xfail = reg.marks


# --------------------------------------------------------------------------
# Machinery


def _is_float(a):
    return np.issubdtype(np.asarray(a).dtype, np.floating)


def _cast(spec, case, dtype, kwdtype):
    args = []
    for i, a in enumerate(case.args):
        a = np.asarray(a)
        if i in spec.float_args and _is_float(a):
            a = a.astype(dtype)
        elif _is_float(a):
            a = a.astype(kwdtype)
        args.append(a)
    kw = {}
    for k, v in case.kw.items():
        v = np.asarray(v)
        kw[k] = v.astype(kwdtype) if _is_float(v) else v
    return tuple(args), kw


def _as64(x):
    x = np.asarray(x)
    return x.astype(np.float64) if _is_float(x) else x


def _reference(spec, args, kw, static, ftz=False):
    """The reference on the (rounded) inputs; with ftz, float32 subnormal
    inputs flushed to zero, as XLA:CPU does (either answer is accepted)."""
    a64 = [_as64(a) for a in args]
    if ftz:
        tiny = np.finfo(np.float32).tiny
        a64 = [np.where(np.abs(a) < tiny, 0.0, a) if _is_float(a) else a for a in a64]
    with np.errstate(all="ignore"):
        out = spec.ref(*a64, **{k: _as64(v) for k, v in kw.items()}, **static)
    out = np.asarray(out, dtype=np.longdouble)
    # a true value beyond the largest float of the inputs' dtype rounds to inf
    floats = [np.asarray(a).dtype for a in args if _is_float(a)]
    if floats:
        big = np.finfo(max(floats, key=lambda d: d.itemsize)).max
        with np.errstate(invalid="ignore"):
            out = np.where(np.abs(out) > big, np.sign(out) * np.inf, out)
    return out


def _has_subnormal(args):
    tiny = np.finfo(np.float32).tiny
    return any(
        _is_float(a)
        and np.any((np.abs(np.asarray(a, np.float64)) < tiny) & (np.asarray(a) != 0))
        for a in args
    )


@functools.cache
def _probe(fn, diff, diff_kw, static_key):
    static = dict(static_key)

    def call(args, kw):
        return fn(*args, **kw, **static)

    def probe(args, kw, cot, tan):
        d = tuple(args[i] for i in diff)
        dk = {n: kw[n] for n in diff_kw if n in kw}

        def f(d, dk):
            a = list(args)
            for i, x in zip(diff, d, strict=True):
                a[i] = x
            return call(tuple(a), {**kw, **dk})

        v = f(d, dk)

        def scalar(d, dk):
            out = f(d, dk)
            out = out.astype(jnp.promote_types(out.dtype, jnp.float32))
            return jnp.sum(jnp.where(cot, out, 0))

        g = jax.grad(scalar, argnums=(0, 1))(d, dk)
        _, jt = jax.jvp(f, (d, dk), tan)
        stacked = jax.tree.map(lambda x: jnp.stack([x, x]), (args, kw))
        vm = jax.vmap(call)(*stacked)
        return v, g, jt, vm

    return jax.jit(probe)


@functools.cache
def _jit_value(fn, static_key):
    static = dict(static_key)
    return jax.jit(lambda args, kw: fn(*args, **kw, **static))


def _compare(name, got, ref, rtol, atol):
    """Fails (list of strings) unless got matches ref: nan, inf and values."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.longdouble)
    if got.shape != ref.shape:
        return [f"{name}: shape {got.shape} != reference {ref.shape}"]
    fails = []
    rn = np.isnan(ref)
    if np.any(rn & ~np.isnan(got)):
        fails.append(
            f"{name}: expected nan at {np.argwhere(rn & ~np.isnan(got))[:3].tolist()}, got {got[rn & ~np.isnan(got)][:3]}"
        )
    ri = np.isinf(ref)
    bad = ri & (got != ref.astype(np.float64))
    if np.any(bad):
        fails.append(
            f"{name}: expected {ref[bad][:3].astype(float)} at {np.argwhere(bad)[:3].tolist()}, got {got[bad][:3]}"
        )
    fin = np.isfinite(ref)
    with np.errstate(all="ignore"):
        err = np.abs(got.astype(np.longdouble) - ref)
    tol = atol + rtol * np.abs(ref)
    bad = fin & ~(err <= tol)
    if np.any(bad):
        i = tuple(np.argwhere(bad)[0])
        fails.append(
            f"{name}: {bad.sum()} of {fin.sum()} finite values off, e.g. at {list(i)} got {got[i]!r} "
            f"expected {float(ref[i])!r} (rel err {float(err[i] / max(abs(ref[i]), 1e-300)):.3g})"
        )
    return fails


def _same(name, a, b, rtol=1e-6, atol=1e-7):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return [f"{name}: shapes {a.shape} vs {b.shape}"]
    ia, ib = np.where(np.isinf(a), np.sign(a), 0), np.where(np.isinf(b), np.sign(b), 0)
    if not np.array_equal(np.isnan(a), np.isnan(b)) or not np.array_equal(ia, ib):
        bad = (np.isnan(a) != np.isnan(b)) | (ia != ib)
        return [
            f"{name}: nan/inf patterns differ at {np.argwhere(bad)[:3].tolist()}: {a[bad][:3]} vs {b[bad][:3]}"
        ]
    f = np.isfinite(a)
    d = np.abs(a[f] - b[f])
    if np.any(d > atol + rtol * np.abs(a[f])):
        return [
            f"{name}: differ by up to {d.max():.3g} (rel {np.max(d / np.maximum(np.abs(a[f]), 1e-30)):.3g})"
        ]
    return []


def _rows_mask(arr_shape, out_mask):
    """Broadcasts an output-shaped mask onto an argument aligned with it."""
    n = out_mask.ndim
    if n == 0:
        return np.broadcast_to(out_mask, arr_shape)
    if tuple(arr_shape[:n]) == out_mask.shape:
        return np.broadcast_to(
            out_mask.reshape(out_mask.shape + (1,) * (len(arr_shape) - n)), arr_shape
        )
    return None  # not row-aligned (a shared argument)


def _fd_grads(spec, args, kw, static, cot, dargs, dkw):
    """Central differences of sum(cot * ref) in long double."""
    out = []

    def total(a, k):
        r = _reference(spec, a, k, static)
        return np.sum(np.where(cot, r, 0))

    for i in dargs:
        x = np.asarray(args[i], np.float64)
        g = np.zeros(x.shape)
        for j in np.ndindex(x.shape):
            h = 1e-6 * max(abs(x[j]), 1e-3)
            a1, a2 = list(args), list(args)
            xp, xm = x.copy(), x.copy()
            xp[j] += h
            xm[j] -= h
            a1[i], a2[i] = xp, xm
            g[j] = float((total(a1, kw) - total(a2, kw)) / (2 * h))
        out.append(g)
    for n in dkw:
        x = float(kw[n])
        h = 1e-6 * max(abs(x), 1e-3)
        k1, k2 = dict(kw), dict(kw)
        k1[n], k2[n] = x + h, x - h
        out.append(float((total(args, k1) - total(args, k2)) / (2 * h)))
    return out


def _group_key(spec, case):
    """Cases that one call can hold: same statics, kw names, shapes after the
    batch axis and the same scalar (0-d) values."""
    kw = _filled_kw(spec, case)
    sig = [reg._static_key(case.static), tuple(sorted(kw))]
    for a in list(case.args) + [kw[k] for k in sorted(kw)]:
        a = np.asarray(a)
        if a.ndim == 0:
            sig.append(("scalar", a.dtype.str, float(a) if _is_float(a) else int(a)))
        else:
            sig.append(
                (
                    a.dtype.str,
                    a.shape[1:] if spec.batch else a.shape,
                    None if spec.batch else case.id,
                )
            )
    return (spec.fn, tuple(sig))


@functools.cache
def _has_where(fn):
    import inspect

    try:
        return "where" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _filled_kw(spec, case):
    """Batched specs with a `where` run every case through the masked code path
    (an all-True mask where the case has none), so one compilation holds all;
    the where=None path is run eagerly, in 16-bit and in test_portability."""
    kw = dict(case.kw)
    if (
        spec.batch
        and "where" not in kw
        and _has_where(spec.fn)
        and np.ndim(case.args[0])
    ):
        kw["where"] = np.ones(np.shape(case.args[0]), bool)
    return kw


def _concat(spec, cases):
    kws = [_filled_kw(spec, c) for c in cases]
    if len(cases) == 1:
        return cases[0].args, kws[0]
    args = tuple(
        a[0] if np.ndim(a[0]) == 0 else np.concatenate(a, 0)
        for a in zip(*[c.args for c in cases], strict=True)
    )
    kw = {}
    for k in kws[0]:
        vals = [kk[k] for kk in kws]
        kw[k] = vals[0] if np.ndim(vals[0]) == 0 else np.concatenate(vals, 0)
    return args, kw


def _rows(case):
    return int(np.shape(case.args[0])[0]) if np.ndim(case.args[0]) else 1


def _slice(x, lo, hi, batched):
    x = np.asarray(x)
    return x[lo:hi] if batched and x.ndim else x


def _check_group_float32(spec, cases):
    """Runs one jitted probe (value, grad, jvp, vmap) and one eager call on the
    rows of every case of a group; returns {case id: failures}."""
    batched = spec.batch and len(cases) > 1
    fake = reg.Case("group", *_concat(spec, cases), static=cases[0].static)
    args, kw = _cast(spec, fake, np.float32, np.float32)
    static = cases[0].static
    refs, ftzs = [], []
    for c in cases:
        ca, ck = _cast(spec, c, np.float32, np.float32)
        refs.append(_reference(spec, ca, ck, static))
        ftzs.append(
            _reference(spec, ca, ck, static, ftz=True) if _has_subnormal(ca) else None
        )
    ref = np.concatenate(refs, 0) if batched else refs[0]
    cot = np.isfinite(ref)
    for i, f in enumerate(ftzs):
        if f is not None:
            refs[i] = np.where(
                np.isfinite(f), refs[i], f
            )  # flushed: accept that answer
    ref = np.concatenate(refs, 0) if batched else refs[0]
    cot = np.isfinite(ref)
    diff = tuple(i for i in spec.diff if i < len(args))
    diff_kw = tuple(n for n in spec.diff_kw if n in kw)
    rng = np.random.default_rng(1)
    tan = (
        tuple(rng.standard_normal(np.shape(args[i])).astype(np.float32) for i in diff),
        {n: rng.standard_normal(np.shape(kw[n])).astype(np.float32) for n in diff_kw},
    )
    main = not (set(static) & {"axis", "base"})
    if main:
        probe = _probe(spec.fn, diff, diff_kw, reg._static_key(static))
        v, g, jt, vm = jax.tree.map(np.asarray, probe(args, kw, cot, tan))
    else:  # other axes and bases: value only (one cheap compilation)
        v = np.asarray(_jit_value(spec.fn, reg._static_key(static))(args, kw))
        g = ((), {})
        jt, vm = None, (v, v)
        diff, diff_kw = (), ()
    eager_done = where_done = False
    gd, gk = g
    grads = list(gd) + [gk[n] for n in diff_kw]
    names = [f"arg{i}" for i in diff] + list(diff_kw)
    idxs = list(diff) + [None] * len(diff_kw)
    tans = list(tan[0]) + [tan[1][n] for n in diff_kw]
    out = {}
    lo = 0
    for c, r in zip(cases, refs, strict=True):
        hi = lo + (_rows(c) if batched else 0)
        sl = functools.partial(_slice, lo=lo, hi=hi, batched=batched)
        fails = []
        cv, ccot = sl(v), np.isfinite(r)
        rtol = spec.rtol if c.rtol is None else c.rtol
        atol = spec.atol if c.atol is None else c.atol
        fails += _compare("value", cv, r, rtol, atol)
        if cv.dtype != np.float32 and any(_is_float(a) for a in args):
            fails.append(f"value dtype {cv.dtype} for float32 input")
        if spec.bounds is not None:
            blo, bhi = spec.bounds(static)
            nn = ~np.isnan(cv)
            if np.any(cv[nn] < blo) or np.any(cv[nn] > bhi):
                fails.append(
                    f"bounds [{blo}, {bhi}] broken: min {cv[nn].min()!r}, max {cv[nn].max()!r}"
                )
        if main and not eager_done and "where" not in c.kw:
            # eager once per group, on one case's own (where=None) call; the jit
            # of that same call is compared too, so the default path is checked
            ca, ck = _cast(spec, c, np.float32, np.float32)
            ve = np.asarray(spec.fn(*ca, **ck, **static))
            vj = np.asarray(_jit_value(spec.fn, reg._static_key(static))(ca, ck))
            fails += _same("eager vs jit (where=None)", ve, vj)
            fails += _compare("value (where=None)", vj, r, rtol, atol)
            eager_done = True
        fails += _same("vmap vs batched [0]", sl(vm[0]), cv)
        fails += _same("vmap vs batched [1]", sl(vm[1]), cv)
        if c.grad and names and jt is not None:
            cgr, rowargs = [], []
            for name, gr0, i in zip(names, grads, idxs, strict=True):
                gr0 = np.asarray(gr0, np.float64)
                row_arg = (
                    (i is not None and gr0.ndim > 0 and gr0.shape[0] == v.shape[0])
                    if batched
                    else (i is not None)
                )
                gr = sl(gr0) if row_arg else gr0
                cgr.append(gr)
                rowargs.append(row_arg)
                m = _rows_mask(gr.shape, ccot) if row_arg else None
                if m is None:
                    m = np.full(gr.shape, bool(cot.all()))
                if np.any(~np.isfinite(gr) & m):
                    fails.append(
                        f"grad {name}: non-finite at {np.argwhere(~np.isfinite(gr) & m)[:3].tolist()} where the value is finite"
                    )
                if c.zero_grad is not None and row_arg:
                    zm = _rows_mask(gr.shape, np.asarray(c.zero_grad))
                    if zm is not None and np.any((gr != 0) & zm):
                        fails.append(
                            f"grad {name}: nonzero on padding rows ({gr[zm & (gr != 0)][:3]})"
                        )
            cjt = np.asarray(sl(jt), np.float64)
            if np.any(~np.isfinite(cjt) & ccot):
                fails.append("jvp: non-finite tangent where the value is finite")
            elif all(rowargs) or not batched:
                lhs = float(np.sum(np.where(ccot, cjt, 0)))
                tl = [sl(t) if ra else t for t, ra in zip(tans, rowargs, strict=True)]
                terms = [
                    np.asarray(a, np.float64) * np.asarray(b, np.float64)
                    for a, b in zip(cgr, tl, strict=True)
                ]
                if all(np.all(np.isfinite(t)) for t in terms):
                    rhs = float(sum(np.sum(t) for t in terms))
                    scale = float(sum(np.sum(np.abs(t)) for t in terms)) + 1e-6
                    if abs(lhs - rhs) > 2e-3 * scale:
                        fails.append(f"jvp {lhs:.6g} != <grad, tangent> {rhs:.6g}")
            if c.fd and np.all(ccot) and not fails:
                ca, ck = _cast(spec, c, np.float32, np.float32)
                dk = diff_kw if not batched else ()
                fdg = _fd_grads(spec, ca, ck, static, ccot, diff, dk)
                for name, gr, fg, ra in zip(names, cgr, fdg, rowargs, strict=False):
                    if batched and not ra:
                        continue
                    gr, fg = np.asarray(gr, np.float64), np.asarray(fg, np.float64)
                    if spec.fd_project and gr.ndim >= 2:  # tangent of the simplex
                        gr = gr - gr.mean(-1, keepdims=True)
                        fg = fg - fg.mean(-1, keepdims=True)
                    sc = np.max(np.abs(fg)) + 1e-3
                    if gr.shape == fg.shape and np.any(np.abs(gr - fg) > 2e-3 * sc):
                        j = np.unravel_index(np.argmax(np.abs(gr - fg)), np.shape(gr))
                        fails.append(
                            f"grad {name} vs finite differences: {gr[j]} vs {fg[j]}"
                        )
        ca, ck = _cast(spec, c, np.float32, np.float32)
        if (
            spec.where_index
            and "where" in c.kw
            and not where_done
            and np.ndim(ca[0]) == 2
            and np.shape(ck["where"]) == np.shape(ca[0])
        ):
            w = ck["where"]
            kw2 = {k: x for k, x in ck.items() if k != "where"}
            for row in range(ca[0].shape[0]):
                if not w[row].any():
                    continue
                sub = [a[row][w[row]] if np.shape(a) == np.shape(w) else a for a in ca]
                got = np.asarray(spec.fn(*sub, **kw2, **static))
                fails += _same(
                    f"where vs boolean indexing (row {row})",
                    got,
                    cv[row],
                    rtol=1e-5,
                    atol=1e-6,
                )
                where_done = True
                break
        out[c.id] = fails
        lo = hi
    return out


def _check_group_float64(spec, cases):
    batched = spec.batch and len(cases) > 1
    fake = reg.Case("group", *_concat(spec, cases), static=cases[0].static)
    with jax.enable_x64(True):
        args, kw = _cast(spec, fake, np.float64, np.float64)
        v = np.asarray(_jit_value(spec.fn, reg._static_key(cases[0].static))(args, kw))
    out = {}
    lo = 0
    for c in cases:
        hi = lo + (_rows(c) if batched else 0)
        ca, ck = _cast(spec, c, np.float64, np.float64)
        ref = _reference(spec, ca, ck, c.static)
        cv = _slice(v, lo, hi, batched)
        fails = []
        if cv.dtype != np.float64 and any(_is_float(a) for a in args):
            fails.append(f"value dtype {cv.dtype} for float64 input")
        rtol = 1e-10 if c.rtol64 is None else c.rtol64
        atol = 1e-12 if c.atol64 is None else c.atol64
        atol = max(atol, (spec.atol if c.atol is None else c.atol) * 1e-8)
        fails += _compare("float64 value", cv, ref, rtol, atol)
        out[c.id] = fails
        lo = hi
    return out


@functools.cache
def _spec_cases_cached(path):
    return tuple(_cases(reg.SPECS[path]))


def _groups(spec, mode):
    groups: dict = {}
    for c in _spec_cases_cached(spec.path):
        if mode == "float64" and not c.float64:
            continue
        groups.setdefault(_group_key(spec, c), []).append(c)
    return list(groups.values())


_RESULTS: dict = {}


def run_case(spec, case, mode):
    """Failures of one case; computed for its whole group at once and shared
    by aliases of the same function (jaxdiv.categorical.* is jaxdiv.*)."""
    key = (spec.fn, case.id, mode)
    if key not in _RESULTS:
        check = _check_group_float32 if mode == "float32" else _check_group_float64
        for group in _groups(spec, mode):
            if any(c.id == case.id for c in group):
                try:
                    with np.errstate(all="ignore"):  # numpy on references only
                        res = check(spec, group)
                except Exception as e:  # noqa: BLE001 - a crash fails its whole group
                    res = {
                        c.id: [f"raised {type(e).__name__}: {str(e)[:400]}"]
                        for c in group
                    }
                for cid, f in res.items():
                    _RESULTS[spec.fn, cid, mode] = f
                break
    return _RESULTS[key]


# --------------------------------------------------------------------------
# Tests


PENDING = reg.PENDING


def test_registry_covers_every_public_name():
    public = set(reg.public_paths())
    missing = public - set(reg.SPECS)
    assert missing == PENDING, (
        "public names missing from tests/_adversarial_registry.py: "
        f"{sorted(missing - PENDING)}; registered, so drop from PENDING: "
        f"{sorted(PENDING - missing)}"
    )
    assert not sorted(set(reg.SPECS) - public), "registry names that are not public"


def test_known_failures_name_real_cases():
    ids = {(p, c.id) for p, c in CASES}
    ids |= {(p, c.id + "@float64") for p, c in CASES}
    ids |= {(p, f"dtype:{d}") for p in reg.SPECS for d in ("bfloat16", "float16")}
    ids |= {
        (p, f"errors:{e[0]}")
        for p, s in reg.SPECS.items()
        if s.errors
        for e in s.errors()
    }
    ids |= {(p, "custom") for p, s in reg.SPECS.items() if s.custom}
    ids |= {(p, "portability") for p in reg.SPECS}
    stale = sorted(k for k in set(reg.KNOWN_FAILURES) - ids if k[0] != "two_process")
    assert not stale, f"KNOWN_FAILURES entries that name no case: {stale}"
    stale = sorted(set(triage.KNOWN) - ids)
    assert not stale, f"_adversarial_triage entries that name no case: {stale}"
    assert triage.NOT_STRICT <= set(triage.KNOWN)
    both = sorted(set(triage.KNOWN) & set(reg.KNOWN_FAILURES))
    assert not both, f"listed twice: {both}"


def test_summary(capsys):
    """Counts for the notes: functions, cases, rows (values checked)."""
    rows = sum(
        int(
            np.prod(
                np.broadcast_shapes(
                    *[np.shape(a) for a in c.args if _is_float(a)][:1] or [()]
                )
            )
        )
        for _, c in CASES
    )
    n64 = sum(1 for p in CASE_PARAMS if p.values[2] == "float64")
    s = reg.summary() if hasattr(reg, "summary") else {}
    with capsys.disabled():
        print(
            f"\n[adversarial] functions={len(reg.SPECS)} cases={len(CASES)} "
            f"case_runs={len(CASE_PARAMS)} (float64 {n64}) input_rows~{rows} "
            f"known_failures={len(reg.KNOWN_FAILURES) + len(triage.KNOWN)} {s}"
        )
    assert len(reg.SPECS) >= 100 and len(CASES) >= 500


@ADVERSARIAL
@pytest.mark.parametrize("path,case,mode", CASE_PARAMS)
def test_case(path, case, mode):
    spec = reg.SPECS[path]
    fails = run_case(spec, case, mode)
    assert not fails, f"{path} [{case.id}, {mode}]:\n  " + "\n  ".join(fails)


def _grid8(a):
    a = np.asarray(a, np.float64)
    n = np.maximum(np.round(a * 256), 1)
    n[..., 0] += 256 - n.sum(-1)
    return n / 256


def _dtype_params():
    out = []
    for path, spec in reg.SPECS.items():
        if spec.ref is None or not spec.diff:
            continue
        for d in ("bfloat16", "float16"):
            out.append(
                pytest.param(
                    path, d, id=f"{path}::dtype:{d}", marks=_xfail(path, f"dtype:{d}")
                )
            )
    return out


@functools.cache
def _jit_value_and_grad(fn, diff, static_key):
    static = dict(static_key)

    def f(args, kw):
        def scalar(d):
            a = list(args)
            for i, x in zip(diff, d, strict=True):
                a[i] = x
            out = fn(*a, **kw, **static)
            return jnp.sum(out.astype(jnp.float32)), out

        (_, out), g = jax.value_and_grad(scalar, has_aux=True)(
            tuple(args[i] for i in diff)
        )
        return out, g

    return jax.jit(f)


@ADVERSARIAL
@pytest.mark.parametrize("path,dtype", _dtype_params())
def test_16bit_executes_value_and_grad_under_jit(path, dtype):
    """issue 9 item 1: jitted value and gradient executed in 16-bit floats."""
    spec = reg.SPECS[path]
    case = _cases(spec)[0]
    dt = jnp.dtype(dtype)
    args, kw = _cast(spec, case, dt, np.float32)
    if spec.simplex:  # rows that sum to exactly 1 in 16-bit: multiples of 2**-8
        args = tuple(
            _grid8(a).astype(dt) if i in spec.float_args else a
            for i, a in enumerate(args)
        )
    diff = tuple(i for i in spec.diff if i < len(args))  # unary first cases
    out, g = _jit_value_and_grad(spec.fn, diff, reg._static_key(case.static))(args, kw)
    out = np.asarray(out)
    fails = []
    if spec.measure and out.dtype != np.float32:
        fails.append(
            f"result dtype {out.dtype}, API.md promises float32 for 16-bit input"
        )
    ref = _reference(spec, args, kw, case.static)
    tol = 1e-4 if spec.measure else spec.tol16
    fails += _compare(f"{dtype} value", out.astype(np.float64), ref, tol, tol)
    for i, gr in zip(diff, g, strict=True):
        if np.asarray(gr).dtype != dt:
            fails.append(f"{dtype} grad arg{i} dtype {np.asarray(gr).dtype}")
        if not np.all(np.isfinite(np.asarray(gr, np.float64))):
            fails.append(f"{dtype} grad arg{i} not finite")
    assert not fails, f"{path}:\n  " + "\n  ".join(fails)


def _error_params():
    out = []
    for path, spec in reg.SPECS.items():
        if spec.errors is None:
            continue
        for eid, thunk, excs, subs in spec.errors():
            out.append(
                pytest.param(
                    path,
                    thunk,
                    excs,
                    subs,
                    id=f"{path}::errors:{eid}",
                    marks=_xfail(path, f"errors:{eid}"),
                )
            )
    return out


@ADVERSARIAL
@pytest.mark.parametrize("path,thunk,excs,subs", _error_params())
def test_trace_time_errors(path, thunk, excs, subs):
    """Bad shapes / dtypes raise at trace time, naming the function and shapes."""
    with pytest.raises(excs) as info:
        jax.eval_shape(thunk)
    msg = str(info.value)
    missing = [s for s in subs if s not in msg]
    assert not missing, f"{path}: message {msg!r} lacks {missing}"


@ADVERSARIAL
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=f"{p}::custom", marks=_xfail(p, "custom"))
        for p, s in reg.SPECS.items()
        if s.custom
    ],
)
def test_custom_checks(path):
    fails = reg.SPECS[path].custom()
    assert not fails, f"{path}:\n  " + "\n  ".join(fails)
