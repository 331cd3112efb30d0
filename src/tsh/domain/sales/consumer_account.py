"""The consumer's account as it depends on their orders and invoices: the profile screen's counts
and closing the account (refused with open orders or unpaid invoices).

Kept in sales, over `tsh.domain.customers.consumer`, so that the customers context does not import
sales (docs/architecture.md). Every function touches only the caller's `customer_id`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog.models import Review, WishlistItem
from tsh.domain.customers.consumer import CLOSED_NAME, check_password, customer_of, list_addresses
from tsh.domain.customers.models import Address, Cart
from tsh.domain.events import raise_event
from tsh.domain.identity.models import User
from tsh.domain.identity.service import revoke_user_sessions
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order
from tsh.platform.errors import Conflict

OPEN_ORDER_STATUSES = ("pending", "confirmed", "shipped")


async def profile(session: AsyncSession, *, user_id: int, customer_id: int | None) -> dict[str, Any]:
    customer = await customer_of(session, customer_id)
    user = await session.get(User, user_id)
    assert user is not None
    orders = (
        await session.execute(
            select(func.count(), func.count().filter(Order.status.in_(OPEN_ORDER_STATUSES))).where(
                Order.customer_id == customer.id
            )
        )
    ).one()
    reviews = await session.scalar(select(func.count()).where(Review.customer_id == customer.id))
    defaults = await list_addresses(session, customer_id=customer.id, default_only=True)
    return {
        "name": user.name,
        "phone": user.phone,
        "email": user.email,
        "language": user.language,
        "marketing_opt_in": customer.marketing_opt_in,
        "default_address": defaults[0] if defaults else None,
        "member_since": customer.created_at,
        "orders_count": int(orders[0]),
        "open_orders_count": int(orders[1]),
        "reviews_count": int(reviews or 0),
    }


async def close_account(
    session: AsyncSession, *, user_id: int, customer_id: int | None, password: str, reason: str | None
) -> None:
    """Anonymise the customer and user, delete addresses, cart and wishlist, disable the user and
    revoke every session; orders and invoices stay. 422 WRONG_PASSWORD, 409 OPEN_ORDERS,
    409 BALANCE_DUE."""
    customer = await customer_of(session, customer_id, lock=True)
    user = await session.get(User, user_id)
    assert user is not None
    await check_password(session, user, password, "password")
    if await session.scalar(
        select(func.count()).where(Order.customer_id == customer.id, Order.status.in_(OPEN_ORDER_STATUSES))
    ):
        raise Conflict("The account has open orders", code="OPEN_ORDERS")
    if await session.scalar(
        select(func.count()).where(
            Invoice.customer_id == customer.id, Invoice.status.in_(UNPAID_INVOICE_STATUSES)
        )
    ):
        raise Conflict("The account has unpaid invoices", code="BALANCE_DUE")
    await session.execute(delete(Address).where(Address.customer_id == customer.id))
    await session.execute(delete(Cart).where(Cart.customer_id == customer.id))
    await session.execute(delete(WishlistItem).where(WishlistItem.customer_id == customer.id))
    customer.name = CLOSED_NAME
    customer.phone = None
    customer.email = None
    customer.marketing_opt_in = False
    customer.status = "closed"
    customer.notes = f"closed by the customer: {reason}" if reason else "closed by the customer"
    user.name = CLOSED_NAME
    user.email = f"closed-{user.id}@closed.invalid"
    user.phone = None
    user.password_hash = None
    user.status = "disabled"
    user.permission_version += 1
    await revoke_user_sessions(session, user_id=user.id, reason="account_closed")
    raise_event(session, "UserChanged", users=[user.id], customers=[customer.id])
    raise_event(session, "CustomerChanged", customers=[customer.id], branches=[customer.branch_id])
    if await session.scalar(select(func.count()).where(Review.customer_id == customer.id)):
        raise_event(session, "ReviewChanged", customers=[customer.id])
