"""Renderers: SymPy expressions as plain text (as people type it), LaTeX and MathML.

The plain-text form uses ``^`` for powers and reads back through :func:`calcml.parse`
to the same expression, so a learner can copy an answer and type it in again.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> to_text(x**2 * sympy.sin(x) / 2)
'x^2*sin(x)/2'
>>> to_latex(sympy.sqrt(x))
'\\\\sqrt{x}'
"""

from __future__ import annotations

import math
import re
import sys
from html.entities import html5

import sympy
from mpmath import libmp as mlib
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from ..budget import time_budget
from ..errors import LimitError


class _TextPrinter(StrPrinter):
    """SymPy's str printer, speaking the calcml language: ^, |x|, e, log."""

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.base, expr.exp  # not as_base_exp(): it turns (1/2)^x into 2^-x
        if exponent == sympy.S.Half:
            return f"sqrt({self._print(base)})"
        if exponent.is_Number and exponent.is_negative:
            # 1/x^2 rather than x^(-2), as people write it
            positive = base if exponent == -1 else sympy.Pow(base, -exponent, evaluate=False)
            return f"1/{self.parenthesize(positive, PRECEDENCE['Mul'], strict=True)}"
        # strict=False: a power as a base keeps its brackets, (x^2)^x and (1/x)^(3/2)
        base_text = self.parenthesize(base, PRECEDENCE["Pow"], strict=False)
        if (exponent.is_Integer and exponent.is_positive) or exponent.is_Symbol:
            exp_text = self._print(exponent)
        else:
            exp_text = f"({self._print(exponent)})"
        if (base.is_Number and base.is_negative) or base.is_Float:
            base_text = f"({self._print(base)})"
        return f"{base_text}^{exp_text}"

    def _print_Mul(self, expr: sympy.Mul) -> str:
        coeff, rest = expr.as_coeff_Mul()
        if coeff != 1 and rest.is_Mul and rest.as_ordered_factors()[0].is_Add:
            # 2*(x + 1)*y must not read back as (2x + 2)*y: SymPy multiplies a number
            # into a sum when the two meet first, so keep the rest of the product whole.
            inner = self._print(rest)
            return f"-({inner})" if coeff == -1 else f"{self._print(coeff)}*({inner})"
        return super()._print_Mul(expr)

    def _print_Abs(self, expr: sympy.Abs) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Exp1(self, expr: object) -> str:
        return "e"

    def _print_exp(self, expr: sympy.exp) -> str:
        return f"exp({self._print(expr.args[0])})"

    def _print_Integer(self, expr: sympy.Integer) -> str:
        if expr.p.bit_length() < 13_000:  # under Python's 4,300-digit limit for str(int)
            return str(expr.p)
        limit = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return str(expr.p)
        finally:
            sys.set_int_max_str_digits(limit)

    def _print_ImaginaryUnit(self, expr: object) -> str:  # pragma: no cover - not in language
        return "I"

    def _print_Float(self, expr: sympy.Float) -> str:
        if expr._prec == 53:
            as_double = float(expr)
            normal = abs(as_double) >= sys.float_info.min or expr.is_zero
            if math.isfinite(as_double) and normal:
                # Python's shortest text that reads back to the very same number.
                return repr(as_double)
            # Subnormal or beyond the range of a double (1e-750): there repr() drops
            # bits, and 17 significant digits read back exactly.
            return mlib.to_str(expr._mpf_, 17)
        return StrPrinter._print_Float(self, expr)


_TEXT = _TextPrinter({"order": None})


_UNSORTED = _TextPrinter({"order": "none"})


def to_text(expr: sympy.Basic) -> str:
    """Plain text of an expression, in the calcml language (``^`` for powers).

    Terms are printed in SymPy's usual order, which it finds by evaluating them; for an
    expression holding an astronomically large constant (e^e^e^e^e) that would never
    end, so after a second the terms are printed as they are stored instead.

    >>> import calcml as cm
    >>> to_text(cm.parse("x^2 + 2x + 1"))
    'x^2 + 2*x + 1'
    """
    try:
        with time_budget(1.0, "ordering the terms"):
            return _TEXT.doprint(expr)
    except LimitError:
        return _UNSORTED.doprint(expr)


def to_latex(expr: sympy.Basic) -> str:
    """LaTeX of an expression (SymPy's printer; natural logs as ``\\log``).

    >>> import calcml as cm
    >>> to_latex(cm.parse("x^2"))
    'x^{2}'
    """
    return sympy.latex(expr)


class _MathML(MathMLPresentationPrinter):
    pass


# SymPy writes HTML's named entities (&InvisibleTimes;, &pi;), which plain XML does not
# know; numeric references mean the same and parse everywhere.
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _numeric_entity(match: re.Match[str]) -> str:
    text = html5.get(match.group(1) + ";")
    if text is None or match.group(1) in ("amp", "lt", "gt", "quot", "apos"):
        return match.group(0)
    return "".join(f"&#{ord(char)};" for char in text)


def to_mathml(expr: sympy.Basic, display: bool = False) -> str:
    """Presentation MathML of an expression, wrapped in a ``<math>`` element.

    >>> import calcml as cm
    >>> to_mathml(cm.parse("x^2"))
    '<math xmlns="http://www.w3.org/1998/Math/MathML"><msup><mi>x</mi><mn>2</mn></msup></math>'
    """
    body = _NAMED_ENTITY.sub(_numeric_entity, _MathML().doprint(expr))
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{body}</math>'


__all__ = ["precedence", "to_latex", "to_mathml", "to_text"]
