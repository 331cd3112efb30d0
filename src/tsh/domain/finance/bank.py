"""Bank reconciliation: statement import with auto-matching (ACC-18), matches with an optional
difference entry (ACC-20), undoing a match (ACC-21) and closing a reconciliation (ACC-22).

Amounts are signed in the bank account's currency: + money in, − money out. A book line's
signed amount is debit − credit (the bank's ledger account is bound to the bank's currency, so
every line of it is in that currency). Each statement line and each book line is matched at most
once (StatementLine.match_id; the unique journal_line_id of BankMatchJournalLine).

Outstanding items: book lines not on the statement yet. Only lines dated after the last closed
reconciliation (or, before the first one, from the first imported statement line on) count:
older ledger history is the statement's opening. Closing at a date needs every statement line up
to it matched and statement balance = book balance − outstanding items up to the date.

Locks: the bank account row first (serialises matching, imports and closures of one account),
then the statement lines; no other order is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import balances, posting
from tsh.domain.accounting.models import (
    Account,
    BankAccount,
    BankMatch,
    BankMatchJournalLine,
    JournalEntry,
    JournalLine,
    Reconciliation,
    StatementLine,
)
from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.finance.queries import ZERO, dec
from tsh.domain.shared import business_today
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

MATCH_DAYS = 3
MAX_IMPORT = 1000


@dataclass(frozen=True)
class NewStatementLine:
    date: date
    amount: Decimal
    currency: str
    description: str
    reference: str | None


async def locked_bank(session: AsyncSession, bank_account_id: int) -> BankAccount:
    bank = await session.scalar(
        select(BankAccount).where(BankAccount.id == bank_account_id).with_for_update()
    )
    if bank is None:
        raise NotFound("Bank account not found", code="NOT_FOUND")
    return bank


def _unmatched_book(bank: BankAccount) -> Any:
    matched = select(BankMatchJournalLine.journal_line_id)
    return (JournalLine.account_id == bank.account_id) & JournalLine.id.notin_(matched)


async def book_candidates(
    session: AsyncSession, bank: BankAccount, first: date, last: date
) -> list[tuple[JournalLine, date, str, str | None]]:
    """Unmatched book lines of the bank's account dated in [first, last], with entry number and reference."""
    rows = await session.execute(
        select(JournalLine, JournalEntry.date, JournalEntry.number, JournalEntry.reference)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(_unmatched_book(bank), JournalEntry.date >= first, JournalEntry.date <= last)
        .order_by(JournalEntry.date, JournalLine.id)
    )
    return [(ln, d, n, ref) for ln, d, n, ref in rows]


def score(
    st_amount: Decimal, st_date: date, st_text: str, book: Decimal, book_date: date, refs: list[str]
) -> int:
    """Match score 0-100 (clarifications.md): amount equal 50; date within 3 days 30, falling
    linearly to 0 at 10 days; a reference or document number found in the statement text 20."""
    points = 50 if st_amount == book else 0
    days = abs((st_date - book_date).days)
    if days <= MATCH_DAYS:
        points += 30
    elif days < 10:
        points += round(30 * (10 - days) / (10 - MATCH_DAYS))
    text = st_text.lower()
    if any(r and r.lower() in text for r in refs):
        points += 20
    return points


