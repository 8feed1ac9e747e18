"""The public surface is exactly what docs/api.md documents, each name with
a docstring that carries its math and a doctest (run by --doctest-modules)."""

import importlib
import inspect
import pathlib
import re

import pytest

import jaxdiv

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "api.md"
# Public callables that are not mathematical measures: no formula expected.
NO_MATH = {"jaxdiv.value_checks"}


def _documented() -> dict[str, set[str]]:
    """Maps each documented package ('jaxdiv', 'jaxdiv.losses', ...) to names."""
    out: dict[str, set[str]] = {}
    for dotted in re.findall(r"^- `(jaxdiv(?:\.\w+)+)`", DOCS.read_text(), re.M):
        package, _, name = dotted.rpartition(".")
        out.setdefault(package, set()).add(name)
    return out


def test_docs_list_something():
    assert len(_documented()["jaxdiv"]) >= 17


@pytest.mark.parametrize("package", sorted(_documented()))
def test_all_is_exactly_the_documented_set(package):
    module = importlib.import_module(package)
    documented = _documented()[package]
    if package == "jaxdiv":  # public submodules are listed under their own heading
        documented |= {p.split(".")[1] for p in _documented() if p != "jaxdiv"}
    assert set(module.__all__) == documented
    assert len(module.__all__) == len(set(module.__all__))


def _public_callables():
    for package, names in sorted(_documented().items()):
        module = importlib.import_module(package)
        for name in sorted(names):
            obj = getattr(module, name)
            if callable(obj) and not inspect.ismodule(obj):
                yield f"{package}.{name}", obj


@pytest.mark.parametrize("dotted,obj", list(_public_callables()))
def test_docstring_has_math_and_doctest(dotted, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{dotted} has no docstring"
    assert ">>>" in doc and "Examples:" in doc, f"{dotted} has no doctest"
    if dotted not in NO_MATH:
        assert "math::" in doc or ":math:" in doc, f"{dotted} shows no math"
    assert "Args:" in doc and "Returns:" in doc, f"{dotted}: Args/Returns missing"


def test_version_is_a_string():
    assert isinstance(jaxdiv.__version__, str) and jaxdiv.__version__
