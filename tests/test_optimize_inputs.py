"""Bad input to the optimisers is a CalcmlError with a message, never a raw traceback; and
the bookkeeping of a Result (history, nit, counters, table) tells the truth.

Oracles: the documented contract (every error derives from CalcmlError; history starts
with x0; nit = len(history) - 1; nfev counts this run's evaluations) and counts taken by
hand from a wrapper around the user's function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import calcml as cm
import calcml.numpy as cnp

BAD_INPUT: dict[str, Callable[[], object]] = {
    "x0 too long (bfgs)": lambda: cm.minimize("x^2 + y^2", [1, 2, 3]),
    "x0 too short (newton)": lambda: cm.minimize("x^2 + y^2", [1], method="newton"),
    "x0 too long (gradient_descent)": lambda: cm.gradient_descent("x^2 + y^2", [1, 2, 3]),
    "x0 too long (constrained)": lambda: cm.minimize(
        "x^2 + y^2", [1, 2, 3], constraints=["x + y - 1"]
    ),
    "x0 too long (system)": lambda: cm.newton_raphson(["x + y", "x - y"], [1, 2, 3]),
    "x0 too long (lagrange)": lambda: cm.lagrange("x y", ["x + y - 1"], x0=[1, 2, 3]),
    "vector x0 for one equation": lambda: cm.newton_raphson("x^2 - 2", [1, 2]),
    "empty x0": lambda: cm.minimize("x^2", []),
    "x0 not numbers (minimize)": lambda: cm.minimize("x^2", "a"),
    "x0 not numbers (gradient_descent)": lambda: cm.gradient_descent("x^2", ["a"]),
    "x0 not numbers (newton_raphson)": lambda: cm.newton_raphson("x^2 - 2", "a"),
    "x0 None": lambda: cm.minimize("x^2", None),
    "unknown method": lambda: cm.minimize("x^2", [1], method="cg"),
    "unknown method with constraints": lambda: cm.minimize(
        "x^2 + y^2", [1, 1], method="cg", constraints=["x + y - 1"]
    ),
    "momentum 1.5": lambda: cm.gradient_descent("x^2", [1], momentum=1.5),
    "momentum 1": lambda: cm.gradient_descent("x^2", [1], momentum=1.0),
    "momentum -0.1": lambda: cm.gradient_descent("x^2", [1], momentum=-0.1),
    "momentum nan": lambda: cm.gradient_descent("x^2", [1], momentum=float("nan")),
    "momentum text": lambda: cm.gradient_descent("x^2", [1], momentum="a"),
    "step -1": lambda: cm.gradient_descent("x^2", [1], step=-1),
    "step 0": lambda: cm.gradient_descent("x^2", [1], step=0),
    "step foo": lambda: cm.gradient_descent("x^2", [1], step="foo"),
    "step nan": lambda: cm.gradient_descent("x^2", [1], step=float("nan")),
    "step None": lambda: cm.gradient_descent("x^2", [1], step=None),
    "step a list": lambda: cm.gradient_descent("x^2", [1], step=[0.1]),
    "minimize gradient_descent step -1": lambda: cm.minimize(
        "x^2", [1], method="gradient_descent", step=-1
    ),
    "minimize gradient_descent momentum 1.5": lambda: cm.minimize(
        "x^2", [1], method="gradient_descent", momentum=1.5
    ),
    "constraints []": lambda: cm.minimize("x^2 + y^2", [1, 1], constraints=[]),
    "constraints ()": lambda: cm.minimize("x^2 + y^2", [1, 1], constraints=()),
    "lagrange constraints []": lambda: cm.lagrange("x^2 + y^2", []),
    "lagrange constraints [] with x0": lambda: cm.lagrange("x^2 + y^2", [], x0=[1, 1]),
    "non-scalar f (list)": lambda: cm.minimize(["x^2", "y^2"], [1, 1]),
    "non-scalar f (text with ;)": lambda: cm.minimize("x^2; y^2", [1, 1]),
    "non-scalar f (callable)": lambda: cm.minimize(lambda v: v**2, [1.0, 1.0]),
    "non-scalar f (callable, newton)": lambda: cm.minimize(
        lambda v: v**2, [1.0, 1.0], method="newton"
    ),
    "non-scalar f (gradient_descent)": lambda: cm.gradient_descent(["x^2", "y^2"], [1, 1]),
    "non-scalar f (callable gradient_descent)": lambda: cm.gradient_descent(
        lambda v: v**2, [1.0, 1.0]
    ),
    "non-scalar f (constrained)": lambda: cm.minimize(
        ["x^2", "y^2"], [1, 1], constraints=["x + y - 1"]
    ),
    "more equations than unknowns": lambda: cm.newton_raphson(["x + y", "x - y", "x"], [1, 2]),
    "fewer equations than unknowns": lambda: cm.newton_raphson(["x + y + z", "x - y"], [1, 2, 3]),
    "bad text": lambda: cm.minimize("x +* 2", [1]),
    "bad constraint text": lambda: cm.minimize("x^2 + y^2", [1, 1], constraints=["x +* y"]),
    "f None": lambda: cm.minimize(None, [1.0]),
    "stationary_points bad text": lambda: cm.stationary_points("x +* 2"),
    "callable that raises": lambda: cm.minimize(lambda v: 1 / 0, [1.0]),
}


@pytest.mark.parametrize("call", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_a_calcml_error(call: Callable[[], object]) -> None:
    with pytest.raises(cm.CalcmlError) as info:
        call()
    assert str(info.value)  # a message, not an empty error


def test_messages_name_what_is_wrong() -> None:
    with pytest.raises(cm.CalcmlError, match="x0 needs 2"):
        cm.minimize("x^2 + y^2", [1, 2, 3])
    with pytest.raises(cm.CalcmlError, match="method"):
        cm.minimize("x^2", [1], method="cg")
    with pytest.raises(cm.CalcmlError, match="momentum"):
        cm.gradient_descent("x^2", [1], momentum=1.5)
    with pytest.raises(cm.CalcmlError, match="step"):
        cm.gradient_descent("x^2", [1], step="foo")
    with pytest.raises(cm.CalcmlError, match="constraint"):
        cm.minimize("x^2 + y^2", [1, 1], constraints=[])
    with pytest.raises(cm.CalcmlError, match="scalar"):
        cm.minimize(["x^2", "y^2"], [1, 1])


def test_options_of_one_method_are_not_silently_dropped_by_another() -> None:
    # step= and momentum= belong to gradient descent; given to BFGS they would be ignored.
    with pytest.raises((cm.CalcmlError, TypeError)):
        cm.minimize("x^2", [1], method="bfgs", step=0.1)
    with pytest.raises((cm.CalcmlError, TypeError)):
        cm.minimize("x^2", [1], method="newton", momentum=0.5)


# -- callables -----------------------------------------------------------------------------


def test_callable_with_calcml_numpy_for_minimize_and_newton_raphson() -> None:
    def f(v: np.ndarray) -> object:
        return cnp.sum((v - np.array([1.0, 2.0, 3.0])) ** 2) + cnp.sin(v[0] - 1) ** 2

    for method in ("newton", "bfgs", "gradient_descent"):
        r = cm.minimize(f, x0=[0.0, 0.0, 0.0], method=method)
        assert r.success, (method, r.message)
        np.testing.assert_allclose(r.x, [1, 2, 3], atol=1e-7)
    r = cm.newton_raphson(lambda v: cnp.exp(v[0]) - 2, x0=0.0)
    assert r.success
    assert abs(r.fun) <= 1e-12  # the documented ftol
    assert abs(r.x - np.log(2)) <= 1e-12 / 2 * 1.01  # |f| / |f'| with f' = e^x = 2 there


# -- bookkeeping -------------------------------------------------------------------------------


def test_counters_count_this_run_only_when_a_function_is_reused() -> None:
    f = cm.Function("(x - 1)^2 + (y - 2)^2")
    first = cm.minimize(f, [0, 0], method="bfgs")
    second = cm.minimize(f, [0, 0], method="bfgs")
    assert first.x.tolist() == second.x.tolist()
    assert (second.nfev, second.njev) == (first.nfev, first.njev)


def test_counters_of_newton_raphson_with_a_reused_function() -> None:
    g = cm.Function("x^2 - 2")
    first = cm.newton_raphson(g, 1)
    second = cm.newton_raphson(g, 1)
    assert second.nfev == first.nfev


def test_nfev_counts_the_calls_of_the_value() -> None:
    # f = x^2 with step 1/4 halves x every step: x_k = 2^-k, |grad| = 2^(1-k) <= 1e-6 first
    # at k = 21. One value and one gradient per point visited: 22 of each.
    r = cm.gradient_descent("x^2", [1], step=0.25)
    assert r.success and r.nit == 21
    assert r.nfev == 22 and r.njev == 22
    assert len(r.rows) == 22
    assert r.x[0] == 2.0**-21


@pytest.mark.parametrize(
    "run",
    [
        lambda: cm.minimize("(x - 1)^2 + 3 (y + 1)^2", [2, 2], method="newton"),
        lambda: cm.minimize("(x - 1)^2 + 3 (y + 1)^2", [2, 2], method="bfgs"),
        lambda: cm.minimize("(x - 1)^2 + 3 (y + 1)^2", [2, 2], method="gradient_descent"),
        lambda: cm.gradient_descent("(x - 1)^2 + 3 (y + 1)^2", [2, 2], step=0.1, momentum=0.3),
        lambda: cm.minimize("x^2 + y^2", [2, 2], constraints=["x + y - 1"]),
        lambda: cm.newton_raphson(["x^2 - y", "x + y - 6"], [2, 2]),
        lambda: cm.lagrange("x y", ["x + y - 10"], x0=[2, 2]),
    ],
    ids=["newton", "bfgs", "gd", "momentum", "sqp", "system", "lagrange"],
)
def test_every_result_history_starts_with_x0_and_ends_at_x(run: Callable) -> None:
    r = run()
    assert r.success, r.message
    np.testing.assert_array_equal(np.ravel(r.history[0]), [2.0, 2.0])
    np.testing.assert_array_equal(np.ravel(r.history[-1]), np.ravel(r.x))
    assert r.nit == len(r.history) - 1
    assert r.rows and r.rows[0]["k"] == 0
    d = r.to_dict()
    assert d["success"] is True and d["nit"] == r.nit
    assert r.method in r.explain()


def test_history_of_one_equation_starts_with_x0() -> None:
    r = cm.newton_raphson("x^2 - 2", x0=1)
    assert r.history[0] == 1.0 and r.history[-1] == r.x
    assert [row["x"] for row in r.rows] == r.history


def test_table_separator_lines_up_with_the_columns() -> None:
    # Each run of dashes in the second line starts where its column's header starts.
    r = cm.gradient_descent("x^2", [1], step=0.25)
    header, dashes = r.table().splitlines()[:2]
    starts = [header.index(k) for k in ("k", "x", "f(x)", "|grad f|", "step")]
    dash_starts = [
        i for i, ch in enumerate(dashes) if ch == "-" and (i == 0 or dashes[i - 1] == " ")
    ]
    assert dash_starts == starts, "\n" + header + "\n" + dashes


def test_table_of_a_long_run_shows_its_ends_and_an_empty_one_says_so() -> None:
    r = cm.gradient_descent("x^2", [1], step=0.25)  # 22 rows
    lines = r.table(max_rows=6).splitlines()
    assert len(lines) == 2 + 7  # header, dashes, 3 first rows, "...", 3 last rows
    assert lines[5].split()[0] == "..."
    assert lines[2].split()[0] == "0" and lines[-1].split()[0] == "21"
    empty = cm.optimize.Result(x=0.0, fun=0.0, success=False, status="s", message="m")
    assert empty.table() == "(no iterations)"
    assert empty.nit == 0


def test_to_dict_is_plain_python() -> None:
    import json

    r = cm.minimize("x^2 + y^2", [1, 1], constraints=["x + y - 1"])
    d = r.to_dict()
    text = json.dumps(d)  # no NumPy objects left
    assert json.loads(text)["multipliers"] == [1.0]
    assert d["x"] == [0.5, 0.5]
    assert d["history"][0] == [1.0, 1.0]
