"""One quantile level: :func:`quantile_regression` and the estimator's unchecked core."""

from __future__ import annotations

import math

import numpy as np

from ..._progress import Progress
from ...design.linear import LinearDesign, positive_weight_rows
from ...design.objective import sample_rows
from ...losses.quantile import check_quantile
from .._result import SolverResult
from ._problem import _band_size, _Outcome, _Problem
from .band import _band_solve, _quantile_band, _solve_direct

_PILOT_MIN_ROWS = 200_000  # from this many rows a single level starts from a row sample's fit
_PILOT_MARGIN = 2.0  # the band's half-width in the residuals' quantiles, in sqrt(p / m)


def _checked_problem(design, y, sample_weight, quantile, alpha):
    """The public entry's argument checks (the estimator's path skips them: it checked)."""
    if not isinstance(design, LinearDesign):
        raise TypeError(f"design must be a LinearDesign, got {type(design).__name__}")
    q = check_quantile(quantile, non_numeric_error=ValueError)
    alpha = _check_alpha(alpha)
    if not np.all(np.isfinite(np.asarray(y, dtype=np.float64))):
        raise ValueError("y must be finite")
    if not np.all(np.isfinite(design.X.data if design.sparse else design.X)):
        raise ValueError("X must be finite")
    design, y, s = positive_weight_rows(design, y, sample_weight)
    return _Problem(design, y, s, q, alpha)


