"""Manual journal entries (ACC-08) and their reversal (ACC-09).

Posting itself (balance in currency and base, periods, numbering, filed tax periods) is
`posting.post_entry`; this module adds who may post what: manual entries go to the general
journal, line branches and customers must exist, and only manual entries are reversed here
(entries of invoices, payments, POS, payroll or stock are corrected through their document).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.accounting.models import FiscalPeriod, JournalEntry
from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer
from tsh.domain.organisation.models import Branch
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error


async def _check_refs(session: AsyncSession, lines: Sequence[posting.Line]) -> None:
    branches = {ln.branch_id for ln in lines if ln.branch_id is not None}
    customers = {ln.customer_id for ln in lines if ln.customer_id is not None}
    if branches:
        found = set(await session.scalars(select(Branch.id).where(Branch.id.in_(branches))))
        missing = [
            field_error(f"lines[{i}].branch_id", "not found")
            for i, ln in enumerate(lines)
            if ln.branch_id is not None and ln.branch_id not in found
        ]
        if missing:
            raise NotFound("Branch not found", code="BRANCH_NOT_FOUND", details=missing)
    if customers:
        found = set(await session.scalars(select(Customer.id).where(Customer.id.in_(customers))))
        missing = [
            field_error(f"lines[{i}].customer_id", "not found")
            for i, ln in enumerate(lines)
            if ln.customer_id is not None and ln.customer_id not in found
        ]
        if missing:
            raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND", details=missing)


async def post_manual_entry(
    session: AsyncSession,
    actor: Actor,
    *,
    entry_date: date,
    memo: str,
    currency: str,
    exchange_rate: Decimal | None,
    lines: Sequence[posting.Line],
    reference: str | None,
) -> JournalEntry:
    """Post to the general journal (GEN) at the given rate, or the rate in force on the date.

    422 UNBALANCED_ENTRY, TOO_FEW_LINES, INVALID_LINE, INVALID_AMOUNT, ACCOUNT_NOT_POSTABLE,
    ACCOUNT_INACTIVE; 404 ACCOUNT_NOT_FOUND, BRANCH_NOT_FOUND, CUSTOMER_NOT_FOUND; 409
    PERIOD_CLOSED, TAX_PERIOD_FILED, NO_EXCHANGE_RATE. Emits JournalPosted. Never commits.
    """
    await _check_refs(session, lines)
    return await posting.post_entry(
        session,
        journal="GEN",
        entry_date=entry_date,
        currency=currency,
        lines=lines,
        memo=memo,
        source_type="manual",
        source_id=None,
        branch_id=None,
        posted_by_id=actor.user_id,
        exchange_rate=exchange_rate,
        reference=reference,
    )


async def reverse_manual_entry(
    session: AsyncSession, actor: Actor, *, entry_id: int, entry_date: date, reason: str
) -> JournalEntry:
    """Post the mirror entry of a manual entry on `entry_date` and mark the entry reversed.

    404 NOT_FOUND; 409 ALREADY_REVERSED; 409 PERIOD_CLOSED (the reversal's date); 422
    SYSTEM_ENTRY for entries of source documents, and for reversal entries themselves (a
    reversal is corrected by a new entry); 422 VALIDATION_ERROR for a date before the entry's;
    409 TAX_PERIOD_FILED. Emits JournalPosted. Never commits.
    """
    entry = await session.scalar(select(JournalEntry).where(JournalEntry.id == entry_id).with_for_update())
    if entry is None:
        raise NotFound("Journal entry not found", code="NOT_FOUND")
    if entry.status == "reversed":
        raise Conflict(f"Entry {entry.number} is already reversed", code="ALREADY_REVERSED")
    status = await session.scalar(
        select(FiscalPeriod.status).where(
            FiscalPeriod.year == entry_date.year, FiscalPeriod.month == entry_date.month
        )
    )
    if status == "closed":
        raise Conflict(f"The period {entry_date:%Y-%m} is closed", code="PERIOD_CLOSED")
    if entry.source_type != "manual":
        raise Invalid(
            "Entries of source documents are corrected through their document",
            code="SYSTEM_ENTRY",
            details=[
                field_error("id", "system entry", source_type=entry.source_type, source_id=entry.source_id)
            ],
        )
    if entry_date < entry.date:
        raise Invalid(
            details=[field_error("date", "before the date of the entry", entry_date=str(entry.date))]
        )
    return await posting.reverse_entry(
        session,
        entry_id=entry.id,
        entry_date=entry_date,
        posted_by_id=actor.user_id,
        memo=f"Reversal of {entry.number}: {reason}",
    )
