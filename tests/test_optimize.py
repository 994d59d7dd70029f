"""Tests of calcml.minimize and calcml.gradient_descent (unconstrained).

Oracles are independent of calcml: the known optima of the classic test functions
(Rosenbrock (1, 1); Himmelblau's four minima; Beale (3, 0.5); Booth (1, 3)), the
hand-solved minimum A^{-1} b of a quadratic 1/2 x^T A x - b^T x together with the
classical step bound 2 / lambda_max of fixed-step gradient descent, and gradients taken
by SymPy (on expressions written here with SymPy, not parsed by calcml) to check every
claim of success.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy

import calcml as cm
import calcml.numpy as cnp

X, Y, Z = sympy.symbols("x y z")

ROSENBROCK_TEXT = "(1 - x)^2 + 100 (y - x^2)^2"
ROSENBROCK = (1 - X) ** 2 + 100 * (Y - X**2) ** 2
HIMMELBLAU_TEXT = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
HIMMELBLAU = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2
BEALE_TEXT = "(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2"
BEALE = (
    (sympy.Rational(3, 2) - X + X * Y) ** 2
    + (sympy.Rational(9, 4) - X + X * Y**2) ** 2
    + (sympy.Rational(21, 8) - X + X * Y**3) ** 2
)
BOOTH_TEXT = "(x + 2y - 7)^2 + (2x + y - 5)^2"
BOOTH = (X + 2 * Y - 7) ** 2 + (2 * X + Y - 5) ** 2


def sympy_gradient(expr: sympy.Expr, symbols: list[sympy.Symbol], x: np.ndarray) -> np.ndarray:
    """SymPy's gradient of expr at x, evaluated at 30 digits."""
    at = {s: sympy.Float(float(v), 30) for s, v in zip(symbols, np.ravel(x), strict=True)}
    return np.array([float(sympy.diff(expr, s).evalf(30, subs=at)) for s in symbols])


def sympy_value(expr: sympy.Expr, symbols: list[sympy.Symbol], x: np.ndarray) -> float:
    at = {s: sympy.Float(float(v), 30) for s, v in zip(symbols, np.ravel(x), strict=True)}
    return float(expr.evalf(30, subs=at))


def assert_bookkeeping(r: cm.optimize.Result, x0: object) -> None:
    """history starts with x0 and ends at x; nit counts the moves; one row per point."""
    np.testing.assert_array_equal(np.ravel(r.history[0]), np.ravel(np.asarray(x0, dtype=float)))
    np.testing.assert_array_equal(np.ravel(r.history[-1]), np.ravel(r.x))
    assert r.nit == len(r.history) - 1
    assert r.success == (r.status == "converged")


# -- Rosenbrock ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs"])
def test_rosenbrock_from_the_classic_start(method: str) -> None:
    r = cm.minimize(ROSENBROCK_TEXT, x0=[-1.2, 1], method=method)
    assert r.success, r.message
    assert r.status == "converged"
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-7)
    assert abs(r.fun) < 1e-14
    assert np.linalg.norm(sympy_gradient(ROSENBROCK, [X, Y], r.x)) <= 1e-7
    assert_bookkeeping(r, [-1.2, 1])
    assert r.nfev >= r.nit and r.njev >= 1


def test_rosenbrock_gradient_descent_reaches_near_or_reports_max_iterations() -> None:
    r = cm.gradient_descent(ROSENBROCK_TEXT, x0=[-1.2, 1], step="backtracking", maxiter=10_000)
    true_gradient = np.linalg.norm(sympy_gradient(ROSENBROCK, [X, Y], r.x))
    if r.success:
        assert true_gradient <= 1e-5  # the default gtol is 1e-6
    else:
        assert r.status == "max_iterations"
        assert r.nit == 10_000
        assert true_gradient > 1e-6  # it did not stop while already at the answer
        assert "max" in r.message.lower() or "10000" in r.message or "iterations" in r.message
    # Either way the walk went down the valley to near (1, 1).
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-3)
    assert r.fun < 1e-6
    assert_bookkeeping(r, [-1.2, 1])
    # The last row of the table tells the truth about |grad f| at x.
    assert math.isclose(r.rows[-1]["|grad f|"], true_gradient, rel_tol=1e-6, abs_tol=1e-12)


