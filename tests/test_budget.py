"""Every public operation gives up with LimitError when it runs past its time budget."""

from __future__ import annotations

import signal
import time

import pytest

import calcml as cm
from calcml.budget import time_budget

# A Hessian of a 12-variable expression takes far longer than 10 ms.
BIG = " + ".join(f"sin(x{i} x{(i + 1) % 12})^3 exp(x{i})" for i in range(12))


@pytest.fixture
def tiny_budget():
    before = cm.get_time_budget()
    cm.set_time_budget(0.01)
    yield
    cm.set_time_budget(before)


def test_slow_operation_is_stopped(tiny_budget) -> None:
    start = time.perf_counter()
    with pytest.raises(cm.LimitError, match="time budget"):
        cm.hessian(BIG)
    assert time.perf_counter() - start < 2.0


def test_budget_is_disarmed_afterwards(tiny_budget) -> None:
    with pytest.raises(cm.LimitError):
        cm.hessian(BIG)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    cm.set_time_budget(5.0)
    assert cm.derivative("x^2").result == cm.parse("2x")


def test_the_same_work_finishes_with_the_default_budget() -> None:
    h = cm.hessian(BIG)
    assert h.shape == (12, 12)


def test_nested_budgets_share_the_outermost() -> None:
    with time_budget(5.0), time_budget(0.001):
        time.sleep(0.01)  # the inner budget is not armed: no error
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_budget_must_be_positive() -> None:
    for bad in (0, -1.0):
        with pytest.raises(cm.LimitError):
            cm.set_time_budget(bad)
