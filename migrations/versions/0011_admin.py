"""Notification outbox for setup and reset links (ADM-04, ADM-07); the request log's per-minute
aggregates and distinct users per day (ADM-01, ADM-23, ADM-24).

Revision ID: 0011
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tsh.platform.db.base

revision: str = "0011"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("sent_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_notifications_channel")),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f("ck_notifications_status")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_status_created_at", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_notifications_user_id", ["user_id"], unique=False)

    op.create_table(
        "request_rollups",
        sa.Column("minute", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("instance", sa.String(length=16), nullable=False),
        sa.Column("app", sa.String(length=16), nullable=False),
        sa.Column("route", sa.String(length=255), nullable=False),
        sa.Column("status_class", sa.String(length=3), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("cached", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("b0", sa.Integer(), nullable=False),
        sa.Column("b1", sa.Integer(), nullable=False),
        sa.Column("b2", sa.Integer(), nullable=False),
        sa.Column("b3", sa.Integer(), nullable=False),
        sa.Column("b4", sa.Integer(), nullable=False),
        sa.Column("b5", sa.Integer(), nullable=False),
        sa.Column("b6", sa.Integer(), nullable=False),
        sa.Column("b7", sa.Integer(), nullable=False),
        sa.Column("b8", sa.Integer(), nullable=False),
        sa.Column("b9", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_rollups")),
    )
    with op.batch_alter_table("request_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_request_rollups_app_minute", ["app", "minute"], unique=False)
        batch_op.create_index(
            "uq_request_rollups_key", ["minute", "instance", "app", "route", "status_class"], unique=True
        )

    op.create_table(
        "request_user_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("app", sa.String(length=16), nullable=False),
        sa.Column("route", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tsh.platform.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_user_days")),
    )
    with op.batch_alter_table("request_user_days", schema=None) as batch_op:
        batch_op.create_index("ix_request_user_days_app_day", ["app", "day"], unique=False)
        batch_op.create_index("uq_request_user_days_key", ["day", "app", "route", "user_id"], unique=True)


def downgrade() -> None:
    op.drop_table("request_user_days")
    op.drop_table("request_rollups")
    op.drop_table("notifications")
