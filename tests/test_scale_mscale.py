"""Tests of the M-scale of the S-estimator (skrobust.scale.mscale).

The scale solves ``sum w rho_c(r/s) / (sum w - p) = b`` with Tukey's biweight
normalised to a supremum of 1, as R robustbase's ``lmrob`` (``c = 1.54764``,
``b = 0.5``).
"""

import numpy as np
import pytest

from skrobust.losses import get_loss
from skrobust.scale import NumpyRows, m_scale_of
from skrobust.scale.mscale import S_BREAKDOWN_B, S_TUKEY_C, _m_scale, m_scale


def _normalised_mean_rho(r, s, c, denom, w=None):
    rho = get_loss("tukey", c=c).rho(np.asarray(r) / s) / (c * c / 6.0)
    w = np.ones_like(rho) if w is None else w
    return float(np.dot(w, rho)) / denom


# ------------------------------------------------------------------ m_scale
def test_tukey_constant_gives_the_breakdown_point_at_the_normal():
    # the S-estimate is consistent at the normal with breakdown b: E rho(Z / 1) = b for the
    # bisquare normalised to a maximum of 1 with tuning constant c
    from scipy.integrate import quad
    from scipy.stats import norm

    def rho(u):
        t = min((u / S_TUKEY_C) ** 2, 1.0)
        return 1.0 - (1.0 - t) ** 3

    inside = quad(lambda z: rho(z) * norm.pdf(z), -S_TUKEY_C, S_TUKEY_C)[0]
    expected = inside + 2.0 * norm.sf(S_TUKEY_C)  # rho = 1 beyond c
    assert expected == pytest.approx(S_BREAKDOWN_B, abs=1e-5)


def test_m_scale_consistent_at_normal():
    r = np.random.default_rng(0).standard_normal(100_000)
    assert m_scale(r) == pytest.approx(1.0, abs=0.01)
    assert m_scale(3.0 * r) == pytest.approx(3.0 * m_scale(r), rel=1e-9)


def test_m_scale_solves_its_equation():
    r = np.random.default_rng(1).standard_t(3, size=500)
    for p in (0, 7):
        s = m_scale(r, n_params=p)
        assert _normalised_mean_rho(r, s, S_TUKEY_C, r.size - p) == pytest.approx(0.5, rel=1e-8)


def test_m_scale_n_minus_p_normalisation():
    # a smaller denominator needs a smaller mean rho, hence a larger scale
    r = np.random.default_rng(2).standard_normal(40)
    s0, s5 = m_scale(r), m_scale(r, n_params=5)
    assert s5 > s0
    assert _normalised_mean_rho(r, s5, S_TUKEY_C, 35) == pytest.approx(0.5, rel=1e-8)
    # same value as the mean-normalised scale with b scaled by (n - p) / n
    assert m_scale(r, b=0.5 * 35 / 40) == pytest.approx(s5, rel=1e-8)


def test_m_scale_integer_weights_equal_repetition():
    rng = np.random.default_rng(3)
    r = rng.standard_normal(50)
    w = rng.integers(1, 4, size=50)
    rep = np.repeat(r, w)
    for p in (0, 3):
        assert m_scale(r, w, n_params=p) == pytest.approx(m_scale(rep, n_params=p), rel=1e-12)


def test_m_scale_zero_weight_removes_row():
    rng = np.random.default_rng(4)
    r = rng.standard_normal(30)
    w = np.ones(30)
    w[[2, 5, 11]] = 0.0
    r_mod = r.copy()
    r_mod[[2, 5, 11]] = 1e6  # whatever sits at zero weight is ignored
    expected = m_scale(np.delete(r, [2, 5, 11]), n_params=2)
    assert m_scale(r_mod, w, n_params=2) == pytest.approx(expected, rel=1e-12)


