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

Method: as ``bench_ad.py``. Every engine runs in a process of its own (``nn_peers.py``),
started once and kept for the whole run; each variant's first step (JAX: compilation) is
reported apart, never measured. Each loop lasts about ``--target-ms`` (20 ms) and starts
from the initial parameters (reset outside the timing). In each ROUND every engine
measures every case once, in an order of cases and engines rotated from one round to the
next. Reported: medians over rounds of each engine's time per step (wall and CPU) and of
the per-round ratio calcml step / engine.

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

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _harness import Progress, machine, table, verdict
from nn_peers import CASES, ENGINES, problem

HERE = Path(__file__).resolve().parent
MIN_ROUNDS = 9
TOL_PARAMS, TOL_UPDATE = 1e-10, 1e-9
REF = "calcml step"

TARGET_TINY_US = 60.0  # case tiny: calcml per step, below
TARGET_LARGE_RATIO = 1.2  # case 784-128-10: calcml / hand-written NumPy, at most


class Engine:
    """One worker process (``nn_peers.py ENGINE --serve``), one JSON line per command."""

    def __init__(self, name: str, out: Path, target_ms: float) -> None:
        self.name = name
        self.log = open(out / f"{name}.stderr", "w+")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "nn_peers.py"),
                name,
                "--serve",
                "--out",
                str(out),
                "--target-ms",
                str(target_ms),
            ],
            cwd=HERE.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=dict(os.environ),
        )
        hello = self._read()
        self.ok = bool(hello and hello.get("ok"))
        self.version = hello.get("version", "") if hello else ""
        self.error = "" if self.ok else (hello or {}).get("error", "crashed on start")
        if not self.ok:
            self.close()

    def _read(self) -> dict | None:
        line = self.proc.stdout.readline()
        if not line:
            self.ok = False
            self.error = "worker died: " + self.stderr_tail()
            return None
        return json.loads(line)

    def ask(self, command: str) -> dict | None:
        if not self.ok:
            return None
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.ok = False
            self.error = "worker died: " + self.stderr_tail()
            return None
        return self._read()

    def stderr_tail(self) -> str:
        self.log.flush()
        self.log.seek(0)
        lines = [line.strip() for line in self.log.read().splitlines() if line.strip()]
        return " | ".join(lines[-3:])[-300:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        "--samples",  # the name run_all.py passes on: a round is this benchmark's sample
        dest="rounds",
        type=int,
        default=11,
        help=f"rounds (default 11; at least {MIN_ROUNDS} for reported numbers)",
    )
    parser.add_argument(
        "--target-ms",
        type=float,
        default=20.0,
        help="length of one measurement's loop, ms (default 20)",
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of " + ",".join(ENGINES),
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES)
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    args.engines = [e for e in args.engines.split(",") if e]
    args.cases = [c for c in args.cases.split(",") if c]
    for e in args.engines:
        if e not in ENGINES:
            parser.error(f"unknown engine {e!r}")
    for c in args.cases:
        if c not in CASES:
            parser.error(f"unknown case {c!r}")
    if "calcml" not in args.engines:
        args.engines.insert(0, "calcml")
    return args


def _rel_err(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """The largest, over the arrays, of max |a - b| / max |b|."""
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b, strict=True)):
        return float("inf")
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        scale = float(np.max(np.abs(y)))
        worst = max(worst, float(np.max(np.abs(x - y))) / (scale if scale > 0 else 1.0))
    return worst


def _err_text(err: float | None) -> str:
    if err is None:
        return "-"
    if err == float("inf"):
        return "shape!"
    return f"{err:.1e}"


