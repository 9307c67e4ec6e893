"""One BLAS thread while a solver runs, safely shared by concurrent fits in threads.

BLAS thread limits (threadpoolctl) are process-wide.  If two fits running in
threads each set the limit on entry and restore "their" original on exit,
the one that enters second saves the first one's limit (1), and when the
exits come out of order the process stays at one BLAS thread for good.  Here
the limit is counted: the first fit to enter sets it, the last to leave
restores the limits found by the first.
"""

from __future__ import annotations

import contextlib
import threading
from functools import lru_cache

_LOCK = threading.Lock()
_state = {"users": 0, "limiter": None}


@lru_cache(maxsize=1)
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread inside the block (reference counted across threads).

    L-BFGS-B's tiny ``maxcor x n`` BLAS calls are many times slower with a
    thread pool (measured: 10x on 2 busy cores), and the ``O(n d)`` products
    of the adaptive Barron objective are memory bound.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.blas_threads import single_threaded_blas
    >>> with single_threaded_blas():
    ...     value = float(np.ones(3) @ np.ones(3))
    >>> value
    3.0
    """
    controller = _controller()
    if controller is None:  # pragma: no cover
        yield
        return
    with _LOCK:
        if _state["users"] == 0:
            _state["limiter"] = controller.limit(limits=1, user_api="blas")
        _state["users"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _state["users"] -= 1
            if _state["users"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
