"""The derivative table: every primitive with its VJP and JVP side by side.

Elementwise functions declare one *local derivative* per argument, d(result)/d(arg),
written with operators where they read as the maths (on plain arrays an operator is
NumPy's own, without the primitive's dispatch; on traced values it is the primitive);
from it the reverse rule is ``g * local`` and the forward rule ``t * local`` (summing
away broadcast axes is done by the machinery). The other primitives (sums, products of
matrices, reshapes, indexing) declare both rules explicitly. Every rule is written with
these same primitives, so every rule can itself be differentiated.

Non-differentiable points get a documented subgradient, never a NaN without cause:
``abs`` and ``sign`` have slope 0 at 0; ``maximum``/``minimum`` and the ``max``/``min``
reductions share the gradient equally between tied arguments; ``clip`` passes the
gradient at its bounds; ``sqrt`` at 0 has an infinite slope, as it should.

>>> import numpy as np
>>> sin.fun is np.sin, sin.name
(True, 'sin')
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .core import Box, Dual, Primitive, Traced, shape_of, value_of

# -- helpers for writing rules --------------------------------------------------------


#: Arrays at least this large are worth reusing in place (below it, the checks cost more
#: than the allocation they save). Fresh arrays of 8 MB cost thousands of page faults
#: here; reusing temporaries is what keeps a 1e6-input gradient near the function's cost.
IN_PLACE_MIN_SIZE = 4096


def _refs_of_a_fresh_local() -> int:
    d = np.empty(1)
    return sys.getrefcount(d)


#: What sys.getrefcount reports for an array held by one local variable and nothing else
#: (2 on CPython: the variable and getrefcount's own argument). Measured rather than
#: assumed; any other holder (a box, a list, a view's base) adds to it.
FRESH_REFS = _refs_of_a_fresh_local()


def reusable(a: Any) -> bool:
    """Whether the large float64 array ``a`` owns its memory and may be overwritten;
    the caller checks that nobody else holds it (see FRESH_REFS)."""
    return (
        a.size >= IN_PLACE_MIN_SIZE
        and a.dtype == np.float64
        and a.base is None
        and a.flags.writeable
    )


def _same_kind(g: Any, d: np.ndarray) -> bool:
    return type(g) is np.ndarray and g.shape == d.shape and g.dtype == d.dtype


def _elementwise(name: str, fun: Any, *locals_: Any) -> Primitive:
    """An elementwise primitive from its local derivatives d(ans)/d(arg_i)."""

    def vjp(local: Any) -> Any:
        def rule(g: Any, ans: Any, *args: Any, **kw: Any) -> Any:
            d = local(ans, *args, **kw)
            if (
                type(d) is np.ndarray
                and d.size >= IN_PLACE_MIN_SIZE
                and sys.getrefcount(d) == FRESH_REFS  # a temporary of this rule's own
                and reusable(d)
                and (type(g) is float or _same_kind(g, d))
            ):
                return np.multiply(g, d, out=d)
            return g * d  # an operator: NumPy's own on plain arrays, a primitive if traced

        return rule

    def jvp(local: Any) -> Any:
        return lambda t, ans, *args, **kw: t * local(ans, *args, **kw)

    return Primitive(
        name,
        fun,
        elementwise=True,
        local=locals_,
        vjps=[vjp(d) if d is not None else None for d in locals_],
        jvps=[jvp(d) if d is not None else None for d in locals_],
    )


def _float_type(x: Any) -> type:
    """complex for complex values (the complex step), else float."""
    kind = x.dtype.kind if type(x) is np.ndarray else None
    return complex if kind == "c" or type(x) is complex else float


def _batch_axis(axis: Any, ndim: int | None = None) -> Any:
    """An axis argument for a tangent, which has an extra batch axis in front."""
    if axis is None:
        return tuple(range(1, ndim + 1)) if ndim is not None else None
    if isinstance(axis, tuple):
        return tuple(a + 1 if a >= 0 else a for a in axis)
    return axis + 1 if axis >= 0 else axis


def _keep(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Re-insert the reduced axes of a reduction's cotangent, then broadcast to shape."""
    if not keepdims and axis is not None:
        axes = axis if isinstance(axis, tuple) else (axis,)
        kept = list(shape)
        for a in axes:
            kept[a % len(shape)] = 1
        g = reshape(g, tuple(kept))
    return broadcast_to(g, shape)


