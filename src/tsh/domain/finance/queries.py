"""Ledger screens: chart with balances (ACC-02), account detail (ACC-03), journal (ACC-06/07),
exchange rates (ACC-29) and tax codes (ACC-23).

Balances are sums of journal lines in base (IQD) joined to their entry's date: one grouped
statement per screen, never a query per account. Scope: a `branch` actor sees only lines tagged
with its branch (apps/accounting.md, rules across endpoints); asking for another branch is a 404.

Signs: an account's `balance` is on its normal side (debit − credit for assets and expenses,
credit − debit for liabilities, equity and revenue), so a healthy chart shows positive figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import balances
from tsh.domain.accounting.models import (
    Account,
    ExchangeRate,
    Journal,
    JournalEntry,
    JournalLine,
    TaxRate,
)
from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Product
from tsh.domain.identity.models import User
from tsh.domain.money import BASE_CURRENCY, CENT, wire
from tsh.domain.shared import add_months
from tsh.platform.errors import NotFound

ZERO = Decimal("0.00")
DEBIT_NORMAL = frozenset({"asset", "expense"})
LAST_LINES = 20
MONTHS_SHOWN = 12


def dec(value: Any) -> Decimal:
    """A summed amount as a 2-place Decimal (SQLite sums NUMERIC as floats: go through str)."""
    return Decimal(str(value or 0)).quantize(CENT)


def decimal_text(value: Decimal, places: str = "0.000001") -> str:
    """A rate as a plain decimal string without trailing zeros (never "1.5E+3")."""
    text = f"{Decimal(value).quantize(Decimal(places)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def natural(account_type: str, debit: Decimal, credit: Decimal) -> Decimal:
    return debit - credit if account_type in DEBIT_NORMAL else credit - debit


def line_branch(actor: Actor, branch_id: int | None) -> int | None:
    """The branch the caller's figures are filtered to (None = all); 404 for a foreign branch."""
    if actor.sees_all:
        return branch_id
    if branch_id is not None and branch_id != actor.branch_id:
        raise NotFound("Branch not found", code="NOT_FOUND")
    return actor.branch_id


def line_filters(
    *, as_of: date | None = None, date_from: date | None = None, branch_id: int | None = None
) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if as_of is not None:
        out.append(JournalEntry.date <= as_of)
    if date_from is not None:
        out.append(JournalEntry.date >= date_from)
    if branch_id is not None:
        out.append(JournalLine.branch_id == branch_id)
    return out


@dataclass
class Chart:
    """The chart in memory (bounded: tens to a few hundred accounts) with depth and children."""

    accounts: dict[int, Account]
    children: dict[int | None, list[int]]
    depth: dict[int, int]

    def ancestors(self, account_id: int) -> list[int]:
        """The account and its parents, leaf first."""
        chain = [account_id]
        parent = self.accounts[account_id].parent_id
        while parent is not None:
            chain.append(parent)
            parent = self.accounts[parent].parent_id
        return chain

    def rolled_up(self, sums: dict[int, tuple[Decimal, Decimal]]) -> dict[int, tuple[Decimal, Decimal]]:
        """Each account's own lines plus every descendant's."""
        out: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for aid, (d, c) in sums.items():
            if aid not in self.accounts:
                continue
            for a in self.ancestors(aid):
                out[a][0] += d
                out[a][1] += c
        return {a: (v[0], v[1]) for a, v in out.items()}

    def descendants(self, account_id: int) -> set[int]:
        found, stack = set(), [account_id]
        while stack:
            a = stack.pop()
            found.add(a)
            stack.extend(self.children.get(a, []))
        return found

    @property
    def max_depth(self) -> int:
        return max(self.depth.values(), default=1)


async def load_chart(session: AsyncSession) -> Chart:
    accounts = {a.id: a for a in await session.scalars(select(Account).order_by(Account.code))}
    children: dict[int | None, list[int]] = defaultdict(list)
    for a in accounts.values():
        children[a.parent_id].append(a.id)
    depth: dict[int, int] = {}

    def walk(parent: int | None, level: int) -> None:
        for child in children.get(parent, []):
            depth[child] = level
            walk(child, level + 1)

    walk(None, 1)
    return Chart(accounts, children, depth)


