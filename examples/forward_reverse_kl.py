r"""Forward KL covers the mass, reverse KL seeks a mode.

We fit one Gaussian :math:`q = N(\mu, \sigma^2)` to a two-mode Gaussian
mixture :math:`p` by minimising, with optax's Adam,

* the forward KL, :math:`KL(p \| q)`: ``q`` must put mass wherever ``p`` has
  some, so it spreads over both modes (its optimum matches the mixture's mean
  and variance);
* the reverse KL, :math:`KL(q \| p)`: ``q`` is penalised wherever ``p`` is
  small, so it settles on one mode; which one depends on the start, so we fit
  it from two starts (it has one local minimum per mode).

The densities are discretised on a uniform 1-D grid. Normalising the grid
values is a Riemann-sum quadrature of the integral, and the log-densities are
valid logits, so ``jaxdiv.kl_divergence_from_logits(log_p, log_q)`` is the KL
between the discretised densities (its log-softmax does the normalisation).

Saves the classic picture and prints the fitted parameters. Run
``python examples/forward_reverse_kl.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
from jax.scipy.stats import norm

import jaxdiv

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# the mixture: weights, means, standard deviations
WEIGHTS = (0.45, 0.55)
MEANS = (-3.0, 3.0)
STDS = (0.8, 1.0)
# the grid spans [-HALF_WIDTH, HALF_WIDTH]: wide enough that truncating the
# Gaussian tails does not bias the fitted scale
HALF_WIDTH = 16.0


def mixture_log_density(x: jax.Array) -> jax.Array:
    comps = jnp.stack(
        [
            math.log(w) + norm.logpdf(x, m, s)
            for w, m, s in zip(WEIGHTS, MEANS, STDS, strict=True)
        ]
    )
    return jax.nn.logsumexp(comps, axis=0)


def gaussian_log_density(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    return norm.logpdf(x, params["loc"], jnp.exp(params["log_scale"]))


def normal_pdf(x: np.ndarray, loc: float, scale: float) -> np.ndarray:
    """NumPy Gaussian density, for the picture only."""
    return np.exp(-0.5 * ((x - loc) / scale) ** 2) / (scale * math.sqrt(2 * math.pi))


def kl_divergences(params: dict[str, jax.Array], x: jax.Array):
    """``(KL(p || q), KL(q || p))`` between the discretised mixture and Gaussian."""
    log_p = mixture_log_density(x)
    log_q = gaussian_log_density(params, x)
    forward = jaxdiv.kl_divergence_from_logits(log_p, log_q)  # mass-covering
    reverse = jaxdiv.kl_divergence_from_logits(log_q, log_p)  # mode-seeking
    return forward, reverse


@functools.partial(jax.jit, static_argnames=("direction", "steps", "learning_rate"))
def fit(init, x, *, direction: str, steps: int, learning_rate: float):
    """Minimise the forward or reverse KL with Adam; returns params and losses."""
    optimizer = optax.adam(learning_rate)

    def objective(params):
        forward, reverse = kl_divergences(params, x)
        return forward if direction == "forward" else reverse

    def step(carry, _):
        params, state = carry
        loss, grads = jax.value_and_grad(objective)(params)
        updates, state = optimizer.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (init, optimizer.init(init)), length=steps)
    return params, losses


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "-" * len(line(headers))
    print("\n".join([title, rule, line(headers), rule, *map(line, rows), rule]))


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(
        description="Fit one Gaussian to a two-mode mixture by forward and "
        "reverse KL (grid quadrature, optax Adam).",
    )
    parser.add_argument("--steps", type=int, default=500, help="Adam steps per fit")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam learning rate")
    parser.add_argument("--grid", type=int, default=3201, help="grid points")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starts")
    parser.add_argument(
        "--out", type=Path, default=Path("examples/out"), help="output folder"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)

    x = jnp.linspace(-HALF_WIDTH, HALF_WIDTH, args.grid)
    evaluate = jax.jit(kl_divergences)

    # starts drawn from the seed, 1.5 to 2.5 left and right of the mixture's mean
    # (starts much nearer the mean can stall the reverse KL in a third, broad
    # local minimum between the modes)
    offsets = np.random.default_rng(args.seed).uniform(1.5, 2.5, size=2)
    mid = sum(w * m for w, m in zip(WEIGHTS, MEANS, strict=True))
    starts = {
        "forward KL(p||q)": ("forward", mid - offsets[0]),
        "reverse KL(q||p), start left": ("reverse", mid - offsets[0]),
        "reverse KL(q||p), start right": ("reverse", mid + offsets[1]),
    }
    fits, curves = {}, {}
    for name, (direction, loc0) in starts.items():
        init = {"loc": jnp.float32(loc0), "log_scale": jnp.float32(0.0)}
        params, losses = fit(
            init, x, direction=direction, steps=args.steps, learning_rate=args.lr
        )
        forward, reverse = evaluate(params, x)
        fits[name] = {
            "start": float(loc0),
            "loc": float(params["loc"]),
            "scale": float(np.exp(params["log_scale"])),
            "forward_kl": float(forward),
            "reverse_kl": float(reverse),
        }
        curves[name] = np.asarray(losses)

    # the forward-KL optimum in closed form: the mixture's mean and variance
    mean = sum(w * m for w, m in zip(WEIGHTS, MEANS, strict=True))
    second = sum(
        w * (s**2 + m**2) for w, m, s in zip(WEIGHTS, MEANS, STDS, strict=True)
    )
    moment = {"loc": mean, "log_scale": 0.5 * math.log(second - mean**2)}
    forward, reverse = evaluate({k: jnp.float32(v) for k, v in moment.items()}, x)
    fits["moment matching (closed form)"] = {
        "start": float("nan"),
        "loc": mean,
        "scale": math.exp(moment["log_scale"]),
        "forward_kl": float(forward),
        "reverse_kl": float(reverse),
    }

    mixture = ", ".join(
        f"{w:g} N({m:g}, {s:g}^2)" for w, m, s in zip(WEIGHTS, MEANS, STDS, strict=True)
    )
    rows = [
        [
            name,
            "" if math.isnan(f["start"]) else f"{f['start']:.3f}",
            f"{f['loc']:.4f}",
            f"{f['scale']:.4f}",
            f"{f['forward_kl']:.4f}",
            f"{f['reverse_kl']:.4f}",
        ]
        for name, f in fits.items()
    ]
    print_table(
        f"p = {mixture}; q = N(mu, sigma^2); {args.grid}-point grid on "
        f"[-{HALF_WIDTH:g}, {HALF_WIDTH:g}], {args.steps} Adam steps, lr {args.lr}",
        ["fit", "mu start", "mu", "sigma", "KL(p||q)", "KL(q||p)"],
        rows,
    )

    # the picture
    dx = float(x[1] - x[0])
    xs = np.asarray(x)
    fig, (ax, ax_loss) = plt.subplots(
        1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]}
    )
    mixture_pdf = sum(
        w * normal_pdf(xs, m, s) for w, m, s in zip(WEIGHTS, MEANS, STDS, strict=True)
    )
    ax.fill_between(xs, mixture_pdf, color="0.8", label="mixture p")
    styles = {
        "forward KL(p||q)": ("C0", "-"),
        "reverse KL(q||p), start left": ("C3", "--"),
        "reverse KL(q||p), start right": ("C1", "--"),
    }
    for name, (color, style) in styles.items():
        f = fits[name]
        density = normal_pdf(xs, f["loc"], f["scale"])
        label = f"{name}: mu={f['loc']:.2f}, sigma={f['scale']:.2f}"
        ax.plot(xs, density, style, color=color, lw=2, label=label)
        ax_loss.plot(curves[name], style, color=color, label=name)
    ax.set_xlim(-7, 7)
    ax.set_ylim(0.0, 1.5 * ax.get_ylim()[1])  # room for the legend
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title("one Gaussian fitted to a two-mode mixture")
    ax.legend(fontsize=8, loc="upper left")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("Adam step")
    ax_loss.set_ylabel("objective (nats)")
    ax_loss.set_title("training curves")
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
    path = args.out / "forward_reverse_kl.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"grid spacing {dx:.4f}; wrote {path}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return fits


if __name__ == "__main__":
    main()
