"""``calcml roots / minimize / lagrange / stationary`` and Part 5 of the tour, against
independent oracles.

The commands' output (text and JSON) is read back and compared with values worked out by
hand (Newton's iterates recomputed in plain floats, minima of quadratics by solving the
linear system, Lagrange points from the equations on paper) and with SciPy (``brentq``,
``fsolve``, ``minimize`` with BFGS and SLSQP). Exit status: 0 for an answer, 1 when the
solver fails (a cycle, no root, divergence, no points), 2 for input calcml cannot use.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import scipy.optimize

import calcml as cm
from calcml.tour import PART_NUMBERS, SECTIONS, Tour, optimisation, run_tour
from cli_run import ok, ok_json, run, strict

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SQRT2 = math.sqrt(2)
ROSENBROCK = "(1 - x)^2 + 100 (y - x^2)^2"


def failed(*args: str) -> str:
    """A solver that ran and failed: status 1, the failure on stdout."""
    result = run(*args)
    assert result.exit_code == 1, result.output[:3000]
    return result.stdout


def failed_json(*args: str) -> dict:
    return strict(failed(*args, "--json"))


def line_after(out: str, prefix: str) -> str:
    (found,) = [s for s in out.splitlines() if s.startswith(prefix)]
    return found.removeprefix(prefix)


def coordinates(text: str) -> dict[str, float]:
    """``x = 1.5, y = 2`` as {"x": 1.5, "y": 2.0}."""
    return {n.strip(): float(v) for n, v in (item.split("=") for item in text.split(", "))}


def table_rows(out: str) -> list[list[str]]:
    """The rows of the iteration table (the lines that start with the iteration number)."""
    return [s.split() for s in out.splitlines() if s[:1].isdigit()]


def point_rows(out: str) -> list[list[str]]:
    """The rows of a table of points: indented, starting with the point's number."""
    return [s.split() for s in out.splitlines() if s.startswith("  ") and s.split()[0].isdigit()]


def hand_newton(f, df, x: float, steps: int) -> list[float]:
    """Newton's iterates in plain floats: x <- x - f(x)/f'(x)."""
    xs = [x]
    for _ in range(steps):
        x = x - f(x) / df(x)
        xs.append(x)
    return xs


# -- roots ---------------------------------------------------------------------------------


def test_roots_of_x2_minus_2_text():
    out = ok("roots", "x^2 - 2", "--x0", "1")
    lines = out.splitlines()
    assert lines[0] == "Newton-Raphson on x^2 - 2 = 0, from x=1"
    assert lines[1].split() == ["k", "x", "f(x)", "f'(x)", "step"]
    assert "newton_raphson: success (converged) after 5 iterations" in lines
    assert coordinates(line_after(out, "root: "))["x"] == pytest.approx(SQRT2, rel=1e-11)
    # the table's iterates are Newton's, recomputed by hand
    hand = hand_newton(lambda x: x * x - 2, lambda x: 2 * x, 1.0, 5)
    rows = table_rows(out)
    assert [int(r[0]) for r in rows] == list(range(6))
    for row, xk in zip(rows, hand, strict=True):
        assert float(row[1]) == pytest.approx(xk, rel=1e-9)
        assert float(row[2]) == pytest.approx(xk * xk - 2, rel=1e-9, abs=1e-15)
        assert float(row[3]) == pytest.approx(2 * xk, rel=1e-9)


def test_roots_json_history_is_newtons_and_the_root_is_scipys():
    data = ok_json("roots", "x^2 - 2", "--x0", "1")
    assert data["equations"] == ["x^2 - 2"]
    assert (data["success"], data["status"], data["method"]) == (
        True,
        "converged",
        "newton_raphson",
    )
    hand = hand_newton(lambda x: x * x - 2, lambda x: 2 * x, 1.0, 5)
    np.testing.assert_allclose(data["history"], hand, rtol=1e-15)
    assert data["nit"] == len(data["history"]) - 1 == 5
    assert data["x"] == pytest.approx(scipy.optimize.brentq(lambda x: x * x - 2, 1, 2), rel=1e-14)
    assert abs(data["fun"]) < 1e-12
    assert [r["k"] for r in data["rows"]] == list(range(6))


