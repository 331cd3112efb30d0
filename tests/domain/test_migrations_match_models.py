"""Alembic is the one source of the schema: after `upgrade head` nothing differs from the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from tsh.domain.models import Base
from tsh.platform.db.migrate import upgrade


def test_upgrade_head_equals_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.sqlite3'}"
    upgrade(url.replace("sqlite://", "sqlite+aiosqlite://"))
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
