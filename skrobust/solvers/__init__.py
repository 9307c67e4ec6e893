"""Solvers on plain arrays: no scikit-learn imports, a result dataclass out."""

from ._result import SolverResult
from .design import LinearDesign, solve_normal_equations
from .lbfgs import lbfgs
from .mestimate import irls
from .objective import MProblem

__all__ = ["LinearDesign", "MProblem", "SolverResult", "irls", "lbfgs", "solve_normal_equations"]
