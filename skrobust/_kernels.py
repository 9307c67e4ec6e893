"""Kernel parameters shared by RobustRegressor and RobustClassifier.

``kernel=None`` keeps the linear model.  With a kernel, ``n_components=None``
fits the exact kernel model on dual coefficients (the representer theorem)
and an integer fits a linear model on :class:`sklearn.kernel_approximation.Nystroem`
features, so every loss, scale, start and solver of the linear path applies.
"""

from __future__ import annotations

import copy
import numbers
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

KERNELS = ("linear", "rbf", "poly", "laplacian", "sigmoid", "cosine", "precomputed")
EXACT_KERNEL_WARN_SAMPLES = 20_000
_TRANSFORM_ROWS = 1 << 16  # rows per block of a reported Nystroem transform

KERNEL_CONSTRAINTS = {
    "kernel": [StrOptions(set(KERNELS)), callable, None],
    "gamma": [Interval(numbers.Real, 0, None, closed="left"), None],
    "degree": [Interval(numbers.Real, 0, None, closed="left")],
    "coef0": [Interval(numbers.Real, None, None, closed="neither")],
    "kernel_params": [dict, None],
    "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
}

KERNEL_PARAMS_DOC = """    kernel : str, callable or None, default=None
        "linear", "rbf", "poly", "laplacian", "sigmoid", "cosine",
        "precomputed" or a callable.  None fits the linear model on X.
        Otherwise a kernel model ``f(x) = sum_j k(x, x_j) dual_coef_j + intercept`` (as in
        :class:`sklearn.kernel_ridge.KernelRidge`), whose penalty ``alpha`` is
        the RKHS norm.  "precomputed" takes the (n_samples, n_samples) kernel
        matrix at fit time and the (n_test, n_samples) matrix at predict time.
    gamma : float, default=None
        Kernel coefficient (None: scikit-learn's default, 1 / n_features).
        Used only with kernel="rbf", "laplacian", "poly", "sigmoid"; set
        with another kernel (or none) it warns at fit.
    degree : float, default=3
        Degree of the polynomial kernel.  Used only with kernel="poly".
    coef0 : float, default=1
        Zero coefficient.  Used only with kernel="poly", "sigmoid".
    kernel_params : dict, default=None
        Extra keyword arguments.  Used only with a callable kernel.
    n_components : int, default=None
        Used only with a kernel (kernel not None).  None fits the exact
        kernel model on the n x n kernel matrix (its weighted steps are
        solved by preconditioned conjugate gradients above 1000 samples,
        O(n**2) per iteration; the n x n kernel matrix takes ``8 n**2``
        bytes, and it warns with the memory needed above 20000 training
        samples).  An integer fits a linear model on that many
        :class:`~sklearn.kernel_approximation.Nystroem` features, with
        landmarks drawn (seeded by ``random_state``) among the rows with a
        positive sample weight (for "precomputed", landmark columns of the
        given kernel); every loss, scale, start and solver then applies,
        including the S-start and the adaptive shape."""


def design_signature(est, n_features: int) -> tuple:
    """What a fit's coefficients mean besides the data: the features, intercept and kernel.

    Stored by ``fit`` (as ``_design_signature``); a warm start applies only
    when it is unchanged (:func:`warm_start_applies`), otherwise the fit
    starts cold, as scikit-learn's estimators do.
    """
    return (int(n_features), bool(est.fit_intercept), est.kernel, kernel_kwargs(est),
            est.n_components, None if est.kernel is None or est.n_components is None
            else repr(est.random_state))


def warm_start_applies(est, n_features: int) -> bool:
    """Whether ``est`` has a previous fit of the same design to warm start from.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust import RobustRegressor
    >>> from skrobust._kernels import warm_start_applies
    >>> reg = RobustRegressor(warm_start=True).fit(np.eye(4), np.arange(4.0))
    >>> warm_start_applies(reg, 4), warm_start_applies(reg, 3)
    (True, False)
    """
    old = getattr(est, "_design_signature", None)
    if not est.warm_start or old is None:
        return False
    new = design_signature(est, n_features)
    try:
        return bool(all(a is b or a == b for a, b in zip(old, new, strict=True)))
    except (TypeError, ValueError):  # parameters without a plain equality (arrays)
        return False


