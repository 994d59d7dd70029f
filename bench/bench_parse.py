"""Benchmark: parse time of ~100-character inputs (issue 2: target under 1 ms).

calcml.parse is timed beside SymPy's own text readers, in the same run, paired:

* ``parse_expr`` with standard_transformations + implicit_multiplication_application +
  convert_xor, the natural speed reference (it ``eval``s the text, which is why calcml
  never uses it on user text);
* ``sympify``.

They are context, not targets. A peer gets the very same text when it reads it into the
same expression as calcml; otherwise (``|x|``, ``e^x``, ``sin^2(x)``, Greek letters,
implicit products for ``sympify``) it gets the same maths in SymPy's own spelling, and
the row is marked ``*``. Every peer's expression is checked to equal calcml's. Peers get
``local_dict``/``locals`` naming the symbols, as a careful SymPy user passes to keep
``beta`` or ``gamma`` from being read as SymPy functions.

calcml.parse keeps no cache of its own (``parser.py`` builds the LALR table once at
import and then parses every call from scratch: tokenize, run the table, build SymPy),
so a loop of calls measures real work. SymPy's constructors do cache (``Mul``, ``Add``,
``Pow`` are ``@cacheit``); that helps both sides alike, and the *cold* columns clear
SymPy's cache before every single call to show the cost without it.

Run:  python bench/bench_parse.py [--samples N] [--target-ms MS]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

import calcml
from _harness import (
    MIN_SAMPLES,
    Progress,
    arguments,
    machine,
    median,
    paired,
    ratio,
    table,
    truncate,
    verdict,
)

TARGET_US = 1000.0
TRANSFORMATIONS = (*standard_transformations, implicit_multiplication_application, convert_xor)

# (label, calcml text, the same maths in explicit SymPy syntax for peers that need it)
INPUTS: list[tuple[str, str, str | None]] = [
    (
        "mixed (issue 2)",
        "3x^2 sin(2x) + e^(-x/2) cos(x y) - ln(1 + x^2)/sqrt(x^2 + y^2) + |x - y|^3 + "
        "atan(y/x) - 4.5e-2 z",
        "3*x**2*sin(2*x) + E**(-x/2)*cos(x*y) - log(1 + x**2)/sqrt(x**2 + y**2) + "
        "Abs(x - y)**3 + atan(y/x) - 4.5e-2*z",
    ),
    (
        "NIST-style model",
        "b1*(1-exp(-b2*x)) + b3*exp(-b4*x) + b5*exp(-b6*x) + (b7 + b8*x + b9*x^2)/"
        "(1 + b10*x + b11*x^2)",
        None,
    ),
    (
        "polynomial, 2 vars",
        "4x^7 - 3x^6 + 2.5x^5 - x^4 + 12x^3 - 7x^2 + 0.125x - 9 + 3x^2 y - 2x y^2 + y^3 - "
        "5x y + 6y - 1",
        "4*x**7 - 3*x**6 + 2.5*x**5 - x**4 + 12*x**3 - 7*x**2 + 0.125*x - 9 + 3*x**2*y - "
        "2*x*y**2 + y**3 - 5*x*y + 6*y - 1",
    ),
    (
        "nested functions",
        "sin(cos(tan(x^2 + 1))) + exp(sqrt(ln(1 + x^4))) - atan(sinh(cosh(tanh(x/3)))) + "
        "sqrt(sqrt(x))",
        None,
    ),
    (
        "Greek letters",
        "α^2 sin(θ) cos(φ) + β exp(-κ t) - μ/σ^2 + (ρ - 1)^2/(2σ^2) + ω t + δ ln(1 + τ^2) + "
        "ε ψ - η/ν",
        "alpha**2*sin(theta)*cos(phi) + beta*exp(-kappa*t) - mu/sigma**2 + "
        "(rho - 1)**2/(2*sigma**2) + omega*t + delta*log(1 + tau**2) + epsilon*psi - eta/nu",
    ),
    (
        "Gaussian + logistic",
        "exp(-(x - mu)^2/(2 sigma^2))/(sigma sqrt(2 pi)) + ln(1 + exp(-w x - b)) + "
        "1/(1 + exp(-z/2))",
        "exp(-(x - mu)**2/(2*sigma**2))/(sigma*sqrt(2*pi)) + log(1 + exp(-w*x - b)) + "
        "1/(1 + exp(-z/2))",
    ),
    (
        "damped oscillator",
        "A e^(-k t/2) cos(omega t + phi) + B t^2 sin(omega t) - m g h + k x^2/2 + "
        "(1/2) m v^2 - F x",
        "A*E**(-k*t/2)*cos(omega*t + phi) + B*t**2*sin(omega*t) - m*g*h + k*x**2/2 + "
        "(1/2)*m*v**2 - F*x",
    ),
    (
        "rational functions",
        "(x^3 - 2x^2 + x - 5)/(x^2 + 4x + 4) - (3x + 1)/(x - 2)^2 + "
        "(x^2 + 1)/((x - 1)(x + 1)(x + 3))",
        "(x**3 - 2*x**2 + x - 5)/(x**2 + 4*x + 4) - (3*x + 1)/(x - 2)**2 + "
        "(x**2 + 1)/((x - 1)*(x + 1)*(x + 3))",
    ),
    (
        "log-likelihood",
        "y ln(1/(1 + exp(-(w1 x1 + w2 x2 + b)))) + (1 - y) ln(1 - 1/(1 + exp(-(w1 x1 + "
        "w2 x2 + b))))",
        "y*log(1/(1 + exp(-(w1*x1 + w2*x2 + b)))) + (1 - y)*log(1 - 1/(1 + exp(-(w1*x1 + "
        "w2*x2 + b))))",
    ),
    (
        "trig identities",
        "sin(x)^2 + cos(x)^2 - 2sin(x)cos(x) + sec(x)^2 - tan(x)^2 + csc(x) cot(x) - "
        "sin^2(3x) + cos^2(3x)",
        "sin(x)**2 + cos(x)**2 - 2*sin(x)*cos(x) + sec(x)**2 - tan(x)**2 + csc(x)*cot(x) - "
        "sin(3*x)**2 + cos(3*x)**2",
    ),
    (
        "Taylor series of e^x",
        "1 + x + x^2/2 + x^3/6 + x^4/24 + x^5/120 + x^6/720 + x^7/5040 + x^8/40320 + "
        "x^9/362880 + x^10/3628800",
        None,
    ),
    (
        "Rosenbrock-like, 3 vars",
        "100(y - x^2)^2 + (1 - x)^2 + 100(z - y^2)^2 + (1 - y)^2 + 3x y z - 2x^2 z + "
        "ln(x^2 + y^2 + z^2 + 1)",
        "100*(y - x**2)**2 + (1 - x)**2 + 100*(z - y**2)**2 + (1 - y)**2 + 3*x*y*z - "
        "2*x**2*z + log(x**2 + y**2 + z**2 + 1)",
    ),
    (
        "NIST Misra-style + |.|",
        "b1*(1-(1+b2*x/2)^(-2)) + b1*b2*x*((1+2*b2*x)^(-1/2)) - |x - b3|^1.5 + 2|x + b4| - "
        "b5/(1 + x^2)",
        "b1*(1-(1+b2*x/2)**(-2)) + b1*b2*x*((1+2*b2*x)**(-1/2)) - Abs(x - b3)**1.5 + "
        "2*Abs(x + b4) - b5/(1 + x**2)",
    ),
]


def _peer_text(read, text: str, sympy_text: str | None, expected: sympy.Expr) -> tuple[str, bool]:
    """The text a peer is timed on: the same text if it reads it right, else SymPy's."""
    try:
        if _same(read(text), expected):
            return text, False
    except Exception:
        pass
    assert sympy_text is not None, f"give a SymPy spelling for {text!r}"
    got = read(sympy_text)
    assert _same(got, expected), f"{sympy_text!r} reads as {got}, calcml gives {expected}"
    return sympy_text, True


