"""Minimising along equality constraints c(x) = 0: SQP, Newton on the Lagrangian.

At a constrained minimum grad f = A^T lambda (A: the Jacobian of c), the condition
Lagrange multipliers express. Each SQP step solves the KKT system of the quadratic model

    [ H  -A^T ] [ p      ]   [ -grad f ]
    [ A   0   ] [ lambda ] = [ -c      ]

with H the Hessian of L = f - lambda . c. Plain Newton on these equations finds *any*
stationary point of L (a maximum as happily as a minimum), so two safeguards make it a
minimiser: H is shifted until it is positive definite on the constraints' tangent space
(the step then goes downhill there), and each step is shortened until the merit
function f + mu |c|_1 drops (Armijo), with mu above the multipliers.

>>> r = sqp("x + y", ["x^2 + y^2 - 2"], x0=[1, -1])
>>> r.success, np.round(r.x, 8).tolist(), np.round(r.multipliers, 8).tolist()
(True, [-1.0, -1.0], [-0.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..budget import budgeted
from ..errors import CalcmlError
from ..function import Function, NotFiniteError
from .descent import as_start
from .result import Result


def _constraints(constraints: Any, fn: Function) -> Function:
    if isinstance(constraints, Function):
        return constraints
    items = [constraints] if isinstance(constraints, str) else list(constraints)
    if not items:
        raise CalcmlError("give at least one constraint g(x) (meaning g(x) = 0)")
    if all(callable(c) and not isinstance(c, str) for c in items) and not fn.is_symbolic:
        import calcml.numpy as cnp

        return Function(lambda v: cnp.stack([c(v) for c in items]), variables=fn.variables)
    return Function(list(items), variables=fn.variables)


@budgeted
def sqp(
    f: Any,
    constraints: Any,
    x0: Any,
    gtol: float = 1e-8,
    ctol: float = 1e-10,
    maxiter: int = 100,
) -> Result:
    """Minimise f subject to c_i(x) = 0 from x0; the result carries ``multipliers``."""
    fn = f if isinstance(f, Function) else Function(f)
    x = as_start(fn, x0)
    cn = _constraints(constraints, fn)
    history, rows, notes = [x.copy()], [], []
    start = (fn.nfev + cn.nfev, fn.njev + cn.njev, fn.nhev + cn.nhev)
    mu = 1.0
    f_scale = 1.0
    escapes = 0
    lam = np.zeros(0)
    fx = float("nan")
    grad = np.full(x.shape, np.nan)

    def done(status: str, message: str, success: bool = False) -> Result:
        return Result(
            x=x,
            fun=fx,
            success=success,
            status=status,
            message=message,
            history=history,
            rows=rows,
            method="sqp",
            nfev=fn.nfev + cn.nfev - start[0],
            njev=fn.njev + cn.njev - start[1],
            nhev=fn.nhev + cn.nhev - start[2],
            jac=grad,
            multipliers=lam,
            notes=notes,
            variables=fn.variables,
        )

    for k in range(maxiter + 1):
        try:
            fx, grad = float(fn.value(x)), np.asarray(fn.gradient(x), dtype=float)
            c = np.atleast_1d(np.asarray(cn.value(x), dtype=float))
            a = np.atleast_2d(cn.jacobian(x))
        except NotFiniteError as err:
            return done("not_finite", f"f or a constraint is not finite at x = {x}: {err}")
        if k == 0:
            lam = np.linalg.lstsq(a.T, grad, rcond=None)[0]  # the best first multipliers
        if fx < -1e150 or np.max(np.abs(x)) > 1e6 * (1 + np.max(np.abs(history[0]))):
            return done(
                "unbounded",
                f"x ran off to {np.array2string(x, precision=3)} with f = "
                f"{fx:.3g}: f seems to decrease without bound along the constraints "
                "(no minimum). Check the problem, or bound it with more constraints.",
            )
        stationarity = float(np.max(np.abs(grad - a.T @ lam)))
        feasibility = float(np.max(np.abs(c)))
        rows.append(
            {
                "k": k,
                "x": x.copy(),
                "f(x)": fx,
                "|c(x)|": feasibility,
                "|grad L|": stationarity,
                "lambda": lam.copy(),
            }
        )
        if k == 0:
            f_scale = max(1.0, abs(fx))  # fixed at x0: an f running off must not loosen it
        if stationarity <= gtol * f_scale and feasibility <= ctol:
            away = _negative_curvature(fn, cn, x, lam, a) if escapes < 3 else None
            if away is not None:  # a maximum or saddle along the constraints: leave it
                escapes += 1
                notes.append(
                    f"iteration {k}: x = {np.array2string(x, precision=6)} satisfies "
                    "the Lagrange conditions but f curves down along the constraints "
                    "there (not a minimum); stepped off along that direction"
                )
                x = x + away
                history.append(x.copy())
                continue
            return done(
                "converged",
                f"grad f = A^T lambda to {stationarity:.2g} and "
                f"|c| = {feasibility:.2g} at x = {np.array2string(x, precision=10)}",
                True,
            )
        if k == maxiter:
            break
        try:
            h = _lagrangian_hessian(fn, cn, x, lam)
        except NotFiniteError as err:
            return done("not_finite", f"a second derivative is not finite at x = {x}: {err}")
        h = _convexify(h, a, k, notes)
        n, m = len(x), len(c)
        kkt = np.block([[h, -a.T], [a, np.zeros((m, m))]])
        try:
            sol = np.linalg.solve(kkt, np.concatenate([-grad, -c]))
        except np.linalg.LinAlgError:
            return done(
                "singular",
                "the constraints' gradients are linearly dependent at x "
                f"= {x} (the KKT matrix is singular): check the constraints, or start "
                "elsewhere",
            )
        p, lam_new = sol[:n], sol[n:]
        mu = max(mu, 1.1 * float(np.max(np.abs(lam_new))) + 1e-3)
        t = _merit_step(fn, cn, x, fx, c, grad, p, mu)
        if t is None:
            return done(
                "no_decrease",
                "no step lowers the merit function f + mu |c|: the "
                "problem may be badly scaled, or x0 too far from a solution",
            )
        x = x + t * p
        lam = lam + t * (lam_new - lam)
        history.append(x.copy())
    return done("max_iterations", f"not converged in {maxiter} iterations")


def _lagrangian_hessian(fn: Function, cn: Function, x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    h = np.asarray(fn.hessian(x), dtype=float).copy()
    for i, li in enumerate(lam):
        if li:
            h -= li * _component_hessian(cn, i, x)
    return 0.5 * (h + h.T)


def _component_hessian(cn: Function, i: int, x: np.ndarray) -> np.ndarray:
    cache = cn.__dict__.setdefault("_parts", {})
    if i not in cache:
        if cn.is_symbolic:
            cache[i] = Function(cn.expr[i], variables=cn.variables)
        else:
            base = cn._fn

            def part(v: Any, base: Any = base, i: int = i) -> Any:
                return base(v)[i]

            cache[i] = Function(part, variables=cn.variables)
    return np.asarray(cache[i].hessian(x), dtype=float)


def _negative_curvature(
    fn: Function, cn: Function, x: np.ndarray, lam: np.ndarray, a: np.ndarray
) -> np.ndarray | None:
    """A small step along the constraints in which L curves downwards, or None when the
    Lagrangian's Hessian is positive semidefinite there (a minimum, to second order)."""
    h = _lagrangian_hessian(fn, cn, x, lam)
    _, s, vt = np.linalg.svd(a)
    rank = int(np.sum(s > 1e-12 * max(1.0, s[0] if len(s) else 1.0)))
    z = vt[rank:].T
    if z.shape[1] == 0:
        return None
    values, vectors = np.linalg.eigh(z.T @ h @ z)
    if values[0] >= -1e-8 * max(1.0, float(np.max(np.abs(h)))):
        return None
    return 0.1 * max(1.0, float(np.linalg.norm(x))) * (z @ vectors[:, 0])


