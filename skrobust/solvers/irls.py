"""IRLS with Newton steps over an M-estimation objective (:mod:`skrobust.design.objective`).

The loops below see the data only through the objective's methods, so the
same iterations run in memory (:class:`~skrobust.design.objective.MProblem`)
and on dask (:class:`skrobust.dask.DaskObjective`).

What ``irls`` does
------------------
- Redescending (non-convex) losses: classic IRLS.  Each iteration
  re-estimates the scale from the current residuals (MASS::rlm's order),
  then solves the weighted ridge problem with weights
  ``s * weight(r / sigma) / w0``: a majorise-minimise step, so the
  objective never increases at a fixed scale, and the local optimum reached
  from a start is the one IRLS has always reached.  An oscillating scale
  takes half steps, and steps that shrink geometrically along one direction
  are extrapolated (:func:`_extrapolate`): the fixed point is the same.
- Convex losses, scale re-estimated (MAD, proposal 2) or fixed: each
  iteration re-estimates the scale, then takes a Newton step at that scale
  (Hessian ``2 sum s psi'(u) x x' / w0 + 2 alpha``) with a backtracking
  (Armijo) line search on the objective; when the Hessian is singular or the
  line search fails it takes the IRLS step instead.  The fixed point (the
  gradient vanishes at the scale of the final residuals) is IRLS's.
- Convex losses with the joint scale: Newton steps on ``(beta, sigma)``
  together.  With ``u = r / sigma`` the Hessian is
  ``2 / (w0 sigma) sum s psi'(u) [x, u] [x, u]'`` plus ``2 alpha`` on the
  coefficients (one weighted Gram of ``[x, 1, u]``); the objective is jointly
  convex, so a backtracking line search makes every step a descent step.
  The fallback is the old alternation: the exact scale for the current
  residuals (a one-dimensional root), then the IRLS step at that scale.
- Re-estimated scales (MAD, proposal 2; also L-BFGS's outer loop): the
  scale of the residuals is not taken as it is but through a secant step on
  the fixed point ``s = g(s)`` (:class:`~skrobust.scale.SecantScale`), which
  turns the slow or cycling alternation of scale and coefficients (factor
  -0.956 per step on robustbase's ``cloud`` data) into a few steps; classic
  IRLS, whose coefficients lag the scale, is only damped.  Same fixed point.

Warm start (convex losses, ``n >= 2**16`` rows): the fit first runs on a
fixed, stratified sample of ``2**14`` rows (weights rescaled to the full
total), and the full data start from that fit (``beta0=None`` otherwise
means least squares).  The optimum does not depend on the start.

Hessian sample (convex losses, ``n >= 2**18`` rows): the Newton steps on
the full data use the exact gradient and the Hessian of a fixed stratified
sample of ``2**16`` rows at the current iterate.  A Hessian accurate to a
few per cent makes each step cut the error by about 30 (linear
convergence), and the optimum is the same, since the gradient is exact.
Its Gram is built once and then updated with the rows whose ``psi'``
changed (for Huber's loss, the rows crossing ``+-c``), see
:class:`_Hessian`; for the joint scale the extra row and column come from
that Gram and the residuals without touching the rows.  The exact gradient
changes of the last full steps (exact Hessian products) correct each step
on the span of those steps (:func:`_secant_correction`), which speeds the
linear convergence up by a factor 2-3 over a few iterations.

MM step on many rows (redescending loss, fixed scale, ``n >= 2**18``): the
IRLS step ``(A'VA + P) delta = -grad / 2`` takes ``A'VA`` from the same row
sample (:func:`_irls_sampled`) and the exact gradient from one fused pass,
with the secant correction above; a step that does not descend is replaced
by the exact IRLS step.  The fixed point is IRLS's: the fit equals the
exact path's to the solver's tolerance.  Below the threshold (and for
re-estimated scales) the exact IRLS path runs.

Passes over ``X``: each evaluation (residuals, objective, gradient, and the
convergence test's change of the fitted values) is one read of ``X``:
one compiled loop over the rows for Huber's and Tukey's losses on dense
C-contiguous float64 ``X`` (:func:`skrobust.losses._fused.row_pass`),
otherwise a fused pass over row blocks (:meth:`LinearDesign.residual_pass`).
No ``n x d`` array is allocated; residual vectors are reused between
iterations.  The stopping rule "the fitted values move less than
``tol * scale``" is also applied to the *predicted* move of the next step
(its weighted norm on the warm-start sample): a step already below the
tolerance is taken without evaluating it, which saves the last pass.
Everything is deterministic (fixed sample seed, fixed summation orders).

Solvers never warn and never raise on a numerical hiccup: they return the
best iterate with ``converged=False`` and a message; the estimator turns
that into a ``ConvergenceWarning``.
"""

