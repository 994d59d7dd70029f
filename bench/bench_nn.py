"""Benchmark: one training step of calcml.nn vs hand-written NumPy, PyTorch, autograd, JAX.

One timed call is one full training step (forward, backward, update) on a fixed batch,
float64 everywhere (JAX with ``jax_enable_x64``), from the same seeded weights and data
in every process (``nn_peers.problem``).

Cases and targets (issue 7):

1. ``tiny``: a 1-6-7-2 net, sigmoid layers, MSE, batch 1, SGD lr 0.5: calcml < 60 us
   per step;
2. ``784-128-10``: sigmoid hidden and output layers, MSE on one-hot targets, batch 64,
   SGD lr 0.1: calcml <= 1.2x hand-written NumPy.

Engines: calcml (``calcml step``: what ``cm.nn.train`` does per batch, the explicit
backprop ``_backprop_step`` and ``SGD.step``; ``calcml train()``: ``cm.nn.train`` for K
epochs of one batch, time / K; ``calcml backprop()``: the public ``cm.nn.backprop`` and
``p -= lr g``), hand-written NumPy (the same equations, no calcml; ``numpy`` updates
with ``p -= lr * g``, the target's reference; ``numpy in-place`` with ``g *= lr; p -= g``,
which spares a temporary as large as the weights and, with it, glibc's page faults; the
faults column shows them), PyTorch eager
(``nn.Linear``, ``mse_loss``, ``backward()``, ``optim.SGD``), autograd (``autograd.grad``
w.r.t. the list of parameters), JAX (``jax.jit`` of (params, x, y) -> new params, with
and without donated buffers).

Method: as ``bench_ad.py`` (the same ``_workers.py``). Every engine runs in a process of
its own (``nn_peers.py``), started once and kept for the whole run; each variant's first
step (JAX: compilation) is reported apart, never measured. Each loop lasts about
``--target-ms`` (20 ms) and starts from the initial parameters (reset outside the
timing). In each ROUND every engine measures every case once, in an order of cases and
engines rotated from one round to the next. Reported: medians over rounds of each
engine's time per step (wall and CPU) and of the per-round ratio calcml step / engine.

Correctness, in the same run: after one step from the same start every engine's
parameters are compared with calcml step's, max |a - b| / max |calcml| per array, to
1e-10; so is the update itself (p1 - p0), to 1e-9. A failure prints ``!!! MISMATCH !!!``.

Run:  python bench/bench_nn.py [--rounds N] [--target-ms MS] [--engines calcml,torch,...]
                               [--cases tiny,784-128-10] [--no-progress]
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from _harness import err_text, fixed, table, verdict
from _workers import RoundsReport, Times, Workers, driver_arguments, print_verdicts
from nn_peers import CASES, ENGINES, problem

HERE = Path(__file__).resolve().parent
TOL_PARAMS, TOL_UPDATE = 1e-10, 1e-9
REF = "calcml step"
WALL, CPU, FAULTS = Times.WALL, Times.CPU, 2  # the columns of a worker's measurement

TARGET_TINY_US = 60.0  # case tiny: calcml per step, below
TARGET_LARGE_RATIO = 1.2  # case 784-128-10: calcml / hand-written NumPy, at most


def _rel_err(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """The largest, over the arrays, of max |a - b| / max |b|."""
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b, strict=True)):
        return float("inf")
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        scale = float(np.max(np.abs(y)))
        worst = max(worst, float(np.max(np.abs(x - y))) / (scale if scale > 0 else 1.0))
    return worst


def _load(path: str) -> list[np.ndarray]:
    """The parameters a worker saved after its first step, in order."""
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


@dataclass
class Checks:
    """After one step from the same start: every engine's parameters and update
    (p1 - p0) against calcml step's, and the mismatch lines."""

    params: dict[tuple[str, str], float] = field(default_factory=dict)
    update: dict[tuple[str, str], float] = field(default_factory=dict)
    largest_update: dict[str, float] = field(default_factory=dict)  # calcml's, by case
    mismatches: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.params) + len(self.update)


