"""Hardening of the periphery (issue 22): losses, kernels, label issues, imports, threads.

Each test is the shrunk reproducer of one hardening item: it failed before the
fix and passes after.
"""

import math

import numpy as np
import pytest

from skrobust.losses import available_losses, get_loss
from skrobust.losses.classification import (
    available_classification_losses,
    get_classification_loss,
)
from skrobust.losses.margin import BarronMargin
from skrobust.losses.probability import Blurry, PiecewiseZero

# ------------------------------------------------------- losses: NaN in, NaN out

_REGRESSION_LOSSES = [get_loss(name) for name in available_losses()] + [
    get_loss("barron", shape=s) for s in (2.0, -math.inf, math.inf, 0.5, -7.0)]
_CLASSIFICATION_LOSSES = [get_classification_loss(n) for n in available_classification_losses()] + [
    Blurry(gamma=0.3, back_off=True), Blurry(gamma=0.5, detach_weight=True),
    PiecewiseZero(cutoff=0.3, cutoff_mode="absolute"), BarronMargin(shape=-math.inf)]


def _methods(loss):
    if getattr(loss, "kind", None) == "margin":
        return ("rho", "derivative", "second_derivative", "weight", "robustness_weight")
    if getattr(loss, "kind", None) == "probability":
        return ("rho", "weight", "derivative", "robustness_weight", "rho_log", "weight_log")
    return ("rho", "psi", "weight", "psi_deriv")


@pytest.mark.parametrize("loss", _REGRESSION_LOSSES + _CLASSIFICATION_LOSSES, ids=repr)
def test_loss_maps_nan_to_nan(loss):
    # huber's rho(nan) was 1.8e308, tukey's 3.66, piecewise_zero's weight 0
    probability = getattr(loss, "kind", None) == "probability"
    finite = np.array([0.25, 0.5]) if probability else np.array([-3.0, 0.5, 40.0])
    x = np.concatenate([finite[:1], [np.nan], finite[1:]])
    for method in _methods(loss):
        arg = np.log(x) if method.endswith("_log") else x
        out = getattr(loss, method)(arg)
        assert np.isnan(out[1]), (method, out)
        ref = getattr(loss, method)(np.log(finite) if method.endswith("_log") else finite)
        np.testing.assert_array_equal(np.delete(out, 1), ref)


@pytest.mark.parametrize("loss", _REGRESSION_LOSSES[:8] + _CLASSIFICATION_LOSSES, ids=repr)
def test_loss_rejects_complex_input(loss):
    # the classification losses dropped the imaginary part (ComplexWarning only)
    for method in _methods(loss):
        with pytest.raises(TypeError, match="real numeric array"):
            getattr(loss, method)(np.array([0.5 + 1j]))


# ------------------------------------------------------- label issues: NaN labels

@pytest.mark.parametrize("missing", [np.nan, None])
def test_find_label_issues_rejects_missing_labels(missing):
    # NaN labels were a class of their own (and None a TypeError from the sort)
    from sklearn.linear_model import LogisticRegression

    from skrobust.label_issues import find_label_issues, find_label_issues_from_probs

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(float) if missing is not None else \
        np.where(X[:, 0] > 0, "a", "b").astype(object)
    y[[3, 7]] = missing
    with pytest.raises(ValueError, match="2 missing values .*first at index 3"):
        find_label_issues(LogisticRegression(), X, y, cv=3)
    probs = np.full((40, 3), 1 / 3) if missing is not None else np.full((40, 2), 0.5)
    with pytest.raises(ValueError, match="missing values"):
        find_label_issues_from_probs(y, probs)


# ------------------------------------------------------- kernels: finiteness and cost

def _kernel_data(n=30, classifier=False):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    y = (X[:, 0] > 0).astype(int) if classifier else X[:, 0] + 0.1 * rng.standard_normal(n)
    return X, y


def _nan_kernel(A, B):
    return np.nan


@pytest.mark.parametrize("classifier", [False, True], ids=["regressor", "classifier"])
@pytest.mark.parametrize("params, scale", [
    ({"kernel": "poly", "degree": 40}, 1e10),
    ({"kernel": "rbf"}, 1e155),
    ({"kernel": _nan_kernel}, 1.0),
    ({"kernel": "poly", "degree": 40, "n_components": 10, "random_state": 0}, 1e10),
], ids=["poly", "rbf", "callable-nan", "poly-nystroem"])
def test_kernel_fit_rejects_non_finite_kernel(classifier, params, scale):
    # the exact models returned all-NaN predictions without a word; Nystroem raised
    # "SVD did not converge"
    from skrobust import RobustClassifier, RobustRegressor

    X, y = _kernel_data(classifier=classifier)
    est = (RobustClassifier if classifier else RobustRegressor)(**params)
    with pytest.raises(ValueError, match="non-finite .*kernel overflows"):
        est.fit(X * scale, y)


