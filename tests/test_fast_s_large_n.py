"""fast-S above ``large_n_rows`` rows: the S-fit on a uniform row sample, the M-scale of all rows.

The threshold and the sample size are arguments of :func:`fast_s`, so the
large-n path runs here on a few thousand rows.
"""

import numpy as np
import pytest

from skrobust import RobustRegressor
from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.losses import get_loss
from skrobust.scale import FixedScale
from skrobust.solvers.fast_s import LARGE_N_ROWS, fast_s, fast_s_sampled, m_scale
from skrobust.solvers.irls import irls


def _outliers_and_leverage(n, d=4, seed=0):
    """10% outliers in y and 5% bad leverage points (a far cluster in X with a wrong y)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    beta = np.arange(1.0, d + 1.0)
    y = X @ beta + 2.0 + 0.5 * rng.normal(size=n)
    k, lev = n // 10, n // 20
    y[:k] += rng.normal(50.0, 5.0, size=k)
    X[k:k + lev] = 8.0 + 0.1 * rng.normal(size=(lev, d))
    y[k:k + lev] = -30.0
    return X, y, np.r_[beta, 2.0]


def test_large_n_fits_a_sample_and_scales_all_rows():
    X, y, truth = _outliers_and_leverage(6000)
    design = LinearDesign(X, fit_intercept=True)
    res = fast_s(design, y, large_n_rows=3000, sample_rows=2500, random_state=0)
    assert res.sample_rows == 2500 and res.converged
    # the scale is the M-scale of every row's residuals, the sample's S-scale is the objective
    r = y - design.predict(res.beta)
    assert res.scale == pytest.approx(m_scale(r, n_params=5), rel=1e-8)
    assert res.objective != res.scale
    # breakdown: the S- and MM-fits ignore the outliers and the leverage points ...
    mm = irls(MProblem(design, y, np.ones(y.size), get_loss("tukey"), FixedScale(res.scale)),
              res.beta, max_iter=200, tol=1e-10)
    for beta in (res.beta, mm.beta):
        np.testing.assert_allclose(beta, truth, atol=0.1)
    # ... which least squares does not
    ols = np.linalg.lstsq(np.c_[X, np.ones(y.size)], y, rcond=None)[0]
    assert np.max(np.abs(ols - truth)) > 1.0


def test_large_n_fit_is_fast_s_on_its_uniform_sample():
    X, y, _ = _outliers_and_leverage(5000, seed=1)
    res = fast_s(LinearDesign(X, True), y, large_n_rows=4000, sample_rows=1500, random_state=3)
    rng = np.random.default_rng(3)
    rows = np.sort(rng.choice(5000, size=1500, replace=False))
    on_sample = fast_s(LinearDesign(X[rows], True), y[rows], random_state=rng)
    np.testing.assert_array_equal(res.beta, on_sample.beta)
    assert res.objective == on_sample.scale
    assert on_sample.sample_rows is None


def test_at_most_large_n_rows_fit_all_rows():
    X, y, _ = _outliers_and_leverage(3000, seed=2)
    design = LinearDesign(X, True)
    default = fast_s(design, y, random_state=5)
    assert 3000 <= LARGE_N_ROWS and default.sample_rows is None
    at_threshold = fast_s(design, y, large_n_rows=3000, sample_rows=100, random_state=5)
    # a sample as large as the data is the data
    whole_sample = fast_s(design, y, large_n_rows=100, sample_rows=3000, random_state=5)
    for res in (at_threshold, whole_sample):
        assert res.sample_rows is None
        np.testing.assert_array_equal(res.beta, default.beta)
        assert res.scale == default.scale


def test_fast_s_sampled_is_fast_s_with_its_rows_as_threshold_and_sample():
    X, y, _ = _outliers_and_leverage(4000, seed=3)
    design = LinearDesign(X, True)
    a = fast_s_sampled(design, y, n_rows=1200, random_state=0)
    b = fast_s(design, y, large_n_rows=1200, sample_rows=1200, random_state=0)
    np.testing.assert_array_equal(a.beta, b.beta)
    assert a.scale == b.scale and a.objective == b.objective and a.sample_rows == 1200


def test_large_n_zero_weight_rows_equal_removed_rows():
    X, y, _ = _outliers_and_leverage(4000, seed=4)
    w = np.ones(y.size)
    drop = np.arange(0, 4000, 9)
    w[drop] = 0.0
    y_mod = y.copy()
    y_mod[drop] = 1e8  # never sampled, never in a scale
    a = fast_s(LinearDesign(X, True), y_mod, w, large_n_rows=2000, sample_rows=1500,
               random_state=7)
    b = fast_s(LinearDesign(np.delete(X, drop, axis=0), True), np.delete(y, drop),
               large_n_rows=2000, sample_rows=1500, random_state=7)
    np.testing.assert_array_equal(a.beta, b.beta)
    assert a.scale == pytest.approx(b.scale, rel=1e-12)


@pytest.mark.parametrize("bad", [{"large_n_rows": 0}, {"sample_rows": -5}])
def test_large_n_bad_arguments(bad):
    X, y, _ = _outliers_and_leverage(200)
    with pytest.raises(ValueError, match="large_n_rows and sample_rows"):
        fast_s(LinearDesign(X, True), y, **bad)


def test_mm_estimator_breakdown_above_the_threshold():
    n = LARGE_N_ROWS + 20_000
    X, y, truth = _outliers_and_leverage(n, d=3, seed=5)
    est = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
    np.testing.assert_allclose(np.r_[est.coef_, est.intercept_], truth, atol=0.02)
    np.testing.assert_allclose(np.r_[est.s_coef_, est.s_intercept_], truth, atol=0.05)
    # the held S-scale is the M-scale of all rows' S-residuals, within 1% of the S-scale
    # refined on all rows (the second-order difference of the sample's S-coefficients)
    r = y - X @ est.s_coef_ - est.s_intercept_
    assert est.s_scale_ == pytest.approx(m_scale(r, n_params=4), rel=1e-6)
    all_rows = fast_s(LinearDesign(X, True), y, large_n_rows=n, random_state=0)
    assert all_rows.sample_rows is None
    assert est.s_scale_ == pytest.approx(all_rows.scale, rel=1e-2)
    assert est.s_scale_ >= all_rows.scale * (1 - 1e-6)  # the S-coefficients minimise it