def _check(cases: list[str], results: dict[tuple[str, str], list[np.ndarray]]) -> Checks:
    checks = Checks()
    for case in cases:
        if (case, REF) not in results:
            continue
        init = problem(case)[0]
        ref = results[(case, REF)]
        ref_update = [p1 - p0 for p1, p0 in zip(ref, init, strict=True)]
        checks.largest_update[case] = max(float(np.max(np.abs(u))) for u in ref_update)
        if checks.largest_update[case] == 0.0:
            checks.mismatches.append(
                f"!!! MISMATCH !!! {case}: calcml's step left every parameter alone"
            )
        for (c, label), res in results.items():
            if c == case and label != REF:
                _check_one(checks, case, label, res, ref, init, ref_update)
    return checks


def _check_one(
    checks: Checks,
    case: str,
    label: str,
    res: list[np.ndarray],
    ref: list[np.ndarray],
    init: list[np.ndarray],
    ref_update: list[np.ndarray],
) -> None:
    """One engine's parameters, then (if their shapes agree) its update."""
    checks.params[(case, label)] = e = _rel_err(res, ref)
    if not e <= TOL_PARAMS:
        checks.mismatches.append(
            f"!!! MISMATCH !!! {case}: {label}'s parameters after one step differ from "
            f"calcml's by {err_text(e)} relative (tolerance {TOL_PARAMS:g})"
        )
    if e == float("inf"):
        return
    update = [p1 - p0 for p1, p0 in zip(res, init, strict=True)]
    checks.update[(case, label)] = u = _rel_err(update, ref_update)
    if not u <= TOL_UPDATE:
        checks.mismatches.append(
            f"!!! MISMATCH !!! {case}: {label}'s update (p1 - p0) differs from "
            f"calcml's by {err_text(u)} relative (tolerance {TOL_UPDATE:g})"
        )


