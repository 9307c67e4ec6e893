"""Tuning constants for a requested asymptotic efficiency at the normal model.

For an M-estimator of location (or regression with a known scale) with
influence function ``psi``, the asymptotic efficiency relative to least
squares at the standard normal is ``E[psi'(Z)]**2 / E[psi(Z)**2]``.  Both
expectations are one-dimensional integrals, computed with adaptive
quadrature split at the loss's tuning constant and its kinks (where
``psi'`` jumps: ``c`` for Huber's and Tukey's losses, the corners of
Hampel's).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def split_points(loss) -> tuple:
    """Where quadrature over ``[0, inf)`` splits for ``loss``: ``c`` and its positive kinks.

    ``c`` alone for Huber's and Tukey's losses (their kink) and for the
    smooth losses; Hampel's corners for Hampel's loss.
    """
    return tuple(sorted({float(loss.c), *(float(k) for k in loss.kinks if k > 0)}))


def _expect(fun, split) -> float:
    # E[f(Z)] for an even f, Z ~ N(0, 1), integrated over [0, inf) piecewise,
    # split at ``split`` (one point or a sorted tuple of points)
    from scipy.integrate import quad

    def integrand(x):
        return float(fun(np.array([x]))[0]) * math.exp(-0.5 * x * x) / _SQRT_2PI

    points = [min(max(p, 1e-8), 40.0) for p in np.atleast_1d(split)]
    edges = [0.0, *points, math.inf]
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi > lo:
            total += quad(integrand, lo, hi, limit=200, epsabs=1e-13, epsrel=1e-12)[0]
    return 2.0 * total


def asymptotic_efficiency(loss) -> float:
    """Asymptotic efficiency of ``loss`` at the standard normal model.

    Parameters
    ----------
    loss : RobustLoss
        A symmetric loss with ``psi`` and ``psi_deriv``.

    Returns
    -------
    efficiency : float
        ``E[psi'(Z)]**2 / E[psi(Z)**2]`` for ``Z ~ N(0, 1)``, in (0, 1].

    Examples
    --------
    >>> from skrobust.losses import get_loss, asymptotic_efficiency
    >>> round(asymptotic_efficiency(get_loss("huber", c=1.345)), 3)
    0.95
    """
    split = split_points(loss)
    e_dpsi = _expect(loss.psi_deriv, split)
    e_psi2 = _expect(lambda u: loss.psi(u) ** 2, split)
    return e_dpsi * e_dpsi / e_psi2


def efficiency_constant(loss, efficiency: float = 0.95, **params) -> float:
    """Tuning constant ``c`` giving the requested normal-model efficiency.

    Parameters
    ----------
    loss : str or RobustLoss
        A registry name or loss object; for Barron's family the shape is
        taken from the object or from ``params``.
    efficiency : float, default=0.95
        Target efficiency in (0, 1).
    **params
        Loss parameters other than ``c`` (for example ``shape``).

    Returns
    -------
    c : float
        The constant, rounded to 1e-7.  Where every ``c`` reaches the target
        (Barron shapes of 2, or close enough to 2 that even the pure power
        limit is efficient enough), ``1.0`` is returned.

    Examples
    --------
    >>> from skrobust.losses import efficiency_constant
    >>> round(efficiency_constant("huber"), 3)
    1.345
    >>> round(efficiency_constant("tukey"), 3)
    4.685
    >>> round(efficiency_constant("cauchy"), 4)  # textbook 2.3849 / sqrt(2)
    1.6864
    """
    from . import get_loss

    if not 0.0 < float(efficiency) < 1.0:
        raise ValueError(f"efficiency must lie in (0, 1), got {efficiency!r}")
    obj = get_loss(loss, **params)
    fields = {k: v for k, v in obj.params.items() if k != "c"}
    return _cached_constant(type(obj), tuple(sorted(fields.items())), float(efficiency))


@lru_cache(maxsize=256)
def _cached_constant(cls, frozen_params: tuple, efficiency: float) -> float:
    from scipy.optimize import brentq

    params = dict(frozen_params)
    if getattr(cls, "tunable", True) is False:
        return 1.0

    def gap(c):
        return asymptotic_efficiency(cls(c=c, **params)) - efficiency

    lo, hi = 1e-3, 2.0
    if gap(lo) >= 0.0:
        return 1.0
    while gap(hi) < 0.0:
        hi *= 2.0
        if hi > 1e4:  # efficiency never reaches the target
            raise ValueError(f"no tuning constant reaches efficiency {efficiency} for {cls.name}")
    return round(brentq(gap, lo, hi, xtol=1e-12), 7)
