"""Figures of the optimisation module: Newton's tangents, descent paths, Lagrange's tangency.

:func:`newton_cascade` draws what :func:`calcml.newton_raphson` does on one equation: from
each iterate ``(x_k, f(x_k))`` the tangent line runs down to the axis at ``x_{k+1}``, and a
vertical line climbs back to the curve, until a root is found or the method fails (a
cycle, a flat tangent, divergence), which the title says. :func:`descent_paths` puts the
paths of several minimisers (:func:`calcml.minimize`) from one start on the contour map of
f, so their iteration counts can be compared by eye. :func:`lagrange_picture` shows why
Lagrange multipliers work: at a constrained stationary point the level set of f touches the
constraint curve g = 0, and grad f is parallel to grad g, with grad f = lambda grad g.

Presentation only: iterates, multipliers and gradients are the library's results; here
they are evaluated on a grid and drawn.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..errors import CalcmlError
from ..expr import to_text
from ..function import Function
from ..optimize import lagrange, minimize, newton_raphson
from ..optimize.result import Result
from ..optimize.stationary import LagrangePoint
from ..symbolic.calculus import gradient
from ..symbolic.inputs import as_expr, as_variables, single_variable
from ._figure import (
    check_range,
    curve,
    expression_or_none,
    figure_and_axes,
    function_name,
    math_label,
    robust_limits,
    sampler,
    set_title,
)
from .surfaces import _map_size, _square_if_fair

SAMPLES = 600  # samples of the curve of newton_cascade
GRID = 160  # samples per axis of the contour maps
LEVELS = 24  # contour levels of the maps
LABELLED = 6  # iterates named x0, x1, ... on the axis of newton_cascade
FAR = 10.0  # newton_cascade's default view: iterates within FAR first steps of x0
TANGENT_COLOUR = "#c0392b"
ROOT_COLOUR = "#27ae60"
PATH_COLOURS = ("#111111", "#d35400", "#1e8449", "#7d3c98", "#2471a3", "#b7950b")
GRAD_F_COLOUR = "#c0392b"
GRAD_G_COLOUR = "#1f4e9a"
LEVEL_COLOUR = "#d35400"


def _verdict(r: Result) -> str:
    steps = f"{r.nit} iteration{'s' if r.nit != 1 else ''}"
    if r.success:
        return f"converged after {steps}"
    return f"failed: {r.status.replace('_', ' ')} after {steps}"


# --- Newton's cascade of tangents -------------------------------------------------------


def newton_cascade(
    f: Any,
    x0: float | None = None,
    result: Result | None = None,
    interval: Sequence[float] | None = None,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Newton-Raphson on one equation f(x) = 0, drawn as a cascade of tangent lines.

    For each iterate the point ``(x_k, f(x_k))`` is marked; the tangent there runs down to
    the axis, where it meets it at the next iterate ``x_{k+1}``, and a vertical line climbs
    from there back to the curve. The axes' title gives the verdict: the root found, or the
    way the method failed (a cycle, a flat tangent, divergence ...). A flat tangent is
    drawn across the view: it never meets the axis.

    Parameters
    ----------
    f : str, sympy.Expr or callable
        A function of one variable (a callable takes an array of shape ``(1,)``, as
        :class:`calcml.Function` does).
    x0 : float, optional
        The start; needed unless ``result`` is given.
    result : Result, optional
        The result of ``calcml.newton_raphson(f, x0)``, if already computed (then it is
        drawn, not recomputed).
    interval : (float, float), optional
        The x-range shown; by default the iterates near x0 (an iterate thrown more than
        ten first steps away, as in divergence, is left out of view and counted in the
        legend).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    title : str, optional
        The figure title ("" for none; not used with ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure of ``ax``.

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.newton_cascade("x^2 - 2", x0=1)
    >>> fig.axes[0].get_title()
    'root found: x = 1.414213562 after 5 iterations'
    >>> plots.newton_cascade("x^3 - 2x + 2", x0=0).axes[0].get_title()
    'no root: cycle after 2 iterations (the iterates cycle between 0, 1)'
    """
    r = _newton_result(f, x0, result)
    history = np.array([float(v) for v in r.history])
    values, var = _one_variable_values(f)
    fx = values(history)
    low, high = check_range(interval, "interval") if interval is not None else _newton_view(history)
    xs = np.linspace(low, high, SAMPLES)
    ys = values(xs)
    seen = (history >= low) & (history <= high)
    limits = robust_limits(ys, include=[0.0, *fx[seen]])
    fig, ax, own = figure_and_axes(ax, 8.5, 5.5)
    ax.axhline(0, color="grey", lw=0.8, gid="zero")
    expr = expression_or_none(f)
    ax.plot(
        xs,
        curve(ys, limits),
        color="black",
        lw=2.2,
        label=math_label(expr, f"f({var})", f"{function_name(f, expr)}({var})", 260.0),
        gid="function",
    )
    _draw_cascade(ax, history, fx)
    if r.status == "zero_derivative" and r.rows:
        slope = float(r.rows[-1].get("f'(x)", math.nan))
        ends = np.array([low, high])
        ax.plot(
            ends,
            fx[-1] + slope * (ends - history[-1]),
            color=TANGENT_COLOUR,
            lw=1.4,
            ls=":",
            label=f"flat tangent at $x_{{{len(history) - 1}}}$: f' = {slope:.3g}",
            gid="flat_tangent",
        )
    outside = int(np.sum(~seen))
    ax.plot(
        history,
        fx,
        "o",
        color=TANGENT_COLOUR,
        mec="black",
        ms=7,
        zorder=5,
        label=f"iterates $(x_k, f(x_k))$, k = 0 … {len(history) - 1}"
        + (f"; {outside} beyond the view" if outside else ""),
        gid="iterates",
    )
    _label_iterates(ax, history, (low, high))
    if r.success:
        ax.plot(
            [float(r.x)],
            [0.0],
            "*",
            color=ROOT_COLOUR,
            mec="black",
            ms=15,
            zorder=6,
            label=f"root x = {float(r.x):.12g}",
            gid="root",
        )
    ax.set(xlim=(low, high), ylim=limits, xlabel=var, ylabel=f"f({var})")
    ax.set_title(_newton_verdict(r), fontsize=10.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="best", framealpha=0.9)
    if own:
        name = function_name(f, expr)
        set_title(fig, title, f"Newton-Raphson on {name} = 0 from x0 = {history[0]:g}")
    return fig


