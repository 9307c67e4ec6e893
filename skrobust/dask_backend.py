"""Fit :class:`~skrobust.RobustRegressor` on row-chunked dask arrays.

:class:`~skrobust.RobustRegressor` hands dask input to :func:`fit_dask`
and :func:`predict_dask` before any scikit-learn validation (which would
pull ``X`` into the client).  ``X`` is never gathered: every step of the
fit is a pass over the chunks that returns small per-chunk sums, reduced by
a tree and used on the client.

Passes
------
- **Validation**: one pass over ``X``, ``y`` and ``sample_weight`` counts
  non-finite values and negative weights and returns the sums the fit needs
  (total weight, ``sum w y**2``, column means and variances).
- **One pass over ``X`` per iteration.**  Each chunk computes its
  residuals ``r = y - A beta``, keeps them (persisted, an ``n``-vector),
  and returns one packed row of sums, tree-reduced and used on the client:

  - redescending losses, IRLS (:func:`irls_dask`): ``A' V A``, ``A' V y``
    (``V = s weight(r / sigma) / w0``), solved with
    :func:`skrobust.solvers.design.solve_normal_equations`.  A pass builds
    its weights before the scale of its own residuals is known, so a
    re-estimated scale lags one iteration behind the in-memory order (which
    reads ``X`` twice per iteration); the fixed point is the same.
  - convex losses, Newton steps as in memory (:func:`newton_dask`): loss,
    gradient and Hessian ``B' diag(s psi') B`` with ``B = [A, u]``; the
    extra column gives the joint scale's Hessian, or the derivative of the
    gradient in the scale, so a re-estimated scale is applied before the
    step without another pass.  On large data (:data:`WARM_START_MIN_ROWS`)
    they start from an in-memory fit on a row sample.

  Both also return the objective and the change of the residuals (the
  in-memory stopping rule).
- **L-BFGS**: one pass per evaluation, returning the loss sum and the
  gradient (and, for the joint scale, the scale derivative).
- **Scale** (passes over the persisted residual vector, never over ``X``):
  Huber's proposal 2, Owen's joint scale and the S-estimator's M-scale are
  roots of monotone sums, found by the same Newton iterations as in memory
  with one scalar reduction per step.  ``scale="mad"`` is the **exact**
  weighted median of ``|r|`` found by distributed selection (see
  :func:`weighted_abs_median`), so it equals the in-memory MAD.
- **MM** (``init="s"``): fast-S (:func:`skrobust.solvers.fast_s.fast_s`)
  runs on the client on a uniform random sample of :data:`S_SAMPLE_SIZE`
  rows (drawn with the estimator's ``random_state``); the M-scale of the
  S-coefficients' residuals is then solved on the full data, and the
  M-step runs distributed with that scale held fixed.

Zero-weight rows are kept in the chunks but contribute nothing (the
in-memory fit removes them first; the sums are the same).

Not supported on dask input (``NotImplementedError``, with the supported
alternative in the message): kernel models (``kernel=...``, exact or
Nystroem), ``shape="adaptive"``, ``loss="quantile"`` and ``init="lad"``;
sparse chunks and dask DataFrames are refused with a message.

Examples
--------
Without a cluster (the synchronous scheduler), on a small array split into
four chunks:

>>> import numpy as np
>>> import pytest
>>> dask = pytest.importorskip("dask")
>>> import dask.array as da
>>> from skrobust import RobustRegressor
>>> from skrobust.dask_backend import fit_dask, predict_dask
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(2000, 2))
>>> y = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=2000)
>>> y[:100] += 20.0
>>> dX, dy = da.from_array(X, chunks=(500, 2)), da.from_array(y, chunks=500)
>>> with dask.config.set(scheduler="synchronous"):
...     reg = fit_dask(RobustRegressor(loss="huber"), dX, dy)
>>> ref = RobustRegressor(loss="huber").fit(X, y)
>>> bool(np.allclose(reg.coef_, ref.coef_, rtol=1e-8))
True
>>> pred = predict_dask(reg, dX)  # lazy
>>> pred.chunks
((500, 500, 500, 500),)

On a cluster the code is the same (skipped here: it starts worker
processes):

>>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
>>> with LocalCluster(n_workers=2, host="127.0.0.1") as c, Client(c):  # doctest: +SKIP
...     reg = RobustRegressor(loss="tukey", random_state=0).fit(dX, dy)
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np

from ._kernels import design_signature, warm_start_applies
from ._outliers import outlier_rule
from ._param_relevance import _regressor_adaptive
from ._plan import fit_plan
from ._progress import Progress
from ._units import FitUnits, power_of_two_unit
from .losses import Barron, Quantile, get_loss
from .scale import (
    MAD_NORMAL_CONSTANT,
    FixedScale,
    HuberProposal2Scale,
    JointScale,
    MADScale,
    SecantScale,
    decreasing_root,
)
from .solvers._result import SolverResult
from .solvers.design import LinearDesign, solve_normal_equations
from .solvers.fast_s import S_BREAKDOWN_B, S_TUKEY_C, fast_s
from .solvers.starts import rule_floor

S_SAMPLE_SIZE = 20_000
"""Rows gathered to the client for the fast-S start of an MM fit (``init="s"``).

