"""calcml's regression (module 6): chi2, linear_fit, polyfit, lstsq, fit and FitResult.

Oracles, independent of calcml:

* SciPy's ``curve_fit`` (analytic Jacobian, tight tolerances) on generated data: with
  per-point sigma and ``absolute_sigma=True`` the parameters and covariance must match;
  without sigma, ``curve_fit``'s default (errors scaled by the residual variance) must;
* textbook closed forms for the straight line (weighted and unweighted), chi2 by hand,
  ``scipy.stats.chi2.sf`` for the p-value, lmfit's AIC/BIC formulas, and NumPy's
  ``polynomial.polyfit``, ``polyfit(cov="unscaled")`` and ``linalg.lstsq``;
* statistics: with known parameters and Gaussian noise of known sigma, the reported
  1-sigma errors cover the truth about 68.3 % of the time, and chi2/dof averages 1;
* the documented contract (DESIGN.md, ``fit``'s docstring, issue 6): fixed parameters
  and bounds, honesty (success only at a minimum with finite errors), CalcmlError for
  bad input, a report that names everything, a to_dict that JSON can carry.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit

import calcml as cm
import calcml.numpy as cnp
import nist

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**32 - 1)


def _vec(d: dict) -> np.ndarray:
    return np.array(list(d.values()), dtype=float)


# -- (a) against scipy.optimize.curve_fit -------------------------------------------------------


def _exp_decay(x, a, k, c):
    return a * np.exp(-k * x) + c


def _exp_decay_jac(x, a, k, c):
    e = np.exp(-k * x)
    return np.column_stack([e, -a * x * e, np.ones_like(x)])


def _gauss(x, h, mu, w, b):
    return h * np.exp(-((x - mu) ** 2) / (2 * w**2)) + b


def _gauss_jac(x, h, mu, w, b):
    e = np.exp(-((x - mu) ** 2) / (2 * w**2))
    return np.column_stack(
        [e, h * e * (x - mu) / w**2, h * e * (x - mu) ** 2 / w**3, np.ones_like(x)]
    )


def _rational(x, a, b, c):
    return (a + b * x) / (1 + c * x)


def _rational_jac(x, a, b, c):
    d = 1 + c * x
    return np.column_stack([1 / d, x / d, -x * (a + b * x) / d**2])


#: name -> (text model, SciPy function, its Jacobian, true params, p0, x)
CASES = {
    "exponential decay": (
        "a*exp(-k*x) + c",
        _exp_decay,
        _exp_decay_jac,
        {"a": 3.0, "k": 0.8, "c": 0.5},
        {"a": 1.0, "k": 1.0, "c": 0.0},
        np.linspace(0, 5, 40),
    ),
    "gaussian peak": (
        "h*exp(-(x - mu)^2/(2*w^2)) + b",
        _gauss,
        _gauss_jac,
        {"h": 5.0, "mu": 2.0, "w": 0.6, "b": 0.3},
        {"h": 4.0, "mu": 1.8, "w": 0.8, "b": 0.0},
        np.linspace(0, 4, 50),
    ),
    "rational": (
        "(a + b*x)/(1 + c*x)",
        _rational,
        _rational_jac,
        {"a": 1.0, "b": 2.0, "c": 0.5},
        {"a": 1.0, "b": 1.0, "c": 1.0},
        np.linspace(0, 5, 30),
    ),
}


def _generated(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, f, _, truth, _, x = CASES[name]
    rng = np.random.default_rng(seed)
    sigma = 0.02 + 0.05 * rng.random(len(x))
    return x, f(x, *truth.values()) + rng.normal(0, sigma), sigma


def _curve_fit(name: str, x, y, sigma, absolute_sigma: bool):
    _, f, jac, _, p0, _ = CASES[name]
    return curve_fit(
        f,
        x,
        y,
        p0=list(p0.values()),
        sigma=sigma,
        absolute_sigma=absolute_sigma,
        jac=jac,
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
        maxfev=100_000,
    )


def _assert_same_covariance(cov: np.ndarray, reference: np.ndarray, rtol: float) -> None:
    """Relative to each entry's scale sqrt(C_ii C_jj): the standard errors to rtol
    relative, the correlations to rtol absolute."""
    d = np.sqrt(np.diag(reference))
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), d, rtol=rtol)
    np.testing.assert_allclose(cov / np.outer(d, d), reference / np.outer(d, d), atol=rtol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_curve_fit_with_absolute_sigma(name: str) -> None:
    model, *_, p0, _ = CASES[name]
    x, y, sigma = _generated(name)
    r = cm.fit(model, x, y, p0=p0, sigma=sigma)
    assert r.success, r.message
    popt, pcov = _curve_fit(name, x, y, sigma, absolute_sigma=True)
    np.testing.assert_allclose(_vec(r.params), popt, rtol=1e-7)
    assert r.varying == list(p0)
    _assert_same_covariance(r.covariance, pcov, 1e-5)
    np.testing.assert_allclose(_vec(r.errors), np.sqrt(np.diag(pcov)), rtol=1e-5)
    f = CASES[name][1]
    assert r.chi2 == pytest.approx(float(np.sum(((y - f(x, *popt)) / sigma) ** 2)), rel=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_without_sigma_matches_curve_fits_scaled_covariance(name: str) -> None:
    model, *_, p0, _ = CASES[name]
    x, y, _ = _generated(name, seed=1)
    r = cm.fit(model, x, y, p0=p0)
    assert r.success, r.message
    popt, pcov = _curve_fit(name, x, y, None, absolute_sigma=False)
    np.testing.assert_allclose(_vec(r.params), popt, rtol=1e-7)
    _assert_same_covariance(r.covariance, pcov, 1e-5)
    assert r.p_value is None  # no sigma: chi2 is a plain sum of squares


# -- (b) closed forms ---------------------------------------------------------------------------


def _line_closed_form(x, y, sigma=None) -> dict:
    """The textbook weighted straight line (Bevington ch. 6; w = 1/sigma^2, or 1 with
    the errors then scaled by s^2 = RSS / (N - 2))."""
    w = np.ones_like(x) if sigma is None else 1 / np.broadcast_to(sigma, x.shape) ** 2
    s, sx, sy = w.sum(), (w * x).sum(), (w * y).sum()
    sxx, sxy = (w * x * x).sum(), (w * x * y).sum()
    delta = s * sxx - sx**2
    m = (s * sxy - sx * sy) / delta
    c = (sxx * sy - sx * sxy) / delta
    chi = float(np.sum(w * (y - m * x - c) ** 2))
    scale = 1.0 if sigma is None else None
    factor = chi / (len(x) - 2) if scale is not None else 1.0
    cov = factor * np.array([[s, -sx], [-sx, sxx]]) / delta
    ybar = sy / s
    return {
        "m": m,
        "c": c,
        "chi2": chi,
        "cov": cov,
        "r_squared": 1 - chi / float(np.sum(w * (y - ybar) ** 2)),
    }


@pytest.mark.parametrize("weighted", [False, True], ids=["no sigma", "sigma"])
def test_linear_fit_closed_form(weighted: bool) -> None:
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(-3, 7, 25))
    sigma = 0.1 + 0.4 * rng.random(25) if weighted else None
    y = 1.7 * x - 0.4 + rng.normal(0, 0.3, 25)
    r = cm.linear_fit(x, y, sigma=sigma)
    ref = _line_closed_form(x, y, sigma)
    assert r.success and r.varying == ["m", "c"]
    assert r.params["m"] == pytest.approx(ref["m"], rel=1e-12)
    assert r.params["c"] == pytest.approx(ref["c"], rel=1e-12)
    np.testing.assert_allclose(r.covariance, ref["cov"], rtol=1e-10)
    assert r.errors["m"] == pytest.approx(math.sqrt(ref["cov"][0, 0]), rel=1e-10)
    assert r.errors["c"] == pytest.approx(math.sqrt(ref["cov"][1, 1]), rel=1e-10)
    assert r.chi2 == pytest.approx(ref["chi2"], rel=1e-10)
    assert r.chi2 == pytest.approx(cm.chi2(y, r.params["m"] * x + r.params["c"], sigma), rel=1e-12)
    assert r.dof == 23
    assert r.reduced_chi2 == pytest.approx(r.chi2 / 23, rel=1e-14)
    assert r.r_squared == pytest.approx(ref["r_squared"], rel=1e-10)
    if weighted:
        assert r.p_value == pytest.approx(scipy.stats.chi2.sf(ref["chi2"], 23), rel=1e-9)
    else:
        assert r.p_value is None
        assert r.r_squared == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2, rel=1e-10)
    n, k = 25, 2
    assert r.aic == pytest.approx(n * math.log(r.chi2 / n) + 2 * k, rel=1e-12)
    assert r.bic == pytest.approx(n * math.log(r.chi2 / n) + math.log(n) * k, rel=1e-12)
    corr = ref["cov"][0, 1] / math.sqrt(ref["cov"][0, 0] * ref["cov"][1, 1])
    np.testing.assert_allclose(r.correlation, [[1, corr], [corr, 1]], rtol=1e-10)
    np.testing.assert_allclose(r.predict(x), r.params["m"] * x + r.params["c"], rtol=1e-14)
    np.testing.assert_allclose(r.residuals, y - r.predict(x), atol=1e-12)


def test_chi2_by_hand() -> None:
    y = np.array([1.0, 2.0, 4.0, 3.5])
    model = np.array([1.2, 1.9, 3.7, 3.5])
    sigma = np.array([0.1, 0.2, 0.3, 0.5])
    assert cm.chi2(y, model) == pytest.approx(0.04 + 0.01 + 0.09, rel=1e-12)
    assert cm.chi2(y, model, sigma) == pytest.approx(4 + 0.25 + 1 + 0, rel=1e-12)
    assert cm.chi2(y, model, 0.1) == pytest.approx(14.0, rel=1e-12)
    assert cm.chi2(y, 2.0) == pytest.approx(1 + 0 + 4 + 2.25, rel=1e-12)  # a constant model


def test_fit_statistics_by_their_formulas() -> None:
    x, y, sigma = _generated("exponential decay", seed=5)
    r = cm.fit("a*exp(-k*x) + c", x, y, p0={"a": 1, "k": 1, "c": 0}, sigma=sigma)
    n, k = len(x), 3
    model = _exp_decay(x, *r.params.values())
    assert r.chi2 == pytest.approx(float(np.sum(((y - model) / sigma) ** 2)), rel=1e-10)
    assert r.dof == n - k and r.n_data == n
    assert r.reduced_chi2 == pytest.approx(r.chi2 / (n - k), rel=1e-14)
    assert r.p_value == pytest.approx(scipy.stats.chi2.sf(r.chi2, n - k), rel=1e-9)
    assert r.aic == pytest.approx(n * math.log(r.chi2 / n) + 2 * k, rel=1e-12)
    assert r.bic == pytest.approx(n * math.log(r.chi2 / n) + math.log(n) * k, rel=1e-12)
    w = 1 / sigma**2
    ybar = np.sum(w * y) / np.sum(w)
    assert r.r_squared == pytest.approx(1 - r.chi2 / np.sum(w * (y - ybar) ** 2), rel=1e-10)
    d = np.sqrt(np.diag(r.covariance))
    np.testing.assert_allclose(r.correlation, r.covariance / np.outer(d, d), rtol=1e-14)
    np.testing.assert_allclose(np.diag(r.correlation), 1.0, rtol=1e-14)
    np.testing.assert_allclose(r.predict(x), model, rtol=1e-14)
    xn = np.array([0.25, 7.0])
    np.testing.assert_allclose(r.predict(xn), _exp_decay(xn, *r.params.values()), rtol=1e-14)
    np.testing.assert_allclose(r.residuals, y - model, atol=1e-12)
    assert len(r.rows) == r.nit + 1 == len(r.history)
    assert r.rows[-1]["chi2"] == pytest.approx(r.chi2, rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["no sigma", "sigma"])
def test_polyfit_matches_numpy(weighted: bool) -> None:
    rng = np.random.default_rng(4)
    x = np.linspace(-1, 1, 40)
    sigma = 0.05 + 0.1 * rng.random(40) if weighted else None
    y = 0.5 - 1.2 * x + 0.8 * x**2 + 2.0 * x**3 + rng.normal(0, 0.1, 40)
    r = cm.polyfit(x, y, 3, sigma=sigma)
    assert r.success and list(r.params) == ["b0", "b1", "b2", "b3"]
    w = None if sigma is None else 1 / sigma
    ref = np.polynomial.polynomial.polyfit(x, y, 3, w=w)
    np.testing.assert_allclose(_vec(r.params), ref, rtol=1e-11)
    # numpy.polyfit (highest power first) gives the covariance: unscaled with weights
    # (absolute errors), scaled by RSS / (N - deg - 1) without.
    if weighted:
        _, cov = np.polyfit(x, y, 3, w=w, cov="unscaled")
    else:
        _, cov = np.polyfit(x, y, 3, cov=True)
    np.testing.assert_allclose(r.covariance, cov[::-1, ::-1], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        r.predict(x), np.polynomial.polynomial.polyval(x, ref), rtol=1e-11, atol=1e-13
    )


def test_lstsq_with_a_design_matrix() -> None:
    rng = np.random.default_rng(8)
    x = np.linspace(0, 6, 30)
    design = np.column_stack([np.ones_like(x), x, np.sin(x)])
    y = design @ [1.0, -0.3, 2.0] + rng.normal(0, 0.1, 30)
    r = cm.lstsq(design, y, names=["c", "slope", "amp"])
    assert r.success and list(r.params) == ["c", "slope", "amp"]
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(_vec(r.params), beta, rtol=1e-12)
    rss = float(np.sum((y - design @ beta) ** 2))
    assert r.chi2 == pytest.approx(rss, rel=1e-10)
    assert r.dof == 27
    cov = rss / 27 * np.linalg.inv(design.T @ design)
    np.testing.assert_allclose(r.covariance, cov, rtol=1e-9)
    np.testing.assert_allclose(r.predict(design), design @ beta, rtol=1e-12)
    # an intercept column: R^2 is centred
    assert r.r_squared == pytest.approx(1 - rss / np.sum((y - y.mean()) ** 2), rel=1e-10)
    # with sigma: absolute errors (A^T W A)^-1
    sigma = 0.05 + 0.1 * rng.random(30)
    rw = cm.lstsq(design, y, sigma=sigma)
    aw = design / sigma[:, None]
    np.testing.assert_allclose(rw.covariance, np.linalg.inv(aw.T @ aw), rtol=1e-9)
    assert list(rw.params) == ["b0", "b1", "b2"]


def test_fit_of_a_linear_model_agrees_with_linear_fit() -> None:
    rng = np.random.default_rng(2)
    x = np.linspace(0, 10, 15)
    sigma = 0.2 + rng.random(15)
    y = 3 * x - 2 + rng.normal(0, sigma)
    for s in (None, sigma):
        line = cm.linear_fit(x, y, sigma=s)
        r = cm.fit("m*x + c", x, y, p0={"m": 0, "c": 0}, sigma=s)
        assert r.success
        np.testing.assert_allclose(_vec(r.params), _vec(line.params), rtol=1e-10)
        np.testing.assert_allclose(r.covariance, line.covariance, rtol=1e-7)
        assert r.chi2 == pytest.approx(line.chi2, rel=1e-10)
        assert r.r_squared == pytest.approx(line.r_squared, rel=1e-10)


def test_several_independent_variables() -> None:
    rng = np.random.default_rng(6)
    xs = rng.random((25, 2))
    y = 1 + 2 * xs[:, 0] - 3 * xs[:, 1] + rng.normal(0, 0.01, 25)
    r = cm.fit("a + b*x1 + c*x2", xs, y, p0=[0, 0, 0])
    ref = cm.lstsq(np.column_stack([np.ones(25), xs]), y)
    assert r.success
    np.testing.assert_allclose(_vec(r.params), _vec(ref.params), rtol=1e-9)
    as_dict = {"x1": xs[:3, 0], "x2": xs[:3, 1]}
    np.testing.assert_allclose(r.predict(xs[:3]), r.predict(as_dict), rtol=1e-15)
    np.testing.assert_allclose(r.predict(xs[:3]), ref.predict(np.c_[np.ones(3), xs[:3]]))


# -- (c) callable models ------------------------------------------------------------------------


def test_callable_with_calcml_numpy_equals_the_text_model() -> None:
    x, y, sigma = _generated("gaussian peak", seed=3)
    p0 = CASES["gaussian peak"][4]
    text = cm.fit(CASES["gaussian peak"][0], x, y, p0=p0, sigma=sigma)

    def peak(x, h, mu, w, b):
        return h * cnp.exp(-((x - mu) ** 2) / (2 * w**2)) + b

    r = cm.fit(peak, x, y, p0=p0, sigma=sigma)
    assert r.success and text.success
    assert list(r.params) == ["h", "mu", "w", "b"]
    np.testing.assert_allclose(_vec(r.params), _vec(text.params), rtol=1e-10)
    np.testing.assert_allclose(r.covariance, text.covariance, rtol=1e-8)
    assert r.chi2 == pytest.approx(text.chi2, rel=1e-10)
    assert not any("finite differences" in n for n in r.notes)
    np.testing.assert_allclose(r.predict(x), text.predict(x), rtol=1e-12)


def test_callable_with_plain_numpy_uses_finite_differences() -> None:
    x, y, sigma = _generated("exponential decay", seed=4)
    text = cm.fit("a*exp(-k*x) + c", x, y, p0={"a": 1, "k": 1, "c": 0}, sigma=sigma)
    r = cm.fit(_exp_decay, x, y, p0=[1, 1, 0], sigma=sigma)  # np.exp: not traceable
    assert r.success, r.message
    assert list(r.params) == ["a", "k", "c"]
    assert any("finite differences" in n for n in r.notes), r.notes
    np.testing.assert_allclose(_vec(r.params), _vec(text.params), rtol=1e-7)
    np.testing.assert_allclose(_vec(r.errors), _vec(text.errors), rtol=1e-5)


def test_callable_with_star_params_names_them_p0_p1() -> None:
    x, y, sigma = _generated("exponential decay", seed=4)
    r = cm.fit(lambda x, *p: p[0] * cnp.exp(-p[1] * x) + p[2], x, y, p0=[1, 1, 0], sigma=sigma)
    assert r.success and list(r.params) == ["p0", "p1", "p2"]


# -- (d) fixed parameters and bounds -------------------------------------------------------------

DECAY = "b1*exp(-b2*x) + b3"


def _decay_data(seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 4, 30)
    return x, 2 * np.exp(-0.5 * x) + 0.3 + rng.normal(0, 0.01, 30)


@pytest.mark.parametrize("fixed", [["b2"], ("b2",), {"b2": None}])
def test_fixed_parameter_keeps_its_start(fixed) -> None:
    x, y = _decay_data()
    r = cm.fit(DECAY, x, y, p0={"b1": 1, "b2": 0.7, "b3": 0}, fixed=fixed)
    assert r.success, r.message
    assert r.params["b2"] == 0.7
    assert r.errors["b2"] is None
    assert r.varying == ["b1", "b3"] and r.covariance.shape == (2, 2)
    assert r.dof == 30 - 2
    same = cm.fit("b1*exp(-0.7*x) + b3", x, y, p0={"b1": 1, "b3": 0})
    np.testing.assert_allclose([r.params["b1"], r.params["b3"]], _vec(same.params), rtol=1e-9)
    np.testing.assert_allclose(r.covariance, same.covariance, rtol=1e-7)
    assert "(fixed)" in r.report()
    json.dumps(r.to_dict())


def test_fixed_at_a_given_value() -> None:
    x, y = _decay_data()
    r = cm.fit(DECAY, x, y, p0={"b1": 1, "b2": 1, "b3": 0}, fixed={"b2": 0.5})
    assert r.success and r.params["b2"] == 0.5 and r.errors["b2"] is None
    same = cm.fit("b1*exp(-0.5*x) + b3", x, y, p0={"b1": 1, "b3": 0})
    np.testing.assert_allclose([r.params["b1"], r.params["b3"]], _vec(same.params), rtol=1e-9)
    assert all(len(h) == 2 for h in r.history)  # only the varying ones move


def test_inactive_bound_changes_nothing() -> None:
    x, y = _decay_data()
    p0 = {"b1": 1, "b2": 1, "b3": 0.5}
    free = cm.fit(DECAY, x, y, p0=p0)
    r = cm.fit(DECAY, x, y, p0=p0, bounds={"b3": (0.0, 1.0), "b2": (0.1, 5)})
    assert r.success and free.success
    np.testing.assert_allclose(_vec(r.params), _vec(free.params), rtol=1e-8)
    assert not any("bound" in n for n in r.notes)


def _bounded_fit(method: str = "lm") -> cm.FitResult:
    """b3's best value is about 0.3; it may not go below 0.4."""
    x, y = _decay_data()
    return cm.fit(
        DECAY, x, y, p0={"b1": 1, "b2": 1, "b3": 0.5}, bounds={"b3": (0.4, 1.0)}, method=method
    )


