"""Taylor polynomials (module 4) against independent oracles.

Nothing here is checked against calcml's own output. The oracles are:

* SymPy's ``series`` (which expands by limits and Puiseux series, not by a table of
  derivatives) for univariate polynomials, on textbook functions and on random
  expressions of calcml's language (``strategies.expressions``);
* SymPy's own ``diff`` and ``hessian`` for several variables: f(a) + J(a) dx +
  dx^T H(a) dx / 2, and a multi-index sum for order 3;
* mpmath at 30 digits for the true error |f - p| on dense grids, against which the
  Lagrange bound is measured, and hand-derived Lagrange bounds and radii of convergence.
"""

from __future__ import annotations

import cmath
import itertools
import math
import warnings
from functools import cache

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, Phase, assume, example, given, note, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.numpy as cnp
from calcml.budget import time_budget
from calcml.errors import CalcmlWarning
from calcml.symbolic import MultiTaylor, Taylor, truncation_slope
from strategies import expressions

x, y, z, u = sympy.symbols("x y z u")
x_real = sympy.Symbol("x", real=True)
HALF = sympy.Rational(1, 2)
QUARTER_PI = sympy.pi / 4


# -- helpers ---------------------------------------------------------------------------------


def shifted_coefficients(poly: sympy.Expr, var: sympy.Symbol, a: sympy.Expr, order: int):
    """The coefficients of ``poly`` in powers of (var - a), lowest first (asserting that
    it is a polynomial of degree at most ``order`` in var)."""
    p = sympy.Poly(sympy.expand(poly.subs(var, u + a)), u)
    assert p.degree() <= order, poly
    return [p.coeff_monomial(u**k) for k in range(order + 1)]


def exactly_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    """a == b for polynomials with exact constant coefficients (sin(1), sqrt(2)/2, ...):
    symbolically when expanding shows it, else each coefficient of a - b read at 60
    digits is 0 to 30 places (simplify is slow and sometimes fails on trig constants)."""
    d = sympy.expand(a - b)
    if d == 0:
        return True
    symbols = sorted(d.free_symbols, key=str)
    try:
        coefficients = sympy.Poly(d, *symbols).coeffs() if symbols else [d]
    except sympy.PolynomialError:
        return False
    try:
        return all(abs(complex(sympy.N(c, 60))) < 1e-30 for c in coefficients)
    except TypeError:  # a coefficient that is no number (an unevaluated derivative)
        return False


def finite_real(v: sympy.Expr) -> bool:
    """Whether v is a finite real number (read at 50 digits)."""
    v = sympy.sympify(v)
    if v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.AccumBounds):
        return False
    try:
        c = complex(sympy.N(v, 50))
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return False
    return cmath.isfinite(c) and abs(c.imag) <= 1e-30 * (1 + abs(c.real))


def mp(v: sympy.Expr) -> mpmath.mpf:
    return mpmath.mpf(str(sympy.N(v, 45)))


def true_error(f: sympy.Expr, t: Taylor, lo: float, hi: float, points: int = 2001) -> float:
    """max |f - p| over ``points`` equally spaced points of [lo, hi], computed at 30
    digits (f by mpmath, p by Horner's rule on the coefficients in powers of x - a)."""
    with mpmath.workdps(30):
        fe = sympy.lambdify(x, f, "mpmath")
        cs = [mp(c) for c in t.coefficients]
        a = mp(t.about)
        lo_, hi_ = mpmath.mpf(lo), mpmath.mpf(hi)
        worst = mpmath.mpf(0)
        for i in range(points):
            xi = lo_ + (hi_ - lo_) * i / (points - 1)
            p = mpmath.mpf(0)
            for c in reversed(cs):
                p = p * (xi - a) + c
            worst = max(worst, abs(fe(xi) - p))
        return float(worst)


# -- 1. univariate polynomials against sympy.series ------------------------------------------

TEXTBOOK = [
    # (text, SymPy oracle, expansion points where f is analytic)
    ("exp(x)", sympy.exp(x), (0, HALF, 1, QUARTER_PI)),
    ("sin(x)", sympy.sin(x), (0, HALF, 1, QUARTER_PI)),
    ("cos(x)", sympy.cos(x), (0, HALF, 1, QUARTER_PI)),
    ("tan(x)", sympy.tan(x), (0, HALF, 1, QUARTER_PI)),
    ("atan(x)", sympy.atan(x), (0, HALF, 1, QUARTER_PI)),
    ("asin(x)", sympy.asin(x), (0, HALF)),
    ("acos(x)", sympy.acos(x), (0, HALF)),
    ("log(1 + x)", sympy.log(1 + x), (0, HALF, 1, QUARTER_PI)),
    ("ln(x)", sympy.log(x), (HALF, 1, QUARTER_PI)),
    ("sqrt(1 + x)", sympy.sqrt(1 + x), (0, HALF, 1, QUARTER_PI)),
    ("1/(1 - x)", 1 / (1 - x), (0, HALF, QUARTER_PI)),
    ("sinh(x)", sympy.sinh(x), (0, HALF, 1)),
    ("cosh(x)", sympy.cosh(x), (0, HALF, 1)),
    ("tanh(x)", sympy.tanh(x), (0, HALF, 1)),
    ("exp(sin(x))", sympy.exp(sympy.sin(x)), (0, QUARTER_PI)),
    ("x^3 - 2x", x**3 - 2 * x, (0, HALF, 1, QUARTER_PI)),
    ("(1 + x)^(1/3)", (1 + x) ** sympy.Rational(1, 3), (0, HALF, 1)),
    ("sec(x)", sympy.sec(x), (0, HALF, QUARTER_PI)),
    ("csc(x)", sympy.csc(x), (HALF, 1)),
    ("cot(x)", sympy.cot(x), (HALF, QUARTER_PI)),
    ("2^x", 2**x, (0, HALF, 1)),
    ("x exp(x)", x * sympy.exp(x), (0, HALF, 1)),
    ("1/(1 + x^2)", 1 / (1 + x**2), (0, HALF, 1)),
    ("exp(-x^2)", sympy.exp(-(x**2)), (0,)),
    ("sqrt(4 - x^2)", sympy.sqrt(4 - x**2), (0, 1)),
    ("exp(x) cos(x)", sympy.exp(x) * sympy.cos(x), (0, HALF)),
    ("sin(x)^2", sympy.sin(x) ** 2, (0, QUARTER_PI)),
    ("x^x", x**x, (1,)),
]

