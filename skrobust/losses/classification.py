"""Registry of the classification losses (probability and margin losses).

Kept apart from :func:`skrobust.losses.get_loss`, whose names are the
regression losses on standardised residuals: the two families have
different arguments (a probability or a margin) and two losses share a name
("huber", "tukey", "barron" are also margin losses here).  A new
classification loss is one class in :mod:`~skrobust.losses.probability` or
:mod:`~skrobust.losses.margin` plus its entry in ``PROBABILITY_LOSSES`` or
``MARGIN_LOSSES``; :class:`skrobust.RobustClassifier`, its tests and its
checks pick it up from here.

Examples
--------
>>> from skrobust.losses.classification import get_classification_loss
>>> get_classification_loss("gce", q=0.5)
GCE(q=0.5)
>>> get_classification_loss("tukey").kind
'margin'
"""

from __future__ import annotations

from dataclasses import fields, replace

from .margin import MARGIN_LOSSES, MarginLoss
from .probability import PROBABILITY_LOSSES, ProbabilityLoss

ClassificationLoss = (ProbabilityLoss, MarginLoss)

_REGISTRY = {cls.name: cls for cls in PROBABILITY_LOSSES + MARGIN_LOSSES}


def available_classification_losses(kind=None) -> list[str]:
    """Names accepted by :func:`get_classification_loss`, sorted.

    Parameters
    ----------
    kind : {"probability", "margin"} or None, default=None
        Restrict to one family.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skrobust.losses.classification import available_classification_losses
    >>> available_classification_losses("margin")
    ['barron', 'huber', 'squared_hinge', 'tukey']
    """
    return sorted(n for n, c in _REGISTRY.items() if kind is None or c.kind == kind)


def get_classification_loss(name, **params):
    """Return the frozen classification loss registered under ``name``.

    Parameters
    ----------
    name : str or loss object
        A name from :func:`available_classification_losses`, or a loss
        object, returned unchanged (or with ``params`` replaced).
    **params
        Loss parameters, e.g. ``q`` (gce), ``gamma``, ``detach_weight`` and
        ``back_off`` (blurry), ``cutoff`` and ``cutoff_mode`` (piecewise_zero), ``c``
        (tukey), ``shape`` and ``c`` (barron), ``epsilon`` (huber).

    Returns
    -------
    loss : ProbabilityLoss or MarginLoss

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones) or an invalid value.
    TypeError
        A parameter the loss does not have.

    Examples
    --------
    >>> from skrobust.losses.classification import get_classification_loss
    >>> get_classification_loss("blurry", gamma=0.3)
    Blurry(gamma=0.3, detach_weight=False, back_off=False)
    >>> get_classification_loss("focal")
    Traceback (most recent call last):
    ...
    ValueError: Unknown classification loss 'focal'. Known losses: barron, blurry, ...
    """
    if isinstance(name, ClassificationLoss):
        return replace(name, **params) if params else name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"Unknown classification loss {name!r}. "
                         f"Known losses: {', '.join(available_classification_losses())}")
    cls = _REGISTRY[name]
    try:
        return cls(**params)
    except TypeError as exc:
        known = ", ".join(f.name for f in fields(cls) if f.init) or "(none)"
        raise TypeError(f"Loss {name!r} got an unexpected parameter ({exc}); "
                        f"its parameters are: {known}") from None


__all__ = ["ClassificationLoss", "available_classification_losses", "get_classification_loss"]
