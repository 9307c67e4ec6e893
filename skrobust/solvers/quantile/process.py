"""The quantile regression process: many levels on the same data, each exact.

The levels are solved in increasing order outwards from the one nearest the
median, which is solved cold (:func:`~skrobust.solvers.quantile.quantile_regression`).
Every other level starts from its neighbour's optimum ``beta_prev`` at level
``q_prev``: by the preprocessing of Chernozhukov, Fernández-Val & Melly (2022,
"Fast algorithms for the quantile regression process"), the rows whose
residual ``r = y - A beta_prev`` is far from the neighbour's fit keep their
sign at the new level.  Only a band of rows, those whose residual lies
between the empirical ``min(q_prev, q) - m`` and ``max(q_prev, q) + m``
quantiles of ``r`` (``m`` a margin), is solved, exactly, with the other rows
entering linearly (:func:`~skrobust.solvers.quantile.band._band_solve`).
If a fixed row changes sign at the band optimum, it joins the band and the
band is solved again; a band problem that cannot be solved falls back on the
full solve from ``beta_prev``.  The certificate of every level is the one of
the single-level solver, on all rows, so each level is the exact optimum:
the same objective as a separate fit, up to rounding.

With ``noncrossing=True`` the levels are solved in the same order, each
under the constraints that its fitted values on the training rows are at
least (above the median) or at most (below it) those of the level solved
before it (:mod:`~skrobust.solvers.quantile.noncrossing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...design.linear import LinearDesign, positive_weight_rows
from ...losses.quantile import check_quantile_levels
from ._problem import _Problem
from .band import _band_solve, _quantile_band
from .noncrossing import _noncrossing_level
from .single import _check_alpha, _Log, _result, _solve_outcome

_MARGIN_FRACTION = 0.25  # the band's margin m: a quarter of the step between levels ...
_MARGIN_ROWS = 0.5  # ... and at least sqrt(p / n) / 2 (the fit's own noise)


@dataclass
class QuantileProcessResult:
    """The fits of several quantile levels on the same data.

    Attributes
    ----------
    beta : ndarray of shape (n_levels, n_params)
        Coefficients then intercept of each level, in the order of the levels asked for.
    objective : ndarray of shape (n_levels,)
        Each level's objective (the penalised pinball sum of
        :func:`~skrobust.solvers.quantile.quantile_regression`).
    n_iter : int
        Interior point iterations and simplex pivots of all levels.
    converged : bool
        Whether every level converged.
    message : str
        Empty on success, else the messages of the levels that did not converge.
    results : list of SolverResult
        The fit of each level, in the same order.
    quantiles : ndarray of shape (n_levels,)
        The levels, in the order asked for.
    """

    beta: np.ndarray
    objective: np.ndarray
    n_iter: int
    converged: bool
    message: str = ""
    results: list = field(default_factory=list)
    quantiles: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _walk(levels):
    """The order of solution: the level nearest 1/2, then upwards, then downwards; each with
    the index of the level it starts from (-1 for the first)."""
    order = np.argsort(levels, kind="stable")
    k0 = int(np.argmin(np.abs(levels[order] - 0.5)))
    steps = [(int(order[k0]), -1)]
    steps += [(int(order[k]), int(order[k - 1])) for k in range(k0 + 1, order.size)]
    steps += [(int(order[k]), int(order[k + 1])) for k in range(k0 - 1, -1, -1)]
    return steps


def _from_neighbour(prob, beta_prev, r, q_prev, max_iter, tol, log):
    """The exact optimum of ``prob`` from the neighbouring level's optimum ``beta_prev``
    (residuals ``r``, or None); an outcome."""
    n, p = prob.n, prob.design.n_params
    if p == 0:  # nothing to fit
        return _solve_outcome(prob, beta_prev, max_iter, tol, log)
    if r is None:
        r = prob.residuals(beta_prev)
    margin = max(_MARGIN_FRACTION * abs(prob.q - q_prev), _MARGIN_ROWS * math.sqrt(p / n))
    band = _quantile_band(r, min(q_prev, prob.q) - margin, max(q_prev, prob.q) + margin, p)
    if band is not None:
        with np.errstate(all="ignore"):
            out, _ = _band_solve(prob, beta_prev, r, band, -math.inf, max_iter, tol, log)
        if out is not None and (out.certified or out.gap_rel <= tol):
            return out
    return _solve_outcome(prob, beta_prev, max_iter, tol, log)


def quantile_process(design, y, sample_weight, quantiles, *, alpha=0.0, max_iter=200, tol=1e-10,
                     noncrossing=False, verbose=0):
    """Linear quantile regression at several levels, each solved to the exact optimum.

    Each level minimises ``sum_i s_i rho_q(y_i - a_i' beta) + alpha ||coef||**2``
    as :func:`~skrobust.solvers.quantile.quantile_regression` does, and reaches
    the same optimum (the same objective, up to rounding); the levels are
    solved from their neighbour's optimum (module docstring), which is much
    faster than separate fits.

    Parameters
    ----------
    design : LinearDesign
        The design ``[X, 1]`` (dense or sparse ``X``, or Nystroem features); the
        estimator checked that ``X`` is finite.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative frequency weights; rows with zero weight are dropped.
    quantiles : sequence of float
        Distinct levels strictly between 0 and 1, in any order.
    alpha : float, default=0.0
        L2 penalty on the coefficients (a sum, not a mean, over the rows).
    max_iter : int, default=200
        Maximum number of interior point iterations of one solve.
    tol : float, default=1e-10
        Relative duality gap at which an interior point solve stops when no
        exact optimum has been certified earlier.
    noncrossing : bool, default=False
        Fit under the constraints that the fitted quantiles are non-decreasing
        in the level on the training rows.  Each level, from the one nearest
        the median outwards, is the exact optimum of its own problem under the
        constraints against the level solved before it (a linear program
        solved on a band of rows by HiGHS, checked on all rows), so crossing is
        impossible on the training rows and, since the difference of two fitted
        planes is linear, on their convex hull in the design's columns; beyond
        the hull (or, for Nystroem features, at new points whose features lie
        outside it) nothing prevents crossing.  Requires ``alpha = 0``.
    verbose : int, default=0
        Print and record (in each level's ``history``) one line per iteration.

    Returns
    -------
    result : QuantileProcessResult
        ``beta`` of shape (n_levels, n_params) and ``objective`` of shape
        (n_levels,) in the order of ``quantiles``, the total ``n_iter``,
        ``converged`` (all levels), ``message`` and the per-level ``results``.

    Raises
    ------
    ValueError
        ``quantiles`` empty, repeated, or outside (0, 1); negative ``alpha``;
        ``noncrossing`` with ``alpha > 0``; negative weights or mismatched lengths.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.quantile import quantile_process
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = X @ [1.0, -1.0] + rng.normal(size=300) * (1.0 + np.abs(X[:, 0]))
    >>> fits = quantile_process(LinearDesign(X, True), y, None, [0.9, 0.1, 0.5])
    >>> fits.beta.shape, fits.converged
    ((3, 3), True)
    >>> bool(fits.beta[1, -1] < fits.beta[2, -1] < fits.beta[0, -1])  # ordered intercepts
    True
    """
    if not isinstance(design, LinearDesign):
        raise TypeError(f"design must be a LinearDesign, got {type(design).__name__}")
    levels = check_quantile_levels(quantiles, non_numeric_error=ValueError)
    alpha = _check_alpha(alpha)
    noncrossing = bool(noncrossing)
    if noncrossing and alpha > 0:
        raise ValueError("noncrossing=True requires alpha=0 (the constrained fit is a linear "
                         f"program), got alpha={alpha!r}")
    max_iter, tol = int(max_iter), float(tol)
    design, y, s = positive_weight_rows(design, y, sample_weight)
    results = [None] * levels.size
    residuals = [None] * levels.size  # of each level's fit, when its solve had them
    for k, prev in _walk(levels):
        prob = _Problem(design, y, s, float(levels[k]), alpha)
        log = _Log(verbose)
        log.progress.line("process", f"level {levels[k]:g}")
        if prev < 0:
            out = _solve_outcome(prob, None, max_iter, tol, log)
        else:
            out = _from_neighbour(prob, results[prev].beta, residuals[prev],
                                  float(levels[prev]), max_iter, tol, log)
            if noncrossing:
                out = _noncrossing_level(prob, out, results[prev].beta,
                                         1.0 if levels[k] > levels[prev] else -1.0)
        results[k] = _result(prob, out, max_iter, tol, log)
        residuals[k] = out.r
    messages = [f"quantile {q:g}: {res.message}" for q, res in zip(levels, results, strict=True)
                if not res.converged]
    return QuantileProcessResult(
        beta=np.array([res.beta for res in results]),
        objective=np.array([res.objective for res in results]),
        n_iter=int(sum(res.n_iter for res in results)),
        converged=not messages, message="; ".join(messages), results=results, quantiles=levels)
