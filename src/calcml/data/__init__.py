"""Data to fit: reading CSV tables, and the real datasets that ship with calcml.

:func:`read_csv` reads a table whose first line names the columns (``x,y,sigma``); its
cells stay text until a column is asked for, so a column of labels does no harm, and a
cell that is not a number is named by its row and column. :func:`load` gives a dataset
bundled in the package (read with :mod:`importlib.resources`, so it works from a wheel
or a zip): the NIST reference problem Misra1a, with its certified values.

This module reads and checks text; it computes nothing.

>>> from calcml.data import load
>>> misra = load("misra1a")
>>> misra.name, len(misra.x), float(misra.x[0]), float(misra.y[-1])
('Misra1a', 14, 77.6, 81.78)
>>> misra.model, misra.starts[0]
('b1*(1 - exp(-b2*x))', {'b1': 500.0, 'b2': 0.0001})
>>> misra.certified["b1"], misra.certified_errors["b2"], misra.certified_rss
(238.94212918, 7.2668688436e-06, 0.12455138894)
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CalcmlError

__all__ = ["Dataset", "Table", "available", "load", "parse_csv", "read_csv"]

#: Datasets shipped in this folder: name -> file stem (each has NAME.csv and NAME.json).
DATASETS = {"misra1a": "misra1a"}

#: Files larger than this are refused (a CSV of data to fit is small; this keeps a
#: mistaken path to a huge file from filling the memory).
MAX_BYTES = 50_000_000


@dataclass
class Table:
    """A CSV table: the column names (from the header) and the cells as text.

    ``column(name)`` converts one column to floats, naming the row and column of a cell
    that is not a finite number; an unknown name lists the columns there are.
    """

    names: list[str]
    rows: list[list[str]]
    lines: list[int] = field(default_factory=list)  # the file line of each row (1-based)
    source: str = "the data"

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def check(self, name: str, option: str = "column") -> str:
        """``name`` if the table has that column, else a CalcmlError listing the columns."""
        if name not in self.names:
            raise CalcmlError(
                f"{option} {name!r}: {self.source} has no such column; its columns are "
                f"{', '.join(self.names)}"
            )
        return name

    def column(self, name: str) -> np.ndarray:
        """The column ``name`` as floats.

        >>> t = parse_csv("x,y\\n1,2\\n3,four\\n")
        >>> t.column("x").tolist()
        [1.0, 3.0]
        >>> t.column("y")
        Traceback (most recent call last):
        calcml.errors.CalcmlError: the data, row 2 (line 3), column y: 'four' is not a number
        """
        j = self.names.index(self.check(name))
        values = np.empty(len(self.rows))
        for i, row in enumerate(self.rows):
            cell = row[j].strip()
            where = f"{self.source}, row {i + 1} (line {self.lines[i]}), column {name}"
            if not cell:
                raise CalcmlError(f"{where} is empty")
            try:
                value = float(cell)
            except ValueError:
                raise CalcmlError(f"{where}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise CalcmlError(f"{where}: {cell!r} is not a finite number")
            values[i] = value
        return values


def read_csv(path: str | PathLike[str]) -> Table:
    """Read a CSV file whose first line (after ``#`` comments) names the columns.

    Cells are separated by commas (or tabs, or semicolons, when the header has no comma);
    blank lines and lines starting with ``#`` are skipped.

    Raises
    ------
    CalcmlError
        A missing, unreadable, binary or empty file; a header that is missing, has an
        empty or repeated name; a row with the wrong number of cells; no data rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = path.write_text("x,y\\n1,2.5\\n2,4.5\\n")
    >>> t = read_csv(path)
    >>> t.names, len(t), t.column("y").tolist()
    (['x', 'y'], 2, [2.5, 4.5])
    """
    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise CalcmlError(f"{name} is a folder, not a CSV file")
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise CalcmlError(
                f"{name} is {size / 1e6:.0f} MB: too large for a table of data to fit "
                f"(at most {MAX_BYTES / 1e6:.0f} MB)"
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CalcmlError(f"cannot read {name}: there is no such file") from None
    except PermissionError:
        raise CalcmlError(f"cannot read {name}: permission denied") from None
    except OSError as exc:
        raise CalcmlError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CalcmlError(f"{name} is not a text file (UTF-8 CSV expected)") from None
    return parse_csv(text, source=name)


def parse_csv(text: str, source: str = "the data") -> Table:
    """A :class:`Table` from the text of a CSV file (see :func:`read_csv`).

    >>> parse_csv("# a comment\\n\\nt;v\\n0;1\\n").names
    ['t', 'v']
    >>> parse_csv("1,2\\n3,4\\n")
    Traceback (most recent call last):
    calcml.errors.CalcmlError: the data: line 1 should name the columns (e.g. x,y), ...
    """
    if "\x00" in text:
        raise CalcmlError(f"{source} is not a text file (it holds NUL bytes)")
    numbered = [
        (i, line)
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise CalcmlError(f"{source} is empty: expected a header line naming the columns (x,y)")
    header_line = numbered[0][1]
    delimiter = ","
    if "," not in header_line:
        delimiter = "\t" if "\t" in header_line else ";" if ";" in header_line else ","
    try:
        rows = list(csv.reader((line for _, line in numbered), delimiter=delimiter))
    except csv.Error as exc:
        raise CalcmlError(f"{source} is not a CSV file csv can read: {exc}") from None
    names = [cell.strip() for cell in rows[0]]
    first = numbered[0][0]
    where = f"{source}: line {first}"
    if all(_is_number(n) for n in names):
        raise CalcmlError(
            f"{where} should name the columns (e.g. x,y), but it holds numbers; add a header line"
        )
    for j, n in enumerate(names, 1):
        if not n:
            raise CalcmlError(f"{where}: the header's column {j} has no name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CalcmlError(f"{where}: the header names {', '.join(repeated)} more than once")
    data, lines = [], []
    for (number, _), row in zip(numbered[1:], rows[1:], strict=True):
        if len(row) != len(names):
            raise CalcmlError(
                f"{source}: line {number} has {len(row)} cell(s), but the header names "
                f"{len(names)} column(s) ({', '.join(names)})"
            )
        data.append(row)
        lines.append(number)
    if not data:
        raise CalcmlError(f"{source} has a header ({', '.join(names)}) but no rows of data")
    return Table(names=names, rows=data, lines=lines, source=source)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Dataset:
    """A dataset shipped with calcml: its table, its model and, for a reference problem,
    the certified answer.

    ``starts`` are the published starting points; ``certified`` and ``certified_errors``
    map each parameter to its certified value and standard deviation;
    ``certified_rss`` is the certified residual sum of squares.
    """

    name: str
    table: Table
    x: np.ndarray
    y: np.ndarray
    model: str
    starts: list[dict[str, float]]
    certified: dict[str, float]
    certified_errors: dict[str, float]
    certified_rss: float | None
    source: str
    description: str = ""
    info: dict[str, Any] = field(default_factory=dict, repr=False)


def available() -> list[str]:
    """The names :func:`load` accepts.

    >>> available()
    ['misra1a']
    """
    return sorted(DATASETS)


def load(name: str) -> Dataset:
    """A dataset shipped with calcml, by name (case does not matter): ``"misra1a"``.

    Misra1a is NIST's reference problem (public domain): 14 measurements of volume
    against pressure, the model y = b1 (1 - exp(-b2 x)), two starting points and the
    certified parameters, standard deviations and residual sum of squares.

    >>> d = load("Misra1a")
    >>> d.certified["b2"], d.table.names
    (0.00055015643181, ['x', 'y'])
    """
    stem = DATASETS.get(str(name).strip().lower())
    if stem is None:
        raise CalcmlError(f"no dataset called {name!r}; calcml ships {', '.join(available())}")
    folder = resources.files(__name__)
    text = folder.joinpath(f"{stem}.csv").read_text(encoding="utf-8")
    info = json.loads(folder.joinpath(f"{stem}.json").read_text(encoding="utf-8"))
    table = parse_csv(text, source=f"{stem}.csv")
    certified = info.get("certified", {})
    return Dataset(
        name=info.get("name", stem),
        table=table,
        x=table.column("x"),
        y=table.column("y"),
        model=info["model"],
        starts=[{k: float(v) for k, v in s.items()} for s in info.get("starts", [])],
        certified={k: float(v["value"]) for k, v in certified.items()},
        certified_errors={k: float(v["sd"]) for k, v in certified.items()},
        certified_rss=info.get("residual_sum_of_squares"),
        source=info.get("source", ""),
        description=info.get("description", ""),
        info=info,
    )
