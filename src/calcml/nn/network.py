"""Dense layers and the multilayer perceptron: a = f(z), z = a_prev W^T + b, layer after
layer.

Rows of X are samples: a layer with ``weight`` W (n_out, n_in) and ``bias`` b (n_out,)
maps activations (N, n_in) to (N, n_out). Weights start from a seeded initialiser
(Glorot's uniform for sigmoid, tanh and softmax, He's for relu and softplus), so the
same seed gives the same network, and a network saves to and loads from one ``.npz``.

>>> net = MLP([1, 6, 7, 2], activation="sigmoid", seed=0)
>>> [layer.weight.shape for layer in net.layers]
[(6, 1), (7, 6), (2, 7)]
>>> net(np.zeros((3, 1))).shape
(3, 2)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .activations import Activation, activation

#: Initialisers: the standard deviation of the uniform or normal weights, by name.
INITIALISERS = ("glorot", "he", "normal")


@dataclass
class Dense:
    """One fully connected layer: a = f(a_prev W^T + b)."""

    weight: np.ndarray  # (n_out, n_in)
    bias: np.ndarray  # (n_out,)
    act: Activation

    @property
    def activation(self) -> str:
        return self.act.name

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    def __call__(self, a: Any) -> Any:
        return self.act.f(a @ self.weight.T + self.bias)


class MLP:
    """A multilayer perceptron with layer sizes ``sizes`` (inputs first).

    ``activation`` is used by every hidden layer; ``output_activation`` by the last
    (None: the same as the hidden ones). ``seed`` fixes the initial weights; ``init``
    is "auto" (Glorot for sigmoid/tanh/softmax, He for relu/softplus), "glorot", "he"
    or "normal" (N(0, 1): the course's random start).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        output_activation: str | None = None,
        seed: int | None = 0,
        init: str = "auto",
    ) -> None:
        sizes = _check_sizes(sizes)
        hidden = _activation(activation)
        out = _activation(output_activation) if output_activation is not None else hidden
        if init != "auto" and init not in INITIALISERS:
            raise CalcmlError(f"init must be 'auto' or one of {', '.join(INITIALISERS)}")
        rng = np.random.default_rng(seed)
        self.layers: list[Dense] = []
        for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            act = out if k == len(sizes) - 2 else hidden
            scheme = init if init != "auto" else _default_init(act)
            self.layers.append(Dense(_weights(rng, scheme, n_in, n_out), np.zeros(n_out), act))
        self.seed = seed

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in, *(layer.n_out for layer in self.layers)]

    def __repr__(self) -> str:
        acts = "-".join(layer.activation for layer in self.layers)
        return f"MLP({self.sizes}, activations {acts})"

    def __call__(self, X: Any) -> np.ndarray:
        """The outputs (N, n_out) for the inputs X (N, n_in); a 1-D X is one column."""
        a = as_inputs(X, self.sizes[0])
        for layer in self.layers:
            a = layer(a)
        return a

    def parameters(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...]: the arrays themselves (optimisers update them in place)."""
        out = []
        for layer in self.layers:
            out += [layer.weight, layer.bias]
        return out

    @property
    def n_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def copy(self) -> MLP:
        twin = object.__new__(MLP)
        twin.layers = [Dense(d.weight.copy(), d.bias.copy(), d.act) for d in self.layers]
        twin.seed = self.seed
        return twin

    # -- saving ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save weights, biases and activations to ``path`` (.npz)."""
        path = Path(path)
        arrays: dict[str, Any] = {"activations": np.array([d.activation for d in self.layers])}
        for i, layer in enumerate(self.layers):
            arrays[f"W{i}"], arrays[f"b{i}"] = layer.weight, layer.bias
        np.savez(path, **arrays)
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> MLP:
        """A network saved by :meth:`save`."""
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                names = [str(a) for a in data["activations"]]
                arrays = [(data[f"W{i}"], data[f"b{i}"]) for i in range(len(names))]
            layers = [
                Dense(np.asarray(w, dtype=float), np.asarray(b, dtype=float), activation(n))
                for (w, b), n in zip(arrays, names, strict=True)
            ]
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise CalcmlError(f"{path} is not a network saved by calcml: {err}") from None
        for i, layer in enumerate(layers):
            w, b = layer.weight, layer.bias
            if w.ndim != 2 or b.shape != (w.shape[0],) or w.size == 0:
                raise CalcmlError(
                    f"{path}: layer {i} has a weight of shape {w.shape} and a bias of shape "
                    f"{b.shape}; they must be (n_out, n_in) and (n_out,)"
                )
        for prev, nxt in itertools.pairwise(layers):
            if prev.n_out != nxt.n_in:
                raise CalcmlError(f"{path}: the layers' shapes do not fit together")
        net = object.__new__(cls)
        net.layers, net.seed = layers, None
        return net


def _default_init(act: Activation) -> str:
    """He's initialiser for the rectifiers, Glorot's for the rest."""
    return "he" if act.name in ("relu", "softplus") else "glorot"


def _activation(name: Any) -> Activation:
    return activation(name)


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    try:
        out = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise CalcmlError(
            f"sizes must be whole numbers, such as [1, 6, 7, 2], not {sizes!r}"
        ) from None
    if len(out) < 2 or any(s < 1 for s in out) or any(int(s) != s for s in sizes):
        raise CalcmlError(
            "sizes must be at least two positive whole numbers (inputs, ..., outputs), "
            f"not {list(sizes)}"
        )
    return out


def _weights(rng: np.random.Generator, scheme: str, n_in: int, n_out: int) -> np.ndarray:
    if scheme == "normal":
        return rng.standard_normal((n_out, n_in))
    if scheme == "he":
        return rng.normal(0.0, math.sqrt(2.0 / n_in), (n_out, n_in))
    limit = math.sqrt(6.0 / (n_in + n_out))  # Glorot and Bengio's uniform
    return rng.uniform(-limit, limit, (n_out, n_in))


def as_inputs(X: Any, n_in: int) -> np.ndarray:
    """X as a float array (N, n_in), with a clear error when it does not fit."""
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.shape[1] == n_in
        and X.dtype == np.float64
        and np.isfinite(X).all()
    ):
        return X
    try:
        a = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError("X must be numbers: rows are samples, columns are inputs") from None
    if a.ndim == 1 and n_in == 1:
        a = a[:, None]
    elif a.ndim == 1 and a.shape[0] == n_in:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != n_in:
        raise CalcmlError(
            f"X has shape {a.shape}, but the network takes {n_in} input(s): rows are samples, "
            f"so X must be (N, {n_in})"
        )
    if not np.all(np.isfinite(a)):
        row = int(np.argmin(np.all(np.isfinite(a), axis=1)))
        raise CalcmlError(f"X holds a value that is not finite (in row {row})")
    return a
