"""Shared timing machinery of calcml's benchmarks.

The machine the benchmarks run on is shared and noisy, so nothing here trusts a single
measurement:

* every measured callable runs in a loop long enough (``target_ms``, about 10 ms) for
  ``time.perf_counter_ns`` to be precise, and the time per call is the loop time
  divided by the number of iterations;
* calcml and its peers are timed **paired**: in each repetition (sample) every callable
  of a group is timed back to back on the same input, in an order that rotates from one
  sample to the next, so a burst of load from another process hits all of them alike;
* the reported numbers are medians: the median time per call of each callable, and the
  median of the per-sample ratios calcml/peer (a ratio taken inside one sample is immune
  to the slow drift of the machine's load).

A *cold* measurement calls ``sympy.core.cache.clear_cache()`` before every single call
and times the call alone (not the clearing), so that neither side profits from SymPy's
cache of earlier results.

Import this module only after setting ``OMP_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS``
(each benchmark script does it at its very top, before anything imports NumPy); the
module sets them too, as a fallback for interactive use.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

perf_counter_ns = time.perf_counter_ns
thread_time_ns = time.thread_time_ns

MIN_SAMPLES = 15
_LOAD_AT_START = os.getloadavg()[0]


@dataclass
class Timing:
    """Per-call times (ns) of one callable, one entry per sample, and its loop length.

    ``per_call_ns`` is wall-clock time (``perf_counter_ns``), the measure of record;
    ``per_call_cpu_ns`` is the CPU time of this thread over the same loop
    (``thread_time_ns``), which does not count the time spent waiting for a core that
    another process holds, and so shows how much of a slow sample was the machine.
    """

    name: str
    iterations: int
    per_call_ns: list[float] = field(default_factory=list)
    per_call_cpu_ns: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_call_ns) / 1e3

    @property
    def median_cpu_us(self) -> float:
        return statistics.median(self.per_call_cpu_ns) / 1e3


def _loop(call: Callable[[], object], n: int) -> tuple[int, int]:
    """Wall and CPU time (ns) of ``n`` back-to-back calls."""
    r = range(n)
    cpu = thread_time_ns()
    start = perf_counter_ns()
    for _ in r:
        call()
    wall = perf_counter_ns() - start
    return wall, thread_time_ns() - cpu


def _cold_loop(call: Callable[[], object], n: int) -> tuple[int, int]:
    """Summed wall and CPU time (ns) of ``n`` calls, each right after ``clear_cache()``.

    Only the calls are timed; the clearing is not.
    """
    from sympy.core.cache import clear_cache

    wall = cpu = 0
    for _ in range(n):
        clear_cache()
        cpu_start = thread_time_ns()
        start = perf_counter_ns()
        call()
        wall += perf_counter_ns() - start
        cpu += thread_time_ns() - cpu_start
    return wall, cpu


def calibrate(
    call: Callable[[], object],
    target_ms: float = 10.0,
    cold: bool = False,
    max_iterations: int = 1_000_000,
) -> int:
    """Iterations of ``call`` that make one sample last about ``target_ms``."""
    run = _cold_loop if cold else _loop
    target = target_ms * 1e6
    n = 1
    while True:
        elapsed = max(run(call, n)[0], 1)
        if elapsed >= target / 5 or n >= max_iterations:
            break
        n = min(max_iterations, n * max(2, int(target / 5 / elapsed) + 1))
    return max(1, min(max_iterations, round(n * target / elapsed)))


def paired(
    calls: dict[str, Callable[[], object]],
    samples: int = MIN_SAMPLES,
    target_ms: float = 10.0,
    cold: bool = False,
    warmup: bool = True,
) -> dict[str, Timing]:
    """Time every callable of ``calls`` back to back, ``samples`` times.

    Each callable gets its own loop length (so that each lasts ~``target_ms``); within
    each sample the callables run one after the other, in an order rotated by one place
    from one sample to the next.
    """
    names = list(calls)
    if warmup:
        for name in names:
            calls[name]()  # first-call costs (imports, lazy tables) are not what we measure
    iterations = {name: calibrate(calls[name], target_ms, cold) for name in names}
    timings = {name: Timing(name, iterations[name]) for name in names}
    run = _cold_loop if cold else _loop
    for k in range(samples):
        order = names[k % len(names) :] + names[: k % len(names)]
        gc.collect()
        for name in order:
            n = iterations[name]
            wall, cpu = run(calls[name], n)
            timings[name].per_call_ns.append(wall / n)
            timings[name].per_call_cpu_ns.append(cpu / n)
    return timings


def ratio(timings: dict[str, Timing], num: str, den: str) -> float:
    """Median over samples of the per-sample ratio ``num / den``."""
    a, b = timings[num].per_call_ns, timings[den].per_call_ns
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def ratio_cpu(timings: dict[str, Timing], num: str, den: str) -> float:
    """Median over samples of the per-sample ratio ``num / den`` of CPU times."""
    a, b = timings[num].per_call_cpu_ns, timings[den].per_call_cpu_ns
    return statistics.median(x / max(y, 1.0) for x, y in zip(a, b, strict=True))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def fixed(x: float | None, digits: int = 2) -> str:
    """A number with ``digits`` decimals, or "-" for one not measured."""
    return "-" if x is None else f"{x:.{digits}f}"


def err_text(err: float | None) -> str:
    """A relative error as a table shows it: "-" not checked, "shape!" shapes differ."""
    if err is None:
        return "-"
    if err == float("inf"):
        return "shape!"
    return f"{err:.1e}"


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None
) -> str:
    """A plain-text table; ``align`` holds one of ``<`` ``>`` per column."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "<" + ">" * (len(headers) - 1)
    lines = []
    for j, row in enumerate(cells):
        lines.append(
            "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True)).rstrip()
        )
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def machine() -> str:
    """One line saying where and with what the benchmark ran."""
    import sympy

    import calcml

    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}  {_revision()}  nproc={os.cpu_count()}  "
        f"Python {platform.python_version()}  {platform.machine()}  "
        f"calcml {calcml.__version__}  sympy {sympy.__version__}  "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}  "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}  "
        f"loadavg(1 min) {_LOAD_AT_START:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )


def _revision() -> str:
    """The git commit of the tree measured, and whether src/ had uncommitted changes."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "commit ?"
    return f"commit {head or '?'}{' + uncommitted src/ changes' if dirty else ''}"


def arguments(description: str, samples: int = MIN_SAMPLES) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--samples",
        type=int,
        default=samples,
        help=f"paired samples per measurement (default {samples}, "
        f"at least {MIN_SAMPLES} for reported numbers)",
    )
    parser.add_argument(
        "--target-ms",
        type=float,
        default=10.0,
        help="length of one sample's loop, in ms (default 10)",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")
    return parser.parse_args()


class Progress:
    """A one-line progress counter on stderr (turned off with ``--no-progress``)."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total, self.done = total, 0
        self.enabled = enabled and sys.stderr.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            sys.stderr.write(f"\r  [{self.done}/{self.total}] {truncate(label, 50):<50}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()
