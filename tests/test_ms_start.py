"""The M-S start (init="ms"): L1 over indicator columns, S over the continuous ones."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skrobust import RobustRegressor
from skrobust.datasets import load_robustbase
from skrobust.design.linear import LinearDesign
from skrobust.solvers.fast_s import fast_s, m_scale
from skrobust.solvers.ms_start import indicator_columns, ms_start
from skrobust.solvers.quantile import quantile_regression

# R 4.2.2, robustbase 0.95-0: lmrob(Y ~ Region + X1 + X2 + X3, education, init = "M-S")
R_EDUCATION_MS = dict(coef=[-12.9616, -10.6159, 22.0242, 0.0412847, 0.0433700, 0.6102555],
                      intercept=-149.737, scale=30.650)


def education():
    b = load_robustbase("education")
    X0 = np.asarray(b.data, dtype=float)  # Region, X1, X2, X3
    region = X0[:, 0].astype(int)
    dummies = np.column_stack([region == k for k in (2, 3, 4)]).astype(float)
    return np.column_stack([dummies, X0[:, 1:]]), np.asarray(b.target, dtype=float)


def mixed_table(n=600, seed=0, frac=0.1):
    """A 6-level factor with rare levels, two continuous columns, vertical outliers and bad
    leverage points in the continuous columns."""
    rng = np.random.default_rng(seed)
    level = rng.choice(6, size=n, p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
    D = np.column_stack([level == k for k in range(1, 6)]).astype(float)
    Z = rng.normal(size=(n, 2))
    coef = np.array([3.0, -2.0, 5.0, -4.0, 6.0, 2.0, -1.0])
    X = np.column_stack([D, Z])
    y = X @ coef + 1.0 + 0.3 * rng.normal(size=n)
    bad = rng.choice(n, int(frac * n), replace=False)
    y[bad[: len(bad) // 2]] += 25.0  # vertical outliers
    lev = bad[len(bad) // 2:]
    X[lev, 5:] = rng.normal(loc=8.0, size=(lev.size, 2))  # bad leverage points
    y[lev] = -30.0
    return X, y, coef, bad


# ------------------------------------------------------------------ indicator detection
def test_indicator_columns_dense_and_sparse_agree():
    X = np.array([[0.0, 2.0, 1.0, 5.0], [1.0, 2.0, 0.5, 0.0], [0.0, 3.0, 0.0, 5.0]])
    expected = np.array([True, True, False, True])  # 0/1, 2/3, three values, 5/0
    assert np.array_equal(indicator_columns(X), expected)
    assert np.array_equal(indicator_columns(sp.csr_matrix(X)), expected)


# ------------------------------------------------------------------ the solver
def test_ms_start_recovers_a_contaminated_mixed_design():
    X, y, coef, _ = mixed_table()
    res = ms_start(LinearDesign(X, True), y, random_state=0)
    assert res.reduced_to == ""
    assert np.array_equal(res.indicator_mask, [True] * 5 + [False] * 2)
    assert np.abs(res.beta[:-1] - coef).max() < 0.2
    assert abs(res.beta[-1] - 1.0) < 0.2
    # the scale is the M-scale of its residuals, normalised by n - p
    r = y - LinearDesign(X, True).predict(res.beta)
    assert res.scale == pytest.approx(m_scale(r, n_params=8), rel=1e-8)


def test_ms_start_without_continuous_columns_is_the_l1_fit():
    X, y, _, _ = mixed_table()
    D = X[:, :5]
    res = ms_start(LinearDesign(D, True), y, random_state=0)
    l1 = quantile_regression(LinearDesign(D, True), y, None, 0.5)
    assert res.reduced_to == "l1"
    np.testing.assert_allclose(res.beta, l1.beta, rtol=1e-10, atol=1e-10)


def test_ms_start_without_indicator_columns_is_the_s_estimate():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = X @ [1.0, 2.0] + rng.normal(size=80)
    res = ms_start(LinearDesign(X, True), y, random_state=3)
    s = fast_s(LinearDesign(X, True), y, random_state=3)
    assert res.reduced_to == "s"
    np.testing.assert_array_equal(res.beta, s.beta)


def test_ms_start_sparse_equals_dense():
    X, y, _, _ = mixed_table(n=300)
    dense = ms_start(LinearDesign(X, True), y, random_state=0)
    sparse = ms_start(LinearDesign(sp.csr_matrix(X), True), y, random_state=0)
    np.testing.assert_allclose(sparse.beta, dense.beta, rtol=1e-8, atol=1e-8)


def test_ms_start_zero_weights_remove_rows():
    X, y, _, _ = mixed_table(n=300)
    w = np.ones(len(y))
    w[::7] = 0.0
    keep = w > 0
    weighted = ms_start(LinearDesign(X, True), y, w, random_state=0)
    removed = ms_start(LinearDesign(X[keep], True), y[keep], random_state=0)
    np.testing.assert_allclose(weighted.beta, removed.beta, rtol=1e-8, atol=1e-8)


def test_ms_start_rejects_a_wrong_indicator_mask():
    X, y, _, _ = mixed_table(n=100)
    with pytest.raises(ValueError, match="one entry per column"):
        ms_start(LinearDesign(X, True), y, indicators=[True, False])


# ------------------------------------------------------------------ the estimator
def test_mm_after_ms_resists_leverage_and_outliers():
    X, y, coef, bad = mixed_table()
    mm = RobustRegressor(loss="tukey", init="ms", random_state=0).fit(X, y)
    assert np.abs(mm.coef_ - coef).max() < 0.1
    assert mm.s_scale_ == pytest.approx(mm.scale_)  # the M-S scale, held fixed
    assert mm.s_coef_.shape == coef.shape
    assert mm.outliers_[bad].all()


def test_mm_after_ms_on_education_is_lmrobs_ms_fit():
    X, y = education()
    mm = RobustRegressor(loss="tukey", init="ms", random_state=0).fit(X, y)
    # our M-S start has a 3.5% larger scale than R's (a different candidate); the MM fit
    # after it is in the same basin as R's
    assert mm.scale_ == pytest.approx(R_EDUCATION_MS["scale"], rel=0.05)
    np.testing.assert_allclose(mm.coef_[3:], R_EDUCATION_MS["coef"][3:], rtol=0.05)
    np.testing.assert_allclose(mm.coef_[:3], R_EDUCATION_MS["coef"][:3], rtol=0.1)
    assert mm.intercept_ == pytest.approx(R_EDUCATION_MS["intercept"], rel=0.05)


def test_init_ms_integer_weights_equal_repeated_rows():
    X, y, _, _ = mixed_table(n=200)
    w = np.random.default_rng(0).integers(1, 3, size=len(y)).astype(float)
    est = RobustRegressor(loss="tukey", init="ms", random_state=0)
    weighted = est.fit(X, y, sample_weight=w)
    coef_w = weighted.coef_.copy()
    repeated = RobustRegressor(loss="tukey", init="ms", random_state=0).fit(
        np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int)))
    # the random subsets differ, hence the M-S scale held fixed in the MM step (slightly):
    # the MM fits agree to that
    assert weighted.scale_ == pytest.approx(repeated.scale_, rel=0.02)
    np.testing.assert_allclose(coef_w, repeated.coef_, atol=1e-3)


def test_init_ms_without_indicators_warns_and_is_init_s():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=60)
    with pytest.warns(UserWarning, match="no indicator columns"):
        ms = RobustRegressor(loss="tukey", init="ms", random_state=0).fit(X, y)
    s = RobustRegressor(loss="tukey", init="s", random_state=0).fit(X, y)
    np.testing.assert_allclose(ms.coef_, s.coef_)


def test_init_ms_on_too_few_rows_starts_from_huber_and_warns():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 2, size=7), rng.normal(size=(7, 3))]).astype(float)
    y = rng.normal(size=7)  # 3 continuous columns: subsets of 3 rows need 2 (3 + 1) = 8 rows
    with pytest.warns(UserWarning, match="too few for the M-S-estimator"):
        RobustRegressor(loss="tukey", init="ms").fit(X, y)
    X[:, 2] = rng.integers(0, 2, size=7)  # one continuous column fewer: 7 rows are enough
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RobustRegressor(loss="tukey", init="ms", random_state=0).fit(X, y)


def test_init_ms_needs_the_linear_model():
    X, y, _, _ = mixed_table(n=100)
    with pytest.raises(ValueError, match="kernel=None"):
        RobustRegressor(loss="tukey", init="ms", kernel="rbf", n_components=10,
                        random_state=0).fit(X, y)


def test_init_ms_is_validated():
    X, y, _, _ = mixed_table(n=100)
    with pytest.raises(ValueError, match="init"):
        RobustRegressor(init="m-s").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RobustRegressor(loss="huber", init="ms", random_state=0).fit(X, y)  # any loss


def test_init_ms_through_a_one_hot_pipeline_dense_and_sparse():
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y, coef, bad = mixed_table()
    df = pd.DataFrame({"level": X[:, :5] @ np.arange(1, 6), "z1": X[:, 5], "z2": X[:, 6]})
    fits = []
    for drop, sparse in [("first", False), ("first", True), (None, True)]:
        ct = make_column_transformer(
            (OneHotEncoder(drop=drop, sparse_output=sparse), ["level"]),
            ("passthrough", ["z1", "z2"]), sparse_threshold=1.0 if sparse else 0.0)
        model = make_pipeline(ct, RobustRegressor(loss="tukey", init="ms", random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the aliased level with drop=None
            model.fit(df, y)
        assert sp.issparse(ct.transform(df)) == sparse
        fits.append(model)
    np.testing.assert_allclose(fits[1][-1].coef_, fits[0][-1].coef_, rtol=1e-8, atol=1e-10)
    for model in fits:
        np.testing.assert_allclose(model[-1].coef_[-2:], coef[-2:], atol=0.1)
        np.testing.assert_allclose(model.predict(df), fits[0].predict(df), atol=1e-6)
        assert model[-1].outliers_[bad].all()
