"""Neural networks (module 3): cm.nn.MLP, loss, backprop, train, save/load.

Every expected value comes from an oracle outside calcml.nn: numbers worked out by hand
with ``math``, central finite differences of ``cm.nn.loss``, ``calcml.ad`` gradients of
the same loss written again here with ``calcml.numpy``, and NumPy/SciPy formulas
(``scipy.special.softmax``, ``log_softmax``, ``log_expit``, ``logsumexp``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.numpy as cnp
from calcml import CalcmlError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTS = ("sigmoid", "tanh", "relu", "softplus", "identity", "softmax")


# -- independent oracles -------------------------------------------------------------------


def ref_act(name: str, z: np.ndarray) -> np.ndarray:
    """The activations by SciPy / NumPy formulas (not calcml's)."""
    return {
        "sigmoid": sps.expit,
        "tanh": np.tanh,
        "relu": lambda t: np.maximum(t, 0.0),
        "softplus": lambda t: np.logaddexp(0.0, t),
        "identity": lambda t: t,
        "softmax": lambda t: sps.softmax(t, axis=1),
    }[name](z)


def ref_forward(net: Any, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every z_l and a_l (a_0 = X) of the forward pass, with ref_act."""
    a = np.asarray(X, dtype=float)
    zs, acts = [], [a]
    for layer in net.layers:
        z = a @ layer.weight.T + layer.bias
        a = ref_act(layer.activation, z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def ref_loss_from_z(z: np.ndarray, y: np.ndarray, out: str, loss: str) -> float:
    """The loss as a function of the output layer's z, by SciPy formulas."""
    n = z.shape[0]
    if loss == "mse":
        return float(np.mean((ref_act(out, z) - y) ** 2))
    if out in ("softmax", "identity"):
        return float(-np.sum(y * sps.log_softmax(z, axis=1)) / n)
    assert out == "sigmoid"
    return float(-np.sum(y * sps.log_expit(z) + (1 - y) * sps.log_expit(-z)) / n)


def ref_loss(net: Any, X: np.ndarray, y: np.ndarray, loss: str) -> float:
    zs, _ = ref_forward(net, X)
    return ref_loss_from_z(zs[-1], y, net.layers[-1].activation, loss)


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(labels), k))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def fd_grads(net: Any, X: Any, Y: Any, loss: str, h: float = 1e-6) -> list[tuple]:
    """Central differences of cm.nn.loss for every entry of every weight and bias."""
    out = []
    for layer in net.layers:
        pair = []
        for p in (layer.weight, layer.bias):
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                step = h * max(1.0, abs(old))
                p[idx] = old + step
                up = cm.nn.loss(net, X, Y, loss)
                p[idx] = old - step
                down = cm.nn.loss(net, X, Y, loss)
                p[idx] = old
                g[idx] = (up - down) / (2 * step)
            pair.append(g)
        out.append(tuple(pair))
    return out


def _cnp_act(name: str, z: Any) -> Any:
    if name == "sigmoid":
        return 1.0 / (1.0 + cnp.exp(-z))
    if name == "tanh":
        return cnp.tanh(z)
    if name == "relu":
        return cnp.maximum(z, 0.0)
    if name == "softplus":
        return cnp.log(1.0 + cnp.exp(z))
    if name == "identity":
        return z
    e = cnp.exp(z)
    return e / cnp.sum(e, axis=1, keepdims=True)


def ad_grads(net: Any, X: np.ndarray, y: np.ndarray, loss: str) -> list[tuple]:
    """calcml.ad gradients of the loss, written here from scratch with calcml.numpy."""
    names = [layer.activation for layer in net.layers]
    n = X.shape[0]

    def cost(*params: Any) -> Any:
        a = X
        z = X
        for k, name in enumerate(names):
            z = a @ params[2 * k].T + params[2 * k + 1]
            a = _cnp_act(name, z)
        if loss == "mse":
            return cnp.mean((a - y) ** 2)
        if names[-1] == "softmax":
            return -cnp.sum(y * cnp.log(a)) / n
        if names[-1] == "sigmoid":
            return -cnp.sum(y * cnp.log(a) + (1.0 - y) * cnp.log(1.0 - a)) / n
        log_p = z - cnp.log(cnp.sum(cnp.exp(z), axis=1, keepdims=True))  # logits
        return -cnp.sum(y * log_p) / n

    params = []
    for layer in net.layers:
        params += [layer.weight.copy(), layer.bias.copy()]
    g = cm.ad.grad(cost, argnums=tuple(range(len(params))))(*params)
    return [(np.asarray(g[2 * k]), np.asarray(g[2 * k + 1])) for k in range(len(names))]


def assert_grads_close(got: Any, want: Any, rtol: float, atol: float) -> None:
    assert len(got) == len(want)
    for k, ((dw, db), (ew, eb)) in enumerate(zip(got, want, strict=True)):
        assert dw.shape == ew.shape and db.shape == eb.shape, f"layer {k + 1}"
        np.testing.assert_allclose(dw, ew, rtol=rtol, atol=atol, err_msg=f"dW_{k + 1}")
        np.testing.assert_allclose(db, eb, rtol=rtol, atol=atol, err_msg=f"db_{k + 1}")


def randomise_biases(net: Any, rng: np.random.Generator) -> None:
    for layer in net.layers:
        layer.bias[:] = rng.normal(0.0, 0.5, layer.bias.shape)


def make_targets(rng: np.random.Generator, n: int, k: int, out: str, loss: str, kind: str) -> Any:
    """Targets: mse real values; CE labels, one-hot, soft distributions or 0/1 multi-label."""
    if loss == "mse":
        return rng.normal(size=(n, k))
    if out == "sigmoid":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    labels = rng.integers(0, k, size=n)
    if kind == "labels":
        return labels
    if kind == "soft":
        return sps.softmax(rng.normal(size=(n, k)), axis=1)
    return one_hot(labels, k)