@pytest.mark.parametrize("method", ["lm", "gauss_newton", "gradient_descent"])
def test_parameter_held_by_its_bound_ends_at_it_with_a_note(method: str) -> None:
    r = _bounded_fit(method)
    assert r.params["b3"] == 0.4
    assert all(0.4 <= h[2] <= 1.0 for h in r.history)  # never left the box
    assert any("b3" in n and "bound" in n for n in r.notes), r.notes
    assert "at its bound" in r.report()
    assert r.bounds == {"b3": (0.4, 1.0)}
    if r.success:
        assert all(math.isfinite(e) for e in r.errors.values())


def test_fit_held_by_a_bound_converges_there() -> None:
    """The minimum of chi2 with b3 >= 0.4 is at b3 = 0.4 (found by LM and by gradient
    descent alike): the run should stop there and say so, with the note, rather than spend
    its whole iteration budget and report "not converged: start nearer the answer"."""
    r = _bounded_fit("lm")
    assert r.status != "max_iterations", f"{r.nit} iterations: {r.message}"
    assert r.success, r.message
    x, y = _decay_data()
    ref = cm.fit("b1*exp(-b2*x) + 0.4", x, y, p0={"b1": 1, "b2": 1})  # the constrained fit
    np.testing.assert_allclose([r.params["b1"], r.params["b2"]], _vec(ref.params), rtol=1e-6)


