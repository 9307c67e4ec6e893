"""Render the documentation's LaTeX as MathML when the HTML is built.

Browsers display MathML natively, so the built pages show their formulas
without JavaScript and without a network (MathJax from a CDN would leave raw
LaTeX on a machine that is offline).  The conversion is docutils' own
(``docutils.utils.math.latex2mathml``): no dependency beyond Sphinx.
"""

import re

from docutils import nodes
from docutils.utils.math import latex2mathml
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)


# LaTeX that only sets sizes or styles, which docutils' converter does not support in
# every position (\Big/, a \textstyle after other tokens): MathML sizes delimiters itself
_SIZE_AND_STYLE = re.compile(r"\\(?:[Bb]igg?[lrm]?|textstyle|displaystyle)(?![A-Za-z])")


def to_mathml(latex, *, block):
    """MathML of a LaTeX formula; a formula the converter refuses is retried without its
    size and style commands.  Raises docutils' error when that fails too."""
    try:
        return latex2mathml.tex2mathml(latex, as_block=block)
    except Exception:  # docutils raises several types for unsupported LaTeX
        simpler = _SIZE_AND_STYLE.sub("", latex)
        if simpler == latex:
            raise
        return latex2mathml.tex2mathml(simpler, as_block=block)


def _to_mathml(latex, node, *, block):
    try:
        return to_mathml(latex, block=block)
    except Exception as exc:
        logger.warning(f"LaTeX not converted to MathML ({exc}): {latex!r}", location=node)
        return f"<code>{latex}</code>"


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_to_mathml(node.astext(), node, block=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_math_block(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    # equations separated by a blank line are displayed one below the other
    for part in (p for p in node.astext().split("\n\n") if p.strip()):
        self.body.append(_to_mathml(part, node, block=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
