"""Aliased (exactly collinear) columns of a linear design, found once before any fit.

A column is *aliased* when it lies in the span of the intercept and the
columns before it, to R's relative tolerance 1e-7 (``lm``'s ``qr(tol = 1e-7)``
and ``lmrob``): a constant column beside the intercept, the second of two
equal columns, the last of a full set of one-hot columns beside the
intercept.  As in R the decision goes column by column in the order of the
design, the intercept first, so the intercept is never aliased and of
several collinear columns the later ones are.

The test runs on the rows given (the caller passes the rows with positive
weight; the span is the same for any positive weights).  A cheap Cholesky
test on the column-equilibrated Gram settles the usual full-rank case; only
a design close to rank deficiency pays for a QR factorisation (blocked over
rows, so dense or sparse ``X`` is never copied whole), whose ``R`` factor has
the geometry of the columns (``R'R = A'A``); the columns of ``R`` are then
taken in order and orthogonalised twice against the independent ones kept so
far (R's ``dqrdc2`` with its limited pivoting: an aliased column adds no
direction).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .design import LinearDesign

ALIAS_TOL = 1e-7
"""A column whose part orthogonal to the columns before it is below this fraction of its norm
is aliased (R's ``lm`` / ``lmrob`` tolerance)."""

_CLEARLY_FULL_RANK = 1e-4  # equilibrated Cholesky pivots above this: no column can be aliased
_QR_BLOCK_VALUES = 1 << 20  # values per row block of the blocked QR


def _moderate_columns(X):
    """``X`` itself, or a copy with its columns scaled by their largest ``|x|`` when some
    are so small or large that their squares would under- or overflow in the Gram."""
    big = abs(X).max(axis=0)
    big = np.asarray(big.toarray() if sp.issparse(big) else big, dtype=np.float64).ravel()
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


def _r_factor(X, fit_intercept, inv):
    """``R`` of the QR factorisation of ``[1, X] diag(inv)``, over row blocks (TSQR)."""
    n, d = X.shape
    q = d + int(fit_intercept)
    rows = max(q, _QR_BLOCK_VALUES // max(q, 1))
    R = np.zeros((0, q))
    for start in range(0, n, rows):
        block = X[start:start + rows]
        block = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
        if fit_intercept:
            block = np.c_[np.ones(block.shape[0]), block]
        R = np.linalg.qr(np.vstack([R, block * inv]), mode="r")
    return R


def _sequential_rank(R, tol):
    """Columns of ``R`` (unit norm or zero) in order: aliased when in the span of those kept."""
    q = R.shape[1]
    aliased = np.zeros(q, dtype=bool)
    basis = np.zeros((R.shape[0], 0))
    for j in range(q):
        c = R[:, j]
        norm = float(np.linalg.norm(c))
        if norm == 0.0:
            aliased[j] = True
            continue
        r = c - basis @ (basis.T @ c)
        r -= basis @ (basis.T @ r)  # twice is enough (Kahan-Parlett)
        left = float(np.linalg.norm(r))
        if left <= tol * norm:
            aliased[j] = True
        else:
            basis = np.c_[basis, r / left]
    return aliased


def aliased_columns(X, fit_intercept=True, tol=ALIAS_TOL) -> np.ndarray:
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

    Returns
    -------
    aliased : ndarray of bool, shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.aliasing import aliased_columns
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
    X = _moderate_columns(X)
    norms, Gs, inv = _equilibrated_columns(X, fit_intercept)
    zero = norms == 0
    live = np.flatnonzero(~zero)
    try:
        L = np.linalg.cholesky(Gs[np.ix_(live, live)])
        clearly_full = bool(np.all(np.isfinite(L)) and np.diag(L).min() > _CLEARLY_FULL_RANK)
    except np.linalg.LinAlgError:
        clearly_full = False
    if clearly_full:
        aliased = zero
    else:
        aliased = _sequential_rank(_r_factor(X, fit_intercept, inv), float(tol))
    return aliased[1:] if fit_intercept else aliased


def expand_coef(coef, aliased):
    """Coefficients of every column from those of the independent ones (0 where aliased).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.aliasing import expand_coef
    >>> expand_coef(np.array([1.0, 2.0]), np.array([False, True, False]))
    array([1., 0., 2.])
    """
    full = np.zeros(aliased.shape[0])
    full[~aliased] = coef
    return full


__all__ = ["ALIAS_TOL", "aliased_columns", "expand_coef"]
