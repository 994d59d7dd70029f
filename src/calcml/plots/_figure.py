"""Shared plumbing of the figures: sampling a function on a grid, masking what cannot be
drawn, choosing readable limits and labels.

Everything here is about display, not mathematics: values come from
:func:`calcml.symbolic.compile.compile_expr` (or the user's callable), and are only masked,
clipped and labelled. Figures are built with the object-oriented API
(:class:`matplotlib.figure.Figure`), so no global pyplot state is touched and no display
is needed.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser

from ..errors import CalcmlError
from ..expr import to_latex, to_text
from ..symbolic.compile import compile_expr
from ..symbolic.inputs import as_expr

_MATHTEXT = MathTextParser("path")


def new_figure(width: float = 7.0, height: float = 5.0) -> Figure:
    """A figure with constrained layout, not attached to pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def figure_and_axes(ax: Any, width: float, height: float) -> tuple[Figure, Any, bool]:
    """The figure and axes to draw in: the caller's ``ax``, or new ones (then ``True``)."""
    if ax is not None:
        return ax.get_figure(), ax, False
    fig = new_figure(width, height)
    return fig, fig.subplots(), True


def set_title(fig: Figure, title: str | None, default: str) -> None:
    """The figure's title: ``title`` if given (an empty string means none), else ``default``."""
    text = default if title is None else title
    if text:
        fig.suptitle(text, fontsize=13)


def check_range(limits: Sequence[float], name: str) -> tuple[float, float]:
    """A finite, increasing ``(low, high)`` pair, or a ``CalcmlError``."""
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise CalcmlError(f"{name} must be a pair (low, high) of numbers, not {limits!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise CalcmlError(f"{name} must be finite with low < high, not {limits!r}")
    return low, high


def expression_or_none(f: Any) -> sympy.Expr | None:
    """The SymPy expression of ``f`` (text or SymPy), or None for a Python callable."""
    if callable(f) and not isinstance(f, sympy.Basic):
        return None
    return as_expr(f)


def sampler(f: Any, variables: Sequence[str | sympy.Symbol]) -> Callable[..., np.ndarray]:
    """A vectorised evaluator of ``f``: compiled for an expression, looped for a callable.

    Where ``f`` is undefined the value is NaN (masked later), never an exception.
    """
    expr = expression_or_none(f)
    if expr is None:
        return np.vectorize(lambda *xs: _safe_call(f, *xs), otypes=[float])
    return compile_expr(expr, list(variables))


def _safe_call(f: Callable[..., Any], *xs: float) -> float:
    try:
        with np.errstate(all="ignore"):
            return float(f(*xs))
    except (ArithmeticError, ValueError, TypeError):
        return math.nan


def robust_limits(
    *samples: np.ndarray, margin: float = 0.08, include: Sequence[float] = ()
) -> tuple[float, float]:
    """Limits that show every sampled curve or surface, except the spikes of poles.

    Each array holds samples in order along its last axis. A side of the range is cut
    back only when its extreme sample is a spike, far beyond its neighbours (as next to a
    pole, where 1/x leaps from 40 to 120 in one step), not for a smooth peak. The cut
    keeps the central 80 % of the values and 1.5 times their width on that side. (A smooth
    peak only a sample or two wide looks like a pole, and is cut too.) Finite
    values in ``include`` (marked points) are always shown.
    """
    ranges = [_limits_of(np.asarray(values, dtype=float)) for values in samples]
    ranges += [(float(v), float(v)) for v in include if math.isfinite(v)]
    ranges = [r for r in ranges if r is not None]
    if not ranges:
        return -1.0, 1.0
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    if high - low < 1e-12 * max(1.0, abs(high)):
        pad = max(1.0, abs(high) * 0.1)
        return low - pad, high + pad
    pad = margin * (high - low)
    return low - pad, high + pad


def _limits_of(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    low, high = float(finite.min()), float(finite.max())
    p10, p90 = (float(v) for v in np.percentile(finite, [10, 90]))
    span = p90 - p10
    if _spike(values) and span > 0:
        high = min(high, p90 + 1.5 * span)
    if _spike(-values) and span > 0:
        low = max(low, p10 - 1.5 * span)
    return low, high


def _spike(values: np.ndarray) -> bool:
    """Whether the largest sample stands far above the samples two steps away on each side
    (along the last axis). Two steps, because a pole between two samples makes a pair of
    equally huge twins; a smooth peak barely changes over two steps."""
    rows = np.atleast_2d(np.where(np.isfinite(values), values, -np.inf))
    r, c = np.unravel_index(int(np.argmax(rows)), rows.shape)
    top = rows[r, c]
    beside = [rows[r, j] for j in (c - 2, c + 2) if 0 <= j < rows.shape[1]]
    beside = [v for v in beside if np.isfinite(v)]
    if not np.isfinite(top) or not beside:
        return False
    median = float(np.median(rows[np.isfinite(rows)]))
    return bool(top - max(beside) > 0.25 * (top - median))


def curve(values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """Values ready to draw as a line: non-finite values masked, and the line broken where
    it leaps across the whole view in one sample (a pole such as tan's), so that no
    vertical segment joins +big to -big. Values beyond the limits are kept (and clipped
    by the axes), so a curve runs off the edge instead of stopping short of it."""
    y = np.array(values, dtype=float)
    span, middle = limits[1] - limits[0], (limits[0] + limits[1]) / 2
    side = np.sign(y - middle)
    leap = np.zeros(y.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        leap[1:] = (np.abs(np.diff(y)) > span) & (side[1:] != side[:-1])
    y[leap] = np.nan
    return np.ma.masked_invalid(y)


def math_label(
    expr: sympy.Expr | None, name: str, fallback: str = "f", max_width: float = 420.0
) -> str:
    """``$name = LaTeX$`` for a legend, or plain text (wrapped) when mathtext cannot show
    it or it would be wider than ``max_width`` points."""
    if expr is None:
        return fallback
    latex = f"${name} = {to_latex(expr)}$".replace(r"\frac", r"\dfrac")  # readable size
    try:
        if _MATHTEXT.parse(latex, dpi=72).width <= max_width:
            return latex
    except ValueError:
        pass
    text = f"{name} = {to_text(expr)}"
    return textwrap.fill(
        text, width=int(max_width / 5.5), subsequent_indent="    ", max_lines=4, placeholder=" …"
    )


def function_name(f: Any, expr: sympy.Expr | None) -> str:
    """How a title names the function: its formula, or a callable's name."""
    if expr is not None:
        text = to_text(expr)
        return text if len(text) <= 60 else text[:59] + "…"
    name = getattr(f, "__name__", "")
    return name if name.isidentifier() else "f"