def check_backprop(net: Any, X: np.ndarray, Y: Any, loss: str) -> None:
    """backprop == finite differences (rel ~1e-6) and == calcml.ad (rel ~1e-10)."""
    g = cm.nn.backprop(net, X, Y, loss)
    y = one_hot(np.asarray(Y), net.sizes[-1]) if np.ndim(Y) == 1 and net.sizes[-1] > 1 else Y
    y = np.asarray(y, dtype=float).reshape(X.shape[0], net.sizes[-1])
    c = ref_loss(net, X, y, loss)
    assert g.loss == pytest.approx(c, rel=1e-12, abs=1e-14)
    assert_grads_close(g, fd_grads(net, X, Y, loss), rtol=1e-6, atol=1e-8 * max(1.0, abs(c)))
    assert_grads_close(g, ad_grads(net, X, y, loss), rtol=1e-9, atol=1e-12)


# -- 1. forward values, shapes, seeds, initialisers --------------------------------------

W1 = [[0.5, -0.3], [0.8, 0.2]]
B1 = [0.1, -0.4]
W2 = [[1.5, -2.0], [-0.7, 0.9]]
B2 = [0.3, -0.1]
XS = [[1.0, 2.0], [-0.5, 0.25]]


def hand_act(name: str, zs: list[float]) -> list[float]:
    if name == "sigmoid":
        return [1.0 / (1.0 + math.exp(-z)) for z in zs]
    if name == "tanh":
        return [math.tanh(z) for z in zs]
    if name == "relu":
        return [z if z > 0 else 0.0 for z in zs]
    if name == "softplus":
        return [math.log(1.0 + math.exp(z)) for z in zs]
    if name == "identity":
        return list(zs)
    total = sum(math.exp(z) for z in zs)
    return [math.exp(z) / total for z in zs]


def hand_forward(hidden: str, out: str) -> list[list[float]]:
    rows = []
    for x in XS:
        z1 = [sum(W1[j][i] * x[i] for i in range(2)) + B1[j] for j in range(2)]
        a1 = hand_act(hidden, z1)
        z2 = [sum(W2[j][i] * a1[i] for i in range(2)) + B2[j] for j in range(2)]
        rows.append(hand_act(out, z2))
    return rows


def set_2_2_2(net: Any) -> Any:
    net.layers[0].weight[:] = W1
    net.layers[0].bias[:] = B1
    net.layers[1].weight[:] = W2
    net.layers[1].bias[:] = B2
    return net


@pytest.mark.parametrize("act", ACTS)
def test_forward_by_hand_each_activation(act: str) -> None:
    net = set_2_2_2(cm.nn.MLP([2, 2, 2], activation=act, seed=0))
    out = net(np.array(XS))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, hand_forward(act, act), rtol=1e-13, atol=1e-15)
    # and as the output of a tanh network
    net = set_2_2_2(cm.nn.MLP([2, 2, 2], activation="tanh", output_activation=act, seed=0))
    np.testing.assert_allclose(net(np.array(XS)), hand_forward("tanh", act), rtol=1e-13)


def test_forward_2_2_1_sigmoid_by_hand_and_one_chain_rule_derivative() -> None:
    net = cm.nn.MLP([2, 2, 1], activation="sigmoid", seed=0)
    net.layers[0].weight[:] = [[0.5, -0.3], [0.8, 0.2]]
    net.layers[0].bias[:] = [0.1, -0.4]
    net.layers[1].weight[:] = [[1.5, -2.0]]
    net.layers[1].bias[:] = [0.3]
    x1, x2, y = 1.0, 2.0, 0.25

    def s(t: float) -> float:
        return 1.0 / (1.0 + math.exp(-t))

    z11 = 0.5 * x1 - 0.3 * x2 + 0.1  # = 0.0
    z12 = 0.8 * x1 + 0.2 * x2 - 0.4  # = 0.8
    a11, a12 = s(z11), s(z12)
    z2 = 1.5 * a11 - 2.0 * a12 + 0.3
    a2 = s(z2)
    assert a11 == pytest.approx(0.5, abs=1e-15)
    assert net([[x1, x2]])[0, 0] == pytest.approx(a2, rel=1e-14)
    assert net(np.array([x1, x2])).shape == (1, 1)  # a 1-D X of n_in values: one sample
    assert cm.nn.loss(net, [[x1, x2]], [[y]]) == pytest.approx((a2 - y) ** 2, rel=1e-13)

    # dC/dW1[1, 1] (from x2 to the second hidden unit) by the chain rule, by hand
    dc_da2 = 2 * (a2 - y)
    da2_dz2 = a2 * (1 - a2)
    dz2_da12 = -2.0
    da12_dz12 = a12 * (1 - a12)
    dz12_dw = x2
    by_hand = dc_da2 * da2_dz2 * dz2_da12 * da12_dz12 * dz12_dw
    g = cm.nn.backprop(net, [[x1, x2]], [[y]], "mse")
    assert g[0][0][1, 1] == pytest.approx(by_hand, rel=1e-13)
    # and the output bias: dC/db2 = dC/da2 * a2 (1 - a2)
    assert g[1][1][0] == pytest.approx(dc_da2 * da2_dz2, rel=1e-13)
    assert g.deltas[1][0, 0] == pytest.approx(dc_da2 * da2_dz2, rel=1e-13)