def test_minimize_gradient_descent_on_rosenbrock_only_claims_success_with_a_small_gradient() -> (
    None
):
    r = cm.minimize(ROSENBROCK_TEXT, x0=[-1.2, 1], method="gradient_descent", maxiter=3000)
    g = np.linalg.norm(sympy_gradient(ROSENBROCK, [X, Y], r.x))
    if r.success:
        assert g <= 1e-7
    else:
        assert r.status in {"max_iterations", "no_decrease"}
        assert g > 1e-9


# -- Himmelblau, Beale, Booth ----------------------------------------------------------------

HIMMELBLAU_MINIMA = [
    ((3, 3), (3.0, 2.0)),
    ((-3, 3), (-2.805118, 3.131312)),
    ((-3, -3), (-3.779310, -3.283186)),
    ((3, -3), (3.584428, -1.848126)),
]


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs"])
@pytest.mark.parametrize(("x0", "minimum"), HIMMELBLAU_MINIMA)
def test_himmelblau_finds_each_of_its_four_minima(
    method: str, x0: tuple[float, float], minimum: tuple[float, float]
) -> None:
    r = cm.minimize(HIMMELBLAU_TEXT, x0=x0, method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, minimum, atol=1e-6)  # literature values, 6 decimals
    assert abs(r.fun) < 1e-12  # every minimum of Himmelblau's function has f = 0
    assert np.linalg.norm(sympy_gradient(HIMMELBLAU, [X, Y], r.x)) <= 1e-7
    assert_bookkeeping(r, x0)


def test_himmelblau_newton_from_its_local_maximum_neighbourhood_goes_downhill() -> None:
    # At (0, 0) the Hessian [[-42, 0], [0, -26]] is negative definite: a plain Newton step
    # would head for the local maximum at (-0.270845, -0.923039). calcml must go to a minimum.
    r = cm.minimize(HIMMELBLAU_TEXT, x0=[0, 0], method="newton")
    assert r.success
    assert abs(r.fun) < 1e-12
    assert any(np.allclose(r.x, m, atol=1e-6) for _, m in HIMMELBLAU_MINIMA)
    assert r.notes  # it says that it modified the Hessian


def test_modified_newton_step_reverses_negative_curvature() -> None:
    # f = x^2/2 - y^2/2 + y^4/4 at (1, 0.5): H = diag(1, -0.25), grad = (1, -0.375).
    # By hand, the modified step -diag(1/|1|, 1/|-0.25|) grad = (-1, 1.5): downhill in
    # both coordinates (a plain Newton step would go uphill in y, towards the maximum).
    r = cm.minimize("x^2/2 - y^2/2 + y^4/4", x0=[1, 0.5], method="newton", maxiter=1)
    first = r.history[1] - r.history[0]
    direction = np.array([-1.0, 1.5])
    t = first[0] / direction[0]  # the line search may shorten the step
    assert 0 < t <= 1
    np.testing.assert_allclose(first, t * direction, rtol=1e-12)
    assert "turned positive" in r.notes[0]


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs"])
@pytest.mark.parametrize("x0", [(1, 1), (0, 0), (2, 0)])
def test_beale_minimum_is_three_one_half(method: str, x0: tuple[float, float]) -> None:
    r = cm.minimize(BEALE_TEXT, x0=x0, method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [3.0, 0.5], atol=1e-7)
    assert abs(r.fun) < 1e-14
    assert np.linalg.norm(sympy_gradient(BEALE, [X, Y], r.x)) <= 1e-7


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs", "gradient_descent"])
def test_booth_minimum_is_one_three(method: str) -> None:
    r = cm.minimize(BOOTH_TEXT, x0=[0, 0], method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [1.0, 3.0], atol=1e-7)
    assert abs(r.fun) < 1e-12
    assert np.linalg.norm(sympy_gradient(BOOTH, [X, Y], r.x)) <= 1e-7
    if method == "newton":
        # Booth is a quadratic: Newton's step is exact, one iteration.
        assert r.nit == 1


