"""``calcml.numpy``: the differentiable NumPy namespace.

Write functions with ``import calcml.numpy as cnp`` and ``calcml.ad`` can differentiate
them. On plain arrays every function here is NumPy's own (a few microseconds of
dispatch on top); on values traced by a transform it records or pushes derivatives.
Constants and array constructors are NumPy's.

>>> import calcml.numpy as cnp
>>> float(cnp.sin(cnp.pi / 2))
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from .ad import table as _t
from .ad.core import Traced as _Traced
from .ad.core import value_of as _value_of
from .errors import CalcmlError as _CalcmlError

# -- differentiable functions (the primitives of calcml.ad.table) -------------------------
add, subtract, multiply, divide, negative = _t.add, _t.subtract, _t.multiply, _t.divide, _t.negative
true_divide = divide
power, square, reciprocal = _t.power, _t.square, _t.reciprocal
exp, expm1, log, log1p, sqrt = _t.exp, _t.expm1, _t.log, _t.log1p, _t.sqrt
sin, cos, tan, arcsin, arccos, arctan = _t.sin, _t.cos, _t.tan, _t.arcsin, _t.arccos, _t.arctan
sinh, cosh, tanh = _t.sinh, _t.cosh, _t.tanh
abs = absolute = _t.absolute
sign, maximum, minimum, clip, where = _t.sign, _t.maximum, _t.minimum, _t.clip, _t.where
sigmoid, softplus, logsumexp = _t.sigmoid, _t.softplus, _t.logsumexp
sum = _t.sum_
max, min, mean = _t.max_, _t.min_, _t.mean
dot, outer, concatenate, stack = _t.dot, _t.outer, _t.concatenate, _t.stack
reshape, transpose, broadcast_to = _t.reshape, _t.transpose, _t.broadcast_to


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Product of entries (differentiable; to any order, with zeros handled exactly)."""
    if isinstance(x, _Traced) and x.deep:  # differentiated more than once
        return _t.prod_by_slices(x, axis=axis, keepdims=keepdims)
    return _t.prod(x, axis=axis, keepdims=keepdims)


def matmul(a: Any, b: Any) -> Any:
    """Matrix product (differentiable, vectors and matrices)."""
    return _t.dot(a, b)


def log10(x: Any) -> Any:
    """Base-10 logarithm (differentiable)."""
    return divide(log(x), _np.log(10.0))


def log2(x: Any) -> Any:
    """Base-2 logarithm (differentiable)."""
    return divide(log(x), _np.log(2.0))


def relu(x: Any) -> Any:
    """max(x, 0); at 0 the gradient is 1/2, shared as for any tie of maximum."""
    return maximum(x, 0.0)


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably (differentiable)."""
    return exp(subtract(x, logsumexp(x, axis=axis, keepdims=True)))


def expand_dims(x: Any, axis: int) -> Any:
    shape = list(_np.shape(_value_of(x)))
    where_ = axis if axis >= 0 else len(shape) + 1 + axis
    shape.insert(where_, 1)
    return reshape(x, tuple(shape))


def ravel(x: Any) -> Any:
    return reshape(x, (-1,))


def array(obj: Any, dtype: Any = None) -> Any:
    """An array; lists holding traced values become a stack of them (differentiable)."""
    if isinstance(obj, _Traced):
        return obj
    if isinstance(obj, list | tuple) and _holds_traced(obj):
        return stack([array(item) for item in obj])
    return _np.array(obj, dtype=dtype)


asarray = array


def _holds_traced(obj: Any) -> bool:
    if isinstance(obj, _Traced):
        return True
    if isinstance(obj, list | tuple):
        return any(_holds_traced(item) for item in obj)
    return False


# -- not differentiable: constants, constructors, facts about shapes --------------------------
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.newaxis
float64, float32, int64 = _np.float64, _np.float32, _np.int64
zeros, ones, empty, full, eye, identity = (
    _np.zeros,
    _np.ones,
    _np.empty,
    _np.full,
    _np.eye,
    _np.identity,
)
arange, linspace, logspace, meshgrid = _np.arange, _np.linspace, _np.logspace, _np.meshgrid
ndarray = _np.ndarray


def zeros_like(x: Any, dtype: Any = None) -> Any:
    return _np.zeros_like(_value_of(x), dtype=dtype)


def ones_like(x: Any, dtype: Any = None) -> Any:
    return _np.ones_like(_value_of(x), dtype=dtype)


def shape(x: Any) -> tuple[int, ...]:
    return _np.shape(_value_of(x))


def ndim(x: Any) -> int:
    return _np.ndim(_value_of(x))


def size(x: Any) -> int:
    return int(_np.size(_value_of(x)))


def isfinite(x: Any) -> Any:
    return _np.isfinite(_value_of(x))


def argmax(x: Any, axis: Any = None) -> Any:
    return _np.argmax(_value_of(x), axis=axis)


def argmin(x: Any, axis: Any = None) -> Any:
    return _np.argmin(_value_of(x), axis=axis)


def __getattr__(name: str) -> Any:
    raise AttributeError(
        f"calcml.numpy has no {name!r}: it offers the differentiable functions calcml knows "
        "(see dir(calcml.numpy)); for others use numpy on plain values"
    )


_ = _CalcmlError
