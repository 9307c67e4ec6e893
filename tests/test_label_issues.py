"""Tests for skrobust.label_issues (confident learning on out-of-fold probabilities)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import skrobust
from skrobust._confident_learning import _confident_joint
from skrobust.datasets import corrupt_labels
from skrobust.label_issues import (
    FILTER_METHODS,
    SCORE_METHODS,
    find_label_issues,
    find_label_issues_from_probs,
    label_quality_scores,
    label_quality_scores_from_probs,
)
from skrobust.metrics import detection_report

# A hand-worked example. Thresholds: t0 = mean(.9, .8, .1) = .6, t1 = mean(.8, .7, .1) = .533.
# Sample 2 (label 0) is confident only for class 1, sample 5 (label 1) only for class 0,
# so the confident joint is [[2, 1], [1, 2]] and each filter flags samples 2 and 5.
LABELS = np.array([0, 0, 0, 1, 1, 1])
PROBS = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.9, 0.1]])


@pytest.fixture(scope="module")
def noisy_problem():
    X, y = make_classification(
        n_samples=400,
        n_features=8,
        n_informative=5,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    y_noisy, flipped = corrupt_labels(y, 0.2, random_state=0)
    return X, y_noisy, flipped


def test_hand_computed_confident_joint():
    joint, off = _confident_joint(LABELS, PROBS)
    np.testing.assert_array_equal(joint, [[2, 1], [1, 2]])
    np.testing.assert_array_equal(np.flatnonzero(off), [2, 5])
    for method in FILTER_METHODS:
        mask = find_label_issues_from_probs(LABELS, PROBS, method=method)
        np.testing.assert_array_equal(np.flatnonzero(mask), [2, 5])


def test_calibrated_joint_rows_sum_to_label_counts():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 300)
    logits = rng.normal(size=(300, 5))
    logits[np.arange(300), labels] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    joint, _ = _confident_joint(labels, probs)
    np.testing.assert_array_equal(joint.sum(axis=1), np.bincount(labels))
    assert np.all(np.diag(joint) >= 0)


def test_zero_probability_is_never_confident():
    # Class 1's members give it probability 0, so its threshold is floored at 2e-6 and,
    # with the 1e-6 slack, a zero probability never makes a sample confident for class 1.
    # Sample 2 (label 0, P0 = .6 < t0 = .867, P2 = .4 < t2 = 1) and samples 3-4 are then
    # confident for no class and stay out of the joint.
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    probs = np.array(
        [[1, 0, 0], [1, 0, 0], [0.6, 0, 0.4], [0.5, 0, 0.5], [0.5, 0, 0.5]] + [[0, 0, 1]] * 3
    )
    joint, off = _confident_joint(labels, probs)
    assert not off.any()
    np.testing.assert_array_equal(joint, [[3, 0, 0], [0, 2, 0], [0, 0, 3]])


def test_never_flags_when_prediction_equals_label():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 200)
    probs = rng.dirichlet(np.ones(3), size=200)
    agree = probs.argmax(axis=1) == labels
    for method in FILTER_METHODS:
        mask = find_label_issues_from_probs(labels, probs, method=method)
        assert not np.any(mask & agree)
    np.testing.assert_array_equal(
        find_label_issues_from_probs(labels, probs, method="predicted_neq_given"), ~agree
    )
    # "both" is the intersection of the two pruning filters
    both = find_label_issues_from_probs(labels, probs, method="both")
    by_class = find_label_issues_from_probs(labels, probs, method="prune_by_class")
    by_rate = find_label_issues_from_probs(labels, probs, method="prune_by_noise_rate")
    np.testing.assert_array_equal(both, by_class & by_rate)


def test_frac_noise_and_min_examples_shrink_the_mask():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 300)
    probs = rng.dirichlet(np.ones(3), size=300)
    full = find_label_issues_from_probs(labels, probs)
    half = find_label_issues_from_probs(labels, probs, frac_noise=0.5)
    assert half.sum() < full.sum() and not np.any(half & ~full)
    for method in ("prune_by_noise_rate", "prune_by_class", "both"):
        full = find_label_issues_from_probs(labels, probs, method=method)
        keep = find_label_issues_from_probs(labels, probs, method=method, min_examples_per_class=95)
        assert keep.sum() < full.sum()
        # classes with at most min_examples_per_class samples are not pruned at all
        none = find_label_issues_from_probs(
            labels, probs, method=method, min_examples_per_class=300
        )
        assert not none.any()


def test_detection_on_synthetic_problem(noisy_problem):
    X, y_noisy, flipped = noisy_problem
    mask = find_label_issues(LogisticRegression(), X, y_noisy, random_state=0)
    report = detection_report(flipped, mask)
    assert report["f1"] > 0.75  # chance level is about 0.2
    assert report["precision"] > 0.7 and report["recall"] > 0.7

    scores = label_quality_scores(LogisticRegression(), X, y_noisy, random_state=0)
    assert roc_auc_score(flipped, -scores) > 0.95


def test_string_labels_pipeline_and_reproducibility(noisy_problem):
    X, y_noisy, _ = noisy_problem
    names = np.array(["cherry", "apple", "banana"])  # not in sorted order
    y_str = names[y_noisy]
    clf = make_pipeline(StandardScaler(), LogisticRegression())
    a = find_label_issues(clf, X, y_str, random_state=3)
    b = find_label_issues(clf, X, y_str, random_state=3)
    np.testing.assert_array_equal(a, b)
    # Same as integer labels coded in sorted order of the strings.
    codes = np.searchsorted(np.sort(names), y_str)
    np.testing.assert_array_equal(a, find_label_issues(clf, X, codes, random_state=3))
    assert not hasattr(clf, "classes_")  # the estimator was cloned, not fitted
    s = label_quality_scores(clf, X, y_str, method="normalized_margin", random_state=3)
    assert s.shape == (len(y_str),) and np.all((s >= 0) & (s <= 1))


def test_pred_probs_and_cv_splitters(noisy_problem):
    X, y_noisy, _ = noisy_problem
    clf = LogisticRegression()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    probs = cross_val_predict(clf, X, y_noisy, cv=cv, method="predict_proba")
    expected = find_label_issues_from_probs(y_noisy, probs)
    np.testing.assert_array_equal(find_label_issues(clf, X, y_noisy, random_state=0), expected)
    np.testing.assert_array_equal(find_label_issues(clf, X, y_noisy, cv=cv), expected)
    np.testing.assert_array_equal(
        find_label_issues(clf, X, y_noisy, cv=list(cv.split(X, y_noisy))), expected
    )
    np.testing.assert_array_equal(
        find_label_issues(None, None, y_noisy, pred_probs=probs), expected
    )
    mask, scores = find_label_issues(None, None, y_noisy, pred_probs=probs, return_scores=True)
    np.testing.assert_allclose(scores, probs[np.arange(len(y_noisy)), y_noisy])
    np.testing.assert_allclose(label_quality_scores(None, None, y_noisy, pred_probs=probs), scores)
    # string labels with precomputed probabilities: columns in sorted label order
    y_str = np.array(["a", "b", "c"])[y_noisy]
    np.testing.assert_array_equal(find_label_issues(None, None, y_str, pred_probs=probs), expected)
    np.testing.assert_array_equal(
        find_label_issues_from_probs(y_str, probs[:, ::-1], classes=["c", "b", "a"]), expected
    )


def test_top_level_lazy_names():
    assert skrobust.find_label_issues is find_label_issues
    assert skrobust.label_quality_scores is label_quality_scores


def test_label_quality_scores_hand_computed():
    labels = np.array([0, 1, 2])
    probs = np.array([[0.8, 0.1, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]])
    np.testing.assert_allclose(label_quality_scores_from_probs(labels, probs), [0.8, 0.4, 0.6])
    np.testing.assert_allclose(
        label_quality_scores_from_probs(labels, probs, method="normalized_margin"),
        [0.85, 0.45, 0.7],
    )
    cwe = label_quality_scores_from_probs(labels, probs, method="confidence_weighted_entropy")
    h = -np.sum(probs * np.log(probs), axis=1) / np.log(3)
    r = h / probs[np.arange(3), labels]
    np.testing.assert_allclose(cwe, np.log1p(r) / r)
    assert cwe[1] < cwe[2] < cwe[0]  # the mislabelled-looking sample scores lowest


# ---------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------


class _NoProba(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_bad_inputs(noisy_problem):
    X, y_noisy, _ = noisy_problem
    clf = LogisticRegression()
    with pytest.raises(ValueError, match="single class"):
        find_label_issues(clf, X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="smallest class count"):
        find_label_issues(clf, X[:12], np.array([0] * 8 + [1] * 4), cv=5)
    with pytest.raises(ValueError, match="cv must be at least 2"):
        find_label_issues(clf, X, y_noisy, cv=1)
    with pytest.raises(ValueError, match="lacks class"):
        # unshuffled KFold on sorted labels: a training fold misses a class
        find_label_issues(clf, X, np.sort(y_noisy), cv=KFold(3))
    with pytest.raises(TypeError, match="_NoProba has no predict_proba"):
        find_label_issues(_NoProba(), X, y_noisy)
    with pytest.raises(TypeError, match="SVC has no predict_proba"):
        label_quality_scores(SVC(), X, y_noisy)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        find_label_issues(clf, X[:-1], y_noisy)
    with pytest.raises(ValueError, match="method"):
        find_label_issues(clf, X, y_noisy, method="prune_by_magic")
    with pytest.raises(ValueError, match="method"):
        label_quality_scores(clf, X, y_noisy, method="entropy")
    with pytest.raises(ValueError, match="frac_noise"):
        find_label_issues_from_probs(LABELS, PROBS, frac_noise=0.0)
    with pytest.raises(ValueError, match="min_examples_per_class"):
        find_label_issues_from_probs(LABELS, PROBS, min_examples_per_class=-1)
    with pytest.raises(ValueError, match="different lengths"):
        find_label_issues_from_probs(LABELS[:-1], PROBS)
    with pytest.raises(ValueError, match="2-D"):
        find_label_issues_from_probs(LABELS, PROBS[:, 0])
    with pytest.raises(ValueError, match="non-negative"):
        find_label_issues_from_probs(LABELS, -PROBS)
    with pytest.raises(ValueError, match="3 distinct values"):
        find_label_issues_from_probs(np.array(["a", "b", "c", "a", "b", "c"]), PROBS)
    with pytest.raises(ValueError, match="not in classes"):
        find_label_issues_from_probs(
            np.array(["a", "b", "c", "a", "b", "c"]), PROBS, classes=["a", "b"]
        )
    with pytest.raises(ValueError, match="single class"):
        find_label_issues_from_probs(np.zeros(6, dtype=int), PROBS)
    with pytest.raises(ValueError, match="pass a classifier"):
        find_label_issues(None, X, y_noisy)


# ---------------------------------------------------------------------------
# equality with cleanlab (optional reference; not installed in CI)
# ---------------------------------------------------------------------------


def _random_cases(n_cases, seed):
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        n_classes = int(rng.integers(2, 7))
        n = int(rng.integers(3 * n_classes, 150))
        labels = rng.integers(0, n_classes, n)
        labels[:n_classes] = np.arange(n_classes)
        if case % 4 == 1:  # a class with a single sample
            labels[labels == 1] = 0
            labels[n_classes] = 1
        elif case % 4 == 3 and n_classes > 2:  # a column no label uses
            labels[labels == n_classes - 1] = 0
        logits = rng.normal(size=(n, n_classes)) * rng.uniform(0.5, 4)
        logits[np.arange(n), labels] += rng.uniform(0, 3)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        if case % 2:  # coarse probabilities: many exact ties, and zeros
            probs = np.round(probs, 2)
            probs /= probs.sum(axis=1, keepdims=True)
        yield case, labels, probs


@pytest.mark.filterwarnings("ignore:May not flag all label issues:UserWarning")
def test_equal_to_cleanlab():
    cleanlab_filter = pytest.importorskip(
        "cleanlab.filter", reason="cleanlab is an optional reference, not a dependency"
    )
    from cleanlab.count import compute_confident_joint
    from cleanlab.rank import get_label_quality_scores

    settings = [(1.0, 1), (0.5, 1), (1.0, 0), (0.8, 3)]
    for case, labels, probs in _random_cases(60, seed=0):
        np.testing.assert_array_equal(
            _confident_joint(labels, probs)[0], compute_confident_joint(labels, probs)
        )
        frac_noise, min_examples = settings[case % len(settings)]
        for method in FILTER_METHODS:
            kwargs = {"min_examples_per_class": min_examples}
            if method in ("prune_by_noise_rate", "prune_by_class", "both"):
                kwargs["frac_noise"] = frac_noise
            expected = cleanlab_filter.find_label_issues(
                labels, probs, filter_by=method, n_jobs=1, **kwargs
            )
            got = find_label_issues_from_probs(labels, probs, method=method, **kwargs)
            np.testing.assert_array_equal(got, expected, err_msg=f"case {case}, {method}")
        for method in SCORE_METHODS:
            np.testing.assert_allclose(
                label_quality_scores_from_probs(labels, probs, method=method),
                get_label_quality_scores(labels, probs, method=method),
                err_msg=f"case {case}, {method}",
            )
