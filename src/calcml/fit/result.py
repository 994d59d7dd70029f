"""What a fit returns: the parameters with their uncertainties, and the statistics that
say how good the fit is, in one plain object that can also write a report.

Conventions (as NIST certifies, and as SciPy's ``curve_fit`` with ``absolute_sigma``):

* without ``sigma`` the standard errors are scaled by the residual variance,
  ``cov = s^2 (J^T J)^-1`` with ``s^2 = RSS / dof``;
* with ``sigma`` they are absolute: ``cov = (J^T W J)^-1``, ``W = diag(1 / sigma^2)``,
  and ``chi2`` has its statistical meaning, so ``p_value`` is defined.

>>> import numpy as np
>>> from calcml.fit import linear_fit
>>> r = linear_fit([0, 1, 2, 3], [1.0, 3.1, 4.9, 7.0])
>>> {k: round(v, 4) for k, v in r.params.items()}
{'m': 1.98, 'c': 1.03}
>>> print(r.report().splitlines()[0])
[[Fit]] straight line y = m x + c: success
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Correlations at least this strong are listed in the report (lmfit lists from 0.1;
#: a learner needs the strong ones).
STRONG_CORRELATION = 0.5


@dataclass
class FitResult:
    """The outcome of a fit. See the module docstring for how errors are scaled.

    ``params`` and ``errors`` are dicts name -> value / standard error (None for a
    fixed parameter); ``covariance`` and ``correlation`` are over the varying
    parameters, in the order of ``varying``. ``history`` holds the parameter vectors
    (the varying ones) from the start to the end, one per iteration.
    """

    params: dict[str, float]
    errors: dict[str, float | None]
    covariance: np.ndarray
    chi2: float
    dof: int
    success: bool
    message: str
    status: str = "converged"
    method: str = ""
    model: str = ""
    varying: list[str] = field(default_factory=list)
    nit: int = 0
    nfev: int = 0
    njev: int = 0
    x: Any = None
    y: np.ndarray | None = None
    sigma: np.ndarray | None = None
    residuals: np.ndarray | None = None
    history: list[np.ndarray] = field(default_factory=list)
    chi2_history: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    certified: dict[str, Any] | None = None
    _predict: Callable[[Any, dict[str, float]], np.ndarray] | None = field(default=None, repr=False)
    _tss: float | None = None  # the total sum of squares R^2 compares with (computed if None)

    # -- statistics -----------------------------------------------------------------------
    @property
    def n_data(self) -> int:
        return 0 if self.y is None else len(self.y)

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else float("nan")

    @property
    def p_value(self) -> float | None:
        """P(chi^2 >= the value found) for dof degrees of freedom, if the model is right
        and the sigmas are the true standard deviations. None without sigma: then chi2
        is a plain sum of squares, with no scale to judge it by."""
        if self.sigma is None or self.dof <= 0:
            return None
        from scipy.stats import chi2 as chi2_dist

        return float(chi2_dist.sf(self.chi2, self.dof))

    @property
    def r_squared(self) -> float:
        """1 - (weighted) residual sum of squares / (weighted) total sum of squares."""
        if self._tss is None and self.y is not None:
            self._tss = total_sum_of_squares(self.y, self.sigma)
        tss = self._tss
        return 1.0 - self.chi2 / tss if tss is not None and tss > 0 else float("nan")

    @property
    def aic(self) -> float:
        """Akaike's information criterion, N ln(chi2 / N) + 2 k (lmfit's convention)."""
        n, k = self.n_data, len(self.varying)
        return n * math.log(max(self.chi2, 1e-300) / n) + 2 * k if n else float("nan")

    @property
    def bic(self) -> float:
        """Bayesian information criterion, N ln(chi2 / N) + ln(N) k."""
        n, k = self.n_data, len(self.varying)
        return n * math.log(max(self.chi2, 1e-300) / n) + math.log(n) * k if n else float("nan")

    @property
    def correlation(self) -> np.ndarray:
        d = np.sqrt(np.diag(self.covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(d, d)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The iteration table: k, chi2 and the varying parameters."""
        out = []
        for k, (p, c) in enumerate(zip(self.history, self.chi2_history, strict=False)):
            row: dict[str, Any] = {"k": k, "chi2": c}
            row.update({name: float(v) for name, v in zip(self.varying, p, strict=True)})
            out.append(row)
        return out

    # -- use --------------------------------------------------------------------------------
    def predict(self, x: Any, params: dict[str, float] | None = None) -> np.ndarray:
        """The fitted model at new x (same form as the data x: an array, or a dict of
        arrays / a 2-D array for several independent variables); with ``params``
        (name -> value, the missing ones taken from the fit), the model at other
        parameter values, e.g. to draw chi2 around the minimum."""
        if self._predict is None:
            raise AttributeError("this result has no model to predict with")
        values = self.params if params is None else {**self.params, **params}
        return self._predict(x, values)

    def report(self) -> str:
        """A plain-text report in the spirit of lmfit's: the fit statistics, each
        parameter with its error and relative error, strong correlations, warnings."""
        return "\n".join(_report_lines(self))

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers, lists and dicts (for JSON)."""
        return {
            "model": self.model,
            "method": self.method,
            "success": self.success,
            "status": self.status,
            "message": self.message,
            "params": _json(self.params),
            "errors": _json(self.errors),
            "varying": self.varying,
            "covariance": _json(self.covariance.tolist()),
            "correlation": _json(self.correlation.tolist()),
            "chi2": _finite_or_none(self.chi2),
            "dof": self.dof,
            "reduced_chi2": _finite_or_none(self.reduced_chi2),
            "p_value": self.p_value,
            "r_squared": _finite_or_none(self.r_squared),
            "aic": _finite_or_none(self.aic),
            "bic": _finite_or_none(self.bic),
            "n_data": self.n_data,
            "nit": self.nit,
            "nfev": self.nfev,
            "notes": self.notes,
            "history": [_json(np.asarray(p, dtype=float).tolist()) for p in self.history],
            "chi2_history": _json([float(c) for c in self.chi2_history]),
        }

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        verdict = "success" if self.success else "FAILED"
        return f"<FitResult {verdict}: {values}; chi2={self.chi2:.6g}, dof={self.dof}>"

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.report()) + "</pre>"


def _finite_or_none(v: float | None) -> float | None:
    return v if v is not None and v == v and math.isfinite(v) else None


def _json(obj: Any) -> Any:
    """Plain JSON: NaN and infinities (an undetermined value) become null."""
    if isinstance(obj, dict):
        return {k: _json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json(v) for v in obj]
    return _finite_or_none(obj) if isinstance(obj, float) else obj


def _fmt(v: float | None) -> str:
    return "-" if v is None or v != v else f"{v:.8g}"


def _report_lines(r: FitResult) -> list[str]:
    verdict = "success" if r.success else "FAILED"
    lines = [f"[[Fit]] {r.model}: {verdict}"]
    lines.append(f"    {r.message}")
    lines.append("[[Fit Statistics]]")
    if r.method:
        lines.append(f"    method             = {r.method}")
    if r.nfev:
        lines.append(f"    iterations         = {r.nit}")
        lines.append(f"    function evals     = {r.nfev}")
    lines.append(f"    data points        = {r.n_data}")
    lines.append(f"    variables          = {len(r.varying)}")
    lines.append(f"    degrees of freedom = {r.dof}")
    name = "chi-square" if r.sigma is not None else "chi-square (RSS)"
    lines.append(f"    {name:<18} = {_fmt(r.chi2)}")
    lines.append(f"    reduced chi-square = {_fmt(r.reduced_chi2)}")
    if r.p_value is not None:
        lines.append(f"    p-value            = {r.p_value:.4g}")
    lines.append(f"    R-squared          = {_fmt(r.r_squared)}")
    lines.append(f"    Akaike info crit   = {_fmt(r.aic)}")
    lines.append(f"    Bayesian info crit = {_fmt(r.bic)}")
    scale = "absolute (from sigma)" if r.sigma is not None else "scaled by the residual variance"
    lines.append(f"    standard errors    : {scale}")
    lines.append("[[Variables]]")
    width = max(len(k) for k in r.params)
    for k, v in r.params.items():
        err = r.errors.get(k)
        if err is None:
            lines.append(f"    {k:<{width}}: {v: .10g} (fixed)")
            continue
        rel = f"({100 * err / abs(v):.2f}%)" if v and math.isfinite(err) else ""
        bound = r.bounds.get(k)
        at = ""
        if bound is not None and (v <= bound[0] or v >= bound[1]):
            at = " at its bound"
        lines.append(f"    {k:<{width}}: {v: .10g} +/- {err:.6g} {rel}{at}".rstrip())
    pairs = _strong_pairs(r)
    if pairs:
        lines.append(f"[[Correlations]] (|C| >= {STRONG_CORRELATION})")
        for a, b, c in pairs:
            lines.append(f"    C({a}, {b}) = {c:+.4f}")
    warnings = _warnings(r)
    if warnings:
        lines.append("[[Warnings]]")
        lines.extend(f"    {w}" for w in warnings)
    return lines


def _strong_pairs(r: FitResult) -> list[tuple[str, str, float]]:
    c = r.correlation
    pairs = []
    for i, a in enumerate(r.varying):
        for j in range(i + 1, len(r.varying)):
            v = float(c[i, j])
            if math.isfinite(v) and abs(v) >= STRONG_CORRELATION:
                pairs.append((a, r.varying[j], v))
    return sorted(pairs, key=lambda t: -abs(t[2]))


def _warnings(r: FitResult) -> list[str]:
    out = list(r.notes)
    if not r.success:
        out.append("the fit did not succeed: do not trust these numbers (see the message)")
    if r.dof <= 0:
        out.append("no degrees of freedom: as many parameters as data points")
    for a, b, c in _strong_pairs(r):
        if abs(c) > 0.99:
            out.append(
                f"{a} and {b} are almost perfectly correlated ({c:+.4f}): the data hardly "
                "tell them apart; consider fixing one or reparametrising"
            )
    for k, err in r.errors.items():
        v = r.params[k]
        if err is not None and v and math.isfinite(err) and err > abs(v):
            out.append(f"{k} is smaller than its own standard error: it is not determined")
    if r.sigma is not None and r.p_value is not None and r.dof > 0:
        if r.p_value < 1e-3:
            out.append(
                f"p-value {r.p_value:.2g}: chi2 is too large for these sigmas (a wrong "
                "model, or sigmas too small)"
            )
        elif r.p_value > 0.999:
            out.append(f"p-value {r.p_value:.4g}: chi2 is suspiciously small (sigmas too large?)")
    return out


def total_sum_of_squares(y: np.ndarray, sigma: np.ndarray | None = None) -> float:
    """sum_i (y_i - ybar)^2 / sigma_i^2 about the weighted mean ybar (weights 1 / sigma^2):
    what R^2 compares the residual sum of squares with.

    >>> total_sum_of_squares(np.array([1.0, 2.0, 3.0]))
    2.0
    """
    if sigma is None:
        centred = y - y.sum() / len(y)
        return float(centred @ centred)
    w2 = 1.0 / (sigma * sigma)
    centred = y - float(w2 @ y) / w2.sum()
    return float(w2 @ (centred * centred))
