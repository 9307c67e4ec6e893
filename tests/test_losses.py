"""Registry-wide property tests of the robust losses (skrobust.losses).

Every test that is parametrised over ``LOSS_CASES`` iterates
``available_losses()``, so a newly registered loss is picked up
automatically; Barron's loss is additionally expanded over a set of shapes.
Barron-specific and distribution tests live in ``test_barron.py``, tuning
constants in ``test_tuning.py``.
"""

import dataclasses
import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skrobust.losses import available_losses, get_loss
from skrobust.losses._base import RobustLoss

BARRON_SHAPES = [-math.inf, -2.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 4.0, math.inf]
METHODS = ("rho", "psi", "weight", "psi_deriv")
F64_MAX = float(np.finfo(np.float64).max)
F32_MAX = float(np.finfo(np.float32).max)

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# Extra parameter sets for losses with parameters other than c (a loss not
# listed here is tested at its defaults and at one other c).
EXTRA_PARAMS = {
    "barron": [{"shape": s} for s in BARRON_SHAPES] + [{"shape": 0.5, "c": 2.5}],
    "quantile": [{"quantile": 0.1}, {"quantile": 0.9}],
}

# Known non-smooth points (values of |u|) are loss metadata, ``loss.kinks``:
# psi or psi' jumps there, so finite differences are not compared across
# them.  A loss with a kink at 0 has no psi'(0) and a floored weight near 0.
def _kinks(loss):
    return loss.kinks


def _smooth_at_zero(loss):
    return 0.0 not in _kinks(loss)


def _symmetric(loss):
    return getattr(loss, "symmetric", True)


def _build_cases():
    cases = []
    for name in available_losses():
        if name in EXTRA_PARAMS:
            for params in EXTRA_PARAMS[name]:
                label = ",".join(f"{k}={v}" for k, v in params.items())
                cases.append(pytest.param(get_loss(name, **params), id=f"{name}[{label}]"))
        else:
            loss = get_loss(name)
            cases.append(pytest.param(loss, id=name))
            # a non-default scale, to catch kernels that forget c somewhere
            cases.append(pytest.param(get_loss(name, c=0.4 * loss.c + 0.3), id=f"{name}[c']"))
    return cases


LOSS_CASES = _build_cases()


def _u_range(loss):
    """Range of |u| on which the smooth-value properties are tested."""
    if getattr(loss, "shape", None) == math.inf:
        return 12.0 * loss.c  # exp(z/2) grows too quickly beyond that
    if getattr(loss, "shape", None) == 4.0:
        return 200.0 * loss.c
    return 60.0 * loss.c


def u_arrays(max_abs=1.0):
    """Hypothesis strategy: 1-D float64 arrays with |u| <= max_abs (scaled later)."""
    return hnp.arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.floats(-max_abs, max_abs, allow_nan=False, allow_subnormal=False),
    )


def _scaled(loss, u):
    return u * _u_range(loss)


def _step(loss, u):
    if getattr(loss, "shape", None) == math.inf:
        # exp(z/2) varies on the scale c**2 / |u|
        return 1e-3 * loss.c / (1.0 + np.abs(u) / loss.c)
    return 1e-3 * np.maximum(np.abs(u), 0.05 * loss.c)


def _five_point(f, u, h):
    """Fourth-order central difference of f at u with step h."""
    return (-f(u + 2 * h) + 8 * f(u + h) - 8 * f(u - h) + f(u - 2 * h)) / (12 * h)


def _away_from_kinks(loss, u, h):
    ok = np.ones(u.shape, dtype=bool)
    for k in _kinks(loss):
        ok &= np.abs(np.abs(u) - k) > 4 * h
    return ok


