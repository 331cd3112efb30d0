"""mass_export (clarifications: threat detectors): one user receiving more than
TSH_THREAT_EXPORT_ROWS distinct customer or order rows through list screens in the window.

The threshold is lowered for the test (the demo salesperson owns a few dozen customers); the rows
counted are the ones the screens really handed out, on either cache back end."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.http import Api, demo

from tsh.context import AppContext
from tsh.domain.identity.models import SecurityEvent, Threat, User
from tsh.platform.cache.backend import MemoryCache

SALESPERSON = demo("salesperson", 2)


async def _threats(api: Api, email: str) -> tuple[list[Threat], list[SecurityEvent]]:
    async with api.db() as s:
        uid = await s.scalar(select(User.id).where(User.email == email))
        threats = (
            await s.scalars(select(Threat).where(Threat.user_id == uid, Threat.type == "mass_export"))
        ).all()
        events = (
            await s.scalars(
                select(SecurityEvent).where(SecurityEvent.user_id == uid, SecurityEvent.type == "mass_export")
            )
        ).all()
    return list(threats), list(events)


async def test_paging_through_more_customers_than_allowed_raises_one_threat(
    api: Api, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    sal = api.app("salesperson")
    first = await sal.data(SALESPERSON, "/customers", limit=10)
    handed = {c["id"] for c in first["items"]}
    assert len(handed) == 10 and first["next_cursor"]
    # Under the threshold nothing happens; then the threshold sits just below what was handed out.
    assert await _threats(api, SALESPERSON) == ([], [])
    monkeypatch.setattr(ctx.settings, "threat_export_rows", 11)
    second = await sal.data(SALESPERSON, "/customers", limit=10, cursor=first["next_cursor"])
    handed |= {c["id"] for c in second["items"]}
    assert len(handed) > 11
    threats, events = await _threats(api, SALESPERSON)
    assert [(t.severity, t.status) for t in threats] == [("high", "open")]
    (event,) = events
    assert event.details["kind"] == "customers" and abs(event.details["distinct_rows"] - len(handed)) <= 1
    # Reading the same rows again (also from the cache) adds no distinct rows and no second signal.
    again = await sal.get(SALESPERSON, "/customers", limit=10)
    assert again.status_code == 200
    threats2, events2 = await _threats(api, SALESPERSON)
    assert [(t.id, t.event_count) for t in threats2] == [(t.id, t.event_count) for t in threats]
    assert [e.id for e in events2] == [event.id]


async def test_only_list_screens_that_hand_out_rows_are_counted(api: Api, ctx: AppContext) -> None:
    email = demo("salesperson", 1)
    uid = await api.user_id(email)
    window = ctx.settings.threat_window_minutes * 60

    async def counted() -> int:
        return await ctx.cache.count_distinct(f"export:customers:u{uid}", [], window)

    sal = api.app("salesperson")
    before = await counted()
    # The dashboard and a customer's page show customers too, but hand out no list of rows.
    assert (await sal.get(email, "/dashboard")).status_code == 200
    assert await counted() == before
    page = await sal.data(email, "/customers", limit=5)
    assert await counted() >= len({c["id"] for c in page["items"]}) > 0


async def test_the_in_process_counter_keeps_two_windows() -> None:
    cache = MemoryCache()
    assert await cache.count_distinct("k", ["1", "2", "2"], 600) == 2
    assert await cache.count_distinct("k", ["2", "3"], 600) == 3
    assert await cache.count_distinct("other", [], 600) == 0


async def test_legacy_lists_are_counted_too(api: Api, ctx: AppContext) -> None:
    email = demo("accountant", 2)
    uid = await api.user_id(email)
    window = ctx.settings.threat_window_minutes * 60
    before = await ctx.cache.count_distinct(f"export:customers:u{uid}", [], window)
    r = await api.get(email, "/api/customers", limit=40)
    assert r.status_code == 200 and len(r.json()) == 40
    after = await ctx.cache.count_distinct(f"export:customers:u{uid}", [], window)
    # Exact in process; Redis' HyperLogLog is an estimate (about 1 % off).
    assert after > before and after >= 38
