"""Consumer checkout (CON-33 … CON-35): summary, placing the order from the cart, online payment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import StringConstraints, model_validator

from tsh.bff.apps.consumer.common import CONSUMER, app, customer_id, language, now
from tsh.bff.apps.consumer.orders import order_payload
from tsh.bff.apps.consumer.views import ConCheckout, ConOrder
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, Money, Query
from tsh.domain.sales import checkout, consumer_payments

Option = Literal["standard", "express", "pickup"]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class CheckoutQuery(Query):
    address_id: Id | None = None
    pickup_branch_id: Id | None = None
    delivery_option: Option | None = None
    promo_code: Code | None = None


class PlaceOrder(Body):
    address_id: Id | None = None
    pickup_branch_id: Id | None = None
    delivery_option: Option
    payment_method: Literal["cash_on_delivery", "zain_cash", "fastpay", "card"]
    promo_code: Code | None = None
    expected_total: Money
    note: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> PlaceOrder:
        if (self.address_id is None) == (self.pickup_branch_id is None):
            raise ValueError("exactly one of address_id and pickup_branch_id is required")
        if (self.delivery_option == "pickup") != (self.pickup_branch_id is not None):
            raise ValueError("pickup needs pickup_branch_id; delivery needs address_id")
        return self


class OnlinePayment(Body):
    method: Literal["zain_cash", "fastpay", "card"]
    provider_reference: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    amount: Money


@app.screen(
    "CON-33",
    "/checkout",
    roles=CONSUMER,
    scope="own",
    cache="none",
    errors=("CART_EMPTY",),
    response=ConCheckout,
)
async def summary(call: Call, *, query: CheckoutQuery) -> dict[str, Any]:
    """Checkout summary: re-validated lines, addresses, delivery options, payment methods, totals."""
    return await checkout.checkout_summary(
        call.session,
        customer_id=customer_id(call),
        language=language(call),
        at=now(),
        address_id=query.address_id,
        pickup_branch_id=query.pickup_branch_id,
        option=query.delivery_option,
        promo_code=query.promo_code,
    )


@app.action(
    "CON-34",
    "POST",
    "/orders",
    roles=CONSUMER,
    scope="own",
    idempotency="required",
    events=("OrderCreated", "StockChanged", "InvoiceIssued", "CreditChanged", "JournalPosted"),
    audit_entity="order",
    errors=(
        "CART_EMPTY",
        "INSUFFICIENT_STOCK",
        "PRICE_CHANGED",
        "PROMO_INVALID",
        "OUTSIDE_DELIVERY_ZONE",
        "BELOW_MIN_ORDER",
        "OPTION_NOT_AVAILABLE",
    ),
    response=ConOrder,
)
async def place(call: Call, *, body: PlaceOrder) -> Created:
    """Places the order from the cart: re-prices, reserves stock, empties the cart."""
    order = await checkout.place_from_cart(
        call.session,
        user_id=call.user_id,
        customer_id=customer_id(call),
        language=language(call),
        address_id=body.address_id,
        pickup_branch_id=body.pickup_branch_id,
        option=body.delivery_option,
        payment_method=body.payment_method,
        promo_code=body.promo_code,
        expected_total=body.expected_total.amount,
        expected_currency=body.expected_total.currency,
        note=body.note,
        now=now(),
    )
    await call.session.flush()
    call.audit("order", order.id, after={"number": order.number, "total": str(order.total)})
    return Created(await order_payload(call, order.id))


@app.action(
    "CON-35",
    "POST",
    "/orders/{id}/payments",
    roles=CONSUMER,
    scope="own",
    idempotency="required",
    events=("PaymentReceived", "OrderChanged", "InvoiceIssued", "CreditChanged", "JournalPosted"),
    audit_entity="order",
    errors=("ALREADY_PAID", "ORDER_NOT_PENDING", "PAYMENT_NOT_VERIFIED", "AMOUNT_MISMATCH"),
    response=ConOrder,
)
async def pay(call: Call, *, id: int, body: OnlinePayment) -> dict[str, Any]:
    """Confirms the online payment of a pending order and allocates it to the new invoice."""
    cid = customer_id(call)
    at = now()
    await checkout.cancel_expired_online_orders(call.session, at, customer_id=cid, by_user_id=call.user_id)
    await consumer_payments.confirm_online_payment(
        call.session,
        customer_id=cid,
        order_id=id,
        method=body.method,
        reference=body.provider_reference,
        amount=body.amount.amount,
        currency=body.amount.currency,
        gateway=consumer_payments.gateway_for(call.ctx.settings),
        by_user_id=call.user_id,
    )
    await call.session.flush()
    return await order_payload(call, id)
