"""Posting to the general ledger: the one way journal entries are written (manual and sub-ledgers).

Every entry balances in its own currency and in IQD base. Base amounts are the line amounts at the
entry's exchange rate, rounded per line to whole dinars; the rounding difference of a USD entry is
pushed onto the largest line of each side so that both sides add up to round(total x rate).

Numbers are `JE-YYYY-000001`, one gapless sequence per year of the entry date, across journals.
Concurrency: the next number is max()+1 of the year's numbers, read under a transaction-scoped lock
held until commit. On PostgreSQL that is `pg_advisory_xact_lock(_NUMBER_LOCK, year)` (no table or
model needed, released by commit or rollback). On SQLite every command's transaction already
holds the database write lock from its start (`Database.command_session`, BEGIN IMMEDIATE).
The max() is a range scan on the unique index of `number` (fixed width, so any collation orders it
correctly); a year past 999,999 entries continues with 7 digits. The unique
constraint on `number` backs this up: a bug here fails loudly instead of duplicating a number.

Posting reads its fiscal period FOR SHARE, so a concurrent period closure (an UPDATE of that row)
waits for the posting transaction, and a posting never lands in a period closed under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tsh.domain.accounting import balances
from tsh.domain.accounting.chart import JOURNALS
from tsh.domain.accounting.models import (
    Account,
    ExchangeRate,
    FiscalPeriod,
    Journal,
    JournalEntry,
    JournalLine,
    TaxReturn,
)
from tsh.domain.events import raise_event
from tsh.domain.money import BASE_CURRENCY, CURRENCIES, has_valid_places, round_money
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

ZERO = Decimal("0")
BUSINESS_TZ = ZoneInfo("Asia/Baghdad")
# First key of the numbering advisory lock ("JE"); the second is the year.
_NUMBER_LOCK = 0x4A45
_NUMBER_WIDTH = 6


@dataclass(frozen=True)
class Line:
    # system_key (str) or account id (int).
    account: str | int
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    branch_id: int | None = None
    customer_id: int | None = None
    memo: str | None = None


# (database url, system_key or "journal:<code>") -> id. Keyed by url so test databases, created
# per run, never see each other's ids.
_IDS: dict[tuple[str, str], int] = {}


def _db_key(session: AsyncSession) -> str:
    return str(session.get_bind().engine.url)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def clear_id_cache() -> None:
    """For a seed that deletes and re-creates the chart in a running process."""
    _IDS.clear()


async def account_id(session: AsyncSession, system_key: str) -> int:
    """Id of the control account with this system_key (404 ACCOUNT_NOT_FOUND: chart not migrated)."""
    key = (_db_key(session), system_key)
    if key not in _IDS:
        found = await session.scalar(select(Account.id).where(Account.system_key == system_key))
        if found is None:
            raise NotFound(f"No account has system_key {system_key!r}", code="ACCOUNT_NOT_FOUND")
        _IDS[key] = found
    return _IDS[key]


async def _journal_id(session: AsyncSession, code: str) -> int:
    key = (_db_key(session), f"journal:{code}")
    if key not in _IDS:
        names = {j.code: j.name for j in JOURNALS}
        if code not in names:
            raise ValueError(f"unknown journal {code!r}")
        found = await session.scalar(select(Journal.id).where(Journal.code == code))
        if found is None:
            # The data migration inserts the journals; creating a missing one keeps posting usable
            # on a database migrated before it (same row as the migration would write). Not cached:
            # this transaction may still roll back.
            return await _insert_once(session, Journal(code=code, name=names[code]), Journal.code == code)
        _IDS[key] = found
    return _IDS[key]


async def _insert_once(session: AsyncSession, row: Journal | FiscalPeriod, where: ColumnElement[bool]) -> int:
    """Insert a lookup row, or read the one a concurrent transaction inserted first."""
    model = type(row)
    await session.flush()  # the caller's pending rows must not fail inside our savepoint
    if not _is_postgres(session):
        session.add(row)
        await session.flush()
        return row.id
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = await session.scalar(select(model.id).where(where))
        assert found is not None
        return int(found)
    return row.id


def end_of_business_day(day: date) -> datetime:
    """The last microsecond of a Baghdad business day, in UTC."""
    end = datetime.combine(day + timedelta(days=1), time(0), BUSINESS_TZ) - timedelta(microseconds=1)
    return end.astimezone(UTC)


def _business_moment(at: datetime | date) -> datetime:
    if isinstance(at, datetime):
        return at
    # A date means the rate in force by the end of that business day, but never one set for later
    # today: the rate used is one that was in force when the entry was posted.
    end = datetime.combine(at + timedelta(days=1), time(0), BUSINESS_TZ) - timedelta(microseconds=1)
    return min(end.astimezone(UTC), datetime.now(UTC))


async def rate_in_force(session: AsyncSession, at: datetime | date) -> Decimal:
    """IQD per 1 USD in force at `at` (a date: at the end of that Baghdad day); 409 NO_EXCHANGE_RATE."""
    rate = await session.scalar(
        select(ExchangeRate.rate)
        .where(ExchangeRate.effective_from <= _business_moment(at))
        .order_by(ExchangeRate.effective_from.desc())
        .limit(1)
    )
    if rate is None:
        raise Conflict("No exchange rate is in force at that moment", code="NO_EXCHANGE_RATE")
    return Decimal(rate)


async def _open_period(session: AsyncSession, on: date) -> int:
    """Id of the open fiscal period of `on`, read FOR SHARE; created (open) when missing."""
    stmt = (
        select(FiscalPeriod)
        .where(FiscalPeriod.year == on.year, FiscalPeriod.month == on.month)
        .with_for_update(read=True)
    )
    period = await session.scalar(stmt)
    if period is None:
        first = on.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        row = FiscalPeriod(year=on.year, month=on.month, starts_on=first, ends_on=last, status="open")
        await _insert_once(session, row, (FiscalPeriod.year == on.year) & (FiscalPeriod.month == on.month))
        period = await session.scalar(stmt.execution_options(populate_existing=True))
        assert period is not None
    if period.status != "open":
        raise Conflict(f"The period {on:%Y-%m} is closed", code="PERIOD_CLOSED")
    return period.id


async def _check_tax_period(session: AsyncSession, on: date, source_type: str) -> None:
    # The return's own settlement entry may be dated inside the period it settles, and the year-end
    # closing entry (revenue and expense to retained earnings) moves no tax.
    if source_type in ("tax_return", "fiscal_period"):
        return
    filed = await session.scalar(
        select(TaxReturn.id).where(TaxReturn.period_from <= on, TaxReturn.period_to >= on).limit(1)
    )
    if filed is not None:
        raise Conflict("The tax return of that date is filed", code="TAX_PERIOD_FILED")


async def _next_number(session: AsyncSession, year: int) -> str:
    if _is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k, :y)"), {"k": _NUMBER_LOCK, "y": year})
    prefix = f"JE-{year}-"
    width, last = _NUMBER_WIDTH, 0
    while True:
        lo, hi = prefix + "0" * width, prefix + "9" * width
        found = await session.scalar(
            select(func.max(JournalEntry.number)).where(
                JournalEntry.number >= lo,
                JournalEntry.number <= hi,
                func.length(JournalEntry.number) == len(lo),
            )
        )
        if found is None:
            break
        last = int(found[len(prefix) :])
        if found != hi:
            break
        width += 1  # this width is full: continue in the next one
    n = last + 1
    return f"{prefix}{n:0{max(_NUMBER_WIDTH, len(str(n)))}d}"


def _base_amounts(lines: Sequence[Line], currency: str, rate: Decimal) -> list[tuple[Decimal, Decimal]]:
    """(base_debit, base_credit) per line; both sides add up to round(total x rate)."""
    if currency == BASE_CURRENCY:
        return [(round_money(ln.debit, BASE_CURRENCY), round_money(ln.credit, BASE_CURRENCY)) for ln in lines]
    base = [
        (round_money(ln.debit * rate, BASE_CURRENCY), round_money(ln.credit * rate, BASE_CURRENCY))
        for ln in lines
    ]
    target = round_money(sum((ln.debit for ln in lines), ZERO) * rate, BASE_CURRENCY)
    for side in (0, 1):
        idx = [i for i, ln in enumerate(lines) if (ln.debit if side == 0 else ln.credit) > 0]
        diff = target - sum((base[i][side] for i in idx), ZERO)
        if diff:
            largest = max(idx, key=lambda i: (lines[i].debit, lines[i].credit))
            pair = list(base[largest])
            pair[side] += diff
            base[largest] = (pair[0], pair[1])
    return base


def _check_lines(lines: Sequence[Line], currency: str) -> None:
    """The entry-shape rules, in the contract's order (ACC-08)."""
    if currency not in CURRENCIES:
        raise Invalid(f"Unknown currency {currency}", details=[field_error("currency", "unknown currency")])
    debit = sum((ln.debit for ln in lines), ZERO)
    credit = sum((ln.credit for ln in lines), ZERO)
    if debit != credit:
        raise Invalid(
            f"Debits {debit} and credits {credit} differ",
            code="UNBALANCED_ENTRY",
            details=[field_error("lines", "unbalanced", debit=str(debit), credit=str(credit))],
        )
    if len(lines) < 2:
        raise Invalid("An entry needs at least two lines", code="TOO_FEW_LINES")
    bad = [
        field_error(f"lines[{i}]", "exactly one of debit and credit must be greater than 0")
        for i, ln in enumerate(lines)
        if not ((ln.debit > 0 and ln.credit == 0) or (ln.credit > 0 and ln.debit == 0))
    ]
    if bad:
        raise Invalid("Each line has exactly one of debit and credit", code="INVALID_LINE", details=bad)
    places = [
        field_error(f"lines[{i}].{'debit' if ln.debit else 'credit'}", "too many decimal places")
        for i, ln in enumerate(lines)
        if not has_valid_places(ln.debit or ln.credit, currency)
    ]
    if places:
        raise Invalid("Amounts exceed the currency's decimal places", code="INVALID_AMOUNT", details=places)


