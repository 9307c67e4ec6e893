"""Dask input: layout checks without computing, and the one validation pass of a fit.

:func:`check_layout` refuses what the fit cannot use (column chunks, unknown
chunk sizes, misaligned ``y`` or weights, sparse chunks, DataFrames) with a
message that says what to do; :class:`DaskData` persists the inputs and runs
one pass that counts non-finite values and negative weights and returns the
sums a fit needs (total weight, scale floor, column moments).
"""

from __future__ import annotations

import math

import numpy as np

from .._units import FitUnits, power_of_two_unit
from ._reduce import rows_of


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


def _validate_block(X, y, w):
    """One row: counts of non-finite values and negative weights, then sums for the fit."""
    X = _block(X)
    _check_lengths(X, y, w)
    out = np.zeros((1, 9))
    out[0, :3] = [a.size - np.count_nonzero(np.isfinite(a)) for a in (X, y, w)]
    out[0, 3] = np.count_nonzero(w < 0)
    pos = w > 0
    if out[0, :4].any() or not pos.any():
        return out
    out[0, 4:] = w.sum(), np.count_nonzero(pos), np.dot(w, y), np.dot(w, y * y), \
        np.abs(y[pos]).max()
    return out


def _moments_block(X, w, *, d):
    """``[mean, sum of squared deviations]`` of the positive-weight rows' columns."""
    X = _block(X)
    out = np.zeros((1, 2 * d))
    pos = w > 0
    k = int(np.count_nonzero(pos))
    if k:
        Xp = np.ascontiguousarray(X) if k == X.shape[0] else X[pos]  # no copy of a C chunk
        out[0, :d] = mean = Xp.mean(axis=0)
        dev = Xp - mean
        out[0, d:] = np.square(dev, out=dev).sum(axis=0)
    return out


class DaskData:
    """The persisted inputs of a dask fit and the sums every step needs (never stored)."""

    def __init__(self, X, y, sample_weight, fit_intercept):
        import dask

        X, y, w = check_layout(X, y, sample_weight)
        # frequency weights in units where the largest is of order one (skrobust._units), so
        # the sums of weights up to 1e300 neither overflow nor underflow; one pass over w
        unit = 1.0 if sample_weight is None else power_of_two_unit(float(w.max().compute()))
        self.units = FitUnits(None, 1.0, unit)
        if unit != 1.0:
            w = w / unit
        X, y, w = dask.persist(*(a.map_blocks(_aligned, dtype=a.dtype, meta=a._meta)
                                 for a in (X, y, w)))
        self.X, self.y, self.w = X, y, w
        self.rows = tuple(int(c) for c in X.chunks[0])
        self.n, self.d = int(X.shape[0]), int(X.shape[1])
        self.fit_intercept = bool(fit_intercept)
        self.p = self.d + int(self.fit_intercept)
        self._moments = None
        parts = rows_of(_validate_block, 9, X, y, w).compute()
        bad = parts[:, :4].sum(axis=0)
        for name, k in zip(("X", "y", "sample_weight"), bad, strict=False):
            if k:
                raise ValueError(f"Input {name} contains NaN or infinity ({int(k)} non-finite "
                                 "values).")
        if bad[3]:
            raise ValueError("Negative values in data passed to sample_weight.")
        self.total_weight = float(parts[:, 4].sum())
        if not self.total_weight > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero")
        counts = parts[:, 5]
        self.pos_counts = tuple(int(k) for k in counts)
        self.n_pos = int(counts.sum())
        mean_y = float(parts[:, 6].sum()) / self.total_weight
        self.atol = 1e-12 * math.sqrt(float(parts[:, 7].sum()) / self.total_weight) + 1e-300
        # the scale floor of skrobust.scale.scale_floor: max(1e-10 spread, 1e-12 max|y|)
        spread = float((w * abs(y - mean_y)).sum().compute()) / self.total_weight
        magnitude = float(parts[:, 8].max())
        self.floor = max(1e-10 * spread, 1e-12 * magnitude, 1e-300)

    def column_moments(self):
        """Column means and standard deviations over the positive-weight rows (one pass when
        first asked), used only to condition L-BFGS, as in memory: the chunks' moments
        combined (Chan et al.; one chunk: its own)."""
        if self._moments is None:
            d, counts = self.d, np.asarray(self.pos_counts, dtype=np.float64)
            parts = rows_of(_moments_block, 2 * d, self.X, self.w, d=d).compute()
            share = (counts / max(self.n_pos, 1))[:, None]
            means = parts[:, :d]
            mean = (share * means).sum(axis=0)
            m2 = parts[:, d:].sum(axis=0) + (counts[:, None] * (means - mean) ** 2).sum(axis=0)
            sd = np.sqrt(m2 / max(self.n_pos, 1))
            self._moments = mean, np.where(sd > 0, sd, 1.0)
        return self._moments

    def positive_rows(self, picked=None):
        """The positive-weight rows at the sorted positions ``picked`` among them (all of them
        when None), gathered to the client by one task per chunk that holds some."""
        import dask

        picked = None if picked is None else np.asarray(picked, dtype=np.int64)
        starts = np.cumsum((0,) + self.pos_counts)
        cut = starts if picked is None else np.searchsorted(picked, starts)
        parts = [dask.delayed(_take_rows)(*blocks, None if picked is None else picked[a:b] - s)
                 for *blocks, a, b, s in zip(self.X.to_delayed().ravel(), self.y.to_delayed(),
                                             self.w.to_delayed(), cut[:-1], cut[1:], starts,
                                             strict=False) if b > a]
        taken = np.concatenate(dask.compute(*parts) if parts else [np.empty((0, self.d + 2))])
        return (np.ascontiguousarray(taken[:, :self.d]), *map(np.ascontiguousarray, taken.T[-2:]))


