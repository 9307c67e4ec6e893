"""Pointwise and objective-level tests of the classification losses.

Parametrised over the registry (``available_classification_losses``), so a
new loss is picked up automatically; Blurry and Piecewise-zero are
additionally expanded over their variants.
"""

import math
import pickle

import numpy as np
import pytest
from scipy.optimize import check_grad

from skrobust.losses import probability as prob_mod
from skrobust.losses._softmax import label_log_softmax
from skrobust.losses.classification import (
    available_classification_losses,
    get_classification_loss,
)
from skrobust.losses.margin import BarronMargin, ModifiedHuber, SquaredHinge, TukeyMargin
from skrobust.losses.probability import GCE, Blurry, LogLoss, PiecewiseZero
from skrobust.solvers.multinomial import ClassificationProblem


def _variants():
    cases = []
    for name in available_classification_losses():
        cases.append(pytest.param(get_classification_loss(name), id=name))
    cases += [
        pytest.param(Blurry(gamma=0.3, back_off=True), id="blurry[back_off]"),
        pytest.param(Blurry(gamma=0.5, detach_weight=True), id="blurry[detach]"),
        pytest.param(GCE(q=1.0), id="gce[q=1]"),
        pytest.param(PiecewiseZero(cutoff=0.3, cutoff_mode="absolute"), id="pz[abs]"),
        pytest.param(TukeyMargin(c=2.0), id="tukey[c=2]"),
        pytest.param(BarronMargin(shape=-2.0, c=1.5), id="barron[-2]"),
        pytest.param(BarronMargin(shape=1.0), id="barron[1]"),
        pytest.param(ModifiedHuber(epsilon=1.0), id="huber[eps=1]"),
    ]
    return cases


LOSSES = _variants()
PROBABILITY = [c for c in LOSSES if c.values[0].kind == "probability"]
MARGIN = [c for c in LOSSES if c.values[0].kind == "margin"]
P_GRID = np.linspace(0.02, 0.99, 41)
M_GRID = np.linspace(-4.0, 3.0, 57)


# ------------------------------------------------------------------ registry
def test_registry_names_and_kinds():
    names = available_classification_losses()
    assert {"log", "gce", "blurry", "piecewise_zero", "sce"} <= set(
        available_classification_losses("probability"))
    assert {"huber", "tukey", "barron", "squared_hinge"} <= set(
        available_classification_losses("margin"))
    assert names == sorted(names)
    for name in names:
        assert get_classification_loss(name).name == name


def test_registry_errors():
    with pytest.raises(ValueError, match="Unknown classification loss 'focal'.*gce"):
        get_classification_loss("focal")
    with pytest.raises(TypeError, match="its parameters are: q"):
        get_classification_loss("gce", gamma=0.5)


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("gce", {"q": 0.0}, "q must be in"),
        ("gce", {"q": 1.5}, "q must be in"),
        ("gce", {"q": math.nan}, "q must be"),
        ("blurry", {"gamma": -0.1}, "gamma must be >= 0"),
        ("piecewise_zero", {"cutoff": 1.0}, "cutoff must be in"),
        ("piecewise_zero", {"cutoff": -0.1}, "cutoff must be in"),
        ("piecewise_zero", {"cutoff_mode": "median"}, "cutoff_mode must be one of"),
        ("sce", {"log_zero": 1.0}, "log_zero must be negative"),
        ("tukey", {"c": 0.0}, "c must be"),
        ("barron", {"shape": 3.0}, "shape must be <= 2"),
        ("huber", {"epsilon": -1.0}, "epsilon must be"),
    ],
)
def test_invalid_parameters_name_the_parameter(name, params, match):
    with pytest.raises(ValueError, match=match):
        get_classification_loss(name, **params)


@pytest.mark.parametrize("loss", LOSSES)
def test_frozen_hashable_picklable(loss):
    with pytest.raises(AttributeError):
        loss.foo = 1
    hash(loss)
    assert pickle.loads(pickle.dumps(loss)) == loss
    assert get_classification_loss(loss) is loss


# --------------------------------------------------------- probability losses
@pytest.mark.parametrize("loss", PROBABILITY)
def test_weight_is_minus_p_times_derivative(loss):
    # w(p) = -p l'(p) = -d rho / d log p, checked by central differences in log p
    if not loss.smooth:
        lp = np.log(P_GRID)
        keep = np.abs(P_GRID - loss.cutoff) > 0.03
        lp = lp[keep]
    else:
        lp = np.log(P_GRID)
    if getattr(loss, "back_off", True) is False and loss.name == "blurry":
        lp = lp[np.abs(lp + 1.0 / loss.gamma) > 0.03]  # kink of the flat variant at p*
    h = 1e-6
    fd = -(loss.rho_log(lp + h) - loss.rho_log(lp - h)) / (2 * h)
    np.testing.assert_allclose(loss.weight_log(lp), fd, rtol=1e-6, atol=1e-7)
    p = np.exp(lp)
    np.testing.assert_allclose(loss.derivative(p), -loss.weight(p) / p, rtol=1e-12)
    np.testing.assert_allclose(loss.rho(p), loss.rho_log(lp), rtol=1e-12)