# -- the fixed step of gradient descent on an SPD quadratic ---------------------------------

# f = 1/2 x^T A x - b^T x with A = [[4, 1], [1, 3]], b = (1, 2): by hand
# x* = A^{-1} b = (1/11) [[3, -1], [-1, 4]] (1, 2) = (1/11, 7/11), and the eigenvalues of A
# are (7 +- sqrt 5) / 2, so lambda_max = (7 + sqrt 5) / 2 and the step bound 2 / lambda_max.
QUADRATIC = "2 x^2 + x y + 1.5 y^2 - x - 2 y"
QUADRATIC_MIN = np.array([1 / 11, 7 / 11])
LAMBDA_MAX = (7 + math.sqrt(5)) / 2


@pytest.mark.parametrize("factor", [0.2, 0.5, 0.9, 0.97])
def test_fixed_step_below_two_over_lambda_max_converges(factor: float) -> None:
    step = factor * 2 / LAMBDA_MAX
    r = cm.gradient_descent(QUADRATIC, x0=[0, 0], step=step)
    assert r.success, r.message
    assert r.status == "converged"
    np.testing.assert_allclose(r.x, QUADRATIC_MIN, atol=1e-6)
    assert all(row["step"] in ("", step) for row in r.rows)


@pytest.mark.parametrize("factor", [1.03, 1.1, 1.5, 3.0])
def test_fixed_step_above_two_over_lambda_max_is_reported_as_diverging(factor: float) -> None:
    r = cm.gradient_descent(QUADRATIC, x0=[0, 0], step=factor * 2 / LAMBDA_MAX)
    assert r.success is False
    assert r.status == "diverged"
    assert "step" in r.message  # it tells what to change
    assert np.linalg.norm(r.x - QUADRATIC_MIN) > 0.1


@pytest.mark.parametrize(("factor", "status"), [(0.9, "converged"), (1.1, "diverged")])
def test_the_step_bound_on_a_diagonal_quadratic_in_three_variables(
    factor: float, status: str
) -> None:
    # f = 1/2 (x^2 + 4 y^2 + 10 z^2) - (x + y + z): lambda_max = 10, minimum (1, 1/4, 1/10).
    f = "0.5 (x^2 + 4 y^2 + 10 z^2) - (x + y + z)"
    r = cm.gradient_descent(f, x0=[0, 0, 0], step=factor * 2 / 10)
    assert r.status == status
    assert r.success == (status == "converged")
    if r.success:
        np.testing.assert_allclose(r.x, [1, 0.25, 0.1], atol=1e-6)


def test_fixed_step_on_a_callable_quadratic() -> None:
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    b = np.array([1.0, 2.0])

    def f(v: np.ndarray) -> object:
        return 0.5 * cnp.dot(v, cnp.dot(a, v)) - cnp.dot(b, v)

    good = cm.gradient_descent(f, x0=[0.0, 0.0], step=0.9 * 2 / LAMBDA_MAX)
    assert good.success
    np.testing.assert_allclose(good.x, QUADRATIC_MIN, atol=1e-6)
    bad = cm.gradient_descent(f, x0=[0.0, 0.0], step=1.1 * 2 / LAMBDA_MAX)
    assert not bad.success and bad.status == "diverged"


def test_heavy_ball_momentum_converges_within_its_larger_step_bound() -> None:
    # Heavy ball on a quadratic is stable for step < 2 (1 + beta) / lambda_max (Polyak).
    r = cm.gradient_descent(QUADRATIC, x0=[0, 0], step=1.1 * 2 / LAMBDA_MAX, momentum=0.5)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, QUADRATIC_MIN, atol=1e-6)
    r = cm.gradient_descent(QUADRATIC, x0=[0, 0], step=2.2 * 2 / LAMBDA_MAX, momentum=0.5)
    assert not r.success and r.status == "diverged"