async def import_lines(
    session: AsyncSession, actor: Actor, *, bank_account_id: int, lines: list[NewStatementLine]
) -> dict[str, Any]:
    """Import statement lines; skip those already imported (same date, amount and reference) and
    auto-match a line with exactly one book line of the same amount and reference dated within
    3 days. 404 NOT_FOUND; 422 CURRENCY_MISMATCH; 422 VALIDATION_ERROR over 1,000 lines; 409
    RECONCILED_PERIOD for a line on or before the last closed reconciliation. Emits
    BankReconciled. Never commits."""
    bank = await locked_bank(session, bank_account_id)
    if len(lines) > MAX_IMPORT:
        raise Invalid(details=[field_error("lines", f"at most {MAX_IMPORT} lines per import")])
    wrong = [
        field_error(f"lines[{i}].amount", "currency", expected=bank.currency)
        for i, ln in enumerate(lines)
        if ln.currency != bank.currency
    ]
    if wrong:
        raise Invalid("Lines are not in the bank account's currency", code="CURRENCY_MISMATCH", details=wrong)
    if bank.last_reconciled_date is not None:
        frozen = [
            field_error(
                f"lines[{i}].date",
                "on or before the last closed reconciliation",
                last=str(bank.last_reconciled_date),
            )
            for i, ln in enumerate(lines)
            if ln.date <= bank.last_reconciled_date
        ]
        if frozen:
            raise Conflict("Lines dated in a closed reconciliation", code="RECONCILED_PERIOD", details=frozen)
    if not lines:
        return {"imported": 0, "skipped": 0, "auto_matched": 0, "line_ids": []}
    first, last = min(ln.date for ln in lines), max(ln.date for ln in lines)
    existing = {
        (d, dec(a), r or "")
        for d, a, r in await session.execute(
            select(StatementLine.date, StatementLine.amount, StatementLine.reference).where(
                StatementLine.bank_account_id == bank.id,
                StatementLine.date >= first,
                StatementLine.date <= last,
            )
        )
    }
    batch = f"IMP-{business_today():%Y%m%d}-{actor.user_id}-{len(existing)}"
    new_rows: list[StatementLine] = []
    skipped = 0
    for ln in lines:
        key = (ln.date, dec(ln.amount), ln.reference or "")
        if key in existing:
            skipped += 1
            continue
        existing.add(key)
        new_rows.append(
            StatementLine(
                bank_account_id=bank.id,
                date=ln.date,
                amount=ln.amount,
                description=ln.description,
                reference=ln.reference,
                import_batch=batch,
            )
        )
    session.add_all(new_rows)
    await session.flush()
    candidates = await book_candidates(
        session, bank, first - timedelta(days=MATCH_DAYS), last + timedelta(days=MATCH_DAYS)
    )
    used: set[int] = set()
    auto = 0
    for st in new_rows:
        if not st.reference:
            continue
        hits = [
            ln
            for ln, d, number, ref in candidates
            if ln.id not in used
            and ln.debit - ln.credit == st.amount
            and abs((d - st.date).days) <= MATCH_DAYS
            and st.reference in (ref, number)
        ]
        if len(hits) == 1:
            used.add(hits[0].id)
            await _create_match(session, actor, bank, [st], [hits[0].id], None)
            auto += 1
    await session.flush()
    if new_rows:
        raise_event(session, "BankReconciled", everyone=True, bank_account_id=bank.id)
    return {
        "imported": len(new_rows),
        "skipped": skipped,
        "auto_matched": auto,
        "line_ids": [r.id for r in new_rows],
    }


async def _create_match(
    session: AsyncSession,
    actor: Actor,
    bank: BankAccount,
    statement: list[StatementLine],
    journal_line_ids: list[int],
    difference_entry_id: int | None,
) -> BankMatch:
    match = BankMatch(
        bank_account_id=bank.id,
        difference_entry_id=difference_entry_id,
        matched_by_id=actor.user_id,
        journal_lines=[BankMatchJournalLine(journal_line_id=i) for i in journal_line_ids],
    )
    session.add(match)
    await session.flush()
    for st in statement:
        st.match_id = match.id
    return match


