"""A model to fit: y = f(x; p), with its values and its Jacobian over all data points.

A model is text (the independent variable is ``x``, or ``x1, x2, ...`` for several; the
other names are the parameters) or a Python callable ``f(x, *params)``. Text is
differentiated symbolically once and compiled to one NumPy function that returns f and
every df/dp_j together (common subexpressions shared); a callable gets its Jacobian from
:mod:`calcml.ad` (forward mode: one pass for all parameters), or from finite differences
when it is not written with :mod:`calcml.numpy`.

>>> import numpy as np
>>> m = model_from("b1*(1 - exp(-b2*x))")
>>> m.params, m.inputs
(['b1', 'b2'], ['x'])
>>> f, *jac = m.parts([np.array([0.0, 1.0])], [2.0, 1.0])
>>> f.round(6).tolist(), np.round(jac, 6).tolist()
([0.0, 1.264241], [[0.0, 0.632121], [0.0, 0.735759]])
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from ..errors import CalcmlError
from ..expr import parse, to_text


def natural_key(name: str) -> tuple:
    """Sort b2 before b10: digits compare as numbers."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


@dataclass
class Model:
    """y = f(x; p): ``inputs`` are the independent variables, ``params`` the parameters.

    ``parts(xs, p)`` gives f at every data point and each df/dp_j (a list: the solvers
    write them as rows of one array, one row per parameter).
    """

    params: list[str]
    inputs: list[str]
    expr: sympy.Expr | None = None
    function: Callable | None = field(default=None, repr=False)
    _compiled: Callable | None = field(default=None, repr=False)  # [f, df/dp1, ...]
    _value: Callable | None = field(default=None, repr=False)  # f alone
    notes: list[str] = field(default_factory=list)
    _text: str | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = (
                to_text(self.expr)
                if self.expr is not None
                else getattr(self.function, "__name__", "f")
            )
        return self._text

    def value(self, xs: Sequence[np.ndarray], p: np.ndarray) -> np.ndarray:
        if self._value is not None:
            out = self._value(*xs, *p)
            if type(out) is not np.ndarray or out.shape != xs[0].shape:
                out = np.broadcast_to(np.asarray(out, dtype=float), xs[0].shape)
            return out
        return _call(self.function, xs, p)

    def parts(self, xs: Sequence[np.ndarray], p: Sequence[float]) -> list:
        """[f, df/dp1, df/dp2, ...]: arrays of shape (m,), or numbers where constant (the
        solvers write them straight into their own buffer, with no copy in between)."""
        if self._compiled is not None:
            return self._compiled(*xs, *p)
        f, jac = _callable_value_and_jacobian(self, xs, np.asarray(p, dtype=float))
        return [f, *jac]


# -- text models -------------------------------------------------------------------------


def _inputs_of(names: set[str], data_names: Sequence[str] | None) -> list[str]:
    """The independent variables: those the data names, else x, else x1, x2, ..."""
    if data_names is not None:
        missing = [n for n in data_names if n not in names]
        if missing:
            raise CalcmlError(
                f"the model does not use the data column(s) {', '.join(missing)} "
                f"(its names: {', '.join(sorted(names, key=natural_key))})"
            )
        unfed = [n for n in names if n not in data_names and re.fullmatch(r"x\d*", n)]
        if unfed:
            raise CalcmlError(
                f"the model uses {', '.join(sorted(unfed, key=natural_key))}, but the data "
                f"have no such column (they have {', '.join(data_names)})"
            )
        return list(data_names)
    if "x" in names:
        return ["x"]
    numbered = sorted((n for n in names if re.fullmatch(r"x\d+", n)), key=natural_key)
    if numbered:
        return numbered
    raise CalcmlError(
        "the model has no independent variable: write it in x (or x1, x2, ... for "
        f"several), e.g. 'b1*(1 - exp(-b2*x))'; its names are {', '.join(sorted(names))}"
    )


def model_from(
    model: Any, data_names: Sequence[str] | None = None, p0: Any = None, n_inputs: int = 1
) -> Model:
    """A :class:`Model` from text, a SymPy expression or a callable ``f(x, *params)``."""
    if isinstance(model, Model):
        return model
    if isinstance(model, str | sympy.Expr):
        order = tuple(str(k) for k in p0) if isinstance(p0, Mapping) else None
        names = tuple(data_names) if data_names is not None else None
        return _text_model(model, names, order)
    if callable(model):
        return _callable_model(model, p0, n_inputs)
    raise CalcmlError(
        f"the model must be text such as 'b1*(1 - exp(-b2*x))', a SymPy expression or a "
        f"function f(x, *params), not {type(model).__name__}"
    )


