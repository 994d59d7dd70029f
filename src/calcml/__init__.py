"""calcml: multivariate calculus for machine learning, that explains itself.

Text in, exact derivatives out, every answer with the rules that produced it.

>>> import calcml as cm
>>> d = cm.derivative("x^2 sin(x)")
>>> d.result
x*(x*cos(x) + 2*sin(x))
>>> sorted(d.rules_used())
['power', 'product', 'sin']
"""

from . import ad, data, nn, numeric
from .budget import get_time_budget, set_time_budget
from .errors import CalcmlError, CalcmlWarning, LimitError, ParseError
from .expr import parse, to_latex, to_mathml, to_text
from .fit import FitResult, chi2, fit, linear_fit, lstsq, polyfit
from .function import Function, NotFiniteError, as_function
from .optimize import (
    gradient_descent,
    lagrange,
    minimize,
    newton_raphson,
    stationary_points,
)
from .symbolic import (
    Derivation,
    Step,
    derivative,
    equivalent,
    gradient,
    hessian,
    jacobian,
    linearise,
    linearize,
    partial,
    taylor,
    total_derivative,
    truncation_slope,
)

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Figures need matplotlib, which takes a while to import: load them on first use.
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'calcml' has no attribute {name!r}")


__all__ = [
    "CalcmlError",
    "CalcmlWarning",
    "Derivation",
    "FitResult",
    "Function",
    "LimitError",
    "NotFiniteError",
    "ParseError",
    "Step",
    "ad",
    "as_function",
    "chi2",
    "data",
    "derivative",
    "equivalent",
    "fit",
    "get_time_budget",
    "gradient",
    "gradient_descent",
    "hessian",
    "jacobian",
    "lagrange",
    "linear_fit",
    "linearise",
    "linearize",
    "lstsq",
    "minimize",
    "newton_raphson",
    "nn",
    "numeric",
    "parse",
    "partial",
    "plots",
    "polyfit",
    "set_time_budget",
    "stationary_points",
    "taylor",
    "to_latex",
    "to_mathml",
    "to_text",
    "total_derivative",
    "truncation_slope",
]
