"""The basic identities of information theory, checked on real distributions.

The distributions are real data shipped with the installed packages, nothing
is downloaded:

* pixel-intensity histograms (17 levels, 0..16) of scikit-learn's handwritten
  digits, per digit class, and the class frequencies of a train/test split;
* letter frequencies of two English texts from Python's standard library: the
  docstrings of a few stdlib modules, and the Zen of Python (``this``), which
  never uses the letters ``j`` and ``q``.

The script prints five tables:

1. KL = cross-entropy - entropy, to rounding;
2. KL is not symmetric, the Jensen-Shannon divergence is, and it stays within
   ``[0, log 2]`` even for distributions with disjoint supports (KL = inf);
3. the logistic loss is the cross-entropy of two classes;
4. choosing the better of two approximations Q1, Q2 of P by the smaller
   KL(P || Q), and why a zero in Q disqualifies it;
5. the same numbers in bits (``base=2``).

Run ``python examples/measures_table.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import codecs
import collections
import contextlib
import importlib
import inspect
import io
import math
import string
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import jaxdiv

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LETTERS = string.ascii_lowercase
DOC_MODULES = ("argparse", "collections", "functools", "json", "textwrap", "random")


# --------------------------------------------------------------------------
# data


def letter_frequencies(text: str) -> np.ndarray:
    """Relative frequencies of the 26 letters a..z in ``text``, case folded."""
    counts = collections.Counter(ch for ch in text.lower() if ch in LETTERS)
    freq = np.array([counts[ch] for ch in LETTERS], dtype=np.float64)
    return freq / freq.sum()


def zen_of_python() -> str:
    """The Zen of Python, read from the ``this`` module without printing it."""
    with contextlib.redirect_stdout(io.StringIO()):
        this = importlib.import_module("this")
    return codecs.decode(this.s, "rot13")


def stdlib_docstrings() -> str:
    """The docstrings of a few stdlib modules and of their public members."""
    docs = []
    for name in DOC_MODULES:
        module = importlib.import_module(name)
        docs.append(inspect.getdoc(module) or "")
        for attr in sorted(getattr(module, "__all__", [])):
            docs.append(inspect.getdoc(getattr(module, attr, None)) or "")
    return "\n".join(docs)


def histogram(values: np.ndarray, bins: int) -> np.ndarray:
    counts = np.bincount(values.astype(np.int64).ravel(), minlength=bins)
    return counts / counts.sum()


def load_distributions(seed: int) -> dict[str, np.ndarray]:
    """Every distribution used by the tables, as float64 NumPy vectors."""
    digits = load_digits()
    x, y = digits.data, digits.target
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=seed)
    zen = letter_frequencies(zen_of_python())
    zen_counts = zen * sum(ch in LETTERS for ch in zen_of_python().lower())
    out = {
        "pixels of 0s": histogram(x[y == 0], 17),
        "pixels of 1s": histogram(x[y == 1], 17),
        "pixels of 7s": histogram(x[y == 7], 17),
        "test pixels of 8s": histogram(x_te[y_te == 8], 17),
        "train pixels of 8s": histogram(x_tr[y_tr == 8], 17),
        "train pixels of 3s": histogram(x_tr[y_tr == 3], 17),
        "train classes": histogram(y_tr, 10),
        "test classes": histogram(y_te, 10),
        "classes 0-4": histogram(y[y < 5], 10),
        "classes 5-9": histogram(y[y >= 5], 10),
        "uniform classes": np.full(10, 0.1),
        "docstring letters": letter_frequencies(stdlib_docstrings()),
        "Zen letters": zen,
        "Zen letters (+1)": (zen_counts + 1.0) / (zen_counts + 1.0).sum(),
        "uniform letters": np.full(26, 1.0 / 26.0),
    }
    return out


def nearest_centroid_logits(seed: int, a: int = 3, b: int = 8):
    """Held-out log-odds of a linear nearest-centroid classifier, ``b`` vs ``a``.

    A closed-form linear classifier (no iterative fit): ``w = mu_b - mu_a``,
    threshold half-way between the centroids, log-odds scaled to unit variance.
    """
    digits = load_digits()
    keep = (digits.target == a) | (digits.target == b)
    x, y = digits.data[keep] / 16.0, (digits.target[keep] == b).astype(np.float64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.5, random_state=seed)
    mu_a, mu_b = x_tr[y_tr == 0].mean(0), x_tr[y_tr == 1].mean(0)
    w = mu_b - mu_a
    z_tr = (x_tr - 0.5 * (mu_a + mu_b)) @ w
    z_te = (x_te - 0.5 * (mu_a + mu_b)) @ w / z_tr.std()
    return z_te.astype(np.float32), y_te.astype(np.float32)


# --------------------------------------------------------------------------
# printing


def fmt(x: float, digits: int = 4) -> str:
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}f}"


def fmt_err(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1e}"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    """Print a fixed-width table (first column left-aligned) and return it."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "-" * len(line(headers))
    text = "\n".join([title, rule, line(headers), rule, *map(line, rows), rule, ""])
    print(text)
    return text


