"""``calcml tour``: a walk through every part of the syllabus, on built-in examples.

Each part of the course is one small section function that prints what calcml computes
(with the steps that produced it) and saves figures into the tour folder. The sections
live in :data:`SECTIONS`, in course order; a new part of the library adds its section
with :func:`section`, and the tour picks it up.

>>> from pathlib import Path
>>> import tempfile
>>> lines = []
>>> with tempfile.TemporaryDirectory() as tmp:
...     saved = run_tour(Path(tmp), plots=False, echo=lines.append)
>>> saved
[]
>>> any(line.startswith("== Part 1") for line in lines)
True

This module also holds the plain-text helpers the command line shares with the tour
(:func:`format_number`, :func:`point_text`, :func:`matrix_lines`): presentation only,
no maths.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .data import load
from .errors import CalcmlError, CalcmlWarning
from .expr import parse, to_text
from .fit import chi2, fit, linear_fit
from .optimize import gradient_descent, lagrange, minimize, newton_raphson
from .symbolic import (
    derivative,
    equivalent,
    gradient,
    hessian,
    jacobian,
    linearise,
    partial,
    taylor,
    total_derivative,
    truncation_slope,
)
from .symbolic.compile import compile_expr

DEFAULT_OUT = Path("calcml-tour")

Echo = Callable[[str], Any]


# -- plain-text helpers (shared with calcml.cli) ---------------------------------------


def format_number(value: float) -> str:
    """A float as people read it: 12 significant digits, no ``.0``, no ``-0``.

    >>> format_number(4.0), format_number(2.223244275484), format_number(-0.0)
    ('4', '2.22324427548', '0')
    """
    text = f"{float(value):.12g}"
    return "0" if text == "-0" else text


def point_text(point: Mapping[str, float]) -> str:
    """``{"x": 1, "y": 2}`` as ``x=1, y=2``.

    >>> point_text({"x": 1.0, "y": 2.5})
    'x=1, y=2.5'
    """
    return ", ".join(f"{name}={format_number(v)}" for name, v in point.items())


def column_alignment(numeric: bool | Sequence[bool], n: int) -> list[bool]:
    """Which of ``n`` columns hold numbers: one flag for all, or one flag per column."""
    return [numeric] * n if isinstance(numeric, bool) else list(numeric)


def matrix_lines(
    cells: Sequence[Sequence[str]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    numeric: bool | Sequence[bool] = False,
    indent: str = "  ",
) -> list[str]:
    """An aligned text table: a header of column labels, then one labelled line per row.

    Numbers are right-aligned (so their digits line up), expressions left-aligned;
    ``numeric`` says which columns hold numbers (one flag for all, or one per column).

    >>> print("\\n".join(matrix_lines([["4", "2"], ["2", "12"]], ["x", "y"], ["x", "y"],
    ...                               numeric=True)))
         x   y
      x  4   2
      y  2  12
    """
    label_width = max((len(r) for r in row_labels), default=0)
    widths = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(col_labels)]
    right = column_alignment(numeric, len(col_labels))

    def line(texts: Sequence[str]) -> str:
        return "  ".join(
            t.rjust(w) if r else t.ljust(w) for t, w, r in zip(texts, widths, right, strict=True)
        )

    lines = [(indent + " " * label_width + "  " + line(col_labels)).rstrip()]
    for label, row in zip(row_labels, cells, strict=True):
        body = line(row)
        lines.append(f"{indent}{label.ljust(label_width)}  {body}".rstrip())
    return lines


def text_cells(matrix: Any) -> list[list[str]]:
    """The entries of a SymPy matrix as plain text, row by row."""
    return [[to_text(e) for e in matrix.row(i)] for i in range(matrix.rows)]


def number_cells(array: np.ndarray) -> list[list[str]]:
    """The entries of a 2-D array as formatted numbers, row by row."""
    return [[format_number(v) for v in row] for row in np.atleast_2d(array)]


# -- the tour ----------------------------------------------------------------------------


@dataclass
class Tour:
    """What a section needs: where to save figures, whether to, and how to print."""

    out: Path
    plots: bool
    echo: Echo
    saved: list[Path] = field(default_factory=list)

    def topic(self, title: str) -> None:
        """A sub-heading inside a part."""
        self.echo("")
        self.echo(f"-- {title} --")

    def lines(self, text: str) -> None:
        for line in text.splitlines():
            self.echo(line)

    def matrix(
        self,
        cells: Sequence[Sequence[str]],
        row_labels: Sequence[str],
        col_labels: Sequence[str],
        numeric: bool | Sequence[bool] = False,
    ) -> None:
        for line in matrix_lines(cells, row_labels, col_labels, numeric):
            self.echo(line)

    def figure(self, name: str, make: Callable[[Any], Any], caption: str) -> None:
        """Make a figure with ``make(calcml.plots)`` and save it as ``out/name``."""
        if not self.plots:
            return
        from . import plots  # imported late: matplotlib is only needed for figures

        path = plots.save(make(plots), self.out / name)
        self.saved.append(path)
        self.echo(f"figure: {path}  ({caption})")


Section = Callable[[Tour], None]

#: The parts of the tour, in course order: (title, section function).
SECTIONS: list[tuple[str, Section]] = []

#: The course's number of a part, where it is not simply one more than the part before
#: (the tour skips parts the library does not cover yet): title -> number.
PART_NUMBERS: dict[str, int] = {}


def section(title: str, part: int | None = None) -> Callable[[Section], Section]:
    """Decorator: append a section function to the tour under ``title``.

    ``part`` is its number in the course, when that is not the next one (part 4 may
    follow part 2 until part 3 has a section).
    """

    def register(func: Section) -> Section:
        SECTIONS.append((title, func))
        if part is not None:
            PART_NUMBERS[title] = part
        return func

    return register


def header(number: int, title: str) -> str:
    """The header line of part ``number``, e.g. ``== Part 1: What is calculus ==``."""
    return f"== Part {number}: {title} =="


# -- Part 1 ------------------------------------------------------------------------------

RULE_EXAMPLES = [
    ("The sum rule", "x^3 + sin(x)"),
    ("The power rule", "x^5"),
    ("The product rule", "x^2 sin(x)"),
    ("The chain rule", "sin(x^2)"),
    ("The quotient rule", "sin(x)/x"),
    ("An exponential a^x", "2^x"),
    ("x to the power x", "x^x"),
]


@section("What is calculus")
def what_is_calculus(tour: Tour) -> None:
    """Slope as rise over run, the derivative as a limit, and the rules of differentiation."""
    from . import numeric

    tour.topic("Rise over run: the slope of f(x) = x^2 between x = 3 and x = 3 + run")
    table = numeric.secant_slopes("x^2", 3, (1, 0.5, 0.25, 0.1, 0.01, 0.001))
    tour.lines(str(table))
    exact = derivative("x^2", "x", at=3)
    tour.echo(
        f"As the run shrinks, rise/run tends to the derivative: "
        f"d/dx x^2 = {to_text(exact.result)}, which is {format_number(exact.value)} "
        f"at x = 3."
    )
    tour.figure(
        "01-secant.png",
        lambda p: p.secant("x^2", 3),
        "secant lines of x^2 at x = 3 closing in on the tangent",
    )

    for title, text in RULE_EXAMPLES:
        tour.topic(f"{title}: d/dx [{text}]")
        tour.lines(derivative(text, "x").explain())

    tour.topic("The derivative is a function too")
    tour.echo("f(x) = x^2 sin(x) and f'(x) drawn together: f' is zero where f turns.")
    tour.figure(
        "02-function-and-derivative.png",
        lambda p: p.function_and_derivative("x^2 sin(x)", window=(-5, 5)),
        "f(x) = x^2 sin(x) and its derivative",
    )


# -- Part 2 ------------------------------------------------------------------------------

F2 = "x^2 y + sin(x y)"
POINT2 = {"x": 1.0, "y": 2.0}


@section("Multivariate calculus")
def multivariate_calculus(tour: Tour) -> None:
    """Partial derivatives, gradient, Jacobian, Hessian, total derivative, checking answers."""
    f = parse(F2)
    names = ["x", "y"]
    tour.echo(f"f(x, y) = {to_text(f)}")

    for var in names:
        tour.topic(f"Partial derivative ∂f/∂{var}: the other variable held constant")
        tour.lines(partial(f, var).explain())

    tour.topic("The gradient ∇f: the partial derivatives in a column")
    grad = gradient(f, names)
    grad_at = gradient(f, names, at=POINT2)
    tour.matrix(
        [[to_text(g), format_number(v)] for g, v in zip(grad, grad_at, strict=True)],
        [f"∂f/∂{v}" for v in names],
        ["∇f", f"at {point_text(POINT2)}"],
        numeric=[False, True],
    )
    tour.echo("The gradient points uphill, the way f grows fastest.")

    tour.topic("The Jacobian of the map (u, v) = (x^2 y, 5x + sin(y))")
    fs = ["x^2 y", "5x + sin(y)"]
    tour.matrix(text_cells(jacobian(fs, names)), ["∂u", "∂v"], [f"∂{v}" for v in names])
    tour.echo(f"at {point_text(POINT2)}:")
    tour.matrix(
        number_cells(jacobian(fs, names, at=POINT2)),
        ["∂u", "∂v"],
        [f"∂{v}" for v in names],
        numeric=True,
    )

    tour.topic("The Hessian: all second partial derivatives of f")
    tour.matrix(text_cells(hessian(f, names)), names, names)
    tour.echo(f"at {point_text(POINT2)}:")
    tour.matrix(number_cells(hessian(f, names, at=POINT2)), names, names, numeric=True)

    tour.topic("Total derivative along a path: f = x^2 y with x = t - 1, y = t^2")
    total = total_derivative("x^2 y", {"x": "t - 1", "y": "t^2"}, "t", at=2)
    tour.lines(total.explain())

    tour.topic("Evaluating at a point with at=")
    for var in names:
        d = partial(f, var, at=POINT2)
        tour.echo(
            f"∂f/∂{var} = {to_text(d.result)}, at {point_text(POINT2)}: {format_number(d.value)}"
        )

    tour.topic("Checking a learner's answer for ∂f/∂x with equivalent()")
    expected = partial(f, "x").result
    for answer in ("2x y + y cos(x y)", "2x y + cos(x y)"):
        verdict = "correct" if equivalent(answer, expected) else "not the same function"
        tour.echo(f"{answer!r}: {verdict}")

    tour.topic("Figures")
    tour.figure(
        "03-contour-gradient.png",
        lambda p: p.contour_gradient(F2, point=(POINT2["x"], POINT2["y"])),
        "contours of f with gradient arrows, the point (1, 2) marked",
    )
    tour.figure("04-surface.png", lambda p: p.surface(F2), "f as a 3-D surface")


# -- Part 3 ------------------------------------------------------------------------------

NEURON = {"w": 0.8, "b": -0.3, "x": 1.5, "y": 1.0}  # one neuron, one sample, one target


def _neuron_cost(w: Any, b: Any, x: Any, y: Any) -> Any:
    import calcml.numpy as cnp

    return (cnp.sigmoid(w * x + b) - y) ** 2


def _inner_map(v: Any) -> Any:  # g(x, y) = (x y, x + y)
    import calcml.numpy as cnp

    return cnp.stack([v[0] * v[1], v[0] + v[1]])


def _outer_map(u: Any) -> Any:  # f(u, v) = (sin u, u v^2)
    import calcml.numpy as cnp

    return cnp.stack([cnp.sin(u[0]), u[0] * u[1] ** 2])


@section("The multivariate chain rule", part=3)
def chain_rule(tour: Tour) -> None:
    """The chain rule at work in calcml's automatic differentiation: one neuron's cost as a
    computation graph with its adjoints, the chain rule written out with numbers, the
    Jacobian of a composition as a product of Jacobians, and a check against finite
    differences."""
    from . import ad

    point = tuple(NEURON.values())
    names = list(NEURON)
    tour.topic("One neuron: C = (sigmoid(w x + b) - y)^2, as a graph of simple steps")
    tour.echo(f"at {point_text(NEURON)}; dL/d(node) is the adjoint from the backward pass")
    graph = ad.trace(_neuron_cost, *point, names=names)
    tour.lines(str(graph))

    for name in ("w", "b"):
        tour.topic(f"How C depends on {name}: the chain rule along the graph")
        tour.lines(graph.chain(name))
    tour.echo(
        "Backpropagation is this bookkeeping done once, backwards: each node's adjoint is "
        "the sum over its children of (child's adjoint) x (local derivative)."
    )

    tour.topic("The Jacobian of a composition is the product of the Jacobians")
    v = np.array([0.5, 2.0])
    whole = ad.jacobian(lambda p: _outer_map(_inner_map(p)))(v)
    product = ad.jacobian(_outer_map)(_inner_map(v)) @ ad.jacobian(_inner_map)(v)
    tour.echo("g(x, y) = (x y, x + y), f(u, v) = (sin u, u v^2), at (x, y) = (0.5, 2):")
    tour.matrix(number_cells(whole), ["d f1", "d f2"], ["dx", "dy"], numeric=True)
    tour.echo(
        "J_f(g(x)) J_g(x), multiplied out, differs from it by at most "
        f"{float(np.max(np.abs(whole - product))):.1e}: the multivariate chain rule."
    )

    tour.topic("Trust, but check: the engine against finite differences")
    tour.lines(str(ad.check_grad(_neuron_cost, *point)))

    tour.figure(
        "30-computation-graph.png",
        lambda p: p.computation_graph(graph, title="C = (sigmoid(w x + b) - y)^2"),
        "the neuron's computation graph with values and adjoints",
    )


# Part 3, continued: neural networks. The neuron's data are made by a "teacher" neuron
# a = sigmoid(2 x - 1), so the lowest point of its cost landscape is known: (w, b) = (2, -1).
TEACHER = (2.0, -1.0)
TEACHER_X = np.linspace(-2.0, 2.0, 9)
DESCENT_START = (-3.0, 3.0)
DESCENT_LR, DESCENT_STEPS = 5.0, 60
DESCENT_SHOWN = (0, 1, 2, 5, 10, 20, 40, 60)  # steps whose (w, b) and cost are printed
SMALL_NET = [2, 3, 2]  # the network whose backpropagation is written out
SMALL_X = np.array([[0.5, -1.0], [1.0, 2.0], [0.0, 1.0], [-1.5, 0.5]])
SMALL_Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 1.0]])


def _neuron(w: float, b: float) -> Any:
    """A single sigmoid neuron a = sigmoid(w x + b), as a calcml.nn network."""
    from .nn import MLP

    net = MLP([1, 1], activation="sigmoid")
    net.layers[0].weight[0, 0], net.layers[0].bias[0] = w, b
    return net


def neuron_descent() -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """The teacher's data (x, y) and the (w, b) of every step of full-batch gradient
    descent from DESCENT_START (the start first), recorded by train's callback."""
    from .nn import train

    x = TEACHER_X[:, None]
    y = _neuron(*TEACHER)(x)
    net = _neuron(*DESCENT_START)
    path = [DESCENT_START]

    def record(epoch: int, net: Any, loss: float) -> None:
        path.append((float(net.layers[0].weight[0, 0]), float(net.layers[0].bias[0])))

    train(
        net,
        x,
        y,
        loss="mse",
        optimizer="sgd",
        lr=DESCENT_LR,
        epochs=DESCENT_STEPS,
        progress=False,
        callback=record,
    )
    return x, y, path


