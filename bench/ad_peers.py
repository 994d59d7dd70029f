"""Worker of ``bench_ad.py``: one differentiation engine, alone in its own process.

``bench_ad.py`` starts one long-lived worker per engine (calcml, autograd, jax, torch,
numdifftools, numpy-fd, scipy), because PyTorch and JAX slow each other down when they
share a process (thread pools, allocators). A worker imports only its own library and
answers one command per line on stdin with one JSON line on stdout:

``setup CASE``
    builds the engine's variants for the case (e.g. jax: eager and jit), calls each once
    (the first call, with its imports, caches and JIT compilation, is timed and reported
    apart, never measured), saves each result to ``OUT/ENGINE__k__CASE.npy`` for the
    driver's correctness checks, and calibrates each variant's loop length (about
    ``--target-ms``).
``measure CASE ROUND [slow]``
    times every variant's loop once, in an order rotated by ROUND; variants marked slow
    (numdifftools' 100-D Hessian, ~10 s a call) only when ``slow`` is given.
``quit``

The first line a worker writes says whether its library is installed.

Run alone, for a quick look or a profile:

    python bench/ad_peers.py ENGINE CASE [--samples N] [--target-ms MS] [--profile]

``AD_BENCH_HIDE=torch,jax`` (an environment variable) makes the workers of the named
engines act as if their library were not installed, to test that the benchmark carries
on without them.
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
# XLA's CPU backend: one thread for the computation too, like every other engine here.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from _harness import calibrate

perf_counter_ns, process_time_ns = time.perf_counter_ns, time.process_time_ns

ENGINES = ("calcml", "autograd", "jax", "torch", "numdifftools", "numpy-fd", "scipy")

CASES = {
    "grad10-rosen": "gradient, 10-D Rosenbrock sum(100(x[1:]-x[:-1]^2)^2 + (1-x[:-1])^2)",
    "grad10-trans": "gradient, 10 inputs, sum(tanh(x)^2 + sin(x) exp(-x^2))",
    "grad1e6-sinx2": "gradient at 1e6 inputs, sum(sin(x) x^2)",
    "grad1e6-trans": "gradient at 1e6 inputs, sum(tanh(x)^2 + sin(x) exp(-x^2))",
    "hess100-rosen": "Hessian, 100-D Rosenbrock",
    "jac3": "Jacobian 3 -> 3, [v0 v1 v2, sin(v0) + v1^2, exp(v2) v0]",
}


def inputs(case: str) -> np.ndarray:
    """The point every engine differentiates at, the same in every process."""
    if case.startswith("grad10"):
        return np.random.default_rng(10).uniform(-1.5, 1.5, 10)
    if case.startswith("grad1e6"):
        return np.random.default_rng(6).standard_normal(1_000_000)
    if case.startswith("hess100"):
        return np.random.default_rng(100).uniform(-1.5, 1.5, 100)
    if case == "jac3":
        return np.array([0.5, -1.2, 0.3])
    raise ValueError(f"unknown case {case!r}")


def analytic(case: str, x: np.ndarray) -> np.ndarray:
    """The exact derivative, written by hand (an independent check of calcml)."""
    if case == "grad10-rosen":
        from scipy.optimize import rosen_der

        return rosen_der(x)
    if case == "hess100-rosen":
        from scipy.optimize import rosen_hess

        return rosen_hess(x)
    if case.endswith("trans"):
        t, s = np.tanh(x), np.exp(-(x**2))
        return 2 * t * (1 - t**2) + np.cos(x) * s - 2 * x * np.sin(x) * s
    if case == "grad1e6-sinx2":
        return np.cos(x) * x**2 + 2 * x * np.sin(x)
    if case == "jac3":
        v0, v1, v2 = x
        return np.array(
            [
                [v1 * v2, v0 * v2, v0 * v1],
                [np.cos(v0), 2 * v1, 0.0],
                [np.exp(v2), 0.0, np.exp(v2) * v0],
            ]
        )
    raise ValueError(f"unknown case {case!r}")


@dataclass
class Variant:
    """One way an engine does a case: ``call`` is what is timed.

    ``role`` is "main" (a derivative), or for the 1e6 cases "f" (the function alone) or
    "grad" (its gradient; ``pair`` names the "f" variant it is compared with).
    """

    label: str
    call: Callable[[], Any]
    role: str = "main"
    pair: str | None = None
    approx: bool = False  # finite differences: checked to a looser tolerance
    slow: bool = False  # seconds per call: measured in a few rounds only
    jit: bool = False  # first call includes compilation
    note: str = ""


def to_numpy(out: Any) -> np.ndarray:
    if hasattr(out, "detach"):  # torch
        out = out.detach().numpy()
    return np.asarray(out, dtype=float)


# -- the engines: each returns (version, variants(case, x)) ------------------------------


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def _pair_variants(
    label: str, f: Callable, g: Callable, jit: bool = False, note: str = ""
) -> list[Variant]:
    """An engine's function and gradient at 1e6 inputs, measured side by side."""
    return [
        Variant(f"{label} f", f, role="f", jit=jit),
        Variant(f"{label} grad", g, role="grad", pair=f"{label} f", jit=jit, note=note),
    ]


