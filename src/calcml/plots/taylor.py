"""Figures of the fourth module: Taylor polynomials, their errors, and linearisation.

:func:`taylor_polynomials` draws a function with its Taylor polynomials of several orders
(from :func:`calcml.taylor`), the expansion point marked and, when the radius of
convergence is known, the region beyond it shaded: there no order helps.
:func:`taylor_error_vs_order` puts the true error |f - p_n| beside Lagrange's remainder
bound (:meth:`calcml.symbolic.Taylor.remainder_bound`) against the order n.
:func:`tangent_plane` shows a surface f(x, y) with its tangent plane (order 1) and its
quadratic approximation (order 2), and :func:`linearisation_error` the log-log line of the
linearisation error from :func:`calcml.truncation_slope`, whose slope is 2.

Presentation only: the polynomials, bounds, radii and slopes are the library's; here they
are evaluated on a grid and drawn.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, NullLocator

from ..errors import CalcmlError, CalcmlWarning
from ..expr import to_text
from ..symbolic.taylor import MultiTaylor, Taylor, taylor, truncation_slope
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
from .surfaces import CMAP, _two_variables

SAMPLES = 600
HALF_WIDTH = 3.0  # the default interval is the expansion point ± this ...
RADII_SHOWN = 2.5  # ... or ± this many radii of convergence, when that is less
EPS = float(np.finfo(float).eps)
ROUNDING_SHOWN = 1e4  # the rounding level is drawn when an error comes this close to it
BEYOND_COLOUR = "#e74c3c"
POINT_COLOUR = "#c0392b"
GRID3D = 40  # samples per axis of the 3-D figure


def _one_variable(f: Any, about: Any, order: int, var: Any) -> Taylor:
    t = taylor(f, about=about, order=order, variable=var)
    if not isinstance(t, Taylor):
        raise CalcmlError("this figure draws functions of one variable; for two, use tangent_plane")
    if any(not r.value.is_number for r in t.rows):
        names = ", ".join(sorted(str(s) for s in t.polynomial.free_symbols - {t.variable}))
        raise CalcmlError(
            f"the Taylor polynomial also depends on {names}: this figure needs a function "
            f"of {t.variable} alone"
        )
    return t


def _evaluate(t: Taylor | MultiTaylor, points: Any) -> np.ndarray:
    """The polynomial at the points, silently: beyond the radius of convergence the
    figure shows the divergence on purpose (and says so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalcmlWarning)
        return np.asarray(t(points), dtype=float)


def _orders(orders: Iterable[int]) -> list[int]:
    try:
        chosen = list(orders)
    except TypeError:
        raise CalcmlError(f"orders must be a sequence of whole numbers, not {orders!r}") from None
    if not chosen or any(
        isinstance(n, bool) or not isinstance(n, int | np.integer) for n in chosen
    ):
        raise CalcmlError(f"orders must be one or more whole numbers, not {orders!r}")
    return sorted({int(n) for n in chosen})


def _known_radius(t: Taylor) -> float | None:
    """The radius of convergence when it is known and finite (else None)."""
    r = t.radius
    return float(r) if r is not None and math.isfinite(r) and r > 0 else None


def _default_interval(t: Taylor, values: Any) -> tuple[float, float]:
    """The expansion point ± 3 (or ± 2.5 radii of convergence, if less), cut back to the
    stretch around the point where f is defined (log(1 + x) stops at -1)."""
    a = float(t.about)
    radius = _known_radius(t)
    half = min(HALF_WIDTH, RADII_SHOWN * radius) if radius is not None else HALF_WIDTH
    xs = np.linspace(a - half, a + half, SAMPLES)
    defined = np.isfinite(values(xs))
    middle = int(np.argmin(np.abs(xs - a)))
    if not defined[middle]:
        return a - half, a + half
    left, right = middle, middle
    while left > 0 and defined[left - 1]:
        left -= 1
    while right < len(xs) - 1 and defined[right + 1]:
        right += 1
    if right - left < SAMPLES // 20:  # a sliver: show the whole window instead
        return a - half, a + half
    return float(xs[left]), float(xs[right])


def _shades(n: int) -> list:
    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.15, 0.85, n)] if n > 1 else [cmap(0.4)]


