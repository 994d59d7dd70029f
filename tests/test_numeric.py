"""Tests of calcml.numeric's finite differences, Richardson, complex step and the step figure.

Oracles are independent of calcml: derivatives derived by hand and evaluated with the
standard library's math module (cos for sin, exp for exp, 3x^2, 1/x, -2x/(1+x^2)^2), the
hand-derived gradient and Hessian of the Rosenbrock function, and a hand-derived Jacobian.

The error estimate must be honest: never smaller than the true error (checked with
hypothesis over points and functions, near-flat and large-magnitude ones included), and not
absurdly large: within 1e4 of the true error, or of the rounding error that no estimate can
beat when the true error is smaller by luck (for a difference quotient with step h that is
about eps (|f(x)| + |x f'(x)|) / h, the rounding of f's values and of its inputs; for the
complex step, which subtracts nothing, eps times the size of the derivative and of its
conditioning |x f''(x)|).
"""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import calcml as cm
from calcml import CalcmlError
from calcml.numeric import NumericDerivative, StepErrors, derivative, step_errors
from calcml.plots.step_error import step_error

EPS = 2.0**-52
METHODS = ("forward", "backward", "central", "richardson", "complex")
ACCURACY = {"forward": 2e-7, "backward": 2e-7, "central": 2e-10, "richardson": 1e-12}
ACCURACY["complex"] = 1e-15
ORDERS = {"forward": 1, "backward": 1, "central": 2, "complex": 2}


# Each function: NumPy version (takes complex too), math value, math derivative, math f''.
FUNCTIONS = {
    "sin": (np.sin, math.sin, math.cos, lambda x: -math.sin(x)),
    "exp": (np.exp, math.exp, math.exp, math.exp),
    "cube": (lambda x: x**3, lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
    "log": (np.log, math.log, lambda x: 1 / x, lambda x: -1 / x**2),
    "runge": (
        lambda x: 1 / (1 + x * x),
        lambda x: 1 / (1 + x * x),
        lambda x: -2 * x / (1 + x * x) ** 2,
        lambda x: (6 * x * x - 2) / (1 + x * x) ** 3,
    ),
}
POINTS = {
    "sin": [0.5, 1.0, 2.0, -3.0],
    "exp": [-2.0, 0.5, 3.0, 10.0],
    "cube": [-1.5, 0.7, 4.0, 100.0],
    "log": [0.1, 1.5, 20.0, 1e4],
    "runge": [-0.8, 0.5, 3.0, 10.0],
}


def unavoidable(name: str, x: float, d: NumericDerivative) -> float:
    """The rounding error no estimate can certify below (see the module docstring): for a
    difference quotient, eps times the values of f around x and its condition |x f'(x)|,
    over the step."""
    _, f, df, d2f = FUNCTIONS[name]
    if d.method == "complex":
        return EPS * (abs(df(x)) + abs(f(x)) / max(1.0, abs(x)) + abs(x * d2f(x)))
    h = d.step
    values = abs(f(x)) + abs(f(x + h)) + abs(f(x - h)) if name != "log" else abs(f(x))
    return EPS * (abs(df(x)) + (values + abs(x * df(x))) / h)


# -- accuracy at fixed points ----------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_each_method_reaches_its_accuracy(name: str, method: str) -> None:
    f, value, df, _ = FUNCTIONS[name]
    for x in POINTS[name]:
        d = derivative(f, x, method=method)
        true_error = abs(d.value - df(x))
        # relative to the size of the derivative and of f on the scale of x
        scale = abs(df(x)) + abs(value(x)) / max(1.0, abs(x))
        assert true_error <= ACCURACY[method] * scale, (x, d)
        assert true_error <= d.error <= 1e4 * max(true_error, unavoidable(name, x, d)), (x, d)


def test_result_fields_and_orders() -> None:
    for method in METHODS:
        d = derivative(math.exp if method != "complex" else np.exp, 1.0, method=method)
        assert d.method == method
        assert d.x == 1.0
        assert d.evaluations > 0
        assert float(d) == d.value
        if method == "richardson":
            assert d.order in (4, 6, 8, 10, 12, 14)
        else:
            assert d.order == ORDERS[method]
        assert "±" in str(d)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.value = 0.0  # type: ignore[misc]


def test_default_steps_follow_the_textbook_scales() -> None:
    # forward ~ sqrt(eps) = 1.5e-8, central ~ eps^(1/3) = 6e-6 (times max(1, |x|)), complex 1e-20
    assert 1e-9 < derivative(math.exp, 1.0, method="forward").step < 1e-6
    assert 1e-7 < derivative(math.exp, 1.0, method="central").step < 1e-3
    assert derivative(np.exp, 1.0, method="complex").step == 1e-20
    assert 1e-6 < derivative(lambda x: x**3, 1e3, method="central").step / 1e3 < 1e-3


def test_given_step_is_used_and_its_error_is_honest() -> None:
    for method, h in [("forward", 1e-3), ("central", 1e-2), ("backward", 0.1)]:
        d = derivative(math.sin, 1.0, method=method, step=h)
        assert d.step == pytest.approx(h, rel=1e-12)  # (x + h) - x, the step taken
        true_error = abs(d.value - math.cos(1.0))
        assert true_error <= d.error <= 10 * true_error
    d = derivative(math.sin, 1.0, method="richardson", step=0.5)
    assert abs(d.value - math.cos(1.0)) <= d.error < 1e-10
    assert derivative(np.sin, 1.0, method="complex", step=1e-10).step == 1e-10


def test_hand_values_through_central_difference() -> None:
    # (f(x+h) - f(x-h)) / 2h for x^2 is exactly 2x: the estimate is exact up to rounding
    d = derivative(lambda x: x * x, 3.0, method="central", step=0.25)
    assert d.value == 6.0
    # forward difference of x^2 is 2x + h exactly: the error estimate must cover h
    d = derivative(lambda x: x * x, 3.0, method="forward", step=0.25)
    assert d.value == 6.25
    assert d.error >= 0.25


def test_text_and_sympy_input() -> None:
    d = derivative("x^2 sin(x)", 1.0)
    oracle = 2 * math.sin(1.0) + math.cos(1.0)
    assert abs(d.value - oracle) <= d.error < 1e-8
    x = cm.parse("t^3")
    assert derivative(x, 2.0, method="complex").value == pytest.approx(12.0, rel=1e-15)
    with pytest.raises(CalcmlError, match="also depends on a"):
        derivative("a*x^2", 1.0, var="x")


# -- honesty over many points (hypothesis) ---------------------------------------------------


def _point(name: str, u: float, kind: int) -> float:
    """A point in the function's domain: ordinary, near-flat, or of large magnitude."""
    if name == "sin":
        return [u * 3, math.pi / 2 + math.pi * round(u * 10) + u * 1e-6, u * 50][kind]
    if name == "exp":
        return [u * 3, -30 + u, 35 + 5 * u][kind]  # f tiny (flat) or huge
    if name == "cube":
        return [u * 3, u * 1e-4, 1e4 * u][kind]  # flat near 0, huge far out
    if name == "log":
        return [1.5 + u, 1e-3 * (2 + u), 1e6 * (2 + u)][kind]  # steep, and flat at 1e6
    return [u * 3, 1e3 * (u + 2), 1 / math.sqrt(3) + u * 1e-6][kind]  # runge: flat far out


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(list(FUNCTIONS)),
    method=st.sampled_from(METHODS),
    u=st.floats(-1, 1),
    kind=st.integers(0, 2),
)
def test_error_estimate_is_honest_and_not_absurd(name: str, method: str, u: float, kind: int):
    f, _, df, _ = FUNCTIONS[name]
    x = _point(name, u, kind)
    d = derivative(f, x, method=method)
    true_error = abs(d.value - df(x))
    assert true_error <= d.error, (x, d, df(x))
    assert d.error <= 1e4 * max(true_error, unavoidable(name, x, d)), (x, d, df(x))


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-20, 20), method=st.sampled_from(METHODS[:4]))
def test_math_module_callables_are_honest(x: float, method: str) -> None:
    d = derivative(math.sin, x, method=method)
    assert abs(d.value - math.cos(x)) <= d.error


# -- functions that are hard on error estimates ---------------------------------------------


def naive_square(x: float) -> float:
    return x * x - 2 * x + 1  # (x - 1)^2 by cancellation: its values lie on an eps grid


def naive_cube(x: float) -> float:
    return x**3 - 3 * x * x + 3 * x - 1  # (x - 1)^3, often computed as exactly 0 near 1


