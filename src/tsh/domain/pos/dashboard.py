"""Terminal home (POS-01): the caller's shift status, today's sales by payment method (own shifts
for cashiers, the branch for managers), refunds today, the last 10 sales, today's top products and
the quick-sale tiles (the branch's best sellers of the last 30 days). Drawer cash is on POS-07.
The screen runs the till figures and the two product lists as sections (`dashboard_parts`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales.models import Refund
from tsh.domain.catalog.models import Product
from tsh.domain.pos.common import Actor, iqd, scoped_terminal
from tsh.domain.pos.models import PosLine, PosTender, PosTerminal, PosTransaction, Shift
from tsh.domain.shared import business_today, day_start_utc

LAST_SALES = 10
TOP_PRODUCTS = 10
TILES = 12
TILE_DAYS = 30


def sale_scope(actor: Actor, terminal_id: int | None) -> ColumnElement[bool]:
    """Which completed sales an actor's figures cover (needs Shift joined)."""
    cond: ColumnElement[bool] = true()
    if actor.scope == "own":
        cond = Shift.cashier_id == actor.user_id
    elif actor.scope == "branch":
        cond = PosTransaction.branch_id == actor.branch_id
    if terminal_id is not None:
        cond = cond & (Shift.terminal_id == terminal_id)
    return cond


async def top_products(
    session: AsyncSession, where: ColumnElement[bool], since: datetime, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            Product.id,
            Product.sku,
            Product.name_en,
            Product.name_ar,
            Product.images,
            func.sum(PosLine.qty - PosLine.qty_refunded).label("qty"),
            func.sum(PosLine.line_total + PosLine.tax).label("revenue"),
        )
        .join(PosTransaction, PosTransaction.id == PosLine.transaction_id)
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .join(Product, Product.id == PosLine.product_id)
        .where(where, PosTransaction.status == "completed", PosTransaction.completed_at >= since)
        .group_by(Product.id, Product.sku, Product.name_en, Product.name_ar, Product.images)
        .order_by(func.sum(PosLine.qty).desc(), Product.id)
        .limit(limit)
    )
    return [
        {
            "product": {
                "id": pid,
                "sku": sku,
                "name_en": en,
                "name_ar": ar,
                "image": images[0] if images else None,
            },
            "qty": int(qty or 0),
            "revenue": iqd(revenue),
        }
        for pid, sku, en, ar, images, qty, revenue in rows
    ]


DashboardPart = Callable[[AsyncSession], Awaitable[Any]]


async def dashboard_parts(
    session: AsyncSession, actor: Actor, *, terminal_id: int | None
) -> dict[str, DashboardPart]:
    """POS-01 as parts to run once the terminal is in scope (404 TERMINAL_NOT_FOUND): `till`
    (shift, today's figures, last sales: the screen itself), `top_products`, `quick_tiles`."""
    branch_id = actor.branch_id
    if terminal_id is not None:
        branch_id = (await scoped_terminal(session, actor, terminal_id)).branch_id
    start = day_start_utc(business_today())
    tiles_scope = PosTransaction.branch_id == branch_id if branch_id is not None else true()
    return {
        "till": lambda s: _till(s, actor, terminal_id, start),
        "top_products": lambda s: top_products(s, sale_scope(actor, terminal_id), start, TOP_PRODUCTS),
        "quick_tiles": lambda s: top_products(
            s, tiles_scope, datetime.now(UTC) - timedelta(days=TILE_DAYS), TILES
        ),
    }


async def _till(
    session: AsyncSession, actor: Actor, terminal_id: int | None, start: datetime
) -> dict[str, Any]:
    scope = sale_scope(actor, terminal_id) & (PosTransaction.completed_at >= start)
    done = PosTransaction.status == "completed"
    shift_row = (
        await session.execute(
            select(Shift.id, Shift.opened_at, PosTerminal.id, PosTerminal.code, PosTerminal.name)
            .join(PosTerminal, PosTerminal.id == Shift.terminal_id)
            .where(Shift.cashier_id == actor.user_id, Shift.status == "open")
        )
    ).first()
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(PosTransaction.total), 0))
            .select_from(PosTransaction)
            .join(Shift, Shift.id == PosTransaction.shift_id)
            .where(scope, done)
        )
    ).one()
    methods = await session.execute(
        select(
            PosTender.method,
            func.count(func.distinct(PosTransaction.id)),
            func.sum(PosTender.amount_iqd - PosTender.change_iqd),
        )
        .join(PosTransaction, PosTransaction.id == PosTender.transaction_id)
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .where(scope, done)
        .group_by(PosTender.method)
        .order_by(PosTender.method)
    )
    refunds = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Refund.amount), 0))
            .select_from(Refund)
            .join(Shift, Shift.id == Refund.shift_id)
            .join(PosTransaction, PosTransaction.id == Refund.source_id)
            .where(
                Refund.source == "pos_transaction", Refund.issued_at >= start, sale_scope(actor, terminal_id)
            )
        )
    ).one()
    last = await session.execute(
        select(
            PosTransaction.id,
            PosTransaction.receipt_number,
            PosTransaction.completed_at,
            PosTransaction.total,
        )
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .where(sale_scope(actor, terminal_id), done)
        .order_by(PosTransaction.completed_at.desc(), PosTransaction.id.desc())
        .limit(LAST_SALES)
    )
    return {
        "shift": (
            {
                "id": shift_row[0],
                "opened_at": shift_row[1],
                "terminal": {"id": shift_row[2], "code": shift_row[3], "name": shift_row[4]},
            }
            if shift_row
            else None
        ),
        "today": {
            "date": business_today(),
            "sales_count": count,
            "sales_total": iqd(total),
            "by_method": [{"method": m, "count": c, "amount": iqd(a)} for m, c, a in methods],
            "refunds_count": refunds[0],
            "refunds_total": iqd(refunds[1]),
        },
        "last_sales": [
            {"id": i, "receipt_number": r, "completed_at": at, "total": iqd(t)} for i, r, at, t in last
        ],
    }
