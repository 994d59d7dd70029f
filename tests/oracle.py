"""Independent oracles for the tests: SymPy's own derivative, on real symbols, and
numerical comparison at points of the real domain (confirmed at 50 digits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import sympy

POINTS = (0.31, 0.77, 1.43, 2.6, -0.42, -1.9, 0.05)


def real_version(expr: sympy.Basic) -> tuple[sympy.Basic, dict]:
    """expr with every symbol replaced by a real symbol of the same name."""
    reps = {s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols}
    return expr.xreplace(reps), reps


def sympy_derivative(expr: sympy.Expr, var: sympy.Symbol, order: int = 1) -> sympy.Expr:
    """SymPy's derivative, taken on real symbols (so d|x|/dx = sign(x)), mapped back."""
    real, reps = real_version(sympy.Tuple(expr, var))
    expr_r, var_r = real.args
    back = {v: k for k, v in reps.items()}
    result = sympy.diff(expr_r, var_r, order)
    # sign(u)' is a Dirac delta, 0 away from u = 0, where the test points lie.
    result = result.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return result.xreplace(back)


def _exact_gap(a: sympy.Expr, b: sympy.Expr, subs: dict) -> float | None:
    va = a.xreplace(subs).evalf(50)
    vb = b.xreplace(subs).evalf(50)
    if not (va.is_real and vb.is_real) or not (va.is_finite and vb.is_finite):
        return None
    return float(abs(va - vb) / max(abs(va), abs(vb), 1))


def check_same(
    pairs: Sequence[tuple[sympy.Expr, sympy.Expr]],
    variables: Iterable[sympy.Symbol],
    points: Sequence[float] = POINTS,
) -> int:
    """Assert each (candidate, reference) pair agrees at every point where both are real
    and finite. Returns how many (pair, point) comparisons were made."""
    variables = sorted(set(variables), key=lambda s: s.name)
    if not pairs:
        return 0
    # One point per variable: shift the value for each variable so they differ.
    grids = [[p * (1 + 0.37 * k) for k in range(len(variables))] for p in points]
    flat = [e for pair in pairs for e in pair]
    func = sympy.lambdify(variables, flat, modules="numpy")
    compared = 0
    for values in grids:
        with np.errstate(all="ignore"):
            try:
                got = np.array(func(*[np.float64(v) for v in values]), dtype=complex)
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                continue
        for i, (cand, ref) in enumerate(pairs):
            a, b = got[2 * i], got[2 * i + 1]
            if not (np.isfinite(a) and np.isfinite(b)) or abs(a.imag) + abs(b.imag) > 0:
                continue
            a, b = a.real, b.real
            if abs(a) > 1e10 or abs(b) > 1e10:
                continue
            compared += 1
            if np.isclose(a, b, rtol=1e-7, atol=1e-9):
                continue
            # Float rounding can fake a disagreement; settle it at 50 digits.
            subs = {v: sympy.Float(x, 50) for v, x in zip(variables, values, strict=True)}
            gap = _exact_gap(cand, ref, subs)
            assert gap is None or gap < 1e-30, (
                f"{cand} != {ref} at {dict(zip(variables, values, strict=True))}: {a} vs {b}"
            )
    return compared


def step_pairs(root) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """For every step of a tree: (the step's result, SymPy's derivative of its expr),
    with the inner variable of a chain replaced by the inner function, so that each
    pair is a function of the original variables."""
    pairs = []

    def visit(step, binding: dict) -> None:
        ref = sympy_derivative(step.expr, step.variable)
        pairs.append((step.result.xreplace(binding), ref.xreplace(binding)))
        if (
            step.rule == "chain"
            and len(step.substeps) == 2
            and step.substeps[0].variable != step.variable
        ):
            outer, inner = step.substeps
            visit(outer, {**binding, outer.variable: inner.expr.xreplace(binding)})
            visit(inner, binding)
        else:
            for sub in step.substeps:
                visit(sub, binding)

    visit(root, {})
    return pairs
