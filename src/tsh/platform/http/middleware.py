"""One pure-ASGI middleware for what every request needs: request id, timing, body limit,
metrics and the access log. Pure ASGI keeps the cached-screen hot path lean (no
BaseHTTPMiddleware task hop)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tsh.platform.db.unavailable import RETRY_AFTER_S, database_unavailable, describe
from tsh.platform.http import client_ip
from tsh.platform.http.envelope import error_bytes, metadata
from tsh.platform.metrics import IN_FLIGHT, LATENCY, REQUESTS, refresh_process_metrics
from tsh.platform.requestlog import RequestLog

log = logging.getLogger("tsh.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def app_label(path: str, segments: frozenset[str], default_app: str) -> str:
    """The metrics label of a path: the BFF app whose segment it carries (`default_app` for the
    BFF paths without one), else auth / legacy / ops."""
    if path.startswith("/api/bff/mobile"):
        parts = path.split("/")
        return parts[4] if len(parts) > 4 and parts[4] in segments else default_app
    if path.startswith("/api/auth"):
        return "auth"
    if path.startswith("/api/"):
        return "legacy"
    return "ops"


class _BodyTooLarge(Exception):
    pass


IpCheck = Callable[[Scope, str], Awaitable[bool]]


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        access_log: bool = True,
        ip_blocked: IpCheck | None = None,
        app_segments: frozenset[str] = frozenset(),
        default_app: str = "bff",
        request_log: RequestLog | None = None,
        trusted_proxies: Sequence[client_ip.Network] = (),
    ) -> None:
        self.app = app
        self.app_segments = app_segments
        self.default_app = default_app
        self.max_body = max_body_bytes
        self.access_log = access_log
        self.ip_blocked = ip_blocked
        self.request_log = request_log
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        IN_FLIGHT.inc()
        try:
            await self._serve(scope, receive, send)
        finally:
            IN_FLIGHT.dec()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = ""
        declared = -1
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _SAFE_ID.match(candidate) else ""
            elif name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
        request_id = request_id or uuid.uuid4().hex
        # Every log line of this request carries its id, uvicorn's "Exception in ASGI application"
        # too: that is logged after the app returns, so the id is not unbound here (uvicorn runs
        # each request in a task of its own, whose context ends with it).
        structlog.contextvars.bind_contextvars(request_id=request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        rid_header = (b"x-request-id", request_id.encode())
        status = 500
        started_response = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        client = client_ip.resolve(scope, self.trusted_proxies)
        path = scope["path"]
        if (
            self.ip_blocked is not None
            and path.startswith("/api/")
            and client
            and await self.ip_blocked(scope, client)
        ):
            await self._refuse(
                send_wrapper, 403, "IP_BLOCKED", "Requests from this address are blocked", request_id, started
            )
        elif declared > self.max_body:
            await self._too_large(scope, send_wrapper, request_id, started)
        else:
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body:
                        raise _BodyTooLarge
                return message

            try:
                await self.app(scope, limited_receive, send_wrapper)
            except _BodyTooLarge:
                await self._too_large(scope, send_wrapper, request_id, started)
            except Exception as exc:
                # Inside the app's own error handling, so the 500 carries the request id too. A lost
                # database connection raised outside the routes (a commit, a middleware) is a 503.
                if database_unavailable(exc) and not started_response:
                    log.error(
                        "database unavailable: %s",
                        describe(exc),
                        extra={"request_id": request_id, "path": scope["path"]},
                    )
                    await self._refuse(
                        send_wrapper,
                        503,
                        "SERVICE_UNAVAILABLE",
                        "The database is unavailable",
                        request_id,
                        started,
                        retry_after=RETRY_AFTER_S,
                    )
                    return self._observe(scope, status, started, request_id)
                log.exception("unhandled error", extra={"request_id": request_id, "path": scope["path"]})
                if started_response:
                    raise
                await self._refuse(
                    send_wrapper, 500, "INTERNAL_ERROR", "Internal server error", request_id, started
                )
        self._observe(scope, status, started, request_id)

    async def _too_large(self, scope: Scope, send: Send, request_id: str, started: float) -> None:
        await self._refuse(
            send, 413, "PAYLOAD_TOO_LARGE", "The request body is larger than 1 MiB", request_id, started
        )

    async def _refuse(
        self,
        send: Send,
        status: int,
        code: str,
        message: str,
        request_id: str,
        started: float,
        *,
        retry_after: int | None = None,
    ) -> None:
        body = error_bytes(message=message, code=code, meta=metadata(request_id=request_id, started=started))
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _observe(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        path = scope["path"]
        app = app_label(path, self.app_segments, self.default_app)
        REQUESTS.labels(app, template, scope["method"], str(status)).inc()
        refresh_process_metrics()
        LATENCY.labels(app, template).observe(elapsed)
        if self.request_log is not None and path.startswith("/api/"):
            # `cached` and `user_id` are left in the request state by the BFF runtime and auth.
            state = scope.get("state", {})
            self.request_log.record(
                app=app,
                route=template,
                status=status,
                latency_ms=elapsed * 1000,
                cached=bool(state.get("cached")),
                user_id=state.get("user_id"),
            )
        if self.access_log:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": template,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "app": app,
                },
            )
