"""Outside checks: calcml.ad against numbers published by other projects.

Each expected number is written as published, with the place it comes from. None of
those libraries is needed here: only their published numbers are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import calcml.numpy as cnp
from calcml.ad import grad, hessian, jacobian, jvp, value_and_grad, vjp

# -- micrograd (github.com/karpathy/micrograd, test/test_engine.py) -------------------------
# micrograd's tests build the expressions below with micrograd's Value and with PyTorch
# (torch.Tensor(...).double()) and assert that value and gradient agree, to 1e-6 in
# test_more_ops. micrograd's README prints the test_more_ops numbers to 4 decimals:
#   print(f'{g.data:.4f}')  # prints 24.7041, the outcome of this forward pass
#   print(f'{a.grad:.4f}')  # prints 138.8338, i.e. the numerical value of dg/da
#   print(f'{b.grad:.4f}')  # prints 645.5773, i.e. the numerical value of dg/db
# and in double precision (PyTorch's .double() in the test) they are
# g = 24.70408163265306, dg/da = 138.83381924198252, dg/db = 645.5772594752186.


def sanity_check(x: Any) -> Any:
    # test_sanity_check
    z = 2 * x + 2 + x
    q = cnp.relu(z) + z * x
    h = cnp.relu(z * z)
    y = h + q + q * x
    return y


def test_micrograd_sanity_check() -> None:
    y, dx = value_and_grad(sanity_check)(-4.0)
    assert y == -20.0  # ymg.data == ypt.data.item()
    assert dx == 46.0  # xmg.grad == xpt.grad.item()
    _, tangent = jvp(sanity_check, (-4.0,), (1.0,))
    assert tangent == 46.0


def more_ops(a: Any, b: Any) -> Any:
    # test_more_ops; micrograd's in-place "c += ..." is c = c + (...)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + cnp.relu(b + a)
    d += 3 * d + cnp.relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def test_micrograd_more_ops() -> None:
    g, (da, db) = value_and_grad(more_ops, argnums=(0, 1))(-4.0, 2.0)
    tol = 1e-6  # micrograd's own tolerance
    assert abs(g - 24.70408163265306) < tol
    assert abs(da - 138.83381924198252) < tol
    assert abs(db - 645.5772594752186) < tol
    assert (f"{g:.4f}", f"{da:.4f}", f"{db:.4f}") == ("24.7041", "138.8338", "645.5773")
    # forward mode gives the same two partial derivatives
    _, ta = jvp(more_ops, (-4.0, 2.0), (1.0, 0.0))
    _, tb = jvp(more_ops, (-4.0, 2.0), (0.0, 1.0))
    assert abs(ta - 138.83381924198252) < tol
    assert abs(tb - 645.5772594752186) < tol


# -- JAX: the docstring of jax.hessian (jax/_src/api.py) --------------------------------------
#   >>> g = lambda x: x[0]**3 - 2*x[0]*x[1] - x[1]**6
#   >>> print(jax.hessian(g)(jax.numpy.array([1., 2.])))
#   [[   6.   -2.]
#    [  -2. -480.]]


def test_jax_hessian_docstring_example() -> None:
    def g(x: Any) -> Any:
        return x[0] ** 3 - 2 * x[0] * x[1] - x[1] ** 6

    x = np.array([1.0, 2.0])
    published = np.array([[6.0, -2.0], [-2.0, -480.0]])
    np.testing.assert_array_equal(hessian(g)(x), published)
    np.testing.assert_array_equal(jacobian(grad(g), mode="reverse")(x), published)
    np.testing.assert_array_equal(jacobian(grad(g), mode="forward")(x), published)


# -- numdifftools / AlgoPy: f(x, y, z) = x*y*z + exp(x)*y at (3, 5, 7) ---------------------------
# numdifftools' Jacobian docstring (numdifftools/core.py and nd_algopy.py):
#   >>> fun2 = lambda x : x[0]*x[1]*x[2] + np.exp(x[0])*x[1]
#   >>> Jfun3 = nd.Jacobian(fun2)
#   >>> Jfun3([3.,5.,7.])
#   array([ 135.42768462,   41.08553692,   15.        ])
# Its Hessian at the same point is published by AlgoPy (the AD engine behind
# numdifftools.nd_algopy), in the "Getting Started" output of its documentation:
#   Hessian = [[[ 100.42768462   27.08553692    5.        ]
#     [  27.08553692    0.            3.        ]
#     [   5.            3.            0.        ]]]
#   Hessian vector product = [ 567.13842308  126.34214769   35.        ]   (v = [4, 5, 6])
# The numbers are printed to 8 decimals, so they are compared to 1e-8.


def xyz(v: Any) -> Any:
    x, y, z = v[0], v[1], v[2]
    return x * y * z + cnp.exp(x) * y


def test_numdifftools_gradient() -> None:
    g = grad(xyz)(np.array([3.0, 5.0, 7.0]))
    np.testing.assert_allclose(g, [135.42768462, 41.08553692, 15.0], rtol=0, atol=1e-8)
    J = jacobian(xyz)(np.array([3.0, 5.0, 7.0]))
    np.testing.assert_allclose(J, [135.42768462, 41.08553692, 15.0], rtol=0, atol=1e-8)


def test_numdifftools_algopy_hessian() -> None:
    x = np.array([3.0, 5.0, 7.0])
    published = [
        [100.42768462, 27.08553692, 5.0],
        [27.08553692, 0.0, 3.0],
        [5.0, 3.0, 0.0],
    ]
    np.testing.assert_allclose(hessian(xyz)(x), published, rtol=0, atol=1e-8)
    # Hessian-vector product, forward over reverse
    _, hv = jvp(grad(xyz), (x,), (np.array([4.0, 5.0, 6.0]),))
    np.testing.assert_allclose(hv, [567.13842308, 126.34214769, 35.0], rtol=0, atol=1e-8)
    # and the exact values they round: f_xx = e^3 y, f_xy = z + e^3, f_xz = y, f_yz = x
    e3 = math.exp(3.0)
    exact = [[5 * e3, 7 + e3, 5.0], [7 + e3, 0.0, 3.0], [5.0, 3.0, 0.0]]
    np.testing.assert_allclose(hessian(xyz)(x), exact, rtol=1e-14)


# -- PyTorch: "A Gentle Introduction to torch.autograd" (pytorch.org/tutorials) ------------------
#   a = torch.tensor([2., 3.], requires_grad=True)
#   b = torch.tensor([6., 4.], requires_grad=True)
#   Q = 3*a**3 - b**2
#   external_grad = torch.tensor([1., 1.])
#   Q.backward(gradient=external_grad)
#   # check if collected gradients are correct
#   print(9*a**2 == a.grad)      # tensor([True, True])
#   print(-2*b == b.grad)        # tensor([True, True])
# that is dQ/da = 9 a^2 = [36, 81] and dQ/db = -2 b = [-12, -8].


def test_pytorch_autograd_tutorial() -> None:
    a = np.array([2.0, 3.0])
    b = np.array([6.0, 4.0])

    def Q(a: Any, b: Any) -> Any:
        return 3 * a**3 - b**2

    value, pullback = vjp(Q, a, b)
    np.testing.assert_array_equal(value, [24.0 - 36.0, 81.0 - 16.0])
    da, db = pullback(np.array([1.0, 1.0]))  # external_grad
    np.testing.assert_array_equal(da, [36.0, 81.0])
    np.testing.assert_array_equal(db, [-12.0, -8.0])
    np.testing.assert_array_equal(da, 9 * a**2)
    np.testing.assert_array_equal(db, -2 * b)
    # the same by the sum of Q, and as Jacobians (diagonal: Q is elementwise)
    ga, gb = grad(lambda a, b: cnp.sum(Q(a, b)), argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(ga, [36.0, 81.0])
    np.testing.assert_array_equal(gb, [-12.0, -8.0])
    np.testing.assert_array_equal(jacobian(Q, argnums=0)(a, b), np.diag([36.0, 81.0]))
    np.testing.assert_array_equal(jacobian(Q, argnums=1)(a, b), np.diag([-12.0, -8.0]))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_pytorch_tutorial_jacobian_modes(mode: str) -> None:
    a = np.array([2.0, 3.0])
    J = jacobian(lambda v: 3 * v**3 - np.array([6.0, 4.0]) ** 2, mode=mode)(a)
    np.testing.assert_array_equal(J, np.diag([36.0, 81.0]))