# -- (e) properties and statistics ---------------------------------------------------------------


@PROPERTY
@given(seed=seeds, n=st.integers(3, 40), weighted=st.booleans())
def test_linear_fit_closed_form_property(seed: int, n: int, weighted: bool) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-5, 5, n)
    m, c = rng.uniform(-3, 3, 2)
    sigma = rng.uniform(0.05, 1.0, n) if weighted else None
    y = m * x + c + rng.normal(0, 0.3, n)
    r = cm.linear_fit(x, y, sigma=sigma)
    ref = _line_closed_form(x, y, sigma)
    assert r.success
    assert r.params["m"] == pytest.approx(ref["m"], rel=1e-9, abs=1e-12)
    assert r.params["c"] == pytest.approx(ref["c"], rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(r.covariance, ref["cov"], rtol=1e-8, atol=1e-14)


@PROPERTY
@given(seed=seeds)
def test_noise_free_exponential_is_recovered(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, k = rng.uniform(0.5, 5), rng.uniform(0.1, 2)
    x = np.linspace(0, 3 / k, 15)
    y = a * np.exp(-k * x)
    p0 = {"a": a * rng.uniform(0.5, 2), "k": k * rng.uniform(0.5, 2)}
    r = cm.fit("a*exp(-k*x)", x, y, p0=p0)
    assert r.success, r.message
    np.testing.assert_allclose([r.params["a"], r.params["k"]], [a, k], rtol=1e-9)


@PROPERTY
@given(seed=seeds, s=st.floats(0.01, 10))
def test_uniform_sigma_scales_the_errors(seed: int, s: float) -> None:
    """One sigma for all points: the parameters do not move; the errors are s times the
    unscaled ones; without sigma they are those times sqrt(RSS / dof)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 4, 20)
    y = 2 * np.exp(-0.7 * x) + 0.1 + rng.normal(0, 0.02, 20)
    p0 = {"a": 1, "k": 1, "c": 0}
    bare = cm.fit("a*exp(-k*x) + c", x, y, p0=p0)
    one = cm.fit("a*exp(-k*x) + c", x, y, p0=p0, sigma=1.0)
    scaled = cm.fit("a*exp(-k*x) + c", x, y, p0=p0, sigma=s)
    assert bare.success and one.success and scaled.success
    # the same minimum, to a negligible fraction of the standard errors
    gap = np.abs(_vec(scaled.params) - _vec(bare.params))
    assert np.all(gap <= 1e-5 * _vec(bare.errors)), gap / _vec(bare.errors)
    np.testing.assert_allclose(scaled.covariance, s**2 * one.covariance, rtol=1e-6)
    np.testing.assert_allclose(bare.covariance, one.covariance * bare.chi2 / bare.dof, rtol=1e-6)
    assert scaled.chi2 == pytest.approx(bare.chi2 / s**2, rel=1e-8)


@PROPERTY
@given(seed=seeds, degree=st.integers(0, 4))
def test_polyfit_property(seed: int, degree: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, 30)
    y = rng.normal(0, 1, 30)
    r = cm.polyfit(x, y, degree)
    assert r.success and r.dof == 30 - degree - 1
    ref = np.polynomial.polynomial.polyfit(x, y, degree)
    np.testing.assert_allclose(_vec(r.params), ref, rtol=1e-8, atol=1e-10)


@PROPERTY
@given(seed=seeds, method=st.sampled_from(["lm", "gauss_newton", "gradient_descent"]))
def test_every_method_lowers_chi2_and_success_has_finite_errors(seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 5, 25)
    y = rng.uniform(1, 4) * np.exp(-rng.uniform(0.2, 1.5) * x) + rng.normal(0, 0.05, 25)
    r = cm.fit("a*exp(-k*x)", x, y, p0=rng.uniform(0.2, 3, 2), method=method, maxiter=3000)
    chis = r.chi2_history
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(chis))
    assert r.chi2 <= r.chi2_history[0]
    if r.success:
        assert all(math.isfinite(e) for e in r.errors.values())
        best = cm.fit("a*exp(-k*x)", x, y, p0=[r.params["a"], r.params["k"]])
        assert r.chi2 == pytest.approx(best.chi2, rel=1e-6)
    else:
        assert r.message and r.status != "converged"


def test_errors_cover_the_truth_about_68_percent_of_the_time() -> None:
    """500 data sets from y = 2 exp(-0.7 x) + N(0, 0.05^2), each fitted with sigma given:
    each parameter's |p_hat - p_true| <= its error in about 68.3 % of them (binomial
    standard deviation 2.1 %, so 0.62..0.75 is a 3-sigma band), and chi2/dof averages 1
    (standard deviation of the mean sqrt(2/18/500) = 0.015). Without sigma the errors
    come from the residuals and cover about 67 % (Student's t with 18 dof)."""
    rng = np.random.default_rng(20240606)
    x = np.linspace(0, 4, 20)
    truth = np.array([2.0, 0.7])
    sigma = 0.05
    hits, hits_bare, reduced = np.zeros(2), np.zeros(2), []
    runs = 500
    for _ in range(runs):
        y = truth[0] * np.exp(-truth[1] * x) + rng.normal(0, sigma, x.size)
        r = cm.fit("a*exp(-k*x)", x, y, p0={"a": 1, "k": 1}, sigma=sigma)
        assert r.success, r.message
        hits += np.abs(_vec(r.params) - truth) <= _vec(r.errors)
        reduced.append(r.reduced_chi2)
        bare = cm.fit("a*exp(-k*x)", x, y, p0={"a": 1, "k": 1})
        hits_bare += np.abs(_vec(bare.params) - truth) <= _vec(bare.errors)
    coverage, coverage_bare = hits / runs, hits_bare / runs
    assert np.all((coverage > 0.62) & (coverage < 0.75)), coverage
    assert np.all((coverage_bare > 0.61) & (coverage_bare < 0.74)), coverage_bare
    assert 0.95 < np.mean(reduced) < 1.05, np.mean(reduced)


# -- (f) honesty ----------------------------------------------------------------------------------


def _assert_never_infinite_success(r: cm.FitResult) -> None:
    if r.success:
        assert all(e is None or math.isfinite(e) for e in r.errors.values()), r.errors
        assert np.all(np.isfinite(r.covariance))


@pytest.mark.parametrize("model", ["a*exp(b - c)*x", "a*x + b*c", "(a + b)*x + c"])
def test_redundant_parameters_fail_with_a_covariance_message(model: str) -> None:
    """Only b - c (or b c, or a + b) is determined: J has not full rank."""
    x, y = _decay_data()
    r = cm.fit(model, x, y, p0=[1.0, 1.0, 1.0])
    assert not r.success
    assert r.status == "singular"
    assert "covariance" in r.message
    assert "FAILED" in r.report()


def test_callable_parameter_that_changes_nothing() -> None:
    x, y = _decay_data()

    def line(x, a, b):
        return a * x + 0 * b

    r = cm.fit(line, x, y, p0={"a": 1, "b": 1})
    assert not r.success and r.status == "singular"
    assert "covariance" in r.message
    _assert_never_infinite_success(r)


def test_iteration_limit_is_not_success() -> None:
    x, y = _decay_data()
    for method in ("lm", "gauss_newton", "gradient_descent"):
        r = cm.fit(DECAY, x, y, p0={"b1": 1, "b2": 2, "b3": 0}, maxiter=2, method=method)
        assert not r.success, method
        assert r.status == "max_iterations", (method, r.status)
        assert "iterations" in r.message
        assert r.nit == 2


@pytest.mark.parametrize(
    "name,start",
    [("Misra1a", "start1"), ("BoxBOD", "start1"), ("MGH10", "start1"), ("Rat43", "start1")],
)
def test_gradient_descent_on_a_hard_problem_admits_failure(name: str, start: str) -> None:
    p = nist.load(name)
    with np.errstate(all="ignore"):
        r = cm.fit(p.model, p.xdata, p.y, p0=getattr(p, start), method="gradient_descent")
    worst = min(nist.lre(r.params[k], v) for k, v in p.certified.items())
    assert worst < 6  # it does not get to the certified digits ...
    assert not r.success  # ... and says so
    assert r.message and r.status != "converged"
    _assert_never_infinite_success(r)


def test_gradient_descent_success_is_right() -> None:
    """Where the course's method does converge (DanWood, two parameters), it is right."""
    p = nist.load("DanWood")
    r = cm.fit(p.model, p.x, p.y, p0=p.start2, method="gradient_descent")
    assert r.success, r.message
    for k, v in p.certified.items():
        assert nist.lre(r.params[k], v) >= 6


def test_scipy_boxbod_trap_is_not_a_success() -> None:
    """SciPy's curve_fit calls BoxBOD from its first start converged at a wrong answer
    with infinite errors; calcml must never do that: it either reaches NIST's certified
    answer (as it does now) or says it failed."""
    p = nist.load("BoxBOD")
    f = lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x))  # noqa: E731
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        popt, pcov, *_, ier = curve_fit(f, p.x, p.y, p0=list(p.start1.values()), full_output=True)
        r = cm.fit(p.model, p.x, p.y, p0=p.start1)
    # the trap: SciPy's flag says converged (ier 1-4), its answer is far off and infinite
    assert ier in (1, 2, 3, 4) and not np.isfinite(np.diag(pcov)).all()
    assert nist.lre(popt[0], p.certified["b1"]) < 1
    _assert_never_infinite_success(r)
    if r.success:
        for k, v in p.certified.items():
            assert nist.lre(r.params[k], v) >= 6
            assert nist.lre(r.errors[k], p.std[k]) >= 4
    else:
        assert r.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: cm.fit("a*exp(-b*x)", [0.0, 1.0], [2.0, 1.0], p0=[1, 1]),
        lambda: cm.linear_fit([0.0, 1.0], [1.0, 3.0]),
        lambda: cm.polyfit([0.0, 1.0, 2.0], [1.0, 3.0, 2.0], 2),
        lambda: cm.lstsq(np.eye(2), [1.0, 2.0]),
    ],
    ids=["fit", "linear_fit", "polyfit", "lstsq"],
)
def test_no_degrees_of_freedom_without_sigma_is_not_success_with_nan_errors(make) -> None:
    """As many parameters as points and no sigma: the residual variance that scales the
    errors is 0/0, so the covariance cannot be estimated. Issue 6: such a fit is
    success=False with a message, never a success with errors that are not finite."""
    r = make()
    assert r.dof == 0
    _assert_never_infinite_success(r)


