"""Orders, their lines and the stock they reserve (domain.md §5).

Money on an order and its lines is in `Order.currency`. Line arithmetic (half-up per line):
`line_total = qty × unit_price × (1 − discount_pct/100)` (net, before tax); `tax` is the line tax;
`Order.subtotal = Σ line_total`, `Order.tax = Σ line tax`, and
`Order.total = subtotal − discount + tax + delivery_fee` (held by a CHECK).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, JsonType, TimestampMixin, utcnow

if TYPE_CHECKING:
    from tsh.domain.sales.models.payments import Invoice

CURRENCIES = ("IQD", "USD")
ORDER_CHANNELS = ("consumer", "salesperson", "wholesale", "partner")
ORDER_STATUSES = ("pending", "confirmed", "shipped", "delivered", "cancelled")
# Orders that still hold reserved stock and may be cancelled.
CANCELLABLE_ORDER_STATUSES = ("pending", "confirmed")
PAYMENT_TERMS = ("cash_on_delivery", "online", "cash", "credit", "prepaid")
# What the consumer chose at checkout (CON-34); NULL for orders taken by staff, partners or wholesale.
ORDER_PAYMENT_METHODS = ("cash_on_delivery", "zain_cash", "fastpay", "card")
ORDER_PAYMENT_STATUSES = ("unpaid", "partial", "paid", "refunded")
DELIVERY_OPTIONS = ("standard", "express", "pickup")

# Nullable JSON stored as SQL NULL (not JSON 'null') when set to None, so IS NULL filters work.
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Order(TimestampMixin, Base):
    """A customer order from any channel, from placement through delivery or cancellation."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_one_of("channel", ORDER_CHANNELS), name="channel"),
        CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
        CheckConstraint(_one_of("payment_terms", PAYMENT_TERMS), name="payment_terms"),
        CheckConstraint(
            "payment_method IS NULL OR " + _one_of("payment_method", ORDER_PAYMENT_METHODS),
            name="payment_method",
        ),
        CheckConstraint(_one_of("payment_status", ORDER_PAYMENT_STATUSES), name="payment_status"),
        CheckConstraint(_one_of("delivery_option", DELIVERY_OPTIONS), name="delivery_option"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        CheckConstraint(
            "subtotal >= 0 AND discount >= 0 AND tax >= 0 AND delivery_fee >= 0 AND total >= 0",
            name="amounts_non_negative",
        ),
        # Tolerance instead of equality: SQLite keeps NUMERIC as floating point.
        CheckConstraint(
            "ABS(total - (subtotal - discount + tax + delivery_fee)) < 0.005", name="total_formula"
        ),
        CheckConstraint("NOT (salesperson_id IS NOT NULL AND partner_id IS NOT NULL)", name="single_seller"),
        CheckConstraint(
            "(delivery_option = 'pickup' AND pickup_branch_id IS NOT NULL)"
            " OR (delivery_option <> 'pickup' AND pickup_branch_id IS NULL)",
            name="pickup_branch",
        ),
        CheckConstraint("status <> 'delivered' OR delivered_at IS NOT NULL", name="delivered_at"),
        CheckConstraint("status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_at"),
        Index("ix_orders_salesperson_id_placed_at", "salesperson_id", "placed_at"),
        Index("ix_orders_partner_id_placed_at", "partner_id", "placed_at"),
        Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
        Index("ix_orders_branch_id_placed_at", "branch_id", "placed_at"),
        # Newest first across sellers (SAL-11 for a branch manager; migration 0016).
        Index("ix_orders_placed_at_id", "placed_at", "id"),
        Index("ix_orders_status", "status"),
        Index("ix_orders_visit_id", "visit_id"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    # The branch main warehouse the order is reserved from and shipped from.
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    payment_terms: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    # Denormalised from the invoice (open → unpaid, partial, paid) so order lists need no join;
    # `refunded` after a paid order is cancelled and refunded. Unpaid while pending (no invoice yet).
    payment_status: Mapped[str] = mapped_column(String(16), default="unpaid")
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    # Order-level discount (promotions, promo code), on top of line discounts already in line_total.
    discount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    delivery_option: Mapped[str] = mapped_column(String(16), default="standard")
    delivery_fee: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    # Copy of the delivery address at placement (label, city, district, street, landmark, phone,
    # lat, lng, delivery_zone_id, address_id): later address edits or deletions never change it.
    address_snapshot: Mapped[dict[str, Any] | None] = mapped_column(NullableJson)
    pickup_branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    promo_code: Mapped[str | None] = mapped_column(String(32))
    po_number: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    # Return windows count from here.
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Delta-sync counter, bumped by the services on every change (not an optimistic lock).
    version: Mapped[int] = mapped_column(default=1)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    invoice: Mapped[Invoice | None] = relationship(back_populates="order", lazy="raise")


class OrderLine(TimestampMixin, Base):
    """One product line of an order, with the product snapshot, price, and delivered/returned quantities."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty"),
        CheckConstraint("unit_price >= 0 AND tax >= 0 AND line_total >= 0", name="amounts_non_negative"),
        CheckConstraint("discount_pct >= 0 AND discount_pct <= 100", name="discount_pct"),
        CheckConstraint("qty_delivered >= 0 AND qty_delivered <= qty", name="qty_delivered"),
        CheckConstraint("qty_returned >= 0 AND qty_returned <= qty_delivered", name="qty_returned"),
        Index("ix_order_lines_order_id", "order_id"),
        Index("ix_order_lines_product_id", "product_id"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # Snapshot at placement; the name is in the language of the user who placed the order.
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(300))
    # In pieces (wholesale cartons are converted with Product.pack_size).
    qty: Mapped[int]
    # Tax-exclusive price after volume break and promotion, in the order currency.
    unit_price: Mapped[Decimal]
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    # Net of the line discount, before tax.
    line_total: Mapped[Decimal]
    qty_delivered: Mapped[int] = mapped_column(default=0)
    qty_returned: Mapped[int] = mapped_column(default=0)
    # Serials shipped on this line (serialised products); warranties are created from them.
    serial_numbers: Mapped[list[str]] = mapped_column(JsonType, default=list)

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")
