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
