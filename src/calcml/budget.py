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

import _signal  # the C functions behind the signal module, without its enum wrappers
import functools
import threading
from collections.abc import Callable
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


class time_budget:  # lower case: used like a function, ``with time_budget(2.0): ...``
    """Run the body under a time budget; raise ``LimitError`` if it is exceeded.

    A class rather than a ``@contextmanager`` generator, and the C functions of
    ``_signal`` rather than their ``signal`` wrappers (which turn handlers into enums):
    every public call enters one of these, and this way it costs ~2 us instead of ~8.
    """

    __slots__ = ("_armed", "_limit", "_previous", "seconds", "what")

    def __init__(self, seconds: float | None = None, what: str = "this operation") -> None:
        self.seconds = seconds
        self.what = what

    def __enter__(self) -> None:
        depth = getattr(_active, "depth", 0)
        self._armed = not depth and threading.current_thread() is threading.main_thread()
        if not self._armed:
            # Inside an outer budget (or off the main thread): nothing more to arm.
            _active.depth = depth + 1
            return
        self._limit = _default_seconds if self.seconds is None else self.seconds
        self._previous = _signal.signal(_signal.SIGALRM, _on_alarm)
        _active.depth = 1
        _signal.setitimer(_signal.ITIMER_REAL, self._limit)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if not self._armed:
            _active.depth -= 1
            return
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.signal(_signal.SIGALRM, self._previous)
        _active.depth = 0
        if kind is _BudgetExceeded:
            raise LimitError(
                f"{self.what} took longer than its time budget of {self._limit:g} s; "
                "try a simpler expression, or raise the budget with calcml.set_time_budget()"
            ) from None


def budgeted(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: run ``func`` under the default time budget."""

    what = f"{func.__name__}()"

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with time_budget(what=what):
            return func(*args, **kwargs)

    return wrapper
