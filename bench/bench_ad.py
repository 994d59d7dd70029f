"""Benchmark: calcml.ad (grad, hessian, jacobian) vs autograd, JAX, PyTorch and numdifftools.

Also NumPy central differences (written here) and SciPy's hand-written Rosenbrock
derivatives, as floors.

Cases and targets (from the issue):

1. gradient of 10-input functions (the 10-D Rosenbrock, and a function of tanh, sin,
   exp): calcml <= 0.5x PyTorch eager and <= 0.25x autograd;
2. gradient at 1e6 inputs (sum(sin(x) x^2), and the tanh/sin/exp function): calcml's
   gradient <= 2.5x calcml's own evaluation of the function (calcml.numpy on plain
   arrays); the same ratio is reported for autograd, PyTorch and JAX;
3. Hessian of the 100-D Rosenbrock: calcml < 1 ms per call; every engine checked against
   ``scipy.optimize.rosen_hess`` to 1e-8 relative;
4. Jacobian of a 3 -> 3 function: calcml < 100 us per call.

Method. Every engine runs in a process of its own (``ad_peers.py``; PyTorch and JAX slow
each other down in one), started once and kept for the whole run (the machinery both
drivers share, workers and rounds, is ``_workers.py``). Each variant is called
once first (imports, caches, JAX's compilation: reported apart, never measured), then
timed in loops of about ``--target-ms`` (20 ms). The run goes in ROUNDS: in each round
every engine measures every case once, in an order of cases and engines rotated from one
round to the next, so that the machine's drifting load hits all engines alike. Reported:
the median time per call of each engine over the rounds, and the median over rounds of
the per-round ratio calcml/engine. numdifftools' 100-D Hessian (~10 s a call) is timed in
``--slow-rounds`` rounds only (spread over the run).

Correctness, in the same run: every engine's result is compared with calcml's (max |a-b|
over max |calcml|): exact engines to 1e-9, finite differences to 1e-6; otherwise a
MISMATCH line is printed. calcml is also compared with hand-written derivatives.

Run:  python bench/bench_ad.py [--rounds N] [--target-ms MS] [--slow-rounds N]
                               [--engines calcml,torch,...] [--cases jac3,...] [--no-progress]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from _harness import err_text, fixed, table, verdict
from _workers import RoundsReport, Times, Workers, driver_arguments, print_verdicts
from ad_peers import CASES, ENGINES, analytic, inputs

HERE = Path(__file__).resolve().parent
TOL_EXACT, TOL_APPROX, TOL_ROSEN_HESS = 1e-9, 1e-6, 1e-8
WALL, CPU = Times.WALL, Times.CPU

TARGET_TORCH, TARGET_AUTOGRAD = 0.5, 0.25  # case 1: calcml / peer at most
TARGET_GRAD_OVER_F = 2.5  # case 2: calcml's grad / calcml's f at most
TARGET_HESS_US, TARGET_JAC_US = 1000.0, 100.0  # cases 3 and 4: calcml per call, below


def _slow_rounds_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--slow-rounds",
        type=int,
        default=3,
        help="rounds that time numdifftools' 100-D Hessian (default 3)",
    )


def _slow_rounds(rounds: int, wanted: int) -> set[int]:
    """``wanted`` rounds spread over the run (first, ..., last) for the slow variants."""
    if rounds <= 1:
        return {0}
    return {round(k * (rounds - 1) / max(1, wanted - 1)) for k in range(max(1, wanted))}


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b|: the error relative to the size of the reference."""
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return float(np.max(np.abs(a - b))) / (scale if scale > 0 else 1.0) if a.size else 0.0


def _us(ns: float) -> float:
    return ns / 1e3


@dataclass
class Checks:
    """The correctness checks of one run: relative errors, and the mismatch lines."""

    vs_calcml: dict[tuple[str, str], float] = field(default_factory=dict)
    vs_analytic: dict[str, float] = field(default_factory=dict)  # calcml, by case
    vs_rosen_hess: dict[str, float] = field(default_factory=dict)  # by label
    mismatches: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.vs_calcml) + len(self.vs_analytic) + len(self.vs_rosen_hess)