MAX_ORDER = 8


@cache
def series_coefficients(text: str, a: sympy.Expr) -> list[sympy.Expr]:
    """SymPy's series of f about a to order 8, as coefficients of (x - a)^k."""
    f = dict((t, f) for t, f, _ in TEXTBOOK)[text]
    s = sympy.series(f, x, a, MAX_ORDER + 1).removeO()
    return shifted_coefficients(s, x, a, MAX_ORDER)


@pytest.mark.parametrize(
    ("text", "a"),
    [(text, a) for text, _, points in TEXTBOOK for a in points],
    ids=lambda v: str(v),
)
def test_textbook_polynomials_equal_sympy_series(text, a):
    """Orders 0..8: the order-n polynomial is SymPy's series truncated after (x - a)^n
    (one series to order 8 serves every n: its lower terms are the lower series)."""
    ref = series_coefficients(text, sympy.sympify(a))
    for order in range(MAX_ORDER + 1):
        t = cm.taylor(text, about=a, order=order)
        assert isinstance(t, Taylor)
        assert t.order == order and t.variable == x and t.about == a
        oracle = sum(ref[k] * (x - a) ** k for k in range(order + 1))
        # compared in powers of u = x - a (expanding powers of x - pi/4 is slow)
        shift = {x: u + a}
        assert exactly_equal(t.polynomial.subs(shift), oracle.subs(shift)), (text, a, order)
        for k, (c, r) in enumerate(zip(t.coefficients, ref, strict=False)):
            assert exactly_equal(c, r), (text, a, order, k, c, r)


def test_expansion_point_given_as_text_or_decimal_is_exact():
    # "pi/4" is pi/4 exactly, 0.1 is 1/10 (the decimal the user typed)
    t = cm.taylor("sin(x)", about="pi/4", order=4)
    ref = sympy.series(sympy.sin(x), x, QUARTER_PI, 5).removeO()
    assert t.about == QUARTER_PI
    assert exactly_equal(t.polynomial, ref)
    t = cm.taylor("exp(x)", about=0.1, order=3)
    assert t.about == sympy.Rational(1, 10)
    ref = sympy.series(sympy.exp(x), x, sympy.Rational(1, 10), 4).removeO()
    assert exactly_equal(t.polynomial, ref)


# -- 1b. random expressions of the language ---------------------------------------------------

RANDOM_POINTS = (sympy.Integer(0), HALF, sympy.Integer(1))


def _parse_random(text: str) -> sympy.Expr:
    try:
        expr = cm.parse(text)
    except cm.CalcmlError:
        assume(False)  # folds to a constant that is undefined, or beyond the limits
        raise
    assume(expr.free_symbols == {x})
    assume(not expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo))
    # 0^u is 0 or undefined everywhere: the generator's (x - x)^x says nothing useful
    assume(not any(p.base == 0 for p in expr.atoms(sympy.Pow)))
    return expr


def _why_undefined(expr: sympy.Expr, a: sympy.Expr, order: int) -> str | None:
    """Why expr has no real Taylor polynomial of this order about a, found by SymPy on
    a real variable: a derivative of order <= ``order`` that is not a finite real number
    at a, or not one just beside a, or that jumps across a (a corner)."""
    d = expr.xreplace({x: x_real})
    h = sympy.Rational(1, 10**25)
    for k in range(order + 1):
        if not finite_real(d.subs(x_real, a)):
            return f"derivative {k} is not a finite real number at a"
        left, right = d.subs(x_real, a - h), d.subs(x_real, a + h)
        if not (finite_real(left) and finite_real(right)):
            return f"derivative {k} is not a finite real number beside a"
        lv, rv = complex(sympy.N(left, 60)), complex(sympy.N(right, 60))
        if abs(lv - rv) > 1e-8 * (1 + max(abs(lv), abs(rv))):
            return f"derivative {k} jumps across a ({lv} to {rv})"
        # away from u = 0, SymPy's DiracDelta(u) is 0; at u = 0 the jump above decides
        d = sympy.diff(d, x_real).replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return None


