"""Adaptive Barron regression: coefficients, shape and scale by maximum likelihood.

The residuals ``r = y - A beta`` (``A = [X, 1]``) are modelled with Barron's
distribution, ``p(r) = exp(-rho(r, shape, c)) / (c Z(shape))``, and the
negative log-likelihood with frequency weights ``s``

    J(beta, shape, c) = sum_i s_i [rho(r_i, shape, c) + log c + log Z(shape)]
                        + alpha ||coef||**2 / (2 c**2)

is minimised jointly over ``beta``, ``shape`` in ``[lo, hi]`` (``0 <= lo <=
hi < 2``) and ``log c``.  The penalty is in the units of ``J``: near the
origin ``rho ~ r**2 / (2 c**2)``, so ``J ~ (sum_i s_i r_i**2 + alpha
||coef||**2) / (2 c**2) + ...`` and ``alpha`` means what it means for Ridge
and for the fixed-shape M-estimators (the intercept is never penalised).
It is a Gaussian prior on the coefficients whose width follows the scale,
which keeps the fit scale equivariant.  The plain loss ``rho`` must never be
minimised over shape and scale: ``log c + log Z(shape)`` is what stops the
scale from growing and the shape from running to 0.

Gradients (``z = (r/c)**2``, ``b = 2 - shape``, ``u = 1 + z/b``, unscaled
robustness weight ``omega = u**(shape/2 - 1)``, so ``psi = omega r / c**2``)::

    dJ/dbeta   = -A' (s omega r) / c**2 + alpha coef / c**2
    dJ/dlog c  = sum_i s_i (1 - omega_i z_i) - alpha ||coef||**2 / c**2
    dJ/dshape  = sum_i s_i d rho/dshape + (sum_i s_i) d log Z/dshape

``rho``, ``omega`` and ``d rho/dshape`` come from the fused kernel
:func:`skrobust.losses.barron.barron_nll_sums` (the closed form of Barron's
note, continuous at shape 0), ``log Z(shape)`` and its exact derivative from
:func:`skrobust.losses.distribution.barron_log_partition_with_grad` (a
trapezoidal sum, cached per shape).

Design choice: joint L-BFGS-B over ``(beta * sd(X), shape, log c)`` with the
box on the shape put directly on the variable, rather than the alternating
scheme (weighted least squares for ``beta``, the exact MM scale step
``c**2 = (sum s omega r**2 + alpha ||coef||**2) / sum s``, then a bounded
Brent search of ``J`` over the shape, ``xatol=1e-5``; stopped when ``J``
changes by less than 1e-12 relatively); the measured comparison is in the
user guide (``docs/adaptive_barron.rst``).

Both reach the same optimum (``J`` equal to 1e-9 relatively and shapes to
1e-4) except on a bound, which bounded Brent never reaches exactly.  MM
needs several times more iterations (it crawls along the shape-scale ridge, worst
for Gaussian data where the shape ends near 2), and each of its iterations
costs a weighted Gram matrix (``O(n d**2)``) plus ~15 ``O(n)`` evaluations
(and as many new ``log Z``) in the shape search, against about 1.3
evaluations of two ``O(n d)`` products per L-BFGS iteration.
L-BFGS-B runs with BLAS limited to one thread: its tiny ``maxcor x n``
BLAS calls are slower with a thread pool.

Scale equivariance: ``y`` is centred by its weighted median (with an
intercept) and divided by ``1.4826 MAD`` of the start residuals before the
fit, so fitting ``k y`` gives the same shape and ``k`` times the scale and
coefficients (up to rounding).  The scale has a floor relative to the data
(``1e-6`` times the normalised MAD of ``y``) because ``J -> -inf`` as
``c -> 0`` when more than half of the residuals can be exactly zero; a
shape or scale that ends on a bound is a legitimate result and is reported
in ``message`` and in ``shape_at_bound`` / ``scale_at_floor``.

Like every solver here it imports no scikit-learn and never warns: a failure
to converge is ``converged=False`` with a message.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .._linalg import penalty_diagonal
from .._progress import Progress
from ..design.linear import positive_weight_rows
from ..losses.barron import barron_nll_sums
from ..losses.distribution import barron_log_partition_with_grad
from ..scale import mad_scale, weighted_median
from ._result import SolverResult
from .blas_threads import single_threaded_blas

_SHAPE_MAX = 2.0  # exclusive upper limit of the shape bounds
_LOG_C_MAX = 709.0  # exp overflows just above 709.78


def check_shape_bounds(shape_bounds) -> tuple[float, float]:
    """Validate the adaptive shape's bounds: a pair of reals with ``0 <= lo <= hi < 2``.

    Parameters
    ----------
    shape_bounds : (float, float)
        ``(lo, hi)``; strings, NaN and anything but two real numbers are rejected.

    Returns
    -------
    lo, hi : float

    Raises
    ------
    ValueError
        Naming ``shape_bounds``, when it is not such a pair.

    Examples
    --------
    >>> from skrobust.solvers.adaptive_barron import check_shape_bounds
    >>> check_shape_bounds((0, 1.999))
    (0.0, 1.999)
    """
    try:
        lo, hi = shape_bounds
    except (TypeError, ValueError):
        raise ValueError(f"shape_bounds must be a pair (lo, hi), got {shape_bounds!r}") from None
    if not all(isinstance(v, numbers.Real) for v in (lo, hi)):
        raise ValueError(f"shape_bounds must be a pair of real numbers, got {shape_bounds!r}")
    lo, hi = float(lo), float(hi)
    if not (0.0 <= lo <= hi < _SHAPE_MAX):
        raise ValueError(
            f"shape_bounds must satisfy 0 <= lo <= hi < 2, got {shape_bounds!r} "
            "(shapes below 0 have no normalisable density; 2 is singular for the shape "
            "gradient)"
        )
    return lo, hi


def _spread(v, w) -> float:
    """``1.4826 MAD`` of ``v`` about 0, falling back to the mean of ``|v|``, then 0."""
    a = np.abs(v)
    mad = mad_scale(a, w)
    if mad > 0 and math.isfinite(mad):
        return mad
    mean = float(np.dot(w, a) / w.sum())
    if mean > 0 and math.isfinite(mean):
        return mean
    return 0.0


@dataclass
class AdaptiveBarronResult(SolverResult):
    """:class:`SolverResult` plus the fitted shape and bound flags.

    ``shape_at_bound`` is ``"lower"``, ``"upper"`` or ``""``; ``scale_at_floor``
    tells whether the scale ended on its floor.
    """

    shape: float = math.nan
    shape_at_bound: str = ""
    scale_at_floor: bool = False


class _Problem:
    """``J`` of the module docstring on (already standardised) arrays."""

    def __init__(self, design, y, s, alpha):
        self.design = design
        self.y = y
        self.s = s
        self.total = float(s.sum())
        self.pen = penalty_diagonal(design.n_params, design.fit_intercept, alpha)
        self._g = np.empty_like(y)

    def value_grad(self, beta, shape, log_c):
        # A line-search trial far above every residual (a flat likelihood in the scale,
        # e.g. Cauchy from a start scale much below the residuals) overflowed math.exp
        # (OverflowError).  There c = inf gives the objective's exact limit, total * log_c
        # (rho and the penalty term vanish), so the search backtracks.
        c = math.exp(log_c) if log_c < _LOG_C_MAX else math.inf
        r = self.y - self.design.predict(beta)
        srho, soz, sdrho = barron_nll_sums(r, self.s, c, shape, self._g)
        log_z, dlog_z = barron_log_partition_with_grad(shape)
        inv_c2 = math.exp(-2.0 * log_c)
        pen = float(np.dot(self.pen, beta * beta)) * inv_c2
        value = srho + self.total * (log_c + log_z) + 0.5 * pen
        g_beta = (self.pen * beta - self.design.rmatvec(self._g)) * inv_c2
        g_shape = sdrho + self.total * dlog_z
        g_logc = self.total - soz - pen
        return value, g_beta, g_shape, g_logc


def adaptive_barron_objective(design, y, sample_weight, beta, shape, scale, *, alpha=0.0):
    """The adaptive Barron objective ``J`` and its gradient.

    ``J = sum_i s_i [rho(r_i, shape, scale) + log(scale) + log Z(shape)]
    + alpha ||coef||**2 / (2 scale**2)`` with ``r = y - A beta``, in the
    original units of ``y`` (see the module docstring).

    Parameters
    ----------
    design : LinearDesign
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        Frequency weights (None: all 1).
    beta : ndarray of shape (n_params,)
        Coefficients, intercept last.
    shape : float
        Shape in ``[0, 2)``.
    scale : float
        Scale ``c > 0``.
    alpha : float, default=0.0
        L2 penalty on the coefficients (not the intercept).

    Returns
    -------
    value : float
    grad : ndarray of shape (n_params + 2,)
        ``(dJ/dbeta, dJ/dshape, dJ/dlog(scale))``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.adaptive_barron import adaptive_barron_objective
    >>> d = LinearDesign(np.zeros((3, 1)), fit_intercept=True)
    >>> r = np.array([-1.0, 0.5, 2.0])
    >>> value, grad = adaptive_barron_objective(d, r, None, np.zeros(2), 0.0, 1.0)
    >>> from scipy import stats  # shape 0 is a Cauchy of scale sqrt(2) c
    >>> bool(np.isclose(value, -stats.cauchy(0, np.sqrt(2)).logpdf(r).sum()))
    True
    """
    shape = float(shape)
    scale = float(scale)
    if not (0.0 <= shape < _SHAPE_MAX):
        raise ValueError(f"shape must be in [0, 2), got {shape!r}")
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    design, y, s = positive_weight_rows(design, y, sample_weight)
    problem = _Problem(design, y, s, alpha)
    value, g_beta, g_shape, g_logc = problem.value_grad(
        np.asarray(beta, dtype=np.float64), shape, math.log(scale))
    return value, np.concatenate([g_beta, [g_shape, g_logc]])


def adaptive_barron(design, y, sample_weight=None, *, beta0, scale0=None, shape0=None,
                    shape_bounds=(0.0, 1.999), alpha=0.0, max_iter=200, tol=1e-8,
                    scale_floor=None, verbose=0) -> AdaptiveBarronResult:
    """Fit a linear model with Barron's loss, learning its shape and scale.

    Minimises the negative log-likelihood ``J`` of the module docstring
    jointly over the coefficients, the shape (in ``shape_bounds``) and the
    log of the scale with L-BFGS-B, from the convex fit ``beta0``, shape 1
    and ``1.4826 MAD`` of the start residuals.

    Parameters
    ----------
    design : LinearDesign
        The design ``[X, 1]`` (dense or CSR).
    y : ndarray of shape (n_samples,)
        Targets.
    sample_weight : ndarray of shape (n_samples,) or None
        Frequency weights: an integer weight acts as that many copies of the
        row, a zero weight removes it.
    beta0 : ndarray of shape (n_params,)
        Start coefficients (intercept last), e.g. a Huber or pseudo-Huber
        M-fit: shapes below 1 are non-convex, so the start matters.
    scale0 : float, optional
        Start scale; default ``1.4826 MAD`` of the start residuals.
    shape0 : float, optional
        Start shape (e.g. a previous fit's, for a warm start); default 1.
        Clipped into ``shape_bounds``.
    shape_bounds : (float, float), default=(0.0, 1.999)
        ``0 <= lo <= hi < 2``; ``lo == hi`` fixes the shape (the scale is
        still learnt).  The log-partition has a singular derivative at 2.
    alpha : float, default=0.0
        L2 penalty on the coefficients, ``alpha ||coef||**2 / (2 scale**2)``
        in ``J`` (Ridge's units; the intercept is not penalised).
    max_iter : int, default=200
        Maximum number of L-BFGS-B iterations.
    tol : float, default=1e-8
        Tolerance on the projected gradient of ``J / sum(s)`` in the
        conditioned variables ``(beta * sd(X), shape, log scale)``.
    scale_floor : float, optional
        Smallest scale, in the units of ``y``; default ``1e-6`` times the
        normalised MAD of ``y`` about its median (falling back to the mean
        absolute deviation, then ``max |y|``).
    verbose : int or Progress, default=0
        Print one line per iteration when positive (and record ``history``).

    Returns
    -------
    result : AdaptiveBarronResult
        ``beta``, ``scale``, ``shape``, ``objective`` (``J`` in the units of
        ``y``), ``n_iter``, ``converged``, ``message`` (non-empty when not
        converged or when the shape or scale ended on a bound) and the bound
        flags.

    Raises
    ------
    ValueError
        On shape bounds outside ``[0, 2)`` or reversed, a non-positive
        ``scale0`` or ``scale_floor``, negative or all-zero weights, or
        mismatched lengths.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.adaptive_barron import adaptive_barron
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2))
    >>> y = X @ [1.0, -2.0] + 0.5 + rng.standard_cauchy(2000)
    >>> design = LinearDesign(X, fit_intercept=True)
    >>> res = adaptive_barron(design, y, beta0=np.zeros(3))
    >>> res.converged, bool(res.shape < 0.5)
    (True, True)
    >>> np.round(res.beta, 1)
    array([ 1. , -2. ,  0.5])
    """
    lo, hi = check_shape_bounds(shape_bounds)
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    if scale0 is not None and not (scale0 > 0 and math.isfinite(scale0)):
        raise ValueError(f"scale0 must be positive and finite, got {scale0!r}")
    if shape0 is not None and not math.isfinite(shape0):
        raise ValueError(f"shape0 must be finite, got {shape0!r}")
    if scale_floor is not None and not (scale_floor > 0 and math.isfinite(scale_floor)):
        raise ValueError(f"scale_floor must be positive and finite, got {scale_floor!r}")
    max_iter = int(max_iter)
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    design, y, s = positive_weight_rows(design, y, sample_weight)
    return _adaptive_barron(design, y, s, beta0=beta0, scale0=scale0, shape0=shape0,
                            shape_bounds=(lo, hi), alpha=alpha, max_iter=max_iter, tol=tol,
                            scale_floor=scale_floor, verbose=verbose)


def _adaptive_barron(design, y, s, *, beta0, scale0=None, shape0=None,
                     shape_bounds=(0.0, 1.999), alpha=0.0, max_iter=200, tol=1e-8,
                     scale_floor=None, verbose=0) -> AdaptiveBarronResult:
    """:func:`adaptive_barron` on checked input (what the estimator calls): float64 ``y``
    and positive weights ``s`` on the rows of ``design``, valid ``shape_bounds``, ``alpha``,
    ``scale0``, ``shape0`` and ``max_iter`` (the estimator's parameter validation and fit
    plan checked them)."""
    lo, hi = shape_bounds
    max_iter = int(max_iter)
    beta0 = np.array(beta0, dtype=np.float64).ravel()
    if beta0.shape[0] != design.n_params:
        raise ValueError(f"beta0 has {beta0.shape[0]} values, expected {design.n_params}")

    # ---- standardise: y' = (y - m) / k, so the fit is scale and shift equivariant
    m = weighted_median(y, s) if design.fit_intercept else 0.0
    r0 = y - design.predict(beta0)
    spread_y = _spread(y - m, s) if design.fit_intercept else _spread(y, s)
    if spread_y == 0.0:
        spread_y = float(np.max(np.abs(y))) or 1.0
    start_scale = _spread(r0, s) if scale0 is None else float(scale0)
    k = start_scale if start_scale > 0 else spread_y
    floor = 1e-6 * spread_y if scale_floor is None else float(scale_floor)
    ys = (y - m) / k
    beta = beta0 / k
    if design.fit_intercept:
        beta[-1] -= m / k
    c0 = max(start_scale / k if start_scale > 0 else 1.0, floor / k)
    problem = _Problem(design, ys, s, alpha)
    total = problem.total
    p = design.n_params
    sd = design.column_moments()[1]
    if design.fit_intercept:
        sd = np.append(sd, 1.0)

    progress = Progress.of(verbose)

    def fun(theta):
        if progress:
            progress.tick("adaptive-barron", "evaluating the objective (line search)")
        value, g_beta, g_shape, g_logc = problem.value_grad(theta[:p] / sd, theta[p],
                                                           theta[p + 1])
        grad = np.concatenate([g_beta / sd, [g_shape, g_logc]])
        return value / total, grad / total

    history = []

    def callback(intermediate_result):  # scipy passes the iterate by this keyword
        if progress:
            theta = intermediate_result.x
            value = float(intermediate_result.fun) * total + total * math.log(k)
            history.append(progress.iteration("adaptive-barron", len(history) + 1, value,
                                              k * math.exp(theta[p + 1]),
                                              shape=float(theta[p])))

    from scipy.optimize import minimize

    log_floor = math.log(floor / k)
    shape0 = min(max(1.0 if shape0 is None else float(shape0), lo), hi)
    theta0 = np.concatenate([beta * sd, [shape0, math.log(c0)]])
    bounds = [(None, None)] * p + [(lo, hi), (log_floor, None)]
    with np.errstate(over="ignore", invalid="ignore"), single_threaded_blas():
        res = minimize(fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                       callback=callback,
                       options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15,
                                "maxcor": 20})
    theta = res.x
    beta = theta[:p] / sd
    shape = float(theta[p])
    log_c = float(theta[p + 1])

    # projected gradient: a variable on an active bound has no free direction
    grad = np.array(res.jac, dtype=np.float64)
    span = max(hi - lo, 1.0)
    at_lo = lo < hi and shape <= lo + 1e-9 * span
    at_hi = lo < hi and shape >= hi - 1e-9 * span
    at_floor = log_c <= log_floor + 1e-9
    proj = grad.copy()
    if lo == hi or (at_lo and proj[p] > 0) or (at_hi and proj[p] < 0):
        proj[p] = 0.0
    if at_floor and proj[p + 1] > 0:
        proj[p + 1] = 0.0
    pg = float(np.max(np.abs(proj))) if proj.size else 0.0
    finite = bool(np.all(np.isfinite(theta))) and math.isfinite(float(res.fun))
    converged = finite and (bool(res.success) or
                            (res.status == 2 and pg <= max(100.0 * tol, 1e-7)))

    messages = []
    if not converged:
        messages.append(f"L-BFGS-B did not converge: {res.message}")
    if at_lo:
        messages.append(f"shape reached its lower bound {lo:g}")
    if at_hi:
        messages.append(f"shape reached its upper bound {hi:g}")
    if at_floor:
        messages.append(f"scale reached its floor {floor:.3g} (are more than half of "
                        "the residuals exactly zero?)")

    # back to the units of y
    beta_out = beta * k
    if design.fit_intercept:
        beta_out[-1] += m
    scale = k * math.exp(log_c)
    objective = float(res.fun) * total + total * math.log(k)
    progress.finish("adaptive-barron", converged, max(int(res.nit), 1), "; ".join(messages))
    return AdaptiveBarronResult(
        beta=beta_out, scale=scale, n_iter=max(int(res.nit), 1), converged=converged,
        objective=objective, message="; ".join(messages), history=history, shape=shape,
        shape_at_bound="lower" if at_lo else ("upper" if at_hi else ""),
        scale_at_floor=bool(at_floor))