def test_shapes_and_one_dimensional_inputs() -> None:
    net = cm.nn.MLP([1, 6, 7, 2], activation="sigmoid", seed=0)
    assert [layer.weight.shape for layer in net.layers] == [(6, 1), (7, 6), (2, 7)]
    assert [layer.bias.shape for layer in net.layers] == [(6,), (7,), (2,)]
    assert net.sizes == [1, 6, 7, 2]
    x = np.linspace(-1, 1, 5)
    out = net(x)  # one input: a 1-D X is a column of samples
    assert out.shape == (5, 2)
    np.testing.assert_array_equal(out, net(x[:, None]))
    np.testing.assert_allclose(out, ref_forward(net, x[:, None])[1][-1], rtol=1e-13)
    assert net([[0.5]]).shape == (1, 2)
    net3 = cm.nn.MLP([3, 4, 2], activation="tanh", seed=0)
    assert net3(np.zeros((7, 3))).shape == (7, 2)
    np.testing.assert_array_equal(net3([0.1, 0.2, 0.3]), net3([[0.1, 0.2, 0.3]]))
    # the output activation defaults to the hidden one
    assert [layer.activation for layer in net.layers] == ["sigmoid"] * 3
    net4 = cm.nn.MLP([2, 3, 2], activation="relu", output_activation="softmax", seed=0)
    assert [layer.activation for layer in net4.layers] == ["relu", "softmax"]
    np.testing.assert_allclose(net4(np.ones((4, 2))).sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize(
    "X", [np.zeros((4, 2)), np.zeros((4, 3, 1)), np.zeros(5), np.zeros((0,)), "abc", [[1], [1, 2]]]
)
def test_bad_inputs_raise_clear_errors(X: Any) -> None:
    net = cm.nn.MLP([3, 2, 1], activation="tanh", seed=0)
    with pytest.raises(CalcmlError, match="X"):
        net(X)
    with pytest.raises(CalcmlError, match="X"):
        cm.nn.loss(net, X, np.zeros((4, 1)))
    with pytest.raises(CalcmlError, match="X"):
        cm.nn.backprop(net, X, np.zeros((4, 1)))


def test_bad_input_shape_message_says_what_is_expected() -> None:
    net = cm.nn.MLP([3, 2, 1], seed=0)
    with pytest.raises(CalcmlError) as err:
        net(np.zeros((4, 2)))
    msg = str(err.value)
    assert "(4, 2)" in msg and "(N, 3)" in msg


def test_bad_targets_raise_clear_errors() -> None:
    net = cm.nn.MLP([2, 3], activation="tanh", output_activation="softmax", seed=0)
    X = np.zeros((4, 2))
    with pytest.raises(CalcmlError, match=r"\(4, 3\)"):
        cm.nn.loss(net, X, np.zeros((4, 2)), "mse")
    with pytest.raises(CalcmlError, match="between 0 and 2"):
        cm.nn.loss(net, X, [0, 1, 2, 3], "cross_entropy")
    with pytest.raises(CalcmlError, match="whole numbers"):
        cm.nn.backprop(net, X, [0, 1.5, 2, 0], "cross_entropy")
    with pytest.raises(CalcmlError, match="not finite"):
        cm.nn.loss(net, X, np.full((4, 3), np.nan), "mse")


@pytest.mark.parametrize("sizes", [[3], [], [2, 0, 1], [2, -1], [2.5, 1], "ab", [[1], 2], None])
def test_bad_sizes(sizes: Any) -> None:
    with pytest.raises(CalcmlError, match="sizes"):
        cm.nn.MLP(sizes, seed=0)


def test_bad_activation_and_init() -> None:
    with pytest.raises(CalcmlError, match=r"unknown activation 'swish'.*sigmoid"):
        cm.nn.MLP([2, 2], activation="swish", seed=0)
    with pytest.raises(CalcmlError, match="unknown activation"):
        cm.nn.MLP([2, 2], output_activation="gelu", seed=0)
    with pytest.raises(CalcmlError, match="init"):
        cm.nn.MLP([2, 2], init="xavier", seed=0)


def test_seeds() -> None:
    a = cm.nn.MLP([3, 5, 4, 2], activation="tanh", seed=7)
    b = cm.nn.MLP([3, 5, 4, 2], activation="tanh", seed=7)
    c = cm.nn.MLP([3, 5, 4, 2], activation="tanh", seed=8)
    for la, lb, lc in zip(a.layers, b.layers, c.layers, strict=True):
        np.testing.assert_array_equal(la.weight, lb.weight)
        np.testing.assert_array_equal(la.bias, lb.bias)
        assert not np.array_equal(la.weight, lc.weight)
        np.testing.assert_array_equal(la.bias, 0.0)  # biases start at zero
    # the weights are not all equal within a layer (symmetry is broken)
    assert all(np.unique(layer.weight).size == layer.weight.size for layer in a.layers)


def test_glorot_uniform_scale() -> None:
    n_in, n_out = 600, 400
    limit = math.sqrt(6.0 / (n_in + n_out))
    for act in ("sigmoid", "tanh", "softmax"):
        w = cm.nn.MLP([n_in, n_out], activation=act, seed=1).layers[0].weight.ravel()
        assert np.abs(w).max() <= limit
        assert np.abs(w).max() > 0.999 * limit
        ks = scipy.stats.kstest(w, scipy.stats.uniform(loc=-limit, scale=2 * limit).cdf)
        assert ks.pvalue > 1e-3, act
    w = cm.nn.MLP([n_in, n_out], activation="relu", init="glorot", seed=1).layers[0].weight
    assert np.abs(w).max() <= limit


def test_he_normal_scale() -> None:
    n_in, n_out = 1000, 800
    std = math.sqrt(2.0 / n_in)
    for act in ("relu", "softplus"):
        w = cm.nn.MLP([n_in, n_out], activation=act, seed=2).layers[0].weight.ravel()
        # the sample std of 800,000 normals is within 0.5 % (about 6 standard errors)
        assert w.std() == pytest.approx(std, rel=5e-3)
        assert abs(w.mean()) < 5 * std / math.sqrt(w.size)
        assert scipy.stats.kstest(w, scipy.stats.norm(scale=std).cdf).pvalue > 1e-3, act
    w = cm.nn.MLP([n_in, n_out], activation="tanh", init="he", seed=2).layers[0].weight
    assert w.std() == pytest.approx(std, rel=5e-3)
    w = cm.nn.MLP([n_in, n_out], activation="tanh", init="normal", seed=2).layers[0].weight
    assert w.std() == pytest.approx(1.0, rel=5e-3)


# -- 2. backprop == finite differences == calcml.ad -----------------------------------------

CASES = [
    # sizes, hidden, output, loss, target kind
    ([1, 6, 7, 2], "sigmoid", None, "mse", "real"),
    ([3, 5, 4], "tanh", "softmax", "cross_entropy", "labels"),
    ([3, 5, 4], "tanh", "softmax", "cross_entropy", "one_hot"),
    ([3, 5, 4], "softplus", "softmax", "cross_entropy", "soft"),
    ([2, 8, 8, 3], "relu", "identity", "mse", "real"),
    ([2, 8, 8, 3], "softplus", "identity", "cross_entropy", "labels"),
    ([2, 8, 8, 3], "sigmoid", "sigmoid", "cross_entropy", "multi_label"),
    ([2, 8, 8, 3], "identity", "softmax", "mse", "real"),
    ([3, 5, 4], "softmax", "tanh", "mse", "real"),
    ([2, 6, 3], "tanh", "relu", "mse", "real"),
    ([2, 6, 3], "relu", "softplus", "mse", "real"),
    ([2, 6, 3], "softmax", "sigmoid", "mse", "real"),
    ([4, 3], "identity", None, "mse", "real"),
    ([4, 3], "softmax", None, "cross_entropy", "one_hot"),
    ([4, 3], "identity", None, "cross_entropy", "labels"),
    ([4, 1], "sigmoid", None, "cross_entropy", "multi_label"),
]


@pytest.mark.parametrize(("sizes", "hidden", "out", "loss", "kind"), CASES)
def test_backprop_equals_finite_differences_and_ad(
    sizes: list[int], hidden: str, out: str | None, loss: str, kind: str
) -> None:
    rng = np.random.default_rng(sum(sizes))
    net = cm.nn.MLP(sizes, activation=hidden, output_activation=out, seed=3)
    randomise_biases(net, rng)
    n = 6
    X = rng.normal(size=(n, sizes[0]))
    Y = make_targets(rng, n, sizes[-1], out or hidden, loss, kind)
    check_backprop(net, X, Y, loss)


def test_binary_labels_one_dimensional_with_a_sigmoid_output() -> None:
    rng = np.random.default_rng(0)
    net = cm.nn.MLP([3, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    X = rng.normal(size=(5, 3))
    labels = np.array([0, 1, 1, 0, 1])
    g1 = cm.nn.backprop(net, X, labels, "cross_entropy")
    g2 = cm.nn.backprop(net, X, labels[:, None].astype(float), "cross_entropy")
    assert g1.loss == pytest.approx(ref_loss(net, X, labels[:, None], "cross_entropy"), rel=1e-12)
    assert_grads_close(g1, g2, rtol=0, atol=0)
    assert_grads_close(g1, fd_grads(net, X, labels, "cross_entropy"), rtol=1e-6, atol=1e-8)


@st.composite
def problems(draw: Any) -> tuple:
    hidden = draw(st.sampled_from(ACTS))
    out, loss, kind = draw(
        st.sampled_from(
            [(a, "mse", "real") for a in ACTS]
            + [
                ("softmax", "cross_entropy", "labels"),
                ("softmax", "cross_entropy", "one_hot"),
                ("softmax", "cross_entropy", "soft"),
                ("identity", "cross_entropy", "labels"),
                ("identity", "cross_entropy", "one_hot"),
                ("sigmoid", "cross_entropy", "multi_label"),
            ]
        )
    )
    k_min = 2 if loss == "cross_entropy" and out != "sigmoid" else 1
    inner = draw(st.lists(st.integers(1, 6), min_size=0, max_size=2))
    sizes = [draw(st.integers(1, 4)), *inner, draw(st.integers(k_min, 4))]
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    return sizes, hidden, out, loss, kind, n, seed


@FAST
@given(problems())
def test_backprop_property_random_networks(problem: tuple) -> None:
    sizes, hidden, out, loss, kind, n, seed = problem
    rng = np.random.default_rng(seed)
    net = cm.nn.MLP(sizes, activation=hidden, output_activation=out, seed=seed)
    randomise_biases(net, rng)
    X = rng.normal(size=(n, sizes[0]))
    Y = make_targets(rng, n, sizes[-1], out, loss, kind)
    check_backprop(net, X, Y, loss)


def _fd_along(fun: Any, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        g[idx] = (fun(zp) - fun(zm)) / (2 * h)
    return g


@pytest.mark.parametrize(
    ("sizes", "hidden", "out", "loss"),
    [
        ([3, 5, 4, 2], "tanh", "identity", "mse"),
        ([3, 5, 4, 3], "sigmoid", "softmax", "cross_entropy"),
        ([2, 4, 2], "softplus", "sigmoid", "cross_entropy"),
    ],
)
def test_gradients_carry_the_forward_pass_and_the_errors(
    sizes: list[int], hidden: str, out: str, loss: str
) -> None:
    rng = np.random.default_rng(11)
    net = cm.nn.MLP(sizes, activation=hidden, output_activation=out, seed=4)
    randomise_biases(net, rng)
    X = rng.normal(size=(5, sizes[0]))
    y = make_targets(rng, 5, sizes[-1], out, loss, "one_hot").astype(float)
    g = cm.nn.backprop(net, X, y, loss)
    zs, acts = ref_forward(net, X)
    big_l = len(net.layers)
    assert len(g.zs) == big_l and len(g.activations) == big_l + 1 and len(g.deltas) == big_l
    for got, want in zip(g.zs, zs, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    for got, want in zip(g.activations, acts, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)

    # delta_l = dC/dz_l: finite differences of C as a function of z_l (forward from there)
    for l_idx in range(big_l):

        def c_of_z(z: np.ndarray, l_idx: int = l_idx) -> float:
            a = ref_act(net.layers[l_idx].activation, z)
            for layer in net.layers[l_idx + 1 :]:
                z = a @ layer.weight.T + layer.bias
                a = ref_act(layer.activation, z)
            return ref_loss_from_z(z, y, out, loss)

        assert g.deltas[l_idx].shape == (5, sizes[l_idx + 1])
        np.testing.assert_allclose(
            g.deltas[l_idx], _fd_along(c_of_z, zs[l_idx]), rtol=1e-6, atol=1e-9
        )

    # perturbing the output bias moves every z_L: dC/db_L = the column sums of delta_L
    fd_bias = fd_grads(net, X, y, loss)[-1][1]
    np.testing.assert_allclose(g.deltas[-1].sum(axis=0), fd_bias, rtol=1e-6, atol=1e-9)

    text = g.equations()
    for k in range(1, big_l + 1):
        assert f"delta_{k}" in text and f"dC/dW_{k}" in text and f"dC/db_{k}" in text
    assert f"delta_{big_l} = dC/dz_{big_l}" in text
    for k in range(1, big_l):  # each hidden error from the next one, through W_(k+1)
        assert f"delta_{k} = (delta_{k + 1} W_{k + 1})" in text
    assert f"delta_{big_l + 1}" not in text and f"dC/dW_{big_l + 1}" not in text
    assert "N = 5" in text
    assert f"{g.loss:.6g}" in text


def test_softmax_cross_entropy_with_targets_that_are_not_distributions() -> None:
    """Multi-hot targets with a softmax output: C = -(1/N) sum y log a has gradient
    (a sum(y) - y) / N, not (a - y) / N. calcml must give the gradient of the loss it
    reports, or refuse such targets; it must not silently return a wrong gradient."""
    net = cm.nn.MLP([2, 3], activation="softmax", seed=0)
    X = np.array([[0.3, -0.7], [1.2, 0.4]])
    Y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    try:
        g = cm.nn.backprop(net, X, Y, "cross_entropy")
    except CalcmlError:
        return
    assert_grads_close(g, fd_grads(net, X, Y, "cross_entropy"), rtol=1e-6, atol=1e-8)


# -- 3. loss values and stability -------------------------------------------------------------


def logit_net(k: int, out: str) -> Any:
    """A single layer with W = I, b = 0: z = X, so the inputs are the logits."""
    net = cm.nn.MLP([k, k], activation=out, seed=0)
    net.layers[0].weight[:] = np.eye(k)
    return net


@pytest.mark.parametrize("out", ["softmax", "identity"])
def test_cross_entropy_value_against_logsumexp(out: str) -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(scale=3.0, size=(7, 4))
    labels = rng.integers(0, 4, size=7)
    want = np.mean(sps.logsumexp(z, axis=1) - z[np.arange(7), labels])
    net = logit_net(4, out)
    assert cm.nn.loss(net, z, labels, "cross_entropy") == pytest.approx(want, rel=1e-13)
    assert cm.nn.loss(net, z, one_hot(labels, 4), "cross_entropy") == pytest.approx(want, rel=1e-13)
    p = sps.softmax(z, axis=1)
    want2 = -np.mean(np.log(p[np.arange(7), labels]))
    assert cm.nn.loss(net, z, labels, "cross_entropy") == pytest.approx(want2, rel=1e-12)


def test_binary_cross_entropy_value() -> None:
    z = np.array([[0.3, -2.0], [4.0, 0.0], [-1.5, 2.5]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    want = (
        -sum(
            y[i, j] * math.log(1 / (1 + math.exp(-z[i, j])))
            + (1 - y[i, j]) * math.log(1 - 1 / (1 + math.exp(-z[i, j])))
            for i in range(3)
            for j in range(2)
        )
        / 3
    )
    assert cm.nn.loss(logit_net(2, "sigmoid"), z, y, "cross_entropy") == pytest.approx(
        want, rel=1e-12
    )


def test_mse_value_by_hand() -> None:
    net = cm.nn.MLP([2, 2], activation="identity", seed=0)
    net.layers[0].weight[:] = [[1.0, 2.0], [0.0, -1.0]]
    net.layers[0].bias[:] = [0.5, 1.0]
    X = [[1.0, 1.0], [2.0, -1.0]]  # outputs [[3.5, 0.0], [0.5, 2.0]]
    Y = [[3.0, 1.0], [0.5, -1.0]]  # errors 0.5, -1, 0, 3
    assert cm.nn.loss(net, X, Y, "mse") == pytest.approx((0.25 + 1 + 0 + 9) / 4, rel=1e-15)
    assert cm.nn.loss(net, X, Y) == cm.nn.loss(net, X, Y, "mse")  # mse is the default


def test_huge_logits_give_finite_loss_and_gradients() -> None:
    z = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 850.0]])
    labels = np.array([1, 2])
    want = np.mean(sps.logsumexp(z, axis=1) - z[np.arange(2), labels])  # (2000 + 50) / 2
    assert want == pytest.approx(1025.0)
    for out in ("softmax", "identity"):
        net = logit_net(3, out)
        c = cm.nn.loss(net, z, labels, "cross_entropy")
        assert c == pytest.approx(want, rel=1e-13)
        g = cm.nn.backprop(net, z, labels, "cross_entropy")
        assert np.isfinite(g.loss)
        assert all(np.all(np.isfinite(dw)) and np.all(np.isfinite(db)) for dw, db in g)
        # d C / d b = mean over samples of (softmax(z) - y)
        want_db = np.mean(sps.softmax(z, axis=1) - one_hot(labels, 3), axis=0)
        np.testing.assert_allclose(g[0][1], want_db, atol=1e-15)
    zb = np.array([[1000.0, -1000.0]])
    yb = np.array([[0.0, 1.0]])
    net = logit_net(2, "sigmoid")
    assert cm.nn.loss(net, zb, yb, "cross_entropy") == pytest.approx(2000.0, rel=1e-13)
    g = cm.nn.backprop(net, zb, yb, "cross_entropy")
    np.testing.assert_allclose(g[0][1], [1.0, -1.0], atol=1e-15)
    # a saturated hidden layer: still finite
    net = cm.nn.MLP([1, 3, 2], activation="sigmoid", output_activation="softmax", seed=0)
    g = cm.nn.backprop(net, [[1e6], [-1e6]], [0, 1], "cross_entropy")
    assert np.isfinite(g.loss) and all(np.all(np.isfinite(dw)) for dw, _ in g)


def test_loss_errors() -> None:
    net = cm.nn.MLP([2, 3], activation="softmax", seed=0)
    X = np.zeros((2, 2))
    with pytest.raises(CalcmlError, match=r"unknown loss 'hinge'.*mse"):
        cm.nn.loss(net, X, np.zeros((2, 3)), "hinge")
    with pytest.raises(CalcmlError, match="unknown loss"):
        cm.nn.backprop(net, X, np.zeros((2, 3)), "hinge")
    tanh_net = cm.nn.MLP([2, 3], activation="tanh", seed=0)
    for fn in (cm.nn.loss, cm.nn.backprop):
        with pytest.raises(CalcmlError, match="softmax") as err:
            fn(tanh_net, X, [0, 1], "cross_entropy")
        assert "tanh" in str(err.value)
    with pytest.raises(CalcmlError, match="softmax"):
        cm.nn.train(tanh_net, X, [0, 1], "cross_entropy", epochs=1, progress=False)


def test_sigmoid_forward_matches_expit() -> None:
    net = logit_net(1, "sigmoid")
    z = np.linspace(-40, 40, 1601)[:, None]
    np.testing.assert_allclose(net(z), sps.expit(z), rtol=1e-13, atol=2e-16)
    z = np.linspace(-10, 10, 201)[:, None]
    np.testing.assert_allclose(net(z), sps.expit(z), rtol=1e-12)


# -- 4. training -------------------------------------------------------------------------------


def sine_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.linspace(-2, 2, 40)[:, None]
    return X, np.sin(X)


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.1), ("momentum", 0.02), ("adam", 0.01)])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_training_regression_sine(optimizer: str, lr: float, batch_size: int | None) -> None:
    X, Y = sine_data()
    net = cm.nn.MLP([1, 16, 1], activation="tanh", output_activation="identity", seed=3)
    before = ref_loss(net, X, Y, "mse")
    hist = cm.nn.train(
        net, X, Y, optimizer=optimizer, lr=lr, epochs=300, batch_size=batch_size, progress=False
    )
    after = ref_loss(net, X, Y, "mse")
    assert len(hist.loss) == hist.epochs == 300
    assert hist.steps == 300 * (1 if batch_size is None else 5)
    assert after < before / 50 and after < 5e-3, (before, after)
    assert np.max(np.abs(net(X) - Y)) < 0.2
    assert hist.loss[-1] < hist.loss[0] / 50


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 1.0), ("momentum", 0.2), ("adam", 0.05)])
@pytest.mark.parametrize("batch_size", [None, 2])
def test_training_xor_softmax(optimizer: str, lr: float, batch_size: int | None) -> None:
    net = cm.nn.MLP([2, 8, 2], activation="tanh", output_activation="softmax", seed=0)
    before = ref_loss(net, XOR_X, one_hot(XOR_Y, 2), "cross_entropy")
    hist = cm.nn.train(
        net,
        XOR_X,
        XOR_Y,
        "cross_entropy",
        optimizer=optimizer,
        lr=lr,
        epochs=300,
        batch_size=batch_size,
        progress=False,
    )
    after = ref_loss(net, XOR_X, one_hot(XOR_Y, 2), "cross_entropy")
    assert after < before / 50 and after < 0.02, (before, after)
    np.testing.assert_array_equal(net(XOR_X).argmax(axis=1), XOR_Y)
    assert hist.loss[-1] < hist.loss[0] / 50


