"""Metrics for robust estimation.

- **Detection** of outliers and label issues: a predicted boolean mask
  (flagged samples) against the true mask (corrupted samples), and the
  robustness of a classifier to noise in its inputs.
- **Robust regression errors** for model selection on dirty data: the
  tau-scale, the trimmed mean squared error and the normalised MAD of the
  residuals, and :func:`robust_scorer`, which wraps them as scikit-learn
  scorers for ``GridSearchCV(scoring=...)`` and ``cross_validate``.

Examples
--------
>>> from skrobust.metrics import detection_report, tau_scale
>>> detection_report([1, 1, 0, 0], [1, 0, 1, 0])["f1"]
0.5
>>> round(tau_scale([0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 2.0, 50.0]), 4)
2.664
"""

from ._detection import (
    detection_f1,
    detection_precision,
    detection_recall,
    detection_report,
    noise_robustness_curve,
)
from ._regression import residual_mad, robust_scorer, tau_scale, trimmed_mse

__all__ = [
    "detection_f1",
    "detection_precision",
    "detection_recall",
    "detection_report",
    "noise_robustness_curve",
    "residual_mad",
    "robust_scorer",
    "tau_scale",
    "trimmed_mse",
]
