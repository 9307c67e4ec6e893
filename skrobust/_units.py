"""Units of a fit: exact power-of-two rescalings of X's columns, of y and of the weights.

A robust linear fit is equivariant: a factor on ``y`` multiplies the
coefficients, the intercept and the scale; a factor on a column of ``X``
divides its coefficient; a constant factor on frequency weights changes
nothing but the count of observations.  The sums of a fit (Grams, ``w r**2``,
``w rho``) overflow or underflow long before the data themselves do: weights
of 1e300 with targets of 1e10, or ``X`` and ``y`` of order 1e-300.  So the
estimators fit in units where every one of them is of order one, and map the
result back.  The units are powers of two, so the rescaling is exact (no
rounding), and data whose magnitude is within ``2**-64 .. 2**64`` keep the
unit 1: everyday data are fitted exactly as given.

Frequency weights count observations in the ``n - p`` corrections of
Huber's proposal 2 and of the S-scale; in the fit's units one observation
weighs :attr:`FitUnits.count`, and :meth:`FitUnits.frequency_weights` gives
weights that count observations, so those corrections are unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ._numba import njit

#: magnitudes within 2**-BAND .. 2**BAND keep the unit 1
BAND = 64
#: above this many observations per unit of weight, ``p / n`` is below double precision
COUNT_CAP = 2.0**52
#: below this many entries column_magnitudes uses NumPy (the kernel pays off on large X)
_SMALL = 1 << 16


def power_of_two_unit(magnitude: float) -> float:
    """The unit of data of the given magnitude: 1 within the band, else a power of two near it.

    Examples
    --------
    >>> from skrobust._units import power_of_two_unit
    >>> power_of_two_unit(3.0), power_of_two_unit(1e300) == 2.0**997, power_of_two_unit(0.0)
    (1.0, True, 1.0)
    """
    magnitude = float(magnitude)
    if not (magnitude > 0 and math.isfinite(magnitude)):
        return 1.0
    exponent = math.frexp(magnitude)[1]  # magnitude in [2**(e-1), 2**e)
    return 1.0 if abs(exponent) <= BAND else math.ldexp(1.0, exponent)


@njit(cache=True, nogil=True)
def _abs_max_by_column(X, by_rows, out):
    # one pass in X's memory order (rows of a C array, columns of a Fortran one)
    n, d = X.shape
    if by_rows:
        for i in range(n):
            for j in range(d):
                v = abs(X[i, j])
                if v > out[j]:
                    out[j] = v
    else:
        for j in range(d):
            top = 0.0
            for i in range(n):
                v = abs(X[i, j])
                if v > top:
                    top = v
            out[j] = top


def column_magnitudes(X) -> np.ndarray:
    """``max |X_j|`` of every column (finite X), in one pass with no ``n x d`` temporary.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust._units import column_magnitudes
    >>> column_magnitudes(np.array([[1.0, -5.0], [-3.0, 2.0]]))
    array([3., 5.])
    """
    if X.shape[0] == 0:
        return np.zeros(X.shape[1])
    if sp.issparse(X):
        top = np.asarray(X.max(axis=0).todense()).ravel()
        bottom = np.asarray(X.min(axis=0).todense()).ravel()
        return np.maximum(np.asarray(top, dtype=np.float64),
                          -np.asarray(bottom, dtype=np.float64))
    X = np.asarray(X)
    if X.size < _SMALL:
        # a small temporary, and no kernel to compile or load in a fresh process
        return np.abs(X).max(axis=0).astype(np.float64)
    if X.dtype != np.float64 or not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.asarray(X, dtype=np.float64, order="C")
    out = np.zeros(X.shape[1])
    _abs_max_by_column(X, not X.flags.f_contiguous or X.flags.c_contiguous, out)
    return out


@dataclass(frozen=True)
class FitUnits:
    """The units of a fit: ``x`` per column of ``X`` (None: ``X`` is kept), ``y``, ``w``.

    Internal data are ``X / x``, ``y / y_unit`` and ``w / w_unit``; internal
    coefficients are ``coef * x / y_unit``, the internal intercept and scale
    ``intercept / y_unit`` and ``scale / y_unit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust._units import FitUnits
    >>> X, y = np.array([[1e-300], [2e-300], [4e-300]]), np.array([1e-300, 3e-300, 7e-300])
    >>> units = FitUnits.of(X, y, np.ones(3))
    >>> Xi, yi, wi = units.internal(X, y, np.ones(3))
    >>> bool(1e-3 < Xi.max() <= 1.0 and 1e-3 < yi.max() <= 1.0)
    True
    >>> beta = np.linalg.lstsq(np.c_[Xi, np.ones(3)], yi, rcond=None)[0]  # fitted in units
    >>> np.round(units.coef_out(beta, fit_intercept=True) * [1, 1e300], 6)  # y = 2x - 1e-300
    array([ 2., -1.])
    """

    x: np.ndarray | None
    y: float
    w: float

    @classmethod
    def of(cls, X, y, sample_weight, *, columns=True, shared=False,
           magnitudes=None) -> FitUnits:
        """The units of data: per column of ``X`` (one for all with ``shared``; none with
        ``columns=False``, for kernel models, whose kernel is not scale free).
        ``magnitudes``: :func:`column_magnitudes` of ``X``, when already known."""
        x = None
        if columns:
            mags = column_magnitudes(X) if magnitudes is None else magnitudes
            if shared:
                mags = np.full_like(mags, float(mags.max(initial=0.0)))
            x = np.array([power_of_two_unit(m) for m in mags])
            if np.all(x == 1.0):
                x = None
        y_mag = float(np.max(np.abs(y), initial=0.0))
        w_mag = float(np.max(sample_weight, initial=0.0))
        return cls(x, power_of_two_unit(y_mag), power_of_two_unit(w_mag))

    def restricted(self, columns) -> FitUnits:
        """The units of a fit on the columns ``columns`` (a boolean mask) of ``X``."""
        if self.x is None or np.all(columns):
            return self
        return replace(self, x=self.x[np.asarray(columns, dtype=bool)])

    @property
    def identity(self) -> bool:
        return self.x is None and self.y == 1.0 and self.w == 1.0

    @property
    def count(self) -> float:
        """The weight of one observation in the fit's units (``n - p`` corrections)."""
        return 1.0 / self.w

    def frequency_weights(self, sample_weight):
        """Internal weights in units that count observations (for an ``n - p`` correction).

        That is the data's weights, except that beyond :data:`COUNT_CAP`
        observations per unit the count stops growing: ``p / n`` is then lost
        to rounding anyway, and the weights stay safe in sums with ``y``.
        """
        return sample_weight * min(self.w, COUNT_CAP)

    def internal(self, X, y, sample_weight):
        """``(X, y, w)`` in the fit's units (the inputs themselves where the unit is 1)."""
        if self.x is not None:
            X = X.multiply(1.0 / self.x).tocsr() if sp.issparse(X) else X * (1.0 / self.x)
        if self.y != 1.0:
            y = y * (1.0 / self.y)
        if self.w != 1.0:
            sample_weight = sample_weight * (1.0 / self.w)
        return X, y, sample_weight

    def _beta_factors(self, n_params, fit_intercept):
        factors = np.full(n_params, self.y)
        if self.x is not None:
            factors[: self.x.shape[0]] /= self.x
        return factors

    def coef_out(self, beta, fit_intercept):
        """Internal parameters (coefficients, then the intercept) in the data's units."""
        beta = np.asarray(beta, dtype=np.float64)
        return beta * self._beta_factors(beta.shape[0], fit_intercept)

    def coef_in(self, beta, fit_intercept):
        """Parameters in the data's units, in the fit's units."""
        beta = np.asarray(beta, dtype=np.float64)
        return beta / self._beta_factors(beta.shape[0], fit_intercept)

    def alpha_in(self, alpha: float, scale_units: bool) -> float:
        """The penalty of the same model in the fit's units.

        ``alpha ||coef||**2`` against a data term in units of ``w y**2``
        (``scale_units=False``: M-estimation, the adaptive Barron fit) or of
        ``w y`` (``True``: the joint scale and the pinball loss); the column
        units of a penalised fit are shared (see :meth:`of`).
        """
        if alpha == 0:
            return alpha
        x = 1.0 if self.x is None else float(self.x[0])
        # in exponents: the factor itself may be out of range when its parts are not
        exponent = (_log2(self.y) if scale_units else 0) - _log2(self.w) - 2 * _log2(x)
        # beyond 1e300 (in the fit's units) a penalty has zeroed the coefficients anyway
        if exponent + math.frexp(float(alpha))[1] > 997:
            return _LARGEST_PENALTY
        return min(math.ldexp(float(alpha), exponent), _LARGEST_PENALTY)


_LARGEST_PENALTY = 1e300


def _log2(unit: float) -> int:
    return math.frexp(unit)[1] - 1  # units are powers of two
