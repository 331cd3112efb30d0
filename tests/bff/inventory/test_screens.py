"""Every screen as every staff role: shapes (checked against the declarations), figures against
the database, scope (other branches' warehouses left out or 404)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.inventory.conftest import ACCOUNTANT, ADMIN, BM1, IM, WS1, WS2, Inv
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Warehouse

SCREENS = ["/dashboard", "/stock-levels", "/movements", "/transfers", "/adjustments", "/counts"]


async def test_every_list_screen_answers_each_staff_role(inv: Inv) -> None:
    for email in (IM, WS1, BM1, ADMIN):
        for path in SCREENS:
            await inv.data(email, path)
    for email in (IM, BM1, ACCOUNTANT):
        if email != ACCOUNTANT:
            await inv.data(email, "/reorder-suggestions")
        await inv.data(email, "/valuation")
        await inv.data(email, "/reports/aging")


async def test_dashboard_value_matches_the_stock_rows(inv: Inv) -> None:
    bgd_main = await inv.warehouse("BGD-MAIN")
    data = await inv.data(BM1, "/dashboard")
    async with inv.api.db() as s:
        own = list(
            await s.scalars(
                select(Warehouse.id).where(
                    Warehouse.branch_id
                    == select(Warehouse.branch_id).where(Warehouse.id == bgd_main).scalar_subquery()
                )
            )
        )
        value = await s.scalar(
            select(func.sum(StockLevel.on_hand * StockLevel.avg_cost)).where(StockLevel.warehouse_id.in_(own))
        )
    assert sorted(w["warehouse"]["id"] for w in data["by_warehouse"]) == sorted(own)
    assert abs(Decimal(data["total_value"]["amount"]) - Decimal(value or 0)) <= len(own)
    assert len(data["recent_movements"]) == 10
    # The company-wide view covers more warehouses.
    everything = await inv.data(IM, "/dashboard")
    assert len(everything["by_warehouse"]) > len(own)
    # A warehouse of another branch is a 404 for a branch user.
    basra = await inv.warehouse("BSR-MAIN")
    r = await inv.get(WS1, "/dashboard", warehouse_id=basra)
    assert r.status_code == 404 and r.json()["error_code"] == "WAREHOUSE_NOT_FOUND"
    assert (await inv.get(WS2, "/dashboard", warehouse_id=basra)).status_code == 200


async def test_dashboard_and_valuation_are_cached_until_stock_changes(inv: Inv) -> None:
    wid = await inv.warehouse("BGD-MAIN")
    (a,) = await inv.stocked(wid, 1, min_available=2)
    first = await inv.get(BM1, "/dashboard", warehouse_id=wid)
    valued = await inv.get(BM1, "/valuation", warehouse_id=wid)
    assert (await inv.get(BM1, "/dashboard", warehouse_id=wid)).json()["metadata"]["cached"] is True
    assert (await inv.get(BM1, "/valuation", warehouse_id=wid)).json()["metadata"]["cached"] is True
    body = {
        "warehouse_id": wid,
        "reason": "damage",
        "lines": [{"product_id": a.product_id, "qty_delta": -1}],
        "note": "screen cracked in storage",
    }
    r = await inv.send(IM, "POST", "/adjustments", body)
    assert r.status_code == 201, r.text
    dash = await inv.get(BM1, "/dashboard", warehouse_id=wid)
    assert dash.json()["metadata"]["cached"] is False
    data = dash.json()["data"]
    assert data["recent_movements"][0]["source"] == {"type": "adjustment", "id": r.json()["data"]["id"]}
    assert (
        data["adjustments_this_week"]["count"] == first.json()["data"]["adjustments_this_week"]["count"] + 1
    )
    lost = Decimal(first.json()["data"]["total_value"]["amount"]) - Decimal(data["total_value"]["amount"])
    assert abs(lost - a.avg_cost) <= 1
    after = await inv.get(BM1, "/valuation", warehouse_id=wid)
    assert after.json()["metadata"]["cached"] is False
    assert after.json()["data"]["total"]["qty"] == valued.json()["data"]["total"]["qty"] - 1


async def test_count_sheet_search(inv: Inv) -> None:
    wid = await inv.warehouse("ERB-MAIN")
    a, b = await inv.stocked(wid, 2)
    r = await inv.send(
        IM,
        "POST",
        "/counts",
        {"warehouse_id": wid, "scope": "products", "product_ids": [a.product_id, b.product_id]},
    )
    assert r.status_code == 201, r.text
    count = r.json()["data"]
    full = await inv.data(IM, f"/counts/{count['id']}")
    sku = next(ln["product"]["sku"] for ln in full["lines"]["items"] if ln["product"]["id"] == a.product_id)
    found = await inv.data(IM, f"/counts/{count['id']}", q=sku)
    assert [ln["product"]["id"] for ln in found["lines"]["items"]] == [a.product_id]
    one = await inv.data(IM, f"/counts/{count['id']}", limit=1)
    rest = await inv.data(IM, f"/counts/{count['id']}", limit=1, cursor=one["lines"]["next_cursor"])
    assert {one["lines"]["items"][0]["id"], rest["lines"]["items"][0]["id"]} == {
        ln["id"] for ln in full["lines"]["items"]
    }
    assert (
        await inv.send(IM, "POST", f"/counts/{count['id']}/completion", {"apply": False})
    ).status_code == 200
