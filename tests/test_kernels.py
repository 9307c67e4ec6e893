"""Kernel models of RobustRegressor: exact (dual) and Nystroem."""

import warnings

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVR

import skrobust._kernels as kernels_module
from skrobust import RobustRegressor
from skrobust.design.kernel import KernelDesign, effective_degrees_of_freedom


def sinc_data(n=300, frac=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    f = np.sinc(X[:, 0])
    y = f + 0.1 * rng.normal(size=n)
    bad = rng.choice(n, int(frac * n), replace=False)
    y[bad] += rng.uniform(2, 4, bad.size)  # one-sided gross outliers
    return X, y, f


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_linear_kernel_reproduces_the_linear_model():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -1.0, 2.0] + rng.standard_t(2, size=120)
    for loss in ["huber", "pseudo_huber"]:
        lin = RobustRegressor(loss=loss, alpha=1.0, tol=1e-12).fit(X, y)
        ker = RobustRegressor(loss=loss, kernel="linear", alpha=1.0, tol=1e-12).fit(X, y)
        np.testing.assert_allclose(ker.predict(X), lin.predict(X), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(ker.X_fit_.T @ ker.dual_coef_, lin.coef_, rtol=1e-6)


@pytest.mark.parametrize("loss,scale", [("huber", "mad"), ("huber", "joint"),
                                        ("pseudo_huber", "proposal2"), ("huber", 0.3)])
def test_full_nystroem_reproduces_the_exact_kernel(loss, scale):
    X, y, _ = sinc_data(150)
    kw = dict(loss=loss, scale=scale, kernel="rbf", gamma=2.0, alpha=0.1, tol=1e-12,
              max_iter=500)
    exact = RobustRegressor(**kw).fit(X, y)
    nys = RobustRegressor(n_components=150, random_state=0, **kw).fit(X, y)
    np.testing.assert_allclose(nys.predict(X), exact.predict(X), rtol=1e-6, atol=1e-6)
    assert exact.dual_coef_.shape == (150,) and not hasattr(exact, "coef_")
    assert nys.coef_.shape == (150,)


@pytest.mark.parametrize("kw", [dict(loss="huber"), dict(loss="tukey"),
                                dict(loss="tukey", n_components=80),
                                dict(loss="barron", n_components=80, max_iter=500)])
def test_sinc_with_gross_outliers(kw):
    X, y, f = sinc_data()
    robust = RobustRegressor(kernel="rbf", gamma=2.0, alpha=0.1, random_state=0, **kw).fit(X, y)
    krr = KernelRidge(kernel="rbf", gamma=2.0, alpha=0.1).fit(X, y)
    svr = SVR(kernel="rbf", gamma=2.0).fit(X, y)
    err = rmse(robust.predict(X), f)
    assert err < rmse(krr.predict(X), f) / 4
    if kw["loss"] == "huber":  # monotone psi: one-sided outliers still bias it, like SVR's
        assert err < 0.1
    else:  # redescending losses reject the outliers
        assert err < 0.03
        assert err < rmse(svr.predict(X), f) / 2


def test_zero_weight_rows_leave_the_model():
    X, y, _ = sinc_data(120)
    w = np.ones(120)
    w[:20] = 0
    for extra in [{}, {"n_components": 50}]:
        a = RobustRegressor(kernel="rbf", gamma=1.0, random_state=0, tol=1e-12, **extra).fit(
            X, y, sample_weight=w)
        b = RobustRegressor(kernel="rbf", gamma=1.0, random_state=0, tol=1e-12, **extra).fit(
            X[20:], y[20:])
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-8, atol=1e-10)


def test_integer_weights_equal_repeated_rows_exact_kernel():
    X, y, _ = sinc_data(100)
    w = np.random.default_rng(2).integers(1, 4, size=100)
    rep = np.repeat(np.arange(100), w)
    a = RobustRegressor(kernel="rbf", gamma=1.0, tol=1e-12).fit(X, y, sample_weight=w)
    b = RobustRegressor(kernel="rbf", gamma=1.0, tol=1e-12).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-7, atol=1e-9)