@functools.cache
def curve_run() -> Any:
    """The curve demo with its defaults (seeded: the same every time, so kept)."""
    from .nn.demos import curve_demo

    return curve_demo(progress=False)


@functools.cache
def digits_run() -> Any:
    """The digits demo with its defaults (seeded: the same every time, so kept)."""
    from .nn.demos import digits_demo

    return digits_demo(progress=False)


@section("Neural networks and backpropagation", part=3)
def neural_networks(tour: Tour) -> None:
    """The multivariate chain rule at work in a network: one neuron's cost landscape with
    a gradient descent on it, the backpropagation equations of a small network checked
    against calcml.ad, a 1-6-7-2 network learning to draw a curve, and a 64-32-10 network
    reading handwritten digits."""
    from . import ad, nn
    from .nn.demos import load_digits
    from .nn.losses import LOSSES

    tour.topic("One neuron's cost over its weight and bias: C(w, b)")
    x, y, path = neuron_descent()
    tour.echo(
        f"{len(x)} points x = {format_number(x[0, 0])}, ..., {format_number(x[-1, 0])} with "
        f"targets made by the neuron a = sigmoid({TEACHER[0]:g} x - {-TEACHER[1]:g}), so the "
        f"cost C(w, b) = mean (sigmoid(w x + b) - y)^2 is 0 at (w, b) = "
        f"({TEACHER[0]:g}, {TEACHER[1]:g})."
    )
    tour.echo(
        f"Gradient descent (full batch, learning rate {DESCENT_LR:g}) from (w, b) = "
        f"({DESCENT_START[0]:g}, {DESCENT_START[1]:g}), each step backpropagated:"
    )
    rows = []
    for k in DESCENT_SHOWN:
        w, b = path[k]
        cost = nn.loss(_neuron(w, b), x, y, "mse")
        rows.append([f"{w:.4f}", f"{b:.4f}", f"{cost:.3g}"])
    tour.matrix(rows, [f"step {k}" for k in DESCENT_SHOWN], ["w", "b", "C(w, b)"], numeric=True)
    tour.echo(
        "On the plateau the sigmoid is flat for most points, so the gradient is small and "
        "the steps short; once in the valley they run down it towards the teacher's "
        f"({TEACHER[0]:g}, {TEACHER[1]:g})."
    )
    tour.figure(
        "31-neuron-landscape.png",
        lambda p: p.neuron_landscape(x, y, path=path),
        f"C(w, b) of one sigmoid neuron as contours, with {DESCENT_STEPS} steps of "
        "gradient descent on it",
    )

    tour.topic(f"Backpropagation written out: a {'-'.join(map(str, SMALL_NET))} sigmoid network")
    net = nn.MLP(SMALL_NET, activation="sigmoid", seed=1)
    grads = nn.backprop(net, SMALL_X, SMALL_Y, loss="mse")
    tour.echo(f"{len(SMALL_X)} samples, mean squared error; the equations with this run's shapes:")
    tour.lines(grads.equations())
    for k, (dw, db) in enumerate(grads, 1):
        tour.echo(f"dC/dW_{k} and dC/db_{k}:")
        tour.matrix(
            [[f"{v:.6f}" for v in (*row, bias)] for row, bias in zip(dw, db, strict=True)],
            [f"neuron {j}" for j in range(1, len(db) + 1)],
            [*(f"from a_{k - 1}[{i}]" for i in range(1, dw.shape[1] + 1)), "bias"],
            numeric=True,
        )

    def cost(*params: Any) -> Any:  # the same loss, for calcml.ad to differentiate
        twin = net.copy()
        for layer, weight, bias in zip(twin.layers, params[::2], params[1::2], strict=True):
            layer.weight, layer.bias = weight, bias
        return LOSSES["mse"].value(None, twin(SMALL_X), SMALL_Y, None)

    params = net.parameters()
    auto = ad.grad(cost, argnums=tuple(range(len(params))))(*params)
    explicit = [g for pair in grads for g in pair]
    gap = max(float(np.max(np.abs(e - a))) for e, a in zip(explicit, auto, strict=True))
    tour.echo(
        f"calcml.ad's reverse mode on the same loss gives the same {net.n_parameters} "
        f"derivatives: max |backprop - calcml.ad| = {gap:.1e}."
    )

    tour.topic("Learning to draw: a 1-6-7-2 sigmoid network, one input t, two outputs (x, y)")
    curve = curve_run()
    history = curve.history
    tour.echo(
        f"Trained on {len(curve.t)} points of a closed curve (a heart) for {history.epochs} "
        f"epochs of {history.optimizer} (lr {history.lr:g}): the loss falls from "
        f"{history.loss[0]:.3g} to {history.loss[-1]:.3g}."
    )
    tour.echo(f"rms error of the drawn points: {curve.rms_error:.4f}")
    tour.figure(
        "32-curve-learning.png",
        lambda p: p.curve_learning(curve),
        "the curve and what the network draws at epochs "
        + ", ".join(str(e) for e in sorted(curve.snapshots))
        + ", beside the loss",
    )

    tour.topic("Reading handwritten digits: a 64-32-10 network on scikit-learn's 8x8 digits")
    try:
        load_digits()  # scikit-learn ships the images: an optional extra
    except CalcmlError as exc:
        tour.echo(f"Skipped: {exc}.")
        return
    digits = digits_run()
    history = digits.history
    right = int(np.trace(digits.confusion))
    tour.echo(
        f"Sigmoid hidden layer, softmax output, cross-entropy; {history.epochs} epochs of "
        f"{history.optimizer} in batches of {history.batch_size} on three quarters of the "
        f"images, tested on the other {len(digits.y_test)}."
    )
    tour.echo(
        f"training loss {history.loss[0]:.3g} -> {history.loss[-1]:.3g}, test loss "
        f"{history.val_loss[-1]:.3g}; test accuracy: {100 * digits.accuracy:.1f} % "
        f"({right} of {len(digits.y_test)})"
    )
    tour.echo("The confusion matrix (rows: the true digit, columns: the digit read):")
    labels = [str(k) for k in range(10)]
    tour.matrix([[str(v) for v in row] for row in digits.confusion], labels, labels, numeric=True)
    tour.figure(
        "33-digits.png",
        lambda p: p.digits_learning(digits),
        "the training and test loss per epoch, and the confusion matrix of the test digits",
    )