The candidates of fast-S come from nested subsamples of 2000 rows whatever
the data size (robustbase's ``fast_s_large_n``); the sample only bounds the
rows the best candidates are refined on.  With ``m`` sampled rows, the
fraction of outliers in the sample is within a few ``sqrt(eps (1 - eps) /
m)`` of the fraction ``eps`` in the data, so the S-start keeps a 50%
breakdown point up to that margin (about 1% for ``m = 20000``).  Set it to
``n`` or more to use the whole data (the in-memory S-estimate exactly).
"""

MEDIAN_GATHER_CAP = 100_000
"""The weighted-median selection gathers the values of the last bracket once it
holds at most this many rows (their values and weights, 16 bytes a row)."""

WARM_START_MIN_ROWS = 1 << 18
"""Convex losses on at least this many rows start from an in-memory fit on a row sample."""

WARM_START_ROWS = 1 << 16
"""Rows of that sample (one random row in each of as many equal strata, a fixed seed)."""

SPLIT_EVERY = 8
"""Fan-in of the tree reductions of the per-chunk sums."""

_SKETCH_MIN = 32  # local quantiles returned per chunk by a sketch pass
_MAX_EDGES = 2048  # counting edges of a selection pass
_MAX_SELECTION_ROUNDS = 30
_HINT_WIDTH = 0.25  # relative half-width of the first bracket around a hinted median
_WARM_START_SEED = 20070101


# ============================================================ detection
def is_dask_input(*arrays) -> bool:
    """Whether any argument is a dask collection (dask is never imported here).

    Parameters
    ----------
    *arrays : objects
        Typically ``X, y, sample_weight``.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.dask_backend import is_dask_input
    >>> is_dask_input(np.ones((2, 2)), None)
    False
    """
    if "dask" not in sys.modules:  # no dask collection can exist
        return False
    from dask import is_dask_collection

    return any(a is not None and is_dask_collection(a) for a in arrays)


_is_dask = is_dask_input


# ============================================================ chunk kernels
# Module-level functions of plain numpy arrays: they pickle by reference, run in the
# workers, and never write into their inputs.
def _block(X):
    """The chunk of X: blockwise hands the column blocks of a row chunk as a list."""
    if isinstance(X, list):
        X = X[0] if len(X) == 1 else np.concatenate(X, axis=1)
    if not isinstance(X, np.ndarray):  # a sparse chunk that the lazy meta did not reveal
        raise TypeError(_SPARSE_CHUNKS.format(kind=type(X).__name__))
    return X


_SPARSE_CHUNKS = ("X has {kind} chunks; the dask backend needs dense NumPy chunks: densify "
                  "them with X = X.map_blocks(lambda b: b.toarray(), dtype=X.dtype), or fit "
                  "the in-memory estimator on the scipy.sparse matrix")


def _check_dense_chunks(X):
    meta = getattr(X, "_meta", None)
    if meta is not None and not isinstance(meta, np.ndarray):
        raise TypeError(_SPARSE_CHUNKS.format(kind=type(meta).__name__))


def _drop_empty_chunks(*arrays):
    """The arrays without their zero-row chunks (which dask pairs with a neighbour's data)."""
    rows = arrays[0].chunks[0]
    if all(rows):
        return arrays
    kept = tuple(c for c in rows if c)
    return tuple(a.rechunk({0: kept}) for a in arrays)


def _check_lengths(*blocks):
    m = blocks[0].shape[0]
    for b in blocks[1:]:
        if b is not None and b.shape[0] != m:
            raise ValueError(f"misaligned chunks: a chunk of X has {m} rows but the matching "
                             f"chunk of y or sample_weight has {b.shape[0]}")
    return m


def _validate_block(X, y, w, *, d):
    """One row: counts of non-finite values and negative weights, and sums for the fit."""
    X = _block(X)
    m = _check_lengths(X, y, w)
    out = np.zeros((1, 10 + 2 * d))
    if m == 0:
        return out
    fin_x = np.isfinite(X)
    out[0, 0] = m
    out[0, 1] = m * d - np.count_nonzero(fin_x)
    out[0, 2] = m - np.count_nonzero(np.isfinite(y))
    out[0, 3] = m - np.count_nonzero(np.isfinite(w))
    out[0, 4] = np.count_nonzero(w < 0)
    if out[0, 1:5].any():
        return out
    pos = w > 0
    k = int(np.count_nonzero(pos))
    out[0, 5] = w.sum()
    out[0, 6] = k
    out[0, 7] = np.dot(w, y)
    out[0, 8] = np.dot(w, y * y)
    if k:
        out[0, 9] = np.abs(y[pos]).max()
        Xp = X[pos]
        mean = Xp.mean(axis=0)
        out[0, 10:10 + d] = mean
        out[0, 10 + d:] = ((Xp - mean) ** 2).sum(axis=0)
    return out


def _spread_block(y, w, *, centre):
    """``sum w |y - centre|`` (the spread behind the scale floor)."""
    out = np.zeros((1, 1))
    out[0, 0] = np.dot(w, np.abs(y - centre))
    return out


def _irls_block(X, y, w, r_prev, *, beta, scale, loss, w0, fit_intercept, prev_scale, L):
    """Residuals of ``beta`` and the packed sums of one IRLS step on this chunk.

    Returns ``[r (m values), vec(A'VA), A'Vy, sum V, sum w rho(u), sum w (r - r_prev)**2,
    sum w |weight change| / w0, m]`` with ``V = w weight(r/scale) / w0`` (``V = w`` for
    least squares, ``loss=None``).
    """
    X = _block(X)
    m = _check_lengths(X, y, w, r_prev)
    out = np.zeros(m + L)
    if m == 0:
        return out
    X = np.ascontiguousarray(X)
    design = LinearDesign(X, fit_intercept)
    p = design.n_params
    r = out[:m]
    r[:] = y - design.predict(beta)
    if loss is None:
        v = w
        data = float(np.dot(w, r * r))
    else:
        u = r / scale
        v = w * (loss.weight(u) / w0)
        data = float(np.dot(w, loss.rho(u)))
    G, h = design.gram(v, y)
    stats = out[m:]
    stats[: p * p] = G.ravel()
    stats[p * p: p * p + p] = h
    tail = stats[p * p + p:]
    tail[0] = v.sum()
    tail[1] = data
    if r_prev is not None:
        diff = r - r_prev
        tail[2] = np.dot(w, diff * diff)
        if prev_scale is not None and loss is not None:
            dv = loss.weight(u) - loss.weight(r_prev / prev_scale)
            tail[3] = np.dot(w, np.abs(dv)) / w0
    tail[4] = m
    return out


def _newton_block(X, y, w, r_prev, *, beta, scale, prev_scale, loss, fit_intercept, joint, L):
    """Residuals of ``beta`` and the packed sums of a Newton step on this chunk.

    Returns ``[r (m values), sum w rho(u), sum w u psi(u), A'(w psi(u)),
    vec(B' diag(w psi'(u)) B), sum w (r - r_prev)**2, sum w |weight change|, m]``
    at ``u = r / scale``, with ``B = [A, u]`` (the last column gives the joint scale's
    Hessian, or the derivative of the gradient in the scale).
    """
    X = _block(X)
    m = _check_lengths(X, y, w, r_prev)
    out = np.zeros(m + L)
    if m == 0:
        return out
    design = LinearDesign(np.ascontiguousarray(X), fit_intercept)
    p = design.n_params
    q = p + 1
    r = out[:m]
    r[:] = y - design.predict(beta)
    u = r / scale
    psi = loss.psi(u)
    stats = out[m:]
    stats[0] = np.dot(w, loss.rho(u))
    stats[1] = np.dot(w, u * psi)
    stats[2:2 + p] = design.rmatvec(w * psi)
    G = design.gram_ext(w * loss.psi_deriv(u), [u])
    stats[2 + p:2 + p + q * q] = G.ravel()
    tail = stats[2 + p + q * q:]
    if r_prev is not None:
        diff = r - r_prev
        tail[0] = np.dot(w, diff * diff)
        if prev_scale is not None:
            dv = loss.weight(u) - loss.weight(r_prev / prev_scale)
            tail[1] = np.dot(w, np.abs(dv)) / loss.weight_at_zero()
    tail[2] = m
    return out

def _residual_block(X, y, w, *, beta, fit_intercept, L):
    """Residuals of ``beta`` and ``[sum w r**2, weight of the non-zero residuals, m]``."""
    X = _block(X)
    m = _check_lengths(X, y, w)
    out = np.zeros(m + L)
    if m == 0:
        return out
    r = out[:m]
    r[:] = y - LinearDesign(np.ascontiguousarray(X), fit_intercept).predict(beta)
    out[m] = np.dot(w, r * r)
    out[m + 1] = w[r != 0].sum()
    out[m + 2] = m
    return out


def _grad_block(X, y, w, *, beta, scale, loss, fit_intercept, p):
    """``[sum w rho(u), A'(w psi(u)), sum w u psi(u)]`` at ``u = (y - A beta) / scale``."""
    X = _block(X)
    m = _check_lengths(X, y, w)
    out = np.zeros((1, p + 2))
    if m == 0:
        return out
    design = LinearDesign(np.ascontiguousarray(X), fit_intercept)
    u = (y - design.predict(beta)) / scale
    psi = loss.psi(u)
    out[0, 0] = np.dot(w, loss.rho(u))
    out[0, 1:p + 1] = design.rmatvec(w * psi)
    out[0, p + 1] = np.dot(w, u * psi)
    return out


def _head(b, L):
    return b[: b.shape[0] - L]


def _tail(b, L):
    return b[b.shape[0] - L:][None, :]


def _proposal2_block(r, w, *, t, k2):
    """``[sum w over r**2 > k2 t, sum w r**2 over r**2 <= k2 t]`` (Huber's proposal 2)."""
    out = np.zeros((1, 2))
    r2 = r * r
    clipped = r2 > k2 * t
    out[0, 0] = w[clipped].sum()
    out[0, 1] = np.dot(w, np.where(clipped, 0.0, r2))
    return out


def _joint_block(r, w, *, scale, loss):
    """``[sum w (u psi - rho)(u), sum w u**2 psi'(u)]`` at ``u = r / scale`` (Owen's scale)."""
    out = np.zeros((1, 2))
    u = r / scale
    out[0, 0] = np.dot(w, u * loss.psi(u) - loss.rho(u))
    out[0, 1] = np.dot(w, u * u * loss.psi_deriv(u))
    return out


def _mscale_block(r, w, *, scale, loss):
    """``[sum w rho(u), sum w u psi(u)]`` at ``u = r / scale`` (the S-estimator's M-scale)."""
    out = np.zeros((1, 2))
    u = r / scale
    out[0, 0] = np.dot(w, loss.rho(u))
    out[0, 1] = np.dot(w, u * loss.psi(u))
    return out


def _inside(r, w, lo, hi):
    a = np.abs(r)
    return a, (w > 0) & (a > lo) & (a < hi)


def _sketch_block(r, w, *, lo, hi, k):
    """``[count, min, max, k local quantiles]`` of ``|r|`` inside ``(lo, hi)`` (positive w)."""
    a, sel = _inside(r, w, lo, hi)
    vals = a[sel]
    out = np.full((1, 3 + k), np.nan)
    out[0, 0] = vals.size
    if vals.size:
        out[0, 1] = vals.min()
        out[0, 2] = vals.max()
        out[0, 3:] = np.quantile(vals, np.linspace(0.0, 1.0, k), method="inverted_cdf")
    return out


def _count_block(r, w, *, lo, hi, edges):
    """Weighted and plain counts of ``|r|`` inside ``(lo, hi)`` binned at ``edges``.

    Bin ``j`` of the "left" counts holds the values with ``j`` edges below
    them (``searchsorted(edges, a, "left")``), bin ``j`` of the "right" counts
    those with ``j`` edges at or below them; the two differ only for values
    equal to an edge.  Returns ``[left weights, right weights, left counts,
    right counts]``, each of length ``len(edges) + 1``.
    """
    a, sel = _inside(r, w, lo, hi)
    a, ww = a[sel], w[sel]
    E = edges.shape[0]
    k = E + 1
    il = np.where(a < edges[0], 0, E)
    mid = (a >= edges[0]) & (a <= edges[-1])
    il[mid] = np.searchsorted(edges, a[mid], side="left")
    out = np.empty((1, 4 * k))
    out[0, :k] = np.bincount(il, weights=ww, minlength=k)
    out[0, 2 * k:3 * k] = np.bincount(il, minlength=k)
    # values equal to an edge move up one bin in the "right" counts
    on = np.flatnonzero(mid)
    on = on[edges[il[on]] == a[on]]
    j, wo = il[on], ww[on]
    out[0, k:2 * k] = (out[0, :k] - np.bincount(j, weights=wo, minlength=k)
                       + np.bincount(j + 1, weights=wo, minlength=k + 1)[:k])
    out[0, 3 * k:] = (out[0, 2 * k:3 * k] - np.bincount(j, minlength=k)
                      + np.bincount(j + 1, minlength=k + 1)[:k])
    return out

def _gather_block(r, w, lo, hi):
    a, sel = _inside(r, w, lo, hi)
    return np.stack([a[sel], w[sel]])


def _predict_block(X, coef, intercept):
    return np.asarray(X @ coef, dtype=np.float64).ravel() + intercept


# ============================================================ graph helpers
def _rows(fn, L, *arrays, **kwargs):
    """A lazy ``(n_chunks, L)`` array: one row per chunk from ``fn(*chunks, **kwargs)``."""
    import dask.array as da

    args = []
    for a in arrays:
        args.extend((a, None if a is None else ("ij" if a.ndim == 2 else "i")))
    # concatenate=False: a kernel gets X's single column block in a list (no copy)
    return da.blockwise(fn, "ik", *args, new_axes={"k": L}, adjust_chunks={"i": 1},
                        concatenate=False, dtype=np.float64, meta=np.empty((0, 0)), **kwargs)


def _sum_rows(fn, L, *arrays, **kwargs) -> np.ndarray:
    """Tree-sum of the per-chunk rows, computed: one pass, a length-``L`` vector."""
    return _rows(fn, L, *arrays, **kwargs).sum(axis=0, split_every=SPLIT_EVERY).compute()


def _packed_pass(fn, L, rows, *arrays, **kwargs):
    """Run a kernel returning ``[r, stats]`` per chunk: persisted ``r`` and the summed stats.

    One read of the inputs: the residuals and the tree-summed statistics are
    persisted together, so the kernel runs once per chunk.
    """
    import dask
    import dask.array as da

    args = []
    for a in arrays:
        args.extend((a, None if a is None else ("ij" if a.ndim == 2 else "i")))
    packed = da.blockwise(fn, "i", *args, adjust_chunks={"i": lambda c: c + L},
                          concatenate=False, dtype=np.float64, meta=np.empty((0,)), L=L,
                          **kwargs)
    r = packed.map_blocks(_head, L=L, chunks=(rows,), dtype=np.float64, meta=np.empty((0,)))
    tails = packed.map_blocks(_tail, L=L, chunks=((1,) * len(rows), (L,)), new_axis=1,
                              dtype=np.float64, meta=np.empty((0, 0)))
    r, total = dask.persist(r, tails.sum(axis=0, split_every=SPLIT_EVERY))
    return r, total.compute()


# ============================================================ validation
class _Data:
    """The persisted inputs of a dask fit and the sums every step needs (never stored)."""

    def __init__(self, X, y, sample_weight, fit_intercept, persist=True):
        import dask

        X, y, w = _check_layout(X, y, sample_weight)
        # frequency weights in units where the largest is of order one (skrobust._units), so
        # the sums of weights up to 1e300 neither overflow nor underflow; one pass over w
        self.units = FitUnits(None, 1.0, power_of_two_unit(_largest(w)))
        if self.units.w != 1.0:
            w = w / self.units.w
        if persist:
            X, y, w = dask.persist(X, y, w)
        self.X, self.y, self.w = X, y, w
        self.rows = tuple(int(c) for c in X.chunks[0])
        self.n, self.d = int(X.shape[0]), int(X.shape[1])
        self.fit_intercept = bool(fit_intercept)
        self.p = self.d + int(self.fit_intercept)
        d = self.d
        parts = _rows(_validate_block, 10 + 2 * d, X, y, w, d=d).compute()
        n_bad_x, n_bad_y, n_bad_w, n_neg = parts[:, 1:5].sum(axis=0)
        if n_bad_x:
            raise ValueError(f"Input X contains NaN or infinity ({int(n_bad_x)} non-finite "
                             "values).")
        if n_bad_y:
            raise ValueError(f"Input y contains NaN or infinity ({int(n_bad_y)} non-finite "
                             "values).")
        if n_bad_w:
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if n_neg:
            raise ValueError("Negative values in data passed to sample_weight.")
        self.total_weight = float(parts[:, 5].sum())
        if not self.total_weight > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero")
        counts = parts[:, 6]
        self.n_pos = int(counts.sum())
        mean_y = float(parts[:, 7].sum()) / self.total_weight
        self.atol = 1e-12 * math.sqrt(float(parts[:, 8].sum()) / self.total_weight) + 1e-300
        # column standard deviations over the positive-weight rows (Chan's pairwise combination),
        # used only to condition L-BFGS, as in memory
        k_tot, mean, m2 = 0.0, np.zeros(d), np.zeros(d)
        for k, mu, s2 in zip(counts, parts[:, 10:10 + d], parts[:, 10 + d:], strict=True):
            if k == 0:
                continue
            delta = mu - mean
            new = k_tot + k
            mean = mean + delta * (k / new)
            m2 = m2 + s2 + delta * delta * (k_tot * k / new)
            k_tot = new
        sd = np.sqrt(m2 / max(k_tot, 1.0))
        self.col_sd = np.where(sd > 0, sd, 1.0)
        # the scale floor of skrobust.scale.scale_floor: max(1e-10 spread, 1e-12 max|y|)
        spread = _sum_rows(_spread_block, 1, y, w, centre=mean_y)[0] / self.total_weight
        magnitude = float(parts[:, 9].max())
        self.floor = max(1e-10 * spread, 1e-12 * magnitude, 1e-300)

    # ------------------------------------------------------------ passes
    def irls_pass(self, beta, scale, loss, r_prev=None, prev_scale=None):
        p = self.p
        L = p * p + p + 5
        r, st = _packed_pass(_irls_block, L, self.rows, self.X, self.y, self.w, r_prev,
                             beta=np.asarray(beta, dtype=np.float64), scale=scale, loss=loss,
                             w0=None if loss is None else loss.weight_at_zero(),
                             fit_intercept=self.fit_intercept, prev_scale=prev_scale)
        tail = st[p * p + p:]
        return r, SimpleNamespace(G=st[: p * p].reshape(p, p), h=st[p * p: p * p + p],
                                  v_sum=tail[0], data=tail[1], change2=tail[2],
                                  weight_change=tail[3], n_rows=tail[4])

    def newton_pass(self, beta, scale, loss, joint, r_prev=None, prev_scale=None):
        p = self.p
        q = p + 1
        L = 2 + p + q * q + 3
        r, st = _packed_pass(_newton_block, L, self.rows, self.X, self.y, self.w, r_prev,
                             beta=np.asarray(beta, dtype=np.float64), scale=scale,
                             prev_scale=prev_scale, loss=loss,
                             fit_intercept=self.fit_intercept, joint=bool(joint))
        tail = st[2 + p + q * q:]
        return r, SimpleNamespace(rho=st[0], u_psi=st[1], xg=st[2:2 + p],
                                  G=st[2 + p:2 + p + q * q].reshape(q, q), change2=tail[0],
                                  weight_change=tail[1], n_rows=tail[2])

    def residuals(self, beta):
        """Persisted residuals of ``beta`` and ``(sum w r**2, weight of r != 0)``."""
        r, st = _packed_pass(_residual_block, 3, self.rows, self.X, self.y, self.w,
                             beta=np.asarray(beta, dtype=np.float64),
                             fit_intercept=self.fit_intercept)
        return r, st

    def loss_and_grad(self, beta, scale, loss):
        return _sum_rows(_grad_block, self.p + 2, self.X, self.y, self.w,
                         beta=np.asarray(beta, dtype=np.float64), scale=scale, loss=loss,
                         fit_intercept=self.fit_intercept, p=self.p)

    def sample(self, m, rng):
        """``m`` rows drawn uniformly without replacement (all rows when ``m >= n``)."""
        import dask

        if m >= self.n:
            return dask.compute(self.X, self.y, self.w)
        gen = np.random.default_rng(int(rng.randint(0, 2**63 - 1, dtype=np.int64)))
        return self.rows_at(np.sort(gen.choice(self.n, size=m, replace=False)))

    def rows_at(self, idx):
        """The rows ``idx`` (sorted) of X, y and the weights, gathered to the client."""
        import dask

        return dask.compute(self.X[idx], self.y[idx], self.w[idx])


def _largest(w) -> float:
    """``max(w)`` of a dask vector (0 for no rows, NaN if there is one), empty chunks allowed."""
    import dask.array as da

    tops = da.map_blocks(lambda b: np.max(b, initial=0.0, keepdims=True), w,
                         chunks=((1,) * w.numblocks[0],), dtype=np.float64)
    return float(tops.max().compute())


def _check_rows_known(a, name):
    if any(math.isnan(c) for c in a.chunks[0]):
        raise ValueError(f"{name} has unknown chunk sizes (NaN in {name}.chunks); call "
                         f"{name} = {name}.compute_chunk_sizes() first (one pass), or build it "
                         "with known lengths, e.g. ddf.to_dask_array(lengths=True).")


def _as_dask_vector(a, X, name):
    import dask.array as da

    if a is None:
        return da.ones(X.shape[0], chunks=(X.chunks[0],), dtype=np.float64)
    if _is_dataframe(a):
        raise TypeError(f"{name} is a dask DataFrame/Series; pass a dask array, e.g. "
                        f"{name}.to_dask_array(lengths=True), chunked like X.")
    if not isinstance(a, da.Array):
        a = np.asarray(a)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1 or a.shape[0] != X.shape[0]:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"X has {X.shape[0]} rows, {name} has shape {a.shape}")
        # embedded in the graph: fine for small n, pass a dask array for large data
        return da.from_array(a, chunks=(X.chunks[0],))
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got a dask array of shape {a.shape}")
    _check_rows_known(a, name)
    if a.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"[{X.shape[0]}, {a.shape[0]}] (X and {name})")
    if tuple(a.chunks[0]) != tuple(X.chunks[0]):
        raise ValueError(f"{name} is chunked differently from X's rows ({name}.chunks[0] = "
                         f"{_short(a.chunks[0])}, X.chunks[0] = {_short(X.chunks[0])}); "
                         f"rechunk it: {name} = {name}.rechunk((X.chunks[0],))")
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    return a


