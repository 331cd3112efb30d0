"""Password history for the password policy (SEC-19/20: a new password may not repeat the last N).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tsh.platform.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "password_history",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_password_history_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    op.create_index("ix_password_history_user_id_created_at", "password_history", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_password_history_user_id_created_at", table_name="password_history")
    op.drop_table("password_history")