def test_backtracking_gradient_descent_on_the_quadratic() -> None:
    r = cm.gradient_descent(QUADRATIC, x0=[3, -4], step="backtracking")
    assert r.success
    np.testing.assert_allclose(r.x, QUADRATIC_MIN, atol=1e-6)
    values = [row["f(x)"] for row in r.rows]
    assert all(b <= a for a, b in itertools.pairwise(values))  # Armijo: f drops


def test_backtracking_descent_reaches_gtol_on_well_conditioned_quadratics() -> None:
    # 30 random quadratics 1/2 x^T A x - b^T x with the eigenvalues of A in [0.5, 2.5]
    # (condition number <= 5). A fixed step 1 / lambda_max contracts the error by at least
    # 4/5 per step, so |grad f| <= 1e-8 (minimize's default gtol) is reachable in about a
    # hundred steps: the Armijo search must reach it too, not stall just above it (where f
    # changes by less than its rounding) until max_iterations.
    rng = np.random.default_rng(7)
    stalled = []
    for i in range(30):
        q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
        eig = rng.uniform(0.5, 2.5, 2)
        a = q @ np.diag(eig) @ q.T
        b = rng.uniform(-3, 3, 2)
        x0 = rng.uniform(-3, 3, 2)

        def f(v: np.ndarray, a: np.ndarray = a, b: np.ndarray = b) -> object:
            return 0.5 * cnp.dot(v, cnp.dot(a, v)) - cnp.dot(b, v)

        fixed = cm.gradient_descent(f, x0=x0, step=1 / eig.max(), gtol=1e-8, maxiter=2000)
        assert fixed.success and fixed.nit <= 200  # the premise: gtol 1e-8 is reachable
        r = cm.minimize(f, x0=x0, method="gradient_descent", maxiter=2000)
        if not r.success:
            stalled.append((i, r.status, float(np.linalg.norm(r.jac))))
        else:
            np.testing.assert_allclose(r.x, np.linalg.solve(a, b), atol=1e-7)
    assert not stalled, stalled


def test_backtracking_descent_on_one_quadratic_written_as_text() -> None:
    # One of the quadratics above, as text: minimum A^{-1} b by NumPy, cond(A) < 2.
    f = (
        "0.920667299582147 x^2 + -0.11893826299202126 x y + 0.6097593308297813 y^2"
        " - (-1.6298965814655755) x - (-2.8567662652317862) y"
    )
    a12 = -0.11893826299202126
    a = np.array([[2 * 0.920667299582147, a12], [a12, 2 * 0.6097593308297813]])
    b = np.array([-1.6298965814655755, -2.8567662652317862])
    x0 = [1.1767139008944367, -0.9788834053904294]
    r = cm.minimize(f, x0=x0, method="gradient_descent", maxiter=2000)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, np.linalg.solve(a, b), atol=1e-7)


def test_newton_takes_its_last_step_near_a_strict_minimum() -> None:
    # A smooth coercive function; SymPy confirms a strict minimum near (-1.4795, 0.3769)
    # (Hessian positive definite there). Newton converges quadratically once close, so the
    # default 100 iterations are plenty to reach |grad f| <= 1e-8; the line search must
    # accept the full Newton step near the minimum, where f changes by less than its
    # rounding, instead of creeping on with steps of 7e-9 until max_iterations.
    x, y = X, Y
    expr = (
        sympy.Float("2.75093354909614") * (x + sympy.Float("1.4382096496427")) ** 2
        + (x**2 + y**2) ** 2 / 20
        + 2 * (y - sympy.Float("0.879382436330462")) ** 2
        + sympy.Float("1.22608928605452") * sympy.sin(x + 2 * y)
    )
    text = (
        "2.75093354909614 (x + 1.4382096496427)^2 + (x^2 + y^2)^2/20"
        " + 2 (y - 0.879382436330462)^2 + 1.22608928605452 sin(x + 2y)"
    )
    x_star = sympy.nsolve([sympy.diff(expr, x), sympy.diff(expr, y)], [x, y], [-1.48, 0.377])
    hessian = sympy.hessian(expr, [x, y]).subs({x: x_star[0], y: x_star[1]})
    assert min(float(e) for e in hessian.evalf().eigenvals()) > 1  # a strict minimum
    r = cm.minimize(text, x0=[1.06755805842268, 0.009937228701156098], method="newton")
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [float(x_star[0]), float(x_star[1])], atol=1e-8)