def _short(chunks):
    chunks = tuple(chunks)
    return str(chunks) if len(chunks) <= 6 else f"({chunks[0]}, {chunks[1]}, ..., {chunks[-1]})"


def _is_dataframe(a) -> bool:
    mod = type(a).__module__
    return mod.startswith(("dask.dataframe", "dask_expr", "dask_cudf"))


def _check_layout(X, y, sample_weight):
    """Check shapes and chunking without computing anything; float64 lazy inputs."""
    import dask.array as da

    if _is_dataframe(X):
        raise TypeError("X is a dask DataFrame; pass a dask array with known chunk sizes, "
                        "e.g. X = ddf.to_dask_array(lengths=True).")
    if not isinstance(X, da.Array):
        raise TypeError(f"y or sample_weight is a dask collection, so X must be a dask array "
                        f"too (got {type(X).__name__}); use da.from_array(X, chunks=...)")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array X, got {X.ndim}-D (shape {X.shape}); "
                         "reshape a single feature with X[:, None]")
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    _check_dense_chunks(X)
    _check_rows_known(X, "X")
    n, d = X.shape
    if n < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of "
                         "1 is required.")
    if d < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of "
                         "1 is required.")
    if X.numblocks[1] != 1:
        raise ValueError(f"X is chunked along its columns ({X.numblocks[1]} column chunks); "
                         f"the dask backend needs whole rows in every chunk: use "
                         f"X = X.rechunk({{1: {d}}}) (row chunks of 10-500 MB work well).")
    if y is None:
        raise ValueError("y is required (got None)")
    y = _as_dask_vector(y, X, "y")
    w = _as_dask_vector(sample_weight, X, "sample_weight")
    return _drop_empty_chunks(X.astype(np.float64, copy=False), y.astype(np.float64, copy=False),
                              w.astype(np.float64, copy=False))


