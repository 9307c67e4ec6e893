"""
==========================================================
Choosing the loss by cross-validation in a Pipeline
==========================================================

:class:`skrobust.RobustRegressor` is an ordinary scikit-learn estimator: it
works in a :class:`~sklearn.pipeline.Pipeline`, can be cloned, and its
``loss``, ``epsilon`` and ``shape`` can be tuned by
:class:`~sklearn.model_selection.GridSearchCV`.

One thing needs care: the validation folds are as dirty as the training
folds.  Scored by mean squared error, a model is rewarded for predicting the
outliers, so the search prefers the least robust fit.  Score with a robust
metric instead, for example the median absolute error.
"""

# %%
# Data: 15% vertical outliers
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skrobust import RobustRegressor
from skrobust.datasets import make_contaminated_regression

X, y, coef, outliers = make_contaminated_regression(
    n_samples=400, n_features=5, contamination=0.15, outlier_shift=12.0, random_state=1)
X_train, X_test, y_train, y_test, out_train, out_test = train_test_split(
    X, y, outliers, test_size=0.25, random_state=0)

# %%
# The pipeline and the grid
# -------------------------
# A list of grids keeps each parameter with the losses it applies to:
# ``epsilon`` is the tuning constant of Huber's and Tukey's losses (in units
# of the residual scale), ``shape`` the shape of Barron's.
pipe = Pipeline([("scale", StandardScaler()), ("reg", RobustRegressor(random_state=0))])
param_grid = [
    {"reg__loss": ["huber"], "reg__epsilon": [1.0, 1.345, 2.0, 4.0]},
    {"reg__loss": ["tukey"], "reg__epsilon": [3.0, 4.685]},
    {"reg__loss": ["barron"], "reg__shape": [2.0, 1.0, 0.0, -2.0]},
]
cv = KFold(5, shuffle=True, random_state=0)

searches = {}
for scoring in ["neg_mean_squared_error", "neg_median_absolute_error"]:
    searches[scoring] = GridSearchCV(pipe, param_grid, scoring=scoring, cv=cv).fit(
        X_train, y_train)
    print(f"{scoring:27s} best: {searches[scoring].best_params_}")

# %%
# Scored by squared error, the search picks one of the least robust
# candidates (the widest Huber loss); scored by median absolute error it
# picks a redescending loss.
# On the *clean* test points, which is what we want to predict, the robust
# choice is clearly better:
clean = ~out_test
for scoring, search in searches.items():
    err = y_test[clean] - search.predict(X_test[clean])
    print(f"chosen by {scoring:27s}: clean-test RMSE {np.sqrt(np.mean(err**2)):.3f}")

# %%
# All candidates, scored both ways
# --------------------------------
results = searches["neg_median_absolute_error"].cv_results_
labels = []
for params in results["params"]:
    loss = params["reg__loss"]
    value = params.get("reg__epsilon", params.get("reg__shape"))
    labels.append(f"{loss}\n{'eps' if loss != 'barron' else 'shape'}={value:g}")
mse = -searches["neg_mean_squared_error"].cv_results_["mean_test_score"]
mae = -results["mean_test_score"]

fig, ax1 = plt.subplots(figsize=(10, 4), layout="constrained")
pos = np.arange(len(labels))
ax1.bar(pos - 0.2, mae, width=0.4, color="tab:blue", label="median absolute error")
ax1.set_ylabel("CV median absolute error", color="tab:blue")
ax2 = ax1.twinx()
ax2.bar(pos + 0.2, mse, width=0.4, color="tab:orange", label="mean squared error")
ax2.set_ylabel("CV mean squared error", color="tab:orange")
ax1.set_xticks(pos, labels, fontsize="small")
ax1.set_title("Cross-validated scores of each candidate (lower is better)")

# %%
# The fitted pipeline exposes the usual attributes of its last step:
best = searches["neg_median_absolute_error"].best_estimator_
reg = best.named_steps["reg"]
print("loss:", reg.loss_, " scale_:", round(reg.scale_, 3))
print("training rows rejected (weight < 0.01):", int(np.sum(reg.weights_ < 0.01)),
      "of", int(out_train.sum()), "outliers")
plt.show()