def _series_oracles(expr: sympy.Expr, a: sympy.Expr, order: int) -> list[list[sympy.Expr]]:
    """SymPy's Taylor coefficients of expr about a, from the right and (at a kink of
    |u| or sign u) also from the left; decimals become the exact binary fractions they
    stand for (SymPy's series mishandles some Floats)."""
    has_abs = expr.has(sympy.Abs, sympy.sign)
    v = x_real if has_abs else x
    e = expr.xreplace({x: v}).xreplace({f: sympy.Rational(f) for f in expr.atoms(sympy.Float)})
    directions = ["+"]
    if has_abs and any(k.args[0].subs(x, a) == 0 for k in expr.atoms(sympy.Abs, sympy.sign)):
        directions.append("-")
    out = []
    for direction in directions:
        s = sympy.series(e, v, a, order + 1, dir=direction).removeO()
        if s.has(sympy.Subs, sympy.Derivative, sympy.re, sympy.im, sympy.AccumBounds):
            raise ValueError("SymPy left the series unevaluated")
        p = sympy.Poly(sympy.expand(s.subs(v, u + a)), u)  # PolynomialError if Puiseux
        if p.degree() > order:
            raise ValueError("not a Taylor polynomial")
        out.append([p.coeff_monomial(u**k) for k in range(order + 1)])
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # no shrinking: every attempt may spend seconds in SymPy, and the time budgets that
    # filter out slow cases would make replays flaky; the failing input is reported as is
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(expressions(max_leaves=4), st.sampled_from(RANDOM_POINTS), st.integers(0, MAX_ORDER))
@example("sin^2(|x|)", sympy.Integer(0), 6)  # |x| whose branches agree: a series exists
@example("|x|", sympy.Integer(0), 1)  # a corner
@example("1/x", sympy.Integer(0), 2)  # a pole
@example("x^x", HALF, 8)
def test_random_expressions_match_sympy_series(text, a, order):
    expr = _parse_random(text)
    note(f"f = {expr}, about {a}, order {order}")
    try:
        with time_budget(4.0):
            t = cm.taylor(expr, about=float(a), order=order)
            coefficients = t.coefficients
    except cm.LimitError:
        assume(False)  # refused as too slow, by design
        raise
    except cm.CalcmlError as err:
        # calcml says no: SymPy must agree that f or a derivative is undefined at a
        try:
            with time_budget(3.0):
                why = _why_undefined(expr, a, order)
        except (cm.LimitError, RecursionError):
            assume(False)
            raise
        assert why is not None, f"calcml refused {expr} about {a} (order {order}): {err}"
        return
    assert len(coefficients) == order + 1
    for k, c in enumerate(coefficients):
        assert finite_real(c), f"coefficient {k} of {expr} about {a} is {c}"
    try:
        with time_budget(3.0):
            oracles = _series_oracles(expr, a, order)
    except cm.LimitError:
        assume(False)
        raise
    except Exception:  # SymPy cannot expand it, or finds a Puiseux/log series
        assume(False)
        raise
    decimals = expr.has(sympy.Float)
    for ref in oracles:
        for k, (c, r) in enumerate(zip(coefficients, ref, strict=True)):
            if sympy.expand(c - r) == 0:
                continue
            cv, rv = complex(sympy.N(c, 50)), complex(sympy.N(r, 50))
            tol = 1e-9 if decimals else 1e-30
            assert abs(cv - rv) <= tol * max(1.0, abs(rv)), (str(expr), a, order, k, c, r)


# -- 2. several variables ---------------------------------------------------------------------

P2 = [
    {x: 0, y: 0},
    {x: 1, y: 2},
    {x: HALF, y: -sympy.Rational(1, 4)},
    {x: -1, y: sympy.Rational(3, 10)},
]
P3 = [
    {x: 0, y: 0, z: 0},
    {x: 1, y: -1, z: 2},
    {x: HALF, y: sympy.Rational(1, 4), z: -sympy.Rational(3, 4)},
]
MULTI = [
    ("x*y^2", x * y**2, P2),
    ("exp(x) sin(y)", sympy.exp(x) * sympy.sin(y), P2),
    ("x^2 y + y^3 - 3x", x**2 * y + y**3 - 3 * x, P2),
    ("log(1 + x^2 + y^2)", sympy.log(1 + x**2 + y**2), P2),
    ("sqrt(1 + x + 2y)", sympy.sqrt(1 + x + 2 * y), P2),
    ("cos(x y) + x", sympy.cos(x * y) + x, P2),
    ("atan(y/x)", sympy.atan(y / x), P2[1:]),
    ("x y z", x * y * z, P3),
    ("exp(x + 2y - z)", sympy.exp(x + 2 * y - z), P3),
    ("sin(x) cos(y) exp(z)", sympy.sin(x) * sympy.cos(y) * sympy.exp(z), P3),
    ("1/(1 + x^2 + y^2 + z^2)", 1 / (1 + x**2 + y**2 + z**2), P3),
    ("x^2 y z^3", x**2 * y * z**3, P3),
]
MULTI_CASES = [(text, f, p) for text, f, points in MULTI for p in points]


def _as_about(point: dict, style: int):
    """The point as calcml takes it: a dict of names (ints, decimals or SymPy values),
    or a list in variable order."""
    if style == 0:
        return {str(k): v for k, v in point.items()}
    if style == 1:
        return {str(k): float(v) for k, v in point.items()}  # 0.5 -> 1/2 exactly
    return [point[k] for k in sorted(point, key=str)]


def _quadratic_oracle(f: sympy.Expr, point: dict) -> tuple:
    xs = list(point)
    dx = sympy.Matrix([v - point[v] for v in xs])
    jac = sympy.Matrix([f]).jacobian(xs).subs(point)
    hess = sympy.hessian(f, xs).subs(point)
    p = f.subs(point) + (jac * dx)[0] + (dx.T * hess * dx)[0] / 2
    return p, jac, hess


@pytest.mark.parametrize(
    ("text", "f", "point"), MULTI_CASES, ids=[f"{t}@{list(p.values())}" for t, _, p in MULTI_CASES]
)
def test_order_two_is_value_gradient_and_hessian(text, f, point):
    oracle, jac, hess = _quadratic_oracle(f, point)
    style = MULTI_CASES.index((text, f, point)) % 3
    if style == 1 and any(not sympy.sympify(v).is_Rational for v in point.values()):
        style = 0
    m = cm.taylor(text, about=_as_about(point, style), order=2)
    assert isinstance(m, MultiTaylor)
    assert m.variables == list(point) and m.order == 2
    assert [sympy.nsimplify(v) for v in m.about] == list(point.values())
    assert exactly_equal(m.value, f.subs(point))
    assert m.gradient.shape == jac.shape and m.hessian.shape == hess.shape
    assert all(exactly_equal(g, j) for g, j in zip(m.gradient, jac, strict=True))
    assert all(exactly_equal(h, k) for h, k in zip(m.hessian, hess, strict=True))
    assert exactly_equal(m.polynomial, oracle), (m.polynomial, oracle)


