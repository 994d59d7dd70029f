"""Tests of calcml.ad.graph (trace), calcml.ad.check (check_grad) and the graph figure.

Oracles are independent of the engine: derivatives derived by hand (the loss
L = (w x + b - y)^2, x^2 + sin x, nested sin + cos, tanh^2), and for check_grad a
primitive whose reverse rule is deliberately wrong.
"""

from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import calcml.numpy as cnp
from calcml import CalcmlError
from calcml.ad import table
from calcml.ad.check import GradCheck, check_grad
from calcml.ad.core import Primitive
from calcml.ad.graph import MAX_PATHS, Graph, format_number, trace
from calcml.plots import save
from calcml.plots.graph import READABLE_NODES, computation_graph


def loss(w, x, b, y):
    return (w * x + b - y) ** 2


@pytest.fixture(scope="module")
def lgraph() -> Graph:
    return trace(loss, 2.0, 3.0, 1.0, 4.0)


def path_sum(graph: Graph, key: str | int) -> float:
    """The chain rule by hand: sum over paths of the product of local derivatives."""
    total = 0.0
    for path in graph.paths(key):
        total += math.prod(graph.nodes[c].local[p] for c, p in itertools.pairwise(path))
    return total


# --- trace: the graph of L = (w x + b - y)^2 at w=2, x=3, b=1, y=4 --------------------------


def test_loss_graph_has_the_hand_computed_values_and_adjoints(lgraph: Graph) -> None:
    # r = w x + b - y = 3; dL/dr = 2r = 6; dL/dw = 6x, dL/dx = 6w, dL/db = 6, dL/dy = -6.
    expected = {
        "w": ("input", 2.0, 18.0),
        "x": ("input", 3.0, 12.0),
        "b": ("input", 1.0, 6.0),
        "y": ("input", 4.0, -6.0),
        "a": ("multiply", 6.0, 6.0),
        "c": ("add", 7.0, 6.0),
        "e": ("subtract", 3.0, 6.0),
        "L": ("power", 9.0, 1.0),
    }
    assert [n.label for n in lgraph.nodes] == list(expected)
    for label, (op, value, adjoint) in expected.items():
        node = lgraph.node(label)
        assert (node.op, node.value, node.adjoint) == (op, value, adjoint), label
    assert lgraph.output == 7 and lgraph.inputs == [0, 1, 2, 3]
    assert [n.id for n in lgraph.nodes] == list(range(8))


def test_loss_graph_local_derivatives_and_formulas(lgraph: Graph) -> None:
    w, x, b, y, a, c, e, L = lgraph.nodes
    assert a.parents == [w.id, x.id] and a.local == {w.id: 3.0, x.id: 2.0}
    assert c.local == {a.id: 1.0, b.id: 1.0}
    assert e.local == {c.id: 1.0, y.id: -1.0}
    assert L.local == {e.id: 6.0}  # d(r^2)/dr = 2r
    assert [n.formula for n in (a, c, e, L)] == ["w * x", "a + b", "c - y", "e^2"]
    assert w.parents == [] and w.local == {} and w.formula == ""


def test_loss_chain_is_written_out_with_the_numbers(lgraph: Graph) -> None:
    text = lgraph.chain("w")
    assert text == "dL/dw = dL/de * de/dc * dc/da * da/dw = 6.0 * 1.0 * 1.0 * 3.0 = 18.0"
    # The printed factors multiply to the printed result, which is the adjoint of w.
    factors = text.split(" = ")[2].split(" * ")
    assert math.prod(float(f) for f in factors) == float(text.rsplit(" = ", 1)[1]) == 18.0
    assert lgraph.chain("y") == "dL/dy = dL/de * de/dy = 6.0 * (-1.0) = -6.0"
    assert lgraph.chain(0) == text  # ids work as well as labels
    assert lgraph.chain("L") == "dL/dL = 1.0"


