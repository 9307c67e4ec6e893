"""Probability losses for label-noise-robust classification: ``l(p)`` of the given label.

Every loss here is a function ``l(p)`` of ``p``, the (softmax or sigmoid)
probability the model gives to the *given*, possibly wrong, label of a
sample.  For such a loss the gradient with respect to the logits is

    dl / dz = w(p) * (softmax(z) - e_y),     w(p) = -p * l'(p),

so every loss is a cross-entropy reweighted by ``w(p)``: one engine (L-BFGS
on value and gradient, or iteratively reweighted cross-entropy) fits them all.
Losses are evaluated on ``log p`` (computed by the solver as a log-softmax),
which keeps them accurate when ``p`` underflows.

The numba kernels take ``(lp, *params, out)`` with ``lp = log p`` as a 1-D
float64 array; ``*_rho`` is the loss and ``*_weight`` the reweighting factor
``w = -d rho / d log p``.

The Blurry and Piecewise-zero losses are reconstructed from the authors'
public research code (Pellegrino, Szczecina & Fieguth, arXiv 2511.16512);
see ``shared/reference/classification.md``.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses.probability import GCE
>>> loss = GCE(q=0.7)
>>> np.round(loss.rho([1.0, 0.5]), 4)
array([0.    , 0.5492])
>>> np.round(loss.weight([1.0, 0.5]), 4)
array([1.    , 0.6156])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._numba import njit
from ._base import LossParameters, check_real, real_array, run_kernel

# ----------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def log_rho(lp, out):
    for i in range(lp.shape[0]):
        out[i] = 0.0 - lp[i]


@njit(cache=True, nogil=True)
def log_weight(lp, out):
    for i in range(lp.shape[0]):
        out[i] = 1.0 if lp[i] == lp[i] else lp[i]  # NaN in, NaN out


@njit(cache=True, nogil=True)
def gce_rho(lp, q, out):
    # (1 - p**q) / q, written with expm1 so that q -> 0 gives -log p accurately
    for i in range(lp.shape[0]):
        out[i] = 0.0 - math.expm1(q * lp[i]) / q


@njit(cache=True, nogil=True)
def gce_weight(lp, q, out):
    for i in range(lp.shape[0]):
        out[i] = math.exp(q * lp[i])


@njit(cache=True, nogil=True)
def blurry_rho(lp, g, out):
    # -p**g * log p; 0 * inf := 0 at p = 0 for g > 0
    for i in range(lp.shape[0]):
        if lp[i] == -math.inf:
            out[i] = 0.0 if g > 0.0 else math.inf
        else:
            out[i] = 0.0 - math.exp(g * lp[i]) * lp[i]


@njit(cache=True, nogil=True)
def blurry_weight(lp, g, out):
    # p**g * (1 + g log p): the full ("back-off") gradient, negative below p* = exp(-1/g)
    for i in range(lp.shape[0]):
        if lp[i] == -math.inf:
            out[i] = 0.0 if g > 0.0 else 1.0
        else:
            out[i] = math.exp(g * lp[i]) * (1.0 + g * lp[i])


@njit(cache=True, nogil=True)
def blurry_flat(lp, g, rho, weight):
    # -p**g log p above p* = exp(-1/g), held at its maximum 1/(e g) below, and the
    # back-off weight clipped at 0 (samples below p* are disregarded), both at once.
    # ``rho`` holds p**g on entry (NumPy's vectorised exp is several times faster);
    # selects, not branches: which samples lie below p* is unpredictable.
    cut = -1.0 / g if g > 0.0 else -math.inf
    top = 1.0 / (math.e * g) if g > 0.0 else 0.0
    for i in range(lp.shape[0]):
        pg = rho[i]
        below = lp[i] < cut
        rho[i] = top if below else 0.0 - pg * lp[i]
        weight[i] = 0.0 if below else pg * (1.0 + g * lp[i])


@njit(cache=True, nogil=True)
def pz_rho(lp, log_c, out):
    for i in range(lp.shape[0]):
        out[i] = 0.0 if lp[i] < log_c else 0.0 - lp[i]  # NaN in, NaN out


@njit(cache=True, nogil=True)
def pz_weight(lp, log_c, out):
    for i in range(lp.shape[0]):
        out[i] = 1.0 if lp[i] >= log_c else (0.0 if lp[i] < log_c else lp[i])


@njit(cache=True, nogil=True)
def sce_rho(lp, a, b, log_zero, out):
    # a * CE + b * RCE with RCE = -log_zero * (1 - p)
    for i in range(lp.shape[0]):
        out[i] = -a * lp[i] - b * log_zero * (-math.expm1(lp[i]))


@njit(cache=True, nogil=True)
def sce_weight(lp, a, b, log_zero, out):
    for i in range(lp.shape[0]):
        out[i] = a - b * log_zero * math.exp(lp[i])


# ------------------------------------------------------------------ objects


def _as_log_p(p):
    p = real_array(p, "p").astype(np.float64, copy=False)
    if np.any((p < 0) | (p > 1)):  # NaN passes: NaN in, NaN out
        raise ValueError("probabilities must lie in [0, 1]")
    with np.errstate(divide="ignore"):
        return np.log(p)


@dataclass(frozen=True)
class ProbabilityLoss(LossParameters):
    """Base class of the losses ``l(p)`` on the probability of the given label.

    Subclasses are frozen dataclasses whose fields are the loss parameters.
    The solvers call :meth:`rho_log` and :meth:`weight_log` on ``log p``; the
    methods on ``p`` are for users and tests.

    Attributes
    ----------
    name : str
        Registry name.
    kind : str
        ``"probability"``: the estimator uses a multinomial (softmax) model.
    convex : bool
        Whether the loss is convex in the logits (only cross-entropy is).
    bounded : bool
        Whether ``l`` is bounded, so a single wrong label has bounded influence
        on the objective.
    smooth : bool
        Whether the objective is differentiable, so that L-BFGS applies
        (False for the discontinuous Piecewise-zero loss, which is fitted by
        reweighting).

    Examples
    --------
    >>> from skrobust.losses.probability import LogLoss
    >>> LogLoss().weight([0.2, 0.9])
    array([1., 1.])
    """

    name: ClassVar[str] = "base"
    kind: ClassVar[str] = "probability"
    convex: ClassVar[bool] = False
    bounded: ClassVar[bool] = True
    smooth: ClassVar[bool] = True
    negative_weights: ClassVar[bool] = False

    _rho_kernel: ClassVar = None
    _weight_kernel: ClassVar = None

    def _kernel_args(self) -> tuple:
        return ()

    def _apply(self, kernel, lp, args=None, n_out=1, out=None):
        args = self._kernel_args() if args is None else args
        return run_kernel(kernel, lp, args, "lp", n_out, out)

    # ------------------------------------------------------- on log p (solvers)
    def rho_log(self, lp):
        """Loss as a function of ``lp = log p``."""
        return self._apply(self._rho_kernel, lp)

    def weight_log(self, lp):
        """Reweighting factor ``w = -d rho / d log p`` as a function of ``log p``."""
        return self._apply(self._weight_kernel, lp)

    def rho_weight_log(self, lp, out=None):
        """``(rho_log(lp), weight_log(lp))``, in one pass where the loss has one.

        ``out``: a pair of 1-D float64 arrays of ``lp.size`` values that the
        loss may fill and return (the solvers reuse them).
        """
        if out is None or self._rho_kernel is None:
            return self.rho_log(lp), self.weight_log(lp)
        return (self._apply(self._rho_kernel, lp, out=out[:1]),
                self._apply(self._weight_kernel, lp, out=out[1:]))

    # ------------------------------------------------------------- on p (users)
    def rho(self, p):
        """Loss ``l(p)`` at the probability ``p`` of the given label."""
        return self.rho_log(_as_log_p(p))

    def weight(self, p):
        """Cross-entropy reweighting factor ``w(p) = -p l'(p)``."""
        return self.weight_log(_as_log_p(p))

    def derivative(self, p):
        """Derivative ``l'(p) = -w(p) / p`` (``-inf`` or ``nan`` at ``p = 0``)."""
        p = real_array(p, "p").astype(np.float64, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -self.weight(p) / p

    def robustness_weight(self, p):
        """``w(p) / w(1)`` clipped to [0, 1]: 1 for a fully trusted sample, 0 for one ignored.

        This is what :class:`skrobust.RobustClassifier` reports as ``weights_``.
        """
        w1 = float(self.weight(np.ones(1))[0])
        return np.clip(self.weight(p) / w1, 0.0, 1.0)


@dataclass(frozen=True)
class LogLoss(ProbabilityLoss):
    """Cross-entropy ``l(p) = -log p`` (multinomial logistic regression).

    Convex and unbounded: every mislabelled sample pulls with weight 1.

    Examples
    --------
    >>> from skrobust.losses.probability import LogLoss
    >>> LogLoss().rho([1.0, 0.5])
    array([0.        , 0.69314718])
    """

    name: ClassVar[str] = "log"
    convex: ClassVar[bool] = True
    bounded: ClassVar[bool] = False
    _rho_kernel: ClassVar = staticmethod(log_rho)
    _weight_kernel: ClassVar = staticmethod(log_weight)


@dataclass(frozen=True)
class GCE(ProbabilityLoss):
    """Generalised cross-entropy (Zhang & Sabuncu 2018): ``l(p) = (1 - p**q) / q``.

    ``w(p) = p**q``; ``q -> 0`` gives cross-entropy, ``q = 1`` the mean
    absolute error ``1 - p`` (symmetric, robust, but slow to fit).  Bounded by
    ``1 / q``.  Identical to the alpha-loss with ``q = 1 - 1/alpha``.

    Parameters
    ----------
    q : float in (0, 1], default=0.7

    Examples
    --------
    >>> from skrobust.losses.probability import GCE
    >>> float(GCE(q=1.0).rho(0.25)[()])
    0.75
    """

    q: float = 0.7

    name: ClassVar[str] = "gce"
    _rho_kernel: ClassVar = staticmethod(gce_rho)
    _weight_kernel: ClassVar = staticmethod(gce_weight)

    def __post_init__(self):
        q = check_real("q", self.q)
        if not 0.0 < q <= 1.0:
            raise ValueError(f"q must be in (0, 1], got q={self.q!r}")
        object.__setattr__(self, "q", q)

    def _kernel_args(self) -> tuple:
        return (self.q,)


@dataclass(frozen=True)
class Blurry(ProbabilityLoss):
    """Blurry loss (Pellegrino, Szczecina & Fieguth): ``l(p) = -p**gamma * log p``.

    ``gamma = 0`` is cross-entropy.  The loss is bounded (its maximum is
    ``1 / (e gamma)`` at ``p* = exp(-1/gamma)``, 0.135 for ``gamma = 0.5``)
    and, taken literally, non-monotone: below ``p*`` it *decreases* as ``p``
    falls, and its full gradient has the weight

        w(p) = p**gamma * (1 + gamma log p),

    negative below ``p*``.  Three variants:

    - ``back_off=False`` (default): the weight clipped at 0, i.e. the loss
      held at its maximum below ``p*``.  Samples the model finds implausible
      are *disregarded* (weight 0).  This is the fixed point of reweighting
      with the full-gradient weights clipped at 0, and a smooth, bounded,
      monotone loss that L-BFGS minimises directly.
    - ``back_off=True``: the literal loss and its full ("back-off")
      gradient, as in the authors' latest code: the fit pushes samples
      below ``p*`` further away.  Because ``l(0) = 0``, giving a sample up
      entirely costs nothing, which can collapse small or overlapping
      classes (iris in the benchmark).
    - ``detach_weight=True``: the factor ``p**gamma`` is detached from the
      gradient (the authors' first code version), ``w(p) = p**gamma``.  That
      gradient field is the generalised cross-entropy's with ``q = gamma``,
      so the detached loss is fitted (and its ``rho`` evaluated) as
      :class:`GCE` with ``q = gamma`` (cross-entropy when ``gamma = 0``).

    Parameters
    ----------
    gamma : float >= 0, default=0.5
        Exponent; 0 is cross-entropy.
    detach_weight : bool, default=False
        Use the detached weight ``p**gamma`` (overrides ``back_off``).
    back_off : bool, default=False
        Keep the negative weights below ``p*`` (the literal loss).

    Notes
    -----
    The formulas are reconstructed from the authors' public research code,
    not from the paper's text, which was not available when this was written.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.probability import Blurry
    >>> p_star = np.exp(-1 / 0.5)
    >>> literal = Blurry(gamma=0.5, back_off=True)
    >>> round(float(literal.weight(p_star)[()]), 12)
    0.0
    >>> bool(literal.weight(0.05)[()] < 0)
    True
    >>> float(Blurry(gamma=0.5).weight(0.05)[()])
    0.0
    >>> float(Blurry(gamma=0.5).rho(0.01)[()]) == 1 / (np.e * 0.5)
    True
    >>> float(Blurry(gamma=0.5, detach_weight=True).weight(0.25)[()])
    0.5
    """

    gamma: float = 0.5
    detach_weight: bool = False
    back_off: bool = False

    name: ClassVar[str] = "blurry"

    def __post_init__(self):
        g = check_real("gamma", self.gamma)
        if g < 0:
            raise ValueError(f"gamma must be >= 0, got gamma={self.gamma!r}")
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "detach_weight", bool(self.detach_weight))
        object.__setattr__(self, "back_off", bool(self.back_off))

    @property
    def convex(self) -> bool:  # type: ignore[override]
        return self.gamma == 0.0

    @property
    def bounded(self) -> bool:  # type: ignore[override]
        return self.gamma > 0.0 and not self.detach_weight

    @property
    def negative_weights(self) -> bool:
        """Whether the weight goes negative (the literal back-off gradient)."""
        return self.back_off and not self.detach_weight and self.gamma > 0.0

    def rho_log(self, lp):
        if self.detach_weight:
            if self.gamma == 0.0:
                return self._apply(log_rho, lp, ())
            return self._apply(gce_rho, lp, (self.gamma,))
        if self.back_off:
            return self._apply(blurry_rho, lp, (self.gamma,))
        return self.rho_weight_log(lp)[0]

    def weight_log(self, lp):
        if self.detach_weight:
            return self._apply(gce_weight, lp, (self.gamma,))
        if self.back_off:
            return self._apply(blurry_weight, lp, (self.gamma,))
        return self.rho_weight_log(lp)[1]

    def rho_weight_log(self, lp, out=None):
        if self.detach_weight or self.back_off:
            return super().rho_weight_log(lp)
        lp = real_array(lp, "lp")
        flat = np.ascontiguousarray(lp, dtype=np.float64).reshape(-1)
        rho, weight = (np.empty_like(flat), np.empty_like(flat)) if out is None else out
        np.exp(np.multiply(flat, self.gamma, out=rho), out=rho)  # p**gamma for the kernel
        blurry_flat(flat, self.gamma, rho, weight)
        return rho.reshape(lp.shape), weight.reshape(lp.shape)


