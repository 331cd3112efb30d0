"""POS sales report (POS-16): revenue, count, average basket, one breakdown (day, hour, cashier,
category or terminal), payment methods, top products, refunds, discounts and USD tendered.

Days and hours are Asia/Baghdad local time. Iraq keeps UTC+3 all year (no daylight saving since
2008), so SQLite shifts by a fixed 3 hours; PostgreSQL converts with the zone itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales.models import Refund
from tsh.domain.catalog.models import Category, Product
from tsh.domain.identity.models import User
from tsh.domain.money import round_money, wire
from tsh.domain.organisation.models import Branch
from tsh.domain.pos.common import Actor, iqd
from tsh.domain.pos.dashboard import top_products
from tsh.domain.pos.models import PosLine, PosTender, PosTerminal, PosTransaction, Shift
from tsh.domain.shared import day_start_utc
from tsh.platform.errors import Invalid, NotFound, field_error

MAX_DAYS = 366
GROUPS = ("day", "hour", "cashier", "category", "terminal")


def _local_part(session: AsyncSession, column: Any, part: str) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        fmt = {"day": "YYYY-MM-DD", "hour": "HH24"}[part]
        return func.to_char(func.timezone("Asia/Baghdad", column), fmt)
    fmt = {"day": "%Y-%m-%d", "hour": "%H"}[part]
    return func.strftime(fmt, func.datetime(column, "+3 hours"))


async def _branch_filter(session: AsyncSession, actor: Actor, branch_id: int | None) -> int | None:
    if actor.scope == "branch":
        if branch_id is not None and branch_id != actor.branch_id:
            raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
        return actor.branch_id
    if branch_id is not None and await session.get(Branch, branch_id) is None:
        raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
    return branch_id


async def sales_report(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: date,
    date_to: date,
    group_by: str,
    terminal_id: int | None,
    branch_id: int | None,
) -> dict[str, Any]:
    if date_to < date_from:
        raise Invalid("`to` is before `from`", details=[field_error("to", "must not be before from")])
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise Invalid(
            f"The period may span at most {MAX_DAYS} days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", f"more than {MAX_DAYS} days after from")],
        )
    branch = await _branch_filter(session, actor, branch_id)
    if terminal_id is not None:
        terminal = await session.get(PosTerminal, terminal_id)
        if terminal is None or (branch is not None and terminal.branch_id != branch):
            raise NotFound("No such terminal", code="TERMINAL_NOT_FOUND")
    start, end = day_start_utc(date_from), day_start_utc(date_to + timedelta(days=1))
    where: ColumnElement[bool] = (
        (PosTransaction.status == "completed")
        & (PosTransaction.completed_at >= start)
        & (PosTransaction.completed_at < end)
    )
    if branch is not None:
        where = where & (PosTransaction.branch_id == branch)
    if terminal_id is not None:
        where = where & (Shift.terminal_id == terminal_id)
    count, total, tax, discount = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(PosTransaction.total), 0),
                func.coalesce(func.sum(PosTransaction.tax), 0),
                func.coalesce(func.sum(PosTransaction.discount), 0),
            )
            .select_from(PosTransaction)
            .join(Shift, Shift.id == PosTransaction.shift_id)
            .where(where)
        )
    ).one()
    total = Decimal(total)
    return {
        "from": date_from,
        "to": date_to,
        "branch_id": branch,
        "terminal_id": terminal_id,
        "group_by": group_by,
        "sales_count": count,
        "revenue": iqd(total),
        "net_revenue": iqd(total - Decimal(tax)),
        "tax": iqd(tax),
        "discounts": iqd(discount),
        "average_basket": iqd(total / count if count else 0),
        "groups": await _groups(session, where, group_by),
        "by_method": await _methods(session, where),
        "top_products": await top_products(session, where, start, 10),
        "refunds": await _refunds(session, start, end, branch, terminal_id),
        "usd_tendered": await _usd(session, where),
    }


async def _groups(session: AsyncSession, where: ColumnElement[bool], group_by: str) -> list[dict[str, Any]]:
    base = select().select_from(PosTransaction).join(Shift, Shift.id == PosTransaction.shift_id).where(where)
    if group_by == "category":
        rows = await session.execute(
            base.join(PosLine, PosLine.transaction_id == PosTransaction.id)
            .join(Product, Product.id == PosLine.product_id)
            .join(Category, Category.id == Product.category_id)
            .add_columns(
                Category.id,
                Category.name_en,
                func.count(func.distinct(PosTransaction.id)),
                func.sum(PosLine.line_total + PosLine.tax),
                func.sum(PosLine.qty),
            )
            .group_by(Category.id, Category.name_en)
            .order_by(func.sum(PosLine.line_total + PosLine.tax).desc(), Category.id)
        )
        return [
            {"key": cid, "label": name, "sales_count": c, "revenue": iqd(rev), "qty": int(q or 0)}
            for cid, name, c, rev, q in rows
        ]
    key: Any
    label: Any
    if group_by in ("day", "hour"):
        key = label = _local_part(session, PosTransaction.completed_at, group_by)
        stmt = base
    elif group_by == "cashier":
        key, label = Shift.cashier_id, User.name
        stmt = base.join(User, User.id == Shift.cashier_id)
    else:
        key, label = Shift.terminal_id, PosTerminal.code
        stmt = base.join(PosTerminal, PosTerminal.id == Shift.terminal_id)
    rows = await session.execute(
        stmt.add_columns(key, label, func.count(), func.sum(PosTransaction.total))
        .group_by(key, label)
        .order_by(key)
    )
    return [{"key": k, "label": lab, "sales_count": c, "revenue": iqd(rev)} for k, lab, c, rev in rows]


async def _methods(session: AsyncSession, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            PosTender.method,
            func.count(func.distinct(PosTransaction.id)),
            func.sum(PosTender.amount_iqd - PosTender.change_iqd),
        )
        .join(PosTransaction, PosTransaction.id == PosTender.transaction_id)
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .where(where)
        .group_by(PosTender.method)
        .order_by(PosTender.method)
    )
    return [{"method": m, "sales_count": c, "amount": iqd(a)} for m, c, a in rows]


async def _refunds(
    session: AsyncSession, start: Any, end: Any, branch: int | None, terminal_id: int | None
) -> dict[str, Any]:
    cond: ColumnElement[bool] = (
        (Refund.source == "pos_transaction") & (Refund.issued_at >= start) & (Refund.issued_at < end)
    )
    if branch is not None:
        cond = cond & (Refund.branch_id == branch)
    stmt = select(func.count(), func.coalesce(func.sum(Refund.amount), 0)).select_from(Refund)
    if terminal_id is not None:
        stmt = stmt.join(Shift, Shift.id == Refund.shift_id)
        cond = cond & (Shift.terminal_id == terminal_id)
    count, amount = (await session.execute(stmt.where(cond))).one()
    return {"count": count, "amount": iqd(amount)}


async def _usd(session: AsyncSession, where: ColumnElement[bool]) -> dict[str, Any]:
    amount, amount_iqd = (
        await session.execute(
            select(
                func.coalesce(func.sum(PosTender.amount), 0), func.coalesce(func.sum(PosTender.amount_iqd), 0)
            )
            .join(PosTransaction, PosTransaction.id == PosTender.transaction_id)
            .join(Shift, Shift.id == PosTransaction.shift_id)
            .where(where, PosTender.currency == "USD")
        )
    ).one()
    return {"amount": wire(round_money(Decimal(amount), "USD"), "USD"), "amount_iqd": iqd(amount_iqd)}
