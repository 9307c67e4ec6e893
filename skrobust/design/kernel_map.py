"""Features of an exact kernel model: a kernel matrix as a linear design.

A kernel model ``K B`` with the RKHS penalty ``tr(B' K B)`` is the linear
model ``Phi W`` with the ridge penalty ``||W||**2`` on the features
``Phi = V Lambda**(1/2)`` of ``K = V Lambda V'``, and ``B = M W`` with
``M = V Lambda**(-1/2)``: the linear classifiers fit exact kernel models
on these features.

Examples
--------
>>> import numpy as np
>>> from skrobust.design.kernel_map import kernel_features
>>> K = np.array([[2.0, 1.0], [1.0, 2.0]])
>>> Phi, M = kernel_features(K)
>>> np.allclose(Phi @ Phi.T, K), np.allclose(K @ M, Phi)
(True, True)
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .kernel import factor_error, pivoted_cholesky, principal_components

# eigenvalues of an exact kernel matrix below this fraction of the largest are
# its null space (and the negative part of an indefinite kernel): dropped
_EIG_RTOL = 1e-12
_FACTOR_MAX_RANK = 1000  # largest pivoted Cholesky factor tried for exact kernel features


def kernel_features(K):
    """Features ``Phi = V Lambda**(1/2)`` of a kernel matrix ``K = V Lambda V'``.

    Returns ``(Phi, M)`` with ``M = V Lambda**(-1/2)``, so that a linear
    model ``Phi W`` is the kernel model ``K B`` with dual coefficients
    ``B = M W`` and ``||W||**2 = tr(B' K B)``.  Eigenvalues below
    ``1e-12`` times the largest are dropped.

    A smooth kernel's matrix has a low numerical rank: when a pivoted
    Cholesky factor ``K = F F'`` of at most ``min(1000, n / 2)`` columns
    reproduces every entry of ``K`` to 1e-9 of its largest diagonal entry,
    the eigenpairs come from the small matrix ``F'F`` (``O(n rank**2)``
    flops); otherwise (a rough or indefinite kernel) from the
    eigendecomposition of ``K`` (``O(n**3)``).
    """
    K = 0.5 * (K + K.T)
    n = K.shape[0]
    Ft, _ = pivoted_cholesky(K, max_rank=min(_FACTOR_MAX_RANK, n // 2))
    scale = float(np.max(np.abs(np.diagonal(K)), initial=0.0))
    if Ft.shape[0] < min(_FACTOR_MAX_RANK, n // 2) and factor_error(K, Ft) <= 1e-9 * scale:
        Phi, lam = principal_components(Ft, Ft.shape[0])
    else:
        lam, V = scipy.linalg.eigh(K, driver="evr", check_finite=False)
        Phi = V * np.sqrt(np.clip(lam, 0.0, None))
    top = float(lam.max(initial=0.0))
    kept = lam > _EIG_RTOL * top if top > 0 else np.zeros(lam.shape, dtype=bool)
    if not kept.any():  # a zero kernel: the constant model
        zero = np.zeros((n, 1))
        return zero, zero
    Phi = Phi[:, kept]
    return Phi, Phi / lam[kept]


__all__ = ["kernel_features"]
