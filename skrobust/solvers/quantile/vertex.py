"""The exact finish: the optimal vertex (alpha = 0) or KKT point (alpha > 0), certified."""

from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, lu_factor, lu_solve

from ._problem import _independent_rows, _Problem


def _vertex(prob: _Problem, h, eps):
    """Vertex through the rows ``h`` (``alpha = 0``): beta, r, lambda_h, LU of A_h, certified.

    Residuals within rounding of zero (duplicates of basis rows, ties) are
    set to exactly zero; their ``psi`` may be anything in ``[q - 1, q]``.
    """
    design, y, s, q = prob.design, prob.y, prob.s, prob.q
    lu = lu_factor(design.dense_rows(h), check_finite=False)
    beta = lu_solve(lu, y[h], check_finite=False)
    r = prob.residuals(beta)
    r[np.abs(r) <= 1e-12 * (np.abs(y) + np.abs(y - r))] = 0.0
    r[h] = 0.0
    psi = np.where(r > 0, q, q - 1.0)
    psi[r == 0] = 0.0
    g = design.rmatvec(s * psi) + prob.c
    lam = lu_solve(lu, -g, trans=1, check_finite=False)
    ok = bool(np.all(lam >= (q - 1.0) * s[h] - eps) and np.all(lam <= q * s[h] + eps))
    if not ok and np.count_nonzero(r == 0) > h.size and np.all(np.isfinite(g)):
        ok = _degenerate_certificate(prob, np.flatnonzero(r == 0), g)
    return beta, r, lam, lu, ok


def _degenerate_certificate(prob: _Problem, zero, g):
    """Optimality of a degenerate vertex (more than ``p`` zero residuals).

    The subgradient condition asks for ``lambda_i`` in ``[(q - 1) s_i, q s_i]``
    on all zero-residual rows with ``A_zero' lambda = -g``: a small
    feasibility LP in ``len(zero)`` variables and ``p`` equations.
    """
    import warnings

    from scipy.optimize import linprog

    if zero.size > 20000:
        return False
    s, q = prob.s[zero], prob.q
    A = prob.design.dense_rows(zero)
    norm = np.maximum(np.abs(A).max(axis=0), 1e-300)  # equilibrate the equations
    bounds = np.column_stack([(q - 1.0) * s, q * s])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = linprog(np.zeros(zero.size), A_eq=(A / norm).T, b_eq=-g / norm,
                          bounds=bounds, method="highs")
        except (ValueError, RuntimeError):
            return False
    return res.status == 0


def _pivot(prob: _Problem, h, max_pivots, eps):
    """Simplex pivots from the vertex through ``h``; (beta, certified, n_pivots) or None."""
    s, q = prob.s, prob.q
    h = np.array(h, dtype=np.intp)
    p = prob.design.n_params
    in_basis = np.zeros(prob.n, dtype=bool)
    best = None
    for it in range(max_pivots + 1):
        try:
            beta, r, lam, lu, ok = _vertex(prob, h, eps)
        except (LinAlgError, ValueError):
            break
        if not np.all(np.isfinite(beta)):
            break
        f = prob.objective(beta, r)
        if best is None or f <= best[0]:
            best = (f, beta)
        if ok:
            return beta, True, it
        if it == max_pivots:
            break
        sh = s[h]
        # directional derivatives along the edges: sigma = +1 sends r_j
        # negative (cost rate (1 - q) s_j), sigma = -1 positive (rate q s_j)
        d_plus = lam + (1.0 - q) * sh
        d_minus = q * sh - lam
        j_plus, j_minus = int(np.argmin(d_plus)), int(np.argmin(d_minus))
        if d_plus[j_plus] <= d_minus[j_minus]:
            j, sigma, slope = j_plus, 1.0, float(d_plus[j_plus])
        else:
            j, sigma, slope = j_minus, -1.0, float(d_minus[j_minus])
        e = np.zeros(p)
        e[j] = sigma
        delta = lu_solve(lu, e, check_finite=False)  # A_h delta = sigma e_j
        g = prob.design.predict(delta)  # along the edge r(t) = r - t g
        in_basis[:] = False
        in_basis[h] = True
        g[in_basis] = 0.0
        zero = (r == 0) & ~in_basis & (g != 0)
        if np.any(zero):  # degenerate zero residuals leave 0 at once: right derivative
            gz = g[zero]
            slope += float(np.dot(s[zero], np.where(gz < 0, -gz * q, -gz * (q - 1.0))))
        if slope >= 0:
            zi = np.flatnonzero(zero)  # degenerate vertex: swap without moving
            if zi.size == 0:
                break
            h[j] = zi[np.argmax(np.abs(g[zi]))]
            continue
        # follow the edge to the weighted median of its breakpoints t_i = r_i / g_i
        cand = np.flatnonzero(r * g > 0)
        if cand.size == 0:
            break
        t = r[cand] / g[cand]
        w = s[cand] * np.abs(g[cand])
        k = _first_crossing(t, w, -slope)
        if k < 0:
            break
        h[j] = cand[k]
    if best is None:
        return None
    return best[1], False, max_pivots


