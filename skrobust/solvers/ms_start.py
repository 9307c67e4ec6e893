"""The M-S estimator of Maronna & Yohai (2000): a robust start for designs with indicator columns.

An S-estimator draws elemental subsets of ``p`` rows.  With indicator
(dummy) columns most random subsets are singular or barely regular: a subset
that misses the rows of a rare level cannot fit that level.  The M-S estimator
splits the design into the *indicator block* ``X1`` (the columns with exactly
two distinct values, the intercept, and constant columns) and the *continuous
block* ``X2`` (every other column), and treats them differently:

- the coefficients ``b1`` of ``X1`` are an L1 (least absolute deviations)
  fit of ``y - X2 b2`` on ``X1``, which needs no subsets;
- the coefficients ``b2`` of ``X2`` are an S-estimate of the residuals
  ``y - X1 b1`` on ``X2``, whose elemental subsets have only ``p2 = ncol(X2)``
  rows and are drawn among continuous columns only.

The algorithm (as robustbase's ``lmrob.M.S``, with the solvers of this package):

1. **Orthogonalise.**  Each continuous column and ``y`` are replaced by their
   residuals from an L1 fit on ``X1`` (:func:`~skrobust.solvers.quantile.quantile_regression`
   at ``q = 0.5``), so that the indicator effects do not enter the subsets.
2. **Subsample.**  :func:`~skrobust.solvers.fast_s.fast_s` on the orthogonalised
   continuous columns (no intercept) gives the candidate ``b2``: 500 subsets of
   ``p2`` rows, I-steps, the best 2 refined.
3. **Descend.**  From the refined candidate whose ``b1 = L1(y - X2 b2 on X1)``
   gives the smallest M-scale of the full residuals ``y - X1 b1 - X2 b2``
   (Tukey's biweight, ``c = 1.54764``, ``b = 0.5``, normalised by ``n - p``),
   alternate an S-refinement (:func:`~skrobust.solvers.fast_s.refine_s`) of
   ``b2`` on ``y - X1 b1`` and the L1 fit of ``b1``; keep the pair with the
   smallest M-scale, and stop at a fixed point or after 20 steps in a row that
   did not lower it (robustbase's ``k.m_s``).

Special cases: without continuous columns the estimate is the L1 fit and the
M-scale of its residuals; without indicator columns (only the intercept, or
nothing, in ``X1``) it is the S-estimate (:func:`~skrobust.solvers.fast_s.fast_s`
on the whole design), and ``reduced_to`` says so.

Weights are frequency weights throughout (the L1 fits, the subsets drawn among
rows with positive weight, the M-scales).  Like the other solvers this module
never warns; it raises ``ValueError`` only where the S-estimator cannot exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..design.linear import LinearDesign, positive_weight_rows
from ..scale.mscale import S_BREAKDOWN_B, S_TUKEY_C, _m_scale, m_scale
from .fast_s import FastSResult, _refine_s, fast_s
from .quantile import _quantile_regression, quantile_regression

_MAX_DESCENT = 20  # robustbase's k.m_s: descent steps without improvement before it stops
_MAX_STEPS = 200  # descent steps in all


@dataclass
class MSResult(FastSResult):
    """Result of :func:`ms_start`.

    On top of :class:`~skrobust.solvers.fast_s.FastSResult`:

    Attributes
    ----------
    indicator_mask : ndarray of bool, shape (n_features,)
        The columns of ``X`` in the indicator block (``X1``).
    reduced_to : str
        "" for the M-S estimate; "s" when there were no indicator columns (the
        S-estimate); "l1" when there were no continuous columns (the L1 fit).
    """

    indicator_mask: np.ndarray | None = None
    reduced_to: str = ""


def indicator_columns(X) -> np.ndarray:
    """Which columns of ``X`` have at most two distinct values (indicators and constants).

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Only the rows that matter (the rows with positive weight).

    Returns
    -------
    mask : ndarray of bool, shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers.ms_start import indicator_columns
    >>> X = np.array([[0.0, 1.5, 3.0], [1.0, 2.5, 3.0], [1.0, -1.0, 3.0]])
    >>> indicator_columns(X)
    array([ True, False,  True])
    """
    n, d = X.shape
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        mask = np.zeros(d, dtype=bool)
        for j in range(d):
            values = np.unique(X.data[X.indptr[j]:X.indptr[j + 1]])
            n_explicit = X.indptr[j + 1] - X.indptr[j]
            if n_explicit < n:  # implicit zeros
                values = np.union1d(values, [0.0])
            mask[j] = values.size <= 2
        return mask
    X = np.asarray(X)
    if n == 0:
        return np.ones(d, dtype=bool)
    lo, hi = X.min(axis=0), X.max(axis=0)
    return np.all((X == lo) | (X == hi), axis=0)


def subset_size(design) -> int:
    """Rows of an elemental subset of :func:`ms_start` on ``design``: the number of continuous
    columns, or ``n_params`` when there are no indicator columns (M-S is then S).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.ms_start import subset_size
    >>> X = np.array([[0.0, 1.5], [1.0, 2.5], [1.0, -1.0]])
    >>> subset_size(LinearDesign(X, True)), subset_size(LinearDesign(X[:, 1:], True))
    (1, 2)
    """
    mask = indicator_columns(design.X)
    return int(np.count_nonzero(~mask)) if mask.any() else design.n_params


def _columns(X, idx):
    return X[:, idx] if not sp.issparse(X) else X.tocsc()[:, idx].tocsr()


def ms_start(design, y, sample_weight=None, *, indicators=None, n_subsets=500,
             max_descent=_MAX_DESCENT, tol=1e-7, random_state=None,
             floor=1e-300) -> MSResult:
    """M-S estimate of a linear model (Maronna & Yohai 2000; robustbase's ``init = "M-S"``).

    See the module docstring for the algorithm.

    Parameters
    ----------
    design : LinearDesign
        Dense or sparse ``X``, with or without an intercept (the intercept
        belongs to the indicator block).
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,), default=None
        Frequency weights.
    indicators : ndarray of bool, shape (n_features,), default=None
        The columns of the indicator block; None detects them with
        :func:`indicator_columns` on the rows with positive weight.
    n_subsets : int, default=500
        Elemental subsets of the continuous block drawn by fast-S.
    max_descent : int, default=20
        Most alternations of L1 fit and S-refinement.
    tol : float, default=1e-7
        The descent stops when the M-scale falls by less than this, relatively.
    random_state : None, int, numpy RandomState or Generator, default=None
    floor : float, default=1e-300
        Smallest scale returned.

    Returns
    -------
    result : MSResult
        ``beta`` (coefficients in the columns' order, then the intercept),
        ``scale`` (the M-scale of the residuals, normalised by ``n - p``),
        ``n_iter`` (alternations), ``indicator_mask`` and ``reduced_to``.

    Raises
    ------
    ValueError
        As :func:`~skrobust.solvers.fast_s.fast_s` on the continuous block (too
        few rows, every subset singular), or ``indicators`` of the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.ms_start import ms_start
    >>> rng = np.random.default_rng(0)
    >>> level = rng.choice(4, size=300, p=[0.5, 0.3, 0.15, 0.05])
    >>> X = np.column_stack([level == k for k in (1, 2, 3)] + [rng.normal(size=300)])
    >>> y = X @ np.array([2.0, -3.0, 5.0, 1.5]) + 1.0 + 0.1 * rng.normal(size=300)
    >>> y[:30] += 20.0  # 10% vertical outliers
    >>> res = ms_start(LinearDesign(X, True), y, random_state=0)
    >>> np.round(res.beta, 1), res.indicator_mask
    (array([ 2. , -3. ,  5. ,  1.5,  1. ]), array([ True,  True,  True, False]))
    """
    design, y, w = positive_weight_rows(design, y, sample_weight)
    X, p, fit_intercept = design.X, design.n_params, design.fit_intercept
    d = design.n_features
    if indicators is None:
        indicators = indicator_columns(X)
    indicators = np.asarray(indicators, dtype=bool).ravel()
    if indicators.shape != (d,):
        raise ValueError(f"indicators must have one entry per column ({d}), got "
                         f"{indicators.shape[0]}")
    cat, cont = np.flatnonzero(indicators), np.flatnonzero(~indicators)
    if cat.size == 0:
        # no indicator block beyond the intercept: M-S is the S-estimate
        fit = fast_s(design, y, w, n_subsets=n_subsets, random_state=random_state, floor=floor)
        return MSResult(**vars(fit), indicator_mask=indicators, reduced_to="s")
    d1 = LinearDesign(_columns(X, cat), fit_intercept)
    if cont.size == 0:
        l1 = quantile_regression(design, y, w, 0.5)
        scale = m_scale(y - design.predict(l1.beta), w, n_params=p, floor=floor)
        return MSResult(l1.beta, scale, l1.n_iter, l1.converged, scale, l1.message,
                        indicator_mask=indicators, reduced_to="l1")
    X2 = _columns(X, cont)
    X2 = X2.toarray() if sp.issparse(X2) else np.asarray(X2, dtype=np.float64)
    d2 = LinearDesign(X2, False)

    # the loops below run on rows checked above: the solvers' cores, without re-validation
    def l1_fit(target):
        return _quantile_regression(d1, np.ascontiguousarray(target), w, 0.5).beta

    # 1. the continuous columns and y without their L1 fits on the indicator block
    X2_orth = np.column_stack([X2[:, j] - d1.predict(l1_fit(X2[:, j]))
                               for j in range(cont.size)])
    y_orth = y - d1.predict(l1_fit(y))
    # 2. fast-S over the continuous block only
    s_fit = fast_s(LinearDesign(X2_orth, False), y_orth, w, n_subsets=n_subsets,
                   random_state=random_state, floor=floor)
    def candidate(b2):
        b1 = l1_fit(y - d2.predict(b2))
        return b1, b2, _m_scale(y - d1.predict(b1) - d2.predict(b2), w, S_TUKEY_C, S_BREAKDOWN_B,
                                p, None, floor)

    # the refined candidates of fast-S, ranked by the M-S criterion (b1 the L1 fit for b2)
    best = min((candidate(b2) for b2 in s_fit.candidate_betas), key=lambda c: c[2])
    # 3. descent: S-refinement on the continuous block, L1 on the indicator block; it goes on
    # through steps that do not lower the scale and stops after max_descent such steps in a row
    b1, b2 = best[0], best[1]
    n_iter, failures = 0, 0
    while failures < int(max_descent) and n_iter < _MAX_STEPS:
        n_iter += 1
        b2_new = _refine_s(d2, y - d1.predict(b1), w, b2, floor=floor).beta
        if np.linalg.norm(b2_new - b2) <= tol * max(float(np.linalg.norm(b2)), tol):
            failures = int(max_descent)  # a fixed point: every later step is this one
            break
        b1, b2, scale = step = candidate(b2_new)
        if scale < best[2] * (1.0 - tol):
            best, failures = step, 0
        else:
            failures += 1
    converged = failures >= int(max_descent)
    b1, b2, scale = best
    beta = np.zeros(p)
    beta[cat] = b1[:cat.size]
    beta[cont] = b2
    if fit_intercept:
        beta[-1] = b1[-1]
    message = "" if converged else f"M-S descent still improving after {_MAX_STEPS} steps"
    return MSResult(beta, scale, n_iter, converged, scale, message, n_subsets=s_fit.n_subsets,
                    n_singular_subsets=s_fit.n_singular_subsets, large_n=s_fit.large_n,
                    indicator_mask=indicators)


__all__ = ["MSResult", "indicator_columns", "ms_start", "subset_size"]
