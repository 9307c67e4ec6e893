"""Tests for skrobust.datasets: label corruption, contaminated regression, loaders."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skrobust.datasets import (
    corrupt_labels,
    load_hbk,
    load_robustbase,
    load_stackloss,
    load_starscyg,
    make_contaminated_regression,
)

# ---------------------------------------------------------------------------
# corrupt_labels
# ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 300),
    n_classes=st.integers(2, 6),
    rate=st.floats(0.0, 0.99),
    kind=st.sampled_from(["uniform", "pair"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_corrupt_labels_exact_count_and_all_flips_differ(n, n_classes, rate, kind, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    y[:2] = [0, 1]  # at least two classes
    y_orig = y.copy()
    y_noisy, flipped = corrupt_labels(y, rate, kind=kind, random_state=seed)
    assert flipped.dtype == bool
    assert flipped.sum() == round(rate * n)
    np.testing.assert_array_equal(flipped, y_noisy != y)
    assert np.all(y_noisy[flipped] != y[flipped])
    np.testing.assert_array_equal(y, y_orig)  # input untouched
    assert y_noisy.dtype == y.dtype
    assert set(np.unique(y_noisy)) <= set(np.unique(y))


def test_corrupt_labels_reproducible():
    y = np.repeat(np.arange(4), 25)
    a = corrupt_labels(y, 0.3, random_state=42)
    b = corrupt_labels(y, 0.3, random_state=42)
    c = corrupt_labels(y, 0.3, random_state=43)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    rs = np.random.RandomState(0)
    d1 = corrupt_labels(y, 0.3, random_state=rs)[1]
    d2 = corrupt_labels(y, 0.3, random_state=rs)[1]
    assert not np.array_equal(d1, d2)  # a generator is advanced, not reset


@pytest.mark.parametrize("kind", ["uniform", "pair"])
def test_corrupt_labels_string_and_object_labels(kind):
    y = np.array(["setosa", "versicolor", "virginica"] * 20)
    y_noisy, flipped = corrupt_labels(y, 0.2, kind=kind, random_state=0)
    assert y_noisy.dtype == y.dtype
    assert flipped.sum() == 12
    assert np.all(y_noisy[flipped] != y[flipped])

    y_obj = np.array(["a", "b", "c", "a"] * 5, dtype=object)
    y_noisy, flipped = corrupt_labels(y_obj, 0.5, kind=kind, random_state=0)
    assert y_noisy.dtype == object
    assert flipped.sum() == 10

    # a plain list works and gives an array
    y_noisy, _ = corrupt_labels(["x", "y"] * 5, 0.2, random_state=0)
    assert isinstance(y_noisy, np.ndarray)


def test_corrupt_labels_pair_maps_to_next_sorted_class():
    classes = np.array(["ant", "bee", "cat", "dog"])
    y = np.repeat(classes, 30)
    y_noisy, flipped = corrupt_labels(y, 0.5, kind="pair", random_state=1)
    nxt = {"ant": "bee", "bee": "cat", "cat": "dog", "dog": "ant"}
    assert all(y_noisy[i] == nxt[y[i]] for i in np.flatnonzero(flipped))

    # binary: 0 -> 1 and 1 -> 0
    y = np.array([0, 1] * 10)
    y_noisy, flipped = corrupt_labels(y, 0.9, kind="pair", random_state=0)
    np.testing.assert_array_equal(y_noisy[flipped], 1 - y[flipped])


def test_corrupt_labels_uniform_reaches_every_other_class():
    y = np.zeros(3000, dtype=int)
    y[:4] = [1, 2, 3, 4]
    y_noisy, flipped = corrupt_labels(y, 0.5, random_state=0)
    new = y_noisy[flipped & (y == 0)]
    counts = np.bincount(new, minlength=5)
    assert counts[0] == 0
    # ~ 375 each among classes 1..4
    assert np.all(np.abs(counts[1:] - counts[1:].mean()) < 80)


def test_corrupt_labels_rate_zero_and_rounding():
    y = np.array([0, 1] * 5)
    y_noisy, flipped = corrupt_labels(y, 0.0, random_state=0)
    assert not flipped.any()
    np.testing.assert_array_equal(y_noisy, y)
    assert corrupt_labels(np.arange(7) % 2, 0.5, random_state=0)[1].sum() == round(3.5)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan"), "0.1", None, True])
def test_corrupt_labels_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        corrupt_labels([0, 1, 0, 1], rate)


def test_corrupt_labels_bad_inputs():
    with pytest.raises(ValueError, match="at least 2 classes"):
        corrupt_labels([3, 3, 3], 0.1)
    with pytest.raises(ValueError, match="kind"):
        corrupt_labels([0, 1], 0.1, kind="asymmetric")
    with pytest.raises(ValueError, match="one-dimensional"):
        corrupt_labels(np.zeros((3, 2)), 0.1)


# ---------------------------------------------------------------------------
# make_contaminated_regression
# ---------------------------------------------------------------------------


def _ols(X, y):
    A = np.column_stack([np.ones(len(y)), X])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    return beta[0], beta[1:]


@pytest.mark.parametrize("contamination", [0.0, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("leverage", [False, True])
def test_contaminated_regression_shapes_and_counts(contamination, leverage):
    X, y, coef, mask = make_contaminated_regression(
        150, 4, contamination=contamination, leverage=leverage, random_state=0
    )
    assert X.shape == (150, 4) and y.shape == (150,) and coef.shape == (4,)
    assert mask.dtype == bool and mask.sum() == round(contamination * 150)
    assert np.all((np.abs(coef) >= 1) & (np.abs(coef) <= 5))


def test_contaminated_regression_clean_rows_follow_model_with_zero_intercept():
    X, y, coef, mask = make_contaminated_regression(
        2000, 3, contamination=0.1, noise=0.5, random_state=1
    )
    intercept, beta = _ols(X[~mask], y[~mask])
    assert abs(intercept) < 0.05
    np.testing.assert_allclose(beta, coef, atol=0.05)
    resid = y[~mask] - X[~mask] @ coef
    assert abs(resid.std() - 0.5) < 0.05


def test_vertical_outliers_have_large_ols_residuals():
    X, y, coef, mask = make_contaminated_regression(200, 5, contamination=0.1, random_state=2)
    np.testing.assert_array_equal(X[mask].std(axis=0) > 0.5, True)  # X untouched
    intercept, beta = _ols(X, y)
    resid = np.abs(y - intercept - X @ beta)
    assert resid[mask].min() > resid[~mask].max()
    # the shift is outlier_shift * noise above the plane (plus noise)
    shift = (y - X @ coef)[mask]
    assert np.all(np.abs(shift - 10.0) < 4.0)


def test_leverage_points_are_far_and_bad():
    X, y, coef, mask = make_contaminated_regression(
        200, 3, contamination=0.1, leverage=True, random_state=3
    )
    center, cov = X[~mask].mean(axis=0), np.cov(X[~mask], rowvar=False)
    d = X - center
    mahal = np.sqrt(np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d))
    assert mahal[mask].min() > 2 * mahal[~mask].max()
    # tight cluster
    assert X[mask].std(axis=0).max() < 0.2
    # far below the true plane, and they pull least squares away from coef
    assert np.all((y - X @ coef)[mask] < -5)
    _, beta_all = _ols(X, y)
    _, beta_clean = _ols(X[~mask], y[~mask])
    assert np.linalg.norm(beta_all - coef) > 5 * np.linalg.norm(beta_clean - coef)


def test_contaminated_regression_reproducible_and_noise_free():
    a = make_contaminated_regression(50, 2, random_state=7)
    b = make_contaminated_regression(50, 2, random_state=7)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    X, y, coef, mask = make_contaminated_regression(50, 2, noise=0.0, random_state=0)
    np.testing.assert_allclose(y[~mask], X[~mask] @ coef)
    np.testing.assert_allclose(y[mask] - X[mask] @ coef, 10.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 10.5}, "n_samples"),
        ({"n_features": 0}, "n_features"),
        ({"contamination": 0.6}, "contamination"),
        ({"contamination": -0.1}, "contamination"),
        ({"noise": -1.0}, "noise"),
        ({"outlier_shift": 0.0}, "outlier_shift"),
        ({"outlier_shift": float("inf")}, "outlier_shift"),
        ({"leverage": "yes"}, "leverage"),
    ],
)
def test_contaminated_regression_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_contaminated_regression(**kwargs)


# ---------------------------------------------------------------------------
# loaders
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loader, shape, target",
    [
        (load_stackloss, (21, 3), "stack.loss"),
        (load_starscyg, (47, 1), "log.light"),
        (load_hbk, (75, 3), "Y"),
    ],
)
def test_named_loaders(loader, shape, target):
    ds = loader()
    assert ds.data.shape == shape and ds.data.dtype == np.float64
    assert ds.target.shape == (shape[0],)
    assert ds.target_name == target
    assert len(ds.feature_names) == shape[1]
    assert ds.frame is None
    np.testing.assert_array_equal(ds.row_names, np.arange(1, shape[0] + 1))
    assert "row names" in ds.DESCR
    X, y = loader(return_X_y=True)
    np.testing.assert_array_equal(X, ds.data)
    np.testing.assert_array_equal(y, ds.target)


def test_stackloss_values():
    ds = load_stackloss()
    np.testing.assert_array_equal(ds.data[0], [80, 27, 89])
    assert ds.target[0] == 42
    assert ds.target.sum() == 368  # sum(stackloss$stack.loss) in R
    assert "datasets::stackloss" in ds.DESCR


def test_hbk_leverage_rows():
    X = load_hbk().data
    center, cov = X[14:].mean(axis=0), np.cov(X[14:], rowvar=False)
    d = X - center
    mahal = np.sqrt(np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d))
    assert mahal[:14].min() > mahal[14:].max()


@pytest.mark.parametrize(
    "name, shape",
    [
        ("aircraft", (23, 4)),
        ("coleman", (20, 5)),
        ("education", (50, 4)),
        ("hbk", (75, 3)),
        ("heart", (12, 2)),
        ("salinity", (28, 3)),
        ("starsCYG", (47, 1)),
        ("STARSCYG", (47, 1)),
    ],
)
def test_load_robustbase(name, shape):
    ds = load_robustbase(name)
    assert ds.data.shape == shape
    assert np.all(np.isfinite(ds.data)) and np.all(np.isfinite(ds.target))
    assert "robustbase" in ds.DESCR


def test_load_robustbase_unknown():
    with pytest.raises(ValueError, match="Shipped data sets: aircraft"):
        load_robustbase("NOxEmissions")
    with pytest.raises(ValueError, match="load_stackloss"):
        load_robustbase("stackloss")
    with pytest.raises(ValueError, match="Unknown"):
        load_robustbase(3)


def test_loaders_as_frame():
    import pandas as pd
    ds = load_stackloss(as_frame=True)
    assert isinstance(ds.data, pd.DataFrame) and isinstance(ds.target, pd.Series)
    assert list(ds.frame.columns) == ["Air.Flow", "Water.Temp", "Acid.Conc.", "stack.loss"]
    assert ds.frame.index[0] == 1
    X, y = load_robustbase("education", as_frame=True, return_X_y=True)
    assert list(X.columns) == ["Region", "X1", "X2", "X3"] and y.name == "Y"
    frame = load_robustbase("education", as_frame=True).frame
    assert frame["State"].iloc[0] == "ME"
