"""Textbook derivatives, checked against hand-derived answers and SymPy."""

from __future__ import annotations

import pytest
import sympy

import calcml as cm
from calcml.symbolic.steps import RULES
from oracle import check_same, step_pairs

x, y, z, t = sympy.symbols("x y z t")

# (text, hand-derived derivative as SymPy, rule at the root)
TEXTBOOK = [
    ("5", sympy.Integer(0), "constant"),
    ("x", sympy.Integer(1), "variable"),
    ("x^7", 7 * x**6, "power"),
    ("sqrt(x)", 1 / (2 * sympy.sqrt(x)), "power"),
    ("1/x^2", -2 / x**3, "power"),
    ("3x^2", 6 * x, "constant_multiple"),
    ("x^3 - 2x + 2", 3 * x**2 - 2, "sum"),
    ("x^2 sin(x)", 2 * x * sympy.sin(x) + x**2 * sympy.cos(x), "product"),
    (
        "x sin(x) e^x",
        sympy.sin(x) * sympy.exp(x)
        + x * sympy.cos(x) * sympy.exp(x)
        + x * sympy.sin(x) * sympy.exp(x),
        "product",
    ),
    ("sin(x)/x", (x * sympy.cos(x) - sympy.sin(x)) / x**2, "quotient"),
    ("(x^2+1)/(x-1)", (2 * x * (x - 1) - (x**2 + 1)) / (x - 1) ** 2, "quotient"),
    ("sin(x^2)", 2 * x * sympy.cos(x**2), "chain"),
    ("(3x+1)^5", 15 * (3 * x + 1) ** 4, "chain"),
    ("e^(-x^2)", -2 * x * sympy.exp(-(x**2)), "chain"),
    ("exp(x)", sympy.exp(x), "exp"),
    ("ln(x)", 1 / x, "log"),
    ("log(x, 2)", 1 / (x * sympy.log(2)), "constant_multiple"),
    ("sin(x)", sympy.cos(x), "sin"),
    ("cos(x)", -sympy.sin(x), "cos"),
    ("tan(x)", 1 / sympy.cos(x) ** 2, "tan"),
    ("sec(x)", sympy.sin(x) / sympy.cos(x) ** 2, "sec"),
    ("csc(x)", -sympy.cos(x) / sympy.sin(x) ** 2, "csc"),
    ("cot(x)", -1 / sympy.sin(x) ** 2, "cot"),
    ("asin(x)", 1 / sympy.sqrt(1 - x**2), "asin"),
    ("acos(x)", -1 / sympy.sqrt(1 - x**2), "acos"),
    ("atan(x)", 1 / (1 + x**2), "atan"),
    ("sinh(x)", sympy.cosh(x), "sinh"),
    ("cosh(x)", sympy.sinh(x), "cosh"),
    ("tanh(x)", 1 / sympy.cosh(x) ** 2, "tanh"),
    ("|x|", sympy.sign(x), "abs"),
    ("2^x", 2**x * sympy.log(2), "exponential"),
    ("x^x", x**x * (sympy.log(x) + 1), "general_power"),
    (
        "sin(x)^cos(x)",
        sympy.sin(x) ** sympy.cos(x)
        * (-sympy.sin(x) * sympy.log(sympy.sin(x)) + sympy.cos(x) ** 2 / sympy.sin(x)),
        "general_power",
    ),
    ("1/(1+e^(-x))", sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2, "chain"),
]


@pytest.mark.parametrize(("text", "expected", "root_rule"), TEXTBOOK)
def test_textbook_derivative(text: str, expected: sympy.Expr, root_rule: str) -> None:
    d = cm.derivative(text, "x")
    assert d.steps.rule == root_rule
    # the hand-derived answer, the raw rule result and the tidied answer all agree
    check_same([(d.result, expected), (d.raw, expected)], [x])
    assert d.rules_used() <= RULES
    assert d.steps.result == d.raw


@pytest.mark.parametrize(("text", "expected", "root_rule"), TEXTBOOK)
def test_every_step_is_true(text: str, expected: sympy.Expr, root_rule: str) -> None:
    d = cm.derivative(text, "x")
    assert check_same(step_pairs(d.steps), [x]) > 0


def test_design_example() -> None:
    d = cm.derivative("x^2*sin(x)", "x")
    assert sympy.simplify(d.result - sympy.diff(x**2 * sympy.sin(x), x)) == 0
    assert {"product", "power", "sin"} <= d.rules_used()
    text = d.explain()
    lines = text.splitlines()
    assert lines[1].startswith("1. ") and "product rule" in lines[1]
    assert "Answer:" in lines[-1]


