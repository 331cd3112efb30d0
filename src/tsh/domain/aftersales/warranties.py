"""Warranty services: lookup by serial, coverage, voiding, expiry and the replacement takeover.

Warranties of sold serialised items are created where the sale happens: order delivery
(`tsh.domain.sales.fulfilment.deliver_order`) and POS payment (`tsh.domain.pos.payment.pay_sale`),
for the product's warranty months. This module does not create them a second way; it adds the
replacement warranty of a job completed with outcome `replaced` (ASO-09: the replacement serial
takes over the remaining term) and voids warranties of returned items (ASO-14).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales.models import Warranty
from tsh.domain.catalog.models import Product
from tsh.domain.events import raise_event
from tsh.domain.shared import add_months, business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error


def effective_status(warranty: Warranty, today: dt.date | None = None) -> str:
    """active / expired / void as of `today` (an active row past its end date is expired)."""
    if warranty.status == "active" and warranty.ends_on < (today or business_today()):
        return "expired"
    return warranty.status


def covers(warranty: Warranty | None, today: dt.date | None = None) -> bool:
    return warranty is not None and effective_status(warranty, today) == "active"


async def get_warranty(session: AsyncSession, *, warranty_id: int, lock: bool = False) -> Warranty:
    """404 WARRANTY_NOT_FOUND."""
    stmt = select(Warranty).where(Warranty.id == warranty_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    warranty = await session.scalar(stmt)
    if warranty is None:
        raise NotFound("Warranty not found", code="WARRANTY_NOT_FOUND")
    return warranty


async def lookup_by_serial(
    session: AsyncSession, *, serial_number: str, product_id: int | None = None
) -> list[Warranty]:
    """Every warranty of a serial (newest first), company-wide (ASO-15)."""
    stmt = select(Warranty).where(Warranty.serial_number == serial_number.strip())
    if product_id is not None:
        stmt = stmt.where(Warranty.product_id == product_id)
    return list(await session.scalars(stmt.order_by(Warranty.id.desc())))


async def active_warranty(
    session: AsyncSession, *, product_id: int, serial_number: str | None, today: dt.date | None = None
) -> Warranty | None:
    """The warranty covering this product's serial today, if any."""
    if not serial_number:
        return None
    row = await session.scalar(
        select(Warranty).where(
            Warranty.product_id == product_id,
            Warranty.serial_number == serial_number.strip(),
            Warranty.status == "active",
        )
    )
    return row if covers(row, today) else None


def _changed(session: AsyncSession, warranties: Sequence[Warranty], branch_id: int | None = None) -> None:
    raise_event(
        session,
        "WarrantyChanged",
        customers=[w.customer_id for w in warranties],
        branches=[branch_id],
        warranty_ids=sorted(w.id for w in warranties),
    )


async def void_warranty(
    session: AsyncSession, *, warranty_id: int, reason: str, branch_id: int | None = None
) -> Warranty:
    """Void a warranty with a reason (409 WARRANTY_VOID when it already is; 422 without a reason)."""
    if not reason.strip():
        raise Invalid("A reason is required", details=[field_error("reason", "required")])
    warranty = await get_warranty(session, warranty_id=warranty_id, lock=True)
    if warranty.status == "void":
        raise Conflict("The warranty is already void", code="WARRANTY_VOID")
    warranty.status, warranty.void_reason, warranty.voided_at = "void", reason.strip(), utcnow()
    await session.flush()
    _changed(session, [warranty], branch_id)
    return warranty


async def void_for_order_lines(
    session: AsyncSession, *, returned: Sequence[tuple[int, int]], reason: str, branch_id: int | None
) -> list[Warranty]:
    """Void the warranties of returned items: per (order_line_id, qty), `qty` of the line's
    non-void warranties (the returned serials are not recorded on return lines; the highest
    serials go first so the choice is deterministic)."""
    voided: list[Warranty] = []
    now = utcnow()
    for line_id, qty in sorted(returned):
        rows = list(
            await session.scalars(
                select(Warranty)
                .where(Warranty.order_line_id == line_id, Warranty.status != "void")
                .order_by(Warranty.serial_number.desc(), Warranty.id)
                .with_for_update()
            )
        )
        for w in rows[:qty]:
            w.status, w.void_reason, w.voided_at = "void", reason, now
            voided.append(w)
    if voided:
        await session.flush()
        _changed(session, voided, branch_id)
    return voided


async def expire_warranties(session: AsyncSession, *, today: dt.date | None = None) -> int:
    """Mark active warranties past their end date expired (the nightly sweep); returns how many."""
    day = today or business_today()
    rows = list(
        await session.scalars(
            select(Warranty).where(Warranty.status == "active", Warranty.ends_on < day).with_for_update()
        )
    )
    for w in rows:
        w.status = "expired"
    if rows:
        await session.flush()
        _changed(session, rows)
    return len(rows)


async def replace_serial(
    session: AsyncSession,
    *,
    old: Warranty | None,
    product_id: int,
    customer_id: int,
    replacement_serial: str,
    branch_id: int,
) -> Warranty | None:
    """Outcome `replaced`: the replacement serial takes over the remaining term of the covering
    warranty (which is voided). Without a covering warranty the replacement unit gets the product's
    own warranty from today (none when the product has no warranty months).

    422 when the replacement serial is already under an active warranty of the product.
    """
    serial = replacement_serial.strip()
    taken = await session.scalar(
        select(Warranty.id).where(
            Warranty.product_id == product_id, Warranty.serial_number == serial, Warranty.status == "active"
        )
    )
    if taken is not None and (old is None or taken != old.id):
        raise Invalid(
            "The replacement serial already has an active warranty",
            details=[field_error("replacement_serial", "already under warranty", warranty_id=taken)],
        )
    today = business_today()
    if covers(old, today):
        assert old is not None
        if old.serial_number == serial:
            raise Invalid(
                "The replacement serial is the replaced one",
                details=[field_error("replacement_serial", "same as the replaced serial")],
            )
        old.status, old.voided_at = "void", utcnow()
        old.void_reason = f"replaced by serial {serial}"
        await session.flush()  # the active-serial index admits one active row per serial
        new = Warranty(
            product_id=product_id,
            serial_number=serial,
            customer_id=old.customer_id,
            order_line_id=old.order_line_id,
            pos_line_id=old.pos_line_id,
            starts_on=today,
            ends_on=max(old.ends_on, today),
            claims_count=0,
            replaces_id=old.id,
        )
        changed = [old]
    else:
        months = await session.scalar(select(Product.warranty_months).where(Product.id == product_id))
        if not months:
            return None
        new = Warranty(
            product_id=product_id,
            serial_number=serial,
            customer_id=customer_id,
            starts_on=today,
            ends_on=add_months(today, int(months)),
            claims_count=0,
            replaces_id=old.id if old is not None else None,
        )
        changed = []
    session.add(new)
    await session.flush()
    _changed(session, [*changed, new], branch_id)
    return new
