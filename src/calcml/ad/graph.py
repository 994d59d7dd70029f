"""The computation graph of one evaluation, for seeing backpropagation at work.

:func:`trace` runs a function once on traced inputs, runs the backward pass, and
returns a :class:`Graph`: every node with its operation, its value, its *local*
derivatives (d node / d parent, one per arrow) and its *adjoint* (dL / d node, from the
engine's backward pass). :meth:`Graph.chain` writes the chain rule out with those
numbers, so that a learner can check by hand that the adjoint of an input is the sum,
over every path from the output to it, of the products of the local derivatives along
the path. The adjoints are the engine's own, read off the tape of the same backward
pass that :func:`calcml.ad.grad` runs; the local derivatives come from the same table of
derivative rules (:mod:`calcml.ad.table`).

>>> from calcml.ad.graph import trace
>>> g = trace(lambda w, x, b, y: (w * x + b - y) ** 2, 2.0, 3.0, 1.0, 4.0)
>>> print(g.chain("w"))
dL/dw = dL/de * de/dc * dc/da * da/dw = 6.0 * 1.0 * 1.0 * 3.0 = 18.0
"""

from __future__ import annotations

import html
import inspect
import itertools
import math
import string
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .core import Box, Primitive, shape_of, value_of
from .transforms import _Recording

__all__ = ["Graph", "GraphNode", "format_number", "format_value", "trace"]

#: Paths printed by :meth:`Graph.chain` before the rest are only counted.
MAX_PATHS = 12

_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "matmul": "@"}
# Letters for intermediate nodes; d is left out so that no derivative reads "dd/dc".
_LETTERS = [c for c in string.ascii_lowercase if c not in "dlo"]


# -- formatting -----------------------------------------------------------------------------


def format_number(x: float, digits: int = 6) -> str:
    """A number with ``digits`` significant digits; whole numbers keep a ``.0``.

    Examples
    --------
    >>> format_number(18), format_number(0.8414709848), format_number(-2.5e-9)
    ('18.0', '0.841471', '-2.5e-09')
    """
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}g}"
    if text == "-0":
        text = "0"
    if all(c in "-0123456789" for c in text):
        text += ".0"
    return text


def format_value(x: Any, digits: int = 4, max_items: int = 6) -> str:
    """A number, or an array written compactly (shape and first entries when long).

    Examples
    --------
    >>> import numpy as np
    >>> format_value(np.array([1.0, 0.5])), format_value(np.arange(10.0))
    ('[1.0, 0.5]', '(10,) [0.0, 1.0, 2.0, …]')
    """
    arr = np.asarray(value_of(x))
    if arr.dtype.kind == "b" and arr.size <= max_items:
        return str(arr.tolist())
    if arr.dtype.kind not in "iuf":
        return f"{arr.shape} array of {arr.dtype}" if arr.ndim else str(arr)
    if arr.ndim == 0:
        return format_number(arr, digits + 2)
    if arr.size <= max_items:
        text = np.array2string(
            arr.astype(float),
            separator=", ",
            formatter={"float_kind": lambda v: format_number(v, digits)},
        )
        return " ".join(text.split())
    head = ", ".join(format_number(v, digits) for v in arr.ravel()[:3])
    return f"{arr.shape} [{head}, …]"


def _plain(x: Any) -> Any:
    """A float for a single number (0-d), else a NumPy array of floats (a copy)."""
    arr = np.array(value_of(x))
    if arr.dtype.kind in "biuf":
        arr = arr.astype(float)
    return arr.item() if arr.ndim == 0 else arr


def _size(x: Any) -> int:
    return int(np.size(value_of(x)))


# -- the graph ------------------------------------------------------------------------------


