"""Float64 NumPy references and samples shared by the tests of jaxdiv.estimators."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln, logsumexp, softplus

from jaxdiv import estimators as E

P = {"euclidean": 2, "max": np.inf}


# --------------------------------------------------------------------------
# float64 references: the papers' formulas, with the documented conventions


def ref_entropy(x, k, norm):
    n, d = x.shape
    r = cKDTree(x).query(x, k=k + 1, p=P[norm])[0][:, -1]
    log_v = (
        d * math.log(2)
        if norm == "max"
        else (0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1))
    )
    keep = r > 0
    return digamma(n) - digamma(k) + log_v + d * np.mean(np.log(r[keep]))


def ref_kl(x, y, k, norm):
    (n, d), m = x.shape, y.shape[0]
    rho = cKDTree(x).query(x, k=k + 1, p=P[norm])[0][:, -1]
    nu = cKDTree(y).query(x, k=[k], p=P[norm])[0][:, -1]
    keep = (rho > 0) & (nu > 0)
    return d * np.mean(np.log(nu[keep] / rho[keep])) + math.log(m / (n - 1))


def ref_ksg(x, y, k):
    n = x.shape[0]
    z = np.concatenate([x, y], axis=1)
    eps = cKDTree(z).query(z, k=k + 1, p=np.inf)[0][:, -1]
    dx = np.max(np.abs(x[:, None] - x[None]), axis=-1)  # brute force: strict <
    dy = np.max(np.abs(y[:, None] - y[None]), axis=-1)
    nx = np.sum(dx < eps[:, None], axis=1) - (eps > 0)
    ny = np.sum(dy < eps[:, None], axis=1) - (eps > 0)
    return digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))


def gaussians(n, d, rho, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    return x, y


# --------------------------------------------------------------------------
# variational bounds


def np_bounds(s):
    n = s.shape[0]
    diag = np.diag(s)
    off = s[~np.eye(n, dtype=bool)]
    return {
        "infonce": math.log(n) + np.mean(diag - logsumexp(s, axis=1)),
        "nwj": np.mean(diag) - np.exp(-1) * np.mean(np.exp(off)),
        "dv": np.mean(diag) - (logsumexp(off) - math.log(off.size)),
        "js": math.log(2) + 0.5 * (-np.mean(softplus(-diag)) - np.mean(softplus(off))),
    }


BOUNDS = {
    "infonce": E.infonce_bound,
    "nwj": E.nwj_bound,
    "dv": E.dv_bound,
    "js": E.js_bound,
}


def log_ratio(x, y, rho):
    """log p(x, y) / (p(x) p(y)) for unit-variance correlated Gaussians."""
    c = 1 - rho**2
    q = (rho**2 * x**2 - 2 * rho * x * y + rho**2 * y**2) / (2 * c)
    return -0.5 * np.log(c) - q
