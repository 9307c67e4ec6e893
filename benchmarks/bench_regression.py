"""Speed, agreement and memory of RobustRegressor against its peers, in one run.

Data: ``X ~ N(0, 1)`` of shape ``(n, d)``, coefficients drawn uniformly in
``+-[0.5, 2]`` (away from 0, so relative gaps mean something), intercept 1,
Student-t(2) noise and, by default, 10% gross vertical outliers
(``+U(10, 50)``); ``--noise t2`` or ``--noise gross`` (Gaussian noise plus
the outliers) pick one of the two.

Pairs (each skrobust fit is timed in the same run as its peer):

- parity mode, at ``--n-large`` (1e6) and ``--n-small`` (1e5) rows:
  ``HuberRegressor(alpha=1e-4, epsilon=1.35)`` against
  ``RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4)``
  (the same objective; both with their default tolerances), plus
  skrobust's ``solver="lbfgs"`` and ``SGDRegressor(loss="huber")``
  (different objective: epsilon in units of y, no scale; timed for
  reference, its gap is not an agreement test);
- MASS::rlm style M-estimation at ``--n-small`` rows: statsmodels
  ``RLM(HuberT())`` and ``RLM(TukeyBiweight())`` (MAD scale, OLS start, its
  defaults) against ``RobustRegressor(loss="huber"/"tukey", scale="mad",
  init="ols", epsilon=1.345/4.685)``;
- skrobust alone at ``--n-large``: the MAD-scale Huber and Tukey fits.

Timing: BLAS is pinned to one thread for everyone
(``threadpoolctl.threadpool_limits(1)``, entered after every library, and
so every BLAS, is loaded).  Each fit runs ``--repeats`` times (fits
faster than that repeat until they took ``--min-time`` seconds in all, at
most 15 times: short fits suffer most from scheduling noise); the table
shows the median wall-clock time and the median CPU time of the process
(``time.process_time``; on a shared machine CPU time is the steadier
number, on an idle one the two agree).  "ratio" is peer time / skrobust
time for the pair (wall clock; CPU-time ratio in brackets).

Agreement: "gap to partner" is ``max_j |a_j - b_j| / |b_j|`` over the
intercept and coefficients, between the fit in the row and its partner;
"gap to optimum" is the same against the optimum of the objective the row's
estimator minimises (that skrobust fit converged to ``tol=1e-12``), so it
tells which of two disagreeing fits is off; "error" is the same against the
true coefficients (statistical error, for orientation).

Memory ("peak beyond X", in MiB; X itself is ``8 n d`` bytes):

- ``tracemalloc`` (default): one extra, untimed fit with
  :mod:`tracemalloc` on; the peak of traced allocations during ``fit``
  minus the allocations before it.  NumPy reports its array buffers to
  tracemalloc, so this counts every array (and Python object) the fit
  allocates, not BLAS's internal work buffers (preallocated per thread);
- ``rss``: each fit in a fresh subprocess, which builds the data, warms up
  on 2000 rows (imports, numba compilation), resets the kernel's
  high-water mark of the resident set (``/proc/self/clear_refs``, Linux)
  and reports ``VmHWM`` after the fit minus ``VmRSS`` before it: the peak
  of pages touched by anything, BLAS included (freed heap that the fit
  reuses is not counted).  Without ``/proc`` it falls back to the
  increase of ``ru_maxrss``, which misses peaks below the data generation's;
- ``both`` or ``none``.

Run ``python benchmarks/bench_regression.py`` (a few minutes: statsmodels'
RLM and HuberRegressor at 1e6 dominate); ``--quick`` runs 1e5 / 2e4 rows
with 2 repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy.linalg  # noqa: F401  (load SciPy's BLAS before limiting the thread pools)
import statsmodels.api as sm
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor, SGDRegressor
from threadpoolctl import threadpool_info, threadpool_limits

import skrobust.solvers.irls  # noqa: F401  (load numba kernels and SciPy's BLAS)
from skrobust import RobustRegressor


# --------------------------------------------------------------------- data
def make_data(n, d, noise="both", seed=0):
    """Contaminated linear data; returns X, y and the true (intercept, coef...)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(size=(n, d))
    coef = rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d)
    y = X @ coef
    y += 1.0
    if noise in ("t2", "both"):
        y += rng.standard_t(2, size=n)
    else:
        y += rng.standard_normal(n)
    if noise in ("gross", "both"):
        bad = rng.random(n) < 0.1
        y[bad] += rng.uniform(10.0, 50.0, int(bad.sum()))
    return X, y, np.r_[1.0, coef]


