"""calcml.Function against independent oracles.

* expressions: SymPy's own derivatives (``sympy.diff`` on real symbols, evaluated with
  ``evalf`` at 30 digits), and the gradient and Hessian of the Rosenbrock function in n
  dimensions written by hand in NumPy;
* callables (written with ``calcml.numpy``, differentiated by ``calcml.ad``): the same
  hand formulas.

Every symbolic test runs with both backends: ``"auto"`` (symengine when it is installed)
and ``"sympy"``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.expr.tokens import MAX_LENGTH
from calcml.function import Function, NotFiniteError, as_function

BACKENDS = ["auto", "sympy"]
TOL = {"rtol": 1e-10, "atol": 1e-10}

# --------------------------------------------------------------------------------------
# Oracles


def rosen_text(n: int, width: int = 3) -> str:
    """The n-dimensional Rosenbrock function as text, variables x001, x002, ...

    Zero-padded names, so that sorted by name is the natural order.
    """
    name = [f"x{i:0{width}d}" for i in range(1, n + 1)]
    return " + ".join(
        f"100*({name[i + 1]} - {name[i]}^2)^2 + (1 - {name[i]})^2" for i in range(n - 1)
    )


def rosen(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosen_grad(x: np.ndarray) -> np.ndarray:
    """By hand: d/dx_i of 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 and of the term before."""
    g = np.zeros_like(x)
    g[:-1] += -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess(x: np.ndarray) -> np.ndarray:
    """By hand: tridiagonal."""
    n = len(x)
    h = np.zeros((n, n))
    diag = np.zeros(n)
    diag[:-1] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diag[1:] += 200.0
    h[np.arange(n), np.arange(n)] = diag
    off = -400.0 * x[:-1]
    h[np.arange(n - 1), np.arange(1, n)] = off
    h[np.arange(1, n), np.arange(n - 1)] = off
    return h


def long_expr(text: str) -> sympy.Expr:
    """``cm.parse(text)``, or for text over the parser's length limit the sum of its
    parsed terms (each term is a separate ' + '-separated piece)."""
    try:
        return cm.parse(text)
    except cm.LimitError:
        return sympy.Add(*[cm.parse(term) for term in text.split(" + ")])


XYZ = sympy.symbols("x y z", real=True)


@functools.lru_cache
def sympy_derivatives(text: str) -> tuple[sympy.Expr, list, list]:
    """SymPy's value, gradient and Hessian of ``text`` in x, y, z, on real symbols (so
    that d|u|/du = sign(u))."""
    e = cm.parse(text).xreplace({sympy.Symbol(s.name): s for s in XYZ})
    grad = [sympy.diff(e, x) for x in XYZ]
    return e, grad, [[sympy.diff(g, x) for x in XYZ] for g in grad]


def at(expr: sympy.Expr, point: np.ndarray) -> float:
    subs = {s: sympy.Float(float(v), 30) for s, v in zip(XYZ, point, strict=True)}
    return float(expr.xreplace(subs).evalf(30))


# Functions of x, y, z that are smooth (and real) on the box [-2, 2]^3 the points come from.
SMOOTH = [
    "x^2 y + sin(x y) - exp(-y^2) z",
    "log(1 + x^2 + y^2) cos(z)",
    "atan(x/(1 + y^2)) + sqrt(1 + z^2) - x y z",
    "tanh(x - y) cosh(z/3) + 2.5 x^3",
    "x^3 - 3x y^2 + |x - y + 7|^3 + e^(x/2)",
    "(x + 2 y)/(3 + z^2) + sec(x/3) + sinh(y) asin(z/3)",
    "5^x + (3 + y)^x/3 + cot(z/4 + 1)",
]
coordinate = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 6))
points3 = st.tuples(coordinate, coordinate, coordinate).map(np.array)


# --------------------------------------------------------------------------------------
# Expressions against SymPy


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", SMOOTH)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point=points3)
def test_value_gradient_hessian_match_sympy(text: str, backend: str, point: np.ndarray) -> None:
    f = Function(text, variables=["x", "y", "z"], backend=backend)
    e, grad, hess = sympy_derivatives(text)
    assert f.value(point) == pytest.approx(at(e, point), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(f.gradient(point), [at(g, point) for g in grad], **TOL)
    np.testing.assert_allclose(f.hessian(point), [[at(h, point) for h in r] for r in hess], **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 7),
    data=st.data(),
)
def test_rosenbrock_matches_hand_formulas(backend: str, n: int, data) -> None:
    x = np.array(data.draw(st.lists(coordinate, min_size=n, max_size=n)))
    f = Function(rosen_text(n), backend=backend)
    assert f.variables == [f"x{i:03d}" for i in range(1, n + 1)]
    assert f.value(x) == pytest.approx(rosen(x), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(f.gradient(x), rosen_grad(x), **TOL)
    np.testing.assert_allclose(f.hessian(x), rosen_hess(x), **TOL)
    np.testing.assert_allclose(f.jacobian(x), rosen_grad(x)[None, :], **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rosenbrock_100_variables(backend: str) -> None:
    text = rosen_text(100)
    f = Function(long_expr(text), backend=backend)
    assert f.n == 100 and f.variables[0] == "x001" and f.variables[-1] == "x100"
    rng = np.random.default_rng(7)
    for x in (rng.uniform(-2, 2, 100), np.ones(100), np.zeros(100)):
        assert f.value(x) == pytest.approx(rosen(x), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(f.gradient(x), rosen_grad(x), **TOL)
        h = f.hessian(x)
        np.testing.assert_allclose(h, rosen_hess(x), **TOL)
        assert h.flags.writeable and h is not f.hessian(x)  # a new array every call
    # Sparsity: only the 100 diagonal and 99 upper entries were built and compiled.
    assert f._sym.order(2).compiled.k == 199
    assert f._sym.order(1).compiled.k == 100
    assert (f.nfev, f.njev, f.nhev) == (3, 3, 6)


def test_long_text_gets_a_hint() -> None:
    text = " + ".join(["x"] * (MAX_LENGTH // 4 + 2))
    with pytest.raises(cm.LimitError, match=r"sympy\.Add"):
        Function(text)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dense_100_variables_against_hand_formula(backend: str) -> None:
    # f = sum_i sin(x_i) x_{i+1} (cyclic) + x_i^2
    n = 100
    text = " + ".join(f"sin(x{i:03d}) x{i % n + 1:03d} + x{i:03d}^2" for i in range(1, n + 1))
    f = Function(long_expr(text), backend=backend)
    x = np.random.default_rng(3).uniform(-2, 2, n)
    nxt, prv = np.roll(x, -1), np.roll(x, 1)
    assert f.value(x) == pytest.approx(np.sum(np.sin(x) * nxt + x**2), rel=1e-12)
    np.testing.assert_allclose(f.gradient(x), np.cos(x) * nxt + np.sin(prv) + 2 * x, **TOL)
    h = np.diag(-np.sin(x) * nxt + 2)
    for i in range(n):
        j = (i + 1) % n
        h[i, j] = h[j, i] = np.cos(x[i])
    np.testing.assert_allclose(f.hessian(x), h, **TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_abs_uses_sign(backend: str) -> None:
    f = Function("|x - 1|^3 + x y", backend=backend)
    # d/dx = 3 |x-1| (x-1) + y, d2/dx2 = 6 |x-1|
    np.testing.assert_allclose(f.gradient([3, 2]), [3 * 2 * 2 + 2, 3])
    np.testing.assert_allclose(f.hessian([3, 2]), [[12, 1], [1, 0]])
    np.testing.assert_allclose(f.gradient([-1, 0]), [3 * 2 * -2, -1])
    g = Function("|x|", backend=backend)
    assert g.gradient(-2.0)[0] == -1.0 and g.gradient(0.0)[0] == 0.0  # sign(0) = 0
    assert g.hessian(1.5)[0, 0] == 0.0


def test_backends_agree() -> None:
    point = np.array([0.3, -1.2, 0.8])
    for text in SMOOTH:
        a = Function(text, variables="x, y, z")
        b = Function(text, variables="x, y, z", backend="sympy")
        assert b.backend == "sympy"
        np.testing.assert_allclose(a.value(point), b.value(point), rtol=1e-13)
        np.testing.assert_allclose(a.gradient(point), b.gradient(point), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(a.hessian(point), b.hessian(point), rtol=1e-12, atol=1e-13)


def test_sympy_input_with_assumptions_and_clashing_names() -> None:
    x = sympy.Symbol("x", positive=True)
    gamma, cos = sympy.symbols("gamma cos")  # also names of math.gamma and math.cos
    f = Function(sympy.gamma(x) * gamma + cos * sympy.cos(x), backend="sympy")
    assert f.variables == ["cos", "gamma", "x"]
    p = [2.0, 3.0, 1.0]
    assert f.value(p) == pytest.approx(3 + 2 * np.cos(1))
    np.testing.assert_allclose(f.gradient(p), [np.cos(1), 1, 3 * -np.euler_gamma - 2 * np.sin(1)])
    g = Function(x**2 * gamma)
    np.testing.assert_allclose(g.gradient({"x": 2, "gamma": 3}), [4, 12])


# --------------------------------------------------------------------------------------
# Points and variables


@pytest.mark.parametrize("backend", BACKENDS)
def test_points_dict_sequence_array_scalar(backend: str) -> None:
    f = Function("x^2 y + y^3", backend=backend)
    expected = np.array([4.0, 13.0])
    for point in ({"x": 1, "y": 2}, {"y": 2.0, "x": 1.0}, [1, 2], (1, 2), np.array([1.0, 2.0])):
        np.testing.assert_array_equal(f.gradient(point), expected)
    np.testing.assert_array_equal(f.gradient(np.array([1, 2])), expected)  # integer array
    np.testing.assert_array_equal(f.gradient(np.array([[1.0, 2.0]])), expected)
    np.testing.assert_array_equal(f.gradient(np.array([1.0, 9.0, 2.0, 9.0])[::2]), expected)
    frozen = np.array([1.0, 2.0])
    frozen.flags.writeable = False
    np.testing.assert_array_equal(f.gradient(frozen), expected)
    np.testing.assert_array_equal(f.value_at_many(np.broadcast_to(frozen, (3, 2))), [10, 10, 10])
    g = Function("x^3", backend=backend)
    assert g.value(2) == 8.0 and g.value(np.float32(2)) == 8.0 and g.value([2]) == 8.0
    np.testing.assert_array_equal(g.gradient(2), [12.0])
    np.testing.assert_array_equal(g.hessian(2), [[12.0]])


def test_variables_order_and_extra_variables() -> None:
    f = Function("x^2 y + z", variables=["z", "y", "x"])
    assert f.variables == ["z", "y", "x"] and f.n == 3
    np.testing.assert_array_equal(f.gradient([5, 2, 1]), [1, 1, 4])
    np.testing.assert_array_equal(f.gradient({"x": 1, "y": 2, "z": 5}), [1, 1, 4])
    g = Function("x^2", variables="x, t")  # t does not occur: its derivatives are 0
    assert g.variables == ["x", "t"]
    np.testing.assert_array_equal(g.gradient([3, 7]), [6, 0])
    np.testing.assert_array_equal(g.hessian([3, 7]), [[2, 0], [0, 0]])
    with pytest.raises(cm.CalcmlError, match=r"depends on y"):
        Function("x y", variables=["x"])
    with pytest.raises(cm.CalcmlError, match="repeat"):
        Function("x y", variables=["x", "x", "y"])


def test_constant_and_linear_functions() -> None:
    f = Function("3")
    assert f.n == 0 and f.value([]) == 3.0
    assert f.gradient([]).shape == (0,) and f.hessian([]).shape == (0, 0)
    g = Function("2x - 3y")
    np.testing.assert_array_equal(g.hessian([1, 1]), np.zeros((2, 2)))
    assert g._sym.order(2).compiled.k == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_vector_functions(backend: str) -> None:
    expected = np.array([[0.0, 1.0], [5.0, 1.0]])
    for obj in (
        ["x^2 y", "5x + sin(y)"],
        ("x^2 y", cm.parse("5x + sin(y)")),
        "x^2 y; 5x + sin(y)",
        sympy.Matrix([cm.parse("x^2 y"), cm.parse("5x + sin(y)")]),
    ):
        f = Function(obj, backend=backend)
        assert f.m == 2 and f.n == 2 and f.is_scalar is False
        np.testing.assert_allclose(f.jacobian([1, 0]), expected)
        np.testing.assert_allclose(f.value([1, 0]), [0.0, 5.0])
        assert isinstance(f.expr, sympy.Matrix)
    f = Function(["x y", "x + z", "7"])  # a constant component: a zero row
    np.testing.assert_array_equal(f.jacobian([1, 2, 3]), [[2, 1, 0], [1, 0, 1], [0, 0, 0]])
    one = Function(["x y"])  # a list of one is a vector function R^n -> R^1
    assert one.m == 1 and one.value([2, 3]).shape == (1,)
    scalar = Function("x y")
    assert scalar.jacobian([2, 3]).shape == (1, 2)
    assert isinstance(scalar.value([2, 3]), float)


# --------------------------------------------------------------------------------------
# Many points, counters, copies, properties


@pytest.mark.parametrize("backend", BACKENDS)
def test_value_at_many(backend: str) -> None:
    f = Function("x^2 + y", backend=backend)
    xs = np.array([[1, 0], [2, 1], [3, 2.0]])
    np.testing.assert_array_equal(f.value_at_many(xs), [1, 5, 11])
    assert f.nfev == 3
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(0, 2, 3)), axis=-1)
    out = f.value_at_many(grid)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, grid[..., 0] ** 2 + grid[..., 1])
    assert f.value_at_many(np.empty((0, 2))).shape == (0,)
    g = Function("sqrt(x) + 1/x", backend=backend)
    vals = g.value_at_many([4.0, -1.0, 0.0, 1.0])
    np.testing.assert_array_equal(vals[[0, 3]], [2.25, 2.0])
    assert np.isnan(vals[1]) and not np.isfinite(vals[2])
    v = Function(["x y", "x - y"], backend=backend).value_at_many([[1, 2], [3, 4]])
    np.testing.assert_array_equal(v, [[2, -1], [12, -1]])
    with pytest.raises(cm.CalcmlError, match="last axis"):
        f.value_at_many([[1, 2, 3]])


def test_counters_and_copies() -> None:
    f = Function("x^2 + y^2")
    f([1, 2])
    f.value([1, 2])
    f.gradient([1, 2])
    f.jacobian([1, 2])
    f.hessian([1, 2])
    f.value_and_gradient([1, 2])
    assert (f.nfev, f.njev, f.nhev) == (3, 3, 1)
    g = Function(f)  # a copy: shared compiled code, its own counters
    assert (g.nfev, g.njev, g.nhev) == (0, 0, 0)
    assert g._sym is f._sym and g.variables == f.variables
    g.hessian([0, 0])
    assert g.nhev == 1 and f.nhev == 1
    f.reset_counters()
    assert (f.nfev, f.njev, f.nhev) == (0, 0, 0)
    h = Function(f, variables=["y", "x"])  # another order: a new build
    np.testing.assert_array_equal(h.gradient([1, 2]), [2, 4])
    assert as_function(f) is f and as_function(f, ["x", "y"]) is f
    v = Function(Function(["x y", "x"]), variables=["y", "x"])  # a vector function too
    np.testing.assert_array_equal(v.jacobian([2, 3]), [[3, 2], [0, 1]])
    assert as_function("x + y").variables == ["x", "y"]


def test_properties_and_repr() -> None:
    f = Function("x^2 y")
    assert f.is_symbolic and f.expr == cm.parse("x^2 y") and (f.n, f.m) == (2, 1)
    assert f.variables == ["x", "y"] and f.backend in ("symengine", "sympy")
    assert repr(f) == "Function('x^2*y', variables=['x', 'y'])"
    f.variables.append("z")  # a copy of the list
    assert f.variables == ["x", "y"]
    long = Function(long_expr(rosen_text(30)))
    assert repr(long).endswith("variables=['x001', 'x002', 'x003', ..., 'x030'])")
    assert len(repr(long)) < 140
    assert Function(sympy.sin(sympy.Symbol("t"))).variables == ["t"]


def test_exported_from_calcml() -> None:
    assert cm.Function is Function


# --------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("backend", BACKENDS)
def test_error_messages(backend: str) -> None:
    f = Function("x^2 y", backend=backend)
    with pytest.raises(cm.CalcmlError, match=r"3 coordinate\(s\) but there are 2"):
        f.gradient([1, 2, 3])
    with pytest.raises(cm.CalcmlError, match="no value for y"):
        f.value({"x": 1})
    with pytest.raises(cm.CalcmlError, match="numbers"):
        f.value(["a", "b"])
    v = Function(["x", "y^2"], backend=backend)
    with pytest.raises(cm.CalcmlError, match="jacobian"):
        v.gradient([1, 2])
    with pytest.raises(cm.CalcmlError, match="scalar"):
        v.hessian([1, 2])
    g = Function("log(x) + y^2", backend=backend)
    with pytest.raises(NotFiniteError, match=r"gradient is not finite at x=0, y=1: entry 0") as err:
        g.gradient([0, 1])
    assert isinstance(err.value, cm.CalcmlError) and err.value.entry == (0,)
    with pytest.raises(NotFiniteError, match=r"value is not finite at x=-1, y=1: the value is nan"):
        g.value([-1, 1])
    with pytest.raises(NotFiniteError, match=r"Hessian is not finite .*entry \[0, 0\]"):
        g.hessian([0, 1])
    h = Function("x log(y)", backend=backend)
    with pytest.raises(NotFiniteError, match=r"at x=1, y=0: entry \[0, 1\] \(∂²f/∂x∂y\) is inf"):
        h.hessian([1, 0])
    with pytest.raises(NotFiniteError, match=r"entry \[0, 0\] \(∂²f/∂x²\) is inf"):
        Function("1/(x - y) + y", backend=backend).hessian([1, 1])
    with pytest.raises(NotFiniteError, match=r"component 2"):
        Function(["x", "log(y)"], backend=backend).value([1, -1])
    with pytest.raises(NotFiniteError, match=r"entry \[1, 1\] \(∂f2/∂y\)"):
        Function(["x", "log(y)"], backend=backend).jacobian([1, 0])
    huge = Function("1.5e308 x + 1.5e308 y", backend=backend)  # finite entries, infinite sum
    np.testing.assert_array_equal(huge.gradient([1, 2]), [1.5e308, 1.5e308])
    big = Function(long_expr(rosen_text(10)) + cm.parse("log(x010)"), backend=backend)
    with pytest.raises(NotFiniteError, match=r"x001=0, x002=0, x003=0, x004=0, \.\.\. \(10"):
        big.gradient(np.zeros(10))


def test_bad_inputs() -> None:
    with pytest.raises(cm.ParseError):
        Function("x + * 2")
    with pytest.raises(cm.CalcmlError, match="backend"):
        Function("x", backend="maple")
    with pytest.raises(cm.CalcmlError, match="not dict"):
        Function({"x": 1})
    with pytest.raises(cm.CalcmlError, match="empty"):
        Function([])
    with pytest.raises(cm.CalcmlError, match="callable"):
        Function(["x", np.sin])
    with pytest.raises(cm.CalcmlError, match="does not know"):
        Function(sympy.Function("g")(sympy.Symbol("x")))


# --------------------------------------------------------------------------------------
# Callables, differentiated by calcml.ad


def _cnp():
    import calcml.numpy as cnp

    return cnp


def rosen_cnp(x):
    cnp = _cnp()
    return cnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 7), data=st.data())
def test_callable_rosenbrock_matches_hand_formulas(n: int, data) -> None:
    x = np.array(data.draw(st.lists(coordinate, min_size=n, max_size=n)))
    f = Function(rosen_cnp)
    assert f.n is None and f.variables is None and not f.is_symbolic and f.expr is None
    assert f.value(x) == pytest.approx(rosen(x), rel=1e-12, abs=1e-12)
    assert f.n == n and f.variables == [f"x{i}" for i in range(n)] and f.m == 1
    np.testing.assert_allclose(f.gradient(x), rosen_grad(x), **TOL)
    np.testing.assert_allclose(f.hessian(x), rosen_hess(x), **TOL)
    np.testing.assert_allclose(f.jacobian(x), rosen_grad(x)[None, :], **TOL)
    value, grad = f.value_and_gradient(x)
    assert value == pytest.approx(rosen(x), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, rosen_grad(x), **TOL)
    assert (f.nfev, f.njev, f.nhev) == (2, 3, 1)


def test_callable_agrees_with_text() -> None:
    cnp = _cnp()

    def g(v):
        x, y, z = v[0], v[1], v[2]
        return x**2 * y + cnp.sin(x * y) - cnp.exp(-(y**2)) * z

    f, ref = Function(g, variables=["x", "y", "z"]), Function(SMOOTH[0])
    for point in ([0.3, -1.2, 0.8], [1.5, 0.2, -2.0]):
        assert f.value(point) == pytest.approx(ref.value(point), rel=1e-13)
        np.testing.assert_allclose(f.gradient(point), ref.gradient(point), rtol=1e-12)
        np.testing.assert_allclose(f.hessian(point), ref.hessian(point), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(
        f.gradient({"z": 0.8, "y": -1.2, "x": 0.3}), ref.gradient([0.3, -1.2, 0.8])
    )


def test_callable_vector_function_and_variables() -> None:
    cnp = _cnp()
    f = Function(lambda v: cnp.stack([v[0] ** 2 * v[1], 5 * v[0] + cnp.sin(v[1])]), 2)
    assert f.n == 2 and f.variables == ["x0", "x1"]
    np.testing.assert_allclose(f.value([1, 0]), [0, 5])
    assert f.m == 2 and f.is_scalar is False
    np.testing.assert_allclose(f.jacobian([1, 0]), [[0, 1], [5, 1]])
    with pytest.raises(cm.CalcmlError, match="jacobian"):
        f.gradient([1, 0])
    with pytest.raises(cm.CalcmlError, match="scalar"):
        f.hessian([1, 0])
    one = Function(lambda v: cnp.exp(v[0]))
    assert one.value(0.0) == 1.0 and one.n == 1
    np.testing.assert_allclose(one.gradient(1.0), [np.e])
    np.testing.assert_allclose(one.hessian(1.0), [[np.e]])
    f3 = Function(rosen_cnp, ["a", "b", "c"])
    np.testing.assert_array_equal(f3.value_at_many(np.ones((4, 3))), np.zeros(4))
    assert f3.nfev == 4
    renamed = Function(f3, variables=["p", "q", "r"])
    assert renamed.variables == ["p", "q", "r"] and renamed.nfev == 0
    np.testing.assert_allclose(renamed.gradient({"p": 1, "q": 1, "r": 1}), np.zeros(3))


def test_callable_errors() -> None:
    def broken(x):
        raise ZeroDivisionError("boom")

    with pytest.raises(cm.CalcmlError, match=r"broken raised ZeroDivisionError: boom at x0=1"):
        Function(broken).value([1.0, 2.0])
    with pytest.raises(cm.CalcmlError, match="1-D"):
        Function(lambda x: np.ones((2, 2))).value([1.0])
    with pytest.raises(cm.CalcmlError, match="names of the variables"):
        Function(rosen_cnp).value({"x": 1, "y": 2})
    with pytest.raises(cm.CalcmlError, match=r"2 coordinate\(s\) but there are 3"):
        Function(rosen_cnp, 3).gradient([1, 2])
    cnp = _cnp()
    with pytest.raises(NotFiniteError, match="gradient is not finite"):
        Function(lambda x: cnp.sqrt(x[0]) + x[1]).gradient([0.0, 1.0])
    with pytest.raises(cm.CalcmlError, match=r"calcml\.numpy"):
        Function(lambda x: np.sin(x[0])).gradient([0.3])  # plain NumPy cannot be traced


@pytest.mark.parametrize("backend", ["auto", "sympy"])
def test_variables_named_like_common_subexpressions(backend):
    """symengine names its common subexpressions x0, x1, ...: variables called x0, x1, x2
    must not be confused with them (a bug that gave wrong Hessians)."""
    x1, x2, x3 = sympy.symbols("x1 x2 x3")
    text = "sin(x1 x2) cos(x1 x2) + x3 + ln(1 + x1^2) + sqrt(1 + (x1 + x2)^2) + x0"
    expr = sympy.sin(x1 * x2) * sympy.cos(x1 * x2) + x3 + sympy.log(1 + x1**2)
    expr += sympy.sqrt(1 + (x1 + x2) ** 2) + sympy.Symbol("x0")
    names = ["x0", "x1", "x2", "x3"]
    f = Function(text, backend=backend)
    point = [0.2, 0.3, 0.7, -0.4]
    at = dict(zip(sympy.symbols(names), point, strict=True))
    variables = sympy.symbols(names)
    grad = [float(sympy.diff(expr, v).subs(at)) for v in variables]
    hess = [[float(sympy.diff(expr, a, b).subs(at)) for b in variables] for a in variables]
    np.testing.assert_allclose(f.gradient(point), grad, rtol=1e-12)
    np.testing.assert_allclose(f.hessian(point), hess, rtol=1e-12, atol=1e-14)
