"""The link between a fitted RobustRegressor and the covariance formulas.

At the end of ``fit`` the estimator calls :func:`record_fit`, which keeps the
``k x k`` statistics of :func:`~skrobust.inference.covariance.fit_statistics`
(or, for a fit without a documented covariance, the reason why); the public
methods read them back through :func:`fitted_covariance`.
"""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..losses import Quantile
from .covariance import COV_KINDS, FitStatistics, covariance, fit_statistics, intercept_first

RECORD_ATTRIBUTE = "_inference"


def record_fit(estimator, design, y, sample_weight, result, loss, adaptive: bool, units=None):
    """What the inference methods need of a fit: its statistics, or why there are none.

    Called by ``RobustRegressor.fit`` with the design over the rows of positive
    weight; reads ``kernel``, ``scale``, ``s_coef_`` and the resolved penalty of
    the estimator. ``design``, ``y``, ``sample_weight`` and ``result`` are in the
    fit's units (``units``, a :class:`skrobust._units.FitUnits`; None: the data's).
    """
    if estimator.kernel is not None:
        return "kernel models (kernel is set)"
    if adaptive:
        return "the adaptive-shape Barron fit (shape='adaptive')"
    if getattr(estimator, "_alpha", 0.0) > 0:
        return "penalised fits (alpha > 0)"
    if isinstance(loss, Quantile):
        return quantile_record(estimator, design, y, sample_weight, result, units)
    s_beta = None
    if hasattr(estimator, "s_coef_") and isinstance(estimator.scale, str) \
            and estimator.scale == "auto":  # an MM fit: the S-scale was held fixed
        s_beta = estimator.s_coef_
        aliased = getattr(estimator, "aliased_", None)
        if aliased is not None and aliased.any():  # the design holds the other columns only
            s_beta = s_beta[~aliased]
        if design.fit_intercept:
            s_beta = np.append(s_beta, estimator.s_intercept_)
        if units is not None:
            s_beta = units.coef_in(s_beta, design.fit_intercept)
    if units is not None:  # weights counted as frequency weights, not in the fit's units
        sample_weight = units.frequency_weights(sample_weight)
    stats = fit_statistics(design, y, beta=result.beta, scale=result.scale, loss=loss,
                           sample_weight=sample_weight, s_beta=s_beta,
                           converged=result.converged)
    if units is None or units.identity:
        return stats
    factors = units.coef_out(np.ones(result.beta.shape[0]), design.fit_intercept)
    return replace(stats, param_factors=factors, y_unit=float(units.y))


def quantile_record(estimator, design, y, sample_weight, result, units=None):
    """The :class:`~.quantile.QuantileFitRecord` of a quantile fit (one level or several).

    It keeps the training design: the "nid" standard errors refit at nearby levels.
    """
    from .quantile import QuantileFitRecord

    losses = estimator.loss_ if isinstance(estimator.loss_, tuple) else (estimator.loss_,)
    betas = np.atleast_2d(np.asarray(result.beta, dtype=np.float64))
    factors = None
    if units is not None and not units.identity:
        factors = units.coef_out(np.ones(betas.shape[1]), design.fit_intercept)
    return QuantileFitRecord(
        X=design.X, y=np.asarray(y, dtype=np.float64), sample_weight=sample_weight,
        count_unit=1.0 if units is None else float(units.frequency_weights(1.0)),
        fit_intercept=design.fit_intercept,
        levels=np.array([float(q.quantile) for q in losses]), betas=betas,
        param_factors=factors, y_unit=1.0 if units is None else float(units.y),
        # per level: the process's own results, or the single fit
        n_iter=np.array([r.n_iter for r in getattr(result, "results", [result])], dtype=int),
        converged=np.array([r.converged for r in getattr(result, "results", [result])]))


def _record(estimator):
    check_is_fitted(estimator)
    return getattr(estimator, RECORD_ATTRIBUTE, None)


def fitted_statistics(estimator) -> FitStatistics:
    """The recorded statistics of a fitted estimator, or a ``ValueError`` saying why not."""
    from .quantile import QuantileFitRecord

    record = _record(estimator)
    if isinstance(record, FitStatistics):
        return record
    if isinstance(record, QuantileFitRecord):
        raise ValueError("prediction intervals are not available for quantile regression: "
                         "fit the levels of the interval (quantile=[lower, upper])")
    reason = record if isinstance(record, str) else "fits on dask arrays"
    raise ValueError(f"standard errors, summaries and intervals are not available for {reason}")


def resolve_kind(kind, stats: FitStatistics) -> str:
    """``"auto"``: ``"avar1"`` for an MM fit, ``"H1"`` for any other M-fit."""
    if kind == "auto":
        return "avar1" if stats.s_start is not None else "H1"
    if not isinstance(kind, str) or kind not in COV_KINDS:
        raise ValueError(f"kind must be one of {('auto', *COV_KINDS)}, got {kind!r}")
    return kind


def fitted_quantile_record(estimator):
    """The :class:`~.quantile.QuantileFitRecord` of a quantile fit, or None for other fits."""
    from .quantile import QuantileFitRecord

    record = _record(estimator)
    return record if isinstance(record, QuantileFitRecord) else None


def quantile_covariances(estimator, record, se):
    """Each level's covariance, intercept first, with NaN rows for aliased columns."""
    from .quantile import data_unit_covariances

    return [with_aliased_columns(cov, estimator, record.fit_intercept)
            for cov in data_unit_covariances(record, se)]


def fitted_cov_params(estimator, kind="auto"):
    """``cov_params``: one matrix, or for several quantile levels one per level."""
    record = fitted_quantile_record(estimator)
    if record is None:
        return fitted_covariance(estimator, kind)[0]
    covs = quantile_covariances(estimator, record, "nid" if kind == "auto" else kind)
    return covs[0] if np.ndim(estimator.coef_) == 1 else np.stack(covs)


def fitted_covariance(estimator, kind="auto", fill=np.nan):
    """``(cov, stats, kind)``: the covariance of a fitted estimator, intercept first."""
    stats = fitted_statistics(estimator)
    kind = resolve_kind(kind, stats)
    cov = stats.covariance_in_data_units(covariance(stats, kind))
    cov = intercept_first(cov, stats.fit_intercept)
    return with_aliased_columns(cov, estimator, stats.fit_intercept, fill), stats, kind


def with_aliased_columns(cov, estimator, fit_intercept, fill=np.nan):
    """The covariance over every feature: rows and columns of ``fill`` for aliased ones.

    An aliased column (``aliased_``) is left out of the fit with coefficient 0;
    R reports its standard error as NA (``fill=nan``).  For intervals it is a
    constant 0 that adds no variance (``fill=0``).
    """
    aliased = getattr(estimator, "aliased_", None)
    if aliased is None or not aliased.any():
        return cov
    keep = np.r_[[True] * int(fit_intercept), ~aliased]
    full = np.full((keep.size, keep.size), fill, dtype=np.float64)
    full[np.ix_(keep, keep)] = cov
    return full


def check_alpha(alpha) -> float:
    """``alpha`` as a float in (0, 1), or a ``ValueError``/``TypeError`` naming it."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number in (0, 1), got {alpha!r}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return float(alpha)
