"""Losses in machine-learning order ``(predictions, targets)``, per example.

A drop-in for the entropy / cross-entropy / KL family of ``optax.losses``
(same names, positional arguments and output shapes; finite, correct values
where optax's are nan), plus distillation, RLHF KL penalties, an exact
cross-device masked mean, and the policy-gradient (PPO, GRPO and kin) and
preference (DPO, SimPO, ORPO) losses of RL fine-tuning. Every loss is built
on a ``jaxdiv`` measure.
"""

from ._cross_entropy import poly_loss_cross_entropy as poly_loss_cross_entropy
from ._cross_entropy import (
    safe_softmax_cross_entropy as safe_softmax_cross_entropy,
)
from ._cross_entropy import softmax_cross_entropy as softmax_cross_entropy
from ._cross_entropy import (
    softmax_cross_entropy_with_integer_labels as softmax_cross_entropy_with_integer_labels,  # noqa: E501
)
from ._distillation import distillation_loss as distillation_loss
from ._distillation import kl_penalty as kl_penalty
from ._fgan import f_gan_loss as f_gan_loss
from ._kl import convex_kl_divergence as convex_kl_divergence
from ._kl import generalized_kl_divergence as generalized_kl_divergence
from ._kl import kl_divergence as kl_divergence
from ._kl import (
    kl_divergence_with_log_targets as kl_divergence_with_log_targets,
)
from ._policy import group_advantages as group_advantages
from ._policy import policy_gradient_loss as policy_gradient_loss
from ._policy import sequence_log_probs as sequence_log_probs
from ._preference import dpo_loss as dpo_loss
from ._preference import orpo_loss as orpo_loss
from ._preference import simpo_loss as simpo_loss
from ._reductions import masked_mean as masked_mean
from ._sigmoid import (
    sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy,
)
from ._sigmoid import sigmoid_focal_loss as sigmoid_focal_loss
from ._smoothing import smooth_labels as smooth_labels

__all__ = [
    "convex_kl_divergence",
    "distillation_loss",
    "dpo_loss",
    "f_gan_loss",
    "generalized_kl_divergence",
    "group_advantages",
    "kl_divergence",
    "kl_divergence_with_log_targets",
    "kl_penalty",
    "masked_mean",
    "orpo_loss",
    "policy_gradient_loss",
    "poly_loss_cross_entropy",
    "safe_softmax_cross_entropy",
    "sequence_log_probs",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "simpo_loss",
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
]
