"""Reducers: where the scale rules' sums over weighted rows run.

A scale rule never touches the weights: it asks its reducer for the total
weight, for sums of per-row functions of the residuals and for the weighted
median of ``|r|``.  :class:`NumpyRows` holds a weight vector in memory (a
sum is one call of the per-row function on all rows);
:class:`skrobust.dask.DaskRows` tree-sums per-chunk sums of residuals held
in chunks.  The same per-row sum functions run in both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .median import abs_median, equal_weights


class Reducer(ABC):
    """Weighted rows of residuals: the scale rules' sums and medians run here.

    Subclasses give ``total`` (the sum of the weights), ``sum(fn, size, r,
    **kwargs)`` (the sum over the rows of ``fn(r_part, w_part, **kwargs)``, a
    length-``size`` vector, ``fn`` returning the sums of its part) and
    ``abs_median(r, guess)`` (the weighted median of ``|r|``, ``guess`` a
    value believed close or None).
    """

    total: float

    @abstractmethod
    def sum(self, fn, size, residuals, **kwargs) -> np.ndarray:
        """The sum over the rows of ``fn(r_part, w_part, **kwargs)`` (length ``size``)."""

    @abstractmethod
    def abs_median(self, residuals, guess=None) -> float:
        """The weighted median of ``|residuals|``."""


class NumpyRows(Reducer):
    """A weight vector in memory: a sum is ``fn(residuals, weights)`` on all rows at once.

    Built once per problem: the total weight and whether the weights are
    equal (then medians are plain medians) are found here, not per call.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,)
        Frequency weights (float64, not copied: they must not change).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.scale import NumpyRows, proposal2_sums
    >>> rows = NumpyRows(np.array([1.0, 2.0, 1.0]))
    >>> rows.total
    4.0
    >>> rows.abs_median(np.array([-3.0, 1.0, 2.0]))
    1.5
    >>> rows.sum(proposal2_sums, 2, np.array([9.0, 1.0, 4.0]), t=4.0, k2=1.0).tolist()
    [1.0, 6.0]
    """

    def __init__(self, sample_weight):
        self.w = sample_weight
        self.total = float(sample_weight.sum())
        # equal weights: the median needs none (a selection instead of a weighted sort)
        self._median_weights = None if equal_weights(sample_weight) else sample_weight

    def sum(self, fn, size, residuals, **kwargs) -> np.ndarray:
        return fn(residuals, self.w, **kwargs)

    def abs_median(self, residuals, guess=None) -> float:
        return abs_median(residuals, self._median_weights, guess)
