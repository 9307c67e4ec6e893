"""L-BFGS-B on an M-estimation objective (:mod:`skrobust.design.objective`).

The joint scale is optimised with the coefficients; a scale re-estimated
from the residuals (MAD, proposal 2) alternates with L-BFGS fits at that
scale, inexact while the scale still moves.  ``max_iter`` bounds all the
L-BFGS iterations together.  The iterations run in centred, standardised
coordinates in units of the scale (:class:`_Coordinates`), and a run whose
line search broke down is finished by Newton or IRLS steps (:func:`_polish`).
"""

from __future__ import annotations

import numpy as np

from .._linalg import lbfgs_accept
from .._progress import Progress
from ..scale import SecantScale
from ._result import SolverResult
from .irls import _hessian_rows, _irls_classic, _newton, _start


class _Coordinates:
    """The coordinates L-BFGS works in: centred, standardised columns, in units of a scale.

    ``theta_j = beta_j sd_j / unit`` and, with an intercept, ``theta_0 =
    (intercept + mean' coef) / unit``: the same model and objective, but
    the intercept no longer trades off against columns with a large mean
    (a badly conditioned valley L-BFGS crawls along), and the gradient is
    dimensionless, so the gradient tolerance means the same at any scale
    of y.  Column moments are accumulated over row blocks (no ``n x d``
    temporary).
    """

    def __init__(self, problem, unit: float):
        p = problem.n_params
        self.unit = float(unit)
        self.intercept = bool(problem.fit_intercept)
        d = p - int(self.intercept)
        self.mean, self.sd = np.zeros(d), np.ones(d)
        if not problem.capabilities.columns:  # no column moments (a kernel): only the unit
            return
        mean, self.sd = problem.column_moments()
        if self.intercept:
            self.mean = mean

    def theta(self, beta):
        theta = np.array(beta, dtype=np.float64)
        d = self.sd.shape[0]
        if self.intercept:
            theta[d] += float(np.dot(self.mean, beta[:d]))
        theta[:d] *= self.sd
        return theta / self.unit

    def beta(self, theta):
        beta = np.asarray(theta, dtype=np.float64) * self.unit
        d = self.sd.shape[0]
        beta[:d] /= self.sd
        if self.intercept:
            beta[d] -= float(np.dot(self.mean, beta[:d]))
        return beta

    def grad(self, g_beta):
        """The gradient over theta from the gradient over beta (the chain rule)."""
        g = np.array(g_beta, dtype=np.float64)
        d = self.sd.shape[0]
        if self.intercept:
            g[:d] -= self.mean * g[d]
        g[:d] /= self.sd
        return g * self.unit


class _LbfgsReport:
    """Progress of an L-BFGS run: a line per iteration, a tick during long line searches."""

    def __init__(self, progress, history):
        self.progress = progress
        self.history = history

    def evaluation(self):
        self.progress.tick("lbfgs", "evaluating the objective (line search)")

    def __call__(self, objective, scale):
        self.history.append(self.progress.iteration("lbfgs", len(self.history) + 1,
                                                    float(objective), float(scale)))


def _lbfgs_fixed_scale(problem, beta0, scale, max_iter, tol, coords, report=None):
    from scipy.optimize import minimize

    norm = problem.total_weight * scale * scale

    def fun(theta):
        if report is not None:
            report.evaluation()
        point = problem.evaluate(coords.beta(theta), scale)
        return point.f / norm, coords.grad(point.grad) / norm

    def callback(intermediate_result):  # scipy passes the iterate by this keyword
        report(intermediate_result.fun * norm, scale)

    res = minimize(fun, coords.theta(beta0), jac=True, method="L-BFGS-B",
                   callback=None if report is None else callback,
                   options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20})
    res.x = coords.beta(res.x)
    return res


def _lbfgs_joint(problem, beta0, scale0, max_iter, tol, coords, report=None):
    from scipy.optimize import minimize

    total = problem.total_weight
    unit = coords.unit
    floor = problem.scale_rule.floor
    p = problem.n_params

    def fun(x):
        if report is not None:
            report.evaluation()
        point = problem.evaluate(coords.beta(x[:p]), x[p] * unit)
        grad = np.append(coords.grad(point.grad[:p]), point.grad[p] * unit)
        return point.f / (total * unit), grad / (total * unit)

    def callback(intermediate_result):  # scipy passes the iterate by this keyword
        report(intermediate_result.fun * total * unit, intermediate_result.x[p] * unit)

    x0 = np.append(coords.theta(beta0), max(scale0, floor) / unit)
    bounds = [(None, None)] * p + [(floor / unit, None)]
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   callback=None if report is None else callback,
                   options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20})
    res.x = np.append(coords.beta(res.x[:p]), res.x[p] * unit)
    return res