def _convexify(h: np.ndarray, a: np.ndarray, k: int, notes: list[str]) -> np.ndarray:
    """Shift H until it is positive definite on the null space of A (the directions that
    keep the constraints), so that the SQP step heads for a minimum."""
    _, s, vt = np.linalg.svd(a)
    rank = int(np.sum(s > 1e-12 * max(1.0, s[0] if len(s) else 1.0)))
    z = vt[rank:].T
    if z.shape[1] == 0:
        return h
    low = float(np.linalg.eigvalsh(z.T @ h @ z)[0])
    scale = max(1.0, float(np.max(np.abs(h))))
    if low > 1e-8 * scale:
        return h
    tau = -low + max(abs(low), 1e-3 * scale)  # the negative curvature, turned positive
    notes.append(
        f"iteration {k}: the Lagrangian's Hessian is not positive definite along "
        f"the constraints (smallest eigenvalue {low:.3g}); shifted by {tau:.3g}"
    )
    return h + tau * np.eye(len(h))


def _merit_step(
    fn: Function,
    cn: Function,
    x: np.ndarray,
    fx: float,
    c: np.ndarray,
    grad: np.ndarray,
    p: np.ndarray,
    mu: float,
) -> float | None:
    merit = fx + mu * float(np.sum(np.abs(c)))
    slope = float(grad @ p) - mu * float(np.sum(np.abs(c)))
    t = 1.0
    for _ in range(50):
        try:
            z = x + t * p
            value = float(fn.value(z)) + mu * float(np.sum(np.abs(cn.value(z))))
        except NotFiniteError:
            value = np.inf
        if np.isfinite(value) and value <= merit + 1e-4 * t * min(slope, 0.0):
            return t
        t *= 0.5
    return None
