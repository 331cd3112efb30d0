"""The ASGI application: `tsh.main:app` (uvicorn) or `create_app(settings)` (tests, CLI)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from tsh import __version__
from tsh.api import PUBLIC_PATHS
from tsh.api.auth import SUCCESSES as AUTH_SUCCESSES
from tsh.bff.dispatch import BffDispatch
from tsh.bff.invalidation import install_invalidation
from tsh.bff.openapi import (
    ENVELOPE_SCHEMAS,
    document_bodies,
    document_responses,
    document_successes,
    operation_extra,
)
from tsh.bff.runtime import EndpointRunner
from tsh.bff.spec import REGISTRY, EndpointSpec
from tsh.config import Settings, get_settings
from tsh.context import AppContext
from tsh.domain.apps import SEGMENTS
from tsh.domain.jobs import catalogue
from tsh.logging import configure_logging
from tsh.platform import metrics
from tsh.platform.health import probes
from tsh.platform.http.app_version import parse_minimums
from tsh.platform.http.client_ip import client_ip
from tsh.platform.http.handlers import install_error_handlers
from tsh.platform.http.middleware import RequestContextMiddleware
from tsh.platform.http.openapi import complete_document
from tsh.platform.requestlog import RequestLog
from tsh.platform.scheduler import JobScheduler


def load_apps() -> list[EndpointSpec]:
    """Import every app's declarations (they register themselves) and return the registry."""
    import tsh.bff.apps  # noqa: F401

    return REGISTRY


def _mount_bff(app: FastAPI, specs: list[EndpointSpec]) -> None:
    runners = []
    # Static segments before {id} under the same parent (core.md §0): sort by path shape.
    for spec in sorted(specs, key=lambda s: ("{" in s.path, s.path)):
        runner = EndpointRunner(spec)
        runners.append((spec, runner))
        app.add_api_route(
            spec.path,
            runner,
            methods=[spec.method],
            name=spec.id,
            operation_id=spec.operation_id,
            summary=f"{spec.id} {spec.summary}",
            tags=[spec.app],
            response_class=Response,
            openapi_extra=operation_extra(spec),
            status_code=spec.status_code,
            deprecated=spec.deprecated is not None,
        )
    # The routes above document the endpoints and answer what the table does not find (404,
    # 405); the table reaches a BFF handler without trying every route (tsh.bff.dispatch).
    app.router.middleware_stack = BffDispatch(app.router.middleware_stack, runners)


def _ops_routes(app: FastAPI) -> None:
    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready(request: Request) -> Response:
        ctx: AppContext = request.app.state.ctx
        checks = await probes(ctx.db, ctx.cache)
        db_ok = checks["database"]["status"] == "ok"
        # A down replica or cache degrades (screens fall back to the primary); a down primary is 503.
        overall = "ok" if all(check["status"] == "ok" for check in checks.values()) else "degraded"
        return JSONResponse({"status": overall, "checks": checks}, status_code=200 if db_ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        ctx: AppContext = request.app.state.ctx
        token = ctx.settings.metrics_token
        client = client_ip(request)
        internal = client in ("127.0.0.1", "::1", "testclient") or client.startswith("127.")
        if token and not internal and request.headers.get("authorization") != f"Bearer {token}":
            return Response(status_code=404)
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="TSH BFF",
        version=__version__,
        routes=app.routes,
        description=(
            "One call per mobile screen. Every BFF operation names its endpoint id, roles, scope, "
            "cache category, events, idempotency and the error codes it may answer "
            "(docs/endpoints.md is the same list, generated from the registry)."
        ),
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(ENVELOPE_SCHEMAS)
    document_bodies(schema, REGISTRY)
    document_responses(schema, REGISTRY)
    # The auth routes answer through `envelope()`, so FastAPI cannot see their `data` either.
    paths = schema.get("paths", {})
    document_successes(
        schema,
        [
            (path, method, status, paths.get(path, {}).get(method.lower(), {}).get("summary", ""), model)
            for path, method, status, model in AUTH_SUCCESSES
        ],
    )
    complete_document(schema, public_paths=PUBLIC_PATHS, no_idempotency=("/api/auth/",))
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    app.openapi_schema = schema
    return schema


async def _flush_request_log_every_minute(ctx: AppContext) -> None:
    """Write each finished minute of the request log shortly after it ends."""
    while True:
        await asyncio.sleep(60 - time.time() % 60 + 1)
        await ctx.flush_request_log()


def _job_scheduler(ctx: AppContext) -> JobScheduler:
    """Scheduled jobs inside the server (TSH_JOBS_IN_SERVER; by default with TSH_ENV=dev only):
    the embedded setup needs no second process. Several server processes are fine: each job runs
    under a database lock (tsh.platform.scheduler)."""
    scheduler = JobScheduler(catalogue(ctx.settings), db=ctx.db, bus=ctx.bus)
    scheduler.start()
    return scheduler


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    request_log = RequestLog()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await AppContext.build(settings)
        # Screens are cached per scope; every published event drops the entries it invalidates.
        install_invalidation(ctx)
        ctx.request_log = request_log
        app.state.ctx = ctx
        metrics.set_pool_probe(ctx.db.pool_usage)
        flusher = asyncio.create_task(_flush_request_log_every_minute(ctx))
        jobs = _job_scheduler(ctx) if settings.runs_jobs_in_server else None
        try:
            yield
        finally:
            if jobs is not None:
                jobs.stop()
            flusher.cancel()
            await ctx.flush_request_log(everything=True)
            await ctx.close()

    docs = settings.docs_enabled and settings.env != "prod"
    if docs:
        # Swagger UI and ReDoc served from the package's own assets (fastapi-offline): no CDN, so
        # /docs renders on a closed company network and in CI.
        app = FastAPIOffline(
            title="TSH BFF",
            version=__version__,
            lifespan=lifespan,
            docs_url="/docs",
            redoc_url="/redoc",
            openapi_url="/openapi.json",
            static_url="/docs-assets",
            swagger_ui_parameters={"persistAuthorization": True},
        )
    else:
        app = FastAPI(
            title="TSH BFF",
            version=__version__,
            lifespan=lifespan,
            docs_url=None,
            redoc_url=None,
            openapi_url=None,
        )
    # Parsed once, so a bad TSH_MIN_APP_VERSION fails at start-up rather than on a request.
    app.state.min_app_versions = parse_minimums(settings.min_app_version)
    install_error_handlers(app)
    from tsh.api import mount_api

    # Health and metrics first: probes hit them every few seconds, and FastAPI tries routes in
    # order (the BFF itself is reached through its dispatch table, whatever the order).
    _ops_routes(app)
    mount_api(app)
    _mount_bff(app, load_apps())
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "ETag"],
        )
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    async def ip_blocked(scope: Scope, ip: str) -> bool:
        ctx: AppContext = scope["app"].state.ctx
        return await ctx.ip_guard.is_blocked(ip)

    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        access_log=settings.access_log,
        ip_blocked=ip_blocked,
        app_segments=frozenset(seg for seg in SEGMENTS.values() if seg),
        default_app="consumer",
        request_log=request_log,
        trusted_proxies=settings.trusted_proxies,
    )
    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # `tsh.main:app` is built on first access so importing this module has no side effects.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(name)
