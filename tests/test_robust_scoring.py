"""Robust regression errors and scorers for model selection (skrobust.metrics)."""

import math

import numpy as np
import pytest
import sklearn
from scipy import integrate
from scipy.stats import norm
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    KFold,
    cross_val_score,
    cross_validate,
)

from skrobust import RobustRegressor
from skrobust.metrics import residual_mad, robust_scorer, tau_scale, trimmed_mse

METRICS = [tau_scale, trimmed_mse, residual_mad]


def _normal_expectation_of_clipped_square(b):
    """E[min(Z**2, b**2)] for Z ~ N(0, 1), by quadrature (independent of the package's formula)."""
    inner, _ = integrate.quad(lambda z: z * z * norm.pdf(z), 0.0, b, epsabs=1e-14)
    tail, _ = integrate.quad(norm.pdf, b, np.inf, epsabs=1e-14)
    return 2.0 * (inner + b * b * tail)  # symmetric: twice the integral over z >= 0


def _scale_tau2(x, c1=4.5, c2=3.0):
    """robustbase's scaleTau2 (one step, consistency=TRUE) from its documented definition."""
    x = np.asarray(x, dtype=float)
    med = np.median(x)
    s0 = np.median(np.abs(x - med))
    if c1 > 0:
        w = np.maximum(0.0, 1 - ((x - med) / (s0 * c1)) ** 2) ** 2
        mu = np.sum(w * x) / np.sum(w)
    else:
        mu = med
    rho = np.minimum(((x - mu) / s0) ** 2, c2**2)
    q = norm.ppf(0.75)
    return s0 * math.sqrt(np.mean(rho) / _normal_expectation_of_clipped_square(c2 * q))


# ---------------------------------------------------------------- tau-scale
def test_tau_scale_step_by_step_from_the_definition():
    r = np.array([0.5, -1.0, 2.0, -3.0, 10.0])
    s0 = 2.0  # median |r|
    clipped = np.array([0.25, 0.5, 1.0, 1.5, 3.0]) ** 2  # min(|r| / s0, 3)**2, the 10 is clipped
    consistency = _normal_expectation_of_clipped_square(3.0 * norm.ppf(0.75))
    expected = s0 * math.sqrt(clipped.mean() / consistency)
    assert tau_scale(np.zeros(5), -r) == pytest.approx(expected, rel=1e-12)
    assert tau_scale(r, np.zeros(5)) == pytest.approx(expected, rel=1e-12)


