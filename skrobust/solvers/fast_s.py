"""S-estimation of linear models: the fast-S algorithm and the S-refinement.

The S-estimator minimises a robust M-scale of the residuals (Tukey's
biweight, 50% breakdown, normalised over ``n - p`` as robustbase's
``lmrob``; see :mod:`skrobust.scale.mscale`, whose names are also
importable from here).

:func:`fast_s` follows Salibian-Barrera & Yohai (2006) with ``lmrob``'s
defaults: random elemental subsets, ``k_fast`` I-steps on each exact fit,
the ``n_best`` candidates with the smallest M-scale refined to convergence.
Above 2000 rows it uses robustbase's nested subsampling
(``fast_s_large_n``): 5 groups of 400 rows, ``n_subsets`` subsets per group,
the groups' best candidates re-ranked on the pooled 2000 rows
(:mod:`skrobust.solvers.s_candidates`) and only the final refinement run on
the whole data.

Above ``large_n_rows`` (100 000) rows even that refinement -- about 25
weighted least-squares passes over all rows per candidate -- dominates the
MM fit, so fast-S runs on a uniform sample of ``sample_rows`` (32 768) rows
and touches all rows once: the returned scale is the M-scale of every row's
residuals.  What this costs, and the probability that the sample keeps the
50% breakdown point, is in :func:`fast_s` (section "Large n").

Elemental subsets are built row by row so that each has full rank
(nonsingular subsampling, :mod:`skrobust.solvers.subsampling`).

Weights are frequency weights.  Elemental subsets (and the rows of the
large-n samples) are drawn **uniformly among the rows with positive
weight**, never with probability proportional to the weight: a zero-weight
row can never enter a subset, and with the same ``random_state`` a fit with
zero-weight rows is exactly the fit without those rows.  Integer weights
equal repeated rows for the M-scale, the I-steps and the refinement, but
the random subsets differ from those drawn on the repeated data.

Like every solver here, these functions take plain arrays and a
:class:`~skrobust.design.linear.LinearDesign`, never warn, and report
non-convergence through ``converged=False`` and a message.  They raise
``ValueError`` only for input on which no S-estimate exists (too few
samples, every elemental subset singular).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._linalg import solve_normal_equations
from .._progress import Progress
from ..design.linear import checked_frequency_weights
from ..losses.tukey import tukey_chi_sum_slope, tukey_scaled_weights
from ..scale.mscale import (
    S_BREAKDOWN_B,
    S_TUKEY_C,
    _check_floor,
    _check_total_weight,
    _check_tuning,
    _m_scale,
    m_scale,
)
from ._result import SolverResult
from .s_candidates import _Sample
from .subsampling import elemental_fits

_LARGE_N = 2000  # robustbase's fast.s.large.n
_N_GROUPS = 5  # robustbase's groups
_GROUP_SIZE = 400  # robustbase's n.group
LARGE_N_ROWS = 100_000
"""Above this many positive-weight rows :func:`fast_s` fits on a row sample (``large_n_rows``)."""
SAMPLE_ROWS = 1 << 15
"""Rows of that uniform sample (``sample_rows``)."""


def _as_generator(random_state):
    """A numpy Generator from None, an int, a RandomState or a Generator.

    A RandomState is not used directly: one 63-bit seed is drawn from it (so
    it advances, as scikit-learn's ``check_random_state`` users expect).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be None, an int, a numpy RandomState or Generator; "
                     f"got {random_state!r}")


# --------------------------------------------------------------------- result
@dataclass
class FastSResult(SolverResult):
    """Result of :func:`fast_s` and :func:`refine_s`.

    On top of :class:`~skrobust.solvers.irls.SolverResult` (``beta``,
    ``scale`` -- the S-scale, also stored as ``objective`` --, ``n_iter``,
    ``converged``, ``message``):

    Attributes
    ----------
    n_subsets : int
        Non-singular elemental subsets used (over all groups for large n).
    n_singular_subsets : int
        Subsets skipped: singular ones (``subsampling="simple"``), or ones
        that could not reach full rank (``"nonsingular"``, on rank-deficient
        rows only).
    candidate_betas : ndarray of shape (n_candidates, n_params) or None
        The refined candidates, in the order they were refined.
    candidate_scales : ndarray of shape (n_candidates,) or None
        Their final M-scales; ``beta`` is the row with the smallest one.
    large_n : bool
        Whether the nested (large-n) subsampling was used.
    sample_rows : int or None
        Rows of the uniform sample the candidates were refined on (above
        ``large_n_rows`` rows); None when they were refined on all rows.
        ``scale`` is then the M-scale of all rows' residuals, ``objective``
        the sample's S-scale (``candidate_scales`` are the sample's too).
    """

    n_subsets: int = 0
    n_singular_subsets: int = 0
    candidate_betas: np.ndarray | None = None
    candidate_scales: np.ndarray | None = None
    large_n: bool = False
    sample_rows: int | None = None


