"""The inference methods of a fitted :class:`~skrobust.RobustRegressor`.

``cov_params``, ``summary`` and ``predict_interval`` read the statistics the
fit recorded (:mod:`._fitted`) and call the formulas of this package.
"""

from __future__ import annotations


class InferenceMixin:
    """Covariance, summary and intervals of a fitted robust linear regression."""

    def cov_params(self, kind="auto"):
        """Covariance matrix of the coefficients, the intercept first.

        Parameters
        ----------
        kind : {"auto", "avar1", "H1", "H2", "H3", "rlm"}, default="auto"
            "avar1": robustbase's ``.vcov.avar1`` (lmrob's default for MM);
            "H1", "H2", "H3": Huber's estimators (statsmodels RLM's
            ``cov_type``); "rlm": MASS ``summary.rlm``.  "auto" is "avar1"
            for an MM fit (``init="s"`` with the S-scale) and "H1" otherwise.
            Formulas: :mod:`skrobust.inference.covariance`.  For quantile
            fits: "iid", "nid" or "ker", quantreg's ``summary.rq(se=...)``
            ("auto" is "nid"; :mod:`skrobust.inference.quantile`).

        Returns
        -------
        cov : ndarray of shape (n_coef, n_coef) or (n_levels, n_coef, n_coef)
            Over the intercept (when fitted), then the features in column
            order; one matrix per level for several quantile levels.

        Raises
        ------
        ValueError
            For kernel, adaptive-shape, penalised and dask fits, which have no
            documented covariance.

        Examples
        --------
        >>> import numpy as np
        >>> from skrobust import RobustRegressor
        >>> from skrobust.datasets import load_stackloss
        >>> X, y = load_stackloss(return_X_y=True)
        >>> mm = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
        >>> np.sqrt(np.diag(mm.cov_params())).round(4)  # lmrob's Std. Error column
        array([5.2978, 0.1174, 0.263 , 0.0699])
        """
        from ._fitted import fitted_cov_params

        return fitted_cov_params(self, kind)

    def summary(self, alpha=0.05, kind="auto", se=None):
        """Coefficient table, robust R² and robustness weights, as R's ``summary(lmrob())``.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the level of the confidence intervals.
        kind : str, default="auto"
            The covariance formula of an M-fit (see :meth:`cov_params`).
        se : {"iid", "nid", "ker"}, default=None
            The standard errors of a quantile fit, as quantreg's
            ``summary.rq(se=...)`` (None: "nid"); only for quantile fits.

        Returns
        -------
        summary : skrobust.inference.RegressionSummary or list of QuantileSummary
            t and p values use the t distribution on ``n - k`` degrees of
            freedom.  A quantile fit gives a
            :class:`~skrobust.inference.QuantileSummary`, several levels a list
            of them in the order of ``quantile``.

        Examples
        --------
        >>> from skrobust import RobustRegressor
        >>> from skrobust.datasets import load_stackloss
        >>> X, y = load_stackloss(return_X_y=True)
        >>> res = RobustRegressor(loss="tukey", random_state=0).fit(X, y).summary()
        >>> round(res.r2, 4), round(res.adj_r2, 4)
        (0.9593, 0.9521)
        """
        from .summary import summarize

        return summarize(self, alpha=alpha, kind=kind, se=se)

    def predict_interval(self, X, alpha=0.05, kind="prediction"):
        """Prediction or confidence intervals, as R's ``predict.lmrob(interval=...)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        alpha : float, default=0.05
            One minus the coverage.
        kind : {"prediction", "confidence"}, default="prediction"
            For a new observation (adds the residual scale), or for the mean.

        Returns
        -------
        bounds : ndarray of shape (n_samples, 2)
            Lower and upper bounds, from the t distribution on ``n - k``
            degrees of freedom and the covariance of ``cov_params()``.

        Examples
        --------
        >>> from skrobust import RobustRegressor
        >>> from skrobust.datasets import load_stackloss
        >>> X, y = load_stackloss(return_X_y=True)
        >>> mm = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
        >>> mm.predict_interval(X[:1], kind="confidence").round(2)
        array([[32.87, 45.49]])
        """
        from .intervals import prediction_interval

        return prediction_interval(self, X, alpha=alpha, kind=kind)
