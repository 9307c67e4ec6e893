"""The fast paths of the kernel models: pivoted Cholesky, PCG steps, sampled S-start.

Each fast path must give the fit of the slow one it replaces: the tests run
both (forcing the path by a module constant) and compare.
"""

import numpy as np
import pytest
import scipy.linalg
from sklearn.datasets import make_moons
from sklearn.metrics.pairwise import rbf_kernel, sigmoid_kernel

import skrobust.design.kernel as kernel_design_module
import skrobust.design.kernel_map as kernel_features_module
import skrobust.design.linear as design_module
import skrobust.solvers.starts as starts_module
from skrobust import RobustClassifier, RobustRegressor
from skrobust.design.kernel import (
    KernelDesign,
    factor_error,
    pivoted_cholesky,
    principal_components,
)
from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.solvers.fast_s import fast_s, fast_s_sampled, m_scale


def sinc_data(n, frac=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    f = np.sinc(X[:, 0])
    y = f + 0.1 * rng.normal(size=n)
    bad = rng.choice(n, int(frac * n), replace=False)
    y[bad] += rng.uniform(2, 4, bad.size)
    return X, y, f


# ------------------------------------------------------------------ pivoted Cholesky
def test_pivoted_cholesky_reproduces_a_low_rank_matrix():
    rng = np.random.default_rng(0)
    G = rng.normal(size=(60, 7))
    K = G @ G.T
    before = K.copy()
    Ft, left = pivoted_cholesky(K, max_rank=60, rtol=1e-12)
    assert Ft.shape == (7, 60)  # stops at the rank: nothing is left
    np.testing.assert_allclose(Ft.T @ Ft, K, atol=1e-10 * np.trace(K))
    assert np.all(np.diff(left) <= 1e-12 * np.trace(K))  # the residual trace only falls
    np.testing.assert_array_equal(K, before)  # the input is not modified


def test_pivoted_cholesky_stops_at_max_rank():
    X, _, _ = sinc_data(200)
    K = rbf_kernel(X, gamma=50.0)  # rough: far more than 10 columns are needed
    Ft, left = pivoted_cholesky(K, max_rank=10)
    assert Ft.shape == (10, 200)
    assert left[-1] > 1e-3 * np.trace(K)
    # greedy pivoting: each column's largest entry is its pivot, the largest diagonal left
    assert np.all(np.diff(np.abs(Ft).max(axis=1)) <= 1e-12)


def test_factor_error_sees_an_indefinite_residual():
    X, _, _ = sinc_data(80)
    K = sigmoid_kernel(X, gamma=2.0, coef0=-1.0)
    assert np.linalg.eigvalsh(K).min() < -1e-3  # indefinite
    Ft, left = pivoted_cholesky(K, max_rank=80)
    assert factor_error(K, Ft) > 1e-3  # the trace alone would not tell
    Kpsd = rbf_kernel(X, gamma=1.0)
    Ft, _ = pivoted_cholesky(Kpsd, max_rank=80)
    assert factor_error(Kpsd, Ft, block_rows=7) < 1e-9


def test_principal_components_are_the_eigenpairs():
    X, _, _ = sinc_data(150)
    K = rbf_kernel(X, gamma=2.0)
    Ft, _ = pivoted_cholesky(K, max_rank=150)
    features, vals = principal_components(Ft, 5)
    exact = scipy.linalg.eigh(K, eigvals_only=True)[-5:]
    np.testing.assert_allclose(vals, exact, rtol=1e-9)
    np.testing.assert_allclose(features.T @ features, np.diag(vals), atol=1e-8 * vals[-1])
    assert features.shape == (150, 5)
    empty, none = principal_components(np.zeros((0, 4)), 3)
    assert empty.shape == (4, 0) and none.size == 0


# ------------------------------------------------------------------ kernel design
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_kernel_design_cg_step_equals_the_direct_step(fit_intercept):
    X, y, _ = sinc_data(1200)
    K = rbf_kernel(X, gamma=2.0)
    v = np.random.default_rng(3).random(1200)
    v[:150] = 0.0  # rejected rows (Tukey): a zero row and column of S K S
    direct = KernelDesign(K, fit_intercept, solver="direct")
    cg = KernelDesign(K, fit_intercept, solver="cg")
    for alpha, scale in [(0.1, 1.0), (0.1, 0.97), (1e-3, 0.9)]:  # warm starts, then small alpha
        a = direct.solve_weighted(v * scale, y, alpha)
        b = cg.solve_weighted(v * scale, y, alpha)
        np.testing.assert_allclose(direct.predict(b), direct.predict(a), rtol=0, atol=1e-8)
    assert cg.solver == "cg" and len(cg.cg_iterations) == 3
    assert cg.cg_iterations[1] <= cg.cg_iterations[0]  # the warm start helps
    assert KernelDesign(K[:10, :10], True).solver == "direct"  # "auto" on a small problem
    with pytest.raises(ValueError, match="solver"):
        KernelDesign(K, True, solver="lu")


def test_kernel_design_cg_falls_back_on_an_indefinite_kernel():
    X, y, _ = sinc_data(300)
    K = sigmoid_kernel(X, gamma=2.0, coef0=-1.0)
    v = np.ones(300)
    cg = KernelDesign(K, True, solver="cg")
    a = cg.solve_weighted(v, y, 1e-3)
    b = KernelDesign(K, True, solver="direct").solve_weighted(v, y, 1e-3)
    np.testing.assert_allclose(a, b)
    assert cg.solver == "direct"  # PCG broke down: the rest of the fit is direct


@pytest.mark.parametrize("kw", [dict(loss="huber"), dict(loss="huber", scale="joint"),
                                dict(loss="tukey"), dict(loss="welsch")])
def test_exact_kernel_fit_by_pcg_equals_the_direct_fit(monkeypatch, kw):
    X, y, f = sinc_data(400)
    params = dict(kernel="rbf", gamma=2.0, alpha=0.1, random_state=0, tol=1e-10, max_iter=500)
    direct = RobustRegressor(**params, **kw).fit(X, y)
    monkeypatch.setattr(kernel_design_module, "DIRECT_MAX_SAMPLES", 50)

    def no_direct_solve(*args):
        raise AssertionError("the PCG path solved directly")

    monkeypatch.setattr(KernelDesign, "_solve_direct", no_direct_solve)
    cg = RobustRegressor(**params, **kw).fit(X, y)
    np.testing.assert_allclose(cg.predict(X), direct.predict(X), rtol=0, atol=1e-6)
    np.testing.assert_allclose(cg.scale_, direct.scale_, rtol=1e-6)
    assert np.sqrt(np.mean((cg.predict(X) - f) ** 2)) < 0.1


# ------------------------------------------------------------------- linear design
def test_wide_design_pcg_steps_equal_gram_steps(monkeypatch):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 30))
    y = X @ rng.normal(size=30) + rng.standard_t(2, size=600)
    gram = LinearDesign(X, True)
    monkeypatch.setattr(design_module, "PCG_MIN_PARAMS", 10)
    wide = LinearDesign(X, True)
    v = rng.random(600)
    for k in range(4):  # IRLS-like: the weights move a little per step
        w = v * (1.0 + 0.05 * k * np.sin(np.arange(600)))
        np.testing.assert_allclose(wide.solve_weighted(w, y, 0.5), gram.solve_weighted(w, y, 0.5),
                                   rtol=1e-9, atol=1e-11)
    assert gram.pcg_iterations == []
    assert len(wide.pcg_iterations) == 3 and min(wide.pcg_iterations) >= 0  # 3 PCG solves
    # a weight change too large for the old Gram: PCG gives up and the Gram is rebuilt
    w = np.where(np.arange(600) % 2 == 0, 1e-6, 1.0)
    np.testing.assert_allclose(wide.solve_weighted(w, y, 0.0), gram.solve_weighted(w, y, 0.0),
                               rtol=1e-9, atol=1e-11)
    assert wide.pcg_iterations[-1] == -1


