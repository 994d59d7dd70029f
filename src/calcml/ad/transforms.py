"""The transforms: functions in, derivative functions out.

``grad`` and ``value_and_grad`` run the function once on traced inputs (reverse mode) and
the chain rule once backwards. ``jvp`` pushes tangents forward; ``vjp`` pulls
cotangents back. ``jacobian`` chooses forward mode (all input directions in one batched
pass) when there are few inputs and reverse mode (one backward pass per output) when
there are few outputs. ``hessian`` is forward-over-reverse: the gradient computed on
forward-mode values that carry all n directions at once, so one pass gives all n^2
second derivatives.

>>> import numpy as np
>>> import calcml.numpy as cnp
>>> f = lambda x: cnp.sum(x ** 3)
>>> grad(f)(np.array([1.0, 2.0]))
array([ 3., 12.])
>>> hessian(f)(np.array([1.0, 2.0]))
array([[ 6.,  0.],
       [ 0., 12.]])
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import CalcmlError
from .core import TAPES, Box, Dual, Traced, check_array_input, new_level, shape_of, value_of
from .table import IN_PLACE_MIN_SIZE, reusable, sum_to


def _refs_of_an_attribute_in_a_local() -> int:
    box = Box(None, 0)
    box.adjoint = np.empty(1)
    old = box.adjoint
    return sys.getrefcount(old)


#: What sys.getrefcount reports for an adjoint held by its box and one local variable only
#: (3 on CPython); measured, like table.FRESH_REFS.
_HELD_REFS = _refs_of_an_attribute_in_a_local()

Function = Callable[..., Any]


# -- reverse mode ---------------------------------------------------------------------------


class _Recording:
    """One reverse-mode evaluation: the inputs' nodes, the tape, and the output."""

    def __init__(self, fun: Function, args: Sequence[Any], argnums: tuple[int, ...]) -> None:
        self.level = new_level()
        self.tape: list[Box] = []
        boxed = list(args)
        self.inputs: list[Box] = []
        for i in argnums:
            box = Box(check_array_input(args[i], f"argument {i}"), self.level)
            boxed[i] = box
            self.inputs.append(box)
        self.values = [box.value for box in self.inputs]
        TAPES[self.level] = self.tape
        try:
            self.out = fun(*boxed)
        finally:
            del TAPES[self.level]
        self.used = False  # adjoints are reset before every backward pass but the first

    @property
    def value(self) -> Any:
        out = self.out
        return out.value if isinstance(out, Box) and out.level == self.level else out

    def backward(self, seed: Any, once: bool = False) -> list[Any]:
        """Cotangents of the inputs for the output cotangent ``seed``.

        ``once``: no other backward pass will follow, so each node's memory is let go as
        soon as the pass is done with it (a 1e6-input gradient then reuses it)."""
        if self.used:
            for box in self.tape:
                box.adjoint = None
            for box in self.inputs:
                box.adjoint = None
        self.used = True
        out = self.out
        if isinstance(out, Box) and out.level == self.level:
            out.adjoint = seed
            _run_backward(self.tape, out if once else None)
        grads: list[Any] = []
        for node, v in zip(self.inputs, self.values, strict=True):
            g = node.adjoint
            if g is None:
                g = np.zeros_like(value_of(v), dtype=float)
            elif type(g) is np.ndarray and (g is seed or any(g is h for h in grads)):
                g = g.copy()  # the caller's cotangent, or another argument's gradient
            grads.append(_own(g))
        return grads


