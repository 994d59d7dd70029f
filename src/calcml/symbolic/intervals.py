"""Safe upper bounds of |g(x)| over an interval: interval arithmetic, branch and bound.

A Taylor remainder bound needs M = max |f^(n+1)| over an interval, and it is only honest
if M is never too small. Sampling cannot promise that (a narrow peak between samples is
missed). Interval arithmetic can: evaluating g on an *interval* of x, with every
operation rounded outwards (mpmath's ``iv`` context), gives an interval that is
guaranteed to contain every value g takes there. The guarantee comes at the price of
overestimation (``x - x`` on [0, 1] gives [-1, 1]), which shrinks as the interval does.
So the interval is cut into pieces, and the piece with the largest bound is halved
again and again (branch and bound) until the largest bound is within a few percent of
a value g really takes (found at the pieces' midpoints). The result is always a true
upper bound; the refining only makes it tight.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> m = max_abs(sympy.exp(x), x, -0.5, 0.5)
>>> bool(m.upper >= float(sympy.exp(0.5))), round(m.upper, 2)
(True, 1.65)
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from ..errors import CalcmlError

iv = mpmath.iv
Interval = Any  # an mpmath ivmpf
Compiled = Callable[[Interval], Interval]


class NoIntervalRule(CalcmlError):
    """The expression uses a function that has no interval rule here."""


# -- compiling an expression to a function of an interval ----------------------------------


def _sign(u: Interval) -> Interval:
    if u.a > 0:
        return iv.mpf(1)
    if u.b < 0:
        return iv.mpf(-1)
    return iv.mpf([-1, 1])


def _asin(u: Interval) -> Interval:
    if u.a < -1 or u.b > 1:
        return iv.mpf([-mpmath.inf, mpmath.inf])  # outside the domain: no bound
    return iv.atan2(u, iv.sqrt(1 - u * u))


def _acos(u: Interval) -> Interval:
    return iv.pi / 2 - _asin(u)


def _log(u: Interval) -> Interval:
    if u.a <= 0:
        return iv.mpf([-mpmath.inf, mpmath.inf])  # log reaches -inf (or is undefined)
    return iv.log(u)


# Each function of one argument with a rule that encloses its values on an interval.
# Monotone ones missing from mpmath.iv are written with functions it has; the results
# still enclose the true values (if loosely: the refinement tightens them).
FUNCTIONS: dict[type, Callable[[Interval], Interval]] = {
    sympy.exp: iv.exp,
    sympy.log: _log,
    sympy.sin: iv.sin,
    sympy.cos: iv.cos,
    sympy.tan: iv.tan,
    sympy.sec: iv.sec,
    sympy.csc: iv.csc,
    sympy.cot: iv.cot,
    sympy.atan: lambda u: iv.atan2(u, iv.mpf(1)),
    sympy.asin: _asin,
    sympy.acos: _acos,
    sympy.sinh: lambda u: (iv.exp(u) - iv.exp(-u)) / 2,
    sympy.cosh: lambda u: (iv.exp(u) + iv.exp(-u)) / 2,
    sympy.tanh: lambda u: 1 - 2 / (iv.exp(2 * u) + 1),
    sympy.Abs: abs,
    sympy.sign: _sign,
}


def _constant(value: sympy.Expr) -> Interval:
    if value.is_Rational:
        return iv.mpf(int(value.p)) / iv.mpf(int(value.q))
    if value is sympy.pi:
        return iv.pi
    if value is sympy.E:
        return iv.e
    if value.is_Float:
        return iv.mpf(str(value))
    raise NoIntervalRule(f"no interval rule for the constant {value}")


def compile_interval(expr: sympy.Expr, x: sympy.Symbol) -> Compiled:
    """A function of an interval of ``x`` enclosing the values of ``expr`` on it."""
    if expr == x:
        return lambda u: u
    if expr.is_Atom:
        value = _constant(expr)
        return lambda u: value
    if not expr.has(x) and expr.is_number:
        # a constant such as exp(1) or sqrt(2): enclosed once, by the rules for its parts
        value = _structure(expr, x)(iv.mpf(0))
        return lambda u: value
    return _structure(expr, x)


def _structure(expr: sympy.Expr, x: sympy.Symbol) -> Compiled:
    if expr.is_Add:
        parts = [compile_interval(a, x) for a in expr.args]
        return lambda u: _fold(parts, u, lambda s, t: s + t)
    if expr.is_Mul:
        parts = [compile_interval(a, x) for a in expr.args]
        return lambda u: _fold(parts, u, lambda s, t: s * t)
    if expr.is_Pow:
        return _compile_power(expr, x)
    rule = FUNCTIONS.get(type(expr))
    if rule is not None and len(expr.args) == 1:
        arg = compile_interval(expr.args[0], x)
        return lambda u: rule(arg(u))
    raise NoIntervalRule(f"no interval rule for {type(expr).__name__}")


def _fold(parts: list[Compiled], u: Interval, op: Callable) -> Interval:
    total = parts[0](u)
    for part in parts[1:]:
        total = op(total, part(u))
    return total


def _compile_power(expr: sympy.Pow, x: sympy.Symbol) -> Compiled:
    base_expr, exponent = expr.args
    base = compile_interval(base_expr, x)
    if exponent.is_Integer:
        n = int(exponent)
        if n >= 0:
            return lambda u: base(u) ** n  # even powers of [-1, 2] give [0, 4]
        return lambda u: 1 / (base(u) ** -n)  # 1/[.. 0 ..] is [-inf, inf]: no bound
    if exponent == sympy.Rational(1, 2):
        return lambda u: _sqrt(base(u))
    power = compile_interval(exponent, x)

    def general(u: Interval) -> Interval:  # b^e = exp(e ln b), for b > 0
        b = base(u)
        if b.a <= 0:
            return iv.mpf([-mpmath.inf, mpmath.inf])
        return iv.exp(power(u) * iv.log(b))

    return general


def _sqrt(b: Interval) -> Interval:
    if b.a < 0:
        return iv.mpf([-mpmath.inf, mpmath.inf])
    return iv.sqrt(b)


# -- branch and bound ------------------------------------------------------------------------


@dataclass
class MaxAbs:
    """An upper bound of max |g| over [lo, hi], and a value |g| really takes (``lower``,
    at ``where``): the true maximum lies between them."""

    upper: float
    lower: float
    where: float
    pieces: int


def _upper(g: Compiled, a: float, b: float) -> float:
    y = g(iv.mpf([a, b]))
    hi = max(abs(y.a), abs(y.b))
    value = float(hi)
    if math.isnan(value):
        return math.inf
    # float() of an mpf rounds to nearest; one step up keeps the bound a bound
    return math.nextafter(value, math.inf) if math.isfinite(value) else math.inf


def _point(g: Compiled, p: float) -> float:
    y = g(iv.mpf(p))
    value = float(mpmath.mpf(y.mid)) if math.isfinite(float(y.a)) else math.inf
    return abs(value)


def max_abs(
    expr: sympy.Expr,
    x: sympy.Symbol,
    lo: float,
    hi: float,
    rtol: float = 0.05,
    max_pieces: int = 2000,
) -> MaxAbs:
    """A guaranteed upper bound of max |expr| for x in [lo, hi], tight to about ``rtol``.

    Raises a ``CalcmlError`` when no finite bound exists (expr is unbounded or undefined
    somewhere in the interval), naming where.

    >>> x = sympy.Symbol("x")
    >>> m = max_abs(sympy.sin(x), x, 0.0, 3.0)
    >>> 1.0 <= m.upper <= 1.02
    True
    """
    if not lo < hi:
        raise CalcmlError(f"the interval [{lo}, {hi}] is empty: it needs lo < hi")
    g = compile_interval(expr, x)
    heap: list[tuple[float, float, float]] = []
    lower, where = 0.0, lo
    n0 = 16
    edges = [lo + (hi - lo) * i / n0 for i in range(n0 + 1)]
    for p in edges:
        value = _point(g, p)
        if value > lower:
            lower, where = value, p
    for a, b in itertools.pairwise(edges):
        heapq.heappush(heap, (-_upper(g, a, b), a, b))
    pieces = n0
    while pieces < max_pieces:
        top, a, b = heap[0]
        if -top <= lower * (1 + rtol) or b - a <= 1e-12 * max(1.0, abs(a)):
            break
        heapq.heappop(heap)
        m = 0.5 * (a + b)
        value = _point(g, m)
        if value > lower:
            lower, where = value, m
        heapq.heappush(heap, (-_upper(g, a, m), a, m))
        heapq.heappush(heap, (-_upper(g, m, b), m, b))
        pieces += 1
    upper = -heap[0][0]
    if not math.isfinite(upper):
        _, a, b = min((p for p in heap if p[0] == -math.inf), key=lambda p: p[2] - p[1])
        from ..expr import to_text

        raise CalcmlError(
            f"{to_text(expr)} has no finite bound on [{lo:g}, {hi:g}]: near x = "
            f"{0.5 * (a + b):.6g} it is unbounded, undefined, or beyond the range of "
            "floating-point numbers"
        )
    return MaxAbs(upper=upper, lower=lower, where=where, pieces=pieces)
