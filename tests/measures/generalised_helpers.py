"""The registry of the generalised measures (order families and f-divergences)
and their float64 NumPy references, shared by their tests.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special
import scipy.stats
from jax.scipy.special import xlogy

import jaxdiv

INF = math.inf

# --------------------------------------------------------------------------
# references (float64, event axis last)


def _shannon(p):
    return scipy.special.entr(p).sum(-1)


def _kl(p, q):
    return scipy.special.rel_entr(p, q).sum(-1)


def ref_renyi_entropy(p, a):
    s = p > 0
    if a == 0:
        return np.log(s.sum(-1))
    if a == 1:
        return _shannon(p)
    if a == INF:
        return -np.log(p.max(-1))
    return np.log((np.where(s, p, 1.0) ** a * s).sum(-1)) / (1 - a)


def ref_renyi_divergence(p, q, a):
    s = p > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if a == 0:
            return -np.log(np.where(s, q, 0.0).sum(-1))
        if a == 1:
            return _kl(p, q)
        if a == INF:
            return np.log(np.where(s, p / q, 0.0).max(-1))
        terms = np.where(s, np.where(s, p, 1.0) ** a * q ** (1 - a), 0.0)
        return np.log(terms.sum(-1)) / (a - 1)


def ref_tsallis(p, a):
    s = p > 0
    if a == 1:
        return _shannon(p)
    if a == INF:
        return np.zeros(p.shape[:-1])
    return (1 - (np.where(s, p, 1.0) ** a * s).sum(-1)) / (a - 1)


def ref_alpha_divergence(p, q, a):
    if a == 1:
        return _kl(p, q)
    if a == 0:
        return _kl(q, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = p**a * q ** (1 - a)
    terms = np.where((p == 0) & (q == 0), 0.0, terms)
    return (1 - terms.sum(-1)) / (a * (1 - a))


def ref_f_divergence(p, q, f, slope):
    slope = INF if slope is None else slope
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(q > 0, p / np.where(q > 0, q, 1.0), 0.0)
        terms = np.where(q > 0, q * f(t), np.where(p > 0, p * slope, 0.0))
    return terms.sum(-1)


def ref_hellinger(p, q):
    return np.sqrt(np.maximum(1.0 - np.sqrt(p * q).sum(-1), 0.0))


def ref_tv(p, q):
    return 0.5 * np.abs(p - q).sum(-1)


def ref_chi2(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, (p - q) ** 2 / np.where(q > 0, q, 1.0), 0.0)
        terms = np.where((q == 0) & (p > 0), INF, terms)
    return terms.sum(-1)


# f-divergence generators: (jax f, NumPy f, slope at infinity)
GENERATORS = {
    "kl": (lambda t: xlogy(t, t), lambda t: scipy.special.xlogy(t, t), None),
    "reverse_kl": (lambda t: -jnp.log(t), lambda t: -np.log(t), 0.0),
    "tv": (lambda t: jnp.abs(t - 1) / 2, lambda t: np.abs(t - 1) / 2, 0.5),
    "chi2": (lambda t: (t - 1) ** 2, lambda t: (t - 1) ** 2, None),
    "hellinger2": (
        lambda t: (jnp.sqrt(t) - 1) ** 2,
        lambda t: (np.sqrt(t) - 1) ** 2,
        1.0,
    ),
}


# --------------------------------------------------------------------------
# the measures under test: id -> (prob form, logits form, n args, kwargs, ref)


def _cases():
    out = {}
    for a in [0.0, 0.5, 1.0, 2.0, INF]:
        out[f"renyi_entropy-{a}"] = (
            jaxdiv.renyi_entropy,
            jaxdiv.renyi_entropy_from_logits,
            1,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_renyi_entropy(p, a), a=a),
        )
        out[f"tsallis_entropy-{a}"] = (
            jaxdiv.tsallis_entropy,
            jaxdiv.tsallis_entropy_from_logits,
            1,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_tsallis(p, a), a=a),
        )
        out[f"renyi_divergence-{a}"] = (
            jaxdiv.renyi_divergence,
            jaxdiv.renyi_divergence_from_logits,
            2,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_renyi_divergence(p, q, a), a=a),
        )
    for a in [-1.0, 0.0, 0.3, 0.5, 1.0, 2.0]:
        out[f"alpha_divergence-{a}"] = (
            jaxdiv.alpha_divergence,
            jaxdiv.alpha_divergence_from_logits,
            2,
            {"alpha": a},
            functools.partial(lambda p, q, a: ref_alpha_divergence(p, q, a), a=a),
        )
    for g, (fj, fn, slope) in GENERATORS.items():
        out[f"f_divergence-{g}"] = (
            jaxdiv.f_divergence,
            jaxdiv.f_divergence_from_logits,
            2,
            {"f": fj, "slope_at_infinity": slope},
            functools.partial(
                lambda p, q, fn, s: ref_f_divergence(p, q, fn, s), fn=fn, s=slope
            ),
        )
    out["hellinger_distance"] = (
        jaxdiv.hellinger_distance,
        jaxdiv.hellinger_distance_from_logits,
        2,
        {},
        lambda p, q: ref_hellinger(p, q),
    )
    out["total_variation_distance"] = (
        jaxdiv.total_variation_distance,
        jaxdiv.total_variation_distance_from_logits,
        2,
        {},
        lambda p, q: ref_tv(p, q),
    )
    out["chi_squared_divergence"] = (
        jaxdiv.chi_squared_divergence,
        jaxdiv.chi_squared_divergence_from_logits,
        2,
        {},
        lambda p, q: ref_chi2(p, q),
    )
    return out


CASES = _cases()
IDS = list(CASES)
TWO = [k for k in IDS if CASES[k][2] == 2]
# the order-1 (and Amari order-0) limits have tests of their own below
VALUE_IDS = [k for k in IDS if not k.endswith("-1.0") and k != "alpha_divergence-0.0"]
# Traced orders: ``fn`` passes them as arrays, so every branch is evaluated
# and then selected (the path of an alpha traced under jit, vmap or grad).
CASES["renyi_divergence-traced1.5"] = (
    jaxdiv.renyi_divergence,
    jaxdiv.renyi_divergence_from_logits,
    2,
    {"alpha": np.float32(1.5)},
    lambda p, q: ref_renyi_divergence(p, q, 1.5),
)
CASES["tsallis_entropy-traced1.0"] = (
    jaxdiv.tsallis_entropy,
    jaxdiv.tsallis_entropy_from_logits,
    1,
    {"alpha": np.float32(1.0)},
    lambda p, q: ref_tsallis(p, 1.0),
)
# a representative subset for the edge tests (each compiles its own code)
EDGE_IDS = [
    "renyi_entropy-0.5",
    "renyi_entropy-inf",
    "tsallis_entropy-traced1.0",
    "renyi_divergence-0.5",
    "renyi_divergence-inf",
    "renyi_divergence-traced1.5",
    "alpha_divergence--1.0",
    "alpha_divergence-2.0",
    "f_divergence-kl",
    "f_divergence-hellinger2",
    "hellinger_distance",
    "total_variation_distance",
    "chi_squared_divergence",
]
EDGE_TWO = [k for k in EDGE_IDS if CASES[k][2] == 2]


def fn(key, form):
    prob, logits, _, kwargs, _ = CASES[key]
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("alpha"), np.float32):  # the traced path
        kwargs["alpha"] = jnp.asarray(kwargs["alpha"])
    return functools.partial(logits if form else prob, **kwargs)


def args_for(key, p, q):
    return (p, q)[: CASES[key][2]]


def ref(key, p, q):
    return CASES[key][4](np.asarray(p, np.float64), np.asarray(q, np.float64))


def dirichlet(rng, shape, zeros=False, dtype=np.float32):
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if zeros:
        p = np.where(rng.random(shape) < 0.3, 0.0, p)
        p[..., 0] = np.maximum(p[..., 0], 0.1)
        p = p / p.sum(-1, keepdims=True)
    return p.astype(dtype)


def as_logits(rng, p):
    c = rng.normal(scale=3.0, size=p.shape[:-1] + (1,))
    with np.errstate(divide="ignore"):
        return (np.log(p.astype(np.float64)) + c).astype(p.dtype)


def log(x):
    """``np.log`` with ``log 0 = -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(x)


