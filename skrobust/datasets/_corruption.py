"""Exact-count label corruption for label-noise experiments."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["corrupt_labels"]

_KINDS = ("uniform", "pair")


def corrupt_labels(y, rate, *, kind="uniform", random_state=None):
    """Flip exactly ``round(rate * n_samples)`` labels to a different class.

    Unlike noise generators that draw each flip independently (so the realised
    noise rate only matches ``rate`` on average), this function flips an exact
    number of samples, chosen uniformly at random without replacement among
    *all* samples, and every flipped label differs from its original.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels: integers, strings or any other hashable, sortable
        values. At least two distinct classes are required. ``y`` is never
        modified.
    rate : float in [0, 1)
        Fraction of samples to flip. The number of flips is
        ``round(rate * n_samples)`` (Python's ``round``, so halves go to the
        even integer).
    kind : {"uniform", "pair"}, default="uniform"
        How a flipped label is chosen:

        - ``"uniform"``: a class drawn uniformly at random among the
          ``n_classes - 1`` classes other than the original one (symmetric
          noise).
        - ``"pair"``: the next class in sorted order, wrapping around, so
          with sorted classes ``c_0 < c_1 < ... < c_{K-1}`` the label
          ``c_k`` becomes ``c_{(k + 1) mod K}`` (class-conditional "pair
          flip" noise). For two classes this swaps them (``c_0 -> c_1`` and
          ``c_1 -> c_0``), which is then the same as ``"uniform"``. The
          flipped samples are still drawn uniformly among all samples, so the
          number of flips per class is proportional to the class sizes only
          on average.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the choice of samples and of new labels; an int
        gives reproducible output.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        A copy of ``y`` (as an array, same dtype) with the flipped labels.
    flipped_mask : ndarray of shape (n_samples,), dtype=bool
        True where ``y_noisy != y``; ``flipped_mask.sum() == round(rate * n)``.

    Raises
    ------
    ValueError
        If ``rate`` is not in [0, 1), ``y`` is not one-dimensional or has
        fewer than two classes, or ``kind`` is unknown.

    See Also
    --------
    skrobust.find_label_issues : Detect the flipped labels again.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.datasets import corrupt_labels
    >>> y = np.array(["cat", "dog", "emu"] * 4)
    >>> y_noisy, flipped = corrupt_labels(y, 0.25, random_state=0)
    >>> int(flipped.sum())
    3
    >>> bool(np.all(y_noisy[flipped] != y[flipped]))
    True
    >>> y_noisy.dtype == y.dtype
    True

    With ``kind="pair"`` each flipped label moves to the next sorted class:

    >>> y = np.array([0, 1, 2, 0, 1, 2])
    >>> y_noisy, flipped = corrupt_labels(y, 0.5, kind="pair", random_state=0)
    >>> bool(np.all(y_noisy[flipped] == (y[flipped] + 1) % 3))
    True
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got an array of shape {y.shape}.")
    if (
        not isinstance(rate, numbers.Real)
        or isinstance(rate, bool)
        or not np.isfinite(rate)
        or not 0.0 <= rate < 1.0
    ):
        raise ValueError(f"rate must be a real number in [0, 1), got rate={rate!r}.")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got kind={kind!r}.")

    classes, codes = np.unique(y, return_inverse=True)
    n_classes = classes.shape[0]
    if n_classes < 2:
        raise ValueError(
            f"corrupt_labels needs at least 2 classes in y, got {n_classes}: "
            "a label can only be flipped to a different class."
        )

    rng = check_random_state(random_state)
    n_samples = y.shape[0]
    n_flips = int(round(float(rate) * n_samples))
    idx = rng.choice(n_samples, size=n_flips, replace=False)

    old = codes[idx]
    if kind == "uniform":
        # Draw among the K - 1 other classes: r in [0, K - 2], skip the original.
        r = rng.randint(0, n_classes - 1, size=n_flips)
        new = np.where(r >= old, r + 1, r)
    else:  # pair
        new = (old + 1) % n_classes

    y_noisy = y.copy()
    y_noisy[idx] = classes[new]
    flipped_mask = np.zeros(n_samples, dtype=bool)
    flipped_mask[idx] = True
    return y_noisy, flipped_mask
