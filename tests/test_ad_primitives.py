"""Every differentiable function of calcml.numpy, against finite differences.

For each primitive, hypothesis draws shapes (scalars, vectors, matrices, broadcasting
pairs), values inside the function's domain (a margin away from kinks and
singularities) and axis / keepdims arguments. Then:

(a) VJP: ``calcml.ad.vjp`` pulled back with a random cotangent equals the
    finite-difference gradient of <cotangent, f(args)> in every argument;
(b) JVP: ``calcml.ad.jvp`` equals the directional finite difference;
(c) second order: ``hessian`` (each argument) and ``jacobian(grad)`` (across arguments)
    equal the finite-difference Hessian of a random scalar reduction sum(w * f(args)),
    and ``grad(grad(.))`` of its restriction to a line (and to a plane, for the mixed
    partial) equals u^T H v;
(d) forward-over-reverse, reverse-over-reverse and reverse-over-forward
    Hessian-vector products agree, and so do the Hessians built from them.

The finite differences (tests/ad_oracle.py) evaluate a NumPy reference of each
function: on complex input (complex step) where it is analytic, else central
differences. Exact subgradients at kinks and NaN-free derivatives where the true
derivative exists are checked at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ad_oracle as oracle
import calcml.numpy as cnp
from calcml.ad import grad, hessian, jacobian, jvp, vjp

FIRST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECOND = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """One call of a primitive: calcml's version, NumPy's reference, the arguments
    (all of them differentiable; non-differentiable ones are bound in the closures)."""

    label: str
    fun: Callable[..., Any] = field(repr=False)
    ref: Callable[..., Any] = field(repr=False)
    args: tuple[np.ndarray, ...]
    analytic: bool = True

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [np.shape(a) for a in self.args]


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from(
    points: tuple[float, ...], lo: float = -2.0, hi: float = 2.0, margin: float = 0.05
) -> st.SearchStrategy[float]:
    """Reals in [lo, hi], at least ``margin`` from each of ``points`` (kinks)."""
    return floats(lo, hi).filter(lambda v: all(abs(v - p) >= margin for p in points))


def either_sign(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Reals with lo <= |v| <= hi, of either sign."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


ODD_GRID = st.builds(lambda k, j: (2 * k + 1) * 0.1 + j, st.integers(-10, 9), floats(-0.03, 0.03))
EVEN_GRID = st.builds(lambda k, j: 2 * k * 0.1 + j, st.integers(-10, 10), floats(-0.03, 0.03))

UNARY_SHAPES = st.sampled_from([(), (1,), (4,), (2, 3), (3, 1), (2, 1, 2)])
BROADCAST_PAIRS = st.one_of(
    st.sampled_from(
        [
            ((), ()),
            ((4,), (4,)),
            ((2, 3), (2, 3)),
            ((3, 1), (1, 4)),
            ((5,), ()),
            ((), (5,)),
            ((2, 3), (3,)),
            ((3,), (2, 3)),
            ((2, 1, 3), (4, 1)),
        ]
    ),
    hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3).map(
        lambda r: r.input_shapes
    ),
)
REDUCE_SHAPES = st.sampled_from([(), (4,), (2, 3), (3, 1), (2, 3, 2)])


def array(draw: Any, shape: tuple[int, ...], elements: st.SearchStrategy[float]) -> np.ndarray:
    return draw(hnp.arrays(np.float64, shape, elements=elements))


def unary(
    name: str,
    fun: Callable,
    ref: Callable,
    elements: st.SearchStrategy[float],
    analytic: bool = True,
    shapes: st.SearchStrategy = UNARY_SHAPES,
) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        x = array(draw, draw(shapes), elements)
        return Case(name, fun, ref, (x,), analytic)

    return build()


def binary(
    name: str,
    fun: Callable,
    ref: Callable,
    x_elements: st.SearchStrategy[float],
    y_elements: st.SearchStrategy[float],
    analytic: bool = True,
) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        sx, sy = draw(BROADCAST_PAIRS)
        x = array(draw, sx, x_elements)
        y = array(draw, sy, y_elements)
        return Case(name, fun, ref, (x, y), analytic)

    return build()


# NumPy references of the functions NumPy does not have, analytic on complex input.
def ref_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_softplus(x):
    return np.log1p(np.exp(x))


def ref_logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def ref_softmax(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


@st.composite
def axis_and_keepdims(draw: Any, ndim: int) -> tuple[Any, bool]:
    choices: list[Any] = [None]
    if ndim:
        choices += list(range(-ndim, ndim))
    if ndim >= 2:
        choices += [(0, ndim - 1), (-1, 0)] if ndim == 2 else [(0, 2), (1, -1)]
    return draw(st.sampled_from(choices)), draw(st.booleans())


def reduction(
    name: str,
    fun: Callable,
    ref: Callable,
    elements: st.SearchStrategy[float] | None,
    analytic: bool = True,
    unique: bool = False,
    tuple_axes: bool = True,
) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        shape = draw(REDUCE_SHAPES)
        axis, keepdims = draw(axis_and_keepdims(len(shape)))
        if isinstance(axis, tuple) and not tuple_axes:
            axis = axis[0]
        if unique:  # distinct values, 0.15 apart at least: the extreme is never tied
            size = int(np.prod(shape, dtype=int))
            ks = draw(hnp.arrays(np.int64, size, elements=st.integers(-30, 30), unique=True))
            jitter = array(draw, (size,), floats(-0.05, 0.05))
            x = (0.25 * ks + jitter).reshape(shape)
        else:
            x = array(draw, shape, elements)
        label = f"{name}(axis={axis!r}, keepdims={keepdims})"
        return Case(
            label,
            lambda v: fun(v, axis=axis, keepdims=keepdims),
            lambda v: ref(v, axis=axis, keepdims=keepdims),
            (x,),
            analytic,
        )

    return build()


# -- the table of cases ----------------------------------------------------------------------

REAL = floats(-2.0, 2.0)
POSITIVE = floats(0.2, 3.0)
NONZERO = either_sign(0.3, 2.0)
UNIT = floats(-0.9, 0.9)


@st.composite
def power_cases(draw: Any) -> Case:
    kind = draw(st.sampled_from(["both", "const_exp", "const_base", "operator"]))
    if kind == "both":  # x^y in both arguments: a positive base
        sx, sy = draw(BROADCAST_PAIRS)
        x = array(draw, sx, floats(0.3, 2.0))
        y = array(draw, sy, floats(-2.0, 2.0))
        return Case("power(x, y)", cnp.power, np.power, (x, y))
    if kind == "const_exp":  # whole exponents: any sign of the base
        p = draw(st.sampled_from([2, 3, 2.0, 3.0, 4.0, -1.0, -2.0]))
        elements = NONZERO if p < 0 else REAL
        x = array(draw, draw(UNARY_SHAPES), elements)
        return Case(f"power(x, {p!r})", lambda v: cnp.power(v, p), lambda v: v**p, (x,))
    if kind == "const_base":
        b = draw(st.sampled_from([0.5, 2.0, np.e]))
        x = array(draw, draw(UNARY_SHAPES), REAL)
        return Case(f"{b!r} ** x", lambda v: b**v, lambda v: b**v, (x,))
    x = array(draw, draw(UNARY_SHAPES), floats(0.3, 2.0))
    return Case("x ** 1.5", lambda v: v**1.5, lambda v: v**1.5, (x,))


@st.composite
def clip_cases(draw: Any) -> Case:
    lo = draw(floats(-1.0, 0.0))
    hi = draw(floats(0.2, 1.0))
    x = array(draw, draw(UNARY_SHAPES), away_from((lo, hi)))
    return Case(
        f"clip(x, {lo}, {hi})",
        lambda v: cnp.clip(v, lo, hi),
        lambda v: np.clip(v, lo, hi),
        (x,),
        analytic=False,
    )


@st.composite
def where_cases(draw: Any) -> Case:
    sc, sx, sy = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))[0]
    c = draw(hnp.arrays(np.bool_, sc))
    x = array(draw, sx, REAL)
    y = array(draw, sy, REAL)
    return Case(
        f"where({c.tolist()}, x, y)",
        lambda a, b: cnp.where(c, a, b),
        lambda a, b: np.where(c, a, b),
        (x, y),
    )


@st.composite
def softmax_cases(draw: Any) -> Case:
    shape = draw(st.sampled_from([(1,), (4,), (2, 3), (3, 1), (2, 2, 2)]))
    axis = draw(st.sampled_from(list(range(-len(shape), len(shape)))))
    x = array(draw, shape, floats(-3.0, 3.0))
    return Case(
        f"softmax(axis={axis})",
        lambda v: cnp.softmax(v, axis=axis),
        lambda v: ref_softmax(v, axis=axis),
        (x,),
    )


@st.composite
def dot_cases(draw: Any, name: str = "dot") -> Case:
    pairs = [((4,), (4,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((1, 2), (2, 1))]
    if name == "dot":
        pairs += [((), (3,)), ((2, 2), ())]
    sa, sb = draw(st.sampled_from(pairs))
    a = array(draw, sa, REAL)
    b = array(draw, sb, REAL)
    fun = {"dot": cnp.dot, "matmul": cnp.matmul, "@": lambda u, v: u @ v}[name]
    ref = np.dot if name == "dot" else np.matmul
    return Case(name, fun, ref, (a, b))


@st.composite
def outer_cases(draw: Any) -> Case:
    sa, sb = draw(st.sampled_from([((3,), (4,)), ((1,), (2,)), ((2,), (1,)), ((2, 2), (3,))]))
    return Case("outer", cnp.outer, np.outer, (array(draw, sa, REAL), array(draw, sb, REAL)))


@st.composite
def transpose_cases(draw: Any) -> Case:
    shape = draw(st.sampled_from([(3,), (2, 3), (1, 4), (2, 3, 2)]))
    axes = draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    x = array(draw, shape, REAL)
    if draw(st.booleans()) and axes is None:
        return Case("x.T", lambda v: v.T, lambda v: v.T, (x,))
    return Case(
        f"transpose(axes={axes})",
        lambda v: cnp.transpose(v, axes),
        lambda v: np.transpose(v, axes),
        (x,),
    )


@st.composite
def reshape_cases(draw: Any) -> Case:
    shape, new = draw(
        st.sampled_from(
            [
                ((2, 3), (3, 2)),
                ((2, 3), (6,)),
                ((2, 3), (-1,)),
                ((2, 3), (1, 6)),
                ((2, 3), (3, 1, 2)),
                ((6,), (2, -1)),
                ((), (1, 1)),
                ((1,), ()),
                ((2, 2, 3), (4, 3)),
            ]
        )
    )
    x = array(draw, shape, REAL)
    return Case(
        f"reshape({shape} -> {new})",
        lambda v: cnp.reshape(v, new),
        lambda v: np.reshape(v, new),
        (x,),
    )


INDEXES: dict[tuple[int, ...], list[Any]] = {
    (5,): [
        1,
        -1,
        slice(1, 4),
        slice(None, None, -1),
        slice(None, None, 2),
        [0, 0, 3],  # fancy, repeated
        np.array([[0, 4], [4, 4]]),
        np.array([True, False, True, True, False]),
        (None, slice(1, 3)),
        Ellipsis,
    ],
    (3, 4): [
        1,
        (1, 2),
        (slice(None), 1),
        (Ellipsis, -1),
        (slice(1, None), slice(None, None, -2)),
        ([0, 2, 2], [1, 1, 3]),  # fancy in both axes, repeated
        [2, 0, 2],
        (slice(None), [3, 3, 0]),
        np.arange(12).reshape(3, 4) % 3 == 0,  # boolean mask
        (None, 1),
    ],
    (2, 3, 2): [
        ([0, 1], slice(None), [1, 0]),  # fancy indices split by a slice
        (Ellipsis, [1, 1]),
        (0, [2, 2, 0]),
        (slice(None), 1, slice(None)),
    ],
}


@st.composite
def getitem_cases(draw: Any) -> Case:
    shape = draw(st.sampled_from(list(INDEXES)))
    index = draw(st.sampled_from(INDEXES[shape]))
    x = array(draw, shape, REAL)
    return Case(f"x[{index!r}]", lambda v: v[index], lambda v: v[index], (x,))


@st.composite
def concatenate_cases(draw: Any) -> Case:
    ndim = draw(st.sampled_from([1, 2]))
    k = draw(st.sampled_from([1, 2, 3]))
    axis = draw(st.sampled_from(list(range(-ndim, ndim))))
    other = draw(st.integers(1, 3))
    shapes = []
    for _ in range(k):
        n = draw(st.integers(1, 3))
        shape = [other] * ndim
        shape[axis] = n
        shapes.append(tuple(shape))
    args = tuple(array(draw, s, REAL) for s in shapes)
    return Case(
        f"concatenate(axis={axis})",
        lambda *a: cnp.concatenate(list(a), axis=axis),
        lambda *a: np.concatenate(a, axis=axis),
        args,
    )


@st.composite
def stack_cases(draw: Any) -> Case:
    shape = draw(st.sampled_from([(), (2,), (2, 3)]))
    k = draw(st.sampled_from([1, 2, 3]))
    axis = draw(st.sampled_from(list(range(-len(shape) - 1, len(shape) + 1))))
    args = tuple(array(draw, shape, REAL) for _ in range(k))
    return Case(
        f"stack(axis={axis})",
        lambda *a: cnp.stack(list(a), axis=axis),
        lambda *a: np.stack(a, axis=axis),
        args,
    )


@st.composite
def broadcast_to_cases(draw: Any) -> Case:
    shape, target = draw(
        st.sampled_from(
            [((), (3,)), ((3,), (2, 3)), ((3, 1), (2, 3, 4)), ((1,), (4,)), ((2, 1), (2, 3))]
        )
    )
    x = array(draw, shape, REAL)
    return Case(
        f"broadcast_to({shape} -> {target})",
        lambda v: cnp.broadcast_to(v, target),
        lambda v: np.broadcast_to(v, target),
        (x,),
    )


@st.composite
def expand_dims_cases(draw: Any) -> Case:
    shape = draw(st.sampled_from([(), (3,), (2, 3)]))
    axis = draw(st.sampled_from(list(range(-len(shape) - 1, len(shape) + 1))))
    x = array(draw, shape, REAL)
    return Case(
        f"expand_dims(axis={axis})",
        lambda v: cnp.expand_dims(v, axis),
        lambda v: np.expand_dims(v, axis),
        (x,),
    )


@st.composite
def method_cases(draw: Any) -> Case:
    """The array methods of traced values: .sum .mean .reshape .dot."""
    x = array(draw, (2, 3), REAL)
    kind = draw(st.sampled_from(["sum", "mean", "reshape", "reshape_tuple", "dot"]))
    if kind == "sum":
        return Case("x.sum(axis=1)", lambda v: v.sum(axis=1), lambda v: v.sum(axis=1), (x,))
    if kind == "mean":
        return Case(
            "x.mean(0, keepdims=True)",
            lambda v: v.mean(0, keepdims=True),
            lambda v: v.mean(0, keepdims=True),
            (x,),
        )
    if kind == "reshape":
        return Case("x.reshape(3, 2)", lambda v: v.reshape(3, 2), lambda v: v.reshape(3, 2), (x,))
    if kind == "reshape_tuple":
        return Case("x.reshape((6,))", lambda v: v.reshape((6,)), lambda v: v.reshape(6), (x,))
    w = array(draw, (3,), REAL)
    return Case("x.dot(w)", lambda v, u: v.dot(u), lambda v, u: v.dot(u), (x, w))


@st.composite
def operator_cases(draw: Any) -> Case:
    """Python operators between traced values and plain arrays on either side."""
    c = array(draw, (3,), NONZERO)
    x = array(draw, (3,), floats(0.3, 2.0))
    ops: dict[str, Callable] = {
        "x + c": lambda v: v + c,
        "c + x": lambda v: c + v,
        "c - x": lambda v: c - v,
        "x - c": lambda v: v - c,
        "c * x": lambda v: c * v,
        "c / x": lambda v: c / v,
        "x / c": lambda v: v / c,
        "-x": lambda v: -v,
        "+x": lambda v: +v,
        "abs(-x)": lambda v: abs(-v),
        "x ** c": lambda v: v**c,
        "c ** 2 * x": lambda v: c**2 * v,
        "2 ** x": lambda v: 2**v,
        "c @ x": lambda v: c @ v,
        "x @ c": lambda v: v @ c,
        "1 - x": lambda v: 1 - v,
        "3 / x": lambda v: 3 / v,
    }
    name = draw(st.sampled_from(sorted(ops)))
    analytic = name != "abs(-x)"
    return Case(name, ops[name], ops[name], (x,), analytic)


CASES: dict[str, st.SearchStrategy[Case]] = {
    "add": binary("add", cnp.add, np.add, REAL, REAL),
    "subtract": binary("subtract", cnp.subtract, np.subtract, REAL, REAL),
    "multiply": binary("multiply", cnp.multiply, np.multiply, REAL, REAL),
    "divide": binary("divide", cnp.divide, np.divide, REAL, NONZERO),
    "negative": unary("negative", cnp.negative, np.negative, REAL),
    "power": power_cases(),
    "square": unary("square", cnp.square, np.square, REAL),
    "reciprocal": unary("reciprocal", cnp.reciprocal, np.reciprocal, NONZERO),
    "exp": unary("exp", cnp.exp, np.exp, REAL),
    "expm1": unary("expm1", cnp.expm1, np.expm1, REAL),
    "log": unary("log", cnp.log, np.log, POSITIVE),
    "log1p": unary("log1p", cnp.log1p, np.log1p, floats(-0.7, 2.0)),
    "sqrt": unary("sqrt", cnp.sqrt, np.sqrt, POSITIVE),
    "sin": unary("sin", cnp.sin, np.sin, REAL),
    "cos": unary("cos", cnp.cos, np.cos, REAL),
    "tan": unary("tan", cnp.tan, np.tan, floats(-1.2, 1.2)),
    "arcsin": unary("arcsin", cnp.arcsin, np.arcsin, UNIT),
    "arccos": unary("arccos", cnp.arccos, np.arccos, UNIT),
    "arctan": unary("arctan", cnp.arctan, np.arctan, REAL),
    "sinh": unary("sinh", cnp.sinh, np.sinh, REAL),
    "cosh": unary("cosh", cnp.cosh, np.cosh, REAL),
    "tanh": unary("tanh", cnp.tanh, np.tanh, REAL),
    "abs": unary("abs", cnp.abs, np.abs, NONZERO, analytic=False),
    "sign": unary("sign", cnp.sign, np.sign, NONZERO, analytic=False),
    "maximum": binary("maximum", cnp.maximum, np.maximum, ODD_GRID, EVEN_GRID, analytic=False),
    "minimum": binary("minimum", cnp.minimum, np.minimum, EVEN_GRID, ODD_GRID, analytic=False),
    "clip": clip_cases(),
    "where": where_cases(),
    "sigmoid": unary("sigmoid", cnp.sigmoid, ref_sigmoid, floats(-4.0, 4.0)),
    "softplus": unary("softplus", cnp.softplus, ref_softplus, floats(-4.0, 4.0)),
    "logsumexp": reduction("logsumexp", cnp.logsumexp, ref_logsumexp, floats(-3.0, 3.0)),
    "sum": reduction("sum", cnp.sum, np.sum, REAL),
    "mean": reduction("mean", cnp.mean, np.mean, REAL),
    "prod": reduction("prod", cnp.prod, np.prod, either_sign(0.5, 1.5)),
    "max": reduction("max", cnp.max, np.max, None, analytic=False, unique=True),
    "min": reduction("min", cnp.min, np.min, None, analytic=False, unique=True),
    "dot": dot_cases("dot"),
    "matmul": dot_cases("matmul"),
    "matmul_operator": dot_cases("@"),
    "outer": outer_cases(),
    "transpose": transpose_cases(),
    "reshape": reshape_cases(),
    "getitem": getitem_cases(),
    "concatenate": concatenate_cases(),
    "stack": stack_cases(),
    "broadcast_to": broadcast_to_cases(),
    "expand_dims": expand_dims_cases(),
    "ravel": unary("ravel", cnp.ravel, np.ravel, REAL),
    "softmax": softmax_cases(),
    "relu": unary("relu", cnp.relu, lambda v: np.maximum(v, 0.0), NONZERO, analytic=False),
    "log10": unary("log10", cnp.log10, np.log10, POSITIVE),
    "log2": unary("log2", cnp.log2, np.log2, POSITIVE),
    "methods": method_cases(),
    "operators": operator_cases(),
}
NAMES = sorted(CASES)


# -- helpers -------------------------------------------------------------------------------


def rng_from(data: st.DataObject) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def random_like(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=shape)


def reference_value(case: Case) -> np.ndarray:
    return np.asarray(case.ref(*case.args), dtype=float)


def weighted(case: Case, w: np.ndarray) -> Callable[..., Any]:
    """The calcml scalar sum(w * f(args)): the reduction the second-order checks use."""
    return lambda *args: cnp.sum(cnp.multiply(w, case.fun(*args)))


def replaced(args: tuple, i: int, value: Any) -> tuple:
    return (*args[:i], value, *args[i + 1 :])


def draw_case(data: st.DataObject, name: str) -> Case:
    return data.draw(CASES[name], label="case")


# -- the four checks, on one case ------------------------------------------------------------


def check_vjp(case: Case, rng: np.random.Generator) -> None:
    """(a) the pullback of a random cotangent equals the finite-difference gradient of
    <cotangent, f(args)> in every argument (and has that argument's shape)."""
    want_value = reference_value(case)
    value, pullback = vjp(case.fun, *case.args)
    oracle.assert_close(value, want_value, 1e-12, 1e-12, f"{case.label}: value")
    ct = random_like(rng, want_value.shape)
    got = pullback(ct)
    assert len(got) == len(case.args)
    scalar = oracle.scalar_of(case.ref, case.shapes, ct)
    z = oracle.pack(case.args)
    want = oracle.unpack(oracle.gradient(scalar, z, case.analytic), case.shapes)
    rtol = 1e-10 if case.analytic else 1e-6
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        oracle.assert_close(g, w, rtol, rtol, f"{case.label}: cotangent of argument {i}")


def check_jvp(case: Case, rng: np.random.Generator) -> None:
    """(b) the pushforward of random tangents equals the directional finite difference,
    with all arguments moving and with each moving alone."""
    tangents = tuple(random_like(rng, s) for s in case.shapes)
    value, tangent_out = jvp(case.fun, case.args, tangents)
    oracle.assert_close(value, reference_value(case), 1e-12, 1e-12, f"{case.label}: value")
    want = oracle.directional(case.ref, case.args, tangents, case.analytic)
    rtol = 1e-10 if case.analytic else 1e-6
    oracle.assert_close(tangent_out, want, rtol, rtol, f"{case.label}: tangent")
    if len(case.args) > 1:
        for i in range(len(case.args)):
            alone = tuple(t if j == i else np.zeros_like(t) for j, t in enumerate(tangents))
            _, part = jvp(case.fun, case.args, alone)
            want_i = oracle.directional(case.ref, case.args, alone, case.analytic)
            oracle.assert_close(part, want_i, rtol, rtol, f"{case.label}: tangent of arg {i}")


def check_second_order(case: Case, rng: np.random.Generator) -> None:
    """(c) for s = sum(w * f(args)) with random w: ``hessian`` in each argument and
    ``jacobian(grad)`` across arguments equal the finite-difference Hessian, and
    ``grad(grad(.))`` along a line and across a plane equal u'Hu and u'Hv."""
    w = random_like(rng, reference_value(case).shape)
    s = weighted(case, w)
    shapes, z = case.shapes, oracle.pack(case.args)
    H = oracle.hessian(oracle.scalar_of(case.ref, shapes, w), z, case.analytic)
    sizes = [int(np.prod(sh, dtype=int)) for sh in shapes]
    starts = np.concatenate(([0], np.cumsum(sizes)))
    tol = 1e-5
    for i, si in enumerate(shapes):
        rows = slice(starts[i], starts[i + 1])
        got = hessian(s, argnums=i)(*case.args)
        want = H[rows, rows].reshape(si + si)
        oracle.assert_close(got, want, tol, tol, f"{case.label}: hessian, argument {i}")
        for j, sj in enumerate(shapes):
            if j != i:
                got = jacobian(grad(s, argnums=i), argnums=j)(*case.args)
                want = H[rows, starts[j] : starts[j + 1]].reshape(si + sj)
                oracle.assert_close(got, want, tol, tol, f"{case.label}: d2/d{i}d{j}")

    u = random_like(rng, z.shape)
    v = random_like(rng, z.shape)
    us, vs = oracle.unpack(u, shapes), oracle.unpack(v, shapes)

    def line(t: Any) -> Any:
        return s(*(a + t * d for a, d in zip(case.args, us, strict=True)))

    def plane(t: Any, r: Any) -> Any:
        return s(*(a + t * d + r * e for a, d, e in zip(case.args, us, vs, strict=True)))

    oracle.assert_close(grad(grad(line))(0.0), u @ H @ u, tol, tol, f"{case.label}: u'Hu")
    mixed = grad(grad(plane, argnums=0), argnums=1)(0.0, 0.0)
    oracle.assert_close(mixed, u @ H @ v, tol, tol, f"{case.label}: u'Hv")


def check_modes_agree(case: Case, rng: np.random.Generator) -> None:
    """(d) Hessian-vector products forward-over-reverse, reverse-over-reverse and
    reverse-over-forward agree; so do hessian() and jacobian(grad) in every mode."""
    w = random_like(rng, reference_value(case).shape)
    s = weighted(case, w)
    args = case.args
    zeros = tuple(np.zeros_like(a) for a in args)
    for i, shape in enumerate(case.shapes):
        v = random_like(rng, shape)
        gi = grad(s, argnums=i)
        _, fwd_rev = jvp(gi, args, replaced(zeros, i, v))

        def along(*a: Any, gi: Callable = gi, v: np.ndarray = v) -> Any:
            return cnp.sum(cnp.multiply(gi(*a), v))

        def directional(*a: Any, i: int = i, v: np.ndarray = v) -> Any:
            return jvp(lambda ai: s(*replaced(a, i, ai)), (a[i],), (v,))[1]

        rev_rev = grad(along, argnums=i)(*args)
        rev_fwd = grad(directional, argnums=i)(*args)
        oracle.assert_close(rev_rev, fwd_rev, 1e-9, 1e-9, f"{case.label}: RoR vs FoR, arg {i}")
        oracle.assert_close(rev_fwd, fwd_rev, 1e-9, 1e-9, f"{case.label}: RoF vs FoR, arg {i}")
        H = hessian(s, argnums=i)(*args)
        for mode in ("forward", "reverse", "auto"):
            Hm = jacobian(gi, argnums=i, mode=mode)(*args)
            oracle.assert_close(Hm, H, 1e-9, 1e-9, f"{case.label}: jacobian(grad, {mode})")


# -- every primitive, drawn by hypothesis ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@FIRST
@given(data=st.data())
def test_vjp_matches_finite_differences(name: str, data: st.DataObject) -> None:
    check_vjp(draw_case(data, name), rng_from(data))


@pytest.mark.parametrize("name", NAMES)
@FIRST
@given(data=st.data())
def test_jvp_matches_finite_differences(name: str, data: st.DataObject) -> None:
    check_jvp(draw_case(data, name), rng_from(data))


@pytest.mark.parametrize("name", NAMES)
@SECOND
@given(data=st.data())
def test_second_derivatives_match_finite_differences(name: str, data: st.DataObject) -> None:
    check_second_order(draw_case(data, name), rng_from(data))


@pytest.mark.parametrize("name", NAMES)
@SECOND
@given(data=st.data())
def test_forward_and_reverse_over_reverse_agree(name: str, data: st.DataObject) -> None:
    check_modes_agree(draw_case(data, name), rng_from(data))


# -- fixed cases that random draws might miss --------------------------------------------------


def fixed(shape: tuple[int, ...], seed: int = 0, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def _edge_cases() -> list[Case]:
    cases = []
    for shape, indexes in INDEXES.items():
        x = fixed(shape)
        for index in indexes:
            cases.append(
                Case(f"x{shape}[{index!r}]", lambda v, i=index: v[i], lambda v, i=index: v[i], (x,))
            )
    X22 = np.array([[1.0, 2.0], [3.0, 5.0]])
    cases += [
        # a lower-rank argument broadcast against a higher-rank one
        Case("X / y, y broadcast", cnp.divide, np.divide, (X22, np.array([1.0, 2.0]))),
        Case("x * y, (2,3) * (3,)", cnp.multiply, np.multiply, (fixed((2, 3)), fixed((3,), 1))),
        Case("x * y, (2,) * ()", cnp.multiply, np.multiply, (fixed((2,)), np.array(0.7))),
        Case("x ** y, (2,1) ** ()", cnp.power, np.power, (fixed((2, 1), 0, 0.5, 2), np.array(1.5))),
        Case("dot(A, scalar)", cnp.dot, np.dot, (fixed((2, 2)), np.array(-1.3))),
        Case("outer of a matrix", cnp.outer, np.outer, (fixed((2, 2)), fixed((3,), 1))),
        Case(
            "where((3,1), (), (1,4))",
            lambda a, b: cnp.where(np.array([[True], [False], [True]]), a, b),
            lambda a, b: np.where(np.array([[True], [False], [True]]), a, b),
            (np.array(0.4), fixed((1, 4))),
        ),
        Case(
            "concatenate of three, axis -1",
            lambda a, b, c: cnp.concatenate([a, b, c], axis=-1),
            lambda a, b, c: np.concatenate([a, b, c], axis=-1),
            (fixed((2, 1)), fixed((2, 3), 1), fixed((2, 2), 2)),
        ),
    ]
    for axis in [(0, 1), (0, 2), (-1,), None, 1]:
        for keepdims in (False, True):
            x = fixed((2, 3, 2), 3, 0.5, 1.5)
            for name, fun, ref in [
                ("prod", cnp.prod, np.prod),
                ("sum", cnp.sum, np.sum),
                ("mean", cnp.mean, np.mean),
                ("logsumexp", cnp.logsumexp, ref_logsumexp),
                ("max", cnp.max, np.max),
                ("min", cnp.min, np.min),
            ]:
                cases.append(
                    Case(
                        f"{name}(axis={axis}, keepdims={keepdims})",
                        lambda v, f=fun, a=axis, k=keepdims: f(v, axis=a, keepdims=k),
                        lambda v, f=ref, a=axis, k=keepdims: f(v, axis=a, keepdims=k),
                        (x,),
                        analytic=name not in ("max", "min"),
                    )
                )
    return cases


EDGE_CASES = _edge_cases()


@pytest.mark.parametrize("case", EDGE_CASES, ids=[c.label for c in EDGE_CASES])
def test_fixed_cases(case: Case) -> None:
    rng = np.random.default_rng(1)
    check_vjp(case, rng)
    check_jvp(case, rng)
    check_second_order(case, rng)
    check_modes_agree(case, rng)


# -- subgradients at kinks: the documented values, exactly ------------------------------------


def both_ways(f: Callable, x: Any) -> tuple[Any, Any]:
    """The derivative of f at x from reverse mode and from forward mode (unit tangent,
    elementwise f: the same numbers)."""
    x = np.asarray(x, dtype=float)
    back = grad(lambda v: cnp.sum(f(v)))(x)
    _, forward = jvp(f, (x,), (np.ones_like(x),))
    return back, forward


def test_abs_has_slope_zero_at_zero() -> None:
    for d in both_ways(cnp.abs, [-2.0, 0.0, 3.0]):
        np.testing.assert_array_equal(d, [-1.0, 0.0, 1.0])
    assert grad(cnp.abs)(0.0) == 0.0
    assert grad(lambda v: abs(v))(0.0) == 0.0


def test_sign_has_slope_zero_everywhere() -> None:
    for d in both_ways(cnp.sign, [-2.0, 0.0, 3.0]):
        np.testing.assert_array_equal(d, [0.0, 0.0, 0.0])
    assert grad(grad(lambda v: cnp.sign(v) * v**2))(0.5) == 2.0


def test_relu_has_slope_one_half_at_zero() -> None:
    for d in both_ways(cnp.relu, [-1.0, 0.0, 2.0]):
        np.testing.assert_array_equal(d, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("fun", [cnp.maximum, cnp.minimum])
def test_maximum_and_minimum_share_ties_equally(fun: Callable) -> None:
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 5.0])
    gx, gy = grad(lambda a, b: cnp.sum(fun(a, b)), argnums=(0, 1))(x, y)
    if fun is cnp.maximum:
        np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0])
        np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0])
    else:
        np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
        np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])
    _, tx = jvp(fun, (x, y), (np.ones(3), np.zeros(3)))
    _, ty = jvp(fun, (x, y), (np.zeros(3), np.ones(3)))
    np.testing.assert_array_equal(tx, gx)
    np.testing.assert_array_equal(ty, gy)
    # a tie with a broadcast scalar: each tied entry gives the scalar one half
    g = grad(lambda c: cnp.sum(fun(np.array([2.0, 2.0, 7.0 if fun is cnp.maximum else -7.0]), c)))
    assert g(2.0) == 1.0
    # a number tied with itself: the two halves add up to the whole slope
    assert grad(lambda v: fun(v, v))(1.5) == 1.0


