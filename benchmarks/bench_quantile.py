"""Benchmark: exact quantile regression, skrobust vs scikit-learn's QuantileRegressor(highs).

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

    python benchmarks/bench_quantile.py                  # n=1e4,d=20 and n=1e5,d=50
    python benchmarks/bench_quantile.py --sizes 10000x20 --quantiles 0.5
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
        from skrobust.solvers.design import LinearDesign
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
    args = parser.parse_args(argv)

    if args.highs_worker:
        n, d = map(int, args.highs_worker.split("x"))
        highs_worker(n, d, args.quantiles[0], args.seed, args.highs_repeats or 1)
        return

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
