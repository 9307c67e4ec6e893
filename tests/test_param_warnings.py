"""A parameter set to a non-default value that the configuration ignores warns at fit."""

import re
import warnings

import numpy as np
import pytest

from skrobust import RobustClassifier, RobustRegressor
from skrobust._param_relevance import RELEVANCE, unused_parameters
from skrobust.losses import get_loss
from skrobust.losses.probability import GCE

ESTIMATORS = {"RobustRegressor": RobustRegressor, "RobustClassifier": RobustClassifier}
UNUSED = "has no effect with"


def _rbf(x, y, gamma=1.0):
    return np.exp(-gamma * np.sum((x - y) ** 2))


# (estimator, parameter): (non-default value, a configuration that ignores it, one that uses it)
CASES = {
    ("RobustRegressor", "epsilon"): (2.0, {"loss": "quantile"}, {"loss": "huber"}),
    ("RobustRegressor", "shape"): (1.5, {"loss": "huber"}, {"loss": "barron"}),
    ("RobustRegressor", "shape_bounds"): ((0.5, 1.5), {"loss": "barron", "shape": 1.0},
                                          {"loss": "barron"}),
    ("RobustRegressor", "scale"): ("huber", {"loss": "quantile"}, {}),
    ("RobustRegressor", "init"): ("lad", {"loss": "barron"}, {}),
    ("RobustRegressor", "solver"): ("lbfgs", {"loss": "quantile"}, {}),
    ("RobustRegressor", "quantile"): (0.9, {}, {"loss": "quantile"}),
    ("RobustRegressor", "tol"): (1e-6, {"loss": "quantile"}, {}),
    ("RobustRegressor", "warm_start"): (True, {"kernel": "rbf"},
                                        {"kernel": "rbf", "n_components": 20}),
    ("RobustClassifier", "q"): (0.5, {"loss": "log"}, {"loss": "gce"}),
    ("RobustClassifier", "blurry_gamma"): (0.3, {"loss": "gce"}, {}),
    ("RobustClassifier", "detach_weight"): (True, {"loss": "log"}, {}),
    ("RobustClassifier", "back_off"): (True, {"loss": "log"}, {}),
    ("RobustClassifier", "cutoff"): (0.3, {}, {"loss": "piecewise_zero"}),
    ("RobustClassifier", "cutoff_mode"): ("absolute", {}, {"loss": "piecewise_zero"}),
    ("RobustClassifier", "shape"): (1.0, {"loss": "tukey"}, {"loss": "barron"}),
    ("RobustClassifier", "epsilon"): (1.5, {}, {"loss": "huber"}),
    ("RobustClassifier", "warmup_iter"): (10, {"loss": "log"}, {}),
}
for _name in ESTIMATORS:
    CASES.update({
        (_name, "gamma"): (0.5, {}, {"kernel": "rbf"}),
        (_name, "degree"): (2, {"kernel": "rbf"}, {"kernel": "poly"}),
        (_name, "coef0"): (0.5, {"kernel": "rbf"}, {"kernel": "sigmoid"}),
        (_name, "kernel_params"): ({"gamma": 0.2}, {"kernel": "rbf"}, {"kernel": _rbf}),
        (_name, "n_components"): (20, {}, {"kernel": "rbf"}),
    })
ROWS = [(name, row) for row in RELEVANCE for name in row.estimators]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y_reg = X @ [1.0, -1.0] + 0.3 * rng.normal(size=60)
    y_clf = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    return X, {"RobustRegressor": y_reg, "RobustClassifier": y_clf}


def _fit_warnings(name, data, params):
    X, ys = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ESTIMATORS[name](**params).fit(X, ys[name])
    return [str(w.message) for w in caught if UNUSED in str(w.message)]


def test_every_row_of_the_table_is_tested():
    assert {(name, row.param) for name, row in ROWS} == set(CASES)


@pytest.mark.parametrize("name, row", ROWS, ids=[f"{n}-{r.param}" for n, r in ROWS])
def test_warns_when_ignored_and_not_when_used(name, row, data):
    value, ignored, used = CASES[name, row.param]
    messages = _fit_warnings(name, data, {**ignored, row.param: value})
    assert len(messages) == 1
    assert messages[0].startswith(f"{name}: {row.param}=")
    assert messages[0].endswith(f"it is used only with {row.used_by}.")
    assert _fit_warnings(name, data, {**used, row.param: value}) == []


@pytest.mark.parametrize("name, row", ROWS, ids=[f"{n}-{r.param}" for n, r in ROWS])
def test_the_docstring_says_when_the_parameter_is_used(name, row):
    doc = ESTIMATORS[name].__doc__
    match = re.search(rf"^    {row.param} : .*?(?=^    \w+ : |^    [A-Z]\w+\n    -+$)", doc,
                      flags=re.S | re.M)
    assert match is not None
    text = " ".join(match.group(0).replace("``", "").split())
    assert f"Used only with {row.used_by}" in text


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_default_estimator_on_well_posed_data_gives_no_warning(name, data):
    X, ys = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ESTIMATORS[name]().fit(X, ys[name])


def test_the_message_names_the_parameter_its_value_and_the_configuration(data):
    with pytest.warns(UserWarning, match=r"RobustRegressor: quantile=0\.9 has no effect with "
                                         r"loss='huber'; it is used only with "
                                         r'loss="quantile"\.') as record:
        RobustRegressor(quantile=0.9).fit(data[0], data[1]["RobustRegressor"])
    assert record[0].filename == __file__  # points at the caller of fit


def test_loss_objects_carry_their_own_parameters(data):
    X, ys = data
    assert [r.param for r in unused_parameters(RobustRegressor(loss=get_loss("quantile"),
                                                               quantile=0.9))] == ["quantile"]
    with pytest.warns(UserWarning, match="q=0.3 has no effect with loss=GCE"):
        RobustClassifier(loss=GCE(q=0.5), q=0.3).fit(X, ys["RobustClassifier"])


@pytest.mark.parametrize("kernel", [None, "linear", "cosine", "precomputed", _rbf])
def test_gamma_warns_with_every_kernel_that_ignores_it(kernel):
    assert [r.param for r in unused_parameters(RobustRegressor(kernel=kernel, gamma=0.1))] == \
        ["gamma"]


def test_a_non_default_value_equal_to_the_default_does_not_warn():
    est = RobustRegressor(shape_bounds=[0.0, 1.999], degree=3.0, epsilon=None, coef0=1.0)
    assert unused_parameters(est) == []
