"""Worked examples: a network that learns to draw a closed curve, and one that reads
handwritten digits.

* :func:`curve_demo`: the classic 1-6-7-2 sigmoid network of the course. Its one input
  is a parameter t in [0, 1]; its two outputs are the point (x, y) of a closed curve (a
  heart) at t. Trained by gradient descent (Adam) on 100 points, it draws the whole
  curve; snapshots of its drawing are kept along the way.
* :func:`digits_demo`: the 8 x 8 handwritten digits that scikit-learn ships (1,797
  images; an optional extra: ``pip install calcml[demos]``), a 64-32-10 network with a
  softmax output and cross-entropy, trained on three quarters of them and tested on the
  rest: about 98 % of the test digits right, with the confusion matrix.

>>> demo = curve_demo(epochs=300, progress=False)
>>> demo.history.loss[-1] < demo.history.loss[0]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .network import MLP
from .train import History, train

#: The names ``calcml nn demo NAME`` accepts.
DEMOS = ("curve", "digits")


def heart(t: np.ndarray) -> np.ndarray:
    """Points (x, y) of the heart curve at angles t (a classic closed curve)."""
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.column_stack([x, y])


@dataclass
class CurveDemo:
    """The curve demo: the inputs t, the target points, the trained network, its
    history, and its drawings at some epochs (epoch -> outputs on t)."""

    t: np.ndarray
    target: np.ndarray
    net: MLP
    history: History
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def rms_error(self) -> float:
        """Root-mean-square distance between the drawn and the true points."""
        return float(np.sqrt(np.mean(np.sum((self.net(self.t) - self.target) ** 2, axis=1))))


def curve_demo(
    epochs: int = 5000,
    points: int = 100,
    seed: int = 0,
    lr: float = 0.01,
    progress: bool = True,
    snapshot_epochs: tuple[int, ...] = (0, 100, 500, 2000),
) -> CurveDemo:
    """Train the 1-6-7-2 sigmoid network to draw a heart (outputs scaled into the
    sigmoid's range, [0.1, 0.9]); full-batch Adam, mean squared error."""
    t = np.linspace(0.0, 1.0, points)[:, None]
    xy = heart(2 * np.pi * t[:, 0])
    low, high = xy.min(axis=0), xy.max(axis=0)
    target = 0.1 + 0.8 * (xy - low) / (high - low)
    net = MLP([1, 6, 7, 2], activation="sigmoid", seed=seed)
    snapshots = {0: net(t)} if 0 in snapshot_epochs else {}

    def keep(epoch: int, net: MLP, loss: float) -> None:
        if epoch + 1 in snapshot_epochs:
            snapshots[epoch + 1] = net(t)

    history = train(
        net,
        t,
        target,
        loss="mse",
        optimizer="adam",
        lr=lr,
        epochs=epochs,
        progress=progress,
        callback=keep,
    )
    snapshots[epochs] = net(t)
    return CurveDemo(t, target, net, history, snapshots)


@dataclass
class DigitsDemo:
    """The digits demo: the trained network, its history (with the test loss as the
    validation loss), the test images and labels, and how well it reads them."""

    net: MLP
    history: History
    x_test: np.ndarray
    y_test: np.ndarray
    predicted: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.y_test))

    @property
    def confusion(self) -> np.ndarray:
        """confusion[i, j]: how many test images of digit i were read as j."""
        out = np.zeros((10, 10), dtype=int)
        np.add.at(out, (self.y_test, self.predicted), 1)
        return out


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8 x 8 digit images of scikit-learn (pixels scaled to [0, 1]) and their
    labels; a clear error when scikit-learn is not installed."""
    try:
        from sklearn.datasets import load_digits as sk_load
    except ImportError:
        raise CalcmlError(
            "the digits demo needs scikit-learn, which ships the images: "
            "pip install 'calcml[demos]' (or pip install scikit-learn)"
        ) from None
    data = sk_load()
    return np.asarray(data.data, dtype=float) / 16.0, np.asarray(data.target, dtype=int)


def digits_demo(
    hidden: int = 32,
    epochs: int = 60,
    batch_size: int = 32,
    lr: float = 0.01,
    seed: int = 0,
    progress: bool = True,
    data: tuple[np.ndarray, np.ndarray] | None = None,
) -> DigitsDemo:
    """Train a 64-hidden-10 network on 3/4 of the digits (seeded split), test on 1/4."""
    x, y = data if data is not None else load_digits()
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = len(y) // 4
    test, training = order[:n_test], order[n_test:]
    net = MLP(
        [x.shape[1], hidden, 10], activation="sigmoid", output_activation="softmax", seed=seed
    )
    history = train(
        net,
        x[training],
        y[training],
        loss="cross_entropy",
        optimizer="adam",
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        progress=progress,
        seed=seed,
        validation=(x[test], y[test]),
    )
    predicted = np.argmax(net(x[test]), axis=1)
    return DigitsDemo(net, history, x[test], y[test], predicted)


def run_demo(name: str, **options: Any) -> CurveDemo | DigitsDemo:
    """A demo by name ("curve" or "digits")."""
    if name == "curve":
        return curve_demo(**options)
    if name == "digits":
        return digits_demo(**options)
    raise CalcmlError(f"unknown demo {name!r}: the demos are {', '.join(DEMOS)}")
