"""POS-07 live cash drawer and POS-08 pay-in / pay-out / safe drop."""

from __future__ import annotations

from typing import Any, Literal

from tsh.bff.apps.pos import OWN_OR_BRANCH, STAFF, RowId, actor_of, app
from tsh.bff.apps.pos.views import PosDrawer, PosMovementResult
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Money, Query, Text
from tsh.domain.money import wire
from tsh.domain.pos.drawer import record_movement
from tsh.domain.pos.queries import cash_drawer


class DrawerQuery(Query):
    shift_id: RowId | None = None


@app.screen(
    "POS-07",
    "/cash-drawer",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    cache="none",
    errors=("NO_OPEN_SHIFT", "SHIFT_NOT_FOUND"),
    response=PosDrawer,
)
async def drawer(call: Call, *, query: DrawerQuery) -> dict[str, Any]:
    """Live cash drawer of an open shift per currency, with the last 20 movements."""
    return await cash_drawer(call.session, actor_of(call), shift_id=query.shift_id)


class NewMovement(Body):
    type: Literal["pay_in", "pay_out", "drop"]
    amount: Money
    reason: Text
    shift_id: RowId | None = None


@app.action(
    "POS-08",
    "POST",
    "/cash-drawer/movements",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    events=("ShiftChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="cash_movement",
    errors=("NO_OPEN_SHIFT", "DRAWER_NEGATIVE", "APPROVAL_REQUIRED", "SHIFT_NOT_FOUND"),
    response=PosMovementResult,
)
async def movement(call: Call, *, body: NewMovement) -> Created:
    """Records a pay-in, pay-out or safe drop; answers the movement and the drawer as in POS-07."""
    actor = actor_of(call)
    moved = await record_movement(
        call.session,
        actor,
        type=body.type,
        amount=body.amount.amount,
        currency=body.amount.currency,
        reason=body.reason,
        shift_id=body.shift_id,
    )
    call.audit("cash_movement", moved.id, after={"type": moved.type, "amount": str(moved.amount)})
    return Created(
        {
            "movement": {
                "id": moved.id,
                "shift_id": moved.shift_id,
                "type": moved.type,
                "amount": wire(moved.amount, moved.currency),
                "reason": moved.reason,
                "journal_entry_id": moved.journal_entry_id,
                "at": moved.at,
            },
            "drawer": await cash_drawer(call.session, actor, shift_id=moved.shift_id),
        }
    )
