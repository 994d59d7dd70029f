"""The computation graph of one evaluation, drawn: values forward, adjoints backward.

:func:`computation_graph` draws what :func:`calcml.ad.graph.trace` records. Each box is a
node, with its formula, its value and its adjoint dL/d(node); each arrow goes from a
parent to the node computed from it and, when it is a number, carries the local
derivative d(node)/d(parent). Reading right to left, a node's adjoint is the sum over
its outgoing arrows of (the arrow's number) x (the adjoint at the arrow's head): the
backward pass, on paper.

The layout is a plain layered drawing computed here (no graphviz): a node's column is
the length of the longest path to it from the inputs, and each input sits one column
before its first use. An arrow that spans several columns passes through a slot of its
own in each column it crosses, so no arrow runs through a box; the rows of each column
are ordered by the mean row of their neighbours, to keep arrows short.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from ..ad.graph import Graph, GraphNode, format_number, format_value, trace
from ..errors import CalcmlError

__all__ = ["computation_graph"]

#: Graphs with more nodes than this are drawn, with a warning in the title.
READABLE_NODES = 25

COLUMN = 3.5  # inches between column centres
ROW = 1.2  # inches between row centres
BOX_W, BOX_H = 2.3, 0.92
MAX_CHARS = 32
MAX_INCHES = 120.0  # larger drawings are scaled down (fonts and lines with them)
COLOURS = {"input": "#dbe9f6", "output": "#fde0c5", "inner": "#f3f3f3"}
EDGE_COLOUR = "#4d4d4d"
LABEL_COLOUR = "#1f4e79"

Item = Hashable  # a node id, or ("via", parent, child, column) for an arrow's slot


def computation_graph(
    graph_or_f: Graph | Callable[..., Any],
    *args: Any,
    title: str | None = None,
    names: Sequence[str] | str | None = None,
) -> Figure:
    """Draw a computation graph with every node's value and adjoint.

    Parameters
    ----------
    graph_or_f : Graph or callable
        A graph from :func:`calcml.ad.graph.trace`, or a scalar function of numbers and
        arrays (written with :mod:`calcml.numpy`) to trace at ``args``.
    *args : float or array_like
        The point, when ``graph_or_f`` is a function.
    title : str, optional
        The figure's title (an empty string for none); by default it names the function
        and the value of L.
    names : sequence of str or str, optional
        Labels of the inputs, passed to :func:`~calcml.ad.graph.trace`.

    Returns
    -------
    matplotlib.figure.Figure
        One box (a patch with gid ``node-<id>``, its text ``node-text-<id>``) per node,
        one arrow (gid ``edge-<parent>-<child>``) per parent-child pair, and the local
        derivative beside each arrow where it is a number (``edge-label-<parent>-<child>``).

    Examples
    --------
    >>> fig = computation_graph(lambda w, x, b: w * x + b, 2.0, 3.0, 1.0)
    >>> sorted(p.get_gid() for p in fig.axes[0].patches if p.get_gid().startswith("node"))
    ['node-0', 'node-1', 'node-2', 'node-3', 'node-4']
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid().startswith("edge"))
    ['∂L/∂a = 1.0', '∂L/∂b = 1.0', '∂a/∂w = 3.0', '∂a/∂x = 2.0']
    """
    graph = _as_graph(graph_or_f, args, names)
    layout = _layout(graph)
    width = (max(c for c, _ in layout.place.values()) + 1) * COLUMN
    height = (2 * max(abs(r) for _, r in layout.place.values()) + 1) * ROW + 0.2
    scale = min(1.0, MAX_INCHES / width, MAX_INCHES / height)
    margin = 0.9  # inches for the title and the note below
    fig = Figure(figsize=(width * scale, (height + margin) * scale))
    ax = fig.add_axes((0.0, 0.5 / (height + margin), 1.0, height / (height + margin)))
    ax.set_xlim(0.0, width)
    ax.set_ylim(-height / 2, height / 2)
    ax.set_axis_off()
    drawer = _Drawer(ax, graph, layout, scale)
    for node in graph.nodes:
        drawer.node(node)
    for node in graph.nodes:
        for p in node.parents:
            drawer.edge(p, node)
    _annotate(fig, graph, title, scale)
    return fig


def _as_graph(graph_or_f: Any, args: tuple, names: Sequence[str] | str | None) -> Graph:
    if isinstance(graph_or_f, Graph):
        if args:
            raise CalcmlError("pass either a Graph, or a function and its arguments, not both")
        return graph_or_f
    if not callable(graph_or_f):
        raise CalcmlError("computation_graph needs a Graph (from trace) or a function")
    return trace(graph_or_f, *args, names=names)


# -- layout -----------------------------------------------------------------------------------


@dataclass
class _Layout:
    """Where things go: (column, row) of every node and of every slot an arrow passes."""

    place: dict[Item, tuple[int, float]]
    route: dict[tuple[int, int], list[Item]]  # (parent, child) -> slots in between


def _columns(graph: Graph) -> dict[int, int]:
    """Longest path from the inputs; each input one column before its first use."""
    column: dict[int, int] = {}
    for node in graph.nodes:
        column[node.id] = 1 + max((column[p] for p in node.parents), default=-1)
    for i in graph.inputs:
        used_by = [column[c] for c in graph.children(i)]
        if used_by:
            column[i] = min(used_by) - 1
    shift = min(column.values())
    return {i: c - shift for i, c in column.items()}


def _layout(graph: Graph) -> _Layout:
    column: dict[Item, int] = dict(_columns(graph))
    up: dict[Item, list[Item]] = {i: [] for i in column}
    route: dict[tuple[int, int], list[Item]] = {}
    for node in graph.nodes:
        for p in node.parents:
            slots: list[Item] = [
                ("via", p, node.id, c) for c in range(column[p] + 1, column[node.id])
            ]
            route[(p, node.id)] = slots
            column.update((slot, slot[3]) for slot in slots)
            chain = [p, *slots, node.id]
            for above, below in itertools.pairwise(chain):
                up.setdefault(below, []).append(above)
    down: dict[Item, list[Item]] = {i: [] for i in column}
    for item, ups in up.items():
        for u in ups:
            down[u].append(item)
    layers: dict[int, list[Item]] = {}
    for item in column:  # nodes in evaluation order, then slots
        layers.setdefault(column[item], []).append(item)
    row = _centre(layers)
    for _ in range(4):
        for c in sorted(layers):
            _reorder(layers[c], row, up)
            row.update(_centre({c: layers[c]}))
        for c in sorted(layers, reverse=True):
            _reorder(layers[c], row, down)
            row.update(_centre({c: layers[c]}))
    return _Layout({i: (column[i], row[i]) for i in column}, route)


def _centre(layers: dict[int, list[Item]]) -> dict[Item, float]:
    """Rows of each layer, in order, top to bottom, centred on 0."""
    return {i: (len(ids) - 1) / 2 - k for ids in layers.values() for k, i in enumerate(ids)}


def _reorder(items: list[Item], row: dict[Item, float], near: dict[Item, list[Item]]) -> None:
    """Sort a layer by the mean row of each item's neighbours (in place; stable)."""

    def key(i: Item) -> float:
        rows = [row[j] for j in near.get(i, [])]
        return -sum(rows) / len(rows) if rows else -row[i]

    items.sort(key=key)