from __future__ import annotations

import math

import numpy as np

from .._linalg import cholesky_solve, penalty_diagonal
from .._progress import Progress
from ..design.objective import sample_rows
from ..scale import SecantScale
from ._result import SolverResult
from .hessian import Direction, secant_correction

#: largest row sample whose Hessian stands in for the full one on large problems
HESSIAN_ROWS = 1 << 16
#: problems with at least this many rows use a Hessian sample (of at most n / 4 rows)
HESSIAN_MIN_ROWS = 1 << 18
#: rows of the sample fitted first, as the warm start
WARM_ROWS = 1 << 14
#: problems with at least this many rows start from the warm-start sample's fit
WARM_MIN_ROWS = 1 << 16
_SECANT_PAIRS = 4  # earlier steps whose exact Hessian products correct a sampled-Hessian step
_ARMIJO = 1e-4
_MAX_BACKTRACK = 30

__all__ = ["irls"]


def _converged(problem, r_old, r_new, scale_old, scale_new, tol, change2=math.nan) -> bool:
    if math.isnan(change2):
        change2 = problem.change2(r_old, r_new)
    change = math.sqrt(max(change2, 0.0) / problem.total_weight)
    return (change <= tol * scale_new + problem.atol
            and abs(scale_new - scale_old) <= tol * scale_new)


def _start(problem, beta0):
    """``beta0``, else (ridge) least squares; for a convex loss on many rows, on a row sample
    (whose optimum does not matter: it only starts the fit)."""
    if beta0 is not None:
        return np.array(beta0, dtype=np.float64)
    rows = None
    if (problem.newton and problem.capabilities.row_sample
            and problem.n_samples >= WARM_MIN_ROWS):
        rows = sample_rows(problem.n_samples, WARM_ROWS)
    return problem.least_squares(rows)


def rescaled(secant, rule, residuals, rows, scale):
    """The scale for the next step: the rule's scale of the residuals, accelerated by
    ``secant`` (a :class:`~skrobust.scale.SecantScale`) when the rule re-estimates it.
    ``rows`` are the objective's :attr:`~skrobust.design.objective.Objective.rows`."""
    proposed = rule.update(residuals, rows, scale)
    return proposed if rule.fixed else secant(scale, proposed)


