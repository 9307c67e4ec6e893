"""Fit time of ``RobustClassifier()`` (Blurry loss) against LogisticRegression at large n.

The speed row of issue 20: n = 500 000 rows, d = 20 standard normal
features, a binary logistic model with 20% of the labels flipped
(``skrobust.datasets.corrupt_labels``, exact count).  Both estimators run
with their defaults (the same L2 penalty: ``alpha = 1`` is ``C = 1``) in
the same process, with every BLAS pool pinned to one thread
(``threadpoolctl``), alternating, after one warm-up fit each (numba's
first compile is not timed).  Prints the median fit time of each, the
ratio, and the iteration counts.

Run ``python benchmarks/bench_classifier_speed.py`` (about half a minute);
``--n`` and ``--repeats`` change the size and the number of timed fits.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.linalg  # noqa: F401  (load SciPy's BLAS before limiting the thread pools)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from skrobust import RobustClassifier
from skrobust.datasets import corrupt_labels


def make_data(n, d, rate=0.2, seed=0):
    """Binary logistic data with ``rate`` of the labels flipped; returns X, noisy y."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(size=(n, d))
    coef = rng.standard_normal(d)
    y = (X @ coef + rng.logistic(size=n) > 0).astype(np.intp)
    y_noisy, _ = corrupt_labels(y, rate, random_state=seed)
    return X, y_noisy


def _timed(est, X, y):
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    X, y = make_data(args.n, args.d)
    makers = {"RobustClassifier()": RobustClassifier,
              "LogisticRegression()": LogisticRegression}
    times = {name: [] for name in makers}
    fitted = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, make in makers.items():  # first fits: numba compile, page faults
            fitted[name] = make().fit(X, y)
        for _ in range(args.repeats):
            for name, make in makers.items():
                times[name].append(_timed(make(), X, y))
    print(f"n = {args.n}, d = {args.d}, binary, 20% flipped labels, one BLAS thread, "
          f"{args.repeats} fits each (median)")
    med = {name: float(np.median(t)) for name, t in times.items()}
    for name in makers:
        n_iter = np.ravel(fitted[name].n_iter_)[0]
        print(f"  {name:22s} {med[name]:7.3f} s   (min {min(times[name]):.3f} s, "
              f"n_iter_ {n_iter})")
    ratio = med["RobustClassifier()"] / med["LogisticRegression()"]
    print(f"  RobustClassifier / LogisticRegression: {ratio:.2f}x the time "
          f"({1 / ratio:.2f}x the speed)")


if __name__ == "__main__":
    main()
