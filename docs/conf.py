"""Sphinx configuration of the jaxdiv documentation site.

Build it with ``python docs/build.py`` (doctests, then HTML with warnings as
errors). Math is typeset into MathML at build time by ``_ext/mathml.py``;
``_ext/coverage_check.py`` fails the build when a public name has no entry;
``_ext/api_reference.py`` turns the name list of ``api.md`` into autodoc
entries, so the list users read on GitHub and the rendered reference are one
file.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

project = "jaxdiv"
author = "jaxdiv developers"
copyright = "2026, jaxdiv developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
    "mathml",
    "api_reference",
    "coverage_check",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "README.md"]
root_doc = "index"

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# The Args sections give shapes and meanings; jax.typing.ArrayLike would
# otherwise expand into a nine-member union at every argument.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_math_renderer = "mathml"
html_theme = "furo"
html_title = "jaxdiv"
html_static_path = ["_static"]
html_css_files = ["jaxdiv.css"]
nitpicky = False
