"""The wholesale account of the caller: who it is, its credit position, holds and credit requests.

A wholesale account is a Customer of type `wholesale`; `own` scope means the customer linked to the
calling user (several users may share one account). Credit used = Σ open/partial invoice balances
(in the account currency), available = limit − used. The account is on hold when the back office
set the flag (`manual`), when its oldest overdue invoice is more than 30 days past due (`overdue`)
or when credit used exceeds the limit (`over_limit`); screens show every reason that applies.
A held account may browse and pay but not order nor ask for credit (409 ACCOUNT_ON_HOLD).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer
from tsh.domain.events import raise_event
from tsh.domain.money import ZERO, round_money, wire
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice
from tsh.domain.sales.ordering import credit_used
from tsh.domain.shared import business_today
from tsh.domain.wholesale.models import CreditRequest
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

HOLD_AFTER_DAYS_OVERDUE = 30
# Aging buckets by days past due (0 = not yet due).
AGING = (("current", None, 0), ("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("over_90", 91, None))


async def account_of(session: AsyncSession, actor: Actor, *, lock: bool = False) -> Customer:
    """The wholesale customer linked to the caller; 404 ACCOUNT_MISSING when there is none."""
    if actor.customer_id is None:
        raise NotFound("This user is not linked to a wholesale account", code="ACCOUNT_MISSING")
    stmt = select(Customer).where(Customer.id == actor.customer_id, Customer.type == "wholesale")
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    customer = await session.scalar(stmt)
    if customer is None:
        raise NotFound("This user is not linked to a wholesale account", code="ACCOUNT_MISSING")
    return customer


async def _oldest_overdue_days(session: AsyncSession, customer_id: int, today: dt.date) -> int:
    oldest = await session.scalar(
        select(func.min(Invoice.due_date)).where(
            Invoice.customer_id == customer_id,
            Invoice.status.in_(UNPAID_INVOICE_STATUSES),
            Invoice.due_date < today,
        )
    )
    return (today - oldest).days if oldest is not None else 0


async def credit_summary(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    """Limit, used, available and the hold (flag and every reason), in the account currency."""
    cur = customer.currency
    today = business_today()
    used = round_money(await credit_used(session, customer_id=customer.id, currency=cur), cur)
    limit = round_money(customer.credit_limit, cur)
    overdue_days = await _oldest_overdue_days(session, customer.id, today)
    reasons = []
    if customer.on_hold:
        reasons.append({"code": "manual", "note": customer.hold_reason})
    if overdue_days > HOLD_AFTER_DAYS_OVERDUE:
        reasons.append({"code": "overdue", "note": f"oldest overdue invoice {overdue_days} days past due"})
    if used > limit:
        reasons.append({"code": "over_limit", "note": "credit used exceeds the credit limit"})
    return {
        "currency": cur,
        "credit_limit": wire(limit, cur),
        "credit_used": wire(used, cur),
        "available": wire(max(limit - used, ZERO), cur),
        "hold": {"on_hold": bool(reasons), "reasons": reasons},
        "oldest_overdue_days": overdue_days,
    }


def ensure_not_on_hold(summary: dict[str, Any]) -> None:
    """409 ACCOUNT_ON_HOLD with the reasons when the summary shows a hold."""
    if summary["hold"]["on_hold"]:
        raise Conflict(
            "The account is on hold",
            code="ACCOUNT_ON_HOLD",
            details=[field_error("account", r["code"]) for r in summary["hold"]["reasons"]],
        )


def _bucket(days_past_due: int) -> str:
    for name, low, high in AGING:
        if (low is None or days_past_due >= low) and (high is None or days_past_due <= high):
            return name
    return "over_90"


async def credit_position(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """WHO-12: credit figures, aging buckets, overdue invoices, terms, hold and credit requests."""
    customer = await account_of(session, actor)
    summary = await credit_summary(session, customer)
    today = business_today()
    cur = customer.currency
    unpaid = (
        await session.execute(
            select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.due_date, Invoice.total)
            .add_columns(Invoice.balance, Invoice.currency)
            .where(Invoice.customer_id == customer.id, Invoice.status.in_(UNPAID_INVOICE_STATUSES))
            .order_by(Invoice.due_date, Invoice.id)
        )
    ).all()
    buckets = {name: Decimal(0) for name, _, _ in AGING}
    overdue = []
    for iid, number, issued, due, total, balance, inv_cur in unpaid:
        days = max((today - due).days, 0)
        if inv_cur == cur:
            buckets[_bucket(days)] += Decimal(balance)
        if days > 0:
            overdue.append(
                {
                    "id": iid,
                    "number": number,
                    "issue_date": issued,
                    "due_date": due,
                    "days_overdue": days,
                    "total": wire(Decimal(total), inv_cur),
                    "balance": wire(Decimal(balance), inv_cur),
                }
            )
    requests = (
        await session.scalars(
            select(CreditRequest)
            .where(CreditRequest.customer_id == customer.id)
            .order_by(CreditRequest.created_at.desc(), CreditRequest.id.desc())
            .limit(20)
        )
    ).all()
    return {
        **{k: v for k, v in summary.items() if k != "oldest_overdue_days"},
        "payment_terms_days": customer.payment_terms_days,
        "aging": [{"bucket": name, "amount": wire(buckets[name], cur)} for name, _, _ in AGING],
        "overdue_invoices": overdue,
        "credit_requests": [request_row(r) for r in requests],
    }


def request_row(r: CreditRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "requested_limit": wire(r.requested_limit, r.currency),
        "current_limit": wire(r.current_limit, r.currency),
        "reason": r.reason,
        "status": r.status,
        "note": r.note,
        "requested_at": r.created_at,
        "decided_at": r.decided_at,
    }


async def request_credit(
    session: AsyncSession, actor: Actor, *, requested_limit: Decimal, currency: str, reason: str
) -> CreditRequest:
    """WHO-13: ask for a higher credit limit (decided in the back office).

    Rules in the contract's order: 409 REQUEST_PENDING (one open request), 422 NOT_HIGHER (not
    above the current limit; also a request in another currency than the account's), 409
    ACCOUNT_ON_HOLD. The customer row is locked first so two concurrent requests serialise (the
    partial unique index is the backstop). Emits CreditChanged.
    """
    customer = await account_of(session, actor, lock=True)
    pending = await session.scalar(
        select(CreditRequest.id).where(
            CreditRequest.customer_id == customer.id, CreditRequest.status == "pending"
        )
    )
    if pending is not None:
        raise Conflict("A credit request is already pending", code="REQUEST_PENDING")
    if currency != customer.currency:
        raise Invalid(
            "The requested limit must be in the account currency",
            code="NOT_HIGHER",
            details=[field_error("requested_limit.currency", "must be " + customer.currency)],
        )
    if requested_limit <= customer.credit_limit:
        raise Invalid(
            "The requested limit is not above the current one",
            code="NOT_HIGHER",
            details=[
                field_error(
                    "requested_limit", "not above the current limit", current=str(customer.credit_limit)
                )
            ],
        )
    ensure_not_on_hold(await credit_summary(session, customer))
    request = CreditRequest(
        customer_id=customer.id,
        requested_limit=requested_limit,
        current_limit=customer.credit_limit,
        currency=customer.currency,
        reason=reason,
        requested_by_id=actor.user_id,
        status="pending",
    )
    session.add(request)
    await session.flush()
    raise_event(
        session,
        "CreditChanged",
        customers=[customer.id],
        branches=[customer.branch_id],
        users=[customer.salesperson_id],
        partners=[customer.partner_id],
        credit_request_id=request.id,
    )
    return request


async def supplying_branch(session: AsyncSession, actor: Actor) -> int | None:
    """The account's supplying branch: its stock and price events also concern the account's screens."""
    if actor.customer_id is None:
        return None
    return await session.scalar(select(Customer.branch_id).where(Customer.id == actor.customer_id))
