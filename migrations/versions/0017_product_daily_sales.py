"""The product-sales read model: order lines per business day, product, branch, channel and
currency (tsh.domain.sales.daily_sales), and the mark of how far it is complete. Empty here: the
`roll_up_product_sales` job builds every day at its first run (the worker's start-up, or
`tsh worker --once roll_up_product_sales`); until then readers scan the lines as before.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tsh.platform.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = tsh.platform.db.base.Money(precision=18, scale=2)
_TIME = tsh.platform.db.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_daily_sales",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", _MONEY, nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_daily_sales_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_product_daily_sales_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_daily_sales")),
        sa.UniqueConstraint(
            "day",
            "product_id",
            "branch_id",
            "channel",
            "currency",
            name=op.f("uq_product_daily_sales_day_product_id_branch_id_channel_currency"),
        ),
    )
    op.create_table(
        "sales_rollups",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("through_day", sa.Date(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_rollups")),
        sa.UniqueConstraint("name", name=op.f("uq_sales_rollups_name")),
    )


def downgrade() -> None:
    op.drop_table("sales_rollups")
    op.drop_table("product_daily_sales")
