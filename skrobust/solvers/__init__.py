"""Solvers on plain arrays: no scikit-learn imports, a result dataclass out."""

from .design import LinearDesign, solve_normal_equations
from .lbfgs import lbfgs
from .mestimate import MProblem, SolverResult, irls

__all__ = ["LinearDesign", "MProblem", "SolverResult", "irls", "lbfgs", "solve_normal_equations"]
