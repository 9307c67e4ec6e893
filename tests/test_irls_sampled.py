"""IRLS at a fixed scale (the MM step) with the weighted Gram of a row sample.

It runs only on many rows (``HESSIAN_MIN_ROWS``); the thresholds are lowered
by monkeypatch so that it runs here, and its fit is compared with the exact
IRLS path on the same data.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skrobust import RobustRegressor
from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.losses import get_loss
from skrobust.scale import FixedScale
from skrobust.solvers import irls as irls_module
from skrobust.solvers.irls import irls


def _contaminated(n=6000, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 + rng.standard_normal(n)
    y[: n // 10] += 30.0  # vertical outliers
    X[n // 10: n // 10 + n // 20] = 6.0  # bad leverage points
    y[n // 10: n // 10 + n // 20] = -20.0
    return X, y


def _tukey_problem(X, y, s, scale):
    return MProblem(LinearDesign(X, True), y, s, get_loss("tukey", c=4.685061),
                    FixedScale(scale))


def _spy(monkeypatch):
    calls = []
    original = irls_module._irls_sampled
    monkeypatch.setattr(irls_module, "_irls_sampled",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


@pytest.mark.parametrize("sample_rows, fallback", [(1500, False), (12, True)])
def test_sampled_irls_reaches_the_exact_irls_fixed_point(monkeypatch, sample_rows, fallback):
    X, y = _contaminated()
    s = np.random.default_rng(1).integers(1, 4, len(y)).astype(float)
    beta0 = np.linalg.lstsq(np.c_[X[1000:], np.ones(len(y) - 1000)], y[1000:], rcond=None)[0]
    exact = irls(_tukey_problem(X, y, s, 1.3), beta0=beta0, scale0=1.3, tol=1e-10)
    calls = _spy(monkeypatch)
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 1000)
    # 12 rows: a poor Gram whose steps often fail to descend and fall back to exact IRLS
    monkeypatch.setattr(irls_module, "HESSIAN_ROWS", sample_rows)
    exact_steps = []
    original = MProblem.irls_step
    monkeypatch.setattr(MProblem, "irls_step",
                        lambda self, *a: exact_steps.append(1) or original(self, *a))
    sampled = irls(_tukey_problem(X, y, s, 1.3), beta0=beta0, scale0=1.3, tol=1e-10)
    assert calls
    assert bool(exact_steps) == fallback
    assert exact.converged and sampled.converged
    np.testing.assert_allclose(sampled.beta, exact.beta, rtol=1e-8, atol=1e-9)
    assert sampled.scale == exact.scale
    assert sampled.objective <= exact.objective * (1 + 1e-12)


def test_mm_fit_with_the_sampled_step_equals_the_exact_one(monkeypatch):
    X, y = _contaminated(n=8000)
    exact = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(X, y)
    calls = _spy(monkeypatch)
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 1000)
    sampled = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(X, y)
    assert calls
    np.testing.assert_allclose(sampled.coef_, exact.coef_, rtol=1e-8)
    assert sampled.intercept_ == pytest.approx(exact.intercept_, rel=1e-8)
    assert sampled.scale_ == exact.scale_  # the S-scale, held fixed


def test_sampled_irls_warns_when_it_does_not_converge(monkeypatch):
    X, y = _contaminated()
    calls = _spy(monkeypatch)
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 1000)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        RobustRegressor(loss="tukey", random_state=0, max_iter=1).fit(X, y)
    assert calls


def test_sampled_irls_is_off_below_the_threshold_and_for_reestimated_scales(monkeypatch):
    X, y = _contaminated()
    calls = _spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        RobustRegressor(loss="tukey", random_state=0).fit(X, y)  # n below HESSIAN_MIN_ROWS
        monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 1000)
        RobustRegressor(loss="tukey", scale="mad", init="ols").fit(X, y)  # MAD re-estimated
    assert not calls


def test_sampled_irls_on_dask_takes_the_in_memory_steps(monkeypatch):
    da = pytest.importorskip("dask.array")
    import dask

    X, y = _contaminated(n=8000)
    s = np.random.default_rng(2).integers(0, 4, len(y)).astype(float)
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 4000)
    monkeypatch.setattr(irls_module, "HESSIAN_ROWS", 1500)
    calls = _spy(monkeypatch)
    ref = RobustRegressor(loss="tukey", random_state=0).fit(X, y, sample_weight=s)
    assert calls
    chunked = [da.from_array(a, chunks=(2500,) + a.shape[1:]) for a in (X, y, s)]
    with dask.config.set(scheduler="synchronous"):
        est = RobustRegressor(loss="tukey", random_state=0).fit(*chunked[:2],
                                                               sample_weight=chunked[2])
    assert len(calls) == 2
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)
    assert est.scale_ == pytest.approx(ref.scale_, rel=1e-9)
    assert est.n_iter_ == ref.n_iter_  # the same sampled Grams: the same steps
