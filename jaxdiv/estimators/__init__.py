"""Estimators from samples: kNN entropy, KL and mutual information, plug-in
estimators on counts, and variational lower bounds on critic scores.

Pure functions with static sample counts: they ``jit``, ``vmap`` (over a
leading batch of sample sets) and differentiate. See ``docs/api.md``.
"""

from ._bounds import dv_bound as dv_bound
from ._bounds import infonce_bound as infonce_bound
from ._bounds import js_bound as js_bound
from ._bounds import nwj_bound as nwj_bound
from ._knn_estimators import knn_entropy as knn_entropy
from ._knn_estimators import knn_kl_divergence as knn_kl_divergence
from ._knn_estimators import ksg_mutual_information as ksg_mutual_information
from ._plugin import plugin_entropy as plugin_entropy
from ._plugin import plugin_mutual_information as plugin_mutual_information

__all__ = [
    "dv_bound",
    "infonce_bound",
    "js_bound",
    "knn_entropy",
    "knn_kl_divergence",
    "ksg_mutual_information",
    "nwj_bound",
    "plugin_entropy",
    "plugin_mutual_information",
]
