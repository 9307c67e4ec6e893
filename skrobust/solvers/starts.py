"""Starts of the M-estimation: where the iterations of a robust fit begin.

One function per ``init`` strategy of :class:`~skrobust.RobustRegressor`
(``ols``, ``lad``, ``huber``, ``gnc``, ``s``, ``ms`` and the S-start on kernel
principal components), and :func:`robust_start`, which picks one.  The
``ols``, ``huber``, ``gnc`` and ``s`` starts run over the fit's objective
(:mod:`skrobust.design.objective`), in memory or on dask alike.  A start
gives the coefficients, the scale (or None: the scale rule estimates it) and
the scale rule of the fit: an MM start (``s``, ``ms``) may hold its S-scale
fixed.

Examples
--------
>>> import numpy as np
>>> from skrobust.scale import MADScale
>>> from skrobust.design.linear import LinearDesign
>>> from skrobust.solvers.starts import lad_start
>>> X = np.arange(20.0)[:, None]
>>> y = 2.0 * X[:, 0] + 1.0
>>> y[:3] += 100.0  # outliers in y
>>> start = lad_start(LinearDesign(X, True), y, np.ones(20), MADScale(1e-300), alpha=0.0)
>>> np.round(start.beta, 6)
array([2., 1.])
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._progress import Progress
from ..design.aliasing import expand_coef
from ..design.kernel import (
    KernelDesign,
    effective_degrees_of_freedom,
    kernel_factor,
    principal_components,
    tied_subset_limit,
)
from ..design.linear import LinearDesign
from ..design.objective import MProblem
from ..losses import Barron, get_loss
from ..scale import FixedScale, MADScale, m_scale_of, scale_floor
from .fast_s import S_BREAKDOWN_B, S_TUKEY_C, _as_generator, _fast_s, _fast_s_sampled
from .irls import irls
from .ms_start import ms_start
from .quantile import _quantile_regression

S_MAX_PARAMS = 101  # above this many parameters a kernel model's S-start uses components
S_SAMPLE_ROWS = 20_000  # a kernel model's S-start runs on a row sample of this many rows
_START_TOL = 1e-6  # the tolerance of the M-fits that only start another fit


@dataclass
class Start:
    """Where the fit starts.

    Attributes
    ----------
    beta : ndarray or None
        Starting parameters (None: the solver starts from least squares itself).
    scale : float or None
        Starting scale (None: the scale rule estimates it).
    rule : scale rule
        The fit's scale rule (an MM start with ``scale="auto"`` holds its S-scale fixed).
    s_beta : ndarray or None
        The S-estimate over the design's parameters (linear MM starts).
    s_scale : float or None
        The S-scale (MM starts).
    """

    beta: np.ndarray | None
    scale: float | None
    rule: object
    s_beta: np.ndarray | None = None
    s_scale: float | None = None


def rule_floor(rule) -> float:
    """The scale floor of a rule (a fixed scale is its own floor)."""
    return rule.value if rule.fixed else (rule.floor or 1e-300)


def scale_rule(plan, design, y, sample_weight, alpha, units):
    """The scale rule of ``plan`` for the fit's design, targets and weights.

    Only proposal 2 counts degrees of freedom: ``n_params`` for the linear
    model, the effective degrees of freedom of the smoother for kernel models
    (:func:`~skrobust.design.kernel.effective_degrees_of_freedom`).
    """
    dof = design.n_params
    if plan.scale_kind == "proposal2" and plan.kernel:
        dof = effective_degrees_of_freedom(design, alpha)
    return plan.scale_rule(scale_floor(y, sample_weight), dof, units)


def s_on_components(design, kernel: bool) -> bool:
    """Whether a kernel model's S-start runs on principal components (:func:`kernel_s_start`).

    Always for an exact kernel; for Nystroem features when there are more
    than ``S_MAX_PARAMS`` parameters or tied inputs leave too few distinct rows.
    """
    if isinstance(design, KernelDesign):
        return True
    return kernel and (design.n_params > S_MAX_PARAMS
                       or tied_subset_limit(design.X, design.n_params) < design.n_params)


def ols_start(problem, convex):
    """(Ridge) least squares; nothing for a convex loss, whose optimum does not depend on
    the start (the solver starts from least squares itself, on a row sample for large n)."""
    if convex:
        return Start(None, None, problem.scale_rule)
    return Start(problem.ridge(), None, problem.scale_rule)


def lad_start(design, y, sample_weight, rule, alpha, progress=None):
    """Least absolute deviations: robust to outliers in y, not to leverage points."""
    beta = _quantile_regression(design, y, sample_weight, 0.5, alpha=alpha,
                                verbose=progress).beta
    return Start(beta, None, rule)


def huber_start(problem, max_iter, progress=None):
    """A Huber M-fit from least squares (a convex, hence start-free, robust start)."""
    huber = problem.with_loss(get_loss("huber"))
    beta = irls(huber, problem.ridge(), None, max_iter=max_iter, tol=_START_TOL,
                verbose=progress, phase="start").beta
    return Start(beta, None, problem.scale_rule)


def adaptive_start(design, y, sample_weight, alpha, max_iter, progress):
    """The start of the adaptive Barron fit: a robust convex fit, Huber's with the MAD scale."""
    progress.line("start", "Huber M-fit with the MAD scale")
    rule = MADScale(scale_floor(y, sample_weight))
    return huber_start(MProblem(design, y, sample_weight, get_loss("huber"), rule, alpha),
                       max_iter, progress)


