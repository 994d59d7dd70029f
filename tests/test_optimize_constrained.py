"""Tests of equality-constrained minimisation (minimize(..., constraints=...), SQP) and of
calcml.lagrange, exact and numeric.

Oracles: the published solutions of Hock-Schittkowski problems 6, 7 and 28; textbook
Lagrange problems solved by hand (the working is in each test); and SymPy's gradients and
Hessians, on expressions written here with SymPy, to check grad f = A^T lambda, c = 0 and
that the answer is a minimum along the constraints (second-order condition).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import calcml as cm
import calcml.numpy as cnp

X, Y, Z = sympy.symbols("x y z")
X1, X2, X3 = sympy.symbols("x1 x2 x3")


def _subs(symbols: list[sympy.Symbol], x: np.ndarray) -> dict:
    return {s: sympy.Float(float(v), 30) for s, v in zip(symbols, np.ravel(x), strict=True)}


def kkt_residuals(
    f: sympy.Expr, cs: list[sympy.Expr], symbols: list[sympy.Symbol], x: np.ndarray, lam: object
) -> tuple[float, float]:
    """max |grad f - A^T lambda| and max |c| at x, by SymPy."""
    at = _subs(symbols, x)
    grad = np.array([float(sympy.diff(f, s).evalf(30, subs=at)) for s in symbols])
    a = np.array([[float(sympy.diff(c, s).evalf(30, subs=at)) for s in symbols] for c in cs])
    c = np.array([float(c.evalf(30, subs=at)) for c in cs])
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    assert lam.shape == (len(cs),)
    return float(np.max(np.abs(grad - a.T @ lam))), float(np.max(np.abs(c)))


def curvature_along_constraints(
    f: sympy.Expr, cs: list[sympy.Expr], symbols: list[sympy.Symbol], x: np.ndarray, lam: object
) -> float:
    """Smallest eigenvalue of the Lagrangian's Hessian on the constraints' tangent space."""
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    lagrangian = f - sum(float(li) * c for li, c in zip(lam, cs, strict=True))
    at = _subs(symbols, x)
    h = np.array(sympy.hessian(lagrangian, symbols).evalf(30, subs=at).tolist(), dtype=float)
    a = np.array(
        [[float(sympy.diff(c, s).evalf(30, subs=at)) for s in symbols] for c in cs], dtype=float
    )
    _, s, vt = np.linalg.svd(a)
    z = vt[int(np.sum(s > 1e-10)) :].T
    if z.shape[1] == 0:
        return math.inf
    return float(np.linalg.eigvalsh(z.T @ h @ z)[0])


def assert_constrained_minimum(
    r: cm.optimize.Result,
    f: sympy.Expr,
    cs: list[sympy.Expr],
    symbols: list[sympy.Symbol],
    x_star: list[float],
    f_star: float,
    atol: float = 1e-7,
) -> None:
    assert r.success, r.message
    assert r.status == "converged"
    np.testing.assert_allclose(r.x, x_star, atol=atol)
    assert abs(r.fun - f_star) <= atol
    stationarity, feasibility = kkt_residuals(f, cs, symbols, r.x, r.multipliers)
    assert stationarity <= 1e-7
    assert feasibility <= 1e-9
    assert curvature_along_constraints(f, cs, symbols, r.x, r.multipliers) >= -1e-8
    np.testing.assert_array_equal(np.ravel(r.history[-1]), np.ravel(r.x))
    assert r.nit == len(r.history) - 1


# -- Hock-Schittkowski ---------------------------------------------------------------------


def test_hock_schittkowski_6() -> None:
    # min (1 - x)^2 s.t. 10 (y - x^2) = 0, from (-1.2, 1): (1, 1), f = 0 (grad f = 0, so
    # lambda = 0).
    r = cm.minimize("(1 - x)^2", x0=[-1.2, 1], constraints=["10 (y - x^2)"])
    assert_constrained_minimum(r, (1 - X) ** 2, [10 * (Y - X**2)], [X, Y], [1, 1], 0.0)
    np.testing.assert_array_equal(r.history[0], [-1.2, 1])
    assert r.variables == ["x", "y"]
    assert abs(float(r.multipliers[0])) < 1e-7


def test_hock_schittkowski_7() -> None:
    # min log(1 + x^2) - y s.t. (1 + x^2)^2 + y^2 - 4 = 0, from (2, 2): (0, sqrt 3),
    # f = -sqrt 3. There grad f = (0, -1) and grad c = (0, 2 sqrt 3): lambda = -1 / (2 sqrt 3).
    f = sympy.log(1 + X**2) - Y
    c = (1 + X**2) ** 2 + Y**2 - 4
    r = cm.minimize("log(1 + x^2) - y", x0=[2, 2], constraints=["(1 + x^2)^2 + y^2 - 4"])
    assert_constrained_minimum(r, f, [c], [X, Y], [0, math.sqrt(3)], -math.sqrt(3))
    assert abs(float(r.multipliers[0]) + 1 / (2 * math.sqrt(3))) < 1e-8


def test_hock_schittkowski_28() -> None:
    # min (x1 + x2)^2 + (x2 + x3)^2 s.t. x1 + 2 x2 + 3 x3 = 1, from (-4, 1, 1):
    # (1/2, -1/2, 1/2), f = 0, lambda = 0.
    f = (X1 + X2) ** 2 + (X2 + X3) ** 2
    c = X1 + 2 * X2 + 3 * X3 - 1
    r = cm.minimize("(x1 + x2)^2 + (x2 + x3)^2", x0=[-4, 1, 1], constraints="x1 + 2x2 + 3x3 - 1")
    assert_constrained_minimum(r, f, [c], [X1, X2, X3], [0.5, -0.5, 0.5], 0.0)


def test_hock_schittkowski_28_as_callables() -> None:
    def f(v: np.ndarray) -> object:
        return (v[0] + v[1]) ** 2 + (v[1] + v[2]) ** 2

    def c(v: np.ndarray) -> object:
        return v[0] + 2 * v[1] + 3 * v[2] - 1

    r = cm.minimize(f, x0=[-4.0, 1.0, 1.0], constraints=[c])
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [0.5, -0.5, 0.5], atol=1e-8)


# -- minima, not maxima ---------------------------------------------------------------------


def test_sqp_started_at_the_constrained_maximum_ends_at_the_minimum() -> None:
    # x + y on x^2 + y^2 = 2: (1, 1) is the maximum (f = 2), (-1, -1) the minimum (f = -2);
    # at (-1, -1) grad f = (1, 1) = lambda (-2, -2): lambda = -1/2.
    f, c = X + Y, X**2 + Y**2 - 2
    r = cm.minimize("x + y", x0=[1, 1], constraints=["x^2 + y^2 - 2"])
    assert_constrained_minimum(r, f, [c], [X, Y], [-1, -1], -2.0)
    np.testing.assert_allclose(r.multipliers, [-0.5], atol=1e-8)
    assert r.notes  # it says it left the maximum


@pytest.mark.parametrize("x0", [(1, -1), (0.5, 0.3), (2, 0), (-0.1, 1.5)])
def test_sqp_on_the_circle_from_other_starts(x0: tuple[float, float]) -> None:
    f, c = X + Y, X**2 + Y**2 - 2
    r = cm.minimize("x + y", x0=x0, constraints=["x^2 + y^2 - 2"])
    assert_constrained_minimum(r, f, [c], [X, Y], [-1, -1], -2.0)


def test_sqp_callable_at_the_maximum_ends_at_the_minimum() -> None:
    r = cm.minimize(
        lambda v: v[0] + v[1], x0=[1.0, 1.0], constraints=[lambda v: v[0] ** 2 + v[1] ** 2 - 2]
    )
    assert r.success
    np.testing.assert_allclose(r.x, [-1, -1], atol=1e-8)


@pytest.mark.parametrize("method", ["newton", "bfgs", "gradient_descent"])
def test_nearest_point_on_a_line(method: str) -> None:
    # min x^2 + y^2 on x + 2y = 5: (2x, 2y) = lambda (1, 2) gives y = 2x, 5x = 5: (1, 2),
    # f = 5, lambda = 2.
    r = cm.minimize("x^2 + y^2", x0=[3, -1], method=method, constraints=["x + 2y - 5"])
    assert_constrained_minimum(r, X**2 + Y**2, [X + 2 * Y - 5], [X, Y], [1, 2], 5.0)
    np.testing.assert_allclose(r.multipliers, [2.0], atol=1e-9)


def test_two_constraints_in_three_variables() -> None:
    # min x^2 + y^2 + z^2 s.t. x + y + z = 6, x - z = 2. By hand: 2x = l1 + l2, 2y = l1,
    # 2z = l1 - l2; the first constraint gives 3 l1 / 2 = 6, l1 = 4; the second x - z = l2 = 2.
    # So (3, 2, 1), f = 14, multipliers (4, 2).
    f = X**2 + Y**2 + Z**2
    cs = [X + Y + Z - 6, X - Z - 2]
    r = cm.minimize("x^2 + y^2 + z^2", x0=[0, 0, 0], constraints=["x + y + z - 6", "x - z - 2"])
    assert_constrained_minimum(r, f, cs, [X, Y, Z], [3, 2, 1], 14.0)
    np.testing.assert_allclose(r.multipliers, [4, 2], atol=1e-9)


def test_objective_may_omit_a_variable_only_the_constraint_mentions() -> None:
    # min x^2 s.t. x + y = 3: any (0, 3); the objective alone has only x.
    r = cm.minimize("x^2", x0=[1, 1], constraints=["x + y - 3"])
    assert r.success
    np.testing.assert_allclose(r.x, [0, 3], atol=1e-9)


# -- lagrange, exact -----------------------------------------------------------------------


def _points(sols: list) -> set[tuple]:
    return {
        (tuple(sympy.nsimplify(v) for v in s.x.values()), sympy.nsimplify(s.fun), *s.multipliers)
        for s in sols
    }


def test_lagrange_max_of_xy_on_a_line() -> None:
    # y = lambda, x = lambda, x + y = 10: (5, 5), xy = 25, lambda = 5.
    sols = cm.lagrange("x y", ["x + y - 10"])
    assert len(sols) == 1
    (s,) = sols
    assert s.x == {"x": 5, "y": 5}
    assert s.fun == 25
    assert s.multipliers == [5]


def test_lagrange_nearest_point_on_a_line() -> None:
    sols = cm.lagrange("x^2 + y^2", ["x + 2y - 5"])
    assert [(s.x, s.fun, s.multipliers) for s in sols] == [({"x": 1, "y": 2}, 5, [2])]


def test_lagrange_x_plus_y_on_the_circle() -> None:
    # 1 = 2 lambda x = 2 lambda y: x = y = 1 / (2 lambda); 2 x^2 = 2: x = +-1, lambda = +-1/2.
    sols = cm.lagrange("x + y", ["x^2 + y^2 - 2"])
    half = sympy.Rational(1, 2)
    assert _points(sols) == {((1, 1), 2, half), ((-1, -1), -2, -half)}


def test_lagrange_linear_function_on_a_sphere() -> None:
    # (1, 2, 3) = 2 lambda (x, y, z), x^2 + y^2 + z^2 = 14: (x, y, z) = +-(1, 2, 3),
    # lambda = +-1/2, f = +-14 (Cauchy-Schwarz: the extremes of a linear function).
    sols = cm.lagrange("x + 2y + 3z", ["x^2 + y^2 + z^2 - 14"])
    half = sympy.Rational(1, 2)
    assert _points(sols) == {((1, 2, 3), 14, half), ((-1, -2, -3), -14, -half)}


def test_lagrange_three_variables_two_constraints() -> None:
    sols = cm.lagrange("x^2 + y^2 + z^2", ["x + y + z - 6", "x - z - 2"])
    assert [(s.x, s.fun, s.multipliers) for s in sols] == [({"x": 3, "y": 2, "z": 1}, 14, [4, 2])]


def test_lagrange_xyz_on_a_plane() -> None:
    # yz = xz = xy = lambda, x + y + z = 3: (1, 1, 1) with lambda = 1, or two coordinates 0
    # (lambda = 0): (3, 0, 0), (0, 3, 0), (0, 0, 3).
    sols = cm.lagrange("x y z", ["x + y + z - 3"])
    assert _points(sols) == {
        ((1, 1, 1), 1, 1),
        ((3, 0, 0), 0, 0),
        ((0, 3, 0), 0, 0),
        ((0, 0, 3), 0, 0),
    }


def test_lagrange_xy_on_the_circle_four_points() -> None:
    # y = 2 lambda x, x = 2 lambda y: x^2 = y^2 = 1; lambda = xy / 2... = +-1/2.
    sols = cm.lagrange("x y", ["x^2 + y^2 - 2"])
    half = sympy.Rational(1, 2)
    assert _points(sols) == {
        ((1, 1), 1, half),
        ((-1, -1), 1, half),
        ((1, -1), -1, -half),
        ((-1, 1), -1, -half),
    }


# -- lagrange, numeric -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "cs", "x0", "x_star", "lam"),
    [
        ("x y", ["x + y - 10"], [1, 2], [5, 5], [5]),
        ("x + y", ["x^2 + y^2 - 2"], [1.2, 0.9], [1, 1], [0.5]),
        ("x + y", ["x^2 + y^2 - 2"], [-1.2, -0.9], [-1, -1], [-0.5]),
        ("x^2 + y^2 + z^2", ["x + y + z - 6", "x - z - 2"], [1, 1, 1], [3, 2, 1], [4, 2]),
        ("x + 2y + 3z", ["x^2 + y^2 + z^2 - 14"], [0.8, 2.1, 2.7], [1, 2, 3], [0.5]),
    ],
)
def test_numeric_lagrange_agrees_with_the_exact_answer(
    f: str, cs: list[str], x0: list[float], x_star: list[float], lam: list[float]
) -> None:
    r = cm.lagrange(f, cs, x0=x0)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, x_star, atol=1e-10)
    np.testing.assert_allclose(r.multipliers, lam, atol=1e-10)
    exact = {tuple(float(v) for v in s.x.values()) for s in cm.lagrange(f, cs)}
    assert any(np.allclose(r.x, e, atol=1e-10) for e in exact)
    fx = float(cm.parse(f).subs(dict(zip("xyz", x_star, strict=False))))
    assert abs(r.fun - fx) < 1e-10


def test_numeric_lagrange_history_starts_with_x0() -> None:
    # Every Result's history starts with x0 itself (and ends at r.x).
    r = cm.lagrange("x y", ["x + y - 10"], x0=[1, 2])
    assert r.success
    np.testing.assert_array_equal(np.ravel(r.history[0]), [1, 2])
    np.testing.assert_array_equal(np.ravel(r.history[-1]), np.ravel(r.x))


def test_sqp_with_a_callable_objective_and_text_constraint_vars_from_x0() -> None:
    # A callable objective with a callable constraint, on the circle.
    r = cm.minimize(lambda v: cnp.sum(v), x0=[0.5, 0.3], constraints=[lambda v: cnp.sum(v**2) - 2])
    assert r.success
    np.testing.assert_allclose(r.x, [-1, -1], atol=1e-8)
    np.testing.assert_allclose(r.multipliers, [-0.5], atol=1e-8)


# -- the edges of SQP ---------------------------------------------------------------------------


def test_as_many_constraints_as_variables() -> None:
    # x = 1, y = 2 leave one point; grad f = (2, 4) = lambda_1 (1, 0) + lambda_2 (0, 1).
    r = cm.minimize("x^2 + y^2", x0=[0, 0], constraints=["x - 1", "y - 2"])
    assert r.success
    np.testing.assert_allclose(r.x, [1, 2], atol=1e-12)
    np.testing.assert_allclose(r.multipliers, [2, 4], atol=1e-10)


@pytest.mark.parametrize(
    "constraints",
    [["x + y - 1", "2x + 2y - 2"], ["x + y - 1", "x + y - 2"]],
    ids=["repeated", "inconsistent"],
)
def test_linearly_dependent_constraints_are_never_a_false_success(constraints: list) -> None:
    r = cm.minimize("x^2 + y^2", x0=[1, 1], constraints=constraints)
    if r.success:  # the repeated constraint is x + y = 1: the answer is (1/2, 1/2)
        assert constraints[1] == "2x + 2y - 2"
        np.testing.assert_allclose(r.x, [0.5, 0.5], atol=1e-8)
    else:
        assert r.status in {"singular", "no_decrease", "max_iterations"}


def test_sqp_outside_the_domain_is_not_finite() -> None:
    r = cm.minimize("log(x) + y", x0=[-1, 1], constraints=["x + y - 1"])
    assert r.success is False
    assert r.status == "not_finite"


def test_sqp_maxiter_is_reported() -> None:
    r = cm.minimize("x + y", x0=[1, 1], constraints=["x^2 + y^2 - 2"], maxiter=2)
    assert r.success is False
    assert r.status == "max_iterations"
