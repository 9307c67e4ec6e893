"""Diagnostic displays of robust regression fits.

:class:`OutlierMapDisplay` is the regression outlier map of Rousseeuw & van
Zomeren (1990), robustbase's ``plot.lmrob(which=1)``: the standardised
residuals ``r_i / scale`` of a fit against the robust distances of the rows
of ``X`` (the intercept column is never part of ``X``), with the cut-offs
``+-2.5`` and ``sqrt(chi2_p(0.975))`` for ``p`` features.  They split the rows
into four classes: regular observations, vertical outliers (a large residual
at an ordinary ``x``), good leverage points (an outlying ``x`` on the fitted
plane) and bad leverage points (both).

The robust distances come from scikit-learn's :class:`~sklearn.covariance.MinCovDet`
(reweighted MCD, ``sqrt`` of its squared distances ``dist_``).  They are not
robustbase ``covMcd``'s distances (other consistency and small-sample factors),
so flags near the cut-off can differ from R's; the cut-off uses ``p`` = the
number of features (the textbook choice, as robustbase's ``ltsPlot``), where
``plot.lmrob`` counts the intercept too.

The display follows scikit-learn's conventions: ``from_estimator`` and
``from_predictions`` compute and plot, ``plot`` draws on an axes and stores
the artists in trailing-underscore attributes; matplotlib is imported only
when drawing.  The classes are computed at construction, without matplotlib.
"""

from __future__ import annotations

import numpy as np

CLASSES = ("regular", "vertical", "good_leverage", "bad_leverage")
_COLORS = {"regular": "tab:blue", "vertical": "tab:orange", "good_leverage": "tab:green",
           "bad_leverage": "tab:red"}
_TITLES = {"regular": "regular", "vertical": "vertical outlier",
           "good_leverage": "good leverage", "bad_leverage": "bad leverage"}


def robust_distances(X, *, support_fraction=None, random_state=None):
    """Robust (MCD) Mahalanobis distances of the rows of ``X``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Dense features, without an intercept column.
    support_fraction : float, default=None
        Passed to :class:`~sklearn.covariance.MinCovDet` (None: ``(n + p + 1) / 2`` rows).
    random_state : int, RandomState instance or None, default=None
        Seed of the MCD's random subsets.

    Returns
    -------
    distances : ndarray of shape (n_samples,)
        ``sqrt`` of the reweighted MCD's squared distances.

    Examples
    --------
    >>> from skrobust.datasets import load_hbk
    >>> from skrobust.inspection import robust_distances
    >>> X, y = load_hbk(return_X_y=True)
    >>> bool((robust_distances(X, random_state=0)[:14] > 3.0575).all())
    True
    """
    from sklearn.covariance import MinCovDet
    from sklearn.utils import check_array

    X = check_array(X, dtype=np.float64)
    mcd = MinCovDet(support_fraction=support_fraction, random_state=random_state).fit(X)
    return np.sqrt(mcd.dist_)


def _distance_cutoff(n_features, quantile):
    from scipy.stats import chi2

    if not 0.0 < float(quantile) < 1.0:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile!r}")
    if int(n_features) < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    return float(np.sqrt(chi2.ppf(float(quantile), int(n_features))))


