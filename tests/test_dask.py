"""RobustRegressor on dask arrays: parity with the in-memory fit, a killed worker, bad input.

Selected by the ``dask`` marker (``pytest -m dask``; ``-m "not dask"`` skips them).
Tests named ``test_cluster_*`` run on a module-scoped ``LocalCluster`` with two
worker processes listening on 127.0.0.1 only; the others use the synchronous
scheduler.  Every fit goes through ``RobustRegressor.fit`` / ``predict`` and their
dask hook.
"""

import logging
import os
import pickle
import signal
import threading
import uuid

import numpy as np
import pytest
from sklearn.base import clone

from skrobust import RobustRegressor
from skrobust.dask import DaskRows, robustness_weights, weighted_abs_median
from skrobust.losses import get_loss
from skrobust.scale import (
    HuberProposal2Scale,
    JointScale,
    MADScale,
    NumpyRows,
    m_scale_of,
    weighted_median,
)
from skrobust.solvers import fast_s
from skrobust.solvers import irls as irls_module
from skrobust.solvers.fast_s import S_BREAKDOWN_B, S_TUKEY_C, m_scale

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

pytestmark = pytest.mark.dask

N, D, CHUNK = 12_000, 4, 2_000  # 6 row chunks
COEF = np.array([1.0, -2.0, 0.5, 3.0])


