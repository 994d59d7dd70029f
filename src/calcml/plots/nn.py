"""Figures of the neural-network module: one neuron's cost landscape, a network learning to
draw a curve, the loss of training, and the confusion matrix of a classifier.

:func:`neuron_landscape` draws the cost C(w, b) of a single neuron a = f(w x + b) on some
data as contours over its weight and bias, with the path gradient descent takes on it.
:func:`curve_learning` shows what the 1-6-7-2 network of :func:`calcml.nn.demos.curve_demo`
draws at several epochs, beside its loss. :func:`training_loss` draws a
:class:`~calcml.nn.History`; :func:`confusion_matrix` the counts of true against predicted
classes; :func:`digits_learning` puts the two side by side for
:func:`calcml.nn.demos.digits_demo`.

Presentation only: every cost on the landscape is :func:`calcml.nn.loss` of a one-neuron
:class:`~calcml.nn.MLP` with its weight and bias set to the grid point; drawings, losses
and counts are the demos' own arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..errors import CalcmlError
from ..nn import MLP, History
from ..nn import loss as nn_loss
from ._figure import check_range, figure_and_axes, new_figure, set_title

GRID = 61  # samples per axis of the neuron's landscape
LEVELS = 18  # filled contour levels of the landscape
RANGE = (-6.0, 6.0)  # default range of w and of b
TARGET_COLOUR = "#9a9a9a"
FINAL_COLOUR = "#c0392b"
LOSS_COLOUR = "#1f4e9a"
VAL_COLOUR = "#d35400"
PATH_COLOUR = "#c0392b"
ERROR_COLOUR = "#c0392b"


# --- one neuron's cost landscape -----------------------------------------------------------


def neuron_landscape(
    x: Any,
    y: Any,
    activation: str = "sigmoid",
    path: Sequence[Sequence[float]] | None = None,
    *,
    w_range: Sequence[float] | None = None,
    b_range: Sequence[float] | None = None,
    grid: int = GRID,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """The cost C(w, b) of one neuron a = f(w x + b) on the data (x, y), as contours.

    C is the mean squared error over the points, ``calcml.nn.loss(net, x, y, "mse")`` of
    an ``MLP([1, 1], activation)`` whose weight and bias are set to each point of a
    ``grid`` x ``grid`` mesh over (w, b). A gradient-descent ``path`` (the (w, b) it
    visits, e.g. recorded by ``calcml.nn.train(..., callback=)``) is drawn on it.

    Parameters
    ----------
    x, y : array_like
        The inputs and targets, one number each per sample.
    activation : str
        The neuron's activation f (a name of :data:`calcml.nn.ACTIVATIONS`).
    path : sequence of (w, b), optional
        Points to join as a path, from its start (a square) to its end (a dot).
    w_range, b_range : (float, float), optional
        The ranges of w and b (default: -6 to 6, widened to hold the path).
    grid : int
        Samples per axis (at least 5).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    title : str, optional
        The figure's title ("" for none; not used with ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
        The map (a filled contour set, gid "landscape", and its lines, gid "levels"),
        the lowest grid point (gid "minimum"), and with a path: the line (gid "path"),
        its "start" and its "end".

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.neuron_landscape([0.0, 1.0, 2.0], [0.1, 0.5, 0.9], grid=21,
    ...                              path=[(-2.0, 1.0), (-1.0, 0.5), (0.5, 0.0)])
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('weight w', 'bias b')
    >>> [line.get_gid() for line in ax.get_lines()]
    ['minimum', 'path', 'start', 'end']
    """
    xs, ys = _samples(x, "x"), _samples(y, "y")
    if xs.size != ys.size:
        raise CalcmlError(f"x has {xs.size} values but y has {ys.size}")
    if isinstance(grid, bool) or not isinstance(grid, int | np.integer) or grid < 5:
        raise CalcmlError(f"grid must be a whole number >= 5, not {grid!r}")
    net = MLP([1, 1], activation=activation, seed=0)  # checks the activation's name
    points = _path(path)
    w_low, w_high = _range(w_range, "w_range", points[:, 0] if points is not None else None)
    b_low, b_high = _range(b_range, "b_range", points[:, 1] if points is not None else None)
    W, B = np.meshgrid(np.linspace(w_low, w_high, grid), np.linspace(b_low, b_high, grid))
    X, Y = xs[:, None], ys[:, None]
    layer = net.layers[0]
    C = np.empty(W.shape)
    for index in np.ndindex(W.shape):
        layer.weight[0, 0], layer.bias[0] = W[index], B[index]
        C[index] = nn_loss(net, X, Y, "mse")

    fig, ax, own = figure_and_axes(ax, 7.2, 5.8)
    low_c, high_c = float(C.min()), float(C.max())
    if not high_c > low_c:
        low_c, high_c = low_c - 0.5, high_c + 0.5
    levels = MaxNLocator(nbins=LEVELS).tick_values(low_c, high_c)  # round numbers
    filled = ax.contourf(W, B, C, levels=levels, cmap=colormaps["viridis"])
    filled.set_gid("landscape")
    lines = ax.contour(W, B, C, levels=levels[1::2], colors="white", linewidths=0.6, alpha=0.6)
    lines.set_gid("levels")
    ax.clabel(lines, fontsize=7, fmt="%.3g", colors="white")
    fig.colorbar(filled, ax=ax, label="cost C(w, b)", shrink=0.9)
    low = np.unravel_index(int(np.argmin(C)), C.shape)
    ax.plot(
        [W[low]],
        [B[low]],
        "*",
        color="gold",
        mec="black",
        ms=15,
        zorder=8,
        label=f"lowest on the grid: C({W[low]:.3g}, {B[low]:.3g}) = {C[low]:.3g}",
        gid="minimum",
    )
    if points is not None:
        _draw_descent(ax, points)
    ax.set_xlabel("weight w")
    ax.set_ylabel("bias b")
    ax.set_xlim(w_low, w_high)
    ax.set_ylim(b_low, b_high)
    ax.set_title(
        f"C(w, b) = mean over the {xs.size} points of ({activation}(w x + b) - y)²",
        fontsize=10,
    )
    ax.legend(loc="upper right", fontsize=8.5, framealpha=0.9)
    if own:
        set_title(fig, title, f"The cost landscape of one neuron a = {activation}(w x + b)")
    return fig


def _samples(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError(f"{name} must be numbers") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise CalcmlError(f"{name} must be finite numbers, one per sample")
    return arr


def _path(path: Any) -> np.ndarray | None:
    if path is None:
        return None
    try:
        points = np.asarray(path, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError("path must be a sequence of (w, b) pairs") from None
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise CalcmlError(f"path must be a sequence of (w, b) pairs, not shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise CalcmlError("path holds values that are not finite")
    return points


def _range(limits: Any, name: str, along: np.ndarray | None) -> tuple[float, float]:
    """The given range, or the default one widened to hold the path (with a margin)."""
    if limits is not None:
        return check_range(limits, name)
    low, high = RANGE
    if along is not None:
        margin = 0.08 * max(float(np.ptp(along)), 1.0)
        low = min(low, float(along.min()) - margin)
        high = max(high, float(along.max()) + margin)
    return low, high


def _draw_descent(ax: Axes, points: np.ndarray) -> None:
    steps = len(points) - 1
    ax.plot(
        points[:, 0],
        points[:, 1],
        color=PATH_COLOUR,
        lw=1.6,
        marker="o" if steps <= 150 else None,
        ms=3,
        mec="white",
        mew=0.4,
        zorder=6,
        label=f"gradient descent: {steps} step{'s' if steps != 1 else ''}",
        gid="path",
    )
    ax.plot(
        [points[0, 0]],
        [points[0, 1]],
        "s",
        color="white",
        mec="black",
        ms=8,
        zorder=7,
        label=f"start ({points[0, 0]:.3g}, {points[0, 1]:.3g})",
        gid="start",
    )
    ax.plot(
        [points[-1, 0]],
        [points[-1, 1]],
        "o",
        color=PATH_COLOUR,
        mec="black",
        ms=8,
        zorder=7,
        label=f"end ({points[-1, 0]:.3g}, {points[-1, 1]:.3g})",
        gid="end",
    )


# --- a network learning to draw a curve ------------------------------------------------------


def curve_learning(demo: Any, *, title: str | None = None) -> Figure:
    """The curve demo: the target closed curve with what the network draws at the
    snapshot epochs, and beside it the loss against the epoch (log scale).

    Parameters
    ----------
    demo : CurveDemo
        From :func:`calcml.nn.demos.curve_demo`.
    title : str, optional
        The figure's title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the drawings (the target, gid "target"; the outputs at epoch e, gid
        "snapshot-e", x and y the demo's ``snapshots[e]`` columns) and the loss (gid
        "loss", with a dashed line at each snapshot epoch, gid "mark-e").

    Examples
    --------
    >>> from calcml import plots
    >>> from calcml.nn.demos import curve_demo
    >>> demo = curve_demo(epochs=60, progress=False, snapshot_epochs=(0, 20))
    >>> fig = plots.curve_learning(demo)
    >>> [line.get_gid() for line in fig.axes[0].get_lines()]
    ['target', 'snapshot-0', 'snapshot-20', 'snapshot-60']
    >>> fig.axes[1].get_yscale()
    'log'
    """
    for attribute in ("t", "target", "history", "snapshots", "net"):
        if not hasattr(demo, attribute):
            raise CalcmlError(
                f"curve_learning draws a CurveDemo (from calcml.nn.demos.curve_demo), not "
                f"{type(demo).__name__}"
            )
    history: History = demo.history
    if not history.loss:
        raise CalcmlError("the demo has no history to draw: train for at least one epoch")
    fig = new_figure(12.5, 5.6)
    drawing, losses = fig.subplots(1, 2, width_ratios=[1.0, 1.15])
    target = np.asarray(demo.target, dtype=float)
    drawing.plot(
        target[:, 0],
        target[:, 1],
        color=TARGET_COLOUR,
        lw=7,
        alpha=0.45,
        solid_capstyle="round",
        label="target: the curve to learn",
        gid="target",
        zorder=1,
    )
    epochs = sorted(demo.snapshots)
    colours = _snapshot_colours(len(epochs))
    for k, (epoch, colour) in enumerate(zip(epochs, colours, strict=True)):
        out = np.asarray(demo.snapshots[epoch], dtype=float)
        last = k == len(epochs) - 1
        drawing.plot(
            out[:, 0],
            out[:, 1],
            color=colour,
            lw=2.2 if last else 1.4,
            marker="o" if epoch == 0 else None,
            ms=2.5,
            label=f"epoch {epoch}" + (" (start)" if epoch == 0 else " (end)" if last else ""),
            gid=f"snapshot-{epoch}",
            zorder=3 if last else 2,
        )
    drawing.set_aspect("equal", adjustable="datalim")
    drawing.set_xlabel("output 1: x(t)")
    drawing.set_ylabel("output 2: y(t)")
    drawing.grid(alpha=0.3)
    drawing.legend(
        fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, frameon=False
    )
    drawing.set_title(
        f"what the network draws for t from 0 to 1: rms error {demo.rms_error:.3g}", fontsize=10
    )

    _draw_losses(losses, history, None, "mean squared error")
    for epoch, colour in zip(epochs, colours, strict=True):
        losses.axvline(epoch, color=colour, ls="--", lw=1.0, gid=f"mark-{epoch}", zorder=1)
    losses.set_title(
        f"the loss falls from {history.loss[0]:.3g} to {history.loss[-1]:.3g}; "
        "dashed: the epochs drawn",
        fontsize=10,
    )
    sizes = "-".join(str(s) for s in demo.net.sizes)
    activation = demo.net.layers[0].activation
    set_title(
        fig,
        title,
        f"A {sizes} {activation} network learns to draw a closed curve from one input t",
    )
    return fig


def _snapshot_colours(n: int) -> list[Any]:
    """Light to dark blue for the snapshots on the way, red for the last one."""
    ramp = LinearSegmentedColormap.from_list("snapshots", ["#9ecae1", "#08306b"])
    return [ramp(k / max(n - 2, 1)) for k in range(n - 1)] + [FINAL_COLOUR]


def _draw_losses(
    ax: Axes, history: History, val_label: str | None, loss_name: str = "loss"
) -> None:
    epochs = np.arange(1, len(history.loss) + 1)
    ax.plot(
        epochs,
        history.loss,
        color=LOSS_COLOUR,
        lw=1.6,
        label=f"training loss: last {history.loss[-1]:.3g}",
        gid="loss",
    )
    if val_label is not None and history.val_loss:
        ax.plot(
            np.arange(1, len(history.val_loss) + 1),
            history.val_loss,
            color=VAL_COLOUR,
            lw=1.6,
            label=f"{val_label}: last {history.val_loss[-1]:.3g}",
            gid="val_loss",
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{loss_name} (log scale)")
    ax.grid(alpha=0.3, which="major")
    ax.grid(alpha=0.1, which="minor")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.legend(fontsize=8.5, loc="upper right", framealpha=0.9)


def training_loss(
    history: History,
    *,
    val_label: str = "validation loss",
    loss_name: str = "loss",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """The loss after each epoch of training, and the validation loss when it was
    recorded, on a log scale.

    Parameters
    ----------
    history : History
        From :func:`calcml.nn.train`.
    val_label : str
        The name of the validation loss in the legend (the digits demo's is the test loss).
    loss_name : str
        The name of the loss on the y axis, e.g. "cross-entropy".
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    title : str, optional
        The figure's title ("" for none; not used with ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
        Lines with gid "loss" and (with validation data) "val_loss", x the epochs 1, 2, ...

    Examples
    --------
    >>> from calcml import plots
    >>> from calcml.nn import History
    >>> fig = plots.training_loss(History(loss=[1.0, 0.5, 0.2], val_loss=[1.1, 0.6, 0.4]))
    >>> [line.get_gid() for line in fig.axes[0].get_lines()]
    ['loss', 'val_loss']
    >>> fig.axes[0].get_lines()[0].get_xdata().tolist()
    [1, 2, 3]
    """
    if not isinstance(history, History):
        raise CalcmlError(f"training_loss draws a History, not {type(history).__name__}")
    if not history.loss:
        raise CalcmlError("the history is empty: train for at least one epoch")
    fig, ax, own = figure_and_axes(ax, 7.0, 4.8)
    _draw_losses(ax, history, val_label, loss_name)
    what = f" ({history.optimizer}, lr {history.lr:g})" if history.optimizer else ""
    ax.set_title(f"{len(history.loss)} epochs{what}", fontsize=10)
    if own:
        set_title(fig, title, "The loss per epoch of training")
    return fig


# --- the confusion matrix ---------------------------------------------------------------------


def confusion_matrix(
    demo_or_matrix: Any,
    *,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A heat map of a confusion matrix: row i, column j counts the samples of class i
    that were predicted as j, with the count written in each cell; mistakes (counts off
    the diagonal) are framed in red. The accuracy is in the axes' title.

    Parameters
    ----------
    demo_or_matrix : DigitsDemo or array_like
        A demo from :func:`calcml.nn.demos.digits_demo` (its ``confusion``), or a square
        matrix of counts.
    labels : sequence of str, optional
        The class names (default: 0, 1, 2, ...).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    title : str, optional
        The figure's title ("" for none; not used with ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
        The image (gid "confusion", its array the counts), one text per cell (gid
        "count-i-j"), a red frame around each mistake (gid "mistake-i-j").

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.confusion_matrix([[5, 1], [0, 4]], labels=["cat", "dog"])
    >>> fig.axes[0].get_title()
    'accuracy 90.0 % (9 of 10)'
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid().startswith("count")]
    ['5', '1', '0', '4']
    """
    counts = _counts(demo_or_matrix)
    n = counts.shape[0]
    names = [str(k) for k in range(n)] if labels is None else [str(s) for s in labels]
    if len(names) != n:
        raise CalcmlError(f"labels names {len(names)} classes, but the matrix has {n}")
    fig, ax, own = figure_and_axes(ax, 6.4, 5.6)
    image = ax.imshow(counts, cmap=colormaps["Blues"], vmin=0, vmax=max(int(counts.max()), 1))
    image.set_gid("confusion")
    threshold = 0.55 * max(int(counts.max()), 1)
    size = 9 if n <= 12 else 7
    for i in range(n):
        for j in range(n):
            value = int(counts[i, j])
            mistake = i != j and value > 0
            colour = (
                "white"
                if value > threshold
                else ERROR_COLOUR
                if mistake
                else "#b0b0b0"
                if value == 0
                else "black"
            )
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                fontsize=size,
                color=colour,
                fontweight="bold" if mistake else "normal",
                gid=f"count-{i}-{j}",
            )
            if mistake:
                ax.add_patch(
                    Rectangle(
                        (j - 0.46, i - 0.46),
                        0.92,
                        0.92,
                        fill=False,
                        ec=ERROR_COLOUR,
                        lw=1.4,
                        gid=f"mistake-{i}-{j}",
                    )
                )
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    total, right = int(counts.sum()), int(np.trace(counts))
    share = right / total if total else float("nan")
    ax.set_title(f"accuracy {100 * share:.1f} % ({right} of {total})", fontsize=10)
    fig.colorbar(image, ax=ax, label="count", shrink=0.85)
    if own:
        set_title(fig, title, "Confusion matrix: rows are the true classes")
    return fig


