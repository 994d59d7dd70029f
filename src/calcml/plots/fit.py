"""Figures of the regression module: a fit with its residuals, and the chi-squared landscape.

:func:`fit_result` draws what :func:`calcml.fit` (or :func:`calcml.linear_fit`,
:func:`calcml.polyfit`) returns: the data with their error bars, the fitted curve, the
parameters with their standard errors, and below, on its own axis, the residuals
y - f(x), which show what the curve hides (a trend in them means a wrong model).
:func:`chi2_landscape` draws chi^2 as a function of two parameters, as contours, with the
path the solver took (``result.history``) from the start to the minimum; near the
minimum the contours chi^2_min + k^2 s^2 are the k-sigma regions, and the box of +/- one
standard error just holds the 1-sigma contour.

Presentation only: the parameters, errors, residuals and iterates are the result's; the
landscape is chi^2 from :func:`calcml.fit.chi2` of the result's own model
(:meth:`FitResult.predict`) at other parameter values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from ..errors import CalcmlError
from ..fit import FitResult, chi2
from ._figure import new_figure, set_title

SAMPLES = 400  # points of the fitted curve
GRID = 101  # samples per axis of the chi^2 maps
LEVELS = 25  # filled contour levels of the chi^2 maps
ZOOM = 4.0  # the zoomed map spans the minimum +/- this many standard errors
SIGMAS = (1, 2, 3)  # the k-sigma contours drawn near the minimum
DATA_COLOUR = "#1f4e9a"
FIT_COLOUR = "#c0392b"
PATH_COLOUR = "#111111"
SIGMA_COLOURS = ("#c0392b", "#e67e22", "#f4d03f")
METHOD_NAMES = {
    "lm": "Levenberg-Marquardt",
    "gauss_newton": "Gauss-Newton",
    "gradient_descent": "gradient descent",
    "qr": "linear least squares (QR)",
}


# --- the fit and its residuals ------------------------------------------------------------


def fit_result(
    result: FitResult,
    x: Any = None,
    *,
    xlabel: str | None = None,
    ylabel: str = "y",
    title: str | None = None,
) -> Figure:
    """The data with error bars, the fitted curve, and the residuals on an axis below.

    Error bars are the data's ``sigma`` when the fit had one; without it they are the
    residual standard deviation s = sqrt(chi2 / dof), the scatter the fit implies (and
    the scale of its standard errors). For a model of several independent variables
    the data are drawn against the fitted values, beside the line y = f.

    Parameters
    ----------
    result : FitResult
        From :func:`calcml.fit`, :func:`calcml.linear_fit` or :func:`calcml.polyfit`.
    x : array_like, optional
        The independent variable, for a result that does not hold it (:func:`calcml.lstsq`).
    xlabel, ylabel : str, optional
        Axis labels (default: the name of x, and "y").
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the fit (artists with gid "data", "error_bars", "fit", "params") and
        the residuals (gid "residual_axes"; artists "residuals", "residual_error_bars",
        "zero").

    Examples
    --------
    >>> import calcml as cm
    >>> from calcml import plots
    >>> r = cm.linear_fit([1, 2, 3, 4], [2.1, 3.9, 6.2, 7.8], sigma=0.2)
    >>> fig = plots.fit_result(r)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['y', 'residual y - f']
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0]
    'data ± sigma'
    """
    if not isinstance(result, FitResult):
        raise CalcmlError(f"fit_result draws a FitResult, not {type(result).__name__}")
    _check_drawable(result)
    y = np.asarray(result.y, dtype=float)
    residuals = np.asarray(result.residuals, dtype=float)
    xdata, name, several = _independent(result, x)
    bars, bar_label = _error_bars(result)
    fig = new_figure(7.5, 6.8)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.3])
    if several:
        fitted = y - residuals
        xs_plot = fitted
        xname = "fitted value f"
        ends = np.array([float(fitted.min()), float(fitted.max())])
        (fit_line,) = top.plot(
            ends, ends, color=FIT_COLOUR, lw=1.8, label="y = f (a perfect fit)", gid="fit"
        )
    else:
        xs_plot = xdata
        xname = name
        grid = np.linspace(float(xdata.min()), float(xdata.max()), SAMPLES)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            curve = np.asarray(result.predict(grid), dtype=float)
        (fit_line,) = top.plot(
            grid,
            np.ma.masked_invalid(curve),
            color=FIT_COLOUR,
            lw=1.8,
            label=f"fit: {result.model}",
            gid="fit",
        )
    data = _errorbar(top, xs_plot, y, bars, bar_label, "data", "error_bars")
    top.set_ylabel(ylabel)
    top.grid(alpha=0.3)
    top.legend(handles=[data, fit_line], fontsize=8.5, loc="best", framealpha=0.9)
    top.text(
        0.98 if _rising(xs_plot, y) else 0.02,
        0.04,
        "\n".join(_parameter_lines(result)),
        transform=top.transAxes,
        ha="right" if _rising(xs_plot, y) else "left",
        va="bottom",
        fontsize=9,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"},
        gid="params",
    )
    top.set_title(_verdict(result), fontsize=9.5)

    bottom.set_gid("residual_axes")
    bottom.axhline(0, color=FIT_COLOUR, lw=1.2, gid="zero")
    _errorbar(bottom, xs_plot, residuals, bars, None, "residuals", "residual_error_bars")
    bottom.set_ylabel("residual y - f")
    bottom.set_xlabel(xlabel if xlabel is not None else xname)
    bottom.grid(alpha=0.3)
    span = np.abs(residuals) + (bars if bars is not None else 0.0)
    reach = float(np.max(span)) if span.size and np.isfinite(span).all() else 0.0
    if reach > 0:
        bottom.set_ylim(-1.15 * reach, 1.15 * reach)
    set_title(fig, title, f"Least-squares fit: {result.model}")
    return fig


def _check_drawable(result: FitResult) -> None:
    values = np.array(list(result.params.values()), dtype=float)
    if not np.all(np.isfinite(values)) or result.y is None or result.residuals is None:
        raise CalcmlError(f"the fit has no parameters to draw: {result.message}")


def _independent(result: FitResult, x: Any) -> tuple[np.ndarray | None, str, bool]:
    """The x to draw against, its name, and whether the model has several inputs."""
    data = x if x is not None else result.x
    if data is None:
        raise CalcmlError("this result does not hold its x: pass x= to draw the fit against it")
    if isinstance(data, Mapping):
        if len(data) != 1:
            return None, "", True
        ((name, column),) = data.items()
        return np.asarray(column, dtype=float), str(name), False
    arr = np.asarray(data, dtype=float)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        return None, "", True
    if arr.shape != np.shape(result.y):
        raise CalcmlError(f"x has {arr.size} values but the fit has {len(result.y)} data points")
    return arr, "x", False


def _error_bars(result: FitResult) -> tuple[np.ndarray | None, str]:
    """The data's sigma, or the residual standard deviation s when there is none."""
    n = len(result.y)
    if result.sigma is not None:
        return np.broadcast_to(np.asarray(result.sigma, dtype=float), (n,)), "data ± sigma"
    variance = result.reduced_chi2
    if math.isfinite(variance) and variance > 0:
        s = math.sqrt(variance)
        return np.full(n, s), f"data ± s = {s:.3g} (residual standard deviation)"
    return None, "data"


