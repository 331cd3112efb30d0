"""Bank screens: bank and cash accounts (ACC-17) and the reconciliation workspace (ACC-19).

Statement balance: the last closed reconciliation's statement balance plus the statement lines
imported after it. Before a first reconciliation the statement's opening is unknown, so the
screen shows no statement balance (null) rather than a figure built on a guess.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import Account, BankAccount, BankMatch, Reconciliation, StatementLine
from tsh.domain.finance.bank import (
    MATCH_DAYS,
    book_balance,
    book_candidates,
    outstanding,
    score,
)
from tsh.domain.finance.queries import ZERO, dec
from tsh.domain.money import wire
from tsh.platform.errors import NotFound

SUGGEST_AT = 50


async def _last_reconciliations(session: AsyncSession) -> dict[int, Reconciliation]:
    latest = (
        select(Reconciliation.bank_account_id, func.max(Reconciliation.statement_date).label("d"))
        .group_by(Reconciliation.bank_account_id)
        .subquery()
    )
    rows = await session.scalars(
        select(Reconciliation).join(
            latest,
            and_(
                latest.c.bank_account_id == Reconciliation.bank_account_id,
                latest.c.d == Reconciliation.statement_date,
            ),
        )
    )
    return {r.bank_account_id: r for r in rows}


async def bank_accounts(session: AsyncSession, *, today: date) -> list[dict[str, Any]]:
    """ACC-17: every active bank and cash account with book and statement figures."""
    banks = list(
        await session.execute(
            select(BankAccount, Account.code, Account.name_en, Account.name_ar)
            .join(Account, Account.id == BankAccount.account_id)
            .where(BankAccount.is_active.is_(True))
            .order_by(Account.code)
        )
    )
    recs = await _last_reconciliations(session)
    stats = {
        bank_id: (int(unmatched or 0), last_date)
        for bank_id, unmatched, last_date in await session.execute(
            select(
                StatementLine.bank_account_id,
                func.sum(case((StatementLine.match_id.is_(None), 1), else_=0)),
                func.max(StatementLine.date),
            ).group_by(StatementLine.bank_account_id)
        )
    }
    after_rec: dict[int, Decimal] = {}
    for bank, *_ in banks:
        rec = recs.get(bank.id)
        if rec is not None:
            after_rec[bank.id] = dec(
                await session.scalar(
                    select(func.sum(StatementLine.amount)).where(
                        StatementLine.bank_account_id == bank.id, StatementLine.date > rec.statement_date
                    )
                )
            )
    out = []
    for bank, code, name_en, name_ar in banks:
        rec = recs.get(bank.id)
        unmatched, last_date = stats.get(bank.id, (0, None))
        out.append(
            {
                "id": bank.id,
                "account": {"id": bank.account_id, "code": code, "name_en": name_en, "name_ar": name_ar},
                "kind": "bank" if bank.bank_name else "cash",
                "bank_name": bank.bank_name,
                "account_number": bank.account_number,
                "currency": bank.currency,
                "book_balance": wire(await book_balance(session, bank, today), bank.currency),
                "last_statement_date": last_date,
                "last_statement_balance": None
                if rec is None
                else wire(rec.statement_balance + after_rec.get(bank.id, ZERO), bank.currency),
                "unmatched_statement_lines": unmatched,
                "last_reconciliation": None
                if rec is None
                else {
                    "id": rec.id,
                    "statement_date": rec.statement_date,
                    "statement_balance": wire(rec.statement_balance, bank.currency),
                    "closed_at": rec.closed_at,
                },
            }
        )
    return out


def _statement_row(st: StatementLine, currency: str) -> dict[str, Any]:
    return {
        "id": st.id,
        "date": st.date,
        "amount": wire(st.amount, currency),
        "description": st.description,
        "reference": st.reference,
    }


async def workspace(
    session: AsyncSession, *, bank_account_id: int, to: date, limit: int, after: dict[str, Any] | None
) -> dict[str, Any]:
    """ACC-19: a page of unmatched statement lines up to `to` (oldest first), the unmatched book
    lines dated within 3 days of that page's lines, suggestions scored ≥ 50, matched totals and
    the open difference (Σ unmatched statement lines − Σ outstanding book lines up to `to`)."""
    bank = await session.get(BankAccount, bank_account_id)
    if bank is None:
        raise NotFound("Bank account not found", code="NOT_FOUND")
    stmt = select(StatementLine).where(
        StatementLine.bank_account_id == bank.id, StatementLine.match_id.is_(None), StatementLine.date <= to
    )
    if after is not None:
        day, last = date.fromisoformat(after["d"]), int(after["i"])
        stmt = stmt.where(
            or_(StatementLine.date > day, and_(StatementLine.date == day, StatementLine.id > last))
        )
    rows = list(await session.scalars(stmt.order_by(StatementLine.date, StatementLine.id).limit(limit + 1)))
    shown = rows[:limit]
    book: list[dict[str, Any]] = []
    suggestions: list[dict[str, Any]] = []
    if shown:
        first = min(s.date for s in shown) - timedelta(days=MATCH_DAYS)
        last_day = max(s.date for s in shown) + timedelta(days=MATCH_DAYS)
        candidates = await book_candidates(session, bank, first, last_day)
        for ln, day, number, ref in candidates:
            book.append(
                {
                    "id": ln.id,
                    "entry_id": ln.entry_id,
                    "entry_number": number,
                    "date": day,
                    "amount": wire(ln.debit - ln.credit, bank.currency),
                    "reference": ref,
                    "memo": ln.memo,
                }
            )
        for st in shown:
            text = f"{st.description} {st.reference or ''}"
            for ln, day, number, ref in candidates:
                points = score(st.amount, st.date, text, ln.debit - ln.credit, day, [number, ref or ""])
                if points >= SUGGEST_AT:
                    suggestions.append(
                        {"statement_line_id": st.id, "journal_line_id": ln.id, "score": points}
                    )
        suggestions.sort(key=lambda s: (-s["score"], s["statement_line_id"], s["journal_line_id"]))
    matched = (
        await session.execute(
            select(func.count(StatementLine.id), func.sum(StatementLine.amount)).where(
                StatementLine.bank_account_id == bank.id,
                StatementLine.match_id.isnot(None),
                StatementLine.date <= to,
            )
        )
    ).one()
    unmatched_sum = dec(
        await session.scalar(
            select(func.sum(StatementLine.amount)).where(
                StatementLine.bank_account_id == bank.id,
                StatementLine.match_id.is_(None),
                StatementLine.date <= to,
            )
        )
    )
    open_book = await outstanding(session, bank, to)
    matches = int(
        await session.scalar(
            select(func.count(BankMatch.id)).where(
                BankMatch.bank_account_id == bank.id, BankMatch.reconciliation_id.is_(None)
            )
        )
        or 0
    )
    return {
        "bank_account_id": bank.id,
        "currency": bank.currency,
        "to": to,
        "items": [_statement_row(s, bank.currency) for s in shown],
        "next_cursor_position": {"d": shown[-1].date.isoformat(), "i": shown[-1].id}
        if len(rows) > limit
        else None,
        "book_lines": book,
        "suggestions": suggestions,
        "matched_lines": int(matched[0] or 0),
        "matched_total": wire(dec(matched[1]), bank.currency),
        "open_matches": matches,
        "unmatched_statement_total": wire(unmatched_sum, bank.currency),
        "outstanding_book_total": wire(open_book, bank.currency),
        "book_balance": wire(await book_balance(session, bank, to), bank.currency),
        "difference": wire(unmatched_sum - open_book, bank.currency),
        "last_reconciled_date": bank.last_reconciled_date,
    }