# -- arithmetic -----------------------------------------------------------------------

add = Primitive(
    "add",
    np.add,
    elementwise=True,
    vjps=[lambda g, ans, x, y: g, lambda g, ans, x, y: g],
    jvps=[lambda t, ans, x, y: t, lambda t, ans, x, y: t],
    local=[lambda ans, x, y: 1.0, lambda ans, x, y: 1.0],
)
subtract = Primitive(
    "subtract",
    np.subtract,
    elementwise=True,
    vjps=[lambda g, ans, x, y: g, lambda g, ans, x, y: -g],
    jvps=[lambda t, ans, x, y: t, lambda t, ans, x, y: -t],
    local=[lambda ans, x, y: 1.0, lambda ans, x, y: -1.0],
)
negative = Primitive(
    "negative",
    np.negative,
    elementwise=True,
    vjps=[lambda g, ans, x: -g],
    jvps=[lambda t, ans, x: -t],
    local=[lambda ans, x: -1.0],
)
multiply = _elementwise("multiply", np.multiply, lambda ans, x, y: y, lambda ans, x, y: x)
divide = _elementwise(
    "divide",
    np.true_divide,
    lambda ans, x, y: divide(1.0, y),  # y may be a plain number, even 0: NumPy's inf
    lambda ans, x, y: -ans / y,
)


def _power_base(ans: Any, x: Any, y: Any) -> Any:
    if type(y) in (int, float) and y == 2:
        return 2.0 * x  # the common square: no x**1
    zero = np.asarray(value_of(y)) == 0
    if not isinstance(y, Traced) and np.any(zero):  # d/dx x^0 = 0, even at x = 0
        safe = where(zero, 1.0, x)
        return where(zero, 0.0, y * power(safe, y - 1))
    return y * power(x, y - 1)


def _power_exponent(ans: Any, x: Any, y: Any) -> Any:
    # d/dy x^y = x^y ln x, taken as 0 where x <= 0 (there x^y is only defined for
    # whole y, which do not vary continuously).
    positive = value_of(x) > 0
    return ans * where(positive, log(where(positive, x, 1.0)), 0.0)


power = _elementwise("power", np.power, _power_base, _power_exponent)
square = _elementwise("square", np.square, lambda ans, x: 2.0 * x)
reciprocal = _elementwise("reciprocal", np.reciprocal, lambda ans, x: -(ans * ans))

# -- elementary functions ---------------------------------------------------------------

exp = _elementwise("exp", np.exp, lambda ans, x: ans)
expm1 = _elementwise("expm1", np.expm1, lambda ans, x: ans + 1.0)
log = _elementwise("log", np.log, lambda ans, x: 1.0 / x)
log1p = _elementwise("log1p", np.log1p, lambda ans, x: 1.0 / (x + 1.0))
sqrt = _elementwise("sqrt", np.sqrt, lambda ans, x: 0.5 / ans)
sin = _elementwise("sin", np.sin, lambda ans, x: cos(x))
cos = _elementwise("cos", np.cos, lambda ans, x: -sin(x))
tan = _elementwise("tan", np.tan, lambda ans, x: 1.0 + ans * ans)
arcsin = _elementwise("arcsin", np.arcsin, lambda ans, x: 1.0 / sqrt(1.0 - x * x))
arccos = _elementwise("arccos", np.arccos, lambda ans, x: -1.0 / sqrt(1.0 - x * x))
arctan = _elementwise("arctan", np.arctan, lambda ans, x: 1.0 / (1.0 + x * x))
sinh = _elementwise("sinh", np.sinh, lambda ans, x: cosh(x))
cosh = _elementwise("cosh", np.cosh, lambda ans, x: sinh(x))
tanh = _elementwise("tanh", np.tanh, lambda ans, x: 1.0 - ans * ans)
# |x|: slope sign(x), 0 at x = 0 (a subgradient).
absolute = _elementwise("abs", np.abs, lambda ans, x: sign(x))
sign = _elementwise("sign", np.sign, lambda ans, x: 0.0)


