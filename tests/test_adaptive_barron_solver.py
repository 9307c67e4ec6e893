"""The adaptive Barron solver (skrobust.solvers.adaptive_barron) on LinearDesign.

References are independent: mpmath at high precision for the shape
derivative of rho, adaptive quadrature for log Z, the library's Barron loss
for rho and its weight, finite differences for the objective's gradient,
and repeated rows for frequency weights.
"""

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import integrate

from skrobust._linalg import solve_normal_equations
from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.losses import barron_nll, get_loss
from skrobust.losses.barron import barron_parts, barron_shape_series
from skrobust.losses.distribution import barron_log_partition_with_grad as _log_z
from skrobust.scale import MADScale, scale_floor
from skrobust.solvers._result import SolverResult
from skrobust.solvers.adaptive_barron import (
    AdaptiveBarronResult,
    adaptive_barron,
    adaptive_barron_objective,
)
from skrobust.solvers.irls import irls


def _parts(t, shape, b):
    return barron_parts(t, shape, b, barron_shape_series(shape))


def _log_z_by_quadrature(shape):
    """log Z by adaptive quadrature of the library's Barron loss (x = e**t)."""
    loss = get_loss("barron", shape=shape)

    def integrand(t):
        return math.exp(t - float(loss.rho(np.array([math.exp(t)]))[0]))

    total = sum(integrate.quad(integrand, a, b, epsabs=0.0, epsrel=1e-12, limit=400)[0]
                for a, b in [(-40.0, 0.0), (0.0, 60.0)])
    return math.log(2.0 * total)


def huber_start(design, y, s=None):
    """The estimator's start: least squares, then a Huber M-fit (MAD scale)."""
    s = np.ones_like(y) if s is None else s
    G, h = design.gram(s, y)
    ols = solve_normal_equations(G, h)
    problem = MProblem(design, y, s, get_loss("huber"), MADScale(scale_floor(y, s)), 0.0)
    return irls(problem, ols, None, max_iter=100, tol=1e-6).beta, ols