def _multi_index_oracle(f: sympy.Expr, point: dict, order: int) -> sympy.Expr:
    """sum over multi-indices |alpha| <= order of D^alpha f(a) / alpha! dx^alpha."""
    xs = list(point)
    total = sympy.Integer(0)
    for alpha in itertools.product(range(order + 1), repeat=len(xs)):
        if sum(alpha) > order:
            continue
        d = f
        for v, k in zip(xs, alpha, strict=True):
            if k:
                d = sympy.diff(d, v, k)
        weight = math.prod(math.factorial(k) for k in alpha)
        mono = sympy.Mul(*((v - point[v]) ** k for v, k in zip(xs, alpha, strict=True)))
        total += d.subs(point) / weight * mono
    return total


ORDER3 = [
    *[c for c in MULTI_CASES if c[0] != "atan(y/x)"][::2],
    ("atan(y/x)", sympy.atan(y / x), P2[1]),
]


@pytest.mark.parametrize(
    ("text", "f", "point"), ORDER3, ids=[f"{t}@{list(p.values())}" for t, _, p in ORDER3]
)
def test_order_three_is_the_multi_index_sum(text, f, point):
    m = cm.taylor(text, about={str(k): v for k, v in point.items()}, order=3)
    oracle = _multi_index_oracle(f, point, 3)
    assert len(m.terms_by_degree) == 4
    assert exactly_equal(m.polynomial, oracle), (m.polynomial, oracle)
    # each degree on its own: the terms of degree k in dx
    t = sympy.Symbol("t")
    scaled = sympy.expand(oracle.subs({v: point[v] + t * (v - point[v]) for v in point}))
    for k, term in enumerate(m.terms_by_degree):
        part = scaled.coeff(t, k)
        assert exactly_equal(term, part), (k, term, part)


CALLABLES = [
    # (callable of a vector, exact expression in x0, x1(, x2), point, order)
    (
        lambda v: cnp.exp(v[0]) * cnp.sin(v[1]) + v[0] * v[1] ** 2,
        "exp(x0)*sin(x1) + x0*x1**2",
        [0.3, 0.7],
        3,
    ),
    (lambda v: cnp.log(1 + v[0] ** 2 + v[1] ** 2), "log(1 + x0**2 + x1**2)", [-0.5, 0.25], 4),
    (lambda v: cnp.sqrt(1 + v[0] + 2 * v[1]), "sqrt(1 + x0 + 2*x1)", [0.2, 0.1], 3),
    (lambda v: cnp.tanh(v[0] * v[1]) + cnp.cos(v[0]), "tanh(x0*x1) + cos(x0)", [1.0, -0.5], 3),
    (
        lambda v: v[0] * v[1] * v[2] + cnp.cos(v[0] - 2 * v[2]),
        "x0*x1*x2 + cos(x0 - 2*x2)",
        [0.1, -0.2, 0.4],
        3,
    ),
    (
        lambda v: cnp.exp(v[0] - v[1]) * cnp.arctan(v[2]),
        "exp(x0 - x1)*atan(x2)",
        [0.5, 0.25, 1.0],
        2,
    ),
]


def _shifted_multi(poly: sympy.Expr, xs, point, us) -> dict:
    shifted = sympy.expand(poly.subs({v: p + w for v, p, w in zip(xs, point, us, strict=True)}))
    return sympy.Poly(shifted, *us).as_dict()


@pytest.mark.parametrize(("fun", "exact", "point", "order"), CALLABLES)
def test_callable_multitaylor_matches_exact_derivatives(fun, exact, point, order):
    m = cm.taylor(fun, about=point, order=order)
    n = len(point)
    xs = sympy.symbols(f"x0:{n}")
    f = sympy.sympify(exact)
    exact_point = {v: sympy.Rational(str(p)) for v, p in zip(xs, point, strict=True)}
    assert isinstance(m, MultiTaylor) and tuple(m.variables) == xs
    assert float(m.value) == pytest.approx(float(f.subs(exact_point)), abs=1e-10)
    _, jac, hess = _quadratic_oracle(f, exact_point)
    np.testing.assert_allclose(
        np.array(m.gradient, dtype=float), np.array(jac, dtype=float), rtol=1e-10, atol=1e-10
    )
    if order >= 2:
        np.testing.assert_allclose(
            np.array(m.hessian, dtype=float), np.array(hess, dtype=float), rtol=1e-10, atol=1e-10
        )
    us = sympy.symbols(f"u0:{n}")
    got = _shifted_multi(m.polynomial, xs, point, us)
    oracle = _multi_index_oracle(f, exact_point, order)
    want = _shifted_multi(oracle, xs, list(exact_point.values()), us)
    for alpha in set(got) | set(want):
        g = float(got.get(alpha, 0))
        w = float(sympy.N(want.get(alpha, 0), 30))
        assert abs(g - w) <= 1e-10 * max(1.0, abs(w)), (alpha, g, w)


def test_callable_with_named_point():
    m = cm.taylor(lambda v: cnp.exp(v[0]) * cnp.sin(v[1]), about={"x": 0.3, "y": 0.7}, order=2)
    assert m.variables == [x, y]
    f = sympy.exp(x) * sympy.sin(y)
    point = {x: sympy.Rational(3, 10), y: sympy.Rational(7, 10)}
    oracle, _, _ = _quadratic_oracle(f, point)
    for px, py in [(0.3, 0.7), (0.0, 0.0), (1.0, -2.0), (0.45, 0.6)]:
        want = float(oracle.subs({x: px, y: py}))
        assert float(m.polynomial.subs({x: px, y: py})) == pytest.approx(want, abs=1e-10)
        assert float(m([px, py])) == pytest.approx(want, abs=1e-10)


def test_multitaylor_evaluates_on_arrays_of_points():
    m = cm.taylor("exp(x) sin(y)", about={"x": 0, "y": 0}, order=3)
    fn = sympy.lambdify((x, y), _multi_index_oracle(sympy.exp(x) * sympy.sin(y), {x: 0, y: 0}, 3))
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(4, 5, 2))
    np.testing.assert_allclose(m(pts), fn(pts[..., 0], pts[..., 1]), rtol=1e-13, atol=1e-14)
    assert m(pts).shape == (4, 5)


