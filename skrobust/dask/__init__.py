"""Fit :class:`~skrobust.RobustRegressor` on row-chunked dask arrays.

Dask is an objective and a reducer, not a second set of solvers: for dask
input :class:`~skrobust.RobustRegressor` builds the same fit plan, validates
the chunks in one pass (:class:`DaskData`) and runs the in-memory starts and
solvers over a :class:`DaskObjective`; the scale rules sum through
:class:`DaskRows` (the MAD is the exact :func:`weighted_abs_median`).
What runs only here: the layout checks and the validation pass, the
blockwise passes and tree sums, the median selection, the S-start's row
sample and lazy predictions.  See the user guide's "Scaling out" page.

Examples
--------
>>> import numpy as np
>>> import pytest
>>> dask = pytest.importorskip("dask")
>>> import dask.array as da
>>> from skrobust import RobustRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(2000, 2))
>>> y = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=2000)
>>> y[:100] += 20.0
>>> dX, dy = da.from_array(X, chunks=(500, 2)), da.from_array(y, chunks=500)
>>> with dask.config.set(scheduler="synchronous"):
...     reg = RobustRegressor(loss="huber").fit(dX, dy)
>>> ref = RobustRegressor(loss="huber").fit(X, y)
>>> bool(np.allclose(reg.coef_, ref.coef_, rtol=1e-9))
True
>>> predict_dask(reg, dX).chunks  # lazy
((500, 500, 500, 500),)
"""

from __future__ import annotations

import sys

import numpy as np

from .._model import robustness_weights_of
from .._outliers import outlier_mask, outlier_rule
from .._param_relevance import _regressor_adaptive
from ..losses import Quantile
from ._median import MEDIAN_GATHER_CAP, weighted_abs_median
from ._reduce import DaskRows as DaskRows
from ._validate import DaskData as DaskData
from ._validate import _as_dask_vector, check_x
from .objective import DaskObjective


def is_dask_input(*arrays) -> bool:
    """Whether any argument is a dask collection (dask is never imported here).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.dask import is_dask_input
    >>> is_dask_input(np.ones((2, 2)), None)
    False
    """
    if "dask" not in sys.modules:  # no dask collection can exist
        return False
    from dask import is_dask_collection

    return any(a is not None and is_dask_collection(a) for a in arrays)


def _predict_block(X, estimator, width):
    if not X.shape[0]:  # an empty chunk (scikit-learn's validation refuses no rows)
        return np.empty((0,) if width is None else (0, width))
    return estimator.predict(X)


def predict_dask(estimator, X):
    """Lazy predictions for a dask ``X``: ``estimator.predict`` of each chunk of rows.

    Parameters
    ----------
    estimator : fitted RobustRegressor
    X : dask array of shape (n_samples, n_features), one column chunk

    Returns
    -------
    y_pred : dask array of shape (n_samples,) or (n_samples, n_levels)
        Chunked like ``X``'s rows; one column per level of a fit of several
        quantile levels, as ``estimator.predict``.  Nothing is computed until you ask
        (``.compute()``, ``.persist()``, ``da.to_zarr``...).

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from skrobust import RobustRegressor
    >>> y = np.arange(10.0) + 0.01 * np.sin(np.arange(10.0))  # not an exact fit
    >>> reg = RobustRegressor(loss="huber").fit(np.arange(10.0)[:, None], y)
    >>> pred = predict_dask(reg, da.arange(20.0, chunks=5)[:, None])
    >>> pred.chunks, np.round(pred[:3].compute(), 1)
    (((5, 5, 5, 5),), array([0., 1., 2.]))
    """
    import dask
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    X = check_x(X)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
                         f"expecting {estimator.n_features_in_} features as input.")
    # one copy of the estimator for the whole graph, not one per task
    model = dask.delayed(estimator)
    if not np.ndim(estimator.intercept_):
        return X.map_blocks(_predict_block, model, None, drop_axis=1, dtype=np.float64,
                            meta=np.empty((0,)))
    width = len(estimator.intercept_)  # several quantile levels: a column each
    return X.map_blocks(_predict_block, model, width, chunks=(X.chunks[0], (width,)),
                        dtype=np.float64, meta=np.empty((0, 0)))


def robustness_weights(estimator, X, y):
    """Lazy ``weights_`` and ``outliers_`` of a dask fit (they are not stored on the estimator).

    Parameters
    ----------
    estimator : fitted RobustRegressor
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples,), chunked like ``X``'s rows

    Returns
    -------
    weights : dask array of shape (n_samples,)
        ``weight(r / scale_) / weight(0)`` clipped to [0, 1], as ``weights_``.
    outliers : dask array of bool, shape (n_samples,)
        ``|r| > 2.5 scale_`` (``|r| > epsilon scale_`` for ``scale="joint"``),
        as ``outliers_`` (see :mod:`skrobust._outliers`).  Both come from the
        same lazy residuals: compute them together
        (``dask.compute(weights, outliers)``) to predict once.

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from skrobust import RobustRegressor
    >>> X, y = np.arange(20.0)[:, None], np.arange(20.0) + 0.1 * np.sin(np.arange(20.0))
    >>> y[3] = 100.0
    >>> reg = RobustRegressor(loss="huber").fit(X, y)
    >>> w, out = robustness_weights(reg, da.from_array(X, chunks=5), da.from_array(y, chunks=5))
    >>> bool(np.allclose(w.compute(), reg.weights_)), bool(out[3].compute())
    (True, True)
    """
    pred = predict_dask(estimator, X)
    loss = estimator.loss_
    rule = outlier_rule(estimator.scale, loss, estimator.scale_,
                        adaptive=_regressor_adaptive(estimator),
                        quantile=isinstance(loss, Quantile))
    if rule[0] != "fixed":
        raise NotImplementedError("the outlier flags of an adaptive Barron or quantile fit use "
                                  "the median of the residuals; compute them in memory")
    r = _as_dask_vector(y, X, "y") - pred
    # the in-memory formulas of weights_ and outliers_, chunk by chunk
    return (r.map_blocks(robustness_weights_of, loss, float(estimator.scale_), dtype=np.float64),
            r.map_blocks(outlier_mask, None, rule, dtype=bool))


__all__ = [
    "MEDIAN_GATHER_CAP",
    "DaskObjective",
    "predict_dask",
    "robustness_weights",
    "weighted_abs_median",
]
# DaskData, DaskRows and is_dask_input are importable building blocks, not documented API
