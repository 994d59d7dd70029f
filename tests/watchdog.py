"""A watchdog for tests: fail, instead of hanging the run, when a body takes too long.

It arms the same POSIX timer as calcml's time budget, so it guards only code that arms
no budget of its own: since ``to_text`` arms one (to fall back to unsorted printing),
inside ``to_text`` that budget, not this watchdog, is what bounds the time.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import pytest


class _TooSlow(BaseException):
    pass


@contextlib.contextmanager
def watchdog(seconds: float, what: str) -> Iterator[None]:
    """Fail the test if the body takes longer than ``seconds``."""

    def on_alarm(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TooSlow:
        pytest.fail(f"{what} did not finish in {seconds:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
