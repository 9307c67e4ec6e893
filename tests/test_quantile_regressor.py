"""RobustRegressor(loss="quantile"): the estimator path of quantile regression."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import QuantileRegressor

from skrobust import RobustRegressor


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + 1.0 + rng.standard_t(3, size=n) * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("kind", ["dense", "csr", "weighted"])
def test_matches_quantile_regressor(q, kind):
    X, y = data()
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y)) if kind == "weighted" else None
    Xf = sp.csr_matrix(X) if kind == "csr" else X
    ref = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(Xf, y, sample_weight=w)
    ours = RobustRegressor(loss="quantile", quantile=q, alpha=0.0).fit(Xf, y, sample_weight=w)
    got, want = np.r_[ours.coef_, ours.intercept_], np.r_[ref.coef_, ref.intercept_]
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-8)) < 1e-4


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_fraction_below_the_fit(q):
    X, y = data(1000, seed=2)
    reg = RobustRegressor(loss="quantile", quantile=q).fit(X, y)
    r = y - reg.predict(X)
    interpolated = np.sum(np.abs(r) < 1e-9)
    assert abs(np.mean(r < -1e-9) - q) <= (interpolated + 1) / len(y)
    assert np.all(reg.weights_ == 1.0)
    # outliers_: |r - median(r)| > 2.5 MAD / 0.6745 about the median (the residuals of a
    # q-quantile fit are not centred at 0); it used to be all False
    centred = r - np.median(r)
    mad = np.median(np.abs(centred)) / 0.6744897501960817
    np.testing.assert_array_equal(reg.outliers_, np.abs(centred) > 2.5 * mad)
    assert reg.scale_ > 0


def test_penalty_shrinks_coefficients():
    X, y = data(300, seed=3)
    free = RobustRegressor(loss="quantile", quantile=0.5).fit(X, y)
    ridge = RobustRegressor(loss="quantile", quantile=0.5, alpha=100.0).fit(X, y)
    assert np.linalg.norm(ridge.coef_) < np.linalg.norm(free.coef_)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 1.5, np.nan])
def test_bad_quantile(q):
    X, y = data(50)
    with pytest.raises(ValueError, match="quantile"):
        RobustRegressor(loss="quantile", quantile=q).fit(X, y)
