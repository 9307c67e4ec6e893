"""The fit plan (skrobust._plan) and the starts module (skrobust.solvers.starts)."""

import numpy as np
import pytest

from skrobust import RobustRegressor
from skrobust._plan import UNSUPPORTED, fit_plan
from skrobust._units import FitUnits
from skrobust.design.linear import LinearDesign
from skrobust.design.objective import MProblem
from skrobust.scale import FixedScale, MADScale
from skrobust.solvers.starts import robust_start, rule_floor


@pytest.mark.parametrize("params, expected", [
    ({"loss": "huber"}, ("huber", "ols", "irls", "linear", 0.0, False, False)),
    ({"loss": "tukey", "solver": "lbfgs"}, ("tukey", "s", "lbfgs", "linear", 0.0, False, False)),
    ({"loss": "barron"}, ("barron", "ols", "irls", "linear", 0.0, True, False)),
    ({"loss": "quantile", "kernel": "rbf", "n_components": 5},
     ("quantile", "ols", "irls", "nystroem", 1.0, False, True)),
    ({"loss": "welsch", "kernel": "rbf", "alpha": 0.5},
     ("welsch", "s", "irls", "exact", 0.5, False, False)),
])
def test_plan_decides_the_kind_of_fit(params, expected):
    plan = fit_plan(RobustRegressor(**params))
    got = (plan.loss.name, plan.init, plan.solver, plan.design_kind, plan.alpha, plan.adaptive,
           plan.quantile)
    assert got == expected
    assert plan.start == plan.init  # until the data adapts it


def test_plan_is_frozen():
    plan = fit_plan(RobustRegressor())
    with pytest.raises(AttributeError):
        plan.solver = "lbfgs"


@pytest.mark.parametrize("params, error, match", [
    ({"loss": "huber", "init": "gnc"}, ValueError, "init='gnc' is not available with loss='huber'"),
    ({"loss": "tukey", "scale": "joint"}, ValueError,
     "scale='joint' is not available with the redescending loss='tukey'"),
    ({"kernel": "rbf", "solver": "lbfgs"}, ValueError,
     "solver='lbfgs' is not available for the exact kernel model; set n_components"),
    ({"kernel": "rbf", "n_components": 5, "init": "ms"}, ValueError,
     "init='ms' is not available for kernel models"),
])
def test_unsupported_combinations_raise_one_message_style(params, error, match):
    with pytest.raises(error, match=match):
        fit_plan(RobustRegressor(**params))


def test_dask_rows_apply_only_to_dask_input():
    est = RobustRegressor(loss="quantile")
    assert fit_plan(est).quantile
    with pytest.raises(NotImplementedError, match="loss='quantile' is not available for dask"):
        fit_plan(est, backend="dask")


def test_every_unsupported_message_has_the_same_form():
    est = RobustRegressor()
    plan = fit_plan(est)
    for row in UNSUPPORTED:
        text = row.message(plan, est)
        assert " is not available " in text and "; " in text and "{" not in text


def test_small_data_turns_the_automatic_mm_start_into_a_huber_start():
    plan = fit_plan(RobustRegressor(loss="tukey"))
    with pytest.warns(UserWarning, match="too few for the S-estimator"):
        assert plan.with_data(9, 4).start == "huber"
    assert plan.with_data(10, 4).start == "s"
    # an S-start on kernel components sizes itself to the data: no fallback
    assert plan.with_data(9, 4, lambda: True).start == "s"
    # an S-start asked for explicitly is kept
    assert fit_plan(RobustRegressor(loss="tukey", init="s")).with_data(9, 4).start == "s"


def test_warm_rule_keeps_the_mm_estimator():
    units = FitUnits(None, 2.0, 1.0)
    rule = MADScale(1e-12)
    plan = fit_plan(RobustRegressor(loss="tukey"))
    held = plan.warm_rule(rule, 3.0, units)
    assert isinstance(held, FixedScale) and held.value == 1.5
    assert plan.warm_rule(rule, None, units) is None  # no S-estimate to keep: fit cold
    assert fit_plan(RobustRegressor(loss="huber")).warm_rule(rule, None, units) is rule


def test_robust_start_holds_the_s_scale_of_an_mm_start():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=60)
    y[:6] += 20.0
    design, w = LinearDesign(X, True), np.ones(60)
    units = FitUnits(None, 1.0, 1.0)
    rule = MADScale(1e-12)

    def start_of(**params):
        plan = fit_plan(RobustRegressor(**params))
        return robust_start(plan, MProblem(design, y, w, plan.loss, rule),
                            np.random.RandomState(0), units=units, max_iter=50)

    start = start_of(loss="tukey")
    assert isinstance(start.rule, FixedScale) and start.rule.value == start.s_scale
    assert np.allclose(start.beta[:2], [1.0, -1.0], atol=0.1)
    kept = start_of(loss="tukey", scale="mad")
    assert kept.rule is rule and kept.s_scale == start.s_scale
    convex = start_of(loss="huber")
    assert convex.beta is None and convex.scale is None  # the solver starts itself


def test_rule_floor():
    assert rule_floor(MADScale(1e-9)) == 1e-9
    assert rule_floor(FixedScale(2.0)) == 2.0