class Report(RoundsReport):
    """The table of each case; its verdicts collect in ``summary``."""

    def med(self, case: str, label: str, cpu: bool = False) -> float | None:
        """Median over rounds of the time per step, us."""
        m = self.times.median(case, label, CPU if cpu else WALL)
        return None if m is None else m / 1e3

    def ratio(self, case: str, num: str, den: str, cpu: bool = False) -> float | None:
        return self.times.ratio(case, num, den, CPU if cpu else WALL)

    def notes(self, case: str, label: str) -> str:
        row = self.info[(case, label)]
        parts = [row["note"]] if row.get("note") else []
        if row.get("jit"):
            parts.append(f"compile+1st step {row['first_ms']:,.0f} ms")
        elif label.startswith("torch"):
            parts.append(f"1st step {row['first_ms']:,.1f} ms")
        return "; ".join(parts + self.rounds_note(case, label))

    def print_case(self, n_case: int, case: str) -> None:
        spec = CASES[case]
        print(f"== {n_case}. {case}: {spec.title}")
        n_params = sum(a * b + b for a, b in zip(spec.sizes[:-1], spec.sizes[1:], strict=True))
        if case in self.checks.largest_update:
            print(
                f"   {n_params:,} parameters; largest |p1 - p0| of calcml's first step "
                f"{self.checks.largest_update[case]:.2e}; err = max over arrays of "
                "max|a - b| / max|calcml|"
            )
        headers = ["engine", "median us", "cpu us", "calcml/engine", "cpu ratio"]
        headers += ["err params", "err update", "faults", "notes"]
        rows = [self._row(case, label) for _name, label in self.labels[case]]
        print(table(headers, rows, "<>>>>>>><"))
        print()
        self._verdicts(case)

    def _row(self, case: str, label: str) -> list:
        m = self.med(case, label)
        faults = self.times.median(case, label, FAULTS)
        ref = label == REF
        return [
            label,
            "-" if m is None else m,
            "-" if m is None else self.med(case, label, cpu=True),
            fixed(self.ratio(case, REF, label)),
            fixed(self.ratio(case, REF, label, cpu=True)),
            "(ref)" if ref else err_text(self.checks.params.get((case, label))),
            "(ref)" if ref else err_text(self.checks.update.get((case, label))),
            fixed(faults, 1),
            self.notes(case, label),
        ]

    def _verdicts(self, case: str) -> None:
        m = self.med(case, REF)
        if m is None:
            self.summary.append(f"{case}: calcml not measured -> no verdict")
            return
        if case == "tiny":
            self._tiny_verdict(case, m)
        else:
            self._large_verdict(case, m)
        peers = [
            f"{label} {self.ratio(case, REF, label):.2f}"
            for _n, label in self.labels[case]
            if not label.startswith("calcml") and self.ratio(case, REF, label) is not None
        ]
        if peers:
            self.summary.append("   calcml step / engine: " + ", ".join(peers))

    def _tiny_verdict(self, case: str, m: float) -> None:
        """Case tiny: calcml's time per step below a bound (and train()'s, reported)."""
        self.summary.append(
            f"{case}: calcml step {m:,.1f} us per step (cpu {self.med(case, REF, cpu=True):,.1f}"
            f" us) -> {verdict(m < TARGET_TINY_US)} (target < {TARGET_TINY_US:g} us)"
        )
        t = self.med(case, "calcml train()")
        if t is not None:
            self.summary.append(
                f"   calcml train() {t:,.1f} us per step (cpu "
                f"{self.med(case, 'calcml train()', cpu=True):,.1f} us): "
                f"{'under' if t < TARGET_TINY_US else 'over'} {TARGET_TINY_US:g} us"
            )

    def _large_verdict(self, case: str, m: float) -> None:
        """Case 784-128-10: calcml against hand-written NumPy (and the in-place floor)."""
        r = self.ratio(case, REF, "numpy")
        if r is None:
            self.summary.append(f"{case}: numpy not measured -> no verdict")
        else:
            self.summary.append(
                f"{case}: calcml step {m:,.0f} us vs numpy {self.med(case, 'numpy'):,.0f} us, "
                f"ratio {r:.3f} (cpu {self.ratio(case, REF, 'numpy', cpu=True):.3f}) -> "
                f"{verdict(r <= TARGET_LARGE_RATIO)} (target <= {TARGET_LARGE_RATIO:g})"
            )
        for label in ("calcml train()", "calcml backprop()"):
            t = self.ratio(case, label, "numpy")
            if t is not None:
                tc = self.ratio(case, label, "numpy", cpu=True)
                self.summary.append(f"   {label} / numpy: {t:.3f} (cpu {tc:.3f})")
        t = self.ratio(case, REF, "numpy in-place")
        if t is not None:
            self.summary.append(
                f"   calcml step / numpy in-place: {t:.3f} (cpu "
                f"{self.ratio(case, REF, 'numpy in-place', cpu=True):.3f}) [the floor without "
                f"p -= lr * g's temporary; not the target's reference]"
            )


def main() -> int:
    args = driver_arguments(__doc__.splitlines()[0], ENGINES, CASES)
    progress_on = not args.no_progress
    workers = Workers(HERE / "nn_peers.py", args.engines, args.target_ms, "bench_nn_")
    workers.setup(args.cases, progress_on)
    times = workers.run_rounds(args.cases, args.rounds, progress_on)
    workers.close()
    results = {key: _load(row["file"]) for key, row in workers.info.items() if row.get("file")}
    workers.remove_files()
    checks = _check(args.cases, results)

    workers.print_header(
        "calcml.nn training step vs hand-written NumPy, PyTorch eager, autograd, JAX jit "
        "(median us per step; ratio = median over rounds of the per-round calcml step/engine)",
        args.rounds,
        args.target_ms,
        ", each from the initial parameters  float64",
        "cpu us = CPU time of that process (process_time_ns) per step; faults = minor page "
        "faults of that process per step (getrusage); first steps (JAX: with compilation) "
        "not measured",
    )
    report = Report(args.rounds, workers, times, checks)
    for n_case, case in enumerate(args.cases, 1):
        report.print_case(n_case, case)
    print_verdicts(
        "Correctness (same run, one step from the same start)",
        checks.count,
        f"parameters {TOL_PARAMS:g}, update p1 - p0 {TOL_UPDATE:g}, relative to calcml step",
        checks.mismatches,
        report.summary,
    )
    if checks.mismatches:
        print(f"correctness: {len(checks.mismatches)} MISMATCH(ES) -> FAIL")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
