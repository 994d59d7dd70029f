"""calcml: multivariate calculus for machine learning, that explains itself."""
from .budget import get_time_budget, set_time_budget
from .errors import CalcmlError, LimitError, ParseError
from .expr import parse, to_latex, to_mathml, to_text

__version__ = "0.1.0"
from .symbolic import (
    Derivation,
    Step,
    derivative,
    equivalent,
    gradient,
    hessian,
    jacobian,
    partial,
    total_derivative,
)
