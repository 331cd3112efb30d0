"""Bank reconciliation state of the demo books, made with the accounting services themselves
(after the bulk rows are written), so the screens show what the app would have produced:

- the IQD (Rafidain) statement: its older lines matched one to one with their book lines and a
  reconciliation closed at the last day up to which everything is matched; the last days, the
  maintenance fee among them, stay open for the workspace (ACC-19);
- the USD (Trade Bank) statement: imported from the USD bank account's recent book lines with
  their entry numbers as references, so the import's auto-match pairs them (ACC-18).
Runs once on the seeded data: a few hundred rows, well under a second.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import BankAccount, JournalEntry, JournalLine, StatementLine
from tsh.domain.actor import Actor
from tsh.domain.finance import bank as reconciliation

# Lines dated in the last days of the statement stay unmatched (the open workspace).
OPEN_DAYS = 6
STATEMENT_DAYS = 25


async def generate(
    session: AsyncSession, *, accountant_id: int, bank_ids: dict[str, int], today: dt.date
) -> None:
    actor = Actor.system(accountant_id)
    iqd = bank_ids.get("bank_iqd")
    if iqd is not None:
        await _match_and_close(session, actor, iqd, today)
    usd = bank_ids.get("bank_usd")
    if usd is not None:
        await _import_usd(session, actor, usd, today)


async def _match_and_close(session: AsyncSession, actor: Actor, bank_id: int, today: dt.date) -> None:
    bank = await session.get(BankAccount, bank_id)
    assert bank is not None
    cutoff = today - dt.timedelta(days=OPEN_DAYS)
    lines = list(
        await session.scalars(
            select(StatementLine)
            .where(
                StatementLine.bank_account_id == bank_id,
                StatementLine.match_id.is_(None),
                StatementLine.date <= cutoff,
            )
            .order_by(StatementLine.date, StatementLine.id)
        )
    )
    if not lines:
        return
    candidates = await reconciliation.book_candidates(
        session, bank, lines[0].date - dt.timedelta(days=3), cutoff + dt.timedelta(days=3)
    )
    used: set[int] = set()
    last_all_matched: dt.date | None = None
    gap = False
    for st in lines:
        hits = [
            ln
            for ln, day, _n, _r in candidates
            if ln.id not in used and ln.debit - ln.credit == st.amount and abs((day - st.date).days) <= 3
        ]
        if len(hits) >= 1:
            used.add(hits[0].id)
            await reconciliation.match_lines(
                session,
                actor,
                bank_account_id=bank_id,
                statement_line_ids=[st.id],
                journal_line_ids=[hits[0].id],
                difference_account_id=None,
            )
            if not gap:
                last_all_matched = st.date
        else:
            gap = True
    if last_all_matched is None:
        return
    # Close on the day before the first day with a line still open, so the closure holds.
    day = last_all_matched - dt.timedelta(days=1)
    open_left = await session.scalar(
        select(StatementLine.id).where(
            StatementLine.bank_account_id == bank_id,
            StatementLine.match_id.is_(None),
            StatementLine.date <= day,
        )
    )
    if open_left is not None or day < lines[0].date:
        return
    balance = await reconciliation.book_balance(session, bank, day) - await reconciliation.outstanding(
        session, bank, day
    )
    await reconciliation.close_reconciliation(
        session,
        actor,
        bank_account_id=bank_id,
        statement_date=day,
        statement_balance=balance,
        currency=bank.currency,
    )


async def _import_usd(session: AsyncSession, actor: Actor, bank_id: int, today: dt.date) -> None:
    bank = await session.get(BankAccount, bank_id)
    assert bank is not None
    rows = await session.execute(
        select(
            JournalEntry.date, JournalEntry.number, JournalEntry.memo, JournalLine.debit, JournalLine.credit
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account_id == bank.account_id,
            JournalEntry.date >= today - dt.timedelta(days=STATEMENT_DAYS),
            JournalEntry.date <= today,
        )
        .order_by(JournalEntry.date, JournalLine.id)
    )
    lines = [
        reconciliation.NewStatementLine(day, Decimal(d) - Decimal(c), "USD", (memo or number)[:200], number)
        for day, number, memo, d, c in rows
    ]
    if lines:
        await reconciliation.import_lines(session, actor, bank_account_id=bank_id, lines=lines)