def _label_iterates(ax: Axes, history: np.ndarray, view: tuple[float, float]) -> None:
    """Name the first iterates on the axis, x0, x1 ..., skipping one that would sit on a
    name already written (near a root, or in a cycle)."""
    placed: list[float] = []
    gap = 0.03 * (view[1] - view[0])
    for k, xk in enumerate(history[:LABELLED]):
        if not view[0] <= xk <= view[1] or any(abs(xk - p) < gap for p in placed):
            continue
        placed.append(float(xk))
        ax.annotate(
            f"$x_{{{k}}}$",
            (xk, 0.0),
            xytext=(0, -16),
            textcoords="offset points",
            ha="center",
            fontsize=10,
            color=TANGENT_COLOUR,
            gid="iterate_label",
        )


def _newton_result(f: Any, x0: Any, result: Result | None) -> Result:
    if result is None:
        if x0 is None:
            raise CalcmlError("give x0 (the start), or a result of newton_raphson to draw")
        result = newton_raphson(f, x0)
    elif not isinstance(result, Result):
        raise CalcmlError(f"result must be a Result of newton_raphson, not {type(result).__name__}")
    if not result.history or any(np.size(v) != 1 for v in result.history):
        raise CalcmlError(
            "newton_cascade draws Newton-Raphson on one equation; this result's iterates "
            "are not single numbers"
        )
    start = float(np.asarray(result.history[0], dtype=float).ravel()[0])
    if x0 is not None and not math.isclose(start, float(x0), rel_tol=1e-12, abs_tol=1e-12):
        raise CalcmlError(f"the result starts at x0 = {start:g}, not at the x0 = {x0} given")
    return result


def _one_variable_values(f: Any) -> tuple[Any, str]:
    """A vectorised evaluator of f (NaN where undefined) and the name of its variable."""
    expr = expression_or_none(f)
    if expr is not None:
        var = single_variable(expr, None)
        return sampler(expr, [var]), var.name
    fn = f if isinstance(f, Function) else Function(f, variables=1)

    def one(x: float) -> float:
        try:
            with np.errstate(all="ignore"):
                return float(fn.value(np.array([x])))
        except (CalcmlError, ArithmeticError, ValueError, TypeError):
            return math.nan

    name = (fn.variables or ["x"])[0]
    return np.vectorize(one, otypes=[float]), name if name != "x0" else "x"


