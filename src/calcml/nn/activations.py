"""Activation functions, each with the derivative backpropagation needs.

One table: every activation is written once with :mod:`calcml.numpy` (so it runs on
plain arrays at NumPy's speed, and ``calcml.ad`` can differentiate it), beside its
derivative in the form the backward pass uses: given z, a = f(z) and dC/da, return
dC/dz. For the elementwise ones that is dC/da * f'(z), with f' written through a where
that is cheaper (sigmoid' = a (1 - a), tanh' = 1 - a^2); softmax couples its outputs,
so its rule is the Jacobian-vector product a * (g - sum(g a)).

>>> import numpy as np
>>> act = ACTIVATIONS["sigmoid"]
>>> z = np.array([[0.0, 2.0]])
>>> a = act.f(z)
>>> a.round(4).tolist(), act.backward(z, a, np.ones_like(a)).round(4).tolist()
([[0.5, 0.8808]], [[0.25, 0.105]])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import numpy as cnp
from ..errors import CalcmlError


@dataclass(frozen=True)
class Activation:
    """f, and backward(z, a, dC/da) -> dC/dz; ``formula`` and ``derivative`` in words."""

    name: str
    f: Callable[[Any], Any]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    formula: str
    derivative: str


def _relu(z: Any) -> Any:
    # where, not maximum: the slope at 0 is 0 (as PyTorch's), not the 1/2 of a tie
    return cnp.where(z > 0, z, 0.0)


def _softmax_backward(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return a * (g - np.sum(g * a, axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            cnp.sigmoid,
            lambda z, a, g: g * a * (1.0 - a),
            "1 / (1 + e^-z)",
            "a (1 - a)",
        ),
        Activation("tanh", cnp.tanh, lambda z, a, g: g * (1.0 - a * a), "tanh z", "1 - a^2"),
        Activation("relu", _relu, lambda z, a, g: g * (z > 0), "max(z, 0)", "1 if z > 0, else 0"),
        Activation(
            "softplus",
            cnp.softplus,
            lambda z, a, g: g / (1.0 + np.exp(-z)),
            "ln(1 + e^z)",
            "sigmoid(z)",
        ),
        Activation("identity", lambda z: z, lambda z, a, g: g, "z", "1"),
        Activation(
            "softmax",
            lambda z: cnp.softmax(z, axis=-1),
            _softmax_backward,
            "e^z_k / sum_j e^z_j",
            "a_k (delta_kj - a_j)",
        ),
    )
}


def activation(name: str | Activation) -> Activation:
    """The activation called ``name``, with a clear error for unknown names."""
    if isinstance(name, Activation):
        return name
    if name not in ACTIVATIONS:
        raise CalcmlError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
