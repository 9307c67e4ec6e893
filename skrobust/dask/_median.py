"""The exact weighted median of ``|r|`` of a chunked vector, by distributed selection.

No global sort and no rechunk: counting passes over the chunks narrow a
bracket around the median until it holds few enough rows to gather (see
:func:`weighted_abs_median`).  The gathered step is
:func:`skrobust.scale.weighted_median`'s, so the dask MAD equals the
in-memory one exactly.
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import njit
from ..scale.median import _middle
from ._reduce import rows_of, sum_rows

MEDIAN_GATHER_CAP = 100_000
"""The selection gathers the values of the last bracket once it holds at most this many rows."""

_MAX_EDGES = 2048  # counting edges of a selection pass
_MAX_SELECTION_ROUNDS = 30
_HINT_WIDTH = 0.25  # relative half-width of the first bracket around a hinted median
_SKETCH_MIN = 32  # local quantiles returned per chunk by a sketch pass
_SLOT_VALUES = 32_768  # values of |r| inside a pass's counting edges it keeps (all chunks)


def _inside(r, w, lo, hi):
    a = np.abs(r)
    return a, (w > 0) & (a > lo) & (a < hi)


@njit(nogil=True)
def _bin_counts(r, w, lo, hi, edges, k):  # pragma: no cover - compiled
    """Per bin ``j`` of ``|r|`` in ``(lo, hi)`` (``j`` edges below; positive ``w``): weights,
    weights of the values equal to edge ``j``, rows, rows equal to edge ``j``; and the count
    and first ``k`` values and weights strictly inside the edges, in row order."""
    E, e0, e1 = edges.size, edges[0], edges[-1]
    out, kept, inside = np.zeros((4, E + 1)), np.zeros(1 + 2 * k), np.empty(r.size, np.int64)
    w_lo = w_hi = n_lo = n_hi = 0.0
    m = 0
    for i in range(r.size):  # the two end bins without branches, in row order as bincount
        a = abs(r[i])
        if w[i] > 0 and a > lo and a < hi:
            below, above = a <= e0, a > e1
            w_lo, n_lo = w_lo + (w[i] if below else 0.0), n_lo + (1.0 if below else 0.0)
            w_hi, n_hi = w_hi + (w[i] if above else 0.0), n_hi + (1.0 if above else 0.0)
            inside[m] = i
            m += 0 if below or above else 1
            if a == e0:
                out[1, 0], out[3, 0] = out[1, 0] + w[i], out[3, 0] + 1.0
    out[0, 0], out[2, 0], out[0, E], out[2, E] = w_lo, n_lo, w_hi, n_hi
    for i in inside[:m]:
        a, j, top = abs(r[i]), 0, E
        while j < top:  # searchsorted(edges, a, "left")
            mid = (j + top) // 2
            j, top = (mid + 1, top) if edges[mid] < a else (j, mid)
        if edges[j] == a:  # one bin up in the "right" counts
            out[1, j], out[3, j] = out[1, j] + w[i], out[3, j] + 1.0
        if a < e1 and kept[0] < k:
            kept[1 + int(kept[0])], kept[1 + k + int(kept[0])] = a, w[i]
        kept[0] += 1.0 if a < e1 else 0.0
        out[0, j], out[2, j] = out[0, j] + w[i], out[2, j] + 1.0
    return out, kept


def _count_block(r, w, *, lo, hi, edges, slots=0):
    """Weighted and plain counts of ``|r|`` inside ``(lo, hi)`` binned at ``edges``.

    Bin ``j`` of the "left" counts holds the values with ``j`` edges below
    them (``searchsorted(edges, a, "left")``), bin ``j`` of the "right" counts
    those with ``j`` edges at or below them; the two differ only for values
    equal to an edge.  Returns ``[left weights, right weights, left counts,
    right counts]``, each of length ``len(edges) + 1``, as a row, and with
    ``slots`` the values inside the edges (:func:`_from_slots`).
    """
    c, kept = _bin_counts(r, w, float(lo), float(hi), edges, slots)
    moved = np.hstack([np.zeros((2, 1)), c[[1, 3], :-1]])
    out = np.concatenate([c[0], c[0] - c[1] + moved[0], c[2], c[2] - c[3] + moved[1]])[None, :]
    return (out, kept) if slots else out


def _from_slots(slots, edges, lo, hi):
    """The values and weights of ``|r|`` in ``(lo, hi)`` from the chunks' kept values (rows of
    ``[count, values, weights]``, in chunk order as a gather returns them), or None when the
    bracket is not inside the edges or a chunk had more values than it kept."""
    k = (slots.shape[1] - 1) // 2
    if not (edges[0] <= lo and hi <= edges[-1]) or np.any(slots[:, 0] > k):
        return None
    take = np.arange(k)[None, :] < slots[:, :1]
    values, weights = slots[:, 1:1 + k][take], slots[:, 1 + k:][take]
    inside = (values > lo) & (values < hi)
    return values[inside], weights[inside]


def hint_edges(hint, width):
    """The counting edges of a first round around a hinted median."""
    return hint * np.exp(np.linspace(-width, width, _MAX_EDGES))


def _sketch_block(r, w, *, lo, hi, k):
    """``[count, k local quantiles]`` of ``|r|`` inside ``(lo, hi)`` (positive weights)."""
    a, sel = _inside(r, w, lo, hi)
    out = np.full((1, 1 + k), np.nan)
    out[0, 0] = np.count_nonzero(sel)
    if out[0, 0]:
        out[0, 1:] = np.quantile(a[sel], np.linspace(0.0, 1.0, k), method="inverted_cdf")
    return out


def _sketched_edges(r, w, lo, hi):
    """``(rows inside (lo, hi), edges)``: up to 2048 of the chunks' local quantiles, values of
    ``|r|`` themselves (so that a heap of equal values becomes an edge)."""
    k = int(min(max(_SKETCH_MIN, -(-2 * _MAX_EDGES // len(r.chunks[0]))), _MAX_EDGES))
    sketch = rows_of(_sketch_block, 1 + k, r, w, lo=lo, hi=hi, k=k).compute()
    values = sketch[:, 1:][np.isfinite(sketch[:, 1:])]
    if values.size > _MAX_EDGES:
        values = np.quantile(values, np.linspace(0.0, 1.0, _MAX_EDGES), method="inverted_cdf")
    return float(sketch[:, 0].sum()), np.unique(values)


def _narrow(counts, edges, lo, hi, f_lo, f_hi, targets):
    """The bracket's bins that hold the targets: ``(lo, hi, F(lo), F(hi), rows inside)``."""
    E = edges.size
    F = f_lo + np.cumsum(counts[:E])  # F(e): the weight of the values <= e
    F_below = f_lo + np.cumsum(counts[E + 1:2 * E + 1])  # the weight of the values < e
    c_le = np.cumsum(counts[2 * E + 2:3 * E + 3])  # rows <= e (inside the bracket)
    c_lt = np.cumsum(counts[3 * E + 3:])  # rows < e
    jl, jh = (np.searchsorted(F, T, side="right" if strict else "left") for T, strict in targets)
    # the lower end: the edge below the lower target's bin, or that bin's edge when it is the
    # lower answer (so that a heap of equal values there is not inside the next bracket)
    ja = jl if jl < E and not F_below[jl] >= targets[0][0] else jl - 1
    if ja >= 0:
        lo, f_lo = float(edges[ja]), float(F[ja])
    if jh < E:
        hi, f_hi = float(edges[jh]), float(F[jh])
    return lo, hi, f_lo, f_hi, float(c_lt[jh] - (c_le[ja] if ja >= 0 else 0.0))


