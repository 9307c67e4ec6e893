"""Standard errors of linear quantile regression, as R quantreg's ``summary.rq``.

For the fit ``beta(tau)`` of the level ``tau`` on ``n`` observations and ``k``
parameters, with ``J = X' S X`` (``S`` the frequency weights), the three
estimators of Koenker (2005, "Quantile Regression", section 3.4) that
quantreg's ``summary.rq(se=...)`` computes are:

- ``"iid"``: errors independent of ``x``: ``cov = tau (1 - tau) s**2 J^-1``.
  The sparsity ``s = 1 / f(F^-1(tau))`` is the slope of the median
  regression of the order statistics ``h + 1`` residuals nearest zero on
  their ranks over ``n - k`` (Siddiqui's difference quotient), with
  ``h = max(k + 1, ceil(n b))``.
- ``"nid"``: Huber's sandwich ``tau (1 - tau) H^-1 J H^-1`` with
  ``H = X' S diag(f) X`` and local densities ``f_i = max(0, 2 b / (x_i'
  (beta(tau + b) - beta(tau - b)) - eps))`` from two refits at ``tau -+ b``
  (a warning counts the non-positive ones).
- ``"ker"``: the same sandwich with Powell's kernel densities
  ``f_i = phi(r_i / c) / c``, ``c = (Phi^-1(tau + b) - Phi^-1(tau - b))
  min(sd(r), IQR(r) / 1.34)``.

``b`` is the Hall-Sheather (1988) bandwidth :func:`hall_sheather_bandwidth`,
halved until ``tau -+ b`` lies in [0, 1]; ``eps = sqrt(machine epsilon)`` in
``y``'s units (quantreg's absolute threshold).  Frequency weights are counts:
an integer weight gives the standard errors of the data with repeated rows
(quantreg instead multiplies the rows by the weights).

The fitted estimator keeps its training design for these formulas: ``"nid"``
refits the model at ``tau -+ b``.

Examples
--------
>>> from skrobust import RobustRegressor
>>> from skrobust.datasets import load_engel
>>> X, y = load_engel(return_X_y=True)
>>> res = RobustRegressor(loss="quantile", quantile=0.5).fit(X, y).summary(se="iid")
>>> [round(float(v), 6) for v in res.std_err]  # quantreg: summary(rq(...), se = "iid")
[13.23908, 0.011919]
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ..design.linear import LinearDesign
from .covariance import intercept_first
from .summary import RegressionSummary

SE_KINDS = ("iid", "nid", "ker")
"""The standard errors of a quantile fit (quantreg's ``se``)."""

_EPS = math.sqrt(np.finfo(np.float64).eps)  # quantreg's eps, in y's units


def hall_sheather_bandwidth(tau, n, alpha=0.05):
    """Hall and Sheather's (1988) bandwidth for the sparsity at the level ``tau``.

    ``n**(-1/3) z**(2/3) (1.5 phi(x)**2 / (2 x**2 + 1))**(1/3)`` with
    ``x = Phi^-1(tau)`` and ``z = Phi^-1(1 - alpha / 2)`` (quantreg's
    ``bandwidth.rq(tau, n, hs = TRUE)``).

    Examples
    --------
    >>> from skrobust.inference.quantile import hall_sheather_bandwidth
    >>> round(hall_sheather_bandwidth(0.5, 235), 6)
    0.157439
    """
    x0 = norm.ppf(tau)
    f0 = norm.pdf(x0)
    z = norm.ppf(1.0 - alpha / 2.0)
    return float(n ** (-1.0 / 3.0) * z ** (2.0 / 3.0)
                 * (1.5 * f0**2 / (2.0 * x0**2 + 1.0)) ** (1.0 / 3.0))


@dataclass(frozen=True)
class QuantileFitRecord:
    """What the standard errors of a quantile fit need: its data and solutions.

    Everything is in the fit's units (see :mod:`skrobust._units`):
    ``X`` the training design over the rows of positive weight (without the
    intercept column), ``y``, the solver's ``sample_weight`` (times
    ``count_unit``: frequency weights), one row of ``betas`` per level
    (coefficients, then the intercept).  ``param_factors`` (None: 1) and
    ``y_unit`` convert parameters and residuals to the data's units;
    ``n_iter`` and ``converged`` are per level.
    """

    X: object
    y: np.ndarray
    sample_weight: np.ndarray
    count_unit: float
    fit_intercept: bool
    levels: np.ndarray
    betas: np.ndarray
    param_factors: np.ndarray | None
    y_unit: float
    n_iter: np.ndarray
    converged: np.ndarray

    @property
    def n_obs(self) -> float:
        return float(self.sample_weight.sum() * self.count_unit)

    @property
    def design(self) -> LinearDesign:
        return LinearDesign(self.X, self.fit_intercept)


def _expanded_values(sorted_values, cum_weights, positions):
    """Entries at 1-based ``positions`` of the sample that repeats each value its weight's times."""
    idx = np.searchsorted(cum_weights, np.asarray(positions, dtype=np.float64) - 1e-9)
    return sorted_values[np.minimum(idx, sorted_values.size - 1)]


def _weighted_type7(sorted_values, cum_weights, prob):
    """R's ``quantile(type = 7)`` of the sample with the rows repeated by their weights."""
    h = (cum_weights[-1] - 1.0) * prob + 1.0
    lo, hi = _expanded_values(sorted_values, cum_weights, [math.floor(h), math.ceil(h)])
    return lo + (h - math.floor(h)) * (hi - lo)


def _sparsity(r, s, tau, n, k, bandwidth):
    """Siddiqui's sparsity estimate of quantreg's ``se = "iid"``."""
    from ..solvers.quantile import _quantile_regression

    order = np.argsort(np.abs(r), kind="stable")
    r_abs, s_abs = r[order], s[order]
    zeros = float(s[np.abs(r) < _EPS].sum())
    h = max(k + 1, math.ceil(n * bandwidth))
    ranks = np.arange(zeros + 1.0, zeros + h + 2.0)
    ord_resid = np.sort(_expanded_values(r_abs, np.cumsum(s_abs), ranks))
    xt = ranks / (n - k)
    fit = _quantile_regression(LinearDesign(xt[:, None], True), ord_resid,
                               np.ones(ranks.size), 0.5)
    return float(fit.beta[0])


def _sandwich(design, s, f, tau):
    """``tau (1 - tau) H^-1 J H^-1`` with ``H = X' S diag(f) X`` and ``J = X' S X``."""
    J = design.gram_ext(s)
    H = design.gram_ext(s * f)
    H_inv_J = np.linalg.solve(H, J)
    return tau * (1.0 - tau) * np.linalg.solve(H, H_inv_J.T)


def _inner_bandwidth(tau, n):
    b = hall_sheather_bandwidth(tau, n)
    while tau - b < 0.0 or tau + b > 1.0:
        b /= 2.0
    return b


def quantile_covariance(record: QuantileFitRecord, level: int, se: str = "nid"):
    """The covariance of the ``level``-th level's parameters, in the data's units.

    Parameters
    ----------
    record : QuantileFitRecord
    level : int
        Index into ``record.levels``.
    se : {"iid", "nid", "ker"}, default="nid"

    Returns
    -------
    cov : ndarray of shape (k, k)
        In the solvers' order (coefficients, then the intercept).
    """
    from ..solvers.quantile import _quantile_regression

    tau = float(record.levels[level])
    beta = record.betas[level]
    design = record.design
    s = record.sample_weight * record.count_unit  # frequency weights
    n, k = record.n_obs, design.n_params
    r = record.y - design.predict(beta)
    eps = _EPS / record.y_unit  # quantreg's absolute threshold, in the fit's units
    if se == "iid":
        sparsity = _sparsity(r, s, tau, n, k, hall_sheather_bandwidth(tau, n))
        cov = sparsity**2 * tau * (1.0 - tau) * np.linalg.inv(design.gram_ext(s))
    elif se == "nid":
        b = _inner_bandwidth(tau, n)
        hi, lo = (_quantile_regression(design, record.y, record.sample_weight, tau + sign * b)
                  for sign in (1.0, -1.0))
        dyhat = design.predict(hi.beta - lo.beta)
        if np.any(dyhat <= 0):
            warnings.warn(f"{int(np.sum(dyhat <= 0))} non-positive fis: the fitted quantiles "
                          f"at {tau - b:.4g} and {tau + b:.4g} cross on those rows, whose "
                          "density is taken as 0", UserWarning, stacklevel=2)
        with np.errstate(divide="ignore"):
            f = np.maximum(0.0, 2.0 * b / (dyhat - eps))
        cov = _sandwich(design, s, f, tau)
    elif se == "ker":
        b = _inner_bandwidth(tau, n)
        order = np.argsort(r, kind="stable")
        r_sorted, cum = r[order], np.cumsum(s[order])
        mean = float(np.dot(s, r)) / n
        sd = math.sqrt(float(np.dot(s, (r - mean) ** 2)) / (n - 1.0))
        iqr = _weighted_type7(r_sorted, cum, 0.75) - _weighted_type7(r_sorted, cum, 0.25)
        c = (norm.ppf(tau + b) - norm.ppf(tau - b)) * min(sd, iqr / 1.34)
        cov = _sandwich(design, s, norm.pdf(r / c) / c, tau)
    else:
        raise ValueError(f"se must be one of {SE_KINDS}, got {se!r}")
    if record.param_factors is not None:
        cov = cov * np.outer(record.param_factors, record.param_factors)
    return cov


@dataclass(frozen=True, eq=False)
class QuantileSummary(RegressionSummary):
    """The coefficient table of one level of a quantile fit, as quantreg's ``summary.rq``.

    The fields of :class:`RegressionSummary`, with ``cov_kind`` the ``se``
    ("iid", "nid" or "ker"), ``scale`` the weighted mean pinball loss of the
    level (``scale_``) and ``r2``, ``adj_r2`` NaN (no R² is defined here);
    t and p values use the t distribution on ``n - k`` degrees of freedom,
    as quantreg's.

    Attributes
    ----------
    quantile : float
        The level ``tau``.

    Examples
    --------
    >>> from skrobust import RobustRegressor
    >>> from skrobust.datasets import load_engel
    >>> X, y = load_engel(return_X_y=True)
    >>> fit = RobustRegressor(loss="quantile", quantile=[0.1, 0.9]).fit(X, y)
    >>> [(res.quantile, res.cov_kind) for res in fit.summary(se="ker")]
    [(0.1, 'ker'), (0.9, 'ker')]
    """

    quantile: float = 0.5

    def _footer(self) -> list[str]:
        state = "Convergence" if self.converged else "No convergence"
        return [f"Standard errors: {self.cov_kind!r} (quantreg's summary.rq); "
                f"{_number(self.n_obs)} observations, {_number(self.df_resid)} residual "
                "degrees of freedom",
                f"Mean pinball loss: {self.scale:.5g}; {state} in {self.n_iter} iterations"]

    def _tail_lines(self) -> list[str]:
        return ["", *self._footer()]

    def _head_lines(self) -> list[str]:
        return [*super()._head_lines(), f"tau: {self.quantile:g}"]


def _number(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def level_summaries(estimator, record: QuantileFitRecord, alpha, se, covariances):
    """One :class:`QuantileSummary` per level (``covariances``: data units, intercept first)."""
    from scipy.stats import t as student_t

    coef = np.atleast_2d(estimator.coef_)
    intercept = np.atleast_1d(estimator.intercept_)
    scale = np.atleast_1d(estimator.scale_)
    names = [str(n) for n in getattr(estimator, "feature_names_in_", [])] or [
        f"x{j}" for j in range(coef.shape[1])]
    if record.fit_intercept:
        names = ["intercept", *names]
    df = record.n_obs - record.betas.shape[1]
    out = []
    for j, cov in enumerate(covariances):
        values = np.r_[intercept[j], coef[j]] if record.fit_intercept else coef[j]
        std_err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            t_value = values / std_err
        half = student_t.ppf(1.0 - alpha / 2.0, df) * std_err
        out.append(QuantileSummary(
            names=np.asarray(names), coef=values, std_err=std_err, t_value=t_value,
            p_value=2.0 * student_t.sf(np.abs(t_value), df),
            conf_int=np.c_[values - half, values + half], cov=cov, df_resid=df,
            scale=float(scale[j]), r2=math.nan, adj_r2=math.nan, n_obs=record.n_obs,
            cov_kind=se, n_iter=int(record.n_iter[j]), converged=bool(record.converged[j]),
            alpha=alpha, weights=np.asarray(estimator.weights_),
            description=f"{type(estimator).__name__}: quantile regression",
            quantile=float(record.levels[j])))
    return out


def data_unit_covariances(record: QuantileFitRecord, se: str):
    """Every level's covariance in the data's units, intercept first."""
    if se not in SE_KINDS:
        raise ValueError(f"se must be one of {SE_KINDS}, got {se!r}")
    return [intercept_first(quantile_covariance(record, j, se), record.fit_intercept)
            for j in range(record.levels.size)]


__all__ = ["SE_KINDS", "QuantileFitRecord", "QuantileSummary", "hall_sheather_bandwidth",
           "quantile_covariance"]
