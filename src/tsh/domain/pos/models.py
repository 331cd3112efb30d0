"""Tables of the POS context (domain.md §6, apps/pos.md).

Other contexts are referenced by table name only. POS sales are priced and totalled in IQD (the
branch POS price list), so transaction and line amounts carry no currency column; the drawer is kept
per currency, so shift cash figures are split into `_iqd` / `_usd` columns and cash movements and
tenders carry their own currency.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, TimestampMixin, utcnow

CURRENCIES = ("IQD", "USD")
TERMINAL_STATUSES = ("active", "inactive")
SHIFT_STATUSES = ("open", "closed")
# Sign of CashMovement.amount per type: the drawer balance of a currency is SUM(amount).
CASH_IN_TYPES = ("opening", "sale", "pay_in")
CASH_OUT_TYPES = ("change", "refund", "pay_out", "drop")
CASH_MOVEMENT_TYPES = CASH_IN_TYPES + CASH_OUT_TYPES
TRANSACTION_STATUSES = ("open", "completed", "discarded")
TENDER_METHODS = ("cash", "card", "zain_cash", "fastpay")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """An enum as a named CHECK (no native DB enums: portable, and no ALTER TYPE later)."""
    return CheckConstraint(_in(column, values), name=column)


class PosTerminal(TimestampMixin, Base):
    """A till at a branch; it sells from one shop warehouse of that branch."""

    __tablename__ = "pos_terminals"
    __table_args__ = (
        _one_of("status", TERMINAL_STATUSES),
        Index("ix_pos_terminals_branch_id", "branch_id"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="active")


class Shift(TimestampMixin, Base):
    """A cashier's session on a terminal with its cash drawer; closed with counted cash (X/Z report)."""

    __tablename__ = "shifts"
    __table_args__ = (
        _one_of("status", SHIFT_STATUSES),
        CheckConstraint("opening_float_iqd >= 0 AND opening_float_usd >= 0", name="opening_float"),
        CheckConstraint(
            "(counted_cash_iqd IS NULL OR counted_cash_iqd >= 0)"
            " AND (counted_cash_usd IS NULL OR counted_cash_usd >= 0)",
            name="counted_cash",
        ),
        CheckConstraint("status = 'open' OR closed_at IS NOT NULL", name="closed_at"),
        Index("ix_shifts_cashier_id_status", "cashier_id", "status"),
        Index("ix_shifts_terminal_id_status", "terminal_id", "status"),
        Index("ix_shifts_branch_id_opened_at", "branch_id", "opened_at"),
        # One open shift per cashier and one per terminal, held by the database (races of POS-03).
        Index(
            "uq_shifts_open_per_cashier",
            "cashier_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "uq_shifts_open_per_terminal",
            "terminal_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    terminal_id: Mapped[int] = mapped_column(ForeignKey("pos_terminals.id"))
    # Copied from the terminal at opening so branch-scoped screens (POS-06, ACC-27, ADM-17) need no join.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opening_float_iqd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    opening_float_usd: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    # Frozen at closure (the live figure is SUM(cash_movements.amount) per currency).
    expected_cash_iqd: Mapped[Decimal | None]
    expected_cash_usd: Mapped[Decimal | None]
    counted_cash_iqd: Mapped[Decimal | None]
    counted_cash_usd: Mapped[Decimal | None]
    # counted - expected; signed.
    variance_iqd: Mapped[Decimal | None]
    variance_usd: Mapped[Decimal | None]
    note: Mapped[str | None] = mapped_column(Text)
    # The cash over/short entry posted at closure (none when there is no variance).
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class CashMovement(TimestampMixin, Base):
    """One change of a shift's cash drawer in one currency; the drawer balance is their sum."""

    __tablename__ = "cash_movements"
    __table_args__ = (
        _one_of("type", CASH_MOVEMENT_TYPES),
        _one_of("currency", CURRENCIES),
        # Signed amounts: inflows >= 0, outflows <= 0, so SUM(amount) is the drawer balance.
        CheckConstraint(
            f"({_in('type', CASH_IN_TYPES)} AND amount >= 0)"
            f" OR ({_in('type', CASH_OUT_TYPES)} AND amount <= 0)",
            name="amount_sign",
        ),
        Index("ix_cash_movements_shift_id_at", "shift_id", "at"),
        Index("ix_cash_movements_transaction_id", "transaction_id"),
    )

    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))
    type: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("pos_transactions.id"))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The entry posted for a pay-in, pay-out or drop (sales and refunds post on their own document).
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class PosTransaction(TimestampMixin, Base):
    """A counter sale: open (parked) while lines change, completed when paid, or discarded."""

    __tablename__ = "pos_transactions"
    __table_args__ = (
        _one_of("status", TRANSACTION_STATUSES),
        CheckConstraint(
            "subtotal >= 0 AND discount >= 0 AND tax >= 0 AND total >= 0", name="amounts_non_negative"
        ),
        CheckConstraint("discount_pct >= 0 AND discount_pct <= 100", name="discount_pct"),
        CheckConstraint(
            "status <> 'completed' OR (receipt_number IS NOT NULL AND completed_at IS NOT NULL)",
            name="completed_has_receipt",
        ),
        Index("ix_pos_transactions_shift_id_status", "shift_id", "status"),
        Index("ix_pos_transactions_branch_id_completed_at", "branch_id", "completed_at"),
        # NULL until completion; several open sales have none, which unique constraints allow.
        Index("uq_pos_transactions_branch_id_receipt_number", "branch_id", "receipt_number", unique=True),
        Index("ix_pos_transactions_customer_id", "customer_id"),
    )

    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))
    # Copied from the shift's terminal: receipt numbers are unique per branch (POS-14/15 lookups).
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    receipt_number: Mapped[str | None] = mapped_column(String(30))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    # Order-level discount of POS-11 (order_discount_pct), applied on top of line discounts.
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # IQD only (POS prices are IQD): no currency column.
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    completed_at: Mapped[datetime | None]
    discarded_at: Mapped[datetime | None]
    discard_reason: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    lines: Mapped[list[PosLine]] = relationship(
        back_populates="transaction", lazy="raise", cascade="all, delete-orphan", order_by="PosLine.id"
    )
    tenders: Mapped[list[PosTender]] = relationship(
        back_populates="transaction", lazy="raise", cascade="all, delete-orphan", order_by="PosTender.id"
    )