async def _check_accounts(session: AsyncSession, lines: Sequence[Line], currency: str) -> list[int]:
    ids = [
        ln.account if isinstance(ln.account, int) else await account_id(session, ln.account) for ln in lines
    ]
    rows = {a.id: a for a in await session.scalars(select(Account).where(Account.id.in_(set(ids))))}
    missing = [field_error(f"lines[{i}].account_id", "not found") for i, a in enumerate(ids) if a not in rows]
    if missing:
        raise NotFound("Account not found", code="ACCOUNT_NOT_FOUND", details=missing)
    not_postable: list[dict[str, object]] = []
    inactive: list[dict[str, object]] = []
    for i, a in enumerate(ids):
        acc = rows[a]
        if not acc.is_postable:
            not_postable.append(field_error(f"lines[{i}].account_id", "not postable", account_id=a))
        elif acc.currency is not None and acc.currency != currency:
            not_postable.append(
                field_error(
                    f"lines[{i}].account_id", "currency mismatch", account_id=a, currency=acc.currency
                )
            )
        if not acc.is_active:
            inactive.append(field_error(f"lines[{i}].account_id", "inactive", account_id=a))
    if not_postable:
        raise Invalid("Account does not take these lines", code="ACCOUNT_NOT_POSTABLE", details=not_postable)
    if inactive:
        raise Invalid("Account is inactive", code="ACCOUNT_INACTIVE", details=inactive)
    return ids


