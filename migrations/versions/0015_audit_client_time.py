"""The client's time of a write queued offline (mobile.md §2): audit rows keep both times.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tsh.platform.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default: a plain ALTER TABLE ADD COLUMN on SQLite too.
    op.add_column(
        "audit_logs",
        sa.Column("client_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_logs") as batch:
        batch.drop_column("client_at")