# --------------------------------------------------------------------- registry
def test_registry_contents():
    names = available_losses()
    assert names == sorted(names)
    for required in ("huber", "tukey", "barron", "cauchy", "geman_mcclure", "welsch",
                     "pseudo_huber"):
        assert required in names
    for name in names:
        loss = get_loss(name)
        assert isinstance(loss, RobustLoss)
        assert loss.name == name
        assert isinstance(loss.convex, bool)
        assert isinstance(loss.redescending, bool)
        assert not (loss.convex and loss.redescending)
        assert loss.max_rho > 0
        assert isinstance(loss.kinks, tuple) and all(k >= 0 for k in loss.kinks)


def test_get_loss_returns_object_unchanged_and_replaces_params():
    loss = get_loss("huber", c=2.0)
    assert get_loss(loss) is loss
    other = get_loss(loss, c=3.0)
    assert other == get_loss("huber", c=3.0)
    assert loss.c == 2.0
    with pytest.raises(ValueError, match="c"):
        get_loss(loss, c=-1.0)


@pytest.mark.parametrize("name", available_losses())
def test_default_c_is_positive_and_finite(name):
    loss = get_loss(name)
    assert 0 < loss.default_c < math.inf


# ------------------------------------------------------------- value properties
@pytest.mark.parametrize("loss", LOSS_CASES)
def test_rho_zero_at_origin(loss):
    for dtype in (np.float64, np.float32):
        assert loss.rho(np.zeros(3, dtype=dtype)).tolist() == [0.0, 0.0, 0.0]
        assert loss.psi(np.zeros(1, dtype=dtype))[0] == 0.0


@pytest.mark.parametrize("loss", LOSS_CASES)
@SETTINGS
@given(u=u_arrays())
def test_symmetry(loss, u):
    if not _symmetric(loss):
        return
    u = _scaled(loss, u)
    np.testing.assert_array_equal(loss.rho(-u), loss.rho(u))
    np.testing.assert_array_equal(loss.psi(-u), -loss.psi(u))
    np.testing.assert_array_equal(loss.weight(-u), loss.weight(u))
    np.testing.assert_array_equal(loss.psi_deriv(-u), loss.psi_deriv(u))


@pytest.mark.parametrize("loss", LOSS_CASES)
@SETTINGS
@given(u=u_arrays())
def test_rho_nonnegative_and_nondecreasing_in_abs_u(loss, u):
    a = np.sort(np.abs(_scaled(loss, u)))
    for r in (loss.rho(a), loss.rho(-a)):
        assert np.all(r >= 0)
        assert np.all(np.diff(r) >= -1e-15 * r[1:])
    # psi has the sign of u (rho is non-decreasing in |u|)
    assert np.all(loss.psi(a) >= 0)
    assert np.all(loss.psi(-a) <= 0)
    assert np.all(loss.weight(a) >= 0)


@pytest.mark.parametrize("loss", LOSS_CASES)
@SETTINGS
@given(u=u_arrays())
def test_psi_is_derivative_of_rho(loss, u):
    u = _scaled(loss, u)
    h = _step(loss, u)
    ok = _away_from_kinks(loss, u, h)
    u, h = u[ok], h[ok]
    fd = _five_point(loss.rho, u, h)
    psi = loss.psi(u)
    scale = np.abs(psi) + np.abs(loss.rho(u)) / np.maximum(np.abs(u), loss.c) + 1e-3 / loss.c
    np.testing.assert_array_less(np.abs(fd - psi), 1e-6 * scale)


@pytest.mark.parametrize("loss", LOSS_CASES)
@SETTINGS
@given(u=u_arrays())
def test_psi_deriv_is_derivative_of_psi(loss, u):
    u = _scaled(loss, u)
    h = _step(loss, u)
    ok = _away_from_kinks(loss, u, h)
    u, h = u[ok], h[ok]
    fd = _five_point(loss.psi, u, h)
    d = loss.psi_deriv(u)
    scale = (np.abs(d) + np.abs(loss.psi(u)) / np.maximum(np.abs(u), loss.c)
             + 1e-3 / loss.c**2)
    np.testing.assert_array_less(np.abs(fd - d), 1e-6 * scale)


