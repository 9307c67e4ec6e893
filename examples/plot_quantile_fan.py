"""
==================================================
A fan of quantile lines, with and without crossing
==================================================

``RobustRegressor(loss="quantile", quantile=levels)`` fits many conditional
quantiles in one call: ``predict`` returns one column per level.  Fitted
independently, the lines of neighbouring levels cross on small samples, which
makes no sense (a 60% quantile below the 55% one).  ``noncrossing=True`` fits
the levels jointly so that they are ordered at every training row, for a
slightly larger summed pinball loss.  See :ref:`quantile`.
"""

# %%
# Heteroscedastic data
# --------------------
# The spread of ``y`` grows with ``x``; 120 points for 19 levels is few, so the
# independent fits cross.
import matplotlib.pyplot as plt
import numpy as np

from skrobust import RobustRegressor

rng = np.random.default_rng(0)
n = 120
x = rng.uniform(0, 10, n)
y = 1.0 + 0.8 * x + (0.3 + 0.35 * x) * rng.standard_normal(n)
X = x[:, None]
levels = np.round(np.arange(0.05, 0.96, 0.05), 2)


def crossing_rows(pred):
    """The number of rows where some level's fitted quantile is below the previous level's."""
    return int(np.sum(np.any(np.diff(pred, axis=1) < -1e-9, axis=1)))


def pinball(y, pred, levels):
    r = y[:, None] - pred
    return float(np.sum(r * (levels - (r < 0))))


# %%
# Independent and jointly ordered fits
# ------------------------------------
free = RobustRegressor(loss="quantile", quantile=levels).fit(X, y)
ordered = RobustRegressor(loss="quantile", quantile=levels, noncrossing=True).fit(X, y)
print("coef_ shape:", free.coef_.shape, " predict shape:", free.predict(X).shape)
for name, fit in [("independent", free), ("noncrossing", ordered)]:
    pred = fit.predict(X)
    print(f"{name:>12}: {crossing_rows(pred):3d} of {n} training rows with crossing lines, "
          f"summed pinball loss {pinball(y, pred, levels):.2f}")

# %%
# The fans
# --------
# Crossings are marked in red: a line that runs below its lower neighbour.
grid = np.linspace(0, 10, 200)[:, None]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
for ax, fit, title in [(axes[0], free, "independent fits"),
                       (axes[1], ordered, "noncrossing=True")]:
    pred = fit.predict(grid)
    colors = plt.cm.viridis(np.linspace(0, 1, levels.size))
    ax.scatter(x, y, s=8, color="0.6")
    for j in range(levels.size):
        ax.plot(grid[:, 0], pred[:, j], color=colors[j], lw=1)
    crossed = np.any(np.diff(pred, axis=1) < -1e-9, axis=1)
    ax.plot(grid[crossed, 0], np.full(crossed.sum(), ax.get_ylim()[0]), "|", color="red",
            ms=10, label="lines cross here")
    ax.set_title(f"{title}: {crossing_rows(fit.predict(X))} training rows cross")
    ax.set_xlabel("x")
axes[0].set_ylabel("y")
axes[0].legend(loc="upper left")
fig.tight_layout()
plt.show()

# %%
# Standard errors
# ---------------
# ``summary`` gives one coefficient table per level, with quantreg's
# standard errors ("nid" by default; "iid" and "ker" on request).
for table in free.summary(se="nid")[::9]:  # the 5%, 50% and 95% levels
    print(table, end="\n\n")
