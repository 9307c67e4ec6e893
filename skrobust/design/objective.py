"""The M-estimation objective: the protocol every M-estimation solver runs over.

The problem is fixed by a design, a target, frequency weights ``s``, a
loss, a scale rule and an L2 penalty ``alpha`` on the coefficients (never
the intercept).  With ``w0 = weight(0)`` the objective at a scale ``sigma`` is

    sum_i s_i 2 sigma**2 rho(r_i / sigma) / w0 + alpha ||coef||**2

which is exactly Ridge's objective for the L2 loss.  Owen's joint scale
(HuberRegressor's objective) uses ``sum_i s_i (sigma + 2 sigma rho(r_i/sigma)/w0)
+ alpha ||coef||**2`` instead, minimised over the scale too.

The solvers (:func:`~skrobust.solvers.irls.irls`,
:func:`~skrobust.solvers.lbfgs.lbfgs`) touch the data only through the
methods of :class:`Objective`; residual vectors are opaque handles they pass
back (NumPy vectors in memory, persisted chunked vectors on dask), and the
scale rules receive :attr:`Objective.rows`, the reducer their sums run
through.  What else an objective can do (Newton steps from a Hessian, fused
passes, row samples, standardised coordinates) it declares in
:attr:`Objective.capabilities` (:class:`Capabilities`);
solvers read the flags, never probe with ``hasattr``.  :class:`MProblem` is
the in-memory objective over a :class:`~skrobust.design.linear.LinearDesign`
or a :class:`~skrobust.design.kernel.KernelDesign`;
:class:`skrobust.dask.DaskObjective` is the distributed one.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses import get_loss
>>> from skrobust.scale import FixedScale
>>> from skrobust.design.linear import LinearDesign
>>> X = np.arange(6.0)[:, None]
>>> problem = MProblem(LinearDesign(X, True), 2.0 * X[:, 0], np.ones(6), get_loss("huber"),
...                    FixedScale(1.0))
>>> problem.capabilities.gram, problem.newton
(True, True)
>>> point = problem.evaluate(np.array([2.0, 0.0]), 1.0)
>>> float(point.f), point.grad.tolist()
(0.0, [0.0, 0.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from .._linalg import penalty_diagonal, solve_normal_equations
from ..losses._fused import block_sums, row_pass
from ..scale import NumpyRows

_SAMPLE_SEED = 20070101  # any fixed seed: fits must be deterministic


@dataclass(frozen=True)
class Capabilities:
    """Declared abilities of a design (or of an objective over one).

    A solver reads the flags to choose its path: a design with weighted Grams
    gets Newton steps from a Hessian it builds, one with fused row passes gets
    the compiled evaluation loops, one that can be subset gets the warm start
    and the Hessian of a row sample, and a design that solves its own Newton
    system (the exact kernel) gets that step.

    Attributes
    ----------
    row_pass : bool
        Fused passes over row blocks (``residual_pass``, ``row_pass``): residuals,
        loss sums and gradient in one read of the rows.
    gram : bool
        Weighted Grams (``gram``, ``gram_ext``): least squares by the normal
        equations and Newton steps from an explicit Hessian.
    row_sample : bool
        Row subsets (``subset``): the warm start and the Hessian of a row sample.
    newton_step : bool
        The design solves its own Newton system (``newton_step``, exact kernels).
    columns : bool
        Column moments (``column_moments``): L-BFGS's standardised coordinates.
    hessian_in_pass : bool
        Every evaluation also returns the Hessian at its point (a distributed
        objective, whose passes are the expensive part): no separate Hessian pass.

    Examples
    --------
    >>> from skrobust.design.objective import Capabilities
    >>> caps = Capabilities(gram=True)
    >>> caps.gram, caps.newton_step
    (True, False)
    """

    row_pass: bool = False
    gram: bool = False
    row_sample: bool = False
    newton_step: bool = False
    columns: bool = False
    hessian_in_pass: bool = False


#: a design of row blocks with Grams (:class:`~skrobust.design.linear.LinearDesign`)
LINEAR = Capabilities(row_pass=True, gram=True, row_sample=True, columns=True)
#: an exact kernel matrix (:class:`~skrobust.design.kernel.KernelDesign`)
EXACT_KERNEL = Capabilities(newton_step=True)


@dataclass
class _Point:
    """An evaluated iterate: residuals, objective and gradient at (beta, scale)."""

    beta: np.ndarray
    scale: float
    r: object  # the residuals: an n-vector in memory, a handle on dask
    f: float
    grad: np.ndarray  # over beta, and the scale last for the joint objective
    change2: float = math.nan  # sum s (r - reference)**2, when a reference was given
    hessian: np.ndarray | None = None  # set by objectives with ``hessian_in_pass``
    r_rows: np.ndarray | None = None  # residuals at the Hessian sample rows (dask: r is a handle)


def sample_rows(n_samples: int, n_rows: int) -> np.ndarray:
    """A deterministic stratified row sample: one random row in each of ``n_rows`` strata.

    Examples
    --------
    >>> from skrobust.design.objective import sample_rows
    >>> rows = sample_rows(1000, 10)
    >>> rows.size, bool((rows[1:] > rows[:-1]).all()), bool(rows.max() < 1000)
    (10, True, True)
    """
    m = int(min(n_rows, n_samples))
    edges = (np.arange(m + 1, dtype=np.int64) * n_samples) // m
    rng = np.random.default_rng(_SAMPLE_SEED)
    return edges[:-1] + (rng.random(m) * np.diff(edges)).astype(np.int64)


class Objective(Protocol):
    """What the M-estimation solvers need from an objective (see the module docstring)."""

    capabilities: Capabilities
    loss: object
    scale_rule: object
    alpha: float
    w0: float
    total_weight: float
    atol: float
    penalty: np.ndarray
    n_samples: int
    n_params: int

    @property
    def rows(self):
        """The reducer the scale rules sum through (:class:`~skrobust.scale.Reducer`)."""

    @property
    def joint(self) -> bool: ...

    @property
    def newton(self) -> bool: ...

    def residuals(self, beta): ...

    def objective(self, beta, scale, residuals=None) -> float: ...

    def evaluate(self, beta, scale, reference=None, out=None, newton=False) -> _Point:
        """``newton``: the point starts a Newton step (an objective with ``hessian_in_pass``
        may return its Hessian with it)."""

    def rescale(self, point, scale) -> _Point: ...

    def hessian(self, point):
        """The Hessian at ``point`` (objectives with ``hessian_in_pass`` only)."""

    def irls_step(self, residuals, scale): ...

    def advance(self, beta, r_old, last_step=None, products=False): ...

    def exact_fit(self, residuals) -> bool: ...

    def least_squares(self, rows=None): ...

    def ridge(self): ...

    def subproblem(self, rows): ...

    def s_sample(self, rng): ...

    def column_moments(self): ...

    def with_loss(self, loss, scale_rule=None): ...


@dataclass
class MProblem:
    """The in-memory M-estimation objective: a design, targets, weights, loss, scale rule."""

    design: object
    y: np.ndarray
    sample_weight: np.ndarray
    loss: object
    scale_rule: object
    alpha: float = 0.0

    def __post_init__(self):
        self.w0 = self.loss.weight_at_zero()
        self.total_weight = float(self.sample_weight.sum())
        # what the design declares: Grams and row passes (LinearDesign) give Newton steps,
        # the fused pass and the row sample; the exact kernel solves its own Newton system
        self.capabilities = self.design.capabilities
        self.penalty = penalty_diagonal(self.design.n_params, self.design.fit_intercept,
                                        self.alpha)
        # absolute resolution of the residuals: below it, data are fitted exactly
        rms_y = math.sqrt(float(np.dot(self.sample_weight, self.y**2)) / self.total_weight)
        self.atol = 1e-12 * rms_y + 1e-300
        self._fused = block_sums(self.loss)
        self._rows = row_pass(self.loss) if self.capabilities.row_pass else None

    @property
    def n_samples(self) -> int:
        return self.design.n_samples

    @property
    def n_params(self) -> int:
        return self.design.n_params

    @property
    def fit_intercept(self) -> bool:
        return self.design.fit_intercept

    @cached_property
    def rows(self) -> NumpyRows:
        """The reducer over the weights the scale rules' sums run through."""
        return NumpyRows(self.sample_weight)

    def exact_fit(self, residuals) -> bool:
        """Whether the residuals vanish to rounding (an interpolating fit)."""
        rms = math.sqrt(float(np.dot(self.sample_weight, residuals**2)) / self.total_weight)
        return rms <= 1e3 * self.atol

    @property
    def joint(self) -> bool:
        return bool(self.scale_rule.penalty_in_scale_units)

    @property
    def newton(self) -> bool:
        """Whether Newton steps apply: a convex, symmetric loss (``psi' >= 0``) and a design
        that takes them (Grams; an exact kernel with a penalty and no joint scale).
        """
        if not (bool(self.loss.convex) and bool(self.loss.symmetric)):
            return False
        caps = self.capabilities
        if caps.gram:
            return True
        return caps.newton_step and not self.joint and self.alpha > self.design.jitter

    def penalty_factor(self, scale: float) -> float:
        return scale if self.joint else 1.0

    def with_loss(self, loss, scale_rule=None) -> MProblem:
        """The same data with another loss (and scale rule)."""
        return MProblem(self.design, self.y, self.sample_weight, loss,
                        self.scale_rule if scale_rule is None else scale_rule, self.alpha)

    def residuals(self, beta):
        return self.y - self.design.predict(beta)

    def objective(self, beta, scale, residuals=None) -> float:
        r = self.residuals(beta) if residuals is None else residuals
        rho = self.loss.rho(r / scale)
        data = 2.0 * float(np.dot(self.sample_weight, rho)) / self.w0
        pen = self.design.penalty_value(beta, self.alpha)
        if self.joint:
            return scale * (self.total_weight + data) + pen
        return scale * scale * data + pen

    def irls_weights(self, residuals, scale):
        """Sample weight times the normalised robustness weight, ``s * weight(r/sigma) / w0``."""
        return self.sample_weight * (self.loss.weight(residuals / scale) / self.w0)

    def irls_step(self, residuals, scale):
        """The IRLS (weighted ridge) step at a fixed scale, or None if every weight is zero."""
        v = self.irls_weights(residuals, scale)
        if not np.any(v > 0):
            return None
        return self.design.solve_weighted(v, self.y, self.alpha * self.penalty_factor(scale))

    def change2(self, r_old, r_new) -> float:
        """``sum s (r_new - r_old)**2``: how far the fitted values moved."""
        return float(np.dot(self.sample_weight, (r_new - r_old) ** 2))

    def step_products(self, r, r_new, last_step):
        """The fitted values' change ``r - r_new`` and its weighted products with the last
        one: ``(step, s'(step last), s'(last last), s'(step step))`` (no products without
        a last step)."""
        step = r - r_new
        if last_step is None:
            return step, None
        s = self.sample_weight
        return step, (float(np.dot(s * step, last_step)), float(np.dot(s * last_step, last_step)),
                      float(np.dot(s * step, step)))

    def advance(self, beta, r_old, last_step=None, products=False):
        """Residuals of ``beta``, ``sum s (r - r_old)**2`` and, with ``products``, the step
        ``r_old - r`` and its products with ``last_step`` (:meth:`step_products`)."""
        r = self.residuals(beta)
        change2 = self.change2(r_old, r)
        if not products:
            return r, change2, None, None
        return (r, change2) + self.step_products(r_old, r, last_step)

    def ridge(self):
        """The (ridge) weighted least-squares fit, by the design's own solver."""
        return self.design.solve_weighted(self.sample_weight, self.y, self.alpha)

    def s_sample(self, rng):
        """The rows of an S-start: all of them in memory (``(design, y, weights, True)``)."""
        return self.design, self.y, self.sample_weight, True

    def least_squares(self, rows=None):
        """(Ridge) least squares, on the rows ``rows`` (a sample) when given."""
        design, y, s = self.design, self.y, self.sample_weight
        if not self.capabilities.gram:
            return design.solve_weighted(s, y, self.alpha)
        if rows is not None and s[rows].sum() > 0:
            design, y, s = design.subset(rows), y[rows], s[rows]
        G, h = design.gram(s, y)
        G[np.diag_indices_from(G)] += penalty_diagonal(design.n_params, design.fit_intercept,
                                                       self.alpha)
        return solve_normal_equations(G, h)

    def subproblem(self, rows) -> MProblem | None:
        """The problem on ``rows``, weights rescaled to the same total (None if they are all 0)."""
        s = self.sample_weight[rows]
        total = float(s.sum())
        if not total > 0:
            return None
        return MProblem(self.design.subset(rows), self.y[rows], s * (self.total_weight / total),
                        self.loss, self.scale_rule, self.alpha)

    def metric(self, total_weight):
        """``A'SA / total_weight``: the weighted norm of a step's change of the fitted values."""
        return self.design.gram_ext(self.sample_weight) / total_weight

    def column_moments(self):
        """Column means and deviations (capability ``columns``)."""
        return self.design.column_moments()

    def hessian_rows_weight(self, rows) -> float:
        return float(self.sample_weight[rows].sum())

    def hessian_sample(self, rows):
        """``(design, rows in it, weights of the rows)`` of a Hessian row sample."""
        return self.design, rows, self.sample_weight[rows]

    # --------------------------------------------------------- evaluation
    def evaluate(self, beta, scale, reference=None, out=None, newton=False) -> _Point:
        """Residuals, objective and gradient at ``(beta, scale)`` in one pass over the design.

        With ``reference`` residuals, the pass also sums ``s (r - reference)**2``
        (the convergence test's change of the fitted values); ``newton`` is unused (the
        Hessian of this objective is built by :class:`~skrobust.solvers.hessian.Direction`).
        """
        r, xg, sums = pass_sums(self.design, self.y, self.sample_weight, self.loss, self.joint,
                                beta, scale, reference, out, self._fused, self._rows)
        return self._point(beta, scale, r, xg, sums)

    def rescale(self, point: _Point, scale: float) -> _Point:
        """The same coefficients evaluated at another scale (residuals reused)."""
        if scale == point.scale:
            return point
        xg, sums = rescale_sums(self.design, self.sample_weight, self.loss, self.joint, point.r,
                                scale, self._fused)
        return self._point(point.beta, scale, point.r, xg, sums)

    def _point(self, beta, scale, r, xg, sums) -> _Point:
        return point_from_sums(self, beta, scale, r, xg, sums,
                               self.design.penalty_value(beta, self.alpha),
                               self.design.penalty_grad(beta, self.alpha))