@dataclass
class GraphNode:
    """One node of a computation graph.

    Attributes
    ----------
    id : int
        Its position in the graph (inputs first, then evaluation order).
    op : str
        The primitive's name (``"multiply"``, ``"sin"``, ...), or ``"input"``.
    label : str
        A short readable name: an input's name, ``"L"`` for the output, else a letter.
    formula : str
        How it was computed from its parents, e.g. ``"w * x"`` (empty for inputs).
    value : float or numpy.ndarray
        Its value in this evaluation.
    parents : list of int
        Ids of the nodes it was computed from (each once, in argument order).
    local : dict
        Parent id -> d(node)/d(parent): a number or array for elementwise operations
        (and for any operation between single numbers), else a short description of the
        linear map, e.g. ``"sum: 1 for each entry"``. A parent used twice (``x * x``)
        gets the sum of both local derivatives.
    adjoint : float or numpy.ndarray
        dL/d(node) from the engine's backward pass; same shape as ``value``.
    """

    id: int
    op: str
    label: str
    formula: str
    value: Any
    parents: list[int]
    local: dict[int, Any]
    adjoint: Any

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the value (``()`` for a number)."""
        return tuple(np.shape(self.value))

    @property
    def is_scalar(self) -> bool:
        """Whether the value is a single number."""
        return int(np.size(self.value)) == 1


@dataclass
class Graph:
    """The computation graph of one evaluation of a scalar function, after backpropagation.

    Built by :func:`trace`. ``nodes[i].id == i``; ``inputs`` are the ids of the inputs (in
    argument order) and ``output`` the id of the result L.

    Examples
    --------
    >>> import calcml.numpy as cnp
    >>> g = trace(lambda x: x * x + cnp.sin(x), 0.0)
    >>> [(n.label, n.op) for n in g.nodes]
    [('x', 'input'), ('a', 'multiply'), ('b', 'sin'), ('L', 'add')]
    >>> g.node("x").adjoint
    1.0
    """

    nodes: list[GraphNode]
    output: int
    inputs: list[int]
    name: str = "f"
    _children: dict[int, list[int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._children = {node.id: [] for node in self.nodes}
        for node in self.nodes:
            for p in node.parents:
                self._children[p].append(node.id)

    # -- looking nodes up --------------------------------------------------------------

    def node(self, key: int | str) -> GraphNode:
        """The node with this id or label."""
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            if 0 <= key < len(self.nodes):
                return self.nodes[int(key)]
            raise CalcmlError(f"no node {key}: ids run from 0 to {len(self.nodes) - 1}")
        for node in self.nodes:
            if node.label == key:
                return node
        labels = ", ".join(n.label for n in self.nodes)
        raise CalcmlError(f"no node labelled {key!r}; the labels are {labels}")

    def __getitem__(self, key: int | str) -> GraphNode:
        return self.node(key)

    def __len__(self) -> int:
        return len(self.nodes)

    def children(self, key: int | str) -> list[int]:
        """Ids of the nodes computed from this one."""
        return list(self._children[self.node(key).id])

    # -- paths and the chain rule ------------------------------------------------------

    def count_paths(self, key: int | str) -> int:
        """How many paths lead from the output down to this node."""
        target = self.node(key).id
        counts = {target: 1}
        for node in self.nodes[target + 1 :]:
            counts[node.id] = sum(counts.get(p, 0) for p in node.parents)
        return counts.get(self.output, 0) if self.output != target else 1

    def paths(self, key: int | str, limit: int | None = None) -> list[list[int]]:
        """Paths from the output down to a node, as lists of ids (output first).

        The chain rule says the node's adjoint is the sum over these paths of the
        products of the local derivatives along them. At most ``limit`` paths are listed.

        Examples
        --------
        >>> import calcml.numpy as cnp
        >>> g = trace(lambda x: x * x + cnp.sin(x), 1.0)
        >>> g.paths("x")
        [[3, 1, 0], [3, 2, 0]]
        """
        target = self.node(key).id
        found: list[list[int]] = []
        for path in self._walk(target):
            found.append(path)
            if limit is not None and len(found) >= limit:
                break
        return found

    def _walk(self, target: int) -> Iterator[list[int]]:
        """Depth first from the output, through nodes that lead to the target only."""
        leads = {target}
        for node in self.nodes[target + 1 :]:  # ids follow evaluation order
            if any(p in leads for p in node.parents):
                leads.add(node.id)
        stack = [[self.output]] if self.output in leads else []
        while stack:
            path = stack.pop()
            if path[-1] == target:
                yield path
                continue
            stack.extend([*path, p] for p in reversed(self.nodes[path[-1]].parents) if p in leads)

    def chain(self, key: int | str) -> str:
        """The chain rule for dL/d(node), written out with this evaluation's numbers.

        For numbers, every path from the output to the node is a product of local
        derivatives, and the adjoint is the sum of the products. For arrays, each step
        of each path is shown with the local derivative and the adjoint it produces.
        The last number is the engine's adjoint of the node.

        Examples
        --------
        >>> import calcml.numpy as cnp
        >>> g = trace(lambda x: x * x + cnp.sin(x), 0.0)
        >>> print(g.chain("x"))
        dL/dx = dL/da * da/dx + dL/db * db/dx
              = 1.0 * 0.0 + 1.0 * 1.0
              = 0.0 + 1.0
              = 1.0
        """
        node = self.node(key)
        out = self.nodes[self.output]
        lhs = f"d{out.label}/d{node.label}"
        if node.id == self.output:
            return f"{lhs} = {format_value(node.adjoint)}"
        count = self.count_paths(node.id)
        if count == 0:
            return f"{lhs} = 0 ({out.label} does not depend on {node.label})"
        paths = self.paths(node.id, limit=MAX_PATHS)
        if all(self.nodes[i].is_scalar for path in paths for i in path):
            return self._chain_scalar(lhs, node, paths, count)
        return self._chain_arrays(lhs, node, paths, count)

    def _factor(self, child: int, parent: int) -> str:
        return f"d{self.nodes[child].label}/d{self.nodes[parent].label}"

    def _chain_scalar(self, lhs: str, node: GraphNode, paths: list[list[int]], count: int) -> str:
        symbols, numbers, products = [], [], []
        for path in paths:
            edges = list(itertools.pairwise(path))
            symbols.append(" * ".join(self._factor(c, p) for c, p in edges))
            locals_ = [float(np.ravel(self.nodes[c].local[p])[0]) for c, p in edges]
            numbers.append(" * ".join(_signed(v) for v in locals_))
            products.append(math.prod(locals_))
        more = f" + ({count - len(paths)} more paths)" if count > len(paths) else ""
        adjoint = format_value(node.adjoint)
        if count == 1:
            return f"{lhs} = {symbols[0]} = {numbers[0]} = {adjoint}"
        pad = " " * len(lhs)
        lines = [
            f"{lhs} = {' + '.join(symbols)}{more}",
            f"{pad} = {' + '.join(numbers)}{more}",
            f"{pad} = {' + '.join(_signed(v) for v in products)}{more}",
            f"{pad} = {adjoint}",
        ]
        return "\n".join(lines)

    def _chain_arrays(self, lhs: str, node: GraphNode, paths: list[list[int]], count: int) -> str:
        out = self.nodes[self.output]
        intro = (
            f"{lhs}, with arrays: {node.label} has shape {node.shape}. Each step multiplies "
            "the adjoint by a local derivative (elementwise: entry by entry; otherwise the "
            f"linear map named), and each adjoint d{out.label}/d(node) sums every path "
            "into its node."
        )
        lines = textwrap.wrap(intro, width=88)
        for k, path in enumerate(paths, 1):
            edges = list(itertools.pairwise(path))
            chain = " * ".join(self._factor(c, p) for c, p in edges)
            shapes = ", ".join(f"{self.nodes[i].label} {self.nodes[i].shape}" for i in path)
            lines.append(f"path {k}: {lhs} = {chain}   (shapes: {shapes})")
            for c, p in edges:
                parent = self.nodes[p]
                local = self.nodes[c].local[p]
                kind = " (elementwise)" if isinstance(local, np.ndarray) else ""
                shown = local if isinstance(local, str) else format_value(local)
                lines.append(
                    f"  {self._factor(c, p)} = {shown}{kind}"
                    f"  ->  d{out.label}/d{parent.label} = {format_value(parent.adjoint)}"
                )
        if count > len(paths):
            lines.append(f"... and {count - len(paths)} more paths")
        lines.append(f"{lhs} = {format_value(node.adjoint)}")
        return "\n".join(lines)

    # -- tables and exports --------------------------------------------------------------

    def _rows(self) -> list[list[str]]:
        rows = []
        for n in self.nodes:
            local = "; ".join(
                f"{self._factor(n.id, p)} = " + (d if isinstance(d, str) else format_value(d))
                for p, d in n.local.items()
            )
            formula = f"{n.label} = {n.formula}" if n.formula else n.label
            rows.append(
                [str(n.id), formula, n.op, format_value(n.value), local, format_value(n.adjoint)]
            )
        return rows

    def _header(self) -> list[str]:
        out_label = self.nodes[self.output].label
        return ["id", "node", "op", "value", "local derivatives", f"d{out_label}/d(node)"]

    def table(self) -> str:
        """A plain-text table: id, node (label = formula), op, value, local
        derivatives, adjoint.

        Examples
        --------
        >>> print(trace(lambda x, y: x * y, 2.0, 3.0).table())
        id  node       op        value  local derivatives        dL/d(node)
        0   x          input     2.0                             3.0
        1   y          input     3.0                             2.0
        2   L = x * y  multiply  6.0    dL/dx = 3.0; dL/dy = 2.0  1.0
        """
        rows = self._rows()
        table = [self._header(), *rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        rows = self._rows()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._header())
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain JSON-ready data (arrays become nested lists; non-finite
        numbers become None).

        Examples
        --------
        >>> import json
        >>> d = trace(lambda x: 3.0 * x, 2.0).to_dict()
        >>> d["nodes"][1]["local"], d["output"]
        ({'0': 3.0}, 1)
        >>> len(json.dumps(d)) > 0
        True
        """
        return {
            "name": self.name,
            "output": self.output,
            "inputs": list(self.inputs),
            "nodes": [
                {
                    "id": n.id,
                    "label": n.label,
                    "op": n.op,
                    "formula": n.formula,
                    "shape": list(n.shape),
                    "value": _jsonable(n.value),
                    "parents": list(n.parents),
                    "local": {str(p): _jsonable(d) for p, d in n.local.items()},
                    "adjoint": _jsonable(n.adjoint),
                }
                for n in self.nodes
            ],
        }


