"""Benchmark: calcml's solvers vs SciPy's on the same problems (issue: the same answers;
Newton and BFGS need no more iterations than SciPy's; time within 2x).

Pairs compared, each on the same problem from the same start:

1. **Unconstrained** (2-D Rosenbrock from (-1.2, 1); 10-D Rosenbrock from
   (-1.2, 1, ..., -1.2, 1) and from 0; Himmelblau from (0, 0) and (1, 1); Beale from
   (1, 1); Booth from (0, 0); a 10-D SPD quadratic from 0):
   ``calcml.minimize(method="newton")`` vs ``scipy.optimize.minimize(method="Newton-CG")``
   (the target) and vs ``"trust-exact"`` (context: also an exact-Hessian Newton method);
   ``calcml.minimize(method="newton_cg")`` (truncated Newton) vs ``"Newton-CG"`` (the
   same algorithm);
   ``calcml.minimize(method="bfgs")`` vs ``method="BFGS"``.
2. **Equality-constrained** (Hock-Schittkowski 6, 7, 28 from their standard starts, with
   their variable names x1, x2, x3; HS7 once more with the variables named a, b, which
   should change nothing): ``calcml.minimize(constraints=...)`` (SQP) vs
   ``method="SLSQP"``.
3. **Roots of one equation** (x^2 - 2 from 1, cos x - x from 1, x^3 - 2x - 5 from 2):
   ``calcml.newton_raphson`` vs ``scipy.optimize.newton`` with ``fprime``.
4. **A 2-D system** (x^2 + y^2 = 4 with e^x + y = 1 from (1, -1); Powell's badly scaled
   system from (0, 1)): ``calcml.newton_raphson`` vs ``scipy.optimize.root`` with
   ``method="hybr"`` and ``"lm"``.

The same tolerance. calcml's minimisers stop when |grad f|_2 <= gtol; every gradient
method is run at ``GTOL`` = 1e-8 (calcml's default): calcml ``gtol=1e-8``; SciPy BFGS
``gtol=1e-8, norm=2`` (its default norm is the max-norm); trust-exact ``gtol=1e-8`` (a
2-norm test already). Newton-CG has no gradient test (it stops when the l1 norm of a step
is below ``xtol``), so it runs with ``xtol=0`` and a callback that raises
``StopIteration`` as soon as |grad f|_2 <= 1e-8 at the new iterate: the same test, at the
same point of the iteration as calcml's. The callback reads the gradient SciPy has just
computed there (a memo of the last ``jac`` call), so it costs no extra evaluation; SciPy
then reports ``success=False`` ("callback raised StopIteration"), which this benchmark
counts as converged when the gradient test fired. SLSQP has no gradient tolerance: its
``ftol`` (a test on the change of f and on the constraint violation) is set to 1e-8 (at
1e-10 it runs into its iteration limit on HS7); calcml's SQP stops at |grad L| <=
1e-8 max(1, |f|) and |c| <= 1e-10. Root finders keep their defaults (calcml: |f(x)| <=
1e-12 or f's rounding floor; ``scipy.optimize.newton``: a step below 1.48e-8, which one
step later is at full precision; ``root``: ``xtol=1.49e-8``); the tables show the final
residuals of both.

Fair inputs. calcml takes text: each expression is compiled ONCE into a
``calcml.Function`` outside the timed region (``f = calcml.Function(text)``; for HS
problems the objective and the constraints are two Functions over the same variables),
and the solver is timed on that Function, so the timings hold the solver and the compiled
evaluations, not parsing or compiling (that one-off cost is shown apart). SciPy takes
Python functions and gets the fastest fair derivatives: ``scipy.optimize.rosen``,
``rosen_der``, ``rosen_hess`` for Rosenbrock; hand-written NumPy (``A x - b``, ``A``) for
the quadratic; otherwise the SymPy derivatives of the very same expressions, lambdified
once (``modules="math"``, ``cse=True``) before timing.

Answers. A pair agrees (the issue's test) when the two answers are within 1e-6
(Euclidean), or both solvers report failure. The verdict counts the pairs of the same
algorithm; calcml's exact Newton against SciPy's truncated Newton is counted apart (where
two minima are within reach, the two algorithms may each reach another: 10-D Rosenbrock
from (-1.2, 1, ...), where Newton-CG and calcml's newton_cg reach (1, ..., 1) and the exact
Newton steps of calcml's newton and SciPy's trust-exact a local minimum, f = 3.99); the
"answer" column also says when one side reports failure at the same x, or both succeed
at different points. The "|g|" / residual
columns are computed after the fact by the same referee for both (SciPy's derivative
functions above).

Derivative check (untimed). calcml's Function (value, gradient or Jacobian, Hessian; for
HS problems also the constraints, and each constraint's Hessian as a Function of its own)
is compared with the referee SciPy is given, at x0 and three points near it, so that a
wrong derivative shows up as such and not only as a strange iteration count.

Counts come from one extra, untimed run of each solver: ``nit``, ``nfev``, ``njev``
(gradients or Jacobians), ``nhev``. calcml counts every evaluation it asks its Function
for (``Function.reset_counters()`` before the run); SciPy's counts come from its result
(``scipy.optimize.newton`` reports f and f' calls together, so they are counted by
wrapping the two functions). SciPy's ``ScalarFunction`` does not re-evaluate at a point
it has just evaluated, while calcml counts (and makes) every evaluation it asks for. For
SQP/SLSQP the counts are of the objective only (calcml's constraint evaluations are
printed under the table; SLSQP does not count its own).

Timing (``_harness.paired``): every solver call is timed in loops of ~``--target-ms``,
all solvers of a problem back to back in an order rotating from sample to sample;
reported: the median over samples of the wall time per call (and CPU time), and the
median of the per-sample ratios calcml/SciPy. Verdicts are on wall time; the CPU-time
ratio is shown beside it.

Run:  python bench/bench_optimize.py [--samples N] [--target-ms MS] [--no-progress]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy
import scipy.optimize as so
import sympy

import calcml
from _harness import (
    Progress,
    arguments,
    machine,
    median,
    paired,
    ratio,
    ratio_cpu,
    table,
    verdict,
)

GTOL = 1e-8  # calcml.minimize's default, given to every gradient test
SLSQP_FTOL = 1e-8
ANSWER_TOL = 1e-6
TIME_TARGET = 2.0  # calcml / SciPy, wall time, at most


# -- problems ------------------------------------------------------------------------------
def _rosenbrock_text(n: int) -> str:
    v = [f"x{i:02d}" for i in range(1, n + 1)]  # sorted by name = the natural order
    return " + ".join(f"100 ({v[i + 1]} - {v[i]}^2)^2 + (1 - {v[i]})^2" for i in range(n - 1))


def _quadratic() -> tuple[str, np.ndarray, np.ndarray]:
    """1/2 x^T A x - b^T x with A = tridiag(-1, i^2 + 2, -1) (SPD, cond 38), b = 1."""
    n = 10
    a = np.diag([i * i + 2.0 for i in range(1, n + 1)])
    a -= np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    b = np.ones(n)
    v = [f"x{i:02d}" for i in range(1, n + 1)]
    terms = [f"{a[i, i] / 2:g} {v[i]}^2" for i in range(n)]
    terms += [f"- {v[i]} {v[i + 1]}" for i in range(n - 1)]
    terms += [f"- {v[i]}" for i in range(n)]
    return " + ".join(terms).replace("+ -", "-"), a, b


QUAD_TEXT, QUAD_A, QUAD_B = _quadratic()


@dataclass
class Problem:
    key: str
    label: str
    text: str
    x0: list[float]
    derivs: str  # "rosen", "quadratic" or "lambdify": what SciPy is given


UNCONSTRAINED = [
    Problem(
        "rosen2", "Rosenbrock 2-D (-1.2, 1)", "(1 - x)^2 + 100 (y - x^2)^2", [-1.2, 1], "rosen"
    ),
    Problem(
        "rosen10", "Rosenbrock 10-D (-1.2, 1, ...)", _rosenbrock_text(10), [-1.2, 1] * 5, "rosen"
    ),
    Problem("rosen10-0", "Rosenbrock 10-D (0, ..., 0)", _rosenbrock_text(10), [0.0] * 10, "rosen"),
    Problem(
        "himmel00",
        "Himmelblau (0, 0)",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        [0.0, 0.0],
        "lambdify",
    ),
    Problem(
        "himmel11",
        "Himmelblau (1, 1)",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        [1.0, 1.0],
        "lambdify",
    ),
    Problem(
        "beale",
        "Beale (1, 1)",
        "(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2",
        [1.0, 1.0],
        "lambdify",
    ),
    Problem("booth", "Booth (0, 0)", "(x + 2y - 7)^2 + (2x + y - 5)^2", [0.0, 0.0], "lambdify"),
    Problem("quad10", "SPD quadratic 10-D (0)", QUAD_TEXT, [0.0] * 10, "quadratic"),
]


@dataclass
class Constrained:
    key: str
    label: str
    objective: str
    constraints: list[str]
    x0: list[float]
    solution: list[float]  # the published optimum, for the record


CONSTRAINED = [
    Constrained("hs6", "HS6 (-1.2, 1)", "(1 - x1)^2", ["10 (x2 - x1^2)"], [-1.2, 1.0], [1, 1]),
    Constrained(
        "hs7",
        "HS7 (2, 2)",
        "ln(1 + x1^2) - x2",
        ["(1 + x1^2)^2 + x2^2 - 4"],
        [2.0, 2.0],
        [0.0, 3**0.5],
    ),
    Constrained(  # the same problem; calcml's answer should not depend on the names
        "hs7-ab",
        "HS7 (2, 2) named a, b",
        "ln(1 + a^2) - b",
        ["(1 + a^2)^2 + b^2 - 4"],
        [2.0, 2.0],
        [0.0, 3**0.5],
    ),
    Constrained(
        "hs28",
        "HS28 (-4, 1, 1)",
        "(x1 + x2)^2 + (x2 + x3)^2",
        ["x1 + 2 x2 + 3 x3 - 1"],
        [-4.0, 1.0, 1.0],
        [0.5, -0.5, 0.5],
    ),
]

ROOTS = [
    ("sqrt2", "x^2 - 2 (1)", "x^2 - 2", 1.0),
    ("dottie", "cos x - x (1)", "cos(x) - x", 1.0),
    ("wallis", "x^3 - 2x - 5 (2)", "x^3 - 2x - 5", 2.0),
]

SYSTEMS = [
    ("circle-exp", "x^2+y^2=4, e^x+y=1 (1, -1)", ["x^2 + y^2 - 4", "exp(x) + y - 1"], [1.0, -1.0]),
    (
        "powell-bs",
        "Powell badly scaled (0, 1)",
        ["10000 x y - 1", "exp(-x) + exp(-y) - 1.0001"],
        [0.0, 1.0],
    ),
]


# -- SciPy's side: derivatives -------------------------------------------------------------
def _symbols(exprs: list[sympy.Expr], names: list[str]) -> list[sympy.Symbol]:
    """The SymPy symbols of calcml's expressions, in calcml's variable order."""
    by_name = {s.name: s for e in exprs for s in e.free_symbols}
    return [by_name.get(n, sympy.Symbol(n)) for n in names]


def _lambdified(expr: sympy.Expr, syms: list[sympy.Symbol]) -> tuple[Callable, ...]:
    """f, grad f and the Hessian of expr as Python functions of one array (SymPy's
    derivatives, lambdified once with common subexpressions eliminated)."""
    grad = [sympy.diff(expr, s) for s in syms]
    hess = [[sympy.diff(g, s) for s in syms] for g in grad]
    f0 = sympy.lambdify([syms], expr, modules="math", cse=True)
    g0 = sympy.lambdify([syms], grad, modules="math", cse=True)
    h0 = sympy.lambdify([syms], hess, modules="math", cse=True)

    def fun(v: np.ndarray) -> float:
        return f0(v)

    def jac(v: np.ndarray) -> np.ndarray:
        return np.array(g0(v))

    def hessian(v: np.ndarray) -> np.ndarray:
        return np.array(h0(v))

    return fun, jac, hessian


def _scipy_functions(p: Problem, f: calcml.Function) -> tuple[Callable, Callable, Callable]:
    if p.derivs == "rosen":
        return so.rosen, so.rosen_der, so.rosen_hess
    if p.derivs == "quadratic":
        a, b = QUAD_A, QUAD_B

        def fun(v: np.ndarray) -> float:
            return 0.5 * v @ (a @ v) - b @ v

        def jac(v: np.ndarray) -> np.ndarray:
            return a @ v - b

        def hess(v: np.ndarray) -> np.ndarray:
            return a

        return fun, jac, hess
    return _lambdified(f.expr, _symbols([f.expr], f.variables))


DERIVS_NOTE = {
    "rosen": "scipy rosen, rosen_der, rosen_hess",
    "quadratic": "NumPy: 1/2 x.Ax - b.x, Ax - b, A",
    "lambdify": "SymPy diff, lambdify(math, cse)",
}


class GradientStop:
    """Newton-CG's stop at |grad f|_2 <= gtol: ``jac`` remembers the last gradient it
    computed and ``callback`` (called by SciPy at each new iterate) reads it there."""

    def __init__(self, jac: Callable, gtol: float) -> None:
        self._jac, self.gtol = jac, gtol
        self.x: np.ndarray | None = None
        self.g: np.ndarray | None = None
        self.stopped = False
        self.extra = 0  # gradients the stop test had to compute itself

    def jac(self, x: np.ndarray) -> np.ndarray:
        g = self._jac(x)
        self.x, self.g = x.copy(), g
        return g

    def callback(self, intermediate_result: Any) -> None:
        x = intermediate_result.x
        if self.x is not None and np.array_equal(x, self.x):
            g = self.g
        else:
            self.extra += 1
            g = self._jac(x)
        if np.linalg.norm(g) <= self.gtol:
            self.stopped = True
            raise StopIteration

    def reset(self) -> None:
        self.stopped, self.extra, self.x, self.g = False, 0, None, None


# -- bookkeeping -----------------------------------------------------------------------------
@dataclass
class Outcome:
    """One solver's answer and counts (from the untimed run)."""

    x: np.ndarray
    success: bool
    nit: int | None
    nfev: int | None
    njev: int | None
    nhev: int | None = None
    residual: float = float("nan")  # |grad f|, max |F| or |f(x)|, by the same referee
    note: str = ""


