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
  the method does not care about the units of the parameters). The damping comes from
  a trust region, as in MINPACK (More, 1978): the step may be at most ``radius`` long
  (in the scaled units), and mu is the smallest damping that keeps it so (0, plain
  Gauss-Newton, when that step is short enough). A step that lowers chi^2 about as much
  as the linear model promised widens the region; a bad one is refused and the region
  shrinks (the step turns towards the gradient and shortens). Where Gauss-Newton's own
  model of chi^2 proves too flat or too curved along its step (large residuals), the
  next undamped step is scaled to the minimum of the parabola that fits what chi^2 did.
  The undamped step comes from a Cholesky factorisation of J J^T; the damped ones from
  the eigen-decomposition of the scaled normal matrix when it is well conditioned,
  else from an SVD of J, so ill-conditioned problems keep their digits; the answer
  itself is judged by J r computed directly, never by the steps.

A run stops when it has converged (Levenberg-Marquardt's last Gauss-Newton step was
below 1e-8 of the parameters; even that step would lower chi^2 by less than rounding;
the step is negligible next to p; chi^2 stopped falling), and says so; or when it
cannot go on (no lower point, values not finite, iteration limit), and says that.

>>> import numpy as np
>>> from calcml.fit.model import model_from
>>> x = np.linspace(0, 4, 9); y = 3 * np.exp(-0.7 * x)
>>> prob = Problem(model_from("a*exp(-k*x)"), [x], y)
>>> out = levenberg_marquardt(prob, np.array([1.0, 1.0]))
>>> out.status, np.round(out.p, 10).tolist()
('converged', [3.0, 0.7])
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import add, mul, truediv

