"""Names users understand: scale="proposal2" (old name "huber"), R's psi names as loss aliases."""

import warnings

import numpy as np
import pytest

from skrobust import RobustRegressor
from skrobust.losses import LOSS_ALIASES, available_losses, get_loss
from skrobust.scale import resolve_scale_name


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=120)
    y[:12] += 15.0
    return X, y


def test_proposal2_is_the_old_huber_scale_with_a_future_warning(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns about nothing
        new = RobustRegressor(scale="proposal2").fit(X, y)
    with pytest.warns(FutureWarning, match=r"scale='huber' was renamed scale='proposal2'"):
        old = RobustRegressor(scale="huber").fit(X, y)
    np.testing.assert_array_equal(new.coef_, old.coef_)
    assert new.scale_ == old.scale_
    assert new.scale_ != RobustRegressor(scale="mad").fit(X, y).scale_


def test_proposal2_counts_kernel_degrees_of_freedom_under_both_names(data):
    X, y = data
    kw = dict(kernel="rbf", gamma=0.5, alpha=1.0)
    new = RobustRegressor(scale="proposal2", **kw).fit(X, y)
    with pytest.warns(FutureWarning):
        old = RobustRegressor(scale="huber", **kw).fit(X, y)
    assert new.scale_ == old.scale_


def test_resolve_scale_name_passes_other_values_through():
    assert resolve_scale_name("proposal2") == "proposal2"
    assert resolve_scale_name(0.5) == 0.5
    with pytest.warns(FutureWarning):
        assert resolve_scale_name("huber") == "proposal2"


def test_redescending_loss_with_joint_scale_suggests_the_new_name(data):
    X, y = data
    with pytest.raises(ValueError, match="use scale='mad' or 'proposal2'"):
        RobustRegressor(loss="tukey", scale="joint", init="ols").fit(X, y)


def test_old_scale_name_warns_on_dask_input(data):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, y = data
    dX, dy = da.from_array(X, chunks=(60, 3)), da.from_array(y, chunks=60)
    with dask.config.set(scheduler="synchronous"):
        new = RobustRegressor(scale="proposal2").fit(dX, dy)
        with pytest.warns(FutureWarning, match="renamed scale='proposal2'"):
            old = RobustRegressor(scale="huber").fit(dX, dy)
    np.testing.assert_array_equal(new.coef_, old.coef_)


@pytest.mark.parametrize("alias, name", sorted(LOSS_ALIASES.items()))
def test_r_psi_names_are_the_same_losses(alias, name, data):
    assert name in available_losses() and alias not in available_losses()
    assert get_loss(alias) == get_loss(name)
    assert get_loss(alias, c=2.0) == get_loss(name, c=2.0)
    X, y = data
    kw = dict(random_state=0)
    by_alias = RobustRegressor(loss=alias, **kw).fit(X, y)
    by_name = RobustRegressor(loss=name, **kw).fit(X, y)
    np.testing.assert_array_equal(by_alias.coef_, by_name.coef_)
    assert by_alias.loss_ == by_name.loss_


def test_r_psi_definitions_match_ours_up_to_a_constant_factor():
    # robustbase's normalisation psi'(0) = 1: bisquare psi(u) = u (1 - (u/c)^2)^2 for |u| <= c,
    # welsh psi(u) = u exp(-(u/c)^2 / 2); the 95% efficiency constants 4.685 and 2.11
    for alias, c, r_psi in [
        ("bisquare", 4.685, lambda u, c: u * (1 - (u / c) ** 2) ** 2),  # |u| < c below
        ("welsh", 2.11, lambda u, c: u * np.exp(-((u / c) ** 2) / 2)),
    ]:
        loss = get_loss(alias, c=c)
        u = np.linspace(-0.99 * c, 0.99 * c, 60)  # inside the bisquare's support
        ratio = loss.psi(u) / r_psi(u, c)
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
        assert get_loss(alias).default_c == pytest.approx(c, abs=6e-3)


def test_unknown_loss_name_lists_the_registry():
    with pytest.raises(ValueError, match="Unknown loss 'lqq'. Known losses: barron"):
        get_loss("lqq")
