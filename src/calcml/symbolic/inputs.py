"""Turning what users pass (text, SymPy, numbers, names, points) into SymPy objects.

Every function of the symbolic layer starts here, so that the conventions of DESIGN.md
hold everywhere: variables default to the free symbols sorted by name, and a point is a
dict ``{name: value}``, a sequence in variable order, or a number for one variable.

>>> import sympy
>>> f = as_expr("x*y + z")
>>> [str(v) for v in variables_of(f)]
['x', 'y', 'z']
>>> point_values({"y": 2, "x": 1, "z": 0}, variables_of(f))
[1.0, 2.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from numbers import Number
from typing import Any

import numpy as np
import sympy

from ..errors import CalcmlError
from ..expr import parse, to_text

ExprLike = str | sympy.Expr | int | float
VariablesLike = str | sympy.Symbol | Iterable[str | sympy.Symbol] | None
PointLike = Mapping[Any, float] | Sequence[float] | float | np.ndarray


def as_expr(f: Any, what: str = "the function") -> sympy.Expr:
    """A SymPy expression from text, a SymPy expression or a number."""
    if isinstance(f, str):
        return parse(f)
    if isinstance(f, sympy.Expr):
        return f
    if isinstance(f, sympy.Basic):
        raise CalcmlError(f"{what} must be a scalar expression, not a {type(f).__name__}")
    if isinstance(f, Number | np.number) and not isinstance(f, bool | complex):
        return sympy.sympify(f)  # a plain number; sympify on non-text is safe
    if callable(f):
        raise CalcmlError(
            f"{what} is a Python callable; symbolic derivatives need an expression "
            "(text or SymPy). For callables use calcml.ad.grad or calcml.numeric.derivative."
        )
    raise CalcmlError(f"{what} must be text or a SymPy expression, not {type(f).__name__}")


def variables_of(expr: sympy.Basic) -> list[sympy.Symbol]:
    """The free symbols of an expression, sorted by name."""
    return sorted(expr.free_symbols, key=lambda s: s.name)  # type: ignore[attr-defined]


def as_symbol(name: str | sympy.Symbol, expr: sympy.Basic | None = None) -> sympy.Symbol:
    """The symbol called ``name``: the one in ``expr`` if it has it, else a new one.

    Looking the name up in the expression matters for SymPy input, whose symbols may
    carry assumptions (``Symbol('x', real=True)`` is not ``Symbol('x')``).
    """
    if isinstance(name, sympy.Symbol):
        return name
    if not isinstance(name, str) or not name.isidentifier():
        raise CalcmlError(f"a variable must be a name such as 'x', not {name!r}")
    if expr is not None:
        for symbol in expr.free_symbols:
            if getattr(symbol, "name", None) == name:
                return symbol  # type: ignore[return-value]
    return sympy.Symbol(name)


def as_variables(variables: VariablesLike, expr: sympy.Basic) -> list[sympy.Symbol]:
    """The variables to differentiate by: given ones, or the free symbols sorted by name."""
    if variables is None:
        return variables_of(expr)
    if isinstance(variables, str):
        names: list = [v.strip() for v in variables.split(",")] if "," in variables else [variables]
    elif isinstance(variables, sympy.Symbol):
        names = [variables]
    else:
        names = list(variables)
    symbols = [as_symbol(name, expr) for name in names]
    if len(set(symbols)) != len(symbols):
        raise CalcmlError(f"the variables {[str(s) for s in symbols]} repeat a name")
    return symbols


def single_variable(expr: sympy.Basic, var: str | sympy.Symbol | None) -> sympy.Symbol:
    """The one variable of a derivative: the given one, or the only free symbol."""
    if var is not None:
        return as_symbol(var, expr)
    free = variables_of(expr)
    if len(free) > 1:
        names = ", ".join(str(s) for s in free)
        raise CalcmlError(
            f"{to_text(expr)} has the variables {names}; say which one to differentiate by, "
            f"e.g. var={str(free[0])!r}"
        )
    return free[0] if free else sympy.Symbol("x")


def point_values(at: PointLike, variables: Sequence[sympy.Symbol]) -> list[float]:
    """The coordinates of a point, in the order of ``variables``."""
    names = [v.name for v in variables]
    if isinstance(at, Mapping):
        given = {str(k): v for k, v in at.items()}
        missing = [n for n in names if n not in given]
        if missing:
            raise CalcmlError(f"the point {dict(given)} gives no value for {', '.join(missing)}")
        values = [given[n] for n in names]
    elif isinstance(at, Number | np.number) and not isinstance(at, bool):
        values = [at]
    else:
        values = list(np.asarray(at, dtype=float).ravel())
    if len(values) != len(names):
        raise CalcmlError(
            f"the point has {len(values)} coordinate(s) but there are {len(names)} "
            f"variable(s): {', '.join(names) or 'none'}"
        )
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        raise CalcmlError(f"the point {at!r} must hold numbers") from None


def evaluate(
    expr: sympy.Expr,
    variables: Sequence[sympy.Symbol],
    values: Sequence[float],
    what: str = "the expression",
) -> float:
    """The real value of ``expr`` at a point, or a ``CalcmlError`` saying why there is none."""
    exact = {
        v: sympy.Integer(int(x)) if float(x).is_integer() else sympy.Float(x)
        for v, x in zip(variables, values, strict=True)
    }
    for kink in expr.atoms(sympy.sign):
        # d|u|/du = sign(u) has no value at u = 0: the corner of the V.
        if kink.args[0].xreplace(exact).evalf().is_zero:
            raise CalcmlError(
                f"{what} does not exist at {_point_text(variables, values)}: "
                f"|{to_text(kink.args[0])}| has a corner there"
            )
    value = expr.xreplace(exact).evalf()
    if value.free_symbols:
        names = ", ".join(sorted(str(s) for s in value.free_symbols))
        raise CalcmlError(f"{what} still depends on {names}: give a value for it in at=")
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise CalcmlError(f"{what} is not defined at {_point_text(variables, values)}")
    real, imag = value.as_real_imag()
    if abs(float(imag)) > 1e-12 * max(1.0, abs(float(real))):
        raise CalcmlError(
            f"{what} is not a real number at {_point_text(variables, values)} (it is {value})"
        )
    return float(real)


def _point_text(variables: Sequence[sympy.Symbol], values: Sequence[float]) -> str:
    return ", ".join(f"{v}={x:g}" for v, x in zip(variables, values, strict=True))
