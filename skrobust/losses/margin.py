"""Margin losses for robust binary (and one-vs-rest) classification.

A margin loss is a function ``phi(m)`` of the margin ``m = y f(x)`` with
``y`` in {-1, +1}.  Every loss here is a robust regression loss ``rho``
applied to the *margin violation* (hinge residual) ``r = max(0, 1 - m)``:

    phi(m) = 2 rho(r) / rho''(0),

normalised so that ``phi(m) ~ r**2`` (the squared hinge) next to the margin.
The pointwise math is that of the regression losses of :mod:`skrobust.losses`
(their numba kernels do the work), so ``phi'(m) = -2 psi(r) / rho''(0)`` and
the robustness (IRLS) weight is ``weight(r) / weight(0)`` in [0, 1].  With
weights ``v`` held fixed, ``sum v r**2`` (a weighted squared hinge) has the
same gradient as ``sum phi(m)``, which is how the reweighting solver fits
these losses.

- ``squared_hinge``: ``r**2`` (L2-SVM), convex; the warm start of the others.
- ``huber``: the modified Huber loss of
  ``sklearn.linear_model.SGDClassifier(loss="modified_huber")``,
  ``r**2`` for ``m >= -1`` and ``-4 m`` below, i.e. ``2 huber_2(r)``;
  convex, bounded gradient.
- ``tukey``: Tukey's biweight on ``r``, bounded, redescending: samples with
  ``r >= c`` (margin below ``1 - c``) get weight 0.  ``c`` is on the margin
  scale (2 to 3), not the regression 4.685.
- ``barron``: Barron's general loss on ``r`` with its ``shape`` (2: squared
  hinge, 1: pseudo-Huber hinge, 0: Cauchy, -2: Geman-McClure, ``-inf``:
  Welsch).  No published work applies it to classification margins; it is a
  skrobust extension.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses.margin import ModifiedHuber
>>> ModifiedHuber().rho([2.0, 0.0, -3.0])
array([ 0.,  1., 12.])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import get_loss
from ._base import LossParameters, check_positive, check_real, real_array


@dataclass(frozen=True)
class MarginLoss(LossParameters):
    """Base class: a robust loss on the hinge residual ``r = max(0, 1 - m)``.

    Attributes
    ----------
    name : str
        Registry name.
    kind : str
        ``"margin"``: the estimator fits one-vs-rest linear scores.
    convex, bounded, smooth : bool
        Properties of ``phi`` as a function of the margin.

    Examples
    --------
    >>> from skrobust.losses.margin import SquaredHinge
    >>> SquaredHinge().weight([5.0, -5.0])
    array([1., 1.])
    """

    name: ClassVar[str] = "base"
    kind: ClassVar[str] = "margin"
    smooth: ClassVar[bool] = True
    negative_weights: ClassVar[bool] = False

    @property
    def base_loss(self):
        """The regression loss applied to the hinge residual."""
        raise NotImplementedError

    @property
    def convex(self) -> bool:
        return bool(self.base_loss.convex)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.base_loss.max_rho)

    @staticmethod
    def _residual(m):
        m = real_array(m, "m").astype(np.float64, copy=False)
        return np.maximum(1.0 - m, 0.0)  # NaN in, NaN out

    def rho(self, m):
        """Loss ``phi(m)`` at the margin ``m = y f(x)``."""
        base = self.base_loss
        return 2.0 * base.rho(self._residual(m)) / base.weight_at_zero()

    def derivative(self, m):
        """``phi'(m) = -2 psi(r) / rho''(0)`` (0 for ``m >= 1``)."""
        base = self.base_loss
        return -2.0 * base.psi(self._residual(m)) / base.weight_at_zero()

    def second_derivative(self, m):
        """``phi''(m) = 2 psi'(r) / rho''(0)`` for ``m < 1``, 0 for ``m >= 1``.

        The generalised second derivative (the squared hinge has a kink in its
        derivative at ``m = 1``; the right-hand value is used there).  It is
        negative where a redescending loss bends down.
        """
        base = self.base_loss
        r = self._residual(m)
        return np.where(r == 0, 0.0, 2.0 * base.psi_deriv(r) / base.weight_at_zero())

    def weight(self, m):
        """Robustness weight ``weight(r) / weight(0)`` in [0, 1] (1 for ``m >= 1``)."""
        base = self.base_loss
        return np.clip(base.weight(self._residual(m)) / base.weight_at_zero(), 0.0, 1.0)

    def robustness_weight(self, m):
        """Same as :meth:`weight` (the estimator's ``weights_``)."""
        return self.weight(m)


