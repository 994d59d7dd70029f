"""The backward pass reuses memory in place for large float64 arrays (calcml.ad.table.
IN_PLACE_MIN_SIZE): gradients stay right, and nothing of the user's is overwritten.

The oracle for elementwise functions is the complex step, computed with plain NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import calcml.numpy as cnp
from calcml.ad import grad, hessian, jacobian, jvp, value_and_grad, vjp
from calcml.ad.table import IN_PLACE_MIN_SIZE

BIG = IN_PLACE_MIN_SIZE + 904  # 5000
SMALL = IN_PLACE_MIN_SIZE - 1
SHAPES = [(BIG,), (2, 3000), (IN_PLACE_MIN_SIZE,), (SMALL,), (37,)]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
H = 1e-30  # the complex step

# -- random elementwise expressions, evaluated by calcml or by NumPy on complex numbers --

UNARY = ["sin", "cos", "exp", "tanh", "log1p_sq", "sqrt1p_sq", "square", "pow2", "pow3", "neg"]
BINARY = ["add", "sub", "mul", "div", "addc", "mulc"]


def step(op: str, a: Any, b: Any, c: float, m: Any) -> Any:
    """One operation on registers a, b (and the number c), with namespace m (cnp or np)."""
    if op in ("sin", "cos", "exp", "tanh", "square"):
        return getattr(m, op)(a)
    return {
        "log1p_sq": lambda: m.log(1.0 + a * a),
        "sqrt1p_sq": lambda: m.sqrt(1.0 + m.square(a)),
        "pow2": lambda: a**2,
        "pow3": lambda: a**3,
        "neg": lambda: -a,
        "add": lambda: a + b,
        "sub": lambda: a - b,
        "mul": lambda: a * b,
        "div": lambda: a / (1.0 + b * b),
        "addc": lambda: a + c,
        "mulc": lambda: c * a,
    }[op]()


def run(program: list[tuple], x: Any, m: Any) -> Any:
    """Registers r[0] = x, then one per step ``(op, i, j, c)`` from earlier registers i, j
    (so intermediates are reused, as in a graph); the last one, with namespace m."""
    r = [x]
    for op, i, j, c in program:
        r.append(step(op, r[i % len(r)], r[j % len(r)], c, m))
    return r[-1]


CONST = st.floats(0.1, 2.0) | st.floats(-2.0, -0.1)
INDEX = st.integers(0, 99)
PROGRAMS = st.lists(
    st.tuples(st.sampled_from(UNARY + BINARY), INDEX, INDEX, CONST), min_size=1, max_size=7
)
# add's VJP hands one array to both sin(x) and cos(x); exp(sin(x)) then adds to the first
SHARED = [("sin", 0, 0, 1), ("cos", 0, 0, 1), ("exp", 1, 0, 1), ("add", 1, 2, 1), ("mul", 4, 3, 1)]


def complex_step(program: list[tuple], x: np.ndarray) -> np.ndarray:
    """d f(x_i)/d x_i for the elementwise ``program``, by NumPy alone: Im f(x + ih) / h."""
    with np.errstate(all="ignore"):
        return np.imag(run(program, x + 1j * H, np)) / H


def objective(program: list[tuple]) -> Any:
    return lambda x: cnp.sum(run(program, x, cnp))


def data(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


@FAST
@given(program=PROGRAMS, shape=st.sampled_from(SHAPES), seed=st.integers(0, 2**16))
@example(program=SHARED, shape=(BIG,), seed=0)
def test_grad_of_elementwise_expression_matches_complex_step(program, shape, seed) -> None:
    """In-place reuse (rule products, adjoint sums, aliasing of x) never changes a gradient,
    nor the value, though the nodes' values are freed during the backward pass."""
    x = data(shape, seed)
    want = complex_step(program, x)
    assume(np.all(np.isfinite(want)) and np.max(np.abs(want)) < 1e8)
    x0 = x.copy()
    value, got = value_and_grad(objective(program))(x)
    assert np.array_equal(x, x0), "the input was overwritten"
    assert got.shape == x.shape and got.flags.writeable and got is not x
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)
    assert value == objective(program)(x0)  # on plain arrays: NumPy alone, bit for bit
    assert value == pytest.approx(float(np.sum(run(program, x0, np))), rel=1e-12, abs=1e-12)


@FAST
@given(program=PROGRAMS, seed=st.integers(0, 2**16))
@example(program=SHARED, seed=0)
def test_large_and_small_gradients_agree_entry_by_entry(program, seed) -> None:
    """Above and below IN_PLACE_MIN_SIZE the same entries get the same gradient."""
    x = data((BIG,), seed)
    with np.errstate(all="ignore"):
        assume(np.all(np.isfinite(run(program, x, np))))
    big = grad(objective(program))(x)
    small = grad(objective(program))(x[:SMALL].copy())
    tiny = grad(objective(program))(x[-50:].copy())
    np.testing.assert_allclose(big[:SMALL], small, rtol=1e-14, atol=0)
    np.testing.assert_allclose(big[-50:], tiny, rtol=1e-14, atol=0)


