"""M-scales: the S-estimator's (Tukey's biweight over ``n - p``) and one through a reducer.

With Tukey's biweight ``rho`` normalised to supremum 1 (``rho_c(u) = 1 - (1 -
(u/c)**2)**3`` for ``|u| <= c``, else 1) and frequency weights ``w``, the
M-scale ``s`` of the residuals ``r`` solves

    sum_i w_i rho_c(r_i / s) / (sum_i w_i - p) = b,

the normalisation over ``n - p`` of R's ``robustbase::lmrob`` (``sum_rho_sc``
in cran/robustbase:src/lmrob.c).  ``c = 1.54764`` and ``b = 0.5`` give a 50%
breakdown point and a scale that is consistent at the normal model.  The
S-estimator (:mod:`skrobust.solvers.fast_s`) minimises this scale over the
coefficients.

The argument checks here are those of the public entry points of the M-scale
and of fast-S; the private cores (``_m_scale``, ``_m_scale_core``) assume
checked input.

:func:`m_scale_of` solves the M-scale equation of any loss through a
:class:`~skrobust.scale.reducer.Reducer` (in memory or on dask): the S-scale
of a start fitted on a row sample, refined on all rows.
"""

from __future__ import annotations

import math

import numpy as np

from ..losses.tukey import tukey_chi_sum_slope
from .median import MAD_NORMAL_CONSTANT, weighted_median
from .rules import decreasing_root, rho_sums

S_TUKEY_C = 1.54764
"""Tukey biweight constant of the 50%-breakdown S-scale (robustbase's ``tuning.chi``)."""

S_BREAKDOWN_B = 0.5
"""Right-hand side ``b`` of the M-scale equation (robustbase's ``bb``): 50% breakdown."""

_SCALE_TOL = 1e-10  # robustbase's find_scale tolerance (ZERO)
_SCALE_MAX_ITER = 200  # robustbase's maxit.scale


# The solvers of the scale equation are Python loops around one numba kernel, the
# chi sum (with its slope) of skrobust.losses.tukey: a pass over the residuals per
# step, so the loop's own cost is negligible, and a fresh process compiles one small
# kernel for every M-scale of a fit instead of a kernel per solver and helper.
def _nonzero_weight_and_max(r, w):
    """The weight of the non-zero residuals (summed in order) and their largest magnitude."""
    nonzero = (w > 0.0) & (r != 0.0)
    if not nonzero.any():
        return 0.0, 0.0
    return float(np.cumsum(w[nonzero])[-1]), float(np.max(np.abs(r[nonzero])))


def _first_scale(s0, r_max, floor):
    s = s0
    if not (0.0 < s < math.inf):
        s = r_max
    return floor if s < floor else s


def _m_scale_newton(r, w, denom, b, c, s0, tol, max_iter, floor):
    """The root of :func:`_m_scale_core` by safeguarded Newton steps in ``log s``.

    One pass per step gives the sum and its slope; the decreasing left side
    keeps a bracket ``[lo, hi]`` of the root, and a step leaving it is a
    bisection in ``log s`` instead (or a doubling / halving while one end is
    open).  Quadratic near the root: a handful of passes where the fixed point
    takes tens, which matters on millions of rows.
    """
    w_nonzero, r_max = _nonzero_weight_and_max(r, w)
    if w_nonzero <= b * denom:
        return floor, True
    s = _first_scale(s0, r_max, floor)
    lo = floor  # the left side at lo is above b (it tends to w_nonzero / denom > b)
    hi = math.inf
    for _ in range(max_iter):
        total, slope = tukey_chi_sum_slope(r, w, s, c)
        g = total / denom - b
        if g == 0.0:
            return s, True
        if g > 0.0:
            lo = s
        else:
            hi = s
        s_new = -1.0
        if slope < 0.0:
            s_new = s * math.exp(min(-g * denom / slope, 700.0))
        if not (lo < s_new < hi):
            if hi == math.inf:
                s_new = 2.0 * s
            elif lo <= floor:
                s_new = 0.5 * s
            else:
                s_new = math.sqrt(lo * hi)
        if s_new < floor:
            s_new = floor
        if abs(s_new - s) <= tol * s:
            return s_new, True
        s = s_new
    return s, False


def _m_scale_core(r, w, denom, b, c, s0, tol, max_iter, floor):
    """Solve ``sum w rho_c(r/s) / denom = b``; returns ``(scale, converged)``."""
    w_nonzero, r_max = _nonzero_weight_and_max(r, w)
    # As s -> 0 the left side tends to w_nonzero / denom: below b the M-scale is 0.
    if w_nonzero <= b * denom:
        return floor, True
    s = _first_scale(float(s0), r_max, floor)
    # robustbase's fixed point s**2 <- s**2 * mean_rho / b; monotone in s, so it
    # converges from any start (linearly).
    for _ in range(max_iter):
        s_new = s * math.sqrt(tukey_chi_sum_slope(r, w, s, c)[0] / denom / b)
        if s_new < floor:
            s_new = floor
        if abs(s_new - s) <= tol * s:
            return s_new, True
        s = s_new
    # Fallback: bracket the root of the decreasing g(s) = mean_rho - b, bisect in log s.
    lo = s
    hi = s
    while tukey_chi_sum_slope(r, w, hi, c)[0] / denom > b:
        hi *= 2.0
    while lo > floor and tukey_chi_sum_slope(r, w, lo, c)[0] / denom < b:
        lo *= 0.5
    if lo < floor:
        lo = floor
    for _ in range(400):
        if hi - lo <= tol * hi:
            break
        mid = math.sqrt(lo * hi)
        if tukey_chi_sum_slope(r, w, mid, c)[0] / denom > b:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), False