def test_training_two_gaussian_blobs_binary() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([-1.5, -1.0], 0.7, (50, 2)), rng.normal([1.5, 1.0], 0.7, (50, 2))])
    y = np.repeat([0, 1], 50)
    for optimizer, lr in (("sgd", 0.5), ("momentum", 0.1), ("adam", 0.02)):
        net = cm.nn.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
        before = ref_loss(net, X, y[:, None], "cross_entropy")
        cm.nn.train(
            net,
            X,
            y,
            "cross_entropy",
            optimizer=optimizer,
            lr=lr,
            epochs=100,
            batch_size=20,
            progress=False,
        )
        after = ref_loss(net, X, y[:, None], "cross_entropy")
        assert after < before / 4 and after < 0.15, (optimizer, before, after)
        assert np.mean((net(X)[:, 0] > 0.5) == y) >= 0.97


def test_same_seed_same_history() -> None:
    X, Y = sine_data()
    runs = []
    for _ in range(2):
        net = cm.nn.MLP([1, 6, 1], activation="tanh", output_activation="identity", seed=5)
        hist = cm.nn.train(
            net, X, Y, optimizer="adam", lr=0.01, epochs=20, batch_size=7, progress=False, seed=9
        )
        runs.append((hist.loss, [p.copy() for p in net.parameters()]))
    assert runs[0][0] == runs[1][0]
    for p, q in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(p, q)
    # a different shuffling seed gives a different history
    net = cm.nn.MLP([1, 6, 1], activation="tanh", output_activation="identity", seed=5)
    other = cm.nn.train(
        net, X, Y, optimizer="adam", lr=0.01, epochs=20, batch_size=7, progress=False, seed=10
    )
    assert other.loss != runs[0][0]