def test_gradient_descent_on_a_function_unbounded_below_does_not_say_f_grew() -> None:
    # x^3 from 1 runs off to -infinity: f falls without bound. Not a success, and the
    # message must not claim that f grew or that the step is too large for the curvature.
    r = cm.gradient_descent("x^3", x0=[1], step="backtracking")
    assert not r.success
    assert r.fun < -1e100
    assert "grew" not in r.message


# -- callables ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs", "gradient_descent"])
def test_minimize_accepts_a_calcml_numpy_callable(method: str) -> None:
    def rosen(v: np.ndarray) -> object:
        return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2

    if method == "gradient_descent":
        r = cm.minimize(lambda v: cnp.sum((v - np.array([1.0, -2.0])) ** 2), [0.0, 0.0], method)
        assert r.success
        np.testing.assert_allclose(r.x, [1.0, -2.0], atol=1e-8)
        return
    r = cm.minimize(rosen, x0=[-1.2, 1.0], method=method)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-7)


def test_minimize_accepts_sympy_and_function_objects() -> None:
    r1 = cm.minimize(BOOTH, x0=[0, 0], method="newton")
    r2 = cm.minimize(cm.Function(BOOTH_TEXT), x0=[0, 0], method="bfgs")
    np.testing.assert_allclose(r1.x, [1, 3], atol=1e-8)
    np.testing.assert_allclose(r2.x, [1, 3], atol=1e-8)


def test_x0_as_a_dict_by_variable_name() -> None:
    r = cm.minimize("(x - 1)^2 + (y + 2)^2", x0={"y": 5, "x": -3}, method="bfgs")
    assert r.success
    np.testing.assert_allclose(r.x, [1, -2], atol=1e-8)
    np.testing.assert_array_equal(r.history[0], [-3, 5])


# -- Newton leaves saddles and maxima; failures are named ----------------------------------


def test_newton_started_at_a_saddle_goes_to_a_minimum() -> None:
    # x^2 - y^2 + y^4/4: grad = (2x, -2y + y^3), zero at (0, 0) (H = diag(2, -2): a saddle)
    # and at (0, +-sqrt 2) (H = diag(2, 4): minima, f = -2 + 1 = -1).
    r = cm.minimize("x^2 - y^2 + y^4/4", x0=[0, 0], method="newton")
    assert r.success
    np.testing.assert_allclose(np.abs(r.x), [0, math.sqrt(2)], atol=1e-8)
    assert abs(r.fun + 1) < 1e-12
    assert any("saddle" in n for n in r.notes)


def test_newton_started_at_a_maximum_goes_to_a_minimum() -> None:
    # (x^2 + y^2 - 1)^2: the origin is a local maximum (f = 1, H = -4 I); every point of
    # the unit circle is a minimum (f = 0).
    r = cm.minimize("(x^2 + y^2 - 1)^2", x0=[0, 0], method="newton")
    assert r.success
    assert abs(np.linalg.norm(r.x) - 1) < 1e-8
    assert r.fun < 1e-16


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs", "gradient_descent"])
def test_x0_outside_the_domain_is_not_finite(method: str) -> None:
    r = cm.minimize("log(x)", x0=[-1], method=method)
    assert r.success is False
    assert r.status == "not_finite"
    assert "not finite" in r.message


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs", "gradient_descent"])
def test_maxiter_is_respected_and_reported(method: str) -> None:
    r = cm.minimize(ROSENBROCK_TEXT, x0=[-1.2, 1], method=method, maxiter=3)
    assert r.success is False
    assert r.status == "max_iterations"
    assert r.nit <= 3