def _sigmoid(x: Any) -> Any:
    # 1 / (1 + e^-x) = (1 + tanh(x/2)) / 2: no exponential to overflow, and one fast ufunc.
    # Far left (x < -17) tanh rounds to -1 and the result to 0, where e^x / (1 + e^x)
    # keeps every digit (sigmoid(-40) = 4.2e-18): those entries are redone that way.
    x = np.asarray(x, dtype=float)
    t = np.tanh(0.5 * x)
    t += 1.0
    t *= 0.5
    if x.size and x.min() < -17.0:
        tail = x < -17.0
        e = np.exp(x[tail]) if t.ndim else np.exp(x)
        if t.ndim:
            t[tail] = e / (1.0 + e)
        else:
            t = e / (1.0 + e)
    return t


def _softplus(x: Any) -> Any:
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


sigmoid = _elementwise("sigmoid", _sigmoid, lambda ans, x: ans * (1.0 - ans))
softplus = _elementwise("softplus", _softplus, lambda ans, x: sigmoid(x))


def _tie_share(x: Any, y: Any, wins: Any) -> Any:
    # 1 where this argument wins, 1/2 on a tie (the gradient is shared), else 0.
    vx, vy = value_of(x), value_of(y)
    return np.where(wins(vx, vy), 1.0, np.where(vx == vy, 0.5, 0.0))


maximum = _elementwise(
    "maximum",
    np.maximum,
    lambda ans, x, y: _tie_share(x, y, np.greater),
    lambda ans, x, y: _tie_share(y, x, np.greater),
)
minimum = _elementwise(
    "minimum",
    np.minimum,
    lambda ans, x, y: _tie_share(x, y, np.less),
    lambda ans, x, y: _tie_share(y, x, np.less),
)


