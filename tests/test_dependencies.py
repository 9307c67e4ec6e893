"""Every third-party import of the repository is declared in pyproject.toml.

A fresh clone is installed with the README's commands only, so a module that the
package, the tests, the examples, the docs or the benchmarks import without declaring
it works on a developer's machine and fails for a user. Each folder may use the core
dependencies plus the extras its install command brings in.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

# import name -> distribution name, where they differ
DISTRIBUTION_OF = {
    "sklearn": "scikit-learn",
    "mpl_toolkits": "matplotlib",
    "_pytest": "pytest",
    "yaml": "pyyaml",
    "PIL": "pillow",
}

# folder -> extras that the README's command for it installs besides the core dependencies
EXTRAS_FOR = {
    "skrobust": ("test", "dask", "docs", "bench"),  # lazily imported optional dependencies
    "tests": ("test", "dask", "docs"),  # README: pip install -e ".[test,dask,docs]"
    "examples": ("docs",),  # run by sphinx-gallery in the docs build
    "docs": ("docs",),
    "benchmarks": ("bench",),
}


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement):
    return _normalise(re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0])


def _declared(meta, extra, seen=None):
    """Distributions an extra brings in, following self-references like skrobust[dask]."""
    seen = set() if seen is None else seen
    names = set()
    for requirement in meta["optional-dependencies"].get(extra, []):
        name = _requirement_name(requirement)
        if name == _normalise(meta["name"]):
            for inner in re.findall(r"\[(.*?)\]", requirement)[0].split(","):
                if inner.strip() not in seen:
                    seen.add(inner.strip())
                    names |= _declared(meta, inner.strip(), seen)
        else:
            names.add(name)
    return names


def _third_party_imports(folder):
    # the repository's own modules (tests import docs/_ext helpers by path, for instance)
    local = {"skrobust", "conftest"} | {
        p.stem for name in EXTRAS_FOR for p in (ROOT / name).rglob("*.py")
    }
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "_build" in path.parts or "auto_examples" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.mark.parametrize("folder", sorted(EXTRAS_FOR))
def test_every_import_is_declared(project, folder):
    allowed = {_requirement_name(r) for r in project["dependencies"]}
    for extra in EXTRAS_FOR[folder]:
        allowed |= _declared(project, extra)
    imports = _third_party_imports(folder)
    assert imports, f"no third-party import found in {folder}/: the parser is broken"
    missing = {
        module: where
        for module, where in imports.items()
        if _normalise(DISTRIBUTION_OF.get(module, module)) not in allowed
    }
    assert not missing, (
        f"{folder}/ imports modules that no dependency or extra {EXTRAS_FOR[folder]} of "
        f"pyproject.toml declares (module: first file): {missing}"
    )


def test_the_checker_catches_an_undeclared_import(project, tmp_path, monkeypatch):
    # The check above must be able to fail: an import of a package that nothing declares.
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "mod.py").write_text("import numpy\nfrom requests import get\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    imports = _third_party_imports("probe")
    allowed = {_requirement_name(r) for r in project["dependencies"]}
    assert set(imports) == {"numpy", "requests"}
    assert _normalise("requests") not in allowed and _normalise("numpy") in allowed


def test_bench_extra_follows_its_self_reference(project):
    assert {"dask", "distributed", "statsmodels"} <= _declared(project, "bench")
