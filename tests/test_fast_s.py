"""Tests of the fast-S solver (skrobust.solvers.fast_s); the M-scale: test_scale_mscale.py.

Reference numbers are R robustbase's ``lmrob`` fits (regression_peers.md,
sections 4 and 5): stackloss S and MM fits, starsCYG and hbk outlier sets.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from skrobust.datasets import load_robustbase, load_stackloss
from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.losses import get_loss
from skrobust.scale import FixedScale
from skrobust.solvers.fast_s import (
    FastSResult,
    fast_s,
    m_scale,
    refine_s,
)
from skrobust.solvers.irls import irls

MM_C = 4.685061


def _stackloss():
    return load_stackloss(return_X_y=True)


def _mm(design, y, s_res, sample_weight=None):
    """Tukey M-step at the fixed S-scale from the S-estimate (lmrob's MM)."""
    w = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    problem = MProblem(design, y, w, get_loss("tukey", c=MM_C), FixedScale(s_res.scale))
    res = irls(problem, s_res.beta, max_iter=500, tol=1e-10)
    assert res.converged
    return res


# ------------------------------------------------------------------ stackloss vs lmrob
LMROB_S = np.array([0.84957, 0.43047, -0.07354, -36.92542])  # coefficients, then intercept
LMROB_S_SCALE = 1.9124
LMROB_MM = np.array([0.93885, 0.57955, -0.11292, -41.52462])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stackloss_s_matches_lmrob(seed):
    X, y = _stackloss()
    res = fast_s(LinearDesign(X, fit_intercept=True), y, None, random_state=seed)
    assert isinstance(res, FastSResult)
    assert res.converged, res.message
    assert res.scale <= LMROB_S_SCALE * (1 + 2e-3)
    np.testing.assert_allclose(res.beta, LMROB_S, rtol=2e-2)
    # in practice the gap is at the level of the printed digits
    np.testing.assert_allclose(res.beta, LMROB_S, rtol=1e-4)
    assert res.scale == pytest.approx(LMROB_S_SCALE, rel=1e-4)
    assert res.n_subsets == 500
    assert res.candidate_betas.shape == (2, 4)
    assert res.scale == res.candidate_scales.min()


def test_stackloss_mm_matches_lmrob():
    X, y = _stackloss()
    design = LinearDesign(X, fit_intercept=True)
    s_res = fast_s(design, y, None, random_state=0)
    mm = _mm(design, y, s_res)
    np.testing.assert_allclose(mm.beta, LMROB_MM, rtol=2e-3)
    # observation 21 is rejected (weight 0 in lmrob)
    r = y - design.predict(mm.beta)
    weights = get_loss("tukey", c=MM_C).weight(r / s_res.scale)
    assert weights[20] < 0.01


# ------------------------------------------------------------------ other robustbase data sets
def test_stars_cyg_giants():
    X, y = load_robustbase("starsCYG", return_X_y=True)
    design = LinearDesign(X, fit_intercept=True)
    s_res = fast_s(design, y, None, random_state=0)
    mm = _mm(design, y, s_res)
    np.testing.assert_allclose(mm.beta, [2.253, -4.969], atol=2e-3)
    ols = np.polyfit(X[:, 0], y, 1)
    assert ols[0] < 0  # the giants turn the OLS slope negative
    r = y - design.predict(mm.beta)
    weights = (1 - np.minimum((r / (MM_C * s_res.scale)) ** 2, 1)) ** 2
    np.testing.assert_array_equal(np.flatnonzero(weights < 0.01) + 1, [11, 20, 30, 34])


def test_hbk_bad_leverage_points():
    X, y = load_robustbase("hbk", return_X_y=True)
    design = LinearDesign(X, fit_intercept=True)
    s_res = fast_s(design, y, None, random_state=47)
    mm = _mm(design, y, s_res)
    r = y - design.predict(mm.beta)
    weights = get_loss("tukey", c=MM_C).weight(r / s_res.scale)
    np.testing.assert_array_equal(np.flatnonzero(weights < 0.01) + 1, np.arange(1, 11))
    assert np.all(weights[10:14] > 0.9)  # the good leverage points keep a high weight


# ------------------------------------------------------------------ randomness, weights
def _contaminated(n=120, d=3, seed=0, frac=0.2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    beta = np.arange(1.0, d + 1.0)
    y = X @ beta + 2.0 + 0.5 * rng.normal(size=n)
    k = int(frac * n)
    y[:k] += 30.0
    return X, y, np.r_[beta, 2.0]


def test_reproducible():
    X, y, _ = _contaminated()
    design = LinearDesign(X, fit_intercept=True)
    a = fast_s(design, y, None, random_state=3)
    b = fast_s(design, y, None, random_state=3)
    np.testing.assert_array_equal(a.beta, b.beta)
    assert a.scale == b.scale
    np.testing.assert_array_equal(a.candidate_betas, b.candidate_betas)
    c = fast_s(design, y, None, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(a.beta, c.beta)
    d = fast_s(design, y, None, random_state=np.random.RandomState(3))
    e = fast_s(design, y, None, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(d.beta, e.beta)
    with pytest.raises(ValueError, match="random_state"):
        fast_s(design, y, None, random_state="seed")


def test_zero_weight_rows_equal_removed_rows():
    X, y, _ = _contaminated(seed=1)
    w = np.ones(y.size)
    drop = [0, 3, 50, 51, 90]
    w[drop] = 0.0
    y_mod = y.copy()
    y_mod[drop] = 1e8  # never enters a subset, never changes a scale
    a = fast_s(LinearDesign(X, True), y_mod, w, random_state=7)
    b = fast_s(LinearDesign(np.delete(X, drop, axis=0), True), np.delete(y, drop), None,
               random_state=7)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-9, atol=1e-12)
    assert a.scale == pytest.approx(b.scale, rel=1e-9)
    assert a.n_singular_subsets == b.n_singular_subsets


def test_integer_weights_equal_repetition_for_refinement():
    X, y, _ = _contaminated(seed=2)
    w = np.random.default_rng(0).integers(1, 4, size=y.size).astype(float)
    Xr, yr = np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int))
    start = fast_s(LinearDesign(X, True), y, w, random_state=0)
    beta0 = start.candidate_betas[-1] + 0.05  # a common start that is not yet a fixed point
    a = refine_s(LinearDesign(X, True), y, w, beta0, 1.0)
    b = refine_s(LinearDesign(Xr, True), yr, None, beta0, 1.0)
    assert a.converged and b.converged
    assert a.n_iter == b.n_iter
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-9)
    assert a.scale == pytest.approx(b.scale, rel=1e-9)
    # fast-S itself draws different subsets but reaches the same S-estimate
    c = fast_s(LinearDesign(Xr, True), yr, None, random_state=0)
    np.testing.assert_allclose(start.beta, c.beta, rtol=1e-5)
    assert start.scale == pytest.approx(c.scale, rel=1e-6)


