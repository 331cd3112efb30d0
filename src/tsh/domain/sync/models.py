"""The change-log table of delta sync (written by tsh.domain.sync.changelog)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tsh.platform.db.base import Base, utcnow

OPS = ("insert", "update", "delete")

# BIGINT on PostgreSQL (BIGSERIAL); on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
_CursorId = BigInteger().with_variant(Integer(), "sqlite")


class ChangeLog(Base):
    """One insert/update/delete of a synced row; `id` is the global cursor clients resume from.

    Append-only and hot, so it skips TimestampMixin: `at` is its only timestamp and the cursor needs a
    64-bit, never-reused id (AUTOINCREMENT on SQLite, a sequence on PostgreSQL).
    """

    __tablename__ = "change_log"
    __table_args__ = (
        CheckConstraint(f"op IN ({', '.join(repr(v) for v in OPS)})", name="op"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Per-entity feeds: WHERE entity IN (...) AND id > :cursor ORDER BY id.
        Index("ix_change_log_entity_cursor", "entity", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_CursorId, primary_key=True, autoincrement=True)
    # Entity name of the synced row: product, price_list_item, customer, stock_level, order, invoice.
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    op: Mapped[str] = mapped_column(String(6))
    # The row's version after the change (1 for tables without a version column).
    version: Mapped[int] = mapped_column(default=1)
    at: Mapped[datetime] = mapped_column(default=utcnow)
