"""Delta sync of stock: branch levels for staff, bands only for customers, a change as an upsert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.bff.sync.client import sync
from tests.http import Api, demo
from tsh.domain.identity.models import User
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Warehouse

CONSUMER, MANAGER = demo("consumer"), demo("branch_manager")


async def test_staff_get_their_branch_levels(api: Api) -> None:
    local: dict[int, Any] = {}
    await sync(api, MANAGER, "stock", local, limit=1000)
    async with api.db() as s:
        branch = (await s.scalars(select(User.branch_id).where(User.email == MANAGER))).one()
        levels = {
            lv.id: lv
            for lv in await s.scalars(
                select(StockLevel)
                .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                .where(Warehouse.branch_id == branch)
            )
        }
    assert set(local) == set(levels) and levels
    some = next(iter(levels.values()))
    assert (
        local[some.id]["on_hand"] == some.on_hand
        and local[some.id]["available"] == some.on_hand - some.reserved
    )


async def test_customers_get_bands_of_one_warehouse_only(api: Api) -> None:
    local: dict[int, Any] = {}
    await sync(api, CONSUMER, "stock", local, limit=1000)
    assert local and all(set(row) == {"id", "product_id", "band", "_version"} for row in local.values())
    assert {row["band"] for row in local.values()} <= {"in_stock", "low", "out"}
    async with api.db() as s:
        warehouses = set(
            await s.scalars(select(StockLevel.warehouse_id).where(StockLevel.id.in_(list(local))))
        )
    assert len(warehouses) == 1


async def test_a_stock_change_arrives_as_an_upsert_with_a_new_version(api: Api) -> None:
    local: dict[int, Any] = {}
    cursor = await sync(api, MANAGER, "stock", local, limit=1000)
    level_id = next(iter(local))
    async with api.db() as s:
        level = await s.get_one(StockLevel, level_id)
        before, level.reorder_point = level.reorder_point, level.reorder_point + 5
        await s.commit()
    try:
        await sync(api, MANAGER, "stock", local, since=cursor)
        assert local[level_id]["reorder_point"] == before + 5
        async with api.db() as s:
            assert local[level_id]["_version"] == (await s.get_one(StockLevel, level_id)).version
    finally:
        async with api.db() as s:
            (await s.get_one(StockLevel, level_id)).reorder_point = before
            await s.commit()
