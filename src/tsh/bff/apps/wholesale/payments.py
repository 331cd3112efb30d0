"""WHO-16: online payment of invoices (wallet or card), verified with the provider."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.views import PaymentOut
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, Money
from tsh.domain.sales.consumer_payments import gateway_for
from tsh.domain.wholesale.payments import pay_online, payment_view


class Allocation(Body):
    invoice_id: Id
    amount: Money


class PayBody(Body):
    amount: Money
    method: Literal["zain_cash", "fastpay", "card"]
    provider_reference: str = Field(min_length=4, max_length=200)
    allocations: list[Allocation] | None = Field(default=None, max_length=100)


@app.action(
    "WHO-16",
    "POST",
    "/payments",
    roles=CLIENT,
    scope="own",
    events=("PaymentReceived", "CreditChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="payment",
    errors=(
        "ACCOUNT_MISSING",
        "PAYMENT_PROVIDER_UNAVAILABLE",
        "PAYMENT_NOT_VERIFIED",
        "DUPLICATE",
        "INVOICE_NOT_FOUND",
        "OVER_ALLOCATION",
        "CUSTOMER_NOT_FOUND",
    ),
    response=PaymentOut,
)
async def pay(call: Call, *, body: PayBody) -> Created:
    """Pays invoices online: verifies the provider reference, records and allocates the payment."""
    payment = await pay_online(
        call.session,
        call.actor,
        amount=body.amount.amount,
        currency=body.amount.currency,
        method=body.method,
        provider_reference=body.provider_reference,
        # Allocation amounts are in the invoice's currency (checked by the service).
        allocations=[(a.invoice_id, a.amount.amount) for a in body.allocations] if body.allocations else None,
        gateway=gateway_for(call.ctx.settings),
    )
    call.audit("payment", payment.id, after={"number": payment.number, "amount": str(payment.amount)})
    return Created(await payment_view(call.session, call.actor, payment))
