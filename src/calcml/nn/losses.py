"""Losses: how far the network's outputs are from the targets, and the error of the
output layer, dC/dz_L, that backpropagation starts from.

* ``"mse"``: C = mean over all N x K entries of (a - y)^2, so dC/da = 2 (a - y) / (N K)
  and dC/dz_L = dC/da * f'(z_L) (for softmax, its Jacobian-vector product).
* ``"cross_entropy"``: with a softmax output, C = -(1/N) sum y ln a (targets one-hot, or
  class labels 0..K-1); with a sigmoid output, C = -(1/N) sum [y ln a + (1 - y) ln(1 - a)];
  with an identity output the outputs are logits (softmax inside, as PyTorch's
  CrossEntropyLoss). In all three the output error is the classic (a - y) / N (for
  softmax, when each target row sums to 1): the derivative of the log cancels the
  activation's. Values are computed from z
  (log-sum-exp, softplus), so a saturated output gives a large loss, never inf or nan.

>>> import numpy as np
>>> a = np.array([[0.5, 0.5]]); y = np.array([[1.0, 0.0]])
>>> float(LOSSES["mse"].value(a, a, y, None))
0.25
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import numpy as cnp
from ..errors import CalcmlError
from .activations import Activation


@dataclass(frozen=True)
class Loss:
    """value(z, a, y, act) -> C; error(z, a, y, act) -> dC/dz of the output layer."""

    name: str
    value: Callable[..., float]
    error: Callable[..., np.ndarray]
    formula: str

    def plain_value(self, z: np.ndarray, a: np.ndarray, y: np.ndarray, act: Activation) -> float:
        """The value on plain arrays, as a float (the training loop's faster path)."""
        if self.name == "mse":
            d = a - y
            return float(np.vdot(d, d)) / d.size
        return float(self.value(z, a, y, act))


def _mse_value(z: Any, a: Any, y: Any, act: Activation | None) -> Any:
    d = a - y
    return cnp.mean(d * d)


def _mse_error(z: np.ndarray, a: np.ndarray, y: np.ndarray, act: Activation) -> np.ndarray:
    return act.backward(z, a, (2.0 / a.size) * (a - y))


def _ce_value(z: Any, a: Any, y: Any, act: Activation | None) -> Any:
    n = cnp.shape(z)[0]
    name = act.name if act is not None else "softmax"
    if name in ("softmax", "identity"):  # -(1/N) sum y (z - logsumexp z)
        log_a = z - cnp.logsumexp(z, axis=-1, keepdims=True)
        return -cnp.sum(y * log_a) / n
    # sigmoid: -(y ln a + (1 - y) ln(1 - a)) = softplus(z) - y z
    return cnp.sum(cnp.softplus(z) - y * z) / n


def _ce_error(z: np.ndarray, a: np.ndarray, y: np.ndarray, act: Activation) -> np.ndarray:
    if act.name == "sigmoid":
        return (a - y) / z.shape[0]
    if act.name == "identity":  # logits: the softmax is part of the loss
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        a = e / e.sum(axis=-1, keepdims=True)
    # d/dz of -sum y ln softmax(z) is a sum(y) - y: the classic a - y when each row of
    # y sums to 1 (one-hot or a distribution), and still right when it does not
    return (a * y.sum(axis=-1, keepdims=True) - y) / z.shape[0]


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", _mse_value, _mse_error, "C = mean((a - y)^2)"),
    "cross_entropy": Loss(
        "cross_entropy", _ce_value, _ce_error, "C = -(1/N) sum y ln a (softmax or sigmoid outputs)"
    ),
}

#: Output activations cross-entropy works with.
CROSS_ENTROPY_OUTPUTS = ("softmax", "sigmoid", "identity")


def get_loss(name: str, output: Activation) -> Loss:
    """The loss called ``name``, checked against the output layer's activation."""
    if name not in LOSSES:
        raise CalcmlError(f"unknown loss {name!r}: use one of {', '.join(LOSSES)}")
    if name == "cross_entropy" and output.name not in CROSS_ENTROPY_OUTPUTS:
        raise CalcmlError(
            f"cross_entropy needs a softmax or sigmoid output layer (or identity, for "
            f"logits), not {output.name}: use output_activation='softmax'"
        )
    return LOSSES[name]


def as_targets(Y: Any, n: int, k: int, loss: str) -> np.ndarray:
    """Targets as a float array (N, K); class labels 0..K-1 become one-hot rows for
    cross-entropy."""
    try:
        y = np.asarray(Y)
    except (TypeError, ValueError):
        raise CalcmlError("Y must be numbers") from None
    if loss == "cross_entropy" and y.ndim == 1 and k > 1:
        labels = y
        if not np.issubdtype(labels.dtype, np.integer):
            if not np.all(labels == np.round(labels)):
                raise CalcmlError("class labels must be whole numbers 0..K-1")
            labels = labels.astype(int)
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise CalcmlError(f"class labels must be between 0 and {k - 1}")
        y = np.eye(k)[labels]
    y = np.asarray(y, dtype=float)
    if y.ndim == 1 and k == 1:
        y = y[:, None]
    if y.shape != (n, k):
        raise CalcmlError(
            f"Y has shape {y.shape}, but the network gives {k} output(s) for {n} sample(s): "
            f"Y must be ({n}, {k})" + (" or class labels (N,)" if loss == "cross_entropy" else "")
        )
    if not np.all(np.isfinite(y)):
        raise CalcmlError("Y holds values that are not finite")
    return y
