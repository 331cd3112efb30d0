"""Inventory app: running average cost on every movement (valuation as of a past date without a
replay) and a per-product lead time (reorder suggestions, clarifications.md).

Revision ID: 0042
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tsh.platform.db.base

revision: str = "0042"
down_revision: str | None = "0004"
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
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_time_days", sa.Integer(), nullable=False, server_default="7"))
        batch_op.create_check_constraint(
            "lead_time_days_range", "lead_time_days >= 0 AND lead_time_days <= 365"
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint("lead_time_days_range", type_="check")
        batch_op.drop_column("lead_time_days")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_constraint("avg_cost_after_non_negative", type_="check")
        batch_op.drop_column("avg_cost_after")
