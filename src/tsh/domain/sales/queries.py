"""Read models of the field-sales screens: set-based, aggregated in SQL, no N+1.

`Sellers` says whose rows a screen shows: one salesperson, every salesperson of a branch, or every
salesperson (resolved from the calling `Actor` by `tsh.domain.sales.field`). Money is reported per
currency (IQD and USD are never added together) except where a ranking needs one figure: top
customers and products rank by IQD equivalent at the rate in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import Role, User
from tsh.domain.money import CURRENCIES, round_money, wire
from tsh.domain.sales.models import (
    UNPAID_INVOICE_STATUSES,
    Commission,
    Invoice,
    Order,
    Payment,
    Visit,
)

ZERO = Decimal(0)
DONE_VISIT = ("checked_in", "completed")


@dataclass(frozen=True)
class Sellers:
    """One salesperson (`salesperson_id`), the salespeople of `branch_id`, or every salesperson."""

    salesperson_id: int | None = None
    branch_id: int | None = None

    def clause(self, column: Any) -> ColumnElement[bool]:
        """`column` (a users.id column such as Order.salesperson_id) belongs to these sellers."""
        if self.salesperson_id is not None:
            return column == self.salesperson_id
        # An alias: never correlated with a `users` table of an enclosing statement.
        seller = aliased(User)
        sellers = select(seller.id).join(Role, Role.id == seller.role_id).where(Role.code == "salesperson")
        if self.branch_id is not None:
            sellers = sellers.where(seller.branch_id == self.branch_id)
        return column.in_(sellers)


def dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def money(value: Any, currency: str) -> dict[str, Any] | None:
    return wire(round_money(dec(value), currency), currency)


def per_currency(amounts: dict[str, Any]) -> list[dict[str, Any] | None]:
    """Both currencies, always in the same order (a stable shape for the phone)."""
    return [money(amounts.get(c, ZERO), c) for c in CURRENCIES]


def sum_if(cond: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def to_currency(amount: Any, from_cur: Any, to_cur: Any, rate: Decimal) -> Any:
    """SQL: convert `amount` from `from_cur` to `to_cur` (columns or literals) at `rate` IQD per USD."""
    return case(
        (from_cur == to_cur, amount),
        (from_cur == "USD", amount * rate),
        else_=amount / rate,
    )


def customer_figures(today: dt.date, rate: Decimal) -> dict[str, Any]:
    """Correlated per-customer figures (balance, overdue, last visit, last order) in its currency."""
    unpaid = and_(Invoice.customer_id == Customer.id, Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    inv_amount = to_currency(Invoice.balance, Invoice.currency, Customer.currency, rate)
    open_sum = select(func.coalesce(func.sum(inv_amount), 0)).where(unpaid).scalar_subquery()
    overdue = select(func.coalesce(func.sum(inv_amount), 0)).where(unpaid, Invoice.due_date < today)
    credit = select(
        func.coalesce(
            func.sum(to_currency(Payment.unallocated, Payment.currency, Customer.currency, rate)), 0
        )
    ).where(Payment.customer_id == Customer.id, Payment.unallocated > 0)
    return {
        "open": open_sum,
        "balance": (open_sum - credit.scalar_subquery()),
        "overdue": overdue.scalar_subquery(),
        "last_visit": select(func.max(Visit.date))
        .where(Visit.customer_id == Customer.id, Visit.status.in_(DONE_VISIT))
        .scalar_subquery(),
        "last_order": select(func.max(Order.placed_at))
        .where(Order.customer_id == Customer.id, Order.status != "cancelled")
        .scalar_subquery(),
    }


async def money_facts(
    session: AsyncSession,
    *,
    sellers: Sellers,
    since: dt.datetime,
    until: dt.datetime,
    month_start: dt.datetime,
    today: dt.date,
) -> dict[str, dict[str, tuple[int, Decimal, Decimal]]]:
    """One statement: payments collected in [since, until), commission accrued this month and
    receivables (outstanding, overdue) of the sellers' customers, per currency."""
    pay = select(
        literal("payments").label("kind"),
        Payment.currency.label("currency"),
        func.count().label("n"),
        func.coalesce(func.sum(Payment.amount), 0).label("a"),
        literal(0).label("b"),
    ).where(
        sellers.clause(Payment.collected_by_id), Payment.received_at >= since, Payment.received_at < until
    )
    com = select(
        literal("commission"),
        Commission.currency,
        func.count(),
        func.coalesce(func.sum(Commission.amount), 0),
        literal(0),
    ).where(
        sellers.clause(Commission.salesperson_id),
        Commission.status != "reversed",
        Commission.created_at >= month_start,
        Commission.created_at < until,
    )
    rec = (
        select(
            literal("receivables"),
            Invoice.currency,
            func.count(),
            func.coalesce(func.sum(Invoice.balance), 0),
            sum_if(Invoice.due_date < today, Invoice.balance),
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(sellers.clause(Customer.salesperson_id), Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    )
    stmt = union_all(
        pay.group_by(Payment.currency), com.group_by(Commission.currency), rec.group_by(Invoice.currency)
    )
    out: dict[str, dict[str, tuple[int, Decimal, Decimal]]] = {
        "payments": {},
        "commission": {},
        "receivables": {},
    }
    for kind, cur, n, a, b in (await session.execute(stmt)).tuples():
        out[kind][cur] = (int(n), dec(a), dec(b))
    return out


def invoice_row(inv: Any, today: dt.date) -> dict[str, Any]:
    """An open invoice as the field screens show it (`inv` has the Invoice columns)."""
    return {
        "id": inv.id,
        "number": inv.number,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "days_overdue": max((today - inv.due_date).days, 0),
        "status": inv.status,
        "total": money(inv.total, inv.currency),
        "balance": money(inv.balance, inv.currency),
    }


def _geo(lat: float | None, lng: float | None) -> dict[str, float] | None:
    return None if lat is None or lng is None else {"lat": lat, "lng": lng}


def _customer_row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "code": r.code,
        "name": r.name,
        "shop_name": r.shop_name,
        "phone": r.phone,
        "city": r.city,
        "geo": _geo(r.lat, r.lng),
        "status": r.status,
        "on_hold": r.on_hold,
        "balance": money(r.balance, r.currency),
        "overdue": money(r.overdue, r.currency),
        "last_visit_date": r.last_visit,
        "last_order_at": r.last_order,
    }


_NEVER = dt.date(1900, 1, 1)


async def customer_list(
    session: AsyncSession,
    *,
    sellers: Sellers,
    today: dt.date,
    rate: Decimal,
    limit: int,
    after: dict[str, Any] | None,
    q: str | None,
    city: str | None,
    status: str | None,
    sort: str,
) -> tuple[list[dict[str, Any]], Any]:
    """A page of the sellers' customers with their figures; returns (rows, position_of)."""
    f = customer_figures(today, rate)
    base = select(
        Customer.id,
        Customer.code,
        Customer.name,
        Customer.shop_name,
        Customer.phone,
        Customer.city,
        Customer.lat,
        Customer.lng,
        Customer.status,
        Customer.on_hold,
        Customer.currency,
        f["balance"].label("balance"),
        f["overdue"].label("overdue"),
        f["last_visit"].label("last_visit"),
        f["last_order"].label("last_order"),
    ).where(sellers.clause(Customer.salesperson_id))
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        base = base.where(
            Customer.name.ilike(like, escape="\\")
            | Customer.phone.like(like, escape="\\")
            | Customer.code.ilike(like, escape="\\")
            | Customer.shop_name.ilike(like, escape="\\")
        )
    if city:
        base = base.where(func.lower(Customer.city) == city.lower())
    if status == "active":
        base = base.where(Customer.status == "active")
    elif status == "inactive":
        base = base.where(Customer.status != "active")
    elif status == "on_hold":
        base = base.where(Customer.on_hold.is_(True))
    sq = base.subquery()
    stmt = select(sq)
    if status == "overdue":
        stmt = stmt.where(sq.c.overdue > 0)
    key: Any
    if sort == "balance":
        key = sq.c.balance
        order = (key.desc(), sq.c.id)
    elif sort == "last_visit":
        key = func.coalesce(sq.c.last_visit, _NEVER)
        order = (key, sq.c.id)
    else:
        key = sq.c.name
        order = (key, sq.c.id)
    if after is not None:
        k = after["k"]
        value: Any = (
            Decimal(k) if sort == "balance" else dt.date.fromisoformat(k) if sort == "last_visit" else k
        )
        if sort == "balance":
            stmt = stmt.where((key < value) | ((key == value) & (sq.c.id > after["id"])))
        else:
            stmt = stmt.where((key > value) | ((key == value) & (sq.c.id > after["id"])))
    rows = (await session.execute(stmt.order_by(*order).limit(limit + 1))).all()

    def position(item: dict[str, Any]) -> dict[str, Any]:
        if sort == "balance":
            k = item["balance"]["amount"]
        elif sort == "last_visit":
            k = (item["last_visit_date"] or _NEVER).isoformat()
        else:
            k = item["name"]
        return {"k": k, "id": item["id"]}

    return [_customer_row(r) for r in rows], position


AGING = (("0_30", 0, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("90_plus", 91, None))


async def customer_360(
    session: AsyncSession, *, customer: Customer, today: dt.date, rate: Decimal
) -> dict[str, Any]:
    """Profile, addresses, price list, credit, aging, open invoices, last orders/payments/visits."""
    from tsh.domain.catalog.models import PriceList
    from tsh.domain.customers.models import Address

    cid, cur = customer.id, customer.currency
    price_list = (
        await session.execute(
            select(PriceList.id, PriceList.name, PriceList.currency).where(
                PriceList.id == customer.price_list_id
            )
        )
    ).first()
    addresses = (
        await session.execute(select(Address).where(Address.customer_id == cid).order_by(Address.id))
    ).scalars()
    invoices = (
        await session.execute(
            select(
                Invoice.id,
                Invoice.number,
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.status,
                Invoice.total,
                Invoice.balance,
                Invoice.currency,
            )
            .where(Invoice.customer_id == cid, Invoice.status.in_(UNPAID_INVOICE_STATUSES))
            .order_by(Invoice.due_date, Invoice.id)
        )
    ).all()
    aging = dict.fromkeys((name for name, _, _ in AGING), ZERO)
    used = ZERO
    for inv in invoices:
        amount = (
            dec(inv.balance)
            if inv.currency == cur
            else dec(inv.balance * rate if inv.currency == "USD" else inv.balance / rate)
        )
        used += amount
        late = max((today - inv.due_date).days, 0)
        bucket = next(name for name, lo, hi in AGING if late >= lo and (hi is None or late <= hi))
        aging[bucket] += amount
    orders = (
        await session.execute(
            select(
                Order.id,
                Order.number,
                Order.placed_at,
                Order.status,
                Order.payment_status,
                Order.total,
                Order.currency,
            )
            .where(Order.customer_id == cid)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(10)
        )
    ).all()
    payments = (
        await session.execute(
            select(
                Payment.id,
                Payment.number,
                Payment.received_at,
                Payment.method,
                Payment.amount,
                Payment.currency,
            )
            .where(Payment.customer_id == cid)
            .order_by(Payment.received_at.desc(), Payment.id.desc())
            .limit(5)
        )
    ).all()
    visits = (
        await session.execute(
            select(Visit.id, Visit.date, Visit.status, Visit.outcome, Visit.verified, Visit.check_in_at)
            .where(Visit.customer_id == cid)
            .order_by(Visit.date.desc(), Visit.id.desc())
            .limit(5)
        )
    ).all()
    return {
        "profile": {
            "id": cid,
            "code": customer.code,
            "name": customer.name,
            "shop_name": customer.shop_name,
            "phone": customer.phone,
            "email": customer.email,
            "city": customer.city,
            "type": customer.type,
            "geo": _geo(customer.lat, customer.lng),
            "status": customer.status,
            "on_hold": customer.on_hold,
            "hold_reason": customer.hold_reason,
            "notes": customer.notes,
            "currency": cur,
            "payment_terms_days": customer.payment_terms_days,
        },
        "addresses": [
            {
                "id": a.id,
                "label": a.label,
                "city": a.city,
                "district": a.district,
                "street": a.street,
                "landmark": a.landmark,
                "phone": a.phone,
                "geo": _geo(a.lat, a.lng),
                "is_default": a.is_default,
            }
            for a in addresses
        ],
        "price_list": None
        if price_list is None
        else {"id": price_list.id, "name": price_list.name, "currency": price_list.currency},
        "credit": {
            "limit": money(customer.credit_limit, cur),
            "used": money(used, cur),
            "available": money(max(customer.credit_limit - used, ZERO), cur),
        },
        "aging": {name: money(v, cur) for name, v in aging.items()},
        "open_invoices": [invoice_row(inv, today) | {"currency": inv.currency} for inv in invoices],
        "last_orders": [
            {
                "id": o.id,
                "number": o.number,
                "placed_at": o.placed_at,
                "status": o.status,
                "payment_status": o.payment_status,
                "total": money(o.total, o.currency),
            }
            for o in orders
        ],
        "last_payments": [
            {
                "id": p.id,
                "number": p.number,
                "received_at": p.received_at,
                "method": p.method,
                "amount": money(p.amount, p.currency),
            }
            for p in payments
        ],
        "last_visits": [
            {
                "id": v.id,
                "date": v.date,
                "status": v.status,
                "outcome": v.outcome,
                "verified": v.verified,
                "check_in_at": v.check_in_at,
            }
            for v in visits
        ],
    }
