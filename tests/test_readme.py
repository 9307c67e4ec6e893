"""The README's Python blocks run as written (a newcomer copies them first)."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, capsys):
    namespace = {"__name__": f"readme_block_{index}"}
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec"), namespace)
    assert capsys.readouterr().out.strip(), "each README block prints what it shows"


def test_quick_start_claims_hold():
    # The quick start says the parity configuration equals HuberRegressor to 1e-4.
    namespace = {}
    exec(compile(BLOCKS[0], "README.md python block 0", "exec"), namespace)
    huber, same = namespace["huber"], namespace["same"]
    np.testing.assert_allclose(same.coef_, huber.coef_, atol=1e-4)
    np.testing.assert_allclose(same.intercept_, huber.intercept_, atol=1e-4)
    np.testing.assert_allclose(same.scale_, huber.scale_, rtol=1e-4)
    np.testing.assert_array_equal(same.outliers_, huber.outliers_)


def test_label_noise_block_finds_flipped_labels():
    namespace = {}
    block = next(b for b in BLOCKS if "find_label_issues" in b)
    exec(compile(block, "README.md label-noise block", "exec"), namespace)
    issues, flipped = namespace["issues"], namespace["flipped"]
    precision = (issues & flipped).sum() / issues.sum()
    assert issues.sum() > 0 and precision > 0.6


def test_tabular_block_claims_hold():
    namespace = {}
    block = next(b for b in BLOCKS if "make_column_transformer" in b)
    exec(compile(block, "README.md tabular block", "exec"), namespace)
    mm, search = namespace["mm"], namespace["search"]
    assert mm.aliased_.sum() == 2  # drop=None: each full set of one-hot columns has one alias
    assert mm.outliers_[:200].all() and mm.outliers_[200:].mean() < 0.03
    assert search.best_params_ == {"robustregressor__loss": "tukey"}


def test_quantile_block_claims_hold():
    namespace = {}
    block = next(b for b in BLOCKS if "noncrossing=True" in b)
    exec(compile(block, "README.md quantile block", "exec"), namespace)
    qr, fan = namespace["qr"], namespace["fan"]
    assert fan.shape == (namespace["X"].shape[0], 5)
    assert (np.diff(fan, axis=1) >= 0).all()
    # quantreg: rq(foodexp ~ income, tau = 0.5, data = engel) gives income 0.5601806
    assert abs(qr.coef_[2, 0] - 0.5601806) < 1e-6
