"""Bulk writing for the seed: ids assigned in Python, rows buffered per table, written in batches.

One writer serves both back ends: on SQLite an `executemany` of a prepared INSERT on the driver
connection, on PostgreSQL `COPY ... FROM STDIN (binary)` through asyncpg. Values go through the
SQLAlchemy bind processors of each column first, so both paths store exactly what the ORM would
(UTC datetimes, JSON text, Decimal) without paying for the ORM or Core per-row machinery.

Rows are plain dicts. Columns left out get the column's Python default (`created_at` and
`updated_at` get the seed's clock), or NULL. Buffers are flushed table by table in the metadata's
dependency order, so a row may reference any row added before it, in an earlier or the same flush.
The few reference cycles of the schema (branch manager, department head, job invoice, period
closing entry, count adjustment) are closed with `update()` after both rows exist.

Nothing here writes the delta-sync change log: seed rows are not changes, phones do a full sync
first, and bypassing the ORM means the change-log hooks never fire. Sequences are moved past the
ids used (`reset_sequences`) so later INSERTs by the services get fresh ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import tsh.domain.models  # noqa: F401  (every table in the metadata, for the dependency order)
from tsh.platform.db.base import Base, UtcDateTime

# Tables the data migrations fill (identity RBAC and the accounting chart); kept by reset=True.
REFERENCE_TABLES = frozenset(
    {"roles", "permissions", "role_permissions", "journals", "accounts", "tax_rates"}
)
# Not ours to clear or count: Alembic's bookkeeping is outside the metadata anyway.
_SQLITE_BATCH = 20_000

_Filler = Callable[[], Any]
_MISSING = object()


class IdAllocator:
    """Next free id per table, read once from the database (max(id) + 1)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    async def prime(self, session: AsyncSession) -> None:
        for table in Base.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            current = (await session.execute(select(func.max(table.c.id)))).scalar()
            self._next[table.name] = int(current or 0) + 1

    def take(self, table: str, count: int = 1) -> int:
        """Reserve `count` consecutive ids and return the first."""
        first = self._next[table]
        self._next[table] = first + count
        return first

    def next(self, table: str) -> int:
        first = self._next[table]
        self._next[table] = first + 1
        return first

    def peek(self, table: str) -> int:
        return self._next[table]


