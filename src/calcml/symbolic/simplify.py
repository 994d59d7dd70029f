"""Tidying an answer: cheap, deterministic rewrites that a learner would also make.

``sympy.simplify`` can take a second or more on a derivative and gives different forms
from one SymPy version to the next; a derivative should come back in a few hundred
microseconds. ``tidy`` tries a few cheap rewrites (pulling out common factors, putting
fractions over one denominator) and keeps the shortest form.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> tidy(2*x*sympy.sin(x) + x**2*sympy.cos(x))
x*(x*cos(x) + 2*sin(x))
"""

from __future__ import annotations

import sympy


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """The shortest of ``expr`` and a few cheap rewrites of it (by SymPy's op count)."""
    if expr.is_Atom:
        return expr
    candidates = [expr, sympy.factor_terms(expr)]
    terms = sympy.Add.make_args(expr)
    if any(_is_fraction(term) for term in terms):
        # Each fraction over one denominator: tanh(x)/(2(x^2/4 + 1)) -> 2 tanh(x)/(x^2 + 4)
        termwise = sympy.Add(*(_over_one_denominator(t) for t in terms))
        candidates += [termwise, _over_one_denominator(expr)]
    # Fewest operations wins; on a tie the earlier (less rewritten) form stays.
    return min(candidates, key=sympy.count_ops)


def _over_one_denominator(expr: sympy.Expr) -> sympy.Expr:
    """n/d with the products in n multiplied out (but no power of a sum expanded)."""
    numerator, denominator = sympy.fraction(sympy.together(expr))
    numerator = sympy.expand(
        numerator, multinomial=False, power_exp=False, power_base=False, log=False
    )
    return sympy.factor_terms(numerator) / denominator


def _is_fraction(term: sympy.Expr) -> bool:
    return any(
        f.is_Pow and f.exp.is_Number and f.exp.is_negative for f in sympy.Mul.make_args(term)
    )
