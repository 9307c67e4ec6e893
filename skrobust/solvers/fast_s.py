"""S-estimation of linear models: the M-scale and the fast-S algorithm.

The S-estimator minimises a robust M-scale of the residuals.  With Tukey's
biweight ``rho`` normalised to supremum 1 (``rho_c(u) = 1 - (1 - (u/c)**2)**3``
for ``|u| <= c``, else 1) and frequency weights ``w``, the M-scale ``s`` of the
residuals ``r`` solves

    sum_i w_i rho_c(r_i / s) / (sum_i w_i - p) = b,

the normalisation over ``n - p`` of R's ``robustbase::lmrob`` (``sum_rho_sc``
in cran/robustbase:src/lmrob.c).  ``c = 1.54764`` and ``b = 0.5`` give a 50%
breakdown point and a scale that is consistent at the normal model.

:func:`fast_s` follows Salibian-Barrera & Yohai (2006) with ``lmrob``'s
defaults: random elemental subsets, ``k_fast`` I-steps on each exact fit,
the ``n_best`` candidates with the smallest M-scale refined to convergence.
Above 2000 rows it uses robustbase's nested subsampling
(``fast_s_large_n``): 5 groups of 400 rows, ``n_subsets`` subsets per group,
the groups' best candidates re-ranked on the pooled 2000 rows and only the
final refinement run on the whole data.

Elemental subsets are built row by row so that each has full rank
(nonsingular subsampling, :mod:`skrobust.solvers.subsampling`).

Weights are frequency weights.  Elemental subsets (and the rows of the
large-n subsample) are drawn **uniformly among the rows with positive
weight**, never with probability proportional to the weight: a zero-weight
row can never enter a subset, and with the same ``random_state`` a fit with
zero-weight rows is exactly the fit without those rows.  Integer weights
equal repeated rows for the M-scale, the I-steps and the refinement, but
the random subsets differ from those drawn on the repeated data.

Like every solver here, these functions take plain arrays and a
:class:`~skrobust.solvers.design.LinearDesign`, never warn, and report
non-convergence through ``converged=False`` and a message.  They raise
``ValueError`` only for input on which no S-estimate exists (too few
samples, every elemental subset singular).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._numba import njit
from .._progress import Progress
from ..losses.tukey import tukey_chi_sum, tukey_scaled_weights
from ..scale import MAD_NORMAL_CONSTANT, weighted_median
from ._result import SolverResult
from .design import solve_normal_equations
from .subsampling import elemental_fits

S_TUKEY_C = 1.54764
"""Tukey biweight constant of the 50%-breakdown S-scale (robustbase's ``tuning.chi``)."""

S_BREAKDOWN_B = 0.5
"""Right-hand side ``b`` of the M-scale equation (robustbase's ``bb``): 50% breakdown."""

_LARGE_N = 2000  # robustbase's fast.s.large.n
_N_GROUPS = 5  # robustbase's groups
_GROUP_SIZE = 400  # robustbase's n.group
_OUTER_BUDGET = 4_000_000  # largest (rows x p**2) table of outer products for batched Grams
_GRAM_CHUNK = 250_000  # candidates' Grams solved at once hold at most this many values (or A's)
_SCALE_TOL = 1e-10  # robustbase's find_scale tolerance (ZERO)
_SCALE_MAX_ITER = 200  # robustbase's maxit.scale


# --------------------------------------------------------------------- numba kernels
@njit(cache=True, nogil=True)
def _m_scale_core(r, w, denom, b, c, s0, tol, max_iter, floor):
    """Solve ``sum w rho_c(r/s) / denom = b``; returns ``(scale, converged)``."""
    w_nonzero = 0.0
    r_max = 0.0
    for i in range(r.shape[0]):
        if w[i] > 0.0 and r[i] != 0.0:
            w_nonzero += w[i]
            a = abs(r[i])
            if a > r_max:
                r_max = a
    # As s -> 0 the left side tends to w_nonzero / denom: below b the M-scale is 0.
    if w_nonzero <= b * denom:
        return floor, True
    s = s0
    if not (s > 0.0 and s < np.inf):
        s = r_max
    if s < floor:
        s = floor
    # robustbase's fixed point s**2 <- s**2 * mean_rho / b; monotone in s, so it
    # converges from any start (linearly).
    for _ in range(max_iter):
        s_new = s * math.sqrt(tukey_chi_sum(r, w, s, c) / denom / b)
        if s_new < floor:
            s_new = floor
        if abs(s_new - s) <= tol * s:
            return s_new, True
        s = s_new
    # Fallback: bracket the root of the decreasing g(s) = mean_rho - b, bisect in log s.
    lo = s
    hi = s
    while tukey_chi_sum(r, w, hi, c) / denom > b:
        hi *= 2.0
    while lo > floor and tukey_chi_sum(r, w, lo, c) / denom < b:
        lo *= 0.5
    if lo < floor:
        lo = floor
    for _ in range(400):
        if hi - lo <= tol * hi:
            break
        mid = math.sqrt(lo * hi)
        if tukey_chi_sum(r, w, mid, c) / denom > b:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), False


