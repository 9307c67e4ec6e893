"""Benchmark: exact quantile regression, skrobust vs HiGHS, statsmodels and a conquer-like fit.

Four sections (``--only`` picks one):

* ``highs``: one level at a time, skrobust against scikit-learn's
  ``QuantileRegressor(alpha=0, solver="highs")`` (below);
* ``process``: 19 levels (0.05, ..., 0.95) at n = 1e5, d = 20: one
  ``quantile_process`` call against the loop of 19 ``quantile_regression``
  calls and the loop of 19 ``statsmodels`` ``QuantReg`` fits, with the
  largest relative objective gap of each level to the loop of exact fits;
* ``crossing``: rows where 13 independent fits cross, against the
  ``noncrossing=True`` process, and the relative cost in summed objective;
* ``median``: the exact median at n = 1e6, d = 20 against a conquer-like
  convolution-smoothed fit (He, Pan, Tan & Zhou 2023: Gaussian-smoothed check
  loss, Barzilai-Borwein gradient steps from a Huber start, standardised
  columns; implemented here, no such package being installed), with both
  objectives (the smoothed fit is approximate, not the vertex optimum).

R quantreg's and conquer's published figures (measured elsewhere, on a
2-core machine, one thread) are printed as reference numbers.

Times ``sklearn.linear_model.QuantileRegressor(alpha=0, solver="highs")``
against skrobust's solver, called through
``skrobust.RobustRegressor(loss="quantile", quantile=q, alpha=0)`` when that
works, else through ``skrobust.solvers.quantile.quantile_regression``
directly (the script prints which path it used).  BLAS is pinned to one
thread with threadpoolctl for both.  Times are medians of repeats; HiGHS
runs in a subprocess with a time limit (``--timeout``) and is reported as
"timed out" when it exceeds it.

Data: ``y = X beta + 1 + t_3 noise * (1 + |x_0| / 2)`` with standard normal
``X`` (heteroscedastic, so the quantile planes differ).

Usage::

    python benchmarks/bench_quantile.py                  # all three sections
    python benchmarks/bench_quantile.py --only highs --sizes 10000x20 --quantiles 0.5
    python benchmarks/bench_quantile.py --only process --no-statsmodels
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np


def make_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.uniform(-2, 2, d) + 1.0 + rng.standard_t(3, n) * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def pinball_sum(y, pred, q):
    r = y - pred
    return float(np.sum(np.where(r >= 0, q * r, (q - 1) * r)))


# ------------------------------------------------------------------ HiGHS worker
def highs_worker(n, d, q, seed, repeats):
    """Fit QuantileRegressor(highs) in this (sub)process; print JSON on stdout."""
    from sklearn.linear_model import QuantileRegressor
    from threadpoolctl import threadpool_limits

    X, y = make_data(n, d, seed)
    times = []
    with threadpool_limits(1):
        for _ in range(repeats):
            t0 = time.perf_counter()
            model = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
            times.append(time.perf_counter() - t0)
    print(json.dumps({"times": times, "beta": np.r_[model.coef_, model.intercept_].tolist()}))


def run_highs(n, d, q, seed, repeats, timeout):
    cmd = [sys.executable, __file__, "--highs-worker", f"{n}x{d}", "--quantiles", str(q),
           "--seed", str(seed), "--highs-repeats", str(repeats)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- skrobust
def skrobust_fitter():
    """The estimator path if it works, else the solver; (name, fit(X, y, q) -> beta)."""
    X, y = make_data(200, 3, seed=1)
    try:
        from skrobust import RobustRegressor

        RobustRegressor(loss="quantile", quantile=0.3, alpha=0.0).fit(X, y)

        def fit(X, y, q):
            reg = RobustRegressor(loss="quantile", quantile=q, alpha=0.0).fit(X, y)
            return np.r_[reg.coef_, reg.intercept_]

        return 'RobustRegressor(loss="quantile", alpha=0)', fit
    except Exception as exc:  # any failure selects the fallback
        print(f"RobustRegressor(loss='quantile') unavailable ({exc!r}); calling the solver")
        from skrobust.design.linear import LinearDesign
        from skrobust.solvers.quantile import quantile_regression

        def fit(X, y, q):
            return quantile_regression(LinearDesign(X, True), y, None, q).beta

        return "skrobust.solvers.quantile.quantile_regression", fit


def time_skrobust(fit, X, y, q, repeats):
    from threadpoolctl import threadpool_limits

    times = []
    with threadpool_limits(1):
        fit(X, y, q)  # warm-up: imports and numba compilation are not timed
        for _ in range(repeats):
            t0 = time.perf_counter()
            beta = fit(X, y, q)
            times.append(time.perf_counter() - t0)
    return times, beta


# ------------------------------------------------------------------- the process
PUBLISHED = [
    ("R quantreg rq(method='pfnb'), 19 levels at 1e5 x 20", 3.4),
    ("R quantreg rq(method='pfn'), median at 1e6 x 20", 5.4),
    ("R conquer, median at 1e6 x 20 (approximate)", 1.4),
    ("skrobust before the process (19 single fits at 1e5 x 20)", 5.7),
    ("skrobust before the row-sample pilot (median at 1e6 x 20)", 2.45),
]


def median_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def bench_process(n, d, seed, repeats, with_statsmodels):
    import warnings

    from threadpoolctl import threadpool_limits

    from skrobust.design.linear import LinearDesign
    from skrobust.solvers.quantile import quantile_process, quantile_regression

    X, y = make_data(n, d, seed)
    design = LinearDesign(X, True)
    levels = np.arange(1, 20) / 20
    print(f"\nQuantile process: {levels.size} levels 0.05..0.95 at n={n}, d={d} "
          f"(median of {repeats}; statsmodels once)")
    with threadpool_limits(1):
        quantile_process(design, y, None, levels[:2])  # warm-up (numba, imports)
        t_proc, proc = median_of(lambda: quantile_process(design, y, None, levels), repeats)
        t_loop, loop = median_of(
            lambda: [quantile_regression(design, y, None, q) for q in levels], repeats)
        f_loop = np.array([res.objective for res in loop])
        rows = [("skrobust quantile_process", t_proc, proc.objective),
                ("skrobust loop of quantile_regression", t_loop, f_loop)]
        if with_statsmodels:
            import statsmodels.api as sm

            A = sm.add_constant(X)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # IterationLimitWarning on some levels
                t_sm, sm_fits = median_of(
                    lambda: [sm.QuantReg(y, A).fit(q=q).params for q in levels], 1)
            f_sm = np.array([pinball_sum(y, A @ b, q)
                             for b, q in zip(sm_fits, levels, strict=True)])
            rows.append(("statsmodels QuantReg loop", t_sm, f_sm))
    print(f"{'method':<40} {'seconds':>8} {'vs process':>10} {'max objective gap':>18}")
    for name, t, f in rows:
        gap = float(np.max((f - f_loop) / f_loop))
        print(f"{name:<40} {t:>8.3f} {t / t_proc:>9.1f}x {gap:>18.1e}")


# ------------------------------------------------------------------- crossing
def bench_crossing(sizes, seed):
    """Crossings of 13 independent fits (0.05..0.95) against the non-crossing process, on
    heteroscedastic data (spread growing with x0), and what the constraints cost."""
    from skrobust.design.linear import LinearDesign
    from skrobust.solvers.quantile import quantile_process

    levels = np.linspace(0.05, 0.95, 13)
    warm = np.random.default_rng(seed).uniform(size=(200, 2))  # imports, numba: not timed
    quantile_process(LinearDesign(warm, True), warm.sum(axis=1) + warm[:, 0] ** 3, None,
                     [0.2, 0.8], noncrossing=True)
    from scipy.optimize import linprog

    linprog([1.0], bounds=[(0.0, 1.0)], method="highs")  # the first HiGHS call loads it
    print(f"\nCrossing: {levels.size} levels 0.05..0.95, y = 1 + x'b + (0.2 + 2 x0) t_3, "
          "x uniform on [0, 1]^2")
    print(f"{'n':>6} | {'rows crossed: free':>18} {'noncrossing':>11} | {'objective gap':>13} "
          f"{'free s':>7} {'noncrossing s':>13}")
    for n in sizes:
        rng = np.random.default_rng(seed + n)
        X = rng.uniform(0.0, 1.0, (n, 2))
        y = 1.0 + X @ [1.0, -0.5] + (0.2 + 2.0 * X[:, 0]) * rng.standard_t(3, n)
        design = LinearDesign(X, True)
        counts, objectives, times = [], [], []
        for noncrossing in (False, True):
            t0 = time.perf_counter()
            fits = quantile_process(design, y, None, levels, noncrossing=noncrossing)
            times.append(time.perf_counter() - t0)
            pred = np.column_stack([design.predict(b) for b in fits.beta])
            counts.append(int(np.sum(np.any(np.diff(pred, axis=1) < 0, axis=1))))
            objectives.append(float(fits.objective.sum()))
        gap = (objectives[1] - objectives[0]) / objectives[0]
        print(f"{n:>6} | {counts[0]:>11} ({counts[0] / n:>4.0%}) {counts[1]:>11} | {gap:>13.2e} "
              f"{times[0]:>7.3f} {times[1]:>13.3f}")


# ------------------------------------------------------------------- the median
def conquer_like(X, y, q, tol=1e-4, max_iter=1000):
    """Convolution-smoothed quantile regression (Gaussian kernel) by Barzilai-Borwein gradient
    descent from a Huber fit, on standardised columns: a benchmark-only imitation of conquer.
    Returns (coefficients, intercept)."""
    from scipy.special import ndtr

    n, p = X.shape
    mx, sx = X.mean(axis=0), X.std(axis=0)
    sx[sx == 0] = 1.0

    def predict(b):  # b = (intercept, slopes on standardised columns)
        return X @ (b[1:] / sx) + (b[0] - float(mx @ (b[1:] / sx)))

    def xt(g):  # [1, Z]' g without forming Z
        return np.r_[g.sum(), (X.T @ g - mx * g.sum()) / sx] / n

    def descend(b, grad_of):
        g = grad_of(b)
        step = 1.0
        for _ in range(max_iter):
            b_new = b - step * g
            g_new = grad_of(b_new)
            db, dg = b_new - b, g_new - g
            b, g = b_new, g_new
            if np.max(np.abs(g)) < tol:
                break
            den = float(dg @ dg)
            step = float(db @ dg) / den if den > 0 and float(db @ dg) > 0 else 1.0
        return b

    b = np.r_[np.quantile(y, q), np.zeros(p)]
    r = y - predict(b)
    c = 1.345 * 1.4826 * float(np.median(np.abs(r - np.median(r))))
    b = descend(b, lambda b: -xt(np.clip(y - predict(b), -c, c)))  # Huber start
    h = max(((np.log(n) + p) / n) ** 0.4, 0.05)  # conquer's default bandwidth
    b = descend(b, lambda b: xt(ndtr(-(y - predict(b)) / h) - q))  # smoothed check loss
    return b[1:] / sx, b[0] - float(mx @ (b[1:] / sx))


def bench_median(n, d, seed, repeats):
    from threadpoolctl import threadpool_limits

    from skrobust.design.linear import LinearDesign
    from skrobust.solvers.quantile import quantile_regression

    X, y = make_data(n, d, seed)
    print(f"\nMedian at n={n}, d={d} (median of {repeats})")
    with threadpool_limits(1):
        quantile_regression(LinearDesign(X[:5000], True), y[:5000], None, 0.5)  # warm-up
        t_exact, exact = median_of(
            lambda: quantile_regression(LinearDesign(X, True), y, None, 0.5), repeats)
        t_conq, (coef, intercept) = median_of(lambda: conquer_like(X, y, 0.5), repeats)
    f_conq = pinball_sum(y, X @ coef + intercept, 0.5)
    print(f"{'method':<40} {'seconds':>8} {'objective':>16}")
    print(f"{'skrobust quantile_regression (exact)':<40} {t_exact:>8.3f} {exact.objective:>16.6f}")
    print(f"{'conquer-like smoothed fit':<40} {t_conq:>8.3f} {f_conq:>16.6f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000x20", "100000x50"],
                        help="problem sizes as NxD")
    parser.add_argument("--quantiles", nargs="+", type=float, default=[0.1, 0.5, 0.9])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the skrobust fit")
    parser.add_argument("--highs-repeats", type=int, default=None,
                        help="repeats of the HiGHS fit (default: 3 for n <= 1e4, else 1)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed to HiGHS per quantile (subprocess)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--highs-worker", metavar="NxD", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["highs", "process", "crossing", "median"],
                        default=None, help="run one section (default: all)")
    parser.add_argument("--process-size", default="100000x20")
    parser.add_argument("--median-size", default="1000000x20")
    parser.add_argument("--no-statsmodels", action="store_true",
                        help="skip the statsmodels QuantReg loop (about 1.5 min at 1e5 x 20)")
    args = parser.parse_args(argv)

    if args.highs_worker:
        n, d = map(int, args.highs_worker.split("x"))
        highs_worker(n, d, args.quantiles[0], args.seed, args.highs_repeats or 1)
        return
    print("BLAS threads pinned to 1 (threadpoolctl) in every timed fit")
    print("\nPublished reference figures (not measured here):")
    for name, seconds in PUBLISHED:
        print(f"  {name:<60} {seconds:>5.2f} s")
    if args.only in (None, "process"):
        n, d = map(int, args.process_size.split("x"))
        bench_process(n, d, args.seed, 3, not args.no_statsmodels)
    if args.only in (None, "crossing"):
        bench_crossing([500, 1000, 2000, 10000], args.seed)
    if args.only in (None, "median"):
        n, d = map(int, args.median_size.split("x"))
        bench_median(n, d, args.seed, 3)
    if args.only not in (None, "highs"):
        return
    print()

    name, fit = skrobust_fitter()
    print(f"skrobust path: {name}")
    print("BLAS threads pinned to 1 (threadpoolctl) for both solvers; times are medians\n")
    header = (f"{'n':>7} {'d':>3} {'q':>4} | {'HiGHS s':>9} {'skrobust s':>10} {'speed-up':>9} | "
              f"{'coef gap':>9} {'objective gap':>13}")
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        n, d = map(int, size.split("x"))
        X, y = make_data(n, d, args.seed)
        highs_repeats = args.highs_repeats or (3 if n <= 10_000 else 1)
        for q in args.quantiles:
            times, beta = time_skrobust(fit, X, y, q, args.repeats)
            ours = statistics.median(times)
            ref = run_highs(n, d, q, args.seed, highs_repeats, args.timeout)
            if ref is None:
                print(f"{n:>7} {d:>3} {q:>4} | {'timed out':>9} {ours:>10.4f} "
                      f"{'> ' + format(args.timeout / ours, '.0f') + 'x':>9} | "
                      f"{'-':>9} {'-':>13}", flush=True)
                continue
            theirs = statistics.median(ref["times"])
            want = np.asarray(ref["beta"])
            gap = float(np.max(np.abs(beta - want)) / np.max(np.abs(want)))
            f_ours = pinball_sum(y, X @ beta[:-1] + beta[-1], q)
            f_ref = pinball_sum(y, X @ want[:-1] + want[-1], q)
            print(f"{n:>7} {d:>3} {q:>4} | {theirs:>9.3f} {ours:>10.4f} {theirs / ours:>8.0f}x | "
                  f"{gap:>9.1e} {(f_ours - f_ref) / f_ref:>13.1e}", flush=True)
    print("\ncoef gap: max |beta_skrobust - beta_highs| / max |beta_highs| (coefficients and "
          "intercept);\nobjective gap: (pinball sum skrobust - HiGHS) / HiGHS (negative: "
          "skrobust lower).")


if __name__ == "__main__":
    main()
