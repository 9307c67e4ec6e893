"""outliers_: |r| / sigma > 2.5 with a consistent sigma for every loss; joint scale: parity."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.linear_model import HuberRegressor

from skrobust import RobustRegressor
from skrobust._outliers import OUTLIER_CUTOFF
from skrobust.losses import available_losses
from skrobust.scale import mad_scale

N_CLEAN = 20_000


@pytest.fixture(scope="module")
def clean():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N_CLEAN, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 + 2.0 * rng.normal(size=N_CLEAN)
    return X, y


def _fit(X, y, sample_weight=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning is not what is tested here
        return RobustRegressor(random_state=0, **params).fit(X, y, sample_weight=sample_weight)


def test_cutoff_flags_one_point_two_percent_of_a_normal():
    assert 2 * norm.sf(OUTLIER_CUTOFF) == pytest.approx(0.0124, abs=1e-4)


@pytest.mark.parametrize("loss", available_losses())
def test_share_of_clean_gaussian_rows_flagged_is_the_same_for_every_loss(clean, loss):
    reg = _fit(*clean, loss=loss)
    assert 0.008 <= reg.outliers_.mean() <= 0.018


@pytest.mark.parametrize("params", [
    {"loss": "huber", "scale": "huber"},
    {"loss": "tukey", "scale": "mad"},
    {"loss": "barron", "shape": 0.5},
    {"loss": "quantile", "quantile": 0.9},
    {"loss": "huber", "scale": 2.0},
])
def test_share_of_clean_gaussian_rows_flagged_in_other_configurations(clean, params):
    reg = _fit(*clean, **params)
    assert 0.008 <= reg.outliers_.mean() <= 0.018


def test_the_share_does_not_depend_on_epsilon(clean):
    shares = [_fit(*clean, loss="huber", epsilon=e).outliers_.mean() for e in (0.8, 1.345, 3.0)]
    assert max(shares) - min(shares) < 0.002


def test_joint_scale_keeps_huberregressors_meaning(clean):
    X, y = clean
    X, y = X[:3000], y[:3000].copy()
    y[:100] += 30.0
    ref = HuberRegressor(epsilon=1.35, alpha=1e-4).fit(X, y)
    ours = RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4).fit(X, y)
    np.testing.assert_array_equal(ours.outliers_, ref.outliers_)
    r = y - ours.predict(X)
    np.testing.assert_array_equal(ours.outliers_, np.abs(r) > 1.35 * ours.scale_)
    assert 0.3 < ours.outliers_[100:].mean() < 0.45  # the price of parity, documented


@pytest.mark.parametrize("params", [{"loss": "huber"}, {"loss": "tukey"},
                                    {"loss": "huber", "scale": 1.5}])
def test_consistent_scale_fits_flag_against_scale_(clean, params):
    X, y = clean
    reg = _fit(X[:2000], y[:2000], **params)
    r = y[:2000] - reg.predict(X[:2000])
    np.testing.assert_array_equal(reg.outliers_, np.abs(r) > 2.5 * reg.scale_)


def test_adaptive_barron_flags_against_the_mad_of_the_residuals(clean):
    X, y = clean[0][:2000], clean[1][:2000]
    reg = _fit(X, y, loss="barron")
    r = y - reg.predict(X)
    np.testing.assert_array_equal(reg.outliers_, np.abs(r) > 2.5 * mad_scale(r))


@pytest.mark.parametrize("loss", ["huber", "tukey", "cauchy", "quantile", "barron"])
def test_gross_outliers_are_flagged_and_clean_rows_mostly_not(clean, loss):
    X, y = clean[0][:2000], clean[1][:2000].copy()
    y[:100] += 40.0  # 20 error standard deviations
    reg = _fit(X, y, loss=loss)
    assert reg.outliers_[:100].all()
    assert reg.outliers_[100:].mean() < 0.03


@pytest.mark.parametrize("loss", ["huber", "quantile", "barron"])
def test_integer_weights_flag_like_repeated_rows(clean, loss):
    X, y = clean[0][:400], clean[1][:400].copy()
    y[:20] += 15.0
    w = np.random.default_rng(3).integers(0, 3, size=400)
    weighted = _fit(X, y, w, loss=loss)
    repeated = _fit(np.repeat(X, w, axis=0), np.repeat(y, w), loss=loss)
    keep = w > 0
    np.testing.assert_array_equal(np.repeat(weighted.outliers_[keep], w[keep]),
                                  repeated.outliers_)


@pytest.mark.parametrize("loss", ["huber", "tukey", "quantile"])
def test_flags_are_scale_equivariant(clean, loss):
    X, y = clean[0][:1000], clean[1][:1000].copy()
    y[:30] -= 25.0
    a = _fit(X, y, loss=loss)
    b = _fit(X, 1000.0 * y, loss=loss)
    np.testing.assert_array_equal(a.outliers_, b.outliers_)