# -- drawing ----------------------------------------------------------------------------------


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def _short(x: Any) -> str:
    """A value short enough for a box: a number, or the first entries of an array."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0 or arr.size == 1:
        return format_number(arr.ravel()[0])
    if arr.size <= 3:
        return format_value(arr, digits=3)
    head = ", ".join(format_number(v, 3) for v in arr.ravel()[:2])
    return f"[{head}, …]"


def _box_text(graph: Graph, node: GraphNode) -> str:
    out = graph.nodes[graph.output].label
    head = f"{node.label} = {node.formula}" if node.formula else f"{node.label} (input)"
    if node.shape:
        head += f"  {node.shape}"
    lines = [head, f"value {_short(node.value)}", f"∂{out}/∂{node.label} = {_short(node.adjoint)}"]
    return "\n".join(_clip(line) for line in lines)


class _Drawer:
    """Draws boxes and arrows at the layout's places (data units are inches)."""

    def __init__(self, ax: Axes, graph: Graph, layout: _Layout, scale: float) -> None:
        self.ax, self.graph, self.layout, self.scale = ax, graph, layout, scale

    def xy(self, item: Item) -> tuple[float, float]:
        column, row = self.layout.place[item]
        return (column + 0.5) * COLUMN, row * ROW

    def node(self, node: GraphNode) -> None:
        graph = self.graph
        kind = "input" if node.op == "input" else "output" if node.id == graph.output else "inner"
        x, y = self.xy(node.id)
        box = FancyBboxPatch(
            (x - BOX_W / 2, y - BOX_H / 2),
            BOX_W,
            BOX_H,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=COLOURS[kind],
            edgecolor=EDGE_COLOUR,
            linewidth=1.1 * self.scale,
            gid=f"node-{node.id}",
            zorder=2,
        )
        self.ax.add_patch(box)
        self.ax.text(
            x,
            y,
            _box_text(graph, node),
            ha="center",
            va="center",
            fontsize=8.5 * self.scale,
            linespacing=1.45,
            gid=f"node-text-{node.id}",
            zorder=3,
        )

    def edge(self, parent: int, child: GraphNode) -> None:
        """An arrow from the parent's right side to the child's left side, through the
        slots between; S-shaped curves, leaving and arriving horizontally."""
        points = [self.xy(parent)]
        points[0] = (points[0][0] + BOX_W / 2, points[0][1])
        for slot in self.layout.route[(parent, child.id)]:
            x, y = self.xy(slot)
            points += [(x - BOX_W / 2, y), (x + BOX_W / 2, y)]
        x, y = self.xy(child.id)
        points.append((x - BOX_W / 2, y))
        arrow = FancyArrowPatch(
            path=_curve(points),
            arrowstyle="-|>",
            mutation_scale=13 * self.scale,
            color=EDGE_COLOUR,
            linewidth=1.1 * self.scale,
            gid=f"edge-{parent}-{child.id}",
            zorder=1,
        )
        self.ax.add_patch(arrow)
        local = child.local.get(parent)
        if isinstance(local, float):
            self.edge_label(parent, child, local, points[0], points[1])

    def edge_label(
        self,
        parent: int,
        child: GraphNode,
        local: float,
        start: tuple[float, float],
        end: tuple[float, float],
    ) -> None:
        name = f"∂{child.label}/∂{self.graph.nodes[parent].label}"
        self.ax.text(
            (start[0] + end[0]) / 2,
            (start[1] + end[1]) / 2,
            f"{name} = {format_number(local, 4)}",
            ha="center",
            va="center",
            fontsize=7.5 * self.scale,
            color=LABEL_COLOUR,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            gid=f"edge-label-{parent}-{child.id}",
            zorder=4,
        )