# -- 3. remainder bounds ----------------------------------------------------------------------

BOUNDED = {
    # text: (SymPy function, open domain the interval stays in)
    "exp(x)": (sympy.exp(x), (-4.0, 4.0)),
    "sin(x)": (sympy.sin(x), (-5.0, 5.0)),
    "cos(x)": (sympy.cos(x), (-5.0, 5.0)),
    "log(1 + x)": (sympy.log(1 + x), (-0.95, 4.0)),
    "atan(x)": (sympy.atan(x), (-4.0, 4.0)),
    "1/(1 + x^2)": (1 / (1 + x**2), (-4.0, 4.0)),
    "sqrt(1 + x)": (sympy.sqrt(1 + x), (-0.95, 4.0)),
    "tanh(x)": (sympy.tanh(x), (-3.0, 3.0)),
    "exp(sin(x))": (sympy.exp(sympy.sin(x)), (-3.0, 3.0)),
    "tan(x)": (sympy.tan(x), (-1.4, 1.4)),
    "sec(x)": (sympy.sec(x), (-1.4, 1.4)),
    "asin(x)": (sympy.asin(x), (-0.95, 0.95)),
    "x exp(-x)": (x * sympy.exp(-x), (-3.0, 4.0)),
    "(1 + x)^(1/3)": ((1 + x) ** sympy.Rational(1, 3), (-0.9, 4.0)),
    "2^x": (2**x, (-3.0, 3.0)),
    "cosh(x)": (sympy.cosh(x), (-3.0, 3.0)),
    "1/(1 - x)": (1 / (1 - x), (-3.0, 0.9)),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(BOUNDED)),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.integers(0, MAX_ORDER),
)
def test_remainder_bound_holds_on_random_intervals(name, where, left, right, order):
    f, (d0, d1) = BOUNDED[name]
    # a on a binary grid, so that the float a is the exact point calcml expands about
    # (see test_remainder_bound_measures_the_reach_from_the_exact_point for why)
    a = round((d0 + (d1 - d0) * where) * 64) / 64
    a = min(max(a, math.ceil(d0 * 64) / 64), math.floor(d1 * 64) / 64)
    lo, hi = a - (a - d0) * left, a + (d1 - a) * right
    assume(lo < hi)
    t = cm.taylor(name, about=a, order=order)
    bound = t.remainder_bound(lo, hi)
    err = true_error(f, t, lo, hi)
    note(f"{name} about {a} on [{lo!r}, {hi!r}], order {order}: bound {bound}, error {err}")
    assert math.isfinite(bound)
    assert err <= bound + 1e-15


def _hand_bound(name: str, order: int, lo: float, hi: float) -> float:
    """Lagrange's bound worked out by hand: max |f^(n+1)| * reach^(n+1) / (n+1)!."""
    n = order + 1
    reach = max(-lo, hi)
    if name == "exp(x)":
        m = math.exp(hi)
    elif name == "sin(x)":  # f^(n) is +-sin (n even) or +-cos (n odd)
        m = math.sin(reach) if n % 2 == 0 else 1.0
    elif name == "cos(x)":
        m = 1.0 if n % 2 == 0 else math.sin(reach)
    else:  # log(1 + x): |f^(n)| = (n-1)! / (1 + x)^n, largest at lo
        m = math.factorial(n - 1) / (1 + lo) ** n
    return m * reach**n / math.factorial(n)


USEFUL = [
    (name, (lo, hi), order)
    for name, intervals in [
        ("exp(x)", [(-1.0, 1.0), (-0.5, 0.5)]),
        ("sin(x)", [(-1.0, 1.0), (-0.5, 0.5)]),
        ("cos(x)", [(-1.0, 1.0), (-0.5, 0.5)]),
        ("log(1 + x)", [(-0.3, 0.3)]),
    ]
    for lo, hi in intervals
    for order in range(2, 9)
]


@pytest.mark.parametrize(("name", "interval", "order"), USEFUL)
def test_remainder_bound_is_useful_on_smooth_cases(name, interval, order):
    lo, hi = interval
    t = cm.taylor(name, about=0, order=order)
    bound = t.remainder_bound(lo, hi)
    err = true_error(BOUNDED[name][0], t, lo, hi)
    hand = _hand_bound(name, order, lo, hi)
    assert err <= bound <= 50 * err, (bound, err)
    # the maximum of |f^(n+1)| is found to within 5 % (and rounded up)
    assert hand * (1 - 1e-12) <= bound <= 1.06 * hand, (bound, hand)


def test_remainder_bound_hand_values():
    # sin about 0 to order 3 on [-1, 1]: max |sin| = sin(1), so sin(1)/4!
    b = cm.taylor("sin(x)", about=0, order=3).remainder_bound(-1, 1)
    assert math.sin(1) / 24 <= b <= 1.06 * math.sin(1) / 24
    # exp about 1 to order 2 on [0.5, 2]: M = e^2, reach 1: e^2/3!
    b = cm.taylor("exp(x)", about=1, order=2).remainder_bound(0.5, 2)
    assert math.exp(2) / 6 <= b <= 1.06 * math.exp(2) / 6
    # a polynomial of degree 3 to order 3: the next derivative is 0, so is the bound
    b = cm.taylor("x^3 - 2x", about=0.5, order=3).remainder_bound(-1, 2)
    assert 0.0 <= b < 1e-300


def test_remainder_bound_measures_the_reach_from_the_exact_point():
    """calcml bug (minor): about=0.1 means exactly 1/10, but the reach max|x - a| is
    computed from float(0.1), which is 5.6e-18 above 1/10. On a narrow interval that
    makes the bound smaller than the true error. Here f = x, p = 1/10, so the error on
    [0.1, hi] is exactly hi - 1/10 (hand), and max |f'| = 1."""
    hi = 0.1 + 1e-15
    t = cm.taylor("x", about=0.1, order=0)
    assert t.about == sympy.Rational(1, 10)
    with mpmath.workdps(40):
        error = float(mpmath.mpf(hi) - mpmath.mpf(1) / 10)  # 1.0048e-15
    assert t.remainder_bound(0.1, hi) >= error


