"""The reference of the hit-path benchmark: a bare FastAPI route returning pre-encoded bytes, no
middleware, served by the same uvicorn settings as `tsh serve` (bench.platform_bench)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import Response

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
BODY = b'{"success":true,"data":{"status":"ok"},"metadata":{}}'


@app.get("/bare")
async def bare() -> Response:
    return Response(BODY, media_type="application/json")
