"""Finite differences, Richardson extrapolation and the complex step, each with an error bar.

A derivative estimated from values of ``f`` is only as good as the step ``h`` it uses, and
no step is right for every function: a large step leaves *truncation* error (the Taylor
terms the formula ignores, about ``h^p`` for a method of order ``p``), a small step leaves
*rounding* error (the last bits of ``f(x + h)`` and ``f(x)`` cancel, about ``eps |f| / h``).
So every estimate here comes with ``.error``, an honest estimate of ``|value - f'(x)|``, and
the ``.step`` it used.

How the default step is chosen, and why the error estimate can be trusted
--------------------------------------------------------------------------
The difference quotient ``D(h)`` is computed on a *ladder* of steps ``h_k`` halving from
well above the textbook step (``sqrt(eps)`` for one-sided, ``eps^(1/3)`` for central, both
times ``max(1, |x|)``) to far below it. On each rung the error is estimated from data:

- truncation: where ``D(h) = f' + C h^p``, the neighbours give
  ``|D(2h) - D(h)| / (2^p - 1)`` and ``2^p |D(h) - D(h/2)| / (2^p - 1)``; both must agree
  (their maximum is used, as in Ridders' method), so a rung where one difference vanishes
  by coincidence is not trusted; it is multiplied by a safety factor 2;
- rounding: the largest of three views. A model, ``2 eps (|f| + sum_j |x_j df/dx_j|)``
  per value of ``f``: the rounding of the result and of the inputs, so that a function
  that reaches a small value by cancellation (Rosenbrock near its minimum) is not taken to
  be exact. A measurement: twice the scatter of the finer rungs, and of the finest rungs
  (where only noise is left), scaled to this step. And, when some step was too small to
  change ``f`` at all, the spacing of the grid its values lie on (``x*x - 2*x + 1`` near 1
  moves in steps of ``eps``, not ``eps |f|``).

Two checks across the ladder guard against coincidences. A rung whose estimate contradicts
a finer rung (their error bars do not overlap) takes the finer rung's word: this catches a
step so large that it aliases a wiggle (``sin`` at ``x = 1e9`` with ``h = 1e6``). And a rung
where the quotients change more, not less, as the step shrinks (beyond rounding) is not
trusted: ``f'`` may be infinite there, as for ``sqrt`` at 0, which is then an error.

The rung with the smallest estimated error wins. Richardson extrapolation does the same on
a table of extrapolated central differences; the complex step ``Im f(x + ih) / h`` has no
subtraction, so its step can be tiny (``1e-20``) and its error is a few ulps of the
derivative, bounded with a floor from the condition of the problem (``eps |x f''|``).

These estimates are checked against true errors in the tests (sin, exp, x^3, log,
1/(1+x^2), Rosenbrock, functions computed with cancellation): never smaller, and
typically 3 to 50 times larger. They rest on the models above; a function whose computed
values err far more than its condition suggests (an inaccurate library, a simulation with
noise that is smooth on the scale of the steps) can defeat them.

>>> import math
>>> d = derivative(math.sin, 1.0)
>>> abs(d.value - math.cos(1.0)) <= d.error < 1e-8
True
>>> import cmath
>>> derivative(cmath.exp, 0.0, method="complex").value
1.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from ..errors import CalcmlError, LimitError
from ..expr import to_text
from ..symbolic.calculus import derivative as exact_derivative
from ..symbolic.compile import compile_expr
from ..symbolic.inputs import as_expr, point_values, single_variable

EPS = float(np.finfo(float).eps)
METHODS = ("forward", "backward", "central", "richardson", "complex")
ORDER = {"forward": 1, "backward": 1, "central": 2, "complex": 2}

_ROUNDING = 2.0  # f's values are taken to be accurate to this many eps, relative
_SAFETY = 2.0  # multiplies every truncation estimate
_TINY = 2.0**-1070  # a few units of the smallest subnormal: the floor of any absolute error
_NOMINAL = {"forward": EPS**0.5, "backward": EPS**0.5, "central": EPS ** (1 / 3)}
_LADDER = {"forward": (8, 28), "backward": (8, 28), "central": (8, 22), "richardson": (14, 22)}
_RICHARDSON_COLUMNS = 6
_SETTLED = 1e-3  # a change this small relative to the quotient never counts as diverging
_HESSIAN_LADDER = (4, 10)
_NON_ANALYTIC = (
    sympy.Abs,
    sympy.sign,
    sympy.re,
    sympy.im,
    sympy.conjugate,
    sympy.arg,
    sympy.floor,
    sympy.ceiling,
    sympy.Max,
    sympy.Min,
    sympy.Heaviside,
)


@dataclass(frozen=True)
class NumericDerivative:
    """A numerical derivative ``f'(x)`` with an honest error estimate.

    Attributes
    ----------
    value : float
        The estimate of ``f'(x)``.
    error : float
        An estimate of ``|value - f'(x)|`` (truncation plus rounding), meant to be an upper
        bound: see the module docstring for how it is made.
    step : float
        The step ``h`` the value came from (for Richardson, the finest step of the
        extrapolation; for the complex step, the imaginary step).
    method : str
        ``"forward"``, ``"backward"``, ``"central"``, ``"richardson"`` or ``"complex"``.
    order : int
        The order of accuracy ``p``: the truncation error shrinks like ``h^p``.
    x : float
        The point.
    evaluations : int
        How many times ``f`` was called (or, for an expression, evaluated).

    Examples
    --------
    >>> d = derivative(lambda t: t**3, 2.0, method="richardson")
    >>> round(d.value, 9), d.order >= 4, d.error < 1e-9
    (12.0, True, True)
    """

    value: float
    error: float
    step: float
    method: str
    order: int
    x: float = math.nan
    evaluations: int = 0

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        return (
            f"f'({self.x:g}) ≈ {self.value:.15g} ± {self.error:.2g} "
            f"({self.method}, order {self.order}, step {self.step:.3g})"
        )


@dataclass(frozen=True, eq=False)
class StepErrors:
    """The error of difference quotients against the step, for the 'reality is hard' figure.

    Attributes
    ----------
    x : float
        The point.
    exact : float
        The true derivative the errors are measured against.
    fx : float
        ``f(x)``, which sets the size of the rounding error.
    steps : np.ndarray
        The steps ``h`` (read-only).
    errors : dict of str to np.ndarray
        For each method, ``|D(h) - exact|`` at each step (read-only arrays; NaN where a
        value was not finite).
    label : str
        The function's formula or name.
    """

    x: float
    exact: float
    fx: float
    steps: np.ndarray
    errors: dict[str, np.ndarray] = field(default_factory=dict)
    label: str = "f"

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods studied, in order."""
        return tuple(self.errors)

    def optimal(self, method: str) -> tuple[float, float]:
        """``(step, error)`` at the smallest error of ``method``.

        Examples
        --------
        >>> import math
        >>> s = step_errors(math.exp, 0.0, 1.0, methods=["forward"])
        >>> h, err = s.optimal("forward")
        >>> 1e-9 < h < 1e-7 and err < 1e-7
        True
        """
        errors = self.errors[method]
        if not np.any(np.isfinite(errors)):
            raise CalcmlError(f"no finite error for {method}")
        i = int(np.nanargmin(errors))
        return float(self.steps[i]), float(errors[i])

    def rounding(self) -> np.ndarray:
        """The rounding model ``eps (|f(x)| + |x f'(x)|) / h`` of a one-sided difference.

        ``eps |f(x)|`` is the uncertainty of a computed value of ``f``; ``eps |x f'(x)|`` is
        what rounding ``x + h`` to a float does to ``f(x + h)``. Divided by ``h``, both grow
        as the step shrinks.
        """
        size = abs(self.fx) + abs(self.x * self.exact)
        return EPS * max(size, _TINY) / self.steps