def main() -> int:
    args = _arguments()
    progress_on = not args.no_progress
    out = Path(tempfile.mkdtemp(prefix="bench_nn_"))
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_start = os.getloadavg()
    wall_start = time.perf_counter()

    # -- start the workers, set every case up ---------------------------------------------
    engines: dict[str, Engine] = {}
    for name in args.engines:
        engines[name] = Engine(name, out, args.target_ms)
    live = [name for name in args.engines if engines[name].ok]
    info: dict[tuple[str, str], dict] = {}  # (case, label) -> setup row
    labels: dict[str, list[tuple[str, str]]] = {c: [] for c in args.cases}  # case -> rows
    setup_errors: list[str] = []
    progress = Progress(len(live) * len(args.cases), progress_on)
    for name in live:
        for case in args.cases:
            progress.step(f"setup {name} {case}")
            reply = engines[name].ask(f"setup {case}")
            if reply is None:
                setup_errors.append(f"{name} {case}: {engines[name].error}")
                break
            if reply.get("error"):
                setup_errors.append(f"{name} {case}: {reply['error']}")
            for row in reply.get("variants", []):
                info[(case, row["label"])] = row | {"engine": name}
                if row.get("error"):
                    setup_errors.append(f"{name} {case} {row['label']}: {row['error']}")
                else:
                    labels[case].append((name, row["label"]))
    progress.close()

    # -- the rounds ------------------------------------------------------------------------
    rounds = args.rounds
    # times[(case, label)][round] = (wall ns, cpu ns, minor page faults) per training step
    times: dict[tuple[str, str], dict[int, tuple[float, float, float]]] = {}
    live = [name for name in live if engines[name].ok]
    progress = Progress(rounds * len(args.cases) * len(live), progress_on)
    for r in range(rounds):
        cases = args.cases[r % len(args.cases) :] + args.cases[: r % len(args.cases)]
        order = live[r % len(live) :] + live[: r % len(live)]
        for case in cases:
            for name in order:
                progress.step(f"round {r + 1}/{rounds} {case} {name}")
                if not any(e == name for e, _ in labels[case]):
                    continue
                reply = engines[name].ask(f"measure {case} {r}")
                for label, (wall, cpu, faults) in (reply or {}).items():
                    times.setdefault((case, label), {})[r] = (wall, cpu, faults)
    progress.close()
    dead = [f"{n}: {engines[n].error}" for n in live if not engines[n].ok]
    for engine in engines.values():
        engine.close()
    minutes = (time.perf_counter() - wall_start) / 60

    # -- correctness: the parameters after one step, and the step itself -------------------
    results: dict[tuple[str, str], list[np.ndarray]] = {}
    for key, row in info.items():
        if row.get("file"):
            with np.load(row["file"]) as data:
                results[key] = [data[f"arr_{i}"] for i in range(len(data.files))]
    for f in out.iterdir():
        f.unlink()
    out.rmdir()

    mismatches: list[str] = []
    err_params: dict[tuple[str, str], float] = {}
    err_update: dict[tuple[str, str], float] = {}
    largest_update: dict[str, float] = {}
    for case in args.cases:
        if (case, REF) not in results:
            continue
        init = problem(case)[0]
        ref = results[(case, REF)]
        ref_update = [p1 - p0 for p1, p0 in zip(ref, init, strict=True)]
        largest_update[case] = max(float(np.max(np.abs(u))) for u in ref_update)
        if largest_update[case] == 0.0:
            mismatches.append(f"!!! MISMATCH !!! {case}: calcml's step left every parameter alone")
        for (c, label), res in results.items():
            if c != case or label == REF:
                continue
            err_params[(case, label)] = e = _rel_err(res, ref)
            if not e <= TOL_PARAMS:
                mismatches.append(
                    f"!!! MISMATCH !!! {case}: {label}'s parameters after one step differ from "
                    f"calcml's by {_err_text(e)} relative (tolerance {TOL_PARAMS:g})"
                )
            if e != float("inf"):
                update = [p1 - p0 for p1, p0 in zip(res, init, strict=True)]
                err_update[(case, label)] = u = _rel_err(update, ref_update)
                if not u <= TOL_UPDATE:
                    mismatches.append(
                        f"!!! MISMATCH !!! {case}: {label}'s update (p1 - p0) differs from "
                        f"calcml's by {_err_text(u)} relative (tolerance {TOL_UPDATE:g})"
                    )

    # -- statistics ------------------------------------------------------------------------
    def med(case: str, label: str, cpu: bool = False) -> float | None:
        """Median over rounds of the time per step, us."""
        rows = times.get((case, label))
        if not rows:
            return None
        return statistics.median(v[1 if cpu else 0] for v in rows.values()) / 1e3

    def faults(case: str, label: str) -> float | None:
        """Median over rounds of the minor page faults per step."""
        rows = times.get((case, label))
        return statistics.median(v[2] for v in rows.values()) if rows else None

    def ratio(case: str, num: str, den: str, cpu: bool = False) -> float | None:
        """Median over rounds of the per-round ratio num/den (rounds with both)."""
        a, b = times.get((case, num), {}), times.get((case, den), {})
        both = sorted(set(a) & set(b))
        if not both:
            return None
        k = 1 if cpu else 0
        return statistics.median(a[r][k] / max(b[r][k], 1.0) for r in both)

    def fmt(x: float | None, digits: int = 2) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    def notes(case: str, label: str) -> str:
        row = info[(case, label)]
        parts = [row["note"]] if row.get("note") else []
        if row.get("jit"):
            parts.append(f"compile+1st step {row['first_ms']:,.0f} ms")
        elif label.startswith("torch"):
            parts.append(f"1st step {row['first_ms']:,.1f} ms")
        n = len(times.get((case, label), {}))
        if n and n < rounds:
            parts.append(f"{n} round{'s' if n > 1 else ''} only")
        return "; ".join(parts)

    # -- printing --------------------------------------------------------------------------
    print(
        "calcml.nn training step vs hand-written NumPy, PyTorch eager, autograd, JAX jit "
        "(median us per step; ratio = median over rounds of the per-round calcml step/engine)"
    )
    print(machine())
    print(
        f"started {started} (loadavg {load_start[0]:.2f} {load_start[1]:.2f} "
        f"{load_start[2]:.2f}); ended {time.strftime('%Y-%m-%d %H:%M:%S')} (loadavg "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + f"); {minutes:.1f} min"
    )
    print(
        "engines: "
        + "  ".join(
            f"{n} {engines[n].version}" if engines[n].version else f"{n}: {engines[n].error}"
            for n in args.engines
        )
    )
    print(
        f"rounds={rounds}{'' if rounds >= MIN_ROUNDS else ' (below 9: not for reporting)'}  "
        f"loop per measurement ~{args.target_ms:g} ms, each from the initial parameters  "
        f"float64  MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS')}  "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}  torch.set_num_threads(1)"
    )
    print(
        "each engine in its own process; cpu us = CPU time of that process "
        "(process_time_ns) per step; faults = minor page faults of that process per step "
        "(getrusage); first steps (JAX: with compilation) not measured"
    )
    for line in setup_errors + dead:
        print("error: " + line)
    print()

    summary: list[str] = []
    for n_case, case in enumerate(args.cases, 1):
        spec = CASES[case]
        print(f"== {n_case}. {case}: {spec.title}")
        n_params = sum(a * b + b for a, b in zip(spec.sizes[:-1], spec.sizes[1:], strict=True))
        if case in largest_update:
            print(
                f"   {n_params:,} parameters; largest |p1 - p0| of calcml's first step "
                f"{largest_update[case]:.2e}; err = max over arrays of max|a - b| / max|calcml|"
            )
        rows = []
        for _name, label in labels[case]:
            m = med(case, label)
            rows.append(
                [
                    label,
                    "-" if m is None else m,
                    "-" if m is None else med(case, label, cpu=True),
                    fmt(ratio(case, REF, label)),
                    fmt(ratio(case, REF, label, cpu=True)),
                    "(ref)" if label == REF else _err_text(err_params.get((case, label))),
                    "(ref)" if label == REF else _err_text(err_update.get((case, label))),
                    fmt(faults(case, label), 1),
                    notes(case, label),
                ]
            )
        print(
            table(
                [
                    "engine",
                    "median us",
                    "cpu us",
                    "calcml/engine",
                    "cpu ratio",
                    "err params",
                    "err update",
                    "faults",
                    "notes",
                ],
                rows,
                "<>>>>>>><",
            )
        )
        print()

        m = med(case, REF)
        if m is None:
            summary.append(f"{case}: calcml not measured -> no verdict")
            continue
        mc = med(case, REF, cpu=True)
        if case == "tiny":
            summary.append(
                f"{case}: calcml step {m:,.1f} us per step (cpu {mc:,.1f} us) -> "
                f"{verdict(m < TARGET_TINY_US)} (target < {TARGET_TINY_US:g} us)"
            )
            t = med(case, "calcml train()")
            if t is not None:
                summary.append(
                    f"   calcml train() {t:,.1f} us per step (cpu "
                    f"{med(case, 'calcml train()', cpu=True):,.1f} us): "
                    f"{'under' if t < TARGET_TINY_US else 'over'} {TARGET_TINY_US:g} us"
                )
        else:
            r = ratio(case, REF, "numpy")
            if r is None:
                summary.append(f"{case}: numpy not measured -> no verdict")
            else:
                summary.append(
                    f"{case}: calcml step {m:,.0f} us vs numpy {med(case, 'numpy'):,.0f} us, "
                    f"ratio {r:.3f} (cpu {ratio(case, REF, 'numpy', cpu=True):.3f}) -> "
                    f"{verdict(r <= TARGET_LARGE_RATIO)} (target <= {TARGET_LARGE_RATIO:g})"
                )
            for label in ("calcml train()", "calcml backprop()"):
                t = ratio(case, label, "numpy")
                if t is not None:
                    tc = ratio(case, label, "numpy", cpu=True)
                    summary.append(f"   {label} / numpy: {t:.3f} (cpu {tc:.3f})")
            t = ratio(case, REF, "numpy in-place")
            if t is not None:
                summary.append(
                    f"   calcml step / numpy in-place: {t:.3f} (cpu "
                    f"{ratio(case, REF, 'numpy in-place', cpu=True):.3f}) [the floor without "
                    f"p -= lr * g's temporary; not the target's reference]"
                )
        peers = [
            f"{label} {ratio(case, REF, label):.2f}"
            for _n, label in labels[case]
            if not label.startswith("calcml") and ratio(case, REF, label) is not None
        ]
        if peers:
            summary.append("   calcml step / engine: " + ", ".join(peers))

    checked = len(err_params) + len(err_update)
    print(
        "Correctness (same run, one step from the same start): "
        + (
            f"all {checked} comparisons within tolerance (parameters {TOL_PARAMS:g}, "
            f"update p1 - p0 {TOL_UPDATE:g}, relative to calcml step)"
            if not mismatches
            else f"{len(mismatches)} MISMATCH(ES) of {checked} comparisons"
        )
    )
    for line in mismatches:
        print(line)
    print()
    print("Summary:")
    for line in summary:
        print(line)
    if mismatches:
        print(f"correctness: {len(mismatches)} MISMATCH(ES) -> FAIL")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
