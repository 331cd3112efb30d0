"""Helpers shared by the POS services: who acts, branch limits, the caller's open shift, the drawer,
scoped loading of sales and the events a POS command raises.

Locks are taken in one order everywhere (shift row → sale row → stock levels by product id →
journal numbering) so concurrent POS commands never deadlock. The shift row is
the drawer's lock: every command that changes a drawer holds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.events import EventName, raise_event
from tsh.domain.identity.models import Role, User
from tsh.domain.money import round_money, wire
from tsh.domain.organisation.models import Branch
from tsh.domain.pos.models import CashMovement, PosTerminal, PosTransaction, Shift
from tsh.platform.auth.principal import Scope
from tsh.platform.errors import AppError, Conflict, Invalid, NotFound, field_error

# Contract defaults (apps/pos.md) and the project's own where the contract names none
# (docs/pos.md): money limits are in the branch's limits_currency, defaults in IQD.
DEFAULT_CASHIER_DISCOUNT_PCT = Decimal("10")
DEFAULT_REFUND_AGE_DAYS = 14
DEFAULT_PAYOUT_LIMIT_IQD = Decimal("250000")
DEFAULT_REFUND_LIMIT_IQD = Decimal("500000")
DEFAULT_VARIANCE_TOLERANCE_IQD = Decimal("5000")
MAX_OPEN_SALES = 5
# Primary keys are 32-bit integers: a larger id names no row (and PostgreSQL refuses to compare it).
MAX_ROW_ID = 2**31 - 1
# Roles bound by the branch limits (branch_manager and admin are not).
LIMITED_ROLES = frozenset({"cashier"})


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a POS command: user, role, home branch and the scope the row grants."""

    user_id: int
    role: str
    branch_id: int | None
    scope: Scope

    @property
    def limited(self) -> bool:
        return self.role in LIMITED_ROLES


@dataclass(frozen=True, slots=True)
class Limits:
    discount_pct: Decimal
    payout_limit: Decimal
    refund_limit: Decimal
    refund_age_days: int
    variance_tolerance: Decimal
    currency: str


async def branch_limits(session: AsyncSession, branch_id: int) -> Limits:
    """The branch's POS limits, each falling back to its default when not configured."""
    row = (
        await session.execute(
            select(
                Branch.cashier_discount_pct,
                Branch.payout_limit,
                Branch.refund_limit,
                Branch.refund_age_days,
                Branch.cash_variance_tolerance,
                Branch.limits_currency,
            ).where(Branch.id == branch_id)
        )
    ).one()
    return Limits(
        discount_pct=row[0] if row[0] is not None else DEFAULT_CASHIER_DISCOUNT_PCT,
        payout_limit=row[1] if row[1] is not None else DEFAULT_PAYOUT_LIMIT_IQD,
        refund_limit=row[2] if row[2] is not None else DEFAULT_REFUND_LIMIT_IQD,
        refund_age_days=row[3] if row[3] is not None else DEFAULT_REFUND_AGE_DAYS,
        variance_tolerance=row[4] if row[4] is not None else DEFAULT_VARIANCE_TOLERANCE_IQD,
        currency=row[5] or "IQD",
    )


def iqd(amount: Any) -> dict[str, Any] | None:
    """An IQD amount (a sum from SQL, possibly NULL or float-ish on SQLite) on the wire."""
    return wire(round_money(Decimal(amount or 0), "IQD"), "IQD")


def position(at: datetime, row_id: int) -> dict[str, Any]:
    """The keyset position of a list row ordered by (time desc, id desc)."""
    return {"t": at.isoformat(), "i": row_id}


def after_key(after: dict[str, Any]) -> tuple[datetime, int]:
    """Read a position built by `position` (422 for a cursor of another list)."""
    try:
        at, row_id = datetime.fromisoformat(after["t"]), int(after["i"])
    except (KeyError, TypeError, ValueError):
        raise Invalid(
            "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
        ) from None
    return at, row_id


def in_currency(amount: Decimal, currency: str, target: str, rate: Decimal) -> Decimal:
    """`amount` of `currency` expressed in `target` at `rate` IQD per USD."""
    if currency == target:
        return amount
    if currency == "USD":
        return round_money(amount * rate, target)
    return round_money(amount / rate, target)


def no_open_shift(*, screen: bool = False) -> AppError:
    """409 NO_OPEN_SHIFT for a command; a screen answers 404 with the same code (POS-04, POS-07)."""
    if screen:
        return NotFound("There is no open shift", code="NO_OPEN_SHIFT")
    return Conflict("You have no open shift", code="NO_OPEN_SHIFT")


async def lock_shift(session: AsyncSession, shift_id: int) -> Shift:
    """The shift row, locked for the rest of the transaction (the drawer's lock)."""
    stmt = select(Shift).where(Shift.id == shift_id).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()


async def caller_open_shift(session: AsyncSession, user_id: int, *, screen: bool = False) -> Shift:
    """The caller's open shift, locked for a command; else NO_OPEN_SHIFT (409, or 404 on a screen)."""
    shift_id = await session.scalar(
        select(Shift.id).where(Shift.cashier_id == user_id, Shift.status == "open")
    )
    if shift_id is None:
        raise no_open_shift(screen=screen)
    shift = await session.get(Shift, shift_id) if screen else await lock_shift(session, shift_id)
    if shift is None or shift.status != "open":
        raise no_open_shift(screen=screen)
    return shift


def shift_scope(actor: Actor) -> ColumnElement[bool]:
    """The shifts an actor may see: own = opened by the actor, branch = of the actor's branch."""
    if actor.scope == "own":
        return Shift.cashier_id == actor.user_id
    if actor.scope == "branch":
        return Shift.branch_id == actor.branch_id
    return true()


