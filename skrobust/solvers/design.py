"""The linear design: products with ``[X, 1]`` for dense or sparse ``X``.

Solvers see only this object, so dense, CSR/CSC and (later) feature maps
share one code path.  Coefficients are ``beta = (coef..., intercept)`` when
the model has an intercept.  The weighted Gram matrix is accumulated over
row blocks, so no ``n x d`` temporary is ever created.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_BLOCK_ROWS = 4096


class LinearDesign:
    """Products with the design ``[X, 1]`` (or ``X`` without an intercept).

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    fit_intercept : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.design import LinearDesign
    >>> d = LinearDesign(np.array([[1.0], [2.0]]), fit_intercept=True)
    >>> d.predict(np.array([2.0, 1.0]))
    array([3., 5.])
    """

    def __init__(self, X, fit_intercept: bool):
        self.X = X
        self.sparse = sp.issparse(X)
        if self.sparse:
            self.X = X.tocsr()
        self.fit_intercept = bool(fit_intercept)
        self.n_samples, self.n_features = X.shape
        self.n_params = self.n_features + int(self.fit_intercept)

    def split(self, beta):
        """(coef, intercept) from the parameter vector."""
        if self.fit_intercept:
            return beta[:-1], float(beta[-1])
        return beta, 0.0

    def predict(self, beta):
        coef, intercept = self.split(beta)
        out = self.X @ coef
        return np.asarray(out, dtype=np.float64).ravel() + intercept

    def rmatvec(self, g):
        """``[X, 1]' g``."""
        xg = np.asarray(self.X.T @ g, dtype=np.float64).ravel()
        if self.fit_intercept:
            return np.append(xg, g.sum())
        return xg

    def gram(self, v, z):
        """``A' diag(v) A`` and ``A' (v * z)`` for ``A = [X, 1]``, in float64."""
        p = self.n_params
        d = self.n_features
        G = np.zeros((p, p))
        h = np.zeros(p)
        vz = v * z
        if self.sparse:
            Xv = self.X.multiply(v[:, None]).tocsr()
            G[:d, :d] = (self.X.T @ Xv).toarray()
            h[:d] = np.asarray(self.X.T @ vz).ravel()
            if self.fit_intercept:
                col = np.asarray(Xv.sum(axis=0)).ravel()
                G[:d, d] = col
                G[d, :d] = col
        else:
            X = self.X
            xv_sum = np.zeros(d)
            for start in range(0, self.n_samples, _BLOCK_ROWS):
                block = X[start : start + _BLOCK_ROWS]
                vb = v[start : start + _BLOCK_ROWS]
                weighted = block * vb[:, None]
                G[:d, :d] += block.T @ weighted
                h[:d] += block.T @ vz[start : start + _BLOCK_ROWS]
                if self.fit_intercept:
                    xv_sum += weighted.sum(axis=0)
            if self.fit_intercept:
                G[:d, d] = xv_sum
                G[d, :d] = xv_sum
        if self.fit_intercept:
            G[d, d] = v.sum()
            h[d] = vz.sum()
        return G, h


def solve_normal_equations(G, h):
    """Solve ``G beta = h`` for a symmetric positive semi-definite ``G``.

    Cholesky on the diagonally equilibrated system; when ``G`` is singular
    (collinear columns, many zero weights) a minimum-norm least-squares
    solution is returned instead of an exception.
    """
    from scipy.linalg import LinAlgError, cho_factor, cho_solve, lstsq

    diag = np.sqrt(np.clip(np.diag(G), 0.0, None))
    scale = np.where(diag > 0, 1.0 / np.where(diag > 0, diag, 1.0), 1.0)
    Gs = G * scale[:, None] * scale[None, :]
    hs = h * scale
    try:
        factor = cho_factor(Gs, lower=True, check_finite=False)
        # reject factorizations of numerically singular matrices
        d = np.abs(np.diag(factor[0]))
        if d.min() <= 1e-7 * d.max():
            raise LinAlgError("ill-conditioned")
        return cho_solve(factor, hs, check_finite=False) * scale
    except (LinAlgError, ValueError):
        sol = lstsq(Gs, hs, cond=1e-12, check_finite=False, lapack_driver="gelsd")[0]
        return sol * scale
