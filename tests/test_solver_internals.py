"""Code paths that otherwise run only at benchmark sizes, against plain references.

The sampled Hessian and its warm start (thresholds lowered by monkeypatch),
the secant correction, the L-BFGS polish, the fused loops of
``losses/_fused.py`` against the loss objects (``LinearDesign``'s passes against
dense NumPy: ``test_design_linear.py``; the windowed MAD: ``test_scale_median.py``).
"""

import numpy as np
import pytest

from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.losses import get_loss
from skrobust.losses._fused import FUSED_MIN_ROWS, block_sums, curvature, row_pass
from skrobust.scale import FixedScale, HuberProposal2Scale, MADScale
from skrobust.solvers import irls as irls_module
from skrobust.solvers import lbfgs as lbfgs_module
from skrobust.solvers.hessian import secant_correction
from skrobust.solvers.irls import irls


def _data(n=3000, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 + rng.standard_t(2, n)
    return X, y


def _problem(X, y, loss="huber", rule=None, s=None):
    s = np.ones(len(y)) if s is None else s
    return MProblem(LinearDesign(X, True), y, s, get_loss(loss),
                    MADScale(1e-10) if rule is None else rule)


# ------------------------------------------------- sampled Hessian and warm start
@pytest.mark.parametrize("rule", [MADScale, lambda floor: HuberProposal2Scale(floor, n_params=5)],
                         ids=["mad", "proposal2"])
def test_sampled_hessian_and_warm_start_reach_the_full_newton_optimum(monkeypatch, rule):
    X, y = _data()
    s = np.random.default_rng(1).integers(1, 4, len(y)).astype(float)
    full = irls(_problem(X, y, rule=rule(1e-10), s=s), tol=1e-10)
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 1000)
    monkeypatch.setattr(irls_module, "HESSIAN_ROWS", 400)
    monkeypatch.setattr(irls_module, "WARM_MIN_ROWS", 1000)
    monkeypatch.setattr(irls_module, "WARM_ROWS", 300)
    problem = _problem(X, y, rule=rule(1e-10), s=s)
    rows = irls_module._hessian_rows(problem)
    assert rows is not None and rows.size == 400  # the sampled Hessian is on
    calls = []
    original = irls_module.secant_correction
    monkeypatch.setattr(irls_module, "secant_correction",
                        lambda *a: calls.append(1) or original(*a))
    sampled = irls(problem, tol=1e-10)
    assert sampled.converged and full.converged
    np.testing.assert_allclose(sampled.beta, full.beta, rtol=1e-7, atol=1e-8)
    assert sampled.scale == pytest.approx(full.scale, rel=1e-7)
    assert calls  # the secant correction ran on the sampled-Hessian steps


def test_warm_start_is_fitted_on_the_row_sample(monkeypatch):
    X, y = _data()
    monkeypatch.setattr(irls_module, "WARM_MIN_ROWS", 1000)
    monkeypatch.setattr(irls_module, "WARM_ROWS", 300)
    seen = []
    original = MProblem.subproblem
    monkeypatch.setattr(MProblem, "subproblem",
                        lambda self, rows: seen.append(len(rows)) or original(self, rows))
    result = irls(_problem(X, y), tol=1e-10)
    assert seen == [300]
    reference = irls(_problem(X, y), beta0=np.zeros(5), tol=1e-10)
    np.testing.assert_allclose(result.beta, reference.beta, rtol=1e-7, atol=1e-8)


# ------------------------------------------------------------ secant correction
def test_secant_correction_satisfies_the_galerkin_condition():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 6))
    H = M @ M.T + 6 * np.eye(6)  # the exact Hessian
    grad = rng.standard_normal(6)
    delta = -np.linalg.solve(H + np.diag(rng.uniform(0, 3, 6)), grad)  # approximate step
    steps = [rng.standard_normal(6) for _ in range(3)]
    pairs = [(step, H @ step) for step in steps]
    corrected = secant_correction(delta, grad, pairs)
    S = np.column_stack(steps)
    np.testing.assert_allclose(S.T @ (H @ corrected + grad), 0.0, atol=1e-10)
    exact = -np.linalg.solve(H, grad)
    assert np.linalg.norm(corrected - exact) < np.linalg.norm(delta - exact)