def test_m_scale_floor():
    assert m_scale(np.zeros(10)) == 1e-300
    assert m_scale(np.zeros(10), floor=1e-8) == 1e-8
    # 6 exact zeros out of 10: the non-zero weight (4) is below b * n, so the scale is 0
    r = np.r_[np.zeros(6), 1.0, -2.0, 3.0, 4.0]
    assert m_scale(r, floor=1e-12) == 1e-12
    # 4 zeros: a positive scale even though the MAD is 0
    r = np.r_[np.zeros(4), 1.0, -2.0, 3.0, 4.0, 5.0, 6.0]
    s = m_scale(r)
    assert s > 0.1
    assert _normalised_mean_rho(r, s, S_TUKEY_C, 10) == pytest.approx(0.5, rel=1e-8)


def test_m_scale_bisection_fallback():
    r = np.random.default_rng(5).standard_normal(200)
    s = m_scale(r, max_iter=1, scale0=100.0)
    assert s == pytest.approx(m_scale(r), rel=1e-8)


@pytest.mark.parametrize("scale0", [1e-9, 0.3, 1.0, 50.0, 1e9])
@pytest.mark.parametrize("case", ["normal", "contaminated", "weighted", "half_zero"])
def test_m_scale_newton_solves_the_same_equation(case, scale0):
    rng = np.random.default_rng(6)
    r = 2.0 * rng.standard_normal(3000)
    w = np.ones(r.size)
    if case == "contaminated":
        r[:1200] += 1e4  # 40% far outliers
    elif case == "weighted":
        w = rng.integers(0, 4, size=r.size).astype(float)
    elif case == "half_zero":
        r[:1400] = 0.0  # a scale only just above zero
    fixed = _m_scale(r, w, S_TUKEY_C, S_BREAKDOWN_B, 3, scale0, 1e-300)
    newton = _m_scale(r, w, S_TUKEY_C, S_BREAKDOWN_B, 3, scale0, 1e-300, newton=True)
    assert newton == pytest.approx(fixed, rel=1e-9)
    mean_rho = _normalised_mean_rho(r, newton, S_TUKEY_C, w.sum() - 3, w)
    assert mean_rho == pytest.approx(S_BREAKDOWN_B, rel=1e-12)


def test_m_scale_newton_at_an_exact_fit_is_the_floor():
    r = np.r_[np.zeros(60), np.ones(40)]
    w = np.ones(100)
    assert _m_scale(r, w, S_TUKEY_C, S_BREAKDOWN_B, 1, 1.0, 1e-7, newton=True) == 1e-7


def test_m_scale_bad_input():
    with pytest.raises(ValueError, match="must exceed the number of parameters"):
        m_scale(np.ones(3), n_params=3)
    with pytest.raises(ValueError, match="b must lie"):
        m_scale(np.ones(3), b=1.5)
    with pytest.raises(ValueError, match="floor"):
        m_scale(np.ones(3), floor=0.0)
    with pytest.raises(ValueError, match="non-negative"):
        m_scale(np.ones(3), [1.0, -1.0, 1.0])


def test_m_scale_of_through_a_reducer_is_the_s_scale():
    # the generic M-scale (any loss, any reducer) with the S-scale's loss and n - p
    rng = np.random.default_rng(7)
    r, w = rng.standard_t(3, 400), rng.integers(0, 3, 400).astype(float)
    expected = m_scale(r, w, n_params=4)
    got = m_scale_of(r, NumpyRows(w), loss=get_loss("tukey", c=S_TUKEY_C), b=S_BREAKDOWN_B,
                     denom=w.sum() - 4, scale0=1.0, floor=1e-300)
    assert got == pytest.approx(expected, rel=1e-9)
    # at least half the weight fitted exactly: the floor
    zeros = np.r_[np.zeros(60), rng.standard_normal(40)]
    assert m_scale_of(zeros, NumpyRows(np.ones(100)), loss=get_loss("tukey", c=S_TUKEY_C),
                      b=S_BREAKDOWN_B, denom=100.0, scale0=1.0, floor=1e-9) == 1e-9
