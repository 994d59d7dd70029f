"""Minimising along equality constraints c(x) = 0: SQP, Newton on the Lagrangian.

At a constrained minimum grad f = A^T lambda (A: the Jacobian of c), the condition
Lagrange multipliers express. Each SQP step solves the KKT system of the quadratic model

    [ H  -A^T ] [ p      ]   [ -grad f ]
    [ A   0   ] [ lambda ] = [ -c      ]

with H the Hessian of L = f - lambda . c. Plain Newton on these equations finds *any*
stationary point of L (a maximum as happily as a minimum), so two safeguards make it a
minimiser: H is shifted until it is positive definite on the constraints' tangent space
(the step then goes downhill there), and each step is shortened until the merit
function f + mu |c|_1 drops (Armijo), with mu above the multipliers. Before a full step
is shortened, a second-order correction back onto the constraints is tried, so that
the curvature of c does not slow the last steps down (the Maratos effect).

>>> r = sqp("x + y", ["x^2 + y^2 - 2"], x0=[1, -1])
>>> r.success, np.round(r.x, 8).tolist(), np.round(r.multipliers, 8).tolist()
(True, [-1.0, -1.0], [-0.5])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.linalg import lapack

from ..budget import budgeted
from ..errors import CalcmlError
from ..function import Function, NotFiniteError, stacked
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
    return _SQP(fn, cn, x, gtol, ctol).run(maxiter)


class _Problem:
    """f and c at a point. For expressions both come from one compiled Function of
    (f, c_1, ..., c_m): their values are one call, and their first and second derivatives
    another, counted on f and on c as if each had been called. Where that call meets a
    number that is not finite, f and c are called apart, to raise the error that names
    which (and to ask for the Hessians only when needed, as for callables)."""

    def __init__(self, fn: Function, cn: Function) -> None:
        self.fn, self.cn = fn, cn
        both = stacked(fn, cn)
        self.joint = both is not None
        if both is not None:
            self._values = both._raw((0,))
            self._derivatives = both._raw((1, 2))
            self._rows = both.m or 1  # f and each constraint
        self.hessians: tuple[np.ndarray, np.ndarray] | None = None  # (x, at x)

    def values(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """f(x) and c(x)."""
        if self.joint:
            out, finite = self._values(x)
            if finite:
                self.fn.nfev += 1
                self.cn.nfev += 1
                return float(out[0]) + 0.0, out[1:]  # (+ 0.0: no -0.0)
        return float(self.fn.value(x)), np.atleast_1d(np.asarray(self.cn.value(x), float))

    def firsts(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """grad f(x) and the Jacobian A of c at x; with them, in the same call, the
        Hessians at x, kept for lagrangian_hessian (every iteration needs them)."""
        self.hessians = None
        if self.joint:
            out, finite = self._derivatives(x)
            if finite:
                for g in (self.fn, self.cn):
                    g.njev += 1
                    g.nhev += 1
                rows, n = self._rows, len(x)
                first = out[: rows * n].reshape(rows, n)
                self.hessians = (x, out[rows * n :].reshape(rows, n, n))
                return first[0], first[1:]
        return np.asarray(self.fn.gradient(x), float), np.atleast_2d(self.cn.jacobian(x))

    def lagrangian_hessian(self, x: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """The Hessian of L = f - lambda . c (the constraints' only where lambda != 0)."""
        weights = lam.tolist()
        if self.hessians is not None and self.hessians[0] is x:
            hs = self.hessians[1]
        elif not any(weights):
            return _symmetric(self.fn.hessian(x), self.fn)
        else:  # (compiled Hessians are symmetric to the last bit, AD's may not be)
            hs = [_symmetric(self.fn.hessian(x), self.fn), *self.cn._hessians(x)]
        h = hs[0].copy()
        for weight, hc in zip(weights, hs[1:], strict=True):
            if weight:
                h -= weight * hc
        return _symmetric(h, self.cn)


def _symmetric(h: np.ndarray, fn: Function) -> np.ndarray:
    # compiled Hessians are filled from their upper triangle: already symmetric
    return h if fn.is_symbolic else 0.5 * (h + h.T)


class _SQP:
    """One run: the iterate, the multipliers, the penalty mu and the record."""

    def __init__(self, fn: Function, cn: Function, x: np.ndarray, gtol: float, ctol: float):
        self.fn, self.cn, self.problem = fn, cn, _Problem(fn, cn)
        self.gtol, self.ctol = gtol, ctol
        self.start = (fn.nfev + cn.nfev, fn.njev + cn.njev, fn.nhev + cn.nhev)
        self.x = x
        self.far = 1e6 * (1 + float(np.max(np.abs(x))))  # |x| beyond this: unbounded
        self.history, self.rows, self.notes = [x.copy()], [], []
        self.fx = float("nan")
        self.grad = np.full(x.shape, np.nan)
        self.lam = np.zeros(0)
        self.mu = 0.0  # the penalty of the merit function: above every |lambda| seen
        self.escapes = 0

    def done(self, status: str, message: str, success: bool = False) -> Result:
        fn, cn = self.fn, self.cn
        return Result(
            x=self.x,
            fun=self.fx,
            success=success,
            status=status,
            message=message,
            history=self.history,
            rows=self.rows,
            method="sqp",
            nfev=fn.nfev + cn.nfev - self.start[0],
            njev=fn.njev + cn.njev - self.start[1],
            nhev=fn.nhev + cn.nhev - self.start[2],
            jac=self.grad + 0.0,  # (no -0.0)
            multipliers=self.lam,
            notes=self.notes,
            variables=fn.variables,
        )

    def run(self, maxiter: int) -> Result:
        c = np.zeros(0)
        known = False  # f(x) and c(x) are known (from the line search)
        f_scale = 1.0
        for k in range(maxiter + 1):
            x = self.x
            try:
                if not known:
                    self.fx, c = self.problem.values(x)
                self.grad, a = self.problem.firsts(x)
            except NotFiniteError as err:
                return self.done("not_finite", f"f or a constraint is not finite at x = {x}: {err}")
            svd = _Svd(a)
            if k == 0:
                self.lam = svd.least_squares_transposed(self.grad)  # the best first ones
                f_scale = max(1.0, abs(self.fx))  # fixed at x0: an f running off must not loosen it
            if self.fx < -1e150 or _max_abs(x) > self.far:
                return self.done("unbounded", _unbounded(x, self.fx))
            stationarity = _max_abs(self.grad - a.T @ self.lam)
            feasibility = _max_abs(c)
            self.rows.append(
                {
                    "k": k,
                    "x": x.copy(),
                    "f(x)": self.fx,
                    "|c(x)|": feasibility,
                    "|grad L|": stationarity,
                    "lambda": self.lam.copy(),
                }
            )
            if stationarity <= self.gtol * f_scale and feasibility <= self.ctol:
                if self._escaped(k, svd):
                    known = False
                    continue
                return self.done(
                    "converged",
                    f"grad f = A^T lambda to {stationarity:.2g} and "
                    f"|c| = {feasibility:.2g} at x = {_vector_text(x)}",
                    True,
                )
            if k == maxiter:
                break
            failed = self._iterate(k, c, a, svd)
            if failed is not None:
                return failed
            c, known = self.c_new, True
        return self.done("max_iterations", f"not converged in {maxiter} iterations")

    def _iterate(self, k: int, c: np.ndarray, a: np.ndarray, svd: _Svd) -> Result | None:
        """One SQP step from self.x: the KKT system, then the merit line search. Returns a
        failed Result, or None with self.x, fx, c_new and lam moved on."""
        x = self.x
        try:
            h = self.problem.lagrangian_hessian(x, self.lam)
        except NotFiniteError as err:
            return self.done("not_finite", f"a second derivative is not finite at x = {x}: {err}")
        h = _convexify(h, svd.null_space, k, self.notes)
        solution = _kkt_solve(h, a, self.grad, c)
        if solution is None:
            return self.done(
                "singular",
                "the constraints' gradients are linearly dependent at x "
                f"= {x} (the KKT matrix is singular): check the constraints, or start "
                "elsewhere",
            )
        p, lam_new = solution
        self.mu = max(self.mu, 1.1 * _max_abs(lam_new) + 1e-3)
        step = _merit_step(self.problem, x, self.fx, c, self.grad, p, self.mu, svd)
        if step is None:
            return self.done(
                "no_decrease",
                "no step lowers the merit function f + mu |c|: the "
                "problem may be badly scaled, or x0 too far from a solution",
            )
        t, self.x, self.fx, self.c_new = step
        self.lam = self.lam + t * (lam_new - self.lam)
        self.history.append(self.x.copy())
        return None

    def _escaped(self, k: int, svd: _Svd) -> bool:
        """At a point that satisfies the Lagrange conditions: if f curves down along the
        constraints there (a maximum or saddle), step off along that direction."""
        if self.escapes >= 3:
            return False
        x = self.x
        try:
            h = self.problem.lagrangian_hessian(x, self.lam)
        except NotFiniteError:
            return False
        away = _negative_curvature(h, svd.null_space, x)
        if away is None:
            return False
        self.escapes += 1
        self.notes.append(
            f"iteration {k}: x = {np.array2string(x, precision=6)} satisfies "
            "the Lagrange conditions but f curves down along the constraints "
            "there (not a minimum); stepped off along that direction"
        )
        self.x = x + away
        self.history.append(self.x.copy())
        return True


def _max_abs(v: np.ndarray) -> float:
    # on Python floats: 0.3 us for the few numbers of a constrained problem, 1.3 in NumPy
    return max(map(abs, v.tolist()), default=0.0) if v.size <= 16 else float(abs(v).max())


def _vector_text(x: np.ndarray) -> str:
    # np.array2string takes 40 us, a sizeable part of a small problem's solve
    return "[" + ", ".join(f"{v:.10g}" for v in x.tolist()) + "]"


def _unbounded(x: np.ndarray, fx: float) -> str:
    return (
        f"x ran off to {np.array2string(x, precision=3)} with f = "
        f"{fx:.3g}: f seems to decrease without bound along the constraints "
        "(no minimum). Check the problem, or bound it with more constraints."
    )


class _Svd:
    """A = U S V^T, and what SQP reads from it: the null space of A (the directions that
    keep the linearised constraints) and least-squares solutions with A and A^T.

    LAPACK's dgesdd, as np.linalg.svd calls it, without NumPy's wrapper."""

    def __init__(self, a: np.ndarray) -> None:
        u, s, vt, info = lapack.dgesdd(a, compute_uv=1, full_matrices=1)
        if info:
            u, s, vt = np.linalg.svd(a)  # raises LinAlgError as NumPy would
        values = s.tolist()
        self.rank = sum(v > 1e-12 * max(1.0, values[0]) for v in values)
        self.u, self.s, self.vt = u, s, vt
        self.shape = a.shape

    @property
    def null_space(self) -> np.ndarray:
        """An orthonormal basis of the null space of A, as columns."""
        return self.vt[self.rank :].T

    def smallest_solution(self, r: np.ndarray) -> np.ndarray:
        """The d of least norm that solves A d = r (in the least-squares sense)."""
        k = self.rank
        return self.vt[:k].T @ ((self.u[:, :k].T @ r) / self.s[:k])

    def least_squares_transposed(self, g: np.ndarray) -> np.ndarray:
        """The smallest lambda that minimises |A^T lambda - g|, as np.linalg.lstsq(A.T, g)
        finds it (the same cutoff of small singular values): U S^-1 V^T g."""
        s = self.s
        k = int(np.sum(s > np.finfo(float).eps * max(self.shape) * (s[0] if len(s) else 0.0)))
        return self.u[:, :k] @ ((self.vt[:k] @ g) / s[:k])


def _kkt_solve(
    h: np.ndarray, a: np.ndarray, grad: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The step p and the new multipliers from the KKT system, or None when it is
    singular (LAPACK's dgesv, as np.linalg.solve, without its wrapper)."""
    n, m = len(grad), len(c)
    kkt = np.zeros((n + m, n + m))
    kkt[:n, :n] = h
    kkt[:n, n:] = -a.T
    kkt[n:, :n] = a
    solution, info = lapack.dgesv(kkt, np.concatenate([-grad, -c]))[2:]
    if info:
        return None
    return solution[:n], solution[n:]


def _negative_curvature(h: np.ndarray, z: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """A small step along the constraints (the columns of z) in which L curves
    downwards, or None when the Lagrangian's Hessian h is positive semidefinite there (a
    minimum, to second order)."""
    if z.shape[1] == 0:
        return None
    values, vectors, info = lapack.dsyevd(z.T @ h @ z, compute_v=1, lower=1)  # as np.eigh
    if info:
        values, vectors = np.linalg.eigh(z.T @ h @ z)  # raises LinAlgError as NumPy would
    if values[0] >= -1e-8 * max(1.0, _max_abs(h.ravel())):
        return None
    return 0.1 * max(1.0, math.sqrt(x @ x)) * (z @ vectors[:, 0])


def _convexify(h: np.ndarray, z: np.ndarray, k: int, notes: list[str]) -> np.ndarray:
    """Shift H until it is positive definite on the null space of A (the columns of z,
    the directions that keep the constraints), so that the SQP step heads for a minimum."""
    if z.shape[1] == 0:
        return h
    reduced = z.T @ h @ z
    low = float(lapack.dsyevd(reduced, compute_v=0, lower=1)[0][0])  # as np.linalg.eigvalsh
    scale = max(1.0, _max_abs(h.ravel()))
    if low > 1e-8 * scale:
        return h
    tau = -low + max(abs(low), 1e-3 * scale)  # the negative curvature, turned positive
    notes.append(
        f"iteration {k}: the Lagrangian's Hessian is not positive definite along "
        f"the constraints (smallest eigenvalue {low:.3g}); shifted by {tau:.3g}"
    )
    shifted = h.copy()
    shifted.flat[:: len(h) + 1] += tau  # the diagonal
    return shifted


def _merit_step(
    problem: _Problem,
    x: np.ndarray,
    fx: float,
    c: np.ndarray,
    grad: np.ndarray,
    p: np.ndarray,
    mu: float,
    svd: _Svd,
) -> tuple[float, np.ndarray, float, np.ndarray] | None:
    """Halve t from 1 until the merit function f + mu |c|_1 drops enough (Armijo), and
    return t, the new point and f and c there (the next iteration needs them), or None.

    When the full step fails, a second-order correction is tried first (Nocedal and
    Wright, Numerical Optimization, 18.3): the smallest step back onto the linearised
    constraints from x + p. Near a solution the curvature of the constraints can make a
    good full step raise |c| (the Maratos effect); the correction keeps its fast
    convergence instead of cutting it short."""
    size = sum(map(abs, c.tolist()))
    merit = fx + mu * size
    slope = min(float(grad @ p) - mu * size, 0.0)

    def at(z: np.ndarray) -> tuple[float, np.ndarray, float] | None:
        """f, c and the merit function at z; None where they are not finite."""
        try:
            fz, cz = problem.values(z)
        except NotFiniteError:
            return None
        value = fz + mu * sum(map(abs, cz.tolist()))
        return (fz, cz, value) if math.isfinite(value) else None

    t = 1.0
    for i in range(50):
        z = x + t * p
        found = at(z)
        if found is not None and found[2] <= merit + 1e-4 * t * slope:
            return t, z, found[0], found[1]
        if i == 0 and found is not None:
            corrected = z - svd.smallest_solution(found[1])
            better = at(corrected)
            if better is not None and better[2] <= merit + 1e-4 * slope:
                return 1.0, corrected, better[0], better[1]
        t *= 0.5
    return None