class PosLine(TimestampMixin, Base):
    """A product line of a POS sale, with the quantity already refunded."""

    __tablename__ = "pos_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("qty_refunded >= 0 AND qty_refunded <= qty", name="qty_refunded"),
        CheckConstraint("discount_pct >= 0 AND discount_pct <= 100", name="discount_pct"),
        CheckConstraint("unit_price >= 0 AND tax >= 0 AND line_total >= 0", name="amounts_non_negative"),
        Index("ix_pos_lines_transaction_id", "transaction_id"),
        Index("ix_pos_lines_product_id", "product_id"),
    )

    transaction_id: Mapped[int] = mapped_column(ForeignKey("pos_transactions.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int]
    # IQD, tax-exclusive, from the branch POS price list.
    unit_price: Mapped[Decimal]
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    line_total: Mapped[Decimal]
    serial_number: Mapped[str | None] = mapped_column(String(100))
    qty_refunded: Mapped[int] = mapped_column(default=0)

    transaction: Mapped[PosTransaction] = relationship(back_populates="lines", lazy="raise")


class PosTender(TimestampMixin, Base):
    """One payment method used on a POS sale (split tender); cash may exceed the due, change is IQD."""

    __tablename__ = "pos_tenders"
    __table_args__ = (
        _one_of("method", TENDER_METHODS),
        _one_of("currency", CURRENCIES),
        CheckConstraint("amount > 0 AND amount_iqd > 0", name="amount_positive"),
        CheckConstraint("change_iqd >= 0", name="change_non_negative"),
        CheckConstraint("exchange_rate > 0", name="exchange_rate_positive"),
        Index("ix_pos_tenders_transaction_id", "transaction_id"),
    )

    transaction_id: Mapped[int] = mapped_column(ForeignKey("pos_transactions.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # IQD per unit of `currency` in force at payment (1 for IQD); documents are never revalued.
    exchange_rate: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal("1"))
    # amount x exchange_rate, rounded to whole dinars: what the tender is worth against the IQD total.
    amount_iqd: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(100))
    change_iqd: Mapped[Decimal] = mapped_column(default=Decimal("0"))

    transaction: Mapped[PosTransaction] = relationship(back_populates="tenders", lazy="raise")
