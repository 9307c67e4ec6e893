"""The cost of the first fit in a fresh process, and of GridSearchCV's worker processes.

What a user pays before the first answer: the imports, then the numba
kernels the fit needs (compiled, or loaded from numba's disk cache).  Every
measurement runs in a fresh subprocess of this script (``--child``), with
``NUMBA_CACHE_DIR`` pointing at a temporary directory, so "cold" means an
empty numba cache and "warm" means the cache that the cold run wrote.

First fit, 1000 x 5 (Gaussian design, 10% vertical outliers):

- ``import``: CPU seconds (``time.process_time`` in the child) of
  ``from skrobust import RobustRegressor`` plus touching the class (the
  package imports lazily, so this loads scikit-learn, numba and the modules
  ``fit`` needs at module level);
- ``fit``: CPU seconds of the first ``RobustRegressor().fit`` (Huber, M-fit)
  or ``RobustRegressor(loss="tukey").fit`` (MM: S-start + M-step) after
  that, i.e. "beyond imports" (lazy imports inside ``fit`` count here);
- ``compiled``: the numba compilations during the fit (a listener on
  numba's ``numba:compile`` event: one per kernel and signature, nested
  kernels included) and the kernels loaded from the disk cache
  (``cache_hits`` of every dispatcher of ``skrobust``).

GridSearchCV: ``GridSearchCV(est, {"alpha": 8 values}, cv=5)`` = 40 fits on
the same 1000 x 5 data, for ``RobustRegressor()`` and scikit-learn's
``HuberRegressor()``, each with ``n_jobs=1`` and ``n_jobs=2`` in its own
fresh process (loky starts the worker processes anew), after the parent's
imports.  ``t`` is the CPU time of ``GridSearchCV.fit`` in the process and
its worker processes (``getrusage`` of self and of the children, after the
workers exit), the steady number on a shared machine; wall clock is shown
in brackets.  **overhead = t(n_jobs=2) - t(n_jobs=1)**: what the parallel
run pays beyond the serial one (worker start-up, imports in each worker,
numba kernels loaded or compiled in each worker); the ratio printed last is
skrobust's overhead / HuberRegressor's.  40 fits of 1000 x 5 take
milliseconds each, so on 2 cores the parallel run cannot win back its
start-up; the overhead is the number to keep small.  "cold" runs every
process with an empty numba cache (every worker compiles).

Run ``python benchmarks/bench_first_fit.py`` (about a minute; each row is
the median of ``--repeats`` fresh processes, default 3; ``--first-only``
skips GridSearchCV, ``--kernels`` lists what the cold first fits compiled).  BLAS is pinned to
one thread in the children.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

N, D = 1000, 5
ALPHAS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    y = X @ np.arange(1.0, D + 1) + rng.normal(size=N)
    y[: N // 10] += 20.0
    return X, y


class _CompileCounter:
    """Counts numba compilations (kernel, signature) while installed."""

    def __init__(self):
        from numba.core import event

        counter = self
        self.compiled = []

        class Listener(event.Listener):
            def on_start(self, ev):
                pass

            def on_end(self, ev):
                data = ev.data
                name = getattr(data["dispatcher"], "__qualname__", "?")
                counter.compiled.append(f"{name}{tuple(str(a) for a in data['args'])}")

        self.listener = Listener()
        event.register("numba:compile", self.listener)


def _cache_hits():
    """Number of (kernel, signature) pairs of skrobust loaded from numba's disk cache."""
    from numba.core.dispatcher import Dispatcher

    seen, hits = set(), 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("skrobust") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and id(value) not in seen:
                seen.add(id(value))
                hits += sum(value.stats.cache_hits.values())
    return hits


def child_first_fit(loss):
    t0 = time.process_time()
    from skrobust import RobustRegressor

    RobustRegressor.__name__  # noqa: B018  (the class, not just the lazy name)
    t_import = time.process_time() - t0
    import warnings

    X, y = _data()
    counter = _CompileCounter()
    est = RobustRegressor(loss=loss, random_state=0)
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    t_fit = time.process_time() - t0
    return {"import": t_import, "fit": t_fit, "compiled": len(counter.compiled),
            "kernels": sorted(counter.compiled), "cache_hits": _cache_hits()}