# --------------------------------------------------------------------- subsets
def _no_subset_message(subsampling, n_failed):
    if subsampling == "simple":
        return (f"all {n_failed} elemental subsets were singular: the design has (nearly) "
                "exactly collinear columns on the sampled rows")
    return ("no elemental subset of full rank exists: the design has (nearly) exactly "
            "collinear columns on the sampled rows")


def _check_finite_rows(A):
    if not np.all(np.isfinite(A)):
        raise ValueError("X must be finite (the sampled rows hold NaN or infinity)")
    return A


# --------------------------------------------------------------------- refinement
def refine_s(design, y, sample_weight, beta0, scale0=None, *, c=S_TUKEY_C, b=S_BREAKDOWN_B,
             max_iter=200, tol=1e-7, floor=1e-300, verbose=0) -> FastSResult:
    """Refine an S-estimate candidate to convergence (robustbase's ``refine_fast_s``).

    Each iteration takes one fixed-point step of the M-scale, then one
    weighted least-squares step with Tukey(``c``) weights at that scale.  It
    stops when ``||beta_new - beta||_2 < tol * max(tol, ||beta||_2)``; the
    returned scale is the exact M-scale of the final residuals.

    Parameters
    ----------
    design : LinearDesign
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        Frequency weights.
    beta0 : ndarray of shape (n_params,)
        Starting coefficients.
    scale0 : float, default=None
        Starting scale; the M-scale of the starting residuals when None.
    c, b : float
        M-scale constants (see :func:`m_scale`).
    max_iter : int, default=200
    tol : float, default=1e-7
    floor : float, default=1e-300
    verbose : int or Progress, default=0
        Reports the iterations (at most one line each half second).

    Returns
    -------
    result : FastSResult

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.fast_s import refine_s
    >>> x = np.arange(10.0)
    >>> y = 2.0 * x + 1.0 + np.array([0.1, -0.1] * 5)
    >>> y[9] = 100.0
    >>> res = refine_s(LinearDesign(x[:, None], True), y, None, np.array([2.0, 1.0]))
    >>> np.round(res.beta, 1), res.converged
    (array([2., 1.]), True)
    """
    floor = _check_floor(floor)
    c, b = _check_tuning(c, b)
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    w = checked_frequency_weights(sample_weight, y.shape[0])
    _check_total_weight(w, design.n_params)
    if not np.all(np.isfinite(y[w > 0])):
        raise ValueError("y must be finite")
    return _refine_s(design, y, w, beta0, scale0, c=c, b=b, max_iter=max_iter, tol=tol,
                     floor=floor, progress=Progress.of(verbose))


def _refine_s(design, y, w, beta0, scale0=None, *, c=S_TUKEY_C, b=S_BREAKDOWN_B, max_iter=200,
              tol=1e-7, floor=1e-300, progress=None):
    """:func:`refine_s` on checked input: float64 ``y`` and ``w``, a total weight above p."""
    progress = Progress.of(progress)
    p = design.n_params
    denom = float(w.sum()) - p
    beta = np.array(beta0, dtype=np.float64)
    r = y - design.predict(beta)
    if scale0 is None:
        s = _m_scale(r, w, c, b, p, None, floor)
    else:
        s = max(float(scale0), floor)
    v = np.empty_like(y)
    converged = False
    message = ""
    n_iter = 0
    with np.errstate(all="ignore"):
        for n_iter in range(1, max_iter + 1):
            s = max(s * math.sqrt(tukey_chi_sum_slope(r, w, s, c)[0] / denom / b), floor)
            tukey_scaled_weights(r, w, s, c, v)
            if not np.any(v > 0):
                message = "every robustness weight is zero"
                break
            G, h = design.gram(v, y)
            beta_new = solve_normal_equations(G, h)
            if not np.all(np.isfinite(beta_new)):
                message = "the weighted least-squares step gave non-finite coefficients"
                break
            delta = float(np.linalg.norm(beta_new - beta))
            done = delta < tol * max(tol, float(np.linalg.norm(beta)))
            progress.tick("s-refine", f"iter {n_iter:4d}  scale {s:.6g}  step {delta:.3g}")
            beta = beta_new
            r = y - design.predict(beta)
            if done:
                converged = True
                break
        else:
            message = f"S refinement did not converge in {max_iter} iterations (tol={tol:g})"
    scale = _m_scale(r, w, c, b, p, s, floor)
    return FastSResult(beta, scale, n_iter, converged, objective=scale, message=message)


