"""
==============================
Barron's loss family by shape
==============================

Barron's general loss ``rho(u; shape, c)`` is one formula with a shape
parameter that moves continuously from least squares (shape 2) through
pseudo-Huber (1), Cauchy (0) and Geman-McClure (-2) to Welsch (-inf).  This
example draws the loss ``rho``, its derivative ``psi`` (the influence
function) and the IRLS weight ``psi(u) / u`` for several shapes, all with
``c = 1``, using :func:`skrobust.losses.get_loss`.

With ``z = (u / c)**2`` and ``b = |shape - 2|``:

.. math::

    \\rho(u) = \\frac{b}{\\text{shape}}
    \\left[\\left(\\frac{z}{b} + 1\\right)^{\\text{shape}/2} - 1\\right]

and the special cases are the limits of this formula.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skrobust.losses import get_loss

shapes = [2.0, 1.0, 0.5, 0.0, -2.0, -np.inf]
names = {2.0: "2 (L2)", 1.0: "1 (pseudo-Huber)", 0.0: "0 (Cauchy)",
         -2.0: "-2 (Geman-McClure)", -np.inf: "-inf (Welsch)"}
u = np.linspace(-6, 6, 601)

fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained")
colors = plt.cm.viridis(np.linspace(0, 0.9, len(shapes)))
for shape, color in zip(shapes, colors, strict=True):
    loss = get_loss("barron", shape=shape, c=1.0)
    label = names.get(shape, str(shape))
    axes[0].plot(u, loss.rho(u), color=color, label=label)
    axes[1].plot(u, loss.psi(u), color=color, label=label)
    axes[2].plot(u, loss.weight(u), color=color, label=label)
axes[0].set_ylim(0, 5)
axes[1].set_ylim(-2.5, 2.5)
axes[2].set_ylim(0, 1.05)
for ax, title in zip(axes, ["rho(u)", "psi(u) = rho'(u)", "weight(u) = psi(u) / u"],
                     strict=True):
    ax.set_title(title)
    ax.set_xlabel("standardised residual u")
    ax.axhline(0, color="k", lw=0.5)
axes[0].legend(title="shape", fontsize="small")

# %%
# Reading the plots:
#
# - shape 2 is least squares: ``psi`` is unbounded, every weight is 1;
# - shape 1 is the smallest convex member: ``psi`` is bounded (like Huber's),
#   so a gross outlier has a bounded influence but is never ignored;
# - below 1 the losses are *redescending*: ``psi`` returns to 0 and the weight
#   of a gross outlier vanishes; they need a robust start (see
#   :ref:`mm_breakdown`);
# - below 0 ``rho`` is bounded (``max_rho`` of the loss object), so a gross
#   outlier costs a fixed amount however far it is.

for shape in shapes:
    loss = get_loss("barron", shape=shape)
    print(f"shape {shape:>5}: convex={loss.convex!s:5}  redescending="
          f"{loss.redescending!s:5}  max_rho={loss.max_rho:.3g}")

# %%
# Tuning constants
# ----------------
# In :class:`skrobust.RobustRegressor` the width ``c`` is measured in units of
# the residual scale.  With ``epsilon=None`` it is set so that the estimator
# has 95% asymptotic efficiency at Gaussian errors, which depends on the
# shape.  :func:`skrobust.losses.efficiency_constant` computes it:
from skrobust.losses import efficiency_constant

grid = np.array([1.0, 0.5, 0.0, -1.0, -2.0, -5.0, -np.inf])
constants = [efficiency_constant("barron", 0.95, shape=s) for s in grid]
for s, c in zip(grid, constants, strict=True):
    print(f"shape {s:>5}: c = {c:.4f}")

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
finite = np.isfinite(grid)
ax.plot(grid[finite], np.array(constants)[finite], "o-")
ax.axhline(constants[-1], ls=":", color="0.5", label="shape -inf (Welsch)")
ax.set_xlabel("shape")
ax.set_ylabel("c for 95% efficiency")
ax.legend()

# %%
# The same family as a fitted regression
# --------------------------------------
# Any shape can be used by the estimator; ``loss="cauchy"``,
# ``"geman_mcclure"``, ``"welsch"`` and ``"pseudo_huber"`` are the named
# members.  Redescending shapes start from the S-estimate (MM-estimation).
# The data have 20% outliers, all shifted upwards; the true intercept is 0.
# The smaller the shape, the less the outliers bias the intercept.
from skrobust import RobustRegressor
from skrobust.datasets import make_contaminated_regression

X, y, coef, outliers = make_contaminated_regression(
    n_samples=300, n_features=3, contamination=0.2, outlier_shift=8.0, random_state=0)
for shape in [2.0, 1.0, 0.0, -2.0]:
    reg = RobustRegressor(loss="barron", shape=shape, random_state=0).fit(X, y)
    err = np.abs(reg.coef_ - coef).max()
    print(f"shape {shape:>4}: max |coef error| = {err:.3f}, intercept = {reg.intercept_:.3f}")
plt.show()
