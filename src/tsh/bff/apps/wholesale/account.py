"""WHO-12 credit position, WHO-13 credit-limit request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.views import CreditPosition, CreditRequestRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Money
from tsh.domain.wholesale.account import credit_position, request_credit, request_row

Reason = Annotated[str, StringConstraints(min_length=3, max_length=2000)]


@app.screen(
    "WHO-12",
    "/credit",
    roles=CLIENT,
    scope="own",
    cache="financial",
    events=("CreditChanged", "InvoiceIssued", "PaymentReceived"),
    errors=("ACCOUNT_MISSING",),
    response=CreditPosition,
)
async def credit(call: Call) -> dict[str, Any]:
    """Credit position: limit, used, available, aging, overdue invoices, terms, hold and requests."""
    return await credit_position(call.session, call.actor)


class CreditRequestBody(Body):
    requested_limit: Money
    reason: Reason


@app.action(
    "WHO-13",
    "POST",
    "/credit-requests",
    roles=CLIENT,
    scope="own",
    events=("CreditChanged",),
    idempotency="required",
    audit_entity="credit_request",
    errors=("ACCOUNT_MISSING", "REQUEST_PENDING", "NOT_HIGHER", "ACCOUNT_ON_HOLD"),
    response=CreditRequestRow,
)
async def ask_credit(call: Call, *, body: CreditRequestBody) -> Created:
    """Asks for a higher credit limit; decided in the back office."""
    request = await request_credit(
        call.session,
        call.actor,
        requested_limit=body.requested_limit.amount,
        currency=body.requested_limit.currency,
        reason=body.reason,
    )
    call.audit("credit_request", request.id, after={"requested_limit": str(request.requested_limit)})
    return Created(request_row(request))