# -- Part 4 ------------------------------------------------------------------------------

EXP_ORDERS = range(1, 7)
EXP_INTERVAL = (-1.0, 1.0)
LOG1P = "log(1 + x)"
LOG_POINTS = (0.5, 1.5)
LOG_ORDERS = (2, 6, 10)
NEAR2 = {"x": 1.1, "y": 2.1}  # a point near POINT2, for the approximations of F2


@section("Taylor series and linearisation", part=4)
def taylor_series(tour: Tour) -> None:
    """Taylor polynomials with their derivative tables, remainder bounds next to the true
    error, the radius of convergence, the O(h^2) error of a linearisation, and the
    quadratic approximation of a function of two variables."""
    tour.topic("exp(x) about 0: the table of derivatives builds the polynomial")
    tour.lines(taylor("exp(x)", about=0, order=max(EXP_ORDERS)).explain())

    low, high = EXP_INTERVAL
    tour.topic(f"Lagrange's remainder bound on [{low:g}, {high:g}] next to the true error")
    xs = np.linspace(low, high, 401)
    exp = compile_expr(parse("exp(x)"), ["x"])(xs)
    rows = []
    for n in EXP_ORDERS:
        t = taylor("exp(x)", about=0, order=n)
        true = float(np.max(np.abs(exp - t(xs))))
        rows.append([f"{t.remainder_bound(low, high):.3g}", f"{true:.3g}"])
    tour.matrix(rows, [str(n) for n in EXP_ORDERS], ["bound", "largest |f - p|"], numeric=True)
    tour.echo(
        "The bound max|f^(n+1)| max|x - a|^(n+1) / (n+1)! is never below the true error; "
        "both shrink like 1/(n+1)!."
    )

    tour.topic(f"{LOG1P} about 0: a finite radius of convergence")
    t = taylor(LOG1P, about=0, order=max(LOG_ORDERS))
    tour.echo(f"p(x) = {to_text(taylor(LOG1P, about=0, order=6).polynomial)}  (order 6)")
    tour.echo(f"radius of convergence: {t.radius:g} (log(1 + x) is singular at x = -1)")
    log1p = compile_expr(parse(LOG1P), ["x"])
    for x in LOG_POINTS:
        errors = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CalcmlWarning)
            for n in LOG_ORDERS:
                p = taylor(LOG1P, about=0, order=n)(x)
                errors.append(f"order {n}: {abs(float(log1p(x)) - float(p)):.3g}")
        tour.echo(f"|f - p| at x = {x:g}:  " + ",  ".join(errors))
        if caught:
            tour.echo(f"warning: {caught[0].message}")

    tour.topic("Linearisation: the error of the tangent line is O(h^2)")
    lin = linearise("sqrt(x)", about=4)
    tour.echo(
        f"sqrt(x) about 4: L(x) = {to_text(lin.polynomial)}, so sqrt(4.1) ≈ L(4.1) = "
        f"{format_number(float(lin(4.1)))} (sqrt(4.1) = "
        f"{format_number(float(compile_expr(parse('sqrt(x)'), ['x'])(4.1)))})"
    )
    slope = truncation_slope("exp(x)", about=0)
    tour.matrix(
        [[f"{e:.3g}"] for e in slope.errors],
        [f"h = {h:.3g}" for h in slope.steps],
        ["|exp(h) - (1 + h)|"],
        numeric=True,
    )
    tour.echo(
        f"Slope of log(error) against log(h): {slope.slope:.3f}, about 2: halve the "
        "step and the error falls fourfold."
    )

    tour.topic(f"The quadratic approximation of f(x, y) = {F2} about {point_text(POINT2)}")
    quad = taylor(F2, about=POINT2, order=2)
    tour.lines(quad.explain())
    tour.echo("J(a) and H(a) are the gradient and Hessian of Part 2, at the point.")
    near = np.array([NEAR2["x"], NEAR2["y"]])
    exact = float(compile_expr(parse(F2), ["x", "y"])(*near))
    plane = float(linearise(F2, about=POINT2)(near))
    tour.echo(
        f"at {point_text(NEAR2)}: f = {exact:.6f}, tangent plane {plane:.6f} "
        f"(error {abs(exact - plane):.2g}), quadratic {float(quad(near)):.6f} "
        f"(error {abs(exact - float(quad(near))):.2g})"
    )

    tour.topic("Figures")
    tour.figure(
        "40-taylor-polynomials.png",
        lambda p: p.taylor_polynomials(LOG1P, about=0),
        f"{LOG1P} and its Taylor polynomials; beyond the radius of convergence, shaded",
    )
    tour.figure(
        "41-taylor-error.png",
        lambda p: p.taylor_error_vs_order("exp(x)", about=0, interval=EXP_INTERVAL),
        "the error of exp's polynomials against their order, beside the remainder bound",
    )
    tour.figure(
        "42-linearisation-error.png",
        lambda p: p.linearisation_error("exp(x)", about=0),
        "the linearisation error of exp against the step: slope 2 on log-log axes",
    )
    tour.figure(
        "43-tangent-plane.png",
        lambda p: p.tangent_plane(F2, about=POINT2),
        "f(x, y) with its tangent plane and quadratic approximation at (1, 2)",
    )


