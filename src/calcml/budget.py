"""Time budgets: every public operation gives up with a ``LimitError`` instead of hanging.

SymPy can take unbounded time on unlucky input (simplifying a huge expression, solving a
hard system). calcml wraps each public operation in :func:`time_budget`, which arms a
POSIX interval timer in the main thread; when it fires, the operation is interrupted
and a :class:`~calcml.errors.LimitError` is raised. Nested operations share the
outermost budget. Off the main thread (where signals cannot be delivered) the budget
is not enforced, and the size limits of the parser remain the only guard.

>>> import calcml as cm
>>> cm.set_time_budget(5.0)
>>> cm.get_time_budget()
5.0
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from .errors import LimitError

_P = ParamSpec("_P")
_R = TypeVar("_R")

_default_seconds = 5.0
_active = threading.local()


def set_time_budget(seconds: float) -> None:
    """Set the default time budget (in seconds) of each public operation."""
    global _default_seconds
    if not seconds > 0:
        raise LimitError(f"the time budget must be positive, not {seconds!r}")
    _default_seconds = float(seconds)


def get_time_budget() -> float:
    """The default time budget of each public operation, in seconds."""
    return _default_seconds


class _BudgetExceeded(BaseException):
    # A BaseException so that no ``except Exception`` inside SymPy swallows it.
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _BudgetExceeded


@contextmanager
def time_budget(seconds: float | None = None, what: str = "this operation") -> Iterator[None]:
    """Run the body under a time budget; raise ``LimitError`` if it is exceeded."""
    if getattr(_active, "depth", 0) or threading.current_thread() is not threading.main_thread():
        # Inside an outer budget (or off the main thread): nothing more to arm.
        _active.depth = getattr(_active, "depth", 0) + 1
        try:
            yield
        finally:
            _active.depth -= 1
        return
    limit = _default_seconds if seconds is None else seconds
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _active.depth = 1
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    except _BudgetExceeded:
        raise LimitError(
            f"{what} took longer than its time budget of {limit:g} s; "
            "try a simpler expression, or raise the budget with calcml.set_time_budget()"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _active.depth = 0


def budgeted(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: run ``func`` under the default time budget."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with time_budget(what=f"{func.__name__}()"):
            return func(*args, **kwargs)

    return wrapper
