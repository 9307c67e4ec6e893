"""RobustRegressor on dask: time per iteration, total time and memory, against the in-memory fit.

Data: ``n`` rows, ``d = 20`` standard normal features, ``y = X beta + 2 + N(0, 1)``
with 10% vertical outliers (+30), generated chunk by chunk in the workers by
``dask.array.random`` (never materialised in one process), row chunks of
``--chunk-rows`` rows, persisted before the fits (generation is timed apart).

Cluster: ``LocalCluster(n_workers=2, threads_per_worker=1)``, worker processes,
every listener on 127.0.0.1.  Peak memory is the largest resident set size
of each worker process, sampled every 0.2 s during the fit.

For ``n <= --in-memory-max`` the same data are gathered to this process and
fitted in memory (``RobustRegressor.fit`` on NumPy, ``--in-memory-blas-threads``
BLAS threads, 1 by default like each worker), which gives the time and
the peak memory of the in-memory fit (this process's resident set size above
its level before the fit) and the largest relative difference of the
coefficients (the two fits must agree).

Fits: Huber with the MAD scale (``RobustRegressor(loss="huber")``: Newton steps,
warm start on a 16384-row sample, the Hessian of a 65536-row sample from 2**18
rows) and Tukey's MM (``loss="tukey"``: fast-S on the in-memory fit's uniform
sample of 32768 rows above 100 000 rows, then IRLS with the S-scale fixed).
The graphs per fit are counted at the client.

Run ``python benchmarks/bench_dask.py`` (``--sizes 1e6 5e6 2e7`` by default; the
2e7 size takes several minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import threading
import time

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

from skrobust import RobustRegressor


class PeakRSS:
    """Sample the resident set size of some processes in a background thread."""

    def __init__(self, pids, interval=0.2):
        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peak = dict.fromkeys(pids, 0)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid, proc in self.procs.items():
                with contextlib.suppress(psutil.Error):
                    self.peak[pid] = max(self.peak[pid], proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def make_data(n, d, chunk_rows, seed=0):
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(chunk_rows, d))
    beta = np.linspace(-2.0, 2.0, d)
    noise = rng.standard_normal(n, chunks=chunk_rows)
    outlier = rng.random(n, chunks=chunk_rows) < 0.1
    y = X @ beta + 2.0 + noise + 30.0 * outlier
    return X, y


class GraphCount:
    """Count the graphs a fit submits to the scheduler.

    It wraps the client's internal ``_graph_to_futures`` (every ``compute``,
    ``persist`` and ``get`` goes through it): wrapping ``Client.get`` itself
    would make dask treat the wrapper as a foreign scheduler and ship the
    persisted data back in every graph.
    """

    def __init__(self, client, tasks=False):
        self.client, self.count, self.tasks = client, 0, 0 if tasks else None

    def __enter__(self):
        self._saved = self.client._graph_to_futures

        def counted(expr, *args, **kwargs):
            self.count += 1
            if self.tasks is not None:  # (materializes the graph once more)
                self.tasks += len(expr.__dask_graph__())
            return self._saved(expr, *args, **kwargs)

        self.client._graph_to_futures = counted
        return self

    def __exit__(self, *exc):
        del self.client._graph_to_futures  # the class's method again


def fit_timed(make_estimator, X, y, worker_pids, client):
    """Fit with verbose output captured: (estimator, total s, per-iteration s, peak MB, lines,
    graphs)."""
    buf = io.StringIO()
    with PeakRSS(worker_pids) as mem, contextlib.redirect_stdout(buf), \
            GraphCount(client) as graphs:
        t0 = time.perf_counter()
        est = make_estimator(verbose=1).fit(X, y)
        total = time.perf_counter() - t0
    lines = buf.getvalue().splitlines()
    # the time between the iteration lines of the main phase (the in-memory loop's lines)
    stamps = [float(m.group(1)) for ln in lines
              if (m := re.search(r"^\[RobustRegressor\s+([0-9.]+)s\] (?:irls|lbfgs): iter", ln))]
    iters = list(np.diff(stamps)) if len(stamps) > 1 else []
    return est, total, iters, {pid: v / 2**20 for pid, v in mem.peak.items()}, lines, \
        graphs.count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 5e6, 2e7])
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--in-memory-max", type=float, default=5e6)
    parser.add_argument("--losses", nargs="+", default=["huber", "tukey"])
    parser.add_argument("--show-iterations", action="store_true")
    parser.add_argument("--in-memory-blas-threads", type=int, default=1,
                        help="BLAS threads of the in-memory fit (the workers use 1 each)")
    args = parser.parse_args(argv)

    import dask
    from dask.distributed import Client, LocalCluster, wait

    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}, "
          f"memory: {psutil.virtual_memory().total / 2**30:.1f} GiB")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    worker_pids = list(client.run(os.getpid).values())
    rows = []
    try:
        for n in (int(v) for v in args.sizes):
            X, y = make_data(n, args.d, args.chunk_rows)
            t0 = time.perf_counter()
            X, y = dask.persist(X, y)
            wait([X, y])
            t_gen = time.perf_counter() - t0
            print(f"\nn = {n:,}: generated and persisted in the workers in {t_gen:.1f} s "
                  f"({X.numblocks[0]} chunks of {args.chunk_rows:,} rows, "
                  f"{X.nbytes / 2**30:.2f} GiB)", flush=True)
            for loss in args.losses:
                kw = {"loss": loss}
                if loss == "tukey":
                    kw["random_state"] = 0

                def make(verbose=0, kw=kw):
                    return RobustRegressor(verbose=verbose, **kw)

                est, total, iters, peak, lines, graphs = fit_timed(make, X, y, worker_pids,
                                                                   client)
                per_it = float(np.mean(iters)) if iters else float("nan")
                print(f"  dask {loss:6s}: {total:7.1f} s, {est.n_iter_} iterations, "
                      f"{graphs} graphs, "
                      f"{per_it:.2f} s/iteration, peak RSS per worker "
                      f"{', '.join(f'{v:.0f}' for v in peak.values())} MB", flush=True)
                if args.show_iterations:
                    print("\n".join("    " + ln for ln in lines))
                row = {"n": n, "loss": loss, "dask_s": total, "iters": est.n_iter_,
                       "s_per_iter": per_it, "worker_mb": max(peak.values()),
                       "mem_s": np.nan, "mem_mb": np.nan, "rel": np.nan}
                if n <= args.in_memory_max:
                    Xn, yn = dask.compute(X, y)
                    me = psutil.Process()
                    base = me.memory_info().rss
                    with (PeakRSS([me.pid]) as mem,
                          threadpool_limits(args.in_memory_blas_threads, "blas")):
                        t0 = time.perf_counter()
                        ref = make().fit(Xn, yn)
                        t_mem = time.perf_counter() - t0
                    extra = (mem.peak[me.pid] - base) / 2**20
                    rel = float(np.max(np.abs(est.coef_ - ref.coef_)
                                       / np.maximum(np.abs(ref.coef_), 1e-12)))
                    print(f"  numpy {loss:6s}: {t_mem:7.1f} s, {ref.n_iter_} iterations, "
                          f"peak RSS +{extra:.0f} MB over the {Xn.nbytes / 2**20:.0f} MB of X; "
                          f"max relative coefficient difference {rel:.1e}", flush=True)
                    row.update(mem_s=t_mem, mem_mb=extra, rel=rel)
                    del Xn, yn, ref
                rows.append(row)
            del X, y
    finally:
        client.close()
        cluster.close()

    print("\n| n | loss | dask fit (s) | iterations | s / iteration | peak RSS / worker (MB) "
          "| in-memory fit (s) | in-memory extra RSS (MB) | max rel. coef. diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:.0e} | {r['loss']} | {r['dask_s']:.1f} | {r['iters']} | "
              f"{r['s_per_iter']:.2f} | {r['worker_mb']:.0f} | "
              + ("-" if np.isnan(r["mem_s"]) else f"{r['mem_s']:.1f}") + " | "
              + ("-" if np.isnan(r["mem_mb"]) else f"{r['mem_mb']:.0f}") + " | "
              + ("-" if np.isnan(r["rel"]) else f"{r['rel']:.1e}") + " |")
    for loss in args.losses:
        sub = [r for r in rows if r["loss"] == loss]
        if len(sub) > 1:
            a, b = sub[0], sub[-1]
            slope = np.log(b["dask_s"] / a["dask_s"]) / np.log(b["n"] / a["n"])
            print(f"{loss}: dask fit time grows like n^{slope:.2f} from {a['n']:.0e} to "
                  f"{b['n']:.0e}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
