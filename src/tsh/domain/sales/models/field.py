"""Field sales: visits (routes), monthly targets, commissions and partner payouts (domain.md §5).

Targets, commissions and payouts belong to exactly one beneficiary: a salesperson (`salesperson_id`
→ users) or a partner (`partner_id` → partners).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tsh.platform.db.base import Base, JsonType, TimestampMixin, utcnow

CURRENCIES = ("IQD", "USD")
VISIT_STATUSES = ("planned", "checked_in", "completed", "skipped")
VISIT_OUTCOMES = ("order_taken", "payment_collected", "no_order", "shop_closed", "owner_absent")
COMMISSION_KINDS = ("direct", "override")
COMMISSION_STATUSES = ("accrued", "payable", "paid", "reversed")
PAYOUT_STATUSES = ("requested", "approved", "rejected", "paid")
# A beneficiary may have one open payout request at a time (PAR-10 PAYOUT_PENDING).
OPEN_PAYOUT_STATUSES = ("requested", "approved")
PAYOUT_METHODS = ("zain_cash", "bank_transfer", "cash_at_branch")

_ONE_BENEFICIARY = "(salesperson_id IS NULL) <> (partner_id IS NULL)"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Visit(TimestampMixin, Base):
    """A salesperson's stop at a customer on a date: planned in a route, then GPS check-in and check-out."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(_one_of("status", VISIT_STATUSES), name="status"),
        CheckConstraint("outcome IS NULL OR " + _one_of("outcome", VISIT_OUTCOMES), name="outcome"),
        CheckConstraint("sequence >= 0", name="sequence"),
        CheckConstraint(
            "status NOT IN ('checked_in', 'completed') OR check_in_at IS NOT NULL", name="check_in"
        ),
        CheckConstraint("status <> 'completed' OR check_out_at IS NOT NULL", name="check_out"),
        CheckConstraint("distance_m IS NULL OR distance_m >= 0", name="distance_m"),
        Index("ix_visits_salesperson_id_date", "salesperson_id", "date"),
        Index("ix_visits_customer_id_date", "customer_id", "date"),
        # One open (checked-in) visit per salesperson: SAL-07 VISIT_IN_PROGRESS, race-free.
        Index(
            "uq_visits_open_per_salesperson",
            "salesperson_id",
            unique=True,
            postgresql_where=text("status = 'checked_in'"),
            sqlite_where=text("status = 'checked_in'"),
        ),
    )

    salesperson_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # Business date (Asia/Baghdad) of the route this stop belongs to.
    date: Mapped[dt.date]
    # Position in the day's route.
    sequence: Mapped[int] = mapped_column(default=0)
    planned_time: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="planned")
    check_in_at: Mapped[dt.datetime | None]
    check_in_lat: Mapped[float | None]
    check_in_lng: Mapped[float | None]
    check_in_accuracy_m: Mapped[float | None]
    # Device clock at check-in, kept beside the server time to spot offline replays and clock skew.
    device_time: Mapped[dt.datetime | None]
    # Straight-line distance from the customer's location at check-in; NULL when it has none.
    distance_m: Mapped[float | None]
    # Checked in inside the branch geofence radius of the customer's location.
    verified: Mapped[bool] = mapped_column(default=False)
    check_out_at: Mapped[dt.datetime | None]
    check_out_lat: Mapped[float | None]
    check_out_lng: Mapped[float | None]
    check_out_accuracy_m: Mapped[float | None]
    check_out_device_time: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    media_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)


class Target(TimestampMixin, Base):
    """A monthly sales target of one salesperson or partner."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("salesperson_id", "year", "month"),
        UniqueConstraint("partner_id", "year", "month"),
        CheckConstraint(_ONE_BENEFICIARY, name="one_beneficiary"),
        CheckConstraint("month >= 1 AND month <= 12", name="month"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
        CheckConstraint(
            "revenue_target_iqd >= 0 AND revenue_target_usd >= 0"
            " AND orders_target >= 0 AND new_customers_target >= 0",
            name="targets_non_negative",
        ),
    )

    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    year: Mapped[int]
    month: Mapped[int]
    # Revenue is targeted per currency (net of tax, confirmed orders net of cancellations).
    revenue_target_iqd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    revenue_target_usd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    orders_target: Mapped[int] = mapped_column(default=0)
    new_customers_target: Mapped[int] = mapped_column(default=0)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Commission(TimestampMixin, Base):
    """Commission earned on one order by a salesperson or partner (direct) or an upline partner (override)."""

    __tablename__ = "commissions"
    __table_args__ = (
        CheckConstraint(_ONE_BENEFICIARY, name="one_beneficiary"),
        CheckConstraint(_one_of("kind", COMMISSION_KINDS), name="kind"),
        CheckConstraint(_one_of("status", COMMISSION_STATUSES), name="status"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        CheckConstraint("base_amount >= 0 AND amount >= 0", name="amounts_non_negative"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate"),
        CheckConstraint(
            "NOT (payroll_run_id IS NOT NULL AND payout_id IS NOT NULL)", name="single_settlement"
        ),
        CheckConstraint("kind = 'direct' OR partner_id IS NOT NULL", name="override_is_partner"),
        Index("ix_commissions_salesperson_id_status", "salesperson_id", "status"),
        # The dashboard's "commission accrued this month" reads one salesperson's recent rows.
        Index("ix_commissions_salesperson_id_created_at", "salesperson_id", "created_at"),
        Index("ix_commissions_partner_id_status", "partner_id", "status"),
        Index("ix_commissions_order_id", "order_id"),
        Index("ix_commissions_payout_id", "payout_id"),
        Index("ix_commissions_payroll_run_id", "payroll_run_id"),
    )

    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(16), default="direct")
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    # Net order value after discounts, before tax, in `currency` (the order's).
    base_amount: Mapped[Decimal]
    # Percent (2.25 = 2.25 %).
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # accrued at confirmation → payable at delivery → paid (payroll or payout); reversed by
    # cancellation or return. A partial return reverses the row and accrues a new one for the rest.
    status: Mapped[str] = mapped_column(String(16), default="accrued")
    payable_at: Mapped[dt.datetime | None]
    paid_at: Mapped[dt.datetime | None]
    reversed_at: Mapped[dt.datetime | None]
    # How it was paid: salespeople through payroll, partners through a payout.
    payroll_run_id: Mapped[int | None] = mapped_column(ForeignKey("payroll_runs.id"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("commission_payouts.id"))


class CommissionPayout(TimestampMixin, Base):
    """A request to pay out payable commission, approved and paid in the back office."""

    __tablename__ = "commission_payouts"
    __table_args__ = (
        CheckConstraint(_ONE_BENEFICIARY, name="one_beneficiary"),
        CheckConstraint(_one_of("status", PAYOUT_STATUSES), name="status"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        CheckConstraint("method IS NULL OR " + _one_of("method", PAYOUT_METHODS), name="method"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(
            "uq_commission_payouts_open_partner",
            "partner_id",
            unique=True,
            postgresql_where=text("status IN ('requested', 'approved')"),
            sqlite_where=text("status IN ('requested', 'approved')"),
        ),
        Index(
            "uq_commission_payouts_open_salesperson",
            "salesperson_id",
            unique=True,
            postgresql_where=text("status IN ('requested', 'approved')"),
            sqlite_where=text("status IN ('requested', 'approved')"),
        ),
        Index("ix_commission_payouts_status", "status"),
    )

    salesperson_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # Snapshot of the partner's payout method and account at request time.
    method: Mapped[str | None] = mapped_column(String(20))
    payout_account: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[dt.datetime | None]
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
