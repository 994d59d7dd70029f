"""The three ways to minimise chi^2(p) = |r(p)|^2, r = (f(x; p) - y) / sigma.

With J = dr/dp (here stored as rows, one per parameter) and g = J r the half-gradient:

* **gradient descent** (the course's method): p <- p - gamma grad chi^2, with gamma from
  a backtracking line search (Armijo), so it cannot overshoot, and each parameter's
  step divided by the curvature of chi2 along it (so that parameters of very different
  sizes move alike); still slow in long, narrow valleys.
* **Gauss-Newton**: linearise r and solve the linear least-squares problem
  min |r + J^T h| for the step h; fast near the answer, but it may overshoot far away,
  so the step is halved until chi^2 drops.
* **Levenberg-Marquardt** (default): Gauss-Newton with a damping term,
  (J J^T + mu D) h = -J r, D the running maximum of diag(J J^T) (Marquardt's scaling:
  the method does not care about the units of the parameters). A step that lowers
  chi^2 about as much as the linear model promised is accepted and mu shrinks
  (Gauss-Newton takes over); a bad one is refused and mu grows (the step turns towards
  the gradient and shortens). The steps come from the scaled normal matrix when it is
  well conditioned, else from an SVD of J, so ill-conditioned problems keep their
  digits; the answer itself is judged by J r computed directly, never by the steps.

A run stops when it has converged (the step is negligible next to p, chi^2 stopped
falling, or the gradient is orthogonal to the residuals to rounding), and says so; or
when it cannot go on (no lower point, values not finite, iteration limit), and says that.

>>> import numpy as np
>>> from calcml.fit.model import model_from
>>> x = np.linspace(0, 4, 9); y = 3 * np.exp(-0.7 * x)
>>> prob = Problem(model_from("a*exp(-k*x)"), [x], y)
>>> out = levenberg_marquardt(prob, np.array([1.0, 1.0]))
>>> out.status, np.round(out.p, 10).tolist()
('converged', [3.0, 0.7])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.lapack import dsyevd as _lapack_syevd

from ..errors import CalcmlError
from .model import Model

EPS = np.finfo(float).eps


@dataclass
class Problem:
    """What the solvers see: weighted residuals of the varying parameters ``q``.

    ``full`` holds every parameter (fixed ones keep their value); ``free`` indexes the
    varying ones; ``lower``/``upper`` bound them (steps are projected into the box).
    """

    model: Model
    xs: Sequence[np.ndarray]
    y: np.ndarray
    weights: np.ndarray | None = None  # 1 / sigma
    full: np.ndarray | None = None
    free: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    nfev: int = 0
    njev: int = 0

    def _params(self, q: np.ndarray) -> np.ndarray:
        if self.free is None:
            return q
        p = self.full.copy()  # type: ignore[union-attr]
        p[self.free] = q
        return p

    def residuals(self, q: np.ndarray) -> np.ndarray:
        self.nfev += 1
        r = self.model.value(self.xs, self._params(q)) - self.y
        return r if self.weights is None else r * self.weights

    def residuals_and_jacobian(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.nfev += 1
        self.njev += 1
        f, jac = self.model.value_and_jacobian(self.xs, self._params(q))
        if self.free is not None:
            jac = jac[self.free]
        r = f - self.y
        if self.weights is not None:
            r = r * self.weights
            jac = jac * self.weights
        return r, jac

    def held(self, q: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The parameters at a bound that the gradient g = J r pushes outwards: there
        chi2 would fall beyond the bound, so they are held (an active set)."""
        return ((q <= self.lower) & (g > 0)) | ((q >= self.upper) & (g < 0))

    def project(self, q: np.ndarray) -> np.ndarray:
        if self.lower is None:
            return q
        return np.clip(q, self.lower, self.upper)


@dataclass
class Outcome:
    """A solver's answer: the varying parameters, chi^2 there, and how it went."""

    p: np.ndarray
    chi2: float
    status: str
    message: str
    history: list[np.ndarray] = field(default_factory=list)
    chi2_history: list[float] = field(default_factory=list)
    r: np.ndarray | None = None  # the residuals and Jacobian at p, when known
    jac: np.ndarray | None = None
    gauss_newton_step: np.ndarray | None = None  # the undamped step from p, when known

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def nit(self) -> int:
        return max(len(self.history) - 1, 0)