def _check_alpha(alpha):
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a non-negative number, got {alpha!r}") from None
    if not (alpha >= 0.0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite non-negative number, got {alpha!r}")
    return alpha

class _Log:
    """Progress lines and the ``history`` record of one solve (silent when ``verbose`` is 0)."""

    def __init__(self, verbose):
        self.progress = Progress.of(verbose)
        self.history = []

    def __call__(self, ip, sub):
        if self.progress:
            self.history.append(self.progress.iteration(
                "ipm", len(self.history) + 1, ip.f, rows=sub.n, gap=ip.gap_rel,
                step_primal=ip.ap, step_dual=ip.ad))


def _solve_outcome(prob: _Problem, beta0, max_iter, tol, log):
    """Interior point iterations on all rows (a band of them for large problems), finished
    exactly, from ``beta0`` or (ridge) least squares; an :class:`_Outcome`."""
    p = prob.design.n_params
    if p == 0:
        return _Outcome(np.zeros(0), True)
    log.progress.line("ipm", f"interior point on {prob.n} rows, from "
                             + ("least squares" if beta0 is None else "the given start"))
    beta = prob.least_squares() if beta0 is None else np.array(beta0, dtype=np.float64)
    if beta.shape != (p,):
        raise ValueError(f"beta0 must have shape ({p},), got {beta.shape}")
    glob = _band_size(prob.n, p) * 2 <= prob.n
    # overflow in a diverging band problem is detected, never warned about
    with np.errstate(all="ignore"):
        if beta0 is None and prob.n >= _PILOT_MIN_ROWS:
            beta, out = _pilot(prob, max_iter, tol, log)
            if out is not None:
                return out
        return _solve_direct(prob, beta, max_iter, tol, log, glob=glob)


def _pilot(prob: _Problem, max_iter, tol, log):
    """Portnoy & Koenker's (1997) preprocessing: fit a row sample of ``n**(2/3) p**(1/2)``
    rows exactly, then solve only the band of rows whose residual from that fit lies
    within ``_PILOT_MARGIN sqrt(4 q (1 - q) p / m)`` of the level ``q`` in the residuals'
    empirical distribution (the other rows keep their sign; checked on all rows and repaired).
    The sample's coefficients and the outcome, None when the band fails."""
    n, p = prob.n, prob.design.n_params
    m = int(min(n / 4, n ** (2 / 3) * math.sqrt(p)))
    rows = sample_rows(n, m)
    sub = _Problem(prob.design.subset(rows), prob.y[rows], prob.s[rows], prob.q,
                   prob.alpha * float(prob.s[rows].sum()) / prob.total_weight)
    beta = _solve_outcome(sub, None, max_iter, tol, log).beta
    r = prob.residuals(beta)
    margin = _PILOT_MARGIN * math.sqrt(4.0 * prob.q * (1.0 - prob.q) * p / m)
    band = _quantile_band(r, prob.q - margin, prob.q + margin, p)
    if band is None:
        return beta, None
    out, _ = _band_solve(prob, beta, r, band, -math.inf, max_iter, tol, log)
    if out is not None and not (out.certified or out.gap_rel <= tol):
        out = None
    return beta, out


def _result(prob: _Problem, out: _Outcome, max_iter, tol, log):
    """The :class:`SolverResult` of an outcome."""
    beta = out.beta
    r = prob.residuals(beta) if out.r is None else out.r
    converged = out.certified or (out.feasible and out.gap_rel <= tol)
    if converged:
        message = ""
    else:
        message = out.message or (
            f"interior point did not reach the relative gap {tol:g} in {max_iter} iterations "
            f"(gap {out.gap_rel:.3g}) and no exact optimum was certified")
    scale = float(np.dot(prob.s, prob.loss.rho(r))) / prob.total_weight
    objective = prob.objective(beta, r)
    if log.progress:
        log.history.append({"iter": len(log.history) + 1, "objective": objective,
                            "certified": out.certified, "time": log.progress.elapsed()})
    log.progress.finish("ipm", converged, max(out.n_iter, 1), message)
    return SolverResult(beta, scale, max(out.n_iter, 1), converged, objective, message,
                        log.history)


def _solve(prob: _Problem, beta0, max_iter, tol, verbose):
    log = _Log(verbose)
    return _result(prob, _solve_outcome(prob, beta0, max_iter, tol, log), max_iter, tol, log)


def quantile_regression(design, y, sample_weight, quantile, *, alpha=0.0, max_iter=200,
                        tol=1e-10, beta0=None, verbose=0):
    """Linear quantile regression, solved to the exact optimum.

    Minimises ``sum_i s_i rho_q(y_i - a_i' beta) + alpha ||coef||**2`` with the
    pinball loss ``rho_q(r) = r (q - 1[r < 0])``; the intercept is not
    penalised.  See the module docstring for the algorithm (interior point
    iterations finished by an exactly solved and certified vertex).

    Parameters
    ----------
    design : LinearDesign
        The design ``[X, 1]`` (dense or sparse ``X``).
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative frequency weights; rows with zero weight are dropped.
    quantile : float
        The quantile ``q``, strictly between 0 and 1.
    alpha : float, default=0.0
        L2 penalty on the coefficients (a sum, not a mean, over the rows).
    max_iter : int, default=200
        Maximum number of interior point iterations.
    tol : float, default=1e-10
        Relative duality gap at which the interior point method stops when
        no exact optimum has been certified earlier.
    beta0 : ndarray of shape (n_params,), default=None
        Starting coefficients; None starts from (ridge) least squares.
    verbose : int, default=0
        Print and record (in ``history``) one line per iteration.

    Returns
    -------
    result : SolverResult
        ``beta`` (coefficients then intercept), ``scale`` (the weighted mean
        pinball loss of the residuals), ``n_iter`` (interior point iterations
        plus simplex pivots), ``converged``, ``objective`` (the penalised
        objective above) and ``message`` (empty on success).

    Raises
    ------
    ValueError
        ``quantile`` outside (0, 1) or NaN, negative ``alpha``, negative or
        non-finite weights, non-finite ``y`` or mismatched lengths.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.quantile import quantile_regression
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> y = 2.0 * X.ravel() + np.array([0, 1, -1, 3, 0, -2, 1, 0, 4, -1.0])
    >>> res = quantile_regression(LinearDesign(X, True), y, None, 0.5)
    >>> res.converged
    True
    >>> np.round(res.beta, 6)  # slope and intercept of the median line
    array([2., 0.])
    """
    prob = _checked_problem(design, y, sample_weight, quantile, alpha)
    return _solve(prob, beta0, int(max_iter), float(tol), verbose)


def _quantile_regression(design, y, s, quantile, *, alpha=0.0, max_iter=200, tol=1e-10,
                         beta0=None, verbose=0):
    """:func:`quantile_regression` on input the estimator checked (what it calls): float64
    ``y`` and positive weights ``s``, finite, on the rows of ``design``; ``quantile`` in (0, 1)
    and ``alpha >= 0``."""
    if not isinstance(design, LinearDesign):
        raise TypeError(f"design must be a LinearDesign, got {type(design).__name__}")
    prob = _Problem(design, y, s, float(quantile), float(alpha))
    return _solve(prob, beta0, int(max_iter), float(tol), verbose)

