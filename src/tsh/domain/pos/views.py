"""Sale screens: one sale (POS-10, also the answer of the sale actions) and the completed-sales list
(POS-15). Four statements for a sale, two for a page of the list."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales.models import Refund
from tsh.domain.catalog.models import Product
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import User
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch
from tsh.domain.pos.common import Actor, after_key, check_cashier, iqd, scoped_shift_id
from tsh.domain.pos.models import PosLine, PosTender, PosTerminal, PosTransaction, Shift
from tsh.domain.shared import day_start_utc

ZERO = Decimal("0.00")


async def sale_view(session: AsyncSession, sale_id: int) -> dict[str, Any]:
    """A sale with lines, tenders, change, refunds and (completed) receipt data; scope is the
    caller's business (`common.load_sale`)."""
    head = (
        await session.execute(
            select(PosTransaction, Shift.cashier_id, User.name, PosTerminal, Branch, Customer.name)
            .join(Shift, Shift.id == PosTransaction.shift_id)
            .join(User, User.id == Shift.cashier_id)
            .join(PosTerminal, PosTerminal.id == Shift.terminal_id)
            .join(Branch, Branch.id == PosTransaction.branch_id)
            .outerjoin(Customer, Customer.id == PosTransaction.customer_id)
            .where(PosTransaction.id == sale_id)
        )
    ).one()
    sale, cashier_id, cashier_name, terminal, branch, customer_name = head
    lines = (
        await session.execute(
            select(PosLine, Product.sku, Product.name_en, Product.name_ar, Product.is_serialised)
            .join(Product, Product.id == PosLine.product_id)
            .where(PosLine.transaction_id == sale_id)
            .order_by(PosLine.id)
        )
    ).all()
    tenders = list(
        await session.scalars(
            select(PosTender).where(PosTender.transaction_id == sale_id).order_by(PosTender.id)
        )
    )
    refunds = list(
        await session.scalars(
            select(Refund)
            .where(Refund.source == "pos_transaction", Refund.source_id == sale_id)
            .order_by(Refund.id)
        )
    )
    completed = sale.status == "completed"
    paid = sum((t.amount_iqd for t in tenders), ZERO)
    change = sum((t.change_iqd for t in tenders), ZERO)
    return {
        "id": sale.id,
        "status": sale.status,
        "shift_id": sale.shift_id,
        "receipt_number": sale.receipt_number,
        "branch": {"id": branch.id, "name_en": branch.name_en, "name_ar": branch.name_ar},
        "terminal": {"id": terminal.id, "code": terminal.code, "name": terminal.name},
        "cashier": {"id": cashier_id, "name": cashier_name},
        "customer": {"id": sale.customer_id, "name": customer_name} if sale.customer_id else None,
        "lines": [
            {
                "id": ln.id,
                "product": {"id": ln.product_id, "sku": sku, "name_en": name_en, "name_ar": name_ar},
                "is_serialised": serialised,
                "qty": ln.qty,
                "unit_price": iqd(ln.unit_price),
                "discount_pct": str(ln.discount_pct),
                "tax": iqd(ln.tax),
                "line_total": iqd(ln.line_total),
                "serial_number": ln.serial_number,
                "qty_refunded": ln.qty_refunded,
                "refundable_qty": ln.qty - ln.qty_refunded if completed else 0,
            }
            for ln, sku, name_en, name_ar, serialised in lines
        ],
        "order_discount_pct": str(sale.discount_pct),
        "subtotal": iqd(sale.subtotal),
        "discount": iqd(sale.discount),
        "tax": iqd(sale.tax),
        "total": iqd(sale.total),
        "tenders": [
            {
                "id": t.id,
                "method": t.method,
                "amount": wire(t.amount, t.currency),
                "exchange_rate": str(t.exchange_rate),
                "amount_iqd": iqd(t.amount_iqd),
                "change": iqd(t.change_iqd),
                "reference": t.reference,
            }
            for t in tenders
        ],
        "paid": iqd(paid),
        "change": iqd(change),
        "refunds": [
            {
                "id": r.id,
                "number": r.number,
                "amount": wire(r.amount, r.currency),
                "method": r.method,
                "reason": r.reason,
                "issued_at": r.issued_at,
            }
            for r in refunds
        ],
        "refunded_total": iqd(sum((r.amount for r in refunds), ZERO)),
        "completed_at": sale.completed_at,
        "discarded_at": sale.discarded_at,
        "discard_reason": sale.discard_reason,
        "receipt": (
            {
                "number": sale.receipt_number,
                "issued_at": sale.completed_at,
                "branch": {
                    "name_en": branch.name_en,
                    "name_ar": branch.name_ar,
                    "address": branch.address,
                    "phone": branch.phone,
                },
                "terminal_code": terminal.code,
                "cashier_name": cashier_name,
            }
            if completed
            else None
        ),
    }


