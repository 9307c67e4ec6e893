"""The coefficient table of a robust fit, with lmrob's robust R².

:class:`RegressionSummary` is what :meth:`skrobust.RobustRegressor.summary`
returns: estimates, standard errors, t and p values (t distribution on
``n - k`` degrees of freedom, as R's ``summary.lmrob``), confidence intervals,
the residual scale and the robust R² of Renaud & Victoria-Feser (2010), and a
summary of the robustness weights.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..losses.tuning import _expect, split_points
from ._fitted import (
    check_alpha,
    fitted_covariance,
    fitted_quantile_record,
    quantile_covariances,
)
from .covariance import FitStatistics

_EPS_ONE = 1e-3  # a robustness weight within this of 1 counts as "~= 1" (lmrob)
_LISTED_OUTLIERS = 10  # at most this many outlier rows are listed by number


@lru_cache(maxsize=64)
def r2_constant(loss) -> float:
    """``a = E[w(Z)] / E[Z psi(Z)]`` at the standard normal, for the robust R².

    ``w(u) = psi(u) / u`` is the robustness weight.  1.207617 for Tukey's
    bisquare with ``c = 4.685061``, 1.168644 for Huber's loss with ``c = 1.345``.

    Examples
    --------
    >>> from skrobust.inference.summary import r2_constant
    >>> from skrobust.losses import get_loss
    >>> round(r2_constant(get_loss("tukey", c=4.685061)), 6)
    1.207617
    """
    split = split_points(loss)
    return _expect(loss.weight, split) / _expect(lambda u: u * loss.psi(u), split)


def robust_r2(stats: FitStatistics) -> tuple[float, float]:
    """lmrob's robust R² and adjusted R² of a fit.

    ``R² = (yMy - rMr) / (yMy + (a - 1) rMr)`` with ``yMy = sum w (y -
    ybar_w)**2``, ``rMr = sum w r**2`` for the robustness weights ``w``, and
    ``a`` from :func:`r2_constant`; the adjusted value is ``1 - (1 - R²)
    (n - q) / (n - k)`` with ``q`` 1 with an intercept, else 0.

    Parameters
    ----------
    stats : FitStatistics

    Returns
    -------
    r2, adj_r2 : float

    Examples
    --------
    >>> import numpy as np
    >>> from skrobust.inference.covariance import fit_statistics
    >>> from skrobust.inference.summary import robust_r2
    >>> from skrobust.losses import get_loss
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> y = X[:, 0] + np.tile([0.5, -0.5], 5)
    >>> beta = np.linalg.lstsq(np.c_[X, np.ones(10)], y, rcond=None)[0]
    >>> stats = fit_statistics(X, y, beta, 1.0, get_loss("huber", c=1e6))
    >>> r2, adj = robust_r2(stats)  # the least-squares R² in the OLS limit
    >>> round(r2, 4), round(adj, 4)
    (0.9697, 0.9659)
    """
    a = r2_constant(stats.loss)
    ymy, rmr = stats.weighted_ss_y, stats.weighted_ss_r
    r2 = (ymy - rmr) / (ymy + (a - 1.0) * rmr)
    q = int(stats.fit_intercept)
    adj = 1.0 - (1.0 - r2) * (stats.n_obs - q) / stats.df_resid
    return float(r2), float(adj)


def _fmt(value, digits=5):
    return f"{value:.{digits}g}"


def _number(n_obs):
    return str(int(n_obs)) if float(n_obs).is_integer() else _fmt(n_obs, 6)


def weight_summary_lines(weights) -> list[str]:
    """lmrob's summary of the robustness weights (rows are numbered from 0).

    Outliers have a weight below ``0.1 / n``; weights within 1e-3 of 1 are
    counted; the remaining ones are summarised by their quartiles.

    Examples
    --------
    >>> from skrobust.inference.summary import weight_summary_lines
    >>> print("\\n".join(weight_summary_lines([1.0, 0.5, 0.0, 0.9, 0.8])))
    row 2 is an outlier with |weight| < 0.02;
    1 weights are ~= 1. The remaining 3 ones are summarised as
       Min.  1st Qu.   Median     Mean  3rd Qu.     Max.
        0.5     0.65      0.8   0.7333     0.85      0.9
    """
    w = np.asarray(weights, dtype=np.float64)
    eps = 0.1 / max(w.size, 1)
    out = np.flatnonzero(w < eps)
    lines = []
    if out.size == 1:
        lines.append(f"row {out[0]} is an outlier with |weight| < {_fmt(eps, 2)};")
    elif 1 < out.size <= _LISTED_OUTLIERS:
        rows = ", ".join(map(str, out))
        lines.append(f"rows {rows} are outliers with |weight| < {_fmt(eps, 2)};")
    elif out.size:
        lines.append(f"{out.size} rows are outliers with |weight| < {_fmt(eps, 2)};")
    near_one = np.abs(1.0 - w) < _EPS_ONE
    rest = w[(w >= eps) & ~near_one]
    lines.append(f"{int(near_one.sum())} weights are ~= 1. The remaining {rest.size} ones are "
                 "summarised as")
    if rest.size:
        q = np.percentile(rest, [0, 25, 50, 75, 100])
        vals = [q[0], q[1], q[2], rest.mean(), q[3], q[4]]
        heads = ["Min.", "1st Qu.", "Median", "Mean", "3rd Qu.", "Max."]
        lines.append("".join(f"{h:>9}" for h in heads))
        lines.append("".join(f"{_fmt(v, 4):>9}" for v in vals))
    return lines


@dataclass(frozen=True, eq=False)
class RegressionSummary:
    """The coefficient table and fit statistics of a robust linear fit.

    Returned by :meth:`skrobust.RobustRegressor.summary`; ``str()`` prints a
    table in the layout of R's ``summary(lmrob(...))``, :meth:`to_frame`
    gives a pandas DataFrame, and notebooks show an HTML table.

    Attributes
    ----------
    names : ndarray of str, shape (k,)
        "intercept" first (when fitted), then the feature names
        (``feature_names_in_``, or "x0", "x1", ...).
    coef, std_err, t_value, p_value : ndarray of shape (k,)
        Estimates, standard errors, ``coef / std_err`` and two-sided p values
        from the t distribution on ``df_resid`` degrees of freedom.
    conf_int : ndarray of shape (k, 2)
        ``1 - alpha`` confidence intervals, ``coef -+ t_{df, 1 - alpha/2} std_err``.
    cov : ndarray of shape (k, k)
        The covariance matrix the standard errors come from.
    df_resid : float
        Residual degrees of freedom, ``n_obs - k``.
    scale : float
        Residual scale of the fit (the S-scale for an MM fit, as lmrob prints).
    r2, adj_r2 : float
        Robust R² and adjusted R² (lmrob's ``r.squared``, ``adj.r.squared``).
    n_obs : float
        Number of observations (the sum of the frequency weights).
    cov_kind : str
        The covariance formula ("avar1", "H1", "H2", "H3" or "rlm").
    n_iter : int
        Iterations of the solver.
    converged : bool
        Whether the solver converged.
    alpha : float
        One minus the confidence level of ``conf_int``.
    weights : ndarray of shape (n_samples,)
        Robustness weights of the training rows (for the printed summary).
    description : str
        What was fitted (the estimator and its loss).

    Examples
    --------
    >>> from skrobust import RobustRegressor
    >>> from skrobust.datasets import load_stackloss
    >>> X, y = load_stackloss(return_X_y=True, as_frame=True)
    >>> res = RobustRegressor(loss="tukey", random_state=0).fit(X, y).summary()
    >>> res.names.tolist()
    ['intercept', 'Air.Flow', 'Water.Temp', 'Acid.Conc.']
    >>> round(float(res.std_err[0]), 3), round(res.r2, 4)
    (5.298, 0.9593)
    """

    names: np.ndarray
    coef: np.ndarray
    std_err: np.ndarray
    t_value: np.ndarray
    p_value: np.ndarray
    conf_int: np.ndarray
    cov: np.ndarray
    df_resid: float
    scale: float
    r2: float
    adj_r2: float
    n_obs: float
    cov_kind: str
    n_iter: int
    converged: bool
    alpha: float
    weights: np.ndarray
    description: str = ""

    def _rows(self):
        heads = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
        cells = [["NA"] * 4 if np.isnan(s) else [_fmt(c, 7), _fmt(s, 5), _fmt(t, 4), _fmt(p, 3)]
                 for c, s, t, p in zip(self.coef, self.std_err, self.t_value, self.p_value,
                                       strict=True)]  # NA: an aliased column, as R prints it
        return heads, cells

    def _footer(self) -> list[str]:
        state = "Convergence" if self.converged else "No convergence"
        n_na = int(np.isnan(self.std_err).sum())
        aliased = [f"({n_na} not defined because of singularities)"] if n_na else []
        return [*aliased,
            f"Robust residual standard error: {_fmt(self.scale, 4)} on {_number(self.df_resid)} "
            "degrees of freedom",
            f"Multiple R-squared: {_fmt(self.r2, 4)},  Adjusted R-squared: {_fmt(self.adj_r2, 4)}",
            f"{state} in {self.n_iter} iterations; covariance {self.cov_kind!r}, "
            f"{self.n_obs:g} observations",
        ]

    def _head_lines(self) -> list[str]:
        return [self.description, ""] if self.description else []

    def _tail_lines(self) -> list[str]:
        return ["", *self._footer(), "", "Robustness weights:",
                *(" " + line for line in weight_summary_lines(self.weights))]

    def __str__(self) -> str:
        heads, cells = self._rows()
        wname = max(len(str(n)) for n in self.names)
        widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(heads)]
        lines = [*self._head_lines(), "Coefficients:"]
        lines.append(" " * wname + "".join(f"  {h:>{w}}" for h, w in zip(heads, widths,
                                                                           strict=True)))
        for name, row in zip(self.names, cells, strict=True):
            lines.append(f"{name:<{wname}}" + "".join(f"  {c:>{w}}" for c, w in zip(
                row, widths, strict=True)))
        return "\n".join(lines + self._tail_lines())

    def to_frame(self):
        """The coefficient table as a pandas DataFrame (pandas is imported here only).

        Returns
        -------
        frame : pandas.DataFrame
            Indexed by ``names``; columns ``coef``, ``std_err``, ``t_value``,
            ``p_value``, ``ci_lower``, ``ci_upper``.
        """
        import pandas as pd

        return pd.DataFrame(
            {"coef": self.coef, "std_err": self.std_err, "t_value": self.t_value,
             "p_value": self.p_value, "ci_lower": self.conf_int[:, 0],
             "ci_upper": self.conf_int[:, 1]},
            index=pd.Index(self.names, name="term"))

    def _repr_html_(self) -> str:
        heads, cells = self._rows()
        lo, hi = f"[{self.alpha / 2:g}", f"{1 - self.alpha / 2:g}]"
        head = "".join(f"<th>{html.escape(h)}</th>" for h in [*heads, lo, hi])
        body = "".join(
            f"<tr><th>{html.escape(str(name))}</th>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in row)
            + f"<td>{_fmt(ci[0], 5)}</td><td>{_fmt(ci[1], 5)}</td></tr>"
            for name, row, ci in zip(self.names, cells, self.conf_int, strict=True))
        foot = "<br>".join(html.escape(line) for line in self._footer())
        title = f"<p>{html.escape(self.description)}</p>" if self.description else ""
        return (f"<div>{title}<table><thead><tr><th></th>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table><p>{foot}</p></div>")


def summarize(estimator, alpha=0.05, kind="auto", se=None):
    """The :class:`RegressionSummary` of a fitted RobustRegressor (its ``summary`` method).

    A quantile fit gives a :class:`~skrobust.inference.QuantileSummary` with
    the standard errors ``se`` (None: "nid"), several levels a list of them.
    """
    from scipy.stats import t as student_t

    alpha = check_alpha(alpha)
    record = fitted_quantile_record(estimator)
    if record is not None:
        if kind != "auto":
            raise ValueError(f"kind={kind!r} is a covariance of M-estimates; quantile fits take "
                             "se='iid', 'nid' or 'ker'")
        from .quantile import level_summaries

        se = "nid" if se is None else se
        out = level_summaries(estimator, record, alpha, se,
                              quantile_covariances(estimator, record, se))
        return out[0] if np.ndim(estimator.coef_) == 1 else out
    if se is not None:
        raise ValueError(f"se={se!r} is for quantile fits (loss='quantile'); M-fits choose "
                         "their covariance with kind")
    cov, stats, kind = fitted_covariance(estimator, kind)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    names = [str(n) for n in getattr(estimator, "feature_names_in_", [])] or [
        f"x{j}" for j in range(coef.size)]
    if stats.fit_intercept:
        coef, names = np.r_[estimator.intercept_, coef], ["intercept", *names]
    std_err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_value = coef / std_err
    df = stats.df_resid
    p_value = 2.0 * student_t.sf(np.abs(t_value), df)
    half = student_t.ppf(1.0 - alpha / 2.0, df) * std_err
    r2, adj_r2 = robust_r2(stats)
    what = "MM-estimate (S-start)" if stats.s_start is not None else "M-estimate"
    return RegressionSummary(
        names=np.asarray(names), coef=coef, std_err=std_err, t_value=t_value, p_value=p_value,
        conf_int=np.c_[coef - half, coef + half], cov=cov, df_resid=df, scale=stats.data_scale,
        r2=r2, adj_r2=adj_r2, n_obs=stats.n_obs, cov_kind=kind, n_iter=int(estimator.n_iter_),
        converged=stats.converged, alpha=alpha, weights=np.asarray(estimator.weights_),
        description=f"{type(estimator).__name__}: {what}, loss {stats.loss!r}")


__all__ = ["RegressionSummary", "r2_constant", "robust_r2", "summarize", "weight_summary_lines"]
