"""M-estimation of linear models: the problem, and IRLS (with Newton steps) on plain arrays.

The problem is fixed by a design, a target, frequency weights ``s``, a
loss, a scale rule and an L2 penalty ``alpha`` on the coefficients (never
the intercept).  With ``w0 = weight(0)`` the objective at a scale ``sigma`` is

    sum_i s_i 2 sigma**2 rho(r_i / sigma) / w0 + alpha ||coef||**2

which is exactly Ridge's objective for the L2 loss.  Owen's joint scale
(HuberRegressor's objective) uses ``sum_i s_i (sigma + 2 sigma rho(r_i/sigma)/w0)
+ alpha ||coef||**2`` instead, minimised over the scale too.

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
from dataclasses import dataclass, field

import numpy as np

from .._progress import Progress
from ..losses._fused import block_sums, curvature, row_pass
from ..scale import SecantScale
from .design import LinearDesign, cholesky_solve, penalty_diagonal, solve_normal_equations

#: largest row sample whose Hessian stands in for the full one on large problems
HESSIAN_ROWS = 1 << 16
#: problems with at least this many rows use a Hessian sample (of at most n / 4 rows)
HESSIAN_MIN_ROWS = 1 << 18
#: rows of the sample fitted first, as the warm start
WARM_ROWS = 1 << 14
#: problems with at least this many rows start from the warm-start sample's fit
WARM_MIN_ROWS = 1 << 16
#: relative (L1) change of the Hessian weights below which the last Gram is reused
_HESSIAN_REUSE = 2e-3
#: fraction of changed weights up to which the Gram is updated rather than rebuilt
_HESSIAN_UPDATE = 0.25
_SAMPLE_SEED = 20070101  # any fixed seed: fits must be deterministic
_SECANT_PAIRS = 4  # earlier steps whose exact Hessian products correct a sampled-Hessian step
_ARMIJO = 1e-4
_MAX_BACKTRACK = 30


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
class _Point:
    """An evaluated iterate: residuals, objective and gradient at (beta, scale)."""

    beta: np.ndarray
    scale: float
    r: np.ndarray
    f: float
    grad: np.ndarray  # over beta, and the scale last for the joint objective
    change2: float = math.nan  # sum s (r - reference)**2, when a reference was given


def sample_rows(n_samples: int, n_rows: int) -> np.ndarray:
    """A deterministic stratified row sample: one random row in each of ``n_rows`` strata.

    Examples
    --------
    >>> from skrobust.solvers.mestimate import sample_rows
    >>> rows = sample_rows(1000, 10)
    >>> rows.size, bool((rows[1:] > rows[:-1]).all()), bool(rows.max() < 1000)
    (10, True, True)
    """
    m = int(min(n_rows, n_samples))
    edges = (np.arange(m + 1, dtype=np.int64) * n_samples) // m
    rng = np.random.default_rng(_SAMPLE_SEED)
    return edges[:-1] + (rng.random(m) * np.diff(edges)).astype(np.int64)


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
        # a design with row blocks and Grams (LinearDesign) gets Newton steps, the fused
        # pass and the row sample; any other design (the exact kernel) needs only
        # predict, rmatvec, penalty_value, penalty_grad and solve_weighted
        self.linear = hasattr(self.design, "gram_ext") and hasattr(self.design, "residual_pass")
        self.penalty = penalty_diagonal(self.design.n_params, self.design.fit_intercept,
                                        self.alpha)
        # absolute resolution of the residuals: below it, data are fitted exactly
        rms_y = math.sqrt(float(np.dot(self.sample_weight, self.y**2)) / self.total_weight)
        self.atol = 1e-12 * rms_y + 1e-300
        self._fused = block_sums(self.loss)
        self._rows = row_pass(self.loss) if self.linear else None

    def exact_fit(self, residuals) -> bool:
        """Whether the residuals vanish to rounding (an interpolating fit)."""
        rms = math.sqrt(float(np.dot(self.sample_weight, residuals**2)) / self.total_weight)
        return rms <= 1e3 * self.atol

    @property
    def joint(self) -> bool:
        return bool(self.scale_rule.penalty_in_scale_units)

    @property
    def newton(self) -> bool:
        """Whether Newton steps apply: a convex, symmetric loss (``psi' >= 0``) and a design
        that takes them (a linear design; an exact kernel with a penalty and no joint scale).
        """
        if not (bool(self.loss.convex) and bool(getattr(self.loss, "symmetric", True))):
            return False
        if self.linear:
            return True
        return (hasattr(self.design, "newton_step") and not self.joint
                and self.alpha > getattr(self.design, "jitter", 0.0))

    def penalty_factor(self, scale: float) -> float:
        return scale if self.joint else 1.0

    def objective(self, beta, scale, residuals=None) -> float:
        r = self.y - self.design.predict(beta) if residuals is None else residuals
        rho = self.loss.rho(r / scale)
        data = 2.0 * float(np.dot(self.sample_weight, rho)) / self.w0
        pen = self.design.penalty_value(beta, self.alpha)
        if self.joint:
            return scale * (self.total_weight + data) + pen
        return scale * scale * data + pen

    def irls_weights(self, residuals, scale):
        """Sample weight times the normalised robustness weight, ``s * weight(r/sigma) / w0``."""
        return self.sample_weight * (self.loss.weight(residuals / scale) / self.w0)

    def subproblem(self, rows) -> MProblem | None:
        """The problem on ``rows``, weights rescaled to the same total (None if they are all 0)."""
        s = self.sample_weight[rows]
        total = float(s.sum())
        if not total > 0:
            return None
        return MProblem(self.design.subset(rows), self.y[rows], s * (self.total_weight / total),
                        self.loss, self.scale_rule, self.alpha)

    # --------------------------------------------------------- evaluation
    def evaluate(self, beta, scale, reference=None, out=None) -> _Point:
        """Residuals, objective and gradient at ``(beta, scale)`` in one pass over the design.

        With ``reference`` residuals, the pass also sums ``s (r - reference)**2``
        (the convergence test's change of the fitted values).
        """
        loss, s = self.loss, self.sample_weight
        if self._rows is not None:
            done = self.design.row_pass(beta, self.y, self._rows,
                                        (s, 1.0 / scale, reference), out=out)
            if done is not None:
                r, xg, sums = done
                change2 = sums[3] if reference is not None else math.nan
                return self._point(beta, scale, r, xg, [sums[0], sums[1], change2])
        joint = self.joint
        sums = [0.0, 0.0, 0.0]  # sum s rho(u), sum s u psi(u), sum s (r - reference)**2
        fused = self._fused

        def change(rb, sb, rows):
            if reference is not None:
                diff = rb - reference[rows]
                sums[2] += float(np.dot(sb * diff, diff))

        if fused is not None:
            inv_scale = 1.0 / scale
            buf = [np.empty(0)]

            def pointwise(rb, rows):
                if buf[0].size < rb.size:
                    buf[0] = np.empty(rb.size)
                g = buf[0][:rb.size]
                ref = rb if reference is None else reference[rows]
                a, b, c = fused(rb, s[rows], inv_scale, g, ref)
                sums[0] += a
                sums[1] += b
                sums[2] += c
                return g
        else:
            def pointwise(rb, rows):
                u = rb / scale
                sb = s[rows]
                psi = loss.psi(u)
                sums[0] += float(np.dot(sb, loss.rho(u)))
                if joint:
                    sums[1] += float(np.dot(sb, u * psi))
                change(rb, sb, rows)
                return sb * psi

        if self.linear:
            r, xg = self.design.residual_pass(beta, self.y, pointwise, out=out)
        else:
            r = self.y - self.design.predict(beta)
            g = pointwise(r, slice(0, r.shape[0]))
            xg = self.design.rmatvec(g)
        if reference is None:
            sums[2] = math.nan
        return self._point(beta, scale, r, xg, sums)

    def rescale(self, point: _Point, scale: float) -> _Point:
        """The same coefficients evaluated at another scale (residuals reused)."""
        if scale == point.scale:
            return point
        loss, s = self.loss, self.sample_weight
        if self._fused is not None:
            g = np.empty_like(point.r)
            sums = list(self._fused(point.r, s, 1.0 / scale, g, point.r))[:2]
        else:
            u = point.r / scale
            psi = loss.psi(u)
            g = s * psi
            sums = [float(np.dot(s, loss.rho(u))), float(np.dot(g, u)) if self.joint else 0.0]
        return self._point(point.beta, scale, point.r, self.design.rmatvec(g), sums)

    def _point(self, beta, scale, r, xg, sums) -> _Point:
        change2 = sums[2] if len(sums) > 2 else math.nan
        w0 = self.w0
        pen = self.design.penalty_value(beta, self.alpha)
        pen_grad = self.design.penalty_grad(beta, self.alpha)
        data = 2.0 * sums[0] / w0
        if self.joint:
            f = scale * (self.total_weight + data) + pen
            grad = np.append(-2.0 * xg / w0 + pen_grad,
                             self.total_weight + data - 2.0 * sums[1] / w0)
        else:
            f = scale * scale * data + pen
            grad = -2.0 * scale * xg / w0 + pen_grad
        return _Point(np.asarray(beta, dtype=np.float64), float(scale), r, f, grad, change2)


class _Hessian:
    """The Hessian of a problem at successive iterates, from all rows or a fixed row sample.

    It keeps ``K``, the Gram of ``[A, y]`` with weights ``v = s psi'(u)``
    (sample weights rescaled to the full total), and its weights.  At the
    next iterate:

    - if at most a quarter of them changed (Huber's ``psi'`` is 0 or 1, so
      only rows crossing ``+-c`` change), the Gram is updated exactly with
      the changed rows (cheap; and on a wide design one row of high leverage
      changes the Newton step a lot);
    - otherwise, weights that changed by less than ``_HESSIAN_REUSE``
      (relative L1) keep the last Gram (a Hessian off by less than that);
    - otherwise it is rebuilt.

    With ``K = [[A'VA, A'Vz], [z'VA, z'Vz]]``, ``z`` the residuals when the
    Gram was built (at ``beta_ref``), the joint scale's extra row
    ``A'V u = (A'Vz - A'VA (beta - beta_ref)) / sigma`` needs no pass over
    the rows.
    """

    def __init__(self, problem: MProblem, rows=None):
        self.problem = problem
        self.rows = rows
        s = problem.sample_weight
        if rows is None:
            self.s = s
        else:
            sub = s[rows]
            self.s = sub * (problem.total_weight / float(sub.sum()))
        self.v = None
        self.K = None
        self.z = None  # residuals of the rows at beta_ref, the Gram's extra column
        self.beta_ref = None
        self.grams = 0  # full Gram builds, for the diagnostics

    def __call__(self, point: _Point):
        problem = self.problem
        design = problem.design
        r = point.r if self.rows is None else point.r[self.rows]
        u = r / point.scale
        v = curvature(problem.loss, u, self.s)
        if self.K is None:
            self._build(v, point, r)
        else:
            diff = v - self.v
            changed = np.flatnonzero(diff)
            if changed.size <= _HESSIAN_UPDATE * v.size:
                # few rows changed (Huber's psi' is 0 or 1): the exact update is cheap, and a
                # single high-leverage row can matter (a wide design stalls without it)
                if changed.size:
                    idx = changed if self.rows is None else self.rows[changed]
                    self.K += design.gram_ext(diff[changed], [self.z[changed]], rows=idx)
                self.v = v
            elif float(np.abs(diff).sum()) <= _HESSIAN_REUSE * float(np.abs(self.v).sum()):
                v = self.v  # many rows changed a little: keep the last Gram, and its weights
            else:
                self._build(v, point, r)
        p = design.n_params
        K = self.K[:p, :p]
        if problem.joint:
            H = np.empty((p + 1, p + 1))
            H[:p, :p] = K
            # A'V r = A'V z - A'VA (beta - beta_ref), as r = z - A (beta - beta_ref)
            H[:p, p] = H[p, :p] = (self.K[:p, p] - K @ (point.beta - self.beta_ref)) / point.scale
            H[p, p] = float(np.dot(v * u, u))
            H *= 2.0 / (problem.w0 * point.scale)
            H[np.arange(p), np.arange(p)] += 2.0 * problem.penalty
        else:
            H = K * (2.0 / problem.w0)
            H[np.diag_indices_from(H)] += 2.0 * problem.penalty
        return H

    def _build(self, v, point, r):
        # the extra column holds residuals, not y: A'V r is then a difference of numbers of
        # the size of the residuals (no cancellation when |y| >> scale)
        self.z = np.array(r, dtype=np.float64)  # a copy: point.r is a reused buffer
        self.beta_ref = point.beta.copy()
        self.K = self.problem.design.gram_ext(v, [self.z], rows=self.rows)
        self.v = v
        self.grams += 1


class _Direction:
    """The Newton direction at a point: from the Hessian of a linear design, or the
    exact kernel design's own Newton step (:meth:`KernelDesign.newton_step`)."""

    def __init__(self, problem: MProblem, hessian_rows=None):
        self.problem = problem
        self.hessian = _Hessian(problem, hessian_rows) if problem.linear else None

    @property
    def grams(self) -> int:
        return self.hessian.grams if self.hessian is not None else 0

    def __call__(self, point: _Point):
        if self.hessian is not None:
            return cholesky_solve(self.hessian(point), -point.grad)
        problem = self.problem
        loss, s, w0 = problem.loss, problem.sample_weight, problem.w0
        u = point.r / point.scale
        # derivatives of the data term with respect to the fitted values
        curvature = 2.0 * s * loss.psi_deriv(u) / w0
        gradient = 2.0 * point.scale * s * loss.psi(u) / w0
        target = problem.design.newton_step(curvature, problem.y - point.r, gradient,
                                            problem.alpha)
        return None if target is None else target - point.beta


def _secant_correction(delta, grad, pairs):
    """Correct a Newton step of an approximate Hessian with exact Hessian products.

    Each earlier full step ``s_j`` came with the change ``y_j`` of the exact
    gradient, so ``y_j = H s_j`` for the Hessian ``H`` averaged along the
    step.  The corrected step ``delta + S a`` satisfies the Galerkin
    condition ``S' (H (delta + S a) + grad) = 0`` on the span of the earlier
    steps, which needs only ``S'H = Y'``:
    ``a = -(S'Y)^-1 (S'grad + Y'delta)``.  The span of the earlier steps is
    a Krylov-like space of the iteration, so the correction removes the
    part of the error that lives there (measured: the error after 4-5
    steps is 2-3 times smaller).  Returns ``delta`` unchanged when ``S'Y``
    is not safely positive definite.
    """
    S = np.column_stack([pair[0] for pair in pairs])
    Y = np.column_stack([pair[1] for pair in pairs])
    SY = S.T @ Y
    a = cholesky_solve(0.5 * (SY + SY.T), -(S.T @ grad + Y.T @ delta), rcond=1e-6)
    if a is None or not np.all(np.isfinite(a)):
        return delta
    return delta + S @ a


def _converged(problem, r_old, r_new, scale_old, scale_new, tol, change2=math.nan) -> bool:
    s = problem.sample_weight
    if math.isnan(change2):
        change2 = float(np.dot(s, (r_new - r_old) ** 2))
    change = math.sqrt(max(change2, 0.0) / problem.total_weight)
    return (change <= tol * scale_new + problem.atol
            and abs(scale_new - scale_old) <= tol * scale_new)


def least_squares_start(design, y, sample_weight, alpha=0.0, sample=False):
    """(Ridge) least squares, the usual start; with ``sample=True`` and many rows, on a sample.

    The sample is for convex losses, whose optimum does not depend on the start.
    """
    if not hasattr(design, "gram"):
        return design.solve_weighted(sample_weight, y, alpha)
    rows = None
    if sample and design.n_samples >= WARM_MIN_ROWS:
        rows = sample_rows(design.n_samples, WARM_ROWS)
        if not sample_weight[rows].sum() > 0:
            rows = None
    if rows is not None:
        design, y, sample_weight = design.subset(rows), y[rows], sample_weight[rows]
    G, h = design.gram(sample_weight, y)
    G[np.diag_indices_from(G)] += penalty_diagonal(design.n_params, design.fit_intercept, alpha)
    return solve_normal_equations(G, h)


def _start(problem, beta0):
    if beta0 is not None:
        return np.array(beta0, dtype=np.float64)
    return least_squares_start(problem.design, problem.y, problem.sample_weight, problem.alpha,
                               sample=problem.newton)


def rescaled(secant, rule, residuals, sample_weight, scale):
    """The scale for the next step: the rule's scale of the residuals, accelerated by
    ``secant`` (a :class:`~skrobust.scale.SecantScale`) when the rule re-estimates it."""
    proposed = rule.update(residuals, sample_weight, scale)
    return proposed if rule.fixed else secant(scale, proposed)


def _irls_beta(problem, r, scale):
    """The IRLS (weighted ridge) step at a fixed scale, or None if every weight is zero."""
    v = problem.irls_weights(r, scale)
    if not np.any(v > 0):
        return None
    alpha = problem.alpha * problem.penalty_factor(scale)
    return problem.design.solve_weighted(v, problem.y, alpha)


def _hessian_rows(problem):
    """The rows whose Hessian stands in for the full one (None: all rows)."""
    n = problem.design.n_samples
    if n < HESSIAN_MIN_ROWS or not problem.linear:
        return None
    rows = sample_rows(n, min(HESSIAN_ROWS, n // 4))
    return rows if problem.sample_weight[rows].sum() > 0 else None


def irls(problem: MProblem, beta0=None, scale0=None, max_iter=100, tol=1e-8, verbose=0,
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
    n = problem.design.n_samples
    hessian_rows = _hessian_rows(problem)
    beta = beta0
    metric = None
    if n >= WARM_MIN_ROWS and problem.linear:
        warm_problem = problem.subproblem(sample_rows(n, WARM_ROWS))
        if warm_problem is not None:
            progress.line("warm-start", f"fit on {WARM_ROWS} sampled rows")
            warm = _newton(warm_problem, _start(warm_problem, beta0), scale0, None, None,
                           max_iter, max(tol, 1e-4), progress, phase="warm-start")
            progress.finish("warm-start", warm.converged, warm.n_iter, warm.message)
            if np.all(np.isfinite(warm.beta)) and math.isfinite(warm.scale) and warm.scale > 0:
                beta, scale0 = warm.beta, warm.scale
            # weighted Gram of the warm-start rows: predicts how far a step moves the fit
            metric = warm_problem.design.gram_ext(warm_problem.sample_weight) / problem.total_weight
    result = _newton(problem, _start(problem, beta), scale0, hessian_rows, metric, max_iter, tol,
                     progress, phase)
    progress.finish(phase, result.converged, result.n_iter, result.message)
    return result


def _irls_classic(problem, beta, scale0, max_iter, tol, progress, phase="irls"):
    design, y, s = problem.design, problem.y, problem.sample_weight
    r = y - design.predict(beta)
    rule = problem.scale_rule
    scale = rule.initial(r, s) if scale0 is None else float(scale0)
    # the coefficients lag the scale by a reweighting step: damping only (see SecantScale)
    secant = SecantScale(getattr(rule, "floor", 0.0), min_slope=-1.0, max_slope=0.0)
    history = []
    converged = False
    n_iter = 0
    last_step = None
    for n_iter in range(1, max_iter + 1):
        scale_old = scale
        scale = rescaled(secant, rule, r, s, scale)
        move = math.log(scale / scale_old) if scale > 0 and scale_old > 0 else 0.0
        beta_new = _irls_beta(problem, r, scale)
        if beta_new is None:
            return SolverResult(beta, scale, n_iter, False, problem.objective(beta, scale, r),
                                "every robustness weight is zero", history)
        r_new = y - design.predict(beta_new)
        done = _converged(problem, r, r_new, scale_old, scale, tol) and n_iter > 1
        if not done and problem.loss.redescending:
            beta_new, r_new, last_step = _extrapolate(problem, beta, r, beta_new, r_new, scale,
                                                      move, last_step)
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


#: consecutive IRLS steps this parallel (cosine of the fitted-value changes) are extrapolated
_PARALLEL_STEPS = 0.99
_MAX_EXTRAPOLATION = 10.0


def _extrapolate(problem, beta, r, beta_new, r_new, scale, scale_move, last_step):
    """Aitken's extrapolation of slowly converging IRLS steps, kept only when it descends.

    Used for redescending losses (convex ones take Newton steps where the
    design allows).  When consecutive steps change the fitted values along nearly the same
    direction, shrinking by a ratio ``q``, IRLS converges linearly (slowly
    for redescending losses with a re-estimated scale: ``q`` near 1) and the
    remaining steps sum to about ``q / (1 - q)`` times the last one, for the
    coefficients and for ``log(scale)`` (which moved by ``scale_move``).  The
    step ``1 / (1 - q)`` times the IRLS step is taken when, at the
    extrapolated scale, its objective is no larger than the IRLS step's.
    Returns ``(beta, r, step)``, ``step`` (the fitted values' change) for the
    next call.
    """
    step = r - r_new
    if last_step is None:
        return beta_new, r_new, step
    s = problem.sample_weight
    a = float(np.dot(s * step, last_step))
    b = float(np.dot(s * last_step, last_step))
    c = float(np.dot(s * step, step))
    if not (b > 0 and c > 0 and a > _PARALLEL_STEPS * math.sqrt(b * c) and a < b):
        return beta_new, r_new, step
    omega = min(1.0 / (1.0 - a / b), _MAX_EXTRAPOLATION)
    beta_try = beta + omega * (beta_new - beta)
    r_try = problem.y - problem.design.predict(beta_try)
    limit = scale * math.exp((omega - 1.0) * scale_move)
    if problem.objective(beta_try, limit, r_try) <= problem.objective(beta_new, limit, r_new):
        return beta_try, r_try, None  # a new geometric sequence starts
    return beta_new, r_new, step


def _line_search(problem, point, delta, slope, spare):
    """Backtracking (Armijo) along ``delta``: (accepted point, step length), or (None, 0).

    ``spare[0]`` is a residual buffer free for the trials (or None).
    """
    joint = problem.joint
    p = problem.design.n_params
    floor = getattr(problem.scale_rule, "floor", 0.0)
    t = 1.0
    # tolerate rounding in the objective (a sum over n terms) near the optimum; the
    # absolute term covers an exact fit, where the objective itself is rounding noise
    slack = 1e-12 * abs(point.f) + problem.total_weight * problem.atol**2
    for _ in range(_MAX_BACKTRACK):
        beta = point.beta + t * delta[:p]
        scale = point.scale + t * delta[p] if joint else point.scale
        if scale > floor:
            trial = problem.evaluate(beta, scale, reference=point.r, out=spare[0])
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
        scale = problem.scale_rule.update(point.r, problem.sample_weight, scale)
    beta = _irls_beta(problem, point.r, scale)
    if beta is None:
        return None
    new = problem.evaluate(beta, scale, reference=point.r, out=spare[0])
    spare[0] = None
    return new


def _newton(problem, beta, scale0, hessian_rows, metric, max_iter, tol, progress,
            phase="irls"):
    """Newton steps (see the module docstring); ``metric`` enables the final step without a pass."""
    s = problem.sample_weight
    rule = problem.scale_rule
    joint = problem.joint
    floor = getattr(rule, "floor", 0.0)
    p = problem.design.n_params
    if scale0 is None:
        scale0 = rule.initial(problem.y - problem.design.predict(beta), s)
    point = problem.evaluate(beta, max(float(scale0), floor))
    if joint and point.scale <= floor:
        point = problem.rescale(point, rule.update(point.r, s, point.scale))
    direction = _Direction(problem, hessian_rows)
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
            delta = _secant_correction(delta, point.grad, secant)
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