# -- public functions ----------------------------------------------------------------------


def derivative(
    f: Any,
    x: float,
    method: str = "central",
    step: float | None = None,
    *,
    var: str | sympy.Symbol | None = None,
) -> NumericDerivative:
    """The derivative ``f'(x)`` from values of ``f``, with an error estimate and the step.

    Parameters
    ----------
    f : callable, str or sympy.Expr
        A Python function of one float returning one float, or an expression of one
        variable (compiled to NumPy). For ``method="complex"`` a callable must also accept
        a complex number and return one (``cmath``/NumPy functions do, ``math`` ones and
        ``abs`` do not).
    x : float
        The point.
    method : {"central", "forward", "backward", "richardson", "complex"}
        ``forward`` ``(f(x+h) - f(x)) / h`` (order 1); ``backward`` ``(f(x) - f(x-h)) / h``
        (order 1); ``central`` ``(f(x+h) - f(x-h)) / 2h`` (order 2); ``richardson``
        extrapolates central differences at halving steps to ``h -> 0`` (order up to 14);
        ``complex`` ``Im f(x + ih) / h`` (order 2, no cancellation, so a tiny step).
    step : float, optional
        The step ``h``. By default it is chosen from a ladder of steps by the smallest
        estimated error (see the module docstring); for ``richardson`` a given step is the
        first (largest) step of the table; for ``complex`` the default is ``1e-20`` (times
        ``|x|`` when ``|x| < 1``).
    var : str, optional
        The variable of an expression, when it has more than one free symbol to choose from.

    Returns
    -------
    NumericDerivative
        ``.value``, ``.error``, ``.step``, ``.method``, ``.order``, ``.x``, ``.evaluations``.

    Raises
    ------
    CalcmlError
        An unknown method; a non-finite point or step; ``f`` not finite at ``x`` (or at the
        given step); ``f`` not able to take complex input for ``method="complex"``.

    Examples
    --------
    >>> import math
    >>> d = derivative(math.exp, 1.0)
    >>> abs(d.value - math.e) <= d.error < 1e-8, d.order
    (True, 2)
    >>> f = derivative(math.exp, 1.0, method="forward")
    >>> abs(f.value - math.e) <= f.error < 1e-6, f.order
    (True, 1)
    >>> derivative("x^3", 2, method="complex").value
    12.0
    """
    _check_method(method, METHODS)
    point = _as_number(x, "x")
    fn = _scalar_function(f, var, point, complex_needed=method == "complex")
    # the complex step has its own rounding model
    condition = (np.zeros(()), np.zeros((1,))) if method == "complex" else None
    est = _estimate(_Line(fn, np.array([point]), 0, condition), method, _as_step(step))
    return NumericDerivative(
        value=float(est.value),
        error=float(est.error),
        step=float(est.step),
        method=method,
        order=int(est.order),
        x=point,
        evaluations=fn.calls,
    )


