"""The regression outlier map (skrobust.inspection.OutlierMapDisplay).

Expected flags (reference: robustbase covMcd + lmrob MM residuals, which agree with
scikit-learn's MinCovDet on these two data sets only; RD values are never pinned because
scikit-learn changed MinCovDet's consistency factor in 1.9):
hbk rows 1-10 bad leverage, 11-14 good leverage; starsCYG residual flags 11, 20, 30, 34 and
distance flags 7, 11, 14, 20, 30, 34 (1-based, as R prints them).
"""

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import chi2

from skrobust import RobustRegressor
from skrobust.datasets import load_hbk, load_starscyg
from skrobust.inspection import CLASSES, OutlierMapDisplay, robust_distances


@pytest.fixture
def pyplot():
    mpl = pytest.importorskip("matplotlib", reason="plotting needs matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _hbk():
    X, y = load_hbk(return_X_y=True)
    return X, y, RobustRegressor(loss="tukey", random_state=0).fit(X, y)


def _rows(classes, name):
    return (np.flatnonzero(classes == name) + 1).tolist()


def test_hbk_classes_without_matplotlib():
    X, y, mm = _hbk()
    viz = OutlierMapDisplay(robust_distances=robust_distances(X, random_state=0),
                            std_residuals=(y - mm.predict(X)) / mm.scale_,
                            distance_cutoff=np.sqrt(chi2.ppf(0.975, 3)))
    assert _rows(viz.classes_, "bad_leverage") == list(range(1, 11))
    assert _rows(viz.classes_, "good_leverage") == [11, 12, 13, 14]
    assert set(viz.classes_[14:]) == {"regular"}
    assert not hasattr(viz, "ax_")


def test_hbk_from_estimator(pyplot):
    X, y, mm = _hbk()
    viz = OutlierMapDisplay.from_estimator(mm, X, y, random_state=0)
    assert _rows(viz.classes_, "bad_leverage") == list(range(1, 11))
    assert _rows(viz.classes_, "good_leverage") == [11, 12, 13, 14]
    assert viz.distance_cutoff == pytest.approx(3.05752, abs=1e-5)
    assert sorted(viz.scatter_) == ["bad_leverage", "good_leverage", "regular"]
    assert viz.ax_.figure is viz.figure_
    assert [line.get_ydata()[0] for line in viz.hlines_] == [-2.5, 2.5]
    assert viz.vline_.get_xdata()[0] == pytest.approx(viz.distance_cutoff)
    # the 10 most outlying flagged rows are labelled (0-based row numbers)
    assert len(viz.annotations_) == 10
    assert {int(t.get_text()) for t in viz.annotations_} <= set(range(14))


def test_starscyg_flags(pyplot):
    X, y = load_starscyg(return_X_y=True)
    mm = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
    viz = OutlierMapDisplay.from_estimator(mm, X, y, random_state=0)
    assert viz.distance_cutoff == pytest.approx(2.2414, abs=1e-4)
    outlying = np.isin(viz.classes_, ["vertical", "bad_leverage"])
    leverage = np.isin(viz.classes_, ["good_leverage", "bad_leverage"])
    assert (np.flatnonzero(outlying) + 1).tolist() == [11, 20, 30, 34]
    assert (np.flatnonzero(leverage) + 1).tolist() == [7, 11, 14, 20, 30, 34]


def test_classes_follow_the_cutoffs():
    rd = np.array([1.0, 1.0, 1.0, 3.0, 3.0, 2.0, 2.0])
    res = np.array([0.0, 2.5, -2.6, 0.0, 3.0, 2.5, -9.0])
    viz = OutlierMapDisplay(robust_distances=rd, std_residuals=res, distance_cutoff=2.0)
    # a value on a cut-off is not beyond it
    assert viz.classes_.tolist() == ["regular", "regular", "vertical", "good_leverage",
                                     "bad_leverage", "regular", "vertical"]
    assert set(viz.classes_) <= set(CLASSES)
    viz = OutlierMapDisplay(robust_distances=rd, std_residuals=res, distance_cutoff=2.0,
                            residual_cutoff=1.0)
    assert viz.classes_[5] == "vertical"


def test_from_predictions_matches_from_estimator(pyplot):
    X, y, mm = _hbk()
    fig, ax = pyplot.subplots()
    a = OutlierMapDisplay.from_estimator(mm, X, y, random_state=0, ax=ax, n_labels=3)
    assert a.ax_ is ax and len(a.annotations_) == 3
    rd = robust_distances(X, random_state=0)
    b = OutlierMapDisplay.from_predictions(y, mm.predict(X), scale=mm.scale_,
                                           robust_distances=rd, n_features=3)
    np.testing.assert_array_equal(a.classes_, b.classes_)
    np.testing.assert_allclose(a.std_residuals, b.std_residuals)
    c = OutlierMapDisplay.from_predictions(y, mm.predict(X), scale=mm.scale_,
                                           robust_distances=rd, n_features=3, quantile=0.5)
    assert c.distance_cutoff == pytest.approx(np.sqrt(chi2.ppf(0.5, 3)))
    assert (c.classes_ != "regular").sum() > (b.classes_ != "regular").sum()


def test_style_kwargs_and_labels(pyplot):
    X, y, mm = _hbk()
    labels = [f"obs{i + 1}" for i in range(len(y))]
    viz = OutlierMapDisplay.from_estimator(mm, X, y, random_state=0, labels=labels,
                                           scatter_kwargs={"marker": "x"},
                                           line_kwargs={"color": "red"})
    assert viz.hlines_[0].get_color() == "red"
    assert all(t.get_text().startswith("obs") for t in viz.annotations_)


def test_bad_input(pyplot):
    X, y, mm = _hbk()
    rd = np.ones(len(y))
    with pytest.raises(ValueError, match="scale must be positive"):
        OutlierMapDisplay.from_predictions(y, y, scale=0.0, robust_distances=rd, n_features=3)
    with pytest.raises(ValueError, match="quantile must lie in"):
        OutlierMapDisplay.from_predictions(y, y, scale=1.0, robust_distances=rd, n_features=3,
                                           quantile=1.0)
    with pytest.raises(ValueError, match="n_features must be a positive integer"):
        OutlierMapDisplay.from_predictions(y, y, scale=1.0, robust_distances=rd, n_features=0)
    with pytest.raises(ValueError, match="same length"):
        OutlierMapDisplay.from_predictions(y, y[:-1], scale=1.0, robust_distances=rd,
                                           n_features=3)
    with pytest.raises(ValueError, match="same length"):
        OutlierMapDisplay(robust_distances=rd[:-1], std_residuals=y, distance_cutoff=1.0)
    with pytest.raises(ValueError, match="labels must have one entry per row"):
        OutlierMapDisplay(robust_distances=rd, std_residuals=y, distance_cutoff=1.0,
                          labels=["a"])
    with pytest.raises(ValueError, match="residual_cutoff must be positive"):
        OutlierMapDisplay(robust_distances=rd, std_residuals=y, distance_cutoff=1.0,
                          residual_cutoff=0.0)
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LinearRegression

    with pytest.raises(NotFittedError):
        OutlierMapDisplay.from_estimator(RobustRegressor(), X, y)
    with pytest.raises(ValueError, match="has no scale_"):
        OutlierMapDisplay.from_estimator(LinearRegression().fit(X, y), X, y)


def test_matplotlib_is_imported_lazily():
    code = ("import sys, numpy as np; from skrobust.inspection import OutlierMapDisplay; "
            "OutlierMapDisplay(robust_distances=np.ones(3), std_residuals=np.zeros(3), "
            "distance_cutoff=2.0); print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
