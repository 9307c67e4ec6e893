"""Kernel models: skrobust's exact and Nystroem fits next to KernelRidge, SVR and SVC.

Regression: sinc with 20% one-sided gross outliers.  Exact kernels at n = 5000
(skrobust, KernelRidge, SVR); Nystroem with 500 components at n = 1e5 (skrobust,
and Nystroem + Ridge as the non-robust peer; KernelRidge would need an 80 GB kernel
matrix and SVR hours, so they are skipped there).  Prints wall times (medians),
the ratio to the fastest peer of the same size, and the RMSE to the true function
on a grid.

Classification: two moons with 30% uniform label noise, exact kernels at n = 5000
(RobustClassifier, SVC) and Nystroem-500 at n = 1e5 (RobustClassifier, Nystroem +
LogisticRegression); accuracy on 5000 clean test points.

Tuned accuracy (``--tuned-moons``): two moons, n = 400, 30% uniform label noise, 8
seeds; RobustClassifier, SVC and Nystroem + LogisticRegression each tuned by 5-fold
GridSearchCV on the noisy labels (gamma and their penalty); accuracy on 2000 clean points.

Run: ``python benchmarks/bench_kernels.py [--n-exact 5000] [--n-nystroem 100000]
[--repeats 3] [--tuned-moons]``.
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


def moons_data(n, seed=0):
    from sklearn.datasets import make_moons

    from skrobust.datasets import corrupt_labels

    X, y = make_moons(n, noise=0.15, random_state=seed)
    return X, corrupt_labels(y, 0.3, random_state=seed)[0]


def fit_times(make, X, y, repeats):
    times = []
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
    return model, float(np.median(times))


def run(name, make, X, y, grid, repeats):
    model, t = fit_times(make, X, y, repeats)
    rmse = float(np.sqrt(np.mean((model.predict(grid) - np.sinc(grid[:, 0])) ** 2)))
    return name, t, rmse


def run_classifier(name, make, X, y, test, repeats):
    model, t = fit_times(make, X, y, repeats)
    return name, t, float(model.score(*test))


def print_table(rows, quality, peers):
    fastest_peer = {}
    for name, t, _ in rows:
        if any(name.startswith(p) for p in peers):
            size = name[name.index("(n="):]
            fastest_peer[size] = min(fastest_peer.get(size, np.inf), t)
    print(f"| model | median fit time (s) | time / fastest peer | {quality} |")
    print("|---|---|---|---|")
    for name, t, e in rows:
        ratio = t / fastest_peer.get(name[name.index("(n="):], np.nan)
        print(f"| {name} | {t:.2f} | {ratio:.2f} | {e:.4f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-exact", type=int, default=5000)
    parser.add_argument("--n-nystroem", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads for everyone")
    parser.add_argument("--tuned-moons", action="store_true",
                        help="also compare tuned classifiers on small noisy two-moons samples")
    args = parser.parse_args(argv)

    from sklearn.kernel_approximation import Nystroem
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC, SVR

    from skrobust import RobustClassifier, RobustRegressor

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
        crows = []
        X, y = moons_data(args.n_exact)
        test = moons_data(5000, seed=99)
        test = (test[0], make_moons_clean(5000))
        n = args.n_exact
        crows += [
            run_classifier(f"skrobust RobustClassifier exact (n={n})",
                           lambda: RobustClassifier(kernel="rbf", gamma=3.0), X, y, test,
                           args.repeats),
            run_classifier(f"SVC (n={n})", lambda: SVC(kernel="rbf", gamma=3.0), X, y, test,
                           args.repeats),
        ]
        X, y = moons_data(args.n_nystroem, seed=1)
        n = args.n_nystroem
        crows += [
            run_classifier(f"skrobust RobustClassifier Nystroem-500 (n={n})",
                           lambda: RobustClassifier(kernel="rbf", gamma=3.0, n_components=500,
                                                    random_state=0), X, y, test, args.repeats),
            run_classifier(f"Nystroem-500 + LogisticRegression (n={n})",
                           lambda: make_pipeline(Nystroem(gamma=3.0, n_components=500,
                                                          random_state=0),
                                                 LogisticRegression(max_iter=1000)),
                           X, y, test, args.repeats),
        ]
    print(f"sinc + 20% one-sided outliers, gamma={gamma}, alpha={alpha}, "
          f"{args.threads} BLAS threads, {args.repeats} repeat(s)\n")
    print_table(rows, "RMSE to sinc", ("KernelRidge", "SVR", "Nystroem-500 + Ridge"))
    print("\ntwo moons (noise 0.15), 30% uniform label noise, gamma=3, clean test accuracy\n")
    print_table(crows, "clean test accuracy", ("SVC", "Nystroem-500 + Logistic"))
    if args.tuned_moons:
        with threadpool_limits(args.threads):
            tuned_moons()


def tuned_moons(n_seeds=8):
    """Each classifier tuned by cross-validation on the noisy labels; clean test accuracy."""
    import warnings

    from sklearn.datasets import make_moons
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    from skrobust import RobustClassifier
    from skrobust.datasets import corrupt_labels

    gammas = [0.5, 1.0, 3.0, 10.0]
    models = {
        "RobustClassifier (blurry)": (RobustClassifier(kernel="rbf"),
                                      {"gamma": gammas, "alpha": [0.01, 0.1, 1.0]}),
        "SVC": (SVC(kernel="rbf"), {"gamma": gammas, "C": [0.1, 1.0, 10.0, 100.0]}),
        "Nystroem-100 + LogisticRegression": (
            Pipeline([("map", Nystroem(n_components=100, random_state=0)),
                      ("lr", LogisticRegression(max_iter=1000))]),
            {"map__gamma": gammas, "lr__C": [0.1, 1.0, 10.0, 100.0]}),
    }
    scores = {name: [] for name in models}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(n_seeds):
            X, y = make_moons(400, noise=0.2, random_state=seed)
            y_noisy, _ = corrupt_labels(y, 0.3, random_state=seed)
            Xt, yt = make_moons(2000, noise=0.2, random_state=100 + seed)
            for name, (est, grid) in models.items():
                search = GridSearchCV(est, grid, cv=5).fit(X, y_noisy)
                scores[name].append(search.score(Xt, yt))
    ours = np.array(scores["RobustClassifier (blurry)"])
    print(f"\ntwo moons, n=400, 30% uniform label noise, each model tuned by 5-fold CV on the "
          f"noisy labels, {n_seeds} seeds, clean test accuracy\n")
    print("| model | mean | min | seeds where RobustClassifier is better |")
    print("|---|---|---|---|")
    for name, values in scores.items():
        values = np.array(values)
        better = "" if name.startswith("Robust") else f"{int(np.sum(ours > values))}/{n_seeds}"
        print(f"| {name} | {values.mean():.4f} | {values.min():.3f} | {better} |")


def make_moons_clean(n, seed=99):
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.15, random_state=seed)[1]


if __name__ == "__main__":
    main()