class OutlierMapDisplay:
    """The regression outlier map: standardised residuals against robust distances.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`; the
    constructor stores the data and classifies the rows.

    Parameters
    ----------
    robust_distances : array-like of shape (n_samples,)
        Robust distances of the rows of ``X`` (see :func:`robust_distances`).
    std_residuals : array-like of shape (n_samples,)
        Residuals divided by the fit's scale.
    distance_cutoff : float
        Distances above it are leverage points (``sqrt(chi2_p(0.975))``).
    residual_cutoff : float, default=2.5
        Absolute standardised residuals above it are outliers.
    labels : array-like of shape (n_samples,), default=None
        Names of the rows for the annotations (default: 0-based row numbers).

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_samples,)
        "regular", "vertical", "good_leverage" or "bad_leverage" for each row.
    ax_ : matplotlib Axes
        The axes drawn on (after :meth:`plot`).
    figure_ : matplotlib Figure
        Its figure.
    scatter_ : dict of str to matplotlib PathCollection
        One scatter per class present.
    hlines_ : list of matplotlib Line2D
        The lines at ``-+residual_cutoff``.
    vline_ : matplotlib Line2D
        The line at ``distance_cutoff``.
    annotations_ : list of matplotlib Text
        Labels of the most outlying flagged rows.

    See Also
    --------
    skrobust.RobustRegressor.summary : the coefficient table of a fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.inspection import OutlierMapDisplay
    >>> viz = OutlierMapDisplay(robust_distances=np.array([1.0, 1.0, 5.0, 5.0]),
    ...                         std_residuals=np.array([0.1, 4.0, 0.2, -6.0]),
    ...                         distance_cutoff=2.24)
    >>> viz.classes_.tolist()
    ['regular', 'vertical', 'good_leverage', 'bad_leverage']
    """

    def __init__(self, *, robust_distances, std_residuals, distance_cutoff, residual_cutoff=2.5,
                 labels=None):
        self.robust_distances = np.asarray(robust_distances, dtype=np.float64).ravel()
        self.std_residuals = np.asarray(std_residuals, dtype=np.float64).ravel()
        if self.robust_distances.shape != self.std_residuals.shape:
            raise ValueError(f"robust_distances and std_residuals must have the same length, got "
                             f"{self.robust_distances.size} and {self.std_residuals.size}")
        for name, value in (("distance_cutoff", distance_cutoff),
                            ("residual_cutoff", residual_cutoff)):
            if not float(value) > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        self.distance_cutoff = float(distance_cutoff)
        self.residual_cutoff = float(residual_cutoff)
        n = self.std_residuals.size
        self.labels = np.arange(n) if labels is None else np.asarray(labels)
        if self.labels.shape != (n,):
            raise ValueError(f"labels must have one entry per row ({n}), got {self.labels.shape}")
        outlying = np.abs(self.std_residuals) > self.residual_cutoff
        leverage = self.robust_distances > self.distance_cutoff
        self.classes_ = np.asarray(CLASSES, dtype=object)[outlying + 2 * leverage].astype(str)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, quantile=0.975, residual_cutoff=2.5,
                       support_fraction=None, random_state=None, labels=None, ax=None,
                       n_labels=10, scatter_kwargs=None, line_kwargs=None):
        """The outlier map of a fitted regressor with a ``scale_`` (e.g. RobustRegressor).

        Parameters
        ----------
        estimator : fitted regressor
            Its ``predict`` gives the residuals and its ``scale_`` standardises them.
        X : array-like of shape (n_samples, n_features)
            Dense features (the robust distances are computed on them).
        y : array-like of shape (n_samples,)
        quantile : float, default=0.975
            The distance cut-off is ``sqrt(chi2_p(quantile))``, ``p = n_features``.
        residual_cutoff : float, default=2.5
        support_fraction : float, default=None
            For :class:`~sklearn.covariance.MinCovDet`.
        random_state : int, RandomState instance or None, default=None
            Seed of the MCD.
        labels : array-like of shape (n_samples,), default=None
            Row names for the annotations (default: the DataFrame index of
            ``X``, or 0-based row numbers).
        ax : matplotlib Axes, default=None
        n_labels : int, default=10
            At most this many flagged rows are annotated (the most outlying).
        scatter_kwargs, line_kwargs : dict, default=None
            Passed to ``ax.scatter`` and to the cut-off lines.

        Returns
        -------
        display : OutlierMapDisplay
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(estimator)
        if not hasattr(estimator, "scale_"):
            raise ValueError(f"{type(estimator).__name__} has no scale_ to standardise the "
                             "residuals; use from_predictions with a scale")
        if np.ndim(estimator.scale_) != 0:
            raise ValueError("an outlier map shows one fit, and this one has several quantile "
                             "levels; use from_predictions with one level's predictions")
        if labels is None and hasattr(X, "index"):
            labels = np.asarray(X.index)
        rd = robust_distances(X, support_fraction=support_fraction, random_state=random_state)
        return cls.from_predictions(
            y, estimator.predict(X), scale=estimator.scale_, robust_distances=rd,
            n_features=np.shape(X)[1], quantile=quantile, residual_cutoff=residual_cutoff,
            labels=labels, ax=ax, n_labels=n_labels, scatter_kwargs=scatter_kwargs,
            line_kwargs=line_kwargs)

    @classmethod
    def from_predictions(cls, y_true, y_pred, *, scale, robust_distances, n_features,
                         quantile=0.975, residual_cutoff=2.5, labels=None, ax=None, n_labels=10,
                         scatter_kwargs=None, line_kwargs=None):
        """The outlier map of given predictions, scale and robust distances.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,)
        scale : float
            The residual scale (``r / scale`` are the standardised residuals).
        robust_distances : array-like of shape (n_samples,)
            See :func:`robust_distances`.
        n_features : int
            Dimension of the distances, for the chi-squared cut-off.
        quantile, residual_cutoff, labels, ax, n_labels, scatter_kwargs, line_kwargs
            As in :meth:`from_estimator`.

        Returns
        -------
        display : OutlierMapDisplay
        """
        if not float(scale) > 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        y_true = np.asarray(y_true, dtype=np.float64).ravel()
        y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
        if y_true.shape != y_pred.shape:
            raise ValueError(f"y_true and y_pred must have the same length, got {y_true.size} "
                             f"and {y_pred.size}")
        viz = cls(robust_distances=robust_distances, std_residuals=(y_true - y_pred) / scale,
                  distance_cutoff=_distance_cutoff(n_features, quantile),
                  residual_cutoff=residual_cutoff, labels=labels)
        return viz.plot(ax=ax, n_labels=n_labels, scatter_kwargs=scatter_kwargs,
                        line_kwargs=line_kwargs)

    def plot(self, ax=None, *, n_labels=10, scatter_kwargs=None, line_kwargs=None):
        """Draw the map.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A new figure's axes when None.
        n_labels : int, default=10
            At most this many flagged rows are annotated (the most outlying).
        scatter_kwargs, line_kwargs : dict, default=None
            Passed to ``ax.scatter`` (per class; ``color`` and ``label`` are
            set per class unless given) and to the cut-off lines.

        Returns
        -------
        display : OutlierMapDisplay
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("OutlierMapDisplay.plot needs matplotlib: pip install "
                              "matplotlib") from exc
        if ax is None:
            _, ax = plt.subplots()
        line_style = {"color": "black", "alpha": 0.7, "linestyle": "--", "linewidth": 1.0,
                      **(line_kwargs or {})}
        x, r = self.robust_distances, self.std_residuals
        self.scatter_ = {}
        for name in CLASSES:
            rows = self.classes_ == name
            if rows.any():
                style = {"color": _COLORS[name], "alpha": 0.8,
                         "label": f"{_TITLES[name]} ({int(rows.sum())})",
                         **(scatter_kwargs or {})}
                self.scatter_[name] = ax.scatter(x[rows], r[rows], **style)
        self.hlines_ = [ax.axhline(c, **line_style)
                        for c in (-self.residual_cutoff, self.residual_cutoff)]
        self.vline_ = ax.axvline(self.distance_cutoff, **line_style)
        flagged = np.flatnonzero(self.classes_ != "regular")
        extremeness = np.maximum(np.abs(r[flagged]) / self.residual_cutoff,
                                 x[flagged] / self.distance_cutoff)
        top = flagged[np.argsort(-extremeness, kind="stable")[: max(int(n_labels), 0)]]
        self.annotations_ = [ax.annotate(str(self.labels[i]), (x[i], r[i]),
                                         textcoords="offset points", xytext=(4, 4), fontsize=8)
                             for i in top]
        ax.set_xlabel("Robust distance of x (MCD)")
        ax.set_ylabel("Standardised residual")
        ax.legend(loc="best", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


__all__ = ["CLASSES", "OutlierMapDisplay", "robust_distances"]