def _signed(x: float) -> str:
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def _jsonable(x: Any) -> Any:
    if isinstance(x, str):
        return x
    arr = np.asarray(x, dtype=float)
    clean = np.where(np.isfinite(arr), arr, np.nan).astype(object)
    clean[~np.isfinite(arr)] = None
    return clean.tolist()


# -- building the graph from a recording ------------------------------------------------------


def trace(f: Callable[..., Any], *args: Any, names: Sequence[str] | str | None = None) -> Graph:
    """The computation graph of ``f(*args)``, with values, local derivatives and adjoints.

    ``f`` is written with :mod:`calcml.numpy`; every argument is an input (a number or
    an array) and the result must be a single number, the loss L. The backward pass
    fills in every adjoint dL/d(node) exactly as :func:`calcml.ad.grad` computes it.

    Parameters
    ----------
    f : callable
        A scalar-valued function of numbers and arrays.
    *args : float or array_like
        The point of evaluation; each argument becomes an input node.
    names : sequence of str or str, optional
        Labels of the inputs (a string is split on commas and spaces). By default the
        parameter names of ``f``, or ``x`` / ``x0, x1, ...`` when it has none.

    Returns
    -------
    Graph
        Nodes in evaluation order (inputs first); only nodes that L depends on are kept.

    Raises
    ------
    CalcmlError
        If ``f`` returns more than one number, or does not depend on its inputs.

    Examples
    --------
    >>> import calcml.numpy as cnp
    >>> g = trace(lambda w, x: cnp.tanh(w * x), 0.5, 2.0)
    >>> print(g)
    id  node           op        value     local derivatives         dL/d(node)
    0   w              input     0.5                                 0.839949
    1   x              input     2.0                                 0.209987
    2   a = w * x      multiply  1.0       da/dw = 2.0; da/dx = 0.5  0.419974
    3   L = tanh(a)    tanh      0.761594  dL/da = 0.419974          1.0
    """
    if not args:
        raise CalcmlError("trace needs at least one input: call trace(f, x, ...)")
    rec = _Recording(f, args, tuple(range(len(args))))
    out = rec.out
    if not (isinstance(out, Box) and out.level == rec.level):
        raise CalcmlError("the function does not depend on its inputs: there is no graph to show")
    if _size(out) != 1:
        raise CalcmlError(
            f"trace needs a function with a scalar output (a loss), but this one returns shape "
            f"{shape_of(out)}; reduce it to one number first, e.g. with cnp.sum(...) or "
            "cnp.mean((prediction - target) ** 2)"
        )
    shape = shape_of(out)
    rec.backward(np.ones(shape) if shape else 1.0)
    return _build(rec, _input_names(f, len(args), names), getattr(f, "__name__", "f"))


