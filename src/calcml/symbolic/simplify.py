"""Tidying an answer: cheap, deterministic rewrites that a learner would also make.

``sympy.simplify`` can take a second or more on a derivative and gives different forms
from one SymPy version to the next; even ``factor_terms`` and ``together`` spend
milliseconds in polynomial gcds. A derivative should come back in about the time SymPy
takes to differentiate, so ``tidy`` does what a person does by eye:

* pull the factors common to every term out of a sum (``x^2 cos x + 2x sin x`` becomes
  ``x (x cos x + 2 sin x)``), including a common sign;
* multiply out the numerator of a fraction over one denominator (``((x^2+1) - 2x(x-1))
  / (x-1)^2`` becomes ``(-x^2 + 2x + 1)/(x-1)^2``), and clear fractions inside a
  denominator (``1/(2(x^2/4 + 1))`` becomes ``2/(x^2 + 4)``);

and keeps the form with the fewest nodes.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> tidy(2*x*sympy.sin(x) + x**2*sympy.cos(x))
x*(x*cos(x) + 2*sin(x))
"""

from __future__ import annotations

import math
from collections import Counter

import sympy


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """The smallest of ``expr`` and a few cheap rewrites of it (fewest tree nodes)."""
    if expr.is_Atom:
        return expr
    candidates = [expr]
    if expr.is_Add:
        terms = [_clear_inner_fractions(t) for t in expr.args]
        termwise = sympy.Add(*terms)
        candidates += [termwise, pull_common_factor(termwise)]
    elif expr.is_Mul:
        cleared = _clear_inner_fractions(expr)
        candidates += [cleared, _expand_numerator(cleared)]
    # Fewest nodes wins; on a tie the earlier (less rewritten) form stays.
    return min(candidates, key=_size)


def _size(expr: sympy.Expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


def pull_common_factor(expr: sympy.Expr) -> sympy.Expr:
    """``a*b + a*c`` as ``a*(b + c)``: the factors (with their least power), the whole
    number and the sign shared by every term of a sum, found by counting, without
    polynomial gcds."""
    if not expr.is_Add:
        return expr
    powers = [_factor_powers(term) for term in expr.args]
    common = Counter(powers[0])
    for p in powers[1:]:
        common &= p
    negative = all(term.could_extract_minus_sign() for term in expr.args)
    coefficients = [term.as_coeff_Mul()[0] for term in expr.args]
    number = 1
    if all(c.is_Integer for c in coefficients):
        number = math.gcd(*(int(c) for c in coefficients))
    if not common and not negative and number == 1:
        return expr
    factor = number * sympy.Mul(*(base**n for base, n in common.items()))
    sign = -1 if negative else 1
    inner = sympy.Add(*(term / (sign * factor) for term in expr.args))
    pulled = sympy.Mul(factor, inner)
    # Unevaluated, or SymPy would multiply the -1 back into the sum.
    return sympy.Mul(sympy.S.NegativeOne, pulled, evaluate=False) if negative else pulled


def _factor_powers(term: sympy.Expr) -> Counter:
    """The non-numeric factors of a product with positive integer powers: x^2 sin(x)
    gives {x: 2, sin(x): 1}."""
    powers: Counter = Counter()
    for factor in sympy.Mul.make_args(term):
        if factor.is_Number:
            continue
        base, exponent = factor.as_base_exp()
        if exponent.is_Integer and exponent > 0:
            powers[base] += int(exponent)
        elif not exponent.is_Number:
            powers[factor] += 1  # exp(-x^2), 2^x: a factor as a whole
    return powers


def _clear_inner_fractions(term: sympy.Expr) -> sympy.Expr:
    """1/(2(x^2/4 + 1)) -> 2/(x^2 + 4): a sum with fractions inside a denominator."""
    if not term.is_Mul:
        return term
    changed = False
    factors = []
    for factor in term.args:
        base, exponent = factor.as_base_exp()
        if (
            exponent.is_Number
            and exponent.is_negative
            and base.is_Add
            and any(_has_fraction(t) for t in base.args)
        ):
            numerator, denominator = sympy.together(base).as_numer_denom()
            # (n/d)^k as n^k * d^-k: SymPy would spread n/d back over the sum
            factors += [numerator**exponent, denominator ** (-exponent)]
            changed = True
        else:
            factors.append(factor)
    return sympy.Mul(*factors) if changed else term


def _expand_numerator(expr: sympy.Mul) -> sympy.Expr:
    """n/d with the products in n multiplied out, when n is a sum (quotient rule)."""
    numerator = [f for f in expr.args if not _is_reciprocal(f)]
    if len(numerator) != len(expr.args) and any(f.is_Add for f in numerator):
        top = sympy.expand_mul(sympy.Mul(*numerator))
        bottom = [f for f in expr.args if _is_reciprocal(f)]
        return sympy.Mul(pull_common_factor(top), *bottom)
    return expr


def _has_fraction(term: sympy.Expr) -> bool:
    """x/4, 1/x, 3/2: a term that is or holds a fraction."""
    return any(
        (f.is_Rational and not f.is_Integer) or _is_reciprocal(f) for f in sympy.Mul.make_args(term)
    )


def _is_reciprocal(factor: sympy.Expr) -> bool:
    return bool(factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative)
