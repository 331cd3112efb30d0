"""Consumer online payments and cancellations: provider verification, confirmation with invoice
and allocation (CON-35), cancellation with refund to the original method (CON-27).

Providers (Zain Cash, FastPay, card acquirer) cannot be reached from this deployment, so
verification goes through the `PaymentGateway` protocol. `gateway_for(settings)` returns the
SANDBOX gateway only when settings.env is dev or test; it confirms exactly the references
`SANDBOX-<order number>-<order total in minor units>` (total × 100: 125000.00 IQD → 12500000).
Elsewhere no provider is configured and CON-35 answers 503 PAYMENT_PROVIDER_UNAVAILABLE.
Anything else is 422 PAYMENT_NOT_VERIFIED.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.accounting import posting
from tsh.domain.aftersales.models import Refund
from tsh.domain.events import raise_event
from tsh.domain.inventory.models import StockReservation
from tsh.domain.sales import cancellation, ordering
from tsh.domain.sales.checkout import ONLINE_METHODS, own_order
from tsh.domain.sales.models import Invoice, Order, OrderLine, Payment, PaymentAllocation
from tsh.domain.shared import business_today, new_number
from tsh.platform.errors import AppError, Conflict, Invalid, field_error

# -- payment gateway ---------------------------------------------------------------------------


class PaymentGateway(Protocol):
    name: str

    async def verify(
        self, *, method: str, reference: str, order_number: str, amount: Decimal, currency: str
    ) -> bool: ...


class SandboxGateway:
    """Dev/test only: confirms `SANDBOX-<order number>-<amount in minor units>` for the order."""

    name = "sandbox"

    async def verify(
        self, *, method: str, reference: str, order_number: str, amount: Decimal, currency: str
    ) -> bool:
        minor = int((amount * 100).to_integral_value())
        return reference == f"SANDBOX-{order_number}-{minor}"


def gateway_for(settings: Settings) -> PaymentGateway | None:
    return SandboxGateway() if settings.env in ("dev", "test") else None


async def confirm_online_payment(
    session: AsyncSession,
    *,
    customer_id: int,
    order_id: int,
    method: str,
    reference: str,
    amount: Decimal,
    currency: str,
    gateway: PaymentGateway | None,
    by_user_id: int,
) -> Order:
    """409 ALREADY_PAID, 409 ORDER_NOT_PENDING, 503 PAYMENT_PROVIDER_UNAVAILABLE,
    422 PAYMENT_NOT_VERIFIED, 422 AMOUNT_MISMATCH; then confirm (invoice) and allocate."""
    order = await own_order(session, customer_id=customer_id, order_id=order_id, lock=True)
    if order.payment_terms == "online" and order.payment_status != "unpaid":
        raise Conflict("This order is already paid", code="ALREADY_PAID")
    if order.status != "pending" or order.payment_terms != "online":
        raise Conflict("This order is not waiting for an online payment", code="ORDER_NOT_PENDING")
    if gateway is None:
        raise AppError(
            "No online payment provider is available", code="PAYMENT_PROVIDER_UNAVAILABLE", status=503
        )
    verified = method == order.payment_method and await gateway.verify(
        method=method,
        reference=reference,
        order_number=order.number,
        amount=order.total,
        currency=order.currency,
    )
    if not verified:
        raise Invalid(
            "The payment provider did not confirm this payment",
            code="PAYMENT_NOT_VERIFIED",
            details=[field_error("provider_reference", "not confirmed by the provider")],
        )
    if amount != order.total or currency != order.currency:
        raise Invalid(
            "The amount differs from the order total",
            code="AMOUNT_MISMATCH",
            details=[
                field_error(
                    "amount",
                    "differs from the order total",
                    expected=str(order.total),
                    currency=order.currency,
                )
            ],
        )
    await ordering.confirm_order(session, order_id=order.id, by_user_id=by_user_id)
    invoice_id = await session.scalar(select(Invoice.id).where(Invoice.order_id == order.id))
    assert invoice_id is not None
    payment = await _record(session, order, method, reference, invoice_id)
    payment.provider_reference = reference
    await session.execute(
        update(StockReservation)
        .where(StockReservation.order_line_id.in_(_line_ids(order)))
        .values(expires_at=None)
    )
    await session.refresh(order)
    return order


async def _record(
    session: AsyncSession, order: Order, method: str, reference: str, invoice_id: int
) -> Payment:
    from tsh.domain.sales.collections import record_payment

    return await record_payment(
        session,
        customer_id=order.customer_id,
        amount=order.total,
        currency=order.currency,
        method=method,
        reference=reference[:100],
        channel="consumer",
        collected_by_id=None,
        allocations=[(invoice_id, order.total)],
    )


def _line_ids(order: Order) -> Any:
    return select(OrderLine.id).where(OrderLine.order_id == order.id)


async def cancel_own_order(
    session: AsyncSession, *, customer_id: int, order_id: int, reason: str, by_user_id: int
) -> Order:
    """Cancel (409 ORDER_NOT_CANCELLABLE) and refund online payments to the original method."""
    order = await own_order(session, customer_id=customer_id, order_id=order_id)
    online = (
        await session.execute(
            select(Payment, PaymentAllocation.amount)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(Invoice.order_id == order.id, Payment.method.in_(ONLINE_METHODS))
            .order_by(Payment.id)
        )
    ).all()
    await cancellation.cancel_order(session, order_id=order.id, reason=reason, by_user_id=by_user_id)
    for payment, allocated in online:
        await _refund(session, order, payment, allocated, reason, by_user_id)
    if online:
        order.payment_status = "refunded"
        raise_event(session, "RefundIssued", customers=[order.customer_id], branches=[order.branch_id])
        raise_event(session, "JournalPosted", branches=[order.branch_id])
        raise_event(session, "CreditChanged", customers=[order.customer_id], branches=[order.branch_id])
    return order


async def _refund(
    session: AsyncSession, order: Order, payment: Payment, amount: Decimal, reason: str, by_user_id: int
) -> Refund:
    """Give an online payment back to its method: the credit the void left is paid out."""
    payment.unallocated = max(payment.unallocated - amount, Decimal(0))
    refund = Refund(
        number=new_number("RF"),
        source="order_cancellation",
        source_id=order.id,
        customer_id=order.customer_id,
        branch_id=order.branch_id,
        amount=amount,
        currency=payment.currency,
        method="original",
        reference=(payment.provider_reference or payment.number)[:100],
        reason=reason,
        issued_by_id=by_user_id,
    )
    session.add(refund)
    await session.flush()
    entry = await posting.post_entry(
        session,
        journal="CSH",
        entry_date=business_today(),
        currency=payment.currency,
        lines=[
            posting.Line("customer_credit", debit=amount, customer_id=order.customer_id),
            posting.Line(payment.deposit_account_id or "payment_clearing", credit=amount),
        ],
        memo=f"Refund {refund.number}: order {order.number} cancelled",
        source_type="refund",
        source_id=refund.id,
        branch_id=order.branch_id,
        posted_by_id=by_user_id,
        reference=refund.number,
    )
    refund.journal_entry_id = entry.id
    return refund
