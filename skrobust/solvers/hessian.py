"""The Hessian of an in-memory objective, and the secant correction of sampled-Hessian steps.

:class:`Direction` gives the Newton direction at a point of an objective
(:mod:`skrobust.design.objective`): from the Hessian an objective computes
in its evaluation pass (``hessian_in_pass``, dask), from :class:`_Hessian`
(a design with Grams, all rows or a fixed row sample, built once and
updated), or from the exact kernel design's own Newton step.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses import get_loss
>>> from skrobust.scale import FixedScale
>>> from skrobust.design.linear import LinearDesign
>>> from skrobust.design.objective import MProblem
>>> X = np.arange(6.0)[:, None]
>>> problem = MProblem(LinearDesign(X, True), 2.0 * X[:, 0] + 1.0, np.ones(6),
...                    get_loss("huber"), FixedScale(10.0))
>>> point = problem.evaluate(np.zeros(2), 10.0)
>>> np.round(point.beta + Direction(problem)(point), 6)  # quadratic region: one step
array([2., 1.])
"""

from __future__ import annotations

import numpy as np

from .._linalg import cholesky_solve
from ..design.objective import MProblem, _Point
from ..losses._fused import curvature

#: relative (L1) change of the Hessian weights below which the last Gram is reused
_HESSIAN_REUSE = 2e-3
#: fraction of changed weights up to which the Gram is updated rather than rebuilt
_HESSIAN_UPDATE = 0.25

class _Hessian:
    """The Hessian of a problem at successive iterates, from all rows or a fixed row sample.

    It keeps ``K``, the Gram of ``[A, y]`` with weights ``v = s psi'(u)``
    (sample weights rescaled to the full total), and its weights.  At the
    next iterate:

    - if at most a quarter of them changed (Huber's ``psi'`` is 0 or 1, so
      only rows crossing ``+-c`` change), the Gram is updated exactly with
      the changed rows (cheap; and on a wide design one row of high leverage
      changes the Newton step a lot);
    - otherwise, weights that changed by less than ``_HESSIAN_REUSE``
      (relative L1) keep the last Gram (a Hessian off by less than that);
    - otherwise it is rebuilt.

    With ``K = [[A'VA, A'Vz], [z'VA, z'Vz]]``, ``z`` the residuals when the
    Gram was built (at ``beta_ref``), the joint scale's extra row
    ``A'V u = (A'Vz - A'VA (beta - beta_ref)) / sigma`` needs no pass over
    the rows.
    """

    def __init__(self, problem: MProblem, rows=None):
        self.problem = problem
        if rows is None:
            self.design, self.rows, self.s = problem.design, None, problem.sample_weight
        else:  # the design holding the sample (a gathered one on dask) and its rows in it
            self.design, self.rows, sub = problem.hessian_sample(rows)
            self.s = sub * (problem.total_weight / float(sub.sum()))
        self.v = None
        self.K = None
        self.z = None  # residuals of the rows at beta_ref, the Gram's extra column
        self.beta_ref = None
        self.grams = 0  # full Gram builds, for the diagnostics

    def __call__(self, point: _Point):
        problem = self.problem
        design = self.design
        r = point.r_rows if point.r_rows is not None else (
            point.r if self.rows is None else point.r[self.rows])
        u = r / point.scale
        v = curvature(problem.loss, u, self.s)
        if self.K is None:
            self._build(v, point, r)
        else:
            diff = v - self.v
            changed = np.flatnonzero(diff)
            if changed.size <= _HESSIAN_UPDATE * v.size:
                # few rows changed (Huber's psi' is 0 or 1): the exact update is cheap, and a
                # single high-leverage row can matter (a wide design stalls without it)
                if changed.size:
                    idx = changed if self.rows is None else self.rows[changed]
                    self.K += design.gram_ext(diff[changed], [self.z[changed]], rows=idx)
                self.v = v
            elif float(np.abs(diff).sum()) <= _HESSIAN_REUSE * float(np.abs(self.v).sum()):
                v = self.v  # many rows changed a little: keep the last Gram, and its weights
            else:
                self._build(v, point, r)
        p = design.n_params
        K = self.K[:p, :p]
        if problem.joint:
            H = np.empty((p + 1, p + 1))
            H[:p, :p] = K
            # A'V r = A'V z - A'VA (beta - beta_ref), as r = z - A (beta - beta_ref)
            H[:p, p] = H[p, :p] = (self.K[:p, p] - K @ (point.beta - self.beta_ref)) / point.scale
            H[p, p] = float(np.dot(v * u, u))
            H *= 2.0 / (problem.w0 * point.scale)
            H[np.arange(p), np.arange(p)] += 2.0 * problem.penalty
        else:
            H = K * (2.0 / problem.w0)
            H[np.diag_indices_from(H)] += 2.0 * problem.penalty
        return H

    def _build(self, v, point, r):
        # the extra column holds residuals, not y: A'V r is then a difference of numbers of
        # the size of the residuals (no cancellation when |y| >> scale)
        self.z = np.array(r, dtype=np.float64)  # a copy: point.r is a reused buffer
        self.beta_ref = point.beta.copy()
        self.K = self.design.gram_ext(v, [self.z], rows=self.rows)
        self.v = v
        self.grams += 1



