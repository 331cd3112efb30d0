"""Partial screens and deadlines (contract mobile.md §3) through the PRB-08 probe and SAL-01.

PRB-08 has three sections: `me` (required), `extra` (500 ms budget), `later` (5 s budget); what
each does next is set in tests.probe_app.SECTION_FAULTS. Every test uses its own demo user so the
last good values and cache entries of one test never feed another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import text

from tests import probe_app
from tests.conftest import BACKEND, Auth
from tests.http import Api, demo
from tsh.bff.sections import DEADLINE_MARGIN_S, parse_deadline
from tsh.platform.metrics import SECTIONS

PROBE = "/api/bff/mobile/probe/sections"


@pytest.fixture(autouse=True)
def faults() -> Iterator[dict[str, str]]:
    probe_app.SECTION_FAULTS.clear()
    probe_app.SECTION_VERSION[0] = 1
    yield probe_app.SECTION_FAULTS
    probe_app.SECTION_FAULTS.clear()
    probe_app.SECTION_VERSION[0] = 1


async def _get(client: httpx.AsyncClient, auth: Auth, email: str, **headers: str) -> httpx.Response:
    return await client.get(PROBE, headers=await auth.headers(email, **headers))


def _ok(section: str, version: int = 1) -> dict[str, Any]:
    return {"section": section, "users": 1, "version": version}


async def test_every_section_ok_is_a_whole_answer_and_cached(client: httpx.AsyncClient, auth: Auth) -> None:
    email = demo("salesperson", 1)
    first = await _get(client, auth, email)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["data"]["me"] == _ok("me") and body["data"]["extra"] == _ok("extra")
    assert body["metadata"]["sections"] == {s: {"status": "ok"} for s in ("me", "extra", "later")}
    assert body["metadata"]["cached"] is False
    second = (await _get(client, auth, email)).json()
    assert second["metadata"]["cached"] is True
    assert second["data"] == body["data"]
    # A cache hit is always a whole answer: no section statuses to report.
    assert "sections" not in second["metadata"]


async def test_a_slow_section_times_out_and_the_screen_still_answers(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str]
) -> None:
    faults["extra"] = "slow"
    r = await _get(client, auth, demo("salesperson", 2))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"]["extra"] is None
    assert body["data"]["me"] == _ok("me") and body["data"]["later"] == _ok("later")
    assert body["metadata"]["sections"] == {
        "me": {"status": "ok"},
        "extra": {"status": "timeout"},
        "later": {"status": "ok"},
    }


@pytest.mark.skipif(BACKEND != "services", reason="pg_sleep: a statement the server runs on")
async def test_a_timed_out_statement_is_cancelled_and_its_connection_not_reused(
    client: httpx.AsyncClient, auth: Auth, api: Api, faults: dict[str, str]
) -> None:
    faults["extra"] = "slow_sql"
    body = (await _get(client, auth, demo("cashier", 2))).json()
    # The sections after the timed-out one ran on a fresh connection of the same session.
    assert body["metadata"]["sections"] == {
        "me": {"status": "ok"},
        "extra": {"status": "timeout"},
        "later": {"status": "ok"},
    }
    assert body["data"]["later"] == _ok("later")
    running = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
    )
    for _ in range(50):  # the cancel request travels on its own connection: wait for it
        async with api.db() as s:
            if await s.scalar(running) == 0:
                break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the timed-out pg_sleep is still running on the server")


async def test_a_failing_section_is_an_error_and_not_cached(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str]
) -> None:
    email = demo("cashier", 1)
    faults["later"] = "fail"
    for _ in range(2):  # the partial answer was not stored: computed again, failing again
        body = (await _get(client, auth, email)).json()
        assert body["metadata"]["cached"] is False
        assert body["metadata"]["sections"]["later"] == {"status": "error"}
        assert body["data"]["later"] is None and body["data"]["extra"] == _ok("extra")
    faults.clear()
    whole = (await _get(client, auth, email)).json()
    assert whole["metadata"]["cached"] is False
    assert whole["metadata"]["sections"]["later"] == {"status": "ok"}
    assert (await _get(client, auth, email)).json()["metadata"]["cached"] is True


async def test_a_partial_answer_has_an_etag_that_still_gives_304(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str]
) -> None:
    email = demo("salesperson", 2)
    faults["extra"] = "fail"
    first = await _get(client, auth, email)
    assert first.json()["metadata"]["sections"]["extra"]["status"] in ("error", "stale")
    again = await _get(client, auth, email, **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_a_failed_section_answers_its_last_good_value_as_stale(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str]
) -> None:
    email = demo("branch_manager", 1)
    good = (await _get(client, auth, email)).json()
    assert good["data"]["extra"] == _ok("extra")
    # New figures from now on, and a write by the user drops the cached whole answer.
    probe_app.SECTION_VERSION[0] = 2
    r = await client.put(
        "/api/bff/mobile/probe/me/language", json={"language": "en"}, headers=await auth.headers(email)
    )
    assert r.status_code == 200, r.text
    faults["extra"] = "fail"
    body = (await _get(client, auth, email)).json()
    assert body["metadata"]["cached"] is False
    extra = body["metadata"]["sections"]["extra"]
    assert extra["status"] == "stale" and extra["age_s"] >= 0
    assert body["data"]["extra"] == _ok("extra", 1)  # the last good value, not today's
    assert body["data"]["later"] == _ok("later", 2)  # the healthy sections are fresh
    assert body["metadata"]["sections"]["later"] == {"status": "ok"}


async def test_a_failing_required_section_fails_the_request(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str]
) -> None:
    email = demo("accountant", 1)
    faults["me"] = "fail"
    r = await _get(client, auth, email)
    assert r.status_code == 500
    assert r.json()["success"] is False and r.json()["error_code"] == "INTERNAL_ERROR"
    faults["me"] = "nap"
    r = await _get(client, auth, email, **{"X-Request-Deadline": "60"})
    assert r.status_code == 503
    assert r.json()["error_code"] == "SECTION_TIMEOUT"
    # Nothing was stored: the next request computes a whole answer.
    faults.clear()
    body = (await _get(client, auth, email)).json()
    assert body["metadata"]["cached"] is False
    assert body["metadata"]["sections"] == {s: {"status": "ok"} for s in ("me", "extra", "later")}


async def test_the_deadline_header_caps_the_section_budgets(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str]
) -> None:
    email = demo("consumer", 1)
    faults["later"] = "doze"  # well within its 5 s budget
    # 1 s leaves `me` and `extra` ample time even on a loaded machine, not `later`'s 1.5 s.
    r = await _get(client, auth, email, **{"X-Request-Deadline": "1000"})
    assert r.status_code == 200, r.text
    sections = r.json()["metadata"]["sections"]
    assert sections["me"] == {"status": "ok"}
    assert sections["later"] == {"status": "timeout"}
    # Without the header the budgets apply and the same doze is fine.
    r = await _get(client, auth, email)
    assert r.json()["metadata"]["sections"]["later"] == {"status": "ok"}


@pytest.mark.parametrize("raw", ["soon", "-5", "0", "1.5", "99999999999", ""])
async def test_a_malformed_deadline_is_ignored(
    client: httpx.AsyncClient, auth: Auth, faults: dict[str, str], raw: str
) -> None:
    faults["later"] = "nap"
    r = await _get(client, auth, demo("salesperson", 1), **{"X-Request-Deadline": raw})
    assert r.status_code == 200, r.text
    sections = r.json()["metadata"].get("sections")
    # Either a fresh whole answer or the cached one; never a timeout because of the header.
    assert sections is None or sections["later"] == {"status": "ok"}


def test_parse_deadline() -> None:
    assert parse_deadline("800", 10.0) == pytest.approx(10.8 - DEADLINE_MARGIN_S)
    assert parse_deadline(" 800 ", 10.0) == pytest.approx(10.8 - DEADLINE_MARGIN_S)
    for raw in (None, "", "x", "0", "-1", "8e2", "800ms", "١٠٠"):
        assert parse_deadline(raw, 10.0) is None


async def test_salesperson_dashboard_reports_its_sections(api: Api) -> None:
    sal = api.app("salesperson")
    email = demo("salesperson", 2)
    headers = await api.auth.headers(email)
    r = await api.client.get(sal.base + "/dashboard", params={"date_range": "month"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["cached"] is False
    assert body["metadata"]["sections"] == {
        "figures": {"status": "ok"},
        "top_lists": {"status": "ok"},
        "money": {"status": "ok"},
    }
    assert isinstance(body["data"]["top_products"], list)
    assert isinstance(body["data"]["receivables"]["outstanding"], list)


async def _fresh_dashboard(
    api: Api, client: httpx.AsyncClient, email: str, app: str = "salesperson", **params: Any
) -> dict[str, Any]:
    """A freshly computed dashboard of `app` (SAL-01 for the week unless told)."""
    # Drop the stored whole answers (last good values carry no tags and stay).
    await api.ctx.cache.invalidate([f"app:{app}"])
    if app == "salesperson":
        params = params or {"date_range": "week"}
    r = await client.get(
        api.app(app).base + "/dashboard", params=params, headers=await api.auth.headers(email)
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _all_ok(body: dict[str, Any], *sections: str) -> None:
    assert body["metadata"]["cached"] is False
    assert body["metadata"]["sections"] == {s: {"status": "ok"} for s in sections}


async def test_salesperson_dashboard_keeps_its_figures_when_the_money_part_fails(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.sales import dashboard

    email = demo("salesperson", 1)
    money_keys = ("payments_collected", "receivables", "commission_month")
    whole = await _fresh_dashboard(api, client, email)
    assert {s["status"] for s in whole["metadata"]["sections"].values()} == {"ok"}

    async def broken(*_: Any) -> dict[str, Any]:
        raise RuntimeError("the money source is down")

    monkeypatch.setattr(dashboard, "_money", broken)
    errors = SECTIONS.labels("SAL-01", "money", "stale")._value.get()
    partial = await _fresh_dashboard(api, client, email)
    # The response still validates against SalDashboard (contract_clean checks every answer).
    assert partial["metadata"]["sections"]["figures"] == {"status": "ok"}
    assert partial["metadata"]["sections"]["top_lists"] == {"status": "ok"}
    money = partial["metadata"]["sections"]["money"]
    assert money["status"] == "stale" and money["age_s"] >= 0
    assert {k: partial["data"][k] for k in money_keys} == {k: whole["data"][k] for k in money_keys}
    assert partial["data"]["orders"] == whole["data"]["orders"]
    assert SECTIONS.labels("SAL-01", "money", "stale")._value.get() == errors + 1


async def test_salesperson_dashboard_without_a_last_good_value_answers_null(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.sales import dashboard

    async def broken(*_: Any) -> dict[str, Any]:
        raise RuntimeError("the top lists are down")

    monkeypatch.setattr(dashboard, "_tops", broken)
    # A manager naming their branch's salesperson: a key no other test answered well before.
    email, other = demo("branch_manager", 2), await api.user_id(demo("salesperson", 2))
    await api.ctx.cache.invalidate(["app:salesperson"])
    r = await client.get(
        "/api/bff/mobile/salesperson/dashboard",
        params={"date_range": "month", "salesperson_id": other},
        headers=await api.auth.headers(email),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["sections"]["top_lists"] == {"status": "error"}
    assert body["data"]["top_customers"] is None and body["data"]["top_products"] is None
    assert body["data"]["profile"]["id"] is not None


async def test_pos_and_consumer_homes_report_their_sections(api: Api) -> None:
    await api.ctx.cache.invalidate(["app:pos", "app:consumer"])
    pos = await api.client.get(
        "/api/bff/mobile/pos/dashboard", headers=await api.auth.headers(demo("cashier", 1))
    )
    assert pos.status_code == 200, pos.text
    assert pos.json()["metadata"]["sections"] == {
        s: {"status": "ok"} for s in ("till", "top_products", "quick_tiles")
    }
    home = await api.client.get("/api/bff/mobile/home", headers=await api.auth.headers(demo("consumer", 1)))
    assert home.status_code == 200, home.text
    assert home.json()["metadata"]["sections"] == {
        s: {"status": "ok"} for s in ("categories", "promotions", "best_sellers", "new_arrivals")
    }


async def test_finance_dashboard_reports_its_sections(api: Api, client: httpx.AsyncClient) -> None:
    body = await _fresh_dashboard(api, client, demo("accountant", 2), "accounting")
    _all_ok(body, "balances", "bank_lines", "results")
    data = body["data"]
    assert data["month_to_date"]["net_profit"] is not None
    assert isinstance(data["unreconciled_bank_lines"], int) and len(data["cash"]) == 2


async def test_finance_dashboard_shows_old_results_as_stale_but_never_old_balances(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.finance import dashboard

    email = demo("branch_manager", 1)
    whole = await _fresh_dashboard(api, client, email, "accounting")

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the ledger is down")

    monkeypatch.setattr(dashboard, "_results", broken)
    partial = await _fresh_dashboard(api, client, email, "accounting")
    results = partial["metadata"]["sections"]["results"]
    assert results["status"] == "stale" and results["age_s"] >= 0
    assert partial["data"]["month_to_date"] == whole["data"]["month_to_date"]
    assert partial["data"]["cash"] == whole["data"]["cash"]
    # Balances are required: a failure there fails the screen instead of showing an old figure.
    monkeypatch.setattr(dashboard, "_balances", broken)
    await api.ctx.cache.invalidate(["app:accounting"])
    r = await client.get(api.app("accounting").base + "/dashboard", headers=await api.auth.headers(email))
    assert r.status_code == 500 and r.json()["error_code"] == "INTERNAL_ERROR"


async def test_stock_dashboard_reports_its_sections(api: Api, client: httpx.AsyncClient) -> None:
    body = await _fresh_dashboard(api, client, demo("warehouse_staff", 1), "inventory")
    _all_ok(body, "stock", "work", "activity")
    data = body["data"]
    assert isinstance(data["open_counts"], int) and isinstance(data["recent_movements"], list)
    assert data["low_stock"] == sum(w["low"] for w in data["by_warehouse"])


async def test_stock_dashboard_keeps_stock_when_activity_fails(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.inventory import queries

    email = demo("inventory_manager", 2)
    whole = await _fresh_dashboard(api, client, email, "inventory")

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the movements are down")

    monkeypatch.setattr(queries, "_activity", broken)
    partial = await _fresh_dashboard(api, client, email, "inventory")
    activity = partial["metadata"]["sections"]["activity"]
    assert activity["status"] == "stale" and activity["age_s"] >= 0
    # The last good movements (timestamps and money through the cache) validate as before.
    assert partial["data"]["recent_movements"] == whole["data"]["recent_movements"]
    assert partial["data"]["by_warehouse"] == whole["data"]["by_warehouse"]
    monkeypatch.setattr(queries, "_work", broken)
    # Another caller's screen: its own last good values (or none yet, then null), never these.
    other = await _fresh_dashboard(api, client, demo("branch_manager", 2), "inventory")
    work = other["metadata"]["sections"]["work"]
    assert work["status"] in ("error", "stale")
    if work["status"] == "error":
        assert other["data"]["open_counts"] is None


async def test_security_dashboard_reports_its_sections(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.identity import oversight

    email = demo("security_officer", 1)
    whole = await _fresh_dashboard(api, client, email, "security")
    _all_ok(whole, "alarms", "sessions", "recent_events")
    assert isinstance(whole["data"]["active_sessions"], list) and whole["data"]["threat_level"]

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the session store is down")

    monkeypatch.setattr(oversight, "_sessions", broken)
    partial = await _fresh_dashboard(api, client, email, "security")
    sessions = partial["metadata"]["sections"]["sessions"]
    assert sessions["status"] == "stale" and sessions["age_s"] >= 0
    assert partial["data"]["active_sessions"] == whole["data"]["active_sessions"]
    assert partial["metadata"]["sections"]["alarms"] == {"status": "ok"}


async def test_wholesale_home_reports_its_sections(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.wholesale import reports

    email = demo("wholesale_client", 2)
    whole = await _fresh_dashboard(api, client, email, "wholesale")
    _all_ok(whole, "account", "spend", "quick_reorder", "price_changes")
    assert whole["data"]["spend"]["this_month"] is not None
    assert isinstance(whole["data"]["quick_reorder"], list)

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the order history is down")

    monkeypatch.setattr(reports, "_spend", broken)
    partial = await _fresh_dashboard(api, client, email, "wholesale")
    spend = partial["metadata"]["sections"]["spend"]
    assert spend["status"] == "stale" and spend["age_s"] >= 0
    assert partial["data"]["spend"] == whole["data"]["spend"]
    assert partial["data"]["credit"] == whole["data"]["credit"]
    assert partial["metadata"]["sections"]["price_changes"] == {"status": "ok"}


async def test_partner_dashboard_reports_its_sections(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.partners import dashboard

    email = demo("partner", 2)
    whole = await _fresh_dashboard(api, client, email, "partner")
    _all_ok(whole, "month", "commission", "network", "activity")
    assert len(whole["data"]["commission"]["payable"]) == 2
    assert isinstance(whole["data"]["activity"], list)

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the commission ledger is down")

    monkeypatch.setattr(dashboard, "_commission", broken)
    partial = await _fresh_dashboard(api, client, email, "partner")
    commission = partial["metadata"]["sections"]["commission"]
    assert commission["status"] == "stale" and commission["age_s"] >= 0
    assert partial["data"]["commission"] == whole["data"]["commission"]
    assert partial["data"]["month"] == whole["data"]["month"]


async def test_service_dashboard_reports_its_sections(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.aftersales import reports

    email = demo("service_agent", 2)
    whole = await _fresh_dashboard(api, client, email, "aso")
    _all_ok(whole, "requests", "jobs", "desk")
    assert isinstance(whole["data"]["todays_jobs"], list)
    assert isinstance(whole["data"]["parts_below_reorder"], int)

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the parts store is down")

    monkeypatch.setattr(reports, "_desk", broken)
    partial = await _fresh_dashboard(api, client, email, "aso")
    desk = partial["metadata"]["sections"]["desk"]
    assert desk["status"] == "stale" and desk["age_s"] >= 0
    assert partial["data"]["refunds_this_week"] == whole["data"]["refunds_this_week"]
    assert partial["data"]["open_requests"] == whole["data"]["open_requests"]


async def test_hr_dashboard_reports_its_sections(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tsh.domain.hr import people_views

    email = demo("hr_manager", 2)
    whole = await _fresh_dashboard(api, client, email, "hr")
    _all_ok(whole, "people", "payroll", "reviews")
    assert isinstance(whole["data"]["review_cycles"], list) and whole["data"]["headcount"] > 0

    async def broken(*_: Any) -> Any:
        raise RuntimeError("the review store is down")

    monkeypatch.setattr(people_views, "_reviews", broken)
    partial = await _fresh_dashboard(api, client, email, "hr")
    reviews = partial["metadata"]["sections"]["reviews"]
    assert reviews["status"] == "stale" and reviews["age_s"] >= 0
    assert partial["data"]["review_cycles"] == whole["data"]["review_cycles"]
    assert partial["data"]["payroll"] == whole["data"]["payroll"]
