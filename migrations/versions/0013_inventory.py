"""Inventory app: running average cost on every movement (valuation as of a past date without a
replay), last receipt and sale dates on stock rows (aging without a ledger scan), a per-product
lead time (reorder suggestions, clarifications.md) and an index for the company-wide ledger.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tsh.platform.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "avg_cost_after",
                tsh.platform.db.base.Money(precision=18, scale=2),
                nullable=False,
                server_default="0",
            )
        )
        batch_op.create_check_constraint("avg_cost_after_non_negative", "avg_cost_after >= 0")
        batch_op.create_index("ix_stock_movements_at", ["at"], unique=False)
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_receipt_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_sale_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=True)
        )
    # Existing rows learn their dates from the ledger once.
    for column, types in (
        ("last_receipt_at", "'receipt', 'transfer_in'"),
        ("last_sale_at", "'sale', 'pos_sale'"),
    ):
        op.execute(
            f"UPDATE stock_levels SET {column} = (SELECT max(m.at) FROM stock_movements m"
            " WHERE m.product_id = stock_levels.product_id AND m.warehouse_id = stock_levels.warehouse_id"
            f" AND m.type IN ({types}))"
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_time_days", sa.Integer(), nullable=False, server_default="7"))
        batch_op.create_check_constraint(
            "lead_time_days_range", "lead_time_days >= 0 AND lead_time_days <= 365"
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint("lead_time_days_range", type_="check")
        batch_op.drop_column("lead_time_days")
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_column("last_sale_at")
        batch_op.drop_column("last_receipt_at")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_at")
        batch_op.drop_constraint("avg_cost_after_non_negative", type_="check")
        batch_op.drop_column("avg_cost_after")
