"""Tukey's biweight (bisquare): smooth, redescending, zero weight beyond c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._numba import njit
from ._base import PSI, RHO, WEIGHT, RobustLoss, check_positive

_BIG = 1.7976931348623157e308  # float64 max

#: ``_fused_kind`` of the loss: the fused loops of :mod:`._fused` run its formulas
TUKEY_FUSED_KIND = 1


# The four functions at one point.  The fused loops of :mod:`._fused` call the same
# ones, so every formula is written once; select-friendly (no side effects in either
# arm), so that LLVM vectorises the loops over residuals.
@njit(cache=True, nogil=True, inline="always")
def tukey_rho_at(u, c):
    # c**2/6 (1 - (1 - q)**3) = u**2 (1/2 - q/2 + q**2/6): no cancellation
    # for small |u|; capped at the float64 maximum (c**2 may overflow)
    # (conditional expressions rather than min: see huber_rho_at)
    cap = c * c / 6.0
    cap = _BIG if cap > _BIG else cap
    a = abs(u)
    q = (a / c) ** 2
    inside = a * a * (0.5 - 0.5 * q + q * q / 6.0)
    inside = cap if inside > cap else inside
    return inside if a <= c else (cap if a > c else a)  # NaN in, NaN out


@njit(cache=True, nogil=True, inline="always")
def tukey_psi_at(u, c):
    t = 1.0 - (u / c) ** 2
    inside = u * t * t
    a = abs(u)
    return inside if a <= c else (0.0 if a > c else u)  # NaN in, NaN out


@njit(cache=True, nogil=True, inline="always")
def tukey_weight_at(u, c):
    t = 1.0 - (u / c) ** 2
    inside = t * t
    a = abs(u)
    return inside if a <= c else (0.0 if a > c else u)  # NaN in, NaN out


@njit(cache=True, nogil=True, inline="always")
def tukey_psi_deriv_at(u, c):
    q = (u / c) ** 2
    inside = (1.0 - q) * (1.0 - 5.0 * q)
    a = abs(u)
    return inside if a <= c else (0.0 if a > c else u)  # NaN in, NaN out


@njit(cache=True, nogil=True)
def tukey_pointwise(u, c, what, out):
    """``out = f(u)`` for ``f`` = rho, psi, weight or psi' (``what``, see ``_base``).

    One kernel for the four functions: a fit compiles (or loads) one, not four.
    """
    if what == RHO:
        for i in range(u.shape[0]):
            out[i] = tukey_rho_at(u[i], c)
    elif what == PSI:
        for i in range(u.shape[0]):
            out[i] = tukey_psi_at(u[i], c)
    elif what == WEIGHT:
        for i in range(u.shape[0]):
            out[i] = tukey_weight_at(u[i], c)
    else:
        for i in range(u.shape[0]):
            out[i] = tukey_psi_deriv_at(u[i], c)


# The M-scale of the S-estimator uses Tukey's rho normalised to supremum 1,
# chi(u) = rho(u) / rho(inf) = 3 q - 3 q**2 + q**3 with q = (u/c)**2 (1 beyond c),
# and the IRLS weights of the S-refinement; both at u = r / s.  Residuals are
# finite there (the S-estimator rejects non-finite rows), so no NaN branch.
# Two kernels serve every M-scale, I-step and S-refinement step (Python loops around
# them, skrobust.scale.mscale and skrobust.solvers.s_candidates): a fresh process
# compiles these two.
@njit(cache=True, nogil=True)
def tukey_chi_sum_slope(r, w, s, c):
    """``sum_i w_i chi(r_i / s)`` and its derivative in ``log s``.

    ``chi`` is Tukey's rho with tuning ``c`` normalised to supremum 1; the
    derivative is ``-sum_i w_i 6 q_i (1 - q_i)**2`` with ``q_i = (r_i / (c s))**2``
    (zero beyond ``c``).  The fixed-point M-scale uses the sum only, the Newton
    M-scale both.
    """
    inv = 1.0 / (s * c)
    total = 0.0
    slope = 0.0
    for i in range(r.shape[0]):
        t = r[i] * inv
        t = t * t
        # beyond c, t = 1 gives exactly w[i] and a zero slope term (w is finite): the
        # same sums as a branch, without its mispredictions (NaN stays NaN)
        t = 1.0 if t >= 1.0 else t
        total += w[i] * t * (3.0 - 3.0 * t + t * t)
        slope -= w[i] * 6.0 * t * (1.0 - t) * (1.0 - t)
    return total, slope


@njit(cache=True, nogil=True)
def tukey_scaled_weights(r, w, s, c, out):
    """``out_i = w_i (1 - (r_i / (c s))**2)**2``, zero beyond ``c s``: weights at ``r / s``."""
    inv = 1.0 / (s * c)
    for i in range(r.shape[0]):
        t = r[i] * inv
        t = t * t
        if t < 1.0:
            out[i] = w[i] * (1.0 - t) * (1.0 - t)
        else:
            out[i] = 0.0


@dataclass(frozen=True)
class Tukey(RobustLoss):
    """Tukey's biweight loss.

    ``rho(u) = c**2 / 6 * (1 - (1 - (u / c)**2)**3)`` for ``|u| <= c``, else
    ``c**2 / 6``.  Residuals beyond ``c`` get weight exactly zero.

    Parameters
    ----------
    c : float, default=4.685
        Tuning constant in units of the scale; 4.685 gives 95% efficiency at
        the normal model, 1.54764 a 50% breakdown M-scale.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> loss = get_loss("tukey")
    >>> loss.weight([0.0, 10.0])
    array([1., 0.])
    >>> round(loss.max_rho, 4)
    3.6582
    """

    c: float = 4.685

    name: ClassVar[str] = "tukey"
    convex: ClassVar[bool] = False
    redescending: ClassVar[bool] = True

    _fused_kind: ClassVar = TUKEY_FUSED_KIND
    _pointwise_kernel: ClassVar = staticmethod(tukey_pointwise)

    @property
    def default_c(self) -> float:
        """95% efficiency constant (4.685061, as in R)."""
        return 4.685061

    def __post_init__(self):
        object.__setattr__(self, "c", check_positive("c", self.c))

    @property
    def kinks(self) -> tuple:
        """``c``, where ``psi'`` jumps to 0 (``psi`` itself is continuous)."""
        return (self.c,)

    @property
    def max_rho(self) -> float:
        return min(self.c * self.c / 6.0, _BIG)
