"""Derivatives of expressions: with steps (derivative, partial, total derivative) and as
matrices (gradient, Jacobian, Hessian).

All take text or SymPy, differentiate exactly, and with ``at=`` evaluate at a point.
The matrices are built from the same rule engine as the steps, so what calcml shows and
what it computes cannot disagree.

>>> import calcml as cm
>>> cm.gradient("x^2 y + y^3")
Matrix([
[       2*x*y],
[x**2 + 3*y**2]])
>>> cm.hessian("x^2 y + y^3", at={"x": 1, "y": 2})
array([[ 4.,  2.],
       [ 2., 12.]])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from ..budget import budgeted
from ..errors import CalcmlError
from ..expr import to_text
from .inputs import (
    ExprLike,
    PointLike,
    VariablesLike,
    as_expr,
    as_symbol,
    as_variables,
    evaluate,
    point_values,
    single_variable,
)
from .rules import differentiate
from .simplify import tidy
from .steps import Derivation, Step

MAX_ORDER = 20


def _derive(expr: sympy.Expr, x: sympy.Symbol, order: int) -> Derivation:
    """Differentiate ``order`` times, each time starting from the tidied previous answer."""
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise CalcmlError(f"order must be a whole number from 1 to {MAX_ORDER}, not {order!r}")
    stages = [differentiate(expr, x)]
    for _ in range(order - 1):
        stages.append(differentiate(tidy(stages[-1].result), x))
    return Derivation(expr, x, stages, tidy, order)


def _evaluate_derivation(
    d: Derivation, at: PointLike | None, variables: Sequence[sympy.Symbol]
) -> Derivation:
    if at is None:
        return d
    values = point_values(at, variables)
    d.point = {str(v): x for v, x in zip(variables, values, strict=True)}
    d.value = evaluate(d.result, variables, values, what=f"the derivative of {to_text(d.expr)}")
    return d


def _point_variables(expr: sympy.Expr, x: sympy.Symbol, at: PointLike | None) -> list:
    """Variables a point refers to: all free symbols (and x), sorted by name."""
    symbols = set(expr.free_symbols) | {x}
    if isinstance(at, Mapping):
        symbols |= {as_symbol(str(k), expr) for k in at}
    return sorted(symbols, key=lambda s: s.name)


@budgeted
def derivative(
    f: ExprLike, var: str | sympy.Symbol | None = None, order: int = 1, at: PointLike | None = None
) -> Derivation:
    """The derivative of ``f`` with the rules that produce it.

    Parameters
    ----------
    f : str or sympy.Expr
        The function, e.g. ``"x^2*sin(x)"``.
    var : str, optional
        The variable; optional when ``f`` has one free symbol.
    order : int
        Differentiate this many times (each time from the tidied previous answer).
    at : dict, sequence or number, optional
        A point (values for every free symbol) at which to evaluate; the value is
        ``.value`` of the result (and ``float(result)``).

    Returns
    -------
    Derivation
        ``.result`` (tidied), ``.steps`` (the rule tree), ``.explain()``, ``.rules_used()``.

    Examples
    --------
    >>> import calcml as cm
    >>> d = cm.derivative("x^2*sin(x)", "x")
    >>> d.result
    x*(x*cos(x) + 2*sin(x))
    >>> sorted(d.rules_used())
    ['power', 'product', 'sin']
    >>> cm.derivative("x^3", order=2, at=2).value
    12.0
    """
    expr = as_expr(f)
    x = single_variable(expr, var)
    d = _derive(expr, x, order)
    if at is None:
        return d
    return _evaluate_derivation(d, at, _point_variables(expr, x, at))


@budgeted
def partial(
    f: ExprLike, var: str | sympy.Symbol, at: PointLike | None = None, order: int = 1
) -> Derivation:
    """The partial derivative of ``f`` by ``var``, the other variables held constant.

    Examples
    --------
    >>> import calcml as cm
    >>> d = cm.partial("x^2 y + y^3", "y")
    >>> d.result
    x**2 + 3*y**2
    >>> cm.partial("x^2 y + y^3", "y", at={"x": 1, "y": 2}).value
    13.0
    """
    expr = as_expr(f)
    x = as_symbol(var, expr)
    d = _derive(expr, x, order)
    d.title = f"∂/∂{x}" if order == 1 else f"∂^{order}/∂{x}^{order}"
    d.operator = "∂"
    return _evaluate_derivation(d, at, _point_variables(expr, x, at))


def _diff(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """A derivative for the matrices: the rule engine's answer, tidied."""
    return tidy(differentiate(expr, x).result)


def _matrix_at(
    matrix: sympy.Matrix, variables: list[sympy.Symbol], at: PointLike | None, what: str
) -> sympy.Matrix | np.ndarray:
    if at is None:
        return matrix
    values = point_values(at, variables)
    out = np.empty(matrix.shape)
    for (i, j), entry in np.ndenumerate(np.array(matrix.tolist(), dtype=object)):
        out[i, j] = evaluate(entry, variables, values, what=f"{what}[{i}, {j}]")
    return out


