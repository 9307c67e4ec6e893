"""
===========================================
Prediction intervals from quantile fits
===========================================

``RobustRegressor(loss="quantile", quantile=q)`` fits the ``q``-th
conditional quantile with the pinball loss.  Three fits, at 5%, 50% and 95%,
give a median prediction and a 90% prediction interval.  Unlike a
mean-and-standard-deviation interval, it needs no assumption of Gaussian or
constant-variance errors, and the median line is not pulled by outliers.

The fit is exact linear quantile regression (the linear program that
:class:`sklearn.linear_model.QuantileRegressor` solves with ``alpha=0``),
solved by an interior-point method with an exact finish.
"""

# %%
# Heteroscedastic data with outliers
# ----------------------------------
import matplotlib.pyplot as plt
import numpy as np

from skrobust import RobustRegressor

rng = np.random.default_rng(0)
n = 400
x = rng.uniform(0, 10, n)
noise_sd = 0.5 + 0.3 * x  # the spread grows with x
y = 2.0 + 1.5 * x + noise_sd * rng.standard_normal(n)
y[rng.choice(n, 8, replace=False)] += 25  # 2% gross outliers above the line
X = x[:, None]

x_test = rng.uniform(0, 10, 2000)
y_test = 2.0 + 1.5 * x_test + (0.5 + 0.3 * x_test) * rng.standard_normal(2000)
X_test = x_test[:, None]

# %%
# Three quantile fits
# -------------------
quantiles = [0.05, 0.5, 0.95]
fits = {q: RobustRegressor(loss="quantile", quantile=q).fit(X, y) for q in quantiles}
for q, fit in fits.items():
    print(f"q = {q:4.2f}: intercept {fit.intercept_:6.3f}, slope {fit.coef_[0]:6.3f}")

# %%
# The band widens with ``x`` as the noise does.  On clean test data the
# interval covers close to 90% of the points, although 2% of the training
# points were gross outliers:
lower = fits[0.05].predict(X_test)
upper = fits[0.95].predict(X_test)
coverage = np.mean((y_test >= lower) & (y_test <= upper))
print(f"test coverage of the 90% interval: {coverage:.3f}")

grid = np.linspace(0, 10, 100)[:, None]
fig, ax = plt.subplots(figsize=(7, 5))
ax.scatter(x, y, s=8, color="0.4", label="training data")
ax.fill_between(grid[:, 0], fits[0.05].predict(grid), fits[0.95].predict(grid),
                alpha=0.25, color="tab:blue", label="5%-95% interval")
ax.plot(grid[:, 0], fits[0.5].predict(grid), color="tab:blue", lw=2, label="median")
ax.plot(grid[:, 0], 2.0 + 1.5 * grid[:, 0], "k--", lw=1, label="true mean")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(loc="upper left")
ax.set_title("Quantile regression: median and 90% interval")

# %%
# Why not mean +- 1.645 standard deviations?
# ------------------------------------------
# A least-squares line with a constant-width Gaussian interval is pulled up by
# the outliers, and they inflate its standard deviation: the band covers
# almost everything, and its width cannot follow the growing spread.
# Coverage by range of ``x``:
from sklearn.linear_model import LinearRegression

ols = LinearRegression().fit(X, y)
sd = np.std(y - ols.predict(X))
ols_lo = ols.predict(X_test) - 1.645 * sd
ols_hi = ols.predict(X_test) + 1.645 * sd
for lo_x, hi_x in [(0, 3.3), (3.3, 6.7), (6.7, 10)]:
    part = (x_test >= lo_x) & (x_test < hi_x)
    cov_q = np.mean((y_test[part] >= lower[part]) & (y_test[part] <= upper[part]))
    cov_o = np.mean((y_test[part] >= ols_lo[part]) & (y_test[part] <= ols_hi[part]))
    print(f"x in [{lo_x:4.1f}, {hi_x:4.1f}): quantile {cov_q:.2f}, OLS +- 1.645 sd {cov_o:.2f}")

# %%
# Agreement with scikit-learn
# ---------------------------
# Without a penalty the problem is the linear program of
# :class:`~sklearn.linear_model.QuantileRegressor`; both find the same
# optimum (up to ties, which the pinball loss can have).
from sklearn.linear_model import QuantileRegressor

sk = QuantileRegressor(quantile=0.95, alpha=0.0).fit(X, y)
print("skrobust:", fits[0.95].intercept_, fits[0.95].coef_)
print("sklearn: ", sk.intercept_, sk.coef_)

# %%
# Notes
# -----
# - A ``q``-quantile fit is robust to outliers on one side only while they
#   are fewer than a fraction ``1 - q`` of the data (``q`` for outliers
#   below): with 5% of the points far above the line, the 95% line would run
#   through them.
# - Separate fits can cross for extreme ``x``; sort the predictions if you
#   need ordered quantiles everywhere.
# - ``scale_`` of a quantile fit is the weighted mean pinball loss of the
#   residuals, and ``weights_`` are all 1: the pinball loss bounds every
#   influence without down-weighting anyone.
# - ``alpha`` adds an L2 penalty on the coefficients (not the L1 penalty of
#   ``QuantileRegressor``).
print("scale_ of the median fit:", fits[0.5].scale_)
plt.show()