def test_secant_correction_keeps_the_step_without_positive_curvature():
    delta, grad = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    pairs = [(np.array([1.0, 0.0]), np.array([-1.0, 0.0]))]  # S'Y < 0
    np.testing.assert_array_equal(secant_correction(delta, grad, pairs), delta)


# ------------------------------------------------------------------ L-BFGS polish
@pytest.mark.parametrize("loss,rule", [("huber", FixedScale(1.3)), ("tukey", FixedScale(1.3)),
                                       ("huber", None)])
def test_lbfgs_polish_finishes_at_the_irls_optimum(loss, rule):
    X, y = _data(n=500)
    problem = _problem(X, y, loss, rule=rule)
    reference = irls(problem, tol=1e-10)
    start = reference.beta + 0.05
    polished = lbfgs_module._polish(problem, start, reference.scale, 100, 1e-10)
    assert polished is not None and polished.converged
    np.testing.assert_allclose(polished.beta, reference.beta, rtol=1e-6, atol=1e-7)


def test_lbfgs_polishes_an_abnormal_line_search(monkeypatch):
    X, y = _data(n=500)
    problem = _problem(X, y, rule=FixedScale(1.3))
    reference = irls(problem, tol=1e-10)
    import scipy.optimize

    original = scipy.optimize.minimize

    def abnormal(*args, **kwargs):
        res = original(*args, **{**kwargs, "options": {**kwargs["options"], "maxiter": 2}})
        res.success, res.status = False, 2
        res.jac = np.full_like(res.x, 1.0)  # far above the tolerance: not accepted as it is
        return res

    monkeypatch.setattr(scipy.optimize, "minimize", abnormal)
    polished = []
    original_polish = lbfgs_module._polish
    monkeypatch.setattr(lbfgs_module, "_polish",
                        lambda *a: polished.append(1) or original_polish(*a))
    result = lbfgs_module.lbfgs(problem, tol=1e-10)
    assert polished
    np.testing.assert_allclose(result.beta, reference.beta, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------- fused loops = loss objects
FUSED = [("huber", 1.345), ("tukey", 4.685), ("huber", 0.5), ("tukey", 1.0)]


# below FUSED_MIN_ROWS the passes run NumPy around the loss's pointwise kernel, above it
# the fused kernels: both must equal the loss object
SIZES = [401, FUSED_MIN_ROWS + 3]


def _residuals(seed=5, n=401):
    rng = np.random.default_rng(seed)
    r = 3.0 * rng.standard_t(2, n)
    r[:3] = [0.0, 1e200, -1e200]  # zero, and rho overflowing to its cap
    return r


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name,c", FUSED)
def test_fused_block_sums_equal_the_loss_object(name, c, n):
    loss = get_loss(name, c=c)
    r = _residuals(n=n)
    s = np.random.default_rng(6).uniform(0, 2, r.size)
    ref = r + 0.1
    inv_scale = 1 / 1.7
    g = np.empty_like(r)
    sum_rho, sum_upsi, change = block_sums(loss)(r, s, inv_scale, g, ref)
    u = r * inv_scale
    rho = np.minimum(loss.rho(u), np.finfo(float).max)
    np.testing.assert_allclose(g, s * loss.psi(u), rtol=1e-14, atol=1e-300)
    assert sum_rho == pytest.approx(float(s @ rho), rel=1e-12)
    assert sum_upsi == pytest.approx(float(s @ (u * loss.psi(u))), rel=1e-12)
    assert change == pytest.approx(float(s @ (r - ref) ** 2), rel=1e-12)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name,c", FUSED)
@pytest.mark.parametrize("has_ref", [False, True])
def test_fused_row_pass_equals_dense_numpy(name, c, has_ref, n):
    loss = get_loss(name, c=c)
    rng = np.random.default_rng(8)
    X = rng.standard_normal((n, 5))
    y = 4.0 * rng.standard_t(2, n)
    beta = rng.standard_normal(6)
    s = rng.uniform(0, 2, n)
    ref = y - 0.2 if has_ref else None
    design = LinearDesign(X, True)
    r, xg, sums = design.row_pass(beta, y, row_pass(loss), (s, 1 / 1.7, ref))
    A = np.c_[X, np.ones(n)]
    r_ref = y - A @ beta
    u = r_ref / 1.7
    g = s * loss.psi(u)
    np.testing.assert_allclose(r, r_ref, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(xg, A.T @ g, rtol=1e-12, atol=1e-12)
    assert sums[0] == pytest.approx(float(s @ loss.rho(u)), rel=1e-12)
    assert sums[1] == pytest.approx(float(s @ (u * loss.psi(u))), rel=1e-12)
    assert sums[2] == pytest.approx(float(g.sum()), rel=1e-12, abs=1e-12)
    if has_ref:
        assert sums[3] == pytest.approx(float(s @ (r_ref - ref) ** 2), rel=1e-12)
    else:  # no reference: no change summed, by NumPy as by the fused loop
        assert sums[3] == 0.0


@pytest.mark.parametrize("name,c", FUSED)
def test_short_pass_is_the_loss_objects_arithmetic_bit_for_bit(name, c):
    # below FUSED_MIN_ROWS the pass calls the loss's pointwise kernel directly: the
    # same numbers, to the bit, as the loss object's rho and psi with NumPy's dot
    loss = get_loss(name, c=c)
    r = _residuals(n=401)
    s = np.random.default_rng(6).uniform(0, 2, r.size)
    ref = r + 0.1
    g = np.empty_like(r)
    sums = block_sums(loss)(r, s, 1 / 1.7, g, ref)
    u = r * (1 / 1.7)
    psi = loss.psi(u)
    np.testing.assert_array_equal(g, s * psi)
    assert sums == (float(np.dot(s, loss.rho(u))), float(np.dot(s, u * psi)),
                    float(np.dot(s * (r - ref), r - ref)))


def test_losses_without_fused_loops_fall_back():
    loss = get_loss("cauchy")
    assert block_sums(loss) is None and row_pass(loss) is None


@pytest.mark.parametrize("name", ["huber", "tukey", "cauchy"])
def test_curvature_is_the_weighted_psi_deriv(name):
    loss = get_loss(name)
    u, s = np.array([0.0, 0.5, -2.0, 30.0]), np.array([2.0, 1.0, 0.5, 3.0])
    expected = {"huber": [2.0, 1.0, 0.0, 0.0],
                "tukey": [2.0, (1 - 0.5**2 / 4.685**2) * (1 - 5 * 0.5**2 / 4.685**2), None, 0.0],
                "cauchy": [2.0, None, None, None]}[name]
    got = curvature(loss, u, s)
    for value, want in zip(got, expected, strict=True):
        if want is not None:
            assert value == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("shape", [(7, 3), (70_000, 1)])  # NumPy below 2**16 entries, numba above
@pytest.mark.parametrize("order", ["C", "F"])
def test_column_magnitudes_are_the_column_maxima_of_abs(shape, order):
    from skrobust._units import column_magnitudes

    rng = np.random.default_rng(3)
    X = np.asarray(rng.standard_t(3, shape) * [10.0 ** k for k in range(shape[1])], order=order)
    X[0, 0] = -1e30  # a float32 still
    np.testing.assert_array_equal(column_magnitudes(X), np.abs(X).max(axis=0))
    np.testing.assert_array_equal(column_magnitudes(X.astype(np.float32)),
                                  np.abs(X.astype(np.float32)).max(axis=0))