def _take_rows(X, y, w, picked):
    """``[X, y, w]`` at the chunk's positive-weight rows ``picked`` among them (None: all)."""
    rows = np.flatnonzero(w > 0) if picked is None else np.flatnonzero(w > 0)[picked]
    return np.column_stack([_block(X)[rows], y[rows], w[rows]])


def _aligned(block):
    """The chunk, or an aligned copy (NumPy skips BLAS on a misaligned one: 20-40x slower)."""
    return block.copy() if isinstance(block, np.ndarray) and not block.flags.aligned else block


def _check_rows_known(a, name):
    if any(math.isnan(c) for c in a.chunks[0]):
        raise ValueError(f"{name} has unknown chunk sizes (NaN in {name}.chunks); call "
                         f"{name} = {name}.compute_chunk_sizes() first (one pass), or build it "
                         "with known lengths, e.g. ddf.to_dask_array(lengths=True).")


def _as_dask_vector(a, X, name):
    import dask.array as da
    from sklearn.utils import check_consistent_length

    if a is None:
        return da.ones(X.shape[0], chunks=(X.chunks[0],), dtype=np.float64)
    if _is_dataframe(a):
        raise TypeError(f"{name} is a dask DataFrame/Series; pass a dask array, e.g. "
                        f"{name}.to_dask_array(lengths=True), chunked like X.")
    in_memory = not isinstance(a, da.Array)
    a = da.asarray(a)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {a.shape}")
    _check_rows_known(a, name)
    check_consistent_length(X, a)
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if in_memory:  # embedded in the graph: fine for small n, pass a dask array for large data
        return a.rechunk((X.chunks[0],))
    if tuple(a.chunks[0]) != tuple(X.chunks[0]):
        raise ValueError(f"{name} is chunked differently from X's rows ({name}.chunks[0] = "
                         f"{_short(a.chunks[0])}, X.chunks[0] = {_short(X.chunks[0])}); "
                         f"rechunk it: {name} = {name}.rechunk((X.chunks[0],))")
    return a


def _short(chunks):
    chunks = tuple(chunks)
    return str(chunks) if len(chunks) <= 6 else f"({chunks[0]}, {chunks[1]}, ..., {chunks[-1]})"


def _is_dataframe(a) -> bool:
    mod = type(a).__module__
    return mod.startswith(("dask.dataframe", "dask_expr", "dask_cudf"))


def check_x(X):
    """Check a dask ``X`` for a fit or a prediction: a 2-D numeric array of dense chunks,
    chunked by rows only."""
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
    if not isinstance(getattr(X, "_meta", np.empty(0)), np.ndarray):  # e.g. scipy.sparse
        raise TypeError(_SPARSE_CHUNKS.format(kind=type(X._meta).__name__))
    if X.numblocks[1] != 1:
        raise ValueError(f"X is chunked along its columns ({X.numblocks[1]} column chunks); "
                         f"the dask backend needs whole rows in every chunk: use "
                         f"X = X.rechunk({{1: {X.shape[1]}}}) (row chunks of 10-500 MB work "
                         "well).")
    return X


def check_layout(X, y, sample_weight):
    """Check shapes and chunking without computing anything; float64 lazy inputs."""
    check_x(X)
    _check_rows_known(X, "X")
    if 0 in X.shape:
        raise ValueError(f"Found array with 0 sample(s) or feature(s) (shape={X.shape}) while "
                         "a minimum of 1 is required.")
    if y is None:
        raise ValueError("y is required (got None)")
    y = _as_dask_vector(y, X, "y")
    w = _as_dask_vector(sample_weight, X, "sample_weight")
    return _drop_empty_chunks(X.astype(np.float64, copy=False), y.astype(np.float64, copy=False),
                              w.astype(np.float64, copy=False))

