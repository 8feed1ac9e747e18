"""f-GAN discriminator and generator losses (Nowozin, Cseke and Tomioka, 2016).

The discriminator maximises the variational lower bound

    F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))]  <=  D_f(P || Q)

over its raw output V, where g_f is the output activation that maps V into
the domain of the Fenchel conjugate f* (Table 2 of the paper). Each pair
(g_f, f* o g_f) is written in a form that cannot overflow: softplus for the
logistic ones, and for the exponential ones a linear continuation beyond
``_EXP_KNEE`` (exp(t) for t <= knee, exp(knee) * (1 + t - knee) above), so
losses and gradients are finite for any score up to ~1e19 in magnitude.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core import checks

DIVERGENCES = (
    "kl",
    "reverse_kl",
    "js",
    "gan",
    "pearson",
    "squared_hellinger",
    "total_variation",
)
GENERATOR_LOSSES = ("nonsaturating", "minimax")
# exp(44) ~ 1.3e19: far above any useful critic value, far below the
# float32 maximum even after a further factor of 1e19 of linear growth.
_EXP_KNEE = 44.0
_LOG2 = math.log(2.0)


def _knee(dtype) -> float:
    """44, or half the log of the largest float16 (so its gradients fit)."""
    return min(_EXP_KNEE, 0.5 * math.log(float(jnp.finfo(dtype).max)))


def _exp(t: jax.Array, knee: float) -> jax.Array:
    """``exp(t)``, continued linearly (C^1, convex) beyond the knee."""
    e = jnp.exp(jnp.minimum(t, knee))
    return jnp.where(t > knee, e * (1.0 + (t - knee)), e)


def _expm1(t: jax.Array, knee: float) -> jax.Array:
    """``expm1(t)`` with the same linear continuation as :func:`_exp`."""
    e = jnp.expm1(jnp.minimum(t, knee))
    return jnp.where(t > knee, e + math.exp(knee) * (t - knee), e)


def _activation(divergence: str, v: jax.Array, knee: float) -> jax.Array:
    """``g_f(v)``."""
    if divergence in ("kl", "pearson"):
        return v
    if divergence == "reverse_kl":
        return -_exp(-v, knee)
    if divergence == "js":
        return _LOG2 - jax.nn.softplus(-v)
    if divergence == "gan":
        return -jax.nn.softplus(-v)
    if divergence == "squared_hellinger":
        return -_expm1(-v, knee)
    return 0.5 * jnp.tanh(v)  # total_variation


def _conjugate_of_activation(divergence: str, v: jax.Array, knee: float) -> jax.Array:
    """``f*(g_f(v))``, simplified so that nothing overflows."""
    if divergence == "kl":
        return _exp(v - 1.0, knee)
    if divergence == "reverse_kl":
        return v - 1.0  # -1 - log(exp(-v))
    if divergence == "js":
        return jax.nn.softplus(v) - _LOG2  # -log(2 - exp(g)) = -log(2 sigmoid(-v))
    if divergence == "gan":
        return jax.nn.softplus(v)  # -log(1 - sigmoid(v))
    if divergence == "pearson":
        return 0.25 * v * v + v
    if divergence == "squared_hellinger":
        return _expm1(v, knee)  # g / (1 - g) with 1 - g = exp(-v)
    return 0.5 * jnp.tanh(v)  # total_variation: f*(t) = t on |t| <= 1/2


def f_gan_loss(
    real_scores: ArrayLike,
    fake_scores: ArrayLike,
    *,
    divergence: str,
    generator: str = "nonsaturating",
) -> tuple[jax.Array, jax.Array]:
    r"""Discriminator and generator losses of an f-GAN.

    With the critic's raw outputs :math:`v` on real samples
    (:math:`x \sim P`, the data) and on generated ones (:math:`x \sim Q`,
    the model), the discriminator maximises the variational bound

    .. math::
       F = \mathbb{E}_P\big[g_f(v)\big]
       - \mathbb{E}_Q\big[f^*(g_f(v))\big] \;\le\; D_f(P \| Q)
       = \sum_x q(x)\, f\!\Big(\frac{p(x)}{q(x)}\Big)

    tight at :math:`g_f(v) = f'(p / q)`. ``discriminator_loss`` is
    :math:`-F`; ``generator_loss`` is :math:`F` for ``generator="minimax"``
    (so that at the discriminator's optimum both are :math:`\mp D_f`) and
    :math:`-\mathbb{E}_Q[g_f(v)]` for ``"nonsaturating"`` (the default, the
    alternative update the paper uses in its experiments; Goodfellow et
    al.'s :math:`-\log D` for ``"gan"``). Activations :math:`g_f` and
    conjugates :math:`f^*` of Table 2, with :math:`u = p / q`:

    - ``"kl"``: :math:`f = u \log u`, :math:`g_f(v) = v`,
      :math:`f^*(t) = e^{t - 1}`;
    - ``"reverse_kl"``: :math:`f = -\log u`, :math:`g_f(v) = -e^{-v}`,
      :math:`f^*(t) = -1 - \log(-t)`;
    - ``"pearson"``: :math:`f = (u - 1)^2`, :math:`g_f(v) = v`,
      :math:`f^*(t) = t^2 / 4 + t`;
    - ``"squared_hellinger"``: :math:`f = (\sqrt u - 1)^2`,
      :math:`g_f(v) = 1 - e^{-v}`, :math:`f^*(t) = t / (1 - t)`;
    - ``"js"``: :math:`f = u \log u - (u + 1) \log \frac{u + 1}{2}`,
      :math:`g_f(v) = \log 2 - \log(1 + e^{-v})`,
      :math:`f^*(t) = -\log(2 - e^t)`;
    - ``"gan"``: :math:`f = u \log u - (u + 1) \log(u + 1)`,
      :math:`g_f(v) = -\log(1 + e^{-v})`, :math:`f^*(t) = -\log(1 - e^t)`;
    - ``"total_variation"``: :math:`f = \tfrac12 |u - 1|`,
      :math:`g_f(v) = \tfrac12 \tanh v`, :math:`f^*(t) = t`.

    So ``"js"`` estimates :math:`2\,JSD` (twice ``jaxdiv.js_divergence``),
    ``"gan"`` :math:`2\,JSD - \log 4`, ``"squared_hellinger"``
    :math:`\sum (\sqrt p - \sqrt q)^2` and ``"total_variation"``
    :math:`\tfrac12 \sum |p - q|`. :math:`f^* \circ g_f` is simplified
    (``softplus(v)`` for ``"gan"``, ``v - 1`` for ``"reverse_kl"``,
    ``expm1(v)`` for ``"squared_hellinger"``); the exponentials are
    continued linearly beyond :math:`v = 44` (:math:`e^{44} \approx
    10^{19}`), which keeps both losses and their gradients finite for
    scores of any magnitude up to about :math:`10^{19}` and changes
    nothing below (for float16 scores the knee is
    :math:`\tfrac12 \log 65504 \approx 5.5`, so that the gradients, which
    come back in float16, stay finite too).

    Args:
      real_scores: critic outputs :math:`v` on samples of P, any shape;
        averaged over all entries.
      fake_scores: critic outputs on samples of Q, any shape (the counts
        may differ); averaged over all entries.
      divergence: one of ``"kl"``, ``"reverse_kl"``, ``"js"``, ``"gan"``,
        ``"pearson"``, ``"squared_hellinger"``, ``"total_variation"``.
      generator: ``"nonsaturating"`` or ``"minimax"``.

    Returns:
      ``(discriminator_loss, generator_loss)``, two scalars (float32 for
      bfloat16/float16 scores), both to be minimised: the discriminator's
      with respect to the critic, the generator's with respect to the
      generator's parameters (through ``fake_scores``).

    Raises:
      TypeError: non-floating scores.
      ValueError: an unknown ``divergence`` or ``generator``, empty scores.

    Examples:
      >>> import jax.numpy as jnp, jaxdiv
      >>> real, fake = jnp.array([2.0, 1.0]), jnp.array([-1.0, -3.0])
      >>> d, g = jaxdiv.losses.f_gan_loss(real, fake, divergence="gan")
      >>> sp = lambda t: jnp.mean(jnp.logaddexp(0.0, t))
      >>> bce = sp(-real) + sp(fake)
      >>> print(round(float(d), 5), round(float(bce), 5))  # the classic GAN
      0.40102 0.40102

    References:
      Nowozin, Cseke and Tomioka, `f-GAN: training generative neural
      samplers using variational divergence minimization
      <https://arxiv.org/abs/1606.00709>`_, 2016, Table 2; Goodfellow et
      al., `Generative adversarial nets <https://arxiv.org/abs/1406.2661>`_,
      2014.
    """
    name = "losses.f_gan_loss"
    divergence = checks.choice(name, "divergence", divergence, DIVERGENCES)
    generator = checks.choice(name, "generator", generator, GENERATOR_LOSSES)
    real, fake = checks.floatings(
        name, real_scores=real_scores, fake_scores=fake_scores
    )
    given = jnp.result_type(jnp.asarray(real_scores), jnp.asarray(fake_scores))
    knee = _knee(given)
    if real.size == 0 or fake.size == 0:
        raise ValueError(
            f"jaxdiv.{name}: scores must be non-empty, got real_scores of shape "
            f"{real.shape} and fake_scores of shape {fake.shape}."
        )
    real_term = jnp.mean(_activation(divergence, real, knee))
    fake_term = jnp.mean(_conjugate_of_activation(divergence, fake, knee))
    bound = real_term - fake_term
    if generator == "minimax":
        generator_loss = bound
    else:
        generator_loss = -jnp.mean(_activation(divergence, fake, knee))
    return -bound, generator_loss
