"""numba's disk cache: a second process loads every kernel of a fit and compiles nothing.

Each case runs fresh Python processes with ``NUMBA_CACHE_DIR`` in a temporary
directory (an empty cache), and counts numba's compilations in the child
with a listener on numba's ``numba:compile`` event (one event per kernel and
signature, nested ones included).  No timing: what a fresh process pays is
measured by ``benchmarks/bench_first_fit.py``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys, warnings
import numpy as np
from numba.core import event
from numba.core.dispatcher import Dispatcher

compiled = []

class Listener(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        compiled.append(getattr(ev.data["dispatcher"], "__qualname__", "?"))

event.register("numba:compile", Listener())
from skrobust import RobustRegressor

rng = np.random.default_rng(0)
n = int(sys.argv[2])
X = rng.normal(size=(n, 5))
y = X @ np.arange(1.0, 6.0) + rng.normal(size=n)
y[: n // 10] += 20.0
weights = rng.uniform(0.5, 2.0, size=n) if sys.argv[3] == "weighted" else None
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    RobustRegressor(loss=sys.argv[1], random_state=0).fit(X, y, sample_weight=weights)
hits = sum(sum(v.stats.cache_hits.values()) for name, m in list(sys.modules.items())
           if name.startswith("skrobust") and m is not None
           for v in vars(m).values() if isinstance(v, Dispatcher))
print(json.dumps({"compiled": compiled, "cache_hits": hits}))
"""


def _fit_in_fresh_process(cache, loss, n, weights="unweighted"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _CHILD, loss, str(n), weights], capture_output=True,
                         text=True, timeout=900, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("n", [1000, 5000])
@pytest.mark.parametrize("loss", ["huber", "tukey"])
def test_a_warm_cache_compiles_nothing(tmp_path, loss, n):
    # 5000 rows run the fused loops too (skrobust.losses._fused.FUSED_MIN_ROWS), and for
    # the MM fit ("tukey") the large-n nested subsampling of the S-start
    cold = _fit_in_fresh_process(tmp_path, loss, n)
    assert cold["compiled"] and cold["cache_hits"] == 0
    warm = _fit_in_fresh_process(tmp_path, loss, n)
    assert warm["compiled"] == []
    assert warm["cache_hits"] > 0


def test_a_small_huber_fit_compiles_only_the_loss_kernel(tmp_path):
    # short passes run NumPy around the loss's one pointwise kernel: no fused kernel, no
    # column-magnitude kernel, and one kernel (not four) for rho, psi, weight and psi'
    cold = _fit_in_fresh_process(tmp_path, "huber", 1000)
    own = [name for name in cold["compiled"] if "<locals>" not in name]  # not numba's own
    assert own == ["huber_pointwise"]


@pytest.mark.parametrize("weights", ["unweighted", "weighted"])
def test_a_small_mm_fit_compiles_only_the_tukey_kernels(tmp_path, weights):
    # the S-start's M-scales, I-steps, candidate selection and refinement are Python loops
    # around the chi sum and the weights of skrobust.losses.tukey, its 500 small elemental
    # subsets are built in NumPy (and the weighted MADs of the candidates too); the M-step
    # runs NumPy around the loss's pointwise kernel.  No helper kernel, no second
    # signature, none of numba's own allocation routines.
    cold = _fit_in_fresh_process(tmp_path, "tukey", 1000, weights)
    assert sorted(cold["compiled"]) == ["tukey_chi_sum_slope", "tukey_pointwise",
                                        "tukey_scaled_weights"]
