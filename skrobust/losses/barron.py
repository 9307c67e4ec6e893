"""Barron's general robust loss and its named special cases.

``rho(u) = |s-2|/s * (((u/c)**2/|s-2| + 1)**(s/2) - 1)`` with shape ``s``.
Computed as ``b/s * expm1(s/2 * log1p(z/b))`` (``z = (u/c)**2``, ``b = |s-2|``)
so it stays accurate next to ``s = 0`` and ``s = 2``, where the plain power
form cancels catastrophically.  Shapes 0, 2 and +-inf are their exact limits.
Every quantity is formed in log space where ``u`` can be huge, so that
``|u|`` up to 1e300 never produces inf or NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._numba import njit
from ._base import RobustLoss, check_positive, check_real

_BIG = 1.7976931348623157e308  # float64 max: kernel outputs are clamped to it
_EXP_MAX = 709.782712893384  # log(_BIG): exp(_EXP_MAX) is just below _BIG


@njit(cache=True, nogil=True)
def _clamp(x):
    if x > _BIG:
        return _BIG
    if x < -_BIG:
        return -_BIG
    return x


@njit(cache=True, nogil=True)
def _exp(x):
    # exp that saturates at exactly _BIG instead of overflowing, so that every
    # saturated output compares equal (keeps rho monotone in u and in shape)
    return math.exp(x) if x < _EXP_MAX else _BIG


@njit(cache=True, nogil=True)
def _ratio(a, c):
    # |u| / c, capped so that a tiny c cannot turn a finite residual into inf
    # (tested before dividing, so that plain Python does not warn either)
    return a / c if a < c * _BIG else _BIG


@njit(cache=True, nogil=True)
def _log1p_sq(t, b):
    # log(1 + t**2 / b) for t >= 0 without overflowing t**2 or t**2 / b
    # (b = |shape - 2| can be as small as 4e-16)
    if t < 1e150:
        tt = t * t
        if tt < 1e300 * b:
            return math.log1p(tt / b)
    return 2.0 * math.log(t) - math.log(b) + math.log1p(b / t / t)


@njit(cache=True, nogil=True)
def _log_t(t):
    # log(t) with log(0) = -inf, valid both jitted and as plain Python
    return math.log(t) if t > 0.0 else -math.inf


@njit(cache=True, nogil=True)
def _general_rho(t, shape, b):
    # b/s * expm1(x) with x = s/2 * log1p(t**2/b); half = b/2 * log1p(t**2/b)
    tt = t * t if t < 1e150 else math.inf
    if tt < b:
        # y = t**2/b < 1: use b log1p(y) = t**2 * log1p(y)/y, which keeps its
        # digits even where y underflows (huge |shape| and small residuals)
        y = tt / b
        half = 0.5 * tt * (math.log1p(y) / y if y > 0.0 else 1.0)
        x = shape / b * half
    else:
        lq = _log1p_sq(t, b)
        half = 0.5 * b * lq
        x = 0.5 * shape * lq
    if x > 700.0:
        # expm1(x) == exp(x) to double precision: go through logs, saturate at _BIG
        return _exp(math.log(b / shape) + x)
    if abs(x) < 1.0:
        # half * expm1(x)/x: avoids b/s, which overflows (giving inf * 0 =
        # NaN) for subnormal shapes and loses digits for tiny ones
        return half if x == 0.0 else half * (math.expm1(x) / x)
    return _clamp(b / shape * math.expm1(x))


@njit(cache=True, nogil=True)
def barron_rho(u, c, shape, out):
    b = abs(shape - 2.0)
    for i in range(u.shape[0]):
        if u[i] != u[i]:  # NaN in, NaN out (the log-space caps would map it to a number)
            out[i] = u[i]
            continue
        t = _ratio(abs(u[i]), c)
        if shape == 2.0:
            h = 0.5 * t
            out[i] = h * t if t < 1e150 or h < _BIG / t else _BIG
        elif shape == 0.0:
            out[i] = _log1p_sq(t, 2.0)
        elif shape == -math.inf:
            out[i] = -math.expm1(-0.5 * t * t) if t < 1e150 else 1.0
        elif shape == math.inf:
            h = 0.5 * t * t if t < 1e150 else math.inf
            out[i] = math.expm1(h) if h < 700.0 else _exp(h)
        else:
            out[i] = _general_rho(t, shape, b)


@njit(cache=True, nogil=True)
def _log_weight(t, shape, b):
    # log(c**2 * weight), i.e. log of u_q**(s/2 - 1) with u_q = 1 + t**2/b
    if shape == 2.0:
        return 0.0
    if shape == -math.inf:
        return -0.5 * t * t if t < 1e150 else -math.inf
    if shape == math.inf:
        return 0.5 * t * t if t < 1e150 else math.inf
    return (0.5 * shape - 1.0) * _log1p_sq(t, b)


@njit(cache=True, nogil=True)
def barron_weight(u, c, shape, out):
    # c**-2 is folded into the exponent: 1 / c**2 itself overflows for tiny c
    b = abs(shape - 2.0)
    log_c2 = 2.0 * math.log(c)
    for i in range(u.shape[0]):
        x = u[i]
        out[i] = _exp(_log_weight(_ratio(abs(x), c), shape, b) - log_c2) if x == x else x


@njit(cache=True, nogil=True)
def barron_psi(u, c, shape, out):
    b = abs(shape - 2.0)
    log_c = math.log(c)
    for i in range(u.shape[0]):
        a = abs(u[i])
        if a == 0.0 or a != a:  # psi(0) = 0; NaN in, NaN out
            out[i] = 0.0 if a == 0.0 else a
            continue
        # psi = u / c**2 * weight_unscaled, assembled in log space
        mag = _exp(math.log(a) - 2.0 * log_c + _log_weight(_ratio(a, c), shape, b))
        out[i] = mag if u[i] > 0 else -mag


@njit(cache=True, nogil=True)
def barron_psi_deriv(u, c, shape, out):
    # rho'' = c**-2 * u_q**(s/2-2) * (1 + (s-1) z/b), split into two log-space
    # terms; c**-2 is folded into the exponents (it overflows for tiny c)
    b = abs(shape - 2.0)
    log_c2 = 2.0 * math.log(c)
    for i in range(u.shape[0]):
        if u[i] != u[i]:  # NaN in, NaN out
            out[i] = u[i]
            continue
        t = _ratio(abs(u[i]), c)
        if shape == 2.0:
            out[i] = _exp(-log_c2)
        elif shape == -math.inf:
            if t < 1e150:
                z = t * t
                out[i] = _clamp((1.0 - z) * _exp(-0.5 * z - log_c2))
            else:
                out[i] = 0.0
        elif shape == math.inf:
            z = t * t if t < 1e150 else math.inf
            out[i] = _clamp(_exp(0.5 * z - log_c2) + _exp(_log_t(z) + 0.5 * z - log_c2))
        else:
            lq = _log1p_sq(t, b)
            e = (0.5 * shape - 2.0) * lq - log_c2
            first = _exp(e)
            # second = k z first with k = (s-1)/b folded into the exponent, so
            # that it cannot underflow to a subnormal and then be scaled up
            k = (shape - 1.0) / b
            second = _exp(2.0 * _log_t(t) + _log_t(abs(k)) + e) if t > 0.0 else 0.0
            out[i] = _clamp(first + second if k >= 0.0 else first - second)


# ---------------------------------------------------------------------------
# Fused kernels of Barron's distribution (0 <= shape < 2), for the adaptive
# solver and the log-partition: rho, its robustness weight and d rho / d shape
# share log1p(z/b) and u**(shape/2), so they are computed together.
#
# d rho / d shape uses the closed form of Barron's note written as
# ``-(L/2) phi(x) + b L**2 h(x) / 4 + e**x w / (2 (1 + w))`` with ``w = z/b``,
# ``L = log1p(w)``, ``x = shape L / 2``, ``phi(x) = expm1(x)/x`` and
# ``h(x) = (x e**x - expm1(x))/x**2`` (by its Taylor series for small ``x``),
# so shape 0 needs no branch (an exact-equality branch would give a zero
# derivative there); for ``L < 0.1``, where the three terms cancel to
# ``O(L**3)``, its Taylor series in ``L`` (powers 3 to 11, coefficients
# polynomial in the shape) is used instead.

_SERIES_L = 0.1  # below this log1p(z/b), d rho/d shape is computed by its series
_SERIES_TERMS = 9  # powers 3..11 of log1p(z/b)

# Taylor coefficients of h(x) = (x e^x - expm1(x)) / x**2 = sum_k (k+1) x^k / (k+2)!
_H_COEF = np.array([(k + 1.0) / math.factorial(k + 2) for k in range(10)])


@njit(cache=True, nogil=True)
def _h(x, em1):
    # h(x) = (x e^x - expm1(x)) / x**2 for x >= 0, given em1 = expm1(x)
    if x < 0.1:  # the numerator cancels to x**2/2: Horner on the Taylor series
        acc = 0.0
        for k in range(_H_COEF.shape[0] - 1, -1, -1):
            acc = acc * x + _H_COEF[k]
        return acc
    return (x + (x - 1.0) * em1) / (x * x)


@njit(cache=True, nogil=True)
def barron_shape_series(shape):
    """Taylor coefficients (powers 3 to 11 of ``L``) of d rho/d shape (:func:`barron_parts`)."""
    # d rho/d shape = sum_{m>=3} C_m L**m with L = log1p(z/b), p = shape/2 and
    # C_m = (b/4) [p**(m-2) (m-1-p) - (-1)**m (b/2)**(m-1)] / m!
    b = 2.0 - shape
    p = 0.5 * shape
    out = np.empty(_SERIES_TERMS)
    fact = 2.0
    for j in range(_SERIES_TERMS):
        m = j + 3
        fact *= m
        sign = -1.0 if m % 2 else 1.0
        out[j] = 0.25 * b * (p ** (m - 2) * (m - 1.0 - p) - sign * (0.5 * b) ** (m - 1)) / fact
    return out


@njit(cache=True, nogil=True)
def barron_parts(t, shape, b, coefs):
    """rho, omega * z, omega and d rho / d shape at ``t = |r| / c`` (0 <= shape < 2).

    ``b = 2 - shape``, ``coefs = barron_shape_series(shape)``, ``z = t**2`` and
    ``omega = (1 + z/b)**(shape/2 - 1)`` is the unscaled robustness weight.
    """
    if t < 1e150:
        w = t * t / b
        u = 1.0 + w
        # log1p(w) by Goldberg's trick: one log, accurate to a few ulps, and much
        # cheaper than libm's log1p here
        L = w if u == 1.0 else math.log(u) * (w / (u - 1.0))
        frac = w / u
    else:  # z overflows: work with logs
        w = math.inf
        L = 2.0 * math.log(t) - math.log(b) + math.log1p(b / (t * t))
        frac = 1.0
    x = 0.5 * shape * L
    if x > 700.0:  # u**(shape/2) overflows: saturate
        return _BIG, _BIG, math.exp((0.5 * shape - 1.0) * L), _BIG
    if x < 0.5:
        em1 = math.expm1(x)
        ex = 1.0 + em1  # u**(shape/2)
    else:  # no cancellation in exp(x) - 1
        ex = math.exp(x)
        em1 = ex - 1.0
    phi = em1 / x if x > 0.0 else 1.0
    rho = 0.5 * b * L * phi  # b/shape * expm1(x), continuous at shape 0
    omega = ex / u if t < 1e150 else math.exp((0.5 * shape - 1.0) * L)
    omega_z = b * ex * frac
    if L < _SERIES_L:  # the three terms below cancel to O(L**3)
        acc = 0.0
        for k in range(coefs.shape[0] - 1, -1, -1):
            acc = acc * L + coefs[k]
        drho = acc * L * L * L
    else:
        drho = -0.5 * L * phi + 0.25 * b * L * L * _h(x, em1) + 0.5 * ex * frac
    return rho, omega_z, omega, drho


@njit(cache=True, nogil=True)
def barron_nll_sums(r, s, c, shape, g_out):
    """Sums ``s rho``, ``s omega z``, ``s d rho/d shape`` at ``|r| / c``; ``g_out = s omega r``."""
    b = 2.0 - shape
    coefs = barron_shape_series(shape)
    inv_c = 1.0 / c
    srho = 0.0
    soz = 0.0
    sdrho = 0.0
    for i in range(r.shape[0]):
        si = s[i]
        if si == 0.0:
            g_out[i] = 0.0
            continue
        rho, oz, om, dr = barron_parts(abs(r[i]) * inv_c, shape, b, coefs)
        srho += si * rho
        soz += si * oz
        sdrho += si * dr
        g_out[i] = si * om * r[i]
    return srho, soz, sdrho


@njit(cache=True, nogil=True)
def barron_partition_sums(tgrid, shape):
    """``sum exp(t - rho(e**t))`` and ``sum exp(t - rho(e**t)) d rho/d shape`` over ``tgrid``."""
    b = 2.0 - shape
    coefs = barron_shape_series(shape)
    total = 0.0
    dtotal = 0.0
    for k in range(tgrid.shape[0]):
        t = tgrid[k]
        rho, _, _, dr = barron_parts(math.exp(t), shape, b, coefs)
        f = math.exp(t - rho)
        total += f
        dtotal += f * dr
    return total, dtotal


@dataclass(frozen=True)
class Barron(RobustLoss):
    """Barron's general and adaptive robust loss.

    ``rho(u) = |s-2|/s * (((u/c)**2 / |s-2| + 1)**(s/2) - 1)`` with shape
    ``s``: 2 is L2, 1 pseudo-Huber (Charbonnier), 0 Cauchy, -2
    Geman-McClure, -inf Welsch.  Near the origin ``rho ~ (u/c)**2 / 2``, so
    ``psi ~ u / c**2`` (Barron's scaling, not the textbook one).

    Parameters
    ----------
    shape : float, default=1.0
        Shape parameter; any real number including ``-inf`` and ``inf``.
        Shapes below 1 give a non-convex, redescending loss.
    c : float, default=1.0
        Scale of the quadratic bowl, in units of the residual scale.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> loss = get_loss("barron", shape=0.0)
    >>> float(loss.rho(1.0)) == float(get_loss("cauchy").rho(1.0))
    True
    >>> get_loss("barron", shape=2.0).rho([3.0])
    array([4.5])
    """

    shape: float = 1.0
    c: float = 1.0

    name: ClassVar[str] = "barron"

    _rho_kernel: ClassVar = staticmethod(barron_rho)
    _psi_kernel: ClassVar = staticmethod(barron_psi)
    _weight_kernel: ClassVar = staticmethod(barron_weight)
    _psi_deriv_kernel: ClassVar = staticmethod(barron_psi_deriv)

    def __post_init__(self):
        object.__setattr__(self, "c", check_positive("c", self.c))
        object.__setattr__(self, "shape", check_real("shape", self.shape, allow_inf=True))

    def gnc_shapes(self, n_stages: int = 5):
        """The shapes of the convex-to-target stages of graduated non-convexity (``init="gnc"``).

        ``n_stages`` shapes from 1 (convex) towards ``shape`` (excluded), evenly
        spaced.  Welsch's limit shape ``-inf`` is approached evenly in
        ``s / (1 + |s|)``, which maps ``[1, -inf)`` onto ``[1/2, -1)``.

        Examples
        --------
        >>> from skrobust.losses import get_loss
        >>> get_loss("geman_mcclure").gnc_shapes().round(2).tolist()
        [1.0, 0.4, -0.2, -0.8, -1.4]
        >>> get_loss("welsch").gnc_shapes().round(2).tolist()
        [1.0, 0.25, -0.11, -0.67, -2.33]
        """
        target = float(self.shape)
        if math.isfinite(target):
            return np.linspace(1.0, target, n_stages + 1)[:-1]
        t = np.linspace(0.5, -1.0 if target < 0 else 1.0, n_stages + 1)[:-1]
        return t / (1.0 - np.abs(t))

    def _kernel_args(self) -> tuple:
        return (self.c, self.shape)

    @property
    def convex(self) -> bool:  # type: ignore[override]
        return self.shape >= 1.0

    @property
    def redescending(self) -> bool:  # type: ignore[override]
        return self.shape < 1.0

    @property
    def max_rho(self) -> float:
        if self.shape == -math.inf:
            return 1.0
        if self.shape < 0:
            return (self.shape - 2.0) / self.shape
        return math.inf


@dataclass(frozen=True)
class Cauchy(Barron):
    """Cauchy (Lorentzian) loss, Barron's shape 0: ``rho = log(1 + (u/c)**2 / 2)``.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> round(float(get_loss("cauchy").rho(2.0)), 6)
    1.098612
    """

    shape: float = field(default=0.0, init=False)
    c: float = 1.0
    name: ClassVar[str] = "cauchy"


@dataclass(frozen=True)
class GemanMcClure(Barron):
    """Geman-McClure loss, Barron's shape -2: ``rho = 2 z / (z + 4)``, ``z = (u/c)**2``.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> float(get_loss("geman_mcclure").rho(2.0))
    1.0
    """

    shape: float = field(default=-2.0, init=False)
    c: float = 1.0
    name: ClassVar[str] = "geman_mcclure"


@dataclass(frozen=True)
class Welsch(Barron):
    """Welsch (Leclerc) loss, Barron's shape -inf: ``rho = 1 - exp(-(u/c)**2 / 2)``.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> round(float(get_loss("welsch").rho(1.0)), 6)
    0.393469
    """

    shape: float = field(default=-math.inf, init=False)
    c: float = 1.0
    name: ClassVar[str] = "welsch"


@dataclass(frozen=True)
class PseudoHuber(Barron):
    """Pseudo-Huber (Charbonnier) loss, Barron's shape 1: ``rho = sqrt(1 + (u/c)**2) - 1``.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> round(float(get_loss("pseudo_huber").rho(1.0)), 6)
    0.414214
    """

    shape: float = field(default=1.0, init=False)
    c: float = 1.0
    name: ClassVar[str] = "pseudo_huber"