@dataclass
class Row:
    section: str
    problem: str
    calcml: str
    scipy: str
    cm: Outcome
    sp: Outcome
    wall_cm: float
    wall_sp: float
    cpu_cm: float
    cpu_sp: float
    ratio: float
    ratio_cpu: float
    nit_target: bool  # the iteration target applies to this pair
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def distance(self) -> float:
        return float(np.linalg.norm(np.atleast_1d(self.cm.x) - np.atleast_1d(self.sp.x)))

    @property
    def agree(self) -> bool:
        """The issue's test: answers within ANSWER_TOL, or both report failure."""
        return self.distance < ANSWER_TOL or (not self.cm.success and not self.sp.success)

    @property
    def same_algorithm(self) -> bool:
        """Whether calcml and SciPy run the same algorithm here. The one pair that does not
        is calcml's exact Newton against SciPy's truncated Newton (Newton-CG): where two
        minima are within reach, they may each go to a different one."""
        return not (self.calcml == "newton" and self.scipy == "Newton-CG")

    @property
    def answer_text(self) -> str:
        near = self.distance < ANSWER_TOL
        if self.cm.success and self.sp.success:
            return "same" if near else "OTHER POINT"
        if not self.cm.success and not self.sp.success:
            return "both fail"
        who = "calcml" if not self.cm.success else "SciPy"
        return f"same x, {who} fails" if near else f"{who} FAILED"

    @property
    def dnit(self) -> int | None:
        """calcml's iterations minus SciPy's. Where SciPy stopped without converging (and
        calcml converged), SciPy's count is of a shorter journey: calcml is then counted
        to the first iterate as close to a minimum (|grad f|) as SciPy's last."""
        if self.cm.nit is None or self.sp.nit is None:
            return None
        return self.extra.get("nit_to_sp", self.cm.nit) - self.sp.nit

    @property
    def nit_ok(self) -> bool | None:
        d = self.dnit
        return None if d is None else d <= 0


