"""The losses, one tile at a time: "heads" behind one protocol.

A head turns a token block's logits tiles into running statistics, the
statistics into per-token outputs, and (given the per-token cotangents of
those outputs) a tile into the gradient of its raw logits. The sweep
(:mod:`jaxdiv.fused.sweep`) does the rest, the same for every head::

    class Head(Protocol):
        passes: int            # statistics sweeps over the vocabulary
        params: NamedTuple     # option values (may be traced), bound by the sweep

        def logits(self, hs, ws, bias, acc) -> tuple[Array, ...]
            # tiles [B, C] from hidden blocks hs [B, D_i], weight chunks
            # ws [D_i, C] and the bias chunk [C] (or None)
        def stats(self, k, tiles, ok, cols, labels, fin) -> Running
            # pass k's statistics of a tile; ok [1, C] masks columns
        def rescale(self, st, maxima) -> sums
            # st's sums relative to new (larger) maxima
        def finish(self, k, st, fin, v_total) -> PerToken
            # per-token statistics [B] after pass k (fin: of pass k - 1)
        def outputs(self, fin) -> tuple[Array, ...]    # [B] each
        def grad(self, tiles, cols, labels, fin, v_total, cts) -> Array
            # d (sum_i cts[i] * outputs[i]) / d raw logits of hs[0] @ ws[0]

Log-probabilities are formed as ``(s - max) - log sum``
(:func:`jaxdiv.fused.stats.centred`), never ``s - (max + log sum)``.
The distillation head lives in :mod:`jaxdiv.fused.distillation_head`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax.numpy as jnp

from .matmul import dot
from .stats import Running, centred, factor, label_logit, max_and_exp, shift


def projection(h, w, bias, acc):
    """``h @ w (+ bias)`` in ``acc``."""
    z = dot(h, w, acc)
    if bias is not None:
        z = z + bias.astype(acc)[None, :]
    return z


def soft_cap(z, cap):
    return cap * jnp.tanh(z / cap)


class CrossEntropyParams(NamedTuple):
    smoothing: Any
    z_loss: Any
    cap: Any


class CrossEntropySums(NamedTuple):
    sum_exp: Any
    label_logit: Any
    sum_logits: Any  # None without label smoothing


class CrossEntropyStats(NamedTuple):
    max: Any
    log_sum: Any  # log sum exp(s - max)
    value: Any


@dataclasses.dataclass(frozen=True)
class CrossEntropy:
    """Softmax cross-entropy with integer labels, smoothing, z-loss, softcap.

    The static flags say which terms are present; their values are in
    ``params`` (:class:`CrossEntropyParams`).
    """

    smooth: bool
    zloss: bool
    softcap: bool
    params: Any = dataclasses.field(default=None, compare=False)
    passes = 1

    def logits(self, hs, ws, bias, acc):
        z = projection(hs[0], ws[0], bias, acc)
        return (soft_cap(z, self.params.cap) if self.softcap else z,)

    def stats(self, k, tiles, ok, cols, y, fin):
        (s,) = tiles
        m, e = max_and_exp(s, ok)
        total = None
        if self.smooth:
            total = jnp.sum(s if ok is None else jnp.where(ok, s, 0.0), axis=-1)
        sums = CrossEntropySums(jnp.sum(e, -1), label_logit(s, ok, cols, y), total)
        return Running((m,), sums)

    def rescale(self, st, maxima):
        return st.sums._replace(
            sum_exp=st.sums.sum_exp * factor(st.maxima[0], maxima[0])
        )

    def finish(self, k, st, fin, v_total):
        (m,), sums = st
        log_sum = jnp.log(sums.sum_exp)
        # lse - (1 - a) s_y - a mean(s), written relative to the maximum m
        if self.smooth:
            a = self.params.smoothing
            value = log_sum - (1.0 - a) * (sums.label_logit - m)
            value = value - a * (sums.sum_logits / v_total - m)
        else:
            value = log_sum - (sums.label_logit - m)
        if self.zloss:
            value = value + self.params.z_loss * jnp.square(m + log_sum)
        return CrossEntropyStats(m, log_sum, value)

    def outputs(self, fin):
        return (fin.value,)

    def grad(self, tiles, cols, y, fin, v_total, cts):
        (s,) = tiles
        p = jnp.exp(centred(s, fin.max) - fin.log_sum[:, None])
        if self.zloss:
            lse = (fin.max + fin.log_sum)[:, None]
            p = p * (1.0 + 2.0 * self.params.z_loss * lse)
        hit = cols == y[:, None]
        if self.smooth:
            a = self.params.smoothing
            g = p - jnp.where(hit, 1.0 - a, 0.0) - a / v_total
        else:
            g = p - jnp.where(hit, 1.0, 0.0)
        if self.softcap:
            g = g * (1.0 - jnp.square(s / self.params.cap))
        return g * cts[0][:, None]


class LogProbParams(NamedTuple):
    inv_temperature: Any
    cap: Any


class LogProbSums(NamedTuple):
    sum_exp: Any
    centred: Any  # sum exp(s - max) (s - max); None without the entropy
    label_logit: Any


class LogProbStats(NamedTuple):
    max: Any
    log_sum: Any
    log_prob: Any
    entropy: Any  # None without the entropy


@dataclasses.dataclass(frozen=True)
class LogProbs:
    """Per-token ``log p(y)`` (and entropy) of ``softmax(cap(h W + b) / T)``."""

    entropy: bool
    softcap: bool
    params: Any = dataclasses.field(default=None, compare=False)
    passes = 1

    def logits(self, hs, ws, bias, acc):
        z = projection(hs[0], ws[0], bias, acc)
        if self.softcap:
            z = soft_cap(z, self.params.cap)
        return (z * self.params.inv_temperature,)

    def stats(self, k, tiles, ok, cols, y, fin):
        (s,) = tiles
        m, e = max_and_exp(s, ok)
        c = None
        if self.entropy:
            c = jnp.sum(jnp.where(e > 0, e * centred(s, m), 0.0), axis=-1)
        return Running(
            (m,), LogProbSums(jnp.sum(e, -1), c, label_logit(s, ok, cols, y))
        )

    def rescale(self, st, maxima):
        (m,), sums = st
        f = factor(m, maxima[0])
        c = None
        if self.entropy:
            c = f * (sums.centred + sums.sum_exp * shift(m, maxima[0]))
        return sums._replace(sum_exp=sums.sum_exp * f, centred=c)

    def finish(self, k, st, fin, v_total):
        (m,), sums = st
        log_sum = jnp.log(sums.sum_exp)
        log_prob = (sums.label_logit - m) - log_sum
        h = None
        if self.entropy:
            h = log_sum - sums.centred / sums.sum_exp
        return LogProbStats(m, log_sum, log_prob, h)

    def outputs(self, fin):
        return (fin.log_prob, fin.entropy) if self.entropy else (fin.log_prob,)

    def grad(self, tiles, cols, y, fin, v_total, cts):
        (s,) = tiles
        lp = centred(s, fin.max) - fin.log_sum[:, None]
        p = jnp.exp(lp)
        g = cts[0][:, None] * (jnp.where(cols == y[:, None], 1.0, 0.0) - p)
        if self.entropy:
            # d H / d s_j = -p_j (log p_j + H)
            t = jnp.where(p > 0, p * (lp + fin.entropy[:, None]), 0.0)
            g = g - cts[1][:, None] * t
        g = g * self.params.inv_temperature
        if self.softcap:
            th = s / (self.params.cap * self.params.inv_temperature)
            g = g * (1.0 - jnp.square(th))
        return g