def taylor_polynomials(
    f: Any,
    about: Any = 0,
    orders: Iterable[int] = (1, 3, 5, 7),
    interval: Sequence[float] | None = None,
    ax: Axes | None = None,
    *,
    var: str | sympy.Symbol | None = None,
    title: str | None = None,
) -> Figure:
    """``f`` and its Taylor polynomials of several orders about a point, on one axis.

    The polynomials hug ``f`` near the expansion point (marked) and peel away from it
    further out, later the higher the order. Where the radius of convergence is known and
    finite, the region ``|x - a| > radius`` is shaded: there the polynomials diverge
    whatever the order. The y-limits follow ``f``, so a diverging polynomial runs off the
    edge instead of flattening the picture.

    Parameters
    ----------
    f : str, sympy.Expr or callable
        A function of one variable (a callable's derivatives come from ``calcml.ad``).
    about : float or str
        The expansion point ``a`` (text such as ``"pi/2"`` is exact).
    orders : sequence of int
        The orders of the polynomials drawn.
    interval : (float, float), optional
        The x-range shown; by default ``a`` ± 3 (or ± 2.5 radii of convergence, if less),
        cut back to where ``f`` is defined.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    var : str, optional
        The variable, when an expression has several free symbols.
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure of ``ax``.

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.taylor_polynomials("sin(x)", orders=[1, 3])
    >>> [line.get_gid() for line in fig.axes[0].get_lines()]
    ['zero', 'function', 'taylor:1', 'taylor:3', 'about']
    """
    chosen = _orders(orders)
    ts = [_one_variable(f, about, n, var) for n in chosen]
    first = ts[0]
    x = first.variable
    values = sampler(first.f if first.f is not None else first.source, [x])
    low, high = (
        check_range(interval, "interval")
        if interval is not None
        else _default_interval(first, values)
    )
    xs = np.linspace(low, high, SAMPLES)
    ys = values(xs)
    a, fa = float(first.about), float(first.rows[0].value)
    limits = robust_limits(ys, margin=0.25, include=[fa])
    if ax is None:
        fig = new_figure(8.5, 5.5)
        ax = fig.subplots()
        own = True
    else:
        fig, own = ax.get_figure(), False
    ax.axhline(0, color="grey", lw=0.7, gid="zero")
    expr = expression_or_none(f)
    ax.plot(
        xs,
        curve(ys, limits),
        color="black",
        lw=2.6,
        label=math_label(first.f, f"f({x})", f"{function_name(f, expr)}({x})", 260.0),
        gid="function",
        zorder=4,
    )
    for colour, t in zip(_shades(len(ts)), ts, strict=True):
        ax.plot(
            xs,
            curve(_evaluate(t, xs), limits),
            color=colour,
            lw=1.7,
            ls="--",
            label=f"order {t.order}",
            gid=f"taylor:{t.order}",
        )
    ax.plot(
        [a],
        [fa],
        "o",
        color=POINT_COLOUR,
        mec="black",
        ms=9,
        zorder=6,
        label=f"expansion point {x} = {to_text(first.about)}",
        gid="about",
    )
    _shade_beyond_radius(ax, first, (low, high))
    ax.set(xlim=(low, high), ylim=limits, xlabel=str(x), ylabel="value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="best", framealpha=0.9)
    default = f"Taylor polynomials of {function_name(f, expr)} about {x} = {to_text(first.about)}"
    if own:
        set_title(fig, title, default)
    elif title is None or title:
        ax.set_title(default if title is None else title, fontsize=10)
    return fig


def _shade_beyond_radius(ax: Axes, t: Taylor, window: tuple[float, float]) -> None:
    """Shade |x - a| > radius inside the window, with dashed lines at a ± radius."""
    radius = _known_radius(t)
    if radius is None:
        return
    a = float(t.about)
    label = f"beyond the radius of convergence {radius:.4g}"
    for start, stop in ((window[0], a - radius), (a + radius, window[1])):
        if start < stop:
            ax.axvspan(
                start, stop, color=BEYOND_COLOUR, alpha=0.1, lw=0, gid="beyond_radius", label=label
            )
            label = "_nolegend_"
    for edge in (a - radius, a + radius):
        if window[0] <= edge <= window[1]:
            ax.axvline(edge, color=BEYOND_COLOUR, lw=1.0, ls=":", gid="radius")


def taylor_error_vs_order(
    f: Any,
    about: Any = 0,
    at: float | None = None,
    orders: Iterable[int] = range(0, 11),
    interval: Sequence[float] | None = None,
    *,
    var: str | sympy.Symbol | None = None,
    title: str | None = None,
) -> Figure:
    """The error of the Taylor polynomial against its order, on a log axis, beside
    Lagrange's remainder bound.

    At a point ``at``, the true error is ``|f(at) - p_n(at)|`` and the bound is
    :meth:`~calcml.symbolic.Taylor.remainder_bound` on the interval from ``a`` to ``at``.
    With an ``interval``, the true error is the largest ``|f - p_n|`` over samples of the
    interval and the bound is the one on the whole interval. Errors below rounding
    (``eps max|f|``) are drawn on that level (a dotted line, when errors come near it).

    Parameters
    ----------
    f : str, sympy.Expr or callable
        A function of one variable (a callable has no remainder bound).
    about : float or str
        The expansion point ``a``.
    at : float, optional
        Where the error is measured; by default ``a + 1`` (or half the radius of
        convergence from ``a``, if that is less). Ignored when ``interval`` is given.
    orders : sequence of int
        The orders n.
    interval : (float, float), optional
        Measure the largest error on this interval (holding ``a``) instead of at a point.
    var : str, optional
        The variable, when an expression has several free symbols.
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.taylor_error_vs_order("exp(x)", interval=(-1, 1), orders=range(6))
    >>> [line.get_gid() for line in fig.axes[0].get_lines()]
    ['error', 'bound']
    >>> fig.axes[0].get_yscale()
    'log'
    """
    chosen = _orders(orders)
    ts = [_one_variable(f, about, n, var) for n in chosen]
    first = ts[0]
    x, a = first.variable, float(first.about)
    values = sampler(first.f if first.f is not None else first.source, [x])
    if interval is not None:
        lo, hi = check_range(interval, "interval")
        xs = np.linspace(lo, hi, SAMPLES)
        where = f"on [{lo:g}, {hi:g}]"
    else:
        radius = _known_radius(first)
        point = float(at) if at is not None else a + (min(1.0, radius / 2) if radius else 1.0)
        if not math.isfinite(point) or point == a:
            raise CalcmlError(
                f"at must be a finite point other than the expansion point {a:g}, not {at!r}"
            )
        lo, hi = min(a, point), max(a, point)
        xs = np.array([point])
        where = f"at {x} = {point:g}"
    fx = values(xs)
    if not np.any(np.isfinite(fx)):
        raise CalcmlError(f"f is not defined {where}, so it has no error to measure there")
    errors = np.array([np.nanmax(np.abs(fx - _evaluate(t, xs))) for t in ts])
    bounds, why = _bounds(ts, lo, hi)
    floor = EPS * max(1.0, float(np.nanmax(np.abs(fx))))

    fig = new_figure(8.0, 5.2)
    ax = fig.subplots()
    ax.plot(
        chosen,
        np.maximum(errors, floor),
        "o-",
        color="C0",
        lw=2,
        ms=6,
        label=f"true error |f − p_n| {where}" + (" (largest sampled)" if interval else ""),
        gid="error",
    )
    shown = np.isfinite(bounds)
    if np.any(shown):
        ax.plot(
            np.asarray(chosen)[shown],
            np.maximum(bounds[shown], floor),
            "s--",
            color="C3",
            lw=1.6,
            ms=5,
            label=f"Lagrange remainder bound on [{lo:g}, {hi:g}]",
            gid="bound",
        )
    if np.nanmin(errors) < ROUNDING_SHOWN * floor:  # only when the errors come near it
        ax.axhline(
            floor, color="black", ls=":", lw=1.0, label="rounding level ε·max|f|", gid="rounding"
        )
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())  # decades suffice (and draw much faster)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="order n of the Taylor polynomial", ylabel="error")
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9, loc="best", framealpha=0.9)
    notes = []
    radius = _known_radius(first)
    if radius is not None and max(a - lo, hi - a) > radius:
        notes.append(
            f"beyond the radius of convergence {radius:.4g}: the error grows with the order"
        )
    if why:
        notes.append(f"no remainder bound: {why}")
    if notes:
        ax.set_title("\n".join(notes), fontsize=9, color=BEYOND_COLOUR)
    name = function_name(f, expression_or_none(f))
    set_title(
        fig, title, f"Error of the Taylor polynomials of {name} about {x} = {to_text(first.about)}"
    )
    return fig