def _reference(role: str) -> str:
    """The calcml label an engine's result is compared with."""
    return {"f": "calcml f", "grad": "calcml grad"}.get(role, "calcml")


def _check(cases: list[str], info: dict, results: dict[tuple[str, str], np.ndarray]) -> Checks:
    """Every engine against calcml, calcml against hand-written derivatives, every
    Hessian against ``rosen_hess``: in the same run as the timings."""
    checks = Checks()
    for (case, label), row in info.items():
        ref = (case, _reference(row["role"]))
        if (case, label) not in results or ref not in results:
            continue
        err = checks.vs_calcml[(case, label)] = _rel_err(results[(case, label)], results[ref])
        tol = TOL_APPROX if row["approx"] else TOL_EXACT
        if not err <= tol:
            checks.mismatches.append(
                f"!!! MISMATCH !!! {case}: {label} differs from calcml by {err_text(err)} "
                f"relative (tolerance {tol:g})"
            )
    for case in cases:
        key = (case, "calcml grad" if case.startswith("grad1e6") else "calcml")
        if key not in results:
            continue
        err = checks.vs_analytic[case] = _rel_err(results[key], analytic(case, inputs(case)))
        if not err <= TOL_EXACT:
            checks.mismatches.append(
                f"!!! MISMATCH !!! {case}: calcml differs from the hand-written derivative "
                f"by {err_text(err)} relative (tolerance {TOL_EXACT:g})"
            )
    if "hess100-rosen" in cases:
        _check_rosen_hess(results, checks)
    return checks


def _check_rosen_hess(results: dict[tuple[str, str], np.ndarray], checks: Checks) -> None:
    ref = analytic("hess100-rosen", inputs("hess100-rosen"))
    for (case, label), res in results.items():
        if case != "hess100-rosen":
            continue
        err = checks.vs_rosen_hess[label] = _rel_err(res, ref)
        if not err <= TOL_ROSEN_HESS:
            checks.mismatches.append(
                f"!!! MISMATCH !!! hess100-rosen: {label} differs from rosen_hess by "
                f"{err_text(err)} relative (tolerance {TOL_ROSEN_HESS:g})"
            )


