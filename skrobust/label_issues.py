"""Label-issue detection by confident learning on out-of-fold probabilities.

:func:`find_label_issues` and :func:`label_quality_scores` make
out-of-fold ``predict_proba`` of any classifier by cross-validation and
pass them to :func:`find_label_issues_from_probs` and
:func:`label_quality_scores_from_probs`, the confident-learning core
(Northcutt, Jiang and Chuang, JAIR 2021) with the conventions and defaults
of ``cleanlab.filter.find_label_issues`` (cleanlab 2.x; cleanlab is not a
dependency).  The core and its conventions are documented in
``skrobust._confident_learning``; it is re-exported here.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._confident_learning import (  # the constants are imported from here too
    FILTER_METHODS,  # noqa: F401
    SCORE_METHODS,
    _check_filter_params,
    _check_labels,
    find_label_issues_from_probs,
    label_quality_scores_from_probs,
)

__all__ = [
    "find_label_issues",
    "find_label_issues_from_probs",
    "label_quality_scores",
    "label_quality_scores_from_probs",
]


# --------------------------------------------------------------------------
# estimator-level API (out-of-fold probabilities)
# --------------------------------------------------------------------------


def _out_of_fold_proba(estimator, X, y, cv, random_state, n_jobs):
    """Encoded labels, out-of-fold ``predict_proba`` and the class labels."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.validation import check_consistent_length

    if estimator is None:
        raise ValueError("estimator is None; pass a classifier, or pred_probs=.")
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"estimator {type(estimator).__name__} has no predict_proba; label issues need "
            "predicted probabilities (for example SVC(probability=True), or wrap the "
            "model in CalibratedClassifierCV)."
        )
    y = _check_labels(y, "y")
    check_consistent_length(X, y)
    encoder = LabelEncoder()
    codes = encoder.fit_transform(y)
    classes = encoder.classes_
    if classes.shape[0] < 2:
        raise ValueError("y contains a single class; label issues need at least 2 classes.")
    counts = np.bincount(codes)

    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2, got cv={cv}.")
        smallest = int(np.argmin(counts))
        if cv > counts[smallest]:
            raise ValueError(
                f"cv={cv} is larger than the smallest class count: class "
                f"{classes[smallest]!r} has only {counts[smallest]} samples, so some training "
                "folds would miss it. Use cv <= the smallest class count."
            )
        cv = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    if hasattr(cv, "split"):
        splits = list(cv.split(X, codes))
    else:
        splits = list(cv)
    for i, (train, _) in enumerate(splits):
        missing = np.setdiff1d(np.arange(classes.shape[0]), codes[train])
        if missing.size:
            raise ValueError(
                f"Training fold {i} of cv lacks class(es) {list(classes[missing])}; every "
                "training fold must contain every class (use a stratified splitter or "
                "fewer folds)."
            )
    pred_probs = cross_val_predict(
        clone(estimator), X, codes, cv=splits, method="predict_proba", n_jobs=n_jobs
    )
    return codes, pred_probs, classes


_CV_DOC = """cv : int, cross-validation splitter or iterable, default=5
        How out-of-fold probabilities are made: an int ``k`` means
        ``StratifiedKFold(k, shuffle=True, random_state=random_state)``; a
        splitter (``split(X, y)`` is called) or an iterable of
        ``(train, test)`` index arrays must partition the samples, and each
        training fold must contain every class."""


