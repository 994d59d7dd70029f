"""Where a function of one variable stops being analytic: its complex singularities.

The radius of convergence of a Taylor series about a is the distance from a to the
nearest point of the complex plane where the function is not analytic. That is why the
series of 1/(1 + x^2) about 0 converges only for |x| < 1 although the function is smooth
on the whole real line: it has poles at x = i and x = -i.

The search is structural and table-driven: each function says where it breaks in terms
of its argument (1/u and log u where u = 0, tan u where u = pi/2 + k pi, atan u where
u = +-i, ...), and the points are solved for when the argument is a polynomial in x
(roots) or linear in x (the periodic families). Anything else is "unknown" (None) rather
than a guess.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> radius_of_convergence(1 / (1 + x**2), x, 0)
1.0
>>> radius_of_convergence(sympy.exp(x) * sympy.sin(x), x, 0)
inf
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy

# Functions analytic everywhere in their argument (entire).
ENTIRE = (sympy.exp, sympy.sin, sympy.cos, sympy.sinh, sympy.cosh)

# Periodic families: the argument values where they break are base + k * period.
PERIODIC = {
    sympy.tan: (sympy.pi / 2, sympy.pi),
    sympy.sec: (sympy.pi / 2, sympy.pi),
    sympy.cot: (sympy.Integer(0), sympy.pi),
    sympy.csc: (sympy.Integer(0), sympy.pi),
    sympy.tanh: (sympy.I * sympy.pi / 2, sympy.I * sympy.pi),
    sympy.sech: (sympy.I * sympy.pi / 2, sympy.I * sympy.pi),
    sympy.coth: (sympy.Integer(0), sympy.I * sympy.pi),
    sympy.csch: (sympy.Integer(0), sympy.I * sympy.pi),
}

# Functions breaking where the argument takes one of a few values (branch points).
AT_VALUES = {
    sympy.log: (0,),
    sympy.atan: (1j, -1j),
    sympy.asin: (1, -1),
    sympy.acos: (1, -1),
    sympy.acot: (1j, -1j),
}


def radius_of_convergence(expr: sympy.Expr, x: sympy.Symbol, about: float) -> float | None:
    """The distance from ``about`` to the nearest complex singularity of ``expr`` (inf
    for an entire function), or None when it cannot be found this way."""
    points = singularities(expr, x, complex(about))
    if points is None:
        return None
    if points:
        f = sympy.lambdify(x, expr, modules="mpmath")  # once, for every candidate
        points = [p for p in points if not _removable(f, p)]
    if not points:
        return math.inf
    return float(min(abs(p - complex(about)) for p in points))


def _removable(f: Any, point: complex) -> bool:
    """Whether ``f`` (an mpmath function of x) is in fact analytic at ``point`` (sin(x)/x
    at 0: 1/x's pole is cancelled). Probed with 30-digit values on two small circles
    around the point: an analytic function's spread shrinks at least in proportion to
    the radius; a pole's grows, a branch point's (sqrt, log) shrinks more slowly or not
    at all."""
    import mpmath

    spreads = []
    try:
        with mpmath.workdps(30):
            centre = mpmath.mpc(point.real, point.imag)
            for radius in (mpmath.mpf("1e-4"), mpmath.mpf("1e-8")):
                values = [
                    f(centre + radius * mpmath.expjpi(mpmath.mpf(2 * k) / 8)) for k in range(8)
                ]
                mean = mpmath.fsum(values) / 8
                spreads.append(max(abs(v - mean) for v in values))
    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
        return False
    if not all(mpmath.isfinite(s) for s in spreads):
        return False
    return bool(spreads[1] <= spreads[0] * 1e-3 + mpmath.mpf("1e-25"))


def singularities(expr: sympy.Expr, x: sympy.Symbol, near: complex) -> list[complex] | None:
    """Complex points where ``expr`` is not analytic (for periodic families, those near
    ``near``), or None when some part of ``expr`` is beyond this analysis."""
    found: list[complex] = []
    for node in sympy.preorder_traversal(expr):
        if not node.has(x) or node.is_Symbol or node.is_Add or node.is_Mul:
            continue
        points = _breaks(node, x, near)
        if points is None:
            return None
        found.extend(points)
    return found


def _breaks(node: sympy.Expr, x: sympy.Symbol, near: complex) -> list[complex] | None:
    if node.is_Pow:
        base, exponent = node.args
        if exponent.has(x):
            return _zeros(base, x)  # b^e = exp(e log b): log's branch point, where b = 0
        if exponent.is_Integer and exponent >= 0:
            return []
        return _zeros(base, x)  # a pole (1/u) or a branch point (sqrt u) where u = 0
    if isinstance(node, ENTIRE):
        return []
    for family, (base, period) in PERIODIC.items():
        if isinstance(node, family):
            return _periodic(node.args[0], x, complex(base), complex(period), near)
    for family, values in AT_VALUES.items():
        if isinstance(node, family):
            out: list[complex] = []
            for v in values:
                zeros = _zeros(node.args[0] - sympy.sympify(v), x)
                if zeros is None:
                    return None
                out.extend(zeros)
            return out
    return None  # |u|, sign, floor, unknown functions: not analysed


def _zeros(u: sympy.Expr, x: sympy.Symbol) -> list[complex] | None:
    """The complex zeros of u when u is a polynomial in x; None otherwise."""
    if not u.has(x):
        return []
    try:
        poly = sympy.Poly(u, x)
    except sympy.PolynomialError:
        return None
    if not all(c.is_number for c in poly.all_coeffs()):
        return None
    if poly.degree() < 1:
        return []
    if poly.degree() <= 2:  # exactly, so that 1 + x^2 gives |i| = 1.0 on the dot
        return [complex(r) for r in sympy.roots(poly, multiple=True)]
    return [complex(r) for r in np.roots([complex(c) for c in poly.all_coeffs()])]


def _periodic(
    u: sympy.Expr, x: sympy.Symbol, base: complex, period: complex, near: complex
) -> list[complex] | None:
    """Points where a linear u = c x + d equals base + k * period, for the k nearest."""
    try:
        poly = sympy.Poly(u, x)
    except sympy.PolynomialError:
        return None
    if poly.degree() != 1 or not all(c.is_number for c in poly.all_coeffs()):
        return None
    c, d = (complex(v) for v in poly.all_coeffs())
    # x = (base + k period - d) / c; the k nearest to `near` is about (c near + d - base)/period
    k0 = round(((c * near + d - base) / period).real)
    return [(base + k * period - d) / c for k in range(k0 - 2, k0 + 3)]