def _errorbar(
    ax: Axes,
    xs: np.ndarray,
    ys: np.ndarray,
    bars: np.ndarray | None,
    label: str | None,
    gid: str,
    bars_gid: str,
) -> Any:
    container = ax.errorbar(
        xs,
        ys,
        yerr=bars,
        fmt="o",
        color=DATA_COLOUR,
        ms=5,
        mec="white",
        mew=0.6,
        ecolor=DATA_COLOUR,
        elinewidth=1.1,
        capsize=2.5,
        label=label,
        zorder=4,
    )
    container.lines[0].set_gid(gid)
    for bars_collection in container.lines[2]:
        bars_collection.set_gid(bars_gid)
    return container


def _rising(xs: np.ndarray, ys: np.ndarray) -> bool:
    """Whether the data rise from left to right (then the lower right corner is free)."""
    order = np.argsort(xs)
    half = max(len(order) // 2, 1)
    return bool(np.mean(ys[order[half:]]) >= np.mean(ys[order[:half]]))


def _parameter_lines(result: FitResult) -> list[str]:
    lines = []
    for name, value in result.params.items():
        err = result.errors.get(name)
        if err is None:
            lines.append(f"{name} = {value:.6g} (fixed)")
        else:
            lines.append(f"{name} = {with_error(value, err)}")
    scale = "" if result.sigma is not None else " (RSS)"
    lines.append(f"$\\chi^2${scale} = {result.chi2:.4g}, dof = {result.dof}")
    if result.p_value is not None:
        lines.append(f"p-value = {result.p_value:.3g}")
    return lines


def with_error(value: float, error: float) -> str:
    """``value ± error`` with the error to two significant digits and the value to the same
    decimal place, in mathtext (a common power of ten for very large or small values).

    >>> with_error(238.94212918, 2.7070075241)
    '$238.9 \\\\pm 2.7$'
    >>> with_error(5.5015643181e-4, 7.2668688436e-06)
    '$(5.502 \\\\pm 0.073) \\\\times 10^{-4}$'
    >>> with_error(1.5, float("inf"))
    '$1.5 \\\\pm \\\\infty$'
    """
    if not math.isfinite(error):
        return f"${value:.6g} \\pm \\infty$"
    exponent = 0
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        exponent = math.floor(math.log10(abs(value)))
    v, e = value / 10.0**exponent, error / 10.0**exponent
    decimals = 1 - math.floor(math.log10(e)) if e > 0 else 6
    decimals = min(max(decimals, 0), 12)
    body = f"{v:.{decimals}f} \\pm {e:.{decimals}f}"
    if exponent:
        return f"$({body}) \\times 10^{{{exponent}}}$"
    return f"${body}$"


def _verdict(result: FitResult) -> str:
    method = METHOD_NAMES.get(result.method, result.method or "fit")
    if result.method == "qr":
        how = "solved exactly"
    elif result.success:
        how = f"converged after {result.nit} iteration{'s' if result.nit != 1 else ''}"
    else:
        how = f"FAILED ({result.status.replace('_', ' ')}) after {result.nit} iterations"
    return f"{method}: {how}; {result.n_data} data points, {len(result.varying)} parameters"


# --- the chi-squared landscape ------------------------------------------------------------


def chi2_landscape(
    result: FitResult,
    params: Sequence[str] | None = None,
    *,
    zoom: bool | None = None,
    resolution: int = GRID,
    title: str | None = None,
) -> Figure:
    """chi^2 over two parameters as contours, with the solver's path to the minimum.

    chi^2(a, b) is evaluated on a grid with the result's model (the other parameters held
    at their fitted values). The path joins ``result.history``, the parameter vectors of
    every iteration, from the start (a square) to the minimum (a star). When the path
    starts far away, a second panel zooms on the minimum: there the contours
    chi^2_min + k^2 s^2 (s^2 = 1 with sigma, else the reduced chi^2, the scale of the
    errors) bound the k-sigma regions, and the dashed box of +/- one standard error
    just holds the 1-sigma contour (exactly, for a model linear in its parameters).
    With more than two parameters varying the map is a slice (the others held), so its
    contours lie inside the box of the fit's errors, which is then labelled "(c free)".

    Parameters
    ----------
    result : FitResult
        A fit with at least two varying parameters.
    params : (str, str), optional
        The two parameters on the axes (default: the first two that varied).
    zoom : bool, optional
        Draw the zoomed panel (True), or only the whole path (False); by default, zoom
        when the path starts beyond four standard errors of the minimum.
    resolution : int
        Samples per axis of the grid (11 to 401).
    title : str, optional
        The figure title ("" for none).

    Returns
    -------
    matplotlib.figure.Figure
        One or two maps; in each, the filled contours have gid "contours", the path
        "path", the start "start" and the minimum "minimum"; the zoomed map adds
        "sigma_contours" and "error_box".

    Examples
    --------
    >>> import calcml as cm
    >>> from calcml import plots
    >>> x = [1, 2, 3, 4, 5, 6]
    >>> y = [3.2, 1.9, 1.2, 0.7, 0.45, 0.27]
    >>> r = cm.fit("a*exp(-k*x)", x, y, p0={"a": 1, "k": 1}, sigma=0.05)
    >>> fig = plots.chi2_landscape(r)
    >>> [ax.get_title(loc="left")[:14] for ax in fig.axes if ax.get_label() != "<colorbar>"]
    ['the path of Le', 'near the minim']
    """
    if not isinstance(result, FitResult):
        raise CalcmlError(f"chi2_landscape draws a FitResult, not {type(result).__name__}")
    _check_drawable(result)
    if result.x is None:
        raise CalcmlError("this result does not hold its x, so chi2 cannot be evaluated")
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise CalcmlError(f"resolution must be a whole number from 11 to 401, not {resolution!r}")
    if not 11 <= resolution <= 401:
        raise CalcmlError(f"resolution must be a whole number from 11 to 401, not {resolution}")
    names = _two_parameters(result, params)
    columns = [result.varying.index(n) for n in names]
    path = np.array([np.asarray(p, dtype=float)[columns] for p in result.history])
    if path.size == 0:
        path = np.array([[result.params[n] for n in names]])
    best = np.array([result.params[n] for n in names], dtype=float)
    errors = np.array([_error(result, n) for n in names])
    near = _zoom_box(best, errors)
    far = _path_box(np.vstack([path, best]))
    if zoom is None:
        zoom = near is not None and not _inside(path, near)
    boxes: list[tuple[str, Any]] = []
    if zoom and near is not None:
        boxes = [("path", far), ("zoom", near)]
    elif near is not None and _inside(path, near):
        boxes = [("zoom", near)]
    else:
        boxes = [("path", far)]
    fig = new_figure(6.6 * len(boxes), 5.6)
    axes = fig.subplots(1, len(boxes), squeeze=False)[0]
    for ax, (kind, box) in zip(axes, boxes, strict=True):
        grid = _chi2_grid(result, names, box, resolution)
        filled = _draw_chi2_map(ax, grid)
        bar = fig.colorbar(filled, ax=ax, label=r"$\chi^2$", shrink=0.9)
        bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.4g}"))
        bar.ax.yaxis.set_minor_locator(NullLocator())
        if kind == "zoom":
            _draw_sigma_regions(
                ax, result, names, _ellipse_grid(result, names, best, errors, resolution)
            )
            _draw_error_box(ax, result, names, best, errors)
        _draw_path(ax, result, path, best, names)
        ax.set(xlim=box[0], ylim=box[1], xlabel=names[0], ylabel=names[1])
        ax.ticklabel_format(style="sci", scilimits=(-3, 4), useMathText=True)
        ax.set_title(_map_title(result, kind, path), fontsize=9.5, loc="left")
        ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    held = [n for n in result.varying if n not in names]
    default = f"$\\chi^2$ landscape of {result.model} over ({names[0]}, {names[1]})"
    if held:
        default += f"\n(held at their fitted values: {', '.join(held)})"
    set_title(fig, title, default)
    return fig