def test_sparse_equals_dense():
    X, y, _ = _contaminated(seed=4)
    X[np.abs(X) < 0.3] = 0.0
    a = fast_s(LinearDesign(X, True), y, None, random_state=5)
    b = fast_s(LinearDesign(sp.csr_matrix(X), True), y, None, random_state=5)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-8)
    assert a.scale == pytest.approx(b.scale, rel=1e-8)


def test_no_intercept():
    X, y, beta = _contaminated(seed=6)
    y = y - 2.0
    res = fast_s(LinearDesign(X, fit_intercept=False), y, None, random_state=0)
    np.testing.assert_allclose(res.beta, beta[:-1], atol=0.3)


# ------------------------------------------------------------------ breakdown, large n
def test_breakdown_bad_leverage_cluster():
    rng = np.random.default_rng(11)
    n, n_bad = 200, 60  # 30% bad leverage points
    X = rng.normal(size=(n, 2))
    beta = np.array([2.0, -1.0])
    y = X @ beta + 1.0 + 0.3 * rng.normal(size=n)
    X[:n_bad] = np.array([8.0, 8.0]) + 0.1 * rng.normal(size=(n_bad, 2))
    y[:n_bad] = -40.0 + 0.1 * rng.normal(size=n_bad)
    truth = np.r_[beta, 1.0]
    design = LinearDesign(X, fit_intercept=True)
    s_res = fast_s(design, y, None, random_state=0)
    mm = _mm(design, y, s_res)
    for est in (s_res.beta, mm.beta):
        assert np.max(np.abs(est - truth) / np.abs(truth)) < 0.1
    A = np.c_[X, np.ones(n)]
    ols = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.max(np.abs(ols - truth) / np.abs(truth)) > 1.0


