"""The USD→IQD exchange rate (ACC-30): one rate in force at any moment, set from a moment on.

Posted amounts are never revalued: documents keep the rate they used, so a new rate only changes
what is posted or priced after its `effective_from`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import ExchangeRate, FiscalPeriod
from tsh.domain.accounting.posting import BUSINESS_TZ
from tsh.domain.events import raise_event
from tsh.platform.errors import Conflict, Invalid, field_error

# A new rate further than this from the rate it replaces needs confirm=true (RATE_OUT_OF_BAND).
BAND = Decimal("0.05")


async def set_rate(
    session: AsyncSession,
    *,
    rate: Decimal,
    effective_from: datetime | None,
    confirm: bool,
    set_by_id: int | None,
) -> ExchangeRate:
    """Set the rate from `effective_from` (default now; an aware moment).

    409 DUPLICATE when a rate already starts at that very moment (one rate in force at a time);
    422 RATE_OUT_OF_BAND when it differs by more than 5 % from the rate in force at that moment,
    unless `confirm`; 409 PERIOD_CLOSED when the moment's Baghdad date is in a closed period.
    Emits PriceChanged. Never commits.
    """
    if rate <= 0:
        raise Invalid(details=[field_error("rate", "must be greater than 0")])
    at = (effective_from or datetime.now(UTC)).astimezone(UTC)
    day = at.astimezone(BUSINESS_TZ).date()
    closed = await session.scalar(
        select(FiscalPeriod.id).where(
            FiscalPeriod.year == day.year, FiscalPeriod.month == day.month, FiscalPeriod.status == "closed"
        )
    )
    if closed is not None:
        raise Conflict(f"The period {day:%Y-%m} is closed", code="PERIOD_CLOSED")
    same = await session.scalar(select(ExchangeRate.id).where(ExchangeRate.effective_from == at))
    if same is not None:
        raise Conflict(
            "A rate already starts at that moment",
            code="DUPLICATE",
            details=[field_error("effective_from", "a rate already starts at this moment", id=same)],
        )
    current = await session.scalar(
        select(ExchangeRate.rate)
        .where(ExchangeRate.effective_from <= at)
        .order_by(ExchangeRate.effective_from.desc())
        .limit(1)
    )
    if current is not None and not confirm:
        current = Decimal(current)
        if abs(rate - current) > current * BAND:
            raise Invalid(
                "The rate differs from the current rate by more than 5 %; send confirm=true",
                code="RATE_OUT_OF_BAND",
                details=[
                    field_error("rate", "more than 5 % from the current rate", current_rate=str(current))
                ],
            )
    row = ExchangeRate(rate=rate, effective_from=at, set_by_id=set_by_id)
    session.add(row)
    await session.flush()
    raise_event(session, "PriceChanged", everyone=True, exchange_rate_id=row.id)
    return row