def _two_parameters(result: FitResult, params: Sequence[str] | None) -> list[str]:
    if params is None:
        if len(result.varying) < 2:
            raise CalcmlError(
                "chi2_landscape needs a fit of at least two varying parameters; this one "
                f"varies {len(result.varying)} ({', '.join(result.varying) or 'none'})"
            )
        return list(result.varying[:2])
    names = [str(p) for p in params]
    if len(names) != 2 or names[0] == names[1]:
        raise CalcmlError(f"params must name two different parameters, not {params!r}")
    for n in names:
        if n not in result.varying:
            raise CalcmlError(
                f"{n!r} is not a varying parameter of this fit ({', '.join(result.varying)})"
            )
    return names


def _error(result: FitResult, name: str) -> float:
    err = result.errors.get(name)
    return float(err) if err is not None else math.nan


def _zoom_box(best: np.ndarray, errors: np.ndarray) -> Any:
    if not np.all(np.isfinite(errors)) or np.any(errors <= 0):
        return None
    return tuple(
        (float(b - ZOOM * e), float(b + ZOOM * e)) for b, e in zip(best, errors, strict=True)
    )


def _path_box(points: np.ndarray) -> Any:
    sides = []
    for j in range(2):
        low, high = float(points[:, j].min()), float(points[:, j].max())
        span = high - low
        pad = 0.1 * span if span > 0 else max(0.1 * abs(high), 1e-3 if high == 0 else 0.0)
        sides.append((low - pad, high + pad))
    return tuple(sides)