def engine_calcml():
    import calcml
    import calcml.ad as ad
    import calcml.numpy as cnp

    def rosen(x):
        return cnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def trans(x):
        return cnp.sum(cnp.tanh(x) ** 2 + cnp.sin(x) * cnp.exp(-(x**2)))

    def sinx2(x):
        return cnp.sum(cnp.sin(x) * x**2)

    def f3(v):
        return cnp.stack([v[0] * v[1] * v[2], cnp.sin(v[0]) + v[1] ** 2, cnp.exp(v[2]) * v[0]])

    def variants(case: str, x: np.ndarray) -> list[Variant]:
        if case.startswith("grad10"):
            g = ad.grad(rosen if case.endswith("rosen") else trans)
            return [Variant("calcml", lambda: g(x), note="cm.ad.grad")]
        if case.startswith("grad1e6"):
            f = sinx2 if case.endswith("sinx2") else trans
            g = ad.grad(f)
            return _pair_variants("calcml", lambda: f(x), lambda: g(x), note="cm.ad.grad")
        if case == "hess100-rosen":
            h = ad.hessian(rosen)
            return [Variant("calcml", lambda: h(x), note="cm.ad.hessian")]
        if case == "jac3":
            j = ad.jacobian(f3)
            return [Variant("calcml", lambda: j(x), note="cm.ad.jacobian")]
        return []

    return calcml.__version__, variants


def engine_autograd():
    import autograd
    import autograd.numpy as anp

    def rosen(x):
        return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def trans(x):
        return anp.sum(anp.tanh(x) ** 2 + anp.sin(x) * anp.exp(-(x**2)))

    def sinx2(x):
        return anp.sum(anp.sin(x) * x**2)

    def f3(v):
        return anp.stack([v[0] * v[1] * v[2], anp.sin(v[0]) + v[1] ** 2, anp.exp(v[2]) * v[0]])

    def variants(case: str, x: np.ndarray) -> list[Variant]:
        if case.startswith("grad10"):
            g = autograd.grad(rosen if case.endswith("rosen") else trans)
            return [Variant("autograd", lambda: g(x), note="autograd.grad")]
        if case.startswith("grad1e6"):
            f = sinx2 if case.endswith("sinx2") else trans
            g = autograd.grad(f)
            return _pair_variants("autograd", lambda: f(x), lambda: g(x), note="autograd.grad")
        if case == "hess100-rosen":
            h = autograd.hessian(rosen)
            return [Variant("autograd", lambda: h(x), note="autograd.hessian")]
        if case == "jac3":
            j = autograd.jacobian(f3)
            return [Variant("autograd", lambda: j(x), note="autograd.jacobian")]
        return []

    return _version("autograd"), variants


