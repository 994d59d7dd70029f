"""calcml's own differentiator: the rules of calculus applied one at a time, with steps.

``differentiate(expr, x)`` looks at the outermost operation of ``expr`` and applies the
rule for it, recursing into the pieces; each application is recorded as a
:class:`~calcml.symbolic.steps.Step`. The derivatives of the elementary functions come
from one table, :data:`FUNCTION_RULES`, in the spirit of autograd's derivative table.

Calculus here is real calculus: ``d|u|/du = sign(u)``, as a learner is taught.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> step = differentiate(sympy.sin(x**2), x)
>>> step.rule, step.result
('chain', 2*x*cos(x**2))
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from ..errors import CalcmlError
from ..expr import to_text
from .steps import Step

_Derivative = Callable[[sympy.Expr], sympy.Expr]

#: rule name, d/du f(u), and the rule in words, for each elementary function f.
FUNCTION_RULES: dict[type, tuple[str, _Derivative, str]] = {
    sympy.exp: (
        "exp",
        lambda u: sympy.exp(u),
        "d/d{u} e^{u} = e^{u}: the exponential is its own derivative",
    ),
    sympy.log: ("log", lambda u: 1 / u, "d/d{u} ln({u}) = 1/{u}"),
    sympy.sin: ("sin", lambda u: sympy.cos(u), "d/d{u} sin({u}) = cos({u})"),
    sympy.cos: ("cos", lambda u: -sympy.sin(u), "d/d{u} cos({u}) = -sin({u})"),
    sympy.tan: ("tan", lambda u: sympy.sec(u) ** 2, "d/d{u} tan({u}) = sec^2({u})"),
    sympy.sec: (
        "sec",
        lambda u: sympy.sec(u) * sympy.tan(u),
        "d/d{u} sec({u}) = sec({u}) tan({u})",
    ),
    sympy.csc: (
        "csc",
        lambda u: -sympy.csc(u) * sympy.cot(u),
        "d/d{u} csc({u}) = -csc({u}) cot({u})",
    ),
    sympy.cot: ("cot", lambda u: -(sympy.csc(u) ** 2), "d/d{u} cot({u}) = -csc^2({u})"),
    sympy.asin: (
        "asin",
        lambda u: 1 / sympy.sqrt(1 - u**2),
        "d/d{u} asin({u}) = 1/sqrt(1 - {u}^2)",
    ),
    sympy.acos: (
        "acos",
        lambda u: -1 / sympy.sqrt(1 - u**2),
        "d/d{u} acos({u}) = -1/sqrt(1 - {u}^2)",
    ),
    sympy.atan: ("atan", lambda u: 1 / (1 + u**2), "d/d{u} atan({u}) = 1/(1 + {u}^2)"),
    sympy.sinh: ("sinh", lambda u: sympy.cosh(u), "d/d{u} sinh({u}) = cosh({u})"),
    sympy.cosh: ("cosh", lambda u: sympy.sinh(u), "d/d{u} cosh({u}) = sinh({u})"),
    sympy.tanh: ("tanh", lambda u: 1 - sympy.tanh(u) ** 2, "d/d{u} tanh({u}) = 1 - tanh^2({u})"),
    sympy.Abs: (
        "abs",
        lambda u: sympy.sign(u),
        "d/d{u} |{u}| = sign({u}), the slope of each half of the V (undefined at {u} = 0)",
    ),
}

# Names for the inner functions of chains, in the order they are used.
_INNER_NAMES = ("u", "v", "w", "p", "q", "s")


class _Context:
    """What one derivation needs to remember: the variable and the inner names used."""

    def __init__(self, expr: sympy.Expr, var: sympy.Symbol) -> None:
        self.expr = expr
        self.var = var
        self.taken: set[str] | None = None  # names in use, found when first needed
        self.count = 0

    def inner_symbol(self) -> sympy.Symbol:
        if self.taken is None:
            self.taken = {str(s) for s in self.expr.free_symbols}
        while True:
            base = _INNER_NAMES[self.count % len(_INNER_NAMES)]
            name = base if self.count < len(_INNER_NAMES) else f"{base}{self.count // 6}"
            self.count += 1
            if name not in self.taken:
                self.taken.add(name)
                return sympy.Symbol(name)


def differentiate(expr: sympy.Expr, var: sympy.Symbol) -> Step:
    """The derivative of ``expr`` with respect to ``var``, as a tree of steps."""
    return _diff(expr, var, _Context(expr, var))


def _diff(expr: sympy.Expr, x: sympy.Symbol, ctx: _Context) -> Step:
    if not expr.has(x):
        return _constant(expr, x)
    if expr == x:
        return Step(
            "variable",
            expr,
            sympy.S.One,
            [],
            lambda: f"The derivative of {x} with respect to itself is 1.",
            x,
        )
    if expr.is_Add:
        return _sum(expr, x, ctx)
    if expr.is_Mul:
        return _product(expr, x, ctx)
    if expr.is_Pow:
        return _power(expr, x, ctx)
    if type(expr) in FUNCTION_RULES:
        return _function(expr, x, ctx)
    if isinstance(expr, sympy.re | sympy.im):
        return _real_part(expr, x, ctx)
    if isinstance(expr, sympy.sign):
        return Step(
            "constant",
            expr,
            sympy.S.Zero,
            [],
            lambda: (
                f"{to_text(expr)} is -1 or 1 on each side of 0: a constant "
                "there, so its derivative is 0 (it has none at 0)."
            ),
            x,
        )
    raise CalcmlError(
        f"calcml has no differentiation rule for {type(expr).__name__} in {to_text(expr)}"
    )


def _real_part(expr: sympy.Expr, x: sympy.Symbol, ctx: _Context) -> Step:
    """re(u) = u and im(u) = 0 for real u: SymPy writes them for complex-safe forms."""
    arg = expr.args[0]
    real = arg if isinstance(expr, sympy.re) else sympy.S.Zero
    inner = _diff(real, x, ctx)
    return Step(
        "rewrite",
        expr,
        inner.result,
        [inner],
        lambda: f"The variables are real, so {to_text(expr)} = {to_text(real)}.",
        x,
    )


def _constant(expr: sympy.Expr, x: sympy.Symbol) -> Step:
    def why() -> str:
        others = sorted(str(s) for s in expr.free_symbols)
        if others:
            held = ", ".join(others)
            return (
                f"{to_text(expr)} does not change when {x} does ({held} held constant), "
                "so its derivative is 0."
            )
        return f"{to_text(expr)} is a constant, so its derivative is 0."

    return Step("constant", expr, sympy.S.Zero, [], why, x)


def _sum(expr: sympy.Expr, x: sympy.Symbol, ctx: _Context) -> Step:
    parts = [_diff(term, x, ctx) for term in expr.args]
    result = sympy.Add(*(p.result for p in parts))
    return Step(
        "sum",
        expr,
        result,
        parts,
        lambda: (
            f"The derivative of a sum is the sum of the derivatives: "
            f"differentiate the {len(parts)} terms one by one."
        ),
        x,
    )


def _product(expr: sympy.Expr, x: sympy.Symbol, ctx: _Context) -> Step:
    # The factors free of x form the constant (as_independent does this 20x slower).
    free, bound = [], []
    for factor in expr.args:
        (bound if factor.has(x) else free).append(factor)
    if free:
        constant, rest = sympy.Mul(*free), sympy.Mul(*bound)
        inner = _diff(rest, x, ctx)

        def why() -> str:
            held = sorted(str(s) for s in constant.free_symbols)
            note = f" ({', '.join(held)} held constant)" if held else ""
            return (
                f"A constant factor stays: d/d{x} [c·f] = c·df/d{x}, with "
                f"c = {to_text(constant)}{note}."
            )

        return Step("constant_multiple", expr, constant * inner.result, [inner], why, x)
    factors = expr.args
    top = [f for f in factors if not _is_reciprocal(f)]
    bottom = [1 / f for f in factors if _is_reciprocal(f)]
    if top and bottom:
        return _quotient(expr, sympy.Mul(*top), sympy.Mul(*bottom), x, ctx)
    parts = [_diff(f, x, ctx) for f in factors]
    terms = []
    for i, part in enumerate(parts):
        others = factors[:i] + factors[i + 1 :]
        terms.append(sympy.Mul(part.result, *others))
    n = len(factors)

    def why() -> str:
        if n == 2:
            return "(u·v)' = u'·v + u·v': differentiate one factor at a time, keep the other."
        return (
            f"For {n} factors, differentiate one factor at a time, keeping the other "
            f"{n - 1}, and add the {n} products."
        )

    return Step("product", expr, sympy.Add(*terms), parts, why, x)


def _is_reciprocal(factor: sympy.Expr) -> bool:
    return bool(factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative)


def _quotient(
    expr: sympy.Expr, top: sympy.Expr, bottom: sympy.Expr, x: sympy.Symbol, ctx: _Context
) -> Step:
    du, dv = _diff(top, x, ctx), _diff(bottom, x, ctx)
    result = (du.result * bottom - top * dv.result) / bottom**2
    return Step(
        "quotient",
        expr,
        result,
        [du, dv],
        lambda: f"(u/v)' = (u'·v - u·v')/v^2, with u = {to_text(top)} and v = {to_text(bottom)}.",
        x,
    )


def _power(expr: sympy.Pow, x: sympy.Symbol, ctx: _Context) -> Step:
    base, exponent = expr.base, expr.exp
    if not exponent.has(x):
        if base == x:
            return _power_rule(expr, x)
        u = ctx.inner_symbol()
        return _chain(expr, base, _power_rule(u**exponent, u), x, ctx, u)
    if base == 0:
        return Step(
            "constant",
            expr,
            sympy.S.Zero,
            [],
            lambda: (
                f"{to_text(expr)} is 0 wherever it is defined (exponent > 0), "
                "so its derivative is 0."
            ),
            x,
        )
    if not base.has(x):
        if exponent == x:
            return _exponential(expr, x)
        u = ctx.inner_symbol()
        return _chain(expr, exponent, _exponential(base**u, u), x, ctx, u)
    return _general_power(expr, x, ctx)


def _power_rule(expr: sympy.Pow, x: sympy.Symbol) -> Step:
    n = expr.exp
    result = n * x ** (n - 1)

    def why() -> str:
        seen = ""
        if n == sympy.S.Half:
            seen = f"sqrt({x}) = {x}^(1/2). "
        elif n.is_Number and n.is_negative:
            seen = f"1/{to_text(x**-n)} = {to_text(x)}^({to_text(n)}). "
        return f"{seen}d/d{x} {x}^n = n·{x}^(n-1), with n = {to_text(n)}."

    return Step("power", expr, result, [], why, x)


def _exponential(expr: sympy.Pow, x: sympy.Symbol) -> Step:
    a = expr.base
    return Step(
        "exponential",
        expr,
        expr * sympy.log(a),
        [],
        lambda: f"d/d{x} a^{x} = a^{x}·ln(a), with a = {to_text(a)}.",
        x,
    )


def _general_power(expr: sympy.Pow, x: sympy.Symbol, ctx: _Context) -> Step:
    base, exponent = expr.base, expr.exp
    log_form = exponent * sympy.log(base)
    inner = _diff(log_form, x, ctx)
    return Step(
        "general_power",
        expr,
        expr * inner.result,
        [inner],
        lambda: (
            f"Base and exponent both depend on {x}: write "
            f"{to_text(expr)} = e^({to_text(log_form)}), so its derivative is "
            f"{to_text(expr)}·d/d{x}[{to_text(log_form)}] (logarithmic differentiation)."
        ),
        x,
    )


def _function(expr: sympy.Function, x: sympy.Symbol, ctx: _Context) -> Step:
    arg = expr.args[0]
    if arg == x:
        return _outer(type(expr), x)
    u = ctx.inner_symbol()
    return _chain(expr, arg, _outer(type(expr), u), x, ctx, u)


def _outer(func: type, u: sympy.Symbol) -> Step:
    rule, derivative, words = FUNCTION_RULES[func]
    return Step(rule, func(u), derivative(u), [], lambda: words.format(u=u) + ".", u)


def _chain(
    expr: sympy.Expr,
    inner_expr: sympy.Expr,
    outer: Step,
    x: sympy.Symbol,
    ctx: _Context,
    u: sympy.Symbol,
) -> Step:
    inner = _diff(inner_expr, x, ctx)
    outer_at_inner = outer.result.xreplace({u: inner_expr})
    result = outer_at_inner * inner.result
    return Step(
        "chain",
        expr,
        result,
        [outer, inner],
        lambda: (
            f"Let {u} = {to_text(inner_expr)}. Then d/d{x} "
            f"{to_text(outer.expr)} = d/d{u} {to_text(outer.expr)} · d{u}/d{x} "
            f"= {to_text(outer_at_inner)} · {to_text(inner.result)}."
        ),
        x,
    )