@pytest.mark.parametrize("fun", [cnp.max, cnp.min])
def test_max_and_min_reductions_share_ties_equally(fun: Callable) -> None:
    top = 3.0 if fun is cnp.max else -3.0
    x = np.array([top, 1.0 if fun is cnp.max else -1.0, top, top])
    np.testing.assert_array_equal(grad(fun)(x), [1 / 3, 0.0, 1 / 3, 1 / 3])
    _, t = jvp(fun, (x,), (np.array([3.0, 100.0, 6.0, 0.0]),))
    assert t == pytest.approx(3.0)  # the mean of the tied entries' tangents
    m = np.array([[top, top], [0.0, top]])
    g = grad(lambda v: cnp.sum(fun(v, axis=1)))(m)
    np.testing.assert_array_equal(g, [[0.5, 0.5], [0.0, 1.0]])
    g = grad(lambda v: cnp.sum(fun(v, axis=0, keepdims=True)))(m)
    np.testing.assert_array_equal(g, [[1.0, 0.5], [0.0, 0.5]])


def test_clip_passes_the_gradient_at_its_bounds() -> None:
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    for d in both_ways(lambda v: cnp.clip(v, -1.0, 1.0), x):
        np.testing.assert_array_equal(d, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_is_differentiable_in_its_bounds() -> None:
    # clip(x, lo, hi) = lo where x < lo and hi where x > hi: slope 1 in the bound that is
    # active. A silent 0 here would be a wrong answer.
    x = np.array([-2.0, 0.0, 2.0])
    d_lo, d_hi = grad(lambda lo, hi: cnp.sum(cnp.clip(x, lo, hi)), argnums=(0, 1))(-1.0, 1.0)
    assert (d_lo, d_hi) == (1.0, 1.0)
    _, t = jvp(lambda lo: cnp.clip(x, lo, 1.0), (-1.0,), (1.0,))
    np.testing.assert_array_equal(t, [1.0, 0.0, 0.0])


def test_sqrt_at_zero_has_an_infinite_slope() -> None:
    assert grad(cnp.sqrt)(0.0) == np.inf


# -- no NaN where the derivative exists ----------------------------------------------------------


def test_square_by_power_at_zero() -> None:
    f = lambda v: cnp.power(v, 2.0)  # noqa: E731
    assert grad(f)(0.0) == 0.0
    assert grad(grad(f))(0.0) == 2.0
    assert grad(grad(grad(f)))(0.0) == 0.0
    np.testing.assert_array_equal(hessian(lambda v: cnp.sum(v**2.0))(np.zeros(2)), 2 * np.eye(2))
    g = grad(lambda v: cnp.sum(cnp.power(v, np.array([2.0, 3.0]))))
    np.testing.assert_array_equal(g(np.zeros(2)), [0.0, 0.0])


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 4.0])
def test_whole_powers_at_zero_have_finite_derivatives(p: float) -> None:
    # d^k/dx^k x^p at 0 is p! for k = p and 0 otherwise: all finite
    f = lambda v: v**p  # noqa: E731
    derivatives = [f]
    for _ in range(4):
        derivatives.append(grad(derivatives[-1]))
    for k, d in enumerate(derivatives[1:], start=1):
        want = float(np.prod(np.arange(1, k + 1))) if k == p else 0.0
        assert d(0.0) == want, (p, k, d(0.0))


