"""Aliased (exactly collinear) columns of a linear design, found once before any fit.

A column is *aliased* when it lies in the span of the intercept and the
columns before it, to R's relative tolerance 1e-7 (``lm``'s ``qr(tol = 1e-7)``
and ``lmrob``): a constant column beside the intercept, the second of two
equal columns, the last of a full set of one-hot columns beside the
intercept.  As in R the decision goes column by column in the order of the
design, the intercept first, so the intercept is never aliased and of
several collinear columns the later ones are.

The test runs on the rows given (the caller passes the rows with positive
weight; the span is the same for any positive weights).  A Cholesky
factorisation of the column-equilibrated Gram settles the usual full-rank
case.  Otherwise the factor is grown a column at a time (R's ``dqrdc2`` with
its limited pivoting: an aliased column adds no direction and is skipped): a
column whose pivot, its squared relative residual, is clearly positive is
kept; for the others the relative residual of the least-squares projection on
the kept columns is computed from ``X`` itself (products with dense or sparse
``X``, one step of iterative refinement), since the Gram has lost the digits
that decide a residual of 1e-7.  ``X`` is never copied.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._units import column_magnitudes
from .linear import LinearDesign

ALIAS_TOL = 1e-7
"""A column whose part orthogonal to the columns before it is below this fraction of its norm
is aliased (R's ``lm`` / ``lmrob`` tolerance)."""

_CLEARLY_FULL_RANK = 1e-4  # equilibrated Cholesky pivots above this: no column can be aliased


def _moderate_columns(X, big=None):
    """``X`` itself, or a copy with its columns scaled by their largest ``|x|`` (``big``,
    computed here when not given) when some are so small or large that their squares
    would under- or overflow in the Gram."""
    if big is None:
        big = column_magnitudes(X)
    nonzero = big[big > 0]
    if not nonzero.size or (nonzero.min() > 1e-150 and nonzero.max() < 1e150):
        return X
    inv = 1.0 / np.where(big > 0, big, 1.0)
    return X.multiply(inv[None, :]).tocsr() if sp.issparse(X) else X * inv


def _equilibrated_columns(X, fit_intercept):
    """Column norms of ``[1, X]`` (intercept first) and the Gram of the unit-norm columns."""
    design = LinearDesign(X, fit_intercept)
    G = design.gram_ext(np.ones(design.n_samples))
    if fit_intercept:  # the design's order is [X, 1]: put the intercept first
        order = np.r_[design.n_features, np.arange(design.n_features)]
        G = G[np.ix_(order, order)]
    norms = np.sqrt(np.clip(np.diag(G), 0.0, None))
    inv = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
    return norms, G * inv[:, None] * inv[None, :], inv


class _Columns:
    """Products with the unit-norm columns ``[1, X] diag(inv)`` (intercept first)."""

    def __init__(self, X, fit_intercept, inv):
        self.X, self.inv = X, inv
        self.offset = int(fit_intercept)

    def matvec(self, c):
        c = c * self.inv
        out = np.asarray(self.X @ c[self.offset:], dtype=np.float64).ravel()
        return out + c[0] if self.offset else out

    def rmatvec(self, r):
        xr = np.asarray(self.X.T @ r, dtype=np.float64).ravel()
        return (np.r_[r.sum(), xr] if self.offset else xr) * self.inv


def _relative_residual(cols, kept, j, L, g):
    """``||a_j - A_K b|| / ||a_j||`` for the least-squares ``b``, on the data itself.

    ``b`` comes from the Cholesky factor of the kept columns' Gram plus one
    step of iterative refinement with the residual computed from ``X`` (the
    Gram alone loses the digits that decide a relative residual of 1e-7).
    """
    from scipy.linalg import cho_solve

    q = cols.inv.shape[0]
    e = np.zeros(q)
    e[j] = 1.0
    a = cols.matvec(e)
    b = cho_solve((L, True), g, check_finite=False)
    full = np.zeros(q)
    for _ in range(2):
        full[kept] = b
        r = a - cols.matvec(full)
        b = b + cho_solve((L, True), cols.rmatvec(r)[kept], check_finite=False)
    full[kept] = b
    r = a - cols.matvec(full)
    return float(np.linalg.norm(r) / np.linalg.norm(a))


def _sequential_rank(cols, Gs, tol):
    """R's decision column by column: aliased when in the span of the columns kept before.

    A right-looking Cholesky factorisation of the Gram that skips aliased
    columns: row ``k`` of ``Z`` holds ``L^-1 Gs`` for the ``k``-th kept
    column, so the pivot of column ``j`` (its squared relative residual) is
    ``Gs[j, j] - ||Z[:k, j]||**2``.  A clearly positive pivot keeps the column
    at once; the others are decided on the data.
    """
    q = Gs.shape[0]
    Z = np.zeros((q, q))
    kept = []
    aliased = np.zeros(q, dtype=bool)
    n_rows = cols.X.shape[0]
    for j in range(q):
        k = len(kept)
        if cols.inv[j] == 0.0 or k == n_rows:  # a zero column; or n rows span n dimensions
            aliased[j] = True
            continue
        z = Z[:k, j]
        d = Gs[j, j] - float(z @ z)
        if not d > _CLEARLY_FULL_RANK**2:
            rel = 1.0
            if k:
                L = np.ascontiguousarray(Z[:k, kept].T)  # the Cholesky factor of the kept Gram
                rel = _relative_residual(cols, kept, j, L, Gs[kept, j])
            if rel <= tol:
                aliased[j] = True
                continue
            d = rel * rel
        pivot = np.sqrt(d)
        Z[k, j] = pivot
        Z[k, j + 1:] = (Gs[j, j + 1:] - z @ Z[:k, j + 1:]) / pivot
        kept.append(j)
    return aliased


def aliased_columns(X, fit_intercept=True, tol=ALIAS_TOL, magnitudes=None) -> np.ndarray:
    """Which columns of ``X`` are aliased: in the span of the intercept and the columns before.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        The rows to test (the rows with positive weight).
    fit_intercept : bool, default=True
        Whether the model has an intercept (taken as the first column).
    tol : float, default=1e-7
        Relative tolerance: a column is aliased when its part orthogonal to
        the columns kept before it is at most ``tol`` times its norm.  An
        all-zero column is always aliased.
    magnitudes : ndarray of shape (n_features,), default=None
        ``max |X_j|`` of each column, when the caller already has it (one
        pass over ``X`` less).

    Returns
    -------
    aliased : ndarray of bool, shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.aliasing import aliased_columns
    >>> x = np.arange(6.0)
    >>> onehot = np.repeat(np.eye(3), 2, axis=0)
    >>> aliased_columns(np.c_[x, np.ones(6), 2 * x, onehot])
    array([False,  True,  True, False, False,  True])
    >>> aliased_columns(np.c_[x, np.ones(6)], fit_intercept=False)
    array([False, False])
    """
    if not (0.0 < float(tol) < 1.0):
        raise ValueError(f"tol must lie in (0, 1), got {tol!r}")
    n, d = X.shape
    if d == 0:
        return np.zeros(0, dtype=bool)
    X = _moderate_columns(X, magnitudes)
    norms, Gs, inv = _equilibrated_columns(X, fit_intercept)
    zero = norms == 0
    live = np.flatnonzero(~zero)
    clearly_full = False
    if live.size <= n:  # more columns than rows are always dependent
        try:
            L = np.linalg.cholesky(Gs[np.ix_(live, live)])
            clearly_full = bool(np.all(np.isfinite(L)) and np.diag(L).min() > _CLEARLY_FULL_RANK)
        except np.linalg.LinAlgError:
            pass
    if clearly_full:
        aliased = zero
    else:
        aliased = _sequential_rank(_Columns(X, fit_intercept, inv), Gs, float(tol))
    return aliased[1:] if fit_intercept else aliased


def expand_coef(coef, aliased):
    """Coefficients of every column from those of the independent ones (0 where aliased).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.aliasing import expand_coef
    >>> expand_coef(np.array([1.0, 2.0]), np.array([False, True, False]))
    array([1., 0., 2.])
    """
    full = np.zeros(aliased.shape[0])
    full[~aliased] = coef
    return full


__all__ = ["ALIAS_TOL", "aliased_columns", "expand_coef"]