def paper_data(n=1000, seed=0):
    """Barron's regression example: 10% of the responses replaced by 0.05 or 0.85."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    y = 0.7 * x + 0.15 + rng.normal(0, 0.025, n)
    idx = rng.choice(n, n // 10, replace=False)
    y[idx] = 0.05 + 0.4 * (1 - np.sign(y[idx] - 0.5))
    return x[:, None], y


COEF = np.array([1.0, -2.0, 0.5])


@pytest.fixture(scope="module")
def noise_fits():
    rng = np.random.default_rng(42)
    n = 5000
    X = rng.normal(size=(n, 3))
    design = LinearDesign(X, fit_intercept=True)
    out = {}
    for name, noise in [("gauss", 0.5 * rng.normal(size=n)),
                        ("cauchy", rng.standard_cauchy(n)),
                        ("t3", rng.standard_t(3, n))]:
        y = X @ COEF + 1.0 + noise
        beta0, _ = huber_start(design, y)
        out[name] = adaptive_barron(design, y, beta0=beta0)
    return out


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("shape", [0.0, 1e-9, 0.3, 1.0, 1.5, 1.99, 1.999])
def test_kernel_matches_loss_library(shape):
    t = np.concatenate([[0.0], np.logspace(-8, 4, 50), [1e100, 1e300]])
    loss = get_loss("barron", shape=shape)
    rho = np.array([_parts(v, shape, 2.0 - shape)[0] for v in t])
    omega = np.array([_parts(v, shape, 2.0 - shape)[2] for v in t])
    omega_z = np.array([_parts(v, shape, 2.0 - shape)[1] for v in t])
    np.testing.assert_allclose(rho, loss.rho(t), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(omega, loss.weight(t), rtol=1e-13, atol=1e-300)
    finite = t < 1e100  # omega * t**2 overflows beyond
    np.testing.assert_allclose(omega_z[finite], omega[finite] * t[finite] ** 2, rtol=1e-13)


@pytest.mark.parametrize("shape", [0.0, 1e-7, 0.25, 1.0, 1.7, 1.999])
def test_shape_derivative_of_rho_matches_mpmath(shape):
    mp.mp.dps = 60

    def rho(t, a):
        b = 2 - a
        return b / a * ((t * t / b + 1) ** (a / 2) - 1)

    a0 = mp.mpf(shape) if shape > 0 else mp.mpf(10) ** -40
    for t in [1e-3, 0.05, 0.3, 1.0, 2.5, 10.0, 1e3, 1e8]:
        tm = mp.mpf(t)
        want = float(mp.diff(lambda a, tm=tm: rho(tm, a), a0, h=mp.mpf(10) ** -45))
        got = _parts(t, shape, 2.0 - shape)[3]
        assert got >= 0
        assert got == pytest.approx(want, rel=1e-8, abs=1e-300), (t, got, want)


def test_shape_derivative_of_rho_at_zero_is_the_analytic_limit():
    # Barron's limit at shape 0: L**2/4 - L/2 + z/(2(z+2)), L = log1p(z/2)
    for t in [0.1, 1.0, 7.0]:
        z = t * t
        L = math.log1p(z / 2)
        want = L * L / 4 - L / 2 + z / (2 * (z + 2))
        assert _parts(t, 0.0, 2.0)[3] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("shape", [0.0, 0.001, 0.5, 1.0, 1.5, 1.9, 1.99, 1.999])
def test_log_partition_matches_adaptive_quadrature(shape):
    value, grad = _log_z(shape)
    assert value == pytest.approx(_log_z_by_quadrature(shape), abs=1e-12)
    h = 1e-6 * min(1.0, 2.0 - shape)
    lo = max(shape - h, 0.0)
    fd = (_log_z(shape + h)[0] - _log_z(lo)[0]) / (shape + h - lo)
    assert grad == pytest.approx(fd, rel=1e-6 if shape > 0 else 1e-5)


def test_log_partition_closed_forms():
    assert math.exp(_log_z(0.0)[0]) == pytest.approx(math.pi * math.sqrt(2), rel=1e-13)
    assert math.exp(_log_z(1.0)[0]) == pytest.approx(3.2723069725, rel=1e-10)
    assert math.exp(_log_z(0.5)[0]) == pytest.approx(3.638993131, rel=1e-9)
    # the singular slope next to 2: d log Z / d shape ~ ln|shape - 2| / 4
    g1, g2 = _log_z(1.999)[1], _log_z(1.9999)[1]
    assert g2 - g1 == pytest.approx(0.25 * math.log(0.1), rel=0.05)


# ---------------------------------------------------------------- objective
def test_objective_is_the_barron_nll():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = rng.standard_t(2, 50)
    s = rng.integers(0, 4, 50).astype(float)
    beta = np.array([0.3, -0.2, 0.1])
    design = LinearDesign(X, True)
    r = y - design.predict(beta)
    for shape in [0.0, 0.7, 1.5]:
        value, _ = adaptive_barron_objective(design, y, s, beta, shape, 0.8)
        assert value == pytest.approx(barron_nll(r, shape, 0.8, s), rel=1e-12)
    # the penalty: alpha ||coef||**2 / (2 c**2), intercept excluded
    v0, _ = adaptive_barron_objective(design, y, s, beta, 0.7, 0.8)
    v1, _ = adaptive_barron_objective(design, y, s, beta, 0.7, 0.8, alpha=3.0)
    assert v1 - v0 == pytest.approx(3.0 * (0.3**2 + 0.2**2) / (2 * 0.8**2), rel=1e-12)


@pytest.mark.parametrize("shape", [0.0, 0.05, 0.6, 1.0, 1.6, 1.99])
@pytest.mark.parametrize("sparse", [False, True])
def test_objective_gradient_matches_finite_differences(shape, sparse):
    rng = np.random.default_rng(1)
    n = 200
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, 0.0, -1.0] + 0.3 + rng.standard_t(2, n)
    s = rng.integers(0, 3, n).astype(float)
    design = LinearDesign(sp.csr_matrix(X) if sparse else X, True)
    beta = np.array([0.8, 0.1, -1.2, 0.2])
    log_c = math.log(0.7)
    alpha = 2.5

    def f(theta):
        return adaptive_barron_objective(design, y, s, theta[:4], theta[4], math.exp(theta[5]),
                                         alpha=alpha)[0]

    theta = np.concatenate([beta, [shape, log_c]])
    _, grad = adaptive_barron_objective(design, y, s, beta, shape, math.exp(log_c), alpha=alpha)
    for j in range(theta.size):
        h = 1e-5
        e = np.zeros_like(theta)
        e[j] = h
        if j == 4 and shape - h < 0:  # one-sided second order at the boundary
            fd = (-3 * f(theta) + 4 * f(theta + e) - f(theta + 2 * e)) / (2 * h)
        else:
            fd = (f(theta + e) - f(theta - e)) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-6, abs=1e-6 * n), j


# ------------------------------------------------------------------ fitting
def test_paper_regression_example():
    X, y = paper_data()
    design = LinearDesign(X, True)
    beta0, ols = huber_start(design, y)
    res = adaptive_barron(design, y, beta0=beta0)
    assert isinstance(res, AdaptiveBarronResult) and isinstance(res, SolverResult)
    assert res.converged
    slope, intercept = res.beta
    assert abs(slope - 0.7) < 0.02 and abs(intercept - 0.15) < 0.02
    assert res.shape < 1.0
    # least squares is dragged off by the outliers
    assert max(abs(ols[0] - 0.7), abs(ols[1] - 0.15)) > 0.02
    # the inlier noise sd is 0.025; Barron's scale of the quadratic bowl is of that order
    assert 0.005 < res.scale < 0.05
    # the solution is stationary for J
    _, grad = adaptive_barron_objective(design, y, None, res.beta, res.shape, res.scale)
    if res.shape_at_bound:
        grad[-2] = 0.0
    assert np.max(np.abs(grad)) / y.size < 1e-5


def test_gaussian_noise(noise_fits):
    res = noise_fits["gauss"]
    assert res.converged
    assert res.shape > 1.7
    assert res.scale == pytest.approx(0.5, rel=0.1)
    assert np.max(np.abs(res.beta - np.append(COEF, 1.0))) < 0.05


def test_cauchy_noise(noise_fits):
    res = noise_fits["cauchy"]
    assert res.converged
    assert res.shape < 0.5
    assert np.max(np.abs(res.beta - np.append(COEF, 1.0))) < 0.1
    # standard Cauchy noise is Barron's shape 0 with c = 1/sqrt(2)
    assert res.scale == pytest.approx(1 / math.sqrt(2), rel=0.1)


def test_student_t3_noise_between(noise_fits):
    res = noise_fits["t3"]
    assert res.converged
    assert noise_fits["cauchy"].shape < res.shape < noise_fits["gauss"].shape
    assert 0.2 < res.shape < 1.2
    assert np.max(np.abs(res.beta - np.append(COEF, 1.0))) < 0.1


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scale_equivariance(fit_intercept):
    X, y = paper_data(500, seed=3)
    X = np.column_stack([X, np.random.default_rng(3).normal(size=500)])
    design = LinearDesign(X, fit_intercept)
    beta0, _ = huber_start(design, y)
    res1 = adaptive_barron(design, y, beta0=beta0)
    res10 = adaptive_barron(design, 10 * y, beta0=10 * beta0)
    assert res1.converged and res10.converged
    assert res10.shape == pytest.approx(res1.shape, abs=1e-6)
    assert res10.scale == pytest.approx(10 * res1.scale, rel=1e-6)
    np.testing.assert_allclose(res10.beta, 10 * res1.beta, rtol=1e-6, atol=1e-7)
    # J shifts by n log 10 (the log c term)
    assert res10.objective == pytest.approx(res1.objective + y.size * math.log(10), abs=1e-6)
    if fit_intercept:  # shifting y only moves the intercept
        shifted = adaptive_barron(design, y + 3.0, beta0=beta0 + [0, 0, 3.0])
        assert shifted.shape == pytest.approx(res1.shape, abs=1e-6)
        np.testing.assert_allclose(shifted.beta, res1.beta + [0, 0, 3.0], rtol=1e-6, atol=1e-7)


def test_frequency_weights_are_repeated_rows():
    rng = np.random.default_rng(5)
    n = 300
    X = rng.normal(size=(n, 2))
    y = X @ [1.0, -1.0] + 0.5 + rng.standard_t(2, n)
    w = rng.integers(0, 4, n)
    rep = np.repeat(np.arange(n), w)
    beta0, _ = huber_start(LinearDesign(X[rep], True), y[rep])
    weighted = adaptive_barron(LinearDesign(X, True), y, w.astype(float), beta0=beta0)
    repeated = adaptive_barron(LinearDesign(X[rep], True), y[rep], beta0=beta0)
    assert weighted.converged and repeated.converged
    assert weighted.shape == pytest.approx(repeated.shape, abs=1e-6)
    assert weighted.scale == pytest.approx(repeated.scale, rel=1e-6)
    np.testing.assert_allclose(weighted.beta, repeated.beta, rtol=1e-6, atol=1e-6)
    assert weighted.objective == pytest.approx(repeated.objective, rel=1e-9)
    # a zero weight removes the row, however wild its response
    y_bad = y.copy()
    y_bad[w == 0] = 1e200
    bad = adaptive_barron(LinearDesign(X, True), y_bad, w.astype(float), beta0=beta0)
    assert bad.shape == pytest.approx(weighted.shape, abs=1e-9)
    np.testing.assert_allclose(bad.beta, weighted.beta, rtol=1e-9)


def test_sparse_design_matches_dense():
    X, y = paper_data(400, seed=7)
    dense = LinearDesign(X, True)
    beta0, _ = huber_start(dense, y)
    a = adaptive_barron(dense, y, beta0=beta0)
    b = adaptive_barron(LinearDesign(sp.csr_matrix(X), True), y, beta0=beta0)
    assert b.shape == pytest.approx(a.shape, abs=1e-6)
    np.testing.assert_allclose(b.beta, a.beta, rtol=1e-6)


def test_bounds_are_reported():
    X, y = paper_data()
    design = LinearDesign(X, True)
    beta0, _ = huber_start(design, y)
    res = adaptive_barron(design, y, beta0=beta0, shape_bounds=(0.5, 1.5))
    assert res.converged and res.shape == 0.5
    assert res.shape_at_bound == "lower" and "lower bound" in res.message
    rng = np.random.default_rng(2)
    Xg = rng.normal(size=(3000, 1))
    yg = Xg[:, 0] + rng.normal(size=3000)
    dg = LinearDesign(Xg, True)
    res = adaptive_barron(dg, yg, beta0=huber_start(dg, yg)[0], shape_bounds=(0.0, 1.0))
    assert res.shape == 1.0 and res.shape_at_bound == "upper" and "upper bound" in res.message
    # a fixed shape still learns the scale; no bound is reported
    res = adaptive_barron(dg, yg, beta0=huber_start(dg, yg)[0], shape_bounds=(1.0, 1.0))
    assert res.converged and res.shape == 1.0 and res.shape_at_bound == "" and res.message == ""
    _, grad = adaptive_barron_objective(dg, yg, None, res.beta, 1.0, res.scale)
    assert abs(grad[-1]) / yg.size < 1e-6


def test_scale_collapse_stops_at_the_floor():
    # 60% of the points lie exactly on a line: J -> -inf as c -> 0 without the floor
    rng = np.random.default_rng(0)
    n = 200
    X = rng.normal(size=(n, 1))
    y = 2 * X[:, 0] + 1
    y[:80] += rng.normal(size=80)
    design = LinearDesign(X, True)
    beta0, _ = huber_start(design, y)
    res = adaptive_barron(design, y, beta0=beta0)
    assert np.isfinite(res.objective) and np.all(np.isfinite(res.beta))
    np.testing.assert_allclose(res.beta, [2.0, 1.0], atol=1e-6)
    assert res.scale_at_floor and "floor" in res.message
    assert res.scale > 0


def test_penalty_shrinks_and_is_stationary():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    y = X @ [2.0, -1.0, 0.5] + rng.standard_t(3, 300)
    design = LinearDesign(X, True)
    beta0, _ = huber_start(design, y)
    free = adaptive_barron(design, y, beta0=beta0)
    pen = adaptive_barron(design, y, beta0=beta0, alpha=100.0)
    assert pen.converged
    assert np.linalg.norm(pen.beta[:3]) < np.linalg.norm(free.beta[:3])
    _, grad = adaptive_barron_objective(design, y, None, pen.beta, pen.shape, pen.scale,
                                        alpha=100.0)
    if pen.shape_at_bound:
        grad[-2] = 0.0
    assert np.max(np.abs(grad)) / y.size < 1e-5
    # scale equivariance holds with the penalty too
    pen10 = adaptive_barron(design, 10 * y, beta0=10 * beta0, alpha=100.0)
    assert pen10.shape == pytest.approx(pen.shape, abs=1e-6)
    np.testing.assert_allclose(pen10.beta, 10 * pen.beta, rtol=1e-6)


def test_constant_target_does_not_break():
    X = np.random.default_rng(0).normal(size=(30, 2))
    res = adaptive_barron(LinearDesign(X, True), np.full(30, 4.0), beta0=np.zeros(3))
    assert np.all(np.isfinite(res.beta)) and np.isfinite(res.scale) and res.scale > 0
    np.testing.assert_allclose(res.beta, [0.0, 0.0, 4.0], atol=1e-6)


def test_warm_start_from_the_solution():
    X, y = paper_data(400, seed=1)
    design = LinearDesign(X, True)
    beta0, _ = huber_start(design, y)
    res = adaptive_barron(design, y, beta0=beta0, shape_bounds=(0.2, 1.999))
    again = adaptive_barron(design, y, beta0=res.beta, scale0=res.scale, shape0=res.shape,
                            shape_bounds=(0.2, 1.999))
    assert again.converged and again.n_iter <= 3
    assert again.shape == pytest.approx(res.shape, abs=1e-6)
    np.testing.assert_allclose(again.beta, res.beta, rtol=1e-6)
    assert again.objective <= res.objective + 1e-9 * abs(res.objective)


def test_max_iter_reports_non_convergence():
    X, y = paper_data()
    design = LinearDesign(X, True)
    res = adaptive_barron(design, y, beta0=np.zeros(2), max_iter=1)
    assert not res.converged and "did not converge" in res.message


def test_verbose_records_history(capsys):
    X, y = paper_data(200)
    res = adaptive_barron(LinearDesign(X, True), y, beta0=np.zeros(2), verbose=1)
    assert len(res.history) == res.n_iter
    assert {"iter", "objective", "shape", "scale"} <= set(res.history[0])
    assert "adaptive-barron: iter" in capsys.readouterr().out


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bounds", [(-0.1, 1.0), (0.0, 2.0), (0.5, 2.5), (1.5, 1.0),
                                    (0.0, math.nan), (1.0,), "ab", ("0", "1"), None])
def test_bad_shape_bounds(bounds):
    design = LinearDesign(np.ones((5, 1)), True)
    with pytest.raises(ValueError, match="shape_bounds"):
        adaptive_barron(design, np.arange(5.0), beta0=np.zeros(2), shape_bounds=bounds)


@pytest.mark.parametrize("kwargs, match", [
    ({"scale0": 0.0}, "scale0"),
    ({"scale0": -1.0}, "scale0"),
    ({"shape0": math.nan}, "shape0"),
    ({"scale_floor": 0.0}, "scale_floor"),
    ({"alpha": -1.0}, "alpha"),
    ({"max_iter": 0}, "max_iter"),
    ({"sample_weight": -np.ones(5)}, "sample_weight"),
    ({"sample_weight": np.zeros(5)}, "sample_weight"),
    ({"sample_weight": np.ones(4)}, "sample_weight"),
    ({"beta0": np.zeros(3)}, "beta0"),
])
def test_bad_input(kwargs, match):
    design = LinearDesign(np.arange(5.0)[:, None], True)
    kw = {"beta0": np.zeros(2), **kwargs}
    with pytest.raises(ValueError, match=match):
        adaptive_barron(design, np.arange(5.0), **kw)


def test_bad_objective_input():
    design = LinearDesign(np.ones((3, 1)), True)
    with pytest.raises(ValueError, match="shape"):
        adaptive_barron_objective(design, np.zeros(3), None, np.zeros(2), 2.0, 1.0)
    with pytest.raises(ValueError, match="scale"):
        adaptive_barron_objective(design, np.zeros(3), None, np.zeros(2), 1.0, 0.0)