def engine_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def rosen(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def trans(x):
        return jnp.sum(jnp.tanh(x) ** 2 + jnp.sin(x) * jnp.exp(-(x**2)))

    def sinx2(x):
        return jnp.sum(jnp.sin(x) * x**2)

    def f3(v):
        return jnp.stack([v[0] * v[1] * v[2], jnp.sin(v[0]) + v[1] ** 2, jnp.exp(v[2]) * v[0]])

    def ready(fn, xj):
        return lambda: fn(xj).block_until_ready()

    def variants(case: str, x: np.ndarray) -> list[Variant]:
        xj = jnp.asarray(x)  # on the device once, outside the timing
        assert xj.dtype == jnp.float64
        if case.startswith("grad10"):
            g = jax.grad(rosen if case.endswith("rosen") else trans)
            return [
                Variant("jax eager", ready(g, xj), note="jax.grad, no jit"),
                Variant("jax jit", ready(jax.jit(g), xj), jit=True, note="jax.jit(jax.grad)"),
            ]
        if case.startswith("grad1e6"):
            f = sinx2 if case.endswith("sinx2") else trans
            g = jax.grad(f)
            return _pair_variants(
                "jax eager", ready(f, xj), ready(g, xj), note="jax.grad, no jit"
            ) + _pair_variants(
                "jax jit",
                ready(jax.jit(f), xj),
                ready(jax.jit(g), xj),
                jit=True,
                note="jax.jit(f), jax.jit(jax.grad(f))",
            )
        if case == "hess100-rosen":
            h = jax.hessian(rosen)
            return [
                Variant("jax eager", ready(h, xj), note="jax.hessian, no jit"),
                Variant("jax jit", ready(jax.jit(h), xj), jit=True, note="jax.jit(jax.hessian)"),
            ]
        if case == "jac3":
            out = []
            for name in ("jacfwd", "jacrev"):
                j = getattr(jax, name)(f3)
                out.append(Variant(f"jax {name} eager", ready(j, xj), note=f"jax.{name}"))
                out.append(
                    Variant(
                        f"jax {name} jit",
                        ready(jax.jit(j), xj),
                        jit=True,
                        note=f"jax.jit(jax.{name})",
                    )
                )
            return out
        return []

    return jax.__version__, variants


def engine_torch():
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from torch.autograd.functional import hessian, jacobian

    def rosen(x):
        return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def trans(x):
        return torch.sum(torch.tanh(x) ** 2 + torch.sin(x) * torch.exp(-(x**2)))

    def sinx2(x):
        return torch.sum(torch.sin(x) * x**2)

    def f3(v):
        return torch.stack(
            [v[0] * v[1] * v[2], torch.sin(v[0]) + v[1] ** 2, torch.exp(v[2]) * v[0]]
        )

    def backward_grad(f, xt):
        def call():
            t = xt.detach().requires_grad_()  # a fresh leaf each call (no copy)
            f(t).backward()
            return t.grad

        return call

    def variants(case: str, x: np.ndarray) -> list[Variant]:
        xt = torch.from_numpy(x)  # float64, shares x's memory
        if case.startswith("grad10"):
            f = rosen if case.endswith("rosen") else trans
            return [Variant("torch eager", backward_grad(f, xt), note="fresh leaf, backward()")]
        if case.startswith("grad1e6"):
            f = sinx2 if case.endswith("sinx2") else trans
            return _pair_variants(
                "torch eager", lambda: f(xt), backward_grad(f, xt), note="fresh leaf, backward()"
            )
        if case == "hess100-rosen":
            return [
                Variant(
                    "torch eager",
                    lambda: hessian(rosen, xt),
                    note="torch.autograd.functional.hessian",
                )
            ]
        if case == "jac3":
            return [
                Variant(
                    "torch eager",
                    lambda: jacobian(f3, xt),
                    note="torch.autograd.functional.jacobian",
                )
            ]
        return []

    return torch.__version__, variants


# Plain NumPy versions of the functions, batched along the last axis (finite differences
# evaluate all their points in one call).


def rosen_np(x):
    return np.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1.0 - x[..., :-1]) ** 2, axis=-1)


def trans_np(x):
    return np.sum(np.tanh(x) ** 2 + np.sin(x) * np.exp(-(x**2)), axis=-1)


