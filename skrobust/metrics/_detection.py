"""Detection metrics (a flagged mask against the true corrupted mask) and robustness to input noise.

Precision = ``|flagged & corrupted| / |flagged|``, recall =
``|flagged & corrupted| / |corrupted|``, their harmonic mean F1, and the balanced accuracy
(TPR + TNR) / 2: the protocol of the label-noise literature.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "detection_f1",
    "detection_precision",
    "detection_recall",
    "detection_report",
    "noise_robustness_curve",
]


def _check_masks(true_mask, pred_mask):
    masks = []
    for name, m in (("true_mask", true_mask), ("pred_mask", pred_mask)):
        a = np.asarray(m)
        if a.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}.")
        if a.dtype != bool:
            if a.dtype.kind not in "biuf" or not np.all((a == 0) | (a == 1)):
                raise ValueError(f"{name} must be boolean-like (bool, or numbers equal to 0 or 1).")
            a = a.astype(bool)
        masks.append(a)
    t, p = masks
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"true_mask and pred_mask have different lengths: {t.shape[0]} != {p.shape[0]}."
        )
    if t.shape[0] == 0:
        raise ValueError("true_mask and pred_mask are empty.")
    return t, p


def _counts(true_mask, pred_mask):
    t, p = _check_masks(true_mask, pred_mask)
    tp = int(np.sum(t & p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    tn = int(np.sum(~t & ~p))
    return tp, fp, fn, tn


def _ratio(num, den):
    return float(num / den) if den > 0 else 0.0


def _prf(tp, fp, fn):
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return precision, recall, f1


def detection_precision(true_mask, pred_mask):
    """Fraction of flagged samples that are truly corrupted.

    Parameters
    ----------
    true_mask : array-like of shape (n_samples,)
        True where a sample is corrupted (bool, or 0/1 numbers).
    pred_mask : array-like of shape (n_samples,)
        True where a sample is flagged.

    Returns
    -------
    precision : float
        ``tp / (tp + fp)``; 0.0 when nothing is flagged.

    Raises
    ------
    ValueError
        If the masks are not one-dimensional, not boolean-like, empty, or of
        different lengths.

    Examples
    --------
    >>> from skrobust.metrics import detection_precision
    >>> detection_precision([True, True, False, False], [True, False, True, True])
    0.3333333333333333
    """
    tp, fp, fn, _ = _counts(true_mask, pred_mask)
    return _prf(tp, fp, fn)[0]


def detection_recall(true_mask, pred_mask):
    """Fraction of corrupted samples that are flagged.

    Parameters
    ----------
    true_mask : array-like of shape (n_samples,)
        True where a sample is corrupted (bool, or 0/1 numbers).
    pred_mask : array-like of shape (n_samples,)
        True where a sample is flagged.

    Returns
    -------
    recall : float
        ``tp / (tp + fn)``; 0.0 when nothing is corrupted.

    Raises
    ------
    ValueError
        On invalid masks (see :func:`detection_precision`).

    Examples
    --------
    >>> from skrobust.metrics import detection_recall
    >>> detection_recall([True, True, False, False], [True, False, True, True])
    0.5
    """
    tp, fp, fn, _ = _counts(true_mask, pred_mask)
    return _prf(tp, fp, fn)[1]


def detection_f1(true_mask, pred_mask):
    """Harmonic mean of detection precision and recall.

    Parameters
    ----------
    true_mask : array-like of shape (n_samples,)
        True where a sample is corrupted (bool, or 0/1 numbers).
    pred_mask : array-like of shape (n_samples,)
        True where a sample is flagged.

    Returns
    -------
    f1 : float
        ``2 tp / (2 tp + fp + fn)``; 0.0 when nothing is corrupted and
        nothing is flagged.

    Raises
    ------
    ValueError
        On invalid masks (see :func:`detection_precision`).

    Examples
    --------
    >>> from skrobust.metrics import detection_f1
    >>> detection_f1([True, True, False, False], [True, False, True, True])
    0.4
    """
    tp, fp, fn, _ = _counts(true_mask, pred_mask)
    return _prf(tp, fp, fn)[2]


def detection_report(true_mask, pred_mask):
    """Precision, recall, F1, balanced accuracy and counts of a detection.

    Parameters
    ----------
    true_mask : array-like of shape (n_samples,)
        True where a sample is corrupted (bool, or 0/1 numbers).
    pred_mask : array-like of shape (n_samples,)
        True where a sample is flagged.

    Returns
    -------
    report : dict
        ``precision``, ``recall``, ``f1`` (floats, 0.0 when undefined, as in
        :func:`detection_precision` and friends), ``balanced_accuracy``
        (the mean of the true-positive rate and the true-negative rate over
        the classes present in ``true_mask``, so with no corrupted sample it
        is the true-negative rate, as in scikit-learn's
        ``balanced_accuracy_score``), and the integer counts ``tp``, ``fp``,
        ``fn``, ``tn``.

    Raises
    ------
    ValueError
        On invalid masks (see :func:`detection_precision`).

    Examples
    --------
    >>> from skrobust.metrics import detection_report
    >>> report = detection_report([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
    >>> report["precision"], report["recall"], report["f1"]
    (0.5, 0.5, 0.5)
    >>> round(report["balanced_accuracy"], 4)
    0.5833
    >>> report["tp"], report["fp"], report["fn"], report["tn"]
    (1, 1, 1, 2)
    """
    tp, fp, fn, tn = _counts(true_mask, pred_mask)
    precision, recall, f1 = _prf(tp, fp, fn)
    rates = []
    if tp + fn > 0:
        rates.append(tp / (tp + fn))
    if tn + fp > 0:
        rates.append(tn / (tn + fp))
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "balanced_accuracy": float(np.mean(rates)),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def _like(X_in, X):
    """Return ``X`` as a DataFrame like ``X_in`` when that is one (keeps feature names)."""
    if hasattr(X_in, "columns") and hasattr(X_in, "iloc"):
        return type(X_in)(X, columns=X_in.columns, index=X_in.index)
    return X


def noise_robustness_curve(
    estimator, X, y, sigmas, *, n_repeats=5, random_state=None, scoring="accuracy"
):
    """Score of a fitted estimator on inputs perturbed by Gaussian noise.

    For each ``sigma`` the estimator is scored ``n_repeats`` times on
    ``X + sigma * std * E``, where ``E`` is standard normal noise drawn
    afresh each time and ``std`` is the per-feature standard deviation of
    ``X`` (the evaluation data), so ``sigma`` is the noise level relative to
    each feature's spread and the curve does not depend on feature units.
    Constant features get no noise. The estimator is not refitted.

    Parameters
    ----------
    estimator : fitted estimator
        Anything with ``predict`` (and whatever ``scoring`` needs).
    X : array-like of shape (n_samples, n_features)
        Clean evaluation inputs (dense, numeric).
    y : array-like of shape (n_samples,)
        Evaluation targets.
    sigmas : array-like of shape (n_sigmas,)
        Non-negative relative noise levels; 0 scores the clean inputs.
    n_repeats : int, default=5
        Noise draws per level (one suffices for ``sigma == 0``, which is
        scored once and reported with standard deviation 0).
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the noise.
    scoring : str, callable or None, default="accuracy"
        Passed to :func:`sklearn.metrics.check_scoring`: a scorer name, a
        callable ``scorer(estimator, X, y)``, or None for
        ``estimator.score``.

    Returns
    -------
    sigmas : ndarray of shape (n_sigmas,)
        The noise levels, as floats.
    mean : ndarray of shape (n_sigmas,)
        Mean score over the repeats at each level.
    std : ndarray of shape (n_sigmas,)
        Standard deviation of the score over the repeats.

    Raises
    ------
    ValueError
        If ``sigmas`` has a negative or non-finite entry or ``n_repeats < 1``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skrobust.metrics import noise_robustness_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> sigmas, mean, std = noise_robustness_curve(
    ...     clf, X, y, [0.0, 0.5, 2.0], n_repeats=3, random_state=0)
    >>> bool(mean[0] > mean[1] > mean[2])
    True
    >>> float(std[0])
    0.0
    """
    from sklearn.metrics import check_scoring
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_array, check_is_fitted

    check_is_fitted(estimator)
    X_in = X
    X = check_array(X, dtype=np.float64)
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have different lengths: {X.shape[0]} != {y.shape[0]}.")
    sigmas = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    if sigmas.ndim != 1 or not np.all(np.isfinite(sigmas)) or np.any(sigmas < 0):
        raise ValueError("sigmas must be a 1-D sequence of finite, non-negative numbers.")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be an integer >= 1, got n_repeats={n_repeats!r}.")
    scorer = check_scoring(estimator, scoring=scoring)
    rng = check_random_state(random_state)
    std = X.std(axis=0)

    means = np.empty(sigmas.shape[0])
    stds = np.empty(sigmas.shape[0])
    for i, sigma in enumerate(sigmas):
        if sigma == 0:
            means[i], stds[i] = float(scorer(estimator, _like(X_in, X), y)), 0.0
            continue
        scores = [
            scorer(estimator, _like(X_in, X + sigma * std * rng.standard_normal(X.shape)), y)
            for _ in range(n_repeats)
        ]
        means[i], stds[i] = np.mean(scores), np.std(scores)
    return sigmas, means, stds
