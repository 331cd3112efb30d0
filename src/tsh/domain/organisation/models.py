"""Organisation: branches, their warehouses and the delivery zones they serve (domain.md §2)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, JsonType, TimestampMixin

CURRENCIES = ("IQD", "USD")
RECORD_STATUSES = ("active", "inactive")
WAREHOUSE_TYPES = ("main", "shop", "returns")
DELIVERY_PAYMENT_METHODS = ("cash_on_delivery", "zain_cash", "fastpay", "card")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _all_delivery_payment_methods() -> list[str]:
    return list(DELIVERY_PAYMENT_METHODS)


class Branch(TimestampMixin, Base):
    """A company branch: serving branch for consumers, home of staff, stock, POS and its approval limits."""

    __tablename__ = "branches"
    __table_args__ = (
        CheckConstraint(_one_of("status", RECORD_STATUSES), name="status"),
        CheckConstraint(_one_of("default_currency", CURRENCIES), name="default_currency"),
        CheckConstraint(_one_of("limits_currency", CURRENCIES), name="limits_currency"),
        CheckConstraint("geofence_radius_m > 0", name="geofence_radius_positive"),
        CheckConstraint(
            "cashier_discount_pct >= 0 AND cashier_discount_pct <= 100", name="cashier_discount_pct"
        ),
        CheckConstraint(
            "salesperson_discount_pct >= 0 AND salesperson_discount_pct <= 100",
            name="salesperson_discount_pct",
        ),
        CheckConstraint(
            "(payout_limit IS NULL OR payout_limit >= 0)"
            " AND (refund_limit IS NULL OR refund_limit >= 0)"
            " AND (cash_variance_tolerance IS NULL OR cash_variance_tolerance >= 0)"
            " AND (adjustment_value_limit IS NULL OR adjustment_value_limit >= 0)"
            " AND (return_value_limit IS NULL OR return_value_limit >= 0)",
            name="limits_non_negative",
        ),
        CheckConstraint("refund_age_days IS NULL OR refund_age_days >= 0", name="refund_age_days"),
        # Exactly one company default branch (the consumer fallback); "at least one" is the service's job.
        Index(
            "uq_branches_single_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
        Index("ix_branches_status", "status"),
    )

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    geo_accuracy_m: Mapped[float | None]
    geofence_radius_m: Mapped[int] = mapped_column(default=150)
    phone: Mapped[str | None] = mapped_column(String(32))
    # use_alter: users.branch_id points back here, so this FK is added after both tables exist.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    default_currency: Mapped[str] = mapped_column(String(3), default="IQD")

    # Approval limits (ADM-17). Percentages are 0-100; the money limits share limits_currency and
    # NULL means "not configured" (the service decides the fallback).
    cashier_discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10"))
    salesperson_discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("5"))
    limits_currency: Mapped[str] = mapped_column(String(3), default="IQD")
    payout_limit: Mapped[Decimal | None]
    refund_limit: Mapped[Decimal | None]
    refund_age_days: Mapped[int | None]
    cash_variance_tolerance: Mapped[Decimal | None]
    adjustment_value_limit: Mapped[Decimal | None]
    return_value_limit: Mapped[Decimal | None]

    status: Mapped[str] = mapped_column(String(16), default="active")

    warehouses: Mapped[list[Warehouse]] = relationship(
        back_populates="branch", lazy="raise", order_by="Warehouse.id"
    )
    delivery_zones: Mapped[list[DeliveryZone]] = relationship(
        back_populates="branch", lazy="raise", order_by="DeliveryZone.id"
    )


class Warehouse(TimestampMixin, Base):
    """A stock location of a branch: `main` fulfils orders, `shop` feeds POS, `returns` takes returns."""

    __tablename__ = "warehouses"
    __table_args__ = (
        CheckConstraint(_one_of("type", WAREHOUSE_TYPES), name="type"),
        CheckConstraint(_one_of("status", RECORD_STATUSES), name="status"),
        # Exactly one main warehouse per branch (created with the branch, never re-typed).
        Index(
            "uq_warehouses_main_per_branch",
            "branch_id",
            unique=True,
            postgresql_where=text("type = 'main'"),
            sqlite_where=text("type = 'main'"),
        ),
        Index("ix_warehouses_branch_id", "branch_id"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")

    branch: Mapped[Branch] = relationship(back_populates="warehouses", lazy="raise")


class DeliveryZone(TimestampMixin, Base):
    """Cities a branch delivers to, with delivery fees, minimum order and the payment methods allowed."""

    __tablename__ = "delivery_zones"
    __table_args__ = (
        CheckConstraint(_one_of("status", RECORD_STATUSES), name="status"),
        CheckConstraint(_one_of("fee_currency", CURRENCIES), name="fee_currency"),
        CheckConstraint(_one_of("min_order_currency", CURRENCIES), name="min_order_currency"),
        CheckConstraint(
            "(express_fee_amount IS NULL AND express_fee_currency IS NULL)"
            " OR (express_fee_amount IS NOT NULL AND " + _one_of("express_fee_currency", CURRENCIES) + ")",
            name="express_fee_currency",
        ),
        CheckConstraint(
            "fee_amount >= 0 AND min_order_amount >= 0"
            " AND (express_fee_amount IS NULL OR express_fee_amount >= 0)",
            name="amounts_non_negative",
        ),
        Index("ix_delivery_zones_branch_id", "branch_id"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # City names as entered on addresses; an address is in the zone when its city is listed here.
    cities: Mapped[list[str]] = mapped_column(JsonType, default=list)
    fee_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    fee_currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # NULL = the zone offers no express delivery.
    express_fee_amount: Mapped[Decimal | None]
    express_fee_currency: Mapped[str | None] = mapped_column(String(3))
    min_order_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    min_order_currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # Allowed subset of DELIVERY_PAYMENT_METHODS.
    payment_methods: Mapped[list[str]] = mapped_column(JsonType, default=_all_delivery_payment_methods)
    status: Mapped[str] = mapped_column(String(16), default="active")

    branch: Mapped[Branch] = relationship(back_populates="delivery_zones", lazy="raise")
