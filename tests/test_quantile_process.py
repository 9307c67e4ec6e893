"""The quantile regression process (skrobust.solvers.quantile.quantile_process).

Every level equals its separate exact fit; the warm band solves are the path
taken; the non-crossing fit has no crossing on the training rows and costs
little objective.  The estimator's vector ``quantile`` is tested in
test_quantile_levels.py.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import skrobust.solvers.quantile.noncrossing as noncrossing_module
import skrobust.solvers.quantile.process as process_module
import skrobust.solvers.quantile.single as single_module
from skrobust.design.linear import LinearDesign
from skrobust.solvers.quantile import QuantileProcessResult, quantile_process, quantile_regression

LEVELS = np.arange(1, 20) / 20


def make_data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.uniform(-2, 2, d) + 1.0 + rng.standard_t(3, n) * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def heteroscedastic(n, seed):
    """Spread growing with x0: independent fits of many levels cross at large x0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (n, 2))
    y = 1.0 + X @ [1.0, -0.5] + (0.2 + 2.0 * X[:, 0]) * rng.standard_t(3, n)
    return X, y


def crossings(design, beta):
    """Pairs of consecutive levels (rows of beta, sorted by level) in the wrong order, per row."""
    pred = np.column_stack([design.predict(b) for b in beta])
    return int(np.sum(np.diff(pred, axis=1) < 0))


def assert_levels_equal_single_fits(design, y, w, levels, **kw):
    fits = quantile_process(design, y, w, levels, **kw)
    assert isinstance(fits, QuantileProcessResult)
    assert fits.converged, fits.message
    assert fits.beta.shape == (len(levels), design.n_params)
    assert fits.objective.shape == (len(levels),)
    np.testing.assert_array_equal(fits.quantiles, levels)
    assert fits.n_iter == sum(res.n_iter for res in fits.results)
    for k, q in enumerate(levels):
        single = quantile_regression(design, y, w, q, **kw)
        assert fits.objective[k] == pytest.approx(single.objective, rel=1e-10)
        assert fits.results[k].objective == fits.objective[k]
        np.testing.assert_array_equal(fits.results[k].beta, fits.beta[k])
    return fits


# ------------------------------------------------------------ exact levels
def test_levels_equal_single_fits_dense():
    X, y = make_data(5000, 3, seed=0)
    assert_levels_equal_single_fits(LinearDesign(X, True), y, None, LEVELS)


def test_levels_equal_single_fits_sparse():
    X, y = make_data(5000, 4, seed=1)
    X[np.random.default_rng(1).random(X.shape) < 0.6] = 0.0
    design = LinearDesign(sp.csr_matrix(X), True)
    fits = assert_levels_equal_single_fits(design, y, None, LEVELS[::2])
    dense = quantile_process(LinearDesign(X, True), y, None, LEVELS[::2])
    np.testing.assert_allclose(fits.objective, dense.objective, rtol=1e-10)


def test_levels_equal_single_fits_weighted():
    X, y = make_data(5000, 3, seed=2)
    w = np.random.default_rng(2).integers(0, 4, y.size).astype(float)
    assert_levels_equal_single_fits(LinearDesign(X, True), y, w, LEVELS[::3])


def test_levels_equal_single_fits_without_intercept_and_penalised():
    X, y = make_data(3000, 3, seed=3)
    assert_levels_equal_single_fits(LinearDesign(X, False), y, None, [0.2, 0.5, 0.8])
    assert_levels_equal_single_fits(LinearDesign(X, True), y, None, [0.2, 0.5, 0.8], alpha=30.0)


def test_levels_equal_single_fits_on_tied_discrete_data():
    """Discrete X and rounded y: many tied residuals and degenerate vertices."""
    rng = np.random.default_rng(8)
    X = rng.integers(0, 3, (6000, 2)).astype(float)
    y = np.round(X @ [1.0, 2.0] + rng.standard_normal(6000))
    assert_levels_equal_single_fits(LinearDesign(X, True), y, None, LEVELS[::2])


def test_no_parameters_and_intercept_only():
    y = np.random.default_rng(9).standard_normal(3000)
    empty = quantile_process(LinearDesign(np.zeros((3000, 0)), False), y, None, [0.2, 0.7])
    assert empty.converged and empty.beta.shape == (2, 0)
    levels = [0.7, 0.2, 0.5]
    fits = quantile_process(LinearDesign(np.zeros((3000, 0)), True), y, None, levels)
    for k, q in enumerate(levels):  # a sample q-quantile: at most q n rows below, (1-q) n above
        assert np.sum(y < fits.beta[k, 0]) <= q * y.size <= np.sum(y <= fits.beta[k, 0])


