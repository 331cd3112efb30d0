"""ADM-01 system dashboard, ADM-21/22 activity log, ADM-25 cache invalidation."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, Field

from tsh.bff.apps.admin import ADMINS, app
from tsh.bff.call import Call, Section
from tsh.bff.schemas import Body, DateIn, Id, Page, Query, decode_cursor, page
from tsh.bff.spec import CACHE_TTL_S, REGISTRY
from tsh.bff.views import Named, RowId, Timestamp, View
from tsh.bff.views import Page as PageOf
from tsh.domain.administration.branch_views import admin_dashboard
from tsh.domain.apps import APPS
from tsh.domain.identity.admin_views import activity_entry, activity_log, list_position
from tsh.domain.identity.request_log import overall, per_app, usage
from tsh.domain.shared import day_start_utc
from tsh.platform.cache.tags import clear_tags
from tsh.platform.db import Session
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, field_error
from tsh.platform.health import probes

AppCode = Literal[APPS]  # type: ignore[valid-type]
CATEGORIES = tuple(c for c in CACHE_TTL_S if c != "none")


class RoleStatusCount(View):
    role: str
    status: Literal["active", "disabled"]
    count: int


class UserFigures(View):
    by_role: list[RoleStatusCount]
    created_this_week: int
    disabled_this_week: int


class Totals(View):
    total: int
    active: int


class AdminAction(View):
    id: RowId
    at: Timestamp
    user: Named | None
    action: str
    entity_type: str | None
    entity_id: int | None
    summary: str


class LastHour(View):
    calls: int
    error_rate: float | None
    cache_hit_rate: float | None


class Dashboard(View):
    users: UserFigures
    # Null when the request log did not answer in time and no last good value is kept.
    last_hour: LastHour | None
    branches: Totals
    warehouses: Totals
    terminals: Totals
    recent_admin_actions: list[AdminAction]


@cache
def _summaries() -> dict[str, str]:
    return {spec.id: spec.summary for spec in REGISTRY}


def summary(row: dict[str, Any]) -> str:
    """One line naming what an audit row did: the endpoint's own summary and the record."""
    action = row["action"]
    what = _summaries().get(action)
    if what is None and action.startswith("api."):
        # Legacy resource writes are named api.<resource>.<op>.
        _, resource, op = [*action.split(".", 2), "", ""][:3]
        what = f"{op.capitalize()} {resource} (legacy API)"
    target = (
        f" · {row['entity_type']} {row['entity_id']}"
        if row.get("entity_type") and row.get("entity_id")
        else ""
    )
    return f"{action}: {what or action}{target}"


@app.screen(
    "ADM-01",
    "/dashboard",
    roles=ADMINS,
    scope="all",
    cache="dashboard",
    events=("UserChanged", "UserRoleChanged", "BranchChanged"),
    errors=("SECTION_TIMEOUT",),
    response=Dashboard,
)
async def dashboard(call: Call) -> dict[str, Any]:
    """System dashboard: users by role and status, this week's changes, counts, last-hour error and
    cache hit rate (request log, up to the last finished minute), last 10 admin actions.

    Sections: `system` (required) and `last_hour` (the request log: stale or null when late).
    """

    async def last_hour(session: Session) -> dict[str, Any]:
        traffic = await overall(session, since=utcnow() - timedelta(hours=1))
        return {k: traffic[k] for k in ("calls", "error_rate", "cache_hit_rate")}

    got = await call.sections(
        {
            "system": Section(lambda s: admin_dashboard(s, call.actor), budget_ms=5000, required=True),
            "last_hour": Section(last_hour, budget_ms=1000),
        }
    )
    data: dict[str, Any] = got["system"]
    data["last_hour"] = got["last_hour"]
    data["recent_admin_actions"] = [{**a, "summary": summary(a)} for a in data["recent_admin_actions"]]
    return data


class ActivityQuery(Page):
    user_id: Id | None = None
    app: AppCode | None = None
    action: str | None = Field(default=None, min_length=1, max_length=64)
    entity_type: str | None = Field(default=None, min_length=1, max_length=64)
    entity_id: Id | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


class ActivityRow(View):
    id: RowId
    at: Timestamp
    user: Named | None
    app: str | None
    action: str
    entity_type: str | None
    entity_id: int | None
    summary: str


@app.screen("ADM-21", "/activity-logs", roles=ADMINS, scope="all", cache="none", response=PageOf[ActivityRow])
async def activity(call: Call, *, query: ActivityQuery) -> dict[str, Any]:
    """Business activity log: time, user, app, action, entity, one-line summary; newest first."""
    if query.date_from and query.date_to and query.date_to < query.date_from:
        raise Invalid(details=[field_error("to", "before from")])
    rows = await activity_log(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        user_id=query.user_id,
        app=query.app,
        action=query.action,
        entity_type=query.entity_type,
        entity_id=query.entity_id,
        date_from=day_start_utc(query.date_from) if query.date_from else None,
        date_to=day_start_utc(query.date_to + timedelta(days=1)) if query.date_to else None,
    )
    shaped = [{**r, "summary": summary(r)} for r in rows]
    return page(shaped, query.limit, lambda r: list_position("activity", t=r["at"].isoformat(), i=r["id"]))


class RequestMeta(View):
    ip: str | None
    app: str | None
    request_id: str | None


