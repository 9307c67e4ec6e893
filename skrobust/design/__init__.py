"""Designs and the M-estimation objective the solvers run over.

- :mod:`~skrobust.design.linear`: products with ``[X, 1]`` for dense or sparse ``X``.
- :mod:`~skrobust.design.kernel`: the exact kernel matrix and its factors.
- :mod:`~skrobust.design.kernel_map`: the feature map of a kernel matrix.
- :mod:`~skrobust.design.aliasing`: aliased (linearly dependent) columns.
- :mod:`~skrobust.design.objective`: the objective protocol, its declared
  capabilities and the in-memory objective.
"""