def test_integer_weights_equal_repeated_rows():
    X, y = make_data(2500, 2, seed=4)
    w = np.random.default_rng(4).integers(1, 3, y.size)
    weighted = quantile_process(LinearDesign(X, True), y, w.astype(float), [0.1, 0.5, 0.7])
    rows = np.repeat(np.arange(y.size), w)
    repeated = quantile_process(LinearDesign(X[rows], True), y[rows], None, [0.1, 0.5, 0.7])
    np.testing.assert_allclose(weighted.objective, repeated.objective, rtol=1e-10)


def test_unsorted_levels_keep_their_order():
    X, y = make_data(4000, 3, seed=5)
    levels = [0.9, 0.1, 0.5, 0.25, 0.75]
    fits = assert_levels_equal_single_fits(LinearDesign(X, True), y, None, levels)
    intercepts = fits.beta[:, -1]
    assert intercepts[1] < intercepts[3] < intercepts[2] < intercepts[4] < intercepts[0]


def test_levels_after_the_first_are_solved_on_a_band(monkeypatch):
    """Only the level nearest the median is a cold full solve; the others are warm band
    solves from their neighbour (a fallback to the full solve would call it again)."""
    X, y = make_data(6000, 3, seed=6)
    calls = []
    full = process_module._solve_outcome

    def counted(prob, *args):
        calls.append(prob.q)
        return full(prob, *args)

    monkeypatch.setattr(process_module, "_solve_outcome", counted)
    fits = quantile_process(LinearDesign(X, True), y, None, LEVELS)
    assert fits.converged
    assert calls == [0.5]


def test_single_level_pilot_gives_the_exact_optimum(monkeypatch):
    """From _PILOT_MIN_ROWS rows a single level starts from a row sample's fit and solves a
    band; the optimum is the one of the full interior point solve."""
    X, y = make_data(8000, 4, seed=7)
    design = LinearDesign(X, True)
    pilot = single_module._pilot
    calls = []
    monkeypatch.setattr(single_module, "_pilot", lambda *a: calls.append(1) or pilot(*a))
    for q in (0.5, 0.15):
        monkeypatch.setattr(single_module, "_PILOT_MIN_ROWS", 10**9)
        plain = quantile_regression(design, y, None, q)
        monkeypatch.setattr(single_module, "_PILOT_MIN_ROWS", 5000)
        fast = quantile_regression(design, y, None, q)
        assert fast.converged
        assert fast.objective == pytest.approx(plain.objective, rel=1e-10)
    assert len(calls) == 2


# ------------------------------------------------------------ non-crossing
@pytest.mark.parametrize("n", [200, 500, 2000])
def test_noncrossing_removes_crossings_at_small_cost(n):
    X, y = heteroscedastic(n, seed=n)
    design = LinearDesign(X, True)
    levels = np.linspace(0.05, 0.95, 13)
    free = quantile_process(design, y, None, levels)
    assert crossings(design, free.beta) > 0  # the independent fits do cross here
    tied = quantile_process(design, y, None, levels, noncrossing=True)
    assert tied.converged, tied.message
    assert crossings(design, tied.beta) == 0
    assert tied.objective.sum() <= 1.02 * free.objective.sum()
    assert np.all(tied.objective >= free.objective * (1 - 1e-9))  # each free fit is optimal


def test_noncrossing_on_a_band_of_rows(monkeypatch):
    """Large enough for the constrained programs to be solved on a band of rows (checked on
    all rows): still no crossing, and each level costs little."""
    X, y = heteroscedastic(10000, seed=21)
    design = LinearDesign(X, True)
    levels = np.linspace(0.4, 0.6, 11)  # close levels cross even at this n
    rows = []
    program = noncrossing_module._band_program
    monkeypatch.setattr(noncrossing_module, "_band_program",
                        lambda prob, band, *a: rows.append(band.sum()) or program(prob, band, *a))
    free = quantile_process(design, y, None, levels)
    assert crossings(design, free.beta) > 0
    tied = quantile_process(design, y, None, levels, noncrossing=True)
    assert tied.converged
    assert rows and max(rows) < y.size
    assert crossings(design, tied.beta) == 0
    assert tied.objective.sum() <= 1.02 * free.objective.sum()