@pytest.mark.parametrize("label", ["w", "x", "b", "y", "a", "c", "e"])
def test_product_of_local_derivatives_along_paths_is_the_adjoint(lgraph: Graph, label) -> None:
    node = lgraph.node(label)
    assert path_sum(lgraph, label) == pytest.approx(node.adjoint, rel=1e-14)
    assert lgraph.chain(label).endswith(format_number(node.adjoint))


def test_table_lists_every_node(lgraph: Graph) -> None:
    text = str(lgraph)
    assert text == lgraph.table()
    lines = text.splitlines()
    assert len(lines) == 1 + len(lgraph.nodes)
    assert lines[0].split() == ["id", "node", "op", "value", "local", "derivatives", "dL/d(node)"]
    assert re.search(
        r"a = w \* x\s+multiply\s+6\.0\s+da/dw = 3\.0; da/dx = 2\.0\s+6\.0$", text, re.M
    )
    assert re.search(r"^3\s+y\s+input\s+4\.0\s+-6\.0$", text, re.M)


def test_to_dict_is_json_and_holds_the_numbers(lgraph: Graph) -> None:
    data = json.loads(json.dumps(lgraph.to_dict()))
    assert data["output"] == 7 and data["inputs"] == [0, 1, 2, 3]
    a = data["nodes"][4]
    assert a == {
        "id": 4,
        "label": "a",
        "op": "multiply",
        "formula": "w * x",
        "shape": [],
        "value": 6.0,
        "parents": [0, 1],
        "local": {"0": 3.0, "1": 2.0},
        "adjoint": 6.0,
    }


def test_html_is_an_escaped_table(lgraph: Graph) -> None:
    page = lgraph._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == 1 + len(lgraph.nodes)
    g = trace(lambda x: cnp.sum(x[np.array([0, 1])] < 3) + x[0], np.array([1.0, 2.0]))
    assert "<" not in g._repr_html_().replace("<t", "").replace("</t", "")


# --- trace: several paths, arrays, names, errors ---------------------------------------------


def test_two_paths_sum_to_the_derivative() -> None:
    # d/dx (x^2 + sin x) = 2x + cos x
    x0 = 0.7
    g = trace(lambda x: x * x + cnp.sin(x), x0)
    exact = 2 * x0 + math.cos(x0)
    assert g.node("x").adjoint == pytest.approx(exact, rel=1e-15)
    assert len(g.paths("x")) == 2
    assert g.node("a").local == {0: pytest.approx(2 * x0)}  # both factors of x * x
    assert g.node("b").local == {0: pytest.approx(math.cos(x0))}
    assert path_sum(g, "x") == pytest.approx(exact, rel=1e-15)
    lines = g.chain("x").splitlines()
    assert lines[0] == "dL/dx = dL/da * da/dx + dL/db * db/dx"
    assert lines[1].split("= ")[1] == f"1.0 * 1.4 + 1.0 * {format_number(math.cos(x0))}"
    assert lines[-1].endswith(format_number(exact))


def test_many_paths_are_counted_and_summed() -> None:
    # Five layers of y -> sin y + cos y: 2^5 paths; dL/dx = prod (cos y_k - sin y_k).
    def f(x):
        for _ in range(5):
            x = cnp.sin(x) + cnp.cos(x)
        return x

    x, exact = 0.3, 1.0
    for _ in range(5):
        exact *= math.cos(x) - math.sin(x)
        x = math.sin(x) + math.cos(x)
    g = trace(f, 0.3)
    assert g.count_paths("x") == 32 and len(g.paths("x")) == 32
    assert len(g.paths("x", limit=MAX_PATHS)) == MAX_PATHS
    assert path_sum(g, "x") == pytest.approx(exact, rel=1e-12)
    assert g.node("x").adjoint == pytest.approx(exact, rel=1e-12)
    text = g.chain("x")
    assert f"({32 - MAX_PATHS} more paths)" in text
    assert text.endswith(format_number(g.node("x").adjoint))


