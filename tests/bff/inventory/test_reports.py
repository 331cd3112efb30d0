"""INV-02..INV-05, INV-19, INV-20 figures against the database: stock levels and card, the
movement ledger, reorder suggestions, valuation today and as of a past date, aging."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.inventory.conftest import ACCOUNTANT, BM1, IM, WS1, Inv
from tsh.domain.inventory.models import StockLevel, StockMovement
from tsh.domain.organisation.models import Warehouse
from tsh.domain.shared import business_today, day_start_utc


async def _branch_warehouses(inv: Inv, code: str) -> list[int]:
    wid = await inv.warehouse(code)
    async with inv.api.db() as s:
        branch = await s.scalar(select(Warehouse.branch_id).where(Warehouse.id == wid))
        return list(await s.scalars(select(Warehouse.id).where(Warehouse.branch_id == branch)))


async def test_stock_levels_filters_and_scope(inv: Inv) -> None:
    own = await _branch_warehouses(inv, "BGD-MAIN")
    page = await inv.data(WS1, "/stock-levels", limit=100)
    assert len(page["items"]) == 100 and page["next_cursor"]
    assert {row["warehouse"]["id"] for row in page["items"]} <= set(own)
    for row in page["items"][:20]:
        level = await inv.level(row["product"]["id"], row["warehouse"]["id"])
        assert level is not None
        assert (row["on_hand"], row["reserved"], row["available"]) == (
            level.on_hand,
            level.reserved,
            level.on_hand - level.reserved,
        )
        expected = (
            "out" if row["available"] <= 0 else "low" if row["available"] <= level.reorder_point else "ok"
        )
        assert row["status"] == expected
    low = await inv.data(IM, "/stock-levels", status="low", limit=50)
    assert low["items"] and all(0 < r["available"] <= r["reorder_point"] for r in low["items"])
    sku = page["items"][0]["product"]["sku"]
    found = await inv.data(WS1, "/stock-levels", q=sku.lower())
    assert {r["product"]["sku"] for r in found["items"]} == {sku}
    barcode = page["items"][0]["product"]["barcode"]
    assert sku in {r["product"]["sku"] for r in (await inv.data(WS1, "/stock-levels", q=barcode))["items"]}
    nxt = await inv.data(WS1, "/stock-levels", limit=100, cursor=page["next_cursor"])
    assert not {r["id"] for r in nxt["items"]} & {r["id"] for r in page["items"]}
    basra = await inv.warehouse("BSR-MAIN")
    r = await inv.get(WS1, "/stock-levels", warehouse_id=basra)
    assert r.status_code == 404 and r.json()["error_code"] == "WAREHOUSE_NOT_FOUND"


async def test_stock_card_leaves_out_other_branches(inv: Inv) -> None:
    wid = await inv.warehouse("BGD-MAIN")
    (a,) = await inv.stocked(wid, 1)
    own = await _branch_warehouses(inv, "BGD-MAIN")
    card = await inv.data(WS1, f"/stock-levels/{a.product_id}")
    everywhere = await inv.data(IM, f"/stock-levels/{a.product_id}")
    assert {w["warehouse"]["id"] for w in card["warehouses"]} <= set(own)
    assert len(everywhere["warehouses"]) > len(card["warehouses"])
    assert card["totals"]["on_hand"] == sum(w["on_hand"] for w in card["warehouses"])
    assert len(card["movements"]) <= 20
    assert all(m["warehouse"]["id"] in own for m in card["movements"])
    since = day_start_utc(business_today() - dt.timedelta(days=90))
    async with inv.api.db() as s:
        sold = await s.scalar(
            select(func.coalesce(func.sum(-StockMovement.qty), 0)).where(
                StockMovement.product_id == a.product_id,
                StockMovement.warehouse_id.in_(own),
                StockMovement.type.in_(("sale", "pos_sale")),
                StockMovement.at >= since,
            )
        )
    assert card["velocity"]["units_sold"] == sold
    r = await inv.get(WS1, "/stock-levels/999999")
    assert r.status_code == 404 and r.json()["error_code"] == "PRODUCT_NOT_FOUND"
    # Cached, then invalidated by a stock change.
    assert (await inv.get(WS1, f"/stock-levels/{a.product_id}")).json()["metadata"]["cached"] is True
    t = await inv.transfer(WS1, wid, await inv.warehouse("BGD-SHOP"), [(a.product_id, 1)])
    assert (await inv.send(WS1, "POST", f"/transfers/{t['id']}/dispatch", {})).status_code == 200
    fresh = await inv.get(WS1, f"/stock-levels/{a.product_id}")
    assert fresh.json()["metadata"]["cached"] is False
    assert fresh.json()["data"]["totals"]["on_hand"] == card["totals"]["on_hand"] - 1
    assert t["id"] in [x["transfer_id"] for x in fresh.json()["data"]["in_transit"]]


async def test_movement_ledger_filters(inv: Inv) -> None:
    wid = await inv.warehouse("BGD-MAIN")
    page = await inv.data(WS1, "/movements", warehouse_id=wid, type="sale", limit=30)
    assert page["items"] and all(m["type"] == "sale" and m["qty"] < 0 for m in page["items"])
    times = [m["at"] for m in page["items"]]
    assert times == sorted(times, reverse=True)
    async with inv.api.db() as s:
        for m in page["items"][:5]:
            row = await s.get(StockMovement, m["id"])
            assert row is not None and row.on_hand_after == m["on_hand_after"]
    day = business_today() - dt.timedelta(days=10)
    ranged = await inv.data(
        IM, "/movements", **{"from": day.isoformat(), "to": day.isoformat(), "limit": 100}
    )
    start, end = day_start_utc(day), day_start_utc(day + dt.timedelta(days=1))
    assert ranged["items"]
    assert all(start <= dt.datetime.fromisoformat(m["at"]) < end for m in ranged["items"])


async def test_reorder_suggestions_follow_the_rule(inv: Inv) -> None:
    data = await inv.data(BM1, "/reorder-suggestions", limit=50)
    own = await _branch_warehouses(inv, "BGD-MAIN")
    assert data["items"]
    for row in data["items"]:
        assert row["warehouse"]["id"] in own
        daily = Decimal(row["avg_daily_sales"])
        at_point = row["available"] <= row["reorder_point"]
        assert at_point or row["on_hand"] < daily * (row["lead_time_days"] + 7)
        assert row["suggested_qty"] > 0
        need = daily * (row["lead_time_days"] + 14) - (
            row["on_hand"] + row["in_transit_in"] - row["reserved"]
        )
        if at_point:
            need = max(need, Decimal(row["reorder_qty"]))
        assert row["suggested_qty"] >= math.ceil(need) - 1
    # Surplus may come from other branches (quantity only).
    surplus = [s for row in data["items"] for s in row["surplus"]]
    assert surplus and any(s["warehouse"]["id"] not in own for s in surplus)
    assert (await inv.get(WS1, "/reorder-suggestions")).status_code == 403


async def test_valuation_today_and_as_of_a_past_date(inv: Inv) -> None:
    today = await inv.data(ACCOUNTANT, "/valuation")
    async with inv.api.db() as s:
        value = await s.scalar(select(func.sum(StockLevel.on_hand * StockLevel.avg_cost)))
        qty = await s.scalar(select(func.sum(StockLevel.on_hand)))
    assert today["total"]["qty"] == qty
    assert abs(Decimal(today["total"]["value"]["amount"]) - Decimal(value or 0)) < 1
    rate = Decimal(today["rate"]["iqd_per_usd"])
    assert abs(Decimal(today["total"]["value_usd"]["amount"]) * rate - Decimal(value or 0)) < rate
    assert sum(g["qty"] for g in today["groups"]) == qty
    assert len(today["top_products"]) == 20

    # A month ago: on hand rebuilt independently = today's on hand − the movements since.
    day = business_today() - dt.timedelta(days=30)
    past = await inv.data(IM, "/valuation", as_of=day.isoformat(), group_by="category")
    async with inv.api.db() as s:
        moved = await s.scalar(
            select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                StockMovement.at >= day_start_utc(day + dt.timedelta(days=1)),
                StockMovement.type != "transfer_loss",
            )
        )
        qty_now = await s.scalar(select(func.sum(StockLevel.on_hand)))
    assert past["total"]["qty"] == int(qty_now or 0) - int(moved or 0)
    assert past["as_of"] == day.isoformat() and past["group_by"] == "category"
    # Branch managers see their branch only.
    mine = await inv.data(BM1, "/valuation")
    assert Decimal(mine["total"]["value"]["amount"]) < Decimal(today["total"]["value"]["amount"])
    future = business_today() + dt.timedelta(days=1)
    r = await inv.get(IM, "/valuation", as_of=future.isoformat())
    assert r.status_code == 422


async def test_aging_buckets_cover_the_stock(inv: Inv) -> None:
    data = await inv.data(IM, "/reports/aging", limit=50)
    async with inv.api.db() as s:
        qty = await s.scalar(select(func.sum(StockLevel.on_hand)))
    assert sum(b["qty"] for b in data["buckets"]) == qty
    assert [b["bucket"] for b in data["buckets"]] == ["0-30", "31-90", "91-180", "over_180"]
    for row in data["items"]:
        if row["movement_class"] == "dead":
            assert row["days_since_sale"] is None or row["days_since_sale"] > 180
        else:
            assert 90 < row["days_since_sale"] <= 180
    if data["next_cursor"]:
        more = await inv.data(IM, "/reports/aging", limit=50, cursor=data["next_cursor"])
        assert not {r["id"] for r in more["items"]} & {r["id"] for r in data["items"]}
    assert (await inv.get(ACCOUNTANT, "/reports/aging")).status_code == 200
    # The dates kept on the stock rows are the ledger's.
    async with inv.api.db() as s:
        for row in data["items"][:10]:
            level = await s.get(StockLevel, row["id"])
            assert level is not None
            last_sale = await s.scalar(
                select(func.max(StockMovement.at)).where(
                    StockMovement.product_id == level.product_id,
                    StockMovement.warehouse_id == level.warehouse_id,
                    StockMovement.type.in_(("sale", "pos_sale")),
                )
            )
            last_in = await s.scalar(
                select(func.max(StockMovement.at)).where(
                    StockMovement.product_id == level.product_id,
                    StockMovement.warehouse_id == level.warehouse_id,
                    StockMovement.type.in_(("receipt", "transfer_in")),
                )
            )
            assert (level.last_sale_at, level.last_receipt_at) == (last_sale, last_in)


async def test_a_receipt_moves_stock_to_the_newest_bucket(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("ERB-MAIN")
    (a,) = await inv.stocked(src, 1)
    before = await inv.data(IM, "/reports/aging", warehouse_id=dst)
    assert (await inv.get(IM, "/reports/aging", warehouse_id=dst)).json()["metadata"]["cached"] is True
    t = await inv.transfer(IM, src, dst, [(a.product_id, 1)])
    assert (await inv.send(IM, "POST", f"/transfers/{t['id']}/dispatch", {})).status_code == 200
    body = {"lines": [{"product_id": a.product_id, "qty_received": 1}]}
    assert (await inv.send(IM, "POST", f"/transfers/{t['id']}/receipt", body)).status_code == 200
    level = await inv.level(a.product_id, dst)
    assert level is not None and level.last_receipt_at is not None
    after = await inv.get(IM, "/reports/aging", warehouse_id=dst)
    assert after.json()["metadata"]["cached"] is False
    newest = after.json()["data"]["buckets"][0]
    assert newest["bucket"] == "0-30" and newest["qty"] >= before["buckets"][0]["qty"] + 1
