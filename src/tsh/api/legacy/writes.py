"""Generic plain master-data writes: create (POST), update (PATCH), delete (DELETE).

One transaction per write (tsh.platform.db.uow): the row is loaded inside the caller's write
scope (404 outside), the validated body applied, the resource hook run, the row flushed and
checked to still be inside the scope, the declared events raised with the owners of the row
before and after, and an audit row added. Events are published after commit, before the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.bodies import body_model, writable_columns
from tsh.api.legacy.resource import Resource, load_scoped, render
from tsh.api.legacy.serialize import Record, to_dict
from tsh.domain.events import raise_event
from tsh.domain.identity.audit import record_audit
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.errors import AppError, Conflict, Forbidden, Invalid, NotFound, field_error

# Columns that name the owners whose cached screens show a row (tsh.domain.events markers).
_OWNER_COLUMNS = {
    "users": ("user_id", "salesperson_id", "collected_by_id"),
    "branches": ("branch_id",),
    "customers": ("customer_id",),
    "partners": ("partner_id",),
}
# A row of these tables is itself an owner.
_SELF_OWNER = {"users": "users", "branches": "branches", "customers": "customers", "partners": "partners"}


def write_scope(res: Resource, principal: Principal) -> Scope:
    if principal.is_admin:
        return "all"
    scope = res.write_roles.get(principal.role)
    if scope is None:
        raise Forbidden()
    return scope


def parse_body(res: Resource, principal: Principal, raw: bytes, mode: str) -> dict[str, Any]:
    from tsh.platform.http.validation import parse_json_body

    fields = res.writable if res.writable is not None else writable_columns(res.model)
    if mode == "create" and res.creatable is not None:
        fields = res.creatable
    model: type[BaseModel] = body_model(res.model, tuple(fields), mode, res.choices)  # type: ignore[arg-type]
    data = parse_json_body(model, raw).model_dump(exclude_unset=True)
    allowed = res.field_limits.get(principal.role)
    if allowed is not None:
        refused = sorted(set(data) - allowed)
        if refused:
            raise Forbidden(
                "Your role may change only some fields of this record",
                code="FIELD_NOT_ALLOWED",
                details=[field_error(name, "not allowed for your role") for name in refused],
            )
    if mode == "update" and not data:
        raise Invalid(details=[field_error("body", "no field to change")])
    return data


def constraint_error(exc: IntegrityError) -> AppError:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return Conflict("A record with these values already exists", code="DUPLICATE")
    if "foreign key" in text:
        return Invalid("A referenced record does not exist", code="REFERENCE_NOT_FOUND")
    return Invalid("The values break a rule of this record", code="CONSTRAINT_VIOLATION")


async def flush_checked(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise constraint_error(exc) from None


async def still_in_scope(
    session: AsyncSession, res: Resource, principal: Principal, scope: Scope, id_: int
) -> None:
    clause = res.access.clause(principal, scope)
    if clause is None:
        return
    if await session.scalar(select(res.model.id).where(res.model.id == id_, clause)) is None:
        raise NotFound()  # the write would move the row out of the caller's scope


def _owners(res: Resource, records: Iterable[Record]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {kind: set() for kind in _OWNER_COLUMNS}
    own_kind = _SELF_OWNER.get(res.entity)
    for record in records:
        for kind, columns in _OWNER_COLUMNS.items():
            out[kind].update(record[c] for c in columns if record.get(c) is not None)
        if own_kind is not None:
            out[own_kind].add(record["id"])
    return out


def emit_events(
    session: AsyncSession, res: Resource, before: Record, after: Record, changed: set[str]
) -> None:
    owners = _owners(res, [r for r in (before, after) if r])
    everyone = not any(owners.values())
    for name in res.events:
        only = res.event_fields.get(name)
        if only is not None and not (only & changed):
            continue
        raise_event(
            session,
            name,
            everyone=everyone,
            entity=res.entity,
            id=after.get("id") or before.get("id"),
            **owners,
        )


def audit(
    session: AsyncSession,
    res: Resource,
    principal: Principal,
    action: str,
    id_: int,
    before: Record | None,
    after: Record | None,
    ip: str,
    request_id: str,
) -> None:
    record_audit(
        session,
        actor_id=principal.user_id,
        app=principal.app,
        action=f"api.{res.path}.{action}",
        entity_type=res.entity,
        entity_id=id_,
        before=before,
        after=after,
        ip=ip,
        request_id=request_id,
    )


async def create(
    session: AsyncSession, res: Resource, principal: Principal, raw: bytes, *, ip: str, request_id: str
) -> Record:
    scope = write_scope(res, principal)
    data = parse_body(res, principal, raw, "create")
    await res.access.check_owner_write(session, principal, scope, data)
    row = res.model(**data)
    session.add(row)
    if res.hook is not None:
        await res.hook(session, principal, row, data, {})
    await flush_checked(session)
    await session.refresh(row)
    await still_in_scope(session, res, principal, scope, row.id)
    after = to_dict(row)
    emit_events(session, res, {}, after, set(data))
    audit(session, res, principal, "create", row.id, None, after, ip, request_id)
    return await render(session, res, row)


async def update(
    session: AsyncSession,
    res: Resource,
    principal: Principal,
    id_: int,
    raw: bytes,
    *,
    ip: str,
    request_id: str,
) -> Record:
    scope = write_scope(res, principal)
    data = parse_body(res, principal, raw, "update")
    row = await load_scoped(session, res, principal, id_, scope, lock=True)
    await res.access.check_owner_write(session, principal, scope, data)
    before = to_dict(row)
    for name, value in data.items():
        setattr(row, name, value)
    if res.hook is not None:
        await res.hook(session, principal, row, data, before)
    await flush_checked(session)
    await session.refresh(row)
    await still_in_scope(session, res, principal, scope, id_)
    after = to_dict(row)
    changed = {k for k in after if after[k] != before.get(k)}
    if changed - {"updated_at", "version"}:
        emit_events(session, res, before, after, changed)
    audit(session, res, principal, "update", id_, before, after, ip, request_id)
    return await render(session, res, row)


async def delete(
    session: AsyncSession, res: Resource, principal: Principal, id_: int, *, ip: str, request_id: str
) -> Record:
    scope = write_scope(res, principal)
    row = await load_scoped(session, res, principal, id_, scope, lock=True)
    before = await render(session, res, row)
    await session.delete(row)
    await flush_checked(session)
    emit_events(session, res, to_dict(row), {}, set(before))
    audit(session, res, principal, "delete", id_, to_dict(row), None, ip, request_id)
    return before
