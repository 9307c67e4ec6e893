"""The ``python -m skrobust`` demo: it runs, names its estimators, and plots on request."""

import numpy as np
import pytest

from skrobust.demo import DATASETS, build_parser, load_demo_data, main

ESTIMATORS = (
    "LinearRegression()",
    "HuberRegressor()",
    'RobustRegressor(loss="huber")',
    'RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4)',
    'RobustRegressor(loss="tukey"',
)


@pytest.mark.parametrize("data", ["synthetic", "starscyg"])
def test_demo_prints_every_estimator(data, capsys):
    assert main(["--data", data]) == 0
    out = capsys.readouterr().out
    for name in ESTIMATORS:
        assert name in out
    for label in ("OLS", "Huber-sk", "Huber-rlm", "Huber-jnt", "MM"):
        assert f"\n{label} " in out


def test_demo_mm_flags_the_giants_of_starscyg(capsys):
    main(["--data", "starscyg"])
    mm_line = next(line for line in capsys.readouterr().out.splitlines()
                   if line.startswith("MM "))
    assert "11,20,30,34" in mm_line


def test_demo_synthetic_mm_catches_every_leverage_point(capsys):
    main(["--data", "synthetic"])
    mm_line = next(line for line in capsys.readouterr().out.splitlines()
                   if line.startswith("MM "))
    assert "15/15, 0 false" in mm_line


def test_demo_data_sets_load():
    for name in DATASETS:
        data = load_demo_data(name)
        assert data.X.shape[0] == data.y.shape[0] > 0
        assert np.all(np.isfinite(data.X)) and np.all(np.isfinite(data.y))


def test_demo_help_and_bad_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "--plot" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["--data", "nope"])
    assert exc.value.code == 2
    assert build_parser().prog == "python -m skrobust"


@pytest.mark.parametrize("data", ["synthetic", "stackloss"])
def test_demo_plot(data, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib is optional: only --plot needs it")
    path = tmp_path / "demo.png"
    assert main(["--data", data, "--plot", str(path)]) == 0
    assert path.stat().st_size > 1000
    assert str(path) in capsys.readouterr().out


def test_demo_plot_without_matplotlib(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    path = tmp_path / "demo.png"
    assert main(["--data", "synthetic", "--plot", str(path)]) == 2
    assert "matplotlib" in capsys.readouterr().err
    assert not path.exists()