@functools.lru_cache(maxsize=128)
def _text_model(
    model: str | sympy.Expr, data_names: tuple[str, ...] | None, order: tuple[str, ...] | None
) -> Model:
    """The model of a text (parsed, differentiated and compiled once: fitting the same
    model again, to other data or from another start, reuses it)."""
    expr = parse(model) if isinstance(model, str) else model
    names = {str(s) for s in expr.free_symbols}
    inputs = _inputs_of(names, data_names)
    params = _param_order([n for n in names if n not in inputs], order)
    if not params:
        raise CalcmlError(
            f"the model {to_text(expr)} has no parameters to fit: every name in it "
            f"({', '.join(inputs)}) is data"
        )
    value, compiled = _compile(expr, tuple(inputs), tuple(params))
    return Model(params, inputs, expr=expr, _compiled=compiled, _value=value)


def _param_order(names: list[str], order: tuple[str, ...] | None) -> list[str]:
    """Parameters in the order of p0's keys when it is a dict, else sorted naturally."""
    if order is not None:
        given = list(order)
        unknown = [k for k in given if k not in names]
        if unknown:
            raise CalcmlError(
                f"p0 names {', '.join(unknown)}, which the model does not have "
                f"(its parameters: {', '.join(sorted(names, key=natural_key))})"
            )
        missing = [n for n in names if n not in given]
        if missing:
            raise CalcmlError(f"p0 gives no starting value for {', '.join(missing)}")
        return given
    return sorted(names, key=natural_key)


def _compile(
    expr: sympy.Expr, inputs: tuple[str, ...], params: tuple[str, ...]
) -> tuple[Callable, Callable]:
    """NumPy functions of (inputs..., params...): f alone (for trial steps), and
    [f, df/dp1, df/dp2, ...] together (common subexpressions shared). The expression
    comes from calcml's parser (plain identifiers), never from raw text."""
    by_name = {str(s): s for s in expr.free_symbols}
    symbols = [by_name.get(n, sympy.Symbol(n)) for n in (*inputs, *params)]
    parts = [expr, *(sympy.diff(expr, by_name[p]) for p in params)]
    value = sympy.lambdify(symbols, expr, modules="numpy", cse=True)
    return value, sympy.lambdify(symbols, parts, modules="numpy", cse=True)


# -- callable models ------------------------------------------------------------------------


def _callable_model(fn: Callable, p0: Any, n_inputs: int) -> Model:
    if isinstance(p0, Mapping):
        params = [str(k) for k in p0]
    else:
        params = _positional_names(fn)
        if params is None:
            count = len(np.atleast_1d(np.asarray(p0, dtype=float))) if p0 is not None else 0
            params = [f"p{i}" for i in range(count)]
    if not params:
        raise CalcmlError("a callable model f(x, *params) needs p0 to know its parameters")
    inputs = ["x"] if n_inputs == 1 else [f"x{i + 1}" for i in range(n_inputs)]
    return Model(params, inputs, function=fn)


def _positional_names(fn: Callable) -> list[str] | None:
    """The parameter names of f(x, a, b, ...), or None for f(x, *p)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in sig.parameters.values()]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return None
    names = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return names[1:] if len(names) > 1 else None


def _data_arg(xs: Sequence[np.ndarray]) -> Any:
    return xs[0] if len(xs) == 1 else np.stack(xs, axis=1)


def _call(fn: Callable | None, xs: Sequence[np.ndarray], p: np.ndarray) -> np.ndarray:
    assert fn is not None
    try:
        out = fn(_data_arg(xs), *p)
    except CalcmlError:
        raise
    except Exception as err:
        raise CalcmlError(
            f"the model function raised {type(err).__name__}: {err} "
            f"(called as f(x, {', '.join(f'{v:.6g}' for v in p)}))"
        ) from None
    out = np.asarray(out, dtype=float)
    m = xs[0].shape[0]
    if out.shape not in ((m,), ()):
        raise CalcmlError(
            f"the model function returned shape {out.shape}; it must return one value per "
            f"data point, shape ({m},)"
        )
    return np.broadcast_to(out, (m,)).copy()


def _callable_value_and_jacobian(
    model: Model, xs: Sequence[np.ndarray], p: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from .. import ad

    fn = model.function
    data = _data_arg(xs)
    m = xs[0].shape[0]
    if "finite differences" not in " ".join(model.notes):
        try:
            n = len(p)
            value, jac = ad.value_and_jacobian(lambda q: fn(data, *(q[i] for i in range(n))))(p)
            value = np.broadcast_to(np.asarray(value, dtype=float), (m,)).copy()
            jac = np.broadcast_to(np.asarray(jac, dtype=float).reshape(-1, n), (m, n))
            return value, jac.T.copy()
        except CalcmlError:
            raise
        except Exception:
            model.notes.append(
                "the model is not written with calcml.numpy, so automatic differentiation "
                "could not trace it: its Jacobian comes from central finite differences "
                "(about 8 digits); write it with calcml.numpy for exact derivatives"
            )
    return _call(fn, xs, p), _finite_jacobian(fn, xs, p)


def _finite_jacobian(fn: Callable | None, xs: Sequence[np.ndarray], p: np.ndarray) -> np.ndarray:
    jac = np.empty((len(p), xs[0].shape[0]))
    for j in range(len(p)):
        h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(p[j]))
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        jac[j] = (_call(fn, xs, up) - _call(fn, xs, down)) / (2 * h)
    return jac
