"""Benchmark: derivative with steps vs plain sympy.diff (issue 2: target under 3x).

Each textbook expression is parsed once, outside the timing, and then measured paired
(back to back, in rotating order, in every sample):

(a) ``sympy.diff(expr, x)``: the peer;
(b) ``calcml.symbolic.rules.differentiate(expr, x)``: the step tree alone;
(c) ``calcml.derivative(expr, "x")``: the public call (input coercion, the step tree, the
    time budget); ``.result`` is tidied lazily and is not touched here;
(d) ``calcml.derivative(expr, "x").result``: the same plus the tidy-up of the answer;
(e) ``sympy.simplify(sympy.diff(expr, x))``: what a SymPy user does to get a simplified
    answer, the peer of (d); it is slow, so it is paired with (d) alone, with fewer
    samples.

SymPy caches heavily (``@cacheit`` on constructors and many methods): in a loop both
sides profit alike. The *cold* table calls ``sympy.core.cache.clear_cache()`` before
every single call of (a), (c) and (d) and times only the call.

Note: for ``|x^2 - 1|`` with a plain (complex) symbol x, ``sympy.diff`` returns an
expression in ``re(x)``, ``im(x)`` and their derivatives, while calcml answers with the
real-calculus ``2x·sign(x^2 - 1)``; they are different amounts of work.

Run:  python bench/bench_derivative.py [--samples N] [--target-ms MS] [--simplify-samples N]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import sys

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
    truncate,
    verdict,
)
from calcml.symbolic.rules import differentiate

TARGET_RATIO = 3.0

EXPRESSIONS = [
    "x^2 sin(x)",
    "exp(-x^2) cos(3x)",
    "(x^2+1)/(x-1)",
    "sqrt(1+x^2)",
    "ln(sin(x)^2+1)",
    "x^x",
    "atan(x/2) tanh(x)",
    "2^x",
    "sin(exp(x^2))",
    "x^3 - 2x + 2",
    "1/(1+exp(-x))",
    "x e^x ln(x)",
    "tan(x)/x",
    "(x^2+1)^5",
    "asin(2x) + acos(x)",
    "|x^2 - 1|",
    "sec(x)^2",
    "e^(sin(x))/(1 + x^2)",
    "csc(x) cot(x) + cosh(x)^3",
    "log(x, 2) + 3^(x^2)",
]


def _check(expr: sympy.Expr, x: sympy.Symbol) -> None:
    """calcml's answer agrees with SymPy's at a point (outside all timing)."""
    xr = sympy.Symbol("x", positive=True)
    ours = calcml.derivative(expr, "x").result.subs(x, sympy.Rational(3, 10))
    theirs = sympy.diff(expr.subs(x, xr), xr).subs(xr, sympy.Rational(3, 10))
    assert abs(complex(sympy.N(ours - theirs))) < 1e-9, (expr, ours, theirs)


def _arguments():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=MIN_SAMPLES)
    parser.add_argument(
        "--simplify-samples",
        type=int,
        default=7,
        help="paired samples of (d) vs sympy.simplify (default 7; it is slow)",
    )
    parser.add_argument("--target-ms", type=float, default=10.0)
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    warm_rows, cold_rows = [], []
    summary: dict[str, list[float]] = {
        k: []
        for k in (
            "b/a",
            "c/a",
            "d/a",
            "d/e",
            "cold c/a",
            "cold d/a",
            "cpu c/a",
            "cpu d/a",
            "cpu cold c/a",
            "cpu cold d/a",
        )
    }
    progress = Progress(len(EXPRESSIONS), not args.no_progress)
    for text in EXPRESSIONS:
        progress.step(text)
        expr = calcml.parse(text)
        x = next(s for s in expr.free_symbols if s.name == "x")
        _check(expr, x)
        calls = {
            "a": lambda e=expr, x=x: sympy.diff(e, x),
            "b": lambda e=expr, x=x: differentiate(e, x),
            "c": lambda e=expr: calcml.derivative(e, "x"),
            "d": lambda e=expr: calcml.derivative(e, "x").result,
        }
        hot = paired(calls, args.samples, args.target_ms)
        slow = paired(
            {"d": calls["d"], "e": lambda e=expr, x=x: sympy.simplify(sympy.diff(e, x))},
            args.simplify_samples,
            args.target_ms,
        )
        cold = paired({k: calls[k] for k in "acd"}, args.samples, args.target_ms, cold=True)
        r = {
            "b/a": ratio(hot, "b", "a"),
            "c/a": ratio(hot, "c", "a"),
            "d/a": ratio(hot, "d", "a"),
            "d/e": ratio(slow, "d", "e"),
            "cold c/a": ratio(cold, "c", "a"),
            "cold d/a": ratio(cold, "d", "a"),
            "cpu c/a": ratio_cpu(hot, "c", "a"),
            "cpu d/a": ratio_cpu(hot, "d", "a"),
            "cpu cold c/a": ratio_cpu(cold, "c", "a"),
            "cpu cold d/a": ratio_cpu(cold, "d", "a"),
        }
        for key, value in r.items():
            summary[key].append(value)
        label = truncate(text, 26)
        warm_rows.append(
            [
                label,
                hot["a"].median_us,
                hot["b"].median_us,
                hot["c"].median_us,
                hot["d"].median_us,
                slow["e"].median_us,
                r["b/a"],
                r["c/a"],
                r["d/a"],
                r["d/e"],
            ]
        )
        cold_rows.append(
            [
                label,
                cold["a"].median_us,
                cold["c"].median_us,
                cold["d"].median_us,
                r["cold c/a"],
                r["cold d/a"],
            ]
        )
    progress.close()

    print(
        "Derivative with steps vs sympy.diff on textbook expressions "
        "(median us per call; ratios = median of paired per-sample ratios)"
    )
    print(machine())
    print(
        f"samples={args.samples} (simplify: {args.simplify_samples})  "
        f"loop per sample ~{args.target_ms:g} ms"
    )
    print(
        "(a) sympy.diff  (b) rules.differentiate (steps tree)  (c) calcml.derivative()  "
        "(d) calcml.derivative().result  (e) sympy.simplify(sympy.diff())"
    )
    print()
    print("Warm (SymPy's cache on, as in any loop):")
    print(
        table(
            [
                "expression",
                "(a) diff us",
                "(b) tree us",
                "(c) deriv us",
                "(d) .result us",
                "(e) simplify us",
                "b/a",
                "c/a",
                "d/a",
                "d/e",
            ],
            warm_rows,
        )
    )
    print()
    print("Cold (sympy.core.cache.clear_cache() before every call; clearing not timed):")
    print(
        table(
            ["expression", "(a) diff us", "(c) deriv us", "(d) .result us", "c/a", "d/a"], cold_rows
        )
    )
    print()
    med = {k: median(v) for k, v in summary.items()}
    over = {k: sum(1 for v in vals if v >= TARGET_RATIO) for k, vals in summary.items()}
    n = len(EXPRESSIONS)
    print(
        f"median ratios over {n} expressions: b/a {med['b/a']:.2f}  c/a {med['c/a']:.2f}  "
        f"d/a {med['d/a']:.2f}  d/e {med['d/e']:.3f}  | cold: c/a {med['cold c/a']:.2f}  "
        f"d/a {med['cold d/a']:.2f}"
    )
    print(
        f"  same, CPU time (thread_time_ns) ratios: c/a {med['cpu c/a']:.2f}  "
        f"d/a {med['cpu d/a']:.2f}  | cold: c/a {med['cpu cold c/a']:.2f}  "
        f"d/a {med['cpu cold d/a']:.2f}"
    )
    for key, what in (
        ("c/a", "(c) derivative() with steps"),
        ("d/a", "(d) derivative().result with steps + tidy"),
        ("cold c/a", "(c) cold"),
        ("cold d/a", "(d) cold"),
    ):
        print(
            f"{what:<44} vs sympy.diff: median {med[key]:.2f}x, worst "
            f"{max(summary[key]):.2f}x, {over[key]}/{n} at or over {TARGET_RATIO:g}x "
            f"-> {verdict(med[key] < TARGET_RATIO)} (target < {TARGET_RATIO:g}x)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
