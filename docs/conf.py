"""Sphinx configuration of the skrobust documentation.

Build (warnings are errors, as in CI)::

    python -m pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

No extension here touches the network, and the built site needs none either:
formulas are rendered as MathML at build time (``_ext/mathml_math.py``, no
MathJax), and scikit-learn, NumPy and SciPy names link to their projects'
pages through explicit URLs (``_ext/external_refs.py``) rather than
intersphinx, which would download their inventories.
"""

import os
import re
import sys
import warnings
from datetime import date

# the package is installed (editable) in CI; the path is a fallback for a plain checkout
sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))  # this build's own extensions

import skrobust

project = "skrobust"
author = "skrobust developers"
copyright = f"{date.today().year}, {author}"
version = release = skrobust.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "mathml_math",
    "external_refs",
]
html_math_renderer = "mathml"  # formulas readable offline: no MathJax, no CDN

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True}  # class pages add :inherited-members:
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists the methods instead
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# link the NumPy types of parameter and return lists (only these words: "all" ignores others)
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "dtype": "numpy.dtype",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
}

# -- sphinx-gallery ---------------------------------------------------------
# Examples that need a feature which has not landed in skrobust yet.  Each one
# is written against the API of its issue; remove it from this list (and run
# the build) once the feature is in the package.
PENDING_EXAMPLES: list[str] = []  # e.g. ["plot_new_feature.py"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|" + "|".join(n.replace(".", r"\.") for n in PENDING_EXAMPLES)
    if PENDING_EXAMPLES
    else r"__init__\.py",
    "doc_module": ("skrobust",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "reference_url": {"skrobust": None},
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 1,
    # the execution-time pages load jQuery and DataTables from CDNs: the site stays offline
    "write_computation_times": False,
    "matplotlib_animations": False,
}

# -- matplotlib plot directive (the loss plots of the user guide) -----------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 96)]
plot_rcparams = {"figure.autolayout": True}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skrobust {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "install": [], "quick_start": []}

# matplotlib in the gallery and plot directive runs headless
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)


# -- hooks ----------------------------------------------------------------------
_BARE_TERM = re.compile(r"^(\s+)[A-Za-z_]\w* : \S.*$")


def _fill_bare_terms(app, what, name, obj, options, lines):
    """Give a body to description-less terms of nested lists in docstrings.

    A nested "name : type" list (for example the attributes of a returned Bunch)
    whose entry has no description is not valid reStructuredText when the next
    entry follows directly: docutils reads the lines as one paragraph and stops
    at the next indented description.  An empty comment as the missing body keeps
    the list a definition list.  Runs after numpydoc, whose own fields start with
    ``**`` and never match.
    """
    i = 0
    while i < len(lines) - 1:
        m = _BARE_TERM.match(lines[i])
        nxt = _BARE_TERM.match(lines[i + 1])
        if m and nxt and nxt.group(1) == m.group(1):
            lines[i + 1 : i + 1] = [m.group(1) + "    ..", ""]
            i += 3
        else:
            i += 1


_BULLET = re.compile(r"^(\s*)[-*] \S")


def _separate_lists(app, what, name, obj, options, lines):
    """Put a blank line between a paragraph and a bullet list that follows it directly.

    reStructuredText needs the blank line; without it docutils reports
    "Unexpected indentation" for the list item's continuation lines.  The
    rendering is then the one the docstring's author meant.
    """
    i = 1
    while i < len(lines):
        m = _BULLET.match(lines[i])
        prev = lines[i - 1]
        if (m and prev.strip() and not _BULLET.match(prev)
                and len(prev) - len(prev.lstrip()) == len(m.group(1))):
            lines.insert(i, "")
            i += 1
        i += 1


def _check_api_coverage(app):
    """Warn (an error under -W) when a public name is missing from api.rst."""
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    with open(os.path.join(app.srcdir, "api.rst"), encoding="utf-8") as f:
        api = f.read()
    listed = set(re.findall(r"^\s{3}([\w.]+)\s*$", api, flags=re.M))
    modules = {
        "skrobust": "",
        "skrobust.losses": "",
        "skrobust.losses.classification": "classification.",
        "skrobust.losses.probability": "probability.",
        "skrobust.losses.margin": "margin.",
        "skrobust.datasets": "",
        "skrobust.metrics": "",
        "skrobust.label_issues": "label_issues.",
        "skrobust.dask": "",
        "skrobust.inference": "",
        "skrobust.inspection": "",
    }
    for modname, prefix in modules.items():
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        for public in getattr(module, "__all__", []):
            try:
                obj = getattr(module, public, None)
            except ImportError as exc:  # a lazily imported submodule that fails
                logger.warning(f"{modname}.{public} does not import: {exc}")
                continue
            if obj is None or type(obj).__name__ == "module" or not callable(obj):
                continue  # submodules and constants
            candidates = {public, prefix + public}
            if modname == "skrobust.label_issues" and public in skrobust.__all__:
                continue  # listed as skrobust.<name>
            if not candidates & listed:
                logger.warning(f"{modname}.{public} is public but not listed in docs/api.rst")


def setup(app):
    app.connect("autodoc-process-docstring", _fill_bare_terms)
    app.connect("autodoc-process-docstring", _separate_lists)
    app.connect("builder-inited", _check_api_coverage)
