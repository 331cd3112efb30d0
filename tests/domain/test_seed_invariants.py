"""The demo seed is a consistent company: logins, ledger, stock, orders, receivables, rates.

Runs against the database the session fixtures migrated and seeded (demo profile). Read-only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tsh.context import AppContext
from tsh.domain.accounting.models import Account, ExchangeRate, JournalEntry, JournalLine
from tsh.domain.catalog.models import Product
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import Role, User
from tsh.domain.identity.rbac import ROLE_CODES
from tsh.domain.inventory.models import StockLevel, StockMovement, StockReservation
from tsh.domain.organisation.models import Branch, Warehouse
from tsh.domain.pos.models import CashMovement, Shift
from tsh.domain.sales.models import (
    Invoice,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
    Target,
    Visit,
)

BAGHDAD = ZoneInfo("Asia/Baghdad")
SEEDED_WAREHOUSES = ("BGD-MAIN", "BGD-SHOP", "BGD-RET", "BSR-MAIN", "BSR-SHOP", "ERB-MAIN")
CENT = Decimal("0.01")


def _round(amount: Decimal, currency: str) -> Decimal:
    step = Decimal("1") if currency == "IQD" else CENT
    return amount.quantize(step, rounding=ROUND_HALF_UP).quantize(CENT)


async def test_two_demo_users_per_role_on_different_branches(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        rows = (
            await s.execute(
                select(User.email, User.password_hash, User.status, User.branch_id, Role.code, Branch.code)
                .join(Role, Role.id == User.role_id)
                .outerjoin(Branch, Branch.id == User.branch_id)
                .where(User.email.like("%@demo.tsh.iq"))
            )
        ).all()
    by_email = {r[0]: r for r in rows}
    assert len(by_email) == 30
    for role in ROLE_CODES:
        one, two = by_email[f"{role}1@demo.tsh.iq"], by_email[f"{role}2@demo.tsh.iq"]
        for row in (one, two):
            assert row[1] and row[1].startswith("$argon2"), row[0]
            assert row[2] == "active"
            assert row[4] == role
        assert (one[5], two[5]) == ("BGD", "BSR"), role


async def test_ledger_balances_per_entry_and_in_total(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        unbalanced = (
            await s.execute(
                select(JournalLine.entry_id)
                .group_by(JournalLine.entry_id)
                .having(
                    (func.abs(func.sum(JournalLine.debit) - func.sum(JournalLine.credit)) > 0.001)
                    | (func.abs(func.sum(JournalLine.base_debit) - func.sum(JournalLine.base_credit)) > 0.001)
                )
                .limit(5)
            )
        ).all()
        assert unbalanced == []
        debit, credit = (
            await s.execute(select(func.sum(JournalLine.base_debit), func.sum(JournalLine.base_credit)))
        ).one()
        assert debit > 0 and Decimal(str(debit)).quantize(CENT) == Decimal(str(credit)).quantize(CENT)
        # Entry totals match their lines, lines sit on postable accounts in a matching currency.
        entries = {
            eid: (Decimal(total), cur)
            for eid, total, cur in (
                await s.execute(select(JournalEntry.id, JournalEntry.total, JournalEntry.currency))
            ).tuples()
        }
        sums: dict[int, Decimal] = defaultdict(Decimal)
        accounts = {
            aid: (postable, cur)
            for aid, postable, cur in (
                await s.execute(select(Account.id, Account.is_postable, Account.currency))
            ).tuples()
        }
        for eid, aid, dr in (
            await s.execute(select(JournalLine.entry_id, JournalLine.account_id, JournalLine.debit))
        ).tuples():
            sums[eid] += Decimal(dr)
            postable, acur = accounts[aid]
            assert postable
            assert acur is None or acur == entries[eid][1]
        assert set(sums) == set(entries)
        assert all(sums[e] == entries[e][0] for e in entries)


async def test_stock_on_hand_is_the_sum_of_movements(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        moved = {
            (p, w): int(q)
            for p, w, q in (
                await s.execute(
                    select(StockMovement.product_id, StockMovement.warehouse_id, func.sum(StockMovement.qty))
                    # A transfer loss writes off in-transit stock: on hand is unchanged (models.py).
                    .where(StockMovement.type != "transfer_loss")
                    .group_by(StockMovement.product_id, StockMovement.warehouse_id)
                )
            ).tuples()
        }
        reserved = {
            (p, w): int(q)
            for p, w, q in (
                await s.execute(
                    select(
                        StockReservation.product_id,
                        StockReservation.warehouse_id,
                        func.sum(StockReservation.qty),
                    ).group_by(StockReservation.product_id, StockReservation.warehouse_id)
                )
            ).tuples()
        }
        levels = (
            await s.execute(
                select(
                    StockLevel.product_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved
                )
            )
        ).all()
        assert set(moved) <= {(p, w) for p, w, _, _ in levels}
        assert len(levels) > 1000
        # Unit tests of the stock primitives work in warehouses of their own (reserving without an
        # order, for one); the seeded warehouses are where every change goes through the services.
        seeded = set(
            (await s.execute(select(Warehouse.id).where(Warehouse.code.in_(SEEDED_WAREHOUSES)))).scalars()
        )
        assert len(seeded) == len(SEEDED_WAREHOUSES)
        for p, w, on_hand, res in levels:
            if w not in seeded:
                continue
            assert on_hand >= 0
            assert on_hand == moved.get((p, w), 0), (p, w)
            assert res == reserved.get((p, w), 0), (p, w)
        negative_after = (
            await s.execute(
                select(func.count()).select_from(StockMovement).where(StockMovement.on_hand_after < 0)
            )
        ).scalar_one()
        assert negative_after == 0


async def test_order_arithmetic(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        orders = (
            await s.execute(
                select(
                    Order.id,
                    Order.currency,
                    Order.subtotal,
                    Order.discount,
                    Order.tax,
                    Order.delivery_fee,
                    Order.total,
                )
            )
        ).all()
        lines = (
            await s.execute(
                select(
                    OrderLine.order_id,
                    OrderLine.qty,
                    OrderLine.unit_price,
                    OrderLine.discount_pct,
                    OrderLine.tax,
                    OrderLine.line_total,
                )
            )
        ).all()
    assert len(orders) >= 4000
    currency = {o.id: o.currency for o in orders}
    subtotal: dict[int, Decimal] = defaultdict(Decimal)
    tax: dict[int, Decimal] = defaultdict(Decimal)
    for oid, qty, unit, disc, ltax, total in lines:
        expected = _round(qty * unit * (100 - Decimal(disc)) / 100, currency[oid])
        assert total == expected, oid
        subtotal[oid] += total
        tax[oid] += ltax
    for o in orders:
        assert o.subtotal == subtotal[o.id]
        assert o.tax == tax[o.id]
        assert o.total == o.subtotal - o.discount + o.tax + o.delivery_fee


async def test_invoices_payments_and_allocations(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        invoices = (
            await s.execute(select(Invoice.id, Invoice.total, Invoice.paid, Invoice.balance, Invoice.status))
        ).all()
        allocated = {
            iid: Decimal(a)
            for iid, a in (
                await s.execute(
                    select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount)).group_by(
                        PaymentAllocation.invoice_id
                    )
                )
            ).tuples()
        }
        payments = (
            await s.execute(
                select(Payment.id, Payment.amount, Payment.unallocated, Payment.exchange_rate).where(
                    Payment.exchange_rate.is_(None)
                )
            )
        ).all()
        per_payment = {
            pid: Decimal(a)
            for pid, a in (
                await s.execute(
                    select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount)).group_by(
                        PaymentAllocation.payment_id
                    )
                )
            ).tuples()
        }
    statuses = {i.status for i in invoices}
    assert {"open", "partial", "paid", "void"} <= statuses
    for inv in invoices:
        # Allocations never exceed the invoice; the balance is what is left of it.
        assert allocated.get(inv.id, Decimal(0)).quantize(CENT) <= inv.total, inv.id
        assert inv.paid <= inv.total
        if inv.status == "void":
            assert inv.balance == 0
        else:
            assert inv.balance == inv.total - inv.paid, inv.id
            assert (inv.status == "paid") == (inv.balance == 0), inv.id
    for p in payments:  # same-currency payments: what is allocated plus what is left is the amount
        assert p.unallocated + per_payment.get(p.id, Decimal(0)).quantize(CENT) <= p.amount, p.id


async def test_one_exchange_rate_in_force(ctx: AppContext) -> None:
    now = dt.datetime.now(dt.UTC)
    async with ctx.db.session() as s:
        rates = (
            await s.execute(
                select(ExchangeRate.rate, ExchangeRate.effective_from).order_by(
                    ExchangeRate.effective_from.desc()
                )
            )
        ).all()
    in_force = [r for r in rates if r.effective_from <= now]
    assert in_force, "no rate in force"
    assert len({r.effective_from for r in rates}) == len(rates)
    assert Decimal(1300) <= in_force[0].rate <= Decimal(1330)


async def test_salesperson1_has_a_working_day(ctx: AppContext) -> None:
    today = dt.datetime.now(BAGHDAD).date()
    async with ctx.db.session() as s:
        sp = (await s.execute(select(User.id).where(User.email == "salesperson1@demo.tsh.iq"))).scalar_one()

        async def count(stmt: object) -> int:
            return int((await s.execute(stmt)).scalar_one())  # type: ignore[call-overload]

        assert (
            await count(select(func.count()).select_from(Customer).where(Customer.salesperson_id == sp)) >= 5
        )
        assert await count(select(func.count()).select_from(Order).where(Order.salesperson_id == sp)) >= 50
        assert (
            await count(
                select(func.count()).select_from(Visit).where(Visit.salesperson_id == sp, Visit.date == today)
            )
            >= 1
        )
        assert (
            await count(
                select(func.count())
                .select_from(Target)
                .where(Target.salesperson_id == sp, Target.year == today.year, Target.month == today.month)
            )
            == 1
        )
        # Every active product has a price on the consumer list and stock rows in the main warehouses.
        assert await count(select(func.count()).select_from(Product).where(Product.is_active)) >= 400


async def test_closed_shift_drawers_match_their_movements(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        shifts = (
            await s.execute(
                select(Shift.id, Shift.expected_cash_iqd, Shift.expected_cash_usd).where(
                    Shift.status == "closed"
                )
            )
        ).all()
        drawer: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        for sid, cur, amount in (
            await s.execute(
                select(CashMovement.shift_id, CashMovement.currency, func.sum(CashMovement.amount)).group_by(
                    CashMovement.shift_id, CashMovement.currency
                )
            )
        ).tuples():
            drawer[(sid, cur)] = Decimal(str(amount)).quantize(CENT)
    assert len(shifts) > 100
    for sid, iqd, usd in shifts:
        assert iqd == drawer[(sid, "IQD")] and iqd >= 0, sid
        assert usd == drawer[(sid, "USD")] and usd >= 0, sid