def _polish(problem, beta, scale, max_iter, tol):
    """Finish an L-BFGS run whose line search broke down, by IRLS / Newton steps.

    With strong curvature L-BFGS's steepest-descent restart can stall at a
    gradient well above the tolerance while a curvature-aware step still
    makes progress.  The steps run at the given scale (a fixed-scale copy
    of the problem), or on (coefficients, scale) for the joint scale; the
    optimum is the same.  Returns a SolverResult or None.
    """
    from ..scale import FixedScale

    if problem.joint:
        fixed = problem
    else:
        fixed = problem.with_loss(problem.loss, FixedScale(scale))
    if fixed.newton:
        result = _newton(fixed, beta, scale, _hessian_rows(fixed), None, max_iter, tol,
                         Progress(0))
    else:
        result = _irls_classic(fixed, beta, scale, max_iter, tol, Progress(0))
    return result if result.converged else None


def lbfgs(problem, beta0=None, scale0=None, max_iter=100, tol=1e-8, verbose=0):
    """L-BFGS-B on the objective of the module docstring.

    The joint scale is optimised together with the coefficients (bounded
    below by the scale floor).  Rules that re-estimate the scale from the
    residuals (MAD, proposal 2) alternate: the scale from the current fit,
    then L-BFGS at that scale, until the scale stops changing; the fixed
    point is the same as IRLS's.  Each evaluation is one fused pass over
    the design (residuals, loss and gradient).  ``max_iter`` bounds the
    iterations of all the L-BFGS runs (and polishing steps) together.
    ``verbose`` is an int or a :class:`~skrobust._progress.Progress`
    reporter (one line per L-BFGS iteration).
    """
    progress = Progress.of(verbose)
    result = _lbfgs(problem, beta0, scale0, max_iter, tol, progress)
    progress.finish("lbfgs", result.converged, result.n_iter, result.message)
    return result


def _lbfgs(problem, beta0, scale0, max_iter, tol, progress):
    s = problem.rows
    beta = _start(problem, beta0)
    rule = problem.scale_rule
    r = problem.residuals(beta)
    scale = rule.initial(r, s) if scale0 is None else float(scale0)
    coords = _Coordinates(problem, max(scale, rule.floor, 1e-300))
    history = []
    report = _LbfgsReport(progress, history) if progress else None
    if problem.joint:
        res = _lbfgs_joint(problem, beta, scale, max_iter, tol, coords, report)
        p = problem.n_params
        n_iter = int(res.nit)
        beta, scale = res.x[:p], float(res.x[p])
        ok = lbfgs_accept(res, tol) or problem.exact_fit(problem.residuals(beta))
        if not ok and res.status == 2 and n_iter < max_iter:
            polished = _polish(problem, beta, scale, max_iter - n_iter, tol)
            if polished is not None:
                beta, scale, ok = polished.beta, polished.scale, True
                n_iter += polished.n_iter
        return SolverResult(beta, scale, n_iter, ok, problem.objective(beta, scale),
                            "" if ok else f"L-BFGS: {res.message}", history)
    n_iter = 0
    ok = False
    message = ""
    outer = 0
    # while the scale still moves, solving exactly at it is wasted: the gradient tolerance
    # follows the scale's relative change, and the last rounds are exact
    inner_tol = tol if rule.fixed else max(tol, 1e-3)
    # the scale's fixed point s = g(s) is approached by secant steps (see SecantScale)
    secant = SecantScale(rule.floor)
    scale = secant(scale, rule.update(r, s, scale))
    while n_iter < max_iter:
        outer += 1
        res = _lbfgs_fixed_scale(problem, beta, scale, max_iter - n_iter, inner_tol, coords,
                                 report)
        n_iter += max(int(res.nit), 1)
        beta = res.x
        r = problem.residuals(beta)
        ok = lbfgs_accept(res, inner_tol) or problem.exact_fit(r)
        if not ok and res.status == 2 and n_iter < max_iter:
            polished = _polish(problem, beta, scale, max_iter - n_iter, inner_tol)
            if polished is not None:
                beta, ok = polished.beta, True
                n_iter += polished.n_iter
                r = problem.residuals(beta)
        message = "" if ok else f"L-BFGS: {res.message}"
        if not rule.fixed:
            progress.line("lbfgs", f"scale round {outer}: {res.nit} iterations at scale "
                                   f"{scale:.6g}")
        if rule.fixed:
            break
        new_scale = rule.update(r, s, scale)
        change = abs(new_scale - scale) / scale
        if change <= tol and inner_tol <= tol:
            break
        inner_tol = max(tol, min(inner_tol, change))
        scale = secant(scale, new_scale)
    else:
        ok, message = False, f"the scale did not settle in max_iter={max_iter} L-BFGS iterations"
    return SolverResult(beta, scale, max(n_iter, 1), ok, problem.objective(beta, scale, r),
                        message, history)
