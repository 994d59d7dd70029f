"""The pieces of calcml's Levenberg-Marquardt (calcml.fit.solvers), each against an oracle
that does not share its code:

* the eigen-decompositions (a Jacobi rotation for 2 x 2, LAPACK for larger) against
  ``numpy.linalg.eigh`` and the defining identity S v = w v;
* the Cholesky solve of the Gauss-Newton step against ``numpy.linalg.solve`` and its
  refusals (singular, indefinite) against the eigenvalues; the damped model's undamped
  step against the same step from its own eigen-decomposition;
* the trust region's damping mu against a bracketing root finder (``scipy.optimize.brentq``)
  on |z(mu)| = radius, z(mu) from a direct solve of (S + mu I) z = -g;
* the curvature correction against the minimum of the parabola it claims to fit;
* the last step (its Jacobian not evaluated): the residuals and chi2 reported against
  the model evaluated afresh at the parameters reported.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import calcml as cm
import nist
from calcml.fit import solvers
from calcml.fit.model import model_from

PROPERTY = settings(max_examples=200, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def _random_normal_matrix(rng: np.random.Generator, n: int) -> np.ndarray:
    """J J^T for a random J whose rows have very different sizes (as a fit's do)."""
    jac = rng.normal(size=(n, n + 4)) * rng.lognormal(sigma=3.0, size=(n, 1))
    if rng.random() < 0.3:  # nearly dependent rows: an ill-conditioned fit
        jac[-1] = jac[0] * rng.uniform(0.5, 2) + 1e-6 * rng.normal(size=n + 4)
    return jac @ jac.T


@PROPERTY
@given(seed=seeds, n=st.integers(2, 6))
def test_scaled_eigen_agrees_with_numpy(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    a = _random_normal_matrix(rng, n)
    d = np.sqrt(np.diag(a)) * rng.uniform(1.0, 3.0, size=n)  # a running maximum: >= diag
    w, v = solvers._scaled_eigen(a.tolist(), d.tolist())
    w, v = np.array(w), np.array(v)
    scaled = a / np.outer(d, d)
    reference = np.linalg.eigvalsh(scaled)
    size = np.abs(reference).max()
    assert np.all(np.diff(w) >= 0)  # ascending
    assert np.allclose(w, reference, rtol=0, atol=1e-14 * size)
    assert np.allclose(scaled @ v, v * w, rtol=0, atol=1e-14 * size)
    assert np.allclose(v.T @ v, np.eye(n), rtol=0, atol=1e-14)


@PROPERTY
@given(seed=seeds, n=st.integers(2, 6))
def test_cholesky_solve_agrees_with_numpy(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    a = _random_normal_matrix(rng, n)
    g = rng.normal(size=n) * np.sqrt(np.diag(a))
    h = solvers._cholesky_solve(a.tolist(), g.tolist())
    d = np.sqrt(np.diag(a))
    scaled = a / np.outer(d, d)
    if h is None:  # refused: only for a nearly singular matrix
        assert np.linalg.eigvalsh(scaled)[0] < 1e-8
        return
    exact = np.linalg.solve(a, -g)
    # a backward-stable solve: the scaled residual is at rounding level
    residual = (a @ np.array(h) + g) / d
    assert np.linalg.norm(residual) <= 1e-12 * np.linalg.norm(g / d) * np.linalg.cond(scaled)
    if np.linalg.cond(scaled) < 1e6:
        assert np.allclose(h, exact, rtol=1e-9, atol=1e-12 * np.abs(exact).max())


@pytest.mark.parametrize(
    "a",
    [
        [[1.0, 1.0], [1.0, 1.0]],  # singular
        [[1.0, 2.0], [2.0, 1.0]],  # indefinite
        [[-1.0, 0.0], [0.0, -1.0]],  # negative definite
        [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]],  # singular, 3 x 3
        [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]],  # indefinite, 3 x 3
        [[0.0, 0.0], [0.0, 0.0]],  # zero
        [[math.nan, 0.0], [0.0, 1.0]],  # not a number
    ],
)
def test_cholesky_solve_refuses_what_is_not_positive_definite(a: list) -> None:
    assert solvers._cholesky_solve(a, [1.0] * len(a)) is None


@PROPERTY
@given(seed=seeds, n=st.integers(2, 5))
def test_undamped_step_from_cholesky_is_the_eigen_one(seed: int, n: int) -> None:
    """The Gauss-Newton step comes from a Cholesky solve; the damped steps from the
    eigen-decomposition. At mu -> 0 the two must meet (the same model)."""
    model = _model(seed, n)
    if model.gauss_newton is None or model.w[0] < 1e-8 * model.w[-1]:
        return
    z, fall = model.step(0.0)
    w, v, c = np.array(model.w), np.array(model.v), np.array(model.c)
    z_eigen = -(v @ (c / w))
    np.testing.assert_allclose(z, z_eigen, rtol=1e-7, atol=1e-9 * np.abs(z_eigen).max())
    assert fall == pytest.approx(float(c @ (c / w)), rel=1e-7)
    assert model.length == pytest.approx(float(np.linalg.norm(z_eigen)), rel=1e-7)
    # and the damped formula, at a tiny mu, is continuous with it
    z_small, _ = model.step(1e-12 * model.w[0])
    np.testing.assert_allclose(z_small, z, rtol=1e-6, atol=1e-9 * np.abs(z).max())


@pytest.mark.parametrize(
    ("p", "b", "d"),
    [(2.0, 0.0, 1.0), (1.0, 0.0, 2.0), (1.0, 1.0, 1.0), (1.0, 1e-300, 1.0), (0.0, 0.0, 0.0)],
)
def test_eigen2_edge_cases(p: float, b: float, d: float) -> None:
    w, v = solvers._eigen2(p, b, d)
    a = np.array([[p, b], [b, d]])
    assert w == sorted(w)
    assert np.allclose(np.array(w), np.linalg.eigvalsh(a), atol=1e-15)
    assert np.allclose(a @ np.array(v), np.array(v) * w, atol=1e-15)


def _model(seed: int, n: int) -> solvers._DampedModel:
    rng = np.random.default_rng(seed)
    k = rng.normal(size=(n + 1, n + 5)) * np.r_[1.0, rng.lognormal(sigma=2.0, size=n)][:, None]
    _, g, normal = solvers._gram(k)
    scale = [row[j] * rng.uniform(1.0, 2.0) for j, row in enumerate(normal)]
    return solvers._DampedModel(k, g, normal, scale)


def _length(model: solvers._DampedModel, mu: float) -> float:
    """|z(mu)| from a direct solve of (S + mu I) z = -c in the eigenbasis' original
    coordinates: S = V diag(w) V^T, c = V^T (scaled g) (independent of step())."""
    v, w = np.array(model.v), np.array(model.w)
    s = (v * w) @ v.T
    rhs = v @ np.array(model.c)
    return float(np.linalg.norm(np.linalg.solve(s + mu * np.eye(len(w)), -rhs)))


@PROPERTY
@given(seed=seeds, n=st.integers(2, 5), shrink=st.floats(1e-4, 3.0))
def test_damping_for_meets_the_trust_region(seed: int, n: int, shrink: float) -> None:
    model = _model(seed, n)
    radius = shrink * _length(model, 0.0)
    mu = model.damping_for(radius)
    length = _length(model, mu)
    if mu == 0.0:
        assert length <= 1.1 * radius
    else:  # the root of |z(mu)| = radius, to the 10 % the method promises
        assert 0.9 * radius <= length <= 1.1 * radius
        root = brentq(lambda m: _length(model, m) - radius, 0.0, 1e12)
        assert mu == pytest.approx(root, rel=0.5)
    z, fall = model.step(mu)
    assert math.hypot(*z) == pytest.approx(length, rel=1e-9)
    assert fall > 0


def test_step_fraction_is_the_minimum_of_the_parabola() -> None:
    """chi2 along the step: the linear model promises chi2(t) = chi2 - P (2t - t^2); the
    truth is a parabola with the same start and slope but curvature kappa P. The gain of
    the full step (t = 1) then tells kappa, and the fraction is the true minimum 1/kappa."""
    for kappa in (0.7, 0.9, 1.0, 1.2, 1.5, 1.9):
        chi, promised = 10.0, 2.0
        actual = chi - (chi - 2 * promised + kappa * promised)  # chi2(0) - chi2(1)
        gain = actual / promised
        expected = min(1.0 / kappa, solvers.STRETCH)
        assert solvers._step_fraction(gain) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "truth", "start"),
    [
        ("b1*(1 - exp(-b2*x))", {"b1": 240.0, "b2": 5.5e-4}, {"b1": 250.0, "b2": 5e-4}),
        (
            "a*exp(-(x - m)^2/(2*s^2)) + c",
            {"a": 3, "m": 1, "s": 0.7, "c": 0.2},
            {"a": 2, "m": 0.5, "s": 1, "c": 0},
        ),
    ],
)
def test_last_step_reports_true_residuals(text: str, truth: dict, start: dict) -> None:
    """When the run ends with a last step whose Jacobian is not evaluated, the residuals
    and chi2 it reports must still be those of the model at the reported parameters."""
    rng = np.random.default_rng(7)
    x = np.linspace(0.0, 4.0 if "m" in truth else 800.0, 30)
    model = model_from(text, None, start)
    p = np.array([truth[k] for k in model.params], dtype=float)
    y = model.value([x], p) + rng.normal(0, 0.05, size=x.size)
    r = cm.fit(text, x, y, p0=start)
    assert r.success, r.message
    if "m" in truth:  # this run does end with such a step (the path under test)
        assert "the last Gauss-Newton step" in r.message
    fresh = y - model.value([x], np.array([r.params[k] for k in model.params]))
    assert np.allclose(r.residuals, fresh, rtol=0, atol=1e-12 * np.abs(y).max())
    assert r.chi2 == pytest.approx(float(fresh @ fresh), rel=1e-10)


@pytest.mark.parametrize("name", nist.nonlinear_names())
def test_nist_residuals_are_those_of_the_reported_parameters(name: str) -> None:
    """Whichever way a run ends (some with a last step whose Jacobian is not evaluated),
    the residuals, chi2 and parameters reported belong together: the model evaluated
    afresh at the reported parameters gives the same residuals, to rounding of the data."""
    p = nist.load(name)
    with np.errstate(all="ignore"):
        r = cm.fit(p.model, p.xdata, p.y, p0=p.start2)
    fresh = p.y - r.predict(p.xdata)  # the model evaluated anew at r.params
    rounding = 1e-14 * np.abs(p.y).max()  # a few dozen units in the last place of y
    assert np.allclose(r.residuals, fresh, rtol=0, atol=rounding)
    # chi2 to 1e-9; Lanczos1's, 1e-25, is computed with 40 digits, beyond a double's reach
    assert r.chi2 == pytest.approx(float(fresh @ fresh), rel=1e-9, abs=len(p.y) * rounding**2)
