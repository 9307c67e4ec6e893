"""Fused loops for the M-estimation solvers: one loop over a block of residuals.

The solvers' full-data pass (:meth:`skrobust.design.linear.LinearDesign.residual_pass`)
needs, for each block of residuals ``r``, the gradient weights
``g = s * psi(r / scale)`` and the sums ``sum s rho(u)``, ``sum s u psi(u)``
and ``sum s (r - r_previous)**2`` (the convergence test).
Through the loss object that is two kernel calls and half a dozen NumPy
temporaries per block; the kernels here do it in one loop without
temporaries.  They call the loss modules' own one-point functions
(:func:`~skrobust.losses.huber.huber_rho_at`, ...), so every formula is
written once; which loss a loop runs is the loss's ``_fused_kind``
(metadata of the loss class; None: no fused loops, the solver uses the
loss's own methods).

Compilation: a kernel is compiled (or loaded from numba's cache) on its
first use in a process.  Passes over fewer than :data:`FUSED_MIN_ROWS` rows
take the residuals and sums from NumPy and the loss's own pointwise kernel
(which the fit needs anyway, for its weights): a small fit compiles no fused
kernel at all, and its passes cost microseconds either way.

numba's disk cache checks only the file of the kernel itself: after editing a
one-point function in ``huber.py`` or ``tukey.py``, delete the cached
``_fused.*.nbi``/``.nbc`` files (``__pycache__``), or the fused loops keep
the old formula.  An installation rewrites every file, so users never see it.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit
from ._base import PSI, RHO
from .huber import huber_psi_at, huber_rho_at
from .tukey import TUKEY_FUSED_KIND, tukey_psi_at, tukey_rho_at

#: passes over at least this many rows run the fused kernels; shorter ones run NumPy
FUSED_MIN_ROWS = 4096

# Only reassociation of the sums is allowed (no finite-math or signed-zero
# assumptions): it lets LLVM vectorise the reductions, 3-4x faster, and the
# order is still fixed by the compiled code, so results are reproducible.
_FASTMATH = {"reassoc"}


@njit(cache=True, nogil=True, inline="always")
def _rho_psi(u, kind, c):
    # ``kind`` is loop-invariant in every caller, so the branch is hoisted out of the loops
    if kind == TUKEY_FUSED_KIND:
        return tukey_rho_at(u, c), tukey_psi_at(u, c)
    return huber_rho_at(u, c), huber_psi_at(u, c)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def fused_block_sums(r, s, inv_scale, kind, c, g, ref):
    """``g = s * psi(u)`` with ``u = r * inv_scale`` for the loss ``kind`` (tuning ``c``).

    Returns ``sum s rho(u)``, ``sum s u psi(u)`` and ``sum s (r - ref)**2``
    (pass ``ref = r`` when there is no reference).
    """
    sum_rho = 0.0
    sum_upsi = 0.0
    change = 0.0
    for i in range(r.shape[0]):
        u = r[i] * inv_scale
        rho, psi = _rho_psi(u, kind, c)
        g[i] = s[i] * psi
        sum_rho += s[i] * rho
        sum_upsi += s[i] * (u * psi)
        diff = r[i] - ref[i]
        change += s[i] * (diff * diff)
    return sum_rho, sum_upsi, change


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def fused_rows(X, y, coef, intercept, s, inv_scale, kind, c, ref, has_ref, r, xg):
    """The whole pass in one loop over the rows of a C-contiguous ``X``.

    ``r = y - X coef - intercept``, ``xg += X' g`` with ``g = s psi(r * inv_scale)``
    for the loss ``kind`` (tuning ``c``); returns ``sum s rho``, ``sum s u psi``,
    ``sum g`` and ``sum s (r - ref)**2``.
    """
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
        rho, psi = _rho_psi(u, kind, c)
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


def _fused_args(loss):
    """``(kind, c)`` of the fused loops for ``loss``, or None when it has none."""
    kind = getattr(loss, "_fused_kind", None)
    if kind is None:
        return None
    (c,) = loss._kernel_args()
    return kind, float(c)


def _numpy_sums(loss, r, s, inv_scale, g, ref):
    # fused_block_sums through the loss's pointwise kernel, for short passes; the kernel is
    # called directly (not through loss.psi / loss.rho: their input checks and reshapes
    # cost more than the arithmetic on a few hundred rows)
    kernel, c = loss._pointwise_kernel, float(loss._kernel_args()[0])
    u = r * inv_scale
    psi = np.empty_like(u)
    kernel(u, c, PSI, psi)
    np.multiply(s, psi, out=g)
    sum_upsi = float(np.dot(s, np.multiply(u, psi, out=psi)))
    kernel(u, c, RHO, u)  # rho(u) in place: u is not needed any more
    sum_rho = float(np.dot(s, u))
    if ref is None:
        return sum_rho, sum_upsi, 0.0
    diff = r - ref
    return sum_rho, sum_upsi, float(np.dot(s * diff, diff))


def row_pass(loss):
    """The one-loop pass ``kernel(X, y, coef, intercept, s, inv_scale, ref, r, xg)`` or None.

    ``ref`` is the reference residual vector or None; returns the four sums
    of :func:`fused_rows` (from NumPy below :data:`FUSED_MIN_ROWS` rows).
    """
    args = _fused_args(loss)
    if args is None:
        return None
    kind, c = args

    def fused(X, y, coef, intercept, s, inv_scale, ref, r, xg):
        intercept, inv_scale = float(intercept), float(inv_scale)
        if X.shape[0] >= FUSED_MIN_ROWS:
            has_ref = ref is not None
            return fused_rows(X, y, coef, intercept, s, inv_scale, kind, c,
                              ref if has_ref else r, has_ref, r, xg)
        np.dot(X, coef, out=r)
        np.subtract(y, r, out=r)
        if intercept != 0.0:
            r -= intercept
        g = np.empty_like(r)
        sum_rho, sum_upsi, change = _numpy_sums(loss, r, s, inv_scale, g, ref)
        xg += g @ X
        return sum_rho, sum_upsi, float(g.sum()), change

    return fused


def curvature(loss, u, s):
    """``s * psi'(u)``, the weights of the Newton step's Gram.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses import get_loss
    >>> from skrobust.losses._fused import curvature
    >>> curvature(get_loss("huber", c=1.0), np.array([0.5, -3.0]), np.array([2.0, 2.0]))
    array([2., 0.])
    """
    return s * loss.psi_deriv(u)


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
    args = _fused_args(loss)
    if args is None:
        return None
    kind, c = args

    def fused(r, s, inv_scale, g, ref):
        if r.shape[0] < FUSED_MIN_ROWS:
            return _numpy_sums(loss, r, s, inv_scale, g, ref)
        return fused_block_sums(r, s, float(inv_scale), kind, c, g, ref)

    return fused
