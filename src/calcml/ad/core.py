"""The machinery of calcml's automatic differentiation: traced values and primitives.

A *primitive* is a NumPy function that knows its derivatives (see :mod:`calcml.ad.table`).
Calling one on plain arrays just runs NumPy. Calling it on a *traced* value records
what happened, so derivatives can be taken:

* reverse mode (:class:`Box`): each call appends a new box to the tape of its trace;
  the tape is in evaluation order, so walking it backwards visits every node after all
  nodes that use it, and the chain rule runs as one backward pass of VJPs;
* forward mode (:class:`Dual`): each call pushes tangents forward with the JVPs at once.
  Tangents carry a leading batch axis, so many directions travel in one pass (a Hessian
  pushes all n of them together).

Transforms can nest (``grad(grad(f))``, forward-over-reverse Hessians): every transform
opens a trace with a new, higher *level*; a primitive unwraps only the values of the
highest level among its arguments and calls itself again on what is inside, so each
level sees the level below as ordinary values. Derivative rules are written with
calcml's own primitives, which is why the derivatives are themselves differentiable.

>>> import calcml.numpy as cnp
>>> from calcml.ad import grad
>>> grad(lambda x: cnp.sin(x) * x)(0.0)
0.0
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import CalcmlError

_levels = itertools.count(1)

#: The tapes of the reverse-mode traces being recorded, by level.
TAPES: dict[int, list] = {}


def new_level() -> int:
    """A level for a new trace: higher than every level opened before it."""
    return next(_levels)


class Traced:
    """A value being traced by a transform; arithmetic on it goes through primitives."""

    __slots__ = ("deep", "level", "value")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: array * box
    __array_priority__ = 1000.0

    value: Any
    level: int
    deep: bool  # the value (or tangent) is itself traced, by a lower level

    # Array-like facts about the value inside.
    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # Operators are bound to primitives in calcml.ad.table.


class Box(Traced):
    """A value in a reverse-mode trace, and the record of the call that made it.

    It is also the node of the computation graph: the primitive, the arguments it was
    called with (opened), which of them are traced (``parents``: argnum and box), and
    the ``adjoint`` filled in by the backward pass. The trace's tape (the list of its
    boxes in evaluation order) is found through :data:`TAPES`, not held by the box: a
    box holding the list that holds it would make a reference cycle, and every
    recording would wait for the garbage collector.
    """

    __slots__ = ("adjoint", "args", "kwargs", "parents", "primitive")

    def __init__(
        self,
        value: Any,
        level: int,
        primitive: Primitive | None = None,
        args: list | None = None,
        kwargs: dict | None = None,
        parents: list[tuple[int, Box]] | None = None,
    ) -> None:
        self.value = value
        self.level = level
        self.deep = isinstance(value, Traced)
        self.primitive = primitive
        self.args = args
        self.kwargs = kwargs
        self.parents = parents or ()
        self.adjoint: Any = None

    @property
    def ans(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"Box({self.value!r}, level={self.level})"


class Dual(Traced):
    """A value in a forward-mode trace: the primal and its tangents (batch axis first)."""

    __slots__ = ("tangent",)

    def __init__(self, value: Any, level: int, tangent: Any) -> None:
        self.value = value
        self.level = level
        self.tangent = tangent
        self.deep = isinstance(value, Traced) or isinstance(tangent, Traced)

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, level={self.level})"


Rule = Callable[..., Any]
_NOTHING = object()  # "no value given", where None is a value
_new_box = object.__new__  # a box without the call to __init__, on the hot path


class Primitive:
    """A NumPy function with its derivative rules.

    ``vjps[i](g, ans, *args, **kwargs)`` gives the cotangent of argument ``i`` from the
    cotangent ``g`` of the result; ``jvps[i](t, ans, *args, **kwargs)`` gives the tangent
    of the result from the tangent ``t`` of argument ``i`` (batch axis first). Rules may
    be missing for arguments that are not differentiable (an axis, an index).
    ``elementwise`` primitives broadcast their arguments, which the machinery undoes.
    """

    __slots__ = (
        "broadcasts",
        "differentiable",
        "differentiable_0",
        "differentiable_1",
        "elementwise",
        "fun",
        "joint_jvp",
        "jvps",
        "local",
        "name",
        "vjps",
    )

    def __init__(
        self,
        name: str,
        fun: Callable[..., Any],
        *,
        vjps: Sequence[Rule | None] = (),
        jvps: Sequence[Rule | None] = (),
        elementwise: bool = False,
        local: Sequence[Rule | None] = (),
    ) -> None:
        self.name = name
        self.fun = fun
        self.vjps = tuple(vjps)
        self.jvps = tuple(jvps)
        self.elementwise = elementwise
        # only elementwise functions of several arguments broadcast (x + y, not sin x)
        self.broadcasts = elementwise and len(self.vjps) > 1
        self.local = tuple(local)  # d(result)/d(arg) for elementwise rules, for trace()
        # joint_jvp(tangents, ans, *args): one forward rule for all arguments at once
        # (tangents[i] is None for those that do not move), where that is cheaper
        self.joint_jvp: Rule | None = None
        self.know_rules()

    def know_rules(self) -> None:
        """Note which arguments have a reverse rule (after the rules change)."""
        self.differentiable = tuple(r is not None for r in self.vjps)
        # the first two, read on the fast paths of one- and two-argument calls
        self.differentiable_0 = len(self.vjps) > 0 and self.vjps[0] is not None
        self.differentiable_1 = len(self.vjps) > 1 and self.vjps[1] is not None

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Fast paths for the commonest calls, sin(x) and x * y, with plain values or boxes
        # of one reverse-mode trace; everything else takes the general path below.
        if len(args) == 1:
            x = args[0]
            if type(x) is Box and not x.deep:
                parents = [(0, x)] if self.differentiable_0 else []
                return self._record(x.level, [x.value], parents, kwargs)
            if not isinstance(x, Traced):
                return self.fun(x, **kwargs)
        elif len(args) == 2:
            x, y = args
            x_box = type(x) is Box and not x.deep
            y_box = type(y) is Box and not y.deep
            if (x_box and (y_box or not isinstance(y, Traced))) or (
                y_box and not isinstance(x, Traced)
            ):
                level = x.level if x_box else y.level
                if not (x_box and y_box) or x.level == y.level:
                    parents = []
                    if x_box and self.differentiable_0:
                        parents.append((0, x))
                    if y_box and self.differentiable_1:
                        parents.append((1, y))
                    values = [x.value if x_box else x, y.value if y_box else y]
                    return self._record(level, values, parents, kwargs)
            elif not isinstance(x, Traced) and not isinstance(y, Traced):
                return self.fun(x, y, **kwargs)
        top = None
        nested = False  # other levels are involved: below this one, call self again
        for arg in args:
            if isinstance(arg, Traced):
                if top is None:
                    top = arg
                    nested = arg.deep
                elif arg.level != top.level or arg.deep:
                    nested = True
                    if arg.level > top.level:
                        top = arg
        if top is None:
            return self.fun(*args, **kwargs)
        if type(top) is not Box:
            return self._push_forward(top.level, args, kwargs, nested)

        # Record a node of the reverse-mode trace.
        level = top.level
        differentiable = self.differentiable
        values = []
        parents = []
        for i, arg in enumerate(args):
            if type(arg) is Box and arg.level == level:
                values.append(arg.value)
                if i < len(differentiable) and differentiable[i]:
                    parents.append((i, arg))
            else:
                values.append(arg)
        if not nested:
            return self._record(level, values, parents, kwargs)
        # Levels below this one are handled by calling the primitive again on what is
        # inside; with a single level, NumPy's function is called directly.
        ans = self(*values, **kwargs)
        box = self._record(level, values, parents, kwargs, ans)
        box.deep = isinstance(ans, Traced)
        return box

    def _record(
        self, level: int, values: list, parents: list, kwargs: dict, ans: Any = _NOTHING
    ) -> Box:
        """Append a node to the tape of ``level``: this primitive, its opened arguments,
        the traced ones among them (``parents``: argnum and box) and its value (computed
        here from ``values`` with NumPy's function unless given)."""
        box = _new_box(Box)
        box.value = self.fun(*values, **kwargs) if ans is _NOTHING else ans
        box.level = level
        box.deep = False
        box.primitive = self
        box.args = values
        box.kwargs = kwargs
        box.parents = parents
        box.adjoint = None
        tape = TAPES.get(level)
        if tape is None:
            raise CalcmlError(
                "a value traced by a transform was used after the transform had finished "
                "(was it kept in a global or a closure?)"
            )
        tape.append(box)
        return box

    def _push_forward(self, level: int, args: tuple, kwargs: dict, nested: bool) -> Any:
        values = list(args)
        moving = []
        jvps = self.jvps
        joint = self.joint_jvp
        for i, arg in enumerate(args):
            if type(arg) is Dual and arg.level == level:
                values[i] = arg.value
                if joint is not None or (i < len(jvps) and jvps[i] is not None):
                    moving.append((i, arg.tangent))
        ans = self(*values, **kwargs) if nested else self.fun(*values, **kwargs)
        if joint is not None:
            tangents: list = [None] * len(values)
            for i, t in moving:
                tangents[i] = t
            return Dual(ans, level, joint(tangents, ans, *values, **kwargs))
        if not moving:
            return ans
        tangent = None
        if self.elementwise:
            shape = shape_of(ans)
            for i, t in moving:
                if shape_of(t)[1:] != shape:
                    t = _align_batch(t, values[i], ans)
                part = jvps[i](t, ans, *values, **kwargs)
                tangent = part if tangent is None else tangent + part
            if shape_of(tangent)[1:] != shape:
                tangent = _fill_batch(tangent, ans)
        else:
            for i, t in moving:
                part = jvps[i](t, ans, *values, **kwargs)
                tangent = part if tangent is None else tangent + part
        return Dual(ans, level, tangent)


def _fill_batch(tangent: Any, ans: Any) -> Any:
    """Broadcast an elementwise result's tangent to (k,) + the result's shape (when only
    a broadcast argument moved, as in x + y with x a scalar)."""
    want = shape_of(ans)
    have = shape_of(tangent)
    if have[1:] == want:
        return tangent
    from . import table

    return table.broadcast_to(tangent, (have[0], *want))


def _align_batch(t: Any, arg: Any, ans: Any) -> Any:
    """Give a tangent (batch axis first) the rank of the result, so that it broadcasts
    against the other operands as its argument does: (k,) for a scalar argument of a
    vector result becomes (k, 1)."""
    arg_shape = shape_of(arg)
    missing = len(shape_of(ans)) - len(arg_shape)
    if missing <= 0:
        return t
    from . import table  # the reshape primitive; here to avoid an import cycle

    return table.reshape(t, (shape_of(t)[0],) + (1,) * missing + arg_shape)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, number or traced value (np.shape is slow for this)."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return shape
    return () if isinstance(x, int | float | complex) else np.shape(x)


def value_of(x: Any) -> Any:
    """The plain value inside any number of traces."""
    while isinstance(x, Traced):
        x = x.value
    return x


def check_array_input(x: Any, what: str) -> Any:
    """A differentiable input: traced values and float arrays as they are, numbers as
    floats, integer arrays as float arrays; anything else is a CalcmlError."""
    if isinstance(x, Traced) or (type(x) is np.ndarray and x.dtype.kind == "f"):
        return x
    # Numbers become NumPy's, so that 1.0 / x in a rule at x = 0 is inf, not an error.
    if isinstance(x, bool | int | np.integer):
        return np.float64(x)
    if isinstance(x, float | complex | np.number):
        return np.float64(x) if type(x) is float else np.complex128(x) if type(x) is complex else x
    try:
        arr = np.asarray(x)
    except Exception as err:  # reported as a calcml error
        raise CalcmlError(f"{what} must be a number or an array, not {type(x).__name__}") from err
    if arr.dtype == object:
        raise CalcmlError(f"{what} must be a number or an array of numbers")
    if arr.dtype.kind not in "biufc":
        raise CalcmlError(f"{what} must be a number or an array of numbers")
    if not np.issubdtype(arr.dtype, np.inexact):
        arr = arr.astype(float)  # integers would make gradients integers
    return arr
