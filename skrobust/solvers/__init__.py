"""Solvers on plain arrays: no scikit-learn imports, a result dataclass out.

Each solver is imported from its module (:mod:`skrobust.solvers.irls`,
:mod:`skrobust.solvers.lbfgs`, ...): the package re-exports nothing, so a
module is never shadowed by the function of the same name.
"""
