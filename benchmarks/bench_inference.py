"""Time summary() against the fit at n = 1e6, d = 20 (issue 17).

Prints, for a Huber M-fit and the MM fit (loss="tukey"): the fit time, the part of it spent
recording the k x k inference statistics (fit_statistics, timed alone on the fitted
coefficients), and the time of summary(), cov_params() and predict_interval() on 1000 rows.

    python benchmarks/bench_inference.py [n] [d]
"""

import sys
import time

import numpy as np

from skrobust import RobustRegressor
from skrobust.inference import fit_statistics


def main(n=1_000_000, d=20):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 1.0 + rng.standard_t(3, size=n)
    y[: n // 20] += 30.0
    for loss in ("huber", "tukey"):
        est = RobustRegressor(loss=loss, random_state=0)
        t0 = time.perf_counter()
        est.fit(X, y)
        fit = time.perf_counter() - t0
        beta = np.r_[est.coef_, est.intercept_]
        s_beta = np.r_[est.s_coef_, est.s_intercept_] if hasattr(est, "s_coef_") else None
        t0 = time.perf_counter()
        fit_statistics(X, y, beta, est.scale_, est.loss_, s_beta=s_beta)
        record = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = est.summary()
        summ = time.perf_counter() - t0
        t0 = time.perf_counter()
        est.cov_params()
        cov = time.perf_counter() - t0
        t0 = time.perf_counter()
        est.predict_interval(X[:1000])
        pi = time.perf_counter() - t0
        print(f"{loss:6s} n={n} d={d}: fit {fit:.3f} s (of which statistics {record:.3f} s, "
              f"{record / fit:.1%}); summary {summ:.4f} s ({summ / fit:.2%} of the fit), "
              f"cov_params {cov:.5f} s, predict_interval(1000 rows) {pi:.4f} s; "
              f"kind {res.cov_kind}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
