"""Loaders for the small classic regression data sets shipped in ``data/``."""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_engel", "load_hbk", "load_robustbase", "load_stackloss", "load_starscyg"]

_PROVENANCE = (
    "Copied from the project's shared data folder; {source}. The first column "
    "of the CSV holds R's row names (1-based observation numbers), returned as "
    "``row_names``."
)
_ROBUSTBASE = "exported from the R package robustbase, version 0.99-6"

# file stem -> (target column, description, provenance)
_DATASETS = {
    "stackloss": (
        "stack.loss",
        "Brownlee's stack loss plant data, 21 observations of an ammonia oxidation plant. "
        "Features: Air.Flow (air flow to the plant), Water.Temp (cooling water inlet "
        "temperature), Acid.Conc. (acid concentration, coded). Target: stack.loss (ammonia "
        "lost, x10 percent). Observations 1, 3, 4 and 21 are the usual outliers.",
        "R's built-in datasets::stackloss, copied from statsmodels.datasets.stackloss "
        "(same values as R's copy)",
    ),
    "starsCYG": (
        "log.light",
        "Hertzsprung-Russell diagram of the star cluster CYG OB1, 47 stars. Feature: "
        "log.Te (log surface temperature). Target: log.light (log light intensity). "
        "Observations 11, 20, 30 and 34 are the four giants (bad leverage points).",
        _ROBUSTBASE + " (data set starsCYG)",
    ),
    "hbk": (
        "Y",
        "Hawkins, Bradu and Kass (1984) artificial data, 75 observations. Features: X1, X2, "
        "X3. Target: Y. Observations 1-14 are leverage points: 1-10 bad, 11-14 good.",
        _ROBUSTBASE + " (data set hbk)",
    ),
    "aircraft": (
        "Y",
        "23 single-engine aircraft. Features: X1 aspect ratio, X2 lift-to-drag ratio, "
        "X3 weight (lb), X4 maximal thrust. Target: Y cost (units of $100,000).",
        _ROBUSTBASE + " (data set aircraft)",
    ),
    "coleman": (
        "Y",
        "Coleman report schools (Mosteller and Tukey 1977), 20 schools. Features: salaryP "
        "staff salaries per pupil, fatherWc % white-collar fathers, sstatus socioeconomic "
        "status composite, teacherSc mean teacher verbal score, motherLev mean mother's "
        "education level. Target: Y mean verbal test score of sixth graders.",
        _ROBUSTBASE + " (data set coleman)",
    ),
    "education": (
        "Y",
        "Education expenditure of 50 US states (Chatterjee and Price 1977). Features: "
        "Region (1 Northeast, 2 North central, 3 South, 4 West; a category code), X1 urban "
        "residents per thousand, X2 per-capita income, X3 residents under 18 per thousand. "
        "Target: Y per-capita spending on public education. The text column State "
        "(two-letter code) is not in ``data``; it is in ``extra['State']`` and in ``frame``.",
        _ROBUSTBASE + " (data set education)",
    ),
    "heart": (
        "clength",
        "Heart catheterization (Weisberg 1980), 12 children. Features: height (inches), "
        "weight (pounds), nearly collinear. Target: clength, catheter length (cm).",
        _ROBUSTBASE + " (data set heart)",
    ),
    "salinity": (
        "Y",
        "Pamlico Sound salinity (Ruppert and Carroll 1980), 28 biweekly periods. Features: "
        "X1 lagged salinity, X2 trend, X3 river discharge. Target: Y salinity. Observations "
        "5 and 16 are periods of very heavy discharge, a standard example of masking.",
        _ROBUSTBASE + " (data set salinity)",
    ),
    "cloud": (
        "CloudPoint",
        "Cloud point of a liquid against the percentage of I-8 in the base (Draper and "
        "Smith), 19 observations. Feature: Percentage. Target: CloudPoint. An M-fit that "
        "re-estimates the MAD scale at every step converges slowly here.",
        _ROBUSTBASE + " (data set cloud)",
    ),
    "engel": (
        "foodexp",
        "Engel's 1857 data on Belgian working-class households (Koenker and Bassett "
        "1982), 235 households. Feature: income (annual household income). Target: "
        "foodexp (food expenditure). The standard quantile-regression example.",
        "R quantreg's data set engel",
    ),
}

_NOT_ROBUSTBASE = ("stackloss", "engel")
_ROBUSTBASE_NAMES = tuple(
    sorted((k for k in _DATASETS if k not in _NOT_ROBUSTBASE), key=str.lower)
)


def _read_csv(stem):
    text = (resources.files("skrobust.datasets") / "data" / f"{stem}.csv").read_text(
        encoding="utf-8"
    )
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0][1:], [r for r in rows[1:] if r]
    row_names = np.array([int(r[0]) for r in body])
    columns = {}
    for j, name in enumerate(header):
        values = [r[j + 1] for r in body]
        try:
            columns[name] = np.array([float(v) for v in values])
        except ValueError:
            columns[name] = np.array(values, dtype=object)
    return row_names, columns


def _load(stem, as_frame, return_X_y):
    target_name, description, source = _DATASETS[stem]
    row_names, columns = _read_csv(stem)
    feature_names = [c for c, v in columns.items() if c != target_name and v.dtype != object]
    extra = {c: v for c, v in columns.items() if v.dtype == object}
    data = np.column_stack([columns[c] for c in feature_names])
    target = columns[target_name]
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame(columns, index=pd.Index(row_names, name="row_name"))
        data = frame[feature_names]
        target = frame[target_name]
    if return_X_y:
        return data, target
    descr = (
        f"{stem}\n{'=' * len(stem)}\n\n{description}\n\n"
        f"{data.shape[0]} rows, {data.shape[1]} numeric features.\n\n"
        + _PROVENANCE.format(source=source)
    )
    return Bunch(
        data=data,
        target=target,
        feature_names=feature_names,
        target_name=target_name,
        frame=frame,
        row_names=row_names,
        extra=extra,
        DESCR=descr,
    )