@njit(cache=True, nogil=True)
def _rows_chi_sum(R, w, s, c):
    out = np.empty(R.shape[0])
    for k in range(R.shape[0]):
        out[k] = tukey_chi_sum(R[k], w, s[k], c)
    return out


@njit(cache=True, nogil=True)
def _rows_tukey_weights(R, w, s, c):
    out = np.empty_like(R)
    for k in range(R.shape[0]):
        tukey_scaled_weights(R[k], w, s[k], c, out[k])
    return out


@njit(cache=True, nogil=True)
def _rows_weighted_median_abs(R, w):
    """Weighted median of ``|R[k]|`` per row, with :func:`weighted_median`'s convention."""
    n_rows, m = R.shape
    total = 0.0
    for i in range(m):
        total += w[i]
    half = 0.5 * total
    tol = 1e-12 * total
    out = np.empty(n_rows)
    a = np.empty(m)
    for k in range(n_rows):
        for i in range(m):
            a[i] = abs(R[k, i])
        order = np.argsort(a, kind="mergesort")
        cum = 0.0
        lower = np.nan
        upper = np.nan
        for j in range(m):
            cum += w[order[j]]
            if np.isnan(lower) and cum >= half - tol:
                lower = a[order[j]]
            if cum > half + tol:
                upper = a[order[j]]
                break
        if np.isnan(upper):
            upper = a[order[m - 1]]
        out[k] = 0.5 * (lower + upper)
    return out


@njit(cache=True, nogil=True)
def _select_best(R, w, denom, b, c, s_start, n_best, floor):
    """robustbase's candidate selection: keep the ``n_best`` smallest M-scales.

    A candidate's full M-scale is computed only when its residuals beat the
    current worst kept scale (``mean rho(r / worst) < b``).
    """
    best_idx = np.full(n_best, -1, dtype=np.int64)
    best_sc = np.full(n_best, np.inf)
    worst_pos = 0
    worst = np.inf
    for k in range(R.shape[0]):
        r = R[k]
        if worst < np.inf and tukey_chi_sum(r, w, worst, c) / denom >= b:
            continue
        sc, _ = _m_scale_core(r, w, denom, b, c, s_start[k], _SCALE_TOL, _SCALE_MAX_ITER, floor)
        best_sc[worst_pos] = sc
        best_idx[worst_pos] = k
        worst_pos = 0
        for j in range(1, n_best):
            if best_sc[j] > best_sc[worst_pos]:
                worst_pos = j
        worst = best_sc[worst_pos]
    return best_idx, best_sc


# --------------------------------------------------------------------- helpers
def _check_weights(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} entries, expected {n}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    return w


def _check_floor(floor):
    floor = float(floor)
    if not (floor > 0 and math.isfinite(floor)):
        raise ValueError(f"floor must be a finite positive number, got {floor!r}")
    return floor


def _check_tuning(c, b):
    c, b = float(c), float(b)
    if not (c > 0 and math.isfinite(c)):
        raise ValueError(f"c must be a finite positive number, got {c!r}")
    if not 0 < b < 1:
        raise ValueError(f"b must lie in (0, 1), got {b!r}")
    return c, b


def _check_total_weight(w, p):
    if not float(w.sum()) - p > 0:
        raise ValueError(f"the total sample weight ({float(w.sum()):g}) must exceed the number "
                         f"of parameters ({p})")


