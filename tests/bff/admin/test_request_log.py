"""The request log (per-minute aggregates) and the screens reading it: ADM-01, ADM-23, ADM-24."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.bff.admin.conftest import ADMIN, CASHIER, Admin
from tsh.domain.identity.models import RequestRollup, RequestUserDay
from tsh.domain.shared import business_today
from tsh.platform.requestlog import RequestLog, percentile_ms


def test_aggregates_per_minute_and_percentiles() -> None:
    log = RequestLog()
    at = datetime(2026, 1, 5, 10, 0, 30, tzinfo=UTC)
    for ms in (3, 4, 30, 700):
        log.record(app="pos", route="/x", status=200, latency_ms=ms, cached=ms < 5, user_id=7, now=at)
    log.record(app="pos", route="/x", status=503, latency_ms=2, cached=False, user_id=8, now=at)
    assert log.take(now=at) == {}  # the minute is not finished yet
    done = log.take(now=at + timedelta(minutes=1))
    ok = done[(at.replace(second=0), "pos", "/x", "2xx")]
    assert (ok.count, ok.cached, ok.users) == (4, 2, {7})
    assert percentile_ms(ok.buckets, 0.5) == 5 and percentile_ms(ok.buckets, 0.95) == 1000
    assert done[(at.replace(second=0), "pos", "/x", "5xx")].count == 1
    assert percentile_ms([0] * 10, 0.5) is None


async def test_requests_reach_the_table_and_the_screens(adm: Admin) -> None:
    await adm.ctx.flush_request_log(everything=True)
    async with adm.db() as s:
        before = int(
            await s.scalar(
                select(func.coalesce(func.sum(RequestRollup.count), 0)).where(RequestRollup.app == "pos")
            )
            or 0
        )
    headers = await adm.auth.headers(CASHIER)
    for _ in range(4):
        r = await adm.client.get("/api/bff/mobile/pos/dashboard", headers=headers)
        assert r.status_code == 200
    assert await adm.ctx.flush_request_log(everything=True) >= 1
    cashier = await adm.user_id(CASHIER)
    async with adm.db() as s:
        after = int(
            await s.scalar(select(func.sum(RequestRollup.count)).where(RequestRollup.app == "pos")) or 0
        )
        user_days = await s.scalar(
            select(func.count())
            .select_from(RequestUserDay)
            .where(RequestUserDay.user_id == cashier, RequestUserDay.app == "pos")
        )
        rows = int(await s.scalar(select(func.count()).select_from(RequestRollup)) or 0)
    assert after >= before + 4 and user_days >= 1
    assert rows < after + 10_000  # aggregated: far fewer rows than requests over the run
    health = await adm.data(ADMIN, "/system-health")
    assert health["database"]["status"] == "ok" and health["cache"]["invalidation_backlog"] == 0
    pos = next(a for a in health["apps"] if a["app"] == "pos")
    assert pos["calls"] >= 4 and pos["p95_ms"] is not None
    today = business_today().isoformat()
    used = await adm.data(ADMIN, "/usage", **{"from": today, "to": today, "app": "pos"})
    route = next(r for r in used["items"] if r["route"] == "/api/bff/mobile/pos/dashboard")
    assert route["calls"] >= 4 and route["distinct_users"] >= 1
    assert {r["app"] for r in used["items"]} == {"pos"}
    dash = await adm.data(ADMIN, "/dashboard")
    assert dash["last_hour"]["calls"] >= 4


async def test_usage_period_rules(adm: Admin) -> None:
    r = await adm.get(ADMIN, "/usage", **{"from": "2026-01-01", "to": "2026-02-15"})
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    r = await adm.get(ADMIN, "/usage", **{"from": "2026-02-01", "to": "2026-01-15"})
    assert r.status_code == 422
    assert (await adm.get(ADMIN, "/usage")).status_code == 422
    assert (await adm.get(ADMIN, "/usage", **{"from": "2026-01-01", "to": "2026-01-31"})).status_code == 200
    assert (await adm.get(CASHIER, "/system-health")).status_code == 403
