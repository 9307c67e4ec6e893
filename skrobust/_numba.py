"""The one ``njit`` of the package: numba's, cached on disk where numba can cache.

Every numba kernel of skrobust is decorated by :func:`njit` from here, never
by numba's directly.  ``cache=True`` makes numba look for a writable cache
directory when the kernel is *defined*; a package installed read-only with
an unwritable home (and no ``NUMBA_CACHE_DIR``) has none, and numba's own
decorator then raises ``RuntimeError: cannot cache function ...``, so the
import failed.  This decorator compiles such a kernel without a disk cache
instead (each process then compiles it once, on first use).

Compile policy: no signature lists, so nothing compiles at import; a kernel
compiles (or loads from the disk cache) on its first call, for the types of
that call.  Callers pass float64 arrays and floats only, one signature per
kernel (the losses cast their input once); a loss's four pointwise
functions share one kernel; short passes run NumPy around that kernel
rather than a fused kernel of their own (``skrobust.losses._fused``).
``benchmarks/bench_first_fit.py`` counts what a first fit compiles.
"""

from __future__ import annotations

import numba


def njit(*args, **options):
    """``numba.njit(cache=True, **options)``, without the disk cache where none is writable.

    Used as ``@njit(nogil=True)`` (``cache`` defaults to True) or bare ``@njit``.

    Examples
    --------
    >>> from skrobust._numba import njit
    >>> @njit(nogil=True)
    ... def double(x):
    ...     return 2.0 * x
    >>> double(1.5)
    3.0
    """
    options.setdefault("cache", True)

    def decorate(func):
        try:
            return numba.njit(**options)(func)
        except RuntimeError as exc:
            if not (options["cache"] and "cannot cache" in str(exc)):
                raise
            return numba.njit(**{**options, "cache": False})(func)

    if args and callable(args[0]):
        return decorate(args[0])
    return decorate
