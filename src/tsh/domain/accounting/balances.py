"""The statements' read model: journal-line sums per account, branch, month and currency.

`record` is called by posting for every entry it writes (same transaction, one upsert per key,
so concurrent postings add up instead of overwriting); `rebuild` recomputes the table from the
lines (the seed, after its bulk writes). `sums` answers "Σ base debit / credit per account over
a date range" from whole months of the read model plus the lines of the partial months at the
range's edges, so a statement reads at most two months of lines whatever the history length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import AccountBalance, FiscalPeriod, JournalEntry, JournalLine
from tsh.platform.db.base import utcnow

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
AMOUNTS = ("debit", "credit", "base_debit", "base_credit")


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


async def record(session: AsyncSession, *, on: date, currency: str, lines: Iterable[JournalLine]) -> None:
    """Add an entry's lines to the balances of its month."""
    totals: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
    for ln in lines:
        acc = totals[(ln.account_id, ln.branch_id or 0)]
        for i, name in enumerate(AMOUNTS):
            acc[i] += getattr(ln, name)
    if not totals:
        return
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [
        {
            "account_id": account,
            "branch_key": branch,
            "year": on.year,
            "month": on.month,
            "currency": currency,
            **dict(zip(AMOUNTS, values, strict=True)),
            "created_at": now,
            "updated_at": now,
        }
        for (account, branch), values in sorted(totals.items())
    ]
    stmt = make(AccountBalance)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "branch_key", "year", "month", "currency"],
        set_={
            **{name: getattr(AccountBalance, name) + getattr(stmt.excluded, name) for name in AMOUNTS},
            "updated_at": now,
        },
    )
    await session.execute(stmt, rows)


async def rebuild(session: AsyncSession) -> None:
    """Recompute every balance from the journal lines."""
    await session.execute(delete(AccountBalance))
    branch = func.coalesce(JournalLine.branch_id, 0)
    now = literal(utcnow(), AccountBalance.created_at.type)
    source = (
        select(
            JournalLine.account_id,
            branch,
            FiscalPeriod.year,
            FiscalPeriod.month,
            JournalEntry.currency,
            *(func.sum(getattr(JournalLine, name)) for name in AMOUNTS),
            now,
            now,
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(FiscalPeriod, FiscalPeriod.id == JournalEntry.fiscal_period_id)
        .group_by(
            JournalLine.account_id, branch, FiscalPeriod.year, FiscalPeriod.month, JournalEntry.currency
        )
    )
    columns = ["account_id", "branch_key", "year", "month", "currency", *AMOUNTS, "created_at", "updated_at"]
    await session.execute(insert(AccountBalance).from_select(columns, source))


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _index(year: int, month: int) -> int:
    return year * 12 + month - 1


async def sums(
    session: AsyncSession,
    *,
    date_from: date | None,
    date_to: date,
    branch_id: int | None,
    exclude: ColumnElement[bool] | None = None,
) -> dict[int, tuple[Decimal, Decimal]]:
    """(Σ base_debit, Σ base_credit) per account over lines dated in [date_from, date_to]
    (date_from None = from the beginning), optionally of one branch. `exclude` names entries
    to leave out (e.g. the year-end closing entries): their lines are subtracted, so it must
    select few entries."""
    out: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    # Whole months inside the range come from the read model.
    first = (
        None
        if date_from is None
        else (date_from if date_from.day == 1 else _month_end(date_from) + timedelta(days=1))
    )
    last = date_to if _month_end(date_to) == date_to else date_to.replace(day=1) - timedelta(days=1)
    edges: list[tuple[date | None, date]] = []
    if first is None or first <= last:
        stmt = select(
            AccountBalance.account_id,
            func.sum(AccountBalance.base_debit),
            func.sum(AccountBalance.base_credit),
        )
        month_key = AccountBalance.year * 12 + AccountBalance.month - 1
        stmt = stmt.where(month_key <= _index(last.year, last.month))
        if first is not None:
            stmt = stmt.where(month_key >= _index(first.year, first.month))
        if branch_id is not None:
            stmt = stmt.where(AccountBalance.branch_key == branch_id)
        for aid, d, c in await session.execute(stmt.group_by(AccountBalance.account_id)):
            out[aid][0] += _dec(d)
            out[aid][1] += _dec(c)
        if date_from is not None and first is not None and date_from < first:
            edges.append((date_from, first - timedelta(days=1)))
        if last < date_to:
            edges.append((last + timedelta(days=1), date_to))
    else:
        edges.append((date_from, date_to))
    for lo, hi in edges:
        await _add_lines(session, out, lo, hi, branch_id, [], 1)
    if exclude is not None:
        await _add_lines(session, out, date_from, date_to, branch_id, [exclude], -1)
    return {a: (v[0], v[1]) for a, v in out.items()}


async def _add_lines(
    session: AsyncSession,
    out: dict[int, list[Decimal]],
    lo: date | None,
    hi: date,
    branch_id: int | None,
    where: list[Any],
    sign: int,
) -> None:
    stmt = (
        select(JournalLine.account_id, func.sum(JournalLine.base_debit), func.sum(JournalLine.base_credit))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.date <= hi, *where)
    )
    if lo is not None:
        stmt = stmt.where(JournalEntry.date >= lo)
    if branch_id is not None:
        stmt = stmt.where(JournalLine.branch_id == branch_id)
    for aid, d, c in await session.execute(stmt.group_by(JournalLine.account_id)):
        out[aid][0] += sign * _dec(d)
        out[aid][1] += sign * _dec(c)


async def currency_sums(
    session: AsyncSession, *, account_ids: Iterable[int], date_to: date, branch_id: int | None = None
) -> dict[str, tuple[Decimal, Decimal]]:
    """(Σ debit, Σ credit) in entry currency, per currency, of these accounts up to `date_to`:
    the months before its month from the read model, its month from the lines."""
    ids = list(account_ids)
    out: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    month_key = AccountBalance.year * 12 + AccountBalance.month - 1
    stmt = (
        select(AccountBalance.currency, func.sum(AccountBalance.debit), func.sum(AccountBalance.credit))
        .where(AccountBalance.account_id.in_(ids), month_key < _index(date_to.year, date_to.month))
        .group_by(AccountBalance.currency)
    )
    if branch_id is not None:
        stmt = stmt.where(AccountBalance.branch_key == branch_id)
    lines = (
        select(JournalEntry.currency, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account_id.in_(ids),
            JournalEntry.date >= date_to.replace(day=1),
            JournalEntry.date <= date_to,
        )
        .group_by(JournalEntry.currency)
    )
    if branch_id is not None:
        lines = lines.where(JournalLine.branch_id == branch_id)
    for query in (stmt, lines):
        for currency, d, c in await session.execute(query):
            out[currency][0] += _dec(d)
            out[currency][1] += _dec(c)
    return {k: (v[0], v[1]) for k, v in out.items()}