def _hessian_rows(problem):
    """The rows whose Hessian stands in for the full one (None: all rows)."""
    n = problem.n_samples
    caps = problem.capabilities
    if n < HESSIAN_MIN_ROWS or not caps.row_sample or caps.hessian_in_pass:
        return None
    rows = sample_rows(n, min(HESSIAN_ROWS, n // 4))
    return rows if problem.hessian_rows_weight(rows) > 0 else None


def irls(problem, beta0=None, scale0=None, max_iter=100, tol=1e-8, verbose=0,
         phase="irls"):
    """Iteratively reweighted least squares (Newton steps for convex losses).

    See the module docstring for the step taken for each kind of loss and
    scale.  ``beta0=None`` starts from least squares (or, for a large
    problem with a convex loss, from the fit of a row sample).  Stops when
    the fitted values move less than ``tol * scale`` (root mean square) and
    the scale by less than ``tol`` relatively.  ``verbose`` is an int or a
    :class:`~skrobust._progress.Progress` reporter (one line per iteration,
    under ``phase``).
    """
    progress = Progress.of(verbose)
    if not problem.newton:
        result = _irls_classic(problem, _start(problem, beta0), scale0, max_iter, tol, progress,
                               phase)
        progress.finish(phase, result.converged, result.n_iter, result.message)
        return result
    n = problem.n_samples
    hessian_rows = _hessian_rows(problem)
    beta = beta0
    metric = None
    if n >= WARM_MIN_ROWS and problem.capabilities.row_sample:
        warm_problem = problem.subproblem(sample_rows(n, WARM_ROWS))
        if warm_problem is not None:
            progress.line("warm-start", f"fit on {WARM_ROWS} sampled rows")
            warm = _newton(warm_problem, _start(warm_problem, beta0), scale0, None, None,
                           max_iter, max(tol, 1e-4), progress, phase="warm-start")
            progress.finish("warm-start", warm.converged, warm.n_iter, warm.message)
            if np.all(np.isfinite(warm.beta)) and math.isfinite(warm.scale) and warm.scale > 0:
                beta, scale0 = warm.beta, warm.scale
            # weighted Gram of the warm-start rows: predicts how far a step moves the fit
            metric = warm_problem.metric(problem.total_weight)
    result = _newton(problem, _start(problem, beta), scale0, hessian_rows, metric, max_iter, tol,
                     progress, phase)
    progress.finish(phase, result.converged, result.n_iter, result.message)
    return result


def _irls_classic(problem, beta, scale0, max_iter, tol, progress, phase="irls"):
    s = problem.rows
    rule = problem.scale_rule
    if rule.fixed and scale0 is not None:
        rows = _hessian_rows(problem)
        if rows is not None:
            return _irls_sampled(problem, beta, float(scale0), rows, max_iter, tol, progress,
                                 phase)
    r = problem.residuals(beta)
    scale = rule.initial(r, s) if scale0 is None else float(scale0)
    # the coefficients lag the scale by a reweighting step: damping only (see SecantScale)
    secant = SecantScale(rule.floor, min_slope=-1.0, max_slope=0.0)
    history = []
    converged = False
    n_iter = 0
    last_step = None
    for n_iter in range(1, max_iter + 1):
        scale_old = scale
        scale = rescaled(secant, rule, r, s, scale)
        move = math.log(scale / scale_old) if scale > 0 and scale_old > 0 else 0.0
        beta_new = problem.irls_step(r, scale)
        if beta_new is None:
            return SolverResult(beta, scale, n_iter, False, problem.objective(beta, scale, r),
                                "every robustness weight is zero", history)
        redescending = bool(problem.loss.redescending)
        r_new, change2, step, products = problem.advance(beta_new, r, last_step, redescending)
        done = _converged(problem, r, r_new, scale_old, scale, tol, change2) and n_iter > 1
        if not done and redescending:
            beta_new, r_new, last_step = _extrapolate(problem, beta, beta_new, r_new, scale,
                                                      move, step, products)
        beta, r = beta_new, r_new
        if progress:
            history.append(progress.iteration(phase, n_iter, problem.objective(beta, scale, r),
                                              scale, step="irls"))
        if done:
            converged = True
            break
    return SolverResult(beta, scale, n_iter, converged, problem.objective(beta, scale, r),
                        "" if converged else f"IRLS did not converge in {max_iter} iterations",
                        history)


def _irls_sampled(problem, beta, scale, rows, max_iter, tol, progress, phase):
    """IRLS at a fixed scale on many rows, each step's weighted Gram from a row sample.

    The IRLS step solves ``(A'VA + P) delta = -grad / 2`` (``V`` the robustness
    weights, ``grad`` the objective's gradient).  Here ``A'VA`` is the Gram of
    the Hessian row sample (weights rescaled to the full total), the gradient is
    exact (one fused pass also gives the residuals and the objective), and the
    last full steps' exact gradient changes correct the step on their span
    (:func:`~skrobust.solvers.hessian.secant_correction`).  The fixed point
    (zero gradient) is IRLS's; a step that does not descend is replaced by the
    exact IRLS step (a majorise-minimise step: it always descends).
    """
    design, sample, weights = problem.hessian_sample(rows)  # sample: its rows in design
    weights = weights * (problem.total_weight / float(weights.sum()))
    loss, w0, p = problem.loss, problem.w0, problem.n_params
    pen = penalty_diagonal(p, problem.fit_intercept, problem.alpha * problem.penalty_factor(scale))
    point = problem.evaluate(beta, scale)
    secant = []
    spare = [None]
    history = []
    converged = False
    message = ""
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        # dask: the pass returned the sample's residuals (the residuals are a handle)
        r_rows = point.r_rows if point.r_rows is not None else point.r[rows]
        G = design.gram_ext(weights * (loss.weight(r_rows / scale) / w0), rows=sample)
        G[np.diag_indices_from(G)] += pen
        delta = cholesky_solve(G, -0.5 * point.grad)
        if delta is not None and secant:
            delta = secant_correction(delta, point.grad, secant)
        new, step = None, "irls"
        if delta is not None and np.all(np.isfinite(delta)):
            new = problem.evaluate(point.beta + delta, scale, reference=point.r, out=spare[0])
            slack = 1e-12 * abs(point.f) + problem.total_weight * problem.atol**2
            if new.f <= point.f + slack:
                step = "sampled"
                secant.append((new.beta - point.beta, new.grad - point.grad))
                del secant[:-_SECANT_PAIRS]
            else:
                spare[0], new = new.r, None
        if new is None:
            beta_new = problem.irls_step(point.r, scale)
            if beta_new is None:
                message = "every robustness weight is zero"
                break
            new = problem.evaluate(beta_new, scale, reference=point.r, out=spare[0])
            secant.clear()
        spare[0] = None
        done = _converged(problem, point.r, new.r, scale, scale, tol, new.change2) and n_iter > 1
        if progress:
            history.append(progress.iteration(phase, n_iter, new.f, scale, step=step))
        spare[0] = point.r
        point = new
        if done:
            converged = True
            break
    if not converged and not message:
        message = f"IRLS did not converge in {max_iter} iterations"
    return SolverResult(point.beta, scale, n_iter, converged, point.f, message, history)


#: consecutive IRLS steps this parallel (cosine of the fitted-value changes) are extrapolated
_PARALLEL_STEPS = 0.99
_MAX_EXTRAPOLATION = 10.0


def _extrapolate(problem, beta, beta_new, r_new, scale, scale_move, step, products):
    """Aitken's extrapolation of slowly converging IRLS steps, kept only when it descends.

    Used for redescending losses (convex ones take Newton steps where the
    design allows).  When consecutive steps change the fitted values along nearly the same
    direction, shrinking by a ratio ``q``, IRLS converges linearly (slowly
    for redescending losses with a re-estimated scale: ``q`` near 1) and the
    remaining steps sum to about ``q / (1 - q)`` times the last one, for the
    coefficients and for ``log(scale)`` (which moved by ``scale_move``).  The
    step ``1 / (1 - q)`` times the IRLS step is taken when, at the
    extrapolated scale, its objective is no larger than the IRLS step's.
    ``step`` is the fitted values' change and ``products`` its weighted products
    with the last one (:meth:`~skrobust.design.objective.MProblem.step_products`).
    Returns ``(beta, r, step)``, ``step`` for the next call.
    """
    if products is None:
        return beta_new, r_new, step
    a, b, c = products
    if not (b > 0 and c > 0 and a > _PARALLEL_STEPS * math.sqrt(b * c) and a < b):
        return beta_new, r_new, step
    omega = min(1.0 / (1.0 - a / b), _MAX_EXTRAPOLATION)
    beta_try = beta + omega * (beta_new - beta)
    r_try = problem.residuals(beta_try)
    limit = scale * math.exp((omega - 1.0) * scale_move)
    if problem.objective(beta_try, limit, r_try) <= problem.objective(beta_new, limit, r_new):
        return beta_try, r_try, None  # a new geometric sequence starts
    return beta_new, r_new, step


def _line_search(problem, point, delta, slope, spare):
    """Backtracking (Armijo) along ``delta``: (accepted point, step length), or (None, 0).

    ``spare[0]`` is a residual buffer free for the trials (or None).
    """
    joint = problem.joint
    p = problem.n_params
    floor = problem.scale_rule.floor
    t = 1.0
    # tolerate rounding in the objective (a sum over n terms) near the optimum; the
    # absolute term covers an exact fit, where the objective itself is rounding noise
    slack = 1e-12 * abs(point.f) + problem.total_weight * problem.atol**2
    for _ in range(_MAX_BACKTRACK):
        beta = point.beta + t * delta[:p]
        scale = point.scale + t * delta[p] if joint else point.scale
        if scale > floor:
            trial = problem.evaluate(beta, scale, reference=point.r, out=spare[0],
                                     newton=True)
            if trial.f <= point.f + _ARMIJO * t * slope + slack:
                spare[0] = None
                return trial, t
            spare[0] = trial.r
        t *= 0.5
    return None, 0.0


def _fallback(problem, point, spare):
    """The monotone IRLS step: exact scale for the residuals (joint), then weighted ridge."""
    scale = point.scale
    if problem.joint:
        scale = problem.scale_rule.update(point.r, problem.rows, scale)
    beta = problem.irls_step(point.r, scale)
    if beta is None:
        return None
    new = problem.evaluate(beta, scale, reference=point.r, out=spare[0], newton=True)
    spare[0] = None
    return new


def _newton(problem, beta, scale0, hessian_rows, metric, max_iter, tol, progress,
            phase="irls"):
    """Newton steps (see the module docstring); ``metric`` enables the final step without a pass."""
    s = problem.rows
    rule = problem.scale_rule
    joint = problem.joint
    floor = rule.floor
    p = problem.n_params
    if scale0 is None:
        scale0 = rule.initial(problem.residuals(beta), s)
    point = problem.evaluate(beta, max(float(scale0), floor), newton=True)
    if joint and point.scale <= floor:
        point = problem.rescale(point, rule.update(point.r, s, point.scale))
    direction = Direction(problem, hessian_rows)
    secant = []  # (step, gradient change) of the last full steps, when the Hessian is sampled
    scale_secant = SecantScale(floor)
    spare = [None]  # a residual buffer no live point uses
    history = []
    converged = False
    message = ""
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        scale_old = point.scale
        if not joint:
            point = problem.rescale(point, rescaled(scale_secant, rule, point.r, s, point.scale))
        new = None
        step = "newton"
        t = 0.0
        delta = direction(point)
        if delta is not None and np.all(np.isfinite(delta)) and secant:
            delta = secant_correction(delta, point.grad, secant)
        if delta is not None and np.all(np.isfinite(delta)):
            slope = float(np.dot(point.grad, delta))
            if slope < 0:
                if metric is not None:
                    # the step is below the tolerance (the stopping rule, applied to the
                    # predicted move of the fitted values): take it without another pass
                    move = math.sqrt(max(float(delta[:p] @ metric @ delta[:p]), 0.0))
                    dscale = abs(delta[p]) if joint else 0.0
                    if (move <= tol * point.scale and dscale <= tol * point.scale
                            and abs(point.scale - scale_old) <= tol * point.scale
                            and (joint or n_iter > 1)):
                        beta = point.beta + delta[:p]
                        scale = point.scale + delta[p] if joint else point.scale
                        return SolverResult(beta, scale, n_iter, True, point.f, "", history)
                new, t = _line_search(problem, point, delta, slope, spare)
        if new is None:
            step = "irls"
            new = _fallback(problem, point, spare)
            if new is None:
                message = "every robustness weight is zero"
                break
        # a short (backtracked) step says nothing about convergence
        done = ((t == 1.0 or step == "irls")
                and _converged(problem, point.r, new.r, scale_old, new.scale, tol, new.change2)
                and (joint or n_iter > 1))
        if progress:
            change = math.sqrt(max(new.change2, 0.0) / problem.total_weight) / new.scale
            history.append(progress.iteration(phase, n_iter, new.f, new.scale, step=step,
                                              change=change, grams=direction.grams))
        if hessian_rows is not None and step == "newton" and t == 1.0:
            # a full step: (step, gradient change) is an exact product with the Hessian
            # averaged along the step, which corrects the next steps (see _secant_correction)
            moved = new.beta - point.beta
            if joint:
                moved = np.append(moved, new.scale - point.scale)
            secant.append((moved, new.grad - point.grad))
            del secant[:-_SECANT_PAIRS]
        if point.r is not new.r:
            spare[0] = point.r
        point = new
        if done:
            converged = True
            break
    if not converged and not message:
        message = f"IRLS did not converge in {max_iter} iterations"
    return SolverResult(point.beta, point.scale, n_iter, converged, point.f, message, history)

