"""Linear classifiers on plain arrays: multinomial and one-vs-rest margin heads.

The parameters are a matrix ``B`` of shape ``(n_outputs, n_features + 1)``
(the last column is the intercept when there is one), giving linear scores
``Z = X B[:, :d]' + B[:, d]``.  The objective is

    J(B) = sum_i s_i l_i(Z_i) + alpha / 2 * ||B[:, :d]||_F**2

with frequency weights ``s`` and the intercepts unpenalised.  For the
cross-entropy this is exactly ``LogisticRegression(C=1 / alpha)``'s objective
(``C sum_i s_i l_i + ||W||**2 / 2``, divided by ``C``).

Two heads, chosen by the loss's ``kind``:

- ``"probability"``: softmax of the scores, ``l_i = l(p_i)`` on the
  probability of the given label.  Binary problems have one output ``z``
  and logits ``(0, z)`` (the binomial model, as LogisticRegression); ``K > 2``
  classes have ``K`` outputs.  The logit gradient is ``s_i w(p_i) (p_i - e_y)``.
- ``"margin"``: one-vs-rest, ``l_i = sum_k phi(y_ik z_ik)`` with ``y_ik`` in
  {-1, +1}; one output for binary problems (positive class 1).

Solvers:

- :func:`lbfgs_classifier`: L-BFGS-B on value and gradient of ``J``
  (smooth losses).
- :func:`newton_classifier`: Newton's method with the generalised Hessian
  and a line search, per one-vs-rest output (margin losses); exact to
  machine precision in a few steps for the piecewise-quadratic hinges.
- :func:`irls_classifier`: iteratively reweighted base fits.  The loss's
  weights ``v_i`` are computed from the current fit and held fixed while a
  weighted cross-entropy (probability losses) or weighted squared hinge
  (margin losses) is refitted by L-BFGS.  A fixed point is a stationary
  point of ``J`` (the gradients coincide), for any loss whose weights are
  non-negative; Blurry's negative "back-off" weights are clipped to 0 here.
  This is the only solver for the discontinuous Piecewise-zero loss, whose
  hard weights ``1[p >= c]`` are refitted until the kept set stops changing.
- :func:`warm_up`: a few L-BFGS iterations on the convex base loss (the
  "delay" of the non-convex losses).

Like every solver in :mod:`skrobust.solvers` these never import scikit-learn
and never warn: they return a :class:`~skrobust.solvers.SolverResult` with
``converged=False`` and a message.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses.probability import LogLoss
>>> from skrobust.solvers.multinomial import ClassificationProblem, lbfgs_classifier
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> y = np.array([0, 0, 1, 1])
>>> problem = ClassificationProblem(X, y, 2, np.ones(4), LogLoss(), alpha=1.0)
>>> result = lbfgs_classifier(problem, problem.initial_coef())
>>> result.converged, result.beta.shape
(True, (1, 2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._progress import Progress
from ..losses.margin import SquaredHinge
from ..losses.probability import LogLoss
from ._result import SolverResult
from .lbfgs import lbfgs_accept


def log_softmax(Z):
    """Row-wise ``log softmax`` of the scores ``Z``, stable for large and infinite scores.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.multinomial import log_softmax
    >>> np.exp(log_softmax(np.array([[0.0, np.log(3.0)]])))
    array([[0.25, 0.75]])
    """
    m = Z.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = Z - m
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@dataclass
class ClassificationProblem:
    """The fixed part of a linear classification problem.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Float64 data (CSR/CSC for sparse input).
    y : ndarray of int, shape (n_samples,)
        Label codes in ``range(n_classes)``.
    n_classes : int
        At least 2.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative frequency weights.
    loss : ProbabilityLoss or MarginLoss
        Its ``kind`` selects the head (softmax or one-vs-rest margins).
    alpha : float, default=1.0
        L2 penalty ``alpha / 2 ||W||**2`` (``alpha = 1 / C``).
    fit_intercept : bool, default=True
    standardize : bool, default=True
        Condition L-BFGS in standardised coordinates (the model does not
        change).  False keeps unit column scales (still centred): for
        kernel features ``V Lambda**(1/2)``, whose tiny-eigenvalue columns
        would otherwise get huge penalty curvature.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.margin import ModifiedHuber
    >>> from skrobust.solvers.multinomial import ClassificationProblem
    >>> p = ClassificationProblem(np.eye(3), np.array([0, 1, 2]), 3, np.ones(3), ModifiedHuber())
    >>> p.n_outputs, p.n_params
    (3, 4)
    """

    X: object
    y: np.ndarray
    n_classes: int
    sample_weight: np.ndarray
    loss: object
    alpha: float = 1.0
    fit_intercept: bool = True
    standardize: bool = True

    def __post_init__(self):
        self.sparse = sp.issparse(self.X)
        if self.sparse:
            self.X = self.X.tocsr()
        self.n_samples, self.n_features = self.X.shape
        self.n_outputs = 1 if self.n_classes == 2 else int(self.n_classes)
        self.n_params = self.n_features + int(self.fit_intercept)
        self.y = np.asarray(self.y, dtype=np.intp)
        self.sample_weight = np.asarray(self.sample_weight, dtype=np.float64)
        self.total_weight = float(self.sample_weight.sum())
        self.kind = self.loss.kind
        if self.kind == "margin":
            if self.n_outputs == 1:
                self.signs = np.where(self.y == 1, 1.0, -1.0)[:, None]
            else:
                self.signs = np.full((self.n_samples, self.n_outputs), -1.0)
                self.signs[np.arange(self.n_samples), self.y] = 1.0
        self.base_loss = SquaredHinge() if self.kind == "margin" else LogLoss()
        self.column_scale = self._column_scale()

    # ------------------------------------------------------------ linear part
    def _column_scale(self):
        # weighted feature means and standard deviations.  They only condition
        # L-BFGS (standardised, centred coordinates; the model does not
        # change), and are weighted so that repeated rows and integer weights
        # give the same iterates.
        s = self.sample_weight / self.total_weight
        if self.sparse:
            mean = np.asarray(self.X.T @ s).ravel()
            sq = np.asarray(self.X.multiply(self.X).T @ s).ravel()
        else:
            mean = s @ self.X
            sq = s @ (self.X * self.X)
        sd = np.sqrt(np.maximum(sq - mean * mean, 0.0))
        sd = np.where(sd > 1e-12 * max(1.0, float(np.max(np.abs(mean), initial=0.0))), sd, 1.0)
        if not self.standardize:
            sd = np.ones_like(sd)
        self.column_mean = mean if self.fit_intercept else np.zeros_like(mean)
        if self.fit_intercept:
            sd = np.append(sd, 1.0)
        return sd

    def scores(self, B):
        """Linear scores ``Z`` of shape ``(n_samples, n_outputs)``."""
        d = self.n_features
        Z = np.asarray(self.X @ B[:, :d].T, dtype=np.float64)
        if self.fit_intercept:
            Z = Z + B[:, d]
        return Z

    def backprop(self, G):
        """Gradient with respect to ``B`` of ``sum(G * Z)``, without the penalty."""
        g = np.asarray(self.X.T @ G, dtype=np.float64).T
        if self.fit_intercept:
            g = np.hstack([g, G.sum(axis=0)[:, None]])
        return g

    def full_logits(self, Z):
        """Logits over all classes: ``(0, z)`` for binary problems, ``Z`` otherwise."""
        if self.n_outputs == 1:
            return np.hstack([np.zeros_like(Z), Z])
        return Z

    def label_log_proba(self, Z):
        """``log p`` of the given labels under the softmax head."""
        L = log_softmax(self.full_logits(Z))
        return L[np.arange(self.n_samples), self.y]

    def margins(self, Z):
        """One-vs-rest margins ``y_ik z_ik``."""
        return self.signs * Z

    # -------------------------------------------------------------- objective
    def value_grad(self, B, loss=None, v=None):
        """Objective ``J`` and its gradient for ``loss`` (default: the problem's).

        ``v`` are optional extra per-sample weights held fixed (shape
        ``(n_samples,)``, or ``(n_samples, n_outputs)`` for margin losses).
        """
        loss = self.loss if loss is None else loss
        Z = self.scores(B)
        if self.kind == "probability":
            c = self.sample_weight if v is None else self.sample_weight * v
            L = log_softmax(self.full_logits(Z))
            idx = np.arange(self.n_samples)
            lp = L[idx, self.y]
            rho = loss.rho_log(lp)
            w = loss.weight_log(lp)
            value = float(np.dot(c, rho))
            R = np.exp(L)
            R[idx, self.y] -= 1.0
            R *= (c * w)[:, None]
            G = R[:, 1:] if self.n_outputs == 1 else R
        else:
            C = self.sample_weight[:, None] if v is None else self.sample_weight[:, None] * (
                v if v.ndim == 2 else v[:, None])
            M = self.margins(Z)
            value = float(np.sum(C * loss.rho(M)))
            G = C * loss.derivative(M) * self.signs
        grad = self.backprop(G)
        W = B[:, : self.n_features]
        value += 0.5 * self.alpha * float(np.sum(W * W))
        grad[:, : self.n_features] += self.alpha * W
        return value, grad

    def objective(self, B):
        """``J(B)`` for the problem's loss."""
        return self.value_grad(B)[0]

    def irls_weights(self, B):
        """The loss's reweighting factors at the fit ``B`` (clipped at 0)."""
        Z = self.scores(B)
        if self.kind == "margin":
            return self.loss.weight(self.margins(Z))
        lp = self.label_log_proba(Z)
        if not self.loss.smooth:
            return self.loss.hard_weights_log(lp, self.y, self.sample_weight, self.n_classes)
        return np.maximum(self.loss.weight_log(lp), 0.0)

    def initial_coef(self):
        """Zero coefficients; intercepts at the log class priors (softmax head)."""
        B = np.zeros((self.n_outputs, self.n_params))
        if self.fit_intercept and self.kind == "probability":
            freq = np.bincount(self.y, weights=self.sample_weight, minlength=self.n_classes)
            logf = np.log(np.maximum(freq / self.total_weight, 1e-12))
            if self.n_outputs == 1:
                B[0, -1] = logf[1] - logf[0]
            else:
                B[:, -1] = logf - logf.mean()
        return B


def _to_theta(problem, B):
    # standardised, centred coordinates: theta_w = W * sd, theta_b = b + W @ mean
    d = problem.n_features
    theta = B * problem.column_scale
    if problem.fit_intercept:
        theta[:, d] = B[:, d] + B[:, :d] @ problem.column_mean
    return theta


def _from_theta(problem, theta):
    d = problem.n_features
    B = theta / problem.column_scale
    if problem.fit_intercept:
        B[:, d] = theta[:, d] - B[:, :d] @ problem.column_mean
    return B


def _minimize(problem, B0, loss, v, max_iter, tol, progress=None, phase="lbfgs", inner=False):
    """L-BFGS-B on ``J / total_weight`` in standardised, centred coordinates.

    With an enabled ``progress`` reporter, one line per iteration under
    ``phase`` (for an ``inner`` loop, at most one each half second, and a
    tick during long line searches)."""
    from scipy.optimize import minimize

    sd = problem.column_scale
    mean = problem.column_mean
    d = problem.n_features
    shape = (problem.n_outputs, problem.n_params)
    norm = problem.total_weight
    count = [0]

    def fun(theta):
        if progress:
            progress.tick(phase, f"evaluating the objective (iteration {count[0] + 1})")
        B = _from_theta(problem, theta.reshape(shape))
        value, grad = problem.value_grad(B, loss, v)
        if problem.fit_intercept:
            # chain rule of B(theta): dW/dtheta_w = 1/sd, db/dtheta_w = -mean/sd
            grad[:, :d] -= grad[:, d:] * mean
        return value / norm, (grad / sd).ravel() / norm

    def callback(intermediate_result):  # scipy passes the iterate by this keyword
        count[0] += 1
        progress.iteration(phase, count[0], float(intermediate_result.fun) * norm, tick=inner)

    theta0 = _to_theta(problem, np.asarray(B0, dtype=np.float64)).ravel()
    res = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                   callback=callback if progress else None,
                   options={"maxiter": int(max_iter), "gtol": tol, "ftol": 1e-15, "maxcor": 20})
    return _from_theta(problem, res.x.reshape(shape)), res


