"""calcml's own automatic differentiation, on NumPy arrays.

Write a function with :mod:`calcml.numpy` (``import calcml.numpy as cnp``) and these
transforms give its derivatives: ``grad``, ``value_and_grad``, ``jacobian``,
``hessian``, ``jvp``, ``vjp``. ``trace`` shows the computation graph of one evaluation
with every node's value, local derivative and adjoint; ``check_grad`` compares the
engine with finite differences.

>>> import numpy as np, calcml as cm, calcml.numpy as cnp
>>> cm.ad.grad(lambda w: cnp.sum(cnp.tanh(w) ** 2))(np.zeros(3))
array([0., 0., 0.])
"""

from .check import GradCheck, check_grad
from .graph import Graph, GraphNode, trace
from .transforms import (
    grad,
    hessian,
    jacobian,
    jvp,
    value_and_grad,
    value_and_jacobian,
    vjp,
)

__all__ = [
    "GradCheck",
    "Graph",
    "GraphNode",
    "check_grad",
    "grad",
    "hessian",
    "jacobian",
    "jvp",
    "trace",
    "value_and_grad",
    "value_and_jacobian",
    "vjp",
]
