"""RobustRegressor: robust linear regression with the scikit-learn API."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._degenerate import warn_exact_fit
from ._kernels import (
    KERNEL_CONSTRAINTS,
    KERNEL_PARAMS_DOC,
    design_signature,
    warm_start_applies,
)
from ._model import design_summary, model_design, previous_fit, set_weights
from ._outliers import outlier_mask, outlier_rule
from ._param_relevance import warn_unused_parameters
from ._plan import INITS, SCALES, SOLVERS, fit_plan
from ._progress import Progress
from ._quantile_levels import (
    LevelScoreMixin,
    linear_decision,
    run_quantile_fit,
    set_level_attributes,
)
from ._units import FitUnits, column_magnitudes
from .dask import is_dask_input, predict_dask
from .design.aliasing import expand_coef
from .design.kernel import KernelDesign
from .design.objective import MProblem
from .inference._fitted import RECORD_ATTRIBUTE, record_fit
from .inference._methods import InferenceMixin
from .losses import LOSS_ALIASES, Barron, RobustLoss, available_losses, get_loss
from .scale import scale_floor
from .solvers.ms_start import subset_size
from .solvers.run import run_m_estimation, run_solver
from .solvers.starts import Start, robust_start, s_on_components, scale_rule

_S_FIT_ATTRIBUTES = ("s_coef_", "s_intercept_", "s_scale_")
_MODEL_ATTRIBUTES = ("X_fit_", "nystroem_", "aliased_")


def _split(beta, fit_intercept):
    """(coef, intercept) of a parameter vector."""
    return (beta[:-1], float(beta[-1])) if fit_intercept else (beta, 0.0)


class RobustRegressor(InferenceMixin, LevelScoreMixin, RegressorMixin, BaseEstimator):
    """Robust linear regression by M-estimation.

    Minimises ``sum_i s_i 2 sigma**2 rho(r_i / sigma) / rho''(0) + alpha ||coef||**2``
    over the coefficients, where ``rho`` is a robust loss, ``sigma`` a robust
    scale of the residuals and ``s_i`` the sample weights.  For the L2 loss
    this is Ridge's objective; for Huber's loss with ``scale="joint"`` it is
    exactly :class:`sklearn.linear_model.HuberRegressor`'s objective.

    Parameters
    ----------
    loss : str or RobustLoss, default="huber"
        A name from :func:`skrobust.losses.available_losses` ("huber",
        "tukey", "barron", "cauchy", "welsch", "geman_mcclure",
        "pseudo_huber", "hampel", "optimal", ...; R's names "bisquare" and "welsh" are aliases of
        "tukey" and "welsch") or a loss object from :mod:`skrobust.losses`
        (used with its own ``c`` unless ``epsilon`` is given).
    epsilon : float, default=None
        Tuning constant in units of the scale.  None uses the loss's
        95%-efficiency constant (1.345 for Huber, 4.685061 for Tukey,
        robustbase's 0.9016085 for Hampel and 1.060158 for "optimal", the
        shape-dependent constant for Barron's family).
        Used only with an M-estimation loss (not loss="quantile", nor
        loss="barron" with shape="adaptive"); set otherwise it warns at fit.
    shape : float or "adaptive", default="adaptive"
        Shape of Barron's loss (``loss="barron"`` only), at most 2.  With
        "adaptive" the shape and the scale are learned with the coefficients
        by maximising the likelihood of Barron's distribution (Barron, CVPR
        2019): ``sum_i s_i [rho(r_i, shape, c) + log c + log Z(shape)]`` is
        minimised jointly over (coefficients, shape, log c) by L-BFGS-B, from a
        Huber M-fit start, with y standardised internally (scale
        equivariant).  ``scale`` and ``solver`` are then not used.  A fixed
        shape below 1 is redescending and gets the MM start.  Used only with
        loss="barron" (a loss object carries its own shape).
    shape_bounds : tuple of two floats, default=(0.0, 1.999)
        Interval of the learned shape, within [0, 2) (the distribution is
        improper below 0, and the likelihood is singular at 2).  Used only
        with loss="barron" and shape="adaptive".
    scale : {"auto", "mad", "proposal2", "joint"} or float, default="auto"
        How the residual scale is estimated.

        - "mad": median absolute residual / 0.6745, re-estimated before
          every step from the current residuals (MASS::rlm).
        - "proposal2": Huber's proposal 2 (``k = 1.345``, ``n - p`` degrees of
          freedom; for kernel models ``p`` is the smoother's effective
          degrees of freedom ``sum_j lambda_j / (lambda_j + alpha)`` over
          the kernel matrix's eigenvalues, plus the intercept), re-estimated
          every step.  Its old name "huber" still works, with a
          FutureWarning.
        - "joint": Owen's concomitant scale, minimised jointly with the
          coefficients (HuberRegressor's objective); convex losses only.
        - a positive float: a known scale, held fixed.
        - "auto": the S-scale, held fixed, when the start is the S-estimate
          (MM-estimation, as lmrob); otherwise "mad", a 50% breakdown scale
          that is consistent at the normal model.

        (With ``shape="adaptive"`` Barron's ``c`` is learned instead.)
        Used only with an M-estimation loss (not loss="quantile", nor
        loss="barron" with shape="adaptive"); set otherwise it warns at fit.
    init : {"auto", "ols", "s", "ms", "lad", "gnc"}, default="auto"
        Start of the iterations.

        - "ols": (ridge) least squares.
        - "s": an S-estimate by the fast-S algorithm with R robustbase's
          defaults (500 elemental subsets built by nonsingular subsampling,
          so one-hot columns with rare levels work; one I-step each, the best 2
          refined; M-scale with Tukey's biweight at c = 1.54764, b = 0.5,
          normalised by n - p), so the fit is an MM-estimate with a 50%
          breakdown point; with ``scale="auto"`` the S-scale is held fixed.
          Needs ``n >= 2 (p + 1)``.
        - "ms": the M-S estimate of Maronna & Yohai (2000), lmrob's
          ``init = "M-S"``: an L1 fit over the indicator columns (exactly two
          distinct values, e.g. one-hot columns; with the intercept)
          alternated with an S-estimate over the other columns, whose
          elemental subsets have only as many rows as there are continuous
          columns (see :func:`skrobust.solvers.ms_start.ms_start`).  For
          designs with many or rare categorical levels and few continuous
          columns; like "s" it is an MM start with the M-S scale held fixed
          (``scale="auto"``).  Without indicator columns it is "s" (with a
          warning); linear models only.
        - "lad": least absolute deviations, a cheaper robust start for
          outliers in y only (no protection against leverage points).
        - "gnc": graduated non-convexity for Barron's family: the shape is
          annealed from 1 (convex) to its target in five fits.
        - "auto": "s" for redescending losses (Tukey, Barron with shape
          below 1, Cauchy, Welsch, Geman-McClure), "ols" for convex ones.
          On data too small for the S-estimator it falls back to a Huber
          M-fit start and warns.

        Used only with an M-estimation loss (not loss="quantile", nor
        loss="barron" with shape="adaptive"); set otherwise it warns at fit.
    quantile : float or array-like of float, default=0.5
        The quantile fitted by the pinball loss, or several distinct levels in
        (0, 1) fitted at once: then ``coef_`` is ``(n_levels, n_features)``,
        ``intercept_`` and ``scale_`` ``(n_levels,)``, ``predict`` returns
        ``(n_samples, n_levels)``, in the order of ``quantile``.  Used only
        with loss="quantile" (a loss object carries its own quantile).
    noncrossing : bool, default=False
        With several quantile levels, fitted quantiles non-decreasing in the
        level on every training row (see :ref:`quantile`); needs ``alpha=0``.
    alpha : float, default=None
        L2 penalty on the coefficients (the intercept is never penalised); for
        kernel models the RKHS norm ``alpha dual_coef_' K dual_coef_``, as in
        :class:`~sklearn.kernel_ridge.KernelRidge`.  None means 0 for the
        linear model and 1.0 for kernel models (KernelRidge's default).
    solver : {"auto", "irls", "lbfgs"}, default="auto"
        "irls": iteratively reweighted least squares -- for convex losses
        on a linear design each step is a Newton step (weights ``psi'``,
        jointly in the scale for ``scale="joint"``) with a line search and a
        warm start on a row sample for large n; for redescending losses and
        exact kernels the classic, monotone step with weights ``psi(u)/u``.
        "lbfgs": L-BFGS-B.  Both reach the same optimum on convex losses.
        "auto" is "irls".  (The quantile loss and the adaptive shape have
        their own solvers.)
        Used only with an M-estimation loss (not loss="quantile", nor
        loss="barron" with shape="adaptive"); set otherwise it warns at fit.
{kernel_params}
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=100
        Maximum number of iterations (IRLS steps, or L-BFGS iterations, of all
        the L-BFGS runs together).
    tol : float, default=1e-8
        Convergence tolerance: IRLS stops when the fitted values move less
        than ``tol * scale`` (root mean square) and the scale by less than
        ``tol`` relatively; L-BFGS uses it as the gradient tolerance.  Used
        only with a loss other than "quantile" (its interior-point solver
        has its own tolerance).
    warm_start : bool, default=False
        Start from the previous fit's coefficients and scale, when the
        previous fit had the same features, intercept and kernel (otherwise
        the fit starts cold).  Used only with a loss other than "quantile",
        and not with the exact kernel model (kernel set, n_components=None).
        The estimator stays what it is: an MM fit keeps its S-estimate
        (``s_coef_``, ``s_scale_``) and, with ``scale="auto"``, holds its
        S-scale fixed again, restarting only the M-step; to re-estimate the
        S-start, refit with ``warm_start=False``.  A refit on the same data
        returns the same fit (``n_iter_`` is 0 when the start already
        satisfies the stopping rule of the joint scale, as for
        HuberRegressor).
    random_state : int, RandomState instance or None, default=None
        Seed for the randomised parts of the fit (robust starts).
    verbose : int, default=0
        When positive, print one line per phase of the fit with the time
        since it started (validation, design, S-start with the subsets done,
        start, each solver iteration with its objective and scale, then
        "converged in k iterations" or why not), in the same format for
        every solver; nothing at 0.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_components,)
        Coefficients (of the Nystroem features for ``n_components=int``;
        absent for the exact kernel model); one row per level,
        ``(n_levels, n_features)``, for several quantile levels.
    dual_coef_ : ndarray of shape (n_samples_fit,)
        Dual coefficients of the exact kernel model (``kernel`` set,
        ``n_components=None``), one per training row with a positive weight.
    X_fit_ : ndarray or sparse matrix
        The training rows the exact kernel model expands on.
    nystroem_ : Nystroem
        The fitted feature map of a Nystroem kernel model.
    intercept_ : float
        Intercept (0.0 when ``fit_intercept=False``); ``(n_levels,)`` for
        several quantile levels, as ``scale_``.
    scale_ : float
        Residual scale at the solution (the S-scale for an MM fit; for
        ``loss="quantile"`` the weighted mean pinball loss of the residuals,
        which the estimate does not need).
    weights_ : ndarray of shape (n_samples,)
        Robustness weight ``weight(r / scale_) / weight(0)`` of each
        training sample, in [0, 1] (0: rejected as an outlier).
    outliers_ : ndarray of bool, shape (n_samples,)
        ``|residual| / sigma > 2.5`` with ``sigma`` a scale of the residuals
        consistent at the normal model (the outlier map of robustbase and
        Rousseeuw & van Zomeren): about 1.2% of clean Gaussian rows, for
        every loss.  ``sigma`` is ``scale_`` for the S-scale (MM fits), the
        MAD rule, proposal 2 and a known scale; the MAD of the residuals /
        0.6745 for the adaptive Barron fit (whose ``scale_`` is Barron's
        ``c``) and, about their median, for the quantile loss.  Exception,
        for parity: with ``scale="joint"`` it is HuberRegressor's
        ``|residual| > epsilon * scale_`` (about 36% of clean Gaussian rows
        at ``epsilon=1.35``), equal to ``HuberRegressor.outliers_``.  See
        :ref:`outlier_flags`.  ``(n_samples, n_levels)`` for several
        quantile levels, each level's residuals flagged on their own.
    loss_ : RobustLoss
        The loss used, with its tuning constant (for the adaptive Barron
        fit, ``Barron(shape_, c=1)`` on ``r / scale_``).
    shape_ : float
        Barron's shape (learned with ``shape="adaptive"``); Barron losses only.
    s_coef_, s_intercept_, s_scale_ : ndarray, float, float
        The S-estimate (coefficients, intercept, M-scale) when the start
        was ``init="s"`` (the M-S estimate for ``init="ms"``), for inspection.
    aliased_ : ndarray of bool, shape (n_features,)
        Columns left out of the fit because they are exactly collinear with
        the intercept and the columns before them (a constant, duplicated or
        full one-hot column; R's relative tolerance 1e-7 on the rows with
        positive weight); their coefficients are 0 and a ``UserWarning``
        names them.  All False with ``alpha > 0`` (the penalty makes the fit
        unique).  Linear models only (not kernel or Nystroem models).
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Feature names, when X has string column names.

    See Also
    --------
    sklearn.linear_model.HuberRegressor : the joint-scale Huber fit this replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust import RobustRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=200)
    >>> y[:20] += 50  # gross outliers
    >>> reg = RobustRegressor(loss="huber").fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 1., -2.])
    >>> int(reg.outliers_[:20].sum())
    20
    >>> mm = RobustRegressor(loss="tukey", random_state=0).fit(X, y)  # lmrob's MM fit
    >>> np.round(mm.coef_, 1)
    array([ 1., -2.])
    """

    _parameter_constraints: dict = {
        "loss": [StrOptions(set(available_losses()) | set(LOSS_ALIASES)), RobustLoss],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "shape": [Interval(numbers.Real, None, 2, closed="right"), StrOptions({"adaptive"})],
        "shape_bounds": [tuple, list],
        "scale": [StrOptions(set(SCALES), deprecated={"huber"}),
                  Interval(numbers.Real, 0, None, closed="neither")],
        "init": [StrOptions(set(INITS))],
        "quantile": [Interval(numbers.Real, 0, 1, closed="neither"), "array-like"],
        "noncrossing": ["boolean"],
        "alpha": [Interval(numbers.Real, 0, None, closed="left"), None],
        **KERNEL_CONSTRAINTS,
        "solver": [StrOptions(set(SOLVERS))],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        loss="huber",
        *,
        epsilon=None,
        shape="adaptive",
        shape_bounds=(0.0, 1.999),
        scale="auto",
        init="auto",
        quantile=0.5,
        noncrossing=False,
        alpha=None,
        solver="auto",
        kernel=None,
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        n_components=None,
        fit_intercept=True,
        max_iter=100,
        tol=1e-8,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.loss = loss
        self.epsilon = epsilon
        self.shape = shape
        self.shape_bounds = shape_bounds
        self.scale = scale
        self.init = init
        self.quantile = quantile
        self.noncrossing = noncrossing
        self.alpha = alpha
        self.solver = solver
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ setup
    def _all_columns(self, coef):
        """Coefficients of every feature: 0 for the aliased columns left out of the fit."""
        aliased = getattr(self, "aliased_", None)
        return coef if aliased is None or not aliased.any() else expand_coef(coef, aliased)

    def _m_estimate(self, plan, problem, rng, warm, previous_s):
        """The M-estimation on ``problem`` (the fit's objective, in memory or on dask) from a
        warm start that keeps the estimator, or cold: ``(result, warm_started)``."""
        units = self._units
        rule = problem.scale_rule
        warm_rule = None if warm is None else plan.warm_rule(
            rule, previous_s.get("s_scale_"), units)
        if warm_rule is not None:
            if plan.mm:  # a warm MM fit keeps its S-estimate
                self.__dict__.update({k: v for k, v in previous_s.items() if v is not None})
            start = Start(warm[0], warm[1], warm_rule)
        else:
            start = self._cold_start(plan, problem, rng)
        return run_m_estimation(plan, problem.with_loss(plan.loss, start.rule), start,
                                max_iter=self.max_iter, tol=self.tol,
                                progress=self._progress), warm_rule is not None

    def _cold_start(self, plan, problem, rng):
        """``plan``'s start; an MM start's S-estimate becomes ``s_coef_``, ``s_scale_``."""
        units = self._units
        start = robust_start(plan, problem, rng, units=units, max_iter=self.max_iter,
                             s_columns=self._s_columns, progress=self._progress)
        if start.s_beta is not None:
            coef, intercept = _split(units.coef_out(start.s_beta, self.fit_intercept),
                                     self.fit_intercept)
            self.s_coef_, self.s_intercept_ = self._all_columns(coef), intercept
        if start.s_scale is not None:
            self.s_scale_ = start.s_scale * units.y
        self._progress.line("start", f"init={plan.start!r} done")
        return start

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the robust linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data (CSR/CSC sparse accepted; a dask array chunked by
            rows gives a distributed fit, see :mod:`skrobust.dask`).
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: an integer weight acts as that many copies
            of the row, a zero weight removes it.

        Returns
        -------
        self : RobustRegressor
            The fitted estimator.
        """
        self.__dict__.pop(RECORD_ATTRIBUTE, None)
        warn_unused_parameters(self)
        progress = self._progress = Progress(self.verbose, type(self).__name__)
        if is_dask_input(X, y, sample_weight):
            # row-chunked dask arrays: a distributed fit, never scikit-learn's validation
            # (which would gather X); see skrobust.dask
            return self._fit_dask(fit_plan(self, backend="dask"), X, y, sample_weight)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], y_numeric=True)
        X = X.astype(np.float64, copy=False)
        y = np.asarray(y, dtype=np.float64)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        if not sample_weight.sum() > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero")
        progress.line("validation", f"{X.shape[0]} samples x {X.shape[1]} features"
                                    + (" (sparse)" if sp.issparse(X) else ""))
        plan = fit_plan(self)
        rng = check_random_state(self.random_state)
        # fit in units where X's columns, y and the weights are of order one (exact powers
        # of two): sums of extreme but valid data neither overflow nor underflow
        # one pass for the column magnitudes, shared by the units and the aliasing check
        magnitudes = None if plan.kernel else column_magnitudes(X)
        units = FitUnits.of(X, y, sample_weight, columns=not plan.kernel, shared=plan.alpha > 0,
                            magnitudes=magnitudes)
        self._units = units
        self._alpha = units.alpha_in(plan.alpha, scale_units=plan.penalty_in_scale_units)
        Xi, yi, wi = units.internal(X, y, sample_weight)
        warm = warm_start_applies(self, X.shape[1])
        previous_s = {name: self.__dict__.get(name) for name in _S_FIT_ATTRIBUTES}
        for name in _S_FIT_ATTRIBUTES + _MODEL_ATTRIBUTES:
            self.__dict__.pop(name, None)
        keep = wi > 0
        if keep.all():
            Xk, yk, sk = Xi, yi, wi
        else:  # a zero weight removes the row from every step (scale, start, solver)
            Xk, yk, sk = Xi[keep], yi[keep], wi[keep]
        # the magnitudes of Xk in the fit's units (exact: the units are powers of two)
        internal_magnitudes = None if magnitudes is None or not keep.all() else (
            magnitudes if units.x is None else magnitudes / units.x)
        design, attributes = model_design(self, plan, Xk, keep, rng, internal_magnitudes)
        self.__dict__.update(attributes)
        progress.line("design", design_summary(self.kernel, design))
        p = subset_size(design) if plan.init == "ms" else design.n_params
        plan = plan.with_data(design.n_samples, p, lambda: s_on_components(design, plan.kernel))
        previous = previous_fit(self, design.n_params, isinstance(design, KernelDesign)) \
            if warm else None
        loss, warm_started = plan.loss, False
        solver_args = dict(alpha=self._alpha, max_iter=self.max_iter, tol=self.tol,
                           shape_bounds=self.shape_bounds, quantile=self.quantile,
                           progress=progress)
        if plan.adaptive:
            if previous is not None and previous[2] is None:
                previous = None  # the previous fit learned no shape: a cold start
            result = run_solver(plan, design, yk, sk, previous, **solver_args)
            loss, warm_started = get_loss("barron", shape=result.shape), previous is not None
        elif plan.quantile:  # one level or several (no warm start)
            result = run_quantile_fit(self, plan, design, yk, sk, solver_args)
        else:
            rule = scale_rule(plan, design, yk, sk, self._alpha, self._units)
            result, warm_started = self._m_estimate(
                plan, MProblem(design, yk, sk, plan.loss, rule, self._alpha), rng, previous,
                previous_s)
        if np.ndim(result.beta) == 2:  # several quantile levels
            self._warn_unconverged(result)
            residuals = set_level_attributes(self, design, result, X, y)
        else:
            self._set_coefficients(result, loss, warm_started, isinstance(design, KernelDesign))
            residuals = set_weights(self, design, result.beta, loss, X, y)
        # k x k statistics for cov_params / summary / predict_interval (no n-sized array kept)
        setattr(self, RECORD_ATTRIBUTE,
                record_fit(self, design, yk, sk, result, loss, plan.adaptive, self._units))
        self._design_signature = design_signature(self, X.shape[1])
        if plan.m_estimate and isinstance(self.scale, str):
            warn_exact_fit(residuals[keep], sk, self.scale_,
                           scale_floor(yk, sk) * self._units.y, loss.c, design.n_params)
        flag_rule = outlier_rule(self.scale, loss, self.scale_, adaptive=plan.adaptive,
                                 quantile=plan.quantile)
        self.outliers_ = outlier_mask(residuals, sample_weight, flag_rule)
        progress.line("fit", f"done in {progress.elapsed():.3f} s")
        del self._progress
        return self

    def _fit_dask(self, plan, X, y, sample_weight):
        """The fit on row-chunked dask arrays: the same plan, starts and solvers over a
        :class:`~skrobust.dask.DaskObjective`; no n-sized attribute is stored."""
        from .dask import DaskData, DaskObjective

        progress = self._progress
        data = DaskData(X, y, sample_weight, self.fit_intercept)
        warm = warm_start_applies(self, data.d) and hasattr(self, "coef_")
        previous_s = {name: self.__dict__.get(name) for name in _S_FIT_ATTRIBUTES}
        for name in _S_FIT_ATTRIBUTES + _MODEL_ATTRIBUTES + ("weights_", "outliers_",
                                                             "feature_names_in_"):
            self.__dict__.pop(name, None)
        self.n_features_in_, self._units, self._s_columns = data.d, data.units, None
        self._alpha = data.units.alpha_in(plan.alpha, scale_units=plan.penalty_in_scale_units)
        self._kernel_map = self._support = None
        progress.line("validation", f"{data.n} samples x {data.d} features (dask)")
        progress.line("design", f"linear, {data.p} parameters")
        plan = plan.with_data(data.n_pos, data.p)
        rule = plan.scale_rule(data.floor, data.p, data.units)
        problem = DaskObjective(data, plan.loss, rule, self._alpha)
        previous = previous_fit(self, data.p) if warm else None
        result, warm_started = self._m_estimate(plan, problem,
                                                check_random_state(self.random_state),
                                                previous, previous_s)
        self._set_coefficients(result, plan.loss, warm_started)
        self._design_signature = design_signature(self, data.d)
        progress.line("fit", f"done in {progress.elapsed():.3f} s")
        del self._progress
        return self

    @staticmethod
    def _warn_unconverged(result):
        if not result.converged:
            warnings.warn(f"RobustRegressor did not converge: {result.message}. "
                          "Returning the last iterate; increase max_iter or check the data.",
                          ConvergenceWarning, stacklevel=4)

    def _set_coefficients(self, result, loss, warm_started, kernel=False):
        """``coef_`` (or ``dual_coef_``), ``intercept_``, ``scale_``, ``loss_``, ``n_iter_``
        and ``shape_`` from a solver's result (in the fit's units); warns if it did not
        converge."""
        self._warn_unconverged(result)
        units = self._units
        coef, intercept = _split(units.coef_out(result.beta, self.fit_intercept),
                                 self.fit_intercept)
        coef = np.asarray(coef, dtype=np.float64).copy()
        # a refit must not leave attributes of another kind of model behind
        for name in ("coef_",) if kernel else ("dual_coef_",):
            self.__dict__.pop(name, None)
        if kernel:
            self.dual_coef_ = coef
        else:
            self.coef_ = self._all_columns(coef)
        self.intercept_ = float(intercept)
        self.scale_ = float(result.scale) * units.y
        self.loss_ = loss
        self.n_iter_ = int(max(result.n_iter, 1))
        # a warm start at a converged fit runs no iteration (HuberRegressor's n_iter_ == 0)
        if warm_started and result.converged and result.n_iter <= 1:
            self.n_iter_ = 0
        if isinstance(loss, Barron):
            self.shape_ = float(loss.shape)
        else:
            self.__dict__.pop("shape_", None)

    def _decision(self, X):
        kmap = self._kernel_map
        if kmap is None:
            return linear_decision(X, self.coef_, self.intercept_)
        if self.kernel == "precomputed" and self._support is not None:
            X = X[:, self._support]
        Z = kmap.transform(X)
        coef = self.dual_coef_ if kmap.exact else self.coef_
        return linear_decision(Z, coef, self.intercept_)

    def predict(self, X):
        """Predict with the fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_levels)
            One column per level for several quantile levels, in the order
            of ``quantile``.  A lazy dask array for dask input.
        """
        check_is_fitted(self)
        if is_dask_input(X):
            return predict_dask(self, X)  # lazy, chunked like X's rows
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32], reset=False)
        return self._decision(X)

    # -------------------------------------------------------------- inference
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags


RobustRegressor.__doc__ = RobustRegressor.__doc__.replace("{kernel_params}", KERNEL_PARAMS_DOC)
