"""Robust regression errors for model selection on dirty data, and their scorers.

Squared error (and so R², the default score of a regressor) on a validation
fold that holds outliers rewards the model that chases them.  The errors here
measure the spread of the residuals ``r = y_true - y_pred`` **about zero**
(never re-centred, so a biased model pays for its bias) in a way a few gross
residuals cannot dominate:

- :func:`tau_scale`: the tau-scale of Yohai & Zamar (1988), robustbase's
  ``scaleTau2(r, c1 = 0, mu0 = 0)``;
- :func:`trimmed_mse`: the mean squared residual without the largest ones;
- :func:`residual_mad`: ``median |r| / Phi^-1(3/4)``.

All take frequency weights: an integer weight acts as that many copies of
the row.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils.validation import _check_sample_weight

from ..scale import MAD_NORMAL_CONSTANT, mad_scale, weighted_median
from ..scale.rules import _normal_truncated_second_moment

TAU_C2 = 3.0  # robustbase's scaleTau2 default cutoff of the rho function


def _residuals(y_true, y_pred, sample_weight):
    """Validated residuals ``y_true - y_pred`` and frequency weights (float64, 1-D)."""
    arrays = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        a = np.asarray(values)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional (one target), got shape {a.shape}.")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be numeric, got dtype {a.dtype}.")
        a = a.astype(np.float64, copy=False)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinity.")
        arrays.append(a)
    t, p = arrays
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"y_true and y_pred have different lengths: {t.shape[0]} != {p.shape[0]}."
        )
    if t.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty.")
    # (scikit-learn's check also refuses weights that are all zero)
    w = _check_sample_weight(sample_weight, t, dtype=np.float64, ensure_non_negative=True)
    return t - p, w


@functools.lru_cache(maxsize=8)
def _tau_consistency(c2: float) -> float:
    """``E[min(Z**2, (c2 q)**2)]``, ``Z ~ N(0, 1)``, ``q = Phi^-1(3/4)``.

    The limit of ``mean(min((r / s0)**2, c2**2)) * s0**2 / sigma**2`` for
    normal residuals of scale ``sigma`` when ``s0 = median |r| -> q sigma``:
    dividing by it makes the tau-scale consistent at the normal model.
    """
    return _normal_truncated_second_moment(c2 * MAD_NORMAL_CONSTANT)


def tau_scale(y_true, y_pred, *, sample_weight=None):
    """Tau-scale of the residuals about zero (Yohai & Zamar 1988): a robust RMSE.

    With residuals ``r = y_true - y_pred``, ``s0 = median |r|`` and
    ``c2 = 3``::

        tau = s0 * sqrt(mean(min((r / s0)**2, c2**2)) / E[min(Z**2, (c2 q)**2)])

    where ``Z ~ N(0, 1)`` and ``q = Phi^-1(3/4)``; the denominator (0.9247)
    makes it consistent for the standard deviation of normal residuals.
    Residuals beyond ``c2 * s0`` count as ``c2 * s0``, so a few gross
    outliers in a validation fold cannot decide which model wins, while the
    score stays about as efficient as the RMSE on clean residuals.  The
    residuals are not re-centred: a biased model pays for its bias.

    This is R robustbase's ``scaleTau2(r, c1 = 0, mu0 = 0)`` (one step,
    ``consistency = TRUE``), which equals ``scaleTau2(c(r, -r))`` with the
    defaults.  More than half of the residuals exactly zero gives 0 (as R)
    with a warning.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True targets.
    y_pred : array-like of shape (n_samples,)
        Predicted targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: an integer weight acts as that many copies of the
        row (a weighted median and weighted mean), a zero weight removes it.

    Returns
    -------
    tau : float
        Non-negative, in the units of ``y``.

    Raises
    ------
    ValueError
        Lengths differ, input empty, NaN or infinity, negative weights or
        weights summing to zero.

    See Also
    --------
    robust_scorer : This error as a scikit-learn scorer (``kind="tau"``).
    trimmed_mse : The mean squared residual without the largest ones.

    References
    ----------
    Yohai, V. J. and Zamar, R. H. (1988). High breakdown-point estimates of
    regression by means of the minimization of an efficient scale.  JASA 83,
    406-413.  Maronna, R. A. and Zamar, R. H. (2002). Robust estimates of
    location and dispersion for high-dimensional datasets.  Technometrics 44,
    307-317.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.metrics import tau_scale
    >>> rng = np.random.default_rng(0)
    >>> r = rng.normal(size=10_000)
    >>> round(tau_scale(r, np.zeros_like(r)), 2)  # consistent: about the normal's sd
    1.0
    >>> r[:1000] = 1e6  # 10% gross errors hardly move it
    >>> round(tau_scale(r, np.zeros_like(r)), 2)
    1.3
    """
    r, w = _residuals(y_true, y_pred, sample_weight)
    abs_r = np.abs(r)
    s0 = weighted_median(abs_r, w)
    if s0 == 0.0:
        warnings.warn("More than half of the residuals are exactly zero: the tau-scale is 0.",
                      UserWarning, stacklevel=2)
        return 0.0
    u2 = np.minimum(abs_r / s0, TAU_C2) ** 2
    mean_u2 = float(np.dot(w, u2) / w.sum())
    return float(s0 * math.sqrt(mean_u2 / _tau_consistency(TAU_C2)))


def _check_trim(trim):
    if isinstance(trim, bool) or not isinstance(trim, numbers.Real) or not 0 <= trim < 0.5:
        raise ValueError(f"trim must be a number in [0, 0.5), got {trim!r}.")
    return float(trim)


def trimmed_mse(y_true, y_pred, *, trim=0.1, sample_weight=None):
    """Mean squared residual after dropping the ``floor(trim * n)`` largest ``|residuals|``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True targets.
    y_pred : array-like of shape (n_samples,)
        Predicted targets.
    trim : float, default=0.1
        Share of the rows (of the total weight) dropped, in ``[0, 0.5)``;
        0 gives the mean squared error.
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: ``n`` is the total weight, ``floor(trim * n)``
        units of weight are dropped from the largest residuals down (a row's
        weight may be dropped in part), and the mean is over the rest.  An
        integer weight therefore acts as that many copies of the row.  The
        weights' scale matters: weights summing to less than ``1 / trim``
        drop nothing.

    Returns
    -------
    mse : float
        Non-negative, in the squared units of ``y``.

    Raises
    ------
    ValueError
        ``trim`` outside ``[0, 0.5)``, lengths differ, input empty, NaN or
        infinity, negative weights or weights summing to zero.

    See Also
    --------
    robust_scorer : This error as a scikit-learn scorer (``kind="trimmed_mse"``).
    tau_scale : A smooth robust RMSE, without a trimming share to choose.

    Examples
    --------
    >>> from skrobust.metrics import trimmed_mse
    >>> y_true = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> y_pred = [1.0, -1.0, 2.0, -2.0, 1.0, -1.0, 2.0, -2.0, 1.0, 100.0]
    >>> trimmed_mse(y_true, y_pred, trim=0.1)  # drops the 100: (5 * 1 + 4 * 4) / 9
    2.3333333333333335
    """
    trim = _check_trim(trim)
    r, w = _residuals(y_true, y_pred, sample_weight)
    total = float(w.sum())
    # the tolerance keeps floor(0.3 * 10) at 3 despite 0.3 * 10 = 3.0000000000000004
    dropped = math.floor(trim * total + 1e-9)
    r2 = r * r
    order = np.argsort(-r2, kind="stable")
    w_sorted = w[order]
    before = np.cumsum(w_sorted) - w_sorted  # weight of the larger residuals
    kept = np.clip(before + w_sorted - dropped, 0.0, w_sorted)
    return float(np.dot(kept, r2[order]) / (total - dropped))


def residual_mad(y_true, y_pred, *, sample_weight=None):
    """Normalised median absolute residual about zero, ``median |r| / Phi^-1(3/4)``.

    Consistent for the standard deviation of normal residuals, with a 50%
    breakdown point, but less efficient than :func:`tau_scale`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True targets.
    y_pred : array-like of shape (n_samples,)
        Predicted targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights (a weighted median).

    Returns
    -------
    mad : float
        Non-negative, in the units of ``y``.

    Raises
    ------
    ValueError
        Lengths differ, input empty, NaN or infinity, negative weights or
        weights summing to zero.

    See Also
    --------
    robust_scorer : This error as a scikit-learn scorer (``kind="mad"``).
    skrobust.scale.mad_scale : The same scale of a residual vector.

    Examples
    --------
    >>> from skrobust.metrics import residual_mad
    >>> round(residual_mad([0.0, 0.0, 0.0], [1.0, -2.0, 100.0]), 4)  # 2 / 0.6745
    2.9652
    """
    r, w = _residuals(y_true, y_pred, sample_weight)
    return mad_scale(r, w)


_KINDS = {"tau": tau_scale, "trimmed_mse": trimmed_mse, "mad": residual_mad}


def robust_scorer(kind="tau", *, trim=None):
    """A scikit-learn scorer from a robust regression error, for model selection on dirty data.

    Greater is better, as for every scikit-learn scorer: the scorer returns
    the **negated** error (as ``"neg_mean_squared_error"`` does).  Use it
    wherever scikit-learn takes ``scoring``: ``GridSearchCV``,
    ``HalvingGridSearchCV``, ``cross_val_score``, or one entry of a dict of
    scorers in ``cross_validate``.

    Parameters
    ----------
    kind : {"tau", "trimmed_mse", "mad"}, default="tau"
        - "tau": :func:`tau_scale`, a robust RMSE (about 80% as efficient as
          the RMSE on clean normal residuals, unmoved by a few gross ones);
        - "trimmed_mse": :func:`trimmed_mse`, the mean squared residual
          without the largest ``trim`` share;
        - "mad": :func:`residual_mad`, the normalised median absolute
          residual (50% breakdown, the least efficient).
    trim : float, default=None
        Only for ``kind="trimmed_mse"``: the share dropped (None: 0.1).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)``.  With scikit-learn's
        metadata routing enabled, ``scorer.set_score_request(sample_weight=True)``
        routes a search's ``sample_weight`` to it.

    Raises
    ------
    ValueError
        Unknown ``kind`` (the message lists the kinds), ``trim`` outside
        ``[0, 0.5)`` or given for another kind.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skrobust import RobustRegressor
    >>> from skrobust.metrics import robust_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [1.0, 2.0] + 0.5 * rng.normal(size=200)
    >>> y[:30] += 40.0  # outliers in every fold
    >>> search = GridSearchCV(RobustRegressor(), {"epsilon": [1.345, 100.0]},
    ...                       scoring=robust_scorer("tau")).fit(X, y)
    >>> search.best_params_  # epsilon = 100 is least squares, which chases the outliers
    {'epsilon': 1.345}
    """
    if kind not in _KINDS:
        raise ValueError(f"Unknown kind {kind!r}; use one of {', '.join(map(repr, _KINDS))}.")
    params = {}
    if trim is not None:
        if kind != "trimmed_mse":
            raise ValueError(f"trim applies to kind='trimmed_mse' only, not kind={kind!r}.")
        params["trim"] = _check_trim(trim)
    return make_scorer(_KINDS[kind], greater_is_better=False, **params)