def test_wide_design_mm_fit_equals_the_gram_fit(monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 12))
    y = X @ np.arange(1.0, 13.0) + 0.5 * rng.normal(size=400)
    y[:60] += 30.0
    ref = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(X, y)
    monkeypatch.setattr(design_module, "PCG_MIN_PARAMS", 5)
    fast = RobustRegressor(loss="tukey", random_state=0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(fast.coef_, ref.coef_, rtol=1e-7)
    np.testing.assert_allclose(fast.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)


# ------------------------------------------------------------------ sampled S-start
def test_fast_s_sampled():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(3000, 2))
    y = X @ np.array([2.0, -1.0]) + 1.0 + 0.2 * rng.normal(size=3000)
    y[:900] = rng.normal(40.0, 1.0, size=900)  # 30% gross outliers
    design = LinearDesign(X, True)
    small = fast_s_sampled(design, y, n_rows=5000, random_state=0)
    whole = fast_s(design, y, random_state=0)
    np.testing.assert_array_equal(small.beta, whole.beta)  # at most n_rows rows: fast_s
    sampled = fast_s_sampled(design, y, n_rows=500, random_state=0)
    np.testing.assert_allclose(sampled.beta, [2.0, -1.0, 1.0], atol=0.1)
    r = y - design.predict(sampled.beta)
    assert sampled.scale == pytest.approx(m_scale(r, n_params=3, scale0=sampled.scale),
                                          rel=1e-9)
    w = np.ones(3000)
    w[:900] = 0.0  # the outliers removed by weight: never sampled, so the scale is clean
    clean = fast_s_sampled(design, y, w, n_rows=500, random_state=0)
    assert clean.scale == pytest.approx(0.2, rel=0.15)
    with pytest.raises(ValueError, match="n_rows"):
        fast_s_sampled(design, y, n_rows=0)


