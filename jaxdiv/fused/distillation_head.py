"""The distillation head: tempered teacher and student softmaxes per tile.

Forward and reverse KL are read off the first statistics pass: besides each
distribution's running maximum and sum of exponentials, a *centred* cross
term ``sum_j e^{t_j - m_t} ((t_j - m_t) - (s_j - m_s))`` (teacher's
expectation of the difference of centred logits, for the forward KL), so
that ``KL = cross / sum_t - log sum_t + log sum_s`` involves no difference
of large log-normalisers. The generalised JSD needs both normalisers before
its mixture can be formed: a second pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax.numpy as jnp

from .heads import projection
from .stats import Running, centred, factor, max_and_exp, shift


class DistillationParams(NamedTuple):
    temperature: Any
    beta: Any


class DistillationSums(NamedTuple):
    sum_student: Any
    sum_teacher: Any
    cross: Any  # None for the JSD


class JensenShannonSums(NamedTuple):
    jsd: Any
    student_kl: Any  # KL(p_s || m), for the gradient


class DistillationStats(NamedTuple):
    max_student: Any
    log_sum_student: Any
    max_teacher: Any
    log_sum_teacher: Any
    student_kl: Any  # KL(p_s || p_t) (reverse), KL(p_s || m) (JSD), else 0
    value: Any


def log_mix(lpt, lps, beta):
    """``log(beta p_t + (1 - beta) p_s)``; -inf where both are 0."""
    a = lpt + jnp.log(beta)
    b = lps + jnp.log1p(-beta)
    both = (a == -jnp.inf) & (b == -jnp.inf)
    mixed = jnp.logaddexp(jnp.where(both, 0.0, a), jnp.where(both, 0.0, b))
    return jnp.where(both, -jnp.inf, mixed)


def _xlogy_diff(p, a, b):
    """``p (a - b)``, 0 where ``p`` is 0."""
    return jnp.where(p > 0, p * (a - b), 0.0)


@dataclasses.dataclass(frozen=True)
class Distillation:
    """``T^2`` times a divergence between teacher (``hs[1] @ ws[1]``) and
    student (``hs[0] @ ws[0]``) tempered softmaxes."""

    divergence: str  # "forward_kl", "reverse_kl" or "jsd"
    params: Any = dataclasses.field(default=None, compare=False)

    @property
    def passes(self) -> int:
        return 2 if self.divergence == "jsd" else 1

    def logits(self, hs, ws, bias, acc):
        inv_t = 1.0 / self.params.temperature
        zs = projection(hs[0], ws[0], None, acc) * inv_t
        zt = projection(hs[1], ws[1], None, acc) * inv_t
        return zs, zt

    def _log_probs(self, tiles, fin):
        zs, zt = tiles
        lps = centred(zs, fin.max_student) - fin.log_sum_student[:, None]
        lpt = centred(zt, fin.max_teacher) - fin.log_sum_teacher[:, None]
        return lps, lpt

    def stats(self, k, tiles, ok, cols, y, fin):
        zs, zt = tiles
        if k == 1:
            beta = self.params.beta
            lps, lpt = self._log_probs(tiles, fin)
            lm = log_mix(lpt, lps, beta)
            ps, pt = jnp.exp(lps), jnp.exp(lpt)
            ks = _xlogy_diff(ps, lps, lm)
            js = beta * _xlogy_diff(pt, lpt, lm) + (1.0 - beta) * ks
            if ok is not None:
                js, ks = jnp.where(ok, js, 0.0), jnp.where(ok, ks, 0.0)
            return Running((), JensenShannonSums(jnp.sum(js, -1), jnp.sum(ks, -1)))
        ms, es = max_and_exp(zs, ok)
        mt, et = max_and_exp(zt, ok)
        cross = None
        if self.divergence == "forward_kl":
            cross = _xlogy_diff(et, centred(zt, mt), centred(zs, ms))
        elif self.divergence == "reverse_kl":
            cross = _xlogy_diff(es, centred(zs, ms), centred(zt, mt))
        if cross is not None:
            cross = jnp.sum(cross if ok is None else jnp.where(ok, cross, 0.0), -1)
        sums = DistillationSums(jnp.sum(es, -1), jnp.sum(et, -1), cross)
        return Running((ms, mt), sums)

    def rescale(self, st, maxima):
        if not st.maxima:
            return st.sums
        (ms, mt), sums = st
        fs, ft = factor(ms, maxima[0]), factor(mt, maxima[1])
        ds, dt = shift(ms, maxima[0]), shift(mt, maxima[1])
        cross = None
        if self.divergence == "forward_kl":
            cross = ft * (sums.cross + sums.sum_teacher * (dt - ds))
        elif self.divergence == "reverse_kl":
            cross = fs * (sums.cross + sums.sum_student * (ds - dt))
        return DistillationSums(sums.sum_student * fs, sums.sum_teacher * ft, cross)

    def finish(self, k, st, fin, v_total):
        t2 = jnp.square(self.params.temperature)
        if k == 1:
            js, ks = st.sums
            return fin._replace(student_kl=ks, value=t2 * jnp.maximum(js, 0.0))
        (ms, mt), sums = st
        log_s, log_t = jnp.log(sums.sum_student), jnp.log(sums.sum_teacher)
        kl = jnp.zeros_like(log_s)
        if self.divergence == "forward_kl":
            kl = sums.cross / sums.sum_teacher - log_t + log_s
        elif self.divergence == "reverse_kl":
            kl = sums.cross / sums.sum_student - log_s + log_t
        value = t2 * jnp.maximum(kl, 0.0)
        return DistillationStats(ms, log_s, mt, log_t, kl, value)

    def outputs(self, fin):
        return (fin.value,)

    def grad(self, tiles, cols, y, fin, v_total, cts):
        lps, lpt = self._log_probs(tiles, fin)
        ps = jnp.exp(lps)
        kl = fin.student_kl[:, None]
        if self.divergence == "jsd":
            # d JS / d log p_s = (1 - beta) p_s (log(p_s / m) - KL(p_s || m))
            lm = log_mix(lpt, lps, self.params.beta)
            g = (1.0 - self.params.beta) * (_xlogy_diff(ps, lps, lm) - ps * kl)
        elif self.divergence == "forward_kl":
            g = ps - jnp.exp(lpt)
        else:
            g = _xlogy_diff(ps, lps, lpt) - ps * kl
        # d/d(raw logits) of T^2 D(softmax(z / T)) = T^2 * (1 / T) * (...)
        return (self.params.temperature * g) * cts[0][:, None]