def _input_names(f: Callable[..., Any], n: int, names: Sequence[str] | str | None) -> list[str]:
    if names is not None:
        given = names.replace(",", " ").split() if isinstance(names, str) else list(names)
        if len(given) != n or len(set(given)) != n or not all(isinstance(s, str) for s in given):
            raise CalcmlError(f"names must be {n} different string(s), one per input: {names!r}")
        return given
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    found = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        found.append(p.name)
    if len(found) >= n:
        return found[:n]
    return ["x"] if n == 1 else [f"x{i}" for i in range(n)]


def _keep(rec: _Recording) -> list[Box]:
    """The boxes L depends on, in evaluation order (inputs first)."""
    needed = {id(rec.out)}
    for box in reversed(rec.tape):
        if id(box) in needed:
            needed.update(id(parent) for _, parent in box.parents)
    tape = [box for box in rec.tape if id(box) in needed]
    return [*rec.inputs, *tape]


def _labels(boxes: list[Box], n_inputs: int, inputs: list[str], out: Box) -> list[str]:
    taken = set(inputs)
    out_label = next(s for s in ("L", "loss", "out", "result") if s not in taken)
    middle = [b for b in boxes[n_inputs:] if b is not out]
    letters = [c for c in _LETTERS if c not in taken | {out_label}]
    if len(middle) > len(letters):
        letters = [f"v{i}" for i in range(1, 2 * len(boxes)) if f"v{i}" not in taken]
    names = iter(letters)
    labels = list(inputs)
    for box in boxes[n_inputs:]:
        labels.append(out_label if box is out else next(names))
    return labels


