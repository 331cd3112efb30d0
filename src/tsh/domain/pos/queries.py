"""Shift screens: the current shift (POS-04), shift history with X/Z figures (POS-06) and the live
cash drawer (POS-07).

Set-based: the figures of any number of shifts cost five grouped statements (`shift_summaries`),
so a history page never runs a query per shift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales.models import Refund
from tsh.domain.identity.models import User
from tsh.domain.money import CURRENCIES, round_money, wire
from tsh.domain.pos.common import Actor, after_key, caller_open_shift, check_cashier, iqd, shift_scope
from tsh.domain.pos.drawer import target_shift
from tsh.domain.pos.models import CashMovement, PosTender, PosTerminal, PosTransaction, Shift
from tsh.domain.shared import day_start_utc

ZERO = Decimal("0.00")
DRAWER_MOVEMENTS = 20


def per_currency(values: dict[str, Decimal] | None) -> dict[str, Any]:
    values = values or {}
    return {c: wire(values.get(c, ZERO), c) for c in CURRENCIES}


def _maybe_per_currency(iqd: Decimal | None, usd: Decimal | None) -> dict[str, Any] | None:
    if iqd is None and usd is None:
        return None
    return per_currency({"IQD": iqd or ZERO, "USD": usd or ZERO})


async def shift_summaries(session: AsyncSession, shift_ids: Sequence[int]) -> list[dict[str, Any]]:
    """X/Z figures of the shifts, in the order given."""
    if not shift_ids:
        return []
    ids = list(shift_ids)
    head: dict[int, _Head] = {}
    for shift, code, name, cashier_name in await session.execute(
        select(Shift, PosTerminal.code, PosTerminal.name, User.name)
        .join(PosTerminal, PosTerminal.id == Shift.terminal_id)
        .join(User, User.id == Shift.cashier_id)
        .where(Shift.id.in_(ids))
    ):
        head[shift.id] = _Head(shift, code, name, cashier_name)
    sales: dict[int, dict[str, Any]] = {}
    for shift_id, status, count, total, discount in await session.execute(
        select(
            PosTransaction.shift_id,
            PosTransaction.status,
            func.count(),
            func.coalesce(func.sum(PosTransaction.total), 0),
            func.coalesce(func.sum(PosTransaction.discount), 0),
        )
        .where(PosTransaction.shift_id.in_(ids), PosTransaction.status.in_(("completed", "open")))
        .group_by(PosTransaction.shift_id, PosTransaction.status)
    ):
        sales.setdefault(shift_id, {})[status] = (count, total, discount)
    methods: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for shift_id, method, count, amount in await session.execute(
        select(
            PosTransaction.shift_id,
            PosTender.method,
            func.count(func.distinct(PosTransaction.id)),
            func.coalesce(func.sum(PosTender.amount_iqd - PosTender.change_iqd), 0),
        )
        .join(PosTransaction, PosTransaction.id == PosTender.transaction_id)
        .where(PosTransaction.shift_id.in_(ids), PosTransaction.status == "completed")
        .group_by(PosTransaction.shift_id, PosTender.method)
        .order_by(PosTransaction.shift_id, PosTender.method)
    ):
        methods[shift_id].append({"method": method, "count": count, "amount": iqd(amount)})
    refunds: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for refund_shift, method, count, amount in await session.execute(
        select(Refund.shift_id, Refund.method, func.count(), func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.shift_id.in_(ids), Refund.source == "pos_transaction")
        .group_by(Refund.shift_id, Refund.method)
        .order_by(Refund.shift_id, Refund.method)
    ):
        refunds[int(refund_shift or 0)].append({"method": method, "count": count, "amount": iqd(amount)})
    moves: dict[int, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for shift_id, mtype, currency, amount in await session.execute(
        select(CashMovement.shift_id, CashMovement.type, CashMovement.currency, func.sum(CashMovement.amount))
        .where(CashMovement.shift_id.in_(ids))
        .group_by(CashMovement.shift_id, CashMovement.type, CashMovement.currency)
    ):
        moves[shift_id][mtype][currency] = round_money(Decimal(amount), currency)
    return [_summary(head[i], sales.get(i, {}), methods[i], refunds[i], moves[i]) for i in ids if i in head]


@dataclass(frozen=True, slots=True)
class _Head:
    shift: Shift
    code: str
    name: str
    cashier_name: str


def _summary(
    h: _Head,
    sales: dict[str, tuple[int, Any, Any]],
    methods: list[dict[str, Any]],
    refunds: list[dict[str, Any]],
    moves: dict[str, dict[str, Decimal]],
) -> dict[str, Any]:
    s = h.shift
    count, total, discount = sales.get("completed", (0, 0, 0))
    live = {c: sum((moves[t].get(c, ZERO) for t in moves), ZERO) for c in CURRENCIES}
    expected = (
        live
        if s.status == "open"
        else {"IQD": s.expected_cash_iqd or ZERO, "USD": s.expected_cash_usd or ZERO}
    )
    return {
        "id": s.id,
        "status": s.status,
        "terminal": {"id": s.terminal_id, "code": h.code, "name": h.name},
        "cashier": {"id": s.cashier_id, "name": h.cashier_name},
        "branch_id": s.branch_id,
        "opened_at": s.opened_at,
        "closed_at": s.closed_at,
        "opening_float": per_currency({"IQD": s.opening_float_iqd, "USD": s.opening_float_usd}),
        "sales": {"count": count, "total": iqd(total), "by_method": methods},
        "open_sales": sales.get("open", (0, 0, 0))[0],
        "refunds": {
            "count": sum(r["count"] for r in refunds),
            "total": iqd(sum(Decimal(r["amount"]["amount"]) for r in refunds)),
            "by_method": refunds,
        },
        "discounts": iqd(discount),
        "cash_movements": {t: per_currency(moves.get(t)) for t in ("pay_in", "pay_out", "drop")},
        "expected_cash": per_currency(expected),
        "counted_cash": _maybe_per_currency(s.counted_cash_iqd, s.counted_cash_usd),
        "variance": _maybe_per_currency(s.variance_iqd, s.variance_usd),
        "note": s.note,
        "journal_entry_id": s.journal_entry_id,
    }


async def current_shift(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """POS-04: the caller's open shift with its live figures; 404 NO_OPEN_SHIFT."""
    shift = await caller_open_shift(session, actor.user_id, screen=True)
    return (await shift_summaries(session, [shift.id]))[0]