# Peak memory of an exact kernel fit in units of the n x n float64 kernel matrix (measured
# at n = 20,001): the regressor holds K and n-vectors; the classifier also forms
# (K + K') / 2 and its eigendecomposition.
EXACT_KERNEL_MEMORY_FACTOR = {False: 1.1, True: 4.5}


def exact_kernel_cost_message(n_samples: int, classifier: bool) -> str:
    """The warning of a large exact kernel fit: its memory (from ``n_samples``) and time.

    Examples
    --------
    >>> from skrobust._kernels import exact_kernel_cost_message
    >>> message = exact_kernel_cost_message(20_001, classifier=False)
    >>> message[message.index("("):message.index(";")]
    '(3.2 GB) and needs about 3.5 GB of memory'
    """
    matrix = 8.0 * n_samples * n_samples
    peak = EXACT_KERNEL_MEMORY_FACTOR[classifier] * matrix
    time = ("an O(n**3) eigendecomposition of the kernel matrix (O(n rank**2) when a low-rank "
            "factor reproduces it)" if classifier else
            "O(n**2) per iteration after an O(n**2 n_features) kernel evaluation")
    return (f"the exact kernel model on {n_samples} samples holds the {n_samples} x "
            f"{n_samples} kernel matrix ({_bytes(matrix)}) and needs about {_bytes(peak)} of "
            f"memory; its time is {time}. Set n_components for a Nystroem approximation "
            "(memory and time linear in n)")