# --------------------------------------------------------------------- fast-S
def fast_s(design, y, sample_weight=None, *, n_subsets=500, n_best=2, k_fast=1, c=S_TUKEY_C,
           b=S_BREAKDOWN_B, refine_max_iter=200, refine_tol=1e-7, random_state=None,
           floor=1e-300, subsampling="nonsingular", large_n_rows=LARGE_N_ROWS,
           sample_rows=SAMPLE_ROWS, verbose=0) -> FastSResult:
    """S-estimate of a linear model by the fast-S algorithm (Salibian-Barrera & Yohai, 2006).

    With robustbase's ``lmrob.control`` defaults (``nResample=500``,
    ``best.r.s=2``, ``k.fast.s=1``, ``k.max=200``, ``refine.tol=1e-7``,
    ``tuning.chi=1.54764``, ``bb=0.5``):

    1. draw ``n_subsets`` random elemental subsets of ``p = design.n_params``
       rows among the rows with positive weight (by default built row by row
       so that each has full rank, see ``subsampling``) and fit each exactly;
    2. apply ``k_fast`` I-steps to each fit: from the MAD of its residuals,
       one fixed-point step of the M-scale, then one weighted least-squares
       step with Tukey(``c``) weights at that scale;
    3. keep the ``n_best`` candidates with the smallest M-scale;
    4. refine each with :func:`refine_s` until the relative change of the
       coefficients is below ``refine_tol``; return the one with the
       smallest M-scale.

    With more than 2000 positive-weight rows, steps 1-3 run on a random
    subsample of 2000 rows split into 5 groups of 400 (``n_subsets`` subsets
    in each group), the groups' best candidates are I-stepped and re-ranked on
    the pooled 2000 rows, and only step 4 sees all the data (robustbase's
    ``fast_s_large_n``).

    **Large n.**  With more than ``large_n_rows`` positive-weight rows, steps
    1-4 run on ``sample_rows`` rows drawn uniformly, without replacement,
    among the rows with positive weight (with their weights), and the
    returned ``scale`` is the M-scale of the residuals of *all* rows (one
    pass over the data; the sample's S-scale is in ``objective``).  The
    refinement on all rows is left out because it barely changes the MM
    fit that starts here: it moves the S-coefficients by their sampling
    error, ``O(1/sqrt(sample_rows))``, which the M-step at a fixed scale
    forgets, and the scale by ``O(p / sample_rows)`` relative (second order,
    since the S-coefficients minimise it); on 1e6 x 20 rows with 15%
    contamination the MM coefficients moved by about 1e-6, a thousandth of
    their standard errors.

    *Breakdown on the sample.*  The fit keeps the S-estimator's breakdown
    point, about ``1/2 - p/m`` on ``m = sample_rows`` rows, unless the sample
    holds more contamination than that.  For a fraction ``eps`` of
    contaminated rows in the data, the sample's fraction exceeds
    ``eps + t`` with probability at most ``exp(-2 m t**2)`` (Hoeffding's
    bound, which holds for sampling without replacement).  With the default
    ``m = 32768`` and ``p = 21`` the probability that the sample loses the
    breakdown point is below 1e-1131 at ``eps = 0.3``, 1e-280 at 0.4,
    1e-69 at 0.45, 1e-10 at 0.48 (and 3e-3 at 0.49).  With unequal weights
    the same holds for the contaminated share of the weight when no few
    rows carry much of it.  The scale of all rows is an M-scale with 50%
    breakdown on the full data.

    Parameters
    ----------
    design : LinearDesign
        Dense or sparse; only the sampled rows are densified.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,), default=None
        Frequency weights (see the module docstring for how subsets are drawn).
    n_subsets : int, default=500
    n_best : int, default=2
    k_fast : int, default=1
    c, b : float, default=1.54764, 0.5
        M-scale constants (see :func:`m_scale`).
    refine_max_iter : int, default=200
    refine_tol : float, default=1e-7
    random_state : None, int, numpy RandomState or Generator, default=None
        The same value gives the same fit.
    floor : float, default=1e-300
        Smallest scale returned (an exact fit of more than half the data).
    subsampling : {"nonsingular", "simple"}, default="nonsingular"
        How elemental subsets are drawn (:mod:`skrobust.solvers.subsampling`):
        "nonsingular" builds each subset row by row in a random order,
        skipping rows that do not raise its rank (Koller & Stahel 2017,
        robustbase's default), so one-hot designs with rare levels work;
        "simple" draws ``p`` rows uniformly and skips singular subsets.  In
        a large-n group whose rows have rank below ``p`` (a rare level
        missing from the group) "nonsingular" builds the group's subsets
        from the pooled rows.
    large_n_rows : int, default=100_000
        Above this many positive-weight rows the fit runs on a row sample
        (see "Large n"); at most this many: on all rows.
    sample_rows : int, default=32768
        Rows of that sample (all rows when there are not more).
    verbose : int or Progress, default=0
        Reports the subsets done and each candidate's refinement.

    Returns
    -------
    result : FastSResult
        ``beta`` (coefficients, then the intercept), ``scale`` (the S-scale),
        ``converged`` (of the chosen candidate's refinement), ``n_iter``,
        ``message``, ``n_subsets``, ``n_singular_subsets``, the refined
        candidates and ``sample_rows``.

    Raises
    ------
    ValueError
        With fewer than ``2 (p + 1)`` positive-weight rows (or sampled
        rows), a total weight not above ``p``, or when no elemental subset
        of full rank was found (exactly collinear columns: the estimator
        removes them first, see :mod:`skrobust.design.aliasing`).

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.fast_s import fast_s
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2))
    >>> y = X @ np.array([1.0, -2.0]) + 3.0 + 0.1 * rng.normal(size=50)
    >>> y[:10] += 50.0  # 20% gross outliers
    >>> res = fast_s(LinearDesign(X, fit_intercept=True), y, random_state=0)
    >>> np.round(res.beta, 1)
    array([ 1., -2.,  3.])
    """
    if int(n_subsets) < 1 or int(n_best) < 1 or int(k_fast) < 0:
        raise ValueError("n_subsets and n_best must be >= 1 and k_fast >= 0")
    if int(large_n_rows) < 1 or int(sample_rows) < 1:
        raise ValueError(f"large_n_rows and sample_rows must be positive integers, got "
                         f"{large_n_rows!r} and {sample_rows!r}")
    n_subsets, n_best, k_fast = int(n_subsets), int(n_best), int(k_fast)
    c, b = _check_tuning(c, b)
    y, w, floor = _checked(design, y, sample_weight, floor)
    return _fast_s(design, y, w, n_subsets=n_subsets, n_best=n_best, k_fast=k_fast, c=c, b=b,
                   refine_max_iter=refine_max_iter, refine_tol=refine_tol,
                   random_state=random_state, floor=floor, subsampling=subsampling,
                   large_n_rows=int(large_n_rows), sample_rows=int(sample_rows),
                   progress=Progress.of(verbose))


