"""What a design or an objective can do, declared once instead of probed with ``hasattr``.

A solver reads the flags of :class:`Capabilities` to choose its path: a
design with weighted Grams gets Newton steps from a Hessian it builds, one
with fused row passes gets the compiled evaluation loops, one that can be
subset gets the warm start and the Hessian of a row sample, and a design
that solves its own Newton system (the exact kernel) gets that step.

Examples
--------
>>> from skrobust.solvers.capabilities import Capabilities
>>> caps = Capabilities(gram=True)
>>> caps.gram, caps.newton_step
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """Declared abilities of a design (or of an objective over one).

    Attributes
    ----------
    row_pass : bool
        Fused passes over row blocks (``residual_pass``, ``row_pass``): residuals,
        loss sums and gradient in one read of the rows.
    gram : bool
        Weighted Grams (``gram``, ``gram_ext``): least squares by the normal
        equations and Newton steps from an explicit Hessian.
    row_sample : bool
        Row subsets (``subset``): the warm start and the Hessian of a row sample.
    newton_step : bool
        The design solves its own Newton system (``newton_step``, exact kernels).
    columns : bool
        Column moments (``column_moments``): L-BFGS's standardised coordinates.
    hessian_in_pass : bool
        Every evaluation also returns the Hessian at its point (a distributed
        objective, whose passes are the expensive part): no separate Hessian pass.
    """

    row_pass: bool = False
    gram: bool = False
    row_sample: bool = False
    newton_step: bool = False
    columns: bool = False
    hessian_in_pass: bool = False


#: a design of row blocks with Grams (:class:`~skrobust.solvers.design.LinearDesign`)
LINEAR = Capabilities(row_pass=True, gram=True, row_sample=True, columns=True)
#: an exact kernel matrix (:class:`~skrobust.solvers.kernel_design.KernelDesign`)
EXACT_KERNEL = Capabilities(newton_step=True)
