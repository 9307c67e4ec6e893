"""MM-estimation speed: skrobust's MM fit against a peer, and its scaling in n.

``RobustRegressor(loss="tukey")`` (fast-S start, Tukey M-step) on data with
10% vertical outliers and 5% bad leverage points, against one peer fitted
to the same data in the same run:

- ``--peer huber`` (default): scikit-learn's ``HuberRegressor`` with
  ``max_iter`` large enough to converge (it is not robust to the leverage
  points, see its coefficient error);
- ``--peer rlmdetsmm``: statsmodels' ``RLMDetSMM`` (slow: only up to
  ``--peer-max-n`` rows).

A second row fits MM on ``--scale-factor`` times as many rows (in memory),
to read off how the time scales with n.  BLAS is pinned to one thread for
everyone; times are medians over ``--repeats`` fits.

``--profile K`` also prints the ``K`` largest cumulative costs of one more
MM fit at ``n`` under ``cProfile`` (same BLAS pinning).

Run: ``python benchmarks/bench_mm.py [--n 1000000] [--d 20] [--repeats 3]
[--peer huber] [--scale-factor 2] [--profile 25]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits


def make_data(n, d, outliers=0.10, leverage=0.05, seed=0):
    """Gaussian design; ``outliers`` of the rows shifted in y, ``leverage`` of them bad
    leverage points (a far cluster in X with a wrong y)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = rng.uniform(1, 3, size=d)
    y = X @ coef + 1.0 + rng.normal(size=n)
    k, lev = int(outliers * n), int(leverage * n)
    y[:k] += rng.normal(50.0, 5.0, size=k)
    X[k:k + lev] = 8.0 + 0.1 * rng.normal(size=(lev, d))
    y[k:k + lev] = -30.0
    return X, y, coef


def timed(fit, repeats):
    """Median wall time and median CPU time of the process (single-threaded work: on a
    shared machine the CPU time is what an idle core would take), and the last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fit()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return (float(np.median(wall)), float(np.median(cpu))), out


def _error(coef, truth):
    return float(np.max(np.abs(np.asarray(coef) - truth) / truth))


def _peer_row(peer, X, y, coef, repeats, max_n):
    if peer == "huber":
        from sklearn.linear_model import HuberRegressor

        def fit():
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a ConvergenceWarning would void the timing
                return HuberRegressor(max_iter=10_000).fit(X, y)

        t, est = timed(fit, repeats)
        return f"scikit-learn HuberRegressor (n_iter_={est.n_iter_})", t, _error(est.coef_, coef)
    if X.shape[0] > max_n:
        nan = float("nan")
        return f"statsmodels RLMDetSMM (skipped above n = {max_n})", (nan, nan), nan
    import statsmodels.api as sm
    from statsmodels.robust.resistant_linear_model import RLMDetSMM

    t, res = timed(lambda: RLMDetSMM(y, sm.add_constant(X)).fit(), 1)
    return "statsmodels RLMDetSMM", t, _error(np.asarray(res.params)[1:], coef)


def _profile(fit, top):
    """Print the ``top`` largest cumulative costs of one profiled ``fit()``."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(fit)
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(top)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer", choices=("huber", "rlmdetsmm", "none"), default="huber")
    parser.add_argument("--peer-max-n", type=int, default=100_000,
                        help="skip RLMDetSMM above this n")
    parser.add_argument("--scale-factor", type=float, default=2.0,
                        help="also fit MM on this many times n rows (0: skip)")
    parser.add_argument("--profile", type=int, default=0,
                        help="print this many top cumulative costs of one profiled MM fit")
    args = parser.parse_args(argv)

    from skrobust import RobustRegressor

    def mm(X, y):
        return RobustRegressor(loss="tukey", random_state=0).fit(X, y)

    X, y, coef = make_data(args.n, args.d)
    rows = []
    with threadpool_limits(1):
        mm(X[:3000], y[:3000])  # compile the numba loops outside the timings
        t_ours, est = timed(lambda: mm(X, y), args.repeats)
        rows.append((f"skrobust MM, n = {args.n}", t_ours, _error(est.coef_, coef)))
        if args.profile > 0:
            _profile(lambda: mm(X, y), args.profile)
        if args.peer != "none":
            rows.append(_peer_row(args.peer, X, y, coef, args.repeats, args.peer_max_n))
        if args.scale_factor > 0:
            n_big = int(args.scale_factor * args.n)
            del X, y
            Xb, yb, coef_b = make_data(n_big, args.d)
            t_big, est = timed(lambda: mm(Xb, yb), args.repeats)
            rows.append((f"skrobust MM, n = {n_big}", t_big, _error(est.coef_, coef_b)))
    print(f"n = {args.n}, d = {args.d}, 10% outliers in y + 5% bad leverage points, "
          f"1 BLAS thread, median of {args.repeats}\n")
    print("| estimator | wall (s) | CPU (s) | CPU / skrobust MM at n | max rel. coef error |")
    print("|---|---|---|---|---|")
    for name, (wall, cpu), e in rows:
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {cpu / t_ours[1]:.2f} | {e:.3g} |")


if __name__ == "__main__":
    main()
