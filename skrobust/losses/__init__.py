"""Robust losses: one registry, one frozen object per loss.

Every loss exposes ``rho(u)``, ``psi(u)``, ``weight(u)`` and ``psi_deriv(u)``
on the standardised residual ``u``, plus metadata (``name``, ``convex``,
``redescending``, ``kinks``, ``default_c``, ``max_rho``).  Estimators look losses up by
name here, so a new loss is one module plus one line in ``_REGISTRY``.

Examples
--------
>>> from skrobust.losses import get_loss, available_losses
>>> "tukey" in available_losses()
True
>>> loss = get_loss("tukey", c=4.685)
>>> loss.redescending
True
"""

from __future__ import annotations

from dataclasses import fields, replace

from ._base import RobustLoss
from .barron import Barron, Cauchy, GemanMcClure, PseudoHuber, Welsch
from .distribution import barron_log_partition, barron_nll
from .hampel import Hampel
from .huber import Huber
from .optimal import Optimal
from .quantile import Quantile
from .tukey import Tukey
from .tuning import asymptotic_efficiency, efficiency_constant

_REGISTRY: dict[str, type[RobustLoss]] = {
    cls.name: cls
    for cls in (Huber, Tukey, Barron, Cauchy, GemanMcClure, Welsch, PseudoHuber, Quantile,
                Hampel, Optimal)
}

#: R's psi names (robustbase's lmrob and Mpsi, MASS's rlm) for the same functions with the
#: same tuning-constant convention (``u / c``): alias -> registry name.  R's "huber" is
#: already the registry's name; its rho functions differ from ours by constant factors only.
LOSS_ALIASES: dict[str, str] = {"bisquare": "tukey", "welsh": "welsch"}


def available_losses() -> list[str]:
    """Names accepted by :func:`get_loss`, sorted.

    Examples
    --------
    >>> from skrobust.losses import available_losses
    >>> available_losses()[:3]
    ['barron', 'cauchy', 'geman_mcclure']
    """
    return sorted(_REGISTRY)


def get_loss(name, **params) -> RobustLoss:
    """Return the frozen loss object registered under ``name``.

    Parameters
    ----------
    name : str or RobustLoss
        Registry name (see :func:`available_losses`), one of R's names in
        :data:`LOSS_ALIASES` ("bisquare" for "tukey", "welsh" for "welsch"),
        or a loss object, which is returned unchanged when no parameters are
        given.
    **params
        Loss parameters, for example ``c`` or Barron's ``shape``.

    Returns
    -------
    loss : RobustLoss

    Raises
    ------
    ValueError
        Unknown name (the message lists the known names) or invalid parameter.
    TypeError
        A parameter the loss does not have.

    Examples
    --------
    >>> from skrobust.losses import get_loss
    >>> get_loss("huber", c=2.0)
    Huber(c=2.0)
    >>> get_loss("bisquare")  # R's name of Tukey's biweight
    Tukey(c=4.685)
    >>> get_loss("hubber")
    Traceback (most recent call last):
    ...
    ValueError: Unknown loss 'hubber'. Known losses: barron, cauchy, ...
    """
    if isinstance(name, RobustLoss):
        if params:
            return replace(name, **params)
        return name
    if isinstance(name, str):
        name = LOSS_ALIASES.get(name, name)
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"Unknown loss {name!r}. Known losses: {', '.join(available_losses())}")
    cls = _REGISTRY[name]
    try:
        return cls(**params)
    except TypeError as exc:
        known = ", ".join(f.name for f in fields(cls) if f.init)
        raise TypeError(f"Loss {name!r} got an unexpected parameter ({exc}); "
                        f"its parameters are: {known}") from None


__all__ = [
    "LOSS_ALIASES",
    "Barron",
    "Cauchy",
    "GemanMcClure",
    "Hampel",
    "Huber",
    "Optimal",
    "PseudoHuber",
    "Quantile",
    "RobustLoss",
    "Tukey",
    "Welsch",
    "asymptotic_efficiency",
    "available_losses",
    "barron_log_partition",
    "barron_nll",
    "efficiency_constant",
    "get_loss",
]
