"""Scale estimation: weighted medians, scale rules and M-scales, summed through a reducer.

- :mod:`~skrobust.scale.median`: the weighted median, the MAD, the median of
  ``|r|`` near a guess;
- :mod:`~skrobust.scale.reducer`: :class:`Reducer`, where the rules' sums run,
  and :class:`NumpyRows`, the in-memory one (:class:`skrobust.dask.DaskRows`
  is the distributed one);
- :mod:`~skrobust.scale.rules`: the scale rules of M-estimation (fixed, MAD,
  Huber's proposal 2, Owen's joint scale) and the secant acceleration;
- :mod:`~skrobust.scale.mscale`: the M-scale of the S-estimator.
"""

from .median import MAD_NORMAL_CONSTANT, abs_median, mad_scale, weighted_median
from .mscale import S_BREAKDOWN_B, S_TUKEY_C, m_scale, m_scale_of
from .reducer import NumpyRows, Reducer
from .rules import (
    RENAMED_SCALES,
    FixedScale,
    HuberProposal2Scale,
    JointScale,
    MADScale,
    SecantScale,
    decreasing_root,
    joint_sums,
    proposal2_sums,
    resolve_scale_name,
    rho_sums,
    rows_mad,
    scale_floor,
)

__all__ = [
    "MAD_NORMAL_CONSTANT",
    "RENAMED_SCALES",
    "S_BREAKDOWN_B",
    "S_TUKEY_C",
    "FixedScale",
    "HuberProposal2Scale",
    "JointScale",
    "MADScale",
    "NumpyRows",
    "Reducer",
    "SecantScale",
    "abs_median",
    "decreasing_root",
    "joint_sums",
    "m_scale",
    "m_scale_of",
    "mad_scale",
    "proposal2_sums",
    "resolve_scale_name",
    "rho_sums",
    "rows_mad",
    "scale_floor",
    "weighted_median",
]
