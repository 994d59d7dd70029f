"""Benchmark: calcml.Function on 100-variable expressions (issue: the Hessian builds in
under 0.5 s, where plain SymPy takes about 9 s, and costs microseconds per call after).

Two problems of 100 variables x001..x100 (sorted by name = the natural order):

* **Rosenbrock**: sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2; its Hessian is tridiagonal
  (298 non-zero entries of 10,000);
* **dense-ish**: sum_i sin(x_i) x_{i+1} (cyclic) + x_i^2; also 300 non-zero entries, but
  every one holds a sin or cos.

Each text is over the parser's 2,000-character limit, so the expression is the sum of its
parsed terms (``calcml.parse`` of each ``+``-separated piece); the parse time is shown
but not counted in the build.

(1) **Build**: ``Function(expr).hessian(x)`` (first call: differentiation, sparsity and
    compilation), with SymPy's cache cleared before every sample (cold; the clearing is
    not timed), for calcml's default backend (symengine when installed) and for its SymPy
    backend. Beside them, plain SymPy: ``sympy.hessian(expr, xs)``, each sample in a
    fresh interpreter, stopped after 60 s (then reported as "> 60 s"), and
    ``sympy.lambdify(xs, H)`` of that 100 x 100 Matrix.
(2) **Per call**, after building, timed paired (back to back, rotating order): calcml's
    ``f.hessian(x)``, ``f.gradient(x)`` and ``f.value(x)`` on float64 arrays, for both
    backends, beside the lambdified SymPy Matrix ``F(*x)`` (the same Matrix, built in
    this process from calcml's SymPy entries, so that the peer is timed in the same run).

Run:  python bench/bench_function.py [--samples N] [--target-ms MS] [--sympy-samples N]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sympy

import calcml
from _harness import (
    MIN_SAMPLES,
    Progress,
    machine,
    median,
    paired,
    ratio,
    ratio_cpu,
    table,
    verdict,
)
from calcml.function import Function

N = 100
BUILD_TARGET_S = 0.5
CALL_TARGET_US = 100.0  # "microseconds per call": tens of microseconds, not milliseconds
SYMPY_TIMEOUT_S = 60.0


def names(n: int = N) -> list[str]:
    return [f"x{i:03d}" for i in range(1, n + 1)]


def problem_terms(name: str, n: int = N) -> list[str]:
    x = names(n)
    if name == "rosenbrock":
        return [f"100*({x[i + 1]} - {x[i]}^2)^2 + (1 - {x[i]})^2" for i in range(n - 1)]
    return [f"sin({x[i]}) {x[(i + 1) % n]} + {x[i]}^2" for i in range(n)]


def build_expr(name: str) -> sympy.Expr:
    return sympy.Add(*[calcml.parse(term) for term in problem_terms(name)])


def oracle(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian by hand, to check every build measured."""
    n = len(x)
    if name == "rosenbrock":
        g = np.zeros(n)
        g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
        g[1:] += 200 * (x[1:] - x[:-1] ** 2)
        h = np.zeros((n, n))
        d = np.zeros(n)
        d[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
        d[1:] += 200
        h[np.arange(n), np.arange(n)] = d
        h[np.arange(n - 1), np.arange(1, n)] = h[np.arange(1, n), np.arange(n - 1)] = -400 * x[:-1]
        return g, h
    nxt, prv = np.roll(x, -1), np.roll(x, 1)
    g = np.cos(x) * nxt + np.sin(prv) + 2 * x
    h = np.diag(-np.sin(x) * nxt + 2)
    for i in range(n):
        j = (i + 1) % n
        h[i, j] = h[j, i] = np.cos(x[i])
    return g, h


# -- plain SymPy, in a fresh interpreter with a time limit ----------------------------------


def sympy_baseline_child(name: str) -> None:
    """Run in a subprocess: time sympy.hessian and lambdify of its Matrix; print JSON."""
    import signal

    from _harness import paired as timed

    expr = build_expr(name)
    xs = sorted(expr.free_symbols, key=lambda s: s.name)
    start = time.perf_counter()
    hess = sympy.hessian(expr, xs)
    build = time.perf_counter() - start
    signal.setitimer(signal.ITIMER_REAL, 0)  # the watchdog of _child_guard is done
    print(json.dumps({"build": build}), flush=True)
    start = time.perf_counter()
    func = sympy.lambdify(xs, hess)
    lam = time.perf_counter() - start
    x = np.random.default_rng(0).uniform(-1, 1, len(xs))
    assert np.allclose(np.asarray(func(*x), dtype=float), oracle(name, x)[1])
    per_call = timed({"F": lambda: func(*x)}, samples=5)["F"].median_us
    print(json.dumps({"build": build, "lambdify": lam, "call_us": per_call}), flush=True)


def sympy_baseline(name: str, samples: int) -> dict:
    """Median seconds of sympy.hessian (None when over the time limit), lambdify, call."""
    builds, lams, calls = [], [], []
    for _ in range(samples):
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--sympy-child", name],
                capture_output=True,
                text=True,
                timeout=SYMPY_TIMEOUT_S + 60,  # the Hessian, then lambdify and its calls
                cwd=Path(__file__).parent,
                env=dict(os.environ),
            )
            lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        except subprocess.TimeoutExpired as err:
            out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
            lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        if not lines or lines[0]["build"] > SYMPY_TIMEOUT_S:
            return {"build": None, "lambdify": None, "call_us": None}
        builds.append(lines[-1]["build"])
        if "lambdify" in lines[-1]:
            lams.append(lines[-1]["lambdify"])
            calls.append(lines[-1]["call_us"])
    return {
        "build": median(builds),
        "lambdify": median(lams) if lams else None,
        "call_us": median(calls) if calls else None,
    }


