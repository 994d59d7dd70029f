"""Taylor polynomials and linearisation, with the table that builds them and error bounds.

About a point a, f(x) = sum_n f^(n)(a) / n! (x - a)^n + remainder. :func:`taylor` builds
the table of derivatives f^(n)(a), the coefficients f^(n)(a)/n! and the polynomial, for
text, SymPy or a Python callable (whose derivatives come from :mod:`calcml.ad`).
:meth:`Taylor.remainder_bound` gives a bound of |f - p| on an interval that never falls
below the true error (see :mod:`calcml.symbolic.intervals`), and the radius of
convergence is reported where it can be found (:mod:`calcml.symbolic.singularities`).
With several variables, order 2 reads f(a) + J(a) dx + dx^T H(a) dx / 2.

>>> t = taylor("exp(x)", about=0, order=4)
>>> t.polynomial
x**4/24 + x**3/6 + x**2/2 + x + 1
>>> round(float(t(0.1)), 10)
1.1051708333
>>> 0.00028 < t.remainder_bound(-0.5, 0.5) < 0.0005
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Any

import numpy as np
import sympy

from ..budget import budgeted
from ..errors import CalcmlError, CalcmlWarning
from ..expr import parse, to_latex, to_text
from .inputs import as_expr, as_symbol, point_values, variables_of
from .intervals import NoIntervalRule, max_abs
from .singularities import radius_of_convergence

#: Orders above this are refused: the derivatives of a callable cost 2^order passes, and
#: symbolic ones grow too; no lesson needs more.
MAX_ORDER = 30
MAX_ORDER_CALLABLE = 12


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _as_point(about: Any) -> sympy.Expr:
    """An exact expansion point: 0.1 means 1/10, "pi/2" means pi/2."""
    if isinstance(about, str):
        value = parse(about)
        if value.is_Float:
            value = sympy.Rational(repr(float(value)))  # "0.1" is 1/10, as 0.1 is
    elif isinstance(about, sympy.Expr):
        value = about
    elif isinstance(about, bool) or not isinstance(about, int | float | np.number):
        raise CalcmlError(f"the expansion point must be a number, not {about!r}")
    elif isinstance(about, int | np.integer):
        value = sympy.Integer(int(about))
    else:
        if not math.isfinite(float(about)):
            raise CalcmlError(f"the expansion point must be finite, not {about}")
        value = sympy.Rational(repr(float(about)))  # the decimal the user typed
    if value.free_symbols or not value.is_real or not value.is_finite:
        raise CalcmlError(f"the expansion point must be a real number, not {value}")
    return value


def _check_order(order: Any, limit: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 0:
        raise CalcmlError(f"the order must be a whole number 0, 1, 2, ..., not {order!r}")
    if order > limit:
        raise CalcmlError(f"the order is limited to {limit} here (asked for {order})")
    return int(order)


# -- one variable ----------------------------------------------------------------------------

_NOT_YET = object()  # a lazy attribute not computed yet (None is a value: "not known")


@dataclass
class Row:
    """One line of the derivative table: n, f^(n)(x), f^(n)(a) and f^(n)(a)/n!.

    ``derivative`` is None for a callable (only values are known); for an expression it
    is converted from symengine to SymPy when first read (big derivatives convert slowly,
    and only a table that is shown needs them)."""

    n: int
    raw: Any = field(repr=False)
    value: sympy.Expr
    coefficient: sympy.Expr

    @property
    def derivative(self) -> sympy.Expr | None:
        if self.raw is not None and not isinstance(self.raw, sympy.Basic):
            self.raw = _to_sympy(self.raw)
        return self.raw


@dataclass
class Taylor:
    """The Taylor polynomial of order ``order`` of ``f`` about ``about``.

    ``rows`` is the derivative table; ``polynomial`` is sum c_n (x - a)^n as a SymPy
    expression; calling the object evaluates it on numbers or arrays (with a warning
    beyond the radius of convergence, when that is known).
    """

    f: sympy.Expr | None
    variable: sympy.Symbol
    about: sympy.Expr
    order: int
    rows: list[Row]
    # Found when first asked for (many uses need only the polynomial): the radius from
    # f's singularities, the next derivative converted from symengine.
    _radius: Any = field(default=_NOT_YET, repr=False)
    _next: Any = field(default=None, repr=False)
    source: Callable | None = field(default=None, repr=False)

    @property
    def radius(self) -> float | None:
        """The radius of convergence (the distance from a to f's nearest singularity in
        the complex plane), inf for an entire function, None where it is not known."""
        if self._radius is _NOT_YET:
            known = self.f is not None
            self._radius = (
                radius_of_convergence(self.f, self.variable, float(self.about)) if known else None
            )
        return self._radius

    @property
    def next_derivative(self) -> sympy.Expr | None:
        """f^(order+1)(x), which the remainder bound maximises (None for a callable)."""
        if self._next is not None and not isinstance(self._next, sympy.Basic):
            self._next = _to_sympy(self._next)
        return self._next

    @property
    def coefficients(self) -> list[sympy.Expr]:
        return [row.coefficient for row in self.rows]

    @property
    def terms(self) -> list[sympy.Expr]:
        """The non-zero terms c_n (x - a)^n, lowest order first."""
        dx = self.variable - self.about
        return [r.coefficient * dx**r.n for r in self.rows if r.coefficient != 0]

    @property
    def polynomial(self) -> sympy.Expr:
        return sympy.Add(*self.terms)

    def __call__(self, x: Any) -> Any:
        values = np.asarray(x, dtype=float)
        dx = values - float(self.about)
        if self.radius is not None and np.any(np.abs(dx) > self.radius):
            warnings.warn(
                f"the Taylor series about {self.about} converges only for |x - {self.about}| < "
                f"{self.radius:.6g}; beyond that the polynomial is no approximation of f "
                "(however high its order)",
                CalcmlWarning,
                stacklevel=2,
            )
        try:
            coeffs = [float(c) for c in reversed(self.coefficients)]
        except TypeError:
            raise CalcmlError(
                "the polynomial still has symbols other than "
                f"{self.variable} in it: {to_text(self.polynomial)}"
            ) from None
        return np.polyval(coeffs, dx)

    @budgeted
    def remainder_bound(self, lo: float, hi: float) -> float:
        """A bound of |f(x) - p(x)| for x in [lo, hi], an interval holding the point a.

        Lagrange's form of the remainder: f(x) - p(x) = f^(n+1)(xi) (x - a)^(n+1) / (n+1)!
        for some xi between a and x, so |f - p| <= M max|x - a|^(n+1) / (n+1)! with
        M = max |f^(n+1)| over [lo, hi]. M is found by interval arithmetic (outward
        rounding, so the enclosure is guaranteed) refined by branch and bound until it
        is within 5 % of a value |f^(n+1)| really takes: the bound never falls below
        the true error, and is rarely far above it.

        For sin about 0 to order 3 on [-1, 1], M = max |sin| = sin(1), the bound sin(1)/4!:

        >>> round(taylor("sin(x)", about=0, order=3).remainder_bound(-1, 1), 5)
        0.03506
        """
        lo, hi = float(lo), float(hi)
        a = float(self.about)
        if not lo <= a <= hi or lo == hi:
            raise CalcmlError(
                f"the interval [{lo:g}, {hi:g}] must contain the expansion point {a:g} "
                "(Lagrange's remainder is measured from it)"
            )
        if self.next_derivative is None:
            raise CalcmlError(
                "a remainder bound needs the function as an expression (text or SymPy): "
                "the maximum of its next derivative is found by interval arithmetic on it"
            )
        n = self.order + 1
        try:
            m = max_abs(self.next_derivative, self.variable, lo, hi)
        except NoIntervalRule as err:
            raise CalcmlError(f"no safe bound for this function: {err}") from None
        # The reach from the exact point (a = 1/10 is not the double 0.1), rounded up, and
        # the product rounded up too: the bound must not fall below the true error.
        exact = max(self.about - sympy.Rational(lo), sympy.Rational(hi) - self.about)
        reach = math.nextafter(float(exact), math.inf)
        bound = m.upper * reach**n / math.factorial(n)
        return float(bound * (1.0 + 8 * np.finfo(float).eps)) if bound > 0 else float(bound)

    def explain(self) -> str:
        """The derivative table and the polynomial, as text."""
        a = to_text(self.about)
        head = f"Taylor polynomial of order {self.order} about {self.variable} = {a}"
        lines = [f"{head} of {to_text(self.f) if self.f is not None else 'the function'}:"]
        lines.append(f"  n | f^(n)({self.variable}) | f^(n)({a}) | f^(n)({a})/n!")
        for r in self.rows:
            d = to_text(r.derivative) if r.derivative is not None else "(by calcml.ad)"
            lines.append(f"  {r.n} | {d} | {to_text(r.value)} | {to_text(r.coefficient)}")
        lines.append(f"p({self.variable}) = {to_text(self.polynomial)}")
        if self.radius is not None:
            lines.append(f"radius of convergence: {self.radius:.6g}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": to_text(self.f) if self.f is not None else None,
            "variable": str(self.variable),
            "about": to_text(self.about),
            "order": self.order,
            "polynomial": to_text(self.polynomial),
            "rows": [
                {
                    "n": r.n,
                    "derivative": to_text(r.derivative) if r.derivative is not None else None,
                    "value": to_text(r.value),
                    "coefficient": to_text(r.coefficient),
                }
                for r in self.rows
            ],
            # JSON has no Infinity: an entire function's radius is the text "inf"
            "radius": "inf" if self.radius == math.inf else self.radius,
        }

    def _repr_latex_(self) -> str:
        return f"$p({self.variable}) = {to_latex(self.polynomial)}$"


def _symengine_derivatives(expr: sympy.Expr, x: sympy.Symbol, count: int) -> list[Any]:
    """f, f', ..., f^(count-1): symengine differentiates a hundred times faster than
    SymPy (its derivatives are converted back only when shown)."""
    from ..function import _symengine

    se = _symengine()
    if se is None:
        out = [expr]
        for _ in range(count - 1):
            out.append(out[-1].diff(x))
        return out
    e = se.sympify(expr)
    xs = se.sympify(x)
    out = [e]
    for _ in range(count - 1):
        out.append(out[-1].diff(xs))
    return out


def _to_sympy(e: Any) -> sympy.Expr:
    return e if isinstance(e, sympy.Basic) else sympy.sympify(e._sympy_())


def _side(u: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, direction: int) -> int:
    """The sign of u just to one side of a (+1 right, -1 left)."""
    eps = sympy.Rational(1, 10**8) * (1 + abs(a))
    value = u.subs(x, a + direction * eps).evalf(40)
    if value.is_real is not True:
        side = "right" if direction > 0 else "left"
        raise CalcmlError(
            f"{to_text(u)} is not a real number just {side} of {x} = {to_text(a)}, so the "
            "function is not defined on both sides there: it has no Taylor series there"
        )
    return 1 if value > 0 else -1


def _away_from_zero(expr: sympy.Expr, x: sympy.Symbol, a: sympy.Expr) -> sympy.Expr:
    """|u| and sign(u) with u(a) != 0 replaced by s u and s, s the sign of u(a): near a
    they are the same function (|sqrt(x)| is sqrt(x) about 1), and without the |.| the
    derivatives are plain ones. Innermost first, so that |sin(|x - 3|)| unwraps fully."""
    for _ in range(len(expr.atoms(sympy.Abs, sympy.sign))):
        swap = {}
        for k in expr.atoms(sympy.Abs, sympy.sign):
            value = k.args[0].subs(x, a)
            if value.has(x) or value.atoms(sympy.Abs, sympy.sign):
                continue
            value = value.evalf(40)
            if value.is_real is not True or value == 0 or not value.is_finite:
                continue
            s = 1 if value > 0 else -1
            swap[k] = s * k.args[0] if isinstance(k, sympy.Abs) else sympy.Integer(s)
        if not swap:
            break
        expr = expr.xreplace(swap)
    return expr


def _smooth_branch(expr: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, order: int) -> sympy.Expr:
    """``expr`` with each |u| and sign(u) whose u vanishes at a replaced by the branch
    right of a, when the left branch has the same derivatives up to ``order`` (then the
    Taylor series exists: sin(|x|)^2 is sin(x)^2); otherwise a CalcmlError naming the
    corner (|x| about 0 has slopes -1 and 1)."""
    expr = _away_from_zero(expr, x, a)
    kinks = [k for k in expr.atoms(sympy.Abs, sympy.sign) if k.args[0].subs(x, a).equals(0)]
    if not kinks or (order == 0 and all(isinstance(k, sympy.Abs) for k in kinks)):
        return expr  # |u| itself is continuous: its value needs no branch

    def branch(direction: int) -> sympy.Expr:
        swap = {}
        for k in kinks:
            s = _side(k.args[0], x, a, direction)
            swap[k] = s * k.args[0] if isinstance(k, sympy.Abs) else sympy.Integer(s)
        out = expr
        for _ in range(len(kinks)):  # nested corners (|sin(|x|)|): one level per pass
            nxt = out.xreplace(swap)
            if nxt == out:
                break
            out = nxt
        return out

    right, left = branch(1), branch(-1)
    d_right, d_left = right, left
    for n in range(order + 1):
        if sympy.simplify((d_right - d_left).subs(x, a)) != 0:
            which = "values" if n == 0 else f"{_ordinal(n)} derivatives"
            raise CalcmlError(
                f"{to_text(expr)} is not differentiable at {x} = {to_text(a)}: the "
                f"{which} from the left and from the right differ there "
                f"(|{to_text(kinks[0].args[0])}| has a corner), so there is no Taylor series"
            )
        d_right, d_left = d_right.diff(x), d_left.diff(x)
    return right


def _value_at(d: Any, x: sympy.Symbol, a: sympy.Expr, n: int, f: sympy.Expr) -> sympy.Expr:
    value = _to_sympy(_subs(d, x, a))
    if value.is_Float or value.has(sympy.Float):
        value = value.evalf()  # (-1/2)**0.5 is only seen to be imaginary once evaluated
    which = "f itself" if n == 0 else f"the {_ordinal(n)} derivative"
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.AccumBounds):
        raise CalcmlError(
            f"{to_text(f)} has no Taylor series about {x} = {to_text(a)}: {which} "
            f"({to_text(_to_sympy(d))}) is not defined there"
        )
    if value.is_real is False:
        raise CalcmlError(
            f"{to_text(f)} has no real Taylor series about {x} = {to_text(a)}: {which} is "
            f"{to_text(value)} there, not a real number"
        )
    return value


def _subs(d: Any, x: sympy.Symbol, a: sympy.Expr) -> Any:
    if isinstance(d, sympy.Basic):
        return d.subs(x, a)
    import symengine as se

    return d.subs({se.sympify(x): se.sympify(a)})


def _expression_taylor(f: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, order: int) -> Taylor:
    smooth = _smooth_branch(f, x, a, order)
    if smooth.atoms(sympy.Abs, sympy.sign):
        # symengine leaves d|u|/dx unevaluated: SymPy, on a real variable, gives sign(u)
        real = sympy.Dummy(x.name, real=True)
        e = smooth.xreplace({x: real})
        ds = [e]
        for _ in range(order + 1):
            ds.append(ds[-1].diff(real))
        ds = [d.xreplace({real: x}) for d in ds]
    else:
        ds = _symengine_derivatives(smooth, x, order + 2)  # one more: for the remainder
    # symengine substitutes fast, but gets powers of negative numbers with a decimal
    # exponent wrong ((-1/2)^0.5 came out as 1.41): with decimals, SymPy does it.
    exact = not smooth.has(sympy.Float)
    rows = []
    for n, d in enumerate(ds[: order + 1]):
        try:
            value = _value_at(d if exact else _to_sympy(d), x, a, n, f)
        except RuntimeError:  # symengine: e.g. exp(-1/x^2) at 0 meets exp(zoo)
            which = "f itself" if n == 0 else f"the {_ordinal(n)} derivative"
            raise CalcmlError(
                f"{to_text(f)} has no Taylor series about {x} = {to_text(a)}: {which} is not "
                "defined there (it needs a limit, which a Taylor series does not take)"
            ) from None
        rows.append(Row(n, d, value, value / math.factorial(n)))
    following = ds[order + 1]
    if smooth is not f:
        # The branch right of a served for the coefficients; the remainder needs f's own
        # next derivative on both sides (with sign(u) in it, which intervals handle; a
        # DiracDelta, where it does not exist, makes the bound refuse).
        real = sympy.Dummy(x.name, real=True)
        following = f.xreplace({x: real}).diff(real, order + 1).xreplace({real: x})
    return Taylor(f, x, a, order, rows, _next=following)


def _callable_taylor(fun: Callable, x: sympy.Symbol, a: sympy.Expr, order: int) -> Taylor:
    from .. import ad

    order = _check_order(order, MAX_ORDER_CALLABLE)
    g: Callable = fun
    rows = []
    for n in range(order + 1):
        try:
            value = float(np.asarray(g(float(a)), dtype=float))
        except CalcmlError:
            raise
        except Exception as err:
            raise CalcmlError(
                f"the function (a Python callable) failed at {to_text(a)} while taking its "
                f"{_ordinal(n)} derivative: {type(err).__name__}: {err}"
            ) from None
        if not math.isfinite(value):
            which = "its value" if n == 0 else f"its {_ordinal(n)} derivative"
            raise CalcmlError(
                f"the function has no Taylor series about {to_text(a)}: {which} is {value}"
            )
        v = sympy.Float(value)
        rows.append(Row(n, None, v, v / math.factorial(n)))
        g = ad.grad(g)
    return Taylor(None, x, a, order, rows, _radius=None, source=fun)


# -- several variables ---------------------------------------------------------------------


@dataclass
class MultiTaylor:
    """The Taylor polynomial of a function of several variables about a point.

    ``value`` f(a), ``gradient`` J(a) (a row), ``hessian`` H(a); ``polynomial`` is
    f(a) + J dx + dx^T H dx / 2 for order 2, plus the higher terms
    sum over |alpha| = k of D^alpha f(a) / alpha! dx^alpha for higher orders.
    """

    f: sympy.Expr | None
    variables: list[sympy.Symbol]
    about: list[sympy.Expr]
    order: int
    terms_by_degree: list[sympy.Expr]
    value: sympy.Expr
    gradient: sympy.Matrix | None
    hessian: sympy.Matrix | None

    @property
    def polynomial(self) -> sympy.Expr:
        return sympy.Add(*self.terms_by_degree)

    def __call__(self, point: Any) -> Any:
        pts = np.asarray(point, dtype=float)
        n = len(self.variables)
        if pts.shape[-1:] != (n,):
            raise CalcmlError(
                f"points need {n} coordinates in the last axis, got shape {pts.shape}"
            )
        fn = sympy.lambdify(self.variables, self.polynomial, "numpy")
        out = fn(*np.moveaxis(pts, -1, 0))
        return np.broadcast_to(out, pts.shape[:-1]).astype(float)

    def explain(self) -> str:
        point = ", ".join(
            f"{v} = {to_text(a)}" for v, a in zip(self.variables, self.about, strict=True)
        )
        lines = [f"Taylor polynomial of order {self.order} about ({point}):"]
        lines.append(f"  f(a) = {to_text(self.value)}")
        if self.gradient is not None:
            lines.append(f"  J(a) = {[to_text(e) for e in self.gradient]}")
        if self.hessian is not None:
            rows = [[to_text(e) for e in self.hessian.row(i)] for i in range(self.hessian.rows)]
            lines.append(f"  H(a) = {rows}")
        dx = ", ".join(
            f"d{v} = {v} - {to_text(a)}" for v, a in zip(self.variables, self.about, strict=True)
        )
        lines.append(f"  with {dx}:")
        names = ["f(a)", "J(a) dx", "dx^T H(a) dx / 2"]
        for k, term in enumerate(self.terms_by_degree):
            label = names[k] if k < 3 else f"order {k}"
            lines.append(f"  {label}: {to_text(term)}")
        lines.append(f"p = {to_text(self.polynomial)}")
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        return f"$p = {to_latex(self.polynomial)}$"


def _multi_expression(
    f: sympy.Expr, xs: list[sympy.Symbol], a: list[sympy.Expr], order: int
) -> MultiTaylor:
    sub = dict(zip(xs, a, strict=True))
    for kink in f.atoms(sympy.Abs, sympy.sign):
        if kink.args[0].subs(sub).equals(0):
            raise CalcmlError(
                f"{to_text(f)} is not differentiable at the point: "
                f"|{to_text(kink.args[0])}| has a corner there"
            )
    dxs = [x - p for x, p in zip(xs, a, strict=True)]
    memo: dict[tuple[int, ...], sympy.Expr] = {(): f}

    def derivative(index: tuple[int, ...]) -> sympy.Expr:
        if index not in memo:
            memo[index] = derivative(index[:-1]).diff(xs[index[-1]])
        return memo[index]

    def at(e: sympy.Expr, what: str) -> sympy.Expr:
        v = e.subs(sub)
        if v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.AccumBounds):
            raise CalcmlError(
                f"{to_text(f)} has no Taylor series about the point: {what} is not defined there"
            )
        if v.is_real is False or (v.is_real is None and not v.evalf(30).is_real):
            raise CalcmlError(
                f"{to_text(f)} has no real Taylor series about the point: {what} is "
                f"{to_text(v)} there, not a real number"
            )
        return v

    value = at(f, "f itself")
    terms = [value]
    for k in range(1, order + 1):
        term = sympy.Integer(0)
        for index in combinations_with_replacement(range(len(xs)), k):
            counts = [index.count(i) for i in range(len(xs))]
            d = at(derivative(index), f"a derivative of order {k}")
            weight = sympy.Integer(math.prod(math.factorial(c) for c in counts))
            term += d / weight * sympy.Mul(*(dxs[i] ** c for i, c in enumerate(counts)))
        terms.append(term)
    n = len(xs)
    grad = (
        sympy.Matrix([[at(derivative((i,)), "a first derivative") for i in range(n)]])
        if order >= 1
        else None
    )
    hess = None
    if order >= 2:
        hess = sympy.Matrix(
            n, n, lambda i, j: at(derivative(tuple(sorted((i, j)))), "a second derivative")
        )
    return MultiTaylor(f, xs, a, order, terms, value, grad, hess)


def _multi_callable(fun: Callable, names: list[str], a: list[float], order: int) -> MultiTaylor:
    from .. import ad

    order = _check_order(order, 4)
    xs = [sympy.Symbol(nm) for nm in names]
    x0 = np.asarray(a, dtype=float)
    dxs = sympy.Matrix([x - p for x, p in zip(xs, a, strict=True)])
    tensors = []
    g: Callable = fun
    for k in range(order + 1):
        t = np.asarray(g(x0), dtype=float)
        if not np.all(np.isfinite(t)):
            raise CalcmlError(
                f"the function has no Taylor series about {list(a)}: "
                f"a derivative of order {k} is not finite"
            )
        tensors.append(t)
        g = ad.jacobian(g) if k else ad.grad(g)
    terms = []
    for k, t in enumerate(tensors):
        term = sympy.Float(float(t)) if k == 0 else sympy.Integer(0)
        if k:
            for index in np.ndindex(*t.shape):
                term += sympy.Float(float(t[index])) * sympy.Mul(*(dxs[i] for i in index))
            term = sympy.expand(term / math.factorial(k))
        terms.append(term)
    n = len(xs)
    grad = sympy.Matrix([[sympy.Float(float(v)) for v in tensors[1]]]) if order >= 1 else None
    hess = (
        sympy.Matrix(n, n, lambda i, j: sympy.Float(float(tensors[2][i, j])))
        if order >= 2
        else None
    )
    return MultiTaylor(None, xs, [sympy.Float(v) for v in a], order, terms, terms[0], grad, hess)


# -- the public functions ------------------------------------------------------------------


@budgeted
def taylor(
    f: Any,
    about: Any = 0,
    order: int = 2,
    variable: str | sympy.Symbol | None = None,
) -> Taylor | MultiTaylor:
    """The Taylor polynomial of ``f`` of order ``order`` about ``about``.

    ``f`` is text, a SymPy expression or a Python callable (written with
    ``calcml.numpy``; its derivatives come from ``calcml.ad``). ``about`` is a number (or
    text such as "pi/2") for one variable, or a dict ``{name: value}`` / a sequence in
    variable order for several; then the result is a :class:`MultiTaylor`.

    Raises a ``CalcmlError`` saying why when f or a derivative it needs does not exist at
    the point (1/x, ln x or sqrt x about 0, |x| at its corner).

    Examples
    --------
    >>> taylor("sin(x)", about=0, order=5).polynomial
    x**5/120 - x**3/6 + x
    >>> taylor("log(1 + x)", about=0, order=3).radius
    1.0
    >>> taylor("x*y^2", about={"x": 1, "y": 2}, order=2).polynomial
    4*x + 4*y + 4*(x - 1)*(y - 2) + (y - 2)**2 - 8
    """
    if callable(f) and not isinstance(f, str | sympy.Basic):
        if isinstance(about, Mapping) or (
            isinstance(about, Sequence | np.ndarray) and not isinstance(about, str)
        ):
            names = (
                [str(k) for k in about]
                if isinstance(about, Mapping)
                else [f"x{i}" for i in range(len(about))]
            )
            values = [float(v) for v in (about.values() if isinstance(about, Mapping) else about)]
            return _multi_callable(f, names, values, _check_order(order, 4))
        a = _as_point(about)
        x = as_symbol(variable) if variable is not None else sympy.Symbol("x")
        return _callable_taylor(f, x, a, order)
    expr = as_expr(f)
    order = _check_order(order, MAX_ORDER)
    free = variables_of(expr)
    several = isinstance(about, Mapping) or (
        isinstance(about, Sequence | np.ndarray) and not isinstance(about, str)
    )
    if several:
        xs = free if not isinstance(about, Mapping) else [as_symbol(str(k), expr) for k in about]
        extra = [str(v) for v in xs if v not in free]
        if extra and isinstance(about, Mapping):
            raise CalcmlError(
                f"the point names {', '.join(extra)}, which {to_text(expr)} does not have "
                f"(its variables: {', '.join(str(v) for v in free) or 'none'})"
            )
        if not isinstance(about, Mapping):
            values: list[Any] = list(about)
        else:
            missing = [str(s) for s in free if str(s) not in {str(k) for k in about}]
            if missing:
                raise CalcmlError(f"the point gives no value for {', '.join(missing)}")
            values = list(about.values())
        if len(values) != len(xs):
            point_values(values, xs)  # raises the usual message about the count
        return _multi_expression(expr, xs, [_as_point(v) for v in values], order)
    if len(free) > 1 and variable is None:
        names = ", ".join(str(s) for s in free)
        raise CalcmlError(
            f"{to_text(expr)} has the variables {names}: give the point as a dict, "
            f"e.g. about={{{', '.join(repr(str(s)) + ': 0' for s in free)}}}"
        )
    x = (
        as_symbol(variable, expr)
        if variable is not None
        else (free[0] if free else sympy.Symbol("x"))
    )
    return _expression_taylor(expr, x, _as_point(about), order)


def linearise(
    f: Any, about: Any = 0, variable: str | sympy.Symbol | None = None
) -> Taylor | MultiTaylor:
    """The linearisation of ``f`` about a point: its Taylor polynomial of order 1.

    >>> linearise("sqrt(x)", about=4).polynomial
    x/4 + 1
    """
    return taylor(f, about=about, order=1, variable=variable)


linearize = linearise


@dataclass
class TruncationSlope:
    """How the error of a Taylor polynomial shrinks with the step: |f(a+h) - p(a+h)|
    against h, and the slope of log(error) against log(h) (order + 1 in theory)."""

    steps: np.ndarray
    errors: np.ndarray
    slope: float
    order: int


@budgeted
def truncation_slope(
    f: Any,
    about: Any = 0,
    order: int = 1,
    steps: Sequence[float] | None = None,
    direction: Sequence[float] | None = None,
) -> TruncationSlope:
    """Measure the order of the truncation error: for a linearisation (order 1) the
    error is O(h^2), so the log-log slope of error against step is about 2.

    The errors are computed with 50-digit arithmetic (mpmath), so that rounding does not
    bend the line at small steps.

    >>> round(truncation_slope("exp(x)", about=0).slope, 1)
    2.0
    """
    t = taylor(f, about=about, order=order)
    hs = np.asarray(steps if steps is not None else np.logspace(-1, -4, 7), dtype=float)
    if hs.ndim != 1 or len(hs) < 2 or np.any(hs <= 0):
        raise CalcmlError("steps must be at least two positive numbers")
    import mpmath

    errors = []
    with mpmath.workdps(50):
        if isinstance(t, Taylor):
            fe = sympy.lambdify(t.variable, t.f, "mpmath") if t.f is not None else None
            pe = sympy.lambdify(t.variable, t.polynomial, "mpmath")
            for h in hs:
                xh = mpmath.mpf(float(t.about)) + mpmath.mpf(h)
                fv = fe(xh) if fe is not None else mpmath.mpf(float(t.source(float(xh))))
                errors.append(float(abs(fv - pe(xh))))
        else:
            n = len(t.variables)
            u = np.asarray(
                direction if direction is not None else np.ones(n) / np.sqrt(n), dtype=float
            )
            if t.f is None:
                raise CalcmlError("truncation_slope with several variables needs an expression")
            fe = sympy.lambdify(t.variables, t.f, "mpmath")
            pe = sympy.lambdify(t.variables, t.polynomial, "mpmath")
            for h in hs:
                pt = [
                    mpmath.mpf(float(a)) + mpmath.mpf(h) * mpmath.mpf(float(ui))
                    for a, ui in zip(t.about, u, strict=True)
                ]
                errors.append(float(abs(fe(*pt) - pe(*pt))))
    errs = np.asarray(errors)
    good = errs > 0
    if good.sum() < 2:
        raise CalcmlError("the error is zero at these steps (f is a polynomial of this order?)")
    slope = float(np.polyfit(np.log(hs[good]), np.log(errs[good]), 1)[0])
    return TruncationSlope(hs, errs, slope, order)
