"""Tests of calcml.plots.optimize: the figures draw the solvers' own iterates and multipliers.

As in test_plots.py there are no golden images: the artists are found by their gid, and
their data are compared with the Result the solver returns (its history, rows and
multipliers) and with hand-derived values.
"""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.quiver import Quiver

import calcml
import calcml.plots
from calcml.plots import descent_paths, lagrange_picture, newton_cascade


def lines(ax, gid: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def collections(ax, gid: str) -> list:
    return [c for c in ax.collections if c.get_gid() == gid]


def quiver(ax, gid: str) -> Quiver:
    (found,) = collections(ax, gid)
    assert isinstance(found, Quiver)
    return found


def texts(ax, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()[:4] == b"\x89PNG"


def xy(line: Line2D) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(line.get_xdata(), dtype=float),
        np.ma.filled(np.ma.asarray(line.get_ydata(), dtype=float), np.nan),
    )


# --- newton_cascade ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqrt2() -> tuple[Figure, calcml.optimize.Result]:
    return newton_cascade("x^2 - 2", x0=1), calcml.newton_raphson("x^2 - 2", x0=1)


def test_newton_iterates_are_the_history(sqrt2) -> None:
    fig, r = sqrt2
    ax = fig.axes[0]
    (iterates,) = lines(ax, "iterates")
    x, y = xy(iterates)
    np.testing.assert_array_equal(x, np.asarray(r.history, dtype=float))
    np.testing.assert_allclose(y, x**2 - 2, atol=1e-15)
    np.testing.assert_allclose(y, [row["f(x)"] for row in r.rows], atol=1e-15)
    assert r.success and len(x) == r.nit + 1 == 6


def test_newton_tangents_run_down_to_the_next_iterate(sqrt2) -> None:
    fig, r = sqrt2
    ax = fig.axes[0]
    tangents, verticals = lines(ax, "tangent"), lines(ax, "vertical")
    assert len(tangents) == len(verticals) == r.nit
    for k, (tangent, vertical) in enumerate(zip(tangents, verticals, strict=True)):
        (xa, xb), (ya, yb) = xy(tangent)
        assert (xa, xb, yb) == (r.history[k], r.history[k + 1], 0.0)
        assert ya == pytest.approx(r.history[k] ** 2 - 2)
        if k < 3:  # later steps are too short for a slope to mean anything
            slope = (yb - ya) / (xb - xa)
            assert slope == pytest.approx(r.rows[k]["f'(x)"], rel=1e-9)
            assert slope == pytest.approx(2 * r.history[k], rel=1e-9)  # hand-derived f'
        vx, vy = xy(vertical)
        assert list(vx) == [r.history[k + 1]] * 2
        assert list(vy) == pytest.approx([0.0, r.history[k + 1] ** 2 - 2])


def test_newton_figure_parts(sqrt2) -> None:
    fig, _ = sqrt2
    ax = fig.axes[0]
    (root,) = lines(ax, "root")
    assert root.get_xdata()[0] == pytest.approx(math.sqrt(2), abs=1e-15)
    assert root.get_ydata()[0] == 0.0
    (function,) = lines(ax, "function")
    x, y = xy(function)
    np.testing.assert_allclose(y, x**2 - 2, atol=1e-12)
    assert x[0] < 1 and x[-1] > 1.5  # the view holds every iterate
    assert ax.get_title() == "root found: x = 1.414213562 after 5 iterations"
    assert fig.get_suptitle() == "Newton-Raphson on x^2 - 2 = 0 from x0 = 1"
    assert texts(ax, "iterate_label")[:2] == ["$x_{0}$", "$x_{1}$"]
    assert "$f(x) = x^{2} - 2$" in legend_texts(ax)
    assert renders(fig)


def test_newton_cycle_is_the_verdict() -> None:
    r = calcml.newton_raphson("x^3 - 2x + 2", x0=0)
    fig = newton_cascade("x^3 - 2x + 2", result=r)
    ax = fig.axes[0]
    (iterates,) = lines(ax, "iterates")
    assert list(iterates.get_xdata()) == r.history == [0.0, 1.0, 0.0]
    assert ax.get_title() == "no root: cycle after 2 iterations (the iterates cycle between 0, 1)"
    assert lines(ax, "root") == [] and len(lines(ax, "tangent")) == 2
    assert texts(ax, "iterate_label") == ["$x_{0}$", "$x_{1}$"]  # x2 = x0 is not named twice


def test_newton_draws_a_given_result_without_rerunning() -> None:
    r = calcml.newton_raphson("x^2 - 2", x0=3, maxiter=2)
    assert r.status == "max_iterations"
    fig = newton_cascade("x^2 - 2", x0=3, result=r, interval=(0, 4), title="")
    ax = fig.axes[0]
    (iterates,) = lines(ax, "iterates")
    np.testing.assert_array_equal(iterates.get_xdata(), r.history)
    assert ax.get_title() == "no root: max iterations after 2 iterations"
    assert ax.get_xlim() == (0.0, 4.0) and fig.get_suptitle() == ""


def test_newton_flat_tangent() -> None:
    r = calcml.newton_raphson("x^3 - 3x", x0=1)
    assert r.status == "zero_derivative"
    ax = newton_cascade("x^3 - 3x", x0=1).axes[0]
    (flat,) = lines(ax, "flat_tangent")
    assert list(xy(flat)[1]) == pytest.approx([-2.0, -2.0])  # f(1) = -2, f'(1) = 0
    assert lines(ax, "tangent") == [] and ax.get_title().startswith("no root: zero derivative")


def test_newton_undefined_iterate() -> None:
    r = calcml.newton_raphson("log(x)", x0=3)
    assert r.status == "not_finite"
    ax = newton_cascade("log(x)", x0=3).axes[0]
    x, y = xy(lines(ax, "iterates")[0])
    np.testing.assert_array_equal(x, r.history)
    assert y[0] == pytest.approx(math.log(3)) and math.isnan(y[1])  # log(-0.296...)
    assert len(lines(ax, "tangent")) == 1 and lines(ax, "vertical") == []
    assert ax.get_title() == "no root: not finite after 1 iteration"


def test_newton_view_leaves_runaway_iterates_out() -> None:
    r = calcml.newton_raphson("atan(x)", x0=2)
    ax = newton_cascade("atan(x)", x0=2).axes[0]
    np.testing.assert_array_equal(lines(ax, "iterates")[0].get_xdata(), r.history)
    low, high = ax.get_xlim()
    assert low < r.history[1] and r.history[2] < high < 100
    beyond = sum(not low <= v <= high for v in r.history)
    assert beyond == 3 and any(f"{beyond} beyond the view" in t for t in legend_texts(ax))


def test_newton_into_given_axes_and_callable() -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert newton_cascade(lambda v: v[0] ** 2 - 2, 1.0, ax=right) is fig
    assert right.has_data() and not left.has_data()
    assert fig.get_suptitle() == ""
    x = lines(right, "iterates")[0].get_xdata()
    np.testing.assert_allclose(x, calcml.newton_raphson("x^2 - 2", 1).history, rtol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give x0"),
        ({"x0": 2, "result": "r"}, "must be a Result"),
        ({"x0": 2, "interval": (1, 1)}, "interval"),
    ],
)
def test_newton_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(calcml.CalcmlError, match=message):
        newton_cascade("x^2 - 2", **kwargs)