@settings(max_examples=60, deadline=None)
@given(
    f=st.sampled_from(
        [
            (naive_square, lambda x: 2 * x - 2),
            (naive_cube, lambda x: 3 * (x - 1) ** 2),
            (lambda x: 100 * (1 - x * x) ** 2, lambda x: -400 * x * (1 - x * x)),
        ]
    ),
    method=st.sampled_from(METHODS[:4]),
    offset=st.floats(-1, 1),
    scale=st.integers(-12, -1),
)
def test_honest_where_f_is_computed_with_cancellation(f, method, offset, scale) -> None:
    func, df = f
    x = 1 + offset * 10.0**scale
    d = derivative(func, x, method=method)
    assert abs(d.value - df(x)) <= d.error, (x, d)


@pytest.mark.parametrize("method", ["forward", "central", "richardson"])
def test_a_step_that_aliases_a_wiggle_is_not_trusted(method: str) -> None:
    # at x = 1e9 the textbook step (times |x|) spans many periods of sin, where the
    # quotients are tiny and agree with each other; the finer steps say otherwise
    d = derivative(np.sin, 1e9, method=method)
    assert abs(d.value - math.cos(1e9)) <= d.error
    if method != "richardson":  # Richardson is honest here, but not useful (weakness)
        assert d.error < 0.01


def test_an_infinite_derivative_is_an_error() -> None:
    with pytest.raises(CalcmlError, match="do not settle"):
        derivative(np.sqrt, 0.0, method="forward")
    with pytest.raises(CalcmlError):
        derivative(lambda x: x**0.5, 1e-300, method="forward")


def test_complex_step_underflow_is_honest_not_refused() -> None:
    # Im exp(-700 + 1e-20 i) = 1e-304 * 1e-20 underflows: the value is 0, the error says so
    d = derivative(np.exp, -700.0, method="complex")
    assert abs(d.value - math.exp(-700)) <= d.error


def test_cmath_callables_and_complex_results_off_the_domain() -> None:
    import cmath

    d = derivative(cmath.exp, 0.5)  # cmath returns complex numbers with no imaginary part
    assert abs(d.value - math.exp(0.5)) <= d.error < 1e-8
    # x ** 0.5 is complex below 0: outside the domain, like a NaN, for the steps that cross 0
    d = derivative(lambda x: x**0.5, 1e-3)
    assert abs(d.value - 0.5 / math.sqrt(1e-3)) <= d.error < 1e-6
    with pytest.raises(CalcmlError, match="real numbers"):
        derivative(cmath.sqrt, -1.0)


# -- gradient, Jacobian, Hessian ---------------------------------------------------------------


def rosenbrock(v: np.ndarray) -> float:
    return float(np.sum(100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2))


def rosenbrock_complex(v: np.ndarray) -> complex:
    return np.sum(100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2)


def rosenbrock_gradient(v: np.ndarray) -> np.ndarray:
    g = np.zeros_like(v)
    g[:-1] += -400 * v[:-1] * (v[1:] - v[:-1] ** 2) - 2 * (1 - v[:-1])
    g[1:] += 200 * (v[1:] - v[:-1] ** 2)
    return g


