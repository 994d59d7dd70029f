"""Figures of the first module: slope as rise over run, and a function beside its derivative.

:func:`secant` draws what :func:`calcml.numeric.secant_slopes` computes: secant lines
through ``(x0, f(x0))`` that turn toward the tangent as the run shrinks, next to a panel of
slope against run that closes in on the exact derivative, the derivative as a limit.
:func:`function_and_derivative` puts ``f`` and ``f'`` on one axis, so a learner can see that
``f'`` is zero where ``f`` turns and positive where ``f`` climbs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..errors import CalcmlError
from ..expr import to_text
from ..numeric.secant import SecantTable, secant_slopes
from ..symbolic.calculus import derivative
from ._figure import (
    check_range,
    curve,
    expression_or_none,
    function_name,
    math_label,
    new_figure,
    robust_limits,
    sampler,
    set_title,
)

TANGENT_COLOUR = "#c0392b"
SAMPLES = 600


def secant(
    f: Any,
    x0: float,
    runs: Sequence[float] = (1, 0.5, 0.25, 0.1),
    window: Sequence[float] | None = None,
    *,
    var: str | sympy.Symbol | None = None,
    title: str | None = None,
) -> Figure:
    """Secant lines closing in on the tangent, and their slopes closing in on f'(x0).

    Left: ``f`` over a window around ``x0``, a secant line through ``(x0, f(x0))`` and
    ``(x0 + h, f(x0 + h))`` for each run ``h`` (darker as ``h`` shrinks, toward the colour of
    the tangent) and the tangent line, whose slope is the exact derivative. Right: slope
    against run on a log axis, approaching the derivative (dashed).

    Parameters
    ----------
    f : str, sympy.Expr or callable
        A function of one variable. A callable has no exact derivative, so no tangent.
    x0 : float
        The point of tangency.
    runs : sequence of float
        The runs ``h`` of the secants (non-zero).
    window : (float, float), optional
        The x-range shown; by default ``x0`` ± 1.5 times the largest run.
    var : str, optional
        The variable, when an expression has several free symbols to choose from.
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.secant("x^2", 1, runs=[1, 0.5, 0.1])
    >>> [ax.get_xscale() for ax in fig.axes]
    ['linear', 'log']
    """
    table = secant_slopes(f, x0, runs, var=var)
    low, high = _window(table, window)
    fig = new_figure(12.0, 5.0)
    lines, limit = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    _draw_secants(lines, f, table, (low, high))
    _draw_limit(limit, table)
    name = function_name(f, expression_or_none(f))
    set_title(fig, title, f"Secant slopes of {name} at {table.variable} = {table.x0:g}")
    return fig


def _window(table: SecantTable, window: Sequence[float] | None) -> tuple[float, float]:
    if window is not None:
        return check_range(window, "window")
    reach = 1.5 * float(np.max(np.abs(table.runs)))
    return table.x0 - reach, table.x0 + reach


def _shades(n: int) -> list:
    """Colours from light to dark red: the smaller the run, the nearer the tangent's colour."""
    cmap = colormaps["Reds"]
    return [cmap(v) for v in np.linspace(0.3, 0.75, n)] if n > 1 else [cmap(0.6)]


def _by_shrinking_run(table: SecantTable) -> np.ndarray:
    return np.argsort(-np.abs(table.runs), kind="stable")


def _draw_secants(ax: Axes, f: Any, table: SecantTable, window: tuple[float, float]) -> None:
    x = table.variable
    xs = np.linspace(*window, SAMPLES)
    ys = sampler(f, [x])(xs)
    limits = robust_limits(ys, include=[table.fx0, *(table.fx0 + table.rises)])
    expr = expression_or_none(f)
    ax.plot(
        xs,
        curve(ys, limits),
        color="black",
        lw=2.2,
        label=math_label(expr, f"f({x})", f"{function_name(f, expr)}({x})", 220.0),
        gid="function",
    )
    _draw_lines_through_x0(ax, table, window)
    ax.plot(
        [table.x0],
        [table.fx0],
        "o",
        color="black",
        ms=8,
        zorder=5,
        label=f"({table.x0:g}, {table.fx0:.4g})",
        gid="x0",
    )
    ax.set(
        xlim=window,
        ylim=limits,
        xlabel=x,
        ylabel=f"f({x})",
        title="Secant lines through (x0, f(x0))",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="best", framealpha=0.9)