def test_array_graph_adjoints_and_chain() -> None:
    # L = sum(tanh(w)^2): dL/dw = 2 tanh(w) (1 - tanh(w)^2), elementwise.
    w = np.array([0.5, -1.0, 2.0])
    g = trace(lambda w: cnp.sum(cnp.tanh(w) ** 2), w)
    t = np.tanh(w)
    np.testing.assert_allclose(g.node("w").adjoint, 2 * t * (1 - t**2), rtol=1e-14)
    np.testing.assert_allclose(g.node("a").local[0], 1 - t**2, rtol=1e-14)
    assert g.node("L").local == {2: "sum: 1 for each entry, here [1.0, 1.0, 1.0]"}
    assert g.node("L").value == pytest.approx(float(np.sum(t**2)))
    text = g.chain("w")
    assert "shape (3,)" in text and "elementwise" in text
    assert "dL/dw = dL/db * db/da * da/dw" in text
    assert text.endswith("dL/dw = [0.7269, -0.6397, 0.1362]")  # 2 t (1 - t^2), 4 digits


def test_matrix_products_and_indexing_are_described() -> None:
    W, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
    g = trace(lambda W, x: (W @ x)[1] * 2.0, W, x)
    a, b = g.node("a"), g.node("b")
    assert a.formula == "W @ x" and "matmul" in a.local[0] and "t @ x" in a.local[0]
    assert b.formula == "a[1]" and b.local[a.id].startswith("indexing")
    np.testing.assert_allclose(g.node("W").adjoint, [[0.0, 0.0], [2.0, -2.0]])
    np.testing.assert_allclose(g.node("x").adjoint, [6.0, 8.0])


def test_labels_from_signature_names_and_defaults() -> None:
    assert [n.label for n in trace(lambda *v: v[0] * v[1], 1.0, 2.0).nodes] == ["x0", "x1", "L"]
    assert trace(lambda *v: v[0] * 2.0, 1.0).node(0).label == "x"
    g = trace(loss, 2.0, 3.0, 1.0, 4.0, names="weight, inp, bias, target")
    assert g.chain("weight").startswith("dL/dweight = ")
    g = trace(lambda a, L: a * L, 1.0, 2.0)  # inputs may take the default names
    assert [n.label for n in g.nodes] == ["a", "L", "loss"]
    with pytest.raises(CalcmlError, match="names"):
        trace(loss, 2.0, 3.0, 1.0, 4.0, names=["w", "w", "b", "y"])


def test_only_what_the_output_depends_on_is_kept() -> None:
    def f(x, y):
        unused = cnp.exp(x) * 3.0  # noqa: F841 - recorded on the tape, not part of L
        return cnp.sin(x)

    g = trace(f, 1.0, 2.0)
    assert [n.op for n in g.nodes] == ["input", "input", "sin"]
    assert g.node("y").adjoint == 0.0
    assert g.chain("y") == "dL/dy = 0 (L does not depend on y)"


def test_trace_refuses_non_scalar_and_constant_outputs() -> None:
    with pytest.raises(CalcmlError, match="scalar output"):
        trace(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(CalcmlError, match="does not depend"):
        trace(lambda x: 3.0, 1.0)
    with pytest.raises(CalcmlError, match="at least one"):
        trace(lambda: 1.0)
    with pytest.raises(CalcmlError, match="no node"):
        trace(loss, 2.0, 3.0, 1.0, 4.0).node("z")


def test_trace_matches_the_engine_on_a_small_network() -> None:
    from calcml.ad import grad

    def net(W, b, x, t):
        return cnp.mean((cnp.tanh(W @ x + b) - t) ** 2)

    rng = np.random.default_rng(1)
    args = (rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2), rng.normal(size=3))
    g = trace(net, *args)
    grads = grad(net, argnums=(0, 1, 2, 3))(*args)
    for i, expected in enumerate(grads):
        np.testing.assert_array_equal(g.nodes[i].adjoint, expected)