_EPS_DECREASE = 64 * np.finfo(np.float64).eps


def _newton_step(design, c, curvature, pen, g, zeros):
    """Newton step with the exact curvature when the Hessian is positive
    definite, else with the curvature clipped at 0 (a descent direction)."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    from .design import solve_normal_equations

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
    from .design import LinearDesign, penalty_diagonal

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


def _fit_fixed(problem, B0, loss, v, max_iter, tol, progress=None, phase=None, inner=False):
    """Minimise ``J`` for ``loss`` with fixed weights ``v``: Newton for margin losses,
    L-BFGS for probability losses.  Returns ``(B, n_iter, ok, message)``."""
    if problem.kind == "margin":
        B, n_iter, ok = _newton_margin(problem, B0, loss, v, max_iter, tol, progress,
                                       phase or "newton", inner)
        return B, n_iter, ok, "" if ok else f"Newton did not converge in {max_iter} iterations"
    B, res = _minimize(problem, B0, loss, v, max_iter, tol, progress, phase or "lbfgs", inner)
    ok = lbfgs_accept(res, tol, gradient_floor=1e-8)
    return B, int(res.nit), ok, "" if ok else f"L-BFGS: {res.message}"


def _center(problem, B):
    # softmax intercepts are defined up to a constant: report them centred
    if problem.kind == "probability" and problem.n_outputs > 1 and problem.fit_intercept:
        B = B.copy()
        B[:, -1] -= B[:, -1].mean()
    return B


def warm_up(problem, B0, n_iter, tol=1e-4, verbose=0):
    """``n_iter`` L-BFGS iterations on the convex base loss, from ``B0``.

    The base loss is cross-entropy for probability losses (L-BFGS) and the
    squared hinge for margin losses (Newton).  Returns ``(B,
    n_iterations_run)``; stopping at ``n_iter`` is intended, not a failure.
    ``verbose`` (an int or a :class:`~skrobust._progress.Progress`) reports
    each iteration.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.probability import Blurry
    >>> from skrobust.solvers.multinomial import ClassificationProblem, warm_up
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> p = ClassificationProblem(X, np.array([0, 0, 1, 1]), 2, np.ones(4), Blurry())
    >>> B, n = warm_up(p, p.initial_coef(), 50)
    >>> bool(B[0, 0] > 0)
    True
    """
    if n_iter <= 0:
        return np.asarray(B0, dtype=np.float64), 0
    progress = Progress.of(verbose)
    B, nit, ok, message = _fit_fixed(problem, B0, problem.base_loss, None, n_iter, tol, progress,
                                     "warm-up")
    progress.line("warm-up", f"{'converged in' if ok else 'stopped after'} {nit} iterations")
    return B, nit


def lbfgs_classifier(problem, B0, max_iter=100, tol=1e-4, verbose=0):
    """Minimise ``J`` for the problem's (smooth) loss with L-BFGS-B.

    Parameters
    ----------
    problem : ClassificationProblem
    B0 : ndarray of shape (n_outputs, n_params)
        Start.
    max_iter : int, default=100
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-4
        Gradient tolerance on ``J / sum(sample_weight)`` (as LogisticRegression).
    verbose : int, default=0

    Returns
    -------
    result : SolverResult
        ``beta`` is the matrix ``B``; ``scale`` is 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.probability import GCE
    >>> from skrobust.solvers.multinomial import ClassificationProblem, lbfgs_classifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> p = ClassificationProblem(X, np.array([0, 0, 1, 1, 2, 2]), 3, np.ones(6), GCE())
    >>> lbfgs_classifier(p, p.initial_coef()).beta.shape
    (3, 2)
    """
    if not problem.loss.smooth:
        return SolverResult(np.asarray(B0, dtype=np.float64), 1.0, 0, False, math.nan,
                            f"loss {problem.loss.name!r} is not differentiable; "
                            "use the reweighting solver", [])
    progress = Progress.of(verbose)
    B, res = _minimize(problem, B0, problem.loss, None, max_iter, tol, progress)
    B = _center(problem, B)
    ok = lbfgs_accept(res, tol, gradient_floor=1e-8)
    message = "" if ok else f"L-BFGS: {res.message}"
    progress.finish("lbfgs", ok, max(int(res.nit), 1), message)
    return SolverResult(B, 1.0, max(int(res.nit), 1), ok, problem.objective(B), message, [])


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


def irls_classifier(problem, B0, max_iter=100, tol=1e-4, verbose=0):
    """Iteratively reweighted cross-entropy (or squared hinge) fits.

    Each step computes the loss's weights ``v`` from the current fit and
    refits the weighted base loss (warm-started, at most ``max_iter``
    iterations, gradient tolerance ``tol / 10``): cross-entropy by L-BFGS,
    the squared hinge of margin losses by Newton's method.  It stops when
    the weights change by at most ``tol`` (for hard weights: when the kept
    set stops changing).  A kept set seen before (a cycle, possible for the
    absolute and relative Piecewise-zero cutoffs) stops it with
    ``converged=False``.

    Parameters
    ----------
    problem : ClassificationProblem
    B0 : ndarray of shape (n_outputs, n_params)
    max_iter : int, default=100
        Maximum number of reweighting steps.
    tol : float, default=1e-4
    verbose : int, default=0

    Returns
    -------
    result : SolverResult
        ``n_iter`` is the number of reweighting steps; ``history`` holds one
        record per step when ``verbose``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.probability import PiecewiseZero
    >>> from skrobust.solvers.multinomial import ClassificationProblem, irls_classifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> y = np.array([0, 0, 1, 0, 1, 1])
    >>> loss = PiecewiseZero(cutoff=0.2, cutoff_mode="quantile")
    >>> p = ClassificationProblem(X, y, 2, np.ones(6), loss, alpha=0.1)
    >>> result = irls_classifier(p, p.initial_coef())
    >>> result.converged
    True
    """
    progress = Progress.of(verbose)
    B = np.asarray(B0, dtype=np.float64)
    hard = not problem.loss.smooth
    v = problem.irls_weights(B)
    seen = {v.tobytes()} if hard else set()
    history = []
    converged = False
    message = ""
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if not np.any(v * (problem.sample_weight if v.ndim == 1 else problem.sample_weight[:, None])
                      > 0):
            message = "every robustness weight is zero"
            break
        inner_tol = tol / 10.0
        B, inner_iter, inner_ok, msg = _fit_fixed(problem, B, problem.base_loss, v, max_iter,
                                                  inner_tol, progress, "irls-refit", inner=True)
        message = "" if inner_ok else f"weighted refit: {msg}"
        v_new = problem.irls_weights(B)
        change = float(np.max(np.abs(v_new - v))) if v.size else 0.0
        if progress:
            obj = problem.objective(B) if problem.loss.smooth else math.nan
            history.append(progress.iteration("irls", n_iter, obj, weight_change=change,
                                              inner_iterations=inner_iter))
        if change <= tol:
            converged = inner_ok
            break
        if hard:
            key = v_new.tobytes()
            if key in seen:
                message = "the kept set cycles between reweighting steps"
                break
            seen.add(key)
        v = v_new
    else:
        message = message or f"reweighting did not converge in {max_iter} steps"
    B = _center(problem, B)
    obj = problem.objective(B) if problem.loss.smooth else math.nan
    progress.finish("irls", converged, max(n_iter, 1), message)
    return SolverResult(B, 1.0, max(n_iter, 1), converged, obj, message, history)


__all__ = ["ClassificationProblem", "irls_classifier", "lbfgs_classifier", "newton_classifier",
           "warm_up"]
