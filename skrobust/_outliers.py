"""What ``RobustRegressor.outliers_`` means: one rule for every loss.

A training row is flagged when its residual is large against a scale that
is *consistent at the normal model* (it estimates the standard deviation of
Gaussian errors): ``|r_i - m| / sigma > 2.5`` -- the cut-off of the outlier
map of Rousseeuw & van Zomeren (1990) and of R robustbase (``plot.lmrob``).
On clean Gaussian errors it flags ``2 (1 - Phi(2.5))`` = 1.24% of the rows,
whatever the loss.  ``sigma`` and the centre ``m`` are:

- ``scale_`` and 0 where ``scale_`` is consistent: the S-scale of an MM fit
  (lmrob), the MAD rule (MASS::rlm), Huber's proposal 2, a known scale
  given as ``scale=<float>``;
- the MAD of the residuals (about 0) / 0.6745 and 0 for the adaptive Barron
  fit, whose ``scale_`` is Barron's ``c`` (about 0.55 standard deviations at
  shape 0), not a standard deviation;
- the weighted median ``m`` of the residuals and their MAD about it / 0.6745
  for the quantile loss: a fit of the ``q``-quantile leaves residuals
  centred at ``-Phi^-1(q) sd``, not at 0.

The exception is Owen's joint scale (``scale="joint"``), the parity
configuration of :class:`sklearn.linear_model.HuberRegressor`: there
``outliers_`` keeps HuberRegressor's meaning, ``|r_i| > epsilon * scale_``,
so that it equals ``HuberRegressor.outliers_``.  (The joint scale is not a
standard deviation: with ``epsilon = 1.35`` it is about 0.74 sd, and 36% of
clean Gaussian rows are flagged.)
"""

from __future__ import annotations

import numpy as np

from .scale import mad_scale, weighted_median

#: ``|r| / sigma`` above which a row is an outlier (robustbase's outlier map)
OUTLIER_CUTOFF = 2.5


def outlier_rule(scale, loss, scale_, *, adaptive=False, quantile=False):
    """How rows are flagged: ``("fixed", threshold)`` or ``("mad", centred)``.

    ``("fixed", t)`` flags ``|r| > t``; ``("mad", centred)`` needs the
    residuals: ``|r - m| > 2.5 sigma`` with ``sigma`` their MAD / 0.6745,
    about their weighted median ``m`` if ``centred``, else about 0.

    Parameters
    ----------
    scale : str or float
        The estimator's ``scale`` parameter.
    loss : RobustLoss
        The fitted loss (``loss_``), whose ``c`` is the joint scale's cut-off.
    scale_ : float
        The fitted scale.
    adaptive, quantile : bool
        Whether the fit was the adaptive Barron fit or a quantile fit.

    Examples
    --------
    >>> from skrobust._outliers import outlier_rule
    >>> from skrobust.losses import get_loss
    >>> outlier_rule("auto", get_loss("tukey"), 2.0)
    ('fixed', 5.0)
    >>> outlier_rule("joint", get_loss("huber").with_c(1.35), 2.0)
    ('fixed', 2.7)
    """
    if adaptive:
        return "mad", False
    if quantile:
        return "mad", True
    if isinstance(scale, str) and scale == "joint":
        return "fixed", float(loss.c) * float(scale_)
    return "fixed", OUTLIER_CUTOFF * float(scale_)


def outlier_mask(residuals, sample_weight, rule):
    """The boolean ``outliers_`` mask of residuals under a rule of :func:`outlier_rule`.

    ``sample_weight`` (frequency weights, zero for rows left out of the fit)
    weights the median and MAD of the ``("mad", ...)`` rules; the mask covers
    every row.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust._outliers import outlier_mask
    >>> r = np.array([0.1, -0.4, 0.3, -0.2, 0.5, 9.0])
    >>> outlier_mask(r, None, ("fixed", 1.0)).tolist()
    [False, False, False, False, False, True]
    >>> outlier_mask(r + 100.0, None, ("mad", True)).tolist()
    [False, False, False, False, False, True]
    """
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim == 2:  # one column of residuals per quantile level, each flagged on its own
        return np.column_stack([outlier_mask(col, sample_weight, rule) for col in r.T])
    kind, value = rule
    if kind == "fixed":
        return np.abs(r) > value
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    centre = weighted_median(r, w) if value else 0.0
    return np.abs(r - centre) > OUTLIER_CUTOFF * mad_scale(r - centre, w)
