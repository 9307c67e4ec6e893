"""Hampel's and the "optimal" loss: robustbase's shapes, constants and MM fits.

The registry-wide properties (symmetry, psi = rho', weight = psi / u, dtypes,
extremes, bad input) run in ``test_losses.py`` for every registered loss;
this file checks what is specific to the two: the piecewise formulas of
robustbase's vignette "psi_functions", continuity at the corners, the 95%
efficiency constants and MM fits that reject the known outliers.
"""

import numpy as np
import pytest

from skrobust import RobustRegressor
from skrobust.datasets import load_hbk, load_stackloss
from skrobust.inference.summary import r2_constant
from skrobust.losses import Hampel, Optimal, asymptotic_efficiency, efficiency_constant, get_loss


def _hampel_reference(u, c):
    """robustbase's vignette formulas with a, b, r = c (1.5, 3.5, 8)."""
    a, b, r = 1.5 * c, 3.5 * c, 8 * c
    x = np.abs(u)
    s = np.sign(u)
    rho = np.select(
        [x <= a, x <= b, x <= r],
        [x * x / 2, a * a / 2 + a * (x - a),
         a / 2 * (2 * b - a + (x - b) * (1 + (r - x) / (r - b)))],
        a / 2 * (b - a + r))
    psi = s * np.select([x <= a, x <= b, x <= r], [x, a, a * (r - x) / (r - b)], 0.0)
    dpsi = np.select([x <= a, x <= b, x <= r], [1.0, 0.0, -a / (r - b)], 0.0)
    return rho, psi, dpsi


def _optimal_reference(u, c):
    """robustbase's polynomial form of the optimal psi, expanded as printed."""
    t = np.abs(u) / c
    s = np.sign(u)
    bend = (t > 2) & (t <= 3)
    rho = np.where(t <= 2, u * u / 2, 3.25 * c * c)
    rho = np.where(bend, c * c * (1.792 - 0.972 * t**2 + 0.432 * t**4 - 0.052 * t**6
                                  + 0.002 * t**8), rho)
    psi = np.where(t <= 2, u, 0.0)
    psi = np.where(bend, s * c * (-1.944 * t + 1.728 * t**3 - 0.312 * t**5 + 0.016 * t**7), psi)
    dpsi = np.where(t <= 2, 1.0, 0.0)
    dpsi = np.where(bend, -1.944 + 5.184 * t**2 - 1.56 * t**4 + 0.112 * t**6, dpsi)
    return rho, psi, dpsi


def _off_the_corners(u, loss):
    # at a corner itself, |u| / c and |u| vs a * c may round to different sides
    keep = np.ones(u.shape, dtype=bool)
    for k in loss.kinks:
        keep &= np.abs(np.abs(u) - k) > 1e-9 * k
    return u[keep]


