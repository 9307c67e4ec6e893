"""Newton's method for the one-vs-rest margin losses of the linear classifiers.

The margin head of :class:`~skrobust.solvers.multinomial.ClassificationProblem`
fits one output per class (one for binary problems), each a separate
problem ``sum_i s_i phi(y_ik z_ik) + alpha / 2 ||w_k||**2``.  With the
generalised Hessian ``A' diag(s max(phi'', 0)) A + alpha I`` and a
backtracking line search, the piecewise-quadratic hinges (squared hinge,
modified Huber) converge in finitely many steps, to machine precision.
:func:`newton_classifier` is the solver; the weighted squared-hinge refits
of the reweighting solver and the margin warm-up use the same core.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses.margin import SquaredHinge
>>> from skrobust.solvers.multinomial import ClassificationProblem
>>> from skrobust.solvers.margin_newton import newton_classifier
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> p = ClassificationProblem(X, np.array([0, 0, 1, 1]), 2, np.ones(4), SquaredHinge())
>>> newton_classifier(p, p.initial_coef()).converged
True
"""

from __future__ import annotations

import math

import numpy as np

from .._progress import Progress
from ._result import SolverResult

_EPS_DECREASE = 64 * np.finfo(np.float64).eps


def _newton_step(design, c, curvature, pen, g, zeros):
    """Newton step with the exact curvature when the Hessian is positive
    definite, else with the curvature clipped at 0 (a descent direction)."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    from .._linalg import solve_normal_equations

    G, _ = design.gram(c * curvature, zeros)
    G[np.diag_indices_from(G)] += pen
    if np.any(curvature < 0):
        try:
            factor = cho_factor(G, lower=True, check_finite=False)
            d = np.abs(np.diag(factor[0]))
            if d.min() > 1e-7 * d.max():
                return -cho_solve(factor, g, check_finite=False)
        except (LinAlgError, ValueError):
            pass
        G, _ = design.gram(c * np.maximum(curvature, 0.0), zeros)
        G[np.diag_indices_from(G)] += pen
    return -solve_normal_equations(G, g)


def _newton_margin(problem, B0, loss, v, max_iter, tol, progress=None, phase="newton",
                   inner=False):
    """Newton's method with the generalised Hessian, per one-vs-rest output.

    The exact curvature ``phi''`` when the Hessian is positive definite,
    else ``max(phi'', 0)`` (for redescending losses, so the step is always a
    descent direction), and an Armijo backtracking line search.
    Piecewise-quadratic losses (squared hinge, modified Huber) converge in
    finitely many steps.  After the gradient first drops below ``tol`` one
    more (polishing) step is taken; a step whose predicted decrease is below
    floating-point resolution of the objective also ends the iterations
    (stationary to working precision).  Returns ``(B, n_iter, ok)``.  With an
    enabled ``progress`` reporter, one line per step under ``phase``.
    """
    from .._linalg import penalty_diagonal
    from ..design.linear import LinearDesign

    design = LinearDesign(problem.X, problem.fit_intercept)
    s = problem.sample_weight
    total = problem.total_weight
    pen = penalty_diagonal(problem.n_params, problem.fit_intercept, problem.alpha)
    B = np.array(B0, dtype=np.float64)
    zeros = np.zeros(problem.n_samples)
    n_iter = 0
    ok = True
    for k in range(problem.n_outputs):
        sign = problem.signs[:, k]
        c = s if v is None else s * (v[:, k] if v.ndim == 2 else v)
        theta = B[k].copy()

        def value(theta, sign=sign, c=c):
            m = sign * design.predict(theta)
            return float(np.dot(c, loss.rho(m))) + 0.5 * float(np.dot(pen, theta * theta))

        f0 = value(theta)
        done = False
        it = 0
        for it in range(1, max_iter + 1):
            m = sign * design.predict(theta)
            g = design.rmatvec(c * loss.derivative(m) * sign) + pen * theta
            small = float(np.max(np.abs(g))) <= tol * total
            step = _newton_step(design, c, loss.second_derivative(m), pen, g, zeros)
            slope = float(np.dot(g, step))
            if not slope < 0.0:
                step, slope = -g, -float(np.dot(g, g))
            if -slope <= _EPS_DECREASE * max(1.0, abs(f0)):
                # no decrease left that floating point can resolve: stationary
                done = True
                break
            t = 1.0
            while True:
                f1 = value(theta + t * step)
                if f1 <= f0 + 1e-4 * t * slope or t < 1e-10:
                    break
                t *= 0.5
            if f1 <= f0:
                theta = theta + t * step
                f0 = f1
            if progress:
                progress.iteration(phase, it, f0, tick=inner, output=k, step_length=t)
            if small:
                done = True
                break
        B[k] = theta
        n_iter = max(n_iter, it)
        ok = ok and done
    return B, n_iter, ok


def newton_classifier(problem, B0, max_iter=100, tol=1e-4, verbose=0):
    """Newton's method for the margin (one-vs-rest) losses.

    Each output is fitted separately with the generalised Hessian
    ``A' diag(s max(phi'', 0)) A + alpha I`` and a backtracking line
    search; the squared hinge and modified Huber converge in a finite
    number of steps, to machine precision.  Cost per step is one weighted
    Gram matrix per output (``n_params**2 * n_samples``), so prefer
    :func:`lbfgs_classifier` for very many features.

    Parameters
    ----------
    problem : ClassificationProblem
        With a margin loss.
    B0 : ndarray of shape (n_outputs, n_params)
    max_iter : int, default=100
        Maximum number of Newton steps per output.
    tol : float, default=1e-4
        Gradient tolerance on ``J / sum(sample_weight)``; one more step is
        taken after it is met.
    verbose : int, default=0

    Returns
    -------
    result : SolverResult
        ``n_iter`` is the largest number of steps over the outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.margin import ModifiedHuber
    >>> from skrobust.solvers.multinomial import ClassificationProblem, newton_classifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> p = ClassificationProblem(X, np.array([0, 0, 1, 1]), 2, np.ones(4), ModifiedHuber())
    >>> result = newton_classifier(p, p.initial_coef())
    >>> result.converged, result.n_iter <= 5
    (True, True)
    """
    if problem.kind != "margin":
        return SolverResult(np.asarray(B0, dtype=np.float64), 1.0, 0, False, math.nan,
                            "the Newton solver is for margin losses only", [])
    progress = Progress.of(verbose)
    B, n_iter, ok = _newton_margin(problem, B0, problem.loss, None, max_iter, tol, progress)
    message = "" if ok else f"Newton did not converge in {max_iter} iterations"
    progress.finish("newton", ok, max(n_iter, 1), message)
    return SolverResult(B, 1.0, max(n_iter, 1), ok, problem.objective(B), message, [])


__all__ = ["newton_classifier"]
