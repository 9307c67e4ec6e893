"""Barron's distribution: the partition function ``Z(shape)`` and the NLL.

``p(x | shape, c) = exp(-rho(x, shape, c)) / (c Z(shape))`` is a proper
density for ``shape >= 0``.  ``log Z`` is computed by adaptive quadrature
after the substitution ``x = exp(t)``, which turns the heavy Cauchy-like
tail into a fast-decaying integrand; one value costs about a millisecond
and is cached, since a fitted model has a single scalar shape.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

_LOG_Z_INF = 0.70526025442689566  # log Z(+inf), the limit of the family


def _rho_unit(x, shape):
    from .barron import Barron

    return Barron(shape=shape, c=1.0).rho(x)


@lru_cache(maxsize=4096)
def _log_partition(shape: float) -> float:
    from scipy.integrate import quad

    if shape == math.inf:
        return _LOG_Z_INF

    def integrand(t):
        x = math.exp(t)
        return math.exp(t - float(_rho_unit(np.array([x]), shape)[0]))

    lower, _ = quad(integrand, -40.0, 0.0, epsabs=0.0, epsrel=1e-12, limit=200)
    upper, _ = quad(integrand, 0.0, 60.0, epsabs=0.0, epsrel=1e-12, limit=400)
    return math.log(2.0 * (lower + upper))


def barron_log_partition(shape: float) -> float:
    """Logarithm of the normaliser ``Z(shape)`` of Barron's distribution.

    Parameters
    ----------
    shape : float
        Shape, ``>= 0`` (the density is improper for negative shapes).

    Returns
    -------
    log_z : float

    Examples
    --------
    >>> import math
    >>> from skrobust.losses import barron_log_partition
    >>> round(math.exp(barron_log_partition(0.0)) / (math.pi * math.sqrt(2)), 10)
    1.0
    >>> round(math.exp(barron_log_partition(2.0)) / math.sqrt(2 * math.pi), 10)
    1.0
    """
    shape = float(shape)
    if math.isnan(shape) or shape < 0:
        raise ValueError(f"shape must be >= 0 for Barron's distribution, got {shape!r}")
    return _log_partition(shape)


def barron_log_partition_grad(shape: float, step: float = 1e-5) -> float:
    """Derivative of :func:`barron_log_partition` by a central difference.

    One-sided near 0 and 2 (where ``log Z`` has a log singularity at 2); the
    step is relative for shapes above 1, and the limit 0 is returned at
    ``shape = inf``.

    Raises
    ------
    ValueError
        If ``shape`` is negative or NaN.

    Examples
    --------
    >>> from skrobust.losses.distribution import barron_log_partition_grad
    >>> barron_log_partition_grad(1.0) < 0
    True
    """
    shape = float(shape)
    if math.isnan(shape) or shape < 0:
        raise ValueError(f"shape must be >= 0 for Barron's distribution, got {shape!r}")
    if shape == math.inf:
        return 0.0  # log Z tends to the constant log Z(inf)
    # a relative step for large shapes, where shape +- step would round to shape
    step = step * max(1.0, shape)
    lo = max(shape - step, 0.0)
    hi = shape + step
    if shape < 2.0 <= hi:
        hi = shape
    if lo < 2.0 <= shape:
        lo = shape
    return (_log_partition(hi) - _log_partition(lo)) / (hi - lo)


def barron_nll(residuals, shape: float, scale: float, sample_weight=None) -> float:
    """Negative log-likelihood of residuals under Barron's distribution.

    ``sum_i w_i [rho(r_i, shape, scale) + log(scale) + log Z(shape)]``.

    Parameters
    ----------
    residuals : array-like
        Residuals ``y - f(x)``.
    shape : float
        Shape, ``>= 0``.
    scale : float
        Scale ``c > 0``.
    sample_weight : array-like, optional
        Frequency weights (default 1).

    Returns
    -------
    nll : float
        Summed, not averaged, so ``n log Z`` keeps its weight.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from skrobust.losses import barron_nll
    >>> r = np.array([-1.0, 0.5, 2.0])
    >>> bool(np.isclose(barron_nll(r, 2.0, 1.5), -stats.norm(0, 1.5).logpdf(r).sum()))
    True
    """
    from ._base import check_positive
    from .barron import Barron

    scale = check_positive("scale", scale)
    r = np.asarray(residuals, dtype=np.float64)
    w = np.ones_like(r) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    rho = Barron(shape=float(shape), c=scale).rho(r)
    return float(np.dot(w, rho) + w.sum() * (math.log(scale) + barron_log_partition(shape)))
