"""MM-estimation through RobustRegressor: lmrob parity, outlier detection, breakdown, starts."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import HuberRegressor

from skrobust import RobustRegressor
from skrobust.datasets import load_robustbase, load_stackloss

# robustbase lmrob(stack.loss ~ ., stackloss), R 4.3.1 (regression_peers.md section 4)
LMROB_MM = [-41.52462, 0.93885, 0.57955, -0.11292]
LMROB_S = [-36.92542, 0.84957, 0.43047, -0.07354]
LMROB_SCALE = 1.912


def _read(name):
    # DataFrame input, as a user would pass it (feature names flow into the fit)
    if name == "stackloss":
        return load_stackloss(as_frame=True, return_X_y=True)
    return load_robustbase(name, as_frame=True, return_X_y=True)


def rel(a, b):
    return np.max(np.abs(np.asarray(a) - b) / np.abs(b))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_tukey_is_lmrob_mm_on_stackloss(seed):
    X, y = _read("stackloss")
    mm = RobustRegressor(loss="tukey", random_state=seed).fit(X, y)
    assert rel(np.r_[mm.intercept_, mm.coef_], LMROB_MM) < 2e-3
    assert rel(mm.scale_, LMROB_SCALE) < 2e-3
    assert rel(np.r_[mm.s_intercept_, mm.s_coef_], LMROB_S) < 2e-3
    assert mm.s_scale_ == mm.scale_  # the S-scale is held fixed in the M-step
    assert mm.weights_[20] == 0.0
    u = (y - mm.predict(X)) / (mm.loss_.c * mm.scale_)
    np.testing.assert_allclose(mm.weights_, np.where(np.abs(u) <= 1, (1 - u**2) ** 2, 0.0))


def test_stars_cyg_giants_are_rejected():
    X, y = _read("starsCYG")
    mm = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
    np.testing.assert_allclose([mm.intercept_, mm.coef_[0]], [-4.969, 2.253], atol=2e-3)
    np.testing.assert_array_equal(np.flatnonzero(mm.weights_ < 0.01) + 1, [11, 20, 30, 34])


@pytest.mark.parametrize("loss", ["tukey", "welsch", "geman_mcclure", "cauchy"])
def test_hbk_bad_leverage_points_are_rejected(loss):
    X, y = _read("hbk")
    mm = RobustRegressor(loss=loss, random_state=47).fit(X, y)
    # Cauchy's weight only decays like 1/u**2; the others reach (almost) zero
    assert np.all(mm.weights_[:10] < (0.15 if loss == "cauchy" else 0.06))
    assert set(np.argsort(mm.weights_)[:10]) == set(range(10))
    assert np.all(mm.weights_[10:14] > 0.45)  # good leverage points keep their weight
    assert HuberRegressor().fit(X, y).outliers_[:10].sum() < 10


def leverage_data(frac, n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    coef = np.array([1.0, 2.0, 3.0])
    y = X @ coef + 1.0 + rng.normal(scale=0.2, size=n)
    idx = rng.choice(n, int(round(frac * n)), replace=False)
    X[idx] = 10.0 + 0.1 * rng.normal(size=(idx.size, 3))  # a tight cluster of bad leverage points
    y[idx] = -50.0 + 0.1 * rng.normal(size=idx.size)
    return X, y, coef


@pytest.mark.parametrize("frac", [0.1, 0.3, 0.45])
def test_breakdown_under_bad_leverage(frac):
    X, y, coef = leverage_data(frac)
    err = lambda c: np.linalg.norm(c - coef) / np.linalg.norm(coef)  # noqa: E731
    assert err(RobustRegressor(loss="tukey", random_state=0).fit(X, y).coef_) < 0.1
    assert err(HuberRegressor().fit(X, y).coef_) > 1.0


def test_same_seed_same_fit_and_clone_independence():
    X, y, _ = leverage_data(0.3)
    a = RobustRegressor(loss="tukey", random_state=3).fit(X, y)
    b = RobustRegressor(loss="tukey", random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_sample_weights_in_the_s_step():
    X, y, _ = leverage_data(0.2, n=300, seed=4)
    w = np.ones(300)
    w[:40] = 0
    a = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X, y, sample_weight=w)
    b = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X[40:], y[40:])
    np.testing.assert_allclose(np.r_[a.coef_, a.intercept_, a.scale_],
                               np.r_[b.coef_, b.intercept_, b.scale_], rtol=1e-10)
    w = np.random.default_rng(5).integers(1, 4, size=300)
    rep = np.repeat(np.arange(300), w)
    c = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X, y, sample_weight=w)
    d = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X[rep], y[rep])
    np.testing.assert_allclose(c.coef_, d.coef_, rtol=1e-5)
    np.testing.assert_allclose(c.scale_, d.scale_, rtol=1e-5)


def test_mm_equivariance():
    X, y, _ = leverage_data(0.2, n=200, seed=6)
    base = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X, y)
    b = np.array([0.5, -1.0, 2.0])
    shifted = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X, y + X @ b)
    np.testing.assert_allclose(shifted.coef_, base.coef_ + b, rtol=1e-6, atol=1e-8)
    scaled = RobustRegressor(loss="tukey", random_state=0, tol=1e-12).fit(X, 5 * y)
    np.testing.assert_allclose(scaled.coef_, 5 * base.coef_, rtol=1e-6)
    np.testing.assert_allclose(scaled.scale_, 5 * base.scale_, rtol=1e-6)


@pytest.mark.parametrize("init", ["lad", "gnc", "s"])
def test_other_robust_starts(init):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 2))
    y = X @ [2.0, -1.0] + 0.3 * rng.normal(size=300)
    y[:60] += 30  # vertical outliers only: every robust start works
    reg = RobustRegressor(loss="cauchy", init=init, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.coef_, [2.0, -1.0], atol=0.1)


def test_gnc_needs_a_barron_loss():
    X, y, _ = leverage_data(0.1, n=50)
    with pytest.raises(ValueError, match="gnc"):
        RobustRegressor(loss="tukey", init="gnc").fit(X, y)


def test_too_few_samples_for_the_s_estimator():
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(9, 4)), rng.normal(size=9)
    with pytest.raises(ValueError, match=r"2\(p\+1\)"):
        RobustRegressor(loss="tukey", init="s").fit(X, y)
    with pytest.warns(UserWarning, match="too few for the S-estimator"):
        reg = RobustRegressor(loss="tukey").fit(X, y)
    assert np.all(np.isfinite(reg.coef_))


def test_collinear_columns_are_aliased_not_an_error():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(40, 1))
    X = np.hstack([x, 2 * x])  # exactly collinear columns
    with pytest.warns(UserWarning, match="1 aliased column.*: x1"):
        reg = RobustRegressor(loss="tukey", init="s").fit(X, rng.normal(size=40))
    np.testing.assert_array_equal(reg.aliased_, [False, True])
    assert reg.coef_[1] == 0.0 and np.isfinite(reg.coef_[0])


def test_no_warning_on_well_posed_data():
    X, y, _ = leverage_data(0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RobustRegressor(loss="tukey", random_state=0).fit(X, y)