def test_large_n_nested_subsampling():
    X, y, truth = _contaminated(n=6000, d=4, seed=8, frac=0.3)
    w = np.ones(y.size)
    w[::7] = 0.0
    design = LinearDesign(X, fit_intercept=True)
    a = fast_s(design, y, w, random_state=0)
    assert a.large_n and a.converged
    assert a.n_subsets == 5 * 500
    np.testing.assert_allclose(a.beta, truth, atol=0.1)
    b = fast_s(design, y, w, random_state=0)
    np.testing.assert_array_equal(a.beta, b.beta)
    # the scale is the M-scale of the final residuals over all positive-weight rows
    r = y - design.predict(a.beta)
    assert a.scale == pytest.approx(m_scale(r, w, n_params=5), rel=1e-8)


# ------------------------------------------------------------------ bad input
def test_too_few_samples():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 2)), rng.normal(size=7)  # p = 3 needs 8
    with pytest.raises(ValueError, match=r"at least 2\(p\+1\) = 8 samples"):
        fast_s(LinearDesign(X, True), y, None)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    w = np.zeros(20)
    w[:7] = 1.0  # only the positive-weight rows count
    with pytest.raises(ValueError, match=r"at least 2\(p\+1\)"):
        fast_s(LinearDesign(X, True), y, w)


def test_all_subsets_singular():
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    X = np.c_[x, 2.0 * x]  # exactly collinear columns
    y = x + rng.normal(size=30)
    with pytest.raises(ValueError, match="no elemental subset of full rank"):
        fast_s(LinearDesign(X, True), y, None, random_state=0)
    with pytest.raises(ValueError, match="all 500 elemental subsets were singular"):
        fast_s(LinearDesign(X, True), y, None, random_state=0, subsampling="simple")
    with pytest.raises(ValueError, match="subsampling must be one of"):
        fast_s(LinearDesign(x[:, None], True), y, None, subsampling="uniform")


def _rare_dummy(n=60, seed=1):
    rng = np.random.default_rng(seed)
    X = np.c_[rng.normal(size=n), (np.arange(n) < 6).astype(float)]  # a rare dummy
    y = X @ np.array([1.0, 5.0]) + rng.normal(size=n)
    return X, y


def test_simple_subsampling_skips_and_counts_singular_subsets():
    X, y = _rare_dummy()
    res = fast_s(LinearDesign(X, True), y, None, random_state=0, subsampling="simple")
    assert res.n_singular_subsets > 0
    assert res.n_subsets == 500
    assert np.all(np.isfinite(res.beta))


def test_nonsingular_subsampling_wastes_no_draw():
    X, y = _rare_dummy()
    res = fast_s(LinearDesign(X, True), y, None, random_state=0)
    assert res.n_singular_subsets == 0
    assert res.n_subsets == 500
    assert res.message == ""
    np.testing.assert_allclose(res.beta, [1.0, 5.0, 0.0], atol=0.5)


# ------------------------------------------------------------------ subsampling
def test_nonsingular_fits_are_exact_fits_of_full_rank_subsets():
    from skrobust.solvers.subsampling import nonsingular_fits

    rng = np.random.default_rng(2)
    level = rng.choice(6, size=300, p=[0.5, 0.3, 0.1, 0.05, 0.03, 0.02])
    A = np.c_[np.eye(6)[level][:, 1:], rng.normal(size=(300, 2)), np.ones(300)]
    y = rng.normal(size=300)
    betas, n_unfinished, n_skipped = nonsingular_fits(A, y, np.random.default_rng(0), 200)
    assert betas.shape == (200, 8) and n_unfinished == 0
    assert n_skipped > 0  # rows of levels already represented were skipped, not wasted draws
    # every candidate interpolates exactly 8 rows (its subset), which have full rank
    for beta in betas[:20]:
        on = np.flatnonzero(np.abs(y - A @ beta) < 1e-9)
        assert on.size == 8 and np.linalg.matrix_rank(A[on]) == 8
    again, _, _ = nonsingular_fits(A, y, np.random.default_rng(0), 200)
    np.testing.assert_array_equal(betas, again)


def test_nonsingular_fits_on_rank_deficient_rows():
    from skrobust.solvers.subsampling import nonsingular_fits

    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    A = np.c_[x, 3 * x, np.ones(50)]
    betas, n_unfinished, _ = nonsingular_fits(A, rng.normal(size=50), rng, 10)
    assert betas.shape == (0, 3) and n_unfinished == 10


