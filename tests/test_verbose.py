"""verbose=1 prints one line per phase and iteration, in one format for every solver."""

import re
import warnings

import numpy as np
import pytest

from skrobust import RobustClassifier, RobustRegressor, _progress
from skrobust._progress import Progress
from skrobust.solvers.irls import WARM_MIN_ROWS

LINE = re.compile(r"^\[(?P<owner>\w+) +(?P<time>\d+\.\d{3})s\] (?P<phase>[a-z-]+): (?P<text>.*)$")
ITERATION = re.compile(r"^iter +(?P<k>\d+)  objective (?P<f>\S+)(?P<rest>.*)$")
FINAL = re.compile(r"^(converged in \d+ iterations|did not converge in \d+ iterations: .+)$")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = X @ [1.0, -2.0] + 0.5 * rng.normal(size=120)
    y[:10] += 20.0
    yc = (X[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    yc[:8] = 1 - yc[:8]
    return X, y, yc


def _lines(capsys, est, X, y):
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning does not change the format
        est.fit(X, y)
    out = capsys.readouterr().out.splitlines()
    parsed = [LINE.match(line) for line in out]
    assert all(parsed), [line for line, m in zip(out, parsed, strict=True) if not m]
    return parsed


def _check_format(parsed, owner, solver_phase, scale):
    assert {m["owner"] for m in parsed} == {owner}
    times = [float(m["time"]) for m in parsed]
    assert times == sorted(times)
    phases = [m["phase"] for m in parsed]
    assert phases[0] == "validation" and phases[1] == "design"
    assert parsed[-1]["phase"] == "fit" and parsed[-1]["text"].startswith("done in ")
    iterations = [ITERATION.match(m["text"]) for m in parsed
                  if m["phase"] == solver_phase and m["text"].startswith("iter")]
    assert iterations and all(iterations)
    assert [int(it["k"]) for it in iterations] == list(range(1, len(iterations) + 1))
    for it in iterations:
        float(it["f"])
        assert it["rest"].startswith("  scale ") == scale
    final = [m for m in parsed if m["phase"] == solver_phase][-1]
    assert FINAL.match(final["text"]), final["text"]
    return phases


REGRESSOR_CASES = [
    ({}, "irls"),  # Newton steps
    ({"loss": "tukey", "random_state": 0}, "irls"),  # S-start, then classic IRLS
    ({"solver": "lbfgs"}, "lbfgs"),
    ({"scale": "joint", "solver": "lbfgs"}, "lbfgs"),
    ({"scale": "joint"}, "irls"),
    ({"loss": "quantile", "quantile": 0.3}, "ipm"),
    ({"loss": "barron"}, "adaptive-barron"),
    ({"loss": "cauchy", "init": "gnc"}, "irls"),
    ({"loss": "tukey", "init": "lad"}, "irls"),
    ({"kernel": "rbf"}, "irls"),
    ({"kernel": "rbf", "loss": "tukey", "random_state": 0}, "irls"),
    ({"kernel": "rbf", "n_components": 30, "random_state": 0}, "irls"),
]


@pytest.mark.parametrize("params, solver_phase", REGRESSOR_CASES,
                         ids=[str(p) for p, _ in REGRESSOR_CASES])
def test_regressor_prints_every_phase_in_one_format(capsys, data, params, solver_phase):
    X, y, _ = data
    parsed = _lines(capsys, RobustRegressor(verbose=1, **params), X, y)
    # the pinball loss has no scale
    _check_format(parsed, "RobustRegressor", solver_phase, scale=solver_phase != "ipm")


@pytest.mark.parametrize("params, solver_phase", REGRESSOR_CASES,
                         ids=[str(p) for p, _ in REGRESSOR_CASES])
def test_regressor_is_silent_at_verbose_0(capsys, data, params, solver_phase):
    X, y, _ = data
    assert _lines(capsys, RobustRegressor(**params), X, y) == []


def test_one_line_per_iteration(capsys, data):
    X, y, _ = data
    reg = RobustRegressor(verbose=1)
    parsed = _lines(capsys, reg, X, y)
    iterations = [m for m in parsed if m["phase"] == "irls" and m["text"].startswith("iter")]
    assert len(iterations) == reg.n_iter_
    assert parsed[-2]["text"] == f"converged in {reg.n_iter_} iterations"


def test_s_start_reports_the_subsets_done(capsys, data):
    X, y, _ = data
    parsed = _lines(capsys, RobustRegressor(loss="tukey", random_state=0, verbose=1), X, y)
    texts = [m["text"] for m in parsed if m["phase"] == "s-start"]
    assert any(re.match(r"500/500 subsets done \(\d+ singular\) on 120 rows", t) for t in texts)
    refined = [m["text"] for m in parsed if m["phase"] == "s-refine"]
    assert any(re.match(r"candidate 1/\d converged in \d+ iterations, S-scale", t)
               for t in refined)
    phases = [m["phase"] for m in parsed]
    assert phases.index("s-start") < phases.index("start") < phases.index("irls")


def test_s_start_on_many_rows_reports_each_group(capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2))
    y = X @ [1.0, 1.0] + rng.normal(size=3000)
    parsed = _lines(capsys, RobustRegressor(loss="tukey", random_state=0, verbose=1), X, y)
    groups = [m["text"] for m in parsed if m["phase"] == "s-start"
              and m["text"].startswith("group ")]
    assert [g.split(":")[0] for g in groups] == [f"group {k}/5" for k in range(1, 6)]
    assert groups[-1].startswith("group 5/5: 2500/2500 subsets done")


def test_large_problems_report_the_warm_start(capsys):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(WARM_MIN_ROWS, 2))
    y = X @ [1.0, 1.0] + rng.normal(size=WARM_MIN_ROWS)
    parsed = _lines(capsys, RobustRegressor(verbose=1), X, y)
    warm = [m["text"] for m in parsed if m["phase"] == "warm-start"]
    assert warm[0].startswith("fit on ") and FINAL.match(warm[-1])
    assert any(ITERATION.match(t) for t in warm)


