"""The M-estimation objective over row-chunked dask arrays.

:class:`DaskObjective` implements the protocol of
:mod:`skrobust.design.objective`, so the in-memory solvers
(:func:`~skrobust.solvers.irls.irls` with its Newton steps,
:func:`~skrobust.solvers.lbfgs.lbfgs`) and starts run on it unchanged.
Every method is one graph with one task per chunk: the chunk kernels call
the in-memory pass functions (:func:`~skrobust.design.objective.pass_sums`,
the fused loops of the loss) on their chunk and return its residuals, which
stay in the workers (the solvers hold them as handles), with sums that are
tree-summed and the residuals of the Hessian sample rows.  Below that sample's
size an evaluation returns the Gram of ``[A, u]`` with the weights ``s psi'(u)``
instead (capability ``hessian_in_pass``).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .._linalg import penalty_diagonal, solve_normal_equations
from ..design.linear import LinearDesign
from ..design.objective import (
    Capabilities,
    MProblem,
    pass_sums,
    point_from_sums,
    rescale_sums,
)
from ..losses._fused import block_sums, curvature, row_pass
from ..scale import MAD_NORMAL_CONSTANT, MADScale, rho_sums
from ..solvers import irls
from ..solvers.fast_s import large_sample
from ._median import _count_block
from ._reduce import DaskRows, packed_pass, sum_rows
from ._validate import _block, _check_lengths

#: what a dask objective does: row samples (gathered), column moments, the Hessian in a pass
DASK = Capabilities(row_sample=True, columns=True, hessian_in_pass=True)
#: from HESSIAN_MIN_ROWS rows: the Hessian of a gathered row sample, as in memory
DASK_SAMPLED_HESSIAN = Capabilities(row_sample=True, columns=True, gram=True)


def _chunk(X, fit_intercept):
    return LinearDesign(np.ascontiguousarray(_block(X)), fit_intercept)


def _eval_block(X, y, w, ref, r_in, picked, *, beta, scale, loss, joint, fit_intercept,
                hessian, L, edges=None, slots=0):
    """``[r, r[picked rows], kept, sums]``, the sums ``[sum w rho, sum w u psi, change2, A'(w psi),
    vec(B'VB), counts]`` with ``B = [A, u]``, ``V = w psi'(u)`` (the Gram with ``hessian``) and
    the counts of ``|r|`` at ``edges`` (the median's first round, with ``edges``; ``kept``: up
    to ``slots`` values inside them); ``picked``: the Hessian sample rows, positions among the
    chunk's positive-weight rows.  ``r_in`` given: the sums of those residuals only, as a row."""
    m = _check_lengths(_block(X), y, w, ref, r_in)
    k = (0 if picked is None else picked.size) + (2 * slots + 1 if slots else 0)
    out = np.zeros((1, L) if r_in is not None else m + k + L)
    stats = out[0] if r_in is not None else out[m + k:]
    if m == 0:
        return out
    design = _chunk(X, fit_intercept)
    p = design.n_params
    if r_in is None:
        r, xg, sums = pass_sums(design, y, w, loss, joint, beta, scale, ref, out[:m],
                                block_sums(loss), row_pass(loss))
    else:
        r = r_in
        xg, sums = rescale_sums(design, w, loss, joint, r, scale, block_sums(loss))
    stats[0], stats[1] = sums[0], sums[1]
    stats[2] = sums[2] if ref is not None else 0.0
    stats[3:3 + p] = xg
    if hessian:
        u = r / scale
        stats[3 + p:3 + p + (p + 1) ** 2] = design.gram_ext(curvature(loss, u, w), [u]).ravel()
    if edges is not None:
        counts = _count_block(r, w, lo=-math.inf, hi=math.inf, edges=edges, slots=slots)
        if slots:
            counts, out[m + k - 2 * slots - 1:m + k] = counts
        stats[L - 4 * (edges.size + 1):] = counts[0]
    if picked is not None:
        out[m:m + picked.size] = r[np.flatnonzero(w > 0)[picked]]
    return out


def _irls_sums(design, y, w, r, scale, loss):
    """``[vec(A'VA), A'Vy, count(V > 0)]``, ``V = w weight(r / scale) / w0`` (``w``: no loss)."""
    p = design.n_params
    out = np.zeros(p * p + p + 1)
    v = w if loss is None else w * (loss.weight(r / scale) / loss.weight_at_zero())
    G, h = design.gram(v, y)
    out[:p * p], out[p * p:p * p + p] = G.ravel(), h
    out[-1] = np.count_nonzero(v > 0)
    return out


def _irls_block(X, y, w, r, *, scale, loss, fit_intercept):
    _check_lengths(_block(X), y, w, r)
    return _irls_sums(_chunk(X, fit_intercept), y, w, r, scale, loss)[None, :]


def _residual_block(X, y, w, ref, last, *, beta, fit_intercept, L, scale=None, loss=None):
    """``[r, sum w (r - ref)**2, step'W last, last'W last, step'W step]``, ``step = ref - r``;
    with ``scale``, then the IRLS sums of ``r`` (:func:`_irls_sums`) and ``sum w rho(r/scale)``."""
    m = _check_lengths(_block(X), y, w, ref, last)
    out = np.zeros(m + L)
    if m == 0:
        return out
    design = _chunk(X, fit_intercept)
    r = out[:m]
    r[:] = y - design.predict(beta)
    if ref is not None:
        out[m] = np.dot(w, (r - ref) ** 2)
        if last is not None:
            step = ref - r
            out[m + 1:m + 4] = (np.dot(w * step, last), np.dot(w * last, last),
                                np.dot(w * step, step))
    if scale is not None:
        out[m + 4:-1] = _irls_sums(design, y, w, r, scale, loss)
        out[-1] = rho_sums(r, w, scale=scale, loss=loss)[0]
    return out


def _square_sums(r, w):
    return np.array([float(np.dot(w, r * r))])


class DaskObjective:
    """The M-estimation objective of :class:`~skrobust.dask._validate.DaskData` (dask arrays).

    Parameters
    ----------
    data : DaskData
        The validated, persisted inputs.
    loss, scale_rule, alpha
        As for :class:`~skrobust.design.objective.MProblem`.
    rows : DaskRows, default=None
        The reducer of the scale rules (shared between objectives of one fit).

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> dask = pytest.importorskip("dask")
    >>> import dask.array as da
    >>> from skrobust.dask import DaskData, DaskObjective
    >>> from skrobust.losses import get_loss
    >>> from skrobust.scale import FixedScale
    >>> from skrobust.solvers.irls import irls
    >>> X = np.arange(40.0)[:, None]
    >>> data = DaskData(da.from_array(X, chunks=(10, 1)), da.from_array(2.0 * X[:, 0] + 1.0,
    ...                 chunks=10), None, fit_intercept=True)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     fit = irls(DaskObjective(data, get_loss("huber"), FixedScale(1.0)))
    >>> np.round(fit.beta, 6)
    array([2., 1.])
    """

    def __init__(self, data, loss, scale_rule, alpha=0.0, rows=None):
        self.data, self.loss, self.scale_rule, self.alpha = data, loss, scale_rule, float(alpha)
        self.w0 = loss.weight_at_zero()
        self.total_weight, self.atol = data.total_weight, data.atol
        # row samples are positions among the positive-weight rows, as in memory
        self.n_samples, self.n_params = data.n_pos, data.p
        self.capabilities = DASK if data.n_pos < irls.HESSIAN_MIN_ROWS \
            else DASK_SAMPLED_HESSIAN
        self._sample = None  # (positions, design, weights, positions per chunk, rows per chunk)
        self.fit_intercept = data.fit_intercept
        self.penalty = penalty_diagonal(data.p, data.fit_intercept, self.alpha)
        self._shape = LinearDesign(np.empty((0, data.d)), data.fit_intercept)  # penalty terms
        self.rows = DaskRows(data.w, data.total_weight, data.n_pos) if rows is None else rows
        self._ahead = None  # (residuals, scale, IRLS sums, sum w rho) of the last advance

    joint, penalty_factor = MProblem.joint, MProblem.penalty_factor  # of the scale rule

    @property
    def newton(self) -> bool:
        return bool(self.loss.convex) and bool(self.loss.symmetric)

    def with_loss(self, loss, scale_rule=None) -> DaskObjective:
        return DaskObjective(self.data, loss, self.scale_rule if scale_rule is None
                             else scale_rule, self.alpha, self.rows)

    def _inputs(self, *extra):
        return (self.data.X, self.data.y, self.data.w) + extra

    # ------------------------------------------------------------ passes
    def residuals(self, beta):
        return self.advance(beta, None)[0]

    def advance(self, beta, r_old, last_step=None, products=False):
        """Residuals of ``beta`` (persisted), their change from ``r_old`` and, with
        ``products``, the step ``r_old - r`` and its products with ``last_step``: one pass."""
        last = last_step if products else None
        # classic IRLS at a fixed scale: the next step's weighted Gram and the objective of
        # these residuals come from the same pass (one graph per iteration)
        scale = None if self.newton or not self.scale_rule.fixed else self.scale_rule.value
        p = self.n_params
        r, st, _ = packed_pass(_residual_block, 4 if scale is None else p * p + p + 6,
                               self.data.rows, *self._inputs(r_old, last),
                               beta=np.asarray(beta, dtype=np.float64),
                               fit_intercept=self.fit_intercept, scale=scale, loss=self.loss)
        if scale is not None:
            self._ahead = (r, scale, st[4:-1], st[-1])
        if r_old is None or not products:
            return r, math.nan if r_old is None else float(st[0]), None, None
        return r, float(st[0]), r_old - r, None if last is None else tuple(map(float, st[1:4]))

    def _sums(self, beta, scale, reference=None, r_in=None, hessian=False):
        p = self.n_params
        H = (p + 1) ** 2 if hessian else 0
        # new residuals whose MAD comes next: the median's first counting round in this pass
        hint = float(scale) * MAD_NORMAL_CONSTANT
        # and the values near the hint: the median's gather when they hold its bracket
        edges, slots = self.rows.next_edges(hint) if r_in is None and isinstance(
            self.scale_rule, MADScale) else (None, 0)
        picked, kept = (None, None) if self._sample is None else self._sample[3:]
        L = 3 + p + H + (0 if edges is None else 4 * (edges.size + 1))
        kwargs = dict(beta=np.asarray(beta, dtype=np.float64), scale=float(scale),
                      loss=self.loss, joint=self.joint, fit_intercept=self.fit_intercept,
                      hessian=hessian, edges=edges, slots=slots)
        if r_in is None:  # with the residuals at the Hessian sample rows
            S = 2 * slots + 1 if slots else 0
            sizes = [k + S for k in (kept or (0,) * len(self.data.rows))]
            r, st, r_rows = packed_pass(_eval_block, L, self.data.rows,
                                        *self._inputs(reference, None, picked),
                                        kept=sizes if kept or S else None, **kwargs)
            if S:  # per chunk: its sample rows, then its kept values
                parts = np.split(r_rows, np.cumsum(sizes)[:-1])
                r_rows = np.concatenate([q[:-S] for q in parts]) if kept else None
                values = np.stack([q[-S:] for q in parts])
        else:  # the same residuals: only the sums come back
            r, r_rows = r_in, None
            st = sum_rows(partial(_eval_block, L=L), L, *self._inputs(None, r_in, None),
                          **kwargs)
        if edges is not None:
            self.rows.counted(r, hint, edges, st[3 + p + H:], values)
        sums = [st[0], st[1], st[2] if reference is not None else math.nan]
        point = point_from_sums(self, beta, scale, r, st[3:3 + p], sums,
                                self._shape.penalty_value(beta, self.alpha),
                                self._shape.penalty_grad(beta, self.alpha))
        if hessian:
            point.hessian = self._hessian(st[3 + p:3 + p + H].reshape(p + 1, p + 1), scale)
        point.r_rows = r_rows
        return point

    def _hessian(self, G, scale):
        p = self.n_params  # joint: the scale's row and column too, without a penalty
        H = G * (2.0 / (self.w0 * scale)) if self.joint else G[:p, :p] * (2.0 / self.w0)
        H[np.arange(p), np.arange(p)] += 2.0 * self.penalty
        return H

    def evaluate(self, beta, scale, reference=None, out=None, newton=False):
        # the Gram only for a point a Newton step starts from (not for L-BFGS), and not with
        # a re-estimated scale: the pass at the next scale (rescale) supplies that Hessian
        in_pass = self.newton and self.capabilities.hessian_in_pass
        hessian = newton and in_pass and (self.joint or bool(self.scale_rule.fixed))
        return self._sums(beta, scale, reference, hessian=hessian)

    def rescale(self, point, scale):
        if scale == point.scale:
            return point
        new = self._sums(point.beta, scale, r_in=point.r,
                         hessian=self.newton and self.capabilities.hessian_in_pass)
        new.r_rows = point.r_rows
        return new

    def hessian_sample(self, rows):
        """The Hessian sample (positions among the positive-weight rows), gathered once:
        ``(its design, None, its weights)``; later passes return its residuals."""
        import dask.array as da

        rows = np.asarray(rows, dtype=np.int64)
        if self._sample is None or not np.array_equal(self._sample[0], rows):
            Xs, _, ws = self.data.positive_rows(rows)
            starts = np.cumsum((0,) + self.data.pos_counts)
            per_chunk = tuple(map(int, np.diff(np.searchsorted(rows, starts))))
            # each chunk's sample positions, chunked by the rows they fall in; persisted, the
            # passes refer to them instead of carrying them in every graph
            local = da.from_array(rows - np.repeat(starts[:-1], per_chunk),
                                  chunks=(per_chunk,)).persist()
            self._sample = (rows, LinearDesign(Xs, self.fit_intercept), ws, local, per_chunk)
        return self._sample[1], None, self._sample[2]

    def hessian_rows_weight(self, rows) -> float:
        return float(self.hessian_sample(rows)[2].sum())

    def hessian(self, point):
        """The Hessian at an evaluated point whose pass did not return it (one pass)."""
        return self._sums(point.beta, point.scale, r_in=point.r, hessian=True).hessian

    def _computed(self, residuals, scale):
        """The IRLS sums and ``sum w rho`` of ``residuals`` at ``scale`` from their pass."""
        ahead = self._ahead
        return ahead[2:] if ahead is not None and ahead[0] is residuals and ahead[1] == scale \
            else None

    def objective(self, beta, scale, residuals=None) -> float:
        r = self.residuals(beta) if residuals is None else residuals
        done = self._computed(r, scale)
        rho = self.rows.sum(rho_sums, 2, r, scale=scale, loss=self.loss)[0] if done is None \
            else done[1]
        # the in-memory formula of the objective from its sums (the gradient is not used)
        return point_from_sums(self, beta, scale, r, np.zeros(self.n_params), [rho, 0.0],
                               self._shape.penalty_value(beta, self.alpha), 0.0).f

    def exact_fit(self, residuals) -> bool:
        ss = self.rows.sum(_square_sums, 1, residuals)[0]
        return math.sqrt(ss / self.total_weight) <= 1e3 * self.atol

    def _solve(self, residuals, scale, loss, alpha):
        p = self.n_params
        done = self._computed(residuals, scale) if loss is self.loss else None
        st = sum_rows(_irls_block, p * p + p + 1, *self._inputs(residuals), scale=scale,
                      loss=loss, fit_intercept=self.fit_intercept) if done is None \
            else done[0].copy()
        if not st[-1] > 0:
            return None
        G = st[:p * p].reshape(p, p)
        G[np.diag_indices_from(G)] += penalty_diagonal(p, self.fit_intercept, alpha)
        return solve_normal_equations(G, st[p * p:p * p + p])

    def irls_step(self, residuals, scale):
        return self._solve(residuals, scale, self.loss, self.alpha * self.penalty_factor(scale))

    def least_squares(self, rows=None):
        if rows is not None:
            Xs, ys, ws = self.data.positive_rows(rows)
            if ws.sum() > 0:
                return MProblem(LinearDesign(Xs, self.fit_intercept), ys, ws, self.loss,
                                self.scale_rule, self.alpha).least_squares()
        return self._solve(None, 1.0, None, self.alpha)

    ridge = least_squares

    # ------------------------------------------------------------ row samples
    def subproblem(self, rows):
        """The in-memory problem on the gathered ``rows`` (positions among the positive-weight
        rows), weights rescaled to the same total."""
        Xs, ys, ws = self.data.positive_rows(rows)
        total = float(ws.sum())
        if not total > 0:
            return None
        return MProblem(LinearDesign(Xs, self.fit_intercept), ys,
                        ws * (self.total_weight / total), self.loss, self.scale_rule, self.alpha)

    def s_sample(self, rng):
        """The rows of the S-start and whether they are all the rows: the positive-weight
        rows, or above :data:`~skrobust.solvers.fast_s.LARGE_N_ROWS` of them the uniform
        sample that in-memory fast-S draws with the same Generator ``rng``
        (:func:`~skrobust.solvers.fast_s.large_sample`)."""
        picked = large_sample(rng, self.data.n_pos)
        Xs, ys, ws = self.data.positive_rows(picked)
        return LinearDesign(Xs, self.fit_intercept), ys, ws, picked is None

    def column_moments(self):
        return self.data.column_moments()
