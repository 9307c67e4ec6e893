"""Run the solver a :class:`~skrobust._plan.FitPlan` names, from its start.

Three solvers fit a :class:`~skrobust.RobustRegressor`: the adaptive Barron
fit (shape and scale learned with the coefficients), the interior-point
quantile solver, and the M-estimation solvers (IRLS or L-BFGS, from a
:class:`~skrobust.solvers.starts.Start`).

Examples
--------
>>> import numpy as np
>>> from skrobust import RobustRegressor
>>> from skrobust._plan import fit_plan
>>> from skrobust.scale import MADScale
>>> from skrobust.design.linear import LinearDesign
>>> from skrobust.solvers.starts import Start
>>> X = np.arange(20.0)[:, None]
>>> y = 2.0 * X[:, 0] + 1.0 + 0.01 * np.sin(X[:, 0])
>>> plan = fit_plan(RobustRegressor(loss="huber"))
>>> result = run_solver(plan, LinearDesign(X, True), y, np.ones(20),
...                     Start(None, None, MADScale(1e-12)), alpha=0.0, max_iter=100, tol=1e-8)
>>> np.round(result.beta, 2)
array([2., 1.])
"""

from __future__ import annotations

import warnings

from ..design.objective import MProblem
from .irls import irls
from .lbfgs import lbfgs


def run_solver(plan, design, y, sample_weight, start, *, alpha, max_iter, tol,
               shape_bounds=(0.0, 1.999), quantile=0.5, progress=None):
    """Fit ``plan``'s model on the design from ``start``.

    ``start`` is a :class:`~skrobust.solvers.starts.Start` for M-estimation;
    for the adaptive shape ``(beta, scale, shape)`` of a previous fit or None
    (a Huber M-fit start); unused by the quantile solver.  ``alpha`` is the
    penalty in the fit's units.
    """
    if plan.adaptive:
        from .adaptive_barron import _adaptive_barron
        from .starts import adaptive_start

        if start is not None:
            beta0, scale0, shape0 = start
        else:
            beta0 = adaptive_start(design, y, sample_weight, alpha, max_iter, progress).beta
            scale0 = shape0 = None
        result = _adaptive_barron(
            design, y, sample_weight, beta0=beta0, scale0=scale0, shape0=shape0,
            shape_bounds=tuple(map(float, shape_bounds)), alpha=alpha, max_iter=max_iter,
            tol=tol, verbose=progress)
        if result.converged and result.scale_at_floor:
            warnings.warn(f"adaptive Barron fit: {result.message}", UserWarning, stacklevel=3)
        return result
    if plan.quantile:
        from .quantile import _quantile_regression

        return _quantile_regression(design, y, sample_weight, float(quantile), alpha=alpha,
                                    max_iter=max(max_iter, 200), verbose=progress)
    return run_m_estimation(plan, MProblem(design, y, sample_weight, plan.loss, start.rule,
                                           alpha), start, max_iter=max_iter, tol=tol,
                            progress=progress)


def run_m_estimation(plan, problem, start, *, max_iter, tol, progress=None):
    """IRLS or L-BFGS (``plan.solver``) on an objective (in memory or on dask) from ``start``.

    ``problem`` carries the scale rule of the start (an MM start may hold its scale fixed).
    """
    run = irls if plan.solver == "irls" else lbfgs
    return run(problem, start.beta, start.scale, max_iter=max_iter, tol=tol, verbose=progress)