def _as_generator(random_state):
    """A numpy Generator from None, an int, a RandomState or a Generator.

    A RandomState is not used directly: one 63-bit seed is drawn from it (so
    it advances, as scikit-learn's ``check_random_state`` users expect).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be None, an int, a numpy RandomState or Generator; "
                     f"got {random_state!r}")


def m_scale(residuals, sample_weight=None, *, c=S_TUKEY_C, b=S_BREAKDOWN_B, n_params=0,
            scale0=None, tol=1e-10, max_iter=200, floor=1e-300) -> float:
    """M-scale of residuals with Tukey's biweight, normalised over ``n - p`` as robustbase.

    Solves ``sum_i w_i rho_c(r_i / s) / (sum_i w_i - n_params) = b`` for ``s``,
    where ``rho_c`` is Tukey's biweight divided by its supremum ``c**2 / 6``.
    It iterates robustbase's fixed point ``s**2 <- s**2 * mean_rho / b`` from
    the MAD (monotone, so it converges from any start), and bisects in
    ``log s`` if ``max_iter`` steps were not enough.

    Parameters
    ----------
    residuals : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: an integer weight equals repeating the row, a zero
        weight removes it.
    c : float, default=1.54764
        Biweight tuning constant (1.54764 with ``b=0.5``: 50% breakdown,
        consistent at the normal model).
    b : float, default=0.5
        Right-hand side of the scale equation, in (0, 1).
    n_params : int, default=0
        Number of fitted parameters ``p``, subtracted from the total weight.
    scale0 : float, default=None
        Starting value; the MAD of the residuals (about 0) when None.
    tol : float, default=1e-10
        Relative change of the scale at which the iteration stops.
    max_iter : int, default=200
        Fixed-point iterations before the bisection fallback.
    floor : float, default=1e-300
        Smallest scale returned: when the weight of the non-zero residuals is
        at most ``b * (sum w - n_params)`` the M-scale is 0 and ``floor`` is
        returned.

    Returns
    -------
    scale : float

    Raises
    ------
    ValueError
        If the total weight does not exceed ``n_params``, or ``c``, ``b``
        or ``floor`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.fast_s import m_scale
    >>> r = np.random.default_rng(0).standard_normal(100_000)
    >>> round(m_scale(r), 2)
    1.0
    >>> m_scale(np.zeros(5))
    1e-300
    """
    r = np.ascontiguousarray(residuals, dtype=np.float64).ravel()
    w = _check_weights(sample_weight, r.shape[0])
    floor = _check_floor(floor)
    c, b = _check_tuning(c, b)
    if not np.all(np.isfinite(r[w > 0])):
        raise ValueError("residuals must be finite")
    _check_total_weight(w, n_params)
    if scale0 is None and sample_weight is None:
        scale0 = weighted_median(np.abs(r), None) / MAD_NORMAL_CONSTANT
    return _m_scale(r, w, c, b, n_params, scale0, floor, tol, max_iter)


def _m_scale(r, w, c, b, n_params, scale0, floor, tol=1e-10, max_iter=200):
    """The M-scale of :func:`m_scale` on checked input (float64 ``r`` and ``w``)."""
    if scale0 is None:
        scale0 = weighted_median(np.abs(r), w) / MAD_NORMAL_CONSTANT
    denom = float(w.sum()) - n_params
    s, _ = _m_scale_core(r, w, denom, b, c, float(scale0), float(tol), int(max_iter), floor)
    return float(s)


# --------------------------------------------------------------------- result
@dataclass
class FastSResult(SolverResult):
    """Result of :func:`fast_s` and :func:`refine_s`.

    On top of :class:`~skrobust.solvers.mestimate.SolverResult` (``beta``,
    ``scale`` -- the S-scale, also stored as ``objective`` --, ``n_iter``,
    ``converged``, ``message``):

    Attributes
    ----------
    n_subsets : int
        Non-singular elemental subsets used (over all groups for large n).
    n_singular_subsets : int
        Subsets skipped: singular ones (``subsampling="simple"``), or ones
        that could not reach full rank (``"nonsingular"``, on rank-deficient
        rows only).
    candidate_betas : ndarray of shape (n_candidates, n_params) or None
        The refined candidates, in the order they were refined.
    candidate_scales : ndarray of shape (n_candidates,) or None
        Their final M-scales; ``beta`` is the row with the smallest one.
    large_n : bool
        Whether the nested (large-n) subsampling was used.
    """

    n_subsets: int = 0
    n_singular_subsets: int = 0
    candidate_betas: np.ndarray | None = None
    candidate_scales: np.ndarray | None = None
    large_n: bool = False


# --------------------------------------------------------------------- subsets
def _no_subset_message(subsampling, n_failed):
    if subsampling == "simple":
        return (f"all {n_failed} elemental subsets were singular: the design has (nearly) "
                "exactly collinear columns on the sampled rows")
    return ("no elemental subset of full rank exists: the design has (nearly) exactly "
            "collinear columns on the sampled rows")


def _check_finite_rows(A):
    if not np.all(np.isfinite(A)):
        raise ValueError("X must be finite (the sampled rows hold NaN or infinity)")
    return A


class _Sample:
    """Dense rows of the design with their targets and weights (at most a few thousand)."""

    def __init__(self, A, y, w, denom):
        self.A = A
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.w = np.ascontiguousarray(w, dtype=np.float64)
        self.denom = float(denom)
        self.uniform = bool(np.all(self.w == self.w[0]))
        m, p = A.shape
        self.outer = None
        if m * p * p <= _OUTER_BUDGET:
            self.outer = (A[:, :, None] * A[:, None, :]).reshape(m, p * p)

    def residuals(self, B):
        return np.ascontiguousarray(self.y[None, :] - B @ self.A.T)

    def mad(self, R):
        if self.uniform:
            med = np.median(np.abs(R), axis=1)
        else:
            med = _rows_weighted_median_abs(R, self.w)
        return med / MAD_NORMAL_CONSTANT

    def wls(self, Wt, B_prev):
        """Weighted least squares per candidate: row k of ``Wt`` holds its weights.

        Candidates are solved in chunks whose ``(chunk, p, p)`` Gram stack
        holds at most as many values as the sample's rows (or ``_GRAM_CHUNK``
        values, or one Gram), so memory is a small multiple of the sample plus
        ``p**2``, not ``n_candidates p**2``.
        """
        n_cand, p = B_prev.shape
        step = max(1, max(_GRAM_CHUNK, self.A.size) // (p * p))
        if n_cand <= step:
            return self._wls_chunk(Wt, B_prev)
        B = np.empty_like(B_prev)
        for start in range(0, n_cand, step):
            chunk = slice(start, start + step)
            B[chunk] = self._wls_chunk(Wt[chunk], B_prev[chunk])
        return B

    def _wls_chunk(self, Wt, B_prev):
        n_cand, p = B_prev.shape
        if self.outer is not None:
            G = (Wt @ self.outer).reshape(n_cand, p, p)
        else:
            G = np.empty((n_cand, p, p))
            for k in range(n_cand):
                G[k] = (self.A.T * Wt[k]) @ self.A
        h = (Wt * self.y) @ self.A
        d = np.sqrt(np.clip(np.diagonal(G, axis1=1, axis2=2), 0.0, None))
        d = np.where(d > 0, d, 1.0)
        Gs = G / d[:, :, None] / d[:, None, :]
        hs = h / d
        try:
            Bs = np.linalg.solve(Gs, hs[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            Bs = np.array([solve_normal_equations(Gs[k], hs[k]) for k in range(n_cand)])
        B = Bs / d
        bad = ~np.all(np.isfinite(B), axis=1) | ~np.any(Wt > 0, axis=1)
        B[bad] = B_prev[bad]
        return B

    def i_steps(self, B, k_steps, c, b, floor, s_start=None):
        """robustbase's refine_fast_s with conv=FALSE, for all candidates at once.

        Each step: one fixed-point step of the M-scale, Tukey weights at that
        scale, one weighted least-squares fit.  Returns the new coefficients,
        the last scales and the residuals of the new coefficients.
        """
        R = self.residuals(B)
        if s_start is None:
            s = self.mad(R)
            # a candidate fitting half the rows exactly has MAD 0: start from max |r|
            fallback = np.max(np.abs(R), axis=1)
            s = np.where(s > 0, s, fallback)
        else:
            s = np.array(s_start, dtype=np.float64)
        s = np.maximum(s, floor)
        for _ in range(k_steps):
            g = _rows_chi_sum(R, self.w, s, c) / self.denom
            s = np.maximum(s * np.sqrt(g / b), floor)
            Wt = _rows_tukey_weights(R, self.w, s, c)
            B = self.wls(Wt, B)
            R = self.residuals(B)
        return B, s, R

    def best(self, B, k_steps, c, b, n_best, floor, s_start=None):
        """I-steps, then the ``n_best`` candidates with the smallest M-scale on this sample."""
        B, s, R = self.i_steps(B, k_steps, c, b, floor, s_start)
        keep = np.all(np.isfinite(R), axis=1) & np.isfinite(s)
        B, s, R = B[keep], s[keep], R[keep]
        if len(B) == 0:
            return B, s
        idx, sc = _select_best(R, self.w, self.denom, b, c, s, min(n_best, len(B)), floor)
        ok = idx >= 0
        return B[idx[ok]], sc[ok]


# --------------------------------------------------------------------- refinement
def refine_s(design, y, sample_weight, beta0, scale0=None, *, c=S_TUKEY_C, b=S_BREAKDOWN_B,
             max_iter=200, tol=1e-7, floor=1e-300, verbose=0) -> FastSResult:
    """Refine an S-estimate candidate to convergence (robustbase's ``refine_fast_s``).

    Each iteration takes one fixed-point step of the M-scale, then one
    weighted least-squares step with Tukey(``c``) weights at that scale.  It
    stops when ``||beta_new - beta||_2 < tol * max(tol, ||beta||_2)``; the
    returned scale is the exact M-scale of the final residuals.

    Parameters
    ----------
    design : LinearDesign
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        Frequency weights.
    beta0 : ndarray of shape (n_params,)
        Starting coefficients.
    scale0 : float, default=None
        Starting scale; the M-scale of the starting residuals when None.
    c, b : float
        M-scale constants (see :func:`m_scale`).
    max_iter : int, default=200
    tol : float, default=1e-7
    floor : float, default=1e-300
    verbose : int or Progress, default=0
        Reports the iterations (at most one line each half second).

    Returns
    -------
    result : FastSResult

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.design import LinearDesign
    >>> from skrobust.solvers.fast_s import refine_s
    >>> x = np.arange(10.0)
    >>> y = 2.0 * x + 1.0 + np.array([0.1, -0.1] * 5)
    >>> y[9] = 100.0
    >>> res = refine_s(LinearDesign(x[:, None], True), y, None, np.array([2.0, 1.0]))
    >>> np.round(res.beta, 1), res.converged
    (array([2., 1.]), True)
    """
    floor = _check_floor(floor)
    c, b = _check_tuning(c, b)
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    w = _check_weights(sample_weight, y.shape[0])
    _check_total_weight(w, design.n_params)
    if not np.all(np.isfinite(y[w > 0])):
        raise ValueError("y must be finite")
    return _refine_s(design, y, w, beta0, scale0, c=c, b=b, max_iter=max_iter, tol=tol,
                     floor=floor, progress=Progress.of(verbose))


def _refine_s(design, y, w, beta0, scale0=None, *, c=S_TUKEY_C, b=S_BREAKDOWN_B, max_iter=200,
              tol=1e-7, floor=1e-300, progress=None):
    """:func:`refine_s` on checked input: float64 ``y`` and ``w``, a total weight above p."""
    progress = Progress.of(progress)
    p = design.n_params
    denom = float(w.sum()) - p
    beta = np.array(beta0, dtype=np.float64)
    r = y - design.predict(beta)
    if scale0 is None:
        s = _m_scale(r, w, c, b, p, None, floor)
    else:
        s = max(float(scale0), floor)
    v = np.empty_like(y)
    converged = False
    message = ""
    n_iter = 0
    with np.errstate(all="ignore"):
        for n_iter in range(1, max_iter + 1):
            s = max(s * math.sqrt(tukey_chi_sum(r, w, s, c) / denom / b), floor)
            tukey_scaled_weights(r, w, s, c, v)
            if not np.any(v > 0):
                message = "every robustness weight is zero"
                break
            G, h = design.gram(v, y)
            beta_new = solve_normal_equations(G, h)
            if not np.all(np.isfinite(beta_new)):
                message = "the weighted least-squares step gave non-finite coefficients"
                break
            delta = float(np.linalg.norm(beta_new - beta))
            done = delta < tol * max(tol, float(np.linalg.norm(beta)))
            progress.tick("s-refine", f"iter {n_iter:4d}  scale {s:.6g}  step {delta:.3g}")
            beta = beta_new
            r = y - design.predict(beta)
            if done:
                converged = True
                break
        else:
            message = f"S refinement did not converge in {max_iter} iterations (tol={tol:g})"
    scale = _m_scale(r, w, c, b, p, s, floor)
    return FastSResult(beta, scale, n_iter, converged, objective=scale, message=message)


# --------------------------------------------------------------------- fast-S
def fast_s(design, y, sample_weight=None, *, n_subsets=500, n_best=2, k_fast=1, c=S_TUKEY_C,
           b=S_BREAKDOWN_B, refine_max_iter=200, refine_tol=1e-7, random_state=None,
           floor=1e-300, subsampling="nonsingular", verbose=0) -> FastSResult:
    """S-estimate of a linear model by the fast-S algorithm (Salibian-Barrera & Yohai, 2006).

    With robustbase's ``lmrob.control`` defaults (``nResample=500``,
    ``best.r.s=2``, ``k.fast.s=1``, ``k.max=200``, ``refine.tol=1e-7``,
    ``tuning.chi=1.54764``, ``bb=0.5``):

    1. draw ``n_subsets`` random elemental subsets of ``p = design.n_params``
       rows among the rows with positive weight (by default built row by row
       so that each has full rank, see ``subsampling``) and fit each exactly;
    2. apply ``k_fast`` I-steps to each fit: from the MAD of its residuals,
       one fixed-point step of the M-scale, then one weighted least-squares
       step with Tukey(``c``) weights at that scale;
    3. keep the ``n_best`` candidates with the smallest M-scale;
    4. refine each with :func:`refine_s` until the relative change of the
       coefficients is below ``refine_tol``; return the one with the
       smallest M-scale.

    With more than 2000 positive-weight rows, steps 1-3 run on a random
    subsample of 2000 rows split into 5 groups of 400 (``n_subsets`` subsets
    in each group), the groups' best candidates are I-stepped and re-ranked on
    the pooled 2000 rows, and only step 4 sees all the data (robustbase's
    ``fast_s_large_n``).

    Parameters
    ----------
    design : LinearDesign
        Dense or sparse; only the sampled rows are densified.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,), default=None
        Frequency weights (see the module docstring for how subsets are drawn).
    n_subsets : int, default=500
    n_best : int, default=2
    k_fast : int, default=1
    c, b : float, default=1.54764, 0.5
        M-scale constants (see :func:`m_scale`).
    refine_max_iter : int, default=200
    refine_tol : float, default=1e-7
    random_state : None, int, numpy RandomState or Generator, default=None
        The same value gives the same fit.
    floor : float, default=1e-300
        Smallest scale returned (an exact fit of more than half the data).
    subsampling : {"nonsingular", "simple"}, default="nonsingular"
        How elemental subsets are drawn (:mod:`skrobust.solvers.subsampling`):
        "nonsingular" builds each subset row by row in a random order,
        skipping rows that do not raise its rank (Koller & Stahel 2017,
        robustbase's default), so one-hot designs with rare levels work;
        "simple" draws ``p`` rows uniformly and skips singular subsets.  In
        a large-n group whose rows have rank below ``p`` (a rare level
        missing from the group) "nonsingular" builds the group's subsets
        from the pooled rows.
    verbose : int or Progress, default=0
        Reports the subsets done and each candidate's refinement.

    Returns
    -------
    result : FastSResult
        ``beta`` (coefficients, then the intercept), ``scale`` (the S-scale),
        ``converged`` (of the chosen candidate's refinement), ``n_iter``,
        ``message``, ``n_subsets``, ``n_singular_subsets`` and the refined
        candidates.

    Raises
    ------
    ValueError
        With fewer than ``2 (p + 1)`` positive-weight rows, a total weight
        not above ``p``, or when no elemental subset of full rank was found
        (exactly collinear columns: the estimator removes them first, see
        :mod:`skrobust.solvers.aliasing`).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.design import LinearDesign
    >>> from skrobust.solvers.fast_s import fast_s
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2))
    >>> y = X @ np.array([1.0, -2.0]) + 3.0 + 0.1 * rng.normal(size=50)
    >>> y[:10] += 50.0  # 20% gross outliers
    >>> res = fast_s(LinearDesign(X, fit_intercept=True), y, random_state=0)
    >>> np.round(res.beta, 1)
    array([ 1., -2.,  3.])
    """
    if int(n_subsets) < 1 or int(n_best) < 1 or int(k_fast) < 0:
        raise ValueError("n_subsets and n_best must be >= 1 and k_fast >= 0")
    n_subsets, n_best, k_fast = int(n_subsets), int(n_best), int(k_fast)
    c, b = _check_tuning(c, b)
    y, w, floor = _checked(design, y, sample_weight, floor)
    return _fast_s(design, y, w, n_subsets=n_subsets, n_best=n_best, k_fast=k_fast, c=c, b=b,
                   refine_max_iter=refine_max_iter, refine_tol=refine_tol,
                   random_state=random_state, floor=floor, subsampling=subsampling,
                   progress=Progress.of(verbose))


def _checked(design, y, sample_weight, floor):
    """The checks of the public fast-S entries: float64 ``y`` and weights, finite ``y``."""
    floor = _check_floor(floor)
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    n = y.shape[0]
    if design.n_samples != n:
        raise ValueError(f"the design has {design.n_samples} rows but y has {n}")
    w = _check_weights(sample_weight, n)
    if not np.all(np.isfinite(y[w > 0])):
        raise ValueError("y must be finite")
    return y, w, floor


def _fast_s(design, y, w, *, n_subsets=500, n_best=2, k_fast=1, c=S_TUKEY_C, b=S_BREAKDOWN_B,
            refine_max_iter=200, refine_tol=1e-7, random_state=None, floor=1e-300,
            subsampling="nonsingular", progress):
    """:func:`fast_s` on checked input (what the estimator's start calls): float64 ``y``,
    finite on the rows of positive weight, float64 weights ``w`` and a Progress."""
    rng = _as_generator(random_state)
    p = design.n_params
    pos = np.flatnonzero(w > 0)
    m = pos.shape[0]
    if m < 2 * (p + 1):
        raise ValueError(f"the S-estimator needs at least 2(p+1) = {2 * (p + 1)} samples with "
                         f"positive weight for p = {p} parameters; got {m} sample(s)")
    total = float(w[pos].sum())
    if not total > p:
        raise ValueError(f"the total sample weight ({total:g}) must exceed the number of "
                         f"parameters ({p})")
    ratio = (total - p) / total  # keeps (sum w - p) / sum w on subsamples

    n_singular = 0
    n_used = 0
    large = m > _LARGE_N
    n_groups = 1
    with np.errstate(all="ignore"):
        if not large:
            A = _check_finite_rows(design.dense_rows(pos))
            sample = _Sample(A, y[pos], w[pos], total - p)
            B0, n_sing, _ = elemental_fits(sample.A, sample.y, rng, n_subsets, subsampling)
            n_singular += n_sing
            n_used += len(B0)
            if len(B0) == 0:
                raise ValueError(_no_subset_message(subsampling, n_sing))
            best_B, best_sc = sample.best(B0, k_fast, c, b, n_best, floor)
            progress.line("s-start", f"{n_used}/{n_subsets} subsets done ({n_singular} "
                                     f"singular) on {m} rows, best {len(best_B)} kept")
        else:
            n_groups = _N_GROUPS
            group = max(_GROUP_SIZE, 2 * (p + 1))
            if n_groups * group > m:
                n_groups = max(m // group, 1)
            rows = pos[rng.choice(m, size=n_groups * group, replace=False)]
            A_all = _check_finite_rows(design.dense_rows(rows))
            w_all = w[rows]
            cand_B, cand_sc = [], []
            for g in range(n_groups):
                sl = slice(g * group, (g + 1) * group)
                sample = _Sample(A_all[sl], y[rows[sl]], w_all[sl], w_all[sl].sum() * ratio)
                B0, n_sing, _ = elemental_fits(sample.A, sample.y, rng, n_subsets, subsampling)
                if len(B0) == 0 and subsampling == "nonsingular":
                    # the group's rows miss a direction (a rare level absent from the group):
                    # its subsets come from the pooled rows, its I-steps stay on the group
                    B0, n_sing, _ = elemental_fits(A_all, y[rows], rng, n_subsets, subsampling)
                n_singular += n_sing
                n_used += len(B0)
                if len(B0) == 0:
                    continue
                Bg, sg = sample.best(B0, k_fast, c, b, n_best, floor)
                cand_B.append(Bg)
                cand_sc.append(sg)
                progress.line("s-start", f"group {g + 1}/{n_groups}: {n_used}/"
                                         f"{n_subsets * n_groups} subsets done ({n_singular} "
                                         f"singular) on {group} rows each")
            if not cand_B:
                raise ValueError(_no_subset_message(subsampling, n_singular))
            pooled = _Sample(A_all, y[rows], w_all, w_all.sum() * ratio)
            best_B, best_sc = pooled.best(np.concatenate(cand_B), k_fast, c, b, n_best, floor,
                                          s_start=np.concatenate(cand_sc))
            progress.line("s-start", f"best {len(best_B)} of the groups' candidates kept on "
                                     f"{len(rows)} pooled rows")

    if len(best_B) == 0:
        raise ValueError("no elemental fit gave finite residuals: X and y must be finite")
    # step 4: refine the best candidates on all the data
    betas, scales, results = [], [], []
    for j, (beta0, s0) in enumerate(zip(best_B, best_sc, strict=True)):
        res = _refine_s(design, y, w, beta0, s0, c=c, b=b, max_iter=refine_max_iter,
                        tol=refine_tol, floor=floor, progress=progress)
        status = ("converged" if res.converged else "did not converge") + \
            f" in {res.n_iter} iterations"
        progress.line("s-refine", f"candidate {j + 1}/{len(best_B)} {status}, S-scale "
                                  f"{res.scale:.6g}" + (f": {res.message}" if res.message else ""))
        betas.append(res.beta)
        scales.append(res.scale)
        results.append(res)
    scales = np.array(scales)
    k = int(np.argmin(scales))
    chosen = results[k]
    message = chosen.message
    others = [i for i, r in enumerate(results) if i != k and not r.converged]
    if others and not message:
        message = f"{len(others)} other refined candidate(s) did not converge"
    if n_used < n_subsets * n_groups:
        extra = f"only {n_used} non-singular subsets in {n_used + n_singular} draws"
        message = f"{message}; {extra}" if message else extra
    return FastSResult(
        beta=chosen.beta, scale=chosen.scale, n_iter=chosen.n_iter, converged=chosen.converged,
        objective=chosen.scale, message=message, n_subsets=n_used,
        n_singular_subsets=n_singular, candidate_betas=np.array(betas),
        candidate_scales=scales, large_n=large,
    )


def fast_s_sampled(design, y, sample_weight=None, *, n_rows=20_000, random_state=None,
                   floor=1e-300, verbose=0) -> FastSResult:
    """fast-S on a uniform row sample, with the M-scale of all rows' residuals.

    Above ``n_rows`` positive-weight rows, :func:`fast_s` (its candidates
    already come from nested samples of 2000 rows) runs on ``n_rows`` rows
    drawn uniformly, without replacement, among the rows with positive
    weight, so that only the final refinement's iterations are cheaper; the
    returned ``scale`` is then the M-scale of the residuals of every row
    (the sample's S-scale is in ``objective``).  The breakdown point is the
    S-estimator's on the sample: the sample's contamination differs from the
    data's by about ``sqrt(eps (1 - eps) / n_rows)`` (0.3% at ``eps = 0.3``).
    At most ``n_rows`` rows: exactly :func:`fast_s`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.design import LinearDesign
    >>> from skrobust.solvers.fast_s import fast_s_sampled
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 2))
    >>> y = X @ np.array([1.0, -2.0]) + 3.0 + 0.1 * rng.normal(size=5000)
    >>> y[:1000] += 50.0  # 20% gross outliers
    >>> res = fast_s_sampled(LinearDesign(X, True), y, n_rows=1000, random_state=0)
    >>> np.round(res.beta, 1)
    array([ 1., -2.,  3.])
    >>> full = fast_s(LinearDesign(X, True), y, random_state=0)  # all 5000 rows
    >>> round(res.scale, 2), round(full.scale, 2)
    (0.14, 0.14)
    """
    if int(n_rows) < 1:
        raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}")
    y, w, floor = _checked(design, y, sample_weight, floor)
    return _fast_s_sampled(design, y, w, n_rows=int(n_rows), random_state=random_state,
                           floor=floor, progress=Progress.of(verbose))


def _fast_s_sampled(design, y, w, *, n_rows=20_000, random_state=None, floor=1e-300, progress):
    """:func:`fast_s_sampled` on checked input (as :func:`_fast_s`)."""
    rng = _as_generator(random_state)
    pos = np.flatnonzero(w > 0)
    if pos.shape[0] <= n_rows:
        return _fast_s(design, y, w, random_state=rng, floor=floor, progress=progress)
    rows = np.sort(pos[rng.choice(pos.shape[0], size=n_rows, replace=False)])
    progress.line("s-start", f"fast-S on {n_rows} of {pos.shape[0]} rows")
    fit = _fast_s(design.subset(rows), y[rows], w[rows], random_state=rng, floor=floor,
                  progress=progress)
    residuals = y - design.predict(fit.beta)
    fit.objective = fit.scale
    fit.scale = _m_scale(residuals, w, S_TUKEY_C, S_BREAKDOWN_B, design.n_params, fit.scale,
                         floor)
    progress.line("s-start", f"M-scale of all {pos.shape[0]} residuals {fit.scale:.6g}")
    return fit


__all__ = ["S_BREAKDOWN_B", "S_TUKEY_C", "FastSResult", "fast_s", "fast_s_sampled", "m_scale",
           "refine_s"]