async def post_entry(
    session: AsyncSession,
    *,
    journal: str,
    entry_date: date,
    currency: str,
    lines: Sequence[Line],
    memo: str,
    source_type: str,
    source_id: int | None,
    branch_id: int | None,
    posted_by_id: int | None,
    exchange_rate: Decimal | None = None,
    reference: str | None = None,
) -> JournalEntry:
    """Validate and post a balanced entry; emits JournalPosted. Never commits."""
    _check_lines(lines, currency)
    ids = await _check_accounts(session, lines, currency)
    if currency == BASE_CURRENCY:
        if exchange_rate is not None and exchange_rate != 1:
            raise Invalid(
                "An IQD entry has rate 1", details=[field_error("exchange_rate", "must be 1 for IQD")]
            )
        rate = Decimal("1")
    elif exchange_rate is not None:
        if exchange_rate <= 0:
            raise Invalid("Rate must be positive", details=[field_error("exchange_rate", "must be > 0")])
        rate = exchange_rate
    else:
        rate = await rate_in_force(session, entry_date)
    period_id = await _open_period(session, entry_date)
    await _check_tax_period(session, entry_date, source_type)
    base = _base_amounts(lines, currency, rate)
    new_lines = [
        JournalLine(
            account_id=aid,
            debit=ln.debit,
            credit=ln.credit,
            base_debit=bd,
            base_credit=bc,
            branch_id=ln.branch_id,
            customer_id=ln.customer_id,
            memo=ln.memo,
        )
        for ln, aid, (bd, bc) in zip(lines, ids, base, strict=True)
    ]
    return await _insert_entry(
        session,
        journal_id=await _journal_id(session, journal),
        entry_date=entry_date,
        period_id=period_id,
        currency=currency,
        rate=rate,
        lines=new_lines,
        memo=memo,
        reference=reference,
        source_type=source_type,
        source_id=source_id,
        branch_id=branch_id,
        posted_by_id=posted_by_id,
    )