def _run_backward(tape: list[Box], last: Box | None = None) -> None:
    """The chain rule, once: each node hands its adjoint to its parents through its VJPs.

    The tape is in evaluation order, so in reverse every node's adjoint is complete
    before it is used. When the pass is the ``last`` (given the output box, which keeps
    its value), each node lets go of its memory as soon as it is done."""
    for node in reversed(tape):
        g = node.adjoint
        if g is None:
            continue
        primitive, ans, args, kwargs = node.primitive, node.value, node.args, node.kwargs
        if last is not None:
            node.adjoint = node.args = None
            if node is not last:
                node.value = None
        vjps, broadcasts = primitive.vjps, primitive.broadcasts
        for i, parent in node.parents:
            cotangent = vjps[i](g, ans, *args, **kwargs)
            if broadcasts:  # undo it
                arg = args[i]
                target = arg.shape if type(arg) is np.ndarray else shape_of(arg)
                if getattr(cotangent, "shape", ()) != target:
                    cotangent = sum_to(cotangent, target)
            old = parent.adjoint
            if old is None:
                parent.adjoint = cotangent
            elif (
                type(old) is np.ndarray
                and old.size >= IN_PLACE_MIN_SIZE
                and sys.getrefcount(old) == _HELD_REFS  # held by the parent and here only
                and reusable(old)
                and type(cotangent) is np.ndarray
                and cotangent.shape == old.shape
                and cotangent.dtype == old.dtype
            ):
                np.add(old, cotangent, out=old)  # a large sum, into memory already ours
            else:
                parent.adjoint = old + cotangent  # NumPy's own, or the add primitive


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise CalcmlError(f"argnums {argnums!r} does not fit a call with {nargs} argument(s)")
    return tuple(i % nargs for i in nums)


def _scalar_output(rec: _Recording, name: str) -> tuple[int, ...]:
    """The output's shape, () or (1,); anything else is an error that says what to use."""
    shape = shape_of(value_of(rec.out))
    if shape not in ((), (1,)):
        raise CalcmlError(
            f"{name} needs a function with a scalar output, but this one returns shape "
            f"{shape}; for vector outputs use calcml.ad.jacobian (or vjp)"
        )
    return shape


def value_and_grad(fun: Function, argnums: int | Sequence[int] = 0) -> Function:
    """A function returning ``(fun(*args), gradient)`` of a scalar-valued ``fun``.

    With a tuple ``argnums`` the gradient is a tuple, one entry per argument.

    Examples
    --------
    >>> import calcml.numpy as cnp
    >>> value_and_grad(lambda x, y: x * cnp.exp(y), argnums=(0, 1))(2.0, 0.0)
    (2.0, (1.0, 2.0))
    """

    checked: dict[int, tuple[int, ...]] = {}  # argnums, checked once per number of args

    def wrapped(*args: Any) -> tuple[Any, Any]:
        nums = checked.get(len(args))
        if nums is None:
            nums = checked[len(args)] = _argnums(argnums, len(args))
        rec = _Recording(fun, args, nums)
        shape = _scalar_output(rec, "grad")
        grads = rec.backward(np.ones(shape) if shape else 1.0, once=True)
        value = rec.value
        if not shape and not isinstance(value, Traced):
            value = float(value)
        if isinstance(argnums, int):
            return value, _like_input(grads[0], rec.values[0])
        return value, tuple(_like_input(g, v) for g, v in zip(grads, rec.values, strict=True))

    wrapped.__name__ = f"value_and_grad({getattr(fun, '__name__', 'f')})"
    return wrapped