CUTOFF_MODES = ("absolute", "relative", "quantile")


@dataclass(frozen=True)
class PiecewiseZero(ProbabilityLoss):
    """Piecewise-zero loss: ``l(p) = -log p`` if ``p >= c`` else 0 (trimmed cross-entropy).

    The weight is the hard indicator ``1[p >= c]``.  The loss jumps at
    ``p = c``, so it is fitted by reweighting: fix the kept set from the
    current fit, refit a weighted cross-entropy, repeat until the kept set
    stops changing.  ``cutoff = 0`` is cross-entropy.

    Parameters
    ----------
    cutoff : float in [0, 1), default=0.1
        Meaning depends on ``cutoff_mode``.
    cutoff_mode : {"absolute", "relative", "quantile"}, default="absolute"
        - "absolute": ``c = cutoff`` (the paper's form).  A regularised linear
          model seldom gives a training sample ``p < 0.1``, so small absolute
          cutoffs rarely fire.
        - "relative": per class, ``c = cutoff * mean p`` over the samples
          labelled with that class (weighted by the sample weights).
        - "quantile": drop the ``cutoff`` fraction (by sample weight) of the
          training samples with the lowest ``p``: the least-trimmed
          cross-entropy, whose reweighting steps never increase the trimmed
          objective.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.losses.probability import PiecewiseZero
    >>> loss = PiecewiseZero(cutoff=0.1)
    >>> np.round(loss.rho([0.05, 0.5]), 4)
    array([0.    , 0.6931])
    >>> loss.weight([0.05, 0.5])
    array([0., 1.])
    >>> q = PiecewiseZero(cutoff=0.25, cutoff_mode="quantile")
    >>> q.sample_weights(np.array([0.1, 0.9, 0.8, 0.7]), np.zeros(4, dtype=int), np.ones(4), 2)
    array([0., 1., 1., 1.])
    """

    cutoff: float = 0.1
    cutoff_mode: str = "absolute"

    name: ClassVar[str] = "piecewise_zero"
    smooth: ClassVar[bool] = False

    def __post_init__(self):
        c = check_real("cutoff", self.cutoff)
        if not 0.0 <= c < 1.0:
            raise ValueError(f"cutoff must be in [0, 1), got cutoff={self.cutoff!r}")
        if self.cutoff_mode not in CUTOFF_MODES:
            raise ValueError(f"cutoff_mode must be one of {CUTOFF_MODES}, "
                             f"got cutoff_mode={self.cutoff_mode!r}")
        object.__setattr__(self, "cutoff", c)

    @property
    def convex(self) -> bool:  # type: ignore[override]
        return self.cutoff == 0.0

    @property
    def bounded(self) -> bool:  # type: ignore[override]
        return self.cutoff > 0.0

    def _kernel_args(self) -> tuple:
        # the pointwise methods use the absolute cutoff
        return (math.log(self.cutoff) if self.cutoff > 0 else -math.inf,)

    _rho_kernel: ClassVar = staticmethod(pz_rho)
    _weight_kernel: ClassVar = staticmethod(pz_weight)

    def log_cutoffs(self, lp, y, sample_weight, n_classes):
        """Per-sample ``log c`` for the current fit, in the chosen ``cutoff_mode``.

        Parameters
        ----------
        lp : ndarray of shape (n_samples,)
            ``log p`` of the given labels under the current fit.
        y : ndarray of int, shape (n_samples,)
            Label codes in ``range(n_classes)``.
        sample_weight : ndarray of shape (n_samples,)
            Frequency weights (integer weights act as repeated rows).
        n_classes : int

        Returns
        -------
        log_c : ndarray of shape (n_samples,)
        """
        n = lp.shape[0]
        if self.cutoff == 0.0:
            return np.full(n, -np.inf)
        if self.cutoff_mode == "absolute":
            return np.full(n, math.log(self.cutoff))
        if self.cutoff_mode == "relative":
            p = np.exp(lp)
            tot = np.bincount(y, weights=sample_weight, minlength=n_classes)
            mean = np.bincount(y, weights=sample_weight * p, minlength=n_classes)
            mean = mean / np.where(tot > 0, tot, 1.0)
            with np.errstate(divide="ignore"):
                return np.log(self.cutoff * mean)[y]
        # quantile: drop i iff the weight of {j : p_j <= p_i} is at most cutoff * total.
        # Ties (e.g. repeated rows) are dropped or kept together, so integer
        # weights and repeated rows give the same kept set.
        order = np.argsort(lp, kind="stable")
        lps = lp[order]
        cum = np.cumsum(sample_weight[order])
        # weight of all samples with lp <= lps[k], ties included
        last = np.searchsorted(lps, lps, side="right") - 1
        below = cum[last]
        drop_sorted = below <= self.cutoff * cum[-1] * (1 + 1e-12)
        log_c = np.full(n, -np.inf)
        drop = np.zeros(n, dtype=bool)
        drop[order] = drop_sorted
        # a dropped sample gets a cutoff just above its own log p
        log_c[drop] = np.inf
        return log_c

    def sample_weights(self, p, y, sample_weight, n_classes):
        """Hard weights ``1[p >= c_i]`` with the per-sample cutoffs of :meth:`log_cutoffs`.

        Examples
        --------
        >>> import numpy as np
        >>> from skrobust.losses.probability import PiecewiseZero
        >>> loss = PiecewiseZero(cutoff=0.5, cutoff_mode="relative")
        >>> loss.sample_weights(np.array([0.9, 0.8, 0.3]), np.zeros(3, dtype=int), np.ones(3), 2)
        array([1., 1., 0.])
        """
        lp = _as_log_p(p)
        return self.hard_weights_log(lp, np.asarray(y), np.asarray(sample_weight, dtype=float),
                                     n_classes)

    def hard_weights_log(self, lp, y, sample_weight, n_classes):
        """:meth:`sample_weights` on ``log p`` (the solvers' entry point)."""
        log_c = self.log_cutoffs(lp, y, sample_weight, n_classes)
        return (lp >= log_c).astype(np.float64)