def test_no_degrees_of_freedom_with_sigma_is_fine() -> None:
    r = cm.linear_fit([0.0, 1.0], [1.0, 3.0], sigma=0.1)
    assert r.success
    assert r.errors["c"] == pytest.approx(0.1)
    assert r.errors["m"] == pytest.approx(math.sqrt(2) * 0.1)


def test_linearly_dependent_design_fails_with_a_message() -> None:
    x = np.linspace(0, 1, 10)
    r = cm.lstsq(np.column_stack([x, 2 * x]), x)
    assert not r.success and "linearly dependent" in r.message
    r = cm.linear_fit([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert not r.success and r.message
    assert "FAILED" in r.report()


# -- (g) bad input ---------------------------------------------------------------------------------

_X = np.linspace(0, 4, 10)
_Y = 2 * _X + 1
_LINE = "a*x + b"

#: name -> (call, words its message must hold (lower case), error class)
BAD_INPUT: dict[str, tuple[Callable[[], object], tuple[str, ...], type]] = {
    "x shorter than y": (lambda: cm.fit(_LINE, _X[:5], _Y, p0=[1, 1]), ("5", "10"), cm.CalcmlError),
    "nan in y": (
        lambda: cm.fit(_LINE, _X, np.r_[_Y[:-1], np.nan], p0=[1, 1]),
        ("y", "finite"),
        cm.CalcmlError,
    ),
    "inf in y": (
        lambda: cm.fit(_LINE, _X, np.r_[np.inf, _Y[1:]], p0=[1, 1]),
        ("y", "finite"),
        cm.CalcmlError,
    ),
    "nan in x": (
        lambda: cm.fit(_LINE, np.r_[_X[:-1], np.nan], _Y, p0=[1, 1]),
        ("x", "finite"),
        cm.CalcmlError,
    ),
    "sigma zero": (lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], sigma=0), ("sigma",), cm.CalcmlError),
    "sigma negative": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], sigma=-np.ones(10)),
        ("sigma",),
        cm.CalcmlError,
    ),
    "sigma nan": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], sigma=np.r_[np.ones(9), np.nan]),
        ("sigma",),
        cm.CalcmlError,
    ),
    "sigma wrong length": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], sigma=np.ones(9)),
        ("sigma", "10"),
        cm.CalcmlError,
    ),
    "unknown method": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], method="newton"),
        ("method", "newton"),
        cm.CalcmlError,
    ),
    "p0 missing a parameter": (
        lambda: cm.fit(_LINE, _X, _Y, p0={"a": 1}),
        ("p0", "b"),
        cm.CalcmlError,
    ),
    "p0 names an unknown one": (
        lambda: cm.fit(_LINE, _X, _Y, p0={"a": 1, "b": 1, "zeta": 2}),
        ("zeta",),
        cm.CalcmlError,
    ),
    "p0 too short": (lambda: cm.fit(_LINE, _X, _Y, p0=[1]), ("p0",), cm.CalcmlError),
    "p0 not numbers": (lambda: cm.fit(_LINE, _X, _Y, p0=["a", 1]), ("p0",), cm.CalcmlError),
    "p0 nan": (lambda: cm.fit(_LINE, _X, _Y, p0=[np.nan, 1]), ("p0", "finite"), cm.CalcmlError),
    "model does not parse": (lambda: cm.fit("a*x + * b", _X, _Y, p0=[1, 1]), (), cm.ParseError),
    "model without x": (
        lambda: cm.fit("a*t + b", _X, _Y, p0=[1, 1]),
        ("independent variable",),
        cm.CalcmlError,
    ),
    "model without parameters": (
        lambda: cm.fit("2*x", _X, _Y, p0=[]),
        ("no parameters",),
        cm.CalcmlError,
    ),
    "model not a model": (lambda: cm.fit(3, _X, _Y, p0=[1]), ("model",), cm.CalcmlError),
    "empty data": (lambda: cm.fit(_LINE, [], [], p0=[1, 1]), ("y",), cm.CalcmlError),
    "y not numbers": (lambda: cm.fit(_LINE, _X, ["a"] * 10, p0=[1, 1]), ("y",), cm.CalcmlError),
    "x of 3 dimensions": (
        lambda: cm.fit(_LINE, np.ones((10, 1, 1)), _Y, p0=[1, 1]),
        ("x",),
        cm.CalcmlError,
    ),
    "two x columns for a model in x": (
        lambda: cm.fit(_LINE, np.ones((10, 2)), _Y, p0=[1, 1]),
        ("column",),
        cm.CalcmlError,
    ),
    "start where the model is undefined": (
        lambda: cm.fit("log(a*x + 1)", _X, _Y, p0=[-1]),
        ("finite", "p0"),
        cm.CalcmlError,
    ),
    "fix an unknown parameter": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], fixed=["z"]),
        ("z",),
        cm.CalcmlError,
    ),
    "fix every parameter": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], fixed=["a", "b"]),
        ("fixed",),
        cm.CalcmlError,
    ),
    "bound on an unknown parameter": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], bounds={"z": (0, 1)}),
        ("z",),
        cm.CalcmlError,
    ),
    "start outside its bounds": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], bounds={"a": (2, 3)}),
        ("a", "bounds"),
        cm.CalcmlError,
    ),
    "bounds the wrong way round": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], bounds={"a": (3, 2)}),
        ("a", "low"),
        cm.CalcmlError,
    ),
    "a bound that is not a pair": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], bounds={"a": 5}),
        ("a", "pair"),
        cm.CalcmlError,
    ),
    "callable that raises": (
        lambda: cm.fit(lambda x, a: 1 / 0, _X, _Y, p0=[1]),
        ("zerodivisionerror",),
        cm.CalcmlError,
    ),
    "callable of the wrong shape": (
        lambda: cm.fit(lambda x, a: np.ones(3) * a, _X, _Y, p0=[1]),
        ("shape",),
        cm.CalcmlError,
    ),
    "callable without p0": (
        lambda: cm.fit(lambda x, *p: p[0] * x, _X, _Y, p0=None),
        ("p0",),
        cm.CalcmlError,
    ),
    "maxiter not a number": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], maxiter="many"),
        ("maxiter",),
        cm.CalcmlError,
    ),
    "maxiter negative": (
        lambda: cm.fit(_LINE, _X, _Y, p0=[1, 1], maxiter=-1),
        ("maxiter",),
        cm.CalcmlError,
    ),
    "linear_fit lengths": (lambda: cm.linear_fit(_X[:3], _Y), ("3", "10"), cm.CalcmlError),
    "linear_fit nan": (
        lambda: cm.linear_fit(_X, np.r_[_Y[:-1], np.nan]),
        ("y", "finite"),
        cm.CalcmlError,
    ),
    "linear_fit sigma zero": (lambda: cm.linear_fit(_X, _Y, sigma=0.0), ("sigma",), cm.CalcmlError),
    "polyfit negative degree": (lambda: cm.polyfit(_X, _Y, -1), ("degree",), cm.CalcmlError),
    "polyfit fractional degree": (lambda: cm.polyfit(_X, _Y, 1.5), ("degree",), cm.CalcmlError),
    "polyfit lengths": (lambda: cm.polyfit(_X, _Y[:4], 1), ("10", "4"), cm.CalcmlError),
    "lstsq rows": (lambda: cm.lstsq(np.ones((3, 2)), _Y), ("3", "10"), cm.CalcmlError),
    "lstsq names": (
        lambda: cm.lstsq(np.ones((10, 2)), _Y, names=["a"]),
        ("names",),
        cm.CalcmlError,
    ),
    "chi2 sigma negative": (lambda: cm.chi2(_Y, _Y, sigma=-1), ("sigma",), cm.CalcmlError),
    "chi2 lengths": (lambda: cm.chi2(_Y, _Y[:3]), ("3", "10"), cm.CalcmlError),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_a_calcml_error(name: str) -> None:
    call, words, kind = BAD_INPUT[name]
    with pytest.raises(cm.CalcmlError) as info:
        call()
    assert isinstance(info.value, kind), type(info.value)
    message = str(info.value).lower()
    assert message
    missing = [w for w in words if w not in message]
    assert not missing, f"{missing} not in: {info.value}"


