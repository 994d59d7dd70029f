"""The errors calcml raises.

Every error derives from :class:`CalcmlError`, so ``except calcml.CalcmlError`` catches
anything the library says "no" with. Bad user text is a :class:`ParseError` (also a
``ValueError``) that knows where the fault is; input beyond the library's limits is a
:class:`LimitError`.

>>> import calcml as cm
>>> try:
...     cm.parse("x + * 2")
... except cm.ParseError as err:
...     print(err.position)
4
"""

from __future__ import annotations


class CalcmlError(Exception):
    """Base class of every error calcml raises on purpose."""


class ParseError(CalcmlError, ValueError):
    """User text that is not a valid expression.

    ``position`` is the 0-based index of the offending character in ``text``;
    the message shows the text with a caret under that place.
    """

    def __init__(self, message: str, text: str = "", position: int = 0) -> None:
        self.text = text
        self.position = position
        self.reason = message
        super().__init__(self._format(message, text, position))

    @staticmethod
    def _format(message: str, text: str, position: int) -> str:
        if not text:
            return message
        # Show a window of the text around the fault so the caret stays readable
        # for long inputs.
        start = max(0, position - 40)
        end = min(len(text), position + 40)
        shown = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
        caret = " " * (position - start + (3 if start else 0)) + "^"
        return f"{message} (at position {position})\n  {shown}\n  {caret}"


class LimitError(CalcmlError):
    """Input beyond calcml's limits: too long, too deep, too large, or too slow."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message)


class CalcmlWarning(UserWarning):
    """Something calcml computed but wants you to doubt: a Taylor polynomial used beyond
    its radius of convergence, for instance."""