def contaminated(n=N, d=D, seed=0, leverage=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ COEF[:d] + 2.0 + rng.normal(size=n)
    bad = rng.choice(n, n // 10, replace=False)
    y[bad] += rng.choice([-1.0, 1.0], bad.size) * rng.uniform(15, 40, bad.size)
    if leverage:
        lev = rng.choice(n, int(leverage * n), replace=False)
        X[lev] = rng.normal(8.0, 0.5, size=(lev.size, d))
        y[lev] = -30.0 + rng.normal(size=lev.size)
    return X, y


def to_dask(*arrays, chunk=CHUNK):
    return [None if a is None else da.from_array(a, chunks=(chunk,) + a.shape[1:])
            for a in arrays]


def rel(a, b):
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def assert_same_fit(ours, ref, rtol=1e-9):
    assert rel(ours.coef_, ref.coef_) < rtol
    assert rel(ours.intercept_, ref.intercept_) < rtol
    assert rel(ours.scale_, ref.scale_) < rtol


@pytest.fixture(scope="module")
def data():
    X, y = contaminated()
    sw = np.random.default_rng(5).integers(0, 4, N).astype(float)  # zeros remove rows
    return X, y, sw


@pytest.fixture
def sync():
    with dask.config.set(scheduler="synchronous"):
        yield


# ----------------------------------------------------------------- the estimator hook
def test_estimator_has_the_dask_hook():
    X, y = to_dask(*contaminated(400, seed=1), chunk=100)
    with dask.config.set(scheduler="synchronous"):
        est = RobustRegressor().fit(X, y)
        # the in-memory path (sklearn's validation gathering X) would set weights_
        assert not hasattr(est, "weights_")
        assert isinstance(est.predict(X), da.Array)


# ----------------------------------------------------------------- cluster fixture
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


# ----------------------------------------------------------------- parity on a cluster
CLUSTER_PARITY = [
    ("huber", {"scale": "mad"}),
    ("huber", {"scale": "proposal2"}),
    ("huber", {"scale": "joint"}),
    # M-estimate from an OLS start: classic IRLS converges linearly and stops when a step is
    # below tol; a rounding difference (the workers' BLAS) can stop it one step apart, which
    # at tol=1e-8 moves the scale by about 1e-9: compare the loops at a finer tolerance
    ("tukey", {"init": "ols", "scale": "mad", "tol": 1e-10}),
    ("barron", {"shape": 1.0}),  # fixed shape, convex: Newton steps
]
SYNC_PARITY = [
    ("barron", {"shape": 0.5, "init": "ols", "scale": "mad", "tol": 1e-10}),  # redescending
    ("huber", {"scale": "mad", "solver": "lbfgs", "tol": 1e-10}),
    ("huber", {"scale": "joint", "solver": "lbfgs", "alpha": 5.0, "tol": 1e-10}),
    ("huber", {"scale": "proposal2", "solver": "lbfgs", "fit_intercept": False, "tol": 1e-10}),
]


def _ids(cases):
    return [f"{lo}-{'-'.join(map(str, p.values()))}" for lo, p in cases]


# The dask fit runs the in-memory loops; only the order of the sums differs (chunks against
# row blocks).  L-BFGS-B's stopping tests (ftol 1e-15 on a normalised objective; an
# ABNORMAL line search accepted below a projected gradient of 1e-7, lbfgs_accept) compare
# numbers at the level of that rounding, so a run can end elsewhere within that tolerance.
LBFGS_RTOL = 1e-8  # at tol=1e-10; measured up to 5.6e-9


def check_parity(data, loss, params, weighted=False):
    X, y, sw = data
    sw = sw if weighted else None
    ref = RobustRegressor(loss=loss, **params).fit(X, y, sw)
    est = RobustRegressor(loss=loss, **params).fit(*to_dask(X, y, sw))
    assert_same_fit(est, ref, LBFGS_RTOL if params.get("solver") == "lbfgs" else 1e-9)
    if params.get("solver") != "lbfgs":
        # the same steps; a stopping test met at rounding level may take one more (and the
        # in-memory Hessian of a smooth loss may be reused where the pass recomputes it)
        assert abs(est.n_iter_ - ref.n_iter_) <= 1
    assert est.n_features_in_ == D
    assert not hasattr(est, "weights_")  # n-sized attributes are not gathered
    return est


@pytest.mark.parametrize(("loss", "params"), CLUSTER_PARITY, ids=_ids(CLUSTER_PARITY))
def test_cluster_fit_matches_in_memory(client, data, loss, params):
    check_parity(data, loss, params)


def test_cluster_sample_weight_as_dask_array(client, data):
    check_parity(data, "huber", {"scale": "mad", "alpha": 2.0}, weighted=True)


@pytest.mark.parametrize(("loss", "params"), SYNC_PARITY, ids=_ids(SYNC_PARITY))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fit_matches_in_memory(sync, data, loss, params, weighted):
    check_parity(data, loss, params, weighted)


def test_cluster_mm_matches_in_memory(client, data):
    X, y, _ = data  # below LARGE_N_ROWS: fast-S on all rows, gathered
    ref = RobustRegressor(loss="tukey", random_state=3).fit(X, y)
    est = RobustRegressor(loss="tukey", random_state=3).fit(*to_dask(X, y))
    assert_same_fit(est, ref)
    assert rel(est.s_coef_, ref.s_coef_) < 1e-6
    assert rel(est.s_scale_, ref.s_scale_) < 1e-6
    assert est.scale_ == est.s_scale_  # the S-scale is held fixed in the M-step


def test_cluster_predict_is_lazy_and_chunked_like_x(client, data):
    X, y, _ = data
    est = RobustRegressor(loss="huber").fit(X, y)
    dX = to_dask(X)[0]
    pred = est.predict(dX)
    assert isinstance(pred, da.Array)
    assert pred.chunks == (dX.chunks[0],)
    np.testing.assert_allclose(pred.compute(), est.predict(X), rtol=1e-12)


def test_cluster_killed_worker_does_not_change_the_fit(client, data):
    distributed = pytest.importorskip("distributed")
    X, y, _ = data
    dX, dy = to_dask(X, y, chunk=1500)  # 8 chunks
    with dask.config.set(scheduler="synchronous"):  # the same graphs, undisturbed
        expected = RobustRegressor(loss="huber").fit(dX, dy)
    # Every chunk of X passes a gate: it reports that the fit is computing and then
    # holds until released, so the worker is killed while it runs a task of the fit
    # (events, not sleeps: the order holds however loaded the machine is).
    started, release = (f"{name}-{uuid.uuid4().hex}" for name in ("started", "release"))

    def gate(block):
        from distributed import Event

        Event(started).set()
        if not Event(release).wait(timeout=300):
            raise TimeoutError("the test never released the gate")
        return block

    gated = dX.map_blocks(gate, meta=dX._meta)  # meta given: the gate runs in tasks only
    before = client.run(os.getpid)
    out = {}

    def run():
        try:
            out["est"] = RobustRegressor(loss="huber").fit(gated, dy)
        except BaseException as exc:  # reported below
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert distributed.Event(started, client=client).wait(timeout=300), "no chunk ran"
        os.kill(next(iter(before.values())), signal.SIGKILL)
    finally:
        distributed.Event(release, client=client).set()
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    np.testing.assert_allclose(out["est"].coef_, expected.coef_, rtol=1e-10)
    np.testing.assert_allclose(out["est"].scale_, expected.scale_, rtol=1e-10)
    assert_same_fit(out["est"], RobustRegressor(loss="huber").fit(X, y))
    client.wait_for_workers(2, timeout=120)
    assert set(client.run(os.getpid).values()) != set(before.values())  # one was replaced


# ----------------------------------------------------------------- synchronous scheduler
def test_weighted_mm_gathers_the_positive_rows_for_fast_s(sync, data):
    X, y, sw = data  # zero weights: fast-S runs on the positive-weight rows, as in memory
    ref = RobustRegressor(loss="tukey", random_state=1).fit(X, y, sw)
    est = RobustRegressor(loss="tukey", random_state=1).fit(*to_dask(X, y, sw))
    assert rel(est.s_coef_, ref.s_coef_) < 1e-12
    assert rel(est.s_scale_, ref.s_scale_) < 1e-12
    assert_same_fit(est, ref)


@pytest.mark.parametrize("kept", [True, False], ids=["values-kept", "kept-overflow"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_mad_selection_counted_in_the_pass_keeps_the_fit(sync, data, monkeypatch, weighted,
                                                         kept):
    from skrobust.dask import _median

    # the MAD by selection rounds (not gathered at once); the evaluation passes count the
    # first round's edges and keep the values inside them, so near convergence a median
    # needs no pass; with one value kept per chunk they overflow: the gather (same fit)
    monkeypatch.setattr(_median, "MEDIAN_GATHER_CAP", 500)
    monkeypatch.setattr(_median, "_SLOT_VALUES", 32_768 if kept else 1)
    rounds = []
    real = _median.weighted_abs_median

    def spy(*args, **kwargs):
        med, info = real(*args, return_info=True, **kwargs)
        rounds.append((kwargs.get("counted") is not None, info["passes"]))
        return med

    monkeypatch.setattr(_median, "weighted_abs_median", spy)
    est = check_parity(data, "huber", {"scale": "mad"}, weighted)
    assert est.n_iter_ > 2
    assert sum(used for used, _ in rounds) >= est.n_iter_ - 1
    assert rounds[-1] == (True, 0 if kept else 1)  # near convergence: at most the gather


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_sub_sample_mm_is_the_in_memory_large_n_fit(sync, monkeypatch, weighted):
    X, y = contaminated(20_000, seed=2, leverage=0.25)  # 10% vertical + 25% leverage outliers
    # the large-n path of fast-S (a row sample, then the M-scale of all rows) from 5000 rows
    monkeypatch.setattr(fast_s, "LARGE_N_ROWS", 5_000)
    monkeypatch.setattr(fast_s, "SAMPLE_ROWS", 3_000)
    sw = np.random.default_rng(1).integers(0, 3, y.size).astype(float) if weighted else None
    ref = RobustRegressor(loss="tukey", random_state=0).fit(X, y, sample_weight=sw)
    dX, dy, dw = to_dask(X, y, sw, chunk=2500)
    est = RobustRegressor(loss="tukey", random_state=0).fit(dX, dy, sample_weight=dw)
    # the same rows drawn, the same S-start and the same MM-estimate as in memory
    assert rel(est.s_coef_, ref.s_coef_) < 1e-9
    assert rel(est.s_scale_, ref.s_scale_) < 1e-9
    assert_same_fit(est, ref)
    if weighted:
        return
    again = RobustRegressor(loss="tukey", random_state=0).fit(dX, dy)
    np.testing.assert_array_equal(est.coef_, again.coef_)  # seeded by random_state
    np.testing.assert_allclose(est.coef_, COEF, atol=0.05)  # the breakdown point holds
    assert abs(est.intercept_ - 2.0) < 0.05
    # the S-scale is the full-data M-scale of the S-coefficients' residuals
    r = y - X @ est.s_coef_ - est.s_intercept_
    assert rel(est.s_scale_, m_scale(r, n_params=D + 1)) < 1e-8


def test_large_data_warm_start_reaches_the_same_optimum(sync, data, monkeypatch):
    X, y, sw = data
    # the in-memory warm start's thresholds: both fits start from a row sample's fit
    monkeypatch.setattr(irls_module, "WARM_MIN_ROWS", 1_000)
    monkeypatch.setattr(irls_module, "WARM_ROWS", 2_000)
    for scale in ("mad", "joint"):
        ref = RobustRegressor(loss="huber", scale=scale).fit(X, y, sw)
        est = RobustRegressor(loss="huber", scale=scale).fit(*to_dask(X, y, sw))
        assert_same_fit(est, ref)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("scale", ["mad", "joint", "proposal2"])
def test_sampled_hessian_takes_the_in_memory_steps(sync, data, monkeypatch, scale, weighted):
    X, y, sw = data
    # the in-memory thresholds of the warm start and of the Hessian of a row sample
    monkeypatch.setattr(irls_module, "WARM_MIN_ROWS", 1_000)
    monkeypatch.setattr(irls_module, "WARM_ROWS", 2_000)
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 4_000)
    monkeypatch.setattr(irls_module, "HESSIAN_ROWS", 1_500)
    sw = sw if weighted else None
    ref = RobustRegressor(loss="huber", scale=scale).fit(X, y, sw)
    est = RobustRegressor(loss="huber", scale=scale).fit(*to_dask(X, y, sw))
    assert_same_fit(est, ref)
    assert est.n_iter_ == ref.n_iter_  # the same sampled Hessians: the same steps


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_sample_rows_and_kept_median_values_come_from_one_pass(sync, data, monkeypatch,
                                                                weighted):
    from skrobust.dask import _median

    X, y, sw = data
    # an evaluation pass returns both the Hessian sample's residuals and the |r| values kept
    # for the MAD's selection: split per chunk, they give the in-memory steps
    monkeypatch.setattr(irls_module, "HESSIAN_MIN_ROWS", 4_000)
    monkeypatch.setattr(irls_module, "HESSIAN_ROWS", 1_500)
    monkeypatch.setattr(_median, "MEDIAN_GATHER_CAP", 500)
    sw = sw if weighted else None
    ref = RobustRegressor(loss="huber").fit(X, y, sw)
    est = RobustRegressor(loss="huber").fit(*to_dask(X, y, sw))
    assert_same_fit(est, ref)
    assert est.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("bounds", [(-np.inf, np.inf), (0.3, 1.5)], ids=["all", "bracket"])
@pytest.mark.parametrize("edges", ["hinted", "tied"])
def test_count_block_is_searchsorted_and_bincount(edges, bounds):
    from skrobust.dask._median import _count_block, hint_edges

    rng = np.random.default_rng(3)
    r = np.round(rng.standard_t(3, 5000), 2)  # many values equal to an edge
    w = rng.integers(0, 3, r.size).astype(float)
    e = hint_edges(0.7, 0.3) if edges == "hinted" else np.unique(np.abs(r[:200]))
    a = np.abs(r)
    sel = (w > 0) & (a > bounds[0]) & (a < bounds[1])
    left, right = (np.searchsorted(e, a[sel], side) for side in ("left", "right"))
    want = np.concatenate([np.bincount(left, w[sel], e.size + 1),
                           np.bincount(right, w[sel], e.size + 1),
                           np.bincount(left, None, e.size + 1),
                           np.bincount(right, None, e.size + 1)])
    counts, kept = _count_block(r, w, lo=bounds[0], hi=bounds[1], edges=e, slots=50)
    np.testing.assert_array_equal(counts[0], want)
    inside = sel & (a > e[0]) & (a < e[-1])  # the values kept: the first 50 inside the edges
    assert kept[0] == np.count_nonzero(inside)
    np.testing.assert_array_equal(kept[1:51], a[inside][:50])
    np.testing.assert_array_equal(kept[51:], w[inside][:50])


def test_zero_length_chunk_float32_and_no_intercept(sync, data):
    X, y, _ = data
    chunks = (3000, 0, 4000, 5000)
    dX = da.from_array(X.astype(np.float32), chunks=(chunks, (D,)))
    dy = da.from_array(y, chunks=(chunks,))
    ref = RobustRegressor(loss="huber", fit_intercept=False).fit(X.astype(np.float32), y)
    est = RobustRegressor(loss="huber", fit_intercept=False).fit(dX, dy)
    assert_same_fit(est, ref)
    assert est.intercept_ == 0.0


def test_fit_is_deterministic_and_holds_no_dask_objects(sync, data):
    X, y, sw = data
    dX, dy, dsw = to_dask(X, y, sw)
    a = RobustRegressor(loss="huber").fit(dX, dy, dsw)
    b = RobustRegressor(loss="huber").fit(dX, dy, dsw)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not any(dask.is_dask_collection(v) for v in vars(a).values())
    assert isinstance(a.coef_, np.ndarray)
    pickle.loads(pickle.dumps(a))
    clone(a)
    # predict on NumPy input after a dask fit: the in-memory path
    np.testing.assert_allclose(a.predict(X), X @ a.coef_ + a.intercept_, rtol=1e-12)
    assert RobustRegressor(loss="barron", shape=1.5).fit(dX, dy).shape_ == 1.5


def test_verbose_prints_one_line_per_iteration(sync, data, capsys):
    X, y, _ = data
    est = RobustRegressor(loss="huber", verbose=1).fit(*to_dask(X, y))
    out = capsys.readouterr().out.splitlines()
    lines = [ln for ln in out if ln.startswith("[RobustRegressor") and "] irls: iter" in ln]
    assert len(lines) == est.n_iter_
    assert all(k in lines[-1] for k in ("objective", "scale"))  # the in-memory loop's line
    assert "] validation: " in out[0] and "] fit: done in" in out[-1]
    assert f"] irls: converged in {est.n_iter_} iterations" in out[-2]


def test_robustness_weights_are_lazy_weights_(sync, data):
    X, y, _ = data
    ref = RobustRegressor(loss="huber").fit(X, y)
    dX, dy = to_dask(X, y)
    weights, outliers = robustness_weights(ref, dX, dy)
    assert isinstance(weights, da.Array)
    np.testing.assert_allclose(weights.compute(), ref.weights_, rtol=1e-12)
    np.testing.assert_array_equal(outliers.compute(), ref.outliers_)


# ----------------------------------------------------------------- scale pieces
@pytest.mark.parametrize("kind", ["equal", "integer", "real", "ties", "odd"])
@pytest.mark.parametrize("cap", [50, 10**6])
def test_weighted_abs_median_is_exact(sync, kind, cap):
    rng = np.random.default_rng(["equal", "integer", "real", "ties", "odd"].index(kind))
    n = 10_001 if kind == "odd" else 10_000
    r = rng.standard_t(2, n)
    w = np.ones(n)
    if kind == "integer":
        w = rng.integers(0, 4, n).astype(float)
    elif kind == "real":
        w = rng.uniform(0.1, 3.0, n)
    elif kind == "ties":
        r = np.round(r, 1)  # many equal |r|
        w = rng.integers(0, 3, n).astype(float)
    dr, dw = to_dask(r, w, chunk=1_500)
    med, info = weighted_abs_median(dr, dw, cap=cap, return_info=True)
    assert med == weighted_median(np.abs(r), w)
    if cap == 50:
        assert info["passes"] >= 2  # a sketch and a counting pass at least (then a gather)
    # a hint (the previous iteration's median) gives the same value
    assert weighted_abs_median(dr, dw, hint=1.1 * med, cap=cap) == med


@pytest.mark.parametrize("heap", ["lower", "upper", "both"])
def test_weighted_abs_median_leaves_a_heap_of_ties_out_of_its_bracket(sync, heap):
    # an exact fit leaves many residuals at 0: when a median's answer is such a heap, the
    # next bracket must exclude it, else it never holds few rows and the heap is gathered
    rng = np.random.default_rng(4)
    r = {"lower": np.r_[np.zeros(5_000), 1.0 + rng.random(5_000)],
         "upper": np.r_[rng.random(5_000), np.full(5_000, 3.0)],
         "both": np.r_[rng.random(4_000), np.zeros(6_000)]}[heap]
    w = np.ones(r.size)
    med, info = weighted_abs_median(*to_dask(r, w, chunk=1_500), cap=50, return_info=True)
    assert med == weighted_median(np.abs(r), w)
    assert info["passes"] <= 3  # two counting rounds and a gather of at most 50 rows


def test_distributed_scale_rules_match_the_in_memory_rules(sync, data):
    X, y, sw = data
    r = y - X @ COEF - 2.0
    dr, dsw = to_dask(r, sw)
    rows = DaskRows(dsw, float(sw.sum()), int(np.count_nonzero(sw)))
    for rule in (HuberProposal2Scale(1e-10, D + 1), JointScale(1e-10, get_loss("huber")),
                 MADScale(1e-10)):
        ours = rule.update(dr, rows, 2.0)  # the same rule, its sums tree-summed over chunks
        assert rel(ours, rule.update(r, NumpyRows(sw), 2.0)) < 1e-12
    ours = m_scale_of(dr, rows, loss=get_loss("tukey", c=S_TUKEY_C), b=S_BREAKDOWN_B,
                      denom=sw.sum() - D - 1, scale0=1.0, floor=1e-300)
    assert rel(ours, m_scale(r, sw, n_params=D + 1)) < 1e-8


# ----------------------------------------------------------------- bad input
def test_bad_layouts_raise_before_any_computation(sync, data):
    X, y, sw = data
    dX, dy, dsw = to_dask(X, y, sw)
    est = RobustRegressor()
    with pytest.raises(ValueError, match=r"rechunk\(\{1: 4\}\)"):
        est.fit(da.from_array(X, chunks=(CHUNK, 2)), dy)
    unknown = dX[dX[:, 0] > -100]  # boolean mask: NaN chunk sizes
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        est.fit(unknown, dy)
    with pytest.raises(ValueError, match=r"y is chunked differently.*rechunk"):
        est.fit(dX, da.from_array(y, chunks=CHUNK // 2))
    with pytest.raises(ValueError, match=r"sample_weight is chunked differently"):
        est.fit(dX, dy, da.from_array(sw, chunks=3_000))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(dX, dy[:-10])
    with pytest.raises(TypeError, match="X must be a dask array"):
        est.fit(X, dy)
    with pytest.raises(ValueError, match="2-D"):
        est.fit(dX[:, 0], dy)


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input_raises(sync, data, where, value):
    X, y, sw = (a.copy() for a in data)
    {"X": X[:, 1], "y": y, "sample_weight": sw}[where][1234] = value
    with pytest.raises(ValueError, match=f"Input {where} contains NaN or infinity"):
        RobustRegressor().fit(*to_dask(X, y, sw))


def test_bad_weights_and_unsupported_options_raise(sync, data):
    X, y, sw = data
    dX, dy = to_dask(X, y)
    neg = sw.copy()
    neg[3] = -1.0
    with pytest.raises(ValueError, match="Negative values"):
        RobustRegressor().fit(dX, dy, to_dask(neg)[0])
    with pytest.raises(ValueError, match="positive sum"):
        RobustRegressor().fit(dX, dy, da.zeros(N, chunks=CHUNK))
    with pytest.raises(ValueError, match="scale='joint' is not available with the redescending"):
        RobustRegressor(loss="tukey", scale="joint").fit(dX, dy)
    with pytest.raises(NotImplementedError, match="quantile"):
        RobustRegressor(loss="quantile").fit(dX, dy)
    with pytest.raises(NotImplementedError, match="lad"):
        RobustRegressor(init="lad").fit(dX, dy)
    with pytest.raises(ValueError, match="loss"):  # parameter validation still runs
        RobustRegressor(loss="nope").fit(dX, dy)
    params = RobustRegressor().get_params()
    if "kernel" in params:
        with pytest.raises(NotImplementedError, match="kernel models"):
            RobustRegressor(kernel="rbf").fit(dX, dy)
    if "shape_bounds" in params:
        with pytest.raises(NotImplementedError, match="adaptive"):
            RobustRegressor(loss="barron", shape="adaptive").fit(dX, dy)


def test_predict_checks_its_input(sync, data):
    X, y, _ = data
    est = RobustRegressor().fit(X, y)
    with pytest.raises(ValueError, match="expecting 4 features"):
        est.predict(da.ones((10, 3), chunks=5))
    with pytest.raises(ValueError, match="rechunk"):
        est.predict(da.ones((10, 4), chunks=(5, 2)))
    np.testing.assert_allclose(est.predict(to_dask(X)[0]).compute(), est.predict(X),
                               rtol=1e-12)


@pytest.mark.parametrize("params", [{"kernel": "rbf"}, {"kernel": "rbf", "n_components": 50}],
                         ids=["exact", "nystroem"])
def test_predict_maps_the_estimators_predict_over_chunks(sync, params):
    # predict_dask computed X @ coef_: it failed on a kernel model (no coef_, or coef_ of the
    # Nystroem features); it now runs the estimator's own predict on each chunk
    X, y = contaminated(400, seed=3)
    est = RobustRegressor(**params).fit(X, y)
    pred = est.predict(da.from_array(X, chunks=(100, D)))
    assert pred.chunks[0] == (100,) * 4 and pred.shape == est.predict(X).shape
    np.testing.assert_allclose(pred.compute(), est.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunks", [(1, 0), (0, 1), (1, 0, 0)])
@pytest.mark.parametrize("params", [{}, {"scale": "proposal2"},
                                    {"scale": "joint", "solver": "lbfgs"}],
                         ids=["mad", "proposal2", "joint"])
def test_one_row_and_empty_chunks_fit_as_in_memory(sync, chunks, params):
    # an empty chunk was handed the residuals of its neighbour: IndexError from the
    # proposal-2 scale ("boolean index did not match indexed array")
    X, y = np.array([[1.0, 2.0]]), np.array([3.0])
    dX = da.from_array(X, chunks=(chunks, (2,)))
    dy = da.from_array(y, chunks=(chunks,))
    with pytest.warns(UserWarning, match="alias"):  # one row: both columns are aliased
        ref = RobustRegressor(**params).fit(X, y)
    assert ref.aliased_.all()
    est = RobustRegressor(**params).fit(dX, dy)
    # the dask fit does not drop aliased columns (docs: scaling_out), so only the fitted
    # values, which any exact fit shares, are compared
    np.testing.assert_allclose(est.predict(dX).compute(), ref.predict(X), rtol=1e-9)
    np.testing.assert_allclose(est.predict(dX).compute(), y, rtol=1e-9)


def test_sparse_chunks_are_refused_with_a_message(sync):
    # a raw "ufunc 'isfinite' not supported" TypeError, although the docstring promises a message
    import scipy.sparse as sp

    Xs = sp.random(100, 3, density=0.5, format="csr", random_state=0)
    dX = da.from_array(Xs, chunks=(50, 3), asarray=False)
    dy = da.from_array(np.arange(100.0), chunks=50)
    with pytest.raises(TypeError, match="csr_matrix chunks; the dask backend needs dense"):
        RobustRegressor().fit(dX, dy)
    dense = da.from_array(Xs.toarray(), chunks=(50, 3))
    reg = RobustRegressor().fit(dense, dy)
    with pytest.raises(TypeError, match="csr_matrix chunks"):
        reg.predict(dX)
    # a sparse chunk behind a dense meta is caught where the chunk is read
    hidden = dense.map_blocks(sp.csr_matrix, meta=np.empty((0, 0)))
    with pytest.raises(TypeError, match="csr_matrix chunks"):
        RobustRegressor().fit(hidden, dy)


# ----------------------------------------------------------------- the objective protocol
@pytest.mark.parametrize("scale", ["fixed", "mad", "joint"])
def test_dask_objective_evaluates_as_the_in_memory_objective(sync, data, scale):
    from skrobust.dask import DaskData, DaskObjective
    from skrobust.design.linear import LinearDesign
    from skrobust.design.objective import MProblem
    from skrobust.scale import FixedScale
    from skrobust.solvers.hessian import Direction

    X, y, sw = data
    loss = get_loss("huber")
    rule = {"fixed": FixedScale(1.5), "mad": MADScale(1e-10),
            "joint": JointScale(1e-10, loss)}[scale]
    memory = MProblem(LinearDesign(X, True), y, sw, loss, rule, alpha=3.0)
    ours = DaskObjective(DaskData(*to_dask(X, y, sw), fit_intercept=True), loss, rule, 3.0)
    assert ours.capabilities.hessian_in_pass and not memory.capabilities.hessian_in_pass
    beta = np.append(COEF, 2.0) + 0.1
    a, b = memory.evaluate(beta, 1.3), ours.evaluate(beta, 1.3, newton=True)
    assert ours.evaluate(beta, 1.3).hessian is None  # L-BFGS's evaluations: no Gram
    assert rel(b.f, a.f) < 1e-12 and rel(b.grad, a.grad) < 1e-10
    np.testing.assert_allclose(b.r.compute(), a.r, rtol=1e-12, atol=1e-12)
    # the Newton direction from the Hessian of the pass equals the in-memory one (with a
    # re-estimated scale the pass leaves the Gram to the pass at the next scale)
    assert (b.hessian is None) == (scale == "mad")
    assert rel(Direction(ours)(b), Direction(memory)(a)) < 1e-9
    a2, b2 = memory.rescale(a, 1.7), ours.rescale(b, 1.7)
    assert rel(b2.f, a2.f) < 1e-12 and rel(b2.grad, a2.grad) < 1e-10
    assert rel(ours.irls_step(b.r, 1.3), memory.irls_step(a.r, 1.3)) < 1e-10
    assert rel(ours.objective(beta, 1.3), memory.objective(beta, 1.3)) < 1e-12
    r_new, change2, step, products = ours.advance(beta - 0.05, b.r, b.r, products=True)
    expected = memory.advance(beta - 0.05, a.r, a.r, products=True)
    assert rel(change2, expected[1]) < 1e-10
    assert rel(np.array(products), np.array(expected[3])) < 1e-10
    assert rel(ours.least_squares(), memory.least_squares()) < 1e-10


def misaligned(a):
    """A copy of ``a`` one byte off the alignment of its dtype (as a chunk unpickled after a
    transfer between workers can be)."""
    buf = np.frombuffer(bytearray(a.nbytes + 1), dtype=np.uint8)[1:]
    out = buf.view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def test_misaligned_chunks_are_persisted_aligned_and_fit_the_same(sync, data):
    # NumPy runs BLAS only on aligned arrays: a misaligned chunk made every X'g 20-40x slower
    X, y, _ = data

    def chunks_of(a):  # a task per chunk returning it misaligned
        return da.concatenate([da.from_delayed(dask.delayed(misaligned)(a[i:i + CHUNK]),
                                               a[i:i + CHUNK].shape, a.dtype)
                               for i in range(0, a.shape[0], CHUNK)])

    dX, dy = chunks_of(X), chunks_of(y)
    assert not any(b.flags.aligned for b in dask.compute(*dX.to_delayed().ravel()))
    from skrobust.dask import DaskData

    stored = DaskData(dX, dy, None, fit_intercept=True)
    for a in (stored.X, stored.y, stored.w):
        assert all(b.flags.aligned for b in dask.compute(*a.to_delayed().ravel()))
    assert_same_fit(RobustRegressor().fit(dX, dy), RobustRegressor().fit(X, y))
