"""Paged field-sales lists: order-taking catalogue (SAL-09), orders taken (SAL-11), collections (SAL-12)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import Product
from tsh.domain.catalog.queries import base_price_rows, name_col
from tsh.domain.customers.models import Customer
from tsh.domain.inventory.models import StockLevel
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order, OrderLine, Payment
from tsh.domain.sales.queries import Sellers, dec, invoice_row, money, per_currency, sum_if
from tsh.domain.shared import day_start_utc
from tsh.platform.db.base import utcnow


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def catalogue(
    session: AsyncSession,
    *,
    customer: Customer,
    warehouse_id: int,
    branch_id: int | None,
    language: str,
    limit: int,
    after: dict[str, Any] | None,
    q: str | None,
    barcode: str | None,
    category_id: int | None,
    in_stock: bool | None,
) -> tuple[list[dict[str, Any]], Any]:
    """Products priced on the customer's list, with availability and the last price sold to it."""
    now = utcnow()
    prices = base_price_rows(customer.price_list_id, now)
    available = (
        select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
        .where(StockLevel.product_id == Product.id, StockLevel.warehouse_id == warehouse_id)
        .scalar_subquery()
    )
    name = name_col(language)
    stmt = (
        select(
            Product.id,
            Product.sku,
            Product.barcode,
            name.label("name"),
            Product.pack_size,
            Product.category_id,
            prices.c.unit_price,
            available.label("available"),
        )
        .join(prices, prices.c.product_id == Product.id)
        .where(Product.is_active.is_(True))
    )
    if q:
        stmt = stmt.where(name.ilike(_like(q), escape="\\") | Product.sku.ilike(_like(q), escape="\\"))
    if barcode:
        stmt = stmt.where(Product.barcode == barcode)
    if category_id is not None:
        stmt = stmt.where(Product.category_id == category_id)
    if in_stock is not None:
        stmt = stmt.where(available > 0 if in_stock else available <= 0)
    if after is not None:
        stmt = stmt.where((name > after["k"]) | ((name == after["k"]) & (Product.id > after["id"])))
    rows = (await session.execute(stmt.order_by(name, Product.id).limit(limit + 1))).all()
    last = (
        select(OrderLine.product_id, func.max(OrderLine.id).label("line_id"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.customer_id == customer.id,
            Order.status != "cancelled",
            OrderLine.product_id.in_([r.id for r in rows]),
        )
        .group_by(OrderLine.product_id)
        .subquery()
    )
    last_price: dict[int, Decimal] = dict(
        (
            await session.execute(
                select(last.c.product_id, OrderLine.unit_price).join(
                    OrderLine, OrderLine.id == last.c.line_id
                )
            )
        )
        .tuples()
        .all()
    )
    cards = await pricing.catalogue_prices(
        session,
        price_list_id=customer.price_list_id or -1,
        product_ids=[r.id for r in rows],
        channel="salesperson",
        branch_id=branch_id,
        at=now,
    )
    currency = customer.currency
    items = []
    for r in rows:
        card = cards.get(r.id)
        cur = card.currency if card else currency
        items.append(
            {
                "id": r.id,
                "sku": r.sku,
                "barcode": r.barcode,
                "name": r.name,
                "pack_size": r.pack_size,
                "category_id": r.category_id,
                "unit_price": money(r.unit_price, cur),
                "price_incl_tax": money(card.price_incl_tax, cur) if card else None,
                "promo_price_incl_tax": money(card.promo_price_incl_tax, cur)
                if card and card.promo_price_incl_tax is not None
                else None,
                "promotion_id": card.promotion_id if card else None,
                "available": max(int(r.available), 0),
                "last_price": money(last_price[r.id], cur) if r.id in last_price else None,
            }
        )
    return items, lambda item: {"k": item["name"], "id": item["id"]}


async def order_list(
    session: AsyncSession,
    *,
    sellers: Sellers,
    limit: int,
    after: dict[str, Any] | None,
    status: str | None,
    customer_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> tuple[list[dict[str, Any]], Any]:
    """The sellers' orders, newest first, with the invoice balance."""
    stmt = (
        select(
            Order.id,
            Order.number,
            Order.placed_at,
            Order.status,
            Order.payment_status,
            Order.total,
            Order.currency,
            Order.customer_id,
            Customer.name.label("customer_name"),
            Invoice.balance.label("invoice_balance"),
            Invoice.status.label("invoice_status"),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(Invoice, Invoice.order_id == Order.id)
        .where(sellers.clause(Order.salesperson_id))
    )
    if status:
        stmt = stmt.where(Order.status == status)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if date_from is not None:
        stmt = stmt.where(Order.placed_at >= day_start_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(Order.placed_at < day_start_utc(date_to + dt.timedelta(days=1)))
    if after is not None:
        at = dt.datetime.fromisoformat(after["k"])
        stmt = stmt.where((Order.placed_at < at) | ((Order.placed_at == at) & (Order.id < after["id"])))
    rows = (
        await session.execute(stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1))
    ).all()
    items = [
        {
            "id": r.id,
            "number": r.number,
            "placed_at": r.placed_at,
            "status": r.status,
            "payment_status": r.payment_status,
            "customer": {"id": r.customer_id, "name": r.customer_name},
            "total": money(r.total, r.currency),
            "invoice_balance": None
            if r.invoice_balance is None or r.invoice_status == "void"
            else money(r.invoice_balance, r.currency),
        }
        for r in rows
    ]
    return items, lambda item: {"k": item["placed_at"].isoformat(), "id": item["id"]}


async def collections_worklist(
    session: AsyncSession,
    *,
    sellers: Sellers,
    today: dt.date,
    limit: int,
    after: dict[str, Any] | None,
    customer_id: int | None,
    overdue_only: bool,
) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    """Open invoices of the sellers' customers, overdue first (due date ascending), the totals per
    currency, and today's payments collected by the sellers, by method. Three statements."""
    scope = and_(sellers.clause(Customer.salesperson_id), Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    if customer_id is not None:
        scope = and_(scope, Invoice.customer_id == customer_id)
    if overdue_only:
        scope = and_(scope, Invoice.due_date < today)
    stmt = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.status,
            Invoice.total,
            Invoice.balance,
            Invoice.currency,
            Customer.id.label("customer_id"),
            Customer.name.label("customer_name"),
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(scope)
    )
    if after is not None:
        due = dt.date.fromisoformat(after["k"])
        stmt = stmt.where((Invoice.due_date > due) | ((Invoice.due_date == due) & (Invoice.id > after["id"])))
    rows = (await session.execute(stmt.order_by(Invoice.due_date, Invoice.id).limit(limit + 1))).all()
    totals = (
        (
            await session.execute(
                select(
                    Invoice.currency,
                    func.sum(Invoice.balance),
                    sum_if(Invoice.due_date < today, Invoice.balance),
                )
                .join(Customer, Customer.id == Invoice.customer_id)
                .where(scope)
                .group_by(Invoice.currency)
            )
        )
        .tuples()
        .all()
    )
    collected = (
        (
            await session.execute(
                select(Payment.method, Payment.currency, func.count(), func.sum(Payment.amount))
                .where(sellers.clause(Payment.collected_by_id), Payment.received_at >= day_start_utc(today))
                .group_by(Payment.method, Payment.currency)
                .order_by(Payment.method, Payment.currency)
            )
        )
        .tuples()
        .all()
    )
    items = [
        invoice_row(r, today)
        | {"customer": {"id": r.customer_id, "name": r.customer_name}, "overdue": r.due_date < today}
        for r in rows
    ]
    extras = {
        "totals": {
            "outstanding": per_currency({c: dec(a) for c, a, _ in totals}),
            "overdue": per_currency({c: dec(b) for c, _, b in totals}),
        },
        "collected_today": [{"method": m, "count": n, "amount": money(a, c)} for m, c, n, a in collected],
    }
    return items, lambda item: {"k": item["due_date"].isoformat(), "id": item["id"]}, extras
