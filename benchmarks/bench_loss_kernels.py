"""Time of the loss kernels: one evaluation of rho, psi, weight, psi_deriv on 1e6 residuals.

Every regression loss of the registry and every probability loss (on log p)
is evaluated on the same 1e6 standard normal residuals (probability losses:
on ``-|u|``, a log-probability); the best of 20 repeats is printed in
milliseconds.  Used to check that the NaN handling of the kernels (NaN in,
NaN out) costs nothing measurable.

Run ``python benchmarks/bench_loss_kernels.py`` (about 10 s).
"""

from __future__ import annotations

import time

import numpy as np

from skrobust.losses import available_losses, get_loss
from skrobust.losses.classification import (
    available_classification_losses,
    get_classification_loss,
)


def best_ms(fn, u, repeats=20):
    fn(u[:10])  # compile / load from cache
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(u)
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def main():
    u = np.random.default_rng(0).standard_normal(1_000_000)
    print(f"{'loss':<28}{'rho':>8}{'psi':>8}{'weight':>8}{'psi_der':>8}  (ms per 1e6)")
    for name in available_losses():
        loss = get_loss(name)
        times = [best_ms(getattr(loss, m), u) for m in ("rho", "psi", "weight", "psi_deriv")]
        print(f"{name:<28}" + "".join(f"{t:8.2f}" for t in times))
    lp = -np.abs(u)
    for name in available_classification_losses("probability"):
        loss = get_classification_loss(name)
        times = [best_ms(loss.rho_log, lp), best_ms(loss.weight_log, lp)]
        print(f"{'p:' + name:<28}{times[0]:8.2f}{'':8}{times[1]:8.2f}")


if __name__ == "__main__":
    main()
