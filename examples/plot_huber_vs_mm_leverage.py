"""
=====================================================
HuberRegressor versus MM-estimation: leverage points
=====================================================

A Huber M-estimator bounds the influence of a large *residual*, but not of a
point far out in the *feature* space.  Such a bad leverage point pulls the fit
towards itself until its residual is small, and then the Huber loss has
nothing left to down-weight.  An MM-estimator
(``RobustRegressor(loss="tukey")``, R's ``robustbase::lmrob``) starts from an
S-estimate with a 50% breakdown point and survives them.

The classic demonstration is the Hertzsprung-Russell diagram of the star
cluster CYG OB1: 43 main-sequence stars and four red giants (observations 11,
20, 30 and 34) that sit at low temperature and high light intensity.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import HuberRegressor, LinearRegression

from skrobust import RobustRegressor
from skrobust.datasets import load_starscyg

stars = load_starscyg()
X, y = stars.data, stars.target
giants = np.isin(stars.row_names, [11, 20, 30, 34])
print(stars.feature_names, stars.target_name, X.shape)

# %%
# Four fits
# ---------
# Least squares, scikit-learn's ``HuberRegressor``, a Huber M-estimate with a
# MAD scale (``MASS::rlm``) and the MM-estimate.  ``random_state`` seeds the
# random elemental subsets of the S-estimator.
models = {
    "least squares": LinearRegression(),
    "HuberRegressor": HuberRegressor(),
    'RobustRegressor(loss="huber")': RobustRegressor(loss="huber"),
    'RobustRegressor(loss="tukey")  (MM)': RobustRegressor(loss="tukey", random_state=0),
}
for name, model in models.items():
    model.fit(X, y)
    print(f"{name:38s} slope {model.coef_[0]:7.3f}  intercept {model.intercept_:7.3f}")

# %%
# Only the MM fit follows the main sequence; the three others are tilted by
# the giants until the slope turns negative.  R's ``lmrob`` gives the
# coefficients (-4.969, 2.253) on these data.

fig, ax = plt.subplots(figsize=(7, 5))
ax.scatter(X[~giants, 0], y[~giants], color="0.3", s=20, label="main sequence")
ax.scatter(X[giants, 0], y[giants], color="tab:red", s=40, marker="*", label="giants")
grid = np.linspace(3.4, 4.7, 100)[:, None]
styles = ["--", "-.", ":", "-"]
for (name, model), ls in zip(models.items(), styles, strict=True):
    ax.plot(grid[:, 0], model.predict(grid), ls=ls, lw=2, label=name)
ax.set_xlim(3.35, 4.75)
ax.set_ylim(3.7, 7.0)
ax.set_xlabel("log surface temperature")
ax.set_ylabel("log light intensity")
ax.invert_xaxis()  # astronomers plot temperature decreasing to the right
ax.legend(loc="upper center", fontsize="small", ncol=2)
ax.set_title("starsCYG: four fits")

# %%
# Robustness weights
# ------------------
# ``weights_`` is each training sample's robustness weight in [0, 1]: the
# IRLS weight at the solution, divided by its maximum.  The MM fit gives the
# four giants weight 0 (rejected) and every main-sequence star a weight close
# to 1; the Huber fit rejects nobody, because its residuals at the giants are
# small.
mm = models['RobustRegressor(loss="tukey")  (MM)']
huber = models['RobustRegressor(loss="huber")']
fig, ax = plt.subplots(figsize=(7, 3))
rows = stars.row_names
ax.vlines(rows - 0.15, 0, huber.weights_, color="tab:green", lw=2, label="Huber (MAD scale)")
ax.vlines(rows + 0.15, 0, mm.weights_, color="tab:blue", lw=2, label="MM")
ax.set_xlabel("observation")
ax.set_ylabel("weights_")
ax.legend(loc="lower right", fontsize="small")
print("rejected by MM:", rows[mm.weights_ < 0.01])
print("flagged as outliers by MM (|r| > 2.5 scale_):", rows[mm.outliers_])

# %%
# The S-estimate that started the MM fit is kept for inspection, with its
# scale, which the MM step holds fixed:
print("S-estimate:", mm.s_intercept_, mm.s_coef_, "scale", mm.s_scale_)
print("MM:        ", mm.intercept_, mm.coef_, "scale", mm.scale_)

# %%
# Why the start matters
# ---------------------
# Tukey's loss is not convex.  Started from least squares it stays in the
# local minimum next to the least-squares fit, which is why ``init="auto"``
# uses the S-estimate for every redescending loss:
from_ols = RobustRegressor(loss="tukey", init="ols").fit(X, y)
print(f"Tukey from least squares: slope {from_ols.coef_[0]:.3f}")
print(f"Tukey from the S-estimate: slope {mm.coef_[0]:.3f}")
plt.show()
