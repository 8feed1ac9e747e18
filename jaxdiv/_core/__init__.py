"""The ground floor of jaxdiv: everything the measures are built from.

- ``types``: the shared ``Axis``/``AxisName`` types.
- ``checks``: static (trace-time) checks of shapes, dtypes and options.
- ``value_checks``: the opt-in run-time checks behind ``jaxdiv.value_checks``.
- ``numerics``: zero-safe logs, sums and log-softmax, written once.
- ``primitives``: ``log_ratio``, ``div``, ``recip`` with overflow-free derivatives.
- ``special``: Stirling series for the log-gamma and digamma differences.
- ``inputs``: builders turning probabilities or logits into ``(p, log p)`` pairs.
- ``formulas``: the measures on those pairs (entropy, cross-entropy, KL,
  Jensen-Shannon, f-divergence, Hellinger, total variation, chi-squared).
- ``orders``: the log-moment of the Rényi/Tsallis/alpha order families.
- ``kernels``: logits-level kernels with their own derivative rules (the
  integer-label cross-entropy, KL from logits and from log-targets).
- ``kl_estimators``: the k1/k2/k3 single-sample KL estimators.

Nothing here is public; the public names are re-exported by ``jaxdiv``.
"""