# --------------------------------------------------------------------------
# the tables


@jax.jit
def measures(p: jax.Array, q: jax.Array) -> dict[str, jax.Array]:
    """Every measure the tables use, for one pair (one compilation per size)."""
    return {
        "H(P)": jaxdiv.entropy(p),
        "H(P) bits": jaxdiv.entropy(p, base=2),
        "H(P,Q)": jaxdiv.cross_entropy(p, q),
        "KL(P||Q)": jaxdiv.kl_divergence(p, q),
        "KL(Q||P)": jaxdiv.kl_divergence(q, p),
        "JSD(P,Q)": jaxdiv.js_divergence(p, q),
        "JSD(Q,P)": jaxdiv.js_divergence(q, p),
    }


def measure(d, p_name: str, q_name: str) -> dict[str, float]:
    out = measures(jnp.asarray(d[p_name]), jnp.asarray(d[q_name]))
    return {k: float(v) for k, v in out.items()}


def table_kl_is_ce_minus_h(d) -> str:
    pairs = [
        ("pixels of 1s", "pixels of 7s"),
        ("pixels of 0s", "pixels of 1s"),
        ("test classes", "train classes"),
        ("Zen letters", "docstring letters"),
        ("docstring letters", "Zen letters"),
    ]
    rows = []
    for p_name, q_name in pairs:
        m = measure(d, p_name, q_name)
        h, ce, kl = m["H(P)"], m["H(P,Q)"], m["KL(P||Q)"]
        gap = abs(ce - h - kl) if math.isfinite(ce) else float("nan")
        rows.append(
            [
                f"{p_name} || {q_name}",
                fmt(h),
                fmt(ce),
                fmt(kl),
                fmt(ce - h),
                fmt_err(gap),
            ]
        )
    headers = ["P || Q", "H(P)", "H(P,Q)", "KL(P||Q)", "H(P,Q)-H(P)", "|diff|"]
    return print_table(
        "1. KL(P||Q) = H(P,Q) - H(P)   [nats; the Zen never uses j, q: KL = inf]",
        headers,
        rows,
    )


def table_symmetry(d) -> str:
    pairs = [
        ("pixels of 1s", "pixels of 7s"),
        ("pixels of 0s", "pixels of 1s"),
        ("Zen letters", "docstring letters"),
        ("classes 0-4", "classes 5-9"),
    ]
    rows = []
    for p_name, q_name in pairs:
        m = measure(d, p_name, q_name)
        rows.append(
            [
                f"{p_name} | {q_name}",
                fmt(m["KL(P||Q)"]),
                fmt(m["KL(Q||P)"]),
                fmt(m["JSD(P,Q)"]),
                fmt(m["JSD(Q,P)"]),
                fmt(m["JSD(P,Q)"] / math.log(2.0)),
            ]
        )
    headers = ["P | Q", "KL(P||Q)", "KL(Q||P)", "JSD(P,Q)", "JSD(Q,P)", "JSD/log 2"]
    return print_table(
        "2. KL is not symmetric; the JSD is, and 0 <= JSD <= log 2 = 0.6931 "
        "(= log 2 for disjoint supports)",
        headers,
        rows,
    )


@jax.jit
def logistic_as_cross_entropy(z: jax.Array, y: jax.Array):
    """The logistic loss of log-odds ``z`` and labels ``y`` in {0, 1}, twice."""
    two_logits = jnp.stack([jnp.zeros_like(z), z], axis=-1)  # softmax = (1-s, s)
    log_onehot = jnp.log(jnp.stack([1.0 - y, y], axis=-1))  # -inf: impossible
    two_class_ce = jaxdiv.cross_entropy_from_logits(log_onehot, two_logits)
    label_logits = jnp.where(y > 0.5, jnp.inf, -jnp.inf)  # Bernoulli(1) or (0)
    bce = jaxdiv.binary_cross_entropy_from_logits(label_logits, z)
    return two_class_ce, bce