# -- Part 5 ------------------------------------------------------------------------------

SQRT2 = "x^2 - 2"
CYCLE = "x^3 - 2x + 2"
QUADRATIC = "x^2 + x y + y^2"  # Hessian [[2, 1], [1, 2]]: eigenvalues 1 and 3
QUADRATIC_START = (2.0, -1.0)
FIXED_STEPS = (0.1, 0.5, 0.6, 0.65, 0.7, 0.75)
ROSENBROCK = "(1 - x)^2 + 100 (y - x^2)^2"
ROSENBROCK_START = (-1.2, 1.0)
DESCENT_METHODS = ("gradient_descent", "newton", "bfgs")
DESCENT_MAXITER = 2000  # gradient descent needs some 20,000 steps here: 2,000 make the point
OBJECTIVE, BUDGET = "x y", "x + y - 10"  # maximise x y on x + y = 10


@section("Optimisation", part=5)
def optimisation(tour: Tour) -> None:
    """Newton-Raphson's quadratic convergence and its failure, gradient descent's step
    limit 2/lambda_max, Newton, BFGS and gradient descent on Rosenbrock's valley, and a
    Lagrange multiplier read as the price of the constraint."""
    tour.topic("Newton-Raphson on x^2 - 2 = 0 from x0 = 1: the correct digits double")
    r = newton_raphson(SQRT2, 1)
    root = 2**0.5
    errors = [abs(float(v) - root) for v in r.history]
    rows = []
    for k, (xk, e) in enumerate(zip(r.history, errors, strict=True)):
        digits = f"{-np.log10(e):.1f}" if e > 0 else "all"
        ratio = errors[k + 1] / e**2 if k + 1 < len(errors) and e > 0 else None
        rows.append([f"{float(xk):.16f}", f"{e:.2g}", digits, f"{ratio:.3f}" if ratio else ""])
    tour.matrix(
        rows,
        [str(k) for k in range(len(rows))],
        ["x_k", "|x_k - √2|", "digits", "e_{k+1}/e_k^2"],
        numeric=True,
    )
    tour.echo(
        f"{r.method}: {r.message}. Each error is about the square of the one before: "
        f"e_(k+1) ≈ e_k^2 f''/(2 f') = e_k^2/(2√2), and 1/(2√2) = {1 / (2 * root):.3f}."
    )

    tour.topic(f"Newton-Raphson on {CYCLE} = 0 from x0 = 0: a cycle, not a root")
    tour.lines(newton_raphson(CYCLE, 0).explain())
    other = newton_raphson(CYCLE, -2)
    tour.echo(
        f"From x0 = -2 the tangents lead to the real root x = {format_number(other.x)} in "
        f"{other.nit} iterations: Newton's method is only as good as its start."
    )

    tour.topic(f"Gradient descent on the quadratic {QUADRATIC} with a fixed step t")
    lams = np.linalg.eigvalsh(np.asarray(hessian(QUADRATIC, ["x", "y"], at=[0, 0]), float))
    limit = 2 / lams[-1]
    tour.echo(
        f"The Hessian has eigenvalues {format_number(lams[0])} and {format_number(lams[-1])}: "
        f"each step multiplies the error along an eigenvector by 1 - t lambda, so it "
        f"converges exactly when t < 2/lambda_max = {limit:.4g}."
    )
    rows = []
    for t in FIXED_STEPS:
        run = gradient_descent(QUADRATIC, QUADRATIC_START, step=t)
        rate = float(np.max(np.abs(1 - t * lams)))
        verdict = "converged" if run.success else run.status
        rows.append([f"{rate:.2f}", f"{verdict} after {run.nit} iterations"])
    tour.matrix(
        rows,
        [f"t = {t:g}{' < ' if t < limit else ' > '}{limit:.3g}" for t in FIXED_STEPS],
        ["max |1 - t λ|", "from (2, -1)"],
        numeric=[True, False],
    )
    tour.echo(
        "The best fixed step is 2/(lambda_min + lambda_max) = "
        f"{2 / (lams[0] + lams[-1]):g}; close to the limit the descent crawls, beyond it "
        "it diverges."
    )

    tour.topic(f"Newton, BFGS and gradient descent on Rosenbrock's valley {ROSENBROCK}")
    runs = {
        m: minimize(
            ROSENBROCK,
            ROSENBROCK_START,
            method=m,
            maxiter=DESCENT_MAXITER if m == "gradient_descent" else None,
        )
        for m in DESCENT_METHODS
    }
    tour.matrix(
        [
            [
                "converged" if run.success else run.status,
                str(run.nit),
                str(run.nfev),
                point_text(dict(zip(["x", "y"], np.asarray(run.x, float), strict=True))),
            ]
            for run in runs.values()
        ],
        [run.method for run in runs.values()],
        ["verdict", "iterations", "f evaluations", "last x"],
        numeric=[False, True, True, False],
    )
    slow = runs["gradient_descent"]
    tour.echo(
        "Newton uses the Hessian and takes few, costly steps; BFGS builds the curvature "
        "from gradients alone; gradient descent zigzags across the curved valley floor: "
        f"after {slow.nit} iterations |grad f| is still {np.linalg.norm(slow.jac):.2g}."
    )

    tour.topic(f"Lagrange: maximise f = {OBJECTIVE} subject to {BUDGET} = 0")
    (best,) = lagrange(OBJECTIVE, [BUDGET])
    lam = best.multipliers[0]
    tour.echo(
        f"grad f = (y, x) = lambda grad g = lambda (1, 1) with x + y = 10 gives "
        f"{point_text({k: float(v) for k, v in best.x.items()})}, f = {best.fun}, "
        f"lambda = {lam}."
    )
    (wider,) = lagrange(OBJECTIVE, ["x + y - 11"])
    tour.echo(
        f"lambda is the price of the constraint: on x + y = 11 the maximum is "
        f"{format_number(float(wider.fun))}, up by {format_number(float(wider.fun - best.fun))}"
        f" ≈ lambda = {lam} per unit of budget."
    )
    sqp = minimize(f"-({OBJECTIVE})", [1, 2], constraints=[BUDGET])
    tour.echo(
        f"Numerically, SQP on -f from (1, 2): {sqp.message}; multiplier "
        f"{format_number(float(sqp.multipliers[0]))} (the sign flips with f)."
    )

    tour.topic("Figures")
    tour.figure(
        "50-newton-cascade.png",
        _newton_pair,
        "Newton's tangents: converging on x^2 - 2, cycling on x^3 - 2x + 2",
    )
    tour.figure(
        "51-descent-paths.png",
        lambda p: p.descent_paths(ROSENBROCK, results=list(runs.values())),
        "the paths of gradient descent, Newton and BFGS on Rosenbrock's function",
    )
    tour.figure(
        "52-lagrange.png",
        lambda p: p.lagrange_picture(OBJECTIVE, BUDGET, result=[best], xlim=(0, 10), ylim=(0, 10)),
        "the level set x y = 25 touches x + y = 10 where grad f = 5 grad g",
    )


