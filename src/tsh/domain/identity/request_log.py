"""The request log's table side: writing finished minutes, and the figures the admin screens read.

Rows come from `tsh.platform.requestlog.RequestLog` (one per minute, instance, app, route and
status class). Readers sum them over a window in SQL; the latency percentiles come from the
summed histogram, so their resolution is the bucket grid (documented on the screens).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.identity.models import RequestRollup, RequestUserDay
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow
from tsh.platform.requestlog import BUCKETS_MS, Key, Tally, percentile_ms

BUCKET_COLUMNS = tuple(getattr(RequestRollup, f"b{i}") for i in range(len(BUCKETS_MS)))


def _insert(session: AsyncSession, model: Any) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


async def write_rollups(session: AsyncSession, *, instance: str, tallies: Mapping[Key, Tally]) -> int:
    """Add finished minutes of this instance (a minute written twice is added to, not doubled:
    the instance only ever hands a minute over once, and a retry after a failure merges)."""
    if not tallies:
        return 0
    now = utcnow()
    rows = []
    users: set[tuple[date, str, str, int]] = set()
    for (minute, app, route, cls), t in tallies.items():
        row: dict[str, Any] = {
            "minute": minute,
            "instance": instance,
            "app": app,
            "route": route,
            "status_class": cls,
            "count": t.count,
            "cached": t.cached,
            "latency_sum_ms": t.latency_sum_ms,
            "created_at": now,
            "updated_at": now,
        }
        row.update({f"b{i}": n for i, n in enumerate(t.buckets)})
        rows.append(row)
        # Days are business days (Asia/Baghdad), as ADM-24's from/to.
        users.update((business_today(minute), app, route, u) for u in t.users)
    stmt = _insert(session, RequestRollup).values(rows)
    added = {
        c: getattr(stmt.excluded, c) + getattr(RequestRollup, c)
        for c in ("count", "cached", "latency_sum_ms")
    }
    added.update(
        {
            f"b{i}": getattr(stmt.excluded, f"b{i}") + getattr(RequestRollup, f"b{i}")
            for i in range(len(BUCKETS_MS))
        }
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["minute", "instance", "app", "route", "status_class"], set_=added
        )
    )
    if users:
        values = [
            {"day": d, "app": a, "route": r, "user_id": u, "created_at": now, "updated_at": now}
            for d, a, r, u in users
        ]
        await session.execute(_insert(session, RequestUserDay).values(values).on_conflict_do_nothing())
    return len(rows)


def _sums() -> list[Any]:
    errors = func.sum(case((RequestRollup.status_class == "5xx", RequestRollup.count), else_=0))
    return [
        func.sum(RequestRollup.count),
        errors,
        func.sum(RequestRollup.cached),
        func.sum(RequestRollup.latency_sum_ms),
        *(func.sum(c) for c in BUCKET_COLUMNS),
    ]


def _figures(count: Any, errors: Any, cached: Any, latency: Any, buckets: Any) -> dict[str, Any]:
    count = int(count or 0)
    hist = [int(b or 0) for b in buckets]
    return {
        "calls": count,
        # An error is a 5xx: 4xx answers are the client's (refusals, validation) and are expected.
        "error_rate": round(int(errors or 0) / count, 4) if count else None,
        "cache_hit_rate": round(int(cached or 0) / count, 4) if count else None,
        "avg_latency_ms": round(float(latency or 0) / count, 2) if count else None,
        "p50_ms": percentile_ms(hist, 0.5),
        "p95_ms": percentile_ms(hist, 0.95),
    }


async def overall(session: AsyncSession, *, since: datetime) -> dict[str, Any]:
    """Calls, 5xx share, cache hit share and latency of every app since `since` (ADM-01)."""
    row = (await session.execute(select(*_sums()).where(RequestRollup.minute >= since))).one()
    return _figures(row[0], row[1], row[2], row[3], row[4:])


async def per_app(session: AsyncSession, *, since: datetime) -> list[dict[str, Any]]:
    """ADM-23: figures per app since `since`, busiest first."""
    rows = await session.execute(
        select(RequestRollup.app, *_sums()).where(RequestRollup.minute >= since).group_by(RequestRollup.app)
    )
    out = [{"app": r[0], **_figures(r[1], r[2], r[3], r[4], r[5:])} for r in rows]
    return sorted(out, key=lambda x: (-x["calls"], x["app"]))


async def usage(
    session: AsyncSession, *, date_from: date, date_to: date, start: datetime, end: datetime, app: str | None
) -> list[dict[str, Any]]:
    """ADM-24: per app and route between `start` and `end` (the UTC bounds of the business
    days `date_from`..`date_to`), with distinct users over those days."""
    stmt = (
        select(RequestRollup.app, RequestRollup.route, *_sums())
        .where(RequestRollup.minute >= start, RequestRollup.minute < end)
        .group_by(RequestRollup.app, RequestRollup.route)
    )
    users = (
        select(RequestUserDay.app, RequestUserDay.route, func.count(func.distinct(RequestUserDay.user_id)))
        .where(RequestUserDay.day >= date_from, RequestUserDay.day <= date_to)
        .group_by(RequestUserDay.app, RequestUserDay.route)
    )
    if app is not None:
        stmt = stmt.where(RequestRollup.app == app)
        users = users.where(RequestUserDay.app == app)
    distinct = {(a, r): int(n) for a, r, n in await session.execute(users)}
    out = [
        {
            "app": r[0],
            "route": r[1],
            **_figures(r[2], r[3], r[4], r[5], r[6:]),
            "distinct_users": distinct.get((r[0], r[1]), 0),
        }
        for r in await session.execute(stmt)
    ]
    return sorted(out, key=lambda x: (x["app"], -x["calls"], x["route"]))
