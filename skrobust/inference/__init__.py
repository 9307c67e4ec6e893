"""Inference for robust linear fits: covariance, summaries, robust R² and intervals.

:class:`skrobust.RobustRegressor` exposes these as methods
(``cov_params``, ``summary``, ``predict_interval``); this package holds the
formulas (:mod:`.covariance`), the coefficient table and the robust R²
(:mod:`.summary`), the intervals (:mod:`.intervals`) and quantreg's standard
errors of quantile fits (:mod:`.quantile`).  See the user guide's
"Inference" page for the formulas and which covariance to choose.

Examples
--------
>>> from skrobust import RobustRegressor
>>> from skrobust.datasets import load_stackloss
>>> X, y = load_stackloss(return_X_y=True)
>>> res = RobustRegressor(loss="tukey", random_state=0).fit(X, y).summary()
>>> res.cov_kind, int(res.df_resid)
('avar1', 17)
"""

from .covariance import COV_KINDS, FitStatistics, covariance, fit_statistics
from .intervals import prediction_interval
from .quantile import SE_KINDS, QuantileSummary, hall_sheather_bandwidth
from .summary import RegressionSummary, r2_constant, robust_r2

__all__ = [
    "COV_KINDS",
    "FitStatistics",
    "QuantileSummary",
    "RegressionSummary",
    "SE_KINDS",
    "covariance",
    "fit_statistics",
    "hall_sheather_bandwidth",
    "prediction_interval",
    "r2_constant",
    "robust_r2",
]