def _counts(demo_or_matrix: Any) -> np.ndarray:
    source = getattr(demo_or_matrix, "confusion", demo_or_matrix)
    try:
        counts = np.asarray(source)
    except (TypeError, ValueError):
        raise CalcmlError("confusion_matrix needs a DigitsDemo or a square matrix") from None
    if (
        counts.ndim != 2
        or counts.shape[0] != counts.shape[1]
        or counts.size == 0
        or not np.issubdtype(counts.dtype, np.number)
    ):
        raise CalcmlError(
            f"confusion_matrix needs a DigitsDemo or a square matrix of counts, not "
            f"{type(demo_or_matrix).__name__} of shape {counts.shape}"
        )
    if not (np.all(counts >= 0) and np.all(counts == np.round(counts))):
        raise CalcmlError("a confusion matrix holds counts: whole numbers >= 0")
    return counts.astype(int)


def digits_learning(demo: Any, *, title: str | None = None) -> Figure:
    """The digits demo: the training and test loss per epoch, beside the confusion
    matrix of the test images.

    Parameters
    ----------
    demo : DigitsDemo
        From :func:`calcml.nn.demos.digits_demo`.
    title : str, optional
        The figure's title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure
        The axes of :func:`training_loss` (the test loss as "val_loss") and of
        :func:`confusion_matrix`, and a colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> from calcml import plots
    >>> from calcml.nn.demos import digits_demo
    >>> rng = np.random.default_rng(0)
    >>> demo = digits_demo(epochs=3, progress=False,
    ...                    data=(rng.random((80, 64)), np.arange(80) % 10))
    >>> fig = plots.digits_learning(demo)
    >>> fig.axes[1].get_xlabel(), fig.axes[1].get_ylabel()
    ('digit read by the network', 'true digit')
    """
    for attribute in ("history", "confusion", "accuracy", "net", "y_test"):
        if not hasattr(demo, attribute):
            raise CalcmlError(
                f"digits_learning draws a DigitsDemo (from calcml.nn.demos.digits_demo), not "
                f"{type(demo).__name__}"
            )
    fig = new_figure(13.0, 5.6)
    left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.0])
    training_loss(demo.history, val_label="test loss", loss_name="cross-entropy", ax=left)
    confusion_matrix(demo, ax=right)
    right.set_xlabel("digit read by the network")
    right.set_ylabel("true digit")
    sizes = "-".join(str(s) for s in demo.net.sizes)
    n = len(demo.y_test)
    set_title(
        fig,
        title,
        f"A {sizes} network reads handwritten digits: {100 * demo.accuracy:.1f} % of "
        f"{n} test images right",
    )
    return fig
