"""
=====================================================
Label noise: robust losses and finding wrong labels
=====================================================

When some training labels are wrong, cross-entropy (logistic regression)
follows them: every mislabelled sample pulls the decision boundary towards
itself.  :class:`skrobust.RobustClassifier` uses losses that *back off* from
samples the model finds implausible, and :func:`skrobust.find_label_issues`
flags the likely mislabelled samples by confident learning on out-of-fold
probabilities.

This example corrupts a known fraction of the labels of the digits data with
:func:`skrobust.datasets.corrupt_labels`, so that the flipped samples are
known, and compares

- ``LogisticRegression`` (cross-entropy),
- ``RobustClassifier(loss="gce")`` (generalised cross-entropy), and
- ``RobustClassifier()`` (the Blurry loss, the default).
"""

# %%
# Data
# ----
# The 64 pixels of the digits are reduced to 16 principal components to keep
# the example fast (PCA does not look at the labels, so it cannot leak them).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrobust import RobustClassifier, find_label_issues
from skrobust.datasets import corrupt_labels
from skrobust.metrics import detection_report

X, y = load_digits(return_X_y=True)
X = PCA(n_components=16, random_state=0).fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)


def models():
    return {
        "LogisticRegression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        'RobustClassifier(loss="gce")': make_pipeline(StandardScaler(),
                                                      RobustClassifier(loss="gce")),
        "RobustClassifier()  (Blurry)": make_pipeline(StandardScaler(), RobustClassifier()),
    }


# %%
# Accuracy on clean test labels
# -----------------------------
# ``corrupt_labels`` flips exactly ``round(rate * n)`` labels, each to a
# different class drawn uniformly, and returns the mask of flipped samples.
rates = [0.0, 0.2, 0.4]
accuracy = {name: [] for name in models()}
for rate in rates:
    y_noisy, flipped = corrupt_labels(y_train, rate, random_state=0)
    for name, model in models().items():
        accuracy[name].append(model.fit(X_train, y_noisy).score(X_test, y_test))

print(f"{'labels flipped':30s}" + "".join(f"{rate:>8.0%}" for rate in rates))
for name, acc in accuracy.items():
    print(f"{name:30s}" + "".join(f"{a:8.3f}" for a in acc))

fig, ax = plt.subplots(figsize=(6, 4))
for name, acc in accuracy.items():
    ax.plot(np.array(rates) * 100, acc, "o-", label=name)
ax.set_xlabel("labels flipped in training (%)")
ax.set_ylabel("test accuracy (clean labels)")
ax.legend()
ax.set_title("Digits: accuracy under uniform label noise")

# %%
# The robustness weights point at the wrong labels
# ------------------------------------------------
# ``weights_`` is each training sample's weight in the final fit, in [0, 1].
# The Blurry loss gives the mislabelled samples weights near 0.
y_noisy, flipped = corrupt_labels(y_train, 0.2, random_state=0)
blurry = make_pipeline(StandardScaler(), RobustClassifier()).fit(X_train, y_noisy)
weights = blurry[-1].weights_
print(f"mean weight: flipped {weights[flipped].mean():.3f}, clean {weights[~flipped].mean():.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(0, 1, 21)
ax.hist(weights[~flipped], bins=bins, alpha=0.6, label="correct labels")
ax.hist(weights[flipped], bins=bins, alpha=0.6, label="flipped labels")
ax.set_xlabel("weights_")
ax.set_ylabel("training samples")
ax.legend()

# %%
# Finding the label issues
# ------------------------
# :func:`~skrobust.find_label_issues` computes out-of-fold probabilities with
# ``cross_val_predict`` (the model never scores a label it was trained on) and
# applies confident learning, with the conventions of cleanlab.  Any
# classifier with ``predict_proba`` works; a robust one gives cleaner
# probabilities and so a better detection.
for name in ["LogisticRegression", "RobustClassifier()  (Blurry)"]:
    issues = find_label_issues(models()[name], X_train, y_noisy, cv=5, random_state=0)
    report = detection_report(flipped, issues)
    print(f"{name:30s} flagged {issues.sum():4d} of {flipped.sum()} flipped: "
          f"precision {report['precision']:.3f}, recall {report['recall']:.3f}, "
          f"F1 {report['f1']:.3f}")

# %%
# A flagged sample is a candidate for review, not a verdict.  The images of
# a few flagged samples, with their given (noisy) and true labels:
images = load_digits().images
idx_train, _ = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
shown = np.flatnonzero(issues)[:8]
fig, axes = plt.subplots(1, len(shown), figsize=(1.2 * len(shown), 1.8))
for ax, i in zip(axes, shown, strict=True):
    ax.imshow(images[idx_train[i]], cmap="gray_r")
    ax.set_title(f"given {y_noisy[i]}\ntrue {y_train[i]}", fontsize="small")
    ax.axis("off")
plt.show()

# %%
# Prune and refit
# ---------------
# The simplest use of the mask: drop the flagged samples and refit.  Here the
# detector's mask (from the Blurry loss) cleans the training set enough that
# even plain logistic regression recovers most of its clean-label accuracy.
kept = ~issues
for name in ["LogisticRegression", "RobustClassifier()  (Blurry)"]:
    noisy_fit = models()[name].fit(X_train, y_noisy)
    pruned_fit = models()[name].fit(X_train[kept], y_noisy[kept])
    print(f"{name:30s} test accuracy: trained on noisy labels "
          f"{noisy_fit.score(X_test, y_test):.3f}, after pruning "
          f"{pruned_fit.score(X_test, y_test):.3f}")