# --------------------------------------------------------------- estimators
class _RLM:
    """statsmodels RLM behind fit / coef_ / intercept_ (the constant is a column of X)."""

    def __init__(self, norm):
        self.norm = norm

    def fit(self, X, y):
        Xc = np.empty((X.shape[0], X.shape[1] + 1))
        Xc[:, 0] = 1.0
        Xc[:, 1:] = X
        res = sm.RLM(y, Xc, M=self.norm).fit()
        self.intercept_, self.coef_ = float(res.params[0]), np.asarray(res.params[1:])
        self.n_iter_ = int(res.fit_history["iteration"])
        return self


# the objective each estimator minimises, named by the skrobust fit that minimises it
OBJECTIVE = {"HuberRegressor": "skrobust joint", "skrobust joint": "skrobust joint",
             "skrobust joint lbfgs": "skrobust joint", "RLM HuberT": "skrobust huber mad",
             "skrobust huber mad": "skrobust huber mad",
             "RLM TukeyBiweight": "skrobust tukey mad",
             "skrobust tukey mad": "skrobust tukey mad"}


def make_estimator(name):
    """Estimator by name (a string, so that subprocesses can build it too).

    ``"<skrobust name> tight"`` is that fit converged to ``tol=1e-12``: the
    optimum the "optimum" column measures against.
    """
    if name.endswith(" tight"):
        return make_estimator(name[: -len(" tight")]).set_params(tol=1e-12, max_iter=10000)
    if name == "HuberRegressor":
        return HuberRegressor(alpha=1e-4, epsilon=1.35)
    if name == "skrobust joint":
        return RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4)
    if name == "skrobust joint lbfgs":
        return RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4,
                               solver="lbfgs")
    if name == "SGDRegressor":
        return SGDRegressor(loss="huber", random_state=0)
    if name == "RLM HuberT":
        return _RLM(sm.robust.norms.HuberT())
    if name == "RLM TukeyBiweight":
        return _RLM(sm.robust.norms.TukeyBiweight())
    if name == "skrobust huber mad":
        return RobustRegressor(loss="huber", scale="mad", init="ols", epsilon=1.345)
    if name == "skrobust tukey mad":
        return RobustRegressor(loss="tukey", scale="mad", init="ols", epsilon=4.685)
    raise ValueError(name)


def params(est):
    return np.r_[est.intercept_, np.ravel(est.coef_)]


def rel_gap(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


# ------------------------------------------------------------------ timing
def time_fit(name, X, y, repeats, min_time=2.0, max_repeats=15):
    """Median wall and CPU time of ``repeats`` fits, more for fast fits.

    A fit faster than ``min_time / repeats`` is repeated until the fits took
    ``min_time`` seconds in all (at most ``max_repeats`` times): short fits
    are the most exposed to scheduling noise on a shared machine.
    """
    walls, cpus = [], []
    est = None
    while len(walls) < repeats or (sum(walls) < min_time and len(walls) < max_repeats):
        est = make_estimator(name)
        w0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return est, float(np.median(walls)), float(np.median(cpus))


def traced_peak(name, X, y):
    """Peak of traced allocations during one fit, beyond those alive before it (bytes)."""
    est = make_estimator(name)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def rss_peak(name, n, d, noise):
    """Increase of the peak resident set during one fit, in a fresh process (bytes)."""
    spec = json.dumps({"name": name, "n": n, "d": d, "noise": noise})
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", spec],
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["delta"])


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    raise KeyError(field)


def _child(spec):
    spec = json.loads(spec)
    X, y, _ = make_data(spec["n"], spec["d"], spec["noise"])
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make_estimator(spec["name"]).fit(X[:2000], y[:2000])  # imports, numba, BLAS buffers
        est = make_estimator(spec["name"])
        try:  # Linux: reset the high-water mark, so data generation does not count
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = _status_kib("VmRSS")
            est.fit(X, y)
            delta = _status_kib("VmHWM") - before
        except OSError:  # elsewhere: the peak so far (ru_maxrss, KiB on Linux, bytes on macOS)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            est.fit(X, y)
            delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"delta": delta * 1024.0}))


# --------------------------------------------------------------------- run
PARITY = [("HuberRegressor", "skrobust joint"), ("skrobust joint", "HuberRegressor"),
          ("skrobust joint lbfgs", "HuberRegressor"), ("SGDRegressor", "skrobust joint")]
GROUPS = [
    # (group, size, rows as (estimator, partner)); the partner sets "ratio" and "gap"
    ("HuberRegressor parity", "large", PARITY),
    ("HuberRegressor parity", "small", PARITY),
    ("statsmodels RLM", "small",
     [("RLM HuberT", "skrobust huber mad"), ("skrobust huber mad", "RLM HuberT"),
      ("RLM TukeyBiweight", "skrobust tukey mad"), ("skrobust tukey mad", "RLM TukeyBiweight")]),
    ("MAD scale, skrobust only", "large",
     [("skrobust huber mad", None), ("skrobust tukey mad", None)]),
]


