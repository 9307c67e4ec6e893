"""Tuning constants and normal-model efficiency (skrobust.losses.tuning)."""

import math
from itertools import pairwise

import numpy as np
import pytest
from scipy import integrate, stats

from skrobust.losses import asymptotic_efficiency, efficiency_constant, get_loss


def _efficiency_by_quadrature(psi, dpsi, split):
    """E[psi']**2 / E[psi**2] at N(0, 1), computed independently of skrobust."""

    def expect(f):
        g = lambda x: f(x) * stats.norm.pdf(x)  # noqa: E731
        return 2 * (integrate.quad(g, 0, split, epsabs=1e-14, epsrel=1e-12)[0]
                    + integrate.quad(g, split, math.inf, epsabs=1e-14, epsrel=1e-12)[0])

    return expect(dpsi) ** 2 / expect(lambda x: psi(x) ** 2)


# ------------------------------------------------------------ textbook values
def test_huber_constant():
    assert round(efficiency_constant("huber"), 3) == 1.345
    assert round(efficiency_constant("huber", 0.95), 3) == 1.345
    assert round(get_loss("huber").default_c, 3) == 1.345
    assert efficiency_constant(get_loss("huber", c=7.0)) == efficiency_constant("huber")


def test_tukey_constant():
    assert round(efficiency_constant("tukey"), 3) == 4.685
    assert round(get_loss("tukey", c=1.0).default_c, 3) == 4.685
    # the other classical bisquare constants
    assert efficiency_constant("tukey", 0.85) == pytest.approx(3.4437, abs=2e-4)


def test_cauchy_constant_is_textbook_over_sqrt2():
    # textbook Cauchy rho = c**2/2 log(1 + (u/c)**2) has c = 2.3849 at 95%;
    # Barron's scaling log(1 + (u/c)**2 / 2) divides it by sqrt(2)
    c = efficiency_constant("cauchy")
    assert c == pytest.approx(2.3849 / math.sqrt(2), abs=1e-4)
    assert efficiency_constant("barron", shape=0.0) == c
    assert get_loss("cauchy").default_c == c


def test_welsch_constant_is_textbook_over_sqrt2():
    # textbook Welsch c**2/2 (1 - exp(-(u/c)**2)) has c = 2.9846 at 95%
    c = efficiency_constant("welsch")
    assert c == pytest.approx(2.9846 / math.sqrt(2), abs=1e-4)
    assert efficiency_constant("barron", shape=-math.inf) == c


def test_barron_constants_follow_the_named_losses():
    assert efficiency_constant("barron", shape=1.0) == efficiency_constant("pseudo_huber")
    assert efficiency_constant("barron", shape=-2.0) == efficiency_constant("geman_mcclure")
    assert efficiency_constant(get_loss("barron", shape=0.5, c=9.0)) == efficiency_constant(
        "barron", shape=0.5)
    # shape 2 is least squares: every c is fully efficient
    assert efficiency_constant("barron", shape=2.0) == 1.0
    # heavier rejection needs a larger constant for the same efficiency
    shapes = [1.0, 0.5, 0.0, -2.0, -math.inf]
    consts = [efficiency_constant("barron", shape=s) for s in shapes]
    assert all(a < b for a, b in pairwise(consts))


@pytest.mark.parametrize("name", ["huber", "tukey", "cauchy", "welsch", "geman_mcclure",
                                  "pseudo_huber"])
@pytest.mark.parametrize("eff", [0.8, 0.9, 0.95, 0.99])
def test_constant_reaches_the_target(name, eff):
    c = efficiency_constant(name, eff)
    assert asymptotic_efficiency(get_loss(name, c=c)) == pytest.approx(eff, abs=1e-6)
    # and it is the smallest such constant: efficiency increases with c
    assert asymptotic_efficiency(get_loss(name, c=0.98 * c)) < eff


# ------------------------------------------------------- asymptotic efficiency
@pytest.mark.parametrize("c", [0.1, 0.5, 1.0, 1.345, 2.0, 4.0])
def test_huber_efficiency_closed_form(c):
    phi, big_phi = stats.norm.pdf(c), stats.norm.cdf(c)
    e_dpsi = 2 * big_phi - 1
    e_psi2 = e_dpsi - 2 * c * phi + 2 * c * c * (1 - big_phi)
    expected = e_dpsi**2 / e_psi2
    assert asymptotic_efficiency(get_loss("huber", c=c)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("c", [1.0, 3.0, 4.685, 6.0])
def test_tukey_efficiency_by_independent_quadrature(c):
    def psi(x):
        return x * (1 - (x / c) ** 2) ** 2 if abs(x) <= c else 0.0

    def dpsi(x):
        q = (x / c) ** 2
        return (1 - q) * (1 - 5 * q) if abs(x) <= c else 0.0

    expected = _efficiency_by_quadrature(psi, dpsi, c)
    assert asymptotic_efficiency(get_loss("tukey", c=c)) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("c", [0.5, 1.0, 1.6864, 3.0])
def test_cauchy_efficiency_by_independent_quadrature(c):
    def psi(x):
        return 2 * x / (x * x + 2 * c * c)

    def dpsi(x):
        return 2 * (2 * c * c - x * x) / (x * x + 2 * c * c) ** 2

    expected = _efficiency_by_quadrature(psi, dpsi, c)
    assert asymptotic_efficiency(get_loss("cauchy", c=c)) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("name", "params"), [
    ("huber", {}), ("tukey", {}), ("cauchy", {}), ("welsch", {}), ("geman_mcclure", {}),
    ("pseudo_huber", {}), ("barron", {"shape": 0.5}), ("barron", {"shape": -0.5}),
])
def test_efficiency_increases_with_c(name, params):
    cs = np.geomspace(0.2, 20, 15)
    eff = [asymptotic_efficiency(get_loss(name, c=float(c), **params)) for c in cs]
    assert all(0 < e <= 1 + 1e-12 for e in eff)
    # strictly increasing until it saturates at 1 (Huber reaches 1 to double precision)
    assert all(a < b or a > 1 - 1e-12 for a, b in pairwise(eff))
    assert all(a <= b + 1e-12 for a, b in pairwise(eff))
    assert eff[-1] > 0.99


def test_least_squares_is_fully_efficient():
    assert asymptotic_efficiency(get_loss("barron", shape=2.0, c=0.3)) == pytest.approx(1.0,
                                                                                         abs=1e-10)
    assert asymptotic_efficiency(get_loss("huber", c=40.0)) == pytest.approx(1.0, abs=1e-10)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("eff", [0.0, 1.0, -0.5, 1.5, math.nan, math.inf])
def test_efficiency_outside_unit_interval(eff):
    with pytest.raises(ValueError, match="efficiency"):
        efficiency_constant("huber", eff)


def test_bad_loss_or_parameter():
    with pytest.raises(ValueError, match="Unknown loss"):
        efficiency_constant("hubber")
    with pytest.raises(TypeError):
        efficiency_constant("huber", shape=1.0)
    with pytest.raises(ValueError, match="shape"):
        efficiency_constant("barron", shape=math.nan)
