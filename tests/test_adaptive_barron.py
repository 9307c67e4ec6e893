"""RobustRegressor(loss="barron", shape="adaptive"): the learned shape and scale."""

import warnings

import numpy as np
import pytest

from skrobust import RobustRegressor


def paper_example(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=n)
    y = 0.7 * x + 0.15 + rng.normal(0, 0.025, n)
    bad = rng.choice(n, n // 10, replace=False)
    y[bad] = 0.05 + 0.4 * (1 - np.sign(y[bad] - 0.5))
    return x[:, None], y, bad


def test_default_barron_fit_learns_the_shape():
    # without a shape argument the Barron loss fits its shape (as shape="adaptive" does)
    X, y, _ = paper_example(n=300, seed=0)
    default = RobustRegressor(loss="barron").fit(X, y)
    adaptive = RobustRegressor(loss="barron", shape="adaptive").fit(X, y)
    fixed = RobustRegressor(loss="barron", shape=1.0).fit(X, y)
    assert default.shape_ == adaptive.shape_ != 1.0
    np.testing.assert_array_equal(default.coef_, adaptive.coef_)
    assert not np.allclose(default.coef_, fixed.coef_, rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_paper_example(seed):
    X, y, bad = paper_example(seed=seed)
    reg = RobustRegressor(loss="barron").fit(X, y)
    assert abs(reg.coef_[0] - 0.7) < 0.02 and abs(reg.intercept_ - 0.15) < 0.02
    assert reg.shape_ < 1.0
    ls = np.polyfit(X[:, 0], y, 1)
    assert abs(ls[0] - 0.7) > 0.02 or abs(ls[1] - 0.15) > 0.02
    assert set(np.flatnonzero(reg.outliers_)) >= set(bad)
    assert np.median(reg.weights_[bad]) < 0.1


def noise_fit(kind, n=5000, seed=42):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    coef = np.array([1.0, -1.0, 2.0])
    noise = {"gauss": lambda: rng.normal(0, 0.5, n), "cauchy": lambda: rng.standard_cauchy(n),
             "t3": lambda: rng.standard_t(3, n)}[kind]()
    reg = RobustRegressor(loss="barron").fit(X, X @ coef + noise)
    return reg, coef


def test_gaussian_noise_gives_a_large_shape_and_the_noise_scale():
    reg, coef = noise_fit("gauss")
    assert reg.shape_ > 1.7
    assert abs(reg.scale_ - 0.5) < 0.05


def test_cauchy_and_student_noise():
    cauchy, coef = noise_fit("cauchy")
    assert cauchy.shape_ < 0.5
    assert np.max(np.abs(cauchy.coef_ - coef)) < 0.1
    t3, _ = noise_fit("t3")
    gauss, _ = noise_fit("gauss")
    assert cauchy.shape_ < t3.shape_ < gauss.shape_


def test_scale_equivariance():
    X, y, _ = paper_example(500, seed=3)
    a = RobustRegressor(loss="barron").fit(X, y)
    b = RobustRegressor(loss="barron").fit(X, 10 * y)
    assert b.shape_ == pytest.approx(a.shape_, abs=1e-6)
    np.testing.assert_allclose(b.coef_, 10 * a.coef_, rtol=1e-6)
    np.testing.assert_allclose(b.scale_, 10 * a.scale_, rtol=1e-6)


def test_no_warnings_on_well_posed_data():
    X, y, _ = paper_example(500, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RobustRegressor(loss="barron").fit(X, y)
        RobustRegressor(loss="barron", shape=0.5, random_state=0).fit(X, y)


def test_fixed_shape_keeps_working():
    X, y, _ = paper_example(500, seed=5)
    reg = RobustRegressor(loss="barron", shape=0.5, random_state=0).fit(X, y)
    assert reg.shape_ == 0.5 and hasattr(reg, "s_scale_")  # MM start below shape 1
    assert abs(reg.coef_[0] - 0.7) < 0.02


def test_bounds_are_respected():
    X, y, _ = paper_example(500, seed=6)
    reg = RobustRegressor(loss="barron", shape_bounds=(0.8, 1.2)).fit(X, y)
    assert 0.8 <= reg.shape_ <= 1.2


@pytest.mark.parametrize("bounds", [(-0.1, 1.0), (0.5, 2.0), (1.5, 1.0), (0.0, 3.0), (1.0,)])
def test_bad_shape_bounds(bounds):
    X, y, _ = paper_example(100)
    with pytest.raises(ValueError, match="shape_bounds"):
        RobustRegressor(loss="barron", shape_bounds=bounds).fit(X, y)