def gnc_start(problem, max_iter, progress):
    """Graduated non-convexity: Barron's shape annealed from the convex pseudo-Huber fit
    down to the problem's loss shape, each stage starting from the one before."""
    loss = problem.loss
    beta = problem.ridge()
    for shape in loss.gnc_shapes():
        stage = problem.with_loss(Barron(shape=float(shape), c=loss.c))
        progress.line("start", f"graduated non-convexity: shape {shape:.3g}")
        beta = irls(stage, beta, None, max_iter=max_iter, tol=_START_TOL,
                    verbose=progress, phase="start").beta
    return Start(beta, None, problem.scale_rule)


def s_start(problem, units, rng, *, ms=False, s_columns=None, hold_scale=True, progress=None):
    """The MM start: an S-estimate (fast-S), or the M-S estimate with ``ms=True``.

    The S-fit runs on the objective's S-sample (all rows in memory; a row
    sample of a dask objective, whose S-scale is then the M-scale of all
    residuals, :func:`~skrobust.scale.m_scale_of`).  The S-scale's ``n - p``
    counts observations (``units``, a :class:`~skrobust._units.FitUnits`);
    ``s_columns`` are the columns the S-fit may use when a ridge fit keeps
    collinear ones (their S-coefficients are 0).  With ``hold_scale`` the fit
    holds the S-scale fixed.
    """
    rule = problem.scale_rule
    # one Generator for the row sample and fast-S, so a dask objective draws the rows that
    # fast-S draws in memory (ms_start seeds its two fast-S runs from ``rng`` itself)
    rng = rng if ms else _as_generator(rng)
    design, y, weights, complete = problem.s_sample(rng)
    counts = units.frequency_weights(weights)
    if not complete:
        progress.line("s-start", f"fast-S on {design.n_samples} of {problem.n_samples} rows")
    s_design = design if s_columns is None else LinearDesign(
        design.X[:, np.flatnonzero(s_columns)], design.fit_intercept)
    if ms:
        s_fit = ms_start(s_design, y, counts, random_state=rng, floor=rule_floor(rule))
        if s_fit.reduced_to == "s":
            warnings.warn("init='ms': X has no indicator columns (exactly two distinct "
                          "values), so the M-S start is the S-estimate (init='s')",
                          UserWarning, stacklevel=4)
    else:
        s_fit = _fast_s(s_design, y, counts, random_state=rng, floor=rule_floor(rule),
                        progress=Progress.of(progress))
    if s_columns is not None:
        coef, intercept = s_design.split(s_fit.beta)
        coef = expand_coef(coef, ~s_columns)
        s_fit.beta = np.append(coef, intercept) if design.fit_intercept else coef
    if not complete:  # the S-scale of all rows
        s_fit.scale = m_scale_of(problem.residuals(s_fit.beta), problem.rows,
                                 loss=get_loss("tukey", c=S_TUKEY_C), b=S_BREAKDOWN_B,
                                 denom=problem.total_weight - problem.n_params * units.count,
                                 scale0=s_fit.scale, floor=rule_floor(rule))
        progress.line("s-start", f"M-scale of all rows {s_fit.scale:.6g}")
    rule = FixedScale(s_fit.scale) if hold_scale else rule
    return Start(s_fit.beta, s_fit.scale, rule, s_beta=s_fit.beta, s_scale=s_fit.scale)


