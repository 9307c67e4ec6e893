"""Confident learning on predicted probabilities: the core of :mod:`skrobust.label_issues`.

This module implements confident learning (Northcutt, Jiang and Chuang,
"Confident learning: estimating uncertainty in dataset labels", JAIR 2021)
natively, with the same conventions and defaults as
``cleanlab.filter.find_label_issues`` (cleanlab 2.x), so on the same
``pred_probs`` both return the same mask. cleanlab is not a dependency.

The steps, for labels ``y`` (coded 0..K-1) and out-of-sample predicted
probabilities ``P`` of shape (n, K):

1. Per-class thresholds ``t_j = mean(P[y == j, j])``, the average
   self-confidence of class ``j`` (clipped below at 2e-6; a class absent from
   ``y`` gets threshold 2, so it is never "confident").
2. A sample is *confident* for class ``j`` when ``P[i, j] >= t_j - 1e-6``.
   Its guessed true label is its confident class if it has one, and the
   class of largest probability (``argmax P[i]``) if it has several; samples
   confident for no class are left out. (This follows cleanlab; the paper's
   formula takes the argmax over the confident classes only, which differs
   in the rare case where the overall argmax is below its own threshold.)
3. The confident joint ``C[given, guessed]`` counts the rest. Its diagonal is
   raised to at least 1, then it is calibrated: each row is rescaled to the
   number of samples with that given label and rounded to integers keeping
   the row totals.
4. Filters (``method``):

   - ``"prune_by_noise_rate"`` (default): for every off-diagonal cell
     ``C[k, j]``, flag the ``C[k, j]`` samples labelled ``k`` with the
     smallest margin ``P[:, k] - P[:, j]``.
   - ``"prune_by_class"``: for every class ``k``, flag the
     ``n_k - C[k, k]`` samples labelled ``k`` with the smallest ``P[:, k]``.

   Ties in these rankings are broken by NumPy's default ``argsort``, as in
   cleanlab.
   - ``"both"``: flagged by both of the above.
   - ``"confident_learning"``: the off-diagonal samples of step 3.
   - ``"predicted_neq_given"``: ``argmax(P) != y``.

   Before the two pruning filters the counts are adjusted as cleanlab does:
   at least ``min_examples_per_class`` samples of each class are kept and
   the off-diagonal counts are multiplied by ``frac_noise``. A class with
   ``min_examples_per_class`` samples or fewer, or with a single sample, is
   never pruned. Except for
   ``"predicted_neq_given"``, a sample whose given label is the model's
   prediction ``argmax(P)`` is never flagged. (Throughout, the given label
   counts as the prediction also when its probability is within 1e-6 of the
   largest one.)

Examples
--------
>>> import numpy as np
>>> from skrobust.label_issues import find_label_issues_from_probs
>>> labels = np.array([0, 0, 0, 1, 1, 1])
>>> pred_probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
...                        [0.2, 0.8], [0.3, 0.7], [0.9, 0.1]])
>>> np.flatnonzero(find_label_issues_from_probs(labels, pred_probs))
array([2, 5])
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["find_label_issues_from_probs", "label_quality_scores_from_probs"]

FILTER_METHODS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
)
SCORE_METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")

_CLIP = 1e-6  # lower clip of thresholds and self-confidences (as cleanlab)
_TOL = 1e-6  # slack in "P[i, j] >= t_j" and in "argmax P[i] == y_i" (as cleanlab)


# --------------------------------------------------------------------------
# validation and label coding
# --------------------------------------------------------------------------


def _check_labels(labels, name):
    """``labels`` as a 1-D array without missing values (NaN or None are not a class)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {labels.shape}.")
    if labels.dtype.kind == "f":
        missing = np.isnan(labels)
    elif labels.dtype.kind == "O":
        missing = np.fromiter((v is None or v != v for v in labels), bool, labels.shape[0])
    else:
        missing = np.zeros(labels.shape[0], dtype=bool)
    if missing.any():
        raise ValueError(f"{name} contains {int(missing.sum())} missing values (NaN or None), "
                         f"first at index {int(np.argmax(missing))}; a missing label is not "
                         "a class: drop those samples or impute their labels.")
    return labels