# --- check_grad ------------------------------------------------------------------------------


def _fake_sin() -> Primitive:
    """sin with a wrong reverse rule (+sin instead of cos) and a right forward rule."""
    return Primitive(
        "fake_sin",
        np.sin,
        elementwise=True,
        vjps=[lambda g, ans, x: table.multiply(g, table.sin(x))],
        jvps=[lambda t, ans, x: table.multiply(t, table.cos(x))],
    )


@pytest.mark.parametrize(
    ("f", "args"),
    [
        (lambda x: x**3 - 2.0 * x, (1.3,)),
        (loss, (2.0, 3.0, 1.0, 4.0)),
        (lambda x: cnp.sum(cnp.exp(-(x**2)) * cnp.log1p(x**2)), (np.linspace(-2, 2, 7),)),
        (
            lambda W, b, x, t: cnp.mean((cnp.sigmoid(W @ x + b) - t) ** 2),
            (
                np.arange(6.0).reshape(3, 2) / 7,
                np.array([0.1, -0.2, 0.3]),
                np.array([1.0, -2.0]),
                np.array([0.0, 1.0, 0.5]),
            ),
        ),
        (
            lambda A: cnp.sum(cnp.sqrt(A * A + 1.0)) / cnp.max(A),
            (np.array([[1.0, 2.0], [3.0, 4.5]]),),
        ),
        (lambda x, y: x * y, (2, 3)),  # integers are taken as floats
    ],
)
def test_check_grad_passes_for_correct_derivatives(f, args) -> None:
    report = check_grad(f, *args, directions=4)
    assert isinstance(report, GradCheck)
    assert report.ok, str(report)
    assert report.reverse.shape == report.forward.shape == report.numeric.shape == (4,)
    assert report.max_discrepancy <= 1e-6
    for v in report.directions:  # unit directions, jointly over all arguments
        assert math.fsum(float(np.sum(np.square(p))) for p in v) == pytest.approx(1.0)
        assert [np.shape(p) for p in v] == [np.shape(a) for a in args]


def test_check_grad_values_match_a_hand_derived_gradient() -> None:
    # f = sum(x^2 y) with gradient (2 x y, x^2).
    x, y = np.array([1.0, -2.0]), 3.0
    report = check_grad(lambda x, y: cnp.sum(x**2 * y), x, y, directions=2, seed=3)
    for k, (vx, vy) in enumerate(report.directions):
        exact = float(np.dot(2 * x * y, vx) + np.sum(x**2) * vy)
        assert report.reverse[k] == pytest.approx(exact, rel=1e-14)
        assert report.forward[k] == pytest.approx(exact, rel=1e-14)
        assert report.numeric[k] == pytest.approx(exact, rel=1e-9)


def test_check_grad_detects_a_wrong_reverse_rule() -> None:
    fake_sin = _fake_sin()
    report = check_grad(lambda x: cnp.sum(fake_sin(x) * x), np.array([0.3, 1.0, 2.0]))
    assert not report.ok
    assert report.max_discrepancy > 0.1
    np.testing.assert_allclose(report.forward, report.numeric, rtol=1e-8)
    assert not np.allclose(report.reverse, report.numeric, rtol=1e-3)
    assert "MISMATCH" in str(report)


def test_check_grad_report_is_a_table_and_reproducible() -> None:
    f = lambda x: cnp.sum(cnp.sin(x))  # noqa: E731
    first, again = check_grad(f, np.ones(3)), check_grad(f, np.ones(3))
    np.testing.assert_array_equal(first.reverse, again.reverse)
    assert not np.array_equal(first.reverse, check_grad(f, np.ones(3), seed=1).reverse)
    lines = str(first).splitlines()
    assert lines[0].endswith(": ok") and len(lines) == 2 + 3
    assert "reverse (grad.v)" in lines[1] and "finite diff." in lines[1]
    assert first._repr_html_().startswith("<pre>")


