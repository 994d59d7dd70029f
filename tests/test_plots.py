"""Tests of calcml.plots: the figures hold the right numbers, not just pixels.

No golden images: each test finds the artists by their gid and checks their data against
hand-derived values (slopes of x^2, the gradient of x^2 + 3y^2) or calcml's exact results.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.quiver import Quiver

import calcml
import calcml.plots
from calcml.numeric import secant_slopes


def lines(ax, gid: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def collection(ax, gid: str):
    (found,) = [c for c in ax.collections if c.get_gid() == gid]
    return found


def quiver(ax, gid: str) -> Quiver:
    found = collection(ax, gid)
    assert isinstance(found, Quiver)
    return found


def slope_of(line: Line2D) -> float:
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    return float((y[-1] - y[0]) / (x[-1] - x[0]))


# --- secant -----------------------------------------------------------------------------

RUNS = (1, 0.5, 0.25, 0.1)


@pytest.fixture(scope="module")
def secant_fig() -> Figure:
    return calcml.plots.secant("x^2", 1, runs=RUNS)


def test_secant_returns_two_panels(secant_fig: Figure) -> None:
    assert isinstance(secant_fig, Figure)
    curve_ax, limit_ax = secant_fig.axes
    assert curve_ax.get_xscale() == "linear" and limit_ax.get_xscale() == "log"
    assert curve_ax.get_legend() is not None and limit_ax.get_legend() is not None
    assert secant_fig.get_suptitle() == "Secant slopes of x^2 at x = 1"


def test_secant_lines_have_the_secant_slopes(secant_fig: Figure) -> None:
    ax = secant_fig.axes[0]
    secants = lines(ax, "secant")
    # hand-derived: ((1 + h)^2 - 1) / h = 2 + h, largest run first
    assert [slope_of(line) for line in secants] == pytest.approx([2 + h for h in RUNS])
    for line, h in zip(secants, RUNS, strict=True):
        x, y = line.get_xdata(), line.get_ydata()
        through_x0 = y[0] + slope_of(line) * (1 - x[0])
        assert through_x0 == pytest.approx(1.0)  # passes through (x0, f(x0)) = (1, 1)
        through_x0_plus_h = y[0] + slope_of(line) * (1 + h - x[0])
        assert through_x0_plus_h == pytest.approx((1 + h) ** 2)
    points = lines(ax, "secant_point")
    assert [p.get_xdata()[0] for p in points] == pytest.approx([1 + h for h in RUNS])
    assert [p.get_ydata()[0] for p in points] == pytest.approx([(1 + h) ** 2 for h in RUNS])


def test_secant_tangent_has_the_derivative_slope(secant_fig: Figure) -> None:
    (tangent,) = lines(secant_fig.axes[0], "tangent")
    assert slope_of(tangent) == pytest.approx(2.0)
    assert slope_of(tangent) == pytest.approx(calcml.derivative("x^2", at=1).value)


def test_secant_curve_is_the_function(secant_fig: Figure) -> None:
    (curve,) = lines(secant_fig.axes[0], "function")
    x, y = curve.get_xdata(), np.ma.filled(curve.get_ydata(), np.nan)
    np.testing.assert_allclose(y, np.asarray(x) ** 2)
    assert secant_fig.axes[0].get_xlim() == pytest.approx((-0.5, 2.5))  # x0 ± 1.5 × run


def test_secant_limit_panel_converges_to_derivative(secant_fig: Figure) -> None:
    ax = secant_fig.axes[1]
    (slopes,) = lines(ax, "slopes")
    assert list(slopes.get_xdata()) == pytest.approx(list(RUNS))
    assert list(slopes.get_ydata()) == pytest.approx([2 + h for h in RUNS])
    (limit,) = lines(ax, "derivative")
    assert list(limit.get_ydata()) == [pytest.approx(2.0)] * 2
    assert ax.xaxis_inverted()  # h shrinks toward the right


def test_secant_of_callable_has_no_tangent() -> None:
    fig = calcml.plots.secant(math.exp, 0, runs=[1, 0.1], window=(-2, 2), title="exp")
    ax = fig.axes[0]
    assert lines(ax, "tangent") == [] and lines(fig.axes[1], "derivative") == []
    table = secant_slopes(math.exp, 0, runs=[1, 0.1])
    assert [slope_of(line) for line in lines(ax, "secant")] == pytest.approx(
        [math.e - 1, (math.exp(0.1) - 1) / 0.1]
    )
    assert [slope_of(line) for line in lines(ax, "secant")] == pytest.approx(table.slopes.tolist())
    assert ax.get_xlim() == (-2.0, 2.0)
    assert fig.get_suptitle() == "exp"


def test_secant_with_left_and_right_runs() -> None:
    fig = calcml.plots.secant("1/x", 1, runs=[0.5, -0.5])
    # hand-derived: (1/(1+h) - 1) / h = -1 / (1 + h)
    slopes = sorted(slope_of(line) for line in lines(fig.axes[0], "secant"))
    assert slopes == pytest.approx([-2.0, -1 / 1.5])
    assert len(lines(fig.axes[1], "slopes")) == 2


# --- function and derivative ------------------------------------------------------------


def test_function_and_derivative_curves() -> None:
    fig = calcml.plots.function_and_derivative("x^3 - 3x", window=(-2, 2))
    ax = fig.axes[0]
    (f,) = lines(ax, "function")
    (df,) = lines(ax, "derivative")
    x = np.asarray(f.get_xdata())
    np.testing.assert_allclose(np.ma.filled(f.get_ydata(), np.nan), x**3 - 3 * x, atol=1e-12)
    np.testing.assert_allclose(np.ma.filled(df.get_ydata(), np.nan), 3 * x**2 - 3, atol=1e-12)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["$f(x) = x^{3} - 3 x$", "$f'(x) = 3 x^{2} - 3$"]
    assert ax.get_xlim() == (-2.0, 2.0)


def test_function_and_derivative_masks_undefined_values() -> None:
    fig = calcml.plots.function_and_derivative("log(x)", title="")
    (f,) = lines(fig.axes[0], "function")
    x, y = np.asarray(f.get_xdata()), np.ma.masked_invalid(f.get_ydata())
    assert np.all(y.mask[x <= 0]) and not np.any(y.mask[x > 0.1])
    (df,) = lines(fig.axes[0], "derivative")
    keep = x > 0.5
    np.testing.assert_allclose(np.asarray(df.get_ydata())[keep], 1 / x[keep])
    assert fig.get_suptitle() == ""
    assert np.all(np.isfinite(fig.axes[0].get_ylim()))


def test_function_and_derivative_breaks_lines_at_poles() -> None:
    fig = calcml.plots.function_and_derivative("tan(x)", window=(0, 3))
    (f,) = lines(fig.axes[0], "function")
    y = np.ma.masked_invalid(f.get_ydata())
    x = np.asarray(f.get_xdata())
    low, high = fig.axes[0].get_ylim()
    assert high - low < 200  # the pole at pi/2 does not set the scale
    segments = np.ma.clump_unmasked(y)
    assert len(segments) == 2  # broken at the pole, not joined by a vertical line
    assert x[segments[0].stop - 1] < math.pi / 2 < x[segments[1].start]


def test_function_and_derivative_needs_one_variable() -> None:
    with pytest.raises(calcml.CalcmlError, match="also depends on y"):
        calcml.plots.function_and_derivative("x*y", var="x")
    with pytest.raises(calcml.CalcmlError):
        calcml.plots.function_and_derivative("x^2", window=(1, 1))


# --- contour and gradient ---------------------------------------------------------------


@pytest.fixture(scope="module")
def bowl() -> Figure:
    return calcml.plots.contour_gradient("x^2 + 3y^2", arrows=7, point=(1, 1))


def test_contour_gradient_arrows_are_the_gradient(bowl: Figure) -> None:
    ax = bowl.axes[0]
    field = quiver(ax, "gradient")
    assert field.N == 49
    assert field.Umask is np.ma.nomask or not np.any(field.Umask)
    X, Y, U, V = field.X, field.Y, field.U, field.V
    np.testing.assert_allclose(U, 2 * X)  # hand-derived gradient (2x, 6y)
    np.testing.assert_allclose(V, 6 * Y)
    for i in (0, 10, 24, 48):
        exact = calcml.gradient("x^2 + 3y^2", at=[X[i], Y[i]])
        assert [U[i], V[i]] == pytest.approx(exact.tolist())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert ax.get_xlim() == (-3.0, 3.0) and ax.get_ylim() == (-3.0, 3.0)


def test_contour_gradient_point(bowl: Figure) -> None:
    ax = bowl.axes[0]
    arrow = quiver(ax, "point_gradient")
    assert (arrow.X[0], arrow.Y[0], arrow.U[0], arrow.V[0]) == pytest.approx((1, 1, 2, 6))
    (marker,) = lines(ax, "point")
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == (1.0, 1.0)
    assert "∇f = (2, 6)" in ax.get_legend().get_texts()[0].get_text()


def test_contour_levels_cover_the_values(bowl: Figure) -> None:
    filled = collection(bowl.axes[0], "contours")
    levels = filled.levels
    assert levels[0] <= 0 and levels[-1] >= 36 - 1e-9  # f runs from 0 to 36 on the box
    assert len(bowl.axes) == 2  # the map and its colour bar


def test_contour_gradient_with_point_dict_and_levels() -> None:
    fig = calcml.plots.contour_gradient("sin(x)*cos(y)", levels=[-1, 0, 1], point={"y": 0, "x": 0})
    arrow = quiver(fig.axes[0], "point_gradient")
    assert (arrow.U[0], arrow.V[0]) == pytest.approx((1.0, 0.0))  # (cos x cos y, -sin x sin y)
    filled = collection(fig.axes[0], "contours")
    assert list(filled.levels) == [-1, 0, 1]


def test_contour_gradient_masks_where_undefined() -> None:
    fig = calcml.plots.contour_gradient("log(x*y)", arrows=6)
    field = quiver(fig.axes[0], "gradient")
    defined = field.X * field.Y > 0
    masked = np.broadcast_to(field.Umask, field.U.shape)  # Quiver keeps the mask apart
    assert np.all(masked[~defined]) and not np.any(masked[defined])
    np.testing.assert_allclose(field.U[defined], 1 / field.X[defined])  # d/dx log(xy) = 1/x


@pytest.mark.parametrize(
    ("f", "message"),
    [("x^2", r"1 \(x\)"), ("x + y + z", r"3 \(x, y, z\)"), ("5", r"0 \(none\)")],
)
@pytest.mark.parametrize("plot", [calcml.plots.contour_gradient, calcml.plots.surface])
def test_two_variable_plots_reject_other_counts(plot, f: str, message: str) -> None:
    with pytest.raises(calcml.CalcmlError, match="exactly 2 variables.*" + message):
        plot(f)


@pytest.mark.parametrize(
    "kwargs",
    [{"xlim": (1, 0)}, {"ylim": (0, math.inf)}, {"arrows": 1}, {"levels": 0}, {"levels": [1, 0]}],
)
def test_contour_gradient_bad_options(kwargs: dict) -> None:
    with pytest.raises(calcml.CalcmlError):
        calcml.plots.contour_gradient("x*y", **kwargs)


# --- surface ----------------------------------------------------------------------------


def test_surface_faces_hold_the_function() -> None:
    n = 12
    fig = calcml.plots.surface("x^2 - y^2", xlim=(-2, 2), ylim=(-1, 3), resolution=n)
    ax = fig.axes[0]
    assert ax.name == "3d"
    surf = collection(ax, "surface")
    # each face is coloured by the mean height of its four corners
    x, y = np.meshgrid(np.linspace(-2, 2, n), np.linspace(-1, 3, n))
    z = x**2 - y**2
    corners = (z[:-1, :-1] + z[1:, :-1] + z[:-1, 1:] + z[1:, 1:]) / 4
    np.testing.assert_allclose(np.sort(surf.get_array()), np.sort(corners.ravel()))
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x", "y", "f(x, y)")
    assert ax.get_zlim()[0] < z.min()  # room for the contour map below


def test_surface_survives_undefined_values() -> None:
    fig = calcml.plots.surface("log(x^2 + y^2) + sqrt(x)", resolution=20)
    surf = collection(fig.axes[0], "surface")
    assert np.all(np.isfinite(fig.axes[0].get_zlim()))
    assert surf.get_array().size > 0


# --- saving and global state ------------------------------------------------------------


def test_save_writes_png(tmp_path: Path) -> None:
    fig = calcml.plots.function_and_derivative("x^2", window=(-1, 1))
    target = tmp_path / "deep" / "er" / "fig.png"
    written = calcml.plots.save(fig, str(target))
    assert written == target
    data = target.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_pyplot_figures_are_created() -> None:
    calcml.plots.secant("x^2", 1)
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []
