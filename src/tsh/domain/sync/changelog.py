"""Writes the delta-sync change log in the same transaction as the change itself.

`install_change_log()` hooks every ORM `Session` (AsyncSession included: it runs a `Session`
underneath). For each flushed insert, update or delete of a row whose table is in `TRACKED`, one
`change_log` row is written, so a rolled-back transaction leaves no trace and a committed one is
always visible to sync clients. Tracked classes are recognised by `__tablename__`: this module imports
no other context.

Two hooks are needed, not one: the version bump must happen in `before_flush` (so the UPDATE carries
it), but inserted rows only have their primary key after the INSERT, so the log rows are written in
`after_flush`, through a Core INSERT on the flush's own connection.

Rows with a `version` attribute get it bumped on every ORM update (unless the caller already set it);
the log row carries the version after the change (a delete is logged as last version + 1). Tables
without one log version 1.

Core bulk statements (`session.execute(update(...))`, `insert(...).values([...])`) bypass ORM
events: call `record_bulk_changes()` for them, and bump `version = version + 1` in the statement.

Reading the feed: ids are allocated when a transaction flushes, not when it commits, so a cursor
reader can see id 11 committed before a slower transaction commits id 10. Readers must not advance a
client's cursor past rows that may still be in flight (e.g. serve only rows older than a few seconds,
or re-read a small overlap window); clients apply changes idempotently by (entity, entity_id, version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from tsh.domain.sync.models import OPS, ChangeLog
from tsh.platform.db.base import utcnow

# Table name -> entity name in the feed.
TRACKED: dict[str, str] = {
    "products": "product",
    "price_list_items": "price_list_item",
    "customers": "customer",
    "stock_levels": "stock_level",
    "orders": "order",
    "invoices": "invoice",
}

_VERSION = "version"


def install_change_log() -> None:
    """Hook the change log into every ORM session; calling it again changes nothing."""
    if not event.contains(Session, "before_flush", _bump_versions):
        event.listen(Session, "before_flush", _bump_versions)
    if not event.contains(Session, "after_flush", _write_change_log):
        event.listen(Session, "after_flush", _write_change_log)


def uninstall_change_log() -> None:
    """Remove the hooks (tests that must leave the process as they found it)."""
    if event.contains(Session, "before_flush", _bump_versions):
        event.remove(Session, "before_flush", _bump_versions)
    if event.contains(Session, "after_flush", _write_change_log):
        event.remove(Session, "after_flush", _write_change_log)


def change_log_installed() -> bool:
    return event.contains(Session, "after_flush", _write_change_log)


def record_bulk_changes(
    session: Session | AsyncSession,
    entity: str,
    ids: Iterable[int],
    op: str,
    *,
    versions: Mapping[int, int] | None = None,
) -> list[ChangeLog]:
    """Log changes made by Core bulk statements; the rows are written with the session's next flush.

    `versions` maps id -> the row's version after the statement (use RETURNING id, version);
    ids without one are logged with version 1.
    """
    if entity not in TRACKED.values():
        raise ValueError(f"entity {entity!r} is not tracked for sync")
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, not {op!r}")
    known = versions or {}
    now = utcnow()
    rows = [
        ChangeLog(entity=entity, entity_id=entity_id, op=op, version=known.get(entity_id, 1), at=now)
        for entity_id in dict.fromkeys(ids)
    ]
    session.add_all(rows)
    return rows


def _entity_of(obj: object) -> str | None:
    table = getattr(type(obj), "__tablename__", None)
    return TRACKED.get(table) if isinstance(table, str) else None


def _has_version(obj: object) -> bool:
    return _VERSION in inspect(obj).mapper.column_attrs


def _changed(session: Session, obj: object) -> bool:
    # session.dirty also holds objects whose attributes were set to the value they already had.
    return session.is_modified(obj, include_collections=False)


def _bump_versions(session: Session, _flush_context: UOWTransaction, _instances: object) -> None:
    for obj in session.dirty:
        if _entity_of(obj) is None or not _has_version(obj) or not _changed(session, obj):
            continue
        state = inspect(obj)
        if state.attrs[_VERSION].history.has_changes():
            continue  # the caller set the version itself (optimistic concurrency)
        current = getattr(obj, _VERSION)
        setattr(obj, _VERSION, (current or 0) + 1)


def _logged_version(obj: object, op: str) -> int:
    if not _has_version(obj):
        return 1
    # Read from the instance dict: never trigger a load from inside the flush.
    value = inspect(obj).dict.get(_VERSION)
    if not isinstance(value, int):
        return 1
    return value + 1 if op == "delete" else value


def _primary_key(obj: object) -> Any:
    state = inspect(obj)
    if state.key is not None:
        return state.key[1][0]
    # Just inserted: the identity key is set after after_flush, but the key value is already loaded.
    return state.mapper.primary_key_from_instance(obj)[0]


def _write_change_log(session: Session, _flush_context: UOWTransaction) -> None:
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for op, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            entity = _entity_of(obj)
            if entity is None or (op == "update" and not _changed(session, obj)):
                continue
            rows.append(
                {
                    "entity": entity,
                    "entity_id": _primary_key(obj),
                    "op": op,
                    "version": _logged_version(obj, op),
                    "at": now,
                }
            )
    if rows:
        session.connection(bind_arguments={"mapper": ChangeLog}).execute(insert(ChangeLog), rows)