@pytest.mark.parametrize("classifier", [False, True], ids=["regressor", "classifier"])
@pytest.mark.parametrize("n_components", [None, 10])
def test_kernel_predict_rejects_non_finite_kernel(classifier, n_components):
    from skrobust import RobustClassifier, RobustRegressor

    X, y = _kernel_data(classifier=classifier)
    est = (RobustClassifier if classifier else RobustRegressor)(
        kernel="poly", degree=40, n_components=n_components, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="prediction .* non-finite"):
        est.predict(X * 1e10)


@pytest.mark.parametrize("classifier", [False, True], ids=["regressor", "classifier"])
def test_large_exact_kernel_warning_states_memory_and_complexity(monkeypatch, classifier):
    # the warning said O(n**3) per iteration (the docs: O(n**2)) and nothing about memory
    from skrobust import RobustClassifier, RobustRegressor
    from skrobust import _kernels as kernels_module

    monkeypatch.setattr(kernels_module, "EXACT_KERNEL_WARN_SAMPLES", 50)
    X, y = _kernel_data(60, classifier)
    matrix_kb = 8 * 60 * 60 / 1000
    peak = "130 kB" if classifier else "31.7 kB"
    complexity = ("an O\\(n\\*\\*3\\) eigendecomposition" if classifier
                  else "O\\(n\\*\\*2\\) per iteration")
    est = (RobustClassifier if classifier else RobustRegressor)(kernel="rbf")
    with pytest.warns(UserWarning, match=f"kernel matrix \\({matrix_kb} kB\\) and needs about "
                                         f"{peak} of memory; its time is {complexity}"):
        est.fit(X, y)


# ------------------------------------------------------- threads: the BLAS limit

_BLAS_SCRIPT = """
import threading

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_info

from skrobust.solvers.adaptive_barron import single_threaded_blas


def blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()


def fit_a():
    with single_threaded_blas():
        a_inside.set()
        assert b_inside.wait(60)
    a_done.set()


def fit_b():
    with single_threaded_blas():
        b_inside.set()
        assert a_done.wait(60)


before = blas_threads()
threads = [threading.Thread(target=fit_a), threading.Thread(target=fit_b)]
threads[0].start()
assert a_inside.wait(60)
threads[1].start()
for thread in threads:
    thread.join()
print(before, blas_threads())
"""


def test_concurrent_blas_limits_restore_the_process_limit():
    # two adaptive fits in threads: A limits BLAS to 1 thread (saving 2), B enters (saving
    # 1), A leaves (restoring 2), B leaves (restoring 1): the process stayed at one thread.
    # In a fresh process: pytest's session-wide limit changes how OpenBLAS sees threads.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _BLAS_SCRIPT], capture_output=True, text=True,
                         timeout=300, env=_worktree_env())
    assert out.returncode == 0, out.stderr
    before, after = out.stdout.strip().split("] [")
    assert before.strip("[") == after.strip("]"), out.stdout