@pytest.mark.parametrize(
    ("equation", "x0", "low", "high", "f"),
    [
        ("x^2 = 2", "1", 1, 2, lambda x: x * x - 2),
        ("cos(x) = x", "1", 0, 1, lambda x: math.cos(x) - x),
        ("exp(x) = 3 - x", "0", 0, 1, lambda x: math.exp(x) - 3 + x),
        ("x^3 - 2x + 2", "-2", -2, -1, lambda x: x**3 - 2 * x + 2),
    ],
)
def test_roots_match_brentq(equation, x0, low, high, f):
    data = ok_json("roots", equation, "--x0", x0)
    assert data["success"]
    assert data["x"] == pytest.approx(scipy.optimize.brentq(f, low, high), rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_roots_of_random_quadratics_are_numpys(seed):
    rng = np.random.default_rng(seed)
    r1, r2 = np.sort(rng.integers(-9, 10, 2) + rng.uniform(0.1, 0.9, 2))
    b, c = float(-(r1 + r2)), float(r1 * r2)
    data = ok_json("roots", f"x^2 + ({b!r}) x + ({c!r})", "--x0", repr(float(r2) + 3.0))
    assert data["success"]
    # from the right of both roots Newton descends monotonically to the larger one
    assert data["x"] == pytest.approx(max(np.roots([1, b, c])), rel=1e-12)


def test_roots_of_a_system():
    out = ok("roots", "x^2 + y^2 = 4; x = y", "--x0", "1,2")
    assert (
        out.splitlines()[0]
        == "Newton-Raphson on the system x^2 + y^2 - 4 = 0, x - y = 0, from x=1, y=2"
    )
    solution = coordinates(line_after(out, "solution: "))
    assert solution == pytest.approx({"x": SQRT2, "y": SQRT2}, rel=1e-11)


@pytest.mark.parametrize("x0", ["2,0.5", "y=0.5,x=2"])
def test_roots_of_a_system_match_fsolve(x0):
    data = ok_json("roots", "x^2 + y^2 = 4; x y = 1", "--x0", x0)
    assert data["variables"] == ["x", "y"] and data["history"][0] == [2.0, 0.5]
    oracle = scipy.optimize.fsolve(lambda v: [v[0] ** 2 + v[1] ** 2 - 4, v[0] * v[1] - 1], [2, 0.5])
    np.testing.assert_allclose(data["x"], oracle, rtol=1e-10)
    # by hand: x^2 + y^2 = 4 and xy = 1 give x + y = sqrt(6), x - y = sqrt(2)
    np.testing.assert_allclose(data["x"], [(6**0.5 + SQRT2) / 2, (6**0.5 - SQRT2) / 2])


def test_a_cycle_is_a_failure_with_status_1():
    out = failed("roots", "x^3 - 2x + 2", "--x0", "0")
    assert "newton_raphson: FAILED (cycle) after 2 iterations" in out.splitlines()
    assert "the iterates cycle between 0, 1 without reaching a root" in out
    assert not [s for s in out.splitlines() if s.startswith("root:")]
    # by hand: x1 = 0 - 2/(-2) = 1, x2 = 1 - 1/1 = 0
    data = failed_json("roots", "x^3 - 2x + 2", "--x0", "0")
    assert (data["success"], data["status"]) == (False, "cycle")
    assert data["history"] == [0.0, 1.0, 0.0]


def test_no_real_root_is_a_failure_with_status_1():
    out = failed("roots", "x^2 + 1", "--x0", "0.5", "--maxiter", "6")
    assert "newton_raphson: FAILED (max_iterations) after 6 iterations" in out
    assert "f may have no real root here" in out
    data = failed_json("roots", "x^2 + 1", "--x0", "0.5", "--maxiter", "6")
    hand = hand_newton(lambda x: x * x + 1, lambda x: 2 * x, 0.5, 6)
    np.testing.assert_allclose(data["history"], hand, rtol=1e-13)
    assert data["x"] == pytest.approx(hand[-1]) and coordinates(line_after(out, "last iterate: "))[
        "x"
    ] == pytest.approx(hand[-1])


def test_a_flat_tangent_is_a_failure():
    data = failed_json("roots", "x^2 - 1", "--x0", "0")
    assert data["status"] == "zero_derivative"


def test_json_of_an_undefined_start_has_no_nan():
    data = failed_json("roots", "log(x)", "--x0", "-1")
    assert data["status"] == "not_finite"
    assert data["fun"] is None  # NaN written as null
    assert data["rows"][0]["f'(x)"] is None


def test_exit_status_1_from_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "calcml.cli", "roots", "x^3 - 2x + 2", "--x0", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "FAILED (cycle)" in done.stdout and "Traceback" not in done.stderr


ROOT_ERRORS = [
    (["x^2 - 2"], "--x0"),  # missing
    (["x^2 - 2", "--x0", "a"], "'a' is not a number"),
    (["x^2 - 2", "--x0", ""], "--x0"),
    (["x^2 - 2", "--x0", "1,2"], "there is 1 variable"),
    (["x^2 - 2", "--x0", "y=1"], "not among the variables"),
    (["x y - 1; x + y", "--x0", "x=1"], "no value for y"),
    (["x^2 + y", "--x0", "1,2"], "as many equations as unknowns"),
    (["x = 1 = 2", "--x0", "1"], "more than one '='"),
    (["x^2 =", "--x0", "1"], "each side"),
    (["2 = 3", "--x0", "1"], "no variables"),
    (["x + * 2", "--x0", "1"], "Unexpected '*'"),
    ([";", "--x0", "1"], "give an equation"),
    (["x^2 - 2", "--x0", "inf"], "finite"),
    (["x^2 - 2", "--x0", "1", "--maxiter", "0"], "--maxiter"),
    (["x^2 - 2", "--x0", "1", "--plot", "f.xyz"], ".png"),
    (["x^2 + y^2 = 4; x = y", "--x0", "1,2", "--plot", "f.png"], "one equation in one"),
]


@pytest.mark.parametrize(("args", "words"), ROOT_ERRORS)
def test_roots_bad_input_exits_2(args, words):
    result = run("roots", *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.stdout == ""  # refused before any output


def test_roots_plot_of_a_root_and_of_a_cycle(tmp_path):
    path = tmp_path / "root.png"
    result = run("roots", "x^2 - 2", "--x0", "1", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert f"figure saved to {path}" in result.stderr
    cycle = tmp_path / "cycle.png"
    result = run("roots", "x^3 - 2x + 2", "--x0", "0", "--plot", str(cycle))
    assert result.exit_code == 1  # the failure is drawn, and still a failure
    assert cycle.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_with_json_keeps_stdout_clean(tmp_path):
    path = tmp_path / "r.svg"
    result = run("roots", "x^2 - 2", "--x0", "1", "--json", "--plot", str(path))
    assert result.exit_code == 0
    assert strict(result.stdout)["success"] is True
    assert path.read_text().lstrip().startswith("<?xml")


# -- minimize ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["newton", "newton_cg", "bfgs"])
def test_rosenbrock_minimum_is_1_1(method):
    out = ok("minimize", ROSENBROCK, "--x0", "-1.2,1", "--method", method)
    assert out.splitlines()[0] == "minimise f = (1 - x)^2 + 100*(-x^2 + y)^2, from x=-1.2, y=1"
    assert f"{method}: success (converged)" in out
    assert coordinates(line_after(out, "minimum at ")) == pytest.approx({"x": 1, "y": 1}, rel=1e-8)
    oracle = scipy.optimize.minimize(scipy.optimize.rosen, [-1.2, 1], method="BFGS", tol=1e-10)
    data = ok_json("minimize", ROSENBROCK, "--x0", "-1.2,1", "--method", method)
    np.testing.assert_allclose(data["x"], oracle.x, atol=1e-5)
    assert data["function"] == "(1 - x)^2 + 100*(-x^2 + y)^2" and data["constraints"] == []
    assert data["fun"] < 1e-15 and data["history"][0] == [-1.2, 1.0]


def test_gradient_descent_on_rosenbrock_runs_out_of_iterations():
    out = failed(
        "minimize", ROSENBROCK, "--x0", "-1.2,1", "--method", "gradient-descent", "--maxiter", "200"
    )
    assert "FAILED (max_iterations) after 200 iterations" in out
    assert "last iterate: x = " in out


# f = x^2 + x y + 2 y^2 - 3x + y = 1/2 v^T A v - b^T v with A = [[2, 1], [1, 4]], b = (3, -1)
QUADRATIC = "x^2 + x y + 2 y^2 - 3x + y"
A = np.array([[2.0, 1.0], [1.0, 4.0]])
B = np.array([3.0, -1.0])


@pytest.mark.parametrize(
    "options",
    [
        ["--method", "newton"],
        ["--method", "bfgs"],
        ["--method", "gradient_descent"],  # backtracking, down to f's rounding floor
        ["--method", "gradient_descent", "--step", "0.4"],  # below 2/lambda_max = 0.453
        ["--method", "gradient_descent", "--step", "0.2", "--momentum", "0.5"],
    ],
)
def test_quadratic_minimum_solves_the_linear_system(options):
    data = ok_json("minimize", QUADRATIC, "--x0", "5,5", *options)
    minimum = np.linalg.solve(A, B)
    np.testing.assert_allclose(data["x"], minimum, atol=1e-6)
    assert data["fun"] == pytest.approx(-0.5 * B @ minimum, abs=1e-10)


def test_a_fixed_step_above_2_over_lambda_max_diverges():
    lam_max = np.linalg.eigvalsh(A)[-1]  # 3 + sqrt(2)
    assert 0.4 < 2 / lam_max < 0.5
    out = failed(
        "minimize", QUADRATIC, "--x0", "5,5", "--method", "gradient_descent", "--step", "0.5"
    )
    assert "gradient_descent: FAILED (diverged)" in out
    assert "the step 0.5 is too large" in out


def test_divergence_to_overflow_is_strict_json():
    args = ("minimize", "x^4 + y^4", "--x0", "3,3", "--method", "gradient_descent", "--step", "1")
    result = run(*args, "--json")
    assert result.exit_code == 1
    data = strict(result.stdout)
    assert data["status"] == "diverged"
    assert data["rows"][-1]["|grad f|"] == "inf"  # an infinity as a string, not Infinity
    assert result.stderr == ""  # no overflow warnings from NumPy


def test_minimum_of_a_smooth_function_matches_scipy():
    data = ok_json("minimize", "exp(x) + exp(-y) + x^2 + y^2", "--x0", "1,1")
    oracle = scipy.optimize.minimize(
        lambda v: math.exp(v[0]) + math.exp(-v[1]) + v[0] ** 2 + v[1] ** 2,
        [1, 1],
        method="BFGS",
        options={"gtol": 1e-12},
    )
    np.testing.assert_allclose(data["x"], oracle.x, atol=1e-7)
    # by hand: exp(x) + 2x = 0, so x = -W(1/2) = -0.35173371124919584, and y = -x
    np.testing.assert_allclose(data["x"], [-0.35173371124919584, 0.35173371124919584], atol=1e-8)


def test_constrained_minimum_and_its_multiplier():
    out = ok("minimize", "x^2 + y^2", "--x0", "1,2", "--constraint", "x + y = 1")
    assert out.splitlines()[0] == "minimise f = x^2 + y^2 subject to x + y - 1 = 0, from x=1, y=2"
    assert "sqp: success (converged)" in out
    # by hand: (2x, 2y) = lambda (1, 1) and x + y = 1: x = y = 1/2, lambda = 1
    assert coordinates(line_after(out, "minimum at ")) == pytest.approx({"x": 0.5, "y": 0.5})
    multipliers = line_after(out, "multipliers (grad f = sum lambda_i grad g_i): ")
    assert coordinates(multipliers) == pytest.approx({"lambda1": 1.0})


def test_constrained_minimum_on_a_circle():
    data = ok_json("minimize", "x + 2y", "--x0", "1,0", "-c", "x^2 + y^2 = 5")
    # by hand: (1, 2) = lambda (2x, 2y) on x^2 + y^2 = 5: the minimum (-1, -2), lambda = -1/2
    np.testing.assert_allclose(data["x"], [-1, -2], atol=1e-9)
    np.testing.assert_allclose(data["multipliers"], [-0.5], atol=1e-9)
    assert data["constraints"] == ["x^2 + y^2 - 5"]


def test_two_constraints_in_three_variables_match_slsqp():
    data = ok_json(
        "minimize", "x^2 + 2y^2 + 3z^2", "--x0", "0,0,0", "-c", "x + y + z = 1", "-c", "x = 2y"
    )
    oracle = scipy.optimize.minimize(
        lambda v: v[0] ** 2 + 2 * v[1] ** 2 + 3 * v[2] ** 2,
        [0, 0, 0],
        method="SLSQP",
        constraints=[
            {"type": "eq", "fun": lambda v: v[0] + v[1] + v[2] - 1},
            {"type": "eq", "fun": lambda v: v[0] - 2 * v[1]},
        ],
        options={"ftol": 1e-14},
    )
    np.testing.assert_allclose(data["x"], oracle.x, atol=1e-7)
    # by hand: x = 2y, z = 1 - 3y, minimise 6y^2 + 3(1 - 3y)^2: y = 9/33 = 3/11
    np.testing.assert_allclose(data["x"], [6 / 11, 3 / 11, 2 / 11], atol=1e-10)
    assert len(data["multipliers"]) == 2


MINIMIZE_ERRORS = [
    (["x^2"], "--x0"),
    (
        ["x^2", "--x0", "1", "--method", "adam"],
        "choose one of newton, newton_cg, bfgs, gradient_descent",
    ),
    (["x^2", "--x0", "1", "--step", "0.1"], "options of --method gradient_descent"),
    (["x^2", "--x0", "1", "--method", "gradient_descent", "--step", "-1"], "positive"),
    (["x^2", "--x0", "1", "--method", "gradient_descent", "--step", "fast"], "positive"),
    (["x^2", "--x0", "1", "--method", "gradient_descent", "--momentum", "1.5"], "momentum"),
    (["x^2 + y^2", "--x0", "1,1", "-c", "x + y = 1", "--method", "newton"], "SQP"),
    (["x^2 + y", "--x0", "1"], "there are 2 variables: x, y"),
    (["5", "--x0", "1"], "no variables"),
    (["x y z", "--x0", "1,1,1", "--plot", "f.png"], "two variables"),
    (["x y", "--x0", "1,1", "-c", "x = 1", "-c", "y = 2", "--plot", "f.png"], "2 constraints"),
    (["x^2", "--x0", "1", "-c", "x = = 1"], "more than one '='"),
    (["x^", "--x0", "1"], "error"),
]


@pytest.mark.parametrize(("args", "words"), MINIMIZE_ERRORS)
def test_minimize_bad_input_exits_2(args, words):
    result = run("minimize", *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.stdout == ""


def test_minimize_plots(tmp_path):
    paths = tmp_path / "paths.png"
    ok("minimize", ROSENBROCK, "--x0", "-1.2,1", "--method", "newton", "--plot", str(paths))
    assert paths.read_bytes()[:8] == PNG_SIGNATURE
    tangency = tmp_path / "lagrange.png"
    ok("minimize", "x^2 + y^2", "--x0", "1,2", "-c", "x + y = 1", "--plot", str(tangency))
    assert tangency.read_bytes()[:8] == PNG_SIGNATURE
    diverged = tmp_path / "diverged.png"
    args = ["x^2 + 3y^2", "--x0", "2,1", "--method", "gradient_descent", "--step", "0.5"]
    failed("minimize", *args, "--plot", str(diverged))
    assert diverged.read_bytes()[:8] == PNG_SIGNATURE


# -- lagrange ------------------------------------------------------------------------------


def test_lagrange_max_xy_on_x_plus_y_10():
    out = ok("lagrange", "x y", "--constraint", "x + y = 10")
    lines = out.splitlines()
    assert lines[0] == "Lagrange: f = x*y subject to x + y - 10 = 0"
    assert "1 constrained stationary point" in lines
    # by hand: (y, x) = lambda (1, 1) and x + y = 10: x = y = 5, f = 25, lambda = 5
    assert point_rows(out) == [["1", "5", "5", "25", "5"]]
    data = ok_json("lagrange", "x y", "--constraint", "x + y - 10")
    assert data["variables"] == ["x", "y"] and data["constraints"] == ["x + y - 10"]
    (point,) = data["points"]
    assert point["x"] == {"x": "5", "y": "5"} and point["fun"] == "25"
    assert point["multipliers"] == ["5"] and point["multipliers_numeric"] == [5.0]


def test_lagrange_on_a_circle_has_two_points():
    data = ok_json("lagrange", "x + y", "-c", "x^2 + y^2 = 2")
    found = sorted(
        (p["x_numeric"]["x"], p["x_numeric"]["y"], p["fun_numeric"], p["multipliers_numeric"][0])
        for p in data["points"]
    )
    # by hand: (1, 1) = lambda (2x, 2y): x = y = ±1, f = ±2, lambda = ±1/2
    assert found == [(-1, -1, -2, -0.5), (1, 1, 2, 0.5)]


def test_lagrange_irrational_points_show_their_decimals():
    out = ok("lagrange", "x + y", "-c", "x^2 + 2 y^2 = 3")
    # by hand: 1 = 2 lambda x = 4 lambda y, so x = 2y, 6 y^2 = 3: y = ±1/sqrt(2)
    assert "3*sqrt(2)/2 ≈ 2.12132034356" in out
    data = ok_json("lagrange", "x + y", "-c", "x^2 + 2 y^2 = 3")
    best = max(data["points"], key=lambda p: p["fun_numeric"])
    assert best["x_numeric"] == pytest.approx({"x": SQRT2, "y": SQRT2 / 2})
    assert best["fun_numeric"] == pytest.approx(3 / SQRT2)
    assert best["multipliers_numeric"] == pytest.approx([1 / (2 * SQRT2)])


def test_lagrange_from_x0_is_numeric():
    out = ok("lagrange", "x y", "-c", "x + y = 10", "--x0", "1,2")
    assert "lagrange (Newton on grad L = 0): success (converged)" in out
    assert coordinates(line_after(out, "constrained stationary point: ")) == {"x": 5.0, "y": 5.0}
    assert line_after(out, "multipliers: ") == "lambda1 = 5"
    data = ok_json("lagrange", "x y", "-c", "x + y = 10", "--x0", "y=2,x=1")
    assert data["x"] == [5.0, 5.0] and data["multipliers"] == [5.0] and data["fun"] == 25.0
    assert data["history"][0] == [1.0, 2.0]


def test_lagrange_with_no_points_exits_1():
    out = failed("lagrange", "x^2 + y^2", "-c", "x^2 + y^2 + 1")
    assert "no isolated real solutions" in out
    assert failed_json("lagrange", "x^2 + y^2", "-c", "x^2 + y^2 + 1")["points"] == []


LAGRANGE_ERRORS = [
    (["x y"], "--constraint"),
    (["x y", "-c", "x + y ="], "each side"),
    (["x y", "-c", "x + y = 10", "--x0", "1"], "there are 2 variables"),
    (["x y z", "-c", "x + y + z = 1", "--plot", "f.png"], "3 variables"),
    (["x y", "-c", "x = 1", "-c", "y = 1", "--plot", "f.png"], "2 constraints"),
]


@pytest.mark.parametrize(("args", "words"), LAGRANGE_ERRORS)
def test_lagrange_bad_input_exits_2(args, words):
    result = run("lagrange", *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.stdout == ""


def test_lagrange_plots(tmp_path):
    exact = tmp_path / "exact.png"
    ok("lagrange", "x + y", "-c", "x^2 + y^2 = 2", "--plot", str(exact))
    assert exact.read_bytes()[:8] == PNG_SIGNATURE
    numeric = tmp_path / "numeric.pdf"
    ok("lagrange", "x y", "-c", "x + y = 10", "--x0", "1,2", "--plot", str(numeric))
    assert numeric.read_bytes()[:5] == b"%PDF-"


# -- stationary ----------------------------------------------------------------------------


def test_stationary_points_are_classified():
    out = ok("stationary", "x^3 - 3x + y^2")
    assert "grad f = (3*x^2 - 3, 2*y) = 0" in out
    # by hand: grad = (3x^2 - 3, 2y) = 0 at (±1, 0); Hessian diag(6x, 2)
    assert point_rows(out) == [
        ["1", "-1", "0", "2", "saddle", "-6,", "2"],
        ["2", "1", "0", "-2", "minimum", "2,", "6"],
    ]
    data = ok_json("stationary", "x^3 - 3x + y^2")
    assert data["gradient"] == ["3*x^2 - 3", "2*y"]
    assert [(p["point_numeric"], p["value_numeric"], p["kind"]) for p in data["points"]] == [
        ({"x": -1.0, "y": 0.0}, 2.0, "saddle"),
        ({"x": 1.0, "y": 0.0}, -2.0, "minimum"),
    ]
    assert [sorted(p["eigenvalues"]) for p in data["points"]] == [[-6.0, 2.0], [2.0, 6.0]]


def test_stationary_points_of_one_variable():
    data = ok_json("stationary", "x^4 - 2x^2")
    # by hand: 4x^3 - 4x = 0 at -1, 0, 1; f'' = 12x^2 - 4
    assert [(p["point"]["x"], p["kind"]) for p in data["points"]] == [
        ("-1", "minimum"),
        ("0", "maximum"),
        ("1", "minimum"),
    ]


def test_a_line_of_stationary_points_is_degenerate():
    data = ok_json("stationary", "(x - y)^2")
    (point,) = data["points"]
    assert point["kind"] == "degenerate" and point["point"] == {"x": "y", "y": "y"}
    assert point["point_numeric"] == {"x": None, "y": None}


def test_no_stationary_points_exits_1():
    out = failed("stationary", "x + y")
    assert "no stationary points" in out
    assert failed_json("stationary", "x + y")["points"] == []
    assert run("stationary", "3").exit_code == 2


# -- the tour ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def part5(tmp_path_factory) -> tuple[list[str], list]:
    lines: list[str] = []
    tour = Tour(out=tmp_path_factory.mktemp("tour"), plots=True, echo=lines.append)
    optimisation(tour)
    return lines, tour.saved


def test_tour_part_5_saves_three_figures(part5):
    _, saved = part5
    assert [p.name for p in saved] == [
        "50-newton-cascade.png",
        "51-descent-paths.png",
        "52-lagrange.png",
    ]
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in saved)


def test_tour_part_5_newton_digits_double(part5):
    lines, _ = part5
    start = lines.index(
        "-- Newton-Raphson on x^2 - 2 = 0 from x0 = 1: the correct digits double --"
    )
    rows = [s.split() for s in lines[start + 2 : start + 8]]
    hand = hand_newton(lambda x: x * x - 2, lambda x: 2 * x, 1.0, 5)
    for k, (row, xk) in enumerate(zip(rows, hand, strict=True)):
        assert int(row[0]) == k and float(row[1]) == pytest.approx(xk, rel=1e-15)
    digits = [float(r[3]) for r in rows[:5]]
    assert digits == pytest.approx([-math.log10(abs(v - SQRT2)) for v in hand[:5]], abs=0.06)
    assert all(b > 1.7 * a for a, b in itertools.pairwise(digits[1:]))
    ratios = [float(r[4]) for r in rows[1:4]]
    assert ratios[-1] == pytest.approx(1 / (2 * SQRT2), abs=1e-3)  # f''/(2 f')


def test_tour_part_5_failure_descent_and_lagrange(part5):
    lines, _ = part5
    text = "\n".join(lines)
    assert "newton_raphson: FAILED (cycle) after 2 iteration(s)" in text
    assert "the real root x = -1.76929235424" in text
    # gradient descent on x^2 + x y + y^2 (eigenvalues 1, 3): converges iff t < 2/3
    for t, verdict in [("0.65", "converged"), ("0.7", "diverged"), ("0.75", "diverged")]:
        (row,) = [s for s in lines if s.strip().startswith(f"t = {t} ")]
        assert verdict in row
        rate = max(abs(1 - float(t) * lam) for lam in (1, 3))
        assert f"{rate:.2f}" in row.split()
    rows = {s.split()[0]: s for s in lines if s.startswith(("  newton ", "  bfgs ", "  gradient_"))}
    assert "converged" in rows["newton"] and "converged" in rows["bfgs"]
    assert "max_iterations" in rows["gradient_descent"]
    assert "x=5, y=5, f = 25, lambda = 5" in text
    assert "the maximum is 30.25, up by 5.25" in text  # (11/2)^2 - 25


def test_tour_numbers_optimisation_as_part_5():
    assert PART_NUMBERS["Optimisation"] == 5
    titles = [title for title, _ in SECTIONS]
    assert titles.index("Optimisation") == titles.index("Taylor series and linearisation") + 1
    lines: list[str] = []
    run_tour(plots=False, echo=lines.append)
    headers = [s for s in lines if s.startswith("== Part")]
    i = headers.index("== Part 4: Taylor series and linearisation ==")
    assert headers[i + 1] == "== Part 5: Optimisation =="


def test_library_and_command_agree():
    """The command prints the library's answer, not a recomputation."""
    r = cm.minimize(ROSENBROCK, [-1.2, 1], method="bfgs")
    data = ok_json("minimize", ROSENBROCK, "--x0", "-1.2,1")
    assert data["x"] == np.asarray(r.x).tolist() and data["nit"] == r.nit