@FAST
@given(program=PROGRAMS, shape=st.sampled_from(SHAPES), seed=st.integers(0, 2**16))
@example(program=SHARED, shape=(BIG,), seed=0)
def test_vjp_leaves_cotangent_and_input_alone(program, shape, seed) -> None:
    """A pullback overwrites neither its cotangent nor x, and gives the same twice."""
    x = data(shape, seed)
    want = complex_step(program, x)
    assume(np.all(np.isfinite(want)) and np.max(np.abs(want)) < 1e8)
    x0 = x.copy()
    out, pullback = vjp(lambda v: run(program, v, cnp), x)
    ct = np.random.default_rng(seed + 1).normal(size=np.shape(out))
    ct0 = ct.copy()
    (first,) = pullback(ct)
    first0 = np.array(first, copy=True)
    (second,) = pullback(ct)
    assert np.array_equal(ct, ct0), "the cotangent was overwritten"
    assert np.array_equal(x, x0), "the input was overwritten"
    assert np.array_equal(first, first0), "the second pullback overwrote the first result"
    assert np.array_equal(first, second)
    scale = max(1.0, float(np.max(np.abs(want * ct0))))
    np.testing.assert_allclose(first, want * ct0, rtol=1e-12, atol=1e-12 * scale)


def test_vjp_result_is_not_the_cotangent() -> None:
    """A pullback through an addition does not return the caller's cotangent object itself."""
    x = data((BIG,), 1)
    _, pullback = vjp(lambda v: v + 1.0, x)
    ct = np.ones(BIG)
    (got,) = pullback(ct)
    got *= 2.0  # the caller owns the gradient
    assert np.all(ct == 1.0)


# -- what grad hands back ----------------------------------------------------------------


@pytest.mark.parametrize("n", [BIG, SMALL])
def test_grad_of_sum_is_writeable_ones(n: int) -> None:
    """sum's cotangent is a read-only broadcast view inside; the user gets own ones."""
    g = grad(cnp.sum)(data((n,), 2))
    assert np.array_equal(g, np.ones(n))
    assert g.flags.writeable and g.flags.owndata
    g[0] = 5.0  # and writing to it is allowed