def _worktree_env():
    # the subprocess imports this checkout's skrobust
    import os
    from pathlib import Path

    import skrobust

    env = dict(os.environ)
    root = str(Path(skrobust.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


# ------------------------------------------------------- numba: read-only installation

_READ_ONLY_SCRIPT = """
import numpy as np

import skrobust
from skrobust import RobustClassifier, RobustRegressor
from skrobust.losses import get_loss

assert skrobust.__file__.startswith(PACKAGE_ROOT), skrobust.__file__
rng = np.random.default_rng(0)
X = rng.standard_normal((60, 2))
y = X @ [1.0, -1.0] + rng.standard_normal(60)
RobustRegressor(loss="tukey").fit(X, y)
RobustRegressor(loss="barron").fit(X, y)
RobustClassifier(loss="gce").fit(X, y > 0)
print(float(get_loss("huber").rho(3.0)))
"""


def test_import_and_fit_without_a_writable_numba_cache(tmp_path):
    # "RuntimeError: cannot cache function ...: no locator available" at import when the
    # package is installed read-only and neither HOME nor NUMBA_CACHE_DIR is writable.
    # As root chmod does not stop writes, so every cache location numba tries is made
    # impossible to create: the package's __pycache__ directories are regular files, and
    # NUMBA_CACHE_DIR, HOME and XDG_CACHE_HOME lie below a regular file.
    import os
    import shutil
    import stat
    import subprocess
    import sys
    from pathlib import Path

    import skrobust

    source = Path(skrobust.__file__).resolve().parent
    root = tmp_path / "site"
    shutil.copytree(source, root / "skrobust",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for folder in [root / "skrobust", *(root / "skrobust").rglob("*")]:
        if folder.is_dir():
            (folder / "__pycache__").write_text("not a directory")
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file")
    for path in sorted(root.rglob("*"), reverse=True):
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1",
               NUMBA_CACHE_DIR=str(blocker / "numba"), HOME=str(blocker / "home"),
               XDG_CACHE_HOME=str(blocker / "cache"))
    script = f"PACKAGE_ROOT = {str(root)!r}\n" + _READ_ONLY_SCRIPT
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=900, env=env, cwd=tmp_path)
    finally:
        for path in root.rglob("*"):
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == str(float(get_loss("huber").rho(3.0)))
    assert not list(root.rglob("*.nbi")), "nothing may be written into the package"


# ------------------------------------------------------- kernel MM start: tied inputs

@pytest.mark.parametrize("params", [{"gamma": 10.0}, {"n_components": 30}],
                         ids=["exact", "nystroem"])
def test_kernel_mm_start_fits_tied_inputs(params):
    # x rounded to 0.1 (61 distinct values in 200 rows): "all 500 elemental subsets were
    # singular: the design has (nearly) exactly collinear columns"
    from skrobust import RobustRegressor

    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(-3, 3, 200), 1)
    y = np.sinc(x) + 0.1 * rng.standard_normal(200)
    y[:33] += 5.0
    reg = RobustRegressor(loss="tukey", kernel="rbf", random_state=0, **params).fit(x[:, None], y)
    assert 0.07 < reg.s_scale_ < 0.2  # the noise sd is 0.1
    grid = np.linspace(-2.5, 2.5, 11)
    assert np.max(np.abs(reg.predict(grid[:, None]) - np.sinc(grid))) < 0.15


def test_tied_subset_limit_leaves_distinct_rows_alone():
    from skrobust.design.kernel import tied_subset_limit

    rows = np.random.default_rng(0).standard_normal((100, 3))
    assert tied_subset_limit(rows, 40) == 40
    tied = np.repeat(rows[:10], 10, axis=0)  # 10 distinct rows, 10 copies each
    # 6 rows drawn from the 100 are distinct with probability 90/99 80/98 70/97 60/96 50/95
    # = 0.18, 7 rows with 0.08 (below 0.1)
    assert tied_subset_limit(tied, 40) == 6


# ------------------------------------------------------- adaptive Barron: scale overflow

def test_adaptive_barron_scale_search_does_not_overflow():
    # a start scale far below the residuals with the Cauchy shape: the likelihood is flat
    # in log(scale), L-BFGS-B extrapolated a trial step past log(scale) = 709.78 and
    # math.exp raised OverflowError
    from skrobust.design.linear import LinearDesign
    from skrobust.solvers.adaptive_barron import adaptive_barron

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    y = X @ [1.0, -1.0] + rng.standard_normal(50)
    beta0 = np.linalg.lstsq(np.c_[X, np.ones(50)], y, rcond=None)[0]
    design = LinearDesign(X, fit_intercept=True)
    results = [adaptive_barron(design, y, beta0=beta0, scale0=s0, shape_bounds=(0.0, 0.0))
               for s0 in (1e-5, 1e-20, 1e-100)]
    for res in results:
        assert res.converged
        assert 0.3 < res.scale < 0.6  # Cauchy's c of unit normal noise


def test_adaptive_barron_warm_start_on_noisier_data_does_not_overflow():
    # the estimator's reproducer: a warm start from a fit whose scale is 1e4 times smaller
    from skrobust import RobustRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    reg = RobustRegressor(loss="barron", warm_start=True, shape_bounds=(0.0, 0.0))
    reg.fit(X, X @ np.ones(5) + 1e-3 * rng.standard_normal(300))
    y = X @ np.ones(5) + 10.0 * rng.standard_cauchy(300)
    reg.fit(X, y)
    cold = RobustRegressor(loss="barron", shape_bounds=(0.0, 0.0)).fit(X, y)
    # the Cauchy likelihood is not convex: from another start, a nearby optimum
    np.testing.assert_allclose(reg.scale_, cold.scale_, rtol=0.05)
    np.testing.assert_allclose(reg.coef_, cold.coef_, atol=0.1)
