"""``calcml fit``, the regression figures, the shipped NIST data and Part 6 of the tour,
against independent oracles.

The command's printed report and its JSON are read back and compared with
:func:`calcml.fit` on the same columns, with SciPy's ``curve_fit`` (MINPACK's
Levenberg-Marquardt, its own covariance) on the CSV read by NumPy, and with NIST's
certified values read from the original ``Misra1a.dat`` (``../shared``; the package itself
ships its own copy). Bad input (files, cells, columns, --p0) must be one line on stderr
and exit status 2, never a traceback. The figures are checked through their artists
(found by gid): the numbers they hold, not their pixels.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from matplotlib.collections import LineCollection
from matplotlib.contour import QuadContourSet
from matplotlib.patches import Rectangle

import calcml as cm
import calcml.data
from calcml import plots
from calcml.tour import PART_NUMBERS, SECTIONS, Tour, line_data, regression, run_tour
from cli_run import ok, ok_json, run, strict

ROOT = Path(__file__).resolve().parents[1]
NIST_FILE = ROOT.parent / "shared" / "data" / "nist" / "nonlinear" / "Misra1a.dat"
PACKAGED_CSV = ROOT / "src" / "calcml" / "data" / "misra1a.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MISRA = "b1*(1-exp(-b2*x))"
CERTIFIED = {"b1": 2.3894212918e02, "b2": 5.5015643181e-04}
CERTIFIED_SD = {"b1": 2.7070075241e00, "b2": 7.2668688436e-06}
CERTIFIED_RSS = 1.2455138894e-01


# -- helpers -------------------------------------------------------------------------------


def error(*args: str) -> str:
    """Input calcml cannot use: status 2, nothing on stdout, one line 'error: ...' on stderr."""
    result = run(*args)
    assert result.exit_code == 2, result.output[:3000]
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    return result.stderr


def variables(out: str) -> dict[str, tuple[float, float]]:
    """The [[Variables]] lines of the report: name -> (value, standard error)."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"^\s+(\w+):\s+(\S+) \+/- (\S+)", line)
        if match:
            found[match[1]] = (float(match[2]), float(match[3]))
    return found


def statistic(out: str, name: str) -> float:
    (line,) = [s for s in out.splitlines() if s.strip().startswith(name)]
    return float(line.split("=")[1])


def misra_model(x, b1, b2):
    return b1 * (1 - np.exp(-b2 * x))


def scipy_fit(f, x, y, p0, sigma=None, absolute_sigma=False):
    """SciPy's curve_fit with tight tolerances: parameters and standard errors."""
    p, cov = scipy.optimize.curve_fit(
        f,
        x,
        y,
        p0=p0,
        sigma=sigma,
        absolute_sigma=absolute_sigma,
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
        maxfev=100_000,
    )
    return p, np.sqrt(np.diag(cov))


def nist_data() -> tuple[np.ndarray, np.ndarray]:
    """Misra1a's x and y from NIST's own file (columns y then x, from line 61)."""
    data = np.loadtxt(NIST_FILE, skiprows=60)
    return data[:, 1], data[:, 0]


def table(header: str, *columns) -> str:
    """CSV text: the header, then one row per point (shortest round-trip decimals)."""
    rows = zip(*(np.asarray(c, dtype=float).tolist() for c in columns), strict=True)
    return header + "\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in rows)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def gid(ax, name: str) -> list:
    return [
        a for a in (*ax.get_lines(), *ax.collections, *ax.patches, *ax.texts) if a.get_gid() == name
    ]


def one(ax, name: str):
    (found,) = gid(ax, name)
    return found