def f3_np(v):
    return np.stack([v[0] * v[1] * v[2], np.sin(v[0]) + v[1] ** 2, np.exp(v[2]) * v[0]])


def central_gradient(f: Callable, x: np.ndarray) -> np.ndarray:
    """Central differences, all 2n points in one batched call of ``f``; step eps^(1/3)."""
    h = np.finfo(float).eps ** (1 / 3) * np.maximum(1.0, np.abs(x))
    h = (x + h) - x  # a step that is exactly representable
    steps = np.diag(h)
    fx = f(np.concatenate([x + steps, x - steps]))
    n = x.size
    return (fx[:n] - fx[n:]) / (2 * h)


def engine_numdifftools():
    import numdifftools as nd

    def variants(case: str, x: np.ndarray) -> list[Variant]:
        if case.startswith("grad10"):
            g = nd.Gradient(rosen_np if case.endswith("rosen") else trans_np)
            return [Variant("numdifftools", lambda: g(x), approx=True, note="nd.Gradient")]
        if case == "hess100-rosen":
            h = nd.Hessian(rosen_np)
            return [
                Variant("numdifftools", lambda: h(x), approx=True, slow=True, note="nd.Hessian")
            ]
        if case == "jac3":
            j = nd.Jacobian(f3_np)
            return [Variant("numdifftools", lambda: j(x), approx=True, note="nd.Jacobian")]
        return []

    return nd.__version__, variants


def engine_numpy_fd():
    def variants(case: str, x: np.ndarray) -> list[Variant]:
        if case.startswith("grad10"):
            f = rosen_np if case.endswith("rosen") else trans_np
            return [
                Variant(
                    "numpy central diff",
                    lambda: central_gradient(f, x),
                    approx=True,
                    note="2n points, one batched call",
                )
            ]
        return []

    return np.__version__, variants


def engine_scipy():
    import scipy
    from scipy.optimize import rosen_der, rosen_hess

    def variants(case: str, x: np.ndarray) -> list[Variant]:
        if case == "grad10-rosen":
            return [Variant("scipy rosen_der", lambda: rosen_der(x), note="hand-written: floor")]
        if case == "hess100-rosen":
            return [Variant("scipy rosen_hess", lambda: rosen_hess(x), note="hand-written: floor")]
        return []

    return scipy.__version__, variants


LOADERS = {
    "calcml": engine_calcml,
    "autograd": engine_autograd,
    "jax": engine_jax,
    "torch": engine_torch,
    "numdifftools": engine_numdifftools,
    "numpy-fd": engine_numpy_fd,
    "scipy": engine_scipy,
}


# -- the worker ---------------------------------------------------------------------------


def _loop(call: Callable[[], Any], n: int) -> tuple[int, int]:
    """Wall time and CPU time (ns) of ``n`` back-to-back calls.

    CPU time is the whole process's (``process_time_ns``), not the calling thread's as
    in ``_harness``: JAX and PyTorch may hand work to threads of their own, and each
    engine is alone in its process, so the process's CPU time is the engine's.
    """
    r = range(n)
    cpu = process_time_ns()
    start = perf_counter_ns()
    for _ in r:
        call()
    wall = perf_counter_ns() - start
    return wall, process_time_ns() - cpu


