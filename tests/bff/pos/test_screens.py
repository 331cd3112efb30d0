"""POS-01 dashboard, POS-02 products, POS-16 sales report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.pos.conftest import ACCOUNTANT, BM1, BM2, CASHIER1, CASHIER2, Pos, amount
from tsh.domain.pos.models import PosTransaction, Shift
from tsh.domain.shared import business_today, day_start_utc


async def _today_totals(
    pos: Pos, *, cashier_id: int | None = None, branch_id: int | None = None
) -> tuple[int, Decimal]:
    start = day_start_utc(business_today())
    stmt = (
        select(func.count(), func.coalesce(func.sum(PosTransaction.total), 0))
        .select_from(PosTransaction)
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .where(PosTransaction.status == "completed", PosTransaction.completed_at >= start)
    )
    if cashier_id is not None:
        stmt = stmt.where(Shift.cashier_id == cashier_id)
    if branch_id is not None:
        stmt = stmt.where(PosTransaction.branch_id == branch_id)
    async with pos.db() as s:
        count, total = (await s.execute(stmt)).one()
    return int(count), Decimal(total).quantize(Decimal("0.01"))


async def test_dashboard_matches_the_database_and_refreshes_after_a_sale(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1) as shift:
        first = (await pos.get(CASHIER1, "/dashboard")).json()
        assert (await pos.get(CASHIER1, "/dashboard")).json()["metadata"]["cached"] is True
        assert first["data"]["shift"]["id"] == shift["id"]
        uid = await pos.user_id(CASHIER1)
        count, total = await _today_totals(pos, cashier_id=uid)
        assert first["data"]["today"]["sales_count"] == count
        assert amount(first["data"]["today"]["sales_total"]) == total
        bm_before = (await pos.get(BM1, "/dashboard")).json()
        sale = await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        after = (await pos.get(CASHIER1, "/dashboard")).json()
        assert after["metadata"]["cached"] is False
        assert after["data"]["today"]["sales_count"] == count + 1
        assert after["data"]["last_sales"][0]["id"] == sale["id"]
        bm = (await pos.get(BM1, "/dashboard")).json()
        assert bm["metadata"]["cached"] is False
        branch_count, branch_total = await _today_totals(pos, branch_id=shift["branch_id"])
        assert bm["data"]["today"]["sales_count"] == branch_count
        assert bm["data"]["today"]["sales_count"] >= bm_before["data"]["today"]["sales_count"] + 1
        assert amount(bm["data"]["today"]["sales_total"]) == branch_total
        # Basra's manager's screen is untouched by a Baghdad sale and never shows it.
        basra = await pos.data(BM2, "/dashboard")
        assert sale["id"] not in [s["id"] for s in basra["last_sales"]]


async def test_products_catalogue_and_barcode(pos: Pos) -> None:
    product = await pos.product()
    terminal = await pos.terminal("BGD-POS-1")
    page = await pos.data(CASHIER1, "/products", terminal_id=terminal.id, limit=100)
    assert page["categories"] and page["terminal"]["id"] == terminal.id
    if product["barcode"]:
        found = await pos.data(CASHIER1, "/products", terminal_id=terminal.id, barcode=product["barcode"])
        item = next(i for i in found["items"] if i["id"] == product["id"])
        assert item["available"] == await pos.available(product["id"], terminal.warehouse_id)
        assert item["price"]["currency"] == "IQD"
    r = await pos.get(CASHIER1, "/products", terminal_id=terminal.id, barcode="0000000000000")
    assert r.status_code == 404 and r.json()["error_code"] == "PRODUCT_NOT_FOUND"
    basra = await pos.terminal("BSR-POS-1")
    assert (await pos.get(CASHIER1, "/products", terminal_id=basra.id)).status_code == 404
    assert (await pos.get(CASHIER1, "/products")).status_code == 422
    # Cached, and a sale of the product (StockChanged) refreshes its availability.
    params = {
        "terminal_id": terminal.id,
        "q": str(product["id"]) if not product["barcode"] else product["barcode"],
    }
    await pos.get(CASHIER1, "/products", **params)
    assert (await pos.get(CASHIER1, "/products", **params)).json()["metadata"]["cached"] is True
    async with pos.shift(CASHIER1):
        await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 1}])
    assert (await pos.get(CASHIER1, "/products", **params)).json()["metadata"]["cached"] is False


async def test_sales_report(pos: Pos) -> None:
    today = business_today()
    frm = (today - timedelta(days=30)).isoformat()
    params = {"from": frm, "to": today.isoformat()}
    for group in ("day", "hour", "cashier", "category", "terminal"):
        data = await pos.data(BM1, "/reports/sales", **params, group_by=group)
        assert data["group_by"] == group
        if group != "category":  # a sale spans several categories
            assert sum(g["sales_count"] for g in data["groups"]) == data["sales_count"]
            assert sum(amount(g["revenue"]) for g in data["groups"]) == amount(data["revenue"])
    data = await pos.data(BM1, "/reports/sales", **params)
    start, end = day_start_utc(today - timedelta(days=30)), day_start_utc(today + timedelta(days=1))
    async with pos.db() as s:
        bm_branch = (
            await s.execute(select(Shift.branch_id).where(Shift.cashier_id == await pos.user_id(BM1)))
        ).first()
        count, total = (
            await s.execute(
                select(func.count(), func.coalesce(func.sum(PosTransaction.total), 0)).where(
                    PosTransaction.status == "completed",
                    PosTransaction.completed_at >= start,
                    PosTransaction.completed_at < end,
                    PosTransaction.branch_id == data["branch_id"],
                )
            )
        ).one()
    assert data["sales_count"] == count and amount(data["revenue"]) == Decimal(total).quantize(
        Decimal("0.01")
    )
    assert bm_branch is None or bm_branch[0] == data["branch_id"]
    assert (await pos.get(ACCOUNTANT, "/reports/sales", **params)).json()["data"]["branch_id"] is None
    r = await pos.get(BM1, "/reports/sales", **{"from": "2020-01-01", "to": "2021-01-02"})
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    assert (
        await pos.get(BM1, "/reports/sales", **{"from": "2024-01-02", "to": "2024-01-01"})
    ).status_code == 422
    assert (await pos.get(BM1, "/reports/sales", to=today.isoformat())).status_code == 422
    other_branch = (await pos.get(BM2, "/reports/sales", **params)).json()["data"]["branch_id"]
    assert (await pos.get(BM1, "/reports/sales", **params, branch_id=other_branch)).status_code == 404
    for role in (CASHIER1, CASHIER2):
        assert (await pos.get(role, "/reports/sales", **params)).status_code == 403
    # Cached, and refreshed after a sale.
    assert (await pos.get(BM1, "/reports/sales", **params)).json()["metadata"]["cached"] is True
    product = await pos.product()
    async with pos.shift(CASHIER1):
        await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 1}])
    fresh = (await pos.get(BM1, "/reports/sales", **params)).json()
    assert fresh["metadata"]["cached"] is False and fresh["data"]["sales_count"] == data["sales_count"] + 1
