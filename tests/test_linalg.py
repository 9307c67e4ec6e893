"""The shared linear algebra of :mod:`skrobust._linalg`."""

import numpy as np

from skrobust._linalg import pcg


# ------------------------------------------------------------------------------ PCG
def test_pcg_solves_several_systems_at_once():
    rng = np.random.default_rng(1)
    G = rng.normal(size=(40, 40))
    A = G @ G.T + 0.5 * np.eye(40)
    B = rng.normal(size=(3, 40))
    X, n_iter = pcg(lambda V: V @ A, lambda R: R / np.diag(A), B, rtol=1e-13, max_iter=400)
    np.testing.assert_allclose(X, np.linalg.solve(A, B.T).T, rtol=1e-8, atol=1e-10)
    assert 0 < n_iter <= 400
    # from the solution itself: no iteration at all
    again, n0 = pcg(lambda V: V @ A, lambda R: R / np.diag(A), B, X0=X, rtol=1e-6)
    assert n0 == 0 and np.array_equal(again, X)


def test_pcg_reports_failure():
    A = np.diag([1.0, -1.0, 2.0])  # indefinite
    X, _ = pcg(lambda V: V @ A, lambda R: R, np.ones((1, 3)))
    assert X is None
    rng = np.random.default_rng(2)
    G = rng.normal(size=(50, 50))
    A = G @ G.T + 1e-6 * np.eye(50)
    X, n_iter = pcg(lambda V: V @ A, lambda R: R, np.ones((1, 50)), max_iter=2)
    assert X is None and n_iter == 2
