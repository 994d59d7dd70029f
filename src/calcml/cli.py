"""The ``calcml`` command line: derivatives, gradients, Jacobians and Hessians from the shell.

::

    calcml diff "x^2 sin(x)" --steps --at x=1
    calcml grad "x^2 y + y^3" --at 1,2
    calcml jacobian "x^2 y; 5x + sin(y)"
    calcml hessian "x^3 + x y^2" --json
    calcml taylor "exp(x)" --about 0 --order 6 --interval -1,1
    calcml roots "x^2 - 2" --x0 1
    calcml minimize "(1 - x)^2 + 100 (y - x^2)^2" --x0 -1.2,1 --method newton
    calcml lagrange "x y" --constraint "x + y = 10"
    calcml stationary "x^3 - 3x + y^2"
    calcml fit data.csv --model "b1*(1-exp(-b2*x))" --p0 b1=500,b2=1e-4 --plot fit.png
    calcml nn demo curve --plot curve.png
    calcml tour --out calcml-tour

Every error calcml reports (a parse error with its caret, a limit, a point that does not
fit) goes to stderr as plain text and the process exits with status 2, without a
traceback. The solvers (roots, minimize, lagrange, stationary, fit) print their answer and
exit with status 0, or say how they failed (a cycle, no root, divergence, no points at all,
a fit that did not converge) and exit with status 1. Output is styled with ``rich`` on a
terminal and plain text otherwise, so it pipes and captures cleanly. ``--json`` prints one
JSON document and nothing else.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import numpy as np
import sympy
import typer

from . import __version__
from .errors import CalcmlError
from .expr import parse, to_latex, to_text
from .symbolic import derivative, gradient, hessian, jacobian, taylor
from .symbolic.inputs import as_variables, point_values, variables_of
from .tour import (
    DEFAULT_OUT,
    column_alignment,
    format_number,
    matrix_lines,
    number_cells,
    point_text,
    text_cells,
)

app = typer.Typer(
    name="calcml",
    help="Multivariate calculus for machine learning: derivatives that explain themselves.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXPR_HELP = (
    'The function, e.g. "x^2 sin(x)". Implicit multiplication and ^ work. '
    "Put -- before an expression that starts with a minus sign."
)
AT_HELP = "Evaluate at a point: x=2,y=3 (by name) or 2,3 (in variable order)."
VARS_HELP = "The variables, comma-separated, in order (default: all, sorted by name)."
JSON_HELP = "Print one JSON document and nothing else."


class UsageProblem(Exception):
    """A command-line input calcml cannot use (reported like a CalcmlError: exit 2)."""


# -- output ------------------------------------------------------------------------------


class Output:
    """Lines and tables to a stream: styled with rich on a terminal, plain text otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.console = None
        isatty = getattr(stream, "isatty", None)
        if isatty is not None and isatty():
            from rich.console import Console

            self.console = Console(
                file=stream, soft_wrap=True, highlight=False, emoji=False, markup=False
            )

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.console is None:
            self.stream.write(text + "\n")
        else:
            from rich.text import Text

            self.console.print(Text(text, style=style or ""))

    def pairs(self, *parts: tuple[str, str | None]) -> None:
        """One line made of (text, style) pieces."""
        if self.console is None:
            self.stream.write("".join(text for text, _ in parts) + "\n")
        else:
            from rich.text import Text

            self.console.print(Text.assemble(*((t, s or "") for t, s in parts)))

    def steps(self, explanation: str) -> None:
        """A numbered derivation (Derivation.explain()), with its results picked out."""
        for text in explanation.splitlines():
            if self.console is None:
                self.line(text)
            elif re.match(r"\s*= ", text):
                self.line(text, "green")
            elif text.startswith(("Answer:", "At ")):
                self.line(text, "bold")
            elif match := re.match(r"(\s*\d+\. )(.*?: )(.*)$", text):
                number, head, rest = match.groups()
                rule, dot, why = rest.partition(". ")
                self.pairs((number, "dim"), (head, None), (rule + dot, "cyan"), (why, None))
            else:
                self.line(text, "bold underline")

    def matrix(
        self,
        title: str,
        cells: Sequence[Sequence[str]],
        row_labels: Sequence[str],
        col_labels: Sequence[str],
        numeric: bool | Sequence[bool] = False,
    ) -> None:
        if self.console is None:
            self.line(title)
            for text in matrix_lines(cells, row_labels, col_labels, numeric):
                self.line(text)
            return
        from rich import box
        from rich.table import Table

        table = Table(
            title=title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            header_style="bold",
            show_edge=False,
        )
        table.add_column("", style="cyan", no_wrap=True)
        for label, right in zip(
            col_labels, column_alignment(numeric, len(col_labels)), strict=True
        ):
            table.add_column(label, justify="right" if right else "left")
        for label, row in zip(row_labels, cells, strict=True):
            table.add_row(label, *row)
        self.console.print(table)


def _stdout() -> Output:
    return Output(sys.stdout)


def _fail(message: str) -> NoReturn:
    err = Output(sys.stderr)
    err.pairs(("error: ", "bold red"), (message, None))
    raise typer.Exit(2)


def _cli_words(message: str) -> str:
    # Library messages speak Python (at=, var=); on the command line they are options.
    return message.replace("in at=", "with --at").replace("pass at=", "pass --at")


@contextmanager
def _reported() -> Iterator[None]:
    """Turn calcml's errors into a message on stderr and exit status 2."""
    try:
        yield
    except (CalcmlError, UsageProblem) as exc:
        _fail(_cli_words(str(exc)))
    except RecursionError:
        _fail("the expression is nested too deeply to handle")


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data) + "\n")


def _note(message: str) -> None:
    """A remark that is not the answer (figures saved): stderr, so stdout stays clean."""
    Output(sys.stderr).line(message, "dim")


# -- points --------------------------------------------------------------------------------

Point = dict[str, float] | list[float]


def split_items(
    text: str, flag: str, example: str, what: str = "coordinate", kind: str = "variable"
) -> list[str] | list[tuple[str, str]]:
    """Split ``a=1,b=2`` into [(name, text), ...] or ``1,2`` into [text, ...], refusing
    empty items, a mix of named and unnamed ones, bad or repeated names (the shared
    grammar of --at, --about and --p0; the values are read by the caller).

    >>> split_items("x=2, y=3", "--at", "")
    [('x', '2'), ('y', '3')]
    >>> split_items("2,3", "--at", "")
    ['2', '3']
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or not all(items):
        raise UsageProblem(f"{flag} {text!r}: an empty {what}; {example}")
    named = ["=" in item for item in items]
    if any(named) and not all(named):
        raise UsageProblem(f"{flag} {text!r}: give every {what} a name or none; {example}")
    if not all(named):
        return items
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, _, value = (part.strip() for part in item.partition("="))
        if not name.isidentifier():
            raise UsageProblem(f"{flag} {text!r}: {name!r} is not a {kind} name; {example}")
        if any(name == seen for seen, _ in pairs):
            raise UsageProblem(f"{flag} {text!r}: {name} is given twice")
        if not value:
            raise UsageProblem(f"{flag} {text!r}: {name} has no value; {example}")
        pairs.append((name, value))
    return pairs


def parse_point(text: str) -> Point:
    """Read ``--at``: ``x=2,y=3`` gives a dict, ``2,3`` a list (plain float(), never eval).

    >>> parse_point("x=2, y=-3.5")
    {'x': 2.0, 'y': -3.5}
    >>> parse_point("2,3")
    [2.0, 3.0]
    """
    example = "write it as x=2,y=3 (by name) or 2,3 (in variable order)"
    items = split_items(text, "--at", example)
    if items and isinstance(items[0], str):
        return [_number(item, "--at", text, example) for item in items]  # type: ignore[arg-type]
    return {name: _number(value, "--at", text, example) for name, value in items}


def _number(value: str, flag: str, text: str, example: str) -> float:
    """One finite number of an option's list (plain float(), never eval)."""
    try:
        number = float(value)
    except ValueError:
        raise UsageProblem(f"{flag} {text!r}: {value!r} is not a number; {example}") from None
    if not math.isfinite(number):
        raise UsageProblem(f"{flag} {text!r}: {value!r} is not a finite number")
    return number


