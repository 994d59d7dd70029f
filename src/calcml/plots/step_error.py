"""'Reality is hard': the error of a numerical derivative against its step, on log axes.

The course defines the derivative as the limit of rise over run as the run ``h`` goes to
0, which suggests taking ``h`` as small as possible. On a computer that fails: as ``h``
shrinks, the *truncation* error (the Taylor terms the formula leaves out, like ``h`` or
``h^2``) falls, but the *rounding* error (the lost digits of ``f(x + h) - f(x)``, about
``eps |f| / h``) rises, so the total error is a V with its best step in the middle.
:func:`step_error` draws that V for each method from the data of
:func:`calcml.numeric.step_errors`, with guide lines of the two slopes and the best step
marked; the complex step, which subtracts nothing, has no rounding wall.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import CalcmlError
from ..numeric.finite import EPS, StepErrors, derivative, step_errors
from ._figure import new_figure, set_title

TITLE = "Reality is hard: the step cannot just be made small"
COLOURS = {
    "forward": "C0",
    "backward": "C4",
    "central": "C1",
    "richardson": "C3",
    "complex": "C2",
}
LABELS = {
    "forward": "forward  (f(x+h) − f(x)) / h",
    "backward": "backward  (f(x) − f(x−h)) / h",
    "central": "central  (f(x+h) − f(x−h)) / 2h",
    "richardson": "Richardson  (4 C(h/2) − C(h)) / 3",
    "complex": "complex step  Im f(x+ih) / h",
}
ORDERS = {"forward": 1, "backward": 1, "central": 2, "richardson": 4, "complex": 2}
GUIDE = "#555555"
GUIDE_OFFSET = 10.0  # truncation guides run a decade below the data, parallel to it
POWERS = {1: "h", 2: "h²", 4: "h⁴"}
BOX = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85}


def step_error(
    f: Any,
    x: float,
    exact: float | None = None,
    methods: Sequence[str] | None = None,
    title: str | None = None,
    *,
    steps: Sequence[float] | None = None,
    var: str | sympy.Symbol | None = None,
) -> Figure:
    """Error of the derivative estimate against the step ``h``, log-log, one line per method.

    Each method's line falls along its truncation slope (``h`` or ``h^2``, dashed guides)
    as ``h`` shrinks, until rounding (the dashed ``eps/h`` guide) takes over and the error
    climbs again; a star marks the best step of each difference quotient. The dotted line is
    machine precision, ``eps |f'(x)|``: errors below it (even exact zeros) are drawn on it.

    Parameters
    ----------
    f : callable, str or sympy.Expr
        A function of one variable.
    x : float
        The point.
    exact : float, optional
        The true ``f'(x)``; by default, for an expression, its exact symbolic derivative
        (a callable needs it given).
    methods : sequence of str, optional
        Any of ``"forward"``, ``"backward"``, ``"central"``, ``"richardson"``, ``"complex"``;
        by default forward, central, and the complex step when ``f`` accepts complex input.
    title : str, optional
        The figure title ("" for none); by default "Reality is hard: ...".
    steps : sequence of float, optional
        The steps; default ``np.logspace(-16, 0, 65)``.
    var : str, optional
        The variable of an expression with several free symbols.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = step_error("sin(x)", 1.0)
    >>> sorted(line.get_gid() for line in fig.axes[0].get_lines()
    ...        if str(line.get_gid()).startswith("error:"))
    ['error:central', 'error:complex', 'error:forward']
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_yscale()
    ('log', 'log')
    """
    chosen = tuple(methods) if methods is not None else _default_methods(f, x, var)
    data = step_errors(f, x, exact, steps, chosen, var=var)
    fig = new_figure(8.5, 5.8)
    ax = fig.subplots()
    floor = _floor(data)
    marked: list[tuple[float, float]] = []
    for method in data.methods:
        _draw_method(ax, data, method, floor, marked)
    _draw_guides(ax, data, floor)
    _finish(ax, data, floor)
    set_title(fig, title, TITLE)
    return fig


def _default_methods(f: Any, x: float, var: str | sympy.Symbol | None) -> tuple[str, ...]:
    """Forward and central, and the complex step if ``f`` takes complex input at ``x``."""
    try:
        derivative(f, x, method="complex", var=var)
    except CalcmlError:
        return ("forward", "central")
    return ("forward", "central", "complex")


def _floor(data: StepErrors) -> float:
    """Machine precision for this derivative: ``eps |f'(x)|`` (or a stand-in when 0)."""
    scale = max(abs(data.exact), abs(data.fx) / max(1.0, abs(data.x)), 1e-300)
    return EPS * scale


