"""Tables of the after-sales context (domain.md §11, apps/aso.md).

Spare parts have their own per-branch stock (PartStock), separate from product stock. Refunds of
every origin (POS sale, return, cancelled paid order) live here; a credit note is a refund with
method `credit_note` whose `unallocated` part is customer credit. Other contexts are referenced by
table name only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, JsonType, TimestampMixin, utcnow

CURRENCIES = ("IQD", "USD")
SERVICE_TYPES = ("repair", "installation", "maintenance", "warranty_repair")
PRIORITIES = ("low", "normal", "high", "urgent")
SERVICE_STATUSES = ("new", "scheduled", "in_progress", "completed", "closed", "cancelled")
JOB_KINDS = ("on_site", "workshop")
JOB_STATUSES = ("scheduled", "en_route", "on_site", "completed", "cancelled")
JOB_OUTCOMES = ("fixed", "not_fixable", "needs_parts", "replaced")
PART_REQUEST_STATUSES = ("reserved", "consumed", "released")
WARRANTY_STATUSES = ("active", "expired", "void")
RETURN_CHANNELS = ("consumer", "desk")
RETURN_STATUSES = ("requested", "approved", "rejected", "refunded")
# Requested and approved returns are open: one per order (409 RETURN_ALREADY_OPEN).
OPEN_RETURN_STATUSES = ("requested", "approved")
RETURN_CONDITIONS = ("sealed", "opened", "damaged")
REFUND_SOURCES = ("pos_transaction", "return", "order_cancellation")
REFUND_METHODS = ("cash", "original", "credit_note", "bank_transfer")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """An enum as a named CHECK (no native DB enums: portable, and no ALTER TYPE later)."""
    return CheckConstraint(_in(column, values), name=column)


class Technician(TimestampMixin, Base):
    """The service profile of a technician employee: branch, skills and daily capacity."""

    __tablename__ = "technicians"
    __table_args__ = (
        CheckConstraint("daily_capacity_min > 0", name="daily_capacity_positive"),
        Index("ix_technicians_branch_id", "branch_id"),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    # Skill codes matched against service types / products (ASO-07 SKILL_MISMATCH).
    skills: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    daily_capacity_min: Mapped[int] = mapped_column(default=480)
    is_active: Mapped[bool] = mapped_column(default=True)


class ServiceRequest(TimestampMixin, Base):
    """A customer's repair, installation, maintenance or warranty-repair case at a branch."""

    __tablename__ = "service_requests"
    __table_args__ = (
        _one_of("type", SERVICE_TYPES),
        _one_of("priority", PRIORITIES),
        _one_of("status", SERVICE_STATUSES),
        CheckConstraint("type <> 'warranty_repair' OR warranty_id IS NOT NULL", name="warranty_claim"),
        Index("ix_service_requests_branch_id_status", "branch_id", "status"),
        Index("ix_service_requests_customer_id", "customer_id"),
        Index("ix_service_requests_serial_number", "serial_number"),
        Index("ix_service_requests_warranty_id", "warranty_id"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    warranty_id: Mapped[int | None] = mapped_column(ForeignKey("warranties.id"))
    type: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(12), default="new")
    description: Mapped[str] = mapped_column(Text)
    # NULL = carry-in (workshop); set = on-site at this address.
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    preferred_date: Mapped[dt.date | None]
    media_ids: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    sla_due_at: Mapped[dt.datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # [{by, at, text}] desk notes, newest last (ASO-05 `note`).
    notes: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    # Reason given when closing or cancelling.
    status_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None]

    jobs: Mapped[list[Job]] = relationship(
        back_populates="service_request", lazy="raise", order_by="Job.start"
    )


class Job(TimestampMixin, Base):
    """A scheduled technician visit or workshop slot of a service request, through to its outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        _one_of("kind", JOB_KINDS),
        _one_of("status", JOB_STATUSES),
        _one_of("outcome", JOB_OUTCOMES),
        _one_of("currency", CURRENCIES),
        CheckConstraint("duration_min > 0", name="duration_positive"),
        CheckConstraint("labour_min IS NULL OR labour_min >= 0", name="labour_non_negative"),
        CheckConstraint("charge IS NULL OR (charge >= 0 AND currency IS NOT NULL)", name="charge"),
        CheckConstraint("status <> 'completed' OR outcome IS NOT NULL", name="completed_outcome"),
        Index("ix_jobs_technician_id_start", "technician_id", "start"),
        Index("ix_jobs_service_request_id", "service_request_id"),
    )

    service_request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    kind: Mapped[str] = mapped_column(String(10))
    start: Mapped[dt.datetime]
    duration_min: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    note: Mapped[str | None] = mapped_column(Text)
    en_route_at: Mapped[dt.datetime | None]
    on_site_at: Mapped[dt.datetime | None]
    on_site_lat: Mapped[float | None]
    on_site_lng: Mapped[float | None]
    on_site_accuracy_m: Mapped[float | None]
    on_site_distance_m: Mapped[float | None]
    # More than 300 m from the job address: flagged, not refused (ASO-08).
    on_site_flagged: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(12))
    resolution: Mapped[str | None] = mapped_column(Text)
    labour_min: Mapped[int | None]
    # Out-of-warranty charge; NULL or 0 under warranty.
    charge: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    # use_alter: invoices.job_id points back here.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", use_alter=True))
    signature_media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    replacement_serial: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]

    service_request: Mapped[ServiceRequest] = relationship(back_populates="jobs", lazy="raise")


class Part(TimestampMixin, Base):
    """A spare part (SKU) used by technicians, with its cost, selling price and reorder point."""

    __tablename__ = "parts"
    __table_args__ = (
        _one_of("currency", CURRENCIES),
        CheckConstraint("unit_cost >= 0 AND price >= 0", name="amounts_non_negative"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_non_negative"),
    )

    sku: Mapped[str] = mapped_column(String(50), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # unit_cost and price share `currency`.
    unit_cost: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    reorder_point: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class PartCompatibleProduct(TimestampMixin, Base):
    """Link of a spare part to a product it fits (ASO-18 filter "compatible with")."""

    __tablename__ = "part_compatible_products"
    __table_args__ = (
        UniqueConstraint("part_id", "product_id"),
        Index("ix_part_compatible_products_product_id", "product_id"),
    )

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))


class PartStock(TimestampMixin, Base):
    """Stock of one spare part at one branch: on hand and reserved for jobs."""

    __tablename__ = "part_stocks"
    __table_args__ = (
        UniqueConstraint("part_id", "branch_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        # Unlike product stock, only part requests reserve and consumption lowers both figures, so
        # available (on_hand - reserved) can and must never go negative.
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_covered"),
        Index("ix_part_stocks_branch_id", "branch_id"),
    )

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)


class PartRequest(TimestampMixin, Base):
    """Spare parts reserved at the branch for a job; consumed at completion or released on cancellation."""

    __tablename__ = "part_requests"
    __table_args__ = (
        _one_of("status", PART_REQUEST_STATUSES),
        Index("ix_part_requests_job_id", "job_id"),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    # The branch whose PartStock holds the reservation (the service request's branch).
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(10), default="reserved")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    lines: Mapped[list[PartRequestLine]] = relationship(
        back_populates="part_request",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="PartRequestLine.id",
    )


class PartRequestLine(TimestampMixin, Base):
    """A part and quantity reserved by a part request, and how much of it was consumed."""

    __tablename__ = "part_request_lines"
    __table_args__ = (
        UniqueConstraint("part_request_id", "part_id"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("qty_consumed >= 0 AND qty_consumed <= qty", name="qty_consumed"),
    )

    part_request_id: Mapped[int] = mapped_column(ForeignKey("part_requests.id", ondelete="CASCADE"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    qty: Mapped[int]
    qty_consumed: Mapped[int] = mapped_column(default=0)

    part_request: Mapped[PartRequest] = relationship(back_populates="lines", lazy="raise")


class Warranty(TimestampMixin, Base):
    """Warranty of one serialised item sold by order or POS, from sale (delivery) for the product's months."""

    __tablename__ = "warranties"
    __table_args__ = (
        _one_of("status", WARRANTY_STATUSES),
        CheckConstraint("order_line_id IS NULL OR pos_line_id IS NULL", name="one_sale"),
        CheckConstraint("ends_on >= starts_on", name="date_range"),
        CheckConstraint("claims_count >= 0", name="claims_count_non_negative"),
        Index("ix_warranties_serial_number", "serial_number"),
        Index("ix_warranties_customer_id", "customer_id"),
        Index("ix_warranties_status_ends_on", "status", "ends_on"),
        # A serial of a product has at most one active warranty (a resold or replaced item gets a new
        # one after the old is voided).
        Index(
            "uq_warranties_active_serial",
            "product_id",
            "serial_number",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    serial_number: Mapped[str] = mapped_column(String(100))
    # NULL for an anonymous POS sale.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    pos_line_id: Mapped[int | None] = mapped_column(ForeignKey("pos_lines.id"))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(10), default="active")
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_at: Mapped[dt.datetime | None]
    claims_count: Mapped[int] = mapped_column(default=0)
    # The warranty this one took over from (replacement under outcome `replaced`; same end date).
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("warranties.id"))


class ReturnRequest(TimestampMixin, Base):
    """A customer's request to return delivered order lines: requested, approved or rejected, refunded."""

    __tablename__ = "return_requests"
    __table_args__ = (
        _one_of("channel", RETURN_CHANNELS),
        _one_of("status", RETURN_STATUSES),
        _one_of("currency", CURRENCIES),
        CheckConstraint(
            "value >= 0 AND restocking_fee >= 0 AND (approved_amount IS NULL OR approved_amount >= 0)",
            name="amounts_non_negative",
        ),
        Index("ix_return_requests_branch_id_status", "branch_id", "status"),
        Index("ix_return_requests_customer_id", "customer_id"),
        Index("ix_return_requests_order_id", "order_id"),
        Index(
            "uq_return_requests_open_per_order",
            "order_id",
            unique=True,
            postgresql_where=text(_in("status", OPEN_RETURN_STATUSES)),
            sqlite_where=text(_in("status", OPEN_RETURN_STATUSES)),
        ),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # Always the order's branch.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="requested")
    note: Mapped[str | None] = mapped_column(Text)
    media_ids: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    # value (paid value of the requested lines), restocking_fee and approved_amount share `currency`
    # (the order's currency).
    currency: Mapped[str] = mapped_column(String(3))
    value: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    restocking_fee: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    approved_amount: Mapped[Decimal | None]
    # NULL when the consumer opened it in the app (CON-37) — then it is the customer's user.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="return_request", lazy="raise", cascade="all, delete-orphan", order_by="ReturnLine.id"
    )


class ReturnLine(TimestampMixin, Base):
    """An order line and quantity on a return request, with its reason, condition and restock decision."""

    __tablename__ = "return_lines"
    __table_args__ = (
        UniqueConstraint("return_id", "order_line_id"),
        _one_of("condition", RETURN_CONDITIONS),
        CheckConstraint("qty > 0", name="qty_positive"),
    )

    return_id: Mapped[int] = mapped_column(ForeignKey("return_requests.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    qty: Mapped[int]
    # Consumer reasons: defective/wrong_item/not_as_described/changed_mind; the desk may write its own.
    reason: Mapped[str] = mapped_column(String(200))
    # NULL until inspected (the consumer app does not send it).
    condition: Mapped[str | None] = mapped_column(String(10))
    # Decided at approval (ASO-13).
    restock: Mapped[bool | None]
    inspection_note: Mapped[str | None] = mapped_column(Text)

    return_request: Mapped[ReturnRequest] = relationship(back_populates="lines", lazy="raise")


class Refund(TimestampMixin, Base):
    """Money given back for a POS sale, a return or a cancelled paid order; credit notes included."""

    __tablename__ = "refunds"
    __table_args__ = (
        _one_of("source", REFUND_SOURCES),
        _one_of("method", REFUND_METHODS),
        _one_of("currency", CURRENCIES),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "unallocated >= 0 AND unallocated <= amount AND (method = 'credit_note' OR unallocated = 0)",
            name="unallocated",
        ),
        Index("ix_refunds_source_source_id", "source", "source_id"),
        Index("ix_refunds_customer_id", "customer_id"),
        Index("ix_refunds_branch_id_issued_at", "branch_id", "issued_at"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    # pos_transactions.id, return_requests.id or orders.id according to `source`.
    source_id: Mapped[int]
    # NULL for an anonymous POS sale.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    method: Mapped[str] = mapped_column(String(15))
    # Provider or bank reference.
    reference: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    # The shift whose drawer paid a cash POS refund.
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"))
    # Credit-note amount not yet applied to invoices (customer credit); 0 for other methods.
    unallocated: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    # NULL when the system issued it.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