@pytest.mark.parametrize("loss", LOSS_CASES)
@SETTINGS
@given(u=u_arrays())
def test_weight_times_u_is_psi(loss, u):
    u = _scaled(loss, u)
    if not _smooth_at_zero(loss):
        u = u[np.abs(u) > 1e-5]  # the weight is floored next to the kink
    np.testing.assert_allclose(loss.weight(u) * u, loss.psi(u), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_weight_at_zero_is_limit_of_psi_over_u(loss):
    w0 = loss.weight(np.zeros(1))[0]
    assert np.isfinite(w0) and w0 > 0
    assert loss.weight_at_zero() == w0
    if not _smooth_at_zero(loss):
        return
    # the limit of psi(u)/u at 0 is psi'(0)
    assert w0 == pytest.approx(loss.psi_deriv(np.zeros(1))[0], rel=1e-12)
    tiny = np.array([1e-300, 1e-150, 1e-8]) * loss.c
    np.testing.assert_allclose(loss.psi(tiny) / tiny, w0, rtol=1e-12)
    np.testing.assert_allclose(loss.weight(tiny), w0, rtol=1e-12)


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_rho_is_quadratic_near_origin(loss):
    # every smooth loss of the library is normalised so that rho ~ psi'(0) u**2 / 2
    if not _smooth_at_zero(loss):
        return
    u = np.array([1e-300, 1e-100, 1e-8, 1e-5]) * loss.c
    d0 = loss.psi_deriv(np.zeros(1))[0]
    np.testing.assert_allclose(loss.rho(u), 0.5 * d0 * u * u, rtol=1e-8, atol=0)


@pytest.mark.parametrize("loss", LOSS_CASES)
@SETTINGS
@given(u=u_arrays())
def test_convex_losses_have_nondecreasing_psi(loss, u):
    if not loss.convex:
        return
    u = _scaled(loss, u)
    assert np.all(loss.psi_deriv(u) >= 0)
    psi = loss.psi(np.sort(u))
    assert np.all(np.diff(psi) >= -1e-13 * np.abs(psi[1:]))


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_redescending_losses(loss):
    big = np.array([1e3, 1e6, 1e12, 1e100, 1e300]) * loss.c
    grid = np.linspace(0, 10 * loss.c, 1001)
    if not loss.redescending:
        # psi never returns to zero: it is non-decreasing on u >= 0 (up to
        # rounding of the log-space evaluation)
        psi = loss.psi(np.concatenate([grid, big]))
        assert np.all(np.diff(psi) >= -1e-13 * psi[1:])
        return
    psi_peak = loss.psi(grid).max()
    tail = loss.psi(big)
    assert np.all(np.abs(tail[2:]) < 1e-4 * psi_peak)
    assert np.all(np.diff(tail) <= 0)
    if math.isfinite(loss.max_rho):
        rho = loss.rho(np.concatenate([grid, big]))
        assert np.all(rho <= loss.max_rho * (1 + 1e-15))
        assert loss.rho(big)[-1] == pytest.approx(loss.max_rho, rel=1e-12)


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_bounded_rho_matches_max_rho(loss):
    # losses whose rho is bounded say so through max_rho
    top = float(loss.rho(np.array([1e300]))[0])
    if math.isfinite(loss.max_rho):
        assert top == pytest.approx(loss.max_rho, rel=1e-12)
    else:
        assert top > 1e3


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("loss", LOSS_CASES)
@pytest.mark.parametrize("method", METHODS)
def test_dtype_and_shape_preserved(loss, method):
    f = getattr(loss, method)
    u64 = np.linspace(-3, 3, 12).reshape(3, 4) * loss.c
    out64 = f(u64)
    assert out64.dtype == np.float64 and out64.shape == (3, 4)
    out32 = f(u64.astype(np.float32))
    assert out32.dtype == np.float32 and out32.shape == (3, 4)
    np.testing.assert_allclose(out32, out64, rtol=2e-6, atol=2e-6 * np.abs(out64).max())
    # 0-d input, non-contiguous input, lists and integers
    assert f(np.float64(1.5)).shape == ()
    assert f(np.float32(1.5)).dtype == np.float32
    np.testing.assert_array_equal(f(u64[:, ::2]), out64[:, ::2])
    np.testing.assert_array_equal(f(u64.T), out64.T)
    np.testing.assert_array_equal(f(u64.tolist()), out64)
    ints = np.arange(-3, 4)
    assert f(ints).dtype == np.float64
    np.testing.assert_array_equal(f(ints), f(ints.astype(np.float64)))
    assert f(np.empty((0, 2))).shape == (0, 2)


@pytest.mark.parametrize("loss", LOSS_CASES)
@pytest.mark.parametrize("method", METHODS)
def test_complex_input_rejected(loss, method):
    with pytest.raises(TypeError):
        getattr(loss, method)(np.array([1 + 1j]))


# ------------------------------------------------------------------ extremes
EXTREME_64 = np.array([0.0, 5e-324, 1e-300, 1e-150, 1e-8, 1e150, 1e300, F64_MAX])
EXTREME_32 = np.array([0.0, 1e-45, 1e-38, 1e-8, 1e19, 1e30, 3e38, F32_MAX], dtype=np.float32)


@pytest.mark.parametrize("loss", LOSS_CASES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("u", [EXTREME_64, EXTREME_32], ids=["float64", "float32"])
def test_no_nan_or_inf_at_extremes(loss, method, u):
    u = np.concatenate([u, -u])
    out = getattr(loss, method)(u)
    assert out.dtype == u.dtype
    assert np.all(np.isfinite(out)), out
    if method == "rho":
        assert np.all(out >= 0)
        half = out[: len(out) // 2]
        # still non-decreasing in |u| up to the largest float
        assert np.all(np.diff(half) >= 0), half
    if method == "weight":
        assert np.all(out >= 0)
    if method == "psi":
        assert np.all(out[: len(out) // 2] >= 0)


# --------------------------------------------------- textbook Huber and Tukey
@pytest.mark.parametrize("c", [1.345, 0.5, 3.0])
def test_huber_formulas(c):
    loss = get_loss("huber", c=c)
    u = np.linspace(-5, 5, 1001) * c
    a = np.abs(u)
    inside = a <= c
    np.testing.assert_allclose(loss.rho(u), np.where(inside, u * u / 2, c * a - c * c / 2),
                               rtol=1e-15, atol=0)
    np.testing.assert_allclose(loss.psi(u), np.clip(u, -c, c), rtol=1e-15, atol=0)
    np.testing.assert_allclose(loss.weight(u), np.where(inside, 1.0, c / np.maximum(a, c)),
                               rtol=1e-15)
    np.testing.assert_array_equal(loss.psi_deriv(u), inside.astype(float))
    assert loss.convex and not loss.redescending and loss.max_rho == math.inf
    assert get_loss("huber").c == 1.345


@pytest.mark.parametrize("c", [4.685, 1.54764, 10.0])
def test_tukey_formulas(c):
    loss = get_loss("tukey", c=c)
    u = np.linspace(-3, 3, 1001) * c
    q = (u / c) ** 2
    inside = np.abs(u) <= c
    # the textbook form, with 1 - (1 - q)**3 expanded to avoid its cancellation
    rho = np.where(inside, c * c / 6 * q * (3 - 3 * q + q * q), c * c / 6)
    np.testing.assert_allclose(loss.rho(u), rho, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(loss.rho(u), np.where(inside, c * c / 6 * (1 - (1 - q) ** 3),
                                                     c * c / 6), rtol=1e-12, atol=1e-15 * c * c)
    np.testing.assert_allclose(loss.psi(u), np.where(inside, u * (1 - q) ** 2, 0.0),
                               rtol=1e-13, atol=1e-15 * c)
    np.testing.assert_allclose(loss.weight(u), np.where(inside, (1 - q) ** 2, 0.0),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(loss.psi_deriv(u),
                               np.where(inside, (1 - q) * (1 - 5 * q), 0.0),
                               rtol=1e-13, atol=1e-14)
    assert loss.max_rho == pytest.approx(c * c / 6, rel=1e-15)
    assert loss.redescending and not loss.convex
    assert get_loss("tukey").c == 4.685
    # exactly zero weight beyond c
    assert loss.weight(np.array([c * (1 + 1e-12), 10 * c, 1e300])).tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------- bad input
def test_unknown_loss_name_lists_known_names():
    with pytest.raises(ValueError) as info:
        get_loss("hubber")
    msg = str(info.value)
    assert "hubber" in msg
    for name in available_losses():
        assert name in msg
    for bad in (None, 3, ""):
        with pytest.raises(ValueError):
            get_loss(bad)


@pytest.mark.parametrize("name", available_losses())
@pytest.mark.parametrize("c", [0.0, -1.0, -math.inf, math.nan, math.inf])
def test_bad_c(name, c):
    with pytest.raises(ValueError, match=r"\bc\b"):
        get_loss(name, c=c)


@pytest.mark.parametrize("name", available_losses())
def test_non_numeric_c(name):
    with pytest.raises(TypeError, match=r"\bc\b"):
        get_loss(name, c="big")


@pytest.mark.parametrize("name", available_losses())
def test_unknown_parameter(name):
    with pytest.raises(TypeError) as info:
        get_loss(name, cc=1.0)
    assert "cc" in str(info.value)


@pytest.mark.parametrize("name", ["cauchy", "geman_mcclure", "welsch", "pseudo_huber",
                                  "huber", "tukey"])
def test_fixed_shape_losses_reject_shape(name):
    with pytest.raises(TypeError):
        get_loss(name, shape=1.0)


def test_barron_shape_validation():
    with pytest.raises(ValueError, match="shape"):
        get_loss("barron", shape=math.nan)
    with pytest.raises(TypeError, match="shape"):
        get_loss("barron", shape="flat")
    for shape in (-math.inf, math.inf, -1e300, 1e300, 0.0, -0.0, 2.0):
        assert get_loss("barron", shape=shape).shape == shape


def test_parameters_are_stored_as_float():
    loss = get_loss("barron", shape=np.float32(0.5), c=2)
    assert type(loss.shape) is float and type(loss.c) is float
    assert type(get_loss("huber", c=np.int64(2)).c) is float


# ----------------------------------------------------------- object semantics
@pytest.mark.parametrize("loss", LOSS_CASES)
def test_inputs_are_not_modified(loss):
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        u = (rng.standard_normal(50) * 3 * loss.c).astype(dtype)
        u[0] = 0.0
        before = u.copy()
        for method in METHODS:
            getattr(loss, method)(u)
            np.testing.assert_array_equal(u, before)
        ro = before.copy()
        ro.flags.writeable = False  # read-only input must work
        np.testing.assert_array_equal(loss.rho(ro), loss.rho(before))


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_frozen(loss):
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss.c = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss.new_attribute = 1
    if hasattr(loss, "shape"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            loss.shape = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        del loss.c


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_pickle_equality_and_hash(loss):
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and hash(clone) == hash(loss)
    assert type(clone) is type(loss)
    assert clone.params == loss.params
    u = np.linspace(-4, 4, 17)
    for method in METHODS:
        np.testing.assert_array_equal(getattr(clone, method)(u), getattr(loss, method)(u))
    same = get_loss(loss.name, **loss.params)
    assert same == loss and hash(same) == hash(loss)
    assert loss != loss.with_c(loss.c * 2)
    assert len({loss, clone, same}) == 1
    assert repr(loss).startswith(type(loss).__name__ + "(")


def test_aliases_are_distinct_from_barron_objects():
    # equal values but different types: equality is by type and parameters
    assert get_loss("cauchy") != get_loss("barron", shape=0.0)
    assert get_loss("cauchy") == get_loss("cauchy", c=1.0)
    assert get_loss("cauchy", c=2.0) != get_loss("cauchy")
    assert get_loss("huber", c=1.0) != get_loss("tukey", c=1.0)


@pytest.mark.parametrize("name", available_losses())
@pytest.mark.parametrize("c", [1e-200, 1e-9, 1e9, 1e200])
def test_no_nan_or_inf_with_extreme_c(name, c):
    # |u| / c overflows or underflows; every output must stay finite
    shapes = BARRON_SHAPES if name == "barron" else [None]
    u = np.concatenate([-EXTREME_64[::-1], EXTREME_64])
    for shape in shapes:
        loss = get_loss(name, c=c) if shape is None else get_loss(name, c=c, shape=shape)
        for method in METHODS:
            out = getattr(loss, method)(u)
            assert np.all(np.isfinite(out)), (loss, method, out)
        r = loss.rho(EXTREME_64)
        assert np.all(r >= 0) and np.all(np.diff(r) >= 0), (loss, r)


@pytest.mark.parametrize("c", [1.54764, 4.685])
def test_tukey_scale_kernels_are_the_normalised_loss(c):
    # the S-estimator's M-scale sums chi = rho / rho(inf) and weighs by the loss's weight
    from skrobust.losses.tukey import tukey_chi_sum_slope, tukey_scaled_weights

    rng = np.random.default_rng(3)
    r = rng.standard_t(2, size=200) * 3.0
    w = rng.uniform(0.0, 2.0, size=200)
    s = 1.7
    loss = get_loss("tukey", c=c)
    chi = loss.rho(r / s) / loss.max_rho
    total, slope = tukey_chi_sum_slope(r, w, s, c)
    assert total == pytest.approx(np.dot(w, chi), rel=1e-13)
    # the slope is the derivative of the sum in log s (a central difference)
    h = 1e-6
    numeric = (tukey_chi_sum_slope(r, w, s * np.exp(h), c)[0]
               - tukey_chi_sum_slope(r, w, s * np.exp(-h), c)[0]) / (2 * h)
    assert slope < 0 and slope == pytest.approx(numeric, rel=1e-6)
    assert chi.max() == 1.0 and chi.min() < 0.5  # both branches are exercised
    out = np.empty_like(r)
    tukey_scaled_weights(r, w, s, c, out)
    np.testing.assert_allclose(out, w * loss.weight(r / s), rtol=1e-13, atol=1e-300)


def _chi_sum_slope_in_order(r, w, s, c):
    # the definition, one residual at a time in order, beyond c by a branch
    inv, total, slope = 1.0 / (s * c), 0.0, 0.0
    for ri, wi in zip(r.tolist(), w.tolist(), strict=True):
        t = (ri * inv) * (ri * inv)
        if t >= 1.0:
            total += wi
        else:
            total += wi * t * (3.0 - 3.0 * t + t * t)
            slope -= wi * 6.0 * t * (1.0 - t) * (1.0 - t)
    return total, slope


def test_tukey_chi_sum_is_the_in_order_sum_bit_for_bit():
    # the kernel clamps instead of branching: the same sums to the bit (fits depend on them)
    from skrobust.losses.tukey import tukey_chi_sum_slope

    c, s = 1.54764, 1.3
    rng = np.random.default_rng(11)
    r = rng.standard_t(2, size=500) * 2.0
    r[:3] = [c * s, -c * s, 0.0]  # exactly at the kink, and a zero
    w = rng.uniform(0.0, 2.0, size=500)
    w[5] = 0.0
    assert tukey_chi_sum_slope(r, w, s, c) == _chi_sum_slope_in_order(r, w, s, c)
    r[7] = np.nan  # NaN in, NaN out
    assert all(math.isnan(v) for v in tukey_chi_sum_slope(r, w, s, c))
