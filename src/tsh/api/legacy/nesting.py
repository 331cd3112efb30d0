"""Declarative eager loading of related rows as full nested records.

A `Nest` names one relation of a record: the column of the record (`local`) matched against a
column of the related model (`remote`), optionally through a link table (many-to-many). `expand`
loads every nest of a whole page with one `IN` query per relation and level (the select-in
strategy), so a page of 100 orders with customers, addresses, lines and products costs a fixed
handful of queries, never one per row. Works whether or not the models declare relationships.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.serialize import Record, to_dict

CHUNK = 900  # stays below every back end's bound-parameter limit
Link = Callable[[Sequence[Any]], "Select[Any, Any]"]  # rows of (record key, related id)


@dataclass(frozen=True)
class Nest:
    key: str
    model: type[Any]
    local: str
    remote: str
    many: bool
    nest: tuple[Nest, ...] = ()
    # Many-to-many: a query of (record key, related id) pairs for the given record keys.
    link: Link | None = None
    order_by: str = "id"


def one(key: str, model: type[Any], fk: str, *nest: Nest) -> Nest:
    """The row this record's `fk` points to (`customer_id` → customer), or null."""
    return Nest(key, model, local=fk, remote="id", many=False, nest=nest)


def many(key: str, model: type[Any], ref: str, *nest: Nest, order_by: str = "id") -> Nest:
    """The rows whose `ref` points to this record (order → lines)."""
    return Nest(key, model, local="id", remote=ref, many=True, nest=nest, order_by=order_by)


def back(key: str, model: type[Any], ref: str, *nest: Nest) -> Nest:
    """The single row whose `ref` points to this record (order → invoice), or null."""
    return Nest(key, model, local="id", remote=ref, many=False, nest=nest)


def via(key: str, model: type[Any], link: Link, *nest: Nest) -> Nest:
    """Rows reached through a link query of (record id, related id) pairs (role → permissions)."""
    return Nest(key, model, local="id", remote="id", many=True, nest=nest, link=link)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


async def _pairs(session: AsyncSession, spec: Nest, keys: list[Any]) -> list[tuple[Any, Any]]:
    """(record key, related row) pairs for the given record keys."""
    out: list[tuple[Any, Any]] = []
    model = spec.model
    for part in _chunks(keys):
        if spec.link is None:
            column = getattr(model, spec.remote)
            stmt = select(model).where(column.in_(part)).order_by(getattr(model, spec.order_by))
            out.extend((getattr(row, spec.remote), row) for row in (await session.scalars(stmt)).all())
        else:
            links = (await session.execute(spec.link(part))).all()
            ids = sorted({related for _, related in links})
            rows: dict[Any, Any] = {}
            for ids_part in _chunks(ids):
                stmt = select(model).where(model.id.in_(ids_part))
                rows.update((row.id, row) for row in (await session.scalars(stmt)).all())
            found = [(k, rows[related]) for k, related in dict.fromkeys(links) if related in rows]
            out.extend(sorted(found, key=lambda pair: getattr(pair[1], spec.order_by)))
    return out


async def expand(session: AsyncSession, records: list[Record], nests: Sequence[Nest]) -> list[Record]:
    """Attach every nest to `records` in place (and return them)."""
    for spec in nests:
        keys = sorted({r[spec.local] for r in records if r.get(spec.local) is not None})
        pairs = await _pairs(session, spec, keys) if keys else []
        children = [to_dict(row) for _, row in pairs]
        await expand(session, children, spec.nest)
        grouped: dict[Any, list[Record]] = defaultdict(list)
        for (key, _), child in zip(pairs, children, strict=True):
            grouped[key].append(child)
        for record in records:
            found = grouped.get(record.get(spec.local), [])
            record[spec.key] = found if spec.many else (found[0] if found else None)
    return records


@dataclass(frozen=True)
class Expansion:
    """The nests of one resource plus optional computed additions (run after the nests)."""

    nests: tuple[Nest, ...] = ()
    computed: tuple[Any, ...] = field(default=())

    async def apply(self, session: AsyncSession, records: list[Record]) -> list[Record]:
        await expand(session, records, self.nests)
        for add in self.computed:
            await add(session, records)
        return records
