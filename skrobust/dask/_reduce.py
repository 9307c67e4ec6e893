"""Blockwise passes over row chunks and their tree sums: the dask reducer.

A chunk kernel is a module-level function of NumPy chunks (it pickles by
reference, runs in the workers and never writes into its inputs) returning
one row of sums per chunk; the rows are tree-summed (fan-in
:data:`SPLIT_EVERY`) and computed, one graph per pass.  :class:`DaskRows` is
the :class:`~skrobust.scale.Reducer` the scale rules sum through.
"""

from __future__ import annotations

import math

import numpy as np

from ..scale import Reducer

SPLIT_EVERY = 8
"""Fan-in of the tree reductions of the per-chunk sums."""


def _indexed(arrays):
    """blockwise's ``(array, index)`` pairs, flat: rows ``i`` (and columns ``j``)."""
    return [x for a in arrays for x in (a, None if a is None else "ij"[:a.ndim])]


def rows_of(fn, L, *arrays, **kwargs):
    """A lazy ``(n_chunks, L)`` array: one row per chunk from ``fn(*chunks, **kwargs)``."""
    import dask.array as da

    # concatenate=False: a kernel gets X's single column block in a list (no copy)
    return da.blockwise(fn, "ik", *_indexed(arrays), new_axes={"k": L}, adjust_chunks={"i": 1},
                        concatenate=False, dtype=np.float64, meta=np.empty((0, 0)), **kwargs)


def sum_rows(fn, L, *arrays, **kwargs) -> np.ndarray:
    """Tree-sum of the per-chunk rows, computed: one pass, a length-``L`` vector."""
    return rows_of(fn, L, *arrays, **kwargs).sum(axis=0, split_every=SPLIT_EVERY).compute()


def _part(b, L, part, block_info=None):
    """The residuals, the kept values or the sums (a row) of a packed ``[r, kept, sums]``."""
    end = b.shape[0] - L
    size = block_info[None]["chunk-shape"][0]
    return b[end:][None, :] if part == "sums" else b[:size] if part == "r" else b[end - size:end]


def packed_pass(fn, L, rows, *arrays, kept=None, **kwargs):
    """Run a kernel returning ``[r, kept, sums]`` per chunk, one graph and one task per chunk:
    persisted ``r``, the tree-summed sums (length ``L``) and the kept parts in chunk order
    (``kept``: their lengths per chunk; None: no kept part)."""
    import dask
    import dask.array as da

    kept_rows = (0,) * len(rows) if kept is None else tuple(kept)
    sizes = tuple(m + k + L for m, k in zip(rows, kept_rows, strict=True))
    # align_arrays=False: the arrays pair block by block (the sample positions are chunked
    # by the rows they fall in, not like the rows)
    packed = da.blockwise(fn, "i", *_indexed(arrays), adjust_chunks={"i": sizes}, concatenate=False,
                          align_arrays=False, dtype=np.float64, meta=np.empty((0,)), L=L,
                          **kwargs)
    out = [packed.map_blocks(_part, L=L, part="r", chunks=(rows,), dtype=np.float64,
                             meta=np.empty((0,))),
           packed.map_blocks(_part, L=L, part="sums", chunks=((1,) * len(rows), (L,)),
                             new_axis=1, dtype=np.float64, meta=np.empty((0, 0))).sum(
                                 axis=0, split_every=SPLIT_EVERY)]
    if kept is not None:
        out.append(packed.map_blocks(_part, L=L, part="kept", chunks=(kept_rows,),
                                     dtype=np.float64, meta=np.empty((0,))).rechunk(-1))
    out = dask.persist(*out)
    return out[0], _value(out[1]), None if kept is None else _value(out[2])


def _value(persisted):
    """A persisted one-chunk array's value: on a cluster its future's result (no second
    graph), else (local schedulers) the array computed in place."""
    try:
        from distributed import futures_of
        futures = futures_of(persisted)
    except ImportError:  # pragma: no cover - dask without distributed
        futures = []
    return futures[0].result() if len(futures) == 1 else persisted.compute()


def _sum_block(r, w, *, row_sums, size, **kwargs):
    out = np.zeros((1, size))
    if r.shape[0]:
        out[0] = row_sums(r, w, **kwargs)
    return out


class DaskRows(Reducer):
    """The weights of a dask fit: the scale rules' sums as tree sums over the chunks.

    ``abs_median`` is the exact weighted median
    (:func:`~skrobust.dask._median.weighted_abs_median`); the bracket around
    the previous median narrows as the iterations converge.
    """

    def __init__(self, w, total, n_positive, cap=None):
        self.w, self.total, self.n_positive, self.cap = w, float(total), int(n_positive), cap
        self._width = None
        self._counted = None  # (residuals, guess, edges, counts, kept values) from a pass

    def sum(self, fn, size, residuals, **kwargs) -> np.ndarray:
        return sum_rows(_sum_block, size, residuals, self.w, row_sums=fn, size=size, **kwargs)

    def next_edges(self, guess):
        """``(edges, slots)``: the edges of the first counting round of ``abs_median(r,
        guess)`` and the values inside them to keep per chunk: a pass that makes ``r`` can
        count them (:meth:`counted`), which saves that round its pass, and the gather's."""
        from ._median import _HINT_WIDTH, _SLOT_VALUES, MEDIAN_GATHER_CAP, hint_edges

        if self.n_positive <= (MEDIAN_GATHER_CAP if self.cap is None else self.cap):
            return None, 0  # gathered at once
        return (hint_edges(guess, _HINT_WIDTH if self._width is None else self._width),
                -(-_SLOT_VALUES // len(self.w.chunks[0])))

    def counted(self, residuals, guess, edges, counts, values):
        self._counted = (residuals, guess, edges, counts, values)

    def abs_median(self, residuals, guess=None) -> float:
        from ._median import _HINT_WIDTH, weighted_abs_median

        width = _HINT_WIDTH if self._width is None or guess is None else self._width
        c = self._counted
        counted = c[2:] if c is not None and c[0] is residuals and c[1] == guess else None
        med = weighted_abs_median(residuals, self.w, self.total, hint=guess, hint_width=width,
                                  count=self.n_positive, cap=self.cap, counted=counted)
        if guess is not None and guess > 0 and med > 0:
            # the next bracket: a few times the last change (the iterations converge), and
            # wide enough for the middle order statistics (gaps of about 1 / n relatively)
            self._width = min(max(4.0 * abs(math.log(med / guess)),
                                  200.0 / max(self.n_positive, 1)), _HINT_WIDTH)
        return med