def test_tau_consistency_factor_is_robustbase_es2():
    # robustbase notes Es2(3) ~= 0.925 for the asymptotic E[sigma^2]
    consistency = _normal_expectation_of_clipped_square(3.0 * norm.ppf(0.75))
    assert consistency == pytest.approx(0.925, abs=5e-4)
    # a single residual: tau = |r| * sqrt(1 / consistency)
    assert tau_scale([0.0], [2.0]) == pytest.approx(2.0 / math.sqrt(consistency), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tau_scale_is_scaletau2_of_the_symmetrised_sample(seed):
    rng = np.random.default_rng(seed)
    r = rng.standard_t(df=2, size=37) + 0.7  # skewed by the shift: the centre matters
    ours = tau_scale(r, np.zeros_like(r))
    assert ours == pytest.approx(_scale_tau2(np.concatenate([r, -r])), rel=1e-10)
    # scaleTau2(r, c1 = 0, mu0 = 0) directly: median and centre at zero
    s0 = np.median(np.abs(r))
    rho = np.minimum((r / s0) ** 2, 9.0)
    direct = s0 * math.sqrt(rho.mean() / _normal_expectation_of_clipped_square(3 * norm.ppf(0.75)))
    assert ours == pytest.approx(direct, rel=1e-10)
    # re-centring would give a different (smaller) value: the residuals are not re-centred
    assert _scale_tau2(r) < ours


def test_tau_scale_is_consistent_at_the_normal_and_resists_outliers():
    rng = np.random.default_rng(0)
    r = 2.0 * rng.normal(size=200_000)
    zeros = np.zeros_like(r)
    assert tau_scale(r, zeros) == pytest.approx(2.0, rel=0.01)
    dirty = r.copy()
    dirty[:10_000] = 1e8  # 5% gross errors
    assert tau_scale(dirty, zeros) < 2.6
    assert math.sqrt(mean_squared_error(dirty, zeros)) > 1e7


def test_tau_scale_charges_bias():
    rng = np.random.default_rng(1)
    y = rng.normal(size=5000)
    unbiased = tau_scale(y, np.zeros_like(y))
    biased = tau_scale(y, np.full_like(y, 3.0))
    assert unbiased == pytest.approx(1.0, rel=0.05)
    assert biased > 2.5


def test_tau_scale_is_scale_equivariant():
    rng = np.random.default_rng(2)
    y, p = rng.normal(size=50), rng.normal(size=50)
    assert tau_scale(7.5 * y, 7.5 * p) == pytest.approx(7.5 * tau_scale(y, p), rel=1e-12)
    assert tau_scale(-y, -p) == pytest.approx(tau_scale(y, p), rel=1e-12)


def test_tau_scale_of_an_exact_majority_is_zero_with_a_warning():
    with pytest.warns(UserWarning, match="tau-scale is 0"):
        assert tau_scale([1.0, 2.0, 3.0], [1.0, 2.0, 30.0]) == 0.0


# ---------------------------------------------------------------- trimmed MSE and MAD
def test_trimmed_mse_hand_computed():
    y_true = np.zeros(10)
    y_pred = np.array([1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, 0.0, 50.0, -60.0])
    # floor(0.2 * 10) = 2 dropped (the 50 and the -60); the rest: 1+1+4+4+9+9+0.25+0 = 28.25
    assert trimmed_mse(y_true, y_pred, trim=0.2) == pytest.approx(28.25 / 8)
    # floor(0.15 * 10) = 1: only the -60 is dropped
    assert trimmed_mse(y_true, y_pred, trim=0.15) == pytest.approx((28.25 + 2500) / 9)
    # floor(0.3 * 10) is 3 although 0.3 * 10 = 3.0000000000000004 in floating point
    assert trimmed_mse(y_true, y_pred, trim=0.3) == pytest.approx(19.25 / 7)
    assert trimmed_mse(y_true, y_pred, trim=0.0) == pytest.approx(mean_squared_error(y_true,
                                                                                     y_pred))
    assert trimmed_mse(y_true, y_pred, trim=0.09) == trimmed_mse(y_true, y_pred, trim=0.0)


def test_trimmed_mse_drops_part_of_a_weighted_row():
    # total weight 10, floor(0.25 * 10) = 2 units dropped: all of the 10 (weight 1) and one of
    # the three units of the 5; kept: 2 units at 25 and 7 units at 1, over 8 units
    y_pred = np.array([10.0, 5.0, 1.0])
    w = np.array([1.0, 3.0, 6.0])
    assert trimmed_mse(np.zeros(3), y_pred, trim=0.25, sample_weight=w) == pytest.approx(
        (2 * 25 + 6 * 1) / 8)


def test_residual_mad_hand_computed():
    assert residual_mad([0.0, 0.0, 0.0, 0.0], [1.0, -3.0, 2.0, 100.0]) == pytest.approx(
        2.5 / norm.ppf(0.75))
    # about zero, not about the median of the residuals
    assert residual_mad([0.0, 0.0, 0.0], [10.0, 11.0, 12.0]) == pytest.approx(11 / norm.ppf(0.75))


@pytest.mark.parametrize("metric", METRICS)
def test_integer_weights_equal_repeated_rows(metric):
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=30), rng.normal(size=30)
    y[:4] += 20.0
    w = rng.integers(0, 4, size=30)
    w[0] = 3
    repeated = metric(np.repeat(y, w), np.repeat(p, w))
    assert metric(y, p, sample_weight=w) == pytest.approx(repeated, rel=1e-12)


