"""optax's own tests of its losses, run against ``jaxdiv.losses``.

optax ships ``optax/losses/_classification_test.py`` and ``_smoothing_test.py``
in its wheel. They do ``from optax.losses import _classification`` and call
``_classification.<loss>``; here each file is executed with that module
attribute pointing at ``jaxdiv.losses`` instead, so the very same test code
(absltest / parameterized, collected by pytest) exercises our drop-ins. The
classes for losses that jaxdiv does not provide are listed in ``NOT_PROVIDED``
and not run; a class that appears in a future optax and is in neither list
fails ``test_every_optax_class_is_accounted_for``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import unittest

import optax.losses
import pytest

import jaxdiv.losses

_DIR = pathlib.Path(optax.losses.__file__).resolve().parent

# Classes testing losses that jaxdiv.losses deliberately does not provide.
NOT_PROVIDED = {
    "_classification": {
        "HingeTest": "hinge_loss / multiclass_hinge_loss",
        "SparsemaxTest": "sparsemax_loss / multiclass_sparsemax_loss",
        "PerceptronTest": "perceptron_loss / multiclass_perceptron_loss",
        "CTCTest": "ctc_loss",
    },
    "_smoothing": {},
}

# Classes run against jaxdiv.losses.
RUN = {
    "_classification": [
        "SoftmaxCrossEntropyTest",
        "SafeSoftmaxCrossEntropyTest",
        "SoftmaxCrossEntropyWithIntegerLabelsTest",
        "SigmoidCrossEntropyTest",
        "PolyLossTest",
        "GeneralizedKLDivergenceTest",
        "KLDivergenceTest",
        "KLDivergenceWithLogTargetsTest",
        "SigmoidFocalLossTest",
    ],
    "_smoothing": ["SmoothLabelsTest"],
}

# Individual optax cases that jaxdiv fails on purpose: {(class, method): reason}.
DESELECTED: dict[tuple[str, str], str] = {}


def _load(module: str):
    """Executes optax's ``<module>_test.py`` with ``optax.losses.<module>``
    replaced by ``jaxdiv.losses`` for the duration of its imports."""
    path = _DIR / f"{module}_test.py"
    spec = importlib.util.spec_from_file_location(f"optax_suite{module}_test", path)
    test_module = importlib.util.module_from_spec(spec)
    original = getattr(optax.losses, module)
    setattr(optax.losses, module, jaxdiv.losses)
    try:
        spec.loader.exec_module(test_module)
    finally:
        setattr(optax.losses, module, original)
    assert getattr(test_module, module) is jaxdiv.losses
    return test_module


def _test_classes(test_module) -> set[str]:
    return {
        name
        for name, obj in vars(test_module).items()
        if isinstance(obj, type) and issubclass(obj, unittest.TestCase)
    }


_MODULES = {module: _load(module) for module in RUN}


@pytest.mark.parametrize("module", sorted(RUN))
def test_every_optax_class_is_accounted_for(module):
    found = _test_classes(_MODULES[module])
    assert found == set(RUN[module]) | set(NOT_PROVIDED[module])
    assert not set(RUN[module]) & set(NOT_PROVIDED[module])


def test_not_provided_losses_are_really_absent():
    for names in NOT_PROVIDED["_classification"].values():
        for name in names.split(" / "):
            assert not hasattr(jaxdiv.losses, name)


# Expose the selected classes to pytest under this module's namespace.
for _module, _names in RUN.items():
    for _name in _names:
        _cls = type(_name, (getattr(_MODULES[_module], _name),), {})
        _cls.__module__ = __name__
        _cls.__qualname__ = _name
        for (_c, _method), _reason in DESELECTED.items():
            if _c == _name:
                setattr(_cls, _method, unittest.skip(_reason)(getattr(_cls, _method)))
        globals()[f"Optax{_name}"] = _cls
del _module, _names, _name, _cls
