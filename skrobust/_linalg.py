"""Linear algebra shared by the designs and the solvers, one implementation each.

- :func:`penalty_diagonal`: the ridge penalty's diagonal (none on the intercept).
- :func:`solve_normal_equations`, :func:`cholesky_solve`,
  :func:`equilibrated_cholesky`: symmetric positive (semi-)definite systems,
  by Cholesky of the diagonally equilibrated matrix.
- :func:`pcg`: preconditioned conjugate gradients for several right-hand sides.
  The weighted steps of IRLS solve a sequence of symmetric positive definite
  systems whose matrices change a little from one step to the next.  Where a
  direct factorisation is expensive (the n x n system of an exact kernel
  model, the d x d Gram of a wide design), the designs solve them by PCG with
  a preconditioner that stays cheap, warm-started from the last solution.
- :func:`column_moments`: column means and standard deviations (the column
  scales of L-BFGS's standardised coordinates), over row blocks.
- :func:`lbfgs_accept`: when a scipy L-BFGS-B result counts as a solution.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def penalty_diagonal(n_params: int, fit_intercept: bool, alpha: float) -> np.ndarray:
    """The ridge penalty's diagonal: ``alpha`` on every coefficient, 0 on the intercept (last).

    Examples
    --------
    >>> from skrobust._linalg import penalty_diagonal
    >>> penalty_diagonal(3, True, 0.5)
    array([0.5, 0.5, 0. ])
    """
    pen = np.full(int(n_params), float(alpha))
    if fit_intercept and pen.size:
        pen[-1] = 0.0
    return pen


def solve_normal_equations(G, h):
    """Solve ``G beta = h`` for a symmetric positive semi-definite ``G``.

    Cholesky on the diagonally equilibrated system; when ``G`` is singular
    (collinear columns, many zero weights) a minimum-norm least-squares
    solution is returned instead of an exception.
    """
    from scipy.linalg import lstsq

    sol = cholesky_solve(G, h)
    if sol is not None:
        return sol
    diag = np.sqrt(np.clip(np.diag(G), 0.0, None))
    scale = np.where(diag > 0, 1.0 / np.where(diag > 0, diag, 1.0), 1.0)
    Gs = G * scale[:, None] * scale[None, :]
    sol = lstsq(Gs, h * scale, cond=1e-12, check_finite=False, lapack_driver="gelsd")[0]
    return sol * scale


def equilibrated_cholesky(G, rcond=1e-7):
    """``(cho_factor of D G D, D)`` with ``D = diag(G)**-1/2``, or None when ``G`` is not safely PD.

    ``rcond`` bounds the ratio of the smallest to the largest diagonal entry
    of the Cholesky factor (a cheap condition estimate).
    """
    from scipy.linalg import LinAlgError, cho_factor

    G = np.asarray(G, dtype=np.float64)
    if not np.all(np.isfinite(G)):
        return None
    diag = np.diag(G)
    pos = diag > 0
    scale = np.where(pos, 1.0 / np.sqrt(np.where(pos, diag, 1.0)), 1.0)
    Gs = G * scale[:, None] * scale[None, :]
    try:
        factor = cho_factor(Gs, lower=True, check_finite=False)
    except (LinAlgError, ValueError):
        return None
    dg = np.abs(np.diag(factor[0]))
    if dg.size and dg.min() <= rcond * dg.max():
        return None
    return factor, scale


def cholesky_solve(G, h, rcond=1e-7):
    """``G^-1 h`` by Cholesky of the equilibrated ``G``, or None when ``G`` is not safely PD.

    ``rcond`` bounds the ratio of the smallest to the largest diagonal entry
    of the Cholesky factor (a cheap condition estimate).
    """
    from scipy.linalg import cho_solve

    if not np.all(np.isfinite(h)):
        return None
    done = equilibrated_cholesky(G, rcond)
    if done is None:
        return None
    factor, scale = done
    return cho_solve(factor, h * scale, check_finite=False) * scale


def pcg(apply_a, apply_p_inv, B, X0=None, rtol=1e-12, max_iter=500):
    """Solve ``A X_k = B_k`` for each row ``B_k`` of ``B`` by preconditioned CG.

    The systems share the operator, and are stored as rows so that one
    product ``apply_a`` serves all of them.  Each row stops when its
    preconditioned residual ``r' P^-1 r`` is at most ``rtol**2`` times
    ``b' P^-1 b`` (a relative error of ``rtol`` in the norm of ``P``, close
    to the energy norm of ``A`` for a good preconditioner).

    Parameters
    ----------
    apply_a : callable
        ``X -> X A`` on arrays of shape (k, n) (``A`` symmetric).
    apply_p_inv : callable
        ``R -> R P^-1`` for a symmetric positive definite preconditioner ``P``.
    B : ndarray of shape (k, n)
    X0 : ndarray of shape (k, n), default=None
        Starting point (zero when None, or when it is a worse start than zero).
    rtol : float, default=1e-12
    max_iter : int, default=500

    Returns
    -------
    X : ndarray of shape (k, n) or None
        None when ``A`` turned out not to be positive definite (a
        non-positive curvature ``p' A p``) or the iterations ran out.
    n_iter : int

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust._linalg import pcg
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> X, n_iter = pcg(lambda X: X @ A, lambda R: R / np.diag(A), np.array([[1.0, 2.0]]))
    >>> np.allclose(X @ A, [[1.0, 2.0]]), n_iter <= 2
    (True, True)
    """
    B = np.atleast_2d(np.asarray(B, dtype=np.float64))
    if X0 is None or X0.shape != B.shape or not np.all(np.isfinite(X0)):
        X = np.zeros_like(B)
        R = B.copy()
    else:
        X = np.array(X0, dtype=np.float64)
        R = B - apply_a(X)
        if np.sum(R * R) > np.sum(B * B):  # a worse start than zero
            X = np.zeros_like(B)
            R = B.copy()
    Z = apply_p_inv(R)
    rz = np.einsum("ij,ij->i", R, Z)
    target = rtol**2 * np.einsum("ij,ij->i", B, apply_p_inv(B))
    P = Z.copy()
    for it in range(max_iter + 1):
        active = rz > target
        if not active.any():
            return X, it
        if it == max_iter:
            break
        AP = apply_a(P)
        pap = np.einsum("ij,ij->i", P, AP)
        if np.any(pap[active] <= 0) or not np.all(np.isfinite(pap)):
            break  # not positive definite
        step = np.where(active, rz / np.where(active, pap, 1.0), 0.0)[:, None]
        X += step * P
        R -= step * AP
        Z = apply_p_inv(R)
        rz_new = np.einsum("ij,ij->i", R, Z)
        P = Z + np.where(active, rz_new / np.where(rz > 0, rz, 1.0), 0.0)[:, None] * P
        rz = rz_new
    return None, max_iter


def column_moments(X, block_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of ``X`` (a zero deviation reads 1).

    Accumulated over blocks of ``block_rows`` rows of a dense ``X``: no ``n x d``
    temporary.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust._linalg import column_moments
    >>> column_moments(np.array([[1.0, 2.0], [3.0, 2.0]]), block_rows=1)
    (array([2., 2.]), array([1., 1.]))
    """
    n_samples, n_features = X.shape
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        sd = np.sqrt(np.maximum(sq - mean**2, 0.0))
    else:
        n = max(n_samples, 1)
        mean = np.asarray(np.ones(n_samples) @ X, dtype=np.float64) / n
        ss = np.zeros(n_features)
        for start in range(0, n_samples, block_rows):
            c = X[start:min(start + block_rows, n_samples)] - mean
            ss += np.einsum("ij,ij->j", c, c)
        sd = np.sqrt(ss / n)
    return mean, np.where(sd > 0, sd, 1.0)


def lbfgs_accept(res, tol, gradient_floor=1e-7) -> bool:
    """Whether a scipy L-BFGS-B result is a solution.

    An ABNORMAL line search (status 2) ends at a point L-BFGS can no longer
    improve in floating point; it is accepted when the projected gradient is
    within ``max(100 tol, gradient_floor)``: for an objective normalised to
    O(1), below ``|g| ~ sqrt(eps)`` a step changes it by less than rounding.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skrobust._linalg import lbfgs_accept
    >>> lbfgs_accept(SimpleNamespace(success=False, status=2, jac=[1e-9]), 1e-10)
    True
    >>> lbfgs_accept(SimpleNamespace(success=False, status=2, jac=[1e-3]), 1e-10)
    False
    """
    if res.success:
        return True
    return res.status == 2 and float(np.max(np.abs(res.jac))) <= max(100.0 * tol, gradient_floor)