@dataclass(frozen=True)
class SquaredHinge(MarginLoss):
    """Squared hinge ``max(0, 1 - m)**2`` (convex; the start of the robust margin fits).

    Examples
    --------
    >>> from skrobust.losses.margin import SquaredHinge
    >>> SquaredHinge().rho([0.0, 1.5])
    array([1., 0.])
    """

    name: ClassVar[str] = "squared_hinge"

    @property
    def base_loss(self):
        return get_loss("barron", shape=2.0, c=1.0)


@dataclass(frozen=True)
class ModifiedHuber(MarginLoss):
    """Modified Huber loss, as ``SGDClassifier(loss="modified_huber")`` for ``epsilon=2``.

    ``r**2`` for ``r <= epsilon`` and ``2 epsilon r - epsilon**2`` beyond
    (``r = max(0, 1 - m)``): convex, with a bounded gradient but an
    unbounded loss.

    Parameters
    ----------
    epsilon : float > 0, default=2.0
        Hinge residual where the loss turns linear (2: margin -1, sklearn's).

    Examples
    --------
    >>> from skrobust.losses.margin import ModifiedHuber
    >>> ModifiedHuber().derivative([-3.0, 0.0])
    array([-4., -2.])
    """

    epsilon: float = 2.0

    name: ClassVar[str] = "huber"

    def __post_init__(self):
        object.__setattr__(self, "epsilon", check_positive("epsilon", self.epsilon))

    @property
    def base_loss(self):
        return get_loss("huber", c=self.epsilon)


@dataclass(frozen=True)
class TukeyMargin(MarginLoss):
    """Tukey's biweight on the hinge residual: zero weight for margins below ``1 - c``.

    Parameters
    ----------
    c : float > 0, default=2.5
        Tuning constant on the margin scale: a sample whose margin violation
        ``1 - m`` exceeds ``c`` is ignored.  2 to 3 suits margins (the
        regression constant 4.685 would ignore almost nothing).

    Examples
    --------
    >>> from skrobust.losses.margin import TukeyMargin
    >>> TukeyMargin(c=2.0).weight([1.0, 0.0, -1.5])
    array([1.    , 0.5625, 0.    ])
    """

    c: float = 2.5

    name: ClassVar[str] = "tukey"

    def __post_init__(self):
        object.__setattr__(self, "c", check_positive("c", self.c))

    @property
    def base_loss(self):
        return get_loss("tukey", c=self.c)


@dataclass(frozen=True)
class BarronMargin(MarginLoss):
    """Barron's general loss on the hinge residual, with its ``shape``.

    Parameters
    ----------
    shape : float <= 2, default=0.0
        2: squared hinge; 1: pseudo-Huber hinge (convex); 0: Cauchy; -2:
        Geman-McClure; ``-inf``: Welsch.  Shapes below 1 are redescending.
    c : float > 0, default=1.0
        Width of the quadratic bowl on the margin scale.

    Examples
    --------
    >>> from skrobust.losses.margin import BarronMargin
    >>> round(float(BarronMargin(shape=0.0).weight(-1.0)[()]), 4)
    0.3333
    """

    shape: float = 0.0
    c: float = 1.0

    name: ClassVar[str] = "barron"

    def __post_init__(self):
        shape = check_real("shape", self.shape, allow_inf=True)
        if shape > 2.0:
            raise ValueError(f"shape must be <= 2 for a margin loss, got shape={self.shape!r}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "c", check_positive("c", self.c))

    @property
    def base_loss(self):
        return get_loss("barron", shape=self.shape, c=self.c)


MARGIN_LOSSES = (SquaredHinge, ModifiedHuber, TukeyMargin, BarronMargin)

__all__ = ["MARGIN_LOSSES", "BarronMargin", "MarginLoss", "ModifiedHuber", "SquaredHinge",
           "TukeyMargin"]
