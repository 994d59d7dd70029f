"""Figures: what calcml computes, drawn with matplotlib.

This is presentation: every function here takes what the lower layers compute
(:func:`calcml.numeric.secant_slopes`, :func:`calcml.derivative`, :func:`calcml.gradient`,
:func:`calcml.taylor`, :func:`calcml.fit`, compiled expressions) and returns a
:class:`matplotlib.figure.Figure`. Figures are built with the object-oriented API, so
they need no display and leave pyplot's global state alone; show one in Jupyter by
leaving it as the last value of a cell, or write it with :func:`save`.

>>> import tempfile, pathlib
>>> from calcml import plots
>>> fig = plots.function_and_derivative("sin(x)")
>>> path = plots.save(fig, pathlib.Path(tempfile.mkdtemp()) / "sin.png")
>>> path.read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from matplotlib.figure import Figure

from .fit import chi2_landscape, fit_result
from .graph import computation_graph
from .nn import confusion_matrix, curve_learning, digits_learning, neuron_landscape, training_loss
from .optimize import descent_paths, lagrange_picture, newton_cascade
from .secant import function_and_derivative, secant
from .step_error import step_error
from .surfaces import contour_gradient, surface
from .taylor import linearisation_error, tangent_plane, taylor_error_vs_order, taylor_polynomials

__all__ = [
    "chi2_landscape",
    "computation_graph",
    "confusion_matrix",
    "contour_gradient",
    "curve_learning",
    "descent_paths",
    "digits_learning",
    "fit_result",
    "function_and_derivative",
    "lagrange_picture",
    "linearisation_error",
    "neuron_landscape",
    "newton_cascade",
    "save",
    "secant",
    "step_error",
    "surface",
    "tangent_plane",
    "taylor_error_vs_order",
    "taylor_polynomials",
    "training_loss",
]

DPI = 120


def save(fig: Figure, path: str | PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png, .svg, .pdf ...).

    Parent folders are created as needed; the figure is cropped to its contents
    (``bbox_inches="tight"``) at 120 dpi.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure, e.g. from :func:`secant`.
    path : str or path-like
        Where to write it.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from calcml import plots
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "figs" / "x2.png"
    >>> plots.save(plots.secant("x^2", 1), out).stat().st_size > 0
    True
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=DPI, bbox_inches="tight")
    return target
