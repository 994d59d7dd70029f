"""Worker of ``bench_nn.py``: one engine's training step, alone in its own process.

``bench_nn.py`` starts one long-lived worker per engine (calcml, numpy, torch, autograd,
jax), because PyTorch and JAX slow each other down when they share a process. A worker
imports only its own library (the network, its weights and its data are made here with
NumPy, the same in every process) and answers one command per line on stdin with one
JSON line on stdout, as ``ad_peers.py`` does (the protocol, and the driver's end of it, are
in ``_workers.py``):

``setup CASE``
    builds the engine's variants for the case, sets the parameters to the common start,
    makes **one training step** (the first call: imports, caches, JAX's compilation; timed
    and reported apart, never measured) and saves the updated parameters to
    ``OUT/ENGINE__k__CASE.npz`` for the driver's correctness check; then warms up and
    calibrates the variant's loop (about ``--target-ms``).
``measure CASE ROUND``
    resets every variant's parameters to the common start (not timed) and times its loop
    once, in an order of variants rotated by ROUND. Replies [wall ns, CPU ns, minor page
    faults] per training step, for each variant.
``quit``

One timed call is one full training step (forward, backward, update) on the case's fixed
batch; the parameters move from call to call, and every loop starts again from the same
initial parameters, so every measurement follows the same trajectory.

Run alone, for a quick look or a profile:

    python bench/nn_peers.py ENGINE CASE [--samples N] [--target-ms MS] [--profile]
    python bench/nn_peers.py calcml CASE --breakdown    # the step's pieces, each alone

``NN_BENCH_HIDE=torch,jax`` (an environment variable) makes the workers of the named
engines act as if their library were not installed.
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
import resource
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

ENGINES = ("calcml", "numpy", "torch", "autograd", "jax")


@dataclass(frozen=True)
class Case:
    sizes: tuple[int, ...]
    batch: int
    lr: float
    seed: int
    train_epochs: int  # the calcml train() variant: steps per timed call
    title: str


CASES = {
    "tiny": Case(
        (1, 6, 7, 2),
        1,
        0.5,
        1672,
        100,
        "1-6-7-2 net, sigmoid layers, MSE, batch 1, SGD lr 0.5",
    ),
    "784-128-10": Case(
        (784, 128, 10),
        64,
        0.1,
        78410,
        20,
        "784-128-10 net, sigmoid hidden and output, MSE, batch 64, SGD lr 0.1",
    ),
}


def problem(case: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The initial parameters [W1, b1, W2, b2, ...] (W (n_out, n_in), as calcml's and
    torch's layers hold them) and the batch (X, Y): seeded, the same in every process.

    Weights: Glorot's uniform (calcml's default for sigmoid); biases uniform in
    [-0.1, 0.1] (not zero, so that the check covers them). Tiny net: x uniform in
    [-1, 1], targets in [0.1, 0.9]. 784-128-10: inputs uniform in [0, 1] (like scaled
    pixels), one-hot targets of random classes 0..9.
    """
    spec = CASES[case]
    rng = np.random.default_rng(spec.seed)
    params = []
    for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:], strict=True):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params.append(rng.uniform(-limit, limit, (n_out, n_in)))
        params.append(rng.uniform(-0.1, 0.1, n_out))
    n, n_in, n_out = spec.batch, spec.sizes[0], spec.sizes[-1]
    if case == "tiny":
        x = rng.uniform(-1.0, 1.0, (n, n_in))
        y = rng.uniform(0.1, 0.9, (n, n_out))
    else:
        x = rng.uniform(0.0, 1.0, (n, n_in))
        y = np.eye(n_out)[rng.integers(0, n_out, n)]
    return params, x, y