def test_noncrossing_without_intercept_holds_up_to_rounding():
    """Without an intercept nothing shifts the fit off an active constraint: the order holds to
    rounding (constraints met with equality)."""
    X, y = heteroscedastic(3000, seed=22)
    design = LinearDesign(X, False)
    levels = np.linspace(0.4, 0.6, 11)
    free = quantile_process(design, y, None, levels)
    assert crossings(design, free.beta) > 0
    tied = quantile_process(design, y, None, levels, noncrossing=True)
    pred = np.column_stack([design.predict(b) for b in tied.beta])
    assert np.min(np.diff(pred, axis=1)) >= -1e-12 * np.max(np.abs(pred))
    assert tied.objective.sum() <= 1.02 * free.objective.sum()


def test_noncrossing_keeps_the_order_of_unsorted_levels_and_sparse_weighted_data():
    X, y = heteroscedastic(1500, seed=11)
    w = np.random.default_rng(11).integers(1, 4, y.size).astype(float)
    levels = [0.95, 0.05, 0.5, 0.3, 0.7, 0.15, 0.85]
    design = LinearDesign(sp.csr_matrix(X), True)
    tied = quantile_process(design, y, w, levels, noncrossing=True)
    assert tied.converged
    order = np.argsort(levels)
    assert crossings(design, tied.beta[order]) == 0
    np.testing.assert_array_equal(tied.quantiles, levels)


def test_noncrossing_changes_nothing_when_fits_do_not_cross():
    X, y = make_data(3000, 2, seed=12)
    X = np.abs(X)  # homoscedastic in the bulk: parallel planes, far apart
    y = X @ [1.0, 2.0] + np.random.default_rng(12).standard_normal(y.size)
    design = LinearDesign(X, True)
    free = quantile_process(design, y, None, [0.1, 0.5, 0.9])
    assert crossings(design, free.beta) == 0
    tied = quantile_process(design, y, None, [0.1, 0.5, 0.9], noncrossing=True)
    np.testing.assert_array_equal(tied.beta, free.beta)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("levels, match", [
    ([], "non-empty"),
    ([[0.1, 0.5]], "1-D"),
    ([0.1, 1.0], "strictly between"),
    ([0.0, 0.5], "strictly between"),
    ([0.5, np.nan], "strictly between"),
    ([0.3, 0.3], "repeat"),
    (["a", 0.5], "real numbers"),
])
def test_bad_levels(levels, match):
    X, y = make_data(50, 2, seed=0)
    with pytest.raises(ValueError, match=match):
        quantile_process(LinearDesign(X, True), y, None, levels)


def test_bad_arguments():
    X, y = make_data(50, 2, seed=0)
    design = LinearDesign(X, True)
    with pytest.raises(TypeError, match="LinearDesign"):
        quantile_process(X, y, None, [0.5])
    with pytest.raises(ValueError, match="alpha"):
        quantile_process(design, y, None, [0.5], alpha=-1.0)
    with pytest.raises(ValueError, match="noncrossing=True requires alpha=0"):
        quantile_process(design, y, None, [0.2, 0.5], alpha=1.0, noncrossing=True)
    with pytest.raises(ValueError, match="sample_weight"):
        quantile_process(design, y, -np.ones(50), [0.5])
    with pytest.raises(ValueError, match="y has"):
        quantile_process(design, y[:-1], None, [0.5])


def test_inputs_are_not_modified():
    X, y = make_data(400, 2, seed=13)
    w = np.ones(y.size)
    copies = X.copy(), y.copy(), w.copy()
    levels = np.array([0.7, 0.2])
    quantile_process(LinearDesign(X, True), y, w, levels, noncrossing=True)
    for a, b in zip((X, y, w), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(levels, [0.7, 0.2])


def test_engel_levels_match_quantreg():
    """R quantreg 5.94, rq(foodexp ~ income, tau, method="br") on the engel data."""
    from skrobust.datasets import load_engel

    X, y = load_engel(return_X_y=True)
    reference = {  # tau: (intercept, income, objective)
        0.1: (110.1415742049, 0.4017657593, 3869.9321609866),
        0.5: (81.4822474169, 0.5601805512, 8779.9663238128),
        0.9: (67.3508720801, 0.6862994804, 3391.9837110282),
    }
    levels = [0.9, 0.1, 0.5]
    for noncrossing in (False, True):  # the quantreg lines do not cross on the data
        fits = quantile_process(LinearDesign(X, True), y, None, levels, noncrossing=noncrossing)
        for k, q in enumerate(levels):
            intercept, slope, objective = reference[q]
            np.testing.assert_allclose(fits.beta[k], [slope, intercept], rtol=1e-9)
            assert fits.objective[k] == pytest.approx(objective, rel=1e-10)
