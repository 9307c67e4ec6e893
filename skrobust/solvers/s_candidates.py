"""The candidates of fast-S on a few thousand dense rows: I-steps and selection, all at once.

:class:`_Sample` holds the rows (of one large-n group, of the pooled groups,
or of all the data when they are few) and applies robustbase's I-steps
(``refine_fast_s`` with ``conv=FALSE``) to every candidate together: one
matrix product for all residuals, batched weighted least squares, and the
selection of the ``n_best`` smallest M-scales (:func:`_select_best`).
"""

from __future__ import annotations

import math

import numpy as np

from .._linalg import solve_normal_equations
from ..losses.tukey import tukey_chi_sum_slope, tukey_scaled_weights
from ..scale import MAD_NORMAL_CONSTANT, weighted_median
from ..scale.mscale import _SCALE_MAX_ITER, _SCALE_TOL, _m_scale_core

_OUTER_BUDGET = 4_000_000  # largest (rows x p**2) table of outer products for batched Grams
_GRAM_CHUNK = 250_000  # candidates' Grams solved at once hold at most this many values (or A's)


def _rows_i_step(R, w, s, c, denom, b, floor, W):
    """The scale half of an I-step for each row ``k`` of residuals ``R``, in place.

    One fixed-point step of the M-scale, ``s[k] <- max(s[k] sqrt(mean chi(R[k] / s[k])
    / b), floor)`` with ``mean = sum / denom``, then ``W[k]`` the Tukey weights at the
    new ``s[k]`` (times ``w``), as each step of :func:`~skrobust.solvers.fast_s.refine_s`.
    A Python loop over the rows around the kernels of every M-scale: nothing more
    to compile, at a few microseconds per row.
    """
    # the chi sums row by row (a kernel call each), the scale step on all rows at once (the
    # same operations in the same order as the scalar step: the same bits), the weights
    g = np.array([tukey_chi_sum_slope(r, w, sk, c)[0] for r, sk in zip(R, s.tolist(), strict=True)])
    g /= denom
    np.maximum(s * np.sqrt(g / b), floor, out=s)
    for r, sk, out in zip(R, s.tolist(), W, strict=True):
        tukey_scaled_weights(r, w, sk, c, out)


def _select_best(R, w, denom, b, c, s_start, n_best, floor):
    """robustbase's candidate selection: keep the ``n_best`` smallest M-scales.

    A candidate's full M-scale is computed only when its residuals beat the
    current worst kept scale (``mean rho(r / worst) < b``).
    """
    best_idx = np.full(n_best, -1, dtype=np.int64)
    best_sc = np.full(n_best, np.inf)
    worst_pos = 0
    worst = math.inf
    for k in range(R.shape[0]):
        r = R[k]
        if worst < math.inf and tukey_chi_sum_slope(r, w, worst, c)[0] / denom >= b:
            continue
        sc, _ = _m_scale_core(r, w, denom, b, c, s_start[k], _SCALE_TOL, _SCALE_MAX_ITER, floor)
        best_sc[worst_pos] = sc
        best_idx[worst_pos] = k
        worst_pos = int(np.argmax(best_sc))
        worst = float(best_sc[worst_pos])
    return best_idx, best_sc


class _Sample:
    """Dense rows of the design with their targets and weights (at most a few thousand).

    ``denom`` is the M-scale's ``sum w - p`` on these rows.  The candidates'
    Grams come from a table of the rows' outer products when it holds at most
    ``outer_budget`` values, and are solved in chunks of at most
    ``gram_chunk`` values (see :meth:`wls`).
    """

    def __init__(self, A, y, w, denom, *, outer_budget=_OUTER_BUDGET, gram_chunk=_GRAM_CHUNK):
        self.A = A
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.w = np.ascontiguousarray(w, dtype=np.float64)
        self.denom = float(denom)
        self.uniform = bool(np.all(self.w == self.w[0]))
        m, p = A.shape
        self.outer = None
        self.gram_chunk = gram_chunk
        if m * p * p <= outer_budget:
            self.outer = (A[:, :, None] * A[:, None, :]).reshape(m, p * p)

    def residuals(self, B):
        return np.ascontiguousarray(self.y[None, :] - B @ self.A.T)

    def mad(self, R):
        if self.uniform:
            med = np.median(np.abs(R), axis=1)
        else:
            # a row at a time: as fast as a batched sort, and no kernel to compile
            med = np.array([weighted_median(np.abs(r), self.w) for r in R])
        return med / MAD_NORMAL_CONSTANT

    def wls(self, Wt, B_prev):
        """Weighted least squares per candidate: row k of ``Wt`` holds its weights.

        Candidates are solved in chunks whose ``(chunk, p, p)`` Gram stack
        holds at most as many values as the sample's rows (or ``gram_chunk``
        values, or one Gram), so memory is a small multiple of the sample plus
        ``p**2``, not ``n_candidates p**2``.
        """
        n_cand, p = B_prev.shape
        step = max(1, max(self.gram_chunk, self.A.size) // (p * p))
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
            Wt = np.empty_like(R)
            _rows_i_step(R, self.w, s, c, self.denom, b, floor, Wt)
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
