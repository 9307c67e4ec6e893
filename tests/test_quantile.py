"""The quantile (pinball) loss and the exact quantile regression solver.

skrobust.losses.quantile (kernels) and skrobust.solvers.quantile
(quantile_regression; the process is in test_quantile_process.py); the estimator path
(RobustRegressor(loss="quantile")) is tested in test_quantile_regressor.py.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.linear_model import QuantileRegressor
from sklearn.metrics import mean_pinball_loss

from skrobust.design.linear import LinearDesign
from skrobust.losses import Quantile, available_losses, get_loss
from skrobust.losses.quantile import QUANTILE_WEIGHT_FLOOR, check_quantile
from skrobust.solvers.quantile import quantile_regression

QUANTILES = [0.1, 0.5, 0.9]


def _pinball(r, q):
    return Quantile(quantile=q).rho(r)


def make_data(n, d, seed, heavy=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    noise = rng.standard_t(3, n) if heavy else rng.standard_normal(n)
    y = X @ rng.uniform(-2, 2, d) + 1.0 + noise * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def with_intercept(res, fit_intercept=True):
    return np.r_[res.coef_, res.intercept_] if fit_intercept else res.coef_


def rel_gap(got, want):
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def fit(X, y, q, w=None, fit_intercept=True, **kw):
    res = quantile_regression(LinearDesign(X, fit_intercept), y, w, q, **kw)
    assert res.converged, res.message
    assert res.message == ""
    return res


def highs(X, y, q, w=None, fit_intercept=True):
    ref = QuantileRegressor(quantile=q, alpha=0.0, solver="highs", fit_intercept=fit_intercept)
    return with_intercept(ref.fit(X, y, sample_weight=w), fit_intercept)


# ------------------------------------------------------------------- the loss
def test_loss_is_registered():
    assert "quantile" in available_losses()
    loss = get_loss("quantile", quantile=0.25)
    assert isinstance(loss, Quantile)
    assert loss.name == "quantile" and loss.convex and not loss.redescending
    assert loss.symmetric is False and get_loss("huber").symmetric is True
    assert loss.default_c == 1.0 and loss.max_rho == math.inf
    assert loss.params == {"quantile": 0.25, "c": 1.0}


@pytest.mark.parametrize("q", [0.1, 0.5, 0.75])
def test_loss_formulas(q):
    loss = get_loss("quantile", quantile=q)
    u = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(loss.rho(u), np.where(u >= 0, q * u, (q - 1) * u), rtol=1e-15)
    np.testing.assert_array_equal(loss.psi(u), np.where(u > 0, q, np.where(u < 0, q - 1, 0.0)))
    np.testing.assert_array_equal(loss.psi_deriv(u), np.zeros_like(u))
    # weight = psi / u away from the floor, |psi| / delta inside it, finite at 0
    away = np.abs(u) >= QUANTILE_WEIGHT_FLOOR
    np.testing.assert_allclose(loss.weight(u)[away] * u[away], loss.psi(u)[away], rtol=1e-14)
    tiny = np.array([-1e-300, -1e-9, 0.0, 1e-9, 1e-300])
    delta = QUANTILE_WEIGHT_FLOOR
    np.testing.assert_allclose(loss.weight(tiny),
                               [(1 - q) / delta, (1 - q) / delta, 0.5 / delta, q / delta,
                                q / delta], rtol=1e-15)
    assert loss.weight_at_zero() == 0.5 / delta
    # c is accepted for API uniformity but does not change anything
    other = get_loss("quantile", quantile=q, c=3.0)
    for method in ("rho", "psi", "weight", "psi_deriv"):
        np.testing.assert_array_equal(getattr(other, method)(u), getattr(loss, method)(u))


def test_loss_kernels_are_finite_at_extremes():
    loss = get_loss("quantile", quantile=0.3)
    big = float(np.finfo(np.float64).max)
    u = np.array([-big, -1e300, -1e-300, -5e-324, 0.0, 5e-324, 1e-300, 1e300, big])
    for method in ("rho", "psi", "weight", "psi_deriv"):
        out = getattr(loss, method)(u)
        assert np.all(np.isfinite(out)), method
    assert np.all(loss.rho(u) >= 0) and np.all(loss.weight(u) >= 0)
    f32 = np.finfo(np.float32)
    u32 = np.array([-f32.max, -f32.tiny, 0.0, f32.tiny, f32.max], dtype=np.float32)
    out32 = loss.weight(u32)
    assert out32.dtype == np.float32 and np.all(np.isfinite(out32))


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5, math.nan, math.inf, -math.inf])
def test_bad_quantile_loss(q):
    with pytest.raises(ValueError, match="quantile"):
        get_loss("quantile", quantile=q)


def test_non_numeric_quantile_loss():
    with pytest.raises(TypeError, match="quantile"):
        get_loss("quantile", quantile="median")


# ---------------------------------------------------------- parity with HiGHS
@pytest.mark.parametrize("q", QUANTILES)
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("weights", ["none", "integer", "real"])
def test_matches_highs(q, fmt, weights):
    n, d = (600, 5) if weights != "real" else (2500, 8)  # 2500 rows: the banded finish
    X, y = make_data(n, d, seed=hash((q, fmt, weights)) % 1000)
    rng = np.random.default_rng(7)
    w = {"none": None, "integer": rng.integers(1, 5, n).astype(float),
         "real": rng.uniform(0.2, 3.0, n)}[weights]
    if fmt == "csr":
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    res = fit(X, y, q, w)
    want = highs(X, y, q, w)
    assert rel_gap(res.beta, want) < 1e-4
    # the exact vertex: the objective is not above HiGHS's
    s = np.ones(n) if w is None else w
    pred = LinearDesign(X, True).predict(want)
    assert res.objective <= float(s @ _pinball(y - pred, q)) * (1 + 1e-12)


@pytest.mark.parametrize("q", [0.25, 0.75])
def test_matches_highs_without_intercept(q):
    X, y = make_data(400, 4, seed=3)
    res = fit(X, y, q, fit_intercept=False)
    assert rel_gap(res.beta, highs(X, y, q, fit_intercept=False)) < 1e-4


@pytest.mark.parametrize("q", QUANTILES)
def test_fraction_of_negative_residuals(q):
    n = 1500
    X, y = make_data(n, 6, seed=11)
    res = fit(X, y, q)
    r = y - LinearDesign(X, True).predict(res.beta)
    zero = np.abs(r) <= 1e-9 * np.abs(y).max()
    assert np.count_nonzero(zero) == 7  # an exact vertex: p interpolated points
    # with an intercept: #{r < 0} <= q n <= #{r <= 0}
    assert np.mean(r < 0) <= q <= np.mean((r < 0) | zero)
    assert abs(np.mean(r < 0) - q) <= np.count_nonzero(zero) / n


def test_scale_is_mean_pinball_loss():
    X, y = make_data(500, 3, seed=5)
    w = np.random.default_rng(0).uniform(0.5, 2.0, 500)
    res = fit(X, y, 0.3, w)
    pred = LinearDesign(X, True).predict(res.beta)
    assert res.scale == pytest.approx(mean_pinball_loss(y, pred, alpha=0.3, sample_weight=w),
                                      rel=1e-12)
    assert res.objective == pytest.approx(float(w @ _pinball(y - pred, 0.3)), rel=1e-12)


# --------------------------------------------------------------- the weights
def test_integer_weights_equal_repeated_rows():
    X, y = make_data(300, 4, seed=8)
    w = np.random.default_rng(2).integers(0, 4, 300)
    weighted = fit(X, y, 0.7, w.astype(float))
    repeated = fit(np.repeat(X, w, axis=0), np.repeat(y, w), 0.7)
    np.testing.assert_allclose(weighted.beta, repeated.beta, rtol=1e-9, atol=1e-12)
    assert weighted.objective == pytest.approx(repeated.objective, rel=1e-12)


def test_zero_weight_removes_the_row():
    X, y = make_data(400, 3, seed=9)
    w = np.ones(400)
    w[::7] = 0.0
    y_bad = y.copy()
    y_bad[::7] = 1e6  # what a removed row holds cannot matter
    weighted = fit(X, y_bad, 0.4, w)
    removed = fit(X[w > 0], y[w > 0], 0.4)
    np.testing.assert_allclose(weighted.beta, removed.beta, rtol=1e-12, atol=1e-12)


def test_weights_are_scale_free():
    X, y = make_data(300, 3, seed=10)
    w = np.random.default_rng(3).uniform(0.5, 1.5, 300)
    a, b = fit(X, y, 0.6, w), fit(X, y, 0.6, 1000.0 * w)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-9, atol=1e-12)


# -------------------------------------------------------- degenerate problems
def test_ties_and_duplicates_reach_the_optimum():
    # integer target, binary features: many tied residuals, several optimal vertices
    rng = np.random.default_rng(4)
    X = (rng.random((3000, 5)) < 0.3).astype(float)
    y = rng.integers(0, 6, 3000).astype(float)
    for q in (0.2, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # solvers never warn
            res = fit(X, y, q)
        want = highs(X, y, q)
        f_ref = float(_pinball(y - LinearDesign(X, True).predict(want), q).sum())
        assert res.objective <= f_ref * (1 + 1e-9)


def test_collinear_columns_reach_the_optimum():
    X, y = make_data(300, 3, seed=12)
    Xd = np.hstack([X, X[:, :1]])  # not of full column rank: no unique optimum
    res = fit(Xd, y, 0.5)
    want = highs(Xd, y, 0.5)
    f_ref = float(_pinball(y - LinearDesign(Xd, True).predict(want), 0.5).sum())
    assert res.objective == pytest.approx(f_ref, rel=1e-8)


def test_perfect_fit_and_intercept_only():
    X = np.random.default_rng(0).standard_normal((50, 2))
    res = fit(X, X @ [1.0, 2.0] + 3.0, 0.3)
    np.testing.assert_allclose(res.beta, [1.0, 2.0, 3.0], atol=1e-10)
    y = np.arange(51.0)
    res = fit(np.zeros((51, 0)), y, 0.3)  # the sample quantile: 15 of 51 rows below
    assert res.beta[0] == 15.0


def test_warm_start_and_max_iter():
    X, y = make_data(800, 5, seed=13)
    cold = fit(X, y, 0.2)
    warm = fit(X, y, 0.2, beta0=cold.beta)
    np.testing.assert_allclose(warm.beta, cold.beta, rtol=1e-10, atol=1e-12)
    # the L2-penalised problem has no simplex fallback: one iteration is not enough
    short = quantile_regression(LinearDesign(X, True), y, None, 0.2, alpha=1.0, max_iter=1)
    assert not short.converged and "iterations" in short.message
    assert np.all(np.isfinite(short.beta))


# ------------------------------------------------------------- the L2 penalty
def subgradient_holds(X, y, s, q, alpha, beta, tol=1e-7):
    """An independent check of 0 in the subdifferential, by a feasibility LP."""
    A = np.hstack([X, np.ones((len(y), 1))])
    r = y - A @ beta
    zero = np.abs(r) <= 1e-9 * (1 + np.abs(y))
    psi = np.where(r > 0, q, q - 1.0)
    psi[zero] = 0.0
    grad_pen = 2 * alpha * np.r_[beta[:-1], 0.0]
    rhs = grad_pen - A.T @ (s * psi)  # = A_zero' lambda, lambda in the box
    if not zero.any():
        return bool(np.max(np.abs(rhs)) <= tol * np.abs(A.T @ s).max())
    res = linprog(np.zeros(zero.sum()), A_eq=A[zero].T, b_eq=rhs,
                  bounds=list(zip((q - 1) * s[zero], q * s[zero], strict=True)), method="highs")
    return res.status == 0


@pytest.mark.parametrize("q", [0.2, 0.5, 0.8])
def test_penalty_shrinks_and_is_optimal(q):
    X, y = make_data(700, 5, seed=14)
    s = np.random.default_rng(5).uniform(0.5, 2.0, 700)
    free = fit(X, y, q, s)
    norms = [np.linalg.norm(free.beta[:-1])]
    A = np.hstack([X, np.ones((700, 1))])
    for alpha in (1.0, 100.0, 1e4):
        res = fit(X, y, q, s, alpha=alpha)
        norms.append(np.linalg.norm(res.beta[:-1]))
        assert subgradient_holds(X, y, s, q, alpha, res.beta)

        def objective(b, alpha=alpha):
            return float(s @ _pinball(y - A @ b, q)) + alpha * float(b[:-1] @ b[:-1])

        assert res.objective == pytest.approx(objective(res.beta), rel=1e-12)
        rng = np.random.default_rng(0)
        for _ in range(20):  # no perturbation improves the objective
            step = rng.standard_normal(6) * 1e-4
            assert objective(res.beta + step) >= res.objective - 1e-9 * res.objective
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False))


def test_penalty_sparse_matches_dense():
    X, y = make_data(2500, 6, seed=15)
    X[np.random.default_rng(6).random(X.shape) < 0.6] = 0.0
    a = fit(X, y, 0.3, alpha=50.0)
    b = fit(sp.csr_matrix(X), y, 0.3, alpha=50.0)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 2.0, math.nan, math.inf, "half", None])
def test_bad_quantile_solver(q):
    X, y = make_data(30, 2, seed=0)
    with pytest.raises(ValueError, match="quantile"):
        quantile_regression(LinearDesign(X, True), y, None, q)
    with pytest.raises(ValueError, match="quantile"):
        check_quantile(q, non_numeric_error=ValueError)


def test_bad_arguments():
    X, y = make_data(30, 2, seed=0)
    design = LinearDesign(X, True)
    with pytest.raises(ValueError, match="alpha"):
        quantile_regression(design, y, None, 0.5, alpha=-1.0)
    with pytest.raises(ValueError, match="sample_weight"):
        quantile_regression(design, y, -np.ones(30), 0.5)
    with pytest.raises(ValueError, match="sample_weight"):
        quantile_regression(design, y, np.zeros(30), 0.5)
    with pytest.raises(ValueError, match="y"):
        quantile_regression(design, y[:-1], None, 0.5)
    with pytest.raises(ValueError, match="finite"):
        quantile_regression(design, np.r_[y[:-1], np.nan], None, 0.5)
    X_bad = X.copy()
    X_bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="X must be finite"):
        quantile_regression(LinearDesign(X_bad, True), y, None, 0.5)
    with pytest.raises(ValueError, match="beta0"):
        quantile_regression(design, y, None, 0.5, beta0=np.zeros(2))
    with pytest.raises(TypeError, match="LinearDesign"):
        quantile_regression(X, y, None, 0.5)
