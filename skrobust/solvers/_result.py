"""The result every solver returns (M-estimation, fast-S, quantile, adaptive Barron, ...)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class SolverResult:
    """What every solver returns.

    Attributes
    ----------
    beta : ndarray
        The parameters (coefficients, then the intercept when fitted).
    scale : float
        The scale of the fit.
    n_iter : int
        Iterations taken.
    converged : bool
        Whether the stopping rule was met (the estimator warns otherwise).
    objective : float
        The objective at ``beta``.
    message : str
        Why the solver stopped early, if it did.
    history : list
        One record per iteration (filled when ``verbose`` is set).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.solvers._result import SolverResult
    >>> SolverResult(np.zeros(2), 1.0, 3, True).converged
    True
    """

    beta: np.ndarray
    scale: float
    n_iter: int
    converged: bool
    objective: float = math.nan
    message: str = ""
    history: list = field(default_factory=list)