def _is_ours(name):
    return name.startswith("skrobust")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-large", type=int, default=1_000_000)
    ap.add_argument("--n-small", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3,
                    help="fits per estimator (at least; fast fits repeat up to --min-time)")
    ap.add_argument("--min-time", type=float, default=2.0,
                    help="repeat fast fits until they took this long in all (at most 15 fits)")
    ap.add_argument("--noise", choices=["t2", "gross", "both"], default="both")
    ap.add_argument("--memory", choices=["tracemalloc", "rss", "both", "none"],
                    default="tracemalloc")
    ap.add_argument("--skip-sgd", action="store_true")
    ap.add_argument("--quick", action="store_true", help="1e5 / 2e4 rows, 2 repeats")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child)
        return
    if args.quick:
        args.n_large, args.n_small, args.repeats = 100_000, 20_000, 2
    sizes = {"large": args.n_large, "small": args.n_small}

    libs = sorted({(i["internal_api"], os.path.basename(i["filepath"]))
                   for i in threadpool_info()})
    print(f"# skrobust regression benchmark\n\n{platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, NumPy {np.__version__}; "
          f"BLAS pinned to 1 thread ({', '.join(f'{a}: {b}' for a, b in libs)}).  "
          f"d = {args.d}, noise = {args.noise}, median of >= {args.repeats} fits; "
          f"memory: {args.memory}.\n")
    table = []
    with threadpool_limits(1):
        for group, size, spec in GROUPS:
            n = sizes[size]
            spec = [(a, b) for a, b in spec
                    if not (args.skip_sgd and "SGDRegressor" in (a, b))]
            X, y, truth = make_data(n, args.d, args.noise)
            x_mib = X.nbytes / 2**20
            names = list(dict.fromkeys(a for a, _ in spec))
            for name in names:  # warm-up: imports, numba compilation
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    make_estimator(name).fit(X[:2000], y[:2000])
            fitted = {}
            for name in names:
                est, wall, cpu = time_fit(name, X, y, args.repeats, args.min_time)
                mem = {}
                if args.memory in ("tracemalloc", "both"):
                    mem["tracemalloc"] = traced_peak(name, X, y) / 2**20
                if args.memory in ("rss", "both"):
                    mem["rss"] = rss_peak(name, n, args.d, args.noise) / 2**20
                fitted[name] = (est, wall, cpu, mem)
                print(f"  {group} n={n}: {name}: {wall:.3f} s wall, {cpu:.3f} s CPU",
                      file=sys.stderr)
            optima = {}
            for name, _ in spec:
                target = OBJECTIVE.get(name)
                if target is not None and target not in optima:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        optima[target] = make_estimator(target + " tight").fit(X, y)
            for name, partner in spec:
                est, wall, cpu, mem = fitted[name]
                target = OBJECTIVE.get(name)
                optimum = (f"{rel_gap(params(est), params(optima[target])):.1e}"
                           if target is not None else "")
                ratio = gap = ""
                if partner is not None:
                    p_est, p_wall, p_cpu, _ = fitted[partner]
                    if _is_ours(name) != _is_ours(partner):
                        ours_t = (p_wall, p_cpu) if _is_ours(partner) else (wall, cpu)
                        peer_t = (wall, cpu) if _is_ours(partner) else (p_wall, p_cpu)
                        ratio = f"{peer_t[0] / ours_t[0]:.1f}x ({peer_t[1] / ours_t[1]:.1f}x)"
                    if "SGDRegressor" not in (name, partner):  # a different objective
                        gap = f"{rel_gap(params(est), params(p_est)):.1e}"
                table.append({"group": group, "n": n, "name": name, "partner": partner or "",
                              "wall": wall, "cpu": cpu, "ratio": ratio, "gap": gap,
                              "optimum": optimum,
                              "error": rel_gap(params(est), truth),
                              "n_iter": getattr(est, "n_iter_", ""), "mem": mem, "x": x_mib})

    mem_cols = [k for k in ("tracemalloc", "rss") if args.memory in (k, "both")]
    head = ["group", "n", "estimator", "partner", "wall (s)", "CPU (s)",
            "peer / skrobust time", "gap to partner", "gap to optimum", "error", "n_iter"]
    head += [f"peak beyond X, {k} (MiB)" for k in mem_cols]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        n_iter = r["n_iter"]
        n_iter = str(int(np.max(n_iter))) if not isinstance(n_iter, str) else n_iter
        cells = [r["group"], f"{r['n']:.0e}".replace("e+0", "e"), r["name"], r["partner"],
                 f"{r['wall']:.3f}", f"{r['cpu']:.3f}", r["ratio"], r["gap"], r["optimum"],
                 f"{r['error']:.1e}", n_iter]
        cells += [f"{r['mem'][k]:.0f} (X: {r['x']:.0f})" for k in mem_cols]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
