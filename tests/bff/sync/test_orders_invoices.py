"""Delta sync of orders and invoices: scope and 90-day window, a change, the window tombstone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from tests.bff.sync.client import sync
from tests.http import Api, demo
from tsh.bff.schemas import cursor_list, decode_cursor, encode_cursor
from tsh.domain.identity.models import User
from tsh.domain.sales.models import Invoice, Order
from tsh.domain.sync.models import ChangeLog
from tsh.platform.db.base import utcnow

SP1, MANAGER, WHOLESALE = demo("salesperson"), demo("branch_manager"), demo("wholesale_client")
WINDOW = timedelta(days=91)


async def _user(api: Api, email: str) -> User:
    async with api.db() as s:
        return (await s.scalars(select(User).where(User.email == email))).one()


async def test_orders_are_the_callers_last_90_days(api: Api) -> None:
    since = utcnow() - timedelta(days=89)
    for email in (SP1, MANAGER, WHOLESALE):
        user = await _user(api, email)
        owner = {
            SP1: Order.salesperson_id == user.id,
            MANAGER: Order.branch_id == user.branch_id,
            WHOLESALE: Order.customer_id == user.customer_id,
        }[email]
        local: dict[int, Any] = {}
        await sync(api, email, "orders", local, limit=500)
        async with api.db() as s:
            recent = set(await s.scalars(select(Order.id).where(owner, Order.placed_at >= since)))
            window = set(await s.scalars(select(Order.id).where(owner, Order.placed_at >= utcnow() - WINDOW)))
        assert recent <= set(local) <= window, email


async def test_invoices_open_or_recent_in_the_same_scope(api: Api) -> None:
    user = await _user(api, MANAGER)
    local: dict[int, Any] = {}
    await sync(api, MANAGER, "invoices", local, limit=500)
    async with api.db() as s:
        mine = Invoice.branch_id == user.branch_id
        open_ = set(await s.scalars(select(Invoice.id).where(mine, Invoice.status.in_(("open", "partial")))))
        outer = set(
            await s.scalars(
                select(Invoice.id).where(
                    mine,
                    or_(
                        Invoice.status.in_(("open", "partial")),
                        Invoice.issue_date >= (utcnow() - WINDOW).date(),
                    ),
                )
            )
        )
    assert open_ <= set(local) <= outer and local
    some = next(iter(local.values()))
    assert some["branch_id"] == user.branch_id


async def test_an_order_change_then_ageing_out_of_the_window(api: Api) -> None:
    local: dict[int, Any] = {}
    cursor = await sync(api, MANAGER, "orders", local, limit=500)
    order_id = max(local)
    async with api.db() as s:
        order = await s.get_one(Order, order_id)
        note, order.note = order.note, "sync test"
        await s.commit()
    cursor = await sync(api, MANAGER, "orders", local, since=cursor)
    async with api.db() as s:
        order = await s.get_one(Order, order_id)
        assert local[order_id]["_version"] == order.version
        order.note = note
        placed = order.placed_at
        await s.commit()
        change_id = await s.scalar(select(func.max(ChangeLog.id)))
        # Ageing without a change of its own: a Core UPDATE writes no change-log row.
        await s.execute(
            update(Order).where(Order.id == order_id).values(placed_at=utcnow() - timedelta(days=100))
        )
        await s.commit()
        assert await s.scalar(select(func.max(ChangeLog.id))) == change_id
    try:
        # A cursor last confirmed 30 days ago (within the retention): the order, now placed 100 days
        # ago, left the window since then and arrives as a tombstone.
        with cursor_list("sync:orders", {}):
            position = decode_cursor(cursor)
            assert position is not None
            position["d"] -= 30
            old = encode_cursor(position)
        await sync(api, MANAGER, "orders", local, since=old)
        assert order_id not in local
        fresh: dict[int, Any] = {}
        await sync(api, MANAGER, "orders", fresh, limit=500)
        assert local == fresh
    finally:
        async with api.db() as s:
            await s.execute(update(Order).where(Order.id == order_id).values(placed_at=placed))
            await s.commit()


async def test_roles_outside_the_collection_are_403(api: Api) -> None:
    r = await api.get(demo("cashier"), "/api/bff/mobile/sync/orders")
    assert r.status_code == 403 and r.json()["error_code"] == "FORBIDDEN"
    r = await api.get(demo("consumer"), "/api/bff/mobile/sync/invoices")
    assert r.status_code == 403 and r.json()["error_code"] == "FORBIDDEN"