def _pair(a: int | None, b: int | None) -> str:
    return f"{'-' if a is None else a} / {'-' if b is None else b}"


def _nit_pair(r: Row) -> str:
    """calcml / SciPy iterations; with calcml's count to SciPy's |grad f| in brackets
    where SciPy stopped short."""
    text = _pair(r.cm.nit, r.sp.nit)
    if "nit_to_sp" in r.extra:
        text = f"{r.cm.nit} ({r.extra['nit_to_sp']}) / {r.sp.nit}"
    return text


def _sci(v: float) -> str:
    return "-" if v != v else f"{v:.0e}"


def _vec(x: np.ndarray) -> str:
    return np.array2string(np.asarray(x), precision=4, max_line_width=10_000)


def _dnit(d: int | None, base: int | None) -> str:
    if d is None:
        return "-"
    if d <= 0 or not base:
        return f"{d:+d}"
    return f"{d:+d} ({100 * d / base:+.0f}%)"


# -- derivative check (untimed) ----------------------------------------------------------
CHECKS: list[list[Any]] = []  # one row per problem: calcml's Function vs the referee
CHECK_TOL = 1e-8


def _rel(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        a = a.reshape(b.shape)
    err = np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b))))
    return float(err) if np.isfinite(err) else float("inf")


def _check_derivatives(
    label: str, parts: list[tuple[int, Callable, Callable]], x0: np.ndarray
) -> None:
    """Compare calcml's Function with the referee SciPy is given (SymPy, NumPy, rosen_*),
    at x0 and three points near it: ``parts`` holds (order, calcml call, referee)."""
    rng = np.random.default_rng(7)
    points = [x0] + [x0 + rng.uniform(-1, 1, x0.shape) for _ in range(3)]
    worst = [float("nan")] * 3
    for order, ours, theirs in parts:
        for x in points:
            try:
                err = _rel(ours(x), theirs(x))
            except calcml.CalcmlError:
                err = float("inf")  # calcml refused a point where the referee is finite
            worst[order] = err if worst[order] != worst[order] else max(worst[order], err)
    bad = any(e > CHECK_TOL for e in worst if e == e)
    CHECKS.append([label, len(points), *(_sci(e) for e in worst), "MISMATCH" if bad else "ok"])


