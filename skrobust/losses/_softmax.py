"""Compiled passes of the softmax head of the probability losses.

The probability losses are functions of ``log p``, the log-softmax
probability of each sample's given label; their gradient with respect to
the scores is ``s w(p) (softmax - e_y)``.  :func:`label_log_softmax`
computes ``log p`` and the softmax from the scores into the caller's
arrays, one row at a time, with no ``n x K`` temporaries.  Scores with
one column are a binary problem with logits ``(0, z)`` (the binomial
model), whose softmax column is ``p`` of class 1.

Binary rows need one ``exp`` and one ``log1p`` (``log p = min(u, 0) -
log(1 + exp(-|u|))`` for the given label's logit difference ``u``), taken
from NumPy's vectorised functions; rows of ``K`` scores are shifted by
their largest score (by 0 when it is not finite) and cost ``K``
exponentials and one logarithm.

Examples
--------
>>> import numpy as np
>>> from skrobust.losses._softmax import label_log_softmax
>>> lp, P = np.empty(2), np.empty((2, 1))
>>> label_log_softmax(np.array([[0.0], [np.log(3.0)]]), np.array([0, 1]), lp, P)
>>> np.round(np.exp(lp), 12), np.round(P[:, 0], 12)
(array([0.5 , 0.75]), array([0.5 , 0.75]))
"""

from __future__ import annotations

import math

import numpy as np

from .._numba import njit


def label_log_softmax(Z, y, lp, P, scratch=None):
    """``lp[i] = log softmax(Z[i])[y[i]]`` and ``P = softmax(Z)`` (binary: ``p`` of class 1).

    ``Z`` is C-contiguous float64; ``scratch`` is an optional pair of float64
    arrays of ``n`` values for a binary problem (else allocated here).
    """
    if Z.shape[1] > 1:
        _label_log_softmax(Z, y, lp, P)
        return
    z = Z[:, 0]
    t, log1p_t = (np.empty(z.shape[0]), np.empty(z.shape[0])) if scratch is None else scratch
    # NumPy's vectorised exp and log1p: several times faster than a compiled loop's
    np.abs(z, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=log1p_t)
    _label_log_sigmoid(z, y, t, log1p_t, lp, P[:, 0])


@njit(cache=True, nogil=True)
def _label_log_sigmoid(z, y, t, log1p_t, lp, p1):
    # logits (0, z): with t = exp(-|z|) and u the given label's logit minus the
    # other's, log p = min(u, 0) - log(1 + t), and p1 = sigmoid(z) without overflow.
    # Selects, not branches: the signs are random, and mispredictions cost more
    # than the arithmetic.
    for i in range(z.shape[0]):
        u = z[i] if y[i] == 1 else 0.0 - z[i]
        lp[i] = min(u, 0.0) - log1p_t[i]
        p1[i] = (1.0 if z[i] >= 0.0 else t[i]) / (1.0 + t[i])


@njit(cache=True, nogil=True)
def _label_log_softmax(Z, y, lp, P):
    n, k = Z.shape
    for i in range(n):
        m = -math.inf
        for j in range(k):
            if Z[i, j] > m:
                m = Z[i, j]
        if not math.isfinite(m):
            m = 0.0
        total = 0.0
        for j in range(k):
            P[i, j] = math.exp(Z[i, j] - m)
            total += P[i, j]
        lp[i] = (Z[i, y[i]] - m) - math.log(total)
        for j in range(k):
            P[i, j] /= total