def find_label_issues(
    estimator,
    X,
    y,
    *,
    cv=5,
    method="prune_by_noise_rate",
    frac_noise=1.0,
    min_examples_per_class=1,
    pred_probs=None,
    random_state=None,
    n_jobs=None,
    return_scores=False,
):
    """Flag likely mislabelled samples with confident learning.

    Out-of-fold probabilities come from
    ``cross_val_predict(clone(estimator), X, y, cv=cv, method="predict_proba")``
    (never in-sample), then :func:`find_label_issues_from_probs` applies
    confident learning, with the same result as cleanlab's
    ``find_label_issues`` on the same probabilities.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier with ``predict_proba`` (a Pipeline too).
        It is cloned, never fitted in place. Ignored when ``pred_probs`` is
        given (may then be None).
    X : array-like of shape (n_samples, n_features)
        Inputs, in whatever form ``estimator`` accepts. Ignored when
        ``pred_probs`` is given (may then be None).
    y : array-like of shape (n_samples,)
        Given, possibly noisy, labels (integers, strings, ...).
    {cv}
    method : {{"prune_by_noise_rate", "prune_by_class", "both", \
"confident_learning", "predicted_neq_given"}}, default="prune_by_noise_rate"
        Confident-learning filter (cleanlab's ``filter_by``); see
        :mod:`skrobust.label_issues`.
    frac_noise : float in (0, 1], default=1.0
        Fraction of the estimated number of issues to flag.
    min_examples_per_class : int >= 0, default=1
        The pruning filters count at least this many correct labels in each
        class (so roughly this many samples per class stay unflagged);
        classes this small are not pruned.
    pred_probs : array-like of shape (n_samples, n_classes), default=None
        Precomputed out-of-sample probabilities, columns in the sorted order
        of the distinct labels of ``y`` (or integer labels indexing the
        columns). Skips the cross-validation.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling when ``cv`` is an int.
    n_jobs : int or None, default=None
        Parallel folds, passed to ``cross_val_predict``.
    return_scores : bool, default=False
        Also return the self-confidence label-quality score of each sample
        (the out-of-fold probability of its given label).

    Returns
    -------
    label_issues : ndarray of shape (n_samples,), dtype=bool
        True for samples whose label is likely wrong.
    scores : ndarray of shape (n_samples,)
        Only if ``return_scores``: self-confidence scores (low = suspect).

    Raises
    ------
    TypeError
        If ``estimator`` has no ``predict_proba``.
    ValueError
        If ``y`` has a single class, ``cv`` exceeds the smallest class count
        (or a training fold misses a class), lengths differ, or a parameter
        is invalid.

    See Also
    --------
    skrobust.datasets.corrupt_labels : Make labels with known flips.
    skrobust.metrics.detection_report : Score a mask against the true flips.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skrobust import find_label_issues
    >>> from skrobust.datasets import corrupt_labels
    >>> from skrobust.metrics import detection_report
    >>> X, y = load_iris(return_X_y=True)
    >>> y_noisy, flipped = corrupt_labels(y, 0.1, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), LogisticRegression())
    >>> issues = find_label_issues(clf, X, y_noisy, random_state=0)
    >>> issues.shape, issues.dtype
    ((150,), dtype('bool'))
    >>> detection_report(flipped, issues)["f1"] > 0.7
    True
    """
    _check_filter_params(method, frac_noise, min_examples_per_class)
    if pred_probs is None:
        codes, pred_probs, _ = _out_of_fold_proba(estimator, X, y, cv, random_state, n_jobs)
    else:
        codes = y
    mask = find_label_issues_from_probs(
        codes,
        pred_probs,
        method=method,
        frac_noise=frac_noise,
        min_examples_per_class=min_examples_per_class,
    )
    if return_scores:
        return mask, label_quality_scores_from_probs(codes, pred_probs)
    return mask


def label_quality_scores(
    estimator,
    X,
    y,
    *,
    cv=5,
    method="self_confidence",
    pred_probs=None,
    random_state=None,
    n_jobs=None,
):
    """Score each label's quality from out-of-fold probabilities (low = suspect).

    Out-of-fold probabilities come from ``cross_val_predict`` as in
    :func:`find_label_issues`; the scores are those of
    :func:`label_quality_scores_from_probs` (equal to cleanlab's
    ``get_label_quality_scores``). Sorting by score ranks the samples for
    review; it needs no threshold.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier with ``predict_proba``; cloned. Ignored
        when ``pred_probs`` is given.
    X : array-like of shape (n_samples, n_features)
        Inputs. Ignored when ``pred_probs`` is given.
    y : array-like of shape (n_samples,)
        Given labels.
    {cv}
    method : {{"self_confidence", "normalized_margin", \
"confidence_weighted_entropy"}}, default="self_confidence"
        Score; see :func:`label_quality_scores_from_probs`.
    pred_probs : array-like of shape (n_samples, n_classes), default=None
        Precomputed out-of-sample probabilities (skips the cross-validation).
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling when ``cv`` is an int.
    n_jobs : int or None, default=None
        Parallel folds, passed to ``cross_val_predict``.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Scores in [0, 1]; lower means the given label is more likely wrong.

    Raises
    ------
    TypeError
        If ``estimator`` has no ``predict_proba``.
    ValueError
        As :func:`find_label_issues`, or an unknown ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skrobust import label_quality_scores
    >>> from skrobust.datasets import corrupt_labels
    >>> X, y = load_iris(return_X_y=True)
    >>> y_noisy, flipped = corrupt_labels(y, 0.1, random_state=0)
    >>> scores = label_quality_scores(
    ...     LogisticRegression(max_iter=1000), X, y_noisy, random_state=0)
    >>> worst = np.argsort(scores)[:10]
    >>> int(flipped[worst].sum()) >= 8
    True
    """
    if method not in SCORE_METHODS:
        raise ValueError(f"method must be one of {SCORE_METHODS}, got method={method!r}.")
    if pred_probs is None:
        codes, pred_probs, _ = _out_of_fold_proba(estimator, X, y, cv, random_state, n_jobs)
    else:
        codes = y
    return label_quality_scores_from_probs(codes, pred_probs, method=method)


for _f in (find_label_issues, label_quality_scores):
    _f.__doc__ = _f.__doc__.format(cv=_CV_DOC)
del _f