# ============================================================ scale on dask
def weighted_abs_median(r, w, total_weight=None, *, hint=None, hint_width=_HINT_WIDTH,
                        count=None, cap=None, return_info=False):
    """Exact weighted median of ``|r|`` by distributed selection (no global sort, no rechunk).

    Uses :func:`skrobust.scale.weighted_median`'s definition: with
    ``T = sum(w) / 2`` and ``F(x)`` the weight of the values ``<= x``, the
    mean of ``min{x : F(x) >= T - tol}`` and ``min{x : F(x) > T + tol}``
    (``tol = 1e-12 sum(w)``), which is ``np.median`` for equal weights.
    Zero-weight values are ignored.

    Each round is two passes over ``r``: local quantiles of every chunk
    inside the current bracket become up to 2048 edges, then per-chunk
    weighted counts at the edges narrow the bracket to the bin holding the
    targets (about ``n / 2048`` rows).  Once a bracket holds at most
    ``cap`` rows (:data:`MEDIAN_GATHER_CAP`), its values and weights are
    gathered and the median is read off the sorted values, so the result is
    exact.  ``hint`` (the previous median) replaces the first sketch pass
    by edges around it.  For 2e7 rows: two or three passes over ``r``.

    Parameters
    ----------
    r, w : dask arrays of shape (n,), equally chunked
    total_weight : float, default=None
        ``sum(w)`` when already known.
    hint : float, default=None
        A guess of the median of ``|r|``.
    hint_width : float, default=0.25
        Relative half-width of the first bracket around ``hint`` (a miss costs
        one more round).
    count : int, default=None
        The number of positive-weight values, when known (at most ``cap``:
        gathered at once).
    cap : int, default=None
        Gather threshold; :data:`MEDIAN_GATHER_CAP` when None.
    return_info : bool, default=False
        Also return ``{"passes": int}``.

    Returns
    -------
    median : float

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> dask = pytest.importorskip("dask")
    >>> import dask.array as da
    >>> from skrobust.scale import weighted_median
    >>> rng = np.random.default_rng(0)
    >>> r, w = rng.standard_t(2, 10_001), rng.integers(0, 4, 10_001).astype(float)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     med = weighted_abs_median(da.from_array(r, chunks=1000),
    ...                               da.from_array(w, chunks=1000), cap=100)
    >>> med == weighted_median(np.abs(r), w)
    True
    """
    import dask

    cap = MEDIAN_GATHER_CAP if cap is None else int(cap)
    if total_weight is None:
        total_weight = float(w.sum().compute())
    half = 0.5 * total_weight
    tol = 1e-12 * total_weight
    targets = [(half - tol, False), (half + tol, True)]  # (T, strict): F >= T, or F > T
    answers = [None, None]
    lo, hi, f_lo = -math.inf, math.inf, 0.0
    count_in = math.inf if count is None else float(count)
    nb = len(r.chunks[0])
    passes = 0
    for _round in range(_MAX_SELECTION_ROUNDS):
        if count_in <= cap:
            break
        if _round == 0 and hint is not None and hint > 0 and math.isfinite(hint):
            edges = hint * np.exp(np.linspace(-hint_width, hint_width, _MAX_EDGES))
        else:
            k = int(min(max(_SKETCH_MIN, -(-2 * _MAX_EDGES // nb)), _MAX_EDGES))
            sk = _rows(_sketch_block, 3 + k, r, w, lo=lo, hi=hi, k=k).compute()
            passes += 1
            count_in = float(sk[:, 0].sum())
            if count_in <= cap:
                break
            vals = sk[:, 3:].ravel()
            edges = np.unique(vals[np.isfinite(vals)])
            if edges.size > _MAX_EDGES:
                edges = edges[np.linspace(0, edges.size - 1, _MAX_EDGES).round().astype(int)]
                edges = np.unique(edges)
        E = edges.size
        cnt = _sum_rows(_count_block, 4 * (E + 1), r, w, lo=lo, hi=hi, edges=edges)
        passes += 1
        w_le = np.cumsum(cnt[:E + 1])[:E]  # weight of values <= e_j (inside the bracket)
        w_lt = np.cumsum(cnt[E + 1:2 * E + 2])[:E]  # weight of values < e_j
        c_le = np.cumsum(cnt[2 * E + 2:3 * E + 3])
        c_lt = np.cumsum(cnt[3 * E + 3:])
        c_total = c_le[E]
        c_le, c_lt = c_le[:E], c_lt[:E]
        # per target: the answer is an edge, or lies strictly between two neighbours
        intervals = []
        for i, (T, strict) in enumerate(targets):
            if answers[i] is not None:
                continue
            F_e = f_lo + w_le
            F_em = f_lo + w_lt
            ok = F_e > T if strict else F_e >= T
            if ok.any():
                j = int(np.argmax(ok))
                below = F_em[j] > T if strict else F_em[j] >= T
                if not below:
                    answers[i] = float(edges[j])
                    continue
                intervals.append((j - 1, j))
            else:
                intervals.append((E - 1, E))
        if not intervals:
            break
        jl = min(a for a, _ in intervals)
        jh = max(b for _, b in intervals)
        new_lo = lo if jl < 0 else float(edges[jl])
        new_hi = hi if jh >= E else float(edges[jh])
        f_new = f_lo if jl < 0 else f_lo + float(w_le[jl])
        below_hi = c_total if jh >= E else float(c_lt[jh])
        at_lo = 0.0 if jl < 0 else float(c_le[jl])
        lo, hi, f_lo = new_lo, new_hi, f_new
        count_in = below_hi - at_lo
    if any(a is None for a in answers):
        parts = [dask.delayed(_gather_block)(rb, wb, lo, hi)
                 for rb, wb in zip(r.to_delayed().ravel(), w.to_delayed().ravel(), strict=True)]
        got = np.concatenate(dask.compute(*parts), axis=1)
        passes += 1
        order = np.argsort(got[0], kind="stable")
        vals, cum = got[0][order], f_lo + np.cumsum(got[1][order])
        for i, (T, strict) in enumerate(targets):
            if answers[i] is None:
                j = np.searchsorted(cum, T, side="right" if strict else "left")
                answers[i] = float(vals[min(j, vals.size - 1)])
    med = 0.5 * (answers[0] + answers[1])
    return (med, {"passes": passes}) if return_info else med


class _ScaleOnDask:
    """The estimator's scale rule evaluated on persisted residuals (sums, never X)."""

    def __init__(self, rule, data, cap=None):
        self.rule = rule
        self.data = data
        self.cap = cap
        self.median_hint = None
        self.median_width = _HINT_WIDTH
        if not isinstance(rule, (FixedScale, MADScale, HuberProposal2Scale, JointScale)):
            raise NotImplementedError(f"the dask backend has no distributed version of the "
                                      f"scale rule {type(rule).__name__}")

    @property
    def fixed(self):
        return isinstance(self.rule, FixedScale)

    def mad(self, r):
        med = weighted_abs_median(r, self.data.w, self.data.total_weight, hint=self.median_hint,
                                  hint_width=self.median_width, count=self.data.n_pos,
                                  cap=self.cap)
        if self.median_hint is not None and med > 0:
            # the next bracket: a few times the last change (the iterations converge), and
            # wide enough for the middle order statistics (gaps of about 1 / n relatively)
            change = abs(math.log(med / self.median_hint)) if self.median_hint > 0 else 1.0
            self.median_width = min(max(4.0 * change, 200.0 / max(self.data.n_pos, 1)),
                                    _HINT_WIDTH)
        self.median_hint = med
        return max(med / MAD_NORMAL_CONSTANT, self.rule.floor)

    def initial(self, r):
        if self.fixed:
            return self.rule.value
        return self.mad(r)

    def update(self, r, scale):
        rule = self.rule
        if isinstance(rule, FixedScale):
            return rule.value
        if isinstance(rule, MADScale):
            return self.mad(r)
        if isinstance(rule, HuberProposal2Scale):
            return self._proposal2(r, scale)
        return self._joint(r, scale)

    def _proposal2(self, r, scale):
        # HuberProposal2Scale.update: Newton steps on the clipping pattern, one sum per step
        rule = self.rule
        w = self.data.w
        k2 = rule.k * rule.k
        dof = rule.degrees_of_freedom(self.data.total_weight)
        floor2 = rule.floor * rule.floor
        t = max(scale, rule.floor) ** 2
        for _ in range(200):
            w_out, s_in = _sum_rows(_proposal2_block, 2, r, w, t=t, k2=k2)
            denom = dof - k2 * w_out
            new = s_in / denom if denom > 0 else (s_in + k2 * t * w_out) / dof
            new = max(new, floor2)
            if abs(new - t) <= 1e-14 * t:
                return math.sqrt(new)
            t = new
        return math.sqrt(t)

    def _joint(self, r, scale):
        # JointScale.update: root of 2 sum w (u psi - rho) / w0 = sum w, falling in the scale
        rule = self.rule
        w = self.data.w
        total = self.data.total_weight
        w0 = rule.loss.weight_at_zero()

        def excess(s):
            a, b = _sum_rows(_joint_block, 2, r, w, scale=s, loss=rule.loss)
            return 2.0 * a / w0 - total, -2.0 * b / w0

        if excess(rule.floor)[0] <= 0:
            return rule.floor
        return decreasing_root(excess, scale, rule.floor)


def m_scale_dask(r, w, *, denom, nonzero_weight, scale0, floor, c=S_TUKEY_C, b=S_BREAKDOWN_B):
    """M-scale of persisted residuals: ``sum w rho_c(r/s) / denom = b`` (Tukey, sup 1).

    The equation of :func:`skrobust.solvers.fast_s.m_scale` (``denom = sum w - p``),
    solved by safeguarded Newton steps in ``log s``, each one reduction over ``r``.
    """
    if nonzero_weight <= b * denom:
        return floor
    loss = get_loss("tukey", c=c)
    top = loss.max_rho

    def fun(s):
        a, g = _sum_rows(_mscale_block, 2, r, w, scale=s, loss=loss)
        return a / top / denom - b, -g / top / denom

    return decreasing_root(fun, scale0, floor, tol=1e-13)


# ============================================================ solvers on dask
def _penalty(alpha, p, fit_intercept):
    pen = np.full(p, float(alpha))
    if fit_intercept:
        pen[-1] = 0.0
    return pen


def _objective(data_sum, beta, scale, w0, pen, total, joint):
    data = 2.0 * data_sum / w0
    penalty = float(np.dot(pen, beta * beta))
    if joint:
        return scale * (total + data) + penalty
    return scale * scale * data + penalty


def least_squares_dask(data, alpha):
    """(Ridge) least squares: one Gram pass."""
    _, st = data.irls_pass(np.zeros(data.p), 1.0, None)
    G = st.G.copy()
    G[np.diag_indices_from(G)] += _penalty(alpha, data.p, data.fit_intercept)
    return solve_normal_equations(G, st.h)


def irls_dask(data, loss, scaler, alpha, beta0, scale0=None, max_iter=100, tol=1e-8,
              verbose=0, label="irls"):
    """IRLS with one pass over X per iteration (the scale lags one step; same fixed point).

    ``verbose`` (an int or a :class:`~skrobust._progress.Progress`) prints one
    line per iteration under the phase ``label``.
    """
    progress = Progress.of(verbose)
    w0 = loss.weight_at_zero()
    pen = _penalty(alpha, data.p, data.fit_intercept)
    joint = bool(scaler.rule.penalty_in_scale_units)
    total = data.total_weight
    beta = np.array(beta0, dtype=np.float64)
    r_prev = None
    if scaler.fixed:
        scale = scaler.rule.value
    else:  # the in-memory first step: scale = update(r0, initial or given scale)
        r_prev, _ = data.residuals(beta)
        if scale0 is None:
            scale = scaler.initial(r_prev)
            if not isinstance(scaler.rule, MADScale):  # update == initial for the MAD
                scale = scaler.update(r_prev, scale)
        else:
            scale = scaler.update(r_prev, float(scale0))
    prev_scale = None
    history = []
    converged = False
    objective = math.nan
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        t_it = time.perf_counter()
        # the weight change (verbose only) costs a second weight evaluation per row
        r, st = data.irls_pass(beta, scale, loss, r_prev, prev_scale if progress else None)
        objective = _objective(st.data, beta, scale, w0, pen, total, joint)
        if not st.v_sum > 0:
            return SolverResult(beta, scale, n_iter, False, objective,
                                "every robustness weight is zero", history)
        change = math.sqrt(max(st.change2, 0.0) / total)
        done = (r_prev is not None and prev_scale is not None
                and change <= tol * scale + data.atol
                and abs(scale - prev_scale) <= tol * scale)
        G = st.G
        G[np.diag_indices_from(G)] += pen * (scale if joint else 1.0)
        beta = solve_normal_equations(G, st.h)
        if progress:
            history.append(progress.iteration(
                label, n_iter, objective, scale, step="irls",
                weight_change=st.weight_change / total, change=change,
                pass_time=time.perf_counter() - t_it))
        if done:
            converged = True
            break
        prev_scale = scale
        scale = scaler.update(r, scale)
        r_prev = r
    message = "" if converged else f"IRLS did not converge in {max_iter} iterations"
    progress.finish(label, converged, n_iter, message)
    return SolverResult(beta, scale, n_iter, converged, objective, message, history)


_ARMIJO = 1e-4
_MAX_BACKTRACK = 30


def _newton_point(data, st, beta, scale, pen, w0, joint, r):
    """Objective, gradient and Hessian at ``(beta, scale)`` from a Newton pass's sums.

    Also ``dgrad``, the derivative of the coefficient gradient in the scale
    (re-estimated scales only), from the extra Gram column ``A' diag(w psi') u``.
    """
    total = data.total_weight
    p = data.p
    penalty = float(np.dot(pen, beta * beta))
    data_sum = 2.0 * st.rho / w0
    if joint:
        f = scale * (total + data_sum) + penalty
        grad = np.append(-2.0 * st.xg / w0 + 2.0 * pen * beta,
                         total + data_sum - 2.0 * st.u_psi / w0)
        H = st.G * (2.0 / (w0 * scale))
        H[np.arange(p), np.arange(p)] += 2.0 * pen
        dgrad = None
    else:
        f = scale * scale * data_sum + penalty
        grad = -2.0 * scale * st.xg / w0 + 2.0 * pen * beta
        H = st.G[:p, :p] * (2.0 / w0)
        H[np.diag_indices_from(H)] += 2.0 * pen
        dgrad = 2.0 * (st.G[:p, p] - st.xg) / w0
    return SimpleNamespace(beta=np.asarray(beta, dtype=np.float64), scale=float(scale), f=f,
                           grad=grad, H=H, dgrad=dgrad, r=r, st=st)


def _rho_block(r, w, *, scale, loss):
    out = np.zeros((1, 1))
    out[0, 0] = np.dot(w, loss.rho(r / scale))
    return out


def newton_dask(data, loss, scaler, alpha, beta0, scale0=None, max_iter=100, tol=1e-8,
                verbose=0):
    """Newton steps with a backtracking line search (convex, symmetric losses).

    The dask version of the in-memory solver's Newton iteration, one pass
    over X per iteration when the full step is accepted: the pass that
    evaluates the trial point also returns the gradient and the Hessian for
    the next step.  For re-estimated scales (MAD, proposal 2) each iteration
    first re-estimates the scale from the persisted residuals, as in memory;
    the objective at the new scale is recomputed exactly from the residuals,
    and its gradient predicted to first order in the scale change (the pass
    returns the derivative), so the step needs no second pass over X; the
    line search then tests exact objective values.  The joint scale is a
    Newton variable.  A failed step falls back to the IRLS step.
    """
    from .solvers.design import cholesky_solve

    progress = Progress.of(verbose)

    w0 = loss.weight_at_zero()
    p = data.p
    pen = _penalty(alpha, p, data.fit_intercept)
    rule = scaler.rule
    joint = bool(rule.penalty_in_scale_units)
    adaptive = not (joint or scaler.fixed)
    floor = getattr(rule, "floor", 0.0)
    scale_secant = SecantScale(floor)  # as in memory (skrobust.solvers.mestimate)
    total = data.total_weight
    beta = np.array(beta0, dtype=np.float64)
    if scaler.fixed:
        scale = rule.value
    elif scale0 is None:
        r0, _ = data.residuals(beta)
        scale = scaler.initial(r0)
    else:
        scale = float(scale0)
    scale = max(scale, floor)

    def evaluate(beta, scale, r_prev=None, prev_scale=None):
        r, st = data.newton_pass(beta, scale, loss, joint, r_prev,
                                 prev_scale if progress else None)
        return _newton_point(data, st, beta, scale, pen, w0, joint, r)

    point = evaluate(beta, scale)
    if joint and point.scale <= floor:
        point = evaluate(beta, scaler.update(point.r, point.scale))
    history = []
    converged = False
    message = ""
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        t_it = time.perf_counter()
        scale_old = point.scale
        f0, grad, H = point.f, point.grad, point.H
        scale = point.scale
        if adaptive:
            scale = scale_secant(point.scale, scaler.update(point.r, point.scale))
            if scale != point.scale:
                rho = _sum_rows(_rho_block, 1, point.r, data.w, scale=scale, loss=loss)[0]
                f0 = scale * scale * 2.0 * rho / w0 + float(np.dot(pen, point.beta**2))
                grad = point.grad + point.dgrad * (scale - point.scale)
        new, t, step = None, 0.0, "newton"
        delta = cholesky_solve(H, -grad)
        if delta is not None and np.all(np.isfinite(delta)):
            slope = float(np.dot(grad, delta))
            if slope < 0:
                slack = 1e-12 * abs(f0)
                t = 1.0
                for _ in range(_MAX_BACKTRACK):
                    beta_t = point.beta + t * delta[:p]
                    scale_t = point.scale + t * delta[p] if joint else scale
                    if scale_t > floor or not joint:
                        trial = evaluate(beta_t, scale_t, point.r, point.scale)
                        if trial.f <= f0 + _ARMIJO * t * slope + slack:
                            new = trial
                            break
                    t *= 0.5
                else:
                    t = 0.0
        if new is None:  # the monotone IRLS step (the exact joint scale first)
            step, t = "irls", 0.0
            if joint:
                scale = scaler.update(point.r, point.scale)
            _, ist = data.irls_pass(point.beta, scale, loss)
            if not ist.v_sum > 0:
                message = "every robustness weight is zero"
                break
            G = ist.G
            G[np.diag_indices_from(G)] += pen * (scale if joint else 1.0)
            new = evaluate(solve_normal_equations(G, ist.h), scale, point.r, point.scale)
        change = math.sqrt(max(new.st.change2, 0.0) / total)
        done = ((t == 1.0 or step == "irls")
                and change <= tol * new.scale + data.atol
                and abs(new.scale - scale_old) <= tol * new.scale
                and (joint or n_iter > 1))
        if progress:
            history.append(progress.iteration(
                "irls", n_iter, new.f, new.scale, step=step,
                weight_change=new.st.weight_change / total, change=change,
                pass_time=time.perf_counter() - t_it))
        point = new
        if done:
            converged = True
            break
    if not converged and not message:
        message = f"IRLS did not converge in {max_iter} iterations"
    progress.finish("irls", converged, n_iter, message)
    return SolverResult(point.beta, point.scale, n_iter, converged, point.f, message, history)

def _lbfgs_ok(res, tol) -> bool:
    if res.success:
        return True
    return res.status == 2 and float(np.max(np.abs(res.jac))) <= max(100.0 * tol, 1e-8)


def lbfgs_dask(data, loss, scaler, alpha, beta0, scale0=None, max_iter=100, tol=1e-8,
               verbose=0):
    """L-BFGS-B on the client; one pass over X per evaluation (loss and gradient together)."""
    from scipy.optimize import minimize

    w0 = loss.weight_at_zero()
    p = data.p
    pen = _penalty(alpha, p, data.fit_intercept)
    total = data.total_weight
    sd = np.append(data.col_sd, 1.0) if data.fit_intercept else data.col_sd.copy()
    rule = scaler.rule
    joint = bool(rule.penalty_in_scale_units)
    beta = np.array(beta0, dtype=np.float64)
    history = []
    progress = Progress.of(verbose)
    options = {"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20}

    def report(norm, scale=None):
        """A callback printing the objective (times ``norm``) and the (fixed or joint) scale."""
        def callback(intermediate_result):  # scipy passes the iterate by this keyword
            if progress:
                s = float(intermediate_result.x[p]) if scale is None else scale
                history.append(progress.iteration("lbfgs", len(history) + 1,
                                                  float(intermediate_result.fun) * norm, s))
        return callback

    r = None
    if scaler.fixed:
        scale = rule.value
    else:
        r, _ = data.residuals(beta)
        scale = scaler.initial(r) if scale0 is None else float(scale0)
    if joint:
        floor = rule.floor

        def fun(x):
            b, s = x[:p] / sd, x[p]
            rho_sum, *rest = data.loss_and_grad(b, s, loss)
            a_psi, u_psi = np.asarray(rest[:p]), rest[p]
            dsum = 2.0 * rho_sum / w0
            value = s * (total + dsum) + float(np.dot(pen, b * b))
            g_beta = -2.0 * a_psi / w0 + 2.0 * pen * b
            g_scale = total + dsum - 2.0 * u_psi / w0
            return value / total, np.append(g_beta / sd, g_scale) / total

        x0 = np.append(beta * sd, max(scale, floor))
        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                       bounds=[(None, None)] * p + [(floor, None)], options=options,
                       callback=report(total))
        beta, scale = res.x[:p] / sd, float(res.x[p])
        ok = _lbfgs_ok(res, tol)
        if not ok:
            _, st = data.residuals(beta)
            ok = math.sqrt(st[0] / total) <= 1e3 * data.atol
        message = "" if ok else f"L-BFGS: {res.message}"
        progress.finish("lbfgs", ok, int(res.nit), message)
        return SolverResult(beta, scale, int(res.nit), ok, float(res.fun) * total, message,
                            history)

    n_iter = 0
    ok = False
    message = ""
    res = None
    next_scale = None
    secant = SecantScale(getattr(rule, "floor", 0.0))  # as in memory
    for outer in range(1, max_iter + 1):
        scale_old = scale
        if not scaler.fixed:
            scale = secant(scale, next_scale if next_scale is not None
                           else scaler.update(r, scale))
        norm = total * scale * scale

        def fun(theta, scale=scale, norm=norm):
            b = theta / sd
            rho_sum, *rest = data.loss_and_grad(b, scale, loss)
            value = scale * scale * 2.0 * rho_sum / w0 + float(np.dot(pen, b * b))
            grad = -2.0 * scale * np.asarray(rest[:p]) / w0 + 2.0 * pen * b
            return value / norm, grad / sd / norm

        res = minimize(fun, beta * sd, jac=True, method="L-BFGS-B", options=options,
                       callback=report(norm, scale))
        n_iter += int(res.nit)
        beta = res.x / sd
        r, st = data.residuals(beta)
        ok = _lbfgs_ok(res, tol) or math.sqrt(st[0] / total) <= 1e3 * data.atol
        message = "" if ok else f"L-BFGS: {res.message}"
        if scaler.fixed:
            break
        next_scale = scaler.update(r, scale)
        if abs(next_scale - scale) <= tol * scale:
            break
        if outer == max_iter:
            ok, message = False, f"scale did not settle in {max_iter} outer iterations"
        if abs(scale - scale_old) == 0 and outer > 1:
            break
    value = float(res.fun) * total * scale * scale if res is not None else math.nan
    progress.finish("lbfgs", ok, max(n_iter, 1), message)
    return SolverResult(beta, scale, max(n_iter, 1), ok, value, message, history)


# ============================================================ the estimator's fit
def _stratified_rows(n, m, seed=_WARM_START_SEED):
    """One random row in each of ``m`` equal strata of ``range(n)``: deterministic, sorted."""
    m = int(min(m, n))
    edges = (np.arange(m + 1, dtype=np.int64) * n) // m
    rng = np.random.default_rng(seed)
    return edges[:-1] + (rng.random(m) * np.diff(edges)).astype(np.int64)


def _sample_start(data, loss, rule, alpha, max_iter, tol, verbose):
    """Coefficients and scale of the in-memory fit on a stratified row sample (convex losses)."""
    from .solvers.mestimate import MProblem, irls

    progress = Progress.of(verbose)
    Xs, ys, ws = data.rows_at(_stratified_rows(data.n, WARM_START_ROWS))
    if not ws.sum() > 0:
        return least_squares_dask(data, alpha), None
    ws = ws * (data.total_weight / ws.sum())
    design = LinearDesign(Xs, data.fit_intercept)
    G, h = design.gram(ws, ys)
    G[np.diag_indices_from(G)] += _penalty(alpha, data.p, data.fit_intercept)
    beta = solve_normal_equations(G, h)
    progress.line("warm-start", f"in-memory fit on {Xs.shape[0]} sampled rows")
    sub = irls(MProblem(design, ys, ws, loss, rule, alpha), beta, None, max_iter=max_iter,
               tol=max(tol, 1e-6), verbose=progress, phase="warm-start")
    if np.all(np.isfinite(sub.beta)) and math.isfinite(sub.scale) and sub.scale > 0:
        return sub.beta, sub.scale
    return least_squares_dask(data, alpha), None


def _s_start(data, rng, s_sample_size, floor, verbose):
    """fast-S on a client-side row sample, then the full-data M-scale of its residuals."""
    progress = Progress.of(verbose)
    m = int(S_SAMPLE_SIZE if s_sample_size is None else s_sample_size)
    if m < 1:
        raise ValueError(f"s_sample_size must be a positive integer, got {s_sample_size!r}")
    Xs, ys, ws = data.sample(m, rng)
    progress.line("s-start", f"fast-S on {Xs.shape[0]} of {data.n} rows")
    # the S-scale's n - p counts observations
    s_fit = fast_s(LinearDesign(Xs, data.fit_intercept), ys, data.units.frequency_weights(ws),
                   random_state=rng, floor=floor, verbose=progress)
    beta = s_fit.beta
    if Xs.shape[0] < data.n:
        sample_scale = s_fit.scale
    else:
        sample_scale = None
    r, st = data.residuals(beta)
    scale = m_scale_dask(r, data.w, denom=data.total_weight - data.p * data.units.count,
                         nonzero_weight=st[1],
                         scale0=s_fit.scale, floor=floor)
    extra = "" if sample_scale is None else f" (sample S-scale {sample_scale:.6g})"
    progress.line("s-start", f"full-data M-scale {scale:.6g}{extra}")
    return beta, scale


def fit_dask(estimator, X, y, sample_weight=None, *, s_sample_size=None, persist=True,
             median_gather_cap=None):
    """Fit a :class:`~skrobust.RobustRegressor` on row-chunked dask arrays.

    Called by ``RobustRegressor.fit`` for dask input; the parameters of the
    estimator mean what they mean in memory.  Fitted attributes are NumPy
    values: ``coef_``, ``intercept_``, ``scale_``, ``loss_``, ``n_iter_``,
    ``n_features_in_`` and, after an S-start, ``s_coef_``,
    ``s_intercept_``, ``s_scale_``.  ``weights_`` and ``outliers_`` (one
    value per training row) are not stored: compute them lazily with
    :func:`robustness_weights`.

    Parameters
    ----------
    estimator : RobustRegressor
    X : dask array of shape (n_samples, n_features)
        Chunked by rows only (one column chunk), with known chunk sizes.
    y : dask array of shape (n_samples,)
        Chunked like ``X``'s rows (a NumPy ``y`` is chunked like ``X``, and
        embedded in the task graph: fine for small data only).
    sample_weight : dask array of shape (n_samples,), default=None
        Frequency weights, chunked like ``X``'s rows.
    s_sample_size : int, default=None
        Rows of the fast-S sample (``init="s"``); :data:`S_SAMPLE_SIZE` when None.
    persist : bool, default=True
        Persist ``X``, ``y`` and the weights for the fit (dropped on return),
        so the passes do not recompute them from their sources.
    median_gather_cap : int, default=None
        :data:`MEDIAN_GATHER_CAP` when None.

    Returns
    -------
    estimator : RobustRegressor
        Fitted.

    Raises
    ------
    ValueError
        Column-chunked ``X`` (suggests ``rechunk``), unknown chunk sizes
        (suggests ``compute_chunk_sizes()``), ``y``/``sample_weight``
        chunked differently from ``X``, NaN or infinity, negative weights.
    NotImplementedError
        ``loss="quantile"`` or ``init="lad"``.

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> dask = pytest.importorskip("dask")
    >>> import dask.array as da
    >>> from skrobust import RobustRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(4000, 3))
    >>> y = X @ [1.0, 2.0, 3.0] + rng.normal(size=4000)
    >>> y[:400] += 50.0
    >>> dX = da.from_array(X, chunks=(1000, 3))
    >>> dy = da.from_array(y, chunks=1000)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     mm = fit_dask(RobustRegressor(loss="tukey", random_state=0), dX, dy,
    ...                   s_sample_size=4000)
    >>> ref = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
    >>> bool(np.allclose(mm.coef_, ref.coef_, rtol=1e-6))
    True
    """
    est = estimator
    plan = fit_plan(est, backend="dask")  # raises for what dask input does not support
    loss, init = plan.loss, plan.init
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state

    progress = Progress(est.verbose, type(est).__name__)
    data = _Data(X, y, sample_weight, est.fit_intercept, persist=persist)
    # a warm start needs a previous fit of the same design (else the fit starts cold)
    warm = warm_start_applies(est, data.d) and hasattr(est, "coef_")
    previous_s = {name: est.__dict__.get(name) for name in ("s_coef_", "s_intercept_",
                                                            "s_scale_")}
    # a refit must not leave attributes of another fit behind (n-sized ones included)
    for name in ("s_coef_", "s_intercept_", "s_scale_", "weights_", "outliers_",
                 "feature_names_in_", "dual_coef_", "X_fit_", "nystroem_", "shape_"):
        est.__dict__.pop(name, None)
    est.n_features_in_ = data.d
    est._units = data.units
    rng = check_random_state(est.random_state)
    plan = plan.with_data(data.n_pos, data.p)
    init = plan.start
    rule = plan.scale_rule(data.floor, data.p, data.units)
    alpha = plan.alpha
    verbose = progress
    progress.line("validation", f"{data.n} samples x {data.d} features (dask)")
    progress.line("design", f"linear, {data.p} parameters")
    cap = median_gather_cap
    solver = plan.solver
    # convex, symmetric losses take Newton steps (as in memory); on large data they start
    # from an in-memory fit on a row sample (their optimum does not depend on the start)
    newton = bool(loss.convex) and bool(getattr(loss, "symmetric", True))
    warm_sample = (newton and solver == "irls" and init in ("ols", "auto")
                   and data.n >= WARM_START_MIN_ROWS)
    warm_rule = plan.warm_rule(rule, previous_s["s_scale_"], data.units) if warm else None
    if warm_rule is not None and plan.mm:  # a warm MM fit keeps its S-estimate
        est.__dict__.update({k: v for k, v in previous_s.items() if v is not None})
    if warm_rule is not None:
        beta0 = np.append(est.coef_, est.intercept_) if est.fit_intercept else est.coef_
        scale0, rule = est.scale_, warm_rule
    else:
        scale0 = None
        if init == "s":
            beta0, s_scale = _s_start(data, rng, s_sample_size, rule_floor(rule), verbose)
            coef, intercept = _split(beta0, data.fit_intercept)
            est.s_coef_, est.s_intercept_, est.s_scale_ = coef.copy(), intercept, s_scale
            scale0 = s_scale
            if est.scale == "auto":
                rule = FixedScale(s_scale)
        elif warm_sample:
            beta0, scale0 = _sample_start(data, loss, rule, alpha, est.max_iter, est.tol,
                                          verbose)
        else:
            beta0 = least_squares_dask(data, alpha)
            if init == "huber":
                beta0 = irls_dask(data, get_loss("huber"), _ScaleOnDask(rule, data, cap), alpha,
                                  beta0, None, max_iter=est.max_iter, tol=1e-6,
                                  verbose=progress, label="start").beta
            elif init == "gnc":
                for shape in loss.gnc_shapes():
                    stage = Barron(shape=float(shape), c=loss.c)
                    beta0 = irls_dask(data, stage, _ScaleOnDask(rule, data, cap), alpha, beta0,
                                      None, max_iter=est.max_iter, tol=1e-6,
                                      verbose=progress, label="start").beta
    scaler = _ScaleOnDask(rule, data, cap)
    if solver == "lbfgs":
        run = lbfgs_dask
    else:
        run = newton_dask if newton else irls_dask
    result = run(data, loss, scaler, alpha, beta0, scale0, max_iter=est.max_iter, tol=est.tol,
                 verbose=verbose)
    if not result.converged:
        warnings.warn(f"RobustRegressor did not converge: {result.message}. "
                      "Returning the last iterate; increase max_iter or check the data.",
                      ConvergenceWarning, stacklevel=3)
    coef, intercept = _split(result.beta, data.fit_intercept)
    est.coef_ = np.asarray(coef, dtype=np.float64).copy()
    est.intercept_ = float(intercept)
    est.scale_ = float(result.scale)
    est.loss_ = loss
    est.n_iter_ = int(max(result.n_iter, 1))
    est._design_signature = design_signature(est, data.d)
    if isinstance(loss, Barron):
        est.shape_ = float(loss.shape)
    # the private state the in-memory fit leaves for predict on NumPy input (a linear model)
    est._alpha, est._kernel_map, est._support = alpha, None, None
    progress.line("fit", f"done in {progress.elapsed():.3f} s")
    return est


def _split(beta, fit_intercept):
    if fit_intercept:
        return beta[:-1], float(beta[-1])
    return beta, 0.0


# ============================================================ prediction
def _check_predict_input(est, X):
    import dask.array as da
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    if _is_dataframe(X):
        raise TypeError("X is a dask DataFrame; pass X.to_dask_array(lengths=True)")
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise ValueError("Expected a 2-D dask array X")
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    if X.numblocks[1] != 1:
        raise ValueError(f"X is chunked along its columns ({X.numblocks[1]} column chunks); "
                         f"use X = X.rechunk({{1: {X.shape[1]}}})")
    _check_dense_chunks(X)
    return X


def predict_dask(estimator, X):
    """Lazy predictions for a dask ``X``: a dask array chunked like ``X``'s rows.

    Parameters
    ----------
    estimator : fitted RobustRegressor
    X : dask array of shape (n_samples, n_features), one column chunk

    Returns
    -------
    y_pred : dask array of shape (n_samples,)
        Nothing is computed until you ask (``.compute()``, ``.persist()``,
        ``da.to_zarr``...).

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from skrobust import RobustRegressor
    >>> y = np.arange(10.0) + 0.01 * np.sin(np.arange(10.0))  # not an exact fit
    >>> reg = RobustRegressor(loss="huber").fit(np.arange(10.0)[:, None], y)
    >>> pred = predict_dask(reg, da.arange(20.0, chunks=5)[:, None])
    >>> pred.chunks, np.round(pred[:3].compute(), 1)
    (((5, 5, 5, 5),), array([0., 1., 2.]))
    """
    X = _check_predict_input(estimator, X)
    return X.map_blocks(_predict_block, np.asarray(estimator.coef_, dtype=np.float64),
                        float(estimator.intercept_), drop_axis=1, dtype=np.float64,
                        meta=np.empty((0,)))


def _weights_block(X, y, *, coef, intercept, loss, scale, w0, threshold):
    r = y[:, 0] - _predict_block(X, coef, intercept)
    out = np.empty((r.shape[0], 2))
    out[:, 0] = np.clip(loss.weight(r / scale) / w0, 0.0, 1.0)
    out[:, 1] = np.abs(r) > threshold
    return out


def robustness_weights(estimator, X, y):
    """Lazy ``weights_`` and ``outliers_`` of a dask fit (they are not stored on the estimator).

    Parameters
    ----------
    estimator : fitted RobustRegressor
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples,), chunked like ``X``'s rows

    Returns
    -------
    weights : dask array of shape (n_samples,)
        ``weight(r / scale_) / weight(0)`` clipped to [0, 1], as ``weights_``.
    outliers : dask array of bool, shape (n_samples,)
        ``|r| > 2.5 scale_`` (``|r| > epsilon scale_`` for ``scale="joint"``),
        as ``outliers_`` (see :mod:`skrobust._outliers`).

    Examples
    --------
    >>> import numpy as np
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from skrobust import RobustRegressor
    >>> X, y = np.arange(20.0)[:, None], np.arange(20.0) + 0.1 * np.sin(np.arange(20.0))
    >>> y[3] = 100.0
    >>> reg = RobustRegressor(loss="huber").fit(X, y)
    >>> w, out = robustness_weights(reg, da.from_array(X, chunks=5), da.from_array(y, chunks=5))
    >>> bool(np.allclose(w.compute(), reg.weights_)), bool(out[3].compute())
    (True, True)
    """
    X = _check_predict_input(estimator, X)
    yd = _as_dask_vector(y, X, "y")
    loss = estimator.loss_
    kind, threshold = outlier_rule(estimator.scale, loss, estimator.scale_,
                                   adaptive=_regressor_adaptive(estimator),
                                   quantile=isinstance(loss, Quantile))
    if kind != "fixed":
        raise NotImplementedError("the outlier flags of an adaptive Barron or quantile fit use "
                                  "the median of the residuals; compute them in memory")
    both = X.map_blocks(_weights_block, yd[:, None], coef=np.asarray(estimator.coef_),
                        intercept=float(estimator.intercept_), loss=loss,
                        scale=float(estimator.scale_), w0=loss.weight_at_zero(),
                        threshold=threshold,
                        chunks=(X.chunks[0], (2,)), dtype=np.float64, meta=np.empty((0, 0)))
    return both[:, 0], both[:, 1].astype(bool)


__all__ = [
    "MEDIAN_GATHER_CAP",
    "S_SAMPLE_SIZE",
    "WARM_START_MIN_ROWS",
    "WARM_START_ROWS",
    "fit_dask",
    "predict_dask",
    "robustness_weights",
]
# is_dask_input, m_scale_dask and weighted_abs_median are importable building blocks of
# the backend, not part of its documented API