def table_logistic(seed: int) -> str:
    z, y = nearest_centroid_logits(seed)
    reference = np.asarray(optax.losses.sigmoid_binary_cross_entropy(z, y))
    sign = 2.0 * y.astype(np.float64) - 1.0
    numpy_loss = np.logaddexp(0.0, -sign * z.astype(np.float64))
    two_class_ce, bce = logistic_as_cross_entropy(jnp.asarray(z), jnp.asarray(y))
    candidates = [
        ("optax sigmoid_binary_cross_entropy", reference),
        ("log(1 + exp(-(2y-1) z))  (NumPy, float64)", numpy_loss),
        ("jaxdiv.cross_entropy_from_logits(log 1hot, [0, z])", two_class_ce),
        ("jaxdiv.binary_cross_entropy_from_logits(+-inf, z)", bce),
    ]
    rows = [
        [
            name,
            fmt(float(np.mean(v)), 6),
            fmt_err(float(np.max(np.abs(np.asarray(v, np.float64) - numpy_loss)))),
        ]
        for name, v in candidates
    ]
    return print_table(
        f"3. Logistic loss = two-class cross-entropy  [{len(z)} held-out digits, "
        "3 vs 8, nearest-centroid log-odds z]",
        ["loss", "mean", "max |diff| vs NumPy"],
        rows,
    )


def table_choose(d) -> str:
    cases = [
        ("test classes", "train classes", "uniform classes"),
        ("test pixels of 8s", "train pixels of 8s", "train pixels of 3s"),
        ("docstring letters", "Zen letters", "uniform letters"),
        ("docstring letters", "Zen letters (+1)", "uniform letters"),
    ]
    rows = []
    for p_name, q1_name, q2_name in cases:
        kl1 = measure(d, p_name, q1_name)["KL(P||Q)"]
        kl2 = measure(d, p_name, q2_name)["KL(P||Q)"]
        best = q1_name if kl1 < kl2 else q2_name
        rows.append([p_name, q1_name, q2_name, fmt(kl1), fmt(kl2), best])
    headers = ["P", "Q1", "Q2", "KL(P||Q1)", "KL(P||Q2)", "closer to P"]
    return print_table(
        "4. Choosing the approximation of P with the smaller KL(P||Q) "
        "(a zero in Q where P > 0 costs inf)",
        headers,
        rows,
    )


def table_bits(d) -> str:
    rows = []
    for name in ("docstring letters", "Zen letters", "uniform letters", "test classes"):
        m = measure(d, name, name)
        rows.append(
            [name, fmt(m["H(P)"]), fmt(m["H(P) bits"]), fmt(math.log2(d[name].size))]
        )
    return print_table(
        "5. Entropy in nats and bits (base=2); at most log2(#categories)",
        ["P", "H(P) nats", "H(P) bits", "log2 n"],
        rows,
    )


def plot(d, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    x = np.arange(26)
    axes[0].bar(x - 0.2, d["docstring letters"], 0.4, label="stdlib docstrings")
    axes[0].bar(x + 0.2, d["Zen letters"], 0.4, label="Zen of Python")
    axes[0].set_xticks(x, list(LETTERS))
    axes[0].set_ylabel("frequency")
    axes[0].set_title("letter frequencies")
    axes[0].legend()
    levels = np.arange(17)
    for name in ("pixels of 0s", "pixels of 1s", "pixels of 7s"):
        axes[1].plot(levels, d[name], marker="o", label=name)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("pixel intensity (0..16)")
    axes[1].set_title("digits: pixel-intensity histograms")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, str]:
    parser = argparse.ArgumentParser(
        description="Tables of entropy, cross-entropy, KL and JSD on real data "
        "(scikit-learn digits, stdlib texts).",
    )
    parser.add_argument("--seed", type=int, default=0, help="train/test split seed")
    parser.add_argument(
        "--out", type=Path, default=Path("examples/out"), help="output folder"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"jaxdiv {jaxdiv.__version__}, jax {jax.__version__}, seed {args.seed}\n")

    d = load_distributions(args.seed)
    tables = {
        "kl_is_ce_minus_h": table_kl_is_ce_minus_h(d),
        "symmetry": table_symmetry(d),
        "logistic": table_logistic(args.seed),
        "choose": table_choose(d),
        "bits": table_bits(d),
    }
    (args.out / "measures_table.txt").write_text("\n".join(tables.values()))
    plot(d, args.out / "measures_table.png")
    print(
        f"wrote {args.out / 'measures_table.txt'} and {args.out / 'measures_table.png'}"
    )
    print(f"done in {time.perf_counter() - start:.1f} s")
    return tables


if __name__ == "__main__":
    main()