def _check_probs(labels, pred_probs, classes):
    """Validate, and code ``labels`` as integers 0..K-1 matching the columns."""
    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    if pred_probs.ndim != 2 or pred_probs.shape[1] < 2:
        raise ValueError(
            "pred_probs must be a 2-D array of shape (n_samples, n_classes) with at "
            f"least 2 columns, got shape {pred_probs.shape}."
        )
    if not np.all(np.isfinite(pred_probs)) or np.any(pred_probs < 0):
        raise ValueError("pred_probs must hold finite, non-negative probabilities.")
    labels = _check_labels(labels, "labels")
    n, n_classes = pred_probs.shape
    if labels.shape[0] != n:
        raise ValueError(f"labels and pred_probs have different lengths: {labels.shape[0]} != {n}.")
    if classes is not None:
        classes = np.asarray(classes)
        if classes.shape != (n_classes,):
            raise ValueError(
                f"classes has {classes.size} entries but pred_probs has {n_classes} columns."
            )
        order = np.argsort(classes, kind="stable")
        pos = np.searchsorted(classes[order], labels)
        pos = np.clip(pos, 0, n_classes - 1)
        codes = order[pos]
        unknown = classes[codes] != labels
        if np.any(unknown):
            raise ValueError(f"labels contain values not in classes: {labels[unknown][:5]}.")
    elif labels.dtype.kind in "iub" and (
        labels.size == 0 or (labels.min() >= 0 and labels.max() < n_classes)
    ):
        codes = labels.astype(np.intp)
    else:
        uniq, codes = np.unique(labels, return_inverse=True)
        if uniq.shape[0] != n_classes:
            raise ValueError(
                f"labels have {uniq.shape[0]} distinct values but pred_probs has {n_classes} "
                "columns; pass classes= (the label of each column) or integer labels "
                "in [0, n_classes)."
            )
    if np.unique(codes).shape[0] < 2:
        raise ValueError("labels contain a single class; label issues need at least 2 classes.")
    return codes, pred_probs


def _check_filter_params(method, frac_noise, min_examples_per_class):
    if method not in FILTER_METHODS:
        raise ValueError(f"method must be one of {FILTER_METHODS}, got method={method!r}.")
    if (
        not isinstance(frac_noise, numbers.Real)
        or isinstance(frac_noise, bool)
        or not 0.0 < frac_noise <= 1.0
    ):
        raise ValueError(f"frac_noise must be in (0, 1], got frac_noise={frac_noise!r}.")
    if (
        not isinstance(min_examples_per_class, numbers.Integral)
        or isinstance(min_examples_per_class, bool)
        or min_examples_per_class < 0
    ):
        raise ValueError(
            "min_examples_per_class must be an integer >= 0, got "
            f"min_examples_per_class={min_examples_per_class!r}."
        )


# --------------------------------------------------------------------------
# confident joint
# --------------------------------------------------------------------------


def _round_preserving_sum(values):
    """Round to integers whose sum is ``round(sum(values))``.

    Start from the nearest integers; if their sum is short, add one to the
    entries that were rounded down the most, and if it is over, subtract one
    from the entries that were rounded up the most. Ties follow NumPy's
    default ``argsort`` order (later entries first when adding, earlier
    entries first when subtracting), which is what cleanlab does too.
    """
    ints = np.round(values)
    deficit = int(np.round(values.sum()) - ints.sum())
    if deficit:
        order = np.argsort(values - ints)
        if deficit > 0:
            ints[order[::-1][:deficit]] += 1
        else:
            ints[order[:-deficit]] -= 1
    return ints


def _round_rows(matrix):
    return np.vstack([_round_preserving_sum(row) for row in matrix]).astype(np.int64)


def _thresholds(codes, pred_probs):
    """Per-class mean self-confidence; 2 (never reached) for a class absent from the labels."""
    t = np.full(pred_probs.shape[1], 2.0)
    for k in np.unique(codes):
        t[k] = np.mean(pred_probs[codes == k, k])
    # Floor 2e-6: with the 1e-6 slack of the comparison, a zero probability is never confident.
    return np.maximum(t, _CLIP + _TOL)


def _confident_joint(codes, pred_probs):
    """Calibrated confident joint ``C[given, guessed]`` and the off-diagonal mask."""
    n_classes = pred_probs.shape[1]
    t = _thresholds(codes, pred_probs)
    confident = pred_probs >= t - _TOL
    has_confident = confident.any(axis=1)
    n_confident = confident.sum(axis=1)
    # One confident class: that class. Several: the overall argmax of P (cleanlab's
    # convention; the paper takes the argmax over the confident classes only).
    guess = np.where(n_confident > 1, np.argmax(pred_probs, axis=1), np.argmax(confident, axis=1))
    joint = np.zeros((n_classes, n_classes), dtype=np.float64)
    np.add.at(joint, (codes[has_confident], guess[has_confident]), 1.0)
    off_diagonal = has_confident & (guess != codes)

    np.fill_diagonal(joint, np.maximum(np.diag(joint), 1.0))
    label_counts = np.bincount(codes, minlength=n_classes)
    calibrated = joint / joint.sum(axis=1, keepdims=True) * label_counts[:, None]
    # Total taken in column-major order: the last-bit value decides exact rounding ties,
    # and this is the summation order of cleanlab's (column-major) confident joint.
    total = np.ascontiguousarray(calibrated.T).sum()
    calibrated = calibrated / total * label_counts.sum()
    return _round_rows(calibrated), off_diagonal


