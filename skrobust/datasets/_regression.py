"""Synthetic linear regression data with a known set of contaminated rows."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_contaminated_regression"]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}.")
    return int(value)


def _check_real(value, name, low, high=np.inf, *, low_inclusive=True):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok:
        ok = (value >= low if low_inclusive else value > low) and value <= high
    if not ok:
        bracket = "[" if low_inclusive else "("
        upper = f"{high}]" if np.isfinite(high) else "inf)"
        raise ValueError(
            f"{name} must be a real number in {bracket}{low}, {upper}, got {name}={value!r}."
        )
    return float(value)


def make_contaminated_regression(
    n_samples=200,
    n_features=5,
    *,
    contamination=0.1,
    leverage=False,
    noise=1.0,
    outlier_shift=10.0,
    random_state=None,
):
    """Generate a linear regression problem with a known set of outliers.

    The clean model is ``y = X @ coef + noise * e`` with **intercept 0**,
    ``X`` and ``e`` standard normal and each ``coef`` entry of magnitude
    uniform on [1, 5] with a random sign. Then exactly
    ``round(contamination * n_samples)`` rows, chosen uniformly at random,
    are contaminated in one of two ways:

    - ``leverage=False`` (vertical outliers): ``X`` is left alone and the
      response is shifted up by ``outlier_shift * s``, where ``s = noise``
      (or 1 when ``noise == 0``). All shifts point the same way, the harder
      case for the intercept.
    - ``leverage=True`` (bad leverage points): the rows of ``X`` are moved
      to a tight cluster (standard deviation 0.1 per feature) centred at
      distance ``outlier_shift`` from the origin in a random direction, far
      outside the clean design (whose points lie at distance about
      ``sqrt(n_features)``), and their response is set ``outlier_shift * s``
      *below* the true plane, so these points pull a least-squares fit away
      from ``coef``.

    Parameters
    ----------
    n_samples : int, default=200
        Number of rows, at least 2.
    n_features : int, default=5
        Number of features, at least 1.
    contamination : float in [0, 0.5], default=0.1
        Fraction of contaminated rows; the count is
        ``round(contamination * n_samples)`` (Python's ``round``).
    leverage : bool, default=False
        Make bad leverage points instead of vertical outliers.
    noise : float >= 0, default=1.0
        Standard deviation of the Gaussian noise on the clean rows (and on
        the contaminated ones before contamination).
    outlier_shift : float > 0, default=10.0
        Size of the contamination: the vertical displacement in units of
        ``s`` (see above), and for ``leverage=True`` also the distance of the
        leverage cluster from the origin in units of the feature standard
        deviation.
    random_state : int, RandomState instance or None, default=None
        Seed or generator; an int gives reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)
        The true coefficients (the true intercept is 0).
    outlier_mask : ndarray of shape (n_samples,), dtype=bool
        True on the contaminated rows.

    Raises
    ------
    ValueError
        On an invalid argument; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.datasets import make_contaminated_regression
    >>> X, y, coef, mask = make_contaminated_regression(
    ...     n_samples=100, n_features=3, contamination=0.2, random_state=0)
    >>> X.shape, y.shape, coef.shape, int(mask.sum())
    ((100, 3), (100,), (3,), 20)
    >>> resid = y - X @ coef
    >>> bool(np.abs(resid[mask]).min() > np.abs(resid[~mask]).max())
    True
    """
    n_samples = _check_int(n_samples, "n_samples", 2)
    n_features = _check_int(n_features, "n_features", 1)
    contamination = _check_real(contamination, "contamination", 0.0, 0.5)
    noise = _check_real(noise, "noise", 0.0)
    outlier_shift = _check_real(outlier_shift, "outlier_shift", 0.0, low_inclusive=False)
    if not isinstance(leverage, (bool, np.bool_)):
        raise ValueError(f"leverage must be a bool, got leverage={leverage!r}.")

    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    coef = rng.uniform(1.0, 5.0, size=n_features) * rng.choice([-1.0, 1.0], size=n_features)
    y = X @ coef + noise * rng.standard_normal(n_samples)

    n_outliers = int(round(contamination * n_samples))
    idx = rng.choice(n_samples, size=n_outliers, replace=False)
    outlier_mask = np.zeros(n_samples, dtype=bool)
    outlier_mask[idx] = True
    s = noise if noise > 0 else 1.0

    if leverage:
        direction = rng.standard_normal(n_features)
        direction /= np.linalg.norm(direction)
        X[idx] = outlier_shift * direction + 0.1 * rng.standard_normal((n_outliers, n_features))
        y[idx] = X[idx] @ coef + noise * rng.standard_normal(n_outliers) - outlier_shift * s
    else:
        y[idx] += outlier_shift * s
    return X, y, coef, outlier_mask
