"""Running calcml's command line in the tests (typer's CliRunner), with the checks every
CLI test wants: no outcome escapes as an exception or a traceback, and JSON output is
strict (no NaN or Infinity).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from calcml.cli import app

runner = CliRunner()


def run(*args: object) -> Any:
    """Run ``calcml ARGS...``: every outcome is an answer, a failure or a reported error,
    never an escaped exception or a traceback."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def ok(*args: object) -> str:
    """Status 0: stdout."""
    result = run(*args)
    assert result.exit_code == 0, result.output[:3000]
    return result.stdout


def strict(text: str) -> dict:
    """The whole of stdout as one JSON document, with no NaN or Infinity in it."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard {name}"))


def ok_json(*args: object) -> dict:
    """Status 0 with --json: the document."""
    return strict(ok(*args, "--json"))
