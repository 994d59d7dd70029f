"""``calcml taylor``, the Taylor figures and Part 4 of the tour, against independent oracles.

The command's output is read back and compared with SymPy's own series
(``sympy.series``, which expands by limits, not by calcml's table of derivatives) and with
hand-derived values: coefficients, radii of convergence (the distance to the nearest
singularity) and Lagrange bounds (max |f^(n+1)| |x - a|^(n+1) / (n+1)!, worked out for
each case below). The figures are checked through their artists (found by gid): the
numbers they hold, not their pixels.
"""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import sympy
from matplotlib.figure import Figure

import calcml as cm
import calcml.plots
from calcml.tour import PART_NUMBERS, SECTIONS, Tour, header, run_tour, taylor_series
from cli_run import ok, run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

x, y, u = sympy.symbols("x y u")


def series(f: sympy.Expr, a: sympy.Expr, order: int) -> sympy.Expr:
    """SymPy's Taylor polynomial of ``f`` of the given order about ``a`` (the oracle)."""
    return sympy.series(f, x, a, order + 1).removeO()


def coefficients(poly: sympy.Expr, a: sympy.Expr, order: int) -> list[sympy.Expr]:
    """The coefficients of ``poly`` in powers of (x - a), lowest first."""
    shifted = sympy.expand(poly.subs(x, u + a))
    return [shifted.coeff(u, k) for k in range(order + 1)]


def same(a: sympy.Expr, b: sympy.Expr) -> bool:
    return sympy.simplify(a - b) == 0


