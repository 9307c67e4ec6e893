"""Clean-test accuracy of RobustClassifier's losses under label noise.

Protocol (shared/reference/classification.md, section 4): breast_cancer,
iris, wine and digits; stratified 70/30 train/test split with
``random_state=seed`` for seeds 0-4; exact-count label noise on the
training labels only (``skrobust.datasets.corrupt_labels``: uniform or
pair flips of ``round(rate * n_train)`` samples, rates 0.1-0.4); the test
labels stay clean.  Every model is ``StandardScaler() + classifier`` with
the same L2 penalty (``C = 1``, ``alpha = 1``), except SGDClassifier
(its own default penalty).

Methods: LogisticRegression, LogisticRegression refitted on the samples
cleanlab keeps (``find_label_issues`` on 5-fold out-of-sample
probabilities; only when cleanlab is importable), SGDClassifier with the
modified Huber loss, and every RobustClassifier loss.

Note on pair noise: ``corrupt_labels(kind="pair")`` flips class k to class
k + 1 (mod K) for samples drawn uniformly among all samples; with two
classes (breast_cancer) this is the same as uniform noise.

Run ``python benchmarks/bench_classification.py`` (about 2-4 minutes on 2
cores); ``--quick`` uses 2 seeds, ``--n-jobs`` sets the worker processes.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skrobust import RobustClassifier

try:
    from skrobust.datasets import corrupt_labels
except ImportError:  # pragma: no cover - fallback when the datasets module is absent

    def corrupt_labels(y, rate, *, kind="uniform", random_state=None):
        """Flip exactly round(rate * n) labels (uniform: random other class; pair: k -> k+1)."""
        rng = np.random.RandomState(random_state)
        classes, codes = np.unique(y, return_inverse=True)
        k = classes.shape[0]
        idx = rng.choice(y.shape[0], size=int(round(rate * y.shape[0])), replace=False)
        if kind == "uniform":
            r = rng.randint(0, k - 1, size=idx.shape[0])
            new = np.where(r >= codes[idx], r + 1, r)
        else:
            new = (codes[idx] + 1) % k
        y_noisy = y.copy()
        y_noisy[idx] = classes[new]
        mask = np.zeros(y.shape[0], dtype=bool)
        mask[idx] = True
        return y_noisy, mask

try:
    from cleanlab.filter import find_label_issues
except ImportError:  # pragma: no cover
    find_label_issues = None

DATASETS = {
    "breast_cancer": load_breast_cancer,
    "iris": load_iris,
    "wine": load_wine,
    "digits": load_digits,
}
RATES = (0.1, 0.2, 0.3, 0.4)
KINDS = ("uniform", "pair")


def robust_methods():
    """The RobustClassifier configurations of the benchmark (name -> estimator)."""
    return {
        "rc log": RobustClassifier("log"),
        "rc gce": RobustClassifier("gce"),
        "rc blurry (default)": RobustClassifier(),
        "rc blurry back_off": RobustClassifier("blurry", back_off=True),
        "rc blurry detach": RobustClassifier("blurry", detach_weight=True),
        "rc pz abs .1": RobustClassifier("piecewise_zero", cutoff=0.1, cutoff_mode="absolute"),
        "rc pz rel .5 (default)": RobustClassifier("piecewise_zero"),
        "rc pz quant .2": RobustClassifier("piecewise_zero", cutoff=0.2, cutoff_mode="quantile"),
        "rc sce": RobustClassifier("sce"),
        "rc huber": RobustClassifier("huber"),
        "rc tukey": RobustClassifier("tukey"),
        "rc barron": RobustClassifier("barron"),
    }


def baseline_methods(seed):
    return {
        "LogisticRegression": LogisticRegression(C=1.0, max_iter=1000),
        "SGD modified_huber": SGDClassifier(loss="modified_huber", random_state=seed),
    }


def _cleanlab_fit(X_tr, y_noisy, X_te, seed):
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    classes, codes = np.unique(y_noisy, return_inverse=True)
    pred_probs = cross_val_predict(model, X_tr, codes, cv=cv, method="predict_proba")
    issues = find_label_issues(codes, pred_probs, n_jobs=1)
    keep = ~issues
    if np.unique(codes[keep]).shape[0] < classes.shape[0]:
        keep = np.ones_like(keep)
    model.fit(X_tr[keep], codes[keep])
    return classes[model.predict(X_te)]


def run_one(name, load, seed, methods=None, baselines=True):
    """All noise settings and methods for one data set and seed: a list of records."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
    settings = [("clean", 0.0)] + [(k, r) for k in KINDS for r in RATES]
    records = []
    with threadpool_limits(1):
        for kind, rate in settings:
            if rate == 0:
                y_noisy = y_tr
            else:
                y_noisy, _ = corrupt_labels(y_tr, rate, kind=kind, random_state=seed)
            todo = dict(baseline_methods(seed)) if baselines else {}
            todo.update(robust_methods() if methods is None else methods)
            for method, est in todo.items():
                t0 = time.perf_counter()
                model = make_pipeline(StandardScaler(), est).fit(X_tr, y_noisy)
                acc = float(np.mean(model.predict(X_te) == y_te))
                records.append((name, seed, kind, rate, method, acc, time.perf_counter() - t0))
            if baselines and find_label_issues is not None:
                t0 = time.perf_counter()
                pred = _cleanlab_fit(X_tr, y_noisy, X_te, seed)
                acc = float(np.mean(pred == y_te))
                records.append((name, seed, kind, rate, "LR + cleanlab", acc,
                                time.perf_counter() - t0))
    return records