# -- (h) report and to_dict ------------------------------------------------------------------------


def test_report_names_everything() -> None:
    x, y, sigma = _generated("gaussian peak", seed=9)
    r = cm.fit(CASES["gaussian peak"][0], x, y, p0=CASES["gaussian peak"][4], sigma=sigma)
    text = r.report()
    assert r.success and "success" in text.splitlines()[0] and "FAILED" not in text
    for name in r.params:
        assert f"    {name}" in text
    assert text.count("+/-") == len(r.params)
    assert "chi-square" in text
    assert f"{r.chi2:.8g}" in text
    assert "p-value" in text
    assert "absolute" in text
    bare = cm.fit(CASES["gaussian peak"][0], x, y, p0=CASES["gaussian peak"][4]).report()
    assert "chi-square (RSS)" in bare and "scaled by the residual variance" in bare
    assert "p-value" not in bare


@pytest.mark.parametrize(
    "make",
    [
        lambda: cm.fit("a*exp(b - c)*x", _X, _Y, p0=[1, 1, 1]),
        lambda: cm.fit(_LINE, _X, _Y + np.sin(_X), p0=[5, -5], maxiter=1),
        lambda: cm.linear_fit([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]),
    ],
    ids=["singular", "iteration limit", "linear singular"],
)
def test_failed_report_says_failed(make) -> None:
    r = make()
    assert not r.success
    text = r.report()
    assert "FAILED" in text.splitlines()[0]
    assert r.message in text
    for name in r.params:
        assert name in text
    assert "FAILED" in repr(r)


