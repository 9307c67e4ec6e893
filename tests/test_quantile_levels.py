"""Several quantile levels in one RobustRegressor fit, noncrossing, quantreg's standard errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import r2_score

from skrobust import RobustRegressor
from skrobust.datasets import load_engel

LEVELS = [0.75, 0.1, 0.5]  # deliberately unsorted: the order of ``quantile`` is kept


def _pinball_sum(y, pred, q, w=None):
    r = y - pred
    loss = r * (q - (r < 0))
    return float(np.sum(loss if w is None else w * loss))


def _data(n=300, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1.0) + (1.0 + np.abs(X[:, 0])) * rng.standard_t(3, size=n)
    return X, y


def _heteroscedastic(n=60, seed=3):
    """Few rows, spread growing with x: independent fits of close levels cross."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 4, size=(n, 2))
    y = 1.0 + X @ [1.0, 0.5] + (0.2 + X[:, 0]) * rng.normal(size=n)
    return X, y


NONCROSSING_LEVELS = np.round(np.arange(0.05, 0.96, 0.05), 2)


def _crossings(pred):
    """Rows where a higher level's fitted quantile is below a lower level's."""
    return int(np.sum(np.any(np.diff(pred, axis=1) < -1e-9, axis=1)))


# ------------------------------------------------------------------------------- shapes
def test_vector_quantile_shapes_follow_the_multioutput_convention():
    X, y = _data()
    reg = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X, y)
    assert reg.coef_.shape == (3, X.shape[1])
    assert reg.intercept_.shape == (3,)
    assert reg.scale_.shape == (3,)
    assert reg.predict(X[:7]).shape == (7, 3)
    assert reg.outliers_.shape == (X.shape[0], 3)
    assert reg.weights_.shape == (X.shape[0],)
    assert np.all(reg.weights_ == 1.0)
    assert [loss.quantile for loss in reg.loss_] == LEVELS


def test_scalar_quantile_keeps_the_one_dimensional_model():
    X, y = _data()
    reg = RobustRegressor(loss="quantile", quantile=0.3).fit(X, y)
    assert reg.coef_.shape == (X.shape[1],)
    assert isinstance(reg.intercept_, float) and isinstance(reg.scale_, float)
    assert reg.predict(X).shape == (X.shape[0],)
    assert reg.outliers_.shape == (X.shape[0],)
    one = RobustRegressor(loss="quantile", quantile=[0.3]).fit(X, y)  # a list: one level
    assert one.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(one.predict(X)[:, 0], reg.predict(X), rtol=1e-10, atol=1e-10)


def test_zero_dimensional_array_is_a_scalar_level():
    X, y = _data(n=100)
    reg = RobustRegressor(loss="quantile", quantile=np.array(0.4)).fit(X, y)
    assert reg.coef_.shape == (X.shape[1],)


# ------------------------------------------------------------ each level = its own fit
@pytest.mark.parametrize("container", ["dense", "csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_each_level_equals_the_single_level_fit(container, weighted):
    X, y = _data(n=250)
    w = np.random.default_rng(1).integers(0, 4, size=y.size).astype(float) if weighted else None
    Xf = X if container == "dense" else getattr(sp, f"{container}_matrix")(X)
    multi = RobustRegressor(loss="quantile", quantile=LEVELS).fit(Xf, y, sample_weight=w)
    pred = multi.predict(Xf)
    for j, q in enumerate(LEVELS):
        single = RobustRegressor(loss="quantile", quantile=q).fit(Xf, y, sample_weight=w)
        f_multi = _pinball_sum(y, pred[:, j], q, w)
        f_single = _pinball_sum(y, single.predict(Xf), q, w)
        assert f_multi == pytest.approx(f_single, rel=1e-10)
        assert multi.scale_[j] == pytest.approx(single.scale_, rel=1e-10)


def test_levels_are_kept_in_the_order_given():
    X, y = _data()
    a = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X, y)
    order = np.argsort(LEVELS)
    b = RobustRegressor(loss="quantile", quantile=np.asarray(LEVELS)[order]).fit(X, y)
    np.testing.assert_allclose(a.predict(X)[:, order], b.predict(X), rtol=1e-9, atol=1e-9)
    assert np.all(np.diff(a.intercept_[order]) > 0)  # 0.1 < 0.5 < 0.75 on this data


def test_integer_weights_are_repeated_rows():
    X, y = _data(n=120)
    w = np.random.default_rng(2).integers(1, 4, size=y.size)
    weighted = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X, y, sample_weight=w)
    repeated = RobustRegressor(loss="quantile", quantile=LEVELS).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w))
    for j, q in enumerate(LEVELS):
        assert _pinball_sum(y, weighted.predict(X)[:, j], q, w) == pytest.approx(
            _pinball_sum(y, repeated.predict(X)[:, j], q, w), rel=1e-10)


