"""What kind of fit a :class:`~skrobust.RobustRegressor` runs: its fit plan.

:func:`fit_plan` reads the estimator's parameters once and decides the loss,
the scale rule, the start, the solver and the design kind, and rejects the
combinations no fit supports: the :data:`UNSUPPORTED` table, one row per
combination, each message saying what is not available where and what to do
instead.  The start then adapts to the data (:meth:`FitPlan.with_data`): an
automatic MM start on data too small for the S-estimator becomes a Huber
M-fit start.  The in-memory fit and the dask fit both run on the plan.

Examples
--------
>>> from skrobust import RobustRegressor
>>> plan = fit_plan(RobustRegressor(loss="tukey"))
>>> plan.loss.name, plan.init, plan.scale_kind, plan.solver, plan.design_kind
('tukey', 's', 'auto', 'irls', 'linear')
>>> try:
...     fit_plan(RobustRegressor(loss="huber", init="gnc"))
... except ValueError as error:
...     print(str(error)[:52])
init='gnc' is not available with loss='huber'; it an
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ._quantile_levels import first_level
from .losses import Barron, Quantile, RobustLoss, get_loss
from .scale import FixedScale, HuberProposal2Scale, JointScale, MADScale, resolve_scale_name
from .solvers.adaptive_barron import check_shape_bounds

SCALES = ("auto", "mad", "proposal2", "joint", "huber")  # "huber": old name of "proposal2"
INITS = ("auto", "ols", "s", "ms", "lad", "gnc")
SOLVERS = ("auto", "irls", "lbfgs")


@dataclass(frozen=True)
class FitPlan:
    """The decisions of one fit, from the parameters (and, for the start, the data).

    Attributes
    ----------
    loss : RobustLoss
        The loss with its tuning constant (``Barron(1)`` for the adaptive shape,
        which learns it).
    adaptive : bool
        Barron's shape and scale learned with the coefficients.
    quantile : bool
        The pinball loss (its own interior-point solver).
    init : str
        The start asked for, "auto" resolved: "s" for redescending losses, else "ols".
    start : str
        The start that runs: ``init``, or "huber" when an automatic MM start
        does not fit the data (see :meth:`with_data`).
    scale : str or float
        The ``scale`` parameter as given.
    scale_kind : str
        "auto", "mad", "proposal2", "joint" or "fixed".
    solver : str
        "irls" or "lbfgs" (the M-estimation solver).
    design_kind : str
        "linear", "nystroem" or "exact" (kernel matrix).
    alpha : float
        The penalty, in the data's units (the default resolved: 0 for the
        linear model, 1 for kernel models).
    auto_init : bool
        ``init`` was "auto" (an automatic MM start may fall back to a Huber start).
    """

    loss: RobustLoss
    adaptive: bool
    quantile: bool
    init: str
    start: str
    scale: object
    scale_kind: str
    solver: str
    design_kind: str
    alpha: float
    auto_init: bool = False

    @property
    def kernel(self) -> bool:
        return self.design_kind != "linear"

    @property
    def m_estimate(self) -> bool:
        """The M-estimation path: a scale rule, a start and IRLS or L-BFGS."""
        return not (self.adaptive or self.quantile)

    @property
    def penalty_in_scale_units(self) -> bool:
        """The data term is in units of ``w y`` (the joint scale, the pinball loss), not
        ``w y**2``: see :meth:`~skrobust._units.FitUnits.alpha_in`."""
        return self.quantile or (self.scale_kind == "joint" and not self.adaptive)

    @property
    def mm(self) -> bool:
        """The start is an S-type estimate (an MM fit)."""
        return self.start in ("s", "ms")

    def with_data(self, n_samples, n_params, s_on_components=lambda: False):
        """The plan with its start adapted to ``n_samples`` rows and ``n_params`` parameters.

        "auto" asks for a sound start, not for the S-estimator at any price: on
        data too small for it (``n < 2(p + 1)``, with ``p`` the rows of an
        elemental subset; for "ms" the continuous columns) the MM start becomes
        a Huber M-fit, with a warning -- unless it runs on kernel principal
        components, which it sizes to the data (``s_on_components()``, called
        only then).

        Examples
        --------
        >>> import warnings
        >>> from skrobust import RobustRegressor
        >>> plan = fit_plan(RobustRegressor(loss="tukey"))
        >>> with warnings.catch_warnings(record=True):
        ...     warnings.simplefilter("always")
        ...     plan.with_data(n_samples=10, n_params=5).start
        'huber'
        """
        start = self.init
        if (start == "ms" or (start == "s" and self.auto_init)) \
                and n_samples < 2 * (n_params + 1) and not s_on_components():
            warnings.warn(
                f"{n_samples} samples are too few for the {'M-S' if start == 'ms' else 'S'}"
                f"-estimator start (it needs 2(p+1) = {2 * (n_params + 1)}); starting the "
                f"{self.loss.name} fit from a Huber M-fit instead, which does not "
                "resist leverage points", UserWarning, stacklevel=3)
            start = "huber"
        return replace(self, start=start)

    def scale_rule(self, floor, n_params, units):
        """The scale rule of the ``scale`` parameter, with the given scale floor."""
        scale = resolve_scale_name(self.scale)  # warns for the old name "huber"
        if not isinstance(scale, str):  # a known scale, in y's units
            return FixedScale(max(float(scale) / units.y, floor))
        if scale == "joint":
            return JointScale(floor, self.loss)
        if scale == "proposal2":
            return HuberProposal2Scale(floor, n_params, count=units.count)
        return MADScale(floor)

    def warm_rule(self, rule, s_scale, units):
        """The scale rule of a warm start that keeps the estimator, or None (fit cold).

        A warm MM fit keeps its S-estimate and, with ``scale="auto"``, holds the
        S-scale (``s_scale``, in the data's units) fixed again: only the M-step
        restarts.  Without an S-estimate to keep it must start cold.
        """
        if not self.mm:
            return rule
        if s_scale is None:
            return None
        return FixedScale(s_scale / units.y) if self.scale == "auto" else rule


@dataclass(frozen=True)
class Unsupported:
    """A combination of parameters a fit does not support, and the error it raises.

    The message is ``"{what} is not available {where}; {remedy}"``, where
    ``{loss}`` and ``{init}`` stand for the fit's loss and start parameters.
    """

    applies: Callable  # (plan, estimator) -> bool
    what: str
    where: str
    remedy: str
    error: type = ValueError
    backend: str = "any"  # "dask": only for dask input

    def message(self, plan, est) -> str:
        loss = est.loss if isinstance(est.loss, str) else plan.loss.name
        text = f"{self.what} is not available {self.where}; {self.remedy}"
        return text.format(loss=f"loss={loss!r}", init=f"init={plan.init!r}")


_EXACT = "for the exact kernel model"
_NYSTROEM = "set n_components to use Nystroem features"
_DASK = "for dask input yet"

#: The combinations no fit supports, in the order they are checked.
UNSUPPORTED = (
    Unsupported(lambda plan, est: plan.kernel, "kernel models (kernel=...)", _DASK,
                "fit the linear model (kernel=None), or a kernel model on a NumPy sample",
                NotImplementedError, "dask"),
    Unsupported(lambda plan, est: plan.adaptive, "shape='adaptive'", _DASK,
                "fix the shape (a float) or fit the adaptive shape on a NumPy sample first",
                NotImplementedError, "dask"),
    Unsupported(lambda plan, est: plan.quantile, "loss='quantile'", _DASK,
                "fit it on a NumPy sample, or use a robust loss", NotImplementedError, "dask"),
    Unsupported(lambda plan, est: plan.init in ("lad", "ms")
                and not (est.warm_start and hasattr(est, "coef_")), "{init}", _DASK,
                "use init='s' (MM, resists leverage points) or init='ols'",
                NotImplementedError, "dask"),
    Unsupported(lambda plan, est: est.init == "gnc" and not isinstance(plan.loss, Barron),
                "init='gnc'", "with {loss}", "it anneals Barron's shape; use loss='barron' "
                "or one of its aliases (cauchy, welsch, geman_mcclure)"),
    Unsupported(lambda plan, est: plan.design_kind == "exact" and plan.adaptive,
                "shape='adaptive'", _EXACT, _NYSTROEM),
    Unsupported(lambda plan, est: plan.design_kind == "exact" and est.solver == "lbfgs",
                "solver='lbfgs'", _EXACT, _NYSTROEM),
    Unsupported(lambda plan, est: plan.design_kind == "exact" and plan.quantile,
                "loss='quantile'", _EXACT, _NYSTROEM),
    Unsupported(lambda plan, est: plan.design_kind == "exact" and plan.init == "lad",
                "init='lad'", _EXACT, _NYSTROEM),
    Unsupported(lambda plan, est: plan.m_estimate and plan.scale_kind == "joint"
                and not plan.loss.convex, "scale='joint'", "with the redescending {loss}",
                "it needs a convex loss; use scale='mad' or 'proposal2'"),
    Unsupported(lambda plan, est: getattr(est, "noncrossing", False) and not plan.quantile,
                "noncrossing=True", "with {loss}", "it orders the levels of a quantile fit; "
                "use loss='quantile' with several levels"),
    Unsupported(lambda plan, est: getattr(est, "noncrossing", False) and plan.quantile
                and np.size(est.quantile) > 1 and float(est.alpha or 0.0) > 0.0,
                "noncrossing=True", "with a ridge penalty (alpha > 0)",
                "the ordered levels are exact linear programs; set alpha=0"),
    Unsupported(lambda plan, est: plan.m_estimate and plan.init == "ms" and plan.kernel,
                "init='ms'", "for kernel models", "it splits the columns of X into "
                "indicators and continuous ones; use the linear model (kernel=None)"),
)


def check_supported(plan, est, backend="memory"):
    """Raise the error of the first row of :data:`UNSUPPORTED` that applies.

    Examples
    --------
    >>> from skrobust import RobustRegressor
    >>> est = RobustRegressor(loss="tukey", scale="joint")
    >>> plan = fit_plan(RobustRegressor(loss="tukey"))
    >>> check_supported(plan, est) is None
    True
    """
    for row in UNSUPPORTED:
        if row.backend in ("any", backend) and row.applies(plan, est):
            raise row.error(row.message(plan, est))


def resolve_loss(est) -> RobustLoss:
    """The loss of the estimator's parameters, with its tuning constant."""
    if isinstance(est.loss, RobustLoss):
        # a loss object carries its own tuning constant unless epsilon overrides it
        return est.loss if est.epsilon is None else est.loss.with_c(float(est.epsilon))
    if est.loss == "barron":
        loss = get_loss("barron", shape=est.shape)
    elif est.loss == "quantile":
        # several levels are fitted together; the plan's loss is the first one's
        return get_loss("quantile", quantile=first_level(est.quantile))
    else:
        loss = get_loss(est.loss)
    c = loss.default_c if est.epsilon is None else float(est.epsilon)
    return loss.with_c(c)


def _scale_kind(scale) -> str:
    if not isinstance(scale, str):
        return "fixed"
    return "proposal2" if scale == "huber" else scale


def fit_plan(est, backend="memory") -> FitPlan:
    """The plan of a fit of ``est`` (a RobustRegressor), its parameters checked together.

    Parameters
    ----------
    est : RobustRegressor
    backend : {"memory", "dask"}
        Where the fit runs (dask input supports fewer combinations).

    Returns
    -------
    plan : FitPlan
        ``start`` is ``init`` until :meth:`FitPlan.with_data` adapts it.

    Raises
    ------
    ValueError, NotImplementedError
        For a combination in :data:`UNSUPPORTED` (NotImplementedError: not yet on dask).
    """
    adaptive = est.loss == "barron" and isinstance(est.shape, str)
    if adaptive:
        check_shape_bounds(est.shape_bounds)
    loss = get_loss("barron", shape=1.0) if adaptive else resolve_loss(est)
    if adaptive:
        init = "ols"
    elif est.init != "auto":
        init = est.init
    else:
        init = "s" if loss.redescending else "ols"
    design_kind = "linear" if est.kernel is None else (
        "exact" if est.n_components is None else "nystroem")
    alpha = (0.0 if est.kernel is None else 1.0) if est.alpha is None else float(est.alpha)
    plan = FitPlan(loss=loss, adaptive=adaptive, quantile=isinstance(loss, Quantile),
                   init=init, start=init, scale=est.scale, scale_kind=_scale_kind(est.scale),
                   solver="irls" if est.solver == "auto" else est.solver, design_kind=design_kind,
                   alpha=alpha, auto_init=est.init == "auto")
    check_supported(plan, est, backend)
    return plan
