"""The exact-kernel design: the representer theorem's ``f = K beta + b``.

It offers the operations of :class:`~skrobust.solvers.design.LinearDesign`
(``predict``, ``rmatvec``, penalty value and gradient, the penalised
weighted least-squares step), so the M-estimation solvers run unchanged on
dual coefficients.  The penalty is the RKHS norm ``alpha beta' K beta``.

Each weighted step is solved in the symmetric form
``(S K S + alpha I) gamma = S z`` with ``S = diag(sqrt(v))`` and
``beta = S gamma``: a sample whose robustness weight is exactly zero (Tukey,
Piecewise-zero) only zeroes a row and column, and the matrix stays positive
definite, where the textbook form ``(V K + alpha I)`` would need ``V^-1``.
"""

from __future__ import annotations

import numpy as np


class KernelDesign:
    """Products with ``[K, 1]`` for a training kernel matrix ``K``.

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples)
        Symmetric positive semi-definite kernel matrix of the training rows.
    fit_intercept : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.kernel_design import KernelDesign
    >>> K = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> d = KernelDesign(K, fit_intercept=False)
    >>> d.predict(np.array([1.0, 0.0]))
    array([2., 1.])
    """

    sparse = False

    def __init__(self, K, fit_intercept: bool):
        self.K = np.asarray(K, dtype=np.float64)
        self.fit_intercept = bool(fit_intercept)
        self.n_samples = self.K.shape[0]
        self.n_features = self.n_samples
        self.n_params = self.n_samples + int(self.fit_intercept)
        # every matrix the solvers build is small next to K; jitter keeps alpha = 0 solvable
        self.jitter = 1e-10 * max(float(np.trace(self.K)) / max(self.n_samples, 1), 1e-300)

    def split(self, beta):
        if self.fit_intercept:
            return beta[:-1], float(beta[-1])
        return beta, 0.0

    def predict(self, beta):
        dual, intercept = self.split(beta)
        return self.K @ dual + intercept

    def rmatvec(self, g):
        kg = self.K @ g
        return np.append(kg, g.sum()) if self.fit_intercept else kg

    def penalty_value(self, beta, alpha: float) -> float:
        dual, _ = self.split(beta)
        return float(alpha) * float(dual @ (self.K @ dual))

    def penalty_grad(self, beta, alpha: float):
        dual, _ = self.split(beta)
        g = 2.0 * float(alpha) * (self.K @ dual)
        return np.append(g, 0.0) if self.fit_intercept else g

    def solve_weighted(self, v, z, alpha: float):
        """Minimise ``sum v (z - K beta - b)**2 + alpha beta' K beta`` (symmetric form)."""
        from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

        s = np.sqrt(np.clip(v, 0.0, None))
        lam = max(float(alpha), self.jitter)
        A = self.K * s[:, None] * s[None, :]
        A[np.diag_indices_from(A)] += lam
        rhs = np.column_stack([s * z, s]) if self.fit_intercept else (s * z)[:, None]
        try:
            sol = cho_solve(cho_factor(A, lower=True, check_finite=False), rhs,
                            check_finite=False)
        except LinAlgError:  # numerically indefinite K (e.g. a sigmoid kernel)
            w, Q = eigh(A, check_finite=False)
            w = np.maximum(w, lam)
            sol = Q @ ((Q.T @ rhs) / w[:, None])
        if not self.fit_intercept:
            return s * sol[:, 0]
        t1, t2 = sol[:, 0], sol[:, 1]
        # the intercept minimises the profiled quadratic (z - b)' S B S (z - b)
        denom = float(s @ t2)
        b = float(s @ t1) / denom if denom > 0 else float(np.average(z, weights=v))
        return np.append(s * (t1 - b * t2), b)
