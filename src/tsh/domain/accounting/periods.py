"""Closing and reopening fiscal periods (back office: accountant closes, admin reopens).

Periods close in order: the closed months are always the earliest ones, so closing needs every
earlier period closed (409 PREVIOUS_PERIOD_OPEN) and reopening needs every later one open
(409 LATER_PERIOD_CLOSED). Closing December posts the year-end closing entry moving the year's
revenue and expense balances (base IQD) to retained earnings; reopening it reverses that entry.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.accounting.models import Account, FiscalPeriod, JournalEntry, JournalLine
from tsh.domain.events import raise_event
from tsh.platform.errors import Conflict, NotFound, field_error

PeriodStatus = Literal["open", "closed"]


def _before(p: FiscalPeriod) -> object:
    return or_(FiscalPeriod.year < p.year, and_(FiscalPeriod.year == p.year, FiscalPeriod.month < p.month))


def _after(p: FiscalPeriod) -> object:
    return or_(FiscalPeriod.year > p.year, and_(FiscalPeriod.year == p.year, FiscalPeriod.month > p.month))


async def _blocking(session: AsyncSession, where: object, status: str) -> list[FiscalPeriod]:
    return list(
        await session.scalars(
            select(FiscalPeriod)
            .where(where, FiscalPeriod.status == status)  # type: ignore[arg-type]
            .order_by(FiscalPeriod.year, FiscalPeriod.month)
        )
    )


def _listed(periods: list[FiscalPeriod]) -> list[dict[str, object]]:
    return [field_error("status", p.status, id=p.id, year=p.year, month=p.month) for p in periods]


async def _year_end_entry(session: AsyncSession, year: int, by_user_id: int, period_id: int) -> int | None:
    """Post the closing entry of `year` (None when revenue and expenses are all zero)."""
    balance = func.sum(JournalLine.base_debit - JournalLine.base_credit)
    rows = (
        await session.execute(
            select(JournalLine.account_id, balance)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .join(Account, Account.id == JournalLine.account_id)
            .where(
                Account.type.in_(("revenue", "expense")),
                JournalEntry.date >= date(year, 1, 1),
                JournalEntry.date <= date(year, 12, 31),
            )
            .group_by(JournalLine.account_id)
            .order_by(JournalLine.account_id)
        )
    ).all()
    lines: list[posting.Line] = []
    net = Decimal(0)
    for account_id, bal in rows:
        bal = Decimal(bal or 0)
        if bal > 0:
            lines.append(posting.Line(account_id, credit=bal, memo="Year-end closing"))
        elif bal < 0:
            lines.append(posting.Line(account_id, debit=-bal, memo="Year-end closing"))
        net += bal
    if not lines:
        return None
    if net > 0:  # expenses exceed revenue: the loss reduces retained earnings
        lines.append(posting.Line("retained_earnings", debit=net, memo="Net result of the year"))
    elif net < 0:
        lines.append(posting.Line("retained_earnings", credit=-net, memo="Net result of the year"))
    entry = await posting.post_entry(
        session,
        journal="GEN",
        entry_date=date(year, 12, 31),
        currency="IQD",
        lines=lines,
        memo=f"Year-end closing {year}",
        source_type="fiscal_period",
        source_id=period_id,
        branch_id=None,
        posted_by_id=by_user_id,
    )
    return entry.id


async def set_period_status(
    session: AsyncSession, *, period_id: int, status: PeriodStatus, note: str | None, by_user_id: int
) -> FiscalPeriod:
    """Close (`closed`) or reopen (`open`) a period. Who may do which is the caller's rule.

    409 INVALID_TRANSITION when already in that status; 409 PREVIOUS_PERIOD_OPEN (lists them);
    409 LATER_PERIOD_CLOSED (lists them). Emits LedgerSetupChanged, and JournalPosted when a
    year-end closing entry is posted or reversed. Never commits.
    """
    period = await session.scalar(select(FiscalPeriod).where(FiscalPeriod.id == period_id).with_for_update())
    if period is None:
        raise NotFound("Fiscal period not found", code="NOT_FOUND")
    if period.status == status:
        raise Conflict(f"The period is already {status}", code="INVALID_TRANSITION")
    if status == "closed":
        earlier = await _blocking(session, _before(period), "open")
        if earlier:
            raise Conflict(
                "An earlier period is still open", code="PREVIOUS_PERIOD_OPEN", details=_listed(earlier)
            )
        if period.month == 12:
            period.closing_entry_id = await _year_end_entry(session, period.year, by_user_id, period.id)
        period.status = "closed"
        period.closed_by_id = by_user_id
        period.closed_at = datetime.now(UTC)
    else:
        later = await _blocking(session, _after(period), "closed")
        if later:
            raise Conflict(
                "A later period is closed; reopen it first",
                code="LATER_PERIOD_CLOSED",
                details=_listed(later),
            )
        period.status = "open"
        if period.closing_entry_id is not None:
            await posting.reverse_entry(
                session,
                entry_id=period.closing_entry_id,
                entry_date=date(period.year, 12, 31),
                posted_by_id=by_user_id,
                memo=f"Year {period.year} reopened",
            )
            period.closing_entry_id = None
        period.closed_by_id = None
        period.closed_at = None
    if note is not None:
        period.note = note
    await session.flush()
    raise_event(session, "LedgerSetupChanged", everyone=True, fiscal_period_id=period.id)
    return period