def _subsets_both_ways(A, y, draws, tol=1e-10):
    from skrobust.solvers.subsampling import _build_subsets_kernel, _build_subsets_numpy

    m, p = A.shape
    out = []
    for build in ("numpy", "kernel"):
        betas, done = np.zeros((draws.shape[0], p)), np.zeros(draws.shape[0], dtype=bool)
        if build == "numpy":
            n_skipped = _build_subsets_numpy(A, y, draws, tol, betas, done)
        else:
            n_skipped = _build_subsets_kernel(
                A, y, draws, tol, betas, done, np.empty((p, p)), np.empty(p),
                np.empty(p, dtype=np.int64), np.zeros(p, dtype=bool), np.empty(p),
                np.full(m, -1, dtype=np.int64))
        out.append((betas, done, n_skipped))
    return out


@pytest.mark.parametrize("design", ["gaussian", "one_hot", "dependent_column", "integers"])
def test_small_batches_of_subsets_in_numpy_equal_the_kernel_bit_for_bit(design):
    # the NumPy builder (small batches, no compilation) and the numba kernel (large ones)
    # must give the same fits, the same finished subsets and the same count of skipped rows
    from skrobust.solvers.subsampling import _equilibrate

    rng = np.random.default_rng(8)
    for m, p in [(9, 1), (40, 3), (200, 6), (120, 7)]:
        if design == "gaussian":
            A = rng.normal(size=(m, p))
        elif design == "one_hot":  # rare levels: streams that do not reach full rank
            A = np.eye(p)[rng.choice(p, size=m, p=np.r_[0.9, np.full(p - 1, 0.1 / (p - 1))]
                                     if p > 1 else None)]
        elif design == "dependent_column":  # rank p - 1: no subset finishes
            A = rng.normal(size=(m, p))
            A[:, -1] = A[:, 0] - 2.0 * A[:, -2 if p > 1 else 0]
        else:  # ties between pivot candidates
            A = rng.integers(-2, 3, size=(m, p)).astype(float)
        A = _equilibrate(A)[0]
        y = rng.normal(size=m)
        draws = rng.integers(0, m, size=(50, 2 * p + 20))  # with repeated indices
        (b1, d1, n1), (b2, d2, n2) = _subsets_both_ways(A, y, draws)
        np.testing.assert_array_equal(b1, b2)
        np.testing.assert_array_equal(d1, d2)
        assert n1 == n2
    if design == "dependent_column":
        assert not d1.any()
    elif design == "gaussian":
        assert d1.all()


def test_candidate_least_squares_in_chunks_equal_one_batch():
    from skrobust.solvers.s_candidates import _Sample

    rng = np.random.default_rng(4)
    A = np.c_[rng.normal(size=(18, 4)), np.ones(18)]  # A.size = 90 < 4 Grams
    y = A @ np.arange(1.0, 6.0) + rng.normal(size=18)
    Wt = rng.random((30, 18))
    B_prev = rng.normal(size=(30, 5))
    whole = _Sample(A, y, np.ones(18), 13.0).wls(Wt, B_prev)
    # 4 candidates' Grams at a time, and no table of outer products
    chunked = _Sample(A, y, np.ones(18), 13.0, outer_budget=4 * 25, gram_chunk=4 * 25).wls(
        Wt, B_prev)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12)


def test_rows_i_step_is_the_scalar_step_bit_for_bit():
    # the scale step runs on all candidates at once: the same bits as one candidate at a time
    import math

    from skrobust.losses.tukey import tukey_chi_sum_slope, tukey_scaled_weights
    from skrobust.solvers.s_candidates import _rows_i_step

    rng = np.random.default_rng(12)
    R = rng.standard_t(2, size=(40, 60))
    w = rng.uniform(0.5, 2.0, size=60)
    s0 = rng.uniform(0.1, 3.0, size=40)
    s0[0] = 1e-300  # at the floor
    c, denom, b, floor = 1.54764, 57.0, 0.5, 1e-300
    s, W = s0.copy(), np.empty_like(R)
    _rows_i_step(R, w, s, c, denom, b, floor, W)
    for k in range(R.shape[0]):
        g = tukey_chi_sum_slope(R[k], w, s0[k], c)[0] / denom
        sk = max(float(s0[k]) * math.sqrt(g / b), floor)
        out = np.empty(R.shape[1])
        tukey_scaled_weights(R[k], w, sk, c, out)
        assert s[k] == sk
        np.testing.assert_array_equal(W[k], out)
