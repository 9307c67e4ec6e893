"""Several quantile levels in one :class:`~skrobust.RobustRegressor` fit.

``RobustRegressor(loss="quantile", quantile=[0.1, 0.5, 0.9])`` fits every
level at once with :func:`skrobust.solvers.quantile.quantile_process`
(optionally with ``noncrossing=True``).  The fitted model follows
scikit-learn's multi-output convention, one row of ``coef_`` and one column
of the predictions per level, in the order of ``quantile``:

- ``coef_`` has shape ``(n_levels, n_features)``, ``intercept_`` and
  ``scale_`` (the weighted mean pinball loss of each level) ``(n_levels,)``;
- ``predict`` returns ``(n_samples, n_levels)``;
- ``outliers_`` is ``(n_samples, n_levels)``, each level's residuals flagged
  by the rule of a single-level fit; ``weights_`` stays ``(n_samples,)`` of
  ones (the pinball loss down-weights nobody at any level);
- ``score`` is the uniform average over the levels of the R² of their
  predictions (scikit-learn's ``multioutput="uniform_average"``), which is
  the single-level fit's R² for one level.

A scalar ``quantile`` keeps the single-level model and its 1-D shapes; a
list with one level is a multi-level model with one level.

Examples
--------
>>> import numpy as np
>>> from skrobust import RobustRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(0, 1, size=(300, 1))
>>> y = 1.0 + 2.0 * X[:, 0] + rng.normal(size=300)
>>> reg = RobustRegressor(loss="quantile", quantile=[0.9, 0.1, 0.5]).fit(X, y)
>>> reg.coef_.shape, reg.intercept_.shape, reg.predict(X[:4]).shape
((3, 1), (3,), (4, 3))
>>> bool(np.all(np.argsort(reg.intercept_) == [1, 2, 0]))  # the order of ``quantile``
True
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import r2_score

from .losses import Quantile
from .losses.quantile import check_quantile_levels

__all__ = ["estimator_levels", "first_level", "LevelScoreMixin", "linear_decision",
           "quantile_levels", "run_quantile_fit", "set_level_attributes"]


def quantile_levels(quantile):
    """The levels of a vector ``quantile`` parameter as a float array; None for a scalar.

    A scalar (a real number, or a 0-d array) is the single-level model, checked
    elsewhere.  A sequence must be 1-D, non-empty, of real numbers strictly
    between 0 and 1, without duplicates; its order is kept.

    Raises
    ------
    TypeError
        Levels that are not real numbers.
    ValueError
        An empty or non-1-D sequence, levels outside (0, 1) or NaN, duplicated levels.

    Examples
    --------
    >>> from skrobust._quantile_levels import quantile_levels
    >>> quantile_levels(0.5) is None
    True
    >>> quantile_levels([0.9, 0.1])
    array([0.9, 0.1])
    >>> quantile_levels([0.1, 0.1])
    Traceback (most recent call last):
    ...
    ValueError: quantile has duplicated levels: [0.1] (a level must not repeat)
    """
    if np.ndim(quantile) == 0 and not isinstance(quantile, (str, bytes)):
        return None
    return check_quantile_levels(quantile)


def first_level(quantile):
    """The quantile of the fit's loss: ``quantile`` itself, or its first level.

    Examples
    --------
    >>> from skrobust._quantile_levels import first_level
    >>> first_level(0.3), first_level([0.7, 0.2])
    (0.3, 0.7)
    """
    levels = quantile_levels(quantile)
    return quantile if levels is None else float(levels[0])


def estimator_levels(estimator):
    """The levels of a quantile fit's ``quantile`` parameter, or None (single level).

    A loss object (``loss=Quantile(q)``) carries its own single level.
    """
    if not (isinstance(estimator.loss, str) and estimator.loss == "quantile"):
        return None
    return quantile_levels(estimator.quantile)


def run_quantile_fit(estimator, plan, design, y, sample_weight, solver_args):
    """Solve the quantile fit of ``plan``: one level, or all the levels of ``quantile`` at once.

    ``design``, ``y`` and ``sample_weight`` are in the fit's units (the rows
    of positive weight); ``solver_args`` are the estimator's solver arguments.
    """
    levels = estimator_levels(estimator)
    if levels is None:
        from .solvers.run import run_solver

        return run_solver(plan, design, y, sample_weight, None, **solver_args)
    from .solvers.quantile import quantile_process

    return quantile_process(design, y, sample_weight, levels, alpha=solver_args["alpha"],
                            max_iter=max(solver_args["max_iter"], 200),
                            noncrossing=bool(estimator.noncrossing),
                            verbose=solver_args.get("progress") or 0)


def set_level_attributes(estimator, design, result, X, y):
    """Set the fitted attributes of a multi-level quantile fit; returns the residuals.

    ``result.beta`` is ``(n_levels, n_params)`` in the fit's units; the
    residuals returned are ``(n_samples, n_levels)`` in ``y``'s units.
    """
    units = estimator._units
    levels = estimator_levels(estimator)
    coefs, intercepts = [], []
    for beta in np.atleast_2d(result.beta):
        coef, intercept = design.split(units.coef_out(beta, design.fit_intercept))
        coefs.append(estimator._all_columns(np.asarray(coef, dtype=np.float64)))
        intercepts.append(float(intercept))
    estimator.__dict__.pop("dual_coef_", None)
    estimator.__dict__.pop("shape_", None)
    estimator.coef_ = np.array(coefs, dtype=np.float64).reshape(len(levels), -1)
    estimator.intercept_ = np.array(intercepts, dtype=np.float64)
    estimator.loss_ = tuple(Quantile(quantile=float(q)) for q in levels)
    estimator.n_iter_ = int(max(result.n_iter, 1))
    # the design holds the rows of positive weight: their fitted values come from it
    betas = np.atleast_2d(result.beta)
    fitted = np.column_stack([design.predict(beta) for beta in betas]) * units.y
    support = getattr(estimator, "_support", None)
    if support is not None:
        full = np.empty((X.shape[0], betas.shape[0]))
        full[support] = fitted
        full[~support] = estimator._decision(X[~support])
        fitted = full
    residuals = y[:, None] - fitted
    estimator.weights_ = np.ones(residuals.shape[0])
    # the weighted mean pinball loss of each level, as a single-level fit's scale_
    estimator.scale_ = np.array([r.scale for r in result.results], dtype=np.float64) * units.y
    return residuals


def linear_decision(Z, coef, intercept):
    """``Z @ coef' + intercept``: ``(n,)`` for one coefficient vector, ``(n, n_levels)`` for rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust._quantile_levels import linear_decision
    >>> Z = np.array([[1.0], [2.0]])
    >>> linear_decision(Z, np.array([2.0]), 1.0)
    array([3., 5.])
    >>> linear_decision(Z, np.array([[2.0], [0.0]]), np.array([1.0, 7.0]))
    array([[3., 7.],
           [5., 7.]])
    """
    coef = np.asarray(coef)
    out = np.asarray(Z @ coef.T, dtype=np.float64)
    return (out.ravel() if coef.ndim == 1 else out.reshape(Z.shape[0], -1)) + intercept


class LevelScoreMixin:
    """``score`` of a regressor whose quantile fits may have several levels."""

    def score(self, X, y, sample_weight=None):
        """R² of the predictions; for several quantile levels, averaged over the levels.

        The uniform average of the levels' R² is scikit-learn's multi-output
        default (``multioutput="uniform_average"``); for a single level it is
        :meth:`sklearn.base.RegressorMixin.score`.  To select quantile models,
        score the pinball loss instead
        (``make_scorer(mean_pinball_loss, alpha=q, greater_is_better=False)``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float

        Examples
        --------
        >>> import numpy as np
        >>> from skrobust import RobustRegressor
        >>> X = np.arange(20.0)[:, None]
        >>> y = 2 * X.ravel() + np.sin(X.ravel())
        >>> reg = RobustRegressor(loss="quantile", quantile=[0.25, 0.75]).fit(X, y)
        >>> bool(reg.score(X, y) > 0.99)
        True
        """
        y_pred = self.predict(X)
        if y_pred.ndim == 2:
            y = np.asarray(y, dtype=np.float64).reshape(-1)
            y = np.repeat(y[:, None], y_pred.shape[1], axis=1)
        return float(r2_score(y, y_pred, sample_weight=sample_weight))
