"""Tables of the inventory context (domain.md §7, apps/inventory.md).

Quantities are whole pieces (integers). Costs are IQD (average cost is kept in the base currency),
so cost and value columns carry no currency column; only goods receipts, bought from suppliers in
their currency, have one. Other contexts are referenced by table name only.

StockLevel.reserved may exceed on_hand, deliberately: reservations of placed orders are taken when
stock is available, but a later damage/loss adjustment or count may lower on hand below them
(INV-13 only refuses on hand < 0). available = on_hand - reserved may therefore be negative, which
the stock status reads as `out`; the shortage is resolved by receiving stock or cancelling orders.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, JsonType, TimestampMixin, utcnow

CURRENCIES = ("IQD", "USD")
# Movement types by the sign their quantity must have.
INBOUND_MOVEMENTS = ("receipt", "refund", "return", "transfer_in")
OUTBOUND_MOVEMENTS = ("sale", "pos_sale", "transfer_out", "transfer_loss")
SIGNED_MOVEMENTS = ("adjustment", "count")
MOVEMENT_TYPES = INBOUND_MOVEMENTS + OUTBOUND_MOVEMENTS + SIGNED_MOVEMENTS
TRANSFER_STATUSES = ("requested", "dispatched", "received", "received_short", "cancelled")
ADJUSTMENT_REASONS = ("damage", "loss", "found", "expiry", "correction", "count")
ADJUSTMENT_SOURCES = ("manual", "count")
COUNT_SCOPES = ("full", "category", "products")
COUNT_STATUSES = ("open", "completed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """An enum as a named CHECK (no native DB enums: portable, and no ALTER TYPE later)."""
    return CheckConstraint(_in(column, values), name=column)


class StockLevel(TimestampMixin, Base):
    """Stock of one product in one warehouse: on hand, reserved, in transit, avg cost, reorder settings."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("in_transit_in >= 0", name="in_transit_non_negative"),
        CheckConstraint("avg_cost >= 0", name="avg_cost_non_negative"),
        CheckConstraint("reorder_point >= 0 AND reorder_qty >= 0", name="reorder_non_negative"),
        Index("ix_stock_levels_warehouse_id", "warehouse_id"),
    )

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    # Sum of the StockReservations of placed orders; may exceed on_hand (module docstring).
    reserved: Mapped[int] = mapped_column(default=0)
    # Dispatched towards this warehouse and not yet received.
    in_transit_in: Mapped[int] = mapped_column(default=0)
    # IQD only: no currency column. Re-weighted on goods and transfer receipts.
    avg_cost: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    reorder_point: Mapped[int] = mapped_column(default=0)
    reorder_qty: Mapped[int] = mapped_column(default=0)
    # Kept by `stock.receive` / `stock.issue` for the aging report (INV-20), so it reads no ledger:
    # the last receipt or transfer in, and the last sale (order shipment or POS sale).
    last_receipt_at: Mapped[datetime | None]
    last_sale_at: Mapped[datetime | None]
    # Row version for delta sync (tsh.domain.sync): bumped by the change-log hook on every ORM update;
    # Core bulk UPDATEs must set version = version + 1 themselves.
    version: Mapped[int] = mapped_column(default=1)