def _newton_pair(plots: Any) -> Any:
    """Newton's cascade side by side: a root found, and a cycle."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 5.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    plots.newton_cascade(SQRT2, x0=1, ax=left)
    plots.newton_cascade(CYCLE, x0=0, ax=right)
    fig.suptitle("Newton-Raphson: x^2 - 2 = 0 from 1, and x^3 - 2x + 2 = 0 from 0", fontsize=13)
    return fig


# -- Part 6 ------------------------------------------------------------------------------

LINE_SEED = 6  # the made-up straight-line data: y = 2 x + 1 + noise of sigma 0.5
LINE_SLOPE, LINE_INTERCEPT, LINE_SIGMA = 2.0, 1.0, 0.5
LINE_GUESSES = ((2.5, 0.0), (2.0, 0.0), (2.0, 1.0))  # (m, c) tried; the last is the truth
CERTIFIED_DIGITS = 11  # NIST certifies Misra1a's values to 11 significant digits


def line_data() -> tuple[np.ndarray, np.ndarray]:
    """Ten made-up points y = 2 x + 1 + N(0, 0.5^2), x = 1 ... 10, seeded (the same
    every time)."""
    rng = np.random.default_rng(LINE_SEED)
    x = np.arange(1.0, 11.0)
    return x, LINE_SLOPE * x + LINE_INTERCEPT + rng.normal(0.0, LINE_SIGMA, x.size)


def agreeing_digits(value: float, reference: float) -> str:
    """How many significant digits of ``value`` agree with ``reference``: -log10 of the
    relative difference, one decimal ("11+" beyond what NIST certifies).

    >>> agreeing_digits(238.9421292, 238.94212918), agreeing_digits(1.0, 1.0)
    ('10.1', '11+')
    """
    if value == reference:
        return f"{CERTIFIED_DIGITS}+"
    digits = -np.log10(abs(value - reference) / abs(reference))
    return f"{CERTIFIED_DIGITS}+" if digits >= CERTIFIED_DIGITS else f"{digits:.1f}"


@section("Regression", part=6)
def regression(tour: Tour) -> None:
    """chi-squared of a guess, the straight line of least squares with its report, and
    NIST's Misra1a fitted by Levenberg-Marquardt from NIST's first start, compared with
    the certified values; the fit with its residuals and the chi-squared landscape."""
    x, y = line_data()
    tour.topic("chi-squared: the distance from a model to the data, in error bars")
    tour.echo(
        f"Ten made-up points y = {LINE_SLOPE:g} x + {LINE_INTERCEPT:g} + noise, each with "
        f"sigma = {LINE_SIGMA:g} (seed {LINE_SEED}):"
    )
    tour.matrix(
        [[format_number(round(v, 3)) for v in row] for row in (x, y)],
        ["x", "y"],
        [str(i) for i in range(1, len(x) + 1)],
        numeric=True,
    )
    rows = []
    for m, c in LINE_GUESSES:
        value = chi2(y, m * x + c, sigma=LINE_SIGMA)
        rows.append([f"{value:.4g}"])
    tour.matrix(
        rows,
        [f"y = {m:g} x + {c:g}" for m, c in LINE_GUESSES],
        ["chi2 = sum ((y - f)/sigma)^2"],
        numeric=True,
    )
    n = len(x)
    tour.echo(
        f"The line the data were made from gives chi2 near N = {n} (give or take "
        f"sqrt(2N) = {np.sqrt(2 * n):.1f}); the best line through them a little less, near "
        f"N - 2 = {n - 2}; a wrong line far more. Least squares finds the line of smallest chi2."
    )

    tour.topic(f"The straight line of least squares: linear_fit(x, y, sigma={LINE_SIGMA:g})")
    line = linear_fit(x, y, sigma=LINE_SIGMA)
    tour.lines(line.report())
    pulls = [
        (name, (line.params[name] - truth) / line.errors[name])
        for name, truth in (("m", LINE_SLOPE), ("c", LINE_INTERCEPT))
    ]
    tour.echo(
        f"The data were made with m = {LINE_SLOPE:g}, c = {LINE_INTERCEPT:g}: the fit is "
        + " and ".join(f"{abs(p):.1f} standard errors off in {n}" for n, p in pulls)
        + f"; chi2 = {line.chi2:.3g} for {line.dof} degrees of freedom "
        f"(p-value {line.p_value:.2f}): the line and the error bars are believable."
    )

    misra = load("misra1a")
    start = misra.starts[0]
    tour.topic(f"Real data: NIST's {misra.name}, fitted from NIST's first start")
    tour.echo(f"{misra.description} {len(misra.x)} points; source: {misra.source}.")
    tour.echo(f'fit("{misra.model}", x, y, p0={{{point_text(start).replace("=", ": ")}}})')
    r = fit(misra.model, misra.x, misra.y, p0=start)
    tour.lines(r.report())

    tour.topic("calcml against NIST's certified values")
    cells, labels = [], []
    for name, value in r.params.items():
        certified = misra.certified[name]
        cells.append([f"{value:.11g}", f"{certified:.11g}", agreeing_digits(value, certified)])
        labels.append(name)
    for name, err in r.errors.items():
        certified = misra.certified_errors[name]
        cells.append([f"{err:.11g}", f"{certified:.11g}", agreeing_digits(err, certified)])
        labels.append(f"sd({name})")
    rss = float(misra.certified_rss)
    cells.append([f"{r.chi2:.11g}", f"{rss:.11g}", agreeing_digits(r.chi2, rss)])
    labels.append("RSS")
    tour.matrix(cells, labels, ["calcml", "NIST certified", "digits agreeing"], numeric=True)
    tour.echo(
        "Digits agreeing: -log10 of the relative difference; NIST certifies "
        f"{CERTIFIED_DIGITS}. The standard deviations are scaled by the residual variance, "
        "RSS / dof, as NIST's are: there is no sigma."
    )

    tour.topic("Figures")
    tour.figure(
        "60-misra1a-fit.png",
        lambda p: p.fit_result(r, xlabel="pressure x", ylabel="volume y"),
        "Misra1a: the data, the fitted curve and, below, the residuals, which run in long "
        "stretches of one sign (+, -, +): the model misses a slight systematic curve",
    )
    tour.figure(
        "61-chi2-landscape.png",
        lambda p: p.chi2_landscape(r),
        "chi2 over (b1, b2) with the Levenberg-Marquardt path from NIST's start, and the "
        "k-sigma contours near the minimum",
    )


# -- running -----------------------------------------------------------------------------


def run_tour(out: Path = DEFAULT_OUT, plots: bool = True, echo: Echo = print) -> list[Path]:
    """Walk through every part of the syllabus so far, printing results and saving figures.

    Parameters
    ----------
    out : Path
        The folder for figures (created if missing; only when ``plots`` is true).
    plots : bool
        Whether to draw and save figures.
    echo : callable
        Called with each line of text (``print`` by default).

    Returns
    -------
    list of Path
        The figures saved, in order.

    Examples
    --------
    >>> lines = []
    >>> run_tour(plots=False, echo=lines.append)
    []
    >>> lines[-1]
    'Figures were not drawn (plots off).'
    """
    out = Path(out)
    if plots:
        out.mkdir(parents=True, exist_ok=True)
    tour = Tour(out=out, plots=plots, echo=echo)
    echo("calcml tour: the syllabus so far, on built-in examples.")
    number = 0
    for title, run in SECTIONS:
        number = PART_NUMBERS.get(title, number + 1)
        echo("")
        echo(header(number, title))
        run(tour)
    echo("")
    if plots:
        echo(f"{len(tour.saved)} figures saved in {out}")
    else:
        echo("Figures were not drawn (plots off).")
    return tour.saved