def test_precomputed_and_callable_kernels():
    X, y, _ = sinc_data(100)
    Xt = np.linspace(-3, 3, 7)[:, None]
    ref = RobustRegressor(kernel="rbf", gamma=1.5).fit(X, y)
    pre = RobustRegressor(kernel="precomputed").fit(rbf_kernel(X, gamma=1.5), y)
    np.testing.assert_allclose(pre.predict(rbf_kernel(Xt, X, gamma=1.5)), ref.predict(Xt),
                               rtol=1e-8)
    def gaussian(a, b, gamma):
        return np.exp(-gamma * np.sum((a - b) ** 2))

    call = RobustRegressor(kernel=gaussian, kernel_params={"gamma": 1.5}).fit(X, y)
    np.testing.assert_allclose(call.predict(Xt), ref.predict(Xt), rtol=1e-8)


@pytest.mark.parametrize("kernel", ["poly", "laplacian", "sigmoid", "cosine"])
def test_other_kernels_fit(kernel):
    X, y, _ = sinc_data(80)
    reg = RobustRegressor(kernel=kernel, gamma=0.5).fit(X, y)
    assert np.all(np.isfinite(reg.predict(X)))


def test_bad_kernel_input():
    X, y, _ = sinc_data(60)
    with pytest.raises(ValueError, match="kernel"):
        RobustRegressor(kernel="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="n_components"):
        RobustRegressor(kernel="rbf", n_components=0).fit(X, y)
    with pytest.raises(ValueError, match="square"):
        RobustRegressor(kernel="precomputed").fit(np.ones((60, 5)), y)
    pre = RobustRegressor(kernel="precomputed").fit(rbf_kernel(X), y)
    with pytest.raises(ValueError, match="features"):
        pre.predict(np.ones((3, 59)))
    with pytest.raises(ValueError, match="n_components"):
        RobustRegressor(loss="quantile", kernel="rbf").fit(X, y)
    with pytest.raises(ValueError, match="n_components"):
        RobustRegressor(loss="barron", kernel="rbf").fit(X, y)


def test_large_exact_kernel_warns(monkeypatch):
    monkeypatch.setattr(kernels_module, "EXACT_KERNEL_WARN_SAMPLES", 50)
    X, y, _ = sinc_data(60)
    with pytest.warns(UserWarning, match="n_components"):
        RobustRegressor(kernel="rbf").fit(X, y)


def test_proposal_2_scale_counts_effective_degrees_of_freedom():
    # n + 1 dual coefficients are not n + 1 degrees of freedom: subtracting them from n
    # left proposal 2 one degree of freedom, a scale of 25 and a least-squares fit
    X, y, f = sinc_data()
    exact = RobustRegressor(kernel="rbf", gamma=2.0, alpha=0.1, scale="proposal2").fit(X, y)
    nys = RobustRegressor(kernel="rbf", gamma=2.0, alpha=0.1, scale="proposal2", n_components=80,
                          random_state=0).fit(X, y)
    krr = KernelRidge(kernel="rbf", gamma=2.0, alpha=0.1).fit(X, y)
    for reg in (exact, nys):
        assert 0.1 < reg.scale_ < 0.25  # noise sd 0.1, inflated by the 20% outliers
        assert rmse(reg.predict(X), f) < rmse(krr.predict(X), f) / 5
    # the effective degrees of freedom of the smoother: sum lambda / (lambda + alpha)
    K = rbf_kernel(X, gamma=2.0)
    lam = np.linalg.eigvalsh(K)
    dof = effective_degrees_of_freedom(KernelDesign(K, True), 0.1)
    assert dof == pytest.approx(np.sum(lam / (lam + 0.1)) + 1, rel=1e-8)
    assert 5 < dof < 60


def test_wide_nystroem_mm_start_needs_no_fallback():
    # 401 parameters on 600 rows: too few rows for an S-fit on all features, but the MM
    # start runs on the leading components, so "auto" must not fall back to a Huber start
    X, y, f = sinc_data(600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = RobustRegressor(loss="tukey", kernel="rbf", gamma=2.0, alpha=0.1,
                              n_components=400, random_state=0).fit(X, y)
    assert hasattr(reg, "s_scale_")
    assert rmse(reg.predict(X), f) < 0.03
