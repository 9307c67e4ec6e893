"""Behaviour of RobustClassifier: parity, weights, robustness, bad input, API."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skrobust import RobustClassifier
from skrobust.datasets import corrupt_labels
from skrobust.losses.classification import available_classification_losses
from skrobust.losses.probability import GCE

ALL_LOSSES = available_classification_losses()
TIGHT = dict(tol=1e-10, max_iter=3000)

# one configuration per loss and variant, with its default solver
CONFIGS = [dict(loss=name) for name in ALL_LOSSES] + [
    dict(loss="blurry", back_off=True),
    dict(loss="blurry", detach_weight=True),
    dict(loss="piecewise_zero", cutoff=0.2, cutoff_mode="quantile"),
    dict(loss="piecewise_zero", cutoff=0.3, cutoff_mode="absolute"),
    dict(loss="gce", solver="irls"),
    dict(loss="tukey", solver="irls"),
]


def _id(cfg):
    return ",".join(f"{k}={v}" for k, v in cfg.items())


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _noisy_blobs(n=240, d=3, n_classes=3, rate=0.25, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = 2.0 * rng.normal(size=(d, n_classes))
    y = np.argmax(X @ W + 0.5 * rng.gumbel(size=(n, n_classes)), axis=1)
    y_noisy, flipped = corrupt_labels(y, rate, random_state=seed)
    return X, y, y_noisy, flipped


# ------------------------------------------------------------ parity with sklearn
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_log_loss_is_logistic_regression(n_classes, alpha):
    X, y, _, _ = _noisy_blobs(n_classes=n_classes, rate=0.0)
    rc = RobustClassifier("log", alpha=alpha, **TIGHT).fit(X, y)
    lr = LogisticRegression(C=1.0 / alpha, tol=1e-12, max_iter=5000).fit(X, y)
    assert rc.coef_.shape == lr.coef_.shape
    np.testing.assert_allclose(rc.predict_proba(X), lr.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(rc.coef_, lr.coef_, atol=1e-6)
    if n_classes == 2:
        np.testing.assert_allclose(rc.intercept_, lr.intercept_, atol=1e-6)


def test_log_loss_matches_lr_without_intercept_and_with_class_weight():
    X, y, _, _ = _noisy_blobs(n_classes=3, rate=0.0, seed=3)
    y = np.where(np.arange(y.size) % 4 == 0, 0, y)  # imbalance
    for kwargs in (dict(fit_intercept=False), dict(class_weight="balanced"),
                   dict(class_weight={0: 0.5, 1: 2.0, 2: 1.0})):
        rc = RobustClassifier("log", **kwargs, **TIGHT).fit(X, y)
        lr = LogisticRegression(**kwargs, tol=1e-12, max_iter=5000).fit(X, y)
        np.testing.assert_allclose(rc.predict_proba(X), lr.predict_proba(X), atol=1e-7)


def test_modified_huber_matches_sgd_link():
    X, y, _, _ = _noisy_blobs(n_classes=2, rate=0.0)
    rc = RobustClassifier("huber").fit(X, y)
    f = rc.decision_function(X)
    np.testing.assert_allclose(rc.predict_proba(X)[:, 1], (np.clip(f, -1, 1) + 1) / 2)
    sgd = SGDClassifier(loss="modified_huber", random_state=0).fit(X, y)
    assert np.mean(rc.predict(X) == sgd.predict(X)) > 0.9


# ----------------------------------------------------- equivalences of the losses
@pytest.mark.parametrize("cfg", [
    dict(loss="blurry", blurry_gamma=0.0),
    dict(loss="blurry", blurry_gamma=0.0, back_off=True),
    dict(loss="blurry", blurry_gamma=0.0, detach_weight=True),
    dict(loss="piecewise_zero", cutoff=0.0),
    dict(loss="piecewise_zero", cutoff=0.0, cutoff_mode="quantile"),
    dict(loss="gce", q=1e-9),
], ids=_id)
def test_limits_that_are_cross_entropy(cfg):
    X, _, y, _ = _noisy_blobs()
    ref = RobustClassifier("log", **TIGHT).fit(X, y)
    est = RobustClassifier(**{**cfg, **TIGHT}).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)


def test_solvers_agree_on_convex_and_smooth_losses():
    X, _, y, _ = _noisy_blobs()
    for loss, solvers in (("log", ("lbfgs", "irls")), ("huber", ("newton", "lbfgs", "irls")),
                          ("squared_hinge", ("newton", "irls"))):
        fits = [RobustClassifier(loss, solver=s, **TIGHT).fit(X, y) for s in solvers]
        for other in fits[1:]:
            np.testing.assert_allclose(other.coef_, fits[0].coef_, atol=1e-5)
    # a non-convex loss: both reach a stationary point of the same objective
    a = RobustClassifier("gce", solver="lbfgs", **TIGHT).fit(X, y)
    b = RobustClassifier("gce", solver="irls", **TIGHT).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-4)


def test_detached_blurry_is_gce():
    X, _, y, _ = _noisy_blobs()
    a = RobustClassifier("blurry", blurry_gamma=0.4, detach_weight=True, **TIGHT).fit(X, y)
    b = RobustClassifier("gce", q=0.4, **TIGHT).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)


def test_loss_object_overrides_parameters():
    X, _, y, _ = _noisy_blobs()
    with pytest.warns(UserWarning, match="q=0.9 has no effect with loss=GCE"):
        a = RobustClassifier(GCE(q=0.3), q=0.9).fit(X, y)
    b = RobustClassifier("gce", q=0.3).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert a.loss_ == GCE(q=0.3)


# ------------------------------------------------ sample_weight and class_weight
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_sample_weight_is_repetition_and_zero_is_removal(cfg, n_classes):
    # n >> p and 25% wrong labels, so that the robust weights matter
    X, _, y, _ = _noisy_blobs(n=150, n_classes=n_classes, seed=n_classes)
    sw = np.random.default_rng(1).integers(0, 4, y.size)
    params = {**cfg, **TIGHT, "alpha": 0.5}
    weighted = RobustClassifier(**params).fit(X, y, sample_weight=sw)
    repeated = RobustClassifier(**params).fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-6)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(np.repeat(weighted.weights_, sw), repeated.weights_, atol=1e-6)
    keep = sw > 0
    removed = RobustClassifier(**params).fit(X[keep], y[keep], sample_weight=sw[keep])
    np.testing.assert_allclose(weighted.coef_, removed.coef_, atol=1e-10)
    assert 0.05 < np.mean(weighted.weights_ < 0.5) or cfg["loss"] in {"log", "huber",
                                                                     "squared_hinge"}


@pytest.mark.parametrize("cfg", [dict(loss="blurry"), dict(loss="piecewise_zero"),
                                 dict(loss="tukey")], ids=_id)
def test_class_weight_is_sample_weight(cfg):
    X, _, y, _ = _noisy_blobs(n=150)
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    a = RobustClassifier(**cfg, class_weight=cw, **TIGHT).fit(X, y)
    b = RobustClassifier(**cfg, **TIGHT).fit(X, y, sample_weight=np.vectorize(cw.get)(y))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    # "balanced" uses the weighted class counts, as LogisticRegression does
    sw = np.random.default_rng(0).integers(1, 3, y.size).astype(float)
    c = RobustClassifier(**cfg, class_weight="balanced", **TIGHT).fit(X, y, sample_weight=sw)
    d = RobustClassifier(**cfg, class_weight="balanced", **TIGHT).fit(
        np.repeat(X, sw.astype(int), 0), np.repeat(y, sw.astype(int)))
    np.testing.assert_allclose(c.coef_, d.coef_, atol=1e-6)


# --------------------------------------------------------------- label noise
def _split(load, seed):
    X, y = load(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


@pytest.mark.parametrize("load", [load_breast_cancer, load_iris, load_wine, load_digits],
                         ids=lambda f: f.__name__[5:])
def test_default_loss_on_clean_data_matches_logistic_regression(load):
    # the protocol's data sets, 2 seeds: at most 0.5 accuracy points lost
    acc_rc, acc_lr = [], []
    for seed in (0, 1):
        X_tr, X_te, y_tr, y_te = _split(load, seed)
        acc_rc.append(RobustClassifier().fit(X_tr, y_tr).score(X_te, y_te))
        acc_lr.append(LogisticRegression(C=1.0).fit(X_tr, y_tr).score(X_te, y_te))
    assert np.mean(acc_rc) >= np.mean(acc_lr) - 0.005


def test_default_loss_survives_label_noise():
    X_tr, X_te, y_tr, y_te = _split(load_digits, 0)
    y_noisy, flipped = corrupt_labels(y_tr, 0.3, random_state=0)
    rc = RobustClassifier().fit(X_tr, y_noisy)
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(X_tr, y_noisy)
    assert rc.score(X_te, y_te) >= lr.score(X_te, y_te) + 0.03
    # the robustness weights single out the flipped labels
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(flipped, -rc.weights_) > 0.9


# ------------------------------------------------------------------- the API
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_fitted_attributes_and_probabilities(cfg):
    X, _, y, _ = _noisy_blobs(n=120)
    labels = np.array(["ant", "bee", "cat"])[y]
    est = RobustClassifier(**cfg).fit(X, labels)
    assert list(est.classes_) == ["ant", "bee", "cat"]
    assert est.coef_.shape == (3, 3) and est.intercept_.shape == (3,)
    assert est.weights_.shape == (120,)
    assert np.all((est.weights_ >= 0) & (est.weights_ <= 1))
    assert isinstance(est.n_iter_, int) and est.n_iter_ >= 1
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(est.classes_[np.argmax(proba, axis=1)], est.predict(X))
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), proba, atol=1e-12)
    # binary: one row, 1-D decision function, positive class classes_[1]
    yb = np.where(y == 0, "no", "yes")
    est = RobustClassifier(**cfg).fit(X, yb)
    assert est.coef_.shape == (1, 3) and est.intercept_.shape == (1,)
    f = est.decision_function(X)
    assert f.shape == (120,)
    np.testing.assert_array_equal(est.predict(X), np.where(f > 0, "yes", "no"))
    assert np.all(np.diff(est.predict_proba(X)[np.argsort(f), 1]) >= -1e-12)


def test_sparse_input_equals_dense():
    import scipy.sparse as sp

    X, _, y, _ = _noisy_blobs()
    for loss in ("blurry", "tukey", "piecewise_zero"):
        dense = RobustClassifier(loss, **TIGHT).fit(X, y)
        sparse = RobustClassifier(loss, **TIGHT).fit(sp.csr_matrix(X), y)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-7)
        np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)),
                                   dense.predict_proba(X), atol=1e-7)


def test_warm_start_resumes():
    X, _, y, _ = _noisy_blobs()
    est = RobustClassifier(warm_start=True, **TIGHT).fit(X, y)
    coef = est.coef_.copy()
    est.fit(X, y)
    np.testing.assert_allclose(est.coef_, coef, atol=1e-8)
    assert est.n_iter_ <= 3


def test_convergence_warning_not_exception():
    X, _, y, _ = _noisy_blobs()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        RobustClassifier("gce", max_iter=1).fit(X, y)


def test_default_fits_do_not_warn():
    X_tr, _, y_tr, _ = _split(load_wine, 0)
    y_noisy, _ = corrupt_labels(y_tr, 0.3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss in ALL_LOSSES:
            RobustClassifier(loss).fit(X_tr, y_noisy)


# ----------------------------------------------------------------- bad input
def test_single_class_raises():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="class"):
        RobustClassifier().fit(X, np.ones(10))
    y = np.array([0] * 5 + [1] * 5)
    with pytest.raises(ValueError, match="class"):
        RobustClassifier().fit(X, y, sample_weight=np.r_[np.ones(5), np.zeros(5)])


def test_continuous_target_raises():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="Unknown label type"):
        RobustClassifier().fit(X, np.linspace(0, 1, 10))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_raises(bad):
    X, _, y, _ = _noisy_blobs(n=30)
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        RobustClassifier().fit(X, y)


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(loss="focal"), "loss"),
        (dict(loss="gce", q=0.0), "q"),
        (dict(loss="gce", q=1.5), "q"),
        (dict(blurry_gamma=-0.5), "blurry_gamma"),
        (dict(loss="piecewise_zero", cutoff=1.0), "cutoff"),
        (dict(loss="piecewise_zero", cutoff=-0.1), "cutoff"),
        (dict(loss="piecewise_zero", cutoff_mode="median"), "cutoff_mode"),
        (dict(loss="barron", shape=3.0), "shape"),
        (dict(loss="tukey", epsilon=0.0), "epsilon"),
        (dict(alpha=-1.0), "alpha"),
        (dict(solver="sag"), "solver"),
        (dict(max_iter=0), "max_iter"),
        (dict(warmup_iter=-1), "warmup_iter"),
    ],
)
def test_invalid_parameters_name_the_parameter(params, name):
    X, _, y, _ = _noisy_blobs(n=30)
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        RobustClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(loss="piecewise_zero", solver="lbfgs"), "discontinuous"),
        (dict(loss="blurry", back_off=True, solver="irls"), "negative weights"),
        (dict(loss="gce", solver="newton"), "margin losses"),
    ],
)
def test_incompatible_solver_raises(params, match):
    X, _, y, _ = _noisy_blobs(n=30)
    with pytest.raises(ValueError, match=match):
        RobustClassifier(**params).fit(X, y)


def test_inputs_are_not_modified():
    X, _, y, _ = _noisy_blobs(n=60)
    sw = np.random.default_rng(0).uniform(0.5, 2, 60)
    copies = X.copy(), y.copy(), sw.copy()
    est = RobustClassifier(class_weight="balanced").fit(X, y, sample_weight=sw)
    est.predict_proba(X)
    for a, b in zip((X, y, sw), copies, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------ pipelines, search, I/O
def test_pipeline_and_grid_search_over_losses():
    X_tr, X_te, y_tr, y_te = _split(load_iris, 0)
    y_noisy, _ = corrupt_labels(y_tr, 0.2, random_state=0)
    pipe = make_pipeline(StandardScaler(), RobustClassifier())
    grid = [
        {"robustclassifier__loss": ["blurry"], "robustclassifier__blurry_gamma": [0.3, 0.5]},
        {"robustclassifier__loss": ["gce"], "robustclassifier__q": [0.5, 0.7]},
        {"robustclassifier__loss": ["piecewise_zero"],
         "robustclassifier__cutoff_mode": ["relative", "quantile"],
         "robustclassifier__cutoff": [0.2]},
        {"robustclassifier__loss": ["tukey"], "robustclassifier__epsilon": [2.0, 3.0]},
    ]
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X_tr, y_noisy)
    assert len(search.cv_results_["params"]) == 8
    assert search.score(X_te, y_te) > 0.8


def test_pickle_round_trip():
    X, _, y, _ = _noisy_blobs()
    for loss in ("blurry", "tukey"):
        est = RobustClassifier(loss).fit(X, y)
        clone = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(clone.predict_proba(X), est.predict_proba(X))
        assert clone.loss_ == est.loss_


def test_pandas_input_keeps_feature_names():
    import pandas as pd
    X, _, y, _ = _noisy_blobs(n=60)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = RobustClassifier().fit(df, pd.Series(y))
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
    assert est.n_features_in_ == 3
    np.testing.assert_array_equal(est.predict(df), est.predict(df.iloc[::-1])[::-1])
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)
