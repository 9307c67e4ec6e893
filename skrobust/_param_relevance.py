"""Which parameter belongs to which configuration: the one table both estimators consult.

A parameter set to a value other than its default in a configuration that
ignores it (``RobustRegressor(quantile=0.9)`` fits a Huber model) gets a
``UserWarning`` at ``fit`` naming it and saying what would use it, as
scikit-learn does for ``l1_ratio`` without ``penalty="elasticnet"``.

Each :class:`Relevance` row names the estimators it applies to, the
parameter, when the parameter is used (a predicate on the estimator's
parameters), the phrase saying so (which the parameter's docstring also
contains; a test holds them together) and the parameters that decide it
(shown in the warning).  Parameters missing from the table are used by
every configuration -- with one deliberate exception, ``random_state``:
it seeds only the S-start and the Nystroem landmarks, but setting it
everywhere is good practice that scikit-learn never warns about.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from ._kernels import KERNEL_ARGS

REGRESSOR = "RobustRegressor"
CLASSIFIER = "RobustClassifier"
BOTH = (REGRESSOR, CLASSIFIER)


def _regressor_quantile(est) -> bool:
    from .losses import Quantile

    return est.loss == "quantile" or isinstance(est.loss, Quantile)


def _regressor_adaptive(est) -> bool:
    return est.loss == "barron" and isinstance(est.shape, str)


def _m_estimate(est) -> bool:
    """The regressor's M-estimation path (scale rule, start, IRLS / L-BFGS)."""
    return not (_regressor_quantile(est) or _regressor_adaptive(est))


def _named_kernel_takes(name):
    def used(est) -> bool:
        return isinstance(est.kernel, str) and name in KERNEL_ARGS.get(est.kernel, ())
    return used


def _classifier_loss_convex(est) -> bool:
    from .losses.classification import get_classification_loss

    loss = est.loss if not isinstance(est.loss, str) else get_classification_loss(est.loss)
    return bool(loss.convex)


def _loss_named(*names):
    def used(est) -> bool:
        return isinstance(est.loss, str) and est.loss in names
    return used


@dataclass(frozen=True)
class Relevance:
    """One parameter used by some configurations only."""

    estimators: tuple
    param: str
    used_when: Callable
    used_by: str  # completes "it is used only with ..." (also in the docstring)
    decided_by: tuple  # the parameters whose values decide it


_M_PATH = ('an M-estimation loss (not loss="quantile", nor loss="barron" with '
           'shape="adaptive")')
_GAMMA_KERNELS = tuple(k for k, args in KERNEL_ARGS.items() if "gamma" in args)
_COEF0_KERNELS = tuple(k for k, args in KERNEL_ARGS.items() if "coef0" in args)