@pytest.mark.parametrize(
    ("about", "lo", "hi"),
    [(0, 0.5, 1.0), (0, -1.0, -0.5), (0, 0.0, 0.0), (0, 1.0, -1.0), (0.5, -1.0, 0.4), (1, 1, 1)],
)
def test_remainder_bound_refuses_bad_intervals(about, lo, hi):
    t = cm.taylor("exp(x)", about=about, order=3)
    with pytest.raises(cm.CalcmlError, match="contain the expansion point"):
        t.remainder_bound(lo, hi)


def test_remainder_bound_of_a_callable_is_refused():
    t = cm.taylor(lambda v: cnp.exp(v), about=0, order=3)
    with pytest.raises(cm.CalcmlError, match="expression"):
        t.remainder_bound(-1, 1)


def test_remainder_bound_refuses_an_interval_through_a_singularity():
    # 1/(1 - x) about 0 on [-0.5, 1.5]: f^(n+1) is unbounded near x = 1
    t = cm.taylor("1/(1 - x)", about=0, order=2)
    with pytest.raises(cm.CalcmlError):
        t.remainder_bound(-0.5, 1.5)


# -- 4. honest failures, radius of convergence, warnings --------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1/x", "not defined"),
        ("ln(x)", "not defined"),
        ("sqrt(x)", "not defined"),
        ("|x|", "not differentiable"),
        ("x^x", "not defined"),
        ("atan(1/x)", "not defined"),
    ],
)
def test_no_taylor_series_about_zero(text, why):
    with pytest.raises(cm.CalcmlError) as info:
        cm.taylor(text, about=0, order=3)
    message = str(info.value)
    assert why in message and "x = 0" in message, message


def test_no_real_taylor_series_outside_the_domain():
    # sqrt(-1) is not real: SymPy agrees
    assert not sympy.sqrt(-1).is_real
    with pytest.raises(cm.CalcmlError, match="not a real number"):
        cm.taylor("sqrt(x)", about=-1, order=2)


def test_corner_of_abs_is_named_but_a_smooth_abs_is_expanded():
    # |x - 3| about 3: slopes -1 and +1
    with pytest.raises(cm.CalcmlError, match="not differentiable"):
        cm.taylor("|x - 3|", about=3, order=1)
    # sin(|x|)^2 = sin(x)^2 for every x: its series exists
    t = cm.taylor("sin(|x|)^2", about=0, order=6)
    assert exactly_equal(t.polynomial, sympy.series(sympy.sin(x) ** 2, x, 0, 7).removeO())
    # |x|^3 about 0 to order 2: both branches +-x^3 have zero derivatives to order 2
    assert cm.taylor("|x|^3", about=0, order=2).polynomial == 0
    with pytest.raises(cm.CalcmlError, match="not differentiable"):
        cm.taylor("|x|^3", about=0, order=3)  # third derivatives -6 and +6
    # away from the corner, |x - 3| is 3 - x
    t = cm.taylor("|x - 3|", about=1, order=3)
    assert exactly_equal(t.polynomial, 3 - x)


def test_nested_abs_corner_is_not_differentiable():
    """Nested corners: ||x|| = |x| has slope -1 left of 0 and +1 right of it (hand), so
    no Taylor polynomial of order 1 exists; SymPy's one-sided series say the same.
    (calcml at 4d26aca returned the polynomial 0 here.)"""
    f = sympy.Abs(sympy.Abs(x_real))
    assert sympy.series(f, x_real, 0, 2, dir="+").removeO() == x_real
    assert sympy.series(f, x_real, 0, 2, dir="-").removeO() == -x_real
    with pytest.raises(cm.CalcmlError, match="not differentiable"):
        cm.taylor("||x||", about=0, order=1)


def test_abs_at_a_branch_point_fails_with_a_calcml_error():
    """calcml bug: |sqrt(x)| about 0 raises a bare TypeError (from comparing a complex
    number in ``_side``), not a CalcmlError. SymPy: sqrt(x)' = 1/(2 sqrt(x)) is
    infinite at 0 and sqrt is not real left of 0."""
    assert not finite_real(sympy.diff(sympy.sqrt(x), x).subs(x, 0))
    for text, about in [("|sqrt(x)|", 0), ("|acos(x)|", 1)]:
        with pytest.raises(cm.CalcmlError):
            cm.taylor(text, about=about, order=1)


def test_abs_of_a_positive_function_expands_fully():
    """calcml bug: |sqrt(x)| about 1 (where sqrt(x) > 0, so |sqrt(x)| = sqrt(x) nearby)
    gives a second coefficient with an unevaluated Subs(Derivative(sign(sqrt(x)), x),
    x, 1) in it, and evaluating the polynomial then fails."""
    for text, f, a in [
        ("|sqrt(x)|", sympy.sqrt(x), 1),
        ("|log(x)|", sympy.log(x), 2),
        ("|x^x|", x**x, HALF),
    ]:
        t = cm.taylor(text, about=a, order=3)
        ref = shifted_coefficients(sympy.series(f, x, a, 4).removeO(), x, a, 3)
        for k, (c, r) in enumerate(zip(t.coefficients, ref, strict=True)):
            assert exactly_equal(c, r), (text, k, c, r)
        assert float(t(float(a) + 0.1)) == pytest.approx(float(f.subs(x, a + 0.1)), abs=1e-3)


