"""Consumer checkout: summary, placement from the cart, online payment, cancellation with refund,
reorder and return requests.

Fulfilment: a delivery order is served by the branch of the delivery zone covering the address's
city (fee, express fee, minimum order and allowed payment methods come from that zone); a pickup
order by the pickup branch (no fee, every payment method). Prices come from that branch's consumer
price list. Checks of CON-34 run as: 422 CART_EMPTY, then the address and zone (404 not own,
422 OUTSIDE_DELIVERY_ZONE, 422 OPTION_NOT_AVAILABLE) because the branch that prices and reserves
follows from them, then `place_order` (409 INSUFFICIENT_STOCK, 409 PRICE_CHANGED, 422 PROMO_INVALID
from pricing), then 422 BELOW_MIN_ORDER. Any failure rolls the whole unit of work back.

Online payment verification and refunds: `tsh.domain.sales.consumer_payments`.

Unpaid online orders: reserved stock is held 30 minutes. `expire_unpaid_online_orders` (the
scheduled job, every minute) cancels them company-wide; `cancel_expired_online_orders` also runs
lazily before the consumer's order screens and actions (CON-25, CON-26, CON-34, CON-35) for the
caller's orders, so a screen never shows an order as payable between two job runs. Both take the
orders FOR UPDATE SKIP LOCKED: an order another runner is cancelling is left to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog.pricing import price_list_for
from tsh.domain.catalog.queries import Serving, serving_of
from tsh.domain.customers.consumer import own_address, zone_for_city
from tsh.domain.organisation.models import DELIVERY_PAYMENT_METHODS, Branch, DeliveryZone
from tsh.domain.sales import cancellation, ordering
from tsh.domain.sales.models import Order
from tsh.platform.errors import AppError, Invalid, NotFound, field_error

PAYMENT_WINDOW = timedelta(minutes=30)
ONLINE_METHODS = ("zain_cash", "fastpay", "card")


# -- fulfilment --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fulfilment:
    serving: Serving
    option: str
    fee: Decimal
    zone: DeliveryZone | None
    snapshot: dict[str, object] | None
    pickup_branch_id: int | None
    payment_methods: tuple[str, ...]


async def resolve_fulfilment(
    session: AsyncSession,
    *,
    customer_id: int,
    address_id: int | None,
    pickup_branch_id: int | None,
    option: str,
    payment_method: str | None = None,
) -> Fulfilment:
    """404 ADDRESS_NOT_FOUND / BRANCH_NOT_FOUND, 422 OUTSIDE_DELIVERY_ZONE, 422 OPTION_NOT_AVAILABLE."""
    from tsh.domain.customers.consumer import address_snapshot

    if option == "pickup":
        if pickup_branch_id is None or address_id is not None:
            raise Invalid(
                details=[field_error("pickup_branch_id", "required for pickup, without address_id")]
            )
        branch = await session.scalar(
            select(Branch.id).where(Branch.id == pickup_branch_id, Branch.status == "active")
        )
        if branch is None:
            raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
        return Fulfilment(
            serving=await serving_of(session, branch),
            option=option,
            fee=Decimal(0),
            zone=None,
            snapshot=None,
            pickup_branch_id=branch,
            payment_methods=DELIVERY_PAYMENT_METHODS,
        )
    if address_id is None or pickup_branch_id is not None:
        raise Invalid(details=[field_error("address_id", "required for delivery, without pickup_branch_id")])
    address = await own_address(session, customer_id=customer_id, address_id=address_id)
    zone = await zone_for_city(session, address.city)
    if option == "express" and zone.express_fee_amount is None:
        raise Invalid(
            "This zone offers no express delivery",
            code="OPTION_NOT_AVAILABLE",
            details=[field_error("delivery_option", "express is not offered in this zone")],
        )
    methods = tuple(zone.payment_methods or DELIVERY_PAYMENT_METHODS)
    if payment_method is not None and payment_method not in methods:
        raise Invalid(
            "This zone does not accept the payment method",
            code="OPTION_NOT_AVAILABLE",
            details=[field_error("payment_method", "not accepted in this zone", allowed=list(methods))],
        )
    fee = (
        zone.express_fee_amount
        if option == "express" and zone.express_fee_amount is not None
        else zone.fee_amount
    )
    snapshot = address_snapshot(address)
    snapshot["delivery_zone_id"] = zone.id
    return Fulfilment(
        serving=await serving_of(session, zone.branch_id),
        option=option,
        fee=fee,
        zone=zone,
        snapshot=snapshot,
        pickup_branch_id=None,
        payment_methods=methods,
    )


def below_minimum(fulfilment: Fulfilment, goods_total: Decimal) -> bool:
    zone = fulfilment.zone
    return zone is not None and goods_total < zone.min_order_amount


# -- orders of the caller ----------------------------------------------------------------------


async def own_order(session: AsyncSession, *, customer_id: int, order_id: int, lock: bool = False) -> Order:
    stmt = select(Order).where(Order.id == order_id, Order.customer_id == customer_id)
    if lock:
        stmt = stmt.with_for_update()
    order = await session.scalar(stmt)
    if order is None:
        raise NotFound("No such order", code="ORDER_NOT_FOUND")
    return order


def _expired_online(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Order.status == "pending",
        Order.payment_terms == "online",
        Order.placed_at < now - PAYMENT_WINDOW,
    )


async def has_expired_online_orders(session: AsyncSession, now: datetime, *, customer_id: int) -> bool:
    """Whether the customer has unpaid online orders past the payment window (a cheap read, so the
    order screens open a write unit of work only when there is something to cancel)."""
    return bool(
        await session.scalar(select(exists().where(Order.customer_id == customer_id, *_expired_online(now))))
    )


async def cancel_expired_online_orders(
    session: AsyncSession, now: datetime, *, customer_id: int | None = None, by_user_id: int | None
) -> int:
    """Cancel pending online-payment orders placed more than 30 minutes before `now` (by_user_id
    None: the scheduled job, no person)."""
    stmt = select(Order.id).where(*_expired_online(now))
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    # SKIP LOCKED (PostgreSQL): the job and a consumer's screen never cancel one order twice.
    stmt = stmt.order_by(Order.id).with_for_update(skip_locked=True)
    ids = list((await session.scalars(stmt)).all())
    for order_id in ids:
        await cancellation.cancel_order(
            session, order_id=order_id, reason="payment_timeout", by_user_id=by_user_id
        )
    return len(ids)


async def expire_unpaid_online_orders(session: AsyncSession, *, now: datetime) -> int:
    """The scheduled job: cancel every customer's unpaid online orders past the payment window,
    releasing their stock (OrderChanged, StockChanged). Returns how many were cancelled."""
    return await cancel_expired_online_orders(session, now, by_user_id=None)


# -- summary and placement ---------------------------------------------------------------------


async def _priced_cart(
    session: AsyncSession,
    *,
    customer_id: int,
    fulfilment: Fulfilment,
    language: str,
    at: datetime,
    promo_code: str | None,
) -> tuple[dict[str, object], dict[str, object]]:
    """The cart priced at the fulfilling branch, and the promo result (an invalid code is reported)."""
    from tsh.domain.customers.cart import cart_lines, price_cart

    lines = await cart_lines(
        session, customer_id=customer_id, serving=fulfilment.serving, language=language, at=at
    )
    if not any(ln["listed"] for ln in lines):
        raise Invalid("The cart is empty", code="CART_EMPTY")
    promo: dict[str, object] = {"code": promo_code, "status": "none", "message": None}
    if promo_code:
        try:
            cart = await price_cart(
                session, lines, serving=fulfilment.serving, language=language, at=at, promo_code=promo_code
            )
            promo["status"] = "applied"
            return cart, promo
        except AppError as exc:
            if exc.code != "PROMO_INVALID":
                raise
            promo.update(status="invalid", message=exc.message, error_code=exc.code)
    cart = await price_cart(session, lines, serving=fulfilment.serving, language=language, at=at)
    return cart, promo


def _amount(money: object) -> Decimal:
    assert isinstance(money, dict)
    return Decimal(money["amount"])


async def checkout_summary(
    session: AsyncSession,
    *,
    customer_id: int,
    language: str,
    at: datetime,
    address_id: int | None,
    pickup_branch_id: int | None,
    option: str | None,
    promo_code: str | None,
) -> dict[str, object]:
    """CON-33: what CON-34 will charge for these choices; `total` is the expected_total to send."""
    from tsh.domain.customers.consumer import list_addresses
    from tsh.domain.money import wire

    addresses = await list_addresses(session, customer_id=customer_id, language=language)
    if option is None:
        option = "pickup" if pickup_branch_id is not None else "standard"
    if option != "pickup" and address_id is None:
        address_id = next((a["id"] for a in addresses if a["is_default"]), None)
    if option != "pickup" and address_id is None:
        raise Invalid(details=[field_error("address_id", "add a delivery address or choose pickup")])
    fulfilment = await resolve_fulfilment(
        session,
        customer_id=customer_id,
        address_id=address_id,
        pickup_branch_id=pickup_branch_id if option == "pickup" else None,
        option=option,
    )
    cart, promo = await _priced_cart(
        session,
        customer_id=customer_id,
        fulfilment=fulfilment,
        language=language,
        at=at,
        promo_code=promo_code,
    )
    currency = str(cart["currency"])
    subtotal, discount, tax = _amount(cart["subtotal"]), _amount(cart["discount"]), _amount(cart["tax"])
    goods = subtotal - discount + tax
    zone = fulfilment.zone
    options = [{"option": "pickup", "fee": wire(Decimal(0), currency)}]
    if zone is not None:
        options.insert(0, {"option": "standard", "fee": wire(zone.fee_amount, zone.fee_currency)})
        if zone.express_fee_amount is not None:
            options.insert(
                1,
                {
                    "option": "express",
                    "fee": wire(zone.express_fee_amount, zone.express_fee_currency or currency),
                },
            )
    promo["discount"] = wire(discount, currency) if promo["status"] == "applied" else None
    lines = cart["lines"]
    assert isinstance(lines, list)
    return {
        "lines": lines,
        "promotions": cart["promotions"],
        "addresses": addresses,
        "address_id": address_id if option != "pickup" else None,
        "pickup_branch_id": fulfilment.pickup_branch_id,
        "serving_branch_id": fulfilment.serving.branch_id,
        "delivery_option": option,
        "delivery_options": options,
        "payment_methods": list(fulfilment.payment_methods),
        "promo": promo,
        "min_order": wire(zone.min_order_amount, zone.min_order_currency) if zone else None,
        "below_min_order": below_minimum(fulfilment, goods),
        "stock_ok": all(ln["stock_warning"] is None for ln in lines if not ln["unavailable"]),
        "subtotal": cart["subtotal"],
        "discount": cart["discount"],
        "delivery_fee": wire(fulfilment.fee, currency),
        "tax": cart["tax"],
        "total": wire(goods + fulfilment.fee, currency),
        "item_count": cart["item_count"],
    }


async def place_from_cart(
    session: AsyncSession,
    *,
    user_id: int,
    customer_id: int,
    language: str,
    address_id: int | None,
    pickup_branch_id: int | None,
    option: str,
    payment_method: str,
    promo_code: str | None,
    expected_total: Decimal,
    expected_currency: str,
    note: str | None,
    now: datetime,
) -> Order:
    """CON-34 (checks in the order of the module docstring); empties the cart."""
    from tsh.domain.customers.cart import cart_lines
    from tsh.domain.customers.models import Cart, CartItem

    await cancel_expired_online_orders(session, now, customer_id=customer_id, by_user_id=user_id)
    cart = await session.scalar(
        select(Cart).where(Cart.customer_id == customer_id, Cart.channel == "consumer")
    )
    if cart is None:
        raise Invalid("The cart is empty", code="CART_EMPTY")
    fulfilment = await resolve_fulfilment(
        session,
        customer_id=customer_id,
        address_id=address_id,
        pickup_branch_id=pickup_branch_id,
        option=option,
        payment_method=payment_method,
    )
    serving = fulfilment.serving
    lines = [
        ln
        for ln in await cart_lines(
            session, customer_id=customer_id, serving=serving, language=language, at=now
        )
        if ln["listed"]
    ]
    if not lines or serving.price_list_id is None:
        raise Invalid("The cart is empty", code="CART_EMPTY")
    online = payment_method != "cash_on_delivery"
    customer_list = await price_list_for(session, channel="consumer", branch_id=serving.branch_id)
    order = await ordering.place_order(
        session,
        channel="consumer",
        customer_id=customer_id,
        branch_id=serving.branch_id,
        lines=[(ln["product"]["id"], ln["qty"], Decimal(0)) for ln in lines],
        payment_terms="online" if online else "cash_on_delivery",
        price_list_id=customer_list.id,
        placed_by_user_id=user_id,
        currency=customer_list.currency,
        expected_total=expected_total if expected_currency == customer_list.currency else Decimal(-1),
        delivery_option=option,
        delivery_fee=fulfilment.fee,
        address_snapshot=fulfilment.snapshot,
        pickup_branch_id=fulfilment.pickup_branch_id,
        promo_code=promo_code or None,
        payment_method=payment_method,
        note=note,
        confirm=not online,
        reservation_expires_at=now + PAYMENT_WINDOW if online else None,
    )
    if below_minimum(fulfilment, order.total - order.delivery_fee):
        zone = fulfilment.zone
        assert zone is not None
        raise Invalid(
            "The order is below the zone's minimum",
            code="BELOW_MIN_ORDER",
            details=[
                field_error(
                    "lines",
                    "below the minimum order",
                    min_order=str(zone.min_order_amount),
                    currency=zone.min_order_currency,
                )
            ],
        )
    from sqlalchemy import delete

    await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
    return order
