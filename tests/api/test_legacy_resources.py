"""A sample of the declared back-office resources (core.md §2.2) through HTTP."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx2 as httpx
from sqlalchemy import select

from tests.api.helpers import ADMIN, CONSUMER, SP1, branch_manager, count, scalar, user
from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.catalog.models import Category, PriceList, PriceListItem, Product
from tsh.domain.customers.models import Customer
from tsh.platform.events import DomainEvent

INV = "inventory_manager1@demo.tsh.iq"
ACC = "accountant1@demo.tsh.iq"


class Recorder:
    def __init__(self, ctx: AppContext) -> None:
        self.events: list[DomainEvent] = []
        ctx.bus.subscribe(self._record)

    async def _record(self, batch: list[DomainEvent]) -> None:
        self.events.extend(batch)

    def names(self) -> set[str]:
        return {e.name for e in self.events}


async def test_products_list_and_get(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    r = await client.get("/api/products?limit=3", headers=await auth.headers(SP1))
    assert r.status_code == 200, r.text
    assert int(r.headers["x-total-count"]) == await count(ctx, Product)
    first = r.json()[0]
    assert first["category"]["id"] == first["category_id"]
    one = await client.get(f"/api/products/{first['id']}", headers=await auth.headers(SP1))
    assert one.json()["sku"] == first["sku"]
    assert_error(await client.get("/api/products", headers=await auth.headers(CONSUMER)), 403, "FORBIDDEN")
    assert_error(
        await client.get("/api/products/999999999", headers=await auth.headers(SP1)), 404, "NOT_FOUND"
    )


async def test_product_update_changes_get_and_emits(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    recorder = Recorder(ctx)
    pid = await scalar(ctx, select(Product.id).order_by(Product.id.desc()).limit(1))
    new_name = f"Renamed {uuid.uuid4().hex[:6]}"
    before = (await client.get(f"/api/products/{pid}", headers=await auth.headers(SP1))).json()
    assert_error(
        await client.patch(
            f"/api/products/{pid}", json={"name_en": new_name}, headers=await auth.headers(SP1)
        ),
        403,
        "FORBIDDEN",
    )
    r = await client.patch(
        f"/api/products/{pid}", json={"name_en": new_name}, headers=await auth.headers(INV)
    )
    assert r.status_code == 200, r.text
    assert r.json()["name_en"] == new_name and r.json()["updated_at"] >= before["updated_at"]
    after = (await client.get(f"/api/products/{pid}", headers=await auth.headers(SP1))).json()
    assert after["name_en"] == new_name
    assert "ProductChanged" in recorder.names()


async def test_validation_rejects_unknown_and_bad_fields(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    pid = await scalar(ctx, select(Product.id).limit(1))
    h = await auth.headers(INV)
    body = assert_error(
        await client.patch(f"/api/products/{pid}", json={"bogus": 1}, headers=h), 422, "VALIDATION_ERROR"
    )
    assert {"field": "bogus", "issue": "unknown field"} in body["details"]
    body = assert_error(
        await client.patch(f"/api/products/{pid}", json={"pack_size": "many"}, headers=h),
        422,
        "VALIDATION_ERROR",
    )
    assert body["details"][0]["field"] == "pack_size"
    assert_error(await client.patch(f"/api/products/{pid}", json={}, headers=h), 422, "VALIDATION_ERROR")
    assert_error(
        await client.post("/api/categories", json={"name_en": "x"}, headers=h), 422, "VALIDATION_ERROR"
    )


async def test_category_create_then_get(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    before = await count(ctx, Category)
    body = {"name_ar": "فئة", "name_en": f"Cat {uuid.uuid4().hex[:6]}", "sort": 99}
    r = await client.post("/api/categories", json=body, headers=await auth.headers(INV))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name_en"] == body["name_en"] and created["is_active"] is True
    assert await count(ctx, Category) == before + 1
    got = await client.get(f"/api/categories/{created['id']}", headers=await auth.headers(SP1))
    assert got.json()["name_en"] == body["name_en"]
    assert_error(
        await client.post("/api/categories", json=body, headers=await auth.headers(SP1)), 403, "FORBIDDEN"
    )


async def test_accountant_changes_only_credit_fields(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    recorder = Recorder(ctx)
    cid = await scalar(ctx, select(Customer.id).where(Customer.type != "consumer").limit(1))
    h = await auth.headers(ACC)
    r = await client.patch(f"/api/customers/{cid}", json={"credit_limit": "2500000.00"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["credit_limit"] == "2500000.00"
    assert await scalar(ctx, select(Customer.credit_limit).where(Customer.id == cid)) == Decimal("2500000.00")
    assert {"CustomerChanged", "CreditChanged"} <= recorder.names()
    body = assert_error(
        await client.patch(f"/api/customers/{cid}", json={"name": "Other", "on_hold": False}, headers=h),
        403,
        "FIELD_NOT_ALLOWED",
    )
    assert body["details"] == [{"field": "name", "issue": "not allowed for your role"}]
    assert_error(
        await client.patch(f"/api/customers/{cid}", json={"on_hold": True}, headers=await auth.headers(SP1)),
        403,
        "FORBIDDEN",
    )


async def test_branch_manager_writes_stay_in_branch(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    sp1 = await user(ctx, SP1)
    other = await branch_manager(ctx, sp1.branch_id, same=False)
    cid = await scalar(ctx, select(Customer.id).where(Customer.branch_id == sp1.branch_id).limit(1))
    r = await client.patch(f"/api/customers/{cid}", json={"notes": "x"}, headers=await auth.headers(other))
    assert_error(r, 404, "NOT_FOUND")
    same = await branch_manager(ctx, sp1.branch_id, same=True)
    r = await client.patch(
        f"/api/customers/{cid}", json={"notes": "checked"}, headers=await auth.headers(same)
    )
    assert r.status_code == 200, r.text
    manager = await user(ctx, other)
    moved = await client.patch(
        f"/api/customers/{cid}", json={"branch_id": manager.branch_id}, headers=await auth.headers(same)
    )
    assert_error(moved, 404, "NOT_FOUND")  # would leave the caller's branch: refused, nothing changed
    assert await scalar(ctx, select(Customer.branch_id).where(Customer.id == cid)) == sp1.branch_id


async def test_idempotent_write_replays(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    pid = await scalar(ctx, select(Product.id).limit(1))
    h = await auth.headers(INV, **{"Idempotency-Key": uuid.uuid4().hex})
    first = await client.patch(f"/api/products/{pid}", json={"brand": "Replay"}, headers=h)
    again = await client.patch(f"/api/products/{pid}", json={"brand": "Replay"}, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    other = await client.patch(f"/api/products/{pid}", json={"brand": "Other"}, headers=h)
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")


async def test_price_list_items_bulk_replace(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    plid = await scalar(ctx, select(PriceList.id).order_by(PriceList.id.desc()).limit(1))
    h = await auth.headers(ACC)
    original = (await client.get(f"/api/price-lists/{plid}", headers=h)).json()["items"]
    keep = ("product_id", "min_qty", "unit_price", "valid_from", "valid_to")
    pid = await scalar(ctx, select(Product.id).limit(1))
    r = await client.put(
        f"/api/price-lists/{plid}/items",
        json={"items": [{"product_id": pid, "unit_price": "1000.00"}]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert [(i["product_id"], i["unit_price"]) for i in r.json()["items"]] == [(pid, "1000.00")]
    assert await count(ctx, PriceListItem, PriceListItem.price_list_id == plid) == 1
    assert_error(
        await client.put(
            f"/api/price-lists/{plid}/items", json={"items": []}, headers=await auth.headers(SP1)
        ),
        403,
        "FORBIDDEN",
    )
    bad = await client.put(
        f"/api/price-lists/{plid}/items",
        json={"items": [{"product_id": 999999999, "unit_price": "1"}]},
        headers=h,
    )
    assert_error(bad, 422, "VALIDATION_ERROR")
    restored = await client.put(
        f"/api/price-lists/{plid}/items",
        json={"items": [{k: i[k] for k in keep} for i in original]},
        headers=h,
    )
    assert restored.status_code == 200, restored.text
    assert len(restored.json()["items"]) == len(original)


async def test_delivery_zone_create_and_delete(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    sp1 = await user(ctx, SP1)
    h = await auth.headers(ADMIN)
    body = {"branch_id": sp1.branch_id, "name_ar": "منطقة", "name_en": "Test zone", "cities": ["Testville"]}
    r = await client.post("/api/delivery-zones", json=body, headers=h)
    assert r.status_code == 201, r.text
    zid = r.json()["id"]
    assert r.json()["payment_methods"]  # column default applied
    assert (await client.delete(f"/api/delivery-zones/{zid}", headers=h)).status_code == 200
    assert_error(await client.get(f"/api/delivery-zones/{zid}", headers=h), 404, "NOT_FOUND")
    assert_error(
        await client.post("/api/delivery-zones", json=body, headers=await auth.headers(SP1)), 403, "FORBIDDEN"
    )
