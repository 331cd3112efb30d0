"""General-ledger posting: validation, closed periods, reversals, USD base amounts, numbering.

Runs on the migrated and seeded test database (the chart and journals come from the reference-data
migration). Every write goes through a unit of work; rejected commands must leave no row behind.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tsh.context import AppContext
from tsh.domain.accounting.chart import CHART, chart_problems
from tsh.domain.accounting.models import Account, ExchangeRate, FiscalPeriod, JournalEntry, JournalLine
from tsh.domain.accounting.posting import (
    Line,
    account_id,
    post_entry,
    rate_in_force,
    reverse_entry,
    trial_balance,
    unbalanced_entries,
)
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError
from tsh.platform.events import DomainEvent

TODAY = date.today()
D = Decimal


async def _counts(ctx: AppContext) -> tuple[int, int]:
    async with ctx.db.session() as s:
        return (
            int(await s.scalar(select(func.count()).select_from(JournalEntry)) or 0),
            int(await s.scalar(select(func.count()).select_from(JournalLine)) or 0),
        )


async def _post(ctx: AppContext, lines: list[Line], **kw: Any) -> JournalEntry:
    args: dict[str, Any] = {
        "journal": "GEN",
        "entry_date": TODAY,
        "currency": "IQD",
        "memo": "test",
        "source_type": "manual",
        "source_id": None,
        "branch_id": None,
        "posted_by_id": None,
        **kw,
    }
    async with unit_of_work(ctx.db, ctx.bus) as s:
        return await post_entry(s, lines=lines, **args)


async def _rejected(ctx: AppContext, lines: list[Line], **kw: Any) -> AppError:
    before = await _counts(ctx)
    with pytest.raises(AppError) as exc:
        await _post(ctx, lines, **kw)
    assert await _counts(ctx) == before
    return exc.value


def test_chart_is_consistent() -> None:
    assert chart_problems() == []
    keys = {a.system_key for a in CHART}
    for key in ("cash_iqd", "cash_usd", "receivable", "inventory", "vat_output", "cogs", "customer_credit"):
        assert key in keys


async def test_post_balanced_entry_and_number(ctx: AppContext) -> None:
    events: list[DomainEvent] = []

    async def collect(batch: list[DomainEvent]) -> None:
        events.extend(batch)

    ctx.bus.subscribe(collect)
    first = await _post(ctx, [Line("cash_iqd", debit=D(250000)), Line("owner_equity", credit=D(250000))])
    second = await _post(ctx, [Line("cash_iqd", debit=D(1000)), Line("sales_revenue", credit=D(1000))])
    assert re.fullmatch(rf"JE-{TODAY.year}-\d{{6}}", first.number)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    assert first.total == D(250000) and first.base_total == D(250000) and first.exchange_rate == 1
    assert any(e.name == "JournalPosted" for e in events)
    async with ctx.db.session() as s:
        lines = (await s.scalars(select(JournalLine).where(JournalLine.entry_id == first.id))).all()
        cash = await account_id(s, "cash_iqd")
    assert sorted((ln.base_debit, ln.base_credit) for ln in lines) == [(0, D(250000)), (D(250000), 0)]
    assert {ln.account_id for ln in lines if ln.debit} == {cash}


async def test_unbalanced_entry_is_rejected_and_writes_nothing(ctx: AppContext) -> None:
    err = await _rejected(ctx, [Line("cash_iqd", debit=D(100)), Line("sales_revenue", credit=D(90))])
    assert (err.status, err.code) == (422, "UNBALANCED_ENTRY")


async def test_line_rules(ctx: AppContext) -> None:
    err = await _rejected(ctx, [Line("cash_iqd")])
    assert err.code == "TOO_FEW_LINES"
    err = await _rejected(
        ctx,
        [
            Line("cash_iqd", debit=D(5), credit=D(5)),
            Line("sales_revenue", debit=D(1)),
            Line("cogs", credit=D(1)),
        ],
    )
    assert err.code == "INVALID_LINE" and err.details and err.details[0]["field"] == "lines[0]"
    err = await _rejected(ctx, [Line("cash_iqd", debit=D("10.5")), Line("sales_revenue", credit=D("10.5"))])
    assert err.code == "INVALID_AMOUNT"


async def test_account_rules(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        header = await s.scalar(select(Account.id).where(Account.code == "1"))
    assert header is not None
    err = await _rejected(ctx, [Line(header, debit=D(10)), Line("sales_revenue", credit=D(10))])
    assert (err.status, err.code) == (422, "ACCOUNT_NOT_POSTABLE")
    # A USD cash box takes no IQD lines.
    err = await _rejected(ctx, [Line("cash_usd", debit=D(10)), Line("sales_revenue", credit=D(10))])
    assert (
        err.code == "ACCOUNT_NOT_POSTABLE" and err.details and err.details[0]["issue"] == "currency mismatch"
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        acc = Account(
            code=f"T{datetime.now(UTC):%H%M%S%f}", name_ar="x", name_en="x", type="expense", is_active=False
        )
        s.add(acc)
        await s.flush()
        inactive = acc.id
    err = await _rejected(ctx, [Line(inactive, debit=D(10)), Line("cash_iqd", credit=D(10))])
    assert err.code == "ACCOUNT_INACTIVE"


async def test_closed_period_is_refused(ctx: AppContext) -> None:
    day = date(1999, 3, 15)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        period = await s.scalar(
            select(FiscalPeriod).where(FiscalPeriod.year == 1999, FiscalPeriod.month == 3)
        )
        if period is None:
            s.add(
                FiscalPeriod(
                    year=1999, month=3, starts_on=date(1999, 3, 1), ends_on=date(1999, 3, 31), status="closed"
                )
            )
        else:
            period.status = "closed"
    err = await _rejected(
        ctx, [Line("cash_iqd", debit=D(10)), Line("sales_revenue", credit=D(10))], entry_date=day
    )
    assert (err.status, err.code) == (409, "PERIOD_CLOSED")


async def test_missing_period_is_created_open(ctx: AppContext) -> None:
    day = date(1998, 7, 4)
    entry = await _post(
        ctx, [Line("cash_iqd", debit=D(10)), Line("sales_revenue", credit=D(10))], entry_date=day
    )
    assert entry.number.startswith("JE-1998-")
    async with ctx.db.session() as s:
        period = await s.get(FiscalPeriod, entry.fiscal_period_id)
    assert period is not None and (period.year, period.month, period.status) == (1998, 7, "open")
    assert period.ends_on == date(1998, 7, 31)


async def test_reversal_mirrors_and_only_once(ctx: AppContext) -> None:
    entry = await _post(
        ctx,
        [
            Line("receivable", debit=D(11000)),
            Line("sales_revenue", credit=D(10000)),
            Line("vat_output", credit=D(1000)),
        ],
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        rev = await reverse_entry(s, entry_id=entry.id, entry_date=TODAY, posted_by_id=None, memo="undo")
    async with ctx.db.session() as s:
        original = await s.get(JournalEntry, entry.id)
        assert original is not None and original.status == "reversed"
        pairs = (
            await s.execute(
                select(
                    JournalLine.entry_id,
                    JournalLine.account_id,
                    JournalLine.base_debit,
                    JournalLine.base_credit,
                ).where(JournalLine.entry_id.in_([entry.id, rev.id]))
            )
        ).all()
    mine = sorted((a, d, c) for e, a, d, c in pairs if e == entry.id)
    mirror = sorted((a, c, d) for e, a, d, c in pairs if e == rev.id)
    assert mine == mirror and rev.reversal_of_id == entry.id and rev.source_type == "reversal"
    before = await _counts(ctx)
    with pytest.raises(AppError) as exc:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await reverse_entry(s, entry_id=entry.id, entry_date=TODAY, posted_by_id=None)
    assert (exc.value.status, exc.value.code) == (409, "ALREADY_REVERSED")
    assert await _counts(ctx) == before


async def test_usd_entry_base_balances(ctx: AppContext) -> None:
    # 0.01 USD x 1350 = 13.5 -> 14 dinars per line, but the total 0.03 x 1350 = 40.5 -> 41.
    lines = [Line("cash_usd", debit=D("0.01")) for _ in range(3)] + [Line("sales_revenue", credit=D("0.03"))]
    entry = await _post(ctx, lines, currency="USD", exchange_rate=D(1350))
    async with ctx.db.session() as s:
        rows = (
            await s.execute(
                select(JournalLine.base_debit, JournalLine.base_credit).where(
                    JournalLine.entry_id == entry.id
                )
            )
        ).all()
        assert entry.id not in await unbalanced_entries(s)
    assert sum(d for d, _ in rows) == sum(c for _, c in rows) == D(41) == entry.base_total
    assert sorted(d for d, _ in rows if d) == [D(13), D(14), D(14)]


async def test_rate_in_force(ctx: AppContext) -> None:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        s.add(ExchangeRate(rate=D("1200"), effective_from=datetime(1997, 1, 1, 9, 0, 0, 123, tzinfo=UTC)))
    async with ctx.db.session() as s:
        assert await rate_in_force(s, date(1997, 1, 2)) == D(1200)
        assert await rate_in_force(s, datetime(1997, 1, 1, 10, tzinfo=UTC)) == D(1200)
        with pytest.raises(AppError) as exc:
            await rate_in_force(s, date(1990, 1, 1))
    assert (exc.value.status, exc.value.code) == (409, "NO_EXCHANGE_RATE")
    # A USD entry without a rate takes the one in force on its date.
    entry = await _post(
        ctx,
        [Line("cash_usd", debit=D(2)), Line("sales_revenue", credit=D(2))],
        currency="USD",
        entry_date=date(1997, 1, 2),
    )
    assert entry.exchange_rate == D(1200) and entry.base_total == D(2400)


async def test_ledger_invariants(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        assert await trial_balance(s) == 0
        assert await unbalanced_entries(s) == []


async def test_concurrent_posting_numbers_are_unique_and_gapless(ctx: AppContext) -> None:
    # Year 1996 is used by no other test: its numbers must be exactly 1..n whatever the interleaving,
    # and the month's period is created once although every poster finds it missing.
    async def post(i: int) -> str:
        entry = await _post(
            ctx,
            [Line("cash_iqd", debit=D(10 + i)), Line("sales_revenue", credit=D(10 + i))],
            entry_date=date(1996, 5, 1),
        )
        return entry.number

    numbers = await asyncio.gather(*(post(i) for i in range(8)))
    assert sorted(numbers) == [f"JE-1996-{n:06d}" for n in range(1, 9)]
