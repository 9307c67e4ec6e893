"""Progress lines of a fit (``verbose=1``): one reporter passed down to every solver.

Every line has the same shape, whichever estimator or solver writes it::

    [RobustRegressor    0.412s] irls: iter    3  objective 1817.23  scale 0.998  step newton

the owner, the time since the fit started, the phase (``validation``,
``design``, ``s-start``, ``s-refine``, ``start``, ``irls``, ``lbfgs``,
``ipm``, ``adaptive-barron``, ``warm-up``, ``newton``, ...), then the
message.  Iteration lines read ``iter k  objective f`` (then ``scale s``
where the model has a scale, then solver-specific fields), and each solver
ends with ``converged in k iterations`` or ``did not converge in k
iterations: why``.  Inner loops whose steps are too many to print (the
S-refinement) report through :meth:`Progress.tick`, at most every half
second, so that no phase of a long fit is silent for more than a second.
With ``verbose=0`` nothing is printed and the reporter is falsy, so a solver
can skip work done only for the report (``if progress: ...``).
"""

from __future__ import annotations

import sys
import time

#: shortest time between two :meth:`Progress.tick` lines, in seconds
TICK_INTERVAL = 0.5


class Progress:
    """Reporter of a fit's phases and iterations.

    Parameters
    ----------
    verbose : int, default=0
        Nothing is printed at 0.
    owner : str, default="skrobust"
        The first field of every line (the estimator's class name).
    stream : file-like, default=None
        Where lines go; None is ``sys.stdout`` at the time of each line.

    Examples
    --------
    >>> from skrobust._progress import Progress
    >>> progress = Progress(1, "demo")
    >>> progress.iteration("irls", 1, 12.5, scale=0.5)  # doctest: +ELLIPSIS
    [demo ...s] irls: iter    1  objective 12.5  scale 0.5
    {'iter': 1, 'objective': 12.5, 'scale': 0.5, 'time': ...}
    >>> progress.finish("irls", True, 1)  # doctest: +ELLIPSIS
    [demo ...s] irls: converged in 1 iterations
    >>> bool(Progress(0))
    False
    """

    def __init__(self, verbose=0, owner="skrobust", stream=None):
        self.enabled = bool(verbose) and verbose > 0
        self.owner = owner
        self.stream = stream
        self.start = time.perf_counter()
        self._last = self.start

    @classmethod
    def of(cls, verbose) -> Progress:
        """``verbose`` itself if it is a reporter, else a new reporter (solvers' entry point)."""
        return verbose if isinstance(verbose, Progress) else cls(verbose or 0)

    def __bool__(self) -> bool:
        return self.enabled

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def line(self, phase: str, message: str) -> None:
        """Print one line of ``phase``."""
        if not self.enabled:
            return
        now = time.perf_counter()
        self._last = now
        stream = self.stream if self.stream is not None else sys.stdout
        print(f"[{self.owner} {now - self.start:8.3f}s] {phase}: {message}", file=stream,
              flush=True)

    def tick(self, phase: str, message: str) -> None:
        """A line of an inner loop, printed only if the last line is half a second old."""
        if self.enabled and time.perf_counter() - self._last >= TICK_INTERVAL:
            self.line(phase, message)

    def iteration(self, phase: str, k: int, objective: float, scale=None, *, tick=False,
                  **fields) -> dict:
        """Print ``iter k  objective f  [scale s]  [name value ...]``; returns the record.

        With ``tick=True`` (the iterations of an inner loop) the line is
        printed only if the last line is half a second old, as :meth:`tick`.
        """
        text = f"iter {k:4d}  objective {objective:.10g}"
        if scale is not None:
            text += f"  scale {scale:.6g}"
        for name, value in fields.items():
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
            text += f"  {name.replace('_', ' ')} {shown}"
        if tick:
            self.tick(phase, text)
        else:
            self.line(phase, text)
        record = {"iter": k, "objective": objective}
        if scale is not None:
            record["scale"] = scale
        record.update(fields)
        record["time"] = self.elapsed()
        return record

    def finish(self, phase: str, converged: bool, n_iter: int, message: str = "") -> None:
        """The last line of a solver: converged, or why not."""
        if converged:
            self.line(phase, f"converged in {n_iter} iterations")
        else:
            self.line(phase, f"did not converge in {n_iter} iterations: {message}")
