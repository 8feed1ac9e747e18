# ruff: noqa: E501, E741, B008  (tables of adversarial cases are long)
"""Worker of tests/integration/test_two_process.py: one of two jax processes on localhost.

Run as ``python _two_process_worker.py PROCESS_ID PORT``. Both processes
build the same data from a seeded generator, hold half of it on their two
CPU devices (4 devices in all, CPU collectives over gloo), and compare the
sharded results (exact token mean, vocabulary-parallel measures and losses,
fused losses) with the single-process results on the full arrays. Prints
one ``OK name`` or ``FAIL name ...`` line per check, then ``DONE``.
"""

from __future__ import annotations

import os
import sys


def main(process_id: int, port: int) -> int:
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}",
        num_processes=2,
        process_id=process_id,
        initialization_timeout=30,
    )
    import functools

    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import jaxdiv
    import jaxdiv.losses as L
    from jaxdiv import fused

    devices = np.array(jax.devices())
    assert devices.size == 4 and jax.process_count() == 2, devices
    rng = np.random.default_rng(0)
    B, V, T, D = 8, 12, 6, 16
    a = (2 * rng.standard_normal((B, V))).astype(np.float32)
    b = (2 * rng.standard_normal((B, V))).astype(np.float32)
    a_large = a.copy()
    a_large[0, :3] = 1e30  # large logits on one shard only (issue 9 item 2)
    a[1, 5:] = -np.inf
    b[2, :7] = -1e4
    a[3, :] = -np.inf  # a padding row
    b[3, :] = -np.inf
    probs = np.exp(b - b.max(-1, keepdims=True))
    probs = np.where(np.isfinite(probs), probs, 0)
    probs = (probs / np.maximum(probs.sum(-1, keepdims=True), 1e-30)).astype(np.float32)
    labels = rng.integers(0, V, B).astype(np.int32)
    labels[1] = 2
    vals = rng.standard_normal((B, T)).astype(np.float32)
    keep = rng.random((B, T)) < 0.5
    keep[: B // 2] &= rng.random((B // 2, T)) < 0.3  # uneven counts per process
    vals = np.where(keep, vals, np.nan).astype(np.float32)
    h = rng.standard_normal((B, D)).astype(np.float32)
    w = (0.5 * rng.standard_normal((D, V))).astype(np.float32)
    th = rng.standard_normal((B, D)).astype(np.float32)
    tw = (0.5 * rng.standard_normal((D, V))).astype(np.float32)
    tok = np.ones(B, bool)
    tok[::3] = False
    y = labels.copy()
    y[1] = -100

    fails = 0

    def report(name, got, want, rtol=2e-6, atol=2e-6):
        nonlocal fails
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        ok = got.shape == want.shape and np.allclose(
            got, want, rtol=rtol, atol=atol, equal_nan=True
        )
        if not ok:
            fails += 1
            print(f"FAIL {name}: {got.ravel()[:6]} vs {want.ravel()[:6]}", flush=True)
        else:
            print(f"OK {name}", flush=True)

    def put(x, mesh, spec):
        sh = NamedSharding(mesh, spec)
        return jax.make_array_from_callback(x.shape, sh, lambda idx: x[idx])

    def local(x):
        return np.asarray(x.addressable_shards[0].data)

    def report_shards(name, out, want, rtol=2e-6, atol=2e-6):
        """Compares this process's shards of `out` with the same slices of `want`."""
        want = np.asarray(want)
        got = np.concatenate(
            [np.asarray(s.data).ravel() for s in out.addressable_shards]
        )
        ref = np.concatenate([want[s.index].ravel() for s in out.addressable_shards])
        report(name, got, ref, rtol=rtol, atol=atol)

    # Two meshes: token axis "d" across the processes and vocabulary axis "v"
    # inside each, then the other way round, so both kinds of reduction cross
    # the process boundary.
    meshes = {
        "d=process": Mesh(devices.reshape(2, 2), ("d", "v")),
        "v=process": Mesh(devices.reshape(2, 2).T, ("d", "v")),
    }
    measures = {
        "entropy_from_logits": (lambda x, z, **k: jaxdiv.entropy_from_logits(x, **k)),
        "kl_divergence_from_logits": jaxdiv.kl_divergence_from_logits,
        "cross_entropy_from_logits": jaxdiv.cross_entropy_from_logits,
        "js_divergence_from_logits": jaxdiv.js_divergence_from_logits,
        "js_distance_from_logits": jaxdiv.js_distance_from_logits,
        "renyi_divergence_from_logits": functools.partial(
            jaxdiv.renyi_divergence_from_logits, alpha=2.0
        ),
        "alpha_divergence_from_logits": functools.partial(
            jaxdiv.alpha_divergence_from_logits, alpha=0.5
        ),
        "hellinger_distance_from_logits": jaxdiv.hellinger_distance_from_logits,
        "total_variation_distance_from_logits": jaxdiv.total_variation_distance_from_logits,
        "chi_squared_divergence_from_logits": jaxdiv.chi_squared_divergence_from_logits,
        "perplexity_from_logits": jaxdiv.perplexity_from_logits,
        "losses.distillation_loss": L.distillation_loss,
    }
    lp_a = np.asarray(
        jax.nn.log_softmax(np.where(np.isfinite(a), a, -30.0).clip(-30, 30)), np.float32
    )
    lp_b = np.asarray(
        jax.nn.log_softmax(np.where(np.isfinite(b), b, -30.0)), np.float32
    )
    xx = np.where(np.isfinite(a), a, -1e4).astype(np.float32)
    xx[3] = 0.0

    def all_measures(x, z, lx, lz, xl, pr, lab, **k):
        """Every vocabulary-parallel measure and loss, one compilation."""
        out = {name: fn(x, z, **k) for name, fn in measures.items()}
        out["losses.kl_divergence_with_log_targets"] = L.kl_divergence_with_log_targets(
            lx, lz, **k
        )
        out["losses.softmax_cross_entropy"] = L.softmax_cross_entropy(xl, pr, **k)
        out["losses.softmax_cross_entropy_with_integer_labels"] = (
            L.softmax_cross_entropy_with_integer_labels(xl, lab, **k)
        )
        return out

    def all_fused(h_, w_, th_, tw_, y_, m_, **k):
        def ce(h_, w_):
            return fused.linear_cross_entropy(
                h_, w_, y_, where=m_, ignore_index=-100, chunk_size=3, **k
            )

        out = {}
        (
            out["fused.linear_cross_entropy"],
            (
                out["fused.linear_cross_entropy d_hidden"],
                out["fused.linear_cross_entropy d_weight"],
            ),
        ) = jax.value_and_grad(ce, (0, 1))(h_, w_)
        for div in ("forward_kl", "reverse_kl", "jsd"):
            out[f"fused.linear_distillation_loss {div}"] = (
                fused.linear_distillation_loss(
                    h_,
                    w_,
                    th_,
                    tw_,
                    divergence=div,
                    where=m_,
                    temperature=2.0,
                    chunk_size=3,
                    **k,
                )
            )
        return out

    inputs = (a, b, lp_a, lp_b, xx, probs, labels)
    inputs_large = (a_large,) + inputs[1:]
    want_m = jax.jit(all_measures)(*inputs)
    want_large = jax.jit(all_measures)(*inputs_large)
    want_f = jax.jit(all_fused)(h, w, th, tw, y, tok)
    want_mean = jax.jit(L.masked_mean)(vals, keep)
    specs_m = (P("d", "v"),) * 6 + (P("d"),)
    specs_f = (P("d"), P(None, "v"), P("d"), P(None, "v"), P("d"), P("d"))
    out_f = {n: P() for n in want_f}
    out_f["fused.linear_cross_entropy d_hidden"] = P("d")
    out_f["fused.linear_cross_entropy d_weight"] = P(None, "v")
    for mname, mesh in meshes.items():
        # exact token mean: batch split over "d", never a mean of means
        f = jax.jit(
            jax.shard_map(
                lambda v, m: L.masked_mean(v, m, axis_name="d"),
                mesh=mesh,
                in_specs=(P("d"), P("d")),
                out_specs=P(),
            )
        )
        report(
            f"{mname} losses.masked_mean",
            local(f(put(vals, mesh, P("d")), put(keep, mesh, P("d")))),
            want_mean,
        )
        g = jax.jit(
            jax.shard_map(
                functools.partial(all_measures, axis_name="v"),
                mesh=mesh,
                in_specs=specs_m,
                out_specs={n: P("d") for n in want_m},
            )
        )
        for tag, ins, want in (
            ("", inputs, want_m),
            (" [1e30 logits]", inputs_large, want_large),
        ):
            got = g(*[put(x, mesh, s) for x, s in zip(ins, specs_m, strict=True)])
            for name in want:
                report_shards(f"{mname} {name}{tag}", got[name], want[name])
        gf = jax.jit(
            jax.shard_map(
                functools.partial(all_fused, axis_name="v", token_axis_name="d"),
                mesh=mesh,
                in_specs=specs_f,
                out_specs=out_f,
            )
        )
        got = gf(
            *[
                put(x, mesh, s)
                for x, s in zip((h, w, th, tw, y, tok), specs_f, strict=True)
            ]
        )
        for name in want_f:
            report_shards(f"{mname} {name}", got[name], want_f[name], atol=1e-5)
    print(f"DONE fails={fails}", flush=True)
    jax.distributed.shutdown()
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