class ActivityEntry(View):
    id: RowId
    at: Timestamp
    user: Named | None
    app: str | None
    action: str
    entity_type: str | None
    entity_id: int | None
    summary: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request: RequestMeta


@app.screen(
    "ADM-22", "/activity-logs/{id}", roles=ADMINS, scope="all", cache="reference", response=ActivityEntry
)
async def activity_one(call: Call, *, id: int) -> dict[str, Any]:
    """One log entry with request metadata (IP, app, request id) and before/after values."""
    row = await activity_entry(call.session, call.actor, entry_id=id)
    return {**row, "summary": summary(row)}


class CacheClear(Body):
    category: str | None = Field(default=None, min_length=1, max_length=32)
    app: AppCode | None = None
    reason: str = Field(min_length=1, max_length=500)


class Cleared(View):
    category: str | None
    app: str | None
    tags: list[str]


@app.action(
    "ADM-25",
    "POST",
    "/cache-invalidations",
    roles=ADMINS,
    scope="all",
    idempotency="optional",
    audit_entity="cache",
    errors=("UNKNOWN_CATEGORY",),
    response=Cleared,
)
async def clear_cache(call: Call, *, body: CacheClear) -> dict[str, Any]:
    """Drops cached screens by category, app or both (operational repair); emits no domain event."""
    if body.category is not None and body.category != "all" and body.category not in CATEGORIES:
        raise Invalid(
            "Not a cache category",
            code="UNKNOWN_CATEGORY",
            details=[field_error("category", "unknown", allowed=["all", *CATEGORIES])],
        )
    if body.category is None and body.app is None:
        raise Invalid(details=[field_error("category", "name a category, an app or both")])
    categories = CATEGORIES if body.category == "all" else (body.category,)
    tags = sorted({t for c in categories for t in clear_tags(c, body.app)})
    # Straight to the cache: nothing in the database changed, so there is no event to publish.
    await call.ctx.cache.invalidate(tags)
    call.audit(
        "cache", None, after={"category": body.category, "app": body.app, "reason": body.reason, "tags": tags}
    )
    return {"category": body.category, "app": body.app, "tags": tags}


HEALTH_WINDOW = timedelta(minutes=15)


class Probe(View):
    status: Literal["ok", "down"]
    latency_ms: float


class CacheProbe(Probe):
    backend: str
    invalidation_backlog: int


class PoolUse(View):
    name: str
    in_use: int
    size: int


class AppTraffic(View):
    app: str
    calls: int
    error_rate: float | None
    cache_hit_rate: float | None
    avg_latency_ms: float | None
    p50_ms: float | None
    p95_ms: float | None


class Health(View):
    status: Literal["ok", "degraded"]
    database: Probe
    cache: CacheProbe
    pools: list[PoolUse]
    window_minutes: int
    apps: list[AppTraffic]


@app.screen("ADM-23", "/system-health", roles=ADMINS, scope="all", cache="none", response=Health)
async def system_health(call: Call) -> dict[str, Any]:
    """Live status: database and cache probes, pool use, invalidation backlog, per-app error rate and p95."""
    checks = await probes(call.ctx.db, call.ctx.cache)
    cache_backend = call.ctx.cache
    ok = checks["database"]["status"] == "ok" and checks["cache"]["status"] == "ok"
    return {
        "status": "ok" if ok else "degraded",
        "database": checks["database"],
        "cache": {
            **checks["cache"],
            "backend": cache_backend.name,
            "invalidation_backlog": cache_backend.backlog(),
        },
        "pools": [
            {"name": name, "in_use": used, "size": size}
            for name, (used, size) in call.ctx.db.pool_usage().items()
        ],
        "window_minutes": int(HEALTH_WINDOW.total_seconds() // 60),
        # From the request log: finished minutes of the last 15 (p95 on the histogram's bucket grid).
        "apps": await per_app(call.session, since=utcnow() - HEALTH_WINDOW),
    }


MAX_USAGE_DAYS = 31


class UsageQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    # The request log also counts the auth and legacy APIs under these two names.
    app: Literal[(*APPS, "auth", "legacy")] | None = None  # type: ignore[valid-type]


class RouteUsage(AppTraffic):
    route: str
    distinct_users: int


class Usage(View):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    items: list[RouteUsage]


@app.screen(
    "ADM-24",
    "/usage",
    roles=ADMINS,
    scope="all",
    cache="dashboard",
    errors=("RANGE_TOO_LONG",),
    response=Usage,
)
async def usage_screen(call: Call, *, query: UsageQuery) -> dict[str, Any]:
    """Usage per app and endpoint over a period: calls, p50/p95 latency, error rate, cache hit rate, users."""
    if query.date_to < query.date_from:
        raise Invalid(details=[field_error("to", "before from")])
    if (query.date_to - query.date_from).days + 1 > MAX_USAGE_DAYS:
        raise Invalid(
            "The period is longer than 31 days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", "at most 31 days after from", max_days=MAX_USAGE_DAYS)],
        )
    rows = await usage(
        call.session,
        date_from=query.date_from,
        date_to=query.date_to,
        start=day_start_utc(query.date_from),
        end=day_start_utc(query.date_to + timedelta(days=1)),
        app=query.app,
    )
    return {"from": query.date_from, "to": query.date_to, "items": rows}
