"""Exact stationary points and Lagrange multipliers, solved by SymPy and classified.

``stationary_points(f)`` solves grad f = 0 and classifies each point by the eigenvalues
of the Hessian there: all positive, a minimum; all negative, a maximum; both signs, a
saddle; a zero eigenvalue, degenerate (the second-derivative test cannot decide).
``lagrange(f, constraints)`` solves grad f = sum lambda_i grad g_i with g_i = 0 for all
constrained stationary points; with ``x0`` it finds one numerically (Newton on the
gradient of the Lagrangian).

>>> [(p.point, p.kind) for p in stationary_points("x^2 - y^2")]
[({'x': 0, 'y': 0}, 'saddle')]
>>> sols = lagrange("x + y", ["x^2 + y^2 - 2"])
>>> sorted((s.x["x"], s.fun) for s in sols)
[(-1, -2), (1, 2)]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from ..budget import budgeted
from ..errors import CalcmlError
from ..expr import to_text
from ..function import Function
from ..symbolic.inputs import as_expr, as_variables
from .result import Result
from .roots import newton_raphson


@dataclass
class StationaryPoint:
    """A point where grad f = 0: ``point`` {name: exact value}, ``value`` f there,
    ``kind`` minimum | maximum | saddle | degenerate, the Hessian's eigenvalues."""

    point: dict[str, sympy.Expr]
    value: sympy.Expr
    kind: str
    eigenvalues: list[float] = field(default_factory=list)


@dataclass
class LagrangePoint:
    """A constrained stationary point: ``x`` {name: value}, ``fun`` f there, and
    ``multipliers`` [lambda_1, ...] with grad f = sum lambda_i grad g_i."""

    x: dict[str, Any]
    fun: Any
    multipliers: list[Any]


def _real_solutions(equations: list, unknowns: list, what: str) -> list[dict]:
    try:
        solutions = sympy.solve(equations, unknowns, dict=True)
    except NotImplementedError:
        raise CalcmlError(
            f"SymPy cannot solve {what} exactly; try a numerical method "
            "from a starting point (minimize, or lagrange with x0=)"
        ) from None
    real = []
    for s in solutions:
        if all(v.is_real is not False for v in s.values()):
            real.append(s)
    return real


def _classify(hessian: sympy.Matrix, at: dict) -> tuple[str, list[float]]:
    """The kind of a stationary point from the signs of the Hessian's eigenvalues.

    The signs are counted exactly: the characteristic polynomial of a symmetric matrix
    has only real roots, so Descartes' rule of signs on its (exact) coefficients counts
    the positive ones exactly, and the trailing zero coefficients count the zero ones.
    No tolerance decides whether 10^-11 is zero. Only when a coefficient's sign cannot
    be decided does a numerical test (relative to the largest eigenvalue) take over.
    """
    h = hessian.subs(at)
    eig = np.linalg.eigvalsh(np.array(h.evalf(30).tolist(), dtype=float)) if h else np.zeros(0)
    counts = _sign_counts(h)
    if counts is None:
        tol = 1e-10 * (float(np.max(np.abs(eig))) if eig.size else 0.0)
        counts = (int(np.sum(eig > tol)), int(np.sum(eig < -tol)), int(np.sum(abs(eig) <= tol)))
    positive, negative, zero = counts
    if positive and negative:
        return "saddle", eig.tolist()  # both signs decide it, zeros or not
    if zero or not (positive or negative):
        return "degenerate", eig.tolist()
    return ("minimum" if positive else "maximum"), eig.tolist()


def _sign_counts(h: sympy.Matrix) -> tuple[int, int, int] | None:
    """(positive, negative, zero) eigenvalue counts of a symmetric exact matrix, or None."""
    n = h.rows
    if n == 0:
        return (0, 0, 0)
    coeffs = h.charpoly().all_coeffs()  # det(lambda I - H), highest power first
    signs = []
    for c in coeffs:
        c = sympy.nsimplify(c) if c.is_Float else c
        if c.is_zero:
            signs.append(0)
        elif c.is_positive:
            signs.append(1)
        elif c.is_negative:
            signs.append(-1)
        else:
            return None  # undecidable exactly: numbers will do
    zero = 0
    while signs and signs[-1] == 0:
        signs.pop()
        zero += 1
    nonzero = [sg for sg in signs if sg]
    positive = sum(1 for a, b in itertools.pairwise(nonzero) if a != b)
    return positive, n - zero - positive, zero


