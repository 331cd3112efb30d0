"""Helpers of the Inventory-app tests: demo users, warehouse and product picks, database reads.

Tests create the transfers, adjustments and counts they need and compare what the database holds
before and after, so they do not depend on each other's order or on the shared demo data staying
as seeded.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.http import Api, demo
from tsh.domain.accounting import posting
from tsh.domain.accounting.models import JournalEntry
from tsh.domain.inventory.models import Adjustment, Count, StockLevel, StockMovement, Transfer
from tsh.domain.inventory.stock import stock_invariant_violations
from tsh.domain.organisation.models import Warehouse

IM = demo("inventory_manager")
WS1, WS2 = demo("warehouse_staff", 1), demo("warehouse_staff", 2)  # Baghdad, Basra
BM1, BM2 = demo("branch_manager", 1), demo("branch_manager", 2)  # Baghdad, Basra
ACCOUNTANT, ADMIN = demo("accountant"), demo("admin")
CASHIER, SALESPERSON, CONSUMER = demo("cashier"), demo("salesperson"), demo("consumer")


@pytest.fixture
def inv(api: Api) -> Inv:
    return Inv(api)


class Inv:
    def __init__(self, api: Api) -> None:
        self.api, self.app = api, api.app("inventory")

    async def get(self, email: str, path: str, **params: Any) -> Any:
        return await self.app.get(email, path, **params)

    async def data(self, email: str, path: str, **params: Any) -> Any:
        return await self.app.data(email, path, **params)

    async def send(self, email: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.app.send(email, method, path, body, **kw)

    async def warehouse(self, code: str) -> int:
        async with self.api.db() as s:
            return int((await s.execute(select(Warehouse.id).where(Warehouse.code == code))).scalar_one())

    async def level(self, product_id: int, warehouse_id: int) -> StockLevel | None:
        async with self.api.db() as s:
            return (
                await s.execute(
                    select(StockLevel).where(
                        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id
                    )
                )
            ).scalar_one_or_none()

    async def stocked(self, warehouse_id: int, n: int = 1, min_available: int = 5) -> list[StockLevel]:
        """`n` stock rows of the warehouse with at least `min_available` available, most stocked first."""
        async with self.api.db() as s:
            return list(
                await s.scalars(
                    select(StockLevel)
                    .where(
                        StockLevel.warehouse_id == warehouse_id,
                        StockLevel.on_hand - StockLevel.reserved >= min_available,
                        StockLevel.avg_cost > 0,
                    )
                    .order_by((StockLevel.on_hand - StockLevel.reserved).desc(), StockLevel.product_id)
                    .limit(n)
                )
            )

    async def snapshot(self) -> dict[str, Any]:
        """Counts and sums a rejected command must leave unchanged."""
        async with self.api.db() as s:

            async def one(stmt: Any) -> Any:
                return (await s.execute(stmt)).scalar_one()

            return {
                "movements": await one(select(func.count()).select_from(StockMovement)),
                "on_hand": await one(select(func.coalesce(func.sum(StockLevel.on_hand), 0))),
                "reserved": await one(select(func.coalesce(func.sum(StockLevel.reserved), 0))),
                "in_transit": await one(select(func.coalesce(func.sum(StockLevel.in_transit_in), 0))),
                "transfers": await one(select(func.count()).select_from(Transfer)),
                "transfer_states": await one(
                    select(func.count()).select_from(Transfer).where(Transfer.status == "requested")
                ),
                "adjustments": await one(select(func.count()).select_from(Adjustment)),
                "counts": await one(select(func.count()).select_from(Count)),
                "open_counts": await one(
                    select(func.count()).select_from(Count).where(Count.status == "open")
                ),
                "entries": await one(select(func.count()).select_from(JournalEntry)),
            }

    async def assert_sound(self) -> None:
        """Ledger balanced; on hand = Σ movements for every product and warehouse."""
        async with self.api.db() as s:
            assert await posting.trial_balance(s) == 0
            assert await posting.unbalanced_entries(s) == []
            assert await stock_invariant_violations(s) == []

    async def transfer(self, email: str, src: int, dst: int, lines: list[tuple[int, int]]) -> dict[str, Any]:
        body = {
            "from_warehouse_id": src,
            "to_warehouse_id": dst,
            "lines": [{"product_id": p, "qty": q} for p, q in lines],
        }
        r = await self.send(email, "POST", "/transfers", body)
        assert r.status_code == 201, r.text
        return dict(r.json()["data"])
