"""SEC-14 audit trail, SEC-15 one audit entry, SEC-16 access denials."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.security import OFFICERS, app
from tsh.bff.apps.security.views import Person
from tsh.bff.call import Call
from tsh.bff.schemas import DateTimeIn, Id, Page, decode_cursor, encode_cursor
from tsh.bff.schemas import page as keyset_page
from tsh.bff.views import Page as PageOf
from tsh.bff.views import RowId, Timestamp, View
from tsh.domain.identity.listing import position
from tsh.domain.identity.oversight import access_denials, audit_entry, audit_trail
from tsh.platform.errors import Invalid, field_error


class TrailQuery(Page):
    actor_id: Id | None = None
    action: str | None = Field(default=None, max_length=64)
    entity_type: str | None = Field(default=None, max_length=64)
    entity_id: Id | None = None
    decision: Literal["allowed", "denied"] | None = None
    ip: str | None = Field(default=None, max_length=64)
    date_from: DateTimeIn | None = Field(default=None, alias="from")
    date_to: DateTimeIn | None = Field(default=None, alias="to")


class AuditRow(View):
    id: RowId
    at: Timestamp
    actor: Person | None
    app: str | None
    action: str
    entity_type: str | None
    entity_id: int | None
    decision: Literal["allowed", "denied"]
    reason: str | None
    ip: str | None
    request_id: str | None


@app.screen("SEC-14", "/audit-logs", roles=OFFICERS, scope="all", cache="none", response=PageOf[AuditRow])
async def trail(call: Call, *, query: TrailQuery) -> dict[str, Any]:
    """The full audit trail, newest first: every action and every denial (role or scope)."""
    rows = await audit_trail(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        actor_id=query.actor_id,
        action=query.action,
        entity_type=query.entity_type,
        entity_id=query.entity_id,
        decision=query.decision,
        ip=query.ip,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return keyset_page(rows, query.limit, lambda r: position(r["at"], r["id"]))


class AuditEntry(AuditRow):
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@app.screen("SEC-15", "/audit-logs/{id}", roles=OFFICERS, scope="all", cache="reference", response=AuditEntry)
async def entry(call: Call, *, id: int) -> dict[str, Any]:
    """One audit entry with its before/after values and request metadata (entries never change)."""
    return await audit_entry(call.session, call.actor, entry_id=id)


class DenialsQuery(Page):
    date_from: DateTimeIn = Field(alias="from")
    date_to: DateTimeIn = Field(alias="to")
    user_id: Id | None = None
    app: str | None = Field(default=None, max_length=16)


class DenialGroup(View):
    user: Person | None
    app: str | None
    endpoint: str
    reason: str | None
    count: int
    last_at: Timestamp


class Offender(View):
    user: Person | None
    count: int


class Denials(PageOf[DenialGroup]):
    total: int
    top_offenders: list[Offender]


def _offset(cursor: str | None) -> int:
    position = decode_cursor(cursor)
    if position is None:
        return 0
    offset = position.get("o")
    if not isinstance(offset, int) or offset < 0:
        raise Invalid("The cursor is not valid", details=[field_error("cursor", "does not match this list")])
    return offset


@app.screen(
    "SEC-16",
    "/access-denials",
    roles=OFFICERS,
    scope="all",
    cache="none",
    errors=("RANGE_TOO_LONG",),
    response=Denials,
)
async def denials(call: Call, *, query: DenialsQuery) -> dict[str, Any]:
    """Denied requests in a window grouped by user, endpoint and reason, with the top offenders."""
    offset = _offset(query.cursor)
    found = await access_denials(
        call.session,
        call.actor,
        date_from=query.date_from,
        date_to=query.date_to,
        user_id=query.user_id,
        app=query.app,
        offset=offset,
        limit=query.limit,
    )
    items = found["items"]
    # Groups are ranked by count, so the cursor is a position in that ranking (signed, opaque).
    more = len(items) > query.limit
    return {
        "items": items[: query.limit],
        "next_cursor": encode_cursor({"o": offset + query.limit}) if more else None,
        "total": found["total"],
        "top_offenders": found["top_offenders"],
    }
