"""Smoke tests of the runnable examples in examples/, with tiny settings.

Each example exposes ``main(argv)``; it is imported from its file and run
in-process (jax is imported once), writing into a temporary folder. The
numbers the examples print are checked against independent facts (closed
forms, NumPy float64, the identities they demonstrate), not against their
own output.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import jax
import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = (
    "measures_table",
    "distill_digits",
    "sharded_eval",
    "rlhf_kl_penalty",
    "vae_digits",
    "forward_reverse_kl",
    "grpo_text",
    "mutual_information",
)


def load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", EXAMPLES / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(name: str, *argv: str, module=None):
    # The examples are user code written for JAX's default configuration
    # (e.g. ``x @ w + b`` with a bias of shape [h]); conftest.py makes
    # implicit rank promotion an error for the library's own tests.
    with jax.numpy_rank_promotion("allow"):
        return (module or load(name)).main(list(argv))


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load(name).main(["--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith("usage:")
    assert "--seed" in usage and "--out" in usage


def test_measures_table(tmp_path):
    tables = run("measures_table", "--out", str(tmp_path))
    assert (tmp_path / "measures_table.png").stat().st_size > 0
    text = (tmp_path / "measures_table.txt").read_text()
    assert all(t in text for t in tables.values())
    # disjoint supports: KL is inf both ways and the JSD is exactly log 2
    row = next(r for r in tables["symmetry"].splitlines() if r.startswith("classes"))
    assert row.split()[-5:] == ["inf", "inf", "0.6931", "0.6931", "1.0000"]


def test_distill_digits(tmp_path):
    module = load("distill_digits")
    argv = ("--epochs", "2", "--teacher-epochs", "3", "--student-hidden", "8")
    out = run("distill_digits", *argv, "--out", str(tmp_path), module=module)
    results = out["results"]
    assert len(results) == 5  # teacher, labels-only student, 3 distilled students
    for name, r in results.items():
        assert r["gap"] < 1e-5, name  # H(p, q) = KL(p || q) + H(p)
        assert math.isclose(r["ce"], r["kl"] + r["h_teacher"], abs_tol=1e-5)
        assert 0.0 <= r["accuracy"] <= 1.0
    teacher = next(iter(results.values()))
    assert teacher["kl"] == pytest.approx(0.0, abs=1e-6)
    assert teacher["accuracy"] > 0.5  # 3 epochs are enough to learn the digits
    for history in out["histories"].values():
        assert all(np.isfinite(history["loss"]))
    assert (tmp_path / "distill_digits.png").stat().st_size > 0

    # deterministic for a seed; the same module, so compiled functions are reused
    again = run("distill_digits", *argv, "--out", str(tmp_path / "b"), module=module)
    assert again == out
    other = run(
        "distill_digits", *argv, "--seed", "1", "--out", str(tmp_path), module=module
    )
    assert other["results"] != results


def test_sharded_eval(tmp_path):
    results = run(
        "sharded_eval",
        *("--batch", "16", "--length", "12", "--vocab", "32", "--out", str(tmp_path)),
    )
    names = list(results)
    exact, wrong, single, reference = (results[n] for n in names)
    assert "NumPy" in names[3]
    np.testing.assert_allclose(exact, reference, rtol=1e-5)
    np.testing.assert_allclose(single, reference, rtol=1e-5)
    # sorted lengths make the per-device token counts unequal: the mean of
    # per-device means is measurably off
    assert abs(wrong[0] - reference[0]) > 1e-3
    assert (tmp_path / "sharded_eval.png").stat().st_size > 0


def test_rlhf_kl_penalty(tmp_path):
    results = run(
        "rlhf_kl_penalty",
        *("--vocab", "64", "--samples", "4000", "--scales", "0.2", "1.5"),
        *("--out", str(tmp_path)),
    )
    for scale in ("0.2", "1.5"):
        k1, k2, k3 = (results[f"{scale}/{k}"] for k in ("k1", "k2", "k3"))
        kl = k1["exact_kl"]
        assert kl > 0.0
        # k1 and k3 are unbiased, k2 overestimates; exact expectations
        assert k1["expectation"] == pytest.approx(kl, rel=1e-4)
        assert k3["expectation"] == pytest.approx(kl, rel=1e-4)
        assert k2["bias"] > 0.0
        # the Monte-Carlo means agree with the expectations within 5 s.e.
        for r in (k1, k2, k3):
            assert abs(r["mc_mean"] - r["expectation"]) < 5 * r["std_error"] + 1e-6
        assert k3["negative"] == 0.0 and k2["negative"] == 0.0
        assert k1["negative"] > 0.0
    assert (tmp_path / "rlhf_kl_penalty.png").stat().st_size > 0


def test_vae_digits(tmp_path):
    history = run(
        "vae_digits",
        *("--epochs", "3", "--latent", "2", "--hidden", "32", "--log-every", "1"),
        *("--out", str(tmp_path)),
    )
    assert len(history["test_elbo"]) == 3
    assert all(np.isfinite(v) for values in history.values() for v in values)
    assert all(kl >= 0.0 for kl in history["test_kl"])
    assert history["test_elbo"][-1] > history["test_elbo"][0]  # it learns
    assert (tmp_path / "vae_digits.png").stat().st_size > 0


def test_forward_reverse_kl(tmp_path):
    fits = run(
        "forward_reverse_kl",
        *("--steps", "500", "--grid", "1601", "--out", str(tmp_path)),
    )
    moment = fits["moment matching (closed form)"]
    forward = fits["forward KL(p||q)"]
    # the forward-KL optimum matches the mixture's mean and standard deviation
    assert forward["loc"] == pytest.approx(moment["loc"], abs=0.02)
    assert forward["scale"] == pytest.approx(moment["scale"], rel=0.01)
    # the reverse KL settles on the mode it starts near
    left_mode, right_mode = load("forward_reverse_kl").MEANS
    left = fits["reverse KL(q||p), start left"]
    right = fits["reverse KL(q||p), start right"]
    assert left["loc"] == pytest.approx(left_mode, abs=0.1)
    assert right["loc"] == pytest.approx(right_mode, abs=0.1)
    assert left["forward_kl"] > forward["forward_kl"]
    assert (tmp_path / "forward_reverse_kl.png").stat().st_size > 0


def test_grpo_text(tmp_path):
    module = load("grpo_text")
    out = run(
        "grpo_text",
        *("--dim", "16", "--layers", "1", "--heads", "2", "--pretrain-steps", "30"),
        *("--steps", "3", "--prompts", "2", "--group", "4", "--prompt-len", "4"),
        *("--completion", "6", "--inner", "2", "--out", str(tmp_path)),
        module=module,
    )
    history, chars = out["history"], out["chars"]
    assert all(len(v) == 3 for v in history.values())
    assert all(np.isfinite(v).all() for v in history.values())
    # the pretrained model learns the text: below the uniform distribution
    assert out["pretrain_loss"][-1] < math.log(out["vocab"])
    # step 0's metrics are taken before any update: the policy is the reference
    assert history["ref_kl"][0] == pytest.approx(0.0, abs=1e-6)
    assert all(kl >= 0.0 for kl in history["ref_kl"])  # k3 is never negative
    assert all(0.0 <= h <= math.log(out["vocab"]) + 1e-5 for h in history["entropy"])
    # the last step's reward, recomputed here from the sampled text
    completions = out["tokens"][:, out["prompt_len"] :]
    rewards = []
    for row in completions:
        text = "".join(chars[t] for t in row)
        kept = text.split("\n")[0] + ("\n" if "\n" in text else "")
        rewards.append(sum(c in module.VOWELS for c in kept) / len(row))
    assert history["reward"][-1] == pytest.approx(np.mean(rewards), abs=1e-6)
    assert (tmp_path / "grpo_text.png").stat().st_size > 0


def test_mutual_information(tmp_path):
    rhos = ("0.0", "0.6", "0.9")
    results = run(
        "mutual_information",
        *("--dim", "1", "--samples", "400", "--batch", "16", "--hidden", "8"),
        *("--steps", "20", "--log-every", "20", "--rhos", *rhos),
        *("--out", str(tmp_path)),
    )
    assert list(results) == ["0", "0.6", "0.9"]
    for rho, r in zip(rhos, results.values(), strict=True):
        truth = -0.5 * math.log(1.0 - float(rho) ** 2)
        assert r["truth"] == pytest.approx(truth, abs=1e-12)
        assert abs(r["ksg"] - truth) < 0.15  # KSG at n = 400
        assert np.isfinite(r["infonce"])
        assert r["infonce"] <= math.log(16) + 1e-6  # the InfoNCE ceiling
    assert (tmp_path / "mutual_information.png").stat().st_size > 0