@pytest.mark.parametrize(
    ("sizes", "hidden", "out", "loss", "optimizer"),
    [
        ([1, 6, 1], "tanh", "identity", "mse", "sgd"),
        ([2, 5, 3], "relu", "softmax", "cross_entropy", "momentum"),
        ([2, 4, 4, 2], "sigmoid", "sigmoid", "cross_entropy", "adam"),
    ],
)
def test_engine_ad_gives_the_same_history(
    sizes: list[int], hidden: str, out: str, loss: str, optimizer: str
) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(12, sizes[0]))
    Y = make_targets(rng, 12, sizes[-1], out, loss, "labels")
    hists, nets = [], []
    for engine in ("backprop", "ad"):
        net = cm.nn.MLP(sizes, activation=hidden, output_activation=out, seed=6)
        hists.append(
            cm.nn.train(
                net,
                X,
                Y,
                loss,
                optimizer=optimizer,
                lr=0.05,
                epochs=5,
                batch_size=5,
                progress=False,
                engine=engine,
            )
        )
        nets.append(net)
    np.testing.assert_allclose(hists[0].loss, hists[1].loss, rtol=1e-10, atol=0)
    for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)


def test_history_validation_and_callback() -> None:
    X, Y = sine_data()
    Xv = np.linspace(-1.9, 1.9, 9)[:, None]
    Yv = np.sin(Xv)
    net = cm.nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", seed=2)
    initial = ref_loss(net, X, Y, "mse")
    calls = []

    def callback(epoch: int, the_net: Any, loss: float) -> None:
        assert the_net is net
        calls.append(
            (epoch, loss, ref_loss(the_net, Xv, Yv, "mse"), ref_loss(the_net, X, Y, "mse"))
        )

    hist = cm.nn.train(
        net, X, Y, lr=0.1, epochs=12, validation=(Xv, Yv), callback=callback, progress=False
    )
    assert [c[0] for c in calls] == list(range(12))
    assert [c[1] for c in calls] == hist.loss
    assert len(hist.loss) == len(hist.val_loss) == 12
    # full batch: the loss of epoch e is the loss of the weights the epoch started from
    assert hist.loss[0] == pytest.approx(initial, rel=1e-12)
    for e in range(1, 12):
        assert hist.loss[e] == pytest.approx(calls[e - 1][3], rel=1e-12)
    # the validation loss is that of the weights at the end of each epoch
    for e in range(12):
        assert hist.val_loss[e] == pytest.approx(calls[e][2], rel=1e-12)
    assert hist.optimizer == "sgd" and hist.lr == 0.1 and hist.batch_size is None
    assert "12 epochs" in repr(hist)
    # without validation data there is no validation loss
    net2 = cm.nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", seed=2)
    assert cm.nn.train(net2, X, Y, lr=0.1, epochs=3, progress=False).val_loss == []