class _TablePlan:
    """Column order, defaults and bind processors of one table for one dialect."""

    def __init__(self, table: Table, dialect: Dialect, clock: datetime) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.fillers: dict[str, _Filler] = {}
        self.processors: list[Callable[[Any], Any] | None] = []
        for column in table.columns:
            if isinstance(column.type, UtcDateTime):
                # The hot path: the same result as the type's processors, without their call chain.
                self.processors.append(_utc_text if dialect.name == "sqlite" else _utc)
            else:
                self.processors.append(column.type._cached_bind_processor(dialect))
            if column.name in ("created_at", "updated_at"):
                self.fillers[column.name] = _const(clock)
                continue
            default = column.default
            if default is None:
                self.fillers[column.name] = _none
            elif getattr(default, "is_scalar", False):
                self.fillers[column.name] = _const(default.arg)  # type: ignore[attr-defined]
            elif getattr(default, "is_callable", False):
                self.fillers[column.name] = _call(default.arg)  # type: ignore[attr-defined]
            else:
                self.fillers[column.name] = _none
        self.spec = [(n, p, self.fillers[n]) for n, p in zip(self.columns, self.processors, strict=True)]
        self.placeholders = ", ".join("?" for _ in self.columns)
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        self.sqlite_insert = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({self.placeholders})'

    def record(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        get = row.get
        out: list[Any] = []
        append = out.append
        for name, proc, filler in self.spec:
            value = get(name, _MISSING)
            if value is _MISSING:
                value = filler()
            if proc is not None and value is not None:
                value = proc(value)
            append(value)
        return tuple(out)


def _none() -> None:
    return None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _utc_text(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, in UTC."""
    v = _utc(value)
    day = f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    return f"{day} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"


def _const(value: Any) -> _Filler:
    return lambda: value


def _call(fn: Callable[[Any], Any]) -> _Filler:
    # SQLAlchemy wraps zero-argument defaults to take the execution context; none is needed here.
    return lambda: fn(None)


class BulkWriter:
    """Buffers rows per table and writes them with executemany (SQLite) or COPY (PostgreSQL)."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: datetime,
        flush_rows: int = 150_000,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.flush_rows = flush_rows
        self.progress = progress
        self._buffers: dict[str, list[tuple[Any, ...]]] = {}
        self._buffered = 0
        self._plans: dict[str, _TablePlan] = {}
        self._order = [t.name for t in Base.metadata.sorted_tables]
        self.counts: dict[str, int] = {}
        self._dialect: Dialect | None = None
        self._last_report = time.monotonic()

    @property
    def dialect(self) -> Dialect:
        if self._dialect is None:
            bind = self.session.get_bind()
            self._dialect = bind.dialect
        return self._dialect

    @property
    def is_postgresql(self) -> bool:
        return self.dialect.name == "postgresql"

    def _plan(self, table: str) -> _TablePlan:
        plan = self._plans.get(table)
        if plan is None:
            plan = _TablePlan(Base.metadata.tables[table], self.dialect, self.clock)
            self._plans[table] = plan
        return plan

    def add(self, table: str, row: Mapping[str, Any]) -> None:
        self._buffers.setdefault(table, []).append(self._plan(table).record(row))
        self._buffered += 1

    def add_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        plan = self._plan(table)
        buffer = self._buffers.setdefault(table, [])
        before = len(buffer)
        buffer.extend(plan.record(r) for r in rows)
        self._buffered += len(buffer) - before

    async def maybe_flush(self) -> None:
        if self._buffered >= self.flush_rows:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffered:
            return
        conn = await self.session.connection()
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for name in self._order:
            rows = self._buffers.pop(name, None)
            if not rows:
                continue
            plan = self._plans[name]
            try:
                if self.is_postgresql:
                    await driver.copy_records_to_table(name, records=rows, columns=plan.columns)
                else:
                    for start in range(0, len(rows), _SQLITE_BATCH):
                        await driver.executemany(plan.sqlite_insert, rows[start : start + _SQLITE_BATCH])
            except Exception as exc:
                raise RuntimeError(f"seed: writing {len(rows)} rows to {name} failed: {exc}") from exc
            self.counts[name] = self.counts.get(name, 0) + len(rows)
        self._buffered = 0
        if self.progress is not None and time.monotonic() - self._last_report > 5:
            self._last_report = time.monotonic()
            self.progress(f"  … {sum(self.counts.values()):,} rows written")

    async def update(self, table: str, rows: list[dict[str, Any]]) -> None:
        """UPDATE rows by id (each dict holds `id` and the columns to set); flushes buffers first."""
        if not rows:
            return
        await self.flush()
        tbl = Base.metadata.tables[table]
        by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in rows:
            by_shape.setdefault(tuple(sorted(k for k in r if k != "id")), []).append(r)
        for shape, group in by_shape.items():
            stmt = (
                update(tbl)
                .where(tbl.c.id == _bindparam("b_id"))
                .values({c: _bindparam(f"b_{c}") for c in shape})
            )
            params = [{f"b_{k}": v for k, v in r.items()} for r in group]
            await self.session.execute(stmt, params)


def _bindparam(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


async def reset_sequences(session: AsyncSession) -> None:
    """PostgreSQL: move every id sequence past the highest id (rows were written with explicit ids)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None:
            continue
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false) '
                f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL"
            )
        )


async def analyze(engine: AsyncEngine) -> None:
    """PostgreSQL: refresh the planner statistics after a bulk load. Without it the planner still
    believes the tables are small and chooses sequential scans (the salesperson dashboard took
    200 ms instead of 10 ms on the large profile until the tables were analysed)."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))


async def delete_business_data(engine: AsyncEngine) -> None:
    """Delete every row except the reference rows of the data migrations (REFERENCE_TABLES).

    PostgreSQL: one TRUNCATE. SQLite: plain DELETEs with foreign keys off for the connection
    (checking them costs a scan of every referencing table per deleted row), in one transaction.
    """
    tables = [t for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            async with conn.begin():
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
            return
        # The pragma only takes effect outside a transaction, so it goes straight to the driver.
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute("PRAGMA foreign_keys = OFF")
        try:
            async with conn.begin():
                for table in reversed(tables):
                    await conn.execute(table.delete())
        finally:
            await driver.execute("PRAGMA foreign_keys = ON")