async def sales_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    shift_id: int | None,
    date_from: date | None,
    date_to: date | None,
    receipt_number: str | None,
    method: str | None,
    cashier_id: int | None,
) -> list[dict[str, Any]]:
    """POS-15: completed sales newest first (up to limit+1). Cashiers see their own shifts' sales,
    but a receipt_number lookup searches the whole branch."""
    stmt = (
        select(PosTransaction, Shift.cashier_id, User.name, Customer.name)
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .join(User, User.id == Shift.cashier_id)
        .outerjoin(Customer, Customer.id == PosTransaction.customer_id)
        .where(PosTransaction.status == "completed")
    )
    if actor.scope == "own" and receipt_number is None:
        stmt = stmt.where(Shift.cashier_id == actor.user_id)
    elif actor.scope != "all":
        stmt = stmt.where(PosTransaction.branch_id == actor.branch_id)
    if shift_id is not None:
        await scoped_shift_id(session, actor, shift_id)
        stmt = stmt.where(PosTransaction.shift_id == shift_id)
    if cashier_id is not None:
        await check_cashier(session, actor, cashier_id)
        stmt = stmt.where(Shift.cashier_id == cashier_id)
    if receipt_number is not None:
        stmt = stmt.where(PosTransaction.receipt_number == receipt_number)
    if date_from is not None:
        stmt = stmt.where(PosTransaction.completed_at >= day_start_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(PosTransaction.completed_at < day_start_utc(date_to + timedelta(days=1)))
    if method is not None:
        stmt = stmt.where(
            select(PosTender.id)
            .where(PosTender.transaction_id == PosTransaction.id, PosTender.method == method)
            .exists()
        )
    if after is not None:
        at, last_id = after_key(after)
        stmt = stmt.where(
            or_(
                PosTransaction.completed_at < at,
                and_(PosTransaction.completed_at == at, PosTransaction.id < last_id),
            )
        )
    rows = (
        await session.execute(
            stmt.order_by(PosTransaction.completed_at.desc(), PosTransaction.id.desc()).limit(limit + 1)
        )
    ).all()
    ids = [r[0].id for r in rows]
    methods: dict[int, list[str]] = defaultdict(list)
    refunded: dict[int, int] = {}
    if ids:
        for tid, m in await session.execute(
            select(PosTender.transaction_id, PosTender.method)
            .where(PosTender.transaction_id.in_(ids))
            .group_by(PosTender.transaction_id, PosTender.method)
            .order_by(PosTender.transaction_id, PosTender.method)
        ):
            methods[tid].append(m)
        refunded = {
            tid: int(q)
            for tid, q in await session.execute(
                select(PosLine.transaction_id, func.sum(PosLine.qty_refunded))
                .where(PosLine.transaction_id.in_(ids))
                .group_by(PosLine.transaction_id)
            )
        }
    return [
        {
            "id": sale.id,
            "receipt_number": sale.receipt_number,
            "completed_at": sale.completed_at,
            "shift_id": sale.shift_id,
            "cashier": {"id": cid, "name": cname},
            "customer": {"id": sale.customer_id, "name": custname} if sale.customer_id else None,
            "total": iqd(sale.total),
            "methods": methods[sale.id],
            "refunded": refunded.get(sale.id, 0) > 0,
        }
        for sale, cid, cname, custname in rows
    ]
