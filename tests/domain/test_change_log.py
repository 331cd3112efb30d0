"""The delta-sync change log is written by the flush that makes the change, in the same transaction.

Runs on SQLite files (a second connection shows what is committed) over the full model set; the
tracked row used is a StockLevel, whose version column the hook bumps. SQLite leaves foreign keys
unenforced on a plain engine, so no product or warehouse rows are needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from tsh.platform.db.base import Base

# Products, customers, orders and invoices are other contexts' models: without them the schema
# cannot be created (foreign keys) and the tracked tables do not exist yet.
pytest.importorskip("tsh.domain.models")

from tsh.domain.inventory.models import StockLevel, StockMovement
from tsh.domain.sync.changelog import (
    TRACKED,
    change_log_installed,
    install_change_log,
    record_bulk_changes,
    uninstall_change_log,
)
from tsh.domain.sync.models import ChangeLog


def _missing_tables() -> set[str]:
    tables = Base.metadata.tables
    referenced = {fk.target_fullname.split(".")[0] for t in tables.values() for fk in t.foreign_keys}
    return (referenced | set(TRACKED)) - set(tables)


@pytest.fixture(autouse=True)
def _hooks() -> Iterator[None]:
    missing = _missing_tables()
    if missing:
        pytest.skip(f"models not importable yet: {sorted(missing)}")
    was_installed = change_log_installed()
    install_change_log()
    yield
    if not was_installed:
        uninstall_change_log()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _committed_log(engine: Engine) -> list[tuple[str, int, str, int]]:
    """What another connection (a sync reader) sees."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(ChangeLog.entity, ChangeLog.entity_id, ChangeLog.op, ChangeLog.version).order_by(
                ChangeLog.id
            )
        )
        return [(r.entity, r.entity_id, r.op, r.version) for r in rows]


def _level(**kw: int) -> StockLevel:
    return StockLevel(product_id=kw.get("product_id", 1), warehouse_id=1, on_hand=kw.get("on_hand", 5))


def test_every_tracked_table_is_modelled() -> None:
    assert set(TRACKED) <= set(Base.metadata.tables)


def test_insert_update_delete_are_logged_in_the_same_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        level = _level()
        session.add(level)
        session.flush()
        # Written by the flush, inside the open transaction: visible here, not yet to readers.
        in_tx = session.scalars(select(ChangeLog)).all()
        assert [(c.entity, c.entity_id, c.op, c.version) for c in in_tx] == [
            ("stock_level", level.id, "insert", 1)
        ]
        assert _committed_log(engine) == []
        session.commit()
        assert _committed_log(engine) == [("stock_level", level.id, "insert", 1)]

        level.on_hand = 3
        session.commit()
        assert level.version == 2

        level.on_hand = 3  # same value: not a change, nothing logged, no version bump
        session.commit()
        assert level.version == 2

        session.delete(level)
        session.commit()

    assert _committed_log(engine) == [
        ("stock_level", level.id, "insert", 1),
        ("stock_level", level.id, "update", 2),
        ("stock_level", level.id, "delete", 3),
    ]
    with engine.connect() as conn:
        ids = conn.scalars(select(ChangeLog.id).order_by(ChangeLog.id)).all()
    assert ids == sorted(set(ids)) and len(ids) == 3


def test_rollback_writes_no_change_log(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(_level())
        session.flush()
        assert session.scalar(select(func.count()).select_from(ChangeLog)) == 1
        session.rollback()
    assert _committed_log(engine) == []

    with Session(engine) as session:
        level = _level()
        session.add(level)
        session.commit()
        level.on_hand = 1
        session.flush()
        session.rollback()
    assert [op for _, _, op, _ in _committed_log(engine)] == ["insert"]


def test_untracked_rows_are_not_logged(engine: Engine) -> None:
    with Session(engine) as session:
        movement = StockMovement(
            product_id=1, warehouse_id=1, type="receipt", qty=5, unit_cost=0, on_hand_after=5, source_type="t"
        )
        session.add(movement)
        session.commit()
    assert _committed_log(engine) == []


def test_install_is_idempotent(engine: Engine) -> None:
    install_change_log()
    install_change_log()
    with Session(engine) as session:
        session.add(_level())
        session.commit()
    assert len(_committed_log(engine)) == 1


def test_explicit_version_is_not_bumped_again(engine: Engine) -> None:
    with Session(engine) as session:
        level = _level()
        session.add(level)
        session.commit()
        level.on_hand = 9
        level.version = 7
        session.commit()
        assert level.version == 7
    assert _committed_log(engine)[-1] == ("stock_level", level.id, "update", 7)


def test_bulk_changes_are_logged_with_their_versions(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all([_level(product_id=1), _level(product_id=2)])
        session.commit()
        result = session.execute(
            update(StockLevel)
            .where(StockLevel.on_hand >= 2)
            .values(on_hand=StockLevel.on_hand - 2, version=StockLevel.version + 1)
            .returning(StockLevel.id, StockLevel.version)
        )
        versions = {row.id: row.version for row in result}
        record_bulk_changes(session, "stock_level", versions, "update", versions=versions)
        session.commit()
    assert sorted(_committed_log(engine)[-2:]) == [("stock_level", i, "update", 2) for i in sorted(versions)]

    with Session(engine) as session:
        record_bulk_changes(session, "stock_level", [1], "update")
        session.rollback()
    assert len(_committed_log(engine)) == 4

    with Session(engine) as session, pytest.raises(ValueError):
        record_bulk_changes(session, "stock_movement", [1], "update")


async def test_async_session_logs_in_its_transaction(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            level = _level()
            session.add(level)
            await session.commit()
            level.reserved = 2
            await session.commit()
            level.reserved = 4
            await session.flush()
            await session.rollback()
        async with AsyncSession(engine) as session:
            log = (
                await session.execute(select(ChangeLog.op, ChangeLog.version).order_by(ChangeLog.id))
            ).all()
        assert [tuple(r) for r in log] == [("insert", 1), ("update", 2)]
    finally:
        await engine.dispose()
