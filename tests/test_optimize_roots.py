"""Tests of calcml.newton_raphson: one equation and systems.

Oracles: roots solved by hand (sqrt 2; x^2 = y with x + y = 6 gives x^2 + x - 6 = 0, so
(2, 4) or (-3, 9)); the theory of Newton's method (quadratic convergence at a simple
root, e_{k+1} ~ f''/(2 f') e_k^2 = e_k^2 / (2 sqrt 2) for x^2 - 2; the 0 -> 1 -> 0 cycle of
x^3 - 2x + 2; the flat tangent of x^2 - 1 at 0); and SciPy's ``newton``, whose step-size
test stops at points that are not roots, to find inputs that calcml must not call solved.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import sympy
from scipy.optimize import newton as scipy_newton

import calcml as cm
import calcml.numpy as cnp

X = sympy.Symbol("x")


def test_square_root_of_two_converges_quadratically() -> None:
    r = cm.newton_raphson("x^2 - 2", x0=1)
    assert r.success and r.status == "converged"
    assert abs(r.x - math.sqrt(2)) <= 4e-16
    assert r.history[0] == 1.0
    assert r.history[1] == 1.5  # 1 - (1 - 2) / 2, by hand
    assert abs(r.history[2] - 17 / 12) < 1e-15  # 1.5 - 0.25 / 3
    errors = [abs(h - math.sqrt(2)) for h in r.history]
    # Each error is about the square of the one before, times 1 / (2 sqrt 2).
    for before, after in itertools.pairwise(errors):
        if before > 1e-7:
            assert after <= before**2
            assert 0.3 <= after / before**2 <= 0.51
    assert errors[-1] < 1e-15
    assert r.nit <= 6
    assert r.rows[0]["f(x)"] == -1.0 and r.rows[0]["f'(x)"] == 2.0


def test_square_root_of_two_from_the_left_finds_minus_sqrt_two() -> None:
    r = cm.newton_raphson("x^2 - 2", x0=-3)
    assert r.success
    assert abs(r.fun) <= 1e-12  # the documented ftol
    # |x - root| <= |f(x)| / |f'| near the root, with |f'| = 2 sqrt 2 there.
    assert abs(r.x + math.sqrt(2)) <= 1e-12 / (2 * math.sqrt(2)) * 1.01


@pytest.mark.parametrize(
    ("x0", "root"),
    [((1, 1), (2, 4)), ((-4, 10), (-3, 9))],
)
def test_a_two_by_two_system_solved_by_hand(x0: tuple, root: tuple) -> None:
    # x^2 - y = 0 and x + y = 6: x^2 + x - 6 = (x - 2)(x + 3) = 0.
    r = cm.newton_raphson(["x^2 - y", "x + y - 6"], x0=x0)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, root, atol=1e-12)
    np.testing.assert_array_equal(r.history[0], x0)
    assert np.max(np.abs(r.fun)) <= 1e-12


def test_circle_and_diagonal_meet_at_sqrt_two() -> None:
    r = cm.newton_raphson(["x^2 + y^2 - 4", "x - y"], x0=[1, 2])
    assert r.success
    np.testing.assert_allclose(r.x, [math.sqrt(2), math.sqrt(2)], atol=1e-14)


def test_a_linear_system_takes_one_newton_step() -> None:
    # x + y = 3, x - y = 1: (2, 1). Newton is exact on linear equations.
    r = cm.newton_raphson(["x + y - 3", "x - y - 1"], x0=[10, -7])
    assert r.success and r.nit == 1
    np.testing.assert_allclose(r.x, [2, 1], atol=1e-14)


def test_three_equations_in_three_unknowns() -> None:
    # x y = 6, y z = 12, x z = 8: (x y z)^2 = 576, x y z = 24, so x = 2, y = 3, z = 4.
    r = cm.newton_raphson(["x y - 6", "y z - 12", "x z - 8"], x0=[1.5, 2.5, 3.5])
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [2, 3, 4], atol=1e-12)


@pytest.mark.parametrize("x0", [0.5, 3.0, -2.0])
def test_no_real_root_is_never_success(x0: float) -> None:
    r = cm.newton_raphson("x^2 + 1", x0=x0)
    assert r.success is False
    assert r.status != "converged"
    assert abs(r.fun) >= 1.0  # x^2 + 1 >= 1 everywhere, so it cannot be a root


def test_x_cubed_minus_two_x_plus_two_cycles() -> None:
    r = cm.newton_raphson("x^3 - 2x + 2", x0=0)
    assert r.success is False
    assert r.status == "cycle"
    assert "cycle" in r.message
    # 0 -> 0 - 2 / (-2) = 1 -> 1 - 1 / 1 = 0, by hand.
    assert [float(h) for h in r.history[:3]] == [0.0, 1.0, 0.0]


def test_flat_tangent_at_x0_is_zero_derivative() -> None:
    r = cm.newton_raphson("x^2 - 1", x0=0)
    assert r.success is False
    assert r.status == "zero_derivative"
    assert r.nit == 0


def test_atan_from_two_is_not_a_success() -> None:
    # Newton on atan diverges for |x0| > 1.3917452 (root of 2x = (1 + x^2) atan x).
    r = cm.newton_raphson("atan(x)", x0=2)
    assert r.success is False
    assert r.status != "converged"
    assert abs(r.history[-1]) > 1e3


def test_atan_from_two_is_reported_as_divergence() -> None:
    # The iterates run 2, -3.5, 13.9, -279, 1.2e5, -2.3e10: that is divergence, and the
    # advice "away from this turning point" is wrong: atan has no turning point.
    r = cm.newton_raphson("atan(x)", x0=2)
    assert r.status == "diverged", (r.status, r.message)


def test_atan_just_inside_the_basin_converges() -> None:
    r = cm.newton_raphson("atan(x)", x0=1.3)
    assert r.success
    assert abs(r.x) < 1e-12


def _scipy_says_converged(expr: sympy.Expr, x0: float) -> tuple[bool, float, float]:
    f = sympy.lambdify(X, expr, "mpmath")
    fp = sympy.lambdify(X, sympy.diff(expr, X), "mpmath")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root, info = scipy_newton(
            lambda t: float(f(t)),
            x0,
            fprime=lambda t: float(fp(t)),
            full_output=True,
            disp=False,
        )
    return bool(info.converged), float(root), float(f(root))


def test_steep_valley_scipy_calls_converged_is_not_success() -> None:
    # 1 + 10^20 (x - 1)^2 >= 1 has no root; SciPy's newton stops on a tiny step near x = 1.
    expr = 1 + sympy.Integer(10) ** 20 * (X - 1) ** 2
    converged, _, value = _scipy_says_converged(expr, 1.5)
    assert converged and value >= 1  # SciPy's false positive, the premise of this test
    r = cm.newton_raphson("1 + 10^20 (x - 1)^2", x0=1.5)
    assert r.success is False


@pytest.mark.parametrize("text", ["2 + tanh(10^15 x)", "2 + sin(10^15 x)"])
def test_steep_function_without_root_scipy_calls_converged_is_not_success(text: str) -> None:
    # Both functions are >= 1 everywhere (no root). SciPy's newton "converges" in one step
    # of 2e-15 from x0 = 0; at x = 0 exactly f = 2, computed without any rounding.
    expr = cm.parse(text)
    converged, _, value = _scipy_says_converged(expr, 0.0)
    assert converged and value >= 1
    r = cm.newton_raphson(text, x0=0)
    assert r.success is False, (r.x, r.fun, r.message)


def test_a_callable_equation_works() -> None:
    r = cm.newton_raphson(lambda v: v[0] ** 2 - 2, x0=1.0)
    assert r.success
    assert abs(r.x - math.sqrt(2)) <= 4e-16


def test_a_callable_system_works() -> None:
    def system(v: np.ndarray) -> object:
        return cnp.stack([v[0] ** 2 - v[1], v[0] + v[1] - 6])

    r = cm.newton_raphson(system, x0=[1.0, 1.0])
    assert r.success, r.message
    np.testing.assert_allclose(r.x, [2, 4], atol=1e-12)


def test_a_callable_on_the_whole_array_with_one_variable() -> None:
    # lambda v: v**2 - 2 returns shape (1,) for x0 of one number: either a root of this
    # one-equation system or a CalcmlError, never a raw TypeError.
    try:
        r = cm.newton_raphson(lambda v: v**2 - 2, x0=1.0)
    except cm.CalcmlError:
        return
    assert r.success
    assert abs(float(np.ravel(r.x)[0]) - math.sqrt(2)) <= 4e-16


def test_a_singular_jacobian_is_reported() -> None:
    # x + y = 1, 2x + 2y = 3: parallel lines, no solution; the Jacobian is singular.
    r = cm.newton_raphson(["x + y - 1", "2x + 2y - 3"], x0=[0, 0])
    assert r.success is False
    assert r.status == "singular"


def test_x0_where_f_is_undefined_is_not_finite() -> None:
    r = cm.newton_raphson("log(x) - 1", x0=-1)
    assert r.success is False
    assert r.status == "not_finite"


def test_log_root_is_e() -> None:
    r = cm.newton_raphson("log(x) - 1", x0=2)
    assert r.success
    assert abs(r.fun) <= 1e-12
    assert abs(r.x - math.e) <= 1e-12 * math.e * 1.01  # |f| / |f'|, f' = 1 / e


def test_system_outside_the_domain_is_not_finite() -> None:
    r = cm.newton_raphson(["log(x) - y", "x + y"], x0=[-1, 0])
    assert r.success is False
    assert r.status == "not_finite"


def test_maxiter_zero_takes_no_step() -> None:
    r = cm.newton_raphson("x^2 - 2", x0=1, maxiter=0)
    assert r.success is False
    assert r.status == "max_iterations"
    assert r.nit == 0
