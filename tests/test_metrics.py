"""Tests for skrobust.metrics."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, recall_score

from skrobust.metrics import (
    detection_f1,
    detection_precision,
    detection_recall,
    detection_report,
    noise_robustness_curve,
)

TRUE = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
PRED = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=bool)


def test_hand_computed_case():
    # tp = 2, fp = 1, fn = 1, tn = 6
    assert detection_precision(TRUE, PRED) == pytest.approx(2 / 3)
    assert detection_recall(TRUE, PRED) == pytest.approx(2 / 3)
    assert detection_f1(TRUE, PRED) == pytest.approx(2 / 3)
    report = detection_report(TRUE, PRED)
    assert report["balanced_accuracy"] == pytest.approx((2 / 3 + 6 / 7) / 2)
    assert (report["tp"], report["fp"], report["fn"], report["tn"]) == (2, 1, 1, 6)
    assert set(report) >= {"precision", "recall", "f1", "balanced_accuracy"}


def test_unbalanced_case_f1_is_harmonic_mean():
    true = [1, 1, 1, 1, 0, 0]
    pred = [1, 0, 0, 0, 1, 1]  # p = 1/3, r = 1/4
    p, r = 1 / 3, 1 / 4
    assert detection_f1(true, pred) == pytest.approx(2 * p * r / (p + r))


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_sklearn(seed):
    rng = np.random.default_rng(seed)
    t = rng.random(50) < 0.3
    p = rng.random(50) < 0.4
    report = detection_report(t, p)
    assert report["precision"] == pytest.approx(precision_score(t, p))
    assert report["recall"] == pytest.approx(recall_score(t, p))
    assert report["f1"] == pytest.approx(f1_score(t, p))
    assert report["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(t, p))


def test_perfect_and_empty_cases():
    report = detection_report(TRUE, TRUE)
    assert report["precision"] == report["recall"] == report["f1"] == 1.0
    assert report["balanced_accuracy"] == 1.0
    # nothing flagged: precision and f1 are 0 by convention, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nothing = np.zeros_like(TRUE)
        assert detection_precision(TRUE, nothing) == 0.0
        assert detection_f1(TRUE, nothing) == 0.0
        assert detection_report(TRUE, nothing)["balanced_accuracy"] == 0.5
        # nothing corrupted: recall 0, balanced accuracy = true-negative rate
        report = detection_report(nothing, PRED)
    assert report["recall"] == 0.0
    assert report["balanced_accuracy"] == pytest.approx(7 / 10)


def test_boolean_like_inputs():
    assert detection_f1([1.0, 0.0, 1.0], np.array([1, 0, 0], dtype=np.uint8)) == pytest.approx(
        2 / 3
    )
    assert detection_f1([True, False], [1, 0]) == 1.0


@pytest.mark.parametrize(
    "true, pred, match",
    [
        ([1, 0, 1], [1, 0], "different lengths"),
        ([1, 2, 0], [1, 0, 0], "boolean-like"),
        (["a", "b"], [1, 0], "boolean-like"),
        ([[1, 0]], [[1, 0]], "one-dimensional"),
        ([], [], "empty"),
        ([0.5, 1.0], [1, 0], "boolean-like"),
    ],
)
def test_mask_validation(true, pred, match):
    for func in (detection_precision, detection_recall, detection_f1, detection_report):
        with pytest.raises(ValueError, match=match):
            func(true, pred)


# ---------------------------------------------------------------------------
# noise_robustness_curve
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_clf():
    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=1000).fit(X, y), X, y


def test_curve_decreases_and_starts_at_clean_score(iris_clf):
    clf, X, y = iris_clf
    sigmas, mean, std = noise_robustness_curve(
        clf, X, y, [0, 0.25, 1.0, 3.0], n_repeats=4, random_state=0
    )
    np.testing.assert_array_equal(sigmas, [0.0, 0.25, 1.0, 3.0])
    assert mean[0] == pytest.approx(clf.score(X, y))
    assert std[0] == 0.0
    assert np.all(np.diff(mean) < 0)
    assert np.all(std[1:] >= 0) and std[-1] > 0
    assert mean[-1] < 0.7  # heavy noise: far below clean accuracy


def test_curve_reproducible_and_scaled_per_feature(iris_clf):
    clf, X, y = iris_clf
    a = noise_robustness_curve(clf, X, y, [0.5], random_state=3)
    b = noise_robustness_curve(clf, X, y, [0.5], random_state=3)
    np.testing.assert_array_equal(a[1], b[1])
    # rescaling a feature (and the model accordingly) leaves the curve unchanged
    scale = np.array([100.0, 1.0, 1.0, 0.01])
    clf2 = LogisticRegression(max_iter=1000).fit(X, y)
    clf2.coef_ = clf.coef_ / scale
    clf2.intercept_ = clf.intercept_
    c = noise_robustness_curve(clf2, X * scale, y, [0.5], random_state=3)
    np.testing.assert_allclose(a[1], c[1])


def test_curve_with_dataframe_keeps_feature_names(iris_clf):
    import pandas as pd
    _, X, y = iris_clf
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = LogisticRegression(max_iter=1000).fit(df, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        _, mean, _ = noise_robustness_curve(clf, df, y, [0.0, 0.1], random_state=0)
    assert mean[0] == pytest.approx(clf.score(df, y))


def test_curve_regression_scoring():
    X, y = make_regression(100, 3, noise=1.0, random_state=0)
    reg = LinearRegression().fit(X, y)
    _, mean, _ = noise_robustness_curve(reg, X, y, [0.0, 1.0], scoring=None, random_state=0)
    assert mean[0] == pytest.approx(reg.score(X, y))
    assert mean[1] < mean[0]
    _, mean, _ = noise_robustness_curve(
        reg, X, y, [0.0], scoring="neg_mean_absolute_error", random_state=0
    )
    assert mean[0] < 0


def test_curve_validation(iris_clf):
    clf, X, y = iris_clf
    with pytest.raises(ValueError, match="sigmas"):
        noise_robustness_curve(clf, X, y, [-0.1])
    with pytest.raises(ValueError, match="sigmas"):
        noise_robustness_curve(clf, X, y, [np.nan])
    with pytest.raises(ValueError, match="n_repeats"):
        noise_robustness_curve(clf, X, y, [0.1], n_repeats=0)
    with pytest.raises(ValueError, match="different lengths"):
        noise_robustness_curve(clf, X, y[:-1], [0.1])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        noise_robustness_curve(LogisticRegression(), X, y, [0.1])
