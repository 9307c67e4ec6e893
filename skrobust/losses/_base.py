"""The loss object shared by every robust loss: parameters in, arrays out.

A loss is a frozen dataclass.  Its four pointwise functions (``rho``, ``psi``,
``weight``, ``psi_deriv``) are numba kernels defined in the loss's own module
with the signature ``kernel(u, *params, out)``, or one kernel for the four,
``kernel(u, *params, what, out)`` with ``what`` one of :data:`RHO`, :data:`PSI`,
:data:`WEIGHT`, :data:`PSI_DERIV` (a fit then compiles one kernel, not four);
this base class only casts the input once, calls the kernel and restores the
shape and dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: ``what`` of a loss's one pointwise kernel: which function it evaluates
RHO, PSI, WEIGHT, PSI_DERIV = 0, 1, 2, 3


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming ``name``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return value


def check_real(name: str, value, allow_inf: bool = False) -> float:
    """Return ``value`` as a float, rejecting NaN (and infinities unless allowed)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        kind = "real" if allow_inf else "finite"
        raise ValueError(f"{name} must be a {kind} number, got {value!r}")
    return value


def real_array(x, name: str) -> np.ndarray:
    """``x`` as an array of a real numeric dtype, or raise ``TypeError`` naming ``name``.

    The one input check of every loss (regression, probability and margin):
    complex input would otherwise lose its imaginary part in the cast to
    float64.  NaN passes (and comes out as NaN).
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a real numeric array, got dtype {x.dtype}")
    return x


def run_kernel(kernel, x, args, name, n_out=1, out=None):
    """``kernel(x, *args, *outs)`` on ``x`` flattened to float64; the outputs in ``x``'s shape.

    The one evaluation path of every loss object: ``n_out`` output arrays
    (allocated here, or ``out``, a tuple of float64 arrays of ``x.size``
    values) are returned as one array or a tuple.
    """
    x = real_array(x, name)
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    outs = [np.empty_like(flat) for _ in range(n_out)] if out is None else out
    kernel(flat, *args, *outs)
    outs = [o.reshape(x.shape) for o in outs]
    return outs[0] if n_out == 1 else tuple(outs)


class LossParameters:
    """Mixin of the loss dataclasses: ``params``, their init fields as a dict."""

    @property
    def params(self) -> dict:
        """The loss parameters as a dict (the dataclass fields)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}


@dataclass(frozen=True)
class RobustLoss(LossParameters):
    """Base class of the robust losses of the registry.

    Subclasses are frozen dataclasses whose fields are the loss parameters,
    and set the class attributes below.  ``u`` is always the standardised
    residual (residual divided by the scale).

    Attributes
    ----------
    name : str
        Registry name of the loss.
    convex : bool
        Whether ``rho`` is convex, so any start reaches the global optimum.
    redescending : bool
        Whether ``psi`` returns to zero for large ``|u|`` (hard or soft
        rejection of gross outliers; needs a robust start).
    kinks : tuple of float
        The values of ``|u|`` where ``psi`` or ``psi'`` is not
        differentiable (empty for smooth losses).
    """

    name: ClassVar[str] = "base"
    convex: ClassVar[bool] = True
    redescending: ClassVar[bool] = False
    symmetric: ClassVar[bool] = True  # rho(-u) == rho(u); False for the quantile loss

    # kernels(u, *params, out) -> None, set by subclasses as staticmethods; or one
    # kernel(u, *params, what, out) for the four
    _rho_kernel: ClassVar = None
    _psi_kernel: ClassVar = None
    _weight_kernel: ClassVar = None
    _psi_deriv_kernel: ClassVar = None
    _pointwise_kernel: ClassVar = None
    # which loss the fused loops of ._fused run (None: they do not apply)
    _fused_kind: ClassVar = None

    # ------------------------------------------------------------------ params
    def _kernel_args(self) -> tuple:
        """Scalar parameters passed to the kernels, in kernel order."""
        return (self.c,)

    @property
    def default_c(self) -> float:
        """Tuning constant giving 95% asymptotic efficiency at the normal model."""
        from .tuning import efficiency_constant

        return efficiency_constant(self, 0.95)

    @property
    def max_rho(self) -> float:
        """Supremum of ``rho`` (``inf`` for unbounded losses)."""
        return math.inf

    @property
    def kinks(self) -> tuple:
        """Values of ``|u|`` where ``psi`` or ``psi'`` is not differentiable.

        Quadrature splits its integrals there and the property tests compare
        finite differences only away from them; empty for smooth losses.
        """
        return ()

    def with_c(self, c: float) -> RobustLoss:
        """Return a copy of the loss with tuning constant ``c``."""
        from dataclasses import replace

        return replace(self, c=c)

    # ------------------------------------------------------------- evaluation
    def _apply(self, kernel, u, what):
        u = real_array(u, "u")
        # The kernels run in float64 only (one compiled signature each);
        # float32 input is cast back, clipped so that it stays finite.
        if self._pointwise_kernel is not None:
            out = run_kernel(self._pointwise_kernel, u, (*self._kernel_args(), what), "u")
        else:
            out = run_kernel(kernel, u, self._kernel_args(), "u")
        if u.dtype == np.float32:
            return np.clip(out, -_FLOAT32_MAX, _FLOAT32_MAX).astype(np.float32)
        return out

    def rho(self, u):
        """Loss value ``rho(u)``, elementwise."""
        return self._apply(self._rho_kernel, u, RHO)

    def psi(self, u):
        """Influence function ``psi(u) = d rho / du``, elementwise."""
        return self._apply(self._psi_kernel, u, PSI)

    def weight(self, u):
        """IRLS weight ``psi(u) / u`` (its limit at ``u = 0``), elementwise."""
        return self._apply(self._weight_kernel, u, WEIGHT)

    def psi_deriv(self, u):
        """Derivative of ``psi`` (the curvature ``rho''``), elementwise."""
        return self._apply(self._psi_deriv_kernel, u, PSI_DERIV)

    def weight_at_zero(self) -> float:
        """``weight(0)``, the largest IRLS weight for losses with ``shape <= 2``."""
        return float(self.weight(np.zeros(1))[0])