def _results() -> dict[str, cm.FitResult]:
    x, y, sigma = _generated("exponential decay", seed=12)
    decay, p0 = "a*exp(-k*x) + c", {"a": 1, "k": 1, "c": 0}
    return {
        "fit with sigma": cm.fit(decay, x, y, p0=p0, sigma=sigma),
        "fit without sigma": cm.fit(decay, x, y, p0=p0),
        "fixed": cm.fit(decay, x, y, p0=p0, fixed=["k"]),
        "linear_fit": cm.linear_fit(x, y),
        "polyfit": cm.polyfit(x, y, 2, sigma=sigma),
        "lstsq": cm.lstsq(np.column_stack([np.ones_like(x), x]), y),
        "singular": cm.fit("a*exp(b - c)*x", x, y, p0=[1, 1, 1]),
        "linear singular": cm.linear_fit(np.ones(5), np.arange(5.0)),
        "iteration limit": cm.fit(decay, x, y, p0=p0, maxiter=1),
    }


def test_to_dict_is_json() -> None:
    for name, r in _results().items():
        d = r.to_dict()
        back = json.loads(json.dumps(d))
        assert back["success"] == r.success, name
        assert back["params"].keys() == r.params.keys(), name
        assert back["dof"] == r.dof and back["message"] == r.message, name
        if r.success:
            assert back["params"] == pytest.approx(r.params), name
            np.testing.assert_allclose(back["covariance"], r.covariance, rtol=1e-15)


def test_to_dict_is_strict_json() -> None:
    """ "Plain numbers, lists and dicts (for JSON)": JSON has no NaN or Infinity (a browser's
    JSON.parse rejects them), so a failed fit's infinite errors must not leak into it as
    such (to_dict already turns a non-finite reduced_chi2, R^2, AIC, BIC into None)."""
    bad = {}
    for name, r in _results().items():
        try:
            json.dumps(r.to_dict(), allow_nan=False)
        except ValueError as err:
            bad[name] = str(err)
    assert not bad, bad