def _checked(design, y, sample_weight, floor):
    """The checks of the public fast-S entries: float64 ``y`` and weights, finite ``y``."""
    floor = _check_floor(floor)
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    n = y.shape[0]
    if design.n_samples != n:
        raise ValueError(f"the design has {design.n_samples} rows but y has {n}")
    w = checked_frequency_weights(sample_weight, n)
    if not np.all(np.isfinite(y[w > 0])):
        raise ValueError("y must be finite")
    return y, w, floor


def _fast_s(design, y, w, *, large_n_rows=None, sample_rows=None,
            random_state=None, c=S_TUKEY_C, b=S_BREAKDOWN_B, floor=1e-300, progress=None,
            **options):
    """:func:`fast_s` on checked input (what the estimator's start calls): float64 ``y``,
    finite on the rows of positive weight, float64 weights ``w``; ``options`` are the
    remaining keywords of :func:`fast_s`."""
    progress = Progress.of(progress)
    rng = _as_generator(random_state)
    pos = np.flatnonzero(w > 0)
    n_pos = pos.shape[0]
    picked = large_sample(rng, n_pos, large_n_rows, sample_rows)
    if picked is None:
        return _fast_s_rows(design, y, w, pos, rng, c=c, b=b, floor=floor, progress=progress,
                            **options)
    rows = pos[picked]
    sample_rows = rows.size
    progress.line("s-start", f"fast-S on a uniform sample of {sample_rows} of {n_pos} rows")
    fit = _fast_s_rows(design.subset(rows), y[rows], w[rows], np.arange(sample_rows), rng, c=c,
                       b=b, floor=floor, progress=progress, **options)
    residuals = y - design.predict(fit.beta)
    fit.objective = fit.scale
    fit.scale = _m_scale(residuals, w, c, b, design.n_params, fit.scale, floor, newton=True)
    fit.sample_rows = sample_rows
    progress.line("s-start", f"M-scale of all {n_pos} residuals {fit.scale:.6g}")
    return fit


