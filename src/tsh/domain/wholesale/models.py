"""Tables of the wholesale context (domain.md §10, apps/wholesale.md).

A wholesale account is a `customers` row of type wholesale; its invoices and payments are the sales
tables. Only the credit request is owned here. Other contexts are referenced by table name only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tsh.platform.db.base import Base, TimestampMixin

CURRENCIES = ("IQD", "USD")
CREDIT_REQUEST_STATUSES = ("pending", "approved", "rejected")


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """An enum as a named CHECK (no native DB enums: portable, and no ALTER TYPE later)."""
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)


class CreditRequest(TimestampMixin, Base):
    """A wholesale account's request for a higher credit limit, decided in the back office."""

    __tablename__ = "credit_requests"
    __table_args__ = (
        _one_of("status", CREDIT_REQUEST_STATUSES),
        _one_of("currency", CURRENCIES),
        CheckConstraint("requested_limit > 0", name="requested_limit_positive"),
        CheckConstraint("current_limit >= 0", name="current_limit_non_negative"),
        # One pending request per customer (409 REQUEST_PENDING holds under races).
        Index(
            "uq_credit_requests_pending_customer",
            "customer_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_credit_requests_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_credit_requests_status", "status"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    requested_limit: Mapped[Decimal]
    # The limit when the request was made, for the decision screen; same currency as requested_limit
    # (the account currency).
    current_limit: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
