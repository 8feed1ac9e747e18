"""The measures on distributions, one module per idea.

- ``categorical``: entropy, cross-entropy, KL and Jensen-Shannon.
- ``bernoulli``: the binary (elementwise) entropy, cross-entropy and KL.
- ``orders``: the order families (Rényi, Tsallis, Amari alpha).
- ``f_divergences``: the f-divergence family with Hellinger, TV and chi-squared.
- ``information``: mutual information, conditional entropy, perplexity.
- ``montecarlo``: the Monte-Carlo KL between two distribution families.

Each builds its inputs with ``jaxdiv._core.inputs`` and evaluates the
formulas of ``jaxdiv._core.formulas``; the public names are re-exported by
``jaxdiv``.
"""
