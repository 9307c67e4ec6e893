"""Solvers on plain arrays: no scikit-learn imports, a result dataclass out."""

from .design import LinearDesign, solve_normal_equations
from .mestimate import MProblem, SolverResult, irls, lbfgs

__all__ = ["LinearDesign", "MProblem", "SolverResult", "irls", "lbfgs", "solve_normal_equations"]