def summarise(records, reference="LogisticRegression", default="rc blurry (default)"):
    import pandas as pd

    df = pd.DataFrame(records, columns=["data", "seed", "kind", "rate", "method", "acc", "time"])
    df["setting"] = df["kind"] + " " + df["rate"].map(lambda r: f"{r:.1f}")
    df.loc[df["kind"] == "clean", "setting"] = "clean"
    order = ["clean"] + [f"{k} {r:.1f}" for k in KINDS for r in RATES]
    table = df.pivot_table(index="method", columns="setting", values="acc", aggfunc="mean")
    table = table[order]
    table["noisy mean"] = df[df["kind"] != "clean"].groupby("method")["acc"].mean()
    table["fit s"] = df.groupby("method")["time"].mean()
    table = table.sort_values("noisy mean", ascending=False)
    per_data = df[df["setting"] == "uniform 0.3"].pivot_table(index="method", columns="data",
                                                               values="acc", aggfunc="mean")
    per_data = per_data.loc[table.index]
    return df, table, per_data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds instead of 5")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    seeds = range(2) if args.quick else range(5)
    t0 = time.perf_counter()
    jobs = [(name, load, seed) for name, load in DATASETS.items() for seed in seeds]
    results = Parallel(n_jobs=args.n_jobs)(delayed(run_one)(*job) for job in jobs)
    records = [r for rs in results for r in rs]
    df, table, per_data = summarise(records)
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.float_format", "{:.3f}".format):
        print(f"Mean clean-test accuracy over {len(DATASETS)} data sets x {len(seeds)} seeds")
        print(table.to_string())
        print("\nuniform 30% noise, per data set")
        print(per_data.to_string())
    ref = table.loc["LogisticRegression"]
    dft = table.loc["rc blurry (default)"]
    pair = [f"pair {r:.1f}" for r in RATES]
    print(f"\ndefault - LR at uniform 0.3: {100 * (dft['uniform 0.3'] - ref['uniform 0.3']):+.1f} "
          f"points; pair noise (mean over rates): "
          f"{100 * (dft[pair].mean() - ref[pair].mean()):+.1f} points; clean: "
          f"{100 * (dft['clean'] - ref['clean']):+.1f} points")
    print(f"total time {time.perf_counter() - t0:.0f} s")
    return df


if __name__ == "__main__":
    main()