def test_newton_rejects_other_results() -> None:
    r = calcml.newton_raphson("x^2 - 2", x0=1)
    with pytest.raises(calcml.CalcmlError, match="starts at x0 = 1"):
        newton_cascade("x^2 - 2", x0=2, result=r)
    system = calcml.newton_raphson(["x^2 + y^2 - 4", "x - y"], x0=[1, 2])
    with pytest.raises(calcml.CalcmlError, match="one equation"):
        newton_cascade("x^2 - 2", result=system)


# --- descent_paths ----------------------------------------------------------------------

BOWL = "x^2 + 3y^2 + x*y"
START = [2.0, 1.5]
METHODS = ("gradient_descent", "newton", "bfgs")


@pytest.fixture(scope="module")
def bowl_paths() -> tuple[Figure, list]:
    fig = descent_paths(BOWL, START)
    return fig, [calcml.minimize(BOWL, START, method=m) for m in METHODS]


def test_descent_paths_are_the_histories(bowl_paths) -> None:
    fig, results = bowl_paths
    paths = lines(fig.axes[0], "path")
    assert len(paths) == len(METHODS)
    for path, r in zip(paths, results, strict=True):
        history = np.array(r.history)
        np.testing.assert_array_equal(path.get_xdata(), history[:, 0])
        np.testing.assert_array_equal(path.get_ydata(), history[:, 1])
        assert r.success


