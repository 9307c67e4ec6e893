"""Exact linear quantile regression: an interior point method finished by an exact vertex.

The problem is fixed by a design ``A = [X, 1]`` (see
:class:`~skrobust.design.linear.LinearDesign`), a target ``y``, frequency
weights ``s`` and a quantile ``q``:

    minimise  f(beta) = sum_i s_i rho_q(y_i - a_i' beta) + alpha ||coef||**2

with the pinball loss ``rho_q(r) = r (q - 1[r < 0])`` and an L2 penalty on
the coefficients (never the intercept).  For ``alpha = 0`` this is the
linear program solved by ``sklearn.linear_model.QuantileRegressor(alpha=0)``;
for ``alpha > 0`` it is a convex quadratic program.

Algorithm
---------
1. **Interior point** (the Frisch-Newton method of Portnoy & Koenker 1997,
   with Mehrotra's predictor-corrector).  Write ``r = u - v`` with
   ``u, v >= 0`` and take the dual variables ``lambda_i`` in the box
   ``[(q - 1) s_i, q s_i]``.  Every Newton step solves one weighted ridge
   system ``(A' D A + 2 alpha P) dbeta = A' D z`` through
   :meth:`LinearDesign.gram` (predictor and corrector share the
   factorisation), so an iteration costs one ``n p**2`` Gram product and a
   few ``n p`` products, for dense and sparse ``X`` alike.  The kink of the
   loss at ``r = 0`` is never differentiated: it is represented exactly by
   the complementarity pairs ``u_i (q s_i - lambda_i) = mu`` and
   ``v_i ((1 - q) s_i + lambda_i) = mu``, which smooth it by the barrier
   parameter ``mu``; ``mu`` is driven to zero.  The primal objective
   ``f(beta)`` and the dual objective ``g(lambda) <= f*`` bound the optimum
   at every iteration, so ``f(beta) - g(lambda)`` is a rigorous gap.
2. **Exact finish.**  Once the relative gap is below ``1e-3`` every
   iteration tries to certify an exact optimum:

   * ``alpha = 0``: the LP optimum is a vertex that interpolates
     ``p = n_params`` observations.  The ``p`` linearly independent points
     with the smallest ``|r_i|`` are taken as the basis ``h``, the square
     system ``A_h beta = y_h`` is solved exactly, and optimality is checked
     with the subgradient condition: the ``p x p`` system
     ``A_h' lambda_h = -sum_{i not in h} s_i psi(r_i) a_i`` must have a
     solution in the box ``(q - 1) s_i <= lambda_i <= q s_i``
     (``psi(r) = q`` for ``r > 0``, ``q - 1`` for ``r < 0`` and any value of
     ``[q - 1, q]`` at ``r = 0``).  That is exactly ``0`` in the
     subdifferential of ``f``, so the vertex is a global optimum.  When more
     than ``p`` residuals are zero (duplicated rows, ties: a degenerate
     vertex) the same condition is checked over all of them, a feasibility
     LP with ``p`` equations solved by ``scipy.optimize.linprog``.  If the
     check fails, simplex pivots (Barrodale-Roberts style: the steepest
     descending edge, followed to the weighted median of its breakpoints)
     are taken from that vertex, at most ``p`` of them per try, and after
     the interior point method stops as many as needed (up to
     ``10 p + 100``).
   * ``alpha > 0``: the optimum interpolates some ``k <= p`` points ``Z``
     (those whose dual variable is strictly inside its box).  ``Z`` is read
     off the interior point iterate (``k`` and its neighbours ``k + 1``,
     ``k - 1``, ``k + 2`` are tried), the KKT system
     ``[[2 alpha P, -A_Z'], [A_Z, 0]] [beta; lambda_Z] = [g_N; y_Z]`` is
     solved exactly, and the result is accepted when the signs of the other
     residuals agree with the ``psi`` used in ``g_N`` and ``lambda_Z`` is in
     its box (the KKT conditions of the convex problem, hence optimality).

   A certified result is the exact optimum up to floating point rounding.
   If no certificate is found (rank-deficient designs, optima that are not
   unique in a way the checks above do not cover), the best interior point
   iterate is returned; it is optimal to the relative gap ``tol`` and
   ``converged`` is False only if that gap was not reached.
3. **Large problems** (``n`` at least twice the band size
   ``max(50 p, 1000, n / 10)``): from a rough iterate (relative gap
   ``0.1``, usually after one to four iterations) only the band of rows
   with the smallest ``|r_i|`` is solved, exactly, by steps 1 and 2; the
   other rows keep the sign of their residual and enter the band problem
   as a constant gradient (Portnoy & Koenker's "globbing").  If no fixed
   row changes sign at the band optimum, the band optimum is the optimum
   (the certificate above then holds for all rows); rows that did change
   sign join the band, which is solved again.  A band problem whose
   objective falls below what consistent signs allow is abandoned at once
   and the full iterations go on.  A band of more than 50 000 rows is
   itself solved this way.
4. **Very large problems** (from 200 000 rows, no start given): the
   iterations start from the exact fit of a stratified row sample of
   ``n**(2/3) p**(1/2)`` rows, and the band is the rows whose residual from
   that fit lies within ``2 sqrt(4 q (1 - q) p / m)`` of the level ``q`` in
   the residuals' empirical distribution (Portnoy & Koenker's
   preprocessing), checked and repaired as in 3.
5. **Many levels** (:func:`quantile_process`): each level after the first
   starts from its neighbour's optimum and solves the band of rows between
   the two levels' quantiles of the neighbour's residuals, as in 3 and 4
   (Chernozhukov, Fernández-Val & Melly 2022); each level is certified on
   all rows, so it is the exact optimum of its own problem.

Modules: ``_problem`` (the problem and row selection), ``ipm`` (step 1),
``vertex`` (step 2), ``band`` (steps 1-3 on all rows or a band),
``single`` (one level, step 4), ``process`` (step 5) and ``noncrossing``
(the order-constrained levels of a non-crossing process).

``scale`` in the result is the weighted mean pinball loss of the residuals,
``sum_i s_i rho_q(r_i) / sum_i s_i`` (scikit-learn's ``mean_pinball_loss``),
and ``objective`` is ``f(beta)``.

The solvers never import scikit-learn and never warn: invalid arguments
raise ``ValueError``; numerical trouble gives ``converged=False`` and a
message.
"""

from .process import QuantileProcessResult, quantile_process
from .single import _quantile_regression, quantile_regression  # noqa: F401 (the estimator's core)

__all__ = ["QuantileProcessResult", "quantile_process", "quantile_regression"]