def _newton_view(history: np.ndarray) -> tuple[float, float]:
    """The iterates within FAR first steps of x0 (all of them, unless some ran away),
    with a margin."""
    x0 = history[0]
    finite = history[np.isfinite(history)]
    if len(finite) > 1:
        first = abs(finite[1] - x0)
        reach = FAR * max(first, 1e-6 * max(1.0, abs(x0)))
        near = finite[np.abs(finite - x0) <= reach]
    else:
        near = finite
    low, high = float(near.min()), float(near.max())
    pad = max(0.2 * (high - low), 0.5)
    return low - pad, high + pad


def _draw_cascade(ax: Axes, history: np.ndarray, fx: np.ndarray) -> None:
    """The tangent from (x_k, f(x_k)) down to (x_{k+1}, 0), and the climb back to f."""
    for k in range(len(history) - 1):
        ax.plot(
            [history[k], history[k + 1]],
            [fx[k], 0.0],
            color=TANGENT_COLOUR,
            lw=1.3,
            label="tangent at $x_k$, down to the axis at $x_{k+1}$" if k == 0 else None,
            gid="tangent",
        )
        if np.isfinite(fx[k + 1]):
            ax.plot(
                [history[k + 1], history[k + 1]],
                [0.0, fx[k + 1]],
                color="grey",
                lw=1.0,
                ls="--",
                label="back up to the curve" if k == 0 else None,
                gid="vertical",
            )


def _newton_verdict(r: Result) -> str:
    steps = f"{r.nit} iteration{'s' if r.nit != 1 else ''}"
    if r.success:
        return f"root found: x = {float(r.x):.10g} after {steps}"
    verdict = f"no root: {r.status.replace('_', ' ')} after {steps}"
    if r.status == "cycle":
        points = ", ".join(f"{float(v):.6g}" for v in _cycle_points(r))
        verdict += f" (the iterates cycle between {points})"
    return verdict


def _cycle_points(r: Result) -> list[float]:
    """The repeating iterates: those since the last visit of the final iterate."""
    history = [float(v) for v in r.history]
    last = history[-1]
    for back in range(2, len(history)):
        if math.isclose(history[-1 - back], last, rel_tol=1e-9, abs_tol=1e-9):
            return sorted(history[-1 - back : -1])
    return []


# --- descent paths ----------------------------------------------------------------------