def test_chain_names_its_inner_function() -> None:
    d = cm.derivative("sin(exp(x^2))")
    chain = d.steps
    assert chain.rule == "chain"
    assert "Let u = exp(x^2)" in chain.explanation
    outer, inner = chain.substeps
    assert outer.variable == sympy.Symbol("u") and outer.rule == "sin"
    assert inner.rule == "chain" and "Let v = x^2" in inner.explanation


def test_inner_name_avoids_the_functions_own_names() -> None:
    d = cm.derivative("sin(u x)", "x")
    assert d.steps.substeps[0].variable != sympy.Symbol("u")


def test_product_of_n_factors_has_n_substeps() -> None:
    d = cm.derivative("x e^x sin(x) cos(x)")
    assert d.steps.rule == "product" and len(d.steps.substeps) == 4
    check_same([(d.result, sympy.diff(x * sympy.exp(x) * sympy.sin(x) * sympy.cos(x), x))], [x])


def test_simplification_step_shown_when_form_changes() -> None:
    d = cm.derivative("x^2 sin(x)")
    assert d.simplification is not None and d.simplification.rule == "rewrite"
    assert d.simplification.expr == d.raw and d.simplification.result == d.result
    assert "rewrite" in d.explain()
    plain = cm.derivative("x^3")
    assert plain.simplification is None


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_higher_orders(order: int) -> None:
    f = sympy.exp(2 * x) * sympy.sin(x)
    d = cm.derivative("e^(2x) sin(x)", order=order)
    assert len(d.stages) == order
    check_same([(d.result, sympy.diff(f, x, order))], [x])
    for stage in d.stages:
        check_same(step_pairs(stage), [x])


def test_second_derivative_hand_value() -> None:
    assert cm.derivative("x^3", order=2, at=2).value == pytest.approx(12.0)
    assert float(cm.derivative("x^3", order=2, at=2)) == pytest.approx(12.0)


def test_at_evaluates_the_result() -> None:
    d = cm.derivative("x^2 sin(x)", at=1.0)
    hand = 2 * 1.0 * __import__("math").sin(1.0) + __import__("math").cos(1.0)
    assert d.value == pytest.approx(hand, rel=1e-14)
    assert "At x=1" in d.explain()


def test_at_outside_the_domain_says_why() -> None:
    with pytest.raises(cm.CalcmlError, match="not a real number"):
        cm.derivative("sqrt(x)", at=-1)
    with pytest.raises(cm.CalcmlError, match="not defined"):
        cm.derivative("1/x", at=0)


def test_variable_is_required_when_ambiguous() -> None:
    with pytest.raises(cm.CalcmlError, match="say which one"):
        cm.derivative("x y")


def test_bad_order_and_bad_input() -> None:
    for order in (0, -1, 1.5, True, 100):
        with pytest.raises(cm.CalcmlError):
            cm.derivative("x^2", order=order)
    with pytest.raises(cm.ParseError):
        cm.derivative("x +")
    with pytest.raises(cm.CalcmlError, match="callable"):
        cm.derivative(lambda v: v**2)


def test_sympy_input_keeps_its_symbols() -> None:
    xr = sympy.Symbol("x", real=True, positive=True)
    d = cm.derivative(xr**3 * sympy.log(xr), "x")
    assert d.variable is xr
    assert sympy.simplify(d.result - sympy.diff(xr**3 * sympy.log(xr), xr)) == 0


def test_no_rule_for_unknown_function_is_a_clear_error() -> None:
    with pytest.raises(cm.CalcmlError, match="no differentiation rule"):
        cm.derivative(sympy.erf(x), "x")


def test_partial_holds_others_constant() -> None:
    d = cm.partial("x^2 y + sin(x y)", "y")
    expected = x**2 + x * sympy.cos(x * y)
    assert sympy.simplify(d.result - expected) == 0
    assert "held constant" in d.explain()
    assert d.explain().startswith("∂/∂y")
    v = cm.partial("x^2 y + y^3", "y", at={"x": 1, "y": 2}).value
    assert v == pytest.approx(1 + 12)


def test_renderings_of_a_derivation() -> None:
    d = cm.derivative("x^2 sin(x)")
    latex = d.to_latex()
    assert latex.startswith("\\begin{align*}") and "product rule" in latex
    assert d._repr_latex_().startswith("$$")
    html = d.to_mathml()
    assert html.count("<li") == len(list(d._lines())) and "<math" in html
    data = d.to_dict()
    assert data["result"] == cm.to_text(d.result)
    assert data["stages"][0]["rule"] == "product"
    assert cm.parse(data["result"]) == d.result