def _draw_lines_through_x0(ax: Axes, table: SecantTable, window: tuple[float, float]) -> None:
    """A secant line (and its far point) for each run, then the tangent line."""
    ends = np.array(window)
    order = _by_shrinking_run(table)
    for colour, i in zip(_shades(len(order)), order, strict=True):
        h, slope = table.runs[i], table.slopes[i]
        ax.plot(
            ends,
            table.fx0 + slope * (ends - table.x0),
            color=colour,
            lw=1.4,
            label=f"secant h = {h:g}: slope {slope:.4g}",
            gid="secant",
        )
        ax.plot(
            [table.x0 + h],
            [table.fx0 + table.rises[i]],
            "o",
            color=colour,
            ms=6,
            gid="secant_point",
        )
    if table.derivative is not None:
        ax.plot(
            ends,
            table.fx0 + table.derivative * (ends - table.x0),
            color=TANGENT_COLOUR,
            lw=2.2,
            ls="--",
            label=f"tangent: slope {table.derivative:.4g}",
            gid="tangent",
        )


def _draw_limit(ax: Axes, table: SecantTable) -> None:
    order = list(_by_shrinking_run(table))
    colours = _shades(len(order))
    for sign, marker, style, side in ((1, "o", "-", "h > 0"), (-1, "s", ":", "h < 0")):
        pick = [i for i in order if np.sign(table.runs[i]) == sign]
        if not pick:
            continue
        ax.plot(
            np.abs(table.runs[pick]),
            table.slopes[pick],
            color="grey",
            lw=1,
            ls=style,
            marker=marker,
            ms=7,
            gid="slopes",
            label=f"rise / run, {side}",
        )
        ax.scatter(
            np.abs(table.runs[pick]),
            table.slopes[pick],
            marker=marker,
            s=45,
            c=[colours[order.index(i)] for i in pick],
            zorder=3,
        )
    if table.derivative is not None:
        ax.axhline(
            table.derivative,
            color=TANGENT_COLOUR,
            ls="--",
            lw=1.8,
            gid="derivative",
            label=f"f'({table.x0:g}) = {table.derivative:.6g}",
        )
    ax.set_xscale("log")
    shown = np.unique(np.abs(table.runs))
    ax.set_xticks(shown, [f"{h:g}" for h in shown])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.invert_xaxis()
    ax.set(
        xlabel="run |h|  (log scale, shrinking to the right)",
        ylabel="secant slope",
        title="The derivative as a limit: h → 0",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="best")


def function_and_derivative(
    f: Any,
    var: str | sympy.Symbol | None = None,
    window: Sequence[float] = (-5, 5),
    *,
    title: str | None = None,
) -> Figure:
    """``f`` and its derivative ``f'`` on one axis, each labelled with its formula.

    Parameters
    ----------
    f : str or sympy.Expr
        A function of one variable (the others, if any, must be given values first).
    var : str, optional
        The variable; optional when ``f`` has one free symbol.
    window : (float, float)
        The x-range shown.
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.function_and_derivative("x^3 - 3x", window=(-2, 2))
    >>> len(fig.axes[0].get_lines()) >= 2
    True
    """
    low, high = check_range(window, "window")
    d = derivative(f, var)
    x = d.variable
    others = d.expr.free_symbols - {x}
    if others:
        names = ", ".join(sorted(str(s) for s in others))
        raise CalcmlError(
            f"{to_text(d.expr)} also depends on {names}: this plot needs a function of {x} alone"
        )
    xs = np.linspace(low, high, SAMPLES)
    ys, dys = sampler(d.expr, [x])(xs), sampler(d.result, [x])(xs)
    limits = robust_limits(ys, dys)
    fig = new_figure(8.0, 5.0)
    ax = fig.subplots()
    ax.axhline(0, color="grey", lw=0.8)
    ax.plot(
        xs,
        curve(ys, limits),
        lw=2.2,
        color="C0",
        label=math_label(d.expr, f"f({x})"),
        gid="function",
    )
    ax.plot(
        xs,
        curve(dys, limits),
        lw=2.2,
        color="C1",
        ls="--",
        label=math_label(d.result, f"f'({x})"),
        gid="derivative",
    )
    ax.set(xlim=(low, high), ylim=limits, xlabel=str(x), ylabel="value")
    ax.grid(alpha=0.3)
    fig.legend(fontsize=11, loc="outside lower center", ncols=2, frameon=False)
    set_title(fig, title, f"{function_name(f, d.expr)} and its derivative")
    return fig