async def match_lines(
    session: AsyncSession,
    actor: Actor,
    *,
    bank_account_id: int,
    statement_line_ids: list[int],
    journal_line_ids: list[int],
    difference_account_id: int | None,
) -> BankMatch:
    """Match statement lines with book lines; book the difference (fee, interest) to
    `difference_account_id` when the sums differ. 404 NOT_FOUND for lines of another bank
    account; 409 ALREADY_MATCHED; 422 AMOUNT_MISMATCH without a difference account; the
    difference entry may answer ACCOUNT_NOT_FOUND, ACCOUNT_NOT_POSTABLE, ACCOUNT_INACTIVE,
    PERIOD_CLOSED, TAX_PERIOD_FILED. Emits BankReconciled (and JournalPosted with a difference
    entry). Never commits."""
    bank = await locked_bank(session, bank_account_id)
    statement = list(
        await session.scalars(
            select(StatementLine)
            .where(StatementLine.id.in_(statement_line_ids), StatementLine.bank_account_id == bank.id)
            .order_by(StatementLine.id)
            .with_for_update()
        )
    )
    if len(statement) != len(set(statement_line_ids)):
        raise NotFound(
            "Statement line not found",
            code="NOT_FOUND",
            details=[field_error("statement_line_ids", "not found")],
        )
    book = list(
        await session.execute(
            select(JournalLine, BankMatchJournalLine.id)
            .outerjoin(BankMatchJournalLine, BankMatchJournalLine.journal_line_id == JournalLine.id)
            .where(JournalLine.id.in_(journal_line_ids), JournalLine.account_id == bank.account_id)
        )
    )
    if len(book) != len(set(journal_line_ids)):
        raise NotFound(
            "Book line not found", code="NOT_FOUND", details=[field_error("journal_line_ids", "not found")]
        )
    taken = [
        field_error("statement_line_ids", "matched", id=s.id) for s in statement if s.match_id is not None
    ]
    taken += [field_error("journal_line_ids", "matched", id=ln.id) for ln, link in book if link is not None]
    if taken:
        raise Conflict("Some lines are already matched", code="ALREADY_MATCHED", details=taken)
    st_sum = sum((s.amount for s in statement), ZERO)
    book_sum = sum((ln.debit - ln.credit for ln, _ in book), ZERO)
    diff = st_sum - book_sum
    lines = [ln.id for ln, _ in book]
    entry_id = None
    if diff != 0:
        if difference_account_id is None:
            raise Invalid(
                "The statement and book amounts differ",
                code="AMOUNT_MISMATCH",
                details=[field_error("difference_account_id", "required", difference=str(diff))],
            )
        on = max(s.date for s in statement)
        # diff > 0: money in the bank not in the books (interest); < 0: a fee taken by the bank.
        debit_bank = diff > 0
        entry = await posting.post_entry(
            session,
            journal="BNK",
            entry_date=on,
            currency=bank.currency,
            lines=[
                posting.Line(
                    bank.account_id,
                    debit=abs(diff) if debit_bank else ZERO,
                    credit=ZERO if debit_bank else abs(diff),
                    memo="Bank difference",
                ),
                posting.Line(
                    difference_account_id,
                    debit=ZERO if debit_bank else abs(diff),
                    credit=abs(diff) if debit_bank else ZERO,
                    memo="Bank difference",
                ),
            ],
            memo=f"Bank reconciliation difference ({statement[0].description[:80]})",
            source_type="bank_match",
            source_id=None,
            branch_id=None,
            posted_by_id=actor.user_id,
        )
        entry_id = entry.id
        bank_line = await session.scalar(
            select(JournalLine.id).where(
                JournalLine.entry_id == entry.id, JournalLine.account_id == bank.account_id
            )
        )
        assert bank_line is not None
        lines.append(bank_line)
    match = await _create_match(session, actor, bank, statement, lines, entry_id)
    if entry_id is not None:
        entry_row = await session.get(JournalEntry, entry_id)
        assert entry_row is not None
        entry_row.source_id = match.id
    await session.flush()
    raise_event(session, "BankReconciled", everyone=True, bank_account_id=bank.id, match_id=match.id)
    return match


async def undo_match(session: AsyncSession, actor: Actor, *, match_id: int) -> dict[str, Any]:
    """Undo a match; a difference entry booked with it is reversed today. 404 NOT_FOUND; 409
    RECONCILIATION_CLOSED; the reversal may answer PERIOD_CLOSED, TAX_PERIOD_FILED. Emits
    BankReconciled (and JournalPosted with a reversal). Never commits."""
    bank_id = await session.scalar(select(BankMatch.bank_account_id).where(BankMatch.id == match_id))
    if bank_id is None:
        raise NotFound("Match not found", code="NOT_FOUND")
    bank = await locked_bank(session, bank_id)
    match = await session.scalar(select(BankMatch).where(BankMatch.id == match_id).with_for_update())
    assert match is not None
    if match.reconciliation_id is not None:
        raise Conflict("The match belongs to a closed reconciliation", code="RECONCILIATION_CLOSED")
    reversal = None
    if match.difference_entry_id is not None:
        reversal = await posting.reverse_entry(
            session,
            entry_id=match.difference_entry_id,
            entry_date=business_today(),
            posted_by_id=actor.user_id,
            memo="Bank match undone",
        )
    statement = list(
        await session.scalars(
            select(StatementLine).where(StatementLine.match_id == match.id).with_for_update()
        )
    )
    for st in statement:
        st.match_id = None
    await session.flush()
    links = list(
        await session.scalars(select(BankMatchJournalLine).where(BankMatchJournalLine.match_id == match.id))
    )
    for link in links:
        await session.delete(link)
    await session.delete(match)
    await session.flush()
    raise_event(session, "BankReconciled", everyone=True, bank_account_id=bank.id)
    return {
        "id": match_id,
        "bank_account_id": bank.id,
        "statement_line_ids": [s.id for s in statement],
        "reversal_entry_id": None if reversal is None else reversal.id,
    }