def account_head(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "code": a.code,
        "name_ar": a.name_ar,
        "name_en": a.name_en,
        "type": a.type,
        "parent_id": a.parent_id,
        "is_postable": a.is_postable,
        "currency": a.currency,
        "cash_flow_class": a.cash_flow_class,
        "is_active": a.is_active,
    }


async def chart_tree(
    session: AsyncSession,
    actor: Actor,
    *,
    account_type: str | None,
    include_inactive: bool,
    as_of: date,
) -> dict[str, Any]:
    """ACC-02: the whole chart as a tree with base balances as of a date (rolled up to headers)."""
    chart = await load_chart(session)
    totals = chart.rolled_up(await balances.sums(session, date_from=None, date_to=as_of, branch_id=None))

    def node(aid: int) -> dict[str, Any]:
        a = chart.accounts[aid]
        d, c = totals.get(aid, (ZERO, ZERO))
        kids = [
            node(k) for k in chart.children.get(aid, []) if include_inactive or chart.accounts[k].is_active
        ]
        return {
            **account_head(a),
            "level": chart.depth[aid],
            "balance": wire(natural(a.type, d, c), BASE_CURRENCY),
            "children": kids,
        }

    roots = [
        node(a)
        for a in chart.children.get(None, [])
        if (account_type is None or chart.accounts[a].type == account_type)
        and (include_inactive or chart.accounts[a].is_active)
    ]
    return {"as_of": as_of, "items": roots}


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("Account not found", code="ACCOUNT_NOT_FOUND")
    return account


