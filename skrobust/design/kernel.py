"""The exact-kernel design: the representer theorem's ``f = K beta + b``.

It offers the operations of :class:`~skrobust.design.linear.LinearDesign`
(``predict``, ``rmatvec``, penalty value and gradient, the penalised
weighted least-squares step), so the M-estimation solvers run unchanged on
dual coefficients.  The penalty is the RKHS norm ``alpha beta' K beta``.

Each weighted step is solved in the symmetric form
``(S K S + alpha I) gamma = S z`` with ``S = diag(sqrt(v))`` and
``beta = S gamma``: a sample whose robustness weight is exactly zero (Tukey,
Piecewise-zero) only zeroes a row and column, and the matrix stays positive
definite, where the textbook form ``(V K + alpha I)`` would need ``V^-1``.

How the step is solved
----------------------
A Cholesky factorisation costs ``n**3 / 3`` flops per step (and IRLS
takes 10-30 steps), so above
:data:`DIRECT_MAX_SAMPLES` rows the step is solved by preconditioned
conjugate gradients (PCG) instead, at ``2 n**2`` flops per iteration:

- the preconditioner is ``S F F' S + alpha I`` for a low-rank factor
  ``K ~ F F'`` from a diagonally pivoted partial Cholesky factorisation
  (:func:`pivoted_cholesky`, computed once per fit), applied by the
  Woodbury identity.  With ``E = K - F F'`` (positive semi-definite) the
  preconditioned matrix has its eigenvalues in
  ``[1, 1 + max(v) ||E|| / alpha]``; the rank is chosen so that
  ``max(v) trace(E) <= alpha / 2`` where the factor allows, which bounds
  the condition number by 1.5 and makes each step a handful of iterations.
  Smooth kernels (rbf on a few features) have fast-decaying spectra, so a
  rank of tens to a few hundred suffices; for rough kernels the rank is
  capped (:data:`MAX_RANK`) and PCG simply takes more iterations;
- every step starts from the previous step's solution (IRLS moves the
  weights less and less), and stops when the preconditioned residual
  ``r' P^-1 r`` is below ``1e-24`` of the right-hand side's (an energy-norm
  error of 1e-12 relative);
- if PCG breaks down (an indefinite kernel such as "sigmoid") or does not
  converge in :data:`CG_MAX_ITER` iterations, the step is solved directly,
  and so are the later steps of the fit.

The same factor gives the kernel principal components of the MM start
(see :func:`principal_components`), so no eigendecomposition of
``K`` (``9 n**3`` flops) is ever needed.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._linalg import pcg
from .objective import EXACT_KERNEL, Capabilities

#: kernel models with at most this many rows solve each weighted step directly (Cholesky)
DIRECT_MAX_SAMPLES = 1000
#: largest rank of the pivoted Cholesky factor of K
MAX_RANK = 500
#: PCG iterations per step before falling back to the direct solve
CG_MAX_ITER = 500
#: relative trace of K left out of the factor (which then reproduces K to rounding)
FACTOR_RTOL = 1e-12
_CG_RTOL = 1e-12


def pivoted_cholesky(K, max_rank, rtol=FACTOR_RTOL):
    """Partial Cholesky factorisation ``K ~ F F'`` with greedy diagonal pivoting.

    Each step takes the row with the largest remaining diagonal (the
    variance the factor still misses) as the next pivot.  It stops when the
    trace of the residual ``K - F F'`` is at most ``rtol * trace(K)``, when
    the largest remaining diagonal is not positive (an indefinite ``K``), or
    at ``max_rank`` columns.  Cost: ``O(n rank**2)`` flops and one row of
    ``K`` per step.

    Parameters
    ----------
    K : ndarray of shape (n, n)
        Symmetric kernel matrix.
    max_rank : int
    rtol : float, default=1e-12

    Returns
    -------
    Ft : ndarray of shape (rank, n)
        The factor, transposed (``K ~ Ft.T @ Ft``).
    residual_trace : ndarray of shape (rank,)
        ``trace(K - F F')`` after each column.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.kernel import pivoted_cholesky
    >>> x = np.linspace(0, 1, 50)
    >>> K = np.exp(-(x[:, None] - x[None, :]) ** 2)
    >>> Ft, left = pivoted_cholesky(K, max_rank=50, rtol=1e-10)
    >>> Ft.shape[0] < 15, bool(np.abs(Ft.T @ Ft - K).max() < 1e-9)
    (True, True)
    """
    n = K.shape[0]
    d = np.array(np.diagonal(K), dtype=np.float64)
    total = float(d.sum())
    m = int(min(max_rank, n))
    Ft = np.empty((m, n))
    left = np.empty(m)
    k = 0
    while k < m:
        i = int(np.argmax(d))
        pivot = float(d[i])
        if not pivot > 0 or (k > 0 and left[k - 1] <= rtol * total):
            break
        row = np.array(K[i], dtype=np.float64)
        if k:
            row -= Ft[:k, i] @ Ft[:k]
        row /= math.sqrt(pivot)
        Ft[k] = row
        d -= row * row
        d[i] = 0.0
        np.maximum(d, 0.0, out=d)  # rounding (or an indefinite K) must not go negative
        left[k] = float(d.sum())
        k += 1
    return Ft[:k].copy(), left[:k].copy()


def factor_error(K, Ft, block_rows=1024):
    """``max |K - F F'|`` over all entries, by blocks of rows (no n x n temporary).

    A small trace of the residual proves the factor for a positive
    semi-definite ``K`` only; this check also holds for an indefinite one.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.kernel import factor_error
    >>> float(factor_error(np.array([[0.0, 1.0], [1.0, 0.0]]), np.zeros((1, 2))))
    1.0
    """
    worst = 0.0
    for start in range(0, K.shape[0], block_rows):
        rows = slice(start, start + block_rows)
        worst = max(worst, float(np.max(np.abs(K[rows] - Ft[:, rows].T @ Ft), initial=0.0)))
    return worst


def principal_components(Ft, n_components):
    """Features of the ``n_components`` leading principal components of ``F F'``.

    For a factor ``F`` (given transposed, ``Ft`` of shape (rank, n)) of a
    kernel matrix ``K ~ F F'`` -- a pivoted Cholesky factor or Nystroem
    features -- the (uncentred) kernel principal components scaled by the
    square roots of their eigenvalues: ``F R`` for the leading eigenvectors
    ``R`` of ``F'F`` (rank x rank), which map to those of ``F F'`` (n x n).

    Returns
    -------
    features : ndarray of shape (n, m)
        ``m = min(n_components, rank)`` columns.
    eigenvalues : ndarray of shape (m,)
        In ascending order, as the columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.kernel import principal_components
    >>> Ft = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    >>> features, vals = principal_components(Ft, 1)
    >>> vals, np.abs(features).ravel()
    (array([4.]), array([0., 0., 2.]))
    """
    from scipy.linalg import eigh

    r = Ft.shape[0]
    m = int(min(n_components, r))
    if m == 0:
        return np.zeros((Ft.shape[1], 0)), np.zeros(0)
    vals, right = eigh(Ft @ Ft.T, subset_by_index=[r - m, r - 1], check_finite=False)
    return Ft.T @ right, vals


def kernel_factor(design):
    """``F'`` for a factor ``K ~ F F'`` of a kernel model's kernel matrix.

    The pivoted Cholesky factor of an exact kernel (a :class:`KernelDesign`),
    the Nystroem features of a linear design on them otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.design.kernel import kernel_factor
    >>> kernel_factor(LinearDesign(np.eye(3)[:, :2], True)).shape
    (2, 3)
    """
    Ft = design.factor()[0] if isinstance(design, KernelDesign) else design.X.T
    return np.asarray(Ft, dtype=np.float64)


def effective_degrees_of_freedom(design, alpha: float) -> float:
    """Degrees of freedom of a kernel ridge smoother, plus the intercept.

    A kernel model has ``n + 1`` (exact) or ``m + 1`` (Nystroem) coefficients
    but far fewer degrees of freedom: its penalty shrinks them.  This is
    ``sum_j lambda_j / (lambda_j + alpha)`` over the eigenvalues of the kernel
    matrix (of ``Z Z'`` for Nystroem features ``Z``; the rank for
    ``alpha=0``), plus the intercept -- so the full Nystroem model keeps the
    exact model's degrees of freedom.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.design.kernel import effective_degrees_of_freedom
    >>> Z = np.diag([1.0, 1.0, 0.0])  # eigenvalues 1, 1, 0
    >>> effective_degrees_of_freedom(LinearDesign(Z, True), alpha=1.0)
    2.0
    """
    Ft = kernel_factor(design)
    vals = np.clip(np.linalg.eigvalsh(Ft @ Ft.T), 0.0, None) if Ft.size else np.zeros(0)
    if alpha > 0:
        dof = float(np.sum(vals / (vals + alpha)))
    else:
        dof = float(np.sum(vals > 1e-12 * max(float(vals.max(initial=0.0)), 1e-300)))
    return dof + int(design.fit_intercept)


def tied_subset_limit(rows, max_params, min_probability=0.1):
    """Most parameters an S-start's elemental subsets support on rows with ties.

    An elemental subset of ``p`` rows drawn uniformly (without replacement)
    is singular when two of its rows are equal, as they are for tied inputs
    (``x`` rounded to 0.1): a design with 61 distinct rows among 200 almost
    never gives 46 distinct ones.  With ``tau = sum(t_g**2) / n`` the mean
    multiplicity of the row of a random draw (``t_g`` the group sizes; 1
    without ties), the ``k``-th draw repeats an earlier row with probability
    about ``k (tau - 1) / (n - k)``, so ``p`` rows are distinct with
    probability ``P(p) = prod_{k<p} (1 - k (tau - 1) / (n - k))``.

    Rows are compared by their projections on a random direction, rounded
    to 12 digits of the largest, so that equal inputs mapped by
    floating-point code still tie.

    Returns
    -------
    p : int
        The largest ``p <= max_params`` with ``P(p) >= min_probability``
        (``max_params`` when no two rows are equal).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.kernel import tied_subset_limit
    >>> x = np.round(np.random.default_rng(0).uniform(-3, 3, (200, 1)), 1)
    >>> tied_subset_limit(x, 50) < 30, tied_subset_limit(np.arange(200.0)[:, None], 50)
    (True, 50)
    """
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    n = rows.shape[0]
    # equal rows have equal projections on a random direction, distinct ones (almost
    # surely) not: a sort of n numbers, without a temporary the size of the rows
    keys = rows[:, 0] if rows.shape[1] == 1 else \
        rows @ np.random.default_rng(0).standard_normal(rows.shape[1])
    top = float(np.max(np.abs(keys), initial=0.0))
    if top > 0 and math.isfinite(top):
        keys = np.round(keys / top, 12)
    _, counts = np.unique(keys, return_counts=True)
    tau = float(np.dot(counts, counts)) / max(n, 1)
    if counts.shape[0] == n or tau <= 1.0:
        return int(max_params)
    k = np.arange(min(int(max_params), n))
    log_p = np.cumsum(np.log(np.clip(1.0 - k * (tau - 1.0) / (n - k), 1e-300, None)))
    return int(np.count_nonzero(log_p >= math.log(min_probability)))


class KernelDesign:
    """Products with ``[K, 1]`` for a training kernel matrix ``K``.

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples)
        Symmetric positive semi-definite kernel matrix of the training rows.
    fit_intercept : bool
    solver : {"auto", "direct", "cg"}, default="auto"
        How each weighted step is solved: "direct" (Cholesky), "cg"
        (preconditioned conjugate gradients, see the module docstring) or
        "auto" ("direct" up to :data:`DIRECT_MAX_SAMPLES` rows).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.kernel import KernelDesign
    >>> K = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> d = KernelDesign(K, fit_intercept=False)
    >>> d.predict(np.array([1.0, 0.0]))
    array([2., 1.])
    """

    sparse = False
    capabilities: ClassVar[Capabilities] = EXACT_KERNEL

    def __init__(self, K, fit_intercept: bool, solver: str = "auto"):
        if solver not in ("auto", "direct", "cg"):
            raise ValueError(f"solver must be 'auto', 'direct' or 'cg', got {solver!r}")
        self.K = np.asarray(K, dtype=np.float64)
        self.fit_intercept = bool(fit_intercept)
        self.n_samples = self.K.shape[0]
        self.n_features = self.n_samples
        self.n_params = self.n_samples + int(self.fit_intercept)
        # every matrix the solvers build is small next to K; jitter keeps alpha = 0 solvable
        self.jitter = 1e-10 * max(float(np.trace(self.K)) / max(self.n_samples, 1), 1e-300)
        if solver == "auto":
            solver = "direct" if self.n_samples <= DIRECT_MAX_SAMPLES else "cg"
        self.solver = solver
        self._factor = None
        self._warm = None  # the last PCG solution, the next step's start
        self._last_product = None  # (dual, K @ dual) of the last product
        self.cg_iterations = []  # PCG iterations of each step, for the diagnostics

    def split(self, beta):
        if self.fit_intercept:
            return beta[:-1], float(beta[-1])
        return beta, 0.0

    def _k_times(self, dual):
        """``K @ dual``, remembered for the last ``dual``: the solvers ask for the fitted
        values, the penalty and its gradient at the same point (three n x n products)."""
        last = self._last_product
        if last is not None and last[0].shape == dual.shape and np.array_equal(last[0], dual):
            return last[1]
        product = self.K @ dual
        self._last_product = (np.array(dual, dtype=np.float64), product)
        return product

    def predict(self, beta):
        dual, intercept = self.split(beta)
        return self._k_times(dual) + intercept

    def rmatvec(self, g):
        kg = self.K @ g
        return np.append(kg, g.sum()) if self.fit_intercept else kg

    def penalty_value(self, beta, alpha: float) -> float:
        dual, _ = self.split(beta)
        return float(alpha) * float(dual @ self._k_times(dual))

    def penalty_grad(self, beta, alpha: float):
        dual, _ = self.split(beta)
        g = 2.0 * float(alpha) * self._k_times(dual)
        return np.append(g, 0.0) if self.fit_intercept else g

    # ------------------------------------------------------------ low rank
    def factor(self):
        """The pivoted Cholesky factor of ``K`` (cached): ``(Ft, residual_trace)``."""
        if self._factor is None:
            self._factor = pivoted_cholesky(self.K, min(MAX_RANK, self.n_samples))
        return self._factor

    # ------------------------------------------------------ weighted steps
    def solve_weighted(self, v, z, alpha: float):
        """Minimise ``sum v (z - K beta - b)**2 + alpha beta' K beta`` (symmetric form)."""
        s = np.sqrt(np.clip(v, 0.0, None))
        return self._symmetric_solve(s, s * z, alpha, intercept_shift=0.0,
                                     fallback=lambda: float(np.average(z, weights=v)))

    def newton_step(self, curvature, fitted, gradient, alpha: float):
        """The point a Newton step of a convex M-estimation objective goes to.

        For ``J = sum_i L_i(f_i) + alpha beta' K beta`` with ``f = K beta + b``,
        ``gradient = -dL/df`` and ``curvature = d2L/df2`` (both per row, at the
        current ``fitted`` values), the Newton system
        ``(K D K + 2 alpha K) delta = K (g - 2 alpha beta)`` (and its intercept
        row) reduces, where ``K`` is invertible, to
        ``(D K + 2 alpha I) beta+ + D 1 b+ = g + D f``:

        - rows with zero curvature (Huber's outliers) have ``beta+_i =
          g_i / (2 alpha)``: their dual coefficients are fixed, and their
          influence enters the others only as an offset ``K beta+_flat``;
        - the other rows solve the weighted ridge problem of
          :meth:`solve_weighted` with weights ``d / 2`` and the working
          response ``f + g / d`` less that offset -- in the symmetric form, so
          it is solved by the same (direct or PCG) path;
        - the intercept condition gains the flat rows' total gradient.

        Returns ``(dual..., intercept)`` or None (no penalty, or no row with
        curvature).
        """
        lam = float(alpha)
        d = np.asarray(curvature, dtype=np.float64)
        top = float(np.max(d, initial=0.0))
        flat = d <= 1e-12 * top
        if not lam > self.jitter or not top > 0:
            return None
        g = np.asarray(gradient, dtype=np.float64)
        beta_flat = np.where(flat, g / (2.0 * lam), 0.0)
        s = np.sqrt(np.where(flat, 0.0, 0.5 * d))
        z = np.asarray(fitted, dtype=np.float64)
        if flat.any():
            z = z - self.K @ beta_flat
        safe = np.where(flat, 1.0, s)
        # S times the working response f + g / d, written so that small d stays exact
        sz = np.where(flat, 0.0, s * z + g / (2.0 * safe))
        shift = float(g[flat].sum()) / (2.0 * lam)
        solution = self._symmetric_solve(s, sz, lam, intercept_shift=shift, fallback=None)
        if solution is None:
            return None
        solution[: self.n_samples] += beta_flat
        return solution

    def _symmetric_solve(self, s, sz, alpha, intercept_shift, fallback):
        """``beta = S gamma`` with ``(S K S + alpha I) gamma = S (z - b)``, and the intercept.

        The intercept makes ``sum v (z - f) = -alpha * intercept_shift``
        (zero for :meth:`solve_weighted`); ``fallback()`` gives it when no row
        has weight (None: return None then).
        """
        lam = max(float(alpha), self.jitter)
        rhs = np.column_stack([sz, s]) if self.fit_intercept else sz[:, None]
        sol = self._solve_cg(s, lam, rhs) if self.solver == "cg" else None
        if sol is None:
            sol = self._solve_direct(s, lam, rhs)
        if not self.fit_intercept:
            return s * sol[:, 0]
        t1, t2 = sol[:, 0], sol[:, 1]
        # the intercept minimises the profiled quadratic (z - b)' S B S (z - b) (+ shift b)
        denom = float(s @ t2)
        if denom > 0:
            b = (float(s @ t1) + intercept_shift) / denom
        elif fallback is None:
            return None
        else:
            b = fallback()
        return np.append(s * (t1 - b * t2), b)

    def _solve_direct(self, s, lam, rhs):
        from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

        A = self.K * s[:, None] * s[None, :]
        A[np.diag_indices_from(A)] += lam
        try:
            return cho_solve(cho_factor(A, lower=True, check_finite=False), rhs,
                             check_finite=False)
        except LinAlgError:  # numerically indefinite K (e.g. a sigmoid kernel)
            w, Q = eigh(A, check_finite=False)
            w = np.maximum(w, lam)
            return Q @ ((Q.T @ rhs) / w[:, None])

    def _solve_cg(self, s, lam, rhs):
        """PCG on ``(S K S + lam I) X = rhs``, or None (breakdown, no convergence).

        The right-hand sides are solved together, stored as rows (``B`` is
        ``rhs.T``): ``B K`` reads ``K`` once for all of them, and is twice as
        fast as ``K @ rhs`` with BLAS (``K`` is symmetric).
        """
        from scipy.linalg import LinAlgError, cho_factor, cho_solve

        Ft, left = self.factor()
        v_max = float(np.max(s)) ** 2
        # the smallest rank whose left-out trace keeps the preconditioned spectrum in [1, 1.5]
        enough = np.flatnonzero(v_max * left <= 0.5 * lam)
        rank = int(enough[0]) + 1 if enough.size else Ft.shape[0]
        FS = Ft[:rank] * s  # (S F)', rank x n
        try:
            inner = cho_factor(FS @ FS.T + lam * np.eye(rank), lower=True, check_finite=False)
        except LinAlgError:
            return None
        K = self.K

        def apply_a(X):
            return ((X * s) @ K) * s + lam * X

        def apply_p_inv(R):
            # Woodbury: (S F F' S + lam I)^-1 = (I - S F (lam I + F'S'S F)^-1 F' S) / lam
            return (R - cho_solve(inner, FS @ R.T, check_finite=False).T @ FS) / lam

        X, n_iter = pcg(apply_a, apply_p_inv, rhs.T, self._warm, _CG_RTOL, CG_MAX_ITER)
        if X is None:  # PCG failed: this fit's steps are solved directly from now on
            self.solver = "direct"
            self._warm = None
            return None
        self._warm = X
        self.cg_iterations.append(n_iter)
        return X.T
