"""
=====================================
Robust kernel regression
=====================================

With ``kernel=...`` :class:`skrobust.RobustRegressor` fits a non-linear
function ``f(x) = sum_j dual_coef_[j] k(x_j, x) + intercept_`` in the
reproducing kernel Hilbert space of the kernel, with the same robust losses,
scales and starts as the linear model.  Kernel ridge regression
(:class:`sklearn.kernel_ridge.KernelRidge`) is the least-squares special case,
and it follows every outlier.

Two forms:

- ``n_components=None``: the exact kernel model, one dual coefficient per
  training sample (cost grows like ``n**3``; fine up to a few thousand rows);
- ``n_components=m``: a Nystroem approximation with ``m`` landmark points,
  which is a linear robust fit on ``m`` features (cost ``n m**2``).
"""

# %%
# A sine wave with outliers
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.kernel_ridge import KernelRidge

from skrobust import RobustRegressor

rng = np.random.default_rng(0)
n = 200
x = np.sort(rng.uniform(0, 10, n))
y = np.sin(x) + 0.2 * rng.standard_normal(n)
bad = rng.choice(n, 20, replace=False)  # 10% outliers
y[bad] += rng.choice([-1.0, 1.0], 20) * rng.uniform(2, 4, 20)
X = x[:, None]
grid = np.linspace(0, 10, 500)[:, None]

# %%
# Least squares against robust losses
# -----------------------------------
# The same kernel (RBF with ``gamma=0.5``) and the same small ridge penalty
# ``alpha`` for all fits.  The Huber fit is the exact kernel model; the Tukey
# fit uses 50 Nystroem features, on which its MM start (an S-estimate) is
# cheap.
gamma, alpha = 0.5, 1e-2
fits = {
    "KernelRidge (least squares)": KernelRidge(kernel="rbf", gamma=gamma, alpha=alpha),
    'RobustRegressor(loss="huber", kernel="rbf")': RobustRegressor(
        loss="huber", kernel="rbf", gamma=gamma, alpha=alpha),
    'RobustRegressor(loss="tukey", kernel="rbf", n_components=50)': RobustRegressor(
        loss="tukey", kernel="rbf", gamma=gamma, alpha=alpha, n_components=50,
        random_state=0),
}
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(x, y, s=8, color="0.5", label="data")
ax.plot(grid[:, 0], np.sin(grid[:, 0]), "k--", lw=1, label="sin(x)")
for name, model in fits.items():
    model.fit(X, y)
    err = np.sqrt(np.mean((model.predict(grid) - np.sin(grid[:, 0])) ** 2))
    print(f"{name:60s} RMS error against sin(x): {err:.3f}")
    ax.plot(grid[:, 0], model.predict(grid), lw=2, label=name)
ax.set_ylim(-3, 3)
ax.legend(fontsize="small", loc="lower left")

# %%
# The exact model has one dual coefficient per training sample; the Nystroem
# model has one coefficient per feature and keeps its feature map in
# ``nystroem_``.  Both report the robustness weight of every training sample:
huber = fits['RobustRegressor(loss="huber", kernel="rbf")']
tukey = fits['RobustRegressor(loss="tukey", kernel="rbf", n_components=50)']
print("exact:    dual_coef_", huber.dual_coef_.shape)
print("Nystroem: coef_", tukey.coef_.shape)
rejected = tukey.weights_ < 0.01
print(f"Tukey rejected {rejected.sum()} samples, "
      f"{np.isin(np.flatnonzero(rejected), bad).sum()} of them among the {len(bad)} outliers")

# %%
# Nystroem approximation
# ----------------------
# ``n_components=m`` replaces the ``n x n`` kernel matrix by ``m`` landmark
# features; the fit is then the linear robust fit on those features.  A few
# dozen components are plenty for a smooth one-dimensional function.
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.scatter(x, y, s=8, color="0.5")
for m in [10, 30, None]:
    model = RobustRegressor(loss="huber", kernel="rbf", gamma=gamma, alpha=alpha,
                            n_components=m, random_state=0).fit(X, y)
    label = "exact" if m is None else f"n_components={m}"
    ax.plot(grid[:, 0], model.predict(grid), lw=2, label=label)
ax.set_ylim(-3, 3)
ax.legend(fontsize="small", loc="lower left")
ax.set_title("Huber kernel regression: exact and Nystroem")
plt.show()
