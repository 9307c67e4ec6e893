"""Label-issue detection: skrobust.find_label_issues against cleanlab.

Protocol (shared/reference/classification.md, section 4): digits,
breast_cancer and wine; stratified 70/30 train/test split with
``random_state=seed`` for seeds 0-4; exactly ``round(0.2 * n_train)``
training labels flipped to a uniformly random other class
(``skrobust.datasets.corrupt_labels``); the test labels stay clean.

For each estimator (a factory function in ``ESTIMATORS``, by default
``StandardScaler() + LogisticRegression()``) the out-of-fold probabilities
``cross_val_predict(estimator, X_train, y_noisy,
cv=StratifiedKFold(5, shuffle=True, random_state=seed),
method="predict_proba")`` are computed once and handed to

- ``skrobust.find_label_issues`` (default filter ``prune_by_noise_rate``),
- ``cleanlab.filter.find_label_issues`` with its defaults, when cleanlab is
  importable (it is an optional reference, not a skrobust dependency); the
  ``same`` column counts the settings where both masks are identical.

Columns: detection precision, recall, F1 and balanced accuracy against the
true flip mask (means over seeds, F1 also with its standard deviation),
AUROC of the self-confidence score (threshold-free), and the clean-test
accuracy of the estimator fitted on the noisy training set and on the
training samples that skrobust does not flag.

A ``skrobust.RobustClassifier`` row is added when that class imports; the
row is skipped otherwise. Add an estimator by adding a factory to
``ESTIMATORS``.

Run ``python benchmarks/bench_label_issues.py`` (under a minute on 2 cores);
``--seeds 0 1`` or ``--datasets wine`` to narrow it, ``--rate 0.4`` for
another noise rate.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrobust.datasets import corrupt_labels
from skrobust.label_issues import find_label_issues, label_quality_scores
from skrobust.metrics import detection_report

try:
    from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
except ImportError:  # optional reference
    cleanlab_find_label_issues = None

DATASETS = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
}


def make_logistic_regression():
    """The baseline of the reference protocol: StandardScaler + LogisticRegression(C=1)."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def make_robust_classifier():
    """StandardScaler + skrobust.RobustClassifier (default loss); None if it does not import."""
    try:
        from skrobust import RobustClassifier
    except (ImportError, AttributeError):
        return None
    return make_pipeline(StandardScaler(), RobustClassifier())


# name -> factory returning a fresh (unfitted) classifier with predict_proba, or None to skip
ESTIMATORS = {
    "LogisticRegression": make_logistic_regression,
    "RobustClassifier": make_robust_classifier,
}


def run_setting(estimator, X, y, seed, rate):
    """One (data set, estimator, seed): detection metrics of skrobust (and cleanlab)."""
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    y_noisy, flipped = corrupt_labels(y_tr, rate, kind="uniform", random_state=seed)
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    probs = cross_val_predict(clone(estimator), X_tr, y_noisy, cv=cv, method="predict_proba")

    mask = find_label_issues(None, None, y_noisy, pred_probs=probs)
    scores = label_quality_scores(None, None, y_noisy, pred_probs=probs)
    rows = {
        "skrobust": dict(detection_report(flipped, mask), auroc=roc_auc_score(flipped, -scores))
    }
    noisy_acc = clone(estimator).fit(X_tr, y_noisy).score(X_te, y_te)
    pruned_acc = clone(estimator).fit(X_tr[~mask], y_noisy[~mask]).score(X_te, y_te)
    rows["skrobust"].update(acc_noisy=noisy_acc, acc_pruned=pruned_acc, same=np.nan)
    if cleanlab_find_label_issues is not None:
        cl_mask = cleanlab_find_label_issues(y_noisy, probs, n_jobs=1)
        cl_pruned = clone(estimator).fit(X_tr[~cl_mask], y_noisy[~cl_mask]).score(X_te, y_te)
        rows["cleanlab"] = dict(
            detection_report(flipped, cl_mask),
            auroc=rows["skrobust"]["auroc"],
            acc_noisy=noisy_acc,
            acc_pruned=cl_pruned,
            same=float(np.array_equal(mask, cl_mask)),
        )
        rows["skrobust"]["same"] = rows["cleanlab"]["same"]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument(
        "--estimators", nargs="+", default=list(ESTIMATORS), choices=list(ESTIMATORS)
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    header = (
        f"{'data':<14}{'estimator':<20}{'detector':<10}{'P':>6}{'R':>6}{'F1':>6}{'(sd)':>7}"
        f"{'BA':>6}{'AUROC':>7}{'acc noisy':>10}{'acc pruned':>11}{'same':>7}"
    )
    print(
        f"uniform label noise, rate {args.rate}, seeds {args.seeds}; "
        f"cleanlab {'available' if cleanlab_find_label_issues else 'not installed'}"
    )
    print(header)
    print("-" * len(header))
    start = time.perf_counter()
    for data_name in args.datasets:
        X, y = DATASETS[data_name](return_X_y=True)
        for est_name in args.estimators:
            estimator = ESTIMATORS[est_name]()
            if estimator is None:
                print(f"{data_name:<14}{est_name:<20}skipped (not importable)")
                continue
            results = {}
            for seed in args.seeds:
                for detector, row in run_setting(estimator, X, y, seed, args.rate).items():
                    results.setdefault(detector, []).append(row)
            for detector, rows in results.items():
                mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
                f1_sd = np.std([r["f1"] for r in rows])
                same = (
                    ""
                    if np.isnan(mean["same"])
                    else (f"{int(round(mean['same'] * len(rows)))}/{len(rows)}")
                )
                print(
                    f"{data_name:<14}{est_name:<20}{detector:<10}{mean['precision']:6.3f}"
                    f"{mean['recall']:6.3f}{mean['f1']:6.3f}{f1_sd:7.3f}"
                    f"{mean['balanced_accuracy']:6.3f}{mean['auroc']:7.3f}"
                    f"{mean['acc_noisy']:10.3f}{mean['acc_pruned']:11.3f}{same:>7}"
                )
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
