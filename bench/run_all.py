"""Run every calcml benchmark, each in its own fresh interpreter, and print its output.

Run:  python bench/run_all.py [extra arguments passed to every benchmark, e.g. --samples 21]

Each ``bench_*.py`` next to this file runs in a subprocess of ``sys.executable`` (so no
benchmark warms SymPy's cache or imports for another), with ``OMP_NUM_THREADS`` and
``OPENBLAS_NUM_THREADS`` set to 1. Its output is printed as it finishes; the exit status
is non-zero if any benchmark crashed (a FAIL against a target is reported in the
tables, not as a crash).
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"==== {script.name} " + "=" * max(0, 70 - len(script.name)), flush=True)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script), *sys.argv[1:]],
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        print(proc.stdout, end="" if proc.stdout.endswith("\n") else "\n")
        print(
            f"({script.name}: exit {proc.returncode}, {time.perf_counter() - start:.0f} s)\n",
            flush=True,
        )
        if proc.returncode:
            failed.append(script.name)
    if failed:
        print("crashed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