def large_sample(rng, n_pos, large_n_rows=None, sample_rows=None):
    """The sorted positions, among ``n_pos`` positive-weight rows, of the large-n row sample
    (drawn with the Generator ``rng``), or None when fast-S runs on all rows.

    The one draw of the sample, shared with the dask objective (which gathers these rows);
    None thresholds are :data:`LARGE_N_ROWS` and :data:`SAMPLE_ROWS`.
    """
    large_n_rows = LARGE_N_ROWS if large_n_rows is None else large_n_rows
    sample_rows = SAMPLE_ROWS if sample_rows is None else sample_rows
    if n_pos <= large_n_rows or n_pos <= sample_rows:
        return None
    return np.sort(rng.choice(n_pos, size=sample_rows, replace=False))


def _fast_s_rows(design, y, w, pos, rng, *, n_subsets=500, n_best=2, k_fast=1, c=S_TUKEY_C,
                 b=S_BREAKDOWN_B, refine_max_iter=200, refine_tol=1e-7, floor=1e-300,
                 subsampling="nonsingular", progress):
    """fast-S with the final refinement on all rows; ``pos`` are the positive-weight rows."""
    p = design.n_params
    m = pos.shape[0]
    if m < 2 * (p + 1):
        raise ValueError(f"the S-estimator needs at least 2(p+1) = {2 * (p + 1)} samples with "
                         f"positive weight for p = {p} parameters; got {m} sample(s)")
    total = float(w[pos].sum())
    if not total > p:
        raise ValueError(f"the total sample weight ({total:g}) must exceed the number of "
                         f"parameters ({p})")
    ratio = (total - p) / total  # keeps (sum w - p) / sum w on subsamples

    n_singular = 0
    n_used = 0
    large = m > _LARGE_N
    n_groups = 1
    with np.errstate(all="ignore"):
        if not large:
            A = _check_finite_rows(design.dense_rows(pos))
            sample = _Sample(A, y[pos], w[pos], total - p)
            B0, n_sing, _ = elemental_fits(sample.A, sample.y, rng, n_subsets, subsampling)
            n_singular += n_sing
            n_used += len(B0)
            if len(B0) == 0:
                raise ValueError(_no_subset_message(subsampling, n_sing))
            best_B, best_sc = sample.best(B0, k_fast, c, b, n_best, floor)
            progress.line("s-start", f"{n_used}/{n_subsets} subsets done ({n_singular} "
                                     f"singular) on {m} rows, best {len(best_B)} kept")
        else:
            n_groups = _N_GROUPS
            group = max(_GROUP_SIZE, 2 * (p + 1))
            if n_groups * group > m:
                n_groups = max(m // group, 1)
            rows = pos[rng.choice(m, size=n_groups * group, replace=False)]
            A_all = _check_finite_rows(design.dense_rows(rows))
            w_all = w[rows]
            cand_B, cand_sc = [], []
            for g in range(n_groups):
                sl = slice(g * group, (g + 1) * group)
                sample = _Sample(A_all[sl], y[rows[sl]], w_all[sl], w_all[sl].sum() * ratio)
                B0, n_sing, _ = elemental_fits(sample.A, sample.y, rng, n_subsets, subsampling)
                if len(B0) == 0 and subsampling == "nonsingular":
                    # the group's rows miss a direction (a rare level absent from the group):
                    # its subsets come from the pooled rows, its I-steps stay on the group
                    B0, n_sing, _ = elemental_fits(A_all, y[rows], rng, n_subsets, subsampling)
                n_singular += n_sing
                n_used += len(B0)
                if len(B0) == 0:
                    continue
                Bg, sg = sample.best(B0, k_fast, c, b, n_best, floor)
                cand_B.append(Bg)
                cand_sc.append(sg)
                progress.line("s-start", f"group {g + 1}/{n_groups}: {n_used}/"
                                         f"{n_subsets * n_groups} subsets done ({n_singular} "
                                         f"singular) on {group} rows each")
            if not cand_B:
                raise ValueError(_no_subset_message(subsampling, n_singular))
            pooled = _Sample(A_all, y[rows], w_all, w_all.sum() * ratio)
            best_B, best_sc = pooled.best(np.concatenate(cand_B), k_fast, c, b, n_best, floor,
                                          s_start=np.concatenate(cand_sc))
            progress.line("s-start", f"best {len(best_B)} of the groups' candidates kept on "
                                     f"{len(rows)} pooled rows")

    if len(best_B) == 0:
        raise ValueError("no elemental fit gave finite residuals: X and y must be finite")
    # step 4: refine the best candidates on all the data
    betas, scales, results = [], [], []
    for j, (beta0, s0) in enumerate(zip(best_B, best_sc, strict=True)):
        res = _refine_s(design, y, w, beta0, s0, c=c, b=b, max_iter=refine_max_iter,
                        tol=refine_tol, floor=floor, progress=progress)
        status = ("converged" if res.converged else "did not converge") + \
            f" in {res.n_iter} iterations"
        progress.line("s-refine", f"candidate {j + 1}/{len(best_B)} {status}, S-scale "
                                  f"{res.scale:.6g}" + (f": {res.message}" if res.message else ""))
        betas.append(res.beta)
        scales.append(res.scale)
        results.append(res)
    scales = np.array(scales)
    k = int(np.argmin(scales))
    chosen = results[k]
    message = chosen.message
    others = [i for i, r in enumerate(results) if i != k and not r.converged]
    if others and not message:
        message = f"{len(others)} other refined candidate(s) did not converge"
    if n_used < n_subsets * n_groups:
        extra = f"only {n_used} non-singular subsets in {n_used + n_singular} draws"
        message = f"{message}; {extra}" if message else extra
    return FastSResult(
        beta=chosen.beta, scale=chosen.scale, n_iter=chosen.n_iter, converged=chosen.converged,
        objective=chosen.scale, message=message, n_subsets=n_used,
        n_singular_subsets=n_singular, candidate_betas=np.array(betas),
        candidate_scales=scales, large_n=large,
    )


def fast_s_sampled(design, y, sample_weight=None, *, n_rows=20_000, random_state=None,
                   floor=1e-300, verbose=0) -> FastSResult:
    """fast-S on a uniform row sample of ``n_rows`` rows, with the M-scale of all rows' residuals.

    :func:`fast_s` with ``large_n_rows = sample_rows = n_rows`` (see its
    section "Large n" for what the sample costs and the probability that
    it keeps the breakdown point): above ``n_rows`` positive-weight rows the
    S-fit runs on ``n_rows`` rows drawn uniformly, without replacement,
    among the rows with positive weight; the returned ``scale`` is then the
    M-scale of the residuals of every row (the sample's S-scale is in
    ``objective``).  At most ``n_rows`` rows: exactly :func:`fast_s`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.design.linear import LinearDesign
    >>> from skrobust.solvers.fast_s import fast_s_sampled
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 2))
    >>> y = X @ np.array([1.0, -2.0]) + 3.0 + 0.1 * rng.normal(size=5000)
    >>> y[:1000] += 50.0  # 20% gross outliers
    >>> res = fast_s_sampled(LinearDesign(X, True), y, n_rows=1000, random_state=0)
    >>> np.round(res.beta, 1)
    array([ 1., -2.,  3.])
    >>> full = fast_s(LinearDesign(X, True), y, random_state=0)  # all 5000 rows
    >>> round(res.scale, 2), round(full.scale, 2)
    (0.14, 0.14)
    """
    if int(n_rows) < 1:
        raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}")
    y, w, floor = _checked(design, y, sample_weight, floor)
    return _fast_s_sampled(design, y, w, n_rows=int(n_rows), random_state=random_state,
                           floor=floor, progress=Progress.of(verbose))


def _fast_s_sampled(design, y, w, *, n_rows=20_000, random_state=None, floor=1e-300,
                    progress=None):
    """:func:`fast_s_sampled` on checked input (as :func:`_fast_s`)."""
    return _fast_s(design, y, w, large_n_rows=n_rows, sample_rows=n_rows,
                   random_state=random_state, floor=floor, progress=progress)


__all__ = ["LARGE_N_ROWS", "SAMPLE_ROWS", "S_BREAKDOWN_B", "S_TUKEY_C", "FastSResult", "fast_s",
           "fast_s_sampled", "m_scale", "refine_s"]