def descent_paths(
    f: Any,
    x0: Any = None,
    methods: Sequence[str] = ("gradient_descent", "newton", "bfgs"),
    results: Sequence[Result] | Mapping[str, Result] | None = None,
    ax: Axes | None = None,
    *,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """The paths of several minimisers from the same start, on the contour map of f(x, y).

    Each method of :func:`calcml.minimize` is run from ``x0`` (or its result is taken from
    ``results``), and its iterates (``result.history``) are drawn as a path, labelled with
    the method and its number of iterations (and the failure, if it failed). The start is
    marked, and the minimum: the lowest point any method converged to.

    Parameters
    ----------
    f : str or sympy.Expr
        A function of two variables (taken in order of name: x before y).
    x0 : (float, float) or dict, optional
        The common start; may be left out when ``results`` are given.
    methods : sequence of str
        Methods of :func:`calcml.minimize`: "gradient_descent" (with backtracking),
        "newton", "newton_cg", "bfgs".
    results : sequence of Result, or mapping from method to Result, optional
        Results already computed: a sequence is drawn instead of running ``methods``; a
        mapping replaces the runs of the methods it names.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    xlim, ylim : (float, float), optional
        The ranges shown; by default the box around all the paths.
    title : str, optional
        The figure title ("" for none; not used with ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure of ``ax``.

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.descent_paths("x^2 + 3y^2 + x*y", x0=[2, 1.5])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:3]
    ['gradient_descent (backtracking): 36 iterations', 'newton: 1 iteration', 'bfgs: 8 iterations']
    """
    expr, names = _two_variable_expr(f, "descent_paths")
    runs = _descent_results(f, x0, methods, results)
    paths = [_path_of(r, names) for r in runs]
    start = paths[0][0]
    for path, r in zip(paths, runs, strict=True):
        if not np.allclose(path[0], start, rtol=1e-12, atol=1e-12):
            raise CalcmlError(
                f"the {r.method or 'given'} result starts at {path[0].tolist()}, not at "
                f"{start.tolist()}: the paths must share their start"
            )
    done = [r for r in runs if r.success]
    best = min(done, key=lambda r: float(r.fun)) if done else None
    points = [*paths, *([_path_of_x(best, names)] if best is not None else [])]
    box = _box(np.vstack(points), xlim, ylim)
    width, height = _map_size(box)
    fig, ax, own = figure_and_axes(ax, width + 0.5, height + 0.3 * len(runs) + 0.6)
    filled = _draw_map(ax, expr, names, box)
    if own:
        fig.colorbar(filled, ax=ax, label=f"f({names[0]}, {names[1]})", shrink=0.9)
    for i, (path, r) in enumerate(zip(paths, runs, strict=True)):
        label = f"{r.method or methods[i]}: {r.nit} iteration{'s' if r.nit != 1 else ''}"
        if not r.success:
            label += f" ({r.status.replace('_', ' ')})"
        ax.plot(
            path[:, 0],
            path[:, 1],
            color=PATH_COLOURS[i % len(PATH_COLOURS)],
            lw=1.8,
            marker="o" if len(path) <= 200 else None,
            ms=4,
            mec="white",
            mew=0.5,
            label=label,
            gid="path",
            zorder=4,
        )
    ax.plot(
        [start[0]],
        [start[1]],
        "s",
        color="white",
        mec="black",
        ms=9,
        zorder=6,
        label=f"start ({start[0]:g}, {start[1]:g})",
        gid="start",
    )
    if best is not None:
        xm = _path_of_x(best, names)[0]
        ax.plot(
            [xm[0]],
            [xm[1]],
            "*",
            color="gold",
            mec="black",
            ms=17,
            zorder=7,
            label=f"minimum ({xm[0]:.6g}, {xm[1]:.6g}), f = {float(best.fun):.6g}",
            gid="minimum",
        )
    ax.set(xlim=box[0], ylim=box[1], xlabel=names[0], ylabel=names[1])
    _square_if_fair(ax, box)
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.set_title("the iterates $x_k$ of each method, from one start", fontsize=9.5)
    if own:
        set_title(fig, title, f"Descent paths on {function_name(f, expr)}")
    return fig


def _two_variable_expr(f: Any, what: str, *more: Any) -> tuple[sympy.Expr, list[str]]:
    """f as an expression, and the two variables of f (and ``more``) in order of name."""
    expr = as_expr(f)
    others = [as_expr(g, "the constraint") for g in more]
    symbols = as_variables(None, sympy.Tuple(expr, *others))
    if len(symbols) != 2:
        has = ", ".join(s.name for s in symbols) or "none"
        raise CalcmlError(
            f"{what} draws functions of exactly 2 variables, but {to_text(expr)} "
            f"{'and its constraint have' if others else 'has'} {len(symbols)} ({has})"
        )
    return expr, [s.name for s in symbols]


def _descent_results(f: Any, x0: Any, methods: Sequence[str], results: Any) -> list[Result]:
    if isinstance(methods, str):
        methods = [methods]
    if results is not None and not isinstance(results, Mapping):
        runs = list(results)
        if not runs or not all(isinstance(r, Result) for r in runs):
            raise CalcmlError("results must be Results of calcml.minimize (one per path)")
        return runs
    given = dict(results or {})
    unknown = [m for m in given if m not in methods]
    if unknown:
        raise CalcmlError(f"results name methods not in methods: {', '.join(map(str, unknown))}")
    if not methods:
        raise CalcmlError("give at least one method")
    if x0 is None and len(given) < len(methods):
        raise CalcmlError("give x0 (the common start) to run the methods")
    return [given[m] if m in given else minimize(f, x0, method=m) for m in methods]


def _path_of(r: Result, names: list[str]) -> np.ndarray:
    """The iterates of a result as an (n, 2) array, checked against the variables."""
    if r.variables is not None and list(r.variables) != names:
        raise CalcmlError(
            f"the result is in the variables {', '.join(r.variables)}, not {', '.join(names)}"
        )
    try:
        path = np.array([np.asarray(v, dtype=float).ravel() for v in r.history], dtype=float)
    except ValueError:
        path = np.zeros((0, 0))
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise CalcmlError("each iterate of the result must be a point (x, y) of two numbers")
    return path


def _path_of_x(r: Result, names: list[str]) -> np.ndarray:
    x = np.asarray(r.x, dtype=float).ravel()
    if x.shape != (2,):
        raise CalcmlError(f"the result's x must be a point of {', '.join(names)}")
    return x[None, :]


def _box(
    points: np.ndarray, xlim: Sequence[float] | None, ylim: Sequence[float] | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The given limits, or the box around the points with a margin."""
    finite = points[np.all(np.isfinite(points), axis=1)]
    sides = []
    for j, given, name in ((0, xlim, "xlim"), (1, ylim, "ylim")):
        if given is not None:
            sides.append(check_range(given, name))
            continue
        low, high = float(finite[:, j].min()), float(finite[:, j].max())
        span = high - low
        other = float(np.ptp(finite[:, 1 - j]))
        pad = max(0.15 * span, 0.08 * other, 0.5 if max(span, other) == 0 else 0.0)
        sides.append((low - pad, high + pad))
    return sides[0], sides[1]


def _mesh(box: Any, n: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.linspace(*box[0], n), np.linspace(*box[1], n))


def _map_levels(values: np.ndarray) -> np.ndarray:
    """Contour levels at quantiles of the values on the map, so that a deep narrow valley
    (Rosenbrock's) shows its shape as well as the steep walls around it."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([-1.0, 1.0])
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, LEVELS) ** 1.5))
    if levels.size < 2:
        middle = float(levels[0]) if levels.size else 0.0
        return np.array([middle - 1.0, middle + 1.0])
    return levels