def _bytes(nbytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if nbytes < 1000.0:
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1000.0
    return f"{nbytes:.3g} TB"


def kernel_kwargs(est) -> dict:
    """Keyword arguments of ``pairwise_kernels`` / ``Nystroem`` for an estimator's kernel."""
    if callable(est.kernel):
        return dict(est.kernel_params or {})
    return {"gamma": est.gamma, "degree": est.degree, "coef0": est.coef0}


class KernelMap:
    """Maps inputs to the design of a kernel model, fitted on the training rows.

    Parameters
    ----------
    est : estimator
        With the attributes ``kernel``, ``gamma``, ``degree``, ``coef0``,
        ``kernel_params``, ``n_components``.
    """

    def __init__(self, est):
        self.kernel = est.kernel
        self.kwargs = kernel_kwargs(est)
        self.n_components = est.n_components
        self.classifier = is_classifier(est)

    @property
    def exact(self) -> bool:
        return self.n_components is None

    def fit_transform(self, X, rng, progress=None):
        """The training design: the kernel matrix (exact) or Nystroem features.

        ``progress`` (a :class:`~skrobust._progress.Progress`) is told about
        the rows transformed so far, at most every half second.
        """
        X = _int32_indices(X)
        if self.kernel == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError("a precomputed kernel must be square at fit time, got shape "
                                 f"{X.shape}")
            K = _check_finite_kernel(_dense(X), "the precomputed training kernel matrix")
            if self.exact:
                return K
            # Nystroem on a precomputed kernel: landmark columns, whitened by K_LL^(-1/2)
            from scipy.linalg import svd

            m = min(int(self.n_components), K.shape[0])
            self.landmarks_ = rng.permutation(K.shape[0])[:m]
            U, S, Vt = svd(K[np.ix_(self.landmarks_, self.landmarks_)], check_finite=False)
            self.normalization_ = (U / np.sqrt(np.maximum(S, 1e-12))) @ Vt
            return K[:, self.landmarks_] @ self.normalization_
        if self.exact:
            if X.shape[0] > EXACT_KERNEL_WARN_SAMPLES:
                warnings.warn(exact_kernel_cost_message(X.shape[0], self.classifier),
                              UserWarning, stacklevel=4)
            self.X_fit_ = X
            return self._checked(self._pairwise(X, X), "training")
        n_components = min(int(self.n_components), X.shape[0])
        self.nystroem_ = Nystroem(kernel=self.kernel, n_components=n_components,
                                  random_state=rng, **self._nystroem_kwargs())
        rng_before = copy.deepcopy(rng)
        try:
            self.nystroem_.fit(X)
        except (ValueError, np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            # Nystroem decomposes the landmark kernel matrix, which fails (SVD did not
            # converge, or scipy's finiteness check) when the kernel overflows: redraw the
            # same landmarks to say so
            landmarks = X[check_random_state(rng_before).permutation(X.shape[0])[:n_components]]
            self._checked(self._pairwise(landmarks, landmarks), "Nystroem landmark")
            raise
        n = X.shape[0]
        if progress is None or not progress or n <= _TRANSFORM_ROWS:
            return self._checked(self.nystroem_.transform(X), "training")
        # row blocks (each row's features depend on that row only) so a long
        # transform can report its progress
        Z = np.empty((n, n_components))
        for start in range(0, n, _TRANSFORM_ROWS):
            stop = min(start + _TRANSFORM_ROWS, n)
            Z[start:stop] = self.nystroem_.transform(X[start:stop])
            progress.tick("design", f"Nystroem features of {stop}/{n} rows")
        return self._checked(Z, "training")

    def transform(self, X):
        """The design rows of new inputs."""
        X = _int32_indices(X)
        if self.kernel == "precomputed":
            K = _check_finite_kernel(_dense(X), "the precomputed kernel matrix")
            return K if self.exact else K[:, self.landmarks_] @ self.normalization_
        if self.exact:
            return self._checked(self._pairwise(X, self.X_fit_), "prediction")
        return self._checked(self.nystroem_.transform(X), "prediction")

    def _checked(self, K, rows):
        what = "Nystroem features" if not self.exact and rows != "Nystroem landmark" else \
            "kernel matrix"
        kernel = getattr(self.kernel, "__name__", "callable") if callable(self.kernel) \
            else repr(self.kernel)
        return _check_finite_kernel(K, f"the {rows} {what} of kernel={kernel}")

    def _pairwise(self, A, B):
        if callable(self.kernel):
            return pairwise_kernels(A, B, metric=self.kernel, **self.kwargs)
        return pairwise_kernels(A, B, metric=self.kernel, filter_params=True, **self.kwargs)

    def _nystroem_kwargs(self):
        if callable(self.kernel):
            return {"kernel_params": self.kwargs}
        keep = {}
        for name, value in self.kwargs.items():
            # Nystroem forwards gamma/degree/coef0 only to kernels that take them
            if name in KERNEL_ARGS.get(self.kernel, ()):
                keep[name] = value
        return keep


def _check_finite_kernel(K, what):
    """``K`` unchanged, or a ``ValueError`` if it holds NaN or infinite entries.

    A kernel that overflows (a polynomial kernel on large X, an rbf kernel on
    ``|X| > 1e154``) or a callable returning NaN would otherwise give all-NaN
    predictions without a word.  One sum decides in the common case; the
    entries are counted (in row blocks, without an n x n boolean temporary)
    only when the sum is not finite.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(K)):
            return K
    step = max(1, 2**20 // max(K.shape[1], 1))
    bad = sum(int(np.count_nonzero(~np.isfinite(K[i:i + step])))
              for i in range(0, K.shape[0], step))
    if bad:
        raise ValueError(f"{what} has {bad} non-finite (NaN or infinite) entries of "
                         f"{K.size}: the kernel overflows for this X or returns NaN; scale X, "
                         "change gamma, degree or coef0, or check the kernel function")
    return K


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _int32_indices(X):
    # some of scikit-learn's sparse distance kernels (laplacian) take int32 indices only
    if sp.issparse(X) and X.format in ("csr", "csc") and X.indices.dtype != np.int32 \
            and X.nnz < 2**31 - 1:
        X = X.copy()
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    return X


KERNEL_ARGS = {
    "rbf": ("gamma",), "laplacian": ("gamma",), "poly": ("gamma", "degree", "coef0"),
    "sigmoid": ("gamma", "coef0"), "linear": (), "cosine": (),
}
