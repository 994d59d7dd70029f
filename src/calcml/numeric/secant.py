"""Slope as rise over run: the table of secant slopes that leads to the derivative.

The first idea of calculus is that the slope of a curve at a point is the limit of the
slopes of secant lines through that point: for a run ``h`` the rise is
``f(x0 + h) - f(x0)`` and the slope is rise / run. :func:`secant_slopes` builds that table
for a list of shrinking runs, so a learner can watch the slopes close in on the derivative;
for an expression the table also carries the exact derivative to compare against.

>>> t = secant_slopes("x^2", 3, runs=[1, 0.5, 0.25])
>>> t.slopes.tolist()
[7.0, 6.5, 6.25]
>>> t.derivative
6.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import sympy

from ..errors import CalcmlError, LimitError
from ..expr import to_text
from ..symbolic.calculus import derivative as exact_derivative
from ..symbolic.compile import compile_expr
from ..symbolic.inputs import as_expr, single_variable

DEFAULT_RUNS = (1, 0.5, 0.1, 0.01, 0.001)


@dataclass(frozen=True, eq=False)
class SecantTable:
    """Secant slopes of a function at ``x0``, one row per run.

    Attributes
    ----------
    x0 : float
        The point the secants start from.
    runs : np.ndarray
        The runs ``h`` (read-only).
    rises : np.ndarray
        ``f(x0 + h) - f(x0)`` for each run (read-only).
    slopes : np.ndarray
        ``rise / run`` for each run (read-only).
    derivative : float or None
        The exact derivative ``f'(x0)`` when ``f`` is an expression that has one there;
        ``None`` for a Python callable.
    fx0 : float
        ``f(x0)``, the point every secant line passes through.
    label : str
        How to name the function in text: its formula, or the callable's name.
    variable : str
        The name of the variable.
    """

    x0: float
    runs: np.ndarray
    rises: np.ndarray
    slopes: np.ndarray
    derivative: float | None = None
    fx0: float = math.nan
    label: str = "f"
    variable: str = "x"

    def rows(self) -> Iterator[tuple[float, float, float]]:
        """Yield ``(run, rise, slope)`` for each run, as Python floats.

        Examples
        --------
        >>> list(secant_slopes("3x + 1", 0, runs=[2]).rows())
        [(2.0, 6.0, 3.0)]
        """
        for run, rise, slope in zip(self.runs, self.rises, self.slopes, strict=True):
            yield float(run), float(rise), float(slope)

    def __str__(self) -> str:
        width = 14
        header = f"Secant slopes of {self.label} at {self.variable} = {self.x0:g}"
        names = "".join(name.rjust(width) for name in ("run h", "rise", "slope"))
        lines = [header, names]
        lines += ["".join(f"{v:{width}.8g}" for v in row) for row in self.rows()]
        if self.derivative is not None:
            lines.append(f"exact derivative f'({self.x0:g}) = {self.derivative:.10g}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{name}</th>" for name in ("run h", "rise", "slope"))
        body = "".join(
            "<tr>" + "".join(f"<td>{v:.8g}</td>" for v in row) + "</tr>" for row in self.rows()
        )
        exact = (
            "" if self.derivative is None else f"<p>exact derivative: {self.derivative:.10g}</p>"
        )
        caption = f"Secant slopes of {self.label} at {self.variable} = {self.x0:g}"
        return f"<table><caption>{caption}</caption><tr>{head}</tr>{body}</table>{exact}"


def secant_slopes(
    f: Any,
    x0: float,
    runs: Iterable[float] | float = DEFAULT_RUNS,
    var: str | sympy.Symbol | None = None,
) -> SecantTable:
    """The slopes ``(f(x0 + h) - f(x0)) / h`` of the secant lines through ``x0``.

    Parameters
    ----------
    f : str, sympy.Expr or callable
        The function: text such as ``"x^2"``, a SymPy expression of one variable, or a
        Python callable of one float.
    x0 : float
        Where the secants start.
    runs : sequence of float or float
        The runs ``h`` (non-zero and finite; negative runs give secants to the left).
    var : str, optional
        The variable, when an expression has more than one free symbol to choose from.

    Returns
    -------
    SecantTable
        ``runs``, ``rises``, ``slopes`` and, for an expression, the exact ``derivative``.

    Raises
    ------
    CalcmlError
        A run of 0 or a non-finite run or point; ``f`` not defined (or not finite) at
        ``x0`` or at some ``x0 + h``; an expression of more than one variable.

    Examples
    --------
    >>> t = secant_slopes("x^2", 3)
    >>> t.slopes.round(6).tolist()
    [7.0, 6.5, 6.1, 6.01, 6.001]
    >>> t.derivative
    6.0
    >>> import math
    >>> secant_slopes(math.exp, 0, runs=[1e-6]).slopes.round(5).tolist()
    [1.0]
    """
    point = _as_point(x0)
    hs = _as_runs(runs)
    func, expr, x = _as_function(f, var)
    values = func(np.concatenate([[point], point + hs]))
    _check_values(values, point, hs, _label(f, expr))
    fx0, rises = float(values[0]), values[1:] - values[0]
    slopes = rises / hs
    return SecantTable(
        x0=point,
        runs=_frozen(hs),
        rises=_frozen(rises),
        slopes=_frozen(slopes),
        derivative=None if expr is None else _exact_slope(expr, x, point),
        fx0=fx0,
        label=_label(f, expr),
        variable=str(x),
    )


def _as_point(x0: Any) -> float:
    if isinstance(x0, bool) or not isinstance(x0, Real | np.number):
        raise CalcmlError(f"x0 must be a number, not {x0!r}")
    point = float(x0)
    if not math.isfinite(point):
        raise CalcmlError(f"x0 must be a finite number, not {x0!r}")
    return point


def _as_runs(runs: Any) -> np.ndarray:
    try:
        hs = np.atleast_1d(np.asarray(runs, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise CalcmlError(f"runs must be numbers, not {runs!r}") from None
    if hs.size == 0:
        raise CalcmlError("runs is empty: give at least one run h, e.g. runs=[1, 0.1, 0.01]")
    if not np.all(np.isfinite(hs)):
        raise CalcmlError(f"every run must be a finite number; got {hs.tolist()}")
    if np.any(hs == 0):
        raise CalcmlError("a run of 0 has no slope (rise / 0): use small non-zero runs instead")
    return hs


def _as_function(
    f: Any, var: str | sympy.Symbol | None
) -> tuple[Callable[[np.ndarray], np.ndarray], sympy.Expr | None, Any]:
    """A vectorised evaluator of ``f``, with its expression and variable (None for callables)."""
    if callable(f) and not isinstance(f, sympy.Basic):
        name = var if var is not None else "x"
        return _vectorise(f), None, name
    expr = as_expr(f)
    x = single_variable(expr, var)
    others = expr.free_symbols - {x}
    if others:
        names = ", ".join(sorted(str(s) for s in others))
        raise CalcmlError(
            f"{to_text(expr)} also depends on {names}: secant slopes need a function of "
            f"{x} alone; substitute values for the other variables first"
        )
    compiled = compile_expr(expr, [x])
    return compiled, expr, x


def _vectorise(f: Callable[[float], Any]) -> Callable[[np.ndarray], np.ndarray]:
    def evaluate(xs: np.ndarray) -> np.ndarray:
        return np.array([_call(f, float(x)) for x in xs])

    return evaluate


def _call(f: Callable[[float], Any], x: float) -> float:
    """``f(x)`` as a float; NaN where ``f`` fails on a maths error (reported later)."""
    try:
        with np.errstate(all="ignore"):
            value = f(x)
    except (ArithmeticError, ValueError):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CalcmlError(
            f"the function must return a real number, but f({x:g}) gave {value!r}"
        ) from None


def _check_values(values: np.ndarray, x0: float, hs: np.ndarray, label: str) -> None:
    if not math.isfinite(values[0]):
        raise CalcmlError(f"{label} is not defined (or not finite) at x0 = {x0:g}")
    bad = ~np.isfinite(values[1:])
    if np.any(bad):
        h = float(hs[bad][0])
        raise CalcmlError(
            f"{label} is not defined (or not finite) at x0 + h = {x0 + h:g} (run h = {h:g}); "
            "choose smaller runs or another x0"
        )


def _exact_slope(expr: sympy.Expr, x: sympy.Symbol, x0: float) -> float | None:
    """f'(x0) from the symbolic derivative; None where the derivative is not defined."""
    try:
        return exact_derivative(expr, x, at=x0).value
    except LimitError:
        raise
    except CalcmlError:
        return None


def _label(f: Any, expr: sympy.Expr | None) -> str:
    if expr is not None:
        return to_text(expr)
    name = getattr(f, "__name__", "")
    return name if name.isidentifier() else "f"  # a lambda is "<lambda>"


def _frozen(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=float)
    out.setflags(write=False)
    return out