BODIES = [lambda x, y: x + y, lambda x, y: cnp.sin(x + y), lambda x, y: x * y]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("n", [BIG, SMALL])
def test_two_gradients_are_two_writeable_arrays(body: Any, n: int) -> None:
    """argnums=(0, 1) never returns one array twice, read-only arrays, or an input."""
    x, y = data((n,), 3), data((n,), 4)
    x0, y0 = x.copy(), y.copy()
    _, (gx, gy) = value_and_grad(lambda a, b: cnp.sum(body(a, b)), argnums=(0, 1))(x, y)
    assert gx is not gy and not np.shares_memory(gx, gy)
    for g in (gx, gy):
        assert g.flags.writeable and not np.shares_memory(g, x) and not np.shares_memory(g, y)
    gx += 100.0
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
    _, (hx, _) = value_and_grad(lambda a, b: cnp.sum(body(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(hx + 100.0, gx, rtol=1e-15)


def test_same_array_as_both_arguments() -> None:
    """One array passed as x and as y: both gradients right, separate, input intact."""
    x = data((BIG,), 5)
    x0 = x.copy()
    gx, gy = grad(lambda a, b: cnp.sum(cnp.sin(a) * b + a * a), argnums=(0, 1))(x, x)
    assert np.array_equal(x, x0) and gx is not gy
    np.testing.assert_allclose(gx, np.cos(x0) * x0 + 2 * x0, rtol=1e-13)
    np.testing.assert_allclose(gy, np.sin(x0), rtol=1e-13)


# -- views and broadcasting: hand-derived gradients ----------------------------------------

x_ = data((BIG,), 6)
w_ = data((3 * BIG,), 7)
m_ = data((2, 3000), 8)
CASES = {
    "reshape": (
        lambda x: cnp.sum(cnp.sin(x.reshape(2, BIG // 2)) * x.reshape(2, BIG // 2)),
        x_,
        np.cos(x_) * x_ + np.sin(x_),
    ),
    "transpose": (
        lambda m: cnp.sum(m.T * m.T * cnp.transpose(cnp.sin(m))),
        m_,
        2 * m_ * np.sin(m_) + m_**2 * np.cos(m_),
    ),
    "slices": (
        lambda x: cnp.sum(x[:2500] ** 2) + cnp.sum(cnp.sin(x[1000:])) + cnp.sum(x * x),
        x_,
        2 * x_ * (np.arange(BIG) < 2500) + np.cos(x_) * (np.arange(BIG) >= 1000) + 2 * x_,
    ),
    "concatenate": (
        lambda x: cnp.sum(cnp.concatenate([x, x * x, cnp.sin(x)]) * w_),
        x_,
        w_[:BIG] + 2 * x_ * w_[BIG : 2 * BIG] + np.cos(x_) * w_[2 * BIG :],
    ),
    "row_broadcast": (  # m[0] and m[1] (3000,) spread over m (2, 3000)
        lambda m: cnp.sum(cnp.exp(m + m[0]) * m[1]),
        m_,
        np.stack(
            [
                2 * np.exp(2 * m_[0]) * m_[1] + np.exp(m_.sum(0)) * m_[1],
                np.exp(2 * m_[0]) + np.exp(m_.sum(0)) * (1 + m_[1]),
            ]
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_view_and_broadcast_gradients(name: str) -> None:
    """reshape/transpose/slices/concatenate/broadcasting alias g; sums must stay right."""
    fun, x, want = CASES[name]
    x0 = x.copy()
    g = grad(fun)(x)
    assert np.array_equal(x, x0)
    assert g.flags.writeable and g.base is None
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a", [0.3, np.array([0.3]), np.array(0.3)])
@pytest.mark.parametrize("n", [BIG, SMALL])
def test_small_parameter_broadcast_against_large_array(a: Any, n: int) -> None:
    """A scalar or (1,) parameter spread over a large array sums its cotangent back."""
    c = data((n,), 9)
    f = lambda p, v: cnp.sum(cnp.tanh(p * v + p) + p)  # noqa: E731
    ga, gc = grad(f, argnums=(0, 1))(a, c)
    sech2 = 1.0 - np.tanh(0.3 * c + 0.3) ** 2
    assert np.shape(ga) == np.shape(a)
    np.testing.assert_allclose(ga, np.sum(sech2 * (c + 1.0)) + n, rtol=1e-12)
    np.testing.assert_allclose(gc, 0.3 * sech2, rtol=1e-12)


# -- forward mode and second order are unaffected ---------------------------------------------


@pytest.mark.parametrize("shape", [(BIG,), (2, 3000), (SMALL,)])
def test_jvp_of_large_elementwise_function(shape: tuple[int, ...]) -> None:
    """Forward mode matches the complex step; its results are the caller's own."""
    program = [("sin", 0, 0, 0), ("exp", 0, 0, 0), ("pow3", 0, 0, 0), ("div", 2, 3, 0)]
    program += [("mul", 1, 4, 0), ("mul", 5, 1, 0)]  # sin(x) * e^x / (1 + x^6) * sin(x)
    x, t = data(shape, 10), data(shape, 11)
    x0, t0 = x.copy(), t.copy()
    value, tangent = jvp(lambda v: run(program, v, cnp), (x,), (t,))
    assert np.array_equal(x, x0) and np.array_equal(t, t0)
    np.testing.assert_allclose(tangent, complex_step(program, x) * t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(value, run(program, x, np), rtol=1e-15)
    assert tangent.flags.writeable


@pytest.mark.parametrize("a", [1.0, np.array([1.0])])
@pytest.mark.parametrize("n", [BIG, SMALL])
def test_forward_results_of_a_spread_input_are_writeable(a: Any, n: int) -> None:
    """A one-entry input spread over a large array: jvp/jacobian give writeable arrays."""
    _, tangent = jvp(lambda v: v + np.ones(n), (a,), (np.ones_like(a),))
    jac = jacobian(lambda v: 2.0 * v + np.ones(n))(a)
    assert np.array_equal(tangent, np.ones(n)) and np.array_equal(jac.ravel(), np.full(n, 2.0))
    assert tangent.flags.writeable, "jvp returned a read-only broadcast view"
    assert jac.flags.writeable, "jacobian returned a read-only broadcast view"


def test_jacobian_and_hessian_with_large_intermediates() -> None:
    """Forward-over-reverse Hessian and Jacobian through 5000-row intermediates."""
    a = data((BIG, 3), 12)
    w = np.array([0.3, -0.2, 0.5])
    f = lambda v: cnp.sum(cnp.tanh(cnp.dot(a, v)))  # noqa: E731
    z = np.tanh(a @ w)
    np.testing.assert_allclose(hessian(f)(w), (a.T * (-2 * z * (1 - z**2))) @ a, rtol=1e-11)
    np.testing.assert_allclose(grad(f)(w), a.T @ (1 - z**2), rtol=1e-12)
    jac = jacobian(lambda s: cnp.sin(s * a[:, 0]) * s)(0.7)
    np.testing.assert_allclose(jac, np.cos(0.7 * a[:, 0]) * a[:, 0] * 0.7 + np.sin(0.7 * a[:, 0]))


def test_grad_of_grad_at_large_size() -> None:
    """A nested gradient (inner pass frees its nodes) of a large function is right."""
    c = data((BIG,), 13)
    inner = grad(lambda y: cnp.sum(cnp.sin(y) * y))
    outer = grad(lambda s: cnp.sum(inner(s * c)))
    want = np.sum((-np.sin(0.4 * c) * 0.4 * c + 2 * np.cos(0.4 * c)) * c)
    assert outer(0.4) == pytest.approx(want, rel=1e-12)