def _curve(points: list[tuple[float, float]]) -> Path:
    """A path through the points: straight where level, else a cubic curve that leaves
    and arrives horizontally (between columns)."""
    vertices = [points[0]]
    codes = [Path.MOVETO]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if y0 == y1:
            vertices.append((x1, y1))
            codes.append(Path.LINETO)
        else:
            mid = (x0 + x1) / 2
            vertices += [(mid, y0), (mid, y1), (x1, y1)]
            codes += [Path.CURVE4] * 3
    return Path(vertices, codes)


def _annotate(fig: Figure, graph: Graph, title: str | None, scale: float) -> None:
    out = graph.nodes[graph.output]
    if graph.name.isidentifier():
        text = f"Computation graph of {graph.name}: {out.label} = {format_value(out.value)}"
    else:
        text = f"Computation graph: {out.label} = {format_value(out.value)}"
    if len(graph.nodes) > READABLE_NODES:
        text += f" ({len(graph.nodes)} nodes: too many to read comfortably)"
    if title is None or title:
        fig.suptitle(text if title is None else title, fontsize=12 * scale)
    fig.text(
        0.5,
        0.02,
        f"Boxes: each node, its value and its adjoint ∂{out.label}/∂node. Arrows: the local "
        f"derivative ∂child/∂parent. Backward pass: a node's adjoint is the sum over its "
        "arrows of (local derivative) × (adjoint at the arrow's head).",
        ha="center",
        va="bottom",
        fontsize=8 * scale,
        color="#555555",
        wrap=True,
        gid="note",
    )
