"""Fitting any model to data by minimising chi-squared: :func:`fit`.

>>> import numpy as np
>>> x = np.array([1.0, 2, 3, 4, 5, 6])
>>> y = 5.0 * (1 - np.exp(-0.4 * x)) + np.array([0.01, -0.02, 0.015, 0.0, -0.01, 0.005])
>>> r = fit("b1*(1 - exp(-b2*x))", x, y, p0={"b1": 1, "b2": 1})
>>> r.success, {k: round(v, 3) for k, v in r.params.items()}
(True, {'b1': 5.001, 'b2': 0.4})
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .linear import as_sigma
from .model import Model, model_from
from .result import FitResult
from .solvers import (
    EPS,
    SOLVERS,
    STATIONARY,
    Outcome,
    Problem,
    Tolerances,
    _gram,
    _inverse,
    _scaled_eigen,
    _stationarity,
)


def fit(
    model: Any,
    x: Any,
    y: Any,
    p0: Any,
    sigma: Any = None,
    method: str = "lm",
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fixed: Any = None,
    maxiter: int | None = None,
) -> FitResult:
    """Fit ``model`` to the data (x, y) by least squares, starting from ``p0``.

    Parameters
    ----------
    model : str, sympy.Expr or callable
        Text such as ``"b1*(1 - exp(-b2*x))"``: the independent variable is ``x`` (or
        ``x1, x2, ...``, or the keys of ``x`` when it is a dict) and every other name is
        a parameter. Or a function ``f(x, *params)`` written with ``calcml.numpy`` (its
        Jacobian then comes from automatic differentiation).
    x : array_like or dict
        The independent variable: an array (N,), an array (N, k) whose columns are
        x1..xk, or a dict name -> array (N,).
    y : array_like
        The N measured values.
    p0 : dict or sequence
        Starting values: a dict name -> value, or a sequence in the parameters' order
        (names sorted naturally: b1, b2, ..., b10).
    sigma : float or array_like, optional
        Standard deviations of y. Without it, the standard errors are scaled by the
        residual variance (as NIST certifies them); with it they are absolute and chi2,
        its p-value and the reduced chi2 have their statistical meaning.
    method : {"lm", "gauss_newton", "gradient_descent"}
        Levenberg-Marquardt (default), Gauss-Newton, or the course's gradient descent.
    bounds : dict, optional
        name -> (low, high) for parameters that must stay in a range.
    fixed : iterable of names or dict, optional
        Parameters held at their starting value (or at the value the dict gives).
    maxiter : int, optional
        The iteration limit (1000; 20000 for gradient descent).

    Returns
    -------
    FitResult
        ``success`` is True only when the run converged to a stationary point of chi2
        and the covariance could be estimated; otherwise ``message`` says what
        happened and what to try.
    """
    if method not in SOLVERS:
        raise CalcmlError(f"method must be one of {', '.join(SOLVERS)}, not {method!r}")
    xs, data_names, yv = _data(x, y)
    m = model_from(model, data_names, p0, n_inputs=len(xs))
    if m.expr is not None and data_names is None and len(m.inputs) != len(xs):
        raise CalcmlError(
            f"x has {len(xs)} column(s) but the model's independent variables are "
            f"{', '.join(m.inputs)}"
        )
    start = _start_values(m, p0, fixed)
    s = as_sigma(sigma, len(yv))
    free = [i for i, n in enumerate(m.params) if n not in start.fixed]
    if not free:
        raise CalcmlError("every parameter is fixed: nothing to fit")
    lower, upper = _bounds(m, bounds, start.values, free)
    prob = Problem(
        m,
        xs,
        yv,
        None if s is None else 1.0 / s,
        full=start.values,
        free=np.array(free) if len(free) < len(m.params) else None,
        lower=lower,
        upper=upper,
    )
    if maxiter is not None and (
        isinstance(maxiter, bool) or not isinstance(maxiter, int | np.integer) or maxiter < 1
    ):
        raise CalcmlError(f"maxiter must be a whole number >= 1, not {maxiter!r}")
    tol = Tolerances(maxiter=int(maxiter)) if maxiter is not None else None
    outcome = SOLVERS[method](
        prob, start.values[free] if prob.free is not None else start.values, tol
    )
    exact = _exact_fit_polish(prob, outcome)
    return _result(prob, outcome, method, s, x, exact)


class _Start:
    def __init__(self, values: np.ndarray, fixed: set[str]) -> None:
        self.values, self.fixed = values, fixed


def _data(x: Any, y: Any) -> tuple[list[np.ndarray], list[str] | None, np.ndarray]:
    try:
        yv = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError("y must be numbers") from None
    if yv.ndim != 1 or len(yv) == 0:
        raise CalcmlError(f"y must be a non-empty list of numbers, not of shape {yv.shape}")
    names = None
    if isinstance(x, Mapping):
        names = [str(k) for k in x]
        columns = [np.asarray(v, dtype=float) for v in x.values()]
    else:
        try:
            arr = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            raise CalcmlError("x must be numbers (or a dict of columns)") from None
        if arr.ndim == 1:
            columns = [arr]
        elif arr.ndim == 2:
            columns = [arr[:, j].copy() for j in range(arr.shape[1])]
        else:
            raise CalcmlError(f"x must be an array (N,) or (N, k), not of shape {arr.shape}")
    _all_finite(yv, "y")
    for j, col in enumerate(columns):
        name = names[j] if names is not None else f"x{j + 1}"
        if col.shape != yv.shape:
            raise CalcmlError(f"x column {name} has {col.size} values but y has {len(yv)}")
        _all_finite(col, name)
    return columns, names, yv


def _all_finite(values: np.ndarray, name: str) -> None:
    # A finite sum means every value is finite (one pass); an infinite one may also be
    # an overflow of finite values, so then each value is looked at.
    if not math.isfinite(values.sum()) and not np.isfinite(values).all():
        bad = int(np.argmin(np.isfinite(values)))
        raise CalcmlError(f"{name}[{bad}] = {values[bad]} is not a finite number")


def _start_values(m: Model, p0: Any, fixed: Any) -> _Start:
    if isinstance(p0, Mapping):
        values = [p0[k] for k in m.params]
    else:
        try:
            values = list(np.atleast_1d(np.asarray(p0, dtype=float)))
        except (TypeError, ValueError):
            raise CalcmlError("p0 must be numbers: a dict name -> value or a list") from None
        if len(values) != len(m.params):
            raise CalcmlError(
                f"p0 has {len(values)} value(s) for {len(m.params)} parameter(s) "
                f"({', '.join(m.params)})"
            )
    try:
        vec = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError("p0 must hold numbers") from None
    if not all(map(math.isfinite, vec.tolist())):
        raise CalcmlError(
            f"p0 must be finite numbers: {dict(zip(m.params, vec.tolist(), strict=True))}"
        )
    names: set[str] = set()
    if fixed is not None:
        items = fixed.items() if isinstance(fixed, Mapping) else ((k, None) for k in fixed)
        for k, v in items:
            if k not in m.params:
                raise CalcmlError(f"cannot fix {k!r}: the parameters are {', '.join(m.params)}")
            names.add(k)
            if v is not None:
                vec[m.params.index(k)] = float(v)
    return _Start(vec, names)


def _bounds(
    m: Model, bounds: Any, values: np.ndarray, free: list[int]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if not bounds:
        return None, None
    lower = np.full(len(m.params), -np.inf)
    upper = np.full(len(m.params), np.inf)
    for k, pair in bounds.items():
        if k not in m.params:
            raise CalcmlError(
                f"a bound for {k!r}, which is not a parameter ({', '.join(m.params)})"
            )
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise CalcmlError(f"the bounds of {k} must be a pair (low, high)") from None
        if not lo < hi:
            raise CalcmlError(f"the bounds of {k} must have low < high, not ({lo}, {hi})")
        i = m.params.index(k)
        if not lo <= values[i] <= hi:
            raise CalcmlError(
                f"the starting value {k} = {values[i]:g} is outside its bounds ({lo:g}, {hi:g})"
            )
        lower[i], upper[i] = lo, hi
    return lower[free], upper[free]


#: Digits of the residuals in the polishing of an exact fit (see _exact_fit_polish).
POLISH_DIGITS = 40


def _exact_fit_polish(prob: Problem, out: Outcome) -> np.ndarray | None:
    """For a model that passes through the data to rounding (NIST's Lanczos1: chi2 about
    1e-25), double precision cannot see the residuals: each one is mostly rounding error,
    so chi2, the errors and the test of stationarity would all be noise. Then the
    residuals are computed with 40 digits (mpmath) and a few Gauss-Newton steps finish
    the job; returns those residuals (as floats), or None when not needed or possible."""
    m = prob.model
    if m.expr is None or not out.chi2 <= (1e4 * EPS * prob.y_size) ** 2:
        return None
    import mpmath
    import sympy

    by_name = {str(v): v for v in m.expr.free_symbols}
    symbols = [by_name.get(n, sympy.Symbol(n)) for n in (*m.inputs, *m.params)]
    f = sympy.lambdify(symbols, m.expr, modules="mpmath")

    def residuals(p: list) -> list:  # p: every parameter, with 40 digits
        return [
            (f(*(col[i] for col in xs), *p) - yi) * (w[i] if w is not None else 1)
            for i, yi in enumerate(ys)
        ]

    with mpmath.workdps(POLISH_DIGITS):
        # The data are taken as the decimals they were written as (the shortest decimal
        # that gives the same double, repr's), not as the nearest doubles: 2.044333373291
        # differs from its double by 1e-16, which here is 0.1 % of a residual.
        xs = [[mpmath.mpf(repr(float(v))) for v in col] for col in prob.xs]
        ys = [mpmath.mpf(repr(float(v))) for v in prob.y]
        w = None
        if prob.weights is not None:
            w = [1 / mpmath.mpf(repr(float(1 / v))) for v in prob.weights]
        # Gauss-Newton on 40-digit parameters: the double Jacobian only steers, the
        # residuals decide, so each step gains many digits.
        p = [mpmath.mpf(float(v)) for v in prob._params(out.p)]
        free = prob.free if prob.free is not None else np.arange(len(p))
        r = residuals(p)
        for _ in range(6):
            q = np.array([float(p[i]) for i in free])
            _, jac = prob.residuals_and_jacobian(q)
            h, *_ = np.linalg.lstsq(jac.T, -np.array([float(v) for v in r]), rcond=None)
            trial = list(p)
            for j, i in enumerate(free):
                trial[i] = p[i] + mpmath.mpf(float(h[j]))
            r_new = residuals(trial)
            if not mpmath.fsum(v**2 for v in r_new) < mpmath.fsum(v**2 for v in r):
                break
            p, r = trial, r_new
        chi2 = float(mpmath.fsum(v**2 for v in r))
        out.p = np.array([float(p[i]) for i in free])
    out.chi2 = chi2
    out.history.append(out.p.copy())
    out.chi2_history.append(chi2)
    return np.array([float(v) for v in r])


#: A run has converged only if the Gauss-Newton step from its answer, the distance to
#: the minimum of the local quadratic model, is below this fraction of each parameter
#: (or of its standard error, for a parameter near zero).
CLOSE_ENOUGH = 1e-6


def _distance_left(h: list[float], q: list[float], errors: list[float], moving: list[int]) -> float:
    """max_j |h_j| / max(|p_j|, error_j) over the ``moving`` parameters, for the
    Gauss-Newton step h from the answer."""
    worst = 0.0
    for j in moving:
        size = max(abs(q[j]), errors[j] if math.isfinite(errors[j]) else 0.0)
        if size > 0:
            worst = max(worst, abs(h[j]) / size)
    return worst


def _gauss_newton_step(jac: np.ndarray, r: np.ndarray, moving: list[int]) -> list[float]:
    """The undamped step min |r + J^T h| over the ``moving`` parameters (0 for the rest)."""
    h = [0.0] * len(jac)
    if moving:
        step, *_ = np.linalg.lstsq(jac[moving].T, -r, rcond=None)
        for j, v in zip(moving, step.tolist(), strict=True):
            h[j] = v
    return h


def _covariance(jac: np.ndarray, normal: list[list[float]]) -> np.ndarray | None:
    """(J J^T)^-1, or None when J has not full rank (some parameter combination does not
    change the model: its uncertainty is infinite). From the eigenvectors of the scaled
    normal matrix when it is well conditioned (then it loses at most 8 of 16 digits),
    else from the SVD of J."""
    d = [math.sqrt(row[j]) for j, row in enumerate(normal)]
    if min(d) > 0:
        inverse = _inverse(*_scaled_eigen(normal, d), d)
        if inverse is not None:
            return inverse
    _, s, vt = np.linalg.svd(jac.T, full_matrices=False)
    if len(s) == 0 or s[-1] <= np.finfo(float).eps * max(jac.shape) * s[0]:
        return None
    return (vt.T / s**2) @ vt


def _result(
    prob: Problem,
    out: Outcome,
    method: str,
    sigma: np.ndarray | None,
    x: Any,
    exact: np.ndarray | None = None,
) -> FitResult:
    m = prob.model
    full = prob._params(out.p)
    k = out.rows
    if k is None or exact is not None:
        k = prob.rows(out.p)
    notes = list(m.notes)
    if exact is not None:  # residuals at rounding level: the 40-digit ones are the truth
        k[0] = exact
        notes.append(
            "the model passes through the data to about 1e-12: residuals, chi2 and errors "
            f"were computed with {POLISH_DIGITS} digits (double precision cannot see them)"
        )
    r, jac = k[0], k[1:]
    known = exact is None and out.rows is not None  # the solver's own products at p
    chi, g, normal = out.gram if known and out.gram is not None else _gram(k)
    n_free = len(out.p)
    dof = len(prob.y) - n_free
    names = list(m.params)
    varying = [names[i] for i in (prob.free if prob.free is not None else range(len(names)))]
    unscaled = out.inverse if known and out.inverse is not None else _covariance(jac, normal)
    status, message, success = out.status, out.message, out.converged
    moving = list(range(n_free))  # the parameters not held at a bound
    if prob.lower is not None:
        held = prob.held(out.p, np.array(g)).tolist()
        moving = [j for j in moving if not held[j]]
    diagonal = [row[j] for j, row in enumerate(normal)]
    if success and _stationarity(g, diagonal, chi, moving) > STATIONARY:
        status, success = "stalled", False
        message = (
            f"the run stopped ({out.message}) but chi2 is not at a minimum: its gradient "
            "is not small; try other starting values or method='lm'"
        )
    if unscaled is None:
        cov = np.full((n_free, n_free), np.inf)
        if success:
            status, success = "singular", False
        message += (
            "; the covariance cannot be estimated: the Jacobian is singular (some "
            "parameter, or combination, does not change the model here), so the errors "
            "are infinite and the answer is not determined"
        )
    else:
        factor = 1.0 if sigma is not None else (chi / dof if dof > 0 else np.nan)
        cov = unscaled * factor
        if sigma is None and dof <= 0 and success:
            status, success = "no_dof", False
            message += (
                f"; but there are {len(prob.y)} data points for {n_free} parameters: "
                "the curve passes through every point and, without sigma, nothing is "
                "left to estimate the errors from (give sigma, or more data)"
            )
    errors = np.sqrt(cov.diagonal()).tolist()
    if success and exact is None:
        h = out.gauss_newton_step
        if h is None or len(moving) < n_free:
            h = _gauss_newton_step(jac, r, moving)
        left = _distance_left(h, out.p.tolist(), errors, moving)
        if left > CLOSE_ENOUGH:
            status, success = "stalled", False
            message = (
                f"the run stopped ({out.message}) about {left:.1g} (relative) short of the "
                "minimum, by the Gauss-Newton step from there: not converged to 6 digits; "
                "try method='lm', or more iterations"
            )
    if success:
        message = f"converged after {out.nit} iterations: {message}"
    err_map: dict[str, float | None] = dict.fromkeys(names)
    err_map.update(zip(varying, errors, strict=True))
    bounds = _bound_notes(prob, varying, names, full, notes)
    return FitResult(
        params=dict(zip(names, full.tolist(), strict=True)),
        errors=err_map,
        covariance=cov,
        chi2=chi,
        dof=dof,
        success=success,
        message=message,
        status=status,
        method=method,
        model=f"y = {m.text}",
        varying=varying,
        nit=out.nit,
        nfev=prob.nfev,
        njev=prob.njev,
        x=x,
        y=prob.y,
        sigma=sigma,
        residuals=-r if sigma is None else -r * sigma,  # y - f: r is (f - y) / sigma
        history=out.history,
        chi2_history=out.chi2_history,
        notes=notes,
        bounds=bounds,
        _predict=lambda xn, params: _predict(m, xn, params),
    )


def _bound_notes(
    prob: Problem, varying: list[str], names: list[str], full: np.ndarray, notes: list[str]
) -> dict[str, tuple[float, float]]:
    """The finite bounds, by name; a note for each parameter that ended at one."""
    bounds: dict[str, tuple[float, float]] = {}
    if prob.lower is None:
        return bounds
    for k, lo, hi in zip(varying, prob.lower, prob.upper, strict=True):
        if np.isfinite(lo) or np.isfinite(hi):
            bounds[k] = (float(lo), float(hi))
            v = full[names.index(k)]
            if v <= lo or v >= hi:
                notes.append(
                    f"{k} ended at its bound ({v:g}): its error ignores the bound and "
                    "chi2 may be lower beyond it"
                )
    return bounds


def _predict(m: Model, x: Any, params: dict[str, float]) -> np.ndarray:
    if isinstance(x, Mapping):
        xs = [np.atleast_1d(np.asarray(x[k], dtype=float)) for k in m.inputs]
    else:
        arr = np.atleast_1d(np.asarray(x, dtype=float))
        xs = [arr] if arr.ndim == 1 else [arr[:, j] for j in range(arr.shape[1])]
    p = np.array([params[k] for k in m.params], dtype=float)
    return m.value(xs, p)
