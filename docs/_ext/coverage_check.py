"""Fail the build when a public name has no entry in the API reference.

The public names are the ``__all__`` of ``jaxdiv`` and of each public
subpackage or module it lists; "documented" means an ``autofunction`` entry
for it somewhere in the site (``_ext/api_reference.py`` makes one from each
bullet of ``docs/api.md``). Run at the end of the build; each missing name is
a warning, so ``-W`` turns it into an error.
"""

from __future__ import annotations

import importlib
import inspect

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def public_names() -> set[str]:
    """Every ``package.name`` a user can reach from ``jaxdiv.__all__``."""
    root = importlib.import_module("jaxdiv")
    names: set[str] = set()
    for name in root.__all__:
        obj = getattr(root, name)
        if inspect.ismodule(obj):
            names |= {f"jaxdiv.{name}.{n}" for n in obj.__all__}  # public paths
        else:
            names.add(f"jaxdiv.{name}")
    return names


def _check(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None:
        return
    documented = set(app.env.get_domain("py").objects)
    for name in sorted(public_names() - documented):
        logger.warning("public name %s has no entry in docs/api.md", name)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
