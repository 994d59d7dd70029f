"""Tests of Newton-CG (``minimize(method="newton_cg")``, Nocedal and Wright's Algorithm 7.1).

Oracles: the stopping rule of the inner conjugate gradients checked from its definition
(|H p + g| <= min(1/2, sqrt|g|) |g|) against NumPy's products; NumPy's solve for the
exact Newton step; SciPy's own Newton-CG, and the known minima of Rosenbrock's function,
on the problem where truncated and exact Newton part ways.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.optimize.descent import _cg_direction


def _rosenbrock_text(n: int) -> str:
    v = [f"x{i:02d}" for i in range(1, n + 1)]  # sorted by name = the natural order
    return " + ".join(f"100 ({v[i + 1]} - {v[i]}^2)^2 + (1 - {v[i]})^2" for i in range(n - 1))


def _spd(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    return m.T @ m + 0.1 * np.eye(n)


def _scipy_newton_cg(x0: list) -> so.OptimizeResult:
    """SciPy's Newton-CG on its own Rosenbrock function, run until its steps vanish."""
    return so.minimize(
        so.rosen,
        x0,
        jac=so.rosen_der,
        hess=so.rosen_hess,
        method="Newton-CG",
        options={"xtol": 1e-14},
    )


def _ignore(*_: object) -> None:
    pass


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 8),
    size=st.floats(1e-6, 1e3),
)
def test_cg_stops_when_its_residual_meets_the_forcing_term(seed: int, n: int, size: float) -> None:
    hess = _spd(seed, n)
    g = np.random.default_rng(seed + 1).normal(size=n)
    g *= size / np.linalg.norm(g)
    p = _cg_direction(hess, g, 0, _ignore)
    eta = min(0.5, np.sqrt(size))
    # The rule, to rounding (CG may also end by running out of its 2n steps, which in
    # exact arithmetic solve the system).
    residual = np.linalg.norm(hess @ p + g)
    exact = np.linalg.solve(hess, -g)
    assert residual <= eta * size * (1 + 1e-8) or np.allclose(p, exact, rtol=1e-6)
    assert g @ p < 0  # downhill


def test_cg_near_the_minimum_is_the_newton_step() -> None:
    """|g| = 1e-10: the forcing term asks for a residual below 1e-15 |g|, so CG runs to
    the end and returns Newton's step H^-1 (-g)."""
    hess = _spd(3, 6)
    g = np.random.default_rng(4).normal(size=6)
    g *= 1e-10 / np.linalg.norm(g)
    p = _cg_direction(hess, g, 0, _ignore)
    np.testing.assert_allclose(p, np.linalg.solve(hess, -g), rtol=1e-8)


def test_cg_at_negative_curvature_first_is_steepest_descent() -> None:
    hess = np.diag([-2.0, 1.0])
    g = np.array([1.0, 0.0])  # -g points along the direction where f curves down
    seen = []
    p = _cg_direction(hess, g, 7, lambda k, what, detail: seen.append((k, what, detail)))
    np.testing.assert_array_equal(p, -g)
    assert seen and seen[0][0] == 7 and "curves down" in seen[0][1]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 8))
def test_cg_on_an_indefinite_hessian_still_goes_downhill(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    values = rng.uniform(0.1, 5.0, size=n)
    values[: rng.integers(1, n)] *= -1  # at least one negative curvature
    hess = (q * values) @ q.T
    g = rng.normal(size=n)
    p = _cg_direction(hess, g, 0, _ignore)
    assert g @ p < 0


def test_rosenbrock_10d_newton_cg_reaches_the_global_minimum_like_scipy() -> None:
    """From (-1.2, 1, ..., -1.2, 1) the 10-D Rosenbrock function has two minima within
    reach: (1, ..., 1), f = 0, and one near x1 = -0.993, f = 3.99. Exact Newton steps
    (calcml's newton, SciPy's trust-exact) reach the second; truncated Newton (SciPy's
    Newton-CG) reaches the first, and so must calcml's newton_cg."""
    x0 = [-1.2, 1.0] * 5
    text = _rosenbrock_text(10)
    r = cm.minimize(text, x0=x0, method="newton_cg")
    assert r.success, r.message
    ref = _scipy_newton_cg(x0)
    np.testing.assert_allclose(ref.x, np.ones(10), atol=1e-8)  # SciPy's answer
    np.testing.assert_allclose(r.x, np.ones(10), atol=1e-8)
    assert so.rosen(r.x) < 1e-15
    assert np.linalg.norm(so.rosen_der(r.x)) <= 1e-8
    assert any("curves down" in n for n in r.notes)
    # calcml's newton: the other minimum (a true one: gradient 0, Hessian positive definite)
    other = cm.minimize(text, x0=x0, method="newton")
    assert other.success
    assert other.x[0] == pytest.approx(-0.99326, abs=1e-4)
    assert so.rosen(other.x) == pytest.approx(3.98658, rel=1e-5)
    assert np.linalg.eigvalsh(so.rosen_hess(other.x)).min() > 0


@pytest.mark.parametrize("x0", [[0.0] * 10, [2.0, -1.0] * 5, [0.5] * 10])
def test_rosenbrock_10d_newton_cg_from_other_starts(x0: list) -> None:
    r = cm.minimize(_rosenbrock_text(10), x0=x0, method="newton_cg")
    assert r.success, r.message
    ref = _scipy_newton_cg(x0)
    np.testing.assert_allclose(r.x, ref.x, atol=1e-8)
    assert np.linalg.norm(so.rosen_der(r.x)) <= 1e-8
