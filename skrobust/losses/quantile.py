"""The quantile (pinball, check) loss of quantile regression: convex, asymmetric, not smooth.

``rho(u) = u * (q - 1[u < 0])``, i.e. ``q u`` for ``u >= 0`` and ``(q - 1) u``
for ``u < 0``.  Minimising ``sum_i rho(r_i)`` over the fit gives the
``q``-th conditional quantile; ``q = 0.5`` is half the absolute loss (least
absolute deviations).  The loss is positively homogeneous,
``rho(t u) = t rho(u)`` for ``t > 0``, so a residual scale only multiplies the
objective and does not move the optimum: the tuning constant ``c`` is
accepted for API uniformity with the other losses but is unused.

The loss has a kink at ``u = 0``, where the kernels make these choices:

* ``psi(0) = 0``, a member of the subdifferential ``[q - 1, q]`` (so
  ``psi`` keeps the sign of ``u``);
* ``psi_deriv(u) = 0`` everywhere (the derivative almost everywhere; the
  curvature at 0 is a Dirac mass that no kernel can return);
* ``weight(u) = |psi(u)| / max(|u|, delta)`` with ``delta = QUANTILE_WEIGHT_FLOOR``
  (``1e-6``), which is ``psi(u) / u`` for ``|u| >= delta`` and finite
  everywhere; at exactly ``u = 0`` it is the midpoint ``1 / (2 delta)`` of the
  two one-sided limits ``q / delta`` and ``(1 - q) / delta``, so that
  ``weight(u) / weight(0)`` stays in ``[0, 2 max(q, 1 - q)]``.  It is the
  floored IRLS weight of the pinball loss.

Quantile regression itself is solved exactly by
:func:`skrobust.solvers.quantile.quantile_regression`, not by IRLS on these
weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._numba import njit
from ._base import RobustLoss, check_positive

QUANTILE_WEIGHT_FLOOR = 1e-6
"""The ``delta`` of the floored IRLS weight ``|psi(u)| / max(|u|, delta)``."""


@njit(cache=True, nogil=True)
def quantile_rho(u, q, out):
    for i in range(u.shape[0]):
        x = u[i]
        out[i] = q * x if x >= 0.0 else (q - 1.0) * x


@njit(cache=True, nogil=True)
def quantile_psi(u, q, out):
    for i in range(u.shape[0]):
        x = u[i]
        if x > 0.0:
            out[i] = q
        elif x < 0.0:
            out[i] = q - 1.0
        else:
            out[i] = 0.0 if x == 0.0 else x  # 0 at the kink; NaN in, NaN out


@njit(cache=True, nogil=True)
def quantile_weight(u, q, out):
    delta = QUANTILE_WEIGHT_FLOOR  # a module constant, frozen at compile time
    for i in range(u.shape[0]):
        x = u[i]
        a = abs(x)
        den = a if a > delta else delta
        if x > 0.0:
            out[i] = q / den
        elif x < 0.0:
            out[i] = (1.0 - q) / den
        else:
            out[i] = 0.5 / delta if x == 0.0 else x  # NaN in, NaN out


@njit(cache=True, nogil=True)
def quantile_psi_deriv(u, q, out):
    for i in range(u.shape[0]):
        out[i] = 0.0 if u[i] == u[i] else u[i]  # NaN in, NaN out


def check_quantile(quantile, *, non_numeric_error=TypeError) -> float:
    """Return ``quantile`` as a float strictly inside (0, 1), else raise.

    A value that is not a real number raises ``non_numeric_error``; one
    outside (0, 1), or NaN, raises ``ValueError``.

    Examples
    --------
    >>> from skrobust.losses.quantile import check_quantile
    >>> check_quantile(0.25)
    0.25
    >>> check_quantile(1.0)
    Traceback (most recent call last):
    ...
    ValueError: quantile must be strictly between 0 and 1, got 1.0
    """
    try:
        q = float(quantile)
    except (TypeError, ValueError):
        raise non_numeric_error(
            f"quantile must be a real number in (0, 1), got {quantile!r}") from None
    if not 0.0 < q < 1.0:  # rejects NaN too
        raise ValueError(f"quantile must be strictly between 0 and 1, got {quantile!r}")
    return q


def check_quantile_levels(quantile, *, non_numeric_error=TypeError) -> np.ndarray:
    """Return a sequence of quantile levels as a float array (order kept), else raise.

    The levels must form a non-empty 1-D sequence of distinct real numbers
    strictly inside (0, 1).  Levels that are not real numbers raise
    ``non_numeric_error``; every other problem raises ``ValueError``.

    Examples
    --------
    >>> from skrobust.losses.quantile import check_quantile_levels
    >>> check_quantile_levels([0.9, 0.1])
    array([0.9, 0.1])
    >>> check_quantile_levels([0.1, 0.1])
    Traceback (most recent call last):
    ...
    ValueError: quantile has duplicated levels: [0.1] (a level must not repeat)
    """
    try:
        levels = np.asarray(quantile)
    except (TypeError, ValueError):  # ragged nesting
        raise ValueError(f"quantile must be a float or a 1-D sequence of levels, got "
                         f"{quantile!r}") from None
    if levels.dtype.kind not in "iuf":
        raise non_numeric_error(f"quantile levels must be real numbers, got {quantile!r}")
    if levels.ndim != 1:
        raise ValueError(f"quantile must be a float or a 1-D sequence of levels, got an array "
                         f"of shape {levels.shape}")
    if levels.size == 0:
        raise ValueError("quantile is an empty sequence; give a non-empty sequence of levels "
                         "in (0, 1)")
    levels = levels.astype(np.float64)
    bad = levels[~((levels > 0.0) & (levels < 1.0))]  # NaN is bad too
    if bad.size:
        raise ValueError(f"quantile levels must lie strictly between 0 and 1, got "
                         f"{bad.tolist()}")
    values, counts = np.unique(levels, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"quantile has duplicated levels: {values[counts > 1].tolist()} "
                         "(a level must not repeat)")
    return levels


@dataclass(frozen=True)
class Quantile(RobustLoss):
    """The quantile (pinball) loss ``rho(u) = u (q - 1[u < 0])``.

    Parameters
    ----------
    quantile : float, default=0.5
        The quantile ``q``, strictly between 0 and 1.
    c : float, default=1.0
        Accepted (and validated as a positive number) for uniformity with
        the other losses, but unused: the pinball loss is positively
        homogeneous, so a scale does not change the fitted quantile.

    Notes
    -----
    At the kink ``psi(0) = 0`` (a subgradient), ``psi_deriv`` is 0
    everywhere, and ``weight(u) = |psi(u)| / max(|u|, 1e-6)`` with
    ``weight(0) = 0.5e6``; see the module docstring.  The loss is
    asymmetric for ``q != 1/2``, so ``symmetric`` is False.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> loss = get_loss("quantile", quantile=0.9)
    >>> loss.rho([-2.0, 0.0, 1.0])
    array([0.2, 0. , 0.9])
    >>> loss.psi([-2.0, 0.0, 1.0])
    array([-0.1,  0. ,  0.9])
    >>> loss.weight([-2.0, 1.0])
    array([0.05, 0.9 ])
    """

    quantile: float = 0.5
    c: float = 1.0

    name: ClassVar[str] = "quantile"
    convex: ClassVar[bool] = True
    redescending: ClassVar[bool] = False
    symmetric: ClassVar[bool] = False

    _rho_kernel: ClassVar = staticmethod(quantile_rho)
    _psi_kernel: ClassVar = staticmethod(quantile_psi)
    _weight_kernel: ClassVar = staticmethod(quantile_weight)
    _psi_deriv_kernel: ClassVar = staticmethod(quantile_psi_deriv)

    def __post_init__(self):
        q = check_quantile(self.quantile)
        object.__setattr__(self, "quantile", q)
        object.__setattr__(self, "c", check_positive("c", self.c))

    def _kernel_args(self) -> tuple:
        return (self.quantile,)

    @property
    def default_c(self) -> float:
        """1.0: ``c`` is unused by the pinball loss."""
        return 1.0

    @property
    def kinks(self) -> tuple:
        """``0``: ``psi`` jumps from ``q - 1`` to ``q``."""
        return (0.0,)

    @property
    def max_rho(self) -> float:
        return math.inf