async def account_detail(
    session: AsyncSession, actor: Actor, *, account_id: int, branch_id: int | None, today: date
) -> dict[str, Any]:
    """ACC-03: balance per currency and in base, monthly movement for 12 months, last 20 lines."""
    account = await get_account(session, account_id)
    branch = line_branch(actor, branch_id)
    chart = await load_chart(session)
    ids = chart.descendants(account.id)
    where = [JournalLine.account_id.in_(ids), *line_filters(branch_id=branch)]
    per_currency = await session.execute(
        select(
            JournalEntry.currency,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
            func.sum(JournalLine.base_debit),
            func.sum(JournalLine.base_credit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(*where)
        .group_by(JournalEntry.currency)
        .order_by(JournalEntry.currency)
    )
    balances, base_total = [], ZERO
    for currency, d, c, bd, bc in per_currency:
        base = natural(account.type, dec(bd), dec(bc))
        base_total += base
        balances.append(
            {
                "currency": currency,
                "balance": wire(natural(account.type, dec(d), dec(c)), currency),
                "base": wire(base, BASE_CURRENCY),
            }
        )
    first_month = add_months(today.replace(day=1), 1 - MONTHS_SHOWN)
    by_day = await session.execute(
        select(JournalEntry.date, func.sum(JournalLine.base_debit), func.sum(JournalLine.base_credit))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(*where, JournalEntry.date >= first_month, JournalEntry.date <= today)
        .group_by(JournalEntry.date)
    )
    months: dict[str, list[Decimal]] = {}
    cursor = first_month
    while cursor <= today:
        months[f"{cursor:%Y-%m}"] = [ZERO, ZERO]
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    for day, d, c in by_day:
        months[f"{day:%Y-%m}"][0] += dec(d)
        months[f"{day:%Y-%m}"][1] += dec(c)
    lines = await session.execute(
        select(JournalLine, JournalEntry.number, JournalEntry.date, JournalEntry.currency)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(*where)
        .order_by(JournalEntry.date.desc(), JournalLine.id.desc())
        .limit(LAST_LINES)
    )
    return {
        "account": {**account_head(account), "level": chart.depth.get(account.id, 1)},
        "balance": wire(base_total, BASE_CURRENCY),
        "balances": balances,
        "monthly": [
            {
                "month": m,
                "debit": wire(d, BASE_CURRENCY),
                "credit": wire(c, BASE_CURRENCY),
                "net": wire(natural(account.type, d, c), BASE_CURRENCY),
            }
            for m, (d, c) in months.items()
        ],
        "lines": [_line_row(ln, number, day, currency) for ln, number, day, currency in lines],
    }


def _line_row(ln: JournalLine, number: str, day: date, currency: str) -> dict[str, Any]:
    return {
        "id": ln.id,
        "entry_id": ln.entry_id,
        "entry_number": number,
        "date": day,
        "account_id": ln.account_id,
        "debit": wire(ln.debit, currency),
        "credit": wire(ln.credit, currency),
        "base_debit": wire(ln.base_debit, BASE_CURRENCY),
        "base_credit": wire(ln.base_credit, BASE_CURRENCY),
        "branch_id": ln.branch_id,
        "customer_id": ln.customer_id,
        "memo": ln.memo,
    }


@dataclass(frozen=True)
class JournalFilter:
    date_from: date | None = None
    date_to: date | None = None
    journal: str | None = None
    source_type: str | None = None
    account_id: int | None = None
    status: str | None = None
    text: str | None = None
    branch_id: int | None = None


def _entry_row(e: JournalEntry, journal: str, poster: str | None) -> dict[str, Any]:
    return {
        "id": e.id,
        "number": e.number,
        "date": e.date,
        "journal": journal,
        "memo": e.memo,
        "reference": e.reference,
        "source_type": e.source_type,
        "source_id": e.source_id,
        "currency": e.currency,
        "total": wire(e.total, e.currency),
        "base_total": wire(e.base_total, BASE_CURRENCY),
        "status": e.status,
        "branch_id": e.branch_id,
        "posted_by": None if e.posted_by_id is None else {"id": e.posted_by_id, "name": poster or ""},
        "posted_at": e.posted_at.astimezone(UTC),
    }


async def journal_entries(
    session: AsyncSession, actor: Actor, *, f: JournalFilter, limit: int, after: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """ACC-06: entries newest first (date, id), limit + 1 rows for the keyset page."""
    stmt = (
        select(JournalEntry, Journal.code, User.name)
        .join(Journal, Journal.id == JournalEntry.journal_id)
        .outerjoin(User, User.id == JournalEntry.posted_by_id)
    )
    if f.date_from:
        stmt = stmt.where(JournalEntry.date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(JournalEntry.date <= f.date_to)
    if f.journal:
        stmt = stmt.where(Journal.code == f.journal)
    if f.source_type:
        stmt = stmt.where(JournalEntry.source_type == f.source_type)
    if f.status:
        stmt = stmt.where(JournalEntry.status == f.status)
    if f.text:
        like = f"%{f.text.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(JournalEntry.number).like(like),
                func.lower(JournalEntry.memo).like(like),
                func.lower(func.coalesce(JournalEntry.reference, "")).like(like),
            )
        )
    line_where: list[ColumnElement[bool]] = []
    if f.account_id is not None:
        line_where.append(JournalLine.account_id == f.account_id)
    branch = line_branch(actor, f.branch_id)
    if branch is not None:
        line_where.append(JournalLine.branch_id == branch)
    if line_where:
        stmt = stmt.where(exists().where(JournalLine.entry_id == JournalEntry.id, *line_where))
    if after is not None:
        day, last_id = date.fromisoformat(after["d"]), int(after["i"])
        stmt = stmt.where(
            or_(JournalEntry.date < day, and_(JournalEntry.date == day, JournalEntry.id < last_id))
        )
    stmt = stmt.order_by(JournalEntry.date.desc(), JournalEntry.id.desc()).limit(limit + 1)
    return [_entry_row(e, code, name) for e, code, name in await session.execute(stmt)]


def entry_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"d": row["date"].isoformat(), "i": row["id"]}


async def journal_entry(session: AsyncSession, actor: Actor, *, entry_id: int) -> dict[str, Any]:
    """ACC-07: the entry with its lines, rate, source and reversal links (404 NOT_FOUND)."""
    found = (
        await session.execute(
            select(JournalEntry, Journal.code, User.name)
            .join(Journal, Journal.id == JournalEntry.journal_id)
            .outerjoin(User, User.id == JournalEntry.posted_by_id)
            .where(JournalEntry.id == entry_id)
        )
    ).first()
    if found is None:
        raise NotFound("Journal entry not found", code="NOT_FOUND")
    entry, code, poster = found
    lines = await session.execute(
        select(JournalLine, Account.code, Account.name_ar, Account.name_en)
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.entry_id == entry.id)
        .order_by(JournalLine.id)
    )
    links = {
        e.id: e.number
        for e in await session.scalars(
            select(JournalEntry).where(
                or_(JournalEntry.id == entry.reversal_of_id, JournalEntry.reversal_of_id == entry.id)
            )
        )
    }
    reversed_by = next((i for i in links if i != entry.reversal_of_id), None)
    return {
        **_entry_row(entry, code, poster),
        "exchange_rate": decimal_text(entry.exchange_rate),
        "system": entry.source_type != "manual",
        "reversal_of": None
        if entry.reversal_of_id is None
        else {"id": entry.reversal_of_id, "number": links.get(entry.reversal_of_id, "")},
        "reversed_by": None if reversed_by is None else {"id": reversed_by, "number": links[reversed_by]},
        "lines": [
            {
                **_line_row(ln, entry.number, entry.date, entry.currency),
                "account": {"id": ln.account_id, "code": acode, "name_ar": ar, "name_en": en},
            }
            for ln, acode, ar, en in lines
        ],
    }