def _bounds(ts: list[Taylor], lo: float, hi: float) -> tuple[np.ndarray, str | None]:
    """Each polynomial's remainder bound on [lo, hi] (NaN where there is none, with the
    first reason why)."""
    out, why = [], None
    for t in ts:
        try:
            out.append(t.remainder_bound(lo, hi))
        except CalcmlError as err:
            out.append(math.nan)
            why = why or str(err)
    return np.asarray(out, dtype=float), why


def _point_of(about: Any, names: list[str]) -> Any:
    """The point in the order of the axes (variables by name)."""
    if not isinstance(about, Mapping):
        return about
    unknown = [str(k) for k in about if str(k) not in names]
    if unknown:
        raise CalcmlError(
            f"the point names {', '.join(unknown)}, which is not among the variables "
            f"({', '.join(names)})"
        )
    given = {str(k): v for k, v in about.items()}
    return {n: given[n] for n in names if n in given}


def tangent_plane(
    f: Any,
    about: Mapping[str, Any] | Sequence[Any],
    span: float = 1.0,
    *,
    title: str | None = None,
) -> Figure:
    """A surface ``f(x, y)`` with its tangent plane and its quadratic approximation.

    The tangent plane is the Taylor polynomial of order 1 about the point
    (``f(a) + J(a) dx``); the quadratic approximation is that of order 2
    (``+ dx^T H(a) dx / 2``), which also bends as ``f`` does. Both are drawn as wire
    frames over the surface, on the square ``a ± span``; the point is marked.

    Parameters
    ----------
    f : str or sympy.Expr
        A function of exactly two variables (taken in order of name: x before y).
    about : dict or (float, float)
        The point, ``{"x": 1, "y": 2}`` or ``(1, 2)``; values may be text (``"pi/2"``).
    span : float
        The half-width of the square shown around the point.
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.tangent_plane("x^2 + y^2", about={"x": 1, "y": 1})
    >>> sorted(c.get_gid() for c in fig.axes[0].collections if c.get_gid())
    ['quadratic', 'surface', 'tangent_plane']
    """
    expr, names = _two_variables(f, "tangent_plane")
    try:
        half = float(span)
    except (TypeError, ValueError):
        raise CalcmlError(f"span must be a positive number, not {span!r}") from None
    if not (math.isfinite(half) and half > 0):
        raise CalcmlError(f"span must be a positive number, not {span!r}")
    point = _point_of(about, names)
    plane, quadratic = (taylor(expr, about=point, order=n) for n in (1, 2))
    assert isinstance(plane, MultiTaylor) and isinstance(quadratic, MultiTaylor)
    a = [float(v) for v in plane.about]
    X, Y = np.meshgrid(
        np.linspace(a[0] - half, a[0] + half, GRID3D), np.linspace(a[1] - half, a[1] + half, GRID3D)
    )
    heights = sampler(expr, names)(X, Y)
    fa = float(plane.value)
    low, high = robust_limits(heights, margin=0.05, include=[fa])
    grid = np.stack([X, Y], axis=-1)

    def inside(z: np.ndarray) -> np.ndarray:
        """Heights within the view; outside, a hole (3-D axes do not clip)."""
        return np.where((z >= low) & (z <= high), z, np.nan)

    fig = new_figure(8.5, 6.8)
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(
        X,
        Y,
        np.clip(heights, low, high),
        cmap=CMAP,
        vmin=low,
        vmax=high,
        linewidth=0,
        antialiased=True,
        alpha=0.55,
        gid="surface",
    )
    step = max(1, GRID3D // 10)
    ax.plot_wireframe(
        X,
        Y,
        inside(_evaluate(plane, grid)),
        rstride=step,
        cstride=step,
        color="#2c3e50",
        lw=0.9,
        gid="tangent_plane",
    )
    ax.plot_wireframe(
        X,
        Y,
        inside(_evaluate(quadratic, grid)),
        rstride=step,
        cstride=step,
        color="#27ae60",
        lw=0.9,
        gid="quadratic",
    )
    ax.plot(
        [a[0]], [a[1]], [fa], "o", color=POINT_COLOUR, mec="black", ms=8, zorder=10, gid="point"
    )
    at = ", ".join(to_text(v) for v in plane.about)
    ax.legend(
        handles=[
            Patch(color=colormaps[CMAP](0.75), alpha=0.6, label=f"f({names[0]}, {names[1]})"),
            Patch(color="#2c3e50", label=f"tangent plane (order 1): {to_text(plane.polynomial)}"),
            Patch(color="#27ae60", label="quadratic approximation (order 2)"),
            Patch(color=POINT_COLOUR, label=f"the point ({at}), f = {fa:.4g}"),
        ],
        fontsize=8.5,
        loc="upper left",
        framealpha=0.9,
    )
    ax.set(
        xlim=(a[0] - half, a[0] + half),
        ylim=(a[1] - half, a[1] + half),
        zlim=(low, high),
        xlabel=names[0],
        ylabel=names[1],
        zlabel=f"f({names[0]}, {names[1]})",
    )
    set_title(
        fig,
        title,
        f"Tangent plane and quadratic approximation of {function_name(f, expr)} about ({at})",
    )
    return fig


def linearisation_error(
    f: Any,
    about: Any = 0,
    steps: Sequence[float] | None = None,
    *,
    order: int = 1,
    direction: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """The error of the linearisation, ``|f(a + h) - L(a + h)|``, against the step ``h``,
    log-log: a straight line of slope 2, since the error is O(h^2).

    The data and the measured slope are :func:`calcml.truncation_slope`'s; a dashed
    reference line of the theoretical slope (``order + 1``: 2 for a linearisation) runs
    parallel below it.

    Parameters
    ----------
    f : str, sympy.Expr or callable
        The function (several variables: ``about`` a dict, the step taken along
        ``direction``).
    about : float, str or dict
        The expansion point ``a``.
    steps : sequence of float, optional
        The steps ``h``; by default ``truncation_slope``'s (1e-1 down to 1e-4).
    order : int
        The order of the Taylor polynomial (1: the linearisation).
    direction : sequence of float, optional
        With several variables, the direction of the steps (by default the diagonal).
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.linearisation_error("exp(x)")
    >>> [line.get_gid() for line in fig.axes[0].get_lines()]
    ['error', 'reference']
    >>> "slope 2.00" in fig.axes[0].get_legend().get_texts()[0].get_text()
    True
    """
    data = truncation_slope(f, about=about, order=order, steps=steps, direction=direction)
    hs, errors = np.asarray(data.steps, dtype=float), np.asarray(data.errors, dtype=float)
    keep = np.isfinite(errors) & (errors > 0)
    p = data.order + 1
    fig = new_figure(7.5, 5.2)
    ax = fig.subplots()
    what = "L" if data.order == 1 else "p"
    ax.plot(
        hs[keep],
        errors[keep],
        "o-",
        color="C0",
        lw=2,
        ms=6,
        label=f"|f(a + h) − {what}(a + h)|: measured slope {data.slope:.2f}",
        gid="error",
    )
    middle = np.flatnonzero(keep)[np.count_nonzero(keep) // 2]
    guide = errors[middle] * (hs / hs[middle]) ** p / 4  # parallel, a little below
    ax.plot(
        hs, guide, ls="--", color="#555555", lw=1.3, label=f"reference slope {p}", gid="reference"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())  # decades suffice (and draw much faster)
    ax.set(xlabel="step h", ylabel="error")
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9, loc="upper left", framealpha=0.9)
    ax.set_title(f"log(error) against log(h): slope {data.slope:.3f} (theory: {p})", fontsize=10)
    name = function_name(f, expression_or_none(f))
    kind = "linearisation" if data.order == 1 else f"Taylor polynomial of order {data.order}"
    set_title(fig, title, f"Error of the {kind} of {name} about {_about_text(about)}")
    return fig


def _about_text(about: Any) -> str:
    if isinstance(about, Mapping):
        return "(" + ", ".join(f"{k} = {v}" for k, v in about.items()) + ")"
    if isinstance(about, Sequence | np.ndarray) and not isinstance(about, str):
        return "(" + ", ".join(f"{v}" for v in about) + ")"
    return f"{about}"