async def window_start(session: AsyncSession, bank: BankAccount) -> date | None:
    """First day whose unmatched book lines are outstanding items (see the module docstring)."""
    if bank.last_reconciled_date is not None:
        return bank.last_reconciled_date + timedelta(days=1)
    first = await session.scalar(
        select(func.min(StatementLine.date)).where(StatementLine.bank_account_id == bank.id)
    )
    return first


async def book_balance(session: AsyncSession, bank: BankAccount, on: date) -> Decimal:
    """Σ debit − Σ credit of the bank's ledger account up to `on`, in the bank's currency."""
    sums = await balances.currency_sums(session, account_ids=[bank.account_id], date_to=on)
    debit, credit = sums.get(bank.currency, (ZERO, ZERO))
    return debit - credit


async def outstanding(session: AsyncSession, bank: BankAccount, on: date) -> Decimal:
    start = await window_start(session, bank)
    if start is None or start > on:
        return ZERO
    row = (
        await session.execute(
            select(func.sum(JournalLine.debit), func.sum(JournalLine.credit))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(_unmatched_book(bank), JournalEntry.date >= start, JournalEntry.date <= on)
        )
    ).one()
    return dec(row[0]) - dec(row[1])


async def close_reconciliation(
    session: AsyncSession,
    actor: Actor,
    *,
    bank_account_id: int,
    statement_date: date,
    statement_balance: Decimal,
    currency: str,
) -> Reconciliation:
    """Close at a statement date. 404 NOT_FOUND; 409 DATE_BEFORE_LAST_CLOSURE; 422 UNMATCHED_LINES;
    422 RECONCILIATION_DIFFERENCE (details carry the amount). Freezes the matches of lines up
    to the date. 422 CURRENCY_MISMATCH for a balance in another currency. Emits BankReconciled.
    Never commits."""
    bank = await locked_bank(session, bank_account_id)
    if currency != bank.currency:
        raise Invalid(
            "The balance is not in the bank account's currency",
            code="CURRENCY_MISMATCH",
            details=[field_error("statement_balance.currency", "currency", expected=bank.currency)],
        )
    if bank.last_reconciled_date is not None and statement_date <= bank.last_reconciled_date:
        raise Conflict(
            "The date is on or before the last closed reconciliation",
            code="DATE_BEFORE_LAST_CLOSURE",
            details=[
                field_error("statement_date", "before the last closure", last=str(bank.last_reconciled_date))
            ],
        )
    unmatched = int(
        await session.scalar(
            select(func.count(StatementLine.id)).where(
                StatementLine.bank_account_id == bank.id,
                StatementLine.match_id.is_(None),
                StatementLine.date <= statement_date,
            )
        )
        or 0
    )
    if unmatched:
        raise Invalid(
            "Statement lines up to the date are unmatched",
            code="UNMATCHED_LINES",
            details=[field_error("statement_date", "unmatched statement lines", count=unmatched)],
        )
    books = await book_balance(session, bank, statement_date)
    adjusted = books - await outstanding(session, bank, statement_date)
    if adjusted != statement_balance:
        raise Invalid(
            "Statement and book balance differ",
            code="RECONCILIATION_DIFFERENCE",
            details=[
                field_error(
                    "statement_balance",
                    "differs from the adjusted book balance",
                    difference=str(statement_balance - adjusted),
                    book_balance=str(adjusted),
                )
            ],
        )
    rec = Reconciliation(
        bank_account_id=bank.id,
        statement_date=statement_date,
        statement_balance=statement_balance,
        book_balance=adjusted,
        closed_by_id=actor.user_id,
    )
    session.add(rec)
    await session.flush()
    match_ids = select(StatementLine.match_id).where(
        StatementLine.bank_account_id == bank.id,
        StatementLine.date <= statement_date,
        StatementLine.match_id.isnot(None),
    )
    for m in await session.scalars(
        select(BankMatch).where(BankMatch.id.in_(match_ids), BankMatch.reconciliation_id.is_(None))
    ):
        m.reconciliation_id = rec.id
    bank.last_reconciled_date = statement_date
    await session.flush()
    raise_event(session, "BankReconciled", everyone=True, bank_account_id=bank.id, reconciliation_id=rec.id)
    return rec


async def bank_account_name(session: AsyncSession, bank: BankAccount) -> str:
    name = await session.scalar(select(Account.name_en).where(Account.id == bank.account_id))
    return name or ""