_RETURNS = """
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes

        data : ndarray of shape (n_samples, n_features) or DataFrame
            The numeric features (a DataFrame when ``as_frame=True``).
        target : ndarray of shape (n_samples,) or Series
            The response.
        feature_names : list of str
            Names of the columns of ``data``.
        target_name : str
            Name of the response column.
        frame : DataFrame or None
            All columns, indexed by the R row names, when ``as_frame=True``.
        row_names : ndarray of int
            R's row names (1-based observation numbers used in the
            literature).
        extra : dict
            Non-numeric columns left out of ``data`` (only education's
            ``State``).
        DESCR : str
            Description and provenance.

    (data, target) : tuple if ``return_X_y`` is True
"""

_PARAMS = """
    as_frame : bool, default=False
        Return pandas objects (``data`` a DataFrame, ``target`` a Series and
        ``frame`` both together). Needs pandas, imported only then.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
"""


def load_stackloss(*, as_frame=False, return_X_y=False):
    """Load Brownlee's stack loss data (21 rows, 3 features).

    R's ``datasets::stackloss``; observations 1, 3, 4 and 21 are the usual
    outliers of robust-regression texts.

    Parameters
    ----------{params}

    {returns}

    Examples
    --------
    >>> from skrobust.datasets import load_stackloss
    >>> ds = load_stackloss()
    >>> ds.data.shape, ds.target_name
    ((21, 3), 'stack.loss')
    >>> ds.feature_names
    ['Air.Flow', 'Water.Temp', 'Acid.Conc.']
    >>> X, y = load_stackloss(return_X_y=True)
    >>> float(y[0])
    42.0
    """
    return _load("stackloss", as_frame, return_X_y)


def load_starscyg(*, as_frame=False, return_X_y=False):
    """Load the star cluster CYG OB1 data (47 rows, 1 feature).

    robustbase's ``starsCYG``; observations 11, 20, 30 and 34 are the four
    giants, bad leverage points that tilt a least-squares line.

    Parameters
    ----------{params}

    {returns}

    Examples
    --------
    >>> from skrobust.datasets import load_starscyg
    >>> X, y = load_starscyg(return_X_y=True)
    >>> X.shape, y.shape
    ((47, 1), (47,))
    """
    return _load("starsCYG", as_frame, return_X_y)


def load_hbk(*, as_frame=False, return_X_y=False):
    """Load the Hawkins-Bradu-Kass data (75 rows, 3 features).

    robustbase's ``hbk``, artificial: observations 1-10 are bad leverage
    points and 11-14 good leverage points.

    Parameters
    ----------{params}

    {returns}

    Examples
    --------
    >>> from skrobust.datasets import load_hbk
    >>> ds = load_hbk()
    >>> ds.data.shape
    (75, 3)
    >>> [int(i) for i in ds.row_names[:3]]
    [1, 2, 3]
    """
    return _load("hbk", as_frame, return_X_y)


def load_engel(*, as_frame=False, return_X_y=False):
    """Load Engel's food expenditure data (235 rows, 1 feature).

    R quantreg's ``engel``: household income and food expenditure, the
    standard example of quantile regression (Koenker and Bassett 1982).

    Parameters
    ----------{params}

    {returns}

    Examples
    --------
    >>> from skrobust.datasets import load_engel
    >>> X, y = load_engel(return_X_y=True)
    >>> X.shape, y.shape
    ((235, 1), (235,))
    """
    return _load("engel", as_frame, return_X_y)


def load_robustbase(name, *, as_frame=False, return_X_y=False):
    """Load one of the robustbase data sets shipped with skrobust.

    Parameters
    ----------
    name : str
        One of ``"aircraft"``, ``"cloud"``, ``"coleman"``, ``"education"``,
        ``"hbk"``, ``"heart"``, ``"salinity"``, ``"starsCYG"``
        (case-insensitive).
        robustbase's ``NOxEmissions`` (8088 rows) is not shipped. For R's
        ``stackloss`` use :func:`load_stackloss`.{params}

    {returns}

    Raises
    ------
    ValueError
        If ``name`` is not a shipped data set; the message lists them.

    Examples
    --------
    >>> from skrobust.datasets import load_robustbase
    >>> ds = load_robustbase("education")
    >>> ds.data.shape, ds.feature_names
    ((50, 4), ['Region', 'X1', 'X2', 'X3'])
    >>> [str(s) for s in ds.extra["State"][:3]]
    ['ME', 'NH', 'VT']
    >>> load_robustbase("salinity").data.shape
    (28, 3)
    """
    if isinstance(name, str):
        lookup = {k.lower(): k for k in _ROBUSTBASE_NAMES}
        stem = lookup.get(name.lower())
    else:
        stem = None
    if stem is None:
        hint = {
            "stackloss": " Use load_stackloss for R's stackloss.",
            "engel": " Use load_engel for quantreg's engel.",
        }.get(name if isinstance(name, str) else "", "")
        raise ValueError(
            f"Unknown robustbase data set {name!r}. Shipped data sets: "
            f"{', '.join(_ROBUSTBASE_NAMES)}.{hint}"
        )
    return _load(stem, as_frame, return_X_y)


for _f in (load_stackloss, load_starscyg, load_hbk, load_engel, load_robustbase):
    _f.__doc__ = _f.__doc__.replace("{params}", _PARAMS.rstrip("\n")).replace(
        "{returns}", _RETURNS.strip("\n").replace("    Returns", "Returns", 1)
    )
del _f
