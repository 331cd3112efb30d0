"""Customers & partners context: customers, addresses, carts, partners, partner tiers."""

from tsh.domain.customers.models import (
    CART_CHANNELS,
    CART_UNITS,
    CUSTOMER_STATUSES,
    CUSTOMER_TYPES,
    PARTNER_STATUSES,
    PAYOUT_METHODS,
    Address,
    Cart,
    CartItem,
    Customer,
    Partner,
    PartnerTier,
)

__all__ = [
    "CART_CHANNELS",
    "CART_UNITS",
    "CUSTOMER_STATUSES",
    "CUSTOMER_TYPES",
    "PARTNER_STATUSES",
    "PAYOUT_METHODS",
    "Address",
    "Cart",
    "CartItem",
    "Customer",
    "Partner",
    "PartnerTier",
]