def softmax64(logits):
    return scipy.special.softmax(np.asarray(logits, np.float64), axis=-1)


def transformed(f, how):
    return {"eager": f, "jit": jax.jit(f), "vmap": jax.vmap(f)}[how]


def assert_finite(*trees):
    for leaf in jax.tree_util.tree_leaves(trees):
        assert np.all(np.isfinite(np.asarray(leaf))), leaf


def grad_and_jvp(f):
    """A jitted ``args -> (grads of sum f, jvp of f along ones)``."""

    @jax.jit
    def both(*args):
        argnums = tuple(range(len(args)))
        grads = jax.grad(lambda *a: jnp.sum(f(*a)), argnums=argnums)(*args)
        _, t = jax.jvp(f, args, tuple(jnp.ones_like(a) for a in args))
        return grads, t

    return both


RTOL = {np.float32: 2e-5, np.float64: 1e-10}
ATOL = {np.float32: 2e-6, np.float64: 1e-12}


S = (3, 4)  # one shape for the edge tests: eager primitives compile once per shape


# --------------------------------------------------------------------------
# limits and continuity in the order

ORDER_NAMES = [
    "renyi_entropy",
    "tsallis_entropy",
    "renyi_divergence",
    "alpha_divergence",
]


def _order_ref(name, p, q, a):
    """float64 reference on *normalised* inputs.

    The literal formulas amplify a float32 normalisation error of p by
    1 / |alpha - 1| near order 1; jaxdiv treats p as normalised there.
    """
    p = p.astype(np.float64) / p.astype(np.float64).sum(-1, keepdims=True)
    q = q.astype(np.float64) / q.astype(np.float64).sum(-1, keepdims=True)
    return {
        "renyi_entropy": lambda: ref_renyi_entropy(p, a),
        "tsallis_entropy": lambda: ref_tsallis(p, a),
        "renyi_divergence": lambda: ref_renyi_divergence(p, q, a),
        "alpha_divergence": lambda: ref_alpha_divergence(p, q, a),
    }[name]()