def maps(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


@pytest.fixture(scope="module")
def misra_csv(tmp_path_factory) -> Path:
    """Misra1a as a plain CSV made here from NIST's file (not the packaged copy)."""
    x, y = nist_data()
    path = tmp_path_factory.mktemp("data") / "misra1a.csv"
    return write(path, table("x,y", x, y))


@pytest.fixture(scope="module")
def decay(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    """Made-up exponential decay with a sigma column (seeded) and a label column."""
    rng = np.random.default_rng(60)
    t = np.linspace(0.0, 5.0, 25)
    s = 0.02 + 0.03 * rng.random(t.size)
    y = 3.0 * np.exp(-0.8 * t) + 0.2 + rng.normal(0.0, s)
    path = tmp_path_factory.mktemp("data") / "decay.csv"
    lines = table("t,counts,err", t, y, s).splitlines()
    text = "label," + lines[0] + "\n" + "".join(f"p{i},{r}\n" for i, r in enumerate(lines[1:]))
    return write(path, text), t, y, s


# -- the data shipped in the package ---------------------------------------------------------


def test_packaged_misra1a_is_nists_data_as_written():
    """Every number of the packaged CSV is the text of NIST's file, x and y swapped."""
    nist_rows = [
        line.split() for line in NIST_FILE.read_text().splitlines()[60:74]
    ]  # lines 61 to 74: y x
    lines = [s for s in PACKAGED_CSV.read_text().splitlines() if not s.startswith("#")]
    assert lines[0] == "x,y"
    assert [line.split(",") for line in lines[1:]] == [[x, y] for y, x in nist_rows]
    d = calcml.data.load("misra1a")
    x, y = nist_data()
    assert d.x.tolist() == x.tolist() and d.y.tolist() == y.tolist()


def test_packaged_certified_values_are_nists():
    text = NIST_FILE.read_text()
    d = calcml.data.load("misra1a")
    for name in ("b1", "b2"):
        (line,) = [s for s in text.splitlines() if s.strip().startswith(f"{name} =")]
        start1, start2, value, sd = (float(v) for v in line.split("=")[1].split())
        assert d.certified[name] == value == CERTIFIED[name]
        assert d.certified_errors[name] == sd == CERTIFIED_SD[name]
        assert [s[name] for s in d.starts] == [start1, start2]
    assert d.certified_rss == CERTIFIED_RSS
    assert "nist" in d.source.lower() and "public domain" in d.source
    assert cm.parse(d.model) == cm.parse(MISRA)


def test_the_data_ship_with_the_package():
    """Loaded through importlib.resources and listed as package data: never ../shared."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["calcml"]
    folder = ROOT / "src" / "calcml"
    shipped = {p for pattern in patterns for p in folder.glob(pattern)}
    assert {folder / "data" / "misra1a.csv", folder / "data" / "misra1a.json"} <= shipped
    for module in ("data/__init__.py", "tour.py", "cli.py", "plots/fit.py"):
        source = (folder / module).read_text()
        assert "shared/data" not in source and "Misra1a.dat" not in source
    with pytest.raises(cm.CalcmlError, match="misra1a"):
        calcml.data.load("no-such-set")


# -- calcml fit on Misra1a -------------------------------------------------------------------


def test_fit_misra1a_report_matches_certified_scipy_and_library(misra_csv):
    out = ok("fit", misra_csv, "--model", MISRA, "--p0", "b1=500,b2=1e-4")
    assert out.splitlines()[0].startswith(f"data: {misra_csv}, 14 rows; x from column x")
    assert "[[Fit]] y = b1*(1 - exp(-b2*x)): success" in out
    found = variables(out)
    x, y = nist_data()
    p, err = scipy_fit(misra_model, x, y, [500, 1e-4])
    r = cm.fit(MISRA, x, y, p0={"b1": 500, "b2": 1e-4})
    for i, name in enumerate(("b1", "b2")):
        value, sd = found[name]
        assert value == pytest.approx(CERTIFIED[name], rel=1e-8)
        assert value == pytest.approx(p[i], rel=1e-8)
        assert value == pytest.approx(r.params[name], rel=1e-9)  # printed to 10 digits
        assert sd == pytest.approx(CERTIFIED_SD[name], rel=1e-5)  # printed to 6 digits
        assert sd == pytest.approx(err[i], rel=1e-5)
    assert statistic(out, "chi-square (RSS)") == pytest.approx(CERTIFIED_RSS, rel=1e-7)
    assert statistic(out, "degrees of freedom") == 12
    assert "C(b1, b2) = -0.9988" in out


def test_fit_json_is_the_librarys_to_dict(misra_csv):
    data = ok_json("fit", misra_csv, "--model", MISRA, "--p0", "b1=500,b2=1e-4")
    x, y = nist_data()
    r = cm.fit(MISRA, {"x": x}, y, p0={"b1": 500, "b2": 1e-4})
    assert data == json.loads(json.dumps(r.to_dict()))
    assert set(data) >= {"params", "errors", "covariance", "chi2", "dof", "p_value", "nit"}
    assert data["success"] is True and data["method"] == "lm" and data["p_value"] is None
    for name in ("b1", "b2"):
        assert data["params"][name] == pytest.approx(CERTIFIED[name], rel=1e-8)
        assert data["errors"][name] == pytest.approx(CERTIFIED_SD[name], rel=1e-7)
    assert data["chi2"] == pytest.approx(CERTIFIED_RSS, rel=1e-8)
    # the residual sum of squares, recomputed with NumPy at the printed parameters
    rss = float(np.sum((y - misra_model(x, *data["params"].values())) ** 2))
    assert data["chi2"] == pytest.approx(rss, rel=1e-9)


def test_fit_misra1a_from_nists_second_start(misra_csv):
    data = ok_json("fit", misra_csv, "--model", MISRA, "--p0", "250,5e-4")  # in order of name
    for name in ("b1", "b2"):
        assert data["params"][name] == pytest.approx(CERTIFIED[name], rel=1e-8)


def test_packaged_csv_works_with_the_command():
    data = ok_json("fit", PACKAGED_CSV, "--model", MISRA, "--p0", "b1=500,b2=1e-4")
    assert data["params"]["b1"] == pytest.approx(CERTIFIED["b1"], rel=1e-8)


def test_exit_status_follows_success(misra_csv):
    """A fit that fails is an answer (status 1, the report says FAILED), not an error."""
    result = run("fit", misra_csv, "--model", MISRA, "--p0", "b1=500,b2=1e-4", "--maxiter", "2")
    assert result.exit_code == 1
    assert "[[Fit]] y = b1*(1 - exp(-b2*x)): FAILED" in result.stdout
    assert "did not succeed" in result.stdout
    for method in ("lm", "gauss_newton", "gradient_descent"):
        result = run(
            "fit", misra_csv, "--model", MISRA, "--p0", "b1=500,b2=1e-4", "-m", method, "--json"
        )
        data = strict(result.stdout)
        assert data["method"] == method
        assert result.exit_code == (0 if data["success"] else 1)


# -- columns, sigma, methods, several variables -----------------------------------------------


def test_sigma_column_matches_curve_fit_with_absolute_sigma(decay):
    path, t, y, s = decay
    args = ("fit", path, "--model", "a*exp(-k*t) + c", "--p0", "a=1,k=1,c=0")
    data = ok_json(*args, "--x", "t", "--y", "counts", "--sigma", "err")
    f = lambda t, a, k, c: a * np.exp(-k * t) + c  # noqa: E731
    p, err = scipy_fit(f, t, y, [1, 1, 0], sigma=s, absolute_sigma=True)
    np.testing.assert_allclose([data["params"][n] for n in "akc"], p, rtol=1e-7)
    np.testing.assert_allclose([data["errors"][n] for n in "akc"], err, rtol=1e-5)
    chi2 = float(np.sum(((y - f(t, *p)) / s) ** 2))
    assert data["chi2"] == pytest.approx(chi2, rel=1e-8)
    assert data["dof"] == len(t) - 3
    assert data["p_value"] == pytest.approx(scipy.stats.chi2.sf(chi2, len(t) - 3), rel=1e-6)
    out = ok(*args, "--x", "t", "--y", "counts", "--sigma", "err")
    assert "sigma from column err" in out.splitlines()[0]
    assert "standard errors    : absolute (from sigma)" in out


def test_defaults_find_the_columns_the_model_names(decay):
    """No --x: the model's t is the column t; no y column: the first column left (the
    label column is never read, so its text does no harm)."""
    path, t, y, _ = decay
    named = ok_json(
        "fit", path, "--model", "a*exp(-k*t) + c", "--p0", "a=1,k=1,c=0", "--y", "counts"
    )
    f = lambda t, a, k, c: a * np.exp(-k * t) + c  # noqa: E731
    p, _ = scipy_fit(f, t, y, [1, 1, 0])
    np.testing.assert_allclose([named["params"][n] for n in "akc"], p, rtol=1e-8)


def test_a_single_column_of_another_name_is_x(tmp_path):
    x, y = nist_data()
    path = write(
        tmp_path / "named.csv",
        table("pressure,volume", x, y),
    )
    by_default = ok_json("fit", path, "--model", MISRA, "--p0", "b1=500,b2=1e-4")
    chosen = ok_json(
        "fit", path, "--model", MISRA, "--p0", "b1=500,b2=1e-4", "--x", "pressure", "--y", "volume"
    )
    assert by_default["params"] == chosen["params"]
    assert by_default["params"]["b1"] == pytest.approx(CERTIFIED["b1"], rel=1e-8)
    out = ok("fit", path, "--model", MISRA, "--p0", "b1=500,b2=1e-4")
    assert "x from column pressure (as x); y from column volume" in out.splitlines()[0]


def test_several_independent_variables(tmp_path):
    rng = np.random.default_rng(61)
    x1, x2 = rng.uniform(0, 5, 30), rng.uniform(0, 2, 30)
    y = 1.5 * x1 + 0.7 * x2**2 - 0.3 * x1 * x2 + rng.normal(0, 0.05, 30)
    path = write(tmp_path / "two.csv", table("y,x2,x1", y, x2, x1))
    model = "a*x1 + b*x2^2 + c*x1*x2"
    data = ok_json("fit", path, "--model", model, "--p0", "a=1,b=1,c=0")
    f = lambda X, a, b, c: a * X[0] + b * X[1] ** 2 + c * X[0] * X[1]  # noqa: E731
    p, err = scipy_fit(f, np.vstack([x1, x2]), y, [1, 1, 0])
    np.testing.assert_allclose([data["params"][n] for n in "abc"], p, rtol=1e-8)
    np.testing.assert_allclose([data["errors"][n] for n in "abc"], err, rtol=1e-5)
    # the library on a dict of the same columns gives the same numbers
    r = cm.fit(model, {"x2": x2, "x1": x1}, y, p0={"a": 1, "b": 1, "c": 0})
    assert data == json.loads(json.dumps(r.to_dict()))
    # columns not named x1, x2 map to the model's x1, x2 in order
    path2 = write(
        tmp_path / "ab.csv",
        table("u,v,y", x1, x2, y),
    )
    mapped = ok_json("fit", path2, "--model", model, "--p0", "a=1,b=1,c=0", "--x", "u,v")
    np.testing.assert_allclose(
        list(mapped["params"].values()), list(data["params"].values()), rtol=1e-10
    )


def test_sigma_as_one_number_is_a_column_of_that_number(decay, tmp_path):
    path, t, y, _ = decay
    args = ("fit", path, "--model", "a*exp(-k*t) + c", "--p0", "a=1,k=1,c=0", "--y", "counts")
    number = ok_json(*args, "--sigma", "0.05")
    rows = table("t,counts,s", t, y, np.full(t.size, 0.05))
    column = ok_json("fit", write(tmp_path / "s.csv", rows), *args[2:], "--sigma", "s")
    assert number["params"] == column["params"] and number["errors"] == column["errors"]
    assert number["p_value"] is not None


def test_methods_agree_on_a_well_posed_problem(decay):
    path, *_ = decay
    args = (
        "fit",
        path,
        "--model",
        "a*exp(-k*t) + c",
        "--p0",
        "a=2,k=0.5,c=0",
        "--y",
        "counts",
        "--sigma",
        "err",
    )
    lm = ok_json(*args)
    gn = ok_json(*args, "--method", "gauss-newton")
    assert gn["method"] == "gauss_newton"
    for name in "akc":
        assert gn["params"][name] == pytest.approx(lm["params"][name], rel=1e-7)


# -- errors ------------------------------------------------------------------------------------


BAD_FILES = [
    ("missing", None, "no such file"),
    ("empty", "", "is empty"),
    ("comments only", "# nothing here\n\n", "is empty"),
    ("header only", "x,y\n", "no rows of data"),
    ("numbers for a header", "77.6,10.07\n114.9,14.73\n", "should name the columns"),
    ("a ragged row", "x,y\n1,2\n3\n", "line 3 has 1 cell(s), but the header names 2"),
    ("a repeated name", "x,x\n1,2\n", "names x more than once"),
    ("an empty name", "x,\n1,2\n", "has no name"),
    (
        "a word in a cell",
        "x,y\n1,2\n2,3\n3,abc\n",
        "row 3 (line 4), column y: 'abc' is not a number",
    ),
    ("an empty cell", "x,y\n1,2\n,3\n", "row 2 (line 3), column x is empty"),
    ("a NaN", "x,y\n1,2\n2,nan\n", "row 2 (line 3), column y: 'nan' is not a finite number"),
    ("infinity", "x,y\n1,inf\n2,3\n", "row 1 (line 2), column y: 'inf' is not a finite number"),
]


@pytest.mark.parametrize(("what", "text", "words"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_one_line_errors(tmp_path, what, text, words):
    path = tmp_path / "data.csv"
    if text is not None:
        write(path, text)
    message = error("fit", path, "--model", "a*x + b", "--p0", "a=1,b=1")
    assert words in message and str(path) in message
    assert len(message.splitlines()) == 1


def test_a_folder_and_a_binary_file(tmp_path):
    assert "is a folder" in error("fit", tmp_path, "--model", "a*x", "--p0", "a=1")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    assert "not a text file" in error("fit", binary, "--model", "a*x", "--p0", "a=1")


def test_unknown_columns_list_the_columns_there_are(decay):
    path, *_ = decay
    base = ("fit", path, "--model", "a*exp(-k*t) + c", "--p0", "a=1,k=1,c=0")
    for option in ("--x", "--y", "--sigma"):
        message = error(*base, option, "nope")
        assert f"{option} 'nope'" in message
        assert "its columns are label, t, counts, err" in message
    # a column the model reads that is no x column is named, not taken for a parameter
    assert "add it to --x" in error(
        "fit", path, "--model", "a*t + b*err", "--p0", "a=1,b=1", "--x", "t", "--y", "counts"
    )


@pytest.mark.parametrize(
    ("p0", "words"),
    [
        ("b1=abc,b2=1", "'abc' is not a number"),
        ("b1=500,b2=", "b2 has no value"),
        ("b1=500,,b2=1", "an empty value"),
        ("b1=500,1e-4", "give every value a name or none"),
        ("b1=1,b1=2", "b1 is given twice"),
        ("1b=3,b2=1", "'1b' is not a parameter name"),
        ("b1=inf,b2=1", "not a finite number"),
        ("b1=500", "--p0 gives no starting value for b2"),
        ("b1=500,b2=1,b3=2", "--p0 names b3, which the model does not have"),
        ("1,2,3", "--p0 has 3 value(s) for 2 parameter(s) (b1, b2)"),
    ],
)
def test_bad_p0_is_a_one_line_error(misra_csv, p0, words):
    message = error("fit", misra_csv, "--model", MISRA, "--p0", p0)
    assert words in message and len(message.splitlines()) == 1


def test_other_usage_errors(misra_csv):
    assert "give the model with --model" in error("fit", misra_csv, "--p0", "b1=1")
    assert "--p0 b1=1,b2=1 (the model's parameters: b1, b2)" in error(
        "fit", misra_csv, "--model", MISRA
    )
    assert "choose one of lm, gauss_newton, gradient_descent" in error(
        "fit", misra_csv, "--model", MISRA, "--p0", "500,1e-4", "--method", "newton"
    )
    assert "^" in error("fit", misra_csv, "--model", "b1*(1-exp(-b2*x", "--p0", "b1=1,b2=1")
    assert "the file name must end in" in error(
        "fit", misra_csv, "--model", MISRA, "--p0", "500,1e-4", "--plot", "fit.xyz"
    )
    assert "standard deviation must be positive" in error(
        "fit", misra_csv, "--model", MISRA, "--p0", "500,1e-4", "--sigma", "-1"
    )
    assert "cannot be both" in error(
        "fit", misra_csv, "--model", MISRA, "--p0", "500,1e-4", "--x", "y"
    )


def test_a_bad_sigma_column_is_the_librarys_error(tmp_path):
    path = write(tmp_path / "s.csv", "x,y,s\n1,2,0.1\n2,4,0\n3,6,0.1\n")
    assert "sigma must be positive" in error(
        "fit", path, "--model", "a*x", "--p0", "a=1", "--sigma", "s"
    )


def test_errors_in_a_real_process(tmp_path):
    """The console entry point: one line on stderr, status 2, no traceback."""
    path = write(tmp_path / "bad.csv", "x,y\n1,2\n2,oops\n")
    proc = subprocess.run(
        [sys.executable, "-m", "calcml.cli", "fit", str(path), "--model", "a*x", "--p0", "a=1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"error: {path}, row 2 (line 3), column y: 'oops' is not a number"


# -- figures -----------------------------------------------------------------------------------


def test_plot_saves_the_fit_figure(misra_csv, tmp_path):
    target = tmp_path / "fit.png"
    result = run("fit", misra_csv, "--model", MISRA, "--p0", "b1=500,b2=1e-4", "--plot", target)
    assert result.exit_code == 0
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    assert f"figure saved to {target}" in result.stderr


def test_fit_result_draws_data_errors_curve_and_residuals(decay):
    _, t, y, s = decay
    r = cm.fit("a*exp(-k*t) + c", {"t": t}, y, p0={"a": 1, "k": 1, "c": 0}, sigma=s)
    a, k, c = (r.params[n] for n in "akc")
    fig = plots.fit_result(r)
    top, bottom = fig.axes
    data = one(top, "data")
    np.testing.assert_array_equal(data.get_xdata(), t)
    np.testing.assert_array_equal(data.get_ydata(), y)
    (bars,) = gid(top, "error_bars")
    assert isinstance(bars, LineCollection)
    segments = np.array(bars.get_segments())
    np.testing.assert_allclose(segments[:, 0, 1], y - s)
    np.testing.assert_allclose(segments[:, 1, 1], y + s)
    curve = one(top, "fit")
    xs = np.asarray(curve.get_xdata())
    assert xs[0] == t.min() and xs[-1] == t.max()
    np.testing.assert_allclose(curve.get_ydata(), a * np.exp(-k * xs) + c, rtol=1e-12)
    assert bottom.get_gid() == "residual_axes"
    residuals = one(bottom, "residuals")
    np.testing.assert_allclose(residuals.get_ydata(), y - (a * np.exp(-k * t) + c), atol=1e-12)
    (rbars,) = gid(bottom, "residual_error_bars")
    assert np.array(rbars.get_segments())[:, 1, 1] == pytest.approx(residuals.get_ydata() + s)
    assert one(bottom, "zero").get_ydata()[0] == 0
    assert bottom.get_xlabel() == "t" and bottom.get_ylabel() == "residual y - f"
    box = one(top, "params").get_text()
    assert "p-value" in box and f"dof = {len(t) - 3}" in box


def test_without_sigma_the_error_bars_are_the_residual_deviation():
    x, y = nist_data()
    r = cm.fit(MISRA, x, y, p0={"b1": 500, "b2": 1e-4})
    fig = plots.fit_result(r, xlabel="pressure", ylabel="volume")
    top, bottom = fig.axes
    s = math.sqrt(CERTIFIED_RSS / 12)  # NIST's residual standard deviation, 0.10187876330
    assert s == pytest.approx(1.0187876330e-01, rel=1e-10)
    segments = np.array(one(top, "error_bars").get_segments())
    np.testing.assert_allclose(segments[:, 1, 1] - segments[:, 0, 1], 2 * s, rtol=1e-8)
    assert "s = 0.102" in top.get_legend().get_texts()[0].get_text()
    assert (bottom.get_xlabel(), top.get_ylabel()) == ("pressure", "volume")
    text = one(top, "params").get_text()
    assert r"238.9 \pm 2.7" in text and r"(5.502 \pm 0.073) \times 10^{-4}" in text


def test_fit_result_of_several_variables_draws_data_against_the_fit(tmp_path):
    rng = np.random.default_rng(62)
    x1, x2 = rng.uniform(0, 5, 20), rng.uniform(0, 2, 20)
    y = 1.5 * x1 + 0.7 * x2**2 + rng.normal(0, 0.05, 20)
    r = cm.fit("a*x1 + b*x2^2", {"x1": x1, "x2": x2}, y, p0=[1, 1])
    top, bottom = plots.fit_result(r).axes
    fitted = r.params["a"] * x1 + r.params["b"] * x2**2
    np.testing.assert_allclose(one(top, "data").get_xdata(), fitted, rtol=1e-12)
    line = one(top, "fit")
    np.testing.assert_array_equal(line.get_xdata(), line.get_ydata())  # y = f
    assert bottom.get_xlabel() == "fitted value f"


def test_chi2_landscape_draws_contours_and_the_lm_path():
    x, y = nist_data()
    r = cm.fit(MISRA, x, y, p0={"b1": 500, "b2": 1e-4})
    fig = plots.chi2_landscape(r)
    whole, near = maps(fig)
    filled = one(whole, "contours")
    assert isinstance(filled, QuadContourSet)
    # chi2 on the map is never below the minimum, and reaches far above it
    assert filled.zmin >= r.chi2 * (1 - 1e-9) and filled.zmax > 1e3 * r.chi2
    path = one(whole, "path")
    np.testing.assert_array_equal(path.get_xydata(), np.array(r.history))
    assert path.get_xydata()[0].tolist() == [500.0, 1e-4]
    assert one(whole, "start").get_xydata()[0].tolist() == [500.0, 1e-4]
    star = one(whole, "minimum").get_xydata()[0]
    assert star == pytest.approx([CERTIFIED["b1"], CERTIFIED["b2"]], rel=1e-8)
    assert (whole.get_xlabel(), whole.get_ylabel()) == ("b1", "b2")
    assert "Levenberg-Marquardt" in whole.get_title(loc="left")
    # the zoom: the k-sigma contours and the box of +/- one certified standard error
    levels = sorted(float(c.levels[0]) for c in gid(near, "sigma_contours"))
    s2 = CERTIFIED_RSS / 12
    assert levels == pytest.approx([CERTIFIED_RSS + k * k * s2 for k in (1, 2, 3)], rel=1e-7)
    box = one(near, "error_box")
    assert isinstance(box, Rectangle)
    assert box.get_width() == pytest.approx(2 * CERTIFIED_SD["b1"], rel=1e-6)
    assert box.get_height() == pytest.approx(2 * CERTIFIED_SD["b2"], rel=1e-6)
    assert one(near, "correlation").get_text() == "correlation C(b1, b2) = -0.9988"


def test_the_one_sigma_contour_of_a_line_just_fits_in_the_error_box():
    """For a straight line chi2 is exactly quadratic: the chi2_min + 1 contour reaches
    exactly +/- one standard error along each axis (errors from NumPy's polyfit)."""
    x, y = line_data()
    r = cm.linear_fit(x, y, sigma=0.5)
    (ax,) = maps(plots.chi2_landscape(r))  # the path is one point: one map
    assert one(ax, "path").get_xydata().tolist() == [[r.params["m"], r.params["c"]]]
    (one_sigma,) = [
        c for c in gid(ax, "sigma_contours") if c.levels[0] == pytest.approx(r.chi2 + 1)
    ]
    vertices = one_sigma.get_paths()[0].vertices
    reach = np.max(np.abs(vertices - [r.params["m"], r.params["c"]]), axis=0)
    _, cov = np.polyfit(x, y, 1, w=np.full(x.size, 1 / 0.5), cov="unscaled")
    np.testing.assert_allclose(reach, np.sqrt(np.diag(cov)), rtol=3e-3)


def test_chi2_landscape_refuses_what_it_cannot_draw():
    r = cm.fit("a*x", [1, 2, 3], [2.0, 4.1, 5.9], p0=[1])
    with pytest.raises(cm.CalcmlError, match="at least two varying parameters"):
        plots.chi2_landscape(r)
    x, y = line_data()
    with pytest.raises(cm.CalcmlError, match="not a varying parameter"):
        plots.chi2_landscape(cm.linear_fit(x, y), params=("m", "q"))
    with pytest.raises(cm.CalcmlError, match="resolution"):
        plots.chi2_landscape(cm.linear_fit(x, y), resolution=3)
    with pytest.raises(cm.CalcmlError, match="FitResult"):
        plots.fit_result({"m": 1})


def test_the_figures_are_exported_from_calcml_plots():
    assert {"fit_result", "chi2_landscape"} <= set(plots.__all__)
    assert plots.fit_result.__module__ == "calcml.plots.fit"
    assert ">>>" in plots.fit_result.__doc__ and ">>>" in plots.chi2_landscape.__doc__


# -- the tour ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def part6(tmp_path_factory) -> tuple[list[str], list[Path]]:
    lines: list[str] = []
    tour = Tour(out=tmp_path_factory.mktemp("tour"), plots=True, echo=lines.append)
    regression(tour)
    return lines, tour.saved


def test_tour_numbers_regression_as_part_6_after_optimisation():
    assert PART_NUMBERS["Regression"] == 6
    titles = [title for title, _ in SECTIONS]
    assert titles.index("Regression") == titles.index("Optimisation") + 1
    lines: list[str] = []
    run_tour(plots=False, echo=lines.append)
    headers = [s for s in lines if s.startswith("== Part")]
    assert headers[headers.index("== Part 5: Optimisation ==") + 1] == "== Part 6: Regression =="


def test_tour_part_6_compares_with_nists_certified_values(part6):
    lines, _ = part6
    start = lines.index("-- calcml against NIST's certified values --")
    assert lines[start + 1].split() == ["calcml", "NIST", "certified", "digits", "agreeing"]
    rows = {s.split()[0]: s.split()[1:] for s in lines[start + 2 : start + 7]}
    assert list(rows) == ["b1", "b2", "sd(b1)", "sd(b2)", "RSS"]
    nist = {**CERTIFIED, **{f"sd({k})": v for k, v in CERTIFIED_SD.items()}, "RSS": CERTIFIED_RSS}
    x, y = nist_data()
    r = cm.fit(MISRA, x, y, p0={"b1": 500, "b2": 1e-4})
    exact = {**r.params, **{f"sd({k})": v for k, v in r.errors.items()}, "RSS": r.chi2}
    for name, (ours, certified, digits) in rows.items():
        assert float(certified) == nist[name]
        assert float(ours) == pytest.approx(exact[name], rel=1e-10)  # printed to 11 digits
        agreeing = -math.log10(abs(exact[name] - nist[name]) / nist[name])
        assert digits == ("11+" if agreeing >= 11 else f"{agreeing:.1f}")
        assert agreeing >= 8  # NIST's "lower difficulty": any good solver gets 8 or more
    text = "\n".join(lines)
    assert "[[Fit]] y = b1*(1 - exp(-b2*x)): success" in text
    assert "p0={b1: 500, b2: 0.0001}" in text


def test_tour_part_6_chi2_and_the_straight_line(part6):
    lines, _ = part6
    x, y = line_data()
    # the seeded data are the same every time, and as printed
    (row,) = [s for s in lines if s.split()[:1] == ["y"] and len(s.split()) == 11]
    assert [float(v) for v in row.split()[1:]] == pytest.approx(y.round(3).tolist())
    for m, c in ((2.5, 0.0), (2.0, 0.0), (2.0, 1.0)):
        (found,) = [s for s in lines if s.startswith(f"  y = {m:g} x + {c:g} ")]
        assert float(found.split()[-1]) == pytest.approx(
            np.sum(((y - m * x - c) / 0.5) ** 2), rel=1e-3
        )
    # the straight line of the report is NumPy's weighted polyfit
    (slope, intercept), cov = np.polyfit(x, y, 1, w=np.full(x.size, 2.0), cov="unscaled")
    text = "\n".join(lines)
    found = variables(text)
    assert found["m"][0] == pytest.approx(slope, rel=1e-9) and found["c"][0] == pytest.approx(
        intercept, rel=1e-9
    )
    assert found["m"][1] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-5)
    assert "[[Fit]] straight line y = m x + c: success" in text


def test_tour_part_6_saves_its_figures(part6):
    lines, saved = part6
    assert [p.name for p in saved] == ["60-misra1a-fit.png", "61-chi2-landscape.png"]
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in saved)
    assert sum(s.startswith("figure: ") for s in lines) == 2