import numpy as np
from scipy.linalg.lapack import dposv as _lapack_posv
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
    _y_size: float | None = field(default=None, repr=False)

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

    def rows(self, q: Sequence[float]) -> np.ndarray:
        """K = [r; J], shape (n + 1, m): the weighted residuals r = (f - y) / sigma in
        row 0, then dr/dq_j for each varying parameter: f and its derivatives from one
        evaluation, written straight into K, so that K K^T is chi2, J r and J J^T at once.
        """
        self.nfev += 1
        self.njev += 1
        parts = self.model.parts(self.xs, self._params(q))
        varying = range(len(parts) - 1) if self.free is None else self.free
        k = np.empty((len(varying) + 1, len(self.y)))
        np.subtract(parts[0], self.y, out=k[0])
        for row, j in enumerate(varying, 1):
            k[row] = parts[1 + j]  # a constant derivative broadcasts
        if self.weights is not None:
            k *= self.weights
        return k

    def residuals_and_jacobian(self, q: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        k = self.rows(q)
        return k[0], k[1:]

    @property
    def y_size(self) -> float:
        """|y / sigma|, the size of the weighted data."""
        if self._y_size is None:
            yw = self.y if self.weights is None else self.y * self.weights
            self._y_size = math.sqrt(float(yw @ yw))
        return self._y_size

    def chi2_rounding(self, chi: float) -> float:
        """About how uncertain chi2 = |r|^2 is from rounding: each residual carries an
        error of about EPS |y_i| / sigma_i, so chi2 one of about 2 |r| EPS |y / sigma|.
        A good fit's residuals are far smaller than the data, so this is far above
        EPS chi2: chi2 is known to fewer digits than its size suggests."""
        return 2.0 * math.sqrt(chi) * EPS * self.y_size

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
    rows: np.ndarray | None = None  # K = [r; J] at p, when known
    gram: tuple | None = None  # (chi2, J r, J J^T) from K, when known
    gauss_newton_step: list[float] | None = None  # the undamped step from p, when known
    inverse: np.ndarray | None = None  # (J J^T)^-1 from the solver's own factors, when known

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


def _stationarity(
    g: list[float], diagonal: list[float], chi: float, moving: Sequence[int]
) -> float:
    """max_j |J_j . r| / (|J_j| |r|) over the ``moving`` parameters, from g = J r and
    diag(J J^T): 0 at a stationary point of chi^2 (a parameter that does not move the
    model, |J_j| = 0, counts as stationary)."""
    if chi == 0.0 or not moving:
        return 0.0
    return max(abs(g[j]) / math.sqrt(max(diagonal[j], 1e-300) * chi) for j in moving)


def _cosine(jac: np.ndarray, r: np.ndarray, chi: float) -> float:
    """_stationarity of every parameter, from J and r."""
    diagonal = np.einsum("ij,ij->i", jac, jac).tolist()
    return _stationarity((jac @ r).tolist(), diagonal, chi, range(len(jac)))


def _start(prob: Problem, q0: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    k = _start_rows(prob, q0)
    return k[0], k[1:], float(k[0] @ k[0])


# -- Levenberg-Marquardt ----------------------------------------------------------------------
#
# A fit has a handful of parameters, so the n x n algebra of a step is done with Python
# floats: on 2 x 2 matrices a NumPy call costs more than the arithmetic. The data-sized
# work (f and J at every point, K K^T) and the factorisations stay in NumPy/LAPACK.


#: A run has converged when the Gauss-Newton step is below this fraction of the
#: parameters, in Marquardt's scaled norm (|D^(1/2) h| against |D^(1/2) p|; MINPACK's
#: xtol is 1.5e-8 on the same norm): a step this short changes the Jacobian in the 8th
#: digit at most, so only f is evaluated at its end.
CONVERGED_STEP = 1e-8

#: At most this many steps that chi2 is too coarse to judge (see levenberg_marquardt).
UNJUDGED_STEPS = 3


def levenberg_marquardt(prob: Problem, q0: np.ndarray, tol: Tolerances | None = None) -> Outcome:
    """Levenberg-Marquardt with Marquardt's scaling and a trust region (More's).

    The run ends with a Gauss-Newton step below CONVERGED_STEP of the parameters, at
    whose end only f is evaluated (the Jacobian would change in the 8th digit at most).
    Before that, chi2 itself may become too coarse to judge a step: when even the full
    Gauss-Newton step promises a fall below chi2's rounding error, accepting or refusing
    it would be a coin toss, so that step is taken unjudged (it is the minimum of the
    linear model, computed from J and r, which are still accurate).
    """
    tol = tol or Tolerances()
    q = prob.project(np.array(q0, dtype=float)).tolist()
    k = prob.rows(q)
    chi, g, normal = _gram(k)
    # K is finite if chi2 and the diagonal of J J^T are (sums of its squares); only
    # otherwise (or if a square overflowed) is each entry looked at.
    if not math.isfinite(chi + sum(row[j] for j, row in enumerate(normal))):
        _check_start(k, q)
    history, chis = [q], [chi]
    scale = [max(row[j], EPS) for j, row in enumerate(normal)]  # D: running max of diag(J J^T)
    radius = None
    fraction = 1.0  # the next undamped step, as a fraction of the Gauss-Newton step
    bounded = prob.lower is not None
    unjudged = 0
    first = True  # the first trust region is no wider than the first step
    model = None

    def ending(status: str, why: str) -> Outcome:
        path = np.array(history)  # one array; its rows are the history (q is the last)
        out = Outcome(path[-1], chi, status, why, list(path), chis, k)
        out.gram = (chi, g, normal)
        here = model is not None and model.at is q and model.keep is None
        if here and model.gauss_newton is not None:
            out.gauss_newton_step = model.h  # the Gauss-Newton step from this very q
            out.inverse = model.inverse()
        return out

    for _ in range(tol.maxiter):
        keep = None  # with bounds: the parameters not pressed against one
        if bounded:
            keep = _not_held(prob, q, g)
            if not keep:
                return ending("converged", "every parameter is held at one of its bounds")
            if len(keep) == len(q):
                keep = None
        model = _DampedModel(k, g, normal, scale, keep)  # serves every mu of this iteration
        model.at = q
        # At a minimum (to rounding) even the undamped step promises nothing: this is
        # also the test of a vanishing gradient, and of a zero chi2.
        best = model.best
        if best <= tol.ftol * chi:
            return ending(
                "converged", "even a full Gauss-Newton step would lower chi2 by less than rounding"
            )
        size = math.hypot(*map(mul, model.root, model.free(q)))  # |D^(1/2) q|
        z = model.gauss_newton  # the scaled Gauss-Newton step (None: J is singular)
        undamped = (z, best) if z is not None else None
        rounding = prob.chi2_rounding(chi)
        # chi2 may rise this high before a step chi2 cannot judge is thought bad: the
        # rounding of f itself can exceed that of the data (by f's condition number)
        tolerated = chi + UNJUDGED_RISE * rounding
        if undamped and model.length <= CONVERGED_STEP * size:  # |D^1/2 h| vs |D^1/2 q|
            last = _last_point(prob, model, q, undamped[0], k, tolerated)
            if last is not None:
                q, k = last
                chi, *g = (k @ k[0]).tolist()  # r.r and J r; J, hence J J^T, unchanged
                history.append(q)
                chis.append(chi)
                model = model.with_gradient(g)  # and its factors too
                model.at = q
                return ending("converged", _LAST_STEP)
        accepted = None
        if undamped and best <= rounding and unjudged < UNJUDGED_STEPS:
            # chi2 can no longer judge a step: take Gauss-Newton's unjudged
            unjudged += 1
            trial = _moved(prob, model, q, undamped[0])
            accepted = _evaluated(prob, trial)
            if not accepted[1] <= tolerated:
                accepted = None  # a rise beyond rounding: judge the steps after all
            predicted = best
        if accepted is None:
            if radius is None:
                radius = FIRST_RADIUS * (size if size > 0 else 1.0)
            if undamped:  # no wider than the Gauss-Newton step
                radius = min(radius, model.length)
            step = _judged_step(
                prob, model, q, k, chi, radius, fraction, undamped, size, first, tol
            )
            if step == "negligible":
                return ending("converged", "the step became negligible next to p")
            if step == "no_decrease":
                return ending("no_decrease", _NO_DECREASE)
            trial, accepted, predicted, radius, fraction = step
            first = False
        k_new, chi_new, g_new, normal_new = accepted
        fall = chi - chi_new
        q, chi, g, normal, k = trial, chi_new, g_new, normal_new, k_new
        history.append(q)
        chis.append(chi)
        diagonal = [row[j] for j, row in enumerate(normal)]
        if not math.isfinite(sum(g) + sum(diagonal)):  # an infinite or NaN entry of J
            return ending("not_finite", _not_finite(np.array(q)))
        scale = list(map(max, scale, diagonal))
        if fall <= tol.ftol * chi and predicted <= tol.ftol * chi:
            return ending("converged", "chi2 stopped falling (to rounding)")
    return ending("max_iterations", _max_iter(tol.maxiter))


def _last_point(
    prob: Problem,
    model: _DampedModel,
    q: list[float],
    z: list[float],
    k: np.ndarray,
    tolerated: float,
) -> tuple[list[float], np.ndarray] | None:
    """The end of the last, tiny Gauss-Newton step and K there, with f evaluated (the
    residuals and chi2 must belong to the answer) but J kept (it would change in the 8th
    digit at most); None if chi2 rose there beyond rounding."""
    trial = _moved(prob, model, q, z)
    r = prob.residuals(trial)
    if not r @ r <= tolerated:
        return None
    k = k.copy()
    k[0] = r
    return trial, k


def _judged_step(
    prob: Problem,
    model: _DampedModel,
    q: list[float],
    k: np.ndarray,
    chi: float,
    radius: float,
    fraction: float,
    undamped: tuple[list[float], float] | None,
    size: float,
    first: bool,
    tol: Tolerances,
) -> tuple | str:
    """One step of the trust region: damped to stay within ``radius``, tried, and
    refused with a narrower region until chi2 falls. Returns (trial, its K and
    products, the fall promised, the next radius, the next undamped fraction), or why
    the run must stop ("negligible", "no_decrease")."""
    while True:
        mu = model.damping_for(radius)
        if mu == 0.0 and undamped:  # corrected for the curvature seen last
            predicted = undamped[1] * fraction * (2 - fraction)
            length = fraction * model.length
            z = None
        else:
            z, predicted = model.step(mu)
            length = math.hypot(*z)  # |D^(1/2) h| = |z|
        if length <= tol.xtol * (size + tol.xtol):
            return "negligible"
        if first:  # the first region no wider than the first step
            radius = min(radius, length)
        trial = model.forward(q, fraction) if z is None else model.move(q, z)
        if prob.lower is not None:  # projected into the box, with the fall the rest promises
            trial, predicted = _projected(prob, q, trial, predicted, k, chi)
        accepted = _evaluated(prob, trial)
        chi_new = accepted[1]
        # how much of the promised fall came true
        gain = (chi - chi_new) / predicted if predicted > 0 and chi_new == chi_new else -1
        if gain <= 0.25:  # the linear model is poor this far out: narrow the region
            radius = 0.5 * min(radius, 10 * length)
        elif mu == 0 or gain >= 0.75:  # good: allow twice this step next time
            radius = 2 * length
        if gain >= 1e-4:  # chi2 fell: accept
            return trial, accepted, predicted, radius, _step_fraction(gain) if mu == 0.0 else 1.0
        if radius <= EPS * size or radius < 1e-300:
            return "no_decrease"


#: An unjudged step is refused only if chi2 rises by more than this many times its
#: rounding error (see levenberg_marquardt).
UNJUDGED_RISE = 100.0

#: Newton steps allowed for the damping of one trust region (it takes 2-4).
MAX_NEWTON = 30

#: The first trust region: steps as long as the parameters themselves (scaled norm).
#: MINPACK allows 100 times that; from far starts (NIST's first ones) the shorter
#: first steps are safer, and they cost nothing when the start is good.
FIRST_RADIUS = 1.0


def _step_fraction(gain: float) -> float:
    """After an undamped step that delivered ``gain`` times the fall of chi2 the linear
    model promised, the fraction of the Gauss-Newton step to take next time.

    The parabola through chi2 at both ends of the step, with the slope at its start,
    chi2(t) = chi2 - 2 P t + (2 - gain) P t^2 (P the promised fall), has its minimum at
    t = 1 / (2 - gain). Gauss-Newton leaves out the curvature of the model itself, which
    matters when the residuals are large: a gain below 1 says it underestimated the
    curvature along the step, and such steps overshoot and zigzag to the minimum (NIST's
    MGH09: 41 evaluations instead of 20); a gain above 1 says it overestimated it, and
    the steps creep up on the minimum (BoxBOD: 13 instead of 10). The next undamped step
    is scaled by that t (between 1/2 and STRETCH), the curvature along the direction the
    run is taking being much the same from one step to the next.

    >>> _step_fraction(1.0), _step_fraction(0.5), _step_fraction(1.2)
    (1.0, 0.6666666666666666, 1.25)
    """
    return min(1.0 / (2.0 - min(gain, 1.9)), STRETCH)


#: The most a Gauss-Newton step is lengthened after one that fell short.
STRETCH = 1.5


def _moved(prob: Problem, model: _DampedModel, q: list[float], z: list[float]) -> list[float]:
    """q + D^(-1/2) z, inside the bounds."""
    trial = model.move(q, z)
    return trial if prob.lower is None else prob.project(np.array(trial)).tolist()


def _evaluated(
    prob: Problem, q: list[float]
) -> tuple[np.ndarray, float, list[float], list[list[float]]]:
    """K, chi2, g and J J^T at q."""
    k = prob.rows(q)
    return (k, *_gram(k))


_LAST_STEP = "the last Gauss-Newton step left less than 1.5e-8 of the parameters to go"


def _start_rows(prob: Problem, q0: Sequence[float]) -> np.ndarray:
    """K = [r; J] at the start, which must be finite."""
    k = prob.rows(q0)
    _check_start(k, q0)
    return k


def _check_start(k: np.ndarray, q0: Sequence[float]) -> None:
    """Raise if K = [r; J] at the start is not finite."""
    if not _finite(k):
        what = "the model" if not _finite(k[0]) else "its derivatives"
        raise CalcmlError(
            f"{what} is not finite at the starting values {np.round(q0, 6).tolist()}: "
            "choose p0 where the model is defined (no division by zero, no log of a "
            "negative number)"
        )


def _gram(k: np.ndarray) -> tuple[float, list[float], list[list[float]]]:
    """chi2 = r.r, the half-gradient g = J r and the normal matrix J J^T, all from one
    product K K^T with K = [r; J] (as Python floats: the solver's own arithmetic is on
    n x n matrices, too small for NumPy to pay)."""
    first, *rest = np.inner(k, k).tolist()
    return first[0], first[1:], [row[1:] for row in rest]


def _not_held(prob: Problem, q: list[float], g: list[float]) -> list[int]:
    """The parameters free to move: not at a bound that the gradient pushes them past."""
    held = prob.held(np.array(q), np.array(g))
    return [j for j, h in enumerate(held.tolist()) if not h]


def _projected(
    prob: Problem, q: list[float], trial: list[float], predicted: float, k: np.ndarray, chi: float
) -> tuple[list[float], float]:
    """The trial point moved back into the bounds, and the fall of chi2 the linear model
    promises for the step that is left."""
    inside = prob.project(np.array(trial))
    if np.array_equal(inside, trial):
        return trial, predicted
    h = inside - q
    linear = k[0] + h @ k[1:]
    return inside.tolist(), chi - float(linear @ linear)


class _DampedModel:
    """The damped steps (J J^T + mu D) h = -J r for every mu, from one factorisation.

    With h = D^(-1/2) z the system reads (B^T B + mu I) z = -B^T r, B = J^T D^(-1/2).
    Given B^T B = V diag(w) V^T, z = -V diag(1 / (w + mu)) V^T B^T r, and the fall of
    chi2 the linear model promises is sum_i c_i^2 (w_i + 2 mu) / (w_i + mu)^2 with
    c = V^T B^T r. B^T B is the scaled normal matrix, cheap to decompose but with the
    condition number squared; when that loses too many digits (w_min below 1e-12
    w_max) the factors come from a thin SVD of B instead, which keeps them.

    Most iterations only need the undamped (Gauss-Newton) step, mu = 0, and take it:
    that one comes from a Cholesky factorisation of J J^T, several times cheaper than
    the eigen-decomposition, which is made only when a damped step (or the covariance)
    is asked for, or when J J^T is too near singular for Cholesky to be trusted.

    ``keep`` (with bounds) restricts the step to the parameters not held at a bound.
    """

    def __init__(
        self,
        k: np.ndarray,
        g: list[float],
        normal: list[list[float]],
        scale: list[float],
        keep: list[int] | None = None,
    ) -> None:
        if keep is not None:
            normal = [[normal[i][j] for j in keep] for i in keep]
            g, scale = [g[j] for j in keep], [scale[j] for j in keep]
        self.keep = keep
        self.root = list(map(math.sqrt, scale))
        self._k, self._normal, self._g = k, normal, g
        self._eigen: tuple[list[float], list[list[float]]] | None = None
        self._c: list[float] | None = None
        self.at: list[float] | None = None  # the point it was built at
        self._undamped(g)

    def _undamped(self, g: list[float]) -> None:
        """Sets ``gauss_newton``, the scaled Gauss-Newton step z (None when J is
        singular), ``h`` = D^(-1/2) z, the step itself, ``best``, the fall of chi2 it
        promises (g^T (J J^T)^-1 g), and ``length``, |z|: from a Cholesky solve when
        J J^T is safely positive definite, else from the eigen-decomposition."""
        h = _cholesky_solve(self._normal, g)
        if h is None:
            c, w = self.c, self.w
            if w[0] > 0:
                dc = list(map(truediv, c, w))
                self.gauss_newton = z = [-sum(map(mul, row, dc)) for row in self.v]
                self.h = list(map(truediv, z, self.root))
                self.best = sum(map(mul, c, dc))
            else:
                self.gauss_newton, self.h, self.best = None, None, math.inf
        else:
            self.h = h
            self.gauss_newton = list(map(mul, self.root, h))
            self.best = -sum(map(mul, g, h))
        z = self.gauss_newton
        self.length = math.hypot(*z) if z is not None else math.inf  # |z|

    def _factors(self) -> tuple[list[float], list[list[float]]]:
        if self._eigen is None:
            w, v = _scaled_eigen(self._normal, self.root)
            if not w[0] > 1e-12 * w[-1]:  # (NaN included)
                k = self._k
                jac = k[1:] if self.keep is None else k[1:][self.keep]
                _, sv, vt = np.linalg.svd(jac.T / np.array(self.root), full_matrices=False)
                w, v = (sv[::-1] ** 2).tolist(), vt[::-1].T.tolist()  # ascending, as eigen's
            self._eigen = w, v
        return self._eigen

    @property
    def w(self) -> list[float]:
        """Eigenvalues of the scaled normal matrix B^T B, ascending."""
        return self._factors()[0]

    @property
    def v(self) -> list[list[float]]:
        """v[i][j]: component i of the j-th eigenvector."""
        return self._factors()[1]

    @property
    def c(self) -> list[float]:
        """c = V^T B^T r, the scaled gradient in the eigenbasis."""
        if self._c is None:
            scaled_g = list(map(truediv, self._g, self.root))
            self._c = [sum(map(mul, col, scaled_g)) for col in zip(*self.v)]
        return self._c

    def with_gradient(self, g: list[float]) -> _DampedModel:
        """The same model (J, D and their factors) for other residuals: J r = g."""
        other = copy.copy(self)
        other._g = g if self.keep is None else [g[j] for j in self.keep]
        other._c = None
        other._undamped(other._g)
        return other

    def inverse(self) -> np.ndarray | None:
        """(J J^T)^-1, the covariance's core, from this model's factors (see _inverse)."""
        return _inverse(self.w, self.v, self.root)

    def free(self, q: list[float]) -> list[float]:
        """The parameters this model moves (all but those held at a bound)."""
        return q if self.keep is None else [q[j] for j in self.keep]

    def forward(self, q: list[float], t: float) -> list[float]:
        """q + t h, h the Gauss-Newton step (held parameters stay where they are)."""
        if self.keep is not None:
            return self.move(q, [t * v for v in self.gauss_newton])
        if t == 1.0:
            return list(map(add, q, self.h))
        return [a + t * b for a, b in zip(q, self.h)]

    def move(self, q: list[float], z: list[float]) -> list[float]:
        """q + h for h = D^(-1/2) z (held parameters stay where they are)."""
        h = map(truediv, z, self.root)
        if self.keep is None:
            return list(map(add, q, h))
        trial = list(q)
        for j, hj in zip(self.keep, h):
            trial[j] += hj
        return trial

    def damping_for(self, radius: float) -> float:
        """The least damping mu whose step is no longer than radius (to 10 %): 0 when
        the Gauss-Newton step is, else the root of |z(mu)| = radius, found by Newton's
        method on 1/|z(mu)| (nearly linear in mu, so a few steps do; Hebden's way).
        |z(mu)|^2 = sum_i c_i^2 / (w_i + mu)^2 shrinks as mu grows."""
        if self.length <= 1.1 * radius:
            return 0.0
        c2, w = [c * c for c in self.c], self.w
        least = 0.0 if w[0] > 0 else EPS * max(w[-1], 1.0)  # a singular model needs some
        mu = least
        for _ in range(MAX_NEWTON):
            terms = [c / (wi + mu) ** 2 for c, wi in zip(c2, w)]
            length = math.sqrt(sum(terms))
            if length <= 1.1 * radius and (mu == least or length >= 0.9 * radius):
                return mu
            slope = sum([t / (wi + mu) for t, wi in zip(terms, w)]) / length**3
            mu = max(mu - (1 / length - 1 / radius) / slope, least)  # slope: d(1/|z|)/dmu
        return mu

    def step(self, mu: float) -> tuple[list[float], float]:
        """z = D^(1/2) h for damping mu, and the fall of chi2 it promises."""
        if mu == 0.0 and self.gauss_newton is not None:
            return self.gauss_newton, self.best
        dc = [c / (w + mu) for c, w in zip(self.c, self.w)]
        fall = sum([d * d * (w + 2 * mu) for d, w in zip(dc, self.w)])
        return [-sum(map(mul, row, dc)) for row in self.v], fall


#: Cholesky is trusted for the Gauss-Newton step when each pivot keeps at least this
#: fraction of its diagonal entry (1 - R^2 of that parameter's column against those
#: before it): a lower one means a nearly singular J J^T, left to the eigen-
#: decomposition and its SVD fallback.
PIVOT_FLOOR = 1e-10


def _cholesky_solve(a: list[list[float]], g: list[float]) -> list[float] | None:
    """h with A h = -g for a symmetric positive definite A, by Cholesky (in closed form
    for 2 x 2, by LAPACK otherwise); None when A is not safely positive definite (see
    PIVOT_FLOOR).

    >>> _cholesky_solve([[4.0, 2.0], [2.0, 3.0]], [-2.0, -1.0])
    [0.5, 0.0]
    """
    if len(a) == 2:
        (p, b), (_, d) = a
        det = p * d - b * b
        if not (p > 0 and det > PIVOT_FLOOR * p * d):  # (NaN included)
            return None
        g0, g1 = g
        return [(b * g1 - d * g0) / det, (b * g0 - p * g1) / det]
    factor, h, info = _lapack_posv(a, g)  # A h = g (f2py converts the lists)
    if info != 0:
        return None
    pivots = factor.diagonal().tolist()
    if not min([u * u / row[i] for i, (u, row) in enumerate(zip(pivots, a))]) > PIVOT_FLOOR:
        return None
    return [-v for v in h.tolist()]


def _inverse(w: list[float], v: list[list[float]], d: list[float]) -> np.ndarray | None:
    """A^-1 = D^(-1/2) V diag(1 / w) V^T D^(-1/2) from the eigen-decomposition V diag(w)
    V^T of the scaled A, D^(-1/2) A D^(-1/2) (d = the diagonal of D^(1/2)); None when
    that is too ill-conditioned to give it to 8 digits."""
    if not w[0] > 1e-8 * w[-1]:
        return None
    v_arr, d_arr = np.array(v), np.array(d)
    return ((v_arr / w) @ v_arr.T) / (d_arr[:, None] * d_arr)


def _scaled_eigen(a: list[list[float]], d: list[float]) -> tuple[list[float], list[list[float]]]:
    """Eigenvalues (ascending) and eigenvectors (as columns) of diag(d)^-1 a diag(d)^-1
    for a symmetric a; NaN eigenvalues if LAPACK fails. A 2 x 2 matrix, the commonest
    fit, is diagonalised by one Jacobi rotation (Golub and Van Loan's sym.schur2), as
    accurately as LAPACK does and without the cost of calling it."""
    if len(a) == 2:
        (p, b), (_, d2) = a
        (r1, r2) = d
        return _eigen2(p / (r1 * r1), b / (r1 * r2), d2 / (r2 * r2))
    inv = 1.0 / np.array(d)
    w, v, info = _syevd(np.array(a) * (inv[:, None] * inv))
    if info != 0:
        return [math.nan] * len(a), v.tolist()
    return w.tolist(), v.tolist()


def _eigen2(p: float, b: float, d: float) -> tuple[list[float], list[list[float]]]:
    """The eigen-decomposition of [[p, b], [b, d]] by one Jacobi rotation.

    >>> _eigen2(2.0, 0.0, 1.0)
    ([1.0, 2.0], [[0.0, 1.0], [1.0, 0.0]])
    """
    if b == 0.0:
        return ([p, d], [[1.0, 0.0], [0.0, 1.0]]) if p <= d else ([d, p], [[0.0, 1.0], [1.0, 0.0]])
    tau = (d - p) / (2.0 * b)
    t = math.copysign(1.0, tau) / (abs(tau) + math.hypot(1.0, tau))  # tan of the angle
    c = 1.0 / math.hypot(1.0, t)
    s = t * c
    low, high = p - t * b, d + t * b  # eigenvalues, for [c, -s] and [s, c]
    if low <= high:
        return [low, high], [[c, s], [-s, c]]
    return [high, low], [[s, c], [c, -s]]


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
