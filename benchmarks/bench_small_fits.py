"""Warm fits of small data: the per-fit overhead a user pays in a loop or a grid search.

Each configuration is fitted once to warm up (numba kernels loaded or
compiled, lazy imports done), then timed as the median of ``--repeats``
fits (CPU time of the process, ``time.process_time``: on a shared machine it
varies much less than the wall clock; one BLAS thread through ``threadpoolctl``),
on two sizes:

- 1000 x 5: Gaussian design, 10% vertical outliers (+20), 2% leverage points;
- 200 x 3: the same recipe.

Configurations: Huber with IRLS, Huber with L-BFGS, MM (``loss="tukey"``),
median regression (``loss="quantile"``), and ``RobustClassifier()`` (binary
labels from the same design, 10% flipped).

``--baseline PATH`` also runs this script in a subprocess with
``PYTHONPATH=PATH`` (another checkout of the package, e.g. an older commit),
interleaved with this tree's runs (``--rounds`` alternations, the median of
the rounds' medians is shown), and prints the ratios now / baseline.  The
machine is shared: read the same-run ratios, not the absolute times.

Run ``python benchmarks/bench_small_fits.py [--baseline /path/to/tree]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

SIZES = [(1000, 5), (200, 3)]
CONFIGS = {
    "huber-irls": ("regressor", dict(loss="huber", solver="irls")),
    "huber-lbfgs": ("regressor", dict(loss="huber", solver="lbfgs")),
    "mm": ("regressor", dict(loss="tukey")),
    "quantile": ("regressor", dict(loss="quantile")),
    "classifier": ("classifier", dict()),
}


def _data(n, d, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 1.0 + rng.normal(size=n)
    y[: n // 10] += 20.0
    X[n // 10: n // 10 + n // 50] += 5.0
    labels = (X @ np.linspace(-1.0, 1.0, d) + 0.3 * rng.normal(size=n) > 0).astype(int)
    flip = rng.random(n) < 0.1
    return X, y, labels ^ flip


def _estimator(kind, params):
    if kind == "regressor":
        from skrobust import RobustRegressor

        return RobustRegressor(random_state=0, **params)
    from skrobust import RobustClassifier

    return RobustClassifier(random_state=0, **params)


def measure(configs, repeats):
    """``{"config@n x d": median seconds}`` of warm fits in this process."""
    from threadpoolctl import threadpool_limits

    out = {}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, d in SIZES:
            X, y, labels = _data(n, d)
            for name in configs:
                kind, params = CONFIGS[name]
                target = y if kind == "regressor" else labels
                est = _estimator(kind, params)
                est.fit(X, target)  # warm-up: kernels, lazy imports
                times = []
                for _ in range(repeats):
                    t0 = time.process_time()
                    est.fit(X, target)
                    times.append(time.process_time() - t0)
                out[f"{name}@{n}x{d}"] = statistics.median(times)
    return out


def _run_child(pythonpath, configs, repeats):
    env = dict(os.environ, PYTHONPATH=pythonpath, OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--repeats", str(repeats),
           "--configs", *configs]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternations of this tree and the baseline (with --baseline)")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--baseline", help="path of another checkout to compare against")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.configs, args.repeats)))
        return
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = {"now": here}
    if args.baseline:
        trees["baseline"] = os.path.abspath(args.baseline)
    runs = {label: [] for label in trees}
    for _ in range(args.rounds if args.baseline else 1):
        for label, path in trees.items():
            runs[label].append(_run_child(path, args.configs, args.repeats))
    keys = list(runs["now"][0])
    table = {label: {k: statistics.median(r[k] for r in rs) for k in keys}
             for label, rs in runs.items()}
    header = f"{'fit':<24}{'now ms':>10}"
    if args.baseline:
        header += f"{'baseline ms':>13}{'ratio':>8}"
    print(f"warm fits, CPU ms, median of {args.repeats} (x {len(runs['now'])} rounds), "
          "1 BLAS thread")
    print(header)
    for k in keys:
        line = f"{k:<24}{1e3 * table['now'][k]:>10.2f}"
        if args.baseline:
            base = table["baseline"][k]
            line += f"{1e3 * base:>13.2f}{table['now'][k] / base:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