def table(out: str) -> dict[int, list[str]]:
    """The rows ``n | f^(n)(x) | f^(n)(a) | f^(n)(a)/n!`` of the derivative table."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            rows[int(cells[0])] = cells[1:]
    return rows


def polynomial_line(out: str) -> sympy.Expr:
    (line,) = [s for s in out.splitlines() if s.startswith("p(x) = ")]
    return cm.parse(line.removeprefix("p(x) = "))


# -- the text output ---------------------------------------------------------------------


CASES = [
    # (expression, SymPy oracle, --about, exact point, order)
    ("exp(x)", sympy.exp(x), "0", sympy.Integer(0), 6),
    ("sin(x)", sympy.sin(x), "pi/2", sympy.pi / 2, 5),
    ("log(1 + x)", sympy.log(1 + x), "0", sympy.Integer(0), 5),
    ("1/(1 - x)", 1 / (1 - x), "0.5", sympy.Rational(1, 2), 4),
    ("x^3 - 2x", x**3 - 2 * x, "2", sympy.Integer(2), 4),
    ("cos(x) exp(x)", sympy.cos(x) * sympy.exp(x), "1", sympy.Integer(1), 3),
]


@pytest.mark.parametrize(("text", "f", "about", "a", "order"), CASES)
def test_polynomial_and_table_match_sympy_series(text, f, about, a, order):
    out = ok("taylor", text, "--about", about, "--order", str(order))
    oracle = series(f, a, order)
    assert same(polynomial_line(out), oracle)
    rows = table(out)
    assert sorted(rows) == list(range(order + 1))
    for n, c in enumerate(coefficients(oracle, a, order)):
        derivative, value, coefficient = rows[n]
        assert same(cm.parse(derivative), sympy.diff(f, x, n))
        assert same(cm.parse(value), sympy.diff(f, x, n).subs(x, a))
        assert same(cm.parse(coefficient), c), (n, coefficient, c)


@pytest.mark.parametrize(
    ("text", "about", "radius"),
    [
        ("log(1 + x)", "0", "1"),  # singular at x = -1
        ("1/(1 - x)", "0.5", "0.5"),  # pole at x = 1
        ("1/(1 + x^2)", "0", "1"),  # complex poles at ±i
        ("exp(x)", "0", "inf"),  # entire
    ],
)
def test_radius_of_convergence_is_printed(text, about, radius):
    out = ok("taylor", text, "--about", about, "--order", "3")
    assert f"radius of convergence: {radius}" in out.splitlines()


def test_remainder_bound_on_an_interval():
    out = ok("taylor", "exp(x)", "--about", "0", "--order", "6", "--interval", "-1,1")
    (line,) = [s for s in out.splitlines() if s.startswith("remainder bound")]
    assert line.startswith("remainder bound on [-1, 1]: |f(x) - p(x)| <= ")
    bound = float(line.rsplit("<= ", 1)[1])
    hand = math.e / math.factorial(7)  # max |exp^(7)| = e on [-1, 1], reach 1
    assert hand <= bound <= 1.05 * hand
    true = math.e - sum(1 / math.factorial(k) for k in range(7))  # the error is largest at x = 1
    assert true < bound


def test_json_is_the_only_output_and_matches_sympy():
    result = run("taylor", "log(1 + x)", "--order", "6", "--interval", "-0.5,0.5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the whole of stdout is one JSON document
    oracle = series(sympy.log(1 + x), 0, 6)
    assert data["function"] == "log(x + 1)"
    assert (data["variable"], data["about"], data["order"]) == ("x", "0", 6)
    assert same(cm.parse(data["polynomial"]), oracle)
    assert [r["n"] for r in data["rows"]] == list(range(7))
    for row, c in zip(data["rows"], coefficients(oracle, 0, 6), strict=True):
        assert same(cm.parse(row["coefficient"]), c)
        assert same(cm.parse(row["derivative"]), sympy.diff(sympy.log(1 + x), x, row["n"]))
    assert data["radius"] == 1.0
    assert data["interval"] == [-0.5, 0.5]
    # hand: |f^(7)| = 720 / (1 + x)^7 is largest at x = -1/2: 720 * 2^7; reach 1/2, so
    # the bound is 720 * 2^7 * 2^-7 / 7! = 1/7
    assert 1 / 7 <= data["remainder_bound"] <= 1.05 / 7


def test_json_of_an_entire_function_is_standard_json():
    out = ok("taylor", "sin(x)", "--order", "3", "--json")
    data = json.loads(out, parse_constant=lambda name: pytest.fail(f"non-standard {name}"))
    assert data["radius"] == "inf"
    assert data["interval"] is None and data["remainder_bound"] is None
    assert same(cm.parse(data["polynomial"]), x - x**3 / 6)


def test_interval_beyond_the_radius_warns_on_stderr():
    result = run("taylor", "log(1 + x)", "--order", "4", "--interval", "-0.5,1.5")
    assert result.exit_code == 0, result.output
    assert "beyond the radius of convergence 1" in result.stderr
    assert "warning" not in result.stdout
    # hand: |f^(5)| = 24 / (1 + x)^5 is largest at x = -1/2: 24 * 32; reach 3/2
    hand = 24 * 32 * 1.5**5 / math.factorial(5)
    line = next(s for s in result.stdout.splitlines() if s.startswith("remainder bound"))
    assert hand <= float(line.rsplit("<= ", 1)[1]) <= 1.05 * hand


def test_about_a_decimal_is_exact():
    data = json.loads(ok("taylor", "exp(x)", "--about", "0.1", "--order", "2", "--json"))
    assert data["about"] == "1/10"
    assert same(cm.parse(data["polynomial"]), series(sympy.exp(x), sympy.Rational(1, 10), 2))


def test_about_by_name_for_one_variable():
    out = ok("taylor", "exp(t)", "--about", "t=1", "--order", "2")
    t = sympy.Symbol("t")
    (line,) = [s for s in out.splitlines() if s.startswith("p(t) = ")]
    oracle = sympy.series(sympy.exp(t), t, 1, 3).removeO()
    assert same(cm.parse(line.removeprefix("p(t) = ")), oracle)


# -- several variables ---------------------------------------------------------------------


def quadratic_oracle(f: sympy.Expr, point: dict[sympy.Symbol, int]) -> sympy.Expr:
    """f(a) + grad f(a) . d + d^T H(a) d / 2 with SymPy's own gradient and Hessian."""
    xs = list(point)
    d = sympy.Matrix([v - point[v] for v in xs])
    g = sympy.Matrix([sympy.diff(f, v) for v in xs]).subs(point)
    h = sympy.hessian(f, xs).subs(point)
    return f.subs(point) + (g.T * d)[0] + (d.T * h * d)[0] / 2


