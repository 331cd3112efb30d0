"""Reference data: roles, permissions, journals, chart of accounts, default tax rates.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from tsh.domain.reference_data import sync_reference_data

    sync_reference_data(op.get_bind())


def downgrade() -> None:
    for table in ("tax_rates", "accounts", "journals", "role_permissions", "permissions", "roles"):
        op.execute(f"DELETE FROM {table}")
