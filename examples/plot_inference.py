"""
====================================================
Standard errors, robust R² and the outlier map
====================================================

A robust fit is only half a report: a paper also needs standard errors,
p values, an R² and a look at which observations the fit set aside.
``RobustRegressor.summary()`` prints the table of R's ``summary(lmrob(...))``
and :class:`~skrobust.inspection.OutlierMapDisplay` draws the regression
outlier map of Rousseeuw & van Zomeren (1990).

The data are the artificial set of Hawkins, Bradu & Kass (1984): 75 rows,
three features, ten bad leverage points (rows 1-10) and four good ones
(rows 11-14) hidden among them.
"""

# %%
# The MM fit and its summary
# --------------------------
# The default covariance of an MM fit is robustbase's ``.vcov.avar1``, so the
# standard errors, the robust R² and the weight summary below are those lmrob
# prints (R's numbers: standard errors 0.11674, 0.07329, 0.02956, 0.03195 and
# R² 0.03976).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

from skrobust import RobustRegressor
from skrobust.datasets import load_hbk
from skrobust.inspection import OutlierMapDisplay, robust_distances

X, y = load_hbk(return_X_y=True, as_frame=True)
mm = RobustRegressor(loss="tukey", random_state=0).fit(X, y)
print(mm.summary())

# %%
# Least squares for comparison
# ----------------------------
# A Huber loss with an enormous tuning constant *is* least squares, and its
# ``"H1"`` covariance is then the classical ``s² (X'X)⁻¹``: the same
# ``summary`` gives the table ``summary(lm(...))`` would print.  Pulled by the
# leverage points, least squares finds two "significant" slopes (X2, X3) and
# an R² of 0.60; the MM fit finds no slope at all, as the data were built.
ols = RobustRegressor(loss="huber", epsilon=1e9).fit(X, y)
ols_table = ols.summary(kind="H1")
print(ols_table.to_frame().round(4))
print(f"OLS R2 = {ols_table.r2:.3f};  MM robust R2 = {mm.summary().r2:.4f}")

# %%
# The outlier maps
# ----------------
# Standardised residuals against the robust (MCD) distances of the rows of X.
# The MM fit puts rows 1-10 among the bad leverage points (large distance,
# large residual) and keeps rows 11-14 as good leverage points (the labels
# are the data frame's index, R's 1-based row names).  Least squares, pulled
# towards the bad leverage points, gives rows 1-9 small residuals, so they
# pass for good leverage points (masking), while the good leverage points 11
# and 12 get large residuals and look bad (swamping).
rd = robust_distances(X, random_state=0)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True)
OutlierMapDisplay.from_estimator(mm, X, y, random_state=0, ax=axes[0])
axes[0].set_title("MM-estimate (loss='tukey')")
lsq = LinearRegression().fit(X, y)
resid = y - lsq.predict(X)
sigma = np.sqrt(np.sum(resid**2) / (len(y) - X.shape[1] - 1))
viz = OutlierMapDisplay.from_predictions(y, lsq.predict(X), scale=sigma, robust_distances=rd,
                                         n_features=X.shape[1], ax=axes[1])
axes[1].set_title("least squares")
fig.tight_layout()
plt.show()

# %%
# Intervals
# ---------
# ``predict_interval`` gives R's ``predict.lmrob(interval=...)``: the fitted
# mean's interval (``kind="confidence"``) or a new observation's
# (``kind="prediction"``, which adds the residual scale).
print(mm.predict_interval(X.iloc[[14, 40]], kind="confidence").round(3))
print(mm.predict_interval(X.iloc[[14, 40]], kind="prediction").round(3))