@dataclass
class Variant:
    """One way an engine makes a training step: ``call`` is what is timed.

    ``reset`` puts the engine's parameters back to the common start (not timed);
    ``params`` returns them as NumPy arrays [W1, b1, ...]; ``one_step`` makes exactly one
    training step (default: ``call``; calcml's train() variant makes ``steps`` steps per
    call, and its one step is train(..., epochs=1)).
    """

    label: str
    call: Callable[[], Any]
    reset: Callable[[], None]
    params: Callable[[], list[np.ndarray]]
    steps: int = 1  # training steps per call: times are divided by it
    one_step: Callable[[], Any] | None = None
    jit: bool = False  # the first call includes compilation
    note: str = ""


def _copy_into(dst: list[np.ndarray], src: list[np.ndarray]) -> Callable[[], None]:
    def reset() -> None:
        for d, s in zip(dst, src, strict=True):
            np.copyto(d, s)

    return reset


# -- the engines: each returns (version, variants(case)) -----------------------------------


def engine_calcml():
    import calcml as cm
    from calcml.nn.losses import get_loss
    from calcml.nn.train import OPTIMIZERS, _backprop_step

    def variants(case: str) -> list[Variant]:
        spec = CASES[case]
        init, x, y = problem(case)
        out = []

        def make_net():
            net = cm.nn.MLP(list(spec.sizes), activation="sigmoid", seed=0)
            params = net.parameters()
            assert [p.shape for p in params] == [p.shape for p in init]
            reset = _copy_into(params, init)
            reset()
            return net, params, reset

        # 1. what train() does for one batch: the explicit backprop, then the optimiser
        net, params, reset = make_net()
        loss_spec = get_loss("mse", net.layers[-1].act)
        opt = OPTIMIZERS["sgd"](net.parameters(), spec.lr)

        def step(net=net, loss_spec=loss_spec, opt=opt) -> float:
            value, grads = _backprop_step(net, x, y, loss_spec)
            if not np.isfinite(value):  # train() checks every step's loss
                raise RuntimeError(f"loss became {value}")
            opt.step(grads)
            return value

        out.append(
            Variant(
                "calcml step",
                step,
                reset,
                lambda params=params: [p.copy() for p in params],
                note="train()'s work per batch: _backprop_step + SGD.step",
            )
        )

        # 2. cm.nn.train itself, K epochs of one batch each: total time / K
        net2, params2, reset2 = make_net()
        k = spec.train_epochs

        def run_train(epochs: int, net=net2) -> Any:
            return cm.nn.train(
                net,
                x,
                y,
                loss="mse",
                optimizer="sgd",
                lr=spec.lr,
                epochs=epochs,
                batch_size=spec.batch,
                progress=False,
            )

        out.append(
            Variant(
                "calcml train()",
                lambda: run_train(k),
                reset2,
                lambda params=params2: [p.copy() for p in params2],
                steps=k,
                one_step=lambda: run_train(1),
                note=f"cm.nn.train(epochs={k}, batch_size={spec.batch}) / {k}",
            )
        )

        # 3. a loop a user writes with the public functions: cm.nn.backprop + p -= lr g
        net3, params3, reset3 = make_net()

        def public_step(net=net3) -> None:
            grads = cm.nn.backprop(net, x, y, loss="mse")
            for layer, (dw, db) in zip(net.layers, grads, strict=True):
                layer.weight -= spec.lr * dw
                layer.bias -= spec.lr * db

        out.append(
            Variant(
                "calcml backprop()",
                public_step,
                reset3,
                lambda params=params3: [p.copy() for p in params3],
                note="cm.nn.backprop + p -= lr g (public API)",
            )
        )
        return out

    return cm.__version__, variants


