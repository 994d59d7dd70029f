"""Chi-squared and linear least squares: straight lines, polynomials, any design matrix.

A model linear in its parameters, y = A b, is fitted by a QR factorisation of A with
its columns scaled to about unit length, never by the normal equations A^T A b = A^T y:
forming A^T A squares the condition number, and on NIST's Filip problem (a polynomial
of degree 10) that loses every digit, where QR keeps about eight. The solution is then
refined with residuals in extended precision.

>>> r = polyfit([0, 1, 2, 3, 4], [1, 2, 5, 10, 17], 2)
>>> {k: round(v, 10) + 0.0 for k, v in r.params.items()}
{'b0': 1.0, 'b1': 0.0, 'b2': 1.0}
>>> round(chi2([1, 2, 3], [1.1, 1.9, 3.0], sigma=0.1), 12)
2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg import solve_triangular

from ..errors import CalcmlError
from .result import FitResult, total_sum_of_squares


def _vector(v: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError(f"{what} must be numbers") from None
    if arr.ndim != 1:
        raise CalcmlError(f"{what} must be one-dimensional, not of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.argmin(np.isfinite(arr)))
        raise CalcmlError(f"{what} holds a value that is not finite at index {bad}: {arr[bad]}")
    return arr


def as_sigma(sigma: Any, n: int) -> np.ndarray | None:
    """Standard deviations of the data: None, one number for all, or one per point."""
    if sigma is None:
        return None
    s = np.asarray(sigma, dtype=float)
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise CalcmlError(f"sigma must be one number or {n} numbers (one per point), not {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        bad = int(np.argmax(~np.isfinite(s) | (s <= 0)))
        why = (
            "a standard deviation of zero would give its point infinite weight"
            if s[bad] == 0
            else "a standard deviation is a positive number"
        )
        raise CalcmlError(f"sigma must be positive and finite: sigma[{bad}] = {s[bad]} ({why})")
    return s


def chi2(y: Any, y_model: Any, sigma: Any = None) -> float:
    """chi^2 = sum ((y - y_model) / sigma)^2; without sigma, the residual sum of squares.

    >>> chi2([1, 2], [1, 4])
    4.0
    """
    y = _vector(y, "y")
    try:
        given = np.asarray(y_model, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError("y_model must be numbers") from None
    if given.shape not in ((), y.shape):
        raise CalcmlError(
            f"y_model has {given.size} value(s) but y has {len(y)}: give one model value "
            "per data point (or a single number)"
        )
    model = np.broadcast_to(given, y.shape)
    s = as_sigma(sigma, len(y))
    r = (y - model) if s is None else (y - model) / s
    return float(r @ r)


def lstsq(A: Any, y: Any, sigma: Any = None, names: Sequence[str] | None = None) -> FitResult:
    """Least squares for y = A b: any model linear in its parameters b0, b1, ...

    Each column of the design matrix A is one parameter's basis function at the data
    points (a column of ones for an intercept).

    >>> import numpy as np
    >>> x = np.array([0.0, 1, 2, 3])
    >>> r = lstsq(np.column_stack([np.ones(4), x]), 2 + 3 * x)
    >>> [round(v, 12) for v in r.params.values()], r.success
    ([2.0, 3.0], True)
    """
    try:
        a = np.asarray(A, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError("A must be a matrix of numbers") from None
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise CalcmlError(f"A must be a matrix (data points x parameters), not shape {a.shape}")
    yv = _vector(y, "y")
    if a.shape[0] != len(yv):
        raise CalcmlError(f"A has {a.shape[0]} rows but y has {len(yv)} values")
    if not np.all(np.isfinite(a)):
        raise CalcmlError("A holds values that are not finite")
    k = a.shape[1]
    names = list(names) if names is not None else [f"b{i}" for i in range(k)]
    if len(names) != k:
        raise CalcmlError(f"{len(names)} names for {k} columns")
    return _solve(a, yv, as_sigma(sigma, len(yv)), names, "linear model y = A b", None)


def polyfit(x: Any, y: Any, degree: int, sigma: Any = None) -> FitResult:
    """The polynomial y = b0 + b1 x + ... + b_d x^d of least squares.

    >>> r = polyfit([1, 2, 3], [2, 4, 6], 1)
    >>> [round(v, 12) + 0.0 for v in r.params.values()]
    [0.0, 2.0]
    """
    if isinstance(degree, bool) or not isinstance(degree, int | np.integer) or degree < 0:
        raise CalcmlError(f"degree must be a whole number 0, 1, 2, ..., not {degree!r}")
    xv, yv = _vector(x, "x"), _vector(y, "y")
    if len(xv) != len(yv):
        raise CalcmlError(f"x has {len(xv)} values but y has {len(yv)}")
    a = np.vander(xv, int(degree) + 1, increasing=True)
    terms = " + ".join(
        ["b0", *(f"b{i} x" + (f"^{i}" if i > 1 else "") for i in range(1, degree + 1))]
    )
    result = _solve(
        a,
        yv,
        as_sigma(sigma, len(yv)),
        [f"b{i}" for i in range(degree + 1)],
        f"polynomial y = {terms}",
        lambda xn, p: np.polynomial.polynomial.polyval(
            np.asarray(xn, dtype=float), list(p.values())
        ),
    )
    result.x = xv
    return result


def linear_fit(x: Any, y: Any, sigma: Any = None) -> FitResult:
    """The straight line y = m x + c of least squares (params "m" and "c").

    >>> r = linear_fit([1, 2, 3], [3, 5, 7])
    >>> round(r.params["m"], 12), round(r.params["c"], 12)
    (2.0, 1.0)
    """
    xv, yv = _vector(x, "x"), _vector(y, "y")
    if len(xv) != len(yv):
        raise CalcmlError(f"x has {len(xv)} values but y has {len(yv)}")
    a = np.column_stack([xv, np.ones_like(xv)])
    result = _solve(
        a,
        yv,
        as_sigma(sigma, len(yv)),
        ["m", "c"],
        "straight line y = m x + c",
        lambda xn, p: p["m"] * np.asarray(xn, dtype=float) + p["c"],
    )
    result.x = xv
    return result


def _solve(
    a: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray | None,
    names: list[str],
    model: str,
    predict: Any,
) -> FitResult:
    n_data, k = a.shape
    w = 1.0 if sigma is None else 1.0 / sigma
    aw = a * (w if sigma is None else w[:, None])
    yw = y * w
    scale = np.linalg.norm(aw, axis=0)
    dof = n_data - k
    nan = np.full((k, k), np.nan)
    if k > n_data or np.any(scale == 0):
        which = [names[j] for j in np.flatnonzero(scale == 0)]
        why = (
            f"more parameters ({k}) than data points ({n_data})"
            if k > n_data
            else f"the column of {', '.join(which)} is all zeros"
        )
        return _failed(
            names, nan, dof, f"the parameters cannot be determined: {why}", model, y, sigma
        )
    scale = 2.0 ** np.round(np.log2(scale))  # powers of two: dividing by them is exact
    q, r = np.linalg.qr(aw / scale)
    diag = np.abs(np.diag(r))
    if diag.min() <= np.finfo(float).eps * n_data * diag.max():
        return _failed(
            names,
            nan,
            dof,
            "the columns of the design matrix are linearly dependent (rank "
            f"{int(np.sum(diag > np.finfo(float).eps * n_data * diag.max()))} of {k}): some "
            "parameters cannot be told apart; remove or combine them",
            model,
            y,
            sigma,
        )
    beta = _refined(aw / scale, yw, q, r) / scale
    resid = yw - aw @ beta
    chi = float(resid @ resid)
    r_inv = solve_triangular(r, np.eye(k))
    unscaled = (r_inv @ r_inv.T) / np.outer(scale, scale)
    cov = unscaled if sigma is not None else unscaled * (chi / dof if dof > 0 else np.nan)
    success, status, message = True, "converged", ""
    if sigma is None and dof <= 0:
        success, status = False, "no_dof"
        message = (
            f"{n_data} data points for {k} parameters: the model passes through every "
            "point and, without sigma, nothing is left to estimate the errors from "
            "(give sigma, or more data); "
        )
    errors = np.sqrt(np.diag(cov))
    intercept = bool(np.any(np.all(a == a[0], axis=0)))  # a constant column
    # R^2 measures against the (weighted) mean when the model has an intercept, else 0
    tss = total_sum_of_squares(y, sigma) if intercept else float(yw @ yw)
    message += (
        f"solved exactly by QR (condition number of the scaled design "
        f"{diag.max() / diag.min():.3g} or more)"
    )
    params = dict(zip(names, beta.tolist(), strict=True))
    return FitResult(
        params=params,
        errors=dict(zip(names, errors.tolist(), strict=True)),
        covariance=cov,
        chi2=chi,
        dof=dof,
        success=success,
        status=status,
        message=message,
        method="qr",
        model=model,
        varying=list(names),
        y=y,
        sigma=sigma,
        residuals=y - a @ beta,
        history=[beta],
        chi2_history=[chi],
        _predict=predict
        if predict is not None
        else (lambda an, p: np.asarray(an, float) @ np.array(list(p.values()))),
        _tss=tss,
    )


def _refined(a: np.ndarray, y: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The least-squares solution of a z = y from a = QR, refined (Bjorck's iterative
    refinement of the augmented system [I a; a^T 0][res; z] = [y; 0], with residuals in
    extended precision): on NIST's Wampler5 QR alone gives 6 digits, refined 13."""
    z = solve_triangular(r, q.T @ y)
    res = y - a @ z
    wide = np.longdouble  # 80-bit on x86; where it is plain double, refinement is a no-op
    a_w, y_w = a.astype(wide), y.astype(wide)
    for _ in range(3):
        f = (y_w - res.astype(wide) - a_w @ z.astype(wide)).astype(float)
        g = (-(a_w.T @ res.astype(wide))).astype(float)
        u = solve_triangular(r, g, trans="T")
        d = q.T @ f - u
        dz = solve_triangular(r, d)
        z, res = z + dz, res + (f - q @ d)
        if np.all(np.abs(dz) <= 1e-15 * np.abs(z)):
            break
    return z


def _failed(
    names: list[str],
    nan: np.ndarray,
    dof: int,
    message: str,
    model: str,
    y: np.ndarray,
    sigma: np.ndarray | None,
) -> FitResult:
    return FitResult(
        params=dict.fromkeys(names, float("nan")),
        errors=dict.fromkeys(names, float("nan")),
        covariance=nan,
        chi2=float("nan"),
        dof=dof,
        success=False,
        status="singular",
        message=message,
        method="qr",
        model=model,
        varying=list(names),
        y=y,
        sigma=sigma,
    )
