"""Time and memory of the fast-S start (elemental subsets) on numeric and tabular designs.

Run from a worktree root: ``PYTHONPATH=. python benchmarks/bench_subsampling.py MODE``.
``time``: median fast_s wall time over several runs on well-conditioned numeric data, with
"simple" and "nonsingular" subsampling interleaved.  ``time-default``: fast_s with its
default only (runs on versions before nonsingular subsampling, for before/after figures).
``memory``: peak traced memory (tracemalloc) of an MM fit's S-start at n = 1100, p = 500.
``tabular``: the one-hot pipeline of issue 16 against the same data without categoricals.
"""

import sys
import time
import tracemalloc
import warnings

import numpy as np

from skrobust.design.linear import LinearDesign
from skrobust.solvers.fast_s import fast_s


def _numeric(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 0.5 * rng.normal(size=n)
    y[: n // 10] += 30.0
    return X, y


def bench_time(repeats=9):
    """fast_s with each subsampling, interleaved so that machine load hits both alike."""
    from skrobust.solvers.subsampling import elemental_fits

    for n, d in ((1000, 5), (10_000, 10)):
        X, y = _numeric(n, d)
        design = LinearDesign(X, True)
        A = np.c_[X[:400], np.ones(400)]
        times = {m: [] for m in ("simple", "nonsingular")}
        draw = {m: [] for m in times}
        for k in range(repeats + 1):
            for method in times:
                t0 = time.perf_counter()
                fast_s(design, y, random_state=k, subsampling=method)
                t1 = time.perf_counter()
                elemental_fits(A, y[:400], np.random.default_rng(k), 500, method)
                t2 = time.perf_counter()
                if k:  # the first round compiles
                    times[method].append(t1 - t0)
                    draw[method].append(t2 - t1)
        for method in times:
            fit_ms = np.median(times[method]) * 1e3
            print(f"n={n} d={d} {method:>11}: fast_s median {fit_ms:.1f} ms,"
                  f" 500 subsets of 400 rows {np.median(draw[method]) * 1e3:.2f} ms "
                  f"({repeats} runs)")


def bench_time_default(repeats=9):
    """fast_s with its default subsampling only: runs on older versions too (before/after)."""
    for n, d in ((1000, 5), (10_000, 10)):
        X, y = _numeric(n, d)
        design = LinearDesign(X, True)
        fast_s(design, y, random_state=0)  # compile
        times = []
        for k in range(repeats):
            t0 = time.perf_counter()
            fast_s(design, y, random_state=k)
            times.append(time.perf_counter() - t0)
        print(f"n={n} d={d} default: fast_s median {np.median(times) * 1e3:.1f} ms "
              f"({repeats} runs)")


def bench_memory(n=1100, p=500):
    X, y = _numeric(n, p)
    design = LinearDesign(X, True)
    fast_s(LinearDesign(X[:60, :3], True), y[:60], random_state=0)  # compile outside the trace
    tracemalloc.start()
    t0 = time.perf_counter()
    fast_s(design, y, random_state=0)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"fast_s n={n} p={p}: peak traced memory {peak / 2**20:.0f} MiB "
          f"(X is {X.nbytes / 2**20:.1f} MiB), {elapsed:.1f} s")


def _table(n=2000, seed=0, categoricals=True):
    import pandas as pd

    rng = np.random.default_rng(seed)
    probs = [0.30, 0.20, 0.10, 0.10, 0.10, 0.05, 0.05, 0.04, 0.03, 0.03]
    city = rng.choice(10, size=n, p=probs)
    kind = rng.integers(0, 3, size=n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    effect = rng.normal(scale=3.0, size=10)
    y = 1 + 2 * x1 - x2 + 0.5 * rng.normal(size=n)
    if categoricals:
        y = y + effect[city]
    bad = rng.random(n) < 0.1
    y[bad] += 30.0
    df = pd.DataFrame({"city": [f"c{k}" for k in city], "kind": [f"k{k}" for k in kind],
                       "x1": x1, "x2": x2})
    return df, y, bad


def bench_tabular(seeds=range(5)):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skrobust import RobustRegressor

    for label, cats, drop in (("one-hot drop='first'", True, "first"),
                              ("one-hot drop=None", True, None),
                              ("numeric only", False, None)):
        errs, recalls, times = [], [], []
        for seed in seeds:
            df, y, bad = _table(seed=seed, categoricals=cats)
            if cats:
                ct = make_column_transformer((OneHotEncoder(drop=drop), ["city", "kind"]),
                                             (StandardScaler(), ["x1", "x2"]))
            else:
                ct = make_column_transformer((StandardScaler(), ["x1", "x2"]))
            pipe = make_pipeline(ct, RobustRegressor(loss="tukey", random_state=seed))
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # drop=None: aliased columns
                pipe.fit(df, y)
            times.append(time.perf_counter() - t0)
            reg = pipe[-1]
            sd = df[["x1", "x2"]].std(ddof=0).to_numpy()
            coef = reg.coef_[-2:] / sd
            errs.append(np.max(np.abs(coef - [2.0, -1.0])))
            recalls.append(np.mean(reg.weights_[bad] < 0.1))
        print(f"pipeline {label}: max |coef error| {max(errs):.4f}, outlier recall "
              f"{min(recalls):.3f} (min over seeds), median fit {np.median(times) * 1e3:.0f} ms")


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    what = sys.argv[1] if len(sys.argv) > 1 else "time"
    with threadpool_limits(1):  # BLAS on one thread: comparable runs on a shared machine
        {"time": bench_time, "time-default": bench_time_default, "memory": bench_memory,
         "tabular": bench_tabular}[what]()
