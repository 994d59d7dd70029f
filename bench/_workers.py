"""One long-lived worker process per engine, measured in rounds: both ends of the protocol.

PyTorch and JAX slow each other down when they share a process (thread pools,
allocators), so ``bench_ad.py`` and ``bench_nn.py`` (the drivers) start one worker per
engine (``ad_peers.py ENGINE --serve``, ``nn_peers.py ENGINE --serve``) that imports only
its own library, and keep it for the whole run. They talk in lines: one command on the
worker's stdin, one JSON line back on its stdout.

``setup CASE``
    the worker builds its variants of the case (e.g. jax: eager and jit), makes each
    one's first call (imports, caches, JIT compilation: timed and reported apart, never
    measured), saves the result for the driver's correctness checks and calibrates the
    variant's loop (about ``--target-ms``). Reply: ``{"variants": [row, ...]}``.
``measure CASE ROUND [slow]``
    the worker times every variant's loop once, in an order rotated by ROUND (variants
    that take seconds per call only with ``slow``). Reply: ``{label: [wall ns, CPU ns,
    ...] per call}``.
``quit``

A worker's first line says whether its library is installed: ``{"ok": true, "version":
...}`` or ``{"ok": false, "error": ...}``.

The driver's end (``Workers``, ``Times``) runs in ROUNDS: in each round every engine
measures every case once, in an order of cases and engines rotated from one round to the
next, and only one worker measures at a time, so that the machine's drifting load hits
all engines alike. The worker's end (``Worker``, ``serve``) keeps the variants and their
loop lengths; what a variant is, how it is set up and how one loop is timed stays in the
benchmark's own worker script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from _harness import Progress, calibrate, machine

MIN_ROUNDS = 9
TIMEOUT_QUIT_S = 30


def rotated(items: Sequence, k: int) -> list:
    """``items`` rotated left by ``k`` places: the order of round (or sample) ``k``."""
    shift = k % len(items) if items else 0
    return list(items[shift:]) + list(items[:shift])


def _remove_dir(folder: Path) -> None:
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()


# -- the driver's end ---------------------------------------------------------------------


def driver_arguments(
    description: str,
    engines: Sequence[str],
    cases: Sequence[str],
    more_options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """The options of a driver; ``more_options`` adds its own after ``--target-ms``.

    calcml is always measured: it is every ratio's numerator and every check's reference.
    """
    parser = argparse.ArgumentParser(description=description)
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
    if more_options:
        more_options(parser)
    parser.add_argument(
        "--engines",
        default=",".join(engines),
        help="comma-separated subset of " + ",".join(engines),
    )
    parser.add_argument(
        "--cases", default=",".join(cases), help="comma-separated subset of " + ",".join(cases)
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    args.engines = [e for e in args.engines.split(",") if e]
    args.cases = [c for c in args.cases.split(",") if c]
    for e in args.engines:
        if e not in engines:
            parser.error(f"unknown engine {e!r}")
    for c in args.cases:
        if c not in cases:
            parser.error(f"unknown case {c!r}")
    if "calcml" not in args.engines:
        args.engines.insert(0, "calcml")
    return args


class Engine:
    """The driver's handle on one worker process (``SCRIPT ENGINE --serve``).

    A worker that cannot start, or dies, turns ``ok`` off and says why in ``error``
    (with the end of its stderr): the run carries on without it.
    """

    def __init__(self, script: Path, name: str, out: Path, target_ms: float) -> None:
        self.name = name
        self.log = open(out / f"{name}.stderr", "w+")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(script),
                name,
                "--serve",
                "--out",
                str(out),
                "--target-ms",
                str(target_ms),
            ],
            cwd=script.parent.parent,
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
        """The worker's reply to one command; None once it is dead."""
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
                self.proc.wait(timeout=TIMEOUT_QUIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Times:
    """What the rounds measured: per (case, label) and round, [wall ns, CPU ns, ...] per call.

    Column 0 is wall time (the measure of record), 1 the worker's CPU time; a benchmark
    may reply more columns (bench_nn: page faults).
    """

    WALL, CPU = 0, 1

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[int, tuple[float, ...]]] = {}

    def take(self, case: str, round_: int, reply: dict | None) -> None:
        for label, values in (reply or {}).items():
            self.rows.setdefault((case, label), {})[round_] = tuple(values)

    def count(self, case: str, label: str) -> int:
        """In how many rounds the variant was measured."""
        return len(self.rows.get((case, label), {}))

    def median(self, case: str, label: str, column: int = WALL) -> float | None:
        rows = self.rows.get((case, label))
        return statistics.median(v[column] for v in rows.values()) if rows else None

    def ratio(self, case: str, num: str, den: str, column: int = WALL) -> float | None:
        """Median over rounds of the per-round ratio num/den (rounds that measured both).

        A ratio taken within one round cancels most of the machine's drifting load. The
        denominator is floored at 1 (a CPU time can read 0; a wall time never comes near).
        """
        a, b = self.rows.get((case, num), {}), self.rows.get((case, den), {})
        both = sorted(set(a) & set(b))
        if not both:
            return None
        return statistics.median(a[r][column] / max(b[r][column], 1.0) for r in both)


