"""Online payments of a wholesale account (WHO-16): wallet or card, verified with the provider.

Verification goes through the payment gateway of CON-35 (`consumer_payments.gateway_for`): only
the sandbox in dev/test, which confirms `SANDBOX-<account code>-<amount in minor units>` for an
account payment (the account code stands where CON-35 has the order number); elsewhere no
provider is configured and the payment is refused with 503 PAYMENT_PROVIDER_UNAVAILABLE.
Bank transfers and cash are recorded by accounting (ACC-16) or a salesperson (SAL-13).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.money import wire
from tsh.domain.sales.collections import record_payment
from tsh.domain.sales.consumer_payments import PaymentGateway
from tsh.domain.sales.models import Invoice, Payment
from tsh.domain.wholesale.account import account_of, credit_summary
from tsh.platform.errors import AppError, Conflict, Invalid, field_error


async def pay_online(
    session: AsyncSession,
    actor: Actor,
    *,
    amount: Decimal,
    currency: str,
    method: str,
    provider_reference: str,
    allocations: Sequence[tuple[int, Decimal]] | None,
    gateway: PaymentGateway | None,
) -> Payment:
    """Verify, record and allocate an online payment of the caller's account.

    503 PAYMENT_PROVIDER_UNAVAILABLE; 422 PAYMENT_NOT_VERIFIED; 409 DUPLICATE when the provider
    reference is already recorded; 404 INVOICE_NOT_FOUND for an invoice of another account; 422
    OVER_ALLOCATION. Without allocations the oldest invoices are settled first and the rest stays
    as customer credit. Emits PaymentReceived, CreditChanged, JournalPosted (and OrderChanged for
    orders whose payment state changes).
    """
    customer = await account_of(session, actor, lock=True)
    if gateway is None:
        raise AppError(
            "No online payment provider is available", code="PAYMENT_PROVIDER_UNAVAILABLE", status=503
        )
    verified = await gateway.verify(
        method=method,
        reference=provider_reference,
        order_number=customer.code,
        amount=amount,
        currency=currency,
    )
    if not verified:
        raise Invalid(
            "The payment provider did not confirm this payment",
            code="PAYMENT_NOT_VERIFIED",
            details=[field_error("provider_reference", "not confirmed by the provider")],
        )
    if await session.scalar(
        select(Payment.id).where(Payment.method == method, Payment.provider_reference == provider_reference)
    ):
        raise Conflict(
            "This provider payment is already recorded",
            code="DUPLICATE",
            details=[field_error("provider_reference", "already recorded")],
        )
    payment = await record_payment(
        session,
        customer_id=customer.id,
        amount=amount,
        currency=currency,
        method=method,
        reference=provider_reference[:100],
        channel="wholesale",
        collected_by_id=None,
        allocations=list(allocations) if allocations else None,
    )
    payment.provider_reference = provider_reference
    await session.flush()
    return payment


async def payment_view(session: AsyncSession, actor: Actor, payment: Payment) -> dict[str, Any]:
    """The recorded payment, its allocations and the account's credit after it."""
    customer = await account_of(session, actor)
    ids = [a.invoice_id for a in payment.allocations]
    rows = (
        await session.execute(select(Invoice.id, Invoice.number, Invoice.currency).where(Invoice.id.in_(ids)))
    ).all()
    numbers = {iid: number for iid, number, _ in rows}
    currencies = {iid: cur for iid, _, cur in rows}
    summary = await credit_summary(session, customer)
    return {
        "id": payment.id,
        "number": payment.number,
        "method": payment.method,
        "provider_reference": payment.provider_reference,
        "amount": wire(payment.amount, payment.currency),
        "unallocated": wire(payment.unallocated, payment.currency),
        "received_at": payment.received_at,
        "allocations": [
            {
                "invoice_id": a.invoice_id,
                "invoice_number": numbers.get(a.invoice_id, ""),
                "amount": wire(a.amount, currencies.get(a.invoice_id, payment.currency)),
            }
            for a in payment.allocations
        ],
        "credit_used": summary["credit_used"],
        "available": summary["available"],
    }
