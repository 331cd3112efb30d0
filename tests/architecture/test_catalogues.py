"""The catalogues are declared once and the code keeps to them: every error code a service or
schema raises is in the error catalogue with that status, every declaration names known events
and codes, and an unknown event is refused before anything commits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tsh.domain  # noqa: F401  (declares the business codes)
from tsh.bff.spec import BffApp
from tsh.domain.events import CATALOGUE, UnknownEvent, raise_event
from tsh.platform.errors import ERROR_CODES

SRC = Path(__file__).resolve().parents[2] / "src" / "tsh"
STATUS_OF = {
    "NotFound": 404,
    "Forbidden": 403,
    "Unauthorized": 401,
    "Conflict": 409,
    "Invalid": 422,
    "RateLimited": 429,
    "ServiceUnavailable": 503,
}


def _raised_codes() -> list[tuple[str, str, int | None]]:
    """(where, code, status implied by the exception class or `status=`) for every literal code."""
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            code = keywords.get("code")
            where = f"{path.relative_to(SRC.parent)}:{node.lineno}"
            if isinstance(code, ast.Constant) and isinstance(code.value, str) and code.value.isupper():
                status = keywords.get("status")
                implied = status.value if isinstance(status, ast.Constant) else STATUS_OF.get(name or "")
                found.append((where, code.value, implied))
            if name == "PydanticCustomError" and node.args and isinstance(node.args[0], ast.Constant):
                kind = str(node.args[0].value)
                if kind.startswith("code:"):
                    found.append((where, kind.removeprefix("code:"), 422))
    return found


def test_every_raised_code_is_declared_with_its_status() -> None:
    problems = []
    for where, code, status in _raised_codes():
        declared = ERROR_CODES.get(code)
        if declared is None:
            problems.append(f"{where}: {code} is not declared (tsh.domain.error_codes)")
        elif status is not None and status not in declared.statuses:
            problems.append(f"{where}: {code} raised as {status}, declared {declared.statuses}")
    assert not problems, "\n".join(problems)


def test_every_code_has_a_meaning_and_a_status() -> None:
    for entry in ERROR_CODES.values():
        assert entry.code.isupper() and entry.meaning and all(400 <= s < 600 for s in entry.statuses)


def test_every_event_literal_in_the_source_is_in_the_catalogue() -> None:
    unknown = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "raise_event":
                arg = node.args[1] if len(node.args) > 1 else None
                if isinstance(arg, ast.Constant) and arg.value not in CATALOGUE:
                    unknown.append(f"{path.name}:{node.lineno} {arg.value}")
    assert not unknown


def test_a_declaration_with_an_unknown_event_or_code_fails_at_start_up() -> None:
    app = BffApp.for_tests("catalogue-probe")
    with pytest.raises(UnknownEvent):
        app.screen("TST-01", "/x", roles=(), scope="all", cache="people", events=("OrderCreatd",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="undeclared error codes"):
        app.action("TST-02", "POST", "/x", roles=(), scope="all", errors=("NO_SUCH_CODE",))
    with pytest.raises(ValueError, match="unknown app"):
        BffApp("warehouse")  # type: ignore[arg-type]


def test_an_unknown_event_is_refused_before_commit() -> None:
    class Session:
        info: dict[str, object] = {}

    with pytest.raises(UnknownEvent):
        raise_event(Session(), "OrderPlaced")  # type: ignore[arg-type]
    assert not Session.info, "nothing was queued for publication"
