"""ACC-01 finance dashboard: cash and bank per currency, receivables, month-to-date results against
the same days of last month, unreconciled bank lines, tax payable and the current period.

Branch scope: ledger figures from the branch's lines, receivables from its invoices. Bank
statements belong to the company's bank accounts, not to a branch, so a branch manager gets no
unreconciled-lines figure (null) rather than a company-wide one.

The screen runs the figures as sections (`dashboard_parts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import balances, posting
from tsh.domain.accounting.models import Account, FiscalPeriod, JournalEntry, StatementLine
from tsh.domain.actor import Actor
from tsh.domain.finance.queries import ZERO, dec, line_branch, load_chart
from tsh.domain.finance.reports import CLOSING_SOURCE, balances_by_currency, cash_accounts
from tsh.domain.money import BASE_CURRENCY, CURRENCIES, round_money, wire
from tsh.domain.sales.models import Invoice
from tsh.domain.sales.models.payments import UNPAID_INVOICE_STATUSES
from tsh.domain.shared import add_months

TAX_KEYS = ("vat_output", "vat_input", "tax_payable")


async def _results(session: AsyncSession, first: date, last: date, branch: int | None) -> dict[str, Decimal]:
    chart = await load_chart(session)
    sums = await balances.sums(
        session,
        date_from=first,
        date_to=last,
        branch_id=branch,
        exclude=JournalEntry.source_type == CLOSING_SOURCE,
    )
    revenue = expenses = ZERO
    for aid, (d, c) in sums.items():
        kind = chart.accounts[aid].type
        if kind == "revenue":
            revenue += c - d
        elif kind == "expense":
            expenses += d - c
    return {"revenue": revenue, "expenses": expenses, "net_profit": revenue - expenses}


DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def dashboard_parts(
    session: AsyncSession, actor: Actor, *, branch_id: int | None, currency: str, today: date
) -> dict[str, DashboardPart]:
    """ACC-01 as the parts the screen runs as sections, in base IQD or in USD at today's rate
    (cash and bank per currency); scope and rate are settled first (NO_EXCHANGE_RATE).

    `balances`: cash, bank, receivables, tax payable, the period: money a user acts on, so the
    screen makes it required (never shown stale). `results`: month to date against the same days
    of last month. `bank_lines`: unreconciled statement lines (null for a branch)."""
    branch = line_branch(actor, branch_id)
    rate = Decimal(1) if currency == BASE_CURRENCY else await posting.rate_in_force(session, today)

    def shown(base: Decimal) -> dict[str, Any] | None:
        return wire(base if rate == 1 else round_money(base / rate, currency), currency)

    async def money(s: AsyncSession) -> dict[str, Any]:
        return await _balances(s, branch, currency, today, shown)

    async def results(s: AsyncSession) -> dict[str, Any]:
        month_start = today.replace(day=1)
        last_start = add_months(month_start, -1)
        # The same number of days of last month (capped at its end) makes the comparison fair.
        last_end = min(last_start + (today - month_start), month_start - timedelta(days=1))
        now = await _results(s, month_start, today, branch)
        before = await _results(s, last_start, last_end, branch)
        return {
            "month_to_date": {k: shown(v) for k, v in now.items()},
            "last_month_same_days": {k: shown(v) for k, v in before.items()},
        }

    async def bank_lines(s: AsyncSession) -> dict[str, Any]:
        unreconciled = None
        if branch is None:
            unreconciled = int(
                await s.scalar(select(func.count(StatementLine.id)).where(StatementLine.match_id.is_(None)))
                or 0
            )
        return {"unreconciled_bank_lines": unreconciled}

    return {"balances": money, "results": results, "bank_lines": bank_lines}


async def _balances(
    session: AsyncSession,
    branch: int | None,
    currency: str,
    today: date,
    shown: Callable[[Decimal], dict[str, Any] | None],
) -> dict[str, Any]:
    cash_ids = await cash_accounts(session)
    bank_ids = set(
        await session.scalars(
            select(Account.id).where(Account.id.in_(cash_ids), Account.system_key.like("bank_%"))
        )
    )
    cash = await balances_by_currency(session, cash_ids - bank_ids, branch, today)
    bank = await balances_by_currency(session, bank_ids, branch, today)

    inv = select(
        func.sum(Invoice.balance * func.coalesce(JournalEntry.exchange_rate, 1)),
    ).outerjoin(JournalEntry, JournalEntry.id == Invoice.journal_entry_id)
    inv = inv.where(Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    if branch is not None:
        inv = inv.where(Invoice.branch_id == branch)
    receivable = round_money(dec(await session.scalar(inv)), BASE_CURRENCY)
    overdue = round_money(dec(await session.scalar(inv.where(Invoice.due_date < today))), BASE_CURRENCY)

    tax_ids = [await posting.account_id(session, k) for k in TAX_KEYS]
    all_sums = await balances.sums(session, date_from=None, date_to=today, branch_id=branch)
    tax_payable = sum((c - d for a, (d, c) in all_sums.items() if a in tax_ids), ZERO)

    period = await session.scalar(
        select(FiscalPeriod).where(FiscalPeriod.year == today.year, FiscalPeriod.month == today.month)
    )
    return {
        "as_of": today,
        "branch_id": branch,
        "currency": currency,
        "cash": [wire(cash[c], c) for c in CURRENCIES],
        "bank": [wire(bank[c], c) for c in CURRENCIES],
        "receivables_total": shown(receivable),
        "receivables_overdue": shown(overdue),
        "tax_payable": shown(tax_payable),
        "fiscal_period": None
        if period is None
        else {"id": period.id, "year": period.year, "month": period.month, "status": period.status},
    }
