"""The calculus layer, exact: derivatives with steps, matrices, equivalence, compilation."""

from .calculus import derivative, gradient, hessian, jacobian, partial, total_derivative
from .equivalence import equivalent
from .steps import RULES, Derivation, Step
from .taylor import (
    MultiTaylor,
    Taylor,
    TruncationSlope,
    linearise,
    linearize,
    taylor,
    truncation_slope,
)

__all__ = [
    "RULES",
    "Derivation",
    "MultiTaylor",
    "Step",
    "Taylor",
    "TruncationSlope",
    "derivative",
    "equivalent",
    "gradient",
    "hessian",
    "jacobian",
    "linearise",
    "linearize",
    "partial",
    "taylor",
    "total_derivative",
    "truncation_slope",
]
