"""Tests of calcml.numeric.secant_slopes: the rise-over-run table of the first module.

Oracles are independent of calcml: slopes derived by hand ((x0 + h)^2 - x0^2) / h = 2 x0 + h,
the standard library's math.sin, and first-order Taylor error terms.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from calcml import CalcmlError
from calcml.numeric import SecantTable, secant_slopes

DEFAULT_RUNS = np.array([1, 0.5, 0.1, 0.01, 0.001])


def test_square_at_three_slopes_are_six_plus_h() -> None:
    # ((3 + h)^2 - 9) / h = (6h + h^2) / h = 6 + h
    t = secant_slopes("x^2", 3)
    np.testing.assert_array_equal(t.runs, DEFAULT_RUNS)
    np.testing.assert_allclose(t.rises, 6 * DEFAULT_RUNS + DEFAULT_RUNS**2, rtol=1e-12)
    np.testing.assert_allclose(t.slopes, 6 + DEFAULT_RUNS, rtol=1e-12)
    assert t.x0 == 3.0
    assert t.fx0 == 9.0
    assert t.derivative == 6.0


def test_negative_runs_are_secants_to_the_left() -> None:
    t = secant_slopes("x^2", 3, runs=[-1, -0.5])
    np.testing.assert_allclose(t.slopes, [5.0, 5.5], rtol=1e-15)


def test_sin_at_zero_matches_sin_h_over_h() -> None:
    runs = [1, 0.5, 0.1, 0.01, 0.001, 1e-5]
    t = secant_slopes("sin(x)", 0, runs=runs)
    np.testing.assert_allclose(t.slopes, [math.sin(h) / h for h in runs], rtol=1e-13)
    assert t.derivative == pytest.approx(1.0, abs=1e-15)


def test_a_single_run_may_be_a_number() -> None:
    t = secant_slopes("sin(x)", 0, runs=0.5)
    assert t.slopes.tolist() == pytest.approx([math.sin(0.5) / 0.5], rel=1e-14)


def test_python_callable() -> None:
    # ((2 + h)^3 - 8) / h = 12 + 6h + h^2
    t = secant_slopes(lambda x: x**3, 2, runs=[1, 0.1, 0.01])
    h = np.array([1, 0.1, 0.01])
    np.testing.assert_allclose(t.slopes, 12 + 6 * h + h**2, rtol=1e-12)
    assert t.derivative is None
    assert t.label == "f"
    assert secant_slopes(math.exp, 0, runs=[1]).label == "exp"


def test_numpy_ufunc_is_a_callable() -> None:
    t = secant_slopes(np.cos, 0, runs=[0.5])
    assert t.slopes[0] == pytest.approx((math.cos(0.5) - 1) / 0.5, rel=1e-14)
    assert t.derivative is None


@pytest.mark.parametrize(
    ("f", "x0", "expected"),
    [
        ("x^3 - 2x", 1.5, 3 * 1.5**2 - 2),
        ("exp(x)", 0, 1.0),
        ("log(x)", 4, 0.25),
        ("sqrt(x)", 9, 1 / 6),
        (sympy.Symbol("t") ** 4, 2, 32.0),
    ],
)
def test_exact_derivative_field(f: object, x0: float, expected: float) -> None:
    assert secant_slopes(f, x0).derivative == pytest.approx(expected, rel=1e-14)


def test_sympy_input_uses_its_own_variable() -> None:
    t = sympy.Symbol("t", positive=True)
    table = secant_slopes(t**2, 1, runs=[1])
    assert table.variable == "t"
    assert table.slopes.tolist() == [3.0]


def test_choose_the_variable_of_a_several_variable_expression_error() -> None:
    with pytest.raises(CalcmlError, match="also depends on y"):
        secant_slopes("x*y", 1, var="x")
    with pytest.raises(CalcmlError, match="x, y"):
        secant_slopes("x*y", 1)


def test_derivative_is_none_where_it_does_not_exist() -> None:
    # sqrt has no derivative at 0, but the secants to the right still have slopes 1/sqrt(h)
    t = secant_slopes("sqrt(x)", 0, runs=[1, 0.01])
    np.testing.assert_allclose(t.slopes, [1.0, 10.0], rtol=1e-14)
    assert t.derivative is None


def test_rows_and_text_table() -> None:
    t = secant_slopes("x^2", 3)
    rows = list(t.rows())
    assert len(rows) == 5
    assert all(isinstance(v, float) for row in rows for v in row)
    assert rows[1] == (0.5, 3.25, 6.5)
    text = str(t)
    lines = text.splitlines()
    assert lines[0] == "Secant slopes of x^2 at x = 3"
    assert lines[1].split() == ["run", "h", "rise", "slope"]
    for line, (run, rise, slope) in zip(lines[2:7], rows, strict=True):
        assert [float(v) for v in line.split()] == pytest.approx([run, rise, slope], rel=1e-7)
    assert lines[-1] == "exact derivative f'(3) = 6"
    # aligned: every row of numbers has the same width
    assert len({len(line) for line in lines[1:7]}) == 1


def test_text_table_of_callable_has_no_exact_line() -> None:
    text = str(secant_slopes(lambda x: 2 * x, 0, runs=[1]))
    assert "exact" not in text
    assert "2" in text.splitlines()[-1]


def test_html_table() -> None:
    html = secant_slopes("x^2", 3, runs=[0.5])._repr_html_()
    assert "<table>" in html and "<td>6.5</td>" in html


def test_table_is_immutable() -> None:
    t = secant_slopes("x^2", 3)
    assert isinstance(t, SecantTable)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.x0 = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        t.slopes[0] = 0.0


@pytest.mark.parametrize(
    ("f", "x0", "d1", "d2"),
    [
        ("sin(x)", 0.7, math.cos(0.7), -math.sin(0.7)),
        ("exp(x)", 0.0, 1.0, 1.0),
        ("x^3", 1.0, 3.0, 6.0),
        ("log(x)", 2.0, 0.5, -0.25),
    ],
)
def test_slopes_converge_to_the_derivative(f: str, x0: float, d1: float, d2: float) -> None:
    runs = [10.0**-k for k in range(0, 6)]
    errors = np.abs(secant_slopes(f, x0, runs=runs).slopes - d1)
    assert np.all(np.diff(errors) < 0)
    # first order: slope - f'(x0) ~ f''(x0) h / 2 for small h (Taylor)
    small = secant_slopes(f, x0, runs=[1e-4])
    assert (small.slopes[0] - d1) / 1e-4 == pytest.approx(d2 / 2, rel=1e-2)


@settings(max_examples=40, deadline=None)
@given(
    # Subnormal coefficients underflow to 0 in the rise: a fact of floats, not of secants.
    a=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
    b=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
    c=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
    x0=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),
    h=st.sampled_from([1.0, 0.5, 0.1, 0.01, 0.001, -0.25]),
)
def test_quadratic_secant_slope(a: float, b: float, c: float, x0: float, h: float) -> None:
    # (a(x0+h)^2 + b(x0+h) + c - a x0^2 - b x0 - c) / h = 2 a x0 + b + a h
    x = sympy.Symbol("x")
    f = sympy.Float(a) * x**2 + sympy.Float(b) * x + sympy.Float(c)
    t = secant_slopes(f, x0, runs=[h])
    expected = 2 * a * x0 + b + a * h
    # rounding: f is computed to a few ulps of its size, and the rise is divided by h
    size = abs(a) * (abs(x0) + abs(h)) ** 2 + abs(b) * (abs(x0) + abs(h)) + abs(c)
    rounding = 16 * np.finfo(float).eps * size / abs(h)
    assert math.isclose(t.slopes[0], expected, rel_tol=1e-9, abs_tol=rounding)
    assert t.derivative == pytest.approx(2 * a * x0 + b, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("f", "x0", "runs", "match"),
    [
        ("x^2", 1, [1, 0], "run of 0"),
        ("x^2", 1, [], "empty"),
        ("x^2", 1, [math.inf], "finite"),
        ("x^2", 1, [math.nan], "finite"),
        ("x^2", 1, ["a"], "numbers"),
        ("x^2", math.nan, [1], "finite"),
        ("x^2", "1", [1], "number"),
        ("x^2", True, [1], "number"),
        ("log(x)", 0, [1], "not defined .* x0 = 0"),
        ("1/x", 0, [1], "not defined .* x0 = 0"),
        ("sqrt(x)", 0, [1, -1], r"x0 \+ h = -1"),
        ("1/(x - 1)", 0, [1], r"x0 \+ h = 1"),
        (lambda x: 1 / x, 0, [1], "not defined"),
        (math.log, 0, [1], "not defined"),
        (lambda x: "text", 0, [1], "real number"),
        (lambda x: x, 0, [1e-320, 0], "run of 0"),
    ],
)
def test_bad_input_raises_calcml_error(f: object, x0: object, runs: object, match: str) -> None:
    with pytest.raises(CalcmlError, match=match):
        secant_slopes(f, x0, runs=runs)  # type: ignore[arg-type]


def test_bad_text_is_a_parse_error() -> None:
    with pytest.raises(CalcmlError):
        secant_slopes("x^^2", 1)
