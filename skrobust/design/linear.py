"""The linear design: products with ``[X, 1]`` for dense or sparse ``X``.

Solvers see only this object, so dense, CSR/CSC and (later) feature maps
share one code path.  Coefficients are ``beta = (coef..., intercept)`` when
the model has an intercept.  The interface the M-estimation solvers need of
any design is ``predict``, ``rmatvec``, ``penalty_value``, ``penalty_grad``
and ``solve_weighted`` (the exact-kernel design offers those too); the
Grams, row blocks and fused passes below are what makes the linear design
fast.

Memory and passes over ``X``: every method walks ``X`` in row blocks
(about 320 KiB of a dense ``X``), so nothing of size ``n x d`` is ever
allocated (a sparse ``X`` is weighted a block of rows at a time), and the
work on a block happens while it is in cache, so ``X`` is read from memory
once per call.  ``X`` is float64: another dtype is copied once (the
estimators validate float32 and fit it in float64).

- :meth:`LinearDesign.gram` / :meth:`LinearDesign.gram_ext`: ``A' diag(v) A``
  accumulated in float64 over blocks (BLAS through NumPy's ``matmul``, so
  ``threadpoolctl`` limits on NumPy's BLAS apply), optionally with extra
  columns and over a subset of rows (gathered a block at a time).
- :meth:`LinearDesign.residual_pass`: for each block ``r = y - A beta``,
  then a caller's pointwise function of the block's residuals (the loss's
  ``psi``), then ``A' g``: the residuals *and* the gradient in one read.
- :meth:`LinearDesign.row_pass`: the same as one compiled loop over the
  rows (a kernel from :mod:`skrobust.losses._fused`), for dense
  C-contiguous float64 ``X``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from .._linalg import (
    column_moments,
    equilibrated_cholesky,
    pcg,
    penalty_diagonal,
    solve_normal_equations,
)
from .objective import LINEAR, Capabilities

_BLOCK_VALUES = 40960  # values per row block (320 KiB of float64): a block stays in L2
#: designs with at least this many parameters solve weighted steps by PCG on an earlier Gram
PCG_MIN_PARAMS = 128
#: PCG iterations (two products with the design each) before the Gram is rebuilt
PCG_MAX_ITER = 10
_PCG_RTOL = 1e-12


def _block_rows(n_features: int) -> int:
    return int(max(256, _BLOCK_VALUES // max(n_features, 1)))


class LinearDesign:
    """Products with the design ``[X, 1]`` (or ``X`` without an intercept).

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Held as is when float64; another dtype (float32) is copied to float64
        once, which is what the estimators fit.
    fit_intercept : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> d = LinearDesign(np.array([[1.0], [2.0]]), fit_intercept=True)
    >>> d.predict(np.array([2.0, 1.0]))
    array([3., 5.])
    """

    capabilities: ClassVar[Capabilities] = LINEAR

    def __init__(self, X, fit_intercept: bool):
        self.sparse = sp.issparse(X)
        # X of another dtype (float32) is held as one float64 copy, as the estimators fit it
        self.X = (X.tocsr() if self.sparse else X).astype(np.float64, copy=False)
        self.fit_intercept = bool(fit_intercept)
        self.n_samples, self.n_features = X.shape
        self.n_params = self.n_features + int(self.fit_intercept)
        self.block_rows = _block_rows(self.n_features)
        self._pcg = self.n_params >= PCG_MIN_PARAMS
        self._reference = None  # (Cholesky factor, equilibration) of the last Gram
        self._warm = None  # the last weighted least-squares solution
        self.pcg_iterations = []  # per solve_weighted call by PCG (-1: fell back to a Gram)

    def split(self, beta):
        """(coef, intercept) from the parameter vector."""
        if self.fit_intercept:
            return beta[:-1], float(beta[-1])
        return beta, 0.0

    def column_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Column means and standard deviations of ``X`` (a zero deviation reads 1),
        by :func:`~skrobust._linalg.column_moments` over the design's row blocks."""
        return column_moments(self.X, self.block_rows)

    def dense_rows(self, rows) -> np.ndarray:
        """The rows ``rows`` of ``[X, 1]`` as a C-contiguous float64 array."""
        Xr = self.X[rows]
        Xr = np.asarray(Xr.toarray() if self.sparse else Xr, dtype=np.float64)
        if self.fit_intercept:
            Xr = np.hstack([Xr, np.ones((Xr.shape[0], 1))])
        return np.ascontiguousarray(Xr)

    def subset(self, rows) -> LinearDesign:
        """The design restricted to ``rows`` (a copy of those rows of ``X``)."""
        X = self.X[rows] if self.sparse else np.take(self.X, rows, axis=0)
        return LinearDesign(X, self.fit_intercept)

    def _blocks(self, rows_per_block=None):
        n, b = self.n_samples, rows_per_block or self.block_rows
        for start in range(0, n, b):
            yield slice(start, min(start + b, n))

    # ------------------------------------------------------------ products
    def predict(self, beta):
        """``A beta``."""
        coef, intercept = self.split(beta)
        out = np.asarray(self.X @ coef, dtype=np.float64).ravel()
        if intercept != 0.0:
            out += intercept
        return out

    def rmatvec(self, g):
        """``A' g``."""
        xg = np.asarray(self.X.T @ g, dtype=np.float64).ravel()
        if self.fit_intercept:
            return np.append(xg, g.sum())
        return xg

    def residual_pass(self, beta, y, pointwise, out=None):
        """Residuals ``r = y - A beta`` and ``A' g`` with ``g = pointwise(r, rows)``, one read of X.

        ``pointwise(r_block, rows)`` gets the residuals of a block of rows (a
        slice) and returns that block's ``g``; it may accumulate scalars of
        its own (a loss sum) on the side.  ``out`` receives the residuals (a
        reused buffer saves the page faults of a fresh length-``n`` array).
        Returns ``(r, A' g)``.
        """
        coef, intercept = self.split(beta)
        d = self.n_features
        r = np.empty(self.n_samples) if out is None else out
        if self.sparse:
            np.subtract(y, np.asarray(self.X @ coef, dtype=np.float64).ravel(), out=r)
            r -= intercept
            g = pointwise(r, slice(0, self.n_samples))
            xg = np.asarray(self.X.T @ g, dtype=np.float64).ravel()
            return r, (np.append(xg, g.sum()) if self.fit_intercept else xg)
        X = self.X
        xg = np.zeros(d)
        gsum = 0.0
        # blocks 4x the Gram's: the per-block Python work is amortised, X stays in L2/L3
        for rows in self._blocks(4 * self.block_rows):
            block = X[rows]
            rb = r[rows]
            np.dot(block, coef, out=rb)
            np.subtract(y[rows], rb, out=rb)
            if intercept != 0.0:
                rb -= intercept
            g = pointwise(rb, rows)
            xg += g @ block
            gsum += float(g.sum())
        return r, (np.append(xg, gsum) if self.fit_intercept else xg)

    def row_pass(self, beta, y, kernel, args, out=None):
        """One compiled loop over the rows: ``kernel(X, y, coef, intercept, *args, r, xg)``.

        For a dense, C-contiguous ``X`` only (otherwise None, and the
        caller uses :meth:`residual_pass`).  The kernel (see
        :func:`skrobust.losses._fused.row_pass`) writes the residuals into
        ``r``, adds ``X' g`` into ``xg`` and returns its sums, the third of
        which is ``sum g``.  Returns ``(r, A' g, sums)``.
        """
        X = self.X
        if self.sparse or not X.flags.c_contiguous:
            return None
        coef, intercept = self.split(beta)
        r = np.empty(self.n_samples) if out is None else out
        xg = np.zeros(self.n_features)
        sums = kernel(X, y, np.ascontiguousarray(coef, dtype=np.float64), intercept, *args, r, xg)
        return r, (np.append(xg, sums[2]) if self.fit_intercept else xg), sums

    # ------------------------------------------------------------ penalty
    def penalty_value(self, beta, alpha: float) -> float:
        """``alpha ||coef||**2`` (the intercept is not penalised)."""
        coef, _ = self.split(beta)
        return float(alpha) * float(np.dot(coef, coef))

    def penalty_grad(self, beta, alpha: float):
        """Gradient of :meth:`penalty_value`."""
        g = 2.0 * float(alpha) * np.asarray(beta, dtype=np.float64)
        if self.fit_intercept:
            g[-1] = 0.0
        return g

    def solve_weighted(self, v, z, alpha: float):
        """Minimise ``sum v (z - A beta)**2 + alpha ||coef||**2`` (normal equations).

        A wide design (at least :data:`PCG_MIN_PARAMS` parameters, where the
        Gram costs ``n d**2`` flops against ``n d`` for a product with ``A``)
        keeps the Cholesky factor of its last Gram and solves the next
        systems by conjugate gradients preconditioned with it, from the last
        solution: IRLS changes the weights a little per step, so a few
        products with ``A`` replace a Gram.  When PCG needs more than
        :data:`PCG_MAX_ITER` iterations the Gram is rebuilt.
        """
        if self._reference is not None:
            sol = self._solve_pcg(v, z, alpha)
            if sol is not None:
                return sol
        G, h = self.gram(v, z)
        G[np.diag_indices_from(G)] += penalty_diagonal(self.n_params, self.fit_intercept, alpha)
        sol = solve_normal_equations(G, h)
        if self._pcg and np.all(np.isfinite(sol)):
            self._reference = equilibrated_cholesky(G)
            self._warm = sol
        return sol

    def _solve_pcg(self, v, z, alpha):
        from scipy.linalg import cho_solve

        factor, scale = self._reference
        pen = penalty_diagonal(self.n_params, self.fit_intercept, alpha)

        def apply_a(X):
            return (self.rmatvec(v * self.predict(X[0])) + pen * X[0])[None, :]

        def apply_p_inv(R):
            return (cho_solve(factor, R[0] * scale, check_finite=False) * scale)[None, :]

        h = self.rmatvec(v * z)
        X, n_iter = pcg(apply_a, apply_p_inv, h[None, :], self._warm[None, :], _PCG_RTOL,
                        PCG_MAX_ITER)
        self.pcg_iterations.append(n_iter if X is not None else -1)
        if X is None:
            return None
        self._warm = X[0]
        return X[0]

    # -------------------------------------------------------------- Grams
    def gram(self, v, z):
        """``A' diag(v) A`` and ``A' (v * z)`` for ``A = [X, 1]``, in float64."""
        G = self.gram_ext(v)
        h = self.rmatvec(v * z)
        return G, h

    def gram_ext(self, v, extra=None, rows=None):
        """``B' diag(v) B`` for ``B = [A, extra]``: the Gram of the design and extra columns.

        ``extra`` is None or a sequence of vectors appended as columns after
        the intercept (the Hessians append the target).  ``v`` may have any
        sign.  With ``rows`` (indices), the Gram of those rows only: ``v`` and
        ``extra`` then have one entry per index, and the rows are gathered a
        block at a time (no copy of the row subset).
        """
        extra = [] if extra is None else [np.asarray(e, dtype=np.float64) for e in extra]
        d = self.n_features
        n_tail = int(self.fit_intercept) + len(extra)  # columns after X
        q = d + n_tail
        v = np.asarray(v, dtype=np.float64)
        if self.sparse:
            if rows is not None:
                return self.subset(rows)._gram_sparse(v, extra)
            return self._gram_sparse(v, extra)
        X = self.X
        n_rows = self.n_samples if rows is None else len(rows)
        top = np.zeros((d, q))  # X' W [X, tail]
        bottom = np.zeros((n_tail, q))  # tail' W [X, tail]
        b = min(self.block_rows, max(n_rows, 1))
        wbuf = np.empty((b, q))
        tbuf = np.empty((b, n_tail))
        gbuf = np.empty((b, d)) if rows is not None else None
        for start in range(0, n_rows, b):
            sl = slice(start, min(start + b, n_rows))
            if rows is None:
                block = X[sl]
            else:
                block = gbuf[: sl.stop - start]
                np.take(X, rows[sl], axis=0, out=block)
            m = block.shape[0]
            vb = v[sl]
            W = wbuf[:m]
            np.multiply(block, vb[:, None], out=W[:, :d])
            if n_tail:
                T = tbuf[:m]
                j = 0
                if self.fit_intercept:
                    T[:, 0] = 1.0
                    j = 1
                for e in extra:
                    T[:, j] = e[sl]
                    j += 1
                np.multiply(T, vb[:, None], out=W[:, d:])
                bottom += T.T @ W
            top += block.T @ W
        G = np.empty((q, q))
        G[:d] = top
        G[d:] = bottom
        # symmetrise (the two halves are computed by different products)
        G[:d, d:] = G[d:, :d].T
        return G

    def _gram_sparse(self, v, extra):
        # over row blocks too: X.multiply(v) on all of X would copy X (its non-zeros)
        d = self.n_features
        X = self.X
        q = d + int(self.fit_intercept) + len(extra)
        G = np.zeros((q, q))
        nnz_per_row = max(X.nnz / max(self.n_samples, 1), 1.0)
        rows_per_block = int(max(1024, _BLOCK_VALUES * 8 // nnz_per_row))
        for rows in self._blocks(rows_per_block):
            Xb = X[rows]
            vb = v[rows]
            Xv = Xb.multiply(vb[:, None]).tocsr()
            G[:d, :d] += (Xb.T @ Xv).toarray()
            tail = []
            if self.fit_intercept:
                tail.append(np.ones(Xb.shape[0]))
            tail.extend(e[rows] for e in extra)
            if tail:
                T = np.column_stack(tail)
                G[:d, d:] += np.asarray(Xv.T @ T)
                G[d:, d:] += T.T @ (T * vb[:, None])
        G[d:, :d] = G[:d, d:].T
        return G


def checked_frequency_weights(sample_weight, n):
    """Float64 frequency weights of ``n`` rows (ones for None), finite and non-negative.

    Examples
    --------
    >>> from skrobust.design.linear import checked_frequency_weights
    >>> checked_frequency_weights([1, 0, 2], 3)
    array([1., 0., 2.])
    """
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values, expected {n}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    return w


def positive_weight_rows(design, y, sample_weight):
    """Validate ``y`` and frequency weights, and drop the rows whose weight is zero.

    Returns ``(design, y, s)`` on the rows with positive weight, so that a zero
    weight is exactly a removed row in every later step.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign, positive_weight_rows
    >>> d, y, s = positive_weight_rows(LinearDesign(np.eye(3), True), [1.0, 2.0, 3.0],
    ...                                [1.0, 0.0, 2.0])
    >>> d.n_samples, y, s
    (2, array([1., 3.]), array([1., 2.]))
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    n = design.n_samples
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} values but the design has {n} rows")
    s = checked_frequency_weights(sample_weight, n)
    if not s.sum() > 0:
        raise ValueError("sample_weight must have a positive sum")
    keep = s > 0
    if not keep.all():
        design = LinearDesign(design.X[keep], design.fit_intercept)
        y, s = y[keep], s[keep]
    return design, y, s
