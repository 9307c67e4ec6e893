"""Fused loops for the M-estimation solvers: one loop over a block of residuals.

The solvers' full-data pass (:meth:`skrobust.solvers.design.LinearDesign.residual_pass`)
needs, for each block of residuals ``r``, the gradient weights
``g = s * psi(r / scale)`` and the sums ``sum s rho(u)``, ``sum s u psi(u)``
and ``sum s (r - r_previous)**2`` (the convergence test).
Through the loss object that is two kernel calls and half a dozen NumPy
temporaries per block; the kernels here do it in one loop without
temporaries.  They reproduce the formulas of :mod:`.huber` and :mod:`.tukey`
exactly (same caps at the float64 maximum).

:func:`block_sums` returns the fused kernel for a loss, or None when the
loss has none (the solver then uses the loss's own methods).
"""

from __future__ import annotations

import numpy as np

from .._numba import njit

_BIG = 1.7976931348623157e308  # float64 max


# Only reassociation of the sums is allowed (no finite-math or signed-zero
# assumptions): it lets LLVM vectorise the reductions, 3-4x faster, and the
# order is still fixed by the compiled code, so results are reproducible.
_FASTMATH = {"reassoc"}


@njit(cache=True, nogil=True, inline="always")
def _huber_rho_psi(u, c):
    psi = min(max(u, -c), c)
    # 0.5 psi**2 + c (|u| - c)_+ is u**2/2 inside and c (|u| - c/2) outside
    return min(0.5 * psi * psi + c * max(abs(u) - c, 0.0), _BIG), psi


@njit(cache=True, nogil=True, inline="always")
def _tukey_rho_psi(u, c, cap):
    a = abs(u)
    inside = a <= c
    uc = u / c if inside else 0.0
    q = uc * uc
    t = 1.0 - q
    psi = u * t * t if inside else 0.0
    rho = min(a * a * (0.5 - 0.5 * q + q * q / 6.0), cap) if inside else cap
    return rho, psi


@njit(cache=True, nogil=True, inline="always")
def _rho_psi(u, c, cap, tukey):
    # ``tukey`` is loop-invariant in every caller, so the branch is hoisted out of the loops
    if tukey:
        return _tukey_rho_psi(u, c, cap)
    return _huber_rho_psi(u, c)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def fused_block_sums(r, s, inv_scale, c, tukey, g, ref):
    """``g = s * psi(u)`` with ``u = r * inv_scale`` for Huber's (or Tukey's) loss.

    Returns ``sum s rho(u)``, ``sum s u psi(u)`` and ``sum s (r - ref)**2``
    (pass ``ref = r`` when there is no reference).
    """
    # branch-free (selects, no jumps): residuals straddle +-c unpredictably
    cap = min(c * c / 6.0, _BIG)
    sum_rho = 0.0
    sum_upsi = 0.0
    change = 0.0
    for i in range(r.shape[0]):
        u = r[i] * inv_scale
        rho, psi = _rho_psi(u, c, cap, tukey)
        g[i] = s[i] * psi
        sum_rho += s[i] * rho
        sum_upsi += s[i] * (u * psi)
        diff = r[i] - ref[i]
        change += s[i] * (diff * diff)
    return sum_rho, sum_upsi, change


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def fused_rows(X, y, coef, intercept, s, inv_scale, c, tukey, ref, has_ref, r, xg):
    """The whole pass in one loop over the rows of a C-contiguous ``X``.

    ``r = y - X coef - intercept``, ``xg += X' g`` with ``g = s psi(r * inv_scale)``
    for Huber's (or Tukey's) loss; returns ``sum s rho``, ``sum s u psi``,
    ``sum g`` and ``sum s (r - ref)**2``.
    """
    cap = min(c * c / 6.0, _BIG)
    n, d = X.shape
    sum_rho = 0.0
    sum_upsi = 0.0
    sum_g = 0.0
    change = 0.0
    for i in range(n):
        acc = 0.0
        for j in range(d):
            acc += X[i, j] * coef[j]
        ri = y[i] - acc - intercept
        r[i] = ri
        u = ri * inv_scale
        rho, psi = _rho_psi(u, c, cap, tukey)
        g = s[i] * psi
        sum_rho += s[i] * rho
        sum_upsi += s[i] * (u * psi)
        sum_g += g
        if has_ref:
            diff = ri - ref[i]
            change += s[i] * (diff * diff)
        for j in range(d):
            xg[j] += g * X[i, j]
    return sum_rho, sum_upsi, sum_g, change


