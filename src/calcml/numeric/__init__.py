"""Numerical differentiation: derivatives from function values alone.

Where the symbolic layer differentiates exactly, this package estimates derivatives from
samples of a function, which is how the course starts (slope as rise over run) and what
works for any Python callable. Each tool says how far to trust it: the secant table sits
next to the exact slope, and every finite-difference estimate (forward, backward, central,
Richardson, complex step; gradients, Jacobians, Hessians) carries an error estimate and
the step it used.

>>> from calcml.numeric import secant_slopes, derivative
>>> secant_slopes("x^2", 3, runs=[0.5]).slopes.tolist()
[6.5]
>>> d = derivative("x^2", 3)
>>> abs(d.value - 6) <= d.error < 1e-9
True
"""

from .finite import (
    METHODS,
    NumericDerivative,
    StepErrors,
    derivative,
    gradient,
    hessian,
    jacobian,
    step_errors,
)
from .secant import SecantTable, secant_slopes

__all__ = [
    "METHODS",
    "NumericDerivative",
    "SecantTable",
    "StepErrors",
    "derivative",
    "gradient",
    "hessian",
    "jacobian",
    "secant_slopes",
    "step_errors",
]