def _resolve_point(text: str | None, variables: Sequence[sympy.Symbol]) -> dict[str, float] | None:
    """The point of ``--at`` as {name: value} in the order of ``variables``."""
    if text is None:
        return None
    point = parse_point(text)
    names = [str(v) for v in variables]
    if isinstance(point, dict):
        unknown = [n for n in point if n not in names]
        if unknown:
            raise UsageProblem(
                f"--at names {', '.join(unknown)}, which is not among the variables "
                f"({', '.join(names) or 'none'})"
            )
    return dict(zip(names, point_values(point, variables), strict=True))


# -- figures -------------------------------------------------------------------------------


def _check_figure_path(path: Path | None) -> None:
    """Refuse a file type matplotlib cannot write before any work is done."""
    if path is None:
        return
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in kinds:
        raise UsageProblem(
            f"--plot {path}: the file name must end in one of "
            f"{', '.join('.' + k for k in sorted(kinds))}"
        )


def _write_figure(path: Path, make: Callable[[Any], Any]) -> None:
    """Draw with ``make(calcml.plots)`` and save to ``path``, without a word."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # files only: no window, no display needed
    from . import plots

    fig = make(plots)
    try:
        plots.save(fig, path)
    except (OSError, ValueError) as exc:
        raise UsageProblem(f"cannot save the figure to {path}: {exc}") from None


def _save_figure(path: Path, make: Callable[[Any], Any]) -> None:
    """Draw with ``make(calcml.plots)``, save to ``path`` and say so."""
    _write_figure(path, make)
    _note(f"figure saved to {path}")


# -- commands ------------------------------------------------------------------------------

ExprArg = Annotated[str, typer.Argument(help=EXPR_HELP, show_default=False, metavar="EXPR")]
AtOpt = Annotated[
    str | None, typer.Option("--at", "-a", help=AT_HELP, show_default=False, metavar="POINT")
]
VarsOpt = Annotated[
    str | None, typer.Option("--vars", help=VARS_HELP, show_default=False, metavar="x,y")
]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        "-p",
        help="Save a figure to this file (.png, .svg, .pdf).",
        show_default=False,
        dir_okay=False,
    ),
]


@app.command("diff")
def diff_command(
    expr: ExprArg,
    var: Annotated[
        str | None,
        typer.Option(
            "--var",
            help="The variable to differentiate by (needed when there are several).",
            show_default=False,
            metavar="NAME",
        ),
    ] = None,
    order: Annotated[int, typer.Option("--order", "-n", help="How many times.")] = 1,
    steps: Annotated[
        bool, typer.Option("--steps", "-s", help="Show the numbered derivation, rule by rule.")
    ] = False,
    at: AtOpt = None,
    latex: Annotated[bool, typer.Option("--latex", help="Print the derivation as LaTeX.")] = False,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """The derivative of EXPR, optionally with its steps and its value at a point."""
    with _reported():
        f = parse(expr)
        free = variables_of(f)
        if var is None and len(free) > 1:
            names = ", ".join(map(str, free))
            raise UsageProblem(
                f"{to_text(f)} has the variables {names}; say which one to "
                f"differentiate by with --var, e.g. --var {free[0]}"
            )
        point = parse_point(at) if at is not None else None
        _check_figure_path(plot)
        if plot is not None and len(free) > 1:
            raise UsageProblem(
                "--plot draws functions of one variable; this one has "
                f"{len(free)} ({', '.join(map(str, free))})"
            )
        d = derivative(f, var, order=order, at=point)

        if as_json:
            _json(d.to_dict())
        elif latex:
            out = _stdout()
            out.line(d.to_latex())
            if d.point is not None and d.value is not None:
                out.line(f"% At {point_text(d.point)}: {format_number(d.value)}")
        elif steps:
            _stdout().steps(d.explain())
        else:
            out = _stdout()
            if out.console is None:
                out.line(to_text(d.result))
            else:
                notation = f"d/d{d.variable}" if order == 1 else f"d^{order}/d{d.variable}^{order}"
                out.pairs((f"{notation} [{to_text(f)}] = ", "dim"), (to_text(d.result), "bold"))
            if d.point is not None and d.value is not None:
                out.pairs(
                    (f"At {point_text(d.point)}: ", None), (format_number(d.value), "bold green")
                )

        if plot is not None:
            if d.point is not None and len(d.point) == 1:
                x0 = next(iter(d.point.values()))
                _save_figure(plot, lambda p: p.secant(f, x0))
            else:
                _save_figure(plot, lambda p: p.function_and_derivative(f, var=var))


def _matrix_json(
    kind: str,
    functions: list[str],
    variables: Sequence[sympy.Symbol],
    symbolic: Any,
    point: dict[str, float] | None,
    value: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "functions": functions,
        "variables": [str(v) for v in variables],
        "result": _nested(symbolic, to_text),
        "latex": _nested(symbolic, to_latex),
        "at": point,
        "value": None if value is None else np.asarray(value, dtype=float).tolist(),
    }


def _nested(items: Any, leaf: Callable[[Any], Any]) -> Any:
    """Apply ``leaf`` to every entry of nested lists."""
    if isinstance(items, list):
        return [_nested(i, leaf) for i in items]
    return leaf(items)


def _variables(text: str | None, exprs: Sequence[sympy.Expr]) -> list[sympy.Symbol]:
    """The variables of ``--vars``, or the free symbols sorted by name; at least one."""
    xs = as_variables(text, sympy.Tuple(*exprs))
    if not xs:
        raise UsageProblem(
            f"{'; '.join(to_text(e) for e in exprs)} has no variables; "
            "name the ones to differentiate by with --vars, e.g. --vars x,y"
        )
    return xs


@app.command("grad")
def grad_command(
    expr: ExprArg,
    variables: VarsOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """The gradient of EXPR: its partial derivatives, optionally at a point."""
    with _reported():
        f = parse(expr)
        xs = _variables(variables, [f])
        point = _resolve_point(at, xs)
        _check_figure_path(plot)
        if plot is not None and len(xs) not in (1, 2):
            raise UsageProblem(
                f"--plot draws functions of one or two variables; this one "
                f"has {len(xs)} ({', '.join(map(str, xs))})"
            )
        column = gradient(f, xs)
        entries = list(column)
        value = None if point is None else gradient(f, xs, at=list(point.values()))

        if as_json:
            _json(_matrix_json("gradient", [to_text(f)], xs, entries, point, value))
        else:
            cols = ["∇f"] + ([f"at {point_text(point)}"] if point is not None else [])
            cells = [
                [to_text(e)] + ([format_number(v)] if value is not None else [])
                for e, v in zip(entries, value if value is not None else entries, strict=True)
            ]
            _stdout().matrix(
                f"gradient of f = {to_text(f)}",
                cells,
                [f"∂f/∂{x}" for x in xs],
                cols,
                numeric=[False, True][: len(cols)],
            )

        if plot is not None:
            if len(xs) == 1:
                _save_figure(plot, lambda p: p.function_and_derivative(f, var=str(xs[0])))
            else:
                _save_figure(plot, lambda p: _contour(p, f, xs, point))


def _contour(
    plots: Any, f: sympy.Expr, xs: list[sympy.Symbol], point: dict[str, float] | None
) -> Any:
    """contour_gradient over a window that holds the point (default -3..3 on each axis)."""
    lims = []
    for name in sorted(str(x) for x in xs):  # the plot takes its axes in order of name
        lo, hi = -3.0, 3.0
        if point is not None and not lo + 0.5 <= point[name] <= hi - 0.5:
            lo, hi = point[name] - 3.0, point[name] + 3.0
        lims.append((lo, hi))
    return plots.contour_gradient(f, xlim=lims[0], ylim=lims[1], point=point)


def _matrix_command(
    kind: str,
    title: str,
    exprs: list[sympy.Expr],
    variables: str | None,
    at: str | None,
    as_json: bool,
    compute: Callable[..., Any],
    row_labels: Callable[[list[sympy.Symbol]], list[str]],
) -> None:
    xs = _variables(variables, exprs)
    point = _resolve_point(at, xs)
    matrix = compute(xs, None)
    value = None if point is None else compute(xs, list(point.values()))
    rows = row_labels(xs)
    cols = [str(x) for x in xs]
    if as_json:
        entries = [[matrix[i, j] for j in range(matrix.cols)] for i in range(matrix.rows)]
        _json(_matrix_json(kind, [to_text(e) for e in exprs], xs, entries, point, value))
        return
    out = _stdout()
    out.matrix(title, text_cells(matrix), rows, cols)
    if value is not None:
        out.line()
        out.matrix(f"at {point_text(point)}", number_cells(value), rows, cols, numeric=True)


@app.command("jacobian")
def jacobian_command(
    exprs: Annotated[
        str,
        typer.Argument(
            help="The functions, separated by ';', e.g. \"x^2 y; 5x + sin(y)\".",
            show_default=False,
            metavar="EXPRS",
        ),
    ],
    variables: VarsOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The Jacobian of one or several functions: row i holds the gradient of f_i."""
    with _reported():
        parts = [p for p in exprs.split(";") if p.strip()]
        if not parts:
            raise UsageProblem('give at least one function, e.g. "x^2 y; 5x + sin(y)"')
        fs = [parse(p) for p in parts]
        labels = [f"f{i}" for i in range(1, len(fs) + 1)]
        title = "Jacobian of " + ", ".join(
            f"{label} = {to_text(e)}" for label, e in zip(labels, fs, strict=True)
        )
        _matrix_command(
            "jacobian",
            title,
            fs,
            variables,
            at,
            as_json,
            lambda xs, pt: jacobian(fs, xs, at=pt),
            lambda xs: labels,
        )