def test_descent_paths_labels_start_and_minimum(bowl_paths) -> None:
    fig, results = bowl_paths
    ax = fig.axes[0]
    labels = [line.get_label() for line in lines(ax, "path")]
    assert labels == [
        f"gradient_descent (backtracking): {results[0].nit} iterations",
        "newton: 1 iteration",  # a quadratic: one Newton step
        f"bfgs: {results[2].nit} iterations",
    ]
    assert legend_texts(ax)[:3] == labels
    (start,) = lines(ax, "start")
    assert (start.get_xdata()[0], start.get_ydata()[0]) == tuple(START)
    (minimum,) = lines(ax, "minimum")
    assert (minimum.get_xdata()[0], minimum.get_ydata()[0]) == pytest.approx((0, 0), abs=1e-8)
    assert len(collections(ax, "contours")) == 1 and len(fig.axes) == 2  # map and colour bar
    low, high = ax.get_xlim()
    assert low < 0 < 2 < high  # the box holds the paths
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert fig.get_suptitle() == "Descent paths on x^2 + x*y + 3*y^2"
    assert renders(fig)


def test_descent_paths_with_given_results() -> None:
    slow = calcml.minimize(BOWL, START, method="gradient_descent", maxiter=4)
    fast = calcml.minimize(BOWL, START, method="newton")
    fig = descent_paths(BOWL, None, results=[slow, fast], title="")
    ax = fig.axes[0]
    paths = lines(ax, "path")
    assert [p.get_label() for p in paths] == [
        "gradient_descent (backtracking): 4 iterations (max iterations)",
        "newton: 1 iteration",
    ]
    np.testing.assert_array_equal(paths[0].get_xdata(), np.array(slow.history)[:, 0])
    (minimum,) = lines(ax, "minimum")  # from the method that converged
    assert minimum.get_xdata()[0] == pytest.approx(fast.x[0])
    assert fig.get_suptitle() == ""


def test_descent_paths_mapping_replaces_some_runs() -> None:
    bfgs = calcml.minimize(BOWL, START, method="bfgs", maxiter=1)
    fig = descent_paths(BOWL, START, methods=("newton", "bfgs"), results={"bfgs": bfgs})
    paths = lines(fig.axes[0], "path")
    assert [p.get_label() for p in paths] == [
        "newton: 1 iteration",
        "bfgs: 1 iteration (max iterations)",
    ]
    np.testing.assert_array_equal(paths[1].get_ydata(), np.array(bfgs.history)[:, 1])


def test_descent_paths_into_given_axes() -> None:
    fig = Figure()
    ax = fig.subplots()
    assert descent_paths("(x - 1)^2 + y^2", [0, 1], methods=["newton"], ax=ax) is fig
    assert len(fig.axes) == 1 and len(lines(ax, "path")) == 1  # no colour bar added
    assert ax.get_xlim()[0] < 0 and ax.get_xlim()[1] > 1


def test_descent_paths_bad_input() -> None:
    other = calcml.minimize(BOWL, [1, 1], method="newton")
    with pytest.raises(calcml.CalcmlError, match="share their start"):
        descent_paths(BOWL, START, methods=["newton", "bfgs"], results={"bfgs": other})
    with pytest.raises(calcml.CalcmlError, match="exactly 2 variables"):
        descent_paths("x^2 + y^2 + z^2", [1, 1, 1])
    with pytest.raises(calcml.CalcmlError, match="not in methods"):
        descent_paths(BOWL, START, methods=["newton"], results={"bfgs": other})
    with pytest.raises(calcml.CalcmlError, match="give x0"):
        descent_paths(BOWL, None)
    with pytest.raises(calcml.CalcmlError, match="method must be one of"):
        descent_paths(BOWL, START, methods=["adam"])


# --- lagrange_picture -------------------------------------------------------------------


@pytest.fixture(scope="module")
def hyperbola() -> Figure:
    return lagrange_picture("x*y", "x + y - 2", x0=[0.5, 1])


def test_lagrange_point_and_parallel_gradients(hyperbola: Figure) -> None:
    r = calcml.lagrange("x*y", ["x + y - 2"], x0=[0.5, 1])
    ax = hyperbola.axes[0]
    (solution,) = lines(ax, "solution")
    assert (solution.get_xdata()[0], solution.get_ydata()[0]) == pytest.approx(tuple(r.x))
    grad_f, grad_g = quiver(ax, "grad_f"), quiver(ax, "grad_g")
    assert grad_f.N == grad_g.N == 1
    assert (grad_f.X[0], grad_f.Y[0]) == pytest.approx((1.0, 1.0))
    # hand-derived: grad(xy) = (y, x) = (1, 1), grad(x + y - 2) = (1, 1), lambda = 1
    assert (grad_f.U[0], grad_f.V[0]) == pytest.approx((1.0, 1.0))
    assert (grad_g.U[0], grad_g.V[0]) == pytest.approx((1.0, 1.0))
    lam = float(r.multipliers[0])
    assert (grad_f.U[0], grad_f.V[0]) == pytest.approx((lam * grad_g.U[0], lam * grad_g.V[0]))
    assert grad_f.scale == grad_g.scale  # one scale: the lengths compare
    assert texts(ax, "lambda") == ["∇f = λ ∇g\nλ = 1"]
    assert ax.get_title() == "lagrange (Newton on grad L = 0): converged after 1 iteration"


