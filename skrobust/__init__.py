"""skrobust: scikit-learn compatible estimators that stay accurate on dirty data.

The public names are imported lazily (PEP 562), so ``import skrobust`` loads
neither scikit-learn nor numba and compiles nothing; the first use of an
estimator or loss pays for those imports.

Examples
--------
>>> import skrobust
>>> sorted(skrobust.__all__)[:2]
['RobustClassifier', 'RobustRegressor']
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "RobustRegressor": "skrobust.regression",
    "RobustClassifier": "skrobust.classification",
    "find_label_issues": "skrobust.label_issues",
    "label_quality_scores": "skrobust.label_issues",
    "losses": "skrobust.losses",
    "datasets": "skrobust.datasets",
    "inference": "skrobust.inference",
    "inspection": "skrobust.inspection",
    "metrics": "skrobust.metrics",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module = import_module(_LAZY[name])
        value = module if module.__name__.endswith(name) else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skrobust' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