@pytest.mark.parametrize("loss", PROBABILITY)
def test_rho_zero_at_certainty_and_nonnegative(loss):
    assert float(loss.rho(1.0)) == pytest.approx(0.0, abs=1e-15)
    assert np.all(loss.rho(P_GRID) >= 0)
    rw = loss.robustness_weight(P_GRID)
    assert np.all((rw >= 0) & (rw <= 1))


@pytest.mark.parametrize("loss", PROBABILITY)
def test_kernels_are_valid_python(loss):
    # NUMBA_DISABLE_JIT=1 runs the kernels as plain Python: they must agree
    lp = np.log(P_GRID)
    for attr in ("_rho_kernel", "_weight_kernel"):
        kernel = getattr(type(loss), attr)
        if kernel is None:
            continue
        out_jit, out_py = np.empty_like(lp), np.empty_like(lp)
        kernel(lp, *loss._kernel_args(), out_jit)
        getattr(kernel, "py_func", kernel)(lp, *loss._kernel_args(), out_py)
        np.testing.assert_allclose(out_jit, out_py, rtol=1e-14)
    for name, n_out in (("blurry_rho", 1), ("blurry_weight", 1), ("blurry_flat", 2)):
        kernel = getattr(prob_mod, name)
        # blurry_flat reads p**gamma from its first output
        outs_jit = [np.exp(0.5 * lp) for _ in range(n_out)]
        outs_py = [np.exp(0.5 * lp) for _ in range(n_out)]
        kernel(lp, 0.5, *outs_jit)
        getattr(kernel, "py_func", kernel)(lp, 0.5, *outs_py)
        for out_jit, out_py in zip(outs_jit, outs_py, strict=True):
            np.testing.assert_allclose(out_jit, out_py, rtol=1e-14)


@pytest.mark.parametrize("loss", PROBABILITY)
def test_rho_weight_log_is_rho_log_and_weight_log(loss):
    # the solvers' one-pass entry point, with and without the reused buffers
    lp = np.log(np.r_[P_GRID, 1e-300, 1.0])
    rho, weight = loss.rho_log(lp), loss.weight_log(lp)
    for out in (None, (np.full(lp.size, np.nan), np.full(lp.size, np.nan))):
        got_rho, got_weight = loss.rho_weight_log(lp, out=out)
        np.testing.assert_allclose(got_rho, rho, rtol=1e-14, atol=0)
        np.testing.assert_allclose(got_weight, weight, rtol=1e-14, atol=0)


def _log_softmax_reference(Z):
    logits = np.hstack([np.zeros_like(Z), Z]) if Z.shape[1] == 1 else Z
    m = logits.max(axis=1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("n_outputs", [1, 3, 10])
def test_label_log_softmax_matches_numpy(n_outputs):
    # binary (one score column, logits (0, z)) and K-class scores, including scores
    # large enough to overflow exp without the shift
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=5.0, size=(200, n_outputs))
    Z[:3] = [[800.0], [-800.0], [0.0]] if n_outputs == 1 else 800.0 * rng.normal(
        size=(3, n_outputs))
    n_classes = max(2, n_outputs)
    y = rng.integers(0, n_classes, size=200)
    lp, P = np.empty(200), np.empty_like(Z)
    label_log_softmax(Z, y, lp, P)
    L = _log_softmax_reference(Z)
    np.testing.assert_allclose(lp, L[np.arange(200), y], rtol=1e-12, atol=1e-13)
    expected_P = np.exp(L[:, 1:]) if n_outputs == 1 else np.exp(L)
    np.testing.assert_allclose(P, expected_P, rtol=1e-12, atol=1e-300)


def test_value_grad_reuses_buffers_without_aliasing_results():
    # the objective's work arrays are reused across evaluations; what it returns is not
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    y = rng.integers(0, 2, size=50)
    problem = ClassificationProblem(X, y, 2, np.ones(50), Blurry())
    B1, B2 = np.array([[1.0, -1.0, 0.5, 0.2]]), np.array([[-0.3, 0.4, 2.0, -1.0]])
    scores = problem.scores(B1)
    v1, g1 = problem.value_grad(B1)
    g1_copy = g1.copy()
    v2, g2 = problem.value_grad(B2)
    np.testing.assert_array_equal(g1, g1_copy)
    np.testing.assert_array_equal(scores, problem.scores(B1))
    assert problem.value_grad(B1)[0] == v1 and v1 != v2