def _prune_counts(joint, min_examples_per_class, frac_noise):
    """Counts to prune, ``M[true, given]``, with cleanlab's adjustments.

    Raise each diagonal entry to at least ``min_examples_per_class`` and take
    the increase off the column's noise cells in equal parts (never below 0);
    multiply the noise cells by ``frac_noise`` and move what they lose onto
    the diagonal (column totals kept). Fractions are then truncated.
    """
    m = joint.T.astype(np.float64)
    diag = np.diag(m).copy()
    new_diag = np.maximum(diag, min_examples_per_class)
    n_noise_cells = np.maximum(np.count_nonzero(m, axis=0) - 1.0, 1.0)
    m = np.maximum(m - (new_diag - diag) / n_noise_cells, 0.0)
    np.fill_diagonal(m, new_diag)
    off = m - np.diag(new_diag)
    kept = off * frac_noise
    m = kept + np.diag(new_diag + (off - kept).sum(axis=0))
    return m.astype(np.int64)


# --------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------


def _by_noise_rate(codes, pred_probs, prune, label_counts, min_examples_per_class):
    mask = np.zeros(codes.shape[0], dtype=bool)
    for k in range(pred_probs.shape[1]):
        if label_counts[k] <= max(min_examples_per_class, 1):
            continue
        members = np.flatnonzero(codes == k)
        for j in range(pred_probs.shape[1]):
            n_prune = int(prune[j, k])
            if j == k or n_prune <= 0:
                continue
            # Smallest P_k - P_j first (ties in NumPy's default argsort order, as cleanlab).
            margin = pred_probs[members, k] - pred_probs[members, j]
            mask[members[np.argsort(margin)[:n_prune]]] = True
    return mask


def _by_class(codes, pred_probs, prune, label_counts, min_examples_per_class):
    mask = np.zeros(codes.shape[0], dtype=bool)
    for k in range(pred_probs.shape[1]):
        if label_counts[k] <= max(min_examples_per_class, 1):
            continue
        members = np.flatnonzero(codes == k)
        n_issues = max(int(label_counts[k] - prune[k, k]), 0)
        # The n_issues smallest P_k (ties in NumPy's default argsort order, as cleanlab).
        mask[members[np.argsort(pred_probs[members, k])[:n_issues]]] = True
    return mask