async def shift_history(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    date_from: date | None,
    date_to: date | None,
    terminal_id: int | None,
    cashier_id: int | None,
    with_variance: bool | None,
) -> list[dict[str, Any]]:
    """POS-06: shifts newest first with their X (open) or Z (closed) figures; up to limit+1 items
    (the caller pages them on `opened_at`, `id`)."""
    stmt = select(Shift.id, Shift.opened_at).where(shift_scope(actor))
    if cashier_id is not None:
        await check_cashier(session, actor, cashier_id)
        stmt = stmt.where(Shift.cashier_id == cashier_id)
    if terminal_id is not None:
        stmt = stmt.where(Shift.terminal_id == terminal_id)
    if date_from is not None:
        stmt = stmt.where(Shift.opened_at >= day_start_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(Shift.opened_at < day_start_utc(date_to + timedelta(days=1)))
    if with_variance is not None:
        varied = or_(Shift.variance_iqd != 0, Shift.variance_usd != 0)
        stmt = stmt.where(varied if with_variance else and_(Shift.status == "closed", ~varied))
    if after is not None:
        at, last_id = after_key(after)
        stmt = stmt.where(or_(Shift.opened_at < at, and_(Shift.opened_at == at, Shift.id < last_id)))
    rows = (
        await session.execute(stmt.order_by(Shift.opened_at.desc(), Shift.id.desc()).limit(limit + 1))
    ).all()
    return await shift_summaries(session, [r.id for r in rows])


async def cash_drawer(session: AsyncSession, actor: Actor, *, shift_id: int | None) -> dict[str, Any]:
    """POS-07: per currency opening float, cash sales net of change, refunds, pay-ins, pay-outs,
    drops and expected balance, and the last 20 movements; 404 NO_OPEN_SHIFT."""
    shift = await target_shift(session, actor, shift_id, screen=True)
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for mtype, currency, amount in await session.execute(
        select(CashMovement.type, CashMovement.currency, func.sum(CashMovement.amount))
        .where(CashMovement.shift_id == shift.id)
        .group_by(CashMovement.type, CashMovement.currency)
    ):
        sums[currency][mtype] = round_money(Decimal(amount), currency)
    currencies = {}
    for c in CURRENCIES:
        m = sums.get(c, {})
        currencies[c] = {
            "opening_float": wire(m.get("opening", ZERO), c),
            "cash_sales": wire(m.get("sale", ZERO) + m.get("change", ZERO), c),
            "change_given": wire(-m.get("change", ZERO), c),
            "refunds": wire(-m.get("refund", ZERO), c),
            "pay_ins": wire(m.get("pay_in", ZERO), c),
            "pay_outs": wire(-m.get("pay_out", ZERO), c),
            "drops": wire(-m.get("drop", ZERO), c),
            "expected": wire(sum(m.values(), ZERO), c),
        }
    recent = await session.execute(
        select(CashMovement, User.name)
        .join(User, User.id == CashMovement.by_id)
        .where(CashMovement.shift_id == shift.id)
        .order_by(CashMovement.at.desc(), CashMovement.id.desc())
        .limit(DRAWER_MOVEMENTS)
    )
    return {
        "shift": {
            "id": shift.id,
            "terminal_id": shift.terminal_id,
            "cashier_id": shift.cashier_id,
            "opened_at": shift.opened_at,
        },
        "currencies": currencies,
        "movements": [
            {
                "id": m.id,
                "type": m.type,
                "amount": wire(m.amount, m.currency),
                "reason": m.reason,
                "transaction_id": m.transaction_id,
                "by": {"id": m.by_id, "name": name},
                "at": m.at,
            }
            for m, name in recent.all()
        ],
    }