class StockMovement(TimestampMixin, Base):
    """Append-only stock ledger: one row per change of on hand, with the source document."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        _one_of("type", MOVEMENT_TYPES),
        CheckConstraint(
            f"({_in('type', INBOUND_MOVEMENTS)} AND qty > 0)"
            f" OR ({_in('type', OUTBOUND_MOVEMENTS)} AND qty < 0)"
            f" OR ({_in('type', SIGNED_MOVEMENTS)} AND qty <> 0)",
            name="qty_sign",
        ),
        CheckConstraint("unit_cost >= 0", name="unit_cost_non_negative"),
        CheckConstraint("on_hand_after >= 0", name="on_hand_after_non_negative"),
        CheckConstraint("avg_cost_after >= 0", name="avg_cost_after_non_negative"),
        Index("ix_stock_movements_product_id_warehouse_id_at", "product_id", "warehouse_id", "at"),
        Index("ix_stock_movements_warehouse_id_at", "warehouse_id", "at"),
        # The company-wide ledger (INV-04) newest first.
        Index("ix_stock_movements_at", "at"),
        Index("ix_stock_movements_source_type_source_id", "source_type", "source_id"),
    )

    at: Mapped[datetime] = mapped_column(default=utcnow)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    type: Mapped[str] = mapped_column(String(16))
    # Signed: + into the warehouse, - out of it.
    qty: Mapped[int]
    # IQD: no currency column.
    unit_cost: Mapped[Decimal]
    # A transfer_loss leaves on hand unchanged (it writes off in-transit stock); this is still on hand.
    on_hand_after: Mapped[int]
    # The warehouse's average cost (IQD) once this movement is applied: with on_hand_after it gives
    # the stock value of the pair at any past moment without replaying the ledger (INV-19).
    avg_cost_after: Mapped[Decimal] = mapped_column(server_default="0")
    # The document that moved stock: order, pos_transaction, refund, return_request, goods_receipt,
    # transfer, adjustment.
    source_type: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[int | None]
    # NULL for system moves (automatic cancellation).
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Supplier(TimestampMixin, Base):
    """A vendor goods are bought from; goods receipts post against its payable account."""

    __tablename__ = "suppliers"
    __table_args__ = (_one_of("currency", CURRENCIES),)

    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    payable_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    is_active: Mapped[bool] = mapped_column(default=True)


class GoodsReceipt(TimestampMixin, Base):
    """Goods received from a supplier into a warehouse: the only way stock enters; re-weights avg cost."""

    __tablename__ = "goods_receipts"
    __table_args__ = (
        _one_of("currency", CURRENCIES),
        CheckConstraint("exchange_rate > 0", name="exchange_rate_positive"),
        CheckConstraint("total >= 0", name="total_non_negative"),
        Index("ix_goods_receipts_warehouse_id_received_at", "warehouse_id", "received_at"),
        Index("ix_goods_receipts_supplier_id", "supplier_id"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Currency of the line unit costs and the total (the supplier's invoice currency).
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    # IQD per unit of `currency` used to turn unit costs into IQD average cost (1 for IQD).
    exchange_rate: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal("1"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    lines: Mapped[list[GoodsReceiptLine]] = relationship(
        back_populates="receipt", lazy="raise", cascade="all, delete-orphan", order_by="GoodsReceiptLine.id"
    )


class GoodsReceiptLine(TimestampMixin, Base):
    """A product received on a goods receipt, at the supplier's unit cost."""

    __tablename__ = "goods_receipt_lines"
    __table_args__ = (
        UniqueConstraint("receipt_id", "product_id"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_non_negative"),
    )

    receipt_id: Mapped[int] = mapped_column(ForeignKey("goods_receipts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty: Mapped[int]
    # In the receipt's currency.
    unit_cost: Mapped[Decimal]

    receipt: Mapped[GoodsReceipt] = relationship(back_populates="lines", lazy="raise")


class Transfer(TimestampMixin, Base):
    """Stock moved between two warehouses: requested, dispatched (in transit), received or cancelled."""

    __tablename__ = "transfers"
    __table_args__ = (
        _one_of("status", TRANSFER_STATUSES),
        CheckConstraint("from_warehouse_id <> to_warehouse_id", name="different_warehouses"),
        Index("ix_transfers_from_warehouse_id_status", "from_warehouse_id", "status"),
        Index("ix_transfers_to_warehouse_id_status", "to_warehouse_id", "status"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    from_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispatched_at: Mapped[datetime | None]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Note given at receipt (INV-10), kept apart from the request note.
    receipt_note: Mapped[str | None] = mapped_column(Text)
    # The transfer-loss entry posted when received short.
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    lines: Mapped[list[TransferLine]] = relationship(
        back_populates="transfer", lazy="raise", cascade="all, delete-orphan", order_by="TransferLine.id"
    )


class TransferLine(TimestampMixin, Base):
    """A product on a transfer with its requested, dispatched and received quantities."""

    __tablename__ = "transfer_lines"
    __table_args__ = (
        UniqueConstraint("transfer_id", "product_id"),
        CheckConstraint("qty_requested > 0", name="qty_requested_positive"),
        CheckConstraint("qty_dispatched >= 0 AND qty_dispatched <= qty_requested", name="qty_dispatched"),
        CheckConstraint("qty_received >= 0 AND qty_received <= qty_dispatched", name="qty_received"),
        CheckConstraint("unit_cost IS NULL OR unit_cost >= 0", name="unit_cost_non_negative"),
    )

    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty_requested: Mapped[int]
    qty_dispatched: Mapped[int] = mapped_column(default=0)
    qty_received: Mapped[int] = mapped_column(default=0)
    # Source average cost (IQD) at dispatch: the destination re-weights at this cost on receipt.
    unit_cost: Mapped[Decimal | None]

    transfer: Mapped[Transfer] = relationship(back_populates="lines", lazy="raise")


class Adjustment(TimestampMixin, Base):
    """A stock correction of one warehouse at average cost (manual, or booked by a count)."""

    __tablename__ = "adjustments"
    __table_args__ = (
        _one_of("reason", ADJUSTMENT_REASONS),
        _one_of("source", ADJUSTMENT_SOURCES),
        CheckConstraint("source <> 'count' OR count_id IS NOT NULL", name="count_source"),
        Index("ix_adjustments_warehouse_id_created_at", "warehouse_id", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8), default="manual")
    count_id: Mapped[int | None] = mapped_column(ForeignKey("counts.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # ids of `media` rows (photos of damage etc.).
    media_ids: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    # Signed value impact in IQD (sum of qty_delta x unit_cost): no currency column.
    value: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    lines: Mapped[list[AdjustmentLine]] = relationship(
        back_populates="adjustment", lazy="raise", cascade="all, delete-orphan", order_by="AdjustmentLine.id"
    )


class AdjustmentLine(TimestampMixin, Base):
    """A signed quantity change of one product on an adjustment, at the average cost of the moment."""

    __tablename__ = "adjustment_lines"
    __table_args__ = (
        UniqueConstraint("adjustment_id", "product_id"),
        CheckConstraint("qty_delta <> 0", name="qty_delta_non_zero"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_non_negative"),
    )

    adjustment_id: Mapped[int] = mapped_column(ForeignKey("adjustments.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    qty_delta: Mapped[int]
    # IQD.
    unit_cost: Mapped[Decimal]

    adjustment: Mapped[Adjustment] = relationship(back_populates="lines", lazy="raise")


class Count(TimestampMixin, Base):
    """A physical count session of a warehouse (full, one category or listed products)."""

    __tablename__ = "counts"
    __table_args__ = (
        _one_of("scope", COUNT_SCOPES),
        _one_of("status", COUNT_STATUSES),
        CheckConstraint("scope <> 'category' OR category_id IS NOT NULL", name="category_scope"),
        Index("ix_counts_warehouse_id_status", "warehouse_id", "status"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    scope: Mapped[str] = mapped_column(String(10))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    blind: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Snapshot moment: variance = counted - (snapshot + movements after started_at).
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    # Total variance value in IQD set at completion (INV-14).
    variance_value: Mapped[Decimal | None]
    # use_alter: adjustments.count_id points back here; the cycle is closed after both tables exist.
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("adjustments.id", use_alter=True))

    lines: Mapped[list[CountLine]] = relationship(
        back_populates="count", lazy="raise", cascade="all, delete-orphan", order_by="CountLine.id"
    )


class CountLine(TimestampMixin, Base):
    """A product of a count sheet: system snapshot, counted quantity and the variance at completion."""

    __tablename__ = "count_lines"
    __table_args__ = (
        UniqueConstraint("count_id", "product_id"),
        CheckConstraint("snapshot_qty >= 0", name="snapshot_qty_non_negative"),
        CheckConstraint("counted_qty IS NULL OR counted_qty >= 0", name="counted_qty_non_negative"),
    )

    count_id: Mapped[int] = mapped_column(ForeignKey("counts.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    snapshot_qty: Mapped[int]
    # NULL = not counted yet.
    counted_qty: Mapped[int | None]
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counted_at: Mapped[datetime | None]
    # Signed; set at completion.
    variance: Mapped[int | None]

    count: Mapped[Count] = relationship(back_populates="lines", lazy="raise")


class StockReservation(TimestampMixin, Base):
    """Stock held for an order line; deleted on shipment or cancellation. StockLevel.reserved = Σ qty.

    An inventory fact (the order line is referenced by table name), so that stock keeping does not
    import the sales context that places the orders."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        UniqueConstraint("order_line_id", "warehouse_id"),
        CheckConstraint("qty > 0", name="qty"),
        Index("ix_stock_reservations_warehouse_id_product_id", "warehouse_id", "product_id"),
        Index("ix_stock_reservations_expires_at", "expires_at"),
    )

    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # In pieces.
    qty: Mapped[int]
    # Only for pending online-payment orders (auto-cancelled 30 minutes after placement).
    expires_at: Mapped[datetime | None]