@jax.jit
def _renyi_curves(p, q, alphas):
    h = jax.vmap(lambda a: jaxdiv.renyi_entropy(p, alpha=a))(alphas)
    d = jax.vmap(lambda a: jaxdiv.renyi_divergence(p, q, alpha=a))(alphas)
    return h, d


def _five_point(g, a, h=1e-3):
    return (-g(a + 2 * h) + 8 * g(a + h) - 8 * g(a - h) + g(a - 2 * h)) / (12 * h)


# --------------------------------------------------------------------------
# edges shared with the core measures: one batch holds every edge, so each
# measure compiles once for its values and once for its gradients

X = 0.25  # column 1 is masked everywhere: its value never matters
EDGE_P = np.array(
    [
        [X, X, X, X],  # 0: masked out entirely -> padding
        [0.2, X, 0.3, 0.5],  # 1: ordinary
        [0.0, X, 0.0, 0.0],  # 2: empty (all -inf logits) -> padding
        [0.0, X, 0.4, 0.6],  # 3: p_0 = q_0 = 0
        [0.0, X, 0.4, 0.6],  # 4: p_0 = 0 < q_0
        [0.2, X, 0.5, 0.3],  # 5: q_0 = 0 < p_0
        [0.0, X, 0.5, 0.5],  # 6: logits: p_0 underflows, q_0 = 0
    ]
)
EDGE_Q = np.array(
    [
        [X, X, X, X],
        [0.5, X, 0.25, 0.25],
        [0.0, X, 0.0, 0.0],
        [0.0, X, 0.7, 0.3],
        [0.2, X, 0.5, 0.3],
        [0.0, X, 0.4, 0.6],
        [0.0, X, 0.4, 0.6],
    ]
)
EDGE_WHERE = np.ones(EDGE_P.shape, bool)
EDGE_WHERE[0] = False
EDGE_WHERE[:, 1] = False
GARBAGE = np.array([np.nan, np.inf, -np.inf, 1e30, -1.0, np.nan, 7.0])


def _edge_inputs(form):
    p, q = EDGE_P.copy(), EDGE_Q.copy()
    if form:
        p, q = log(p) + 1.5, log(q) - 0.5  # valid logits, up to a constant
        p[6, 0] = -200.0  # a finite logit whose softmax underflows in float32
        p[:, 1] = q[:, 1] = 0.0
    clean = [p.astype(np.float32), q.astype(np.float32)]
    dirty = [a.copy() for a in clean]
    for a in dirty:
        a[0] = GARBAGE[:4]
        a[:, 1] = GARBAGE
    return clean, dirty


def _edge_reference(key, form):
    """float64 values of the rows that are not padding (rows 1, 3, 4, 5, 6)."""
    kept = [0, 2, 3]
    p, q = EDGE_P[:, kept], EDGE_Q[:, kept]
    p = p.copy()
    p[6, 0] = 0.0  # the float32 underflow: no mass, as in KL
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(ref(key, p, q))[[1, 3, 4, 5, 6]]


ZERO_PROB_IDS = [
    "renyi_entropy-0.5",
    "renyi_divergence-traced1.5",
    "alpha_divergence--1.0",
    "f_divergence-hellinger2",
    "chi_squared_divergence",
]
EXTREME = np.array([[-np.inf, 0.0, 1.0, 0.5], [-1e9, 0.0, 1.0, 0.5], [-200, 0, 1, 0.5]])


AXIS_IDS = [
    "tsallis_entropy-traced1.0",
    "renyi_divergence-inf",
    "alpha_divergence--1.0",
    "chi_squared_divergence",
]


# --------------------------------------------------------------------------
# numerical gradients away from the edges


SECOND_ORDER = ["renyi_entropy-0.5"]  # the others: first order (cost)
CHECK_IDS = [
    "renyi_entropy-0.5",
    "renyi_divergence-traced1.5",
    "alpha_divergence--1.0",
    "f_divergence-hellinger2",
    "hellinger_distance",
    "chi_squared_divergence",
]


# --------------------------------------------------------------------------
# vocabulary-parallel logits forms (axis_name under shard_map)


SHARDED = [
    "renyi_entropy-0.0",
    "tsallis_entropy-traced1.0",
    "renyi_divergence-inf",
    "alpha_divergence-2.0",
    "f_divergence-tv",
]
