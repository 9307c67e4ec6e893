"""Where users feel the speed: the large-n rows of the speed table, against peers, in one run.

Rows (each timed as the median of ``--repeats`` fits, one BLAS thread for
every in-process fit, ``threadpoolctl``):

1. MM (``RobustRegressor(loss="tukey")``) at ``n = 1e6``, ``d = 20`` with 10%
   vertical outliers and 5% bad leverage points, against scikit-learn's
   ``HuberRegressor`` on the same data (which is not robust to leverage).
2. MM at ``n = 2e6`` in memory and on dask (``LocalCluster`` of 2
   single-threaded worker processes, data persisted in the workers).
3. ``RobustClassifier()`` (the Blurry loss) at ``n = 5e5``, ``d = 20``, binary,
   20% of the labels flipped, against ``LogisticRegression``.
4. Huber (``RobustRegressor()``) on dask at ``n = 2e6``, ``d = 20`` against
   the same fit in memory.  For each dask row one more fit reports its graphs and
   the CPU seconds of the workers and of this process (client and scheduler),
   figures the load of a shared machine does not inflate much, and another its
   tasks (counted before dask's graph optimization).

The first fit in a fresh process (numba compile time) and the
``GridSearchCV(n_jobs=2)`` overhead are measured by ``bench_first_fit.py``.

The machine is shared: read the same-run ratios, not the absolute times.
Run ``python benchmarks/bench_speed.py`` (``--quick`` divides every ``n`` by
10; ``--rows mm clf`` picks rows, ``--rows dask`` only the dask rows, Huber and
MM each against its own in-memory fit; ``--dask-n 500000`` sets their ``n``).
From a worktree, put it first: ``PYTHONPATH=. python benchmarks/bench_speed.py``
(the script's folder comes first on the path, not the current one).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits


def regression_data(n, d, seed=0):
    """Gaussian design, 10% vertical outliers (+30) and 5% bad leverage points."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    beta = np.linspace(-2.0, 2.0, d)
    y = X @ beta + 2.0 + rng.standard_normal(n)
    k_out, k_lev = n // 10, n // 20
    y[:k_out] += 30.0
    X[k_out:k_out + k_lev] += 10.0
    y[k_out:k_out + k_lev] = -20.0
    return X, y, beta


