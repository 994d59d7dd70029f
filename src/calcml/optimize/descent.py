"""Walking downhill: gradient descent, Newton's method with the Hessian, Newton-CG and BFGS.

All four move x_{k+1} = x_k + t_k p_k along a downhill direction p_k:

* gradient descent: p = -grad f, with a fixed step t, or backtracking (Armijo: halve t
  until f drops by at least c t |grad f|^2), optionally with momentum;
* Newton: p solves H p = -grad f, the minimum of the local quadratic model. When H is
  not positive definite that p may point uphill or to a saddle, so each eigenvalue
  lambda of H is replaced by |lambda| first (the modified Newton step), and the result
  notes that it did so;
* Newton-CG (truncated Newton): H p = -grad f solved roughly by conjugate gradients,
  stopped early (loosely far from the minimum) or at the first direction where f curves
  down, so H is never inverted nor modified;
* BFGS: p = -B grad f with B an approximation of the inverse Hessian built from the
  gradients already seen, with a line search satisfying the Wolfe conditions.

They stop when |grad f| is small (that is what success means), and say when they could
not: divergence (f growing, NaN, overflow), no decrease, too many iterations.

>>> r = gradient_descent("x^2 + 3y^2", x0=[2, 1], step=0.1)
>>> r.success, np.round(r.x, 6).tolist()
(True, [0.0, 0.0])
>>> gradient_descent("x^2 + 3y^2", x0=[2, 1], step=0.5).status
'diverged'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..budget import budgeted
from ..errors import CalcmlError
from ..function import Function, NotFiniteError
from .result import Result

ARMIJO_C = 1e-4


def as_start(fn: Function, x0: Any) -> np.ndarray:
    """x0 as a float vector with one entry per variable."""
    if fn.is_scalar is False:
        raise CalcmlError(
            "this needs a scalar function (one expression); for a system of equations use "
            "newton_raphson"
        )
    if isinstance(x0, dict):
        return fn._point(x0).copy()
    try:
        x = np.array(np.asarray(x0, dtype=float).ravel())
    except (TypeError, ValueError):
        raise CalcmlError(f"x0 must be numbers, not {x0!r}") from None
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise CalcmlError(f"x0 must be finite numbers, not {x0!r}")
    if fn.n is not None and x.shape != (fn.n,):
        names = ", ".join(fn.variables or [])
        raise CalcmlError(f"x0 needs {fn.n} number(s), one for each of {names}; got {x.size}")
    return x


class _Run:
    """The bookkeeping every method shares: history, table rows, the result."""

    def __init__(self, fn: Function, x0: np.ndarray, method: str) -> None:
        self.fn, self.method = fn, method
        self.start = (fn.nfev, fn.njev, fn.nhev)
        self.x = x0
        self.history = [x0.copy()]
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.tallies: dict[str, list[tuple[int, str]]] = {}  # see tally
        self.f = float("nan")
        self.g = np.full(x0.shape, np.nan)

    def row(self, k: int, step: Any = "") -> None:
        self.rows.append(
            {
                "k": k,
                "x": self.x.copy(),
                "f(x)": self.f,
                "|grad f|": float(np.linalg.norm(self.g)),
                "step": step,
            }
        )

    def move(self, x: np.ndarray) -> None:
        self.x = x
        self.history.append(x.copy())

    def tally(self, k: int, what: str, detail: str) -> None:
        """Note that ``what`` happened at iteration k (``detail``: its numbers there); a
        thing that happens at many iterations becomes one note listing them."""
        self.tallies.setdefault(what, []).append((k, detail))

    def _tallied(self) -> list[str]:
        notes = []
        for what, seen in self.tallies.items():
            ks = [k for k, _ in seen]
            if len(ks) == 1:
                notes.append(f"iteration {ks[0]}: {what} ({seen[0][1]})")
                continue
            shown = ", ".join(map(str, ks[:5])) + (
                f" and {len(ks) - 5} more" if len(ks) > 5 else ""
            )
            notes.append(f"iterations {shown}: {what} (first: {seen[0][1]})")
        return notes

    def result(self, status: str, message: str, success: bool = False) -> Result:
        fn = self.fn
        return Result(
            x=self.x,
            fun=self.f,
            success=success,
            status=status,
            message=message,
            history=self.history,
            rows=self.rows,
            method=self.method,
            nfev=fn.nfev - self.start[0],  # this run's evaluations, not the Function's
            njev=fn.njev - self.start[1],
            nhev=fn.nhev - self.start[2],
            jac=self.g,
            notes=self.notes + self._tallied(),
            variables=fn.variables,
        )

    def converged(self, gtol: float) -> Result:
        return self.result(
            "converged",
            f"|grad f| = {np.linalg.norm(self.g):.3g} <= {gtol:g} "
            f"at x = {np.array2string(self.x, precision=10)}",
            True,
        )


def _evaluate(fn: Function, x: np.ndarray) -> tuple[float, np.ndarray]:
    return _number(fn.value(x)), np.asarray(fn.gradient(x), dtype=float)


def _number(v: Any) -> float:
    arr = np.asarray(v, dtype=float)
    if arr.size != 1:
        raise CalcmlError(f"f must return one number to be minimised, not shape {arr.shape}")
    return float(arr.reshape(()))


def _backtrack(
    fn: Function, x: np.ndarray, f: float, g: np.ndarray, p: np.ndarray, t: float
) -> tuple[float, float] | None:
    """Armijo backtracking along p from step t: (t, f(x + t p)), or None if f never drops."""
    slope = float(g @ p)
    noise = 64 * np.finfo(float).eps * abs(f)  # f's rounding near x
    for _ in range(60):
        try:
            ft = _number(fn.value(x + t * p))
        except NotFiniteError:
            ft = np.inf
        if np.isfinite(ft) and ft <= f + ARMIJO_C * t * slope:
            return t, ft
        # Near a minimum the decrease Armijo asks for drowns in f's rounding: then the
        # step comes from the gradient, which is still accurate there (the secant step
        # to where the slope along p vanishes: exact for a quadratic).
        if np.isfinite(ft) and -t * slope <= noise:
            return _secant_step(fn, x, f, g, p, t, noise)
        t *= 0.5
    return None


def _secant_step(
    fn: Function, x: np.ndarray, f: float, g: np.ndarray, p: np.ndarray, t: float, noise: float
) -> tuple[float, float] | None:
    slope = float(g @ p)
    try:
        curvature = float(p @ (np.asarray(fn.gradient(x + t * p), dtype=float) - g)) / t
    except NotFiniteError:
        return None
    if not curvature > 0:
        return None
    step = -slope / curvature
    try:
        value = _number(fn.value(x + step * p))
    except NotFiniteError:
        return None
    return (step, value) if value <= f + noise else None


@budgeted
def gradient_descent(
    f: Any,
    x0: Any,
    step: float | str = 0.1,
    momentum: float = 0.0,
    gtol: float = 1e-6,
    maxiter: int = 10_000,
) -> Result:
    """Minimise f by steps against the gradient.

    ``step``: a number (fixed) or "backtracking" (Armijo line search). ``momentum`` in
    [0, 1): the heavy-ball method, v <- momentum v - step grad f, x <- x + v.

    Examples
    --------
    >>> r = gradient_descent("(x - 1)^2 + (y + 2)^2", x0=[0, 0], step="backtracking")
    >>> r.success, np.round(r.x, 6).tolist()
    (True, [1.0, -2.0])
    """
    fn = f if isinstance(f, Function) else Function(f)
    x = as_start(fn, x0)
    if step != "backtracking" and not (_is_number(step) and float(step) > 0):
        raise CalcmlError(f"step must be a positive number or 'backtracking', not {step!r}")
    if not (_is_number(momentum) and 0 <= float(momentum) < 1):
        raise CalcmlError(f"momentum must be a number in [0, 1), not {momentum!r}")
    name = "gradient_descent" + (" (backtracking)" if step == "backtracking" else "")
    run = _Run(fn, x, name)
    velocity = np.zeros_like(x)
    t = 1.0
    f0 = None
    rising = 0
    for k in range(maxiter + 1):
        try:
            f_new, run.g = _evaluate(fn, run.x)
        except NotFiniteError as err:
            return run.result(
                "not_finite",
                f"f is not finite at x = {run.x}: the steps ran "
                f"out of its domain or overflowed ({err}). Try a smaller step.",
            )
        rising = rising + 1 if f_new > run.f else 0
        run.f = f_new
        f0 = run.f if f0 is None else f0
        if np.linalg.norm(run.g) <= gtol:
            run.row(k)
            return run.converged(gtol)
        if k == maxiter:
            run.row(k)
            break
        if run.f < -1e150 or np.max(np.abs(run.x)) > 1e150:
            run.row(k)
            return run.result("unbounded", _unbounded(run))
        if (rising >= 10 and run.f > f0) or abs(run.f) > 1e150 or not np.isfinite(run.f):
            run.row(k)
            return run.result(
                "diverged",
                f"f grew from {f0:.6g} to {run.f:.6g} over the last "
                f"{rising} steps: the step {step} is too large for this function's "
                "curvature. Try a smaller step or step='backtracking'.",
            )
        if step == "backtracking":
            found = _backtrack(fn, run.x, run.f, run.g, -run.g, min(1.0, 2 * t))
            if found is None:
                run.row(k)
                return run.result(
                    "no_decrease",
                    "no step along -grad f lowers f: x is at a "
                    "minimum to rounding, or f is not smooth here",
                )
            t = found[0]
            run.row(k, t)
            run.move(run.x - t * run.g)
        else:
            velocity = momentum * velocity - float(step) * run.g
            run.row(k, float(step))
            run.move(run.x + velocity)
    return run.result(
        "max_iterations",
        f"|grad f| is still {np.linalg.norm(run.g):.3g} after "
        f"{maxiter} iterations: try a larger step, momentum, or method='bfgs'",
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool) and np.isfinite(v)


def _unbounded(run: _Run) -> str:
    return (
        f"f keeps decreasing without bound (f = {run.f:.3g} at |x| = "
        f"{np.max(np.abs(run.x)):.3g}): it has no minimum in this direction"
    )


def newton(fn: Function, x: np.ndarray, gtol: float, maxiter: int) -> Result:
    """Newton's method with the Hessian, shifted where not positive definite, and an
    Armijo line search on the Newton direction."""
    return _newton_run(fn, x, gtol, maxiter, "newton", _newton_direction)


def newton_cg(fn: Function, x: np.ndarray, gtol: float, maxiter: int) -> Result:
    """Newton-CG (truncated Newton): the Newton system solved only roughly, by conjugate
    gradients (see _cg_direction), and an Armijo line search on that direction."""
    return _newton_run(fn, x, gtol, maxiter, "newton_cg", _cg_direction)


def _newton_run(
    fn: Function, x: np.ndarray, gtol: float, maxiter: int, method: str, direction: Callable
) -> Result:
    """The loop both Newton methods share: f, grad f and the Hessian at x; stop at a small
    gradient (stepping off a saddle or maximum first); else a line search along
    ``direction(hess, g, k, tally)`` (tally: see _Run.tally)."""
    run = _Run(fn, x, method)
    escapes = 0
    known_f = None
    for k in range(maxiter + 1):
        try:
            if known_f is None:
                run.f, run.g = _evaluate(fn, run.x)
            else:  # f there is known from the line search
                run.f, run.g = known_f, np.asarray(fn.gradient(run.x), dtype=float)
            if k == maxiter:
                run.row(k)
                break
            hess = np.asarray(fn.hessian(run.x), dtype=float)
            hess = 0.5 * (hess + hess.T)  # symmetric to rounding, for both directions
        except NotFiniteError as err:
            return run.result(
                "not_finite", f"f or a derivative is not finite at x = {run.x}: {err}"
            )
        if run.f < -1e150 or np.max(np.abs(run.x)) > 1e150:
            run.row(k)
            return run.result("unbounded", _unbounded(run))
        if np.linalg.norm(run.g) <= gtol:
            values, vectors = np.linalg.eigh(hess)
            if values[0] >= -1e-8 * max(1.0, float(np.max(np.abs(hess)))) or escapes == 3:
                run.row(k)
                return run.converged(gtol)
            escapes += 1  # a saddle or a maximum: grad f = 0 but f curves down
            run.notes.append(
                f"iteration {k}: grad f = 0 at a saddle or maximum (Hessian eigenvalue "
                f"{values[0]:.3g}); stepped off along its eigenvector"
            )
            run.row(k, "escape")
            run.move(run.x + 0.1 * max(1.0, float(np.linalg.norm(run.x))) * vectors[:, 0])
            known_f = None
            continue
        p = direction(hess, run.g, k, run.tally)
        found = _backtrack(fn, run.x, run.f, run.g, p, 1.0)
        if found is None:
            run.row(k)
            return run.result(
                "no_decrease",
                "the line search found no lower point along the "
                f"{'Newton' if method == 'newton' else 'Newton-CG'} direction (rounding, "
                "or f is not smooth here)",
            )
        run.row(k, found[0])
        run.move(run.x + found[0] * p)
        known_f = found[1]
    return run.result(
        "max_iterations",
        f"|grad f| is still {np.linalg.norm(run.g):.3g} after {maxiter} iterations",
    )


def _newton_direction(hess: np.ndarray, g: np.ndarray, k: int, tally: Callable) -> np.ndarray:
    try:
        chol = np.linalg.cholesky(hess)
        return -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
    except np.linalg.LinAlgError:
        pass
    # Not positive definite: keep the Hessian's eigenvectors and make every curvature
    # positive, |lambda| (floored), so the step still follows the quadratic model's shape
    # but goes downhill along directions where f curves down instead of up to a maximum.
    values, vectors = np.linalg.eigh(hess)
    floor = 1e-8 * max(1.0, float(np.max(np.abs(values))))
    curvature = np.maximum(np.abs(values), floor)
    tally(
        k,
        "the Hessian is not positive definite; its negative curvatures were turned "
        "positive (|lambda|) so that the step goes downhill",
        f"smallest eigenvalue {values[0]:.3g}",
    )
    return -vectors @ ((vectors.T @ g) / curvature)


def _cg_direction(hess: np.ndarray, g: np.ndarray, k: int, tally: Callable) -> np.ndarray:
    """An approximate solution of H p = -g (H symmetric) by conjugate gradients (Nocedal and Wright,
    Algorithm 7.1), stopped early:

    * once the residual |H p + g| is below eta |g| with eta = min(1/2, sqrt|g|): a rough
      step far from the minimum, where the quadratic model is poor anyway, and an ever
      more exact one near it (which keeps Newton's fast convergence);
    * at the first direction d along which the Hessian curves down (d^T H d <= 0): the
      quadratic model has no minimum along d, so CG stops with the step built so far,
      which is downhill (or with -g if that happens at its first step).

    The Hessian is never inverted or modified: on a problem with negative curvature the
    steps follow the CG iterates, so the method may end at another minimum than Newton
    with the modified Hessian.
    """
    size = float(np.linalg.norm(g))
    enough = min(0.5, np.sqrt(size)) * size
    p = np.zeros_like(g)
    residual = g.copy()  # H p + g
    d = -residual
    rr = float(residual @ residual)
    for j in range(2 * len(g)):  # n steps in exact arithmetic; twice that for rounding
        hd = hess @ d
        curvature = float(d @ hd)
        if curvature <= 0:
            tally(
                k,
                "the Hessian curves down along a direction of CG, which stopped there "
                "(with the steepest descent direction if at its first step)",
                f"d^T H d = {curvature:.3g} at CG step {j + 1}",
            )
            return -g if j == 0 else p
        alpha = rr / curvature
        p = p + alpha * d
        residual = residual + alpha * hd
        rr_new = float(residual @ residual)
        if np.sqrt(rr_new) <= enough:
            break
        d = -residual + (rr_new / rr) * d
        rr = rr_new
    return p


def bfgs(fn: Function, x: np.ndarray, gtol: float, maxiter: int) -> Result:
    """BFGS with a Wolfe line search (SciPy's ``line_search``; backtracking if it fails).

    The inverse-Hessian guess starts as the identity, and the first trial step follows
    SciPy's estimate, so the iterations can be compared with ``scipy.optimize`` BFGS.
    """
    from scipy.optimize import line_search

    run = _Run(fn, x, "bfgs")
    n = len(x)
    inverse = np.eye(n)
    try:
        run.f, run.g = _evaluate(fn, run.x)
    except NotFiniteError as err:
        return run.result("not_finite", f"f is not finite at x0: {err}")
    previous_f = run.f + float(np.linalg.norm(run.g)) / 2  # sets the first step's length
    for k in range(maxiter + 1):
        if np.linalg.norm(run.g) <= gtol:
            run.row(k)
            return run.converged(gtol)
        if run.f < -1e150 or np.max(np.abs(run.x)) > 1e150:
            run.row(k)
            return run.result("unbounded", _unbounded(run))
        if k == maxiter:
            run.row(k)
            break
        p = -inverse @ run.g
        if run.g @ p >= 0:  # lost descent (rounding): restart from the gradient
            inverse = np.eye(n)
            p = -run.g
        seen: dict[str, Any] = {}
        t = _wolfe(line_search, fn, run.x, p, run.f, run.g, previous_f, seen)
        if t is None:
            found = _backtrack(fn, run.x, run.f, run.g, p, 1.0)
            if found is None:
                run.row(k)
                return run.result("no_decrease", "no step along the BFGS direction lowers f")
            t = found[0]
        run.row(k, t)
        s = t * p
        x_new = run.x + s
        try:  # the line search has usually evaluated both at the accepted point already
            f_new = seen["f"] if np.array_equal(seen.get("fx"), x_new) else _number(fn.value(x_new))
            g_new = (
                seen["g"]
                if np.array_equal(seen.get("gx"), x_new)
                else np.asarray(fn.gradient(x_new), dtype=float)
            )
        except NotFiniteError as err:
            return run.result("not_finite", f"f is not finite at x = {x_new}: {err}")
        y = g_new - run.g
        sy = float(s @ y)
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            rho = 1.0 / sy
            v = np.eye(n) - rho * np.outer(s, y)
            inverse = v @ inverse @ v.T + rho * np.outer(s, s)
        run.move(x_new)
        previous_f = run.f
        run.f, run.g = f_new, g_new
    return run.result(
        "max_iterations",
        f"|grad f| is still {np.linalg.norm(run.g):.3g} after {maxiter} iterations",
    )


def _wolfe(
    line_search: Callable,
    fn: Function,
    x: np.ndarray,
    p: np.ndarray,
    f: float,
    g: np.ndarray,
    previous_f: float,
    seen: dict[str, Any],
) -> float | None:
    """A step satisfying the strong Wolfe conditions, or None; the last value and
    gradient it computed are left in ``seen`` (BFGS needs them at the accepted point)."""

    def value(z: np.ndarray) -> float:
        try:
            v = _number(fn.value(z))
        except NotFiniteError:
            v = np.inf
        seen["fx"], seen["f"] = z.copy(), v
        return v

    def gradient(z: np.ndarray) -> np.ndarray:
        try:
            d = np.asarray(fn.gradient(z), dtype=float)
        except NotFiniteError:
            d = np.full(z.shape, np.nan)
        seen["gx"], seen["g"] = z.copy(), d
        return d

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = None
        if _MINPACK_SEARCH is not None:  # as SciPy's BFGS: MINPACK's search first
            t = _MINPACK_SEARCH(value, gradient, x, p, gfk=g, old_fval=f, old_old_fval=previous_f)[
                0
            ]
        if t is None:
            t = line_search(value, gradient, x, p, gfk=g, old_fval=f, old_old_fval=previous_f)[0]
    return None if t is None or not np.isfinite(t) or t <= 0 else float(t)


try:  # MINPACK's line search (More-Thuente), which SciPy's BFGS tries first; not public
    from scipy.optimize._linesearch import line_search_wolfe1 as _MINPACK_SEARCH
except ImportError:  # a SciPy without it: the public Wolfe search alone
    _MINPACK_SEARCH = None