# -- 1. unconstrained ------------------------------------------------------------------------
def _calcml_minimize(
    f: calcml.Function, x0: np.ndarray, method: str, grad: Callable
) -> tuple[Outcome, Any]:
    f.reset_counters()
    r = calcml.minimize(f, x0, method=method, gtol=GTOL)
    x = np.asarray(r.x, dtype=float)
    out = Outcome(x, bool(r.success), r.nit, r.nfev, r.njev, r.nhev, float(np.linalg.norm(grad(x))))
    out.note = r.status + (f"; {r.notes[0]}" if r.notes else "")
    return out, r


def _scipy_outcome(r: Any, grad: Callable, success: bool | None = None) -> Outcome:
    x = np.asarray(r.x, dtype=float)
    return Outcome(
        x,
        bool(r.success if success is None else success),
        r.get("nit"),
        r.get("nfev"),
        r.get("njev"),
        r.get("nhev"),
        float(np.linalg.norm(grad(x))),
        note=str(r.message),
    )


def bench_unconstrained(args: Any, progress: Progress) -> tuple[list[Row], list[list[Any]]]:
    rows: list[Row] = []
    setup: list[list[Any]] = []
    for p in UNCONSTRAINED:
        progress.step(p.label)
        x0 = np.array(p.x0, dtype=float)
        start = time.perf_counter()
        f = calcml.Function(p.text)  # compiled once, outside every timing
        built = time.perf_counter()
        f.value(x0), f.gradient(x0), f.hessian(x0)  # each order is compiled on first use
        compiled = time.perf_counter()
        fun, jac, hess = _scipy_functions(p, f)
        prepared = time.perf_counter()
        setup.append(
            [
                p.label,
                f.n,
                1e3 * (built - start),
                1e3 * (compiled - built),
                DERIVS_NOTE[p.derivs],
                1e3 * (prepared - compiled),
            ]
        )
        _check_derivatives(
            p.label, [(0, f.value, fun), (1, f.gradient, jac), (2, f.hessian, hess)], x0
        )
        stop = GradientStop(jac, GTOL)

        def newton_cg(
            fun: Callable = fun, hess: Callable = hess, stop: GradientStop = stop, x0=x0
        ) -> Any:
            stop.reset()
            return so.minimize(
                fun,
                x0,
                jac=stop.jac,
                hess=hess,
                method="Newton-CG",
                callback=stop.callback,
                options={"xtol": 0.0},
            )

        calls = {
            "cm newton": lambda f=f, x0=x0: calcml.minimize(f, x0, method="newton", gtol=GTOL),
            "cm newton_cg": lambda f=f, x0=x0: calcml.minimize(
                f, x0, method="newton_cg", gtol=GTOL
            ),
            "cm bfgs": lambda f=f, x0=x0: calcml.minimize(f, x0, method="bfgs", gtol=GTOL),
            "sp newton-cg": newton_cg,
            "sp trust-exact": lambda fun=fun, jac=jac, hess=hess, x0=x0: so.minimize(
                fun, x0, jac=jac, hess=hess, method="trust-exact", options={"gtol": GTOL}
            ),
            "sp bfgs": lambda fun=fun, jac=jac, x0=x0: so.minimize(
                fun, x0, jac=jac, method="BFGS", options={"gtol": GTOL, "norm": 2}
            ),
        }
        # counts and answers: one untimed run of each
        cm_newton, run_newton = _calcml_minimize(f, x0, "newton", jac)
        cm_ncg, run_ncg = _calcml_minimize(f, x0, "newton_cg", jac)
        cm_bfgs, run_bfgs = _calcml_minimize(f, x0, "bfgs", jac)
        r = newton_cg()
        sp_ncg = _scipy_outcome(r, jac, success=r.success or stop.stopped)
        if stop.extra:
            sp_ncg.note += f" ({stop.extra} gradient(s) computed by the stop test)"
        sp_te = _scipy_outcome(calls["sp trust-exact"](), jac)
        sp_bfgs = _scipy_outcome(calls["sp bfgs"](), jac)

        t = paired(calls, args.samples, args.target_ms)
        for cm_name, sp_name, cm, sp, target, run in (
            ("cm newton", "sp newton-cg", cm_newton, sp_ncg, True, run_newton),
            ("cm newton", "sp trust-exact", cm_newton, sp_te, False, run_newton),
            ("cm newton_cg", "sp newton-cg", cm_ncg, sp_ncg, False, run_ncg),
            ("cm bfgs", "sp bfgs", cm_bfgs, sp_bfgs, True, run_bfgs),
        ):
            extra = {"f_cm": float(fun(cm.x)), "f_sp": float(fun(sp.x))}
            if cm.success and not sp.success:
                extra["nit_to_sp"] = _iterations_to(run.history, jac, sp.residual)
            rows.append(
                Row(
                    "unconstrained",
                    p.label,
                    cm_name.removeprefix("cm "),
                    {"sp newton-cg": "Newton-CG", "sp trust-exact": "trust-exact"}.get(
                        sp_name, "BFGS"
                    ),
                    cm,
                    sp,
                    t[cm_name].median_us,
                    t[sp_name].median_us,
                    t[cm_name].median_cpu_us,
                    t[sp_name].median_cpu_us,
                    ratio(t, cm_name, sp_name),
                    ratio_cpu(t, cm_name, sp_name),
                    target,
                    extra,
                )
            )
    return rows, setup