def _sigmoid_np(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def engine_numpy():
    def make(case: str, in_place: bool) -> Variant:
        spec = CASES[case]
        init, x, y = problem(case)
        params = [p.copy() for p in init]
        lr, n_layers = spec.lr, len(params) // 2

        def update(p: np.ndarray, g: np.ndarray) -> None:
            if in_place:  # g is this step's own array: scale it, no temporary
                g *= lr
                p -= g
            else:
                p -= lr * g

        def step() -> float:
            # forward, keeping every activation (a_0 = x)
            acts = [x]
            a = x
            for k in range(n_layers):
                z = a @ params[2 * k].T
                z += params[2 * k + 1]
                a = _sigmoid_np(z)
                acts.append(a)
            d = a - y
            value = float(np.mean(d * d))
            # output error: dC/dz_L = 2 (a - y) / (N K) * a (1 - a)
            delta = (2.0 / a.size) * d * a * (1.0 - a)
            for k in range(n_layers - 1, -1, -1):
                a_prev = acts[k]
                dw = delta.T @ a_prev
                db = delta.sum(axis=0)
                if k:  # the error of the layer below, through this layer's weights
                    delta = (delta @ params[2 * k]) * a_prev * (1.0 - a_prev)
                update(params[2 * k], dw)
                update(params[2 * k + 1], db)
            return value

        return Variant(
            "numpy in-place" if in_place else "numpy",
            step,
            _copy_into(params, init),
            lambda: [p.copy() for p in params],
            note="the same, but g *= lr; p -= g (no lr * g temporary)"
            if in_place
            else "hand-written: forward, loss value, deltas, p -= lr * g",
        )

    def variants(case: str) -> list[Variant]:
        return [make(case, False), make(case, True)]

    return np.__version__, variants


def engine_torch():
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)

    def variants(case: str) -> list[Variant]:
        spec = CASES[case]
        init, x, y = problem(case)
        layers: list[nn.Module] = []
        for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:], strict=True):
            layers += [nn.Linear(n_in, n_out, dtype=torch.float64), nn.Sigmoid()]
        model = nn.Sequential(*layers)
        params = list(model.parameters())  # [W1, b1, W2, b2, ...]
        assert [tuple(p.shape) for p in params] == [p.shape for p in init]
        opt = torch.optim.SGD(params, lr=spec.lr)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)  # float64, no copy

        def reset() -> None:
            with torch.no_grad():
                for p, s in zip(params, init, strict=True):
                    p.copy_(torch.from_numpy(s))
            opt.zero_grad()

        reset()

        def step() -> Any:
            opt.zero_grad()
            loss = F.mse_loss(model(xt), yt)
            loss.backward()
            opt.step()
            return loss

        return [
            Variant(
                "torch eager",
                step,
                reset,
                lambda: [p.detach().numpy().copy() for p in params],
                note="nn.Linear+nn.Sigmoid, mse_loss, backward(), optim.SGD",
            )
        ]

    return torch.__version__, variants


def engine_autograd():
    import autograd
    import autograd.numpy as anp

    def variants(case: str) -> list[Variant]:
        spec = CASES[case]
        init, x, y = problem(case)
        params = [p.copy() for p in init]
        lr = spec.lr

        def loss(ps, x, y):
            a = x
            for k in range(0, len(ps), 2):
                a = 1.0 / (1.0 + anp.exp(-(anp.dot(a, ps[k].T) + ps[k + 1])))
            d = a - y
            return anp.mean(d * d)

        gradient = autograd.grad(loss)  # d loss / d params: a list like params

        def step() -> None:
            for p, g in zip(params, gradient(params, x, y), strict=True):
                p -= lr * g

        return [
            Variant(
                "autograd",
                step,
                _copy_into(params, init),
                lambda: [p.copy() for p in params],
                note="autograd.grad w.r.t. the list of parameters, p -= lr g",
            )
        ]

    return dist_version("autograd"), variants