def test_blurry_gamma_zero_is_cross_entropy():
    ce = LogLoss()
    lp = np.log(P_GRID)
    for loss in (Blurry(gamma=0.0), Blurry(gamma=0.0, back_off=True),
                 Blurry(gamma=0.0, detach_weight=True)):
        np.testing.assert_allclose(loss.rho_log(lp), ce.rho_log(lp), rtol=1e-14)
        np.testing.assert_allclose(loss.weight_log(lp), 1.0, rtol=1e-14)
        assert loss.convex


@pytest.mark.parametrize("mode", ["absolute", "relative", "quantile"])
def test_piecewise_zero_cutoff_zero_is_cross_entropy(mode):
    loss = PiecewiseZero(cutoff=0.0, cutoff_mode=mode)
    lp = np.log(P_GRID)
    np.testing.assert_allclose(loss.rho_log(lp), -lp, rtol=1e-14)
    y = np.arange(lp.size) % 3
    np.testing.assert_array_equal(loss.hard_weights_log(lp, y, np.ones(lp.size), 3), 1.0)


def test_gce_small_q_tends_to_cross_entropy():
    lp = np.log(P_GRID)
    for q, tol in ((1e-3, 5e-3), (1e-6, 5e-6), (1e-9, 5e-9)):
        np.testing.assert_allclose(GCE(q=q).rho_log(lp), -lp, rtol=tol)
        np.testing.assert_allclose(GCE(q=q).weight_log(lp), 1.0, rtol=tol)


def test_gce_q_one_is_mean_absolute_error():
    np.testing.assert_allclose(GCE(q=1.0).rho(P_GRID), 1.0 - P_GRID, rtol=1e-12)


def test_blurry_detached_weight_is_gce_weight():
    lp = np.log(P_GRID)
    np.testing.assert_allclose(Blurry(gamma=0.4, detach_weight=True).weight_log(lp),
                               GCE(q=0.4).weight_log(lp), rtol=1e-14)
    np.testing.assert_allclose(Blurry(gamma=0.4, detach_weight=True).rho_log(lp),
                               GCE(q=0.4).rho_log(lp), rtol=1e-14)


@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0])
def test_blurry_back_off_shape(gamma):
    literal = Blurry(gamma=gamma, back_off=True)
    flat = Blurry(gamma=gamma)
    p_star = math.exp(-1.0 / gamma)
    peak = 1.0 / (math.e * gamma)
    assert float(literal.rho(p_star)) == pytest.approx(peak, rel=1e-12)
    assert float(literal.weight(p_star)) == pytest.approx(0.0, abs=1e-12)
    below = np.linspace(p_star * 1e-3, p_star * 0.99, 20)
    above = np.linspace(p_star * 1.01, 1.0, 20)
    assert np.all(literal.weight(below) < 0)  # the back-off
    assert np.all(literal.rho(below) < peak)
    assert np.all(literal.weight(above) > 0)
    # the flat variant: the weight clipped at 0, the loss held at its peak
    np.testing.assert_array_equal(flat.weight(below), 0.0)
    np.testing.assert_allclose(flat.rho(below), peak, rtol=1e-14)
    np.testing.assert_allclose(flat.weight(above), literal.weight(above), rtol=1e-14)
    np.testing.assert_allclose(flat.rho(above), literal.rho(above), rtol=1e-14)
    assert np.all(np.diff(flat.rho(P_GRID)) <= 1e-15)  # monotone
    assert literal.negative_weights and not flat.negative_weights
    np.testing.assert_array_equal(literal.robustness_weight(below), 0.0)


