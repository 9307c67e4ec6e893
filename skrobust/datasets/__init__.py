"""Data sets for robust estimation: contaminated data with known masks and classic examples.

- :func:`corrupt_labels`: exact-count label noise (uniform or pair flips).
- :func:`make_contaminated_regression`: linear data with vertical outliers or
  bad leverage points and the true outlier mask.
- :func:`load_stackloss`, :func:`load_starscyg`, :func:`load_hbk`,
  :func:`load_engel`, :func:`load_robustbase`: small classic regression data
  sets shipped with the package (R ``datasets``, quantreg and robustbase 0.99-6).

Examples
--------
>>> from skrobust import datasets
>>> datasets.load_hbk().data.shape
(75, 3)
"""

from ._corruption import corrupt_labels
from ._loaders import load_engel, load_hbk, load_robustbase, load_stackloss, load_starscyg
from ._regression import make_contaminated_regression

__all__ = [
    "corrupt_labels",
    "load_engel",
    "load_hbk",
    "load_robustbase",
    "load_stackloss",
    "load_starscyg",
    "make_contaminated_regression",
]
