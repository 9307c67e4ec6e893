"""The documentation's offline pieces (docs/_ext): MathML formulas and explicit external links.

The docs build checks them too (warnings are errors), but it takes minutes; these
tests fail in seconds when a new formula uses LaTeX the MathML converter lacks, or
when the link scheme breaks.
"""

import importlib.util
import re
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extensions need Sphinx (the docs extra)")

ROOT = Path(__file__).resolve().parents[1]


def _docs_extension(name):
    """A module of docs/_ext, loaded from its file (the docs folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


url_of = _docs_extension("external_refs").url_of
to_mathml = _docs_extension("mathml_math").to_mathml


def _formulas():
    """(file, LaTeX, block) of every formula in the user guide and the gallery."""
    found = []
    for path in sorted((ROOT / "docs").glob("*.rst")) + sorted((ROOT / "examples").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            text = text.replace("\\\\", "\\")  # formulas inside Python strings
        found += [(path.name, m, False) for m in re.findall(r":math:`([^`]*)`", text)]
        # a block's body: the lines indented deeper than its directive
        for block in re.finditer(r"^( *)\.\. math::\n((?:[ \t]*\n|\1   .*\n)+)", text, re.M):
            body = textwrap.dedent(block.group(2))
            found += [(path.name, part, True) for part in re.split(r"\n\s*\n", body.strip())
                      if part.strip() and not part.lstrip().startswith(":")]
    return found


def test_every_formula_converts_to_mathml():
    formulas = _formulas()
    assert len(formulas) > 150  # the user guide's formulas were all found
    for name, latex, block in formulas:
        assert to_mathml(latex, block=block).startswith("<math"), (name, latex)


def test_size_and_style_commands_the_converter_refuses_are_dropped():
    latex = r"a = x \Big/ \tfrac1n \textstyle\sum_i y_i, \qquad V = \Big[\sum_i z_i\Big]"
    assert to_mathml(latex, block=True) == to_mathml(
        r"a = x / \tfrac1n \sum_i y_i, \qquad V = [\sum_i z_i]", block=True)
    with pytest.raises(Exception, match="notacommand"):
        to_mathml(r"\notacommand x", block=False)


def test_the_build_uses_mathml_and_no_network_extension():
    conf = (ROOT / "docs" / "conf.py").read_text(encoding="utf-8")
    assert '"sphinx.ext.mathjax"' not in conf and '"sphinx.ext.intersphinx"' not in conf
    assert 'html_math_renderer = "mathml"' in conf


@pytest.mark.parametrize("target, url", [
    ("sklearn.linear_model.HuberRegressor",
     "https://scikit-learn.org/stable/modules/generated/sklearn.linear_model.HuberRegressor.html"),
    ("sklearn.linear_model.HuberRegressor.fit",
     "https://scikit-learn.org/stable/modules/generated/sklearn.linear_model.HuberRegressor.html"
     "#sklearn.linear_model.HuberRegressor.fit"),
    ("sklearn.metrics", "https://scikit-learn.org/stable/api/sklearn.metrics.html"),
    ("numpy.ndarray", "https://numpy.org/doc/stable/reference/generated/numpy.ndarray.html"),
    ("numpy.random.Generator",
     "https://numpy.org/doc/stable/reference/random/generator.html#numpy.random.Generator"),
    ("scipy.optimize.minimize",
     "https://docs.scipy.org/doc/scipy/reference/generated/scipy.optimize.minimize.html"),
    ("scipy.optimize", "https://docs.scipy.org/doc/scipy/reference/optimize.html"),
])
def test_external_names_link_to_their_pages(target, url):
    assert url_of(target) == url


@pytest.mark.parametrize("target", ["sklearn.linear_model.HuberRegresor", "numpy.medain",
                                    "pandas.DataFrame", "skrobust.RobustRegressor"])
def test_misspelt_or_foreign_names_get_no_link(target):
    assert url_of(target) is None