async def scoped_shift_id(session: AsyncSession, actor: Actor, shift_id: int) -> int:
    """`shift_id` if the actor may see it, else 404."""
    if shift_id > MAX_ROW_ID:
        raise NotFound("No such shift", code="SHIFT_NOT_FOUND")
    found = await session.scalar(select(Shift.id).where(Shift.id == shift_id, shift_scope(actor)))
    if found is None:
        raise NotFound("No such shift", code="SHIFT_NOT_FOUND")
    return int(found)


async def scoped_terminal(session: AsyncSession, actor: Actor, terminal_id: int) -> PosTerminal:
    """An active terminal of the actor's branch (any branch for scope all), else 404."""
    stmt = select(PosTerminal).where(PosTerminal.id == terminal_id, PosTerminal.status == "active")
    if actor.scope != "all":
        stmt = stmt.where(PosTerminal.branch_id == actor.branch_id)
    terminal = (await session.execute(stmt)).scalar_one_or_none()
    if terminal is None:
        raise NotFound("No such terminal", code="TERMINAL_NOT_FOUND")
    return terminal


async def check_cashier(session: AsyncSession, actor: Actor, cashier_id: int) -> None:
    """A cashier filter must name someone in the actor's scope (404 otherwise)."""
    if actor.scope == "own":
        ok = cashier_id == actor.user_id
    else:
        stmt = select(User.id).where(User.id == cashier_id)
        if actor.scope == "branch":
            stmt = stmt.where(User.branch_id == actor.branch_id)
        ok = await session.scalar(stmt) is not None
    if not ok:
        raise NotFound("No such cashier", code="CASHIER_NOT_FOUND")


def sale_not_found() -> NotFound:
    return NotFound("No such sale", code="TRANSACTION_NOT_FOUND")


async def load_sale(
    session: AsyncSession, actor: Actor, sale_id: int, *, lock: bool = False, branch_completed: bool = False
) -> PosTransaction:
    """The sale if the actor may see it (404 otherwise).

    Scope own = sales in the actor's shifts; `branch_completed` widens it to the completed sales
    of the actor's branch (POS-10 for cashiers, so POS-14 can refund any receipt).
    """
    if sale_id > MAX_ROW_ID:
        raise sale_not_found()
    stmt = (
        select(PosTransaction)
        .join(Shift, Shift.id == PosTransaction.shift_id)
        .where(PosTransaction.id == sale_id)
    )
    if actor.scope == "own":
        own = Shift.cashier_id == actor.user_id
        if branch_completed:
            own = own | (
                (PosTransaction.branch_id == actor.branch_id) & (PosTransaction.status == "completed")
            )
        stmt = stmt.where(own)
    elif actor.scope == "branch":
        stmt = stmt.where(PosTransaction.branch_id == actor.branch_id)
    if lock:
        stmt = stmt.with_for_update(of=PosTransaction).execution_options(populate_existing=True)
    sale = (await session.execute(stmt)).scalar_one_or_none()
    if sale is None:
        raise sale_not_found()
    return sale


async def drawer_balances(session: AsyncSession, shift_id: int) -> dict[str, Decimal]:
    """Cash in the shift's drawer per currency (the sum of its signed movements)."""
    rows = await session.execute(
        select(CashMovement.currency, func.coalesce(func.sum(CashMovement.amount), 0))
        .where(CashMovement.shift_id == shift_id)
        .group_by(CashMovement.currency)
    )
    out = {"IQD": Decimal("0.00"), "USD": Decimal("0.00")}
    for currency, total in rows.all():
        out[currency] = round_money(Decimal(total), currency)
    return out


def drawer_negative(currency: str, available: Decimal, wanted: Decimal) -> Conflict:
    return Conflict(
        "Not enough cash in the drawer",
        code="DRAWER_NEGATIVE",
        details=[
            {
                "field": "amount",
                "issue": "exceeds the cash in the drawer",
                "currency": currency,
                "available": str(available),
                "requested": str(wanted),
            }
        ],
    )


def add_cash(
    session: AsyncSession,
    shift: Shift,
    *,
    type: str,
    amount: Decimal,
    currency: str,
    by_id: int,
    at: datetime,
    reason: str | None = None,
    transaction_id: int | None = None,
    journal_entry_id: int | None = None,
) -> CashMovement:
    """Record a signed drawer movement (outflows negative)."""
    movement = CashMovement(
        shift_id=shift.id,
        type=type,
        amount=amount,
        currency=currency,
        by_id=by_id,
        at=at,
        reason=reason,
        transaction_id=transaction_id,
        journal_entry_id=journal_entry_id,
    )
    session.add(movement)
    return movement


async def branch_pos_users(session: AsyncSession, branch_id: int) -> list[int]:
    """Cashiers and managers of a branch: a completed sale or a refund changes what a receipt
    lookup of any of them shows (POS-15 searches receipts branch-wide)."""
    rows = await session.scalars(
        select(User.id)
        .join(Role, Role.id == User.role_id)
        .where(User.branch_id == branch_id, Role.code.in_(("cashier", "branch_manager")))
    )
    return list(rows.all())


def raise_pos_events(
    session: AsyncSession,
    names: Iterable[EventName],
    *,
    branch_id: int,
    users: Iterable[int | None],
    customer_id: int | None = None,
) -> None:
    """Raise each event for the shift owners, the branch and the customer the command touched."""
    user_list = list(users)
    for name in names:
        raise_event(session, name, users=user_list, branches=[branch_id], customers=[customer_id])
