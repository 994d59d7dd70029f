"""``equivalent``: is a learner's answer the same function as the expected one?

Two expressions are equivalent when they agree at every point of their common real
domain. calcml checks this the way a careful person would: first a cheap exact check
(are they identical after expansion?), then evaluation at many random points (a single
disagreement, confirmed at 30 digits, proves them different), and when too few random
points lie in the common domain, symbolic simplification of the difference.
``sqrt(x^2)`` is not ``x``: at x = -1 one is 1 and the other -1.

>>> equivalent("2*sin(x)*cos(x)", "sin(2x)")
True
>>> equivalent("sqrt(x^2)", "x")
False
"""

from __future__ import annotations

import numpy as np
import sympy

from ..budget import budgeted, time_budget
from ..errors import LimitError
from .compile import compile_expr
from .inputs import ExprLike, as_expr, variables_of

SAMPLES = 200
MIN_AGREEING = 20
_RNG_SEED = 20261122


def _sample_points(n_vars: int, rng: np.random.Generator) -> np.ndarray:
    """Random points at several scales: near 0, moderate, large, and positive-only."""
    k = SAMPLES // 4
    return np.concatenate(
        [
            rng.uniform(-1, 1, (k, n_vars)),
            rng.uniform(-10, 10, (k, n_vars)),
            rng.uniform(0, 3, (k, n_vars)),
            rng.normal(0, 100, (SAMPLES - 3 * k, n_vars)),
        ]
    )


def _differ_exactly(a: sympy.Expr, b: sympy.Expr, variables: list, point: np.ndarray) -> bool:
    """Confirm a float disagreement at 30 significant digits (rounding cannot fake it)."""
    subs = {v: sympy.Float(float(x), 30) for v, x in zip(variables, point, strict=True)}
    va, vb = a.xreplace(subs).evalf(30), b.xreplace(subs).evalf(30)
    if (
        not (va.is_real and vb.is_real)
        or va.has(sympy.zoo, sympy.nan)
        or vb.has(sympy.zoo, sympy.nan)
    ):
        return False
    scale = max(abs(va), abs(vb), sympy.Float(1e-10, 30))
    return bool(abs(va - vb) > sympy.Float(1e-15, 30) * scale)


@budgeted
def equivalent(a: ExprLike, b: ExprLike) -> bool:
    """Whether ``a`` and ``b`` are the same function on their common real domain.

    Parameters
    ----------
    a, b : str or sympy.Expr
        The two expressions, e.g. a learner's answer and the expected one.

    Returns
    -------
    bool

    Examples
    --------
    >>> import calcml as cm
    >>> cm.equivalent("(x+1)^2", "x^2 + 2x + 1")
    True
    >>> cm.equivalent("ln(x^2)", "2 ln(x)")   # they agree wherever both are defined
    True
    >>> cm.equivalent("x/x", "1")
    True
    """
    ea, eb = as_expr(a, "the first expression"), as_expr(b, "the second expression")
    if ea == eb:
        return True
    variables = variables_of(sympy.Tuple(ea, eb))
    if not variables:
        return not _differ_exactly(ea, eb, [], np.empty(0))
    fa, fb = compile_expr(ea, variables), compile_expr(eb, variables)
    points = _sample_points(len(variables), np.random.default_rng(_RNG_SEED))
    va, vb = fa(*points.T), fb(*points.T)
    both = np.isfinite(va) & np.isfinite(vb)
    scale = np.maximum(np.maximum(np.abs(va), np.abs(vb)), 1.0)
    with np.errstate(invalid="ignore"):
        gap = np.where(both, np.abs(va - vb) / scale, 0.0)
    # Float rounding makes small gaps everywhere; the widest ones are where a real
    # difference would show. Check those few again at 30 digits.
    for index in np.argsort(gap)[::-1][:5]:
        if gap[index] > 1e-13 and _differ_exactly(ea, eb, variables, points[index]):
            return False
    if int(both.sum()) >= MIN_AGREEING:
        return True
    # Few points in the common domain (or only float noise): let SymPy decide.
    try:
        with time_budget(2.0, "simplifying the difference"):
            return bool(sympy.simplify(ea - eb) == 0)
    except LimitError:
        return False
