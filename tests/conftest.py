"""Shared fixtures: the classic data sets live in ../shared/data beside the repository."""

from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.fail(f"reference data not found at {SHARED_DATA} (put ../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    # The test data are small: on 2 cores, multi-threaded BLAS on tiny matrices only adds
    # contention (a 1e5 x 10 matrix-vector product took 15 ms with 2 threads, 0.3 ms with 1).
    with threadpool_limits(1):
        yield