class Report(RoundsReport):
    """The tables of one run, case by case; their verdicts collect in ``summary``."""

    def med_us(self, case: str, label: str, column: int = WALL) -> float:
        return _us(self.times.median(case, label, column))

    def notes(self, case: str, label: str) -> str:
        row = self.info[(case, label)]
        parts = [row["note"]] if row.get("note") else []
        if row.get("jit"):
            parts.append(f"compile+1st call {row['first_ms']:,.0f} ms")
        elif label.startswith("jax") and "first_ms" in row:
            parts.append(f"1st call {row['first_ms']:,.0f} ms")
        if row.get("approx"):
            parts.append(f"finite diff. (tol {TOL_APPROX:g})")
        return "; ".join(parts + self.rounds_note(case, label))

    def main_table(self, case: str, title: str, extra_col: str | None = None) -> None:
        """Time per call, ratio calcml/engine and errors of every engine, one case."""
        print(f"== {title}: {CASES[case]}")
        if self.checks.vs_analytic.get(case) is not None:
            print(
                f"   input {inputs(case).size} values; calcml vs hand-written derivative: "
                f"max rel err {err_text(self.checks.vs_analytic[case])}"
            )
        headers = ["engine", "median us", "cpu us", "calcml/engine", "cpu ratio", "err vs calcml"]
        headers += [extra_col, "notes"] if extra_col else ["notes"]
        rows = [self._main_row(case, label, extra_col) for _name, label in self.labels[case]]
        print(table(headers, rows, "<>>>>>" + (">" if extra_col else "") + "<"))
        print()

    def _main_row(self, case: str, label: str, extra_col: str | None) -> list:
        measured = self.times.median(case, label) is not None
        row = [
            label,
            self.med_us(case, label) if measured else "-",
            self.med_us(case, label, CPU) if measured else "-",
            fixed(self.times.ratio(case, "calcml", label)),
            fixed(self.times.ratio(case, "calcml", label, CPU)),
            "(ref)" if label == "calcml" else err_text(self.checks.vs_calcml.get((case, label))),
        ]
        if extra_col:
            row.append(err_text(self.checks.vs_rosen_hess.get(label)))
        return [*row, self.notes(case, label)]

    def pass_fail_ratio(self, case: str, peer: str, target: float, what: str) -> None:
        r = self.times.ratio(case, "calcml", peer)
        if r is None:
            self.summary.append(f"{what}: {peer} not measured (not installed?) -> no verdict")
            return
        self.summary.append(
            f"{what}: calcml {self.med_us(case, 'calcml'):,.1f} us vs {peer} "
            f"{self.med_us(case, peer):,.1f} us, ratio {r:.3f} "
            f"(cpu {self.times.ratio(case, 'calcml', peer, CPU):.3f}) "
            f"-> {verdict(r <= target)} (target <= {target:g})"
        )

    def gradient_10(self, case: str, fname: str) -> None:
        """Case 1: against PyTorch eager and autograd."""
        self.main_table(case, f"1. gradient, 10 inputs, {fname}")
        self.pass_fail_ratio(case, "torch eager", TARGET_TORCH, f"1. {case} vs torch eager")
        self.pass_fail_ratio(case, "autograd", TARGET_AUTOGRAD, f"1. {case} vs autograd")

    def gradient_1e6(self, case: str) -> None:
        """Case 2: each engine's gradient over its own function, at 1e6 inputs."""
        print(f"== 2. gradient at 1e6 inputs: {CASES[case]}")
        if self.checks.vs_analytic.get(case) is not None:
            print(
                "   calcml's gradient vs hand-written: max rel err "
                f"{err_text(self.checks.vs_analytic[case])}"
            )
        headers = ["engine", "f ms", "grad ms", "grad/f", "cpu grad/f"]
        headers += ["calcml/engine grad", "err vs calcml", "notes"]
        rows = [self._gradient_row(case, label) for label in self._grad_labels(case)]
        print(table(headers, rows, "<>>>>>><"))
        print(
            "   grad/f: median over rounds of (the engine's gradient time / its own "
            "function time); f alone in each engine's own numpy (calcml.numpy on plain "
            "arrays, autograd.numpy, torch without grad, jax.numpy)"
        )
        print()
        self._grad_over_f_verdict(case)

    def _grad_labels(self, case: str) -> list[str]:
        return [lab for _n, lab in self.labels[case] if self.info[(case, lab)]["role"] == "grad"]

    def _gradient_row(self, case: str, label: str) -> list:
        f_label = self.info[(case, label)]["pair"]
        g, f = self.times.median(case, label), self.times.median(case, f_label)
        return [
            label.removesuffix(" grad"),
            "-" if f is None else f / 1e6,
            "-" if g is None else g / 1e6,
            fixed(self.times.ratio(case, label, f_label)),
            fixed(self.times.ratio(case, label, f_label, CPU)),
            fixed(self.times.ratio(case, "calcml grad", label)),
            err_text(self.checks.vs_calcml.get((case, label)))
            if label != "calcml grad"
            else "(ref)",
            self.notes(case, label),
        ]

    def _grad_over_f_verdict(self, case: str) -> None:
        r = self.times.ratio(case, "calcml grad", "calcml f")
        if r is None:
            return
        extra = "" if case.endswith("sinx2") else " [second function, reported too]"
        self.summary.append(
            f"2. {case}: calcml grad {self.times.median(case, 'calcml grad') / 1e6:,.1f} ms / "
            f"calcml f {self.times.median(case, 'calcml f') / 1e6:,.1f} ms = {r:.2f} (cpu "
            f"{self.times.ratio(case, 'calcml grad', 'calcml f', CPU):.2f}) -> "
            f"{verdict(r <= TARGET_GRAD_OVER_F)} (target <= {TARGET_GRAD_OVER_F:g}){extra}"
        )
        peers = []
        for label in self._grad_labels(case):
            peer = self.times.ratio(case, label, self.info[(case, label)]["pair"])
            if label != "calcml grad" and peer is not None:
                peers.append(f"{label.removesuffix(' grad')} {peer:.2f}")
        if peers:
            self.summary.append("   same ratio grad/f for the peers: " + ", ".join(peers))

    def per_call_verdict(self, case: str, target_us: float, prefix: str) -> None:
        """Cases 3 and 4: calcml's time per call below a bound."""
        if self.times.median(case, "calcml") is None:
            return
        m = self.med_us(case, "calcml")
        self.summary.append(
            f"{prefix}: calcml {m:,.0f} us per call (cpu "
            f"{self.med_us(case, 'calcml', CPU):,.0f} us) -> "
            f"{verdict(m < target_us)} (target < {target_us:,.0f} us)"
        )

    def hessian(self) -> None:
        """Case 3: time per call, and every engine's Hessian against rosen_hess."""
        case = "hess100-rosen"
        self.main_table(case, "3. Hessian", extra_col="err vs rosen_hess")
        self.per_call_verdict(case, TARGET_HESS_US, "3. hess100-rosen")
        errors = self.checks.vs_rosen_hess
        bad = [lab for lab, e in errors.items() if not e <= TOL_ROSEN_HESS]
        self.summary.append(
            f"3. hess100-rosen: {len(errors) - len(bad)}/{len(errors)} results agree with "
            f"rosen_hess to {TOL_ROSEN_HESS:g} relative -> {verdict(not bad)}"
            + (f" (off: {', '.join(bad)})" if bad else "")
        )

    def jacobian(self) -> None:
        """Case 4: time per call."""
        self.main_table("jac3", "4. Jacobian")
        self.per_call_verdict("jac3", TARGET_JAC_US, "4. jac3")

    def print_cases(self, cases: list[str]) -> None:
        """The tables in the order of the issue's cases, whatever the order of ``cases``."""
        for case, fname in (("grad10-rosen", "Rosenbrock"), ("grad10-trans", "tanh/sin/exp")):
            if case in cases:
                self.gradient_10(case, fname)
        for case in ("grad1e6-sinx2", "grad1e6-trans"):
            if case in cases:
                self.gradient_1e6(case)
        if "hess100-rosen" in cases:
            self.hessian()
        if "jac3" in cases:
            self.jacobian()