@budgeted
def gradient(
    f: ExprLike, variables: VariablesLike = None, at: PointLike | None = None
) -> sympy.Matrix | np.ndarray:
    """The gradient of a scalar ``f``: a column of partial derivatives.

    Returns a SymPy column Matrix, or with ``at=`` a NumPy array of shape ``(n,)``.

    Examples
    --------
    >>> import calcml as cm
    >>> cm.gradient("x^2 + 3 x y", at=[1, 2])
    array([8., 3.])
    """
    expr = as_expr(f)
    xs = as_variables(variables, expr)
    column = sympy.Matrix([_diff(expr, x) for x in xs])
    out = _matrix_at(column, xs, at, "the gradient")
    return out.ravel() if isinstance(out, np.ndarray) else out


@budgeted
def jacobian(
    fs: ExprLike | Sequence[ExprLike], variables: VariablesLike = None, at: PointLike | None = None
) -> sympy.Matrix | np.ndarray:
    """The Jacobian of one or several functions: row i holds the gradient of f_i.

    A single expression gives a 1 x n row, as the course writes it. Text may list
    several functions separated by ``;``.

    Examples
    --------
    >>> import calcml as cm
    >>> cm.jacobian(["x^2 y", "5x + sin(y)"])
    Matrix([
    [2*x*y, x**2],
    [    5, cos(y)]])
    >>> cm.jacobian("x y", at=[2, 3])
    array([[3., 2.]])
    """
    exprs = _function_list(fs)
    xs = as_variables(variables, sympy.Tuple(*exprs))
    matrix = sympy.Matrix([[_diff(e, x) for x in xs] for e in exprs])
    return _matrix_at(matrix, xs, at, "the Jacobian")


def _function_list(fs: Any) -> list[sympy.Expr]:
    if isinstance(fs, str):
        parts = [p for p in fs.split(";") if p.strip()] or [fs]
        return [as_expr(p) for p in parts]
    if isinstance(fs, sympy.MatrixBase):
        return [as_expr(e) for e in fs]
    if isinstance(fs, Sequence):
        if not fs:
            raise CalcmlError("the list of functions is empty")
        return [as_expr(f, what=f"function {i + 1}") for i, f in enumerate(fs)]
    return [as_expr(fs)]


@budgeted
def hessian(
    f: ExprLike, variables: VariablesLike = None, at: PointLike | None = None
) -> sympy.Matrix | np.ndarray:
    """The Hessian of a scalar ``f``: the n x n matrix of second partial derivatives.

    Examples
    --------
    >>> import calcml as cm
    >>> cm.hessian("x^3 + x y^2")
    Matrix([
    [6*x, 2*y],
    [2*y, 2*x]])
    """
    expr = as_expr(f)
    xs = as_variables(variables, expr)
    first = [_diff(expr, x) for x in xs]
    n = len(xs)
    matrix = sympy.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            matrix[i, j] = matrix[j, i] = _diff(first[i], xs[j])
    return _matrix_at(matrix, xs, at, "the Hessian")


@budgeted
def total_derivative(
    f: ExprLike, paths: Mapping[str, ExprLike], var: str = "t", at: PointLike | None = None
) -> Derivation:
    """df/dt when every variable of ``f`` moves along a path: the multivariate chain rule.

    ``df/dt = sum_i (∂f/∂x_i)(x(t)) · dx_i/dt``. Each partial derivative and each path
    derivative is a derivation of its own, shown as substeps.

    Examples
    --------
    >>> import calcml as cm
    >>> d = cm.total_derivative("x^2 y", {"x": "t - 1", "y": "t^2"}, "t")
    >>> d.result
    2*t*(t - 1)*(2*t - 1)
    >>> cm.total_derivative("x^2 y", {"x": "t - 1", "y": "t^2"}, "t", at=2).value
    12.0
    """
    expr = as_expr(f)
    t = sympy.Symbol(var) if isinstance(var, str) else var
    if not isinstance(paths, Mapping) or not paths:
        raise CalcmlError("paths must be a dict {variable: expression in t}, e.g. {'x': 't^2'}")
    moves = {
        as_symbol(str(name), expr): as_expr(p, what=f"the path of {name}")
        for name, p in paths.items()
    }
    substeps: list[Step] = []
    terms = []
    along = {x: p for x, p in moves.items()}
    for x, path in moves.items():
        df_dx = differentiate(expr, x)
        dx_dt = differentiate(path, t)
        substeps += [df_dx, dx_dt]
        terms.append(tidy(df_dx.result).xreplace(along) * dx_dt.result)
    composite = expr.xreplace(along)
    result = sympy.Add(*terms)
    names = list(moves)

    def why() -> str:
        parts = " + ".join(f"∂f/∂{x}·d{x}/d{t}" for x in names)
        return (
            f"Multivariate chain rule: d/d{t} f({', '.join(map(str, names))}) = {parts}, "
            f"each partial evaluated along the path."
        )

    root = Step("chain", composite, result, substeps, why, t)
    d = Derivation(composite, t, [root], tidy, 1, title=f"d/d{t} along the path")
    d.expr = composite
    point_vars = sorted(composite.free_symbols | {t}, key=lambda s: s.name)
    return _evaluate_derivation(d, at, point_vars)