def _first_crossing(t, w, need):
    """Index of the first breakpoint (by increasing ``t``) where the cumulative ``w`` reaches
    ``need``, or -1."""
    m = t.shape[0]
    k = min(m, 64)
    while True:
        if k < m:
            part = np.argpartition(t, k - 1)[:k]
        else:
            part = np.arange(m)
        order = part[np.argsort(t[part], kind="stable")]
        cum = np.cumsum(w[order])
        pos = int(np.searchsorted(cum, need, side="left"))
        if pos < k:
            return int(order[pos])
        if k == m:
            return -1
        k = min(m, 8 * k)


def _kkt(prob: _Problem, Z, r, eps, rounds=4):
    """Exact KKT solve for ``alpha > 0`` with interpolated rows ``Z``; (beta, certified)."""
    design, y, s, q, pen = prob.design, prob.y, prob.s, prob.q, prob.pen
    p, k = design.n_params, len(Z)
    A_Z = design.dense_rows(Z)
    K = np.zeros((p + k, p + k))
    K[:p, :p] = np.diag(pen)
    K[:p, p:] = -A_Z.T
    K[p:, :p] = A_Z
    try:
        lu = lu_factor(K, check_finite=False)
    except (LinAlgError, ValueError):
        return None, False
    diag = np.abs(np.diag(lu[0]))
    if not np.all(np.isfinite(lu[0])) or diag.min() <= 1e-13 * diag.max():
        return None, False
    in_z = np.zeros(prob.n, dtype=bool)
    in_z[Z] = True
    sign = np.where(in_z, 0.0, np.sign(r))
    beta = None
    for _ in range(rounds):
        psi = np.where(sign > 0, q, q - 1.0)
        psi[sign == 0] = 0.0
        g = design.rmatvec(s * psi) + prob.c
        sol = lu_solve(lu, np.concatenate([g, y[Z]]), check_finite=False)
        beta, lam = sol[:p], sol[p:]
        r_new = prob.residuals(beta)
        r_new[np.abs(r_new) <= 1e-12 * (np.abs(y) + np.abs(y - r_new))] = 0.0
        r_new[Z] = 0.0
        new_sign = np.sign(r_new)
        consistent = bool(np.all((new_sign == sign) | (new_sign == 0) | in_z))
        in_box = bool(np.all(lam >= (q - 1.0) * s[Z] - eps) and np.all(lam <= q * s[Z] + eps))
        if consistent and in_box:
            return beta, True
        zero = (new_sign == 0) & (sign == 0)
        if consistent and np.count_nonzero(zero) > k:
            # more zero residuals than interpolated rows (duplicated rows, ties)
            return beta, _degenerate_certificate(prob, np.flatnonzero(zero), g - pen * beta)
        if not in_box:
            break
        sign = np.where(in_z, 0.0, new_sign)  # re-solve with the signs found
    return beta, False


def _finish(prob: _Problem, r, ip, max_pivots):
    """Try to certify an exact optimum near residuals ``r`` (of the interior point iterate
    ``ip``, or None); (beta, certified, n_pivots) or None."""
    design, n, p = prob.design, prob.n, prob.design.n_params
    eps = 1e-9 * float(np.max(prob.s))
    if prob.alpha == 0:
        if n < p:
            return None
        h = _independent_rows(design, np.abs(r), p)
        if h.size < p:
            return None
        return _pivot(prob, h, max_pivots, eps)
    if ip is None:
        return None
    # alpha > 0: rows whose dual variable is strictly inside its box, where
    # u/zu and v/zv both tend to 0 (they tend to infinity for the other rows).
    # A row that is interpolated with its dual variable at a bound converges
    # slowly, so one or two more (or fewer) rows are tried as well.
    zu, zv = ip.slacks()
    ind = np.maximum(ip.u / zu, ip.v / zv)
    thresh = (float(np.dot(prob.s, np.abs(r))) / prob.total_weight) / float(np.mean(prob.s))
    order = _independent_rows(design, ind, p)
    k0 = int(np.count_nonzero(ind[order] < thresh))
    k_min = 1 if design.fit_intercept else 0
    for k in dict.fromkeys((k0, k0 + 1, k0 - 1, k0 + 2)):
        if k_min <= k <= order.size:
            beta, ok = _kkt(prob, order[:k], r, eps)
            if ok:
                return beta, True, 0
    return None

