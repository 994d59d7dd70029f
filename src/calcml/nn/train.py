"""Training: optimisers, mini-batches, and the history of the loss.

Each step takes a batch, computes the gradients of the loss (by the explicit
backpropagation equations of :mod:`calcml.nn.backprop`, or with ``engine="ad"`` by
``calcml.ad`` on the same loss; the two agree to rounding), and moves every weight and
bias downhill:

* ``"sgd"``: p <- p - lr g;
* ``"momentum"``: v <- beta v + g, p <- p - lr v (a heavy ball that keeps going);
* ``"adam"``: steps scaled by running estimates of the gradient's mean and size.

>>> import numpy as np
>>> from calcml.nn.network import MLP
>>> X = np.linspace(-1, 1, 20)[:, None]; Y = X ** 2
>>> net = MLP([1, 8, 1], activation="tanh", output_activation="identity", seed=0)
>>> hist = train(net, X, Y, lr=0.1, epochs=200, optimizer="adam", progress=False)
>>> hist.loss[-1] < hist.loss[0] / 10
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .backprop import forward, output_and_hidden_errors
from .losses import Loss, as_targets, get_loss
from .network import MLP, as_inputs

# -- optimisers ----------------------------------------------------------------------------


class SGD:
    """p <- p - lr g.

    Every optimiser works in scratch arrays of its own, allocated once: a fresh
    weight-sized temporary per step makes the allocator hand memory back to the system
    and fault it in again (twice the time of a step, measured on a 784-128-10 net); the
    gradients it is given are left as they are."""

    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr = params, lr
        self.work = [np.empty_like(p) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        lr = self.lr
        for p, g, w in zip(self.params, grads, self.work, strict=True):
            np.multiply(g, lr, out=w)
            p -= w


class Momentum:
    """v <- beta v + g; p <- p - lr v (PyTorch's form of heavy-ball momentum)."""

    def __init__(self, params: list[np.ndarray], lr: float, beta: float = 0.9) -> None:
        self.params, self.lr, self.beta = params, lr, beta
        self.velocity = [np.zeros_like(p) for p in params]
        self.work = [np.empty_like(p) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        for p, v, g, w in zip(self.params, self.velocity, grads, self.work, strict=True):
            v *= self.beta
            v += g
            np.multiply(v, self.lr, out=w)
            p -= w


class Adam:
    """Kingma and Ba's Adam: m and v, running means of g and g^2, corrected for their
    start at zero; p <- p - lr m_hat / (sqrt(v_hat) + eps)."""

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr = params, lr
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.work = [np.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t  # the corrections of the zero start
        for p, m, v, g, w in zip(self.params, self.m, self.v, grads, self.work, strict=True):
            np.multiply(g, 1 - b1, out=w)
            m *= b1
            m += w  # m <- b1 m + (1 - b1) g
            np.multiply(g, g, out=w)
            w *= 1 - b2
            v *= b2
            v += w  # v <- b2 v + (1 - b2) g^2
            np.divide(v, c2, out=w)
            np.sqrt(w, out=w)
            w += self.eps
            np.divide(m, w, out=w)
            w *= self.lr / c1
            p -= w  # p <- p - lr m_hat / (sqrt(v_hat) + eps)


OPTIMIZERS: dict[str, Callable[..., Any]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


# -- the history -----------------------------------------------------------------------------


@dataclass
class History:
    """The loss after each epoch (the mean over its batches), the validation loss when
    validation data were given, and how the training was set up."""

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    optimizer: str = ""
    lr: float = 0.0
    batch_size: int | None = None
    loss_name: str = ""  # "mse" or "cross_entropy"

    def __repr__(self) -> str:
        last = f"{self.loss[-1]:.6g}" if self.loss else "-"
        val = f", validation {self.val_loss[-1]:.6g}" if self.val_loss else ""
        return (
            f"History({self.epochs} epochs, {self.steps} steps, {self.optimizer} lr={self.lr:g}: "
            f"loss {self.loss[0]:.6g} -> {last}{val})"
            if self.loss
            else "History(empty)"
        )


# -- training ----------------------------------------------------------------------------------


def train(
    net: MLP,
    X: Any,
    Y: Any,
    loss: str = "mse",
    optimizer: str = "sgd",
    lr: float = 0.5,
    epochs: int = 1000,
    batch_size: int | None = None,
    progress: bool = True,
    validation: tuple[Any, Any] | None = None,
    seed: int | None = 0,
    shuffle: bool = True,
    engine: str = "backprop",
    callback: Callable[[int, MLP, float], Any] | None = None,
) -> History:
    """Train ``net`` in place on (X, Y); returns the :class:`History` of the loss.

    ``batch_size`` None means the whole set in every step (batch gradient descent);
    otherwise the samples are shuffled (seeded) each epoch and taken ``batch_size`` at a
    time. ``validation`` = (X_val, Y_val) records the validation loss after each epoch.
    ``callback(epoch, net, loss)`` is called after each epoch (for figures of learning).
    ``progress`` shows a progress bar on stderr.
    """
    a0 = as_inputs(X, net.sizes[0])
    y = as_targets(Y, a0.shape[0], net.sizes[-1], loss)
    spec = get_loss(loss, net.layers[-1].act)
    _check_settings(optimizer, lr, epochs, batch_size, engine, a0.shape[0])
    val = None
    if validation is not None:
        xv = as_inputs(validation[0], net.sizes[0])
        val = (xv, as_targets(validation[1], xv.shape[0], net.sizes[-1], loss))
    opt = OPTIMIZERS[optimizer](net.parameters(), lr)
    gradient = _backprop_step if engine == "backprop" else _ad_step
    history = History(optimizer=optimizer, lr=lr, batch_size=batch_size, loss_name=loss)
    rng = np.random.default_rng(seed)
    n = a0.shape[0]
    size = n if batch_size is None else min(batch_size, n)
    start = time.perf_counter()
    with _Progress(epochs, progress) as bar:
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle and size < n else None
            total = 0.0
            for lo in range(0, n, size):
                if order is None:
                    xb, yb = (a0, y) if size == n else (a0[lo : lo + size], y[lo : lo + size])
                else:
                    idx = order[lo : lo + size]
                    xb, yb = a0[idx], y[idx]
                value, grads = gradient(net, xb, yb, spec)
                if not np.isfinite(value):
                    raise CalcmlError(
                        f"the loss became {value} at epoch {epoch + 1}: the steps diverged; "
                        f"try a smaller learning rate than {lr:g}"
                    )
                opt.step(grads)
                total += value * xb.shape[0]
                history.steps += 1
            history.loss.append(total / n)
            if val is not None:
                history.val_loss.append(evaluate(net, val[0], val[1], spec))
            history.epochs = epoch + 1
            if callback is not None:
                callback(epoch, net, history.loss[-1])
            bar.advance(history.loss[-1])
    history.seconds = time.perf_counter() - start
    return history


def _check_settings(
    optimizer: str, lr: float, epochs: int, batch_size: int | None, engine: str, n: int
) -> None:
    if optimizer not in OPTIMIZERS:
        raise CalcmlError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
    if not (isinstance(lr, int | float) and np.isfinite(lr) and lr > 0):
        raise CalcmlError(f"lr must be a positive number, not {lr!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise CalcmlError(f"epochs must be a whole number >= 0, not {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise CalcmlError(f"batch_size must be a positive whole number or None, not {batch_size!r}")
    if engine not in ("backprop", "ad"):
        raise CalcmlError(f"engine must be 'backprop' or 'ad', not {engine!r}")
    if n == 0:
        raise CalcmlError("there are no samples to train on")


def evaluate(net: MLP, a0: np.ndarray, y: np.ndarray, spec: Loss) -> float:
    """The loss of ``net`` on prepared inputs and targets."""
    zs, acts = forward(net, a0)
    return float(spec.value(zs[-1], acts[-1], y, net.layers[-1].act))


def _backprop_step(
    net: MLP, a0: np.ndarray, y: np.ndarray, spec: Loss
) -> tuple[float, list[np.ndarray]]:
    """The loss and [dW1, db1, ...] by the backpropagation equations (the training
    loop's hot path)."""
    zs, acts = forward(net, a0)
    deltas = output_and_hidden_errors(net, zs, acts, y, spec)
    grads = []
    for delta, a_prev in zip(deltas, acts, strict=False):
        grads.append(delta.T @ a_prev)
        grads.append(np.add.reduce(delta, axis=0))
    return spec.plain_value(zs[-1], acts[-1], y, net.layers[-1].act), grads


def _ad_step(net: MLP, a0: np.ndarray, y: np.ndarray, spec: Loss) -> tuple[float, list[np.ndarray]]:
    """The loss and [dW1, db1, ...] by calcml.ad on the same loss."""
    from ..ad import value_and_grad

    layers = net.layers

    def cost(*params: Any) -> Any:
        a = z = a0
        for k, layer in enumerate(layers):
            z = a @ params[2 * k].T + params[2 * k + 1]
            a = layer.act.f(z)
        return spec.value(z, a, y, layers[-1].act)

    params = net.parameters()
    value, grads = value_and_grad(cost, argnums=tuple(range(len(params))))(*params)
    return float(value), [np.asarray(g) for g in grads]


class _Progress:
    """A rich progress bar on stderr (updated at most every 1 % of the epochs), or
    nothing."""

    def __init__(self, epochs: int, show: bool) -> None:
        self.show, self.epochs = show and epochs > 0, epochs
        self.every = max(1, epochs // 100)
        self.count = 0

    def __enter__(self) -> _Progress:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("training"),
                BarColumn(),
                TextColumn("epoch {task.completed}/{task.total}  loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("train", total=self.epochs, loss="-")
        return self

    def advance(self, loss: float) -> None:
        self.count += 1
        if self.show and (self.count % self.every == 0 or self.count == self.epochs):
            self.bar.update(self.task, completed=self.count, loss=f"{loss:.4g}")

    def __exit__(self, *exc: Any) -> None:
        if self.show:
            self.bar.stop()
