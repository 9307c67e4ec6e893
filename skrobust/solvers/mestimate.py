"""M-estimation of linear models: IRLS and L-BFGS on plain arrays.

The problem is fixed by a design, a target, frequency weights ``s``, a
loss, a scale rule and an L2 penalty ``alpha`` on the coefficients (never
the intercept).  With ``w0 = weight(0)`` the objective at a scale ``sigma`` is

    sum_i s_i 2 sigma**2 rho(r_i / sigma) / w0 + alpha ||coef||**2

which is exactly Ridge's objective for the L2 loss.  Owen's joint scale
(HuberRegressor's objective) uses ``sum_i s_i (sigma + 2 sigma rho(r_i/sigma)/w0)
+ alpha ||coef||**2`` instead, minimised over the scale too.

Solvers never warn and never raise on a numerical hiccup: they return the
best iterate with ``converged=False`` and a message; the estimator turns
that into a ``ConvergenceWarning``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .design import LinearDesign, solve_normal_equations


@dataclass
class SolverResult:
    """What every solver returns."""

    beta: np.ndarray
    scale: float
    n_iter: int
    converged: bool
    objective: float = math.nan
    message: str = ""
    history: list = field(default_factory=list)


@dataclass
class MProblem:
    """The fixed part of an M-estimation problem."""

    design: LinearDesign
    y: np.ndarray
    sample_weight: np.ndarray
    loss: object
    scale_rule: object
    alpha: float = 0.0

    def __post_init__(self):
        self.w0 = self.loss.weight_at_zero()
        self.total_weight = float(self.sample_weight.sum())
        pen = np.full(self.design.n_params, float(self.alpha))
        if self.design.fit_intercept:
            pen[-1] = 0.0
        self.penalty = pen
        # absolute resolution of the residuals: below it, data are fitted exactly
        rms_y = math.sqrt(float(np.dot(self.sample_weight, self.y**2)) / self.total_weight)
        self.atol = 1e-12 * rms_y + 1e-300

    def exact_fit(self, residuals) -> bool:
        """Whether the residuals vanish to rounding (an interpolating fit)."""
        rms = math.sqrt(float(np.dot(self.sample_weight, residuals**2)) / self.total_weight)
        return rms <= 1e3 * self.atol

    @property
    def joint(self) -> bool:
        return bool(self.scale_rule.penalty_in_scale_units)

    def penalty_factor(self, scale: float) -> float:
        return scale if self.joint else 1.0

    def objective(self, beta, scale, residuals=None) -> float:
        r = self.y - self.design.predict(beta) if residuals is None else residuals
        rho = self.loss.rho(r / scale)
        data = 2.0 * float(np.dot(self.sample_weight, rho)) / self.w0
        pen = float(np.dot(self.penalty, beta * beta))
        if self.joint:
            return scale * (self.total_weight + data) + pen
        return scale * scale * data + pen

    def irls_weights(self, residuals, scale):
        """Sample weight times the normalised robustness weight, ``s * weight(r/sigma) / w0``."""
        return self.sample_weight * (self.loss.weight(residuals / scale) / self.w0)


def _converged(problem, r_old, r_new, scale_old, scale_new, tol) -> bool:
    s = problem.sample_weight
    change = math.sqrt(float(np.dot(s, (r_new - r_old) ** 2)) / problem.total_weight)
    return (change <= tol * scale_new + problem.atol
            and abs(scale_new - scale_old) <= tol * scale_new)


def irls(problem: MProblem, beta0, scale0=None, max_iter=100, tol=1e-8, verbose=0):
    """Iteratively reweighted least squares with a scale update before each step.

    Each step solves the weighted ridge problem with weights
    ``s * weight(r / sigma) / w0``; for losses with non-increasing weights
    this is a majorise-minimise step, so the objective never increases at a
    fixed scale.  The scale rule is applied to the current residuals first
    (MASS::rlm's order).
    """
    design, y, s = problem.design, problem.y, problem.sample_weight
    beta = np.array(beta0, dtype=np.float64)
    r = y - design.predict(beta)
    rule = problem.scale_rule
    scale = rule.initial(r, s) if scale0 is None else float(scale0)
    history = []
    converged = False
    n_iter = 0
    t0 = time.perf_counter()
    for n_iter in range(1, max_iter + 1):
        scale_old = scale
        scale = rule.update(r, s, scale)
        v = problem.irls_weights(r, scale)
        if not np.any(v > 0):
            return SolverResult(beta, scale, n_iter, False, problem.objective(beta, scale, r),
                                "every robustness weight is zero", history)
        G, h = design.gram(v, y)
        G[np.diag_indices_from(G)] += problem.penalty * problem.penalty_factor(scale)
        beta_new = solve_normal_equations(G, h)
        r_new = y - design.predict(beta_new)
        done = _converged(problem, r, r_new, scale_old, scale, tol) and n_iter > 1
        beta, r = beta_new, r_new
        if verbose:
            obj = problem.objective(beta, scale, r)
            history.append({"iter": n_iter, "objective": obj, "scale": scale,
                            "time": time.perf_counter() - t0})
            print(f"irls {n_iter:4d}  objective {obj:.10g}  scale {scale:.6g}")
        if done:
            converged = True
            break
    return SolverResult(beta, scale, n_iter, converged, problem.objective(beta, scale, r),
                        "" if converged else f"IRLS did not converge in {max_iter} iterations",
                        history)


def _column_scales(design: LinearDesign) -> np.ndarray:
    # feature standard deviations, used to condition L-BFGS (never to change the model)
    X = design.X
    if design.sparse:
        mean = np.asarray(X.mean(axis=0)).ravel()
        sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        sd = np.sqrt(np.maximum(sq - mean**2, 0.0))
    else:
        sd = X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    if design.fit_intercept:
        sd = np.append(sd, 1.0)
    return sd


def _lbfgs_fixed_scale(problem, beta0, scale, max_iter, tol, sd):
    from scipy.optimize import minimize

    design, y, s = problem.design, problem.y, problem.sample_weight
    norm = problem.total_weight * scale * scale

    def fun(theta):
        beta = theta / sd
        r = y - design.predict(beta)
        u = r / scale
        data = 2.0 * float(np.dot(s, problem.loss.rho(u))) / problem.w0
        pen = float(np.dot(problem.penalty, beta * beta))
        g_resid = -2.0 * scale * s * problem.loss.psi(u) / problem.w0
        grad = design.rmatvec(g_resid) + 2.0 * problem.penalty * beta
        return (scale * scale * data + pen) / norm, grad / sd / norm

    res = minimize(fun, beta0 * sd, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20})
    return res


def _lbfgs_joint(problem, beta0, scale0, max_iter, tol, sd):
    from scipy.optimize import minimize

    design, y, s = problem.design, problem.y, problem.sample_weight
    total = problem.total_weight
    floor = problem.scale_rule.floor
    p = design.n_params

    def fun(x):
        beta, scale = x[:p] / sd, x[p]
        r = y - design.predict(beta)
        u = r / scale
        rho = problem.loss.rho(u)
        psi = problem.loss.psi(u)
        data = 2.0 * float(np.dot(s, rho)) / problem.w0
        value = scale * (total + data) + float(np.dot(problem.penalty, beta * beta))
        grad_beta = design.rmatvec(-2.0 * s * psi / problem.w0) + 2.0 * problem.penalty * beta
        grad_scale = total + data - 2.0 * float(np.dot(s, u * psi)) / problem.w0
        return value / total, np.append(grad_beta / sd, grad_scale) / total

    x0 = np.append(beta0 * sd, max(scale0, floor))
    bounds = [(None, None)] * p + [(floor, None)]
    return minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                    options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20})


def _lbfgs_ok(res, tol) -> bool:
    # ABNORMAL line-search ends at a point L-BFGS can no longer improve in floating point;
    # accept it when the projected gradient is already near the tolerance.
    if res.success:
        return True
    return res.status == 2 and float(np.max(np.abs(res.jac))) <= max(100.0 * tol, 1e-8)


def lbfgs(problem: MProblem, beta0, scale0=None, max_iter=100, tol=1e-8, verbose=0):
    """L-BFGS-B on the objective of the module docstring.

    The joint scale is optimised together with the coefficients (bounded
    below by the scale floor).  Rules that re-estimate the scale from the
    residuals (MAD, proposal 2) alternate: the scale from the current fit,
    then L-BFGS at that scale, until the scale stops changing; the fixed
    point is the same as IRLS's.
    """
    design, y, s = problem.design, problem.y, problem.sample_weight
    beta = np.array(beta0, dtype=np.float64)
    sd = _column_scales(design)
    rule = problem.scale_rule
    r = y - design.predict(beta)
    scale = rule.initial(r, s) if scale0 is None else float(scale0)
    history = []
    if problem.joint:
        res = _lbfgs_joint(problem, beta, scale, max_iter, tol, sd)
        p = design.n_params
        beta, scale = res.x[:p] / sd, float(res.x[p])
        ok = _lbfgs_ok(res, tol) or problem.exact_fit(y - design.predict(beta))
        return SolverResult(beta, scale, int(res.nit), ok, problem.objective(beta, scale),
                            "" if ok else f"L-BFGS: {res.message}", history)
    n_iter = 0
    ok = False
    message = ""
    for outer in range(1, max_iter + 1):
        scale_old = scale
        scale = rule.update(r, s, scale)
        res = _lbfgs_fixed_scale(problem, beta, scale, max_iter, tol, sd)
        n_iter += int(res.nit)
        beta = res.x / sd
        r = y - design.predict(beta)
        ok = _lbfgs_ok(res, tol) or problem.exact_fit(r)
        message = "" if ok else f"L-BFGS: {res.message}"
        if verbose:
            print(f"lbfgs outer {outer:3d}  scale {scale:.6g}  inner iterations {res.nit}")
        if rule.fixed or abs(rule.update(r, s, scale) - scale) <= tol * scale:
            break
        if outer == max_iter:
            ok, message = False, f"scale did not settle in {max_iter} outer iterations"
        if abs(scale - scale_old) == 0 and outer > 1:
            break
    return SolverResult(beta, scale, max(n_iter, 1), ok, problem.objective(beta, scale, r),
                        message, history)
