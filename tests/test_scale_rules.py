"""Tests of the scale rules and their reducers (skrobust.scale.rules, skrobust.scale.reducer).

Every rule reaches the weights only through a :class:`~skrobust.scale.Reducer`:
the in-memory :class:`~skrobust.scale.NumpyRows` must equal the direct
computation, and any other reducer (here one that sums chunk by chunk, as
dask does) must give the same scales.
"""

import numpy as np
import pytest

from skrobust.losses import get_loss
from skrobust.scale import (
    FixedScale,
    HuberProposal2Scale,
    JointScale,
    MADScale,
    NumpyRows,
    Reducer,
    joint_sums,
    m_scale,
    m_scale_of,
    mad_scale,
    proposal2_sums,
    rho_sums,
    rows_mad,
    weighted_median,
)
from skrobust.scale.mscale import S_BREAKDOWN_B, S_TUKEY_C
from skrobust.scale.rules import _normal_truncated_second_moment


class ChunkedRows(Reducer):
    """A reducer summing chunk by chunk (as dask's tree sums) that counts its calls."""

    def __init__(self, w, n_chunks=5):
        self.w, self.total = w, float(w.sum())
        self.edges = np.linspace(0, w.size, n_chunks + 1).astype(int)
        self.calls = {"sum": 0, "abs_median": 0}

    def sum(self, fn, size, residuals, **kwargs):
        self.calls["sum"] += 1
        out = np.zeros(size)
        for a, b in zip(self.edges[:-1], self.edges[1:], strict=True):
            out += fn(residuals[a:b], self.w[a:b], **kwargs)
        return out

    def abs_median(self, residuals, guess=None):
        self.calls["abs_median"] += 1
        return weighted_median(np.abs(residuals), self.w)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    r = 2.0 * rng.standard_t(3, 500)
    r[:40] += 30.0
    w = rng.integers(0, 4, r.size).astype(float)
    return r, w


# ------------------------------------------------------------------ the NumPy reducer
def test_numpy_rows_equals_the_direct_computation(data):
    r, w = data
    rows = NumpyRows(w)
    assert rows.total == w.sum()
    loss = get_loss("huber")
    u = r / 1.7
    np.testing.assert_array_equal(rows.sum(rho_sums, 2, r, scale=1.7, loss=loss),
                                  [np.dot(w, loss.rho(u)), np.dot(w, u * loss.psi(u))])
    clipped = r**2 > 4.0
    np.testing.assert_allclose(rows.sum(proposal2_sums, 2, r**2, t=4.0, k2=1.0),
                               [w[clipped].sum(), np.dot(w[~clipped], r[~clipped] ** 2)],
                               rtol=1e-14)
    assert rows.sum(joint_sums, 2, r, scale=1.7, loss=loss)[0] == pytest.approx(
        np.dot(w, u * loss.psi(u) - loss.rho(u)), rel=1e-14)
    assert rows.abs_median(r) == weighted_median(np.abs(r), w)
    assert rows_mad(r, rows) == mad_scale(r, w)


@pytest.mark.parametrize("weights", ["equal", "integer"])
def test_numpy_rows_median_near_a_guess_is_the_median(weights):
    rng = np.random.default_rng(1)
    r = rng.standard_normal((1 << 15) + 1)
    w = np.full(r.size, 2.0) if weights == "equal" else rng.integers(1, 3, r.size) * 1.0
    rows, full = NumpyRows(w), weighted_median(np.abs(r), w)
    assert rows.abs_median(r, full) == rows.abs_median(r, 1.5 * full) == full
    assert rows_mad(r, rows, guess=2.0) == mad_scale(r, w, guess=2.0) == mad_scale(r, w)


def test_a_reducer_must_give_its_sums_and_median():
    class Incomplete(Reducer):
        def sum(self, fn, size, residuals, **kwargs):
            return fn(residuals, None, **kwargs)

    with pytest.raises(TypeError, match="abs_median"):
        Incomplete()


# ------------------------------------------------------------ every rule, any reducer
def test_fixed_scale_never_reads_the_rows(data):
    r, w = data
    rows = ChunkedRows(w)
    rule = FixedScale(3.0)
    assert rule.initial(r, rows) == rule.update(r, rows, 1.0) == 3.0
    assert rows.calls == {"sum": 0, "abs_median": 0}


def test_mad_scale_rule_through_any_reducer(data):
    r, w = data
    rows = ChunkedRows(w)
    rule = MADScale(1e-10)
    assert rule.initial(r, rows) == rule.update(r, rows, 2.0) == mad_scale(r, w)
    assert rows.calls["abs_median"] == 2
    assert MADScale(1e3).update(r, NumpyRows(w), 2.0) == 1e3  # the floor


def test_proposal2_rule_through_any_reducer_solves_its_equation(data):
    r, w = data
    rule = HuberProposal2Scale(1e-10, n_params=3)
    chunked = ChunkedRows(w)
    s = rule.update(r, chunked, 1.0)
    assert chunked.calls["sum"] >= 2
    assert s == pytest.approx(rule.update(r, NumpyRows(w), 1.0), rel=1e-13)
    # sum w min(r, k s)**2 = (sum w - p) E[min(Z, k)**2] s**2
    lhs = np.dot(w, np.minimum(np.abs(r), rule.k * s) ** 2)
    rhs = (w.sum() - 3) * _normal_truncated_second_moment(rule.k) * s * s
    assert lhs == pytest.approx(rhs, rel=1e-12)
    assert rule.initial(r, chunked) == mad_scale(r, w)


def test_joint_rule_through_any_reducer_solves_its_equation(data):
    r, w = data
    loss = get_loss("huber", c=1.35)
    rule = JointScale(1e-10, loss)
    chunked = ChunkedRows(w)
    s = rule.update(r, chunked, 1.0)
    assert chunked.calls["sum"] >= 2
    assert s == pytest.approx(rule.update(r, NumpyRows(w), 1.0), rel=1e-13)
    # sum w 2 (u psi - rho)(u) / w0 = sum w, at u = r / s
    u = r / s
    lhs = 2.0 * np.dot(w, u * loss.psi(u) - loss.rho(u)) / loss.weight_at_zero()
    assert lhs == pytest.approx(w.sum(), rel=1e-10)
    # exactly fitted data: the floor
    assert rule.update(np.zeros(10), ChunkedRows(np.ones(10)), 1.0) == 1e-10


def test_m_scale_of_through_any_reducer(data):
    r, w = data
    chunked = ChunkedRows(w)
    s = m_scale_of(r, chunked, loss=get_loss("tukey", c=S_TUKEY_C), b=S_BREAKDOWN_B,
                   denom=w.sum() - 2, scale0=1.0, floor=1e-300)
    assert chunked.calls["sum"] >= 2
    assert s == pytest.approx(m_scale(r, w, n_params=2), rel=1e-9)