def _iterations_to(history: list[np.ndarray], jac: Callable, residual: float) -> int:
    """The first iteration at which calcml's |grad f| (by the referee) was at most
    ``residual``: how long it took to get as far as a SciPy run that stopped there."""
    for k, x in enumerate(history):
        if np.linalg.norm(jac(np.asarray(x, dtype=float))) <= residual:
            return k
    return len(history) - 1


# -- 2. constrained ------------------------------------------------------------------------
def _kkt(grad: np.ndarray, a: np.ndarray) -> float:
    """min over lambda of |grad f - A^T lambda|_inf: how far x is from a KKT point."""
    lam = np.linalg.lstsq(a.T, grad, rcond=None)[0]
    return float(np.max(np.abs(grad - a.T @ lam)))


def bench_constrained(args: Any, progress: Progress) -> list[Row]:
    rows = []
    for p in CONSTRAINED:
        progress.step(p.label)
        exprs = [calcml.parse(p.objective), *(calcml.parse(c) for c in p.constraints)]
        names = sorted({s.name for e in exprs for s in e.free_symbols})
        f = calcml.Function(p.objective, variables=names)  # both compiled once
        c = calcml.Function(p.constraints, variables=names)
        x0 = np.array(p.x0, dtype=float)
        syms = _symbols(exprs, names)
        fun, jac, hess = _lambdified(exprs[0], syms)
        cons_exprs = exprs[1:]
        c0 = sympy.lambdify([syms], cons_exprs, modules="math", cse=True)
        j0 = sympy.lambdify(
            [syms], [[sympy.diff(e, s) for s in syms] for e in cons_exprs], modules="math", cse=True
        )

        def cfun(v: np.ndarray, c0: Callable = c0) -> np.ndarray:
            return np.array(c0(v))

        def cjac(v: np.ndarray, j0: Callable = j0) -> np.ndarray:
            return np.array(j0(v))

        cons = [{"type": "eq", "fun": cfun, "jac": cjac}]
        parts = [(0, f.value, fun), (1, f.gradient, jac), (2, f.hessian, hess)]
        parts += [(0, c.value, cfun), (1, c.jacobian, cjac)]
        for text, e in zip(p.constraints, cons_exprs, strict=True):
            # each constraint alone, as calcml's SQP builds it for the Lagrangian's Hessian
            parts.append(
                (2, calcml.Function(text, variables=names).hessian, _lambdified(e, syms)[2])
            )
        _check_derivatives(p.label, parts, x0)
        calls = {
            "cm sqp": lambda f=f, c=c, x0=x0: calcml.minimize(f, x0, constraints=c, gtol=GTOL),
            "sp slsqp": lambda fun=fun, jac=jac, cons=cons, x0=x0: so.minimize(
                fun,
                x0,
                jac=jac,
                method="SLSQP",
                constraints=cons,
                options={"ftol": SLSQP_FTOL, "maxiter": 200},
            ),
        }
        f.reset_counters()
        c.reset_counters()
        r = calls["cm sqp"]()
        xc = np.asarray(r.x, dtype=float)
        cm = Outcome(xc, bool(r.success), r.nit, f.nfev, f.njev, f.nhev)
        cm.residual = _kkt(jac(xc), cjac(xc))
        cm.note = r.status
        c_evals = f"{c.nfev} c, {c.njev} Jacobians"
        rs = calls["sp slsqp"]()
        xs = np.asarray(rs.x, dtype=float)
        sp = Outcome(xs, bool(rs.success), rs.nit, rs.nfev, rs.njev, None, _kkt(jac(xs), cjac(xs)))
        sp.note = str(rs.message)
        t = paired(calls, args.samples, args.target_ms)
        rows.append(
            Row(
                "constrained",
                p.label,
                "sqp",
                "SLSQP",
                cm,
                sp,
                t["cm sqp"].median_us,
                t["sp slsqp"].median_us,
                t["cm sqp"].median_cpu_us,
                t["sp slsqp"].median_cpu_us,
                ratio(t, "cm sqp", "sp slsqp"),
                ratio_cpu(t, "cm sqp", "sp slsqp"),
                False,
                {
                    "c_cm": float(np.max(np.abs(cfun(xc)))),
                    "c_sp": float(np.max(np.abs(cfun(xs)))),
                    "opt_cm": float(np.linalg.norm(xc - p.solution)),
                    "opt_sp": float(np.linalg.norm(xs - p.solution)),
                    "c_evals": c_evals,
                },
            )
        )
    return rows


