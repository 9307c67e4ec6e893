"""Preconditioned conjugate gradients for several right-hand sides at once.

The weighted steps of IRLS solve a sequence of symmetric positive definite
systems whose matrices change a little from one step to the next.  Where a
direct factorisation is expensive (the n x n system of an exact kernel
model, the d x d Gram of a wide design), the designs solve them by PCG with
a preconditioner that stays cheap, warm-started from the last solution.
"""

from __future__ import annotations

import numpy as np


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
    >>> from skrobust.solvers.cg import pcg
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
