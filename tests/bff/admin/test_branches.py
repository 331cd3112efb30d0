"""ADM-14..20: branches with their main warehouse, limits and zones; warehouses and their rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.admin.conftest import ADMIN, CASHIER, Admin
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Branch, DeliveryZone, Warehouse

GEO = {"lat": 33.3, "lng": 44.4, "accuracy_m": 5}


def _code() -> str:
    return "T" + uuid.uuid4().hex[:5].upper()


async def _new_branch(adm: Admin, **extra: object) -> dict:
    body = {
        "code": _code(),
        "name_ar": "فرع",
        "name_en": "Test branch",
        "city": "Najaf",
        "address": "Street 1",
        "geo": GEO,
        **extra,
    }
    r = await adm.send(ADMIN, "POST", "/branches", body)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


async def test_branch_list_and_detail_match_the_database(adm: Admin) -> None:
    items = (await adm.data(ADMIN, "/branches", limit=100))["items"]
    async with adm.db() as s:
        codes = sorted(await s.scalars(select(Branch.code)))
        bgd = await s.scalar(select(Branch).where(Branch.code == "BGD"))
        assert bgd is not None
        warehouses = await s.scalar(
            select(func.count()).select_from(Warehouse).where(Warehouse.branch_id == bgd.id)
        )
    assert [b["code"] for b in items] == codes
    row = next(b for b in items if b["code"] == "BGD")
    assert row["warehouses"] == warehouses and row["terminals"] >= 1
    detail = await adm.data(ADMIN, f"/branches/{bgd.id}")
    assert [w["type"] for w in detail["warehouses"]].count("main") == 1
    assert Decimal(detail["stock_value"]["amount"]) > 0
    assert (await adm.get(ADMIN, "/branches/999999")).json()["error_code"] == "BRANCH_NOT_FOUND"
    assert (await adm.get(CASHIER, "/branches")).status_code == 403


async def test_create_branch_with_its_main_warehouse(adm: Admin) -> None:
    listed = await adm.get(ADMIN, "/branches", limit=100)
    assert (await adm.get(ADMIN, "/branches", limit=100)).json()["metadata"]["cached"] is True
    created = await _new_branch(adm)
    assert [w["type"] for w in created["warehouses"]] == ["main"]
    assert created["geofence_radius_m"] == 150
    after = await adm.get(ADMIN, "/branches", limit=100)
    assert after.json()["metadata"]["cached"] is False
    assert len(after.json()["data"]["items"]) == len(listed.json()["data"]["items"]) + 1
    before = await adm.count(Branch)
    r = await adm.send(
        ADMIN,
        "POST",
        "/branches",
        {"code": created["code"], "name_ar": "x", "name_en": "x", "city": "x", "address": "x", "geo": GEO},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "BRANCH_CODE_TAKEN"
    cashier_id = await adm.user_id(CASHIER)
    r = await adm.send(
        ADMIN,
        "POST",
        "/branches",
        {
            "code": _code(),
            "name_ar": "x",
            "name_en": "x",
            "city": "x",
            "address": "x",
            "geo": GEO,
            "manager_user_id": cashier_id,
        },
    )
    assert r.status_code == 422 and r.json()["error_code"] == "MANAGER_NOT_ELIGIBLE"
    r = await adm.send(ADMIN, "POST", "/branches", {"code": _code(), "name_ar": "x"})
    assert r.status_code == 422
    assert await adm.count(Branch) == before


async def test_update_limits_zones_and_status(adm: Admin) -> None:
    branch = await _new_branch(adm)
    bid = branch["id"]
    zones = [
        {"name": "Centre", "cities": ["Najaf"], "fee": {"amount": "5000", "currency": "IQD"}},
        {
            "name": "Kufa",
            "cities": ["Kufa"],
            "fee": {"amount": "7000", "currency": "IQD"},
            "payment_methods": ["cash_on_delivery"],
        },
    ]
    body = {
        "limits": {"refund_limit": {"amount": "250000", "currency": "IQD"}, "cashier_discount_pct": "7.5"},
        "delivery_zones": zones,
    }
    r = await adm.send(ADMIN, "PATCH", f"/branches/{bid}", body)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["limits"]["refund_limit"] == {"amount": "250000.00", "currency": "IQD"}
    assert data["limits"]["cashier_discount_pct"] == "7.50"
    kept = {z["name"]: z["id"] for z in data["delivery_zones"]}
    r = await adm.send(ADMIN, "PATCH", f"/branches/{bid}", {"delivery_zones": [zones[0]]})
    assert r.status_code == 200
    async with adm.db() as s:
        rows = {
            z.name_en: z for z in await s.scalars(select(DeliveryZone).where(DeliveryZone.branch_id == bid))
        }
    assert rows["Centre"].id == kept["Centre"] and rows["Centre"].status == "active"
    assert rows["Kufa"].status == "inactive"
    r = await adm.send(
        ADMIN, "PATCH", f"/branches/{bid}", {"limits": {"refund_limit": {"amount": "-1", "currency": "IQD"}}}
    )
    assert r.status_code == 422
    r = await adm.send(
        ADMIN, "PATCH", f"/branches/{bid}", {"limits": {"refund_limit": {"amount": "5", "currency": "USD"}}}
    )
    assert r.status_code == 422
    r = await adm.send(ADMIN, "PATCH", f"/branches/{bid}", {"status": "inactive"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "inactive"


async def test_branch_with_stock_is_not_deactivated(adm: Admin) -> None:
    async with adm.db() as s:
        bgd = await s.scalar(select(Branch.id).where(Branch.code == "BGD"))
    r = await adm.send(ADMIN, "PATCH", f"/branches/{bgd}", {"status": "inactive"})
    assert r.status_code == 409 and r.json()["error_code"] in ("BRANCH_HAS_STOCK", "BRANCH_HAS_OPEN_SHIFTS")
    async with adm.db() as s:
        assert (await s.get(Branch, bgd)).status == "active"  # type: ignore[union-attr]


async def test_warehouses(adm: Admin) -> None:
    branch = await _new_branch(adm)
    code = _code()
    r = await adm.send(
        ADMIN,
        "POST",
        "/warehouses",
        {"branch_id": branch["id"], "code": code, "name": "Shop", "type": "shop"},
    )
    assert r.status_code == 201, r.text
    wid = r.json()["data"]["id"]
    r = await adm.send(
        ADMIN,
        "POST",
        "/warehouses",
        {"branch_id": branch["id"], "code": code, "name": "Shop", "type": "shop"},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "WAREHOUSE_CODE_TAKEN"
    r = await adm.send(
        ADMIN, "POST", "/warehouses", {"branch_id": 999999, "code": _code(), "name": "S", "type": "shop"}
    )
    assert r.status_code == 404 and r.json()["error_code"] == "BRANCH_NOT_FOUND"
    r = await adm.send(
        ADMIN,
        "POST",
        "/warehouses",
        {"branch_id": branch["id"], "code": _code(), "name": "S", "type": "main"},
    )
    assert r.status_code == 422
    listed = (await adm.data(ADMIN, "/warehouses", branch_id=branch["id"]))["items"]
    assert sorted(w["type"] for w in listed) == ["main", "shop"]
    main = next(w for w in listed if w["type"] == "main")
    r = await adm.send(ADMIN, "PATCH", f"/warehouses/{main['id']}", {"status": "inactive"})
    assert r.status_code == 409 and r.json()["error_code"] == "MAIN_WAREHOUSE"
    r = await adm.send(ADMIN, "PATCH", f"/warehouses/{wid}", {"name": "Front shop", "status": "inactive"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "inactive"
    async with adm.db() as s:
        stocked = await s.scalar(
            select(Warehouse.id)
            .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
            .where(Warehouse.type != "main", Warehouse.status == "active", StockLevel.on_hand > 0)
            .limit(1)
        )
    if stocked is not None:
        r = await adm.send(ADMIN, "PATCH", f"/warehouses/{stocked}", {"status": "inactive"})
        assert r.status_code == 409 and r.json()["error_code"] == "WAREHOUSE_NOT_EMPTY"
    assert (await adm.get(ADMIN, "/warehouses", type="shop", limit=100)).status_code == 200