def engine_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def variants(case: str) -> list[Variant]:
        spec = CASES[case]
        init, x, y = problem(case)
        lr = spec.lr

        def loss(ps, x, y):
            a = x
            for k in range(0, len(ps), 2):
                a = jax.nn.sigmoid(a @ ps[k].T + ps[k + 1])
            d = a - y
            return jnp.mean(d * d)

        def sgd(ps, x, y):
            return [p - lr * g for p, g in zip(ps, jax.grad(loss)(ps, x, y), strict=True)]

        xj, yj = jnp.asarray(x), jnp.asarray(y)  # on the device once, outside the timing
        assert xj.dtype == jnp.float64
        out = []
        for label, donate in (("jax jit", False), ("jax jit donated", True)):
            fn = jax.jit(sgd, donate_argnums=0) if donate else jax.jit(sgd)
            state: dict[str, Any] = {}

            def reset(state=state) -> None:
                state["p"] = [jnp.array(p) for p in init]  # fresh buffers (donation eats them)
                jax.block_until_ready(state["p"])

            def step(fn=fn, state=state) -> Any:
                state["p"] = fn(state["p"], xj, yj)
                return jax.block_until_ready(state["p"])

            reset()
            out.append(
                Variant(
                    label,
                    step,
                    reset,
                    lambda state=state: [np.array(p) for p in state["p"]],
                    jit=True,
                    note="jax.jit((params, x, y) -> new params)"
                    + (", donate_argnums=0" if donate else ""),
                )
            )
        return out

    return jax.__version__, variants


LOADERS = {
    "calcml": engine_calcml,
    "numpy": engine_numpy,
    "torch": engine_torch,
    "autograd": engine_autograd,
    "jax": engine_jax,
}


# -- the worker: the shared protocol (_workers.Worker), with this benchmark's variants -----


class NnWorker(Worker):
    """A variant's loop is n training steps from the common start; it counts page faults."""

    loaders = LOADERS
    hide_variable = "NN_BENCH_HIDE"

    def build(self, case: str) -> list[Variant]:
        return self.make_variants(case)

    def describe(self, v: Variant) -> dict:
        return {"label": v.label, "steps": v.steps, "jit": v.jit, "note": v.note}

    def first_call(self, case: str, k: int, v: Variant, row: dict) -> None:
        v.reset()
        one = v.one_step or v.call
        start = time.perf_counter_ns()
        one()  # the first step: imports, caches, JIT compilation
        row["first_ms"] = (time.perf_counter_ns() - start) / 1e6
        path = self.result_path(case, k, ".npz")
        np.savez(path, *v.params())
        row["file"] = str(path)

    def loop_length(self, v: Variant) -> int:
        if v.one_step is not None:
            v.call()  # the timed call's own first run
        warm_up(v.call, 5)  # JAX and PyTorch settle after a few steps
        v.reset()
        return calibrate(v.call, self.target_ms)

    def time_loop(self, case: str, v: Variant) -> list[float]:
        """[wall ns, CPU ns, minor page faults] per training step."""
        n = self.iterations[(case, v.label)]
        v.reset()  # every loop follows the same trajectory from the same start
        gc.collect()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        wall, cpu = loop(v.call, n)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        steps = n * v.steps
        return [wall / steps, cpu / steps, faults / steps]


def one_shot(args: argparse.Namespace) -> None:
    """Measure one engine on one case alone (no peers, no rounds): for a quick look."""
    with scratch_dir("nn_peers") as out:
        worker = NnWorker(args.engine, out, args.target_ms)
        print_setup(worker, args.case, CASES[args.case].title, "step", "calls")
        for label, rows in worker.samples(args.case, args.samples).items():
            wall, cpu, faults = (statistics.median(col) for col in zip(*rows, strict=True))
            print(
                f"  {label:<20} median {wall / 1e3:10,.1f} us per step "
                f"(cpu {cpu / 1e3:,.1f} us, {faults:,.1f} page faults) over {len(rows)} samples"
            )
        if args.profile:
            for v in worker.cases[args.case]:
                n = profile_calls(worker, args.case, v)
                v.reset()
                heading = f"\ncProfile of {v.label}, {n} calls ({n * v.steps} steps), by own time:"
                print_profile(v.call, n, heading)
        if args.breakdown:
            breakdown(args.case, args.target_ms)


