"""Tests of the renderers: ``to_text`` (reads back through ``parse``), ``to_latex`` and
``to_mathml``.

Expressions are built by hand with SymPy from plain symbols.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET

import pytest
import sympy

import calcml as cm
from watchdog import watchdog

x, y, z, b = (sympy.Symbol(name) for name in ("x", "y", "z", "b"))
theta = sympy.Symbol("theta")
MATHML_NS = "http://www.w3.org/1998/Math/MathML"


# -- to_text ------------------------------------------------------------------------------

TEXTS = [
    (x**2, "x^2"),
    (x**y, "x^y"),
    (sympy.sqrt(x), "sqrt(x)"),
    (sympy.Abs(x), "|x|"),
    (sympy.Abs(x - sympy.Abs(y)), "|x - |y||"),
    (sympy.exp(x), "exp(x)"),
    (sympy.exp(-y), "exp(-y)"),
    (x ** (-2), "1/x^2"),
    (1 / x, "1/x"),
    (1 / (x + 1), "1/(x + 1)"),
    (sympy.E, "e"),
    (sympy.pi, "pi"),
    (x**2 * sympy.sin(x) / 2, "x^2*sin(x)/2"),
    ((x + 1) ** 2, "(x + 1)^2"),
    (x ** (y + 1), "x^(y + 1)"),
    (x ** sympy.Rational(1, 3), "x^(1/3)"),
    (2**x, "2^x"),
    ((-2) ** x, "(-2)^x"),
    (-(x**2), "-x^2"),
    (sympy.Rational(1, 2), "1/2"),
    (sympy.Integer(42), "42"),
    (sympy.log(x), "log(x)"),
    (sympy.sin(x) ** 2, "sin(x)^2"),
    (theta, "theta"),
    (2 * x * y, "2*x*y"),
    (x - y, "x - y"),
]


@pytest.mark.parametrize(("expr", "text"), TEXTS, ids=[t for _, t in TEXTS])
def test_to_text(expr: sympy.Expr, text: str) -> None:
    assert cm.to_text(expr) == text


READ_BACK = [
    x**2 * sympy.sin(x) + sympy.exp(-y),
    x**2,
    x**-2,
    x**-1,
    sympy.sqrt(x),
    1 / sympy.sqrt(x),
    sympy.sqrt(x**2 + y**2),
    sympy.Abs(x),
    sympy.Abs(x - sympy.Abs(y)),
    sympy.Abs(x) * y * sympy.Abs(z),
    sympy.exp(x),
    sympy.exp(-(x**2) / 2) / sympy.sqrt(2 * sympy.pi),
    sympy.log(x),
    sympy.log(x) / sympy.log(b),
    (x + 1) * (x - 1),
    (x + 1) ** 10,
    x ** (y**z),
    x ** sympy.Rational(2, 3),
    x ** (-y),
    2**x,
    (-1) ** x,
    sympy.Rational(-2, 3) * x,
    sympy.pi * x,
    sympy.E * x,
    sympy.sin(x) * sympy.cos(y) + sympy.tan(z),
    sympy.sec(x) + sympy.csc(x) + sympy.cot(x),
    sympy.asin(x) + sympy.acos(x) + sympy.atan(x),
    sympy.sinh(x) + sympy.cosh(x) + sympy.tanh(x),
    theta**2 + sympy.Symbol("lambda"),
    sympy.Symbol("x_1") + sympy.Symbol("x1") + sympy.Symbol("b2"),
    sympy.Float("1.5") * x + sympy.Float("0.25"),
    sympy.Integer(2) ** 100,
    x / (y * z),
    1 / (x + 1) ** 2,
]


@pytest.mark.parametrize("expr", READ_BACK, ids=[str(e) for e in READ_BACK])
def test_to_text_reads_back(expr: sympy.Expr) -> None:
    text = cm.to_text(expr)
    assert "**" not in text
    assert cm.parse(text) == expr, text


def test_power_of_a_power_reads_back() -> None:
    # (x^y)^z is not x^(y^z): the base needs its brackets.
    for expr in [(x**y) ** z, (x**2) ** y, (2**x) ** y, -((x**y) ** z), ((x**y) ** z) ** b]:
        text = cm.to_text(expr)
        assert cm.parse(text) == expr, f"{expr} -> {text!r} -> {cm.parse(text)}"


def test_power_of_a_fraction_reads_back() -> None:
    expr = sympy.Rational(1, 2) ** x
    text = cm.to_text(expr)
    assert cm.parse(text) == expr, f"{expr} -> {text!r} -> {cm.parse(text)}"


def test_negated_product_with_a_sum_reads_back() -> None:
    expr = sympy.Mul(-1, 7 - sympy.Abs(x), sympy.Abs(y))
    text = cm.to_text(expr)
    assert cm.parse(text) == expr, f"{expr} -> {text!r} -> {cm.parse(text)}"


@pytest.mark.parametrize(
    "expr",
    [
        sympy.Float("0.1") + sympy.Float("0.2"),
        sympy.Float(1) / 3,
        sympy.Float(2) ** sympy.Float("0.5"),
        sympy.sin(sympy.Float("1.5")),
        sympy.Float(1e20),
        x / sympy.Float(3),
    ],
    ids=["0.1+0.2", "1/3.", "sqrt(2.)", "sin(1.5)", "1e20", "x/3."],
)
def test_floats_read_back_exactly(expr: sympy.Expr) -> None:
    # A printed answer typed back in must be the same number, to the last bit.
    text = cm.to_text(expr)
    assert cm.parse(text) == expr, f"{expr!r} -> {text!r} -> {cm.parse(text)!r}"


@pytest.mark.parametrize("text", ["0.5^1024", "2.0^-1030", "3.0^-650", "0.5^1074", "1e-310"])
def test_tiny_floats_read_back(text: str) -> None:
    # Below 2.2e-308 a Python float is subnormal and has fewer than 53 bits, so its
    # repr() is not enough to give back SymPy's full 53-bit number.
    expr = cm.parse(text)
    printed = cm.to_text(expr)
    assert cm.parse(printed) == expr, f"{text!r} -> {sympy.srepr(expr)} -> {printed!r}"


@pytest.mark.parametrize("text", ["2.0^7000", "exp(3000.0)", "0.1^1001", "2.0^-4000"])
def test_computed_floats_read_back(text: str) -> None:
    # parse() refuses a typed number beyond 1e+-1000; a number it computes itself must
    # then either be refused too, or print as text that reads back to the same number.
    try:
        expr = cm.parse(text)
    except cm.LimitError:
        return
    printed = cm.to_text(expr)
    assert cm.parse(printed) == expr, f"{text!r} -> {printed!r}"


def test_floats_print_short() -> None:
    assert cm.to_text(sympy.Float("1.5")) == "1.5"
    assert cm.to_text(sympy.Float("0.25") * x) == "0.25*x"
    assert cm.to_text(sympy.Float("2.0")) == "2.0"


def test_to_text_of_a_large_integer() -> None:
    # Python refuses str() of ints over 4,300 digits; to_text must not crash on SymPy
    # numbers that large (parse() itself stops at 1,000 digits).
    expr = sympy.Integer(10) ** 4400
    assert cm.to_text(expr) == "1" + "0" * 4400


def test_to_text_of_a_parsed_large_integer() -> None:
    # parse() keeps exact numbers to 1,000 digits; beyond, it refuses them.
    expr = cm.parse("10^999")
    assert cm.to_text(expr) == "1" + "0" * 999
    with pytest.raises(cm.LimitError):
        cm.parse("10^4400")


# to_text of an expression holding an astronomically large constant (e^e^e^e^e is
# e^(e^(3.8 million))): SymPy's printer orders the terms of a sum by evaluating them
# numerically, which would never finish. to_text's own one-second budget then falls
# back to printing the terms unsorted; the watchdog guards the rest of each test.
_TOWER = sympy.exp(sympy.exp(sympy.exp(sympy.exp(sympy.E))))  # e^e^e^e^e
HUGE_CONSTANTS = {
    "x + 3^10^pi^12": x + sympy.Integer(3) ** (sympy.Integer(10) ** (sympy.pi**12)),
    "x e^e^e^e^e + 1": x * _TOWER + 1,
}


@pytest.mark.parametrize("name", list(HUGE_CONSTANTS))
def test_to_text_of_huge_constants_finishes(name: str) -> None:
    # Either a LimitError or the text, and quickly.
    with watchdog(2.0, f"to_text({name})"), contextlib.suppress(cm.LimitError):
        cm.to_text(HUGE_CONSTANTS[name])


@pytest.mark.parametrize("text", ["x + e^e^e^e^e"])
def test_parse_of_huge_constants_can_be_printed(text: str) -> None:
    # Either parse refuses the tower (LimitError), or what it returns can be printed.
    try:
        expr = cm.parse(text)
    except cm.LimitError:
        return
    with watchdog(2.0, f"to_text(parse({text!r}))"), contextlib.suppress(cm.LimitError):
        cm.to_text(expr)


# -- to_latex -------------------------------------------------------------------------------

LATEX = [
    x**2 * sympy.sin(x) + sympy.exp(-y),
    sympy.sqrt(x),
    sympy.Abs(x - 1),
    sympy.log(x) / sympy.log(b),
    x ** sympy.Rational(1, 3),
    sympy.Rational(1, 2) * x**2,
    theta**2 + sympy.Symbol("lambda"),
    sympy.atan(x) + sympy.tanh(y),
    1 / x**2,
    sympy.Float("2.5") * x,
]


@pytest.mark.parametrize("expr", LATEX, ids=[str(e) for e in LATEX])
def test_to_latex_is_sympy_latex(expr: sympy.Expr) -> None:
    assert cm.to_latex(expr) == sympy.latex(expr)


def test_to_latex_examples() -> None:
    assert cm.to_latex(x**2) == "x^{2}"
    assert cm.to_latex(sympy.sqrt(x)) == r"\sqrt{x}"
    assert cm.to_latex(theta) == r"\theta"
    assert cm.to_latex(cm.parse("x^2 sin(x)")) == sympy.latex(x**2 * sympy.sin(x))


# -- to_mathml ------------------------------------------------------------------------------


def mathml_tree(expr: sympy.Expr, **kwargs: object) -> tuple[str, ET.Element]:
    text = cm.to_mathml(expr, **kwargs)
    assert isinstance(text, str)
    assert text.startswith(f'<math xmlns="{MATHML_NS}"')
    assert text.endswith("</math>")
    root = ET.fromstring(text)  # well-formed XML, on its own, without a DTD
    assert root.tag == f"{{{MATHML_NS}}}math"
    return text, root


def leaves(root: ET.Element, tag: str) -> list[str]:
    return [node.text or "" for node in root.iter(f"{{{MATHML_NS}}}{tag}")]


def test_mathml_power() -> None:
    text, root = mathml_tree(x**2)
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in text
    assert leaves(root, "mi") == ["x"]
    assert leaves(root, "mn") == ["2"]


def test_mathml_sqrt_and_fraction() -> None:
    text, _ = mathml_tree(sympy.sqrt(x))
    assert "<msqrt><mi>x</mi></msqrt>" in text
    text, _root = mathml_tree(x / y)
    assert "<mfrac><mi>x</mi><mi>y</mi></mfrac>" in text


def test_mathml_function() -> None:
    text, root = mathml_tree(sympy.sin(x))
    assert "<mi>x</mi>" in text
    assert "sin" in leaves(root, "mi")


def test_mathml_greek() -> None:
    _, root = mathml_tree(theta**2)
    assert "θ" in leaves(root, "mi")


def test_mathml_display() -> None:
    _, root = mathml_tree(x**2, display=True)
    assert root.get("display") == "block"
    _text, root = mathml_tree(x**2)
    assert root.get("display") in (None, "inline")


MATHML_WELL_FORMED = [
    x**2 * sympy.sin(x) + sympy.exp(-y),
    2 * x,
    x * y,
    sympy.pi * x,
    sympy.E,
    sympy.exp(x),
    sympy.Float("2.5") * x,
    sympy.Abs(x - 1),
    -x,
    sympy.Rational(1, 2),
    sympy.log(x),
]


@pytest.mark.parametrize("expr", MATHML_WELL_FORMED, ids=[str(e) for e in MATHML_WELL_FORMED])
def test_mathml_is_well_formed_xml(expr: sympy.Expr) -> None:
    text, _root = mathml_tree(expr)
    for symbol in expr.free_symbols:
        assert f"<mi>{symbol.name}</mi>" in text


def test_mathml_of_the_design_example() -> None:
    expr = cm.parse("x^2 sin(x) + e^(-y)")
    text, root = mathml_tree(expr)
    assert "<mi>x</mi>" in text
    assert "<mi>y</mi>" in text
    assert "<mn>2</mn>" in text
    assert "sin" in leaves(root, "mi")
