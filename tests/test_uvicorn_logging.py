"""uvicorn's own log lines come out as JSON through tsh.logging, with the request id of the
request during which they were logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog
import uvicorn
from typer.testing import CliRunner

from tsh.cli import cli
from tsh.config import Settings
from tsh.logging import configure_logging


@pytest.fixture
def restore_logging() -> Any:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def test_uvicorn_lines_are_json_with_the_request_id(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a uvicorn started with its default log_config leaves it (the live-server tests do).
    logging.getLogger("uvicorn.error").handlers[:] = [logging.StreamHandler()]
    logging.getLogger("uvicorn.error").propagate = False
    configure_logging(Settings(env="test", log_json=True))
    structlog.contextvars.bind_contextvars(request_id="req-42")
    logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    structlog.contextvars.clear_contextvars()
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    first, second = lines[-2:]
    assert first["event"] == "Exception in ASGI application"
    assert first["request_id"] == "req-42" and first["logger"] == "uvicorn.error"
    assert first["level"] == "error" and "timestamp" in first
    assert second["event"] == "Invalid HTTP request received." and "request_id" not in second


def test_serve_leaves_logging_to_tsh(restore_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs, app=app))
    monkeypatch.setenv("TSH_ENV", "test")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--port", "18999"])
    assert result.exit_code == 0, result.output
    assert seen["app"] == "tsh.main:app" and seen["log_config"] is None
    assert any(
        isinstance(h.formatter, structlog.stdlib.ProcessorFormatter) for h in logging.getLogger().handlers
    )
