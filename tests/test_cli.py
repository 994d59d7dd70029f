"""The command line, checked against independent oracles (hand-derived values and SymPy).

Most tests drive the Typer app in-process with CliRunner (stdout is not a terminal, so the
output is plain text); one runs ``python -m calcml.cli`` in a subprocess to prove the entry
point works.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.cli import UsageProblem, parse_point
from cli_run import ok, run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

x, y, t = sympy.symbols("x y t")


def value_line(out: str) -> float:
    """The number after the last ': ' of the 'At ...' line."""
    line = [s for s in out.splitlines() if s.startswith("At ")][-1]
    return float(line.rsplit(": ", 1)[1])


def same(a: sympy.Expr, b: sympy.Expr) -> bool:
    return sympy.simplify(a - b) == 0


# -- diff ------------------------------------------------------------------------------------


def test_diff_prints_the_derivative_as_text():
    out = ok("diff", "x^2*sin(x)")
    oracle = sympy.diff(x**2 * sympy.sin(x), x)
    d = cm.derivative("x^2*sin(x)", "x")
    assert same(d.result, oracle)
    assert out.strip() == cm.to_text(d.result)
    assert same(cm.parse(out.strip()), oracle)  # the printed text reads back correctly


@pytest.mark.parametrize("at", ["x=2", "2"])
def test_diff_at_a_point_prints_the_value(at):
    out = ok("diff", "x^2*sin(x)", "--at", at)
    hand = 2 * 2 * math.sin(2) + 2**2 * math.cos(2)  # (x^2 sin x)' = 2x sin x + x^2 cos x
    assert value_line(out) == pytest.approx(hand, rel=1e-11)
    assert out.splitlines()[0] == cm.to_text(cm.derivative("x^2*sin(x)").result)


def test_diff_negative_coordinate():
    out = ok("diff", "x^3", "--at", "-1.5")
    assert value_line(out) == pytest.approx(3 * 1.5**2)


def test_diff_steps_are_numbered_and_end_with_the_answer():
    out = ok("diff", "x^2 sin(x)", "--steps", "--at", "x=1")
    lines = out.splitlines()
    assert lines[0] == "d/dx of x^2*sin(x)"
    assert lines[1].startswith("1. d/dx [x^2*sin(x)]: product rule.")
    assert any(s.strip().startswith("2. d/dx [x^2]: power rule.") for s in lines)
    assert "Answer: x*(x*cos(x) + 2*sin(x))" in lines
    assert value_line(out) == pytest.approx(2 * math.sin(1) + math.cos(1), rel=1e-11)


def test_diff_higher_order():
    out = ok("diff", "x^3", "--order", "2", "--at", "2")
    assert out.splitlines()[0] == "6*x"
    assert value_line(out) == pytest.approx(12.0)


def test_diff_by_a_named_variable_of_several():
    out = ok("diff", "x^2 y + sin(y)", "--var", "y", "--at", "x=3,y=0")
    assert same(cm.parse(out.splitlines()[0]), sympy.diff(x**2 * y + sympy.sin(y), y))
    assert value_line(out) == pytest.approx(9 + 1)  # x^2 + cos(y) at (3, 0)


def test_diff_of_several_variables_needs_var():
    result = run("diff", "x y")
    assert result.exit_code == 2
    assert "--var" in result.stderr
    assert "Traceback" not in result.output


def test_diff_json_is_the_only_output():
    result = run("diff", "x^2*sin(x)", "--at", "x=2", "--json", "--steps")
    assert result.exit_code == 0
    data = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert data["expr"] == "x^2*sin(x)"
    assert data["variable"] == "x"
    assert data["order"] == 1
    assert same(cm.parse(data["result"]), sympy.diff(x**2 * sympy.sin(x), x))
    assert data["at"] == {"x": 2.0}
    assert data["value"] == pytest.approx(4 * math.sin(2) + 4 * math.cos(2), rel=1e-11)
    assert set(data["rules"]) == {"power", "product", "sin"}
    assert "\\cos" in data["latex"]
    assert data["stages"][0]["rule"] == "product"


def test_diff_json_without_a_point():
    data = json.loads(ok("diff", "exp(2x)", "--json"))
    assert same(cm.parse(data["result"]), 2 * sympy.exp(2 * x))
    assert data["value"] is None and data["at"] is None


def test_diff_latex():
    out = ok("diff", "sin(x^2)", "--latex")
    assert out.startswith("\\begin{align*}")
    assert "\\frac{d}{dx}" in out and "chain rule" in out
    assert out.rstrip().endswith("\\end{align*}")


# -- grad, jacobian, hessian -------------------------------------------------------------------


def test_grad_at_a_point_json():
    data = json.loads(ok("grad", "x^2 y", "--at", "1,2", "--json"))
    assert data["value"] == [4.0, 1.0]  # (2xy, x^2) at (1, 2)
    assert data["variables"] == ["x", "y"]
    assert data["at"] == {"x": 1.0, "y": 2.0}
    f = x**2 * y
    for text, var in zip(data["result"], (x, y), strict=True):
        assert same(cm.parse(text), sympy.diff(f, var))
    assert data["latex"] == ["2 x y", "x^{2}"]


def test_grad_at_a_point_text():
    out = ok("grad", "x^2 y", "--at", "1,2")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["∂f/∂x"][-1] == "4" and rows["∂f/∂y"][-1] == "1"
    assert rows["∂f/∂x"][1] == "2*x*y" and rows["∂f/∂y"][1] == "x^2"


def test_grad_named_point_in_any_order():
    data = json.loads(ok("grad", "x^2 y + y^3", "--at", "y=2,x=1", "--json"))
    assert data["value"] == [4.0, 13.0]  # (2xy, x^2 + 3y^2)


def test_grad_with_vars_in_a_given_order():
    data = json.loads(ok("grad", "x^2 y + y", "--vars", "y,x", "--at", "1,2", "--json"))
    assert data["variables"] == ["y", "x"]
    assert data["value"] == [5.0, 4.0]  # (x^2 + 1, 2xy) at y=1, x=2


def test_jacobian_json():
    data = json.loads(ok("jacobian", "x^2 y; 5x + sin(y)", "--at", "1,2", "--json"))
    assert data["functions"] == ["x^2*y", "5*x + sin(y)"]
    assert data["variables"] == ["x", "y"]
    oracle = sympy.Matrix([x**2 * y, 5 * x + sympy.sin(y)]).jacobian([x, y])
    for i in range(2):
        for j in range(2):
            assert same(cm.parse(data["result"][i][j]), oracle[i, j])
    value = data["value"]
    assert value[0] == [4.0, 1.0]
    assert value[1] == pytest.approx([5.0, math.cos(2)])


def test_jacobian_text_has_labels():
    out = ok("jacobian", "x^2 y; 5x + sin(y)")
    lines = out.splitlines()
    assert lines[0] == "Jacobian of f1 = x^2*y, f2 = 5*x + sin(y)"
    assert lines[1].split() == ["x", "y"]
    assert lines[2].split() == ["f1", "2*x*y", "x^2"]
    assert lines[3].split() == ["f2", "5", "cos(y)"]


def test_hessian_json_and_text():
    data = json.loads(ok("hessian", "x^2 y + y^3", "--at", "1,2", "--json"))
    assert data["value"] == [[4.0, 2.0], [2.0, 12.0]]  # [[2y, 2x], [2x, 6y]] at (1, 2)
    oracle = sympy.hessian(x**2 * y + y**3, [x, y])
    assert [
        [same(cm.parse(e), oracle[i, j]) for j, e in enumerate(row)]
        for i, row in enumerate(data["result"])
    ] == [[True, True], [True, True]]
    out = ok("hessian", "x^3 + x y^2", "--at", "1,-1")
    lines = out.splitlines()
    assert lines[2].split() == ["x", "6*x", "2*y"]
    at = lines.index("at x=1, y=-1")
    assert lines[at + 2].split() == ["x", "6", "-2"]
    assert lines[at + 3].split() == ["y", "-2", "2"]


# -- errors ----------------------------------------------------------------------------------


def test_parse_error_shows_the_caret_and_exits_2():
    result = run("diff", "x + * 2")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    text_line = next(s for s in lines if s.strip() == "x + * 2")
    caret_line = lines[lines.index(text_line) + 1]
    assert caret_line.strip() == "^"
    assert caret_line.index("^") == text_line.index("*")  # the caret points at the fault
    assert result.stdout == ""


def test_huge_power_is_a_limit_error():
    result = run("diff", "9^9^9^9")
    assert result.exit_code == 2
    assert "limit" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "at", ["x=", "x=1,,y=2", "x=1,2", "x=abc", "1;2", "x=nan", "2x=1", "x=1,x=2", "", "inf"]
)
def test_bad_at_syntax_exits_2(at):
    result = run("grad", "x^2 y", "--at", at)
    assert result.exit_code == 2
    assert "--at" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["grad", "x^2 y", "--at", "z=1,x=1,y=2"], "z"),
        (["grad", "x^2 y", "--at", "1"], "coordinate"),
        (["hessian", "x^2 y", "--at", "x=1"], "y"),
        (["diff", "ln(x)", "--at", "0"], "not defined"),
        (["diff", "sqrt(x)", "--at", "-1"], "not a real number"),
        (["diff", "x", "--order", "0"], "order"),
        (["jacobian", " ; "], "function"),
        (["grad", "5"], "--vars"),
        (["hessian", "pi"], "no variables"),
        (["diff", "x^2", "--plot", "figure.xyz"], ".png"),
    ],
)
def test_calcml_errors_exit_2_with_a_message(args, words):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_usage_errors_exit_2():
    assert run("diff").exit_code == 2  # missing EXPR
    assert run("diff", "x", "--frobnicate").exit_code == 2
    assert run("diff", "x", "--order", "two").exit_code == 2
    assert run("integrate", "x").exit_code == 2


def test_version():
    assert ok("--version").strip() == f"calcml {cm.__version__}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="xy0123456789+-*/^() .,=sincoexpl", max_size=25))
def test_any_text_either_works_or_exits_2(text):
    result = run("diff", "--var", "x", "--", text)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output


@given(st.text(max_size=30))
def test_parse_point_never_crashes(text):
    try:
        point = parse_point(text)
    except UsageProblem:
        return
    assert isinstance(point, dict | list)


def test_parse_point_forms():
    assert parse_point("x=2, y=-3.5") == {"x": 2.0, "y": -3.5}
    assert parse_point(" 2 ,3e-1") == [2.0, 0.3]


# -- figures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--at", "1"]])  # f and f', then secant lines at x=1
def test_diff_plot_writes_a_png(tmp_path, extra):
    path = tmp_path / "fig.png"
    result = run("diff", "x^2 sin(x)", "--plot", str(path), *extra)
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert "fig.png" in result.stderr


def test_diff_plot_with_json_keeps_stdout_clean(tmp_path):
    path = tmp_path / "fig.png"
    result = run("diff", "x^3", "--at", "2", "--json", "--plot", str(path))
    assert json.loads(result.stdout)["value"] == pytest.approx(12.0)
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_grad_plot_contour(tmp_path):
    path = tmp_path / "contour.png"
    result = run("grad", "x^2 y", "--at", "5,1", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_grad_plot_needs_two_variables(tmp_path):
    result = run("grad", "x y z", "--plot", str(tmp_path / "g.png"))
    assert result.exit_code == 2
    assert "two variables" in result.stderr
    assert result.stdout == ""  # refused before any output


# -- tour ------------------------------------------------------------------------------------


def test_tour_writes_figures_and_every_part(tmp_path):
    out = tmp_path / "tour"
    result = run("tour", "--out", str(out))
    assert result.exit_code == 0, result.output
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 4
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in pngs)
    text = result.stdout
    assert "== Part 1: What is calculus ==" in text
    assert "== Part 2: Multivariate calculus ==" in text
    for rule in (
        "sum rule",
        "power rule",
        "product rule",
        "chain rule",
        "quotient rule",
        "exponential rule",
        "general power",
    ):
        assert rule in text
    assert "exact derivative f'(3) = 6" in text  # the rise-over-run table
    assert "At t=2: 12" in text  # total derivative of x^2 y along (t - 1, t^2) at t = 2
    assert "'2x y + y cos(x y)': correct" in text
    assert text.rstrip().endswith(str(out))


def test_tour_without_plots(tmp_path):
    from calcml.tour import SECTIONS, run_tour

    lines: list[str] = []
    saved = run_tour(tmp_path / "none", plots=False, echo=lines.append)
    assert saved == []
    assert not (tmp_path / "none").exists()
    headers = [s for s in lines if s.startswith("== Part")]
    assert len(headers) == len(SECTIONS) >= 2


# -- the entry point -------------------------------------------------------------------------


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "calcml.cli", "diff", "x^2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "2*x\n"
    bad = subprocess.run(
        [sys.executable, "-m", "calcml.cli", "diff", "x + * 2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert "^" in bad.stderr and "Traceback" not in bad.stderr
