"""Shared fixtures. The classic data sets come from the package's own loaders
(``skrobust.datasets``): a clone needs nothing beside it."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    # The test data are small: on 2 cores, multi-threaded BLAS on tiny matrices only adds
    # contention (a 1e5 x 10 matrix-vector product took 15 ms with 2 threads, 0.3 ms with 1).
    with threadpool_limits(1):
        yield