def jacobian(
    f: Any,
    x: Any,
    method: str = "central",
    step: float | Sequence[float] | None = None,
    *,
    return_error: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The Jacobian ``J[i, j] = d f_i / d x_j`` by differences, one column per input.

    Each column is :func:`derivative` of ``f`` along one coordinate, with the same choice
    of step and the same error estimate, element by element.

    Parameters
    ----------
    f : callable, str, sympy.Expr or sequence of them
        A callable of one NumPy array (shaped like ``x``) returning an array (or number);
        or expressions, whose variables are their free symbols sorted by name.
    x : array-like (or dict for expressions)
        The point.
    method : {"central", "forward", "backward", "richardson", "complex"}
        As in :func:`derivative`.
    step : float or sequence of float, optional
        One step for every coordinate or one per coordinate; default: chosen per coordinate.
    return_error : bool
        Also return the error estimates, an array of the same shape.

    Returns
    -------
    np.ndarray or (np.ndarray, np.ndarray)
        Shape ``out.shape + x.shape``: ``(m, n)`` for ``f: R^n -> R^m``.

    Examples
    --------
    >>> import numpy as np
    >>> J = jacobian(lambda v: np.array([v[0] * v[1], np.sin(v[0])]), [2.0, 3.0])
    >>> np.round(J, 8).tolist() == [[3.0, 2.0], [round(float(np.cos(2.0)), 8), 0.0]]
    True
    >>> jacobian(["x*y", "x + y"], {"x": 2, "y": 3}, method="complex").tolist()
    [[3.0, 2.0], [1.0, 1.0]]
    """
    _check_method(method, METHODS)
    fn, point = _vector_function(f, x, complex_needed=method == "complex")
    steps = _coordinate_steps(step, point.size)
    value = np.empty((*fn.out_shape, point.size))
    error = np.empty_like(value)
    if method == "complex":  # the complex step has its own rounding model
        condition = (np.zeros(fn.out_shape), np.zeros((point.size, *fn.out_shape)))
    else:
        condition = _condition(fn, point.ravel())
    for i in range(point.size):
        est = _estimate(_Line(fn, point.ravel(), i, condition), method, steps[i])
        value[..., i], error[..., i] = est.value, est.error
    shape = fn.out_shape + fn.in_shape
    value, error = value.reshape(shape), error.reshape(shape)
    return (value, error) if return_error else value


def gradient(
    f: Any,
    x: Any,
    method: str = "central",
    step: float | Sequence[float] | None = None,
    *,
    return_error: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The gradient of a scalar function ``f: R^n -> R`` by differences.

    Parameters are those of :func:`jacobian`; ``f`` must return one number.

    Returns
    -------
    np.ndarray or (np.ndarray, np.ndarray)
        Shaped like ``x`` (and the error estimates, shaped like ``x``).

    Examples
    --------
    >>> import numpy as np
    >>> def rosen(v):
    ...     return 100 * (v[1] - v[0] ** 2) ** 2 + (1 - v[0]) ** 2
    >>> g, err = gradient(rosen, [1.0, 2.0], return_error=True)
    >>> np.round(g, 6).tolist(), bool(np.all(err < 1e-6))
    ([-400.0, 200.0], True)
    >>> gradient("x^2 y", [3, 2], method="complex").tolist()
    [12.0, 9.0]
    """
    _check_method(method, METHODS)
    fn, point = _vector_function(f, x, method == "complex", scalar_out=True)
    if fn.out_shape != ():
        raise CalcmlError(
            f"the gradient needs a function that returns one number; this one returns shape "
            f"{fn.out_shape}: use jacobian instead"
        )
    return jacobian(fn, point, method, step, return_error=return_error)


def hessian(
    f: Any,
    x: Any,
    step: float | Sequence[float] | None = None,
    *,
    return_error: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The Hessian of a scalar function by central second differences, symmetric.

    Diagonal entries use ``(f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h^2``, the others
    ``(f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j)``; both are of order 2 and symmetric in
    ``i, j`` by construction. The steps ``h_i = t max(1, |x_i|)`` follow a ladder in ``t``
    and each entry keeps the rung with the smallest estimated error (truncation from
    neighbouring rungs, rounding ``eps |f| / h^2``), as :func:`derivative` does.

    Parameters
    ----------
    f : callable, str or sympy.Expr
        A scalar function of an array shaped like ``x`` (or an expression).
    x : array-like (or dict for an expression)
        The point.
    step : float or sequence of float, optional
        Fixed steps (one for all coordinates, or one per coordinate) instead of the ladder.
    return_error : bool
        Also return the error estimates.

    Returns
    -------
    np.ndarray or (np.ndarray, np.ndarray)
        Shape ``x.shape + x.shape``, ``(n, n)`` for a vector ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> H = hessian(lambda v: v[0] ** 2 * v[1] + v[1] ** 3, [1.0, 2.0])
    >>> np.round(H, 6).tolist()
    [[4.0, 2.0], [2.0, 12.0]]
    """
    fn, point = _vector_function(f, x, complex_needed=False, scalar_out=True)
    if fn.out_shape != ():
        raise CalcmlError("the Hessian needs a function that returns one number")
    value, error = _hessian(fn, point.ravel(), step)
    shape = fn.in_shape + fn.in_shape
    value, error = value.reshape(shape), error.reshape(shape)
    return (value, error) if return_error else value


def step_errors(
    f: Any,
    x: float,
    exact: float | None = None,
    steps: Iterable[float] | None = None,
    methods: Sequence[str] = ("forward", "central", "complex"),
    *,
    var: str | sympy.Symbol | None = None,
) -> StepErrors:
    """The error of each method at each step: the data of the 'reality is hard' figure.

    Each quotient is computed as a learner would write it, with the nominal step and no
    tricks: ``(f(x + h) - f(x)) / h``, ``(f(x) - f(x - h)) / h``,
    ``(f(x + h) - f(x - h)) / (2h)``, ``Im f(x + ih) / h``, and for ``richardson`` one
    extrapolation ``(4 C(h/2) - C(h)) / 3`` of central differences ``C`` (order 4). Large
    steps show truncation error, small ones rounding error (and, for the difference
    quotients, the rounding of ``x + h`` itself): the V that says the step cannot just be
    made small. The complex step has no subtraction, so it has no rounding wall.

    Parameters
    ----------
    f : callable, str or sympy.Expr
        A function of one variable (complex-capable for ``"complex"``).
    x : float
        The point.
    exact : float, optional
        The true ``f'(x)``; by default the exact symbolic derivative of an expression
        (a callable needs it given).
    steps : sequence of float, optional
        The steps; default ``np.logspace(-16, 0, 65)``.
    methods : sequence of str
        Any of ``"forward"``, ``"backward"``, ``"central"``, ``"richardson"``, ``"complex"``.
    var : str, optional
        The variable of an expression with several free symbols.

    Returns
    -------
    StepErrors

    Examples
    --------
    >>> s = step_errors("sin(x)", 1.0)
    >>> s.methods
    ('forward', 'central', 'complex')
    >>> h, err = s.optimal("central")
    >>> 1e-7 < h < 1e-4 and err < 1e-9
    True
    """
    for method in methods:
        _check_method(method, METHODS)
    point = _as_number(x, "x")
    hs = _study_steps(steps)
    fn = _scalar_function(f, var, point, complex_needed="complex" in methods)
    true = _exact_slope(f, point, var) if exact is None else _as_number(exact, "exact")
    if "complex" in methods:
        _complex_estimate(_Line(fn, np.array([point]), 0), None)  # says no if f cannot
    line = _Line(fn, np.array([point]), 0)
    errors = {m: _frozen(np.abs(_naive(line, m, hs) - true)) for m in methods}
    return StepErrors(point, true, line.f0.item(), _frozen(hs), errors, fn.label)


# -- functions of the user -----------------------------------------------------------------


@dataclass(eq=False)
class _Function:
    """``f`` as vectorised evaluators of points (rows) that count their calls.

    ``real(points)`` maps an ``(N, n)`` array to ``(N, *out_shape)`` with NaN where ``f``
    failed; ``complex(points)`` is the same for complex points (None when unavailable).
    """

    real: Callable[[np.ndarray], np.ndarray]
    complex: Callable[[np.ndarray], np.ndarray] | None
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    label: str
    calls: int = 0

    def values(self, points: np.ndarray) -> np.ndarray:
        self.calls += len(points)
        return self.real(points)

    def complex_values(self, points: np.ndarray) -> np.ndarray:
        if self.complex is None:
            raise CalcmlError("the complex step is not available for this function")
        self.calls += len(points)
        return self.complex(points)


def _scalar_function(
    f: Any, var: str | sympy.Symbol | None, x: float, complex_needed: bool
) -> _Function:
    """A function of one number returning one number."""
    if callable(f) and not isinstance(f, sympy.Basic):
        fn = _callable_function(f, (), np.array([x]), complex_needed, scalar_out=True)
    else:
        expr = as_expr(f)
        symbol = single_variable(expr, var)
        others = expr.free_symbols - {symbol}
        if others:
            names = ", ".join(sorted(str(s) for s in others))
            raise CalcmlError(
                f"{to_text(expr)} also depends on {names}: a derivative in {symbol} needs "
                "values for the others; use gradient for all of them"
            )
        fn = _expression_function([expr], [symbol], (), (), complex_needed)
    if fn.out_shape != ():
        raise CalcmlError(
            f"f must return one number, not an array of shape {fn.out_shape}: use jacobian"
        )
    return fn


def _vector_function(
    f: Any, x: Any, complex_needed: bool, scalar_out: bool = False
) -> tuple[_Function, np.ndarray]:
    """``f`` of an array and the point as a float array (variables of expressions by name)."""
    if isinstance(f, _Function):
        return f, np.asarray(x, dtype=float)
    if callable(f) and not isinstance(f, sympy.Basic):
        point = _as_array(x)
        fn = _callable_function(f, point.shape, point.ravel(), complex_needed, scalar_out)
        return fn, point
    exprs, out_shape = _as_exprs(f)
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    point = np.array(point_values(x, symbols), dtype=float)
    if not np.all(np.isfinite(point)):
        raise CalcmlError(f"the point must be finite, not {point.tolist()}")
    fn = _expression_function(exprs, symbols, (len(symbols),), out_shape, complex_needed)
    return fn, point


def _as_exprs(f: Any) -> tuple[list[sympy.Expr], tuple[int, ...]]:
    if isinstance(f, str | sympy.Expr | numbers.Number):
        return [as_expr(f)], ()
    if isinstance(f, sympy.MatrixBase):
        return [as_expr(e) for e in f], (len(f),)
    if isinstance(f, Sequence) and f:
        return [as_expr(e, f"component {i}") for i, e in enumerate(f)], (len(f),)
    raise CalcmlError(f"f must be a callable, an expression or a list of them, not {f!r}")


def _callable_function(
    f: Callable[..., Any],
    in_shape: tuple[int, ...],
    x: np.ndarray,
    complex_needed: bool,
    scalar_out: bool = False,
) -> _Function:
    name = getattr(f, "__name__", "")
    label = name if name.isidentifier() else "f"
    with np.errstate(all="ignore"):
        first = _call_real(f, x.reshape(in_shape), None)
    if first is None or not np.all(np.isfinite(first)):
        raise CalcmlError(f"{label} is not defined (or not finite) at x = {_show(x, in_shape)}")
    out_shape = () if scalar_out and first.size == 1 else first.shape

    def real(points: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            rows = [_call_real(f, p.reshape(in_shape), out_shape) for p in points]
        nan = np.full(out_shape, np.nan)
        return np.array([nan if r is None else r for r in rows]).reshape((-1, *out_shape))

    def complex_(points: np.ndarray) -> np.ndarray:
        rows = [_call_complex(f, p.reshape(in_shape), out_shape, label) for p in points]
        return np.array(rows, dtype=complex).reshape((-1, *out_shape))

    return _Function(real, complex_ if complex_needed else None, in_shape, out_shape, label, 1)


def _argument(p: np.ndarray) -> Any:
    """What ``f`` is called with: a Python number for a scalar, else an array copy."""
    if p.shape == ():
        return complex(p) if np.iscomplexobj(p) else float(p)
    return p.copy()


def _call_real(f: Callable[..., Any], p: np.ndarray, shape: tuple[int, ...] | None) -> Any:
    """``f(p)`` as a float array; None where ``f`` fails with a maths error (out of domain)."""
    try:
        value = f(_argument(p))
    except (ArithmeticError, ValueError):
        return None
    except Exception as err:  # any failure of user code is reported as a CalcmlError
        raise CalcmlError(f"calling f({_show(p, p.shape)}) failed: {err!r}") from err
    if type(value) is float and shape == ():
        return value  # the common case, kept fast
    out = np.asarray(value)
    if out.dtype.kind == "c" and not np.any(out.imag):
        out = out.real  # cmath functions return complex numbers with no imaginary part
    if out.dtype.kind == "c" and shape is not None:
        return None  # not real here (x**0.5 below 0): outside the domain, like a NaN
    if out.dtype.kind not in "biuf":
        raise CalcmlError(f"f must return real numbers, but f({_show(p, p.shape)}) = {value!r}")
    return _shaped(out.astype(float), shape)


def _call_complex(f: Callable[..., Any], p: np.ndarray, shape: tuple[int, ...], label: str) -> Any:
    try:
        with np.errstate(all="ignore"):
            value = f(_argument(p))
    except TypeError as err:
        raise CalcmlError(
            f"the complex step needs {label} to accept complex input, but it raised "
            f"{err!r}: use cmath or numpy functions instead of math, or another method"
        ) from err
    except (ArithmeticError, ValueError):
        return np.full(shape, complex(math.nan, math.nan))
    out = np.asarray(value)
    if not np.iscomplexobj(out):
        raise CalcmlError(
            f"the complex step needs {label} to carry complex numbers through, but it returned "
            f"the real {value!r} for a complex input: the imaginary part (which holds the "
            "derivative) was dropped, e.g. by abs, float(), .real or a math function; use "
            "another method"
        )
    return _shaped(out.astype(complex), shape)


def _shaped(out: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    """``out`` in the shape of ``f``'s value at the point (None: this is that value)."""
    if shape is None or out.shape == shape:
        return out
    if out.size == math.prod(shape):
        return out.reshape(shape)
    raise CalcmlError(f"f returned shape {out.shape} here but {shape} at the point")


def _expression_function(
    exprs: list[sympy.Expr],
    symbols: list[sympy.Symbol],
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    complex_needed: bool,
) -> _Function:
    compiled = [compile_expr(e, symbols) for e in exprs]

    def real(points: np.ndarray) -> np.ndarray:
        cols = [points[:, j] for j in range(len(symbols))]
        rows = len(points)
        values = [np.broadcast_to(g(*cols), (rows,)) for g in compiled]
        return np.stack(values, axis=-1).reshape((rows, *out_shape))

    complex_ = _complex_expressions(exprs, symbols, out_shape) if complex_needed else None
    label = ", ".join(to_text(e) for e in exprs)
    return _Function(real, complex_, in_shape, out_shape, label)


def _complex_expressions(
    exprs: list[sympy.Expr], symbols: list[sympy.Symbol], out_shape: tuple[int, ...]
) -> Callable[[np.ndarray], np.ndarray]:
    """NumPy evaluators of the expressions at complex points (they must be analytic)."""
    for expr in exprs:
        bad = sorted({type(a).__name__ for a in expr.atoms(*_NON_ANALYTIC)})
        if bad:
            raise CalcmlError(
                f"the complex step needs an analytic function, but {to_text(expr)} uses "
                f"{', '.join(bad)}: use another method"
            )
    funcs = [sympy.lambdify(symbols, e, modules="numpy") for e in exprs]

    def evaluate(points: np.ndarray) -> np.ndarray:
        cols = [points[:, j] for j in range(len(symbols))]
        rows = len(points)
        with np.errstate(all="ignore"):
            values = [np.broadcast_to(np.asarray(g(*cols), dtype=complex), (rows,)) for g in funcs]
        return np.stack(values, axis=-1).reshape((rows, *out_shape))

    return evaluate


class _Line:
    """``f`` along coordinate ``i`` through the point: ``t -> f(x with x_i = t)``.

    ``condition`` is ``sum_j |x_j| |df/dx_j|`` at the point, the part of the rounding model
    that sees cancellation inside ``f``, and ``spread`` the difference of ``f`` across a
    moderate step along this coordinate (both from :func:`_condition`, computed unless
    given); ``reach`` is ``sum_j |x_j|``, which turns a slope into the change of that sum
    (see ``_quotients``).
    """

    def __init__(
        self,
        fn: _Function,
        point: np.ndarray,
        i: int,
        condition: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.fn, self.point, self.i = fn, np.asarray(point, dtype=float), i
        self.x0 = float(self.point[i])
        self.f0 = fn.values(self.point[None])[0]
        if not np.all(np.isfinite(self.f0)):
            raise CalcmlError(f"{fn.label} is not defined (or not finite) at {self.point.tolist()}")
        if condition is None:
            condition = _condition(fn, self.point)
        self.condition, self.spread = condition[0], condition[1][i]
        self.reach = float(np.sum(np.abs(self.point)))

    def __call__(self, ts: np.ndarray) -> np.ndarray:
        points = np.repeat(self.point[None], len(ts), axis=0)
        points[:, self.i] = ts
        return self.fn.values(points)

    def complex(self, zs: np.ndarray) -> np.ndarray:
        points = np.repeat(self.point[None].astype(complex), len(zs), axis=0)
        points[:, self.i] = zs
        return self.fn.complex_values(points)

    def column(self, a: np.ndarray) -> np.ndarray:
        """A 1-D array over rungs, shaped to broadcast against ``(K, *out_shape)``."""
        return np.asarray(a, dtype=float).reshape((-1,) + (1,) * len(self.fn.out_shape))


# -- the estimates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Estimate:
    value: np.ndarray
    error: np.ndarray
    step: np.ndarray
    order: np.ndarray


def _estimate(line: _Line, method: str, step: float | None) -> _Estimate:
    if method == "complex":
        return _complex_estimate(line, step)
    if step is None:
        low, high = _LADDER[method]
        nominal = _NOMINAL.get(method, _NOMINAL["central"])
        steps = _ladder(line.x0, nominal, low, high)
    else:
        steps = step * 2.0 ** -np.arange(8 if method == "richardson" else 2)
    kind = "central" if method == "richardson" else method
    D, rho, h, _ = _quotients(line, kind, steps)
    if method == "richardson":
        return _richardson(D, rho, h, line)
    est = _ladder_errors(D, rho, h, ORDER[method], 1, given=step is not None)
    if step is None:
        est = _best_rungs(D, est, rho, h, 1)
    return _pick(est, line, D=D, h=h, order=ORDER[method], first=step is not None)


def _ladder(x0: float, nominal: float, up: int, down: int) -> np.ndarray:
    """Steps halving from ``2^up`` to ``2^-down`` times the nominal step ``nominal*max(1,|x|)``,
    powers of two (so ``x ± h`` is exact) and no finer than 64 ulps of ``x``."""
    base = 2.0 ** round(math.log2(nominal * max(1.0, abs(x0))))
    steps = base * 2.0 ** np.arange(up, -down - 1, -1, dtype=float)
    return steps[steps >= 64 * math.ulp(x0)]


def _quotients(line: _Line, kind: str, steps: np.ndarray) -> tuple[Any, ...]:
    """Difference quotients ``D`` at each step, a bound ``rho`` on their rounding error, the
    steps actually taken (``x + h`` rounded, then ``h = (x + h) - x``) and, for central
    differences, the second differences (None for one-sided ones).

    The rounding model needs ``sum_j |x_j df/dx_j|`` at the points evaluated, not only at
    ``x``: near a minimum the gradient is small at ``x`` but not at ``x ± h``. It is taken
    as the larger of its value at ``x`` and ``sum_j |x_j|`` times the slope
    ``|f(x ± h) - f(x)| / h`` along the line (exact for the line's own coordinate, a
    stand-in for the others). See also :func:`_resolution`.
    """
    if kind in ("forward", "backward"):
        return _one_sided(line, 1.0 if kind == "forward" else -1.0, steps)
    return _central(line, steps)


def _one_sided(line: _Line, sign: float, steps: np.ndarray) -> tuple[Any, ...]:
    """Forward (``sign = 1``) or backward (``sign = -1``) differences; see ``_quotients``."""
    x0, f0, col = line.x0, line.f0, line.column
    points = x0 + sign * steps
    h = np.abs(points - x0)
    values = line(points)
    D = sign * (values - f0) / col(h)
    local = np.maximum(line.condition, line.reach * np.abs(values - f0) / col(h))
    delta = np.maximum(_value_error(values, f0, local), _resolution([values - f0], line.spread))
    return _finite(D), 2 * delta / col(h), h, None


def _central(line: _Line, steps: np.ndarray) -> tuple[Any, ...]:
    """Central differences with the steps ``hp``, ``hm`` actually taken; see ``_quotients``."""
    x0, f0, col = line.x0, line.f0, line.column
    points = np.concatenate([x0 + steps, x0 - steps])
    values = line(points)
    fp, fm = values[: len(steps)], values[len(steps) :]
    hp, hm = col(points[: len(steps)] - x0), col(x0 - points[len(steps) :])
    D = (fp - fm) / (hp + hm)
    curvature = 2 * (fp * hm + fm * hp - f0 * (hp + hm)) / (hp * hm * (hp + hm))
    change = np.maximum(np.abs(fp - f0) / hp, np.abs(fm - f0) / hm)
    local = np.maximum(line.condition, line.reach * change)
    delta = _value_error(np.maximum(abs(fp), abs(fm)), f0, local)
    delta = np.maximum(delta, _resolution([fp - fm, fp - f0, fm - f0], line.spread))
    rho = 2 * delta / (hp + hm)
    rho = rho + np.abs(hp - hm) / 2 * np.abs(curvature)  # an uneven step's first-order term
    return _finite(D), rho, ((hp + hm) / 2).ravel(), curvature


def _resolution(differences: list[np.ndarray], spread: np.ndarray) -> np.ndarray:
    """How finely ``f``'s computed values are resolved, when the ladder shows it.

    A function computed with cancellation (``x*x - 2*x + 1`` near 1) has values on a grid
    far coarser than their size suggests: below some step its differences are exactly 0,
    and every small step agrees on a wrong slope. When some difference of values on the
    ladder is exactly 0, the smallest non-zero one seen (on the ladder, or ``spread``, that
    of the moderate step that measured the condition) is that grid's spacing, and it is
    taken as a floor on the rounding error of every value; otherwise 0.
    """
    size = np.abs(np.concatenate(differences))
    finite = np.isfinite(size)
    stuck = np.any(finite & (size == 0), axis=0)
    smallest = np.min(np.where(finite & (size > 0), size, np.inf), axis=0)
    smallest = np.fmin(smallest, np.where(spread > 0, spread, np.inf))
    return np.where(stuck & np.isfinite(smallest), smallest, 0.0)


def _value_error(values: np.ndarray, f0: np.ndarray, condition: np.ndarray) -> np.ndarray:
    """The rounding model of ``f``'s values: ``2 eps (|f| + sum_j |x_j df/dx_j|)``.

    ``eps |f|`` is the rounding of the result; the condition term is what rounding the
    inputs (or an intermediate result such as ``y - x^2``) by ``eps`` does, so that a
    function near a zero that it reaches by cancellation (Rosenbrock near its minimum) is
    not taken to be exact.
    """
    return _ROUNDING * EPS * (np.maximum(np.abs(values), np.abs(f0)) + condition) + _TINY


def _condition(fn: _Function, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_j |x_j| |df/dx_j|`` and, for each coordinate, the spread
    ``|f(x + h e_j) - f(x - h e_j)|`` of a central difference at a moderate step (shrunk
    where ``f`` is not finite; NaN if no step works)."""
    total = np.zeros(fn.out_shape)
    spreads = np.full((point.size, *fn.out_shape), np.nan)
    for j in range(point.size):
        h = 2.0 ** round(math.log2(EPS ** (1 / 3) * max(1.0, abs(point[j]))))
        for _ in range(4):
            points = np.repeat(point[None], 2, axis=0)
            points[0, j] += h
            points[1, j] -= h
            values = fn.values(points)
            spread = np.abs(values[0] - values[1])
            if np.all(np.isfinite(spread)):
                spreads[j] = spread
                total = total + abs(point[j]) * spread / (points[0, j] - points[1, j])
                break
            h /= 16
    return total, spreads


def _ladder_errors(
    D: np.ndarray, rho: np.ndarray, h: np.ndarray, p: int, power: int, given: bool
) -> np.ndarray:
    """The estimated error of each rung (``inf`` where it cannot be estimated).

    ``D[k]`` are quotients of order ``p`` at steps ``h[k]`` (decreasing) with rounding bounds
    ``rho[k]``; ``power`` is how rounding grows as the step shrinks (``1/h^power``). The
    truncation error of rung ``k`` is estimated from both neighbours (``|D[k-1] - D[k]|``
    over ``r^p - 1`` and ``|D[k] - D[k+1]|`` over ``1 - r^-p``, each widened by the rounding
    of the two values) and the larger is kept; with a given step only the finer neighbour
    exists. Rounding is the larger of the model ``rho`` and the measured scatter of the finer
    rungs.
    """
    col = (-1,) + (1,) * (D.ndim - 1)
    ratio = (h[:-1] / h[1:]).reshape(col)
    gap = np.abs(D[:-1] - D[1:]) + rho[:-1] + rho[1:]
    coarse = np.full(D.shape, np.nan)
    fine = np.full(D.shape, np.nan)
    coarse[1:] = gap / (ratio**p - 1)
    fine[:-1] = gap / (1 - ratio**-p)
    truncation = np.fmax(coarse, fine) if given else np.maximum(coarse, fine)
    noise = np.fmax(rho, _SAFETY * _measured_noise(D, h, power))
    with np.errstate(invalid="ignore"):
        est = _SAFETY * truncation + noise + EPS * np.abs(D)
    return np.where(np.isfinite(est), est, np.inf)


def _with_noise_level(est: np.ndarray, D: np.ndarray, h: np.ndarray, power: int) -> np.ndarray:
    """``est`` plus the noise level of the finest rungs (:func:`_noise_level`) scaled to
    each rung, which sees the grid of a function whose values are coarsely quantized
    (there some fine rungs repeat one wrong value and look calm)."""
    col = (-1,) + (1,) * (D.ndim - 1)
    return est + _SAFETY * _noise_level(D, h, power) / (h**power).reshape(col)


def _best_rungs(
    D: np.ndarray, est: np.ndarray, rho: np.ndarray, h: np.ndarray, power: int
) -> np.ndarray:
    """The scores a ladder is chosen by: each estimate plus the noise level, made to agree
    with the finer rungs (:func:`_agreement`; their claims taken without the noise level,
    which only makes the agreement stricter), ``inf`` where the quotients do not settle
    (:func:`_settling`)."""
    full = _with_noise_level(est, D, h, power)
    agreed = _agreement(D, full, np.arange(len(D)), D, est)
    with np.errstate(invalid="ignore"):
        return np.where(_settling(D, rho), agreed, np.inf)


def _settling(D: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Whether each rung is where the quotients settle.

    Its change from the coarser rung must be at least its change to the finer one (``2^p``
    times it where truncation rules), give or take rounding, or the latter at most a
    thousandth of the quotient (rounding beyond the model, say). Where the changes grow as
    the step shrinks beyond that, the quotients diverge (``f'`` infinite, as for ``sqrt`` at
    0, or a step far above the scale on which ``f`` varies), and no estimate from them can
    be trusted. (Rounding here is the model ``rho``: the measured scatter would count the
    divergence itself as noise.)
    """
    settled = np.ones(D.shape, dtype=bool)
    coarse, fine = np.abs(D[:-2] - D[1:-1]), np.abs(D[1:-1] - D[2:])
    allowance = 2 * (rho[:-2] + rho[1:-1] + rho[2:])
    small = fine <= _SETTLED * np.maximum(np.abs(D[1:-1]), np.abs(D[2:]))
    settled[1:-1] = (coarse + allowance >= fine) | small
    return settled


def _measured_noise(D: np.ndarray, h: np.ndarray, power: int) -> np.ndarray:
    """The rounding error of each rung as measured by the finer rungs.

    Rounding makes ``D`` jitter by about ``noise / h^power``; ``|D[j] - D[j+1]| h[j+1]^power``
    samples that noise at rung ``j``. The largest sample at or below rung ``k``, scaled to
    ``h[k]``, is the measured noise of rung ``k`` (truncation in those samples only makes
    it larger, and is no larger than the truncation estimate of the rung itself).
    """
    col = (-1,) + (1,) * (D.ndim - 1)
    samples = np.abs(D[:-1] - D[1:]) * (h[1:] ** power).reshape(col)
    worst_below = np.fmax.accumulate(samples[::-1], axis=0)[::-1]
    noise = np.zeros(D.shape)
    noise[:-1] = worst_below / (h[:-1] ** power).reshape(col)
    return np.nan_to_num(noise, nan=0.0)


def _pick(
    est: np.ndarray, line: _Line, D: np.ndarray, h: np.ndarray, order: Any, first: bool
) -> _Estimate:
    """The rung of smallest estimated error, element by element (rung 0 for a given step)."""
    index = np.zeros(est.shape[1:], dtype=int) if first else np.argmin(est, axis=0)
    take = _taker(index)
    error = take(est)
    if not np.all(np.isfinite(error)):
        raise CalcmlError(
            f"{line.fn.label} is not finite near x = {line.x0:g} at the steps needed, or its "
            "difference quotients do not settle as the step shrinks (f' infinite, or f not "
            "smooth there?)"
        )
    steps = np.broadcast_to(line.column(h), est.shape)
    orders = np.broadcast_to(np.asarray(order), est.shape)
    return _Estimate(take(D), error, take(steps), take(orders))


def _agreement(
    values: np.ndarray, est: np.ndarray, rungs: np.ndarray, D: np.ndarray, est_D: np.ndarray
) -> np.ndarray:
    """``est`` replaced where it contradicts a finer rung of the ladder.

    A candidate from rung ``k`` claims ``|value - f'| <= est``; a finer rung ``j`` claims
    ``|D[j] - f'| <= est_D[j]``. Both can hold only if ``|value - D[j]| <= est + est_D[j]``.
    Where they cannot, the finer rung is believed and the candidate's error bound becomes
    ``|value - D[j]| + est_D[j]``. This catches what no local estimate can: a large step
    that aliases a wiggle (``sin`` at ``x = 1e9`` with ``h = 1e6``) and agrees with its
    neighbours by coincidence. In the asymptotic regime nothing is contradicted, as the
    finer rungs are then within their own error of ``f'``.
    """
    out = (1,) * (D.ndim - 1)
    distance = np.abs(values[:, None] - D[None])  # (candidates, rungs, *out)
    finer = (np.arange(len(D))[None, :] > rungs[:, None]).reshape(distance.shape[:2] + out)
    with np.errstate(invalid="ignore"):
        clash = finer & np.isfinite(distance) & (distance - est_D[None] > est[:, None])
        bound = np.where(clash, distance + est_D[None], -np.inf)
    return np.maximum(est, bound.max(axis=1, initial=-np.inf))


def _taker(index: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def take(a: np.ndarray) -> np.ndarray:
        return np.take_along_axis(np.asarray(a), index[None], axis=0)[0]

    return take


def _richardson(D: np.ndarray, rho: np.ndarray, h: np.ndarray, line: _Line) -> _Estimate:
    """Richardson extrapolation of central differences (a Neville table in ``h^2``).

    Column ``j`` removes the ``h^(2j)`` term: ``T[k, j] = T[k, j-1] + (T[k, j-1] -
    T[k-1, j-1]) / (c - 1)`` with ``c = (h[k-j] / h[k])^2``. Its error is estimated as in
    Ridders' method, by the larger change from the two entries it was made of, widened by the
    rounding carried through the table (``R``, which the extrapolation amplifies), times 2.
    ``R`` starts from the rounding model, or the noise measured where rounding rules (the
    finest rungs, :func:`_noise_level`), whichever is larger. Each estimate must also agree
    with the finer central differences (:func:`_agreement`). The entry with the smallest
    estimate wins.
    """
    col = line.column
    central = _ladder_errors(D, rho, h, 2, 1, given=False)
    R = np.fmax(rho, _SAFETY * _noise_level(D, h) / col(h))
    values, ests, orders = _richardson_table(D, R, h, col)
    rungs = np.tile(np.arange(len(h)), len(values) // len(h))
    ests = _agreement(values, ests, rungs, D, central)
    take = _taker(np.argmin(ests, axis=0))
    error = take(ests)
    if not np.all(np.isfinite(error)):
        raise CalcmlError(
            f"{line.fn.label} is not finite near x = {line.x0:g} at the steps Richardson "
            "extrapolation needs: is it defined and smooth there?"
        )
    rows = np.broadcast_to(col(np.tile(h, len(values) // len(h))), ests.shape)
    return _Estimate(take(values), error, take(rows), take(np.broadcast_to(orders, ests.shape)))


def _richardson_table(
    D: np.ndarray, R: np.ndarray, h: np.ndarray, col: Callable[[Any], np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every extrapolated entry ``T[k, j]`` (j >= 1), its estimated error and its order,
    stacked column after column (NaN and ``inf`` where an entry does not exist)."""
    T = D
    values, ests, orders = [], [], []
    for j in range(1, min(_RICHARDSON_COLUMNS, len(h) - 1) + 1):
        c = col((h[:-j] / h[j:]) ** 2)
        new_T, new_R = np.full(D.shape, np.nan), np.full(D.shape, np.nan)
        new_T[j:] = T[j:] + (T[j:] - T[j - 1 : -1]) / (c - 1)
        new_R[j:] = (c * R[j:] + R[j - 1 : -1]) / (c - 1)
        change = np.full(D.shape, np.nan)
        change[j:] = np.maximum(np.abs(new_T[j:] - T[j:]), np.abs(new_T[j:] - T[j - 1 : -1]))
        with np.errstate(invalid="ignore"):
            est = _SAFETY * (change + 2 * new_R) + new_R + EPS * np.abs(new_T)
        values.append(new_T)
        ests.append(np.where(np.isfinite(est), est, np.inf))
        orders.append(np.full(len(h), 2 * j + 2))
        T, R = new_T, new_R
    return np.concatenate(values), np.concatenate(ests), col(np.concatenate(orders))


def _noise_level(D: np.ndarray, h: np.ndarray, power: int = 1) -> np.ndarray:
    """``noise`` such that the rounding error of rung ``k`` is about ``noise / h[k]^power``.

    It is the largest scatter ``|D[j] - D[j+1]| h[j+1]^power`` on the finest third of the
    ladder that looks like noise: a sample is left out where it is less than half of both
    coarser samples before it, as truncation makes it (falling like ``h^(p+1)`` as the step
    shrinks), while noise stays level. (Truncation is what the estimates and Richardson
    extrapolation deal with; counted as noise it would swamp every coarser rung.)
    """
    col = (-1,) + (1,) * (D.ndim - 1)
    samples = np.abs(D[:-1] - D[1:]) * (h[1:] ** power).reshape(col)
    samples = np.where(np.isfinite(samples), samples, 0.0)
    coarser = np.full(samples.shape, np.inf)
    coarser[2:] = np.minimum(samples[1:-1], samples[:-2])
    noisy = np.where(2 * samples >= coarser, samples, 0.0)
    return np.max(noisy[-max(2, len(samples) // 3) :], axis=0)


def _complex_step(x0: float) -> float:
    """``1e-20``, shrunk with ``|x|`` below 1 (a singularity at 0 is common)."""
    return 1e-20 * min(1.0, max(abs(x0), 1e-30))


def _complex_estimate(line: _Line, step: float | None) -> _Estimate:
    """``Im f(x + ih) / h`` at ``h`` and ``2h``.

    Nothing cancels, so rounding is a few ulps of the result; it is bounded by
    ``4 eps (|D| + |f| / max(1, |x|) + |x f''|)`` (the last two terms cover cancellation
    inside ``f`` and the conditioning of the derivative, with ``f''`` from a cheap central
    check). Truncation ``h^2 f''' / 6`` is estimated from the two steps. The central check
    also confirms that ``f`` is analytic: ``abs``, ``conj`` or ``.real`` inside ``f`` give a
    complex step that disagrees with the finite difference.
    """
    h = _complex_step(line.x0) if step is None else step
    hs = np.array([h, 2 * h])
    values = line.complex(line.x0 + 1j * hs)
    D = values.imag / line.column(hs)
    if not np.all(np.isfinite(values)):
        raise CalcmlError(
            f"{line.fn.label} is not finite at the complex point x + ih = {line.x0:g} + {h:g}i"
        )
    check = _central_check(line)
    curvature = 0.0 if check is None else np.abs(check[2])
    size = np.abs(D[0]) + np.abs(line.f0) / max(1.0, abs(line.x0)) + abs(line.x0) * curvature
    error = _SAFETY * np.abs(D[0] - D[1]) / 3 + 4 * EPS * size + _TINY / h
    if check is not None:
        _agree(D[0], error, check, line)
    return _Estimate(D[0], np.asarray(error), np.full(D[0].shape, h), np.full(D[0].shape, 2))


def _central_check(line: _Line) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A central difference, its error and ``f''`` at a moderate step (shrunk if ``f`` is
    not finite there); None if no step works."""
    h = 2.0 ** round(math.log2(EPS**0.25 * max(1.0, abs(line.x0))))
    for _ in range(4):
        D, rho, hs, curvature = _quotients(line, "central", np.array([h, h / 2]))
        if np.all(np.isfinite(D)):
            error = _ladder_errors(D, rho, hs, 2, 1, given=True)[0]
            return D[0], error, curvature[0]
        h /= 16
    return None


def _agree(
    value: np.ndarray, error: np.ndarray, check: tuple[np.ndarray, ...], line: _Line
) -> None:
    """Refuse a complex step that disagrees with the central check beyond both errors
    (ten times over) and a millionth: then ``f`` is not analytic."""
    central, tolerance = check[0], 10 * (check[1] + error)
    scale = np.abs(central) + np.abs(value) + np.abs(line.f0) / max(1.0, abs(line.x0))
    if np.any(np.abs(value - central) > tolerance + 1e-6 * scale):
        raise CalcmlError(
            f"the complex step gives {_show(value, value.shape)} but a central difference "
            f"gives {_show(central, central.shape)}: {line.fn.label} is not analytic (abs, "
            "conjugate, .real, max or a branch inside?); use another method"
        )


def _hessian(fn: _Function, point: np.ndarray, step: Any) -> tuple[np.ndarray, np.ndarray]:
    """Second differences on a ladder of steps ``h_i = t * scale_i``; the best rung per entry."""
    n = point.size
    scale = 2.0 ** np.round(np.log2(np.maximum(1.0, np.abs(point))))
    if step is None:
        up, down = _HESSIAN_LADDER
        nominal = 2.0 ** round(math.log2(EPS**0.25))
        ts = nominal * 2.0 ** np.arange(up, -down - 1, -1, dtype=float)
        bases = [t * scale for t in ts]
    else:
        given = np.broadcast_to(np.asarray(_coordinate_steps(step, n), dtype=float), (n,))
        ts = np.array([1.0, 0.5])
        bases = [given * t for t in ts]
    f0 = fn.values(point[None])[0]
    if not np.isfinite(f0):
        raise CalcmlError(f"{fn.label} is not defined (or not finite) at {point.tolist()}")
    condition = _condition(fn, point)[0]
    rungs = [_second_differences(fn, point, f0, hs, condition) for hs in bases]
    Q = np.stack([r[0] for r in rungs])
    rho = np.stack([r[1] for r in rungs])
    est = _ladder_errors(Q, rho, ts, 2, 1, given=step is not None)
    if step is None:
        est = _best_rungs(Q, est, rho, ts, 1)
    index = np.zeros((n, n), dtype=int) if step is not None else np.argmin(est, axis=0)
    take = _taker(index)
    value, error = take(Q), take(est)
    if not np.all(np.isfinite(error)):
        raise CalcmlError(
            f"{fn.label} is not finite near {point.tolist()} at the steps the Hessian needs"
        )
    return (value + value.T) / 2, np.maximum(error, error.T)


def _second_differences(
    fn: _Function, x: np.ndarray, f0: float, hs: np.ndarray, condition: float
) -> tuple[np.ndarray, np.ndarray]:
    """All second differences at steps ``hs`` (one per coordinate) and their rounding bounds."""
    n = x.size
    hp, hm = (x + hs) - x, x - (x - hs)
    values = fn.values(_stencil(x, hp, hm))
    Q, rho = np.empty((n, n)), np.empty((n, n))
    for i in range(n):
        fp, fm = values[2 * i], values[2 * i + 1]
        w = hp[i] + hm[i]
        Q[i, i] = 2 * (fp * hm[i] + fm * hp[i] - f0 * w) / (hp[i] * hm[i] * w)
        delta = _value_error(max(abs(fp), abs(fm)), f0, condition)
        rho[i, i] = delta * (2 / (hp[i] * w) + 2 / (hp[i] * hm[i]) + 2 / (hm[i] * w))
    corners = iter(values[2 * n :].reshape(-1, 4))
    for i in range(n):
        for j in range(i + 1, n):
            fpp, fpm, fmp, fmm = next(corners)
            area = (hp[i] + hm[i]) * (hp[j] + hm[j])
            Q[i, j] = Q[j, i] = (fpp - fpm - fmp + fmm) / area
            delta = _value_error(max(abs(fpp), abs(fpm), abs(fmp), abs(fmm)), f0, condition)
            rho[i, j] = rho[j, i] = 4 * delta / area
    return _finite(Q), rho


def _stencil(x: np.ndarray, hp: np.ndarray, hm: np.ndarray) -> np.ndarray:
    """The points of all second differences: ``x ± h_i e_i`` for each ``i``, then the four
    corners ``x ± h_i e_i ± h_j e_j`` for each pair ``i < j``."""
    n = x.size
    rows = []
    for i in range(n):
        rows += [{i: hp[i]}, {i: -hm[i]}]
    for i in range(n):
        for j in range(i + 1, n):
            rows += [{i: a, j: b} for a in (hp[i], -hm[i]) for b in (hp[j], -hm[j])]
    points = np.repeat(x[None], len(rows), axis=0)
    for r, offset in enumerate(rows):
        for i, a in offset.items():
            points[r, i] = x[i] + a
    return points


# -- the study of error against step ---------------------------------------------------------


def _naive(line: _Line, method: str, hs: np.ndarray) -> np.ndarray:
    """The plain quotients with nominal steps (NaN where a value is not finite)."""
    x0, f0 = line.x0, float(line.f0)
    with np.errstate(all="ignore"):
        if method == "complex":
            return line.complex(x0 + 1j * hs).imag / hs
        if method == "forward":
            return (line(x0 + hs) - f0) / hs
        if method == "backward":
            return (f0 - line(x0 - hs)) / hs
        central = _naive_central(line, hs)
        if method == "central":
            return central
        return (4 * _naive_central(line, hs / 2) - central) / 3


def _naive_central(line: _Line, hs: np.ndarray) -> np.ndarray:
    values = line(np.concatenate([line.x0 + hs, line.x0 - hs]))
    return (values[: len(hs)] - values[len(hs) :]) / (2 * hs)


def _study_steps(steps: Iterable[float] | None) -> np.ndarray:
    hs = np.logspace(-16, 0, 65) if steps is None else np.asarray(list(steps), dtype=float)
    hs = np.atleast_1d(hs).ravel()
    if hs.size == 0 or not np.all(np.isfinite(hs)) or np.any(hs <= 0):
        raise CalcmlError("steps must be positive finite numbers, e.g. np.logspace(-16, 0, 65)")
    return hs


def _exact_slope(f: Any, x: float, var: str | sympy.Symbol | None) -> float:
    if callable(f) and not isinstance(f, sympy.Basic):
        raise CalcmlError(
            "a Python callable has no exact derivative to compare with: pass exact=f'(x)"
        )
    expr = as_expr(f)
    symbol = single_variable(expr, var)
    try:
        return float(exact_derivative(expr, symbol, at=x).value)
    except LimitError:
        raise
    except CalcmlError as err:
        raise CalcmlError(f"the exact derivative is not available at x = {x:g}: {err}") from err


# -- small helpers ---------------------------------------------------------------------------


def _check_method(method: str, allowed: Sequence[str]) -> None:
    if method not in allowed:
        raise CalcmlError(f"unknown method {method!r}: use one of {', '.join(allowed)}")


def _as_number(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real | np.number):
        raise CalcmlError(f"{name} must be a real number, not {x!r}")
    value = float(x)
    if not math.isfinite(value):
        raise CalcmlError(f"{name} must be a finite number, not {x!r}")
    return value


def _as_step(step: Any) -> float | None:
    if step is None:
        return None
    h = _as_number(step, "step")
    if h <= 0:
        raise CalcmlError(f"the step must be positive, not {step!r}")
    return h


def _coordinate_steps(step: Any, n: int) -> list[float | None]:
    if step is None:
        return [None] * n
    if isinstance(step, numbers.Real | np.number):
        return [_as_step(step)] * n
    values = np.asarray(step, dtype=float).ravel()
    if values.size != n:
        raise CalcmlError(f"give one step, or one per coordinate ({n}), not {values.size}")
    return [_as_step(v) for v in values]


def _as_array(x: Any) -> np.ndarray:
    if isinstance(x, Mapping):
        raise CalcmlError("a dict point needs an expression (names); give a callable an array")
    try:
        point = np.array(x, dtype=float)
    except (TypeError, ValueError):
        raise CalcmlError(f"the point must be numbers, not {x!r}") from None
    if not np.all(np.isfinite(point)):
        raise CalcmlError(f"the point must be finite, not {point.tolist()}")
    return point


def _finite(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, np.nan)


def _show(p: np.ndarray, shape: tuple[int, ...]) -> str:
    a = np.asarray(p)
    return f"{a.item():g}" if a.size == 1 and shape == () else str(a.reshape(shape).tolist())


def _frozen(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=float)
    out.setflags(write=False)
    return out


__all__ = [
    "METHODS",
    "NumericDerivative",
    "StepErrors",
    "derivative",
    "gradient",
    "hessian",
    "jacobian",
    "step_errors",
]
