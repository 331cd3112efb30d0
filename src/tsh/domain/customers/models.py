"""Customers & partners: customer accounts, addresses, carts, partner agents and tiers (domain.md §4)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, TimestampMixin

CURRENCIES = ("IQD", "USD")
CUSTOMER_TYPES = ("consumer", "retail_shop", "wholesale")
CUSTOMER_STATUSES = ("active", "inactive", "closed")
CART_CHANNELS = ("consumer", "wholesale")
CART_UNITS = ("piece", "carton")
PARTNER_STATUSES = ("invited", "active", "suspended")
PAYOUT_METHODS = ("zain_cash", "bank_transfer", "cash_at_branch")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PartnerTier(TimestampMixin, Base):
    """A partner level (rank 1 = entry) that selects the partner price list and the next-tier target."""

    __tablename__ = "partner_tiers"
    __table_args__ = (
        CheckConstraint("rank >= 1", name="rank"),
        CheckConstraint("min_monthly_sales >= 0", name="min_monthly_sales"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(unique=True)
    # Monthly sales needed to reach this tier.
    min_monthly_sales: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="IQD")


class Partner(TimestampMixin, Base):
    """An independent agent selling to their own customers for commission (one level of sub-partners)."""

    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(_one_of("status", PARTNER_STATUSES), name="status"),
        CheckConstraint(
            "payout_method IS NULL OR " + _one_of("payout_method", PAYOUT_METHODS), name="payout_method"
        ),
        CheckConstraint(_one_of("min_order_currency", CURRENCIES), name="min_order_currency"),
        CheckConstraint("min_order_amount >= 0", name="min_order_amount"),
        CheckConstraint("commission_rate >= 0 AND commission_rate <= 100", name="commission_rate"),
        CheckConstraint("override_rate >= 0 AND override_rate <= 100", name="override_rate"),
        CheckConstraint("parent_partner_id IS NULL OR parent_partner_id <> id", name="not_own_parent"),
        Index("ix_partners_parent_partner_id", "parent_partner_id"),
        Index("ix_partners_branch_id", "branch_id"),
        Index("ix_partners_tier_id", "tier_id"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    # Supplying branch: its main warehouse fills the partner's orders.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("partner_tiers.id"))
    # Percentages (2.25 = 2.25 %). Override is earned by the upline on a sub-partner's orders.
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    override_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    can_recruit: Mapped[bool] = mapped_column(default=False)
    min_order_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    min_order_currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # Upline partner; the network is one level deep (checked by the service).
    parent_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    territory: Mapped[str | None] = mapped_column(String(200))
    payout_method: Mapped[str | None] = mapped_column(String(20))
    payout_account: Mapped[str | None] = mapped_column(String(100))
    # Set 48 h ahead on a payout-details change; payout requests are refused until then.
    payout_locked_until: Mapped[datetime | None]
    # Invitation note from the upline (PAR-14) or back-office vetting notes.
    note: Mapped[str | None] = mapped_column(Text)
    # When the partner became active (invited partners are created earlier).
    joined_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="invited")


class Customer(TimestampMixin, Base):
    """A buying account (consumer, retail shop or wholesale) with its owner, price list and credit terms."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_one_of("type", CUSTOMER_TYPES), name="type"),
        CheckConstraint(_one_of("status", CUSTOMER_STATUSES), name="status"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        CheckConstraint("credit_limit >= 0", name="credit_limit"),
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_days"),
        # At most one owner: a salesperson or a partner.
        CheckConstraint("NOT (salesperson_id IS NOT NULL AND partner_id IS NOT NULL)", name="single_owner"),
        Index("ix_customers_salesperson_id", "salesperson_id"),
        Index("ix_customers_partner_id", "partner_id"),
        Index("ix_customers_branch_id", "branch_id"),
        Index("ix_customers_name", "name"),
        Index("ix_customers_price_list_id", "price_list_id"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    shop_name: Mapped[str | None] = mapped_column(String(200))
    # Unique; NULL only after account closure anonymises it.
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    # Supplying branch (its main warehouse). NULL for consumers, who are served by the resolved branch.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    # use_alter: users.customer_id points back here, so this FK is added after both tables exist.
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id"))
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    credit_limit: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    payment_terms_days: Mapped[int] = mapped_column(default=0)
    on_hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    # Shop location and city for the field screens (the delivery addresses are in `addresses`).
    city: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    geo_accuracy_m: Mapped[float | None]
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Delta-sync counter, bumped by the services on every change (not an optimistic lock).
    version: Mapped[int] = mapped_column(default=1)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", order_by="Address.id"
    )


class Address(TimestampMixin, Base):
    """A delivery address of a customer, assigned to the delivery zone covering its city."""

    __tablename__ = "addresses"
    __table_args__ = (Index("ix_addresses_customer_id", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(300))
    landmark: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    geo_accuracy_m: Mapped[float | None]
    delivery_zone_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_zones.id"))
    # One default per customer, kept by the service (no partial unique index: the unit of work
    # flushes updates before deletes and in id order, so swapping defaults would trip it).
    is_default: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="addresses", lazy="raise")


class Cart(TimestampMixin, Base):
    """The open basket of a customer per channel; holds products and quantities only, never prices."""

    __tablename__ = "carts"
    __table_args__ = (
        UniqueConstraint("customer_id", "channel"),
        CheckConstraint(_one_of("channel", CART_CHANNELS), name="channel"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CartItem.id",
    )


class CartItem(TimestampMixin, Base):
    """One product line of a cart."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "product_id"),
        CheckConstraint("qty > 0", name="qty"),
        CheckConstraint(_one_of("unit", CART_UNITS), name="unit"),
        Index("ix_cart_items_product_id", "product_id"),
    )

    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # In `unit`s: pieces, or cartons of Product.pack_size pieces (wholesale).
    qty: Mapped[int]
    unit: Mapped[str] = mapped_column(String(8), default="piece")

    cart: Mapped[Cart] = relationship(back_populates="items", lazy="raise")