def rosenbrock_hessian(v: np.ndarray) -> np.ndarray:
    n = len(v)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * v[i] ** 2 - 400 * v[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * v[i]
    return H


points = st.integers(2, 4).flatmap(
    lambda n: st.lists(st.floats(-2, 2), min_size=n, max_size=n).map(np.array)
)


@settings(max_examples=40, deadline=None)
@given(v=points, method=st.sampled_from(["central", "richardson", "complex"]))
def test_rosenbrock_gradient(v: np.ndarray, method: str) -> None:
    f = rosenbrock_complex if method == "complex" else rosenbrock
    g, err = cm.numeric.gradient(f, v, method=method, return_error=True)
    exact = rosenbrock_gradient(v)
    assert g.shape == err.shape == v.shape
    assert np.all(np.abs(g - exact) <= err)
    tolerance = {"central": 1e-8, "richardson": 1e-10, "complex": 1e-13}[method]
    assert np.all(np.abs(g - exact) <= tolerance * (1 + np.abs(exact) + rosenbrock(v)))


@settings(max_examples=30, deadline=None)
@given(v=points)
def test_rosenbrock_hessian(v: np.ndarray) -> None:
    H, err = cm.numeric.hessian(rosenbrock, v, return_error=True)
    exact = rosenbrock_hessian(v)
    assert np.array_equal(H, H.T)
    assert np.all(np.abs(H - exact) <= err)
    assert np.all(np.abs(H - exact) <= 1e-5 * (1 + np.abs(exact).max()))


def test_rosenbrock_in_its_valley_where_f_cancels_inside() -> None:
    # y = x^2 + tiny: f is computed with cancellation, so its noise is far above eps |f|
    v = np.array([1.3, 1.69 + 1e-9, 2.8561])
    g, err = cm.numeric.gradient(rosenbrock, v, return_error=True)
    assert np.all(np.abs(g - rosenbrock_gradient(v)) <= err)
    H, err = cm.numeric.hessian(rosenbrock, v, return_error=True)
    assert np.all(np.abs(H - rosenbrock_hessian(v)) <= err)


def test_jacobian_of_a_hand_derived_map() -> None:
    def f(v: np.ndarray) -> np.ndarray:
        return np.array([v[0] * v[1], np.sin(v[0]), np.exp(v[1]) * v[0] ** 2])

    a, b = 0.7, -1.2
    exact = np.array([[b, a], [math.cos(a), 0.0], [2 * a * math.exp(b), a**2 * math.exp(b)]])
    for method in METHODS:
        J, err = cm.numeric.jacobian(f, [a, b], method=method, return_error=True)
        assert J.shape == err.shape == (3, 2)
        assert np.all(np.abs(J - exact) <= err), method
        assert np.allclose(J, exact, rtol=0, atol=1e-6)


def test_jacobian_shapes_are_out_shape_plus_in_shape() -> None:
    J = cm.numeric.jacobian(lambda m: np.array([m.sum(), (m**2).sum(), m[0, 1]]), np.ones((2, 2)))
    assert J.shape == (3, 2, 2)
    assert np.allclose(J[0], 1.0)
    assert np.allclose(J[1], 2.0)
    assert np.allclose(J[2], [[0, 1], [0, 0]], atol=1e-9)


def test_vector_functions_of_text() -> None:
    g = cm.numeric.gradient("x^2 y", {"y": 2, "x": 3}, method="complex")
    assert g.tolist() == [12.0, 9.0]
    J = cm.numeric.jacobian(["x*y", "x + y^2"], [2.0, 3.0])
    assert np.allclose(J, [[3, 2], [1, 6]], atol=1e-9)
    H = cm.numeric.hessian("x^2 y + y^3", [1.0, 2.0])
    assert np.allclose(H, [[4, 2], [2, 12]], atol=1e-6)


def test_gradient_needs_a_scalar_function() -> None:
    with pytest.raises(CalcmlError, match="jacobian"):
        cm.numeric.gradient(lambda v: v * 2, [1.0, 2.0])
    with pytest.raises(CalcmlError):
        cm.numeric.hessian(lambda v: v * 2, [1.0, 2.0])


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        math.sin,  # raises TypeError on complex input
        abs,  # returns a real number: the imaginary part is lost
        lambda z: z.real**2,  # drops the imaginary part
        lambda z: z * np.conj(z),  # complex, but not analytic: Im part is 0, not 2x h
        "abs(x)",
    ],
    ids=["math.sin", "abs", "real", "conj", "text-abs"],
)
def test_complex_step_refuses_functions_that_are_not_analytic(f) -> None:
    with pytest.raises(CalcmlError, match="complex"):
        derivative(f, 0.7, method="complex")


@pytest.mark.parametrize(
    "f, x",
    [
        (lambda x: 1 / x, 0.0),  # ZeroDivisionError
        (math.log, -1.0),  # ValueError: math domain error
        (lambda x: math.inf, 1.0),
        (lambda x: math.nan, 1.0),
        ("log(x)", 0.0),
        ("sqrt(x)", -1.0),
    ],
)
def test_non_finite_values_are_refused(f, x) -> None:
    for method in METHODS:
        with pytest.raises(CalcmlError, match=r"not (defined|finite)"):
            derivative(f, x, method=method)


def test_non_finite_at_the_given_step() -> None:
    with pytest.raises(CalcmlError, match="not finite"):
        derivative(math.log, 1e-3, method="central", step=0.01)


