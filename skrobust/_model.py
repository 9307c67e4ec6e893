"""The model of a :class:`~skrobust.RobustRegressor` fit: its design and its previous fit.

:func:`model_design` builds the design of the fit (``X`` itself without its
aliased columns, Nystroem features, or the exact kernel matrix) and returns
the attributes it gives the estimator; :func:`previous_fit` is the fit a
warm start continues.
"""

from __future__ import annotations

import numpy as np

from ._degenerate import independent_design
from ._kernels import KernelMap
from .design.kernel import KernelDesign
from .design.linear import LinearDesign
from .losses import Quantile


def model_design(est, plan, Xk, keep, rng, magnitudes=None):
    """The design of ``est``'s model on the rows ``Xk`` (``keep`` of the training rows, in
    the fit's units) and the attributes it gives the estimator: ``(design, attributes)``.

    ``est._units`` and ``est._alpha`` are the fit's units and penalty; ``magnitudes`` the
    column magnitudes of ``Xk`` when known.
    """
    attributes = {"_support": None if keep.all() else keep, "_s_columns": None,
                  "_kernel_map": None}
    if not plan.kernel:
        design, aliased, s_columns = independent_design(
            Xk, est.fit_intercept, est._alpha, getattr(est, "feature_names_in_", None),
            magnitudes=magnitudes)
        # the fit's parameters are the independent columns': so are its units
        attributes.update(aliased_=aliased, _s_columns=s_columns,
                          _units=est._units.restricted(~aliased))
        return design, attributes
    kmap = KernelMap(est)
    if est.kernel == "precomputed" and not keep.all():
        Xk = Xk[:, keep]  # zero-weight rows leave the kernel's columns too
    Z = kmap.fit_transform(Xk, rng, est._progress)
    attributes["_kernel_map"] = kmap
    if kmap.exact:
        if est.kernel != "precomputed":
            attributes["X_fit_"] = kmap.X_fit_
        return KernelDesign(Z, est.fit_intercept), attributes
    if est.kernel != "precomputed":
        attributes["nystroem_"] = kmap.nystroem_
    return LinearDesign(Z, est.fit_intercept), attributes


def previous_fit(est, n_params, kernel=False):
    """``est``'s previous fit in the current fit's units (``est._units``): ``(beta, scale,
    shape)``, or None when its coefficients do not fit a model of ``n_params`` parameters
    (the fit starts cold, as scikit-learn's do); ``kernel``: an exact kernel model (dual
    coefficients)."""
    coef = getattr(est, "dual_coef_" if kernel else "coef_", None)
    aliased = getattr(est, "aliased_", None)  # this fit's: its columns start at 0
    if coef is not None and aliased is not None and coef.shape == aliased.shape:
        coef = coef[~aliased]
    if coef is None or coef.shape[0] + int(est.fit_intercept) != n_params:
        return None
    beta = np.append(coef, est.intercept_) if est.fit_intercept else coef
    units = est._units
    return (units.coef_in(beta, est.fit_intercept), est.scale_ / units.y,
            getattr(est, "shape_", None))


def design_summary(kernel, design) -> str:
    """One line on the design of a model with the ``kernel`` parameter (for ``verbose``)."""
    if kernel is None:
        return f"linear, {design.n_params} parameters"
    name = kernel if isinstance(kernel, str) else "callable"
    if isinstance(design, KernelDesign):
        return f"exact {name} kernel, {design.n_samples} x {design.n_samples} matrix"
    return f"{design.n_params - int(design.fit_intercept)} Nystroem features ({name} kernel)"


def training_decision(est, design, beta, X):
    """The fitted values of the training rows (from the design where it holds the row).

    The design already holds the kernel matrix or the Nystroem features of
    the rows with positive weight; recomputing them for ``weights_`` would
    cost as much as building the design again.  ``beta`` is in the fit's
    units, the fitted values in y's.
    """
    support = est._support
    if support is None:
        return design.predict(beta) * est._units.y
    fitted = np.empty(X.shape[0])
    fitted[support] = design.predict(beta) * est._units.y
    fitted[~support] = est._decision(X[~support])
    return fitted


def set_weights(est, design, beta, loss, X, y):
    """Set ``weights_`` of the training rows; returns their residuals."""
    residuals = y - training_decision(est, design, beta, X)
    est.weights_ = robustness_weights_of(residuals, loss, est.scale_)
    return residuals


def robustness_weights_of(residuals, loss, scale):
    """``weights_`` of residuals: ``weight(r / scale) / weight(0)`` clipped to [0, 1]."""
    if isinstance(loss, Quantile):
        # the pinball loss bounds every influence without down-weighting anyone
        return np.ones_like(residuals)
    return np.clip(loss.weight(residuals / scale) / loss.weight_at_zero(), 0.0, 1.0)
