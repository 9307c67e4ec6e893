"""Mehrotra predictor-corrector interior point iterations on a quantile regression problem."""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ._problem import _Problem

_STEP = 0.9995  # fraction of the distance to the boundary taken by a step


class _Factor:
    """Cholesky of an equilibrated symmetric positive (semi-)definite matrix, reused for solves."""

    def __init__(self, G):
        d = np.sqrt(np.clip(np.diag(G), 0.0, None))
        self.scale = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 1.0)
        Gs = G * self.scale[:, None] * self.scale[None, :]
        ridge = 0.0
        for _ in range(8):
            try:
                self.factor = cho_factor(Gs + ridge * np.eye(len(Gs)), lower=True,
                                         check_finite=False)
                if np.all(np.isfinite(self.factor[0])):
                    return
            except (LinAlgError, ValueError):
                pass
            ridge = 1e-12 if ridge == 0.0 else ridge * 100.0
        raise LinAlgError("normal matrix could not be factorised")

    def solve(self, h):
        return cho_solve(self.factor, h * self.scale, check_finite=False) * self.scale


def _max_step(x, dx):
    """Largest ``t <= 1`` with ``x + t dx >= 0`` (times the step fraction), for ``x >= 0``.

    ``t = -1 / min(dx / x)`` over the entries with ``dx < 0``: one pass with no
    boolean indexing (``fmin`` skips the ``0 / 0`` of a zero ``x`` that does
    not move; a zero ``x`` that decreases gives ``-inf``, hence ``t = 0``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        m = float(np.fmin.reduce(dx / x))
    if not m < 0.0:
        return 1.0
    return min(1.0, -_STEP / m)


class _InteriorPoint:
    """Mehrotra predictor-corrector iterations on a :class:`_Problem` (see the module docstring).

    Variables: ``beta``; ``u, v >= 0`` with ``r = y - A beta = u - v``; the
    dual ``lambda`` in the box ``[(q - 1) s, q s]`` with slacks
    ``zu = q s - lambda`` and ``zv = lambda - (q - 1) s``.
    """

    def __init__(self, prob: _Problem, beta):
        self.prob = prob
        s, q = prob.s, prob.q
        self.beta = np.array(beta, dtype=np.float64)
        self.r = prob.residuals(self.beta)
        self.f = prob.objective(self.beta, self.r)
        # interior start: the residual split into u - v, both shifted away from
        # zero by a tenth of the mean absolute residual; lambda = 0
        shift = max(0.1 * float(np.dot(s, np.abs(self.r))) / prob.total_weight, 1e-300)
        self.u = np.maximum(self.r, 0.0) + shift
        self.v = np.maximum(-self.r, 0.0) + shift
        self.lam = np.zeros(prob.n)
        self.hi, self.lo = q * s, (q - 1.0) * s
        self.at_lam = np.zeros(prob.design.n_params)
        self.dual_scale = max(float(np.max(np.abs(prob.design.rmatvec(s)))),
                              float(np.max(np.abs(prob.c), initial=0.0)), 1e-300)
        self.gap_rel = self.gap_abs = math.inf
        self.g = -math.inf
        self.feasible = False
        self.ap = self.ad = 0.0
        self.message = ""

    def slacks(self):
        return self.hi - self.lam, self.lam - self.lo

    def step(self) -> bool:
        """One iteration; False (with ``message``) if the normal equations fail."""
        prob = self.prob
        design, pen = prob.design, prob.pen
        n = prob.n
        beta, u, v, lam, r = self.beta, self.u, self.v, self.lam, self.r
        zu, zv = self.slacks()
        rp = r - u + v
        rd = self.at_lam + prob.c - pen * beta
        mu = (float(np.dot(u, zu)) + float(np.dot(v, zv))) / (2 * n)
        D = 1.0 / (u / zu + v / zv)
        # predictor (affine scaling): the right-hand side residual is r itself
        G, hvec = design.gram(D, r)
        G[np.diag_indices_from(G)] += pen
        try:
            fac = _Factor(G)
        except LinAlgError:
            self.message = "interior point: the normal equations could not be factorised"
            return False
        dbeta = fac.solve(hvec + rd)
        dlam = D * (r - design.predict(dbeta))
        du = (-u * zu + u * dlam) / zu
        dv = (-v * zv - v * dlam) / zv
        ap, ad = self._steps(du, dv, dlam, zu, zv)
        mu_aff = (float(np.dot(u + ap * du, zu - ad * dlam))
                  + float(np.dot(v + ap * dv, zv + ad * dlam))) / (2 * n)
        sigma = min((mu_aff / mu) ** 3, 1.0) if mu > 0 else 0.0
        # corrector: centring plus the second-order term, same factorisation
        cu = sigma * mu - u * zu + du * dlam
        cv = sigma * mu - v * zv - dv * dlam
        z = rp - cu / zu + cv / zv
        dbeta = fac.solve(design.rmatvec(D * z) + rd)
        a_dbeta = design.predict(dbeta)
        dlam = D * (z - a_dbeta)
        du = (cu + u * dlam) / zu
        dv = (cv - v * dlam) / zv
        ap, ad = self._steps(du, dv, dlam, zu, zv)
        if not (np.all(np.isfinite(dbeta)) and math.isfinite(ap) and math.isfinite(ad)):
            self.message = "interior point: non-finite step"
            return False
        self.beta = beta + ap * dbeta
        self.u = u + ap * du
        self.v = v + ap * dv
        self.lam = np.clip(lam + ad * dlam, self.lo, self.hi)
        self.ap, self.ad = ap, ad
        self.at_lam = design.rmatvec(self.lam)
        self.r = r - ap * a_dbeta  # y - A beta, updated without another pass over A
        self.f = prob.objective(self.beta, self.r)
        self.g, infeasibility = prob.dual_objective(self.at_lam, self.lam)
        g = self.g
        ref = max(prob.magnitude(self.beta, self.r), 1e-300)
        self.feasible = infeasibility <= 1e-9 * self.dual_scale
        if self.feasible:
            self.gap_abs = max(self.f - g, 0.0)
            self.gap_rel = self.gap_abs / ref
        else:  # no valid lower bound yet: complementarity gap plus dual infeasibility
            zu, zv = self.slacks()
            self.gap_rel = ((float(np.dot(self.u, zu)) + float(np.dot(self.v, zv))) / ref
                            + infeasibility / self.dual_scale)
            self.gap_abs = math.inf
        return True

    def _steps(self, du, dv, dlam, zu, zv):
        ap = min(_max_step(self.u, du), _max_step(self.v, dv))
        ad = min(_max_step(zu, -dlam), _max_step(zv, dlam))
        if self.prob.alpha > 0:  # a QP: beta is in both feasibility conditions
            ap = ad = min(ap, ad)
        return ap, ad

