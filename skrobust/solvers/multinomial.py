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
- :func:`newton_classifier` (from :mod:`skrobust.solvers.margin_newton`):
  Newton's method with the generalised Hessian and a line search, per
  one-vs-rest output (margin losses); exact to machine precision in a few
  steps for the piecewise-quadratic hinges.
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

from .._linalg import lbfgs_accept
from .._progress import Progress
from ..losses._softmax import label_log_softmax
from ..losses.margin import SquaredHinge
from ..losses.probability import LogLoss
from ._result import SolverResult
from .margin_newton import _newton_margin, newton_classifier

_SQUARE_BLOCK = 2**17  # values per block of squared rows (1 MiB)


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
        else:
            self._rows = np.arange(self.n_samples)
            self._positive = (self.y == 1).astype(np.float64)  # e_y of a binary problem
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
            sq = np.zeros(self.n_features)
            # squares a block of rows at a time into one buffer: no n x d temporary
            rows = max(1, _SQUARE_BLOCK // max(self.n_features, 1))
            buf = np.empty((min(rows, self.n_samples), self.n_features))
            for start in range(0, self.n_samples, rows):
                block = self.X[start:start + rows]
                sq += s[start:start + rows] @ np.square(block, out=buf[:block.shape[0]])
        sd = np.sqrt(np.maximum(sq - mean * mean, 0.0))
        sd = np.where(sd > 1e-12 * max(1.0, float(np.max(np.abs(mean), initial=0.0))), sd, 1.0)
        if not self.standardize:
            sd = np.ones_like(sd)
        self.column_mean = mean if self.fit_intercept else np.zeros_like(mean)
        if self.fit_intercept:
            sd = np.append(sd, 1.0)
        return sd

    def _buffer(self, name, shape):
        # n-sized work arrays reused by every evaluation: a fresh array of a
        # few MB costs as much in page faults as the pass that fills it
        work = self.__dict__.setdefault("_work", {})
        buf = work.get(name)
        if buf is None or buf.shape != shape:
            buf = work[name] = np.empty(shape)
        return buf

    def scores(self, B, reuse=False):
        """Linear scores ``Z`` of shape ``(n_samples, n_outputs)``.

        ``reuse``: write them into a work array that the next call overwrites.
        """
        d = self.n_features
        if reuse and not self.sparse:
            Z = np.matmul(self.X, B[:, :d].T, out=self._buffer("Z", (self.n_samples,
                                                                      self.n_outputs)))
        else:
            Z = np.asarray(self.X @ B[:, :d].T, dtype=np.float64)
        if self.fit_intercept:
            Z += B[:, d]
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

    def _label_log_softmax(self, Z, reuse=False):
        # log p of the given labels and the softmax (binary: p of class 1), one compiled pass
        n, k = self.n_samples, self.n_outputs
        lp = self._buffer("lp", (n,)) if reuse else np.empty(n)
        P = self._buffer("P", (n, k)) if reuse else np.empty((n, k))
        scratch = (self._buffer("t", (n,)), self._buffer("log1p_t", (n,))) if reuse else None
        label_log_softmax(np.ascontiguousarray(Z), self.y, lp, P, scratch)
        return lp, P

    def label_log_proba(self, Z):
        """``log p`` of the given labels under the softmax head."""
        return self._label_log_softmax(Z)[0]

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
        Z = self.scores(B, reuse=True)
        if self.kind == "probability":
            c = self.sample_weight if v is None else self.sample_weight * v
            lp, G = self._label_log_softmax(Z, reuse=True)
            n = self.n_samples
            rho, w = loss.rho_weight_log(lp, out=(self._buffer("rho", (n,)),
                                                  self._buffer("w", (n,))))
            value = float(np.dot(c, rho))
            # G = c w (softmax - e_y)
            if self.n_outputs == 1:
                G[:, 0] -= self._positive
            else:
                G[self._rows, self.y] -= 1.0
            G *= np.multiply(c, w, out=self._buffer("cw", (n,)))[:, None]
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
    # L-BFGS's last value is J at B (centring softmax intercepts leaves J unchanged)
    objective = float(res.fun) * problem.total_weight
    return SolverResult(B, 1.0, max(int(res.nit), 1), ok, objective, message, [])


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