@app.command("hessian")
def hessian_command(
    expr: ExprArg,
    variables: VarsOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The Hessian of EXPR: the matrix of its second partial derivatives."""
    with _reported():
        f = parse(expr)
        _matrix_command(
            "hessian",
            f"Hessian of f = {to_text(f)}",
            [f],
            variables,
            at,
            as_json,
            lambda xs, pt: hessian(f, xs, at=pt),
            lambda xs: [str(x) for x in xs],
        )


# -- taylor --------------------------------------------------------------------------------

ABOUT_HELP = (
    "The expansion point: 0, 1.5 or pi/2 for one variable; x=1,y=2 (by name) or 1,2 "
    "(in variable order) for several."
)
ORDER_HELP = "The order of the polynomial (default: 6 for one variable, 2 for several)."
INTERVAL_HELP = "Bound the error |f - p| on this interval, written low,high (e.g. -1,1)."

About = str | float | dict[str, str | float] | list[str | float]


def _about_value(text: str, whole: str) -> str | float:
    """One coordinate of ``--about``: a plain decimal as a float (calcml reads 0.1 as
    exactly 1/10), anything else (pi/2) as text for calcml's parser, checked here so
    that a mistake names the option."""
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise UsageProblem(f"--about {whole!r}: {value!r} is not a finite number")
        return number
    try:
        parse(value)
    except CalcmlError as exc:
        raise UsageProblem(f"--about {whole!r}: {exc}") from None
    return value


def parse_about(text: str) -> About:
    """Read ``--about``: ``1`` or ``pi/2`` for one variable, ``x=1,y=2`` (a dict) or
    ``1,2`` (a list) for several.

    >>> parse_about("0.5"), parse_about("pi/2")
    (0.5, 'pi/2')
    >>> parse_about("y=2, x=pi")
    {'y': 2.0, 'x': 'pi'}
    >>> parse_about("1,2")
    [1.0, 2.0]
    """
    example = "write it as 0 or pi/2 (one variable), x=1,y=2 or 1,2 (several)"
    items = split_items(text, "--about", example)
    if items and isinstance(items[0], str):
        values = [_about_value(item, text) for item in items]  # type: ignore[arg-type]
        return values[0] if len(values) == 1 else values
    return {name: _about_value(value, text) for name, value in items}


def parse_interval(text: str) -> tuple[float, float]:
    """Read ``--interval``: ``low,high``, two finite numbers with low < high.

    >>> parse_interval("-1, 1")
    (-1.0, 1.0)
    """
    example = "write it as low,high, e.g. -1,1"
    items = [item.strip() for item in text.split(",")]
    if len(items) != 2:
        raise UsageProblem(f"--interval {text!r}: give two numbers; {example}")
    try:
        low, high = (float(item) for item in items)
    except ValueError:
        raise UsageProblem(f"--interval {text!r}: not two numbers; {example}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise UsageProblem(f"--interval {text!r}: needs finite numbers with low < high")
    return low, high


def _taylor_point(
    about: About, free: list[sympy.Symbol], f: sympy.Expr
) -> tuple[About, str | None]:
    """The point as calcml.taylor takes it, and the variable of a one-variable expansion
    named in ``--about x=1``."""
    names = [str(v) for v in free]
    if isinstance(about, dict):
        unknown = [n for n in about if n not in names]
        if unknown and (len(about) > 1 or len(names) > 1):
            raise UsageProblem(
                f"--about names {', '.join(unknown)}, which is not among the variables "
                f"({', '.join(names) or 'none'})"
            )
        if len(about) == 1 and len(names) <= 1:  # x=1 for a function of x: one variable
            ((name, value),) = about.items()
            if unknown and names:
                raise UsageProblem(f"--about names {name}, but the variable is {names[0]}")
            return value, name
        return {n: about[n] for n in names if n in about}, None
    if not isinstance(about, list) and len(names) > 1:
        raise UsageProblem(
            f"{to_text(f)} has the variables {', '.join(names)}: give the point as "
            f"--about {','.join(n + '=0' for n in names)}"
        )
    return about, None


def _plot_orders(order: int) -> list[int]:
    """The orders drawn by ``--plot``: up to four, from 1 to the order asked for."""
    if order <= 4:
        return list(range(min(order, 1), order + 1)) if order else [0]
    return sorted({round(v) for v in np.linspace(1, order, 4)})


def _finite_json(value: float | None) -> float | str | None:
    """A float for JSON, where an infinite radius has no number (it is written "inf")."""
    if value is None or isinstance(value, str) or math.isfinite(value):
        return value
    return "inf" if value > 0 else "-inf"


def _multi_json(t: Any) -> dict[str, Any]:
    return {
        "function": to_text(t.f) if t.f is not None else None,
        "variables": [str(v) for v in t.variables],
        "about": [to_text(a) for a in t.about],
        "order": t.order,
        "polynomial": to_text(t.polynomial),
        "terms": [to_text(term) for term in t.terms_by_degree],
        "value": to_text(t.value),
        "gradient": None if t.gradient is None else [to_text(e) for e in t.gradient],
        "hessian": None if t.hessian is None else text_cells(t.hessian),
    }


def _taylor_lines(out: Output, explanation: str) -> None:
    """Taylor.explain() / MultiTaylor.explain(), with the polynomial picked out."""
    for text in explanation.splitlines():
        if out.console is None:
            out.line(text)
        elif text.startswith("Taylor polynomial"):
            out.line(text, "bold underline")
        elif text.startswith(("p(", "p = ")):
            out.line(text, "bold green")
        elif text.startswith("radius"):
            out.line(text, "cyan")
        elif text.startswith("  n |"):
            out.line(text, "dim")
        else:
            out.line(text)


def _expand(f: sympy.Expr, point: About, order: int, variable: str | None) -> Any:
    try:
        return taylor(f, about=point, order=order, variable=variable)
    except (RuntimeError, ArithmeticError) as exc:  # a derivative symengine cannot evaluate
        raise UsageProblem(
            f"{to_text(f)} has no Taylor series calcml can build at this point: {exc}"
        ) from None


@app.command("taylor")
def taylor_command(
    expr: ExprArg,
    about: Annotated[str, typer.Option("--about", help=ABOUT_HELP, metavar="POINT")] = "0",
    order: Annotated[
        int | None, typer.Option("--order", "-n", help=ORDER_HELP, show_default=False)
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option("--interval", help=INTERVAL_HELP, show_default=False, metavar="LOW,HIGH"),
    ] = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """The Taylor polynomial of EXPR about a point: the table of derivatives, the radius
    of convergence and, on an interval, a bound of the error."""
    with _reported():
        f = parse(expr)
        free = variables_of(f)
        point, variable = _taylor_point(parse_about(about), free, f)
        span = parse_interval(interval) if interval is not None else None
        _check_figure_path(plot)
        several = isinstance(point, dict | list)
        if several and span is not None:
            raise UsageProblem("--interval bounds the error for one variable only")
        if several and plot is not None and len(free) != 2:
            raise UsageProblem(
                "--plot draws the tangent plane of a function of two variables; this one "
                f"has {len(free)} ({', '.join(map(str, free))})"
            )
        n = order if order is not None else (2 if several else 6)
        t = _expand(f, point, n, variable)
        bound = t.remainder_bound(*span) if span is not None else None

        if several:
            if as_json:
                _json(_multi_json(t))
            else:
                _taylor_lines(_stdout(), t.explain())
        else:
            beyond = (
                span is not None
                and t.radius is not None
                and max(float(t.about) - span[0], span[1] - float(t.about)) > t.radius
            )
            if as_json:
                data = t.to_dict()
                data["radius"] = _finite_json(data["radius"])
                data["interval"] = list(span) if span is not None else None
                data["remainder_bound"] = bound
                _json(data)
            else:
                out = _stdout()
                _taylor_lines(out, t.explain())
                if span is not None and bound is not None:
                    x = t.variable
                    out.pairs(
                        (f"remainder bound on [{span[0]:g}, {span[1]:g}]: ", None),
                        (f"|f({x}) - p({x})| <= {format_number(bound)}", "bold green"),
                    )
            if beyond:
                Output(sys.stderr).pairs(
                    ("warning: ", "bold yellow"),
                    (
                        f"[{span[0]:g}, {span[1]:g}] reaches beyond the radius of convergence "
                        f"{t.radius:.6g}: there the polynomial is no approximation of f, "
                        "however high its order (the bound holds, but no order makes it small)",
                        None,
                    ),
                )

        if plot is not None:
            if several:
                _save_figure(plot, lambda p: p.tangent_plane(f, about=point))
            else:
                _save_figure(
                    plot,
                    lambda p: p.taylor_polynomials(
                        f, about=point, orders=_plot_orders(n), interval=span, var=variable
                    ),
                )


# -- optimisation ----------------------------------------------------------------------------

EQUATIONS_HELP = (
    'The equation, written f or lhs = rhs (f alone means f = 0); several separated by ";" '
    'make a system, e.g. "x^2 + y^2 = 4; x = y".'
)
X0_HELP = (
    "The start: 1.5 for one variable; 1,2 (variables in order of name) or x=1,y=2 for several."
)
CONSTRAINT_HELP = (
    'An equality constraint, written g (meaning g = 0) or lhs = rhs, e.g. "x + y = 10". '
    "Repeat the option for several."
)
METHOD_HELP = "newton, newton_cg, bfgs (the default) or gradient_descent."
STEP_HELP = (
    "The step of gradient descent: a positive number (fixed) or backtracking (Armijo, the default)."
)
MOMENTUM_HELP = "Heavy-ball momentum of gradient descent, in [0, 1)."
MAXITER_HELP = "The most iterations to take (default: the solver's own)."
MAX_NOTES = 10  # notes printed in full; beyond this the first and last few

X0Opt = Annotated[str, typer.Option("--x0", help=X0_HELP, show_default=False, metavar="POINT")]
ConstraintOpt = Annotated[
    list[str] | None,
    typer.Option("--constraint", "-c", help=CONSTRAINT_HELP, show_default=False, metavar="G"),
]
MaxiterOpt = Annotated[
    int | None,
    typer.Option("--maxiter", help=MAXITER_HELP, show_default=False, min=1, max=100_000),
]


def _equation(text: str, what: str) -> sympy.Expr:
    """``lhs = rhs`` as lhs - rhs; text without '=' is the expression itself (= 0)."""
    if text.count("=") > 1:
        raise UsageProblem(f"{what} {text.strip()!r} has more than one '='; write lhs = rhs")
    lhs, equals, rhs = text.partition("=")
    if not equals:
        return parse(text)
    if not lhs.strip() or not rhs.strip():
        raise UsageProblem(f"{what} {text.strip()!r} needs an expression on each side of '='")
    return parse(lhs) - parse(rhs)


def _unknowns(exprs: Sequence[sympy.Expr]) -> list[sympy.Symbol]:
    """The variables of the expressions together, sorted by name; at least one."""
    xs = variables_of(sympy.Tuple(*exprs))
    if not xs:
        raise UsageProblem(f"{'; '.join(to_text(e) for e in exprs)} has no variables to solve for")
    return xs


def _start(text: str, xs: Sequence[sympy.Symbol]) -> list[float]:
    """The point of ``--x0`` in the order of ``xs``."""
    try:
        point = parse_point(text)
    except UsageProblem as exc:
        raise UsageProblem("--x0" + str(exc).removeprefix("--at")) from None
    names = [str(v) for v in xs]
    if isinstance(point, dict):
        unknown = [n for n in point if n not in names]
        if unknown:
            raise UsageProblem(
                f"--x0 names {', '.join(unknown)}, which is not among the variables "
                f"({', '.join(names)})"
            )
        missing = [n for n in names if n not in point]
        if missing:
            raise UsageProblem(f"--x0 {text!r} gives no value for {', '.join(missing)}")
        return [point[n] for n in names]
    if len(point) != len(names):
        raise UsageProblem(
            f"--x0 {text!r} has {len(point)} number(s), but there "
            f"{'is 1 variable' if len(names) == 1 else f'are {len(names)} variables'}: "
            f"{', '.join(names)} (give them in this order, or by name: "
            f"{','.join(n + '=0' for n in names)})"
        )
    return point


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _step(text: str | None) -> float | str | None:
    if text is None:
        return None
    if text.strip().lower() == "backtracking":
        return "backtracking"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageProblem(f"--step {text!r}: give a positive number or backtracking")
    return value


def _method(text: str | None) -> str | None:
    if text is None:
        return None
    from .optimize import METHODS

    method = text.strip().lower().replace("-", "_")
    if method not in METHODS:
        raise UsageProblem(f"--method {text!r}: choose one of {', '.join(METHODS)}")
    return method


def _strict(data: Any) -> Any:
    """``data`` as strict JSON allows: NaN as null, infinities as "inf" and "-inf"."""
    if isinstance(data, np.ndarray):
        return _strict(data.tolist())
    if isinstance(data, np.generic):
        data = data.item()
    if isinstance(data, float):
        return None if math.isnan(data) else _finite_json(data)
    if isinstance(data, dict):
        return {str(k): _strict(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_strict(v) for v in data]
    if isinstance(data, sympy.Basic):
        return to_text(data)
    return data


def _strict_json(data: Any) -> None:
    sys.stdout.write(json.dumps(_strict(data), allow_nan=False) + "\n")


@contextmanager
def _solving() -> Iterator[None]:
    """Errors reported as by :func:`_reported`; NumPy's overflow warnings of a diverging
    run kept quiet (the verdict says that it diverged)."""
    with _reported(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _numbers(values: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(values, dtype=float)).ravel()


def _point(values: Any, names: Sequence[str]) -> str:
    return ", ".join(
        f"{n} = {format_number(v)}" for n, v in zip(names, _numbers(values), strict=True)
    )


def _multipliers(values: Any) -> str:
    return ", ".join(f"lambda{i} = {format_number(v)}" for i, v in enumerate(_numbers(values), 1))


def _figure_first(plot: Path | None, make: Callable[[Any], Any], failed: bool) -> bool:
    """Draw and save the figure before anything is printed, so that a figure that cannot
    be made is an error (status 2) with no output. After a failed run, a figure that
    cannot be drawn (no finite point) is only noted. Returns whether one was saved."""
    if plot is None:
        return False
    try:
        _write_figure(plot, make)
    except (CalcmlError, ArithmeticError, ValueError) as exc:
        if not failed or isinstance(exc, UsageProblem):
            raise
        _note(f"no figure: {exc}")
        return False
    return True


def _report(out: Output, title: str, r: Any, answers: Sequence[tuple[str, str]]) -> None:
    """The iteration table, the verdict with its message, the answer and the notes."""
    out.line(title, "bold")
    for text in r.table().splitlines():
        out.line(text)
    out.line()
    word, style = ("success", "bold green") if r.success else ("FAILED", "bold red")
    steps = f"{r.nit} iteration{'s' if r.nit != 1 else ''}"
    out.pairs((f"{r.method}: ", None), (word, style), (f" ({r.status}) after {steps}", None))
    out.line(r.message)
    if r.success:
        for label, value in answers:
            out.pairs((label, None), (value, "bold green"))
    elif r.variables and np.all(np.isfinite(_numbers(r.x))):
        out.line(f"last iterate: {_point(r.x, r.variables)}")
    notes = list(r.notes)
    if len(notes) > MAX_NOTES:
        half = MAX_NOTES // 2
        hidden = f"... {len(notes) - 2 * half} more (--json lists them all) ..."
        notes = [*notes[:half], hidden, *notes[-half:]]
    for note in notes:
        out.line(f"note: {note}", "yellow")


def _finish(saved: bool, plot: Path | None, success: bool) -> None:
    if saved:
        _note(f"figure saved to {plot}")
    if not success:
        raise typer.Exit(1)


@app.command("roots")
def roots_command(
    exprs: Annotated[
        str, typer.Argument(help=EQUATIONS_HELP, show_default=False, metavar="EQUATIONS")
    ],
    x0: X0Opt,
    maxiter: MaxiterOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Newton-Raphson on f(x) = 0, or on a system F(x) = 0: the iteration table and the
    verdict (exit status 1 when it finds no root: a cycle, divergence, no real root)."""
    from .optimize import newton_raphson

    with _solving():
        parts = [p for p in exprs.split(";") if p.strip()]
        if not parts:
            raise UsageProblem('give an equation, e.g. "x^2 = 2" or "x^2 + y^2 = 4; x = y"')
        fs = [_equation(p, "the equation") for p in parts]
        xs = _unknowns(fs)
        names = [str(v) for v in xs]
        start = _start(x0, xs)
        _check_figure_path(plot)
        if plot is not None and (len(fs) != 1 or len(xs) != 1):
            raise UsageProblem(
                "--plot draws Newton's tangents for one equation in one variable; this "
                f"has {_count(len(fs), 'equation')} in {_count(len(xs), 'variable')} "
                f"({', '.join(names)})"
            )
        options = {} if maxiter is None else {"maxiter": maxiter}
        if len(fs) == 1 and len(xs) == 1:
            r = newton_raphson(fs[0], start[0], **options)
        else:
            from .function import Function

            r = newton_raphson(Function(fs, variables=names), start, **options)
        saved = _figure_first(plot, lambda p: p.newton_cascade(fs[0], result=r), not r.success)

        if as_json:
            _strict_json({"equations": [to_text(f) for f in fs], **r.to_dict()})
        else:
            system = ", ".join(f"{to_text(f)} = 0" for f in fs)
            title = f"Newton-Raphson on {'the system ' if len(fs) > 1 else ''}{system}"
            out = _stdout()
            fun = _numbers(r.fun)
            residual = (
                f"f({names[0]}) = {format_number(fun[0])}"
                if len(fs) == 1
                else f"max |F| = {format_number(float(np.max(np.abs(fun))))}"
            )
            _report(
                out,
                f"{title}, from {point_text(dict(zip(names, start, strict=True)))}",
                r,
                [("root: " if len(fs) == 1 else "solution: ", _point(r.x, names)), ("", residual)],
            )
        _finish(saved, plot, r.success)


@app.command("minimize")
def minimize_command(
    expr: ExprArg,
    x0: X0Opt,
    method: Annotated[
        str | None, typer.Option("--method", "-m", help=METHOD_HELP, show_default=False)
    ] = None,
    step: Annotated[
        str | None, typer.Option("--step", help=STEP_HELP, show_default=False, metavar="S")
    ] = None,
    momentum: Annotated[
        float | None, typer.Option("--momentum", help=MOMENTUM_HELP, show_default=False)
    ] = None,
    constraint: ConstraintOpt = None,
    maxiter: MaxiterOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Minimise EXPR from --x0 by Newton, BFGS or gradient descent; with --constraint,
    subject to equality constraints (SQP), printing the multipliers. Exit status 1 when
    the method fails (divergence, too many iterations)."""
    from .optimize import minimize

    with _solving():
        f = parse(expr)
        gs = [_equation(c, "--constraint") for c in constraint or []]
        xs = _unknowns([f, *gs])
        names = [str(v) for v in xs]
        start = _start(x0, xs)
        chosen = _method(method)
        fixed = _step(step)
        if gs and (chosen is not None or fixed is not None or momentum is not None):
            raise UsageProblem(
                "with --constraint, minimize uses SQP (Newton on the Lagrange "
                "conditions): leave out --method, --step and --momentum"
            )
        chosen = chosen or "bfgs"
        if chosen != "gradient_descent" and (fixed is not None or momentum is not None):
            raise UsageProblem(
                f"--step and --momentum are options of --method gradient_descent, not of {chosen}"
            )
        _check_figure_path(plot)
        if plot is not None and (len(xs) != 2 or len(gs) > 1):
            raise UsageProblem(
                "--plot draws functions of two variables with at most one constraint; "
                f"this has {_count(len(xs), 'variable')} ({', '.join(names)}) and "
                f"{_count(len(gs), 'constraint')}"
            )
        options: dict[str, Any] = {"maxiter": maxiter}
        if fixed is not None:
            options["step"] = fixed
        if momentum is not None:
            options["momentum"] = momentum
        if gs:
            r = minimize(f, start, constraints=gs, **options)
        else:
            r = minimize(f, start, method=chosen, **options)

        def draw(p: Any) -> Any:
            if gs:
                return p.lagrange_picture(f, gs[0], result=r)
            return p.descent_paths(f, results=[r])

        saved = _figure_first(plot, draw, not r.success)

        if as_json:
            _strict_json(
                {"function": to_text(f), "constraints": [to_text(g) for g in gs], **r.to_dict()}
            )
        else:
            title = f"minimise f = {to_text(f)}"
            if gs:
                title += " subject to " + ", ".join(f"{to_text(g)} = 0" for g in gs)
            title += f", from {point_text(dict(zip(names, start, strict=True)))}"
            answers = [("minimum at ", _point(r.x, names)), ("", f"f = {format_number(r.fun)}")]
            if gs:
                answers.append(
                    (
                        "multipliers (grad f = sum lambda_i grad g_i): ",
                        _multipliers(r.multipliers),
                    )
                )
            _report(_stdout(), title, r, answers)
        _finish(saved, plot, r.success)


def _exact(value: Any) -> str:
    """An exact value as text, with its decimal value when it is not a plain fraction."""
    text = to_text(value)
    if not isinstance(value, sympy.Basic) or value.is_Rational or value.free_symbols:
        return text
    number = _float_or_none(value)
    return text if number is None else f"{text} ≈ {format_number(number)}"


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@app.command("lagrange")
def lagrange_command(
    expr: ExprArg,
    constraint: ConstraintOpt = None,
    x0: Annotated[
        str | None,
        typer.Option(
            "--x0",
            help=X0_HELP + " With it, one point is found numerically; without, all exactly.",
            show_default=False,
            metavar="POINT",
        ),
    ] = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """The constrained stationary points of EXPR on the constraints (Lagrange multipliers,
    grad f = sum lambda_i grad g_i): all of them exactly, or one from --x0. Exit status 1
    when there are none, or the numerical search fails."""
    from .optimize import lagrange

    with _solving():
        f = parse(expr)
        gs = [_equation(c, "--constraint") for c in constraint or []]
        if not gs:
            raise UsageProblem(
                'give a constraint with --constraint, e.g. --constraint "x + y = 10"'
            )
        xs = _unknowns([f, *gs])
        names = [str(v) for v in xs]
        start = _start(x0, xs) if x0 is not None else None
        _check_figure_path(plot)
        if plot is not None and (len(xs) != 2 or len(gs) != 1):
            raise UsageProblem(
                "--plot draws one constraint on a function of two variables; this has "
                f"{_count(len(gs), 'constraint')} and {_count(len(xs), 'variable')} "
                f"({', '.join(names)})"
            )
        lams = [f"lambda{i}" for i in range(1, len(gs) + 1)]
        subject = ", ".join(f"{to_text(g)} = 0" for g in gs)
        if start is not None:
            r = lagrange(f, gs, x0=start, variables=names)
            saved = _figure_first(
                plot, lambda p: p.lagrange_picture(f, gs[0], result=r), not r.success
            )
            if as_json:
                _strict_json(
                    {"function": to_text(f), "constraints": [to_text(g) for g in gs], **r.to_dict()}
                )
            else:
                _report(
                    _stdout(),
                    f"Lagrange: f = {to_text(f)} subject to {subject}, from "
                    f"{point_text(dict(zip(names, start, strict=True)))}",
                    r,
                    [
                        ("constrained stationary point: ", _point(r.x, names)),
                        ("", f"f = {format_number(r.fun)}"),
                        ("multipliers: ", _multipliers(r.multipliers)),
                    ],
                )
            _finish(saved, plot, r.success)
            return

        points = lagrange(f, gs, variables=names)
        saved = bool(points) and _figure_first(
            plot, lambda p: p.lagrange_picture(f, gs[0], result=points), False
        )
        if as_json:
            _strict_json(
                {
                    "kind": "lagrange",
                    "function": to_text(f),
                    "constraints": [to_text(g) for g in gs],
                    "variables": names,
                    "points": [
                        {
                            "x": {n: to_text(v) for n, v in p.x.items()},
                            "x_numeric": {n: _float_or_none(v) for n, v in p.x.items()},
                            "fun": to_text(p.fun),
                            "fun_numeric": _float_or_none(p.fun),
                            "multipliers": [to_text(m) for m in p.multipliers],
                            "multipliers_numeric": [_float_or_none(m) for m in p.multipliers],
                        }
                        for p in points
                    ],
                }
            )
        else:
            out = _stdout()
            out.line(f"Lagrange: f = {to_text(f)} subject to {subject}", "bold")
            rule = " + ".join(f"{lam} grad g{i}" for i, lam in enumerate(lams, 1))
            out.line(f"solving grad f = {rule} with g = 0 exactly")
            if points:
                cells = [
                    [*(_exact(p.x[n]) for n in names), _exact(p.fun), *map(_exact, p.multipliers)]
                    for p in points
                ]
                count = len(points)
                out.matrix(
                    f"{count} constrained stationary point{'s' if count != 1 else ''}",
                    cells,
                    [str(i) for i in range(1, count + 1)],
                    [*names, "f", *lams],
                    numeric=True,
                )
            else:
                out.line(
                    "no isolated real solutions: the Lagrange equations have none (or only "
                    "whole curves of them); try --x0 for a numerical search",
                    "bold red",
                )
        if plot is not None and not points:
            _note("no figure: there are no points to draw")
        _finish(saved, plot, bool(points))


@app.command("stationary")
def stationary_command(expr: ExprArg, as_json: JsonOpt = False) -> None:
    """The exact stationary points of EXPR (grad f = 0), each classified by the
    eigenvalues of its Hessian: minimum, maximum, saddle or degenerate. Exit status 1
    when there are none."""
    from .optimize import stationary_points

    with _solving():
        f = parse(expr)
        xs = _unknowns([f])
        names = [str(v) for v in xs]
        grad = [sympy.diff(f, v) for v in xs]
        points = stationary_points(f, variables=names)
        if as_json:
            _strict_json(
                {
                    "kind": "stationary_points",
                    "function": to_text(f),
                    "variables": names,
                    "gradient": [to_text(g) for g in grad],
                    "points": [
                        {
                            "point": {n: to_text(v) for n, v in p.point.items()},
                            "point_numeric": {n: _float_or_none(v) for n, v in p.point.items()},
                            "value": to_text(p.value),
                            "value_numeric": _float_or_none(p.value),
                            "kind": p.kind,
                            "eigenvalues": list(p.eigenvalues),
                        }
                        for p in points
                    ],
                }
            )
        else:
            out = _stdout()
            out.line(f"stationary points of f = {to_text(f)}", "bold")
            out.line(f"grad f = ({', '.join(to_text(g) for g in grad)}) = 0")
            if points:
                cells = [
                    [
                        *(_exact(p.point[n]) for n in names),
                        _exact(p.value),
                        p.kind,
                        ", ".join(format_number(e) for e in p.eigenvalues) or "-",
                    ]
                    for p in points
                ]
                count = len(points)
                out.matrix(
                    f"{count} stationary point{'s' if count != 1 else ''}",
                    cells,
                    [str(i) for i in range(1, count + 1)],
                    [*names, "f", "kind", "Hessian eigenvalues"],
                    numeric=[True] * (len(names) + 1) + [False, False],
                )
            else:
                out.line("no stationary points: grad f = 0 has no real solution", "bold red")
        if not points:
            raise typer.Exit(1)


# -- regression ------------------------------------------------------------------------------

DATA_HELP = "A CSV file whose first line names the columns, e.g. x,y,sigma."
MODEL_HELP = (
    "The model: y as a function of x (or of the x columns' names) and parameters, e.g. "
    '"b1*(1-exp(-b2*x))".'
)
P0_HELP = "The starting values: b1=500,b2=1e-4 (by name) or 500,1e-4 (parameters in order of name)."
SIGMA_HELP = "The column of standard deviations of y (or one number for every point)."
X_HELP = (
    "The column of x, or the columns x1,x2 of several variables (default: the columns the "
    "model names, else x, else the first column)."
)
Y_HELP = "The column of y (default: y, else the first column that is not x)."
FIT_METHOD_HELP = "lm (Levenberg-Marquardt, the default), gauss_newton or gradient_descent."
P0_EXAMPLE = "write it as b1=500,b2=1e-4 (by name) or 500,1e-4 (in order of name)"


def parse_p0(text: str) -> dict[str, float] | list[float]:
    """Read ``--p0``: ``b1=500,b2=1e-4`` gives a dict, ``500,1e-4`` a list (plain float()).

    >>> parse_p0("b1=500, b2=1e-4")
    {'b1': 500.0, 'b2': 0.0001}
    >>> parse_p0("500,1e-4")
    [500.0, 0.0001]
    """
    items = split_items(text, "--p0", P0_EXAMPLE, what="value", kind="parameter")
    if items and isinstance(items[0], str):
        return [_number(item, "--p0", text, P0_EXAMPLE) for item in items]  # type: ignore[arg-type]
    return {name: _number(value, "--p0", text, P0_EXAMPLE) for name, value in items}


FIT_METHODS = ("lm", "gauss_newton", "gradient_descent")


def _fit_method(text: str | None) -> str:
    if text is None:
        return "lm"
    method = text.strip().lower().replace("-", "_")
    method = {"levenberg_marquardt": "lm", "gn": "gauss_newton", "gd": "gradient_descent"}.get(
        method, method
    )
    if method not in FIT_METHODS:
        raise UsageProblem(f"--method {text!r}: choose one of {', '.join(FIT_METHODS)}")
    return method


def _by_name(names: Any) -> list[str]:
    """Names sorted as people count: b2 before b10."""
    return sorted(
        names, key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)]
    )


def _columns_option(text: str, option: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise UsageProblem(f"{option} {text!r}: an empty column name")
    if len(set(names)) != len(names):
        raise UsageProblem(f"{option} {text!r}: a column is named twice")
    return names


@dataclass
class _FitData:
    """The columns chosen for a fit: x (the columns and the model's names for them), y
    and sigma (a column name, a number, or None)."""

    x_columns: list[str]
    x_names: list[str]
    y_column: str
    sigma: str | float | None

    def describe(self) -> str:
        xs = ", ".join(
            f"column {c}" + (f" (as {n})" if n != c else "")
            for c, n in zip(self.x_columns, self.x_names, strict=True)
        )
        if isinstance(self.sigma, str):
            sigma = f"sigma from column {self.sigma}"
        elif self.sigma is not None:
            sigma = f"sigma = {format_number(self.sigma)} for every point"
        else:
            sigma = "no sigma (errors scaled by the residual variance)"
        return f"x from {xs}; y from column {self.y_column}; {sigma}"


def _fit_columns(
    table: Any, model_names: set[str], x: str | None, y: str | None, sigma: str | None
) -> _FitData:
    """Which columns are x, y and sigma: the options, else the defaults (see X_HELP)."""
    sigma_value: str | float | None = None
    if sigma is not None:
        sigma_value = sigma.strip()
        if sigma_value not in table:
            try:
                sigma_value = float(sigma_value)
            except ValueError:
                table.check(sigma_value, "--sigma")  # not a column, not a number: say so
            if not (math.isfinite(sigma_value) and sigma_value > 0):
                raise UsageProblem(f"--sigma {sigma!r}: a standard deviation must be positive")
    taken = {sigma_value} if isinstance(sigma_value, str) else set()
    y_column = table.check(y.strip(), "--y") if y is not None else ("y" if "y" in table else None)
    if y_column is not None:
        taken.add(y_column)
    if x is not None:
        x_columns = [table.check(c, "--x") for c in _columns_option(x, "--x")]
    else:
        free = [c for c in table.names if c not in taken]
        named = [c for c in free if c in model_names]
        x_columns = named or (["x"] if "x" in free else free[:1])
    if not x_columns:
        raise UsageProblem(
            f"{table.source} has no column left for x (its columns: {', '.join(table.names)})"
        )
    if y_column is None:
        rest = [c for c in table.names if c not in taken and c not in x_columns]
        if not rest:
            raise UsageProblem(
                f"{table.source} has no column left for y (its columns: "
                f"{', '.join(table.names)}); name it with --y"
            )
        y_column = rest[0]
    clash = [c for c in x_columns if c in (y_column, sigma_value)]
    if clash:
        raise UsageProblem(f"column {clash[0]} cannot be both x and y (or sigma)")
    if sigma_value == y_column:
        raise UsageProblem(f"column {y_column} cannot be both y and sigma")
    return _FitData(x_columns, _x_names(x_columns, model_names), y_column, sigma_value)


def _x_names(columns: list[str], model_names: set[str]) -> list[str]:
    """The model's names for the x columns: their own, or x (one column), or x1, x2, ..."""
    if any(c in model_names for c in columns):
        return columns
    if len(columns) == 1 and "x" in model_names:
        return ["x"]
    numbered = _by_name(n for n in model_names if re.fullmatch(r"x\d+", n))
    if len(numbered) == len(columns):
        return numbered
    raise UsageProblem(
        f"the model uses none of the x column(s) {', '.join(columns)}: write it in x (or "
        f"in the columns' names), or choose the columns with --x; the model's names are "
        f"{', '.join(_by_name(model_names))}"
    )


def _fit_words(message: str) -> str:
    """Library messages about p0 speak Python; on the command line it is --p0."""
    return re.sub(r"^p0 ", "--p0 ", message)


def _fit_report(out: Output, report: str) -> None:
    section = ""
    for text in report.splitlines():
        if text.startswith("[[Fit]]"):
            head, _, verdict = text.rpartition(": ")
            style = "bold green" if verdict == "success" else "bold red"
            out.pairs((head + ": ", "bold"), (verdict, style))
        elif text.startswith("[["):
            section = text
            out.line(text, "bold")
        else:
            out.line(text, "yellow" if section.startswith("[[Warnings]]") else None)


@app.command("fit")
def fit_command(
    data: Annotated[Path, typer.Argument(help=DATA_HELP, show_default=False, metavar="DATA.csv")],
    model: Annotated[
        str | None, typer.Option("--model", help=MODEL_HELP, show_default=False, metavar="MODEL")
    ] = None,
    p0: Annotated[
        str | None, typer.Option("--p0", help=P0_HELP, show_default=False, metavar="b1=V,b2=V")
    ] = None,
    sigma: Annotated[
        str | None, typer.Option("--sigma", help=SIGMA_HELP, show_default=False, metavar="COL")
    ] = None,
    x: Annotated[
        str | None, typer.Option("--x", help=X_HELP, show_default=False, metavar="COL")
    ] = None,
    y: Annotated[
        str | None, typer.Option("--y", help=Y_HELP, show_default=False, metavar="COL")
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", "-m", help=FIT_METHOD_HELP, show_default=False)
    ] = None,
    maxiter: MaxiterOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Fit a model to the data of a CSV file by least squares and print the report: the
    parameters with their standard errors, chi-squared, its p-value (with --sigma), R^2,
    correlations and warnings. Exit status 1 when the fit fails."""
    from .data import read_csv
    from .fit import fit

    with _solving():
        if model is None or not model.strip():
            raise UsageProblem('give the model with --model, e.g. --model "b1*(1-exp(-b2*x))"')
        expr = parse(model)
        model_names = {str(s) for s in expr.free_symbols}
        chosen = _fit_method(method)
        _check_figure_path(plot)
        table = read_csv(data)
        columns = _fit_columns(table, model_names, x, y, sigma)
        if p0 is None:
            params = _by_name(model_names - set(columns.x_names))
            example = ",".join(f"{n}=1" for n in params) or "b1=1"
            raise UsageProblem(
                f"give starting values of the parameters with --p0, e.g. --p0 {example} "
                f"(the model's parameters: {', '.join(params) or 'none'})"
            )
        start = parse_p0(p0)
        unplaced = [
            n
            for n in _by_name(model_names - set(columns.x_names))
            if n in table and not (isinstance(start, dict) and n in start)
        ]
        if unplaced:
            raise UsageProblem(
                f"the model uses {unplaced[0]}, a column of {table.source} that is not an x "
                f"column ({', '.join(columns.x_columns)}): add it to --x (or, if it is a "
                "parameter, give its starting value with --p0)"
            )
        xs = {
            name: table.column(c)
            for c, name in zip(columns.x_columns, columns.x_names, strict=True)
        }
        ys = table.column(columns.y_column)
        s = columns.sigma
        sigma_values = table.column(s) if isinstance(s, str) else s
        try:
            r = fit(expr, xs, ys, p0=start, sigma=sigma_values, method=chosen, maxiter=maxiter)
        except CalcmlError as exc:
            raise UsageProblem(_fit_words(str(exc))) from None
        saved = _figure_first(
            plot,
            lambda p: p.fit_result(
                r,
                xlabel=columns.x_columns[0] if len(columns.x_columns) == 1 else None,
                ylabel=columns.y_column,
            ),
            not r.success,
        )
        if as_json:
            _strict_json(r.to_dict())
        else:
            out = _stdout()
            out.line(f"data: {data}, {len(table)} rows; {columns.describe()}", "dim")
            _fit_report(out, r.report())
        _finish(saved, plot, r.success)


# -- neural networks -------------------------------------------------------------------------

nn_app = typer.Typer(
    name="nn",
    help="Neural networks on calcml's own backpropagation: worked demos.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(nn_app, name="nn")

DEMO_HELP = (
    "curve (a 1-6-7-2 sigmoid network learns to draw a closed curve from one input) or "
    "digits (a 64-32-10 network reads scikit-learn's handwritten digits; needs scikit-learn)."
)
MAX_EPOCHS = 100_000


def _demo_options(name: str, epochs: int | None, seed: int) -> dict[str, Any]:
    from .nn.demos import DEMOS

    if name not in DEMOS:
        raise UsageProblem(f"unknown demo {name!r}: the demos are {', '.join(DEMOS)}")
    if epochs is not None and not 1 <= epochs <= MAX_EPOCHS:
        raise UsageProblem(f"--epochs {epochs}: give a whole number from 1 to {MAX_EPOCHS:,}")
    if seed < 0:
        raise UsageProblem(f"--seed {seed}: give a whole number >= 0")
    options: dict[str, Any] = {"seed": seed}
    if epochs is not None:
        options["epochs"] = epochs
    return options


def demo_summary(name: str, demo: Any) -> dict[str, Any]:
    """What ``calcml nn demo NAME --json`` prints: the network, its training and how
    well it did, read from the demo (no figure of it is recomputed)."""
    net, history = demo.net, demo.history
    data: dict[str, Any] = {
        "demo": name,
        "sizes": net.sizes,
        "activations": [layer.activation for layer in net.layers],
        "parameters": net.n_parameters,
        "seed": net.seed,
        "epochs": history.epochs,
        "optimizer": history.optimizer,
        "lr": history.lr,
        "batch_size": history.batch_size,
        "first_loss": history.loss[0],
        "last_loss": history.loss[-1],
    }
    if name == "curve":
        data["points"] = len(demo.t)
        data["rms_error"] = demo.rms_error
    else:
        data["test_loss"] = history.val_loss[-1] if history.val_loss else None
        data["n_test"] = len(demo.y_test)
        data["accuracy"] = demo.accuracy
        data["confusion"] = demo.confusion.tolist()
    return data


def _demo_report(out: Output, name: str, demo: Any, data: dict[str, Any]) -> None:
    history = demo.history
    sizes = "-".join(str(s) for s in data["sizes"])
    acts = data["activations"]
    if name == "curve":
        out.line(
            f"curve demo: a {sizes} {acts[0]} network learns to draw a closed curve (a heart) "
            "from one input t",
            "bold",
        )
    else:
        out.line(
            f"digits demo: a {sizes} network ({acts[0]} hidden layer, {acts[-1]} output) "
            "reads 8x8 handwritten digits",
            "bold",
        )
    out.line(f"network: {sizes}, {data['parameters']} weights and biases, seed {data['seed']}")
    batches = (
        f"full batch of {data['points']} points"
        if name == "curve"
        else f"batches of {history.batch_size}"
    )
    out.line(
        f"training: {history.epochs} epochs of {history.optimizer} (lr {history.lr:g}), "
        f"{batches}, {history.seconds:.1f} s"
    )
    first, last = data["first_loss"], data["last_loss"]
    loss_name = "mean squared error" if name == "curve" else "cross-entropy"
    fall = f" ({first / last:.3g} times smaller)" if last > 0 else ""
    out.line(
        f"loss ({loss_name}): {first:.4g} at epoch 1 -> {last:.4g} at epoch {history.epochs}{fall}"
    )
    if name == "curve":
        low, high = float(np.min(demo.target)), float(np.max(demo.target))
        out.pairs(
            ("rms error of the drawn points: ", None),
            (f"{data['rms_error']:.4g}", "bold green"),
            (f" (the target curve lies within {low:g} to {high:g} on each axis)", None),
        )
        return
    if data["test_loss"] is not None:
        out.line(f"test loss: {data['test_loss']:.4g}")
    right = int(np.trace(demo.confusion))
    out.pairs(
        ("test accuracy: ", None),
        (f"{100 * data['accuracy']:.1f} %", "bold green"),
        (f" ({right} of {data['n_test']} images held out from training)", None),
    )
    out.line()
    labels = [str(k) for k in range(len(data["confusion"]))]
    out.matrix(
        "confusion matrix (rows: the true digit, columns: the digit read)",
        [[str(v) for v in row] for row in data["confusion"]],
        labels,
        labels,
        numeric=True,
    )


@nn_app.command("demo")
def nn_demo_command(
    name: Annotated[str, typer.Argument(help=DEMO_HELP, show_default=False, metavar="NAME")],
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs", "-e", help="Epochs of training (default: the demo's).", show_default=False
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="The seed of the weights (and of the split).")
    ] = 0,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar on stderr.")
    ] = True,
) -> None:
    """Train a worked demo, curve or digits, and print what it learned.

    curve: a 1-6-7-2 sigmoid network learns to draw a closed curve from one input (--plot
    draws the curve as it is learned, and the loss). digits: a 64-32-10 network learns to
    read scikit-learn's handwritten digits (--plot draws the loss and the confusion
    matrix). Exit status 2 for an unknown demo, or digits without scikit-learn.
    """
    from .nn.demos import run_demo

    with _reported():
        options = _demo_options(name, epochs, seed)
        _check_figure_path(plot)
        demo = run_demo(name, progress=progress, **options)
        if plot is not None:
            make = (
                (lambda p: p.curve_learning(demo))
                if name == "curve"
                else (lambda p: p.digits_learning(demo))
            )
            _write_figure(plot, make)
        data = demo_summary(name, demo)
        if as_json:
            _strict_json(data)
        else:
            _demo_report(_stdout(), name, demo, data)
        if plot is not None:
            _note(f"figure saved to {plot}")


@app.command("tour")
def tour_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="The folder for the figures (created if missing).", file_okay=False
        ),
    ] = DEFAULT_OUT,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Draw and save figures.")
    ] = True,
) -> None:
    """A guided tour of the syllabus so far, on built-in examples, with figures."""
    from .tour import run_tour

    if plots:
        os.environ.setdefault("MPLBACKEND", "Agg")
    stdout = _stdout()

    def echo(text: str) -> None:
        if text.startswith("== "):
            stdout.line(text, "bold magenta")
        elif text.startswith("-- "):
            stdout.line(text, "bold")
        else:
            stdout.line(text)

    with _reported():
        run_tour(out, plots=plots, echo=echo)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"calcml {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Multivariate calculus for machine learning: derivatives that explain themselves."""


def main() -> None:
    """The console script ``calcml``."""
    app()


if __name__ == "__main__":
    main()
