"""Scale rules for M-estimation: objects that map residuals to a scale.

Each rule is a small object with ``update(residuals, rows, scale)`` returning
the new scale, so the solvers treat "re-estimate the MAD every iteration",
"Huber's proposal 2", "Owen's joint scale" and "keep it fixed" alike.  All of
them use frequency weights: integer weights give exactly the scale of the
data with repeated rows, zero weights remove rows.

``rows`` is a :class:`~skrobust.scale.reducer.Reducer`, the only way a rule
reaches the weights: every sum is ``rows.sum(fn, size, residuals, ...)`` of a
per-row function below (:func:`proposal2_sums`, :func:`joint_sums`,
:func:`rho_sums`), the total weight is ``rows.total`` and the MAD is
``rows.abs_median``.  In memory that is :class:`~skrobust.scale.NumpyRows`
over the weight vector; on dask, :class:`skrobust.dask.DaskRows`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .median import MAD_NORMAL_CONSTANT


def proposal2_sums(r2, w, *, t, k2):
    """``[sum w over r**2 > k2 t, sum w r**2 over r**2 <= k2 t]`` (Huber's proposal 2)."""
    clipped = r2 > k2 * t
    return np.array([float(np.dot(w, clipped)), float(np.dot(w, np.where(clipped, 0.0, r2)))])


def joint_sums(r, w, *, scale, loss, slope=True):
    """``[sum w (u psi - rho)(u), sum w u**2 psi'(u)]`` at ``u = r / scale`` (Owen's scale;
    the second NaN without ``slope``)."""
    u = np.asarray(r, dtype=np.float64) / scale
    value = float(np.dot(w, u * loss.psi(u) - loss.rho(u)))
    return np.array([value, float(np.dot(w, u * u * loss.psi_deriv(u))) if slope else math.nan])


def rho_sums(r, w, *, scale, loss):
    """``[sum w rho(u), sum w u psi(u)]`` at ``u = r / scale`` (an M-scale equation)."""
    u = np.asarray(r, dtype=np.float64) / scale
    return np.array([float(np.dot(w, loss.rho(u))), float(np.dot(w, u * loss.psi(u)))])


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
    dev = y - np.dot(w, y) / total
    np.abs(dev, out=dev)
    spread = float(np.dot(w, dev) / total)
    magnitude = max(float(y.max()), -float(y.min())) if y.size else 0.0
    return max(1e-10 * spread, 1e-12 * magnitude, 1e-300)


def decreasing_root(fun, s0, floor, tol=1e-12, max_iter=200) -> float:
    """Root in ``s >= floor`` of a function that falls with ``s``.

    Safeguarded Newton in ``log s``: ``fun(s)`` returns ``(value, d value / d
    log s)``; every evaluation tightens a bracket, and a step that leaves it is
    replaced by bisection (or doubling while no upper end is known).  Used by
    the joint scale in memory and on dask, where each evaluation is one
    reduction.

    Examples
    --------
    >>> from skrobust.scale import decreasing_root
    >>> round(decreasing_root(lambda s: (4.0 / s**2 - 1.0, -8.0 / s**2), 1.0, 1e-9), 12)
    2.0
    """
    lo, hi = math.log(floor), math.inf
    t = math.log(max(s0, floor))
    for _ in range(max_iter):
        value, slope = fun(math.exp(t))
        if value == 0:
            return math.exp(t)
        if value > 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        new = t - value / slope if slope < 0 else math.nan
        if not lo < new < hi:  # NaN fails too
            new = t + math.log(2.0) if math.isinf(hi) else 0.5 * (lo + hi)
        if abs(new - t) <= tol or hi - lo <= 1e-14:
            return max(math.exp(new), floor)
        t = new
    return max(math.exp(t), floor)


# renamed ``scale`` values of RobustRegressor: old name -> current name
RENAMED_SCALES = {"huber": "proposal2"}


def resolve_scale_name(name):
    """The current name of a ``scale`` value; a renamed one gives a FutureWarning.

    ``"huber"`` named Huber's proposal 2, easily read as "the scale of the
    Huber loss"; it is now ``"proposal2"``.  Non-string values pass through.

    Examples
    --------
    >>> import warnings
    >>> from skrobust.scale import resolve_scale_name
    >>> resolve_scale_name("mad")
    'mad'
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     resolve_scale_name("huber")
    'proposal2'
    >>> caught[0].category.__name__
    'FutureWarning'
    """
    if isinstance(name, str) and name in RENAMED_SCALES:
        new = RENAMED_SCALES[name]
        warnings.warn(f"scale={name!r} was renamed scale={new!r} (Huber's proposal 2, a scale "
                      f"rule usable with any loss); {name!r} will be removed in a future "
                      "release.", FutureWarning, stacklevel=3)
        return new
    return name


def _normal_truncated_second_moment(k: float) -> float:
    # E[min(Z**2, k**2)] for Z ~ N(0, 1)
    from scipy.stats import norm

    return (2 * norm.cdf(k) - 1) - 2 * k * norm.pdf(k) + 2 * k * k * norm.sf(k)


class SecantScale:
    """Secant acceleration of a re-estimated scale: the fixed point ``s = g(s)``.

    An M-fit whose scale is re-estimated from its own residuals (MAD,
    Huber's proposal 2) alternates two maps: coefficients for the current
    scale, then ``g``, the scale of their residuals.  Once the coefficient
    steps are accurate (a Newton step, an L-BFGS run at a fixed scale) the
    slow part of the alternation is one-dimensional: ``s_{k+1} = g(s_k)``
    converges with the factor ``lambda = g'(s*)``, which can be close to -1
    (robustbase's ``cloud`` data: about -0.956 for Huber's loss with the MAD,
    hundreds of iterations) or exactly -1 (a 2-cycle).  Each call receives the
    scale the coefficients were fitted at (``used``) and the rule's new scale
    for their residuals (``proposed``) and returns the secant step on
    ``g(s) - s = 0``, ``(g_k - lambda s_k) / (1 - lambda)`` with ``lambda``
    the slope of ``g`` through the last two pairs: for ``lambda < 0`` a
    weighted mean of ``s_k`` and ``g_k`` (damping), for ``lambda > 0`` an
    extrapolation past ``g_k``.  ``lambda`` is clipped to ``[min_slope,
    max_slope]`` (by default the step keeps at least 1/20 of the plain move
    ``g_k - s_k`` and extrapolates at most 4 times past it).  Where the
    coefficients lag the scale (classic IRLS takes one reweighting step per
    scale, so ``g`` is not a function of the scale alone) the secant model is
    rough and ``[-1, 0]`` keeps only damping, by at most a half, which ends
    the 2-cycles of the plain alternation.  The fixed point is that of the
    plain alternation: only the path to it changes.  The first pair is not
    used (the start was not fitted at the first scale).

    Examples
    --------
    >>> from skrobust.scale import SecantScale
    >>> g = lambda s: 2.0 - 0.95 * (s - 2.0)  # fixed point 2, factor -0.95
    >>> secant, s = SecantScale(floor=1e-12), 1.0
    >>> for _ in range(4):
    ...     s = secant(s, g(s))
    >>> round(s, 12)
    2.0
    """

    def __init__(self, floor: float = 0.0, min_slope: float = -19.0, max_slope: float = 0.8):
        self.floor = float(floor)
        self.min_slope, self.max_slope = float(min_slope), float(max_slope)
        self._calls = 0
        self._last = None  # (used, proposed) of the previous call

    def __call__(self, used: float, proposed: float) -> float:
        self._calls += 1
        last, self._last = self._last, (float(used), float(proposed))
        if self._calls <= 2 or last is None:
            return proposed
        ds = used - last[0]
        if not (math.isfinite(ds) and abs(ds) > 1e-13 * abs(used)):
            return proposed
        slope = min(max((proposed - last[1]) / ds, self.min_slope), self.max_slope)
        new = (proposed - slope * used) / (1.0 - slope)
        return max(new, self.floor) if math.isfinite(new) else proposed


def rows_mad(residuals, rows, guess=None) -> float:
    """The MAD (:func:`~skrobust.scale.mad_scale`) of ``residuals`` weighted by the reducer
    ``rows``; ``guess`` a scale believed close (the previous iteration's) or None.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.scale import NumpyRows, mad_scale
    >>> r, w = np.array([-1.0, 1.0, 2.0, -2.0, 100.0]), np.array([1.0, 2.0, 1.0, 1.0, 1.0])
    >>> rows_mad(r, NumpyRows(w)) == mad_scale(r, w)
    True
    """
    hint = None if guess is None else guess * MAD_NORMAL_CONSTANT
    return rows.abs_median(residuals, hint) / MAD_NORMAL_CONSTANT


@dataclass(frozen=True)
class FixedScale:
    """A known scale, never updated (``scale=<float>``, and the MM step)."""

    value: float
    penalty_in_scale_units: bool = False
    #: no floor below the fixed value: the solvers' line searches may move only above it
    floor: ClassVar[float] = 0.0

    def initial(self, residuals, rows) -> float:
        return self.value

    def update(self, residuals, rows, scale) -> float:
        return self.value

    fixed = True


@dataclass(frozen=True)
class MADScale:
    """MAD of the current residuals, re-estimated every iteration (MASS::rlm)."""

    floor: float
    penalty_in_scale_units: bool = False
    fixed = False

    def initial(self, residuals, rows) -> float:
        return max(rows_mad(residuals, rows), self.floor)

    def update(self, residuals, rows, scale) -> float:
        return max(rows_mad(residuals, rows, guess=scale), self.floor)


@dataclass(frozen=True)
class HuberProposal2Scale:
    """Huber's proposal 2: ``sum w min(r, k s)**2 = (sum w - p) E[min(Z, k)**2] s**2``."""

    floor: float
    n_params: int
    k: float = 1.345
    penalty_in_scale_units: bool = False
    #: the weight of one observation (frequency weights in other units: see skrobust._units)
    count: float = 1.0
    fixed = False

    def degrees_of_freedom(self, total_weight) -> float:
        """``(sum w - p) E[min(Z, k)**2]``, the right side's factor (at least one observation)."""
        count = self.count
        return (max(float(total_weight) - self.n_params * count, count)
                * _normal_truncated_second_moment(self.k))

    def initial(self, residuals, rows) -> float:
        return max(rows_mad(residuals, rows), self.floor)

    def update(self, residuals, rows, scale) -> float:
        # Root of F(t) = sum w min(r**2, k**2 t) - dof t in t = s**2.  F is concave and
        # piecewise linear, so Newton steps (exact on the current clipping pattern) reach
        # the root in a few passes; where F still rises, a fixed-point step is taken.
        r2 = residuals**2
        k2 = self.k * self.k
        dof = self.degrees_of_freedom(rows.total)
        floor2 = self.floor * self.floor
        t = max(scale, self.floor) ** 2
        for _ in range(200):
            w_out, s_in = rows.sum(proposal2_sums, 2, r2, t=t, k2=k2)
            denom = dof - k2 * w_out
            if denom > 0:
                new = s_in / denom
            else:
                new = (s_in + k2 * t * w_out) / dof
            new = max(new, floor2)
            if abs(new - t) <= 1e-14 * t:
                return math.sqrt(new)
            t = new
        return math.sqrt(t)


@dataclass(frozen=True)
class JointScale:
    """Owen's concomitant scale, the sigma of HuberRegressor's objective.

    For fixed coefficients it minimises ``sum w (s + 2 s rho(r/s) / w0)``
    over ``s``: the root of ``sum w 2 (u psi(u) - rho(u)) / w0 = sum w``
    with ``u = r/s``.  For Huber's loss that is
    ``sum w min((r/s)**2, eps**2) = sum w``.  The left side falls with
    ``s`` for convex losses, so the root is found by Newton steps in
    ``log(s)`` safeguarded by a bracket (a few passes over the residuals).
    """

    floor: float
    loss: object
    penalty_in_scale_units: bool = True
    fixed = False

    def initial(self, residuals, rows) -> float:
        return max(rows_mad(residuals, rows), self.floor)

    def excess(self, residuals, rows, scale, slope=True):
        """``sum w 2 (u psi - rho)(u) / w0 - sum w`` at ``u = r / scale``, and its derivative
        in ``log(scale)``, ``-sum w 2 u**2 psi'(u) / w0`` (never positive for convex losses)."""
        loss = self.loss
        w0 = loss.weight_at_zero()
        a, b = rows.sum(joint_sums, 2, residuals, scale=scale, loss=loss, slope=slope)
        value = 2.0 * a / w0 - rows.total
        return value, (-2.0 * b / w0 if slope else math.nan)

    def update(self, residuals, rows, scale) -> float:
        # safeguarded Newton on log(scale): the excess falls with the scale, so every
        # evaluation also tightens a bracket, and a step leaving it is replaced by bisection
        if self.excess(residuals, rows, self.floor, slope=False)[0] <= 0:
            return self.floor
        return decreasing_root(lambda s: self.excess(residuals, rows, s), scale, self.floor)
