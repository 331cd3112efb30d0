"""Pay-ins, pay-outs and safe drops of a shift's drawer (POS-08).

Each movement posts its own entry in the movement's currency. The branch's tills and safes share
one cash account per currency (chart.py), so a pay-in (safe → till) and a drop (till → safe) post
cash against cash, with the branch and the direction on the lines; a pay-out is money leaving the
business and posts to cash over/short (the chart's only general "other expenses" account) against
cash. See docs/pos.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import Line, post_entry, rate_in_force
from tsh.domain.pos.common import (
    Actor,
    add_cash,
    branch_limits,
    caller_open_shift,
    drawer_balances,
    drawer_negative,
    in_currency,
    lock_shift,
    no_open_shift,
    raise_pos_events,
    scoped_shift_id,
)
from tsh.domain.pos.models import CashMovement, Shift
from tsh.domain.pos.shifts import CASH_ACCOUNT
from tsh.domain.shared import business_today
from tsh.platform.errors import Forbidden, field_error

MOVEMENT_TYPES = ("pay_in", "pay_out", "drop")
_MEMO = {
    "pay_in": "Pay-in (safe to drawer)",
    "pay_out": "Pay-out from drawer",
    "drop": "Safe drop (drawer to safe)",
}


async def target_shift(
    session: AsyncSession, actor: Actor, shift_id: int | None, *, screen: bool = False
) -> Shift:
    """The open shift a drawer command (locked) or screen acts on: the caller's own by default; a
    named shift must be in scope (404) and open (NO_OPEN_SHIFT: 409, or 404 on a screen)."""
    if shift_id is None:
        return await caller_open_shift(session, actor.user_id, screen=screen)
    await scoped_shift_id(session, actor, shift_id)
    shift = await session.get(Shift, shift_id) if screen else await lock_shift(session, shift_id)
    if shift is None or shift.status != "open":
        raise no_open_shift(screen=screen)
    return shift


async def record_movement(
    session: AsyncSession,
    actor: Actor,
    *,
    type: str,
    amount: Decimal,
    currency: str,
    reason: str,
    shift_id: int | None,
) -> CashMovement:
    """Record a pay-in, pay-out or drop; 409 DRAWER_NEGATIVE, 403 APPROVAL_REQUIRED."""
    shift = await target_shift(session, actor, shift_id)
    now = datetime.now(UTC)
    if type in ("pay_out", "drop"):
        available = (await drawer_balances(session, shift.id))[currency]
        if amount > available:
            raise drawer_negative(currency, available, amount)
    if type == "pay_out" and actor.limited:
        limits = await branch_limits(session, shift.branch_id)
        rate = await rate_in_force(session, now) if currency != limits.currency else Decimal("1")
        if in_currency(amount, currency, limits.currency, rate) > limits.payout_limit:
            raise Forbidden(
                "A pay-out above the branch limit needs a branch manager",
                code="APPROVAL_REQUIRED",
                details=[
                    field_error(
                        "amount",
                        "above the pay-out limit",
                        limit=str(limits.payout_limit),
                        currency=limits.currency,
                    )
                ],
            )
    cash = CASH_ACCOUNT[currency]
    other = "cash_over_short" if type == "pay_out" else cash
    debit, credit = (cash, other) if type == "pay_in" else (other, cash)
    entry = await post_entry(
        session,
        journal="POS",
        entry_date=business_today(now),
        currency=currency,
        lines=[
            Line(debit, debit=amount, branch_id=shift.branch_id, memo=reason),
            Line(credit, credit=amount, branch_id=shift.branch_id, memo=reason),
        ],
        memo=f"{_MEMO[type]}, shift {shift.id}: {reason}",
        source_type="shift",
        source_id=shift.id,
        branch_id=shift.branch_id,
        posted_by_id=actor.user_id,
    )
    movement = add_cash(
        session,
        shift,
        type=type,
        amount=amount if type == "pay_in" else -amount,
        currency=currency,
        by_id=actor.user_id,
        at=now,
        reason=reason,
        journal_entry_id=entry.id,
    )
    await session.flush()
    raise_pos_events(
        session, ["ShiftChanged"], branch_id=shift.branch_id, users=[shift.cashier_id, actor.user_id]
    )
    return movement