def grad(fun: Function, argnums: int | Sequence[int] = 0) -> Function:
    """The gradient function of a scalar-valued ``fun``: same shape as its argument.

    Higher orders compose: ``grad(grad(f))`` is the second derivative.

    Examples
    --------
    >>> import calcml.numpy as cnp
    >>> grad(cnp.tanh)(0.0)
    1.0
    >>> bool(grad(grad(cnp.sin))(0.5) == -cnp.sin(0.5))
    True
    """
    vg = value_and_grad(fun, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    wrapped.__name__ = f"grad({getattr(fun, '__name__', 'f')})"
    return wrapped


def _own(a: Any, views: bool = True) -> Any:
    """An array the caller may keep and change: read-only ones (a number spread out by
    broadcasting) are copied, and so are views (which may show a cotangent or a tangent
    the caller passed) unless ``views`` is False (views of calcml's own fresh arrays)."""
    if type(a) is np.ndarray and (not a.flags.writeable or (views and a.base is not None)):
        return a.copy()
    return a


def _like_input(g: Any, value: Any) -> Any:
    """Scalars in, scalars out: a 0-d gradient of a float input becomes a float."""
    if isinstance(g, Traced) or shape_of(value) or shape_of(g):
        return g
    return float(g)


def vjp(fun: Function, *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``fun(*primals)`` and a function pulling an output cotangent back to the inputs.

    Examples
    --------
    >>> import numpy as np, calcml.numpy as cnp
    >>> out, pullback = vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> pullback(np.array([1.0, 1.0]))
    (array([2., 6.]),)
    """
    rec = _Recording(fun, primals, tuple(range(len(primals))))

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        if np.shape(value_of(cotangent)) != np.shape(value_of(rec.value)):
            raise CalcmlError(
                f"the cotangent has shape {np.shape(value_of(cotangent))} but the output has "
                f"shape {np.shape(value_of(rec.value))}"
            )
        return tuple(rec.backward(cotangent))

    return rec.value, pullback


# -- forward mode ---------------------------------------------------------------------------


def _push(fun: Function, args: Sequence[Any], argnum: int, seeds: Any) -> tuple[Any, Any]:
    """Run ``fun`` with argument ``argnum`` carrying the batch of tangents ``seeds``
    (shape (k,) + its shape); return the output and its tangents (k,) + out shape."""
    level = new_level()
    moving = list(args)
    x = check_array_input(args[argnum], f"argument {argnum}")
    moving[argnum] = Dual(x, level, seeds)
    out = fun(*moving)
    k = shape_of(seeds)[0]
    if isinstance(out, Dual) and out.level == level:
        return out.value, out.tangent
    return out, np.zeros((k, *shape_of(out)))


def jvp(fun: Function, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``fun(*primals)`` and its directional derivative along ``tangents``.

    Examples
    --------
    >>> import numpy as np, calcml.numpy as cnp
    >>> jvp(lambda x: cnp.sin(x) * 2.0, (0.0,), (1.0,))
    (0.0, 2.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise CalcmlError(f"{len(primals)} primal(s) but {len(tangents)} tangent(s)")
    level = new_level()
    moving = []
    for i, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        x = check_array_input(p, f"primal {i}")
        t = check_array_input(t, f"tangent {i}")
        if shape_of(t) != shape_of(x):
            raise CalcmlError(f"tangent {i} has shape {shape_of(t)}, its primal {shape_of(x)}")
        moving.append(Dual(x, level, _add_batch(t)))
    out = fun(*moving)
    if isinstance(out, Dual) and out.level == level:
        tangent = _own(out.tangent[0])
        return _like_input(out.value, out.value), _like_input(tangent, out.value)
    return out, _like_input(np.zeros(shape_of(out)), out)


def _add_batch(t: Any) -> Any:
    from .table import reshape

    return reshape(t, (1, *shape_of(t)))


# -- matrices of derivatives --------------------------------------------------------------------


def _eye_seeds(x: Any) -> np.ndarray:
    shape = shape_of(x)
    n = math.prod(shape)
    return np.eye(n).reshape((n, *shape))


def jacobian(fun: Function, argnums: int = 0, mode: str = "auto") -> Function:
    """The Jacobian function: shape ``out.shape + in.shape`` (m x n for vectors).

    ``mode`` is "forward" (all n input directions pushed in one batched pass), "reverse"
    (one backward pass per output) or "auto": forward when there are no more inputs than
    outputs (or at most 64 inputs), else reverse.

    Examples
    --------
    >>> import numpy as np, calcml.numpy as cnp
    >>> f = lambda v: cnp.stack([v[0] * v[1], cnp.sin(v[0])])
    >>> jacobian(f)(np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    """
    if mode not in ("auto", "forward", "reverse"):
        raise CalcmlError(f"mode must be 'auto', 'forward' or 'reverse', not {mode!r}")

    def wrapped(*args: Any) -> Any:
        (i,) = _argnums(argnums, len(args))
        x = check_array_input(args[i], f"argument {i}")
        use_forward = mode == "forward" or (mode == "auto" and math.prod(shape_of(x)) <= 64)
        if use_forward:
            return _forward_jacobian(fun, args, i, x)
        return _reverse_jacobian(fun, args, i, x, prefer_forward=mode == "auto")

    wrapped.__name__ = f"jacobian({getattr(fun, '__name__', 'f')})"
    return wrapped


def _forward_jacobian(fun: Function, args: Sequence[Any], i: int, x: Any) -> Any:
    return _forward_value_and_jacobian(fun, args, i, x)[1]


def _forward_value_and_jacobian(
    fun: Function, args: Sequence[Any], i: int, x: Any
) -> tuple[Any, Any]:
    """fun(*args) and its Jacobian in argument i, from one push of all n directions."""
    out, tangents = _push(fun, args, i, _eye_seeds(x))
    out_shape, in_shape = shape_of(out), shape_of(x)
    from .table import reshape, transpose

    n, m = math.prod(in_shape), math.prod(out_shape)
    flat = reshape(tangents, (n, m))
    return out, _own(reshape(transpose(flat), out_shape + in_shape), views=False)


def _reverse_jacobian(
    fun: Function, args: Sequence[Any], i: int, x: Any, prefer_forward: bool
) -> Any:
    rec = _Recording(fun, args, (i,))
    out_shape, in_shape = shape_of(rec.out), shape_of(x)
    m = math.prod(out_shape)
    if prefer_forward and m >= math.prod(in_shape):
        return _forward_jacobian(fun, args, i, x)
    rows = []
    for j in range(m):
        seed = np.zeros(m)
        seed[j] = 1.0
        rows.append(rec.backward(seed.reshape(out_shape))[0])
    from .table import reshape, stack

    return reshape(stack(rows), out_shape + in_shape)


def value_and_jacobian(fun: Function, argnums: int = 0) -> Function:
    """A function returning ``(fun(x), its Jacobian)`` from one forward pass that carries
    all n input directions at once (the Jacobian as :func:`jacobian` in forward mode).

    Examples
    --------
    >>> import numpy as np, calcml.numpy as cnp
    >>> value, jac = value_and_jacobian(lambda v: v * v[0])(np.array([2.0, 3.0]))
    >>> value.tolist(), jac.tolist()
    ([4.0, 6.0], [[4.0, 0.0], [3.0, 2.0]])
    """

    def wrapped(*args: Any) -> tuple[Any, Any]:
        (i,) = _argnums(argnums, len(args))
        x = check_array_input(args[i], f"argument {i}")
        return _forward_value_and_jacobian(fun, args, i, x)

    wrapped.__name__ = f"value_and_jacobian({getattr(fun, '__name__', 'f')})"
    return wrapped


def hessian(fun: Function, argnums: int = 0) -> Function:
    """The Hessian function of a scalar-valued ``fun``: shape ``in.shape + in.shape``.

    Forward-over-reverse: the gradient is computed on forward-mode values that carry
    all n unit directions at once, so one pass gives the whole matrix.

    Examples
    --------
    >>> import numpy as np, calcml.numpy as cnp
    >>> hessian(lambda v: v[0] ** 2 * v[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    gradient = grad(fun, argnums)

    def wrapped(*args: Any) -> Any:
        (i,) = _argnums(argnums, len(args))
        x = check_array_input(args[i], f"argument {i}")
        _, tangents = _push(gradient, args, i, _eye_seeds(x))
        from .table import reshape

        shape = shape_of(x)
        return _own(reshape(tangents, shape + shape), views=False)

    wrapped.__name__ = f"hessian({getattr(fun, '__name__', 'f')})"
    return wrapped