def test_lagrange_constraint_and_level_set(hyperbola: Figure) -> None:
    ax = hyperbola.axes[0]
    (constraint,) = collections(ax, "constraint")
    (points,) = [p.vertices for p in constraint.get_paths() if len(p.vertices)]
    np.testing.assert_allclose(points.sum(axis=1), 2.0, atol=1e-9)  # on x + y = 2
    (level,) = collections(ax, "level_set")
    vertices = np.vstack([p.vertices for p in level.get_paths() if len(p.vertices)])
    np.testing.assert_allclose(vertices[:, 0] * vertices[:, 1], 1.0, atol=1e-3)  # xy = f* = 1
    assert len(collections(ax, "contours")) == 1
    labels = legend_texts(ax)
    assert labels[0] == "constraint x + y - 2 = 0" and labels[-1] == "(1, 1): f = 1"
    assert hyperbola.get_suptitle() == "Lagrange: where f = x*y touches x + y - 2 = 0"
    assert renders(hyperbola)


def test_lagrange_exact_points_all_drawn() -> None:
    fig = lagrange_picture("x + y", "x^2 + y^2 - 2")
    ax = fig.axes[0]
    exact = calcml.lagrange("x + y", ["x^2 + y^2 - 2"])
    (solution,) = lines(ax, "solution")
    drawn = sorted(zip(solution.get_xdata(), solution.get_ydata(), strict=True))
    assert drawn == sorted((float(p.x["x"]), float(p.x["y"])) for p in exact) == [(-1, -1), (1, 1)]
    grad_f, grad_g = quiver(ax, "grad_f"), quiver(ax, "grad_g")
    lams = [float(p.multipliers[0]) for p in exact]
    np.testing.assert_allclose(grad_f.U, np.array(lams) * grad_g.U)
    np.testing.assert_allclose(grad_f.V, np.array(lams) * grad_g.V)
    np.testing.assert_allclose(grad_f.U * grad_g.V - grad_f.V * grad_g.U, 0.0)  # parallel
    assert sorted(texts(ax, "lambda")) == ["∇f = λ ∇g\nλ = -0.5", "∇f = λ ∇g\nλ = 0.5"]
    assert len(collections(ax, "level_set")) == 2
    assert ax.get_title() == "2 constrained stationary points"
    assert ax.get_xlim()[0] < -math.sqrt(2) and ax.get_xlim()[1] > math.sqrt(2)  # whole circle


def test_lagrange_from_minimize_and_points() -> None:
    r = calcml.minimize("x^2 + y^2", x0=[1, 1], constraints=["x + y - 1"])
    ax = lagrange_picture("x^2 + y^2", ["x + y - 1"], result=r).axes[0]
    (solution,) = lines(ax, "solution")
    assert (solution.get_xdata()[0], solution.get_ydata()[0]) == pytest.approx((0.5, 0.5))
    assert texts(ax, "lambda") == [f"∇f = λ ∇g\nλ = {float(r.multipliers[0]):.6g}"]
    assert ax.get_title().startswith("sqp: converged")
    (point,) = calcml.lagrange("x^2 + y^2", ["x + y - 1"])
    fig = Figure()
    ax = fig.subplots()
    assert lagrange_picture("x^2 + y^2", "x + y - 1", result=point, ax=ax) is fig
    assert quiver(ax, "grad_f").U[0] == pytest.approx(1.0) and fig.get_suptitle() == ""


def test_lagrange_bad_input() -> None:
    with pytest.raises(calcml.CalcmlError, match="one constraint"):
        lagrange_picture("x*y", ["x - 1", "y - 1"])
    with pytest.raises(calcml.CalcmlError, match="exactly 2 variables"):
        lagrange_picture("x*y*z", "x + y + z - 1")
    with pytest.raises(calcml.CalcmlError, match="no constrained stationary points"):
        lagrange_picture("x + y", "x^2 + y^2 + 1")


# --- global state -----------------------------------------------------------------------


def test_no_pyplot_figures_are_created() -> None:
    newton_cascade("x^2 - 2", x0=1)
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []
    assert {"newton_cascade", "descent_paths", "lagrange_picture"} <= set(calcml.plots.__all__)