def test_minibatch_epoch_loss_is_the_sample_weighted_mean_of_batch_losses() -> None:
    X, Y = sine_data()
    X, Y = X[:10], Y[:10]
    net = cm.nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", seed=1)
    before = ref_loss(net, X, Y, "mse")
    # lr tiny: the weights barely move, so the epoch's loss is about the initial loss
    hist = cm.nn.train(net, X, Y, lr=1e-12, epochs=1, batch_size=3, progress=False)
    assert hist.steps == 4
    assert hist.loss[0] == pytest.approx(before, rel=1e-9)


def test_epochs_zero_leaves_the_network_alone() -> None:
    X, Y = sine_data()
    net = cm.nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", seed=1)
    before = [p.copy() for p in net.parameters()]
    hist = cm.nn.train(net, X, Y, epochs=0, progress=False)
    assert hist.loss == [] and hist.epochs == 0
    for p, q in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_divergence_raises_and_names_the_learning_rate() -> None:
    X, Y = sine_data()
    net = cm.nn.MLP([1, 16, 1], activation="tanh", output_activation="identity", seed=3)
    with np.errstate(all="ignore"), pytest.raises(CalcmlError) as err:
        cm.nn.train(net, X, Y * 100, lr=1e3, epochs=200, progress=False)
    msg = str(err.value)
    assert "learning rate" in msg and "1000" in msg


