"""Render ``docs/api.md`` as the API reference.

``api.md`` lists every public name as a bullet ``- `jaxdiv.some.name```
(``tests/integration/test_public_api.py`` checks that list against
``__all__``). When Sphinx reads the file, each such bullet becomes an
``autofunction`` entry (inside
``eval-rst``: autodoc emits reST, which MyST would read as Markdown), so the
rendered page shows the full docstring (math typeset, shapes, doctest) at the
place the list names it, and the prose between the lists stays as written.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

_BULLET = re.compile(r"^- `(jaxdiv(?:\.\w+)+)`\s*$", re.M)


def _expand(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname != "api":
        return
    source[0] = _BULLET.sub(
        lambda m: f"```{{eval-rst}}\n.. autofunction:: {m.group(1)}\n```\n",
        source[0],
    )


def setup(app: Sphinx) -> dict:
    app.connect("source-read", _expand)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