def _gather_block(r, w, lo, hi):
    a, sel = _inside(r, w, lo, hi)
    return np.stack([a[sel], w[sel]])


def weighted_abs_median(r, w, total_weight=None, *, hint=None, hint_width=_HINT_WIDTH,
                        count=None, cap=None, return_info=False, counted=None):
    """Exact weighted median of ``|r|`` by distributed selection (no global sort, no rechunk).

    Uses :func:`skrobust.scale.weighted_median`'s definition: with
    ``T = sum(w) / 2`` and ``F(x)`` the weight of the values ``<= x``, the
    mean of ``min{x : F(x) >= T - tol}`` and ``min{x : F(x) > T + tol}``
    (``tol = 1e-12 sum(w)``), which is ``np.median`` for equal weights.
    Zero-weight values are ignored.

    Each round counts the weights of ``|r|`` per chunk at up to 2048 edges
    inside the bracket, which narrows it to the bins holding the two targets
    (a target that is an edge becomes an end, so that a heap of equal values
    there stays out).  The edges are the chunks' local quantiles inside the
    bracket (a sketch pass), or in a first round edges around ``hint`` (the
    previous median).  Once the open bracket holds at most ``cap`` rows
    (:data:`MEDIAN_GATHER_CAP`), its values and weights are gathered and the
    median is read off them and the bracket's ends by the in-memory code.
    For 2e7 rows: with a hint one counting pass and the gather, without a
    sketch, a counting pass and the gather.

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
    counted : tuple, default=None
        ``(edges, counts)`` or ``(edges, counts, slots)``: the first round's counts
        (:func:`_count_block` over all values) computed by another pass over ``r``, and
        its values inside the edges (:func:`_from_slots`): no gather when they hold the
        bracket.

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
    half, tol = 0.5 * total_weight, 1e-12 * total_weight
    targets = ((half - tol, False), (half + tol, True))  # F(x) >= T, or F(x) > T
    # the open bracket (lo, hi) and F at its ends: the answers are its ends or values in it
    lo, hi, f_lo, f_hi = -math.inf, math.inf, 0.0, total_weight
    rows = math.inf if count is None else float(count)
    edges, counts, *slots = counted if counted is not None else (None, None)
    kept = (slots[0], edges) if slots else None
    if edges is None and hint is not None and hint > 0 and math.isfinite(hint):
        edges = hint_edges(hint, hint_width)
    passes = 0
    for _round in range(_MAX_SELECTION_ROUNDS):
        got = None if kept is None else _from_slots(*kept, lo, hi)
        if rows <= cap or got is not None:
            break
        if edges is None:
            rows, edges = _sketched_edges(r, w, lo, hi)
            passes += 1
            if rows <= cap:
                break
        if counts is None:
            counts = sum_rows(_count_block, 4 * (edges.size + 1), r, w, lo=lo, hi=hi,
                              edges=edges)
            passes += 1
        lo, hi, f_lo, f_hi, rows = _narrow(counts, edges, lo, hi, f_lo, f_hi, targets)
        edges = counts = None
    values, weights = np.empty((2, 0)) if got is None else got
    if got is None and rows > 0:  # (none: the answers are the bracket's ends)
        parts = [dask.delayed(_gather_block)(rb, wb, lo, hi) for rb, wb in
                 zip(r.to_delayed().ravel(), w.to_delayed().ravel(), strict=True)]
        values, weights = np.concatenate(dask.compute(*parts), axis=1)
        passes += 1
    order = np.argsort(values, kind="stable")
    med = _middle(np.concatenate([[lo], values[order], [hi]]),
                  np.concatenate([[f_lo], f_lo + np.cumsum(weights[order]), [f_hi]]),
                  total_weight)
    return (med, {"passes": passes}) if return_info else med