def kernel_s_start(design, y, sample_weight, counts, loss, rule, alpha, rng, *,
                   hold_scale=True, progress=None):
    """MM start of a kernel model: an S-fit on the leading kernel principal components.

    The S-estimator needs n >= 2 (p + 1) and costs O(p**3) per subset, so
    it cannot run on n dual coefficients (nor on hundreds of Nystroem
    features); it runs on the at most ``min(100, n // 4)`` leading
    (uncentred) principal components of the kernel feature map -- the
    eigenvectors of K with eigenvalues above 1e-8 of the largest, scaled
    by the square roots of their eigenvalues -- and the start is the
    weighted ridge step of the full model with the S-fit's robustness
    weights.  The components come from a low-rank factor ``K ~ F F'``
    (the pivoted Cholesky factor of an exact kernel, which reproduces K
    to 1e-12 of its trace where 500 columns suffice; the Nystroem
    features), through the small matrix ``F'F``: no eigendecomposition of
    the n x n kernel matrix.  Above ``S_SAMPLE_ROWS`` rows the S-fit runs on
    a uniform row sample and its scale is the M-scale of all residuals
    (:func:`~skrobust.solvers.fast_s.fast_s_sampled`).  Tied inputs repeat
    rows, which makes elemental subsets singular: then only as many leading
    components as subsets of distinct rows allow
    (:func:`~skrobust.design.kernel.tied_subset_limit`).
    """
    n = design.n_samples
    m = max(1, min(S_MAX_PARAMS - 1, n // 4 - 1))
    features, vals = principal_components(kernel_factor(design), m)
    # a smooth kernel's spectrum decays fast: components far below the largest are
    # numerically zero columns, which would make every elemental subset singular
    keep = vals > 1e-8 * max(float(vals[-1]) if vals.size else 0.0, 1e-300)
    features = features[:, keep]
    # tied inputs: as many (leading) components as elemental subsets of distinct rows allow
    intercept = int(design.fit_intercept)
    limit = tied_subset_limit(features, features.shape[1] + intercept) - intercept
    features = features[:, features.shape[1] - max(limit, 1):]
    components = LinearDesign(features, design.fit_intercept)
    progress.line("s-start", f"{features.shape[1]} kernel principal components")
    s_fit = _fast_s_sampled(components, y, counts, n_rows=S_SAMPLE_ROWS, random_state=rng,
                            floor=rule_floor(rule), progress=Progress.of(progress))
    r = y - components.predict(s_fit.beta)
    rule = FixedScale(s_fit.scale) if hold_scale else rule
    v = sample_weight * loss.weight(r / s_fit.scale) / loss.weight_at_zero()
    return Start(design.solve_weighted(v, y, alpha), s_fit.scale, rule, s_scale=s_fit.scale)


def robust_start(plan, problem, rng, *, units, max_iter, s_columns=None, progress=None):
    """The start ``plan.start`` of a :class:`~skrobust._plan.FitPlan` on the fit's objective.

    ``problem`` is the fit's objective (its loss, scale rule and penalty) and
    ``units`` the :class:`~skrobust._units.FitUnits` of the fit (the S-scale's
    ``n - p`` counts observations).  ``lad`` and the kernel starts need an
    in-memory design (the plan refuses them on dask).
    """
    start, hold = plan.start, plan.scale == "auto"
    progress = Progress.of(progress)
    if start == "s" and plan.kernel and s_on_components(problem.design, True):
        w = problem.sample_weight
        return kernel_s_start(problem.design, problem.y, w, units.frequency_weights(w),
                              plan.loss, problem.scale_rule, problem.alpha, rng,
                              hold_scale=hold, progress=progress)
    if start in ("s", "ms"):
        return s_start(problem, units, rng, ms=start == "ms", s_columns=s_columns,
                       hold_scale=hold, progress=progress)
    if start == "lad":
        return lad_start(problem.design, problem.y, problem.sample_weight, problem.scale_rule,
                         problem.alpha, progress)
    if start == "huber":
        return huber_start(problem, max_iter, progress)
    if start == "gnc":
        return gnc_start(problem, max_iter, progress)
    return ols_start(problem, plan.loss.convex)
