"""Hampel's three-part redescending loss: linear, constant, then a linear descent to zero.

One tuning constant ``c`` scales the three corners together:
``a, b, r = 1.5 c, 3.5 c, 8 c``, robustbase's parametrisation (``psi =
"hampel"`` with ``tuning.psi = c * c(1.5, 3.5, 8)``), whose descent has the
slope ``-a / (r - b) = -1/3`` for every ``c``.  The kernels work in
``t = |u| / c``, so ``c`` never multiplies ``c`` before the result is known
to be finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._numba import njit
from ._base import RobustLoss, check_positive

_BIG = 1.7976931348623157e308  # float64 max

#: the corners a, b, r of psi in units of c (robustbase's c(1.5, 3.5, 8))
CORNERS = (1.5, 3.5, 8.0)
_A, _B, _R = CORNERS
_RHO_INF = _A * (_B - _A + _R) / 2.0  # rho(r) for c = 1
_SLOPE = _A / (_R - _B)  # minus the slope of the descent


@njit(cache=True, nogil=True)
def hampel_rho(u, c, out):
    cap = min(c * (c * _RHO_INF), _BIG)
    for i in range(u.shape[0]):
        x = abs(u[i])
        t = x / c
        if t <= _A:  # u**2 / 2, capped at the float64 maximum like Huber's
            h = 0.5 * x
            out[i] = h * x if x < 1e150 or h < _BIG / x else _BIG
        elif t <= _B:  # a (|u| - a/2)
            out[i] = min(c * (c * (_A * t - 0.5 * _A * _A)), _BIG)
        elif t <= _R:  # rho(r) - a (r - |u|)**2 / (2 (r - b))
            d = _R - t
            out[i] = min(c * (c * (_RHO_INF - 0.5 * _SLOPE * d * d)), cap)
        elif t > _R:
            out[i] = cap
        else:  # NaN in, NaN out (every comparison above is False)
            out[i] = x


@njit(cache=True, nogil=True)
def hampel_psi(u, c, out):
    for i in range(u.shape[0]):
        t = abs(u[i]) / c
        if t <= _A:
            out[i] = u[i]
        elif t <= _R:
            level = _A if t <= _B else _SLOPE * (_R - t)
            out[i] = min(c * level, _BIG) if u[i] > 0 else -min(c * level, _BIG)
        else:
            out[i] = 0.0 if t > _R else u[i]  # NaN in, NaN out


@njit(cache=True, nogil=True)
def hampel_weight(u, c, out):
    for i in range(u.shape[0]):
        t = abs(u[i]) / c
        if t <= _A:
            out[i] = 1.0
        elif t <= _B:
            out[i] = _A / t
        elif t <= _R:
            out[i] = _SLOPE * (_R - t) / t
        else:
            out[i] = 0.0 if t > _R else t  # NaN in, NaN out


@njit(cache=True, nogil=True)
def hampel_psi_deriv(u, c, out):
    for i in range(u.shape[0]):
        t = abs(u[i]) / c
        if t <= _A:
            out[i] = 1.0
        elif t <= _B:
            out[i] = 0.0
        elif t <= _R:
            out[i] = -_SLOPE
        else:
            out[i] = 0.0 if t > _R else t  # NaN in, NaN out


@dataclass(frozen=True)
class Hampel(RobustLoss):
    """Hampel's three-part redescending loss.

    With the corners ``a, b, r = 1.5 c, 3.5 c, 8 c``, ``psi(u)`` is ``u``
    for ``|u| <= a``, ``a sign(u)`` up to ``b``, descends linearly to 0 at
    ``r`` (slope ``-1/3``) and is 0 beyond: residuals beyond ``r`` scales
    get weight exactly zero.  ``rho`` is its integral, ``u**2 / 2`` near 0
    and ``a (b - a + r) / 2 = 7.5 c**2`` beyond ``r``.

    Parameters
    ----------
    c : float, default=0.9016085
        Tuning constant: the multiplier of robustbase's ``c(1.5, 3.5, 8)``.
        0.9016085 is robustbase's 95%-efficiency constant (efficiency
        0.95003; the exact root is 0.9014438).

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> loss = get_loss("hampel", c=1.0)          # corners 1.5, 3.5, 8
    >>> loss.psi([1.0, 2.0, 5.0, 9.0])
    array([1. , 1.5, 1. , 0. ])
    >>> loss.rho([1.0, 2.0, 9.0])
    array([0.5  , 1.875, 7.5  ])
    >>> loss.kinks
    (1.5, 3.5, 8.0)
    """

    c: float = 0.9016085

    name: ClassVar[str] = "hampel"
    convex: ClassVar[bool] = False
    redescending: ClassVar[bool] = True

    _rho_kernel: ClassVar = staticmethod(hampel_rho)
    _psi_kernel: ClassVar = staticmethod(hampel_psi)
    _weight_kernel: ClassVar = staticmethod(hampel_weight)
    _psi_deriv_kernel: ClassVar = staticmethod(hampel_psi_deriv)

    def __post_init__(self):
        object.__setattr__(self, "c", check_positive("c", self.c))

    @property
    def default_c(self) -> float:
        """95% efficiency constant (0.9016085, robustbase's)."""
        return 0.9016085

    @property
    def kinks(self) -> tuple:
        """The corners ``a, b, r`` of ``psi``, where ``psi'`` jumps."""
        return tuple(k * self.c for k in CORNERS)

    @property
    def max_rho(self) -> float:
        return min(self.c * (self.c * _RHO_INF), _BIG)