class Direction:
    """The Newton direction at a point: from the Hessian the evaluation pass returned, the
    Hessian of a design with Grams (:class:`_Hessian`), or the exact kernel design's own
    Newton step (:meth:`KernelDesign.newton_step`)."""

    def __init__(self, problem, hessian_rows=None):
        self.problem = problem
        caps = problem.capabilities
        self.hessian = (_Hessian(problem, hessian_rows)
                        if caps.gram and not caps.hessian_in_pass else None)

    @property
    def grams(self) -> int:
        return self.hessian.grams if self.hessian is not None else 0

    def __call__(self, point: _Point):
        if point.hessian is None and self.problem.capabilities.hessian_in_pass:
            point.hessian = self.problem.hessian(point)  # its pass left the Gram out
        if point.hessian is not None:
            return cholesky_solve(point.hessian, -point.grad)
        if self.hessian is not None:
            return cholesky_solve(self.hessian(point), -point.grad)
        problem = self.problem
        loss, s, w0 = problem.loss, problem.sample_weight, problem.w0
        u = point.r / point.scale
        # derivatives of the data term with respect to the fitted values
        curvature = 2.0 * s * loss.psi_deriv(u) / w0
        gradient = 2.0 * point.scale * s * loss.psi(u) / w0
        target = problem.design.newton_step(curvature, problem.y - point.r, gradient,
                                            problem.alpha)
        return None if target is None else target - point.beta


def secant_correction(delta, grad, pairs):
    """Correct a Newton step of an approximate Hessian with exact Hessian products.

    Each earlier full step ``s_j`` came with the change ``y_j`` of the exact
    gradient, so ``y_j = H s_j`` for the Hessian ``H`` averaged along the
    step.  The corrected step ``delta + S a`` satisfies the Galerkin
    condition ``S' (H (delta + S a) + grad) = 0`` on the span of the earlier
    steps, which needs only ``S'H = Y'``:
    ``a = -(S'Y)^-1 (S'grad + Y'delta)``.  The span of the earlier steps is
    a Krylov-like space of the iteration, so the correction removes the
    part of the error that lives there (measured: the error after 4-5
    steps is 2-3 times smaller).  Returns ``delta`` unchanged when ``S'Y``
    is not safely positive definite.
    """
    S = np.column_stack([pair[0] for pair in pairs])
    Y = np.column_stack([pair[1] for pair in pairs])
    SY = S.T @ Y
    a = cholesky_solve(0.5 * (SY + SY.T), -(S.T @ grad + Y.T @ delta), rcond=1e-6)
    if a is None or not np.all(np.isfinite(a)):
        return delta
    return delta + S @ a