def _tukey_flag(loss):
    # True for Tukey, False for Huber, None for losses without fused kernels
    from .huber import Huber
    from .tukey import Tukey

    return {Huber: False, Tukey: True}.get(type(loss))


def row_pass(loss):
    """The one-loop pass ``kernel(X, y, coef, intercept, s, inv_scale, ref, r, xg)`` or None.

    ``ref`` is the reference residual vector or None; returns the four sums
    of :func:`fused_rows`.
    """
    tukey = _tukey_flag(loss)
    if tukey is None:
        return None
    c = float(loss.c)

    def fused(X, y, coef, intercept, s, inv_scale, ref, r, xg):
        has_ref = ref is not None
        return fused_rows(X, y, coef, float(intercept), s, float(inv_scale), c, tukey,
                          ref if has_ref else r, has_ref, r, xg)

    return fused


@njit(cache=True, nogil=True)
def abs_window(r, w, lo, hi, values, weights):
    """Split ``|r|`` around the window ``[lo, hi]`` in one pass (for a median near a guess).

    Copies the ``|r|`` inside the window into ``values`` (and their weights
    ``w`` into ``weights``, when ``w`` has the length of ``r``); returns the
    number of values below ``lo``, their total weight and the number copied.
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


@njit(cache=True, nogil=True)
def fused_curvature(u, s, c, tukey, out):
    """``out = s * psi'(u)`` for Huber's (``s`` inside ``+-c``, else 0) or Tukey's loss."""
    for i in range(u.shape[0]):
        inside = abs(u[i]) <= c
        if tukey:
            uc = u[i] / c if inside else 0.0
            q = uc * uc
            out[i] = s[i] * ((1.0 - q) * (1.0 - 5.0 * q)) if inside else 0.0
        else:
            out[i] = s[i] if inside else 0.0


def curvature(loss, u, s):
    """``s * psi'(u)``, through a fused kernel for Huber and Tukey.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses import get_loss
    >>> from skrobust.losses._fused import curvature
    >>> curvature(get_loss("huber", c=1.0), np.array([0.5, -3.0]), np.array([2.0, 2.0]))
    array([2., 0.])
    """
    tukey = _tukey_flag(loss)
    if tukey is None:
        return s * loss.psi_deriv(u)
    u = np.ascontiguousarray(u, dtype=np.float64)
    s = np.ascontiguousarray(s, dtype=np.float64)
    out = np.empty_like(u)
    fused_curvature(u, s, float(loss.c), tukey, out)
    return out


def block_sums(loss):
    """The fused kernel ``kernel(r, s, inv_scale, g, ref) -> (sum s rho, sum s u psi, change)``.

    None for losses without one.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses import get_loss
    >>> from skrobust.losses._fused import block_sums
    >>> kernel = block_sums(get_loss("huber", c=1.0))
    >>> r, g = np.array([0.5, -3.0]), np.empty(2)
    >>> kernel(r, np.ones(2), 1.0, g, r), g
    ((2.625, 3.25, 0.0), array([ 0.5, -1. ]))
    """
    tukey = _tukey_flag(loss)
    if tukey is None:
        return None
    c = float(loss.c)

    def fused(r, s, inv_scale, g, ref):
        return fused_block_sums(r, s, float(inv_scale), c, tukey, g, ref)

    return fused
