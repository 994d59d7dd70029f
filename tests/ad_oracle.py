"""Finite-difference oracles for the tests of calcml.ad, written with NumPy only.

Nothing here calls calcml: every derivative is measured on a plain NumPy function.

* complex step (for functions analytic at the point, evaluated on complex input):
  f'(x) = Im f(x + i h) / h with h = 1e-20, exact to rounding (no subtraction);
* central differences (for everything else): (f(x + h) - f(x - h)) / 2h with
  h = 1e-6 * max(1, |x|), accurate to about 1e-9 relative for smooth functions.

Second derivatives take central differences (h = 1e-5) of complex-step first
derivatives, or second differences (h = 1e-4) when the function is not analytic.

Functions of several array arguments are handled through ``pack``/``unpack``: all
arguments are laid end to end in one flat vector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

COMPLEX_STEP = 1e-20
CENTRAL_STEP = 1e-6
OUTER_STEP = 1e-5  # central differences of complex-step derivatives
SECOND_STEP = 1e-4  # second differences of the function itself

Scalar = Callable[[np.ndarray], complex | float]


# -- packing several arguments into one vector ------------------------------------------


def pack(args: Sequence[np.ndarray]) -> np.ndarray:
    """All arguments laid end to end in one flat float vector."""
    if not args:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in args])


def unpack(z: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """The arguments of the given shapes back from a flat vector (real or complex)."""
    out, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape, dtype=int))
        out.append(z[start : start + n].reshape(shape))
        start += n
    return out


def scalar_of(
    fun: Callable[..., np.ndarray], shapes: Sequence[tuple[int, ...]], weight: np.ndarray
) -> Scalar:
    """z -> sum(weight * fun(*unpack(z))): a scalar function of the packed arguments."""

    def scalar(z: np.ndarray) -> complex | float:
        return np.sum(weight * fun(*unpack(z, shapes)))

    return scalar


# -- first derivatives --------------------------------------------------------------------


def _central_step(v: float) -> float:
    return CENTRAL_STEP * max(1.0, abs(v))


def gradient(f: Scalar, z: np.ndarray, analytic: bool) -> np.ndarray:
    """The gradient of a scalar function of a flat vector."""
    z = np.asarray(z, dtype=float)
    g = np.zeros(z.size)
    for j in range(z.size):
        if analytic:
            zc = z.astype(complex)
            zc[j] += 1j * COMPLEX_STEP
            g[j] = np.imag(f(zc)) / COMPLEX_STEP
        else:
            h = _central_step(z[j])
            up, down = z.copy(), z.copy()
            up[j] += h
            down[j] -= h
            g[j] = (np.real(f(up)) - np.real(f(down))) / (2 * h)
    return g


def directional(
    fun: Callable[..., np.ndarray],
    args: Sequence[np.ndarray],
    tangents: Sequence[np.ndarray],
    analytic: bool,
) -> np.ndarray:
    """d/ds fun(*(a + s t)) at s = 0: the JVP of fun along the tangents (array valued)."""
    args = [np.asarray(a, dtype=float) for a in args]
    tangents = [np.asarray(t, dtype=float) for t in tangents]
    if analytic:
        moved = [a + 1j * COMPLEX_STEP * t for a, t in zip(args, tangents, strict=True)]
        return np.imag(np.asarray(fun(*moved))) / COMPLEX_STEP
    scale = max([1.0, *(float(np.max(np.abs(a), initial=0.0)) for a in args)])
    h = CENTRAL_STEP * scale
    up = [a + h * t for a, t in zip(args, tangents, strict=True)]
    down = [a - h * t for a, t in zip(args, tangents, strict=True)]
    return (np.real(np.asarray(fun(*up))) - np.real(np.asarray(fun(*down)))) / (2 * h)


# -- second derivatives -------------------------------------------------------------------


def hessian(f: Scalar, z: np.ndarray, analytic: bool) -> np.ndarray:
    """The Hessian of a scalar function of a flat vector (symmetrised)."""
    z = np.asarray(z, dtype=float)
    n = z.size
    H = np.zeros((n, n))
    if analytic:
        for j in range(n):
            h = OUTER_STEP * max(1.0, abs(z[j]))
            up, down = z.copy(), z.copy()
            up[j] += h
            down[j] -= h
            H[:, j] = (gradient(f, up, True) - gradient(f, down, True)) / (2 * h)
    else:
        f0 = float(np.real(f(z)))
        steps = [SECOND_STEP * max(1.0, abs(v)) for v in z]

        def at(moves: dict[int, float]) -> float:
            w = z.copy()
            for k, amount in moves.items():
                w[k] += amount
            return float(np.real(f(w)))

        for i in range(n):
            hi = steps[i]
            H[i, i] = (at({i: hi}) - 2 * f0 + at({i: -hi})) / hi**2
            for j in range(i + 1, n):
                hj = steps[j]
                total = (
                    at({i: hi, j: hj})
                    - at({i: hi, j: -hj})
                    - at({i: -hi, j: hj})
                    + at({i: -hi, j: -hj})
                )
                H[i, j] = H[j, i] = total / (4 * hi * hj)
    return (H + H.T) / 2


def second_directional(f: Scalar, z: np.ndarray, u: np.ndarray, v: np.ndarray, analytic: bool):
    """u^T H v for the Hessian H of a scalar function of a flat vector."""
    z, u, v = (np.asarray(a, dtype=float) for a in (z, u, v))
    if analytic:
        h = OUTER_STEP * max(1.0, float(np.max(np.abs(z), initial=0.0)))

        def slope(w: np.ndarray) -> float:
            return np.imag(f(w + 1j * COMPLEX_STEP * v)) / COMPLEX_STEP

        return (slope(z + h * u) - slope(z - h * u)) / (2 * h)
    h = SECOND_STEP * max(1.0, float(np.max(np.abs(z), initial=0.0)))

    def val(a: float, b: float) -> float:
        return float(np.real(f(z + a * u + b * v)))

    return (val(h, h) - val(h, -h) - val(-h, h) + val(-h, -h)) / (4 * h * h)


# -- comparison -----------------------------------------------------------------------------


def assert_close(got, want, rtol: float = 1e-6, atol: float = 1e-6, what: str = "") -> None:
    """got equals want within tolerance, with the same shape; atol is scaled by the size
    of the expected values, so tolerances are relative for large numbers."""
    got_arr = np.asarray(got, dtype=float)
    want_arr = np.asarray(want, dtype=float)
    assert got_arr.shape == want_arr.shape, (
        f"{what}: shape {got_arr.shape}, expected {want_arr.shape}"
    )
    assert np.all(np.isfinite(got_arr)), f"{what}: not finite: {got_arr}"
    scale = max(1.0, float(np.max(np.abs(want_arr), initial=0.0)))
    np.testing.assert_allclose(got_arr, want_arr, rtol=rtol, atol=atol * scale, err_msg=what)