def test_kernel_mm_start_on_a_row_sample(monkeypatch):
    X, y, f = sinc_data(1500, frac=0.25, seed=3)
    for extra in [{}, {"n_components": 150}]:  # 151 parameters: an S-start on components
        kw = dict(loss="tukey", kernel="rbf", gamma=2.0, alpha=0.1, random_state=0, **extra)
        whole = RobustRegressor(**kw).fit(X, y)
        with monkeypatch.context() as m:
            m.setattr(starts_module, "S_SAMPLE_ROWS", 400)
            sampled = RobustRegressor(**kw).fit(X, y)
        assert sampled.scale_ != whole.scale_  # the start did change
        # the S-scale of ~100 components on 400 rows varies with the subsets (0.17-0.43 over
        # seeds); the M-step makes the fits agree
        assert sampled.s_scale_ == sampled.scale_ and 0.1 < sampled.scale_ < 0.5
        assert np.sqrt(np.mean((sampled.predict(X) - f) ** 2)) < 0.02
        assert np.sqrt(np.mean((sampled.predict(X) - whole.predict(X)) ** 2)) < 0.01


# ------------------------------------------------------------------------ classifier
def test_classifier_kernel_features_from_the_factor_equal_the_eigh_features(monkeypatch):
    X, y = make_moons(400, noise=0.2, random_state=0)  # K has numerical rank 131
    eigh = scipy.linalg.eigh
    n_full = []

    def counting_eigh(a, *args, **kwargs):
        n_full.append(a.shape[0] == 400)
        return eigh(a, *args, **kwargs)

    monkeypatch.setattr(scipy.linalg, "eigh", counting_eigh)
    fast = RobustClassifier(kernel="rbf", gamma=1.0, tol=1e-10, max_iter=500).fit(X, y)
    assert not any(n_full)  # no eigendecomposition of the 400 x 400 kernel matrix
    monkeypatch.setattr(kernel_features_module, "_FACTOR_MAX_RANK", 1)
    slow = RobustClassifier(kernel="rbf", gamma=1.0, tol=1e-10, max_iter=500).fit(X, y)
    assert any(n_full)
    np.testing.assert_allclose(fast.decision_function(X), slow.decision_function(X),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fast.weights_, slow.weights_, atol=1e-5)


# ------------------------------------------------------------------ kernel Newton
@pytest.mark.parametrize("solver", ["direct", "cg"])
def test_kernel_newton_step_solves_a_quadratic_in_one_step(solver):
    # squared loss: L = sum (y - f)**2, g = -dL/df = 2 (y - f), d = 2; from any point the
    # Newton step lands on the penalised least-squares fit (KernelRidge without intercept)
    X, y, _ = sinc_data(300)
    K = rbf_kernel(X, gamma=2.0)
    f = K @ np.random.default_rng(7).normal(size=300)
    for fit_intercept in (False, True):
        design = KernelDesign(K, fit_intercept, solver=solver)
        target = design.newton_step(np.full(300, 2.0), f, 2.0 * (y - f), 0.1)
        expected = design.solve_weighted(np.ones(300), y, 0.1)
        np.testing.assert_allclose(design.predict(target), design.predict(expected), atol=1e-8)
    krr = np.linalg.solve(K + 0.1 * np.eye(300), y)
    np.testing.assert_allclose(KernelDesign(K, False).newton_step(np.full(300, 2.0), f,
                                                                  2.0 * (y - f), 0.1),
                               krr, rtol=1e-6, atol=1e-8)
    assert design.newton_step(np.zeros(300), f, y, 0.1) is None  # no curvature anywhere
    assert design.newton_step(np.ones(300), f, y, 0.0) is None  # no penalty


def test_kernel_newton_fit_equals_the_classic_irls_fit(monkeypatch):
    # Huber: the outliers have zero curvature, so their dual coefficients are fixed by the
    # step (g / 2 alpha); the optimum must be the one classic IRLS reaches
    X, y, _ = sinc_data(300)
    kw = dict(kernel="rbf", gamma=2.0, alpha=0.1, tol=1e-11, max_iter=500)
    newton_rule = MProblem.newton.fget
    linear_only = property(lambda self: self.capabilities.gram and newton_rule(self))
    for extra in [{}, {"scale": 0.15}, {"loss": "pseudo_huber"}]:
        newton = RobustRegressor(**kw, **extra).fit(X, y)
        with monkeypatch.context() as m:
            m.setattr(MProblem, "newton", linear_only)
            irls = RobustRegressor(**kw, **extra).fit(X, y)
        assert newton.n_iter_ < irls.n_iter_
        np.testing.assert_allclose(newton.predict(X), irls.predict(X), atol=1e-8)
        np.testing.assert_allclose(newton.scale_, irls.scale_, rtol=1e-8)
