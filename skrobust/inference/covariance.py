"""Covariance of the coefficients of an M- or MM-regression fit.

Every formula needs only a few ``k x k`` matrices and sums over the training
rows (``k`` coefficients); :func:`fit_statistics` computes them in one go
(two or three weighted Grams, one pass for the residuals), so that the fitted
estimator keeps no ``n``-sized array for its covariance.  With ``u = r / s``
the standardised residuals, ``m`` the mean of ``psi'(u)`` and ``n`` the
number of observations (the sum of the frequency weights):

- ``"H1"``, ``"H2"``, ``"H3"``: Huber's (1981, section 7.6) three estimators,
  statsmodels RLM's ``cov_type``, with the correction factor
  ``K = 1 + (k / n) var(psi') / m**2`` (variance with denominator ``n``).
- ``"rlm"``: MASS ``summary.rlm`` (``method="XtX"``): H1 with the variance of
  ``psi'`` over ``n - 1``.
- ``"avar1"``: robustbase's ``.vcov.avar1`` (Croux, Dhaene & Hoorelbeke,
  2003), lmrob's default for MM-estimates; it accounts for the variability of
  the S-scale, so it also needs the S-start's residuals.

Frequency weights enter every sum, so integer weights give the covariance of
the data with repeated rows.

Examples
--------
>>> import numpy as np
>>> from skrobust.inference.covariance import covariance, fit_statistics
>>> from skrobust.losses import get_loss
>>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
>>> y = np.array([0.1, 0.9, 2.2, 2.8, 4.1])
>>> beta = np.linalg.lstsq(np.c_[X, np.ones(5)], y, rcond=None)[0]  # coef, then intercept
>>> stats = fit_statistics(X, y, beta, 1.0, get_loss("huber", c=1e6))
>>> np.round(np.sqrt(np.diag(covariance(stats, "H1"))), 4)  # OLS: (coef, intercept)
array([0.0597, 0.1463])
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..design.linear import LinearDesign
from ..losses import Tukey
from ..solvers.fast_s import S_BREAKDOWN_B, S_TUKEY_C

COV_KINDS = ("avar1", "H1", "H2", "H3", "rlm")
"""The covariance formulas (``"auto"`` resolves to one of them)."""


@dataclass(frozen=True)
class SStartStatistics:
    """What ``.vcov.avar1`` needs of an MM fit beyond the M-step's Grams.

    With ``u`` the final and ``u0`` the S-start's standardised residuals (both
    over the S-scale), ``chi`` the S-estimator's rho normalised to supremum 1:
    ``xt_psi2_x = X' S diag(psi(u)**2) X``, ``xt_dpsi_u = X' S (psi'(u) u)``,
    ``mean_dchi_u`` the weighted mean of ``chi'(u0) u0``, ``xt_psi_chi =
    X' S (psi(u) chi(u0))``, ``mean_chi2`` the weighted mean of ``chi(u0)**2``
    and ``b`` the right-hand side of the M-scale equation.
    """

    xt_psi2_x: np.ndarray
    xt_dpsi_u: np.ndarray
    mean_dchi_u: float
    xt_psi_chi: np.ndarray
    mean_chi2: float
    b: float


@dataclass(frozen=True)
class FitStatistics:
    """The sufficient statistics of a fit for its covariance and robust R².

    Matrices are over the design's parameters in the solvers' order
    (coefficients, then the intercept).

    Attributes
    ----------
    loss : RobustLoss
        The M-step's loss (with its tuning constant).
    scale : float
        The residual scale of the fit (the S-scale for an MM fit).
    n_obs : float
        Number of observations, the sum of the frequency weights.
    fit_intercept : bool
    xtx, xt_dpsi_x : ndarray of shape (k, k)
        ``X' S X`` and ``X' S diag(psi'(u)) X``.
    sum_psi2, mean_dpsi, ss_dpsi : float
        ``sum s psi(u)**2``, the weighted mean ``m`` of ``psi'(u)`` and
        ``sum s (psi'(u) - m)**2``.
    weighted_ss_y, weighted_ss_r : float
        ``sum s w (y - ybar_w)**2`` and ``sum s w r**2`` for the robustness
        weights ``w = psi(u) / u`` (``ybar_w = 0`` without an intercept).
    converged : bool
        Whether the solver converged.
    s_start : SStartStatistics or None
        The MM fit's S-start terms (None for other fits).
    param_factors : ndarray of shape (k,) or None
        Factors from the fit's units to the data's units of each parameter
        (None: the same units).
    y_unit : float
        Factor from the fit's units of the residual scale to ``y``'s units.
    """

    loss: object
    scale: float
    n_obs: float
    fit_intercept: bool
    xtx: np.ndarray
    xt_dpsi_x: np.ndarray
    sum_psi2: float
    mean_dpsi: float
    ss_dpsi: float
    weighted_ss_y: float
    weighted_ss_r: float
    converged: bool = True
    s_start: SStartStatistics | None = None
    # The fit runs in rescaled units (skrobust._units): parameters in the data's units are
    # the fitted ones times ``param_factors``, scales times ``y_unit``.
    param_factors: np.ndarray | None = None
    y_unit: float = 1.0

    @property
    def data_scale(self) -> float:
        """The residual scale in the units of ``y``."""
        return self.scale * self.y_unit

    def covariance_in_data_units(self, cov: np.ndarray) -> np.ndarray:
        """A covariance of the fitted parameters, in the units of the data."""
        if self.param_factors is None:
            return cov
        return cov * np.outer(self.param_factors, self.param_factors)

    @property
    def n_params(self) -> int:
        """Number of coefficients ``k`` (the intercept included)."""
        return self.xtx.shape[0]

    @property
    def rank(self) -> int:
        """Rank of the design (``k`` unless columns are collinear)."""
        d = np.sqrt(np.clip(np.diag(self.xtx), 0.0, None))
        d = np.where(d > 0, d, 1.0)
        return int(np.linalg.matrix_rank(self.xtx / np.outer(d, d), hermitian=True))

    @property
    def df_resid(self) -> float:
        """Residual degrees of freedom, ``n - rank``."""
        return self.n_obs - self.rank


def fit_statistics(X, y, beta, scale, loss, *, sample_weight=None, fit_intercept=True,
                   s_beta=None, converged=True) -> FitStatistics:
    """The statistics of an M-fit that its covariance formulas need.

    Parameters
    ----------
    X : ndarray, sparse matrix or LinearDesign of shape (n_samples, n_features)
        The training design (without the intercept column).
    y : ndarray of shape (n_samples,)
    beta : ndarray of shape (k,)
        The coefficients in the solvers' order: ``coef``, then the intercept.
    scale : float
        The fit's residual scale (the S-scale for an MM fit).
    loss : RobustLoss
        The M-step's loss.
    sample_weight : ndarray of shape (n_samples,), default=None
        Frequency weights.
    fit_intercept : bool, default=True
        Ignored when ``X`` is a LinearDesign.
    s_beta : ndarray of shape (k,), default=None
        The S-start's coefficients of an MM fit (enables ``"avar1"``).
    converged : bool, default=True
        Whether the fit converged (reported by the summary).

    Returns
    -------
    stats : FitStatistics

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.inference.covariance import fit_statistics
    >>> from skrobust.losses import get_loss
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> stats = fit_statistics(X, 2 * X[:, 0] + 1, np.array([2.0, 1.0]), 1.0,
    ...                        get_loss("huber"))
    >>> stats.n_params, stats.n_obs, stats.mean_dpsi
    (2, 6.0, 1.0)
    """
    design = X if isinstance(X, LinearDesign) else LinearDesign(X, fit_intercept)
    y = np.asarray(y, dtype=np.float64)
    s = (np.ones(design.n_samples) if sample_weight is None
         else np.asarray(sample_weight, dtype=np.float64))
    scale = float(scale)
    r = y - design.predict(np.asarray(beta, dtype=np.float64))
    u = r / scale
    psi, dpsi, w = loss.psi(u), loss.psi_deriv(u), loss.weight(u)
    n_obs = float(s.sum())
    mean_dpsi = float(np.dot(s, dpsi)) / n_obs
    sw = s * w
    ybar = float(np.dot(sw, y)) / float(sw.sum()) if design.fit_intercept and sw.sum() > 0 else 0.0
    k = design.n_params
    s_start = None
    if s_beta is None:
        xtx, xt_dpsi_x = design.gram_ext(s), design.gram_ext(s * dpsi)
    else:
        # the S-start's vectors X' S (psi chi) and X' S (psi' u) ride along as extra Gram
        # columns: no further pass over X
        s_loss = Tukey(c=S_TUKEY_C)  # chi: the S-estimator's rho over its supremum
        u0 = (y - design.predict(np.asarray(s_beta, dtype=np.float64))) / scale
        chi = s_loss.rho(u0) / s_loss.max_rho
        dchi = s_loss.psi(u0) / s_loss.max_rho
        xtx = design.gram_ext(s, extra=[psi * chi])
        xt_dpsi_x = design.gram_ext(s * dpsi, extra=[u])
        s_start = SStartStatistics(
            xt_psi2_x=design.gram_ext(s * psi * psi), xt_dpsi_u=xt_dpsi_x[:k, k],
            mean_dchi_u=float(np.dot(s, dchi * u0)) / n_obs, xt_psi_chi=xtx[:k, k],
            mean_chi2=float(np.dot(s, chi * chi)) / n_obs, b=S_BREAKDOWN_B)
    return FitStatistics(
        loss=loss, scale=scale, n_obs=n_obs, fit_intercept=design.fit_intercept,
        xtx=xtx[:k, :k], xt_dpsi_x=xt_dpsi_x[:k, :k], sum_psi2=float(np.dot(s, psi * psi)),
        mean_dpsi=mean_dpsi, ss_dpsi=float(np.dot(s, (dpsi - mean_dpsi) ** 2)),
        weighted_ss_y=float(np.dot(sw, (y - ybar) ** 2)), weighted_ss_r=float(np.dot(sw, r * r)),
        converged=bool(converged), s_start=s_start)


def _inverse(M, what):
    """The inverse of a symmetric matrix; if singular, its pseudo-inverse and a warning."""
    d = np.sqrt(np.abs(np.diag(M)))
    d = np.where(d > 0, d, 1.0)
    Ms = M / np.outer(d, d)  # equilibrated: the condition number ignores the columns' units
    if np.linalg.cond(Ms) < 1e12:
        return np.linalg.inv(Ms) / np.outer(d, d)
    warnings.warn(f"{what} is singular (collinear columns or too few non-rejected rows); the "
                  "covariance uses its pseudo-inverse, and the variances of aliased "
                  "coefficients are not meaningful", UserWarning, stacklevel=4)
    return np.linalg.pinv(Ms, hermitian=True) / np.outer(d, d)


def _huber_terms(stats: FitStatistics, ddof: int):
    """``K``, ``m`` and ``s**2 sum psi**2 / (n - k)`` of Huber's estimators."""
    m = stats.mean_dpsi
    if not m > 0:
        raise ValueError(f"the mean of psi'(r / scale) is {m:.3g}: too few residuals lie in the "
                         "loss's central part for Huber's covariance; use kind='avar1' for an "
                         "MM fit, or a larger tuning constant")
    n, k = stats.n_obs, stats.rank
    var_dpsi = stats.ss_dpsi / (n - ddof)
    K = 1.0 + (k / n) * var_dpsi / (m * m)
    base = stats.scale**2 * stats.sum_psi2 / (n - k)
    return K, m, base


def _avar1(stats: FitStatistics) -> np.ndarray:
    mm = stats.s_start
    if mm is None:
        raise ValueError("kind='avar1' needs an MM fit: the S-estimator's start "
                         "(init='s') with its scale held fixed (scale='auto')")
    n = stats.n_obs
    A = stats.scale * _inverse(stats.xt_dpsi_x, "X' diag(psi') X")
    a = A @ mm.xt_dpsi_u / mm.mean_dchi_u
    Ag = A @ mm.xt_psi_chi
    V = (A @ mm.xt_psi2_x @ A - (np.outer(a, Ag) + np.outer(Ag, a)) / n
         + (mm.mean_chi2 - mm.b**2) / n * np.outer(a, a))
    return _posdefify((V + V.T) / 2)


def _posdefify(V):
    """Negative eigenvalues to 0, then rescaled to the original diagonal (robustbase's fix)."""
    vals, vecs = np.linalg.eigh(V)
    if not np.any(vals < 0):
        return V
    diag = np.diag(V)
    fixed = (vecs * np.clip(vals, 0.0, None)) @ vecs.T
    fd = np.diag(fixed)
    D = np.sqrt(np.clip(diag, 0.0, None) / np.where(fd > 0, fd, 1.0))
    return D[:, None] * fixed * D[None, :]


def covariance(stats: FitStatistics, kind: str) -> np.ndarray:
    """The covariance matrix of the coefficients (solvers' order: intercept last).

    Parameters
    ----------
    stats : FitStatistics
        From :func:`fit_statistics`.
    kind : {"avar1", "H1", "H2", "H3", "rlm"}
        The formula (see the module docstring).

    Returns
    -------
    cov : ndarray of shape (k, k)
        Symmetric and positive semi-definite.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.inference.covariance import covariance, fit_statistics
    >>> from skrobust.losses import get_loss
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 1))
    >>> stats = fit_statistics(X, X[:, 0] + rng.normal(size=50), np.array([1.0, 0.0]), 1.0,
    ...                        get_loss("huber"))
    >>> covariance(stats, "H2").shape
    (2, 2)
    """
    if not stats.df_resid > 0:
        raise ValueError(f"the covariance needs more observations than coefficients: "
                         f"n = {stats.n_obs:g}, rank {stats.rank}")
    if kind == "avar1":
        return _avar1(stats)
    if kind not in COV_KINDS:
        raise ValueError(f"kind must be one of {(*COV_KINDS, 'auto')}, got {kind!r}")
    K, m, base = _huber_terms(stats, ddof=1 if kind == "rlm" else 0)
    if kind in ("H1", "rlm"):
        V = K * K * base / (m * m) * _inverse(stats.xtx, "X'X")
    else:
        Winv = _inverse(stats.xt_dpsi_x, "X' diag(psi') X")
        V = K * base / m * Winv if kind == "H2" else base / K * (Winv @ stats.xtx @ Winv)
    return (V + V.T) / 2


def intercept_first(values, fit_intercept: bool):
    """Reorder a vector or a square matrix from the solvers' order to the intercept first.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.inference.covariance import intercept_first
    >>> intercept_first(np.array([1.0, 2.0, 0.5]), True)
    array([0.5, 1. , 2. ])
    """
    values = np.asarray(values)
    if not fit_intercept:
        return values
    order = np.r_[values.shape[0] - 1, np.arange(values.shape[0] - 1)]
    return values[np.ix_(order, order)] if values.ndim == 2 else values[order]


__all__ = ["COV_KINDS", "FitStatistics", "SStartStatistics", "covariance", "fit_statistics",
           "intercept_first"]