def _build(rec: _Recording, inputs: list[str], name: str) -> Graph:
    boxes = _keep(rec)
    n_in = len(rec.inputs)
    labels = _labels(boxes, n_in, inputs, rec.out)
    ids = {id(box): i for i, box in enumerate(boxes)}
    nodes = []
    for i, box in enumerate(boxes):
        adjoint = box.adjoint if box.adjoint is not None else np.zeros(np.shape(box.value))
        if i < n_in:
            nodes.append(
                GraphNode(i, "input", labels[i], "", _plain(box.value), [], {}, _plain(adjoint))
            )
            continue
        texts = _arg_texts(box, ids, labels)
        parents = list(dict.fromkeys(ids[id(p)] for _, p in box.parents))
        nodes.append(
            GraphNode(
                i,
                box.primitive.name,
                labels[i],
                _formula(box, texts),
                _plain(box.value),
                parents,
                _locals(box, ids, texts),
                _plain(adjoint),
            )
        )
    return Graph(nodes, ids[id(rec.out)], list(range(n_in)), name=name)


# -- formulas and local derivatives -------------------------------------------------------------


def _arg_texts(box: Box, ids: dict[int, int], labels: list[str]) -> list[str]:
    """How each argument of a node is written: a parent's label, or the constant."""
    texts = [_constant(a) for a in box.args]
    for argnum, parent in box.parents:
        texts[argnum] = labels[ids[id(parent)]]
    return texts


def _constant(x: Any) -> str:
    x = value_of(x)
    if isinstance(x, int) or (isinstance(x, tuple) and all(isinstance(v, int) for v in x)):
        return str(x)
    if isinstance(x, int | float | np.ndarray | np.number) and not isinstance(x, bool):
        text = format_value(x, max_items=4)
        return f"({text})" if text.startswith("-") else text
    return _index_text(x)


def _index_text(index: Any) -> str:
    if isinstance(index, tuple):
        return ", ".join(_index_text(i) for i in index)
    if isinstance(index, slice):
        parts = ["" if v is None else str(v) for v in (index.start, index.stop, index.step)]
        return ":".join(parts[:2] if index.step is None else parts)
    if index is Ellipsis:
        return "..."
    if isinstance(index, np.ndarray | list):
        return format_value(np.asarray(index), max_items=4)
    return str(index)


