"""Taking the payment and completing a sale (POS-12).

Tenders: cash in IQD or USD (USD at the rate in force, at most one USD tender), card, Zain Cash
and FastPay in IQD. Only cash may exceed the amount due; change is always IQD and is kept on the
last cash tender. The drawer records each cash tender in its currency and the change as an IQD
outflow.

Posting (docs/pos.md): one IQD entry per sale — IQD cash net of change, card/e-wallet clearing and
the IQD value of USD cash against revenue and sales tax, plus cost of goods sold against inventory.
The chart binds the till accounts to one currency, so USD cash settles through the receivable in a
second (USD) entry: Dr cash_usd / Cr receivable, whose base equals the IQD value debited in the first
entry, so the receivable nets to zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import Line, post_entry, rate_in_force
from tsh.domain.aftersales.models import Warranty
from tsh.domain.catalog.models import Product
from tsh.domain.events import EventName
from tsh.domain.inventory.stock import ensure_available, issue
from tsh.domain.money import round_money
from tsh.domain.organisation.models import Branch
from tsh.domain.pos.common import (
    Actor,
    add_cash,
    branch_pos_users,
    drawer_balances,
    drawer_negative,
    load_sale,
    lock_shift,
    raise_pos_events,
)
from tsh.domain.pos.models import PosLine, PosTender, PosTerminal, PosTransaction
from tsh.domain.pos.sales import not_open
from tsh.domain.shared import add_months, business_today
from tsh.platform.errors import Conflict, Invalid, field_error

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class TenderInput:
    method: str
    amount: Decimal
    currency: str
    reference: str | None = None


def receipt_number(branch_code: str, sale: PosTransaction, at: datetime) -> str:
    """`R-<branch>-<yymmdd>-<sale id>` (the seed's format): unique per branch by construction, so
    concurrent completions need no counter row and no lock; the unique index backs it up."""
    return f"R-{branch_code}-{business_today(at):%y%m%d}-{sale.id:07d}"


def _value_tenders(tenders: Sequence[TenderInput], rate: Decimal) -> list[Decimal]:
    bad = [
        field_error(f"tenders[{i}].amount.currency", "only cash may be tendered in USD")
        for i, t in enumerate(tenders)
        if t.currency != "IQD" and t.method != "cash"
    ]
    if sum(1 for t in tenders if t.currency == "USD") > 1:
        bad.append(field_error("tenders", "at most one USD cash tender"))
    if bad:
        raise Invalid("Invalid tenders", details=bad)
    return [t.amount if t.currency == "IQD" else round_money(t.amount * rate, "IQD") for t in tenders]


async def pay_sale(
    session: AsyncSession, actor: Actor, *, sale_id: int, tenders: Sequence[TenderInput]
) -> PosTransaction:
    sale = await load_sale(session, actor, sale_id)
    shift = await lock_shift(session, sale.shift_id)
    sale = await load_sale(session, actor, sale_id, lock=True)
    if sale.status != "open":
        raise not_open(sale)
    if shift.status != "open":
        raise Conflict("The sale's shift is closed", code="SHIFT_NOT_OPEN")
    now = datetime.now(UTC)
    rate = await rate_in_force(session, now) if any(t.currency == "USD" for t in tenders) else Decimal("1")
    values = _value_tenders(tenders, rate)
    paid = sum(values, ZERO)
    non_cash = sum((v for t, v in zip(tenders, values, strict=True) if t.method != "cash"), ZERO)
    if paid < sale.total:
        raise Invalid(
            "The tenders do not cover the total",
            code="PAYMENT_SHORT",
            details=[field_error("tenders", "below the total", total=str(sale.total), paid=str(paid))],
        )
    if non_cash > sale.total:
        raise Invalid(
            "Only cash may exceed the amount due",
            code="OVERPAID_NON_CASH",
            details=[field_error("tenders", "non-cash above the total", total=str(sale.total))],
        )
    lines = (
        await session.execute(
            select(PosLine, Product.is_serialised, Product.warranty_months)
            .join(Product, Product.id == PosLine.product_id)
            .where(PosLine.transaction_id == sale.id)
            .order_by(PosLine.id)
        )
    ).all()
    if not lines:
        raise Conflict("The sale has no lines", code="TRANSACTION_EMPTY")
    missing = [
        field_error(f"lines[{i}].serial_number", "required", line_id=ln.id, product_id=ln.product_id)
        for i, (ln, serialised, _) in enumerate(lines)
        if serialised and not ln.serial_number
    ]
    if missing:
        raise Invalid("Serialised items need their serial number", code="SERIAL_REQUIRED", details=missing)
    await _check_serials_free(session, [ln for ln, serialised, _ in lines if serialised])
    warehouse_id = await session.scalar(
        select(PosTerminal.warehouse_id).where(PosTerminal.id == shift.terminal_id)
    )
    assert warehouse_id is not None
    await ensure_available(
        session, warehouse_id=warehouse_id, lines=[(ln.product_id, ln.qty) for ln, _, _ in lines]
    )
    change = paid - sale.total
    iqd_cash = sum(
        (v for t, v in zip(tenders, values, strict=True) if t.method == "cash" and t.currency == "IQD"), ZERO
    )
    if change:
        available = (await drawer_balances(session, shift.id))["IQD"] + iqd_cash
        if change > available:
            raise drawer_negative("IQD", available, change)
    cost = ZERO
    for i, (ln, _, _) in enumerate(lines):
        unit_cost = await issue(
            session,
            warehouse_id=warehouse_id,
            product_id=ln.product_id,
            qty=ln.qty,
            movement_type="pos_sale",
            source_type="pos_transaction",
            source_id=sale.id,
            by_id=actor.user_id,
            field=f"lines[{i}].qty",
        )
        cost += unit_cost * ln.qty
    last_cash = max((i for i, t in enumerate(tenders) if t.method == "cash"), default=None)
    for i, (t, v) in enumerate(zip(tenders, values, strict=True)):
        session.add(
            PosTender(
                transaction_id=sale.id,
                method=t.method,
                amount=t.amount,
                currency=t.currency,
                exchange_rate=rate if t.currency == "USD" else Decimal("1"),
                amount_iqd=v,
                reference=t.reference,
                change_iqd=change if i == last_cash else ZERO,
            )
        )
        if t.method == "cash":
            add_cash(
                session,
                shift,
                type="sale",
                amount=t.amount,
                currency=t.currency,
                by_id=actor.user_id,
                at=now,
                transaction_id=sale.id,
            )
    if change:
        add_cash(
            session,
            shift,
            type="change",
            amount=-change,
            currency="IQD",
            by_id=actor.user_id,
            at=now,
            transaction_id=sale.id,
        )
    code = await session.scalar(select(Branch.code).where(Branch.id == sale.branch_id))
    sale.receipt_number = receipt_number(str(code), sale, now)
    sale.status = "completed"
    sale.completed_at = now
    usd = [(t.amount, v) for t, v in zip(tenders, values, strict=True) if t.currency == "USD"]
    sale.journal_entry_id = await _post_sale(
        session,
        sale,
        cash_iqd=iqd_cash - change,
        clearing=non_cash,
        usd=usd,
        rate=rate,
        cost=round_money(cost, "IQD"),
        by_id=actor.user_id,
    )
    warranties = _warranties(session, sale, [(ln, months) for ln, serialised, months in lines if serialised])
    await session.flush()
    users = [shift.cashier_id, actor.user_id, *await branch_pos_users(session, sale.branch_id)]
    events: list[EventName] = ["PosSaleCompleted", "StockChanged", "ShiftChanged", "JournalPosted"]
    if warranties:
        events.append("WarrantyChanged")
    raise_pos_events(session, events, branch_id=sale.branch_id, users=users, customer_id=sale.customer_id)
    return sale


async def _check_serials_free(session: AsyncSession, lines: Sequence[PosLine]) -> None:
    """A serial with an active warranty is already sold (409 SERIAL_ALREADY_SOLD)."""
    if not lines:
        return
    taken = set(
        (
            await session.execute(
                select(Warranty.product_id, Warranty.serial_number).where(
                    Warranty.status == "active",
                    Warranty.serial_number.in_({ln.serial_number for ln in lines}),
                )
            )
        ).tuples()
    )
    sold = [
        field_error("lines", "serial number already sold", line_id=ln.id, serial_number=ln.serial_number)
        for ln in lines
        if (ln.product_id, ln.serial_number) in taken
    ]
    if sold:
        raise Conflict("A serial number is already sold", code="SERIAL_ALREADY_SOLD", details=sold)


def _warranties(session: AsyncSession, sale: PosTransaction, lines: Sequence[tuple[PosLine, int]]) -> int:
    today = business_today(sale.completed_at)
    made = 0
    for ln, months in lines:
        if months <= 0 or not ln.serial_number:
            continue
        session.add(
            Warranty(
                product_id=ln.product_id,
                serial_number=ln.serial_number,
                customer_id=sale.customer_id,
                pos_line_id=ln.id,
                starts_on=today,
                ends_on=add_months(today, months),
                status="active",
            )
        )
        made += 1
    return made


async def _post_sale(
    session: AsyncSession,
    sale: PosTransaction,
    *,
    cash_iqd: Decimal,
    clearing: Decimal,
    usd: list[tuple[Decimal, Decimal]],
    rate: Decimal,
    cost: Decimal,
    by_id: int,
) -> int | None:
    b, c = sale.branch_id, sale.customer_id
    usd_iqd = sum((v for _, v in usd), ZERO)
    revenue = sale.total - sale.tax
    candidates = [
        Line("cash_iqd", debit=cash_iqd, branch_id=b) if cash_iqd > 0 else None,
        Line("cash_iqd", credit=-cash_iqd, branch_id=b) if cash_iqd < 0 else None,
        Line("payment_clearing", debit=clearing, branch_id=b) if clearing else None,
        Line("receivable", debit=usd_iqd, branch_id=b, customer_id=c, memo="USD cash") if usd_iqd else None,
        Line("sales_revenue", credit=revenue, branch_id=b) if revenue else None,
        Line("vat_output", credit=sale.tax, branch_id=b) if sale.tax else None,
        Line("cogs", debit=cost, branch_id=b) if cost else None,
        Line("inventory", credit=cost, branch_id=b) if cost else None,
    ]
    lines = [ln for ln in candidates if ln]
    if not lines:
        return None  # a free sale of items without cost moves nothing in the ledger
    entry = await _post(session, sale, "IQD", Decimal("1"), lines, f"POS sale {sale.receipt_number}", by_id)
    for amount, _ in usd:
        usd_lines = [
            Line("cash_usd", debit=amount, branch_id=b),
            Line("receivable", credit=amount, branch_id=b, customer_id=c, memo="USD cash"),
        ]
        await _post(
            session, sale, "USD", rate, usd_lines, f"USD cash on POS sale {sale.receipt_number}", by_id
        )
    return entry


async def _post(
    session: AsyncSession,
    sale: PosTransaction,
    currency: str,
    rate: Decimal,
    lines: list[Line],
    memo: str,
    by_id: int,
) -> int:
    entry = await post_entry(
        session,
        journal="POS",
        entry_date=business_today(sale.completed_at),
        currency=currency,
        exchange_rate=rate if currency != "IQD" else None,
        lines=lines,
        memo=memo,
        source_type="pos_transaction",
        source_id=sale.id,
        branch_id=sale.branch_id,
        posted_by_id=by_id,
        reference=sale.receipt_number,
    )
    return entry.id