def breakdown(case: str, target_ms: float) -> None:
    """CPU time of each piece of calcml's training step, each timed alone in a loop
    (``_backprop_step`` written out piece by piece, then ``SGD.step``), beside what the
    same piece costs in plain NumPy. Pieces timed alone do not see the page faults of a
    whole step (they depend on what the step frees together)."""
    import calcml as cm
    from calcml.nn.backprop import output_and_hidden_errors
    from calcml.nn.losses import get_loss
    from calcml.nn.train import OPTIMIZERS

    spec = CASES[case]
    init, x, y = problem(case)
    net = cm.nn.MLP(list(spec.sizes), activation="sigmoid", seed=0)
    _copy_into(net.parameters(), init)()
    loss_spec = get_loss("mse", net.layers[-1].act)
    layers, act = net.layers, net.layers[-1].act

    def forward() -> tuple[list[np.ndarray], list[np.ndarray]]:
        zs, acts, a = [], [x], x
        for layer in layers:
            z = a @ layer.weight.T
            z += layer.bias
            a = layer.act.f(z)
            zs.append(z)
            acts.append(a)
        return zs, acts

    zs, acts = forward()
    deltas = output_and_hidden_errors(net, zs, acts, y, loss_spec)
    grads = []
    for delta, a_prev in zip(deltas, acts, strict=False):
        grads += [delta.T @ a_prev, delta.sum(axis=0)]
    z_last, a_last = zs[-1], acts[-1]
    params = [p.copy() for p in init]  # SGD on copies: the same cost, no drift of net
    opt = OPTIMIZERS["sgd"](params, spec.lr)
    scratch = [g.copy() for g in grads]

    def matmuls() -> None:
        a = x
        for layer in layers:
            a = a @ layer.weight.T

    def sigmoid_calcml() -> None:
        for z in zs:
            layers[0].act.f(z)

    def sigmoid_exp() -> None:
        for z in zs:
            _sigmoid_np(z)

    def in_place_sgd() -> None:
        for p, g, s in zip(params, grads, scratch, strict=True):
            np.multiply(g, spec.lr, out=s)
            p -= s

    def mse_plain() -> float:
        d = (a_last - y).ravel()
        return float(d @ d) / d.size

    pieces = [
        (f"forward: {len(layers)} x (a @ W.T, += b, sigmoid)", forward),
        ("  of which a @ W.T alone", matmuls),
        ("  of which calcml's sigmoid (cnp.sigmoid, tanh form)", sigmoid_calcml),
        ("  [plain NumPy 1 / (1 + exp(-z)) on the same z]", sigmoid_exp),
        (
            "loss value: float(mse.value(...)) (calcml.numpy mean)",
            lambda: float(loss_spec.value(z_last, a_last, y, act)),
        ),
        ("  [plain NumPy: d = (a - y).ravel(); d @ d / d.size]", mse_plain),
        (
            "errors: output_and_hidden_errors",
            lambda: output_and_hidden_errors(net, zs, acts, y, loss_spec),
        ),
        (
            "gradients: delta.T @ a_prev, delta.sum(axis=0)",
            lambda: [(d.T @ a, d.sum(axis=0)) for d, a in zip(deltas, acts, strict=False)],
        ),
        ("SGD.step: p -= lr * g", lambda: opt.step(grads)),
        ("  [in place: np.multiply(g, lr, out=buf); p -= buf]", in_place_sgd),
    ]
    print(f"\nBreakdown of calcml's step, {case} (CPU us per call, median of 7 loops):")
    total = 0.0
    for label, fn in pieces:
        fn()
        n = calibrate(fn, target_ms)
        cpu = []
        for _ in range(7):
            gc.collect()
            cpu.append(loop(fn, n)[1] / n / 1e3)
        t = statistics.median(cpu)
        if not label.startswith(" "):
            total += t
        print(f"  {label:<58} {t:10.2f}")
    print(f"  {'sum of the unindented pieces':<58} {total:10.2f}")


def main() -> None:
    parser = worker_parser(__doc__.splitlines()[0], ENGINES, CASES)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="one-shot mode, calcml: CPU time of each piece of the step",
    )
    worker_main(parser, NnWorker, one_shot)


if __name__ == "__main__":
    main()