def test_piecewise_zero_modes():
    lp = np.log(np.array([0.05, 0.2, 0.4, 0.9, 0.95, 0.3]))
    y = np.array([0, 0, 0, 1, 1, 1])
    s = np.ones(6)
    absolute = PiecewiseZero(cutoff=0.25, cutoff_mode="absolute")
    np.testing.assert_array_equal(absolute.hard_weights_log(lp, y, s, 2), [0, 0, 1, 1, 1, 1])
    relative = PiecewiseZero(cutoff=0.5, cutoff_mode="relative")
    # class means 0.2167 and 0.7167: cutoffs 0.108 and 0.358
    np.testing.assert_array_equal(relative.hard_weights_log(lp, y, s, 2), [0, 1, 1, 1, 1, 0])
    quantile = PiecewiseZero(cutoff=1 / 3, cutoff_mode="quantile")
    np.testing.assert_array_equal(quantile.hard_weights_log(lp, y, s, 2), [0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("mode", ["relative", "quantile"])
def test_piecewise_zero_weights_equal_repetition(mode):
    rng = np.random.default_rng(0)
    lp = np.log(rng.uniform(0.01, 1, 40))
    y = rng.integers(0, 3, 40)
    sw = rng.integers(0, 4, 40)
    loss = PiecewiseZero(cutoff=0.3, cutoff_mode=mode)
    weighted = loss.hard_weights_log(lp, y, sw.astype(float), 3)
    repeated = loss.hard_weights_log(np.repeat(lp, sw), np.repeat(y, sw),
                                     np.ones(sw.sum()), 3)
    np.testing.assert_array_equal(np.repeat(weighted, sw), repeated)


def test_sce_weight():
    loss = get_classification_loss("sce")
    np.testing.assert_allclose(loss.weight(P_GRID), 0.1 + 4.0 * P_GRID, rtol=1e-14)


# -------------------------------------------------------------- margin losses
@pytest.mark.parametrize("loss", MARGIN)
def test_margin_derivatives_match_finite_differences(loss):
    m = M_GRID[np.abs(M_GRID - 1.0) > 1e-3]
    h = 1e-6
    fd = (loss.rho(m + h) - loss.rho(m - h)) / (2 * h)
    np.testing.assert_allclose(loss.derivative(m), fd, rtol=1e-6, atol=1e-7)
    smooth2 = np.ones_like(m, dtype=bool)
    r = 1.0 - m
    for knot in (getattr(loss, "epsilon", None), getattr(loss, "c", None)):
        if knot is not None and loss.name in ("huber", "tukey"):
            smooth2 &= np.abs(r - knot) > 1e-3
    fd2 = (loss.derivative(m + h) - loss.derivative(m - h)) / (2 * h)
    np.testing.assert_allclose(loss.second_derivative(m)[smooth2], fd2[smooth2],
                               rtol=1e-5, atol=1e-5)
    # near the margin every loss is the squared hinge
    assert float(loss.rho(0.999)) == pytest.approx(1e-6, rel=1e-3)
    w = loss.weight(M_GRID)
    assert np.all((w >= 0) & (w <= 1)) and np.all(w[M_GRID >= 1] == 1)


def test_modified_huber_is_sklearns():
    m = M_GRID
    expected = np.where(m >= -1, np.maximum(0, 1 - m) ** 2, -4 * m)
    np.testing.assert_allclose(ModifiedHuber().rho(m), expected, rtol=1e-14)
    assert ModifiedHuber().convex and not ModifiedHuber().bounded


def test_tukey_margin_zero_weight_beyond_c():
    loss = TukeyMargin(c=2.5)
    np.testing.assert_array_equal(loss.weight([-1.5, -3.0]), 0.0)
    assert loss.weight(-1.4) > 0
    assert loss.bounded and not loss.convex
    assert float(loss.rho(-10.0)) == pytest.approx(2.5**2 / 3)


def test_barron_shape_two_is_squared_hinge():
    np.testing.assert_allclose(BarronMargin(shape=2.0).rho(M_GRID),
                               SquaredHinge().rho(M_GRID), rtol=1e-14)
    assert BarronMargin(shape=1.0).convex and not BarronMargin(shape=0.0).convex


# ------------------------------------------------- the full objective's gradient
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("loss", LOSSES)
def test_objective_gradient_matches_finite_differences(loss, n_classes, fit_intercept):
    rng = np.random.default_rng(n_classes)
    n, d = 40, 3
    X = rng.normal(size=(n, d))
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)
    sw = rng.uniform(0.5, 2.0, n)
    problem = ClassificationProblem(X, y, n_classes, sw, loss, alpha=0.7,
                                    fit_intercept=fit_intercept)
    shape = (problem.n_outputs, problem.n_params)
    B = 0.4 * rng.normal(size=shape)
    if loss.name == "piecewise_zero":
        # the loss is smooth away from p = c: use the weights of this point
        lp = problem.label_log_proba(problem.scores(B))
        assert np.min(np.abs(np.exp(lp) - loss.cutoff)) > 1e-4

    def f(t):
        return problem.value_grad(t.reshape(shape))[0]

    def g(t):
        return problem.value_grad(t.reshape(shape))[1].ravel()

    err = check_grad(f, g, B.ravel(), epsilon=1e-6)
    assert err <= 1e-5 * max(1.0, np.linalg.norm(g(B.ravel())))


def test_weighted_base_gradient_is_loss_gradient_at_its_weights():
    # the reweighting fixed-point identity: CE weighted by w(p) has the loss's gradient
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = rng.integers(0, 3, 30)
    for loss in (GCE(q=0.6), Blurry(gamma=0.5), get_classification_loss("sce")):
        problem = ClassificationProblem(X, y, 3, np.ones(30), loss, alpha=0.5)
        B = rng.normal(size=(3, 3))
        v = loss.weight_log(problem.label_log_proba(problem.scores(B)))
        g_loss = problem.value_grad(B)[1]
        g_base = problem.value_grad(B, problem.base_loss, v)[1]
        np.testing.assert_allclose(g_loss, g_base, rtol=1e-10, atol=1e-12)