def test_non_finite_inputs_are_not_blamed_on_the_learning_rate() -> None:
    """A NaN in X is bad data, not divergence: the error should say so (as it does for Y)."""
    net = cm.nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", seed=0)
    X = np.array([[np.nan], [1.0]])
    with np.errstate(all="ignore"), pytest.raises(CalcmlError) as err:
        cm.nn.train(net, X, [[0.0], [1.0]], epochs=3, progress=False)
    assert "learning rate" not in str(err.value)
    assert "X" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"optimizer": "SGD"}, "optimizer"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": float("inf")}, "lr"),
        ({"lr": "0.1"}, "lr"),
        ({"epochs": -1}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"epochs": "10"}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"engine": "torch"}, "engine"),
    ],
)
def test_bad_training_settings(kwargs: dict, pattern: str) -> None:
    X, Y = sine_data()
    net = cm.nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", seed=0)
    before = [p.copy() for p in net.parameters()]
    with pytest.raises(CalcmlError, match=pattern):
        cm.nn.train(net, X, Y, progress=False, **{"epochs": 2, **kwargs})
    for p, q in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_no_samples_to_train_on() -> None:
    net = cm.nn.MLP([2, 1], seed=0)
    with pytest.raises(CalcmlError):
        cm.nn.train(net, np.zeros((0, 2)), np.zeros((0, 1)), epochs=1, progress=False)


def test_progress_bar_on_and_off(capfd: pytest.CaptureFixture) -> None:
    X, Y = sine_data()
    net = cm.nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", seed=0)
    quiet = cm.nn.train(net.copy(), X, Y, lr=0.1, epochs=30, progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    shown = cm.nn.train(net.copy(), X, Y, lr=0.1, epochs=30, progress=True)
    out, _ = capfd.readouterr()
    assert out == ""  # the bar goes to stderr, never stdout
    assert shown.loss == quiet.loss


# -- 5. optimiser updates by hand ----------------------------------------------------------


def linear_problem() -> tuple[Any, np.ndarray, np.ndarray]:
    net = cm.nn.MLP([2, 1], activation="identity", seed=0)
    net.layers[0].weight[:] = [[0.5, -1.0]]
    net.layers[0].bias[:] = [0.2]
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]])
    Y = np.array([[1.0], [0.0], [2.0]])
    return net, X, Y


def linear_mse_grad(w: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray) -> tuple:
    """C = mean((X w^T + b - y)^2): dC/dw = 2/N r^T X, dC/db = 2/N sum r."""
    r = X @ w.T + b - Y
    n = X.shape[0]
    return 2.0 / n * r.T @ X, 2.0 / n * r.sum(axis=0)


def test_one_sgd_step_by_hand() -> None:
    net, X, Y = linear_problem()
    w0, b0 = net.layers[0].weight.copy(), net.layers[0].bias.copy()
    gw, gb = linear_mse_grad(w0, b0, X, Y)
    cm.nn.train(net, X, Y, optimizer="sgd", lr=0.05, epochs=1, progress=False)
    np.testing.assert_allclose(net.layers[0].weight, w0 - 0.05 * gw, rtol=1e-14)
    np.testing.assert_allclose(net.layers[0].bias, b0 - 0.05 * gb, rtol=1e-14)


def test_two_momentum_steps_by_hand() -> None:
    net, X, Y = linear_problem()
    lr, beta = 0.05, 0.9
    w, b = net.layers[0].weight.copy(), net.layers[0].bias.copy()
    g1w, g1b = linear_mse_grad(w, b, X, Y)
    v1w, v1b = g1w, g1b
    w1, b1 = w - lr * v1w, b - lr * v1b
    g2w, g2b = linear_mse_grad(w1, b1, X, Y)
    v2w, v2b = beta * v1w + g2w, beta * v1b + g2b
    w2, b2 = w1 - lr * v2w, b1 - lr * v2b
    cm.nn.train(net, X, Y, optimizer="momentum", lr=lr, epochs=2, progress=False)
    np.testing.assert_allclose(net.layers[0].weight, w2, rtol=1e-13)
    np.testing.assert_allclose(net.layers[0].bias, b2, rtol=1e-13)


