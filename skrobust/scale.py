"""Scale estimators for M-estimation: rules that map residuals to a scale.

Each rule is a small object with ``update(residuals, sample_weight, scale)``
returning the new scale, so the solvers treat "re-estimate the MAD every
iteration", "Huber's proposal 2", "Owen's joint scale" and "keep it fixed"
alike.  All of them use frequency weights: integer weights give exactly the
scale of the data with repeated rows, zero weights remove rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAD_NORMAL_CONSTANT = 0.6744897501960817  # Phi^-1(3/4): MAD / this is consistent at the normal


def weighted_median(x, sample_weight=None) -> float:
    """Median of ``x`` with frequency weights.

    With integer weights this equals ``np.median`` of the data with each
    value repeated ``weight`` times (the mean of the two middle values when
    the total weight is even); zero-weight values are ignored.

    Examples
    --------
    >>> from skrobust.scale import weighted_median
    >>> weighted_median([1.0, 2.0, 10.0], [1, 1, 2])
    6.0
    >>> weighted_median([1.0, 2.0, 10.0])
    2.0
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if sample_weight is None:
        return float(np.median(x))
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    keep = w > 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, cum = x[order], np.cumsum(w[order])
    half = 0.5 * cum[-1]
    # lower: first value whose cumulative weight reaches half; upper: first exceeding it
    tol = 1e-12 * cum[-1]
    lower = x[np.searchsorted(cum, half - tol, side="left")]
    upper = x[min(np.searchsorted(cum, half + tol, side="right"), x.size - 1)]
    return 0.5 * (float(lower) + float(upper))


def mad_scale(residuals, sample_weight=None) -> float:
    """Normalised median absolute residual, ``median(|r|) / 0.6745`` (centre 0, as MASS::rlm).

    Examples
    --------
    >>> from skrobust.scale import mad_scale
    >>> round(mad_scale([-1.0, 1.0, 2.0, -2.0, 100.0]), 4)
    2.9652
    """
    return weighted_median(np.abs(residuals), sample_weight) / MAD_NORMAL_CONSTANT


def scale_floor(y, sample_weight=None) -> float:
    """Smallest scale allowed for targets ``y``, so an exact fit never gives a zero scale.

    Examples
    --------
    >>> from skrobust.scale import scale_floor
    >>> scale_floor([0.0, 0.0]) > 0
    True
    """
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    if total <= 0:
        return 1e-300
    spread = float(np.dot(w, np.abs(y - np.dot(w, y) / total)) / total)
    magnitude = float(np.max(np.abs(y))) if y.size else 0.0
    return max(1e-10 * spread, 1e-12 * magnitude, 1e-300)


def _normal_truncated_second_moment(k: float) -> float:
    # E[min(Z**2, k**2)] for Z ~ N(0, 1)
    from scipy.stats import norm

    return (2 * norm.cdf(k) - 1) - 2 * k * norm.pdf(k) + 2 * k * k * norm.sf(k)


@dataclass(frozen=True)
class FixedScale:
    """A known scale, never updated (``scale=<float>``, and the MM step)."""

    value: float
    penalty_in_scale_units: bool = False

    def initial(self, residuals, sample_weight) -> float:
        return self.value

    def update(self, residuals, sample_weight, scale) -> float:
        return self.value

    fixed = True


@dataclass(frozen=True)
class MADScale:
    """MAD of the current residuals, re-estimated every iteration (MASS::rlm)."""

    floor: float
    penalty_in_scale_units: bool = False
    fixed = False

    def initial(self, residuals, sample_weight) -> float:
        return max(mad_scale(residuals, sample_weight), self.floor)

    def update(self, residuals, sample_weight, scale) -> float:
        return max(mad_scale(residuals, sample_weight), self.floor)


@dataclass(frozen=True)
class HuberProposal2Scale:
    """Huber's proposal 2: ``sum w min(r, k s)**2 = (sum w - p) E[min(Z, k)**2] s**2``."""

    floor: float
    n_params: int
    k: float = 1.345
    penalty_in_scale_units: bool = False
    fixed = False

    def initial(self, residuals, sample_weight) -> float:
        return max(mad_scale(residuals, sample_weight), self.floor)

    def update(self, residuals, sample_weight, scale) -> float:
        r2 = np.asarray(residuals, dtype=np.float64) ** 2
        w = sample_weight
        dof = max(float(w.sum()) - self.n_params, 1.0) * _normal_truncated_second_moment(self.k)
        s = max(scale, self.floor)
        for _ in range(100):  # fixed point; contracts because the clipped sum grows slower than s^2
            new = math.sqrt(float(np.dot(w, np.minimum(r2, (self.k * s) ** 2))) / dof)
            new = max(new, self.floor)
            if abs(new - s) <= 1e-12 * s:
                return new
            s = new
        return s


@dataclass(frozen=True)
class JointScale:
    """Owen's concomitant scale, the sigma of HuberRegressor's objective.

    For fixed coefficients it minimises ``sum w (s + 2 s rho(r/s) / w0)``
    over ``s``: the root of ``sum w 2 (u psi(u) - rho(u)) / w0 = sum w``
    with ``u = r/s``.  For Huber's loss that is
    ``sum w min((r/s)**2, eps**2) = sum w``.  The left side falls with
    ``s`` for convex losses, so the root is bracketed and bisected.
    """

    floor: float
    loss: object
    penalty_in_scale_units: bool = True
    fixed = False

    def initial(self, residuals, sample_weight) -> float:
        return max(mad_scale(residuals, sample_weight), self.floor)

    def update(self, residuals, sample_weight, scale) -> float:
        r = np.asarray(residuals, dtype=np.float64)
        w = sample_weight
        total = float(w.sum())
        w0 = self.loss.weight_at_zero()

        def excess(s):
            u = r / s
            return 2.0 * float(np.dot(w, u * self.loss.psi(u) - self.loss.rho(u))) / w0 - total

        if excess(self.floor) <= 0:
            return self.floor
        lo, hi = self.floor, max(scale, self.floor)
        while excess(hi) > 0:
            lo, hi = hi, hi * 2.0
        for _ in range(200):
            mid = math.sqrt(lo * hi)
            if excess(mid) > 0:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * hi:
                break
        return 0.5 * (lo + hi)
