"""RobustClassifier: linear and kernel classifiers that survive mislabelled training data."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_random_state,
    validate_data,
)

from ._classifier_outputs import ClassifierOutputs
from ._kernels import (
    KERNEL_CONSTRAINTS,
    KERNEL_PARAMS_DOC,
    KernelMap,
    design_signature,
    warm_start_applies,
)
from ._param_relevance import warn_unused_parameters
from ._progress import Progress
from .design.kernel_map import kernel_features
from .losses.classification import available_classification_losses, get_classification_loss
from .losses.margin import MarginLoss
from .losses.probability import CUTOFF_MODES, ProbabilityLoss
from .solvers.multinomial import (
    ClassificationProblem,
    irls_classifier,
    lbfgs_classifier,
    newton_classifier,
    warm_up,
)

_SOLVERS = ("auto", "lbfgs", "newton", "irls")


class RobustClassifier(ClassifierOutputs, ClassifierMixin, BaseEstimator):
    """Linear or kernel classifier with a loss that backs off from mislabelled samples.

    Minimises ``sum_i s_i l_i + alpha / 2 * ||coef||**2`` over linear scores,
    with frequency weights ``s_i`` (``sample_weight`` times ``class_weight``)
    and an unpenalised intercept.  ``l_i`` is either

    - a **probability loss** ``l(p_i)`` of the softmax probability ``p_i`` of
      the sample's given label (a multinomial model; binary problems use the
      binomial model of LogisticRegression): "log" (cross-entropy), "gce",
      "blurry", "piecewise_zero", "sce".  Each is a cross-entropy reweighted
      by ``w(p) = -p l'(p)``: the robust ones give samples the model finds
      implausible (small ``p``) little or no weight;
    - or a **margin loss** ``phi(y f(x))`` fitted one-vs-rest: "huber"
      (modified Huber, as SGDClassifier's), "tukey", "barron",
      "squared_hinge".

    With ``loss="log"`` the objective is exactly that of
    ``LogisticRegression(C=1 / alpha)`` (L2 penalty), so ``alpha=1.0`` is
    LogisticRegression's default penalty and a "same penalty" comparison
    sets ``C = 1 / alpha``.

    Parameters
    ----------
    loss : str or loss object, default="blurry"
        A name from
        :func:`skrobust.losses.classification.available_classification_losses`
        or a loss object from :mod:`skrobust.losses.probability` /
        :mod:`skrobust.losses.margin` (its own parameters are then used and
        ``q``, ``blurry_gamma``, ``cutoff``... are ignored).

        - "log": cross-entropy, ``-log p``.  Convex; not robust.
        - "gce": generalised cross-entropy ``(1 - p**q) / q``, weight ``p**q``.
        - "blurry": Blurry loss ``-p**g * log p`` (``g = blurry_gamma``).
          Its full gradient has the weight ``p**g (1 + g log p)``, negative
          below ``p* = exp(-1/g)`` (0.135 at ``g = 0.5``).  By default the
          weight is clipped at 0 (the loss held at its maximum ``1/(e g)``
          below ``p*``): samples the model cannot explain are disregarded.
          ``back_off=True`` keeps the negative weights (they are pushed
          away); ``detach_weight=True`` uses ``p**g``.
        - "piecewise_zero": ``-log p`` if ``p >= c`` else 0, with the
          cutoff set by ``cutoff`` and ``cutoff_mode``.
        - "sce": symmetric cross-entropy ``0.1 CE + 1.0 RCE`` (pass a
          :class:`~skrobust.losses.probability.SCE` object for other weights).
        - "huber": modified Huber on the margin (``epsilon`` = 2 by default).
        - "tukey": Tukey's biweight on the margin violation
          ``max(0, 1 - y f)``: samples with violation above ``epsilon``
          (default 2.5) get zero weight.
        - "barron": Barron's loss with ``shape`` on the margin violation
          (``epsilon`` is its width ``c``, default 1).
        - "squared_hinge": ``max(0, 1 - y f)**2``, convex.

        The default, "blurry" (``blurry_gamma=0.5``, clipped weights), had
        the best mean clean-test accuracy of every loss and variant in the
        label-noise benchmark (``benchmarks/bench_classification.py``; the
        figures are in the user guide, :ref:`label_noise`), under uniform and
        pair noise, and matched LogisticRegression on clean labels.  The
        literal back-off (``back_off=True``) collapsed on overlapping classes,
        where giving up on a whole class costs the literal loss nothing
        (``l(0) = 0``).
    alpha : float, default=1.0
        L2 penalty strength ``alpha / 2 ||coef||**2`` with the data term a
        *sum* over samples: ``alpha = 1 / C`` of LogisticRegression.
    solver : {"auto", "lbfgs", "newton", "irls"}, default="auto"
        - "lbfgs": L-BFGS-B on the loss's value and gradient (smooth losses
          only; not for "piecewise_zero").
        - "newton": margin losses only: Newton's method with the generalised
          Hessian and a line search, one-vs-rest output by output.  Exact in
          a few steps for the piecewise-quadratic hinges; costs one weighted
          Gram matrix per output and step, so use "lbfgs" for very many
          features.
        - "irls": iteratively reweighted fits: the loss's weights are
          computed from the current fit, held fixed while a weighted
          cross-entropy (L-BFGS) or, for margin losses, a weighted squared
          hinge (Newton) is refitted, and updated until they stop changing.
          Its fixed points are the stationary points of the loss, so on the
          smooth losses it is an alternative route to the same fit.  Not for
          ``back_off=True``, whose weights are negative.
        - "auto": "irls" for "piecewise_zero" (discontinuous), "newton" for
          the margin losses, "lbfgs" otherwise.
    fit_intercept : bool, default=True
        Whether to fit unpenalised intercepts.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``
        ("balanced": ``n_samples / (n_classes * weighted class count)``, as
        in LogisticRegression).
    warmup_iter : int, default=100
        Non-convex losses first fit the convex base loss from zero, for at
        most this many iterations: cross-entropy by L-BFGS (probability
        losses) or the squared hinge by Newton's method (margin losses).
        This is the "delay" of the authors of the Blurry loss: a loss that
        down-weights implausible samples needs a model to judge
        plausibility by.  0 starts the robust loss from zero.  Used only
        with a non-convex loss.
    max_iter : int, default=100
        Maximum number of L-BFGS iterations, of Newton steps per output, and
        (for "irls") of reweighting steps and of iterations per refit.
    tol : float, default=1e-4
        Gradient tolerance on the objective divided by the total sample
        weight (as LogisticRegression's); "irls" stops when no weight
        changes by more than ``tol``.
    warm_start : bool, default=False
        Start from the previous fit's coefficients (skipping the warm-up)
        when the classes and features match.
    random_state : int, RandomState instance or None, default=None
        Seeds the Nystroem landmarks of a kernel model with ``n_components``;
        the solvers themselves are deterministic.
    verbose : int, default=0
        When positive, print one line per phase of the fit with the time
        since it started (validation, design, the warm-up's and the solver's
        iterations with their objective, then "converged in k iterations" or
        why not), in the same format as RobustRegressor; nothing at 0.
    q : float in (0, 1], default=0.7
        Exponent of the "gce" loss; ``q -> 0`` is cross-entropy, 1 the mean
        absolute error.  Used only with loss="gce".
    blurry_gamma : float >= 0, default=0.5
        Exponent ``gamma`` of the "blurry" loss; 0 is cross-entropy.  It is
        not called ``gamma`` because ``gamma`` is reserved for the kernel
        coefficient (as in KernelRidge and SVC) of kernelised models.  Used
        only with loss="blurry".
    detach_weight : bool, default=False
        "blurry" only: use the detached weight ``p**gamma`` (the first
        version of the authors' code).  Its fixed point is the generalised
        cross-entropy's with ``q = blurry_gamma``, and it is fitted as that.
        Used only with loss="blurry".
    back_off : bool, default=False
        "blurry" only: keep the full gradient's negative weights below
        ``p*`` (the authors' latest code): samples there are pushed further
        away instead of ignored.  Needs ``solver="lbfgs"`` (or "auto").
        ``weights_`` still reports them as 0.  Used only with loss="blurry".
    cutoff : float in [0, 1), default=0.5
        "piecewise_zero" only; its meaning depends on ``cutoff_mode``.  0 is
        cross-entropy.  The default pair (0.5, "relative") was the best
        Piecewise-zero setting in the benchmark that kept clean-data
        accuracy.  Used only with loss="piecewise_zero".
    cutoff_mode : {"absolute", "relative", "quantile"}, default="relative"
        - "absolute": drop samples with ``p < cutoff`` (the paper's form;
          small cutoffs such as 0.1 rarely fire on a regularised linear
          model).
        - "relative": drop samples with ``p < cutoff * mean p`` of their
          labelled class.
        - "quantile": drop the fraction ``cutoff`` (by weight) of samples
          with the lowest ``p`` (least-trimmed cross-entropy).

        Used only with loss="piecewise_zero".
    shape : float <= 2, default=0.0
        Shape of the "barron" margin loss (2: squared hinge, 1: pseudo-Huber,
        0: Cauchy, -2: Geman-McClure).  Used only with loss="barron".
    epsilon : float > 0, default=None
        Tuning constant of the margin losses on the margin scale: the hinge
        residual where "huber" turns linear (default 2, sklearn's modified
        Huber), Tukey's ``c`` (default 2.5), Barron's ``c`` (default 1).
        Used only with the margin losses "huber", "tukey" and "barron".
{kernel_params}
        For the classifier the exact model's scores are
        ``f_k(x) = sum_j k(x, x_j) dual_coef_[j, k] + intercept_[k]`` with
        the penalty ``alpha / 2 tr(dual_coef_' K dual_coef_)`` (the RKHS
        analogue of ``alpha / 2 ||coef||**2``); see Notes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for binary problems (positive class
        ``classes_[1]``).  For a Nystroem kernel model, coefficients of the
        ``n_components`` features; absent for the exact kernel model.
    dual_coef_ : ndarray of shape (n_samples_fit, 1) or (n_samples_fit, n_classes)
        Dual coefficients of the exact kernel model (``kernel`` set,
        ``n_components=None``), one row per training sample with a positive
        weight.
    X_fit_ : ndarray or sparse matrix
        The training rows the exact kernel model expands on (not stored for
        ``kernel="precomputed"``).
    nystroem_ : Nystroem
        The fitted feature map of a Nystroem kernel model (not for
        ``kernel="precomputed"``, whose landmarks are columns of the kernel).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``); softmax intercepts
        are centred.
    weights_ : ndarray of shape (n_samples,)
        Robustness weight of each training sample in the final fit, in
        [0, 1]: ``w(p) / w(1)`` for probability losses (Blurry's negative
        back-off weights reported as 0; the kept indicator for
        Piecewise-zero), the margin loss's IRLS weight in the
        one-vs-rest problem of the sample's given label for margin losses.
        Near 0 for samples the loss backs off from (likely label errors).
    loss_ : ProbabilityLoss or MarginLoss
        The loss object used.
    n_iter_ : int
        Iterations of the main solver (L-BFGS iterations or reweighting
        steps), not counting the warm-up.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Feature names, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : ``loss="log"`` with ``C = 1 / alpha``.
    sklearn.linear_model.SGDClassifier : ``loss="modified_huber"``.

    Notes
    -----
    ``predict_proba`` is the softmax (sigmoid for binary problems) for
    probability losses.  For margin losses it is SGDClassifier's modified
    Huber link: ``(clip(f, -1, 1) + 1) / 2`` per one-vs-rest score (the
    inverse of the squared hinge's population minimiser ``f = 2 eta - 1``),
    normalised over classes.  Ties left by the clipping (several scores above
    1, or all below -1, where SGDClassifier returns uniform probabilities) are
    broken by adding ``1e-9`` times the softmax of the scores before the
    normalisation, so ``argmax(predict_proba)`` always equals ``predict``.

    **Kernel models.**  The exact kernel model is fitted in kernel feature
    coordinates: with the eigendecomposition ``K = V Lambda V'`` of the
    training kernel matrix (rows with a positive weight only),
    ``Phi = V Lambda**(1/2)`` has ``Phi Phi' = K``, and the linear model
    ``Phi W`` with penalty ``alpha / 2 ||W||**2`` is exactly the kernel model
    with ``dual_coef_ = V Lambda**(-1/2) W`` and penalty
    ``alpha / 2 tr(dual_coef_' K dual_coef_)``.  Every loss and solver of the
    linear model then applies unchanged, and zero robustness weights
    (Tukey, Piecewise-zero, clipped Blurry) are safe because no inverse of
    the weights appears.  This is exact, not an approximation, except that
    eigenvalues below ``1e-12`` times the largest are dropped: the kernel's
    numerical null space (which does not change the fitted function on the
    training rows) and, for an indefinite kernel such as "sigmoid", its
    negative part.  The eigendecomposition costs ``O(n**3)`` once; when a
    pivoted Cholesky factor ``K = F F'`` of at most ``min(1000, n / 2)``
    columns reproduces ``K`` (every entry to 1e-9 of its largest diagonal
    entry, as for an rbf kernel on a few features), the eigenpairs come from
    the small matrix ``F'F`` instead (``O(n rank**2)`` instead of ``O(n**3)``).

    The Blurry and Piecewise-zero formulas are reconstructed from the
    authors' public research code (Pellegrino, Szczecina & Fieguth, "Loss
    functions robust to the presence of label errors", arXiv 2511.16512).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skrobust import RobustClassifier
    >>> from skrobust.datasets import corrupt_labels
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> y_noisy, flipped = corrupt_labels(y, 0.2, random_state=0)
    >>> clf = RobustClassifier().fit(X, y_noisy)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> bool(clf.weights_[flipped].mean() < clf.weights_[~flipped].mean())
    True
    """

    _parameter_constraints: dict = {
        "loss": [StrOptions(set(available_classification_losses())), ProbabilityLoss,
                 MarginLoss],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "solver": [StrOptions(set(_SOLVERS))],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warmup_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "q": [Interval(numbers.Real, 0, 1, closed="right")],
        "blurry_gamma": [Interval(numbers.Real, 0, None, closed="left")],
        "detach_weight": ["boolean"],
        "back_off": ["boolean"],
        "cutoff": [Interval(numbers.Real, 0, 1, closed="left")],
        "cutoff_mode": [StrOptions(set(CUTOFF_MODES))],
        "shape": [Interval(numbers.Real, None, 2, closed="right")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither"), None],
        **KERNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        loss="blurry",
        *,
        alpha=1.0,
        solver="auto",
        fit_intercept=True,
        class_weight=None,
        warmup_iter=100,
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        verbose=0,
        q=0.7,
        blurry_gamma=0.5,
        detach_weight=False,
        back_off=False,
        cutoff=0.5,
        cutoff_mode="relative",
        shape=0.0,
        epsilon=None,
        kernel=None,
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        n_components=None,
    ):
        self.loss = loss
        self.alpha = alpha
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.warmup_iter = warmup_iter
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.q = q
        self.blurry_gamma = blurry_gamma
        self.detach_weight = detach_weight
        self.back_off = back_off
        self.cutoff = cutoff
        self.cutoff_mode = cutoff_mode
        self.shape = shape
        self.epsilon = epsilon
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_components = n_components

    # ------------------------------------------------------------------ setup
    def _resolve_loss(self):
        if isinstance(self.loss, (ProbabilityLoss, MarginLoss)):
            return self.loss
        name = self.loss
        params = {}
        if name == "gce":
            params = {"q": self.q}
        elif name == "blurry":
            params = {"gamma": self.blurry_gamma, "detach_weight": self.detach_weight,
                      "back_off": self.back_off}
        elif name == "piecewise_zero":
            params = {"cutoff": self.cutoff, "cutoff_mode": self.cutoff_mode}
        elif name == "barron":
            params = {"shape": self.shape}
        if self.epsilon is not None:
            key = {"huber": "epsilon", "tukey": "c", "barron": "c"}.get(name)
            if key is not None:
                params[key] = float(self.epsilon)
        return get_classification_loss(name, **params)

    def _resolve_solver(self, loss):
        if self.solver == "lbfgs" and not loss.smooth:
            raise ValueError(f"solver='lbfgs' needs a differentiable loss; loss={loss.name!r} "
                             "is discontinuous and is fitted by reweighting: use "
                             "solver='irls' or 'auto'")
        if self.solver == "irls" and loss.negative_weights:
            raise ValueError("solver='irls' cannot use negative weights: Blurry's back_off=True "
                             "needs solver='lbfgs' or 'auto' (back_off=False is what "
                             "reweighting with clipped weights converges to)")
        if self.solver == "newton" and loss.kind != "margin":
            raise ValueError(f"solver='newton' is for the margin losses; loss={loss.name!r} "
                             "is a probability loss: use solver='lbfgs', 'irls' or 'auto'")
        if self.solver != "auto":
            return self.solver
        if loss.kind == "margin":
            return "newton"
        return "lbfgs" if loss.smooth else "irls"

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the robust linear classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (CSR/CSC sparse accepted).
        y : array-like of shape (n_samples,)
            Class labels (possibly wrong: that is the point), at least two
            classes; strings are fine.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: an integer weight acts as that many copies of
            the row, a zero weight removes it.

        Returns
        -------
        self : RobustClassifier
            The fitted estimator.
        """
        warn_unused_parameters(self)
        progress = Progress(self.verbose, type(self).__name__)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32])
        check_classification_targets(y)
        X = X.astype(np.float64, copy=False)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        classes, codes = np.unique(y, return_inverse=True)
        n_classes = classes.shape[0]
        if n_classes < 2:
            raise ValueError(
                "RobustClassifier needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {classes[0]!r}"
            )
        if self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=classes, y=y,
                                      sample_weight=sample_weight)
            sample_weight = sample_weight * cw[codes]
        class_total = np.bincount(codes, weights=sample_weight, minlength=n_classes)
        if np.count_nonzero(class_total > 0) < 2:
            raise ValueError(
                "RobustClassifier needs samples of at least 2 classes with a positive "
                "sample weight; the weighted data contains only one class"
            )
        if np.any(class_total <= 0):
            empty = classes[class_total <= 0].tolist()
            raise ValueError(
                f"every class must have a positive total sample weight; class(es) {empty} "
                "have zero weight (remove their rows or their zero class_weight)"
            )

        sparse = " (sparse)" if sp.issparse(X) else ""
        progress.line("validation", f"{X.shape[0]} samples x {X.shape[1]} features, "
                                    f"{n_classes} classes{sparse}")
        loss = self._resolve_loss()
        solver = self._resolve_solver(loss)
        keep = sample_weight > 0
        if keep.all():
            Xk, yk, sk = X, codes, sample_weight
        else:
            Xk, yk, sk = X[keep], codes[keep], sample_weight[keep]
        features, dual_map = self._design(X, Xk, keep, progress)
        progress.line("design", self._design_summary(features))
        problem = ClassificationProblem(features, yk, n_classes, sk, loss, float(self.alpha),
                                        bool(self.fit_intercept),
                                        standardize=self._kernel_map is None)

        B0 = self._warm_start_coef(classes, problem, features, dual_map)
        if B0 is None:
            B0 = problem.initial_coef()
            if not loss.convex:
                B0, _ = warm_up(problem, B0, self.warmup_iter, float(self.tol), verbose=progress)

        run = {"irls": irls_classifier, "lbfgs": lbfgs_classifier,
               "newton": newton_classifier}[solver]
        result = run(problem, B0, max_iter=self.max_iter, tol=float(self.tol),
                     verbose=progress)
        if not result.converged:
            warnings.warn(f"RobustClassifier did not converge: {result.message}. "
                          "Returning the last iterate; increase max_iter or check the data.",
                          ConvergenceWarning, stacklevel=2)

        B = result.beta
        d = problem.n_features
        self.classes_ = classes
        W = np.ascontiguousarray(B[:, :d])
        # a refit must not leave attributes of another kind of model behind
        for name in ("coef_", "dual_coef_", "X_fit_", "nystroem_"):
            self.__dict__.pop(name, None)
        kmap = self._kernel_map
        if kmap is not None and kmap.exact:
            self.dual_coef_ = np.ascontiguousarray(dual_map @ W.T)
            if self.kernel != "precomputed":
                self.X_fit_ = kmap.X_fit_
        else:
            self.coef_ = W
            if kmap is not None and self.kernel != "precomputed":
                self.nystroem_ = kmap.nystroem_
        self.intercept_ = B[:, d].copy() if self.fit_intercept else np.zeros(problem.n_outputs)
        self.loss_ = loss
        self._solver = solver
        self.n_iter_ = int(max(result.n_iter, 1))
        self._design_signature = design_signature(self, self.n_features_in_)
        self.weights_ = self._robustness_weights(X, codes, sample_weight)
        progress.line("fit", f"done in {progress.elapsed():.3f} s")
        return self

    def _design_summary(self, features) -> str:
        d = features.shape[1]
        if self.kernel is None:
            return f"linear, {d} features"
        kernel = self.kernel if isinstance(self.kernel, str) else "callable"
        if self._kernel_map.exact:
            return f"exact {kernel} kernel, {d} kernel feature columns"
        return f"{d} Nystroem features ({kernel} kernel)"

    def _design(self, X, Xk, keep, progress=None):
        """The features of the linear solvers: X, Nystroem features or kernel features.

        Returns ``(features, dual_map)``; ``dual_map`` maps feature
        coefficients to dual coefficients for the exact kernel model (else None).
        """
        self._support = None if keep.all() else keep
        if self.kernel is None:
            self._kernel_map = None
            return Xk, None
        kmap = KernelMap(self)
        if self.kernel == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError("a precomputed kernel must be square at fit time, got shape "
                                 f"{X.shape}")
            if not keep.all():
                Xk = Xk[:, keep]  # zero-weight rows leave the kernel's columns too
        Z = kmap.fit_transform(Xk, check_random_state(self.random_state), progress)
        self._kernel_map = kmap
        if not kmap.exact:
            return np.asarray(Z, dtype=np.float64), None
        return kernel_features(np.asarray(Z, dtype=np.float64))

    def _warm_start_coef(self, classes, problem, features, dual_map):
        """The previous fit's coefficients in the current coordinates, or None."""
        if not (warm_start_applies(self, self.n_features_in_)
                and np.array_equal(getattr(self, "classes_", None), classes)):
            return None
        shape = (problem.n_outputs, problem.n_features)
        if dual_map is not None:
            dual = getattr(self, "dual_coef_", None)
            if dual is None or dual.shape != (problem.n_samples, problem.n_outputs):
                return None
            W = (features.T @ dual).T  # Phi' B = W when the training rows are the same
        else:
            W = getattr(self, "coef_", None)
            if W is None or W.shape != shape:
                return None
        if self.fit_intercept:
            W = np.hstack([W, np.asarray(self.intercept_)[:, None]])
        return W

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags


RobustClassifier.__doc__ = RobustClassifier.__doc__.replace("{kernel_params}",
                                                            KERNEL_PARAMS_DOC)
