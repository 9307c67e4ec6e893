"""Confidence and prediction intervals of a robust linear fit, as R's ``predict.lmrob``.

For a row ``x`` (with a leading 1 for the intercept) and the coefficients'
covariance ``V``, the standard error of the fitted mean is ``sqrt(x' V x)``;
the interval is the prediction ``-+ t_{n-k, 1-alpha/2}`` times that
(``kind="confidence"``) or times ``sqrt(x' V x + scale**2)`` for a new
observation (``kind="prediction"``), with ``scale`` the fit's residual scale
(the S-scale for an MM fit).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._fitted import check_alpha, fitted_covariance

_KINDS = ("prediction", "confidence")


def prediction_interval(estimator, X, alpha=0.05, kind="prediction", cov_kind="auto"):
    """``(n, 2)`` lower and upper bounds for the rows of ``X`` (the ``predict_interval`` method).

    Parameters
    ----------
    estimator : RobustRegressor
        A fitted linear (non-kernel) M- or MM-fit.
    X : array-like or sparse matrix of shape (n_samples, n_features)
    alpha : float, default=0.05
        One minus the coverage.
    kind : {"prediction", "confidence"}, default="prediction"
        A new observation's interval, or the fitted mean's.
    cov_kind : str, default="auto"
        The covariance formula (see :meth:`skrobust.RobustRegressor.cov_params`).

    Returns
    -------
    bounds : ndarray of shape (n_samples, 2)
    """
    from scipy.stats import t as student_t

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    alpha = check_alpha(alpha)
    cov, stats, _ = fitted_covariance(estimator, cov_kind, fill=0.0)  # aliased: fixed 0
    X = validate_data(estimator, X, accept_sparse=["csr", "csc"],
                      dtype=[np.float64, np.float32], reset=False)
    fitted = np.asarray(X @ estimator.coef_, dtype=np.float64).ravel() + estimator.intercept_
    if stats.fit_intercept:  # cov is intercept first: x' V x = V00 + 2 X V[1:, 0] + X V11 X'
        var = (cov[0, 0] + 2.0 * np.asarray(X @ cov[1:, 0]).ravel()
               + _row_dots(np.asarray(X @ cov[1:, 1:]), X))
    else:
        var = _row_dots(np.asarray(X @ cov), X)
    if kind == "prediction":
        var = var + stats.data_scale**2
    half = student_t.ppf(1.0 - alpha / 2.0, stats.df_resid) * np.sqrt(np.clip(var, 0.0, None))
    return np.c_[fitted - half, fitted + half]


def _row_dots(dense, X):
    """``sum_j dense[i, j] X[i, j]`` for each row, for a dense or sparse ``X``."""
    if sp.issparse(X):
        return np.asarray(X.multiply(dense).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", dense, X)


__all__ = ["prediction_interval"]