def _child_guard(name: str) -> None:
    # A watchdog: the child stops itself after SYMPY_TIMEOUT_S of sympy.hessian.
    import signal

    def stop(signum: int, frame: object) -> None:
        print(json.dumps({"build": float("inf")}), flush=True)
        os._exit(0)

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, SYMPY_TIMEOUT_S)
    sympy_baseline_child(name)


# -- calcml -------------------------------------------------------------------------------


def first_build(expr: sympy.Expr, x: np.ndarray) -> float:
    """Seconds of the very first build in this process (imports symengine, if any)."""
    start = time.perf_counter()
    Function(expr).hessian(x)
    return time.perf_counter() - start


def dense_matrix(f: Function) -> sympy.Matrix:
    """The full 100 x 100 SymPy Matrix of the Hessian, from calcml's SymPy entries."""
    sym = f._sym
    order = sym.order(2)
    n = len(sym.symbols)
    hess = sympy.zeros(n, n)
    entries = order.compiled._entries
    for flat, flat_t, e in zip(order.flat, order.mirror, entries, strict=True):
        hess[int(flat) // n, int(flat) % n] = e
        hess[int(flat_t) // n, int(flat_t) % n] = e
    return hess


def _arguments():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=MIN_SAMPLES)
    parser.add_argument("--target-ms", type=float, default=10.0)
    parser.add_argument(
        "--sympy-samples",
        type=int,
        default=2,
        help="samples of plain sympy.hessian, each in a fresh interpreter (default 2)",
    )
    parser.add_argument(
        "--sympy-backend-samples",
        type=int,
        default=5,
        help="samples of calcml's build with backend='sympy' (default 5; it is slower)",
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--sympy-child", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.sympy_child:
        _child_guard(args.sympy_child)
        return
    from sympy.core.cache import clear_cache

    problems = ["rosenbrock", "dense"]
    progress = Progress(len(problems) * 4, not args.no_progress)
    build_rows, call_rows, verdicts, notes = [], [], [], []
    for name in problems:
        progress.step(f"{name}: parse")
        start = time.perf_counter()
        expr = build_expr(name)
        parse_s = time.perf_counter() - start
        x = np.random.default_rng(1).uniform(-1, 1, N)
        grad_ref, hess_ref = oracle(name, x)
        first = first_build(expr, x) if name == problems[0] else None
        default_backend = Function(expr).backend

        def build(backend: str, e: sympy.Expr = expr, x: np.ndarray = x) -> np.ndarray:
            return Function(e, backend=backend).hessian(x)

        for backend in ("auto", "sympy"):
            assert np.allclose(build(backend), hess_ref, rtol=1e-12, atol=1e-12)

        progress.step(f"{name}: calcml builds")
        auto = paired({"auto": lambda: build("auto")}, args.samples, target_ms=1.0, cold=True)
        slow = paired(
            {"sympy": lambda: build("sympy")},
            args.sympy_backend_samples,
            target_ms=1.0,
            cold=True,
        )
        progress.step(f"{name}: plain SymPy (fresh interpreter, <= {SYMPY_TIMEOUT_S:.0f} s)")
        base = sympy_baseline(name, args.sympy_samples)

        build_auto = auto["auto"].median_us / 1e6
        build_sympy = slow["sympy"].median_us / 1e6
        base_s = base["build"]
        base_text = f"{base_s:.2f}" if base_s is not None else f"> {SYMPY_TIMEOUT_S:.0f}"
        build_rows.append(
            [
                name,
                f"{parse_s:.2f}",
                f"{build_auto:.3f}",
                f"{build_sympy:.2f}",
                base_text,
                f"{base['lambdify']:.2f}" if base["lambdify"] is not None else "-",
                f"{base_s / build_auto:.0f}x"
                if base_s is not None
                else f"> {SYMPY_TIMEOUT_S / build_auto:.0f}x",
                f"{build_sympy / build_auto:.1f}x",
            ]
        )
        cpu_auto = auto["auto"].median_cpu_us / 1e6
        cpu_sympy = slow["sympy"].median_cpu_us / 1e6
        verdicts.append(
            f"{name}: build {build_auto:.3f} s ({default_backend}) -> "
            f"{verdict(build_auto < BUILD_TARGET_S)} (target < {BUILD_TARGET_S} s); "
            f"with backend='sympy' {build_sympy:.2f} s -> "
            f"{verdict(build_sympy < BUILD_TARGET_S)}"
        )
        verdicts.append(
            f"  same, CPU time: {cpu_auto:.3f} s -> {verdict(cpu_auto < BUILD_TARGET_S)}; "
            f"backend='sympy' {cpu_sympy:.2f} s -> {verdict(cpu_sympy < BUILD_TARGET_S)}"
        )
        if first is not None:
            notes.append(
                f"first build in this process ({name}, {default_backend}, including its "
                f"import): {first:.3f} s"
            )

        progress.step(f"{name}: per call")
        clear_cache()
        fa, fs = Function(expr), Function(expr, backend="sympy")
        for f in (fa, fs):
            assert np.allclose(f.hessian(x), hess_ref) and np.allclose(f.gradient(x), grad_ref)
        start = time.perf_counter()
        matrix = dense_matrix(fs)
        lam_matrix = sympy.lambdify(fs._sym.engine.symbols, matrix)
        lam_s = time.perf_counter() - start
        assert np.allclose(np.asarray(lam_matrix(*x), dtype=float), hess_ref)
        xs_list = list(x)
        calls = {
            "H auto": lambda fa=fa, x=x: fa.hessian(x),
            "H sympy": lambda fs=fs, x=x: fs.hessian(x),
            "g auto": lambda fa=fa, x=x: fa.gradient(x),
            "g sympy": lambda fs=fs, x=x: fs.gradient(x),
            "v auto": lambda fa=fa, x=x: fa.value(x),
            "F(*x)": lambda f=lam_matrix, xs=xs_list: f(*xs),
        }
        t = paired(calls, args.samples, args.target_ms)
        call_rows.append(
            [
                name,
                t["H auto"].median_us,
                t["g auto"].median_us,
                t["v auto"].median_us,
                t["H sympy"].median_us,
                t["g sympy"].median_us,
                t["F(*x)"].median_us,
                f"{ratio(t, 'H auto', 'F(*x)'):.3f}",
                f"{ratio_cpu(t, 'H auto', 'F(*x)'):.3f}",
            ]
        )
        worst = max(t["H auto"].median_us, t["g auto"].median_us)
        worst_cpu = max(t["H auto"].median_cpu_us, t["g auto"].median_cpu_us)
        verdicts.append(
            f"{name}: per call hessian {t['H auto'].median_us:.1f} us, gradient "
            f"{t['g auto'].median_us:.1f} us -> {verdict(worst < CALL_TARGET_US)} "
            f"(target: microseconds, < {CALL_TARGET_US:.0f} us)"
        )
        verdicts.append(
            f"  same, CPU time: hessian {t['H auto'].median_cpu_us:.1f} us, gradient "
            f"{t['g auto'].median_cpu_us:.1f} us -> {verdict(worst_cpu < CALL_TARGET_US)}"
        )
        notes.append(
            f"{name}: lambdify of the full 100 x 100 Matrix (this process, from calcml's "
            f"SymPy entries): {lam_s:.2f} s; plain-SymPy child's lambdified Matrix: "
            + (f"{base['call_us']:.0f} us/call" if base["call_us"] is not None else "-")
        )
    progress.close()

    print(machine())
    print()
    print(
        f"Build of the Hessian, 100 variables: seconds, median over {args.samples} cold samples "
        f"(calcml default backend: {Function('x').backend}), {args.sympy_backend_samples} "
        f"(calcml backend='sympy') and {args.sympy_samples} (plain SymPy, fresh interpreter "
        f"each)"
    )
    print(
        table(
            [
                "problem",
                "parse s",
                "calcml s",
                "calcml[sympy] s",
                "sympy.hessian s",
                "+lambdify s",
                "sympy.hessian/calcml",
                "calcml[sympy]/calcml",
            ],
            build_rows,
        )
    )
    print()
    print(
        f"Per call after building: us, median over {args.samples} paired samples "
        "(x a float64 array; F(*x) = sympy.lambdify(xs, H) of the full Matrix)"
    )
    print(
        table(
            [
                "problem",
                "hessian",
                "gradient",
                "value",
                "hessian[sympy]",
                "gradient[sympy]",
                "F(*x)",
                "hessian/F",
                "cpu hessian/F",
            ],
            call_rows,
        )
    )
    print()
    for line in notes:
        print(line)
    print(
        "(CPU time = time.thread_time_ns of the benchmark thread: wall time minus waiting "
        "for a core that another process holds)"
    )
    print()
    for line in verdicts:
        print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
