"""Yohai & Zamar's "optimal" loss as robustbase computes it: linear, a smooth bend, zero.

Yohai & Zamar (1997) showed that ``psi(x) = sign(x) (-(phi'(|x|) + k) /
phi(|x|))_+`` (``phi`` the normal density) minimises the gross-error
sensitivity of a regression M-estimate subject to its Gaussian efficiency.
robustbase's ``psi = "optimal"`` (like the ``robust`` package and Maronna,
Martin & Yohai 2006, section 5.9.1) uses its polynomial approximation,
implemented here with the same tuning constant ``c``: in ``t = |u| / c``,

- ``psi(u) = u`` for ``t <= 2``;
- ``psi(u) = u * 0.016 (t**2 - 9)**2 (t**2 - 1.5)`` for ``2 < t <= 3``
  (robustbase's ``c (-1.944 t + 1.728 t**3 - 0.312 t**5 + 0.016 t**7)``,
  factored: it is non-negative without clipping and accurate near ``t = 3``);
- ``psi(u) = 0`` for ``t > 3``.

``psi`` and ``psi'`` are continuous (``psi''`` jumps at ``2c`` and ``3c``),
and ``rho(u) = c**2 (3.25 - 0.002 z**3 (10 - z))`` with ``z = 9 - t**2``
on the bend, ``3.25 c**2`` beyond ``3c``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._numba import njit
from ._base import RobustLoss, check_positive

_BIG = 1.7976931348623157e308  # float64 max
_RHO_INF = 3.25  # rho(3c) / c**2


@njit(cache=True, nogil=True)
def optimal_rho(u, c, out):
    cap = min(c * (c * _RHO_INF), _BIG)
    for i in range(u.shape[0]):
        x = abs(u[i])
        t = x / c
        if t <= 2.0:  # u**2 / 2, capped at the float64 maximum like Huber's
            h = 0.5 * x
            out[i] = h * x if x < 1e150 or h < _BIG / x else _BIG
        elif t <= 3.0:
            z = 9.0 - t * t  # in [0, 5): the subtracted term is >= 0, so rho <= rho(inf)
            out[i] = min(c * (c * (_RHO_INF - 0.002 * z * z * z * (10.0 - z))), cap)
        elif t > 3.0:
            out[i] = cap
        else:  # NaN in, NaN out (every comparison above is False)
            out[i] = x


@njit(cache=True, nogil=True, inline="always")
def _weight_at(t):
    # psi(u) / u at t = |u| / c; NaN in, NaN out (every comparison is False)
    if t <= 2.0:
        return 1.0
    if t <= 3.0:
        w = t * t
        return 0.016 * (w - 9.0) * (w - 9.0) * (w - 1.5)
    return 0.0 if t > 3.0 else t


@njit(cache=True, nogil=True)
def optimal_weight(u, c, out):
    for i in range(u.shape[0]):
        out[i] = _weight_at(abs(u[i]) / c)


@njit(cache=True, nogil=True)
def optimal_psi(u, c, out):
    # psi = u * weight(u), which keeps weight * u == psi exact
    for i in range(u.shape[0]):
        out[i] = u[i] * _weight_at(abs(u[i]) / c)


@njit(cache=True, nogil=True)
def optimal_psi_deriv(u, c, out):
    for i in range(u.shape[0]):
        t = abs(u[i]) / c
        if t <= 2.0:
            out[i] = 1.0
        elif t <= 3.0:
            w = t * t
            out[i] = 0.016 * (w - 9.0) * ((7.0 * w - 34.5) * w + 13.5)
        else:
            out[i] = 0.0 if t > 3.0 else t  # NaN in, NaN out


@dataclass(frozen=True)
class Optimal(RobustLoss):
    """Yohai & Zamar's optimal loss (robustbase's ``psi = "optimal"``).

    ``psi(u) = u`` up to ``|u| = 2c``, bends smoothly (``psi'`` is
    continuous) down to 0 at ``3c`` and is 0 beyond: residuals beyond
    ``3c`` scales get weight exactly zero.  ``rho`` is ``u**2 / 2`` up to
    ``2c`` and ``3.25 c**2`` beyond ``3c``.

    Parameters
    ----------
    c : float, default=1.060158
        Tuning constant in robustbase's convention; 1.060158 is robustbase's
        95%-efficiency constant (``.Mpsi.tuning.default("optimal")``,
        efficiency 0.949991; the exact root is 1.0601875), 0.4047 its
        50%-breakdown S-scale constant.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> loss = get_loss("optimal", c=1.0)
    >>> loss.psi([1.0, 2.0, 2.5, 3.0, 4.0])
    array([1.      , 2.      , 1.436875, 0.      , 0.      ])
    >>> loss.rho([1.0, 10.0])
    array([0.5 , 3.25])
    """

    c: float = 1.060158

    name: ClassVar[str] = "optimal"
    convex: ClassVar[bool] = False
    redescending: ClassVar[bool] = True

    _rho_kernel: ClassVar = staticmethod(optimal_rho)
    _psi_kernel: ClassVar = staticmethod(optimal_psi)
    _weight_kernel: ClassVar = staticmethod(optimal_weight)
    _psi_deriv_kernel: ClassVar = staticmethod(optimal_psi_deriv)

    def __post_init__(self):
        object.__setattr__(self, "c", check_positive("c", self.c))

    @property
    def default_c(self) -> float:
        """95% efficiency constant (1.060158, robustbase's)."""
        return 1.060158

    @property
    def kinks(self) -> tuple:
        """``2c`` and ``3c``: ``psi`` and ``psi'`` are continuous, ``psi''`` jumps."""
        return (2.0 * self.c, 3.0 * self.c)

    @property
    def max_rho(self) -> float:
        return min(self.c * (self.c * _RHO_INF), _BIG)