def test_zero_weight_rows_are_predicted_and_flagged():
    X, y = _data(n=120)
    w = np.ones(y.size)
    w[:10] = 0.0
    reg = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X, y, sample_weight=w)
    dropped = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X[10:], y[10:])
    np.testing.assert_allclose(reg.predict(X), dropped.predict(X), rtol=1e-9, atol=1e-9)
    assert reg.outliers_.shape == (120, 3)


def test_nystroem_features_with_several_levels():
    X, y = _data(n=150, d=2)
    params = dict(loss="quantile", kernel="rbf", n_components=15, random_state=0)
    multi = RobustRegressor(quantile=[0.2, 0.8], **params).fit(X, y)
    assert multi.coef_.shape == (2, 15) and multi.predict(X).shape == (150, 2)
    for j, q in enumerate([0.2, 0.8]):
        single = RobustRegressor(quantile=q, **params).fit(X, y)
        assert _pinball_sum(y, multi.predict(X)[:, j], q) == pytest.approx(
            _pinball_sum(y, single.predict(X), q), rel=1e-10)


def test_aliased_column_has_zero_coefficients_and_na_standard_errors():
    X, y = _data(n=150, d=2)
    X = np.c_[X, X[:, 0]]  # a duplicated column
    with pytest.warns(UserWarning, match="aliased"):
        reg = RobustRegressor(loss="quantile", quantile=[0.3, 0.7]).fit(X, y)
    assert np.all(reg.coef_[:, 2] == 0.0)
    for res in reg.summary(se="ker"):
        assert np.isnan(res.std_err[3]) and np.all(np.isfinite(res.std_err[:3]))


def test_score_averages_the_levels_r2():
    X, y = _data()
    multi = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X, y)
    singles = [RobustRegressor(loss="quantile", quantile=q).fit(X, y) for q in LEVELS]
    expected = np.mean([r2_score(y, s.predict(X)) for s in singles])
    assert multi.score(X, y) == pytest.approx(expected, rel=1e-9)
    assert singles[0].score(X, y) == pytest.approx(r2_score(y, singles[0].predict(X)))


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("quantile,error,match", [
    ([], ValueError, "empty"),
    ([0.1, 1.0], ValueError, "strictly between 0 and 1"),
    ([0.0, 0.5], ValueError, "strictly between 0 and 1"),
    ([0.5, np.nan], ValueError, "strictly between 0 and 1"),
    ([0.2, 0.5, 0.2], ValueError, r"duplicated levels: \[0.2\]"),
    ([[0.1, 0.2]], ValueError, "1-D"),
    (["a", 0.2], TypeError, "real numbers"),
    ([None, 0.2], TypeError, "real numbers"),
    ([True, False], TypeError, "real numbers"),
])
def test_bad_levels_are_rejected(quantile, error, match):
    X, y = _data(n=50)
    with pytest.raises(error, match=match):
        RobustRegressor(loss="quantile", quantile=quantile).fit(X, y)


@pytest.mark.parametrize("quantile", [1.5, 0.0, "0.5"])
def test_bad_scalar_levels_are_rejected(quantile):
    X, y = _data(n=50)
    with pytest.raises((ValueError, TypeError), match="quantile"):
        RobustRegressor(loss="quantile", quantile=quantile).fit(X, y)