def adam_by_hand(p: np.ndarray, grads: list, lr: float, eps: float) -> list[np.ndarray]:
    """Kingma and Ba: m_hat / (sqrt(v_hat) + eps), beta1 = 0.9, beta2 = 0.999."""
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat = m / (1 - 0.9**t)
        v_hat = v / (1 - 0.999**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def test_optimizer_classes_by_hand() -> None:
    p0 = np.array([1.0, -2.0, 0.5])
    g1 = np.array([0.3, -1.2, 2.0])
    g2 = np.array([-0.5, 0.4, 1.0])
    lr = 0.1

    p = p0.copy()
    sgd = cm.nn.OPTIMIZERS["sgd"]([p], lr)
    sgd.step([g1])
    np.testing.assert_allclose(p, p0 - lr * g1, rtol=1e-15)

    p = p0.copy()
    mom = cm.nn.OPTIMIZERS["momentum"]([p], lr)
    mom.step([g1])
    np.testing.assert_allclose(p, p0 - lr * g1, rtol=1e-15)
    mom.step([g2])
    np.testing.assert_allclose(p, p0 - lr * g1 - lr * (0.9 * g1 + g2), rtol=1e-15)

    # with eps = 0 Adam's first step is lr * sign(g), whatever the size of g
    p = p0.copy()
    adam = cm.nn.OPTIMIZERS["adam"]([p], lr, eps=0.0)
    adam.step([g1])
    np.testing.assert_allclose(p, p0 - lr * np.sign(g1), rtol=1e-14)
    adam.step([g2])
    want = adam_by_hand(p0, [g1, g2], lr, eps=0.0)[1]
    np.testing.assert_allclose(p, want, rtol=1e-14)


def test_two_adam_steps_by_hand_through_train() -> None:
    net, X, Y = linear_problem()
    lr = 0.01
    w, b = net.layers[0].weight.copy(), net.layers[0].bias.copy()
    g1w, g1b = linear_mse_grad(w, b, X, Y)
    (w1,) = adam_by_hand(w, [g1w], lr, 1e-8)
    (b1,) = adam_by_hand(b, [g1b], lr, 1e-8)
    g2w, g2b = linear_mse_grad(w1, b1, X, Y)
    w2 = adam_by_hand(w, [g1w, g2w], lr, 1e-8)[1]
    b2 = adam_by_hand(b, [g1b, g2b], lr, 1e-8)[1]
    cm.nn.train(net, X, Y, optimizer="adam", lr=lr, epochs=2, progress=False)
    # the gradients here are O(1), so where eps sits changes the steps by under 1e-6 of
    # them (test_adam_eps_is_added_to_sqrt_v_hat_as_documented checks the placement)
    np.testing.assert_allclose(net.layers[0].weight - w, w2 - w, rtol=1e-6)
    np.testing.assert_allclose(net.layers[0].bias - b, b2 - b, rtol=1e-6)


def test_adam_eps_is_added_to_sqrt_v_hat_as_documented() -> None:
    """Adam's docstring: p <- p - lr m_hat / (sqrt(v_hat) + eps). With a gradient the
    size of eps, the first step is then lr * g / (|g| + eps) = lr / 2 for g = eps."""
    p = np.array([0.0])
    adam = cm.nn.OPTIMIZERS["adam"]([p], 0.1)
    adam.step([np.array([1e-8])])
    want = float(adam_by_hand(np.array([0.0]), [np.array([1e-8])], 0.1, 1e-8)[0][0])
    assert want == pytest.approx(-0.05, rel=1e-9)
    assert float(p[0]) == pytest.approx(want, rel=1e-9)


# -- 6. save and load -------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Any) -> None:
    net = cm.nn.MLP([3, 5, 4, 2], activation="relu", output_activation="softmax", seed=4)
    randomise_biases(net, np.random.default_rng(0))
    path = net.save(tmp_path / "net.npz")
    assert path == tmp_path / "net.npz" and path.exists()
    loaded = cm.nn.MLP.load(path)
    assert loaded.sizes == net.sizes
    assert [la.activation for la in loaded.layers] == ["relu", "relu", "softmax"]
    for la, lb in zip(net.layers, loaded.layers, strict=True):
        np.testing.assert_array_equal(la.weight, lb.weight)
        np.testing.assert_array_equal(la.bias, lb.bias)
    X = np.random.default_rng(1).normal(size=(6, 3))
    np.testing.assert_array_equal(loaded(X), net(X))
    # the loaded network is its own: training it leaves the original alone
    before = net(X)
    cm.nn.train(loaded, X, [0, 1, 0, 1, 1, 0], "cross_entropy", epochs=3, progress=False)
    np.testing.assert_array_equal(net(X), before)
    assert not np.array_equal(loaded(X), before)
    # a path without the suffix: numpy adds .npz, and save says where the file is
    p2 = net.save(tmp_path / "plain")
    assert p2.exists() and p2.suffix == ".npz"
    np.testing.assert_array_equal(cm.nn.MLP.load(p2)(X), net(X))
    p3 = net.save(str(tmp_path / "as_text.npz"))
    np.testing.assert_array_equal(cm.nn.MLP.load(str(p3))(X), net(X))


def test_load_errors(tmp_path: Any) -> None:
    with pytest.raises(CalcmlError):
        cm.nn.MLP.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(CalcmlError, match="not a network"):
        cm.nn.MLP.load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("not a zip file")
    with pytest.raises(CalcmlError):
        cm.nn.MLP.load(tmp_path / "text.npz")
    np.savez(tmp_path / "act.npz", activations=np.array(["swish"]), W0=np.ones((2, 2)), b0=[0, 0])
    with pytest.raises(CalcmlError):
        cm.nn.MLP.load(tmp_path / "act.npz")
    np.savez(
        tmp_path / "mismatch.npz",
        activations=np.array(["tanh", "tanh"]),
        W0=np.ones((3, 2)),
        b0=np.zeros(3),
        W1=np.ones((1, 4)),
        b1=np.zeros(1),
    )
    with pytest.raises(CalcmlError, match="shapes"):
        cm.nn.MLP.load(tmp_path / "mismatch.npz")


@pytest.mark.parametrize(
    "arrays",
    [
        # the first layer's bias does not fit its weight
        {"activations": np.array(["sigmoid"]), "W0": np.ones((3, 2)), "b0": np.ones(4)},
        # a weight that is not a matrix
        {
            "activations": np.array(["sigmoid", "sigmoid"]),
            "W0": np.ones((3, 2)),
            "b0": np.ones(3),
            "W1": np.ones(3),
            "b1": np.ones(1),
        },
    ],
    ids=["first-bias", "1d-weight"],
)
def test_load_rejects_malformed_networks(tmp_path: Any, arrays: dict) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(CalcmlError):
        net = cm.nn.MLP.load(path)
        net(np.ones((1, 2)))  # if it loads, it must at least work