#: the table: every parameter that only some configurations use
RELEVANCE: tuple = (
    Relevance((REGRESSOR,), "epsilon", _m_estimate, _M_PATH, ("loss", "shape")),
    Relevance((REGRESSOR,), "shape", _loss_named("barron"), 'loss="barron"', ("loss",)),
    Relevance((REGRESSOR,), "shape_bounds", _regressor_adaptive,
              'loss="barron" and shape="adaptive"', ("loss", "shape")),
    Relevance((REGRESSOR,), "scale", _m_estimate, _M_PATH, ("loss", "shape")),
    Relevance((REGRESSOR,), "init", _m_estimate, _M_PATH, ("loss", "shape")),
    Relevance((REGRESSOR,), "solver", _m_estimate, _M_PATH, ("loss", "shape")),
    Relevance((REGRESSOR,), "quantile", _loss_named("quantile"), 'loss="quantile"', ("loss",)),
    Relevance((REGRESSOR,), "tol", lambda est: not _regressor_quantile(est),
              'a loss other than "quantile" (its interior-point solver has its own '
              'tolerance)',
              ("loss",)),
    Relevance((REGRESSOR,), "warm_start",
              lambda est: not _regressor_quantile(est)
              and (est.kernel is None or est.n_components is not None),
              'a loss other than "quantile", and not with the exact kernel model '
              "(kernel set, n_components=None)", ("loss", "kernel", "n_components")),
    Relevance((CLASSIFIER,), "q", _loss_named("gce"), 'loss="gce"', ("loss",)),
    Relevance((CLASSIFIER,), "blurry_gamma", _loss_named("blurry"), 'loss="blurry"', ("loss",)),
    Relevance((CLASSIFIER,), "detach_weight", _loss_named("blurry"), 'loss="blurry"',
              ("loss",)),
    Relevance((CLASSIFIER,), "back_off", _loss_named("blurry"), 'loss="blurry"', ("loss",)),
    Relevance((CLASSIFIER,), "cutoff", _loss_named("piecewise_zero"),
              'loss="piecewise_zero"', ("loss",)),
    Relevance((CLASSIFIER,), "cutoff_mode", _loss_named("piecewise_zero"),
              'loss="piecewise_zero"', ("loss",)),
    Relevance((CLASSIFIER,), "shape", _loss_named("barron"), 'loss="barron"', ("loss",)),
    Relevance((CLASSIFIER,), "epsilon", _loss_named("huber", "tukey", "barron"),
              'the margin losses "huber", "tukey" and "barron"', ("loss",)),
    Relevance((CLASSIFIER,), "warmup_iter", lambda est: not _classifier_loss_convex(est),
              "a non-convex loss", ("loss",)),
    Relevance(BOTH, "gamma", _named_kernel_takes("gamma"),
              "kernel=" + ", ".join(f'"{k}"' for k in _GAMMA_KERNELS), ("kernel",)),
    Relevance(BOTH, "degree", _named_kernel_takes("degree"), 'kernel="poly"', ("kernel",)),
    Relevance(BOTH, "coef0", _named_kernel_takes("coef0"),
              "kernel=" + ", ".join(f'"{k}"' for k in _COEF0_KERNELS), ("kernel",)),
    Relevance(BOTH, "kernel_params", lambda est: callable(est.kernel), "a callable kernel",
              ("kernel",)),
    Relevance(BOTH, "n_components", lambda est: est.kernel is not None,
              "a kernel (kernel not None)", ("kernel",)),
)


def _is_default(value, default) -> bool:
    if value is default:
        return True
    if isinstance(value, (tuple, list)) and isinstance(default, (tuple, list)):
        return tuple(value) == tuple(default)
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # an array or an object without a plain comparison
        return False


def _shown(value) -> str:
    if isinstance(value, str) or value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return getattr(value, "__name__", type(value).__name__)


def unused_parameters(est) -> list:
    """The table's rows whose parameter ``est`` sets to a non-default value it ignores.

    Examples
    --------
    >>> from skrobust import RobustRegressor
    >>> from skrobust._param_relevance import unused_parameters
    >>> [row.param for row in unused_parameters(RobustRegressor(quantile=0.9))]
    ['quantile']
    >>> unused_parameters(RobustRegressor(loss="quantile", quantile=0.9))
    []
    """
    name = type(est).__name__
    defaults = {p.name: p.default for p in inspect.signature(type(est).__init__).parameters
                .values()}
    unused = []
    for row in RELEVANCE:
        if name not in row.estimators or row.param not in defaults:
            continue
        if _is_default(getattr(est, row.param), defaults[row.param]):
            continue
        if not row.used_when(est):
            unused.append(row)
    return unused


def warn_unused_parameters(est, stacklevel=4) -> None:
    """One ``UserWarning`` per parameter ``est`` sets but its configuration ignores.

    The default ``stacklevel`` points at the caller of ``fit`` (through
    scikit-learn's ``_fit_context`` wrapper).
    """
    for row in unused_parameters(est):
        config = ", ".join(f"{p}={_shown(getattr(est, p))}" for p in row.decided_by)
        warnings.warn(
            f"{type(est).__name__}: {row.param}={_shown(getattr(est, row.param))} has no "
            f"effect with {config}; it is used only with {row.used_by}.",
            UserWarning, stacklevel=stacklevel)
