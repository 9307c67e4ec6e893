"""Weighted medians with frequency weights: the median, the MAD, the median of ``|r|``.

With integer weights each value counts as repeated ``weight`` times (the
mean of the two middle values when the total weight is even); zero weights
remove values.  For large samples the median of ``|r|`` near a guess (the
previous iteration's) is selected among the values within 5% of it, after
counting those below: one compiled pass, no sort or partition of everything.
"""

from __future__ import annotations

import math

import numpy as np

MAD_NORMAL_CONSTANT = 0.6744897501960817  # Phi^-1(3/4): MAD / this is consistent at the normal

_WINDOW_MIN_SIZE = 1 << 15  # from this many residuals, look for the median near a guess first
_WINDOW_WIDTH = 0.05


def weighted_median(x, sample_weight=None) -> float:
    """Median of ``x`` with frequency weights.

    With integer weights this equals ``np.median`` of the data with each
    value repeated ``weight`` times (the mean of the two middle values when
    the total weight is even); zero-weight values are ignored.

    Examples
    --------
    >>> from skrobust.scale import weighted_median
    >>> weighted_median([1.0, 2.0, 10.0], [1, 1, 2])
    6.0
    >>> weighted_median([1.0, 2.0, 10.0])
    2.0
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if w is None or equal_weights(w):
        # equal weights: the plain median (any constant weight repeats every row alike)
        return float(np.median(x))  # a selection (np.partition), O(n)
    keep = w > 0
    if not keep.all():
        x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    return _middle(x[order], np.cumsum(w[order]), None)


def equal_weights(w) -> bool:
    """Whether the weight vector ``w`` is one positive constant (the plain median applies).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.scale.median import equal_weights
    >>> equal_weights(np.full(3, 2.0)), equal_weights(np.array([1.0, 0.0]))
    (True, False)
    """
    return bool(w.size and w[0] > 0 and w.min() == w.max())


def _middle(x_sorted, cum, total):
    # lower: first value whose cumulative weight reaches half; upper: first exceeding it
    total = float(cum[-1]) if total is None else total
    half = 0.5 * total
    tol = 1e-12 * total
    lower = x_sorted[np.searchsorted(cum, half - tol, side="left")]
    upper = x_sorted[min(np.searchsorted(cum, half + tol, side="right"), x_sorted.size - 1)]
    return 0.5 * (float(lower) + float(upper))


def _abs_median_near(r, w, guess):
    """``weighted_median(|r|, w)`` from the ``|r|`` within 5% of ``guess``; None if not there.

    One compiled pass counts the values below the window and copies those in
    it; the middle values are then selected (or, with weights, sorted) among
    the copies only.  ``w`` is None for equal weights.
    """
    from ._kernels import abs_window

    lo, hi = guess * (1.0 - _WINDOW_WIDTH), guess * (1.0 + _WINDOW_WIDTH)
    r = np.ascontiguousarray(r, dtype=np.float64)
    values = np.empty_like(r)
    weights = np.empty_like(r) if w is not None else values[:0]
    n_below, w_below, k = abs_window(r, w if w is not None else values[:0], lo, hi, values,
                                     weights)
    values = values[:k]
    if w is None:
        k_lo, k_hi = (r.size - 1) // 2, r.size // 2  # ranks of the two middle values
        if not (n_below <= k_lo and k_hi < n_below + k):
            return None
        part = np.partition(values, [k_lo - n_below, k_hi - n_below])
        return 0.5 * (float(part[k_lo - n_below]) + float(part[k_hi - n_below]))
    weights = weights[:k]
    total = float(w.sum())
    half, tol = 0.5 * total, 1e-12 * total
    if not (w_below < half - tol and w_below + float(weights.sum()) > half + tol):
        return None
    order = np.argsort(values, kind="stable")
    return _middle(values[order], w_below + np.cumsum(weights[order]), total)


def abs_median(residuals, sample_weight=None, guess=None) -> float:
    """The weighted median of ``|residuals|``, looked for near ``guess`` first.

    ``guess`` (optional) is a value believed close to the median, such as
    the previous iteration's: for large samples the median is then selected
    among the ``|r|`` within 5% of it (one compiled pass counts those below);
    the result is the same, and when the median is not in that window the
    full computation runs.  ``sample_weight`` None means equal weights.

    Examples
    --------
    >>> from skrobust.scale.median import abs_median
    >>> abs_median([-1.0, 1.0, 2.0, -2.0, 100.0])
    2.0
    >>> abs_median([-1.0, 3.0], [3, 1], guess=1.0)
    1.0
    """
    r = np.asarray(residuals, dtype=np.float64).ravel()
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if guess is not None and r.size >= _WINDOW_MIN_SIZE and math.isfinite(guess) and guess > 0:
        value = _abs_median_near(r, None if w is None or equal_weights(w) else w, guess)
        if value is not None:
            return value
    return weighted_median(np.abs(r), w)


def mad_scale(residuals, sample_weight=None, guess=None) -> float:
    """Normalised median absolute residual, ``median(|r|) / 0.6745`` (centre 0, as MASS::rlm).

    ``guess`` (optional) is a scale believed close, such as the previous
    iteration's: for large samples the median of ``|r|`` is then selected
    among the residuals within 5% of ``0.6745 guess`` (:func:`abs_median`).
    The result is the same.

    Examples
    --------
    >>> from skrobust.scale import mad_scale
    >>> round(mad_scale([-1.0, 1.0, 2.0, -2.0, 100.0]), 4)
    2.9652
    """
    hint = None if guess is None else guess * MAD_NORMAL_CONSTANT
    return abs_median(residuals, sample_weight, hint) / MAD_NORMAL_CONSTANT