def _draw_map(ax: Axes, expr: sympy.Expr, names: list[str], box: Any) -> Any:
    X, Y = _mesh(box)
    Z = np.ma.masked_invalid(sampler(expr, names)(X, Y))
    levels = _map_levels(Z.filled(np.nan))
    cmap = colormaps["Blues_r"]
    norm = BoundaryNorm(levels, cmap.N)  # colours by rank: quantile levels are uneven
    filled = ax.contourf(X, Y, Z, levels=levels, cmap=cmap, norm=norm, alpha=0.75)
    ax.contour(X, Y, Z, levels=levels, colors="black", linewidths=0.35, alpha=0.35)
    filled.set_gid("contours")
    return filled


# --- Lagrange's picture -----------------------------------------------------------------


def lagrange_picture(
    f: Any,
    constraint: Any,
    result: Result | LagrangePoint | Sequence[LagrangePoint] | None = None,
    x0: Any = None,
    ax: Axes | None = None,
    *,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """Lagrange multipliers as a picture: the level set of f touches the constraint g = 0.

    Over the contours of f, the constraint curve (the zero contour of g) is drawn, and at
    each constrained stationary point the level set of f through it, which touches the
    curve there; the arrows of grad f and grad g at the point are parallel (drawn to one
    scale), and the annotation gives the multiplier: grad f = lambda grad g.

    Parameters
    ----------
    f : str or sympy.Expr
        The objective, a function of the two variables (in order of name) of f and g.
    constraint : str or sympy.Expr
        g, meaning the constraint g = 0 (or a list holding this one expression).
    result : Result, LagrangePoint or list of LagrangePoint, optional
        What is drawn: a result of ``calcml.lagrange(f, [g], x0=...)`` or of
        ``calcml.minimize(f, x0, constraints=[g])``, or exact points of
        ``calcml.lagrange(f, [g])``. By default, ``calcml.lagrange`` is run: from ``x0``
        if given (one point), else exactly (every point).
    x0 : (float, float), optional
        A start for the numerical solution, when no ``result`` is given.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (of the caller's figure) instead of a new figure.
    xlim, ylim : (float, float), optional
        The ranges shown; by default a box around the points.
    title : str, optional
        The figure title ("" for none; not used with ``ax``).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure of ``ax``.

    Examples
    --------
    >>> from calcml import plots
    >>> fig = plots.lagrange_picture("x*y", "x + y - 2", x0=[0.5, 1])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['∇f = λ ∇g\\nλ = 1']
    """
    g = _one_constraint(constraint)
    expr, names = _two_variable_expr(f, "lagrange_picture", g)
    gexpr = as_expr(g, "the constraint")
    points, lams, verdict = _lagrange_points(expr, gexpr, names, result, x0)
    grads_f = np.array([gradient(expr, names, at=p) for p in points], dtype=float)
    grads_g = np.array([gradient(gexpr, names, at=p) for p in points], dtype=float)
    box = _lagrange_box(points, xlim, ylim)
    width, height = _map_size(box)
    fig, ax, own = figure_and_axes(ax, width, height + 0.3 * len(points) + 0.8)
    X, Y = _mesh(box)
    F = np.ma.masked_invalid(sampler(expr, names)(X, Y))
    G = np.ma.masked_invalid(sampler(gexpr, names)(X, Y))
    levels = _map_levels(F.filled(np.nan))
    cmap = colormaps["Greys_r"]
    norm = BoundaryNorm(levels, cmap.N)
    filled = ax.contourf(X, Y, F, levels=levels, cmap=cmap, norm=norm, alpha=0.35)
    filled.set_gid("contours")
    ax.contour(X, Y, F, levels=levels, colors="grey", linewidths=0.4, alpha=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no contour levels were found"
        ax.contour(X, Y, G, levels=[0.0], colors=GRAD_G_COLOUR, linewidths=2.4).set_gid(
            "constraint"
        )
        values = [float(sampler(expr, names)(*p)) for p in points]
        for value in values:
            ax.contour(
                X, Y, F, levels=[value], colors=LEVEL_COLOUR, linewidths=1.8, linestyles="--"
            ).set_gid("level_set")
    _draw_lagrange_arrows(ax, points, grads_f, grads_g, box)
    for p, lam, side in zip(points, lams, _beside(grads_g, grads_f), strict=True):
        ax.annotate(
            f"∇f = λ ∇g\nλ = {lam:.6g}",
            tuple(p),
            xytext=tuple(30 * side),
            textcoords="offset points",
            ha="left" if side[0] >= 0 else "right",
            va="bottom" if side[1] >= 0 else "top",
            fontsize=9.5,
            bbox={"boxstyle": "round", "fc": "white", "ec": "grey", "alpha": 0.9},
            zorder=9,
            gid="lambda",
        )
    ax.plot(
        points[:, 0],
        points[:, 1],
        "o",
        color="gold",
        mec="black",
        ms=9,
        zorder=6,
        gid="solution",
    )
    ax.legend(
        handles=[
            Line2D([], [], color=GRAD_G_COLOUR, lw=2.4, label=f"constraint {to_text(gexpr)} = 0"),
            Line2D([], [], color=LEVEL_COLOUR, lw=1.8, ls="--", label="level set of f through it"),
            Line2D([], [], color=GRAD_F_COLOUR, lw=2.0, label="∇f"),
            Line2D([], [], color="#aec6ee", lw=5.0, label="∇g"),
            *(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="o",
                    color="gold",
                    mec="black",
                    label=f"({p[0]:.6g}, {p[1]:.6g}): f = {v:.6g}",
                )
                for p, v in zip(points, values, strict=True)
            ),
        ],
        fontsize=8.5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncols=2,
        frameon=False,
    )
    ax.set(xlim=box[0], ylim=box[1], xlabel=names[0], ylabel=names[1])
    _square_if_fair(ax, box)
    ax.set_title(verdict, fontsize=10)
    if own:
        name = function_name(f, expr)
        set_title(fig, title, f"Lagrange: where f = {name} touches {to_text(gexpr)} = 0")
    return fig


def _one_constraint(constraint: Any) -> Any:
    if isinstance(constraint, list | tuple):
        if len(constraint) != 1:
            raise CalcmlError(f"lagrange_picture draws one constraint g = 0, not {len(constraint)}")
        return constraint[0]
    return constraint


def _lagrange_points(
    expr: sympy.Expr, g: sympy.Expr, names: list[str], result: Any, x0: Any
) -> tuple[np.ndarray, list[float], str]:
    """The points to draw, their multipliers, and what the axes' title says."""
    if result is None:
        result = lagrange(expr, [g], x0=x0, variables=names) if x0 is not None else None
        if result is None:
            result = lagrange(expr, [g], variables=names)
    if isinstance(result, LagrangePoint):
        result = [result]
    if isinstance(result, Result):
        x = np.asarray(result.x, dtype=float).ravel()
        lam = np.asarray(result.multipliers, dtype=float).ravel()
        if not np.all(np.isfinite(x)) or not np.all(np.isfinite(lam)):
            raise CalcmlError(f"the result has no finite point to draw: {result.message}")
        if x.shape != (2,) or lam.shape != (1,):
            raise CalcmlError(
                "the result must be a point (x, y) with one multiplier, from "
                "calcml.lagrange(f, [g], x0=...) or calcml.minimize(..., constraints=[g])"
            )
        if result.variables is not None and list(result.variables) != names:
            raise CalcmlError(
                f"the result is in the variables {', '.join(result.variables)}, "
                f"not {', '.join(names)}"
            )
        return x[None, :], [float(lam[0])], f"{result.method}: {_verdict(result)}"
    found = list(result)
    if not found:
        raise CalcmlError(
            "there are no constrained stationary points to draw (lagrange found none); "
            "try x0= for a numerical solution"
        )
    if not all(isinstance(p, LagrangePoint) and len(p.multipliers) == 1 for p in found):
        raise CalcmlError("result must be a Result or LagrangePoints of one constraint")
    try:
        points = np.array([[float(p.x[n]) for n in names] for p in found])
        lams = [float(p.multipliers[0]) for p in found]
    except (KeyError, TypeError) as err:
        raise CalcmlError(f"the points must give numbers for {', '.join(names)}: {err}") from None
    count = len(found)
    return points, lams, f"{count} constrained stationary point{'s' if count != 1 else ''}"


def _lagrange_box(
    points: np.ndarray, xlim: Sequence[float] | None, ylim: Sequence[float] | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    sides = []
    span = float(np.max(np.ptp(points, axis=0)))
    pad = max(1.5, 0.75 * span)
    for j, given, name in ((0, xlim, "xlim"), (1, ylim, "ylim")):
        if given is not None:
            sides.append(check_range(given, name))
        else:
            sides.append((float(points[:, j].min()) - pad, float(points[:, j].max()) + pad))
    return sides[0], sides[1]


def _beside(grads_g: np.ndarray, grads_f: np.ndarray) -> np.ndarray:
    """Unit directions across the gradients (along the constraint's tangent), where the
    annotation of each point sits clear of its arrows."""
    grads = np.where(np.any(grads_g != 0, axis=1)[:, None], grads_g, grads_f)
    across = np.column_stack([-grads[:, 1], grads[:, 0]])
    across[across[:, 0] < 0] *= -1  # to the right where possible
    size = np.hypot(across[:, 0], across[:, 1])[:, None]
    return np.where(size > 0, across / np.where(size > 0, size, 1.0), [0.6, 0.8])


def _draw_lagrange_arrows(
    ax: Axes, points: np.ndarray, grads_f: np.ndarray, grads_g: np.ndarray, box: Any
) -> None:
    """grad f and grad g at the points, to one scale: the longest arrow is a fifth of the
    view, so that grad f = lambda grad g can be seen (the arrows keep the exact values)."""
    longest = float(np.max(np.hypot(*np.vstack([grads_f, grads_g]).T)))
    reach = 0.2 * min(b[1] - b[0] for b in box)
    scale = longest / reach if longest > 0 else 1.0
    common = {"angles": "xy", "scale_units": "xy", "scale": scale}
    ax.quiver(
        points[:, 0],
        points[:, 1],
        grads_g[:, 0],
        grads_g[:, 1],
        **common,
        facecolor="#aec6ee",
        edgecolor=GRAD_G_COLOUR,
        linewidth=1.2,
        width=0.016,
        zorder=7,
        gid="grad_g",
    )
    ax.quiver(
        points[:, 0],
        points[:, 1],
        grads_f[:, 0],
        grads_f[:, 1],
        **common,
        color=GRAD_F_COLOUR,
        width=0.008,
        zorder=8,
        gid="grad_f",
    )
