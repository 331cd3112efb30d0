"""Receivables: invoices, customer payments and their allocations to invoices (domain.md §5).

Customer balance = Σ open invoice balances − Σ payment `unallocated` − unallocated credit notes
(refunds). Credit used = Σ balance of invoices with status open or partial. Overdue is derived:
open or partial with due_date < today (Asia/Baghdad).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, TimestampMixin, utcnow

if TYPE_CHECKING:
    from tsh.domain.sales.models.orders import Order

CURRENCIES = ("IQD", "USD")
INVOICE_STATUSES = ("open", "partial", "paid", "void")
# Invoices that count towards credit used, balance and aging.
UNPAID_INVOICE_STATUSES = ("open", "partial")
PAYMENT_METHODS = ("cash", "card", "zain_cash", "fastpay", "cheque", "bank_transfer")
ONLINE_PAYMENT_METHODS = ("card", "zain_cash", "fastpay")
PAYMENT_CHANNELS = ("consumer", "salesperson", "wholesale", "office", "delivery")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Invoice(TimestampMixin, Base):
    """A receivable issued to a customer for a confirmed order or a charged service job."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(_one_of("status", INVOICE_STATUSES), name="status"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        CheckConstraint("(order_id IS NULL) <> (job_id IS NULL)", name="single_source"),
        CheckConstraint("subtotal >= 0 AND tax >= 0 AND total >= 0", name="amounts_non_negative"),
        CheckConstraint("paid >= 0", name="paid_non_negative"),
        CheckConstraint("balance >= 0", name="balance_non_negative"),
        CheckConstraint("paid <= total", name="paid_max"),
        # balance = total − paid, except a void invoice whose balance is 0. Tolerance: SQLite floats.
        CheckConstraint(
            "(status = 'void' AND balance = 0) OR ABS(balance - (total - paid)) < 0.005",
            name="balance_formula",
        ),
        CheckConstraint("status <> 'paid' OR balance = 0", name="paid_has_no_balance"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        Index("ix_invoices_customer_id_status", "customer_id", "status"),
        Index("ix_invoices_due_date", "due_date"),
        Index("ix_invoices_branch_id", "branch_id"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    # Exactly one source: an order or a service job (one invoice per source).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    # use_alter: jobs.invoice_id points back here, so this FK is added after both tables exist.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", use_alter=True), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    issue_date: Mapped[date]
    due_date: Mapped[date]
    # subtotal is net of discounts and includes any delivery fee; total = subtotal + tax.
    subtotal: Mapped[Decimal]
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    total: Mapped[Decimal]
    # Σ allocations (payments and credit notes) applied to it.
    paid: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    balance: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16), default="open")
    voided_at: Mapped[datetime | None]
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # Delta-sync counter, bumped by the services on every change (not an optimistic lock).
    version: Mapped[int] = mapped_column(default=1)

    order: Mapped[Order | None] = relationship(back_populates="invoice", lazy="raise")
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="invoice", lazy="raise", order_by="PaymentAllocation.id"
    )


class Payment(TimestampMixin, Base):
    """Money received from a customer (office, field collection, online, cash on delivery)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("method", "provider_reference"),
        CheckConstraint(_one_of("method", PAYMENT_METHODS), name="method"),
        CheckConstraint(_one_of("channel", PAYMENT_CHANNELS), name="channel"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unallocated >= 0 AND unallocated <= amount", name="unallocated"),
        CheckConstraint("exchange_rate IS NULL OR exchange_rate > 0", name="exchange_rate"),
        Index("ix_payments_customer_id", "customer_id"),
        Index("ix_payments_collected_by_id_received_at", "collected_by_id", "received_at"),
        Index("ix_payments_received_at", "received_at"),
        Index("ix_payments_visit_id", "visit_id"),
    )

    # Also the receipt number shown to the customer.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    method: Mapped[str] = mapped_column(String(20))
    # Cheque number, transfer reference, ...
    reference: Mapped[str | None] = mapped_column(String(100))
    # Wallet/card provider transaction id; unique per method so one provider payment is recorded once.
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deposit_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    geo_accuracy_m: Mapped[float | None]
    receipt_media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    # IQD per 1 USD in force at received_at; set when allocations cross currencies.
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Clock of the field device when the payment was queued offline (SAL-13).
    device_time: Mapped[datetime | None]
    # Part of `amount` (payment currency) not yet allocated: customer credit.
    unallocated: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="PaymentAllocation.id",
    )


class PaymentAllocation(TimestampMixin, Base):
    """The part of a payment applied to one invoice (amount in the invoice's currency)."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        UniqueConstraint("payment_id", "invoice_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_allocations_invoice_id", "invoice_id"),
    )

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    # In the invoice currency (converted with Payment.exchange_rate when the currencies differ).
    amount: Mapped[Decimal]

    payment: Mapped[Payment] = relationship(back_populates="allocations", lazy="raise")
    invoice: Mapped[Invoice] = relationship(back_populates="allocations", lazy="raise")