def test_near_the_edge_of_the_domain_the_ladder_avoids_bad_steps() -> None:
    d = derivative(math.log, 1e-3)
    assert abs(d.value - 1e3) <= d.error < 1e-5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "secant"}, "unknown method"),
        ({"step": 0.0}, "positive"),
        ({"step": -1e-3}, "positive"),
        ({"step": math.nan}, "finite"),
    ],
)
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(CalcmlError, match=match):
        derivative(math.sin, 1.0, **kwargs)


def test_bad_points_and_returns() -> None:
    with pytest.raises(CalcmlError, match="finite"):
        derivative(math.sin, math.inf)
    with pytest.raises(CalcmlError, match="real number"):
        derivative(math.sin, "1")
    with pytest.raises(CalcmlError, match="real numbers"):
        derivative(lambda x: "1", 1.0)
    with pytest.raises(CalcmlError, match="jacobian"):
        derivative(lambda x: [x, x], 1.0)
    with pytest.raises(CalcmlError, match="has the variables"):
        derivative("x*y", 1.0)


# -- the error-against-step study and its figure ----------------------------------------------


def test_step_errors_show_the_v_shape() -> None:
    s = step_errors(np.sin, 1.0, math.cos(1.0))
    assert isinstance(s, StepErrors)
    assert s.methods == ("forward", "central", "complex")
    assert s.steps.shape == (65,) and s.steps[0] == 1e-16 and s.steps[-1] == 1.0
    for method in ("forward", "central"):
        errors = s.errors[method]
        _h, best = s.optimal(method)
        assert errors[0] > 1e3 * best  # rounding: the smallest step is far worse
        assert errors[-1] > 1e3 * best  # truncation: so is the largest
    assert 1e-10 < s.optimal("forward")[0] < 1e-6
    assert 1e-7 < s.optimal("central")[0] < 1e-3
    # the complex step has no rounding wall: the smallest steps are the best
    assert s.errors["complex"][0] <= 2 * EPS
    assert np.all(s.errors["complex"][:20] <= 2 * EPS)


def test_step_errors_hand_values() -> None:
    # forward difference of x^2 at 3 is 6 + h exactly (for steps that are powers of 2)
    steps = [0.5, 0.25, 0.125]
    s = step_errors(lambda x: x * x, 3.0, 6.0, steps=steps, methods=["forward", "central"])
    assert s.errors["forward"].tolist() == steps
    assert s.errors["central"].tolist() == [0.0, 0.0, 0.0]
    assert s.fx == 9.0


def test_step_errors_exact_from_the_symbolic_derivative() -> None:
    s = step_errors("exp(x)", 0.5, methods=["central", "richardson", "backward"])
    assert s.exact == pytest.approx(math.exp(0.5), rel=1e-15)
    assert s.label == "exp(x)"
    with pytest.raises(CalcmlError, match="exact"):
        step_errors(math.exp, 0.5, methods=["central"])
    with pytest.raises(CalcmlError, match="complex"):
        step_errors(math.exp, 0.5, math.exp(0.5))


def gids(fig: Figure, prefix: str) -> list[str]:
    return [
        str(line.get_gid())
        for line in fig.axes[0].get_lines()
        if str(line.get_gid()).startswith(prefix)
    ]


def test_figure_has_one_line_per_method_and_saves_as_png() -> None:
    fig = step_error("sin(x)", 1.0)
    assert isinstance(fig, Figure)
    assert sorted(gids(fig, "error:")) == ["error:central", "error:complex", "error:forward"]
    assert {"guide:h1", "guide:h2", "guide:rounding"} <= set(gids(fig, "guide:"))
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert fig.texts[0].get_text() == "Reality is hard: the step cannot just be made small"
    # the line's data are the study's errors (floored at machine precision for the log axis)
    (forward,) = [ln for ln in ax.get_lines() if ln.get_gid() == "error:forward"]
    s = step_errors("sin(x)", 1.0)
    floor = EPS * abs(math.cos(1.0))
    assert np.allclose(forward.get_ydata(), np.maximum(s.errors["forward"], floor))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figure_methods_and_title() -> None:
    fig = step_error(math.exp, 1.0, exact=math.e)  # math.exp takes no complex: two lines
    assert sorted(gids(fig, "error:")) == ["error:central", "error:forward"]
    methods = ["forward", "backward", "central", "richardson", "complex"]
    fig = step_error("1/(1+x^2)", 2.0, methods=methods, title="Five ways")
    assert len(gids(fig, "error:")) == 5
    assert fig.texts[0].get_text() == "Five ways"
