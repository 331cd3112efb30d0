"""Balances of the journal lines per account, branch, month and currency (the statements' read model).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tsh.platform.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = tsh.platform.db.base.Money(precision=18, scale=2)
_TIME = tsh.platform.db.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_balances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("branch_key", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("debit", _MONEY, nullable=False),
        sa.Column("credit", _MONEY, nullable=False),
        sa.Column("base_debit", _MONEY, nullable=False),
        sa.Column("base_credit", _MONEY, nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint("currency IN ('IQD', 'USD')", name=op.f("ck_account_balances_currency")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_balances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_balances")),
        sa.UniqueConstraint(
            "account_id",
            "branch_key",
            "year",
            "month",
            "currency",
            name=op.f("uq_account_balances_account_id_branch_key_year_month_currency"),
        ),
    )
    op.create_index("ix_account_balances_year_month", "account_balances", ["year", "month"])
    # Existing books: build the balances from the lines already posted.
    op.execute(
        """
        INSERT INTO account_balances
            (account_id, branch_key, year, month, currency, debit, credit, base_debit, base_credit,
             created_at, updated_at)
        SELECT l.account_id, COALESCE(l.branch_id, 0), p.year, p.month, e.currency,
               SUM(l.debit), SUM(l.credit), SUM(l.base_debit), SUM(l.base_credit),
               CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM journal_lines l
        JOIN journal_entries e ON e.id = l.entry_id
        JOIN fiscal_periods p ON p.id = e.fiscal_period_id
        GROUP BY l.account_id, COALESCE(l.branch_id, 0), p.year, p.month, e.currency
        """
    )


def downgrade() -> None:
    op.drop_index("ix_account_balances_year_month", table_name="account_balances")
    op.drop_table("account_balances")