def _same(got: sympy.Expr, expected: sympy.Expr) -> bool:
    """The same expression, up to calcml keeping |x - b| unevaluated (as typed)."""
    return got == expected or got.doit() == expected.doit()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    for label, text, _ in INPUTS:
        assert 90 <= len(text) <= 110, f"{label}: {len(text)} characters, not 90-110"
    rows, warm, cold, warm_sympify = [], [], [], []
    cpu_warm, cpu_cold = [], []
    progress = Progress(len(INPUTS), not args.no_progress)
    for label, text, sympy_text in INPUTS:
        progress.step(label)
        expected = calcml.parse(text)
        names = {s.name: s for s in expected.free_symbols}

        def read_pe(t, names=names):
            return parse_expr(t, local_dict=dict(names), transformations=TRANSFORMATIONS)

        def read_sy(t, names=names):
            return sympy.sympify(t, locals=dict(names))

        pe_text, pe_star = _peer_text(read_pe, text, sympy_text, expected)
        sy_text, sy_star = _peer_text(read_sy, text, sympy_text, expected)
        calls = {
            "calcml": lambda text=text: calcml.parse(text),
            "parse_expr": lambda t=pe_text, f=read_pe: f(t),
            "sympify": lambda t=sy_text, f=read_sy: f(t),
        }
        hot = paired(calls, args.samples, args.target_ms)
        cool = paired(calls, args.samples, args.target_ms, cold=True)
        r_pe, r_sy = ratio(hot, "calcml", "parse_expr"), ratio(hot, "calcml", "sympify")
        r_cold = ratio(cool, "calcml", "parse_expr")
        warm.append(r_pe)
        warm_sympify.append(r_sy)
        cold.append(r_cold)
        cpu_warm.append(hot["calcml"].median_cpu_us)
        cpu_cold.append(cool["calcml"].median_cpu_us)
        rows.append(
            [
                len(rows) + 1,
                truncate(text, 34),
                len(text),
                hot["calcml"].median_us,
                hot["calcml"].median_cpu_us,
                hot["parse_expr"].median_us,
                hot["sympify"].median_us,
                f"{r_pe:.2f}{'*' if pe_star else ''}",
                f"{r_sy:.2f}{'*' if sy_star else ''}",
                cool["calcml"].median_us,
                cool["parse_expr"].median_us,
                f"{r_cold:.2f}",
            ]
        )
    progress.close()

    print(
        "calcml.parse vs SymPy's readers on ~100-character inputs "
        "(median us per call; ratios calcml/peer, median of paired samples)"
    )
    print(machine())
    print(f"samples={args.samples} (min {MIN_SAMPLES})  loop per sample ~{args.target_ms:g} ms")
    print()
    headers = [
        "#",
        "input (truncated)",
        "chars",
        "calcml us",
        "(cpu us)",
        "parse_expr us",
        "sympify us",
        "cm/pe",
        "cm/sy",
        "cold cm us",
        "cold pe us",
        "cold cm/pe",
    ]
    print(table(headers, rows, align=">" + "<" + ">" * (len(headers) - 2)))
    print()
    print(
        "* the peer could not read calcml's text as the same expression; it was timed on "
        "the same maths in SymPy's spelling."
    )
    print("cold = sympy.core.cache.clear_cache() before every call (the clearing not timed).")
    print(
        "(cpu us) = CPU time of the benchmark thread (time.thread_time_ns) per calcml.parse: "
        "wall time minus waiting for a core."
    )
    print()
    for number, (label, text, _) in enumerate(INPUTS, start=1):
        print(f"{number:>2}. {label}: {text}")
    wall_warm = [r[3] for r in rows]
    wall_cold = [r[9] for r in rows]
    target = f"(target < {TARGET_US:.0f} us)"
    print()
    print(
        f"median over inputs: calcml {median(wall_warm):.0f} us/parse (worst "
        f"{max(wall_warm):.0f}), calcml/parse_expr {median(warm):.2f}, calcml/sympify "
        f"{median(warm_sympify):.2f}  -> {verdict(median(wall_warm) < TARGET_US)} {target}"
    )
    print(
        f"  same, CPU time: median {median(cpu_warm):.0f} us/parse, worst "
        f"{max(cpu_warm):.0f} us  -> {verdict(median(cpu_warm) < TARGET_US)} median, "
        f"{verdict(max(cpu_warm) < TARGET_US)} worst {target}"
    )
    print(
        f"cold (no SymPy cache): median calcml {median(wall_cold):.0f} us/parse (worst "
        f"{max(wall_cold):.0f}), calcml/parse_expr {median(cold):.2f}  "
        f"-> {verdict(median(wall_cold) < TARGET_US)} {target}"
    )
    print(
        f"  same, CPU time: median {median(cpu_cold):.0f} us/parse, worst "
        f"{max(cpu_cold):.0f} us  -> {verdict(median(cpu_cold) < TARGET_US)} median, "
        f"{verdict(max(cpu_cold) < TARGET_US)} worst {target}"
    )


if __name__ == "__main__":
    main()
