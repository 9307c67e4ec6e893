"""Huber's loss: quadratic in the centre, linear in the tails (convex, monotone psi)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from .._numba import njit
from ._base import PSI, RHO, WEIGHT, RobustLoss, check_positive

_BIG = 1.7976931348623157e308  # float64 max

#: ``_fused_kind`` of the loss: the fused loops of :mod:`._fused` run its formulas
HUBER_FUSED_KIND = 0


# The four functions at one point.  The fused loops of :mod:`._fused` call the same
# ones, so every formula is written once; select-friendly (no side effects in either
# arm), so that LLVM vectorises the loops over residuals.
@njit(cache=True, nogil=True, inline="always")
def huber_rho_at(u, c):
    a = abs(u)
    # u**2 / 2 = u (u / 2) inside, c (|u| - c / 2) outside: one product of selected
    # factors (cheap in the fused loops), capped at the float64 maximum (it may overflow)
    # (conditional expressions rather than min/max: numba compiles those as functions
    # of their own, a fresh process pays for each; same values, NaN included)
    outside = a > c
    rho = (c if outside else a) * (a - 0.5 * c if outside else 0.5 * a)
    rho = _BIG if rho > _BIG else rho
    return rho if a == a else a  # NaN in, NaN out


@njit(cache=True, nogil=True, inline="always")
def huber_psi_at(u, c):
    clipped = -c if u < -c else u  # min(max(u, -c), c)
    return c if clipped > c else clipped


@njit(cache=True, nogil=True, inline="always")
def huber_weight_at(u, c):
    a = abs(u)
    return 1.0 if a <= c else c / a


@njit(cache=True, nogil=True, inline="always")
def huber_psi_deriv_at(u, c):
    a = abs(u)
    return 1.0 if a <= c else (0.0 if a > c else a)  # NaN in, NaN out


@njit(cache=True, nogil=True)
def huber_pointwise(u, c, what, out):
    """``out = f(u)`` for ``f`` = rho, psi, weight or psi' (``what``, see ``_base``).

    One kernel for the four functions: a fit compiles (or loads) one, not four.
    """
    if what == RHO:
        for i in range(u.shape[0]):
            out[i] = huber_rho_at(u[i], c)
    elif what == PSI:
        for i in range(u.shape[0]):
            out[i] = huber_psi_at(u[i], c)
    elif what == WEIGHT:
        for i in range(u.shape[0]):
            out[i] = huber_weight_at(u[i], c)
    else:
        for i in range(u.shape[0]):
            out[i] = huber_psi_deriv_at(u[i], c)


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

    _fused_kind: ClassVar = HUBER_FUSED_KIND
    _pointwise_kernel: ClassVar = staticmethod(huber_pointwise)

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
