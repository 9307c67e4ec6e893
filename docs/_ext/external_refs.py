"""Link scikit-learn, NumPy and SciPy names to their online documentation, without a network.

intersphinx would download each project's ``objects.inv`` inventory at build
time.  Instead, a reference Sphinx cannot resolve (``missing-reference``)
whose target is a ``sklearn.``, ``numpy.`` or ``scipy.`` object becomes an
explicit link, built from the URL scheme of that project's API pages.  The
target must import (from the installed package), so a misspelt name is
reported, not linked to a page that does not exist.  The few labels and
glossary terms that scikit-learn's own docstrings use (inherited methods such
as ``score``) map to fixed pages.
"""

import importlib

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

SKLEARN = "https://scikit-learn.org/stable/"
NUMPY = "https://numpy.org/doc/stable/reference/"
SCIPY = "https://docs.scipy.org/doc/scipy/reference/"
PYTHON = "https://docs.python.org/3/"

# page of an object or of its class, for each package: (url prefix, page template)
_API_PAGES = {
    "sklearn": SKLEARN + "modules/generated/{page}.html",
    "numpy": NUMPY + "generated/{page}.html",
    "scipy": SCIPY + "generated/{page}.html",
}
# objects documented on a shared page rather than one of their own
_SHARED_PAGES = {
    "numpy.random.Generator": NUMPY + "random/generator.html",
    "numpy.random.default_rng": NUMPY + "random/generator.html",
    "numpy.random.RandomState": NUMPY + "random/legacy.html",
    "numpy.inf": NUMPY + "constants.html",
    "numpy.nan": NUMPY + "constants.html",
}
# labels and glossary terms of scikit-learn's user guide, used by inherited docstrings
_SKLEARN_LABELS = {
    "metadata_routing": SKLEARN + "metadata_routing.html",
    "r2_score": SKLEARN + "modules/model_evaluation.html#r2-score",
    "accuracy_score": SKLEARN + "modules/model_evaluation.html#accuracy-score",
    "meta-estimator": SKLEARN + "glossary.html#term-meta-estimator",
    "array-like": SKLEARN + "glossary.html#term-array-like",
}
# the intersphinx targets numpydoc gives the types of parameter lists ("bool", "array-like")
_INTERSPHINX_TARGETS = {
    "numpy:array_like": NUMPY.replace("reference/", "glossary.html#term-array_like"),
    "numpy:arrays.scalars": NUMPY + "arrays.scalars.html",
    "python:bltin-boolean-values": PYTHON + "library/stdtypes.html#boolean-type-bool",
    "python:iterable": PYTHON + "glossary.html#term-iterable",
    "python:sequence": PYTHON + "glossary.html#term-sequence",
    "python:generator": PYTHON + "glossary.html#term-generator",
    "python:None": PYTHON + "library/constants.html#None",
    "python:True": PYTHON + "library/constants.html#True",
    "python:False": PYTHON + "library/constants.html#False",
    "python:callable": PYTHON + "library/functions.html#callable",
    **{f"python:{t}": PYTHON + f"library/stdtypes.html#{t}" for t in
       ("list", "tuple", "str", "dict")},
    **{f"python:{t}": PYTHON + f"library/functions.html#{t}" for t in ("int", "float")},
}


def _split(target):
    """(longest importable module name, the attribute names after it), or None if the
    attributes do not exist."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return None
            obj = getattr(obj, attr)
        return ".".join(parts[:i]), parts[i:]
    return None


def url_of(target):
    """The documentation URL of a scikit-learn, NumPy or SciPy object, or None."""
    package = target.split(".")[0]
    if package not in _API_PAGES:
        return None
    if target in _SHARED_PAGES:
        return f"{_SHARED_PAGES[target]}#{target}"
    split = _split(target)
    if split is None:
        return None
    module, attrs = split
    if not attrs:  # a module
        if package == "sklearn":
            return f"{SKLEARN}api/{target}.html"
        if package == "scipy" and target.count(".") == 1:
            return f"{SCIPY}{target.split('.')[1]}.html"
        return (NUMPY if package == "numpy" else SCIPY) + "index.html"
    # scikit-learn documents methods on their class's page; NumPy and SciPy give each a page
    page = f"{module}.{attrs[0]}" if package == "sklearn" else target
    url = _API_PAGES[package].format(page=page)
    return url if page == target else f"{url}#{target}"


def _missing_reference(app, env, node, contnode):
    target = node.get("reftarget", "")
    if target in _INTERSPHINX_TARGETS:
        url = _INTERSPHINX_TARGETS[target]
    elif node.get("refdomain") == "std" and target in _SKLEARN_LABELS:
        url = _SKLEARN_LABELS[target]
    elif node.get("refdomain") == "py" and target.split(".")[0] in _API_PAGES:
        url = url_of(target)
        if url is None:
            logger.warning(f"{target!r} is not an importable object: no link", location=node)
            return None
    else:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url, reftitle=target)
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", _missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