class Worker:
    def __init__(self, engine: str, out: Path, target_ms: float) -> None:
        self.engine, self.out, self.target_ms = engine, out, target_ms
        hidden = {n.strip() for n in os.environ.get("AD_BENCH_HIDE", "").split(",")}
        if engine in hidden:
            raise ImportError(f"No module named {engine!r} (hidden by AD_BENCH_HIDE)")
        self.version, self._variants = LOADERS[engine]()
        self.cases: dict[str, list[Variant]] = {}
        self.iterations: dict[tuple[str, str], int] = {}

    def setup(self, case: str) -> dict:
        x = inputs(case)
        rows = []
        try:
            variants = self._variants(case, x)
        except Exception as err:  # reported, the benchmark carries on
            return {"variants": [], "error": f"{type(err).__name__}: {err}"}
        kept = []
        for k, v in enumerate(variants):
            row = {
                "label": v.label,
                "role": v.role,
                "pair": v.pair,
                "approx": v.approx,
                "slow": v.slow,
                "jit": v.jit,
                "note": v.note,
            }
            try:
                start = time.perf_counter_ns()
                result = v.call()  # the first call: imports, caches, JIT compilation
                row["first_ms"] = (time.perf_counter_ns() - start) / 1e6
                path = self.out / f"{self.engine}__{k}__{case}.npy"
                np.save(path, to_numpy(result))
                row["file"] = str(path)
                if v.slow:
                    n = 1
                else:
                    # A few more calls before calibrating: JAX's eager mode, for one, is
                    # still slower on its second call than later.
                    start = time.perf_counter_ns()
                    for _ in range(3):
                        v.call()
                        if time.perf_counter_ns() - start > 300e6:
                            break
                    n = calibrate(v.call, self.target_ms)
                row["iterations"] = n
                self.iterations[(case, v.label)] = n
                kept.append(v)
            except Exception as err:  # one failing variant does not stop the others
                row["error"] = f"{type(err).__name__}: {err}"
            rows.append(row)
        self.cases[case] = kept
        return {"variants": rows}

    def measure(self, case: str, round_: int, slow: bool) -> dict:
        variants = [v for v in self.cases.get(case, []) if slow or not v.slow]
        if not variants:
            return {}
        shift = round_ % len(variants)
        order = variants[shift:] + variants[:shift]
        times = {}
        for v in order:
            n = self.iterations[(case, v.label)]
            gc.collect()
            wall, cpu = _loop(v.call, n)
            times[v.label] = [wall / n, cpu / n]
        return times


def serve(engine: str, out: Path, target_ms: float) -> None:
    # The protocol owns the real stdout; anything a library prints goes to stderr.
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: object) -> None:
        channel.write(json.dumps(obj) + "\n")
        channel.flush()

    try:
        worker = Worker(engine, out, target_ms)
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


def one_shot(args: argparse.Namespace) -> None:
    """Measure one engine on one case alone (no peers, no rounds): for a quick look."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"ad_peers_{os.getpid()}"
    out.mkdir(exist_ok=True)
    worker = Worker(args.engine, out, args.target_ms)
    info = worker.setup(args.case)
    print(f"{args.engine} {worker.version}: {CASES[args.case]}")
    if "error" in info:
        print("error:", info["error"])
    for row in info["variants"]:
        print(
            f"  {row['label']}: first call {row.get('first_ms', float('nan')):.3f} ms, "
            f"{row.get('iterations', '-')} iterations per sample {row.get('error', '')}"
        )
    samples: dict[str, list[float]] = {}
    for r in range(args.samples):
        for label, (wall, _cpu) in worker.measure(args.case, r, slow=True).items():
            samples.setdefault(label, []).append(wall)
    for label, walls in samples.items():
        print(
            f"  {label:<24} median {statistics.median(walls) / 1e3:12,.1f} us "
            f"over {len(walls)} samples"
        )
    if args.profile:
        import cProfile
        import pstats

        for v in worker.cases[args.case]:
            n = max(1, worker.iterations[(args.case, v.label)] * 5)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(n):
                v.call()
            profile.disable()
            print(f"\ncProfile of {v.label}, {n} calls, sorted by own time:")
            pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    for f in out.iterdir():
        f.unlink()
    out.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("case", nargs="?", choices=list(CASES))
    parser.add_argument("--serve", action="store_true", help="answer commands on stdin")
    parser.add_argument("--out", type=Path, help="folder for the results (with --serve)")
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=9, help="one-shot mode: samples")
    parser.add_argument("--profile", action="store_true", help="one-shot mode: cProfile")
    args = parser.parse_args()
    if args.serve:
        serve(args.engine, args.out, args.target_ms)
    elif args.case:
        one_shot(args)
    else:
        parser.error("give a CASE, or --serve")


if __name__ == "__main__":
    main()
