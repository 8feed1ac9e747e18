"""Typeset math at build time: every ``:math:`` role and ``.. math::`` block
becomes MathML (via ``latex2mathml``), which browsers render natively.

No JavaScript, no CDN: the built HTML already holds the typeset formulas, so
the site reads the same offline. A formula that ``latex2mathml`` cannot
convert is a build warning (and so a build error under ``-W``).
"""

from __future__ import annotations

import html

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _mathml(self, node, latex: str, display: bool) -> str:
    try:
        return convert(latex, display="block" if display else "inline")
    except Exception as err:  # latex2mathml raises many exception types
        logger.warning("cannot typeset %r: %s", latex, err, location=node)
        return f"<code>{html.escape(latex)}</code>"


def visit_math(self, node: nodes.Element) -> None:
    latex = node.astext()
    self.body.append(f'<span class="math">{_mathml(self, node, latex, False)}</span>')
    raise nodes.SkipNode


def visit_math_block(self, node: nodes.Element) -> None:
    if node.get("label"):
        self.body.append(f'<span class="eqno">({node["number"]})</span>')
    latex = node.astext()
    self.body.append(self.starttag(node, "div", CLASS="math"))
    self.body.append(_mathml(self, node, latex, True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
