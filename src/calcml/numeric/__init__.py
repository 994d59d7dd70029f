"""Numerical differentiation: derivatives from function values alone.

Where the symbolic layer differentiates exactly, this package estimates derivatives from
samples of a function, which is how the course starts (slope as rise over run) and what
works for any Python callable. Each tool says how far to trust it: the secant table sits
next to the exact slope, and the finite-difference estimates (to come here) carry an
error estimate.

>>> from calcml.numeric import secant_slopes
>>> secant_slopes("x^2", 3, runs=[0.5]).slopes.tolist()
[6.5]
"""

from .secant import SecantTable, secant_slopes

__all__ = [
    "SecantTable",
    "secant_slopes",
]