def test_check_grad_refuses_non_scalar_and_non_finite() -> None:
    with pytest.raises(CalcmlError, match="scalar loss"):
        check_grad(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(CalcmlError, match="not finite"):
        check_grad(lambda x: cnp.log(x), 0.0)
    with pytest.raises(CalcmlError, match="not finite"):
        check_grad(lambda x: cnp.sqrt(x), 0.0)  # the slope is infinite
    with pytest.raises(CalcmlError, match="directions"):
        check_grad(lambda x: x, 1.0, directions=0)


# --- the figure ------------------------------------------------------------------------------


def boxes(fig: Figure) -> dict[int, FancyBboxPatch]:
    ax = fig.axes[0]
    return {
        int(p.get_gid().split("-")[1]): p
        for p in ax.patches
        if isinstance(p, FancyBboxPatch) and p.get_gid().startswith("node-")
    }


@pytest.fixture(scope="module")
def lfigure(lgraph: Graph) -> Figure:
    return computation_graph(lgraph)


def test_figure_has_one_box_and_text_per_node(lfigure: Figure, lgraph: Graph) -> None:
    found = boxes(lfigure)
    assert sorted(found) == list(range(len(lgraph.nodes)))
    texts = {t.get_gid(): t.get_text() for t in lfigure.axes[0].texts}
    for node in lgraph.nodes:
        assert f"value {format_number(node.value)}" in texts[f"node-text-{node.id}"]
    assert texts["node-text-4"] == "a = w * x\nvalue 6.0\n∂L/∂a = 6.0"
    assert texts["node-text-0"] == "w (input)\nvalue 2.0\n∂L/∂w = 18.0"


def test_figure_arrows_go_left_to_right_with_local_derivatives(
    lfigure: Figure, lgraph: Graph
) -> None:
    ax = lfigure.axes[0]
    arrows = {p.get_gid() for p in ax.patches if isinstance(p, FancyArrowPatch)}
    edges = {f"edge-{p}-{n.id}" for n in lgraph.nodes for p in n.parents}
    assert arrows == edges and len(edges) == 7
    found = boxes(lfigure)
    labels = {t.get_gid(): t for t in ax.texts if t.get_gid().startswith("edge-label")}
    assert labels["edge-label-0-4"].get_text() == "∂a/∂w = 3.0"
    assert labels["edge-label-3-6"].get_text() == "∂e/∂y = -1.0"
    for gid, text in labels.items():
        parent, child = (int(s) for s in gid.split("-")[2:])
        left, right = found[parent], found[child]
        assert left.get_x() + left.get_width() <= text.get_position()[0] <= right.get_x()


def test_figure_boxes_do_not_overlap(lfigure: Figure) -> None:
    rects = [(b.get_x(), b.get_y(), b.get_width(), b.get_height()) for b in boxes(lfigure).values()]
    for i, (x0, y0, w0, h0) in enumerate(rects):
        for x1, y1, w1, h1 in rects[i + 1 :]:
            assert x0 + w0 <= x1 or x1 + w1 <= x0 or y0 + h0 <= y1 or y1 + h1 <= y0


def test_figure_saves_a_png(lfigure: Figure, tmp_path) -> None:
    path = save(lfigure, tmp_path / "graph.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert lfigure.get_suptitle() == "Computation graph of loss: L = 9.0"


def test_figure_from_a_function_and_big_graphs() -> None:
    fig = computation_graph(lambda x: x * x + cnp.sin(x), 1.0, title="two paths")
    assert fig.get_suptitle() == "two paths" and len(boxes(fig)) == 4

    def deep(x):
        for _ in range(10):
            x = cnp.sin(x) * x + x
        return x

    fig = computation_graph(deep, 0.5)
    assert len(boxes(fig)) == 31 > READABLE_NODES
    assert "too many to read" in fig.get_suptitle()
    with pytest.raises(CalcmlError, match="either"):
        computation_graph(trace(deep, 0.5), 0.5)
