"""
=====================================================
Residual scales: what ``scale_`` estimates
=====================================================

Every robust M-estimator measures residuals in units of a scale, so its
tuning constant ``epsilon`` means "``epsilon`` scales".  The scales of
:class:`skrobust.RobustRegressor` (``scale="mad"``, ``"proposal2"``, the S-scale
of the MM fit) are *consistent* at the normal model: on Gaussian errors with
standard deviation ``sigma`` they estimate ``sigma``.

scikit-learn's :class:`~sklearn.linear_model.HuberRegressor` (and
``RobustRegressor(scale="joint")``, which reproduces it) estimates a scale
jointly with the coefficients (Owen's concomitant scale).  Its stationarity
condition, ``mean(min((r / scale)**2, epsilon**2)) = 1``, gives
``scale_ ~ 0.68 sigma`` for ``epsilon = 1.35``: it is not the error standard
deviation, and ``outliers_`` (which keeps HuberRegressor's meaning,
``|r| > epsilon * scale_``, in this configuration) then flags about 36% of
perfectly Gaussian data.  Every other configuration flags
``|r| > 2.5 sigma_hat`` with a consistent ``sigma_hat``: about 1.2%.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import HuberRegressor

from skrobust import RobustRegressor

rng = np.random.default_rng(0)
n, sigma = 5000, 2.0
X = rng.standard_normal((n, 3))
y = X @ [1.0, 2.0, 3.0] + sigma * rng.standard_normal(n)

models = {
    "HuberRegressor()": HuberRegressor(),
    'RobustRegressor(scale="joint", epsilon=1.35)': RobustRegressor(scale="joint",
                                                                    epsilon=1.35),
    'RobustRegressor(scale="mad")': RobustRegressor(scale="mad"),
    'RobustRegressor(scale="proposal2")': RobustRegressor(scale="proposal2"),
    'RobustRegressor(loss="tukey")  (S-scale)': RobustRegressor(loss="tukey", random_state=0),
}
ratios, flagged = [], []
for name, model in models.items():
    model.fit(X, y)
    ratios.append(model.scale_ / sigma)
    flagged.append(model.outliers_.mean())
    print(f"{name:44s} scale_ / sigma = {ratios[-1]:.3f}, flagged {flagged[-1]:6.1%}")

# %%
# The joint scale is about 0.68 sigma; the others are close to 1.  The
# consistent fits flag ``P(|Z| > 2.5) = 1.2%`` of Gaussian residuals whatever
# the loss; the joint-scale fits flag HuberRegressor's
# ``|r| > 1.35 * 0.68 sigma``, about 36%.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
labels = [name.replace("RobustRegressor", "RR") for name in models]
axes[0].barh(labels, ratios, color="tab:blue")
axes[0].axvline(1.0, color="k", ls="--", lw=1)
axes[0].set_xlabel("scale_ / true sigma")
axes[1].barh(labels, np.array(flagged) * 100, color="tab:orange")
axes[1].set_xlabel("% of clean Gaussian rows flagged in outliers_")
axes[1].set_yticks([])
axes[0].invert_yaxis()
axes[1].invert_yaxis()

# %%
# What to do with it
# ------------------
# - To estimate the error standard deviation, or to flag outliers at a
#   meaningful threshold, use a consistent scale (the default ``scale="auto"``).
# - To reproduce a HuberRegressor fit exactly (same coefficients, scale and
#   ``outliers_``) use ``RobustRegressor(loss="huber", scale="joint",
#   epsilon=1.35, alpha=1e-4)``.
# - The efficiency of the joint-scale fit at the normal model is about 89%,
#   not the 95% that ``epsilon = 1.35`` gives with a consistent scale, because
#   the effective threshold is ``1.35 * 0.68 = 0.92`` standard deviations.
same = RobustRegressor(loss="huber", scale="joint", epsilon=1.35, alpha=1e-4).fit(X, y)
huber = models["HuberRegressor()"]
print("max |coef difference| with HuberRegressor:", np.abs(same.coef_ - huber.coef_).max())
print("same outliers_:", bool(np.array_equal(same.outliers_, huber.outliers_)))
plt.show()
