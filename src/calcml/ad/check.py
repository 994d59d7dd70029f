"""Checking derivatives: the engine against finite differences, along random directions.

:func:`check_grad` answers "can I trust this gradient?" for a scalar function of one or
more arrays. Along a few random unit directions v it computes the directional derivative
three independent ways: reverse mode (the gradient dotted with v), forward mode (one JVP
along v) and a central finite difference of t -> f(x + t v), which only evaluates f. The
three agree when every derivative rule used is right; a wrong rule shows up as a large
discrepancy. Random directions test every argument at once, in a handful of calls,
however many entries the arrays have.

The finite difference is self-contained here (a central difference with one Richardson
step), so the check does not depend on the code it is used to test.

>>> import numpy as np, calcml.numpy as cnp
>>> from calcml.ad.check import check_grad
>>> check_grad(lambda w, x: cnp.sum(cnp.tanh(w * x)), np.ones(3), np.arange(3.0)).ok
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .core import check_array_input, value_of
from .transforms import grad, jvp

__all__ = ["GradCheck", "check_grad"]

_EPS = float(np.finfo(float).eps)
# Step of the central difference, relative to the size of the point: with one
# Richardson step the error is O(h^4) from truncation and about 3 eps |f| / h from
# rounding, both near 1e-12 for well-scaled functions.
_RELATIVE_STEP = 1e-3


@dataclass
class GradCheck:
    """The report of :func:`check_grad`: directional derivatives three ways.

    Attributes
    ----------
    reverse, forward, numeric : numpy.ndarray
        For each direction v: grad(f) . v (reverse mode), the JVP along v (forward mode)
        and the central finite difference along v.
    discrepancy : numpy.ndarray
        For each direction, the largest relative difference between the three values
        (differences below what finite differences can resolve count as zero).
    ok : bool
        Whether every discrepancy is at most ``rtol``.
    rtol : float
        The tolerance used.
    step : float
        The finite-difference step along the unit directions.
    value : float
        f at the point.
    directions : list of tuple of numpy.ndarray
        The unit directions used (one array per argument).
    """

    reverse: np.ndarray
    forward: np.ndarray
    numeric: np.ndarray
    discrepancy: np.ndarray
    ok: bool
    rtol: float
    step: float
    value: float
    directions: list[tuple[Any, ...]]

    @property
    def max_discrepancy(self) -> float:
        """The largest discrepancy over all directions."""
        return float(np.max(self.discrepancy))

    def _rows(self) -> list[list[str]]:
        rows = []
        for k in range(len(self.reverse)):
            values = (self.reverse[k], self.forward[k], self.numeric[k])
            flag = "ok" if self.discrepancy[k] <= self.rtol else "MISMATCH"
            rows.append(
                [str(k + 1), *(f"{v:.10g}" for v in values), f"{self.discrepancy[k]:.1e}", flag]
            )
        return rows

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH: a derivative rule disagrees"
        head = ["dir", "reverse (grad.v)", "forward (jvp)", "finite diff.", "discrepancy", ""]
        table = [head, *self._rows()]
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]
        lines = [
            f"check_grad: {len(self.reverse)} random direction(s), rtol {self.rtol:g}, "
            f"step {self.step:.3g}: {verdict}"
        ]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in table]
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        text = str(self).replace("&", "&amp;").replace("<", "&lt;")
        return f"<pre>{text}</pre>"


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    directions: int = 3,
    rtol: float = 1e-6,
    seed: int = 0,
) -> GradCheck:
    """Compare reverse mode, forward mode and finite differences along random directions.

    A report, not an assertion: a mismatch gives ``ok=False``, never an exception.

    Parameters
    ----------
    f : callable
        A scalar-valued function of numbers and arrays, written with :mod:`calcml.numpy`.
    *args : float or array_like
        The point; every argument is perturbed and differentiated.
    directions : int, optional
        How many random unit directions to try (jointly over all arguments).
    rtol : float, optional
        Largest relative discrepancy still counted as agreement.
    seed : int, optional
        Seed of the random directions, for reproducible reports.

    Returns
    -------
    GradCheck
        Per direction the three directional derivatives and their discrepancy.

    Raises
    ------
    CalcmlError
        If ``f`` does not return a single number, or returns (or differentiates to)
        values that are not finite.

    Examples
    --------
    >>> import numpy as np, calcml.numpy as cnp
    >>> report = check_grad(lambda x: cnp.sum(cnp.sin(x) ** 2), np.array([0.3, 1.2]))
    >>> report.ok, report.reverse.shape
    (True, (3,))
    >>> bool(np.allclose(report.reverse, report.numeric, rtol=1e-8))
    True
    """
    if not args:
        raise CalcmlError("check_grad needs at least one input: call check_grad(f, x, ...)")
    if not isinstance(directions, int) or directions < 1:
        raise CalcmlError(f"directions must be a positive whole number, not {directions!r}")
    point = [_real_input(a, i) for i, a in enumerate(args)]
    value = _scalar_value(f, point)
    gradient = grad(f, argnums=tuple(range(len(point))))(*point)
    _finite(gradient, "the gradient (reverse mode)")
    scale = max(1.0, max(float(np.max(np.abs(x), initial=0.0)) for x in point))
    step = _RELATIVE_STEP * scale
    rng = np.random.default_rng(seed)
    vs = [_direction(rng, point) for _ in range(directions)]
    rows = np.array([_one_direction(f, point, gradient, v, step) for v in vs])
    reverse, forward, numeric = rows.T[:3]
    discrepancy = np.array([_discrepancy(*row, rtol) for row in rows])
    return GradCheck(
        reverse=reverse,
        forward=forward,
        numeric=numeric,
        discrepancy=discrepancy,
        ok=bool(np.all(discrepancy <= rtol)),
        rtol=rtol,
        step=step,
        value=value,
        directions=vs,
    )


def _real_input(x: Any, i: int) -> Any:
    x = check_array_input(value_of(x), f"argument {i}")
    if np.iscomplexobj(x):
        raise CalcmlError(f"argument {i} is complex; check_grad checks real functions")
    _finite(x, f"argument {i}")
    return x


def _scalar_value(f: Callable[..., Any], point: Sequence[Any]) -> float:
    out = value_of(f(*point))
    if np.size(out) != 1:
        raise CalcmlError(
            f"check_grad needs a scalar loss, but f returns shape {np.shape(out)}; reduce it "
            "to one number, e.g. cnp.sum(...) or cnp.mean((prediction - target) ** 2), or "
            "check each output on its own"
        )
    _finite(out, "f at the point")
    return float(np.ravel(out)[0])


def _finite(x: Any, what: str) -> None:
    parts = x if isinstance(x, tuple) else (x,)
    if not all(np.all(np.isfinite(value_of(p))) for p in parts):
        raise CalcmlError(f"{what} is not finite (inf or nan); check at a point where f is defined")


def _direction(rng: np.random.Generator, point: Sequence[Any]) -> tuple[Any, ...]:
    """A random unit direction, jointly over all arguments (same shapes as they have)."""
    parts = [rng.standard_normal(np.shape(x)) for x in point]
    norm = math.sqrt(sum(float(np.sum(p * p)) for p in parts))
    return tuple(float(p) / norm if np.ndim(p) == 0 else p / norm for p in parts)


def _one_direction(
    f: Callable[..., Any],
    point: Sequence[Any],
    gradient: tuple[Any, ...],
    v: tuple[Any, ...],
    h: float,
) -> tuple[float, float, float, float]:
    """Reverse mode, forward mode and finite difference along v, and the difference's noise."""
    reverse = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(gradient, v, strict=True))
    _, tangent = jvp(f, tuple(point), v)
    forward = float(np.ravel(value_of(tangent))[0])
    numeric, noise = _central_difference(f, point, v, h)
    for number, what in ((forward, "the JVP (forward mode)"), (numeric, "the finite difference")):
        _finite(number, what)
    return reverse, forward, numeric, noise


def _central_difference(
    f: Callable[..., Any], point: Sequence[Any], v: tuple[Any, ...], h: float
) -> tuple[float, float]:
    """d/dt f(x + t v) at 0 by central differences with steps h and h/2, extrapolated
    (Richardson), and the size of its rounding error."""

    def at(t: float) -> float:
        moved = [x + t * d for x, d in zip(point, v, strict=True)]
        return float(np.ravel(value_of(f(*moved)))[0])

    with np.errstate(all="ignore"):
        ends = [at(h), at(-h), at(h / 2), at(-h / 2)]
    coarse = (ends[0] - ends[1]) / (2 * h)
    fine = (ends[2] - ends[3]) / h
    noise = 8 * _EPS * max(abs(e) for e in ends) / h
    return (4 * fine - coarse) / 3, noise


def _discrepancy(
    reverse: float, forward: float, numeric: float, noise: float, rtol: float
) -> float:
    """The largest relative difference of the three; values below the finite
    differences' resolution (noise / rtol) are compared on that scale instead."""
    scale = max(abs(reverse), abs(forward), abs(numeric), noise / rtol, 1e-300)
    spread = max(reverse, forward, numeric) - min(reverse, forward, numeric)
    return spread / scale
