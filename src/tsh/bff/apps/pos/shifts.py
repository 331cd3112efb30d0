"""POS-03 open a shift, POS-04 current shift, POS-05 close a shift, POS-06 shift history."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from tsh.bff.apps.pos import OWN_OR_BRANCH, STAFF, RowId, actor_of, app
from tsh.bff.apps.pos.views import PosShift
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, LongText, MoneyNonNegative, Page, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.pos.common import position
from tsh.domain.pos.queries import current_shift, shift_history, shift_summaries
from tsh.domain.pos.shifts import close_shift, open_shift
from tsh.platform.errors import Invalid


class Float(MoneyNonNegative):
    """An opening float amount: ≥ 0 (422 NEGATIVE_AMOUNT below)."""

    validation_codes: ClassVar[tuple[str, ...]] = ("INVALID_AMOUNT", "NEGATIVE_AMOUNT")

    @field_validator("amount", mode="after")
    @classmethod
    def _not_negative(cls, value: Any) -> Any:
        if value.is_finite() and value < 0:
            raise PydanticCustomError("code:NEGATIVE_AMOUNT", "amount must not be negative")
        return value


def _per_currency(amounts: list[Any], field: str) -> dict[str, Any]:
    if len({m.currency for m in amounts}) != len(amounts):
        raise Invalid(details=[{"field": field, "issue": "at most one amount per currency"}])
    return {m.currency: m.amount for m in amounts}


class OpenShift(Body):
    terminal_id: RowId
    opening_float: list[Float] = Field(min_length=1, max_length=2)


@app.action(
    "POS-03",
    "POST",
    "/shifts",
    roles=STAFF,
    scope="own",
    events=("ShiftChanged",),
    idempotency="required",
    audit_entity="pos_shift",
    errors=("SHIFT_ALREADY_OPEN", "NEGATIVE_AMOUNT", "TERMINAL_NOT_FOUND"),
    response=PosShift,
)
async def open_(call: Call, *, body: OpenShift) -> Created:
    """Opens a shift on a terminal with the counted opening float per currency."""
    floats = _per_currency(body.opening_float, "opening_float")
    shift = await open_shift(call.session, actor_of(call), terminal_id=body.terminal_id, opening_float=floats)
    call.audit("pos_shift", shift.id, after={"terminal_id": shift.terminal_id, "status": "open"})
    return Created((await shift_summaries(call.session, [shift.id]))[0])


@app.screen(
    "POS-04",
    "/shifts/current",
    roles=STAFF,
    scope="own",
    cache="none",
    errors=("NO_OPEN_SHIFT",),
    response=PosShift,
)
async def current(call: Call) -> dict[str, Any]:
    """The caller's open shift with its live figures (404 NO_OPEN_SHIFT)."""
    return await current_shift(call.session, actor_of(call))


class Closure(Body):
    counted_cash: list[MoneyNonNegative] = Field(min_length=1, max_length=2)
    note: LongText | None = None


@app.action(
    "POS-05",
    "POST",
    "/shifts/{id}/closure",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    events=("ShiftChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="pos_shift",
    errors=("SHIFT_NOT_OPEN", "OPEN_TRANSACTIONS", "NOTE_REQUIRED", "SHIFT_NOT_FOUND"),
    response=PosShift,
)
async def close(call: Call, *, body: Closure, id: int) -> dict[str, Any]:
    """Closes a shift with the counted cash; freezes expected cash and variance (Z-report)."""
    counted = _per_currency(body.counted_cash, "counted_cash")
    shift = await close_shift(call.session, actor_of(call), shift_id=id, counted_cash=counted, note=body.note)
    call.audit("pos_shift", shift.id, before={"status": "open"}, after={"status": "closed"})
    return (await shift_summaries(call.session, [shift.id]))[0]


class HistoryQuery(Page):
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")
    terminal_id: RowId | None = None
    cashier_id: RowId | None = None
    with_variance: bool | None = None


@app.screen(
    "POS-06",
    "/shifts",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    cache="financial",
    events=("ShiftChanged",),
    errors=("CASHIER_NOT_FOUND",),
    response=PageOf[PosShift],
)
async def history(call: Call, *, query: HistoryQuery) -> dict[str, Any]:
    """Shift history with X/Z figures, newest first."""
    rows = await shift_history(
        call.session,
        actor_of(call),
        limit=query.limit,
        after=decode_cursor(query.cursor),
        date_from=query.date_from,
        date_to=query.date_to,
        terminal_id=query.terminal_id,
        cashier_id=query.cashier_id,
        with_variance=query.with_variance,
    )
    return page(rows, query.limit, lambda s: position(s["opened_at"], s["id"]))
