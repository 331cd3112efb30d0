"""The readiness probes, shared by `/health/ready` and the admin's system health screen (ADM-23)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tsh.platform.cache.backend import CacheBackend
from tsh.platform.db.engine import Database


async def _select_1(engine: AsyncEngine) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=1.0)
        check: dict[str, Any] = {"status": "ok"}
    except Exception:
        check = {"status": "down"}
    check["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return check


async def probes(db: Database, cache: CacheBackend) -> dict[str, dict[str, Any]]:
    """Database (and replica, when there is one) and cache reachability with their round-trip
    latency (ms). A replica probe also records its state, so screens leave or return to it."""
    checks: dict[str, dict[str, Any]] = {"database": await _select_1(db.engine)}
    if db.has_replica:
        checks["replica"] = await _select_1(db.replica_engine)
        db.mark_replica(up=checks["replica"]["status"] == "ok")
    started = time.perf_counter()
    try:
        await asyncio.wait_for(cache.ping(), timeout=0.5)
        checks["cache"] = {"status": "ok"}
    except Exception:
        checks["cache"] = {"status": "down"}
    checks["cache"]["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return checks