def main() -> int:
    args = driver_arguments(__doc__.splitlines()[0], ENGINES, CASES, _slow_rounds_option)
    progress_on = not args.no_progress
    workers = Workers(HERE / "ad_peers.py", args.engines, args.target_ms, "bench_ad_")
    workers.setup(args.cases, progress_on)
    slow_rounds = _slow_rounds(args.rounds, args.slow_rounds)
    times = workers.run_rounds(args.cases, args.rounds, progress_on, slow_rounds)
    workers.close()
    results = {key: np.load(row["file"]) for key, row in workers.info.items() if row.get("file")}
    workers.remove_files()
    checks = _check(args.cases, workers.info, results)

    workers.print_header(
        "calcml.ad vs autograd, JAX, PyTorch, numdifftools, NumPy finite differences, SciPy "
        "(median us per call; ratio = median over rounds of the per-round calcml/engine)",
        args.rounds,
        args.target_ms,
        f"  numdifftools Hessian in {len(slow_rounds)} rounds",
        "cpu us = CPU time of that process (process_time_ns) per call; first calls "
        "(JAX: with compilation) not measured",
    )
    report = Report(args.rounds, workers, times, checks)
    report.print_cases(args.cases)
    print_verdicts(
        "Correctness (same run)",
        checks.count,
        f"exact engines {TOL_EXACT:g}, finite differences {TOL_APPROX:g}, "
        f"vs rosen_hess {TOL_ROSEN_HESS:g}",
        checks.mismatches,
        report.summary,
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
