"""Backpropagation written out: the multivariate chain rule, one layer at a time.

For layers l = 1..L with z_l = a_(l-1) W_l^T + b_l and a_l = f_l(z_l) (rows are samples):

1. forward: keep every z_l and a_l (a_0 = X);
2. the output error: delta_L = dC/dz_L (for mse: dC/da_L * f_L'(z_L); for cross-entropy
   with softmax or sigmoid outputs: (a_L - y) / N);
3. each earlier error: delta_l = (delta_(l+1) W_(l+1)) * f_l'(z_l), the error sent back
   through the transposed weights, times the activation's slope;
4. the gradients: dC/dW_l = delta_l^T a_(l-1) and dC/db_l = the column sums of delta_l.

These are exactly what ``calcml.ad`` computes for the same loss (the tests check it, and
finite differences too); here each piece can be looked at.

>>> import numpy as np
>>> from calcml.nn.network import MLP
>>> net = MLP([2, 3, 1], seed=1)
>>> g = backprop(net, np.array([[0.5, -1.0]]), np.array([[1.0]]))
>>> [(dw.shape, db.shape) for dw, db in g]
[((3, 2), (3,)), ((1, 3), (1,))]
>>> [d.shape for d in g.deltas]
[(1, 3), (1, 1)]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .losses import Loss, as_targets, get_loss
from .network import MLP, as_inputs


class Gradients(list):
    """[(dW_1, db_1), ..., (dW_L, db_L)], with the pieces of the computation kept:
    ``loss`` (the value of C), ``zs`` and ``activations`` (a_0 = X, ..., a_L) of the
    forward pass, and ``deltas`` (delta_1..delta_L, each (N, n_out) of its layer)."""

    loss: float
    zs: list[np.ndarray]
    activations: list[np.ndarray]
    deltas: list[np.ndarray]

    def equations(self) -> str:
        """The equations that produced these gradients, with the shapes of this run."""
        n = self.activations[0].shape[0]
        big_l = len(self.deltas)
        lines = [f"Backpropagation through {big_l} layers, N = {n} sample(s):"]
        lines.append(f"  delta_{big_l} = dC/dz_{big_l}  {self.deltas[-1].shape}")
        for k in range(big_l - 1, 0, -1):
            shape = self.deltas[k - 1].shape
            lines.append(f"  delta_{k} = (delta_{k + 1} W_{k + 1}) * f_{k}'(z_{k})  {shape}")
        for k in range(1, big_l + 1):
            dw, db = self[k - 1]
            lines.append(
                f"  dC/dW_{k} = delta_{k}^T a_{k - 1}  {dw.shape};  dC/db_{k} = sum over "
                f"samples of delta_{k}  {db.shape}"
            )
        lines.append(f"  C = {self.loss:.6g}")
        return "\n".join(lines)


def backprop(net: MLP, X: Any, Y: Any, loss: str = "mse") -> Gradients:
    """The gradients of the loss with respect to every weight and bias, by the explicit
    backpropagation equations (see the module docstring), with the intermediate errors.

    Returns a :class:`Gradients`: a list of (dW, db) per layer, shaped as the layer's
    weight (n_out, n_in) and bias (n_out,).
    """
    a0 = as_inputs(X, net.sizes[0])
    y = as_targets(Y, a0.shape[0], net.sizes[-1], loss)
    spec = get_loss(loss, net.layers[-1].act)
    zs, acts = forward(net, a0)
    deltas = output_and_hidden_errors(net, zs, acts, y, spec)
    out = Gradients(
        (delta.T @ a_prev, delta.sum(axis=0)) for delta, a_prev in zip(deltas, acts, strict=False)
    )
    out.loss = float(spec.value(zs[-1], acts[-1], y, net.layers[-1].act))
    out.zs, out.activations, out.deltas = zs, acts, deltas
    return out


def forward(net: MLP, a0: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Step 1: every z_l and a_l (a_0 = X)."""
    zs, acts = [], [a0]
    a = a0
    for layer in net.layers:
        z = a @ layer.weight.T
        z += layer.bias  # in place: one temporary fewer per layer
        a = layer.act.f(z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def output_and_hidden_errors(
    net: MLP, zs: list[np.ndarray], acts: list[np.ndarray], y: np.ndarray, spec: Loss
) -> list[np.ndarray]:
    """Steps 2 and 3: delta_L from the loss, then each delta_l from delta_(l+1)."""
    layers = net.layers
    delta = spec.error(zs[-1], acts[-1], y, layers[-1].act)
    deltas = [delta]
    for k in range(len(layers) - 2, -1, -1):
        back = delta @ layers[k + 1].weight  # through the transposed weights
        delta = layers[k].act.backward(zs[k], acts[k + 1], back)
        deltas.append(delta)
    deltas.reverse()
    return deltas


def ad_gradients(net: MLP, X: Any, Y: Any, loss: str = "mse") -> list[tuple[Any, Any]]:
    """The same gradients as :func:`backprop`, [(dW, db), ...], by ``calcml.ad`` on the
    same loss (the engine traces the forward pass and runs the chain rule backwards
    itself): the check that the written-out equations are right.

    >>> import numpy as np
    >>> net = MLP([2, 3, 1], seed=1)
    >>> X, Y = np.array([[0.5, -1.0]]), np.array([[1.0]])
    >>> by_hand, by_ad = backprop(net, X, Y), ad_gradients(net, X, Y)
    >>> max(float(np.max(np.abs(a - b))) for (a, _), (b, _) in zip(by_hand, by_ad)) < 1e-15
    True
    """
    from .train import _ad_step

    a0 = as_inputs(X, net.sizes[0])
    y = as_targets(Y, a0.shape[0], net.sizes[-1], loss)
    _, grads = _ad_step(net, a0, y, get_loss(loss, net.layers[-1].act))
    return [(grads[2 * k], grads[2 * k + 1]) for k in range(len(net.layers))]
