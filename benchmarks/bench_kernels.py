"""Kernel models: skrobust's exact and Nystroem fits next to KernelRidge and SVR.

Sinc regression with 20% one-sided gross outliers.  Exact kernels at n = 5000
(skrobust, KernelRidge, SVR); Nystroem with 500 components at n = 1e5 (skrobust,
and Nystroem + Ridge as the non-robust peer; KernelRidge would need an 80 GB kernel
matrix and SVR hours, so they are skipped there).  Prints wall times (medians) and
the RMSE to the true function on a grid.

Run: ``python benchmarks/bench_kernels.py [--n-exact 5000] [--n-nystroem 100000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits


def sinc_data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    y = np.sinc(X[:, 0]) + 0.1 * rng.normal(size=n)
    bad = rng.choice(n, n // 5, replace=False)
    y[bad] += rng.uniform(2, 4, bad.size)
    return X, y


def run(name, make, X, y, grid, repeats):
    times = []
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
    rmse = float(np.sqrt(np.mean((model.predict(grid) - np.sinc(grid[:, 0])) ** 2)))
    return name, float(np.median(times)), rmse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-exact", type=int, default=5000)
    parser.add_argument("--n-nystroem", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads for everyone")
    args = parser.parse_args(argv)

    from sklearn.kernel_approximation import Nystroem
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVR

    from skrobust import RobustRegressor

    grid = np.linspace(-3, 3, 400)[:, None]
    gamma, alpha = 2.0, 0.1
    rows = []
    with threadpool_limits(args.threads):
        X, y = sinc_data(args.n_exact)
        RobustRegressor(kernel="rbf", gamma=gamma).fit(X[:200], y[:200])  # compile kernels
        n = args.n_exact
        rows += [
            run(f"skrobust exact Huber (n={n})",
                lambda: RobustRegressor(kernel="rbf", gamma=gamma, alpha=alpha), X, y, grid,
                args.repeats),
            run(f"skrobust exact Tukey MM (n={n})",
                lambda: RobustRegressor(loss="tukey", kernel="rbf", gamma=gamma, alpha=alpha,
                                        random_state=0), X, y, grid, args.repeats),
            run(f"KernelRidge (n={n})", lambda: KernelRidge(kernel="rbf", gamma=gamma,
                                                           alpha=alpha), X, y, grid, args.repeats),
            run(f"SVR (n={n})", lambda: SVR(kernel="rbf", gamma=gamma), X, y, grid, args.repeats),
        ]
        X, y = sinc_data(args.n_nystroem, seed=1)
        n = args.n_nystroem
        rows += [
            run(f"skrobust Nystroem-500 Tukey MM (n={n})",
                lambda: RobustRegressor(loss="tukey", kernel="rbf", gamma=gamma, alpha=alpha,
                                        n_components=500, random_state=0), X, y, grid,
                args.repeats),
            run(f"skrobust Nystroem-500 Huber (n={n})",
                lambda: RobustRegressor(kernel="rbf", gamma=gamma, alpha=alpha,
                                        n_components=500, random_state=0), X, y, grid,
                args.repeats),
            run(f"Nystroem-500 + Ridge (n={n})",
                lambda: make_pipeline(Nystroem(gamma=gamma, n_components=500, random_state=0),
                                      Ridge(alpha=alpha)), X, y, grid, args.repeats),
        ]
    print(f"sinc + 20% one-sided outliers, gamma={gamma}, alpha={alpha}, "
          f"{args.threads} BLAS threads\n")
    print("| model | median fit time (s) | RMSE to sinc |")
    print("|---|---|---|")
    for name, t, e in rows:
        print(f"| {name} | {t:.2f} | {e:.4f} |")


if __name__ == "__main__":
    main()
