"""The transforms of calcml.ad: grad, value_and_grad, jacobian, hessian, jvp, vjp.

Their contract (argnums, shapes, errors, modes), higher and nested derivatives
(including the perturbation-confusion test), and calcml.numpy on plain arrays.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ad_oracle as oracle
import calcml.numpy as cnp
from calcml import CalcmlError
from calcml.ad import grad, hessian, jacobian, jvp, value_and_grad, value_and_jacobian, vjp

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def derivative(f: Callable) -> Callable:
    """Forward-mode derivative of a scalar function of a scalar, with jvp."""
    return lambda x: jvp(f, (x,), (1.0,))[1]


# -- grad and argnums --------------------------------------------------------------------


def f3(x: Any, y: Any, z: Any) -> Any:
    return x**2 * y + cnp.sin(y) * z


def test_grad_argnums_int() -> None:
    x, y, z = 1.5, -0.7, 2.0
    assert grad(f3)(x, y, z) == pytest.approx(2 * x * y, rel=1e-15)
    assert grad(f3, argnums=0)(x, y, z) == pytest.approx(2 * x * y, rel=1e-15)
    assert grad(f3, argnums=1)(x, y, z) == pytest.approx(x**2 + math.cos(y) * z, rel=1e-15)
    assert grad(f3, argnums=2)(x, y, z) == pytest.approx(math.sin(y), rel=1e-15)
    assert grad(f3, argnums=-1)(x, y, z) == pytest.approx(math.sin(y), rel=1e-15)
    assert isinstance(grad(f3)(x, y, z), float)


def test_grad_argnums_tuple() -> None:
    x, y, z = 1.5, -0.7, 2.0
    g = grad(f3, argnums=(0, 2))(x, y, z)
    assert isinstance(g, tuple) and len(g) == 2
    assert g == pytest.approx((2 * x * y, math.sin(y)), rel=1e-15)
    g = grad(f3, argnums=(2, 0, 1))(x, y, z)
    assert g == pytest.approx((math.sin(y), 2 * x * y, x**2 + math.cos(y) * z), rel=1e-15)
    (only,) = grad(f3, argnums=(1,))(x, y, z)
    assert only == pytest.approx(x**2 + math.cos(y) * z, rel=1e-15)


def test_grad_of_array_arguments_has_their_shapes() -> None:
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=3)

    def loss(W: Any, b: Any) -> Any:
        return cnp.sum((cnp.dot(W, x) + b) ** 2)

    gW, gb = grad(loss, argnums=(0, 1))(W, b)
    r = W @ x + b
    np.testing.assert_allclose(gb, 2 * r, rtol=1e-14)
    np.testing.assert_allclose(gW, 2 * np.outer(r, x), rtol=1e-14)


@pytest.mark.parametrize("argnums", [3, -4, (0, 5), "x"])
def test_argnums_out_of_range_raises(argnums: Any) -> None:
    with pytest.raises(CalcmlError):
        grad(f3, argnums=argnums)(1.0, 2.0, 3.0)


@pytest.mark.parametrize("transform", [grad, value_and_grad])
def test_non_scalar_output_raises_and_points_to_jacobian(transform: Callable) -> None:
    with pytest.raises(CalcmlError, match="jacobian"):
        transform(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(CalcmlError, match="jacobian"):
        transform(lambda x: cnp.outer(x, x))(np.ones(2))


def test_value_and_grad() -> None:
    value, g = value_and_grad(lambda x: cnp.sum(cnp.exp(x)))(np.array([0.0, 1.0]))
    assert value == pytest.approx(1.0 + math.e, rel=1e-15)
    np.testing.assert_allclose(g, [1.0, math.e], rtol=1e-15)
    value, (gx, gy) = value_and_grad(lambda x, y: x * cnp.exp(y), argnums=(0, 1))(2.0, 0.0)
    assert (value, gx, gy) == (2.0, 1.0, 2.0)
    value, g = value_and_grad(cnp.sin)(0.3)
    assert (value, g) == (math.sin(0.3), math.cos(0.3))


# -- jacobian: the modes agree, with finite differences ---------------------------------------

A23 = np.random.default_rng(1).normal(size=(5, 3))


def wide(x: Any) -> Any:  # R^3 -> R^5: more outputs than inputs
    return cnp.tanh(cnp.dot(A23, x)) * cnp.sum(x**2)


def ref_wide(x: Any) -> Any:
    return np.tanh(A23 @ x) * np.sum(x**2)


def tall(x: Any) -> Any:  # R^6 -> R^2: more inputs than outputs
    return cnp.stack([cnp.sum(cnp.sin(x) * x), cnp.prod(x[:3]) + x[5] ** 3])


def ref_tall(x: Any) -> Any:
    return np.stack([np.sum(np.sin(x) * x), np.prod(x[:3]) + x[5] ** 3])


def matrix_fun(X: Any) -> Any:  # (2, 3) -> (2, 2)
    return cnp.dot(X, cnp.transpose(cnp.exp(X)))


def ref_matrix_fun(X: Any) -> Any:
    return X @ np.exp(X).T


def many_inputs(x: Any) -> Any:  # R^70 -> R^2: "auto" goes reverse
    return cnp.stack([cnp.sum(x**2), cnp.sum(cnp.sin(x[::2]))])


def ref_many_inputs(x: Any) -> Any:
    return np.stack([np.sum(x**2), np.sum(np.sin(x[::2]))])


def many_both(x: Any) -> Any:  # R^70 -> R^72: "auto" starts reverse, then prefers forward
    return cnp.concatenate([x**3, cnp.stack([cnp.sum(x), cnp.prod(x[:4])])])


def ref_many_both(x: Any) -> Any:
    return np.concatenate([x**3, np.stack([np.sum(x), np.prod(x[:4])])])


def scalar_to_vector(t: Any) -> Any:
    return cnp.stack([t, t**2, cnp.sin(t)])


def ref_scalar_to_vector(t: Any) -> Any:
    return np.stack([t, t**2, np.sin(t)])


JACOBIAN_CASES = [
    ("R^3 -> R^5", wide, ref_wide, (3,)),
    ("R^6 -> R^2", tall, ref_tall, (6,)),
    ("(2,3) -> (2,2)", matrix_fun, ref_matrix_fun, (2, 3)),
    ("R^70 -> R^2", many_inputs, ref_many_inputs, (70,)),
    ("R^70 -> R^72", many_both, ref_many_both, (70,)),
    ("R -> R^3", scalar_to_vector, ref_scalar_to_vector, ()),
    ("R^3 -> R", lambda x: cnp.sum(x**3), lambda x: np.sum(x**3), (3,)),
]


def fd_jacobian(ref: Callable, x: np.ndarray) -> np.ndarray:
    """Complex-step Jacobian, shape out.shape + in.shape."""
    x = np.asarray(x, dtype=float)
    out_shape = np.shape(ref(x))
    columns = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = 1.0
        columns.append(oracle.directional(ref, (x,), (e.reshape(x.shape),), analytic=True))
    J = np.stack(columns, axis=-1) if columns else np.zeros((*out_shape, 0))
    return J.reshape(out_shape + x.shape)


@pytest.mark.parametrize(
    ("label", "fun", "ref", "shape"), JACOBIAN_CASES, ids=[c[0] for c in JACOBIAN_CASES]
)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_jacobian_modes_agree_with_finite_differences(
    label: str, fun: Callable, ref: Callable, shape: tuple, data: st.DataObject
) -> None:
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.2, 1.2)), label="x")
    want = fd_jacobian(ref, x)
    got = {mode: jacobian(fun, mode=mode)(x) for mode in ("forward", "reverse", "auto")}
    for mode, J in got.items():
        assert np.shape(J) == np.shape(ref(x)) + shape, mode
        oracle.assert_close(J, want, 1e-9, 1e-9, f"{label}, {mode}")
    oracle.assert_close(got["reverse"], got["forward"], 1e-12, 1e-12, f"{label}: modes")


@pytest.mark.parametrize(
    ("label", "fun", "ref", "shape"), JACOBIAN_CASES, ids=[c[0] for c in JACOBIAN_CASES]
)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_value_and_jacobian_agrees_with_finite_differences(
    label: str, fun: Callable, ref: Callable, shape: tuple, data: st.DataObject
) -> None:
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.2, 1.2)), label="x")
    value, J = value_and_jacobian(fun)(x)
    oracle.assert_close(value, ref(x), 1e-12, 1e-12, f"{label}: value")
    oracle.assert_close(J, fd_jacobian(ref, x), 1e-9, 1e-9, f"{label}: Jacobian")


def test_jacobian_argnums_and_bad_mode() -> None:
    J = jacobian(lambda a, b: a * b, argnums=1)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(J, np.diag([1.0, 2.0]))
    with pytest.raises(CalcmlError):
        jacobian(lambda x: x, mode="sideways")


# -- hessians ----------------------------------------------------------------------------------


@FAST
@given(
    n=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_hessian_of_a_quadratic_form(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    x = rng.normal(size=n)
    H = hessian(lambda v: cnp.dot(v, cnp.dot(A, v)))(x)
    np.testing.assert_allclose(H, A + A.T, rtol=1e-13, atol=1e-13)
    H = hessian(lambda v: v @ (A @ v))(x)  # with operators, a constant on the left
    np.testing.assert_allclose(H, A + A.T, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad(lambda v: v @ A @ v)(x), (A + A.T) @ x, rtol=1e-12)
    # the same through a matrix argument: d2/dX2 of sum(X * (A X)) for X = x as a column
    H = hessian(lambda X: cnp.sum(X * cnp.dot(A, X)))(x.reshape(n, 1))
    np.testing.assert_allclose(H.reshape(n, n), A + A.T, rtol=1e-13, atol=1e-13)


def test_hessian_through_a_broadcast_bias() -> None:
    # a layer's pre-activation X W + b adds the bias b (shape (2,)) to every row
    rng = np.random.default_rng(3)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)

    def f(bias: Any) -> Any:
        return cnp.sum(cnp.tanh(cnp.dot(X, W) + bias))

    t = np.tanh(X @ W + b)
    want = np.diag(np.sum(-2 * t * (1 - t**2), axis=0))  # d2/db_j^2 of sum tanh
    np.testing.assert_allclose(jacobian(grad(f), mode="reverse")(b), want, rtol=1e-12)
    np.testing.assert_allclose(hessian(f)(b), want, rtol=1e-12)
    np.testing.assert_allclose(jacobian(grad(f), mode="forward")(b), want, rtol=1e-12)


def test_hessian_shapes() -> None:
    H = hessian(lambda X: cnp.sum(X**3))(np.ones((2, 3)))
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(H.reshape(6, 6), 6 * np.eye(6))
    assert float(hessian(lambda t: t**3)(2.0)) == 12.0


# -- higher derivatives --------------------------------------------------------------------------

POINTS = [-1.3, -0.2, 0.0, 0.7, 2.1]
HIGHER = [
    ("sin", cnp.sin, [math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x), math.sin]),
    ("exp", cnp.exp, [math.exp] * 4),
    (
        "x^5",
        lambda x: x**5,
        [lambda x: 5 * x**4, lambda x: 20 * x**3, lambda x: 60 * x**2, lambda x: 120 * x],
    ),
]


@pytest.mark.parametrize(("name", "f", "known"), HIGHER, ids=[h[0] for h in HIGHER])
@pytest.mark.parametrize("x", POINTS)
def test_derivatives_up_to_fourth_order(name: str, f: Callable, known: list, x: float) -> None:
    rev, fwd, mixed = f, f, f
    for k, want in enumerate(known, start=1):
        rev = grad(rev)
        fwd = derivative(fwd)
        mixed = grad(mixed) if k % 2 else derivative(mixed)
        for how, d in (("reverse", rev), ("forward", fwd), ("alternating", mixed)):
            got = d(x)
            assert got == pytest.approx(want(x), rel=1e-12, abs=1e-12), (name, k, how)


def test_derivatives_of_tanh_up_to_fourth_order() -> None:
    # with t = tanh(x) and s = 1 - t^2 = t': t'' = -2ts, t''' = 4t^2 s - 2s^2 and
    # t'''' = 16ts^2 - 8t^3 s
    x = 0.4
    t = math.tanh(x)
    s = 1 - t**2
    want = [s, -2 * t * s, 4 * t**2 * s - 2 * s**2, 16 * t * s**2 - 8 * t**3 * s]
    f = cnp.tanh
    for k in range(4):
        f = grad(f)
        assert f(x) == pytest.approx(want[k], rel=1e-12), k + 1


# -- nested transforms and perturbation confusion -------------------------------------------------


D_REVERSE = grad
D_FORWARD = derivative


@pytest.mark.parametrize("outer", [D_REVERSE, D_FORWARD], ids=["reverse", "forward"])
@pytest.mark.parametrize("inner", [D_REVERSE, D_FORWARD], ids=["reverse", "forward"])
def test_no_perturbation_confusion(outer: Callable, inner: Callable) -> None:
    # Siskind & Pearlmutter's example: d/dx [x * (d/dy (x + y))|_{y=1}] at x = 1 is 1.
    # An engine that confuses the two perturbations answers 2.
    assert outer(lambda x: x * inner(lambda y: x + y)(1.0))(1.0) == 1.0
    # d/dx [x * d/dy (x * y)] = d/dx [x^2] = 2x
    assert outer(lambda x: x * inner(lambda y: x * y)(2.0))(3.0) == 6.0
    # the inner function ignores its own variable: its derivative is 0, not x's
    assert outer(lambda x: x * inner(lambda y: x**2)(5.0) + x)(3.0) == 1.0


def test_grad_of_a_function_that_calls_grad_of_a_closure() -> None:
    # g(x) = d/dy [sin(x y)] at y = 2 = x cos(2 x); g'(x) = cos(2x) - 2x sin(2x)
    def g(x: Any) -> Any:
        return grad(lambda y: cnp.sin(x * y))(2.0)

    x = 0.3
    assert grad(g)(x) == pytest.approx(math.cos(2 * x) - 2 * x * math.sin(2 * x), rel=1e-13)
    assert derivative(g)(x) == pytest.approx(math.cos(2 * x) - 2 * x * math.sin(2 * x), rel=1e-13)


def test_hessian_of_a_function_that_calls_grad() -> None:
    # f(v) = |grad of sum(v^3)|^2 = sum(9 v^4): Hessian diag(108 v^2)
    def f(v: Any) -> Any:
        return cnp.sum(grad(lambda u: cnp.sum(u**3))(v) ** 2)

    v = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(hessian(f)(v), np.diag(108 * v**2), rtol=1e-13)


# -- jvp and vjp -----------------------------------------------------------------------------------


def test_jvp_shapes_and_values() -> None:
    x = np.array([0.1, 0.2, 0.3])
    t = np.array([1.0, 0.0, -1.0])
    value, tangent = jvp(lambda v: cnp.outer(v, cnp.sin(v)), (x,), (t,))
    assert value.shape == tangent.shape == (3, 3)
    np.testing.assert_allclose(tangent, np.outer(t, np.sin(x)) + np.outer(x, np.cos(x) * t))
    value, tangent = jvp(lambda a, b: a * b, (2.0, 3.0), (1.0, 10.0))
    assert (value, tangent) == (6.0, 23.0)
    value, tangent = jvp(cnp.sum, (np.ones((2, 2)),), (np.full((2, 2), 0.5),))
    assert (float(value), float(tangent)) == (4.0, 2.0)


def test_vjp_shapes_and_values() -> None:
    A = np.arange(6.0).reshape(2, 3)
    x = np.array([1.0, -1.0, 2.0])
    value, pullback = vjp(lambda M, v: cnp.dot(M, v), A, x)
    np.testing.assert_array_equal(value, A @ x)
    gA, gx = pullback(np.array([1.0, 2.0]))
    assert gA.shape == (2, 3) and gx.shape == (3,)
    np.testing.assert_array_equal(gA, np.outer([1.0, 2.0], x))
    np.testing.assert_array_equal(gx, A.T @ [1.0, 2.0])
    # a pullback can be used again, with another cotangent
    gA2, gx2 = pullback(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(gx2, A[1])
    np.testing.assert_array_equal(gA2, np.outer([0.0, 1.0], x))
    gA3, _ = pullback(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(gA3, gA)


def test_jvp_and_vjp_shape_errors() -> None:
    with pytest.raises(CalcmlError):
        jvp(cnp.sin, (np.ones(2),), (np.ones(3),))
    with pytest.raises(CalcmlError):
        jvp(cnp.sin, (np.ones(2),), (np.ones((2, 1)),))
    with pytest.raises(CalcmlError):
        jvp(cnp.sin, (1.0,), (np.ones(1),))
    with pytest.raises(CalcmlError):
        jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))
    _, pullback = vjp(cnp.sin, np.ones(2))
    with pytest.raises(CalcmlError):
        pullback(np.ones(3))
    with pytest.raises(CalcmlError):
        pullback(1.0)


# -- inputs -----------------------------------------------------------------------------------


def test_integer_inputs_are_promoted_to_float() -> None:
    # Python ints, NumPy integer scalars and integer arrays all differentiate as floats.
    for two in (2, np.int64(2)):
        assert grad(cnp.reciprocal)(two) == -0.25
        assert grad(lambda x: x**-1)(two) == -0.25
        assert grad(lambda x: 1 / x)(two) == -0.25
        value, tangent = jvp(cnp.reciprocal, (two,), (1,))
        assert (value, tangent) == (0.5, -0.25)
        assert grad(lambda x: x * x)(two) == 4.0
    g = grad(lambda x: cnp.sum(cnp.reciprocal(x)))(np.array([2, 4]))
    assert g.dtype.kind == "f"
    np.testing.assert_array_equal(g, [-0.25, -0.0625])
    H = hessian(lambda x: cnp.sum(x**3))(np.array([1, 2]))
    assert H.dtype.kind == "f"
    np.testing.assert_array_equal(H, [[6.0, 0.0], [0.0, 12.0]])
    J = jacobian(lambda x: x / 2)(np.array([1, 2]))
    np.testing.assert_array_equal(J, np.eye(2) / 2)
    np.testing.assert_array_equal(grad(lambda x: cnp.sum(x**2))([1, 2]), [2.0, 4.0])


def test_non_numeric_inputs_raise_calcml_errors() -> None:
    for bad in (None, "abc", {"a": 1}, [1.0, "x"], object()):
        with pytest.raises(CalcmlError):
            grad(lambda x: x * 2.0)(bad)


def test_output_that_does_not_depend_on_the_input() -> None:
    x = np.ones((2, 3))
    g = grad(lambda v: 3.0)(x)
    assert g.shape == (2, 3) and not g.any()
    assert grad(lambda v: 1.0 if v > 0 else 0.0)(2.0) == 0.0
    assert grad(lambda a, b: b**2, argnums=0)(1.0, 3.0) == 0.0
    assert grad(lambda a, b: b**2, argnums=(0, 1))(1.0, 3.0) == (0.0, 6.0)
    assert value_and_grad(lambda v: np.float64(7.0))(2.0) == (7.0, 0.0)
    J = jacobian(lambda v: np.ones(4))(np.ones(3))
    assert J.shape == (4, 3) and not J.any()
    J = jacobian(lambda v: np.ones(4), mode="reverse")(np.ones(3))
    assert J.shape == (4, 3) and not J.any()
    H = hessian(lambda v: cnp.sum(v) + 1.0)(np.ones(3))  # linear: Hessian 0
    assert H.shape == (3, 3) and not H.any()
    _, pullback = vjp(lambda v: np.ones(2), np.ones(3))
    (ct,) = pullback(np.ones(2))
    assert ct.shape == (3,) and not ct.any()
    _, tangent = jvp(lambda v: np.ones(2), (np.ones(3),), (np.ones(3),))
    assert np.shape(tangent) == (2,) and not np.any(tangent)


def test_python_control_flow_on_values() -> None:
    def piecewise(x: Any) -> Any:
        if x > 0:
            return x**2
        return -3.0 * x

    assert grad(piecewise)(2.0) == 4.0
    assert grad(piecewise)(-1.0) == -3.0

    def doubling(x: Any) -> Any:  # a loop whose trip count depends on x
        while x < 10.0:
            x = x * 2.0
        return x

    assert grad(doubling)(3.0) == 4.0  # 3 -> 6 -> 12: two doublings
    assert grad(doubling)(0.5) == 32.0

    def horner(coefficients: list[float]) -> Callable:
        def p(x: Any) -> Any:
            total = 0.0
            for c in coefficients:
                total = total * x + c
            return total

        return p

    assert grad(horner([1.0, 0.0, -2.0, 5.0]))(2.0) == 3 * 4 - 2  # x^3 - 2x + 5
    v = np.array([3.0, -1.0, 2.0])
    g = grad(lambda u: sum(u[i] ** 2 for i in range(len(u)) if u[i] > 0))(v)
    np.testing.assert_array_equal(g, [6.0, 0.0, 4.0])
    g = grad(lambda u: cnp.sum(cnp.where(u > 0, u**2, -u)))(v)
    np.testing.assert_array_equal(g, [6.0, -1.0, 4.0])


# -- calcml.numpy on plain arrays is NumPy --------------------------------------------------------

X = np.array([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]])
POS = np.abs(X) + 0.5
UNIT = X / 3.0
SAME_AS_NUMPY: list[tuple[str, Callable, Callable, tuple]] = [
    (name, getattr(cnp, name), getattr(np, name), args)
    for name, args in [
        ("add", (X, 2.0)),
        ("subtract", (X, X[0])),
        ("multiply", (X, X)),
        ("divide", (X, POS)),
        ("true_divide", (X, POS)),
        ("negative", (X,)),
        ("power", (POS, X)),
        ("square", (X,)),
        ("reciprocal", (X,)),
        ("exp", (X,)),
        ("expm1", (X,)),
        ("log", (POS,)),
        ("log1p", (POS,)),
        ("sqrt", (POS,)),
        ("sin", (X,)),
        ("cos", (X,)),
        ("tan", (X,)),
        ("arcsin", (UNIT,)),
        ("arccos", (UNIT,)),
        ("arctan", (X,)),
        ("sinh", (X,)),
        ("cosh", (X,)),
        ("tanh", (X,)),
        ("abs", (X,)),
        ("absolute", (X,)),
        ("sign", (X,)),
        ("maximum", (X, 0.2)),
        ("minimum", (X, X[::-1])),
        ("clip", (X, -0.5, 0.5)),
        ("where", (X > 0, X, -X)),
        ("sum", (X,)),
        ("prod", (X,)),
        ("max", (X,)),
        ("min", (X,)),
        ("mean", (X,)),
        ("dot", (X, X.T)),
        ("matmul", (X, X.T)),
        ("outer", (X[0], X[1])),
        ("transpose", (X,)),
        ("reshape", (X, (3, 2))),
        ("broadcast_to", (X[0], (4, 3))),
        ("expand_dims", (X, 1)),
        ("ravel", (X,)),
    ]
]


@pytest.mark.parametrize(
    ("name", "ours", "theirs", "args"), SAME_AS_NUMPY, ids=[c[0] for c in SAME_AS_NUMPY]
)
def test_calcml_numpy_on_plain_arrays_is_numpy(
    name: str, ours: Callable, theirs: Callable, args: tuple
) -> None:
    got, want = ours(*args), theirs(*args)
    assert type(got) is type(want), name
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean"])
def test_reductions_on_plain_arrays_are_numpy(name: str, axis: Any, keepdims: bool) -> None:
    got = getattr(cnp, name)(X, axis=axis, keepdims=keepdims)
    want = getattr(np, name)(X, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert np.shape(got) == np.shape(want)


def test_joins_and_functions_numpy_lacks_on_plain_arrays() -> None:
    np.testing.assert_array_equal(cnp.concatenate([X, X], axis=1), np.concatenate([X, X], 1))
    np.testing.assert_array_equal(cnp.stack([X, X], axis=-1), np.stack([X, X], axis=-1))
    np.testing.assert_allclose(cnp.log10(POS), np.log10(POS), rtol=1e-15)
    np.testing.assert_allclose(cnp.log2(POS), np.log2(POS), rtol=1e-15)
    np.testing.assert_array_equal(cnp.relu(X), np.maximum(X, 0.0))
    np.testing.assert_allclose(cnp.sigmoid(X), 1 / (1 + np.exp(-X)), rtol=1e-15)
    np.testing.assert_allclose(cnp.softplus(X), np.log1p(np.exp(X)), rtol=1e-15)
    np.testing.assert_allclose(cnp.logsumexp(X), np.log(np.sum(np.exp(X))), rtol=1e-15)
    np.testing.assert_allclose(
        cnp.logsumexp(X, axis=1), np.log(np.sum(np.exp(X), axis=1)), rtol=1e-15
    )
    e = np.exp(X)
    np.testing.assert_allclose(cnp.softmax(X), e / e.sum(axis=-1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(cnp.softmax(X, axis=0), e / e.sum(axis=0), rtol=1e-15)
    assert cnp.pi == np.pi and cnp.e == np.e
    np.testing.assert_array_equal(cnp.zeros(3), np.zeros(3))
    assert isinstance(cnp.sin(0.5), float | np.floating)
    assert cnp.sin(0.5) == np.sin(0.5)


def test_unknown_names_say_what_calcml_numpy_offers() -> None:
    with pytest.raises(AttributeError, match=r"calcml\.numpy"):
        cnp.fft  # noqa: B018


def test_the_transforms_are_reachable_as_calcml_ad() -> None:
    # DESIGN.md's public contract spells them cm.ad.grad etc. after "import calcml as cm";
    # a fresh interpreter, so that no other import has loaded calcml.ad already.
    code = (
        "import calcml as cm, calcml.numpy as cnp\n"
        "assert cm.ad.grad(cnp.sin)(0.0) == 1.0\n"
        "for name in ('grad', 'value_and_grad', 'jacobian', 'hessian', 'jvp', 'vjp'):\n"
        "    assert callable(getattr(cm.ad, name))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