@budgeted
def stationary_points(f: Any, variables: Any = None) -> list[StationaryPoint]:
    """All real solutions of grad f = 0 that SymPy finds, each classified by its Hessian.

    A solution that leaves some variable free (a line of stationary points, as for
    (x - y)^2) is reported with the remaining symbols in its point and kind "degenerate".

    >>> [(p.point, p.kind) for p in stationary_points("x^3 - 3x")]
    [({'x': -1}, 'maximum'), ({'x': 1}, 'minimum')]
    """
    expr = as_expr(f)
    xs = as_variables(variables, expr)
    grad = [sympy.diff(expr, v) for v in xs]
    hess = sympy.hessian(expr, xs)
    points = []
    for s in _real_solutions(grad, xs, f"grad f = 0 for {to_text(expr)}"):
        at = {v: s.get(v, v) for v in xs}
        point = {str(v): sympy.nsimplify(at[v]) if at[v].is_Float else at[v] for v in xs}
        value = sympy.simplify(expr.subs(at))
        if any(e.free_symbols for e in at.values()):
            points.append(StationaryPoint(point, value, "degenerate"))
            continue
        kind, eig = _classify(hess, at)
        points.append(StationaryPoint(point, value, kind, eig))
    return sorted(points, key=lambda p: [_sort_key(v) for v in p.point.values()])


def _sort_key(v: sympy.Expr) -> float:
    try:
        return float(v)
    except TypeError:
        return 0.0


@budgeted
def lagrange(
    f: Any, constraints: Any, x0: Any = None, variables: Any = None
) -> list[LagrangePoint] | Result:
    """Constrained stationary points of f with g_i = 0 (Lagrange multipliers).

    Without ``x0``: all of them, exactly. With ``x0``: one, by Newton-Raphson on the
    system grad f - sum lambda_i grad g_i = 0, g = 0 from x0 (multipliers started at
    their least-squares values); the :class:`Result` carries ``multipliers``.

    >>> r = lagrange("x*y", ["x + y - 2"], x0=[0.5, 1.0])
    >>> r.success, np.round(r.x, 10).tolist(), np.round(r.multipliers, 10).tolist()
    (True, [1.0, 1.0], [1.0])
    """
    expr = as_expr(f)
    gs = [
        as_expr(g, "a constraint")
        for g in ([constraints] if isinstance(constraints, str) else constraints)
    ]
    if not gs:
        raise CalcmlError("give at least one constraint g(x) (meaning g(x) = 0)")
    xs = as_variables(variables, sympy.Tuple(expr, *gs))
    lams = [sympy.Symbol(f"lambda{i + 1}") for i in range(len(gs))]
    equations = [
        sympy.diff(expr, v) - sum(lam * sympy.diff(g, v) for lam, g in zip(lams, gs, strict=True))
        for v in xs
    ] + gs
    if x0 is not None:
        return _numeric(equations, xs, lams, expr, gs, x0)
    out = []
    for s in _real_solutions(equations, xs + lams, "the Lagrange equations"):
        if any(v not in s or s[v].free_symbols for v in xs + lams):
            continue
        point = {str(v): s[v] for v in xs}
        out.append(LagrangePoint(point, sympy.simplify(expr.subs(s)), [s[lam] for lam in lams]))
    return out


def _numeric(equations: list, xs: list, lams: list, expr: sympy.Expr, gs: list, x0: Any) -> Result:
    x0 = np.asarray(x0, dtype=float).ravel()
    if x0.shape != (len(xs),):
        raise CalcmlError(f"x0 needs {len(xs)} numbers ({', '.join(map(str, xs))})")
    fn = Function(expr, variables=[str(v) for v in xs])
    cn = Function(gs, variables=[str(v) for v in xs])
    a = np.atleast_2d(cn.jacobian(x0))
    lam0 = np.linalg.lstsq(a.T, fn.gradient(x0), rcond=None)[0]
    system = Function(equations, variables=[str(v) for v in xs + lams])
    r = newton_raphson(system, np.concatenate([x0, lam0]))
    n = len(xs)
    z = np.asarray(r.x, dtype=float)
    r.x, r.multipliers = z[:n], z[n:]
    r.history = [np.asarray(h)[:n] for h in r.history]  # the points; multipliers in rows
    for row in r.rows:
        full = np.asarray(row.pop("x"))
        row["x"], row["lambda"] = full[:n], full[n:]
    r.fun = float(fn.value(r.x))
    r.method = "lagrange (Newton on grad L = 0)"
    r.variables = [str(v) for v in xs]
    return r
