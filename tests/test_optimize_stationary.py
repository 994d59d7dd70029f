"""Tests of calcml.stationary_points: every point where grad f = 0, classified.

Oracle: hand analysis. For each function the gradient is solved by hand in the comment
and the Hessian's eigenvalues at each point decide: all > 0 a minimum, all < 0 a maximum,
both signs a saddle (whatever else), and only when the second-derivative test cannot
decide (a zero eigenvalue and no eigenvalues of both signs) "degenerate".
"""

from __future__ import annotations

import pytest
import sympy

import calcml as cm

y = sympy.Symbol("y")


def _found(text: str) -> list[tuple[dict, object, str]]:
    return [(p.point, p.value, p.kind) for p in cm.stationary_points(text)]


def test_cubic_in_one_variable() -> None:
    # f' = 3x^2 - 3 = 0 at x = +-1; f'' = 6x: -6 at -1 (maximum, f = 2), 6 at 1 (minimum, -2).
    assert _found("x^3 - 3x") == [({"x": -1}, 2, "maximum"), ({"x": 1}, -2, "minimum")]


def test_cubic_with_irrational_points_is_exact() -> None:
    # f' = 3x^2 - 6: x = +-sqrt 2; f(+-sqrt 2) = +-2 sqrt 2 -+ 6 sqrt 2 = -+4 sqrt 2.
    s2 = sympy.sqrt(2)
    assert _found("x^3 - 6x") == [({"x": -s2}, 4 * s2, "maximum"), ({"x": s2}, -4 * s2, "minimum")]


def test_hyperbolic_paraboloid_is_a_saddle() -> None:
    points = cm.stationary_points("x^2 - y^2")
    assert len(points) == 1
    p = points[0]
    assert (p.point, p.value, p.kind) == ({"x": 0, "y": 0}, 0, "saddle")
    assert sorted(p.eigenvalues) == pytest.approx([-2.0, 2.0])


def test_quartic_with_two_minima_and_a_saddle() -> None:
    # grad = (4x^3 - 4y, 4y^3 - 4x): y = x^3, x^9 = x, real x in {0, 1, -1}.
    # H = [[12x^2, -4], [-4, 12y^2]]: at 0 eigenvalues +-4 (saddle); at +-(1, 1)
    # [[12, -4], [-4, 12]] has eigenvalues 8 and 16 (minima, f = 1 + 1 - 4 = -2).
    assert _found("x^4 + y^4 - 4x y") == [
        ({"x": -1, "y": -1}, -2, "minimum"),
        ({"x": 0, "y": 0}, 0, "saddle"),
        ({"x": 1, "y": 1}, -2, "minimum"),
    ]


def test_x_to_the_fourth_is_degenerate() -> None:
    # f'' (0) = 0: the second-derivative test cannot decide (it is a minimum, in fact).
    assert _found("x^4") == [({"x": 0}, 0, "degenerate")]


def test_a_line_of_stationary_points_is_degenerate() -> None:
    # (x - y)^2: grad = (2(x - y), -2(x - y)) vanishes on the whole line x = y.
    points = cm.stationary_points("(x - y)^2")
    assert len(points) == 1
    p = points[0]
    assert p.kind == "degenerate"
    assert p.value == 0
    assert sympy.simplify(p.point["x"] - p.point["y"]) == 0
    assert any(v.free_symbols for v in p.point.values())


def test_a_maximum() -> None:
    # -x^2 - y^2 + 2x: grad = (2 - 2x, -2y) = 0 at (1, 0); H = -2 I; f = 1.
    assert _found("-(x^2) - y^2 + 2x") == [({"x": 1, "y": 0}, 1, "maximum")]


def test_folium_saddle_and_minimum() -> None:
    # x^3 + y^3 - 3xy: x^2 = y, y^2 = x: (0, 0) and (1, 1). H = [[6x, -3], [-3, 6y]]:
    # eigenvalues +-3 at 0 (saddle); 3 and 9 at (1, 1) (minimum, f = -1).
    assert _found("x^3 + y^3 - 3x y") == [
        ({"x": 0, "y": 0}, 0, "saddle"),
        ({"x": 1, "y": 1}, -1, "minimum"),
    ]


def test_double_well() -> None:
    # (x^2 - 1)^2 + y^2: grad = (4x(x^2 - 1), 2y): x in {-1, 0, 1}, y = 0. f_xx = 12x^2 - 4:
    # 8 at +-1 (minima, f = 0), -4 at 0 with f_yy = 2 (saddle, f = 1).
    assert _found("(x^2 - 1)^2 + y^2") == [
        ({"x": -1, "y": 0}, 0, "minimum"),
        ({"x": 0, "y": 0}, 1, "saddle"),
        ({"x": 1, "y": 0}, 0, "minimum"),
    ]


def test_three_variables_positive_definite() -> None:
    # x^2 + y^2 + z^2 - xy - yz: H = [[2, -1, 0], [-1, 2, -1], [0, -1, 2]], eigenvalues
    # 2 - sqrt 2, 2, 2 + sqrt 2 > 0: the origin is a minimum.
    points = cm.stationary_points("x^2 + y^2 + z^2 - x y - y z")
    assert [(p.point, p.kind) for p in points] == [({"x": 0, "y": 0, "z": 0}, "minimum")]
    assert sorted(points[0].eigenvalues) == pytest.approx([2 - 2**0.5, 2, 2 + 2**0.5])


def test_no_stationary_point() -> None:
    # e^x + x: f' = e^x + 1 > 0 never vanishes.
    assert cm.stationary_points("exp(x) + x") == []


def test_indefinite_hessian_with_a_zero_eigenvalue_is_still_a_saddle() -> None:
    # x^2 - y^2 + z^4 at the origin: H = diag(2, -2, 0). f rises along x and falls along y,
    # so the origin is a saddle whatever the z direction does: the test decides.
    assert _found("x^2 - y^2 + z^4") == [({"x": 0, "y": 0, "z": 0}, 0, "saddle")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("10^-11 x^2", "minimum"),  # f'' = 2e-11 > 0 exactly
        ("x^2 + 10^-11 y^2", "minimum"),  # H = diag(2, 2e-11), positive definite
        ("-(10^-11) (x^2 + y^2)", "maximum"),
    ],
)
def test_classification_does_not_depend_on_the_scale_of_f(text: str, kind: str) -> None:
    # The Hessian is exact (SymPy): a small but nonzero eigenvalue is not zero.
    points = cm.stationary_points(text)
    assert len(points) == 1
    assert points[0].kind == kind, points[0]


def test_variables_argument_orders_the_point() -> None:
    points = cm.stationary_points("(x - 1)^2 + (y - 2)^2", variables=["y", "x"])
    assert [(list(p.point.items()), p.kind) for p in points] == [([("y", 2), ("x", 1)], "minimum")]
