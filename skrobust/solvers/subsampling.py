"""Elemental subsets for the S-estimator: exact fits on ``p`` rows of the design.

Two ways to draw them (``method`` of :func:`elemental_fits`):

- ``"nonsingular"`` (the default, robustbase's ``subsampling = "nonsingular"``,
  Koller & Stahel 2017): each subset is built row by row in a uniformly random
  order.  A candidate row is reduced against the rows already taken (Gaussian
  elimination with partial pivoting on the transposed subset: each accepted
  row's pivot is its largest remaining entry, so every multiplier is at most 1)
  and is skipped when its remaining entries are all below ``SINGULAR_TOL`` of
  its largest entry, i.e. when it does not raise the rank.  Every finished
  subset has full rank, so no draw is wasted; only a design whose rows span
  fewer than ``p`` dimensions leaves subsets unfinished.  This is what makes
  one-hot designs with rare levels work: a uniformly drawn ``p``-subset misses
  some level almost always.
- ``"simple"``: ``p`` rows drawn uniformly, singular subsets skipped and
  counted (the classic fast-S draw; robustbase's ``subsampling = "simple"``).

Columns are equilibrated (divided by their root mean square) first, so the
rank decision does not depend on the units of the columns.  The random order
comes from the caller's NumPy ``Generator`` (draws with replacement whose
repeats are skipped: that is a uniformly random order without replacement),
so a ``random_state`` reproduces every subset.  Small batches of subsets (500
subsets of up to 7 rows) are built in NumPy, so that a fresh process need not
compile the numba kernel that builds the larger ones; both give the same subsets
bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import njit

SINGULAR_TOL = 1e-10
"""A row whose reduced entries are all below this fraction of its largest entry does not raise
the rank.  Exact dependencies (one-hot levels, duplicates) leave ~1e-16; the threshold is that
of the "simple" draw's rank test, so that smooth, nearly dependent designs (kernel principal
components) still find subsets."""

_SIMPLE_RCOND = 1e-10  # "simple": subsets with s_min <= this * s_max (equilibrated) are singular
_MAX_DRAW_FACTOR = 20  # "simple": at most this many times n_subsets draws
_BATCH_BUDGET = 4_000_000  # largest (subsets x p**2) stack of "simple" subsets at once


_NUMPY_WORK = 1_000_000  # subsets x draws x p**2 up to which NumPy builds the subsets
_NUMPY_WINDOW = 2  # NumPy eliminates the first p + this many rows of the streams first


def _build_subsets(A, y, draws, tol, betas, done):
    """Row-by-row elimination of the rows ``draws[s]`` into subset ``s``; returns rows skipped.

    ``betas[s]`` receives the exact fit of the first ``p`` rows of ``draws[s]``
    that raise the rank (repeated indices are ignored), and ``done[s]`` whether
    ``p`` such rows were found.  Small batches (at most ``_NUMPY_WORK`` of
    ``n_subsets x n_draws x p**2``, e.g. 500 subsets of 6 rows) run
    :func:`_build_subsets_numpy`, which a fresh process need not compile; larger
    ones the numba kernel.  Both give bit-identical results.
    """
    m, p = A.shape
    if draws.size * p * p <= _NUMPY_WORK:
        return _build_subsets_numpy(A, y, draws, tol, betas, done)
    # work arrays allocated here, not in the kernel: NumPy's allocators compiled into a
    # kernel cost a fresh process a quarter of a second
    U = np.empty((p, p))  # reduced rows; row k is zero in the pivot columns of rows < k
    seen = np.full(m, -1, dtype=np.int64)
    return _build_subsets_kernel(A, y, draws, tol, betas, done, U, np.empty(p),
                                 np.empty(p, dtype=np.int64), np.zeros(p, dtype=np.bool_),
                                 np.empty(p), seen)


def _build_subsets_numpy(A, y, draws, tol, betas, done):
    """:func:`_build_subsets_kernel`'s elimination for all subsets at once, in NumPy.

    Most streams finish within their first few rows, so the elimination runs
    on the first :data:`_NUMPY_WINDOW` ``+ p`` rows of every stream, then on
    the whole stream of the subsets that did not finish there.  A subset's
    elimination depends on its own stream only, up to where it finishes, so
    the fits, the finished subsets and the count of skipped rows are those of
    one pass over the whole streams (and the kernel's).
    """
    n_sets, n_draws = draws.shape
    window = A.shape[1] + _NUMPY_WINDOW
    if n_draws <= window:
        return int(_eliminate_numpy(A, y, draws, tol, betas, done).sum())
    skipped = _eliminate_numpy(A, y, draws[:, :window], tol, betas, done)
    todo = np.flatnonzero(~done)
    if todo.size:
        sub_betas, sub_done = betas[todo], done[todo]
        skipped[todo] = _eliminate_numpy(A, y, draws[todo], tol, sub_betas, sub_done)
        betas[todo], done[todo] = sub_betas, sub_done
    return int(skipped.sum())


def _eliminate_numpy(A, y, draws, tol, betas, done):
    """The elimination of :func:`_build_subsets_numpy` on whole streams; skipped rows per subset.

    Round ``k`` finds, for every subset with ``k`` rows, the first row of its
    stream (from where the last round stopped) that passes the rank test, then
    reduces all its later rows against that row.  Every row thus meets the
    accepted rows in the kernel's order with the kernel's arithmetic, so the
    fits, the finished subsets and the count of skipped rows are the kernel's.
    """
    p = A.shape[1]
    n_sets, n_draws = draws.shape
    # a repeated index in a stream is ignored: only first occurrences are eligible
    order = np.argsort(draws, axis=1, kind="stable")
    repeat = np.zeros((n_sets, n_draws), dtype=np.bool_)
    srt = np.take_along_axis(draws, order, axis=1)
    dup_sorted = np.zeros((n_sets, n_draws), dtype=np.bool_)
    dup_sorted[:, 1:] = srt[:, 1:] == srt[:, :-1]
    np.put_along_axis(repeat, order, dup_sorted, axis=1)
    eligible = ~repeat
    # working arrays of the subsets still being built (subset ids[j]), columns first so
    # that NumPy's loops run over the long axes
    a = A.T[:, draws]  # (p, sets, draws): each stream's rows, reduced round by round
    z = y[draws]
    threshold = tol * np.max(np.abs(a), axis=0)
    ids = np.arange(n_sets)
    used = np.zeros((p, n_sets, 1), dtype=np.bool_)
    start = np.zeros(n_sets, dtype=np.int64)
    U = np.zeros((n_sets, p, p))
    zU = np.zeros((n_sets, p))
    piv = np.zeros((n_sets, p), dtype=np.int64)
    position = np.arange(n_draws)
    skipped = np.zeros(n_sets, dtype=np.int64)
    for k in range(p):
        absa = np.abs(a)
        # the kernel never picks a used column or a NaN as pivot
        absa = np.where(used | np.isnan(absa), -1.0, absa)
        ahead = eligible & (position >= start[:, None])
        passing = ahead & (np.max(absa, axis=0) > threshold)
        found = passing.any(axis=1)
        first = np.where(found, np.argmax(passing, axis=1), n_draws)
        skipped[ids] += np.count_nonzero(ahead & (position < first[:, None]), axis=1)
        if not found.all():  # these subsets cannot finish: drop them
            a, absa, used = a[:, found], absa[:, found], used[:, found]
            z, threshold, eligible = z[found], threshold[found], eligible[found]
            ids, first = ids[found], first[found]
        if ids.size == 0:
            break
        ar = np.arange(ids.size)
        rows = a[:, ar, first]  # (p, subsets): the accepted rows
        pk = np.argmax(absa[:, ar, first], axis=0)
        U[ids, k] = rows.T
        zU[ids, k] = z[ar, first]
        piv[ids, k] = pk
        used[pk, ar] = True
        start = first + 1
        if k == p - 1:
            break
        # the later rows of each stream, reduced against the accepted row
        f = a[pk, ar] / rows[pk, ar][:, None]
        nonzero = f != 0.0
        reduced_a, reduced_z = a - f * rows[:, :, None], z - f * zU[ids, k][:, None]
        if nonzero.all():
            a, z = reduced_a, reduced_z
        else:  # the kernel leaves a row with f = 0 as it is (not even the sign of a zero)
            a, z = np.where(nonzero, reduced_a, a), np.where(nonzero, reduced_z, z)
        a[pk, ar] = 0.0
    finished = np.zeros(n_sets, dtype=np.bool_)
    finished[ids] = True
    done[:] = finished
    F = np.flatnonzero(finished)
    ar = np.arange(F.size)
    B = np.zeros((F.size, p))
    for q in range(p - 1, -1, -1):
        acc = zU[F, q]
        for r in range(q + 1, p):
            acc = acc - U[F, q, piv[F, r]] * B[ar, piv[F, r]]
        B[ar, piv[F, q]] = acc / U[F, q, piv[F, q]]
    betas[F] = B
    return skipped


@njit(cache=True, nogil=True)
def _build_subsets_kernel(A, y, draws, tol, betas, done, U, z, piv, used, a, seen):
    p = A.shape[1]
    n_sets, n_draws = draws.shape
    n_skipped = 0
    for s in range(n_sets):
        k = 0
        for j in range(p):
            used[j] = False
        for t in range(n_draws):
            i = draws[s, t]
            if seen[i] == s:
                continue
            seen[i] = s
            amax = 0.0
            for j in range(p):
                a[j] = A[i, j]
                if abs(a[j]) > amax:
                    amax = abs(a[j])
            zi = y[i]
            for q in range(k):
                f = a[piv[q]] / U[q, piv[q]]
                if f != 0.0:
                    for j in range(p):
                        a[j] -= f * U[q, j]
                    zi -= f * z[q]
                a[piv[q]] = 0.0
            best = -1
            bval = 0.0
            for j in range(p):
                if not used[j] and abs(a[j]) > bval:
                    best = j
                    bval = abs(a[j])
            if best < 0 or not bval > tol * amax:
                n_skipped += 1
                continue
            for j in range(p):
                U[k, j] = a[j]
            z[k] = zi
            piv[k] = best
            used[best] = True
            k += 1
            if k == p:
                break
        done[s] = k == p
        if k < p:
            continue
        for q in range(p - 1, -1, -1):
            acc = z[q]
            for r in range(q + 1, p):
                acc -= U[q, piv[r]] * betas[s, piv[r]]
            betas[s, piv[q]] = acc / U[q, piv[q]]
    return n_skipped


def _equilibrate(A):
    col = np.sqrt(np.mean(A * A, axis=0))
    col[col == 0] = 1.0  # an all-zero column stays zero: no subset can have full rank
    return np.ascontiguousarray(A / col), col


def nonsingular_fits(A, y, rng, n_subsets, tol=SINGULAR_TOL):
    """Exact fits on ``n_subsets`` full-rank subsets built row by row (Koller & Stahel).

    Returns ``(betas, n_unfinished, n_skipped_rows)``: ``betas`` holds the
    finished subsets' fits (all of them unless the rows of ``A`` have rank
    below ``p``, when none can finish).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.subsampling import nonsingular_fits
    >>> rng = np.random.default_rng(0)
    >>> A = np.c_[np.repeat(np.eye(3), [40, 5, 2], axis=0), rng.normal(size=47)]  # rare levels
    >>> y = A @ np.array([1.0, 2.0, 3.0, 4.0])
    >>> betas, n_unfinished, _ = nonsingular_fits(A, y, rng, 100)
    >>> betas.shape, n_unfinished, bool(np.allclose(betas, [1.0, 2.0, 3.0, 4.0]))
    ((100, 4), 0, True)
    """
    m, p = A.shape
    As, col = _equilibrate(np.asarray(A, dtype=np.float64))
    y = np.ascontiguousarray(y, dtype=np.float64)
    betas = np.zeros((n_subsets, p))
    done = np.zeros(n_subsets, dtype=np.bool_)
    # a short random stream per subset suffices on most designs ...
    draws = rng.integers(0, m, size=(n_subsets, min(2 * p + 20, 4 * m)))
    n_skipped = _build_subsets(As, y, draws, tol, betas, done)
    todo = np.flatnonzero(~done)
    if todo.size:  # ... the others scan every row in a random order
        order = np.argsort(rng.random((todo.size, m)), axis=1)
        sub_b = np.zeros((todo.size, p))
        sub_done = np.zeros(todo.size, dtype=np.bool_)
        n_skipped += _build_subsets(As, y, order, tol, sub_b, sub_done)
        betas[todo] = sub_b
        done[todo] = sub_done
    betas = betas[done] / col
    finite = np.all(np.isfinite(betas), axis=1)
    return betas[finite], int(n_subsets - finite.sum()), int(n_skipped)


def _draw_index_sets(rng, m, p, count):
    """``count`` uniformly random sets of ``p`` distinct indices in ``range(m)``, shape (count, p).

    When ``p**2 <= m`` it draws with replacement and redraws the sets holding
    a repeated index (conditionally on being distinct every ordered p-tuple is
    equally likely; at least 60% of the draws are distinct); otherwise it takes
    the ``p`` smallest of ``m`` uniform keys.
    """
    if p * p > m:
        return np.argpartition(rng.random((count, m)), p - 1, axis=1)[:, :p]
    idx = rng.integers(0, m, size=(count, p))
    redo = np.arange(count)
    while redo.size:
        srt = np.sort(idx[redo], axis=1)
        dup = np.any(srt[:, 1:] == srt[:, :-1], axis=1)
        redo = redo[dup]
        if redo.size:
            idx[redo] = rng.integers(0, m, size=(redo.size, p))
    return idx


def simple_fits(A, y, rng, n_subsets):
    """Exact fits on uniformly random ``p``-row subsets, singular ones skipped and counted.

    Drawing stops once ``n_subsets`` non-singular subsets were found, after
    ``n_subsets`` draws without a single one, or after ``20 n_subsets``
    draws.  Returns ``(betas, n_singular, 0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.subsampling import simple_fits
    >>> rng = np.random.default_rng(0)
    >>> A = np.c_[rng.normal(size=(30, 2)), np.ones(30)]
    >>> betas, n_singular, _ = simple_fits(A, A @ np.array([1.0, 2.0, 3.0]), rng, 10)
    >>> betas.shape, n_singular
    ((10, 3), 0)
    """
    m, p = A.shape
    As, col = _equilibrate(np.asarray(A, dtype=np.float64))
    accepted = []
    n_ok = n_drawn = n_singular = 0
    batch = n_subsets
    max_batch = max(1, _BATCH_BUDGET // (p * p))
    while n_ok < n_subsets and n_drawn < _MAX_DRAW_FACTOR * n_subsets:
        batch = min(batch, _MAX_DRAW_FACTOR * n_subsets - n_drawn, max_batch)
        idx = _draw_index_sets(rng, m, p, batch)
        n_drawn += batch
        M = As[idx]  # (batch, p, p)
        # rank check on the diagonal of R in M = QR (an exact collinearity gives ~eps)
        diag = np.abs(np.diagonal(np.linalg.qr(M, mode="r"), axis1=1, axis2=2))
        ok = diag.min(axis=1) > _SIMPLE_RCOND * diag.max(axis=1)
        if ok.any():
            Mo, yo = M[ok], y[idx[ok]]
            try:
                sol = np.linalg.solve(Mo, yo[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                sol = np.array([np.linalg.lstsq(Mo[k], yo[k], rcond=None)[0]
                                for k in range(len(Mo))])
            sol = sol / col
            good = np.all(np.isfinite(sol), axis=1)
            ok[np.flatnonzero(ok)[~good]] = False
            accepted.append(sol[good])
            n_ok += int(good.sum())
        n_singular += int(batch - ok.sum())
        if n_ok == 0 and n_drawn >= n_subsets:
            break
        # next batch: enough for the missing ones at the observed acceptance rate
        rate = max(n_ok / n_drawn, 1.0 / _MAX_DRAW_FACTOR)
        batch = max(int(math.ceil((n_subsets - n_ok) / rate * 1.1)), 1)
    if n_ok == 0:
        return np.empty((0, p)), n_singular, 0
    return np.concatenate(accepted)[:n_subsets], n_singular, 0


SUBSAMPLING = {"nonsingular": nonsingular_fits, "simple": simple_fits}


def elemental_fits(A, y, rng, n_subsets, method="nonsingular"):
    """Exact fits on ``n_subsets`` elemental subsets of the rows of ``A`` by ``method``.

    Returns ``(betas, n_failed, n_skipped_rows)``: ``n_failed`` counts the
    singular ("simple") or unfinished ("nonsingular") subsets.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.subsampling import elemental_fits
    >>> A = np.c_[np.arange(6.0), np.ones(6)]
    >>> betas, _, _ = elemental_fits(A, 2 * np.arange(6.0) + 1, np.random.default_rng(0), 3)
    >>> betas.round(12)
    array([[2., 1.],
           [2., 1.],
           [2., 1.]])
    """
    if method not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {sorted(SUBSAMPLING)}, got {method!r}")
    return SUBSAMPLING[method](A, y, rng, n_subsets)


__all__ = ["SINGULAR_TOL", "elemental_fits", "nonsingular_fits", "simple_fits"]