def test_undefined_value_at_order_zero_is_refused():
    """calcml bug: atan(pi/x) about 0, order 0, gives the 'polynomial'
    AccumBounds(-pi/2, pi/2). Hand (and SymPy): the limits from the left and the right
    are -pi/2 and pi/2, so f(0) is undefined; with order >= 1 calcml does refuse."""
    f = sympy.atan(sympy.pi / x)
    assert sympy.limit(f, x, 0, "+") == sympy.pi / 2
    assert sympy.limit(f, x, 0, "-") == -sympy.pi / 2
    with pytest.raises(cm.CalcmlError, match="not defined"):
        cm.taylor("atan(pi/x)", about=0, order=0)


def test_several_variables_outside_the_real_domain_are_refused():
    """calcml bug: with several variables a non-real value is returned as a complex
    polynomial (sqrt(x) + y about (-1, 0) gives I + y + ...) where one variable
    refuses ("not a real number"). SymPy: sqrt(-1) = I is not real."""
    assert sympy.sqrt(-1) == sympy.I
    with pytest.raises(cm.CalcmlError):
        cm.taylor("sqrt(x) + y", about={"x": -1, "y": 0}, order=1)
    with pytest.raises(cm.CalcmlError):
        cm.taylor("log(x) + y", about={"x": -1, "y": 0}, order=1)


def test_several_variables_undefined_point_is_refused():
    with pytest.raises(cm.CalcmlError, match="not defined"):
        cm.taylor("sqrt(x^2 + y^2)", about={"x": 0, "y": 0}, order=1)
    with pytest.raises(cm.CalcmlError, match="not differentiable"):
        cm.taylor("|x| + y", about={"x": 0, "y": 1}, order=1)


RADII = [
    # (text, about, radius by hand: distance to the nearest complex singularity)
    ("log(1 + x)", 0, 1.0),  # branch point at -1
    ("1/(1 + x^2)", 0, 1.0),  # poles at +-i
    ("1/(1 + x^2)", 1, math.sqrt(2)),  # |1 - i| = sqrt 2
    ("exp(x)", 0, math.inf),
    ("sin(x) cos(x)", 1, math.inf),
    ("tan(x)", 0, math.pi / 2),
    ("tanh(x)", 0, math.pi / 2),  # poles at +-i pi/2
    ("atan(x)", 0, 1.0),  # branch points at +-i
    ("sqrt(1 + x)", 0, 1.0),
    ("1/(1 - x)", 0.5, 0.5),
    ("sec(x)", "pi/4", math.pi / 4),  # pole at pi/2
    ("cot(x)", 1, 1.0),  # poles at 0 and pi
    ("asin(x)", 0.5, 0.5),  # branch point at 1
    ("1/(x^2 - 4x + 5)", 2, 1.0),  # poles at 2 +- i
]


@pytest.mark.parametrize(("text", "about", "radius"), RADII)
def test_radius_of_convergence(text, about, radius):
    r = cm.taylor(text, about=about, order=3).radius
    assert r is not None, f"radius of {text} about {about} not found"
    if math.isinf(radius):
        assert r == math.inf
    else:
        assert r == pytest.approx(radius, abs=1e-9)


def test_radius_agrees_with_the_coefficients():
    # Cauchy-Hadamard, independently: |c_n|^(-1/n) -> R for 1/(1 + x^2) about 1 (sqrt 2)
    f = 1 / (1 + x**2)
    cs = shifted_coefficients(sympy.series(f, x, 1, 41).removeO(), x, 1, 40)
    estimate = max(float(abs(c)) ** (-1 / n) for n, c in enumerate(cs) if n > 30 and c != 0)
    assert estimate == pytest.approx(math.sqrt(2), rel=0.05)
    assert cm.taylor("1/(1 + x^2)", about=1, order=2).radius == pytest.approx(math.sqrt(2))


def test_radius_ignores_a_removable_singularity():
    """calcml bug (minor): sin(x)/x is entire (its singularity at 0 is removable), so
    its Taylor series about 1 converges everywhere; calcml reports radius 1 and warns
    that the polynomial is no approximation at x = 2.5, where it is a good one."""
    coefficients = shifted_coefficients(
        sympy.series(sympy.sin(x) / x, x, 1, 31).removeO(), x, 1, 30
    )
    # Cauchy-Hadamard by hand: the coefficients fall faster than any geometric sequence
    assert float(abs(coefficients[30])) ** (1 / 30) < 0.2
    t = cm.taylor("sin(x)/x", about=1, order=12)
    assert t.radius is None or t.radius == math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalcmlWarning)
        assert float(t(2.5)) == pytest.approx(math.sin(2.5) / 2.5, abs=1e-4)


def test_evaluating_beyond_the_radius_warns():
    t = cm.taylor("log(1 + x)", about=0, order=5)
    with pytest.warns(CalcmlWarning, match="converges only"):
        t(np.array([0.5, 1.5]))
    with pytest.warns(CalcmlWarning):
        t(-1.2)
    with pytest.warns(CalcmlWarning):
        cm.taylor("tan(x)", about=0, order=3)(1.6)
    with pytest.warns(CalcmlWarning):
        cm.taylor("1/(1 + x^2)", about=1, order=3)(np.array([[1.0, 2.5]]))


def test_evaluating_inside_the_radius_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cm.taylor("log(1 + x)", about=0, order=5)(np.array([-0.9, 0.0, 0.5, 0.99]))
        cm.taylor("tan(x)", about=0, order=3)(1.5)
        cm.taylor("1/(1 + x^2)", about=1, order=3)(np.array([0.0, 2.4]))
        cm.taylor("exp(x)", about=0, order=3)(np.array([-100.0, 100.0]))  # entire


