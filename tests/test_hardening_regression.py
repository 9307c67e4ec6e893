"""Hardening of RobustRegressor (issue 22): extreme but valid input, warm starts, convergence.

One regression test per reproducer (shrunk), then the properties every
configuration (loss x scale x solver x init) must have: equivariance over the
float range (X and y scaled by 1e-300 .. 1e300), the same fit for a constant
factor 1e-300 .. 1e300 on the sample weights, and idempotent warm starts.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning

from skrobust import RobustRegressor
from skrobust.losses import get_loss


def contaminated(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 + 0.3 * rng.normal(size=n)
    y[: n // 10] += 20.0
    return X, y


def params(est):
    coef = est.dual_coef_ if hasattr(est, "dual_coef_") else est.coef_
    return np.r_[coef, est.intercept_, est.scale_]


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        return est.fit(*args, **kwargs)


# --------------------------------------------------------------- 1. huge frequency weights
@pytest.mark.parametrize("kw", [dict(), dict(loss="tukey", random_state=0),
                                dict(scale="proposal2")])
def test_huge_frequency_weights_with_large_targets(kw):
    X, y = contaminated()
    y = y * 1e10
    w = np.random.default_rng(1).integers(1, 4, size=y.size).astype(float)
    huge = fit_quietly(RobustRegressor(**kw), X, y, sample_weight=w * 1e300)
    assert np.all(np.isfinite(params(huge)))
    # a count of 1e200 or 1e300 observations: the n - p corrections are nil for both
    other = fit_quietly(RobustRegressor(**kw), X, y, sample_weight=w * 1e200)
    np.testing.assert_allclose(params(huge), params(other), rtol=1e-7)


def test_huge_frequency_weights_on_dask():
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y = contaminated(400)
    y = y * 1e10
    w = np.full(y.size, 1e300)
    with dask.config.set(scheduler="synchronous"):
        dist = RobustRegressor().fit(da.from_array(X, chunks=(100, 3)),
                                     da.from_array(y, chunks=100),
                                     sample_weight=da.from_array(w, chunks=100))
    ref = RobustRegressor().fit(X, y)  # the MAD scale: weights are scale free
    np.testing.assert_allclose(params(dist), params(ref), rtol=1e-7)


# ------------------------------------------------------------ 3. warm starts keep the model
def test_warm_start_keeps_the_mm_estimate():
    X, y = contaminated()
    est = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(X, y)
    cold, s_scale = params(est), est.s_scale_
    est.set_params(warm_start=True).fit(X, y)
    assert est.s_scale_ == s_scale  # the S-estimate is kept, and its scale held fixed
    assert est.scale_ == pytest.approx(s_scale)
    np.testing.assert_allclose(params(est), cold, rtol=1e-8, atol=1e-10)


def test_warm_start_keeps_the_nystroem_mm_estimate():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(200, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=200)
    y[:20] += 3.0
    kw = dict(loss="tukey", kernel="rbf", n_components=30, random_state=0, tol=1e-10)
    est = RobustRegressor(**kw).fit(X, y)
    cold = params(est)
    est.set_params(warm_start=True).fit(X, y)
    assert hasattr(est, "s_scale_")
    np.testing.assert_allclose(params(est), cold, rtol=1e-7, atol=1e-9)


def test_warm_start_on_dask_keeps_the_mm_estimate_and_fits_cold_after_a_change():
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y = contaminated(400)
    dX, dy = da.from_array(X, chunks=(100, 3)), da.from_array(y, chunks=100)
    with dask.config.set(scheduler="synchronous"):
        est = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(dX, dy)
        cold, s_scale = params(est), est.s_scale_
        est.set_params(warm_start=True).fit(dX, dy)
        assert est.s_scale_ == s_scale == pytest.approx(est.scale_)
        np.testing.assert_allclose(params(est), cold, rtol=1e-8, atol=1e-10)
        est.fit(dX[:, :2], dy)
        ref = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(dX[:, :2], dy)
    np.testing.assert_allclose(params(est), params(ref))


def test_warm_start_at_a_converged_joint_fit_runs_no_iteration():
    # HuberRegressor's behaviour (its n_iter_ is 0 after a warm start at the optimum)
    X, y = contaminated()
    est = RobustRegressor(loss="huber", scale="joint").fit(X, y)
    assert est.n_iter_ >= 1
    before = params(est)
    est.set_params(warm_start=True).fit(X, y)
    assert est.n_iter_ == 0
    np.testing.assert_allclose(params(est), before, rtol=1e-8)


# ------------------------------------------------------------- 4, 11, 16. the float range
@pytest.mark.parametrize("kw", [dict(), dict(scale="proposal2"), dict(solver="lbfgs"),
                                dict(loss="tukey", random_state=0)])
@pytest.mark.parametrize("fx,fy", [(1e-300, 1e-300), (1.0, 1e160), (1.0, 1e-300),
                                   (1e155, 1.0), (1e155, 1e155)])
def test_extreme_magnitudes_are_equivariant(kw, fx, fy):
    X, y = contaminated()
    base = RobustRegressor(**kw).fit(X, y)
    scaled = fit_quietly(RobustRegressor(**kw), X * fx, y * fy)
    np.testing.assert_allclose(scaled.coef_, base.coef_ * (fy / fx), rtol=1e-6)
    assert scaled.intercept_ == pytest.approx(base.intercept_ * fy, rel=1e-6)
    assert scaled.scale_ == pytest.approx(base.scale_ * fy, rel=1e-6)


def test_a_known_scale_is_in_the_units_of_y():
    X, y = contaminated()
    base = RobustRegressor(scale=0.3).fit(X, y)
    scaled = fit_quietly(RobustRegressor(scale=0.3e-300), X, y * 1e-300)
    np.testing.assert_allclose(params(scaled) * 1e300, params(base), rtol=1e-6)


def test_columns_of_very_different_magnitudes():
    X, y = contaminated()
    factors = np.array([1e-300, 1.0, 1e300])
    base = RobustRegressor().fit(X, y)
    scaled = fit_quietly(RobustRegressor(), X * factors, y)
    np.testing.assert_allclose(scaled.coef_ * factors, base.coef_, rtol=1e-6)
    np.testing.assert_allclose(scaled.predict(X * factors), base.predict(X), rtol=1e-6)


def test_sparse_columns_of_extreme_magnitudes():
    import scipy.sparse as sp

    X, y = contaminated()
    X[np.abs(X) < 0.5] = 0.0
    factors = np.array([1e-300, 1e155, 1.0])
    base = RobustRegressor().fit(sp.csr_matrix(X), y)
    scaled = fit_quietly(RobustRegressor(), sp.csr_matrix(X * factors), y * 1e-100)
    np.testing.assert_allclose(scaled.coef_ * factors / 1e-100, base.coef_, rtol=1e-6)
    assert scaled.scale_ == pytest.approx(base.scale_ * 1e-100, rel=1e-6)


# ----------------------------------------------------------- 13. joint scale on wide data
def test_joint_scale_converges_on_wide_data():
    # on these data the Newton steps, with a Gram kept while few Huber weights changed,
    # used to stall (a row of high leverage matters on a wide design)
    rng = np.random.default_rng(0)
    rng.normal(size=(60, 3)), rng.normal(size=60)
    X = rng.normal(size=(1000, 400))
    y = X @ rng.normal(size=400) + rng.normal(size=1000)
    est = fit_quietly(RobustRegressor(scale="joint", max_iter=30), X, y)
    assert est.n_iter_ <= 30


# ----------------------------------------------------------------- 14. lbfgs and max_iter
def test_lbfgs_respects_max_iter():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(29, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.standard_t(1, size=29)
    kw = dict(loss="tukey", scale="mad", init="ols", solver="lbfgs")
    with pytest.warns(ConvergenceWarning):
        est = RobustRegressor(max_iter=5, **kw).fit(X, y)
    assert est.n_iter_ <= 5
    with warnings.catch_warnings():
        # Tukey's loss with the MAD re-estimated may not settle: max_iter bounds the work
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RobustRegressor(max_iter=100, **kw).fit(X, y)
    assert est.n_iter_ <= 100


def test_lbfgs_with_a_re_estimated_scale_reaches_the_irls_fit():
    X, y = contaminated(200)
    kw = dict(loss="huber", scale="mad", tol=1e-10, max_iter=200)
    lbfgs = fit_quietly(RobustRegressor(solver="lbfgs", **kw), X, y)
    irls = RobustRegressor(solver="irls", **kw).fit(X, y)
    np.testing.assert_allclose(params(lbfgs), params(irls), rtol=1e-6)
    assert lbfgs.n_iter_ <= 200


# ---------------------------------------------------------------------- 17. gnc to Welsch
def test_welsch_with_the_gnc_start():
    X, y = contaminated()
    est = fit_quietly(RobustRegressor(loss="welsch", init="gnc"), X, y)
    np.testing.assert_allclose(est.coef_, [1.0, 2.0, 3.0], atol=0.2)
    shapes = get_loss("welsch").gnc_shapes()
    assert shapes[0] == 1.0 and np.all(np.isfinite(shapes)) and np.all(np.diff(shapes) < 0)


# ------------------------------------------------------ 18. warm start after design change
def test_warm_start_after_the_features_changed_fits_cold():
    X, y = contaminated()
    est = RobustRegressor(warm_start=True).fit(X, y)
    est.fit(X[:, :2], y)
    np.testing.assert_allclose(params(est), params(RobustRegressor().fit(X[:, :2], y)))


@pytest.mark.parametrize("change", [dict(n_components=None), dict(kernel="poly"),
                                    dict(gamma=3.0)])
def test_warm_start_after_the_kernel_changed_fits_cold(change):
    X, y = contaminated()
    kw = dict(kernel="rbf", n_components=20, random_state=0)
    est = RobustRegressor(warm_start=True, **kw).fit(X, y)
    est.set_params(**change).fit(X, y)
    cold = RobustRegressor(**{**kw, **change}).fit(X, y)
    np.testing.assert_allclose(params(est), params(cold))


# ------------------------------------------------- 21. Geman-McClure on Nystroem features
def test_geman_mcclure_nystroem_mad_converges_on_clean_data():
    X, y = make_regression(200, 5, noise=1.0, random_state=14)
    fit_quietly(RobustRegressor(loss="geman_mcclure", scale="mad", kernel="rbf",
                                n_components=30, random_state=14), X, y)


# ================================================================== properties
_CONVEX = ["huber", "pseudo_huber"]
_REDESCENDING = ["tukey", "cauchy", "welsch", "geman_mcclure"]
CONFIGS = (
    [dict(loss=loss, scale=scale, solver=solver, init=init)
     for loss in _CONVEX for scale in ("auto", "mad", "proposal2", "joint")
     for solver in ("irls", "lbfgs") for init in ("auto", "lad")]
    + [dict(loss=loss, scale=scale, solver=solver, init=init)
       for loss in _REDESCENDING for scale in ("auto", "mad", "proposal2")
       for solver in ("irls", "lbfgs")
       for init in ("auto", "ols") + (("gnc",) if loss != "tukey" else ())]
    + [dict(loss="barron"), dict(loss="barron", shape=0.5, init="gnc"),
       dict(loss="quantile", quantile=0.3), dict(loss="huber", alpha=0.5),
       dict(loss="tukey", kernel="rbf", n_components=20), dict(loss="huber", kernel="rbf"),
       dict(loss="tukey", kernel="rbf")]
)


def _counts_observations(cfg) -> bool:
    # Huber's proposal 2 and the S-scale subtract p from the total weight (n - p): a
    # constant factor on frequency weights changes the number of observations they count
    redescending = cfg["loss"] in _REDESCENDING or (cfg["loss"] == "barron"
                                                    and cfg.get("shape", 2) < 1)
    return cfg.get("scale") == "proposal2" or (redescending and cfg.get("init", "auto") == "auto")


def _ids(cfg):
    return "-".join(f"{v}" for v in cfg.values())


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_float_range_equivariance(cfg):
    X, y = contaminated()
    est = RobustRegressor(random_state=0, **cfg)
    base = params(est.fit(X, y))
    # a kernel (its gamma) and the ridge penalty are not scale free in X: scale y only
    x_free = "kernel" not in cfg and "alpha" not in cfg
    for fx, fy in [(1e-300, 1e-300), (1e300, 1e300), (1.0, 2.0**-900), (1.0, 1e300)]:
        if fx != 1.0 and not x_free:
            continue
        scaled = params(RobustRegressor(random_state=0, **cfg).fit(X * fx, y * fy))
        scaled[:X.shape[1]] *= fx  # (dual coefficients have fx == 1)
        np.testing.assert_allclose(scaled / fy, base, rtol=2e-6, atol=1e-9)


UNPENALISED = [cfg for cfg in CONFIGS if "alpha" not in cfg and "kernel" not in cfg]


# a factor c on the weights of a penalised fit is the factor 1 / c on its penalty
@pytest.mark.parametrize("cfg", UNPENALISED, ids=_ids)
def test_weight_range_gives_the_same_fit(cfg):
    X, y = contaminated()
    w = np.random.default_rng(3).integers(1, 4, size=y.size).astype(float)
    counts = _counts_observations(cfg)
    base = params(RobustRegressor(random_state=0, **cfg).fit(
        X, y, sample_weight=w * (1e100 if counts else 1.0)))
    for factor in (1e-300, 1e-100, 1e300):
        est = RobustRegressor(random_state=0, **cfg)
        if counts and factor < 1:
            if cfg.get("scale") == "proposal2":
                continue  # fewer observations than parameters: proposal 2 is degenerate
            with pytest.raises(ValueError, match="total sample weight"):
                est.fit(X, y, sample_weight=w * factor)
            continue
        np.testing.assert_allclose(params(est.fit(X, y, sample_weight=w * factor)), base,
                                   rtol=2e-6, atol=1e-9)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_warm_start_is_idempotent(cfg):
    X, y = contaminated()
    est = RobustRegressor(random_state=0, **cfg).fit(X, y)
    first = params(est)
    est.set_params(warm_start=True).fit(X, y)
    np.testing.assert_allclose(params(est), first, rtol=1e-6, atol=1e-8)
    est.fit(X, y)
    np.testing.assert_allclose(params(est), first, rtol=1e-6, atol=1e-8)
