"""Back-office decisions on commission payouts (PAR-10 requests; approval and payment here).

requested → approved | rejected; approved → paid | rejected; rejected and paid are final.
Paying posts commission_payable against cash or bank and marks payable commissions paid, oldest
first; a commission only partly covered is split (the paid part keeps the row, the rest stays
payable on a new row), as partial returns split accrued ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.accounting.models import BankAccount
from tsh.domain.customers.models import Partner
from tsh.domain.events import raise_event
from tsh.domain.identity.models import User
from tsh.domain.money import round_money
from tsh.domain.sales.models.field import Commission, CommissionPayout
from tsh.domain.shared import business_today
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

PayoutDecision = Literal["approved", "rejected", "paid"]
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"approved", "rejected"}),
    "approved": frozenset({"paid", "rejected"}),
}


async def _credit_account(
    session: AsyncSession, payout: CommissionPayout, bank_account_id: int | None
) -> int:
    """The account the money leaves: the named bank account, else cash for cash_at_branch (or no
    method, salespeople), else the company bank account of the currency."""
    if bank_account_id is not None:
        bank = await session.get(BankAccount, bank_account_id)
        if bank is None or not bank.is_active:
            raise Invalid(details=[field_error("bank_account_id", "unknown or inactive bank account")])
        if bank.currency != payout.currency:
            raise Invalid(
                "The bank account is in another currency",
                code="CURRENCY_MISMATCH",
                details=[field_error("bank_account_id", "currency differs from the payout's")],
            )
        return bank.account_id
    cur = payout.currency.lower()
    key = f"cash_{cur}" if payout.method in (None, "cash_at_branch") else f"bank_{cur}"
    return await posting.account_id(session, key)


async def _settle_commissions(session: AsyncSession, payout: CommissionPayout, now: datetime) -> int:
    """Mark payable commissions paid up to the payout amount; 409 INSUFFICIENT_BALANCE."""
    owner = (
        Commission.partner_id == payout.partner_id
        if payout.partner_id is not None
        else Commission.salesperson_id == payout.salesperson_id
    )
    rows = list(
        await session.scalars(
            select(Commission)
            .where(
                owner,
                Commission.status == "payable",
                Commission.currency == payout.currency,
                Commission.payout_id.is_(None),
                Commission.payroll_run_id.is_(None),
            )
            .order_by(Commission.payable_at, Commission.id)
            .with_for_update()
        )
    )
    available = sum((c.amount for c in rows), Decimal(0))
    if available < payout.amount:
        raise Conflict(
            "The payable commission balance is below the payout amount",
            code="INSUFFICIENT_BALANCE",
            details=[field_error("amount", "above the payable balance", available=str(available))],
        )
    left = payout.amount
    marked = 0
    for c in rows:
        if left <= 0:
            break
        if c.amount > left:
            rest = c.amount - left
            rest_base = round_money(c.base_amount * rest / c.amount, c.currency) if c.amount else Decimal(0)
            session.add(
                Commission(
                    salesperson_id=c.salesperson_id,
                    partner_id=c.partner_id,
                    kind=c.kind,
                    order_id=c.order_id,
                    base_amount=rest_base,
                    rate=c.rate,
                    amount=rest,
                    currency=c.currency,
                    status="payable",
                    payable_at=c.payable_at,
                )
            )
            c.base_amount = c.base_amount - rest_base
            c.amount = left
        left -= c.amount
        c.status, c.paid_at, c.payout_id = "paid", now, payout.id
        marked += 1
    return marked


async def decide_payout(
    session: AsyncSession,
    *,
    payout_id: int,
    status: PayoutDecision,
    note: str | None,
    by_user_id: int,
    bank_account_id: int | None = None,
) -> CommissionPayout:
    """Move a payout along its state machine (409 INVALID_TRANSITION otherwise).

    Paid: 409 INSUFFICIENT_BALANCE when the payable commissions no longer cover the amount; posts
    the BNK entry (commission_payable / cash or bank, 409 PERIOD_CLOSED) and marks the commissions
    paid. Emits CommissionChanged, and JournalPosted (from the posting) only when paid.
    """
    payout = await session.scalar(
        select(CommissionPayout).where(CommissionPayout.id == payout_id).with_for_update()
    )
    if payout is None:
        raise NotFound("Payout not found", code="NOT_FOUND")
    if status not in TRANSITIONS.get(payout.status, frozenset()):
        raise Conflict(
            f"A {payout.status} payout cannot become {status}",
            code="INVALID_TRANSITION",
            details=[field_error("status", "not allowed from the current status", current=payout.status)],
        )
    now = datetime.now(UTC)
    if payout.partner_id is not None:
        branch_id = await session.scalar(select(Partner.branch_id).where(Partner.id == payout.partner_id))
    else:
        branch_id = await session.scalar(select(User.branch_id).where(User.id == payout.salesperson_id))
    if status == "paid":
        credit = await _credit_account(session, payout, bank_account_id)
        await _settle_commissions(session, payout, now)
        entry = await posting.post_entry(
            session,
            journal="BNK",
            entry_date=business_today(now),
            currency=payout.currency,
            lines=[
                posting.Line("commission_payable", debit=payout.amount, branch_id=branch_id),
                posting.Line(credit, credit=payout.amount, branch_id=branch_id),
            ],
            memo=f"Commission payout #{payout.id}",
            source_type="commission_payout",
            source_id=payout.id,
            branch_id=branch_id,
            posted_by_id=by_user_id,
        )
        payout.journal_entry_id = entry.id
        payout.paid_at = now
    else:
        payout.decided_by_id = by_user_id
        payout.decided_at = now
    if note is not None:
        payout.decision_note = note
    payout.status = status
    await session.flush()
    raise_event(
        session,
        "CommissionChanged",
        users=[payout.salesperson_id],
        partners=[payout.partner_id],
        branches=[branch_id],
        payout_id=payout.id,
    )
    return payout
