"""Interior point iterations finished exactly, on all rows or on a band of rows near the fit."""

from __future__ import annotations

import math

import numpy as np

from ...design.linear import LinearDesign
from ._problem import _BAND_MIN, _BAND_PER_PARAM, _band_size, _Outcome, _Problem
from .ipm import _InteriorPoint
from .vertex import _finish

_POLISH_GAP = 1e-3  # relative gap below which the exact finish is attempted
_GLOB_GAP = 0.1  # the same for the finish on a band of rows (large problems)
_GLOB_ROUNDS = 4  # band re-solves after rows with a fixed sign turned out wrong
_NESTED_BAND_ROWS = 50_000  # a band this large is solved on a band of its own rows


def _glob_finish(prob: _Problem, beta, r, lower, max_iter, tol, log):
    """Exact optimum from a good iterate, solving only the band of rows with the smallest
    ``|r|`` (:func:`_band_solve`); an :class:`_Outcome` (or None) and whether a later try
    (from a better iterate) may succeed."""
    m = _band_size(prob.n, prob.design.n_params)
    a = np.abs(r)
    cut = np.partition(a, m - 1)[m - 1]
    return _band_solve(prob, beta, r, a <= cut, lower, max_iter, tol, log)  # ties stay together


def _quantile_band(r, lo, hi, p):
    """The rows whose residual lies between the empirical ``lo`` and ``hi`` quantiles of
    ``r``, widened to at least ``max(50 p, 1000)`` rows; None when that is more than half
    of the rows (then the band saves nothing)."""
    n = r.shape[0]
    widen = max(0.0, (min(n, max(_BAND_PER_PARAM * p, _BAND_MIN)) / n - (hi - lo)) / 2)
    k_lo = int(max(0.0, lo - widen) * n)
    k_hi = int(math.ceil(min(1.0, hi + widen) * n))
    if 2 * (k_hi - k_lo) > n:
        return None
    r_lo, r_hi = np.partition(r, [k_lo, k_hi - 1])[[k_lo, k_hi - 1]]
    return (r >= r_lo) & (r <= r_hi)


def _band_solve(prob: _Problem, beta, r, band, lower, max_iter, tol, log):
    """Exact optimum from ``beta`` (residuals ``r``), solving only the rows in ``band``.

    The rows outside the band keep the sign of their residual; they enter the
    objective linearly (the offset ``c``), so only the band is solved,
    exactly.  The solution is the optimum of the full problem when no fixed
    row changes sign; rows that do join the band and the band is solved
    again.  Returns an :class:`_Outcome` (or None) and whether a later try
    (from a better iterate) may succeed.

    ``lower`` is a lower bound of the optimum of ``prob`` (or ``-inf``).  With
    the signs fixed correctly, the band objective plus ``sum_fixed s_i psi_i y_i``
    is the full objective, so a band iterate below ``lower`` minus that sum
    proves the fixed signs wrong: the band problem is abandoned at once
    (with ties it can even be unbounded).
    """
    design, y, s, q = prob.design, prob.y, prob.s, prob.q
    band = band.copy()
    psi = np.where(r > 0, q, q - 1.0)
    n_iter = 0
    for _ in range(_GLOB_ROUNDS):
        psi[band] = 0.0
        c = prob.c + design.rmatvec(s * psi)
        rows = np.flatnonzero(band)
        sub = _Problem(LinearDesign(design.X[rows], design.fit_intercept), y[rows], s[rows],
                       q, prob.alpha, c)
        sub.lower_bound = lower - float(np.dot(s * psi, y))
        glob = sub.n >= _NESTED_BAND_ROWS  # a large band is itself solved on a band
        out = _solve_direct(sub, beta, max_iter, tol, log, glob=glob, last_resort=False)
        n_iter += out.n_iter
        if out.inconsistent:
            return None, True
        if out.beta is None or not (out.certified or (out.feasible and out.gap_rel <= tol)):
            return None, False  # the band itself could not be solved: no point in retrying
        beta = out.beta
        r_new = prob.residuals(beta)
        wrong = ~band & (r_new * psi < 0)
        if not np.any(wrong):
            if out.certified:
                done = _Outcome(beta, True, 0.0, True, n_iter)
            else:  # optimal to the band's gap: f(beta) - f* <= f_band(beta) - f_band*
                gap_rel = out.gap_abs / max(prob.magnitude(beta, r_new), 1e-300)
                done = _Outcome(beta, False, gap_rel, True, n_iter, gap_abs=out.gap_abs)
            done.r = r_new
            return done, False
        band |= wrong
    return None, True


def _solve_direct(prob: _Problem, beta0, max_iter, tol, log, glob=False, last_resort=True):
    """Interior point iterations finished exactly (module docstring); an :class:`_Outcome`.

    With ``glob=True`` the finish solves only a band of rows near the fit
    (:func:`_glob_finish`) and is tried earlier.  ``last_resort`` allows
    up to ``10 p + 100`` simplex pivots when nothing was certified.
    """
    p = prob.design.n_params
    ip = _InteriorPoint(prob, beta0)
    best_beta, best_f = ip.beta, ip.f
    n_iter = 0
    message = ""
    trigger = _GLOB_GAP if glob else _POLISH_GAP
    blocked = 0  # consecutive iterations with a vanishing step
    # a lower bound of the optimum: 0 without an offset, then the dual objective
    lower = 0.0 if not np.any(prob.c) else -math.inf
    for _ in range(max_iter):
        if not ip.step():
            message = ip.message
            break
        n_iter += 1
        log(ip, prob)
        if ip.f < best_f:
            best_beta, best_f = ip.beta, ip.f
        if ip.feasible:
            lower = max(lower, ip.g)
        if ip.f < prob.lower_bound - 1e-9 * abs(prob.lower_bound):
            return _Outcome(None, False, n_iter=n_iter, inconsistent=True,
                            message="the band problem is inconsistent with the fixed signs")
        if ip.gap_rel <= trigger or (ip.feasible and ip.gap_rel <= tol):
            if glob:
                out, retry = _glob_finish(prob, ip.beta, ip.r, lower, max_iter, tol, log)
                if out is not None and (out.certified or out.gap_rel <= tol):
                    out.n_iter += n_iter
                    return out
                if retry:  # a failed try is costly: retry when closer
                    trigger = ip.gap_rel / 10.0
                else:  # finish on all rows instead
                    glob, trigger = False, _POLISH_GAP
            else:
                res = _finish(prob, ip.r, ip, p)
                if res is not None:
                    n_iter += res[2]
                    if res[1]:
                        return _Outcome(res[0], True, 0.0, True, n_iter)
        if ip.feasible and ip.gap_rel <= tol:
            break
        blocked = blocked + 1 if min(ip.ap, ip.ad) < 1e-8 else 0
        if blocked >= 3 or not math.isfinite(ip.f):
            message = "interior point stalled"
            break
    beta = best_beta
    if last_resort and prob.alpha == 0 and prob.n >= p:
        # last resort: as many simplex pivots as needed from the best iterate
        res = _finish(prob, prob.residuals(beta), None, 10 * p + 100)
        if res is not None:
            n_iter += res[2]
            if res[1] or prob.objective(res[0]) <= best_f:
                return _Outcome(res[0], res[1], 0.0 if res[1] else ip.gap_rel, ip.feasible,
                                n_iter, message, ip.gap_abs)
    return _Outcome(beta, False, ip.gap_rel, ip.feasible, n_iter, message, ip.gap_abs)