def point_from_sums(problem, beta, scale, r, xg, sums, pen, pen_grad) -> _Point:
    """The objective and gradient at ``(beta, scale)`` from a pass's sums.

    ``sums`` are ``[sum s rho(u), sum s u psi(u), change2]`` and ``xg`` is
    ``A'(s psi(u))``; ``pen`` and ``pen_grad`` the penalty and its gradient.
    """
    change2 = sums[2] if len(sums) > 2 else math.nan
    w0 = problem.w0
    data = 2.0 * sums[0] / w0
    if problem.joint:
        f = scale * (problem.total_weight + data) + pen
        grad = np.append(-2.0 * xg / w0 + pen_grad,
                         problem.total_weight + data - 2.0 * sums[1] / w0)
    else:
        f = scale * scale * data + pen
        grad = -2.0 * scale * xg / w0 + pen_grad
    return _Point(np.asarray(beta, dtype=np.float64), float(scale), r, f, grad, change2)


def pass_sums(design, y, s, loss, joint, beta, scale, reference=None, out=None, fused=None,
              rows=None):
    """One pass over the design: ``(r, A'(s psi(u)), [sum s rho(u), sum s u psi(u), change2])``.

    ``change2 = sum s (r - reference)**2`` (NaN without a reference);
    ``sum s u psi(u)`` is computed for the joint scale (or by a fused loop).
    ``fused`` and ``rows`` are the loss's fused loops
    (:func:`~skrobust.losses._fused.block_sums`, :func:`~skrobust.losses._fused.row_pass`),
    None where there are none.
    """
    if rows is not None:
        done = design.row_pass(beta, y, rows, (s, 1.0 / scale, reference), out=out)
        if done is not None:
            r, xg, sums = done
            change2 = sums[3] if reference is not None else math.nan
            return r, xg, [sums[0], sums[1], change2]
    sums = [0.0, 0.0, 0.0]  # sum s rho(u), sum s u psi(u), sum s (r - reference)**2

    if fused is not None:
        inv_scale = 1.0 / scale
        buf = [np.empty(0)]

        def pointwise(rb, rows):
            if buf[0].size < rb.size:
                buf[0] = np.empty(rb.size)
            g = buf[0][:rb.size]
            ref = rb if reference is None else reference[rows]
            a, b, c = fused(rb, s[rows], inv_scale, g, ref)
            sums[0] += a
            sums[1] += b
            sums[2] += c
            return g
    else:
        def pointwise(rb, rows):
            u = rb / scale
            sb = s[rows]
            psi = loss.psi(u)
            sums[0] += float(np.dot(sb, loss.rho(u)))
            if joint:
                sums[1] += float(np.dot(sb, u * psi))
            if reference is not None:
                diff = rb - reference[rows]
                sums[2] += float(np.dot(sb * diff, diff))
            return sb * psi

    if design.capabilities.row_pass:
        r, xg = design.residual_pass(beta, y, pointwise, out=out)
    else:
        r = y - design.predict(beta)
        g = pointwise(r, slice(0, r.shape[0]))
        xg = design.rmatvec(g)
    if reference is None:
        sums[2] = math.nan
    return r, xg, sums


def rescale_sums(design, s, loss, joint, r, scale, fused=None):
    """``(A'(s psi(u)), [sum s rho(u), sum s u psi(u)])`` at ``u = r / scale`` (no predict)."""
    if fused is not None:
        g = np.empty_like(r)
        sums = list(fused(r, s, 1.0 / scale, g, r))[:2]
    else:
        u = r / scale
        psi = loss.psi(u)
        g = s * psi
        sums = [float(np.dot(s, loss.rho(u))), float(np.dot(g, u)) if joint else 0.0]
    return design.rmatvec(g), sums
