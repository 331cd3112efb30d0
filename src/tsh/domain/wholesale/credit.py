"""Back-office decisions on wholesale credit requests (WHO-13 asks, the back office decides)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.customers.models import Customer
from tsh.domain.events import raise_event
from tsh.domain.wholesale.models import CreditRequest
from tsh.platform.errors import Conflict, NotFound

Decision = Literal["approved", "rejected"]


async def decide_credit_request(
    session: AsyncSession,
    *,
    request_id: int,
    decision: Decision,
    note: str | None,
    by_user_id: int,
    branch_id: int | None = None,
) -> CreditRequest:
    """Approve or reject a pending request; approval sets the customer's credit_limit to the
    requested limit. `branch_id` limits the request to that branch's customers (404 outside).

    409 NOT_PENDING unless pending; 409 CURRENCY_MISMATCH when the account currency changed since
    the request. Emits CreditChanged. Never commits.
    """
    stmt = (
        select(CreditRequest, Customer)
        .join(Customer, Customer.id == CreditRequest.customer_id)
        .where(CreditRequest.id == request_id)
    )
    if branch_id is not None:
        stmt = stmt.where(Customer.branch_id == branch_id)
    found = (await session.execute(stmt.with_for_update())).first()
    if found is None:
        raise NotFound("Credit request not found", code="NOT_FOUND")
    request, customer = found[0], found[1]
    if request.status != "pending":
        raise Conflict(f"The credit request is {request.status}", code="NOT_PENDING")
    if decision == "approved":
        if customer.currency != request.currency:
            raise Conflict("The account currency changed since the request", code="CURRENCY_MISMATCH")
        customer.credit_limit = request.requested_limit
        customer.version += 1
    request.status = decision
    request.decided_by_id = by_user_id
    request.decided_at = datetime.now(UTC)
    if note is not None:
        request.note = note
    await session.flush()
    raise_event(
        session,
        "CreditChanged",
        customers=[customer.id],
        branches=[customer.branch_id],
        users=[customer.salesperson_id],
        partners=[customer.partner_id],
        credit_request_id=request.id,
    )
    return request