def test_power_in_the_exponent_at_a_zero_base() -> None:
    # d/dy 0^y = 0 for y > 0 (0^y is identically 0 there), finite, not NaN
    assert grad(lambda y: cnp.power(0.0, y), argnums=0)(2.5) == 0.0
    gx, gy = grad(lambda x, y: x**y, argnums=(0, 1))(0.0, 2.0)
    assert (gx, gy) == (0.0, 0.0)
    _, t = jvp(lambda y: cnp.power(np.zeros(2), y), (np.array([1.5, 3.0]),), (np.ones(2),))
    np.testing.assert_array_equal(t, [0.0, 0.0])


def test_prod_with_zero_entries() -> None:
    np.testing.assert_array_equal(grad(cnp.prod)(np.array([0.0, 2.0, 3.0])), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad(cnp.prod)(np.array([0.0, 2.0, 0.0])), [0.0, 0.0, 0.0])
    _, t = jvp(cnp.prod, (np.array([0.0, 2.0, 3.0]),), (np.array([1.0, 1.0, 1.0]),))
    assert t == 6.0
    g = grad(lambda v: cnp.sum(cnp.prod(v, axis=1)))(np.array([[0.0, 4.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(g, [[4.0, 0.0], [3.0, 2.0]])
    # second order: d2/dx0 dx1 of x0 x1 x2 at (0, 2, 3) is x2 = 3
    H = hessian(cnp.prod)(np.array([0.0, 2.0, 3.0]))
    np.testing.assert_array_equal(H, [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])


def test_stable_functions_far_out() -> None:
    assert grad(cnp.softplus)(1000.0) == 1.0
    assert grad(cnp.softplus)(-1000.0) == 0.0
    assert grad(cnp.sigmoid)(-1000.0) == 0.0
    assert grad(cnp.sigmoid)(1000.0) == 0.0
    g = grad(cnp.logsumexp)(np.array([1000.0, 1000.0]))
    np.testing.assert_allclose(g, [0.5, 0.5])
    J = jacobian(cnp.softmax)(np.array([1000.0, 0.0]))
    assert np.all(np.isfinite(J))
    np.testing.assert_allclose(J, np.zeros((2, 2)), atol=1e-300)
