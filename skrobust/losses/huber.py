"""Huber's loss: quadratic in the centre, linear in the tails (convex, monotone psi)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from .._numba import njit
from ._base import RobustLoss, check_positive

_BIG = 1.7976931348623157e308  # float64 max


@njit(cache=True, nogil=True)
def huber_rho(u, c, out):
    for i in range(u.shape[0]):
        a = abs(u[i])
        # capped at the float64 maximum: u**2 and c |u| may overflow
        if a <= c:
            h = 0.5 * a
            out[i] = h * a if a < 1e150 or h < _BIG / a else _BIG
        elif a > c:
            d = a - 0.5 * c
            out[i] = c * d if d < _BIG / c else _BIG
        else:  # NaN in, NaN out (every comparison above is False)
            out[i] = a


@njit(cache=True, nogil=True)
def huber_psi(u, c, out):
    for i in range(u.shape[0]):
        out[i] = min(max(u[i], -c), c)


@njit(cache=True, nogil=True)
def huber_weight(u, c, out):
    for i in range(u.shape[0]):
        a = abs(u[i])
        out[i] = 1.0 if a <= c else c / a


@njit(cache=True, nogil=True)
def huber_psi_deriv(u, c, out):
    for i in range(u.shape[0]):
        a = abs(u[i])
        out[i] = 1.0 if a <= c else (0.0 if a > c else a)  # NaN in, NaN out


@dataclass(frozen=True)
class Huber(RobustLoss):
    """Huber's loss.

    ``rho(u) = u**2 / 2`` for ``|u| <= c``, else ``c |u| - c**2 / 2``.

    Parameters
    ----------
    c : float, default=1.345
        Tuning constant in units of the scale; 1.345 gives 95% efficiency at
        the normal model.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> loss = get_loss("huber")
    >>> loss.rho([0.0, 1.0, 3.0])
    array([0.       , 0.5      , 3.1304875])
    >>> loss.weight([0.5, 2.69])
    array([1. , 0.5])
    """

    c: float = 1.345

    name: ClassVar[str] = "huber"
    convex: ClassVar[bool] = True
    redescending: ClassVar[bool] = False

    _rho_kernel: ClassVar = staticmethod(huber_rho)
    _psi_kernel: ClassVar = staticmethod(huber_psi)
    _weight_kernel: ClassVar = staticmethod(huber_weight)
    _psi_deriv_kernel: ClassVar = staticmethod(huber_psi_deriv)

    @property
    def default_c(self) -> float:
        """95% efficiency constant (1.345, as in R)."""
        return 1.345

    def __post_init__(self):
        object.__setattr__(self, "c", check_positive("c", self.c))

    @property
    def kinks(self) -> tuple:
        """``c``, where ``psi'`` jumps from 1 to 0."""
        return (self.c,)

    @property
    def max_rho(self) -> float:
        return math.inf