async def exchange_rates(
    session: AsyncSession,
    *,
    date_from: datetime,
    date_to: datetime,
    limit: int,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """ACC-29: the rate in force now and the history (newest first) with who set it."""
    now = datetime.now(UTC)
    current = (
        await session.execute(
            select(ExchangeRate, User.name)
            .outerjoin(User, User.id == ExchangeRate.set_by_id)
            .where(ExchangeRate.effective_from <= now)
            .order_by(ExchangeRate.effective_from.desc())
            .limit(1)
        )
    ).first()
    stmt = (
        select(ExchangeRate, User.name)
        .outerjoin(User, User.id == ExchangeRate.set_by_id)
        .where(ExchangeRate.effective_from >= date_from, ExchangeRate.effective_from <= date_to)
    )
    if after is not None:
        stmt = stmt.where(ExchangeRate.effective_from < datetime.fromisoformat(after["t"]))
    rows = await session.execute(stmt.order_by(ExchangeRate.effective_from.desc()).limit(limit + 1))
    return {
        "current": None if current is None else rate_row(*current),
        "items": [rate_row(r, name) for r, name in rows],
    }


def rate_row(r: ExchangeRate, setter: str | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "rate": decimal_text(r.rate),
        "effective_from": r.effective_from.astimezone(UTC),
        "set_by": None if r.set_by_id is None else {"id": r.set_by_id, "name": setter or ""},
    }


def rate_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"t": row["effective_from"].isoformat()}


async def tax_rates(session: AsyncSession) -> list[dict[str, Any]]:
    """ACC-23: every version, grouped by code, newest version first within a code."""
    versions = list(
        await session.execute(
            select(TaxRate, Account.code, Account.name_en)
            .join(Account, Account.id == TaxRate.account_id)
            .order_by(TaxRate.code, TaxRate.effective_from.desc())
        )
    )
    counts = dict(
        (
            await session.execute(
                select(TaxRate.code, func.count(Product.id))
                .join(Product, Product.tax_rate_id == TaxRate.id)
                .group_by(TaxRate.code)
            )
        ).all()
    )
    return [
        {
            "id": t.id,
            "code": t.code,
            "name": t.name,
            "rate": str(t.rate.quantize(Decimal("0.001"))),
            "kind": t.kind,
            "effective_from": t.effective_from,
            "effective_to": t.effective_to,
            "account": {"id": t.account_id, "code": acode, "name": aname},
            "product_count": int(counts.get(t.code, 0)),
        }
        for t, acode, aname in versions
    ]


async def exchange_rate(session: AsyncSession, rate_id: int) -> dict[str, Any]:
    """One rate row as ACC-29 shows it."""
    found = (
        await session.execute(
            select(ExchangeRate, User.name)
            .outerjoin(User, User.id == ExchangeRate.set_by_id)
            .where(ExchangeRate.id == rate_id)
        )
    ).one()
    return rate_row(*found)