@dataclass(frozen=True)
class SCE(ProbabilityLoss):
    """Symmetric cross-entropy (Wang et al. 2019): ``a * CE + b * RCE``.

    The reverse cross-entropy with ``log 0 := A`` (``log_zero``) is
    ``-A (1 - p)``, so ``w(p) = a - b A p``.  Unbounded through its CE part;
    the RCE part (the mean absolute error up to a factor) is robust.

    Parameters
    ----------
    ce_weight : float >= 0, default=0.1
        ``a``, the weight of the cross-entropy (CIFAR-10 default of the authors).
    rce_weight : float >= 0, default=1.0
        ``b``, the weight of the reverse cross-entropy.
    log_zero : float < 0, default=-4.0
        ``A``, the value given to ``log 0``.

    Examples
    --------
    >>> from skrobust.losses.probability import SCE
    >>> SCE().weight([0.0, 1.0])
    array([0.1, 4.1])
    """

    ce_weight: float = 0.1
    rce_weight: float = 1.0
    log_zero: float = -4.0

    name: ClassVar[str] = "sce"
    bounded: ClassVar[bool] = False
    _rho_kernel: ClassVar = staticmethod(sce_rho)
    _weight_kernel: ClassVar = staticmethod(sce_weight)

    def __post_init__(self):
        a = check_real("ce_weight", self.ce_weight)
        b = check_real("rce_weight", self.rce_weight)
        A = check_real("log_zero", self.log_zero)
        if a < 0 or b < 0 or a + b == 0:
            raise ValueError("ce_weight and rce_weight must be >= 0, not both zero; "
                             f"got {self.ce_weight!r}, {self.rce_weight!r}")
        if not A < 0:
            raise ValueError(f"log_zero must be negative, got log_zero={self.log_zero!r}")
        object.__setattr__(self, "ce_weight", a)
        object.__setattr__(self, "rce_weight", b)
        object.__setattr__(self, "log_zero", A)

    @property
    def convex(self) -> bool:  # type: ignore[override]
        return self.rce_weight == 0.0

    def _kernel_args(self) -> tuple:
        return (self.ce_weight, self.rce_weight, self.log_zero)


PROBABILITY_LOSSES = (LogLoss, GCE, Blurry, PiecewiseZero, SCE)

__all__ = ["GCE", "PROBABILITY_LOSSES", "SCE", "Blurry", "LogLoss", "PiecewiseZero",
           "ProbabilityLoss"]