def _formula(box: Box, texts: list[str]) -> str:
    name = box.primitive.name
    kwargs = "".join(
        f", {k}={_constant(v)}" for k, v in box.kwargs.items() if v is not None and v is not False
    )
    if name in _SYMBOLS and len(texts) == 2:
        return f"{texts[0]} {_SYMBOLS[name]} {texts[1]}"
    if name == "power":
        return f"{texts[0]}^{texts[1]}"
    if name == "negative":
        return f"-{texts[0]}"
    if name == "square":
        return f"{texts[0]}^2"
    if name == "getitem":
        return f"{texts[0]}[{_index_text(value_of(box.args[1]))}]"
    if name == "concatenate":
        return f"concatenate([{', '.join(texts[1:])}], axis={texts[0]})"
    return f"{name}({', '.join(texts)}{kwargs})"


def _locals(box: Box, ids: dict[int, int], texts: list[str]) -> dict[int, Any]:
    """d(node)/d(parent) for each parent (summed over the arguments it appears in)."""
    prim = box.primitive
    args = [value_of(a) for a in box.args]
    kwargs = {k: value_of(v) for k, v in box.kwargs.items()}
    ans = value_of(box.value)
    parts: dict[int, list[Any]] = {}
    for argnum, parent in box.parents:
        with np.errstate(all="ignore"):
            part = _local(prim, argnum, ans, args, kwargs, texts)
        parts.setdefault(ids[id(parent)], []).append(part)
    return {pid: _combine(found) for pid, found in parts.items()}


def _combine(parts: list[Any]) -> Any:
    """One local derivative from those of each argument a parent appears as: numbers add;
    descriptions join, with their gradients (for a single-number node) added up."""
    if not any(isinstance(p, tuple) for p in parts):
        return sum(parts[1:], start=parts[0])
    texts = [p[0] if isinstance(p, tuple) else format_value(p) for p in parts]
    text = " + ".join(dict.fromkeys(texts))
    grads = [p[1] if isinstance(p, tuple) else p for p in parts]
    if all(g is not None for g in grads):
        text += f", here {format_value(sum(grads[1:], start=grads[0]))}"
    return text


def _local(
    prim: Primitive, argnum: int, ans: Any, args: list, kwargs: dict, texts: list[str]
) -> Any:
    """A number or array, or (description, gradient or None) for other operations."""
    rules = prim.local
    if prim.elementwise and argnum < len(rules) and rules[argnum] is not None:
        return _plain(rules[argnum](ans, *args, **kwargs))
    # For elementwise operations and single-number results, d(ans)/d(arg) (entry by
    # entry, or as a gradient) is the VJP of a cotangent of ones.
    seed = np.ones(np.shape(ans)) if np.ndim(ans) else 1.0
    if prim.elementwise or (_size(ans) == 1 and _size(args[argnum]) == 1):
        return _plain(prim.vjps[argnum](seed, ans, *args, **kwargs))
    gradient = _plain(prim.vjps[argnum](seed, ans, *args, **kwargs)) if _size(ans) == 1 else None
    return _describe(prim.name, argnum, kwargs, texts), gradient


def _describe(name: str, argnum: int, kwargs: dict, texts: list[str]) -> str:
    """A short description of the local derivative of a non-elementwise operation."""
    axis = kwargs.get("axis")
    where = f" over axis {axis}" if axis is not None else ""
    other = texts[1 - argnum] if len(texts) == 2 else ""
    fixed = {
        "sum": f"sum{where}: 1 for each entry",
        "sum_to": "sum: 1 for each entry",
        "broadcast_to": "broadcast: 1 for each copy",
        "reshape": "reshape: 1 for each entry (entries only move)",
        "transpose": "transpose: 1 for each entry (entries only move)",
        "getitem": "indexing: 1 at the selected entries, 0 elsewhere",
        "untake": "placing: 1 at the indexed entries",
        "concatenate": "concatenate: 1 for each entry of its block",
        "max": f"max{where}: 1 at the maximum (shared by ties), 0 elsewhere",
        "min": f"min{where}: 1 at the minimum (shared by ties), 0 elsewhere",
        "prod": f"prod{where}: the product of the other entries",
        "logsumexp": f"logsumexp{where}: the softmax of the entries",
    }
    if name in fixed:
        return fixed[name]
    if name in ("matmul", "outer"):
        op = "t @ {}" if name == "matmul" else "outer(t, {})"
        if argnum == 1:
            op = "{} @ t" if name == "matmul" else "outer({}, t)"
        return f"{name}: linear, t -> {op.format(other)}"
    return f"{name}: given by its VJP rule"
