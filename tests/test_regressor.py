"""RobustRegressor: parity with HuberRegressor and MASS::rlm, invariants, weights, bad input."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrobust import RobustRegressor
from skrobust.datasets import load_stackloss
from skrobust.losses import get_loss

LOSSES = ["huber", "tukey", "barron", "cauchy", "welsch", "geman_mcclure", "pseudo_huber"]


@pytest.fixture(scope="module")
def stackloss():
    return load_stackloss(return_X_y=True)


def contaminated(n=400, d=3, frac=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = np.arange(1, d + 1, dtype=float)
    y = X @ coef + 2.0 + rng.normal(size=n)
    bad = rng.choice(n, int(frac * n), replace=False)
    y[bad] += rng.choice([-1, 1], bad.size) * rng.uniform(15, 30, bad.size)
    return X, y, coef


def _rel(a, b):
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


# ----------------------------------------------------------------- parity
@pytest.mark.parametrize("kind", ["dense", "csr", "weighted"])
def test_joint_huber_matches_huber_regressor(kind):
    X, y, _ = contaminated(300, 4, seed=1)
    sw = None
    if kind == "weighted":
        sw = np.random.default_rng(2).uniform(0.2, 3.0, size=len(y))
    Xf = sp.csr_matrix(X) if kind == "csr" else X
    ref = HuberRegressor(epsilon=1.35, alpha=1e-4, tol=1e-12, max_iter=100000).fit(Xf, y, sw)
    ours = RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4, tol=1e-12,
                           max_iter=1000).fit(Xf, y, sw)
    assert _rel(ours.coef_, ref.coef_) < 1e-4
    assert _rel(ours.intercept_, ref.intercept_) < 1e-4
    assert _rel(ours.scale_, ref.scale_) < 1e-4
    np.testing.assert_array_equal(ours.outliers_, ref.outliers_)


def test_joint_huber_matches_huber_regressor_on_stackloss(stackloss):
    X, y = stackloss
    ref = HuberRegressor(epsilon=1.35, alpha=1e-4, tol=1e-12, max_iter=100000).fit(X, y)
    for solver in ["irls", "lbfgs"]:
        ours = RobustRegressor(scale="joint", epsilon=1.35, alpha=1e-4, solver=solver,
                               tol=1e-12, max_iter=10000).fit(X, y)
        assert _rel(ours.coef_, ref.coef_) < 1e-4
        assert _rel(ours.scale_, ref.scale_) < 1e-4
        np.testing.assert_array_equal(ours.outliers_, ref.outliers_)


# MASS::rlm reference fits (statsmodels' results_rlm.py), see regression_peers.md section 4
RLM_HUBER = ([-41.02653105, 0.82937387, 0.92610818, -0.12784916], 2.4407137948148447)
RLM_BISQUARE = ([-42.28525369, 0.92754710, 0.65073222, -0.11233103], 2.2818858795649497)


@pytest.mark.parametrize("solver", ["irls", "lbfgs"])
@pytest.mark.parametrize("loss,eps,ref", [("huber", 1.345, RLM_HUBER),
                                          ("tukey", 4.685, RLM_BISQUARE)])
def test_mass_rlm_parity_on_stackloss(stackloss, loss, eps, ref, solver):
    X, y = stackloss
    reg = RobustRegressor(loss=loss, epsilon=eps, scale="mad", init="ols", alpha=0,
                          solver=solver).fit(X, y)
    params = np.r_[reg.intercept_, reg.coef_]
    # MASS stops at acc=1e-4; a converged fit differs in the 5th digit (note section 4)
    assert _rel(params, ref[0]) < 2e-4
    assert _rel(reg.scale_, ref[1]) < 3e-4


def test_rlm_weights_on_stackloss(stackloss):
    X, y = stackloss
    reg = RobustRegressor(loss="huber", epsilon=1.345, scale="mad", init="ols").fit(X, y)
    w = reg.weights_
    np.testing.assert_allclose(w[[2, 3, 20]], [0.7858871, 0.50494094, 0.36814106], rtol=2e-3)
    assert np.all(np.delete(w, [2, 3, 20]) == 1.0)


# ---------------------------------------------------------------- solvers
@pytest.mark.parametrize("loss", ["huber", "pseudo_huber", "barron"])
@pytest.mark.parametrize("scale", ["joint", 1.5, "mad", "proposal2"])
def test_irls_and_lbfgs_reach_the_same_optimum(loss, scale):
    X, y, _ = contaminated(300, 3, seed=3)
    kw = dict(loss=loss, scale=scale, tol=1e-10, max_iter=2000, alpha=0.01)
    if loss == "barron":
        kw["shape"] = 1.5
    a = RobustRegressor(solver="irls", **kw).fit(X, y)
    b = RobustRegressor(solver="lbfgs", **kw).fit(X, y)
    assert _rel(np.r_[a.coef_, a.intercept_], np.r_[b.coef_, b.intercept_]) < 1e-6
    assert _rel(a.scale_, b.scale_) < 1e-6


def test_iteration_limit_warns_and_returns_last_iterate():
    X, y, coef = contaminated(300, 3, seed=4)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        reg = RobustRegressor(max_iter=2).fit(X, y)
    assert np.all(np.isfinite(reg.coef_))
    assert reg.n_iter_ == 2
    with pytest.warns(ConvergenceWarning):
        RobustRegressor(max_iter=1, solver="lbfgs").fit(X, y)


def test_no_warning_on_well_posed_data():
    X, y, _ = contaminated(300, 3, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss in LOSSES:
            RobustRegressor(loss=loss).fit(X, y)


# ---------------------------------------------------------------- robustness
@pytest.mark.parametrize("loss", LOSSES)
def test_vertical_outliers_are_rejected(loss):
    X, y, coef = contaminated(400, 3, frac=0.2, seed=6)
    reg = RobustRegressor(loss=loss).fit(X, y)
    assert np.max(np.abs(reg.coef_ - coef)) < 0.2
    from sklearn.linear_model import LinearRegression

    assert np.max(np.abs(LinearRegression().fit(X, y).coef_ - coef)) > 0.2


# ---------------------------------------------------------------- weights
CASES = [(loss, "mad") for loss in LOSSES] + [("huber", "proposal2"), ("huber", "joint"),
                                              ("tukey", "proposal2"), ("huber", 2.0)]


@pytest.mark.parametrize("loss,scale", CASES)
def test_integer_weights_equal_repeated_rows(loss, scale):
    X, y, _ = contaminated(200, 3, seed=7)
    w = np.random.default_rng(8).integers(0, 4, size=len(y))
    kw = dict(loss=loss, scale=scale, tol=1e-12, max_iter=5000)
    a = RobustRegressor(**kw).fit(X, y, sample_weight=w)
    rep = np.repeat(np.arange(len(y)), w)
    b = RobustRegressor(**kw).fit(X[rep], y[rep])
    # the adaptive Barron fit (L-BFGS over shape and scale) stops at its gradient tolerance
    rtol = 1e-6 if loss == "barron" else 1e-8
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(a.scale_, b.scale_, rtol=rtol)


@pytest.mark.parametrize("loss", ["huber", "tukey"])
def test_zero_weight_equals_removed_row(loss):
    X, y, _ = contaminated(200, 3, seed=9)
    w = np.ones(len(y))
    w[:30] = 0
    a = RobustRegressor(loss=loss, tol=1e-12).fit(X, y, sample_weight=w)
    b = RobustRegressor(loss=loss, tol=1e-12).fit(X[30:], y[30:])
    np.testing.assert_allclose(np.r_[a.coef_, a.intercept_, a.scale_],
                               np.r_[b.coef_, b.intercept_, b.scale_], rtol=1e-8)
    assert a.weights_.shape == (200,)


def test_lbfgs_integer_weights_equal_repeated_rows():
    X, y, _ = contaminated(200, 3, seed=10)
    w = np.random.default_rng(11).integers(0, 3, size=len(y))
    rep = np.repeat(np.arange(len(y)), w)
    kw = dict(scale="joint", solver="lbfgs", tol=1e-12, max_iter=5000)
    a = RobustRegressor(**kw).fit(X, y, sample_weight=w)
    b = RobustRegressor(**kw).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6)


# ---------------------------------------------------------------- equivariance
@pytest.mark.parametrize("loss", LOSSES)
def test_equivariance(loss):
    X, y, _ = contaminated(300, 3, seed=12)
    rng = np.random.default_rng(13)
    kw = dict(loss=loss, alpha=0.0, tol=1e-12, max_iter=2000)
    base = RobustRegressor(**kw).fit(X, y)
    b = rng.normal(size=3)
    shifted = RobustRegressor(**kw).fit(X, y + X @ b)
    np.testing.assert_allclose(shifted.coef_, base.coef_ + b, rtol=1e-6, atol=1e-7)
    scaled = RobustRegressor(**kw).fit(X, 10.0 * y)
    np.testing.assert_allclose(scaled.coef_, 10.0 * base.coef_, rtol=1e-6)
    np.testing.assert_allclose(scaled.scale_, 10.0 * base.scale_, rtol=1e-6)
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    affine = RobustRegressor(**kw).fit(X @ A, y)
    np.testing.assert_allclose(affine.coef_, np.linalg.solve(A, base.coef_), rtol=1e-6,
                               atol=1e-7)


# ---------------------------------------------------------------- input kinds
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("solver", ["irls", "lbfgs"])
def test_sparse_matches_dense(fmt, loss, solver):
    X, y, _ = contaminated(200, 3, seed=14)
    X[X < -1] = 0.0
    kw = dict(loss=loss, solver=solver, tol=1e-10, max_iter=1000)
    dense = RobustRegressor(**kw).fit(X, y)
    sparse = RobustRegressor(**kw).fit(getattr(sp, f"{fmt}_matrix")(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-6,
                               atol=1e-6)


def test_float32_input():
    X, y, coef = contaminated(200, 3, seed=15)
    reg = RobustRegressor().fit(X.astype(np.float32), y.astype(np.float32))
    assert reg.coef_.dtype == np.float64
    assert np.max(np.abs(reg.coef_ - coef)) < 0.3


def test_float32_input_is_fitted_as_its_float64_copy():
    # float32 X is cast to float64 once; the fit is the float64 fit of the same values
    X, y, _ = contaminated(200, 3, seed=15)
    X32 = X.astype(np.float32)
    for kw in ({}, {"loss": "quantile"}, {"loss": "barron", "shape": "adaptive"}):
        a = RobustRegressor(**kw).fit(X32, y)
        b = RobustRegressor(**kw).fit(X32.astype(np.float64), y)
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert a.intercept_ == b.intercept_


def test_inputs_are_never_modified():
    X, y, _ = contaminated(100, 3, seed=16)
    w = np.ones(100)
    copies = X.copy(), y.copy(), w.copy()
    RobustRegressor(loss="tukey").fit(X, y, w).predict(X)
    for a, b in zip((X, y, w), copies, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss", LOSSES)
def test_exact_fit_and_constant_target_are_finite(loss):
    rng = np.random.default_rng(17)
    X = rng.normal(size=(30, 2))
    for y in (X @ [1.0, 2.0] + 3.0, np.full(30, 4.0), np.zeros(30)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reg = RobustRegressor(loss=loss).fit(X, y)
        messages = [str(w.message) for w in caught]
        # the adaptive likelihood is unbounded on an exact fit: it says so in its own words
        expected = "adaptive Barron fit: " if loss == "barron" else "exact fit: 30 of 30 rows"
        assert len(messages) == 1 and messages[0].startswith(expected), messages
        assert np.all(np.isfinite(reg.coef_)) and np.isfinite(reg.intercept_)
        assert reg.scale_ > 0 and np.all(np.isfinite(reg.weights_))
        np.testing.assert_allclose(reg.predict(X), y, atol=1e-8)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", ["nan_X", "inf_X", "nan_y", "nan_w", "neg_w", "zero_w"])
def test_bad_data_raises(bad):
    X, y, _ = contaminated(50, 2, seed=18)
    w = np.ones(50)
    if bad == "nan_X":
        X[3, 1] = np.nan
    elif bad == "inf_X":
        X[3, 1] = np.inf
    elif bad == "nan_y":
        y[0] = np.nan
    elif bad == "nan_w":
        w[0] = np.nan
    elif bad == "neg_w":
        w[0] = -1
    else:
        w[:] = 0
    match = {"neg_w": "(?i)negative", "zero_w": "non-zero|all weights are zero",
             "nan_w": "NaN"}.get(bad, "NaN|infinity")
    with pytest.raises(ValueError, match=match):
        RobustRegressor().fit(X, y, sample_weight=w)


@pytest.mark.parametrize("params,match", [
    (dict(epsilon=0), "epsilon"), (dict(epsilon=-1.0), "epsilon"),
    (dict(scale="iqr"), "scale"), (dict(scale=-1.0), "scale"),
    (dict(solver="newton"), "solver"), (dict(loss="l1"), "loss"),
    (dict(alpha=-1.0), "alpha"), (dict(loss="barron", shape=np.nan), "shape"),
    (dict(loss="barron", shape=3.0), "shape"), (dict(init="median"), "init"),
])
def test_bad_parameters_raise(params, match):
    X, y, _ = contaminated(50, 2, seed=19)
    with pytest.raises(ValueError, match=match):
        RobustRegressor(**params).fit(X, y)


def test_joint_scale_rejects_redescending_loss():
    X, y, _ = contaminated(50, 2, seed=20)
    with pytest.raises(ValueError, match="joint"):
        RobustRegressor(loss="tukey", scale="joint").fit(X, y)


def test_loss_object_and_epsilon():
    X, y, _ = contaminated(100, 2, seed=21)
    a = RobustRegressor(loss=get_loss("huber", c=2.0)).fit(X, y)
    b = RobustRegressor(loss="huber", epsilon=2.0).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert a.loss_.c == 2.0
    assert RobustRegressor().fit(X, y).loss_.c == 1.345
    assert RobustRegressor(loss="tukey").fit(X, y).loss_.c == pytest.approx(4.685061)


# ---------------------------------------------------------------- sklearn plumbing
def test_pipeline_gridsearch_pickle_clone_pandas():
    X, y, _ = contaminated(200, 3, seed=22)
    pipe = make_pipeline(StandardScaler(), RobustRegressor())
    grid = GridSearchCV(pipe, {
        "robustregressor__loss": ["huber", "tukey", "barron"],
        "robustregressor__epsilon": [None, 2.0],
        "robustregressor__shape": [0.5, 1.0],
        "robustregressor__alpha": [0.0, 1.0],
        "robustregressor__scale": ["mad", "proposal2"],
    }, cv=3, n_jobs=2).fit(X, y)
    assert np.isfinite(grid.best_score_)
    assert np.all(np.isfinite(cross_val_score(RobustRegressor(), X, y, cv=3)))
    reg = RobustRegressor(loss="tukey").fit(X, y)
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    assert clone(reg).get_params() == reg.get_params()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    fitted = RobustRegressor().fit(frame, pd.Series(y))
    assert list(fitted.feature_names_in_) == ["a", "b", "c"]


def test_warm_start_reuses_the_previous_fit():
    X, y, _ = contaminated(200, 3, seed=23)
    reg = RobustRegressor(warm_start=True).fit(X, y)
    n_first = reg.n_iter_
    reg.fit(X, y)
    assert reg.n_iter_ <= 2 < n_first
