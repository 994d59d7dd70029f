"""Figures of functions of two variables: contours with gradient arrows, and 3-D surfaces.

The course's second module reads a function of two variables as a landscape. The contour
map shows it from above, with the gradient (from :func:`calcml.gradient`, compiled) as
arrows that point uphill and cross the contours at right angles; the surface shows the
same landscape in 3-D, its contour map projected underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver
from matplotlib.ticker import MaxNLocator

from ..errors import CalcmlError
from ..expr import to_text
from ..symbolic.calculus import gradient
from ..symbolic.inputs import PointLike, as_expr, point_values, variables_of
from ._figure import check_range, function_name, new_figure, robust_limits, sampler, set_title

CMAP = "coolwarm"
GRID = 160  # samples per axis of the contour map


def contour_gradient(
    f: Any,
    xlim: Sequence[float] = (-3, 3),
    ylim: Sequence[float] = (-3, 3),
    levels: int | Sequence[float] = 20,
    arrows: int = 15,
    point: PointLike | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """A filled contour map of ``f(x, y)`` with its gradient field as arrows.

    The arrows hold the exact gradient (``quiver.U``, ``quiver.V``), drawn to a common scale
    (the key above the map gives it), so longer arrows mean steeper ground; they point
    uphill, across the contours. The marked ``point`` has its gradient drawn larger, in gold,
    with its value in the legend.

    Parameters
    ----------
    f : str or sympy.Expr
        A function of exactly two variables (taken in order of name: x before y).
    xlim, ylim : (float, float)
        The ranges of the first and second variable.
    levels : int or sequence of float
        The number of contour levels, or the levels themselves.
    arrows : int
        Arrows per axis of the gradient field.
    point : dict or (float, float), optional
        A point to mark, with its own gradient arrow (named in the legend).
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CalcmlError
        When ``f`` does not have exactly two variables.

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.contour_gradient("x^2 + 3y^2", point=(1, 1))
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('x', 'y')
    """
    expr, names = _two_variables(f, "contour_gradient")
    box = check_range(xlim, "xlim"), check_range(ylim, "ylim")
    arrows = _count(arrows, "arrows", 2, 60)
    fig = new_figure(*_map_size(box))
    ax = fig.subplots()
    filled = _draw_contours(ax, expr, names, box, levels)
    fig.colorbar(filled, ax=ax, label=f"f({names[0]}, {names[1]})", shrink=0.9)
    _draw_gradient_field(ax, expr, names, box, arrows)
    if point is not None:
        _draw_point(ax, expr, names, point, box)
        ax.legend(fontsize=9, loc="upper right", framealpha=0.9)
    ax.set(xlim=box[0], ylim=box[1], xlabel=names[0], ylabel=names[1])
    _square_if_fair(ax, box)
    set_title(fig, title, f"Contours of {function_name(f, expr)} and its gradient")
    return fig


def _two_variables(f: Any, what: str) -> tuple[sympy.Expr, list[str]]:
    expr = as_expr(f)
    symbols = variables_of(expr)
    if len(symbols) != 2:
        has = ", ".join(s.name for s in symbols) or "none"
        raise CalcmlError(
            f"{what} draws functions of exactly 2 variables, but {to_text(expr)} has "
            f"{len(symbols)} ({has})"
        )
    return expr, [s.name for s in symbols]


def _count(value: Any, name: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not (low <= value <= high)
    ):
        raise CalcmlError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return int(value)


def _mesh(
    box: tuple[tuple[float, float], tuple[float, float]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.linspace(*box[0], n), np.linspace(*box[1], n))


def _levels(values: np.ndarray, levels: int | Sequence[float]) -> np.ndarray:
    """Round contour levels over the range of the values that matter (not a pole's)."""
    if isinstance(levels, int | np.integer) and not isinstance(levels, bool):
        count = _count(levels, "levels", 2, 200)
        low, high = robust_limits(values, margin=0.0)
        return MaxNLocator(count + 1).tick_values(low, high)
    chosen = np.asarray(levels, dtype=float).ravel()
    if chosen.size < 2 or not np.all(np.isfinite(chosen)) or np.any(np.diff(chosen) <= 0):
        raise CalcmlError("levels must be a count, or at least 2 increasing finite numbers")
    return chosen


def _draw_contours(
    ax: Axes, expr: sympy.Expr, names: list[str], box: Any, levels: int | Sequence[float]
) -> Any:
    X, Y = _mesh(box, GRID)
    Z = sampler(expr, names)(X, Y)
    chosen = _levels(Z, levels)
    Zm = np.ma.masked_invalid(Z)
    filled = ax.contourf(X, Y, Zm, levels=chosen, cmap=CMAP, extend="both", alpha=0.9)
    ax.contour(X, Y, Zm, levels=chosen, colors="black", linewidths=0.4, alpha=0.45)
    filled.set_gid("contours")
    return filled


def _draw_gradient_field(
    ax: Axes, expr: sympy.Expr, names: list[str], box: Any, arrows: int
) -> Quiver:
    """The gradient at a grid of points, as arrows to one scale (none where f is undefined)."""
    X, Y = _mesh(box, arrows)
    U, V = (sampler(c, names)(X, Y) for c in gradient(expr, names))
    mask = ~(np.isfinite(U) & np.isfinite(V) & np.isfinite(sampler(expr, names)(X, Y)))
    U, V = np.ma.array(U, mask=mask), np.ma.array(V, mask=mask)
    spacing = min((b[1] - b[0]) / (arrows - 1) for b in box)
    lengths = np.hypot(U, V).compressed()
    typical = float(np.percentile(lengths, 95)) if lengths.size else 0.0
    scale = typical / (0.9 * spacing) if typical > 0 else 1.0
    field = ax.quiver(
        X,
        Y,
        U,
        V,
        angles="xy",
        scale_units="xy",
        scale=scale,
        color="black",
        width=0.0035,
        gid="gradient",
    )
    scale_note = f"; one grid step ≈ |∇f| of {typical / 0.9:.3g}" if typical > 0 else ""
    ax.set_title(f"arrows: ∇f, pointing uphill across the contours{scale_note}", fontsize=9.5)
    return field


def _draw_point(ax: Axes, expr: sympy.Expr, names: list[str], point: PointLike, box: Any) -> None:
    """The point, and its exact gradient as a highlighted arrow (its own scale)."""
    px, py = point_values(point, [sympy.Symbol(n) for n in names])
    gx, gy = gradient(expr, names, at=[px, py])
    ax.plot(
        [px],
        [py],
        "o",
        color="gold",
        mec="black",
        ms=9,
        zorder=6,
        gid="point",
        label=f"({px:g}, {py:g}):  ∇f = ({gx:.4g}, {gy:.4g})",
    )
    size = float(np.hypot(gx, gy))
    reach = 0.18 * min(b[1] - b[0] for b in box)
    ax.quiver(
        [px],
        [py],
        [gx],
        [gy],
        angles="xy",
        scale_units="xy",
        scale=size / reach if size > 0 else 1.0,
        color="gold",
        edgecolor="black",
        linewidth=0.8,
        width=0.008,
        zorder=7,
        gid="point_gradient",
    )


def _equal_scales(box: Any) -> bool:
    """Equal scales show arrows at right angles to contours, unless that squashes the map."""
    widths = [b[1] - b[0] for b in box]
    return max(widths) <= 3 * min(widths)


def _square_if_fair(ax: Axes, box: Any) -> None:
    if _equal_scales(box):
        ax.set_aspect("equal", adjustable="box")


def _map_size(box: Any) -> tuple[float, float]:
    """A figure size whose map area has the shape of the box (when scales are equal)."""
    if not _equal_scales(box):
        return 7.5, 6.0
    ratio = (box[1][1] - box[1][0]) / (box[0][1] - box[0][0])
    side = 5.2
    width, height = (side, side * ratio) if ratio <= 1 else (side / ratio, side)
    return width + 2.3, height + 1.4


def surface(
    f: Any,
    xlim: Sequence[float] = (-3, 3),
    ylim: Sequence[float] = (-3, 3),
    resolution: int = 60,
    *,
    title: str | None = None,
) -> Figure:
    """The graph of ``f(x, y)`` as a 3-D surface, with its contour map projected below.

    Where ``f`` is undefined the surface has a hole; near a pole it is cut flat at the
    top (or bottom) of the view, so the rest of the landscape keeps a readable scale.

    Parameters
    ----------
    f : str or sympy.Expr
        A function of exactly two variables (taken in order of name).
    xlim, ylim : (float, float)
        The ranges of the first and second variable.
    resolution : int
        Samples per axis (from 2 to 400).
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.surface("sin(x) cos(y)", resolution=30)
    >>> fig.axes[0].name
    '3d'
    """
    expr, names = _two_variables(f, "surface")
    box = check_range(xlim, "xlim"), check_range(ylim, "ylim")
    X, Y = _mesh(box, _count(resolution, "resolution", 2, 400))
    heights = sampler(expr, names)(X, Y)
    low, high = robust_limits(heights, margin=0.02)
    shown = np.clip(heights, low, high)  # a pole shows as a flat top; NaN stays a hole
    fig = new_figure(8.0, 6.5)
    ax = fig.add_subplot(projection="3d")
    floor = low - 0.4 * (high - low)
    surf = ax.plot_surface(
        X,
        Y,
        shown,
        cmap=CMAP,
        vmin=low,
        vmax=high,
        rstride=1,
        cstride=1,
        linewidth=0,
        antialiased=True,
        alpha=0.92,
        gid="surface",
    )
    ax.contourf(
        X, Y, np.ma.masked_invalid(shown), zdir="z", offset=floor, levels=15, cmap=CMAP, alpha=0.85
    )
    ax.set(
        xlim=box[0],
        ylim=box[1],
        zlim=(floor, high),
        xlabel=names[0],
        ylabel=names[1],
        zlabel=f"f({names[0]}, {names[1]})",
    )
    fig.colorbar(surf, ax=ax, shrink=0.6, pad=0.05, label=f"f({names[0]}, {names[1]})")
    set_title(fig, title, f"Surface of {function_name(f, expr)}")
    return fig
