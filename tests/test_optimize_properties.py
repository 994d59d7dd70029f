"""Property tests of the optimisers, drawn by hypothesis.

* Random convex quadratics 1/2 x^T A x - b^T x (A = M^T M + I/2, SPD, 2 to 4 variables):
  every method reaches x* = A^{-1} b, solved here by NumPy; with a random linear equality
  constraint c . x = d the answer and multiplier solve the KKT system
  [[A, -c], [c^T, 0]] [x; lambda] = [b; d], also solved by NumPy.
* Random smooth functions and starts: whenever a result says success, SymPy (on the
  expression built here, evaluated at 30 digits) confirms that the gradient, the residual
  or the Lagrange conditions really are small at r.x; for roots, mpmath confirms that a
  true root lies next to r.x.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import calcml as cm
import calcml.numpy as cnp

X, Y = sympy.symbols("x y")
QUADRATIC = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A failing gradient-descent example costs thousands of iterations: no shrinking there.
NO_SHRINK = settings(
    QUADRATIC, phases=[Phase.explicit, Phase.reuse, Phase.generate], report_multiple_bugs=False
)
SMOOTH = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

coordinate = st.floats(-1, 1, allow_nan=False)
start = st.floats(-3, 3, allow_nan=False)


@st.composite
def quadratics(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 4))
    m = draw(hnp.arrays(float, (n, n), elements=coordinate))
    a = m.T @ m + 0.5 * np.eye(n)  # SPD: every eigenvalue >= 1/2
    b = draw(hnp.arrays(float, n, elements=start))
    x0 = draw(hnp.arrays(float, n, elements=start))
    return a, b, x0


def quadratic_expr(a: np.ndarray, b: np.ndarray) -> tuple[sympy.Expr, list[sympy.Symbol]]:
    xs = list(sympy.symbols(f"q1:{len(b) + 1}"))
    v = sympy.Matrix(xs)
    am = sympy.Matrix(a.tolist())
    bm = sympy.Matrix(b.tolist())
    return sympy.expand((v.T * am * v)[0] / 2 - (bm.T * v)[0]), xs


def quadratic_callable(a: np.ndarray, b: np.ndarray) -> object:
    def f(v: np.ndarray) -> object:
        return 0.5 * cnp.dot(v, cnp.dot(a, v)) - cnp.dot(b, v)

    return f


def gradient_norm(expr: sympy.Expr, symbols: list[sympy.Symbol], x: np.ndarray) -> float:
    at = {s: sympy.Float(float(v), 30) for s, v in zip(symbols, np.ravel(x), strict=True)}
    return float(np.linalg.norm([float(sympy.diff(expr, s).evalf(30, subs=at)) for s in symbols]))


@NO_SHRINK
@given(
    quadratics(),
    st.sampled_from(["newton", "newton_cg", "bfgs", "gradient_descent"]),
    st.booleans(),
)
def test_every_method_reaches_the_minimum_of_a_convex_quadratic(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray], method: str, as_text: bool
) -> None:
    a, b, x0 = problem
    x_star = np.linalg.solve(a, b)
    f = quadratic_expr(a, b)[0] if as_text else quadratic_callable(a, b)
    # Backtracking descent needs about kappa ln(1e9) <= 33 * 21 steps here (kappa <= 33).
    r = cm.minimize(f, x0=x0, method=method, maxiter=3000 if method == "gradient_descent" else None)
    assert r.success, r.message
    # |grad| <= 1e-8 and every eigenvalue of A >= 1/2: |x - x*| <= 2e-8.
    np.testing.assert_allclose(r.x, x_star, atol=1e-7)
    f_star = -0.5 * b @ x_star
    assert abs(r.fun - f_star) <= 1e-9 * max(1.0, abs(f_star))
    np.testing.assert_array_equal(r.history[0], x0)
    if method == "newton" and np.linalg.norm(a @ x0 - b) > 1e-6:
        assert r.nit == 1  # Newton's step is exact on a quadratic


@QUADRATIC
@given(quadratics(), st.sampled_from([0.5, 0.95]))
def test_fixed_step_below_the_bound_converges_on_random_quadratics(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray], factor: float
) -> None:
    a, b, x0 = problem
    eig = np.linalg.eigvalsh(a)
    step = factor * 2 / eig[-1]
    r = cm.gradient_descent(quadratic_callable(a, b), x0=x0, step=step, maxiter=20_000)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, np.linalg.solve(a, b), atol=1e-5)


@QUADRATIC
@given(quadratics(), st.sampled_from([1.05, 1.5]))
def test_fixed_step_above_the_bound_diverges_on_random_quadratics(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray], factor: float
) -> None:
    a, b, x0 = problem
    eig, vectors = np.linalg.eigh(a)
    x_star = np.linalg.solve(a, b)
    # Make sure x0 - x* has a visible component along the top eigenvector (the one that
    # grows); a random x0 has one almost surely, this makes it certain.
    x0 = x0 + vectors[:, -1] * (1.0 + abs(vectors[:, -1] @ (x0 - x_star)))
    r = cm.gradient_descent(quadratic_callable(a, b), x0=x0, step=factor * 2 / eig[-1])
    assert r.success is False
    assert r.status == "diverged", r.message


@st.composite
def constrained_quadratics(draw: st.DrawFn) -> tuple:
    a, b, x0 = draw(quadratics())
    n = len(b)
    c = draw(hnp.arrays(float, n, elements=coordinate))
    if np.linalg.norm(c) < 0.1:
        c = c + np.eye(n)[draw(st.integers(0, n - 1))]
    d = draw(start)
    return a, b, x0, c, d


@QUADRATIC
@given(
    constrained_quadratics(), st.sampled_from(["newton", "newton_cg", "bfgs", "gradient_descent"])
)
def test_linear_equality_constrained_quadratic_matches_the_kkt_solution(
    problem: tuple, method: str
) -> None:
    a, b, x0, c, d = problem
    n = len(b)
    kkt = np.block([[a, -c[:, None]], [c[None, :], np.zeros((1, 1))]])
    solution = np.linalg.solve(kkt, np.concatenate([b, [d]]))
    x_star, lam = solution[:n], solution[n:]
    f, xs = quadratic_expr(a, b)
    constraint = sum(float(ci) * xi for ci, xi in zip(c, xs, strict=True)) - d
    r = cm.minimize(f, x0=x0, method=method, constraints=[constraint])
    assert r.success, r.message
    np.testing.assert_allclose(r.x, x_star, atol=1e-7)
    np.testing.assert_allclose(r.multipliers, lam, atol=1e-7 * max(1.0, float(np.abs(lam).max())))
    assert abs(c @ r.x - d) <= 1e-9


# -- random smooth functions ---------------------------------------------------------------

TERMS = [
    sympy.sin(X + 2 * Y),
    sympy.cos(X * Y),
    sympy.exp(-(X**2 + Y**2) / 2),
    sympy.log(1 + (X - Y) ** 2),
    sympy.atan(X - Y),
    X**2 * Y,  # |x^2 y| <= r^3: the r^4 / 20 below still wins
    sympy.tanh(X * Y),
    sympy.sqrt(1 + X**2 + Y**2),
]


@st.composite
def smooth_functions(draw: st.DrawFn) -> sympy.Expr:
    """A bounded-below smooth function: a positive quadratic and (x^2 + y^2)^2 / 20 plus
    terms that are bounded or grow at most like r^3."""
    w = draw(st.lists(st.floats(0.3, 3), min_size=2, max_size=2))
    centre = draw(st.lists(st.floats(-2, 2), min_size=2, max_size=2))
    expr = sympy.Float(w[0]) * (X - sympy.Float(centre[0])) ** 2
    expr += sympy.Float(w[1]) * (Y - sympy.Float(centre[1])) ** 2
    expr += (X**2 + Y**2) ** 2 / 20  # keeps x^2 y and friends from going to -infinity
    chosen = draw(st.lists(st.sampled_from(range(len(TERMS))), min_size=1, max_size=3))
    for i in chosen:
        expr += sympy.Float(draw(st.floats(-2, 2))) * TERMS[i]
    return expr


@SMOOTH
@given(
    smooth_functions(),
    st.tuples(start, start),
    st.sampled_from(["newton", "newton_cg", "bfgs", "gradient_descent"]),
)
def test_success_means_the_gradient_really_is_small(
    f: sympy.Expr, x0: tuple[float, float], method: str
) -> None:
    r = cm.minimize(f, x0=list(x0), method=method, maxiter=2000)
    value = float(f.evalf(30, subs={X: float(r.x[0]), Y: float(r.x[1])}))
    assert math.isclose(r.fun, value, rel_tol=1e-9, abs_tol=1e-12)
    if r.success:
        assert gradient_norm(f, [X, Y], r.x) <= 1e-7
    else:
        assert r.status != "converged"


@SMOOTH
@given(smooth_functions(), st.tuples(start, start), st.sampled_from([0.02, 0.1, 0.3]))
def test_fixed_step_success_means_the_gradient_really_is_small(
    f: sympy.Expr, x0: tuple[float, float], step: float
) -> None:
    r = cm.gradient_descent(f, x0=list(x0), step=step, maxiter=2000)
    if r.success:
        assert gradient_norm(f, [X, Y], r.x) <= 1e-5  # the default gtol is 1e-6


# -- roots ----------------------------------------------------------------------------------


@st.composite
def equations(draw: st.DrawFn) -> sympy.Expr:
    """A random smooth function of x: a polynomial of degree 2 to 5, maybe plus sin or exp."""
    degree = draw(st.integers(2, 5))
    coefficients = draw(
        st.lists(st.integers(-6, 6), min_size=degree + 1, max_size=degree + 1).filter(
            lambda cs: cs[-1] != 0
        )
    )
    expr = sum(sympy.Integer(c) * X**k for k, c in enumerate(coefficients))
    extra = draw(st.sampled_from([0, 1, 2]))
    if extra == 1:
        expr += 3 * sympy.sin(X)
    elif extra == 2:
        expr += sympy.exp(X / 2)
    return expr


def _has_root_next_to(expr: sympy.Expr, x: float) -> bool:
    """|f(x)| <= ftol at 30 digits, or f changes sign within 1e-10 max(1, |x|) of x."""
    with mpmath.workdps(30):
        f = sympy.lambdify(X, expr, "mpmath")
        if abs(f(mpmath.mpf(x))) <= 1.01e-12:
            return True
        delta = mpmath.mpf(1e-10) * max(1, abs(x))
        return f(mpmath.mpf(x) - delta) * f(mpmath.mpf(x) + delta) <= 0


@SMOOTH
@given(equations(), st.floats(-4, 4, allow_nan=False))
def test_newton_raphson_success_means_a_root_is_there(expr: sympy.Expr, x0: float) -> None:
    r = cm.newton_raphson(expr, x0=x0)
    if r.success:
        assert _has_root_next_to(expr, float(r.x)), (r.x, r.fun)
    else:
        assert r.status in {"max_iterations", "zero_derivative", "cycle", "diverged", "not_finite"}
    assert r.history[0] == x0


@st.composite
def systems(draw: st.DrawFn) -> list[sympy.Expr]:
    """Two random quadratic equations in x and y."""
    monomials = [sympy.Integer(1), X, Y, X**2, X * Y, Y**2]
    out = []
    for _ in range(2):
        cs = draw(st.lists(st.integers(-4, 4), min_size=6, max_size=6))
        out.append(sum(c * m for c, m in zip(cs, monomials, strict=True)))
    return out


@SMOOTH
@given(systems(), st.tuples(start, start))
def test_system_success_means_a_solution_is_there(
    fs: list[sympy.Expr], x0: tuple[float, float]
) -> None:
    try:
        r = cm.newton_raphson(fs, x0=list(x0))
    except cm.CalcmlError:
        return  # e.g. a component without y: the variables do not match
    if not r.success:
        return
    at = {X: float(r.x[0]), Y: float(r.x[1])}
    residual = max(abs(float(f.evalf(30, subs=at))) for f in fs)
    if residual <= 1.01e-12:
        return
    # Otherwise a true solution must lie right next to r.x: mpmath's Newton at 30 digits.
    with mpmath.workdps(30):
        funcs = [sympy.lambdify((X, Y), f, "mpmath") for f in fs]
        root = mpmath.findroot(funcs, (mpmath.mpf(at[X]), mpmath.mpf(at[Y])))
    distance = max(abs(float(root[0]) - at[X]), abs(float(root[1]) - at[Y]))
    assert distance <= 1e-9 * max(1.0, abs(at[X]), abs(at[Y]))


# -- constrained, random ------------------------------------------------------------------


@SMOOTH
@given(
    smooth_functions(),
    st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(0.5, 2)),
    st.tuples(start, start),
)
def test_sqp_success_means_a_constrained_minimum(
    f: sympy.Expr, circle: tuple[float, float, float], x0: tuple[float, float]
) -> None:
    a, b, radius = circle
    c = (X - sympy.Float(a)) ** 2 + (Y - sympy.Float(b)) ** 2 - sympy.Float(radius) ** 2
    r = cm.minimize(f, x0=list(x0), constraints=[c])
    if not r.success:
        assert r.status != "converged"
        return
    at = {X: sympy.Float(float(r.x[0]), 30), Y: sympy.Float(float(r.x[1]), 30)}
    grad = np.array([float(sympy.diff(f, s).evalf(30, subs=at)) for s in (X, Y)])
    gc = np.array([float(sympy.diff(c, s).evalf(30, subs=at)) for s in (X, Y)])
    lam = float(np.ravel(r.multipliers)[0])
    assert abs(float(c.evalf(30, subs=at))) <= 1e-9
    assert np.max(np.abs(grad - lam * gc)) <= 1e-6 * max(1.0, abs(r.fun))
    # A minimum along the circle: L = f - lambda c curves upwards along the tangent.
    h = np.array(sympy.hessian(f - lam * c, (X, Y)).evalf(30, subs=at).tolist(), dtype=float)
    tangent = np.array([-gc[1], gc[0]]) / np.linalg.norm(gc)
    assert tangent @ h @ tangent >= -1e-6