class Workers:
    """The worker processes of one driver run, and what their setup said.

    After ``setup``: ``info[(case, label)]`` is a variant's setup row (with its
    ``engine``); ``labels[case]`` lists the (engine, label) pairs set up without error,
    in engine order; ``errors`` collects what went wrong (setup, then workers that died
    in the rounds) for the header. Results are saved in the scratch folder ``out``.
    """

    def __init__(self, script: Path, names: list[str], target_ms: float, prefix: str) -> None:
        self.out = Path(tempfile.mkdtemp(prefix=prefix))
        self.names = names
        self.started = time.strftime("%Y-%m-%d %H:%M:%S")
        self.load_start = os.getloadavg()
        self._wall_start = time.perf_counter()
        self.engines = {name: Engine(script, name, self.out, target_ms) for name in names}
        self.info: dict[tuple[str, str], dict] = {}
        self.labels: dict[str, list[tuple[str, str]]] = {}
        self.errors: list[str] = []
        self.minutes = 0.0
        self._measuring: list[str] = []

    def live(self) -> list[str]:
        return [name for name in self.names if self.engines[name].ok]

    def setup(self, cases: list[str], progress_on: bool) -> None:
        """Set every case up in every live worker, engine by engine."""
        live = self.live()
        self.labels = {case: [] for case in cases}
        progress = Progress(len(live) * len(cases), progress_on)
        for name in live:
            for case in cases:
                progress.step(f"setup {name} {case}")
                reply = self.engines[name].ask(f"setup {case}")
                if reply is None:
                    self.errors.append(f"{name} {case}: {self.engines[name].error}")
                    break
                self._take_setup(name, case, reply)
        progress.close()

    def _take_setup(self, name: str, case: str, reply: dict) -> None:
        if reply.get("error"):
            self.errors.append(f"{name} {case}: {reply['error']}")
        for row in reply.get("variants", []):
            self.info[(case, row["label"])] = row | {"engine": name}
            if row.get("error"):
                self.errors.append(f"{name} {case} {row['label']}: {row['error']}")
            else:
                self.labels[case].append((name, row["label"]))

    def run_rounds(
        self,
        cases: list[str],
        rounds: int,
        progress_on: bool,
        slow_rounds: frozenset[int] | set[int] = frozenset(),
    ) -> Times:
        """Every round, every engine measures every case once; orders rotate by round.

        All engines measure a case back to back. Rounds in ``slow_rounds`` also time the
        variants marked slow.
        """
        live = self._measuring = self.live()
        times = Times()
        progress = Progress(rounds * len(cases) * len(live), progress_on)
        for r in range(rounds):
            for case in rotated(cases, r):
                for name in rotated(live, r):
                    progress.step(f"round {r + 1}/{rounds} {case} {name}")
                    if not any(e == name for e, _ in self.labels[case]):
                        continue
                    command = f"measure {case} {r}" + (" slow" if r in slow_rounds else "")
                    times.take(case, r, self.engines[name].ask(command))
        progress.close()
        return times

    def close(self) -> None:
        """Stop every worker; note those that died during the rounds."""
        self.errors += [
            f"{n}: {self.engines[n].error}" for n in self._measuring if not self.engines[n].ok
        ]
        for engine in self.engines.values():
            engine.close()
        self.minutes = (time.perf_counter() - self._wall_start) / 60

    def remove_files(self) -> None:
        """Delete the scratch folder (call after loading the results)."""
        _remove_dir(self.out)

    def print_header(
        self, title: str, rounds: int, target_ms: float, settings: str, measured: str
    ) -> None:
        """The lines above the tables: what ran where, when, under which load, how."""
        load = self.load_start
        print(title)
        print(machine())
        print(
            f"started {self.started} (loadavg {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}); "
            f"ended {time.strftime('%Y-%m-%d %H:%M:%S')} (loadavg "
            + " ".join(f"{v:.2f}" for v in os.getloadavg())
            + f"); {self.minutes:.1f} min"
        )
        print("engines: " + "  ".join(self._engine_text(n) for n in self.names))
        print(
            f"rounds={rounds}{'' if rounds >= MIN_ROUNDS else ' (below 9: not for reporting)'}  "
            f"loop per measurement ~{target_ms:g} ms{settings}  "
            f"MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS')}  "
            f"XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}  torch.set_num_threads(1)"
        )
        print("each engine in its own process; " + measured)
        for line in self.errors:
            print("error: " + line)
        print()

    def _engine_text(self, name: str) -> str:
        engine = self.engines[name]
        return f"{name} {engine.version}" if engine.version else f"{name}: {engine.error}"