async def _insert_entry(
    session: AsyncSession,
    *,
    journal_id: int,
    entry_date: date,
    period_id: int,
    currency: str,
    rate: Decimal,
    lines: list[JournalLine],
    memo: str,
    reference: str | None,
    source_type: str,
    source_id: int | None,
    branch_id: int | None,
    posted_by_id: int | None,
    reversal_of_id: int | None = None,
) -> JournalEntry:
    entry = JournalEntry(
        number=await _next_number(session, entry_date.year),
        journal_id=journal_id,
        date=entry_date,
        fiscal_period_id=period_id,
        currency=currency,
        exchange_rate=rate,
        memo=memo,
        reference=reference,
        source_type=source_type,
        source_id=source_id,
        status="posted",
        reversal_of_id=reversal_of_id,
        branch_id=branch_id,
        posted_by_id=posted_by_id,
        total=sum((ln.debit for ln in lines), ZERO),
        base_total=sum((ln.base_debit for ln in lines), ZERO),
        lines=lines,
    )
    session.add(entry)
    await session.flush()
    await balances.record(session, on=entry_date, currency=currency, lines=lines)
    raise_event(
        session,
        "JournalPosted",
        branches=[branch_id, *(ln.branch_id for ln in lines)],
        customers=[ln.customer_id for ln in lines],
        entry_id=entry.id,
    )
    return entry


async def reverse_entry(
    session: AsyncSession,
    *,
    entry_id: int,
    entry_date: date,
    posted_by_id: int | None,
    memo: str | None = None,
) -> JournalEntry:
    """Post the mirror of an entry (same rate and base amounts) and mark it reversed.

    409 ALREADY_REVERSED, 409 PERIOD_CLOSED for entry_date. Whether a caller may reverse a system
    entry (422 SYSTEM_ENTRY) is the caller's rule: sub-ledgers reverse their own entries here.
    """
    original = await session.scalar(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(selectinload(JournalEntry.lines))
        .with_for_update(of=JournalEntry)
        .execution_options(populate_existing=True)
    )
    if original is None:
        raise NotFound("Journal entry not found", code="NOT_FOUND")
    already = await session.scalar(select(JournalEntry.id).where(JournalEntry.reversal_of_id == entry_id))
    if original.status == "reversed" or already is not None:
        raise Conflict(f"Entry {original.number} is already reversed", code="ALREADY_REVERSED")
    period_id = await _open_period(session, entry_date)
    await _check_tax_period(session, entry_date, "reversal")
    mirrored = [
        JournalLine(
            account_id=ln.account_id,
            debit=ln.credit,
            credit=ln.debit,
            base_debit=ln.base_credit,
            base_credit=ln.base_debit,
            branch_id=ln.branch_id,
            customer_id=ln.customer_id,
            memo=ln.memo,
        )
        for ln in original.lines
    ]
    original.status = "reversed"
    return await _insert_entry(
        session,
        journal_id=original.journal_id,
        entry_date=entry_date,
        period_id=period_id,
        currency=original.currency,
        rate=original.exchange_rate,
        lines=mirrored,
        memo=memo or f"Reversal of {original.number}",
        reference=original.number,
        source_type="reversal",
        source_id=original.id,
        branch_id=original.branch_id,
        posted_by_id=posted_by_id,
        reversal_of_id=original.id,
    )


async def trial_balance(session: AsyncSession) -> Decimal:
    """Σ base_debit − Σ base_credit over the whole ledger: 0 when it is sound."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(JournalLine.base_debit), 0),
                func.coalesce(func.sum(JournalLine.base_credit), 0),
            )
        )
    ).one()
    return Decimal(row[0]) - Decimal(row[1])


async def unbalanced_entries(session: AsyncSession) -> list[int]:
    """Ids of entries whose lines do not balance, in entry currency or in base."""
    # Tolerance: SQLite sums NUMERIC as floating point.
    eps = Decimal("0.005")
    diff = func.sum(JournalLine.debit) - func.sum(JournalLine.credit)
    base_diff = func.sum(JournalLine.base_debit) - func.sum(JournalLine.base_credit)
    rows = await session.scalars(
        select(JournalLine.entry_id)
        .group_by(JournalLine.entry_id)
        .having((func.abs(diff) > eps) | (func.abs(base_diff) > eps))
        .order_by(JournalLine.entry_id)
    )
    return list(rows)
