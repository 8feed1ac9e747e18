"""Every public import path and signature taken before the package was split.

``public_paths_before_the_move.jsonl`` was written from the flat layout
(``jaxdiv/normal.py``, ``jaxdiv/_categorical.py`` ...), one line per public
module and function: its path, and for a function its parameters (name, kind,
default). After the move into ``_core/``, ``_measures/`` and ``families/``
each path must still import, in each of the forms users write, and each
function must keep its parameters.
"""

import importlib
import inspect
import json
import pathlib
import subprocess
import sys

import pytest

import jaxdiv

ROWS = [
    json.loads(line)
    for line in pathlib.Path(__file__)
    .with_name("public_paths_before_the_move.jsonl")
    .read_text()
    .splitlines()
]
MODULES = [r["path"] for r in ROWS if r["kind"] == "module"]
FUNCTIONS = [r for r in ROWS if r["kind"] == "function"]


def _resolve(path):
    obj = jaxdiv
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_the_list_is_complete():
    assert len(MODULES) == 15 and len(FUNCTIONS) == 138


@pytest.mark.parametrize("path", MODULES)
def test_module_imports_in_every_form(path):
    module = importlib.import_module(path)
    assert _resolve(path) is module  # jaxdiv.normal is the module imported
    parent, _, leaf = path.rpartition(".")
    assert getattr(importlib.import_module(parent), leaf) is module


def test_import_statements_in_a_fresh_interpreter():
    """``import jaxdiv.normal`` and ``from jaxdiv.normal import ...`` before
    anything else has imported jaxdiv (the aliases must not depend on it)."""
    code = "\n".join(
        [
            "import jaxdiv.normal, jaxdiv.mvn, jaxdiv.categorical",
            "from jaxdiv.gamma import kl_divergence",
            "from jaxdiv import poisson, bernoulli",
            "import jaxdiv.families.beta as fb, jaxdiv.beta as b",
            "assert fb is b and jaxdiv.normal.__name__ == 'jaxdiv.families.normal'",
            "assert kl_divergence is jaxdiv.gamma.kl_divergence",
        ]
    )
    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("row", FUNCTIONS, ids=[r["path"] for r in FUNCTIONS])
def test_function_keeps_its_parameters(row):
    f = _resolve(row["path"])
    params = [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in inspect.signature(f).parameters.values()
    ]
    assert params == row["params"]
    module, _, name = row["path"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is f
