"""The declaration of one legacy resource and the generic reads every declaration gets.

A resource is data, not code: path, model, scope rule (`Access`), list filters, nesting, order,
and for writable ones the write roles, writable fields, events and optional hooks, or the
`Command` that runs a domain service for a business write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.access import Access
from tsh.api.legacy.nesting import Expansion
from tsh.api.legacy.serialize import Record, to_dict
from tsh.domain.events import EventName
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.errors import NotFound

Op = Literal["list", "get", "create", "update", "delete"]
# Runs inside the write transaction after the body is applied and before the scope re-check:
# (session, principal, row, changed fields, old values) → may raise or set more columns.
WriteHook = Callable[[AsyncSession, Principal, Any, dict[str, Any], Record], Awaitable[None]]
# A service-backed write: (session, principal, row loaded in the write scope or None on create,
# validated body or None) → the row to answer with. It calls the domain service, which raises the
# events; it never commits.
CommandRun = Callable[[AsyncSession, Principal, Any, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    """A business command behind a legacy write (order status, payment, receipt, revocation…)."""

    run: CommandRun
    body: type[BaseModel] | None = None


@dataclass(frozen=True)
class Resource:
    path: str
    model: type[Any]
    access: Access
    ops: frozenset[Op] = frozenset({"list", "get"})
    # Query parameter → column (equality filter); the owner filter is checked against the scope.
    filters: Mapping[str, str] = field(default_factory=dict)
    expansion: Expansion = field(default_factory=Expansion)
    # (column, descending) pairs; the id breaks ties.
    order: tuple[tuple[str, bool], ...] = (("id", False),)
    # Writes: role → scope the row must stay within (admin always "all").
    write_roles: Mapping[str, Scope] = field(default_factory=dict)
    writable: tuple[str, ...] | None = None  # None = every non-system column
    creatable: tuple[str, ...] | None = None  # None = same as writable
    # role → the only fields that role may change (others get 403 FIELD_NOT_ALLOWED).
    field_limits: Mapping[str, frozenset[str]] = field(default_factory=dict)
    choices: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    events: tuple[EventName, ...] = ()
    # Event → fields: emitted only when one of them changed (e.g. CreditChanged for credit fields).
    event_fields: Mapping[EventName, frozenset[str]] = field(default_factory=dict)
    hook: WriteHook | None = None
    # Ops answered by a domain service instead of the generic column write (see `commands`).
    commands: Mapping[Op, Command] = field(default_factory=dict)
    idempotency: Literal["required", "optional"] = "optional"
    # A list that hands out customer or order rows: counted for the mass_export detector, as the
    # BFF list screens declared `exports=` are (clarifications: threat detectors).
    exports: Literal["customers", "orders"] | None = None

    @property
    def entity(self) -> str:
        return str(self.model.__tablename__)

    def order_by(self) -> list[Any]:
        cols = [getattr(self.model, c).desc() if desc else getattr(self.model, c) for c, desc in self.order]
        last_desc = self.order[0][1] if self.order else False
        cols.append(self.model.id.desc() if last_desc else self.model.id)
        return cols


async def list_records(
    session: AsyncSession,
    res: Resource,
    principal: Principal,
    params: Mapping[str, Any],
    *,
    skip: int,
    limit: int,
) -> tuple[list[Record], int]:
    scope = res.access.scope_for(principal)
    where: list[ColumnElement[bool]] = []
    scoped = res.access.clause(principal, scope)
    if scoped is not None:
        where.append(scoped)
    for name, value in params.items():
        if value is None:
            continue
        column = res.filters[name]
        if column == res.access.owner:
            await res.access.check_owner(session, principal, scope, value)
        where.append(getattr(res.model, column) == value)
    total = await session.scalar(select(func.count()).select_from(res.model).where(*where))
    stmt = select(res.model).where(*where).order_by(*res.order_by()).offset(skip).limit(limit)
    records = [to_dict(row) for row in (await session.scalars(stmt)).all()]
    await res.expansion.apply(session, records)
    return records, int(total or 0)


async def load_scoped(
    session: AsyncSession, res: Resource, principal: Principal, id_: int, scope: Scope, *, lock: bool = False
) -> Any:
    """The row if it exists inside `scope`, else 404 (no existence oracle)."""
    stmt = select(res.model).where(res.model.id == id_)
    scoped = res.access.clause(principal, scope)
    if scoped is not None:
        stmt = stmt.where(scoped)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.scalars(stmt)).one_or_none()
    if row is None:
        raise NotFound()
    return row


async def get_record(session: AsyncSession, res: Resource, principal: Principal, id_: int) -> Record:
    row = await load_scoped(session, res, principal, id_, res.access.scope_for(principal))
    return await render(session, res, row)


async def render(session: AsyncSession, res: Resource, row: Any) -> Record:
    records = [to_dict(row)]
    await res.expansion.apply(session, records)
    return records[0]