@pytest.mark.parametrize("metric", [tau_scale, residual_mad])
def test_constant_weights_change_nothing(metric):
    # (not trimmed_mse: its weights count rows, so they set how many units floor(trim * n) drops)
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=30), rng.normal(size=30)
    assert metric(y, p, sample_weight=2.5 * np.ones(30)) == pytest.approx(metric(y, p), rel=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_inputs_are_not_modified(metric):
    y, p, w = np.array([1.0, 2.0, 30.0]), np.array([1.5, 2.0, 3.0]), np.array([1.0, 2.0, 1.0])
    copies = y.copy(), p.copy(), w.copy()
    metric(y, p, sample_weight=w)
    for a, b in zip((y, p, w), copies, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("metric", METRICS)
def test_column_vectors_are_accepted(metric):
    y, p = np.arange(6.0), np.arange(6.0)[::-1]
    assert metric(y[:, None], p[:, None]) == metric(y, p)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    "y_true, y_pred, sample_weight, message",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], None, "different lengths: 3 != 2"),
        ([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], None, "y_true contains NaN"),
        ([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], None, "y_pred contains NaN or infinity"),
        ([], [], None, "empty"),
        (np.ones((3, 2)), np.ones((3, 2)), None, "one-dimensional"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.5], [1.0, -1.0, 1.0], "(?i)negative"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.5], [0.0, 0.0, 0.0], "non-zero"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.5], [1.0, 1.0], "sample_weight"),
    ],
)
def test_bad_input(metric, y_true, y_pred, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        metric(y_true, y_pred, sample_weight=sample_weight)


@pytest.mark.parametrize("metric", METRICS)
def test_non_numeric_input(metric):
    with pytest.raises(TypeError, match="y_true must be numeric"):
        metric(["a", "b"], [1.0, 2.0])


@pytest.mark.parametrize("trim", [-0.1, 0.5, 0.7, True, "0.1", None])
def test_trim_outside_its_range(trim):
    with pytest.raises(ValueError, match=r"trim must be a number in \[0, 0.5\)"):
        trimmed_mse([1.0, 2.0], [1.0, 2.0], trim=trim)
    if trim is not None:
        with pytest.raises(ValueError, match="trim must be"):
            robust_scorer("trimmed_mse", trim=trim)


# ---------------------------------------------------------------- scorers
def test_unknown_kind_and_misplaced_trim():
    with pytest.raises(ValueError, match="Unknown kind 'mse'; use one of 'tau', 'trimmed_mse'"):
        robust_scorer("mse")
    with pytest.raises(ValueError, match="trim applies to kind='trimmed_mse' only"):
        robust_scorer("tau", trim=0.2)


def _dirty_data(n=240, seed=0, share=0.15):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + 1.0 + 0.5 * rng.normal(size=n)
    bad = rng.permutation(n)[: int(share * n)]
    y[bad] += rng.uniform(20, 40, size=bad.size)
    return X, y


@pytest.mark.parametrize("kind, metric, params",
                         [("tau", tau_scale, {}), ("mad", residual_mad, {}),
                          ("trimmed_mse", trimmed_mse, {}),
                          ("trimmed_mse", trimmed_mse, {"trim": 0.25})])
def test_scorer_negates_the_error(kind, metric, params):
    X, y = _dirty_data()
    w = np.random.default_rng(5).integers(1, 4, size=y.size).astype(float)
    reg = LinearRegression().fit(X, y)
    scorer = robust_scorer(kind, **params)
    pred = reg.predict(X)
    assert scorer(reg, X, y) == pytest.approx(-metric(y, pred, **params), rel=1e-12)
    assert scorer(reg, X, y, sample_weight=w) == pytest.approx(
        -metric(y, pred, sample_weight=w, **params), rel=1e-12)
    assert scorer(reg, X, y) < 0


def test_grid_search_with_tau_picks_the_robust_model_and_r2_does_not():
    X, y = _dirty_data()
    grid = {"epsilon": [1.345, 1e3]}  # epsilon = 1000 is least squares on this data
    cv = KFold(4, shuffle=True, random_state=0)
    default = GridSearchCV(RobustRegressor(), grid, cv=cv).fit(X, y)
    robust = GridSearchCV(RobustRegressor(), grid, cv=cv, scoring=robust_scorer("tau")).fit(X, y)
    assert default.best_params_ == {"epsilon": 1e3}
    assert robust.best_params_ == {"epsilon": 1.345}
    np.testing.assert_allclose(robust.best_estimator_.coef_, [1.0, -2.0, 0.5], atol=0.15)


@pytest.mark.parametrize("kind", ["tau", "trimmed_mse", "mad"])
def test_cross_val_score_and_halving_search(kind):
    X, y = _dirty_data(n=300)
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(RobustRegressor(), X, y, cv=cv, scoring=robust_scorer(kind))
    assert scores.shape == (3,) and np.all(np.isfinite(scores)) and np.all(scores < 0)
    halving = HalvingGridSearchCV(RobustRegressor(), {"epsilon": [1.345, 1e3]}, cv=cv,
                                  scoring=robust_scorer(kind), min_resources=100,
                                  random_state=0).fit(X, y)
    assert halving.best_params_ == {"epsilon": 1.345}


def test_cross_validate_with_several_scorers():
    X, y = _dirty_data()
    cv = KFold(3, shuffle=True, random_state=0)
    scoring = {"tau": robust_scorer("tau"), "trimmed": robust_scorer("trimmed_mse", trim=0.2),
               "mad": robust_scorer("mad"), "r2": "r2"}
    out = cross_validate(LinearRegression(), X, y, cv=cv, scoring=scoring)
    for k, (train, test) in enumerate(cv.split(X)):
        pred = LinearRegression().fit(X[train], y[train]).predict(X[test])
        assert out["test_tau"][k] == pytest.approx(-tau_scale(y[test], pred))
        assert out["test_trimmed"][k] == pytest.approx(-trimmed_mse(y[test], pred, trim=0.2))
        assert out["test_mad"][k] == pytest.approx(-residual_mad(y[test], pred))


def test_sample_weight_is_routed_to_the_scorer():
    X, y = _dirty_data()
    w = np.random.default_rng(7).integers(1, 4, size=y.size).astype(float)
    cv = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = robust_scorer("tau").set_score_request(sample_weight=True)
        reg = LinearRegression().set_fit_request(sample_weight=True)
        out = cross_validate(reg, X, y, cv=cv, scoring={"tau": scorer},
                             params={"sample_weight": w})
    for k, (train, test) in enumerate(cv.split(X)):
        pred = LinearRegression().fit(X[train], y[train], sample_weight=w[train]).predict(X[test])
        expected = -tau_scale(y[test], pred, sample_weight=w[test])
        assert out["test_tau"][k] == pytest.approx(expected, rel=1e-10)
        assert expected != pytest.approx(-tau_scale(y[test], pred), rel=1e-6)
