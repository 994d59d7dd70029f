"""Neural networks on calcml's own code: dense layers, activations, losses, explicit
backpropagation, optimisers and training, small enough to read and take apart.

>>> import numpy as np, calcml as cm
>>> net = cm.nn.MLP([1, 6, 7, 2], activation="sigmoid", seed=0)
>>> X = np.linspace(0, 1, 5)[:, None]
>>> grads = cm.nn.backprop(net, X, np.zeros((5, 2)), loss="mse")
>>> len(grads), grads[0][0].shape
(3, (6, 1))
"""

from typing import Any

from . import demos
from .activations import ACTIVATIONS, Activation
from .backprop import Gradients, ad_gradients, backprop
from .demos import run_demo
from .losses import LOSSES
from .network import MLP, Dense
from .train import OPTIMIZERS, History, train


def loss(net: MLP, X: Any, Y: Any, loss: str = "mse") -> float:
    """The value of the loss ``loss`` ("mse" or "cross_entropy") of ``net`` on (X, Y).

    >>> import numpy as np
    >>> net = MLP([1, 1], activation="identity", seed=0)
    >>> net.layers[0].weight[:] = 2.0
    >>> cm_loss = loss(net, [[1.0], [2.0]], [[2.0], [3.0]])
    >>> cm_loss  # ((2 - 2)^2 + (4 - 3)^2) / 2
    0.5
    """
    from .losses import as_targets, get_loss
    from .network import as_inputs
    from .train import evaluate

    a0 = as_inputs(X, net.sizes[0])
    y = as_targets(Y, a0.shape[0], net.sizes[-1], loss)
    return evaluate(net, a0, y, get_loss(loss, net.layers[-1].act))


__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "OPTIMIZERS",
    "Activation",
    "Dense",
    "Gradients",
    "History",
    "ad_gradients",
    "backprop",
    "demos",
    "loss",
    "run_demo",
    "train",
]
