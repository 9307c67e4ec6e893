"""One level of a non-crossing quantile process: the level's fit under order constraints.

For a level above the previous one (``direction = 1``) the problem is

    minimise  sum_i s_i rho_q(y_i - a_i' beta)
    subject to  a_i' beta >= a_i' beta_prev  on every training row i

(``<=`` for a level below, ``direction = -1``).  If the unconstrained optimum
already satisfies the constraints it is the constrained optimum too (a convex
problem).  Otherwise the linear program is solved by HiGHS
(``scipy.optimize.linprog``) on a band of rows near the unconstrained fit,
the other rows keeping the sign of their residual (they enter linearly), and
with the constraints of the rows that the unconstrained fit violates.  The
band optimum is checked on all rows: a fixed row that changed sign joins the
band and a violated constraint joins the working set, and the program is
solved again.  When nothing changes the band optimum is the optimum of the
full program (the band program is a relaxation that agrees with it there).
Finally the intercept (when there is one) is raised (lowered) by the largest
remaining violation, HiGHS's feasibility tolerance, plus ``1e-12`` of the
fitted values' magnitude, so that the order holds on the training rows
despite the rounding of predictions.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from ._problem import _band_size, _Outcome, _Problem

_ROUNDS = 20  # band and working-set updates before giving up
_MARGIN = 1e-12  # the intercept's final shift, relative to the fitted values
# tighter than HiGHS's defaults (1e-7): without an intercept nothing repairs a violation
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _rows(design, rows):
    """The rows of ``[X, 1]`` as a CSR matrix (dense ``X`` stays dense inside)."""
    if design.sparse:
        Xr = design.X[rows]
        if design.fit_intercept:
            Xr = sp.hstack([Xr, np.ones((Xr.shape[0], 1))], format="csr")
        return sp.csr_matrix(Xr)
    return sp.csr_matrix(design.dense_rows(rows))


def _band_program(prob: _Problem, band, psi, working, bound, direction):
    """HiGHS on the band rows with the working constraints; the coefficients or None."""
    from scipy.optimize import linprog

    design, q = prob.design, prob.q
    p = design.n_params
    rows = np.flatnonzero(band)
    m = rows.size
    s = prob.s[rows]
    c = design.rmatvec(prob.s * np.where(band, 0.0, psi))  # the fixed rows' gradient
    eye = sp.identity(m, format="csr")
    A_eq = sp.hstack([_rows(design, rows), eye, -eye], format="csr")
    cons = np.flatnonzero(working)
    A_ub = sp.hstack([-direction * _rows(design, cons), sp.csr_matrix((cons.size, 2 * m))],
                     format="csr")
    cost = np.concatenate([-c, q * s, (1.0 - q) * s])
    bounds = [(None, None)] * p + [(0.0, None)] * (2 * m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = linprog(cost, A_ub=A_ub, b_ub=-direction * bound[cons], A_eq=A_eq,
                      b_eq=prob.y[rows], bounds=bounds, method="highs", options=_HIGHS_OPTIONS)
    if res.status != 0:
        return None, 0
    return res.x[:p], int(res.nit)


def _noncrossing_level(prob: _Problem, out: _Outcome, beta_prev, direction):
    """The optimum of ``prob`` under ``direction * A (beta - beta_prev) >= 0``, from the
    unconstrained outcome ``out``; an :class:`_Outcome`."""
    design = prob.design
    bound = design.predict(beta_prev)
    magnitude = float(np.max(np.abs(bound))) + float(np.max(np.abs(prob.y)))
    tol = 1e-9 * magnitude  # a constraint violated by less is HiGHS's tolerance
    slack = direction * (design.predict(out.beta) - bound)
    if np.all(slack >= 0):
        return out
    working = slack < 0
    r = prob.residuals(out.beta)
    n, p = prob.n, design.n_params
    m = _band_size(n, p)
    if 2 * m <= n:
        a = np.abs(r)
        band = a <= np.partition(a, m - 1)[m - 1]
    else:
        band = np.ones(n, dtype=bool)
    psi = np.where(r > 0, prob.q, prob.q - 1.0)
    n_iter = out.n_iter
    for _ in range(_ROUNDS):
        beta, nit = _band_program(prob, band, psi, working, bound, direction)
        n_iter += nit
        if beta is None:
            if band.all():
                break
            band[:] = True  # a band that cannot be solved: all rows
            continue
        wrong = ~band & (prob.residuals(beta) * psi < 0)
        slack = direction * (design.predict(beta) - bound)
        violated = ~working & (slack < -tol)
        if not (np.any(wrong) or np.any(violated)):
            if design.fit_intercept:
                beta = beta.copy()
                beta[-1] += direction * (max(0.0, -float(np.min(slack))) + _MARGIN * magnitude)
            return _Outcome(beta, True, 0.0, True, n_iter)
        band |= wrong
        working |= violated
    return _Outcome(out.beta, False, n_iter=n_iter,
                    message="the non-crossing linear program could not be solved; "
                            "the level is fitted without the constraints")