@pytest.mark.parametrize("c", [0.9016085, 0.2119163, 1.0, 7.0])
def test_hampel_piecewise_formulas(c):
    loss = get_loss("hampel", c=c)
    u = _off_the_corners(np.linspace(-10, 10, 2001) * c, loss)
    rho, psi, dpsi = _hampel_reference(u, c)
    np.testing.assert_allclose(loss.rho(u), rho, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(loss.psi(u), psi, rtol=1e-13, atol=1e-14 * c)
    np.testing.assert_allclose(loss.psi_deriv(u), dpsi, rtol=1e-15, atol=0)
    nonzero = u != 0
    np.testing.assert_allclose(loss.weight(u[nonzero]), psi[nonzero] / u[nonzero],
                               rtol=1e-13, atol=1e-15)
    assert loss.kinks == pytest.approx((1.5 * c, 3.5 * c, 8 * c), rel=1e-15)
    assert loss.max_rho == pytest.approx(7.5 * c * c, rel=1e-15)  # a (b - a + r) / 2


@pytest.mark.parametrize("c", [1.060158, 0.4047, 1.0, 5.0])
def test_optimal_matches_robustbase_polynomial(c):
    loss = get_loss("optimal", c=c)
    u = _off_the_corners(np.linspace(-4, 4, 2001) * c, loss)
    rho, psi, dpsi = _optimal_reference(u, c)
    # the expanded polynomials cancel to ~1e-14 near t = 3; ours are factored
    np.testing.assert_allclose(loss.rho(u), rho, rtol=1e-13, atol=1e-13 * c * c)
    np.testing.assert_allclose(loss.psi(u), psi, rtol=1e-12, atol=1e-13 * c)
    np.testing.assert_allclose(loss.psi_deriv(u), dpsi, rtol=1e-12, atol=1e-13)
    assert loss.max_rho == pytest.approx(3.25 * c * c, rel=1e-15)
    assert loss.kinks == (2 * c, 3 * c)
    # weight exactly zero beyond 3c
    assert loss.weight(np.array([3 * c * (1 + 1e-12), 10 * c, 1e300])).tolist() == [0.0] * 3


@pytest.mark.parametrize("name, methods", [
    ("hampel", ("rho", "psi")),  # psi' jumps at each corner
    ("optimal", ("rho", "psi", "psi_deriv")),  # psi'' jumps: psi' is continuous too
])
def test_continuous_at_the_corners(name, methods):
    loss = get_loss(name, c=1.3)
    for k in loss.kinks:
        below, above = np.array([k * (1 - 1e-12)]), np.array([k * (1 + 1e-12)])
        for method in methods:
            f = getattr(loss, method)
            assert f(above)[0] == pytest.approx(f(below)[0], abs=1e-10), (k, method)


def test_hampel_psi_deriv_jumps_at_the_corners():
    # Hampel's psi' does jump at its corners: the check above can fail
    loss = get_loss("hampel", c=1.0)
    jumps = [loss.psi_deriv(np.array([k * (1 + 1e-12)]))[0]
             - loss.psi_deriv(np.array([k * (1 - 1e-12)]))[0] for k in loss.kinks]
    assert jumps == pytest.approx([-1.0, -1.0 / 3.0, 1.0 / 3.0])


@pytest.mark.parametrize("name", ["hampel", "optimal"])
def test_one_constant_scales_the_shape(name):
    # rho(c t) = c**2 rho_1(t) and psi(c t) = c psi_1(t): the corners move together
    t = np.linspace(-12, 12, 481)
    one = get_loss(name, c=1.0)
    for c in (0.3, 2.5, 40.0):
        loss = get_loss(name, c=c)
        np.testing.assert_allclose(loss.rho(c * t), c * c * one.rho(t), rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(loss.psi(c * t), c * one.psi(t), rtol=1e-13, atol=1e-14 * c)
        np.testing.assert_allclose(loss.weight(c * t), one.weight(t), rtol=1e-13, atol=1e-15)


def test_efficiency_constants():
    # robustbase's defaults (.Mpsi.tuning.default) are 95% efficient to 1e-4 ...
    assert get_loss("hampel").c == Hampel().default_c == 0.9016085
    assert get_loss("optimal").c == Optimal().default_c == 1.060158
    assert asymptotic_efficiency(get_loss("hampel")) == pytest.approx(0.95, abs=1e-4)
    assert asymptotic_efficiency(get_loss("optimal")) == pytest.approx(0.95, abs=1e-4)
    # ... and the exact roots are close to them
    assert efficiency_constant("hampel") == pytest.approx(0.9014438, abs=2e-7)
    assert efficiency_constant("optimal") == pytest.approx(1.0601875, abs=2e-7)
    assert efficiency_constant("hampel", 0.99) > efficiency_constant("hampel", 0.9)


def test_r2_constants_match_robustbase():
    # summary.lmrob hard-codes E[w(Z)] / E[Z psi(Z)] at the default tunings
    assert r2_constant(get_loss("hampel")) == pytest.approx(1.166891, abs=1e-6)
    assert r2_constant(get_loss("optimal")) == pytest.approx(1.068939, abs=2e-6)


@pytest.mark.parametrize("name", ["hampel", "optimal"])
def test_mm_fit_rejects_hbk_leverage_points(name):
    X, y = load_hbk(return_X_y=True)
    reg = RobustRegressor(loss=name, random_state=0).fit(X, y)
    # MM: an S-start, then the loss at its 95% constant with the S-scale held fixed
    assert reg.loss_ == get_loss(name)
    assert reg.scale_ == pytest.approx(reg.s_scale_, rel=1e-12)
    assert np.flatnonzero(reg.outliers_).tolist() == list(range(10))
    assert np.all(reg.weights_[:10] == 0.0)
    # every clean residual lies in the linear centre, so the fit is least squares
    # on the 65 clean rows
    A = np.column_stack([np.ones(len(y) - 10), X[10:]])
    ls = np.linalg.lstsq(A, y[10:], rcond=None)[0]
    np.testing.assert_allclose(np.r_[reg.intercept_, reg.coef_], ls, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["hampel", "optimal"])
def test_mm_fit_on_stackloss_flags_known_outliers(name):
    X, y = load_stackloss(return_X_y=True)
    reg = RobustRegressor(loss=name, random_state=0).fit(X, y)
    flagged = set(np.flatnonzero(reg.outliers_))
    assert {3, 20} <= flagged <= {0, 1, 2, 3, 20}  # observations 4 and 21 (1-based)
    # Hampel's slow descent (to 0 at 8c) keeps a weight of about 0.15 there
    assert reg.weights_[20] == reg.weights_.min() and reg.weights_[20] < 0.2
    A = np.column_stack([np.ones(len(y)), X])
    ls_residuals = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    # the robust fit leaves observation 21 a larger residual than least squares does
    assert abs(y[20] - reg.predict(X[20:21])[0]) > 1.1 * abs(ls_residuals[20])


@pytest.mark.parametrize("name", ["hampel", "optimal"])
def test_joint_scale_rejected_for_redescending_losses(name):
    X, y = load_stackloss(return_X_y=True)
    with pytest.raises(ValueError, match="joint.*convex"):
        RobustRegressor(loss=name, scale="joint").fit(X, y)


@pytest.mark.parametrize("name", ["hampel", "optimal"])
def test_dask_fit_equals_in_memory_fit(name):
    dask = pytest.importorskip("dask")
    import dask.array as da

    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 2))
    y = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=800)
    y[:40] += 20.0
    dX, dy = da.from_array(X, chunks=(200, 2)), da.from_array(y, chunks=200)
    with dask.config.set(scheduler="synchronous"):
        reg = RobustRegressor(loss=name, random_state=0).fit(dX, dy)
    ref = RobustRegressor(loss=name, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=0, atol=1e-9)
    assert reg.intercept_ == pytest.approx(ref.intercept_, abs=1e-9)
    assert np.all(ref.weights_[:40] == 0.0)
