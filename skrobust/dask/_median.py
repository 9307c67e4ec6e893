"""The exact weighted median of ``|r|`` of a chunked vector, by distributed selection.

No global sort and no rechunk: passes over the chunks narrow a bracket
around the median until it holds few enough rows to gather (see
:func:`weighted_abs_median`).  The definition is
:func:`skrobust.scale.weighted_median`'s, so the dask MAD equals the
in-memory one exactly.
"""

from __future__ import annotations

import math

import numpy as np

from ._reduce import rows_of, sum_rows

MEDIAN_GATHER_CAP = 100_000
"""The selection gathers the values of the last bracket once it holds at most this many rows."""

_SKETCH_MIN = 32  # local quantiles returned per chunk by a sketch pass
_MAX_EDGES = 2048  # counting edges of a selection pass
_MAX_SELECTION_ROUNDS = 30
_HINT_WIDTH = 0.25  # relative half-width of the first bracket around a hinted median


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

def hint_edges(hint, width):
    """The counting edges of a first round around a hinted median."""
    return hint * np.exp(np.linspace(-width, width, _MAX_EDGES))


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
    counted : tuple, default=None
        ``(edges, counts)``: the first round's counts (:func:`_count_block` over all
        values), computed by another pass over ``r``.

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
        if _round == 0 and counted is not None:
            edges, cnt = counted
        elif _round == 0 and hint is not None and hint > 0 and math.isfinite(hint):
            edges = hint_edges(hint, hint_width)
        else:
            k = int(min(max(_SKETCH_MIN, -(-2 * _MAX_EDGES // nb)), _MAX_EDGES))
            sk = rows_of(_sketch_block, 3 + k, r, w, lo=lo, hi=hi, k=k).compute()
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
        if not (_round == 0 and counted is not None):
            cnt = sum_rows(_count_block, 4 * (E + 1), r, w, lo=lo, hi=hi, edges=edges)
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


