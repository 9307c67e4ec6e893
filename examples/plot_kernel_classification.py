"""
=====================================================
Kernel classification with 30% wrong labels
=====================================================

Two interleaved moons, with 30% of the training labels flipped at random
(:func:`skrobust.datasets.corrupt_labels`).  An RBF-kernel
:class:`skrobust.RobustClassifier` (Blurry loss, exact kernel model) is
compared with :class:`sklearn.svm.SVC` and kernel logistic regression
(Nystroem features + ``LogisticRegression``), all with the same kernel width,
on clean test labels.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from skrobust import RobustClassifier
from skrobust.datasets import corrupt_labels

X, y = make_moons(n_samples=400, noise=0.2, random_state=0)
X_test, y_test = make_moons(n_samples=2000, noise=0.2, random_state=1)
y_noisy, flipped = corrupt_labels(y, 0.3, random_state=0)

gamma = 3.0
models = {
    "RobustClassifier(kernel='rbf')": RobustClassifier(kernel="rbf", gamma=gamma, alpha=0.1),
    "SVC(kernel='rbf')": SVC(kernel="rbf", gamma=gamma),
    "Nystroem + LogisticRegression": make_pipeline(
        Nystroem(gamma=gamma, n_components=100, random_state=0), LogisticRegression()),
}

# %%
# Decision regions learned from the noisy labels (crosses: flipped labels),
# with the accuracy on the clean test set in each title.
xx, yy = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1.0, 1.5, 200))
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    model.fit(X, y_noisy)
    acc = model.score(X_test, y_test)
    ax.contourf(xx, yy, model.predict(grid).reshape(xx.shape), alpha=0.25, cmap="coolwarm")
    ax.scatter(X[~flipped, 0], X[~flipped, 1], c=y_noisy[~flipped], s=8, cmap="coolwarm")
    ax.scatter(X[flipped, 0], X[flipped, 1], c=y_noisy[flipped], s=18, marker="x",
               cmap="coolwarm")
    ax.set_title(f"{name}\nclean test accuracy {acc:.3f}", fontsize="small")
    print(f"{name:32s} {acc:.3f}")
plt.tight_layout()
plt.show()

# %%
# The robust model's ``weights_`` single out the flipped labels: the loss
# backs off from samples whose given label it finds implausible.
robust = models["RobustClassifier(kernel='rbf')"]
print(f"mean weight of flipped labels {robust.weights_[flipped].mean():.2f}, "
      f"of correct labels {robust.weights_[~flipped].mean():.2f}")