def test_noncrossing_needs_the_quantile_loss():
    X, y = _data(n=50)
    with pytest.raises(ValueError, match="noncrossing=True is not available with loss='huber'"):
        RobustRegressor(loss="huber", noncrossing=True).fit(X, y)


def test_noncrossing_is_a_no_op_for_one_level():
    X, y = _data(n=100)
    a = RobustRegressor(loss="quantile", quantile=0.3, noncrossing=True).fit(X, y)
    b = RobustRegressor(loss="quantile", quantile=0.3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_dask_fit_is_refused_but_dask_predict_gives_a_column_per_level():
    da = pytest.importorskip("dask.array", reason="the dask backend is an optional extra")
    X, y = _data(n=100)
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    with pytest.raises(NotImplementedError, match="loss='quantile'"):
        RobustRegressor(loss="quantile", quantile=LEVELS).fit(Xd, yd)
    reg = RobustRegressor(loss="quantile", quantile=LEVELS).fit(X, y)
    pred = reg.predict(Xd)
    assert pred.shape == (100, len(LEVELS)) and pred.chunks == ((50, 50), (len(LEVELS),))
    np.testing.assert_allclose(pred.compute(), reg.predict(X), rtol=1e-12, atol=1e-12)


def test_bad_levels_are_rejected_before_dask_input():
    da = pytest.importorskip("dask.array", reason="the dask backend is an optional extra")
    X, y = _data(n=100)
    with pytest.raises(ValueError, match="duplicated"):
        RobustRegressor(loss="quantile", quantile=[0.5, 0.5]).fit(
            da.from_array(X, chunks=50), da.from_array(y, chunks=50))


# ----------------------------------------------------------------------- noncrossing
def test_independent_fits_cross_on_the_noncrossing_data():
    """The premise of the noncrossing tests: independent fits of these levels cross."""
    X, y = _heteroscedastic()
    pred = RobustRegressor(loss="quantile", quantile=NONCROSSING_LEVELS).fit(X, y).predict(X)
    assert _crossings(pred) > 0


def test_noncrossing_fits_do_not_cross_on_the_training_rows():
    X, y = _heteroscedastic()
    reg = RobustRegressor(loss="quantile", quantile=NONCROSSING_LEVELS, noncrossing=True)
    pred = reg.fit(X, y).predict(X)
    assert _crossings(pred) == 0


def test_noncrossing_costs_at_most_two_percent_of_the_objective():
    X, y = _heteroscedastic()
    free = RobustRegressor(loss="quantile", quantile=NONCROSSING_LEVELS).fit(X, y).predict(X)
    tied = RobustRegressor(loss="quantile", quantile=NONCROSSING_LEVELS,
                           noncrossing=True).fit(X, y).predict(X)
    f_free = sum(_pinball_sum(y, free[:, j], q) for j, q in enumerate(NONCROSSING_LEVELS))
    f_tied = sum(_pinball_sum(y, tied[:, j], q) for j, q in enumerate(NONCROSSING_LEVELS))
    assert f_free <= f_tied * (1 + 1e-10)
    assert f_tied <= 1.02 * f_free


def test_noncrossing_keeps_the_order_of_unsorted_levels():
    X, y = _heteroscedastic()
    levels = NONCROSSING_LEVELS[::-1]
    pred = RobustRegressor(loss="quantile", quantile=levels, noncrossing=True).fit(X, y).predict(X)
    assert _crossings(pred[:, ::-1]) == 0


# ------------------------------------------------------------- standard errors (quantreg)
# R 4.2.2, quantreg 5.94: f <- rq(foodexp ~ income, tau = tau, data = engel) (method "br"),
# summary(f, se = se)$coefficients[, 2]: the standard errors of (intercept, income).
QUANTREG_ENGEL_SE = {
    0.1: {"iid": (17.8638309088, 0.0160830580), "nid": (29.3976787976, 0.0402401677),
          "ker": (29.2965433966, 0.0398968802)},
    0.5: {"iid": (13.2390797181, 0.0119193295), "nid": (19.2506602521, 0.0282772097),
          "ker": (30.2153158528, 0.0373170355)},
    0.9: {"iid": (20.5673981916, 0.0185171176), "nid": (22.3953831455, 0.0284907224),
          "ker": (22.5691951036, 0.0279602328)},
}
QUANTREG_ENGEL_COEF = {0.1: (110.1415742049, 0.4017657593), 0.5: (81.4822474169, 0.5601805512),
                       0.9: (67.3508720801, 0.6862994804)}


@pytest.mark.parametrize("se", ["iid", "nid", "ker"])
def test_standard_errors_equal_quantreg_on_engel(se):
    X, y = load_engel(return_X_y=True)
    fit = RobustRegressor(loss="quantile", quantile=[0.1, 0.5, 0.9]).fit(X, y)
    summaries = fit.summary(se=se)
    assert [res.quantile for res in summaries] == [0.1, 0.5, 0.9]
    for res in summaries:
        np.testing.assert_allclose(res.coef, QUANTREG_ENGEL_COEF[res.quantile], rtol=1e-9)
        np.testing.assert_allclose(res.std_err, QUANTREG_ENGEL_SE[res.quantile][se], rtol=1e-6)
        assert res.cov_kind == se and res.df_resid == 233


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_single_level_summary_is_one_table(q):
    X, y = load_engel(return_X_y=True, as_frame=True)
    res = RobustRegressor(loss="quantile", quantile=q).fit(X, y).summary()  # se="nid"
    assert res.names.tolist() == ["intercept", "income"]
    np.testing.assert_allclose(res.std_err, QUANTREG_ENGEL_SE[q]["nid"], rtol=1e-6)
    np.testing.assert_allclose(res.t_value, res.coef / res.std_err)
    text = str(res)
    assert f"tau: {q:g}" in text and "'nid'" in text and "Robustness weights" not in text
    assert res.to_frame().shape == (2, 6)


def test_cov_params_of_several_levels_is_one_matrix_per_level():
    X, y = load_engel(return_X_y=True)
    fit = RobustRegressor(loss="quantile", quantile=[0.9, 0.1]).fit(X, y)
    cov = fit.cov_params(kind="ker")
    assert cov.shape == (2, 2, 2)
    np.testing.assert_allclose(np.sqrt(np.diagonal(cov, axis1=1, axis2=2)),
                               [QUANTREG_ENGEL_SE[0.9]["ker"], QUANTREG_ENGEL_SE[0.1]["ker"]],
                               rtol=1e-6)
    np.testing.assert_allclose(fit.cov_params(), np.stack([r.cov for r in fit.summary()]))
    single = RobustRegressor(loss="quantile", quantile=0.5).fit(X, y)
    assert single.cov_params(kind="iid").shape == (2, 2)


@pytest.mark.parametrize("se", ["iid", "nid", "ker"])
def test_standard_errors_treat_integer_weights_as_repeated_rows(se):
    X, y = _data(n=150, d=2)
    w = np.random.default_rng(5).integers(1, 4, size=y.size)
    weighted = RobustRegressor(loss="quantile", quantile=[0.25, 0.6]).fit(X, y, sample_weight=w)
    repeated = RobustRegressor(loss="quantile", quantile=[0.25, 0.6]).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # possible "non-positive fis"
        a, b = weighted.summary(se=se), repeated.summary(se=se)
    for ra, rb in zip(a, b, strict=True):
        assert ra.n_obs == rb.n_obs == w.sum()
        np.testing.assert_allclose(ra.std_err, rb.std_err, rtol=1e-7)


@pytest.mark.parametrize("se", ["iid", "nid", "ker"])
def test_standard_errors_are_scale_equivariant(se):
    X, y = load_engel(return_X_y=True)
    base = RobustRegressor(loss="quantile", quantile=0.5).fit(X, y).summary(se=se)
    scaled = RobustRegressor(loss="quantile", quantile=0.5).fit(X, 3.0 * y).summary(se=se)
    np.testing.assert_allclose(scaled.std_err, 3.0 * base.std_err, rtol=1e-7)


def test_unknown_se_and_kind_are_rejected():
    X, y = load_engel(return_X_y=True)
    fit = RobustRegressor(loss="quantile", quantile=0.5).fit(X, y)
    with pytest.raises(ValueError, match="se must be one of .*'boot'"):
        fit.summary(se="boot")
    with pytest.raises(ValueError, match="se must be one of .*'H1'"):
        fit.cov_params(kind="H1")
    with pytest.raises(ValueError, match="kind='H1' is a covariance of M-estimates"):
        fit.summary(kind="H1")
    with pytest.raises(ValueError, match="prediction intervals are not available"):
        fit.predict_interval(X)
    m_fit = RobustRegressor(loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="se='nid' is for quantile fits"):
        m_fit.summary(se="nid")


def test_penalised_quantile_fit_has_no_standard_errors():
    X, y = load_engel(return_X_y=True)
    fit = RobustRegressor(loss="quantile", quantile=[0.2, 0.8], alpha=1.0).fit(X, y)
    with pytest.raises(ValueError, match="penalised fits"):
        fit.summary()


def test_hall_sheather_bandwidth_matches_its_formula():
    from scipy.stats import norm

    from skrobust.inference import hall_sheather_bandwidth

    tau, n = 0.25, 1000
    x0 = norm.ppf(tau)
    expected = n ** (-1 / 3) * norm.ppf(0.975) ** (2 / 3) * (
        1.5 * norm.pdf(x0) ** 2 / (2 * x0**2 + 1)) ** (1 / 3)
    assert hall_sheather_bandwidth(tau, n) == pytest.approx(expected, rel=1e-14)
    assert hall_sheather_bandwidth(0.5, 8 * n) == pytest.approx(
        hall_sheather_bandwidth(0.5, n) / 2, rel=1e-12)


def test_standard_errors_of_sparse_and_dense_designs_agree():
    X, y = load_engel(return_X_y=True)
    dense = RobustRegressor(loss="quantile", quantile=[0.25, 0.75]).fit(X, y)
    sparse = RobustRegressor(loss="quantile", quantile=[0.25, 0.75]).fit(sp.csr_matrix(X), y)
    for se in ("iid", "nid", "ker"):
        for a, b in zip(dense.summary(se=se), sparse.summary(se=se), strict=True):
            np.testing.assert_allclose(a.std_err, b.std_err, rtol=1e-9)


def test_standard_errors_without_intercept():
    X, y = load_engel(return_X_y=True)
    X1 = np.c_[np.ones(len(y)), X]  # the intercept as a column of X
    a = RobustRegressor(loss="quantile", quantile=0.5).fit(X, y).summary(se="nid")
    b = RobustRegressor(loss="quantile", quantile=0.5, fit_intercept=False).fit(X1, y)
    res = b.summary(se="nid")
    assert res.names.tolist() == ["x0", "x1"]
    np.testing.assert_allclose(res.std_err, a.std_err, rtol=1e-8)


def test_crossing_neighbour_fits_warn_about_non_positive_densities():
    rng = np.random.default_rng(0)  # the data of examples/plot_quantile_fan.py
    x = rng.uniform(0, 10, 120)
    y = 1.0 + 0.8 * x + (0.3 + 0.35 * x) * rng.standard_normal(120)
    fit = RobustRegressor(loss="quantile", quantile=0.85).fit(x[:, None], y)
    with pytest.warns(UserWarning, match=r"\d+ non-positive fis"):
        res = fit.summary(se="nid")
    assert np.all(np.isfinite(res.std_err)) and np.all(res.std_err > 0)


def test_outlier_map_needs_a_single_level():
    from skrobust.inspection import OutlierMapDisplay

    X, y = _data(n=100)
    fit = RobustRegressor(loss="quantile", quantile=[0.2, 0.8]).fit(X, y)
    with pytest.raises(ValueError, match="several quantile levels"):
        OutlierMapDisplay.from_estimator(fit, X, y)


def test_noncrossing_with_a_ridge_penalty_is_rejected_before_fitting():
    X, y = _heteroscedastic(60, seed=3)
    with pytest.raises(ValueError, match=r"noncrossing=True .*alpha > 0.*set alpha=0"):
        RobustRegressor(loss="quantile", quantile=[0.2, 0.8], noncrossing=True,
                        alpha=1.0).fit(X, y)
