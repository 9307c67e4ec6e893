"""Degenerate but valid regression data: aliased columns and exact fits.

The estimator's side of :mod:`skrobust.design.aliasing`: which columns the
linear fit runs on, the fitted ``aliased_`` mask and the warnings.  Both cases
give a finite answer and a ``UserWarning`` that says what happened, as R's
``lm`` / ``lmrob`` do (NA coefficients; "S-estimated scale == 0: Probably exact
fit").
"""

from __future__ import annotations

import warnings

import numpy as np

from .design.aliasing import aliased_columns
from .design.linear import LinearDesign

_SHOWN_NAMES = 10  # the warning lists at most this many aliased columns


def _column_names(idx, feature_names):
    names = [str(feature_names[i]) if feature_names is not None else f"x{i}" for i in idx]
    if len(names) > _SHOWN_NAMES:
        names = names[:_SHOWN_NAMES] + [f"... ({len(idx) - _SHOWN_NAMES} more)"]
    return ", ".join(names)


def independent_design(X, fit_intercept, alpha, feature_names=None, stacklevel=5,
                       magnitudes=None):
    """The linear design without its aliased columns (when unpenalised), and the masks.

    Without a penalty (``alpha == 0``) aliased columns make the fit non-unique:
    the fit runs on the independent columns, the aliased ones get coefficient 0
    and a warning names them.  With a ridge penalty the fit is unique, so every
    column stays and only the (unpenalised) S-start must run on the
    independent columns.  Returns ``(design, aliased, s_columns)``:
    ``aliased`` marks the removed columns (all False when none was removed),
    ``s_columns`` the boolean mask of the design's columns the S-start uses
    (None: all).  ``magnitudes``: ``max |X_j|`` of the columns, when known.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> from skrobust._degenerate import independent_design
    >>> x = np.arange(5.0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     design, aliased, _ = independent_design(np.c_[x, x], True, 0.0)
    >>> design.n_features, aliased, "x1" in str(caught[0].message)
    (1, array([False,  True]), True)
    >>> design, aliased, s_columns = independent_design(np.c_[x, x], True, 0.1)
    >>> design.n_features, aliased, s_columns
    (2, array([False, False]), array([ True, False]))
    """
    aliased = aliased_columns(X, fit_intercept, magnitudes=magnitudes)
    if not aliased.any():
        return LinearDesign(X, fit_intercept), aliased, None
    if alpha > 0:
        return LinearDesign(X, fit_intercept), np.zeros_like(aliased), ~aliased
    idx = np.flatnonzero(aliased)
    warnings.warn(
        f"{idx.size} aliased column(s) (exactly collinear with the intercept and the columns "
        f"before them: constant, duplicated or a full set of one-hot columns): "
        f"{_column_names(idx, feature_names)}. The fit uses the independent columns; the "
        "aliased ones get coefficient 0 (see aliased_).", UserWarning, stacklevel=stacklevel)
    return LinearDesign(X[:, np.flatnonzero(~aliased)], fit_intercept), aliased, None


def warn_exact_fit(residuals, sample_weight, scale, floor, c, n_params, stacklevel=4):
    """Warn when the residual scale sits at its floor: at least half the weight fits exactly.

    Counts the rows within ``c * scale`` of the fit (those it does not reject).
    Returns whether it warned.
    """
    if not scale <= floor * (1.0 + 1e-6):
        return False
    on = np.abs(residuals) <= c * scale
    n = residuals.shape[0]
    share = float(sample_weight[on].sum() / sample_weight.sum())
    wide = (f" There are no more rows than parameters ({n} <= {n_params}): the model "
            "interpolates." if n <= n_params else "")
    warnings.warn(
        f"exact fit: {int(on.sum())} of {n} rows ({100 * share:.1f}% of the weight) lie exactly "
        f"on the fitted hyperplane, so the robust residual scale is 0 (held at its floor "
        f"{scale:.3g}) and every other row counts as an outlier.{wide} Check the data "
        "(R's lmrob: 'S-estimated scale == 0: Probably exact fit').",
        UserWarning, stacklevel=stacklevel)
    return True
