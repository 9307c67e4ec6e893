"""MM-estimation speed: skrobust's fast-S + Tukey M-step against statsmodels' RLMDetSMM.

Both fit the same data with 10% bad leverage points; BLAS is pinned to one
thread for both.  Prints the median time over repeats, the ratio, and the
coefficient error against the true coefficients.

Run: ``python benchmarks/bench_mm.py [--n 100000] [--d 10] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits


def make_data(n, d, frac=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = rng.uniform(1, 3, size=d)
    y = X @ coef + 1.0 + rng.normal(size=n)
    k = int(frac * n)
    X[:k] = 8.0 + 0.1 * rng.normal(size=(k, d))
    y[:k] = -30.0
    return X, y, coef


def timed(fit, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fit()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-max-n", type=int, default=100_000,
                        help="skip RLMDetSMM above this n")
    args = parser.parse_args(argv)

    from skrobust import RobustRegressor

    X, y, coef = make_data(args.n, args.d)
    rows = []
    with threadpool_limits(1):
        RobustRegressor(loss="tukey", random_state=0).fit(X[:2000], y[:2000])  # compile kernels
        t_ours, mm = timed(lambda: RobustRegressor(loss="tukey", random_state=0).fit(X, y),
                           args.repeats)
        err = np.max(np.abs(mm.coef_ - coef) / coef)
        rows.append(("skrobust RobustRegressor(loss='tukey') [MM]", t_ours, err))
        try:
            import statsmodels.api as sm
            from statsmodels.robust.resistant_linear_model import RLMDetSMM
        except ImportError:  # pragma: no cover - optional peer
            rows.append(("statsmodels RLMDetSMM", float("nan"), float("nan")))
        else:
            if args.n <= args.peer_max_n:
                Xc = sm.add_constant(X)
                t_peer, res = timed(lambda: RLMDetSMM(y, Xc).fit(), 1)
                err_peer = np.max(np.abs(np.asarray(res.params)[1:] - coef) / coef)
                rows.append(("statsmodels RLMDetSMM", t_peer, err_peer))
    print(f"n = {args.n}, d = {args.d}, 10% bad leverage points, 1 BLAS thread\n")
    print("| estimator | median time (s) | ratio to skrobust | max rel. coef error |")
    print("|---|---|---|---|")
    for name, t, e in rows:
        print(f"| {name} | {t:.3f} | {t / t_ours:.1f} | {e:.3g} |")


if __name__ == "__main__":
    main()
