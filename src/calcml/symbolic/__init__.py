"""The calculus layer, exact: derivatives with steps, matrices, equivalence, compilation."""

from .calculus import derivative, gradient, hessian, jacobian, partial, total_derivative
from .equivalence import equivalent
from .steps import RULES, Derivation, Step

__all__ = [
    "RULES",
    "Derivation",
    "Step",
    "derivative",
    "equivalent",
    "gradient",
    "hessian",
    "jacobian",
    "partial",
    "total_derivative",
]
