"""The readiness probes, shared by `/health/ready` and the admin's system health screen (ADM-23)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text

from tsh.platform.cache.backend import CacheBackend
from tsh.platform.db.engine import Database


async def probes(db: Database, cache: CacheBackend) -> dict[str, dict[str, Any]]:
    """Database and cache reachability with their round-trip latency (ms)."""
    checks: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        async with db.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=1.0)
        checks["database"] = {"status": "ok"}
    except Exception:
        checks["database"] = {"status": "down"}
    checks["database"]["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(cache.ping(), timeout=0.5)
        checks["cache"] = {"status": "ok"}
    except Exception:
        checks["cache"] = {"status": "down"}
    checks["cache"]["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return checks