def find_label_issues_from_probs(
    labels,
    pred_probs,
    *,
    method="prune_by_noise_rate",
    frac_noise=1.0,
    min_examples_per_class=1,
    classes=None,
):
    """Flag likely label errors from out-of-sample predicted probabilities.

    Confident learning (Northcutt et al. 2021), see the module docstring for
    the algorithm. On the same inputs the result equals
    ``cleanlab.filter.find_label_issues(labels, pred_probs, filter_by=method,
    frac_noise=frac_noise, min_examples_per_class=min_examples_per_class)``.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given (possibly noisy) labels. Either integers in ``[0, n_classes)``
        indexing the columns of ``pred_probs``, or any labels together with
        ``classes``, or labels whose sorted distinct values are the columns
        (what :class:`~sklearn.preprocessing.LabelEncoder` and
        ``cross_val_predict`` use).
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities (from cross-validation; never
        in-sample, where a flexible model has memorised the noisy labels).
    method : {"prune_by_noise_rate", "prune_by_class", "both", \
"confident_learning", "predicted_neq_given"}, default="prune_by_noise_rate"
        Filter, as cleanlab's ``filter_by``.
    frac_noise : float in (0, 1], default=1.0
        Fraction of the estimated number of issues per class to flag (the
        two pruning filters and ``"both"`` only).
    min_examples_per_class : int >= 0, default=1
        The pruning filters count at least this many correct labels in each
        given class, so roughly this many samples of the class stay
        unflagged (cleanlab's adjustment, approximate when the class has
        several kinds of estimated errors); classes this small, or of a
        single sample, are not pruned at all.
    classes : array-like of shape (n_classes,), default=None
        The label of each column of ``pred_probs``, when ``labels`` are not
        column indices.

    Returns
    -------
    label_issues : ndarray of shape (n_samples,), dtype=bool
        True for samples whose given label is likely wrong.

    Raises
    ------
    ValueError
        On shapes that do not match, invalid probabilities, a single class,
        labels that cannot be matched to columns, or an invalid parameter.

    See Also
    --------
    find_label_issues : Computes ``pred_probs`` by cross-validation first.
    label_quality_scores_from_probs : A score per sample instead of a mask.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.label_issues import find_label_issues_from_probs
    >>> labels = np.array(["a", "a", "a", "b", "b", "b"])
    >>> pred_probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
    ...                        [0.2, 0.8], [0.3, 0.7], [0.9, 0.1]])
    >>> find_label_issues_from_probs(labels, pred_probs, classes=["a", "b"])
    array([False, False,  True, False, False,  True])
    >>> find_label_issues_from_probs(labels, pred_probs, method="predicted_neq_given")
    array([False, False,  True, False, False,  True])
    """
    _check_filter_params(method, frac_noise, min_examples_per_class)
    codes, pred_probs = _check_probs(labels, pred_probs, classes)
    # "Predicted label == given label", with a 1e-6 tolerance in favour of the given label
    # (so exact or near ties do not count as disagreement), as cleanlab.
    nudged = pred_probs.copy()
    nudged[np.arange(codes.shape[0]), codes] += _TOL
    disagrees = np.argmax(nudged, axis=1) != codes
    if method == "predicted_neq_given":
        return disagrees

    joint, off_diagonal = _confident_joint(codes, pred_probs)
    if method == "confident_learning":
        mask = off_diagonal
    else:
        label_counts = np.bincount(codes, minlength=pred_probs.shape[1])
        prune = _prune_counts(joint, min_examples_per_class, float(frac_noise))
        args = (codes, pred_probs, prune, label_counts, min_examples_per_class)
        if method == "prune_by_noise_rate":
            mask = _by_noise_rate(*args)
        elif method == "prune_by_class":
            mask = _by_class(*args)
        else:  # both
            mask = _by_noise_rate(*args) & _by_class(*args)
    return mask & disagrees


def label_quality_scores_from_probs(labels, pred_probs, *, method="self_confidence", classes=None):
    """Score each label's quality from out-of-sample probabilities (low = suspect).

    The scores equal ``cleanlab.rank.get_label_quality_scores(labels,
    pred_probs, method=method)`` (with ``adjust_pred_probs=False``).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, coded as in :func:`find_label_issues_from_probs`.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities.
    method : {"self_confidence", "normalized_margin", \
"confidence_weighted_entropy"}, default="self_confidence"
        - ``"self_confidence"``: ``p_y``, the probability of the given label.
        - ``"normalized_margin"``: ``(p_y - max_{k != y} p_k + 1) / 2``.
        - ``"confidence_weighted_entropy"``: with ``r = H(p) / log(K) / p_y``
          (normalised entropy over self-confidence), ``log(1 + r) / r``.
    classes : array-like of shape (n_classes,), default=None
        The label of each column of ``pred_probs``.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Scores in [0, 1]; lower means the given label is more likely wrong.

    Raises
    ------
    ValueError
        On an unknown method or invalid inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.label_issues import label_quality_scores_from_probs
    >>> labels = np.array([0, 1, 2])
    >>> pred_probs = np.array([[0.8, 0.1, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]])
    >>> label_quality_scores_from_probs(labels, pred_probs)
    array([0.8, 0.4, 0.6])
    >>> label_quality_scores_from_probs(labels, pred_probs, method="normalized_margin")
    array([0.85, 0.45, 0.7 ])
    """
    if method not in SCORE_METHODS:
        raise ValueError(f"method must be one of {SCORE_METHODS}, got method={method!r}.")
    codes, pred_probs = _check_probs(labels, pred_probs, classes)
    n, n_classes = pred_probs.shape
    self_conf = pred_probs[np.arange(n), codes]
    if method == "self_confidence":
        return self_conf
    if method == "normalized_margin":
        others = pred_probs.copy()
        others[np.arange(n), codes] = -np.inf
        return (self_conf - others.max(axis=1) + 1.0) / 2.0
    p = pred_probs
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    entropy = -plogp.sum(axis=1) / np.log(n_classes)
    ratio = entropy / np.maximum(self_conf, _CLIP)
    return np.log(ratio + 1.0) / np.maximum(ratio, _CLIP)