@pytest.mark.parametrize("about", ["x=1,y=2", "y=2,x=1", "1,2"])
def test_several_variables_json(about):
    data = json.loads(ok("taylor", "x y^2", "--about", about, "--json"))
    assert data["variables"] == ["x", "y"] and data["about"] == ["1", "2"]
    assert data["order"] == 2  # the default for several variables
    assert data["value"] == "4"
    assert data["gradient"] == ["4", "4"]  # (y^2, 2xy) at (1, 2)
    assert data["hessian"] == [["0", "4"], ["4", "2"]]  # [[0, 2y], [2y, 2x]]
    oracle = quadratic_oracle(x * y**2, {x: 1, y: 2})
    assert same(cm.parse(data["polynomial"]), oracle)
    assert same(sum(cm.parse(term) for term in data["terms"]), oracle)


def test_several_variables_text():
    f = sympy.exp(x) * sympy.cos(y)
    out = ok("taylor", "exp(x) cos(y)", "--about", "x=0,y=0")
    lines = out.splitlines()
    assert lines[0] == "Taylor polynomial of order 2 about (x = 0, y = 0):"
    assert "  J(a) = ['1', '0']" in lines
    assert "  H(a) = [['1', '0'], ['0', '-1']]" in lines
    (p,) = [s for s in lines if s.startswith("p = ")]
    assert same(cm.parse(p.removeprefix("p = ")), quadratic_oracle(f, {x: 0, y: 0}))


