"""``LinearDesign`` (:mod:`skrobust.design.linear`) against dense NumPy.

Grams, products, the fused residual pass, column moments and the weighted
ridge solve, for dense, sparse, float32 and Fortran-ordered ``X``, over
several row blocks.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from skrobust.design import linear as design_module
from skrobust.design.linear import LinearDesign


# ----------------------------------------------------- LinearDesign against NumPy
def _designs():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((2500, 7))
    X[rng.random(X.shape) < 0.6] = 0.0
    out = []
    for fit_intercept in (True, False):
        out.append(("dense", X, fit_intercept))
        out.append(("sparse", sp.csr_matrix(X), fit_intercept))
        out.append(("float32", X.astype(np.float32), fit_intercept))
        out.append(("fortran", np.asfortranarray(X), fit_intercept))
    return out


def _dense(X, fit_intercept):
    A = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    return np.c_[A, np.ones(A.shape[0])] if fit_intercept else A


@pytest.fixture(params=_designs(), ids=lambda p: f"{p[0]}-{'intercept' if p[2] else 'no'}")
def design_case(request, monkeypatch):
    monkeypatch.setattr(design_module, "_BLOCK_VALUES", 7 * 300)  # several row blocks
    _, X, fit_intercept = request.param
    design = LinearDesign(X, fit_intercept)
    assert design.sparse or design.block_rows < X.shape[0]  # several row blocks
    return design, _dense(X, fit_intercept)


def test_design_holds_float64_and_copies_other_dtypes_once():
    X = np.random.default_rng(0).standard_normal((50, 3))
    assert LinearDesign(X, True).X is X  # float64 is not copied
    for X32 in (X.astype(np.float32), sp.csr_matrix(X.astype(np.float32))):
        design = LinearDesign(X32, True)
        assert design.X.dtype == np.float64
        dense = design.X.toarray() if design.sparse else design.X
        np.testing.assert_array_equal(dense, X.astype(np.float32).astype(np.float64))


def test_weighted_gram_equals_dense_numpy(design_case):
    design, A = design_case
    rng = np.random.default_rng(10)
    v = rng.uniform(-1, 2, A.shape[0])
    z = rng.standard_normal(A.shape[0])
    G = design.gram_ext(v, [z])
    B = np.c_[A, z]
    tol = 1e-12
    np.testing.assert_allclose(G, B.T @ (v[:, None] * B), rtol=tol, atol=tol)
    rows = np.sort(rng.choice(A.shape[0], 700, replace=False))
    G_rows = design.gram_ext(v[rows], [z[rows]], rows=rows)
    np.testing.assert_allclose(G_rows, B[rows].T @ (v[rows, None] * B[rows]), rtol=tol,
                               atol=tol)
    G2, h = design.gram(v, z)
    np.testing.assert_allclose(G2, A.T @ (v[:, None] * A), rtol=tol, atol=tol)
    np.testing.assert_allclose(h, A.T @ (v * z), rtol=tol, atol=tol)


def test_products_and_residual_pass_equal_dense_numpy(design_case):
    design, A = design_case
    rng = np.random.default_rng(11)
    beta = rng.standard_normal(A.shape[1])
    y = rng.standard_normal(A.shape[0])
    tol = 1e-12
    np.testing.assert_allclose(design.predict(beta), A @ beta, rtol=tol, atol=tol)
    g = rng.standard_normal(A.shape[0])
    np.testing.assert_allclose(design.rmatvec(g), A.T @ g, rtol=tol, atol=tol)
    sums = []

    def pointwise(r_block, rows):
        sums.append(float(r_block.sum()))
        return np.tanh(r_block)

    r, xg = design.residual_pass(beta, y, pointwise)
    r_ref = y - A @ beta
    np.testing.assert_allclose(r, r_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(xg, A.T @ np.tanh(r_ref), rtol=tol, atol=tol)
    assert sum(sums) == pytest.approx(float(r_ref.sum()), abs=1e-6)


def test_column_moments_and_dense_rows_equal_dense_numpy(design_case):
    design, A = design_case
    X = A[:, :design.n_features]
    mean, sd = design.column_moments()
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(sd, X.std(axis=0), rtol=1e-6)
    rows = np.array([5, 0, 2499, 17])
    dense = design.dense_rows(rows)
    assert dense.dtype == np.float64 and dense.flags.c_contiguous
    np.testing.assert_array_equal(dense, A[rows])


def test_weighted_solve_equals_dense_ridge(design_case):
    design, A = design_case
    rng = np.random.default_rng(12)
    v = rng.uniform(0.1, 2, A.shape[0])
    z = rng.standard_normal(A.shape[0])
    beta = design.solve_weighted(v, z, 0.5)
    pen = np.full(A.shape[1], 0.5)
    if design.fit_intercept:
        pen[-1] = 0.0
    want = np.linalg.solve(A.T @ (v[:, None] * A) + np.diag(pen), A.T @ (v * z))
    tol = 1e-9
    np.testing.assert_allclose(beta, want, rtol=tol, atol=tol)