def child_grid(library, n_jobs):
    import warnings

    from sklearn.model_selection import GridSearchCV

    if library == "skrobust":
        from skrobust import RobustRegressor

        est = RobustRegressor()
    else:
        from sklearn.linear_model import HuberRegressor

        est = HuberRegressor()
    X, y = _data()
    search = GridSearchCV(est, {"alpha": ALPHAS}, cv=5, n_jobs=n_jobs)
    c0, t0 = _cpu_with_children(), time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    wall = time.perf_counter() - t0
    if n_jobs != 1:  # the workers' CPU time is counted once they have exited
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    return {"wall": wall, "cpu": _cpu_with_children() - c0}


def _cpu_with_children():
    import resource

    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def run_child(env, *args):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *args],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_env(cache_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(NUMBA_CACHE_DIR=cache_dir, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kernels", action="store_true",
                        help="list the kernels compiled by the cold first fits")
    parser.add_argument("--first-only", action="store_true",
                        help="only the first fits, not the GridSearchCV runs")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        result = child_first_fit(*rest) if kind == "first" else child_grid(rest[0], int(rest[1]))
        print(json.dumps(result))
        return

    import skrobust

    print(f"skrobust from {os.path.dirname(skrobust.__file__)}; {N} x {D}; "
          f"median of {args.repeats} fresh processes")
    print(f"{'first fit':10s} {'cache':5s} {'import CPU s':>12s} {'fit CPU s':>10s} "
          f"{'compiled':>9s} {'cache hits':>10s}")
    kernels = {}
    for loss in ("huber", "tukey"):
        rows = {"cold": [], "warm": []}
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as cache:
                env = child_env(cache)
                rows["cold"].append(run_child(env, "first", loss))
                rows["warm"].append(run_child(env, "first", loss))
        kernels[loss] = rows["cold"][0]["kernels"]
        for state, results in rows.items():
            med = {k: statistics.median(r[k] for r in results)
                   for k in ("import", "fit", "compiled", "cache_hits")}
            print(f"{loss:10s} {state:5s} {med['import']:12.3f} {med['fit']:10.3f} "
                  f"{med['compiled']:9.0f} {med['cache_hits']:10.0f}")
    if args.kernels:
        for loss, names in kernels.items():
            print(f"\ncompiled by a cold first {loss} fit ({len(names)}):")
            for name in names:
                print("   ", name)

    if args.first_only:
        return

    print("\nGridSearchCV, 40 fits; overhead = t(n_jobs=2) - t(n_jobs=1), "
          "CPU s of the process and its workers (wall s in brackets)")
    print(f"{'library':14s} {'cache':5s} {'n_jobs=1':>15s} {'n_jobs=2':>15s} {'overhead':>15s}")
    overhead = {}

    def grid_row(library, state, env_for):
        runs = {jobs: [run_child(env_for(), "grid", library, str(jobs))
                       for _ in range(args.repeats)] for jobs in (1, 2)}
        t = {jobs: {k: statistics.median(r[k] for r in rs) for k in ("cpu", "wall")}
             for jobs, rs in runs.items()}
        over = {k: t[2][k] - t[1][k] for k in ("cpu", "wall")}
        cells = [f"{v['cpu']:6.2f} ({v['wall']:5.2f})" for v in (t[1], t[2], over)]
        print(f"{library:14s} {state:5s} " + " ".join(f"{c:>15s}" for c in cells))
        return over

    with tempfile.TemporaryDirectory() as cache:
        env = child_env(cache)
        run_child(env, "first", "huber")  # warms the cache
        for library in ("HuberRegressor", "skrobust"):
            overhead[library] = grid_row(library, "warm", lambda: env)

    def cold_env():  # a fresh, empty cache for every run
        return child_env(tempfile.mkdtemp(dir=cold_root))

    with tempfile.TemporaryDirectory() as cold_root:
        overhead["cold"] = grid_row("skrobust", "cold", cold_env)
    for state, key in (("warm", "skrobust"), ("cold", "cold")):
        print(f"overhead ratio skrobust ({state} cache) / HuberRegressor: "
              f"{overhead[key]['cpu'] / overhead['HuberRegressor']['cpu']:.2f} CPU, "
              f"{overhead[key]['wall'] / overhead['HuberRegressor']['wall']:.2f} wall")

if __name__ == "__main__":
    main()
