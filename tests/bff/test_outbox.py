"""The offline outbox (mobile.md §2): items run in order as direct calls would, `$ref` to earlier
results, 424 for a failed dependency, replay without running twice, `if_version`, the client's time
in the audit row, and per-item answers for endpoints the caller may not queue."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from tests.bff.consumer.conftest import BASE as CONSUMER_BASE
from tests.bff.consumer.conftest import Consumer, consumer, key, ok, stocked_products
from tests.bff.salesperson.conftest import SHOP, SP1, SP2, order_body
from tests.bff.salesperson.conftest import Api as SalesApi
from tests.conftest import Auth
from tests.http import Api
from tsh.context import AppContext
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import AuditLog
from tsh.domain.sales import cancellation
from tsh.domain.sales.models import Order
from tsh.platform.db.uow import unit_of_work

OUTBOX = "/api/bff/mobile/outbox"


def _shop() -> dict[str, Any]:
    return {
        "name": "Offline Shop " + secrets.token_hex(3),
        "shop_name": "Shop " + secrets.token_hex(3),
        "phone": "+96477" + "".join(secrets.choice("0123456789") for _ in range(8)),
        "city": "Baghdad",
        "address": "Karrada, street 62",
        "geo": SHOP,
    }


def _item(client_id: str, endpoint: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "endpoint": endpoint,
        "body": body,
        "idempotency_key": uuid.uuid4().hex,
        **extra,
    }


async def _send(api: Api, email: str | None, items: list[dict[str, Any]]) -> httpx.Response:
    return await api.send(email, "POST", OUTBOX, {"device_id": "phone-1", "items": items}, key=None)


async def _results(api: Api, email: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = await _send(api, email, items)
    assert r.status_code == 200, r.text
    results = r.json()["data"]["results"]
    assert [x["client_id"] for x in results] == [i["client_id"] for i in items]
    return list(results)


async def _customers(api: Api, phone: str) -> int:
    return await api.count(Customer, Customer.phone == phone)


async def _audit(api: Api, action: str, entity_id: int) -> list[AuditLog]:
    async with api.db() as s:
        rows = await s.scalars(
            select(AuditLog).where(AuditLog.action == action, AuditLog.entity_id == entity_id)
        )
        return list(rows)


async def _cancel(api: Api, order_id: int) -> None:
    async with unit_of_work(api.ctx.db, api.ctx.bus) as s:
        await cancellation.cancel_order(
            s, order_id=order_id, reason="test", by_user_id=await api.user_id(SP1)
        )


async def test_customer_created_offline_then_its_order_and_the_replay(
    api: Api, client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    sales = SalesApi(client, auth, ctx)
    # The price a new shop of SP1 pays, learnt on a throwaway shop registered the same way.
    probe = (await sales.new_customer())["profile"]["id"]
    product = await sales.stocked_product(probe)
    lines = [{"product_id": product["id"], "qty": 1}]
    expected = (await order_body(sales, probe, lines))["expected_total"]
    shop = _shop()
    made_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    items = [
        _item("cust-1", "SAL-04", shop, created_at=made_at.isoformat()),
        _item(
            "order-1",
            "SAL-10",
            {
                "customer_id": "$ref:cust-1.profile.id",
                "lines": lines,
                "payment_terms": "cash",
                "expected_total": expected,
            },
            created_at=(made_at + timedelta(minutes=5)).isoformat(),
        ),
    ]
    results = await _results(api, SP1, items)
    assert [x["status"] for x in results] == [201, 201], results
    customer_id = results[0]["data"]["profile"]["id"]
    order = results[1]["data"]
    try:
        async with api.db() as s:
            row = await s.get(Order, order["id"])
            assert row is not None and row.customer_id == customer_id
            assert row.salesperson_id == await api.user_id(SP1)
            created = await s.get(Customer, customer_id)
            assert created is not None and created.phone == shop["phone"]
        # Each item wrote the audit row of a direct call, with the phone's time beside the server's.
        [cust_audit] = await _audit(api, "SAL-04", customer_id)
        [order_audit] = await _audit(api, "SAL-10", order["id"])
        assert cust_audit.client_at == made_at and order_audit.client_at == made_at + timedelta(minutes=5)
        assert cust_audit.at > made_at + timedelta(hours=2)
        assert cust_audit.request_id is not None and cust_audit.request_id.endswith(".1")
        audits = await api.count(AuditLog)
        orders = await api.count(Order, Order.customer_id == customer_id)
        # The phone lost the answer and sends the same outbox again: the stored answers, nothing twice.
        again = await _results(api, SP1, items)
        assert [(x["status"], x["data"]) for x in again] == [(x["status"], x["data"]) for x in results]
        assert await _customers(api, shop["phone"]) == 1
        assert await api.count(Order, Order.customer_id == customer_id) == orders == 1
        assert await api.count(AuditLog) == audits
        # The same write sent directly with an item's key is a replay too.
        direct = await sales.send(SP1, "POST", "/customers", shop, key=items[0]["idempotency_key"])
        assert direct.status_code == 201 and direct.json()["data"] == results[0]["data"]
        assert direct.headers["Idempotent-Replayed"] == "true"
        # The order screen shows the order (OrderCreated invalidated it as after a direct call).
        listed = await sales.data(SP1, "/orders")
        assert order["id"] in [o["id"] for o in listed["items"]]
    finally:
        await _cancel(api, order["id"])


async def test_a_failed_item_fails_its_dependants_only(api: Api) -> None:
    good, bad = _shop(), _shop() | {"phone": "not a phone"}
    items = [
        _item("bad", "SAL-04", bad),
        _item(
            "order", "SAL-10", {"customer_id": "$ref:bad.profile.id", "lines": [], "payment_terms": "cash"}
        ),
        _item("after-order", "SAL-04", _shop() | {"notes": "$ref:order.id"}),
        _item("good", "SAL-04", good),
        _item("no-field", "SAL-04", _shop() | {"notes": "$ref:good.profile.no_such_field"}),
    ]
    results = await _results(api, SP1, items)
    assert [x["status"] for x in results] == [422, 424, 424, 201, 422], results
    assert results[0]["error_code"] == "VALIDATION_ERROR"
    assert results[1]["error_code"] == results[2]["error_code"] == "FAILED_DEPENDENCY"
    assert results[1]["details"][0]["field"] == "$ref:bad.profile.id"
    assert results[4]["error_code"] == "VALIDATION_ERROR" and "data" not in results[4]
    assert await _customers(api, good["phone"]) == 1
    assert await _customers(api, items[2]["body"]["phone"]) == 0
    assert await _customers(api, items[4]["body"]["phone"]) == 0


async def test_items_the_caller_may_not_queue_get_their_own_answer(api: Api) -> None:
    shop = _shop()
    denied_before = await api.count(AuditLog, AuditLog.action == "CON-27", AuditLog.decision == "denied")
    items = [
        # The role is checked first, as for a direct call: no path id or version is looked at.
        _item("other-app", "CON-27", {"reason": "x"}, if_version=1),
        _item("screen", "SAL-01"),
        _item("unknown", "XYZ-99"),
        _item("nested", "MOB-OUTBOX", {"device_id": "x", "items": []}),
        _item("versioned", "SAL-04", shop, if_version=3),
        _item("no-path-id", "SAL-08", {}),
    ]
    results = await _results(api, SP1, items)
    answers = [(x["status"], x["error_code"]) for x in results]
    assert answers == [
        (403, "FORBIDDEN"),
        (422, "OUTBOX_NOT_AN_ACTION"),
        (404, "NOT_FOUND"),
        (422, "OUTBOX_NOT_AN_ACTION"),
        (422, "IF_VERSION_UNSUPPORTED"),
        (422, "VALIDATION_ERROR"),
    ], results
    assert results[5]["details"] == [{"field": "params.id", "issue": "missing"}]
    assert await _customers(api, shop["phone"]) == 0
    # The 403 is a denial in the audit trail, as for a direct call.
    assert (
        await api.count(AuditLog, AuditLog.action == "CON-27", AuditLog.decision == "denied")
        == denied_before + 1
    )


async def test_a_bad_outbox_runs_nothing(api: Api) -> None:
    shops = [_shop() for _ in range(51)]
    too_many = [_item(f"c{n}", "SAL-04", shop) for n, shop in enumerate(shops)]
    r = await _send(api, SP1, too_many)
    assert r.status_code == 422 and r.json()["error_code"] == "VALIDATION_ERROR", r.text
    twice = [_item("same", "SAL-04", shops[0]), _item("same", "SAL-04", shops[1])]
    forward = [
        _item("a", "SAL-04", shops[0] | {"notes": "$ref:b.profile.id"}),
        _item("b", "SAL-04", shops[1]),
    ]
    for items in (twice, forward, [], [_item("x", "SAL-04", shops[0]) | {"idempotency_key": ""}]):
        r = await _send(api, SP1, items)
        assert r.status_code == 422 and r.json()["error_code"] == "VALIDATION_ERROR", r.text
    r = await api.send(SP1, "POST", OUTBOX, {"items": too_many[:1]}, key=None)
    assert r.status_code == 422
    for shop in shops[:2]:
        assert await _customers(api, shop["phone"]) == 0
    assert (await _send(api, None, too_many[:1])).status_code == 401
    assert await _customers(api, shops[0]["phone"]) == 0


async def _consumer_order(
    client: httpx.AsyncClient, ctx: AppContext, c: Consumer, headers: dict[str, str]
) -> int:
    [pid] = await stocked_products(ctx, c.serving)
    await ok(await client.delete(f"{CONSUMER_BASE}/cart", headers=headers))
    await ok(
        await client.post(f"{CONSUMER_BASE}/cart/items", json={"product_id": pid, "qty": 1}, headers=headers)
    )
    params = {"delivery_option": "pickup", "pickup_branch_id": c.serving.branch_id}
    summary = await ok(await client.get(f"{CONSUMER_BASE}/checkout", params=params, headers=headers))
    body = {**params, "payment_method": "cash_on_delivery", "expected_total": summary["total"]}
    order = await ok(
        await client.post(f"{CONSUMER_BASE}/orders", json=body, headers={**headers, **key()}), 201
    )
    return int(order["id"])


async def _order_state(api: Api, order_id: int) -> tuple[str, int]:
    async with api.db() as s:
        row = await s.get(Order, order_id)
        assert row is not None
        return row.status, row.version


async def test_if_version_conflict_shows_the_current_row_and_changes_nothing(
    api: Api, client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    C1, C2 = "consumer1@demo.tsh.iq", "consumer2@demo.tsh.iq"
    c1, h1 = await consumer(ctx, C1), await auth.headers(C1)
    order_id = await _consumer_order(client, ctx, c1, h1)
    try:
        status, version = await _order_state(api, order_id)
        stale = [
            _item("cancel", "CON-27", {"reason": "offline"}, params={"id": order_id}, if_version=version + 1)
        ]
        [conflict] = await _results(api, C1, stale)
        assert conflict["status"] == 409 and conflict["error_code"] == "VERSION_CONFLICT", conflict
        [detail] = conflict["details"]
        assert detail["version"] == version and detail["current"]["id"] == order_id
        assert detail["current"]["status"] == status
        assert await _order_state(api, order_id) == (status, version)
        # Sent again, the kept answer: still nothing changed.
        [again] = await _results(api, C1, stale)
        assert again == conflict and await _order_state(api, order_id) == (status, version)
        # Another consumer's order: 404 whether or not the item names a version.
        theirs = [
            _item("a", "CON-27", {"reason": "x"}, params={"id": order_id}, if_version=version),
            _item("b", "CON-27", {"reason": "x"}, params={"id": order_id}),
        ]
        assert [x["status"] for x in await _results(api, C2, theirs)] == [404, 404]
        assert await _order_state(api, order_id) == (status, version)
        # The version the phone saw: the cancellation runs.
        fresh = [
            _item("cancel", "CON-27", {"reason": "offline"}, params={"id": order_id}, if_version=version)
        ]
        [done] = await _results(api, C1, fresh)
        assert done["status"] == 200 and done["data"]["status"] == "cancelled", done
        assert (await _order_state(api, order_id))[0] == "cancelled"
    finally:
        if (await _order_state(api, order_id))[0] != "cancelled":
            r = await client.post(
                f"{CONSUMER_BASE}/orders/{order_id}/cancellation",
                json={"reason": "test"},
                headers={**h1, **key()},
            )
            await ok(r)


async def test_another_salespersons_customer_is_404_for_the_item(api: Api) -> None:
    theirs = [
        _item(
            "o",
            "SAL-10",
            {
                "customer_id": 1,
                "lines": [{"product_id": 1, "qty": 1}],
                "payment_terms": "cash",
                "expected_total": {"amount": "1", "currency": "IQD"},
            },
        )
    ]
    async with api.db() as s:
        other = await s.scalar(
            select(func.min(Customer.id)).where(Customer.salesperson_id == await api.user_id(SP2))
        )
    assert other is not None
    theirs[0]["body"]["customer_id"] = other
    before = await api.count(Order, Order.customer_id == other)
    [result] = await _results(api, SP1, theirs)
    assert result["status"] == 404, result
    assert await api.count(Order, Order.customer_id == other) == before


async def test_each_item_counts_against_its_endpoints_rate_limit(
    api: Api, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    hits: list[str] = []
    real = ctx.limiter.hit

    async def hit(key: str, limit: str) -> None:
        hits.append(key)
        await real(key, limit)

    monkeypatch.setattr(ctx.limiter, "hit", hit)
    uid = await api.user_id(SP1)
    results = await _results(api, SP1, [_item("a", "SAL-04", _shop()), _item("b", "SAL-04", _shop())])
    assert [x["status"] for x in results] == [201, 201]
    assert hits == [f"ep:MOB-OUTBOX:u{uid}", f"ep:SAL-04:u{uid}", f"ep:SAL-04:u{uid}"]