def _inside(path: np.ndarray, box: Any) -> bool:
    return bool(
        np.all((path[:, 0] >= box[0][0]) & (path[:, 0] <= box[0][1]))
        and np.all((path[:, 1] >= box[1][0]) & (path[:, 1] <= box[1][1]))
    )


def _chi2_grid(
    result: FitResult, names: list[str], box: Any, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """chi^2 of the result's model at every point of an n x n grid over the box."""
    A, B = np.meshgrid(np.linspace(*box[0], n), np.linspace(*box[1], n))
    return A, B, _chi2_at(result, names, A, B)


def _ellipse_grid(
    result: FitResult, names: list[str], best: np.ndarray, errors: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """chi^2 on a grid sheared along the error ellipse of the two parameters (u, v in
    [-ZOOM, ZOOM]: a = a* + u s_a, b = b* + s_b (rho u + sqrt(1 - rho^2) v)), so that
    the k-sigma contours of a strongly correlated pair, thin slivers on a square grid,
    are sampled as finely across as along."""
    i, j = (result.varying.index(name) for name in names)
    rho = float(np.clip(result.correlation[i, j], -1.0, 1.0))
    if not math.isfinite(rho):
        rho = 0.0
    u, v = np.meshgrid(np.linspace(-ZOOM, ZOOM, n), np.linspace(-ZOOM, ZOOM, n))
    A = best[0] + u * errors[0]
    B = best[1] + errors[1] * (rho * u + math.sqrt(max(1.0 - rho * rho, 0.0)) * v)
    return A, B, _chi2_at(result, names, A, B)


def _chi2_at(result: FitResult, names: list[str], A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """chi^2 (calcml.fit.chi2) of the result's model with names[0] = A and names[1] = B,
    the other parameters at their fitted values; NaN where the model is undefined."""
    values = np.full(A.shape, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for index in np.ndindex(A.shape):
            other = {names[0]: float(A[index]), names[1]: float(B[index])}
            try:
                values[index] = chi2(result.y, result.predict(result.x, other), result.sigma)
            except (CalcmlError, ArithmeticError, ValueError):
                continue
    values[~np.isfinite(values)] = np.nan
    return values


def _draw_chi2_map(ax: Axes, grid: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Any:
    A, B, Z = grid
    finite = Z[np.isfinite(Z) & (Z > 0)]
    low = float(finite.min()) if finite.size else 1e-3
    high = float(finite.max()) if finite.size else 1.0
    if not high > low * 1.0001:
        high = low * 10
    levels = np.geomspace(low, high, LEVELS)
    filled = ax.contourf(
        A,
        B,
        np.ma.masked_invalid(np.clip(Z, low, high)),
        levels=levels,
        cmap=colormaps["Blues_r"],
        norm=LogNorm(low, high),
        alpha=0.8,
    )
    ax.contour(A, B, Z, levels=levels, colors="black", linewidths=0.3, alpha=0.3)
    filled.set_gid("contours")
    return filled


def _draw_sigma_regions(
    ax: Axes,
    result: FitResult,
    names: list[str],
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """The contours chi2_min + k^2 s^2 and the correlation of the two parameters."""
    A, B, Z = grid
    step = 1.0 if result.sigma is not None else result.reduced_chi2
    unit = "" if result.sigma is not None else " s^2"
    levels = [result.chi2 + k * k * step for k in SIGMAS]
    # one level at a time, widest first, so that the 1-sigma contour lies on top
    for k, level, colour in reversed(list(zip(SIGMAS, levels, SIGMA_COLOURS, strict=True))):
        lines = ax.contour(A, B, Z, levels=[level], colors=[colour], linewidths=1.8)
        lines.set_gid("sigma_contours")
        lines.set_zorder(6.5 + 1 / k)  # above the path, below the minimum's star
    handles = [
        Line2D([], [], color=colour, lw=1.8, label=f"{k}σ: $\\chi^2_{{min}} + {k * k}{unit}$")
        for k, colour in zip(SIGMAS, SIGMA_COLOURS, strict=True)
    ]
    for handle in handles:
        ax.add_line(handle)
    i, j = (result.varying.index(n) for n in names)
    ax.text(
        0.02,
        0.03,
        f"correlation C({names[0]}, {names[1]}) = {float(result.correlation[i, j]):+.4f}"
        + _free_note(result, names),
        transform=ax.transAxes,
        fontsize=8.5,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"},
        gid="correlation",
        zorder=9,
    )


def _free_note(result: FitResult, names: list[str]) -> str:
    """Errors and correlations are those of the whole fit: with more parameters varying,
    the slice drawn (the others held) is narrower than the error box."""
    free = [n for n in result.varying if n not in names]
    return f" ({', '.join(free)} free)" if free else ""


def _draw_error_box(ax: Axes, result: FitResult, names: list[str], best, errors) -> None:
    ax.add_patch(
        Rectangle(
            (best[0] - errors[0], best[1] - errors[1]),
            2 * errors[0],
            2 * errors[1],
            fill=False,
            ls="--",
            lw=1.2,
            ec="black",
            label="± 1 standard error" + _free_note(result, names),
            gid="error_box",
            zorder=5,
        )
    )


def _draw_path(ax: Axes, result: FitResult, path: np.ndarray, best: np.ndarray, names) -> None:
    method = METHOD_NAMES.get(result.method, result.method or "solver")
    ax.plot(
        path[:, 0],
        path[:, 1],
        color=PATH_COLOUR,
        lw=1.5,
        marker="o" if len(path) <= 200 else None,
        ms=4,
        mec="white",
        mew=0.5,
        label=f"{method}: {len(path) - 1} iterations" if len(path) > 1 else None,
        gid="path",
        zorder=6,
    )
    ax.plot(
        [path[0, 0]],
        [path[0, 1]],
        "s",
        color="white",
        mec="black",
        ms=8,
        zorder=7,
        label=f"start ({path[0, 0]:.4g}, {path[0, 1]:.4g})" if len(path) > 1 else None,
        gid="start",
    )
    ax.plot(
        [best[0]],
        [best[1]],
        "*",
        color="gold",
        mec="black",
        ms=15,
        zorder=8,
        label=f"minimum ({best[0]:.6g}, {best[1]:.6g}), $\\chi^2$ = {result.chi2:.4g}",
        gid="minimum",
    )


def _map_title(result: FitResult, kind: str, path: np.ndarray) -> str:
    method = METHOD_NAMES.get(result.method, result.method or "the solver")
    if kind == "zoom":
        unit = "1 (sigma given)" if result.sigma is not None else "s$^2$, the reduced $\\chi^2$"
        return f"near the minimum: k-σ contours $\\chi^2_{{min}} + k^2$ × {unit}"
    steps = len(path) - 1
    return f"the path of {method}: {steps} iteration{'s' if steps != 1 else ''}"
