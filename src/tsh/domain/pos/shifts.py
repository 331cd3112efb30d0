"""Opening and closing shifts (POS-03, POS-05).

Opening records the counted float per currency as `opening` drawer movements; closing freezes the
expected cash (the drawer sum), the counted cash and the variance per currency, and posts only
the cash over/short (one entry per currency with a variance; IQD first, and its id is kept on the
shift). Tolerance: the variance of both currencies, in the branch's limits currency at the rate
in force, against the branch's cash_variance_tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import Line, post_entry, rate_in_force
from tsh.domain.money import CURRENCIES, round_money
from tsh.domain.pos.common import (
    Actor,
    add_cash,
    branch_limits,
    drawer_balances,
    in_currency,
    lock_shift,
    raise_pos_events,
    scoped_shift_id,
    scoped_terminal,
)
from tsh.domain.pos.models import PosTransaction, Shift
from tsh.domain.shared import business_today
from tsh.platform.errors import Conflict, Invalid, field_error

ZERO = Decimal("0.00")
CASH_ACCOUNT = {"IQD": "cash_iqd", "USD": "cash_usd"}


def _already_open() -> Conflict:
    return Conflict("The cashier or the terminal already has an open shift", code="SHIFT_ALREADY_OPEN")


async def open_shift(
    session: AsyncSession, actor: Actor, *, terminal_id: int, opening_float: Mapping[str, Decimal]
) -> Shift:
    """Open a shift for the caller on a terminal of its branch; 409 SHIFT_ALREADY_OPEN."""
    terminal = await scoped_terminal(session, actor, terminal_id)
    busy = await session.scalar(
        select(func.count())
        .select_from(Shift)
        .where(
            Shift.status == "open", (Shift.cashier_id == actor.user_id) | (Shift.terminal_id == terminal.id)
        )
    )
    if busy:
        raise _already_open()
    now = datetime.now(UTC)
    shift = Shift(
        terminal_id=terminal.id,
        branch_id=terminal.branch_id,
        cashier_id=actor.user_id,
        status="open",
        opened_at=now,
        opening_float_iqd=opening_float.get("IQD", ZERO),
        opening_float_usd=opening_float.get("USD", ZERO),
    )
    session.add(shift)
    try:
        # The partial unique indexes settle a race between two openings.
        await session.flush()
    except IntegrityError:
        raise _already_open() from None
    for currency in CURRENCIES:
        amount = opening_float.get(currency, ZERO)
        if amount > 0:
            add_cash(
                session, shift, type="opening", amount=amount, currency=currency, by_id=actor.user_id, at=now
            )
    await session.flush()
    raise_pos_events(session, ["ShiftChanged"], branch_id=shift.branch_id, users=[actor.user_id])
    return shift


async def close_shift(
    session: AsyncSession,
    actor: Actor,
    *,
    shift_id: int,
    counted_cash: Mapping[str, Decimal],
    note: str | None,
) -> Shift:
    """Close a shift: 409 SHIFT_NOT_OPEN, 409 OPEN_TRANSACTIONS, 422 NOTE_REQUIRED."""
    await scoped_shift_id(session, actor, shift_id)
    shift = await lock_shift(session, shift_id)
    if shift.status != "open":
        raise Conflict("The shift is not open", code="SHIFT_NOT_OPEN")
    open_ids = list(
        await session.scalars(
            select(PosTransaction.id)
            .where(PosTransaction.shift_id == shift.id, PosTransaction.status == "open")
            .order_by(PosTransaction.id)
        )
    )
    if open_ids:
        raise Conflict(
            "Complete or discard the open sales first",
            code="OPEN_TRANSACTIONS",
            details=[field_error("transactions", "open sale", transaction_id=i) for i in open_ids],
        )
    expected = await drawer_balances(session, shift.id)
    counted = {c: counted_cash.get(c, ZERO) for c in CURRENCIES}
    variance = {c: round_money(counted[c] - expected[c], c) for c in CURRENCIES}
    now = datetime.now(UTC)
    limits = await branch_limits(session, shift.branch_id)
    needs_rate = variance["USD"] or limits.currency != "IQD"
    rate = await rate_in_force(session, now) if needs_rate else Decimal("1")
    off_by = sum((in_currency(abs(variance[c]), c, limits.currency, rate) for c in CURRENCIES), ZERO)
    if off_by > limits.variance_tolerance and not (note and note.strip()):
        raise Invalid(
            "A note is required when the cash variance exceeds the branch tolerance",
            code="NOTE_REQUIRED",
            details=[
                field_error(
                    "note",
                    "required",
                    variance={c: str(variance[c]) for c in CURRENCIES},
                    tolerance=str(limits.variance_tolerance),
                    currency=limits.currency,
                )
            ],
        )
    entry_ids = [
        await _post_over_short(session, shift, c, variance[c], rate, actor.user_id)
        for c in CURRENCIES
        if variance[c]
    ]
    shift.status = "closed"
    shift.closed_at = now
    shift.closed_by_id = actor.user_id
    shift.expected_cash_iqd, shift.expected_cash_usd = expected["IQD"], expected["USD"]
    shift.counted_cash_iqd, shift.counted_cash_usd = counted["IQD"], counted["USD"]
    shift.variance_iqd, shift.variance_usd = variance["IQD"], variance["USD"]
    shift.note = note
    shift.journal_entry_id = entry_ids[0] if entry_ids else None
    await session.flush()
    raise_pos_events(
        session, ["ShiftChanged"], branch_id=shift.branch_id, users=[shift.cashier_id, actor.user_id]
    )
    return shift


async def _post_over_short(
    session: AsyncSession, shift: Shift, currency: str, variance: Decimal, rate: Decimal, by_id: int
) -> int:
    amount = abs(variance)
    cash, other = CASH_ACCOUNT[currency], "cash_over_short"
    debit, credit = (cash, other) if variance > 0 else (other, cash)
    entry = await post_entry(
        session,
        journal="POS",
        entry_date=business_today(),
        currency=currency,
        lines=[
            Line(debit, debit=amount, branch_id=shift.branch_id),
            Line(credit, credit=amount, branch_id=shift.branch_id),
        ],
        memo=f"Cash {'over' if variance > 0 else 'short'} at closure of shift {shift.id}",
        source_type="shift",
        source_id=shift.id,
        branch_id=shift.branch_id,
        posted_by_id=by_id,
        exchange_rate=rate if currency == "USD" else None,
    )
    return entry.id
