"""search indexes: pg_trgm GIN indexes for the consumer catalogue search (CON-02, CON-04)

On PostgreSQL the extension pg_trgm is created and trigram GIN indexes serve `ILIKE '%q%'` and
prefix matches on product names (English and Arabic), SKU, brand and category names. On SQLite
nothing is needed: search there is a LIKE scan over a small embedded catalogue.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_products_name_en_trgm", "products", "name_en"),
    ("ix_products_name_ar_trgm", "products", "name_ar"),
    ("ix_products_sku_trgm", "products", "sku"),
    ("ix_products_brand_trgm", "products", "brand"),
    ("ix_categories_name_en_trgm", "categories", "name_en"),
    ("ix_categories_name_ar_trgm", "categories", "name_ar"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _table, _column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
