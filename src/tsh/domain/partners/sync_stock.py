"""The `stock` delta-sync collection (mobile.md §1): staff get the stock levels of their branch's
warehouses (every warehouse when their scope has no branch); customers (consumer, wholesale client,
partner) get only the availability band of their serving branch's main warehouse, the same band the
catalogue screens show (available ≤ 0: out, ≤ reorder point: low, else in_stock).

It sits with prices at the top of the domain for the same reason: the customers' serving branch
is decided by catalog (consumer), wholesale (account) and partners (partner record). The warehouse
ids are the scope key: a customer whose serving branch changes gets 410 and re-syncs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.queries import serving_branch
from tsh.domain.customers.models import Customer
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Warehouse
from tsh.domain.partners.reads import partner_of
from tsh.domain.sales.ordering import main_warehouse_id
from tsh.domain.sync.feed import Collection
from tsh.domain.wholesale.cart import warehouse_of
from tsh.platform.errors import NotFound

CUSTOMER_ROLES = frozenset({"consumer", "wholesale_client", "partner"})


async def warehouses_of(session: AsyncSession, actor: Actor) -> list[int]:
    """The warehouses whose stock the caller syncs.

    Errors: ACCOUNT_MISSING, PARTNER_PROFILE_MISSING, BRANCH_NOT_FOUND (404), NO_MAIN_WAREHOUSE,
    NO_PRICE_LIST (409, the consumer's serving branch has no list).
    """
    if actor.role == "consumer":
        serving = await serving_branch(session, branch_id=None, customer_id=actor.customer_id)
        return [serving.warehouse_id] if serving.warehouse_id is not None else []
    if actor.role == "wholesale_client":
        customer = await session.get(Customer, actor.customer_id) if actor.customer_id is not None else None
        if customer is None:
            raise NotFound("This user has no wholesale account", code="ACCOUNT_MISSING")
        return [await warehouse_of(session, customer)]
    if actor.role == "partner":
        return [await main_warehouse_id(session, (await partner_of(session, actor)).branch_id)]
    stmt = select(Warehouse.id).order_by(Warehouse.id)
    if actor.branch_id is not None:
        stmt = stmt.where(Warehouse.branch_id == actor.branch_id)
    return list(await session.scalars(stmt))


async def _scope_key(session: AsyncSession, actor: Actor) -> str:
    return ",".join(map(str, await warehouses_of(session, actor)))


def _band(level: StockLevel) -> str:
    available = level.on_hand - level.reserved
    if available <= 0:
        return "out"
    return "low" if available <= level.reorder_point else "in_stock"


def _row(level: StockLevel, actor: Actor) -> tuple[int, dict[str, Any]]:
    data: dict[str, Any] = {"id": level.id, "product_id": level.product_id, "band": _band(level)}
    if actor.role not in CUSTOMER_ROLES:
        data |= {
            "warehouse_id": level.warehouse_id,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.on_hand - level.reserved,
            "in_transit_in": level.in_transit_in,
            "reorder_point": level.reorder_point,
        }
    return level.id, {"version": level.version, "data": data}


async def _rows(session: AsyncSession, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    warehouses = await warehouses_of(session, actor)
    found = await session.scalars(
        select(StockLevel).where(StockLevel.id.in_(ids), StockLevel.warehouse_id.in_(warehouses))
    )
    return dict(_row(level, actor) for level in found)


async def _snapshot(
    session: AsyncSession, actor: Actor, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    warehouses = await warehouses_of(session, actor)
    found = await session.scalars(
        select(StockLevel)
        .where(StockLevel.id > after, StockLevel.warehouse_id.in_(warehouses))
        .order_by(StockLevel.id)
        .limit(limit)
    )
    return [_row(level, actor) for level in found]


STOCK = Collection(name="stock", entity="stock_level", rows=_rows, snapshot=_snapshot, scope_key=_scope_key)