# -- 5. evaluation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "f", "a", "order"),
    [
        ("exp(x)", sympy.exp(x), 0, 6),
        ("sin(x)", sympy.sin(x), QUARTER_PI, 7),
        ("log(1 + x)", sympy.log(1 + x), HALF, 5),
        ("atan(x)", sympy.atan(x), 1, 8),
        ("x^3 - 2x", x**3 - 2 * x, 2, 4),
        ("sqrt(1 + x)", sympy.sqrt(1 + x), 0, 4),
    ],
)
def test_taylor_evaluates_like_the_sympy_polynomial(text, f, a, order):
    t = cm.taylor(text, about=a, order=order)
    oracle = sympy.lambdify(x, sympy.series(f, x, a, order + 1).removeO(), "numpy")
    r = t.radius if t.radius is not None else 1.0
    c = float(a)
    grid = np.linspace(c - 0.9 * min(r, 1.0), c + 0.9 * min(r, 1.0), 41)
    np.testing.assert_allclose(t(grid), oracle(grid), rtol=1e-12, atol=1e-13)
    square = grid[:40].reshape(5, 8)
    out = t(square)
    assert out.shape == (5, 8)
    np.testing.assert_allclose(out, oracle(square), rtol=1e-12, atol=1e-13)
    assert float(t(c + 0.1)) == pytest.approx(float(oracle(c + 0.1)), rel=1e-12, abs=1e-13)
    assert float(t([c])[0]) == pytest.approx(float(f.subs(x, a)), rel=1e-12, abs=1e-13)


def test_callable_taylor_coefficients_equal_exact_ones():
    t = cm.taylor(lambda v: cnp.exp(v) * cnp.sin(v), about=0.5, order=6)
    assert isinstance(t, Taylor) and t.order == 6
    ref = sympy.series(sympy.exp(x) * sympy.sin(x), x, HALF, 7).removeO()
    exact = shifted_coefficients(ref, x, HALF, 6)
    assert len(t.coefficients) == 7
    for k, (c, e) in enumerate(zip(t.coefficients, exact, strict=True)):
        assert float(c) == pytest.approx(float(e), abs=1e-9), k
    # and it evaluates like the exact polynomial
    oracle = sympy.lambdify(x, ref, "numpy")
    grid = np.linspace(-0.5, 1.5, 9)
    np.testing.assert_allclose(t(grid), oracle(grid), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("fun", "f", "a", "order"),
    [
        (lambda v: cnp.log(1 + v), sympy.log(1 + x), 0.25, 7),
        (lambda v: cnp.arctan(v) * v, sympy.atan(x) * x, -1.0, 5),
        (lambda v: cnp.sqrt(1 + v**2), sympy.sqrt(1 + x**2), 1.0, 6),
        (lambda v: 1 / (1 - v), 1 / (1 - x), 0.0, 8),
    ],
)
def test_more_callables_equal_exact_coefficients(fun, f, a, order):
    t = cm.taylor(fun, about=a, order=order)
    exact_a = sympy.Rational(str(a))
    exact = shifted_coefficients(
        sympy.series(f, x, exact_a, order + 1).removeO(), x, exact_a, order
    )
    for k, (c, e) in enumerate(zip(t.coefficients, exact, strict=True)):
        assert float(c) == pytest.approx(float(e), rel=1e-9, abs=1e-9), k


def test_callable_without_a_taylor_series_is_refused():
    with pytest.raises(cm.CalcmlError, match="no Taylor series"):
        cm.taylor(lambda v: cnp.sqrt(v), about=0, order=2)


# -- 6. linearisation and the truncation slope ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "f", "a"),
    [
        ("sqrt(x)", sympy.sqrt(x), 4),
        ("sin(x)", sympy.sin(x), sympy.pi / 6),
        ("exp(x)", sympy.exp(x), 0),
        ("ln(x)", sympy.log(x), 1),
        ("x^3 - 2x", x**3 - 2 * x, 2),
        ("atan(x)", sympy.atan(x), HALF),
        ("1/(1 + x^2)", 1 / (1 + x**2), -1),
    ],
)
def test_linearise_is_value_plus_slope(text, f, a):
    oracle = f.subs(x, a) + sympy.diff(f, x).subs(x, a) * (x - a)
    lin = cm.linearise(text, about=a)
    assert isinstance(lin, Taylor) and lin.order == 1
    assert exactly_equal(lin.polynomial, oracle)
    assert exactly_equal(cm.symbolic.linearize(text, about=a).polynomial, oracle)


def test_linearise_several_variables():
    f = sympy.exp(x) * sympy.sin(y) + x * y**2
    point = {x: 1, y: 2}
    oracle = f.subs(point) + sum(sympy.diff(f, v).subs(point) * (v - point[v]) for v in point)
    lin = cm.linearise("exp(x) sin(y) + x y^2", about={"x": 1, "y": 2})
    assert isinstance(lin, MultiTaylor) and lin.order == 1
    assert exactly_equal(lin.polynomial, oracle)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_truncation_slope_of_exp(order):
    # |e^h - p(h)| ~ h^(order+1) / (order+1)!: slope order + 1 on a log-log plot
    r = truncation_slope("exp(x)", about=0, order=order)
    assert abs(r.slope - (order + 1)) < 0.1, r.slope
    assert r.order == order and len(r.steps) == len(r.errors)
    # the errors themselves, at 50 digits, against the exact remainder
    with mpmath.workdps(50):
        for h, e in zip(r.steps, r.errors, strict=True):
            hm = mpmath.mpf(float(h))
            exact = mpmath.exp(hm) - sum(hm**k / mpmath.factorial(k) for k in range(order + 1))
            assert e == pytest.approx(float(exact), rel=1e-9)


@pytest.mark.parametrize(
    ("text", "about", "order"),
    [
        ("exp(x) sin(y)", {"x": 0.3, "y": 0.2}, 1),
        ("x*y^2", {"x": 1, "y": 2}, 1),
        ("log(1 + x^2 + y^2)", {"x": 0.5, "y": -0.5}, 1),
        ("exp(x) sin(y)", {"x": 0.3, "y": 0.2}, 2),
    ],
)
def test_truncation_slope_of_two_variables(text, about, order):
    r = truncation_slope(text, about=about, order=order)
    assert abs(r.slope - (order + 1)) < 0.1, r.slope
