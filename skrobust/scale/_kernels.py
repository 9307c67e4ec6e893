"""The compiled pass of the median near a guess (:mod:`skrobust.scale.median`)."""

from __future__ import annotations

from .._numba import njit


@njit(cache=True, nogil=True)
def abs_window(r, w, lo, hi, values, weights):
    """Split ``|r|`` around the window ``[lo, hi]`` in one pass (for a median near a guess).

    Copies the ``|r|`` inside the window into ``values`` (and their weights
    ``w`` into ``weights``, when ``w`` has the length of ``r``); returns the
    number of values below ``lo``, their total weight and the number copied.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.scale._kernels import abs_window
    >>> values, weights = np.empty(4), np.empty(0)
    >>> abs_window(np.array([0.1, -1.0, 1.1, 5.0]), weights, 0.9, 1.2, values, weights)
    (1, 0.0, 2)
    >>> values[:2]
    array([1. , 1.1])
    """
    weighted = w.shape[0] == r.shape[0]
    n_below = 0
    w_below = 0.0
    k = 0
    for i in range(r.shape[0]):
        a = abs(r[i])
        if a < lo:
            n_below += 1
            if weighted:
                w_below += w[i]
        elif a <= hi:
            values[k] = a
            if weighted:
                weights[k] = w[i]
            k += 1
    return n_below, w_below, k