@dataclass
class Tolerances:
    """When a run has converged: a scaled step below ``xtol`` relative to p, a relative
    fall of chi^2 below ``ftol``, or every column of J at an angle to r whose cosine is
    below ``gtol``. Tight by default: NIST certifies parameters to 11 digits."""

    xtol: float = 1e-12
    ftol: float = 1e-15
    gtol: float = 1e-12
    maxiter: int = 1000


#: A run that stops is at a minimum only if every column of J is this close to
#: orthogonal to r (the cosine of their angle); else it is stuck, or stalled.
STATIONARY = 1e-6


def _finite(r: np.ndarray) -> bool:
    return bool(np.isfinite(r).all())


def _cosine(jac: np.ndarray, r: np.ndarray, chi: float) -> float:
    """max_j |J_j . r| / (|J_j| |r|): 0 at a stationary point of chi^2 (a parameter
    that does not move the model, |J_j| = 0, counts as stationary)."""
    if chi == 0.0 or len(jac) == 0:
        return 0.0
    norms2 = np.einsum("ij,ij->i", jac, jac)
    g = np.abs(jac @ r)
    return float(np.max(g / np.sqrt(np.maximum(norms2, 1e-300) * chi)))


def _start(prob: Problem, q0: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    r, jac = prob.residuals_and_jacobian(q0)
    if not _finite(r) or not _finite(jac):
        what = "the model" if not _finite(r) else "its derivatives"
        raise CalcmlError(
            f"{what} is not finite at the starting values {np.round(q0, 6).tolist()}: "
            "choose p0 where the model is defined (no division by zero, no log of a "
            "negative number)"
        )
    return r, jac, float(r @ r)


# -- Levenberg-Marquardt ----------------------------------------------------------------------


def levenberg_marquardt(prob: Problem, q0: np.ndarray, tol: Tolerances | None = None) -> Outcome:
    """Levenberg-Marquardt with Marquardt's scaling and Nielsen's update of the damping."""
    tol = tol or Tolerances()
    q = prob.project(np.array(q0, dtype=float))
    r, jac, chi = _start(prob, q)
    history, chis = [q.copy()], [chi]
    normal = jac @ jac.T
    scale = np.maximum(normal.diagonal(), EPS)  # D: the running maximum of diag(J J^T)
    mu = 1e-3  # relative to D, so without units: a nearly Gauss-Newton start
    nu = 2.0
    bounded = prob.lower is not None

    model = None

    def ending(status: str, why: str) -> Outcome:
        out = Outcome(q, chi, status, why, history, chis, r, jac)
        if model is not None and model.at is q and model.keep is None and model.w[0] > 0:
            out.gauss_newton_step = model.step(0.0)[0] / model.root  # from this very q
        return out

    for _ in range(tol.maxiter):
        keep = None  # with bounds: the parameters not pressed against one
        if bounded:
            keep = ~prob.held(q, jac @ r)
            if not keep.any():
                return ending("converged", "every parameter is held at one of its bounds")
            if keep.all():
                keep = None
        if keep is None:
            model = _DampedModel(jac, r, normal, scale)  # serves every mu of this iteration
        else:
            model = _DampedModel(jac[keep], r, normal[np.ix_(keep, keep)], scale[keep])
            model.keep = keep
        model.at = q
        # At a minimum (to rounding) even the undamped step promises nothing: this is
        # also the test of a vanishing gradient, and of a zero chi2.
        if model.best_fall() <= tol.ftol * chi:
            return ending(
                "converged", "even a full Gauss-Newton step would lower chi2 by less than rounding"
            )
        free_q = q if keep is None else q[keep]
        scaled_q = model.root * free_q
        size = math.sqrt(scaled_q @ scaled_q)
        while True:
            z, predicted = model.step(mu)
            if math.sqrt(z @ z) <= tol.xtol * (size + tol.xtol):  # |D^(1/2) h| = |z|
                return ending("converged", "the step became negligible next to p")
            h = z / model.root
            if keep is not None:  # held parameters stay where they are
                h = np.zeros_like(q)
                h[keep] = z / model.root
            trial = q + h
            if bounded:
                trial = prob.project(trial)
                if not np.array_equal(trial, q + h):  # a bound cut the step
                    h = trial - q
                    predicted = chi - float(np.sum((r + jac.T @ h) ** 2))
            # f and J together: most steps are accepted, and then J is needed there
            r_new, jac_new = prob.residuals_and_jacobian(trial)
            chi_new = float(r_new @ r_new)
            gain = (chi - chi_new) / predicted if predicted > 0 and chi_new == chi_new else -1.0
            if gain > 0:  # accepted: chi2 fell; trust the linear model more
                mu *= max(1 / 3, 1 - (2 * gain - 1) ** 3)
                nu = 2.0
                break
            mu *= nu  # refused: damp more, towards a short gradient step
            nu *= 2.0
            if mu > 1e300:
                return ending("no_decrease", _NO_DECREASE)
        fall = chi - chi_new
        q, chi, r, jac = trial, chi_new, r_new, jac_new
        history.append(q)
        chis.append(chi)
        normal = jac @ jac.T
        if not math.isfinite(normal.sum()):
            return ending("not_finite", _not_finite(q))
        np.maximum(scale, normal.diagonal(), out=scale)
        if fall <= tol.ftol * chi and predicted <= tol.ftol * chi:
            return ending("converged", "chi2 stopped falling (to rounding)")
    return ending("max_iterations", _max_iter(tol.maxiter))


class _DampedModel:
    """The damped steps (J J^T + mu D) h = -J r for every mu, from one factorisation.

    With h = D^(-1/2) z the system reads (B^T B + mu I) z = -B^T r, B = J^T D^(-1/2).
    Given B^T B = V diag(w) V^T, z = -V diag(1 / (w + mu)) V^T B^T r, and the fall of
    chi2 the linear model promises is sum_i c_i^2 (w_i + 2 mu) / (w_i + mu)^2 with
    c = V^T B^T r. B^T B is the scaled normal matrix, cheap to decompose but with the
    condition number squared; when that loses too many digits (w_min below 1e-12
    w_max) the factors come from a thin SVD of B instead, which keeps them.
    """

    def __init__(
        self, jac: np.ndarray, r: np.ndarray, normal: np.ndarray, scale: np.ndarray
    ) -> None:
        self.root = root = np.sqrt(scale)
        inv = 1.0 / root
        w, v, info = _syevd(normal * (inv[:, None] * inv))
        if info != 0 or w[0] <= 1e-12 * w[-1]:
            _, sv, vt = np.linalg.svd(jac.T * inv, full_matrices=False)
            w, v = sv[::-1] ** 2, vt[::-1].T  # ascending, as from the normal matrix
        self.w, self.v = w, v
        self.c = ((jac @ r) * inv) @ v
        self.c2 = self.c * self.c
        self.at: np.ndarray | None = None  # the point it was built at
        self.keep: np.ndarray | None = None  # the free parameters, when bounds hold some

    def best_fall(self) -> float:
        """The fall of chi2 the undamped (Gauss-Newton) step promises: sum c_i^2 / w_i."""
        return float(self.c2 @ (1.0 / self.w)) if self.w[0] > 0 else np.inf

    def step(self, mu: float) -> tuple[np.ndarray, float]:
        """z = D^(1/2) h for damping mu, and the fall of chi2 it promises."""
        d = 1.0 / (self.w + mu)
        dc = d * self.c
        return self.v @ -dc, float(dc @ ((self.w + 2 * mu) * dc))


def _syevd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, by LAPACK directly
    (numpy's eigh costs several times more for the tiny matrices of a fit)."""
    w, v, info = _lapack_syevd(a)
    return w, v, info


def _small_step(h: np.ndarray, q: np.ndarray, scale: np.ndarray, xtol: float) -> bool:
    d = np.sqrt(scale)
    return bool(np.linalg.norm(d * h) <= xtol * (np.linalg.norm(d * q) + xtol))


# -- Gauss-Newton ------------------------------------------------------------------------------


def gauss_newton(prob: Problem, q0: np.ndarray, tol: Tolerances | None = None) -> Outcome:
    """Gauss-Newton: the step of the linearised least-squares problem, halved until
    chi^2 drops."""
    tol = tol or Tolerances()
    q = prob.project(np.array(q0, dtype=float))
    r, jac, chi = _start(prob, q)
    history, chis = [q.copy()], [chi]
    scale = np.maximum(np.einsum("ij,ij->i", jac, jac), EPS)
    for _ in range(tol.maxiter):
        if _cosine(jac, r, chi) <= tol.gtol:
            return _done(q, chi, history, chis, "the gradient of chi2 vanishes (to rounding)")
        h, *_ = np.linalg.lstsq(jac.T, -r, rcond=None)
        if _small_step(h, q, scale, tol.xtol):
            return _done(q, chi, history, chis, "the step became negligible next to p")
        linear = r + jac.T @ h
        if chi - float(linear @ linear) <= tol.ftol * chi:  # the best the model can promise
            return _done(
                q, chi, history, chis, "the Gauss-Newton step promises a fall below rounding"
            )
        t = 1.0
        while True:
            trial = prob.project(q + t * h)
            r_new = prob.residuals(trial)
            chi_new = float(r_new @ r_new) if _finite(r_new) else np.inf
            if chi_new < chi:
                break
            t /= 2
            if t < 1e-12:
                if _cosine(jac, r, chi) <= STATIONARY:
                    return _done(q, chi, history, chis, "no step lowers chi2: a minimum")
                return _stopped(q, chi, history, chis, "no_decrease", _NO_DECREASE)
        fall = chi - chi_new
        q, chi = trial, chi_new
        r, jac = prob.residuals_and_jacobian(q)
        if not _finite(jac):
            return _stopped(q, chi, history, chis, "not_finite", _not_finite(q))
        scale = np.maximum(scale, np.einsum("ij,ij->i", jac, jac))
        history.append(q.copy())
        chis.append(chi)
        if fall <= tol.ftol * chi:
            return _done(q, chi, history, chis, "chi2 stopped falling (to rounding)")
    return _stopped(q, chi, history, chis, "max_iterations", _max_iter(tol.maxiter))


# -- gradient descent ---------------------------------------------------------------------------


def gradient_descent(prob: Problem, q0: np.ndarray, tol: Tolerances | None = None) -> Outcome:
    """p <- p - gamma grad chi^2, gamma by backtracking (Armijo), grown again after each
    success so that it does not stay small for ever."""
    tol = tol or Tolerances(maxiter=20_000)
    q = prob.project(np.array(q0, dtype=float))
    r, jac, chi = _start(prob, q)
    history, chis = [q.copy()], [chi]
    # Each parameter's step is divided by the curvature of chi2 along it (the running
    # maximum of diag(J J^T), as Levenberg-Marquardt scales): without it a parameter of
    # size 500 beside one of size 1e-4 would never move.
    scale = np.maximum(np.einsum("ij,ij->i", jac, jac), EPS)
    gamma = 0.5  # in scaled units: about a Gauss-Newton step along each parameter alone
    for _ in range(tol.maxiter):
        if _cosine(jac, r, chi) <= tol.gtol:
            return _done(q, chi, history, chis, "the gradient of chi2 vanishes (to rounding)")
        grad = 2 * (jac @ r)
        direction = grad / scale
        slope = float(grad @ direction)
        while True:
            trial = prob.project(q - gamma * direction)
            r_new = prob.residuals(trial)
            chi_new = float(r_new @ r_new) if _finite(r_new) else np.inf
            if chi_new <= chi - 1e-4 * gamma * slope:
                break
            gamma /= 2
            if np.all(np.abs(gamma * direction) <= EPS * (np.abs(q) + EPS)):
                return _done(q, chi, history, chis, "no step along the gradient lowers chi2")
        fall = chi - chi_new
        q, chi = trial, chi_new
        r, jac = prob.residuals_and_jacobian(q)
        np.maximum(scale, np.einsum("ij,ij->i", jac, jac), out=scale)
        history.append(q.copy())
        chis.append(chi)
        gamma *= 2
        if fall <= tol.ftol * chi:
            return _done(q, chi, history, chis, "chi2 stopped falling (to rounding)")
    return _stopped(
        q,
        chi,
        history,
        chis,
        "max_iterations",
        f"not converged in {tol.maxiter} iterations: gradient descent crawls along the "
        "long valleys of chi2; try method='lm' (Levenberg-Marquardt)",
    )


# -- endings -------------------------------------------------------------------------------------

_NO_DECREASE = (
    "no step lowers chi2 from here, although the fit has not converged: the model may not "
    "be smooth here, or the parameters are badly scaled; try other starting values"
)


def _not_finite(q: np.ndarray) -> str:
    return f"the derivatives of the model are not finite at p = {np.round(q, 6).tolist()}"


def _max_iter(n: int) -> str:
    return (
        f"not converged in {n} iterations: start nearer the answer, or allow more "
        "iterations (maxiter=)"
    )


def _done(q: np.ndarray, chi: float, history: list, chis: list, why: str) -> Outcome:
    return Outcome(q, chi, "converged", why, history, chis)


def _stopped(
    q: np.ndarray, chi: float, history: list, chis: list, status: str, why: str
) -> Outcome:
    return Outcome(q, chi, status, why, history, chis)


SOLVERS = {
    "lm": levenberg_marquardt,
    "gauss_newton": gauss_newton,
    "gradient_descent": gradient_descent,
}