# -- 3. roots of one equation -------------------------------------------------------------
class Counted:
    """A function that counts its calls (used only in the untimed counting run)."""

    def __init__(self, fn: Callable) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, x: float) -> float:
        self.calls += 1
        return self.fn(x)


def bench_roots(args: Any, progress: Progress) -> list[Row]:
    rows = []
    for _key, label, text, x0 in ROOTS:
        progress.step(label)
        g = calcml.Function(text)  # compiled once
        (x,) = _symbols([g.expr], g.variables)
        f1 = sympy.lambdify(x, g.expr, modules="math", cse=True)
        d1 = sympy.lambdify(x, sympy.diff(g.expr, x), modules="math", cse=True)
        _check_derivatives(
            label,
            [(0, g.value, lambda v, f1=f1: f1(v[0])), (1, g.gradient, lambda v, d1=d1: d1(v[0]))],
            np.array([x0]),
        )
        calls = {
            "cm newton_raphson": lambda g=g, x0=x0: calcml.newton_raphson(g, x0),
            "sp newton": lambda f1=f1, d1=d1, x0=x0: so.newton(f1, x0, fprime=d1),
        }
        g.reset_counters()
        r = calls["cm newton_raphson"]()
        cm = Outcome(np.array([r.x]), bool(r.success), r.nit, r.nfev, r.njev)
        cm.residual = abs(f1(r.x))
        fc, dc = Counted(f1), Counted(d1)
        root, info = so.newton(fc, x0, fprime=dc, full_output=True)
        sp = Outcome(np.array([root]), bool(info.converged), info.iterations, fc.calls, dc.calls)
        sp.residual = abs(f1(float(root)))
        t = paired(calls, args.samples, args.target_ms)
        a, b = "cm newton_raphson", "sp newton"
        rows.append(
            Row(
                "roots",
                label,
                "newton_raphson",
                "newton",
                cm,
                sp,
                t[a].median_us,
                t[b].median_us,
                t[a].median_cpu_us,
                t[b].median_cpu_us,
                ratio(t, a, b),
                ratio_cpu(t, a, b),
                True,
            )
        )
    return rows


# -- 4. a 2-D system ------------------------------------------------------------------------
def bench_systems(args: Any, progress: Progress) -> list[Row]:
    rows = []
    for _key, label, texts, x0_list in SYSTEMS:
        progress.step(label)
        big_f = calcml.Function(texts)  # compiled once
        x0 = np.array(x0_list, dtype=float)
        exprs = list(big_f.expr)
        syms = _symbols(exprs, big_f.variables)
        f0 = sympy.lambdify([syms], exprs, modules="math", cse=True)
        j0 = sympy.lambdify(
            [syms], [[sympy.diff(e, s) for s in syms] for e in exprs], modules="math", cse=True
        )

        def fun(v: np.ndarray, f0: Callable = f0) -> np.ndarray:
            return np.array(f0(v))

        def jac(v: np.ndarray, j0: Callable = j0) -> np.ndarray:
            return np.array(j0(v))

        _check_derivatives(label, [(0, big_f.value, fun), (1, big_f.jacobian, jac)], x0)
        calls = {
            "cm newton_raphson": lambda big_f=big_f, x0=x0: calcml.newton_raphson(big_f, x0),
            "sp hybr": lambda fun=fun, jac=jac, x0=x0: so.root(fun, x0, jac=jac, method="hybr"),
            "sp lm": lambda fun=fun, jac=jac, x0=x0: so.root(fun, x0, jac=jac, method="lm"),
        }
        big_f.reset_counters()
        r = calls["cm newton_raphson"]()
        xc = np.asarray(r.x, dtype=float)
        cm = Outcome(xc, bool(r.success), r.nit, r.nfev, r.njev)
        cm.residual = float(np.max(np.abs(fun(xc))))
        cm.note = r.status
        outs = {}
        for m in ("hybr", "lm"):
            rs = calls[f"sp {m}"]()
            xs = np.asarray(rs.x, dtype=float)
            outs[m] = Outcome(xs, bool(rs.success), rs.get("nit"), rs.nfev, rs.get("njev"))
            outs[m].residual = float(np.max(np.abs(fun(xs))))
            outs[m].note = " ".join(str(rs.message).split())
        t = paired(calls, args.samples, args.target_ms)
        for m in ("hybr", "lm"):
            a, b = "cm newton_raphson", f"sp {m}"
            rows.append(
                Row(
                    "systems",
                    label,
                    "newton_raphson",
                    f"root {m}",
                    cm,
                    outs[m],
                    t[a].median_us,
                    t[b].median_us,
                    t[a].median_cpu_us,
                    t[b].median_cpu_us,
                    ratio(t, a, b),
                    ratio_cpu(t, a, b),
                    False,
                )
            )
    return rows


# -- report ----------------------------------------------------------------------------------
def _common(row: Row) -> list[Any]:
    return [
        _sci(row.distance) if row.distance > 0 else "0",
        row.wall_cm,
        row.wall_sp,
        row.ratio,
        row.ratio_cpu,
        row.answer_text,
        verdict(row.ratio <= TIME_TARGET),
    ]


TEXT_COLUMNS = {"problem", "calcml", "SciPy", "answer", "check"}


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    align = "".join("<" if h in TEXT_COLUMNS else ">" for h in headers)
    return table(headers, rows, align)


def _nit_verdict(row: Row) -> str:
    ok = row.nit_ok
    if ok is None:
        return "-"
    return verdict(ok) if row.nit_target else f"({verdict(ok).lower()})"