def _draw_method(
    ax: Axes, data: StepErrors, method: str, floor: float, marked: list[tuple[float, float]]
) -> None:
    """The method's error line; a star at its best step, labelled unless another label is
    already there (forward and backward usually share their best step)."""
    errors = np.maximum(np.asarray(data.errors[method], dtype=float), floor)
    colour = COLOURS[method]
    ax.plot(
        data.steps,
        errors,
        color=colour,
        lw=2.0,
        marker="o",
        ms=3,
        label=LABELS[method],
        gid=f"error:{method}",
    )
    if method == "complex":
        _note_complex(ax, data, errors, colour)
        return
    h, err = data.optimal(method)
    err = max(err, floor)
    ax.plot([h], [err], marker="*", ms=16, color=colour, mec="black", zorder=5, gid="optimal")
    near = [np.hypot(np.log10(h / h2), np.log10(err / e2)) < 1.2 for h2, e2 in marked]
    if any(near):
        return
    marked.append((h, err))
    ax.annotate(
        f"best h ≈ {h:.0e}\nerror {err:.0e}",
        (h, err),
        xytext=(0, -16),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=8.5,
        color=colour,
        fontweight="bold",
        bbox=BOX,
    )


def _note_complex(ax: Axes, data: StepErrors, errors: np.ndarray, colour: str) -> None:
    ax.annotate(
        "complex step: nothing cancels,\nso no rounding wall",
        (data.steps[len(data.steps) // 4], errors[len(data.steps) // 4]),
        xytext=(0, 10),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=8.5,
        color=colour,
    )


def _draw_guides(ax: Axes, data: StepErrors, floor: float) -> None:
    """Dashed reference slopes: ``h^p`` parallel to (a decade below) each method's
    truncation branch, and the rounding model ``eps (|f| + |x f'|) / h`` on the small-step
    side."""
    drawn: set[int] = set()
    for method in data.methods:
        p = ORDERS[method]
        line = None if p in drawn else _truncation_guide(data, method, floor)
        if line is None:
            continue
        drawn.add(p)
        keep = line[1] / GUIDE_OFFSET >= 10 * floor
        if np.count_nonzero(keep) < 2:
            continue
        hs, ys = line[0][keep], line[1][keep] / GUIDE_OFFSET
        ax.plot(hs, ys, ls="--", lw=1.3, color=GUIDE, gid=f"guide:h{p}")
        middle = len(hs) // 2
        ax.annotate(
            f"truncation ∝ {POWERS.get(p, f'h^{p}')}",
            (hs[middle], ys[middle]),
            xytext=(6, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=8.5,
            color=GUIDE,
        )
    _rounding_guide(ax, data)


def _truncation_guide(
    data: StepErrors, method: str, floor: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """``c h^p`` through the method's error three quarters of the way (on the log scale) from
    its best step to its largest step, where truncation rules, drawn over that stretch."""
    errors = np.asarray(data.errors[method], dtype=float)
    above = np.isfinite(errors) & (errors > 4 * floor)
    if not np.any(above):
        return None
    # for the complex step: where the error leaves machine precision
    best = int(np.argmax(above)) if method == "complex" else int(np.nanargmin(errors))
    anchor = best + 3 * (len(errors) - 1 - best) // 4
    if not above[anchor]:
        return None
    p = ORDERS[method]
    c = errors[anchor] / data.steps[anchor] ** p
    hs = data.steps[best:]
    return hs, c * hs**p


def _rounding_guide(ax: Axes, data: StepErrors) -> None:
    one_sided = [m for m in data.methods if ORDERS[m] == 1] or [
        m for m in data.methods if m != "complex"
    ]
    if not one_sided:
        return
    h_best, _ = data.optimal(one_sided[0])
    keep = data.steps <= 10 * h_best
    model = data.rounding()[keep]
    ax.plot(data.steps[keep], model, ls="--", lw=1.2, color="#8e44ad", gid="guide:rounding")
    ax.annotate(
        "rounding ≈ ε(|f| + |x f′|) / h",
        (data.steps[keep][0], model[0]),
        xytext=(6, -2),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=8.5,
        color="#8e44ad",
        bbox=BOX,
    )


def _finish(ax: Axes, data: StepErrors, floor: float) -> None:
    ax.axhline(floor, color="black", ls=":", lw=1.0, gid="machine_precision")
    ax.annotate(
        "machine precision ε|f′(x)|",
        (data.steps[-1], floor),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=8.5,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    values = np.concatenate([np.asarray(e, dtype=float) for e in data.errors.values()])
    top = np.nanmax(values[np.isfinite(values)]) if np.any(np.isfinite(values)) else 1.0
    ax.set_ylim(floor / 8, max(top, 10 * floor) * 20)
    ax.set_xlim(data.steps.min() / 2, data.steps.max() * 2)
    ax.set(xlabel="step h", ylabel="|estimate − f′(x)|")
    ax.set_title(f"f = {data.label} at x = {data.x:g},  f′(x) = {data.exact:.10g}", fontsize=10)
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9, loc="upper center", framealpha=0.92)