class RoundsReport:
    """Base of a driver's report: what one run measured and checked, table by table.

    Subclasses print the tables; their verdict lines collect in ``summary``.
    """

    def __init__(self, rounds: int, workers: Workers, times: Times, checks: Any) -> None:
        self.rounds, self.times, self.checks = rounds, times, checks
        self.info, self.labels = workers.info, workers.labels
        self.summary: list[str] = []

    def rounds_note(self, case: str, label: str) -> list[str]:
        """ "N rounds only" for a variant measured in fewer rounds than the run had."""
        n = self.times.count(case, label)
        return [f"{n} round{'s' if n > 1 else ''} only"] if n and n < self.rounds else []


def print_verdicts(
    what: str, checked: int, tolerances: str, mismatches: list[str], summary: list[str]
) -> None:
    """The correctness line (and each mismatch), then the summary of verdicts."""
    print(
        f"{what}: "
        + (
            f"all {checked} comparisons within tolerance ({tolerances})"
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


# -- the worker's end ---------------------------------------------------------------------


def loop(call: Callable[[], Any], n: int) -> tuple[int, int]:
    """Wall time and CPU time (ns) of ``n`` back-to-back calls.

    CPU time is the whole process's (``process_time_ns``), not the calling thread's as
    in ``_harness``: JAX and PyTorch may hand work to threads of their own, and each
    engine is alone in its process, so the process's CPU time is the engine's.
    """
    r = range(n)
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    for _ in r:
        call()
    wall = time.perf_counter_ns() - start
    return wall, time.process_time_ns() - cpu


def warm_up(call: Callable[[], Any], calls: int, budget_ms: float = 300.0) -> None:
    """A few more calls before calibrating, within ``budget_ms``: JAX and PyTorch are
    still slower on their second call (eager JAX) or first few steps than later."""
    start = time.perf_counter_ns()
    for _ in range(calls):
        call()
        if time.perf_counter_ns() - start > budget_ms * 1e6:
            break


def dist_version(dist: str) -> str:
    """The installed version of a distribution that has no ``__version__`` (autograd)."""
    from importlib.metadata import version

    return version(dist)


class Worker:
    """One engine's end of the protocol: loads it, keeps its variants and loop lengths.

    A benchmark's subclass names its engines (``loaders``: engine -> function returning
    (version, variants-maker)) and the environment variable that hides some of them
    (``hide_variable``, to test a run without them), and says how a variant is built
    (``build``), described (``describe``), called first (``first_call``), calibrated
    (``loop_length``) and timed (``time_loop``). A variant has at least ``label`` and ``call``.
    """

    loaders: ClassVar[dict[str, Callable[[], tuple[str, Callable]]]] = {}
    hide_variable = ""

    def __init__(self, engine: str, out: Path, target_ms: float) -> None:
        self.engine, self.out, self.target_ms = engine, out, target_ms
        hidden = {n.strip() for n in os.environ.get(self.hide_variable, "").split(",")}
        if engine in hidden:
            raise ImportError(f"No module named {engine!r} (hidden by {self.hide_variable})")
        self.version, self.make_variants = self.loaders[engine]()
        self.cases: dict[str, list[Any]] = {}
        self.iterations: dict[tuple[str, str], int] = {}

    # what a subclass says
    def build(self, case: str) -> list[Any]:
        raise NotImplementedError

    def describe(self, v: Any) -> dict:
        raise NotImplementedError

    def first_call(self, case: str, k: int, v: Any, row: dict) -> None:
        """Make the first call, note ``first_ms`` and ``file`` (the saved result) in row."""
        raise NotImplementedError

    def loop_length(self, v: Any) -> int:
        """Warm up and calibrate: the calls per measurement."""
        return calibrate(v.call, self.target_ms)

    def time_loop(self, case: str, v: Any) -> list[float]:
        """One measurement of the variant: [wall ns, CPU ns, ...] per call."""
        raise NotImplementedError

    def is_slow(self, v: Any) -> bool:
        """Measured only in the rounds the driver marks slow."""
        return False

    # the protocol
    def result_path(self, case: str, k: int, suffix: str) -> Path:
        return self.out / f"{self.engine}__{k}__{case}{suffix}"

    def setup(self, case: str) -> dict:
        """Set every variant of the case up; a row per variant says how it went."""
        try:
            variants = self.build(case)
        except Exception as err:  # reported, the benchmark carries on
            return {"variants": [], "error": f"{type(err).__name__}: {err}"}
        rows, kept = [], []
        for k, v in enumerate(variants):
            row = self.describe(v)
            try:
                self.first_call(case, k, v, row)
                n = self.loop_length(v)
                row["iterations"] = self.iterations[(case, v.label)] = n
                kept.append(v)
            except Exception as err:  # one failing variant does not stop the others
                row["error"] = f"{type(err).__name__}: {err}"
            rows.append(row)
        self.cases[case] = kept
        return {"variants": rows}

    def measure(self, case: str, round_: int, slow: bool = False) -> dict[str, list[float]]:
        """Every variant of the case measured once, in an order rotated by the round."""
        variants = [v for v in self.cases.get(case, []) if slow or not self.is_slow(v)]
        return {v.label: self.time_loop(case, v) for v in rotated(variants, round_)}

    def samples(self, case: str, count: int) -> dict[str, list[list[float]]]:
        """``count`` measurements of every variant (slow ones too), for a one-shot look."""
        out: dict[str, list[list[float]]] = {}
        for r in range(count):
            for label, row in self.measure(case, r, slow=True).items():
                out.setdefault(label, []).append(row)
        return out


def serve(make_worker: Callable[[], Worker]) -> None:
    """Answer the driver's commands on stdin until ``quit`` (or its end)."""
    # The protocol owns the real stdout; anything a library prints goes to stderr.
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: object) -> None:
        channel.write(json.dumps(obj) + "\n")
        channel.flush()

    try:
        worker = make_worker()
    except ImportError as err:
        reply({"ok": False, "error": f"not installed ({type(err).__name__}: {err})"})
        return
    except Exception as err:
        reply({"ok": False, "error": f"failed to load ({type(err).__name__}: {err})"})
        return
    reply({"ok": True, "version": worker.version})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "setup":
            reply(worker.setup(words[1]))
        elif words[0] == "measure":
            reply(worker.measure(words[1], int(words[2]), "slow" in words[3:]))
        else:
            reply({"error": f"unknown command {words[0]!r}"})


def worker_parser(
    description: str, engines: Sequence[str], cases: Sequence[str]
) -> argparse.ArgumentParser:
    """The options of a worker script: ``--serve`` for the driver, or one case alone."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("engine", choices=engines)
    parser.add_argument("case", nargs="?", choices=list(cases))
    parser.add_argument("--serve", action="store_true", help="answer commands on stdin")
    parser.add_argument("--out", type=Path, help="folder for the results (with --serve)")
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=9, help="one-shot mode: samples")
    parser.add_argument("--profile", action="store_true", help="one-shot mode: cProfile")
    return parser


def worker_main(
    parser: argparse.ArgumentParser,
    worker_class: type[Worker],
    one_shot: Callable[[argparse.Namespace], None],
) -> None:
    args = parser.parse_args()
    if args.serve:
        serve(lambda: worker_class(args.engine, args.out, args.target_ms))
    elif args.case:
        one_shot(args)
    else:
        parser.error("give a CASE, or --serve")


def print_setup(worker: Worker, case: str, title: str, call: str, loop_unit: str) -> None:
    """Set the case up and say how it went: a one-shot look's first lines.

    ``call`` names one call ("call", "step"), ``loop_unit`` what a loop repeats.
    """
    info = worker.setup(case)
    print(f"{worker.engine} {worker.version}: {title}")
    if "error" in info:
        print("error:", info["error"])
    for row in info["variants"]:
        print(
            f"  {row['label']}: first {call} {row.get('first_ms', float('nan')):.3f} ms, "
            f"{row.get('iterations', '-')} {loop_unit} per sample {row.get('error', '')}"
        )


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A folder for a one-shot worker's saved results, removed afterwards."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"{prefix}_{os.getpid()}"
    out.mkdir(exist_ok=True)
    try:
        yield out
    finally:
        _remove_dir(out)


def print_profile(call: Callable[[], Any], n: int, heading: str) -> None:
    """cProfile of ``n`` calls: the 25 functions with the most own time."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        call()
    profile.disable()
    print(heading)
    pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)


def profile_calls(worker: Worker, case: str, v: Any) -> int:
    """How many calls a profile makes: five measurements' worth, at least one."""
    return max(1, worker.iterations[(case, v.label)] * 5)