def _check_floor(floor):
    floor = float(floor)
    if not (floor > 0 and math.isfinite(floor)):
        raise ValueError(f"floor must be a finite positive number, got {floor!r}")
    return floor


def _check_tuning(c, b):
    c, b = float(c), float(b)
    if not (c > 0 and math.isfinite(c)):
        raise ValueError(f"c must be a finite positive number, got {c!r}")
    if not 0 < b < 1:
        raise ValueError(f"b must lie in (0, 1), got {b!r}")
    return c, b


def _check_total_weight(w, p):
    if not float(w.sum()) - p > 0:
        raise ValueError(f"the total sample weight ({float(w.sum()):g}) must exceed the number "
                         f"of parameters ({p})")


def m_scale(residuals, sample_weight=None, *, c=S_TUKEY_C, b=S_BREAKDOWN_B, n_params=0,
            scale0=None, tol=1e-10, max_iter=200, floor=1e-300) -> float:
    """M-scale of residuals with Tukey's biweight, normalised over ``n - p`` as robustbase.

    Solves ``sum_i w_i rho_c(r_i / s) / (sum_i w_i - n_params) = b`` for ``s``,
    where ``rho_c`` is Tukey's biweight divided by its supremum ``c**2 / 6``.
    It iterates robustbase's fixed point ``s**2 <- s**2 * mean_rho / b`` from
    the MAD (monotone, so it converges from any start), and bisects in
    ``log s`` if ``max_iter`` steps were not enough.

    Parameters
    ----------
    residuals : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: an integer weight equals repeating the row, a zero
        weight removes it.
    c : float, default=1.54764
        Biweight tuning constant (1.54764 with ``b=0.5``: 50% breakdown,
        consistent at the normal model).
    b : float, default=0.5
        Right-hand side of the scale equation, in (0, 1).
    n_params : int, default=0
        Number of fitted parameters ``p``, subtracted from the total weight.
    scale0 : float, default=None
        Starting value; the MAD of the residuals (about 0) when None.
    tol : float, default=1e-10
        Relative change of the scale at which the iteration stops.
    max_iter : int, default=200
        Fixed-point iterations before the bisection fallback.
    floor : float, default=1e-300
        Smallest scale returned: when the weight of the non-zero residuals is
        at most ``b * (sum w - n_params)`` the M-scale is 0 and ``floor`` is
        returned.

    Returns
    -------
    scale : float

    Raises
    ------
    ValueError
        If the total weight does not exceed ``n_params``, or ``c``, ``b``
        or ``floor`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.scale import m_scale
    >>> r = np.random.default_rng(0).standard_normal(100_000)
    >>> round(m_scale(r), 2)
    1.0
    >>> m_scale(np.zeros(5))
    1e-300
    """
    from ..design.linear import checked_frequency_weights  # design imports this package

    r = np.ascontiguousarray(residuals, dtype=np.float64).ravel()
    w = checked_frequency_weights(sample_weight, r.shape[0])
    floor = _check_floor(floor)
    c, b = _check_tuning(c, b)
    if not np.all(np.isfinite(r[w > 0])):
        raise ValueError("residuals must be finite")
    _check_total_weight(w, n_params)
    if scale0 is None and sample_weight is None:
        scale0 = weighted_median(np.abs(r), None) / MAD_NORMAL_CONSTANT
    return _m_scale(r, w, c, b, n_params, scale0, floor, tol, max_iter)


def _m_scale(r, w, c, b, n_params, scale0, floor, tol=1e-10, max_iter=200, newton=False):
    """The M-scale of :func:`m_scale` on checked input (float64 ``r`` and ``w``).

    ``newton=True`` solves the same equation by Newton steps (a few passes over
    ``r`` instead of tens: for millions of residuals); the default keeps
    robustbase's fixed point, step for step.
    """
    if scale0 is None:
        scale0 = weighted_median(np.abs(r), w) / MAD_NORMAL_CONSTANT
    denom = float(w.sum()) - n_params
    core = _m_scale_newton if newton else _m_scale_core
    s, _ = core(r, w, denom, b, c, float(scale0), float(tol), int(max_iter), float(floor))
    return float(s)


def _nonzero_sums(r, w):
    return np.array([float(w[r != 0].sum())])


def m_scale_of(residuals, rows, *, loss, b, denom, scale0, floor) -> float:
    """The M-scale ``sum w rho(r/s) / (max_rho denom) = b`` of residuals weighted by the
    reducer ``rows``, by Newton steps in ``log s``
    (:func:`~skrobust.scale.decreasing_root`), one reduction each: the S-scale of a start
    fitted on a row sample, refined on all rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses import get_loss
    >>> from skrobust.scale import NumpyRows, m_scale_of
    >>> r = np.random.default_rng(0).normal(size=2000)
    >>> s = m_scale_of(r, NumpyRows(np.ones(2000)), loss=get_loss("tukey", c=1.54764), b=0.5,
    ...                denom=2000.0, scale0=1.0, floor=1e-12)
    >>> bool(0.9 < s < 1.1)
    True
    """
    top = loss.max_rho
    if rows.sum(_nonzero_sums, 1, residuals)[0] <= b * denom:
        return floor  # at least a fraction b of the weight fitted exactly

    def fun(s):
        a, g = rows.sum(rho_sums, 2, residuals, scale=s, loss=loss)
        return a / top / denom - b, -g / top / denom

    return decreasing_root(fun, scale0, floor, tol=1e-13)


__all__ = ["S_BREAKDOWN_B", "S_TUKEY_C", "m_scale", "m_scale_of"]
