"""What every solver returns: the answer, the whole history, and the truth about failure.

Names follow SciPy's ``OptimizeResult`` where SciPy has one (``x``, ``fun``, ``nit``,
``nfev``, ``success``, ``status``, ``message``); ``history`` holds the iterates starting
with ``x0`` itself, and ``rows`` the iteration table a learner reads.

>>> r = Result(x=1.0, fun=0.0, success=True, status="converged", message="done",
...            history=[2.0, 1.0], rows=[{"k": 0, "x": 2.0}, {"k": 1, "x": 1.0}])
>>> r.nit
1
>>> print(r.table())
k  x
-  -
0  2
1  1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class _Lazy:
    """A list field that may also be given as a function of no arguments, called the
    first time the field is read (its list then kept). A solver's table can cost more to
    build than the solve itself, and is often never read; the solver hands over a
    function that builds it from what the solve had to keep anyway."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.private = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return None  # the dataclass default: an empty list, made on first read
        value = obj.__dict__.get(self.private)
        if value is None:
            value = []
        elif callable(value):
            value = value()
        obj.__dict__[self.private] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.private] = value


@dataclass
class Result:
    """The outcome of a solver. ``status`` is a word ("converged", "max_iterations",
    "diverged", "zero_derivative", "cycle", "singular", "not_finite", "no_decrease");
    ``message`` says what happened and what to try. ``rows`` may be given as a function
    that builds them, called when they are first read."""

    x: Any
    fun: Any
    success: bool
    status: str
    message: str
    history: list[Any] = field(default_factory=list)
    rows: list[dict[str, Any]] = _Lazy()  # type: ignore[assignment]
    method: str = ""
    nfev: int = 0
    njev: int = 0
    nhev: int = 0
    jac: Any = None
    multipliers: Any = None
    notes: list[str] = field(default_factory=list)
    variables: list[str] | None = None

    def __getstate__(self) -> dict[str, Any]:
        self.rows  # noqa: B018 - builds the table: a function of the solver cannot be pickled
        return self.__dict__

    @property
    def nit(self) -> int:
        """Iterations taken: the history holds x0 and one point per iteration."""
        return max(len(self.history) - 1, 0)

    def table(self, max_rows: int = 40) -> str:
        """The iteration table as aligned text (the first and last rows when long)."""
        if not self.rows:
            return "(no iterations)"
        keys = list(self.rows[0])
        rows = self.rows
        if len(rows) > max_rows:
            half = max_rows // 2
            rows = [*rows[:half], dict.fromkeys(keys, "..."), *rows[-half:]]
        cells = [[_fmt(row.get(k, "")) for k in keys] for row in rows]
        widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
        lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip()]
        lines.append("  ".join("-" * w for w in widths).rstrip())
        for c in cells:
            lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def explain(self) -> str:
        """The verdict, the notes and the iteration table."""
        verdict = "success" if self.success else "FAILED"
        head = f"{self.method}: {verdict} ({self.status}) after {self.nit} iteration(s)"
        parts = [head, self.message, *[f"note: {n}" for n in self.notes], self.table()]
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "x": _plain(self.x),
            "fun": _plain(self.fun),
            "success": self.success,
            "status": self.status,
            "message": self.message,
            "nit": self.nit,
            "nfev": self.nfev,
            "njev": self.njev,
            "nhev": self.nhev,
            "multipliers": _plain(self.multipliers),
            "notes": self.notes,
            "variables": self.variables,
            "history": [_plain(h) for h in self.history],
            "rows": [{k: _plain(v) for k, v in r.items()} for r in self.rows],
        }


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):.10g}"
    if isinstance(v, np.ndarray):
        return "[" + ", ".join(f"{float(e):.8g}" for e in v.ravel()) + "]"
    return str(v)