def report(rows: list[Row], setup: list[list[Any]], args: Any) -> None:
    print(
        "calcml's solvers vs SciPy's on the same problems (median us per call; ratios = "
        "median of paired per-sample ratios calcml/SciPy)"
    )
    print(f"{machine()}  scipy {scipy.__version__}  numpy {np.__version__}")
    print(
        f"samples={args.samples}  loop per sample ~{args.target_ms:g} ms  gtol={GTOL:g} "
        f"(2-norm) for every gradient test; SLSQP ftol={SLSQP_FTOL:g}; "
        f"answers agree within {ANSWER_TOL:g}"
    )
    print()
    print("One-off costs, not in any timing below (single measurement each):")
    print(
        table(
            [
                "problem",
                "n",
                "calcml Function() ms",
                "compile f, grad, Hessian ms",
                "SciPy gets",
                "its prep ms",
            ],
            setup,
        )
    )

    heads = ["|x_cm - x_sp|", "calcml us", "SciPy us", "cm/sp", "cpu cm/sp", "answer", "time"]
    sec = [r for r in rows if r.section == "unconstrained"]
    print()
    print("1. Unconstrained: calcml.minimize vs scipy.optimize.minimize (counts calcml / SciPy)")
    print(
        _table(
            [
                "problem",
                "calcml",
                "SciPy",
                "nit",
                "calcml - SciPy nit",
                "nfev",
                "njev",
                "nhev",
                "|g| cm",
                "|g| sp",
                *heads[:-1],
                "nit",
                "time",
            ],
            [
                [
                    r.problem,
                    r.calcml,
                    r.scipy,
                    _nit_pair(r),
                    _dnit(r.dnit, r.sp.nit),
                    _pair(r.cm.nfev, r.sp.nfev),
                    _pair(r.cm.njev, r.sp.njev),
                    _pair(r.cm.nhev, r.sp.nhev),
                    _sci(r.cm.residual),
                    _sci(r.sp.residual),
                    *_common(r)[:-1],
                    _nit_verdict(r),
                    _common(r)[-1],
                ]
                for r in sec
            ],
        )
    )
    print(
        "   nit verdict: calcml newton vs Newton-CG and calcml bfgs vs BFGS are the target; "
        "(pass)/(fail) for newton vs trust-exact and newton_cg vs Newton-CG is context."
    )
    print(
        "   |g| = |grad f|_2 at each answer, by the same referee (SciPy's gradient function); "
        "Newton-CG stopped by the gradient test counts as converged."
    )
    print(
        "   nit 'a (b) / c': SciPy stopped without converging after c iterations; calcml "
        "converged in a, and first reached SciPy's final |g| at iteration b (compared)."
    )
    for r in sec:
        if not r.agree or r.answer_text != "same":
            print(
                f"   {r.problem}, {r.calcml} vs {r.scipy}: {r.answer_text}: calcml "
                f"x = {_vec(r.cm.x)} f = {r.extra['f_cm']:.3g} "
                f"({r.cm.note}); SciPy x = {_vec(r.sp.x)} "
                f"f = {r.extra['f_sp']:.3g} ({r.sp.note})"
            )

    sec = [r for r in rows if r.section == "constrained"]
    print()
    print(
        "2. Equality-constrained: calcml.minimize(constraints=...) (SQP) vs SLSQP "
        "(counts of the objective; calcml / SciPy)"
    )
    print(
        _table(
            [
                "problem",
                "nit",
                "calcml - SciPy nit",
                "nfev",
                "njev",
                "nhev",
                "KKT cm",
                "KKT sp",
                "|c| cm",
                "|c| sp",
                "|x-x*| cm",
                "|x-x*| sp",
                *heads,
            ],
            [
                [
                    r.problem,
                    _pair(r.cm.nit, r.sp.nit),
                    _dnit(r.dnit, r.sp.nit),
                    _pair(r.cm.nfev, r.sp.nfev),
                    _pair(r.cm.njev, r.sp.njev),
                    _pair(r.cm.nhev, r.sp.nhev),
                    _sci(r.cm.residual),
                    _sci(r.sp.residual),
                    _sci(r.extra["c_cm"]),
                    _sci(r.extra["c_sp"]),
                    _sci(r.extra["opt_cm"]),
                    _sci(r.extra["opt_sp"]),
                    *_common(r),
                ]
                for r in sec
            ],
        )
    )
    print(
        "   KKT = min over lambda of |grad f - A^T lambda|_inf at the answer; x* = the "
        "published optimum. calcml also evaluated the constraints: "
        + "; ".join(f"{r.problem}: {r.extra['c_evals']}" for r in sec)
    )
    for r in sec:
        if r.answer_text != "same":
            print(f"   {r.problem}: {r.answer_text} ({r.cm.note}; {r.sp.note})")

    sec = [r for r in rows if r.section == "roots"]
    print()
    print(
        "3. Roots of one equation: calcml.newton_raphson vs scipy.optimize.newton(fprime=...) "
        "(calcml / SciPy)"
    )
    print(
        _table(
            [
                "problem",
                "nit",
                "calcml - SciPy nit",
                "f evals",
                "f' evals",
                "|f(x)| cm",
                "|f(x)| sp",
                *heads[:-1],
                "nit",
                "time",
            ],
            [
                [
                    r.problem,
                    _pair(r.cm.nit, r.sp.nit),
                    _dnit(r.dnit, r.sp.nit),
                    _pair(r.cm.nfev, r.sp.nfev),
                    _pair(r.cm.njev, r.sp.njev),
                    _sci(r.cm.residual),
                    _sci(r.sp.residual),
                    *_common(r)[:-1],
                    _nit_verdict(r),
                    _common(r)[-1],
                ]
                for r in sec
            ],
        )
    )

    sec = [r for r in rows if r.section == "systems"]
    print()
    print("4. A 2-D system: calcml.newton_raphson vs scipy.optimize.root (calcml / SciPy)")
    print(
        _table(
            [
                "problem",
                "SciPy",
                "nit",
                "F evals",
                "Jacobians",
                "max|F| cm",
                "max|F| sp",
                *heads,
            ],
            [
                [
                    r.problem,
                    r.scipy,
                    _pair(r.cm.nit, r.sp.nit),
                    _pair(r.cm.nfev, r.sp.nfev),
                    _pair(r.cm.njev, r.sp.njev),
                    _sci(r.cm.residual),
                    _sci(r.sp.residual),
                    *_common(r),
                ]
                for r in sec
            ],
        )
    )
    print(
        "   hybr and lm report no iteration count (-); both get the Jacobian function (hybr "
        "evaluates it a few times and updates it by Broyden's formula in between)."
    )
    for r in sec:
        if r.answer_text != "same":
            print(f"   {r.problem} vs {r.scipy}: {r.answer_text} ({r.cm.note}; {r.sp.note})")

    print()
    print(
        "Derivative check (untimed): calcml's Function vs the referee SciPy is given, at x0 "
        "and 3 points near it (max |calcml - referee| / max(1, max |referee|))"
    )
    print(_table(["problem", "points", "value", "gradient/Jacobian", "Hessian", "check"], CHECKS))
    print(
        "   constrained rows include the constraints (value, Jacobian) and each constraint's "
        "Hessian as a Function of its own; inf = calcml raised an error where the referee is "
        "finite"
    )
    summary(rows)


