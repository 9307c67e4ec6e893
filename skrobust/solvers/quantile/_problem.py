"""The quantile regression (sub)problem, the internal outcome record and row selection."""

from __future__ import annotations

import math

import numpy as np

from ..._linalg import penalty_diagonal, solve_normal_equations
from ...losses.quantile import Quantile

_BAND_PER_PARAM = 50  # a band of rows has max(50 p, 1000, n / 10) rows
_BAND_MIN = 1000
_BAND_FRACTION = 0.1


def _independent_rows(design, key, p, limit=None, tol=1e-9):
    """Up to ``p`` linearly independent rows, taken in increasing order of ``key``.

    Rows are examined in growing batches of the smallest keys (at most
    ``limit`` rows in all), so that many duplicated rows cannot hide the
    independent ones.  Within a batch, all rows are projected on the
    orthogonal complement of the rows chosen so far at once, and the first
    row with a non-negligible remainder is chosen next.
    """
    n = key.shape[0]
    limit = n if limit is None else min(limit, n)
    basis = np.zeros((0, p))
    chosen = []
    done = 0  # rows of the sorted order already examined
    m = min(limit, 3 * p + 10)
    while True:
        cand = np.argpartition(key, m - 1)[:m] if m < n else np.arange(n)
        cand = cand[np.argsort(key[cand], kind="stable")][done:]
        rows = design.dense_rows(cand)
        # exact duplicates of an earlier row never add to the rank
        _, first = np.unique(rows, axis=0, return_index=True)
        first.sort()
        cand, rows = cand[first], rows[first]
        norm0 = np.linalg.norm(rows, axis=1)
        alive = norm0 > 0
        while np.any(alive) and len(chosen) < p:
            rest = rows[alive]
            if basis.shape[0]:
                rest = rest - (rest @ basis.T) @ basis
                rest = rest - (rest @ basis.T) @ basis
            norms = np.linalg.norm(rest, axis=1)
            ok = norms > tol * norm0[alive]
            idx = np.flatnonzero(alive)
            alive[idx[~ok]] = False  # dependent on the chosen rows: never again useful
            if not np.any(ok):
                break
            k = int(np.argmax(ok))
            basis = np.vstack([basis, rest[k] / norms[k]])
            chosen.append(cand[idx[k]])
            alive[idx[: k + 1]] = False
        if len(chosen) == p or m >= limit:
            return np.asarray(chosen, dtype=np.intp)
        done = m
        m = min(limit, 8 * m)


class _Problem:
    """A (sub)problem ``sum_i s_i rho_q(y_i - a_i'beta) - c'beta + pen . beta**2 / 2``.

    ``c`` is the gradient contribution of rows whose residual sign is held
    fixed ("globbed" rows, which then enter the objective linearly); it is
    zero for the problem the user posed.
    """

    def __init__(self, design, y, s, q, alpha, c=None):
        self.design, self.y, self.s, self.q, self.alpha = design, y, s, q, alpha
        self.loss = Quantile(quantile=q)  # rho is the pinball loss
        p = design.n_params
        self.c = np.zeros(p) if c is None else c
        pen = 2.0 * penalty_diagonal(p, design.fit_intercept, alpha)
        self.pen = pen  # the gradient of the penalty is pen * beta
        self.free = pen == 0  # coordinates on which the dual must be feasible
        self.total_weight = float(s.sum())
        # a value below which the objective proves the problem useless (band problems)
        self.lower_bound = -math.inf

    @property
    def n(self) -> int:
        return self.y.shape[0]

    def residuals(self, beta):
        return self.y - self.design.predict(beta)

    def objective(self, beta, r=None):
        if r is None:
            r = self.residuals(beta)
        return (float(np.dot(self.s, self.loss.rho(r))) - float(np.dot(self.c, beta))
                + 0.5 * float(np.dot(self.pen, beta * beta)))

    def magnitude(self, beta, r):
        """A scale for relative gaps: the objective with every term counted positive."""
        return (float(np.dot(self.s, self.loss.rho(r))) + abs(float(np.dot(self.c, beta)))
                + 0.5 * float(np.dot(self.pen, beta * beta)))

    def dual_objective(self, at_lam, lam):
        """``g(lambda)``, a lower bound of the optimum when ``A'lambda + c`` vanishes on the free
        coordinates; with ``w = A'lambda + c`` it is ``y'lambda - sum_j w_j**2 / (2 pen_j)``."""
        w = at_lam + self.c
        val = float(np.dot(self.y, lam))
        pen = ~self.free
        if np.any(pen):
            val -= 0.5 * float(np.sum(w[pen] ** 2 / self.pen[pen]))
        return val, float(np.max(np.abs(w[self.free]), initial=0.0))

    def least_squares(self):
        G, h = self.design.gram(self.s, self.y)
        G[np.diag_indices_from(G)] += self.pen * 0.5
        return solve_normal_equations(G, h + self.c)


class _Outcome:
    """What the internal solves return."""

    def __init__(self, beta, certified, gap_rel=math.inf, feasible=False, n_iter=0, message="",
                 gap_abs=math.inf, inconsistent=False):
        self.beta, self.certified = beta, certified
        self.gap_rel, self.feasible, self.n_iter, self.message = gap_rel, feasible, n_iter, message
        self.gap_abs = 0.0 if certified else gap_abs
        self.inconsistent = inconsistent
        self.r = None  # the residuals at beta on the problem's rows, when a solve has them



def _band_size(n, p):
    return min(n, max(_BAND_PER_PARAM * p, _BAND_MIN, int(_BAND_FRACTION * n)))