CLASSIFIER_CASES = [
    ({"loss": "log"}, "lbfgs"),
    ({}, "lbfgs"),  # blurry: a warm-up first
    ({"loss": "huber"}, "newton"),
    ({"loss": "tukey", "solver": "irls"}, "irls"),
    ({"loss": "piecewise_zero"}, "irls"),
    ({"kernel": "rbf", "loss": "log"}, "lbfgs"),
]


@pytest.mark.parametrize("params, solver_phase", CLASSIFIER_CASES,
                         ids=[str(p) for p, _ in CLASSIFIER_CASES])
def test_classifier_prints_every_phase_in_one_format(capsys, data, params, solver_phase):
    X, _, yc = data
    parsed = _lines(capsys, RobustClassifier(verbose=1, **params), X, yc)
    phases = _check_format(parsed, "RobustClassifier", solver_phase, scale=False)
    if params == {}:
        assert phases.index("warm-up") < phases.index("lbfgs")


@pytest.mark.parametrize("params, solver_phase", CLASSIFIER_CASES,
                         ids=[str(p) for p, _ in CLASSIFIER_CASES])
def test_classifier_is_silent_at_verbose_0(capsys, data, params, solver_phase):
    X, _, yc = data
    assert _lines(capsys, RobustClassifier(**params), X, yc) == []


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_ticks_are_rate_limited(monkeypatch, capsys):
    clock = _Clock()
    monkeypatch.setattr(_progress.time, "perf_counter", clock)
    progress = Progress(1, "X")
    progress.line("a", "first")
    clock.now += 0.1
    progress.tick("a", "too soon")
    progress.iteration("a", 1, 1.0, tick=True)
    clock.now += _progress.TICK_INTERVAL
    progress.tick("a", "late enough")
    clock.now += 0.1
    progress.iteration("a", 2, 1.0, tick=True)
    out = capsys.readouterr().out.splitlines()
    assert out == ["[X    0.000s] a: first", "[X    0.600s] a: late enough"]


def test_reporter_is_falsy_and_silent_at_0(capsys):
    progress = Progress(0)
    assert not progress
    progress.line("a", "x")
    progress.finish("a", False, 3, "why")
    assert capsys.readouterr().out == ""
    assert Progress.of(progress) is progress and bool(Progress.of(1))


def test_final_line_says_why_not_converged(capsys):
    progress = Progress(1, "X")
    progress.finish("irls", False, 7, "IRLS did not converge in 7 iterations")
    assert capsys.readouterr().out.endswith(
        "irls: did not converge in 7 iterations: IRLS did not converge in 7 iterations\n")
