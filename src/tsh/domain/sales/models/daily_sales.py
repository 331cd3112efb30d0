"""The product-sales read model: order lines summed per business day (Asia/Baghdad)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tsh.platform.db.base import Base, TimestampMixin


class ProductDailySales(TimestampMixin, Base):
    """Σ of the lines of non-cancelled orders placed on one business day, per product, branch,
    channel and order currency. Written only by tsh.domain.sales.daily_sales (the nightly
    job); readers add the lines placed after `SalesRollup.through_day`."""

    __tablename__ = "product_daily_sales"
    __table_args__ = (UniqueConstraint("day", "product_id", "branch_id", "channel", "currency"),)

    day: Mapped[date]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    channel: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    qty: Mapped[int]
    # Distinct orders with the product that day, and Σ line_total (net of discount, with tax)
    # in the order currency.
    orders: Mapped[int]
    revenue: Mapped[Decimal]


class SalesRollup(TimestampMixin, Base):
    """How far a daily read model is complete: every day up to `through_day` is in it."""

    __tablename__ = "sales_rollups"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    through_day: Mapped[date]
