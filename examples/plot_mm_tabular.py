"""
===============================================================
MM-estimation on a mixed table: categoricals, numbers, outliers
===============================================================

Most regression tables mix categorical and numeric columns, and the
categorical ones reach the model as one-hot columns.  This example fits such
a table -- a 10-level categorical with rare levels, a 3-level one, two numeric
columns, 10% gross errors in ``y`` and a few bad leverage points -- through the
usual scikit-learn preprocessing (:class:`~sklearn.compose.ColumnTransformer`
with :class:`~sklearn.preprocessing.OneHotEncoder` and
:class:`~sklearn.preprocessing.StandardScaler`, in a
:class:`~sklearn.pipeline.Pipeline`), and compares the MM-estimator
(``RobustRegressor(loss="tukey")``, R's ``lmrob``) with
:class:`~sklearn.linear_model.HuberRegressor` and least squares.

The one-hot columns matter for the MM-estimator's S-start: a random elemental
subset that misses a rare level is singular.  Its subsets are therefore built
row by row, skipping rows that do not add to the rank (nonsingular
subsampling), and one-hot columns that sum to the intercept
(``OneHotEncoder()`` without ``drop``) are found and set aside as aliased.
The M-S start (``init="ms"``) is an alternative that fits the indicator
columns by least absolute deviations and draws subsets of the numeric columns
only.  See :ref:`mm_breakdown`.
"""

# %%
# A table with categoricals, numbers and outliers
# -----------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import HuberRegressor, LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skrobust import RobustRegressor

rng = np.random.default_rng(0)
n = 2000
cities = [f"city_{k}" for k in range(10)]
city_share = [0.30, 0.20, 0.10, 0.10, 0.10, 0.05, 0.05, 0.04, 0.03, 0.03]
df = pd.DataFrame({
    "city": rng.choice(cities, size=n, p=city_share),
    "kind": rng.choice(["flat", "house", "loft"], size=n),
    "area": rng.normal(80.0, 20.0, size=n),
    "age": rng.uniform(0.0, 50.0, size=n),
})
city_effect = dict(zip(cities, rng.normal(0.0, 3.0, size=10), strict=True))
true_slopes = {"area": 0.05, "age": -0.08}  # per square metre, per year
clean_mean = (10.0 + df["city"].map(city_effect) + true_slopes["area"] * df["area"]
              + true_slopes["age"] * df["age"]).to_numpy()
y = clean_mean + rng.normal(0.0, 0.5, size=n)

# 10% vertical outliers (gross errors in y) ...
vertical = rng.choice(n, size=n // 10, replace=False)
y[vertical] += rng.uniform(15.0, 30.0, size=vertical.size)
# ... and 2% bad leverage points: very large, new flats with a low price
rest = np.setdiff1d(np.arange(n), vertical)
leverage = rng.choice(rest, size=n // 50, replace=False)
df.loc[leverage, "area"] = rng.normal(300.0, 10.0, size=leverage.size)
df.loc[leverage, "age"] = 0.0
y[leverage] = rng.normal(5.0, 0.5, size=leverage.size)
contaminated = np.zeros(n, dtype=bool)
contaminated[vertical] = contaminated[leverage] = True
df.head()


# %%
# One pipeline, three regressors
# ------------------------------
# The same preprocessing for every model.  ``OneHotEncoder()`` keeps a column
# per level: with the intercept they are exactly collinear, which least
# squares resolves by a minimum-norm solution and the robust fits by setting
# one aliased column aside (with a ``UserWarning`` that names it).
def pipeline(regressor, drop=None):
    preprocess = make_column_transformer(
        (OneHotEncoder(drop=drop), ["city", "kind"]),
        (StandardScaler(), ["area", "age"]),
    )
    return make_pipeline(preprocess, regressor)


models = {
    "least squares": pipeline(LinearRegression()),
    "HuberRegressor": pipeline(HuberRegressor(max_iter=1000)),
    "MM (init='s')": pipeline(RobustRegressor(loss="tukey", random_state=0)),
    "MM (init='ms')": pipeline(RobustRegressor(loss="tukey", init="ms", random_state=0),
                               drop="first"),
}


def numeric_slopes(model):
    """The slopes of area and age in data units (the scaler divided them by the sd)."""
    preprocess, regressor = model[0], model[-1]
    scaler = preprocess.named_transformers_["standardscaler"]
    return regressor.coef_[-2:] / scaler.scale_


def flagged(model):
    regressor = model[-1]
    if hasattr(regressor, "outliers_"):
        return regressor.outliers_
    residuals = y - model.predict(df)
    return np.abs(residuals) > 2.5 * residuals.std()


rows = []
for name, model in models.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the aliased one-hot column
        model.fit(df, y)
    slopes = numeric_slopes(model)
    truth = np.array(list(true_slopes.values()))
    flags = flagged(model)
    rows.append({
        "model": name,
        "area slope": slopes[0],
        "age slope": slopes[1],
        "slope error (rel.)": np.max(np.abs(slopes - truth) / np.abs(truth)),
        "mean error (RMS)": np.sqrt(np.mean((model.predict(df) - clean_mean)[~contaminated] ** 2)),
        "outlier recall": flags[contaminated].mean(),
        "false alarms": flags[~contaminated].mean(),
    })
summary = pd.DataFrame(rows).set_index("model")
print(f"true slopes: area {true_slopes['area']}, age {true_slopes['age']}")
print(summary.round(3).to_string())

# %%
# Least squares and Huber's M-estimator are dragged by the 40 bad leverage
# points: their area slope is far too small, and their predictions are off
# for every row.  Both MM fits recover the slopes and flag nearly every
# contaminated row (``outliers_``), with few false alarms.  The M-S start
# needs the indicator columns to be recognised (exactly two distinct values):
# it works on ``drop="first"`` or ``drop=None`` one-hot columns alike.
mm = models["MM (init='s')"][-1]
print("aliased columns of the MM fit:", np.flatnonzero(mm.aliased_))

# %%
# Residuals against the numeric column
# ------------------------------------
# The MM fit leaves the leverage points (right) and the gross errors (top)
# with large residuals, which is what makes them visible; least squares
# spreads the damage over every row.
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharey=True)
for ax, name in zip(axes, ["least squares", "HuberRegressor", "MM (init='s')"], strict=True):
    residuals = y - models[name].predict(df)
    ax.scatter(df["area"][~contaminated], residuals[~contaminated], s=4, color="0.4",
               label="clean")
    ax.scatter(df["area"][contaminated], residuals[contaminated], s=6, color="tab:red",
               label="contaminated")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_title(name)
    ax.set_xlabel("area")
axes[0].set_ylabel("residual")
axes[0].legend(loc="upper right", fontsize="small")
fig.tight_layout()

# %%
# Coefficient error and outlier recall
# ------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
summary["slope error (rel.)"].plot.barh(ax=axes[0], color="tab:blue")
axes[0].set_title("largest relative error of the slopes")
summary["outlier recall"].plot.barh(ax=axes[1], color="tab:green")
axes[1].set_xlim(0, 1)
axes[1].set_title("share of contaminated rows flagged")
axes[1].set_ylabel("")
fig.tight_layout()
plt.show()
