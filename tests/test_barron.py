"""Barron's general robust loss and its distribution (skrobust.losses).

Conventions (Barron 2019, arXiv 1701.03077): z = (u/c)**2, b = |s - 2|,
rho = b/s * ((z/b + 1)**(s/2) - 1), psi = d rho/du, weight = psi/u.
References are computed independently here: textbook closed forms, mpmath
at high precision, scipy special functions and quadrature.
"""

import math
from itertools import pairwise

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from skrobust.losses import barron_log_partition, barron_nll, get_loss
from skrobust.losses.distribution import barron_log_partition_grad

METHODS = ("rho", "psi", "weight", "psi_deriv")
F64_MAX = float(np.finfo(np.float64).max)
SETTINGS = settings(max_examples=60, deadline=None)
U = np.concatenate([-np.logspace(-8, np.log10(20), 60)[::-1], [0.0],
                    np.logspace(-8, np.log10(20), 60)])


def barron(shape, c=1.0):
    return get_loss("barron", shape=shape, c=c)


def _check_closed_forms(shape, c, rho, psi_over_u, psi_deriv, u=U, rtol=1e-14):
    """Compare the four kernels with closed forms in z = (u/c)**2."""
    loss = barron(shape, c)
    u = u * c
    z = (u / c) ** 2
    w = psi_over_u(z) / c**2
    np.testing.assert_allclose(loss.rho(u), rho(z), rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(loss.weight(u), w, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(loss.psi(u), u * w, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(loss.psi_deriv(u), psi_deriv(z) / c**2, rtol=rtol,
                               atol=1e-14 / c**2)
    # float32 evaluates the same function to single precision
    u32 = u.astype(np.float32)
    z32 = (u32.astype(np.float64) / c) ** 2
    tiny32 = float(np.finfo(np.float32).tiny)  # below it float32 loses digits
    big32 = float(np.finfo(np.float32).max)  # float32 output saturates there
    np.testing.assert_allclose(loss.rho(u32), np.minimum(rho(z32), big32), rtol=1e-6,
                               atol=tiny32)
    np.testing.assert_allclose(loss.weight(u32), np.minimum(psi_over_u(z32) / c**2, big32),
                               rtol=1e-6, atol=tiny32)


# ------------------------------------------------------- named special cases
@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_2_is_l2(c):
    _check_closed_forms(2.0, c, lambda z: z / 2, lambda z: np.ones_like(z),
                        lambda z: np.ones_like(z), rtol=2e-15)


@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_1_is_charbonnier(c):
    # sqrt(z + 1) - 1, written without cancellation
    _check_closed_forms(1.0, c, lambda z: z / (np.sqrt(z + 1) + 1), lambda z: 1 / np.sqrt(1 + z),
                        lambda z: (1 + z) ** -1.5)
    np.testing.assert_array_equal(get_loss("pseudo_huber", c=c).rho(U), barron(1.0, c).rho(U))


@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_0_is_cauchy(c):
    _check_closed_forms(0.0, c, lambda z: np.log1p(z / 2), lambda z: 2 / (2 + z),
                        lambda z: (1 - z / 2) / (1 + z / 2) ** 2)
    # psi = 2u / (u**2 + 2 c**2), weight = 2 / (2 c**2 + u**2)
    u = U * c
    np.testing.assert_allclose(barron(0.0, c).psi(u), 2 * u / (u**2 + 2 * c**2), rtol=1e-14)
    np.testing.assert_allclose(barron(0.0, c).weight(u), 2 / (2 * c**2 + u**2), rtol=1e-14)


@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_minus2_is_geman_mcclure(c):
    _check_closed_forms(-2.0, c, lambda z: 2 * z / (z + 4), lambda z: 16 / (4 + z) ** 2,
                        lambda z: (1 - 3 * z / 4) / (1 + z / 4) ** 3)


@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_minus_inf_is_welsch(c):
    # exp(-z/2) amplifies the rounding of z: relative error ~ z eps
    _check_closed_forms(-math.inf, c, lambda z: -np.expm1(-z / 2), lambda z: np.exp(-z / 2),
                        lambda z: np.exp(-z / 2) * (1 - z), rtol=1e-13)


@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_inf(c):
    # exp(z/2) amplifies the rounding of z: relative error ~ z eps
    _check_closed_forms(math.inf, c, lambda z: np.expm1(z / 2), lambda z: np.exp(z / 2),
                        lambda z: np.exp(z / 2) * (1 + z), rtol=1e-13)


@pytest.mark.parametrize("c", [1.0, 0.3, 7.0])
def test_shape_4_quartic(c):
    _check_closed_forms(4.0, c, lambda z: z * z / 8 + z / 2, lambda z: 1 + z / 2,
                        lambda z: 1 + 3 * z / 2)


@pytest.mark.parametrize(("name", "shape"), [("cauchy", 0.0), ("geman_mcclure", -2.0),
                                             ("welsch", -math.inf), ("pseudo_huber", 1.0)])
@pytest.mark.parametrize("c", [1.0, 0.05, 3.0])
def test_aliases_equal_barron(name, shape, c):
    alias = get_loss(name, c=c)
    assert alias.shape == shape and alias.c == c
    u = np.concatenate([U * c, [1e150, 1e300, -1e300]])
    for method in METHODS:
        np.testing.assert_array_equal(getattr(alias, method)(u),
                                      getattr(barron(shape, c), method)(u))
    assert alias.max_rho == barron(shape, c).max_rho
    assert alias.convex == barron(shape, c).convex
    assert alias.redescending == barron(shape, c).redescending


def test_textbook_values():
    # Barron's scaling: rho ~ z/2 near 0 for every shape
    assert float(get_loss("cauchy").rho(2.0)) == pytest.approx(math.log(3), rel=1e-15)
    assert float(get_loss("geman_mcclure").rho(2.0)) == pytest.approx(1.0, rel=1e-15)
    assert float(get_loss("welsch").rho(1.0)) == pytest.approx(1 - math.exp(-0.5), rel=1e-15)
    assert float(get_loss("pseudo_huber").rho(1.0)) == pytest.approx(math.sqrt(2) - 1,
                                                                     rel=1e-15)
    assert float(barron(2.0, 2.0).rho(3.0)) == pytest.approx(9 / 8, rel=1e-15)


@pytest.mark.parametrize(("shape", "convex", "redescending", "max_rho"), [
    (-math.inf, False, True, 1.0),
    (-2.0, False, True, 2.0),
    (-0.5, False, True, 5.0),
    (0.0, False, True, math.inf),
    (0.5, False, True, math.inf),
    (1.0, True, False, math.inf),
    (2.0, True, False, math.inf),
    (math.inf, True, False, math.inf),
])
def test_metadata_depends_on_shape(shape, convex, redescending, max_rho):
    loss = barron(shape, 2.0)
    assert loss.convex is convex and loss.redescending is redescending
    assert loss.max_rho == max_rho
    assert get_loss("barron").shape == 1.0 and get_loss("barron").c == 1.0


# ------------------------------------------------------------ continuity
def _max_rel_diff(a, b, floor):
    return float(np.max(np.abs(a - b) / (np.abs(b) + floor)))


@pytest.mark.parametrize("limit", [0.0, 2.0])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("c", [1.0, 0.2])
def test_continuity_at_special_shapes(limit, method, c):
    u = np.concatenate([U, [50.0, -300.0, 1e4]]) * c
    floor = 1e-12 / c**2  # psi' crosses zero near u = sqrt(2) c for shapes near 0
    ref = getattr(barron(limit, c), method)(u)
    previous = math.inf
    for eps, tol in [(1e-4, 1e-2), (1e-7, 1e-5), (1e-9, 1e-7), (1e-12, 1e-10), (1e-15, 1e-12)]:
        worst = 0.0
        for shape in (limit - eps, limit + eps):
            worst = max(worst, _max_rel_diff(getattr(barron(shape, c), method)(u), ref, floor))
        assert worst < tol, (eps, worst)
        assert worst <= previous * 1.01 + 1e-15  # converges as eps -> 0
        previous = worst


@pytest.mark.parametrize("shape", [5e-324, -5e-324, 1e-300, -1e-300, 1e-200, 2.2e-16])
def test_tiny_shapes_are_cauchy(shape):
    loss, cauchy = barron(shape, 0.7), get_loss("cauchy", c=0.7)
    u = np.concatenate([U, [1e8, 1e150, 1e300]])
    for method in METHODS:
        out = getattr(loss, method)(u)
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out, getattr(cauchy, method)(u), rtol=3e-13, atol=1e-300)


@pytest.mark.parametrize("shape", [2 + 4.4e-16, 2 - 2.2e-16, 2 + 1e-13, 2 - 1e-13])
def test_shapes_next_to_2_are_l2(shape):
    c = 0.7
    loss = barron(shape, c)
    u = U * c
    np.testing.assert_allclose(loss.rho(u), 0.5 * (u / c) ** 2, rtol=1e-11)
    np.testing.assert_allclose(loss.psi(u), u / c**2, rtol=1e-11)
    np.testing.assert_allclose(loss.weight(u), 1 / c**2, rtol=1e-11)
    np.testing.assert_allclose(loss.psi_deriv(u), 1 / c**2, rtol=1e-11)
    # where (u/c)**2 / |s-2| overflows a double: still the exact function
    big = np.array([1e100, -1e140, 1e149, 1e152]) * c
    got = {m: getattr(loss, m)(big) for m in METHODS}
    for i, ui in enumerate(big):
        rho, psi, w, first, second = _mp_terms(ui, shape, c)
        for m, ref in (("rho", rho), ("psi", psi), ("weight", w), ("psi_deriv", first + second)):
            assert abs(mp.mpf(float(got[m][i])) - ref) <= 1e-12 * abs(ref), (m, ui)
    # saturates like L2 instead of stopping at (b/s) * float max
    assert loss.rho(np.array([1e300]))[0] == barron(2.0, c).rho(np.array([1e300]))[0]


# -------------------------------------------------- accuracy against mpmath
mp.mp.dps = 60


def _mp_terms(u, s, c):
    u, s, c = mp.mpf(float(u)), mp.mpf(float(s)), mp.mpf(float(c))
    z = (u / c) ** 2
    b = abs(s - 2)
    lq = mp.log1p(z / b)  # log of q = 1 + z/b, exact at any precision (q may round to 1)
    rho = b / s * mp.expm1(s / 2 * lq)
    w = mp.exp((s / 2 - 1) * lq) / c**2
    first = mp.exp((s / 2 - 2) * lq) / c**2
    second = (s - 1) * z / b * first
    return rho, u * w, w, first, second


NEAR_SHAPES = [1e-7, -1e-7, 2 - 1e-7, 2 + 1e-7, 1e-12, -1e-12, 2 - 1e-12, 2 + 1e-12,
               1e-4, 1.9999, 0.5, -3.0, 5.0, 1e30, -1e30, 1e300, -1e300]


@pytest.mark.parametrize("shape", NEAR_SHAPES)
@pytest.mark.parametrize("c", [1.0, 0.3])
def test_accuracy_against_mpmath(shape, c):
    rng = np.random.default_rng(1)
    u = np.concatenate([np.logspace(-8, 8, 33), rng.uniform(0, 5, 10), [1e50, 1e100],
                        [1e-300, 1e-200, 1e-100, 1e-40]]) * c
    loss = barron(shape, c)
    got = {m: getattr(loss, m)(u) for m in METHODS}
    for i, ui in enumerate(u):
        rho, psi, w, first, second = _mp_terms(ui, shape, c)
        for m, ref in (("rho", rho), ("psi", psi), ("weight", w)):
            if abs(ref) > F64_MAX:  # saturates at the largest float
                assert got[m][i] == F64_MAX, (m, ui)
                continue
            if abs(ref) < 1e-290:  # underflows
                assert abs(got[m][i]) < 1e-280, (m, ui)
                continue
            err = abs(mp.mpf(float(got[m][i])) - ref) / abs(ref)
            assert err <= 1e-12, (m, ui, float(err))
        if abs(first) + abs(second) < 1e-290 or abs(first) + abs(second) > 1e300:
            continue
        # psi' = first + second changes sign for shapes < 1: relative to the terms
        err = abs(mp.mpf(float(got["psi_deriv"][i])) - (first + second))
        assert err <= 1e-12 * (abs(first) + abs(second)), ("psi_deriv", ui, float(err))


def test_accuracy_near_zero_float32():
    u = np.linspace(-5, 5, 101).astype(np.float32)
    for shape in (1e-7, -1e-7, 1e-5, 2 - 1e-7, 2 + 1e-5):
        out = barron(shape).rho(u)
        assert out.dtype == np.float32
        ref = np.array([float(_mp_terms(x, shape, 1.0)[0]) for x in u.astype(np.float64)])
        np.testing.assert_allclose(out, ref, rtol=1.2e-7, atol=1e-45)


# ----------------------------------------------------------- properties
SHAPES = st.one_of(
    st.sampled_from([-math.inf, math.inf, 0.0, 2.0, -1e-9, 1e-9, 2 - 1e-9, 2 + 1e-9,
                     1.0, -2.0, 4.0, 5e-324, 1e300, -1e300]),
    st.floats(-50, 50, allow_nan=False),
)
RESIDUALS = st.one_of(st.floats(-1e3, 1e3, allow_nan=False),
                      st.sampled_from([0.0, 1e-300, 1e150, -1e300, 1e300]))
SCALES = st.floats(0.01, 100.0)


@SETTINGS
@given(s1=SHAPES, s2=SHAPES, u=st.lists(RESIDUALS, min_size=1, max_size=20), c=SCALES)
def test_rho_nondecreasing_in_shape(s1, s2, u, c):
    lo, hi = min(s1, s2), max(s1, s2)
    u = np.array(u)
    r_lo, r_hi = barron(lo, c).rho(u), barron(hi, c).rho(u)
    assert np.all(r_lo - r_hi <= 1e-13 * r_hi + 1e-300), (lo, hi, r_lo, r_hi)


@SETTINGS
@given(s=SHAPES, u=st.lists(RESIDUALS, min_size=1, max_size=20), c1=SCALES, c2=SCALES)
def test_rho_nonincreasing_in_c(s, u, c1, c2):
    lo, hi = min(c1, c2), max(c1, c2)
    u = np.array(u)
    r_small_c = barron(s, lo).rho(u)
    assert np.all(barron(s, hi).rho(u) - r_small_c <= 1e-13 * r_small_c + 1e-300)


@SETTINGS
@given(s=SHAPES, u=st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=20),
       c=st.floats(0.1, 10.0), k=st.floats(1e-3, 1e3))
def test_scale_invariance(s, u, c, k):
    u = np.array(u) * c
    if s > 2:
        u = u / max(1.0, s / 4)  # keep (u/c)**s within range for huge shapes
    a, b = barron(s, c), barron(s, k * c)
    np.testing.assert_allclose(b.rho(k * u), a.rho(u), rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(b.psi(k * u), a.psi(u) / k, rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(b.weight(k * u), a.weight(u) / k**2, rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(b.psi_deriv(k * u), a.psi_deriv(u) / k**2, rtol=1e-9,
                               atol=1e-11 * a.weight(np.zeros(1))[0] / k**2)


@SETTINGS
@given(s=SHAPES, u=st.lists(RESIDUALS, min_size=1, max_size=20), c=SCALES)
def test_psi_bounds(s, u, c):
    u = np.array(u)
    psi = barron(s, c).psi(u)
    # psi has the sign of u (or underflows to 0: far in a redescending tail,
    # or for subnormal u / c**2)
    underflow = (np.abs(u) > 30 * c) | (np.abs(u) / c**2 < 1e-300)
    assert np.all((np.sign(psi) == np.sign(u)) | ((psi == 0) & underflow))
    if s <= 2:
        assert np.all(np.abs(psi) <= np.abs(u) / c**2 * (1 + 1e-13))
    if s <= 1:
        assert np.all(np.abs(psi) <= (1 + 1e-13) / c)
    if s < 0:
        bound = 1.0 if s == -math.inf else (s - 2) / s
        assert np.all(barron(s, c).rho(u) <= bound * (1 + 1e-15))


@SETTINGS
@given(s=st.one_of(st.floats(-50, 2), st.sampled_from([-math.inf, 0.0, 2.0, 5e-324])),
       r=st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=20),
       r0=st.floats(-100, 100, allow_nan=False), c=SCALES)
def test_weight_gives_quadratic_majoriser(s, r, r0, c):
    # For s <= 2, rho(sqrt(y)) is concave in y, so the IRLS quadratic touching
    # rho at r0 lies above it: IRLS decreases the objective monotonically.
    loss, r = barron(s, c), np.array(r)
    rho0, w0 = loss.rho(np.array([r0]))[0], loss.weight(np.array([r0]))[0]
    bound = rho0 + 0.5 * w0 * (r * r - r0 * r0)
    assert np.all(loss.rho(r) <= bound + 1e-12 * (1 + np.abs(bound) + rho0))


def test_no_quadratic_majoriser_above_2():
    loss = barron(4.0)
    r0, r = 1.0, np.array([3.0])
    bound = loss.rho(np.array([r0])) + 0.5 * loss.weight(np.array([r0])) * (r * r - r0 * r0)
    assert loss.rho(r)[0] > bound[0]


def test_random_grid_quantised_shapes():
    # As in the reference tests: shapes ~ U(-16, 3) rounded to 0.1 (so exactly
    # 0 and 2 are hit), the extreme ends replaced by -inf and +inf.
    rng = np.random.default_rng(2024)
    shapes = np.round(rng.uniform(-16, 3, 600), 1)
    shapes[shapes == shapes.min()] = -np.inf
    shapes[shapes == shapes.max()] = np.inf
    shapes[:4] = [0.0, 2.0, -np.inf, np.inf]
    assert {0.0, 2.0, -np.inf, np.inf} <= set(shapes.tolist())
    scales = np.exp(rng.normal(0, 1.5, shapes.size)) + 1e-5
    for s, c in zip(shapes, scales, strict=True):
        loss = barron(float(s), float(c))
        x = rng.standard_normal(40) * 3 * c
        x[0] = 0.0
        x[1] = 1e-6 * c
        for dtype, eps in ((np.float64, np.finfo(np.float64).eps),
                           (np.float32, np.finfo(np.float32).eps)):
            xd = x.astype(dtype)
            rho, psi, w, d = (getattr(loss, m)(xd) for m in METHODS)
            for out in (rho, psi, w, d):
                assert out.dtype == dtype and np.all(np.isfinite(out))
            xf = xd.astype(np.float64)
            assert np.all(rho[np.abs(xf) < 1e-5 * c] <= 1e-9)
            small = np.abs(xf) < c / 2
            np.testing.assert_allclose(rho[small], 0.5 * (xf[small] / c) ** 2, rtol=0.3,
                                       atol=1e-2)
            assert np.all(np.sign(psi) == np.sign(xf))
            tol = 1 + 300 * eps
            if s <= 2:
                assert np.all(np.abs(psi) <= np.abs(xf) / c**2 * tol)
            if s <= 1:
                assert np.all(np.abs(psi) <= tol / c)
            if s < 0:
                assert np.all(rho <= loss.max_rho * tol)
            if s == 2:
                np.testing.assert_allclose(rho, 0.5 * (xf / c) ** 2, rtol=10 * eps)
            if s == 0:
                np.testing.assert_allclose(rho, np.log1p(0.5 * (xf / c) ** 2), rtol=10 * eps)
        k = float(np.exp(rng.normal()))
        np.testing.assert_allclose(barron(float(s), k * c).rho(k * x), loss.rho(x),
                                   rtol=1e-10, atol=1e-300)


# ----------------------------------------------------------- distribution
def _log_z_meijer(n, d):
    """log Z(n/d) through Meijer's G function (exact for rational shapes)."""
    with mp.workdps(25):
        k = abs(mp.mpf(2 * d) / n - 1)
        a = [mp.mpf(i) / n for i in range(1, n)]
        b = ([(i - mp.mpf(1) / 2) / n for i in range(n)]
             + [mp.mpf(j) / (2 * d) for j in range(1, 2 * d)])
        z = (mp.mpf(1) / n - mp.mpf(1) / (2 * d)) ** (2 * d)
        g = mp.meijerg([[], a], [b, []], z)
        return float(mp.log(mp.exp(k) * mp.sqrt(k) * (2 * mp.pi) ** (1 - d) * g))


def test_partition_golden_values():
    z = lambda s: math.exp(barron_log_partition(s))  # noqa: E731
    assert z(0.0) == pytest.approx(math.pi * math.sqrt(2), rel=1e-8)
    assert z(1.0) == pytest.approx(2 * math.e * special.k1(1.0), rel=1e-8)
    assert z(2.0) == pytest.approx(math.sqrt(2 * math.pi), rel=1e-8)
    assert z(4.0) == pytest.approx(math.exp(0.25) * special.kv(0.25, 0.25), rel=1e-8)
    assert z(0.5) == pytest.approx(3.638993131, abs=2e-9)
    assert z(1.0) == pytest.approx(3.2723069725, abs=1e-9)
    assert z(4.0) == pytest.approx(2.1019609162, abs=1e-9)
    assert barron_log_partition(math.inf) == pytest.approx(0.70526025442689566, abs=1e-12)
    assert barron_log_partition(-0.0) == barron_log_partition(0.0)


@pytest.mark.parametrize(("n", "d"), [(1, 11), (3, 11), (7, 11), (1, 7), (3, 2), (8, 1)])
def test_partition_matches_meijer_g(n, d):
    assert barron_log_partition(n / d) == pytest.approx(_log_z_meijer(n, d), abs=1e-9)


def test_partition_decreasing_and_tends_to_limit():
    shapes = [0.0, 1e-9, 0.1, 0.5, 1.0, 1.5, 2 - 1e-9, 2.0, 2 + 1e-9, 3.0, 8.0, 100.0, 1e5,
              math.inf]
    logz = [barron_log_partition(s) for s in shapes]
    assert all(a > b for a, b in pairwise(logz))
    assert logz[-2] == pytest.approx(logz[-1], abs=1e-3)
    # continuous at the special shapes
    assert logz[1] == pytest.approx(logz[0], abs=1e-8)
    assert logz[6] == pytest.approx(logz[7], abs=1e-7)
    assert logz[8] == pytest.approx(logz[7], abs=1e-7)


@pytest.mark.parametrize("c", [1.0, 0.3, 4.0])
def test_nll_matches_scipy(c):
    rng = np.random.default_rng(3)
    r = rng.standard_normal(200) * 3 * c
    w = rng.uniform(0, 2, r.size)
    cauchy = stats.cauchy(scale=math.sqrt(2) * c)
    normal = stats.norm(scale=c)
    assert barron_nll(r, 0.0, c) == pytest.approx(-cauchy.logpdf(r).sum(), rel=1e-10)
    assert barron_nll(r, 2.0, c) == pytest.approx(-normal.logpdf(r).sum(), rel=1e-10)
    assert barron_nll(r, 0.0, c, sample_weight=w) == pytest.approx(
        -(w * cauchy.logpdf(r)).sum(), rel=1e-10)
    assert barron_nll(r, 2.0, c, sample_weight=w) == pytest.approx(
        -(w * normal.logpdf(r)).sum(), rel=1e-10)
    # shapes next to the special ones give nearly the same likelihood
    assert barron_nll(r, 1e-9, c) == pytest.approx(barron_nll(r, 0.0, c), rel=1e-7)
    assert barron_nll(r, 2 - 1e-9, c) == pytest.approx(barron_nll(r, 2.0, c), rel=1e-7)


def test_nll_details():
    r = np.array([0.5, -1.0, 2.0])
    # integer frequency weights are repetitions
    assert barron_nll(r, 1.0, 1.5, sample_weight=[2, 1, 3]) == pytest.approx(
        barron_nll(np.repeat(r, [2, 1, 3]), 1.0, 1.5), rel=1e-14)
    # the NLL can be negative (a density above 1)
    assert barron_nll(np.zeros(3), 1.0, 0.01) < 0
    # float32, lists and 2-D input
    assert barron_nll(r.astype(np.float32), 1.0, 1.5) == pytest.approx(
        barron_nll(r, 1.0, 1.5), rel=1e-7)
    assert barron_nll(r.tolist(), 1.0, 1.5) == barron_nll(r, 1.0, 1.5)
    assert barron_nll(np.tile(r, (2, 1)).ravel(), 0.5, 2.0) == pytest.approx(
        2 * barron_nll(r, 0.5, 2.0), rel=1e-14)
    before = r.copy()
    barron_nll(r, 0.5, 2.0)
    np.testing.assert_array_equal(r, before)


@pytest.mark.parametrize("shape", [0.0, 0.5, 1.0, 2.0, 4.0, float(np.exp(-4)), 20.0])
def test_pdf_integrates_to_one(shape):
    c = 1.7

    def pdf(x):
        return math.exp(-barron_nll(np.array([x]), shape, c))

    total = sum(integrate.quad(pdf, a, b, limit=200, epsabs=1e-13, epsrel=1e-11)[0]
                for a, b in [(-math.inf, -10 * c), (-10 * c, 0), (0, 10 * c), (10 * c, math.inf)])
    assert total == pytest.approx(1.0, abs=1e-8)


def _dlogz_by_expectation(shape):
    """d log Z / d shape = -E[d rho / d shape] under the density (c = 1)."""
    s = shape
    sgn = math.copysign(1.0, s - 2)
    b = abs(s - 2)
    loss = barron(s)

    def drho(x):
        z = x * x
        u = 1 + z / b
        us = math.exp(0.5 * s * math.log1p(z / b))
        return (2 * sgn / s**2 * math.expm1(0.5 * s * math.log1p(z / b))
                + b / (2 * s) * us * math.log1p(z / b) - sgn * z / (2 * b) * us / u)

    def integrand(t, with_drho):
        x = math.exp(t)
        p = math.exp(t - float(loss.rho(np.array([x]))[0]))
        return p * drho(x) if with_drho else p

    num = sum(integrate.quad(integrand, a, b_, args=(True,), epsabs=0, epsrel=1e-11,
                             limit=200)[0] for a, b_ in [(-40, 0), (0, 60)])
    den = sum(integrate.quad(integrand, a, b_, args=(False,), epsabs=0, epsrel=1e-11,
                             limit=200)[0] for a, b_ in [(-40, 0), (0, 60)])
    return -num / den


def _dlogz_at_zero():
    """d log Z / d shape at 0+, from the limit d rho/d shape = L**2/4 - L/2 + z/(2(z+2))."""

    def integrand(t, with_drho):
        x = math.exp(t)
        z = x * x
        ell = math.log1p(z / 2)
        p = math.exp(t - ell)
        return p * (ell * ell / 4 - ell / 2 + z / (2 * (z + 2))) if with_drho else p

    num = sum(integrate.quad(integrand, a, b, args=(True,), epsabs=0, epsrel=1e-11,
                             limit=200)[0] for a, b in [(-40, 0), (0, 60)])
    den = sum(integrate.quad(integrand, a, b, args=(False,), epsabs=0, epsrel=1e-11,
                             limit=200)[0] for a, b in [(-40, 0), (0, 60)])
    return -num / den


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 3.0, 6.0])
def test_partition_grad(shape):
    g = barron_log_partition_grad(shape)
    h = 1e-4
    fd = (barron_log_partition(shape + h) - barron_log_partition(shape - h)) / (2 * h)
    assert g == pytest.approx(fd, abs=1e-6)
    assert g == pytest.approx(_dlogz_by_expectation(shape), abs=1e-6)
    assert g < 0  # Z decreases in the shape


def test_partition_grad_near_special_shapes():
    # one-sided at 0 (about -0.86), log-singular (-> -inf) at 2, -> 0 at infinity
    assert barron_log_partition_grad(0.0) == pytest.approx(-0.86, abs=0.01)
    assert barron_log_partition_grad(0.0) == pytest.approx(_dlogz_at_zero(), abs=1e-4)
    near = [barron_log_partition_grad(2 - e) for e in (1e-1, 1e-2, 1e-3)]
    assert near[0] > near[1] > near[2]
    assert barron_log_partition_grad(2 + 1e-3) < barron_log_partition_grad(2 + 1e-1)
    for s in (1e3, 1e20, math.inf):
        g = barron_log_partition_grad(s)
        assert math.isfinite(g) and -1e-3 <= g <= 0


@pytest.mark.parametrize("func", [
    barron_log_partition,
    barron_log_partition_grad,
    lambda s: barron_nll(np.ones(3), s, 1.0),
], ids=["log_partition", "log_partition_grad", "nll"])
@pytest.mark.parametrize("shape", [-1.0, -1e-12, -math.inf, math.nan])
def test_distribution_rejects_bad_shape(func, shape):
    with pytest.raises(ValueError, match="shape"):
        func(shape)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.nan, math.inf])
def test_nll_rejects_bad_scale(scale):
    with pytest.raises(ValueError, match="scale"):
        barron_nll(np.ones(3), 1.0, scale)
