"""Newton-Raphson: follow the tangent down to the axis, again and again.

x_{k+1} = x_k - f(x_k) / f'(x_k) for one equation; for a system F(x) = 0 the step solves
J(x_k) dx = -F(x_k). Near a simple root each step doubles the number of correct digits;
elsewhere it can fail, and calcml says how: a flat tangent (f' = 0), a cycle
(x^3 - 2x + 2 from 0 hops between 0 and 1 for ever), divergence, or no root at all
(x^2 + 1). Success means the residual |f(x)| is small, never only that the steps were.

>>> r = newton_raphson("x^2 - 2", x0=1)
>>> r.success, round(r.x, 12), r.nit
(True, 1.414213562373, 5)
>>> newton_raphson("x^3 - 2x + 2", x0=0).status
'cycle'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import lapack

from ..budget import budgeted
from ..errors import CalcmlError
from ..function import Function, NotFiniteError
from .result import Result

EPS = np.finfo(float).eps
# A small |f| alone is not a root (x e^-x is tiny at x = 31): the next Newton step must
# also be small, relative to x.
XTOL = 1e-6


def _as_function(f: Any) -> Function:
    return f if isinstance(f, Function) else Function(f)


def _small_residual(size: float, x: Any, slope: Any, ftol: float) -> bool:
    """Whether |f| (``size``: its largest entry) is small: below ftol, or at the rounding
    floor of f near x: f is only known to about eps * |f'| * |x| there, so no step can do
    better. ``x`` and ``slope`` (f' or the Jacobian) are only looked at in between."""
    if size <= ftol:
        return True
    if size > 1e-8:  # above any floor
        return False
    floor = min(16 * EPS * _max_abs(slope) * _max_abs(x), 1e-8)  # never a real miss
    return size <= floor


def _max_abs(v: float | np.ndarray) -> float:
    if isinstance(v, float):
        return abs(v)
    if v.size > 16:
        return float(abs(v).max())
    # on Python floats: the few numbers of a Newton step take 0.3 us so, 1.3 us in NumPy
    return max(map(abs, v.ravel().tolist()), default=0.0)


@budgeted
def newton_raphson(
    f: Any,
    x0: Any,
    ftol: float = 1e-12,
    maxiter: int = 50,
) -> Result:
    """Find a root of f (one variable) or of a system (a list of expressions, vector x0).

    Returns a :class:`Result` whose ``rows`` are the table of x, f(x), f'(x) and the step.
    ``success`` only when |f(x)| <= ftol (or at the rounding floor of f there).

    Examples
    --------
    >>> r = newton_raphson(["x^2 + y^2 - 4", "x - y"], x0=[1, 2])
    >>> r.success, np.round(r.x, 10).tolist()
    (True, [1.4142135624, 1.4142135624])
    >>> r = newton_raphson("x^2 + 1", x0=0.5)
    >>> r.success, r.status
    (False, 'max_iterations')
    """
    fn = _as_function(f)
    several = (
        x0.size > 1
        if isinstance(x0, np.ndarray)
        else not isinstance(x0, dict) and np.size(np.asarray(x0, dtype=object)) > 1
    )
    if fn.is_scalar is False or (fn.n or 1) > 1 or isinstance(f, list | tuple) or several:
        return _system(fn, x0, ftol, maxiter)
    return _scalar(fn, x0, ftol, maxiter)


def _scalar(fn: Function, x0: Any, ftol: float, maxiter: int) -> Result:
    try:
        x = float(np.asarray(x0, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise CalcmlError(f"x0 must be a number for one equation, not {x0!r}") from None
    history, rows = [x], []
    start = (fn.nfev, fn.njev)
    fx = d = float("nan")
    evaluate = _value_and_first(fn)

    def done(status: str, message: str, success: bool = False) -> Result:
        value = fx
        if not success and x != history[-2 if len(history) > 1 else -1] and rows:
            value = _value_or_nan(fn, x)  # f at the x reported, not at the one before
        return Result(
            x=x,
            fun=value,
            success=success,
            status=status,
            message=message,
            history=history,
            rows=rows,
            method="newton_raphson",
            nfev=fn.nfev - start[0],
            njev=fn.njev - start[1],
            jac=d,
            variables=fn.variables,
        )

    def last_row(k: int) -> None:
        rows.append({"k": k, "x": x, "f(x)": fx, "f'(x)": d, "step": ""})

    for k in range(maxiter + 1):
        try:
            fx, d = _value_and_slope(evaluate, x)
        except NotFiniteError as err:
            fx = float("nan") if err.what == "the value" else _value_or_nan(fn, x)
            rows.append({"k": k, "x": x, "f(x)": fx, "f'(x)": float("nan"), "step": ""})
            return done(
                "not_finite",
                f"f or f' is not defined at x = {x:.10g} ({err}); try an x0 closer to the root",
            )
        near = d != 0 and abs(fx / d) <= XTOL * (1 + abs(x))  # the root is really here
        if _small_residual(abs(fx), x, d, ftol) and (near or fx == 0):
            last_row(k)
            return done("converged", f"|f(x)| = {abs(fx):.3g} at x = {x:.15g}", True)
        if k == maxiter:
            last_row(k)
            break
        if _running_away(history):
            last_row(k)
            return done(
                "diverged",
                f"the iterates run away ({', '.join(f'{h:.3g}' for h in history[-5:])}; "
                f"|f| = {abs(fx):.3g}): Newton's method diverges from this x0, or f only "
                "approaches 0 far away. Try an x0 closer to a root (plot f to see one).",
            )
        if abs(d) <= 1e3 * EPS * max(1.0, abs(fx)) and _drifting(history):
            last_row(k)
            return done(
                "diverged",
                f"the iterates drift off ({', '.join(f'{h:.3g}' for h in history[-4:])}) to "
                f"where f flattens out (f'(x) = {d:.3g}): no root that way. Try another x0.",
            )
        if abs(d) <= 1e3 * EPS * max(1.0, abs(fx)):
            last_row(k)
            return done(
                "zero_derivative",
                f"f'(x) = {d:.3g} at x = {x:.10g}: the tangent is flat and does not meet the "
                "axis. Try another x0 (away from this turning point).",
            )
        step = -fx / d
        rows.append({"k": k, "x": x, "f(x)": fx, "f'(x)": d, "step": step})
        x = x + step
        history.append(x)
        if not math.isfinite(x) or abs(x) > 1e15:
            return done(
                "diverged",
                f"x ran away to {x:.3g}: the iteration diverges from "
                "this x0. Try an x0 closer to a root (plot f to see where one is).",
            )
        cycle = _cycle(history)
        if cycle:
            points = ", ".join(f"{p:.6g}" for p in cycle)
            return done(
                "cycle",
                f"the iterates cycle between {points} without reaching a root: Newton's "
                "tangents bounce back and forth. Try another x0.",
            )
    return done(
        "max_iterations",
        f"no root after {maxiter} iterations: |f(x)| is still {abs(fx):.3g} at x = "
        f"{x:.10g}. f may have no real root here (is its value bounded away from 0?); "
        "try another x0 or plot f.",
    )


def _value_and_first(fn: Function) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A function x -> (F(x), J(x)) for the loop of one solve: for an expression one
    compiled call, counted here; where something is not finite, Function._value_and_first
    evaluates again to raise the error that names it."""
    if not fn.is_symbolic:
        return fn._value_and_first
    at = fn._raw((0, 1))
    m, n = fn.m or 1, fn.n or 1

    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out, finite = at(x)
        if not finite:
            return fn._value_and_first(x)
        fn.nfev += 1
        fn.njev += 1
        return out[:m], out[m:].reshape(m, n)

    return evaluate


def _value_and_slope(evaluate: Callable, x: float) -> tuple[float, float]:
    """f(x) and f'(x) as floats."""
    value, first = evaluate(np.array([x]))
    if value.size != 1:
        raise CalcmlError(f"f must return one number for one variable, not shape {value.shape}")
    return float(value[0]) + 0.0, float(first.ravel()[0]) + 0.0  # (+ 0.0: no -0.0)


def _drifting(history: list[float]) -> bool:
    """The last five steps all went the same way (exp(x) from 0 walks off to -inf)."""
    if len(history) < 6:
        return False
    steps = [b - a for a, b in itertools.pairwise(history[-6:])]
    return all(h > 0 for h in steps) or all(h < 0 for h in steps)


def _value_or_nan(fn: Function, x: float) -> float:
    try:
        return _one_number(fn.value(np.array([x])))
    except CalcmlError:
        return float("nan")


def _one_number(v: Any) -> float:
    arr = np.asarray(v, dtype=float)
    if arr.size != 1:
        raise CalcmlError(f"f must return one number for one variable, not shape {arr.shape}")
    return float(arr.reshape(()))


def _running_away(history: list[float]) -> bool:
    """|x| has more than doubled at each of the last four steps (1/x from 1, exp(x), atan:
    the iterates run off, whatever |f| does on the way)."""
    if len(history) < 5:
        return False
    last = [abs(h) for h in history[-5:]]
    return all(b >= 1.9 * a and b > 0 for a, b in itertools.pairwise(last))


def _cycle(history: list[float]) -> list[float] | None:
    """The repeating points when the newest iterate returns to one seen 2+ steps before."""
    x = history[-1]
    for back in range(2, min(len(history), 12)):
        old = history[-1 - back]
        if abs(x - old) <= 1e-9 * max(1.0, abs(x)) and abs(history[-2] - x) > 1e-9 * max(
            1.0, abs(x)
        ):
            return history[-1 - back : -1]
    return None


def _system(fn: Function, x0: Any, ftol: float, maxiter: int) -> Result:
    x = np.array(np.asarray(x0, dtype=float).ravel())
    if fn.n is not None and x.shape != (fn.n,):
        raise CalcmlError(
            f"x0 needs {fn.n} numbers ({', '.join(fn.variables or [])}), got {x.size}"
        )
    if fn.m is not None and fn.n is not None and fn.m != fn.n:
        raise CalcmlError(f"Newton-Raphson needs as many equations as unknowns ({fn.m} vs {fn.n})")
    history = [x.copy()]
    norms: list[float] = []  # max |F| at each iterate evaluated: one row of the table each
    steps: list[np.ndarray] = []  # the steps taken from them
    start = (fn.nfev, fn.njev)
    fx = x + math.nan  # F(x) once known
    evaluate = _value_and_first(fn)

    def table() -> list[dict[str, Any]]:
        return [
            {
                "k": k,
                "x": history[k].copy(),
                "|F(x)|": norm,
                "step": math.sqrt(steps[k] @ steps[k]) if k < len(steps) else "",
            }
            for k, norm in enumerate(norms)
        ]

    def done(status: str, message: str, success: bool = False) -> Result:
        value = fx + 0.0  # (no -0.0)
        if not success and len(history) > 1 and not np.array_equal(x, history[-2]) and norms:
            try:  # F at the x reported, not at the one before
                value = np.atleast_1d(np.asarray(fn.value(x), dtype=float))
            except CalcmlError:
                value = np.full(x.shape, np.nan)
        return Result(
            x=x,
            fun=value,
            success=success,
            status=status,
            message=message,
            history=history,
            rows=table,
            method="newton_raphson",
            nfev=fn.nfev - start[0],
            njev=fn.njev - start[1],
            variables=fn.variables,
        )

    for k in range(maxiter + 1):
        try:
            fx, jac = evaluate(x)
        except NotFiniteError as err:
            return done("not_finite", f"F or its Jacobian is not defined at x = {x}: {err}")
        norm = max(map(abs, fx.tolist())) if len(fx) <= 16 else float(abs(fx).max())
        norms.append(norm)
        if _small_residual(norm, x, jac, ftol):
            return done("converged", f"max |F(x)| = {norm:.3g}", True)
        if k == maxiter:
            break
        step = _newton_step(jac, fx)
        if step is None:
            return done(
                "singular",
                f"the Jacobian is singular at x = {x}: the tangent "
                "planes do not meet in one point. Try another x0.",
            )
        steps.append(step)
        x = x - step
        history.append(x.copy())
        # (a sum of |x_i| on Python floats is cheaper, and when it is <= 1e15 nothing ran)
        if not sum(map(abs, x.tolist())) <= 1e15 and _ran_away(x):
            return done("diverged", "the iterates ran away: try an x0 closer to a solution")
    return done(
        "max_iterations",
        f"no solution after {maxiter} iterations: max |F| is still "
        f"{float(np.max(np.abs(fx))):.3g}; the system may have no real solution near x0",
    )


def _newton_step(jac: np.ndarray, fx: np.ndarray) -> np.ndarray | None:
    """The solution of J step = F (the Newton step is its negative), or None when J is
    singular: its condition number (largest / smallest singular value) is infinite or
    above 1e14.

    LAPACK's own routines (the ones np.linalg.solve and np.linalg.cond call), without
    NumPy's checks and conversions around them; the singular values only when the LU
    factors cannot vouch for J (2 us in all instead of 20).
    """
    lu, _, step, info = lapack.dgesv(jac, fx)
    if info:  # a pivot is exactly 0
        return None
    if _surely_well_conditioned(jac, lu):
        return step
    singular_values = lapack.dgesdd(jac, compute_uv=0)[1]
    largest, smallest = float(singular_values[0]), float(singular_values[-1])
    cond = largest / smallest if smallest else math.inf
    return step if math.isfinite(cond) and cond <= 1e14 else None


def _surely_well_conditioned(jac: np.ndarray, lu: np.ndarray) -> bool:
    """Whether J's condition number is surely at most 1e14, from its LU factors: it is
    at most |J|_F^n / |det J| (the largest singular value is at most |J|_F, and the
    product of all of them is |det J|, the product of U's diagonal). Asking that bound
    to be below 1e12 leaves a factor 100 for rounding; n = 2 makes it nearly exact."""
    det = abs(math.prod(lu.diagonal().tolist()))
    flat = jac.ravel()
    size = float(np.dot(flat, flat))  # |J|_F^2
    if not (0 < det < math.inf and 0 < size < math.inf):
        return False  # (an overflow or underflow: let the singular values decide)
    return len(lu) / 2 * math.log(size) - math.log(det) <= LOG_1E12


LOG_1E12 = math.log(1e12)


def _ran_away(x: np.ndarray) -> bool:
    """x is not finite, or some |x_i| > 1e15 (NumPy's max is NaN when one entry is)."""
    return not float(abs(x).max()) <= 1e15
