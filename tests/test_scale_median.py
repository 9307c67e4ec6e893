"""Tests of the weighted median, the MAD and the median of ``|r|`` (skrobust.scale.median).

Frequency weights: integer weights equal repeated values, zero weights remove
them; the median near a guess (large samples) equals the full computation.
"""

import numpy as np
import pytest

from skrobust.scale import MAD_NORMAL_CONSTANT, abs_median, mad_scale, weighted_median
from skrobust.scale.median import equal_weights


# ------------------------------------------------------------------ weighted median
def test_weighted_median_integer_weights_equal_repetition():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 50):
        x = rng.standard_normal(n)
        w = rng.integers(1, 4, n)
        assert weighted_median(x, w) == np.median(np.repeat(x, w))


def test_weighted_median_zero_weight_removes_the_value():
    x = np.array([1.0, 2.0, 1e9, 3.0])
    assert weighted_median(x, [1.0, 1.0, 0.0, 1.0]) == 2.0


def test_weighted_median_equal_weights_is_the_plain_median():
    x = np.random.default_rng(1).standard_normal(11)
    assert weighted_median(x, np.full(11, 3.0)) == np.median(x)
    assert equal_weights(np.full(3, 0.5)) and not equal_weights(np.zeros(3))
    assert not equal_weights(np.array([1.0, 2.0])) and not equal_weights(np.empty(0))


def test_mad_is_the_normalised_median_of_absolute_residuals():
    r = np.array([-3.0, 1.0, 2.0, -0.5, 8.0])
    assert mad_scale(r) == np.median(np.abs(r)) / MAD_NORMAL_CONSTANT
    assert abs_median(r) == np.median(np.abs(r))
    # scale equivariance, and integer weights as repeated rows
    w = np.array([2.0, 1.0, 3.0, 1.0, 1.0])
    assert mad_scale(-4.0 * r, w) == pytest.approx(4.0 * mad_scale(r, w), rel=1e-15)
    assert mad_scale(r, w) == mad_scale(np.repeat(r, w.astype(int)))


# ------------------------------------------------------------------- windowed MAD
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("factor", [1.0, 1.03, 0.5])  # in the window, at its edge, outside
def test_windowed_mad_equals_the_full_mad(weighted, factor):
    rng = np.random.default_rng(3)
    n = 1 << 15
    r = rng.standard_t(3, n + 1)
    w = rng.integers(1, 4, n + 1).astype(float) if weighted else None
    full = mad_scale(r, w)
    assert mad_scale(r, w, guess=factor * full) == full


def test_windowed_mad_with_equal_weights_equals_the_unweighted_mad():
    r = np.random.default_rng(4).standard_normal(1 << 15)
    assert mad_scale(r, np.full(r.size, 2.0), guess=1.0) == mad_scale(r)


@pytest.mark.parametrize("weighted", [False, True])
def test_abs_median_near_a_guess_equals_the_full_median(weighted):
    rng = np.random.default_rng(5)
    r = rng.standard_normal((1 << 15) + 2)
    w = rng.integers(0, 4, r.size).astype(float) if weighted else None
    full = weighted_median(np.abs(r), w)
    for guess in (full, 1.02 * full, 3.0 * full, None):
        assert abs_median(r, w, guess) == full
