"""Worker of ``bench_ad.py``: one differentiation engine, alone in its own process.

``bench_ad.py`` starts one long-lived worker per engine (calcml, autograd, jax, torch,
numdifftools, numpy-fd, scipy), because PyTorch and JAX slow each other down when they
share a process (thread pools, allocators). A worker imports only its own library and
answers one command per line on stdin with one JSON line on stdout (the protocol, and
the driver's end of it, are in ``_workers.py``):

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
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from _harness import calibrate
from _workers import (
    Worker,
    dist_version,
    loop,
    print_profile,
    print_setup,
    profile_calls,
    scratch_dir,
    warm_up,
    worker_main,
    worker_parser,
)

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

    return dist_version("autograd"), variants


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


# -- the worker: the shared protocol (_workers.Worker), with this benchmark's variants -----


class AdWorker(Worker):
    """A variant's loop is ``call``, n times; numdifftools' 100-D Hessian is slow."""

    loaders = LOADERS
    hide_variable = "AD_BENCH_HIDE"

    def build(self, case: str) -> list[Variant]:
        return self.make_variants(case, inputs(case))

    def describe(self, v: Variant) -> dict:
        return {
            "label": v.label,
            "role": v.role,
            "pair": v.pair,
            "approx": v.approx,
            "slow": v.slow,
            "jit": v.jit,
            "note": v.note,
        }

    def first_call(self, case: str, k: int, v: Variant, row: dict) -> None:
        start = time.perf_counter_ns()
        result = v.call()  # the first call: imports, caches, JIT compilation
        row["first_ms"] = (time.perf_counter_ns() - start) / 1e6
        path = self.result_path(case, k, ".npy")
        np.save(path, to_numpy(result))
        row["file"] = str(path)

    def loop_length(self, v: Variant) -> int:
        if v.slow:
            return 1
        warm_up(v.call, 3)  # JAX's eager mode, for one, is slower on its second call
        return calibrate(v.call, self.target_ms)

    def time_loop(self, case: str, v: Variant) -> list[float]:
        n = self.iterations[(case, v.label)]
        gc.collect()
        wall, cpu = loop(v.call, n)
        return [wall / n, cpu / n]

    def is_slow(self, v: Variant) -> bool:
        return v.slow


def one_shot(args: argparse.Namespace) -> None:
    """Measure one engine on one case alone (no peers, no rounds): for a quick look."""
    with scratch_dir("ad_peers") as out:
        worker = AdWorker(args.engine, out, args.target_ms)
        print_setup(worker, args.case, CASES[args.case], "call", "iterations")
        for label, rows in worker.samples(args.case, args.samples).items():
            walls = [row[0] for row in rows]
            print(
                f"  {label:<24} median {statistics.median(walls) / 1e3:12,.1f} us "
                f"over {len(walls)} samples"
            )
        if args.profile:
            for v in worker.cases[args.case]:
                n = profile_calls(worker, args.case, v)
                print_profile(v.call, n, f"\ncProfile of {v.label}, {n} calls, sorted by own time:")


def main() -> None:
    parser = worker_parser(__doc__.splitlines()[0], ENGINES, CASES)
    worker_main(parser, AdWorker, one_shot)


if __name__ == "__main__":
    main()
