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
each other down in one), started once and kept for the whole run. Each variant is called
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
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _harness import Progress, machine, table, verdict
from ad_peers import CASES, ENGINES, analytic, inputs

HERE = Path(__file__).resolve().parent
MIN_ROUNDS = 9
TOL_EXACT, TOL_APPROX, TOL_ROSEN_HESS = 1e-9, 1e-6, 1e-8

TARGET_TORCH, TARGET_AUTOGRAD = 0.5, 0.25  # case 1: calcml / peer at most
TARGET_GRAD_OVER_F = 2.5  # case 2: calcml's grad / calcml's f at most
TARGET_HESS_US, TARGET_JAC_US = 1000.0, 100.0  # cases 3 and 4: calcml per call, below


class Engine:
    """One worker process, answering one JSON line per command."""

    def __init__(self, name: str, out: Path, target_ms: float) -> None:
        self.name = name
        self.log = open(out / f"{name}.stderr", "w+")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "ad_peers.py"),
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
        "--slow-rounds",
        type=int,
        default=3,
        help="rounds that time numdifftools' 100-D Hessian (default 3)",
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


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b|: the error relative to the size of the reference."""
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return float(np.max(np.abs(a - b))) / (scale if scale > 0 else 1.0) if a.size else 0.0


def _err_text(err: float | None) -> str:
    if err is None:
        return "-"
    if err == float("inf"):
        return "shape!"
    return f"{err:.1e}"


def _us(ns: float) -> float:
    return ns / 1e3


def main() -> int:
    args = _arguments()
    progress_on = not args.no_progress
    out = Path(tempfile.mkdtemp(prefix="bench_ad_"))
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_start = os.getloadavg()
    wall_start = time.perf_counter()

    # -- start the workers, set every case up ---------------------------------------------
    engines: dict[str, Engine] = {}
    for name in args.engines:
        engines[name] = Engine(name, out, args.target_ms)
    live = [name for name in args.engines if engines[name].ok]
    info: dict[tuple[str, str], dict] = {}  # (engine, label) -> setup row (+ case)
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
                row["case"] = case
                info[(case, row["label"])] = row | {"engine": name}
                if row.get("error"):
                    setup_errors.append(f"{name} {case} {row['label']}: {row['error']}")
                else:
                    labels[case].append((name, row["label"]))
    progress.close()

    # -- the rounds ------------------------------------------------------------------------
    rounds = args.rounds
    slow_rounds = (
        {
            round(k * (rounds - 1) / max(1, args.slow_rounds - 1))
            for k in range(max(1, args.slow_rounds))
        }
        if rounds > 1
        else {0}
    )
    # times[(case, label)][round] = (wall ns, cpu ns) per call
    times: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
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
                cmd = f"measure {case} {r}" + (" slow" if r in slow_rounds else "")
                reply = engines[name].ask(cmd)
                for label, (wall, cpu) in (reply or {}).items():
                    times.setdefault((case, label), {})[r] = (wall, cpu)
    progress.close()
    dead = [f"{n}: {engines[n].error}" for n in live if not engines[n].ok]
    for engine in engines.values():
        engine.close()
    minutes = (time.perf_counter() - wall_start) / 60

    # -- correctness -----------------------------------------------------------------------
    results: dict[tuple[str, str], np.ndarray] = {}
    for key, row in info.items():
        if row.get("file"):
            results[key] = np.load(row["file"])
    for f in out.iterdir():
        f.unlink()
    out.rmdir()

    mismatches: list[str] = []
    err_vs_calcml: dict[tuple[str, str], float] = {}
    for (case, label), row in info.items():
        if (case, label) not in results:
            continue
        ref_label = (
            "calcml f"
            if row["role"] == "f"
            else ("calcml grad" if row["role"] == "grad" else "calcml")
        )
        if (case, ref_label) not in results:
            continue
        err = _rel_err(results[(case, label)], results[(case, ref_label)])
        err_vs_calcml[(case, label)] = err
        tol = TOL_APPROX if row["approx"] else TOL_EXACT
        if not err <= tol:
            mismatches.append(
                f"!!! MISMATCH !!! {case}: {label} differs from calcml by {_err_text(err)} "
                f"relative (tolerance {tol:g})"
            )
    analytic_err: dict[str, float] = {}
    for case in args.cases:
        key = (case, "calcml grad" if case.startswith("grad1e6") else "calcml")
        if key in results:
            analytic_err[case] = _rel_err(results[key], analytic(case, inputs(case)))
            if not analytic_err[case] <= TOL_EXACT:
                mismatches.append(
                    f"!!! MISMATCH !!! {case}: calcml differs from the hand-written derivative "
                    f"by {_err_text(analytic_err[case])} relative (tolerance {TOL_EXACT:g})"
                )
    rosen_err: dict[str, float] = {}
    if "hess100-rosen" in args.cases:
        ref = analytic("hess100-rosen", inputs("hess100-rosen"))
        for (case, label), res in results.items():
            if case == "hess100-rosen":
                rosen_err[label] = _rel_err(res, ref)
                if not rosen_err[label] <= TOL_ROSEN_HESS:
                    mismatches.append(
                        f"!!! MISMATCH !!! hess100-rosen: {label} differs from rosen_hess by "
                        f"{_err_text(rosen_err[label])} relative (tolerance {TOL_ROSEN_HESS:g})"
                    )

    # -- statistics ------------------------------------------------------------------------
    def med(case: str, label: str, cpu: bool = False) -> float | None:
        rows = times.get((case, label))
        if not rows:
            return None
        return statistics.median(v[1 if cpu else 0] for v in rows.values())

    def ratio(case: str, num: str, den: str) -> float | None:
        """Median over rounds of the per-round ratio num/den (rounds with both)."""
        a, b = times.get((case, num), {}), times.get((case, den), {})
        both = sorted(set(a) & set(b))
        if not both:
            return None
        return statistics.median(a[r][0] / b[r][0] for r in both)

    def ratio_cpu(case: str, num: str, den: str) -> float | None:
        a, b = times.get((case, num), {}), times.get((case, den), {})
        both = sorted(set(a) & set(b))
        if not both:
            return None
        return statistics.median(a[r][1] / max(b[r][1], 1.0) for r in both)

    def fmt(x: float | None, digits: int = 2) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    def notes(case: str, label: str) -> str:
        row = info[(case, label)]
        parts = [row["note"]] if row.get("note") else []
        if row.get("jit"):
            parts.append(f"compile+1st call {row['first_ms']:,.0f} ms")
        elif label.startswith("jax") and "first_ms" in row:
            parts.append(f"1st call {row['first_ms']:,.0f} ms")
        if row.get("approx"):
            parts.append(f"finite diff. (tol {TOL_APPROX:g})")
        n = len(times.get((case, label), {}))
        if n and n < rounds:
            parts.append(f"{n} round{'s' if n > 1 else ''} only")
        return "; ".join(parts)

    # -- printing --------------------------------------------------------------------------
    print(
        "calcml.ad vs autograd, JAX, PyTorch, numdifftools, NumPy finite differences, SciPy "
        "(median us per call; ratio = median over rounds of the per-round calcml/engine)"
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
        f"loop per measurement ~{args.target_ms:g} ms  numdifftools Hessian in "
        f"{len(slow_rounds)} rounds  MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS')}  "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}  torch.set_num_threads(1)"
    )
    print(
        "each engine in its own process; cpu us = CPU time of that process "
        "(process_time_ns) per call; first calls (JAX: with compilation) not measured"
    )
    for line in setup_errors + dead:
        print("error: " + line)
    print()

    summary: list[str] = []

    def main_table(case: str, title: str, extra_col: str | None = None) -> None:
        print(f"== {title}: {CASES[case]}")
        if analytic_err.get(case) is not None:
            print(
                f"   input {inputs(case).size} values; calcml vs hand-written derivative: "
                f"max rel err {_err_text(analytic_err[case])}"
            )
        headers = ["engine", "median us", "cpu us", "calcml/engine", "cpu ratio", "err vs calcml"]
        if extra_col:
            headers.append(extra_col)
        headers.append("notes")
        rows = []
        for _name, label in labels[case]:
            m = med(case, label)
            row = [
                label,
                "-" if m is None else _us(m),
                "-" if m is None else _us(med(case, label, cpu=True)),
                fmt(ratio(case, "calcml", label)),
                fmt(ratio_cpu(case, "calcml", label)),
                "(ref)" if label == "calcml" else _err_text(err_vs_calcml.get((case, label))),
            ]
            if extra_col:
                row.append(_err_text(rosen_err.get(label)))
            row.append(notes(case, label))
            rows.append(row)
        print(table(headers, rows, "<>>>>>" + (">" if extra_col else "") + "<"))
        print()

    def pass_fail_ratio(case: str, peer: str, target: float, what: str) -> None:
        r = ratio(case, "calcml", peer)
        rc = ratio_cpu(case, "calcml", peer)
        if r is None:
            summary.append(f"{what}: {peer} not measured (not installed?) -> no verdict")
            return
        summary.append(
            f"{what}: calcml {_us(med(case, 'calcml')):,.1f} us vs {peer} "
            f"{_us(med(case, peer)):,.1f} us, ratio {r:.3f} (cpu {rc:.3f}) "
            f"-> {verdict(r <= target)} (target <= {target:g})"
        )

    # Case 1
    for case, fname in (("grad10-rosen", "Rosenbrock"), ("grad10-trans", "tanh/sin/exp")):
        if case in args.cases:
            main_table(case, f"1. gradient, 10 inputs, {fname}")
            pass_fail_ratio(case, "torch eager", TARGET_TORCH, f"1. {case} vs torch eager")
            pass_fail_ratio(case, "autograd", TARGET_AUTOGRAD, f"1. {case} vs autograd")

    # Case 2
    for case in ("grad1e6-sinx2", "grad1e6-trans"):
        if case not in args.cases:
            continue
        print(f"== 2. gradient at 1e6 inputs: {CASES[case]}")
        if analytic_err.get(case) is not None:
            print(
                f"   calcml's gradient vs hand-written: max rel err {_err_text(analytic_err[case])}"
            )
        rows = []
        for _name, label in labels[case]:
            row = info[(case, label)]
            if row["role"] != "grad":
                continue
            f_label = row["pair"]
            g, f = med(case, label), med(case, f_label)
            rows.append(
                [
                    label.removesuffix(" grad"),
                    "-" if f is None else f / 1e6,
                    "-" if g is None else g / 1e6,
                    fmt(ratio(case, label, f_label)),
                    fmt(ratio_cpu(case, label, f_label)),
                    fmt(ratio(case, "calcml grad", label)),
                    _err_text(err_vs_calcml.get((case, label)))
                    if label != "calcml grad"
                    else "(ref)",
                    notes(case, label),
                ]
            )
        print(
            table(
                [
                    "engine",
                    "f ms",
                    "grad ms",
                    "grad/f",
                    "cpu grad/f",
                    "calcml/engine grad",
                    "err vs calcml",
                    "notes",
                ],
                rows,
                "<>>>>>><",
            )
        )
        print(
            "   grad/f: median over rounds of (the engine's gradient time / its own "
            "function time); f alone in each engine's own numpy (calcml.numpy on plain "
            "arrays, autograd.numpy, torch without grad, jax.numpy)"
        )
        print()
        r = ratio(case, "calcml grad", "calcml f")
        if r is not None:
            extra = "" if case.endswith("sinx2") else " [second function, reported too]"
            summary.append(
                f"2. {case}: calcml grad {med(case, 'calcml grad') / 1e6:,.1f} ms / calcml f "
                f"{med(case, 'calcml f') / 1e6:,.1f} ms = {r:.2f} (cpu "
                f"{ratio_cpu(case, 'calcml grad', 'calcml f'):.2f}) -> "
                f"{verdict(r <= TARGET_GRAD_OVER_F)} (target <= {TARGET_GRAD_OVER_F:g}){extra}"
            )
            peers = [
                f"{lab.removesuffix(' grad')} {ratio(case, lab, info[(case, lab)]['pair']):.2f}"
                for _n, lab in labels[case]
                if info[(case, lab)]["role"] == "grad"
                and lab != "calcml grad"
                and ratio(case, lab, info[(case, lab)]["pair"]) is not None
            ]
            if peers:
                summary.append("   same ratio grad/f for the peers: " + ", ".join(peers))

    # Case 3
    case = "hess100-rosen"
    if case in args.cases:
        main_table(case, "3. Hessian", extra_col="err vs rosen_hess")
        m = med(case, "calcml")
        if m is not None:
            summary.append(
                f"3. hess100-rosen: calcml {_us(m):,.0f} us per call (cpu "
                f"{_us(med(case, 'calcml', cpu=True)):,.0f} us) -> "
                f"{verdict(_us(m) < TARGET_HESS_US)} (target < {TARGET_HESS_US:,.0f} us)"
            )
        bad = [lab for lab, e in rosen_err.items() if not e <= TOL_ROSEN_HESS]
        summary.append(
            f"3. hess100-rosen: {len(rosen_err) - len(bad)}/{len(rosen_err)} results agree with "
            f"rosen_hess to {TOL_ROSEN_HESS:g} relative -> {verdict(not bad)}"
            + (f" (off: {', '.join(bad)})" if bad else "")
        )

    # Case 4
    case = "jac3"
    if case in args.cases:
        main_table(case, "4. Jacobian")
        m = med(case, "calcml")
        if m is not None:
            summary.append(
                f"4. jac3: calcml {_us(m):,.0f} us per call (cpu "
                f"{_us(med(case, 'calcml', cpu=True)):,.0f} us) -> "
                f"{verdict(_us(m) < TARGET_JAC_US)} (target < {TARGET_JAC_US:,.0f} us)"
            )

    checked = len(err_vs_calcml) + len(analytic_err) + len(rosen_err)
    print(
        "Correctness (same run): "
        + (
            f"all {checked} comparisons within tolerance (exact engines {TOL_EXACT:g}, finite "
            f"differences {TOL_APPROX:g}, vs rosen_hess {TOL_ROSEN_HESS:g})"
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
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