def test_several_variables_higher_order():
    data = json.loads(ok("taylor", "exp(x + y)", "--about", "0,0", "--order", "3", "--json"))
    # exp(x + y) = sum (x + y)^k / k!
    oracle = sum((x + y) ** k / math.factorial(k) for k in range(4))
    assert same(cm.parse(data["polynomial"]), oracle)
    assert len(data["terms"]) == 4


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["1/x"], "not defined"),
        (["log(x)"], "no Taylor series"),
        (["sqrt(x)", "--about", "0"], "1st derivative"),
        (["abs(x)"], "corner"),
        (["exp(-1/x^2)"], "no Taylor series"),
        (["exp(x)", "--interval", "1,2"], "must contain the expansion point 0"),
        (["exp(x)", "--interval", "2,1"], "low < high"),
        (["exp(x)", "--interval", "1"], "--interval"),
        (["exp(x)", "--interval", "a,b"], "--interval"),
        (["exp(x)", "--interval", "-inf,1"], "--interval"),
        (["log(1 + x)", "--interval", "-1,1"], "no finite bound"),
        (["exp(x)", "--about", "1+"], "--about"),
        (["exp(x)", "--about", "x="], "--about"),
        (["exp(x)", "--about", "nan"], "finite"),
        (["exp(x)", "--about", "y=1"], "the variable is x"),
        (["exp(x)", "--about", "1,2"], "coordinate"),
        (["exp(x)", "--about", "q"], "real number"),
        (["x y", "--about", "1"], "--about x=0,y=0"),
        (["x y", "--about", "x=1"], "no value for y"),
        (["x y", "--about", "x=1,z=2"], "z"),
        (["x y", "--about", "1,2", "--interval", "0,1"], "one variable"),
        (["x y z", "--about", "1,2,3", "--plot", "f.png"], "two variables"),
        (["exp(x)", "--order", "31"], "limited to 30"),
        (["exp(x)", "--order", "-1"], "whole number"),
        (["exp(x)", "--plot", "figure.xyz"], ".png"),
    ],
)
def test_errors_exit_2_with_a_message(args, words):
    result = run("taylor", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert words in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""  # refused before any output


def test_parse_error_shows_the_caret():
    result = run("taylor", "x + * 2")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    text_line = next(s for s in lines if s.strip() == "x + * 2")
    caret_line = lines[lines.index(text_line) + 1]
    assert caret_line.index("^") == text_line.index("*")


# -- --plot ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["sin(x)", "--order", "7"],
        ["log(1 + x)", "--interval", "-0.5,0.5"],
        ["x^2 y + sin(x y)", "--about", "x=1,y=2"],
    ],
)
def test_plot_writes_a_png(tmp_path, args):
    path = tmp_path / "taylor.png"
    result = run("taylor", *args, "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert "taylor.png" in result.stderr


def test_plot_with_json_keeps_stdout_clean(tmp_path):
    path = tmp_path / "t.svg"
    result = run("taylor", "exp(x)", "--order", "3", "--json", "--plot", str(path))
    assert json.loads(result.stdout)["order"] == 3
    assert path.read_text().lstrip().startswith("<?xml")


# -- the figures ---------------------------------------------------------------------------


def gids(ax) -> list[str]:
    return [line.get_gid() for line in ax.get_lines()]


def line(ax, gid: str):
    (found,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return found


def data(ln) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(ln.get_xdata(), float), np.ma.filled(ln.get_ydata(), np.nan).astype(float)


@pytest.fixture(scope="module")
def sin_fig() -> Figure:
    return calcml.plots.taylor_polynomials("sin(x)", orders=(1, 3, 5, 7))


def test_taylor_polynomials_lines_are_sympy_series(sin_fig):
    ax = sin_fig.axes[0]
    assert gids(ax) == ["zero", "function", "taylor:1", "taylor:3", "taylor:5", "taylor:7", "about"]
    xs, ys = data(line(ax, "function"))
    np.testing.assert_allclose(ys, np.sin(xs), atol=1e-12)
    for n in (1, 3, 5, 7):
        xs, ys = data(line(ax, f"taylor:{n}"))
        oracle = sympy.lambdify(x, series(sympy.sin(x), 0, n))(xs)
        shown = np.isfinite(ys)
        assert shown.mean() > 0.5
        np.testing.assert_allclose(ys[shown], oracle[shown], rtol=1e-12, atol=1e-12)
    marker = line(ax, "about")
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == (0.0, 0.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "$f(x) = \\sin{\\left(x \\right)}$",
        "order 1",
        "order 3",
        "order 5",
        "order 7",
        "expansion point x = 0",
    ]
    assert sin_fig.get_suptitle() == "Taylor polynomials of sin(x) about x = 0"


def test_taylor_polynomials_limits_follow_f(sin_fig):
    ax = sin_fig.axes[0]
    assert ax.get_xlim() == (-3.0, 3.0)  # about ± 3
    low, high = ax.get_ylim()
    assert -2 < low < -1 and 1 < high < 2  # sin's range, not the polynomials' (x^7/5040...)
    _, ys = data(line(ax, "taylor:1"))
    assert np.nanmax(np.abs(ys)) > high  # the tangent line x runs off the edge
    assert not [p for p in ax.patches if p.get_gid() == "beyond_radius"]  # entire: no radius


def test_taylor_polynomials_shade_beyond_the_radius():
    fig = calcml.plots.taylor_polynomials("log(1 + x)", orders=(2, 4))
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert -1 < low < -0.95  # cut back to where log(1 + x) is defined
    assert high == pytest.approx(2.5)  # 2.5 radii of convergence
    (shade,) = [p for p in ax.patches if p.get_gid() == "beyond_radius"]
    start = shade.get_x()  # a Rectangle in data x (and axes y) coordinates
    assert (start, start + shade.get_width()) == pytest.approx((1.0, 2.5))  # |x| > 1
    radius_lines = [ln for ln in ax.get_lines() if ln.get_gid() == "radius"]
    assert [ln.get_xdata()[0] for ln in radius_lines] == [1.0]  # -1 is outside the view
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "beyond the radius of convergence 1"
    assert len(labels) == 5  # f, two orders, the point, the shade


def test_taylor_polynomials_about_a_point_into_given_axes():
    fig = Figure()
    ax = fig.subplots()
    out = calcml.plots.taylor_polynomials("exp(x)", about=1, orders=[2], interval=(0, 2), ax=ax)
    assert out is fig
    assert fig.get_suptitle() == "" and ax.get_title().startswith("Taylor polynomials of exp(x)")
    marker = line(ax, "about")
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == pytest.approx((1.0, math.e))
    xs, ys = data(line(ax, "taylor:2"))
    np.testing.assert_allclose(ys, math.e * (1 + (xs - 1) + (xs - 1) ** 2 / 2))
    assert ax.get_xlim() == (0.0, 2.0)


def test_taylor_polynomials_bad_input():
    with pytest.raises(cm.CalcmlError, match="one variable"):
        calcml.plots.taylor_polynomials("x y", about={"x": 0, "y": 0})
    with pytest.raises(cm.CalcmlError, match="orders"):
        calcml.plots.taylor_polynomials("sin(x)", orders=[])
    with pytest.raises(cm.CalcmlError, match="interval"):
        calcml.plots.taylor_polynomials("sin(x)", interval=(1, 0))
    with pytest.raises(cm.CalcmlError, match="no Taylor series"):
        calcml.plots.taylor_polynomials("1/x")


def test_error_vs_order_at_a_point():
    fig = calcml.plots.taylor_error_vs_order("exp(x)", at=1, orders=range(0, 8))
    ax = fig.axes[0]
    assert gids(ax) == ["error", "bound"]
    assert ax.get_yscale() == "log"
    ns, errors = data(line(ax, "error"))
    assert list(ns) == list(range(8))
    partial_sums = np.cumsum([1 / math.factorial(k) for k in range(8)])
    np.testing.assert_allclose(errors, math.e - partial_sums, rtol=1e-9)
    _, bounds = data(line(ax, "bound"))
    hand = [math.e / math.factorial(n + 1) for n in range(8)]  # max exp on [0, 1] is e
    assert np.all(bounds >= errors)
    np.testing.assert_allclose(bounds, hand, rtol=0.05)
    assert all(b >= h for b, h in zip(bounds, hand, strict=True))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["true error |f − p_n| at x = 1", "Lagrange remainder bound on [0, 1]"]


def test_error_vs_order_on_an_interval_reaches_rounding():
    fig = calcml.plots.taylor_error_vs_order("sin(x)", interval=(-1, 1), orders=range(0, 21, 2))
    ax = fig.axes[0]
    assert gids(ax) == ["error", "bound", "rounding"]  # sin's errors fall to rounding
    _, errors = data(line(ax, "error"))
    floor = line(ax, "rounding").get_ydata()[0]
    assert np.all(errors >= floor) and errors[-1] == pytest.approx(floor)
    # hand: order 0 is p = 0, whose largest error on [-1, 1] is sin(1)
    assert errors[0] == pytest.approx(math.sin(1), rel=1e-5)


def test_error_vs_order_beyond_the_radius_says_so():
    fig = calcml.plots.taylor_error_vs_order("log(1 + x)", at=1.5, orders=range(1, 9))
    ax = fig.axes[0]
    assert "beyond the radius of convergence 1" in ax.get_title()
    _, errors = data(line(ax, "error"))
    oracle = [
        abs(math.log(2.5) - sum((-1) ** (k + 1) * 1.5**k / k for k in range(1, n + 1)))
        for n in range(1, 9)
    ]
    np.testing.assert_allclose(errors, oracle, rtol=1e-9)
    assert errors[-1] > errors[2]  # the error grows with the order


def test_error_vs_order_of_a_callable_has_no_bound():
    import calcml.numpy as cnp

    fig = calcml.plots.taylor_error_vs_order(cnp.exp, at=0.5, orders=range(0, 5))
    ax = fig.axes[0]
    assert gids(ax) == ["error"]
    assert "no remainder bound" in ax.get_title()
    _, errors = data(line(ax, "error"))
    partial_sums = np.cumsum([0.5**k / math.factorial(k) for k in range(5)])
    np.testing.assert_allclose(errors, math.exp(0.5) - partial_sums, rtol=1e-9)


def test_error_vs_order_needs_a_point_away_from_a():
    with pytest.raises(cm.CalcmlError, match="other than the expansion point"):
        calcml.plots.taylor_error_vs_order("exp(x)", about=1, at=1)


def test_tangent_plane_holds_the_approximations():
    fig = calcml.plots.tangent_plane("x^2 + x y", about={"y": 2, "x": 1}, span=0.5)
    ax = fig.axes[0]
    assert ax.name == "3d"
    found = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    assert set(found) == {"surface", "tangent_plane", "quadratic"}
    # hand: f(1, 2) = 3, grad = (2x + y, x) = (4, 1); f is quadratic, so order 2 is f itself
    plane = np.concatenate(found["tangent_plane"]._segments3d)
    px, py, pz = plane.T
    keep = np.isfinite(pz)
    np.testing.assert_allclose(pz[keep], 3 + 4 * (px[keep] - 1) + (py[keep] - 2))
    quad = np.concatenate(found["quadratic"]._segments3d)
    qx, qy, qz = quad.T
    keep = np.isfinite(qz)
    np.testing.assert_allclose(qz[keep], qx[keep] ** 2 + qx[keep] * qy[keep])
    assert (px.min(), px.max(), py.min(), py.max()) == pytest.approx((0.5, 1.5, 1.5, 2.5))
    (point,) = [ln for ln in ax.get_lines() if ln.get_gid() == "point"]
    assert np.asarray(point.get_data_3d()).ravel().tolist() == [1.0, 2.0, 3.0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 4
    assert labels[1].startswith("tangent plane (order 1): ")
    assert same(cm.parse(labels[1].split(": ", 1)[1]), 3 + 4 * (x - 1) + (y - 2))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")


def test_tangent_plane_bad_input():
    with pytest.raises(cm.CalcmlError, match="exactly 2 variables"):
        calcml.plots.tangent_plane("x y z", about=(0, 0, 0))
    with pytest.raises(cm.CalcmlError, match="not among the variables"):
        calcml.plots.tangent_plane("x y", about={"x": 0, "z": 0})
    with pytest.raises(cm.CalcmlError, match="span"):
        calcml.plots.tangent_plane("x y", about=(0, 0), span=0)


def test_linearisation_error_figure():
    fig = calcml.plots.linearisation_error("exp(x)")
    ax = fig.axes[0]
    assert gids(ax) == ["error", "reference"]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    hs, errors = data(line(ax, "error"))
    np.testing.assert_allclose(errors, np.expm1(hs) - hs, rtol=1e-9)  # exp(h) - (1 + h)
    rx, ry = data(line(ax, "reference"))
    slope = np.diff(np.log(ry)) / np.diff(np.log(rx))
    np.testing.assert_allclose(slope, 2.0)
    measured = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        f"|f(a + h) − L(a + h)|: measured slope {measured:.2f}",
        "reference slope 2",
    ]
    assert f"slope {measured:.3f}" in ax.get_title()


def test_linearisation_error_of_several_variables_and_higher_order():
    fig = calcml.plots.linearisation_error("exp(x) cos(y)", about={"x": 0, "y": 0}, order=2)
    ax = fig.axes[0]
    rx, ry = data(line(ax, "reference"))
    np.testing.assert_allclose(np.diff(np.log(ry)) / np.diff(np.log(rx)), 3.0)
    assert "measured slope 3.0" in ax.get_legend().get_texts()[0].get_text()
    assert "order 2" in fig.get_suptitle()


def test_figures_touch_no_pyplot_state():
    import sys

    calcml.plots.taylor_polynomials("cos(x)", orders=[2])
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []


# -- the tour --------------------------------------------------------------------------------


def test_tour_part_4_prints_and_saves(tmp_path):
    lines: list[str] = []
    tour = Tour(out=tmp_path, plots=True, echo=lines.append)
    taylor_series(tour)
    assert [p.name for p in tour.saved] == [
        "40-taylor-polynomials.png",
        "41-taylor-error.png",
        "42-linearisation-error.png",
        "43-tangent-plane.png",
    ]
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in tour.saved)
    text = "\n".join(lines)
    assert "p(x) = x^6/720 + x^5/120 + x^4/24 + x^3/6 + x^2/2 + x + 1" in text
    # the bound and true-error table on [-1, 1]: the bound is never below the error
    start = lines.index("-- Lagrange's remainder bound on [-1, 1] next to the true error --")
    for n, row in zip(range(1, 7), lines[start + 2 : start + 8], strict=True):
        label, bound, true = row.split()
        assert int(label) == n
        assert float(bound) >= float(true)
        assert float(bound) == pytest.approx(math.e / math.factorial(n + 1), rel=0.06)
        partial = sum(1 / math.factorial(k) for k in range(n + 1))
        assert float(true) == pytest.approx(math.e - partial, rel=0.01)
    assert "radius of convergence: 1 (log(1 + x) is singular at x = -1)" in text
    assert "warning: the Taylor series about 0 converges only for |x - 0| < 1" in text
    slope = next(s for s in lines if s.startswith("Slope of log(error)"))
    assert float(slope.split(": ")[1].split(",")[0]) == pytest.approx(2.0, abs=0.01)
    assert "J(a) and H(a) are the gradient and Hessian of Part 2" in text


def test_tour_numbers_taylor_as_part_4():
    assert PART_NUMBERS["Taylor series and linearisation"] == 4
    assert [title for title, _ in SECTIONS].index("Taylor series and linearisation") >= 2
    lines: list[str] = []
    run_tour(plots=False, echo=lines.append)
    headers = [s for s in lines if s.startswith("== Part")]
    assert header(4, "Taylor series and linearisation") in headers
    assert headers.index("== Part 4: Taylor series and linearisation ==") >= 2
