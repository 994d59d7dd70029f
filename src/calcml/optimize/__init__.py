"""Optimisation: roots, descent, Newton, BFGS, constraints and Lagrange multipliers.

Every solver takes what :class:`calcml.Function` takes (text, SymPy, a callable, a
Function), returns a :class:`Result` with its whole history, and says when it failed.

>>> import calcml as cm
>>> r = cm.minimize("(1 - x)^2 + 100 (y - x^2)^2", x0=[-1.2, 1], method="newton")
>>> r.success, [round(float(v), 8) for v in r.x]
(True, [1.0, 1.0])
"""

from __future__ import annotations

from typing import Any

from ..budget import budgeted
from ..errors import CalcmlError
from ..function import Function
from .constrained import sqp
from .descent import as_start, bfgs, gradient_descent, newton, newton_cg
from .result import Result
from .roots import newton_raphson
from .stationary import LagrangePoint, StationaryPoint, lagrange, stationary_points

METHODS = ("newton", "newton_cg", "bfgs", "gradient_descent")


@budgeted
def minimize(
    f: Any,
    x0: Any,
    method: str | None = None,
    constraints: Any = None,
    gtol: float = 1e-8,
    maxiter: int | None = None,
    **options: Any,
) -> Result:
    """Minimise f from x0 with "newton", "newton_cg", "bfgs" (the default) or
    "gradient_descent"; with equality ``constraints`` (expressions meaning g = 0), by SQP,
    returning ``multipliers``.

    Examples
    --------
    >>> r = minimize("(1 - x)^2 + 100 (y - x^2)^2", x0=[-1.2, 1], method="newton_cg")
    >>> r.success, [round(float(v), 8) for v in r.x]
    (True, [1.0, 1.0])
    >>> r = minimize("x^2 + y^2", x0=[1, 1], constraints=["x + y - 1"])
    >>> [round(float(v), 10) for v in r.x], [round(float(v), 10) for v in r.multipliers]
    ([0.5, 0.5], [1.0])
    """
    fn = f if isinstance(f, Function) else Function(f, variables=_shared_variables(f, constraints))
    if fn.is_scalar is False:
        raise CalcmlError(
            "minimize needs a scalar function; for a system of equations use newton_raphson"
        )
    if constraints is not None:
        if (method is not None and method not in METHODS) or options:
            raise CalcmlError(
                "with constraints the method is SQP (Newton on the Lagrangian); "
                f"{', '.join(options) or repr(method)} does not apply"
            )
        result = sqp(fn, constraints, x0, gtol=gtol, maxiter=maxiter or 100)
        if method is not None:
            result.notes.append(
                f"constraints: solved by SQP; method={method!r} is for problems without constraints"
            )
        return result
    method = method or "bfgs"
    if method not in METHODS:
        raise CalcmlError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if options and method != "gradient_descent":
        raise CalcmlError(
            f"{', '.join(options)} only apply to method='gradient_descent', not {method!r}"
        )
    if method == "gradient_descent":
        return gradient_descent(
            fn, x0, gtol=gtol, maxiter=maxiter or 10_000, **({"step": "backtracking"} | options)
        )
    x = as_start(fn, x0)
    if method == "newton":
        return newton(fn, x, gtol, maxiter or 100)
    if method == "newton_cg":
        return newton_cg(fn, x, gtol, maxiter or 500)
    return bfgs(fn, x, gtol, maxiter or 500)


def _shared_variables(f: Any, constraints: Any) -> list[str] | None:
    """The variables of f and its constraints together (sorted by name), for expressions:
    the objective need not mention every variable (HS6: (1 - x)^2 with 10 (y - x^2) = 0)."""
    if constraints is None or (callable(f) and not isinstance(f, str)):
        return None
    import sympy

    from ..symbolic.inputs import as_expr

    items = [constraints] if isinstance(constraints, str) else list(constraints)
    if not all(isinstance(c, str | sympy.Basic) for c in items):
        return None
    exprs = [as_expr(f), *(as_expr(c, "a constraint") for c in items)]
    return sorted({s.name for e in exprs for s in e.free_symbols})


__all__ = [
    "LagrangePoint",
    "Result",
    "StationaryPoint",
    "gradient_descent",
    "lagrange",
    "minimize",
    "newton_raphson",
    "stationary_points",
]