def classification_data(n, d, flip=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (X @ w + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    flipped = rng.random(n) < flip
    return X, np.where(flipped, 1 - y, y)


def median_time(fit, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fit()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def report(rows):
    print("\n| what | skrobust (s) | peer | peer (s) | ratio peer / skrobust |")
    print("|---|---|---|---|---|")
    for what, ours, peer, theirs in rows:
        print(f"| {what} | {ours:.2f} | {peer} | {theirs:.2f} | {theirs / ours:.2f}x |")


def mm_rows(n, n_big, d, repeats):
    from sklearn.linear_model import HuberRegressor

    from skrobust import RobustRegressor

    X, y, beta = regression_data(n, d)
    RobustRegressor(loss="tukey", random_state=0).fit(X[:5000], y[:5000])  # compile
    t_mm, mm = median_time(lambda: RobustRegressor(loss="tukey", random_state=0).fit(X, y),
                           repeats)
    t_hub, hub = median_time(lambda: HuberRegressor(max_iter=1000).fit(X, y), repeats)
    print(f"MM n={n:,}: {t_mm:.2f} s, max |coef - beta| {np.abs(mm.coef_ - beta).max():.3f}; "
          f"HuberRegressor {t_hub:.2f} s, max |coef - beta| {np.abs(hub.coef_ - beta).max():.3f}",
          flush=True)
    rows = [(f"MM n={n:.0e} d={d}", t_mm, "HuberRegressor", t_hub)]
    X = y = None  # free the 1e6 rows before the 2e6 ones
    Xb, yb, _ = regression_data(n_big, d)
    t_big, _ = median_time(lambda: RobustRegressor(loss="tukey", random_state=0).fit(Xb, yb),
                           repeats)
    print(f"MM n={n_big:,} in memory: {t_big:.2f} s ({t_big / t_mm:.2f}x the n={n:,} time, "
          f"linear scaling would be {n_big / n:.1f}x)", flush=True)
    return rows, t_big


def classifier_row(n, d, repeats):
    from sklearn.linear_model import LogisticRegression

    from skrobust import RobustClassifier

    X, y = classification_data(n, d)
    RobustClassifier().fit(X[:5000], y[:5000])  # compile
    t_rc, _ = median_time(lambda: RobustClassifier().fit(X, y), repeats)
    t_lr, _ = median_time(lambda: LogisticRegression().fit(X, y), repeats)
    print(f"classifier n={n:,}: RobustClassifier {t_rc:.2f} s, LogisticRegression "
          f"{t_lr:.2f} s", flush=True)
    return [(f"RobustClassifier() n={n:.0e} d={d}, 20% flipped", t_rc, "LogisticRegression",
             t_lr)]


def dask_fit_costs(client, fit):
    """The load-insensitive costs of one dask fit: (graphs, tasks, CPU s of the workers, CPU s
    of this process, which runs the LocalCluster's scheduler)."""
    import psutil
    from bench_dask import GraphCount

    workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]

    def cpu():
        return sum(sum(p.cpu_times()[:2]) for p in workers), time.process_time()

    (w0, c0) = cpu()
    with GraphCount(client) as graphs:
        fit()
    w1, c1 = cpu()
    with GraphCount(client, tasks=True) as tasks:
        fit()
    return graphs.count, tasks.tasks, w1 - w0, c1 - c0


def dask_rows(n, d, repeats, losses, t_mm_memory=None):
    """Fit on a persisted dask array and, on the same data, in memory."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster, wait

    from skrobust import RobustRegressor

    rows = []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        X, y, _ = regression_data(n, d)
        chunk = max(n // 8, 1)
        Xd = da.from_array(X, chunks=(chunk, d)).persist()
        yd = da.from_array(y, chunks=chunk).persist()
        wait([Xd, yd])
        for loss in losses:
            kw = {"loss": loss, "random_state": 0}
            RobustRegressor(**kw).fit(X[:5000], y[:5000])  # compile in this process
            est = RobustRegressor(**kw).fit(Xd[:chunk], yd[:chunk])  # and in the workers
            t_dask, est = median_time(lambda kw=kw: RobustRegressor(**kw).fit(Xd, yd), repeats)
            if loss == "tukey" and t_mm_memory is not None:
                t_mem, ref = t_mm_memory, RobustRegressor(**kw).fit(X, y)
            else:
                t_mem, ref = median_time(lambda kw=kw: RobustRegressor(**kw).fit(X, y), repeats)
            gap = float(np.max(np.abs(est.coef_ - ref.coef_)))
            graphs, tasks, cpu_workers, cpu_client = dask_fit_costs(
                client, lambda kw=kw: RobustRegressor(**kw).fit(Xd, yd))
            print(f"dask {loss} n={n:,}: {t_dask:.2f} s ({est.n_iter_} iterations), in memory "
                  f"{t_mem:.2f} s ({ref.n_iter_} iterations), max |coef gap| {gap:.1e}; one "
                  f"dask fit: {graphs} graphs ({tasks} tasks), CPU s workers {cpu_workers:.2f}, "
                  f"client and scheduler {cpu_client:.2f}", flush=True)
            rows.append((f"{loss} on dask (2 workers) n={n:.0e} d={d}", t_dask,
                         "same fit in memory", t_mem))
    finally:
        client.close()
        cluster.close()
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", nargs="+", default=["mm", "clf", "dask"],
                    choices=["mm", "clf", "dask"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="every n divided by 10")
    ap.add_argument("--dask-n", type=int, default=None, help="rows of the dask fits")
    args = ap.parse_args(argv)
    scale = 10 if args.quick else 1
    warnings.simplefilter("ignore")
    import skrobust

    print(f"skrobust from {os.path.dirname(skrobust.__file__)}; load average "
          f"{os.getloadavg()}, cpus {os.cpu_count()}", flush=True)
    rows, t_big = [], None
    with threadpool_limits(1):
        if "mm" in args.rows:
            mm, t_big = mm_rows(1_000_000 // scale, 2_000_000 // scale, args.d, args.repeats)
            rows += mm
        if "clf" in args.rows:
            rows += classifier_row(500_000 // scale, args.d, args.repeats)
        if "dask" in args.rows:
            n = 2_000_000 // scale if args.dask_n is None else args.dask_n
            rows += dask_rows(n, args.d, args.repeats, ["huber", "tukey"],
                              t_big if n == 2_000_000 // scale else None)
    report(rows)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