def summary(rows: list[Row]) -> None:
    print()
    print("Summary:")
    bad_checks = [c for c in CHECKS if c[-1] != "ok"]
    print(
        f"calcml's derivatives agree with the referee (to {CHECK_TOL:g}): "
        f"{len(CHECKS) - len(bad_checks)}/{len(CHECKS)} problems -> {verdict(not bad_checks)}"
        + ("; MISMATCH on: " + ", ".join(c[0] for c in bad_checks) if bad_checks else "")
    )
    alike = [r for r in rows if r.same_algorithm]
    bad_alike = [r for r in alike if not r.agree]
    print(
        f"same answers (|x_cm - x_sp| < {ANSWER_TOL:g}, or both fail), each calcml method "
        "against SciPy's of the same algorithm (newton / trust-exact, newton_cg / Newton-CG, "
        f"bfgs / BFGS, SQP / SLSQP, roots, systems): {len(alike) - len(bad_alike)}/{len(alike)} "
        f"pairs -> {verdict(not bad_alike)}"
    )
    agree = [r for r in rows if r.agree]
    bad = [r for r in rows if not r.agree]
    print(
        f"(context) same answers over every pair, also calcml's exact newton vs SciPy's "
        f"truncated Newton-CG: {len(agree)}/{len(rows)} pairs -> {verdict(not bad)}"
    )
    for r in bad:
        print(
            f"   {r.problem}: calcml {r.calcml} vs {r.scipy}: {r.answer_text}, "
            f"|x_cm - x_sp| = {r.distance:.3g}"
        )
    for what, pick in (
        (
            "calcml newton <= Newton-CG",
            lambda r: r.calcml == "newton" and r.scipy == "Newton-CG",
        ),
        ("calcml bfgs <= BFGS", lambda r: r.calcml == "bfgs"),
        ("newton_raphson <= scipy newton", lambda r: r.section == "roots"),
        ("(context) calcml newton <= trust-exact", lambda r: r.scipy == "trust-exact"),
        (
            "(context) calcml newton_cg <= Newton-CG",
            lambda r: r.calcml == "newton_cg" and r.scipy == "Newton-CG",
        ),
    ):
        sel = [r for r in rows if pick(r)]
        over = [r for r in sel if r.dnit is not None and r.dnit > 0]
        print(
            f"iterations, {what}: {len(sel) - len(over)}/{len(sel)} problems -> "
            f"{verdict(not over)}"
            + (
                "; more iterations on: "
                + ", ".join(f"{r.problem} {r.cm.nit} vs {r.sp.nit} ({r.dnit:+d})" for r in over)
                if over
                else ""
            )
        )
    ratios = [r.ratio for r in rows]
    cpu = [r.ratio_cpu for r in rows]
    slow = [r for r in rows if r.ratio > TIME_TARGET]
    slow_cpu = [r for r in rows if r.ratio_cpu > TIME_TARGET]
    print(
        f"time within {TIME_TARGET:g}x (wall): {len(rows) - len(slow)}/{len(rows)} pairs -> "
        f"{verdict(not slow)}; median ratio {median(ratios):.2f}, best {min(ratios):.2f}, "
        f"worst {max(ratios):.2f}"
    )
    print(
        f"  same, CPU time: {len(rows) - len(slow_cpu)}/{len(rows)} pairs -> "
        f"{verdict(not slow_cpu)}; median ratio {median(cpu):.2f}, worst {max(cpu):.2f}"
    )
    for section in ("unconstrained", "constrained", "roots", "systems"):
        sel = [r for r in rows if r.section == section]
        n_ok = sum(1 for r in sel if r.ratio <= TIME_TARGET)
        print(
            f"  {section:<13} {n_ok}/{len(sel)} within {TIME_TARGET:g}x, ratios "
            + ", ".join(f"{r.ratio:.2f}" for r in sel)
        )
    sys.stdout.flush()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    total = len(UNCONSTRAINED) + len(CONSTRAINED) + len(ROOTS) + len(SYSTEMS)
    progress = Progress(total, not args.no_progress)
    rows, setup = bench_unconstrained(args, progress)
    rows += bench_constrained(args, progress)
    rows += bench_roots(args, progress)
    rows += bench_systems(args, progress)
    progress.close()
    report(rows, setup, args)


if __name__ == "__main__":
    main()
