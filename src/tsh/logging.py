"""JSON logs (structlog) with the request id on every access-log line, and on every other line
logged while a request is served (uvicorn's own "Exception in ASGI application" included: `tsh serve`
gives uvicorn no logging config of its own, so its loggers propagate to the handler set here)."""

from __future__ import annotations

import logging
import sys

import structlog

from tsh.config import Settings


def configure_logging(settings: Settings) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,  # request_id, bound by RequestContextMiddleware
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    access = logging.getLogger("tsh.access")
    access.disabled = not settings.access_log
    # uvicorn's loggers write through the handler above (a uvicorn started with its default
    # log_config gives them plain-text handlers of their own and stops propagation).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