def _inside(ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    v = value_of(x)
    return ((v >= value_of(lo)) & (v <= value_of(hi))).astype(float)


clip = _elementwise(
    "clip",
    np.clip,
    _inside,
    lambda ans, x, lo, hi: (value_of(x) < value_of(lo)).astype(float),
    lambda ans, x, lo, hi: (value_of(x) > value_of(hi)).astype(float),
)
where = _elementwise(
    "where",
    np.where,
    None,
    lambda ans, c, x, y: np.asarray(value_of(c), dtype=bool).astype(float),
    lambda ans, c, x, y: (~np.asarray(value_of(c), dtype=bool)).astype(float),
)

# -- shapes -------------------------------------------------------------------------------


def _sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum x down to ``shape``: the reverse of broadcasting x up from it."""
    x = np.asarray(x)
    extra = x.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and x.shape[extra + i] != 1
    )
    total = x.sum(axis=axes, keepdims=True) if axes else x
    return total.reshape(shape)


sum_to = Primitive(
    "sum_to",
    _sum_to,
    vjps=[lambda g, ans, x, shape: broadcast_to(g, shape_of(x))],
    jvps=[lambda t, ans, x, shape: _sum_to_jvp(t, x, shape)],
)


def _sum_to_jvp(t: Any, x: Any, shape: tuple[int, ...]) -> Any:
    # t is (k, *x.shape): sum x's leading broadcast axes, which come after the batch axis
    missing = len(shape_of(x)) - len(shape)
    if missing:
        t = sum_(t, axis=tuple(range(1, 1 + missing)))
    return sum_to(t, (shape_of(t)[0], *shape))


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    size = getattr(x, "size", 1)
    if size == 1 and math.prod(shape) < IN_PLACE_MIN_SIZE:
        out = np.empty(shape, dtype=_float_type(x))
        out[...] = x  # a number spread out: faster than a broadcast view, when small
        return out
    return np.broadcast_to(x, shape)  # a view: no memory written


broadcast_to = Primitive(
    "broadcast_to",
    _broadcast_to,
    vjps=[lambda g, ans, x, shape: sum_to(g, shape_of(x))],
    jvps=[
        lambda t, ans, x, shape: broadcast_to(
            reshape(t, (shape_of(t)[0],) + (1,) * (len(shape) - len(shape_of(x))) + shape_of(x)),
            (shape_of(t)[0], *shape),
        )
    ],
)
reshape = Primitive(
    "reshape",
    lambda x, shape: x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape),
    vjps=[lambda g, ans, x, shape: reshape(g, shape_of(x))],
    jvps=[lambda t, ans, x, shape: reshape(t, (shape_of(t)[0], *np.shape(value_of(ans))))],
)


def _transpose_axes(axes: Any, ndim: int) -> tuple[int, ...]:
    return tuple(reversed(range(ndim))) if axes is None else tuple(axes)


transpose = Primitive(
    "transpose",
    lambda x, axes=None: x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes),
    vjps=[
        lambda g, ans, x, axes=None: transpose(
            g, tuple(np.argsort(_transpose_axes(axes, len(shape_of(x)))))
        )
    ],
    jvps=[
        lambda t, ans, x, axes=None: transpose(
            t, (0, *(a + 1 for a in _transpose_axes(axes, len(shape_of(x)))))
        )
    ],
)


_BASIC_INDEX = (int, slice, type(None), type(Ellipsis))


def _basic(index: Any) -> bool:
    """Ints, slices, None and Ellipsis only: no entry can be selected twice."""
    if isinstance(index, _BASIC_INDEX):
        return True
    return isinstance(index, tuple) and all(isinstance(p, _BASIC_INDEX) for p in index)


def _untake(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated entries add up)."""
    out = np.zeros(shape, dtype=_float_type(g))
    if _basic(index):
        out[index] = g  # much faster than np.add.at, and the same without repeats
    else:
        np.add.at(out, index, g)
    return out


def _batch_index(index: Any) -> Any:
    return (slice(None), *index) if isinstance(index, tuple) else (slice(None), index)


getitem = Primitive(
    "getitem",
    lambda x, index: x[index],
    vjps=[lambda g, ans, x, index: untake(g, index, shape_of(x))],
)
untake = Primitive(
    "untake",
    _untake,
    vjps=[lambda g, ans, x, index, shape: getitem(g, index)],
    jvps=[lambda t, ans, x, index, shape: untake(t, _batch_index(index), (shape_of(t)[0], *shape))],
)


def _batch_last(t: Any) -> Any:
    n = len(shape_of(t))
    return transpose(t, (*range(1, n), 0))


def _batch_first(t: Any) -> Any:
    n = len(shape_of(t))
    return transpose(t, (n - 1, *range(n - 1)))


def _index_batch_last(index: Any) -> Any:
    # the batch axis, last, is kept by the implicit trailing full slice; an Ellipsis
    # would swallow it, so then it is named
    parts = index if isinstance(index, tuple) else (index,)
    if any(p is Ellipsis for p in parts):
        return (*parts, slice(None))
    return index


def _getitem_jvp(t: Any, ans: Any, x: Any, index: Any) -> Any:
    if _basic(index):  # ints and slices: the batch axis in front is kept by a full slice
        return getitem(t, _batch_index(index))
    # arrays as indexes: their result axes could move in front of a full slice, so the
    # batch axis is moved last (where NumPy keeps it) and back
    return _batch_first(getitem(_batch_last(t), _index_batch_last(index)))


getitem.jvps = (_getitem_jvp,)


def _untake_jvp(t: Any, ans: Any, x: Any, index: Any, shape: tuple[int, ...]) -> Any:
    k = shape_of(t)[0]
    if _basic(index):  # as for getitem: a full slice in front keeps the batch axis
        return untake(t, _batch_index(index), (k, *shape))
    return _batch_first(untake(_batch_last(t), _index_batch_last(index), (*shape, k)))


untake.jvps = (_untake_jvp,)


class _Join(Primitive):
    """concatenate and stack: the arrays come as separate arguments, after the axis, so
    that each can be traced. The reverse rule hands each array its piece of the
    cotangent; the forward rule joins all tangents at once (zeros for constant arrays)."""

    def __init__(self, name: str, fun: Any, piece: Any) -> None:
        super().__init__(name, fun)
        self.piece = piece  # piece(g, axis, arrays, i): the part of g that array i made
        self.joint_jvp = self._joint

    def rules_for(self, n: int) -> None:
        while len(self.vjps) < n + 1:
            i = len(self.vjps)
            self.vjps = (*self.vjps, self._vjp(i - 1) if i else None)
        self.know_rules()

    def _vjp(self, i: int) -> Any:
        return lambda g, ans, axis, *arrays: self.piece(g, axis % len(shape_of(ans)), arrays, i)

    def _joint(self, tangents: list, ans: Any, axis: int, *arrays: Any) -> Any:
        k = next(shape_of(t)[0] for t in tangents if t is not None)
        parts = [
            t if t is not None else np.zeros((k, *shape_of(a)))
            for t, a in zip(tangents[1:], arrays, strict=True)
        ]
        return self(_batch_axis(axis), *parts)


def _concat_piece(g: Any, axis: int, arrays: tuple, i: int) -> Any:
    start = sum(shape_of(a)[axis] for a in arrays[:i])
    index = [slice(None)] * len(shape_of(g))
    index[axis] = slice(start, start + shape_of(arrays[i])[axis])
    return getitem(g, tuple(index))


def _stack_piece(g: Any, axis: int, arrays: tuple, i: int) -> Any:
    return getitem(g, (slice(None),) * axis + (i,))


concat = _Join("concatenate", lambda axis, *a: np.concatenate(a, axis=axis), _concat_piece)
stack_ = _Join("stack", lambda axis, *a: np.stack(a, axis=axis), _stack_piece)


def concatenate(arrays: Any, axis: int = 0) -> Any:
    """Join arrays along an existing axis (differentiable)."""
    arrays = list(arrays)
    concat.rules_for(len(arrays))
    return concat(axis, *arrays)


def stack(arrays: Any, axis: int = 0) -> Any:
    """Join arrays along a new axis (differentiable)."""
    arrays = list(arrays)
    if not arrays:
        raise CalcmlError("stack needs at least one array")
    stack_.rules_for(len(arrays))
    return stack_(axis, *arrays)


# -- reductions ---------------------------------------------------------------------------


def _sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return np.add.reduce(x, axis, None, None, keepdims)  # np.sum's dispatch costs 3 us
    return np.sum(x, axis=axis, keepdims=keepdims)


def _reduce_jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return sum_(t, axis=_batch_axis(axis, len(shape_of(x))), keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if (
        axis is None
        and type(x) is np.ndarray
        and x.dtype == np.float64
        and type(g)
        in (
            float,
            np.float64,
        )
        and x.size < IN_PLACE_MIN_SIZE
    ):
        out = np.empty(x.shape)  # the gradient of a plain sum, spread out: the common case
        out.fill(g)
        return out
    return _keep(g, shape_of(x), axis, keepdims)


sum_ = Primitive(
    "sum",
    _sum,
    vjps=[_sum_vjp],
    jvps=[_reduce_jvp],
)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The mean (differentiable): a sum divided by the count."""
    shape = shape_of(x)
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    count = math.prod(shape[a] for a in axes)
    return divide(sum_(x, axis=axis, keepdims=keepdims), float(count))


def _extreme_share(x: Any, ans: Any, axis: Any) -> Any:
    """Where x attains the reduction's max/min, 1/(number of ties), else 0."""
    vx = np.asarray(value_of(x))
    va = np.asarray(value_of(ans))
    if axis is not None:
        va = np.expand_dims(va, axis) if va.ndim < vx.ndim else va
    hit = (vx == va).astype(float)
    return hit / hit.sum(axis=axis, keepdims=True)


def _extreme(name: str, fun: Any) -> Primitive:
    def vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return multiply(_keep(g, shape_of(x), axis, keepdims), _extreme_share(x, ans, axis))

    def jvp(t: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        share = _extreme_share(x, ans, axis)
        return sum_(multiply(t, share), axis=_batch_axis(axis, len(shape_of(x))), keepdims=keepdims)

    return Primitive(
        name,
        lambda x, axis=None, keepdims=False: fun(x, axis=axis, keepdims=keepdims),
        vjps=[vjp],
        jvps=[jvp],
    )


max_ = _extreme("max", np.max)
min_ = _extreme("min", np.min)


def _prod_others(x: Any, axis: Any) -> Any:
    """Product of all other entries along the axes, for each entry (no division by 0)."""
    x = np.asarray(x, dtype=float)
    axes = tuple(range(x.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(a % x.ndim for a in axes)
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = np.transpose(x, rest + axes)
    flat = moved.reshape((*moved.shape[: len(rest)], -1))  # the reduced axes as one
    ones = np.ones((*flat.shape[:-1], 1))
    left = np.concatenate((ones, np.cumprod(flat, axis=-1)[..., :-1]), axis=-1)
    right = np.concatenate((np.cumprod(flat[..., ::-1], axis=-1)[..., :-1][..., ::-1], ones), -1)
    others = (left * right).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + axes))


def _prod_local(x: Any, axis: Any) -> Any:
    if isinstance(x, Traced):
        # Only reached at second order, which prod_by_slices below provides instead.
        raise CalcmlError("internal: prod's first-order rule was given a traced value")
    return _prod_others(x, axis)


def prod_by_slices(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The product as a chain of multiplications of slices: differentiable to any order
    and exact with zeros, at the price of one multiplication per reduced entry. Used
    when a product is differentiated more than once."""
    shape = shape_of(x)
    nd = len(shape)
    axes = tuple(range(nd)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(a % nd for a in axes)
    rest = tuple(a for a in range(nd) if a not in axes)
    count = math.prod(shape[a] for a in axes) if axes else 1
    y = reshape(transpose(x, rest + axes), (*(shape[a] for a in rest), count))
    out = y[..., 0]
    for i in range(1, count):
        out = multiply(out, y[..., i])
    if keepdims:
        out = reshape(out, tuple(1 if a in axes else shape[a] for a in range(nd)))
    return out


prod = Primitive(
    "prod",
    lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    vjps=[
        lambda g, ans, x, axis=None, keepdims=False: multiply(
            _keep(g, shape_of(x), axis, keepdims), _prod_local(x, axis)
        )
    ],
    jvps=[
        lambda t, ans, x, axis=None, keepdims=False: sum_(
            multiply(t, _prod_local(x, axis)),
            axis=_batch_axis(axis, len(shape_of(x))),
            keepdims=keepdims,
        )
    ],
)


def _logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = np.asarray(x, dtype=float)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _softmax_of(x: Any, ans: Any, axis: Any, keepdims: bool) -> Any:
    return exp(subtract(x, _keep(ans, shape_of(x), axis, keepdims)))


logsumexp = Primitive(
    "logsumexp",
    _logsumexp,
    vjps=[
        lambda g, ans, x, axis=None, keepdims=False: multiply(
            _keep(g, shape_of(x), axis, keepdims), _softmax_of(x, ans, axis, keepdims)
        )
    ],
    jvps=[
        lambda t, ans, x, axis=None, keepdims=False: sum_(
            multiply(t, _softmax_of(x, ans, axis, keepdims)),
            axis=_batch_axis(axis, len(shape_of(x))),
            keepdims=keepdims,
        )
    ],
)

# -- products of vectors and matrices (up to two dimensions) ------------------------------


def _check_matrix(a: Any, b: Any) -> None:
    if len(shape_of(a)) > 2 or len(shape_of(b)) > 2:
        raise CalcmlError("dot and matmul are differentiable for vectors and matrices only")


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = len(shape_of(a)), len(shape_of(b))
    if nb == 1:
        return multiply(g, b) if na == 1 else outer(g, b)
    return matmul(b, g) if na == 1 else matmul(g, transpose(b))


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 1:
        return multiply(g, a) if nb == 1 else outer(a, g)
    return matmul(transpose(a), g)


def _matmul_jvp_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    # t has the batch axis first: (k, n) for a vector b, (k, n, p) for a matrix b.
    return matmul(t, transpose(a)) if len(shape_of(b)) == 1 else matmul(a, t)


def _matmul(a: Any, b: Any) -> Any:
    return np.matmul(a, b)


matmul = Primitive(
    "matmul",
    _matmul,
    vjps=[_matmul_vjp_a, _matmul_vjp_b],
    jvps=[lambda t, ans, a, b: matmul(t, b), _matmul_jvp_b],
)


def dot(a: Any, b: Any) -> Any:
    """Dot product of vectors, or matrix products (differentiable, up to 2-D)."""
    _check_matrix(a, b)
    if not shape_of(a) or not shape_of(b):
        return multiply(a, b)
    return matmul(a, b)


outer = Primitive(
    "outer",
    lambda a, b: np.outer(a, b),
    vjps=[
        lambda g, ans, a, b: reshape(matmul(g, reshape(b, (-1,))), shape_of(a)),
        lambda g, ans, a, b: reshape(matmul(reshape(a, (-1,)), g), shape_of(b)),
    ],
    jvps=[
        lambda t, ans, a, b: multiply(reshape(t, (shape_of(t)[0], -1, 1)), reshape(b, (-1,))),
        lambda t, ans, a, b: multiply(reshape(a, (-1, 1)), reshape(t, (shape_of(t)[0], 1, -1))),
    ],
)

# -- operators on traced values -------------------------------------------------------------


def _r(prim: Primitive) -> Any:
    return lambda self, other: prim(other, self)


def _compare(op: Any) -> Any:
    return lambda self, other: op(value_of(self), value_of(other))


for _cls in (Box, Dual):
    _cls.__add__ = lambda self, other: add(self, other)
    _cls.__radd__ = _r(add)
    _cls.__sub__ = lambda self, other: subtract(self, other)
    _cls.__rsub__ = _r(subtract)
    _cls.__mul__ = lambda self, other: multiply(self, other)
    _cls.__rmul__ = _r(multiply)
    _cls.__truediv__ = lambda self, other: divide(self, other)
    _cls.__rtruediv__ = _r(divide)
    _cls.__pow__ = lambda self, other: power(self, other)
    _cls.__rpow__ = _r(power)
    _cls.__matmul__ = lambda self, other: dot(self, other)
    _cls.__rmatmul__ = lambda self, other: dot(other, self)
    _cls.__neg__ = lambda self: negative(self)
    _cls.__pos__ = lambda self: self
    _cls.__abs__ = lambda self: absolute(self)
    _cls.__getitem__ = lambda self, index: getitem(self, index)
    _cls.__lt__ = _compare(np.less)
    _cls.__le__ = _compare(np.less_equal)
    _cls.__gt__ = _compare(np.greater)
    _cls.__ge__ = _compare(np.greater_equal)
    _cls.__eq__ = _compare(np.equal)
    _cls.__ne__ = _compare(np.not_equal)
    _cls.__hash__ = object.__hash__
    _cls.T = property(lambda self: transpose(self))
    _cls.sum = lambda self, axis=None, keepdims=False: sum_(self, axis=axis, keepdims=keepdims)
    _cls.mean = lambda self, axis=None, keepdims=False: mean(self, axis=axis, keepdims=keepdims)
    _cls.reshape = lambda self, *shape: reshape(
        self, shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    )
    _cls.dot = lambda self, other: dot(self, other)
