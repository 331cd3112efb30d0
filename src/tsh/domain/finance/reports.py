"""Statements: general ledger (ACC-10), trial balance (ACC-11), balance sheet (ACC-12) and income
statement (ACC-13), all in base IQD from the journal lines, so they agree with each other: the
trial balance sums to zero, and balance-sheet equity moves by the income statement's profit.

Branch scope filters lines by their branch; a branch balance sheet shows the difference between
its assets and its liabilities + equity as one "head-office account" line (clarifications.md).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import balances, posting
from tsh.domain.accounting.models import Account, JournalEntry, JournalLine
from tsh.domain.actor import Actor
from tsh.domain.finance.queries import (
    ZERO,
    Chart,
    account_head,
    dec,
    get_account,
    line_branch,
    line_filters,
    load_chart,
    natural,
)
from tsh.domain.money import BASE_CURRENCY, CURRENCIES, round_money, wire
from tsh.platform.errors import Invalid, field_error

log = logging.getLogger("tsh.accounting")
# The year-end closing entry moves revenue and expenses to retained earnings; the income
# statement of a period shows the year's result before that move.
CLOSING_SOURCE = "fiscal_period"


def check_period(date_from: date, date_to: date, field: str = "from") -> None:
    if date_from > date_to:
        raise Invalid(
            "The period starts after it ends",
            code="INVALID_PERIOD",
            details=[field_error(field, "after the end of the period")],
        )


async def general_ledger(
    session: AsyncSession,
    actor: Actor,
    *,
    account_id: int,
    date_from: date,
    date_to: date,
    branch_id: int | None,
    currency: str | None,
    limit: int,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """ACC-10: opening balance, the period's lines with running balance, closing balance.

    `currency` set: only lines of entries in that currency, amounts in it; else base IQD.
    The cursor carries the running balance of the last line shown. 404 ACCOUNT_NOT_FOUND,
    422 INVALID_PERIOD.
    """
    account = await get_account(session, account_id)
    check_period(date_from, date_to)
    branch = line_branch(actor, branch_id)
    shown = currency or BASE_CURRENCY
    debit_col = JournalLine.debit if currency else JournalLine.base_debit
    credit_col = JournalLine.credit if currency else JournalLine.base_credit
    where = [JournalLine.account_id == account.id, *line_filters(branch_id=branch)]
    if currency:
        where.append(JournalEntry.currency == currency)

    async def total(*extra: Any) -> Decimal:
        row = (
            await session.execute(
                select(func.sum(debit_col), func.sum(credit_col))
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(*where, *extra)
            )
        ).one()
        return natural(account.type, dec(row[0]), dec(row[1]))

    opening = await total(JournalEntry.date < date_from)
    movement = await total(JournalEntry.date >= date_from, JournalEntry.date <= date_to)
    stmt = (
        select(JournalLine, JournalEntry.number, JournalEntry.date, JournalEntry.memo, JournalEntry.currency)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(*where, JournalEntry.date >= date_from, JournalEntry.date <= date_to)
    )
    running = opening
    if after is not None:
        day, last = date.fromisoformat(after["d"]), int(after["i"])
        running = Decimal(after["b"])
        stmt = stmt.where(or_(JournalEntry.date > day, and_(JournalEntry.date == day, JournalLine.id > last)))
    rows = await session.execute(stmt.order_by(JournalEntry.date, JournalLine.id).limit(limit + 1))
    items = []
    for ln, number, day, memo, entry_currency in rows:
        d, c = (ln.debit, ln.credit) if currency else (ln.base_debit, ln.base_credit)
        running += natural(account.type, d, c)
        items.append(
            {
                "line_id": ln.id,
                "entry_id": ln.entry_id,
                "entry_number": number,
                "date": day,
                "memo": ln.memo or memo,
                "entry_currency": entry_currency,
                "debit": wire(d, shown),
                "credit": wire(c, shown),
                "running_balance": wire(running, shown),
                "branch_id": ln.branch_id,
            }
        )
    return {
        "account": account_head(account),
        "from": date_from,
        "to": date_to,
        "currency": shown,
        "opening_balance": wire(opening, shown),
        "closing_balance": wire(opening + movement, shown),
        "items": items,
    }


def ledger_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"d": row["date"].isoformat(), "i": row["line_id"], "b": row["running_balance"]["amount"]}


def _level_of(chart: Chart, account_id: int, level: int) -> int:
    """The account a line rolls up to at `level`: its ancestor at that depth, or itself when shallower."""
    chain = chart.ancestors(account_id)  # leaf first
    for a in chain:
        if chart.depth[a] <= level:
            return a
    return chain[-1]


async def trial_balance(
    session: AsyncSession, actor: Actor, *, as_of: date, branch_id: int | None, level: int | None
) -> dict[str, Any]:
    """ACC-11: Σ debit, Σ credit and balance per account at `level` (default and cap: the deepest).

    An imbalance is logged as a data-integrity error and answered with balanced=false.
    """
    branch = line_branch(actor, branch_id)
    chart = await load_chart(session)
    depth = min(level or chart.max_depth, chart.max_depth)
    sums = await balances.sums(session, date_from=None, date_to=as_of, branch_id=branch)
    grouped: dict[int, list[Decimal]] = {}
    for aid, (d, c) in sums.items():
        key = _level_of(chart, aid, depth)
        acc = grouped.setdefault(key, [ZERO, ZERO])
        acc[0] += d
        acc[1] += c
    rows = []
    total_debit = total_credit = ZERO
    for aid in sorted(grouped, key=lambda a: chart.accounts[a].code):
        d, c = grouped[aid]
        total_debit += d
        total_credit += c
        a = chart.accounts[aid]
        rows.append(
            {
                "account_id": a.id,
                "code": a.code,
                "name_ar": a.name_ar,
                "name_en": a.name_en,
                "type": a.type,
                "level": chart.depth[aid],
                "debit": wire(d, BASE_CURRENCY),
                "credit": wire(c, BASE_CURRENCY),
                "balance": wire(d - c, BASE_CURRENCY),
            }
        )
    balanced = total_debit == total_credit
    if not balanced:
        log.error(
            "data integrity: trial balance as of %s (branch %s) is off by %s",
            as_of,
            branch,
            total_debit - total_credit,
        )
    return {
        "as_of": as_of,
        "level": depth,
        "branch_id": branch,
        "items": rows,
        "total_debit": wire(total_debit, BASE_CURRENCY),
        "total_credit": wire(total_credit, BASE_CURRENCY),
        "balanced": balanced,
    }


async def _convert(session: AsyncSession, currency: str, on: date) -> tuple[str, Decimal]:
    """Presentation currency and IQD per unit of it (USD statements use the rate in force on `on`)."""
    if currency == BASE_CURRENCY:
        return BASE_CURRENCY, Decimal(1)
    return currency, await posting.rate_in_force(session, on)


async def _sheet(
    session: AsyncSession, chart: Chart, as_of: date, branch: int | None
) -> tuple[dict[int, Decimal], Decimal]:
    """Natural balance per balance-sheet account, and the revenue − expense not yet closed."""
    sums = await balances.sums(session, date_from=None, date_to=as_of, branch_id=branch)
    per_account: dict[int, Decimal] = {}
    profit = ZERO
    for aid, (d, c) in sums.items():
        a = chart.accounts[aid]
        if a.type in ("revenue", "expense"):
            profit += c - d
        else:
            per_account[aid] = natural(a.type, d, c)
    return per_account, profit


async def balance_sheet(
    session: AsyncSession,
    actor: Actor,
    *,
    as_of: date,
    compare_to: date | None,
    branch_id: int | None,
    currency: str,
) -> dict[str, Any]:
    """ACC-12: assets, liabilities and equity (with the result not yet closed to retained earnings).

    Earlier years are closed into retained earnings by the year-end closing entry, so the profit
    line is the current year's result (plus that of any year not closed yet).
    """
    branch = line_branch(actor, branch_id)
    chart = await load_chart(session)
    shown, rate = await _convert(session, currency, as_of)
    dates = [as_of] if compare_to is None else [as_of, compare_to]
    sheets = [await _sheet(session, chart, d, branch) for d in dates]

    def money(base: Decimal) -> dict[str, Any] | None:
        return wire(base if rate == 1 else round_money(base / rate, shown), shown)

    sections = []
    totals: list[list[Decimal]] = []
    for kind in ("asset", "liability", "equity"):
        ids = sorted(
            {a for accounts, _ in sheets for a in accounts if chart.accounts[a].type == kind},
            key=lambda a: chart.accounts[a].code,
        )
        lines = []
        for aid in ids:
            amounts = [accounts.get(aid, ZERO) for accounts, _ in sheets]
            if all(x == 0 for x in amounts):
                continue
            a = chart.accounts[aid]
            lines.append(_sheet_line(a.id, a.code, a.name_en, a.name_ar, amounts, money))
        sums = [sum((accounts.get(a, ZERO) for a in ids), ZERO) for accounts, _ in sheets]
        if kind == "equity":
            profits = [profit for _, profit in sheets]
            lines.append(
                _sheet_line(None, "profit", "Current year profit", "ربح السنة الحالية", profits, money)
            )
            sums = [x + p for x, p in zip(sums, profits, strict=True)]
            if branch is not None:
                # Branch books do not balance on their own: what the branch owes head office (or
                # is owed) is the difference, shown as one labelled line so the sheet balances.
                gaps = [a - (li + e) for a, li, e in zip(totals[0], totals[1], sums, strict=True)]
                lines.append(
                    _sheet_line(
                        None,
                        "head_office",
                        "Head-office account / equity (not allocated)",
                        "حساب المركز الرئيسي / حقوق ملكية غير موزعة",
                        gaps,
                        money,
                    )
                )
                sums = [x + g for x, g in zip(sums, gaps, strict=True)]
        totals.append(sums)
        sections.append({"type": kind, "lines": lines, "total": [money(x) for x in sums]})
    assets, liabilities, equity = totals
    return {
        "dates": dates,
        "branch_id": branch,
        "currency": shown,
        "sections": sections,
        "total_assets": [money(x) for x in assets],
        "total_liabilities_and_equity": [money(x + y) for x, y in zip(liabilities, equity, strict=True)],
        "balanced": [x == y + z for x, y, z in zip(assets, liabilities, equity, strict=True)],
    }


def _sheet_line(
    account_id: int | None, code: str, name_en: str, name_ar: str, amounts: list[Decimal], money: Any
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "code": code,
        "name_en": name_en,
        "name_ar": name_ar,
        "amounts": [money(x) for x in amounts],
    }


async def _period_pl(
    session: AsyncSession,
    chart: Chart,
    cost_of_sales: set[int],
    date_from: date,
    date_to: date,
    branch: int | None,
) -> dict[str, Any]:
    sums = await balances.sums(
        session,
        date_from=date_from,
        date_to=date_to,
        branch_id=branch,
        exclude=JournalEntry.source_type == CLOSING_SOURCE,
    )
    groups: dict[str, dict[int, Decimal]] = {"revenue": {}, "cost_of_sales": {}, "operating_expenses": {}}
    for aid, (d, c) in sums.items():
        a = chart.accounts[aid]
        if a.type == "revenue":
            groups["revenue"][aid] = c - d
        elif a.type == "expense":
            groups["cost_of_sales" if aid in cost_of_sales else "operating_expenses"][aid] = d - c
    revenue = sum(groups["revenue"].values(), ZERO)
    cogs = sum(groups["cost_of_sales"].values(), ZERO)
    opex = sum(groups["operating_expenses"].values(), ZERO)
    gross, net = revenue - cogs, revenue - cogs - opex

    def pct(x: Decimal) -> str | None:
        return None if revenue == 0 else str((x * 100 / revenue).quantize(Decimal("0.01")))

    def section(name: str) -> list[dict[str, Any]]:
        return [
            {
                "account_id": aid,
                "code": chart.accounts[aid].code,
                "name_en": chart.accounts[aid].name_en,
                "name_ar": chart.accounts[aid].name_ar,
                "amount": wire(x, BASE_CURRENCY),
            }
            for aid, x in sorted(groups[name].items(), key=lambda kv: chart.accounts[kv[0]].code)
            if x != 0
        ]

    return {
        "from": date_from,
        "to": date_to,
        "revenue": section("revenue"),
        "cost_of_sales": section("cost_of_sales"),
        "operating_expenses": section("operating_expenses"),
        "total_revenue": wire(revenue, BASE_CURRENCY),
        "total_cost_of_sales": wire(cogs, BASE_CURRENCY),
        "gross_profit": wire(gross, BASE_CURRENCY),
        "total_operating_expenses": wire(opex, BASE_CURRENCY),
        "net_profit": wire(net, BASE_CURRENCY),
        "gross_margin_pct": pct(gross),
        "net_margin_pct": pct(net),
    }


async def income_statement(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: date,
    date_to: date,
    compare_from: date | None,
    compare_to: date | None,
    branch_id: int | None,
) -> dict[str, Any]:
    """ACC-13: revenue, cost of sales, gross profit, operating expenses, net profit and margins.

    Cost of sales = the expense accounts under the parent of the `cogs` control account (no
    account code is hard-coded). 422 INVALID_PERIOD for a range (or comparison) ending before it
    starts, or a comparison given by one end only.
    """
    check_period(date_from, date_to)
    if (compare_from is None) != (compare_to is None):
        raise Invalid(
            "Give both ends of the comparison period",
            code="INVALID_PERIOD",
            details=[field_error("compare_from" if compare_from is None else "compare_to", "required")],
        )
    if compare_from is not None and compare_to is not None:
        check_period(compare_from, compare_to, "compare_from")
    branch = line_branch(actor, branch_id)
    chart = await load_chart(session)
    cogs_parent = chart.accounts[await posting.account_id(session, "cogs")].parent_id
    cost_of_sales = chart.descendants(cogs_parent) if cogs_parent is not None else set()
    current = await _period_pl(session, chart, cost_of_sales, date_from, date_to, branch)
    compare = None
    if compare_from is not None and compare_to is not None:
        compare = await _period_pl(session, chart, cost_of_sales, compare_from, compare_to, branch)
    return {"branch_id": branch, "currency": BASE_CURRENCY, "current": current, "compare": compare}


async def balances_by_currency(
    session: AsyncSession, account_ids: set[int], branch: int | None, as_of: date
) -> dict[str, Decimal]:
    """Σ debit − Σ credit in entry currency, per currency, over these accounts (cash and bank)."""
    sums = await balances.currency_sums(session, account_ids=account_ids, date_to=as_of, branch_id=branch)
    out = {c: ZERO for c in CURRENCIES}
    for currency, (d, c) in sums.items():
        out[currency] = d - c
    return out


async def cash_accounts(session: AsyncSession) -> set[int]:
    return set(await session.scalars(select(Account.id).where(Account.cash_flow_class == "cash")))


async def cash_flow(
    session: AsyncSession, actor: Actor, *, date_from: date, date_to: date, branch_id: int | None
) -> dict[str, Any]:
    """ACC-14, indirect method: net profit adjusted by the movement of operating balance-sheet
    accounts, then investing and financing by the accounts' cash_flow_class; opening and closing
    cash are the `cash` class accounts. Closing entries are left out (they move profit into
    retained earnings, which would count it twice). Company-wide the sections add up to the net
    change in cash; for one branch the lines of entries shared with other branches do not, and
    that remainder is shown as `inter_branch` instead of being hidden. 422 INVALID_PERIOD."""
    check_period(date_from, date_to)
    branch = line_branch(actor, branch_id)
    chart = await load_chart(session)
    opening_sums = await balances.sums(
        session, date_from=None, date_to=date_from - timedelta(days=1), branch_id=branch
    )
    moves = await balances.sums(
        session,
        date_from=date_from,
        date_to=date_to,
        branch_id=branch,
        exclude=JournalEntry.source_type == CLOSING_SOURCE,
    )
    closing_moves = await balances.sums(session, date_from=date_from, date_to=date_to, branch_id=branch)
    cash_ids = {a for a, acc in chart.accounts.items() if acc.cash_flow_class == "cash"}
    opening = sum((d - c for a, (d, c) in opening_sums.items() if a in cash_ids), ZERO)
    change = sum((d - c for a, (d, c) in closing_moves.items() if a in cash_ids), ZERO)
    profit = ZERO
    sections: dict[str, list[dict[str, Any]]] = {"operating": [], "investing": [], "financing": []}
    for aid in sorted(moves, key=lambda a: chart.accounts[a].code):
        a = chart.accounts[aid]
        d, c = moves[aid]
        if aid in cash_ids:
            continue
        if a.type in ("revenue", "expense"):
            profit += c - d
            continue
        effect = c - d  # a rise in an asset uses cash; a rise in a liability or equity provides it
        if effect == 0:
            continue
        sections[a.cash_flow_class if a.cash_flow_class in sections else "operating"].append(
            {"account_id": a.id, "code": a.code, "name_en": a.name_en, "name_ar": a.name_ar, "amount": effect}
        )
    totals = {k: sum((x["amount"] for x in v), ZERO) for k, v in sections.items()}
    totals["operating"] += profit
    explained = totals["operating"] + totals["investing"] + totals["financing"]

    def shaped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "amount": wire(r["amount"], BASE_CURRENCY)} for r in rows]

    return {
        "from": date_from,
        "to": date_to,
        "branch_id": branch,
        "currency": BASE_CURRENCY,
        "net_profit": wire(profit, BASE_CURRENCY),
        "operating": shaped(sections["operating"]),
        "investing": shaped(sections["investing"]),
        "financing": shaped(sections["financing"]),
        "net_operating": wire(totals["operating"], BASE_CURRENCY),
        "net_investing": wire(totals["investing"], BASE_CURRENCY),
        "net_financing": wire(totals["financing"], BASE_CURRENCY),
        "inter_branch": wire(change - explained, BASE_CURRENCY),
        "net_change": wire(change, BASE_CURRENCY),
        "opening_cash": wire(opening, BASE_CURRENCY),
        "closing_cash": wire(opening + change, BASE_CURRENCY),
    }
