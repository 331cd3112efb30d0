"""Payout requests of a partner (PAR-10); approval and payment are back-office (sales.payouts).

The payable balance of a currency is Σ the partner's commissions in status `payable` in it (paid
out through approved requests, oldest first). Each currency is requested separately, with a
minimum of 25,000 IQD or its USD equivalent at the rate in force (clarifications.md). The partner
row is locked first, so two concurrent requests serialise: the second sees the first as pending
(the partial unique index on open requests is the backstop).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.actor import Actor
from tsh.domain.customers.models import Partner
from tsh.domain.events import raise_event
from tsh.domain.money import convert, round_money, wire
from tsh.domain.partners.reads import partner_of
from tsh.domain.sales.models import OPEN_PAYOUT_STATUSES, Commission, CommissionPayout
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, field_error

MIN_PAYOUT_IQD = Decimal(25_000)


async def payable_balance(session: AsyncSession, partner_id: int, currency: str) -> Decimal:
    value = await session.scalar(
        select(func.coalesce(func.sum(Commission.amount), 0)).where(
            Commission.partner_id == partner_id,
            Commission.status == "payable",
            Commission.currency == currency,
        )
    )
    return round_money(Decimal(value or 0), currency)


async def request_payout(
    session: AsyncSession, actor: Actor, *, amount: Decimal, currency: str
) -> CommissionPayout:
    """409 INSUFFICIENT_BALANCE above the payable balance; 422 BELOW_MINIMUM_PAYOUT; 409
    PAYOUT_PENDING (one open request); 409 PAYOUT_DETAILS_COOLDOWN within 48 h of a payout-details
    change; 409 PARTNER_SUSPENDED. Emits CommissionChanged."""
    own = await partner_of(session, actor)
    partner = (
        await session.execute(
            select(Partner)
            .where(Partner.id == own.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    now = utcnow()
    balance = await payable_balance(session, partner.id, currency)
    if amount > balance:
        raise Conflict(
            "The amount is above the payable commission",
            code="INSUFFICIENT_BALANCE",
            details=[
                field_error("amount", "above the payable balance", available=str(balance), currency=currency)
            ],
        )
    minimum = (
        MIN_PAYOUT_IQD
        if currency == "IQD"
        else convert(MIN_PAYOUT_IQD, "IQD", currency, await posting.rate_in_force(session, now))
    )
    if amount < minimum:
        raise Invalid(
            "The amount is below the minimum payout",
            code="BELOW_MINIMUM_PAYOUT",
            details=[
                field_error("amount", "below the minimum payout", minimum=str(minimum), currency=currency)
            ],
        )
    pending = await session.scalar(
        select(CommissionPayout.id).where(
            CommissionPayout.partner_id == partner.id, CommissionPayout.status.in_(OPEN_PAYOUT_STATUSES)
        )
    )
    if pending is not None:
        raise Conflict("A payout request is already open", code="PAYOUT_PENDING")
    if partner.payout_locked_until is not None and partner.payout_locked_until > now:
        raise Conflict(
            "Payout details changed less than 48 hours ago",
            code="PAYOUT_DETAILS_COOLDOWN",
            details=[
                field_error(
                    "amount", "payout requests reopen later", until=partner.payout_locked_until.isoformat()
                )
            ],
        )
    if partner.status == "suspended":
        raise Conflict("The partner is suspended", code="PARTNER_SUSPENDED")
    payout = CommissionPayout(
        partner_id=partner.id,
        amount=amount,
        currency=currency,
        method=partner.payout_method,
        payout_account=partner.payout_account,
        status="requested",
        requested_at=now,
    )
    session.add(payout)
    await session.flush()
    raise_event(session, "CommissionChanged", partners=[partner.id], branches=[partner.branch_id])
    return payout


async def payout_view(session: AsyncSession, payout: CommissionPayout) -> dict[str, Any]:
    assert payout.partner_id is not None
    balance = await payable_balance(session, payout.partner_id, payout.currency)
    return {
        "id": payout.id,
        "amount": wire(payout.amount, payout.currency),
        "status": payout.status,
        "method": payout.method,
        "requested_at": payout.requested_at,
        "payable_balance": wire(balance, payout.currency),
    }
